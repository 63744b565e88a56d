/**
 * JSON values as Bitcoin Core's UniValue treats them.
 *
 * - {@linkcode parseJson} reads bytes exactly as `UniValue::read` does: number
 *   text is kept verbatim ({@linkcode JsonNumber}), objects keep their key
 *   order and duplicate keys ({@linkcode JsonObject}), strings are checked as
 *   UTF-8 by UniValue's own filter, nesting stops at 512 levels, and a scalar
 *   may stand at the top level.
 * - {@linkcode writeJson} writes what `UniValue::write` writes: compact JSON
 *   (or indented, as `write(4)`), raw UTF-8 with Core's escape table, doubles
 *   as `%.16g`, amounts with exactly 8 decimals ({@linkcode Amount}).
 * - The `as*` converters are UniValue's getters (`get_str`, `getInt<int>`,
 *   ...), throwing the same messages: a {@linkcode JsonTypeError} for a wrong
 *   type (an RPC_TYPE_ERROR, -3) and a plain `Error` for a number out of range
 *   (an RPC_MISC_ERROR, -1).
 *
 * @example
 * ```ts
 * import { asInt, parseJson, writeJson } from "./json.ts";
 * const v = parseJson('{"id":1.50,"b":[7]}');
 * if (writeJson(v) !== '{"id":1.50,"b":[7]}') throw new Error("not verbatim");
 * let message = "";
 * try { asInt(parseJson("1.0")); } catch (e) { message = (e as Error).message; }
 * if (message !== "JSON integer out of range") throw new Error(message);
 * ```
 *
 * @module
 */

/** A JSON number, kept as the exact text it was read from (UniValue's VNUM). */
export class JsonNumber {
  /** The number's text, e.g. `1.50` or `1e0`. */
  readonly text: string;

  /** Wraps number text; it is written out verbatim, so it must be valid JSON number text. */
  constructor(text: string) {
    this.text = text;
  }

  /** The text itself. */
  toString(): string {
    return this.text;
  }
}

/**
 * A JSON object as UniValue keeps it: keys in the order they came, duplicate
 * keys kept (and written back), lookups finding the first.
 */
export class JsonObject {
  /** The keys, in order (duplicates possible). */
  readonly keys: string[] = [];
  /** The values, parallel to {@linkcode JsonObject.keys}. */
  readonly values: Json[] = [];

  /** Builds an object from `[key, value]` pairs, in order. */
  constructor(entries: Iterable<readonly [string, Json]> = []) {
    for (const [key, value] of entries) this.push(key, value);
  }

  /** The number of entries (duplicates counted). */
  get size(): number {
    return this.keys.length;
  }

  /** The first value under `key` (UniValue's `find_value`), or `undefined`. */
  get(key: string): Json | undefined {
    const i = this.keys.indexOf(key);
    return i < 0 ? undefined : this.values[i];
  }

  /** Whether some entry has `key` (UniValue's `exists`). */
  has(key: string): boolean {
    return this.keys.includes(key);
  }

  /** Appends an entry, even when the key is already there (`pushKVEnd`). */
  push(key: string, value: Json): void {
    this.keys.push(key);
    this.values.push(value);
  }

  /** The `[key, value]` pairs in order. */
  *entries(): IterableIterator<[string, Json]> {
    for (let i = 0; i < this.keys.length; i++) yield [this.keys[i], this.values[i]];
  }
}

/** A parsed JSON value: what {@linkcode parseJson} returns and the converters read. */
export type Json = null | boolean | string | JsonNumber | Json[] | JsonObject;

/**
 * An amount of satoshis, written as a number with exactly 8 decimals
 * (`ValueFromAmount`): `new Amount(5000002820n)` is written `50.00002820`.
 */
export class Amount {
  /** The amount in satoshis. */
  readonly sats: bigint;

  /** Wraps a satoshi count (an integer `number` is accepted for convenience). */
  constructor(sats: bigint | number) {
    if (typeof sats === "number" && !Number.isSafeInteger(sats)) {
      throw new RangeError(`an amount must be a whole number of satoshis, got ${sats}`);
    }
    this.sats = BigInt(sats);
  }

