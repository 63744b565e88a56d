/**
 * The transaction memory pool, after Bitcoin Core v30's `MemPoolAccept` and
 * `CTxMemPool`: acceptance of single transactions (`sendrawtransaction`,
 * `testmempoolaccept` of one) and test acceptance of packages
 * (`testmempoolaccept` of several), with Core's checks in Core's order and
 * its reject reasons, details and RPC codes; full replace-by-fee; ancestor
 * and descendant limits with the CPFP carve-out; TRUC (version 3) rules;
 * expiry after 336 hours and eviction by descendant fee rate when the
 * estimated memory passes `-maxmempool`, raising the mempool minimum fee.
 *
 * The pool follows the chain through `ChainState.subscribe`: a connected
 * block removes its transactions (`block`) and what conflicts with them
 * (`conflict`); disconnected blocks' transactions are re-accepted at the
 * end of the chain's step (Core's `MaybeUpdateMempoolForReorg`, told
 * before the step's new blocks), and whatever became invalid — spends of vanished or
 * immature coinbases, non-final transactions and their descendants — is
 * removed (`reorg`).
 *
 * {@linkcode Mempool.save} and {@linkcode Mempool.load} keep it across
 * restarts in Core's `mempool.dat` format; `importmempool` loads such a
 * file with its own options.
 *
 * Fee deltas (`prioritisetransaction`) make a transaction's modified fee,
 * which fee policy, replacement, eviction and block selection judge it by
 * (its real fee still pays the miner); deltas of transactions not (yet) in
 * the mempool wait for them, and are kept in `mempool.dat`.
 *
 * Not modelled: package submission (`submitpackage`, package RBF, package
 * fee rates), peers
 * (transactions stay "unbroadcast"), and Core's second script check with
 * block flags (its standard flags include them; Core runs it to fill its
 * script cache).
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "./mempool.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   if (mempool.size !== 0 || mempool.minFeeRate() !== 100n) throw new Error("empty pool");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import {
  calculateSequenceLocks,
  type ChainState,
  checkInputScripts,
  checkTransaction,
  checkTxInputs,
  type Coin,
  COINBASE_MATURITY,
  CoinsCache,
  type CoinsView,
  encodeTx,
  formatMoney,
  type Hash,
  hashFromHex,
  hashToHex,
  hasWitness,
  isCoinbase,
  isFinalTx,
  MAX_BLOCK_SIGOPS_COST,
  MAX_BLOCK_WEIGHT,
  type OutPoint,
  outpointKey,
  prevout,
  sequenceLocksSatisfied,
  sha256d,
  STANDARD_SCRIPT_VERIFY_FLAGS,
  type Tx,
  txSigOpCost,
  ValidationError,
  WITNESS_SCALE_FACTOR,
} from "../chain/mod.ts";
import { type BumpFees, bumpFees } from "./bumpfee.ts";
import { dustFeeViolation, unspentDust } from "./ephemeral.ts";
import {
  compareHashes,
  entryUsage,
  LINK_USAGE,
  type MempoolEntry,
  parentKey,
  PoolEntry,
  spentKey,
} from "./entry.ts";
import { compareFeeRates, feeAtRate, feeRatePerKvB } from "./feerate.ts";
import { isChildWithParents, malformedPackageReason } from "./packages.ts";
import { encodeMempoolDump, MempoolFileError, MempoolFileReader } from "./persist.ts";
import {
  areInputsStandard,
  DEFAULT_MEMPOOL_POLICY,
  dustOutputs,
  isWitnessStandard,
  MAX_STANDARD_TX_SIGOPS_COST,
  MAX_STANDARD_TX_WEIGHT,
  type MempoolPolicy,
  MIN_STANDARD_TX_NONWITNESS_SIZE,
  nonStandardReason,
  virtualSize,
} from "./policy.ts";
import {
  addsUnconfirmedInput,
  entriesForConflicts,
  paysForReplacement,
  paysMoreThanConflicts,
  sortedByTxid,
  spendsConflictingTx,
} from "./rbf.ts";
import {
  ALREADY_IN_UTXO_SET,
  MAX_FEE_EXCEEDED,
  type MempoolReject,
  MISSING_INPUTS,
  refuse,
  rejection,
  TxRejected,
} from "./reject.ts";
import { selectPackages } from "./select.ts";
import { packageTrucChecks, singleTrucChecks, TRUC_VERSION } from "./truc.ts";

/** Why a transaction left the mempool (Core's `MemPoolRemovalReason`). */
export type RemovalReason = "expiry" | "sizelimit" | "reorg" | "block" | "conflict" | "replaced";

/** Receives mempool changes, synchronously, after the operation that made them. */
export interface MempoolListener {
  /** `sequence`: the mempool sequence the addition took (Core's `GetAndIncrementSequence`). */
  added?(entry: MempoolEntry, sequence: number): void;
  /**
   * Called for every removal, `block` included (Core's own notification
   * skips `block`), with the sequence the removal took.
   */
  removed?(tx: Tx, reason: RemovalReason, sequence: number): void;
}

/** The outcome for one transaction. */
export interface AcceptResult {
  readonly txid: Hash;
  readonly wtxid: Hash;
  /** Accepted (or, for test acceptance, would be). False without `reject`: not evaluated. */
  readonly accepted: boolean;
  /** Virtual size as the mempool charges it (sigop-adjusted). */
  readonly vsize?: number;
  /** The fee paid. */
  readonly fee?: bigint;
  /** Fee rate in sat/kvB that fee policy judged it by (`effective-feerate`). */
  readonly effectiveFeeRate?: bigint;
  /** Wtxids of the transactions that rate covers (`effective-includes`). */
  readonly effectiveIncludes?: Hash[];
  readonly reject?: MempoolReject;
  /** `sendrawtransaction` of a transaction whose txid is already in the mempool. */
  readonly alreadyInMempool?: boolean;
  /** A package-wide failure (`package-error`), on every result of the package. */
  readonly packageError?: string;
  /** Txids of the mempool transactions an accepted transaction replaced. */
  readonly replaced?: Hash[];
}

/** Options of {@linkcode Mempool.accept}. */
export interface AcceptOptions {
  /** Highest fee rate in sat/kvB (0: no limit); Core's default is 0.10 BTC/kvB. */
  readonly maxFeeRate?: bigint;
  /**
   * Highest fee in satoshis, instead of `maxFeeRate` (0: no limit): the
   * `max_tx_fee` of Core's `BroadcastTransaction` (IPC `broadcastTransaction`).
   */
  readonly maxFee?: bigint;
  /** Only check, as `testmempoolaccept` does; nothing is added or replaced. */
  readonly testOnly?: boolean;
}

/** One transaction's outcome in {@linkcode Mempool.submitPackage} (Core's `MempoolAcceptResult`). */
export interface PackageTxResult {
  readonly txid: Hash;
  readonly wtxid: Hash;
  /**
   * `accepted` (added now), `in-mempool` (it already was), `other-witness`
   * (its txid is, with another witness) or `refused`.
   */
  readonly outcome: "accepted" | "in-mempool" | "other-witness" | "refused";
  /** For `accepted` and `in-mempool`. */
  readonly vsize?: number;
  /** The base fee, for `accepted` and `in-mempool`. */
  readonly fee?: bigint;
  /** For `accepted`: the fee rate it was judged by (the package's, when judged with it). */
  readonly effectiveFeeRate?: bigint;
  /** For `accepted`: the wtxids that fee rate covers. */
  readonly effectiveIncludes?: Hash[];
  /** For `other-witness`: the wtxid of the mempool transaction. */
  readonly otherWtxid?: Hash;
  /** For `refused`. */
  readonly reject?: MempoolReject;
}

/** What {@linkcode Mempool.submitPackage} did. */
export interface PackageSubmission {
  /**
   * `success` when every transaction is in the mempool, else Core's
   * package error: `transaction failed`, `package-not-sorted`,
   * `TRUC-violation, …`, `package-mempool-limits, …`, `unspent-dust`, ….
   */
  readonly message: string;
  /** One per transaction, in package order; none when the package was refused before any was evaluated. */
  readonly results: PackageTxResult[];
  /** Txids of the mempool transactions replaced, in Core's (byte) order. */
  readonly replaced: Hash[];
}

/** What {@linkcode Mempool.load} counted, as Core logs it after loading `mempool.dat`. */
export interface MempoolLoadStats {
  succeeded: number;
  failed: number;
  /** Older than the expiry, not tried. */
  expired: number;
  alreadyThere: number;
  /** Txids the file marked unbroadcast. */
  unbroadcast: number;
}

/**
 * How {@linkcode Mempool.load} reads a file: Core's `ImportMempoolOptions`
 * (defaults as at start: the file's times, deltas and unbroadcast set
 * taken over), where its log lines go, and when it stops.
 */
export interface MempoolLoadOptions {
  /** `use_current_time`: the transactions arrive now, not at the file's times (default false). */
  readonly useCurrentTime?: boolean;
  /** `apply_fee_delta_priority`: the file's fee deltas are added to the mempool's (default true). */
  readonly applyFeeDeltaPriority?: boolean;
  /** `apply_unbroadcast_set`: the file's unbroadcast marks are taken over (default true). */
  readonly applyUnbroadcastSet?: boolean;
  /** Receives Core's log lines as they happen (none by default). */
  readonly log?: (line: string) => void;
  /** Stops the load between transactions (Core's `m_interrupt`): it then fails. */
  readonly signal?: AbortSignal;
}

/** What {@linkcode Mempool.load} did. */
export interface MempoolLoadResult {
  /** Whether the whole file was read (Core's `LoadMempool` result). */
  readonly loaded: boolean;
  /** The transactions tried (all zero when the file could not be read). */
  readonly stats: MempoolLoadStats;
  /** Why it was not `loaded`, in this node's words (Core logs some of it, not all). */
  readonly failure?: string;
  /** The path lies outside what this process may read (Deno's `NotCapable`: the sandbox). */
  readonly outsideSandbox?: boolean;
}

