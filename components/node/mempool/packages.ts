/**
 * Package rules for `testmempoolaccept` and `submitpackage`, after Bitcoin
 * Core v30's `src/policy/packages.cpp`: a well-formed package
 * (`IsWellFormedPackage`) has at most 25 transactions and 404,000 weight
 * units, no duplicates, parents before children, no two spending the same
 * output; `submitpackage` also wants one child with its parents.
 *
 * @example
 * ```ts
 * import { MAX_PACKAGE_COUNT } from "./packages.ts";
 * if (MAX_PACKAGE_COUNT !== 25) throw new Error("Core's package limit");
 * ```
 * @module
 */
import { hashToHex, type Tx, txid } from "../chain/mod.ts";
import { type KeyedTx, parentKey, spentKey } from "./entry.ts";

/** Most transactions in a package. */
export const MAX_PACKAGE_COUNT = 25;
/** Largest total weight of a package of several transactions. */
export const MAX_PACKAGE_WEIGHT = 404_000;

/** A package member and its weight. */
export type PackageTx = KeyedTx & { readonly weight: number };

/**
 * `IsWellFormedPackage` with sorting required: Core's package error
 * (`package-too-many-transactions`, `package-too-large`,
 * `package-contains-duplicates`, `package-not-sorted`,
 * `conflict-in-package`), or null.
 */
export function malformedPackageReason(package_: readonly PackageTx[]): string | null {
  if (package_.length > MAX_PACKAGE_COUNT) return "package-too-many-transactions";
  const weight = package_.reduce((sum, item) => sum + item.weight, 0);
  if (package_.length > 1 && weight > MAX_PACKAGE_WEIGHT) return "package-too-large";
  const later = new Set(package_.map((item) => item.txid));
  if (later.size !== package_.length) return "package-contains-duplicates";
  for (const item of package_) {
    if (item.tx.inputs.some((input) => later.has(parentKey(input)))) return "package-not-sorted";
    later.delete(item.txid);
  }
  const spent = new Set<string>();
  for (const item of package_) {
    if (item.tx.inputs.length === 0) return "conflict-in-package";
    const keys = item.tx.inputs.map(spentKey);
    if (keys.some((key) => spent.has(key))) return "conflict-in-package";
    for (const key of keys) spent.add(key);
  }
  return null;
}

/**
 * `IsChildWithParents`: at least two transactions, every one before the
 * last a parent of the last.
 */
export function isChildWithParents(package_: readonly Pick<KeyedTx, "tx" | "txid">[]): boolean {
  if (package_.length < 2) return false;
  const spent = new Set(package_[package_.length - 1].tx.inputs.map(parentKey));
  return package_.slice(0, -1).every((item) => spent.has(item.txid));
}

/**
 * `IsChildWithParentsTree`: a child with its parents, none of which
 * spends another (what `submitpackage` accepts as several transactions).
 */
export function isChildWithParentsTree(txs: readonly Tx[]): boolean {
  const package_ = txs.map((tx) => ({ tx, txid: hashToHex(txid(tx)) }));
  if (!isChildWithParents(package_)) return false;
  const parents = new Set(package_.slice(0, -1).map((item) => item.txid));
  return package_.slice(0, -1).every((item) =>
    !item.tx.inputs.some((input) => parents.has(parentKey(input)))
  );
}
