/**
 * Block assembly's weight settings and Core's constants for them
 * (`policy.h`, `consensus.h`), in a module that imports nothing, so that
 * the option reading of every program (the node's and `bitcoin-cli`'s
 * share it) can check `-blockmaxweight` and `-blockreservedweight`
 * without loading the chain code.
 *
 * @module
 */

/** Core's `MAX_BLOCK_WEIGHT`: the consensus limit of a block's weight (BIP 141). */
export const MAX_BLOCK_WEIGHT = 4_000_000;

/** Core's `DEFAULT_BLOCK_RESERVED_WEIGHT`: header, transaction count and coinbase. */
export const DEFAULT_BLOCK_RESERVED_WEIGHT = 8000;

/** Core's `MINIMUM_BLOCK_RESERVED_WEIGHT`. */
export const MINIMUM_BLOCK_RESERVED_WEIGHT = 2000;

/** Core's `DEFAULT_BLOCK_MAX_WEIGHT` (since v29 the reserved weight alone makes room for the coinbase). */
export const DEFAULT_BLOCK_MAX_WEIGHT = MAX_BLOCK_WEIGHT;

/**
 * The node's own block assembly settings (Core's `BlockAssembler::Options`
 * as `ApplyArgsManOptions` reads them): `-blockmaxweight`,
 * `-blockreservedweight` (undefined when not given: the caller's, or Core's
 * default) and `-blockversion` (undefined: `ComputeBlockVersion`'s).
 */
export interface BlockAssembly {
  /** `-blockmaxweight` (a negative one, as Core's `size_t` wraps it, the consensus maximum). */
  readonly maxWeight: number;
  /** `-blockreservedweight`; undefined when not given. */
  readonly reservedWeight: number | undefined;
  /** `-blockversion`; undefined when not given. */
  readonly version: number | undefined;
}

/** Core's defaults: no option given. */
export const DEFAULT_BLOCK_ASSEMBLY: BlockAssembly = {
  maxWeight: DEFAULT_BLOCK_MAX_WEIGHT,
  reservedWeight: undefined,
  version: undefined,
};

/**
 * The weight the transactions of a block may take, as Core's assembler
 * allows it: `-blockmaxweight` clamped between the reserved weight and
 * the consensus maximum (`ClampOptions`), less the reserved weight.
 *
 * @example
 * ```ts
 * import { blockTxWeightLimit, DEFAULT_BLOCK_ASSEMBLY } from "./assembly.ts";
 * if (blockTxWeightLimit(DEFAULT_BLOCK_ASSEMBLY, 8000) !== 3_992_000) throw new Error();
 * if (blockTxWeightLimit({ ...DEFAULT_BLOCK_ASSEMBLY, maxWeight: 100 }, 8000) !== 0) throw new Error();
 * ```
 */
export function blockTxWeightLimit(assembly: BlockAssembly, reservedWeight: number): number {
  return Math.min(Math.max(assembly.maxWeight, reservedWeight), MAX_BLOCK_WEIGHT) - reservedWeight;
}
