/**
 * Method specs and the method table, modelled on Bitcoin Core's `RPCHelpMan`
 * and `CRPCTable`.
 *
 * A method is declared once, with its documentation and its handler; from
 * the spec the framework derives what Core derives from an `RPCHelpMan`:
 * named parameters (with the `args` key for positional values), the
 * wrong-argument-count error (-1 with the whole help text), the type check
 * (`Wrong type passed: ...`, -3), the help text and the one-line summary in
 * `help`. Optionally (`docCheck`, Core's `-rpcdoccheck`) results are checked
 * against the documented result shapes.
 *
 * @example
 * ```ts
 * import { RpcError, RpcErrorCode } from "./errors.ts";
 * import { helpExampleCli, helpExampleRpc } from "./help.ts";
 * import { asInt, parseJson } from "./json.ts";
 * import { defineMethod, MethodTable } from "./methods.ts";
 *
 * const chain = ["0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"];
 * const getblockhash = defineMethod({
 *   name: "getblockhash",
 *   category: "blockchain",
 *   description: "Returns hash of block in best-block-chain at height provided.\n",
 *   args: [{ name: "height", type: "num", description: "The height index" }],
 *   result: { type: "hex", description: "The block hash" },
 *   examples: helpExampleCli("getblockhash", "1000") + helpExampleRpc("getblockhash", "1000"),
 *   handler(params) {
 *     const height = params.arg("height", asInt); // -1 "JSON integer out of range" for 1.5
 *     if (height < 0 || height >= chain.length) {
 *       throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "Block height out of range");
 *     }
 *     return chain[height];
 *   },
 * });
 * const table = new MethodTable([getblockhash]);
 * const ctx = {
 *   method: "getblockhash", uri: "/", walletName: undefined, authUser: "__cookie__",
 *   peer: "127.0.0.1:1", jsonVersion: 2 as const, signal: new AbortController().signal,
 * };
 * const result = await table.execute("getblockhash", [], ctx).catch((e) => e);
 * if (!(result instanceof RpcError) || result.code !== -1 || result.message !== getblockhash.help) {
 *   throw new Error("a missing argument answers the help text");
 * }
 * const hash = await table.execute("getblockhash", [parseJson("0")], ctx);
 * if (hash !== `"${chain[0]}"`) throw new Error(hash);
 * ```
 *
 * @module
 */
import {
  CLIENT_BUGREPORT,
  CLIENT_NAME,
  CLIENT_VERSION,
  RpcError,
  RpcErrorCode,
  toRpcError,
} from "./errors.ts";
import { renderHelp } from "./help.ts";
import {
  type Json,
  type JsonInput,
  JsonObject,
  type JsonObjectLike,
  type JsonTypeName,
  objectEntries,
  toJson,
  typeName,
  writeJson,
} from "./json.ts";
import { Params } from "./params.ts";
import {
  type ArgSpec,
  type ArgType,
  isOptional,
  type ResultSpec,
  type ResultType,
} from "./spec.ts";

/** What a handler knows about the call besides its arguments. */
export interface RequestContext {
  /** The method name as called. */
  readonly method: string;
  /** The request path (`/` or `/wallet/<name>`, still percent-encoded). */
  readonly uri: string;
  /**
   * The wallet named by a `/wallet/<name>` path, percent-decoded (`""` for
   * `/wallet/`); `undefined` for `/`. Wallet methods route on it; others
   * ignore it, as Core does.
   */
  readonly walletName: string | undefined;
  /** The user that authenticated (`__cookie__` for the cookie). */
  readonly authUser: string;
  /** The client's address as Core prints it (`127.0.0.1:51234`, `[::1]:51234`). */
  readonly peer: string;
  /** 1 for a legacy (JSON-RPC 1.0/1.1) request, 2 for JSON-RPC 2.0. */
  readonly jsonVersion: 1 | 2;
  /** Aborted when the server shuts down: long-running methods (long polls) return early on it. */
  readonly signal: AbortSignal;
}

/**
 * A method's implementation: reads its arguments through `params` and
 * returns the result (`undefined` is sent as `null`). Throw an `RpcError` for
 * a coded error; any other `Error` reaches the client as -1 with its message.
 */
export type MethodHandler = (
  params: Params,
  ctx: RequestContext,
) => JsonInput | void | Promise<JsonInput | void>;

