/**
 * Ephemeral dust, as Bitcoin Core v30 allows it (`src/policy/ephemeral_policy.cpp`):
 * a transaction may have one dust output only if it pays no fee (so it is
 * never mined alone), and every child of such a transaction must spend the
 * dust. With the mempool's single-transaction acceptance, a fee-less parent
 * fails the min relay fee first, so these rules surface as Core's texts when
 * a dusty transaction pays a fee, and for children of dusty parents.
 *
 * @example
 * ```ts
 * import { dustFeeViolation } from "./ephemeral.ts";
 * if (dustFeeViolation(1n, [0]) === null) throw new Error("dust with a fee is refused");
 * if (dustFeeViolation(0n, [0]) !== null) throw new Error("fee-less dust is allowed");
 * ```
 * @module
 */
import type { Tx } from "../chain/mod.ts";
import { type KeyedTx, parentKey, spentKey } from "./entry.ts";
import { dustOutputs } from "./policy.ts";

/** `PreCheckEphemeralTx`: Core's detail when a transaction with `dust` outputs pays a fee. */
export function dustFeeViolation(fee: bigint, dust: readonly number[]): string | null {
  return fee !== 0n && dust.length > 0 ? "tx with dust output must be 0-fee" : null;
}

/**
 * `CheckEphemeralSpends`: the first of `package_` that leaves dust of an
 * unconfirmed parent (in the package, or found by `mempoolTx`) unspent,
 * with Core's detail, or null.
 */
export function unspentDust(
  package_: readonly KeyedTx[],
  mempoolTx: (txid: string) => Tx | undefined,
  dustRelayFeeRate: bigint,
): { child: KeyedTx; detail: string } | null {
  const inPackage = new Map(package_.map((item) => [item.txid, item.tx]));
  for (const child of package_) {
    const dust = new Set<string>();
    for (const parent of new Set(child.tx.inputs.map(parentKey))) {
      const parentTx = inPackage.get(parent) ?? mempoolTx(parent);
      if (!parentTx) continue;
      for (const index of dustOutputs(parentTx, dustRelayFeeRate)) dust.add(`${parent}:${index}`);
    }
    for (const input of child.tx.inputs) dust.delete(spentKey(input));
    if (dust.size > 0) {
      return {
        child,
        detail: `tx ${child.txid} (wtxid=${child.wtxid}) did not spend parent's ephemeral dust`,
      };
    }
  }
  return null;
}
