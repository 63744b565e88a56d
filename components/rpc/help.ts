/**
 * Help text exactly as Bitcoin Core's `RPCHelpMan::ToString` renders it from
 * a method's argument and result specs, and the example helpers Core's
 * methods build their `Examples:` from (`HelpExampleCli`, `HelpExampleRpc`,
 * and their `-named` forms).
 *
 * @example
 * ```ts
 * import { helpExampleCli, helpExampleRpc, renderHelp } from "./help.ts";
 * const text = renderHelp({
 *   name: "getblockcount",
 *   description: "Returns the height of the most-work fully-validated chain.\n" +
 *     "The genesis block has height 0.\n",
 *   args: [],
 *   results: [{ type: "num", description: "The current block count" }],
 *   examples: helpExampleCli("getblockcount", "") + helpExampleRpc("getblockcount", ""),
 * });
 * if (!text.startsWith("getblockcount\n\nReturns the height")) throw new Error(text);
 * if (!text.includes("\nResult:\nn    (numeric) The current block count\n")) throw new Error(text);
 * ```
 *
 * @module
 */
import { type JsonInput, writeJson } from "./json.ts";
import { type ArgSpec, firstName, isOptional, type ResultSpec } from "./spec.ts";

/** What {@linkcode renderHelp} needs of a method. */
export interface HelpSource {
  /** The method name. */
  readonly name: string;
  /** The description (trimmed when rendered). */
  readonly description: string;
  /** The arguments, in order. */
  readonly args: readonly ArgSpec[];
  /** The documented results (alternatives). */
  readonly results: readonly ResultSpec[];
  /** The examples text, usually built with the helpers below. */
  readonly examples: string;
}

/** The whole help text of a method (`help <method>`, and the message of a wrong-argument-count error). */
export function renderHelp(method: HelpSource): string {
  let ret = method.name + summaryArgs(method.args);
  ret += "\n\n" + trimString(method.description) + "\n";

  const sections = new Sections();
  const namedOnly = new Sections();
  for (const [i, arg] of method.args.entries()) {
    if (arg.hidden) break;
    sections.push(`${i + 1}. ${firstName(arg)}`, argDescription(arg, true));
    sections.pushArg(arg);
    if (arg.type === "obj_named_params") {
      for (const inner of arg.inner ?? []) {
        namedOnly.push(firstName(inner), argDescription(inner, true));
        namedOnly.pushArg(inner);
      }
    }
  }
  if (!sections.empty) ret += "\nArguments:\n";
  ret += sections.toString();
  if (!namedOnly.empty) ret += "\nNamed Arguments:\n";
  ret += namedOnly.toString();

  for (const result of method.results) {
    if (result.type === "any") continue;
    ret += result.cond === undefined ? "\nResult:\n" : `\nResult (${result.cond}):\n`;
    const s = new Sections();
    pushResult(s, result, "none", 0);
    ret += s.toString();
  }
  if (method.examples !== "") ret += "\nExamples:\n" + method.examples;
  return ret;
}

/** The argument part of the one-line summary (`" \"blockhash\" ( verbosity )"`). */
function summaryArgs(args: readonly ArgSpec[]): string {
  let ret = "";
  let wasOptional = false;
  for (const arg of args) {
    if (arg.hidden) break;
    const optional = isOptional(arg);
    ret += " ";
    if (optional) {
      if (!wasOptional) ret += "( ";
      wasOptional = true;
    } else {
      if (wasOptional) ret += ") ";
      wasOptional = false;
    }
    ret += argString(arg, true);
  }
  if (wasOptional) ret += " )";
  return ret;
}

/** `RPCArg::ToString`. */
function argString(arg: ArgSpec, oneline: boolean): string {
  if (oneline && arg.onelineDescription) return arg.onelineDescription;
  switch (arg.type) {
    case "str":
    case "hex":
      return `"${firstName(arg)}"`;
    case "num":
    case "range":
    case "amount":
    case "bool":
      return firstName(arg);
    case "obj":
    case "obj_named_params":
    case "obj_user_keys": {
      const res = (arg.inner ?? []).map((i) => argStringInObject(i, oneline)).join(",");
      return arg.type === "obj" ? `{${res}}` : `{${res},...}`;
    }
    case "arr":
      return `[${(arg.inner ?? []).map((i) => argString(i, oneline) + ",").join("")}...]`;
  }
}

/** `RPCArg::ToStringObj`. */
function argStringInObject(arg: ArgSpec, oneline: boolean): string {
  const res = `"${firstName(arg)}"${oneline ? ":" : ": "}`;
  switch (arg.type) {
    case "str":
      return res + '"str"';
    case "hex":
      return res + '"hex"';
    case "num":
      return res + "n";
    case "range":
      return res + "n or [n,n]";
    case "amount":
      return res + "amount";
    case "bool":
      return res + "bool";
    case "arr":
      return `${res}[${(arg.inner ?? []).map((i) => argString(i, oneline) + ",").join("")}...]`;
    default:
      throw new Error(`an object argument (${arg.name}) cannot sit directly inside an object`);
  }
}

