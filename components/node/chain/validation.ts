/**
 * Transaction and block rules with Bitcoin Core's reject reasons and
 * details: `CheckTransaction`, `Consensus::CheckTxInputs`, finality and
 * BIP 68 sequence locks, sigop counting, `CheckInputScripts`, and the block
 * checks (`CheckBlockHeader`, `CheckBlock`, `ContextualCheckBlockHeader`,
 * `ContextualCheckBlock`, `ConnectBlock`). Failures throw
 * {@linkcode ValidationError}. The transaction-level functions serve the
 * mempool as well as block connection.
 *
 * @example
 * ```ts
 * import { checkTransaction, ValidationError } from "./validation.ts";
 * import type { Tx } from "./tx.ts";
 * const empty: Tx = { version: 2, segwitFlag: false, inputs: [], outputs: [], lockTime: 0 };
 * try {
 *   checkTransaction(empty);
 *   throw new Error("an input-less transaction is invalid");
 * } catch (error) {
 *   if (!(error instanceof ValidationError) || error.reason !== "bad-txns-vin-empty") throw error;
 * }
 * ```
 * @module
 */
import { Script } from "@scure/btc-signer";
import { formatMoney, MAX_MONEY, moneyRange } from "../../bitcoin/amount.ts";
import {
  type Block,
  blockHash,
  type BlockHeader,
  blockSizes,
  merkleRoot,
  witnessCommitmentIndex,
  witnessCommitmentScript,
  witnessMerkleRoot,
} from "./block.ts";
import type { Coin, CoinsCache, CoinsView } from "./coins.ts";
import { bytesEqual, type Hash, hashToHex } from "./hash.ts";
import {
  blockSubsidy,
  COINBASE_MATURITY,
  LOCKTIME_THRESHOLD,
  MAX_BLOCK_SIGOPS_COST,
  MAX_BLOCK_WEIGHT,
  MAX_FUTURE_BLOCK_TIME,
  POW_LIMIT,
  POW_LIMIT_BITS,
  WITNESS_SCALE_FACTOR,
} from "./params.ts";
import { checkProofOfWork } from "./pow.ts";
import {
  isPayToScriptHash,
  parseScript,
  scriptErrorText,
  type SpentOutput,
  STANDARD_NOT_MANDATORY_VERIFY_FLAGS,
  witnessProgram,
} from "./script.ts";
import { TxScriptChecker } from "./interpreter.ts";
import {
  encodeTx,
  hasWitness,
  isCoinbase,
  isNullPrevout,
  type OutPoint,
  outpointKey,
  prevout,
  SEQUENCE_FINAL,
  signedAmount,
  type Tx,
  txid,
  valueOut,
  wtxid,
} from "./tx.ts";

/**
 * What kind of failure a {@linkcode ValidationError} is, after Core's
 * `TxValidationResult` and `BlockValidationResult`:
 * - `consensus`: breaks a consensus rule;
 * - `policy`: breaks only the mempool's standardness rules;
 * - `missing-inputs`: an input is missing or spent;
 * - `premature-spend`: spends an immature coinbase;
 * - `mutated`: the block's data does not match its header (merkle root,
 *   witness commitment): the header itself may still be valid;
 * - `invalid-header`: the header breaks a rule (proof of work, bits, time, version);
 * - `time-future`: the header is too far ahead of the node's clock;
 * - `unsupported`: a script this node does not validate (see `script.ts`).
 */
export type ValidationKind =
  | "consensus"
  | "policy"
  | "missing-inputs"
  | "premature-spend"
  | "mutated"
  | "invalid-header"
  | "time-future"
  | "unsupported";

/** A transaction or block that failed validation, with Core's reject reason and detail. */
export class ValidationError extends Error {
  /** Core's reject reason, e.g. `bad-txns-in-belowout`. */
  readonly reason: string;
  /** Core's debug message, e.g. `value in (1.50) < value out (1.60)`; may be empty. */
  readonly detail: string;
  readonly kind: ValidationKind;

  constructor(reason: string, detail = "", kind: ValidationKind = "consensus") {
    super(detail ? `${reason}, ${detail}` : reason);
    this.name = "ValidationError";
    this.reason = reason;
    this.detail = detail;
    this.kind = kind;
  }

