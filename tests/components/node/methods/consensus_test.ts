/**
 * Consensus and policy rejects surfaced through RPC, with transactions
 * really signed in the test (`@scure/btc-signer`) and blocks really mined:
 * `sendrawtransaction` codes and messages, `testmempoolaccept`
 * reject-reason / reject-details, and `submitblock`'s BIP 22 results
 * (reference §10).
 *
 * @module
 */
import { hex } from "@scure/base";
import { assert, assertEquals } from "../../../assert.ts";
import { RpcCallError, startRealNode } from "../real_node.ts";
import { signTx, TestKey, type Utxo } from "../chain/chain_helpers.ts";
import {
  type Block,
  blockHash,
  blockMerkleRoot,
  checkProofOfWork,
  decodeBlock,
  encodeBlock,
  encodeTx,
  hashFromHex,
  POW_LIMIT,
  scriptToAddress,
  solveBlock,
  type Tx,
  txid,
} from "../../../../components/node/chain/mod.ts";

const key = new TestKey(3);
const other = new TestKey(4);
const ADDRESS = scriptToAddress(key.wpkh)!;

async function error(promise: Promise<unknown>): Promise<[number, string]> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof RpcCallError) return [e.code, e.message];
    throw e;
  }
  throw new Error("expected an RPC error");
}

const txHex = (tx: Tx) => hex.encode(encodeTx(tx));

