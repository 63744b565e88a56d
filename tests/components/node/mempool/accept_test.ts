/**
 * Single-transaction acceptance with Bitcoin Core v30's reject reasons,
 * details, `sendrawtransaction` messages and RPC codes, against a real
 * chain and transactions signed through `@scure/btc-signer`.
 *
 * @module
 */
import { COIN, hashToHex, type Tx, txid, wtxid } from "../../../../components/node/chain/mod.ts";
import { assert, assertEquals } from "../../../assert.ts";
import {
  accepted,
  pay,
  refused,
  setup,
  signTx,
  spend,
  txidOf,
  utxosOf,
} from "./mempool_helpers.ts";

/** A copy of `tx` changed by `edit` (signatures are not redone). */
function tampered(tx: Tx, edit: (tx: Tx) => void): Tx {
  const copy: Tx = structuredClone(tx);
  edit(copy);
  return copy;
}

Deno.test("accept: an accepted transaction is an entry with Core's fields, then mined away", () => {
  using f = setup();
  const tx = spend(f.coins[0], 2820n);
  const result = accepted(f.mempool.accept(tx));
  assertEquals(result.vsize, 110);
  assertEquals(result.fee, 2820n);
  assertEquals(result.effectiveFeeRate, 25636n);
  assertEquals(result.effectiveIncludes, [wtxid(tx)]);
  const entry = f.mempool.get(txid(tx))!;
  assertEquals([entry.vsize, entry.fee, entry.height], [110, 2820n, f.chain.height]);
  assert(entry.weight === 437 || entry.weight === 438, `weight ${entry.weight}`);
  assertEquals(entry.time, f.clock);
  assertEquals([entry.ancestorCount, entry.descendantCount], [1, 1]);
  assertEquals([entry.ancestorSize, entry.descendantFees], [110, 2820n]);
  assertEquals([entry.depends, entry.spentBy, entry.unbroadcast], [[], [], true]);
  assertEquals([f.mempool.size, f.mempool.bytes, f.mempool.totalFee], [1, 110, 2820n]);
  assertEquals(f.mempool.sequence, 2);
  assertEquals(f.events, [`added ${txidOf(tx)}`]);

  f.mine([{ tx, fee: 2820n }]);
  assertEquals(f.mempool.size, 0);
  assertEquals(f.mempool.usage, 0);
  assertEquals(f.events.at(-1), `block ${txidOf(tx)}`);
  assertEquals(f.mempool.sequence, 3);
});

Deno.test("accept: the usage estimate of a one-in two-out P2WPKH spend is bitcoind's 1200", () => {
  using f = setup();
  const tx = pay([f.coins[0]], f.key, [150_000_000n, 50n * COIN - 150_000_000n - 2820n]);
  accepted(f.mempool.accept(tx));
  assertEquals([f.mempool.bytes, f.mempool.usage], [141, 1200]);
});

Deno.test("accept: missing or spent inputs are -25 bad-txns-inputs-missingorspent / missing-inputs", () => {
  using f = setup();
  const orphan = spend(
    { ...f.coins[0], outpoint: { txid: new Uint8Array(32).fill(7), index: 0 } },
    1000n,
  );
  const reject = refused(f.mempool.accept(orphan), "bad-txns-inputs-missingorspent", -25);
  assertEquals([reject.rejectReason, reject.rejectDetails], ["missing-inputs", undefined]);
  assertEquals(f.mempool.testAccept([orphan])[0].reject?.rejectReason, "missing-inputs");

  const tx = spend(f.coins[0], 1000n);
  f.mine([{ tx, fee: 1000n }]);
  const doubleSpend = spend(f.coins[0], 2000n);
  refused(f.mempool.accept(doubleSpend), "bad-txns-inputs-missingorspent", -25);
});

Deno.test("accept: a confirmed transaction is -27 for sendrawtransaction, txn-already-known for tests", () => {
  using f = setup();
  const tx = spend(f.coins[0], 1000n);
  f.mine([{ tx, fee: 1000n }]);
  refused(f.mempool.accept(tx), "Transaction outputs already in utxo set", -27);
  const [result] = f.mempool.testAccept([tx]);
  assertEquals(result.reject?.rejectReason, "txn-already-known");
  assertEquals(result.reject?.rejectDetails, "txn-already-known");
  assertEquals(result.reject?.code, -26);
});

Deno.test("accept: a transaction already in the mempool returns its txid; tests say txn-already-in-mempool", () => {
  using f = setup();
  const tx = spend(f.coins[0], 1000n);
  accepted(f.mempool.accept(tx));
  const again = f.mempool.accept(tx);
  assertEquals([again.accepted, again.alreadyInMempool, again.txid], [true, true, txid(tx)]);
  assertEquals(f.mempool.size, 1);
  const [test] = f.mempool.testAccept([tx]);
  assertEquals([test.reject?.rejectReason, test.reject?.rejectDetails], [
    "txn-already-in-mempool",
    "txn-already-in-mempool",
  ]);
  const otherWitness = tampered(tx, (copy) => copy.witnesses![0][0][10] ^= 1);
  assertEquals(txid(otherWitness), txid(tx));
  assertEquals(
    f.mempool.testAccept([otherWitness])[0].reject?.message,
    "txn-same-nonwitness-data-in-mempool",
  );
  assert(f.mempool.accept(otherWitness).alreadyInMempool);
});