  /** Whether only policy (standardness), not consensus, was broken. */
  get isPolicy(): boolean {
    return this.kind === "policy";
  }
}

function invalid(reason: string, detail = "", kind: ValidationKind = "consensus"): never {
  throw new ValidationError(reason, detail, kind);
}

/** `CheckTransaction`: context-free rules every transaction must meet. */
export function checkTransaction(tx: Tx): void {
  if (tx.inputs.length === 0) invalid("bad-txns-vin-empty");
  if (tx.outputs.length === 0) invalid("bad-txns-vout-empty");
  if (encodeTx(tx, false).length * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT) {
    invalid("bad-txns-oversize");
  }
  let total = 0n;
  for (const output of tx.outputs) {
    const amount = signedAmount(output.amount);
    if (amount < 0n) invalid("bad-txns-vout-negative");
    if (amount > MAX_MONEY) invalid("bad-txns-vout-toolarge");
    total += amount;
    if (!moneyRange(total)) invalid("bad-txns-txouttotal-toolarge");
  }
  const spent = new Set<string>();
  for (const input of tx.inputs) {
    const key = outpointKey(prevout(input));
    if (spent.has(key)) invalid("bad-txns-inputs-duplicate");
    spent.add(key);
  }
  if (isCoinbase(tx)) {
    const length = tx.inputs[0].finalScriptSig.length;
    if (length < 2 || length > 100) invalid("bad-cb-length");
  } else if (tx.inputs.some(isNullPrevout)) {
    invalid("bad-txns-prevout-null");
  }
}

/**
 * `Consensus::CheckTxInputs`: every input exists in `view`, coinbase inputs
 * are mature at `spendHeight` (the height of the block that would include
 * the transaction), amounts stay in range and cover the outputs. Returns the
 * fee. Call {@linkcode checkTransaction} first.
 */
export function checkTxInputs(tx: Tx, view: CoinsView, spendHeight: number): bigint {
  const coins = tx.inputs.map((input) => view.getCoin(prevout(input)));
  if (coins.some((coin) => coin === undefined)) {
    invalid(
      "bad-txns-inputs-missingorspent",
      "CheckTxInputs: inputs missing/spent",
      "missing-inputs",
    );
  }
  let valueIn = 0n;
  for (const coin of coins as Coin[]) {
    if (coin.coinbase && spendHeight - coin.height < COINBASE_MATURITY) {
      invalid(
        "bad-txns-premature-spend-of-coinbase",
        `tried to spend coinbase at depth ${spendHeight - coin.height}`,
        "premature-spend",
      );
    }
    valueIn += coin.amount;
    if (!moneyRange(coin.amount) || !moneyRange(valueIn)) {
      invalid("bad-txns-inputvalues-outofrange");
    }
  }
  const out = valueOut(tx);
  if (valueIn < out) {
    invalid(
      "bad-txns-in-belowout",
      `value in (${formatMoney(valueIn)}) < value out (${formatMoney(out)})`,
    );
  }
  const fee = valueIn - out;
  if (!moneyRange(fee)) invalid("bad-txns-fee-outofrange");
  return fee;
}

/** `IsFinalTx`: whether the lock time allows inclusion at `height` with block time `time`. */
export function isFinalTx(tx: Tx, height: number, time: number): boolean {
  if (tx.lockTime === 0) return true;
  if (tx.lockTime < (tx.lockTime < LOCKTIME_THRESHOLD ? height : time)) return true;
  return tx.inputs.every((input) => input.sequence === SEQUENCE_FINAL);
}

const SEQUENCE_LOCKTIME_DISABLE_FLAG = 1 << 31;
const SEQUENCE_LOCKTIME_TYPE_FLAG = 1 << 22;
const SEQUENCE_LOCKTIME_MASK = 0x0000ffff;
const SEQUENCE_LOCKTIME_GRANULARITY = 9;

/** The last invalid height and time of a transaction's relative lock times (BIP 68). */
export interface SequenceLocks {
  readonly minHeight: number;
  readonly minTime: number;
}

/**
 * `CalculateSequenceLocks`: BIP 68 locks of `tx`, whose input `i` spends a
 * coin created at `prevHeights[i]`, for inclusion in a block whose branch
 * has median time past `medianTimePastAt(h)` at height `h`.
 */
