/**
 * Ownership of capabilities passed as parameters: lent to the server method
 * for the duration of the call and released when it returns (never left to
 * the garbage collector), kept beyond it only through `dup()`; the caller
 * keeps its own reference, proxy or local object, whatever the server does.
 *
 * @module
 */
import { assertEquals, assertRejects } from "../../assert.ts";
import {
  Capability,
  clientOf,
  destroy,
  dup,
  type Owned,
  registerType,
  release,
  type Remote,
  type RemoteValue,
  RpcError,
  serverOf,
  Strand,
} from "../../../mod.ts";
import type { Foo, FooCallback, FooInit } from "../../../examples/schemas/gen/conformance.mp.ts";
import {
  Foo as FooDescriptor,
  FooInit as FooInitDescriptor,
} from "../../../examples/schemas/gen/conformance.mp.ts";
import { type FooCounters, FooImpl } from "../../../examples/foo/foo.ts";
import { waitFor } from "../../helpers.ts";
import { fooPair } from "./helpers.ts";
import { schemaPair } from "../schema/helpers.ts";

Deno.test("ownership: a capability parameter is released as soon as its call returns", async () => {
  await using pair = await fooPair();
  const before = await pair.foo.liveFoos();
  const child = (await pair.foo.makeChild()) as Remote<Foo>;
  assertEquals(await pair.foo.addWith(child, 40, 2), 42);
  child[Symbol.dispose]();
  // Calls on one connection arrive in order, so the Release went first: the
  // server side holds no reference of its own to the child any more.
  assertEquals(await pair.foo.liveFoos(), before);
});

Deno.test("ownership: a local object passed as a parameter is lent: the server's release leaves the caller's", async () => {
  await using pair = await fooPair();
  let released = 0;
  const extended = {
    call: (x: number) => x,
    callExtended: (x: number) => x + 1,
    [Symbol.dispose]: () => released++,
  };
  assertEquals(await pair.foo.callbackExtended(extended, 1), 2);
  // The server's Release follows its Return; one more round trip lets it land.
  await pair.foo.add(0, 0);
  assertEquals(released, 0, "the server's release did not end the caller's object");
  assertEquals(await pair.foo.callbackExtended(extended, 2), 3, "passed again");
  await pair.foo.add(0, 0);
  release(extended);
  assertEquals(released, 1, "the caller's own release ends it");
});

Deno.test("ownership: a local object kept by the server outlives the caller's release", async () => {
  await using pair = await fooPair();
  let released = 0;
  const callback = Object.assign((x: number) => x * 2, { [Symbol.dispose]: () => released++ });
  await pair.foo.saveCallback(callback);
  release(callback);
  assertEquals(released, 0, "the server holds a reference of its own");
  assertEquals(await pair.foo.callbackSaved(21), 42);
  await pair.foo.saveCallback(null);
  await waitFor(() => released === 1);
});

/** A Foo that keeps its callback without `dup()`, as a buggy implementation would. */
class ForgetfulFoo extends FooImpl {
  #kept: FooCallback | null = null;
  override saveCallback(callback: FooCallback | null): void {
    this.#kept = callback;
  }
  override async callbackSaved(arg: number): Promise<number> {
    return await this.#kept!(arg);
  }
}

Deno.test("ownership: a parameter kept without dup() fails with a clear error afterwards", async () => {
  const counters: FooCounters = { live: 0 };
  const server: FooInit = { makeFoo: () => new ForgetfulFoo(counters) };
  await using pair = await fooPair({ server });
  await pair.foo.saveCallback((x) => x);
  const error = await assertRejects(() => pair.foo.callbackSaved(1), RpcError);
  assertEquals(
    error.message.endsWith(
      "FooCallback parameter used after its call returned; keep it with dup().",
    ),
    true,
    error.message,
  );
});

