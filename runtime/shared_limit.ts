/**
 * A limit on a total summed over the connections of a process, each of
 * which has its own value of the limit: the connections whose value is at
 * most L may hold L in all, for each connection's L. A connection allowed
 * more never uses up a stricter one's total, a stricter one counts against
 * every more lenient one's, and the process holds at most the largest value.
 *
 * @module
 */

/** A total over its limit, and the member to close for it. */
export interface OverSharedLimit<T> {
  /** The member to close: of those counted in `total`, the one blamed for the most. */
  readonly member: T;
  /** What `member` is blamed for: what it holds, less what no peer could have given back yet. */
  readonly held: number;
  /** What the members whose value is `limit` or less hold in all. */
  readonly total: number;
  /** The value whose members hold more than it. */
  readonly limit: number;
}

/** What the members whose value is `value` or less hold in all, and how many hold anything. */
export interface SharedTotal {
  /** The value whose members, and those of every smaller value, are counted. */
  readonly value: number;
  /** What they hold in all. */
  readonly total: number;
  /** How many of them hold anything. */
  readonly count: number;
}

/**
 * The totals of one shared limit, kept per value as what members hold
 * changes: checking them costs a step per distinct value, not per member.
 *
 * @example
 * ```ts
 * import { SharedLimit } from "./shared_limit.ts";
 * const held = new Map([["strict", 6], ["lenient", 90]]);
 * const value = new Map([["strict", 10], ["lenient", 100]]);
 * const limit = new SharedLimit<string>((n) => held.get(n)!, (n) => value.get(n)!);
 * for (const [name, bytes] of held) {
 *   limit.join(name);
 *   limit.change(name, bytes);
 * }
 * // 96 in all is over the strict value, but the lenient member's 90 is not counted in it.
 * if (limit.over(10) !== undefined) throw new Error("closed one");
 * held.set("strict", 12);
 * limit.change("strict", 6);
 * if (limit.over(10)?.member !== "strict") throw new Error("not the strict one");
 * held.set("strict", 0);
 * limit.change("strict", -12);
 * held.set("lenient", 101);
 * limit.change("lenient", 11);
 * if (limit.over(100)?.member !== "lenient") throw new Error("not the largest");
 * ```
 */
export class SharedLimit<T> {
  readonly #held: (member: T) => number;
  readonly #value: (member: T) => number;
  /**
   * Per value in use: what its members hold, how many hold anything, and the
   * members open (who may be closed for it).
   */
  readonly #classes = new Map<number, { bytes: number; holding: number; members: Set<T> }>();
  /** The values of `#classes`, smallest first. */
  readonly #values: number[] = [];
  #total = 0;

  /** A limit on what `held` gives, each member allowed its `value`. */
  constructor(held: (member: T) => number, value: (member: T) => number) {
    this.#held = held;
    this.#value = value;
  }

  /** What every member holds. */
  get total(): number {
    return this.#total;
  }

  /** Counts `member` in, before it holds anything: from now on it may be closed for the limit. */
  join(member: T): void {
    this.#entry(this.#value(member)).members.add(member);
  }

  /** Counts `member` out once it is closed; what it still holds counts until it is given back. */
  leave(member: T): void {
    const value = this.#value(member);
    const entry = this.#classes.get(value);
    entry?.members.delete(member);
    if (entry !== undefined) this.#dropIfUnused(value, entry);
  }

  /**
   * Counts `bytes` more (fewer when negative) that `member` holds; `held`
   * already says so. (Allocates nothing: it runs for every message.)
   */
  change(member: T, bytes: number): void {
    if (bytes === 0) return;
    const value = this.#value(member);
    const entry = this.#entry(value);
    const after = this.#held(member);
    if (after > 0 && after - bytes <= 0) entry.holding++;
    else if (after <= 0 && after - bytes > 0) entry.holding--;
    entry.bytes += bytes;
    this.#total += bytes;
    if (entry.members.size === 0) this.#dropIfUnused(value, entry);
  }

  #entry(value: number) {
    let entry = this.#classes.get(value);
    if (entry === undefined) {
      this.#classes.set(value, entry = { bytes: 0, holding: 0, members: new Set<T>() });
      const at = this.#values.findIndex((other) => other > value);
      this.#values.splice(at < 0 ? this.#values.length : at, 0, value);
    }
    return entry;
  }

  #dropIfUnused(value: number, entry: { holding: number; members: Set<T> }): void {
    if (entry.members.size > 0 || entry.holding > 0) return;
    this.#classes.delete(value);
    this.#values.splice(this.#values.indexOf(value), 1);
  }

  /**
   * The totals a member of value `from` counts in: those of `from` and of
   * each larger value held, smallest first.
   */
  totals(from: number): [SharedTotal, ...SharedTotal[]] {
    let total = 0;
    let count = 0;
    let i = 0;
    for (; i < this.#values.length && this.#values[i]! <= from; i++) {
      const entry = this.#classes.get(this.#values[i]!)!;
      total += entry.bytes;
      count += entry.holding;
    }
    const totals: [SharedTotal, ...SharedTotal[]] = [{ value: from, total, count }];
    for (; i < this.#values.length; i++) {
      const value = this.#values[i]!;
      const entry = this.#classes.get(value)!;
      total += entry.bytes;
      count += entry.holding;
      totals.push({ value, total, count });
    }
    return totals;
  }

  /**
   * What to close after a member of value `from` grew: of the totals it
   * counts in, the first over its value with a member blamed for anything,
   * and of its members the one blamed for the most (any one of equal
   * blame) by `blamed` (by default what it holds; less what no peer could
   * have given back yet). Closing that one takes every total back within
   * its value when it is blamed for at least what the total grew by; else
   * the total stays over until a member counted in it grows again.
   * `undefined` when nothing is to close.
   */
  over(from: number, blamed: (member: T) => number = this.#held): OverSharedLimit<T> | undefined {
    if (this.#total <= from) return undefined;
    for (const { value: limit, total } of this.totals(from)) {
      if (total <= limit) continue;
      let most: T | undefined;
      let mostBlamed = 0;
      for (const [value, { members }] of this.#classes) {
        if (value > limit) continue;
        for (const member of members) {
          const bytes = blamed(member);
          if (bytes <= mostBlamed) continue;
          most = member;
          mostBlamed = bytes;
        }
      }
      if (most !== undefined) return { member: most, held: mostBlamed, total, limit };
    }
    return undefined;
  }
}

/** The end of a closing error: `over` says what `name`'s total went over. */
export function overSharedLimitText(over: OverSharedLimit<unknown>, name: string): string {
  return `the most of any connection of this process whose ${name} is ${over.limit} or less, ` +
    `which hold ${over.total} in all`;
}
