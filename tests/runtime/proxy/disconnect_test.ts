/**
 * Disconnects and lifetimes through proxies: libmultiprocess' exact
 * disconnect errors on both sides, destroy after the peer is gone, and
 * server objects released when their client leaves.
 *
 * @module
 */
import { assertEquals, assertRejects } from "../../assert.ts";
import {
  CALLED_AFTER_DISCONNECT,
  INTERRUPTED_BY_DISCONNECT,
  type Remote,
  RpcError,
} from "../../../mod.ts";
import type { Foo, FooCallback, FooInit } from "../../../examples/schemas/gen/conformance.mp.ts";
import { FooImpl } from "../../../examples/foo/foo.ts";
import { waitFor } from "../../helpers.ts";
import { fooPair } from "./helpers.ts";

Deno.test("disconnect: a call after the client closed its connection", async () => {
  const pair = await fooPair();
  await pair.init[Symbol.asyncDispose]();
  const error = await assertRejects(() => pair.foo.add(1, 2), RpcError, CALLED_AFTER_DISCONNECT);
  assertEquals(error.type, "disconnected");
  await pair.stopServer();
});

Deno.test("disconnect: a call after the server went away", async () => {
  await using pair = await fooPair();
  await pair.stopServer();
  await waitFor(async () => {
    try {
      await pair.foo.add(1, 2);
      return false;
    } catch (error) {
      return (error as Error).message === CALLED_AFTER_DISCONNECT;
    }
  });
});

Deno.test("disconnect: a call in flight when the server goes away", async () => {
  await using pair = await fooPair();
  const pending = pair.foo.wait(10_000, 1);
  // Watched from the start: it may reject while the server is still being stopped.
  const rejected = assertRejects(() => pending, RpcError, INTERRUPTED_BY_DISCONNECT);
  await new Promise((r) => setTimeout(r, 50));
  await pair.stopServer();
  assertEquals((await rejected).type, "disconnected");
});

Deno.test("disconnect: calls still waiting for their strand's turn get the same error", async () => {
  await using pair = await fooPair();
  const running = pair.foo.wait(10_000, 1);
  // One strand calls one server thread one call at a time: these wait on the client.
  const waiting = [pair.foo.wait(0, 2), pair.foo.threadName()];
  const rejected = [running, ...waiting].map((pending) =>
    assertRejects(() => pending, RpcError, INTERRUPTED_BY_DISCONNECT)
  );
  await new Promise((r) => setTimeout(r, 50));
  await pair.stopServer();
  for (const error of await Promise.all(rejected)) assertEquals(error.type, "disconnected");
});

Deno.test("disconnect: a call in flight when the client closes its connection", async () => {
  const pair = await fooPair();
  const pending = pair.foo.wait(10_000, 1);
  const rejected = assertRejects(() => pending, RpcError, INTERRUPTED_BY_DISCONNECT);
  await new Promise((r) => setTimeout(r, 50));
  await pair.init[Symbol.asyncDispose]();
  await rejected;
  await pair.stopServer();
});

Deno.test("disconnect: the server's callback is interrupted when its client leaves", async () => {
  let serverSaw: unknown = null;
  let entered!: () => void;
  const inCallback = new Promise<void>((r) => entered = r);
  const counters = { live: 0 };
  class Watching extends FooImpl {
    override async callback(callback: FooCallback | null, arg: number): Promise<number> {
      try {
        return await super.callback(callback, arg);
      } catch (error) {
        serverSaw = error;
        throw error;
      }
    }
  }
  const server: FooInit = { makeFoo: () => new Watching(counters) };
  const pair = await fooPair({ server });
  const call = pair.foo.callback(() => {
    entered();
    return new Promise<number>(() => {}); // never answers
  }, 1);
  call.catch(() => {});
  await inCallback;
  await pair.init[Symbol.asyncDispose]();
  await waitFor(() => serverSaw !== null);
  assertEquals((serverSaw as RpcError).message, INTERRUPTED_BY_DISCONNECT);
  assertEquals((serverSaw as RpcError).type, "disconnected");
  await pair.stopServer();
});

Deno.test("disconnect: destroy after the peer is gone completes quietly", async () => {
  await using pair = await fooPair();
  const child = (await pair.foo.makeChild()) as Remote<Foo>;
  await pair.stopServer();
  await waitFor(() => pair.foo.add(0, 0).then(() => false, () => true));
  await child[Symbol.asyncDispose](); // no throw, no hang
});

Deno.test("lifetime: objects a client leaves behind are released when it disconnects", async () => {
  const counters = { live: 0 };
  const pair = await fooPair({ server: { makeFoo: () => new FooImpl(counters) } });
  await pair.foo.makeChild();
  await pair.foo.makeChild();
  assertEquals(counters.live, 3);
  await pair.init[Symbol.asyncDispose]();
  await waitFor(() => counters.live === 0);
  await pair.stopServer();
});

Deno.test("lifetime: destroy releases the server object before returning", async () => {
  const counters = { live: 0 };
  await using pair = await fooPair({ server: { makeFoo: () => new FooImpl(counters) } });
  const child = (await pair.foo.makeChild()) as Remote<Foo>;
  assertEquals(counters.live, 2);
  const kept = child.dup();
  await child.destroy();
  assertEquals(counters.live, 1);
  await assertRejects(() => child.add(1, 1), RpcError, "used after release");
  // Destroyed for every holder: the other reference's calls fail.
  await assertRejects(() => kept.add(1, 1), RpcError, "Foo was destroyed.");
  kept[Symbol.dispose]();
});