Deno.test("ownership: a parameter kept with dup() outlives the call until released", async () => {
  await using pair = await fooPair();
  let calls = 0;
  await pair.foo.saveCallback((x) => (calls++, x * 3));
  assertEquals(await pair.foo.callbackSaved(5), 15);
  assertEquals(await pair.foo.callbackSaved(6), 18);
  assertEquals(calls, 2);
});

Deno.test("ownership: a released or destroyed proxy passed as a parameter fails the call with the proxy's own error", async () => {
  await using pair = await fooPair();
  for (const end of [release, destroy]) {
    const child = (await pair.foo.makeChild()) as Remote<Foo>;
    await end(child);
    await assertRejects(
      () => pair.foo.addWith(child, 1, 2),
      RpcError,
      "Foo proxy used after release.",
    );
  }
  assertEquals(await pair.foo.add(1, 2), 3, "nothing else failed");
});

Deno.test("ownership: await using releases one reference; a dup() keeps the object", async () => {
  const counters: FooCounters = { live: 0 };
  await using pair = await fooPair({ server: { makeFoo: () => new FooImpl(counters) } });
  const child = (await pair.foo.makeChild()) as Remote<Foo>;
  const kept = child.dup();
  {
    await using _released = child;
  }
  await assertRejects(() => child.add(1, 1), RpcError, "used after release");
  assertEquals(await kept.add(2, 3), 5);
  assertEquals(await pair.foo.liveFoos(), 2);
  kept[Symbol.dispose]();
  // The Release of the last reference goes before the next call on the connection.
  assertEquals(await pair.foo.liveFoos(), 1);
});

Deno.test("ownership: an object returned twice, a dup() each time, lives until both results and its other holders are released", async () => {
  // In this process, where a release lands at once.
  const counters: FooCounters = { live: 0 };
  const shared = new FooImpl(counters);
  const init = clientOf(
    FooInitDescriptor,
    Capability.fromServer(serverOf(FooInitDescriptor, { makeFoo: () => dup(shared) })),
  );
  const holder = dup(shared); // another holder, beside its creator
  const first = (await init.makeFoo())!;
  const second = (await init.makeFoo())!;
  release(first);
  release(holder);
  assertEquals(await second.add(2, 3), 5);
  release(second);
  assertEquals(counters.live, 1, "its creator holds it");
  release(shared);
  assertEquals(counters.live, 0);
  release(init);
});

Deno.test("ownership: an object returned again without dup() fails that call, with what to do", async () => {
  const counters: FooCounters = { live: 0 };
  const shared = new FooImpl(counters);
  await using pair = await fooPair({ server: { makeFoo: () => shared } });
  // The first result took the only reference: a second has none to hand over.
  await assertRejects(
    () => pair.init.makeFoo(),
    RpcError,
    "a Foo object was handed over again without dup(): each result hands over a reference of " +
      "its own (a method that keeps an object it returns returns dup() of it)",
  );
  assertEquals(await pair.foo.add(2, 3), 5, "the first result still calls it");
  pair.foo[Symbol.dispose]();
  await waitFor(() => counters.live === 0);
});

Deno.test("ownership: a local object passed twice at once is one object to the peer", async () => {
  await using pair = await fooPair();
  let released = 0;
  let calls = 0;
  const callback = Object.assign((x: number) => (calls++, x), {
    [Symbol.dispose]: () => released++,
  });
  const results = await Promise.all([
    pair.foo.callback(callback, 1),
    pair.foo.callback(callback, 2),
  ]);
  assertEquals(results, [1, 2]);
  assertEquals(calls, 2);
  await pair.foo.add(0, 0);
  assertEquals(released, 0, "lent both times: the caller still holds it");
  release(callback);
  assertEquals(released, 1);
});

