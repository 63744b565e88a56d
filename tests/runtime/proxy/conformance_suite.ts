/**
 * libmultiprocess' conformance cases (mptest's FooInterface tests) as steps
 * run against any FooInit: the object itself (local calls) or a proxy for
 * one in another process. The behaviour must be the same.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import type { FooInit, FooStruct } from "../../../examples/schemas/gen/conformance.mp.ts";
import { RaisedError, Strand, TypeMappingError } from "../../../mod.ts";
import { registerPoint } from "../../../examples/foo/foo.ts";

const sample: FooStruct = {
  name: "name",
  setint: new Set([2, 1, 3]),
  vbool: [true, false, true],
  optionalInt: 7,
  texts: ["a", "", "ünïcödé"],
  nested: [[1, 2], [], [255]],
  color: "blue",
  blob: new Uint8Array([0, 1, 254, 255]),
};

/** Releases a proxy (its only reference: the object ends) or disposes a local object. */
async function release(value: unknown): Promise<void> {
  const object = value as Partial<AsyncDisposable & Disposable>;
  if (object[Symbol.asyncDispose]) await object[Symbol.asyncDispose]!();
  else object[Symbol.dispose]?.();
}

/** What `call` fails with (`"answered"` when it does not fail). */
function failure(call: unknown): Promise<unknown> {
  return Promise.resolve(call).then(() => "answered", (error: unknown) => error);
}

/**
 * Runs the shared conformance steps against `init`; `remote` adds the
 * checks only a proxy makes (values validated before they are sent).
 * `stopsCanceled` says whether the server stops a call its caller gave up
 * on (ours does; the C++ peer, like libmultiprocess, runs it to the end).
 */
