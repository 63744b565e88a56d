/**
 * The mempool's settings ({@linkcode MempoolPolicy}) and Bitcoin Core
 * v30's defaults, apart from the rules that apply them (`policy.ts`): the
 * options are read (`options.ts`) by processes that validate nothing, such
 * as `bitcoin-cli` reading the node's configuration.
 *
 * @example
 * ```ts
 * import { DEFAULT_MEMPOOL_POLICY } from "./defaults.ts";
 * if (DEFAULT_MEMPOOL_POLICY.maxMempoolBytes !== 300_000_000) throw new Error("300 MB");
 * ```
 * @module
 */

/** The mempool's options, with Core v30's defaults in {@linkcode DEFAULT_MEMPOOL_POLICY}. */
export interface MempoolPolicy {
  /** `-minrelaytxfee` in sat/kvB: v30's default is 100 (0.00000100 BTC/kvB). */
  minRelayFeeRate: bigint;
  /** `-incrementalrelayfee` in sat/kvB (100): the fee step of replacements and eviction. */
  incrementalRelayFeeRate: bigint;
  /** `-dustrelayfee` in sat/kvB (3000): outputs worth less than spending them costs are dust. */
  dustRelayFeeRate: bigint;
  /** `-blockmintxfee` in sat/kvB (v30: 1): packages below it stay out of block templates. */
  blockMinFeeRate: bigint;
  /** `-maxmempool` in bytes of estimated memory (300 MB). */
  maxMempoolBytes: number;
  /** `-mempoolexpiry` in seconds (336 hours). */
  expirySeconds: number;
  /** `-datacarriersize`: the OP_RETURN bytes one transaction may carry (v30: 100000; 0 for none). */
  maxDatacarrierBytes: number;
  /** `-permitbaremultisig` (true): bare 1..3-of-3 multisig outputs are standard. */
  permitBareMultisig: boolean;
  /** `-acceptnonstdtxn=0` (true on regtest too): apply the standardness rules. */
  requireStandard: boolean;
  /** `-limitancestorcount` (25): in-mempool ancestors of a transaction, itself included. */
  ancestorCount: number;
  /** `-limitancestorsize` in virtual bytes (101 kvB). */
  ancestorSizeVbytes: number;
  /** `-limitdescendantcount` (25): in-mempool descendants of a transaction, itself included. */
  descendantCount: number;
  /** `-limitdescendantsize` in virtual bytes (101 kvB). */
  descendantSizeVbytes: number;
  /** `-bytespersigop` (20): virtual bytes each sigop counts as, when sigops outweigh size. */
  bytesPerSigop: number;
  /** `-persistmempoolv1` (false): `mempool.dat` is written as version 1, without obfuscation. */
  persistV1Dat: boolean;
}

/** Bitcoin Core v30's defaults. */
export const DEFAULT_MEMPOOL_POLICY: Readonly<MempoolPolicy> = Object.freeze({
  minRelayFeeRate: 100n,
  incrementalRelayFeeRate: 100n,
  dustRelayFeeRate: 3000n,
  blockMinFeeRate: 1n,
  maxMempoolBytes: 300_000_000,
  expirySeconds: 336 * 60 * 60,
  maxDatacarrierBytes: 100_000,
  permitBareMultisig: true,
  requireStandard: true,
  ancestorCount: 25,
  ancestorSizeVbytes: 101_000,
  descendantCount: 25,
  descendantSizeVbytes: 101_000,
  bytesPerSigop: 20,
  persistV1Dat: false,
});