/** The latest arrival time a loaded transaction keeps (`Number.MAX_SAFE_INTEGER`). */
const MAX_SAFE_TIME = BigInt(Number.MAX_SAFE_INTEGER);

/** How long a load runs before the event loop gets a turn (milliseconds). */
const TURN_MS = 20;

/** A file {@linkcode readMempoolFile} refuses to read, and why. */
class RefusedFile extends Error {}

/**
 * The bytes of the mempool file at `path`: a regular file (a FIFO or a
 * device would block or never end) of at most `limit` bytes, read whole —
 * a file growing past `limit` meanwhile is refused too.
 */
async function readMempoolFile(path: string, limit: number): Promise<Uint8Array> {
  const info = await Deno.stat(path);
  if (!info.isFile) throw new RefusedFile("not a regular file");
  const tooLarge = (size: number) =>
    new RefusedFile(`${size} bytes, more than the ${limit} of this node's -maxmempool`);
  if (info.size > limit) throw tooLarge(info.size);
  using file = await Deno.open(path, { read: true });
  let buffer = new Uint8Array(Math.max(info.size, 4096));
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length > limit) throw tooLarge(length);
      const larger = new Uint8Array(Math.min(limit + 1, buffer.length * 2));
      larger.set(buffer);
      buffer = larger;
    }
    const read = await file.read(buffer.subarray(length));
    if (read === null) break;
    length += read;
  }
  if (length > limit) throw tooLarge(length);
  return buffer.subarray(0, length);
}

/** Why {@linkcode readMempoolFile} failed, in a few words. */
/** The `failure` of a {@linkcode Mempool.load} of a file that is not there. */
export const NO_MEMPOOL_FILE = "no such file";

function openFailure(error: unknown): string {
  if (error instanceof RefusedFile) return error.message;
  if (error instanceof Deno.errors.NotFound) return NO_MEMPOOL_FILE;
  if (error instanceof Deno.errors.NotCapable) return "outside what this process may read";
  return error instanceof Error ? error.message : String(error);
}

/** `sendrawtransaction`'s and `testmempoolaccept`'s default `maxfeerate`: 0.10 BTC/kvB. */
export const DEFAULT_MAX_FEE_RATE = 10_000_000n;

/** The height a coin created by a mempool transaction reports (Core's `MEMPOOL_HEIGHT`). */
export const MEMPOOL_HEIGHT = 0x7fffffff;

/** Core's `MAX_DISCONNECTED_TX_POOL_BYTES`: transactions of disconnected blocks kept for re-adding. */
const MAX_DISCONNECTED_BYTES = 20_000_000;
/** `ROLLING_FEE_HALFLIFE`: the mempool minimum fee halves in 12 hours. */
const ROLLING_FEE_HALFLIFE = 60 * 60 * 12;
/** `EXTRA_DESCENDANT_TX_SIZE_LIMIT`: the CPFP carve-out's size allowance. */
const EXTRA_DESCENDANT_TX_SIZE_LIMIT = 10_000;
/** Sigop cost Core reserves for the coinbase of a block template. */
const COINBASE_SIGOPS_RESERVE = 400;

/** A transaction under validation and what its checks found (Core's `Workspace`). */
interface Workspace {
  readonly tx: Tx;
  readonly txid: Hash;
  readonly wtxid: Hash;
  readonly key: string;
  readonly wtxidKey: string;
  readonly size: number;
  readonly strippedSize: number;
  readonly weight: number;
  /** The mempool transactions it directly replaces (inputs, or a TRUC sibling). */
  readonly conflicts: Set<PoolEntry>;
  coins: Coin[];
  fee: bigint;
  /** `fee` plus the transaction's fee delta. */
  modifiedFee: bigint;
  sigOpCost: number;
  vsize: number;
  ancestors: PoolEntry[];
  siblingEviction: boolean;
}

/** How one acceptance runs (Core's `ATMPArgs`). */
interface AcceptArgs {
  readonly testOnly: boolean;
  /** Re-adding a disconnected block's transaction: no fee floors, no trimming. */
  readonly bypassLimits: boolean;
  readonly allowReplacement: boolean;
  readonly allowSiblingEviction: boolean;
  readonly allowCarveouts: boolean;
  readonly unbroadcast: boolean;
  readonly maxFeeRate: bigint;
  /** An absolute maximum fee, replacing `maxFeeRate`. */
  readonly maxFee?: bigint;
  /** Arrival time to record (a transaction loaded from `mempool.dat`); now by default. */
  readonly time?: number;
  /** Outputs of earlier transactions of the package under test. */
  readonly packageCoins?: Map<string, Coin>;
  /** A package judged by its fee rate: no fee-rate check of the transaction alone. */
  readonly packageFeerates?: boolean;
  /** `submitpackage`'s `maxfeerate` (sat/kvB) on the modified fee rate, after `PreChecks`. */
  readonly clientMaxFeeRate?: bigint;
  /** Part of a package submission: the mempool is trimmed once, at its end. */
  readonly deferTrim?: boolean;
}

/** Ancestor and descendant limits (Core's `CTxMemPool::Limits`). */
interface Limits {
  ancestorCount: number;
  ancestorSize: number;
  descendantCount: number;
  descendantSize: number;
}

/** A pending listener notification. */
type MempoolEvent =
  | { kind: "added"; entry: PoolEntry; sequence: number }
  | { kind: "removed"; entry: PoolEntry; reason: RemovalReason; sequence: number };

/** The identity and sizes of a transaction, from one serialization each way. */
function workspace(tx: Tx): Workspace {
  const stripped = encodeTx(tx, false);
  const full = hasWitness(tx) ? encodeTx(tx, true) : stripped;
  const txid = sha256d(stripped);
  const wtxid = full === stripped ? txid : sha256d(full);
  return {
    tx,
    txid,
    wtxid,
    key: hashToHex(txid),
    wtxidKey: hashToHex(wtxid),
    size: full.length,
    strippedSize: stripped.length,
    weight: stripped.length * (WITNESS_SCALE_FACTOR - 1) + full.length,
    conflicts: new Set(),
    coins: [],
    fee: 0n,
    modifiedFee: 0n,
    sigOpCost: 0,
    vsize: 0,
    ancestors: [],
    siblingEviction: false,
  };
}

/** A package's members as the package rules see them. */
function packageTxs(workspaces: readonly Workspace[]) {
  return workspaces.map((ws) => ({
    tx: ws.tx,
    txid: ws.key,
    wtxid: ws.wtxidKey,
    weight: ws.weight,
  }));
}

/** Rethrows a chain `ValidationError` as a reject with its reason and detail. */
function refuseInvalid(error: unknown): never {
  if (error instanceof ValidationError) refuse(error.reason, error.detail || undefined);
  throw error;
}

/** What `check` refused the transaction for, or undefined when it passed. */
function rejectOf(check: () => void): MempoolReject | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof TxRejected) return error.reject;
    throw error;
  }
}

/** The result of a refused transaction. */
function refusedResult(ws: Workspace, reject: MempoolReject): AcceptResult {
  return { txid: ws.txid, wtxid: ws.wtxid, accepted: false, reject };
}

/** The result of a transaction judged on its own fee rate, which passed. */
function acceptedResult(ws: Workspace): AcceptResult {
  return {
    txid: ws.txid,
    wtxid: ws.wtxid,
    accepted: true,
    vsize: ws.vsize,
    fee: ws.fee,
    effectiveFeeRate: feeRatePerKvB(ws.modifiedFee, ws.vsize),
    effectiveIncludes: [ws.wtxid],
  };
}

/** A transaction's ids, for a package result. */
function ids(ws: Workspace): { txid: Hash; wtxid: Hash } {
  return { txid: ws.txid, wtxid: ws.wtxid };
}

/** A package member accepted on its own fee rate. */
function acceptedAlone(result: AcceptResult): PackageTxResult {
  const { txid, wtxid, vsize, fee, effectiveFeeRate, effectiveIncludes } = result;
  return { txid, wtxid, outcome: "accepted", vsize, fee, effectiveFeeRate, effectiveIncludes };
}

/**
 * Whether Core marks the refusal `TX_RECONSIDERABLE` (a fee-rate failure a
 * package may overcome), or it is `TX_MISSING_INPUTS` (a parent may be
 * such a one): the mempool minimum, the relay minimum of a TRUC
 * transaction (others are held to it alone), and RBF's fee rules.
 */
function reconsiderable(tx: Tx, reject: MempoolReject): boolean {
  return reject === MISSING_INPUTS || reject.reason === "mempool min fee not met" ||
    (reject.reason === "min relay fee not met" && tx.version === TRUC_VERSION) ||
    reject.reason.startsWith("insufficient fee");
}

/** Core's `SaturatingAdd` bound: a sum kept within the int64 range. */
function clampInt64(value: bigint): bigint {
  const max = 2n ** 63n - 1n;
  return value > max ? max : value < -max - 1n ? -max - 1n : value;
}

/** Inserts `entry` into `sorted` (by txid bytes) unless present: Core's `std::set` insert. */
function insertSorted(sorted: PoolEntry[], entry: PoolEntry): void {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    const order = compareHashes(sorted[middle].txid, entry.txid);
    if (order === 0) return;
    if (order < 0) low = middle + 1;
    else high = middle;
  }
  sorted.splice(low, 0, entry);
}

