/**
 * Transaction rules with Bitcoin Core's reject reasons and details:
 * `CheckTransaction`, `CheckTxInputs` over a coins view, finality, BIP 68
 * sequence locks and sigop counting.
 *
 * @module
 */
import { assert, assertEquals, assertThrows } from "../../../assert.ts";
import {
  calculateSequenceLocks,
  checkTransaction,
  checkTxInputs,
  COIN,
  type Coin,
  CoinsCache,
  isFinalTx,
  legacySigOpCount,
  MAX_MONEY,
  type OutPoint,
  sequenceLocksSatisfied,
  type Tx,
  txSigOpCost,
  ValidationError,
} from "../../../../components/node/chain/mod.ts";
import { TestKey } from "./chain_helpers.ts";

const key = new TestKey(7);
const outpoint = (n: number, index = 0): OutPoint => ({ txid: new Uint8Array(32).fill(n), index });

/** A transaction spending `inputs` (display-order txids as scure keeps them) to `amounts`. */
function tx(inputs: OutPoint[], amounts: bigint[], extra: Partial<Tx> = {}): Tx {
  return {
    version: 2,
    segwitFlag: false,
    inputs: inputs.map((o) => ({
      txid: o.txid.slice().reverse(),
      index: o.index,
      finalScriptSig: new Uint8Array(),
      sequence: 0xfffffffd,
    })),
    outputs: amounts.map((amount) => ({ amount, script: key.wpkh })),
    lockTime: 0,
    ...extra,
  };
}

function reason(fn: () => unknown): [string, string] {
  const error = assertThrows(fn, ValidationError);
  return [error.reason, error.detail];
}

Deno.test("CheckTransaction: each context-free rule with Core's reason", () => {
  assertEquals(reason(() => checkTransaction(tx([], [1n]))), ["bad-txns-vin-empty", ""]);
  assertEquals(reason(() => checkTransaction(tx([outpoint(1)], []))), ["bad-txns-vout-empty", ""]);
  assertEquals(reason(() => checkTransaction(tx([outpoint(1)], [2n ** 64n - 1n]))), [
    "bad-txns-vout-negative",
    "",
  ]);
  assertEquals(reason(() => checkTransaction(tx([outpoint(1)], [MAX_MONEY + 1n]))), [
    "bad-txns-vout-toolarge",
    "",
  ]);
  assertEquals(
    reason(() => checkTransaction(tx([outpoint(1)], [MAX_MONEY, 1n]))),
    ["bad-txns-txouttotal-toolarge", ""],
  );
  assertEquals(
    reason(() => checkTransaction(tx([outpoint(1), outpoint(2), outpoint(1)], [1n]))),
    ["bad-txns-inputs-duplicate", ""],
  );
  const coinbase = tx([{ txid: new Uint8Array(32), index: 0xffffffff }], [1n]);
  assertEquals(reason(() => checkTransaction(coinbase)), ["bad-cb-length", ""]);
  coinbase.inputs[0].finalScriptSig = Uint8Array.of(1, 2);
  checkTransaction(coinbase);
  coinbase.inputs[0].finalScriptSig = new Uint8Array(101);
  assertEquals(reason(() => checkTransaction(coinbase)), ["bad-cb-length", ""]);
  const nullInput = tx([outpoint(1), { txid: new Uint8Array(32), index: 0xffffffff }], [1n]);
  assertEquals(reason(() => checkTransaction(nullInput)), ["bad-txns-prevout-null", ""]);
  const big = tx([outpoint(1)], [1n]);
  big.outputs[0].script = new Uint8Array(1_000_000);
  assertEquals(reason(() => checkTransaction(big)), ["bad-txns-oversize", ""]);
  checkTransaction(tx([outpoint(1), outpoint(1, 1)], [MAX_MONEY]));
});

