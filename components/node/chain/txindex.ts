/**
 * Bitcoin Core's transaction index (`-txindex`): the block of every
 * transaction of the active chain, so that `getrawtransaction` finds a
 * confirmed transaction without being told its block.
 *
 * As Core's `TxIndex`, it lives apart from the chain state
 * (`<netdir>/indexes/txindex/`), leaves out the genesis block's coinbase,
 * catches up with the chain in the background after a start (in batches,
 * the event loop free in between) and follows it block by block once it
 * has. Entries of a block a reorganisation disconnected stay until a block
 * of the new branch replaces them, as Core's do; the reader checks the
 * block it is pointed to.
 *
 * @example
 * ```ts
 * import { addressToScript, ChainState, generateBlock, hashToHex, TxIndex, txid } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(`${dir}/chain`);
 *   const payoutScript = addressToScript("bcrt1q0xcqpzrky6eff2g52qdye53xkk9jxkvrl4xfg5");
 *   const first = generateBlock(chain, { payoutScript });
 *   using index = TxIndex.open(`${dir}/txindex`, chain);
 *   await index.sync();
 *   const second = generateBlock(chain, { payoutScript }); // followed as it connects
 *   const found = [first, second].map((block) => index.find(txid(block.txs[0]))!);
 *   if (found.map(hashToHex).join() !== [1, 2].map((h) => hashToHex(chain.entryAtHeight(h)!.hash)).join()) {
 *     throw new Error("each coinbase is found in its block");
 *   }
 *   if (!index.synced || index.bestHeight !== 2) throw new Error("synced at the tip");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { type BlockEntry, type ChainState, openPrivateDatabase } from "./chainstate.ts";
import type { Hash } from "./hash.ts";
import { txid } from "./tx.ts";

/** The index's database inside the directory given to {@linkcode TxIndex.open}. */
export const TXINDEX_FILE = "txindex.sqlite";

/** Blocks indexed per transaction while catching up. */
const SYNC_BATCH = 100;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tx (txid BLOB PRIMARY KEY, block BLOB NOT NULL) WITHOUT ROWID;
`;

/** The transaction index over one chain state. */
export class TxIndex implements Disposable {
  readonly #db: DatabaseSync;
  readonly #chain: ChainState;
  readonly #log: (message: string) => void;
  readonly #put;
  readonly #find;
  readonly #setBest;
  readonly #following: Disposable;
  /** The last block indexed. */
  #best: BlockEntry;
  #synced = false;
  #closed = false;

  private constructor(
    db: DatabaseSync,
    chain: ChainState,
    best: BlockEntry,
    log: (message: string) => void,
  ) {
    this.#db = db;
    this.#chain = chain;
    this.#best = best;
    this.#log = log;
    this.#put = db.prepare("INSERT OR REPLACE INTO tx VALUES (?, ?)");
    this.#find = db.prepare("SELECT block FROM tx WHERE txid = ?");
    this.#setBest = db.prepare("INSERT OR REPLACE INTO meta VALUES ('best', ?)");
    // Until caught up, the catch-up reads what connects; afterwards each block as it connects.
    // A block the index missed (its write failed) sends it back to catching up.
    this.#following = chain.subscribe({
      blockConnected: ({ entry, txids }) => {
        if (!this.#synced) return;
        if (entry.prev === this.#best) {
          this.#append([[entry, txids]]);
        } else {
          this.#synced = false;
          this.catchUp();
        }
      },
      blockDisconnected: ({ entry }) => {
        if (this.#synced && entry === this.#best) this.#moveBest(entry.prev!);
      },
    });
  }

  /**
   * Opens (creating it if needed) the index in `dir` over `chain`, resuming
   * from its last block, or from where that block's branch leaves the active
   * chain. Call {@linkcode sync} or {@linkcode catchUp} to catch up.
   */
  static open(dir: string, chain: ChainState, log: (message: string) => void = () => {}): TxIndex {
    const db = openPrivateDatabase(join(dir, TXINDEX_FILE), SCHEMA);
    try {
      const row = db.prepare("SELECT value FROM meta WHERE key = 'best'").get() as
        | { value: Uint8Array }
        | undefined;
      const stored = row && chain.entry(row.value);
      const best = stored ? chain.findFork(stored) : chain.entryAtHeight(0)!;
      return new TxIndex(db, chain, best, log);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Whether the index has caught up with the chain (Core's `synced`). */
  get synced(): boolean {
    return this.#synced;
  }

  /** The height of the last block indexed (Core's `best_block_height`). */
  get bestHeight(): number {
    return this.#best.height;
  }

  /**
   * Catches up with the active chain, `SYNC_BATCH` blocks per database
   * transaction with the event loop free in between; resolves once synced,
   * or early when the index closes or `signal` aborts.
   */
  async sync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return;
    this.#log(`Syncing txindex with block chain from height ${this.#best.height}`);
    while (!this.#closed && !signal?.aborted) {
      // A reorganisation while catching up: go on from where the branches part.
      if (!this.#chain.isActive(this.#best)) this.#moveBest(this.#chain.findFork(this.#best));
      const stop = Math.min(this.#best.height + SYNC_BATCH, this.#chain.height);
      const blocks: [BlockEntry, Hash[]][] = [];
      for (let height = this.#best.height + 1; height <= stop; height++) {
        const entry = this.#chain.entryAtHeight(height)!;
        const block = this.#chain.readBlock(entry.hash);
        if (!block) throw new Error(`txindex: block at height ${height} has no stored data`);
        blocks.push([entry, block.txs.map(txid)]);
      }
      this.#append(blocks);
      if (this.#best === this.#chain.tip) {
        this.#synced = true;
        this.#log(`txindex is enabled at height ${this.#best.height}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  /** Starts {@linkcode sync} in the background; a failure is logged, and the index stays behind. */
  catchUp(): void {
    this.sync().catch((error) => this.#log(`txindex: ${(error as Error).message}`));
  }

  /** The hash of the block `hash`'s transaction was indexed in, if any. */
  find(hash: Hash): Hash | undefined {
    const row = this.#find.get(hash) as { block: Uint8Array } | undefined;
    return row?.block;
  }

  /** Indexes the transactions of consecutive blocks (genesis left out) in one transaction. */
  #append(blocks: readonly (readonly [BlockEntry, readonly Hash[]])[]): void {
    if (blocks.length === 0) return;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const [entry, txids] of blocks) {
        if (entry.height === 0) continue;
        for (const id of txids) this.#put.run(id, entry.hash);
      }
      this.#setBest.run(blocks.at(-1)![0].hash);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    this.#best = blocks.at(-1)![0];
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
    this.#db.close();
  }
}
