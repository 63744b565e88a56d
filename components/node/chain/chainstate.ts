/**
 * The node's chain state in one SQLite database, `<dir>/chainstate.sqlite`
 * (the caller passes `<datadir>/regtest`): the block index (every header
 * seen, its height, status and arrival order), raw blocks, undo data, the
 * UTXO set and the active tip. An in-memory copy of the block index serves
 * lookups; SQLite is the truth.
 *
 * Crash safety: every block connected or disconnected — its UTXO changes,
 * undo data, status and the new tip — is one SQLite transaction, so a
 * SIGKILL at any moment leaves the tip and the UTXO set consistent.
 * `journal_mode=WAL` makes each commit a single append that readers never
 * see half-done; `synchronous=NORMAL` syncs at checkpoints rather than every
 * commit: a killed process loses nothing that was committed, and a power
 * failure can only roll back the last few commits, atomically and
 * consistently (bitcoind likewise flushes its chainstate only periodically).
 * An interrupted reorganisation resumes at the next {@linkcode ChainState.open}.
 *
 * Blocks enter through {@linkcode ChainState.processBlock} with
 * `submitblock`'s results; the active chain is always the valid chain with
 * the most work (first received wins ties), reorganising through undo data.
 *
 * @example
 * ```ts
 * import { ChainState } from "./chainstate.ts";
 * import { hashToHex } from "./hash.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   if (chain.height !== 0) throw new Error("a new chain holds only genesis");
 *   if (!hashToHex(chain.tip.hash).startsWith("0f9188f1")) throw new Error("regtest genesis");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import * as P from "micro-packed";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { CompactSizeLen } from "@scure/btc-signer/script.js";
import {
  type Block,
  blockHash,
  type BlockHeader,
  decodeBlock,
  decodeHeader,
  encodeBlock,
  encodeHeader,
} from "./block.ts";
import { type Coin, CoinsCache, type CoinsView } from "./coins.ts";
import { bytesEqual, type Hash, hashToHex } from "./hash.ts";
import { GENESIS_BLOCK, GENESIS_HASH, MEDIAN_TIME_SPAN } from "./params.ts";
import { blockProof } from "./pow.ts";
import { BLOCK_SCRIPT_VERIFY_FLAGS } from "./script.ts";
import { isCoinbase, type OutPoint, outpointKey, prevout, txid } from "./tx.ts";
import {
  checkBlock,
  checkBlockHeader,
  type CheckBlockOptions,
  connectBlock,
  contextualCheckBlock,
  contextualCheckBlockHeader,
  disconnectBlock,
  isUnspendable,
  type ParentInfo,
  ValidationError,
} from "./validation.ts";
import { compareBytes } from "../../bitcoin/bytes.ts";

/** Bits of {@linkcode BlockEntry.status}. */
export const BlockStatus = Object.freeze({
  /** The block's transactions are stored. */
  HAVE_DATA: 1,
  /** The block was fully validated and connected at least once. */
  VALID: 2,
  /** The block itself is invalid (or was invalidated). */
  FAILED: 4,
  /** An ancestor is invalid. */
  FAILED_CHILD: 8,
});

const FAILED_ANY = BlockStatus.FAILED | BlockStatus.FAILED_CHILD;

/** Blocks Core's `ActivateBestChainStep` lines up to connect at a time. */
const BATCH = 32;

/** A block index entry: a header the node accepted, where it sits, and what is known of it. */
export interface BlockEntry {
  readonly hash: Hash;
  readonly header: BlockHeader;
  readonly height: number;
  /** Total work of the chain up to and including this block. */
  readonly chainWork: bigint;
  /** {@linkcode BlockStatus} bits. */
  readonly status: number;
  /** Number of transactions (0 when the data is not stored). */
  readonly txCount: number;
  /** The parent entry (undefined for genesis). */
  readonly prev: BlockEntry | undefined;
}

class IndexEntry implements BlockEntry {
  constructor(
    readonly hash: Hash,
    readonly header: BlockHeader,
    readonly height: number,
    readonly chainWork: bigint,
    public status: number,
    /** Arrival order: the earlier of two equal-work chains stays active. */
    readonly sequence: number,
    public txCount: number,
    readonly prev: IndexEntry | undefined,
  ) {}
}

/** One entry of {@linkcode ChainState.chainTips}, as `getchaintips` reports it. */
export interface ChainTip {
  readonly height: number;
  readonly hash: Hash;
  /** Blocks between the tip and the active chain (0 for the active tip). */
  readonly branchLength: number;
  readonly status: "active" | "valid-fork" | "valid-headers" | "headers-only" | "invalid";
}

/** UTXO set statistics as `gettxoutsetinfo` reports them (hash type `hash_serialized_3`). */
export interface UtxoStats {
  readonly height: number;
  readonly bestBlock: Hash;
  /** Number of unspent outputs. */
  readonly txouts: number;
  /** Core's database-independent size metric. */
  readonly bogosize: number;
  /** `hash_serialized_3`, computed exactly as Core's kernel/coinstats.cpp does. */
  readonly hashSerialized: Hash;
  readonly totalAmount: bigint;
  /** Number of transactions with unspent outputs. */
  readonly transactions: number;
}

/** A block connected to or disconnected from the active chain. */
export interface BlockEvent {
  readonly block: Block;
  readonly entry: BlockEntry;
  /** The block's txids, in block order. */
  readonly txids: readonly Hash[];
}

/**
 * Receives chain events, synchronously, after each change is committed, in
 * the order of Core's validation interface. The chain moves in Core's
 * activation steps (`ActivateBestChainStep`: back to the fork, then forward
 * until the tip has more work than the step began with); in each,
 * `blockDisconnected` per block as it goes, `tipConnected` per block as it
 * comes, `reorganized` once if it disconnected any, and only then
 * `blockConnected` per block it connected (Core signals `BlockConnected`
 * after the step, so a reorganisation's mempool re-additions come before
 * the new blocks). An iteration of Core's `ActivateBestChain` takes steps
 * until the tip is no worse than where the iteration began, then tells
 * `updatedBlockTip` unless the tip only went back. `invalidateblock` first
 * takes the active chain off the block (`reorganized` after each block,
 * then `tipInvalidated`). `tipChanged` once the active chain settles. A
 * failure that is no block's fault (the database, missing block or undo
 * data) ends the activation where it is, with the step's `reorganized`
 * (re-adding nothing), its `blockConnected` and `tipChanged` told before
 * the error is thrown, but no `updatedBlockTip` (Core returns before it).
 * A listener that throws is reported on stderr; the others still run.
 */