/** Everything about one method: its documentation and its handler. */
export interface MethodSpec {
  /** The method name. */
  readonly name: string;
  /** The `help` section (`blockchain`, `control`, ...); `hidden` keeps it out of the listing. */
  readonly category: string;
  /** The description paragraph(s) of the help text. */
  readonly description: string;
  /** The arguments, in positional order. */
  readonly args?: readonly ArgSpec[];
  /** The documented result, or alternatives (each with a `cond`). */
  readonly result: ResultSpec | readonly ResultSpec[];
  /** The `Examples:` text (see `helpExampleCli`, `helpExampleRpc`); empty for none. */
  readonly examples?: string;
  /** The implementation. */
  readonly handler: MethodHandler;
}

/** A checked, ready-to-serve method; make one with {@linkcode defineMethod}. */
export class RpcMethod {
  /** The method name. */
  readonly name: string;
  /** The `help` section it is listed under. */
  readonly category: string;
  /** Its arguments. */
  readonly args: readonly ArgSpec[];
  /** Its documented results. */
  readonly results: readonly ResultSpec[];
  /** The full help text (`RPCHelpMan::ToString`). */
  readonly help: string;
  /** Names for named calls, in Core's `GetArgNames` order: `[pattern, namedOnly]`. */
  readonly argNames: readonly (readonly [string, boolean])[];
  readonly #handler: MethodHandler;

  /** Checks the spec as Core's `RPCHelpMan` constructor does and renders the help. */
  constructor(spec: MethodSpec) {
    this.name = spec.name;
    this.category = spec.category;
    this.args = spec.args ?? [];
    this.results = Array.isArray(spec.result) ? spec.result : [spec.result as ResultSpec];
    this.#handler = spec.handler;
    checkArgs(spec.name, this.args);
    for (const result of this.results) checkResultDoc(spec.name, result);
    this.help = renderHelp({
      name: spec.name,
      description: spec.description,
      args: this.args,
      results: this.results,
      examples: spec.examples ?? "",
    });
    const names: [string, boolean][] = [];
    for (const arg of this.args) {
      if (arg.type === "obj_named_params") {
        for (const inner of arg.inner ?? []) names.push([inner.name, true]);
      }
      names.push([arg.name, false]);
    }
    this.argNames = names;
  }

  /**
   * Runs the method as Core's `ExecuteCommand` + `HandleRequest` do: maps
   * named parameters, checks the count and the JSON types, calls the handler
   * and (with `docCheck`) checks the result against the docs. Throws what the
   * handler throws, or an `RpcError` for the framework's own errors.
   */
  async call(
    params: readonly Json[] | JsonObject,
    ctx: RequestContext,
    docCheck = false,
  ): Promise<JsonInput> {
    const positional = params instanceof JsonObject
      ? transformNamedArguments(params, this.argNames)
      : params;
    if (!this.#validNumArgs(positional.length)) {
      throw new RpcError(RpcErrorCode.MISC_ERROR, this.help);
    }
    const mismatch = new JsonObject();
    for (const [i, arg] of this.args.entries()) {
      const match = argMatchesType(arg, positional[i] ?? null);
      if (match !== true) mismatch.push(`Position ${i + 1} (${arg.name})`, match);
    }
    if (mismatch.size > 0) {
      throw new RpcError(RpcErrorCode.TYPE_ERROR, `Wrong type passed:\n${writeJson(mismatch, 4)}`);
    }
    const result = (await this.#handler(new Params(this.args, positional), ctx)) ?? null;
    if (docCheck) this.#checkResult(result);
    return result;
  }

  #validNumArgs(count: number): boolean {
    let required = 0;
    for (let n = this.args.length; n > 0; n--) {
      if (!isOptional(this.args[n - 1])) {
        required = n;
        break;
      }
    }
    return required <= count && count <= this.args.length;
  }

  #checkResult(result: JsonInput): void {
    const mismatch: Json[] = [];
    for (const doc of this.results) {
      const match = resultMatchesType(doc, result);
      if (match === true) return;
      mismatch.push(match);
    }
    const explain = mismatch.length === 0
      ? "no possible results defined"
      : writeJson(mismatch.length === 1 ? mismatch[0] : mismatch, 4);
    throw new Error(
      `Internal bug detected: RPC call "${this.name}" returned incorrect type:\n${explain}\n` +
        `${CLIENT_NAME} ${CLIENT_VERSION}\nPlease report this issue here: ${CLIENT_BUGREPORT}\n`,
    );
  }
}

