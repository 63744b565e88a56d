/**
 * A limit on a total summed over the connections of a process, each of
 * which has its own value of the limit: the connections whose value is at
 * most L may hold L in all, for each connection's L. A connection allowed
 * more never uses up a stricter one's total, a stricter one counts against
 * every more lenient one's, and the process holds at most the largest value.
 *
 * @module
 */

/** A total over its limit, and the connection to close for it. */
export interface OverSharedLimit<T> {
  /** The connection to close: of those counted in `total`, the one holding the most. */
  readonly member: T;
  /** What `member` holds. */
  readonly held: number;
  /** What the connections whose value is `limit` or less hold in all. */
  readonly total: number;
  /** The smallest value whose connections hold more than it. */
  readonly limit: number;
}

/**
 * What to close when the members hold more than a shared limit allows:
 * the first value, from the smallest, whose connections (those with that
 * value or less) hold more than it, and the one of them holding the most by
 * `blamed` (by default what it holds; less what no peer could have given
 * back yet). `undefined` when every such total is within its value, or no
 * connection of one over it has anything to be blamed for.
 *
 * @example
 * ```ts
 * import { overSharedLimit } from "./shared_limit.ts";
 * const held = new Map([["strict", 6], ["lenient", 90]]);
 * const limit = new Map([["strict", 10], ["lenient", 100]]);
 * const over = (names: string[]) =>
 *   overSharedLimit(names, (n) => held.get(n)!, (n) => limit.get(n)!);
 * // 96 in all is over the strict value, but the lenient connection's 90 is not counted in it.
 * if (over(["strict", "lenient"]) !== undefined) throw new Error("closed one");
 * held.set("strict", 12);
 * if (over(["strict", "lenient"])?.member !== "strict") throw new Error("not the strict one");
 * held.set("strict", 6).set("lenient", 99);
 * if (over(["strict", "lenient"])?.member !== "lenient") throw new Error("not the largest");
 * ```
 */
export function overSharedLimit<T>(
  members: Iterable<T>,
  held: (member: T) => number,
  limit: (member: T) => number,
  blamed: (member: T) => number = held,
): OverSharedLimit<T> | undefined {
  let all = 0;
  let least = Infinity;
  for (const member of members) {
    all += held(member);
    least = Math.min(least, limit(member));
  }
  if (all <= least) return undefined;
  const sorted = [...members].sort((a, b) => limit(a) - limit(b));
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    total += held(sorted[i]);
    const value = limit(sorted[i]);
    if (i + 1 < sorted.length && limit(sorted[i + 1]) === value) continue;
    if (total <= value) continue;
    let most: T | undefined;
    let mostBlamed = 0;
    for (const member of sorted.slice(0, i + 1)) {
      if (blamed(member) > mostBlamed) [most, mostBlamed] = [member, blamed(member)];
    }
    if (most !== undefined) return { member: most, held: held(most), total, limit: value };
  }
  return undefined;
}

/**
 * What the members whose value is `value` or less hold in all, and how many
 * of them there are: the total a member of that value is held to.
 *
 * @example
 * ```ts
 * import { sharedTotal } from "./shared_limit.ts";
 * const members = [{ held: 5, limit: 10 }, { held: 50, limit: 100 }];
 * const { total, count } = sharedTotal(members, (m) => m.held, (m) => m.limit, 10);
 * if (total !== 5 || count !== 1) throw new Error("counted the lenient member");
 * ```
 */
export function sharedTotal<T>(
  members: Iterable<T>,
  held: (member: T) => number,
  limit: (member: T) => number,
  value: number,
): { total: number; count: number } {
  let total = 0;
  let count = 0;
  for (const member of members) {
    if (limit(member) > value) continue;
    total += held(member);
    count++;
  }
  return { total, count };
}

/** The end of a closing error: `over` says what `name`'s total went over. */
export function overSharedLimitText(over: OverSharedLimit<unknown>, name: string): string {
  return `the most of any connection of this process whose ${name} is ${over.limit} or less, ` +
    `which hold ${over.total} in all`;
}
