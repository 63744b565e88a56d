/**
 * Amounts: bigint satoshis, as Bitcoin Core's `CAmount` (the node's and the wallet's).
 *
 * @example
 * ```ts
 * import { COIN, formatMoney } from "./amount.ts";
 * if (formatMoney(3n * COIN / 2n) !== "1.50") throw new Error("format");
 * ```
 * @module
 */

/** Satoshis in one bitcoin. */
export const COIN = 100_000_000n;

/** No amount larger than this is valid (21 million bitcoin). */
export const MAX_MONEY = 21_000_000n * COIN;

/** Whether `value` lies in [0, MAX_MONEY] (`MoneyRange`). */
export function moneyRange(value: bigint): boolean {
  return value >= 0n && value <= MAX_MONEY;
}

/**
 * An amount in bitcoin as Bitcoin Core's `FormatMoney` writes it in reject
 * details: at least two decimals, trailing zeros trimmed (`1.50`, `50.00`,
 * `0.00001`).
 *
 * @example
 * ```ts
 * import { formatMoney } from "./amount.ts";
 * if (formatMoney(1000n) !== "0.00001") throw new Error(formatMoney(1000n));
 * if (formatMoney(-5_000_000_000n) !== "-50.00") throw new Error("negative");
 * ```
 */
export function formatMoney(value: bigint): string {
  const magnitude = value < 0n ? -value : value;
  const fraction = (magnitude % COIN).toString().padStart(8, "0").replace(/0{1,6}$/, "");
  const text = `${magnitude / COIN}.${fraction.padEnd(2, "0")}`;
  return value < 0n ? "-" + text : text;
}

/**
 * Bitcoin Core's `ParseMoney`: the satoshis `text` (bitcoin, up to eight
 * decimals, blanks around it allowed) stands for, or null when it is not an
 * amount or exceeds 21 million bitcoin.
 *
 * @example
 * ```ts
 * import { parseMoney } from "./amount.ts";
 * if (parseMoney(" 0.0002 ") !== 20_000n) throw new Error("amount");
 * if (parseMoney("1e5") !== null || parseMoney("0.000000001") !== null) throw new Error("bad");
 * ```
 */
export function parseMoney(text: string): bigint | null {
  const match = /^[ \f\n\r\t\v]*(\d*)(?:\.(\d{0,8}))?[ \f\n\r\t\v]*$/.exec(text);
  if (match === null || text.includes("\0")) return null;
  const [, whole, fraction = ""] = match;
  if (whole === "" && fraction === "" && !text.includes(".")) return null;
  if (whole.length > 10) return null;
  const value = BigInt(whole || "0") * COIN + BigInt(fraction.padEnd(8, "0"));
  return moneyRange(value) ? value : null;
}

/**
 * A fee rate in satoshis per 1000 vB as Core's `CFeeRate::ToString(SAT_VB)`
 * writes it in wallet errors: sat/vB with three decimals.
 *
 * @example
 * ```ts
 * import { formatSatPerVbyte } from "./amount.ts";
 * if (formatSatPerVbyte(1000n) !== "1.000 sat/vB") throw new Error(formatSatPerVbyte(1000n));
 * if (formatSatPerVbyte(25n) !== "0.025 sat/vB") throw new Error("fraction");
 * ```
 */
export function formatSatPerVbyte(perKvb: bigint): string {
  return `${perKvb / 1000n}.${String(perKvb % 1000n).padStart(3, "0")} sat/vB`;
}
