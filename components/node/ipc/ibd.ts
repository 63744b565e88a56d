/**
 * Whether the node is still in initial block download, as Bitcoin Core's
 * `ChainstateManager::IsInitialBlockDownload` decides it: while the tip's
 * chain work is below `-minimumchainwork` (regtest's default is 0), or the
 * tip is older than the node's clock less `-maxtipage` (a day by default).
 * Once false it stays false for the life of the node, as Core latches it.
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

/** What holds a node in initial block download besides Core's defaults. */
export interface IbdOptions {
  /** `-minimumchainwork`: a tip with less chain work means catching up (regtest: 0). */
  readonly minimumChainWork: bigint;
  /** `-maxtipage`: a tip older than this (seconds) means catching up. */
  readonly maxTipAge: number;
}

/** Regtest's defaults: no minimum chain work, a day's tip age. */
export const DEFAULT_IBD_OPTIONS: IbdOptions = { minimumChainWork: 0n, maxTipAge: MAX_TIP_AGE };

/** A latched initial-block-download check for `chain` (one per node). */
export function initialBlockDownload(
  chain: ChainState,
  { minimumChainWork, maxTipAge }: IbdOptions = DEFAULT_IBD_OPTIONS,
): () => boolean {
  let finished = false;
  return () => {
    if (finished) return false;
    if (chain.tip.chainWork < minimumChainWork) return true;
    if (chain.tip.header.time < chain.now() - maxTipAge) return true;
    finished = true;
    return false;
  };
}