/** Checks a method spec and makes it servable (Core's `RPCHelpMan` constructor). */
export function defineMethod(spec: MethodSpec): RpcMethod {
  return new RpcMethod(spec);
}

/** A call being executed (Core's `RPCCommandExecutionInfo`). */
export interface ActiveCommand {
  readonly method: string;
  /** When it started (`performance.now()` milliseconds). */
  readonly start: number;
}

/** Methods by name, as Core's `CRPCTable`: lookup, `help` and the argument map. */
export class MethodTable implements Iterable<RpcMethod> {
  readonly #methods = new Map<string, RpcMethod>();
  readonly #active = new Set<ActiveCommand>();

  /** The calls being executed, oldest first (`getrpcinfo`'s `active_commands`). */
  get activeCommands(): readonly ActiveCommand[] {
    return [...this.#active];
  }

  /** A table holding `methods`. */
  constructor(methods: Iterable<RpcMethod> = []) {
    for (const method of methods) this.add(method);
  }

  /** Registers a method; a second method of the same name is refused. */
  add(method: RpcMethod): void {
    if (this.#methods.has(method.name)) {
      throw new Error(`RPC method ${method.name} is registered twice`);
    }
    this.#methods.set(method.name, method);
  }

  /** The method called `name`, if registered. */
  get(name: string): RpcMethod | undefined {
    return this.#methods.get(name);
  }

  /** The methods, in registration order. */
  [Symbol.iterator](): Iterator<RpcMethod> {
    return this.#methods.values();
  }

  /**
   * Core's `CRPCTable::execute`: -28 with the status while warming up, -32601
   * for an unknown method, else the method's result written as JSON text.
   * Whatever the method throws comes out as an `RpcError` (see `toRpcError`).
   */
  async execute(
    method: string,
    params: readonly Json[] | JsonObject,
    ctx: RequestContext,
    options: { readonly warmupStatus?: string; readonly docCheck?: boolean } = {},
  ): Promise<string> {
    if (options.warmupStatus !== undefined) {
      throw new RpcError(RpcErrorCode.IN_WARMUP, options.warmupStatus);
    }
    const found = this.#methods.get(method);
    if (found === undefined) throw new RpcError(RpcErrorCode.METHOD_NOT_FOUND, "Method not found");
    const command = { method, start: performance.now() };
    this.#active.add(command);
    try {
      return writeJson(await found.call(params, ctx, options.docCheck));
    } catch (error) {
      throw toRpcError(error);
    } finally {
      this.#active.delete(command);
    }
  }

  /**
   * Core's `CRPCTable::help`: with `""` every non-hidden method's summary line
   * under `== Category ==` headings (sorted by category, then name; sections
   * separated by a blank line); with a name, that method's full help; for an
   * unknown name `help: unknown command: <name>`.
   */
  help(command: string): string {
    const sorted = [...this.#methods.values()].sort((a, b) =>
      compare(a.category + a.name, b.category + b.name)
    );
    let ret = "";
    let category = "";
    for (const method of sorted) {
      if ((command !== "" || method.category === "hidden") && method.name !== command) continue;
      let text = method.help;
      if (command === "") {
        const newline = text.indexOf("\n");
        if (newline >= 0) text = text.slice(0, newline);
        if (category !== method.category) {
          if (category !== "") ret += "\n";
          category = method.category;
          ret += `== ${category.charAt(0).toUpperCase()}${category.slice(1)} ==\n`;
        }
      }
      ret += text + "\n";
    }
    if (ret === "") ret = `help: unknown command: ${command}\n`;
    return ret.slice(0, -1);
  }

  /**
   * Core's `dumpArgMap` (`help dump_all_command_conversions`): for every
   * method and argument name `[method, position, name, isString]`.
   */
  argMap(): Json[] {
    const out: Json[] = [];
    const names = [...this.#methods.keys()].sort(compare);
    for (const name of names) {
      for (const [i, arg] of this.#methods.get(name)!.args.entries()) {
        for (const argName of arg.name.split("|")) {
          out.push(toJson([name, i, argName, isStringArg(arg.type)]));
          if (arg.type === "obj_named_params") {
            for (const inner of arg.inner ?? []) {
              for (const innerName of inner.name.split("|")) {
                out.push(toJson([name, i, innerName, isStringArg(inner.type)]));
              }
            }
          }
        }
      }
    }
    return out;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isStringArg(type: ArgType): boolean {
  return type === "str" || type === "hex";
}

/**
 * Core's `transformNamedArguments`: named parameters to positions, holes
 * filled with null (but not at the end), `args` taken as the leading
 * positional values, named-only options gathered into their object.
 */
export function transformNamedArguments(
  params: JsonObject,
  argNames: readonly (readonly [string, boolean])[],
): Json[] {
  const argsIn = new Map<string, Json>();
  for (const [key, value] of params.entries()) {
    if (argsIn.has(key)) invalidParameter(`Parameter ${key} specified multiple times`);
    argsIn.set(key, value);
  }
  let out: Json[] = [];
  let hole = 0;
  let initialHoleSize = 0;
  let initialParam: string | undefined;
  let options = new JsonObject();
  for (const [pattern, namedOnly] of argNames) {
    const found = pattern.split("|").find((name) => argsIn.has(name));
    if (namedOnly) {
      if (found !== undefined) {
        if (options.has(found)) invalidParameter(`Parameter ${found} specified multiple times`);
        options.push(found, argsIn.get(found)!);
        argsIn.delete(found);
      }
      continue;
    }
    if (options.size > 0 || found !== undefined) {
      for (let i = 0; i < hole; i++) out.push(null);
      hole = 0;
      initialParam ??= pattern;
    } else {
      hole += 1;
      if (out.length === 0) initialHoleSize = hole;
    }
    if (found !== undefined) {
      if (options.size > 0) {
        invalidParameter(`Parameter ${found} conflicts with parameter ${options.keys[0]}`);
      }
      out.push(argsIn.get(found)!);
      argsIn.delete(found);
    }
    if (options.size > 0) {
      out.push(options);
      options = new JsonObject();
    }
  }
  const positional = argsIn.get("args");
  argsIn.delete("args");
  if (Array.isArray(positional)) {
    if (initialHoleSize < positional.length && initialParam !== undefined) {
      invalidParameter(
        `Parameter ${initialParam} specified twice both as positional and named argument`,
      );
    }
    const named = out;
    out = [...positional];
    for (let i = out.length; i < named.length; i++) out.push(named[i]);
  }
  for (const key of argsIn.keys()) invalidParameter(`Unknown named parameter ${key}`);
  return out;
}

function invalidParameter(message: string): never {
  throw new RpcError(RpcErrorCode.INVALID_PARAMETER, message);
}

const ARG_JSON_TYPE: Record<ArgType, JsonTypeName | undefined> = {
  str: "string",
  hex: "string",
  num: "number",
  amount: undefined,
  range: undefined,
  bool: "bool",
  obj: "object",
  obj_named_params: "object",
  obj_user_keys: "object",
  arr: "array",
};

/** `RPCArg::MatchesType`: true, or the mismatch message. */
function argMatchesType(arg: ArgSpec, value: Json): true | string {
  if (arg.skipTypeCheck) return true;
  if (isOptional(arg) && value === null) return true;
  const expected = ARG_JSON_TYPE[arg.type];
  if (expected === undefined) return true;
  const actual = typeName(value);
  return actual === expected
    ? true
    : `JSON value of type ${actual} is not of expected type ${expected}`;
}

const RESULT_JSON_TYPE: Record<ResultType, JsonTypeName | undefined> = {
  elision: undefined,
  any: undefined,
  none: "null",
  str: "string",
  hex: "string",
  num: "number",
  amount: "number",
  time: "number",
  bool: "bool",
  arr: "array",
  arr_fixed: "array",
  obj: "object",
  obj_dyn: "object",
};

/** `RPCResult::MatchesType`: true, or a description of what does not match. */
function resultMatchesType(doc: ResultSpec, value: JsonInput): true | Json {
  if (doc.skipTypeCheck) return true;
  const expected = RESULT_JSON_TYPE[doc.type];
  if (expected === undefined) return true;
  const actual = typeName(value);
  if (actual !== expected) return `returned type is ${actual}, but declared as ${expected} in doc`;
  const inner = doc.inner ?? [];
  const errors = new JsonObject();
  if (actual === "array") {
    for (const [i, element] of (value as readonly JsonInput[]).entries()) {
      const match = resultMatchesType(inner[Math.min(inner.length - 1, i)], element);
      if (match !== true) errors.push(String(i), match);
    }
    return errors.size === 0 ? true : errors;
  }
  if (actual !== "object") return true;
  if (inner[0]?.type === "elision") return true;
  const entries = objectEntries(value as JsonObjectLike);
  if (doc.type === "obj_dyn") {
    for (const [key, element] of entries) {
      const match = resultMatchesType(inner[0], element);
      if (match !== true) errors.push(key, match);
    }
    return errors.size === 0 ? true : errors;
  }
  const byKey = new Map<string, JsonInput>();
  for (const [key, element] of entries) byKey.set(key, element);
  const docKeys = new Set(inner.map((i) => i.key ?? ""));
  for (const key of [...byKey.keys()].sort(compare)) {
    if (!docKeys.has(key)) errors.push(key, "key returned that was not in doc");
  }
  for (const entry of inner) {
    const key = entry.key ?? "";
    if (!byKey.has(key)) {
      if (!entry.optional) errors.push(key, "key missing, despite not being optional in doc");
      continue;
    }
    const match = resultMatchesType(entry, byKey.get(key)!);
    if (match !== true) errors.push(key, match);
  }
  return errors.size === 0 ? true : errors;
}

/** The checks of Core's `RPCHelpMan` constructor, as thrown errors naming the method. */
function checkArgs(method: string, args: readonly ArgSpec[]): void {
  const POSITIONAL = 1, NAMED = 2, NAMED_ONLY = 4;
  const seen = new Map<string, number>();
  const fail = (what: string): never => {
    throw new Error(`RPC method ${method}: ${what}`);
  };
  for (const arg of args) {
    checkFallback(method, arg);
    for (const name of arg.name.split("|")) {
      const type = seen.get(name) ?? 0;
      if (type & (POSITIONAL | NAMED_ONLY)) fail(`argument name ${name} is used twice`);
      seen.set(name, type | POSITIONAL);
    }
    if (arg.type === "obj_named_params") {
      for (const inner of arg.inner ?? []) {
        for (const name of inner.name.split("|")) {
          const type = seen.get(name) ?? 0;
          if ((type & POSITIONAL && !inner.alsoPositional) || type & (NAMED | NAMED_ONLY)) {
            fail(`argument name ${name} is used twice`);
          }
          seen.set(name, type | (inner.alsoPositional ? NAMED : NAMED_ONLY));
        }
      }
    }
  }
}

const DEFAULT_FITS: Record<JsonTypeName, readonly ArgType[] | undefined> = {
  object: ["obj"],
  array: ["arr"],
  string: ["str", "hex", "amount"],
  number: ["num", "amount", "range"],
  bool: ["bool"],
  null: undefined,
};

function checkFallback(method: string, arg: ArgSpec): void {
  const kinds = [arg.optional === true, "default" in arg, arg.defaultHint !== undefined];
  if (kinds.filter(Boolean).length > 1) {
    throw new Error(
      `RPC method ${method}: argument ${arg.name} has more than one of optional, default and defaultHint`,
    );
  }
  if ("default" in arg) {
    const fits = DEFAULT_FITS[typeName(arg.default)];
    if (fits && !fits.includes(arg.type)) {
      throw new Error(
        `RPC method ${method}: the default of ${arg.name} does not fit its type ${arg.type}`,
      );
    }
  }
  for (const inner of arg.inner ?? []) checkFallback(method, inner);
}

/** Core's `RPCResult::CheckInnerDoc`, recursively. */
function checkResultDoc(method: string, doc: ResultSpec): void {
  const inner = doc.inner ?? [];
  if (doc.type !== "obj") {
    const needed = doc.type === "arr" || doc.type === "arr_fixed" || doc.type === "obj_dyn";
    if (needed !== inner.length > 0) {
      throw new Error(
        `RPC method ${method}: a result of type ${doc.type} ${
          needed ? "needs" : "cannot have"
        } inner results`,
      );
    }
  }
  for (const i of inner) checkResultDoc(method, i);
}
