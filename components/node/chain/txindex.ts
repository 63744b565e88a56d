/**
 * Bitcoin Core's transaction index (`-txindex`): the block of every
 * transaction of the active chain, so that `getrawtransaction` finds a
 * confirmed transaction without being told its block.
 *
 * As Core's `TxIndex`, it lives apart from the chain state
 * (`<netdir>/indexes/txindex/`), leaves out the genesis block's coinbase,
 * and catches up and follows the chain as every {@linkcode ChainIndex}
 * does. Entries of a block a reorganisation disconnected stay until a block
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
import type { BlockEntry, ChainState } from "./chainstate.ts";
import { ChainIndex } from "./chainindex.ts";
import type { Hash } from "./hash.ts";
import type { Block } from "./block.ts";
import { txid } from "./tx.ts";

/** The index's database inside the directory given to {@linkcode TxIndex.open}. */
export const TXINDEX_FILE = "txindex.sqlite";

const SCHEMA =
  "CREATE TABLE IF NOT EXISTS tx (txid BLOB PRIMARY KEY, block BLOB NOT NULL) WITHOUT ROWID;";

/** The transaction index over one chain state. */
export class TxIndex extends ChainIndex {
  readonly #put;
  readonly #find;

  private constructor(dir: string, chain: ChainState, log?: (message: string) => void) {
    super("txindex", join(dir, TXINDEX_FILE), SCHEMA, chain, log);
    this.#put = this.db.prepare("INSERT OR REPLACE INTO tx VALUES (?, ?)");
    this.#find = this.db.prepare("SELECT block FROM tx WHERE txid = ?");
  }

  /**
   * Opens (creating it if needed) the index in `dir` over `chain`, resuming
   * from its last block, or from where that block's branch leaves the active
   * chain. Call {@linkcode sync} or {@linkcode catchUp} to catch up.
   */
  static open(dir: string, chain: ChainState, log?: (message: string) => void): TxIndex {
    return new TxIndex(dir, chain, log);
  }

  /** The hash of the block `hash`'s transaction was indexed in, if any. */
  find(hash: Hash): Hash | undefined {
    const row = this.#find.get(hash) as { block: Uint8Array } | undefined;
    return row?.block;
  }

  /** Each transaction's block; the genesis coinbase is left out, as its output cannot be spent. */
  protected writeBlock(entry: BlockEntry, block: Block, txids: readonly Hash[] | undefined): void {
    if (entry.height === 0) return;
    for (const id of txids ?? block.txs.map(txid)) this.#put.run(id, entry.hash);
  }
}
