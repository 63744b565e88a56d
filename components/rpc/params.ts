/**
 * A method handler's view of its arguments, and Core's argument parsers
 * (`AmountFromValue`, `ParseHashV`, `ParseHexV`, `ParseVerbosity`).
 *
 * By the time a handler runs, named arguments have been mapped to positions,
 * the argument count checked and each argument's top-level JSON type checked
 * against its spec, exactly as Core does before calling a method. The handler
 * then reads each argument through a converter from `json.ts` (`asInt`,
 * `asStr`, ...) or from here (`amountFromValue`, ...), which throw Core's own
 * messages for values of the right type but wrong content.
 *
 * @example
 * ```ts
 * import { asInt } from "./json.ts";
 * import { amountFromValue, Params } from "./params.ts";
 * import { parseJson } from "./json.ts";
 * const p = new Params(
 *   [{ name: "amount", type: "amount", description: "" },
 *    { name: "n", type: "num", default: 6, description: "" }],
 *   [parseJson('"0.1"')],
 * );
 * if (p.arg("amount", amountFromValue) !== 10_000_000n) throw new Error("amount");
 * if (p.arg("n", asInt) !== 6) throw new Error("default");
 * ```
 *
 * @module
 */
import { RpcError, RpcErrorCode } from "./errors.ts";
import {
  asInt,
  asStr,
  type Json,
  JsonNumber,
  type JsonObject,
  MAX_MONEY,
  toJson,
  typeName,
} from "./json.ts";
import type { ArgSpec } from "./spec.ts";

/** The arguments of one call, by position and by name. */
export class Params {
  readonly #index = new Map<string, number>();
  readonly #defaults: (Json | undefined)[];
  /** The arguments by position, after named arguments were mapped (what `echo` returns). */
  readonly positional: readonly Json[];

  /** Binds positional values to a method's argument specs. */
  constructor(args: readonly ArgSpec[], positional: readonly Json[]) {
    for (const [i, arg] of args.entries()) {
      for (const name of arg.name.split("|")) this.#index.set(name, i);
    }
    this.#defaults = args.map((arg) => "default" in arg ? toJson(arg.default!) : undefined);
    this.positional = positional;
  }

