/**
 * Peer death mid-call (SIGKILL), in both directions, against real processes:
 * pending calls reject within 100 ms as `disconnected`, later calls reject at
 * once, and a server outlives its clients.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { RpcError } from "../../runtime/rpc/errors.ts";
import {
  connectTester,
  cppPeerPath,
  epochMs,
  type Peer,
  spawnDenoClient,
  spawnPeer,
  startCppTester,
  startDenoTester,
  tempSocketPath,
  waitFor,
} from "../helpers.ts";

const DISCONNECT_BOUND_MS = 100;
const cpp = await cppPeerPath();

async function serverDiesMidCall(start: (path: string) => Promise<Peer>) {
  const path = tempSocketPath("tester");
  await using server = await start(path);
  await using client = await connectTester(path);
  assertEquals(await client.tester.add(1, 2), 3);
  const pending = [client.tester.wait(10_000), client.tester.wait(10_000)];
  await new Promise((r) => setTimeout(r, 100)); // let the calls reach the server
  server.child.kill("SIGKILL");
  const killedAt = performance.now();
  for (const call of pending) {
    const error = await assertRejects(() => call, RpcError);
    assertEquals(error.type, "disconnected");
  }
  const elapsed = performance.now() - killedAt;
  assert(elapsed < DISCONNECT_BOUND_MS, `pending calls rejected after ${elapsed.toFixed(1)} ms`);
  const laterStart = performance.now();
  const later = await assertRejects(() => client.tester.add(1, 1), RpcError);
  assertEquals(later.type, "disconnected");
  assert(performance.now() - laterStart < 20, "a call after the disconnect did not reject at once");
  assert(client.rpc.isClosed);
}

Deno.test("server (Deno process) killed mid-call: client calls reject within 100 ms", () =>
  serverDiesMidCall(startDenoTester));

Deno.test({
  name: "server (C++ process) killed mid-call: client calls reject within 100 ms",
  ignore: cpp === null,
}, () => serverDiesMidCall((path) => startCppTester(cpp!, path)));

Deno.test("server killed under a separate Deno client process: it sees the disconnect within 100 ms", async () => {
  const path = tempSocketPath("tester");
  await using server = await startDenoTester(path);
  await using client = spawnDenoClient("expect-disconnect", path);
  await client.line(/^CALLING$/);
  await new Promise((r) => setTimeout(r, 100));
  server.child.kill("SIGKILL");
  const killedAt = epochMs();
  const [, at, type] = (await client.line(/^DISCONNECTED /)).split(" ");
  assertEquals(type, "disconnected");
  const elapsed = Number(at) - killedAt;
  assert(
    elapsed < DISCONNECT_BOUND_MS,
    `the client process saw the disconnect after ${elapsed} ms`,
  );
  const [, laterMs, laterType] = (await client.line(/^LATER-CALL /)).split(" ");
  assertEquals(laterType, "disconnected");
  assert(Number(laterMs) < 20, `a later call took ${laterMs} ms to reject`);
});

async function clientDiesMidCall(spawnClient: (path: string) => Peer, ready: RegExp | null) {
  const path = tempSocketPath("tester");
  await using _server = await startDenoTester(path);
  await using observer = await connectTester(path);
  const before = await observer.tester.canceledCount();
  const client = spawnClient(path);
  if (ready) await client.line(ready);
  await new Promise((r) => setTimeout(r, 100)); // let the client's wait() reach the server
  client.child.kill("SIGKILL");
  const killedAt = performance.now();
  await client.child.status;
  await waitFor(
    async () => await observer.tester.canceledCount() > before,
    2000,
    "the server to cancel the dead client's call",
  );
  const elapsed = performance.now() - killedAt;
  assert(
    elapsed < DISCONNECT_BOUND_MS,
    `the server canceled the call after ${elapsed.toFixed(1)} ms`,
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