export async function conformanceSuite(
  t: Deno.TestContext,
  init: FooInit,
  remote: boolean,
  stopsCanceled = true,
): Promise<void> {
  registerPoint();
  const foo = (await init.makeFoo())!;
  assert(foo !== null);

  await t.step("add, in/out and output fields", async () => {
    assertEquals(await foo.add(2, 3), 5);
    assertEquals(await foo.add(0x7fffffff, 1), -0x80000000);
    assertEquals(await foo.addInOut(3, 4), { sum: 7 });
    assertEquals(await foo.addOut(6, 7), { sum: 13, product: 42n });
  });

  await t.step("struct round trip: text, sets, lists of bool, optional, nested lists", async () => {
    assertEquals(await foo.pass(sample), sample);
    const cleared = { ...sample };
    delete cleared.optionalInt;
    const back = await foo.pass(cleared);
    assertEquals("optionalInt" in back, false);
    assert(back.setint instanceof Set);
  });

  await t.step("maps (List(Pair))", async () => {
    const map = new Map([["a", "1"], ["b", "2"], ["c", "3"]]);
    assertEquals(await foo.mapSize(map), 3);
    assertEquals(await foo.invertMap(map), new Map([["1", "a"], ["2", "b"], ["3", "c"]]));
  });

  await t.step("every scalar type, with extremes and defaults", async () => {
    const scalars = {
      b: true,
      i8: -128,
      i16: 32767,
      i32: -2147483648,
      i64: -(2n ** 63n),
      u8: 255,
      u16: 65535,
      u32: 4294967295,
      u64: 2n ** 64n - 1n,
      f32: 1.25,
      f64: -0.5,
      withDefault: 0,
      flagOn: false,
    };
    assertEquals(await foo.passScalars(scalars), scalars);
    const defaults = { ...scalars, withDefault: 42, flagOn: true };
    assertEquals(await foo.passScalars(defaults), defaults);
  });

  await t.step("optional values (hasX)", async () => {
    assertEquals(await foo.passOptional(5n), 5n);
    assertEquals(await foo.passOptional(), undefined);
    assertEquals(await foo.passOptional(0n), 0n);
  });

  await t.step("custom type hook (Point carried as Data)", async () => {
    assertEquals(await foo.passPoint({ x: -1, y: 2 ** 31 - 1 }), { x: -1, y: 2 ** 31 - 1 });
  });

  await t.step("exception fields: a struct and a plain error", async () => {
    const error = await assertRejects(() => foo.raise(sample), RaisedError);
    assertEquals(error.value, sample);
    await assertRejects(() => foo.raiseText("it failed"), Error, "it failed");
  });

  await t.step("callbacks: by value, extended interface, saved by the server", async () => {
    assertEquals(await foo.callback((x) => x * 2, 21), 42);
    assertEquals(
      await foo.callbackExtended({ call: (x) => x, callExtended: (x) => x + 100 }, 1),
      101,
    );
    await foo.saveCallback((x) => x + 1);
    assertEquals(await foo.callbackSaved(41), 42);
    assertEquals(await foo.callbackSaved(1), 2);
  });

  await t.step("recursive function callback (calls back into the server)", async () => {
    assertEquals(await foo.passFn(async () => (await foo.addInOut(1, 41)).sum), 42);
    // Two levels deep: the callback's call makes the server call back again.
    assertEquals(
      await foo.passFn(async () =>
        (await foo.callback(async (x) => (await foo.add(x, 1)), 40)) + 1
      ),
      42,
    );
  });

  await t.step("object references: returned, passed back, destroyed", async () => {
    const before = await foo.liveFoos();
    const child = (await foo.makeChild())!;
    assertEquals(await foo.liveFoos(), before + 1);
    assertEquals(await foo.addWith(child, 20, 22), 42);
    await release(child);
    assertEquals(await foo.liveFoos(), before);
  });

  await t.step({
    // A libmultiprocess thread runs one call at a time and (up to Bitcoin
    // Core v30) aborts when handed a second: the client queues them.
    name: "calls made at once from one strand reach its thread one at a time, in order",
    ignore: !remote,
    fn: async () => {
      const before = (await foo.waitLog()).length;
      assertEquals(await Promise.all([foo.wait(60, 1), foo.wait(20, 2), foo.wait(0, 3)]), [
        1,
        2,
        3,
      ]);
      assertEquals((await foo.waitLog()).slice(before), [1, 2, 3]);
    },
  });

  await t.step({
    // Nested while the callback runs; once its call has returned, work it
    // left running calls as the strand's own, behind the strand's next call.
    name: "a call from work a callback left running waits for the strand's call in progress",
    ignore: !remote,
    fn: async () => {
      const before = (await foo.waitLog()).length;
      let leftRunning: Promise<number> | undefined;
      await foo.callback((x: number) => {
        leftRunning = new Promise((resolve) => setTimeout(resolve, 50)).then(() => foo.wait(0, 2));
        return x;
      }, 1);
      assertEquals(await Promise.all([foo.wait(300, 1), leftRunning!]), [1, 2]);
      assertEquals((await foo.waitLog()).slice(before), [1, 2]);
    },
  });

  await t.step(
    "a call given up through its signal fails with the reason at once; the strand's next call waits for the callee",
    async () => {
      const before = (await foo.waitLog()).length;
      const controller = new AbortController();
      const reason = new Error("gave up");
      const waiting = foo.wait(2_000, 1, { signal: controller.signal });
      controller.abort(reason);
      assertEquals(await failure(waiting), reason);
      // Before the callee is done: the canceled wait has logged nothing yet.
      const other = new Strand("other");
      assertEquals((await other.run(() => foo.waitLog())).slice(before), []);
      // A strict C++ thread still running the canceled call would refuse a
      // second one ('!m_fn'): this one is sent once the first has returned.
      assertEquals(await foo.wait(0, 2), 2);
      assertEquals((await foo.waitLog()).slice(before), stopsCanceled ? [2] : [1, 2]);
    },
  );

  await t.step("a call given up while it waits for its strand's turn is never run", async () => {
    const before = (await foo.waitLog()).length;
    const controller = new AbortController();
    const first = foo.wait(100, 3);
    const second = foo.wait(0, 4, { signal: controller.signal });
    controller.abort();
    const error = await failure(second);
    assert(error instanceof DOMException && error.name === "AbortError", String(error));
    assertEquals(await first, 3);
    assertEquals((await foo.waitLog()).slice(before), [3]);
  });

  await t.step({
    name: "a call whose signal has aborted already is not sent; call options are checked",
    ignore: !remote,
    fn: async () => {
      const reason = new Error("too late");
      await assertRejects(
        () => foo.add(1, 2, { signal: AbortSignal.abort(reason) }),
        Error,
        "too late",
      );
      const refused = [
        [3, "got number"],
        [new AbortController().signal, "got a bare AbortSignal"],
        [{ timeout: 5 }, "got { timeout }"],
        [{ signal: "soon" }, "got { signal }"],
      ] as const;
      for (const [options, got] of refused) {
        await assertRejects(
          () => foo.add(1, 2, options as never),
          TypeError,
          `add: the argument after its parameters is its call options ({ signal?: AbortSignal }); ${got}`,
        );
      }
      assertEquals(await foo.add(1, 2, {}), 3);
      assertEquals(await foo.add(1, 2, { signal: new AbortController().signal }), 3);
    },
  });

  await t.step({
    name: "bad values are refused with a clear error, before sending",
    ignore: !remote,
    fn: async () => {
      await assertRejects(
        async () => await foo.add(2 ** 31, 0),
        TypeMappingError,
        "out of range for Int32",
      );
      await assertRejects(async () => await foo.add(1.5, 0), TypeMappingError, "an integer");
      await assertRejects(
        async () => await foo.passOptional(1 as unknown as bigint),
        TypeMappingError,
        "bigint",
      );
      await assertRejects(
        async () => await foo.pass({ ...sample, color: "purple" as "red" }),
        TypeMappingError,
        "not a Color",
      );
      // The object still works afterwards.
      assertEquals(await foo.add(1, 1), 2);
    },
  });

  await release(foo);
}
