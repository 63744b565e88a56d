/**
 * The RPC server over real TCP: the request → response vectors byte for
 * byte, and the HTTP behaviours around them (keep-alive, HTTP/1.0,
 * pipelining, the body and head limits, slow and hostile clients, the work
 * queue, timeouts, warm-up, stop).
 */
import { assert, assertEquals } from "../../assert.ts";
import { HttpServer } from "../../../components/rpc/http.ts";
import { cliRequest, DATE, exchange, RawConnection, startServer, waitFor } from "./raw_http.ts";
import { VECTORS } from "./vectors.ts";

const encoder = new TextEncoder();

/** Reads everything the server sends until it closes; `{date}` stands for each Date value. */
async function wholeExchange(port: number, request: string): Promise<string> {
  using c = await RawConnection.open(port);
  await c.send(request);
  assert(await c.closedByServer(), "the server should close the connection");
  return c.text().replace(/\r\nDate: ([^\r]*)\r\n/g, (_m, date: string) => {
    assert(DATE.test(date), `Date header: ${date}`);
    return "\r\nDate: {date}\r\n";
  });
}

Deno.test("RPC HTTP vectors (reference §2, §3)", async (t) => {
  await using s = await startServer();
  for (const vector of VECTORS) {
    await t.step(vector.name, async () => {
      const got = await wholeExchange(s.port, vector.request.replaceAll("{auth}", s.auth));
      assertEquals(got, vector.response);
    });
  }
});

