/**
 * A seeded mutation fuzzer for the JSON-RPC HTTP server: valid requests
 * (single and batch, JSON-RPC 1.0 and 2.0, cookie or user/password auth,
 * keep-alive sequences, every param shape, bitcoin-cli's exact bytes),
 * mutated at the HTTP level (request line, headers, Content-Length,
 * chunked framing, pipelining, split writes, slow drip, early close) and at
 * the JSON level (bad UTF-8, nesting, huge numbers, duplicate keys, wrong
 * envelope types, odd batches), sent over real TCP to the server running as
 * its own process (`http_fuzz_server.ts`).
 *
 * Every case is a function of its seed. Each must leave the process alive
 * and silent on stderr, every response well formed (at most one per
 * request, nothing after a response that closes), statuses and JSON-RPC
 * error codes consistent with each other as bitcoind's are (reference §2,
 * §11), the exact outcome where the case knows it (unmutated requests,
 * JSON mutations the reference records), and a client connected before
 * still served.
 *
 * @module
 */
import {
  concatBytes,
  DEFAULT_TIMEOUT_MS,
  type Peer,
  spawnPeer,
  withTimeout,
} from "../../helpers.ts";
import { Rng } from "../../rpc_fuzz.ts";
import { basic, cliRequest, RawConnection, type RawResponse } from "./raw_http.ts";
import { GENESIS } from "./stub_methods.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The fuzz server process: port, credentials, and what it printed. */
export interface FuzzServer extends AsyncDisposable {
  readonly peer: Peer;
  readonly port: number;
  /** `Basic …` for the server's credentials (cookie, or `fuzz:pw`). */
  readonly auth: string;
  readonly userpass: boolean;
}

/** Starts `http_fuzz_server.ts` (cookie auth, or `-rpcuser`/`-rpcpassword` with `userpass`). */
export async function startFuzzServer(
  { userpass = false, heapMb }: { userpass?: boolean; heapMb?: number } = {},
): Promise<FuzzServer> {
  const datadir = await Deno.makeTempDir({ prefix: "http_fuzz_" });
  const peer = spawnPeer(Deno.execPath(), [
    "run",
    "--no-prompt",
    `--allow-read=${datadir}`,
    `--allow-write=${datadir}`,
    "--allow-net=127.0.0.1,[::1]",
    ...(heapMb ? [`--v8-flags=--max-old-space-size=${heapMb}`] : []),
    new URL("./http_fuzz_server.ts", import.meta.url).pathname,
    datadir,
    ...(userpass ? ["--userpass"] : []),
  ], { collectStderr: true });
  const line = await peer.line(/^fuzz server: /, DEFAULT_TIMEOUT_MS);
  const [, , port, cookiePath] = line.split(" ");
  const auth = basic(userpass ? "fuzz:pw" : await Deno.readTextFile(cookiePath));
  return {
    peer,
    port: Number(port),
    auth,
    userpass,
    async [Symbol.asyncDispose]() {
      try {
        peer.child.kill("SIGTERM");
      } catch { /* already gone */ }
      await peer[Symbol.asyncDispose]();
      await Deno.remove(datadir, { recursive: true });
    },
  };
}

// ---- Valid requests ----

/** How a call ends: a result, a method error (-1, -3, -5, -8, ...), or -32601. */
type Outcome = "ok" | "error" | "notfound";

/** A call template: method, params text, and its outcome on the stub chain. */
const CALLS: readonly [method: string, params: string | undefined, outcome: Outcome][] = [
  ["getblockcount", "[]", "ok"],
  ["getblockcount", undefined, "ok"],
  ["getblockcount", "null", "ok"],
  ["getblockcount", "[1]", "error"],
  ["getblockhash", "[0]", "ok"],
  ["getblockhash", '{"height":1}', "ok"],
  ["getblockhash", "[5]", "error"],
  ["getblockhash", '["abc"]', "error"],
  ["getblockhash", "[1.0]", "error"],
  ["getblockhash", "[99999999999999999999]", "error"],
  ["getblockhash", "[]", "error"],
  ["getblockheader", `["${GENESIS}",false]`, "ok"],
  ["getblockheader", `{"blockhash":"${GENESIS}","verbose":true}`, "ok"],
  ["getblock", `{"verbosity":2,"args":["${GENESIS}"]}`, "ok"],
  ["getblock", `{"args":["${GENESIS}"],"blockhash":"${GENESIS}"}`, "error"],
  ["getblock", '["zz"]', "error"],
  ["getblock", '{"foo":1}', "error"],
  ["decoderawtransaction", '["zz"]', "error"],
  ["amount", '["0.1"]', "ok"],
  ["amount", "[21000001]", "error"],
  ["echo", '["a",1,{"x":[true,null,1.50]},"ü\\u0001"]', "ok"],
  ["echojson", '["[1,2]"]', "ok"],
  ["help", '["getblock"]', "ok"],
  ["help", '["nosuch"]', "ok"],
  ["uptime", "[]", "ok"],
  ["walletname", "[]", "ok"],
  ["nosuch", "[]", "notfound"],
];