Deno.test("consensus and policy rejects through RPC", async (t) => {
  await using node = await startRealNode();
  const call = node.call;
  const hashes: string[] = await call("generatetoaddress", [110, ADDRESS]);
  /** The coinbase output of the block at `height` (1-based index into `hashes`). */
  const coinbase = async (height: number): Promise<Utxo> => {
    const block = await call("getblock", [hashes[height - 1], 2]);
    return {
      outpoint: { txid: hashFromHex(block.tx[0].txid), index: 0 },
      amount: 50_0000_0000n,
      script: key.wpkh,
      key,
    };
  };
  /** Pays `amount` of `utxo` to `other`; amounts above the input are set after signing. */
  const pay = (utxo: Utxo, amount: bigint) => {
    const tx = signTx([utxo], [{ script: other.wpkh, amount: amount > utxo.amount ? 1n : amount }]);
    tx.outputs[0].amount = amount;
    return tx;
  };
  const tested = async (tx: Tx) => (await call("testmempoolaccept", [[txHex(tx)]]))[0];

  await t.step("missing or spent inputs: -25, missing-inputs without details", async () => {
    const ghost: Utxo = {
      ...(await coinbase(1)),
      outpoint: { txid: new Uint8Array(32).fill(9), index: 0 },
    };
    const tx = pay(ghost, 49_0000_0000n);
    assertEquals(await error(call("sendrawtransaction", [txHex(tx)])), [
      -25,
      "bad-txns-inputs-missingorspent",
    ]);
    const result = await tested(tx);
    assertEquals(Object.keys(result), ["txid", "wtxid", "allowed", "reject-reason"]);
    assertEquals([result.allowed, result["reject-reason"]], [false, "missing-inputs"]);
  });

  await t.step("immature coinbase: -26 with the depth", async () => {
    const tx = pay(await coinbase(110), 49_0000_0000n);
    assertEquals(await error(call("sendrawtransaction", [txHex(tx)])), [
      -26,
      "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 1",
    ]);
    const result = await tested(tx);
    assertEquals(result["reject-reason"], "bad-txns-premature-spend-of-coinbase");
    assertEquals(
      result["reject-details"],
      "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 1",
    );
  });

  await t.step("outputs above inputs: -26 bad-txns-in-belowout", async () => {
    const tx = pay(await coinbase(1), 50_5000_0000n);
    assertEquals(await error(call("sendrawtransaction", [txHex(tx)])), [
      -26,
      "bad-txns-in-belowout, value in (50.00) < value out (50.50)",
    ]);
    assertEquals((await tested(tx))["reject-reason"], "bad-txns-in-belowout");
  });

  await t.step("a flipped signature byte: -26 mempool-script-verify-flag-failed", async () => {
    const tx = pay(await coinbase(2), 49_0000_0000n);
    const sig = tx.witnesses![0][0];
    sig[10] ^= 0x01;
    const [code, message] = await error(call("sendrawtransaction", [txHex(tx)]));
    assertEquals(code, -26);
    assert(message.startsWith("mempool-script-verify-flag-failed ("), message);
    assert(message.includes(", input 0 of "), message);
    const result = await tested(tx);
    assert(result["reject-reason"].startsWith("mempool-script-verify-flag-failed ("));
  });

  await t.step("fee 0: -26 min relay fee not met", async () => {
    const tx = pay(await coinbase(3), 50_0000_0000n);
    assertEquals(await error(call("sendrawtransaction", [txHex(tx)])), [
      -26,
      "min relay fee not met, 0 < 11",
    ]);
    assertEquals((await tested(tx))["reject-reason"], "min relay fee not met");
  });

  await t.step("fee of 1 BTC: -25 above maxfeerate, max-fee-exceeded without details", async () => {
    const tx = pay(await coinbase(4), 49_0000_0000n);
    assertEquals(await error(call("sendrawtransaction", [txHex(tx)])), [
      -25,
      "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
    ]);
    const result = await tested(tx);
    assertEquals(Object.keys(result), ["txid", "wtxid", "allowed", "reject-reason"]);
    assertEquals(result["reject-reason"], "max-fee-exceeded");
    await error(call("sendrawtransaction", [txHex(tx), 1])).then(([code, message]) =>
      assertEquals([code, message], [
        -8,
        "Fee rates larger than or equal to 1BTC/kvB are not accepted",
      ])
    );
    // maxfeerate 0 accepts any fee rate.
    assert((await call("sendrawtransaction", [txHex(tx), 0])).length === 64);
  });

  await t.step("an OP_RETURN burning value: -25 above maxburnamount", async () => {
    const tx = signTx([await coinbase(5)], [
      { script: Uint8Array.of(0x6a, 0x01, 0x2a), amount: 1000n },
      { script: other.wpkh, amount: 49_9999_0000n },
    ]);
    assertEquals(await error(call("sendrawtransaction", [txHex(tx)])), [
      -25,
      "Unspendable output exceeds maximum configured by user (maxburnamount)",
    ]);
  });

  await t.step("already in the mempool, replacement paying less, already confirmed", async () => {
    const utxo = await coinbase(6);
    const first = pay(utxo, 49_9900_0000n);
    const id = await call("sendrawtransaction", [txHex(first)]);
    assertEquals(await call("sendrawtransaction", [txHex(first)]), id);
    const again = await tested(first);
    assertEquals([again["reject-reason"], again["reject-details"]], [
      "txn-already-in-mempool",
      "txn-already-in-mempool",
    ]);
    const cheaper = pay(utxo, 49_9950_0000n);
    const [code, message] = await error(call("sendrawtransaction", [txHex(cheaper)]));
    assertEquals(code, -26);
    const cheaperId = hex.encode(txid(cheaper).slice().reverse());
    assert(
      message.startsWith(`insufficient fee, rejecting replacement ${cheaperId}; new feerate `),
      message,
    );
    assertEquals((await tested(cheaper))["reject-reason"], "insufficient fee");
    await call("generatetoaddress", [1, ADDRESS]);
    assertEquals(await error(call("sendrawtransaction", [txHex(first)])), [
      -27,
      "Transaction outputs already in utxo set",
    ]);
    assertEquals((await tested(first))["reject-reason"], "txn-already-known");
  });

  await t.step("generateblock with an invalid transaction: -25 TestBlockValidity", async () => {
    const tx = pay(await coinbase(7), 50_5000_0000n);
    const [code, message] = await error(call("generateblock", [ADDRESS, [txHex(tx)]]));
    assertEquals(code, -25);
    assert(message.startsWith("TestBlockValidity failed: bad-txns-in-belowout"), message);
  });

  /** A block made by the node but not submitted, decoded for tampering. */
  const template = async (txs: Tx[] = []): Promise<Block> => {
    const { hex: blockHex } = await call("generateblock", [ADDRESS, txs.map(txHex), false]);
    return decodeBlock(hex.decode(blockHex));
  };
  const submit = (block: Block) => call("submitblock", [hex.encode(encodeBlock(block))]);
  const resolve = (block: Block) => {
    block.header.merkleRoot = blockMerkleRoot(block).root;
    block.header.nonce = 0;
    assert(solveBlock(block));
  };

  await t.step("submitblock: null, duplicate, inconclusive (§10)", async () => {
    const side = await template();
    const valid = await template();
    valid.header.time += 1;
    resolve(valid);
    assertEquals(await submit(valid), null);
    assertEquals(await submit(valid), "duplicate");
    assertEquals(await submit(side), "inconclusive");
  });

  await t.step("submitblock: header and data defects (§10)", async () => {
    const high = await template();
    while (checkProofOfWork(blockHash(high.header), high.header.bits, POW_LIMIT)) {
      high.header.nonce++;
    }
    assertEquals(await submit(high), "high-hash");

    const merkle = await template();
    merkle.header.merkleRoot = new Uint8Array(32).fill(1);
    merkle.header.nonce = 0;
    assert(solveBlock(merkle));
    assertEquals(await submit(merkle), "bad-txnmrklroot");

    const orphan = await template();
    orphan.header.prevHash = new Uint8Array(32).fill(7);
    resolve(orphan);
    assertEquals(await submit(orphan), "prev-blk-not-found");

    const old = await template();
    old.header.time = 1;
    resolve(old);
    assertEquals(await submit(old), "time-too-old");

    const bits = await template();
    bits.header.bits = 0x207ffffe;
    resolve(bits);
    assertEquals(await submit(bits), "bad-diffbits");

    const rich = await template();
    rich.txs[0].outputs[0].amount += 1n;
    resolve(rich);
    assertEquals(await submit(rich), "bad-cb-amount");
    assertEquals(await submit(rich), "duplicate-invalid");

    const spend = pay(await coinbase(8), 49_9900_0000n);
    const witness = await template([spend]);
    witness.txs[1].witnesses![0][1] = witness.txs[1].witnesses![0][1].slice();
    witness.txs[1].witnesses![0][0][5] ^= 1;
    resolve(witness);
    assertEquals(await submit(witness), "bad-witness-merkle-match");

    assertEquals(await error(call("submitblock", ["00"])), [-22, "Block decode failed"]);
  });

  assertEquals(await node.stop(), 0);
});
