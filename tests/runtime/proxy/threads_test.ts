/**
 * libmultiprocess' threading model over IPC: strands, FIFO per thread,
 * callbacks on the calling strand, Context-less methods, pools and thread
 * handle checks.
 *
 * @module
 */
import * as capnp from "capnp-es";
import { assert, assertEquals, assertRejects, assertThrows } from "../../assert.ts";
import {
  capabilityOf,
  clientOf,
  connect,
  currentStrand,
  dup,
  IpcLog,
  listen,
  mainStrand,
  RpcError,
  sessionOf,
  Strand,
} from "../../../mod.ts";
import { Foo, FooCallback, FooInit } from "../../../examples/schemas/gen/conformance.mp.ts";
import { Context, ThreadMap } from "../../../runtime/schema/gen/mp/proxy.mp.ts";
import { Capability } from "../../../runtime/rpc/capability.ts";
import { serverOf } from "../../../runtime/proxy/bridge.ts";
import { structClass } from "../../../runtime/proxy/codec.ts";
import { sendPipelined } from "../../../runtime/proxy/request.ts";
import { runFixture, tempDir, waitFor, withTimeout } from "../../helpers.ts";
import { FooImpl } from "../../../examples/foo/foo.ts";
import { fooPair } from "./helpers.ts";

/**
 * A request of Foo's method `name` on `foo` with a hand-made Context
 * naming `thread` and `callbackThread` (each may be null), as a raw peer
 * makes one.
 */
function contextRequest(
  foo: unknown,
  name: string,
  thread: Capability | null,
  callbackThread: Capability | null = null,
) {
  const method = Foo.methods.find((m) => m.name === name)!;
  const request = capabilityOf(foo)!.request({
    interfaceId: Foo.id,
    methodId: method.ordinal,
    ParamsClass: structClass(method.params),
  });
  const context = capnp.utils.initStructAt(0, structClass(Context), request.params);
  for (const [field, cap] of [thread, callbackThread].entries()) {
    if (cap === null) continue;
    capnp.utils.setInterfacePointer(request.addCap(cap), capnp.utils.getPointer(field, context));
  }
  return { request, results: structClass(method.results) };
}

/**
 * Calls `threadName` (or `wait(ms)`) on `foo` with a hand-made Context
 * naming `thread` (or none); returns the thread name (or "").
 */
async function callWithThread(
  foo: unknown,
  method: "threadName" | "wait",
  thread: Capability | null,
  ms = 0,
): Promise<string> {
  const { request, results } = contextRequest(foo, method, thread);
  if (method === "wait") capnp.utils.setUint32(0, ms, request.params);
  using response = await request.send();
  if (method === "wait") return "";
  return capnp.utils.getText(0, response.results(results));
}

Deno.test("threads: calls from one strand run in order on one server strand", async () => {
  await using pair = await fooPair();
  const { foo } = pair;
  const results = await Promise.all([foo.wait(150, 1), foo.wait(100, 2), foo.wait(50, 3)]);
  assertEquals(results, [1, 2, 3]);
  assertEquals(await foo.waitLog(), [1, 2, 3]);
});

Deno.test("threads: different strands run concurrently on different server strands", async () => {
  await using pair = await fooPair();
  const { foo } = pair;
  const slow = new Strand("slow").run(() => foo.wait(300, 1));
  const fast = new Strand("fast").run(() => foo.wait(10, 2));
  await Promise.all([slow, fast]);
  assertEquals(await foo.waitLog(), [2, 1]);
  const names = await Promise.all([
    foo.threadName(),
    foo.threadName(),
    new Strand("other").run(() => foo.threadName()),
  ]);
  assertEquals(names[0], names[1]);
  assert(names[0] !== names[2], `${names}`);
  assert(/\(from client-\d+\/main\)$/.test(names[0]), names[0]);
  assert(/\(from client-\d+\/other\)$/.test(names[2]), names[2]);
});

Deno.test("threads: a callback runs on the strand that made the call", async () => {
  await using pair = await fooPair();
  const strand = new Strand("caller");
  const seen = await strand.run(() =>
    pair.foo.callback(() => currentStrand() === strand ? 1 : 0, 0)
  );
  assertEquals(seen, 1);
});

Deno.test("threads: run() on the strand a callback already runs on keeps its calls nested", async () => {
  // A helper that pins its calls to a strand, called from a callback on that strand: its call
  // goes out at once, nested in the call that runs the callback, which waits on it.
  await using pair = await fooPair();
  const strand = new Strand("pinned");
  const pinned = () => strand.run(() => pair.foo.wait(0, 3));
  const viaMain = () => mainStrand.run(() => pair.foo.wait(0, 4));
  assertEquals(
    await withTimeout(strand.run(() => pair.foo.passFn(() => pinned())), 10_000, "pinned"),
    3,
  );
  assertEquals(await withTimeout(pair.foo.passFn(() => viaMain()), 10_000, "mainStrand"), 4);
});