export function calculateSequenceLocks(
  tx: Tx,
  prevHeights: readonly number[],
  medianTimePastAt: (height: number) => number,
): SequenceLocks {
  let minHeight = -1;
  let minTime = -1;
  if (tx.version < 2) return { minHeight, minTime };
  tx.inputs.forEach((input, i) => {
    const sequence = input.sequence;
    if (sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG) return;
    const value = sequence & SEQUENCE_LOCKTIME_MASK;
    if (sequence & SEQUENCE_LOCKTIME_TYPE_FLAG) {
      const coinTime = medianTimePastAt(Math.max(prevHeights[i] - 1, 0));
      minTime = Math.max(minTime, coinTime + value * 2 ** SEQUENCE_LOCKTIME_GRANULARITY - 1);
    } else {
      minHeight = Math.max(minHeight, prevHeights[i] + value - 1);
    }
  });
  return { minHeight, minTime };
}

/** `EvaluateSequenceLocks`: whether locks allow a block at `height` whose parent's MTP is given. */
export function sequenceLocksSatisfied(
  locks: SequenceLocks,
  height: number,
  prevMedianTimePast: number,
): boolean {
  return locks.minHeight < height && locks.minTime < prevMedianTimePast;
}

/** `GetSigOpCount`: CHECKSIGs count 1, CHECKMULTISIGs 20 (or their key count when `accurate`). */
export function scriptSigOpCount(script: Uint8Array, accurate: boolean): number {
  let count = 0;
  let last = 0xff;
  for (const { opcode } of parseScript(script).ops) {
    if (opcode === 0xac || opcode === 0xad) count++;
    else if (opcode === 0xae || opcode === 0xaf) {
      count += accurate && last >= 0x51 && last <= 0x60 ? last - 0x50 : 20;
    }
    last = opcode;
  }
  return count;
}

/** `GetLegacySigOpCount`: sigops in every scriptSig and scriptPubKey, counted inaccurately. */
export function legacySigOpCount(tx: Tx): number {
  let count = 0;
  for (const input of tx.inputs) count += scriptSigOpCount(input.finalScriptSig, false);
  for (const output of tx.outputs) count += scriptSigOpCount(output.script, false);
  return count;
}

/** The last push of a push-only scriptSig (the P2SH redeem script), or undefined. */
function lastPush(scriptSig: Uint8Array): Uint8Array | undefined {
  const { ops, truncated } = parseScript(scriptSig);
  if (truncated || ops.some((op) => op.opcode > 0x60)) return undefined;
  return ops.length === 0 ? new Uint8Array() : (ops[ops.length - 1].data ?? new Uint8Array());
}

/** `CountWitnessSigOps` for one input. */
function witnessSigOps(
  scriptSig: Uint8Array,
  scriptPubKey: Uint8Array,
  witness: Uint8Array[],
): number {
  let program = witnessProgram(scriptPubKey);
  if (!program && isPayToScriptHash(scriptPubKey)) {
    const redeemScript = lastPush(scriptSig);
    program = redeemScript && witnessProgram(redeemScript);
  }
  if (!program || program.version !== 0) return 0;
  if (program.program.length === 20) return 1;
  if (program.program.length === 32 && witness.length > 0) {
    return scriptSigOpCount(witness[witness.length - 1], true);
  }
  return 0;
}

/**
 * `GetTransactionSigOpCost` with P2SH and witness counting on (as on
 * regtest): legacy and P2SH sigops × 4, plus witness sigops. `spent[i]` is
 * the output input `i` spends (unused for a coinbase).
 */
export function txSigOpCost(tx: Tx, spent: readonly SpentOutput[]): number {
  let cost = legacySigOpCount(tx) * WITNESS_SCALE_FACTOR;
  if (isCoinbase(tx)) return cost;
  tx.inputs.forEach((input, i) => {
    const script = spent[i].script;
    if (isPayToScriptHash(script)) {
      const redeemScript = lastPush(input.finalScriptSig);
      if (redeemScript) cost += scriptSigOpCount(redeemScript, true) * WITNESS_SCALE_FACTOR;
    }
    cost += witnessSigOps(input.finalScriptSig, script, tx.witnesses?.[i] ?? []);
  });
  return cost;
}