/** The transaction memory pool of one chain. */
export class Mempool implements Disposable {
  /** The options in force: Core's defaults overridden by the constructor's. */
  readonly policy: Readonly<MempoolPolicy>;
  readonly #chain: ChainState;
  readonly #entries = new Map<string, PoolEntry>();
  readonly #byWtxid = new Map<string, PoolEntry>();
  /** Which entry spends each outpoint (Core's `mapNextTx`). */
  readonly #spenders = new Map<string, PoolEntry>();
  /** `prioritisetransaction` deltas by txid (display hex), in or out of the pool (`mapDeltas`). */
  readonly #deltas = new Map<string, bigint>();
  readonly #listeners = new Set<MempoolListener>();
  readonly #subscription: Disposable;
  #events: MempoolEvent[] = [];
  /** Transactions of disconnected blocks, oldest block first, awaiting the end of the step. */
  #disconnected: { tx: Tx; key: string; usage: number }[] = [];
  #disconnectedUsage = 0;
  #bytes = 0;
  #usage = 0;
  #links = 0;
  #totalFee = 0n;
  #sequence = 1;
  #rollingMinFee = 0;
  /** No entry arrived before this (a lower bound, tightened when expiry scans). */
  #earliestTime = Infinity;
  #lastRollingFeeUpdate: number;
  #blockSinceLastRollingFeeBump = false;