Deno.test("threads: a strand whose thread the peer could not make gets a new one on its next call", async () => {
  // More strands start a call at once than the server runs calls (maxAnswers, 1024): those past
  // it are refused as overloaded, their pipelined makeThread too. Once the server has room, each
  // of those strands works again.
  await using pair = await fooPair();
  const strands = Array.from({ length: 1100 }, (_, i) => new Strand(`burst-${i}`));
  const first = await Promise.allSettled(
    strands.map((s, i) => s.run(() => pair.foo.wait(2500, i))),
  );
  const refused = strands.filter((_, i) => first[i]!.status === "rejected");
  assert(refused.length > 0, "some calls past the server's limit");
  for (const [i, outcome] of first.entries()) {
    // Refused, or sent with a thread that was: either way an RpcError of that call alone.
    if (outcome.status === "rejected") assert(outcome.reason instanceof RpcError);
    else assertEquals(outcome.value, i);
  }
  for (const strand of refused) assertEquals(await strand.run(() => pair.foo.wait(0, 7)), 7);
  for (const strand of strands) strand[Symbol.dispose]();
});

Deno.test("threads: calls a callback leaves behind go to the thread before the strand's next call", async () => {
  // The callback starts two calls and returns without awaiting them: until both are done the
  // peer's thread may still get them, so the strand's next call to it waits (a libmultiprocess
  // thread given a call while it runs one aborts).
  await using pair = await fooPair();
  const { foo } = pair;
  const strand = new Strand("leaves-work");
  const left: Promise<number>[] = [];
  const [passed, next] = await strand.run(() =>
    Promise.all([
      foo.passFn(() => {
        left.push(foo.wait(100, 1) as Promise<number>, foo.wait(0, 2) as Promise<number>);
        return 7;
      }),
      foo.wait(0, 3),
    ])
  );
  assertEquals([passed, next, ...await Promise.all(left)], [7, 3, 1, 2]);
  assertEquals((await foo.waitLog()).slice(-3), [1, 2, 3]);
});

Deno.test("threads: posted calls run one at a time while only code outside them waits on a call", async () => {
  // A call made outside every posted call (strand.run) lets a posted call run at once (a callback
  // of it may be posted), but not a second one beside it: that one waits its turn.
  await using pair = await fooPair();
  const strand = new Strand("posting");
  const order: string[] = [];
  const outside = strand.run(() => pair.foo.wait(300, 1));
  const first = strand.post(async () => {
    order.push("1 start");
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push("1 end");
  });
  const second = strand.post(() => void order.push("2 start"));
  await Promise.all([first, second, outside]);
  assertEquals(order, ["1 start", "1 end", "2 start"]);
});

Deno.test("threads: a Context-less method runs at once, even while the strand is busy", async () => {
  await using pair = await fooPair();
  const { foo } = pair;
  const order: string[] = [];
  const waiting = foo.wait(300, 1).then(() => order.push("wait"));
  await new Promise((r) => setTimeout(r, 20));
  await foo.add(1, 2).then(() => order.push("add"));
  await waiting;
  assertEquals(order, ["add", "wait"]);
});

Deno.test("threads: no thread and no pool fails; makePool serves Context-less threads", async () => {
  await using pair = await fooPair();
  await assertRejects(
    () => callWithThread(pair.foo, "threadName", null),
    RpcError,
    "no thread specified and no pool configured",
  );
  // The server's ThreadMap, as construct hands it out.
  const session = sessionOf(pair.init);
  using threadMapCap = sendPipelined(capabilityOf(pair.init)!, FooInit, "construct", {
    threadMap: null,
  }).pipeline(0);
  await using threadMap = clientOf(ThreadMap, threadMapCap.dup(), session);
  await threadMap.makePool(2);
  assert(/^server-\d+\/pool-1$/.test(await callWithThread(pair.foo, "threadName", null)));
  // pool-1 busy with a wait: the next call (delivered after it, in order)
  // goes to the least loaded slot.
  const busy = callWithThread(pair.foo, "wait", null, 200);
  assert(/^server-\d+\/pool-2$/.test(await callWithThread(pair.foo, "threadName", null)));
  await busy;
});

