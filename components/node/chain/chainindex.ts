/**
 * What every optional index of the chain shares (Bitcoin Core's
 * `BaseIndex`): a database of its own beside the chain state, the last
 * block it indexed, a catch-up with the active chain in the background
 * after a start (in batches, the event loop free in between), and, once
 * caught up, each block as it connects. A reorganisation moves the last
 * block back to where the branches part; what a disconnected block left
 * stays, as in Core. A subclass says what it writes for one block.
 *
 * @example
 * ```ts
 * import { addressToScript, type Block, type BlockEntry, ChainIndex, ChainState, generateBlock } from "./mod.ts";
 * class CountIndex extends ChainIndex {
 *   readonly counted: number[] = [];
 *   constructor(dir: string, chain: ChainState) {
 *     super("countindex", `${dir}/count.sqlite`, "", chain);
 *   }
 *   protected writeBlock(entry: BlockEntry, block: Block): void {
 *     this.counted.push(entry.height, block.txs.length);
 *   }
 * }
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(`${dir}/chain`);
 *   const payoutScript = addressToScript("bcrt1q0xcqpzrky6eff2g52qdye53xkk9jxkvrl4xfg5");
 *   generateBlock(chain, { payoutScript });
 *   using index = new CountIndex(dir, chain);
 *   await index.sync();
 *   generateBlock(chain, { payoutScript }); // followed as it connects
 *   if (index.counted.join() !== "0,1,1,1,2,1" || index.bestHeight !== 2) throw new Error("each block once");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { Block } from "./block.ts";
import { type BlockEntry, type ChainState, openPrivateDatabase } from "./chainstate.ts";
import type { Hash } from "./hash.ts";

/** Blocks indexed per database transaction while catching up, at most. */
const SYNC_BATCH = 100;
/** Transactions indexed per database transaction while catching up, at most (a batch ends past it). */
const SYNC_BATCH_TXS = 10_000;

const META_SCHEMA =
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;";

/** An index that follows the active chain; {@linkcode writeBlock} says what it keeps. */
export abstract class ChainIndex implements Disposable {
  /** The index's own database (its schema and a `meta` table with the last block). */
  protected readonly db: DatabaseSync;
  /** The chain it indexes. */
  protected readonly chain: ChainState;
  /** Core's index name, as getindexinfo and the log show it. */
  readonly name: string;
  readonly #log: (message: string) => void;
  readonly #setBest;
  readonly #following: Disposable;
  /** The last block indexed; undefined before the genesis block is. */
  #best: BlockEntry | undefined;
  #synced = false;
  /** The catch-up running, if one is. */
  #syncing: Promise<void> | undefined;
  #closed = false;

  /**
   * Opens (creating it if needed) the database at `path` with `schema`,
   * resuming after its last block, or from where that block's branch leaves
   * the active chain. Call {@linkcode sync} or {@linkcode catchUp} to catch up.
   */
  protected constructor(
    name: string,
    path: string,
    schema: string,
    chain: ChainState,
    log: (message: string) => void = () => {},
  ) {
    const db = openPrivateDatabase(path, META_SCHEMA + schema);
    try {
      const row = db.prepare("SELECT value FROM meta WHERE key = 'best'").get() as
        | { value: Uint8Array }
        | undefined;
      const stored = row && chain.entry(row.value);
      this.#best = stored && chain.findFork(stored);
      this.#setBest = db.prepare("INSERT OR REPLACE INTO meta VALUES ('best', ?)");
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
    this.chain = chain;
    this.name = name;
    this.#log = log;
    // Until caught up, the catch-up reads what connects; afterwards each block as it connects.
    // A block the index missed (its write failed) sends it back to catching up.
    this.#following = chain.subscribe({
      blockConnected: ({ block, entry, txids }) => {
        // Behind (a write failed, or a catch-up gave up): try again as the chain moves on.
        if (!this.#synced) {
          if (this.#syncing === undefined) this.catchUp();
          return;
        }
        if (entry.prev !== this.#best) {
          this.#synced = false;
          this.catchUp();
          return;
        }
        try {
          this.#append([[entry, block, txids]]);
        } catch (error) {
          this.#synced = false;
          this.#log(`${this.name}: ${(error as Error).message}`);
        }
      },
      blockDisconnected: ({ entry }) => {
        if (this.#synced && entry === this.#best) this.#moveBest(entry.prev!);
      },
    });
  }

  /**
   * Writes what the index keeps for `block` (at `entry`; its `txids` when
   * already known), inside the transaction of its batch; blocks come in
   * chain order, the genesis block first.
   */
  protected abstract writeBlock(
    entry: BlockEntry,
    block: Block,
    txids: readonly Hash[] | undefined,
  ): void;

  /** Whether the index has caught up with the chain (Core's `synced`). */
  get synced(): boolean {
    return this.#synced;
  }

  /** The height of the last block indexed (Core's `best_block_height`; 0 before any). */
  get bestHeight(): number {
    return this.#best?.height ?? 0;
  }

  /**
   * Catches up with the active chain, `SYNC_BATCH` blocks (or
   * `SYNC_BATCH_TXS` transactions) per database transaction with the event
   * loop free in between; resolves once synced, or early when the index
   * closes or `signal` aborts. One catch-up runs at a time.
   */
  sync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    this.#syncing ??= this.#catchUpNow(signal).finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  /** Starts {@linkcode sync} in the background; a failure is logged, and the index stays behind. */
  catchUp(): void {
    this.sync().catch((error) => this.#log(`${this.name}: ${(error as Error).message}`));
  }

  async #catchUpNow(signal?: AbortSignal): Promise<void> {
    this.#log(`Syncing ${this.name} with block chain from height ${this.bestHeight}`);
    while (!this.#closed && !signal?.aborted) {
      // A reorganisation while catching up: go on from where the branches part.
      if (this.#best && !this.chain.isActive(this.#best)) {
        this.#moveBest(this.chain.findFork(this.#best));
      }
      this.#append(this.#batch(this.#best ? this.#best.height + 1 : 0));
      if (this.#best === this.chain.tip) {
        this.#synced = true;
        this.#log(`${this.name} is enabled at height ${this.bestHeight}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  /** The active chain's next blocks from `start`, read one at a time, as many as a batch takes. */
  *#batch(start: number): Generator<[BlockEntry, Block, undefined]> {
    const stop = Math.min(start + SYNC_BATCH - 1, this.chain.height);
    let txs = 0;
    for (let height = start; height <= stop && txs < SYNC_BATCH_TXS; height++) {
      const entry = this.chain.entryAtHeight(height)!;
      const block = this.chain.readBlock(entry.hash);
      if (!block) throw new Error(`block at height ${height} has no stored data`);
      txs += block.txs.length;
      yield [entry, block, undefined];
    }
  }

  /** Indexes consecutive blocks in one transaction. */
  #append(
    blocks: Iterable<readonly [BlockEntry, Block, readonly Hash[] | undefined]>,
  ): void {
    let last: BlockEntry | undefined;
    this.db.exec("BEGIN IMMEDIATE");
    try {
      for (const [entry, block, txids] of blocks) {
        this.writeBlock(entry, block, txids);
        last = entry;
      }
      if (last) this.#setBest.run(last.hash);
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
    if (last) this.#best = last;
  }

  #moveBest(entry: BlockEntry): void {
    this.#setBest.run(entry.hash);
    this.#best = entry;
  }

  /** Stops following the chain and closes the database. */
  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#following[Symbol.dispose]();
    this.db.close();
  }
}
