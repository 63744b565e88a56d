/** The engine against itself: a Deno client and a Deno server, in separate processes or one. */
import * as capnp from "capnp-es";
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { newTester, TesterClient } from "../../../examples/tester.ts";
import {
  BrokenHook,
  type CallMessage,
  Capability,
  LocalHook,
  PipelineSet,
  PromiseHook,
  releaseCaps,
  type Server,
} from "../../../runtime/rpc/capability.ts";
import { RpcConnection } from "../../../runtime/rpc/connection.ts";
import { RpcError } from "../../../runtime/rpc/errors.ts";
import { setData } from "../../../runtime/rpc/message.ts";
import { segmentBuffers } from "../../../runtime/buffers.ts";
import { Tester$Client, Tester_Echo$Results } from "../../../examples/schemas/gen/testing.ts";
import { runFixture, startDenoTester, tempSocket, withTimeout } from "../../helpers.ts";
import { testerSuite } from "./tester_suite.ts";

Deno.test("Deno client → Deno server (separate processes)", async (t) => {
  using socket = tempSocket("tester");
  const path = socket.path;
  await using _server = await startDenoTester(path);
  await testerSuite(t, path);
});

Deno.test("outstanding questions are limited: calls over maxQuestions fail as overloaded", async () => {
  using socket = tempSocket("tester");
  const path = socket.path;
  await using _server = await startDenoTester(path);
  const rpc = new RpcConnection(await Deno.connect({ transport: "unix", path }), {
    limits: { maxQuestions: 4 },
  });
  using tester = new TesterClient(rpc.bootstrap());
  assertEquals(await tester.add(1, 1), 2);
  const calls = Array.from({ length: 6 }, () => tester.wait(200));
  const outcomes = await Promise.allSettled(calls);
  const overloaded = outcomes.filter((o) =>
    o.status === "rejected" && o.reason instanceof RpcError && o.reason.type === "overloaded"
  );
  assertEquals(outcomes.filter((o) => o.status === "fulfilled").length, 4);
  assertEquals(overloaded.length, 2);
  assertEquals(await tester.add(2, 2), 4, "usable once calls complete");
  await rpc.close();
});

Deno.test("Data read in place is released with its response, and its memory reused", async () => {
  using socket = tempSocket("tester");
  const path = socket.path;
  await using _server = await startDenoTester(path);
  const rpc = new RpcConnection(await Deno.connect({ transport: "unix", path }));
  using tester = rpc.bootstrap();
  const echo = Tester$Client.methods[1];
  const echoed = async (fill: number) => {
    const request = tester.request(echo);
    setData(capnp.utils.getPointer(0, request.params), new Uint8Array(300_000).fill(fill));
    return await request.send();
  };
  const first = await echoed(1);
  const kept = first.results(Tester_Echo$Results).data.toUint8Array();
  assertEquals([kept.byteLength, kept[299_999]], [300_000, 1]);
  first.dispose();
  // Detached, rather than showing the bytes of the message received next into the same memory.
  assertEquals(kept.byteLength, 0);
  const freeBefore = segmentBuffers.freeBytes;
  assert(freeBefore > 0, "the released buffer is kept for reuse");
  using second = await echoed(2);
  assertEquals(second.results(Tester_Echo$Results).data.toUint8Array()[299_999], 2);
  assert(segmentBuffers.freeBytes < freeBefore, "the next large message is received into it");
  await rpc.close();
});

Deno.test("large Data through an in-process call reads back whole, and setting it again spares the caller's bytes", async () => {
  // In one process capnp-es itself follows the far pointer to the Data,
  // from a message built at an offset in a shared buffer.
  const { tester } = newTester();
  using client = new TesterClient(tester);
  for (let round = 1; round <= 5; round++) {
    const sent = new Uint8Array(100_000 + round).fill(round);
    assertEquals(await client.echo(sent), sent);
  }
  const request = tester.request(Tester$Client.methods[1]);
  const first = new Uint8Array(70_000).fill(7);
  setData(capnp.utils.getPointer(0, request.params), first);
  setData(capnp.utils.getPointer(0, request.params), new Uint8Array(80_000).fill(8));
  assert(first.every((b) => b === 7), "the first Data's bytes are the caller's, not zeroed");
  using response = await request.send();
  assertEquals(response.results(Tester_Echo$Results).data.toUint8Array()[79_999], 8);
});

Deno.test("finished calls do not survive young collections", async () => {
  // V8 reports each collection with --trace-gc-nvp. What a finished call
  // leaves reachable is copied by every young collection and promoted: a
  // call object with a getter closure once kept every call alive that way
  // (a tenth of all bytes allocated were promoted).
  const output = await runFixture(
    "young_calls.ts",
    "--trace-gc-nvp,--max-semi-space-size=1",
    "20000",
  );
  const scavenges = output.split("\n")
    .filter((line) => line.includes('"gc":"s"'))
    .map((line) =>
      JSON.parse(line.slice(line.indexOf("{"))) as { allocated: number; promoted: number }
    )
    .slice(3); // start-up: modules and the connections are promoted once
  assert(scavenges.length >= 50, `only ${scavenges.length} young collections`);
  const allocated = scavenges.reduce((sum, gc) => sum + gc.allocated, 0);
  const promoted = scavenges.reduce((sum, gc) => sum + gc.promoted, 0);
  assert(
    promoted < allocated * 0.02,
    `${(100 * promoted / allocated).toFixed(1)}% of what calls allocated was promoted`,
  );
});

