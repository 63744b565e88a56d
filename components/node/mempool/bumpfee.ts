/**
 * What spending unconfirmed outputs must add to a transaction's fee so that
 * their ancestors in the mempool reach a fee rate, as Bitcoin Core v30's
 * `MiniMiner` reckons it for the wallet (`calculateIndividualBumpFees`,
 * `calculateCombinedBumpFee`): the outputs' mempool cluster is mined, best
 * ancestor-set rate first (the lower of a transaction's own rate and its
 * ancestor set's), until the best left pays less than the rate; what was
 * mined needs no bump, what was not must be raised to the rate. A
 * transaction spending one of the outputs already is taken to be replaced:
 * it and its descendants are left out.
 *
 * @example
 * ```ts
 * import { bumpFees } from "./bumpfee.ts";
 * // Confirmed outputs (no mempool parent) need no bump.
 * const fees = bumpFees([{ parent: undefined, spender: undefined }], 10_000n);
 * if (fees === null || fees.individual[0] !== 0n || fees.combined !== 0n) throw new Error("none");
 * ```
 * @module
 */
import { compareHashes, type PoolEntry } from "./entry.ts";
import { compareFeeRates, feeAtRate } from "./feerate.ts";

/** Core's `GatherClusters` limit: a larger cluster is not reckoned. */
export const MAX_CLUSTER_COUNT = 500;

/** An output to spend: the mempool transaction that makes it, and one spending it already. */
export interface SpentOutput {
  readonly parent: PoolEntry | undefined;
  readonly spender: PoolEntry | undefined;
}

/** The bump of each output alone, in order, and of all of them spent together. */
export interface BumpFees {
  readonly individual: bigint[];
  readonly combined: bigint;
}

/** A cluster member as the mock miner changes it: its ancestor totals shrink as ancestors go. */
interface Candidate {
  readonly entry: PoolEntry;
  ancestorFees: bigint;
  ancestorSize: number;
}

/**
 * The bumps of spending `outputs` at `feeRate` (sat/kvB); null when their
 * cluster exceeds {@linkcode MAX_CLUSTER_COUNT} transactions.
 */
export function bumpFees(outputs: readonly SpentOutput[], feeRate: bigint): BumpFees | null {
  const replaced = reach(outputs.flatMap(({ spender }) => spender ?? []), (e) => e.children)!;
  const requested = new Set<PoolEntry>();
  for (const { parent } of outputs) if (parent && !replaced.has(parent)) requested.add(parent);
  const cluster = reach(requested, (e) => [...e.parents, ...e.children], MAX_CLUSTER_COUNT);
  if (cluster === null) return null;
  // Ancestor totals are the mempool's: no ancestor of a kept transaction is replaced.
  const left = new Map<PoolEntry, Candidate>();
  for (const entry of cluster) {
    if (replaced.has(entry)) continue;
    left.set(entry, { entry, ancestorFees: entry.ancestorFees, ancestorSize: entry.ancestorSize });
  }
  mineAbove(left, feeRate);
  const individual = outputs.map(({ parent }) => {
    const candidate = parent && left.get(parent);
    if (candidate === undefined) return 0n; // confirmed, replaced, or mined
    const withAncestors = feeAtRate(feeRate, candidate.ancestorSize) - candidate.ancestorFees;
    const alone = feeAtRate(feeRate, candidate.entry.vsize) - candidate.entry.modifiedFee;
    return withAncestors > alone ? withAncestors : alone;
  });
  // Together: each ancestor not mined counted once.
  const unmined = reach(
    [...requested].filter((entry) => left.has(entry)),
    (e) => [...e.parents].filter((parent) => left.has(parent)),
  )!;
  let size = 0;
  let fees = 0n;
  for (const entry of unmined) {
    size += entry.vsize;
    fees += entry.modifiedFee;
  }
  return { individual, combined: feeAtRate(feeRate, size) - fees };
}

/**
 * `start` and every transaction reachable from it through `next`, each
 * visited once; null once there are more than `limit`.
 */
function reach(
  start: Iterable<PoolEntry>,
  next: (entry: PoolEntry) => Iterable<PoolEntry>,
  limit = Infinity,
): Set<PoolEntry> | null {
  const found = new Set<PoolEntry>();
  const stack = [...start];
  while (stack.length > 0) {
    const entry = stack.pop()!;
    if (found.has(entry)) continue;
    found.add(entry);
    if (found.size > limit) return null;
    for (const other of next(entry)) if (!found.has(other)) stack.push(other);
  }
  return found;
}

/**
 * Core's `BuildMockTemplate`: takes out of `left` the best ancestor set
 * (by the lower of the transaction's own rate and its set's; the lower
 * txid on a tie) while it pays `feeRate`, updating what is left.
 */
function mineAbove(left: Map<PoolEntry, Candidate>, feeRate: bigint): void {
  const score = (c: Candidate): [bigint, number] =>
    compareFeeRates(c.entry.modifiedFee, c.entry.vsize, c.ancestorFees, c.ancestorSize) < 0
      ? [c.entry.modifiedFee, c.entry.vsize]
      : [c.ancestorFees, c.ancestorSize];
  while (left.size > 0) {
    let best: Candidate | undefined;
    for (const candidate of left.values()) {
      if (best === undefined) {
        best = candidate;
        continue;
      }
      const [fee, size] = score(candidate);
      const [bestFee, bestSize] = score(best);
      const order = compareFeeRates(fee, size, bestFee, bestSize) ||
        compareHashes(best.entry.txid, candidate.entry.txid);
      if (order > 0) best = candidate;
    }
    if (best!.ancestorFees < feeAtRate(feeRate, best!.ancestorSize)) return;
    const mined = [best!.entry];
    for (const ancestor of best!.entry.ancestors()) if (left.has(ancestor)) mined.push(ancestor);
    for (const entry of mined) {
      for (const descendant of [entry, ...entry.descendants()]) {
        const candidate = left.get(descendant);
        if (candidate === undefined) continue;
        candidate.ancestorFees -= entry.modifiedFee;
        candidate.ancestorSize -= entry.vsize;
      }
    }
    for (const entry of mined) left.delete(entry);
  }
}