  /** The text Core writes: `-0.00002820`, `0.00000000`, `21000000.00000000`. */
  toString(): string {
    const negative = this.sats < 0n;
    const abs = negative ? -this.sats : this.sats;
    const whole = abs / COIN;
    const frac = (abs % COIN).toString().padStart(8, "0");
    return `${negative ? "-" : ""}${whole}.${frac}`;
  }
}

/** Satoshis per bitcoin. */
export const COIN = 100_000_000n;
/** The largest amount there can be: 21 million BTC (`MAX_MONEY`). */
export const MAX_MONEY: bigint = 21_000_000n * COIN;

/**
 * What a method may return and {@linkcode writeJson} accepts: parsed values,
 * plus JS numbers (written as `%.16g`), bigints (integers), {@linkcode Amount}s,
 * arrays, `Map`s (insertion order, for keys such as txids) and plain objects
 * (their own enumerable keys; `undefined` values are left out, so optional
 * keys can be written inline). Plain objects put integer-like keys first, as
 * JS does: use a `Map` or {@linkcode JsonObject} when such keys must keep
 * their order.
 */
export type JsonInput =
  | Json
  | number
  | bigint
  | Amount
  | readonly JsonInput[]
  | JsonObjectLike;

/** The object forms {@linkcode JsonInput} accepts. */
export type JsonObjectLike =
  | JsonObject
  | ReadonlyMap<string, JsonInput>
  | { readonly [key: string]: JsonInput | undefined };

/** Thrown by {@linkcode parseJson} for input that `UniValue::read` refuses. */
export class JsonParseError extends SyntaxError {
  /** Names the failure; the byte offset tells where the reader stopped. */
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = "JsonParseError";
  }
}

/**
 * UniValue's `type_error`: a value of the wrong JSON type. The RPC layer turns
 * it into RPC_TYPE_ERROR (-3) with this message.
 */
export class JsonTypeError extends TypeError {
  /** `JSON value of type <actual> is not of expected type <expected>`. */
  constructor(message: string) {
    super(message);
    this.name = "JsonTypeError";
  }
}

/** UniValue's type names, as its messages print them. */
export type JsonTypeName = "null" | "bool" | "object" | "array" | "string" | "number";

/** The UniValue type name of a value (`undefined`, an absent value, is `null`). */
export function typeName(value: JsonInput | undefined): JsonTypeName {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "boolean":
      return "bool";
    case "string":
      return "string";
    case "number":
    case "bigint":
      return "number";
  }
  if (value instanceof JsonNumber || value instanceof Amount) return "number";
  if (Array.isArray(value)) return "array";
  return "object";
}

// ---------------------------------------------------------------------------
// Reading

/** Nesting deeper than this fails to parse (UniValue's `MAX_JSON_DEPTH`). */
export const MAX_JSON_DEPTH = 512;

const enum Tok {
  Err,
  None,
  ObjOpen,
  ObjClose,
  ArrOpen,
  ArrClose,
  Colon,
  Comma,
  Null,
  True,
  False,
  Number,
  String,
}

const EXP_OBJ_NAME = 1, EXP_COLON = 2, EXP_ARR_VALUE = 4, EXP_VALUE = 8, EXP_NOT_VALUE = 16;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Parses JSON as `UniValue::read` does, or throws {@linkcode JsonParseError}.
 * Strings passed in are read as their UTF-8 bytes.
 *
 * With `maxValues`, a text of more values than that (object keys count)
 * fails as it reaches the next one: each value read costs tens of bytes of
 * heap, so a request body of a few bytes per value could otherwise take
 * the process past its heap before anything looks at it.
 *
 * One deliberate difference: a string holding a code point above U+10FFFF
 * (which UniValue's filter lets through from 4-byte sequences starting
 * F4 90 or F5–F7) cannot be a JS string, so it fails to parse here.
 */
export function parseJson(input: Uint8Array | string, maxValues = Infinity): Json {
  const bytes = typeof input === "string" ? utf8.encode(input) : input;
  return new Reader(bytes, maxValues).read();
}

