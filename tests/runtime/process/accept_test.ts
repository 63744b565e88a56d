/**
 * Accept loops that survive running out of descriptors, with real
 * processes: a server started under `prlimit --nofile=64` gets a burst of
 * connections (more than it has descriptors for), so `accept` fails with
 * EMFILE; the server must keep running and, once the burst is gone, serve
 * a client as before. Run for the plain Tester server and for a component's
 * `listen()`.
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import {
  connectTester,
  type Peer,
  processGone,
  startDenoTester,
  startFooComponent,
  tempSocket,
  waitFor,
} from "../../helpers.ts";
import { connect, IpcLog } from "../../../mod.ts";
import { FooInit } from "../../../examples/schemas/gen/conformance.mp.ts";

const BURST = 200;

/**
 * Sends a burst of connections that outnumbers the descriptors of `server`
 * (listening on `path`); waits until it reports EMFILE (and nothing but
 * accept failures and `expected` lines), closes the burst, then checks that
 * `served` works and the server still runs.
 */
async function survivesBurst(
  server: Peer,
  path: string,
  expected: RegExp,
  served: () => Promise<void>,
): Promise<void> {
  const conns = [];
  for (let i = 0; i < BURST; i++) conns.push(await Deno.connect({ transport: "unix", path }));
  await waitFor(
    () => server.errors.some((line) => line.includes("Too many open files")),
    20_000,
    "an EMFILE report",
  );
  assertEquals(server.errors.filter((line) => !expected.test(line)), []);
  for (const conn of conns) conn.close();
  await served();
  assert(!processGone(server.child.pid));
}

Deno.test("accept: the plain server survives EMFILE under a burst and serves afterwards", async () => {
  using socket = tempSocket("tester");
  const path = socket.path;
  await using server = await startDenoTester(path, { openFiles: 64, collectStderr: true });
  await survivesBurst(server, path, /^accept failed: /, async () => {
    await using client = await connectTester(path);
    assertEquals(await client.tester.add(2, 3), 5);
  });
});

Deno.test("accept: a component's listener survives EMFILE under a burst and serves afterwards", async () => {
  using socket = tempSocket("foo");
  const path = socket.path;
  await using component = await startFooComponent(path, { openFiles: 64, collectStderr: true });
  await survivesBurst(component, path, /^(Listening|IPC server: accept failed)/, async () => {
    await using init = await connect(FooInit, `unix:${path}`, {
      log: new IpcLog({ level: "off" }),
    });
    assertEquals(await (await init.makeFoo())!.add(20, 22), 42);
  });
});
