/**
 * HTTP/1.x messages as libevent 2.1.12's `evhttp` (bitcoind's HTTP server)
 * reads and writes them: the request line and header rules, the body-length
 * and chunk-size rules, and the exact response head — which headers are
 * added (`Date`, `Content-Length`, the default `Content-Type`), in which
 * order, when `Connection: close` is echoed, and when the connection closes.
 *
 * Everything here is pure; `http.ts` does the I/O.
 *
 * @example
 * ```ts
 * import { parseRequestLine, responseHead } from "./http_message.ts";
 * const line = parseRequestLine("POST / HTTP/1.1")!;
 * const head = responseHead(
 *   { ...line, headers: [["Connection", "close"]] },
 *   200,
 *   [["Content-Type", "application/json"]],
 *   36,
 *   "Tue, 01 Dec 2026 22:17:02 GMT",
 * );
 * const expected = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
 *   "Date: Tue, 01 Dec 2026 22:17:02 GMT\r\nContent-Length: 36\r\nConnection: close\r\n\r\n";
 * if (head.text !== expected || !head.close) throw new Error(head.text);
 * ```
 *
 * @module
 */

/** A header list in arrival (or sending) order; names compare case-insensitively. */
export type Headers = [name: string, value: string][];

/** The methods libevent recognises; anything else is answered 501. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "POST",
  "HEAD",
  "PUT",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "CONNECT",
  "PATCH",
]);

/** The methods `evhttp` serves by default; the other known ones get 501. */
export const ALLOWED_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "POST",
  "HEAD",
  "PUT",
  "DELETE",
]);

/** What the request line says. */
export interface RequestLine {
  /** The method if libevent knows it, else undefined (answered 501). */
  readonly method: string | undefined;
  /** The request target as sent. */
  readonly uri: string;
  /** HTTP major version (`HTTP/1.1` → 1). */
  readonly major: number;
  /** HTTP minor version. */
  readonly minor: number;
  /** An absolute `http(s)://host/` target: libevent treats it as a proxy request. */
  readonly proxy: boolean;
}

/** What response building needs to know about the request. */
export interface RequestInfo {
  /** The method (undefined when unknown or not yet parsed). */
  readonly method: string | undefined;
  /** Request version, 0.0 when the request line could not be parsed. */
  readonly major: number;
  /** Request minor version. */
  readonly minor: number;
  /** The request headers read so far. */
  readonly headers: Headers;
  /** Whether it is a proxy request. */
  readonly proxy: boolean;
}

/** The first header called `name` (case-insensitive), as `evhttp_find_header`. */
export function findHeader(headers: Headers, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of headers) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function removeHeader(headers: Headers, name: string): void {
  const lower = name.toLowerCase();
  const i = headers.findIndex(([key]) => key.toLowerCase() === lower);
  if (i >= 0) headers.splice(i, 1);
}

/** C string semantics: a line ends at its first NUL byte. */
function cString(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

/** Parses a request line as `evhttp_parse_request_line`; undefined → 400. */
export function parseRequestLine(rawLine: string): RequestLine | undefined {
  const line = cString(rawLine).replace(/ +$/, "");
  if (line.length < "GET / HTTP/1.0".length) return undefined;
  const space = line.indexOf(" ");
  if (space < 0) return undefined;
  const methodText = line.slice(0, space);
  const rest = line.slice(space + 1);
  const last = rest.lastIndexOf(" ");
  if (last <= 0) return undefined;
  const uri = rest.slice(0, last);
  const version = scanVersion(rest.slice(last + 1));
  if (!version) return undefined;
  const method = KNOWN_METHODS.has(methodText) ? methodText : undefined;
  const target = method === "CONNECT" ? checkAuthority(uri) : checkUri(uri);
  if (!target) return undefined;
  return { method, uri, major: version.major, minor: version.minor, proxy: target.proxy };
}

/** `sscanf(version, "HTTP/%d.%d%c")` must match exactly two numbers, major at most 1. */
function scanVersion(text: string): { major: number; minor: number } | undefined {
  if (!text.startsWith("HTTP/")) return undefined;
  const major = scanInt(text, 5);
  if (!major || text[major.end] !== ".") return undefined;
  const minor = scanInt(text, major.end + 1);
  if (!minor || minor.end !== text.length || major.value > 1) return undefined;
  return { major: major.value, minor: minor.value };
}

/** `%d`: optional whitespace, an optional sign, then digits. */
function scanInt(text: string, from: number): { value: number; end: number } | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(text.slice(from));
  if (!m) return undefined;
  return {
    value: Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Number(m[1]))),
    end: from + m[0].length,
  };
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const SUBDELIMS = "!$&'()*+,;=";