class Reader {
  #pos = 0;
  #value: Json = null;
  /** Values (object keys included) read so far, against `maxValues`. */
  #values = 0;

  constructor(readonly bytes: Uint8Array, readonly maxValues: number) {}

  read(): Json {
    let expect = 0;
    const stack: (Json[] | PendingObject)[] = [];
    let tok = Tok.None;
    let root: Json = null;
    let rootSet = false;
    do {
      const lastTok = tok;
      tok = this.#token();
      if (tok === Tok.None || tok === Tok.Err) this.#fail("unexpected end or character");
      const isValueOpen = tok === Tok.Null || tok === Tok.True || tok === Tok.False ||
        tok === Tok.Number || tok === Tok.String || tok === Tok.ObjOpen || tok === Tok.ArrOpen;
      if (isValueOpen && ++this.#values > this.maxValues) {
        this.#fail(`more than ${this.maxValues} values`);
      }

      if (expect & EXP_VALUE) {
        if (!isValueOpen) this.#fail("expected a value");
        expect &= ~EXP_VALUE;
      } else if (expect & EXP_ARR_VALUE) {
        if (!isValueOpen && tok !== Tok.ArrClose) this.#fail("expected an array element");
        expect &= ~EXP_ARR_VALUE;
      } else if (expect & EXP_OBJ_NAME) {
        if (tok !== Tok.ObjClose && tok !== Tok.String) this.#fail("expected an object key");
      } else if (expect & EXP_COLON) {
        if (tok !== Tok.Colon) this.#fail("expected ':'");
        expect &= ~EXP_COLON;
      } else if (tok === Tok.Colon) {
        this.#fail("unexpected ':'");
      }
      if (expect & EXP_NOT_VALUE) {
        if (isValueOpen) this.#fail("expected ',' or a closing bracket");
        expect &= ~EXP_NOT_VALUE;
      }

      switch (tok) {
        case Tok.ObjOpen:
        case Tok.ArrOpen: {
          const container: Json[] | PendingObject = tok === Tok.ObjOpen ? new PendingObject() : [];
          const value = container instanceof PendingObject ? container.object : container;
          if (stack.length === 0) {
            root = value;
            rootSet = true;
          } else {
            addValue(stack[stack.length - 1], value);
          }
          stack.push(container);
          if (stack.length > MAX_JSON_DEPTH) this.#fail("nested too deeply");
          expect |= tok === Tok.ObjOpen ? EXP_OBJ_NAME : EXP_ARR_VALUE;
          break;
        }
        case Tok.ObjClose:
        case Tok.ArrClose: {
          if (stack.length === 0 || lastTok === Tok.Comma) this.#fail("unexpected closing bracket");
          const top = stack[stack.length - 1];
          if ((tok === Tok.ObjClose) !== (top instanceof PendingObject)) {
            this.#fail("mismatched closing bracket");
          }
          stack.pop();
          expect &= ~EXP_OBJ_NAME;
          expect |= EXP_NOT_VALUE;
          break;
        }
        case Tok.Colon: {
          if (stack.length === 0 || !(stack[stack.length - 1] instanceof PendingObject)) {
            this.#fail("unexpected ':'");
          }
          expect |= EXP_VALUE;
          break;
        }
        case Tok.Comma: {
          if (stack.length === 0 || lastTok === Tok.Comma || lastTok === Tok.ArrOpen) {
            this.#fail("unexpected ','");
          }
          expect |= stack[stack.length - 1] instanceof PendingObject ? EXP_OBJ_NAME : EXP_ARR_VALUE;
          break;
        }
        case Tok.String:
          if (expect & EXP_OBJ_NAME) {
            (stack[stack.length - 1] as PendingObject).key = this.#value as string;
            expect &= ~EXP_OBJ_NAME;
            expect |= EXP_COLON;
            expect |= EXP_NOT_VALUE;
            break;
          }
        // falls through: a string value
        default: {
          const value = tok === Tok.Null
            ? null
            : tok === Tok.True
            ? true
            : tok === Tok.False
            ? false
            : this.#value;
          if (stack.length === 0) {
            root = value;
            rootSet = true;
            break;
          }
          addValue(stack[stack.length - 1], value);
          expect |= EXP_NOT_VALUE;
        }
      }
    } while (stack.length > 0);

    if (this.#token() !== Tok.None) this.#fail("trailing characters");
    if (!rootSet) this.#fail("no value");
    return root;
  }

  #fail(message: string): never {
    throw new JsonParseError(message, this.#pos);
  }

  /** Reads one token (UniValue's `getJsonToken`), leaving its value in #value. */
  #token(): Tok {
    const b = this.bytes;
    const end = b.length;
    let p = this.#pos;
    while (p < end && (b[p] === 0x20 || b[p] === 0x09 || b[p] === 0x0a || b[p] === 0x0d)) p++;
    this.#pos = p;
    if (p >= end) return Tok.None;
    const c = b[p];
    switch (c) {
      case 0x7b: // {
        this.#pos = p + 1;
        return Tok.ObjOpen;
      case 0x7d:
        this.#pos = p + 1;
        return Tok.ObjClose;
      case 0x5b:
        this.#pos = p + 1;
        return Tok.ArrOpen;
      case 0x5d:
        this.#pos = p + 1;
        return Tok.ArrClose;
      case 0x3a:
        this.#pos = p + 1;
        return Tok.Colon;
      case 0x2c:
        this.#pos = p + 1;
        return Tok.Comma;
      case 0x6e: // n
      case 0x74: // t
      case 0x66: // f
        if (this.#keyword(p, "null")) return Tok.Null;
        if (this.#keyword(p, "true")) return Tok.True;
        if (this.#keyword(p, "false")) return Tok.False;
        return Tok.Err;
      case 0x22:
        return this.#string(p + 1);
    }
    if (c === 0x2d || isDigit(c)) return this.#number(p);
    return Tok.Err;
  }

  #keyword(p: number, word: string): boolean {
    if (p + word.length > this.bytes.length) return false;
    for (let i = 0; i < word.length; i++) {
      if (this.bytes[p + i] !== word.charCodeAt(i)) return false;
    }
    this.#pos = p + word.length;
    return true;
  }

  #number(start: number): Tok {
    const b = this.bytes;
    const end = b.length;
    let p = start;
    const firstDigit = isDigit(b[p]) ? p : p + 1;
    if (b[firstDigit] === 0x30 && firstDigit + 1 < end && isDigit(b[firstDigit + 1])) {
      return Tok.Err;
    }
    p++;
    // UniValue lets a lone '-' at the very end of the input stand as a number.
    if (b[start] === 0x2d && p < end && !isDigit(b[p])) return Tok.Err;
    while (p < end && isDigit(b[p])) p++;
    if (p < end && b[p] === 0x2e) {
      p++;
      if (p >= end || !isDigit(b[p])) return Tok.Err;
      while (p < end && isDigit(b[p])) p++;
    }
    if (p < end && (b[p] === 0x65 || b[p] === 0x45)) {
      p++;
      if (p < end && (b[p] === 0x2d || b[p] === 0x2b)) p++;
      if (p >= end || !isDigit(b[p])) return Tok.Err;
      while (p < end && isDigit(b[p])) p++;
    }
    this.#value = new JsonNumber(lenientUtf8.decode(b.subarray(start, p)));
    this.#pos = p;
    return Tok.Number;
  }

  #string(start: number): Tok {
    // Fast path: no escapes or control characters, and UTF-8 a strict decoder accepts.
    const b = this.bytes;
    const end = b.length;
    let p = start;
    let ascii = true;
    for (; p < end; p++) {
      const c = b[p];
      if (c === 0x22 || c === 0x5c || c < 0x20) break;
      if (c >= 0x80) ascii = false;
    }
    if (p < end && b[p] === 0x22) {
      const slice = b.subarray(start, p);
      try {
        this.#value = (ascii ? lenientUtf8 : strictUtf8).decode(slice);
        this.#pos = p + 1;
        return Tok.String;
      } catch {
        // Core's filter is more lenient (overlong forms, CESU-8 surrogates): slow path.
      }
    }
    return this.#filteredString(start);
  }

