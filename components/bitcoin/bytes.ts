/**
 * Byte strings in the order Bitcoin Core sorts them (`std::vector<unsigned
 * char>`'s `operator<`, `memcmp` then length): keys of a `sortedmulti()`
 * (BIP 67), scripts and hashes in sets, the node's and the wallet's alike.
 *
 * @example
 * ```ts
 * import { compareBytes } from "./bytes.ts";
 * const sorted = [Uint8Array.of(2, 1), Uint8Array.of(1, 9), Uint8Array.of(2)].sort(compareBytes);
 * if (sorted.map((bytes) => bytes.join()).join(" ") !== "1,9 2 2,1") throw new Error("order");
 * ```
 * @module
 */

/** Negative, zero or positive as `a` sorts before, with or after `b`. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}
