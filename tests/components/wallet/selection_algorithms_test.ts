/**
 * Core's coin selection algorithms, each alone over valued groups: Branch
 * and Bound's changeless set of least waste, CoinGrinder's lightest set
 * (Core's own worked example), the Knapsack solver's exact matches and
 * closest larger group, and Single Random Draw's target and weight bound.
 *
 * @module
 */
import { assertEquals } from "../../assert.ts";
import {
  branchAndBound,
  CHANGE_LOWER,
  coinGrinder,
  knapsack,
  MAX_WEIGHT_EXCEEDED,
  singleRandomDraw,
  type ValuedGroup,
} from "../../../components/wallet/selection_algorithms.ts";
import { seeded } from "./seeded_random.ts";

/** A group named by `name`, of `amount`, its fee now and later, and its weight. */
type Named = ValuedGroup & { readonly name: string };
const group = (
  name: string,
  amount: bigint,
  weight = 272,
  fee = 68n,
  longTermFee = 680n,
): Named => ({
  name,
  amount,
  fee,
  longTermFee,
  weight,
});

const names = (attempt: { chosen: readonly Named[] } | { error: string | null }) =>
  "chosen" in attempt ? attempt.chosen.map((g) => g.name).sort().join() : attempt;

Deno.test("branch and bound: a set within the cost of change of the target, no change made", () => {
  const pool = [group("a", 1_000n), group("b", 2_000n), group("c", 3_000n), group("d", 4_000n)];
  // 5,000 is met exactly by a + d and by b + c, which waste the same: as Core's, the later found
  // (the search includes larger groups first) replaces the earlier.
  assertEquals(names(branchAndBound(pool, 5_000n, 0n, 400_000)), "b,c");
  // Within 100 above: 7,000 by c + d (a + b + d too, one input more: less waste at this rate).
  assertEquals(names(branchAndBound(pool, 6_950n, 100n, 400_000)), "a,b,d");
  // Nothing lands within the range: no answer, nothing said.
  assertEquals(branchAndBound(pool, 10_500n, 100n, 400_000), { error: null });
  assertEquals(branchAndBound(pool, 10_001n, 0n, 400_000), { error: null });
  // At a fee rate over the long-term one each input adds waste: the fewest inputs win.
  const dear = pool.map((g) => ({ ...g, fee: 680n, longTermFee: 68n }));
  assertEquals(names(branchAndBound(dear, 6_950n, 100n, 400_000)), "c,d");
  // The only sets in range weigh too much: Core's text.
  assertEquals(branchAndBound(pool, 10_000n, 0n, 1_000), { error: MAX_WEIGHT_EXCEEDED });
});

Deno.test("coin grinder: the lightest set reaching the target with change (Core's worked example)", () => {
  // A=[10/2], B=[7/1], C=[5/1], D=[4/2], target 11: {B, C} weighs 2, the least.
  const pool = [group("A", 10n, 2), group("B", 7n, 1), group("C", 5n, 1), group("D", 4n, 2)];
  assertEquals(names(coinGrinder(pool, 9n, 2n, 400_000)), "B,C");
  // Of equal weight, the smaller amount: A + C (15) over A + B (17).
  assertEquals(names(coinGrinder(pool, 14n, 0n, 400_000)), "A,C");
  assertEquals(coinGrinder(pool, 27n, 0n, 400_000), { error: null });
  assertEquals(coinGrinder(pool, 20n, 0n, 2), { error: MAX_WEIGHT_EXCEEDED });
});

Deno.test("knapsack: an exact group, all the smaller ones when they add up, else the closest", () => {
  const random = seeded(1);
  const pool = [group("a", 1_000n), group("b", 2_000n), group("c", 9_000n), group("d", 500_000n)];
  assertEquals(names(knapsack(pool, 9_000n, 50_000n, random, 400_000)), "c");
  // a + b + c = 12,000, and d is too large to be of use.
  assertEquals(names(knapsack(pool, 12_000n, 50_000n, random, 400_000)), "a,b,c");
  // The smaller ones fall short: the smallest larger one.
  assertEquals(names(knapsack(pool, 20_000n, 50_000n, random, 400_000)), "d");
  // A subset found by approximation: b + c is exactly 11,000.
  for (let seed = 0; seed < 20; seed++) {
    assertEquals(names(knapsack(pool, 11_000n, 50_000n, seeded(seed), 400_000)), "b,c");
  }
  // Groups of no positive amount are among those it may spend (Core's legacy habit).
  const dust = [group("x", -100n), group("y", 5_000n)];
  assertEquals(names(knapsack(dust, 4_900n, 50_000n, random, 400_000)), "x,y");
  assertEquals(knapsack(pool, 600_000n, 50_000n, random, 400_000), { error: null });
  assertEquals(knapsack(pool, 20_000n, 50_000n, random, 271), { error: MAX_WEIGHT_EXCEEDED });
});

Deno.test("single random draw: groups drawn until the target, the change's fee and 50,000 sat are paid", () => {
  const pool = Array.from({ length: 10 }, (_, i) => group(`g${i}`, 20_000n));
  for (let seed = 0; seed < 10; seed++) {
    const found = singleRandomDraw(pool, 20_000n, 100n, seeded(seed), 400_000);
    // 20,000 + 50,000 + 100 needs four groups of 20,000.
    assertEquals("chosen" in found && found.chosen.length, 4);
  }
  assertEquals(CHANGE_LOWER, 50_000n);
  // Too heavy for four: the smallest drawn go back, and nothing that weighs little enough pays.
  assertEquals(singleRandomDraw(pool, 20_000n, 100n, seeded(3), 816), {
    error: MAX_WEIGHT_EXCEEDED,
  });
  // With one large group, the bound puts the small ones back and the large one pays.
  const mixed = [...pool, group("large", 200_000n)];
  const found = singleRandomDraw(mixed, 20_000n, 100n, seeded(5), 544);
  assertEquals("chosen" in found && found.chosen.some((g) => g.name === "large"), true);
  assertEquals(singleRandomDraw(pool, 500_000n, 100n, seeded(3), 400_000), { error: null });
});