Deno.test("a handler's thenable whose then throws fails its call, not the process", async () => {
  // The handler's value is adopted as a promise: reading `then` happens in a
  // microtask, where a throw would otherwise end the process.
  const server: Server = {
    dispatch: () =>
      ({
        get then() {
          throw new RpcError("failed", "no then here");
        },
      }) as unknown as Promise<void>,
  };
  using cap = Capability.fromServer(server);
  const failure = await cap.request(Tester$Client.methods[0]).send().response.then(
    () => null,
    (error: unknown) => error,
  );
  assert(failure instanceof RpcError, `the call failed: ${failure}`);
  assertEquals(failure.message, "no then here");
});

Deno.test("a pipeline path nobody holds any more is forgotten before its call returns", () => {
  // A peer naming ever new paths on a call that never returns must not grow the set.
  const set = new PipelineSet();
  for (let i = 0; i < 1000; i++) set.get([i, 7]).release();
  assertEquals(set.size, 0);
  const first = set.get([1]);
  const again = set.get([1]);
  assertEquals(set.size, 1, "one entry per path held");
  first.release();
  assertEquals(set.size, 1, "still held once");
  again.release();
  assertEquals(set.size, 0);
  // A path still held is resolved with the call's outcome.
  const held = set.get([2]);
  set.resolve(() => new BrokenHook(new RpcError("failed", "no result")).retain());
  assert(held.settled instanceof BrokenHook, "resolved to the outcome");
  held.release();
});

Deno.test("a pipeline path that sent calls ahead is kept, so its next hook still embargoes", () => {
  const ahead = () => ({
    response: Promise.reject(new RpcError("failed", "not sent")).catch(() => {}) as never,
    pipeline: () => new BrokenHook(new RpcError("failed", "none")).retain(),
  });
  const set = new PipelineSet(() => new PromiseHook(ahead));
  const hook = set.get([0]);
  hook.send({} as CallMessage);
  hook.release();
  assertEquals(set.size, 1);
});

Deno.test("releasing a chain of 100000 promises resolved one to the next takes no stack", () => {
  // A peer can resolve each promise it sent to the next one; ending them must not recurse.
  const chain = Array.from({ length: 100_000 }, () => new PromiseHook());
  for (let i = 0; i + 1 < chain.length; i++) chain[i].resolve(chain[i + 1].retain());
  chain[0].retain().release();
  assert(!chain.at(-1)!.referenced, "the last promise of the chain was released");
});

Deno.test("hooks ended by another's end go in the order released, once, and not if held again", () => {
  const ended: string[] = [];
  /** A hook that, when it ends, releases `then` (in order) and runs `also`. */
  class Ends extends PromiseHook {
    constructor(
      readonly name: string,
      readonly then: PromiseHook[] = [],
      readonly also = () => {},
    ) {
      super();
    }
    protected override unreferenced(): void {
      ended.push(this.name);
      for (const hook of this.then) hook.release();
      this.also();
    }
  }
  const revived = new Ends("revived");
  const [a, b, c] = ["a", "b", "c"].map((name) => new Ends(name).retain());
  // Ending `outer` releases a, b, c and `revived`, then takes `revived` again.
  const outer = new Ends("outer", [a, b, c, revived.retain()], () => revived.retain());
  outer.retain().release();
  assertEquals(ended, ["outer", "a", "b", "c"]);
  assert(revived.referenced, "held again before its turn came: not ended");
});

Deno.test("a server whose dispose throws still answers the call that held it last", async () => {
  let disposed = 0;
  const server: Server = {
    dispatch(call) {
      call.results(Tester_Echo$Results); // empty results
    },
    [Symbol.dispose]() {
      disposed++;
      throw new Error("dispose failed");
    },
  };
  const cap = Capability.fromServer(server);
  const pending = cap.request(Tester$Client.methods[0]).send();
  cap.dispose(); // the call's hold is now the last reference
  using _ = await pending;
  assertEquals(disposed, 1);
});

/** A capability to a server whose dispose counts its runs in `ends`, then throws. */
function failingToEnd(ends: { count: number }): Capability {
  return Capability.fromServer({
    dispatch() {},
    [Symbol.dispose]() {
      ends.count++;
      throw new Error("dispose failed");
    },
  });
}

