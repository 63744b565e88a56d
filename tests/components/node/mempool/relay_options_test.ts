/**
 * The mempool's options on the real node process: `-minrelaytxfee`,
 * `-datacarriersize`, `-limitancestorcount` and `-acceptnonstdtxn` change
 * what `sendrawtransaction` and `testmempoolaccept` take, with Core's
 * reject reasons, and show in `getmempoolinfo` and `getnetworkinfo`;
 * `-maxmempool` below Core's floor refuses to start.
 *
 * @module
 */
import { hex } from "@scure/base";
import { assertEquals } from "../../../assert.ts";
import { tempDir } from "../../../helpers.ts";
import { encodeTx, hashFromHex, scriptToAddress } from "../../../../components/node/chain/mod.ts";
import { signTx, TestKey, type Utxo } from "../chain/chain_helpers.ts";
import { dataGrants, runOnce } from "../node_process.ts";
import { coinbaseUtxo, NODE_MAIN, type RealNode, rejects, startRealNode } from "../real_node.ts";

const key = new TestKey(51);
const ADDRESS = scriptToAddress(key.wpkh)!;

/** A spend of `utxo` back to the test key less `fee`, then `extra` outputs: hex, and its first output as a coin. */
function spendHex(
  utxo: Utxo,
  fee: bigint,
  extra: { script: Uint8Array; amount: bigint }[] = [],
): { hex: string; coin: (txid: string) => Utxo } {
  const amount = utxo.amount - fee;
  const tx = signTx([utxo], [{ script: key.wpkh, amount }, ...extra], { anyOutputs: true });
  return {
    hex: hex.encode(encodeTx(tx)),
    coin: (txid) => ({
      outpoint: { txid: hashFromHex(txid), index: 0 },
      amount,
      script: key.wpkh,
      key,
    }),
  };
}

/** An OP_RETURN output pushing `size` bytes (a script of `size` + 2 bytes). */
function opReturn(size: number): { script: Uint8Array; amount: bigint } {
  return { script: Uint8Array.of(0x6a, size, ...new Uint8Array(size)), amount: 0n };
}

/** Mature coinbase coins of `key` on `node`. */
async function coins(node: RealNode, count: number): Promise<Utxo[]> {
  const blocks: string[] = await node.call("generatetoaddress", [100 + count, ADDRESS]);
  return Promise.all(blocks.slice(0, count).map((hash) => coinbaseUtxo(node.call, hash, key)));
}

/** `testmempoolaccept`'s reject reason for `txHex` ("" when allowed). */
async function rejectReason(node: RealNode, txHex: string): Promise<string> {
  const [entry] = await node.call("testmempoolaccept", [[txHex]]);
  return entry.allowed ? "" : entry["reject-reason"];
}

Deno.test("relay options: -minrelaytxfee, -datacarriersize and -limitancestorcount on the real node", async () => {
  await using node = await startRealNode({
    args: ["-minrelaytxfee=0.0001", "-datacarriersize=10", "-limitancestorcount=2"],
  });
  const info = await node.call("getmempoolinfo");
  assertEquals(
    [info.minrelaytxfee, info.mempoolminfee, info.maxdatacarriersize, info.maxmempool],
    [0.0001, 0.0001, 10, 300_000_000],
  );
  assertEquals((await node.call("getnetworkinfo")).relayfee, 0.0001);
  const [a, b] = await coins(node, 2);

  // 10 sat/vB is the floor now: 500 sat on a 110-vB spend is short.
  const low = spendHex(a, 500n);
  const { vsize } = await node.call("decoderawtransaction", [low.hex]);
  assertEquals(await rejectReason(node, low.hex), "min relay fee not met");
  await rejects(
    node.call("sendrawtransaction", [low.hex]),
    -26,
    `min relay fee not met, 500 < ${vsize * 10}`,
  );

  // An OP_RETURN script of 11 bytes is over the 10-byte budget; one of 10 is not.
  const big = spendHex(a, 20_000n, [opReturn(9)]);
  assertEquals(await rejectReason(node, big.hex), "datacarrier");
  await rejects(node.call("sendrawtransaction", [big.hex]), -26, "datacarrier");
  const small = spendHex(a, 20_000n, [opReturn(8)]);
  assertEquals(await rejectReason(node, small.hex), "");

  // A chain of two in the mempool is the limit: the third is refused.
  const first = spendHex(b, 20_000n);
  const second = spendHex(first.coin(await node.call("sendrawtransaction", [first.hex])), 20_000n);
  const third = spendHex(second.coin(await node.call("sendrawtransaction", [second.hex])), 20_000n);
  assertEquals(await rejectReason(node, third.hex), "too-long-mempool-chain");
  await rejects(
    node.call("sendrawtransaction", [third.hex]),
    -26,
    "too-long-mempool-chain, too many unconfirmed ancestors [limit: 2]",
  );
});

Deno.test("relay options: -acceptnonstdtxn=1 takes a non-standard output the default refuses", async () => {
  const [standard, lax] = await Promise.all([
    startRealNode(),
    startRealNode({ args: ["-acceptnonstdtxn=1"] }),
  ]);
  await using _standard = standard;
  await using _lax = lax;
  for (const node of [standard, lax]) {
    const [coin] = await coins(node, 1);
    // A bare `OP_TRUE` scriptPubKey is no standard output type.
    const tx = spendHex(coin, 20_000n, [{ script: Uint8Array.of(0x51), amount: 1000n }]);
    if (node === standard) {
      await rejects(node.call("sendrawtransaction", [tx.hex]), -26, "scriptpubkey");
    } else {
      const txid = await node.call("sendrawtransaction", [tx.hex]);
      assertEquals(await node.call("getrawmempool"), [txid]);
    }
  }
});

Deno.test("relay options: -maxmempool below the descendant size floor refuses to start", async () => {
  using temp = tempDir("relay_opts_");
  const outcome = await runOnce(
    ["-regtest", `-datadir=${temp.path}`, "-server=0", "-maxmempool=1"],
    dataGrants(temp.path),
    { module: NODE_MAIN },
  );
  // Made when the mempool is (after the log opened, as Core's): the log says it too.
  assertEquals([outcome.code, outcome.stderr], [1, "Error: -maxmempool must be at least 5 MB\n"]);
  const log = Deno.readTextFileSync(`${temp.path}/regtest/debug.log`);
  assertEquals(log.includes("-maxmempool must be at least 5 MB"), true, log);
});
