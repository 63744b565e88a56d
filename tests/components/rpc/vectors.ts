/**
 * Request → response vectors for the RPC server, byte for byte: every row of
 * §2 (and the authentication rows of §3) of
 * `shared/reference/bitcoind-rpc.md`, what bitcoind v30.0 answers. Requests
 * are sent as bitcoin-cli sends them (`Connection: close`, so each response
 * is read to the end of the stream and compared whole).
 *
 * In requests `{auth}` stands for the cookie's `Basic` value; in responses
 * `{date}` for the `Date` header's value (checked against RFC 1123 form).
 *
 * @module
 */
import { BLOCK1, GENESIS } from "./stub_methods.ts";

/** One exchange. */
export interface Vector {
  /** What it checks (the reference row). */
  readonly name: string;
  /** The exact request bytes (UTF-8), `{auth}` substituted. */
  readonly request: string;
  /** The exact response bytes, `{date}` substituted. */
  readonly response: string;
}

const encoder = new TextEncoder();
const length = (s: string) => encoder.encode(s).length;

/** A POST as bitcoin-cli writes it (body plus its final newline). */
function cli(body: string, path = "/", auth = "{auth}"): string {
  const text = body + "\n";
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
    `Content-Type: application/json\r\nAuthorization: ${auth}\r\n` +
    `Content-Length: ${length(text)}\r\n\r\n${text}`;
}

/** A JSON reply as bitcoind writes it to a request that asked for `Connection: close`. */
function json(status: string, body: string): string {
  const text = body + "\n";
  return `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nDate: {date}\r\n` +
    `Content-Length: ${length(text)}\r\nConnection: close\r\n\r\n${text}`;
}

/** An empty-bodied reply with libevent's default content type. */
function empty(status: string, before = ""): string {
  return `HTTP/1.1 ${status}\r\n${before}Date: {date}\r\nContent-Length: 0\r\n` +
    "Content-Type: text/html; charset=ISO-8859-1\r\nConnection: close\r\n\r\n";
}