Deno.test("ownership: returning an object whose last reference was released is a clear error", async () => {
  const counters: FooCounters = { live: 0 };
  const shared = new FooImpl(counters);
  // A buggy server: hands out the same object every time, without dup().
  await using pair = await fooPair({ server: { makeFoo: () => shared } });
  assertEquals(await pair.foo.add(1, 2), 3);
  await pair.foo[Symbol.asyncDispose]();
  await waitFor(() => counters.live === 0);
  await assertRejects(
    async () => await pair.init.makeFoo(),
    RpcError,
    "a disposed Foo object was written into a call",
  );
});

Deno.test("ownership: a call holds its object: a proxy released right after a call still gets its answer", async () => {
  await using pair = await fooPair();
  const child = (await pair.foo.makeChild()) as Remote<Foo>;
  const answer = child.add(1, 2);
  release(child);
  assertEquals(await answer, 3);
  // The everyday form: `using` in a function returning the call's promise.
  const sum = async (a: number, b: number) => {
    using foo = (await pair.foo.makeChild()) as Remote<Foo>;
    return foo.add(a, b);
  };
  assertEquals(await sum(2, 3), 5);
  await waitFor(async () => await pair.foo.liveFoos() === 1);
});

Deno.test("ownership: a call holds its object in this process too", async () => {
  const counters: FooCounters = { live: 0 };
  const foo = clientOf(
    FooDescriptor,
    Capability.fromServer(serverOf(FooDescriptor, new FooImpl(counters))),
  );
  const answer = foo.add(1, 2);
  release(foo);
  assertEquals(counters.live, 1, "not ended while its call runs");
  assertEquals(await answer, 3);
  await waitFor(() => counters.live === 0);
});

Deno.test("ownership: calls waiting for their strand's turn hold their object past a release", async () => {
  await using pair = await fooPair();
  const child = (await pair.foo.makeChild()) as Remote<Foo>;
  // One strand, one server thread: the second call waits on the client.
  const first = child.wait(30, 1);
  const second = child.wait(1, 2);
  release(child);
  assertEquals(await Promise.all([first, second]), [1, 2]);
  // A new object (it may get the freed export id) saw none of those calls.
  const fresh = (await pair.foo.makeChild()) as Remote<Foo>;
  assertEquals(await fresh.waitLog(), []);
  release(fresh);
  assertEquals(await pair.foo.add(1, 2), 3, "the connection is intact");
});

Deno.test("ownership: destroy() from another strand fails the calls still queued with one line, and nothing else", async () => {
  await using pair = await fooPair();
  const child = (await pair.foo.makeChild()) as Remote<Foo>;
  const first = child.wait(50, 1);
  const queued = child.wait(1, 2);
  const destroyed = new Strand("other").run(() => child.destroy());
  assertEquals(await first, 1);
  await assertRejects(() => queued, RpcError, "Foo was destroyed.");
  await destroyed;
  assertEquals(await pair.foo.add(1, 2), 3, "the connection is intact");
});

Deno.test("ownership: destroy() of a local object the peer holds ends it for the peer, disposed once", async () => {
  await using pair = await fooPair();
  let disposals = 0;
  let calls = 0;
  const callback = Object.assign((x: number) => (calls++, x * 2), {
    [Symbol.dispose]: () => disposals++,
  });
  await pair.foo.saveCallback(callback); // the server keeps a dup()
  await destroy(callback);
  assertEquals(disposals, 1);
  await assertRejects(() => pair.foo.callbackSaved(21), RpcError, "FooCallback was destroyed.");
  assertEquals(calls, 0, "the destroyed object was not called");
  await pair.foo.saveCallback(null); // the server releases its reference
  await pair.foo.add(0, 0);
  assertEquals(disposals, 1, "the server's release does not dispose it again");
});

Deno.test("ownership: capabilities in struct fields and in several results are typed as owned proxies", () => {
  // Checked by the type checker (`deno test` checks before it runs): the
  // caller owns these, so they have dup(), release, and promise methods.
  const owned = (
    holder: RemoteValue<{ name: string; foo: Foo | null }>,
    results: RemoteValue<{ a: Owned<Foo> | null; b: Owned<Foo> | null }>,
    list: RemoteValue<(Owned<Foo> | null)[]>,
  ): Promise<number>[] => {
    using kept = holder.foo!.dup();
    // @ts-expect-error -- plain data stays plain.
    holder.name.dup();
    return [kept.add(1, 2), results.a!.add(1, 2), list[0]!.add(1, 2)];
  };
  assertEquals(typeof owned, "function");
});

