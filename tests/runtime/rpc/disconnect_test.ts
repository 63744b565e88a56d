/**
 * Peer death mid-call (SIGKILL), in both directions, against real processes:
 * pending calls reject as `disconnected`, later calls reject without reaching
 * the wire, and a server outlives its clients. (How fast is measured by the
 * benchmarks, never asserted here.)
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { RpcError } from "../../../runtime/rpc/errors.ts";
import {
  connectTester,
  cppPeerPath,
  type Peer,
  spawnDenoClient,
  spawnPeer,
  startCppTester,
  startDenoTester,
  tempSocket,
  waitFor,
} from "../../helpers.ts";

const cpp = await cppPeerPath();

async function serverDiesMidCall(start: (path: string) => Promise<Peer>) {
  using socket = tempSocket("tester");
  const path = socket.path;
  await using server = await start(path);
  await using client = await connectTester(path);
  assertEquals(await client.tester.add(1, 2), 3);
  const pending = [client.tester.wait(10_000), client.tester.wait(10_000)];
  // Calls on one capability are delivered in order: once add() is answered,
  // both waits are running on the server.
  assertEquals(await client.tester.add(2, 2), 4);
  server.child.kill("SIGKILL");
  for (const call of pending) {
    const error = await assertRejects(() => call, RpcError);
    assertEquals(error.type, "disconnected");
  }
  assert(client.rpc.isClosed);
  const later = await assertRejects(() => client.tester.add(1, 1), RpcError);
  assertEquals(later.type, "disconnected");
}

Deno.test("server (Deno process) killed mid-call: client calls reject as disconnected", () =>
  serverDiesMidCall(startDenoTester));

Deno.test({
  name: "server (C++ process) killed mid-call: client calls reject as disconnected",
  ignore: cpp === null,
}, () => serverDiesMidCall((path) => startCppTester(cpp!, path)));

Deno.test("server killed under a separate Deno client process: it sees the disconnect", async () => {
  using socket = tempSocket("tester");
  const path = socket.path;
  await using server = await startDenoTester(path);
  await using client = spawnDenoClient("expect-disconnect", path);
  await client.line(/^CALLING$/);
  server.child.kill("SIGKILL");
  const [, , type] = (await client.line(/^DISCONNECTED /)).split(" ");
  assertEquals(type, "disconnected");
  const [, , laterType] = (await client.line(/^LATER-CALL /)).split(" ");
  assertEquals(laterType, "disconnected");
});

async function clientDiesMidCall(spawnClient: (path: string) => Peer, ready: RegExp | null) {
  using socket = tempSocket("tester");
  const path = socket.path;
  await using _server = await startDenoTester(path);
  await using observer = await connectTester(path);
  const before = await observer.tester.canceledCount();
  const client = spawnClient(path);
  // The Deno client says when its wait() is running; the C++ one kills itself then.
  if (ready) {
    await client.line(ready);
    client.child.kill("SIGKILL");
  }
  await client.child.status;
  await waitFor(
    async () => await observer.tester.canceledCount() > before,
    30_000,
    "the server to cancel the dead client's call",
  );
  assertEquals(await observer.tester.add(40, 2), 42, "the server keeps serving");
  await client[Symbol.asyncDispose]();
}

Deno.test("client (Deno process) killed mid-call: the server cancels it and keeps serving", () =>
  clientDiesMidCall((path) => spawnDenoClient("wait", path), /^CALLING$/));

Deno.test({
  name: "client (C++ process) killed mid-call: the server cancels it and keeps serving",
  ignore: cpp === null,
}, () => clientDiesMidCall((path) => spawnPeer(cpp!, ["die-mid-call", path]), null));

Deno.test("a connection closed by this side says so, and the peer cancels the calls it was running", async () => {
  using socket = tempSocket("tester");
  await using _server = await startDenoTester(socket.path);
  await using client = await connectTester(socket.path);
  const pending = client.tester.wait(10_000);
  // Calls on one capability are delivered in order: once add() is answered, the wait runs.
  assertEquals(await client.tester.add(1, 2), 3);
  await client.rpc.close();
  const error = await assertRejects(() => pending, RpcError);
  assertEquals([error.type, error.message], ["disconnected", "Connection closed by this side."]);
  assertEquals((await client.rpc.closed).message, "Connection closed by this side.");
  // The server process saw its peer go: its wait was canceled.
  await using other = await connectTester(socket.path);
  await waitFor(async () => await other.tester.canceledCount() === 1);
});