Deno.test("keep-alive: several requests on one socket, no Connection header back", async () => {
  await using s = await startServer();
  using c = await RawConnection.open(s.port);
  for (let id = 1; id <= 3; id++) {
    const body = `{"method":"getblockcount","id":${id}}`;
    await c.send(
      `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${s.auth}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const r = await c.response();
    assertEquals(r.statusLine, "HTTP/1.1 200 OK");
    assertEquals(r.headers.map(([k]) => k), ["Content-Type", "Date", "Content-Length"]);
    assertEquals(r.body, `{"result":1,"error":null,"id":${id}}\n`);
  }
  // The last one asks to close: echoed, and the server closes.
  await c.send(cliRequest('{"method":"getblockcount","id":4}', s.auth));
  const last = await c.response();
  assertEquals(last.headers.map(([k]) => k), [
    "Content-Type",
    "Date",
    "Content-Length",
    "Connection",
  ]);
  assert(await c.closedByServer());
});

Deno.test("pipelined requests are answered in order", async () => {
  await using s = await startServer();
  using c = await RawConnection.open(s.port);
  const one = (id: number) => {
    const body = `{"jsonrpc":"2.0","method":"getblockhash","params":[${id}],"id":${id}}`;
    return `POST / HTTP/1.1\r\nAuthorization: ${s.auth}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  };
  await c.send(one(0) + one(1) + one(5));
  assert((await c.response()).body.includes('"id":0'));
  assert((await c.response()).body.includes('"id":1'));
  assert((await c.response()).body.includes("Block height out of range"));
});

Deno.test("HTTP/1.0 with keep-alive: Connection: keep-alive and Content-Length, socket kept", async () => {
  await using s = await startServer();
  using c = await RawConnection.open(s.port);
  const body = '{"method":"getblockcount","id":1}';
  for (let i = 0; i < 2; i++) {
    await c.send(
      `POST / HTTP/1.0\r\nConnection: keep-alive\r\nAuthorization: ${s.auth}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const r = await c.response();
    assertEquals(r.statusLine, "HTTP/1.0 200 OK");
    assertEquals(r.headers, [
      ["Content-Type", "application/json"],
      ["Connection", "keep-alive"],
      ["Content-Length", "33"],
    ]);
  }
});

Deno.test("a body of exactly 32 MiB is read and answered", async () => {
  await using s = await startServer();
  const size = 32 * 1024 * 1024;
  const prefix = '{"method":"echo","params":["';
  const suffix = '"],"id":1}';
  const body = new Uint8Array(size).fill(0x61);
  body.set(encoder.encode(prefix));
  body.set(encoder.encode(suffix), size - suffix.length);
  using c = await RawConnection.open(s.port);
  await c.send(
    `POST / HTTP/1.1\r\nConnection: close\r\nAuthorization: ${s.auth}\r\nContent-Length: ${size}\r\n\r\n`,
  );
  await c.send(body);
  const r = await c.response();
  assertEquals(r.status, 200);
  assertEquals(
    r.body.length,
    size - prefix.length - suffix.length + '{"result":[""],"error":null,"id":1}\n'.length,
  );
});

Deno.test("413: the client need not send the body, and the server stays up", async () => {
  await using s = await startServer();
  using c = await RawConnection.open(s.port);
  await c.send(
    `POST / HTTP/1.1\r\nAuthorization: ${s.auth}\r\nContent-Length: 1000000000\r\n\r\nabc`,
  );
  const r = await c.response();
  assertEquals(r.status, 413);
  assert(await c.closedByServer());
  const ok = await exchange(s.port, cliRequest('{"method":"getblockcount","id":1}', s.auth));
  assertEquals(ok.status, 200);
});

Deno.test("chunked bodies: over 32 MiB in chunks is 413; a bad chunk size is 413", async () => {
  await using s = await startServer();
  const head =
    `POST / HTTP/1.1\r\nConnection: close\r\nAuthorization: ${s.auth}\r\nTransfer-Encoding: chunked\r\n\r\n`;
  assertEquals((await exchange(s.port, head + "2000001\r\n")).status, 413);
  assertEquals((await exchange(s.port, head + "zz\r\n")).status, 413);
  assertEquals((await exchange(s.port, head + "1;ext=1\r\na\r\n0\r\n\r\n")).status, 413);
});

Deno.test("Expect: 100-continue gets an interim 100; another expectation 417", async () => {
  await using s = await startServer();
  using c = await RawConnection.open(s.port);
  const body = '{"method":"getblockcount","id":1}';
  await c.send(
    `POST / HTTP/1.1\r\nConnection: close\r\nExpect: 100-continue\r\nAuthorization: ${s.auth}\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  const interim = await c.response();
  assertEquals(interim.statusLine, "HTTP/1.1 100 Continue");
  assertEquals(interim.headers, []);
  await c.send(body);
  assertEquals((await c.response()).body, '{"result":1,"error":null,"id":1}\n');
  const refused = await exchange(
    s.port,
    `POST / HTTP/1.1\r\nConnection: close\r\nExpect: magic\r\nContent-Length: 5\r\n\r\n`,
  );
  assertEquals(refused.statusLine, "HTTP/1.1 417 Expectation Failed");
});

Deno.test("slow and hostile clients do not affect a well-behaved client", async () => {
  await using s = await startServer({ maxConnections: 16 });
  // Slowloris: many connections trickling an endless header.
  const slow: RawConnection[] = [];
  for (let i = 0; i < 40; i++) {
    const c = await RawConnection.open(s.port);
    await c.send("POST / HTTP/1.1\r\nX-Slow: ");
    slow.push(c);
  }
  // A client sending a huge header: refused with 400 once it passes 8 KiB.
  using huge = await RawConnection.open(s.port);
  await huge.send("POST / HTTP/1.1\r\nX-Huge: ");
  for (let i = 0; i < 4; i++) await huge.send("a".repeat(4096)).catch(() => {});
  assertEquals((await huge.response()).status, 400);
  // A well-behaved client is served.
  for (let i = 0; i < 3; i++) {
    const r = await exchange(s.port, cliRequest('{"method":"getblockcount","id":1}', s.auth));
    assertEquals(r.body, '{"result":1,"error":null,"id":1}\n');
  }
  // The slow ones were dropped to make room, the one idle longest first.
  assert(await slow[0].closedByServer(), "the connection idle longest is dropped");
  assertEquals(slow[0].text(), "", "and never answered");
  for (const c of slow) c[Symbol.dispose]();
});

Deno.test("work queue: -rpcthreads running, -rpcworkqueue waiting, 503 beyond", async () => {
  await using s = await startServer({ threads: 1, workQueue: 1 });
  const call = '{"method":"waitforlatch","id":1}';
  const first = exchange(s.port, cliRequest(call, s.auth));
  await waitFor(() => s.latch.waiting === 1, "the first call to run");
  const second = exchange(s.port, cliRequest(call, s.auth));
  await waitFor(() => s.server.workQueue.queued === 1, "the second call to wait in the queue");
  for (let i = 0; i < 2; i++) {
    const refused = await exchange(s.port, cliRequest(call, s.auth));
    assertEquals(refused.status, 503);
    assertEquals(refused.body, "Work queue depth exceeded");
    assertEquals(refused.headers.map(([k, v]) => k === "Date" ? [k, "-"] : [k, v]), [
      ["Date", "-"],
      ["Content-Length", "25"],
      ["Content-Type", "text/html; charset=ISO-8859-1"],
      ["Connection", "close"],
    ]);
  }
  assert(s.logs.some((l) => l.includes("work queue depth exceeded")));
  s.latch.open();
  assertEquals((await first).status, 200);
  await waitFor(() => s.latch.waiting === 1, "the queued call to run");
  s.latch.open();
  assertEquals((await second).body, '{"result":null,"error":null,"id":1}\n');
  assertEquals(s.server.workQueue, { running: 0, queued: 0 });
});

Deno.test("-rpcservertimeout: an idle connection is closed without a reply", async () => {
  await using s = await startServer({ serverTimeout: 1 });
  using idle = await RawConnection.open(s.port);
  using partial = await RawConnection.open(s.port);
  await partial.send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  assert(await idle.closedByServer());
  assert(await partial.closedByServer());
  assertEquals(idle.text(), "");
  assertEquals(partial.text(), "");
});

Deno.test("-rpcservertimeout of weeks: a request waits that long for body budget, not 1 ms", async () => {
  await using s = await startServer({ serverTimeout: 3_000_000 }); // some 35 days
  // Four requests announce 32 MiB bodies and send none: the 128 MiB budget is reserved.
  const holders: RawConnection[] = [];
  for (let i = 0; i < 4; i++) {
    const holder = await RawConnection.open(s.port);
    await holder.send(`POST / HTTP/1.1\r\nContent-Length: ${32 * 1024 * 1024}\r\n\r\n`);
    holders.push(holder);
  }
  await waitFor(() => s.server.bodyBudget.held === 128 * 1024 * 1024, "the budget to be reserved");
  const answer = exchange(s.port, cliRequest('{"method":"getblockcount","id":1}', s.auth));
  await waitFor(() => s.server.bodyBudget.waiting === 1, "the request to wait for budget");
  // setTimeout fired the 35-day wait after 1 ms: the request was dropped unanswered.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assertEquals(s.server.bodyBudget.waiting, 1, "still waiting");
  holders[0]![Symbol.dispose]();
  assertEquals((await answer).body, '{"result":1,"error":null,"id":1}\n');
  for (const holder of holders) holder[Symbol.dispose]();
});

Deno.test("warm-up: every call answers -28 with the status until finished", async () => {
  await using s = await startServer({ warmup: "Loading block index…" });
  const v2 = await exchange(s.port, cliRequest('{"jsonrpc":"2.0","method":"help","id":1}', s.auth));
  assertEquals(
    v2.body,
    '{"jsonrpc":"2.0","error":{"code":-28,"message":"Loading block index…"},"id":1}\n',
  );
  s.server.setWarmup("Verifying blocks…");
  const v1 = await exchange(s.port, cliRequest('{"method":"nosuch","id":1}', s.auth));
  assertEquals(v1.status, 500);
  assertEquals(
    v1.body,
    '{"result":null,"error":{"code":-28,"message":"Verifying blocks…"},"id":1}\n',
  );
  s.server.finishWarmup();
  assertEquals(
    (await exchange(s.port, cliRequest('{"method":"getblockcount","id":1}', s.auth))).status,
    200,
  );
});

Deno.test("stop: answers, echoes Connection: close, then the server stops and removes the cookie", async () => {
  const s = await startServer();
  try {
    const c = await RawConnection.open(s.port);
    const body = '{"jsonrpc":"2.0","method":"stop","id":1}';
    await c.send(
      `POST / HTTP/1.1\r\nAuthorization: ${s.auth}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const r = await c.response();
    assertEquals(r.body, '{"jsonrpc":"2.0","result":"Bitcoin Core stopping","id":1}\n');
    assertEquals(r.headers.map(([k, v]) => k === "Date" ? [k, "-"] : [k, v]), [
      ["Content-Type", "application/json"],
      ["Connection", "close"],
      ["Date", "-"],
      ["Content-Length", "58"],
    ]);
    assert(await c.closedByServer());
    c[Symbol.dispose]();
    await s.server.stopped;
    await Deno.stat(`${s.datadir}/regtest/.cookie`).then(
      () => {
        throw new Error("the cookie is still there");
      },
      (e) => assert(e instanceof Deno.errors.NotFound),
    );
    await Deno.connect({ hostname: "127.0.0.1", port: s.port }).then(
      (conn) => {
        conn.close();
        throw new Error("still listening");
      },
      () => {},
    );
  } finally {
    await s[Symbol.asyncDispose]();
  }
});

Deno.test("the 401 for a wrong password comes at least 250 ms later, without blocking others", async () => {
  await using s = await startServer({ threads: 1 });
  const started = Date.now();
  const wrong = exchange(
    s.port,
    cliRequest('{"method":"getblockcount"}', `Basic ${btoa("__cookie__:x")}`),
  );
  // With one worker thread, a good request is still served while the wrong one waits.
  const good = await exchange(s.port, cliRequest('{"method":"getblockcount","id":1}', s.auth));
  assertEquals(good.status, 200);
  assertEquals((await wrong).status, 401);
  assert(Date.now() - started >= 250);
  assert(
    s.logs.some((l) => l.startsWith("ThreadRPCServer incorrect password attempt from 127.0.0.1:")),
  );
});

Deno.test("-rpcallowip: any 127.0.0.0/8 address is allowed; others get 403", async () => {
  // 127.0.0.2: bind there (Core honours -rpcbind only with -rpcallowip) and connect from it.
  {
    await using s = await startServer({ bind: ["127.0.0.2"], allowIp: ["10.0.0.0/8"] });
    assertEquals(s.server.addresses.map((a) => a.hostname), ["127.0.0.2"]);
    using c = await RawConnection.open(s.port, "127.0.0.2");
    await c.send(cliRequest('{"method":"getblockcount","id":1}', s.auth));
    assertEquals((await c.response()).status, 200);
  }
  // A client outside the list (no such address can be used here, so the list says no).
  await using http = new HttpServer({
    endpoints: [{ hostname: "127.0.0.1", port: 0 }],
    handler: () => Promise.resolve({ status: 200 }),
    routes: () => true,
    allowed: () => false,
  });
  const [addr] = http.start();
  const r = await wholeExchange(
    addr.port,
    "POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
  );
  assertEquals(
    r,
    "HTTP/1.1 403 Forbidden\r\nDate: {date}\r\nContent-Length: 0\r\n" +
      "Content-Type: text/html; charset=ISO-8859-1\r\nConnection: close\r\n\r\n",
  );
});

Deno.test("default binding: 127.0.0.1 and, where the machine has it, ::1", async () => {
  await using s = await startServer();
  const hosts = s.server.addresses.map((a) => a.hostname);
  assertEquals(hosts[0], "127.0.0.1");
  assert(hosts.every((h) => h === "127.0.0.1" || h === "::1"));
  if (hosts.includes("::1")) {
    using c = await RawConnection.open(s.port, "::1");
    await c.send(cliRequest('{"method":"getblockcount","id":1}', s.auth));
    assertEquals((await c.response()).status, 200);
  }
});

Deno.test("replies nobody reads are bounded: over the budget the connection with the most unread is dropped", async () => {
  const MIB = 1024 * 1024;
  // Each reply (16 MiB) is larger than what loopback socket buffers take, so
  // a client that never reads keeps its reply held by the server.
  await using s = await startServer({ replyBudgetBytes: 24 * MIB });
  const text = "a".repeat(16 * MIB);
  const request = cliRequest(JSON.stringify({ method: "echo", params: [text], id: 1 }), s.auth);
  using first = await RawConnection.open(s.port);
  await first.send(request);
  await waitFor(
    () => s.server.replyBytesHeld > 0,
    "the first reply to be held for its client",
  );
  using second = await RawConnection.open(s.port);
  await second.send(request);
  // The second reply takes the total over the budget: the first connection goes.
  const deadline = setTimeout(() => first.conn.close(), 20_000);
  assert(await first.closedByServer(), "the first client is dropped");
  clearTimeout(deadline);
  assert(first.text().length < text.length, "without its whole reply");
  assert(
    s.logs.some((line) => line.includes("replies waiting for their clients passed")),
    "and the log says why",
  );
  // The second client still gets its whole reply, and others are served.
  const reply = await second.response();
  assertEquals(reply.status, 200);
  assertEquals(JSON.parse(reply.body).result, [text]);
  const r = await exchange(s.port, cliRequest('{"method":"getblockcount","id":1}', s.auth));
  assertEquals(r.body, '{"result":1,"error":null,"id":1}\n');
  assertEquals(s.server.replyBytesHeld, 0);
});