export interface ChainListener {
  /** A block became the tip, told inside its step (what Core's `ConnectTip` does itself). */
  tipConnected?(event: BlockEvent): void;
  /** Core's `BlockConnected` signal: after the step that connected the block. */
  blockConnected?(event: BlockEvent): void;
  blockDisconnected?(event: BlockEvent): void;
  /**
   * Core's `MaybeUpdateMempoolForReorg`: the blocks disconnected since the
   * last call stay disconnected (the end of a step that disconnected, or
   * each block `invalidateblock` takes off); `readd`: whether their
   * transactions may go back to the mempool (Core's InvalidateBlock
   * re-adds those of its first ten blocks only).
   */
  reorganized?(readd: boolean): void;
  /**
   * Core's `UpdatedBlockTip` (and the `blockTip` notification
   * `-blocknotify` hears): an iteration of the activation left the tip at
   * `tip` (the event of its connection), off `fork`, the last block the
   * chain kept of where the iteration began. Told after the iteration's
   * `blockConnected`, and not for an iteration that only went back.
   */
  updatedBlockTip?(tip: BlockEvent, fork: BlockEntry): void;
  /**
   * `invalidateblock` took the active chain back to `tip`, before the
   * activation that follows: Core's `InvalidateBlock` tells the `blockTip`
   * notification (`-blocknotify`) of it, not `UpdatedBlockTip` (ZMQ).
   */
  tipInvalidated?(tip: BlockEntry): void;
  /** The activation is over and the tip is not where it began. */
  tipChanged?(tip: BlockEntry): void;
  /**
   * Core's `CheckForkWarningConditions`: whether the most-work block known
   * invalid has more than six of the tip's blocks' work beyond the tip
   * (`LARGE_WORK_INVALID_CHAIN`). Told where Core checks: at the end of
   * each activation step, and once `invalidateblock` has taken the active
   * chain off its block.
   */
  forkWarningChecked?(largeWorkInvalidChain: boolean): void;
  /**
   * Core's `InvalidChainFound`, which logs both: `invalid` was found
   * invalid while the active chain's tip is `tip`. Told for a block that
   * failed to connect (Core's `InvalidBlockFound`), then for the top of the
   * batch it was to be connected in, and for an `invalidateblock`'s block
   * once the active chain is off it.
   */
  invalidChainFound?(invalid: BlockEntry, tip: BlockEntry): void;
  /**
   * Core's `ConnectTip` failing: `block` broke `error`'s rule as it was
   * connected (told between its `invalidChainFound` and its batch's).
   */
  connectFailed?(block: BlockEntry, error: ValidationError): void;
}

/**
 * A listener for Core's kernel `blockTip` notification (what sets
 * `g_best_block`/`m_tip_block` for `waitTipChanged`, and is
 * `uiInterface.NotifyBlockTip`, which `-blocknotify` and
 * `Node.handleNotifyBlockTip` hear): each {@linkcode ChainListener.updatedBlockTip}'s
 * new tip, and the tip `invalidateblock` leaves
 * ({@linkcode ChainListener.tipInvalidated}). Subscribe the result on its
 * own, or spread it into a listener that defines neither of those two.
 */
export function blockTipListener(
  onTip: (tip: BlockEntry) => void,
): Pick<ChainListener, "updatedBlockTip" | "tipInvalidated"> {
  return {
    updatedBlockTip: ({ entry }) => onTip(entry),
    tipInvalidated: (tip) => onTip(tip),
  };
}

/** Options of {@linkcode ChainState.open}. */
export interface ChainStateOptions {
  /** The clock, in UNIX seconds, for the two-hour future limit on headers. */
  readonly now?: () => number;
}

