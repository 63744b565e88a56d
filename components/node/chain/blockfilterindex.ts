/**
 * Bitcoin Core's block filter index (`-blockfilterindex`): each block's
 * BIP 158 basic filter and BIP 157 filter header, kept by block hash in
 * `<netdir>/indexes/blockfilter/basic/`, for `getblockfilter` and
 * `scanblocks`. It catches up and follows the chain as every
 * {@linkcode ChainIndex} does; filters of blocks a reorganisation
 * disconnected stay readable by their hash, as Core's do.
 *
 * @example
 * ```ts
 * import { addressToScript, BlockFilterIndex, ChainState, generateBlock } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(`${dir}/chain`);
 *   const payoutScript = addressToScript("bcrt1q0xcqpzrky6eff2g52qdye53xkk9jxkvrl4xfg5");
 *   generateBlock(chain, { payoutScript });
 *   using index = BlockFilterIndex.open(`${dir}/filters`, chain);
 *   await index.sync();
 *   const found = index.lookup(chain.tip.hash)!;
 *   if (!found.filter.matchAny([payoutScript])) throw new Error("the block pays the script");
 *   if (found.header.length !== 32 || index.bestHeight !== 1) throw new Error("synced at the tip");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { join } from "node:path";
import type { Block } from "./block.ts";
import { BlockFilter, filterHeader } from "./blockfilter.ts";
import { ChainIndex } from "./chainindex.ts";
import type { BlockEntry, ChainState } from "./chainstate.ts";
import { type Hash, hashToHex, ZERO_HASH } from "./hash.ts";

/** The index's database inside the directory given to {@linkcode BlockFilterIndex.open}. */
export const BLOCKFILTERINDEX_FILE = "blockfilter.sqlite";

const SCHEMA = `CREATE TABLE IF NOT EXISTS filter (
  hash BLOB PRIMARY KEY, filter BLOB NOT NULL, header BLOB NOT NULL
) WITHOUT ROWID;`;

/** The work one {@linkcode BlockFilterIndex.match} does by default: script hashes and filter elements decoded. */
export const MATCH_BUDGET = 200_000;

/** A block's filter and filter header. */
export interface IndexedFilter {
  readonly filter: BlockFilter;
  readonly header: Hash;
}

/** The basic block filter index over one chain state. */
export class BlockFilterIndex extends ChainIndex {
  readonly #put;
  readonly #get;

  private constructor(dir: string, chain: ChainState, log?: (message: string) => void) {
    super("basic block filter index", join(dir, BLOCKFILTERINDEX_FILE), SCHEMA, chain, log);
    this.#put = this.db.prepare("INSERT OR REPLACE INTO filter VALUES (?, ?, ?)");
    this.#get = this.db.prepare("SELECT filter, header FROM filter WHERE hash = ?");
  }

  /**
   * Opens (creating it if needed) the index in `dir` over `chain`, resuming
   * from its last block, or from where that block's branch leaves the active
   * chain. Call {@linkcode sync} or {@linkcode catchUp} to catch up.
   */
  static open(dir: string, chain: ChainState, log?: (message: string) => void): BlockFilterIndex {
    return new BlockFilterIndex(dir, chain, log);
  }

  /** The filter and header of the block `hash`, if indexed (Core's `LookupFilter`/`LookupFilterHeader`). */
  lookup(hash: Hash): IndexedFilter | undefined {
    const row = this.#get.get(hash) as { filter: Uint8Array; header: Uint8Array } | undefined;
    return row && { filter: BlockFilter.fromEncoded(hash, row.filter), header: row.header };
  }

  /**
   * The blocks of `entries` (in chain order) whose filter may hold one of
   * `scripts`, looked at while the work stays within `budget` (each block
   * costs its scripts hashed and its filter's elements decoded; the first
   * block is always looked at) and stopping before a block whose filter is
   * not indexed: the matches, and the last block looked at. Undefined
   * when the first block's filter is not indexed.
   */
  match(
    entries: Iterable<BlockEntry>,
    scripts: readonly Uint8Array[],
    budget: number = MATCH_BUDGET,
  ): { matching: BlockEntry[]; last: BlockEntry } | undefined {
    const matching: BlockEntry[] = [];
    let last: BlockEntry | undefined;
    let work = 0;
    for (const entry of entries) {
      const found = this.lookup(entry.hash);
      if (!found) break;
      work += scripts.length + found.filter.count;
      if (last && work > budget) break;
      if (found.filter.matchAny(scripts)) matching.push(entry);
      last = entry;
    }
    return last && { matching, last };
  }

  /** The block's filter over its outputs and the coins it spent, chained to its parent's header. */
  protected writeBlock(entry: BlockEntry, block: Block): void {
    const undo = entry.height === 0 ? [] : this.chain.readUndo(entry.hash);
    if (!undo) throw new Error(`${this.name}: block ${hashToHex(entry.hash)} has no undo data`);
    const previous = entry.prev ? this.lookup(entry.prev.hash)?.header : ZERO_HASH;
    if (!previous) {
      throw new Error(`${this.name}: the parent of ${hashToHex(entry.hash)} has no filter`);
    }
    const filter = BlockFilter.basic(entry.hash, block, undo);
    this.#put.run(entry.hash, filter.encoded, filterHeader(filter.encoded, previous));
  }
}
