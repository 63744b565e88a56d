/**
 * Topologically restricted until confirmation (TRUC, BIP 431): the rules
 * Bitcoin Core v30 applies to version-3 transactions, after
 * `src/policy/truc_policy.cpp`. A TRUC transaction is at most 10,000
 * virtual bytes, has at most one unconfirmed ancestor, which must be TRUC
 * and have no other child; a TRUC child is at most 1,000 virtual bytes; a
 * non-TRUC transaction cannot spend an unconfirmed TRUC one. A second child
 * may evict its sibling under the replacement rules (sibling eviction).
 *
 * @example
 * ```ts
 * import { TRUC_VERSION } from "./truc.ts";
 * if (TRUC_VERSION !== 3) throw new Error("TRUC is version 3");
 * ```
 * @module
 */
import { type KeyedTx, parentKey, type PoolEntry } from "./entry.ts";
import { sortedByTxid } from "./rbf.ts";

/** The transaction version that opts into TRUC rules. */
export const TRUC_VERSION = 3;
/** Largest TRUC transaction, in virtual bytes. */
export const TRUC_MAX_VSIZE = 10_000;
/** Largest TRUC transaction with an unconfirmed parent, in virtual bytes. */
export const TRUC_CHILD_MAX_VSIZE = 1_000;

/** A TRUC rule broken: Core's text, and the sibling the caller may try to evict instead. */
export interface TrucViolation {
  readonly text: string;
  readonly sibling?: PoolEntry;
}

function inheritance(
  self: KeyedTx,
  parent: { version: number; txid: string; wtxid: string },
): string | null {
  if (self.tx.version !== TRUC_VERSION && parent.version === TRUC_VERSION) {
    return `non-version=3 tx ${self.txid} (wtxid=${self.wtxid}) cannot spend from version=3 tx ${parent.txid} (wtxid=${parent.wtxid})`;
  }
  if (self.tx.version === TRUC_VERSION && parent.version !== TRUC_VERSION) {
    return `version=3 tx ${self.txid} (wtxid=${self.wtxid}) cannot spend from non-version=3 tx ${parent.txid} (wtxid=${parent.wtxid})`;
  }
  return null;
}

function ofEntry(entry: PoolEntry) {
  return { version: entry.tx.version, txid: entry.key, wtxid: entry.wtxidKey };
}

function tooBig(self: KeyedTx, vsize: number): string | null {
  return vsize > TRUC_MAX_VSIZE
    ? `version=3 tx ${self.txid} (wtxid=${self.wtxid}) is too big: ${vsize} > ${TRUC_MAX_VSIZE} virtual bytes`
    : null;
}

function childTooBig(self: KeyedTx, vsize: number): string | null {
  return vsize > TRUC_CHILD_MAX_VSIZE
    ? `version=3 child tx ${self.txid} (wtxid=${self.wtxid}) is too big: ${vsize} > ${TRUC_CHILD_MAX_VSIZE} virtual bytes`
    : null;
}

const tooManyAncestors = (txid: string, wtxid: string) =>
  `tx ${txid} (wtxid=${wtxid}) would have too many ancestors`;

const descendantLimit = (txid: string, wtxid: string) =>
  `tx ${txid} (wtxid=${wtxid}) would exceed descendant count limit`;

/**
 * `SingleTRUCChecks`: the rules for one transaction against its in-mempool
 * `ancestors`; `conflicts` are the mempool transactions it directly replaces.
 */
export function singleTrucChecks(
  self: KeyedTx,
  ancestors: readonly PoolEntry[],
  conflicts: ReadonlySet<PoolEntry>,
  vsize: number,
): TrucViolation | null {
  for (const ancestor of sortedByTxid(ancestors)) {
    const text = inheritance(self, ofEntry(ancestor));
    if (text) return { text };
  }
  if (self.tx.version !== TRUC_VERSION) return null;
  const big = tooBig(self, vsize);
  if (big) return { text: big };
  if (ancestors.length + 1 > 2) return { text: tooManyAncestors(self.txid, self.wtxid) };
  if (ancestors.length === 0) return null;
  const childBig = childTooBig(self, vsize);
  if (childBig) return { text: childBig };
  const parent = ancestors[0];
  const children = sortedByTxid(parent.children);
  const childReplaced = children.some((child) => conflicts.has(child));
  if (parent.descendantCount + 1 > 2 && !childReplaced) {
    const evictable = parent.descendantCount === 2 && children[0].ancestorCount === 2;
    return {
      text: descendantLimit(parent.key, parent.wtxidKey),
      ...(evictable ? { sibling: children[0] } : {}),
    };
  }
  return null;
}

/**
 * `PackageTRUCChecks`: the rules for `package[index]` within a package
 * (sorted parents first), given its in-mempool `ancestors` and the ids of
 * every package transaction.
 */
export function packageTrucChecks(
  package_: readonly KeyedTx[],
  index: number,
  ancestors: readonly PoolEntry[],
  vsize: number,
): string | null {
  const self = package_[index];
  const spent = new Set(self.tx.inputs.map(parentKey));
  const packageParents = package_.slice(0, index).filter((other) => spent.has(other.txid));
  if (self.tx.version === TRUC_VERSION) {
    const big = tooBig(self, vsize);
    if (big) return big;
    if (ancestors.length + packageParents.length + 1 > 2) {
      return tooManyAncestors(self.txid, self.wtxid);
    }
    if (ancestors.length + packageParents.length === 0) return null;
    const childBig = childTooBig(self, vsize);
    if (childBig) return childBig;
    const parent = ancestors.length > 0
      ? { ...ofEntry(ancestors[0]), hasChild: ancestors[0].descendantCount > 1 }
      : {
        version: packageParents[0].tx.version,
        txid: packageParents[0].txid,
        wtxid: packageParents[0].wtxid,
        hasChild: false,
      };
    if (parent.version !== TRUC_VERSION) {
      return `version=3 tx ${self.txid} (wtxid=${self.wtxid}) cannot spend from non-version=3 tx ${parent.txid} (wtxid=${parent.wtxid})`;
    }
    for (const other of package_) {
      if (other === self) continue;
      for (const input of other.tx.inputs) {
        const from = parentKey(input);
        if (from === parent.txid) return descendantLimit(parent.txid, parent.wtxid);
        if (from === self.txid) return tooManyAncestors(other.txid, other.wtxid);
      }
    }
    return parent.hasChild ? descendantLimit(parent.txid, parent.wtxid) : null;
  }
  for (const ancestor of sortedByTxid(ancestors)) {
    const text = inheritance(self, ofEntry(ancestor));
    if (text) return text;
  }
  for (const parent of packageParents) {
    const text = inheritance(self, { version: parent.tx.version, ...parent });
    if (text) return text;
  }
  return null;
}
