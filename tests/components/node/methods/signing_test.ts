/**
 * signrawtransactionwithkey, combinerawtransaction, prioritisetransaction
 * and getprioritisedtransactions against a real node process over HTTP:
 * P2PKH, P2WPKH and P2TR (key path) inputs signed with WIF keys and
 * accepted by the mempool; P2SH-P2WPKH by its key alone; 2-of-3 multisig
 * in P2WSH, P2SH and P2SH-P2WSH signed by two signers in turn, sent and
 * mined; Core's result shape with `complete` and per-input
 * `errors` for missing keys, unknown inputs and prevtxs problems; two
 * half-signed copies combined into one that is accepted; and fee deltas
 * that change what the mempool accepts, how getblocktemplate orders
 * transactions and what a mined block takes, kept across a restart.
 *
 * @module
 */
import { hex } from "@scure/base";
import { assert, assertEquals } from "../../../assert.ts";
import { rejects, startRealNode } from "../real_node.ts";
import { signTx, TestKey, type Utxo } from "../chain/chain_helpers.ts";
import {
  decodeTx,
  encodeSecret,
  encodeTx,
  hash160,
  hashFromHex,
  scriptToAddress,
  txid,
} from "../../../../components/node/chain/mod.ts";
import { tempDir } from "../../../helpers.ts";

const key = new TestKey(9);
const other = new TestKey(10);
const WIF = encodeSecret({ key: key.secret, compressed: true });
const OTHER_WIF = encodeSecret({ key: other.secret, compressed: true });
const ADDRESS = scriptToAddress(key.wpkh)!;
const OTHER = scriptToAddress(other.wpkh)!;

/** The display txid of a transaction. */
const idOf = (tx: ReturnType<typeof decodeTx>) => hex.encode(txid(tx).slice().reverse());