const IDS = ["1", "7", '"x"', "null", "1.50", "[1]", '{"a":1}', "-0", '"\\u00e9"'];

/** One JSON-RPC call as text, and what its reply must be. */
interface Call {
  readonly text: string;
  readonly version: 1 | 2;
  /** The id as sent (undefined: none). */
  readonly id: string | undefined;
  readonly outcome: Outcome;
}

function makeCall(rng: Rng): Call {
  const [method, params, outcome] = rng.pick(CALLS);
  const version = rng.chance(0.5) ? 2 : 1;
  const id = rng.chance(0.15) ? undefined : rng.pick(IDS);
  const parts = [`"method":"${method}"`];
  if (params !== undefined) parts.push(`"params":${params}`);
  if (id !== undefined) parts.push(`"id":${id}`);
  if (version === 2) parts.push('"jsonrpc":"2.0"');
  else if (rng.chance(0.3)) parts.push('"jsonrpc":"1.0"');
  for (let i = parts.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [parts[i], parts[j]] = [parts[j], parts[i]];
  }
  return { text: `{${parts.join(",")}}`, version, id, outcome };
}

/** A request body and the status bitcoind answers it with (when the body is a valid request). */
interface Body {
  readonly text: string;
  readonly calls: readonly Call[];
  readonly batch: boolean;
}

function makeBody(rng: Rng): Body {
  if (rng.chance(0.25)) {
    const calls = Array.from({ length: rng.int(4) + 1 }, () => makeCall(rng));
    return { text: `[${calls.map((c) => c.text).join(",")}]`, calls, batch: true };
  }
  const call = makeCall(rng);
  return { text: call.text, calls: [call], batch: false };
}

/** The HTTP status bitcoind answers a valid body with (reference §2). */
function expectedStatus(body: Body): number {
  if (body.batch) {
    return body.calls.every((c) => c.version === 2 && c.id === undefined) ? 204 : 200;
  }
  const call = body.calls[0];
  if (call.version === 2) return call.id === undefined ? 204 : 200;
  return call.outcome === "ok" ? 200 : call.outcome === "notfound" ? 404 : 500;
}

/** One HTTP request as parts we can mutate, and what it expects. */
interface Request {
  line: string;
  headers: [string, string][];
  body: Uint8Array;
  /** Send the body chunked, in these chunk sizes. */
  chunks?: number[];
  /** A trailer sent after the last chunk. */
  trailer?: string;
  /** Headers are whole lines in their names (a corrupted head). */
  raw?: boolean;
  readonly expect: { status: number; close: boolean; body?: Body };
}

const WALLET_PATHS = ["/wallet/w", "/wallet/my%20wallet%2F%C3%BC", "/wallet/"];

function makeRequest(rng: Rng, auth: string, last: boolean): Request {
  const body = makeBody(rng);
  const bytes = encoder.encode(body.text + (rng.chance(0.5) ? "\n" : ""));
  const http10 = rng.chance(0.15);
  const keepAlive10 = http10 && !last && rng.chance(0.7);
  const close = !http10 && (last ? rng.chance(0.5) : false);
  const path = rng.chance(0.2) ? rng.pick(WALLET_PATHS) : "/";
  const headers: [string, string][] = [];
  if (rng.chance(0.8)) headers.push(["Host", "127.0.0.1"]);
  if (close) headers.push(["Connection", "close"]);
  if (keepAlive10) headers.push(["Connection", "keep-alive"]);
  if (rng.chance(0.5)) headers.push(["Content-Type", "application/json"]);
  headers.push(["Authorization", auth]);
  let chunks: number[] | undefined;
  if (!http10 && rng.chance(0.2)) {
    chunks = [];
    for (let left = bytes.length; left > 0;) {
      const n = Math.min(left, rng.int(40) + 1);
      chunks.push(n);
      left -= n;
    }
    headers.push(["Transfer-Encoding", "chunked"]);
  } else {
    headers.push(["Content-Length", String(bytes.length)]);
  }
  if (!http10 && rng.chance(0.1)) headers.push(["Expect", "100-continue"]);
  return {
    line: `POST ${path} HTTP/1.${http10 ? 0 : 1}`,
    headers,
    body: bytes,
    chunks,
    expect: { status: expectedStatus(body), close: close || (http10 && !keepAlive10), body },
  };
}

/** The bytes of a request. */
function serialize(r: Request): Uint8Array {
  const lines = r.headers.map(([k, v]) => r.raw ? `${k}\r\n` : `${k}: ${v}\r\n`).join("");
  const head = `${r.line}\r\n${lines}\r\n`;
  if (!r.chunks) return concat([latin1(head), r.body]);
  const parts = [latin1(head)];
  let at = 0;
  for (const n of r.chunks) {
    parts.push(encoder.encode(`${n.toString(16)}\r\n`), r.body.subarray(at, at + n), CRLF);
    at += n;
  }
  parts.push(encoder.encode(`0\r\n${r.trailer ?? ""}\r\n`));
  return concat(parts);
}

