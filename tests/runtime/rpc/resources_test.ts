/**
 * Resource limits against hostile peers, each against its own real server
 * process (`tests/fixtures/limited_server.ts`) over real UNIX sockets: the
 * hostile connection is cut off with a clear reason, a well-behaved client
 * on another connection keeps being served, and the server's peak resident
 * memory (`VmHWM` from `/proc/<pid>/status`) stays under a bound that the
 * same attack exceeds many times over without the limits.
 *
 * @module
 */
import { Message as RpcMessage } from "capnp-es/capnp/rpc";
import { RpcConnection } from "../../../runtime/rpc/connection.ts";
import { messageBytes } from "../../../runtime/rpc/message.ts";
import { assert, assertEquals } from "../../assert.ts";
import { BLOBS_INTERFACE_ID, BlobsParams, BlobsResults } from "../../fixtures/limited_server.ts";
import {
  connectTester,
  memoryOf,
  type Peer,
  startLimitedServer,
  type TempPath,
  tempSocket,
  withTimeout,
} from "../../helpers.ts";
import { cutOff, echoTemplate, MARKER, Template, writeWithoutReading } from "../../flood.ts";
import { build, WirePeer } from "../../wire_peer.ts";

const MiB = 1024 * 1024;
/** Peak resident memory a server may reach under any attack here (idle: about 60 MiB). */
const PEAK_BOUND = 320 * MiB;
/** How long any single reply or cut-off may take. */
const REPLY_MS = 15_000;

/** A server process for one test, with a client that must keep being served. */
class Server implements AsyncDisposable {
  readonly socket: TempPath;
  readonly peer: Peer;
  readonly client: Awaited<ReturnType<typeof connectTester>>;

  private constructor(socket: TempPath, peer: Peer, client: Server["client"]) {
    this.socket = socket;
    this.peer = peer;
    this.client = client;
  }

  static async start(limits: Record<string, number> = {}): Promise<Server> {
    const socket = tempSocket("resources");
    const peer = await startLimitedServer(socket.path, "tester", limits);
    const client = await connectTester(socket.path);
    assertEquals(await client.tester.add(1, 1), 2, "first add");
    return new Server(socket, peer, client);
  }

  get path(): string {
    return this.socket.path;
  }

  /** The server process's peak resident memory, in bytes. */
  get peak(): number {
    return memoryOf(this.peer.child.pid).peak;
  }

  assertPeakUnder(bound: number): void {
    const peak = this.peak;
    assert(
      peak < bound,
      `server peak RSS ${(peak / MiB).toFixed(0)} MiB, bound ${(bound / MiB).toFixed(0)} MiB`,
    );
  }

