/**
 * `submitpackage` against a real node process over HTTP, with real signed
 * transactions spending mined coinbase outputs: a TRUC parent paying no
 * fee carried in by its child (CPFP), Core's result shape and key order,
 * what the mempool then holds; a plain parent held to the relay fee; and
 * the errors Core gives before and instead of validation (array size,
 * decoding, `maxburnamount`, topology for an unsorted package) and the
 * package-wide messages with no per-transaction results (duplicates, too
 * large).
 *
 * @module
 */
import { hex } from "@scure/base";
import { assertEquals } from "../../../assert.ts";
import { rejects, startRealNode } from "../real_node.ts";
import { signTx, TestKey, type Utxo, utxosOf } from "../chain/chain_helpers.ts";
import {
  COIN,
  encodeTx,
  hashFromHex,
  hashToHex,
  scriptToAddress,
  type Tx,
  txid,
  wtxid,
} from "../../../../components/node/chain/mod.ts";

const key = new TestKey(21);
const ADDRESS = scriptToAddress(key.wpkh)!;

const hexOf = (tx: Tx) => hex.encode(encodeTx(tx));
const idOf = (tx: Tx) => hashToHex(txid(tx));
const widOf = (tx: Tx) => hashToHex(wtxid(tx));

/** One output of `input`'s value less `fee`, to `key`. */
function spend(input: Utxo, fee: bigint, version = 2): Tx {
  return signTx([input], [{ script: key.wpkh, amount: input.amount - fee }], { version });
}

Deno.test("submitpackage on a real node: CPFP, Core's shapes and errors", async (t) => {
  await using node = await startRealNode();
  const call = node.call;
  const blocks: string[] = await call("generatetoaddress", [110, ADDRESS]);
  const coin = async (height: number): Promise<Utxo> => ({
    outpoint: { txid: hashFromHex((await call("getblock", [blocks[height - 1]])).tx[0]), index: 0 },
    amount: 50n * COIN,
    script: key.wpkh,
    key,
  });

  await t.step("a TRUC parent paying nothing enters with its child paying for both", async () => {
    const parent = spend(await coin(1), 0n, 3);
    const child = spend(utxosOf(parent, key)[0], 2200n, 3);
    const [alone] = await call("testmempoolaccept", [[hexOf(parent)]]);
    assertEquals(alone["reject-details"], "min relay fee not met, 0 < 11");
    const result = await call("submitpackage", [[hexOf(parent), hexOf(child)]]);
    const fees = (base: number) => ({
      base,
      "effective-feerate": 0.0001,
      "effective-includes": [widOf(parent), widOf(child)],
    });
    assertEquals(result, {
      package_msg: "success",
      "tx-results": {
        [widOf(parent)]: { txid: idOf(parent), vsize: 110, fees: fees(0) },
        [widOf(child)]: { txid: idOf(child), vsize: 110, fees: fees(0.000022) },
      },
      "replaced-transactions": [],
    });
    assertEquals(Object.keys(result), ["package_msg", "tx-results", "replaced-transactions"]);
    assertEquals(Object.keys(result["tx-results"][widOf(child)]), ["txid", "vsize", "fees"]);
    assertEquals((await call("getrawmempool")).sort(), [idOf(parent), idOf(child)].sort());
    const entry = await call("getmempoolentry", [idOf(child)]);
    assertEquals([entry.ancestorcount, entry.unbroadcast], [2, false]);
    // Again: both are in the mempool, reported without an effective fee rate.
    const again = await call("submitpackage", [[hexOf(parent), hexOf(child)]]);
    assertEquals(again["tx-results"][widOf(child)], {
      txid: idOf(child),
      vsize: 110,
      fees: { base: 0.000022 },
    });
    assertEquals(again.package_msg, "success");
    const [mined] = await call("generatetoaddress", [1, ADDRESS]);
    assertEquals((await call("getblock", [mined])).tx.length, 3);
  });

  await t.step("a plain parent below the relay fee is refused, and so its child", async () => {
    const parent = spend(await coin(2), 0n);
    const child = spend(utxosOf(parent, key)[0], 100_000n);
    assertEquals(await call("submitpackage", [[hexOf(parent), hexOf(child)]]), {
      package_msg: "transaction failed",
      "tx-results": {
        [widOf(parent)]: { txid: idOf(parent), error: "min relay fee not met, 0 < 11" },
        [widOf(child)]: { txid: idOf(child), error: "bad-txns-inputs-missingorspent" },
      },
      "replaced-transactions": [],
    });
    assertEquals(await call("getrawmempool"), []);
  });

  await t.step("maxfeerate caps each transaction's fee rate; 0 lifts the cap", async () => {
    const rich = spend(await coin(3), COIN / 10n);
    const refused = await call("submitpackage", [[hexOf(rich)]]);
    assertEquals(refused["tx-results"][widOf(rich)].error, "max feerate exceeded");
    const lifted = await call("submitpackage", { package: [hexOf(rich)], maxfeerate: 0 });
    assertEquals(lifted.package_msg, "success");
  });

  await t.step("errors before validation: size, decoding, burns, topology", async () => {
    const parent = spend(await coin(4), 1000n);
    const child = spend(utxosOf(parent, key)[0], 1000n);
    await rejects(
      call("submitpackage", [[]]),
      -8,
      "Array must contain between 1 and 25 transactions.",
    );
    await rejects(
      call("submitpackage", [Array(26).fill(hexOf(parent))]),
      -8,
      "Array must contain between 1 and 25 transactions.",
    );
    await rejects(
      call("submitpackage", [["zz"]]),
      -22,
      "TX decode failed: zz Make sure the tx has at least one input.",
    );
    const burn = signTx([await coin(5)], [
      { script: key.wpkh, amount: 50n * COIN - 3000n },
      { script: Uint8Array.of(0x6a, 0x01, 0x2a), amount: 1000n },
    ]);
    await rejects(
      call("submitpackage", [[hexOf(burn)]]),
      -25,
      "Unspendable output exceeds maximum configured by user (maxburnamount)",
    );
    assertEquals(
      (await call("submitpackage", [[hexOf(burn)], 0, 0.00001])).package_msg,
      "success",
    );
    await rejects(
      call("submitpackage", [[hexOf(child), hexOf(parent)]]),
      -25,
      "package topology disallowed. not child-with-parents or parents depend on each other.",
    );
  });

  await t.step("package-wide errors leave tx-results empty, as v30 does", async () => {
    const parent = spend(await coin(6), 1000n);
    const child = spend(utxosOf(parent, key)[0], 1000n);
    assertEquals(await call("submitpackage", [[hexOf(parent), hexOf(parent), hexOf(child)]]), {
      package_msg: "package-contains-duplicates",
      "tx-results": {},
      "replaced-transactions": [],
    });
    // Two transactions of about 53,000 vB each: over 404,000 weight units together.
    const wide = signTx(
      [await coin(7)],
      Array(1700).fill({ script: key.wpkh, amount: COIN / 100n }),
    );
    const wideChild = signTx(
      [utxosOf(wide, key)[0]],
      Array(1700).fill({ script: key.wpkh, amount: COIN / 1_000_000n }),
    );
    const tooLarge = await call("submitpackage", [[hexOf(wide), hexOf(wideChild)]]);
    assertEquals(tooLarge.package_msg, "package-too-large");
    assertEquals(tooLarge["tx-results"], {});
    const mempool: string[] = await call("getrawmempool");
    assertEquals([parent, wide].filter((tx) => mempool.includes(idOf(tx))), []);
  });
});