Deno.test("CheckTxInputs: missing, immature, below-out and fee, with Core's details", () => {
  const view = new CoinsCache({ getCoin: () => undefined });
  const coin = (amount: bigint, height: number, coinbase: boolean): Coin => ({
    amount,
    script: key.wpkh,
    height,
    coinbase,
  });
  view.addCoin(outpoint(1), coin(150_000_000n, 10, false));
  view.addCoin(outpoint(2), coin(50n * COIN, 10, true));

  const missing = assertThrows(
    () => checkTxInputs(tx([outpoint(3)], [1n]), view, 20),
    ValidationError,
  );
  assertEquals(
    [missing.reason, missing.detail, missing.kind],
    ["bad-txns-inputs-missingorspent", "CheckTxInputs: inputs missing/spent", "missing-inputs"],
  );
  const premature = assertThrows(
    () => checkTxInputs(tx([outpoint(2)], [1n]), view, 11),
    ValidationError,
  );
  assertEquals(
    [premature.reason, premature.detail, premature.kind],
    [
      "bad-txns-premature-spend-of-coinbase",
      "tried to spend coinbase at depth 1",
      "premature-spend",
    ],
  );
  assertEquals(checkTxInputs(tx([outpoint(2)], [1n]), view, 110), 50n * COIN - 1n);
  assertEquals(
    reason(() => checkTxInputs(tx([outpoint(1)], [160_000_000n]), view, 20)),
    ["bad-txns-in-belowout", "value in (1.50) < value out (1.60)"],
  );
  assertEquals(checkTxInputs(tx([outpoint(1)], [140_000_000n]), view, 20), 10_000_000n);
  view.spendCoin(outpoint(1));
  assertEquals(
    reason(() => checkTxInputs(tx([outpoint(1)], [1n]), view, 20))[0],
    "bad-txns-inputs-missingorspent",
  );
  view.addCoin(outpoint(4), coin(MAX_MONEY + 1n, 10, false));
  assertEquals(
    reason(() => checkTxInputs(tx([outpoint(4)], [1n]), view, 20))[0],
    "bad-txns-inputvalues-outofrange",
  );
});

Deno.test("IsFinalTx: lock times by height and by time, and final sequences", () => {
  const locked = tx([outpoint(1)], [1n], { lockTime: 100 });
  assert(!isFinalTx(locked, 100, 0), "a lock time is the last invalid height");
  assert(isFinalTx(locked, 101, 0));
  const timed = tx([outpoint(1)], [1n], { lockTime: 1_700_000_000 });
  assert(!isFinalTx(timed, 1, 1_700_000_000));
  assert(isFinalTx(timed, 1, 1_700_000_001));
  timed.inputs[0].sequence = 0xffffffff;
  assert(isFinalTx(timed, 1, 0), "final sequences disable the lock time");
  assert(isFinalTx(tx([outpoint(1)], [1n]), 0, 0));
});

Deno.test("BIP 68: relative locks by height and by time; disabled by flag or version 1", () => {
  const mtp = (height: number) => 1_000_000 + height * 600;
  const byHeight = tx([outpoint(1)], [1n]);
  byHeight.inputs[0].sequence = 10;
  const heightLocks = calculateSequenceLocks(byHeight, [50], mtp);
  assertEquals(heightLocks, { minHeight: 59, minTime: -1 });
  assert(!sequenceLocksSatisfied(heightLocks, 59, mtp(58)));
  assert(sequenceLocksSatisfied(heightLocks, 60, mtp(59)));

  const byTime = tx([outpoint(1)], [1n]);
  byTime.inputs[0].sequence = (1 << 22) | 2; // 2 × 512 seconds
  const timeLocks = calculateSequenceLocks(byTime, [50], mtp);
  assertEquals(timeLocks, { minHeight: -1, minTime: mtp(49) + 1024 - 1 });
  assert(!sequenceLocksSatisfied(timeLocks, 100, mtp(49) + 1023));
  assert(sequenceLocksSatisfied(timeLocks, 100, mtp(49) + 1024));

  const disabled = tx([outpoint(1)], [1n]);
  disabled.inputs[0].sequence = (1 << 31) | 10;
  assertEquals(calculateSequenceLocks(disabled, [50], mtp), { minHeight: -1, minTime: -1 });
  assertEquals(calculateSequenceLocks({ ...byHeight, version: 1 }, [50], mtp), {
    minHeight: -1,
    minTime: -1,
  });
});

Deno.test("sigops: legacy counts in scripts; P2WPKH inputs cost one witness sigop", () => {
  const spending = tx([outpoint(1), outpoint(2)], [1n]);
  spending.outputs[0].script = key.pkh; // one CHECKSIG
  spending.outputs.push({ amount: 1n, script: Uint8Array.of(0x52, 0xae) }); // a bare CHECKMULTISIG: 20
  assertEquals(legacySigOpCount(spending), 21);
  const spent = [{ amount: 1n, script: key.wpkh }, { amount: 1n, script: key.tr }];
  assertEquals(txSigOpCost(spending, spent), 21 * 4 + 1);
});