Deno.test("ownership: destroy() of a plain function the peer holds ends it for the peer", async () => {
  await using pair = await fooPair();
  let calls = 0;
  const callback = (x: number) => (calls++, x * 2);
  await pair.foo.saveCallback(callback);
  await destroy(callback);
  await assertRejects(() => pair.foo.callbackSaved(21), RpcError, "FooCallback was destroyed.");
  assertEquals(calls, 0);
  await pair.foo.saveCallback(null);
});

Deno.test("ownership: a local object in a call never sent is released with it", async () => {
  await using pair = await fooPair();
  const { foo } = pair;
  let disposed = 0;
  const local = () => ({
    call: (x: number) => x,
    callExtended: (x: number) => x,
    add: (a: number, b: number) => a + b,
    [Symbol.dispose]: () => void disposed++,
  });
  // Given up while it waited for its strand's turn.
  const controller = new AbortController();
  const first = foo.wait(50, 3);
  const queued = local();
  const given = foo.callbackExtended(queued, 1, { signal: controller.signal });
  controller.abort();
  await assertRejects(() => given, DOMException);
  await first;
  release(queued);
  assertEquals(disposed, 1, "the call's reference went with it: the caller's release was the last");
  // Refused for a bad value written after the object.
  const refused = local();
  await assertRejects(() => foo.addWith(refused as never, 2 ** 31, 0), Error, "out of range");
  release(refused);
  assertEquals(disposed, 2);
});

Deno.test("ownership: a capability read before a result field that fails to decode is released, not left to the garbage collector", async () => {
  registerType<never, Uint8Array>("Unreadable", {
    encode: () => new Uint8Array(1),
    decode: () => {
      throw new RangeError("unreadable");
    },
  });
  const schema = `@0xa1b2c3d4e5f6078c;
using Proxy = import "/mp/proxy.capnp";
using Mapping = import "/mapping.capnp";
interface Maker {
  make @0 (context :Proxy.Context) -> (obj :Obj, bad :Data $Mapping.type("Unreadable"));
  ping @1 (context :Proxy.Context) -> ();
}
interface Obj {
  id @0 (context :Proxy.Context) -> (result :Int32);
}
interface Init {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  make @1 (context :Proxy.Context) -> (result :Maker);
}
`;
  let disposed = 0;
  const maker = {
    make: () => ({ obj: { id: () => 7, [Symbol.dispose]: () => disposed++ }, bad: undefined }),
    ping: () => {},
  };
  await using pair = await schemaPair("maker", () => maker, schema);
  const remote = pair.remote as unknown as { make(): Promise<unknown>; ping(): Promise<void> };
  await assertRejects(() => remote.make(), RangeError, "unreadable");
  // Calls on one connection arrive in order: the Release went before this one.
  await remote.ping();
  assertEquals(disposed, 1);
});

