/**
 * The node's consensus core for regtest: primitives (hashes, transactions,
 * blocks, proof of work, parameters), script verification, Bitcoin Core's
 * transaction and block rules, the SQLite chain state, and block assembly.
 *
 * @example
 * ```ts
 * import { addressToScript, ChainState, generateBlock, hashToHex } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   const block = generateBlock(chain, {
 *     payoutScript: addressToScript("bcrt1q0xcqpzrky6eff2g52qdye53xkk9jxkvrl4xfg5"),
 *   });
 *   if (hashToHex(chain.tip.hash) !== hashToHex(chain.entryAtHeight(1)!.hash)) throw new Error("tip");
 *   if (block.txs.length !== 1) throw new Error("an empty block holds its coinbase");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
export * from "./address.ts";
export * from "../../bitcoin/amount.ts";
export * from "./block.ts";
export * from "./blockfilter.ts";
export * from "./blockfilterindex.ts";
export * from "./chainindex.ts";
export * from "./chainstate.ts";
export * from "./coins.ts";
export * from "./descriptor.ts";
export * from "./hash.ts";
export * from "./keys.ts";
export * from "./merkleblock.ts";
export * from "./message.ts";
export * from "./deployments.ts";
export * from "./miner.ts";
export * from "./params.ts";
export * from "./pow.ts";
export * from "./script.ts";
export * from "./snapshot.ts";
export * from "./interpreter.ts";
export * from "./solver.ts";
export type { TapLeaf, TaprootTree } from "../../bitcoin/taptree.ts";
export * from "./tx.ts";
export * from "./txindex.ts";
export * from "./validation.ts";