Deno.test("accept: a premature coinbase spend says at which depth", () => {
  using f = setup();
  const young = f.mine();
  const utxo = utxosOf(young.txs[0], f.key)[0];
  refused(
    f.mempool.accept(spend(utxo, 1000n)),
    "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 1",
  );
  f.mine();
  const [result] = f.mempool.testAccept([spend(utxo, 1000n)]);
  assertEquals(result.reject?.rejectReason, "bad-txns-premature-spend-of-coinbase");
  assertEquals(
    result.reject?.rejectDetails,
    "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 2",
  );
});

Deno.test("accept: outputs above inputs are bad-txns-in-belowout with both amounts", () => {
  using f = setup();
  const [first] = utxosOf(
    f.mine([{ tx: pay([f.coins[0]], f.key, [150_000_000n]), fee: 50n * COIN - 150_000_000n }])
      .txs[1],
    f.key,
  );
  // Signed as if the input held more: amounts are checked before signatures.
  const tx = pay([{ ...first, amount: 170_000_000n }], f.key, [160_000_000n]);
  refused(f.mempool.accept(tx), "bad-txns-in-belowout, value in (1.50) < value out (1.60)");
});

Deno.test("accept: a flipped signature byte fails the script checks with Core's full text", () => {
  using f = setup();
  const tx = spend(f.coins[0], 1000n);
  const bad = tampered(tx, (copy) => copy.witnesses![0][0][10] ^= 1);
  const txidHex = hashToHex(txid(bad));
  const detail = `input 0 of ${txidHex} (wtxid ${hashToHex(wtxid(bad))}), spending ${
    hashToHex(f.coins[0].outpoint.txid)
  }:0`;
  const reason =
    "mempool-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)";
  refused(f.mempool.accept(bad), `${reason}, ${detail}`);
  const [result] = f.mempool.testAccept([bad]);
  assertEquals(result.reject?.rejectReason, reason);
  assertEquals(result.reject?.detail, detail);
});

Deno.test("accept: fee floors: min relay fee 0 < 11, max fee rate -25, Core's texts", () => {
  using f = setup();
  refused(f.mempool.accept(spend(f.coins[0], 0n)), "min relay fee not met, 0 < 11");
  const rich = spend(f.coins[0], COIN);
  const reject = refused(
    f.mempool.accept(rich),
    "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
    -25,
  );
  assertEquals([reject.rejectReason, reject.rejectDetails], ["max-fee-exceeded", undefined]);
  assertEquals(f.mempool.testAccept([rich])[0].reject?.rejectReason, "max-fee-exceeded");
  refused(
    f.mempool.accept(rich, { maxFee: COIN - 1n }),
    "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
    -25,
  );
  accepted(f.mempool.accept(rich, { maxFee: COIN }));
});

Deno.test("accept: standardness reasons in Core's order", () => {
  using f = setup();
  const base = spend(f.coins[0], 1000n);
  const check = (tx: Tx, message: string) => refused(f.mempool.accept(tx), message);
  check(tampered(base, (tx) => tx.version = 4), "version");
  check(tampered(base, (tx) => tx.version = 0), "version");
  check(
    tampered(base, (tx) => tx.inputs[0].finalScriptSig = Uint8Array.of(0x61)),
    "scriptsig-not-pushonly",
  );
  check(
    tampered(
      base,
      (tx) =>
        tx.inputs[0].finalScriptSig = Uint8Array.of(0x4d, 0x71, 0x06, ...new Uint8Array(1649)),
    ),
    "scriptsig-size",
  );
  check(tampered(base, (tx) => tx.outputs[0].script = Uint8Array.of(0x51)), "scriptpubkey");
  const hugeData = Uint8Array.of(0x6a, 0x4e, 0xa0, 0x86, 0x01, 0x00, ...new Uint8Array(100_000));
  check(tampered(base, (tx) => tx.outputs[0].script = hugeData), "tx-size");
  const two = pay([f.coins[1]], f.key, [200n, 200n, 49n * COIN]);
  check(two, "dust");
  const one = pay([f.coins[1]], f.key, [293n, 49n * COIN]);
  check(one, "dust, tx with dust output must be 0-fee");
  const small = signTx([f.coins[2]], [{ script: Uint8Array.of(0x6a), amount: 50n * COIN - 1000n }]);
  check(small, "tx-size-small");
  const nonFinal = spend(f.coins[2], 1000n, { lockTime: f.chain.height + 2 });
  check(nonFinal, "non-final");
  accepted(f.mempool.accept(spend(f.coins[2], 1000n, { lockTime: f.chain.height })));
  const coinbase = f.mine().txs[0];
  assertEquals(f.mempool.testAccept([coinbase])[0].reject?.message, "coinbase");
  check(
    tampered(base, (tx) => {
      tx.inputs = [];
      tx.witnesses = undefined;
    }),
    "bad-txns-vin-empty",
  );
  check(tampered(base, (tx) => tx.inputs.push(tx.inputs[0])), "bad-txns-inputs-duplicate");
});

