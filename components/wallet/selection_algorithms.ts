/**
 * Bitcoin Core's four coin selection algorithms, over groups of coins
 * already valued: Branch and Bound (a changeless input set, least waste),
 * CoinGrinder (the lightest input set with change, at high fee rates), the
 * Knapsack solver (a stochastic subset sum) and Single Random Draw. Each
 * answers the groups it chose, or why it chose none: `null` when the coins
 * simply do not reach the target, Core's text when they would weigh too
 * much. The waste metric, and which algorithm's answer is taken, belong to
 * the caller (`coinselect.ts`).
 *
 * @example
 * ```ts
 * import { branchAndBound, type ValuedGroup } from "./selection_algorithms.ts";
 * const group = (amount: bigint): ValuedGroup => ({ amount, fee: 68n, longTermFee: 680n, weight: 272 });
 * // 3 + 5 meet 8 exactly: no change is needed.
 * const found = branchAndBound([group(3_000n), group(5_000n), group(9_000n)], 8_000n, 100n, 400_000);
 * if (!("chosen" in found)) throw new Error("no changeless set");
 * if (found.chosen.map((g) => g.amount).join() !== "5000,3000") throw new Error("wrong set");
 * ```
 * @module
 */

/** A group of coins as the algorithms weigh it (Core's `OutputGroup`). */
export interface ValuedGroup {
  /** What it adds toward the target: its effective value, or its value when the payments pay the fee. */
  readonly amount: bigint;
  /** What spending its inputs costs now (with what its unconfirmed ancestors lack), and at the long-term rate. */
  readonly fee: bigint;
  readonly longTermFee: bigint;
  /** Its inputs' weight, each counted in whole virtual bytes (Core's `m_weight`). */
  readonly weight: number;
}

/** What an algorithm answers: the groups it chose, or why none (`null`: the coins fall short). */
export type Attempt<G extends ValuedGroup> =
  | { readonly chosen: readonly G[] }
  | { readonly error: string | null };

/** A source of uniform numbers in [0, 1) (Core's `FastRandomContext`); `Math.random` by default. */
export type Random = () => number;

/** Core's text when the coins that would pay weigh more than the transaction may. */
export const MAX_WEIGHT_EXCEEDED =
  "The inputs size exceeds the maximum weight. Please try sending a smaller amount or manually consolidating your wallet's UTXOs";

/** Core's `CHANGE_LOWER`: the least change SRD and the change target aim at (satoshis). */
export const CHANGE_LOWER = 50_000n;

/** Core's bound on the selections Branch and Bound and CoinGrinder evaluate. */
const TOTAL_TRIES = 100_000;
/** Core's `MAX_MONEY`: more than any selection's waste. */
const MAX_MONEY = 21_000_000n * 100_000_000n;

const SHORT: Attempt<never> = { error: null };
const TOO_HEAVY: Attempt<never> = { error: MAX_WEIGHT_EXCEEDED };

/** Shuffles `items` in place (Fisher–Yates), as Core's `std::shuffle`. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Largest amount first; on a tie, the group wasting less now than later (Core's `descending`). */
function byAmountThenWaste(a: ValuedGroup, b: ValuedGroup): number {
  if (a.amount !== b.amount) return a.amount > b.amount ? -1 : 1;
  const wasteA = a.fee - a.longTermFee;
  const wasteB = b.fee - b.longTermFee;
  return wasteA < wasteB ? -1 : wasteA > wasteB ? 1 : 0;
}

/** Largest amount first; on a tie, the lighter group (Core's `descending_effval_weight`). */
function byAmountThenWeight(a: ValuedGroup, b: ValuedGroup): number {
  if (a.amount !== b.amount) return a.amount > b.amount ? -1 : 1;
  return a.weight - b.weight;
}

const sum = (groups: readonly ValuedGroup[]) => groups.reduce((total, g) => total + g.amount, 0n);
const weightOf = (groups: readonly ValuedGroup[]) =>
  groups.reduce((total, g) => total + g.weight, 0);

