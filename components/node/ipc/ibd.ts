/**
 * Whether the node is still in initial block download, as Bitcoin Core's
 * `ChainstateManager::IsInitialBlockDownload` decides it on regtest: while
 * the tip is more than a day older than the node's clock (regtest has no
 * minimum chain work). Once false it stays false for the life of the node,
 * as Core latches it.
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { initialBlockDownload } from "./ibd.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   const isInitialBlockDownload = initialBlockDownload(chain);
 *   // A fresh chain holds only the 2011 genesis block.
 *   if (!isInitialBlockDownload()) throw new Error("a genesis-only chain is catching up");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import type { ChainState } from "../chain/mod.ts";

/** Core's `DEFAULT_MAX_TIP_AGE`: a tip older than this (seconds) means catching up. */
export const MAX_TIP_AGE = 24 * 60 * 60;

/** A latched initial-block-download check for `chain` (one per node). */
export function initialBlockDownload(chain: ChainState): () => boolean {
  let finished = false;
  return () => {
    if (finished) return false;
    if (chain.tip.header.time < chain.now() - MAX_TIP_AGE) return true;
    finished = true;
    return false;
  };
}
