/**
 * How Bitcoin Core's REST interface reads a request target (`rest.cpp`,
 * `httpserver.cpp`, libevent's URI parser): the output format from the
 * extension (`ParseDataFormat`), query parameters (`GetQueryParameter`,
 * which first parses the whole target strictly as RFC 3986 and fails with
 * Core's message), path splitting (`SplitString`), and the number and hash
 * parsers (`ToIntegral`, `uint256::FromHex`) with their exact acceptance.
 *
 * @example
 * ```ts
 * import { parseDataFormat, queryParameter } from "./uri.ts";
 * const { param, format } = parseDataFormat("0f9188f1.json?count=3");
 * if (param !== "0f9188f1" || format !== "json") throw new Error(`${param} ${format}`);
 * if (queryParameter("/rest/headers/ab.json?count=3", "count") !== "3") throw new Error("count");
 * if (queryParameter("/rest/headers/ab.json?count=3%", "count") instanceof Error === false) {
 *   throw new Error("a stray % is not RFC 3986");
 * }
 * ```
 * @module
 */
import { type Hash, hashFromHex } from "../chain/mod.ts";

/** The output formats (Core's `RESTResponseFormat`; "" is `UNDEF`). */
export type RestFormat = "" | "bin" | "hex" | "json";

const FORMATS: readonly RestFormat[] = ["", "bin", "hex", "json"];

/** Core's `AvailableDataFormatsString()`. */
export const AVAILABLE_FORMATS = ".bin, .hex, .json";

/**
 * Core's `ParseDataFormat`: the target part without its query string (from
 * the last `?`), and the format its extension (after the last `.`) names;
 * an extension that names none stays in `param` and the format is "".
 */
export function parseDataFormat(part: string): { param: string; format: RestFormat } {
  const query = part.lastIndexOf("?");
  const param = query < 0 ? part : part.slice(0, query);
  const dot = param.lastIndexOf(".");
  if (dot < 0) return { param, format: "" };
  const suffix = param.slice(dot + 1) as RestFormat;
  if (FORMATS.includes(suffix)) return { param: param.slice(0, dot), format: suffix };
  return { param, format: "" };
}

/** Core's `SplitString(s, '/')`: every piece, empty ones included. */
export function splitPath(text: string): string[] {
  return text.split("/");
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const SUBDELIMS = "!$&'()*+,;=";
const HEX_DIGIT = /^[0-9A-Fa-f]$/;

/**
 * libevent's `end_of_path` without `EVHTTP_URI_NONCONFORMANT`: where the
 * characters an RFC 3986 path (`?` too in a query or fragment) may hold end.
 */
function endOfPart(text: string, from: number, allowQuestion: boolean): number {
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (UNRESERVED.test(c) || SUBDELIMS.includes(c) || c === ":" || c === "@" || c === "/") {
      i++;
    } else if (
      c === "%" && HEX_DIGIT.test(text[i + 1] ?? "") && HEX_DIGIT.test(text[i + 2] ?? "")
    ) {
      i += 3;
    } else if (c === "?" && allowQuestion) {
      i++;
    } else {
      return i;
    }
  }
  return i;
}

/**
 * The query of a request target (an absolute path, as every REST target
 * is) as `evhttp_uri_parse` finds it: undefined when there is none, an
 * Error when the target is not valid RFC 3986.
 */
function uriQuery(uri: string): string | undefined | Error {
  const fail = new Error("URI parsing failed, it likely contained RFC 3986 invalid characters");
  let at = endOfPart(uri, 0, false);
  let query: string | undefined;
  if (uri[at] === "?") {
    const end = endOfPart(uri, at + 1, true);
    query = uri.slice(at + 1, end);
    at = end;
  }
  if (uri[at] === "#") at = endOfPart(uri, at + 1, true);
  return at === uri.length ? query : fail;
}

/** `evhttp_decode_uri_internal` with `+` as a space: `%XX` (two hex digits) to its byte. */
function decodeQueryValue(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "+") {
      out += " ";
    } else if (
      c === "%" && i + 2 < value.length && HEX_DIGIT.test(value[i + 1]) &&
      HEX_DIGIT.test(value[i + 2])
    ) {
      out += String.fromCharCode(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out += c;
    }
  }
  // Kept as a C string: a decoded NUL ends it.
  const nul = out.indexOf("\0");
  return nul < 0 ? out : out.slice(0, nul);
}

/**
 * Core's `GetQueryParameterFromUri`: the decoded value of the first `key=`
 * in the target's query, undefined when absent (or when the query is
 * malformed — `evhttp_parse_query_str` then keeps none), and an Error
 * with Core's message when the target is not valid RFC 3986.
 */
export function queryParameter(uri: string, key: string): string | undefined | Error {
  const query = uriQuery(uri);
  if (query === undefined || query instanceof Error) return query;
  if (query === "") return undefined;
  const params: [string, string][] = [];
  // `strsep` on "&" stops at an empty remainder, so a trailing "&" adds nothing.
  const args = query.split("&");
  if (args.at(-1) === "") args.pop();
  for (const argument of args) {
    const eq = argument.indexOf("=");
    if (eq <= 0) return undefined;
    params.push([argument.slice(0, eq), decodeQueryValue(argument.slice(eq + 1))]);
  }
  return params.find(([name]) => name === key)?.[1];
}

/** Core's `ToIntegral<T>` for an unsigned type up to `max`: decimal digits only, in range. */
export function parseUnsigned(text: string, max: bigint): bigint | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value <= max ? value : undefined;
}

/** Core's `ToIntegral<int32_t>`: an optional `-`, decimal digits, in range. */
export function parseInt32(text: string): number | undefined {
  if (!/^-?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value >= -(2n ** 31n) && value < 2n ** 31n ? Number(value) : undefined;
}

/** Core's `uint256::FromHex`: exactly 64 hex digits, either case. */
export function parseHash(text: string): Hash | undefined {
  return /^[0-9a-fA-F]{64}$/.test(text) ? hashFromHex(text) : undefined;
}

const SAFE_CHARS_URI =
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*'();:@&=+$,/?#[]-_.~%";

/** Core's `SanitizeString(text, SAFE_CHARS_URI)`: only the characters a URI may hold are kept. */
export function sanitizeUri(text: string): string {
  return [...text].filter((c) => SAFE_CHARS_URI.includes(c)).join("");
}