  #position(name: string): number {
    const i = this.#index.get(name);
    if (i === undefined) throw new Error(`the method has no argument named "${name}"`);
    return i;
  }

  /** The value passed for `name` as is, `null` when absent (defaults not applied). */
  raw(name: string): Json {
    return this.positional[this.#position(name)] ?? null;
  }

  /** Whether a non-null value was passed for `name`. */
  has(name: string): boolean {
    return this.raw(name) !== null;
  }

  /**
   * The argument converted by `convert`, its default when it was absent or
   * null (Core's `self.Arg<T>(name)`). With neither, `convert` sees `null`
   * and raises its own type error, as Core's getters do on a null value.
   */
  arg<T>(name: string, convert: (value: Json) => T): T {
    const i = this.#position(name);
    return convert(this.positional[i] ?? this.#defaults[i] ?? null);
  }

  /** The argument converted, or its default, or `undefined` when neither (Core's `MaybeArg<T>`). */
  maybe<T>(name: string, convert: (value: Json) => T): T | undefined {
    const i = this.#position(name);
    const value = this.positional[i] ?? this.#defaults[i];
    return value === null || value === undefined ? undefined : convert(value);
  }
}

/**
 * Core's `AmountFromValue`: a number or numeric string of BTC, converted to
 * satoshis exactly from its text. `0.000000001` → -3 `Invalid amount`;
 * negative or above 21,000,000 BTC → -3 `Amount out of range`.
 */
export function amountFromValue(value: Json, decimals = 8): bigint {
  const text = value instanceof JsonNumber ? value.text : typeof value === "string" ? value : null;
  if (text === null) {
    throw new RpcError(RpcErrorCode.TYPE_ERROR, "Amount is not a number or string");
  }
  const amount = parseFixedPoint(text, decimals);
  if (amount === undefined) throw new RpcError(RpcErrorCode.TYPE_ERROR, "Invalid amount");
  if (amount < 0n || amount > MAX_MONEY) {
    throw new RpcError(RpcErrorCode.TYPE_ERROR, "Amount out of range");
  }
  return amount;
}

const UPPER_BOUND = 10n ** 18n - 1n;

/** Core's `ParseFixedPoint`: decimal text to an integer scaled by 10^decimals, or undefined. */
export function parseFixedPoint(val: string, decimals: number): bigint | undefined {
  let mantissa = 0n;
  let exponent = 0n;
  let tzeros = 0;
  let pointOfs = 0;
  let p = 0;
  const end = val.length;
  const digit = (i: number) => i < end && val[i] >= "0" && val[i] <= "9";
  const addDigit = (ch: string): boolean => {
    if (ch === "0") {
      tzeros++;
      return true;
    }
    for (let i = 0; i <= tzeros; i++) {
      if (mantissa > UPPER_BOUND / 10n) return false;
      mantissa *= 10n;
    }
    mantissa += BigInt(ch);
    tzeros = 0;
    return true;
  };
  const negative = val[p] === "-";
  if (negative) p++;
  if (p >= end) return undefined;
  if (val[p] === "0") {
    p++;
  } else if (val[p] >= "1" && val[p] <= "9") {
    while (digit(p)) if (!addDigit(val[p++])) return undefined;
  } else {
    return undefined;
  }
  if (p < end && val[p] === ".") {
    p++;
    if (!digit(p)) return undefined;
    while (digit(p)) {
      if (!addDigit(val[p++])) return undefined;
      pointOfs++;
    }
  }
  if (p < end && (val[p] === "e" || val[p] === "E")) {
    p++;
    let expNegative = false;
    if (val[p] === "+") p++;
    else if (val[p] === "-") {
      expNegative = true;
      p++;
    }
    if (!digit(p)) return undefined;
    while (digit(p)) {
      if (exponent > UPPER_BOUND / 10n) return undefined;
      exponent = exponent * 10n + BigInt(val[p++]);
    }
    if (expNegative) exponent = -exponent;
  }
  if (p !== end) return undefined;
  exponent = exponent - BigInt(pointOfs) + BigInt(tzeros) + BigInt(decimals);
  if (negative) mantissa = -mantissa;
  if (exponent < 0n || exponent >= 18n) return undefined;
  for (let i = 0n; i < exponent; i++) {
    if (mantissa > UPPER_BOUND / 10n || mantissa < -(UPPER_BOUND / 10n)) return undefined;
    mantissa *= 10n;
  }
  if (mantissa > UPPER_BOUND || mantissa < -UPPER_BOUND) return undefined;
  return mantissa;
}

const HEX = /^[0-9a-fA-F]*$/;

/** Core's `IsHex`: non-empty, even length, hex digits only. */
export function isHex(s: string): boolean {
  return s.length > 0 && s.length % 2 === 0 && HEX.test(s);
}

/**
 * Core's `ParseHashV`: a 64-digit hex hash (either case), returned in lower
 * case. Errors: -8 `<name> must be of length 64 (not 2, for 'zz')` and -8
 * `<name> must be hexadecimal string (not '…')`; a non-string is a type error.
 */
export function parseHashV(value: Json, name: string): string {
  const hex = asStr(value);
  if (hex.length === 64 && isHex(hex)) return hex.toLowerCase();
  if (hex.length !== 64) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      `${name} must be of length 64 (not ${utf8Length(hex)}, for '${hex}')`,
    );
  }
  throw new RpcError(
    RpcErrorCode.INVALID_PARAMETER,
    `${name} must be hexadecimal string (not '${hex}')`,
  );
}

/** Core's `ParseHexV`: hex bytes; anything else → -8 `<name> must be hexadecimal string (not '…')`. */
export function parseHexV(value: Json, name: string): Uint8Array {
  const hex = typeof value === "string" ? value : "";
  if (!isHex(hex)) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      `${name} must be hexadecimal string (not '${hex}')`,
    );
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/**
 * Core's `ParseVerbosity`: `true` = 1, `false` = 0, a number as an int, null
 * the default; a boolean where only integers are allowed → -3.
 */
export function parseVerbosity(value: Json, defaultVerbosity: number, allowBool = true): number {
  if (value === null) return defaultVerbosity;
  if (typeof value === "boolean") {
    if (!allowBool) {
      throw new RpcError(RpcErrorCode.TYPE_ERROR, "Verbosity was boolean but only integer allowed");
    }
    return value ? 1 : 0;
  }
  return asInt(value);
}

/** The UTF-8 length Core reports for a string (it counts bytes). */
function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/**
 * Core's `RPCTypeCheckObj` for one field of `o`: present (not null) unless
 * `allowNull`, and of the JSON type `expected`; -3 with Core's text otherwise.
 *
 * @example
 * ```ts
 * import { checkField } from "./params.ts";
 * import { parseJson, type JsonObject } from "./json.ts";
 * const o = parseJson('{"vout":1}') as JsonObject;
 * checkField(o, "vout", "number");
 * let message = "";
 * try { checkField(o, "txid", "string"); } catch (e) { message = (e as Error).message; }
 * if (message !== "Missing txid") throw new Error(message);
 * ```
 */
export function checkField(
  o: JsonObject,
  key: string,
  expected: "string" | "number",
  allowNull = false,
): void {
  const value = o.get(key) ?? null;
  if (!allowNull && value === null) {
    throw new RpcError(RpcErrorCode.TYPE_ERROR, `Missing ${key}`);
  }
  const actual = typeName(value);
  if (actual !== expected && !(allowNull && value === null)) {
    throw new RpcError(
      RpcErrorCode.TYPE_ERROR,
      `JSON value of type ${actual} for field ${key} is not of expected type ${expected}`,
    );
  }
}