const CRLF = encoder.encode("\r\n");

function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}

const concat = (parts: Uint8Array[]) => concatBytes(...parts);

// ---- Mutations ----

/** A JSON-level mutation: a body, and the status and error code bitcoind gives it when known. */
type JsonMutation = (rng: Rng) => { body: Uint8Array; status?: number; code?: number };

const text = (s: string) => encoder.encode(s);
const nest = (n: number, inner = "1") => "[".repeat(n) + inner + "]".repeat(n);

const JSON_MUTATIONS: readonly [string, JsonMutation][] = [
  ["empty body", () => ({ body: text(""), status: 500, code: -32700 })],
  ["whitespace body", () => ({ body: text(" \n\t "), status: 500, code: -32700 })],
  [
    "trailing garbage",
    () => ({ body: text('{"method":"uptime","id":1}x'), status: 500, code: -32700 }),
  ],
  [
    "two objects",
    () => ({ body: text('{"method":"uptime"}{"method":"uptime"}'), status: 500, code: -32700 }),
  ],
  ["top-level number", () => ({ body: text("12"), status: 500, code: -32700 })],
  ["top-level string", () => ({ body: text('"x"'), status: 500, code: -32700 })],
  [
    "params string",
    () => ({ body: text('{"method":"uptime","params":"x","id":1}'), status: 400, code: -32600 }),
  ],
  [
    "params number",
    () => ({ body: text('{"method":"uptime","params":1,"id":1}'), status: 400, code: -32600 }),
  ],
  ["method missing", () => ({ body: text('{"params":[],"id":1}'), status: 400, code: -32600 })],
  ["method number", () => ({ body: text('{"method":1,"id":1}'), status: 400, code: -32600 })],
  [
    "method array",
    (r) => ({
      body: text(`{"method":["uptime"],"id":1,"jsonrpc":"${r.pick(["1.0", "2.0"])}"}`),
      status: 400,
      code: -32600,
    }),
  ],
  [
    "jsonrpc 3.0",
    () => ({ body: text('{"method":"uptime","jsonrpc":"3.0","id":1}'), status: 400, code: -32600 }),
  ],
  [
    "jsonrpc number",
    () => ({ body: text('{"method":"uptime","jsonrpc":2,"id":1}'), status: 400, code: -32600 }),
  ],
  [
    "id object",
    () => ({ body: text('{"method":"uptime","jsonrpc":"2.0","id":{"a":[1]}}'), status: 200 }),
  ],
  ["id bool", () => ({ body: text('{"method":"uptime","id":true}'), status: 200 })],
  [
    "duplicate keys",
    (r) => ({
      body: text(
        `{"method":"nosuch","method":"uptime","id":1,"id":2${
          r.chance(0.5) ? ',"jsonrpc":"2.0"' : ""
        }}`,
      ),
    }),
  ],
  ["empty batch", () => ({ body: text("[]"), status: 200 })],
  ["batch of non-objects", () => ({ body: text('[1,"x",null,[],true]'), status: 200 })],
  ["nested batch", () => ({ body: text('[[{"method":"uptime","id":1}]]'), status: 200 })],
  [
    "batch of notifications",
    () => ({
      body: text('[{"method":"uptime","jsonrpc":"2.0"},{"method":"nosuch","jsonrpc":"2.0"}]'),
      status: 204,
    }),
  ],
  ["huge batch", (r) => {
    const n = r.int(3000) + 500;
    return {
      body: text(
        `[${
          Array.from({ length: n }, (_, i) => `{"method":"getblockcount","id":${i}}`).join(",")
        }]`,
      ),
      status: 200,
    };
  }],
  [
    "deep nesting ok",
    () => ({
      body: text(`{"method":"echo","params":${nest(510)},"id":1,"jsonrpc":"2.0"}`),
      status: 200,
    }),
  ],
  [
    "deep nesting 513",
    () => ({
      body: text(`{"method":"echo","params":${nest(512)},"id":1}`),
      status: 500,
      code: -32700,
    }),
  ],
  [
    "very deep nesting",
    (r) => ({ body: text(nest(r.int(200_000) + 1000)), status: 500, code: -32700 }),
  ],
  [
    "unclosed nesting",
    (r) => ({ body: text("[".repeat(r.int(100_000) + 1)), status: 500, code: -32700 }),
  ],
  [
    "nested objects",
    (r) => ({ body: text('{"a":'.repeat(r.int(5000) + 1)), status: 500, code: -32700 }),
  ],
  [
    "huge number",
    (r) => ({
      body: text(
        `{"method":"getblockhash","params":[${
          r.pick([
            "1e999999",
            "123456789012345678901234567890",
            "1e-400",
            "0.0000000000000000001",
            "9".repeat(5000),
          ])
        }],"id":1}`,
      ),
      status: 500,
    }),
  ],
  [
    "huge number id",
    () => ({ body: text(`{"method":"uptime","id":${"9".repeat(100_000)}}`), status: 200 }),
  ],
  [
    "bad number",
    (r) => ({
      body: text(
        `{"method":"uptime","id":${
          r.pick(["01", "1.", ".5", "+1", "1e", "0x10", "NaN", "Infinity", "--1"])
        }}`,
      ),
      status: 500,
      code: -32700,
    }),
  ],
  ["bad utf-8", (r) => {
    const bad = r.pick([[0xff], [0xe2, 0x82], [0x80], [0xf8, 0x80, 0x80, 0x80, 0x80]]);
    return {
      body: concat([
        text('{"method":"echo","params":["'),
        Uint8Array.from(bad),
        text('"],"id":1}'),
      ]),
      status: 500,
      code: -32700,
    };
  }],
  [
    "bad escape",
    (r) => ({
      body: text(
        `{"method":"echo","params":["${
          r.pick(["\\x41", "\\u12", "\\", "\\ud800", "\\udc00\\ud800", "\t"])
        }"],"id":1}`,
      ),
    }),
  ],
  [
    "control chars and NUL",
    () => ({
      body: text('{"method":"echo","params":["a\\u0000b\\u001f"],"id":1,"jsonrpc":"2.0"}'),
      status: 200,
    }),
  ],
  [
    "NUL byte in body",
    () => ({ body: text('{"method":"uptime","id":1}\0'), status: 500, code: -32700 }),
  ],
  [
    "long string",
    (r) => ({
      body: text(`{"method":"echo","params":["${"a".repeat(r.int(2_000_000))}"],"id":1}`),
      status: 200,
    }),
  ],
  [
    "many keys",
    (r) => ({
      body: text(
        `{"method":"getblockcount","params":{${
          Array.from({ length: r.int(20000) + 1 }, (_, i) => `"k${i}":${i}`).join(",")
        }},"id":1}`,
      ),
      status: 500,
      code: -8,
    }),
  ],
  ["random bytes", (r) => ({ body: r.bytes(r.int(200)) })],
];