Deno.test("accept: OP_RETURN outputs share the -datacarriersize budget; bare multisig by option", () => {
  using f = setup({ policy: { maxDatacarrierBytes: 83, permitBareMultisig: false } });
  const data = (bytes: number) => Uint8Array.of(0x6a, bytes, ...new Uint8Array(bytes));
  const fits = signTx([f.coins[0]], [
    { script: data(40), amount: 0n },
    { script: data(39), amount: 0n },
    { script: f.key.wpkh, amount: 50n * COIN - 1000n },
  ]);
  accepted(f.mempool.accept(fits));
  const over = signTx([f.coins[1]], [
    { script: data(40), amount: 0n },
    { script: data(40), amount: 0n },
    { script: f.key.wpkh, amount: 50n * COIN - 1000n },
  ]);
  refused(f.mempool.accept(over), "datacarrier");
  const multisig = Uint8Array.of(0x51, 33, ...f.key.publicKey, 0x51, 0xae);
  const bare = tampered(spend(f.coins[2], 1000n), (tx) => tx.outputs[0].script = multisig);
  refused(f.mempool.accept(bare), "bare-multisig");
});

Deno.test("accept: BIP 68 relative locks: non-BIP68-final until the input is deep enough", () => {
  using f = setup();
  const funding = spend(f.coins[0], 1000n);
  f.mine([{ tx: funding, fee: 1000n }]);
  const [utxo] = utxosOf(funding, f.key);
  const locked = spend(utxo, 1000n, { sequence: 3 });
  refused(f.mempool.accept(locked), "non-BIP68-final");
  f.mine();
  refused(f.mempool.accept(locked), "non-BIP68-final");
  f.mine();
  accepted(f.mempool.accept(locked));
});

Deno.test("accept: non-standard inputs and witnesses are refused before any script runs", () => {
  using f = setup();
  const odd = signTx([f.coins[0]], [
    { script: Uint8Array.of(0x51), amount: 10_000n },
    { script: f.key.wpkh, amount: 50n * COIN - 20_000n },
  ]);
  f.mine([{ tx: odd, fee: 10_000n }]);
  const spendOdd: Tx = {
    version: 2,
    segwitFlag: false,
    inputs: [{
      txid: txid(odd).slice().reverse(),
      index: 0,
      finalScriptSig: new Uint8Array(),
      sequence: 0xfffffffd,
    }],
    outputs: [{ amount: 9_000n, script: f.key.wpkh }],
    lockTime: 0,
  };
  refused(f.mempool.accept(spendOdd), "bad-txns-nonstandard-inputs");

  const legacy = signTx([f.coins[1]], [{ script: f.key.pkh, amount: 50n * COIN - 1000n }]);
  f.mine([{ tx: legacy, fee: 1000n }]);
  const [pkhUtxo] = utxosOf(legacy, f.key);
  const stuffed = tampered(spend(pkhUtxo, 1000n), (tx) => {
    tx.witnesses = [[Uint8Array.of(1)]];
  });
  refused(f.mempool.accept(stuffed), "bad-witness-nonstandard");
  accepted(f.mempool.accept(spend(pkhUtxo, 1000n)));
});

Deno.test("accept: with -acceptnonstdtxn the sigop limit still applies", () => {
  using f = setup({ policy: { requireStandard: false } });
  // 201 CHECKMULTISIGs count 20 each, times 4, plus the P2WPKH input's one.
  const sigops = new Uint8Array(201).fill(0xae);
  const heavy = signTx([f.coins[0]], [
    { script: sigops, amount: 1000n },
    { script: f.key.wpkh, amount: 50n * COIN - 100_000n },
  ]);
  refused(f.mempool.accept(heavy), "bad-txns-too-many-sigops, 16081");
  const nonStandardOutput = signTx([f.coins[1]], [
    { script: Uint8Array.of(0x51), amount: 1000n },
    { script: f.key.wpkh, amount: 50n * COIN - 100_000n },
  ]);
  accepted(f.mempool.accept(nonStandardOutput));
});

Deno.test("accept: a reject leaves the mempool and its sequence untouched", () => {
  using f = setup();
  accepted(f.mempool.accept(spend(f.coins[0], 1000n)));
  const before = [f.mempool.size, f.mempool.sequence, f.mempool.usage];
  refused(f.mempool.accept(spend(f.coins[1], 0n)), "min relay fee not met, 0 < 11");
  f.mempool.testAccept([spend(f.coins[1], 1000n)]);
  assertEquals([f.mempool.size, f.mempool.sequence, f.mempool.usage], before);
  assertEquals(f.events.length, 1);
});
