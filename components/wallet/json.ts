/**
 * The wallet's JSON replies: plain values, with amounts written as
 * bitcoind writes them (`50.00000000`, `-0.00002820`), exactly from
 * satoshis.
 *
 * @example
 * ```ts
 * import { Btc, writeJson } from "./json.ts";
 * const text = writeJson({ amount: new Btc(-2820n), ok: true });
 * if (text !== '{"amount":-0.00002820,"ok":true}') throw new Error(text);
 * ```
 * @module
 */

/** An amount of satoshis, written in BTC with eight decimals. */
export class Btc {
  constructor(readonly sats: bigint) {}

  toString(): string {
    const negative = this.sats < 0n;
    const abs = negative ? -this.sats : this.sats;
    const whole = abs / 100_000_000n;
    const fraction = (abs % 100_000_000n).toString().padStart(8, "0");
    return `${negative ? "-" : ""}${whole}.${fraction}`;
  }
}

/** What a reply holds. */
export type Reply =
  | null
  | boolean
  | number
  | string
  | Btc
  | readonly Reply[]
  | { readonly [key: string]: Reply | undefined };

/** `value` as compact JSON; object keys whose value is `undefined` are left out. */
export function writeJson(value: Reply): string {
  if (value instanceof Btc) return value.toString();
  if (Array.isArray(value)) return `[${value.map(writeJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const fields = Object.entries(value as Record<string, Reply | undefined>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${writeJson(v!)}`);
    return `{${fields.join(",")}}`;
  }
  return JSON.stringify(value);
}
