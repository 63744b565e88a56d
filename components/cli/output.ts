/**
 * What bitcoin-cli prints for a reply (Core v30.0's `ParseResult` and
 * `ParseError`): a string result as it is, any other result as JSON
 * indented by 2 (numbers keep their text), nothing for null; an error
 * object as `error code: N` / `error message:` / the message, and the exit
 * status |N| (the shell sees it mod 256).
 *
 * @example
 * ```ts
 * import { errorReport, resultText } from "./output.ts";
 * import { parseJson } from "../rpc/json.ts";
 * if (resultText(parseJson('"abc"')) !== "abc") throw new Error("strings are unquoted");
 * if (resultText(parseJson("1.50")) !== "1.50") throw new Error("number text is kept");
 * if (resultText(parseJson('{"a":[]}')) !== '{\n  "a": [\n  ]\n}') throw new Error("indent 2");
 * const report = errorReport(parseJson('{"code":-32601,"message":"Method not found"}'));
 * if (report.text !== "error code: -32601\nerror message:\nMethod not found") throw new Error();
 * if (report.code !== 32601) throw new Error("|code|");
 * ```
 * @module
 */
import { asInt, type Json, JsonNumber, JsonObject, writeJson } from "../rpc/json.ts";
import { member } from "./call.ts";

/** UniValue's `getValStr`: a string's text, a number's text, "1" for true, "" otherwise. */
export function valueText(value: Json | undefined): string {
  if (typeof value === "string") return value;
  if (value instanceof JsonNumber) return value.text;
  return value === true ? "1" : "";
}

/** Core's `ParseResult`: the text printed for a result ("" prints nothing). */
export function resultText(result: Json): string {
  if (result === null) return "";
  return typeof result === "string" ? result : writeJson(result, 2);
}

/** The RPC error code of a wallet-less call when several wallets are loaded. */
const RPC_WALLET_NOT_SPECIFIED = -19;

/** Core's `ParseError`: the text printed on stderr and the exit status. */
export function errorReport(error: Json): { text: string; code: number } {
  let text: string;
  if (error instanceof JsonObject) {
    const code = member(error, "code");
    const message = member(error, "message");
    text = code === null ? "" : `error code: ${valueText(code)}\n`;
    if (typeof message === "string") text += `error message:\n${message}`;
    if (code instanceof JsonNumber && asInt(code) === RPC_WALLET_NOT_SPECIFIED) {
      text += ' Or for the CLI, specify the "-rpcwallet=<walletname>" option before the command' +
        ' (run "bitcoin-cli -h" for help or "bitcoin-cli listwallets" to see which wallets are ' +
        "currently loaded).";
    }
  } else {
    text = `error: ${writeJson(error)}`;
  }
  return { text, code: Math.abs(asInt(member(error, "code"))) };
}