/**
 * `CheckInputScripts`: verifies every input under `flags`. A failure throws
 * `mempool-script-verify-flag-failed (<text>)` (kind `policy`) when `flags`
 * include policy-only flags, else `block-script-verify-flag-failed (<text>)`
 * (kind `consensus`, or `unsupported` for scripts this node does not
 * validate), with Core's detail `input <i> of <txid> (wtxid <wtxid>), spending <txid>:<n>`.
 */
export function checkInputScripts(tx: Tx, spent: readonly SpentOutput[], flags: number): void {
  if (isCoinbase(tx)) return;
  const failure = new TxScriptChecker(tx, spent).verifyAll(flags);
  if (!failure) return;
  const policy = (flags & STANDARD_NOT_MANDATORY_VERIFY_FLAGS) !== 0;
  const source = prevout(tx.inputs[failure.index]);
  invalid(
    `${policy ? "mempool" : "block"}-script-verify-flag-failed (${scriptErrorText(failure.error)})`,
    `input ${failure.index} of ${hashToHex(txid(tx))} (wtxid ${hashToHex(wtxid(tx))}), ` +
      `spending ${hashToHex(source.txid)}:${source.index}`,
    failure.error === "UNSUPPORTED" ? "unsupported" : policy ? "policy" : "consensus",
  );
}

/** `CheckBlockHeader`: the header's hash meets its own target. */
export function checkBlockHeader(header: BlockHeader): void {
  if (!checkProofOfWork(blockHash(header), header.bits, POW_LIMIT)) {
    invalid("high-hash", "proof of work failed", "invalid-header");
  }
}

/** Which parts of a block {@linkcode checkBlock} checks. */
export interface CheckBlockOptions {
  /** Check proof of work (default true). */
  readonly checkPow?: boolean;
  /** Check the merkle root (default true). */
  readonly checkMerkleRoot?: boolean;
}

/**
 * `CheckBlock`: context-free block rules — proof of work, merkle root and
 * CVE-2012-2459 duplicates, size, coinbase placement, every transaction's
 * {@linkcode checkTransaction}, legacy sigops. Returns the txids.
 */
export function checkBlock(block: Block, options: CheckBlockOptions = {}): Hash[] {
  if (options.checkPow ?? true) checkBlockHeader(block.header);
  const txids = block.txs.map(txid);
  if (options.checkMerkleRoot ?? true) {
    const { root, mutated } = merkleRoot(txids);
    if (!bytesEqual(root, block.header.merkleRoot)) {
      invalid("bad-txnmrklroot", "hashMerkleRoot mismatch", "mutated");
    }
    if (mutated) invalid("bad-txns-duplicate", "duplicate transaction", "mutated");
  }
  const { strippedSize } = blockSizes(block);
  if (
    block.txs.length === 0 || block.txs.length * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT ||
    strippedSize * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT
  ) {
    invalid("bad-blk-length", "size limits failed");
  }
  if (!isCoinbase(block.txs[0])) invalid("bad-cb-missing", "first tx is not coinbase");
  if (block.txs.slice(1).some(isCoinbase)) invalid("bad-cb-multiple", "more than one coinbase");
  block.txs.forEach((tx, i) => {
    try {
      checkTransaction(tx);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      // Core's detail ends in the (empty) CheckTransaction message after a space.
      invalid(error.reason, `Transaction check failed (tx hash ${hashToHex(txids[i])}) `);
    }
  });
  let sigOps = 0;
  for (const tx of block.txs) sigOps += legacySigOpCount(tx);
  if (sigOps * WITNESS_SCALE_FACTOR > MAX_BLOCK_SIGOPS_COST) {
    invalid("bad-blk-sigops", "out-of-bounds SigOpCount");
  }
  return txids;
}

/** What the rules need to know about the block a new block builds on. */
export interface ParentInfo {
  readonly height: number;
  /** Its median time past: the new block must be later, and lock times compare against it. */
  readonly medianTimePast: number;
}

/**
 * `ContextualCheckBlockHeader` on regtest: the bits must be the pow limit's,
 * the time after the parent's median time past and at most two hours ahead
 * of `now` (UNIX seconds), and the version at least 4 (BIP 34/66/65).
 */
