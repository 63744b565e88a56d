/**
 * The behavioural checks of a Tester server, run by this engine as client
 * against any implementation (the Deno one and the C++ reference).
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { callbackOf, callCallback } from "../../../examples/tester.ts";
import { RpcError } from "../../../runtime/rpc/errors.ts";
import { connectTester, waitFor } from "../../helpers.ts";
import type { TesterClient } from "../../../examples/tester.ts";

/**
 * Registers one step per behaviour against a Tester: the one listening at
 * `path`, or the client `connect` gives.
 */
export async function testerSuite(
  t: Deno.TestContext,
  path: string | (() => Promise<{ tester: TesterClient } & AsyncDisposable>),
): Promise<void> {
  await using client = await (typeof path === "string" ? connectTester(path) : path());
  const { tester } = client;

  await t.step("bootstrap and call", async () => {
    assertEquals(await tester.add(2, 3), 5);
    assertEquals(await tester.add(0x7fffffff, 1), -0x80000000);
  });

  await t.step("pipelining: calls on a capability before its call returns", async () => {
    const { counter, done } = tester.makeCounter(10n);
    using _ = counter;
    const first = counter.next();
    const second = counter.next();
    assertEquals([await first, await second], [11n, 12n]);
    await done;
  });

  await t.step("returned capability", async () => {
    const { counter, done } = tester.makeCounter(100n);
    await done;
    using _ = counter;
    assertEquals(await counter.next(), 101n);
  });

  await t.step("callback capability passed client → server, called in order", async () => {
    const seen: bigint[] = [];
    using callback = callbackOf((value) => {
      seen.push(value);
      return value * 10n;
    });
    assertEquals(await tester.callBack(callback, 4), 100n);
    assertEquals(seen, [1n, 2n, 3n, 4n]);
  });

  await t.step("exception type and message", async () => {
    const types = ["failed", "overloaded", "disconnected", "unimplemented"] as const;
    for (const [index, type] of types.entries()) {
      const error = await assertRejects(() => tester.fail(index, `boom-${type}`), RpcError);
      assertEquals(error.type, type);
      assert(error.message.includes(`boom-${type}`), error.message);
      assert(error.remote);
    }
    assertEquals(await tester.add(1, 1), 2, "connection usable after exceptions");
  });

  await t.step("interface inheritance dispatches by (interface id, method id)", async () => {
    assertEquals(await tester.describe(), "extended");
    assertEquals(await tester.add(20, 22), 42);
  });

  await t.step("release: the server's live objects return to zero", async () => {
    const counters = Array.from({ length: 5 }, (_, i) => tester.makeCounter(BigInt(i)));
    for (const { counter } of counters) await counter.next();
    await Promise.all(counters.map((c) => c.done));
    assertEquals(await tester.liveObjects(), 5);
    for (const { counter } of counters) counter.dispose();
    await waitFor(async () => await tester.liveObjects() === 0, 20_000, "live objects to reach 0");
  });

  await t.step("a callback held by the server is released on request", async () => {
    using callback = callbackOf((v) => v);
    await tester.hold(callback);
    assertEquals(await tester.liveObjects(), 1);
    assertEquals(await tester.releaseHeld(), 1);
    assertEquals(await tester.liveObjects(), 0);
  });

  await t.step("64 concurrent calls", async () => {
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) => tester.add(i, 1000)));
    assertEquals(results, Array.from({ length: 64 }, (_, i) => i + 1000));
  });

  await t.step("1 MiB payload", async () => {
    const payload = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 255);
    assertEquals(await tester.echo(payload), payload);
    assertEquals(await tester.echoText("héllo"), "héllo");
  });

  await t.step(
    "large payloads in flight at once come back whole, whatever their length",
    async () => {
      // Sent from where they are as segments of their own, some not a whole
      // number of words; the Deno server sends each back from its receive
      // buffer, which must not be reused before that write is done.
      const sizes = [65_536, 65_537, 200_003, 1 << 20, 300_000, 1_500_001, 131_072, 70_001];
      const payloads = sizes.map((size, k) =>
        new Uint8Array(size).map((_, i) => (i * 13 + k) & 255)
      );
      for (let round = 0; round < 3; round++) {
        const echoed = await Promise.all(payloads.map((payload) => tester.echo(payload)));
        echoed.forEach((bytes, k) => assert(bytes.join() === payloads[k].join(), `payload ${k}`));
      }
      assertEquals(await tester.echoSize(payloads[3]), 1 << 20);
    },
  );

  await t.step("cancellation: an aborted call stops on the server", async () => {
    const before = await tester.canceledCount();
    const controller = new AbortController();
    // Far longer than the test may take: had the caller waited for it, the call would not reject.
    const call = tester.wait(600_000, controller.signal);
    setTimeout(() => controller.abort(), 50);
    await assertRejects(() => call, RpcError, "canceled");
    await waitFor(async () => await tester.canceledCount() > before, 20_000, "server-side cancel");
  });

  await t.step("a capability returned to its owner: pipelined calls keep their order", async () => {
    const seen: bigint[] = [];
    using callback = callbackOf((value) => {
      seen.push(value);
      return value * 10n;
    });
    const { callback: back, done } = tester.echoCap(callback);
    using _ = back;
    const first = callCallback(back, 1n);
    const second = callCallback(back, 2n);
    await done;
    const third = callCallback(back, 3n);
    assertEquals([await first, await second, await third], [10n, 20n, 30n]);
    assertEquals(seen, [1n, 2n, 3n]);
  });
}
