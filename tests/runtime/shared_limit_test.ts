/**
 * runtime/shared_limit.ts: which connection a process-wide total over its
 * limit closes, when connections have values of their own.
 *
 * @module
 */
import { assertEquals } from "../assert.ts";
import { overSharedLimit } from "../../runtime/shared_limit.ts";

/**
 * `overSharedLimit` over members given as [name, held, limit, blamed?]:
 * the name of the one to close, what it holds, the total and its limit.
 */
function over(...members: [string, number, number, number?][]) {
  const found = overSharedLimit(
    members,
    ([, held]) => held,
    ([, , limit]) => limit,
    ([, held, , blamed]) => blamed ?? held,
  );
  return found && [found.member[0], found.held, found.total, found.limit];
}

Deno.test("overSharedLimit: with one value, the total of all is checked and the largest closed", () => {
  assertEquals(over(["a", 40, 100], ["b", 60, 100]), undefined);
  assertEquals(over(["a", 41, 100], ["b", 60, 100]), ["b", 60, 101, 100]);
});

Deno.test("overSharedLimit: a lenient connection's holdings do not count against a stricter value", () => {
  assertEquals(over(["strict", 10, 10], ["lenient", 500, 1000]), undefined);
  assertEquals(over(["strict", 11, 10], ["lenient", 500, 1000])?.[0], "strict");
  // The stricter one counts against the lenient value, and may be the one closed for it.
  assertEquals(over(["strict", 10, 10], ["lenient", 5, 12]), ["strict", 10, 15, 12]);
});

Deno.test("overSharedLimit: what is not blamed on a connection does not make it the one closed", () => {
  // The strict value is over only by what cannot be blamed; the next value's total is over too.
  assertEquals(over(["strict", 20, 10, 0], ["lenient", 5, 20]), ["lenient", 5, 25, 20]);
  assertEquals(over(["only", 20, 10, 0]), undefined);
  // Of equal blame, the strictest goes.
  assertEquals(over(["lenient", 6, 11], ["strict", 6, 10])?.[0], "strict");
});