Deno.test("threads: pool calls share no strand at once, so each calls its own caller back", async () => {
  await using pair = await fooPair();
  const session = sessionOf(pair.init)!;
  using threadMapCap = sendPipelined(capabilityOf(pair.init)!, FooInit, "construct", {
    threadMap: null,
  }).pipeline(0);
  await using threadMap = clientOf(ThreadMap, threadMapCap.dup(), session);
  await threadMap.makePool(1);
  /** `foo.callback` through the pool (no thread named), calling back on `strand`'s thread. */
  const poolCallback = async (strand: Strand, callback: (x: number) => Promise<number>) => {
    const { request, results } = contextRequest(
      pair.foo,
      "callback",
      null,
      session.localThread(strand),
    );
    using cap = Capability.fromServer(serverOf(FooCallback, callback));
    capnp.utils.setInterfacePointer(
      request.addCap(cap.dup()),
      capnp.utils.getPointer(1, request.params),
    );
    using response = await request.send();
    return capnp.utils.getInt32(0, response.results(results));
  };
  const ran: string[] = [];
  const first = new Strand("first");
  const second = new Strand("second");
  // The first callback waits, so the second call arrives while the only pool strand is busy.
  const results = await Promise.all([
    poolCallback(first, async (x) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      ran.push(`${currentStrand().name} ${x}`);
      return x;
    }),
    poolCallback(second, (x) => {
      ran.push(`${currentStrand().name} ${x}`);
      return Promise.resolve(x);
    }),
  ]);
  assertEquals(results, [0, 0]);
  assertEquals(ran, ["first 0", "second 0"]);
});

Deno.test("threads: a thread handle minted on another connection is refused", async () => {
  await using first = await fooPair();
  await using second = await fooPair();
  // A real Thread of the second server, used on the first connection.
  using threadMapCap = sendPipelined(capabilityOf(second.init)!, FooInit, "construct", {
    threadMap: null,
  }).pipeline(0);
  using thread = sendPipelined(threadMapCap, ThreadMap, "makeThread", { name: "x" }).pipeline(0);
  assert((await callWithThread(second.foo, "threadName", thread)).includes("/strand-"));
  await assertRejects(
    () => callWithThread(first.foo, "threadName", thread),
    RpcError,
    "invalid thread handle",
  );
});

Deno.test("threads: a strand that is gone takes its threads with it, on both sides", async () => {
  // As a thread's end ends the threads made for it on the peers: a program
  // making strands without end must not grow either process.
  const output = await runFixture("strand_lifetimes.ts", "--expose-gc", "200");
  const { clientCollected, serverCollected } = JSON.parse(output);
  // All but the last one or two, whose async contexts V8 may still hold.
  assert(clientCollected >= 198, `${clientCollected} of 200 client strands collected`);
  assert(serverCollected >= 198, `${serverCollected} of 200 server strands collected`);
});

Deno.test(
  "threads: a peer's thread ends with its last reference, and the threads made for it on " +
    "other connections with it",
  async () => {
    // C calls A through B, which serves C with a copy of its proxy of A: each of C's strands gets a
    // strand on B, which makes a thread on A. C's end of a strand ends the chain, without waiting
    // for B to collect anything.
    await using ab = await fooPair();
    await using bc = await fooPair({ server: { makeFoo: () => dup(ab.foo) } });
    const toA = sessionOf(ab.foo)!.connection;
    await bc.foo.wait(0, 0);
    const before = toA.stats.imports;
    for (let i = 0; i < 20; i++) {
      using strand = new Strand(`c-${i}`);
      assertEquals(await strand.run(() => bc.foo.wait(0, i)), i);
    }
    await waitFor(() => toA.stats.imports === before, 10_000, "B's threads on A to be released");
  },
);

Deno.test("threads: a disposed strand releases its peer's thread at once and makes no more calls", async () => {
  await using pair = await fooPair();
  const { foo } = pair;
  const connection = sessionOf(foo)!.connection;
  await foo.wait(0, 0);
  const before = connection.stats.imports;
  const strand = new Strand("short");
  assertEquals(await strand.run(() => foo.wait(0, 1)), 1);
  assertEquals(connection.stats.imports, before + 1, "the server's thread made for the strand");
  const running = strand.run(() => foo.wait(50, 2));
  const queued = strand.run(() => foo.wait(0, 3));
  strand[Symbol.dispose]();
  assert(strand.ended);
  assertEquals(connection.stats.imports, before, "released at once, not at collection");
  let ran = false;
  running.then(() => ran = true);
  await assertRejects(() => queued, RpcError, "Strand 'short' has ended.");
  assert(!ran, "a queued call fails at the end, not once the call ahead of it returns");
  assertEquals(await running, 2, "a call already sent runs to its end");
  await assertRejects(
    () => strand.run(() => foo.wait(0, 4)),
    RpcError,
    "Strand 'short' has ended.",
  );
  assertEquals((await foo.waitLog()).slice(-2), [1, 2]);
  // A call sent before the end still gets its callbacks run on the strand.
  const calling = new Strand("calling");
  const called = calling.run(() => foo.callback((x) => x * 2, 21));
  calling[Symbol.dispose]();
  assertEquals(await called, 42);
  assertThrows(() => mainStrand[Symbol.dispose](), TypeError, "mainStrand cannot end");
  {
    using scoped = new Strand("scoped");
    assertEquals(await scoped.run(() => foo.wait(0, 5)), 5);
  }
  assertEquals(connection.stats.imports, before, "a strand's end at the end of its scope");
});