  /** A mempool following `chain`, with Core v30's policy except where `policy` says otherwise. */
  constructor(chain: ChainState, policy: Partial<MempoolPolicy> = {}) {
    this.policy = Object.freeze({ ...DEFAULT_MEMPOOL_POLICY, ...policy });
    this.#chain = chain;
    this.#lastRollingFeeUpdate = chain.now();
    this.#subscription = chain.subscribe({
      tipConnected: ({ block, txids }) =>
        this.#notifying(() => this.#blockConnected(block.txs, txids)),
      blockDisconnected: ({ block, txids }) => this.#blockDisconnected(block.txs, txids),
      reorganized: (readd) => this.#notifying(() => this.#settle(readd)),
    });
  }

  /** Stops following the chain. */
  [Symbol.dispose](): void {
    this.#subscription[Symbol.dispose]();
  }

  /** Number of transactions. */
  get size(): number {
    return this.#entries.size;
  }

  /** Sum of the transactions' virtual sizes (`bytes` of `getmempoolinfo`). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Estimated memory in bytes (`usage`), which `-maxmempool` bounds. */
  get usage(): number {
    return this.#usage + this.#links * 2 * LINK_USAGE;
  }

  /** Sum of the transactions' fees (`total_fee`). */
  get totalFee(): bigint {
    return this.#totalFee;
  }

  /** Transactions not yet announced to a peer (`unbroadcastcount`). */
  get unbroadcastCount(): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.unbroadcast) count++;
    return count;
  }

  /** Counts every addition and removal (`mempool_sequence`); starts at 1. */
  get sequence(): number {
    return this.#sequence;
  }

  /**
   * Validates `tx` and, unless `testOnly`, adds it (replacing what it
   * conflicts with), as `sendrawtransaction` does: a transaction whose
   * txid is already in the mempool is reported `alreadyInMempool`, one
   * whose outputs are in the UTXO set is refused with -27, and a fee above
   * `maxFeeRate` is refused with -25. With `testOnly` it answers as
   * `testmempoolaccept` does for one transaction.
   */
  accept(tx: Tx, options: AcceptOptions = {}): AcceptResult {
    return this.#notifying(() => {
      this.#settle();
      const testOnly = options.testOnly ?? false;
      const ws = workspace(tx);
      if (!testOnly) {
        const confirmed = tx.outputs.some((_, index) =>
          this.#chain.getCoin({ txid: ws.txid, index })
        );
        if (confirmed) {
          return refusedResult(ws, ALREADY_IN_UTXO_SET);
        }
        const existing = this.#entries.get(ws.key);
        if (existing) {
          return {
            txid: existing.txid,
            wtxid: existing.wtxid,
            accepted: true,
            alreadyInMempool: true,
          };
        }
      }
      return this.#acceptSingle(ws, {
        testOnly,
        bypassLimits: false,
        allowReplacement: true,
        allowSiblingEviction: true,
        allowCarveouts: true,
        unbroadcast: true,
        maxFeeRate: options.maxFeeRate ?? DEFAULT_MAX_FEE_RATE,
        maxFee: options.maxFee,
      });
    });
  }

  /**
   * `testmempoolaccept`: one transaction is checked as {@linkcode accept}
   * with `testOnly`; several (at most 25, parents first) as a package,
   * which may not replace mempool transactions and stops at the first
   * failure — results after it have only their ids (`accepted` false, no
   * `reject`), a package-wide failure sets `packageError` on all.
   */
  testAccept(txs: readonly Tx[], options: { maxFeeRate?: bigint } = {}): AcceptResult[] {
    const maxFeeRate = options.maxFeeRate ?? DEFAULT_MAX_FEE_RATE;
    if (txs.length === 1) return [this.accept(txs[0], { maxFeeRate, testOnly: true })];
    return this.#notifying(() => {
      this.#settle();
      return this.#testPackage(txs, maxFeeRate);
    });
  }

  /**
   * `ProcessNewPackage` for `submitpackage` (Core's `AcceptPackage`): a
   * well-formed package of one child and its parents (or one transaction).
   * Each transaction not already in the mempool is first tried alone;
   * those refused only for their fee rate (or for inputs such a one would
   * provide) are then judged together by the package's fee rate and added
   * together or not at all (a TRUC parent below the relay fee paid for by
   * its child). The mempool is trimmed once at the end. Replacements by a
   * package judged together (Core's package RBF) are not made: such a
   * member is refused `bip125-replacement-disallowed`. `maxFeeRate`
   * (sat/kvB, 0: none; the default is 0.10 BTC/kvB) caps each
   * transaction's modified fee rate. Added transactions are not marked
   * unbroadcast (Core's `BroadcastTransaction` finds them in the mempool).
   */
  submitPackage(txs: readonly Tx[], options: { maxFeeRate?: bigint } = {}): PackageSubmission {
    return this.#notifying(() => {
      this.#settle();
      return this.#submitPackage(txs.map(workspace), options.maxFeeRate ?? DEFAULT_MAX_FEE_RATE);
    });
  }

  /** The entry of a mempool transaction, by txid (internal bytes, or display hex). */
  get(txid: Hash | string): MempoolEntry | undefined {
    return this.#entries.get(typeof txid === "string" ? txid : hashToHex(txid));
  }

  /**
   * Core's `GetTransactionAncestry`: the in-mempool ancestors of `txid`,
   * itself included, and the most descendants one of its ancestors
   * without in-mempool parents has (the chain a child of it would
   * lengthen); 0 and 0 when it is not here.
   */
  ancestry(txid: Hash | string): { ancestors: number; descendants: number } {
    const entry = this.#entries.get(typeof txid === "string" ? txid : hashToHex(txid));
    if (entry === undefined) return { ancestors: 0, descendants: 0 };
    let descendants = 0;
    for (const ancestor of [entry, ...entry.ancestors()]) {
      if (ancestor.parents.size === 0) {
        descendants = Math.max(descendants, ancestor.descendantCount);
      }
    }
    return { ancestors: entry.ancestorCount, descendants };
  }

  /**
   * Core's `checkChainLimits` (v30, before cluster limits): `tx` alone
   * against the ancestor and descendant limits, as `CheckPackageLimits`
   * counts a package of one sized as its virtual size without sigops (the
   * entry Core makes for it has none); null when it keeps to them, else
   * Core's text (`possibly too many unconfirmed ancestors [limit: 25]`).
   */
  checkChainLimits(tx: Tx): string | null {
    return this.#packageLimits([{ tx, vsize: virtualSize(workspace(tx).weight, 0, 0) }]);
  }

  /** Whether a transaction with this txid is in the mempool. */
  has(txid: Hash | string): boolean {
    return this.get(txid) !== undefined;
  }

  /**
   * Every entry, ancestors before descendants, in Core's `getrawmempool`
   * order (fewest ancestors first, then higher fee rate, then txid).
   */
  entries(): MempoolEntry[] {
    return [...this.#entries.values()].sort((a, b) =>
      a.ancestorCount - b.ancestorCount ||
      compareFeeRates(b.modifiedFee, b.vsize, a.modifiedFee, a.vsize) ||
      compareHashes(b.txid, a.txid)
    );
  }

  /** `mempoolminfee`: the rolling minimum after evictions, never below the min relay fee (sat/kvB). */
  minFeeRate(): bigint {
    const rolling = this.#rollingMinFeeRate();
    return rolling > this.policy.minRelayFeeRate ? rolling : this.policy.minRelayFeeRate;
  }

  /**
   * A view of the chain's UTXO set plus mempool outputs (at height
   * {@linkcode MEMPOOL_HEIGHT}), minus outputs mempool transactions spend:
   * `gettxout` with `include_mempool`. With `includeSpent` those stay
   * (Core's `CCoinsViewMemPool`, which signing looks coins up in).
   */
  coins(options: { includeSpent?: boolean } = {}): CoinsView {
    const view = this.#validationView();
    if (options.includeSpent) return view;
    return {
      getCoin: (outpoint) =>
        this.#spenders.has(outpointKey(outpoint)) ? undefined : view.getCoin(outpoint),
    };
  }

  /**
   * `PrioritiseTransaction`: adds `delta` satoshis to the fee the mempool
   * judges `txid` by (saturating at the int64 range), now if it is here,
   * else once it arrives; a total of zero forgets the delta. Returns
   * Core's log line.
   */
  prioritise(txid: Hash, delta: bigint): string {
    const key = hashToHex(txid);
    const total = clampInt64((this.#deltas.get(key) ?? 0n) + delta);
    const entry = this.#entries.get(key);
    if (entry) {
      entry.feeDelta += delta;
      for (const ancestor of entry.ancestors()) ancestor.descendantFees += delta;
      for (const descendant of entry.descendants()) descendant.ancestorFees += delta;
      entry.ancestorFees += delta;
      entry.descendantFees += delta;
    }
    const where = entry ? "in mempool" : "not in mempool";
    if (total === 0n) {
      this.#deltas.delete(key);
      return `PrioritiseTransaction: ${key} (${where}) delta cleared`;
    }
    this.#deltas.set(key, total);
    return `PrioritiseTransaction: ${key} (${where}) fee += ${formatMoney(delta)}, new delta=${
      formatMoney(total)
    }`;
  }

  /**
   * `GetPrioritisedTransactions`: every delta, in txid byte order, with
   * whether its transaction is here and then its modified fee.
   */
  prioritisedTransactions(): { txid: Hash; delta: bigint; modifiedFee?: bigint }[] {
    return [...this.#deltas].map(([key, delta]) => ({
      txid: hashFromHex(key),
      delta,
      modifiedFee: this.#entries.get(key)?.modifiedFee,
    })).sort((a, b) => compareHashes(a.txid, b.txid));
  }

  /** The txid of the mempool transaction spending `outpoint`, if any. */
  spender(outpoint: OutPoint): Hash | undefined {
    return this.#spenders.get(outpointKey(outpoint))?.txid;
  }

  /**
   * What a transaction spending each of `outpoints` must add to its fee at
   * `feeRate` (sat/kvB) for their unconfirmed ancestors to reach that rate,
   * alone and all together (Core's MiniMiner, `bumpfee.ts`); null when their
   * cluster is too large to reckon.
   */
  bumpFees(outpoints: readonly OutPoint[], feeRate: bigint): BumpFees | null {
    return bumpFees(
      outpoints.map((outpoint) => ({
        parent: this.#entries.get(hashToHex(outpoint.txid)),
        spender: this.#spenders.get(outpointKey(outpoint)),
      })),
      feeRate,
    );
  }

  /**
   * Transactions for a block template (`BlockAssembler::addPackageTxs`):
   * by ancestor fee rate, parents first, while 4 × vsize stays below
   * `maxWeight` (Core passes 4,000,000 − 8,000 reserved for the coinbase)
   * and the sigop cost below `maxSigOpsCost`, above the block minimum fee.
   */
  selectForBlock(
    maxWeight: number,
    maxSigOpsCost = MAX_BLOCK_SIGOPS_COST - COINBASE_SIGOPS_RESERVE,
  ): { tx: Tx; fee: bigint; sigops: number }[] {
    this.#notifying(() => this.#settle());
    return selectPackages(
      this.#entries.values(),
      maxWeight,
      maxSigOpsCost,
      this.policy.blockMinFeeRate,
    ).map((entry) => ({ tx: entry.tx, fee: entry.fee, sigops: entry.sigOpCost }));
  }

  /**
   * `DumpMempool`: writes every transaction (parents first) with its
   * arrival time, and the unbroadcast txids, to `path` as Core's
   * `mempool.dat` version 2 (version 1 with `-persistmempoolv1`) — through
   * `<path>.new`, synced, then renamed.
   */
  save(path: string): void {
    const entries = this.entries();
    const bytes = encodeMempoolDump({
      entries: entries.map((entry) => ({
        tx: entry.tx,
        time: BigInt(entry.time),
        feeDelta: entry.feeDelta,
      })),
      deltas: [...this.#deltas].filter(([key]) => !this.#entries.has(key))
        .map(([key, delta]) => ({ txid: hashFromHex(key), delta })),
      unbroadcast: entries.filter((entry) => entry.unbroadcast).map((entry) => entry.txid)
        .sort(compareHashes),
    }, this.policy.persistV1Dat ? null : undefined);
    const partial = `${path}.new`;
    {
      // The owner's only, as bitcoind's files are (umask 077).
      using file = Deno.openSync(partial, {
        write: true,
        create: true,
        truncate: true,
        mode: 0o600,
      });
      for (let written = 0; written < bytes.length;) {
        written += file.writeSync(bytes.subarray(written));
      }
      file.syncSync();
    }
    Deno.renameSync(partial, path);
  }

  /**
   * `LoadMempool` with `ImportMempoolOptions` (at start: Core's defaults,
   * the file's arrival times, fee deltas and unbroadcast set applied;
   * `importmempool` chooses): accepts the transactions of a `mempool.dat`
   * (version 1 or 2) one by one as they are read — each fee delta applied
   * first, those past expiry skipped — then applies the fee-delta map and
   * marks the unbroadcast transactions. Core's log lines go to `log` as
   * they happen. Never throws: a file that cannot be read, of an unknown
   * version (Core says nothing of it), damaged, or interrupted by `signal`
   * is not `loaded` (Core's `false`), keeping what was accepted before.
   *
   * A file is read whole only when it is a regular file of at most
   * `-maxmempool` bytes (no mempool this node holds serializes to more),
   * and decoded a transaction at a time ({@linkcode MempoolFileReader}):
   * a transaction larger than any this mempool accepts is counted as
   * failed without being built. The event loop gets a turn every few
   * milliseconds, so the node keeps answering while a large file loads.
   */
  async load(path: string, options: MempoolLoadOptions = {}): Promise<MempoolLoadResult> {
    const log = options.log ?? (() => {});
    const stats = { succeeded: 0, failed: 0, expired: 0, alreadyThere: 0, unbroadcast: 0 };
    const useCurrentTime = options.useCurrentTime ?? false;
    const applyDeltas = options.applyFeeDeltaPriority ?? true;
    const applyUnbroadcast = options.applyUnbroadcastSet ?? true;
    let bytes: Uint8Array;
    try {
      bytes = await readMempoolFile(path, this.policy.maxMempoolBytes);
    } catch (error) {
      log("Failed to open mempool file. Continuing anyway.");
      return {
        loaded: false,
        stats,
        failure: openFailure(error),
        ...(error instanceof Deno.errors.NotCapable ? { outsideSandbox: true } : {}),
      };
    }
    let turn = performance.now();
    const pause = async () => {
      if (performance.now() - turn < TURN_MS) return;
      await new Promise((resolve) => setTimeout(resolve, 0));
      turn = performance.now();
    };
    const now = this.#chain.now();
    const cutoff = BigInt(now - this.policy.expirySeconds);
    const maxTxBytes = this.policy.requireStandard ? MAX_STANDARD_TX_WEIGHT : MAX_BLOCK_WEIGHT;
    try {
      const reader = new MempoolFileReader(bytes, { inPlace: true });
      if (!reader.supported) {
        return { loaded: false, stats, failure: `unknown mempool file version ${reader.version}` };
      }
      const total = reader.start();
      log(`Loading ${total} mempool transactions from file...`);
      let nextTenth = 0;
      for (let tried = 0n; tried < total;) {
        const percentage = Math.floor((100 * Number(tried)) / Number(total));
        if (nextTenth < Math.floor(percentage / 10)) {
          log(
            `Progress loading mempool transactions from file: ${percentage}% (tried ${tried}, ${
              total - tried
            } remaining)`,
          );
          nextTenth = Math.floor(percentage / 10);
        }
        tried++;
        const walk = reader.nextEntry(maxTxBytes);
        let step = walk.next();
        for (; !step.done; step = walk.next()) await pause();
        const entry = step.value;
        const time = useCurrentTime ? BigInt(now) : entry.time;
        if (entry.feeDelta !== 0n && applyDeltas) log(this.prioritise(entry.txid, entry.feeDelta));
        if (time > cutoff) {
          const { tx } = entry;
          const accepted = tx !== null && this.#notifying(() => {
            this.#settle();
            return this.#acceptSingle(workspace(tx), {
              testOnly: false,
              bypassLimits: false,
              allowReplacement: true,
              allowSiblingEviction: true,
              allowCarveouts: true,
              unbroadcast: false,
              maxFeeRate: 0n,
              // A time past 2^53 seconds (a file's say) is kept at 2^53 - 1: exact, and saved back
              // as the 64-bit number it is.
              time: Number(time > MAX_SAFE_TIME ? MAX_SAFE_TIME : time),
            }).accepted;
          });
          if (accepted) stats.succeeded++;
          else if (this.#entries.has(hashToHex(entry.txid))) stats.alreadyThere++;
          else stats.failed++;
        } else {
          stats.expired++;
        }
        if (options.signal?.aborted) return { loaded: false, stats, failure: "interrupted" };
        await pause();
      }
      const deltas = reader.readDeltas();
      if (applyDeltas) {
        for (const i of await deltas.distinct(pause)) {
          log(this.prioritise(deltas.txid(i), deltas.value(i)));
          await pause();
        }
      }
      const unbroadcast = reader.readUnbroadcast();
      if (applyUnbroadcast) {
        const distinct = await unbroadcast.distinct(pause);
        stats.unbroadcast = distinct.length;
        for (const i of distinct) {
          const entry = this.#entries.get(hashToHex(unbroadcast.txid(i)));
          if (entry) entry.unbroadcast = true;
        }
      }
    } catch (error) {
      if (!(error instanceof MempoolFileError)) throw error;
      log(`Failed to deserialize mempool data on file: ${error.message}. Continuing anyway.`);
      return { loaded: false, stats, failure: error.message };
    }
    log(
      `Imported mempool transactions from file: ${stats.succeeded} succeeded, ${stats.failed} failed, ${stats.expired} expired, ${stats.alreadyThere} already there, ${stats.unbroadcast} waiting for initial broadcast`,
    );
    return { loaded: true, stats };
  }

  /** Registers a listener; dispose the result to remove it. */
  subscribe(listener: MempoolListener): Disposable {
    this.#listeners.add(listener);
    return { [Symbol.dispose]: () => this.#listeners.delete(listener) };
  }

  // --- acceptance -------------------------------------------------------

  /** `AcceptSingleTransaction`. */
  #acceptSingle(ws: Workspace, args: AcceptArgs): AcceptResult {
    const { tx } = ws;
    let replaced = new Set<PoolEntry>();
    const reject = rejectOf(() => {
      this.#preChecks(ws, args);
      if (this.policy.requireStandard) {
        const dust = unspentDust(
          [{ tx, txid: ws.key, wtxid: ws.wtxidKey }],
          (txid) => this.#entries.get(txid)?.tx,
          this.policy.dustRelayFeeRate,
        );
        if (dust) refuse("missing-ephemeral-spends", dust.detail);
      }
      if (ws.conflicts.size > 0) replaced = this.#replacementChecks(ws);
      this.#scriptChecks(ws);
      const feeVsize = args.testOnly ? ws.vsize : Math.ceil(ws.weight / WITNESS_SCALE_FACTOR);
      const maxFee = args.maxFee ?? feeAtRate(args.maxFeeRate, feeVsize);
      if (maxFee > 0n && ws.fee > maxFee) throw new TxRejected(MAX_FEE_EXCEEDED);
    });
    if (reject) return refusedResult(ws, reject);
    if (args.testOnly) return acceptedResult(ws);
    const success: AcceptResult = {
      ...acceptedResult(ws),
      replaced: [...replaced].map((entry) => entry.txid),
    };
    this.#removeEntries(replaced, "replaced");
    const entry = this.#newEntry(ws, args);
    this.#addEntry(entry, ws.ancestors);
    if (!args.bypassLimits && !args.deferTrim) {
      this.#limitSize();
      if (!this.#entries.has(ws.key)) {
        // Evicted at once: it was never announced, so neither is its removal.
        this.#events = this.#events.filter((event) => event.entry !== entry);
        return {
          txid: ws.txid,
          wtxid: ws.wtxid,
          accepted: false,
          reject: rejection("mempool full"),
        };
      }
    }
    this.#events.push({ kind: "added", entry, sequence: this.#sequence++ });
    return success;
  }

  /** `PreChecks`: everything but replacement and script checks, in Core's order. */
  #preChecks(ws: Workspace, args: AcceptArgs): void {
    const { tx } = ws;
    const policy = this.policy;
    try {
      checkTransaction(tx);
    } catch (error) {
      refuseInvalid(error);
    }
    if (isCoinbase(tx)) refuse("coinbase");
    if (policy.requireStandard) {
      const reason = nonStandardReason(tx, ws.weight, policy);
      if (reason) refuse(reason);
    }
    if (ws.strippedSize < MIN_STANDARD_TX_NONWITNESS_SIZE) refuse("tx-size-small");
    const tip = this.#chain.tip;
    const height = tip.height + 1;
    const medianTimePast = this.#chain.medianTimePast(tip);
    if (!isFinalTx(tx, height, medianTimePast)) refuse("non-final");
    if (this.#byWtxid.has(ws.wtxidKey)) refuse("txn-already-in-mempool");
    if (this.#entries.has(ws.key)) refuse("txn-same-nonwitness-data-in-mempool");
    for (const input of tx.inputs) {
      const spender = this.#spenders.get(spentKey(input));
      if (!spender) continue;
      if (!args.allowReplacement) refuse("bip125-replacement-disallowed");
      ws.conflicts.add(spender);
    }
    const view = new CoinsCache(this.#validationView(args.packageCoins));
    for (const input of tx.inputs) {
      const coin = view.getCoin(prevout(input));
      if (!coin) {
        const known = tx.outputs.some((_, index) => this.#chain.getCoin({ txid: ws.txid, index }));
        if (known) refuse("txn-already-known");
        throw new TxRejected(MISSING_INPUTS);
      }
      ws.coins.push(coin);
    }
    const locks = calculateSequenceLocks(
      tx,
      ws.coins.map((coin) => coin.height === MEMPOOL_HEIGHT ? height : coin.height),
      (at) => this.#chain.medianTimePast(this.#chain.entryAtHeight(at)!),
    );
    if (!sequenceLocksSatisfied(locks, height, medianTimePast)) refuse("non-BIP68-final");
    try {
      ws.fee = checkTxInputs(tx, view, height);
    } catch (error) {
      refuseInvalid(error);
    }
    ws.modifiedFee = ws.fee + (this.#deltas.get(ws.key) ?? 0n);
    if (policy.requireStandard && !areInputsStandard(tx, ws.coins)) {
      refuse("bad-txns-nonstandard-inputs");
    }
    if (policy.requireStandard && hasWitness(tx) && !isWitnessStandard(tx, ws.coins)) {
      refuse("bad-witness-nonstandard");
    }
    ws.sigOpCost = txSigOpCost(tx, ws.coins);
    ws.vsize = virtualSize(ws.weight, ws.sigOpCost, policy.bytesPerSigop);
    if (policy.requireStandard) {
      // Core refuses dust when either the real or the modified fee is not zero.
      const fee = ws.fee !== 0n ? ws.fee : ws.modifiedFee;
      const dust = dustFeeViolation(fee, dustOutputs(tx, policy.dustRelayFeeRate));
      if (dust) refuse("dust", dust);
    }
    if (ws.sigOpCost > MAX_STANDARD_TX_SIGOPS_COST) {
      refuse("bad-txns-too-many-sigops", String(ws.sigOpCost));
    }
    if (!args.bypassLimits && tx.version !== TRUC_VERSION) {
      const minFee = feeAtRate(policy.minRelayFeeRate, ws.vsize);
      if (ws.modifiedFee < minFee) {
        refuse("min relay fee not met", `${ws.modifiedFee} < ${minFee}`);
      }
    }
    if (!args.bypassLimits && !args.packageFeerates) this.#checkFeeRate(ws.vsize, ws.modifiedFee);
    ws.ancestors = this.#ancestorsFor(ws, args);
    const truc = singleTrucChecks(
      { tx, txid: ws.key, wtxid: ws.wtxidKey },
      ws.ancestors,
      ws.conflicts,
      ws.vsize,
    );
    if (truc) {
      if (!args.allowSiblingEviction || !truc.sibling) refuse("TRUC-violation", truc.text);
      ws.conflicts.add(truc.sibling);
      ws.siblingEviction = true;
    }
    const spendsConflict = spendsConflictingTx(ws.ancestors, ws.conflicts, ws.key);
    if (spendsConflict) refuse("bad-txns-spends-conflicting-tx", spendsConflict);
    if (args.clientMaxFeeRate && feeRatePerKvB(ws.modifiedFee, ws.vsize) > args.clientMaxFeeRate) {
      refuse("max feerate exceeded");
    }
  }

  /** `CheckFeeRate`: the mempool minimum fee, then the min relay fee. */
  #checkFeeRate(vsize: number, fee: bigint): void {
    const minimum = feeAtRate(this.#rollingMinFeeRate(), vsize);
    if (minimum > 0n && fee < minimum) refuse("mempool min fee not met", `${fee} < ${minimum}`);
    const relay = feeAtRate(this.policy.minRelayFeeRate, vsize);
    if (fee < relay) refuse("min relay fee not met", `${fee} < ${relay}`);
  }

  /** The in-mempool ancestors of `ws` within the limits, with the RBF and CPFP carve-outs. */
  #ancestorsFor(ws: Workspace, args: AcceptArgs): PoolEntry[] {
    const policy = this.policy;
    const limits: Limits = {
      ancestorCount: policy.ancestorCount,
      ancestorSize: policy.ancestorSizeVbytes,
      descendantCount: policy.descendantCount,
      descendantSize: policy.descendantSizeVbytes,
    };
    if (ws.conflicts.size === 1 && args.allowCarveouts) {
      // A replacement of one transaction is judged as if that one (and its descendants) were gone.
      const [conflict] = ws.conflicts;
      limits.descendantCount += 1;
      limits.descendantSize += conflict.descendantSize;
    }
    const ancestors = this.#calculateAncestors(ws.tx, ws.vsize, limits);
    if (typeof ancestors !== "string") return ancestors;
    if (
      !args.allowCarveouts || ws.vsize > EXTRA_DESCENDANT_TX_SIZE_LIMIT ||
      ws.tx.version === TRUC_VERSION
    ) {
      refuse("too-long-mempool-chain", ancestors);
    }
    // CPFP carve-out: a small child of a single parent may exceed its descendant limits by one.
    const retry = this.#calculateAncestors(ws.tx, ws.vsize, {
      ancestorCount: 2,
      ancestorSize: limits.ancestorSize,
      descendantCount: limits.descendantCount + 1,
      descendantSize: limits.descendantSize + EXTRA_DESCENDANT_TX_SIZE_LIMIT,
    });
    if (typeof retry === "string") refuse("too-long-mempool-chain", ancestors);
    return retry;
  }

  /** `CalculateMemPoolAncestors` for a new transaction: its ancestors, or Core's limit text. */
  #calculateAncestors(tx: Tx, vsize: number, limits: Limits): PoolEntry[] | string {
    const staged: PoolEntry[] = [];
    for (const input of tx.inputs) {
      const parent = this.#entries.get(parentKey(input));
      if (!parent) continue;
      insertSorted(staged, parent);
      if (staged.length + 1 > limits.ancestorCount) {
        return `too many unconfirmed parents [limit: ${limits.ancestorCount}]`;
      }
    }
    return this.#ancestorsWithinLimits(vsize, 1, staged, limits);
  }

  /** `CalculateAncestorsAndCheckLimits`: walks `staged` (sorted by txid) up to every ancestor. */
  #ancestorsWithinLimits(
    size: number,
    count: number,
    staged: PoolEntry[],
    limits: Limits,
  ): PoolEntry[] | string {
    let totalSize = size;
    const ancestors = new Set<PoolEntry>();
    while (staged.length > 0) {
      const stage = staged.shift()!;
      ancestors.add(stage);
      totalSize += stage.vsize;
      if (stage.descendantSize + size > limits.descendantSize) {
        return `exceeds descendant size limit for tx ${stage.key} [limit: ${limits.descendantSize}]`;
      }
      if (stage.descendantCount + count > limits.descendantCount) {
        return `too many descendants for tx ${stage.key} [limit: ${limits.descendantCount}]`;
      }
      if (totalSize > limits.ancestorSize) {
        return `exceeds ancestor size limit [limit: ${limits.ancestorSize}]`;
      }
      for (const parent of sortedByTxid(stage.parents)) {
        if (!ancestors.has(parent)) insertSorted(staged, parent);
        if (staged.length + ancestors.size + count > limits.ancestorCount) {
          return `too many unconfirmed ancestors [limit: ${limits.ancestorCount}]`;
        }
      }
    }
    return [...ancestors];
  }

  /** `ReplacementChecks` (rules 6, 5, 2, 3 and 4): returns everything the replacement evicts. */
  #replacementChecks(ws: Workspace): Set<PoolEntry> {
    const suffix = ws.siblingEviction ? " (including sibling eviction)" : "";
    const feeRate = paysMoreThanConflicts(ws.conflicts, ws.modifiedFee, ws.vsize, ws.key);
    if (feeRate) refuse(`insufficient fee${suffix}`, feeRate);
    const replaced = entriesForConflicts(ws.conflicts, ws.key);
    if (typeof replaced === "string") refuse(`too many potential replacements${suffix}`, replaced);
    const unconfirmed = addsUnconfirmedInput(
      ws.tx,
      ws.key,
      replaced,
      (txid) => this.#entries.has(txid),
    );
    if (unconfirmed) refuse(`replacement-adds-unconfirmed${suffix}`, unconfirmed);
    let replacedFees = 0n;
    for (const entry of replaced) replacedFees += entry.modifiedFee;
    const fees = paysForReplacement(
      replacedFees,
      ws.modifiedFee,
      ws.vsize,
      this.policy.incrementalRelayFeeRate,
      ws.key,
    );
    if (fees) refuse(`insufficient fee${suffix}`, fees);
    return replaced;
  }

  /** `PolicyScriptChecks`: every input under the standard script flags. */
  #scriptChecks(ws: Workspace): void {
    try {
      checkInputScripts(ws.tx, ws.coins, STANDARD_SCRIPT_VERIFY_FLAGS);
    } catch (error) {
      refuseInvalid(error);
    }
  }

  /** `testmempoolaccept` of several transactions (`AcceptMultipleTransactions` with test accept). */
  #testPackage(txs: readonly Tx[], maxFeeRate: bigint): AcceptResult[] {
    const workspaces = txs.map(workspace);
    const results: (AcceptResult | undefined)[] = workspaces.map(() => undefined);
    const finish = (packageError?: string) =>
      this.#packageResults(workspaces, results, maxFeeRate, packageError);
    const malformed = malformedPackageReason(packageTxs(workspaces));
    if (malformed) return finish(malformed);
    const failure = this.#checkPackage(workspaces, {
      testOnly: true,
      bypassLimits: false,
      allowReplacement: false,
      allowSiblingEviction: false,
      allowCarveouts: false,
      unbroadcast: false,
      maxFeeRate,
      packageCoins: new Map(),
    });
    const refused = failure?.refused;
    if (failure && !refused) return finish(failure.message);
    // Scripts are checked last, in order: those before a script failure passed everything.
    const passed = refused ? (refused.scripts ? refused.index : 0) : workspaces.length;
    for (let i = 0; i < passed; i++) results[i] = acceptedResult(workspaces[i]);
    if (refused) results[refused.index] = refusedResult(workspaces[refused.index], refused.reject);
    return finish();
  }

  /** `AcceptPackage` (see {@linkcode Mempool.submitPackage}). */
  #submitPackage(workspaces: Workspace[], clientMaxFeeRate: bigint): PackageSubmission {
    const members = packageTxs(workspaces);
    const malformed = malformedPackageReason(members) ??
      (members.length > 1 && !isChildWithParents(members)
        ? "package-not-child-with-parents"
        : null);
    if (malformed) return { message: malformed, results: [], replaced: [] };
    const args: AcceptArgs = {
      testOnly: false,
      bypassLimits: false,
      allowReplacement: true,
      allowSiblingEviction: true,
      allowCarveouts: false,
      unbroadcast: false,
      maxFeeRate: 0n,
      clientMaxFeeRate: clientMaxFeeRate || undefined,
      deferTrim: true,
    };
    // Core's results_final (in the mempool now), individual_results_nonfinal and the package's.
    const final: (PackageTxResult | undefined)[] = [];
    const alone: (PackageTxResult | undefined)[] = [];
    const together: (PackageTxResult | undefined)[] = [];
    const retry: number[] = [];
    const replaced: Hash[] = [];
    let quitEarly = false;
    for (const [i, ws] of workspaces.entries()) {
      const here = this.#byWtxid.get(ws.wtxidKey) ?? this.#entries.get(ws.key);
      if (here) {
        final[i] = here.wtxidKey === ws.wtxidKey
          ? { ...ids(ws), outcome: "in-mempool", vsize: here.vsize, fee: here.fee }
          : { ...ids(ws), outcome: "other-witness", otherWtxid: here.wtxid };
        continue;
      }
      const result = this.#acceptSingle(workspace(ws.tx), args);
      if (result.accepted) {
        replaced.push(...result.replaced!);
        final[i] = acceptedAlone(result);
        continue;
      }
      alone[i] = { ...ids(ws), outcome: "refused", reject: result.reject };
      if (workspaces.length === 1 || !reconsiderable(ws.tx, result.reject!)) quitEarly = true;
      else retry.push(i);
    }
    let message = quitEarly ? "transaction failed" : "success";
    if (!quitEarly && retry.length === 1) {
      // A package of one left: Core's `AcceptSubPackage` tries it alone again.
      const [i] = retry;
      const result = this.#acceptSingle(workspace(workspaces[i].tx), args);
      together[i] = result.accepted
        ? acceptedAlone(result)
        : { ...ids(workspaces[i]), outcome: "refused", reject: result.reject };
      if (result.accepted) replaced.push(...result.replaced!);
      else message = "transaction failed";
    } else if (!quitEarly && retry.length > 1) {
      const outcome = this.#acceptTogether(retry.map((i) => workspaces[i]), args);
      if (outcome.message) message = outcome.message;
      outcome.results.forEach((result, j) => together[retry[j]] = result);
    }
    this.#limitSize();
    const mempoolFull = (ws: Workspace): PackageTxResult => {
      message = "transaction failed";
      return { ...ids(ws), outcome: "refused", reject: rejection("mempool full") };
    };
    const results = workspaces.map((ws, i) => {
      const judged = together[i];
      if (judged) {
        return judged.outcome === "accepted" && !this.#byWtxid.has(ws.wtxidKey)
          ? mempoolFull(ws)
          : judged;
      }
      const earlier = final[i];
      if (earlier) return this.#entries.has(ws.key) ? earlier : mempoolFull(ws);
      return alone[i]!;
    });
    return { message, results, replaced: replaced.sort(compareHashes) };
  }

  /**
   * `AcceptMultipleTransactions` of a package's members refused alone,
   * judged by their package fee rate and added together: a result per
   * member (undefined where Core gives none) and the package error.
   */
  #acceptTogether(
    workspaces: readonly Workspace[],
    args: AcceptArgs,
  ): { message?: string; results: (PackageTxResult | undefined)[] } {
    const together = workspaces.map((ws) => workspace(ws.tx));
    const failure = this.#checkPackage(together, {
      ...args,
      allowReplacement: false,
      allowSiblingEviction: false,
      packageCoins: new Map(),
      packageFeerates: true,
    });
    if (failure) {
      const results: (PackageTxResult | undefined)[] = together.map(() => undefined);
      if (failure.refused) {
        const { index, reject } = failure.refused;
        results[index] = { ...ids(together[index]), outcome: "refused", reject };
      }
      return { message: failure.message, results };
    }
    const vsize = together.reduce((sum, ws) => sum + ws.vsize, 0);
    const fee = together.reduce((sum, ws) => sum + ws.modifiedFee, 0n);
    const effectiveIncludes = together.map((ws) => ws.wtxid);
    return {
      results: together.map((ws) => {
        this.#addPackageEntry(ws);
        return {
          ...ids(ws),
          outcome: "accepted",
          vsize: ws.vsize,
          fee: ws.fee,
          effectiveFeeRate: feeRatePerKvB(fee, vsize),
          effectiveIncludes,
        };
      }),
    };
  }

  /** The mempool entry of a validated transaction, arriving now unless `args.time` says when. */
  #newEntry(ws: Workspace, args: Pick<AcceptArgs, "time" | "unbroadcast">): PoolEntry {
    return new PoolEntry({
      tx: ws.tx,
      txid: ws.txid,
      wtxid: ws.wtxid,
      fee: ws.fee,
      vsize: ws.vsize,
      weight: ws.weight,
      size: ws.size,
      sigOpCost: ws.sigOpCost,
      time: args.time ?? this.#chain.now(),
      height: this.#chain.height,
      spendsCoinbase: ws.coins.some((coin) => coin.coinbase),
      unbroadcast: args.unbroadcast,
      feeDelta: ws.modifiedFee - ws.fee,
    });
  }

  /** Adds a package member that passed `#checkPackage`, below its (now present) ancestors. */
  #addPackageEntry(ws: Workspace): void {
    const unlimited = {
      ancestorCount: Infinity,
      ancestorSize: Infinity,
      descendantCount: Infinity,
      descendantSize: Infinity,
    };
    const entry = this.#newEntry(ws, { unbroadcast: false });
    this.#addEntry(entry, this.#calculateAncestors(ws.tx, ws.vsize, unlimited) as PoolEntry[]);
    this.#events.push({ kind: "added", entry, sequence: this.#sequence++ });
  }

  /**
   * The checks of `AcceptMultipleTransactions` on a well-formed package:
   * each transaction's `PreChecks` with the earlier ones' outputs
   * available (into `args.packageCoins`), TRUC rules, with
   * `args.packageFeerates` the package's fee rate against the mempool
   * minimum (failing the last transaction), package limits, ephemeral
   * dust, and scripts. Null when all pass; else Core's package error and,
   * unless the error is package-wide, the refused transaction (and
   * whether it failed at the script stage).
   */
  #checkPackage(
    workspaces: readonly Workspace[],
    args: AcceptArgs,
  ): {
    message: string;
    refused?: { index: number; reject: MempoolReject; scripts: boolean };
  } | null {
    const failed = (index: number, reject: MempoolReject, scripts = false, message?: string) => ({
      message: message ?? "transaction failed",
      refused: { index, reject, scripts },
    });
    const ids = workspaces.map((ws) => ({ tx: ws.tx, txid: ws.key, wtxid: ws.wtxidKey }));
    for (const [index, ws] of workspaces.entries()) {
      const reject = rejectOf(() => this.#preChecks(ws, args));
      if (reject) return failed(index, reject);
      ws.tx.outputs.forEach((output, i) => {
        args.packageCoins!.set(`${ws.key}:${i}`, {
          amount: output.amount,
          script: output.script,
          height: MEMPOOL_HEIGHT,
          coinbase: false,
        });
      });
    }
    for (const [i, ws] of workspaces.entries()) {
      const truc = packageTrucChecks(ids, i, ws.ancestors, ws.vsize);
      if (truc) return { message: `TRUC-violation, ${truc}` };
    }
    if (args.packageFeerates) {
      const vsize = workspaces.reduce((sum, ws) => sum + ws.vsize, 0);
      const fee = workspaces.reduce((sum, ws) => sum + ws.modifiedFee, 0n);
      const reject = rejectOf(() => this.#checkFeeRate(vsize, fee));
      if (reject) return failed(workspaces.length - 1, reject);
    }
    const limits = this.#packageLimits(workspaces);
    if (limits) return { message: `package-mempool-limits, ${limits}` };
    if (this.policy.requireStandard) {
      const dust = unspentDust(
        ids,
        (txid) => this.#entries.get(txid)?.tx,
        this.policy.dustRelayFeeRate,
      );
      if (dust) {
        const reject = rejection("missing-ephemeral-spends", dust.detail);
        return failed(ids.indexOf(dust.child), reject, false, "unspent-dust");
      }
    }
    for (const [index, ws] of workspaces.entries()) {
      const reject = rejectOf(() => this.#scriptChecks(ws));
      if (reject) return failed(index, reject, true);
    }
    return null;
  }

  /**
   * The answers of `testmempoolaccept` for a package: evaluated results as
   * they are, the first accepted one over `maxFeeRate` refused and
   * everything after it left unevaluated, others with their ids only.
   */
  #packageResults(
    workspaces: readonly Workspace[],
    results: readonly (AcceptResult | undefined)[],
    maxFeeRate: bigint,
    packageError?: string,
  ): AcceptResult[] {
    let exitEarly = false;
    return workspaces.map((ws, i) => {
      const ids = { txid: ws.txid, wtxid: ws.wtxid, ...(packageError ? { packageError } : {}) };
      const result = results[i];
      if (exitEarly || !result) return { ...ids, accepted: false };
      if (result.accepted) {
        const maxFee = feeAtRate(maxFeeRate, result.vsize!);
        if (maxFee > 0n && result.fee! > maxFee) {
          exitEarly = true;
          return { ...ids, accepted: false, reject: MAX_FEE_EXCEEDED };
        }
      }
      return result;
    });
  }

  /** `CheckPackageLimits`: the package's transactions counted together against every limit. */
  #packageLimits(workspaces: readonly Pick<Workspace, "tx" | "vsize">[]): string | null {
    const policy = this.policy;
    const count = workspaces.length;
    const size = workspaces.reduce((sum, ws) => sum + ws.vsize, 0);
    if (count > policy.ancestorCount) {
      return `package count ${count} exceeds ancestor count limit [limit: ${policy.ancestorCount}]`;
    }
    if (count > policy.descendantCount) {
      return `package count ${count} exceeds descendant count limit [limit: ${policy.descendantCount}]`;
    }
    if (size > policy.ancestorSizeVbytes) {
      return `package size ${size} exceeds ancestor size limit [limit: ${policy.ancestorSizeVbytes}]`;
    }
    if (size > policy.descendantSizeVbytes) {
      return `package size ${size} exceeds descendant size limit [limit: ${policy.descendantSizeVbytes}]`;
    }
    const staged: PoolEntry[] = [];
    for (const ws of workspaces) {
      for (const input of ws.tx.inputs) {
        const parent = this.#entries.get(parentKey(input));
        if (!parent) continue;
        insertSorted(staged, parent);
        if (staged.length + count > policy.ancestorCount) {
          return `too many unconfirmed parents [limit: ${policy.ancestorCount}]`;
        }
      }
    }
    const ancestors = this.#ancestorsWithinLimits(size, count, staged, {
      ancestorCount: policy.ancestorCount,
      ancestorSize: policy.ancestorSizeVbytes,
      descendantCount: policy.descendantCount,
      descendantSize: policy.descendantSizeVbytes,
    });
    return typeof ancestors === "string" ? `possibly ${ancestors}` : null;
  }

  /** Coins as validation sees them: package outputs, then mempool outputs, then the chain. */
  #validationView(packageCoins?: Map<string, Coin>): CoinsView {
    return {
      getCoin: (outpoint) => {
        const key = outpointKey(outpoint);
        const pending = packageCoins?.get(key);
        if (pending) return pending;
        const entry = this.#entries.get(key.slice(0, 64));
        if (entry) {
          const output = entry.tx.outputs[outpoint.index];
          return output &&
            {
              amount: output.amount,
              script: output.script,
              height: MEMPOOL_HEIGHT,
              coinbase: false,
            };
        }
        return this.#chain.getCoin(outpoint);
      },
    };
  }

  // --- the pool's contents ----------------------------------------------

  /** Adds a validated entry below its `ancestors` (`addNewTransaction`). */
  #addEntry(entry: PoolEntry, ancestors: readonly PoolEntry[]): void {
    this.#entries.set(entry.key, entry);
    this.#byWtxid.set(entry.wtxidKey, entry);
    for (const input of entry.tx.inputs) {
      this.#spenders.set(spentKey(input), entry);
      const parent = this.#entries.get(parentKey(input));
      if (parent) this.#link(parent, entry);
    }
    for (const ancestor of ancestors) {
      ancestor.descendantCount += 1;
      ancestor.descendantSize += entry.vsize;
      ancestor.descendantFees += entry.modifiedFee;
      entry.ancestorCount += 1;
      entry.ancestorSize += ancestor.vsize;
      entry.ancestorFees += ancestor.modifiedFee;
      entry.ancestorSigOps += ancestor.sigOpCost;
    }
    this.#bytes += entry.vsize;
    this.#usage += entry.usage;
    this.#totalFee += entry.fee;
    this.#earliestTime = Math.min(this.#earliestTime, entry.time);
  }

  #link(parent: PoolEntry, child: PoolEntry): void {
    if (child.parents.has(parent)) return;
    child.parents.add(parent);
    parent.children.add(child);
    this.#links++;
  }

  /**
   * Removes `removed` (`RemoveStaged`). Without `updateDescendants` the set
   * must hold every descendant of its members; with it (a transaction
   * confirmed in a block), remaining descendants forget it as an ancestor.
   */
  #removeEntries(
    removed: Iterable<PoolEntry>,
    reason: RemovalReason,
    updateDescendants = false,
  ): void {
    const stage = sortedByTxid(removed);
    for (const entry of stage) {
      if (updateDescendants) {
        for (const descendant of entry.descendants()) {
          descendant.ancestorCount -= 1;
          descendant.ancestorSize -= entry.vsize;
          descendant.ancestorFees -= entry.modifiedFee;
          descendant.ancestorSigOps -= entry.sigOpCost;
        }
      }
      for (const ancestor of entry.ancestors()) {
        ancestor.descendantCount -= 1;
        ancestor.descendantSize -= entry.vsize;
        ancestor.descendantFees -= entry.modifiedFee;
      }
    }
    for (const entry of stage) {
      for (const parent of entry.parents) {
        parent.children.delete(entry);
        this.#links--;
      }
      for (const child of entry.children) {
        child.parents.delete(entry);
        this.#links--;
      }
      entry.parents.clear();
      entry.children.clear();
    }
    for (const entry of stage) {
      this.#entries.delete(entry.key);
      this.#byWtxid.delete(entry.wtxidKey);
      for (const input of entry.tx.inputs) this.#spenders.delete(spentKey(input));
      this.#bytes -= entry.vsize;
      this.#usage -= entry.usage;
      this.#totalFee -= entry.fee;
      this.#events.push({ kind: "removed", entry, reason, sequence: this.#sequence++ });
    }
  }

  /** An entry and all its descendants. */
  #withDescendants(entries: Iterable<PoolEntry>): Set<PoolEntry> {
    const all = new Set<PoolEntry>();
    for (const entry of entries) {
      if (all.has(entry)) continue;
      all.add(entry);
      for (const descendant of entry.descendants()) all.add(descendant);
    }
    return all;
  }

  /**
   * `removeRecursive` of a transaction: it and its descendants, or — when
   * it is not in the mempool — the mempool transactions spending its
   * outputs and their descendants.
   */
  #removeRecursive(tx: Tx, key: string, reason: RemovalReason): void {
    const entry = this.#entries.get(key);
    const roots = entry ? [entry] : tx.outputs.flatMap((_, index) => {
      const spender = this.#spenders.get(`${key}:${index}`);
      return spender ? [spender] : [];
    });
    if (roots.length > 0) this.#removeEntries(this.#withDescendants(roots), reason);
  }

  /** `LimitMempoolSize`: expiry, then eviction down to `maxMempoolBytes`. */
  #limitSize(): void {
    const cutoff = this.#chain.now() - this.policy.expirySeconds;
    if (this.#earliestTime < cutoff) {
      // A lower bound on arrival times spares the scan until something may have expired.
      const expired: PoolEntry[] = [];
      this.#earliestTime = Infinity;
      for (const entry of this.#entries.values()) {
        if (entry.time < cutoff) expired.push(entry);
        else this.#earliestTime = Math.min(this.#earliestTime, entry.time);
      }
      if (expired.length > 0) this.#removeEntries(this.#withDescendants(expired), "expiry");
    }
    while (this.#entries.size > 0 && this.usage > this.policy.maxMempoolBytes) {
      let worst: PoolEntry | undefined;
      for (const entry of this.#entries.values()) {
        if (!worst || evictsBefore(entry, worst)) worst = entry;
      }
      const removedRate = feeRatePerKvB(worst!.descendantFees, worst!.descendantSize) +
        this.policy.incrementalRelayFeeRate;
      if (Number(removedRate) > this.#rollingMinFee) {
        this.#rollingMinFee = Number(removedRate);
        this.#blockSinceLastRollingFeeBump = false;
      }
      this.#removeEntries(this.#withDescendants([worst!]), "sizelimit");
    }
  }

  /** `GetMinFee`: the rolling minimum fee rate, decaying after blocks (sat/kvB). */
  #rollingMinFeeRate(): bigint {
    if (!this.#blockSinceLastRollingFeeBump || this.#rollingMinFee === 0) {
      return BigInt(Math.round(this.#rollingMinFee));
    }
    const now = this.#chain.now();
    if (now > this.#lastRollingFeeUpdate + 10) {
      let halflife = ROLLING_FEE_HALFLIFE;
      const limit = this.policy.maxMempoolBytes;
      if (this.usage < limit / 4) halflife /= 4;
      else if (this.usage < limit / 2) halflife /= 2;
      this.#rollingMinFee /= 2 ** ((now - this.#lastRollingFeeUpdate) / halflife);
      this.#lastRollingFeeUpdate = now;
      if (this.#rollingMinFee < Number(this.policy.incrementalRelayFeeRate) / 2) {
        this.#rollingMinFee = 0;
        return 0n;
      }
    }
    const rolling = BigInt(Math.round(this.#rollingMinFee));
    const floor = this.policy.incrementalRelayFeeRate;
    return rolling > floor ? rolling : floor;
  }

  // --- following the chain ----------------------------------------------

  /** `removeForBlock`: the block's transactions leave (`block`), their conflicts too (`conflict`). */
  #blockConnected(txs: readonly Tx[], txids: readonly Hash[]): void {
    const keys = txids.map(hashToHex);
    if (this.#disconnected.length > 0) {
      const confirmed = new Set(keys);
      this.#disconnected = this.#disconnected.filter((item) => {
        if (!confirmed.has(item.key)) return true;
        this.#disconnectedUsage -= item.usage;
        return false;
      });
    }
    txs.forEach((tx, i) => {
      const entry = this.#entries.get(keys[i]);
      if (entry) this.#removeEntries([entry], "block", true);
      this.#deltas.delete(keys[i]); // `ClearPrioritisation`: a mined transaction's delta goes
      for (const input of tx.inputs) {
        const spender = this.#spenders.get(spentKey(input));
        if (spender && spender.key !== keys[i]) {
          this.#removeEntries(this.#withDescendants([spender]), "conflict");
        }
      }
    });
    this.#lastRollingFeeUpdate = this.#chain.now();
    this.#blockSinceLastRollingFeeBump = true;
  }

  /** Queues a disconnected block's transactions for re-adding once the reorganisation's step ends. */
  #blockDisconnected(txs: readonly Tx[], txids: readonly Hash[]): void {
    const queued = txs.map((tx, i) => ({ tx, key: hashToHex(txids[i]), usage: entryUsage(tx) }));
    this.#disconnected = [...queued, ...this.#disconnected];
    for (const item of queued) this.#disconnectedUsage += item.usage;
    // Past Core's bound, the most recently confirmed transactions are given up.
    while (this.#disconnectedUsage > MAX_DISCONNECTED_BYTES && this.#disconnected.length > 0) {
      const dropped = this.#disconnected.pop()!;
      this.#disconnectedUsage -= dropped.usage;
      this.#notifying(() => this.#removeRecursive(dropped.tx, dropped.key, "reorg"));
    }
  }

  /**
   * `MaybeUpdateMempoolForReorg`, at the end of the chain's step: re-accepts
   * the disconnected transactions (oldest first, without fee floors; none
   * without `readd`), removes the descendants of those that fail, links
   * re-added parents to the children already here, and removes whatever is
   * no longer final or mature on the new tip.
   */
  #settle(readd = true): void {
    if (this.#disconnected.length === 0) return;
    const queued = this.#disconnected;
    this.#disconnected = [];
    this.#disconnectedUsage = 0;
    const readded: PoolEntry[] = [];
    for (const { tx, key } of queued) {
      const result = !readd || isCoinbase(tx) ? undefined : this.#acceptSingle(workspace(tx), {
        testOnly: false,
        bypassLimits: true,
        allowReplacement: true,
        allowSiblingEviction: true,
        allowCarveouts: true,
        unbroadcast: false,
        maxFeeRate: 0n,
      });
      if (result?.accepted) readded.push(this.#entries.get(key)!);
      else this.#removeRecursive(tx, key, "reorg");
    }
    this.#linkReadded(readded);
    this.#removeForReorg();
    this.#limitSize();
  }

  /**
   * `UpdateTransactionsFromBlock`: re-added transactions become parents of
   * the mempool transactions spending them; totals are recounted, and
   * descendants now past the ancestor limits are removed (`sizelimit`).
   */
  #linkReadded(readded: readonly PoolEntry[]): void {
    if (readded.length === 0) return;
    for (const parent of readded) {
      parent.tx.outputs.forEach((_, index) => {
        const child = this.#spenders.get(`${parent.key}:${index}`);
        if (child) this.#link(parent, child);
      });
    }
    for (const entry of this.#entries.values()) {
      const ancestors = entry.ancestors();
      const descendants = entry.descendants();
      entry.ancestorCount = ancestors.size + 1;
      entry.ancestorSize = entry.vsize;
      entry.ancestorFees = entry.modifiedFee;
      entry.ancestorSigOps = entry.sigOpCost;
      for (const ancestor of ancestors) {
        entry.ancestorSize += ancestor.vsize;
        entry.ancestorFees += ancestor.modifiedFee;
        entry.ancestorSigOps += ancestor.sigOpCost;
      }
      entry.descendantCount = descendants.size + 1;
      entry.descendantSize = entry.vsize;
      entry.descendantFees = entry.modifiedFee;
      for (const descendant of descendants) {
        entry.descendantSize += descendant.vsize;
        entry.descendantFees += descendant.modifiedFee;
      }
    }
    const excessive = [...this.#withDescendants(readded)].filter((entry) =>
      entry.ancestorCount > this.policy.ancestorCount ||
      entry.ancestorSize > this.policy.ancestorSizeVbytes
    );
    const stillHere = excessive.filter((entry) => this.#entries.has(entry.key));
    if (stillHere.length > 0) this.#removeEntries(this.#withDescendants(stillHere), "sizelimit");
  }

  /** `removeForReorg`: entries no longer final, BIP 68-final or mature at the new tip, with descendants. */
  #removeForReorg(): void {
    const tip = this.#chain.tip;
    const height = tip.height + 1;
    const medianTimePast = this.#chain.medianTimePast(tip);
    const invalid = [...this.#entries.values()].filter((entry) => {
      if (!isFinalTx(entry.tx, height, medianTimePast)) return true;
      const heights: number[] = [];
      for (const input of entry.tx.inputs) {
        if (this.#entries.has(parentKey(input))) {
          heights.push(height);
          continue;
        }
        const coin = this.#chain.getCoin(prevout(input));
        if (!coin) return true;
        if (coin.coinbase && height - coin.height < COINBASE_MATURITY) return true;
        heights.push(coin.height);
      }
      const locks = calculateSequenceLocks(
        entry.tx,
        heights,
        (at) => this.#chain.medianTimePast(this.#chain.entryAtHeight(at)!),
      );
      return !sequenceLocksSatisfied(locks, height, medianTimePast);
    });
    if (invalid.length > 0) this.#removeEntries(this.#withDescendants(invalid), "reorg");
  }

  /** Runs `change`, then tells the listeners what it did. */
  #notifying<T>(change: () => T): T {
    try {
      return change();
    } finally {
      const events = this.#events;
      this.#events = [];
      for (const event of events) {
        for (const listener of this.#listeners) {
          try {
            if (event.kind === "added") listener.added?.(event.entry, event.sequence);
            else listener.removed?.(event.entry.tx, event.reason, event.sequence);
          } catch (error) {
            console.error("mempool listener failed:", error);
          }
        }
      }
    }
  }
}

/**
 * `CompareTxMemPoolEntryByDescendantScore`: whether `a` is evicted before
 * `b` — the lower of its own and its descendants' fee rates is lower, or
 * equal and `a` arrived later.
 */
function evictsBefore(a: PoolEntry, b: PoolEntry): boolean {
  const score = (entry: PoolEntry): [bigint, number] =>
    compareFeeRates(entry.descendantFees, entry.descendantSize, entry.modifiedFee, entry.vsize) > 0
      ? [entry.descendantFees, entry.descendantSize]
      : [entry.modifiedFee, entry.vsize];
  const [feeA, sizeA] = score(a);
  const [feeB, sizeB] = score(b);
  const order = compareFeeRates(feeA, sizeA, feeB, sizeB);
  return order < 0 || (order === 0 && a.time >= b.time);
}