/** Flips, inserts or deletes random bytes of `bytes`. */
function corrupt(rng: Rng, bytes: Uint8Array): Uint8Array {
  const out = [...bytes];
  for (let n = rng.int(4) + 1; n > 0; n--) {
    const at = rng.int(out.length + 1);
    switch (rng.int(4)) {
      case 0:
        if (at < out.length) out[at] ^= 1 << rng.int(8);
        break;
      case 1:
        out.splice(at, 0, ...rng.bytes(rng.int(4) + 1));
        break;
      case 2:
        out.splice(at, rng.int(8) + 1);
        break;
      default:
        out.splice(at, 0, rng.pick([0x0a, 0x0d, 0x00, 0x20, 0x3a, 0x22, 0x5b, 0x7b]));
    }
  }
  return Uint8Array.from(out);
}

/** HTTP-level mutations of one request (kept framed where the mutation is not about framing). */
const HTTP_MUTATIONS: readonly [string, (rng: Rng, r: Request) => void][] = [
  [
    "method",
    (
      g,
      r,
    ) => (r.line = r.line.replace(
      "POST",
      g.pick([
        "GET",
        "PUT",
        "HEAD",
        "DELETE",
        "OPTIONS",
        "TRACE",
        "CONNECT",
        "PATCH",
        "post",
        "FOO",
        "",
      ]),
    )),
  ],
  [
    "uri",
    (
      g,
      r,
    ) => (r.line = r.line.replace(
      / \S+ /,
      ` ${
        g.pick([
          "/foo",
          "/wallet",
          "//",
          "*",
          "http://x/",
          "/?x=1",
          "/ /",
          "/wallet/%zz",
          "/%00",
          "a:b",
          "/" + "a".repeat(g.int(10000)),
          "",
        ])
      } `,
    )),
  ],
  [
    "version",
    (
      g,
      r,
    ) => (r.line = r.line.replace(
      /HTTP\/1\.\d/,
      g.pick([
        "HTTP/2.0",
        "HTTP/1.9",
        "HTTP/01.1",
        "HTTP/1",
        "HTTP/0.9",
        "HTTP/1.1x",
        "http/1.1",
        "HTTP/-1.1",
        "HTTP/1.99999999999",
        "HTTP/ 1.1",
      ]),
    )),
  ],
  [
    "request line garbage",
    (
      g,
      r,
    ) => (r.line = g.pick([
      "",
      " ",
      "POST",
      "POST /",
      "POST / HTTP/1.1 x",
      "\0POST / HTTP/1.1",
      "POST\t/\tHTTP/1.1",
    ])),
  ],
  [
    "duplicate Content-Length",
    (g, r) =>
      r.headers.push([
        "Content-Length",
        g.pick([String(r.body.length), "0", "5", String(r.body.length + 10)]),
      ]),
  ],
  [
    "bad Content-Length",
    (g, r) =>
      setHeader(
        r,
        "Content-Length",
        g.pick([
          "-1",
          "0x10",
          "abc",
          " 5",
          "5 ",
          "+5",
          "",
          "99999999999999999999999",
          "33554433",
          "33554432",
          String(r.body.length + 100),
          "1",
          "1e3",
        ]),
      ),
  ],
  ["no Content-Length", (_g, r) => (r.headers = r.headers.filter(([k]) => k !== "Content-Length"))],
  ["chunked and Content-Length", (g, r) => {
    if (!r.chunks) r.chunks = [r.body.length].filter((n) => n > 0);
    setHeader(
      r,
      "Transfer-Encoding",
      g.pick(["chunked", "Chunked", "chunked, chunked", "gzip", "identity"]),
    );
    r.headers.push(["Content-Length", String(g.int(100))]);
  }],
  ["bad chunk sizes", (g, r) => {
    r.chunks = [r.body.length];
    setHeader(r, "Transfer-Encoding", "chunked");
    r.headers = r.headers.filter(([k]) => k !== "Content-Length");
    const size = g.pick([
      "-1",
      "zz",
      "ffffffffffffffffffff",
      "7fffffffffffffff",
      "1;ext=1",
      "1 ",
      "2000001",
      "0x5",
      "",
    ]);
    r.body = concat([text(`${size}\r\n`), r.body]);
    r.chunks = [r.body.length];
  }],
  ["trailer", (g, r) => {
    setHeader(r, "Transfer-Encoding", "chunked");
    r.headers = r.headers.filter(([k]) => k !== "Content-Length");
    r.chunks = [r.body.length].filter((n) => n > 0);
    r.trailer = g.pick([
      "X-T: 1\r\n",
      "Content-Length: 5\r\n",
      "bad trailer\r\n",
      `X: ${"a".repeat(9000)}\r\n`,
      "Connection: close\r\n",
    ]);
  }],
  [
    "huge header",
    (g, r) => r.headers.push(["X-Big", "a".repeat(g.pick([7000, 8100, 9000, 70000]))]),
  ],
  ["many headers", (g, r) => {
    for (let i = g.int(2000); i > 0; i--) r.headers.push([`X-${i}`, "v"]);
  }],
  [
    "malformed header",
    (g, r) =>
      r.headers.splice(
        g.int(r.headers.length + 1),
        0,
        g.pick([["NoColon", ""], [" folded", "x"], ["", "empty name"], ["X\0Y", "z"], [
          "X",
          "a\rb",
        ]]) as [string, string],
      ),
  ],
  [
    "duplicate Authorization",
    (g, r) =>
      r.headers.unshift([
        "Authorization",
        g.pick(["Basic eDp5", "Bearer x", "basic " + btoa("a:b"), "Basic !!!", ""]),
      ]),
  ],
  [
    "bad Authorization",
    (g, r) =>
      setHeader(
        r,
        "Authorization",
        g.pick([
          "Basic eDp5",
          "Bearer x",
          "Basic",
          "Basic ",
          "Basic " + btoa("__cookie__:"),
          "Basic " + "A".repeat(5000),
          "Basic " + btoa("\xff:\xfe"),
        ]),
      ),
  ],
  ["no Authorization", (_g, r) => (r.headers = r.headers.filter(([k]) => k !== "Authorization"))],
  [
    "Expect",
    (g, r) => setHeader(r, "Expect", g.pick(["100-continue", "100-Continue", "200-ok", ""])),
  ],
  [
    "Connection",
    (g, r) =>
      setHeader(
        r,
        "Connection",
        g.pick(["close", "Close", "keep-alive", "keep-alive, close", "upgrade", ""]),
      ),
  ],
  ["json", (g, r) => {
    const [, mutate] = g.pick(JSON_MUTATIONS);
    r.body = mutate(g).body;
    if (r.chunks) r.chunks = [r.body.length].filter((n) => n > 0);
    else setHeader(r, "Content-Length", String(r.body.length));
  }],
  ["corrupt head", (g, r) => {
    const head = corrupt(
      g,
      latin1(`${r.line}\r\n${r.headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}`),
    );
    const lines = String.fromCharCode(...head).split("\r\n");
    r.line = lines[0];
    r.headers = lines.slice(1).filter((l) => l !== "").map((l) => [l, ""] as [string, string]);
    r.raw = true;
  }],
];