Deno.test("threads: a call queued on a server thread when its object ends fails with one line", async () => {
  // As a peer that queues calls on one thread does (a raw peer, pycapnp): the
  // second wait waits on the server's strand when the last reference goes.
  await using pair = await fooPair();
  const child = (await pair.foo.makeChild())!;
  using threadMapCap = sendPipelined(capabilityOf(pair.init)!, FooInit, "construct", {
    threadMap: null,
  }).pipeline(0);
  using thread = sendPipelined(threadMapCap, ThreadMap, "makeThread", { name: "t" }).pipeline(0);
  const first = callWithThread(child, "wait", thread, 100);
  const queued = callWithThread(child, "wait", thread, 1);
  await new Promise((resolve) => setTimeout(resolve, 30));
  child[Symbol.dispose]();
  await first;
  await assertRejects(() => queued, RpcError, "Foo was destroyed.");
});

Deno.test("threads: a call given up while it waits on its server thread never runs", async () => {
  // As a raw peer that queues calls on one thread does: a wait runs on the thread, a
  // saveCallback queued behind it is given up, then callbackSaved queues behind that.
  await using pair = await fooPair();
  using threadMapCap = sendPipelined(capabilityOf(pair.init)!, FooInit, "construct", {
    threadMap: null,
  }).pipeline(0);
  using thread = sendPipelined(threadMapCap, ThreadMap, "makeThread", { name: "t" }).pipeline(0);
  const onThread = (name: string) => contextRequest(pair.foo, name, thread).request;
  const waiting = new AbortController();
  const wait = onThread("wait");
  capnp.utils.setUint32(0, 600_000, wait.params);
  const waited = wait.send({ signal: waiting.signal });
  const save = onThread("saveCallback");
  using callback = Capability.fromServer(serverOf(FooCallback, (x: number) => x));
  capnp.utils.setInterfacePointer(
    save.addCap(callback.dup()),
    capnp.utils.getPointer(1, save.params),
  );
  const giveUp = new AbortController();
  const saved = save.send({ signal: giveUp.signal });
  // Usually read by the server before the Finish below: then it waits on the thread when given up.
  await new Promise((resolve) => setTimeout(resolve, 20));
  giveUp.abort();
  await assertRejects(() => saved.response, RpcError);
  const use = onThread("callbackSaved");
  capnp.utils.setInt32(0, 3, use.params);
  const used = use.send();
  waiting.abort();
  await assertRejects(() => waited.response, RpcError);
  await assertRejects(() => used.response, RpcError, "no saved callback");
});

Deno.test("threads: once its code gave up a call, a strand runs posted calls one at a time again", async () => {
  // An implementation that keeps running a call its caller gave up on, as a
  // libmultiprocess thread does.
  let finish!: () => void;
  const running = new Promise<void>((resolve) => finish = resolve);
  const impl = { wait: async (_ms: number, value: number) => (await running, value) };
  await using foo = clientOf(Foo, Capability.fromServer(serverOf(Foo, impl as never)));
  const strand = new Strand("gives-up");
  let release!: () => void;
  const first = strand.post(async () => {
    const controller = new AbortController();
    const given = foo.wait(0, 1, { signal: controller.signal });
    controller.abort();
    await assertRejects(() => given, DOMException);
    await new Promise<void>((resolve) => release = resolve);
  });
  await new Promise((resolve) => setTimeout(resolve, 0));
  let secondStarted = false;
  const second = strand.post(() => {
    secondStarted = true;
  });
  assert(!secondStarted, "posted while the first runs, waiting on no call: it waits");
  release();
  await first;
  await second;
  assert(secondStarted);
  finish();
});

Deno.test("an Init without construct: a Context method fails saying construct is missing; Context-less ones work", async () => {
  using dir = tempDir();
  const datadir = dir.path;
  const quiet = new IpcLog({ level: "off" });
  // Foo as the Init: it has methods with a Context and none named construct.
  using impl = new FooImpl({ live: 0 });
  await using _listener = listen(Foo, "unix", impl, { datadir, component: "foo", log: quiet });
  await using foo = await connect(Foo, "unix", { datadir, component: "foo", log: quiet });
  assertEquals(await foo.add(2, 3), 5);
  const error = await assertRejects(() => foo.threadName(), RpcError);
  assertEquals(
    error.message,
    "Called null capability: the peer provided no ThreadMap to make a thread with. A method that " +
      "takes a Context runs on a thread the peer makes, from the ThreadMap construct hands over: " +
      "give the Init interface `construct @0 (threadMap :Proxy.ThreadMap) -> " +
      "(threadMap :Proxy.ThreadMap);`.",
  );
});
