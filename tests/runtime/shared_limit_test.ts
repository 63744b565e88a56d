/**
 * runtime/shared_limit.ts: which connection a process-wide total over its
 * limit closes, and what a connection counts in, when connections have
 * values of their own.
 *
 * @module
 */
import { assertEquals } from "../assert.ts";
import { SharedLimit } from "../../runtime/shared_limit.ts";

type Member = [name: string, held: number, value: number, blamed?: number];

/** A shared limit whose members, given as [name, held, value, blamed?], hold what they say. */
function limitOf(...members: Member[]) {
  const limit = new SharedLimit<Member>(([, held]) => held, ([, , value]) => value);
  for (const member of members) {
    limit.join(member);
    limit.change(member, member[1]);
  }
  return limit;
}

/**
 * What the limit closes after the last member grew: the name of the one to
 * close, what it is blamed for, the total and its value.
 */
function over(...members: Member[]) {
  const found = limitOf(...members).over(
    members.at(-1)![2],
    ([, held, , blamed]) => blamed ?? held,
  );
  return found && [found.member[0], found.held, found.total, found.limit];
}

Deno.test("SharedLimit: with one value, the total of all is checked and the largest closed", () => {
  assertEquals(over(["a", 40, 100], ["b", 60, 100]), undefined);
  assertEquals(over(["b", 60, 100], ["a", 41, 100]), ["b", 60, 101, 100]);
});

Deno.test("SharedLimit: a lenient member's holdings do not count against a stricter value", () => {
  assertEquals(over(["lenient", 500, 1000], ["strict", 10, 10]), undefined);
  assertEquals(over(["lenient", 500, 1000], ["strict", 11, 10])?.[0], "strict");
  // The stricter one counts against the lenient value, and may be the one closed for it.
  assertEquals(over(["strict", 10, 10], ["lenient", 5, 12]), ["strict", 10, 15, 12]);
});

Deno.test("SharedLimit: what is not blamed on a member does not make it the one closed", () => {
  // The strict value is over only by what cannot be blamed; the next value's total is over too.
  assertEquals(over(["lenient", 5, 20], ["strict", 20, 10, 0]), ["lenient", 5, 25, 20]);
  assertEquals(over(["only", 20, 10, 0]), undefined);
});

Deno.test("SharedLimit: totals are kept as members change, per value a member counts in", () => {
  const strict: Member = ["strict", 0, 10];
  const lenient: Member = ["lenient", 30, 100];
  const limit = limitOf(strict, lenient);
  assertEquals(limit.totals(10), [
    { value: 10, total: 0, count: 0 },
    { value: 100, total: 30, count: 1 },
  ]);
  strict[1] = 4;
  limit.change(strict, 4);
  assertEquals(limit.totals(50), [
    { value: 50, total: 4, count: 1 },
    { value: 100, total: 34, count: 2 },
  ]);
  lenient[1] = 0;
  limit.change(lenient, -30);
  assertEquals([limit.total, limit.totals(100)], [4, [{ value: 100, total: 4, count: 1 }]]);
});

Deno.test("SharedLimit: a member that left counts what it holds until given back, and is not closed", () => {
  const closed: Member = ["closed", 15, 10];
  const open: Member = ["open", 1, 10];
  const limit = limitOf(closed);
  limit.leave(closed);
  limit.join(open);
  limit.change(open, 1);
  assertEquals(limit.totals(10), [{ value: 10, total: 16, count: 2 }]);
  assertEquals(limit.over(10)?.member, open);
  closed[1] = 0;
  limit.change(closed, -15);
  assertEquals([limit.total, limit.over(10)], [1, undefined]);
  open[1] = 0;
  limit.change(open, -1);
  limit.leave(open);
  // No class is left: none counts in a total from 0 up.
  assertEquals(limit.totals(0), [{ value: 0, total: 0, count: 0 }]);
});