export function contextualCheckBlockHeader(
  header: BlockHeader,
  parent: ParentInfo,
  now: number,
): void {
  if (header.bits !== POW_LIMIT_BITS) {
    invalid("bad-diffbits", "incorrect proof of work", "invalid-header");
  }
  if (header.time <= parent.medianTimePast) {
    invalid("time-too-old", "block's timestamp is too early", "invalid-header");
  }
  if (header.time > now + MAX_FUTURE_BLOCK_TIME) {
    invalid("time-too-new", "block timestamp too far in the future", "time-future");
  }
  if (header.version < 4) {
    const version = "0x" + (header.version >>> 0).toString(16).padStart(8, "0");
    invalid(`bad-version(${version})`, `rejected nVersion=${version} block`, "invalid-header");
  }
}

/** The coinbase scriptSig prefix BIP 34 requires at `height` (`CScript() << height`). */
export function coinbaseHeightPrefix(height: number): Uint8Array {
  return Script.encode([height]);
}

/**
 * `ContextualCheckBlock` on regtest: every transaction final at the
 * parent's median time past (BIP 113), the coinbase starting with the
 * height (BIP 34), the witness commitment (BIP 141) and the weight limit.
 */
export function contextualCheckBlock(block: Block, parent: ParentInfo): void {
  const height = parent.height + 1;
  for (const tx of block.txs) {
    if (!isFinalTx(tx, height, parent.medianTimePast)) {
      invalid("bad-txns-nonfinal", "non-final transaction");
    }
  }
  const prefix = coinbaseHeightPrefix(height);
  const scriptSig = block.txs[0].inputs[0].finalScriptSig;
  if (
    scriptSig.length < prefix.length || !bytesEqual(scriptSig.subarray(0, prefix.length), prefix)
  ) {
    invalid("bad-cb-height", "block height mismatch in coinbase");
  }
  checkWitnessMalleation(block);
  if (blockSizes(block).weight > MAX_BLOCK_WEIGHT) {
    invalid("bad-blk-weight", "ContextualCheckBlock : weight limit failed");
  }
}

/** `CheckWitnessMalleation` with segwit active: the commitment matches, or no witness data. */
function checkWitnessMalleation(block: Block): void {
  const index = witnessCommitmentIndex(block);
  if (index >= 0) {
    const stack = block.txs[0].witnesses?.[0] ?? [];
    if (stack.length !== 1 || stack[0].length !== 32) {
      invalid(
        "bad-witness-nonce-size",
        "CheckWitnessMalleation : invalid witness reserved value size",
        "mutated",
      );
    }
    const expected = witnessCommitmentScript(witnessMerkleRoot(block), stack[0]);
    const actual = block.txs[0].outputs[index].script.subarray(0, 38);
    if (!bytesEqual(expected, actual)) {
      invalid(
        "bad-witness-merkle-match",
        "CheckWitnessMalleation : witness merkle commitment mismatch",
        "mutated",
      );
    }
    return;
  }
  if (block.txs.some(hasWitness)) {
    invalid(
      "unexpected-witness",
      "CheckWitnessMalleation : unexpected witness data found",
      "mutated",
    );
  }
}

/** What {@linkcode connectBlock} needs to know about the block's place in its branch. */
export interface ConnectContext {
  /** Height of the block being connected. */
  readonly height: number;
  /** Median time past of its parent. */
  readonly prevMedianTimePast: number;
  /** Median time past of the block at `height` on this block's branch (for BIP 68 time locks). */
  medianTimePastAt(height: number): number;
}

/** The result of connecting a block: the coins its transactions spent, and its fees. */
export interface ConnectedBlock {
  /** For each non-coinbase transaction, the coins its inputs spent, in input order. */
  readonly undo: Coin[][];
  /** The sum of its transactions' fees. */
  readonly fees: bigint;
}

/** `IsUnspendable`: outputs never added to the UTXO set. */
export function isUnspendable(script: Uint8Array): boolean {
  return (script.length > 0 && script[0] === 0x6a) || script.length > 10_000;
}

/** Adds a transaction's spendable outputs to `view` (`AddCoins`). */
export function addCoins(view: CoinsCache, tx: Tx, txHash: Hash, height: number): void {
  const coinbase = isCoinbase(tx);
  tx.outputs.forEach((output, index) => {
    if (isUnspendable(output.script)) return;
    view.addCoin({ txid: txHash, index }, {
      amount: output.amount,
      script: output.script,
      height,
      coinbase,
    });
  });
}

