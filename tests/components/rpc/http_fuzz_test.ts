/**
 * The HTTP JSON-RPC fuzzer (`http_fuzz.ts`) on fixed seeds against the
 * server as its own process, and what its campaigns found.
 */
import { assert, assertEquals } from "../../assert.ts";
import { memoryOf } from "../../helpers.ts";
import { httpCase, runHttpCase, Sentinel, startFuzzServer, unexpectedStderr } from "./http_fuzz.ts";
import { RawConnection } from "./raw_http.ts";

Deno.test("HTTP fuzz: 400 fixed seeds, valid and mutated, two servers", async () => {
  await using cookie = await startFuzzServer();
  await using userpass = await startFuzzServer({ userpass: true });
  const servers = [cookie, userpass];
  const sentinels = await Promise.all(servers.map((s) => Sentinel.open(s.port, s.auth)));
  try {
    const failures: string[] = [];
    for (let seed = 1; seed <= 400; seed++) {
      const fuzzCase = httpCase(seed, seed % 4 !== 0, servers.map((s) => s.auth));
      const problem = await runHttpCase(servers[fuzzCase.server].port, fuzzCase) ??
        await sentinels[fuzzCase.server].check();
      if (problem) failures.push(`seed ${seed} [${fuzzCase.notes.join("; ")}]: ${problem}`);
    }
    assertEquals(failures, []);
    for (const s of servers) assertEquals(unexpectedStderr(s.peer.errors), []);
  } finally {
    for (const s of sentinels) s[Symbol.dispose]();
  }
});

Deno.test("a chunked body of 1-byte chunks costs its bytes, not a buffer per chunk", async () => {
  // 1,000,000 chunks of one byte: an array of one Uint8Array per chunk took ~500 MB of heap
  // (a 96 MB heap ran out and the process died); one growing buffer takes ~1 MB. Sent without
  // credentials: the body is read before authentication, as libevent reads it.
  await using s = await startFuzzServer({ heapMb: 96 });
  using c = await RawConnection.open(s.port);
  await c.send("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  const piece = new TextEncoder().encode("1\r\n \r\n".repeat(50_000));
  for (let i = 0; i < 20; i++) await c.send(piece);
  await c.send(`0\r\n\r\n`);
  assertEquals((await c.response()).status, 401);
  using sentinel = await Sentinel.open(s.port, s.auth);
  assertEquals(await sentinel.check(), null);
  assert(memoryOf(s.peer.child.pid).rss < 400 * 2 ** 20, "resident memory stays small");
  assertEquals(unexpectedStderr(s.peer.errors), []);
});

Deno.test("a body of more JSON values than a request may hold is a parse error before anything runs", async () => {
  // 10 million `{}` (about 30 MB, under the 32 MiB body limit) took a 512 MB heap out of memory
  // while being parsed; the parse now stops at MAX_REQUEST_VALUES, so a 128 MB heap is plenty.
  await using s = await startFuzzServer({ heapMb: 128 });
  using c = await RawConnection.open(s.port);
  const body = new TextEncoder().encode("[" + "{},".repeat(10_000_000) + "{}]");
  await c.send(
    `POST / HTTP/1.1\r\nAuthorization: ${s.auth}\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  await c.send(body);
  const reply = await c.response();
  assertEquals(reply.status, 500);
  assertEquals(
    JSON.parse(reply.body),
    { result: null, error: { code: -32700, message: "Parse error" }, id: null },
  );
  using sentinel = await Sentinel.open(s.port, s.auth);
  assertEquals(await sentinel.check(), null);
  assertEquals(unexpectedStderr(s.peer.errors), []);
});
