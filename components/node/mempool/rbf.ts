/**
 * Replace-by-fee as Bitcoin Core v30 judges a replacement (full RBF: every
 * mempool transaction is replaceable), after `src/policy/rbf.cpp`. Each
 * check returns Core's debug text when the rule is broken, or null:
 *
 * - rule 6, {@linkcode paysMoreThanConflicts}: a higher fee rate than every
 *   transaction it directly replaces;
 * - rule 5, {@linkcode entriesForConflicts}: at most 100 transactions evicted;
 * - rule 2, {@linkcode addsUnconfirmedInput}: no new unconfirmed inputs;
 * - rules 3 and 4, {@linkcode paysForReplacement}: at least the replaced
 *   fees, plus its own size at the incremental relay fee;
 * - {@linkcode spendsConflictingTx}: it does not spend what it replaces.
 *
 * @example
 * ```ts
 * import { paysForReplacement } from "./rbf.ts";
 * const text = paysForReplacement(1000n, 1005n, 110, 100n, "ab".repeat(32));
 * if (!text?.endsWith("not enough additional fees to relay; 0.00000005 < 0.00000011")) {
 *   throw new Error(String(text));
 * }
 * ```
 * @module
 */
import { formatMoney, type Tx } from "../chain/mod.ts";
import { compareHashes, parentKey, type PoolEntry } from "./entry.ts";
import { compareFeeRates, feeAtRate, feeRatePerKvB, formatFeeRate } from "./feerate.ts";

/** Most mempool transactions one replacement may evict (`MAX_REPLACEMENT_CANDIDATES`). */
export const MAX_REPLACEMENT_CANDIDATES = 100;

/** Entries in Core's set order (by txid bytes), which decides which failure is reported. */
export function sortedByTxid(entries: Iterable<PoolEntry>): PoolEntry[] {
  return [...entries].sort((a, b) => compareHashes(a.txid, b.txid));
}

/** `PaysMoreThanConflicts` (rule 6): the replacement's fee rate beats each direct conflict's. */
export function paysMoreThanConflicts(
  conflicts: Iterable<PoolEntry>,
  fee: bigint,
  vsize: number,
  txid: string,
): string | null {
  for (const conflict of sortedByTxid(conflicts)) {
    if (compareFeeRates(fee, vsize, conflict.modifiedFee, conflict.vsize) <= 0) {
      return `rejecting replacement ${txid}; new feerate ${
        formatFeeRate(feeRatePerKvB(fee, vsize))
      } <= old feerate ${formatFeeRate(feeRatePerKvB(conflict.modifiedFee, conflict.vsize))}`;
    }
  }
  return null;
}

/**
 * `GetEntriesForConflicts` (rule 5): every transaction the replacement
 * would evict (the direct conflicts and their descendants), or Core's text
 * when their descendant counts add up to more than 100.
 */
export function entriesForConflicts(
  conflicts: Iterable<PoolEntry>,
  txid: string,
): Set<PoolEntry> | string {
  const direct = sortedByTxid(conflicts);
  let count = 0;
  for (const conflict of direct) {
    count += conflict.descendantCount;
    if (count > MAX_REPLACEMENT_CANDIDATES) {
      return `rejecting replacement ${txid}; too many potential replacements (${count} > ${MAX_REPLACEMENT_CANDIDATES})`;
    }
  }
  const all = new Set<PoolEntry>();
  for (const conflict of direct) {
    all.add(conflict);
    for (const descendant of conflict.descendants()) all.add(descendant);
  }
  return all;
}

/**
 * `HasNoNewUnconfirmed` (rule 2): the replacement spends no unconfirmed
 * output (one of a mempool transaction, `inMempool`) that the replaced
 * transactions did not already spend from.
 */
export function addsUnconfirmedInput(
  tx: Tx,
  txid: string,
  replaced: Iterable<PoolEntry>,
  inMempool: (txidHex: string) => boolean,
): string | null {
  const parentsOfReplaced = new Set<string>();
  for (const entry of replaced) {
    for (const input of entry.tx.inputs) parentsOfReplaced.add(parentKey(input));
  }
  for (let j = 0; j < tx.inputs.length; j++) {
    const parent = parentKey(tx.inputs[j]);
    if (!parentsOfReplaced.has(parent) && inMempool(parent)) {
      return `replacement ${txid} adds unconfirmed input, idx ${j}`;
    }
  }
  return null;
}

/**
 * `PaysForRBF` (rules 3 and 4): the replacement pays at least the fees it
 * evicts, and the difference pays for its own `vsize` at `incrementalRate`
 * (sat/kvB).
 */
export function paysForReplacement(
  replacedFees: bigint,
  fee: bigint,
  vsize: number,
  incrementalRate: bigint,
  txid: string,
): string | null {
  if (fee < replacedFees) {
    return `rejecting replacement ${txid}, less fees than conflicting txs; ${formatMoney(fee)} < ${
      formatMoney(replacedFees)
    }`;
  }
  const additional = fee - replacedFees;
  const relayFee = feeAtRate(incrementalRate, vsize);
  if (additional < relayFee) {
    return `rejecting replacement ${txid}, not enough additional fees to relay; ${
      formatMoney(additional)
    } < ${formatMoney(relayFee)}`;
  }
  return null;
}

/** `EntriesAndTxidsDisjoint`: none of the replacement's ancestors is one it replaces. */
export function spendsConflictingTx(
  ancestors: Iterable<PoolEntry>,
  conflicts: ReadonlySet<PoolEntry>,
  txid: string,
): string | null {
  for (const ancestor of sortedByTxid(ancestors)) {
    if (conflicts.has(ancestor)) return `${txid} spends conflicting transaction ${ancestor.key}`;
  }
  return null;
}