Deno.test("a local call whose params hold the last reference to a server whose dispose throws is answered, and so are calls pipelined on it", async () => {
  const ends = { count: 0 };
  const throwing = failingToEnd(ends);
  using cap = Capability.fromServer({
    dispatch(call) {
      call.results(Tester_Echo$Results); // empty results
    },
  });
  const request = cap.request(Tester$Client.methods[0]);
  request.addCap(throwing);
  throwing.dispose(); // the call's params hold the last reference
  const pending = request.send();
  using pipelined = pending.pipeline(0);
  const onPipeline = pipelined.request(Tester$Client.methods[0]).send();
  using _ = await withTimeout(pending.response, undefined, "the call to be answered");
  const failure = await withTimeout(
    onPipeline.response.then(() => null, (error) => error),
    undefined,
    "the pipelined call to settle",
  );
  assert(failure instanceof RpcError, String(failure));
  assertEquals(ends.count, 1);
});

Deno.test("calls pipelined on a failed local call fail, and its params are released, though a pipelined call's params hold a server whose dispose throws", async () => {
  const ends = { count: 0 };
  let paramEnded = 0;
  const param = Capability.fromServer({
    dispatch() {},
    [Symbol.dispose]() {
      paramEnded++;
    },
  });
  using cap = Capability.fromServer({
    dispatch() {
      throw new Error("boom");
    },
  });
  const request = cap.request(Tester$Client.methods[0]);
  request.addCap(param);
  param.dispose(); // the failing call's params hold the last reference
  const pending = request.send();
  using pipelined = pending.pipeline(0);
  const carrying = pipelined.request(Tester$Client.methods[0]);
  const throwing = failingToEnd(ends);
  carrying.addCap(throwing);
  throwing.dispose(); // the pipelined call's params hold the last reference
  const calls = [carrying.send(), pipelined.request(Tester$Client.methods[0]).send()];
  const failures = await withTimeout(
    Promise.all([pending, ...calls].map((call) => call.response.then(() => null, (e) => e))),
    undefined,
    "every call to settle",
  );
  assertEquals(failures.map((error) => (error as RpcError).message), ["boom", "boom", "boom"]);
  assertEquals([ends.count, paramEnded], [1, 1]);
});

Deno.test("releasing a capability table disposes every handle, and throws the first failure after", () => {
  const ends = { count: 0 };
  let later = 0;
  const table: (Capability | null)[] = [
    failingToEnd(ends),
    null,
    failingToEnd(ends),
    Capability.fromServer({
      dispatch() {},
      [Symbol.dispose]() {
        later++;
      },
    }),
  ];
  assertThrows(() => releaseCaps(table), Error, "dispose failed");
  assertEquals([ends.count, later, table.length], [2, 1, 0]);
});

Deno.test("a call given up while it waits on an unresolved promise leaves the queue and never runs", async () => {
  const promise = new PromiseHook();
  using cap = new Capability(promise.retain());
  let ran = 0;
  const server: Server = {
    dispatch() {
      ran++;
    },
  };
  const controller = new AbortController();
  const given = cap.request(Tester$Client.methods[0]).send({ signal: controller.signal });
  const kept = cap.request(Tester$Client.methods[0]).send();
  controller.abort(new Error("gave up"));
  // Before the promise resolves (it never would, if the call stayed queued).
  const failure = await withTimeout(
    given.response.then(() => null, (error) => error),
    undefined,
    "the call given up to fail",
  );
  assert(failure instanceof RpcError && failure.message === "Call canceled.", String(failure));
  assertEquals((failure.cause as Error).message, "gave up");
  await withTimeout(given.finished(), undefined, "the call given up to be finished");
  promise.resolve(new LocalHook(server).retain());
  (await kept.response).dispose();
  assertEquals(ran, 1, "only the call not given up ran");
});

Deno.test("a pipeline path released while calls wait on it is forgotten once they are all given up", async () => {
  const set = new PipelineSet();
  const controllers = [new AbortController(), new AbortController()];
  const given = (() => {
    using cap = new Capability(set.get([0]));
    return controllers.map(({ signal }) => cap.request(Tester$Client.methods[0]).send({ signal }));
  })();
  assertEquals(set.size, 1, "kept for the calls waiting on it");
  controllers[0].abort(new Error("gave up"));
  assertEquals(set.size, 1, "one call still waits");
  controllers[1].abort(new Error("gave up"));
  assertEquals(set.size, 0, "forgotten once no call waits and nobody holds it");
  for (const pending of given) {
    const failure = await pending.response.then(() => null, (error) => error);
    assert(failure instanceof RpcError && failure.message === "Call canceled.", String(failure));
  }
});

Deno.test("a call whose signal aborted already is not delivered, to a promise or a local object", async () => {
  let ran = 0;
  const server: Server = {
    dispatch() {
      ran++;
    },
  };
  const promise = new PromiseHook();
  using onPromise = new Capability(promise.retain());
  using onLocal = new Capability(new LocalHook(server).retain());
  const signal = AbortSignal.abort(new Error("too late"));
  for (const cap of [onPromise, onLocal]) {
    const pending = cap.request(Tester$Client.methods[0]).send({ signal });
    const failure = await pending.response.then(() => null, (error) => error);
    assert(failure instanceof RpcError && failure.message === "Call canceled.", String(failure));
    await withTimeout(pending.finished(), undefined, "a call given up already to be finished");
  }
  promise.resolve(new LocalHook(server).retain());
  assertEquals(ran, 0);
});
