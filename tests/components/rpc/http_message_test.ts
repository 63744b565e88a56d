/**
 * libevent's message rules, piece by piece: request lines, headers, body
 * lengths, chunk sizes, response heads.
 */
import { assert, assertEquals } from "../../assert.ts";
import {
  addHeaderLine,
  announcedLength,
  errorHead,
  type Headers,
  parseChunkSize,
  parseContentLength,
  parseRequestLine,
  type RequestInfo,
  responseHead,
  urlDecode,
} from "../../../components/rpc/http_message.ts";

const DATE = "Tue, 01 Dec 2026 22:17:02 GMT";

Deno.test("request lines", () => {
  assertEquals(parseRequestLine("POST / HTTP/1.1"), {
    method: "POST",
    uri: "/",
    major: 1,
    minor: 1,
    proxy: false,
  });
  assertEquals(parseRequestLine("GET /a b HTTP/1.0  ")?.uri, "/a b");
  assertEquals(
    parseRequestLine("FOO /xyz HTTP/1.1")?.method,
    undefined,
    "unknown methods parse (then 501)",
  );
  assertEquals(parseRequestLine("get / HTTP/1.1")?.method, undefined, "methods are case-sensitive");
  assertEquals(parseRequestLine("GET / HTTP/0.9")?.major, 0);
  assertEquals(parseRequestLine("GET http://example/ HTTP/1.1")?.proxy, true);
  for (
    const bad of [
      "POST",
      "GET / HTTP/2.0",
      "GET / HTTP/1.1x",
      "GET / HTTP/1",
      "GET  HTTP/1.1",
      "GETX/ HTTP/1.1",
      "GET 1:2 HTTP/1.1",
    ]
  ) {
    assertEquals(parseRequestLine(bad), undefined, bad);
  }
});

Deno.test("header lines: trimming, continuation, malformed", () => {
  const h: Headers = [];
  assert(addHeaderLine(h, "A:   x y \t"));
  assert(addHeaderLine(h, "\t  more  "));
  assert(addHeaderLine(h, "Empty:"));
  assertEquals(h, [["A", "x y more"], ["Empty", ""]]);
  assert(!addHeaderLine([], " continuation first"));
  assert(!addHeaderLine([], "no colon"));
  assert(!addHeaderLine([], "A: x\ry"), "a bare CR inside a value");
});

Deno.test("body lengths and chunk sizes", () => {
  assertEquals(parseContentLength("42"), 42);
  assertEquals(parseContentLength("+7"), 7);
  for (const bad of ["", "-1", "4x", "0x10"]) assertEquals(parseContentLength(bad), undefined, bad);
  assertEquals(announcedLength([]), -1);
  assertEquals(announcedLength([["Connection", "keep-alive"]]), 0);
  assertEquals(
    announcedLength([["content-length", "5"], ["Content-Length", "9"]]),
    5,
    "the first wins",
  );
  assertEquals(parseChunkSize("1a"), 26);
  assertEquals(parseChunkSize("0x10"), 16);
  assertEquals(parseChunkSize("10 ignored"), 16);
  for (const bad of ["", "zz", "10;ext", "-1"]) assertEquals(parseChunkSize(bad), undefined, bad);
});

const info = (
  major: number,
  minor: number,
  headers: Headers = [],
  method = "POST",
): RequestInfo => ({
  method,
  major,
  minor,
  headers,
  proxy: false,
});

Deno.test("response heads as evhttp_make_header_response writes them", () => {
  // HTTP/1.1 keep-alive: no Connection header.
  let head = responseHead(info(1, 1), 200, [["Content-Type", "application/json"]], 3, DATE);
  assertEquals(
    head.text,
    `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: ${DATE}\r\nContent-Length: 3\r\n\r\n`,
  );
  assert(!head.close);
  // HTTP/1.0: only the handler's headers; closes.
  head = responseHead(info(1, 0), 200, [["Content-Type", "application/json"]], 3, DATE);
  assertEquals(head.text, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n");
  assert(head.close);
  // 204: no length, no content type.
  assertEquals(
    responseHead(info(1, 1), 204, [], 0, DATE).text,
    `HTTP/1.1 204 No Content\r\nDate: ${DATE}\r\n\r\n`,
  );
  // A handler's Connection: close (shutdown) sits where it was added, and closes.
  head = responseHead(info(1, 1), 200, [["Content-Type", "a"], ["Connection", "close"]], 0, DATE);
  assertEquals(
    head.text,
    `HTTP/1.1 200 OK\r\nContent-Type: a\r\nConnection: close\r\nDate: ${DATE}\r\nContent-Length: 0\r\n\r\n`,
  );
  assert(head.close);
  // HTTP/0.9: neither Date nor Content-Length.
  assertEquals(
    responseHead(info(0, 9), 404, [], 0, DATE).text,
    "HTTP/0.9 404 Not Found\r\nContent-Type: text/html; charset=ISO-8859-1\r\n\r\n",
  );
  // A proxy request without Proxy-Connection: keep-alive closes, with no Connection header.
  head = responseHead({ ...info(1, 1), proxy: true }, 404, [], 0, DATE);
  assertEquals(
    head.text,
    `HTTP/1.1 404 Not Found\r\nDate: ${DATE}\r\nContent-Length: 0\r\nContent-Type: text/html; charset=ISO-8859-1\r\n\r\n`,
  );
  assert(head.close);
});

Deno.test("error pages: HTTP/1.1 forced unless both version numbers are set", () => {
  const head = errorHead(info(1, 0), 413, DATE);
  assert(
    head.text.startsWith(
      "HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: text/html\r\nConnection: close\r\n",
    ),
  );
  assert(head.close);
});

Deno.test("UrlDecode as Core's", () => {
  assertEquals(urlDecode("my%20wallet%2F%C3%BC"), "my wallet/ü");
  assertEquals(urlDecode("%zz%4"), "%zz%4");
  assertEquals(urlDecode("a+b"), "a+b");
});
