/**
 * The documentation half of a method spec, modelled on Bitcoin Core's
 * `RPCArg` and `RPCResult`: what the help text is rendered from, and what
 * argument checking and named parameters are derived from.
 *
 * Type names map one to one onto Core's: `"str"` = `STR`, `"hex"` =
 * `STR_HEX`, `"num"` = `NUM`, `"bool"` = `BOOL`, `"amount"` = `AMOUNT`,
 * `"range"` = `RANGE`, `"obj"` = `OBJ`, `"obj_user_keys"` = `OBJ_USER_KEYS`,
 * `"obj_named_params"` = `OBJ_NAMED_PARAMS`, `"arr"` = `ARR`; for results
 * `"amount"` = `STR_AMOUNT`, `"time"` = `NUM_TIME`, `"obj_dyn"`,
 * `"arr_fixed"`, `"none"`, `"any"` and `"elision"` likewise.
 *
 * Core's fallback variants: a required argument has none of `optional`,
 * `default`, `defaultHint`; `optional: true` is `Optional::OMITTED`;
 * `default: v` is `Default{v}` (the value is used when the argument is absent
 * or null, and shown as `default=<v as JSON>`); `defaultHint: "text"` is
 * `DefaultHint{"text"}` (shown as `default=text`, no value supplied).
 *
 * @example
 * ```ts
 * import type { ArgSpec, ResultSpec } from "./spec.ts";
 * const height: ArgSpec = { name: "height", type: "num", description: "The height index" };
 * const hash: ResultSpec = { type: "hex", description: "The block hash" };
 * if (height.type !== "num" || hash.type !== "hex") throw new Error("unreachable");
 * ```
 *
 * @module
 */
import type { JsonInput } from "./json.ts";

/** Core's `RPCArg::Type`, lower-cased (`"hex"` is `STR_HEX`). */
export type ArgType =
  | "str"
  | "hex"
  | "num"
  | "bool"
  | "amount"
  | "range"
  | "obj"
  | "obj_user_keys"
  | "obj_named_params"
  | "arr";

/** One argument (or one field of an object/array argument), as Core's `RPCArg`. */
export interface ArgSpec {
  /** The name; `"a|b"` gives aliases for named calls. Inner array elements use `""`. */
  readonly name: string;
  /** The JSON shape expected. */
  readonly type: ArgType;
  /** The text after the type in the help (may hold `\n`). */
  readonly description: string;
  /** Optional with no default shown (`Optional::OMITTED`). */
  readonly optional?: boolean;
  /** Optional with this default value (`Default{...}`); `null` is allowed. */
  readonly default?: JsonInput;
  /** Optional with this default described in words (`DefaultHint{...}`). */
  readonly defaultHint?: string;
  /** Fields of an object, or element shapes of an array. */
  readonly inner?: readonly ArgSpec[];
  /** Skip the top-level JSON type check (the handler checks). */
  readonly skipTypeCheck?: boolean;
  /** Replaces the argument in the one-line summary. */
  readonly onelineDescription?: string;
  /** Overrides the type strings: `[inside an object, in the description]`. */
  readonly typeStr?: readonly [string, string];
  /** Hidden from help (this and every later argument); for testing only. */
  readonly hidden?: boolean;
  /** An `obj_named_params` field that may share a top-level argument's name. */
  readonly alsoPositional?: boolean;
}

/** Core's `RPCResult::Type`, lower-cased (`"amount"` is `STR_AMOUNT`, `"time"` is `NUM_TIME`). */
export type ResultType =
  | "obj"
  | "arr"
  | "str"
  | "num"
  | "bool"
  | "none"
  | "any"
  | "amount"
  | "hex"
  | "obj_dyn"
  | "arr_fixed"
  | "time"
  | "elision";

/** The documented shape of a result (or of one of its fields), as Core's `RPCResult`. */
export interface ResultSpec {
  /** The JSON shape. */
  readonly type: ResultType;
  /** The key, for a field of an object. */
  readonly key?: string;
  /** The text after the type in the help. */
  readonly description?: string;
  /** Shown as `(type, optional)`: the key may be absent. */
  readonly optional?: boolean;
  /** Fields of an object, or element shapes of an array. */
  readonly inner?: readonly ResultSpec[];
  /** For a top-level alternative: `Result (<cond>):` instead of `Result:`. */
  readonly cond?: string;
  /** Leave this value out of `docCheck`. */
  readonly skipTypeCheck?: boolean;
}

/** Whether an argument may be left out (Core's `RPCArg::IsOptional`). */
export function isOptional(arg: ArgSpec): boolean {
  return arg.optional === true || "default" in arg || arg.defaultHint !== undefined;
}

/** An argument's first name (Core's `GetFirstName`). */
export function firstName(arg: ArgSpec): string {
  const bar = arg.name.indexOf("|");
  return bar < 0 ? arg.name : arg.name.slice(0, bar);
}

/**
 * An element of an array of outputs, `{"txid": "hex", "vout": n}`, with
 * `more` fields after those two (Core writes it out in each method that
 * takes outputs: lockunspent, gettxspendingprevout, the inputs and the
 * prevtxs of the raw transaction methods).
 *
 * @example
 * ```ts
 * import { outpointArg } from "./spec.ts";
 * const arg = outpointArg({ name: "sequence", type: "num", description: "The sequence number" });
 * if (arg.inner?.map((a) => a.name).join() !== "txid,vout,sequence") throw new Error("fields");
 * ```
 */
export function outpointArg(...more: ArgSpec[]): ArgSpec {
  return {
    name: "",
    type: "obj",
    optional: true,
    description: "",
    inner: [
      { name: "txid", type: "hex", description: "The transaction id" },
      { name: "vout", type: "num", description: "The output number" },
      ...more,
    ],
  };
}
