/**
 * listen: libmultiprocess' ListenConnections cases (the connection limit),
 * and clients without a token: a flood of them against a spawned component
 * under a descriptor limit, a token announced late, the deadline.
 *
 * @module
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../../assert.ts";
import {
  AddressError,
  connect,
  DEFAULT_MAX_CONNECTIONS,
  denoCommand,
  IpcLog,
  listen,
  newToken,
  spawn,
  type SpawnedComponent,
  TOKEN_BYTES,
} from "../../../mod.ts";
import { FooInit } from "../../../examples/schemas/gen/conformance.mp.ts";
import { fooInit } from "../../../examples/foo/foo.ts";
import { MAX_LINE_CHARS } from "../../../runtime/log.ts";
import { tempDir, tempSocket, waitFor } from "../../helpers.ts";
import { buildMessage, WirePeer } from "../../wire_peer.ts";

const quiet = new IpcLog({ level: "off" });

Deno.test("listen: accepts several connections at once", async () => {
  using dir = tempDir();
  const datadir = dir.path;
  await using listener = listen(FooInit, "unix", fooInit(), {
    datadir,
    maxConnections: 2,
    log: quiet,
  });
  await using a = await connect(FooInit, "unix", { datadir });
  await using b = await connect(FooInit, "unix", { datadir });
  const [fa, fb] = await Promise.all([a.makeFoo(), b.makeFoo()]);
  assertEquals([await fa!.add(1, 1), await fb!.add(2, 2)], [2, 4]);
  assertEquals(listener.connections, 2);
});

Deno.test("listen: serves DEFAULT_MAX_CONNECTIONS clients at once by default; the next waits", async () => {
  using dir = tempDir();
  const datadir = dir.path;
  await using listener = listen(FooInit, "unix", fooInit(), { datadir, log: quiet });
  const clients = [];
  for (let i = 0; i < DEFAULT_MAX_CONNECTIONS; i++) {
    const client = await connect(FooInit, "unix", { datadir });
    clients.push(client);
    assertEquals(await (await client.makeFoo())!.add(i, 1), i + 1);
  }
  assertEquals(listener.connections, DEFAULT_MAX_CONNECTIONS);
  await using last = await connect(FooInit, "unix", { datadir });
  let served = false;
  const pending = last.makeFoo().then((foo) => (served = true, foo));
  await new Promise((r) => setTimeout(r, 300));
  assertEquals(served, false, "the client past the default waits");
  await clients.pop()![Symbol.asyncDispose]();
  assertEquals(await (await pending)!.add(2, 3), 5);
  for (const client of clients) await client[Symbol.asyncDispose]();
});

/** A listener limited to one connection, with a first client already served. */
async function servingOne() {
  const dir = tempDir();
  const datadir = dir.path;
  const listener = listen(FooInit, "unix", fooInit(), { datadir, maxConnections: 1, log: quiet });
  const first = await connect(FooInit, "unix", { datadir });
  await (await first.makeFoo())!.add(1, 1);
  return {
    datadir,
    listener,
    first,
    async [Symbol.asyncDispose]() {
      await listener[Symbol.asyncDispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
}

Deno.test("listen: with maxConnections 1 a second client waits until the first leaves", async () => {
  await using limited = await servingOne();
  const { datadir, listener, first } = limited;
  await using second = await connect(FooInit, "unix", { datadir });
  let served = false;
  const pending = second.makeFoo().then((foo) => {
    served = true;
    return foo;
  });
  await new Promise((r) => setTimeout(r, 300));
  assertEquals(served, false);
  assertEquals(listener.connections, 1);
  await first[Symbol.asyncDispose]();
  const foo = await pending;
  assertEquals(await foo!.add(2, 3), 5);
});

Deno.test("listen: a client that leaves before being accepted does no harm", async () => {
  await using limited = await servingOne();
  const { datadir, listener, first } = limited;
  const impatient = await connect(FooInit, "unix", { datadir });
  await impatient[Symbol.asyncDispose]();
  await first[Symbol.asyncDispose]();
  await using third = await connect(FooInit, "unix", { datadir });
  assertEquals(await (await third.makeFoo())!.add(3, 4), 7);
  await waitFor(() => listener.connections === 1);
});

/** Resolves when the peer ends `conn`. */
async function untilClosed(conn: Deno.UnixConn): Promise<void> {
  const buffer = new Uint8Array(64);
  try {
    while (await conn.read(buffer) !== null) { /* discard */ }
  } catch { /* reset: closed as well */ }
}

/**
 * The Foo component spawned with `-lifeline` (tokens required), listening
 * on `path`, under a 64-descriptor limit.
 */
async function lifelineFoo(path: string, lines: string[]) {
  const plain = denoCommand(new URL("../../../examples/foo/main.ts", import.meta.url), {
    permissions: [`--allow-read=${path}`, `--allow-write=${path}`, `--allow-net=unix:${path}`],
    args: ["-lifeline", `-ipcbind=unix:${path}`],
  });
  const child = await spawn(FooInit, {
    ...plain,
    executable: "prlimit",
    args: ["--nofile=64", "--", plain.executable, ...plain.args],
  }, { output: (line) => lines.push(line) });
  // Served to us only after it listens.
  assertEquals(await (await child.init.makeFoo())!.add(1, 1), 2);
  return child;
}

/** Connects with a fresh token announced to `child`, and makes one call. */
async function servedWithToken(child: SpawnedComponent<FooInit>, path: string) {
  const token = newToken();
  child.sendControl(`accept ${token.hex}`);
  await using init = await connect(FooInit, `unix:${path}`, { token: token.bytes, log: quiet });
  return await (await init.makeFoo())!.add(20, 22);
}

Deno.test("listen: a flood without tokens never keeps a token holder from being served", async () => {
  using socket = tempSocket("foo");
  const path = socket.path;
  const lines: string[] = [];
  await using child = await lifelineFoo(path, lines);
  // 200 clients that never send a token, each reconnecting as soon as it is dropped.
  let stop = false;
  let dropped = 0;
  const open = new Set<Deno.UnixConn>();
  const flooders = Array.from({ length: 200 }, async () => {
    while (!stop) {
      const conn = await Deno.connect({ transport: "unix", path });
      open.add(conn);
      await untilClosed(conn);
      if (!open.delete(conn)) return; // we closed it: the flood is over
      dropped++;
      conn.close();
    }
  });
  await waitFor(() => dropped >= 200, 20_000, "the listener to drop idle clients");
  // Under the flood, a client with its token is served, again and again.
  for (let i = 0; i < 2; i++) assertEquals(await servedWithToken(child, path), 42);
  const droppedWhileServing = dropped;
  await waitFor(() => dropped > droppedWhileServing + 100, 20_000, "the flood to go on");
  stop = true;
  const left = [...open];
  open.clear();
  for (const conn of left) conn.close();
  await Promise.all(flooders);
  assertEquals(await servedWithToken(child, path), 42);
  assert(
    lines.some((line) =>
      /refused a connection without a valid token on .* \(\d+ so far\)/.test(line)
    ),
  );
  assert(!lines.some((line) => /accept failed/.test(line)), lines.join("\n"));
});

Deno.test("listen: a token announced after its client connected is still accepted", async () => {
  using socket = tempSocket("foo");
  const path = socket.path;
  await using child = await lifelineFoo(path, []);
  const token = newToken();
  // The client is first: its token waits for the control line.
  await using init = await connect(FooInit, `unix:${path}`, { token: token.bytes, log: quiet });
  const served = init.makeFoo();
  child.sendControl(`accept ${token.hex}`);
  assertEquals(await (await served)!.add(2, 3), 5);
});

Deno.test("listen: an idle client is closed after the token deadline, and counts as waiting until then", async () => {
  using dir = tempDir();
  const datadir = dir.path;
  await using listener = listen(FooInit, "unix", fooInit(), {
    datadir,
    log: quiet,
    authenticate: () => true,
    tokenTimeoutMs: 200,
  });
  const idle = await Deno.connect({ transport: "unix", path: listener.path });
  await waitFor(() => listener.unauthenticated === 1, 20_000, "the idle client to be waiting");
  await untilClosed(idle);
  idle.close();
  await waitFor(() => listener.unauthenticated === 0, 20_000, "the idle client to be gone");
  assertEquals(listener.connections, 0);
});

Deno.test("listen: a tokenTimeoutMs past 2^31-1 ms lets a client take its time", async () => {
  using dir = tempDir();
  await using listener = listen(FooInit, "unix", fooInit(), {
    datadir: dir.path,
    log: quiet,
    authenticate: () => true,
    tokenTimeoutMs: 2 ** 31, // setTimeout fired it after 1 ms: the client was dropped
  });
  const conn = await Deno.connect({ transport: "unix", path: listener.path });
  await waitFor(() => listener.unauthenticated === 1, 20_000, "the client to be waiting");
  await new Promise((resolve) => setTimeout(resolve, 100));
  assertEquals(listener.unauthenticated, 1, "still waiting for its token");
  await conn.write(new Uint8Array(TOKEN_BYTES));
  await waitFor(() => listener.connections === 1, 20_000, "the client served");
  conn.close();
  assertThrows(
    () => listen(FooInit, "unix", fooInit(), { datadir: dir.path, tokenTimeoutMs: -1 }),
    RangeError,
    "tokenTimeoutMs is a number of milliseconds",
  );
});

Deno.test("listen: with tokens, clients presenting them at once are served no more than maxConnections", async () => {
  using dir = tempDir();
  await using listener = listen(FooInit, "unix", fooInit(), {
    datadir: dir.path,
    log: quiet,
    authenticate: () => true,
    maxConnections: 2,
  });
  // Three clients send a token together; they then say nothing, holding their slot.
  const conns = await Promise.all(
    [0, 1, 2].map(() => Deno.connect({ transport: "unix", path: listener.path })),
  );
  await Promise.all(conns.map((conn) => conn.write(new Uint8Array(TOKEN_BYTES))));
  await waitFor(() => listener.connections === 2, 20_000, "two clients served");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assertEquals([listener.connections, listener.unauthenticated], [2, 0], "the third waits");
  conns[0]!.close();
  await waitFor(() => listener.unauthenticated + listener.connections === 2, 20_000, "a slot");
  await waitFor(() => listener.connections === 2, 20_000, "the third served");
  for (const conn of conns.slice(1)) conn.close();
});

Deno.test("connect: waits while the listener's backlog is full, fails clearly when told not to", async () => {
  using socket = tempSocket("full");
  const path = socket.path;
  using listener = Deno.listen({ transport: "unix", path });
  // Nobody accepts: fill the backlog until the kernel refuses more.
  const queued: Deno.UnixConn[] = [];
  for (;;) {
    try {
      queued.push(await Deno.connect({ transport: "unix", path }));
    } catch (error) {
      assert(error instanceof Deno.errors.WouldBlock, String(error));
      break;
    }
  }
  await assertRejects(
    () => connect(FooInit, `unix:${path}`, { backlogWaitMs: 0, log: quiet }),
    AddressError,
    `Unable to connect to IPC address 'unix:${path}'. Resource temporarily unavailable`,
  );
  const waiting = connect(FooInit, `unix:${path}`, { backlogWaitMs: 60_000, log: quiet });
  // One accepted makes room for it.
  const accepted = await listener.accept();
  await using init = await waiting;
  assert(init !== undefined);
  accepted.close();
  for (const conn of queued) conn.close();
});

Deno.test("listen: a client that breaks a limit is told so in the log; one that just leaves is not", async () => {
  using dir = tempDir();
  const lines: string[] = [];
  const log = new IpcLog({ level: "info", sink: (line) => lines.push(line) });
  await using listener = listen(FooInit, "unix", fooInit(), { datadir: dir.path, log });
  // A frame header declaring one segment of 2 GiB: over maxMessageBytes at once.
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(4, 0x1000_0000, true);
  // The plain close first: by the time the other's line is written, it would have written one.
  for (const bytes of [new Uint8Array(0), header]) {
    const conn = await Deno.connect({ transport: "unix", path: listener.path! });
    if (bytes.byteLength > 0) await conn.write(bytes);
    else conn.close();
    await waitFor(() => listener.connections === 0, 20_000, "the connection to end");
    if (bytes.byteLength > 0) conn.close();
  }
  const failures = () => lines.filter((line) => line.startsWith("IPC server:"));
  await waitFor(() => failures().length > 0, 20_000, "the log line");
  assertEquals(failures(), [
    "IPC server: connection on unix failed: RpcError: Connection closed: " +
    "message declares 2147483648 bytes; the limit is 67108864",
  ]);
});

Deno.test("listen: a peer's Abort reason reaches the log as one escaped line of bounded length", async () => {
  using dir = tempDir();
  const lines: string[] = [];
  const log = new IpcLog({ level: "info", sink: (line) => lines.push(line) });
  await using listener = listen(FooInit, "unix", fooInit(), { datadir: dir.path, log });
  await using peer = await WirePeer.connect(listener.path!);
  const reason = "bye\nIPC server: forged line\x1b[2J" + "x".repeat(1 << 20);
  await peer.send(buildMessage((root) => root._initAbort().reason = reason));
  await peer.expectEof();
  const failures = () => lines.filter((line) => line.startsWith("IPC server: connection"));
  await waitFor(() => failures().length > 0, 20_000, "the log line");
  assertEquals(lines.length, 2, lines.join("\n").slice(0, 2000)); // "Listening…" and this
  const [line] = failures();
  assert(
    line!.startsWith(
      "IPC server: connection on unix failed: RpcError: bye\\0aIPC server: forged line\\1b[2Jxxx",
    ),
    line!.slice(0, 200),
  );
  assert(line!.endsWith("x..."), line!.slice(-20));
  assertEquals(line!.length, MAX_LINE_CHARS + 3);
});