/** A libevent error page, for a request that asked for `Connection: close`. */
function errorPage(status: number, reason: string): string {
  const body =
    `<HTML><HEAD>\n<TITLE>${status} ${reason}</TITLE>\n</HEAD><BODY>\n<H1>${reason}</H1>\n</BODY></HTML>\n`;
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/html\r\nDate: {date}\r\n` +
    `Content-Length: ${length(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** The JSON text of an error object. */
function error(code: number, message: string): string {
  return `{"code":${code},"message":${JSON.stringify(message)}}`;
}

/** A call in both versions: the 2.0 and the legacy 1.0 exchange. */
function both(
  name: string,
  call: string,
  expect: { error?: string; result?: string; status1: string },
): Vector[] {
  const v2 = `{${call},"id":7,"jsonrpc":"2.0"}`;
  const v1 = `{${call},"id":7}`;
  return [
    {
      name: `${name} (2.0)`,
      request: cli(v2),
      response: json(
        "200 OK",
        expect.error !== undefined
          ? `{"jsonrpc":"2.0","error":${expect.error},"id":7}`
          : `{"jsonrpc":"2.0","result":${expect.result},"id":7}`,
      ),
    },
    {
      name: `${name} (1.0)`,
      request: cli(v1),
      response: json(
        expect.status1,
        expect.error !== undefined
          ? `{"result":null,"error":${expect.error},"id":7}`
          : `{"result":${expect.result},"error":null,"id":7}`,
      ),
    },
  ];
}

const GETBLOCKHASH_HELP =
  "getblockhash height\n\nReturns hash of block in best-block-chain at height provided.\n" +
  "\nArguments:\n1. height    (numeric, required) The height index\n\nResult:\n" +
  '"hex"    (string) The block hash\n\nExamples:\n> bitcoin-cli getblockhash 1000\n' +
  `> curl --user myusername --data-binary '{"jsonrpc": "2.0", "id": "curltest", "method": ` +
  `"getblockhash", "params": [1000]}' -H 'content-type: application/json' http://127.0.0.1:8332/\n`;

const GETBLOCKCOUNT_HELP =
  "getblockcount\n\nReturns the height of the most-work fully-validated chain.\n" +
  "The genesis block has height 0.\n\nResult:\nn    (numeric) The current block count\n\n" +
  "Examples:\n> bitcoin-cli getblockcount \n> curl --user myusername --data-binary " +
  `'{"jsonrpc": "2.0", "id": "curltest", "method": "getblockcount", "params": []}' ` +
  "-H 'content-type: application/json' http://127.0.0.1:8332/\n";

function wrongType(position: string, actual: string, expected: string): string {
  return error(
    -3,
    `Wrong type passed:\n{\n    "${position}": "JSON value of type ${actual} is not of expected type ${expected}"\n}`,
  );
}

const PARSE_ERROR = json(
  "500 Internal Server Error",
  `{"result":null,"error":${error(-32700, "Parse error")},"id":null}`,
);
const UNKNOWN_HASH = "a".repeat(64);
const NOT_HEX = "g".repeat(64);

/** The vectors. */
export const VECTORS: readonly Vector[] = [
  ...both("success", '"method":"getblockcount","params":[]', { result: "1", status1: "200 OK" }),
  ...both("unknown method", '"method":"nosuch","params":[]', {
    error: error(-32601, "Method not found"),
    status1: "404 Not Found",
  }),
  ...both("wrong type: string for a number", '"method":"getblockhash","params":["abc"]', {
    error: wrongType("Position 1 (height)", "string", "number"),
    status1: "500 Internal Server Error",
  }),
  ...both("wrong type: numeric string", '"method":"getblockhash","params":["0"]', {
    error: wrongType("Position 1 (height)", "string", "number"),
    status1: "500 Internal Server Error",
  }),
  ...both("wrong type: bool", '"method":"getblockhash","params":[true]', {
    error: wrongType("Position 1 (height)", "bool", "number"),
    status1: "500 Internal Server Error",
  }),
  ...both(
    "wrong type: named arguments are reported by position",
    '"method":"getblockhash","params":{"height":"abc"}',
    {
      error: wrongType("Position 1 (height)", "string", "number"),
      status1: "500 Internal Server Error",
    },
  ),
  ...both("too few arguments: the help text", '"method":"getblockhash","params":[]', {
    error: error(-1, GETBLOCKHASH_HELP),
    status1: "500 Internal Server Error",
  }),
  ...both("too many arguments: the help text", '"method":"getblockcount","params":[1]', {
    error: error(-1, GETBLOCKCOUNT_HELP),
    status1: "500 Internal Server Error",
  }),
  ...both("height past the tip", '"method":"getblockhash","params":[99]', {
    error: error(-8, "Block height out of range"),
    status1: "500 Internal Server Error",
  }),
  ...both("negative height", '"method":"getblockhash","params":[-1]', {
    error: error(-8, "Block height out of range"),
    status1: "500 Internal Server Error",
  }),
  ...["0.5", "1.0", "1e0", "9999999999"].flatMap((n) =>
    both(`integer out of range: ${n}`, `"method":"getblockhash","params":[${n}]`, {
      error: error(-1, "JSON integer out of range"),
      status1: "500 Internal Server Error",
    })
  ),
  ...both("height as integer", '"method":"getblockhash","params":[1]', {
    result: `"${BLOCK1}"`,
    status1: "200 OK",
  }),
  ...both("hash of the wrong length", '"method":"getblock","params":["zz"]', {
    error: error(-8, "blockhash must be of length 64 (not 2, for 'zz')"),
    status1: "500 Internal Server Error",
  }),
  ...both("hash not hex", `"method":"getblock","params":["${NOT_HEX}"]`, {
    error: error(-8, `blockhash must be hexadecimal string (not '${NOT_HEX}')`),
    status1: "500 Internal Server Error",
  }),
  ...both("upper-case hash accepted", `"method":"getblock","params":["${GENESIS.toUpperCase()}"]`, {
    result: `{"hash":"${GENESIS}","height":0}`,
    status1: "200 OK",
  }),
  ...both("unknown block", `"method":"getblock","params":["${UNKNOWN_HASH}"]`, {
    error: error(-5, "Block not found"),
    status1: "500 Internal Server Error",
  }),
  ...both("undecodable transaction", '"method":"decoderawtransaction","params":["zz"]', {
    error: error(-22, "TX decode failed"),
    status1: "500 Internal Server Error",
  }),
  ...both("unknown named parameter", '"method":"getblockcount","params":{"foo":1}', {
    error: error(-8, "Unknown named parameter foo"),
    status1: "500 Internal Server Error",
  }),
  ...both(
    "an argument both positional and named",
    `"method":"getblock","params":{"blockhash":"${GENESIS}","args":["${GENESIS}"]}`,
    {
      error: error(-8, "Parameter blockhash specified twice both as positional and named argument"),
      status1: "500 Internal Server Error",
    },
  ),
  ...both(
    "named parameters, positional ones under args",
    `"method":"getblock","params":{"verbosity":0,"args":["${GENESIS}"]}`,
    {
      result: '"00"',
      status1: "200 OK",
    },
  ),
  ...both("params missing", '"method":"getblockcount"', { result: "1", status1: "200 OK" }),
  ...both("params null", '"method":"getblockcount","params":null', {
    result: "1",
    status1: "200 OK",
  }),
  {
    name: "params a string (2.0)",
    request: cli('{"method":"getblockcount","params":"x","id":7,"jsonrpc":"2.0"}'),
    response: json(
      "400 Bad Request",
      `{"jsonrpc":"2.0","error":${error(-32600, "Params must be an array or object")},"id":7}`,
    ),
  },
  {
    name: "params a string (1.0)",
    request: cli('{"method":"getblockcount","params":"x","id":7}'),
    response: json(
      "400 Bad Request",
      `{"result":null,"error":${error(-32600, "Params must be an array or object")},"id":7}`,
    ),
  },
  {
    name: "method missing (2.0)",
    request: cli('{"params":[],"id":7,"jsonrpc":"2.0"}'),
    response: json(
      "400 Bad Request",
      `{"jsonrpc":"2.0","error":${error(-32600, "Missing method")},"id":7}`,
    ),
  },
  {
    name: "method missing (1.0)",
    request: cli('{"params":[],"id":7}'),
    response: json(
      "400 Bad Request",
      `{"result":null,"error":${error(-32600, "Missing method")},"id":7}`,
    ),
  },
  {
    name: "method not a string (2.0)",
    request: cli('{"method":5,"id":7,"jsonrpc":"2.0"}'),
    response: json(
      "400 Bad Request",
      `{"jsonrpc":"2.0","error":${error(-32600, "Method must be a string")},"id":7}`,
    ),
  },
  ...["3.0", "1.1"].map((version) => ({
    name: `jsonrpc "${version}"`,
    request: cli(`{"method":"getblockcount","id":7,"jsonrpc":"${version}"}`),
    response: json(
      "400 Bad Request",
      `{"result":null,"error":${error(-32600, "JSON-RPC version not supported")},"id":7}`,
    ),
  })),
  {
    name: "jsonrpc a number",
    request: cli('{"method":"getblockcount","id":7,"jsonrpc":2}'),
    response: json(
      "400 Bad Request",
      `{"result":null,"error":${error(-32600, "jsonrpc field must be a string")},"id":7}`,
    ),
  },
  {
    name: "jsonrpc a number, no id: no id key",
    request: cli('{"method":"getblockcount","jsonrpc":2}'),
    response: json(
      "400 Bad Request",
      `{"result":null,"error":${error(-32600, "jsonrpc field must be a string")}}`,
    ),
  },
  {
    name: "2.0 notification: 204, Date only",
    request: cli('{"method":"getblockcount","params":[],"jsonrpc":"2.0"}'),
    response: "HTTP/1.1 204 No Content\r\nDate: {date}\r\nConnection: close\r\n\r\n",
  },
  {
    name: "2.0 notification of an unknown method: 204",
    request: cli('{"method":"nosuch","jsonrpc":"2.0"}'),
    response: "HTTP/1.1 204 No Content\r\nDate: {date}\r\nConnection: close\r\n\r\n",
  },
  {
    name: '2.0 with "id":null is answered',
    request: cli('{"method":"getblockcount","id":null,"jsonrpc":"2.0"}'),
    response: json("200 OK", '{"jsonrpc":"2.0","result":1,"id":null}'),
  },
  {
    name: "1.0 without id: no id key",
    request: cli('{"method":"getblockcount"}'),
    response: json("200 OK", '{"result":1,"error":null}'),
  },
  {
    name: "1.0 error without id: no id key",
    request: cli('{"method":"nosuch"}'),
    response: json("404 Not Found", `{"result":null,"error":${error(-32601, "Method not found")}}`),
  },
  {
    name: "the id is echoed verbatim",
    request: cli('{"method":"getblockcount","id":1.50,"jsonrpc":"2.0"}'),
    response: json("200 OK", '{"jsonrpc":"2.0","result":1,"id":1.50}'),
  },
  {
    name: "an array id is echoed",
    request: cli('{"method":"getblockcount","id":[1],"jsonrpc":"2.0"}'),
    response: json("200 OK", '{"jsonrpc":"2.0","result":1,"id":[1]}'),
  },
  { name: "malformed JSON", request: cli('{"method":'), response: PARSE_ERROR },
  { name: "trailing garbage", request: cli('{"method":"getblockcount"}x'), response: PARSE_ERROR },
  {
    name: "two objects",
    request: cli('{"method":"getblockcount"}{"method":"getblockcount"}'),
    response: PARSE_ERROR,
  },
  {
    name: "empty body",
    request:
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: {auth}\r\n" +
      "Content-Length: 0\r\n\r\n",
    response: PARSE_ERROR,
  },
  ...["5", '"x"'].map((body) => ({
    name: `top level ${body}`,
    request: cli(body),
    response: json(
      "500 Internal Server Error",
      `{"result":null,"error":${error(-32700, "Top-level object parse error")},"id":null}`,
    ),
  })),
  {
    name: "batch [ok, unknown]",
    request: cli(
      '[{"jsonrpc":"2.0","method":"getblockcount","id":1},{"jsonrpc":"2.0","method":"nosuch","id":2}]',
    ),
    response: json(
      "200 OK",
      `[{"jsonrpc":"2.0","result":1,"id":1},{"jsonrpc":"2.0","error":${
        error(-32601, "Method not found")
      },"id":2}]`,
    ),
  },
  {
    // Core reuses one request state across a batch: a non-object element keeps the
    // previous element's id and version (here the 1.0 error's id 3).
    name: "batch mixing versions, notifications, errors and non-objects",
    request: cli(
      '[1,{"method":"getblockcount","id":1},{"jsonrpc":"2.0","method":"getblockcount"},' +
        '{"jsonrpc":"2.0","method":"nosuch","id":2},{"method":"nosuch","id":3},"x"]',
    ),
    response: json(
      "200 OK",
      `[{"result":null,"error":${error(-32600, "Invalid Request object")},"id":null},` +
        '{"result":1,"error":null,"id":1},' +
        `{"jsonrpc":"2.0","error":${error(-32601, "Method not found")},"id":2},` +
        `{"result":null,"error":${error(-32601, "Method not found")},"id":3},` +
        `{"result":null,"error":${error(-32600, "Invalid Request object")},"id":3}]`,
    ),
  },
  {
    name: "batch of notifications only: 204",
    request: cli(
      '[{"jsonrpc":"2.0","method":"getblockcount"},{"jsonrpc":"2.0","method":"nosuch"}]',
    ),
    response: "HTTP/1.1 204 No Content\r\nDate: {date}\r\nConnection: close\r\n\r\n",
  },
  {
    name: "empty batch: []",
    request: cli("[]"),
    response: json("200 OK", "[]"),
  },
  {
    name: "batch element without method",
    request: cli('[{"pizza":"sausage","id":4,"jsonrpc":"2.0"}]'),
    response: json(
      "200 OK",
      `[{"jsonrpc":"2.0","error":${error(-32600, "Missing method")},"id":4}]`,
    ),
  },
  ...["GET", "PUT"].map((method) => ({
    name: `${method}: 405 before auth`,
    request: `${method} / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    response: "HTTP/1.1 405 Method Not Allowed\r\nDate: {date}\r\nContent-Length: 41\r\n" +
      "Content-Type: text/html; charset=ISO-8859-1\r\nConnection: close\r\n\r\n" +
      "JSONRPC server handles only POST requests",
  })),
  {
    // libevent writes no Content-Length or Content-Type for HEAD, but still the body.
    name: "HEAD: 405 before auth",
    request: "HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    response: "HTTP/1.1 405 Method Not Allowed\r\nDate: {date}\r\nConnection: close\r\n\r\n" +
      "JSONRPC server handles only POST requests",
  },
  {
    name: "DELETE: 405, no body",
    request: "DELETE / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    response: empty("405 Method Not Allowed"),
  },
  {
    name: "a method libevent does not serve: 501",
    request: "OPTIONS / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    response: errorPage(501, "Not Implemented"),
  },
  {
    name: "no Authorization: 401",
    request: cli('{"method":"getblockcount","id":1}').replace("Authorization: {auth}\r\n", ""),
    response: empty("401 Unauthorized", 'WWW-Authenticate: Basic realm="jsonrpc"\r\n'),
  },
  ...[
    ["wrong password", "Basic " + btoa("__cookie__:" + "0".repeat(64))],
    ["wrong user", "Basic " + btoa("someone:" + "0".repeat(64))],
    ["Bearer", "Bearer abc"],
    ["lower-case basic", "basic " + btoa("__cookie__:" + "0".repeat(64))],
    ["not base64", "Basic !!!!"],
    ["no colon", "Basic " + btoa("__cookie__")],
  ].map(([what, auth]) => ({
    name: `${what}: 401`,
    request: cli('{"method":"getblockcount","id":1}', "/", auth),
    response: empty("401 Unauthorized", 'WWW-Authenticate: Basic realm="jsonrpc"\r\n'),
  })),
  ...["/foo", "/wallet", "/?x=1", "/wallets/w"].map((path) => ({
    name: `path ${path}: 404 before auth`,
    request:
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}`,
    response: empty("404 Not Found"),
  })),
  {
    name: "/wallet/<name> reaches the handler, percent-decoded",
    request: cli('{"method":"walletname","id":1}', "/wallet/my%20wallet%2F%C3%BC"),
    response: json("200 OK", '{"result":"my wallet/ü","error":null,"id":1}'),
  },
  {
    name: "/wallet/%77 is wallet w",
    request: cli('{"method":"walletname","id":1}', "/wallet/%77"),
    response: json("200 OK", '{"result":"w","error":null,"id":1}'),
  },
  {
    name: "/wallet/ is the wallet named empty",
    request: cli('{"method":"walletname","id":1}', "/wallet/"),
    response: json("200 OK", '{"result":"","error":null,"id":1}'),
  },
  {
    name: "/wallet/w/ is not w",
    request: cli('{"method":"walletname","id":1}', "/wallet/w/"),
    response: json("200 OK", '{"result":"w/","error":null,"id":1}'),
  },
  {
    name: "the wallet path is ignored by other methods",
    request: cli('{"method":"getblockcount","id":1}', "/wallet/nosuch"),
    response: json("200 OK", '{"result":1,"error":null,"id":1}'),
  },
  {
    name: "Content-Length one byte over 32 MiB: 413, the body is not read",
    request:
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: {auth}\r\n" +
      "Content-Length: 33554433\r\n\r\n",
    response: errorPage(413, "Request Entity Too Large"),
  },
  {
    name: "a 9000-byte header line: 400",
    request: `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Long: ${
      "a".repeat(9000)
    }\r\n\r\n`,
    response: errorPage(400, "Bad Request"),
  },
  {
    name: "a 7000-byte header line is accepted",
    request: cli('{"method":"getblockcount","id":1}').replace(
      "Host:",
      `X-Long: ${"a".repeat(7000)}\r\nHost:`,
    ),
    response: json("200 OK", '{"result":1,"error":null,"id":1}'),
  },
  {
    name: "a malformed request line: 400 (HTTP/1.1 error page)",
    request: "POST\r\n\r\n",
    response:
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nConnection: close\r\nDate: {date}\r\n" +
      "Content-Length: 94\r\n\r\n" +
      "<HTML><HEAD>\n<TITLE>400 Bad Request</TITLE>\n</HEAD><BODY>\n<H1>Bad Request</H1>\n</BODY></HTML>\n",
  },
  {
    name: "an invalid Content-Length: 400",
    request: "POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 12abc\r\n\r\n",
    response: errorPage(400, "Bad Request"),
  },
  {
    name: "request Content-Type is ignored, and may be left out",
    request:
      `POST / HTTP/1.1\r\nConnection: close\r\nContent-Type: text/plain\r\nAuthorization: {auth}\r\n` +
      `Content-Length: 34\r\n\r\n{"method":"getblockcount","id":1}\n`,
    response: json("200 OK", '{"result":1,"error":null,"id":1}'),
  },
  {
    name: "chunked request body",
    request:
      "POST / HTTP/1.1\r\nConnection: close\r\nAuthorization: {auth}\r\nTransfer-Encoding: chunked\r\n\r\n" +
      '10\r\n{"method":"getbl\r\n11\r\nockcount","id":1}\r\n0\r\n\r\n',
    response: json("200 OK", '{"result":1,"error":null,"id":1}'),
  },
  {
    name: "HTTP/1.0: only Content-Type, no Content-Length, then close",
    request: "POST / HTTP/1.0\r\nAuthorization: {auth}\r\nContent-Length: 33\r\n\r\n" +
      '{"method":"getblockcount","id":1}',
    response:
      'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"result":1,"error":null,"id":1}\n',
  },
  {
    name: "strings: raw UTF-8, control characters escaped, / not escaped",
    request: cli('{"method":"echo","params":["ü/\\u0001\\n\\t\\u007f\\"\\\\"],"id":1}'),
    response: json("200 OK", '{"result":["ü/\\u0001\\n\\t\\u007f\\"\\\\"],"error":null,"id":1}'),
  },
  {
    name: "echo returns raw JSON unchanged",
    request: cli('{"method":"echo","params":[1,"a",{"b":null},[true]],"id":1}'),
    response: json("200 OK", '{"result":[1,"a",{"b":null},[true]],"error":null,"id":1}'),
  },
  {
    name: 'echo named {"arg9":"x"}: nine nulls, then x',
    request: cli('{"method":"echo","params":{"arg9":"x"},"id":1}'),
    response: json(
      "200 OK",
      '{"result":[null,null,null,null,null,null,null,null,null,"x"],"error":null,"id":1}',
    ),
  },
  {
    name: "help nosuch is a result",
    request: cli('{"method":"help","params":["nosuch"],"id":1,"jsonrpc":"2.0"}'),
    response: json("200 OK", '{"jsonrpc":"2.0","result":"help: unknown command: nosuch","id":1}'),
  },
  {
    name: "amounts: a string converted exactly, written with 8 decimals",
    request: cli('{"method":"amount","params":["0.1"],"id":1}'),
    response: json("200 OK", '{"result":0.10000000,"error":null,"id":1}'),
  },
  ...both("amount below a satoshi", '"method":"amount","params":[0.000000001]', {
    error: error(-3, "Invalid amount"),
    status1: "500 Internal Server Error",
  }),
  ...both("negative amount", '"method":"amount","params":[-1]', {
    error: error(-3, "Amount out of range"),
    status1: "500 Internal Server Error",
  }),
  ...both("amount over 21 million", '"method":"amount","params":[21000001]', {
    error: error(-3, "Amount out of range"),
    status1: "500 Internal Server Error",
  }),
  ...both("amount not a number", '"method":"amount","params":["abc"]', {
    error: error(-3, "Invalid amount"),
    status1: "500 Internal Server Error",
  }),
];