Deno.test("signing raw transactions with keys, and fee deltas", async (t) => {
  using temp = tempDir("node_test_");
  const datadir = temp.path;
  await using node = await startRealNode({ datadir });
  const call = node.call;
  const blocks: string[] = await call("generatetoaddress", [110, ADDRESS]);
  await call("generatetoaddress", [1, OTHER]);
  await call("generatetoaddress", [100, ADDRESS]);
  const coinbase = async (height: number) => (await call("getblock", [blocks[height - 1]])).tx[0];
  const otherCoinbase = (await call("getblock", [await call("getblockhash", [111])])).tx[0];

  // One funding transaction for P2PKH and P2TR outputs of `key`.
  const fundingSource: Utxo = {
    outpoint: { txid: hashFromHex(await coinbase(1)), index: 0 },
    amount: 50_0000_0000n,
    script: key.wpkh,
    key,
  };
  const funding = signTx([fundingSource], [
    { script: key.pkh, amount: 10_0000_0000n },
    { script: key.tr, amount: 10_0000_0000n },
    { script: key.wpkh, amount: 29_9999_0000n },
  ]);
  const fundingId = idOf(funding);
  await call("sendrawtransaction", [hex.encode(encodeTx(funding))]);
  await call("generatetoaddress", [1, ADDRESS]);

  /** createrawtransaction of these inputs to one output of `amount` BTC. */
  const unsigned = (inputs: { txid: string; vout: number }[], amount: number) =>
    call("createrawtransaction", [inputs, [{ [OTHER]: amount }]]);

  await t.step("P2WPKH, P2PKH and P2TR inputs signed with a WIF key", async () => {
    const single = await unsigned([{ txid: await coinbase(2), vout: 0 }], 49.999);
    const signed = await call("signrawtransactionwithkey", [single, [WIF]]);
    assertEquals(Object.keys(signed), ["hex", "complete"]);
    assertEquals(signed.complete, true);
    assertEquals((await call("testmempoolaccept", [[signed.hex]]))[0].allowed, true);

    const taproot = await unsigned([{ txid: fundingId, vout: 1 }], 9.999);
    const byDefault = await call("signrawtransactionwithkey", [taproot, [WIF]]);
    assertEquals(byDefault.complete, true);
    const witness = decodeTx(hex.decode(byDefault.hex)).witnesses![0];
    assertEquals(witness.map((item) => item.length), [64]);
    assertEquals((await call("testmempoolaccept", [[byDefault.hex]]))[0].allowed, true);
    const withAll = await call("signrawtransactionwithkey", [taproot, [WIF], null, "ALL"]);
    const allWitness = decodeTx(hex.decode(withAll.hex)).witnesses![0];
    assertEquals([allWitness[0].length, allWitness[0][64]], [65, 1]);
    assertEquals((await call("testmempoolaccept", [[withAll.hex]]))[0].allowed, true);

    const three = await unsigned([
      { txid: fundingId, vout: 0 },
      { txid: fundingId, vout: 1 },
      { txid: fundingId, vout: 2 },
    ], 49.99);
    const all = await call("signrawtransactionwithkey", {
      hexstring: three,
      privkeys: [OTHER_WIF, WIF],
    });
    assertEquals(all.complete, true);
    const legacyInput = decodeTx(hex.decode(all.hex)).inputs[0];
    assert(legacyInput.finalScriptSig.length > 100, "a P2PKH scriptSig with signature and key");
    const sent = await call("sendrawtransaction", [all.hex]);
    const [mined] = await call("generatetoaddress", [1, ADDRESS]);
    assert((await call("getblock", [mined])).tx.includes(sent));
  });

  await t.step(
    "P2SH-P2WPKH signed with its key alone; 2-of-3 multisig (P2WSH, P2SH, P2SH-P2WSH) signed by two signers in turn, accepted and mined",
    async () => {
      const shWpkh = Uint8Array.of(0xa9, 0x14, ...hash160(key.wpkh), 0x87);
      const third = new TestKey(11);
      const pubkeys = [key, other, third].map((k) => hex.encode(k.publicKey));
      const types = ["bech32", "legacy", "p2sh-segwit"] as const;
      const multisigs = await Promise.all(
        types.map((type) => call("createmultisig", [2, pubkeys, type])),
      );
      const msScripts = await Promise.all(
        multisigs.map(async ({ address }) =>
          hex.decode((await call("validateaddress", [address])).scriptPubKey)
        ),
      );
      const funding = signTx([{
        outpoint: { txid: hashFromHex(await coinbase(30)), index: 0 },
        amount: 50_0000_0000n,
        script: key.wpkh,
        key,
      }], [
        { script: shWpkh, amount: 1_0000_0000n },
        ...msScripts.map((script) => ({ script, amount: 1_0000_0000n })),
        { script: key.wpkh, amount: 45_9999_0000n },
      ]);
      const fundingId = await call("sendrawtransaction", [hex.encode(encodeTx(funding))]);
      // Its P2WPKH script is learnt from the key, as Core's; the other key does not fit.
      const nested = await unsigned([{ txid: fundingId, vout: 0 }], 0.999);
      const signed = await call("signrawtransactionwithkey", [nested, [WIF]]);
      assertEquals(signed.complete, true);
      assertEquals((await call("testmempoolaccept", [[signed.hex]]))[0].allowed, true);
      assertEquals(
        (await call("signrawtransactionwithkey", [nested, [OTHER_WIF]])).complete,
        false,
      );
      // Each multisig output: the first signer's copy is incomplete, with Core's reason; the
      // second signer adds the other signature to it (the scripts as createmultisig gave them).
      const THIRD_WIF = encodeSecret({ key: third.secret, compressed: true });
      for (const [i, type] of types.entries()) {
        const vout = i + 1;
        const script = multisigs[i].redeemScript;
        const prevtx = {
          txid: fundingId,
          vout,
          scriptPubKey: hex.encode(msScripts[i]),
          ...(type === "bech32" ? { witnessScript: script } : { redeemScript: script }),
          amount: 1,
        };
        const spend = await unsigned([{ txid: fundingId, vout }], 0.999);
        const half = await call("signrawtransactionwithkey", [spend, [WIF], [prevtx]]);
        assertEquals(half.complete, false, type);
        assertEquals(
          half.errors[0].error,
          "CHECK(MULTI)SIG failing with non-zero signature (possibly need more signatures)",
        );
        assertEquals((await call("testmempoolaccept", [[half.hex]]))[0].allowed, false);
        const whole = await call("signrawtransactionwithkey", [half.hex, [THIRD_WIF], [prevtx]]);
        assertEquals([whole.complete, whole.errors], [true, undefined], type);
        assertEquals((await call("testmempoolaccept", [[whole.hex]]))[0].allowed, true, type);
        const sent = await call("sendrawtransaction", [whole.hex]);
        const [mined] = await call("generatetoaddress", [1, ADDRESS]);
        assert((await call("getblock", [mined])).tx.includes(sent), type);
      }
    },
  );

  await t.step("inputs that cannot be signed are reported per input", async () => {
    const p2wpkh = await unsigned([{ txid: await coinbase(3), vout: 0 }], 49.999);
    const noKey = await call("signrawtransactionwithkey", [p2wpkh, [OTHER_WIF]]);
    assertEquals(noKey.complete, false);
    assertEquals(noKey.errors, [{
      txid: await coinbase(3),
      vout: 0,
      witness: [],
      scriptSig: "",
      sequence: 4294967293,
      error: "Witness program hash mismatch",
    }]);
    assertEquals(noKey.hex, p2wpkh);
    const unknown = await unsigned([{ txid: "ab".repeat(32), vout: 0 }], 1);
    const missing = await call("signrawtransactionwithkey", [unknown, [WIF]]);
    assertEquals(missing.errors[0].error, "Input not found or already spent");
    // Core's own message for a bare taproot key; this node signs P2TR key paths (above).
    const funding2 = signTx([{
      outpoint: { txid: hashFromHex(await coinbase(4)), index: 0 },
      amount: 50_0000_0000n,
      script: key.wpkh,
      key,
    }], [
      { script: key.tr, amount: 1_0000_0000n },
      { script: key.pkh, amount: 1_0000_0000n },
      { script: key.wpkh, amount: 47_9999_0000n },
    ]);
    await call("sendrawtransaction", [hex.encode(encodeTx(funding2))]);
    const twoInputs = await unsigned([{ txid: idOf(funding2), vout: 0 }, {
      txid: idOf(funding2),
      vout: 1,
    }], 1.9);
    const neither = await call("signrawtransactionwithkey", [twoInputs, [OTHER_WIF]]);
    assertEquals(neither.errors.map((e: { error: string }) => e.error), [
      "Witness program was passed an empty witness",
      "Unable to sign input, invalid stack size (possibly missing key)",
    ]);
  });

  await t.step("prevtxs: coins the node does not know, and Core's checks", async () => {
    const made = "cd".repeat(32);
    const tx = await unsigned([{ txid: made, vout: 1 }], 0.5);
    const prevout = { txid: made, vout: 1, scriptPubKey: hex.encode(key.wpkh) };
    const signed = await call("signrawtransactionwithkey", [tx, [WIF], [{
      ...prevout,
      amount: 1,
    }]]);
    assertEquals(signed.complete, true);
    await rejects(
      call("signrawtransactionwithkey", [tx, [WIF], [prevout]]),
      -3,
      `Missing amount for CTxOut(nValue=21000000.00000000, scriptPubKey=${
        hex.encode(key.wpkh).slice(0, 30)
      })`,
    );
    const real = await unsigned([{ txid: await coinbase(5), vout: 0 }], 1);
    const asm = (script: Uint8Array) => `0 ${hex.encode(script.subarray(2))}`;
    await rejects(
      call("signrawtransactionwithkey", [real, [WIF], [{
        txid: await coinbase(5),
        vout: 0,
        scriptPubKey: hex.encode(other.wpkh),
      }]]),
      -22,
      `Previous output scriptPubKey mismatch:\n${asm(key.wpkh)}\nvs:\n${asm(other.wpkh)}`,
    );
    await rejects(
      call("signrawtransactionwithkey", [tx, [WIF], [{ txid: made, scriptPubKey: "00" }]]),
      -3,
      "Missing vout",
    );
    await rejects(
      call("signrawtransactionwithkey", [tx, [WIF], [{ txid: 1, vout: 0, scriptPubKey: "00" }]]),
      -3,
      "JSON value of type number for field txid is not of expected type string",
    );
    await rejects(
      call("signrawtransactionwithkey", [tx, [WIF], [{ ...prevout, vout: -1 }]]),
      -22,
      "vout cannot be negative",
    );
    await rejects(
      call("signrawtransactionwithkey", [tx, [WIF], ["x"]]),
      -22,
      `expected object with {"txid'","vout","scriptPubKey"}`,
    );
    await rejects(
      call("signrawtransactionwithkey", [tx, [WIF], [{
        ...prevout,
        scriptPubKey: "0020" + "11".repeat(32),
      }]]),
      -8,
      "Missing redeemScript/witnessScript",
    );
    await rejects(call("signrawtransactionwithkey", [tx, ["nokey"]]), -5, "Invalid private key");
    await rejects(
      call("signrawtransactionwithkey", ["zz", [WIF]]),
      -22,
      "TX decode failed. Make sure the tx has at least one input.",
    );
    await rejects(
      call("signrawtransactionwithkey", [tx, [WIF], null, "all"]),
      -8,
      "'all' is not a valid sighash parameter.",
    );
  });

  await t.step("combinerawtransaction merges two half-signed copies", async () => {
    const tx = await unsigned([{ txid: await coinbase(6), vout: 0 }, {
      txid: otherCoinbase,
      vout: 0,
    }], 99.99);
    const mine = await call("signrawtransactionwithkey", [tx, [WIF]]);
    const theirs = await call("signrawtransactionwithkey", [tx, [OTHER_WIF]]);
    assertEquals([mine.complete, theirs.complete], [false, false]);
    const combined = await call("combinerawtransaction", [[mine.hex, theirs.hex]]);
    assertEquals((await call("testmempoolaccept", [[combined]]))[0].allowed, true);
    assertEquals(await call("combinerawtransaction", [[mine.hex]]), mine.hex);
    await rejects(call("combinerawtransaction", [[]]), -22, "Missing transactions");
    await rejects(
      call("combinerawtransaction", [[mine.hex, "zz"]]),
      -22,
      "TX decode failed for tx 1. Make sure the tx has at least one input.",
    );
    const unknown = await unsigned([{ txid: "ab".repeat(32), vout: 0 }], 1);
    await rejects(
      call("combinerawtransaction", [[unknown]]),
      -25,
      "Input not found or already spent",
    );
  });

  await t.step("prioritisetransaction changes acceptance, ordering and mining", async () => {
    await call("generatetoaddress", [1, ADDRESS]); // an empty mempool
    const spendOf = async (height: number, fee: bigint) => {
      const tx = signTx([{
        outpoint: { txid: hashFromHex(await coinbase(height)), index: 0 },
        amount: 50_0000_0000n,
        script: key.wpkh,
        key,
      }], [{ script: other.wpkh, amount: 50_0000_0000n - fee }]);
      return { tx, id: idOf(tx), hex: hex.encode(encodeTx(tx)) };
    };
    const a = await spendOf(20, 2000n);
    const b = await spendOf(21, 1000n);
    await call("sendrawtransaction", [a.hex]);
    await call("sendrawtransaction", [b.hex]);
    const order = async () =>
      (await call("getblocktemplate", [{ rules: ["segwit"] }])).transactions.map((
        x: { txid: string },
      ) => x.txid);
    assertEquals(await order(), [a.id, b.id]);
    assertEquals(await call("prioritisetransaction", [b.id, 0, 10000]), true);
    assertEquals(await order(), [b.id, a.id]);
    const entry = await call("getmempoolentry", [b.id]);
    assertEquals(entry.fees, {
      base: 0.00001,
      modified: 0.00011,
      ancestor: 0.00011,
      descendant: 0.00011,
    });
    assertEquals(await call("getprioritisedtransactions"), {
      [b.id]: { fee_delta: 10000, in_mempool: true, modified_fee: 11000 },
    });
    // A modified fee of zero is below the block minimum: a is left out of the next block.
    assertEquals(await call("prioritisetransaction", { txid: a.id, fee_delta: -2000 }), true);
    const [mined] = await call("generatetoaddress", [1, ADDRESS]);
    const included = (await call("getblock", [mined])).tx;
    assert(included.includes(b.id) && !included.includes(a.id), included.join());
    assertEquals(await call("getrawmempool"), [a.id]);
    // The mined transaction's delta is gone; a's stays.
    assertEquals(await call("getprioritisedtransactions"), {
      [a.id]: { fee_delta: -2000, in_mempool: true, modified_fee: 0 },
    });
    // A delta set before the transaction arrives lets a fee-less one in.
    const free = await spendOf(22, 0n);
    const { vsize } = await call("decoderawtransaction", [free.hex]);
    await rejects(
      call("sendrawtransaction", [free.hex]),
      -26,
      `min relay fee not met, 0 < ${Math.ceil(vsize / 10)}`,
    );
    await call("prioritisetransaction", [free.id, null, 5000]);
    assertEquals((await call("getprioritisedtransactions"))[free.id], {
      fee_delta: 5000,
      in_mempool: false,
    });
    assertEquals(await call("sendrawtransaction", [free.hex]), free.id);
    assertEquals((await call("getprioritisedtransactions"))[free.id].modified_fee, 5000);
    await call("prioritisetransaction", [a.id, 0, 2000]); // back to its own fee: cleared
    assert(!(a.id in await call("getprioritisedtransactions")));
    await rejects(
      call("prioritisetransaction", [a.id, 1, 100]),
      -8,
      "Priority is no longer supported, dummy argument to prioritisetransaction must be 0.",
    );
    // Deltas are kept in mempool.dat across a restart, in or out of the mempool.
    await call("prioritisetransaction", ["ef".repeat(32), 0, 777]);
    const before = await call("getprioritisedtransactions");
    assertEquals(await node.stop(), 0);
    await using again = await startRealNode({ datadir });
    assertEquals(await again.call("getprioritisedtransactions"), before);
    assertEquals(await again.stop(), 0);
  });
  Deno.removeSync(datadir, { recursive: true });
});
