/**
 * The REST interface's request-target reading (Core's `ParseDataFormat`,
 * `GetQueryParameterFromUri` over libevent's strict URI parser,
 * `ToIntegral`, `ParseHex`, the getutxos body) and its warm-up answer.
 *
 * @module
 */
import { assertEquals } from "../../../assert.ts";
import {
  parseDataFormat,
  parseInt32,
  parseUnsigned,
  queryParameter,
  sanitizeUri,
} from "../../../../components/node/rest/uri.ts";
import { parseHexBody, parseOutpointsBody } from "../../../../components/node/rest/getutxos.ts";
import { restHandlers } from "../../../../components/node/rest/mod.ts";
import type { HttpRequest } from "../../../../components/rpc/mod.ts";

const URI_ERROR = "URI parsing failed, it likely contained RFC 3986 invalid characters";

Deno.test("REST: ParseDataFormat", () => {
  assertEquals(parseDataFormat("abc.json"), { param: "abc", format: "json" });
  assertEquals(parseDataFormat("abc.bin?x=1.hex"), { param: "abc", format: "bin" });
  assertEquals(parseDataFormat("a.b.hex"), { param: "a.b", format: "hex" });
  // An empty extension is dropped; an unknown one stays in the parameter.
  assertEquals(parseDataFormat("abc."), { param: "abc", format: "" });
  assertEquals(parseDataFormat("abc.xml"), { param: "abc.xml", format: "" });
  assertEquals(parseDataFormat("abc"), { param: "abc", format: "" });
  // The query string goes from the last '?'.
  assertEquals(parseDataFormat("a?b.json?c"), { param: "a?b", format: "json" });
});

Deno.test("REST: query parameters as libevent parses them", () => {
  const uri = (query: string) => `/rest/headers/x.json?${query}`;
  assertEquals(queryParameter("/rest/headers/x.json", "count"), undefined);
  assertEquals(queryParameter(uri("count=3"), "count"), "3");
  assertEquals(queryParameter(uri("a=1&count=3&count=4"), "count"), "3");
  assertEquals(queryParameter(uri("count=%41+b%2C"), "count"), "A b,");
  assertEquals(queryParameter(uri("count=3&"), "count"), "3");
  assertEquals(queryParameter(uri("count=3#frag?"), "count"), "3");
  // A malformed query keeps no parameter.
  for (const query of ["count=3&x", "count=3&&a=1", "=1&count=3", "count"]) {
    assertEquals(queryParameter(uri(query), "count"), undefined, query);
  }
  // Not RFC 3986: Core's error, wherever it is.
  for (
    const bad of [
      "/rest/headers/x%.json?count=1",
      uri("count=1%"),
      uri("count=<1>"),
      uri("a=1#b#c"),
    ]
  ) {
    const got = queryParameter(bad, "count");
    assertEquals(got instanceof Error ? got.message : got, URI_ERROR, bad);
  }
});

Deno.test("REST: numbers as ToIntegral reads them", () => {
  assertEquals(parseUnsigned("2000", 2000n), 2000n);
  assertEquals(parseUnsigned("007", 2000n), 7n);
  for (const bad of ["", "+1", "-1", " 1", "1a", "2001"]) {
    assertEquals(parseUnsigned(bad, 2000n), undefined);
  }
  assertEquals(parseInt32("-2147483648"), -2147483648);
  assertEquals(parseInt32("-0"), 0);
  for (const bad of ["2147483648", "+1", "", "-", "1.0"]) assertEquals(parseInt32(bad), undefined);
  assertEquals(sanitizeUri('1 "<a>"%20'), "1a%20");
});

Deno.test("REST: getutxos bodies", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assertEquals([...parseHexBody(text(" 01 0a\nFF\t"))], [1, 10, 255]);
  for (const bad of ["0", "0 1", "0g", "010"]) assertEquals(parseHexBody(text(bad)).length, 0, bad);
  const one = Uint8Array.of(0, 1, ...new Uint8Array(32), 0xff, 0xff, 0xff, 0xff);
  assertEquals(parseOutpointsBody(one)?.outpoints[0].index, 0xffffffff);
  assertEquals(parseOutpointsBody(one)?.checkMempool, false);
  assertEquals(parseOutpointsBody(one.subarray(0, one.length - 1)), undefined);
  // A count far past the limit is refused by its size, the outpoints past it never read.
  const many = new Uint8Array(2 + 3 + 300 * 36);
  many.set([2, 0xfd, 300 & 0xff, 300 >> 8]);
  const parsed = parseOutpointsBody(many);
  assertEquals([parsed?.checkMempool, parsed?.count, parsed?.outpoints.length], [true, 300, 16]);
  assertEquals(parseOutpointsBody(Uint8Array.of(1, 0xfe, 1, 0, 0, 0)), undefined);
});

Deno.test("REST: every endpoint answers 503 while the node warms up", async () => {
  const handlers = restHandlers({
    services: () => undefined,
    warmupStatus: () => "Loading block index…",
  });
  assertEquals(handlers.map((h) => h.prefix), [
    "/rest/tx/",
    "/rest/block/notxdetails/",
    "/rest/block/",
    "/rest/blockfilter/",
    "/rest/blockfilterheaders/",
    "/rest/chaininfo",
    "/rest/mempool/",
    "/rest/headers/",
    "/rest/getutxos",
    "/rest/deploymentinfo/",
    "/rest/deploymentinfo",
    "/rest/blockhashbyheight/",
    "/rest/spenttxouts/",
  ]);
  const request: HttpRequest = {
    method: "GET",
    uri: "/rest/chaininfo.json",
    body: new Uint8Array(0),
    peer: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    headers: [],
    major: 1,
    minor: 1,
    proxy: false,
  };
  for (const handler of handlers) {
    const reply = await handler.handle(request, ".json", new AbortController().signal);
    assertEquals(reply.status, 503);
    assertEquals(reply.headers, [["Content-Type", "text/plain"]]);
    assertEquals(
      new TextDecoder().decode(reply.body as Uint8Array),
      "Service temporarily unavailable: Loading block index…\r\n",
    );
  }
});
