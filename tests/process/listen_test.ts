/**
 * listen's connection limit: libmultiprocess' ListenConnections cases.
 *
 * @module
 */
import { assertEquals } from "../assert.ts";
import { connect, IpcLog, listen } from "../../mod.ts";
import { FooInit } from "../../schemas/gen/conformance.mp.ts";
import { fooInit } from "../../examples/foo/foo.ts";
import { waitFor } from "../helpers.ts";

const quiet = new IpcLog({ level: "off" });

Deno.test("listen: accepts several connections at once", async () => {
  const datadir = await Deno.makeTempDir();
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

/** A listener limited to one connection, with a first client already served. */
async function servingOne() {
  const datadir = await Deno.makeTempDir();
  const listener = listen(FooInit, "unix", fooInit(), { datadir, maxConnections: 1, log: quiet });
  const first = await connect(FooInit, "unix", { datadir });
  await (await first.makeFoo())!.add(1, 1);
  return {
    datadir,
    listener,
    first,
    [Symbol.asyncDispose]: () => listener[Symbol.asyncDispose](),
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