/**
 * Branch and Bound (Core's `SelectCoinsBnB`): a depth-first search, larger
 * groups included first, for the set whose amount lands in
 * `[target, target + costOfChange]` (so that no change is made) with the
 * least waste: each input's fee now less its fee at the long-term rate,
 * plus what the set exceeds the target by. `pool` holds groups of positive
 * amount only.
 */
export function branchAndBound<G extends ValuedGroup>(
  pool: readonly G[],
  target: bigint,
  costOfChange: bigint,
  maxWeight: number,
): Attempt<G> {
  let lookahead = sum(pool);
  if (pool.length === 0 || lookahead < target) return SHORT;
  const utxos = [...pool].sort(byAmountThenWaste);
  // Above the long-term rate every input adds waste: a selection already wasting more than the
  // best cannot get better.
  const feeRateHigh = utxos[0].fee > utxos[0].longTermFee;
  const selection: number[] = [];
  let value = 0n;
  let waste = 0n;
  let weight = 0;
  let best: number[] = [];
  let bestWaste = MAX_MONEY;
  let weightExceeded = false;
  for (let tries = 0, next = 0; tries < TOTAL_TRIES; tries++, next++) {
    let backtrack = false;
    if (
      value + lookahead < target || value > target + costOfChange ||
      (feeRateHigh && waste > bestWaste)
    ) {
      backtrack = true;
    } else if (weight > maxWeight) {
      weightExceeded = true;
      backtrack = true;
    } else if (value >= target) {
      // In range: the excess goes to the fee, and counts as waste.
      if (waste + value - target <= bestWaste) {
        best = [...selection];
        bestWaste = waste + value - target;
      }
      backtrack = true;
    }
    if (backtrack) {
      if (selection.length === 0) break; // the whole tree is searched
      // The groups passed over since the last one included go back into the lookahead, and the
      // last one included is now left out.
      for (next--; next > selection[selection.length - 1]; next--) lookahead += utxos[next].amount;
      const left = utxos[next];
      value -= left.amount;
      waste -= left.fee - left.longTermFee;
      weight -= left.weight;
      selection.pop();
    } else {
      const utxo = utxos[next];
      lookahead -= utxo.amount;
      // A group equal to the one just left out would only repeat the search it ended.
      const previous = utxos[next - 1];
      if (
        selection.length === 0 || selection[selection.length - 1] === next - 1 ||
        utxo.amount !== previous.amount || utxo.fee !== previous.fee
      ) {
        selection.push(next);
        value += utxo.amount;
        waste += utxo.fee - utxo.longTermFee;
        weight += utxo.weight;
      }
    }
  }
  if (best.length === 0) return weightExceeded ? TOO_HEAVY : SHORT;
  return { chosen: best.map((i) => utxos[i]) };
}

/**
 * CoinGrinder (Core's): the lightest set whose amount reaches
 * `target + changeTarget`, ties going to the smaller amount; a
 * depth-first search that skips every subtree unable to beat the best
 * weight so far. Core runs it only above three times the long-term rate,
 * where each input's weight costs most.
 */
