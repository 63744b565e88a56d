/**
 * Interop with a C++ peer written with stock libcapnp following
 * libmultiprocess' conventions (tests/cpp/mp_peer.c++):
 *
 * - a C++ client running the minimal libmultiprocess recipe (construct,
 *   makeThread, calls with `context.thread`) against our server;
 * - our client (the conformance suite) against a C++ server that mints
 *   Threads and checks the handles.
 *
 * @module
 */
import { assertEquals, assertRejects } from "../../assert.ts";
import { connect, INTERRUPTED_BY_DISCONNECT, IpcLog, RpcError, Strand } from "../../../mod.ts";
import { FooInit } from "../../../examples/schemas/gen/conformance.mp.ts";
import {
  cppMpPeerPath,
  spawnPeer,
  startFooComponent,
  tempSocket,
  withTimeout,
} from "../../helpers.ts";
import { conformanceSuite } from "./conformance_suite.ts";

const binary = await cppMpPeerPath();
const ignore = binary === null;
if (ignore) console.warn("SKIPPED C++ multiprocess interop: g++ / libcapnp-dev not found");

Deno.test({
  name: "interop: C++ libmultiprocess-recipe client against our server",
  ignore,
  async fn() {
    using socket = tempSocket("foo");
    const path = socket.path;
    await using _server = await startFooComponent(path);
    const client = await new Deno.Command(binary!, { args: ["client", path], stdout: "piped" })
      .output();
    const lines = new TextDecoder().decode(client.stdout).trim().split("\n");
    const failed = lines.filter((line) => line.startsWith("CHECK ") && !line.endsWith(" ok"));
    assertEquals(failed, []);
    assertEquals(lines.filter((line) => line.startsWith("CHECK ")).length >= 24, true);
    assertEquals(lines.at(-1)?.startsWith("DONE "), true);
    assertEquals(client.code, 0);
  },
});

Deno.test({
  name: "interop: our client (conformance suite) against a C++ server minting Threads",
  ignore,
  async fn(t) {
    using socket = tempSocket("cpp-foo");
    const path = socket.path;
    await using server = spawnPeer(binary!, ["server", path]);
    await server.line(/^READY$/);
    await using init = await connect(FooInit, `unix:${path}`, {
      log: new IpcLog({ level: "off" }),
    });
    await conformanceSuite(t, init, true, false);
  },
});

/** A Foo of a C++ server process started for one test, and that process. */
async function cppFoo() {
  const socket = tempSocket("cpp-foo");
  const server = spawnPeer(binary!, ["server", socket.path]);
  await server.line(/^READY$/);
  const init = await connect(FooInit, `unix:${socket.path}`, {
    log: new IpcLog({ level: "off" }),
  });
  const foo = (await init.makeFoo())!;
  return {
    server,
    foo,
    async [Symbol.asyncDispose]() {
      await foo[Symbol.asyncDispose]();
      await init[Symbol.asyncDispose]();
      await server[Symbol.asyncDispose]();
      socket[Symbol.dispose]();
    },
  };
}

Deno.test({
  name:
    "interop: a strand's turn held for a canceled call still running on a C++ thread ends when the peer disconnects",
  ignore,
  async fn() {
    await using cpp = await cppFoo();
    const { server, foo } = cpp;
    const controller = new AbortController();
    const canceled = foo.wait(60_000, 1, { signal: controller.signal });
    controller.abort();
    await assertRejects(() => canceled, DOMException, "aborted");
    // Waits for the C++ thread, which runs the canceled call to its end...
    const next = foo.wait(0, 2);
    server.child.kill("SIGKILL");
    // ...until the peer is gone: then it fails instead of waiting forever.
    await assertRejects(() => next, RpcError, INTERRUPTED_BY_DISCONNECT);
  },
});

Deno.test({
  name:
    "interop: a C++ thread still running a call its caller gave up on gets its callbacks, nested ones too, run on the caller's strand",
  ignore,
  async fn() {
    await using cpp = await cppFoo();
    const { foo } = cpp;
    const strand = new Strand("gives-up");
    await strand.post(async () => {
      let calledBack!: () => void;
      const called = new Promise<void>((resolve) => calledBack = resolve);
      const controller = new AbortController();
      // A callback that calls the C++ Foo again, nested in its thread's
      // call, whose own callback must run here too.
      const given = foo.passFn(async () => {
        const nested = await foo.callback((x) => x * 2, 21);
        calledBack();
        return nested;
      }, { signal: controller.signal });
      controller.abort();
      await assertRejects(() => given, DOMException);
      // The strand's code goes on, waiting for the callback: the C++ thread
      // cannot finish the call without it, so it must run here meanwhile.
      await withTimeout(called, undefined, "the callback of the call given up");
    });
    // The call has returned on the C++ side: the strand's next call goes out.
    assertEquals(await strand.run(() => foo.wait(0, 7)), 7);
  },
});