function setHeader(r: Request, name: string, value: string): void {
  const i = r.headers.findIndex(([k]) => k.toLowerCase() === name.toLowerCase());
  if (i >= 0) r.headers[i] = [name, value];
  else r.headers.push([name, value]);
}

// ---- Cases ----

/** One case: requests on one connection, how they are delivered, and what they expect. */
export interface HttpCase {
  readonly seed: number;
  /** Which server (by index in the list the case was made for). */
  readonly server: number;
  readonly notes: string[];
  readonly requests: Request[];
  /** Index of the mutated request (-1: none); requests after it expect nothing exact. */
  readonly mutated: number;
  /** Known outcome of a JSON mutation of the mutated request, when the rest of it is valid. */
  readonly jsonExpect?: { status?: number; code?: number };
  /** Wait for each response before sending the next request (unmutated cases). */
  readonly sequential: boolean;
  /** Write boundaries inside each request's bytes. */
  readonly splits: number;
  /** Send the first bytes one at a time. */
  readonly drip: number;
  /** Close the socket after this many bytes instead of half-closing after all. */
  readonly abortAt?: number;
}

/** The case for `seed`, for servers with credentials `auths`; `mutate` false keeps it valid. */
export function httpCase(seed: number, mutate: boolean, auths: readonly string[]): HttpCase {
  const rng = new Rng(seed);
  const server = rng.int(auths.length);
  const cli = rng.chance(0.15);
  const requests: Request[] = [];
  const count = cli ? 1 : rng.int(4) + 1;
  for (let i = 0; i < count; i++) {
    const r = cli
      ? cliShaped(rng, auths[server])
      : makeRequest(rng, auths[server], i === count - 1);
    requests.push(r);
    if (r.expect.close) break;
  }
  const notes = [cli ? "bitcoin-cli request" : `${requests.length} request(s)`];
  let mutated = -1;
  let jsonExpect: HttpCase["jsonExpect"];
  if (mutate) {
    mutated = rng.int(requests.length);
    const r = requests[mutated];
    if (rng.chance(0.4)) {
      const [name, m] = rng.pick(JSON_MUTATIONS);
      const out = m(rng);
      notes.push(`json: ${name}`);
      r.body = out.body;
      if (r.chunks) r.chunks = r.body.length ? [r.body.length] : [];
      else setHeader(r, "Content-Length", String(r.body.length));
      jsonExpect = { status: out.status, code: out.code };
    } else {
      for (let n = rng.int(2) + 1; n > 0; n--) {
        const [name, m] = rng.pick(HTTP_MUTATIONS);
        notes.push(`http: ${name}`);
        m(rng, r);
      }
    }
  }
  const sequential = !mutate && rng.chance(0.6);
  const splits = rng.chance(0.5) ? rng.int(6) : 0;
  const drip = rng.chance(0.1) ? rng.int(40) + 1 : 0;
  let abortAt: number | undefined;
  if (mutate && rng.chance(0.15)) {
    abortAt = rng.int(requests.reduce((n, r) => n + serialize(r).length, 0) + 1);
    notes.push(`abort at ${abortAt}`);
  }
  if (splits) notes.push(`${splits} splits`);
  if (drip) notes.push(`drip ${drip}`);
  return { seed, server, notes, requests, mutated, jsonExpect, sequential, splits, drip, abortAt };
}