export function coinGrinder<G extends ValuedGroup>(
  pool: readonly G[],
  target: bigint,
  changeTarget: bigint,
  maxWeight: number,
): Attempt<G> {
  const utxos = [...pool].sort(byAmountThenWeight);
  // What the groups after each index add up to, and the lightest of them.
  const lookahead: bigint[] = new Array(utxos.length);
  const minTailWeight: number[] = new Array(utxos.length);
  let available = 0n;
  let lightest = Number.MAX_SAFE_INTEGER;
  for (let i = utxos.length - 1; i >= 0; i--) {
    lookahead[i] = available;
    minTailWeight[i] = lightest;
    available += utxos[i].amount;
    lightest = Math.min(lightest, utxos[i].weight);
  }
  const totalTarget = target + changeTarget;
  if (available < totalTarget) return SHORT;
  const selection: number[] = [];
  let best: number[] = [];
  let amount = 0n;
  let bestAmount = MAX_MONEY;
  let weight = 0;
  let bestWeight = maxWeight; // a tie is fine: the smaller amount wins it
  let weightExceeded = false;
  let next = 0;
  const deselectLast = () => {
    const last = utxos[selection.pop()!];
    amount -= last.amount;
    weight -= last.weight;
  };
  for (let tries = 1; tries <= TOTAL_TRIES; tries++) {
    let shift = false;
    let cut = false;
    const tail = next;
    amount += utxos[tail].amount;
    weight += utxos[tail].weight;
    selection.push(tail);
    next++;
    if (amount + lookahead[tail] < totalTarget) {
      cut = true; // even every group left cannot reach the target
    } else if (weight > bestWeight) {
      if (weight > maxWeight) weightExceeded = true;
      // More groups only weigh more: were the last one the lightest left, its omission branch is
      // no better either.
      if (utxos[tail].weight <= minTailWeight[tail]) cut = true;
      else shift = true;
    } else if (amount >= totalTarget) {
      shift = true; // a solution: adding more can only weigh more
      if (weight < bestWeight || (weight === bestWeight && amount < bestAmount)) {
        best = [...selection];
        bestWeight = weight;
        bestAmount = amount;
      }
    } else if (best.length > 0) {
      // The groups still needed, each at most as large as the last and at least as heavy as the
      // lightest left, would weigh more than the best.
      const missing = totalTarget - amount;
      const last = utxos[tail].amount;
      const needed = (missing + last - 1n) / last;
      if (weight + minTailWeight[tail] * Number(needed) > bestWeight) {
        if (utxos[tail].weight <= minTailWeight[tail]) cut = true;
        else shift = true;
      }
    }
    if (tries >= TOTAL_TRIES) break; // the best so far, not proven the best
    if (next === utxos.length) cut = true;
    if (cut) {
      deselectLast();
      shift = true;
    }
    let done = false;
    while (shift) {
      if (selection.length === 0) {
        done = true;
        break;
      }
      next = selection[selection.length - 1] + 1;
      deselectLast();
      shift = false;
      // A group equal in amount to the one just left out is no lighter: skip such clones.
      while (utxos[next - 1].amount === utxos[next].amount) {
        if (next >= utxos.length - 1) {
          shift = true;
          break;
        }
        next++;
      }
    }
    if (done) break;
  }
  if (best.length === 0) return weightExceeded ? TOO_HEAVY : SHORT;
  return { chosen: best.map((i) => utxos[i]) };
}

/**
 * Core's Knapsack solver: a group equal to the target, or all those below
 * `target + changeTarget` when they add up to it exactly, else the
 * closest subset found by stochastic approximation (aiming first at the
 * target, then at the target with change), unless the smallest group
 * above is closer. `pool` may hold groups of no positive amount (Core
 * keeps its legacy habit of spending dust here).
 */