Deno.test("ownership: a result that fails to write releases the objects it would have handed over", async () => {
  const schema = `@0xa1b2c3d4e5f6078d;
using Proxy = import "/mp/proxy.capnp";
interface Maker {
  keep @0 (context :Proxy.Context, obj :Obj) -> ();
  make @1 (context :Proxy.Context) -> (first :Obj, bad :Int8, list :List(Obj), holder :Holder, map :List(Entry));
  makeList @2 (context :Proxy.Context) -> (result :List(Holder));
  ping @3 (context :Proxy.Context) -> ();
  makeMap @4 (context :Proxy.Context) -> (result :List(Entry));
  makeChoice @5 (context :Proxy.Context) -> (result :Choice);
  makeLoop @6 (context :Proxy.Context) -> (result :Node);
}
struct Node {
  obj @0 :Obj;
  next @1 :Node;
}
struct Choice {
  other @0 :Obj;
  union {
    obj @1 :Obj;
    n @2 :Int8;
  }
}
struct Holder {
  obj @0 :Obj;
  n @1 :Int8;
  later @2 :Obj;
}
struct Entry {
  key @0 :Text;
  value @1 :Obj;
}
interface Obj {
  id @0 (context :Proxy.Context) -> (result :Int32);
}
interface Init {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  make @1 (context :Proxy.Context) -> (result :Maker);
}
`;
  const disposed: string[] = [];
  const obj = (name: string) => ({ id: () => 7, [Symbol.dispose]: () => void disposed.push(name) });
  let kept: unknown = null;
  const maker = {
    keep: (o: unknown) => void (kept = dup(o)),
    // `bad` fails after `first` is written: everything after it was never reached.
    make: () => ({
      first: obj("first"),
      bad: 1000,
      list: [obj("list0"), kept],
      holder: { obj: obj("holder.obj"), n: 1, later: obj("holder.later") },
      map: new Map([["k", obj("map.k")]]),
    }),
    // The second holder fails inside: its `later` and the third holder were never reached.
    makeList: () => [
      { obj: obj("0.obj"), n: 1, later: obj("0.later") },
      { obj: obj("1.obj"), n: 1000, later: obj("1.later") },
      { obj: obj("2.obj"), n: 1, later: obj("2.later") },
    ],
    // A key that fails: its own value and the entries after it were never reached.
    makeMap: () => new Map<unknown, unknown>([["a", obj("a")], [5, obj("5")], ["c", obj("c")]]),
    // A union member that is not in the schema fails before any field.
    makeChoice: () => ({ which: "none", other: obj("other") }),
    // A value holding itself: the walk of what was not reached ends.
    makeLoop: () => {
      const node: Record<string, unknown> = { obj: obj("loop") };
      node.next = node;
      return node;
    },
    ping: () => {},
  };
  await using pair = await schemaPair("maker", () => maker, schema);
  const remote = pair.remote as unknown as {
    keep(o: unknown): Promise<void>;
    make(): Promise<unknown>;
    makeList(): Promise<unknown>;
    makeMap(): Promise<unknown>;
    makeChoice(): Promise<unknown>;
    makeLoop(): Promise<unknown>;
    ping(): Promise<void>;
  };
  const callerDisposed: string[] = [];
  const callers = { id: () => 8, [Symbol.dispose]: () => void callerDisposed.push("caller's") };
  await remote.keep(callers);
  release(callers);
  assertEquals(callerDisposed, [], "the server's dup() keeps it");

  await assertRejects(() => remote.make(), RpcError, "out of range");
  await remote.ping();
  await remote.ping(); // the server's Release of the kept proxy has reached this side
  assertEquals(disposed.sort(), ["first", "holder.later", "holder.obj", "list0", "map.k"]);
  assertEquals(callerDisposed, ["caller's"], "the kept proxy, handed over, was released");

  disposed.length = 0;
  await assertRejects(() => remote.makeList(), RpcError, "out of range");
  await remote.ping();
  assertEquals(disposed.sort(), ["0.later", "0.obj", "1.later", "1.obj", "2.later", "2.obj"]);

  disposed.length = 0;
  await assertRejects(() => remote.makeMap(), RpcError, "[key].key: expected Text");
  await remote.ping();
  assertEquals(disposed.sort(), ["5", "a", "c"]);

  disposed.length = 0;
  await assertRejects(() => remote.makeChoice(), RpcError, "which: expected one of obj, n");
  await remote.ping();
  assertEquals(disposed, ["other"]);

  disposed.length = 0;
  await assertRejects(() => remote.makeLoop(), RpcError, "handed over again without dup()");
  await remote.ping();
  assertEquals(disposed, ["loop"]);
});