/**
 * `ConnectBlock` after the header and context-free checks: BIP 30, inputs,
 * fees, BIP 68 locks, sigop cost, scripts (consensus flags), and the
 * coinbase amount; applies the block's spends and outputs to `view`.
 * Throws on the first failure, leaving `view` to be discarded.
 */
export function connectBlock(
  block: Block,
  context: ConnectContext,
  view: CoinsCache,
  flags: number,
  txids: readonly Hash[] = block.txs.map(txid),
): ConnectedBlock {
  block.txs.forEach((tx, i) => {
    tx.outputs.forEach((_, index) => {
      if (view.getCoin({ txid: txids[i], index })) {
        invalid("bad-txns-BIP30", "tried to overwrite transaction");
      }
    });
  });
  const undo: Coin[][] = [];
  let fees = 0n;
  let sigOpCost = 0;
  block.txs.forEach((tx, i) => {
    const txHex = hashToHex(txids[i]);
    let spent: Coin[] = [];
    if (i > 0) {
      try {
        fees += checkTxInputs(tx, view, context.height);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        throw new ValidationError(
          error.reason,
          `${error.detail} in transaction ${txHex}`,
          "consensus",
        );
      }
      if (!moneyRange(fees)) {
        invalid("bad-txns-accumulated-fee-outofrange", "accumulated fee in the block out of range");
      }
      const outpoints: OutPoint[] = tx.inputs.map(prevout);
      spent = outpoints.map((outpoint) => view.getCoin(outpoint)!);
      const locks = calculateSequenceLocks(
        tx,
        spent.map((coin) => coin.height),
        context.medianTimePastAt,
      );
      if (!sequenceLocksSatisfied(locks, context.height, context.prevMedianTimePast)) {
        invalid("bad-txns-nonfinal", `contains a non-BIP68-final transaction ${txHex}`);
      }
    }
    sigOpCost += txSigOpCost(tx, spent);
    if (sigOpCost > MAX_BLOCK_SIGOPS_COST) invalid("bad-blk-sigops", "too many sigops");
    if (i > 0) {
      checkInputScripts(tx, spent, flags);
      for (const input of tx.inputs) view.spendCoin(prevout(input));
      undo.push(spent);
    }
    addCoins(view, tx, txids[i], context.height);
  });
  const reward = fees + blockSubsidy(context.height);
  const paid = valueOut(block.txs[0]);
  if (paid > reward) {
    invalid("bad-cb-amount", `coinbase pays too much (actual=${paid} vs limit=${reward})`);
  }
  return { undo, fees };
}

/**
 * `DisconnectBlock`: removes a block's outputs from `view` and restores the
 * coins it spent from `undo` (as {@linkcode connectBlock} returned it).
 * Returns whether it was clean (Core's `DISCONNECT_OK`): every output was
 * unspent exactly as the block at `height` created it, and no restored
 * coin overwrote one. Throws when the undo data does not fit the block.
 */
export function disconnectBlock(
  block: Block,
  undo: readonly (readonly Coin[])[],
  view: CoinsCache,
  height: number,
  txids: readonly Hash[] = block.txs.map(txid),
): boolean {
  if (undo.length + 1 !== block.txs.length) throw new Error("block and undo data inconsistent");
  let clean = true;
  for (let i = block.txs.length - 1; i >= 0; i--) {
    const tx = block.txs[i];
    tx.outputs.forEach((output, index) => {
      if (isUnspendable(output.script)) return;
      const coin = view.spendCoin({ txid: txids[i], index });
      const same = coin !== undefined && coin.amount === output.amount &&
        bytesEqual(coin.script, output.script) && coin.height === height &&
        coin.coinbase === (i === 0);
      if (!same) clean = false;
    });
    if (i === 0) continue;
    const coins = undo[i - 1];
    if (coins.length !== tx.inputs.length) {
      throw new Error("transaction and undo data inconsistent");
    }
    for (let j = tx.inputs.length - 1; j >= 0; j--) {
      const outpoint = prevout(tx.inputs[j]);
      if (view.getCoin(outpoint)) clean = false;
      view.addCoin(outpoint, coins[j]);
    }
  }
  return clean;
}