/** `RPCArg::ToTypeString`. */
function argTypeString(arg: ArgSpec): string {
  switch (arg.type) {
    case "str":
    case "hex":
      return "string";
    case "num":
      return "numeric";
    case "amount":
      return "numeric or string";
    case "range":
      return "numeric or array";
    case "bool":
      return "boolean";
    case "obj":
    case "obj_named_params":
    case "obj_user_keys":
      return "json object";
    case "arr":
      return "json array";
  }
}

/** `RPCArg::ToDescriptionString`. */
function argDescription(arg: ArgSpec, isNamedArg: boolean): string {
  let ret = "(" + (arg.typeStr ? arg.typeStr[1] : argTypeString(arg));
  if (arg.defaultHint !== undefined) {
    ret += ", optional, default=" + arg.defaultHint;
  } else if ("default" in arg) {
    ret += ", optional, default=" + writeJson(arg.default as JsonInput);
  } else if (arg.optional) {
    if (isNamedArg) ret += ", optional";
  } else {
    ret += ", required";
  }
  ret += ")";
  if (arg.type === "obj_named_params") {
    ret += " Options object that can be used to pass named arguments, listed below.";
  }
  return ret + (arg.description ? " " + arg.description : "");
}

type Outer = "none" | "obj" | "arr";

/** Core's `Sections`: left/right pairs aligned when rendered. */
class Sections {
  #sections: { left: string; right: string }[] = [];
  #maxPad = 0;

  get empty(): boolean {
    return this.#sections.length === 0;
  }

  push(left: string, right: string): void {
    this.#maxPad = Math.max(this.#maxPad, left.length);
    this.#sections.push({ left, right });
  }

  /** Removes the last character of the last left part (the trailing comma). */
  dropFinalComma(): void {
    const last = this.#sections[this.#sections.length - 1];
    last.left = last.left.slice(0, -1);
  }

  /** `Sections::Push`: the nested lines of an argument. */
  pushArg(arg: ArgSpec, indentWidth = 5, outer: Outer = "none"): void {
    const indent = " ".repeat(indentWidth);
    const indentNext = " ".repeat(indentWidth + 2);
    const pushName = outer === "obj";
    const topLevel = outer === "none";
    switch (arg.type) {
      case "str":
      case "hex":
      case "num":
      case "amount":
      case "range":
      case "bool":
      case "obj_named_params": {
        if (topLevel) return;
        let left = indent;
        if (arg.typeStr && pushName) left += `"${arg.name}": ${arg.typeStr[0]}`;
        else left += pushName ? argStringInObject(arg, false) : argString(arg, false);
        this.push(left + ",", argDescription(arg, pushName));
        return;
      }
      case "obj":
      case "obj_user_keys": {
        const right = topLevel ? "" : argDescription(arg, pushName);
        this.push(indent + (pushName ? `"${arg.name}": ` : "") + "{", right);
        for (const inner of arg.inner ?? []) this.pushArg(inner, indentWidth + 2, "obj");
        if (arg.type !== "obj") this.push(indentNext + "...", "");
        this.push(indent + "}" + (topLevel ? "" : ","), "");
        return;
      }
      case "arr": {
        const right = topLevel ? "" : argDescription(arg, pushName);
        this.push(indent + (pushName ? `"${arg.name}": ` : "") + "[", right);
        for (const inner of arg.inner ?? []) this.pushArg(inner, indentWidth + 2, "arr");
        this.push(indentNext + "...", "");
        this.push(indent + "]" + (topLevel ? "" : ","), "");
        return;
      }
    }
  }

  /** `Sections::ToString`: left parts padded to the widest plus 4, continuation lines indented. */
  toString(): string {
    let ret = "";
    const pad = this.#maxPad + 4;
    for (const { left, right } of this.#sections) {
      if (right === "") {
        ret += left + "\n";
        continue;
      }
      ret += left.padEnd(pad, " ");
      let out = "";
      let begin = 0;
      let newline = right.indexOf("\n");
      for (;;) {
        out += newline < 0 ? right.slice(begin) : right.slice(begin, newline);
        if (newline < 0) break;
        out += "\n" + " ".repeat(pad);
        begin = firstNotSpace(right, newline + 1);
        if (begin < 0) break;
        newline = right.indexOf("\n", begin + 1);
      }
      ret += out + "\n";
    }
    return ret;
  }
}

function firstNotSpace(s: string, from: number): number {
  for (let i = from; i < s.length; i++) if (s[i] !== " ") return i;
  return -1;
}

