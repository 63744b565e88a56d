/**
 * The node's transaction memory pool, as Bitcoin Core v30 keeps it: the
 * {@linkcode Mempool} (acceptance with Core's reject reasons and RPC codes,
 * replacement, limits, eviction, expiry, chain following, block template
 * selection, `mempool.dat`), its policy defaults and standardness rules,
 * and fee-rate arithmetic.
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain, { maxMempoolBytes: 50_000_000 });
 *   if (mempool.policy.maxMempoolBytes !== 50_000_000) throw new Error("policy override");
 *   if (mempool.selectForBlock(3_992_000).length !== 0) throw new Error("nothing to mine");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
export type { BumpFees } from "./bumpfee.ts";
export type { MempoolEntry } from "./entry.ts";
export * from "./feerate.ts";
export * from "./mempool.ts";
export { isChildWithParentsTree } from "./packages.ts";
export { MEMPOOL_FILE } from "./persist.ts";
export * from "./policy.ts";
export {
  type MempoolReject,
  RPC_VERIFY_ALREADY_IN_UTXO_SET,
  RPC_VERIFY_ERROR,
  RPC_VERIFY_REJECTED,
} from "./reject.ts";
export { TRUC_VERSION } from "./truc.ts";
