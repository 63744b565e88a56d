/**
 * Fee-rate arithmetic as Bitcoin Core v30's `CFeeRate` does it: a rate is a
 * fee over a virtual size, compared exactly (as fractions); a fee at a rate
 * rounds up (`GetFee`); a rate per 1000 vbytes rounds down (`GetFeePerK`);
 * reject texts show rates as `0.00009090 BTC/kvB`.
 *
 * Rates given by the node's options (min relay fee, dust relay fee…) are
 * bigint satoshis per 1000 virtual bytes (sat/kvB).
 *
 * @example
 * ```ts
 * import { feeAtRate, feeRatePerKvB, formatFeeRate } from "./feerate.ts";
 * if (feeAtRate(100n, 110) !== 11n) throw new Error("min relay fee of 110 vB");
 * if (formatFeeRate(feeRatePerKvB(1000n, 110)) !== "0.00009090 BTC/kvB") throw new Error("text");
 * ```
 * @module
 */
import { COIN } from "../chain/mod.ts";

/**
 * The fee a transaction of `vsize` virtual bytes pays at `ratePerKvB`,
 * rounded up to the satoshi (`CFeeRate::GetFee`).
 */
export function feeAtRate(ratePerKvB: bigint, vsize: number): bigint {
  const product = ratePerKvB * BigInt(vsize);
  const fee = product / 1000n;
  return product > 0n && product % 1000n !== 0n ? fee + 1n : fee;
}

/**
 * The rate of `fee` over `vsize` in sat/kvB, rounded down
 * (`CFeeRate(fee, vsize).GetFeePerK()`); 0 for an empty size.
 */
export function feeRatePerKvB(fee: bigint, vsize: number): bigint {
  if (vsize <= 0) return 0n;
  const product = fee * 1000n;
  const size = BigInt(vsize);
  const rate = product / size;
  return product < 0n && product % size !== 0n ? rate - 1n : rate;
}

/**
 * Compares the rates `feeA / sizeA` and `feeB / sizeB` exactly: negative,
 * zero or positive as the first is lower, equal or higher.
 *
 * @example
 * ```ts
 * import { compareFeeRates } from "./feerate.ts";
 * if (compareFeeRates(1000n, 110, 1001n, 110) >= 0) throw new Error("higher fee, same size");
 * ```
 */
export function compareFeeRates(feeA: bigint, sizeA: number, feeB: bigint, sizeB: number): number {
  const left = feeA * BigInt(sizeB);
  const right = feeB * BigInt(sizeA);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** A rate in sat/kvB as `CFeeRate::ToString` writes it: `0.00090909 BTC/kvB`. */
export function formatFeeRate(ratePerKvB: bigint): string {
  const sign = ratePerKvB < 0n ? "-" : "";
  const magnitude = ratePerKvB < 0n ? -ratePerKvB : ratePerKvB;
  return `${sign}${magnitude / COIN}.${(magnitude % COIN).toString().padStart(8, "0")} BTC/kvB`;
}