/** `RPCResult::ToSections`. */
function pushResult(
  sections: Sections,
  result: ResultSpec,
  outer: Outer,
  indentWidth: number,
): void {
  const indent = " ".repeat(indentWidth);
  const indentNext = " ".repeat(indentWidth + 2);
  const separator = outer !== "none" ? "," : "";
  const key = outer === "obj" ? `"${result.key ?? ""}" : ` : "";
  const describe = (type: string) =>
    `(${type}${result.optional ? ", optional" : ""})` +
    (result.description ? " " + result.description : "");
  const leaf = (shown: string, type: string) =>
    sections.push(indent + key + shown + separator, describe(type));

  switch (result.type) {
    case "elision":
      sections.push(indent + "..." + separator, result.description ?? "");
      return;
    case "any":
      throw new Error("a result of type any cannot be shown inside another result");
    case "none":
      sections.push(indent + "null" + separator, describe("json null"));
      return;
    case "str":
      return leaf('"str"', "string");
    case "amount":
      return leaf("n", "numeric");
    case "hex":
      return leaf('"hex"', "string");
    case "num":
      return leaf("n", "numeric");
    case "time":
      return leaf("xxx", "numeric");
    case "bool":
      return leaf("true|false", "boolean");
    case "arr":
    case "arr_fixed": {
      const inner = result.inner ?? [];
      sections.push(indent + key + "[", describe("json array"));
      for (const i of inner) pushResult(sections, i, "arr", indentWidth + 2);
      if (result.type === "arr" && inner[inner.length - 1]?.type !== "elision") {
        sections.push(indentNext + "...", "");
      } else {
        sections.dropFinalComma();
      }
      sections.push(indent + "]" + separator, "");
      return;
    }
    case "obj":
    case "obj_dyn": {
      const inner = result.inner ?? [];
      if (inner.length === 0) {
        sections.push(indent + key + "{}", describe("empty JSON object"));
        return;
      }
      sections.push(indent + key + "{", describe("json object"));
      for (const i of inner) pushResult(sections, i, "obj", indentWidth + 2);
      if (result.type === "obj_dyn" && inner[inner.length - 1].type !== "elision") {
        sections.push(indentNext + "...", "");
      } else {
        sections.dropFinalComma();
      }
      sections.push(indent + "}" + separator, "");
      return;
    }
  }
}

/** Core's `TrimString` with its default whitespace set. */
export function trimString(s: string): string {
  return s.replace(/^[ \f\n\r\t\v]+/, "").replace(/[ \f\n\r\t\v]+$/, "");
}

/** Core's `EXAMPLE_ADDRESS[0]`, which its help examples show on every chain. */
export const EXAMPLE_ADDRESS = "bc1q09vm5lfy0j5reeulh4x5752q25uqqvz34hufdl";

/** `HelpExampleCli`: `> bitcoin-cli <method> <args>\n`. */
export function helpExampleCli(method: string, args: string): string {
  return `> bitcoin-cli ${method} ${args}\n`;
}

/** `HelpExampleCliNamed`: `> bitcoin-cli -named <method> k=v ...\n`, values shell-quoted when needed. */
export function helpExampleCliNamed(
  method: string,
  args: readonly (readonly [string, JsonInput])[],
): string {
  let result = `> bitcoin-cli -named ${method}`;
  for (const [key, value] of args) {
    const text = typeof value === "string" ? value : writeJson(value);
    result += ` ${key}=${shellQuoteIfNeeded(text)}`;
  }
  return result + "\n";
}

/** `HelpExampleRpc`: the curl line with `"params": [<args>]`. */
export function helpExampleRpc(method: string, args: string): string {
  return curlExample(method, `[${args}]`);
}

/** The legacy address of Core's message examples (a mainnet P2PKH address). */
export const MESSAGE_EXAMPLE_ADDRESS = "1D1ZrZNe3JUo7ZycKEYQQiQAWd9y54F4XX";

/**
 * The examples `signmessage` and `verifymessage` share in Core's help:
 * unlock, sign, verify, then `method` as a JSON-RPC call.
 */
export function messageExamples(method: "signmessage" | "verifymessage"): string {
  const address = `"${MESSAGE_EXAMPLE_ADDRESS}"`;
  return "\nUnlock the wallet for 30 seconds\n" +
    helpExampleCli("walletpassphrase", '"mypassphrase" 30') +
    "\nCreate the signature\n" +
    helpExampleCli("signmessage", `${address} "my message"`) +
    "\nVerify the signature\n" +
    helpExampleCli("verifymessage", `${address} "signature" "my message"`) +
    "\nAs a JSON-RPC call\n" +
    helpExampleRpc(
      method,
      method === "signmessage"
        ? `${address}, "my message"`
        : `${address}, "signature", "my message"`,
    );
}

/** `HelpExampleRpcNamed`: the curl line with the arguments as a params object. */
export function helpExampleRpcNamed(
  method: string,
  args: readonly (readonly [string, JsonInput])[],
): string {
  return curlExample(method, writeJson(new Map(args)));
}

function curlExample(method: string, params: string): string {
  return `> curl --user myusername --data-binary '{"jsonrpc": "2.0", "id": "curltest", ` +
    `"method": "${method}", "params": ${params}}' -H 'content-type: application/json' ` +
    "http://127.0.0.1:8332/\n";
}

function shellQuoteIfNeeded(s: string): string {
  return /[ '"]/.test(s) ? `'${s.replaceAll("'", "'\\''")}'` : s;
}