/** The file inside the directory given to {@linkcode ChainState.open}. */
export const CHAINSTATE_FILE = "chainstate.sqlite";

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS block_index (
  hash BLOB PRIMARY KEY, height INTEGER NOT NULL, header BLOB NOT NULL,
  status INTEGER NOT NULL, sequence INTEGER NOT NULL, tx_count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS block_data (hash BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS block_undo (hash BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS utxo (
  txid BLOB NOT NULL, vout INTEGER NOT NULL, amount INTEGER NOT NULL, script BLOB NOT NULL,
  height INTEGER NOT NULL, coinbase INTEGER NOT NULL, PRIMARY KEY (txid, vout)
) WITHOUT ROWID;
`;

/** Core's block record in `blk*.dat`: network magic and size before the block. */
const BLOCK_RECORD_OVERHEAD = 8;
/** Core's undo record in `rev*.dat`: magic and size before, a checksum after. */
const UNDO_RECORD_OVERHEAD = 8 + 32;

/** Undo data of a block: per non-coinbase transaction, the coins its inputs spent. */
const UndoCoder = P.array(
  CompactSizeLen,
  P.array(
    CompactSizeLen,
    P.struct({ amount: P.U64LE, script: P.bytes(CompactSizeLen), code: P.U32LE }),
  ),
);

function encodeUndo(undo: readonly (readonly Coin[])[]): Uint8Array {
  return UndoCoder.encode(undo.map((coins) =>
    coins.map((coin) => ({
      amount: coin.amount,
      script: coin.script,
      code: coin.height * 2 + (coin.coinbase ? 1 : 0),
    }))
  ));
}

function decodeUndo(bytes: Uint8Array): Coin[][] {
  return UndoCoder.decode(bytes).map((coins) =>
    coins.map((coin) => ({
      amount: coin.amount,
      script: coin.script,
      height: Math.floor(coin.code / 2),
      coinbase: (coin.code & 1) === 1,
    }))
  );
}

const keyOf = (hash: Hash) => hex.encode(hash);

/** Core's `GetBogoSize`: a database-independent size of one coin. */
const bogoSize = (script: Uint8Array) => 32 + 4 + 4 + 8 + 2 + script.length;

/** A `utxo` row as a coin; undefined when there is none. */
function coinOfRow(row: unknown): Coin | undefined {
  if (row === undefined) return undefined;
  const { amount, script, height, coinbase } = row as {
    amount: bigint;
    script: Uint8Array;
    height: bigint;
    coinbase: bigint;
  };
  return { amount, script, height: Number(height), coinbase: coinbase === 1n };
}

/** The chain state: block index, blocks, undo data and UTXO set in SQLite. */
export class ChainState implements CoinsView, Disposable {
  readonly #db: DatabaseSync;
  /** The database file, for the readers that open connections of their own. */
  readonly #path: string;
  readonly #now: () => number;
  readonly #index = new Map<string, IndexEntry>();
  /** The active chain, by height. */
  readonly #active: IndexEntry[] = [];
  readonly #listeners = new Set<ChainListener>();
  /** `preciousblock` ranks, below every arrival sequence; kept in memory only, as Core does. */
  readonly #precious = new Map<IndexEntry, number>();
  #nextPrecious = -1;
  #lastPreciousWork = 0n;
  #nextSequence = 0;
  /**
   * Core's `m_best_invalid`: the most-work block found invalid (in a
   * failed connection, the top of the batch it was connected in) or
   * invalidated, or at startup the most-work block marked invalid.
   */
  #bestInvalid: IndexEntry | null = null;
  #busy = false;
  readonly #sql: {
    getCoin: StatementSync;
    firstCoinOf: StatementSync;
    addCoin: StatementSync;
    deleteCoin: StatementSync;
    putEntry: StatementSync;
    setStatus: StatementSync;
    putBlock: StatementSync;
    getBlock: StatementSync;
    putUndo: StatementSync;
    getUndo: StatementSync;
    setMeta: StatementSync;
  };

  private constructor(db: DatabaseSync, path: string, now: () => number) {
    this.#db = db;
    this.#path = path;
    this.#now = now;
    this.#sql = {
      getCoin: db.prepare(
        "SELECT amount, script, height, coinbase FROM utxo WHERE txid = ? AND vout = ?",
      ),
      firstCoinOf: db.prepare(
        "SELECT amount, script, height, coinbase FROM utxo WHERE txid = ? ORDER BY vout LIMIT 1",
      ),
      addCoin: db.prepare("INSERT INTO utxo VALUES (?, ?, ?, ?, ?, ?)"),
      deleteCoin: db.prepare("DELETE FROM utxo WHERE txid = ? AND vout = ?"),
      putEntry: db.prepare("INSERT OR REPLACE INTO block_index VALUES (?, ?, ?, ?, ?, ?)"),
      setStatus: db.prepare("UPDATE block_index SET status = ? WHERE hash = ?"),
      putBlock: db.prepare("INSERT OR REPLACE INTO block_data VALUES (?, ?)"),
      getBlock: db.prepare("SELECT data FROM block_data WHERE hash = ?"),
      putUndo: db.prepare("INSERT OR REPLACE INTO block_undo VALUES (?, ?)"),
      getUndo: db.prepare("SELECT data FROM block_undo WHERE hash = ?"),
      setMeta: db.prepare("INSERT OR REPLACE INTO meta VALUES (?, ?)"),
    };
    this.#sql.getCoin.setReadBigInts(true);
  }

  /**
   * Opens (creating it and the directory if needed, with the genesis block)
   * the chain state in `dir`, checks that the stored index, tip and undo
   * data agree, and resumes any interrupted reorganisation. Throws
   * `Corrupted block database detected: …` when they do not agree.
   */
  static open(dir: string, options: ChainStateOptions = {}): ChainState {
    const path = join(dir, CHAINSTATE_FILE);
    const db = openPrivateDatabase(path, SCHEMA);
    try {
      const chain = new ChainState(db, path, options.now ?? (() => Math.floor(Date.now() / 1000)));
      chain.#load();
      chain.#activateBestChain();
      return chain;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The tip of the active chain. */
  get tip(): BlockEntry {
    return this.#active[this.#active.length - 1];
  }

  /** The height of the active tip. */
  get height(): number {
    return this.#active.length - 1;
  }

  /** The entry of the active chain at `height`, or undefined outside [0, height]. */
  entryAtHeight(height: number): BlockEntry | undefined {
    return Number.isInteger(height) ? this.#active[height] : undefined;
  }

  /** The index entry of a block, whether active, on a side branch, or invalid. */
  entry(hash: Hash): BlockEntry | undefined {
    return this.#index.get(keyOf(hash));
  }

  /** Whether an entry is part of the active chain. */
  isActive(entry: BlockEntry): boolean {
    return this.#active[entry.height] === entry;
  }

  /** The ancestor of `entry` at `height` (itself at its own height). */
  ancestor(entry: BlockEntry, height: number): BlockEntry | undefined {
    if (height < 0 || height > entry.height) return undefined;
    let cursor: BlockEntry | undefined = entry;
    while (cursor && cursor.height > height && !this.isActive(cursor)) cursor = cursor.prev;
    if (cursor && this.isActive(cursor)) return this.#active[height];
    return cursor;
  }

  /** The last block `entry`'s branch shares with the active chain. */
  findFork(entry: BlockEntry): BlockEntry {
    let cursor: BlockEntry = entry;
    while (!this.isActive(cursor)) cursor = cursor.prev!;
    return cursor;
  }

  /** Median of the last 11 block times up to `entry` (BIP 113), the active tip by default. */
  medianTimePast(entry: BlockEntry = this.tip): number {
    const times: number[] = [];
    for (
      let cursor: BlockEntry | undefined = entry;
      cursor && times.length < MEDIAN_TIME_SPAN;
      cursor = cursor.prev
    ) {
      times.push(cursor.header.time);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  }

  /** The current time of this chain's clock (UNIX seconds). */
  now(): number {
    return this.#now();
  }

  /** A stored block, or undefined when its data is not stored. */
  readBlock(hash: Hash): Block | undefined {
    const bytes = this.readBlockBytes(hash);
    return bytes && decodeBlock(bytes);
  }

  /** A stored block's serialization, or undefined. */
  readBlockBytes(hash: Hash): Uint8Array | undefined {
    const row = this.#sql.getBlock.get(hash) as { data: Uint8Array } | undefined;
    return row?.data;
  }

  /** A block's undo data (per non-coinbase transaction, the coins it spent), or undefined. */
  readUndo(hash: Hash): Coin[][] | undefined {
    const row = this.#sql.getUndo.get(hash) as { data: Uint8Array } | undefined;
    return row && decodeUndo(row.data);
  }

  /** The unspent output at `outpoint` in the active chain's UTXO set. */
  getCoin(outpoint: OutPoint): Coin | undefined {
    return coinOfRow(this.#sql.getCoin.get(outpoint.txid, outpoint.index));
  }

  /**
   * The unspent output of transaction `txid` with the lowest index, if any
   * is left (Core's `AccessByTxid`): where a transaction still has coins,
   * the height of its block.
   */
  firstCoinOf(txid: Hash): Coin | undefined {
    return coinOfRow(this.#sql.firstCoinOf.get(txid));
  }

  /**
   * `size_on_disk`: the bytes bitcoind's `blk*.dat` and `rev*.dat` files
   * would hold for the blocks and undo data stored here, so the figure
   * compares with bitcoind's. Every stored block counts once as Core's
   * record (8-byte header, then the block with its witnesses), valid or
   * not, active or not, as Core writes each block it accepts to disk; every
   * undo record (written when a block is first connected, never removed)
   * counts 8 + its undo data + a 32-byte checksum. The undo data is our
   * own serialization (per spent coin: amount, script, height and coinbase
   * flag), not Core's compressed one: equal for blocks that spend nothing
   * (one byte), a few bytes per spent coin apart otherwise.
   */
  blockFilesSize(): number {
    const row = this.#db.prepare(
      `SELECT (SELECT COALESCE(SUM(${BLOCK_RECORD_OVERHEAD} + length(data)), 0) FROM block_data) +
        (SELECT COALESCE(SUM(${UNDO_RECORD_OVERHEAD} + length(data)), 0) FROM block_undo) AS size`,
    ).get() as { size: number };
    return row.size;
  }

  /**
   * `gettxoutsetinfo`'s `disk_size`: the bytes of the database pages
   * holding the UTXO set, as Core reports the estimated size of its coins
   * database.
   */
  utxoDiskSize(): number {
    const row = this.#db.prepare(
      "SELECT COALESCE(SUM(pgsize), 0) AS size FROM dbstat WHERE name = 'utxo'",
    ).get() as { size: number };
    return row.size;
  }

  /** Registers a listener; dispose the result to remove it. */
  subscribe(listener: ChainListener): Disposable {
    this.#listeners.add(listener);
    return { [Symbol.dispose]: () => this.#listeners.delete(listener) };
  }

  /**
   * Processes a block as `submitblock` does: null when it was accepted and
   * connected; otherwise `duplicate`, `duplicate-invalid`, `inconclusive`
   * (stored on a side branch without becoming active, or not yet
   * connectable), `prev-blk-not-found`, `bad-prevblk`, or the reject reason.
   * Valid blocks are stored even when they do not (yet) become active.
   */
  processBlock(block: Block): string | null {
    return this.#exclusive(() => {
      const hash = blockHash(block.header);
      let txids: Hash[];
      try {
        txids = checkBlock(block);
      } catch (error) {
        return rejectReason(error);
      }
      const existing = this.#index.get(keyOf(hash));
      if (existing && existing.status & FAILED_ANY) {
        return "duplicate-invalid";
      }
      if (existing && existing.status & BlockStatus.HAVE_DATA) return "duplicate";
      const prev = this.#index.get(keyOf(block.header.prevHash));
      if (!prev) return "prev-blk-not-found";
      if (prev.status & FAILED_ANY) return "bad-prevblk";
      const parent = this.#parentInfo(prev);
      try {
        if (!existing) contextualCheckBlockHeader(block.header, parent, this.#now());
      } catch (error) {
        return rejectReason(error);
      }
      try {
        contextualCheckBlock(block, parent);
      } catch (error) {
        const reason = rejectReason(error);
        const mutated = (error as ValidationError).kind === "mutated";
        // A mutated block proves nothing about its header, which stays acceptable.
        if (!existing) this.#storeEntry(block.header, prev, mutated ? 0 : BlockStatus.FAILED);
        else if (!mutated) this.#setStatus([[existing, existing.status | BlockStatus.FAILED]]);
        return reason;
      }
      this.#storeEntry(block.header, prev, BlockStatus.HAVE_DATA, block, existing);
      const outcome = this.#activateBestChain(hash, { block, txids });
      if (outcome === undefined) return "inconclusive";
      return outcome === "valid" ? null : outcome.reason;
    });
  }

  /**
   * `TestBlockValidity`: whether `block` would be a valid next block on the
   * active tip, without storing anything. Null when valid, else the error
   * (`inconclusive-not-best-prevblk` when it does not build on the tip).
   */
  testBlockValidity(block: Block, options: CheckBlockOptions = {}): ValidationError | null {
    if (!bytesEqual(block.header.prevHash, this.tip.hash)) {
      return new ValidationError("inconclusive-not-best-prevblk");
    }
    try {
      const txids = checkBlock(block, options);
      const parent = this.#parentInfo(this.#tipEntry());
      contextualCheckBlockHeader(block.header, parent, this.#now());
      contextualCheckBlock(block, parent);
      connectBlock(
        block,
        this.#connectContext(this.#tipEntry()),
        new CoinsCache(this),
        BLOCK_SCRIPT_VERIFY_FLAGS,
        txids,
      );
      return null;
    } catch (error) {
      if (error instanceof ValidationError) return error;
      throw error;
    }
  }

  /**
   * `invalidateblock`: marks a block invalid (and its descendants), moving
   * the active chain off it to the best remaining valid chain. The genesis
   * block is left alone, without an error (Core's `InvalidateBlock` returns
   * false for it and the RPC answers null). Throws `Block not found` for an
   * unknown hash.
   */
  invalidateBlock(hash: Hash): void {
    this.#exclusive(() => {
      const entry = this.#lookup(hash);
      if (entry.height === 0) return;
      const changes: [IndexEntry, number][] = [[entry, entry.status | BlockStatus.FAILED]];
      for (const other of this.#index.values()) {
        if (other !== entry && this.ancestor(other, entry.height) === entry) {
          changes.push([other, other.status | BlockStatus.FAILED_CHILD]);
        }
      }
      this.#setStatus(changes);
      this.#activateBestChain(undefined, undefined, entry);
    });
  }

  /**
   * `reconsiderblock`: clears the invalid marks of a block, its descendants
   * and its ancestors, and activates the best chain again. Throws
   * `Block not found` for an unknown hash.
   */
  reconsiderBlock(hash: Hash): void {
    this.#exclusive(() => {
      const entry = this.#lookup(hash);
      const changes: [IndexEntry, number][] = [];
      for (const other of this.#index.values()) {
        if (!(other.status & FAILED_ANY)) continue;
        const related = this.ancestor(other, entry.height) === entry ||
          this.ancestor(entry, other.height) === other;
        if (related) changes.push([other, other.status & ~FAILED_ANY]);
      }
      this.#setStatus(changes);
      // Core's ResetBlockFailureFlags forgets the best invalid block if it is this one or below it.
      const best = this.#bestInvalid;
      if (best && this.ancestor(best, entry.height) === entry) this.#bestInvalid = null;
      this.#activateBestChain();
    });
  }

  /**
   * `preciousblock` (`Chainstate::PreciousBlock`): a block with at least the
   * tip's work is treated as received before every other block of equal
   * work (later calls win over earlier ones), and the best chain is
   * activated again. Not kept across restarts. Throws `Block not found` for
   * an unknown hash.
   */
  preciousBlock(hash: Hash): void {
    this.#exclusive(() => {
      const entry = this.#lookup(hash);
      const tip = this.#tipEntry();
      if (entry.chainWork < tip.chainWork) return;
      // The chain grew since the last call: start the ranks over.
      if (tip.chainWork > this.#lastPreciousWork) this.#nextPrecious = -1;
      this.#lastPreciousWork = tip.chainWork;
      this.#precious.set(entry, this.#nextPrecious);
      this.#nextPrecious = Math.max(this.#nextPrecious - 1, -(2 ** 31));
      this.#activateBestChain();
    });
  }

  /**
   * `submitheader` (`AcceptBlockHeader`): stores a valid header whose parent
   * is known as a headers-only entry. Null when accepted (or already
   * known and not invalid); otherwise `prev-blk-not-found`, `duplicate`
   * (known invalid), `bad-prevblk`, or the header's reject reason.
   */
  processHeader(header: BlockHeader): string | null {
    return this.#exclusive(() => {
      const existing = this.#index.get(keyOf(blockHash(header)));
      if (existing) return existing.status & FAILED_ANY ? "duplicate" : null;
      try {
        checkBlockHeader(header);
      } catch (error) {
        return rejectReason(error);
      }
      const prev = this.#index.get(keyOf(header.prevHash));
      if (!prev) return "prev-blk-not-found";
      if (prev.status & FAILED_ANY) return "bad-prevblk";
      try {
        contextualCheckBlockHeader(header, this.#parentInfo(prev), this.#now());
      } catch (error) {
        return rejectReason(error);
      }
      this.#storeEntry(header, prev, 0);
      return null;
    });
  }

  /**
   * `CVerifyDB::VerifyDB` over the last `depth` blocks of the active chain
   * (all of them when `depth` is 0 or more than the height), reading the
   * stored data again: level 0 reads each block, 1 checks it
   * (`CheckBlock`), 2 reads its undo data, 3 disconnects the blocks from
   * the tip in memory and checks every coin comes back as it was, 4
   * connects them again with full validation. Returns null when all is
   * well, else Core's `Verification error: …` text.
   */
  verifyChain(level: number, depth: number): string | null {
    level = Math.max(0, Math.min(4, level));
    if (depth <= 0 || depth > this.height) depth = this.height;
    const checked: { entry: IndexEntry; block: Block }[] = [];
    const view = new CoinsCache(this);
    for (let height = this.height; height > this.height - depth; height--) {
      const entry = this.#active[height];
      const at = `at ${height}, hash=${hashToHex(entry.hash)}`;
      let block: Block | undefined;
      try {
        block = this.readBlock(entry.hash);
      } catch {
        block = undefined;
      }
      if (!block || !bytesEqual(blockHash(block.header), entry.hash)) {
        return `Verification error: ReadBlock failed ${at}`;
      }
      if (level >= 1) {
        try {
          checkBlock(block);
        } catch (error) {
          return `Verification error: found bad block ${at} (${rejectReason(error)})`;
        }
      }
      let undo: Coin[][] | undefined;
      if (level >= 2) {
        try {
          undo = this.readUndo(entry.hash);
        } catch {
          undo = undefined;
        }
        if (!undo) return `Verification error: found bad undo data ${at}`;
      }
      if (level >= 3) {
        let clean: boolean;
        try {
          clean = disconnectBlock(block, undo!, view, height);
        } catch {
          clean = false;
        }
        if (!clean) return `Verification error: irrecoverable inconsistency in block data ${at}`;
        checked.push({ entry, block });
      }
    }
    if (level >= 4) {
      for (const { entry, block } of checked.reverse()) {
        try {
          connectBlock(block, this.#connectContext(entry.prev!), view, BLOCK_SCRIPT_VERIFY_FLAGS);
        } catch (error) {
          return `Verification error: found unconnectable block at ${entry.height}, hash=${
            hashToHex(entry.hash)
          } (${rejectReason(error)})`;
        }
      }
    }
    return null;
  }

  /**
   * Every unspent output of the active chain, in Core's cursor order
   * (txid bytes, then index), read through a connection of its own in one
   * read transaction: a consistent snapshot however long the caller takes
   * between steps (blocks may connect meanwhile). Stop early by leaving
   * the loop; the snapshot ends when the generator does.
   */
  *snapshotCoins(): Generator<readonly [OutPoint, Coin]> {
    const db = new DatabaseSync(this.#path);
    try {
      db.exec("BEGIN");
      const rows = db.prepare(
        "SELECT txid, vout, amount, script, height, coinbase FROM utxo ORDER BY txid, vout",
      );
      rows.setReadBigInts(true);
      for (const row of rows.iterate()) yield coinRow(row);
      db.exec("COMMIT");
    } finally {
      db.close();
    }
  }

  /** Every chain tip with its branch length and status (`getchaintips`), highest first, active first. */
  chainTips(): ChainTip[] {
    const parents = new Set<IndexEntry>();
    for (const entry of this.#index.values()) {
      if (!this.isActive(entry) && entry.prev) parents.add(entry.prev);
    }
    const tips = [...this.#index.values()].filter((entry) =>
      !this.isActive(entry) && !parents.has(entry)
    );
    tips.push(this.#tipEntry());
    // Highest first; at one height the active tip, then by arrival (Core's order is arbitrary).
    const rank = (entry: IndexEntry) => (this.isActive(entry) ? -1 : entry.sequence);
    tips.sort((a, b) => b.height - a.height || rank(a) - rank(b));
    return tips.map((entry) => ({
      height: entry.height,
      hash: entry.hash,
      branchLength: entry.height - this.findFork(entry).height,
      status: this.#tipStatus(entry),
    }));
  }

  /** Statistics of the UTXO set, including `hash_serialized_3` (a full scan). */
  utxoStats(): UtxoStats {
    const rows = this.#db.prepare(
      "SELECT txid, vout, amount, script, height, coinbase FROM utxo ORDER BY txid, vout",
    );
    rows.setReadBigInts(true);
    const summary = new UtxoSummary();
    for (const row of rows.iterate()) summary.add(...coinRow(row));
    return { height: this.height, bestBlock: this.tip.hash, ...summary.finish() };
  }

  /**
   * The UTXO set of the active chain rebuilt by replaying its stored blocks
   * (spending each input, adding each spendable output), independently of
   * the stored UTXO table and the connection code: compare it with
   * {@linkcode summarizeUtxoSet} against {@linkcode ChainState.utxoStats}.
   * Throws `Corrupted block database detected: …` when a block spends an
   * output that is not there.
   */
  rebuildUtxoSet(): Map<string, readonly [OutPoint, Coin]> {
    const coins = new Map<string, readonly [OutPoint, Coin]>();
    for (const entry of this.#active.slice(1)) {
      const block = this.readBlock(entry.hash);
      if (!block) {
        throw new Error(`Corrupted block database detected: no data for ${hashToHex(entry.hash)}`);
      }
      for (const tx of block.txs) {
        const coinbase = isCoinbase(tx);
        if (!coinbase) {
          for (const input of tx.inputs) {
            const key = outpointKey(prevout(input));
            if (!coins.delete(key)) {
              throw new Error(
                `Corrupted block database detected: block ${
                  hashToHex(entry.hash)
                } spends missing ${key}`,
              );
            }
          }
        }
        const hash = txid(tx);
        tx.outputs.forEach((output, index) => {
          if (isUnspendable(output.script)) return;
          const outpoint = { txid: hash, index };
          coins.set(outpointKey(outpoint), [outpoint, {
            amount: output.amount,
            script: output.script,
            height: entry.height,
            coinbase,
          }]);
        });
      }
    }
    return coins;
  }

  /** Runs `fn` with no other state change in progress (listeners may only read). */
  #exclusive<T>(fn: () => T): T {
    if (this.#busy) {
      throw new Error("ChainState: a change is already in progress (called from a listener?)");
    }
    this.#busy = true;
    try {
      return fn();
    } finally {
      this.#busy = false;
    }
  }

  #lookup(hash: Hash): IndexEntry {
    const entry = this.#index.get(keyOf(hash));
    if (!entry) throw new Error("Block not found");
    return entry;
  }

  #tipEntry(): IndexEntry {
    return this.#active[this.#active.length - 1];
  }

  #parentInfo(parent: IndexEntry): ParentInfo {
    return { height: parent.height, medianTimePast: this.medianTimePast(parent) };
  }

  #connectContext(parent: IndexEntry) {
    return {
      height: parent.height + 1,
      prevMedianTimePast: this.medianTimePast(parent),
      medianTimePastAt: (height: number) => this.medianTimePast(this.ancestor(parent, height)!),
    };
  }

  #tipStatus(entry: IndexEntry): ChainTip["status"] {
    if (this.isActive(entry)) return "active";
    if (entry.status & FAILED_ANY) return "invalid";
    if (!this.#branchAll(entry, (e) => (e.status & BlockStatus.HAVE_DATA) !== 0)) {
      return "headers-only";
    }
    return entry.status & BlockStatus.VALID ? "valid-fork" : "valid-headers";
  }

  /** Whether `test` holds for the entry and each ancestor down to (not including) the active chain. */
  #branchAll(entry: IndexEntry, test: (entry: IndexEntry) => boolean): boolean {
    for (
      let cursor: IndexEntry | undefined = entry;
      cursor && !this.isActive(cursor);
      cursor = cursor.prev
    ) {
      if (!test(cursor)) return false;
    }
    return true;
  }

  /** Runs `write` in one SQLite transaction. */
  #atomically(write: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      write();
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Persists a new index entry (or gives an existing header its data) and indexes it. */
  #storeEntry(
    header: BlockHeader,
    prev: IndexEntry,
    status: number,
    block?: Block,
    existing?: IndexEntry,
  ): void {
    const hash = blockHash(header);
    const txCount = block?.txs.length ?? 0;
    const entry = existing ?? new IndexEntry(
      hash,
      header,
      prev.height + 1,
      prev.chainWork + blockProof(header.bits),
      status,
      this.#nextSequence,
      txCount,
      prev,
    );
    this.#atomically(() => {
      this.#sql.putEntry.run(
        hash,
        entry.height,
        encodeHeader(header),
        entry.status | status,
        entry.sequence,
        txCount,
      );
      if (block) this.#sql.putBlock.run(hash, encodeBlock(block));
    });
    entry.status |= status;
    entry.txCount = txCount;
    if (!existing) {
      this.#index.set(keyOf(hash), entry);
      this.#nextSequence++;
    }
  }

  /** Persists new status bits for several entries at once. */
  #setStatus(changes: readonly [IndexEntry, number][]): void {
    if (changes.length === 0) return;
    this.#atomically(() => {
      for (const [entry, status] of changes) this.#sql.setStatus.run(status, entry.hash);
    });
    for (const [entry, status] of changes) entry.status = status;
  }

  /** Writes the changes of a coins cache, then the other statements, in one transaction. */
  #commitCoins(view: CoinsCache, more: () => void): void {
    this.#atomically(() => {
      for (const { outpoint, coin } of view.changes()) {
        if (coin) {
          this.#sql.addCoin.run(
            outpoint.txid,
            outpoint.index,
            coin.amount,
            coin.script,
            coin.height,
            coin.coinbase ? 1 : 0,
          );
        } else {
          this.#sql.deleteCoin.run(outpoint.txid, outpoint.index);
        }
      }
      more();
    });
  }

  /**
   * Moves the active chain to the best valid chain (most work, earliest
   * received), disconnecting and connecting block by block in Core's steps
   * (see {@linkcode ChainListener} for what is told when). A block that
   * fails to connect is marked invalid with its descendants, and the search
   * starts again. Returns what became of block `watch` if it was connected
   * or failed: `"valid"` or its error. Any other error is thrown once the
   * events of what was done are told. After `invalidateblock` of
   * `invalidated`, the active chain is first taken off it.
   */
  #activateBestChain(
    watch?: Hash,
    known?: { block: Block; txids: Hash[] },
    invalidated?: IndexEntry,
  ): "valid" | ValidationError | undefined {
    const startTip = this.#tipEntry();
    let outcome: "valid" | ValidationError | undefined;
    /** Blocks connected in the current step, told after it (Core's `ConnectTrace`). */
    let connected: BlockEvent[] = [];
    /** Whether the current step disconnected blocks the mempool has not settled yet. */
    let unsettled = false;
    try {
      // Core's InvalidateBlock: an invalid tip goes block by block, the mempool made consistent
      // after each; the tip it leaves is told to -blocknotify.
      let gone = 0;
      while (this.#tipEntry().status & FAILED_ANY) {
        this.#disconnectTip();
        gone++;
        this.#notify((listener) => listener.reorganized?.(gone <= 10));
      }
      const left = this.#tipEntry();
      if (invalidated) {
        // Core's InvalidateBlock ends in InvalidChainFound, which checks the fork warning.
        this.#invalidChainFound(invalidated);
        this.#checkForkWarning();
      }
      if (gone > 0) this.#notify((listener) => listener.tipInvalidated?.(left));
      // Core's ActivateBestChain: each iteration takes steps until the tip is no worse than where
      // it began, then tells UpdatedBlockTip unless the tip only went back.
      for (;;) {
        const iterationStart = this.#tipEntry();
        const told: BlockEvent[] = [];
        let stepped = false;
        do {
          const best = this.#bestCandidate();
          if (best === this.#tipEntry()) break;
          // One step: back to the fork, forward until the tip has more work than the step began with.
          const stepStart = this.#tipEntry();
          const fork = this.findFork(best) as IndexEntry;
          while (this.#tipEntry() !== fork) {
            this.#disconnectTip();
            unsettled = true;
          }
          const path: IndexEntry[] = [];
          for (let cursor = best; cursor !== fork; cursor = cursor.prev!) path.push(cursor);
          for (const [i, entry] of path.reverse().entries()) {
            const watched = watch !== undefined && bytesEqual(entry.hash, watch);
            try {
              connected.push(this.#connectTip(entry, watched ? known : undefined));
              if (watched) outcome = "valid";
            } catch (error) {
              if (!(error instanceof ValidationError)) throw error;
              this.#markInvalid(entry);
              // Core's ConnectTip: InvalidBlockFound(pindexNew), which calls InvalidChainFound.
              this.#invalidChainFound(entry);
              this.#notify((listener) => listener.connectFailed?.(entry, error));
              // Then ActivateBestChainStep's InvalidChainFound(vpindexToConnect.front()): the
              // top of the batch of up to 32 blocks this one was to be connected in.
              const batchTop = Math.min(
                fork.height + BATCH * (Math.floor(i / BATCH) + 1),
                best.height,
              );
              this.#invalidChainFound(this.ancestor(best, batchTop) as IndexEntry);
              if (watched) outcome = error;
              break;
            }
            if (entry.chainWork > stepStart.chainWork) break;
          }
          if (unsettled) {
            unsettled = false;
            this.#notify((listener) => listener.reorganized?.(true));
          }
          this.#checkForkWarning();
          const events = connected;
          connected = [];
          for (const event of events) this.#notify((listener) => listener.blockConnected?.(event));
          told.push(...events);
          stepped = true;
        } while (this.#worse(this.#tipEntry(), iterationStart));
        if (!stepped) break;
        const tip = this.#tipEntry();
        const fork = this.findFork(iterationStart);
        // A tip off the iteration's start was connected in it: its last connection is in force.
        const event = told.findLast((connection) => connection.entry === tip);
        if (tip !== fork && event) {
          this.#notify((listener) => listener.updatedBlockTip?.(event, fork));
        }
      }
    } finally {
      // After a failure that is no block's: Core's MaybeUpdateMempoolForReorg(disconnectpool,
      // false) for the step's disconnections; the blocks connected and stored are told all the same.
      if (unsettled) this.#notify((listener) => listener.reorganized?.(false));
      for (const event of connected) this.#notify((listener) => listener.blockConnected?.(event));
      const tip = this.#tipEntry();
      if (tip !== startTip) this.#notify((listener) => listener.tipChanged?.(tip));
    }
    return outcome;
  }

  /** The best entry whose branch is fully stored and not known invalid (the tip if none beats it). */
  #bestCandidate(): IndexEntry {
    let best = this.#tipEntry();
    for (const entry of this.#index.values()) {
      const usable = (e: IndexEntry) =>
        !(e.status & FAILED_ANY) && (e.status & BlockStatus.HAVE_DATA) !== 0;
      if (this.#worse(best, entry) && this.#branchAll(entry, usable)) best = entry;
    }
    return best;
  }

  /**
   * Core's `CBlockIndexWorkComparator`: whether `a` is a worse tip than `b`
   * (less work, or as much and ranked after it).
   */
  #worse(a: IndexEntry, b: IndexEntry): boolean {
    return a.chainWork < b.chainWork ||
      (a.chainWork === b.chainWork && this.#rank(a) > this.#rank(b));
  }

  /** The order among equal-work candidates: `preciousblock` first, then arrival. */
  #rank(entry: IndexEntry): number {
    return this.#precious.get(entry) ?? entry.sequence;
  }

  /**
   * Core's `InvalidChainFound`: `entry` becomes the best invalid block if it
   * has more work; the listeners are told, with the tip.
   */
  #invalidChainFound(entry: IndexEntry): void {
    if (this.#bestInvalid === null || entry.chainWork > this.#bestInvalid.chainWork) {
      this.#bestInvalid = entry;
    }
    const tip = this.#tipEntry();
    this.#notify((listener) => listener.invalidChainFound?.(entry, tip));
  }

  /** Core's `CheckForkWarningConditions`, told to the listeners. */
  #checkForkWarning(): void {
    const tip = this.#tipEntry();
    const ahead = this.#bestInvalid !== null &&
      this.#bestInvalid.chainWork > tip.chainWork + blockProof(tip.header.bits) * 6n;
    this.#notify((listener) => listener.forkWarningChecked?.(ahead));
  }

  /** Marks an entry invalid and every entry descending from it invalid-child. */
  #markInvalid(entry: IndexEntry): void {
    const changes: [IndexEntry, number][] = [[entry, entry.status | BlockStatus.FAILED]];
    for (const other of this.#index.values()) {
      if (other !== entry && this.ancestor(other, entry.height) === entry) {
        changes.push([other, other.status | BlockStatus.FAILED_CHILD]);
      }
    }
    this.#setStatus(changes);
  }

  /** Validates and connects `entry` on top of the tip, in one transaction; its event, for after the step. */
  #connectTip(entry: IndexEntry, known?: { block: Block; txids: Hash[] }): BlockEvent {
    const block = known?.block ?? this.readBlock(entry.hash);
    if (!block) throw new Error(`block ${hashToHex(entry.hash)} has no stored data`);
    const txids = known?.txids ?? block.txs.map(txid);
    const view = new CoinsCache(this);
    const { undo } = connectBlock(
      block,
      this.#connectContext(entry.prev!),
      view,
      BLOCK_SCRIPT_VERIFY_FLAGS,
      txids,
    );
    const status = entry.status | BlockStatus.VALID;
    this.#commitCoins(view, () => {
      this.#sql.putUndo.run(entry.hash, encodeUndo(undo));
      this.#sql.setStatus.run(status, entry.hash);
      this.#sql.setMeta.run("tip", entry.hash);
    });
    entry.status = status;
    this.#active.push(entry);
    const event = { block, entry, txids };
    this.#notify((listener) => listener.tipConnected?.(event));
    return event;
  }

  /** Disconnects the tip through its undo data, in one transaction. */
  #disconnectTip(): void {
    const entry = this.#tipEntry();
    const block = this.readBlock(entry.hash);
    const undo = this.readUndo(entry.hash);
    if (!block || !undo) {
      throw new Error(`block ${hashToHex(entry.hash)} lacks its data or undo data`);
    }
    const txids = block.txs.map(txid);
    const view = new CoinsCache(this);
    disconnectBlock(block, undo, view, entry.height, txids);
    this.#commitCoins(view, () => this.#sql.setMeta.run("tip", entry.prev!.hash));
    this.#active.pop();
    this.#notify((listener) => listener.blockDisconnected?.({ block, entry, txids }));
  }

  #notify(call: (listener: ChainListener) => void): void {
    for (const listener of this.#listeners) {
      try {
        call(listener);
      } catch (error) {
        console.error("chain listener failed:", error);
      }
    }
  }

  /** Creates genesis on first use, loads the index, and checks it against the tip and undo data. */
  #load(): void {
    const corrupt = (what: string): never => {
      throw new Error(`Corrupted block database detected: ${what}`);
    };
    const meta = new Map<string, Uint8Array>();
    for (const row of this.#db.prepare("SELECT key, value FROM meta").all()) {
      const { key, value } = row as { key: string; value: Uint8Array };
      meta.set(key, value);
    }
    if (!meta.has("tip")) {
      const genesis = encodeBlock(GENESIS_BLOCK);
      this.#atomically(() => {
        this.#sql.putEntry.run(
          GENESIS_HASH,
          0,
          encodeHeader(GENESIS_BLOCK.header),
          BlockStatus.HAVE_DATA | BlockStatus.VALID,
          0,
          GENESIS_BLOCK.txs.length,
        );
        this.#sql.putBlock.run(GENESIS_HASH, genesis);
        this.#sql.setMeta.run("version", Uint8Array.of(SCHEMA_VERSION));
        this.#sql.setMeta.run("tip", GENESIS_HASH);
      });
      meta.set("version", Uint8Array.of(SCHEMA_VERSION));
      meta.set("tip", GENESIS_HASH);
    }
    if (meta.get("version")?.[0] !== SCHEMA_VERSION) corrupt("unknown schema version");
    const rows = this.#db.prepare(
      "SELECT hash, height, header, status, sequence, tx_count FROM block_index ORDER BY height, sequence",
    ).all() as {
      hash: Uint8Array;
      height: number;
      header: Uint8Array;
      status: number;
      sequence: number;
      tx_count: number;
    }[];
    for (const row of rows) {
      const header = decodeHeader(row.header);
      if (!bytesEqual(blockHash(header), row.hash)) {
        corrupt(`header of ${hashToHex(row.hash)} does not hash to it`);
      }
      let prev: IndexEntry | undefined;
      if (row.height === 0) {
        if (!bytesEqual(row.hash, GENESIS_HASH)) {
          corrupt("a height-0 block is not the regtest genesis");
        }
      } else {
        prev = this.#index.get(keyOf(header.prevHash));
        if (!prev || prev.height !== row.height - 1) {
          corrupt(`block ${hashToHex(row.hash)} has no parent`);
        }
      }
      const chainWork = (prev?.chainWork ?? 0n) + blockProof(header.bits);
      const entry = new IndexEntry(
        row.hash,
        header,
        row.height,
        chainWork,
        row.status,
        row.sequence,
        row.tx_count,
        prev,
      );
      this.#index.set(keyOf(row.hash), entry);
      this.#nextSequence = Math.max(this.#nextSequence, row.sequence + 1);
      if (entry.status & FAILED_ANY) this.#invalidChainFound(entry);
    }
    const tip = this.#index.get(keyOf(meta.get("tip")!));
    if (!tip) corrupt("the tip is not in the block index");
    for (let cursor: IndexEntry | undefined = tip; cursor; cursor = cursor.prev) {
      this.#active[cursor.height] = cursor;
    }
    if (this.#active[0] === undefined || !bytesEqual(this.#active[0].hash, GENESIS_HASH)) {
      corrupt("the tip does not descend from genesis");
    }
    const undone = new Set<string>();
    for (const row of this.#db.prepare("SELECT hash FROM block_undo").all()) {
      undone.add(keyOf((row as { hash: Uint8Array }).hash));
    }
    for (const entry of this.#active.slice(1)) {
      const complete = entry.status & BlockStatus.HAVE_DATA && entry.status & BlockStatus.VALID;
      if (!complete || !undone.has(keyOf(entry.hash))) {
        corrupt(`active block ${hashToHex(entry.hash)} lacks its data, validity or undo data`);
      }
    }
  }
}

/** A row of the `utxo` table (read with big integers) as an outpoint and its coin. */
function coinRow(row: unknown): [OutPoint, Coin] {
  const { txid, vout, amount, script, height, coinbase } = row as {
    txid: Uint8Array;
    vout: bigint;
    amount: bigint;
    script: Uint8Array;
    height: bigint;
    coinbase: bigint;
  };
  return [
    { txid, index: Number(vout) },
    { amount, script, height: Number(height), coinbase: coinbase === 1n },
  ];
}

/** The reject reason of a validation failure; anything else is rethrown. */
function rejectReason(error: unknown): string {
  if (error instanceof ValidationError) return error.reason;
  throw error;
}

/**
 * Opens the SQLite database at `path` (in write-ahead mode), creating its
 * directory and the file as their owner's only (0700, 0600: bitcoind's
 * umask 077; SQLite gives the `-wal` and `-shm` files it makes beside a
 * database the database's mode), and runs `schema`.
 */
export function openPrivateDatabase(path: string, schema: string): DatabaseSync {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    Deno.openSync(path, { write: true, createNew: true, mode: 0o600 }).close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    db.exec(schema);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** The UTXO set part of {@linkcode UtxoStats}, accumulated coin by coin in key order. */
class UtxoSummary {
  readonly #hasher = sha256.create();
  #txouts = 0;
  #bogosize = 0;
  #totalAmount = 0n;
  #transactions = 0;
  #previous: Uint8Array | undefined;

  /** Adds the next coin; coins must come ordered by (internal txid bytes, index). */
  add(outpoint: OutPoint, coin: Coin): void {
    if (!this.#previous || !bytesEqual(this.#previous, outpoint.txid)) this.#transactions++;
    this.#previous = outpoint.txid;
    this.#txouts++;
    this.#bogosize += bogoSize(coin.script);
    this.#totalAmount += coin.amount;
    const fixed = new Uint8Array(48);
    const view = new DataView(fixed.buffer);
    fixed.set(outpoint.txid);
    view.setUint32(32, outpoint.index, true);
    view.setUint32(36, coin.height * 2 + (coin.coinbase ? 1 : 0), true);
    view.setBigUint64(40, coin.amount, true);
    this.#hasher.update(fixed).update(CompactSizeLen.encode(coin.script.length)).update(
      coin.script,
    );
  }

  finish(): Omit<UtxoStats, "height" | "bestBlock"> {
    return {
      txouts: this.#txouts,
      bogosize: this.#bogosize,
      hashSerialized: sha256(this.#hasher.digest()),
      totalAmount: this.#totalAmount,
      transactions: this.#transactions,
    };
  }
}

/**
 * The statistics {@linkcode ChainState.utxoStats} would report for a UTXO set
 * given coin by coin in any order (`hash_serialized_3` included): for
 * checking a chain state against a set rebuilt some other way, such as by
 * replaying its stored blocks ({@linkcode ChainState.rebuildUtxoSet}).
 */
export function summarizeUtxoSet(
  coins: Iterable<readonly [OutPoint, Coin]>,
): Omit<UtxoStats, "height" | "bestBlock"> {
  const sorted = [...coins].sort(([a], [b]) => compareBytes(a.txid, b.txid) || a.index - b.index);
  const summary = new UtxoSummary();
  for (const [outpoint, coin] of sorted) summary.add(outpoint, coin);
  return summary.finish();
}