/** bitcoin-cli's exact request (§1): always `Connection: close`, 2.0, id 1. */
function cliShaped(rng: Rng, auth: string): Request {
  const [method, params, outcome] = rng.pick(CALLS);
  const call: Call = {
    text: `{"method":"${method}","params":${params ?? "[]"},"id":1,"jsonrpc":"2.0"}`,
    version: 2,
    id: "1",
    outcome,
  };
  const wire = cliRequest(call.text, auth, rng.chance(0.2) ? "/wallet/w" : "/");
  const [head, body] = [
    wire.slice(0, wire.indexOf("\r\n\r\n")),
    wire.slice(wire.indexOf("\r\n\r\n") + 4),
  ];
  const [line, ...headerLines] = head.split("\r\n");
  return {
    line,
    headers: headerLines.map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]),
    body: encoder.encode(body),
    expect: { status: 200, close: true, body: { text: call.text, calls: [call], batch: false } },
  };
}

// ---- Running a case, and the oracles ----

const STATUSES = new Set([100, 200, 204, 400, 401, 403, 404, 405, 413, 417, 500, 501, 503]);

/** Splits `bytes` into the writes of a case. */
function writesOf(rng: Rng, bytes: Uint8Array, splits: number, drip: number): Uint8Array[] {
  const cuts = new Set<number>();
  for (let i = 0; i < Math.min(drip, bytes.length); i++) cuts.add(i + 1);
  for (let i = 0; i < splits; i++) cuts.add(rng.int(bytes.length));
  const sorted = [...cuts].filter((n) => n > 0 && n < bytes.length).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...sorted, bytes.length]) {
    out.push(bytes.subarray(at, cut));
    at = cut;
  }
  return out;
}

