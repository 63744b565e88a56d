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
import {
  CALLED_AFTER_DISCONNECT,
  connect,
  INTERRUPTED_BY_DISCONNECT,
  IpcLog,
  type Remote,
  RpcError,
  Strand,
} from "../../../mod.ts";
import { type Foo, FooInit } from "../../../examples/schemas/gen/conformance.mp.ts";
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

/**
 * Runs a random mix of calls on `foo` from eight strands, seeded: waits,
 * callbacks nesting further calls, callbacks that return leaving their
 * calls behind, and aborts at random moments. Returns each error other
 * than an abort or an `expected` one, with its count, once every call has
 * settled.
 */
async function randomLoad(
  foo: Remote<Foo>,
  seed: number,
  expected: (error: unknown) => boolean = () => false,
): Promise<Record<string, number>> {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const upTo = (n: number) => Math.floor(random() * n);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const errors: Record<string, number> = {};
  const calls: Promise<unknown>[] = [];
  const track = (call: Promise<unknown>) => {
    calls.push(call.catch((error) => {
      const message = String((error as Error)?.message ?? error);
      if (!(error instanceof DOMException && error.name === "AbortError") && !expected(error)) {
        errors[message] = (errors[message] ?? 0) + 1;
      }
    }));
    return call.catch(() => 0);
  };
  const options = () => {
    if (random() < 0.4) return undefined;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), upTo(30));
    return { signal: controller.signal };
  };
  const call = (depth: number): Promise<unknown> => {
    const kind = random();
    const opts = options();
    if (kind < 0.35) return track(foo.wait(upTo(20), 1, opts));
    if (kind < 0.5) return track(foo.threadName(opts));
    if (depth > 2) return track(foo.add(1, 2));
    if (kind < 0.75) {
      return track(foo.passFn(async () => {
        const inner = Array.from({ length: upTo(3) }, () => call(depth + 1));
        if (random() < 0.7) await Promise.all(inner); // otherwise left behind
        return 1;
      }, opts));
    }
    return track(foo.callback(
      async (x: number) => {
        if (random() < 0.5) await sleep(upTo(20));
        if (random() < 0.5) await call(depth + 1);
        return x;
      },
      3,
      opts,
    ));
  };
  const strands = Array.from({ length: 8 }, (_, i) => new Strand(`random-${i}`));
  await Promise.all(strands.map((strand) =>
    strand.run(async () => {
      for (let round = 0; round < 25; round++) {
        const burst = Array.from({ length: upTo(3) + 1 }, () => call(0));
        if (random() < 0.8) await Promise.all(burst);
      }
    })
  ));
  // Calls left behind may start others: wait until no new ones appear.
  for (let settled = 0; settled < calls.length;) {
    const count = calls.length;
    await withTimeout(Promise.all(calls.slice(settled)), undefined, "every call to settle");
    settled = count;
  }
  for (const strand of strands) strand[Symbol.dispose]();
  return errors;
}

Deno.test({
  name:
    "interop: random calls from strands, with nested callbacks, calls left behind and aborts, never reach a busy C++ thread, and all settle",
  ignore,
  async fn() {
    for (const seed of [1, 2, 3]) {
      await using cpp = await cppFoo();
      // A second call posted to a busy thread fails with the C++ assertion's message.
      assertEquals(await randomLoad(cpp.foo, seed), {}, `seed ${seed}`);
    }
  },
});

Deno.test({
  name:
    "interop: random calls from strands all settle, with a disconnect at most, when the C++ peer is killed among them",
  ignore,
  async fn() {
    const disconnected = (error: unknown) =>
      error instanceof RpcError &&
      [INTERRUPTED_BY_DISCONNECT, CALLED_AFTER_DISCONNECT].some((m) => error.message.includes(m));
    for (const [seed, ms] of [[1, 50], [2, 150], [3, 300]]) {
      await using cpp = await cppFoo();
      const timer = setTimeout(() => cpp.server.child.kill("SIGKILL"), ms);
      try {
        assertEquals(await randomLoad(cpp.foo, seed!, disconnected), {}, `seed ${seed}`);
      } finally {
        clearTimeout(timer);
      }
    }
  },
});