  /** The string as UniValue's JSONUTF8StringFilter reads it. */
  #filteredString(start: number): Tok {
    const b = this.bytes;
    const end = b.length;
    const filter = new Utf8Filter();
    let p = start;
    for (;;) {
      if (p >= end || b[p] < 0x20) return Tok.Err;
      const c = b[p];
      if (c === 0x5c) {
        p++;
        if (p >= end) return Tok.Err;
        const e = b[p];
        switch (e) {
          case 0x22:
          case 0x5c:
          case 0x2f:
            filter.pushByte(e);
            break;
          case 0x62:
            filter.pushByte(0x08);
            break;
          case 0x66:
            filter.pushByte(0x0c);
            break;
          case 0x6e:
            filter.pushByte(0x0a);
            break;
          case 0x72:
            filter.pushByte(0x0d);
            break;
          case 0x74:
            filter.pushByte(0x09);
            break;
          case 0x75: {
            if (p + 5 >= end) return Tok.Err;
            let cp = 0;
            for (let i = 1; i <= 4; i++) {
              const d = hexDigit(b[p + i]);
              if (d < 0) return Tok.Err;
              cp = cp * 16 + d;
            }
            filter.pushCodePoint(cp);
            p += 4;
            break;
          }
          default:
            return Tok.Err;
        }
        p++;
      } else if (c === 0x22) {
        p++;
        break;
      } else {
        filter.pushByte(c);
        p++;
      }
    }
    const s = filter.finish();
    if (s === undefined) return Tok.Err;
    this.#value = s;
    this.#pos = p;
    return Tok.String;
  }
}