  /** The client opened first and a new one are both served. */
  async assertServing(): Promise<void> {
    const payload = new Uint8Array(1000).map((_, i) => i * 7);
    for (const client of [this.client, await connectTester(this.path)]) {
      assertEquals(await withTimeout(client.tester.add(2, 3), REPLY_MS, "add"), 5);
      const echoed = await withTimeout(client.tester.echo(payload), REPLY_MS, "echo");
      assertEquals(echoed, payload, "echo");
      if (client !== this.client) await client[Symbol.asyncDispose]();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.client[Symbol.asyncDispose]();
    await this.peer[Symbol.asyncDispose]();
    await this.socket[Symbol.asyncDispose]();
  }
}

/**
 * Calls on the well-behaved client until `done` settles; resolves with how
 * many calls were answered, or with the first failure (as a string).
 */
async function keepCalling(server: Server, done: Promise<unknown>): Promise<number | string> {
  let stop = false;
  done.then(() => stop = true, () => stop = true);
  let calls = 0;
  try {
    while (!stop) {
      const sum = await withTimeout(server.client.tester.add(calls, 1), REPLY_MS, "add");
      if (sum !== calls + 1) return `add(${calls}, 1) returned ${sum}`;
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } catch (error) {
    return String(error);
  }
  return calls;
}

/**
 * While `attack` (from {@linkcode writeWithoutReading}) runs, the server's
 * other client is served; the attacker is cut off with a reason matching
 * `reason`, and the server's peak memory stays under the bound.
 */
async function assertCutOff(server: Server, attack: Promise<boolean>, reason: RegExp) {
  const served = keepCalling(server, attack);
  const cut = await attack;
  server.assertPeakUnder(PEAK_BOUND);
  assert(cut, "the peer was never cut off");
  const outcome = await served;
  assert(typeof outcome === "number" && outcome > 0, `the other client: ${outcome}`);
  const closed = await server.peer.line(/^CLOSED /, REPLY_MS);
  assert(reason.test(closed), `unexpected reason: ${closed}`);
  await server.assertServing();
}

for (const finish of [false, true]) {
  Deno.test(
    `a peer that never reads its answers (${finish ? "with" : "without"} Finish) is cut off; ` +
      "the server stays small and serves others",
    async () => {
      await using server = await Server.start();
      const echo = echoTemplate(64 * 1024);
      const finishes = new Template(MARKER, (root) => root._initFinish().questionId = MARKER);
      const bootstrap = new Uint8Array(build.bootstrap(0).toArrayBuffer());
      // Unbounded, the server would queue (and keep) every 64 KiB reply: 512 MiB of them.
      // Finish goes 64 calls behind, for calls that have returned (not to cancel them).
      const attack = writeWithoutReading(server.path, (i) => {
        if (i === 0) return bootstrap;
        const call = echo.set(i);
        if (!finish || i <= 64) return call;
        const both = new Uint8Array(call.byteLength + finishes.bytes.byteLength);
        both.set(call);
        both.set(finishes.set(i - 64), call.byteLength);
        return both;
      }, 512 * MiB);
      await assertCutOff(server, attack, /Peer is not reading|Too many results held/);
    },
  );
}

Deno.test("a peer that never reads and sends unknown messages is cut off; the server stays small", async () => {
  await using server = await Server.start();
  // A 64 KiB Call whose union discriminant is made unknown (42): each is echoed whole.
  const unknown = echoTemplate(64 * 1024).set(1).slice();
  new DataView(unknown.buffer).setUint16(16, 42, true); // header 8 bytes, root pointer 8 bytes
  await assertCutOff(
    server,
    writeWithoutReading(server.path, () => unknown, 512 * MiB),
    /Peer is not reading/,
  );
});

Deno.test("a Bootstrap flood without Finish is aborted; the server stays small", async () => {
  await using server = await Server.start();
  const bootstraps = new Template(MARKER, (root) => root._initBootstrap().questionId = MARKER);
  await using raw = new WirePeer(await Deno.connect({ transport: "unix", path: server.path }));
  // 200 000 Bootstraps, 2000 to a write; their Returns are read, but none is finished.
  const batch = new Uint8Array(2000 * bootstraps.bytes.byteLength);
  let cut = false;
  for (let q = 0; q < 200_000 && !cut; q += 2000) {
    for (let i = 0; i < 2000; i++) {
      batch.set(bootstraps.set(q + i), i * bootstraps.bytes.byteLength);
    }
    cut = await raw.sendBytes(batch).then(() => false, (error) => {
      if (cutOff(error)) return true;
      throw error;
    });
  }
  server.assertPeakUnder(PEAK_BOUND);
  assert(cut, "the peer was never cut off");
  // Bootstraps were answered up to the limit; the server closed with the reason (the
  // Abort itself may be lost to the reset, as Bootstraps were still unread).
  let returns = 0;
  for (;;) {
    const message = await raw.next(REPLY_MS).catch(() => null);
    if (message?.which() !== RpcMessage.RETURN) break;
    returns++;
  }
  assert(returns <= 8192, `${returns} Bootstraps answered; maxUnfinishedAnswers is 8192`);
  const reason = await server.peer.line(/^CLOSED /, REPLY_MS);
  assert(/Too many unfinished answers/.test(reason), `unexpected reason: ${reason}`);
  await server.assertServing();
});

/** A framing header declaring `sizes` (in bytes, multiples of 8). */
function frameHeader(sizes: number[]): Uint8Array {
  const bytes = new Uint8Array((4 + 4 * sizes.length + 7) & ~7);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, sizes.length - 1, true);
  sizes.forEach((size, i) => view.setUint32(4 + 4 * i, size / 8, true));
  return bytes;
}

/**
 * Resolves true once the server has closed `conn` (EOF or reset on read),
 * false if the test closed it first.
 */
async function closedByServer(conn: Deno.Conn): Promise<boolean> {
  const buffer = new Uint8Array(1024);
  try {
    while ((await conn.read(buffer)) !== null) { /* nothing is expected */ }
    return true;
  } catch (error) {
    if (cutOff(error)) return true;
    if (error instanceof Deno.errors.Interrupted || error instanceof Deno.errors.BadResource) {
      return false;
    }
    throw error;
  }
}

Deno.test("headers declaring 511 segments of 128 KiB on 20 connections: memory stays small", async () => {
  // A short frame deadline ends the attack; the memory is checked before it may matter.
  await using server = await Server.start({
    frameTimeoutMs: 3000,
    minFrameBytesPerSecond: 1024 * MiB,
  });
  const header = frameHeader(new Array(511).fill(128 * 1024)); // 64 MiB less 128 KiB each
  const content = new Uint8Array(1024).fill(1);
  const conns = await Promise.all(
    Array.from({ length: 20 }, () => Deno.connect({ transport: "unix", path: server.path })),
  );
  try {
    for (const conn of conns) {
      await conn.write(header);
      await conn.write(content);
    }
    // The server has read every header once it answers calls made after them.
    await server.assertServing();
    server.assertPeakUnder(PEAK_BOUND);
    // Each of them is cut off at the frame deadline.
    const cut = await withTimeout(Promise.all(conns.map(closedByServer)), REPLY_MS, "cut-offs");
    assertEquals(cut, new Array(20).fill(true), "connections cut off");
  } finally {
    for (const conn of conns) conn.close();
  }
  const reason = await server.peer.line(/^CLOSED /, REPLY_MS);
  assert(/frame of 66977792 bytes was not received within \d+ ms/.test(reason), reason);
  server.assertPeakUnder(PEAK_BOUND);
  await server.assertServing();
});

Deno.test("a 60 MiB frame trickled in is cut off at its deadline", async () => {
  await using server = await Server.start({
    frameTimeoutMs: 500,
    minFrameBytesPerSecond: 1024 * MiB,
  });
  using conn = await Deno.connect({ transport: "unix", path: server.path });
  await conn.write(frameHeader([60 * MiB]));
  const closed = closedByServer(conn);
  // 8 bytes every 20 ms: the frame would take years. Stop trickling once cut off.
  let cut = false;
  closed.then(() => cut = true);
  for (let i = 0; i < 250 && !cut; i++) {
    try {
      await conn.write(new Uint8Array(8));
    } catch (error) {
      if (!cutOff(error)) throw error;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert(await withTimeout(closed, REPLY_MS, "the cut-off"), "not cut off");
  const reason = await server.peer.line(/^CLOSED /, REPLY_MS);
  assert(/frame of 62914560 bytes was not received within \d+ ms/.test(reason), reason);
  await server.assertServing();
});

Deno.test("a reply of 60 texts of 1 MiB is built in linear time and arrives intact", async () => {
  using socket = tempSocket("blobs");
  const path = socket.path;
  await using _server = await startLimitedServer(path, "blobs");
  await using rpc = new RpcConnection(await Deno.connect({ transport: "unix", path }));
  using blobs = rpc.bootstrap();
  const request = blobs.request({
    interfaceId: BLOBS_INTERFACE_ID,
    methodId: 0,
    ParamsClass: BlobsParams,
  });
  request.params.count = 60;
  using response = await withTimeout(request.send().response, 60_000, "the 60 MiB reply");
  const results = response.results(BlobsResults);
  // Growing by what each text needs would allocate 1 + 2 + … + 60 MiB (1830 MiB);
  // growing geometrically allocates less than twice the final buffer.
  const used = messageBytes(response.message);
  assert(used >= 60 * MiB, `${used} bytes received`);
  assert(
    results.allocatedBytes <= 4 * used,
    `${(results.allocatedBytes / MiB).toFixed(0)} MiB allocated for ` +
      `${(used / MiB).toFixed(0)} MiB`,
  );
  const texts = results.texts;
  assertEquals(texts.length, 60);
  for (let i = 0; i < 60; i++) {
    const text = texts.get(i);
    assertEquals(text.length, MiB, `text ${i} length`);
    assert(
      text[0] === String.fromCharCode(97 + i % 26) && text.at(-1) === text[0],
      `text ${i} content`,
    );
  }
});