/** Sends `writes`, pausing a tick between them (so they arrive as separate reads). */
async function sendAll(c: RawConnection, writes: Uint8Array[]): Promise<void> {
  for (const w of writes) {
    await c.send(w);
    if (writes.length > 1) await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Parses every response in `bytes` strictly; an error message when one is malformed. */
export function parseResponses(bytes: Uint8Array): { responses: RawResponse[]; error?: string } {
  const responses: RawResponse[] = [];
  let at = 0;
  while (at < bytes.length) {
    let end = -1;
    for (let i = at; i + 3 < bytes.length; i++) {
      if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
        end = i;
        break;
      }
    }
    if (end < 0) return { responses, error: `truncated response head at byte ${at}` };
    const head = decoder.decode(bytes.subarray(at, end)).split("\r\n");
    const m = /^HTTP\/-?\d+\.\d+ (\d{3}) [A-Za-z -]+$/.exec(head[0]);
    if (!m) return { responses, error: `bad status line ${JSON.stringify(head[0])}` };
    const headers = head.slice(1).map((l): [string, string] => [
      l.slice(0, l.indexOf(": ")),
      l.slice(l.indexOf(": ") + 2),
    ]);
    if (headers.some(([k]) => k === "")) return { responses, error: `bad header in ${head}` };
    const status = Number(m[1]);
    const length = headers.find(([k]) => k.toLowerCase() === "content-length")?.[1];
    at = end + 4;
    let bodyLength = 0;
    if (length !== undefined) bodyLength = Number(length);
    else if (status !== 204 && status >= 200) bodyLength = bytes.length - at;
    if (at + bodyLength > bytes.length) return { responses, error: "truncated body" };
    const body = decoder.decode(bytes.subarray(at, at + bodyLength));
    at += bodyLength;
    responses.push({ statusLine: head[0], status, headers, body });
  }
  return { responses };
}

function header(r: RawResponse, name: string): string | undefined {
  return r.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

/** Whether the server closes after `r` (libevent: `Connection: close`, or HTTP/1.0 without keep-alive). */
function closesAfter(r: RawResponse): boolean {
  const [major, minor] = /^HTTP\/(-?\d+)\.(\d+)/.exec(r.statusLine)!.slice(1).map(Number);
  const before11 = major < 1 || (major === 1 && minor < 1);
  return header(r, "Connection")?.toLowerCase() === "close" ||
    (before11 && header(r, "Connection") !== "keep-alive");
}

/** The status bitcoind gives a JSON-RPC reply object, by its shape and error code (§2, §11). */
function statusOfReply(reply: Record<string, unknown>): number | string {
  const error = reply.error as { code?: unknown; message?: unknown } | null | undefined;
  const v2 = reply.jsonrpc === "2.0";
  if (v2 ? "result" in reply === (error !== undefined) : !("result" in reply && "error" in reply)) {
    return `bad reply shape ${JSON.stringify(reply)}`;
  }
  if (error === null || error === undefined) return 200;
  if (typeof error.code !== "number" || typeof error.message !== "string") {
    return `bad error object ${JSON.stringify(error)}`;
  }
  if (error.code === -32600) return 400;
  if (error.code === -32700) return 500;
  if (v2) return 200;
  return error.code === -32601 ? 404 : 500;
}

/** Checks one response on its own: status, headers, JSON body consistent with its status. */
export function responseProblem(r: RawResponse): string | null {
  if (!STATUSES.has(r.status)) return `unexpected status ${r.status}`;
  if (r.status === 204) return r.body === "" ? null : "204 with a body";
  if (header(r, "Content-Type") !== "application/json") return null;
  if (!r.body.endsWith("}\n") && !r.body.endsWith("]\n")) return `JSON body without its newline`;
  let value: unknown;
  try {
    value = JSON.parse(r.body);
  } catch {
    return `unparsable JSON reply ${r.body.slice(0, 200)}`;
  }
  if (Array.isArray(value)) {
    if (r.status !== 200) return `batch reply with status ${r.status}`;
    for (const element of value) {
      const s = statusOfReply(element);
      if (typeof s === "string") return s;
    }
    return null;
  }
  const s = statusOfReply(value as Record<string, unknown>);
  if (typeof s === "string") return s;
  return s === r.status ? null : `status ${r.status} for ${r.body.slice(0, 200)}`;
}

/** Checks a response against what an unmutated request expects. */
function expectationProblem(req: Request, r: RawResponse): string | null {
  const { status, close, body } = req.expect;
  if (r.status !== status) return `expected ${status}, got ${r.status}: ${r.body.slice(0, 200)}`;
  if (closesAfter(r) !== close) return `expected close=${close}: ${r.statusLine} ${r.headers}`;
  if (!body || status === 204) return null;
  const value = JSON.parse(r.body);
  const replies = body.batch ? value : [value];
  const answered = body.calls.filter((c) => !(c.version === 2 && c.id === undefined));
  if (!Array.isArray(replies) || replies.length !== answered.length) {
    return `expected ${answered.length} replies: ${r.body.slice(0, 200)}`;
  }
  for (let i = 0; i < answered.length; i++) {
    const call = answered[i];
    const reply = replies[i] as Record<string, unknown>;
    const code = (reply.error as { code?: number } | null)?.code;
    const outcome = code === undefined ? "ok" : code === -32601 ? "notfound" : "error";
    if (outcome !== call.outcome) return `call ${call.text}: ${JSON.stringify(reply)}`;
    const idText = /"id":(.*)}$/.exec(body.batch ? JSON.stringify(reply) : r.body.trimEnd());
    if (call.id === undefined ? "id" in reply : idText === null) {
      return `id of ${call.text}: ${JSON.stringify(reply)}`;
    }
  }
  return null;
}

/** Runs a case against `port`; the first problem found, or null. */
export async function runHttpCase(port: number, fuzzCase: HttpCase): Promise<string | null> {
  const rng = new Rng(fuzzCase.seed ^ 0x5bd1e995);
  using c = await RawConnection.open(port);
  const { requests, mutated } = fuzzCase;
  if (fuzzCase.sequential) {
    for (const req of requests) {
      await sendAll(c, writesOf(rng, serialize(req), fuzzCase.splits, fuzzCase.drip));
      let r = await withTimeout(c.response(), DEFAULT_TIMEOUT_MS, `response ${fuzzCase.seed}`);
      if (r.status === 100) r = await withTimeout(c.response(), DEFAULT_TIMEOUT_MS, "response");
      const problem = responseProblem(r) ?? expectationProblem(req, r);
      if (problem) return problem;
    }
    await c.conn.closeWrite();
    if (!(await withTimeout(c.closedByServer(), DEFAULT_TIMEOUT_MS, "close"))) return "not closed";
    return c.text() === "" ? null : `bytes after the last response: ${c.text().slice(0, 200)}`;
  }
  const all = concat(requests.map(serialize));
  const bytes = fuzzCase.abortAt === undefined ? all : all.subarray(0, fuzzCase.abortAt);
  try {
    await sendAll(c, writesOf(rng, bytes, fuzzCase.splits, fuzzCase.drip));
    if (fuzzCase.abortAt !== undefined) return null;
    await c.conn.closeWrite();
  } catch {
    // The server may close on a bad request while we still send: what it sent is checked below.
  }
  await withTimeout(c.closedByServer(), DEFAULT_TIMEOUT_MS, `server close (seed ${fuzzCase.seed})`);
  const { responses, error } = parseResponses(encoder.encode(c.text()));
  const finals = responses.filter((r) => r.status >= 200);
  // A body the server does not read (no Content-Length) is read as requests of its own: at most
  // one response per line sent.
  const lines = bytes.reduce((n, b) => n + (b === 10 ? 1 : 0), 0);
  if (finals.length > lines) return `${finals.length} responses to ${lines} lines`;
  for (let i = 0; i < finals.length; i++) {
    const r = finals[i];
    // libevent sends no Content-Length for versions other than 1.x, yet keeps such a connection
    // open on `Connection: keep-alive`: what follows cannot be framed (bitcoind does the same).
    if (!/^HTTP\/1\./.test(r.statusLine) && !header(r, "Content-Length")) break;
    const problem = responseProblem(r);
    if (problem) return `response ${i}: ${problem}`;
    if (closesAfter(r) && i < finals.length - 1) return `response after a closing response`;
    if (mutated >= 0 && i < mutated) {
      const expected = expectationProblem(requests[i], r);
      if (expected) return `unmutated request ${i}: ${expected}`;
    }
    if (i === mutated && fuzzCase.jsonExpect && finals.length > i) {
      const { status, code } = fuzzCase.jsonExpect;
      const headOk = requests[i].expect.status !== 401;
      if (headOk && status !== undefined && r.status !== status) {
        return `json mutation: expected ${status}, got ${r.status} ${r.body.slice(0, 200)}`;
      }
      if (headOk && code !== undefined && !r.body.includes(`"code":${code},`)) {
        return `json mutation: expected code ${code}: ${r.body.slice(0, 200)}`;
      }
    }
    if (r.status === 405 && requests[i]?.line.startsWith("HEAD")) break;
  }
  if (error && !requests.some((r) => r.line.startsWith("HEAD"))) return error;
  if (mutated < 0 && finals.length !== requests.length) {
    return `${finals.length} responses to ${requests.length} valid requests`;
  }
  return null;
}

/** A keep-alive client connected before the cases: it must still be served after each. */
export class Sentinel implements Disposable {
  #conn: RawConnection;
  #id = 0;

  private constructor(conn: RawConnection, readonly port: number, readonly auth: string) {
    this.#conn = conn;
  }

  static async open(port: number, auth: string): Promise<Sentinel> {
    return new Sentinel(await RawConnection.open(port), port, auth);
  }

  /** One call on the kept connection; a problem, or null. */
  async check(): Promise<string | null> {
    const id = ++this.#id;
    const body = `{"method":"getblockcount","id":${id}}`;
    try {
      await this.#conn.send(
        `POST / HTTP/1.1\r\nAuthorization: ${this.auth}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      const r = await withTimeout(this.#conn.response(), DEFAULT_TIMEOUT_MS, "sentinel");
      if (r.body !== `{"result":1,"error":null,"id":${id}}\n`) return `sentinel got ${r.body}`;
      return null;
    } catch (error) {
      return `sentinel: ${(error as Error).message}`;
    }
  }

  [Symbol.dispose](): void {
    this.#conn[Symbol.dispose]();
  }
}

/** stderr lines a hostile client may not cause (all of them: the server logs to stdout). */
export function unexpectedStderr(errors: readonly string[]): string[] {
  return errors.filter((line) => line.trim() !== "");
}