class PendingObject {
  readonly object = new JsonObject();
  key = "";
}

function addValue(top: Json[] | PendingObject, value: Json): void {
  if (top instanceof PendingObject) top.object.push(top.key, value);
  else top.push(value);
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** UniValue's JSONUTF8StringFilter: checks UTF-8 and pairs \u surrogates. */
class Utf8Filter {
  #parts: string[] = [];
  #codes: number[] = [];
  #valid = true;
  #codepoint = 0;
  #state = 0;
  #surrogate = 0;

  pushByte(ch: number): void {
    if (this.#state === 0) {
      if (ch < 0x80) {
        this.#emit(ch);
      } else if (ch < 0xc0) {
        this.#valid = false;
      } else if (ch < 0xe0) {
        this.#codepoint = (ch & 0x1f) << 6;
        this.#state = 6;
      } else if (ch < 0xf0) {
        this.#codepoint = (ch & 0x0f) << 12;
        this.#state = 12;
      } else if (ch < 0xf8) {
        this.#codepoint = (ch & 0x07) << 18;
        this.#state = 18;
      } else {
        this.#valid = false;
      }
    } else {
      if ((ch & 0xc0) !== 0x80) this.#valid = false;
      this.#state -= 6;
      this.#codepoint |= (ch & 0x3f) << this.#state;
      if (this.#state === 0) this.pushCodePoint(this.#codepoint);
    }
  }

  pushCodePoint(cp: number): void {
    if (this.#state) this.#valid = false;
    if (cp >= 0xd800 && cp < 0xdc00) {
      if (this.#surrogate) this.#valid = false;
      else this.#surrogate = cp;
    } else if (cp >= 0xdc00 && cp < 0xe000) {
      if (this.#surrogate) {
        this.#emit(0x10000 | ((this.#surrogate - 0xd800) << 10) | (cp - 0xdc00));
        this.#surrogate = 0;
      } else {
        this.#valid = false;
      }
    } else if (this.#surrogate) {
      this.#valid = false;
    } else {
      this.#emit(cp);
    }
  }

  /** The string, or undefined when UniValue would refuse it. */
  finish(): string | undefined {
    if (this.#state || this.#surrogate || !this.#valid) return undefined;
    this.#flush();
    return this.#parts.join("");
  }

  #emit(cp: number): void {
    if (cp > 0x10ffff) {
      this.#valid = false;
      return;
    }
    this.#codes.push(cp);
    if (this.#codes.length >= 4096) this.#flush();
  }

  #flush(): void {
    if (this.#codes.length) this.#parts.push(String.fromCodePoint(...this.#codes));
    this.#codes = [];
  }
}

// ---------------------------------------------------------------------------
// Writing

// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\u007f]/;
// deno-lint-ignore no-control-regex
const ESCAPED_CHARS = /[\u0000-\u001f"\\\u007f]/g;
const NAMED_ESCAPES: Record<string, string> = {
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
  '"': '\\"',
  "\\": "\\\\",
};

function escapeChar(ch: string): string {
  return NAMED_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** A JSON string literal as UniValue writes it (raw UTF-8; `\n`, `\u0001`, `\u007f` escaped). */
export function quoteJson(s: string): string {
  return NEEDS_ESCAPE.test(s) ? `"${s.replace(ESCAPED_CHARS, escapeChar)}"` : `"${s}"`;
}

/**
 * A double as UniValue writes it (`std::setprecision(16)`, i.e. `%.16g`):
 * `4.656542373906925e-10`, `2.00209799849262e-06`, `1`, `0.0001`. Integers
 * below 2^53 come out as plain integers. Throws for NaN and infinities.
 */
export function formatDouble(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`cannot write ${x} as JSON`);
  if (x === 0) return "0";
  const [mantissa, expText] = x.toExponential(15).split("e");
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  if (exp < -4 || exp >= 16) {
    const m = stripZeros(`${digits[0]}.${digits.slice(1)}`);
    const e = String(Math.abs(exp)).padStart(2, "0");
    return `${negative ? "-" : ""}${m}e${exp < 0 ? "-" : "+"}${e}`;
  }
  const fixed = exp >= 0
    ? `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`
    : `0.${"0".repeat(-exp - 1)}${digits}`;
  return `${negative ? "-" : ""}${stripZeros(fixed)}`;
}

function stripZeros(s: string): string {
  if (!s.includes(".")) return s;
  return s.replace(/0+$/, "").replace(/\.$/, "");
}

/**
 * Writes a value as `UniValue::write(indent)` does: compact when `indent` is
 * 0 (what the server sends), else one entry per line indented by `indent`
 * spaces per level (as in Core's "Wrong type passed" message).
 */
export function writeJson(value: JsonInput, indent = 0): string {
  const out: string[] = [];
  write(value, indent, 1, out);
  return out.join("");
}

function write(value: JsonInput, indent: number, level: number, out: string[]): void {
  if (value === null) {
    out.push("null");
    return;
  }
  switch (typeof value) {
    case "string":
      out.push(quoteJson(value));
      return;
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "number":
      out.push(formatDouble(value));
      return;
    case "bigint":
      out.push(value.toString());
      return;
  }
  if (value instanceof JsonNumber || value instanceof Amount) {
    out.push(value.toString());
    return;
  }
  if (Array.isArray(value)) {
    writeContainer("[", "]", value.length, indent, level, out, (i) => {
      write((value as readonly JsonInput[])[i], indent, level + 1, out);
    });
    return;
  }
  const entries = objectEntries(value as JsonObjectLike);
  writeContainer("{", "}", entries.length, indent, level, out, (i) => {
    out.push(quoteJson(entries[i][0]), indent ? ": " : ":");
    write(entries[i][1], indent, level + 1, out);
  });
}

function writeContainer(
  open: string,
  close: string,
  count: number,
  indent: number,
  level: number,
  out: string[],
  item: (i: number) => void,
): void {
  out.push(open);
  if (indent) out.push("\n");
  for (let i = 0; i < count; i++) {
    if (indent) out.push(" ".repeat(indent * level));
    item(i);
    if (i !== count - 1) out.push(",");
    if (indent) out.push("\n");
  }
  if (indent) out.push(" ".repeat(indent * (level - 1)));
  out.push(close);
}

/** The entries of an object-like value, in the order they are written. */
export function objectEntries(value: JsonObjectLike): [string, JsonInput][] {
  if (value instanceof JsonObject) return [...value.entries()];
  if (value instanceof Map) return [...(value as ReadonlyMap<string, JsonInput>).entries()];
  const entries: [string, JsonInput][] = [];
  for (const [k, v] of Object.entries(value)) if (v !== undefined) entries.push([k, v]);
  return entries;
}

/**
 * Turns a method's result (or a default value) into the parsed model, the
 * way it would read back: numbers become {@linkcode JsonNumber}s of their
 * written text, maps and plain objects {@linkcode JsonObject}s.
 */
export function toJson(value: JsonInput): Json {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (value instanceof JsonNumber || value instanceof JsonObject) return value;
  if (typeof value === "number") return new JsonNumber(formatDouble(value));
  if (typeof value === "bigint" || value instanceof Amount) return new JsonNumber(value.toString());
  if (Array.isArray(value)) return value.map(toJson);
  return new JsonObject(
    objectEntries(value as JsonObjectLike).map(([k, v]) => [k, toJson(v)]),
  );
}

// ---------------------------------------------------------------------------
// UniValue's getters

function checkType(value: Json | undefined, expected: JsonTypeName): void {
  const actual = typeName(value);
  if (actual !== expected) {
    throw new JsonTypeError(`JSON value of type ${actual} is not of expected type ${expected}`);
  }
}

/** `get_str`: the string, or a type error. */
export function asStr(value: Json | undefined): string {
  checkType(value, "string");
  return value as string;
}

/** `get_bool`: the boolean, or a type error. */
export function asBool(value: Json | undefined): boolean {
  checkType(value, "bool");
  return value as boolean;
}

/** `get_obj`: the object, or a type error. */
export function asObj(value: Json | undefined): JsonObject {
  checkType(value, "object");
  return value as JsonObject;
}

/** `get_array`: the array, or a type error. */
export function asArr(value: Json | undefined): Json[] {
  checkType(value, "array");
  return value as Json[];
}

/** The number's text, after checking it is a number (`getValStr` on a VNUM). */
export function numberText(value: Json | undefined): string {
  checkType(value, "number");
  return (value as JsonNumber).text;
}

/** `get_real`: the double; `JSON double out of range` when the text does not fit one. */
export function asReal(value: Json | undefined): number {
  const text = numberText(value);
  const x = Number(text);
  if (!Number.isFinite(x) || text === "-") throw new Error("JSON double out of range");
  return x;
}

function integerOf(value: Json | undefined, signed: boolean, min: bigint, max: bigint): bigint {
  const text = numberText(value);
  // std::from_chars: an optional '-' (signed types only), then digits to the end.
  if (!(signed ? /^-?[0-9]+$/ : /^[0-9]+$/).test(text)) {
    throw new Error("JSON integer out of range");
  }
  const n = BigInt(text);
  if (n < min || n > max) throw new Error("JSON integer out of range");
  return n;
}

/** `getInt<int>`: a 32-bit integer written as one (`1.0`, `1e0` and `9999999999` are out of range). */
export function asInt(value: Json | undefined): number {
  return Number(integerOf(value, true, -(2n ** 31n), 2n ** 31n - 1n));
}

/** `getInt<uint32_t>`. */
export function asUint32(value: Json | undefined): number {
  return Number(integerOf(value, false, 0n, 2n ** 32n - 1n));
}

/** `getInt<int64_t>`, exact as a bigint. */
export function asInt64(value: Json | undefined): bigint {
  return integerOf(value, true, -(2n ** 63n), 2n ** 63n - 1n);
}

/** `getInt<uint64_t>`, exact as a bigint. */
export function asUint64(value: Json | undefined): bigint {
  return integerOf(value, false, 0n, 2n ** 64n - 1n);
}

/** The value itself (for arguments read as raw JSON). */
export function asJson(value: Json | undefined): Json {
  return value ?? null;
}