function regNameOk(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (UNRESERVED.test(c) || SUBDELIMS.includes(c)) continue;
    if (c === "%" && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

/** libevent's `parse_authority` (userinfo, host or IP literal, optional port). */
function authorityOk(authority: string): boolean {
  if (authority === "") return true;
  let rest = authority;
  const at = rest.indexOf("@");
  if (at >= 0) {
    if (!regNameOk(rest.slice(0, at).replaceAll(":", ""))) return false;
    rest = rest.slice(at + 1);
  }
  const port = /:([0-9]*)$/.exec(rest);
  if (port) {
    if (port[1] !== "" && Number(port[1]) > 65535) return false;
    rest = rest.slice(0, port.index);
  }
  if (rest.startsWith("[") && rest.length >= 2 && rest.endsWith("]")) {
    return /^\[(v[0-9a-fA-F]+\..+|[0-9a-fA-F:.]+)\]$/.test(rest);
  }
  return regNameOk(rest);
}

/** `evhttp_uri_parse_authority` for CONNECT targets. */
function checkAuthority(uri: string): { proxy: boolean } | undefined {
  const end = uri.search(/[/?#]/);
  return authorityOk(end < 0 ? uri : uri.slice(0, end)) ? { proxy: false } : undefined;
}

/** `evhttp_uri_parse_with_flags(uri, EVHTTP_URI_NONCONFORMANT)`, and whether it is a proxy request. */
function checkUri(uri: string): { proxy: boolean } | undefined {
  let rest = uri;
  let scheme: string | undefined;
  const colon = rest.indexOf(":");
  if (colon > 0 && /^[A-Za-z][A-Za-z0-9+\-.]*$/.test(rest.slice(0, colon))) {
    scheme = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  let authority: string | undefined;
  if (rest.startsWith("//")) {
    const end = rest.slice(2).search(/[/?#]/);
    authority = end < 0 ? rest.slice(2) : rest.slice(2, 2 + end);
    if (!authorityOk(authority)) return undefined;
    rest = rest.slice(2 + authority.length);
  }
  const path = rest.split(/[?#]/)[0];
  if (scheme === undefined) {
    const firstColon = path.indexOf(":");
    const firstSlash = path.indexOf("/");
    if (firstColon >= 0 && (firstSlash < 0 || firstColon < firstSlash)) return undefined;
  }
  const web = scheme !== undefined && /^https?$/i.test(scheme);
  return { proxy: web && authority !== undefined };
}

/**
 * Adds one header line as `evhttp_parse_headers_` does (continuation lines
 * join the previous value); false when the line is malformed (→ 400).
 */
export function addHeaderLine(headers: Headers, rawLine: string): boolean {
  const line = cString(rawLine);
  if (line[0] === " " || line[0] === "\t") {
    const last = headers[headers.length - 1];
    if (!last) return false;
    last[1] = `${last[1]} ${line.replace(/^[ \t]+/, "").replace(/[ \t]+$/, "")}`;
    return true;
  }
  const colon = line.indexOf(":");
  if (colon < 0) return false;
  const key = line.slice(0, colon);
  const value = line.slice(colon + 1).replace(/^ +/, "").replace(/[ \t]+$/, "");
  if (/[\r\n]/.test(key) || /[\r\n]+(?![ \t])/.test(value)) return false;
  headers.push([key, value]);
  return true;
}

/** C's `strtoll`: leading space, a sign, digits in `base` (`0x` allowed for 16); `end` is 0 when none. */
function strtoll(text: string, base: 10 | 16): { value: number; end: number } {
  const pattern = base === 16
    ? /^[ \t\n\v\f\r]*([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)/
    : /^[ \t\n\v\f\r]*([+-]?)([0-9]+)/;
  const m = pattern.exec(text);
  if (!m) return { value: 0, end: 0 };
  const magnitude = BigInt(base === 16 ? `0x${m[2]}` : m[2]);
  const clamped = magnitude > 2n ** 63n - 1n ? 2n ** 63n - 1n : magnitude;
  const value = Number(clamped);
  return { value: m[1] === "-" ? -value : value, end: m[0].length };
}

/** A `Content-Length` value as `evhttp_get_body_length` reads it; undefined → 400. */
export function parseContentLength(text: string): number | undefined {
  const { value, end } = strtoll(text, 10);
  if (text === "" || end !== text.length || value < 0) return undefined;
  return value;
}

/** A chunk-size line as `evhttp_handle_chunked_read` reads it; undefined → corrupted (413). */
export function parseChunkSize(rawLine: string): number | undefined {
  const line = cString(rawLine);
  const { value, end } = strtoll(line, 16);
  if (line === "" || (end < line.length && line[end] !== " ") || value < 0) return undefined;
  return value;
}

/** How many body bytes a request announces, per `evhttp_get_body_length`; -1 means none read. */
export function announcedLength(headers: Headers): number | undefined {
  const length = findHeader(headers, "Content-Length");
  const connection = findHeader(headers, "Connection");
  if (length === undefined) {
    return connection !== undefined && connection.toLowerCase() !== "close" ? 0 : -1;
  }
  return parseContentLength(length);
}

/** Whether a method's request may carry a body (`evhttp_method_may_have_body`). */
export function mayHaveBody(method: string | undefined): boolean {
  return method !== undefined && method !== "HEAD" && method !== "TRACE";
}

const PHRASES: Record<number, string> = {
  100: "Continue",
  200: "OK",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Request Entity Too Large",
  417: "Expectation Failed",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

/** libevent's reason phrase for a status code. */
export function reasonPhrase(status: number): string {
  return PHRASES[status] ?? "Unknown Status Class";
}

/** libevent's default content type for replies that set none. */
export const DEFAULT_CONTENT_TYPE = "text/html; charset=ISO-8859-1";

function asksClose(info: RequestInfo, headers: Headers): boolean {
  if (info.proxy) {
    const value = findHeader(headers, "Proxy-Connection");
    return value === undefined || value.toLowerCase() !== "keep-alive";
  }
  return findHeader(headers, "Connection")?.toLowerCase() === "close";
}

function asksKeepAlive(headers: Headers): boolean {
  return findHeader(headers, "Connection")?.toLowerCase().startsWith("keep-alive") ?? false;
}

/** A response head and whether the connection closes after it. */
export interface ResponseHead {
  /** The status line and headers, ending with the blank line. */
  readonly text: string;
  /** Whether libevent closes the connection once the response is sent. */
  readonly close: boolean;
}

/**
 * The response head `evhttp_send_reply` writes (`evhttp_make_header_response`
 * then `evhttp_send_done`'s keep-alive decision), for a reply whose handler
 * set `headers` and a body of `bodyLength` bytes. The body itself is sent
 * after it in full, even for HEAD, as libevent does.
 */
export function responseHead(
  info: RequestInfo,
  status: number,
  headers: Headers,
  bodyLength: number,
  date: string,
): ResponseHead {
  const out: Headers = headers.map(([k, v]) => [k, v]);
  const keepAlive = asksKeepAlive(info.headers);
  const needsBody = status !== 204 && status !== 304 && (status < 100 || status >= 200) &&
    info.method !== "HEAD" && info.method !== "CONNECT";
  if (info.major === 1) {
    if (info.minor >= 1 && findHeader(out, "Date") === undefined) out.push(["Date", date]);
    if (info.minor === 0 && keepAlive) out.push(["Connection", "keep-alive"]);
    if (
      (info.minor >= 1 || keepAlive) && needsBody &&
      findHeader(out, "Transfer-Encoding") === undefined &&
      findHeader(out, "Content-Length") === undefined
    ) {
      out.push(["Content-Length", String(bodyLength)]);
    }
  }
  if (needsBody && findHeader(out, "Content-Type") === undefined) {
    out.push(["Content-Type", DEFAULT_CONTENT_TYPE]);
  }
  if (asksClose(info, info.headers)) {
    removeHeader(out, "Connection");
    if (!info.proxy) out.push(["Connection", "close"]);
    removeHeader(out, "Proxy-Connection");
  }
  const before11 = info.major < 1 || (info.major === 1 && info.minor < 1);
  const close = (before11 && !keepAlive) || asksClose(info, info.headers) || asksClose(info, out);
  let text = `HTTP/${info.major}.${info.minor} ${status} ${reasonPhrase(status)}\r\n`;
  for (const [key, value] of out) text += `${key}: ${value}\r\n`;
  return { text: text + "\r\n", close };
}

/** The HTML page of `evhttp_send_error`. */
export function errorPageBody(status: number): string {
  const reason = reasonPhrase(status);
  return `<HTML><HEAD>\n<TITLE>${status} ${reason}</TITLE>\n</HEAD><BODY>\n<H1>${reason}</H1>\n</BODY></HTML>\n`;
}

/**
 * The head of an `evhttp_send_error` page: version forced to 1.1 unless
 * both numbers are non-zero, `Content-Type: text/html` and
 * `Connection: close` first; the connection always closes.
 */
export function errorHead(info: RequestInfo, status: number, date: string): ResponseHead {
  const version = info.major && info.minor ? info : { ...info, major: 1, minor: 1 };
  return responseHead(
    version,
    status,
    [["Content-Type", "text/html"], ["Connection", "close"]],
    errorPageBody(status).length,
    date,
  );
}

/** Latin-1 text of bytes (each byte one char), as header bytes are kept. */
export function bytesToLatin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/** Bytes of Latin-1 text (chars above U+00FF are not expected here). */
export function latin1ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * Core's `UrlDecode`: `%XX` (two hex digits) to a byte, anything else kept;
 * the bytes are read as UTF-8.
 */
export function urlDecode(encoded: string): string {
  const bytes: number[] = [];
  const raw = latin1ToBytes(encoded);
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x25 && i + 2 < raw.length) {
      const hex = String.fromCharCode(raw[i + 1], raw[i + 2]);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
    }
    bytes.push(raw[i]);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
