/**
 * Choosing mempool transactions for a block template, as Bitcoin Core v30's
 * `BlockAssembler::addPackageTxs` does: packages (a transaction with its
 * not-yet-included ancestors) in order of ancestor fee rate — the lower of a
 * transaction's own rate and its package's — re-scoring descendants as their
 * ancestors enter the block, each package added parents first, skipping
 * packages that do not fit the weight or sigop budget, and stopping at the
 * first package below the block minimum fee rate.
 *
 * @example
 * ```ts
 * import { selectPackages } from "./select.ts";
 * if (selectPackages([], 3_992_000, 79_600, 1n).length !== 0) throw new Error("empty pool");
 * ```
 * @module
 */
import { WITNESS_SCALE_FACTOR } from "../chain/mod.ts";
import { compareHashes, type PoolEntry } from "./entry.ts";
import { compareFeeRates, feeAtRate } from "./feerate.ts";

const MAX_CONSECUTIVE_FAILURES = 1000;
const BLOCK_FULL_ENOUGH_WEIGHT_DELTA = 4000;

/** Package totals of a transaction: itself plus its ancestors not yet in the block. */
interface PackageState {
  size: number;
  fees: bigint;
  sigOps: number;
}

function packageOf(entry: PoolEntry): PackageState {
  return { size: entry.ancestorSize, fees: entry.ancestorFees, sigOps: entry.ancestorSigOps };
}

/** `CompareTxMemPoolEntryByAncestorFee`: negative when `a` (with package `pa`) goes first. */
function compareScore(a: PoolEntry, pa: PackageState, b: PoolEntry, pb: PackageState): number {
  const score = (entry: PoolEntry, state: PackageState): [bigint, number] =>
    compareFeeRates(entry.modifiedFee, entry.vsize, state.fees, state.size) > 0
      ? [state.fees, state.size]
      : [entry.modifiedFee, entry.vsize];
  const [feeA, sizeA] = score(a, pa);
  const [feeB, sizeB] = score(b, pb);
  return compareFeeRates(feeB, sizeB, feeA, sizeA) || compareHashes(a.txid, b.txid);
}

/**
 * The entries a block should hold, in block order, with `maxWeight` the
 * weight left for them (Core: 4,000,000 minus the 8,000 reserved for the
 * coinbase; a package fits while its 4 × vsize keeps the total below it)
 * and `maxSigOpsCost` the sigop cost left (80,000 − 400); packages paying
 * less than `blockMinFeeRate` (sat/kvB) are left out.
 */
export function selectPackages(
  entries: Iterable<PoolEntry>,
  maxWeight: number,
  maxSigOpsCost: number,
  blockMinFeeRate: bigint,
): PoolEntry[] {
  const sorted = [...entries].sort((a, b) => compareScore(a, packageOf(a), b, packageOf(b)));
  const inBlock = new Set<PoolEntry>();
  const failed = new Set<PoolEntry>();
  const modified = new Map<PoolEntry, PackageState>();
  const block: PoolEntry[] = [];
  let weight = 0;
  let sigOps = 0;
  let consecutiveFailed = 0;
  let next = 0;
  while (next < sorted.length || modified.size > 0) {
    const stale = (entry: PoolEntry) =>
      modified.has(entry) || inBlock.has(entry) || failed.has(entry);
    if (next < sorted.length && stale(sorted[next])) {
      next++;
      continue;
    }
    let best: [PoolEntry, PackageState] | undefined;
    for (const [entry, state] of modified) {
      if (!best || compareScore(entry, state, best[0], best[1]) < 0) best = [entry, state];
    }
    let candidate: PoolEntry;
    let state: PackageState;
    const fromModified = next >= sorted.length ||
      (best !== undefined &&
        compareScore(best[0], best[1], sorted[next], packageOf(sorted[next])) < 0);
    if (fromModified) {
      [candidate, state] = best!;
    } else {
      candidate = sorted[next++];
      state = packageOf(candidate);
    }
    if (state.fees < feeAtRate(blockMinFeeRate, state.size)) break;
    if (
      weight + WITNESS_SCALE_FACTOR * state.size >= maxWeight ||
      sigOps + state.sigOps >= maxSigOpsCost
    ) {
      if (fromModified) {
        modified.delete(candidate);
        failed.add(candidate);
      }
      consecutiveFailed++;
      if (
        consecutiveFailed > MAX_CONSECUTIVE_FAILURES &&
        weight > maxWeight - BLOCK_FULL_ENOUGH_WEIGHT_DELTA
      ) {
        break;
      }
      continue;
    }
    consecutiveFailed = 0;
    const package_ = [...candidate.ancestors()].filter((entry) => !inBlock.has(entry));
    package_.push(candidate);
    package_.sort((a, b) => a.ancestorCount - b.ancestorCount || compareHashes(a.txid, b.txid));
    for (const entry of package_) {
      block.push(entry);
      inBlock.add(entry);
      modified.delete(entry);
      weight += entry.weight;
      sigOps += entry.sigOpCost;
    }
    for (const added of package_) {
      for (const descendant of added.descendants()) {
        if (inBlock.has(descendant)) continue;
        const current = modified.get(descendant) ?? packageOf(descendant);
        modified.set(descendant, {
          size: current.size - added.vsize,
          fees: current.fees - added.modifiedFee,
          sigOps: current.sigOps - added.sigOpCost,
        });
      }
    }
  }
  return block;
}