export function knapsack<G extends ValuedGroup>(
  pool: readonly G[],
  target: bigint,
  changeTarget: bigint,
  random: Random,
  maxWeight: number,
): Attempt<G> {
  let weightExceeded = false;
  let lowestLarger: G | undefined;
  const applicable: G[] = [];
  let totalLower = 0n;
  for (const group of shuffle([...pool], random)) {
    if (group.weight > maxWeight) {
      weightExceeded = true;
      continue;
    }
    if (group.amount === target) return { chosen: [group] };
    if (group.amount < target + changeTarget) {
      applicable.push(group);
      totalLower += group.amount;
    } else if (lowestLarger === undefined || group.amount < lowestLarger.amount) {
      lowestLarger = group;
    }
  }
  if (totalLower === target) {
    if (weightOf(applicable) <= maxWeight) return { chosen: applicable };
    weightExceeded = true;
  }
  if (totalLower < target) {
    if (lowestLarger === undefined) return weightExceeded ? TOO_HEAVY : SHORT;
    return { chosen: [lowestLarger] };
  }
  applicable.sort(byAmountThenWaste);
  let best = approximateBestSubset(applicable, totalLower, target, random, maxWeight);
  if (best.total !== target && totalLower >= target + changeTarget) {
    best = approximateBestSubset(applicable, totalLower, target + changeTarget, random, maxWeight);
  }
  if (
    lowestLarger !== undefined &&
    ((best.total !== target && best.total < target + changeTarget) ||
      lowestLarger.amount <= best.total)
  ) {
    return { chosen: [lowestLarger] };
  }
  const chosen = applicable.filter((_, i) => best.included[i]);
  if (weightOf(chosen) <= maxWeight) return { chosen };
  return lowestLarger === undefined ? TOO_HEAVY : { chosen: [lowestLarger] };
}

/**
 * Core's `ApproximateBestSubset`: a thousand random passes, each
 * including groups at random and then the rest in order until the total
 * reaches `target`, keeping the smallest total at or above it (all the
 * groups at worst). Its loops add in floating point, exact for satoshi
 * amounts (the whole supply is under 2^53), for speed.
 */
function approximateBestSubset(
  groups: readonly ValuedGroup[],
  totalLower: bigint,
  target: bigint,
  random: Random,
  maxWeight: number,
): { included: boolean[]; total: bigint } {
  const amounts = Float64Array.from(groups, (group) => Number(group.amount));
  const weights = Float64Array.from(groups, (group) => group.weight);
  const goal = Number(target);
  const best = new Uint8Array(groups.length).fill(1);
  let bestTotal = Number(totalLower);
  const included = new Uint8Array(groups.length);
  for (let rep = 0; rep < 1000 && bestTotal !== goal; rep++) {
    included.fill(0);
    let total = 0;
    let weight = 0;
    let reached = false;
    for (let pass = 0; pass < 2 && !reached; pass++) {
      for (let i = 0; i < groups.length; i++) {
        if (pass === 0 ? random() >= 0.5 : included[i] === 1) continue;
        total += amounts[i];
        weight += weights[i];
        included[i] = 1;
        if (total >= goal && weight <= maxWeight) {
          reached = true;
          if (total < bestTotal) {
            bestTotal = total;
            best.set(included);
          }
          // Keep looking for a closer total without this group.
          total -= amounts[i];
          weight -= weights[i];
          included[i] = 0;
        }
      }
    }
  }
  return { included: Array.from(best, (bit) => bit === 1), total: BigInt(bestTotal) };
}

/**
 * Single Random Draw (Core's `SelectCoinsSRD`): groups drawn at random
 * until they pay the target, the change's fee and {@linkcode CHANGE_LOWER};
 * when the draw weighs too much, its smallest groups are put back.
 */
export function singleRandomDraw<G extends ValuedGroup>(
  pool: readonly G[],
  target: bigint,
  changeFee: bigint,
  random: Random,
  maxWeight: number,
): Attempt<G> {
  const goal = target + CHANGE_LOWER + changeFee;
  // The drawn groups, smallest first, so that the first put back is the least worth.
  const drawn: G[] = [];
  let amount = 0n;
  let weight = 0;
  let weightExceeded = false;
  for (const group of shuffle([...pool], random)) {
    const at = drawn.findIndex((g) => g.amount > group.amount);
    drawn.splice(at < 0 ? drawn.length : at, 0, group);
    amount += group.amount;
    weight += group.weight;
    if (weight > maxWeight) {
      weightExceeded = true;
      while (drawn.length > 0 && weight > maxWeight) {
        const smallest = drawn.shift()!;
        amount -= smallest.amount;
        weight -= smallest.weight;
      }
    }
    if (amount >= goal) return { chosen: drawn };
  }
  return weightExceeded ? TOO_HEAVY : SHORT;
}
