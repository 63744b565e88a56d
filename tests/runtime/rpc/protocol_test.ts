/**
 * Unit tests of each protocol message: one RpcConnection driven by a scripted
 * raw peer (tests/wire_peer.ts) over a real UNIX socket. The peer writes
 * hand-built messages and checks the exact fields of what the engine sends.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import * as capnp from "capnp-es";
import { Message as RpcMessage, Return as RpcReturn } from "capnp-es/capnp/rpc";
import {
  type ConnectionOptions,
  RpcConnection,
  type RpcLimits,
} from "../../../runtime/rpc/connection.ts";
import { Capability, Hook, type LocalHook, type Sent } from "../../../runtime/rpc/capability.ts";
import { encodeFrame } from "../../../runtime/framing.ts";
import { RpcError } from "../../../runtime/rpc/errors.ts";
import { capIndexAt, initStruct, readStruct, setData } from "../../../runtime/rpc/message.ts";
import { serverFromMethods } from "../../../runtime/rpc/server.ts";
import {
  newTester,
  setCapParam,
  TesterClient,
  type TesterState,
} from "../../../examples/tester.ts";
import {
  Callback$Client,
  Callback_Call$Params,
  Callback_Call$Results,
  Counter$Client,
  Counter_Next$Results,
  ExtendedTester$Client,
  ExtendedTester_Describe$Results,
  Tester$Client,
  Tester_Add$Params,
  Tester_Add$Results,
  Tester_CallBack$Params,
  Tester_CallBack$Results,
  Tester_CanceledCount$Results,
  Tester_Echo$Params,
  Tester_Echo$Results,
  Tester_EchoCap$Params,
  Tester_Fail$Params,
  Tester_MakeCounter$Params,
  Tester_MakeCounter$Results,
  Tester_Wait$Params,
} from "../../../examples/schemas/gen/testing.ts";
import { concatBytes, waitFor, withTimeout } from "../../helpers.ts";
import {
  build,
  buildMessage,
  capContent,
  capTableOf,
  type DescriptorSpec,
  exceptionOf,
  type Received,
  socketPair,
  targetOf,
  type TargetSpec,
  TESTER_METHOD,
  WirePeer,
} from "../../wire_peer.ts";

const TESTER = Tester$Client.interfaceId;
const METHOD = TESTER_METHOD;
const FAILED = 0, OVERLOADED = 1, DISCONNECTED = 2, UNIMPLEMENTED = 3;

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Messages framed back to back, for one write. */
function concatMessages(...messages: capnp.Message[]): Uint8Array {
  return concatBytes(...messages.map((message) => new Uint8Array(message.toArrayBuffer())));
}

/**
 * Marks a call's promise as handled: if the test fails before awaiting it,
 * its rejection at teardown must not surface as an unhandled rejection.
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

// ---- Sessions ----

interface Session extends AsyncDisposable {
  readonly rpc: RpcConnection;
  readonly peer: WirePeer;
}

/** An engine on one end of a socket pair, the raw peer on the other. */
async function session(options: ConnectionOptions = {}): Promise<Session> {
  const [engineEnd, peerEnd] = await socketPair();
  const rpc = new RpcConnection(engineEnd, options);
  const peer = new WirePeer(peerEnd);
  return {
    rpc,
    peer,
    async [Symbol.asyncDispose]() {
      await peer.close();
      await withTimeout(rpc.closed, 20_000, "the engine to see the close");
      await tick();
    },
  };
}

/** A Tester that records the AbortSignal of every call it receives. */
function observedTester(): { tester: Capability; state: TesterState; signals: AbortSignal[] } {
  const { tester, state } = newTester();
  const inner = (tester.hook as LocalHook).server;
  const signals: AbortSignal[] = [];
  const observed = Capability.fromServer({
    dispatch(call) {
      signals.push(call.signal);
      return inner.dispatch(call);
    },
    [Symbol.dispose]() {
      tester.dispose();
    },
  });
  return { tester: observed, state, signals };
}

/** The engine as server, bootstrapping a (observed) Tester. */
async function serverSession(limits: Partial<RpcLimits> = {}): Promise<
  Session & { state: TesterState; signals: AbortSignal[] }
> {
  const { tester, state, signals } = observedTester();
  const s = await session({ bootstrap: tester, limits });
  tester.dispose(); // the connection holds its own reference
  return {
    rpc: s.rpc,
    peer: s.peer,
    state,
    signals,
    [Symbol.asyncDispose]: s[Symbol.asyncDispose],
  };
}

// ---- Peer-side steps ----

/** Sends Bootstrap and returns the engine's Return. */
async function bootstrapReturn(peer: WirePeer, questionId: number): Promise<RpcReturn> {
  await peer.send(build.bootstrap(questionId));
  return (await peer.expect(RpcMessage.RETURN)).return;
}

/** Bootstraps, finishes (keeping the reference) and returns the export id. */
async function bootstrapExport(peer: WirePeer, questionId = 0): Promise<number> {
  const ret = await bootstrapReturn(peer, questionId);
  assertEquals(ret.which(), RpcReturn.RESULTS);
  const [descriptor] = capTableOf(ret.results);
  assert("senderHosted" in descriptor, `bootstrap descriptor ${JSON.stringify(descriptor)}`);
  await peer.send(build.finish(questionId, false));
  return descriptor.senderHosted;
}

/** Sends a Call to the engine and returns its Return (which must answer it). */
async function callEngine(
  peer: WirePeer,
  options: Parameters<typeof build.call>[0],
): Promise<RpcReturn> {
  await peer.send(build.call(options));
  const ret = (await peer.expect(RpcMessage.RETURN)).return;
  assertEquals(ret.answerId, options.questionId);
  return ret;
}

/** An echoCap call on export `tester` as `questionId`, passing the capability `descriptor`. */
function echoCapCall(
  questionId: number,
  tester: number,
  descriptor: DescriptorSpec,
): capnp.Message {
  return build.call({
    questionId,
    target: { importedCap: tester },
    interfaceId: TESTER,
    methodId: METHOD.echoCap,
    params: (content) => {
      const params = initStruct(Tester_EchoCap$Params, content);
      capnp.utils.setInterfacePointer(0, capnp.utils.getPointer(0, params));
    },
    capTable: [descriptor],
  });
}

/** Calls add(a, b) on `target` as `questionId`; its Return. */
function callAdd(
  peer: WirePeer,
  questionId: number,
  target: TargetSpec,
  a: number,
  b: number,
): Promise<RpcReturn> {
  return callEngine(peer, {
    questionId,
    target,
    interfaceId: TESTER,
    methodId: METHOD.add,
    params: addParams(a, b),
  });
}

function addParams(a: number, b: number): (content: capnp.Pointer) => void {
  return (content) => {
    const params = initStruct(Tester_Add$Params, content);
    params.a = a;
    params.b = b;
  };
}

function exceptionReturn(ret: RpcReturn) {
  assertEquals(ret.which(), RpcReturn.EXCEPTION, `expected an exception Return, got ${ret}`);
  return exceptionOf(ret.exception);
}

/** Expects the engine's next message to be Finish(questionId, releaseResultCaps). */
async function expectFinish(peer: WirePeer, questionId: number, releaseResultCaps = false) {
  const finish = (await peer.expect(RpcMessage.FINISH)).finish;
  assertEquals(
    { questionId: finish.questionId, releaseResultCaps: finish.releaseResultCaps },
    { questionId, releaseResultCaps },
  );
}

/** The engine as client: answers its Bootstrap with `descriptor`; returns the Tester. */
async function establish(
  s: Session,
  descriptor: DescriptorSpec = { senderHosted: 7 },
): Promise<TesterClient> {
  const cap = s.rpc.bootstrap();
  const boot = (await s.peer.expect(RpcMessage.BOOTSTRAP)).bootstrap;
  await s.peer.send(build.return({
    answerId: boot.questionId,
    releaseParamCaps: false,
    results: capContent(0),
    capTable: [descriptor],
  }));
  await expectFinish(s.peer, boot.questionId, false);
  return new TesterClient(cap);
}

/** Expects a Call from the engine at `target`; returns it. */
async function expectCall(
  peer: WirePeer,
  target: TargetSpec,
  interfaceId = TESTER,
  methodId: number = METHOD.add,
): Promise<Received> {
  const received = await peer.nextReceived();
  assertEquals(received.root.which(), RpcMessage.CALL, `expected a Call, got ${received.root}`);
  const call = received.root.call;
  assertEquals(
    {
      target: targetOf(call.target),
      interfaceId: call.interfaceId,
      methodId: call.methodId,
    },
    { target, interfaceId, methodId },
  );
  return received;
}

/** Answers an add() Call from the engine with a + b, then expects its Finish. */
async function answerAdd(peer: WirePeer, received: Received): Promise<void> {
  const call = received.root.call;
  const params = readStruct(Tester_Add$Params, call.params.content);
  await peer.send(build.return({
    answerId: call.questionId,
    releaseParamCaps: false,
    results: (content) => initStruct(Tester_Add$Results, content).result = params.a + params.b,
  }));
  await expectFinish(peer, call.questionId, false);
}

/**
 * A round trip that proves the engine has processed everything sent before
 * it: the engine as client has no bootstrap, so a Bootstrap gets an
 * exception Return.
 */
async function clientBarrier(peer: WirePeer, questionId: number): Promise<void> {
  const ret = await bootstrapReturn(peer, questionId);
  assertEquals(ret.answerId, questionId);
  assertEquals(exceptionReturn(ret).reason, "No bootstrap interface.");
  await peer.send(build.finish(questionId, false));
}

/** Expects the engine to Abort with a reason containing `text`, then to close. */
async function expectAbort(s: Session, text: string): Promise<void> {
  const abort = exceptionOf((await s.peer.expect(RpcMessage.ABORT)).abort);
  assertEquals(abort.type, FAILED);
  assert(abort.reason.includes(text), `expected "${text}" in Abort reason "${abort.reason}"`);
  await s.peer.expectEof();
  const closed = await withTimeout(s.rpc.closed, 20_000, "closed");
  assert(closed.message.includes(text), closed.message);
  assert(s.rpc.isClosed);
}

/** Rejection of `promise`, which must reject within the timeout. */
async function rejection(promise: Promise<unknown>, ms = 3000): Promise<RpcError> {
  const outcome = await withTimeout(
    promise.then(() => null, (error: unknown) => ({ error })),
    ms,
    "a rejection",
  );
  if (outcome === null) throw new Error("expected a rejection, but the call succeeded");
  assert(outcome.error instanceof RpcError, `expected an RpcError, got ${outcome.error}`);
  return outcome.error;
}

// ===================== Engine as server =====================

Deno.test("Bootstrap → Return: content is a capability pointer, capTable [senderHosted]", async () => {
  await using s = await serverSession();
  const ret = await bootstrapReturn(s.peer, 0);
  assertEquals(
    {
      answerId: ret.answerId,
      which: ret.which(),
      releaseParamCaps: ret.releaseParamCaps,
      noFinishNeeded: ret.noFinishNeeded,
      capIndex: capIndexAt(ret.results.content, []),
      capTable: capTableOf(ret.results),
    },
    {
      answerId: 0,
      which: RpcReturn.RESULTS,
      releaseParamCaps: false,
      noFinishNeeded: false,
      capIndex: 0,
      capTable: [{ senderHosted: 0 }],
    },
  );
  assertEquals(s.rpc.stats, { questions: 0, answers: 1, imports: 0, exports: 1 });
  await s.peer.send(build.finish(0, false));
  await waitFor(() => s.rpc.stats.answers === 0, 20_000, "the answer to be retired");
  assertEquals(s.rpc.stats.exports, 1);
});

Deno.test("Call add(2,3) on importedCap → result 5; Finish retires the answer", async () => {
  await using s = await serverSession();
  const tester = await bootstrapExport(s.peer);
  const ret = await callAdd(s.peer, 1, { importedCap: tester }, 2, 3);
  assertEquals(
    {
      which: ret.which(),
      releaseParamCaps: ret.releaseParamCaps,
      result: readStruct(Tester_Add$Results, ret.results.content).result,
      capTable: capTableOf(ret.results),
    },
    { which: RpcReturn.RESULTS, releaseParamCaps: false, result: 5, capTable: [] },
  );
  assertEquals(s.rpc.stats.answers, 1);
  await s.peer.send(build.finish(1, false));
  await waitFor(() => s.rpc.stats.answers === 0, 20_000, "stats.answers back to 0");
  // The question id can be reused after Finish.
  const again = await callAdd(s.peer, 1, { importedCap: tester }, -7, 3);
  assertEquals(readStruct(Tester_Add$Results, again.results.content).result, -4);
  await s.peer.send(build.finish(1, true));
  await waitFor(() => s.rpc.stats.answers === 0, 20_000, "stats.answers back to 0");
});

Deno.test("Question ids at the top of the 32-bit range are answered, and the connection still closes at once", async () => {
  await using s = await serverSession();
  const last = 0xffff_ffff;
  const tester = await bootstrapExport(s.peer, last);
  const ret = await callAdd(s.peer, last - 1, { importedCap: tester }, 20, 22);
  assertEquals(readStruct(Tester_Add$Results, ret.results.content).result, 42);
  // Left unfinished: closing walks the answers, as many as there are, not
  // ids up to 2^32. A walk of the ids would block the event loop for a
  // minute or more, where no timer can fire: the elapsed time tells.
  assertEquals(s.rpc.stats.answers, 1);
  const closing = performance.now();
  await s.peer.close();
  await withTimeout(s.rpc.closed, 5_000, "the engine to close");
  const elapsed = performance.now() - closing;
  assert(elapsed < 5_000, `closing took ${Math.round(elapsed)} ms: it walked ids, not answers`);
});

Deno.test("Calls pipelined on promisedAnswer before Finish: bootstrap and a result field", async () => {
  await using s = await serverSession();
  // Bootstrap and a call on its answer in one go, before reading anything.
  await s.peer.send(build.bootstrap(0));
  await s.peer.send(build.call({
    questionId: 1,
    target: { promisedAnswer: 0, transform: [] },
    interfaceId: TESTER,
    methodId: METHOD.add,
    params: addParams(2, 3),
  }));
  // makeCounter, and next() on field 0 of its answer, still unreturned.
  await s.peer.send(build.call({
    questionId: 2,
    target: { promisedAnswer: 0, transform: [] },
    interfaceId: TESTER,
    methodId: METHOD.makeCounter,
    params: (content) => initStruct(Tester_MakeCounter$Params, content).start = 41n,
  }));
  await s.peer.send(build.call({
    questionId: 3,
    target: { promisedAnswer: 2, transform: [0] },
    interfaceId: Counter$Client.interfaceId,
    methodId: 0,
  }));
  const returns = new Map<number, RpcReturn>();
  for (let i = 0; i < 4; i++) {
    const ret = (await s.peer.expect(RpcMessage.RETURN)).return;
    returns.set(ret.answerId, ret);
  }
  assertEquals([...returns.keys()].sort(), [0, 1, 2, 3]);
  assertEquals(readStruct(Tester_Add$Results, returns.get(1)!.results.content).result, 5);
  assertEquals(readStruct(Counter_Next$Results, returns.get(3)!.results.content).value, 42n);
  const counter = returns.get(2)!;
  assertEquals(capIndexAt(counter.results.content, [0]), 0);
  assertEquals(capTableOf(counter.results).length, 1);
  for (let q = 0; q < 4; q++) await s.peer.send(build.finish(q, true));
  await waitFor(() => s.rpc.stats.answers === 0 && s.state.live === 0, 20_000, "all retired");
});

Deno.test("a Call whose cap table is refused aborts, and leaves its target unretained", async () => {
  await using s = await serverSession({ maxCapTableEntries: 1 });
  const tester = await bootstrapExport(s.peer);
  const made = await callEngine(s.peer, {
    questionId: 1,
    target: { importedCap: tester },
    interfaceId: TESTER,
    methodId: METHOD.makeCounter,
    params: (content) => initStruct(Tester_MakeCounter$Params, content).start = 1n,
  });
  const [counter] = capTableOf(made.results);
  assert("senderHosted" in counter, JSON.stringify(counter));
  await s.peer.send(build.finish(1, false));
  assertEquals(s.state.live, 1);
  await s.peer.send(build.call({
    questionId: 2,
    target: { importedCap: counter.senderHosted },
    interfaceId: Counter$Client.interfaceId,
    methodId: 0,
    capTable: [{ none: true }, { none: true }],
  }));
  await expectAbort(s, "maxCapTableEntries");
  // The connection released what it exported: nothing else holds the counter.
  await waitFor(() => s.state.live === 0, 20_000, "the counter to be released");
});

Deno.test("Call to an unknown method or interface → Return exception unimplemented", async () => {
  await using s = await serverSession();
  const tester = await bootstrapExport(s.peer);
  const unknownMethod = await callEngine(s.peer, {
    questionId: 1,
    target: { importedCap: tester },
    interfaceId: TESTER,
    methodId: 99,
  });
  assertEquals(unknownMethod.releaseParamCaps, false);
  const e1 = exceptionReturn(unknownMethod);
  assertEquals(e1.type, UNIMPLEMENTED);
  assert(e1.reason.includes("Method not implemented"), e1.reason);

  const unknownInterface = await callEngine(s.peer, {
    questionId: 2,
    target: { importedCap: tester },
    interfaceId: 0x1234567890abcdefn,
    methodId: 0,
  });
  const e2 = exceptionReturn(unknownInterface);
  assertEquals(e2.type, UNIMPLEMENTED);
  assert(e2.reason.includes("interface not implemented"), e2.reason);

  // The derived interface's own method works on the same object.
  const describe = await callEngine(s.peer, {
    questionId: 3,
    target: { importedCap: tester },
    interfaceId: ExtendedTester$Client.interfaceId,
    methodId: 0,
  });
  assertEquals(
    readStruct(ExtendedTester_Describe$Results, describe.results.content).text,
    "extended",
  );
  for (let q = 1; q <= 3; q++) await s.peer.send(build.finish(q, false));
  await waitFor(() => s.rpc.stats.answers === 0, 20_000, "answers retired");
});

Deno.test("fail(type, message) → Return exception with each of the four types", async () => {
  await using s = await serverSession();
  const tester = await bootstrapExport(s.peer);
  for (const type of [FAILED, OVERLOADED, DISCONNECTED, UNIMPLEMENTED]) {
    const ret = await callEngine(s.peer, {
      questionId: 10 + type,
      target: { importedCap: tester },
      interfaceId: TESTER,
      methodId: METHOD.fail,
      params: (content) => {
        const params = initStruct(Tester_Fail$Params, content);
        params.type = type as Tester_Fail$Params["type"];
        params.message = `failure of type ${type}`;
      },
    });
    assertEquals(ret.releaseParamCaps, false);
    assertEquals(exceptionReturn(ret), { type, reason: `failure of type ${type}` });
    await s.peer.send(build.finish(10 + type, false));
  }
  await waitFor(() => s.rpc.stats.answers === 0, 20_000, "answers retired");
});

Deno.test("Early Finish on a running wait(5000) → Return canceled; the call's signal aborts", async () => {
  await using s = await serverSession();
  const tester = await bootstrapExport(s.peer);
  await s.peer.send(build.call({
    questionId: 1,
    target: { importedCap: tester },
    interfaceId: TESTER,
    methodId: METHOD.wait,
    // Longer than any wait below: only the cancellation can end it in time.
    params: (content) => initStruct(Tester_Wait$Params, content).ms = 600_000,
  }));
  await waitFor(() => s.signals.length === 1, 20_000, "the call to start");
  assert(!s.signals[0].aborted);
  await s.peer.send(build.finish(1, true));
  const ret = (await s.peer.expect(RpcMessage.RETURN)).return;
  assertEquals(
    { answerId: ret.answerId, which: ret.which(), releaseParamCaps: ret.releaseParamCaps },
    { answerId: 1, which: RpcReturn.CANCELED, releaseParamCaps: false },
  );
  assert(s.signals[0].aborted, "the AbortSignal was aborted");
  await waitFor(() => s.state.canceled === 1, 20_000, "canceledCount to increment");
  assertEquals(s.rpc.stats.answers, 0);
  // The server's own count, over the wire.
  const count = await callEngine(s.peer, {
    questionId: 2,
    target: { importedCap: tester },
    interfaceId: TESTER,
    methodId: METHOD.canceledCount,
  });
  assertEquals(readStruct(Tester_CanceledCount$Results, count.results.content).count, 1);
  await s.peer.send(build.finish(2, false));
  // No second Return for the canceled call.
  await s.peer.expectSilence(100);
});

/** makeCounter(start) on the bootstrap; returns the counter's export id. */
async function makeCounter(s: Session, tester: number, questionId: number, start: bigint) {
  const ret = await callEngine(s.peer, {
    questionId,
    target: { importedCap: tester },
    interfaceId: TESTER,
    methodId: METHOD.makeCounter,
    params: (content) => initStruct(Tester_MakeCounter$Params, content).start = start,
  });
  assertEquals(ret.which(), RpcReturn.RESULTS);
  assertEquals(ret.releaseParamCaps, false);
  assertEquals(capIndexAt(ret.results.content, [0]), 0);
  const table = capTableOf(ret.results);
  assertEquals(table.length, 1);
  const [descriptor] = table;
  assert("senderHosted" in descriptor, JSON.stringify(descriptor));
  return descriptor.senderHosted;
}

/** The capability index in pointer field `field` of `struct`. */
function capIndexOfField(struct: capnp.Struct, field: number): number {
  return capnp.utils.getCapabilityId(capnp.utils.getPointer(field, struct));
}

Deno.test("Finish(releaseResultCaps=true) after makeCounter releases the counter's export", async () => {
  await using s = await serverSession();
  const tester = await bootstrapExport(s.peer);
  const counter = await makeCounter(s, tester, 1, 10n);
  assert(counter !== tester);
  assertEquals(s.state.live, 1);
  assertEquals(s.rpc.stats.exports, 2);
  await s.peer.send(build.finish(1, true));
  await waitFor(() => s.state.live === 0, 20_000, "the counter to be released");
  assertEquals(s.rpc.stats.exports, 1);
  assertEquals(s.rpc.stats.answers, 0);
  // No Release was needed, and the engine has nothing to say.
  await s.peer.expectSilence(50);
  // The id is gone: a call to it is a protocol error.
  await s.peer.send(build.call({
    questionId: 2,
    target: { importedCap: counter },
    interfaceId: Counter$Client.interfaceId,
    methodId: 0,
  }));
  await expectAbort(s, "Call target is not a current export ID.");
});

Deno.test("Finish(releaseResultCaps=false) keeps the counter's export until Release(id, 1)", async () => {
  await using s = await serverSession();
  const tester = await bootstrapExport(s.peer);
  const counter = await makeCounter(s, tester, 1, 10n);
  await s.peer.send(build.finish(1, false));
  // Still alive and callable.
  const next = await callEngine(s.peer, {
    questionId: 2,
    target: { importedCap: counter },
    interfaceId: Counter$Client.interfaceId,
    methodId: 0,
  });
  assertEquals(readStruct(Counter_Next$Results, next.results.content).value, 11n);
  await s.peer.send(build.finish(2, false));
  await waitFor(() => s.rpc.stats.answers === 0, 20_000, "answers retired");
  assertEquals(s.state.live, 1);
  assertEquals(s.rpc.stats.exports, 2);
  await s.peer.send(build.release(counter, 1));
  await waitFor(() => s.state.live === 0, 20_000, "the counter to be released");
  assertEquals(s.rpc.stats.exports, 1);
});

Deno.test("Release refcounts: the same export sent twice needs two references back", async () => {
  await using s = await serverSession();
  const first = await bootstrapExport(s.peer, 0);
  const second = await bootstrapExport(s.peer, 1);
  assertEquals(second, first, "bootstrap twice gives the same export id");
  assertEquals(s.rpc.stats.exports, 1);
  await s.peer.send(build.release(first, 1));
  // Still there: a call works.
  const ret = await callAdd(s.peer, 2, { importedCap: first }, 1, 1);
  assertEquals(readStruct(Tester_Add$Results, ret.results.content).result, 2);
  await s.peer.send(build.finish(2, false));
  assertEquals(s.rpc.stats.exports, 1);
  await s.peer.send(build.release(first, 1));
  await waitFor(() => s.rpc.stats.exports === 0, 20_000, "the export to be dropped");
  // Released twice already: a third is a protocol error.
  await s.peer.send(build.release(first, 1));
  await expectAbort(s, "Tried to release invalid export ID.");
});

Deno.test("Release with a count above the refcount → Abort", async () => {
  await using s = await serverSession();
  const tester = await bootstrapExport(s.peer, 0);
  await s.peer.send(build.release(tester, 2));
  await expectAbort(s, "Tried to drop export's refcount below zero.");
});

// ===================== Engine as client =====================

Deno.test("client: Bootstrap, a call pipelined on it, Finish, then calls to importedCap", async () => {
  await using s = await session();
  const cap = s.rpc.bootstrap();
  const boot = (await s.peer.expect(RpcMessage.BOOTSTRAP)).bootstrap;
  const q = boot.questionId;
  using tester = new TesterClient(cap);
  const early = handled(tester.add(1, 2));
  const pipelined = await expectCall(s.peer, { promisedAnswer: q, transform: [] });
  const pipelinedCall = pipelined.root.call;
  assert(pipelinedCall.questionId !== q);
  assertEquals(capTableOf(pipelinedCall.params), []);
  assertEquals(s.rpc.stats.questions, 2);

  await s.peer.send(build.return({
    answerId: q,
    releaseParamCaps: false,
    results: capContent(0),
    capTable: [{ senderHosted: 7 }],
  }));
  await expectFinish(s.peer, q, false);
  await answerAdd(s.peer, pipelined);
  assertEquals(await withTimeout(early), 3);

  const later = handled(tester.add(4, 5));
  await answerAdd(s.peer, await expectCall(s.peer, { importedCap: 7 }));
  assertEquals(await withTimeout(later), 9);
  assertEquals(s.rpc.stats, { questions: 0, answers: 0, imports: 1, exports: 0 });
});

Deno.test("client: disposing the bootstrap capability sends Release(7, 1)", async () => {
  await using s = await session();
  const tester = await establish(s, { senderHosted: 7 });
  const call = handled(tester.add(1, 1));
  await answerAdd(s.peer, await expectCall(s.peer, { importedCap: 7 }));
  await withTimeout(call);
  tester.dispose();
  const release = (await s.peer.expect(RpcMessage.RELEASE, 1000)).release;
  assertEquals({ id: release.id, referenceCount: release.referenceCount }, {
    id: 7,
    referenceCount: 1,
  });
  assertEquals(s.rpc.stats.imports, 0);
});

Deno.test("client: Release(8, n) gives back every time the peer sent id 8", async () => {
  await using s = await session();
  using tester = await establish(s, { senderHosted: 7 });
  // The peer returns the same capability (id 8) from two makeCounter calls.
  const counters = [];
  for (let i = 0; i < 2; i++) {
    const made = tester.makeCounter(BigInt(i));
    handled(made.done);
    const call = (await expectCall(s.peer, { importedCap: 7 }, TESTER, METHOD.makeCounter)).root
      .call;
    await s.peer.send(build.return({
      answerId: call.questionId,
      releaseParamCaps: false,
      results: (content) => {
        const results = initStruct(Tester_MakeCounter$Results, content);
        capnp.utils.setInterfacePointer(0, capnp.utils.getPointer(0, results));
      },
      capTable: [{ senderHosted: 8 }],
    }));
    await expectFinish(s.peer, call.questionId, false);
    await withTimeout(made.done);
    counters.push(made.counter);
  }
  // A call on one of them goes to import 8.
  const next = handled(counters[0].next());
  const nextCall = (await expectCall(s.peer, { importedCap: 8 }, Counter$Client.interfaceId, 0))
    .root.call;
  await s.peer.send(build.return({
    answerId: nextCall.questionId,
    releaseParamCaps: false,
    results: (content) => initStruct(Counter_Next$Results, content).value = 5n,
  }));
  await expectFinish(s.peer, nextCall.questionId);
  assertEquals(await withTimeout(next), 5n);

  counters[0].dispose();
  await s.peer.expectSilence(50);
  counters[1].dispose();
  const release = (await s.peer.expect(RpcMessage.RELEASE)).release;
  assertEquals({ id: release.id, referenceCount: release.referenceCount }, {
    id: 8,
    referenceCount: 2,
  });
  assertEquals(s.rpc.stats.imports, 1);
});

/** A Callback server multiplying by 10, counting calls and disposal. */
function countingCallback() {
  const counts = { calls: 0, disposed: 0 };
  const method = Callback$Client.methods[0];
  const cap = Capability.fromServer(serverFromMethods(
    new Map([[Callback$Client.interfaceId, [(call) => {
      counts.calls++;
      call.results(method.ResultsClass).result = call.params(method.ParamsClass).value * 10n;
    }]]]),
    () => counts.disposed++,
  ));
  return { cap, counts };
}

/** callBack(cb, 1): the peer calls the callback with 5 and returns the sum. */
async function callBackRoundTrip(s: Session, releaseParamCaps: boolean | undefined) {
  using tester = await establish(s);
  const { cap, counts } = countingCallback();
  const sum = handled(tester.callBack(cap, 1));
  cap.dispose();
  const call = (await expectCall(s.peer, { importedCap: 7 }, TESTER, METHOD.callBack)).root.call;
  const params = readStruct(Tester_CallBack$Params, call.params.content);
  assertEquals(params.n, 1);
  assertEquals(capIndexOfField(params, 0), 0);
  const table = capTableOf(call.params);
  assertEquals(table.length, 1);
  const [descriptor] = table;
  assert("senderHosted" in descriptor, JSON.stringify(descriptor));
  const exported = descriptor.senderHosted;
  assertEquals(s.rpc.stats.exports, 1);

  // The peer (playing the Tester) calls the callback the engine exported.
  const ret = await callEngine(s.peer, {
    questionId: 0,
    target: { importedCap: exported },
    interfaceId: Callback$Client.interfaceId,
    methodId: 0,
    params: (content) => initStruct(Callback_Call$Params, content).value = 5n,
  });
  assertEquals(
    {
      which: ret.which(),
      releaseParamCaps: ret.releaseParamCaps,
      result: readStruct(Callback_Call$Results, ret.results.content).result,
    },
    { which: RpcReturn.RESULTS, releaseParamCaps: false, result: 50n },
  );
  await s.peer.send(build.finish(0, false));

  await s.peer.send(build.return({
    answerId: call.questionId,
    releaseParamCaps,
    results: (content) => initStruct(Tester_CallBack$Results, content).sum = 50n,
  }));
  await expectFinish(s.peer, call.questionId, false);
  assertEquals(await withTimeout(sum), 50n);
  assertEquals(counts.calls, 1);
  return { exported, counts };
}

Deno.test("client: a Return taking the results of an answer not kept for it is a protocol error, as in C++", async () => {
  // The engine has returned the peer's echo (answer 1) and no longer keeps
  // its results for the peer: they are written, their buffers released.
  const { tester } = newTester();
  await using s = await session({ bootstrap: tester });
  tester.dispose();
  const exported = await bootstrapExport(s.peer, 0);
  const ret = await callEngine(s.peer, {
    questionId: 1,
    target: { importedCap: exported },
    interfaceId: TESTER,
    methodId: METHOD.echo,
    params: (content) =>
      setData(
        capnp.utils.getPointer(0, initStruct(Tester_Echo$Params, content)),
        new Uint8Array(100_000).fill(9),
      ),
  });
  assertEquals(ret.which(), RpcReturn.RESULTS);
  using remote = await establish(s);
  const sum = handled(remote.add(1, 2));
  const call = (await expectCall(s.peer, { importedCap: 7 })).root.call;
  await s.peer.send(build.return({ answerId: call.questionId, takeFromOtherQuestion: 1 }));
  await expectAbort(s, "'takeFromOtherQuestion' answer did not use sendResultsTo.yourself.");
  await assertRejects(() => sum, RpcError);
});

Deno.test("client: the engine's Return for a call to its callback has releaseParamCaps=false; a Return with releaseParamCaps=true releases the param export", async () => {
  await using s = await session();
  const { counts } = await callBackRoundTrip(s, undefined); // schema default: true
  await waitFor(() => s.rpc.stats.exports === 0, 20_000, "the param export to be released");
  assertEquals(counts.disposed, 1);
});

Deno.test("client: a Return with releaseParamCaps=false keeps the param export until Release", async () => {
  await using s = await session();
  const { exported, counts } = await callBackRoundTrip(s, false);
  await tick();
  assertEquals(s.rpc.stats.exports, 1);
  assertEquals(counts.disposed, 0);
  await s.peer.send(build.release(exported, 1));
  await waitFor(() => s.rpc.stats.exports === 0, 20_000, "the export to be released");
  assertEquals(counts.disposed, 1);
});

Deno.test("client: a canceled call's Return with releaseParamCaps=true (the default) releases its param export too", async () => {
  await using s = await session();
  using tester = await establish(s);
  const { cap, counts } = countingCallback();
  const request = tester.cap.request(Tester$Client.methods[METHOD.callBack]);
  setCapParam(request, 0, cap);
  cap.dispose();
  const aborted = new AbortController();
  const sent = handled(request.send({ signal: aborted.signal }).response);
  const call = (await expectCall(s.peer, { importedCap: 7 }, TESTER, METHOD.callBack)).root.call;
  assertEquals(s.rpc.stats.exports, 1);
  aborted.abort(new Error("gave up"));
  await assertRejects(() => sent, Error, "canceled");
  await expectFinish(s.peer, call.questionId, true);
  await s.peer.send(build.return({ answerId: call.questionId, canceled: true }));
  await waitFor(() => s.rpc.stats.exports === 0, 20_000, "the param export to be released");
  assertEquals(counts.disposed, 1);
  assertEquals(s.rpc.stats.questions, 0);
});

// ===================== Resolve =====================

// Either resolution stays on this connection, so no Disembargo is needed.
for (
  const [name, resolution, next] of [
    ["another import: Resolve(9, senderHosted 10)", { senderHosted: 10 }, 10],
    ["another promise of the peer's: Resolve(9, senderPromise 11)", { senderPromise: 11 }, 11],
  ] as const
) {
  Deno.test(`Resolve to ${name}: calls go to 9, then to ${next}, with no Disembargo`, async () => {
    await using s = await session();
    using tester = await establish(s, { senderPromise: 9 });
    const before = handled(tester.add(1, 1));
    await answerAdd(s.peer, await expectCall(s.peer, { importedCap: 9 }));
    assertEquals(await withTimeout(before), 2);
    await s.peer.send(build.resolve(9, resolution));
    await clientBarrier(s.peer, 100);
    const after = handled(tester.add(2, 2));
    await answerAdd(s.peer, await expectCall(s.peer, { importedCap: next }));
    assertEquals(await withTimeout(after), 4);
  });
}

Deno.test("Resolve to an exception: calls fail with that error", async () => {
  await using s = await session();
  using tester = await establish(s, { senderPromise: 9 });
  await s.peer.send(build.resolve(9, { type: OVERLOADED, reason: "the promise broke" }));
  await clientBarrier(s.peer, 100);
  const error = await rejection(tester.add(1, 1));
  assertEquals(
    { type: error.type, message: error.message, remote: error.remote },
    { type: "overloaded", message: "the promise broke", remote: true },
  );
  // Nothing went on the wire for it.
  await s.peer.expectSilence(50);
});

Deno.test("Return with senderPromise after a call pipelined on the answer needs no Disembargo", async () => {
  await using s = await session();
  const cap = s.rpc.bootstrap();
  using tester = new TesterClient(cap);
  const q = (await s.peer.expect(RpcMessage.BOOTSTRAP)).bootstrap.questionId;
  const early = handled(tester.add(1, 2));
  const pipelined = await expectCall(s.peer, { promisedAnswer: q, transform: [] });
  await s.peer.send(build.return({
    answerId: q,
    releaseParamCaps: false,
    results: capContent(0),
    capTable: [{ senderPromise: 9 }],
  }));
  await expectFinish(s.peer, q, false);
  await answerAdd(s.peer, pipelined);
  assertEquals(await withTimeout(early), 3);
  // The promise is the peer's, on this connection: the next call goes
  // straight to it. A Disembargo here targets the peer's own promise, which
  // the C++ peer rejects ("does not point back to the sender").
  const later = handled(tester.add(3, 4));
  await answerAdd(s.peer, await expectCall(s.peer, { importedCap: 9 }));
  assertEquals(await withTimeout(later), 7);
});

Deno.test("Resolve to a capability the engine hosts: Disembargo, calls held until receiverLoopback", async () => {
  await using s = await session();
  using tester = await establish(s, { senderPromise: 9 });
  const { cap: callback, counts } = countingCallback();
  // A call sent ahead to the promise, exporting the callback.
  const sum = handled(tester.callBack(callback, 0));
  callback.dispose();
  const ahead = (await expectCall(s.peer, { importedCap: 9 }, TESTER, METHOD.callBack)).root.call;
  const [descriptor] = capTableOf(ahead.params);
  assert("senderHosted" in descriptor);

  // The promise resolves to the engine's own callback.
  await s.peer.send(build.resolve(9, { receiverHosted: descriptor.senderHosted }));
  const disembargo = (await s.peer.expect(RpcMessage.DISEMBARGO)).disembargo;
  assertEquals(targetOf(disembargo.target), { importedCap: 9 });
  assertEquals(disembargo.context.which(), 0 /* senderLoopback */);
  const embargoId = disembargo.context.senderLoopback;

  // A new call waits for the embargo.
  const request = tester.cap.request(Callback$Client.methods[0]);
  request.params.value = 4n;
  const local = request.send();
  handled(local.response);
  await s.peer.expectSilence(50);
  assertEquals(counts.calls, 0, "the call was held by the embargo");

  await s.peer.send(build.disembargo({ importedCap: descriptor.senderHosted }, {
    receiverLoopback: embargoId,
  }));
  const response = await withTimeout(local.response);
  assertEquals(response.results(Callback_Call$Results).result, 40n);
  response.dispose();
  assertEquals(counts.calls, 1, "delivered locally after the embargo");

  await s.peer.send(build.return({
    answerId: ahead.questionId,
    results: (content) => initStruct(Tester_CallBack$Results, content).sum = 0n,
  }));
  await expectFinish(s.peer, ahead.questionId);
  assertEquals(await withTimeout(sum), 0n);
});

// ===================== Disembargo =====================

Deno.test("Disembargo senderLoopback on a capability pointing back to the sender → receiverLoopback", async () => {
  await using s = await serverSession();
  const tester = await bootstrapExport(s.peer);
  // echoCap with the peer's own capability 5: the engine hands it back.
  await s.peer.send(echoCapCall(1, tester, { senderHosted: 5 }));
  const ret = (await s.peer.expect(RpcMessage.RETURN)).return;
  assertEquals(ret.answerId, 1);
  assertEquals(ret.which(), RpcReturn.RESULTS);
  assertEquals(capTableOf(ret.results), [{ receiverHosted: 5 }]);
  assertEquals(s.rpc.stats.imports, 1);

  await s.peer.send(build.disembargo({ promisedAnswer: 1, transform: [0] }, {
    senderLoopback: 33,
  }));
  const reply = (await s.peer.expect(RpcMessage.DISEMBARGO)).disembargo;
  assertEquals(
    {
      target: targetOf(reply.target),
      which: reply.context.which(),
      receiverLoopback: reply.context.receiverLoopback,
    },
    { target: { importedCap: 5 }, which: 1, /* receiverLoopback */ receiverLoopback: 33 },
  );

  // Finish drops the engine's last reference to the peer's capability.
  await s.peer.send(build.finish(1, false));
  const release = (await s.peer.expect(RpcMessage.RELEASE)).release;
  assertEquals({ id: release.id, referenceCount: release.referenceCount }, {
    id: 5,
    referenceCount: 1,
  });
  assertEquals(s.rpc.stats.imports, 0);
});

Deno.test("Disembargo senderLoopback on the engine's own object → Abort", async () => {
  await using s = await serverSession();
  const tester = await bootstrapExport(s.peer);
  await s.peer.send(build.disembargo({ importedCap: tester }, { senderLoopback: 1 }));
  await expectAbort(s, "does not point back to the sender");
});

// ===================== Abort =====================

Deno.test("Abort from the peer: pending calls reject with its type and reason; later calls at once", async () => {
  await using s = await session();
  using tester = await establish(s);
  const add = handled(tester.add(1, 2));
  const wait = handled(tester.wait(5000));
  await expectCall(s.peer, { importedCap: 7 });
  await expectCall(s.peer, { importedCap: 7 }, TESTER, METHOD.wait);
  assertEquals(s.rpc.stats.questions, 2);

  await s.peer.send(build.abort({ type: OVERLOADED, reason: "peer going away" }));
  for (const pending of [add, wait]) {
    const error = await rejection(pending);
    assertEquals(
      { type: error.type, message: error.message, remote: error.remote },
      { type: "overloaded", message: "peer going away", remote: true },
    );
  }
  const closed = await withTimeout(s.rpc.closed, 20_000, "closed");
  assertEquals(closed.type, "overloaded");
  assert(s.rpc.isClosed);
  assertEquals(s.rpc.stats, { questions: 0, answers: 0, imports: 0, exports: 0 });

  // Nothing can answer it any more: it rejects without reaching the wire.
  const later = await rejection(tester.add(3, 4));
  assertEquals(later.type, "overloaded");
  const boot = s.rpc.bootstrap();
  const viaBootstrap = await rejection(new TesterClient(boot).add(1, 1));
  boot.dispose();
  assertEquals(viaBootstrap.type, "overloaded");
  // The engine closed the connection and sent nothing more.
  await s.peer.expectEof();
});

Deno.test("Abort from the peer cancels the engine's running calls", async () => {
  await using s = await serverSession();
  const tester = await bootstrapExport(s.peer);
  await s.peer.send(build.call({
    questionId: 1,
    target: { importedCap: tester },
    interfaceId: TESTER,
    methodId: METHOD.wait,
    params: (content) => initStruct(Tester_Wait$Params, content).ms = 5000,
  }));
  await waitFor(() => s.signals.length === 1, 20_000, "the call to start");
  await s.peer.send(build.abort({ type: DISCONNECTED, reason: "bye" }));
  const closed = await withTimeout(s.rpc.closed, 20_000, "closed");
  assertEquals({ type: closed.type, message: closed.message }, {
    type: "disconnected",
    message: "bye",
  });
  assert(s.signals[0].aborted);
  await waitFor(() => s.state.canceled === 1, 20_000, "the wait to be canceled");
  await s.peer.expectEof();
});

// ===================== Unimplemented =====================

Deno.test("Unknown message types → Unimplemented echoing the message", async () => {
  await using s = await serverSession();
  // A union member this schema does not know (99).
  await s.peer.send(buildMessage((root) => {
    root._initJoin().questionId = 4;
    capnp.utils.setUint16(0, 99, root);
  }));
  const echo = (await s.peer.expect(RpcMessage.UNIMPLEMENTED)).unimplemented;
  assertEquals(echo.which(), 99);

  // Level 3/4 messages a two-party Level 1 engine does not implement.
  await s.peer.sendWith((root) => root._initJoin().questionId = 5);
  const join = (await s.peer.expect(RpcMessage.UNIMPLEMENTED)).unimplemented;
  assertEquals({ which: join.which(), questionId: join.join.questionId }, {
    which: RpcMessage.JOIN,
    questionId: 5,
  });
  await s.peer.sendWith((root) => root._initProvide().questionId = 6);
  const provide = (await s.peer.expect(RpcMessage.UNIMPLEMENTED)).unimplemented;
  assertEquals(
    { which: provide.which(), questionId: provide.provide.questionId },
    { which: RpcMessage.PROVIDE, questionId: 6 },
  );
  // One holding empty structs (charged a word each by validation, none in a copy) is echoed.
  const segment = new DataView(new ArrayBuffer(7 * 8));
  segment.setUint32(4, 1 | (1 << 16), true); // root: Message of 1 data word, 1 pointer
  segment.setUint16(8, 99, true);
  segment.setUint32(20, 4 << 16, true); // its pointer: a struct of 4 pointers right after it
  for (let i = 0; i < 4; i++) segment.setUint32(24 + 8 * i, 0xfffffffc, true); // each empty
  await s.peer.sendBytes(encodeFrame([new Uint8Array(segment.buffer)]));
  assertEquals((await s.peer.expect(RpcMessage.UNIMPLEMENTED)).unimplemented.which(), 99);
  // The connection carries on.
  assertEquals(typeof await bootstrapExport(s.peer), "number");
  assert(!s.rpc.isClosed);
});

Deno.test("Unimplemented echo of a Call or Bootstrap the engine sent → it fails unimplemented", async () => {
  await using s = await session();
  using tester = await establish(s);
  const add = handled(tester.add(1, 2));
  const call = await expectCall(s.peer, { importedCap: 7 });
  await s.peer.send(build.unimplemented(call.root));
  const error = await rejection(add);
  assertEquals(error.type, "unimplemented");
  await waitFor(() => s.rpc.stats.questions === 0, 20_000, "the question to be retired");

  const cap = s.rpc.bootstrap();
  const boot = await s.peer.nextReceived();
  assertEquals(boot.root.which(), RpcMessage.BOOTSTRAP);
  await s.peer.send(build.unimplemented(boot.root));
  await clientBarrier(s.peer, 100);
  const viaBootstrap = await rejection(new TesterClient(cap).add(1, 1));
  cap.dispose();
  assertEquals(viaBootstrap.type, "unimplemented");
  assert(!s.rpc.isClosed);
});

// ===================== Unknown ids =====================

Deno.test("Unknown ids → Abort: call target, pipelined question, Finish, Return", async (t) => {
  await t.step("Call to an export id that does not exist", async () => {
    await using s = await serverSession();
    await s.peer.send(build.call({
      questionId: 0,
      target: { importedCap: 42 },
      interfaceId: TESTER,
      methodId: 0,
    }));
    await expectAbort(s, "Call target is not a current export ID.");
  });
  await t.step("Call pipelined on a question that does not exist", async () => {
    await using s = await serverSession();
    await s.peer.send(build.call({
      questionId: 0,
      target: { promisedAnswer: 55, transform: [] },
      interfaceId: TESTER,
      methodId: 0,
    }));
    await expectAbort(s, "Pipeline call on a request that doesn't exist.");
  });
  await t.step("Finish for an unknown question", async () => {
    await using s = await serverSession();
    await s.peer.send(build.finish(77, false));
    await expectAbort(s, "Finish for unknown answer ID.");
  });
  await t.step("Return for a question the engine never asked", async () => {
    await using s = await session();
    await s.peer.send(build.return({ answerId: 99, results: () => {} }));
    await expectAbort(s, "Invalid question ID in Return message.");
  });
  await t.step("Duplicate question id", async () => {
    await using s = await serverSession();
    await bootstrapReturn(s.peer, 3);
    await s.peer.send(build.bootstrap(3));
    await expectAbort(s, "Duplicate question ID.");
  });
});

// ===================== Limits on what the peer leaves unfinished =====================

Deno.test("maxUnfinishedAnswers: Bootstraps and calls count until Finish; one more aborts", async () => {
  await using s = await serverSession({ maxUnfinishedAnswers: 3 });
  const tester = await bootstrapExport(s.peer, 0); // finished: does not count
  await bootstrapReturn(s.peer, 1);
  await s.peer.send(build.call({
    questionId: 2,
    target: { importedCap: tester },
    interfaceId: TESTER,
    methodId: METHOD.wait,
    params: (content) => initStruct(Tester_Wait$Params, content).ms = 60_000,
  }));
  await callAdd(s.peer, 3, { importedCap: tester }, 1, 2);
  // Three unfinished (a Bootstrap, a running call, a returned call): Finish makes room for one.
  await s.peer.send(build.finish(3, false));
  await bootstrapReturn(s.peer, 4);
  await s.peer.send(build.bootstrap(5));
  await expectAbort(s, "Too many unfinished answers");
});

/** A session whose Tester (bootstrapped as question 0) takes calls as questions of their own. */
async function testerSession(limits: Partial<RpcLimits>) {
  const s = await serverSession(limits);
  const tester = await bootstrapExport(s.peer, 0);
  const call = (questionId: number, methodId: number, params: (content: capnp.Pointer) => void) =>
    callEngine(s.peer, {
      questionId,
      target: { importedCap: tester },
      interfaceId: TESTER,
      methodId,
      params,
    });
  return { s, call };
}

Deno.test("maxUnfinishedResultBytes: results kept until Finish are bounded; over it aborts", async () => {
  const { s, call } = await testerSession({ maxUnfinishedResultBytes: 3000 });
  await using _s = s;
  const echo = (questionId: number) =>
    call(questionId, METHOD.echo, (content) => {
      initStruct(Tester_Echo$Params, content)._initData(2000).toUint8Array().fill(questionId);
    });
  // One result of about 2 KiB is held until its Finish; after the Finish, another may be.
  await echo(1);
  await s.peer.send(build.finish(1, false));
  await echo(2);
  // A second one held at once goes over 3000 bytes: returned, then the connection is aborted.
  await echo(3);
  await expectAbort(s, "Too many results held");
});

Deno.test("maxUnfinishedResultBytes: a small result counts the whole buffer it shares and keeps alive", async () => {
  // A few bytes of results, built in a 256-byte region of a 4 KiB buffer: 4 KiB kept each.
  const { s, call } = await testerSession({ maxUnfinishedResultBytes: 6000 });
  await using _s = s;
  await call(1, METHOD.add, addParams(1, 1));
  await call(2, METHOD.add, addParams(2, 1));
  await expectAbort(s, "Too many results held");
});

Deno.test("maxProcessUnfinishedResultBytes: over the total, the connection holding the most is aborted", async () => {
  // Each small result keeps 4 KiB: two on the first connection, then one on the second is over.
  const limits = { maxProcessUnfinishedResultBytes: 10_000 };
  const first = await testerSession(limits);
  await using _first = first.s;
  const second = await testerSession(limits);
  await using _second = second.s;
  await first.call(1, METHOD.add, addParams(1, 1));
  await first.call(2, METHOD.add, addParams(2, 1));
  const ret = await second.call(1, METHOD.add, addParams(3, 1));
  assertEquals(readStruct(Tester_Add$Results, ret.results.content).result, 4);
  await expectAbort(
    first.s,
    "Too many results held: the peer left 8192 bytes of results without a Finish, the most of " +
      "any connection of this process whose maxProcessUnfinishedResultBytes is 10000 or less, " +
      "which hold 12288 in all.",
  );
  // What the first held was given back: the second holds all there is in the process.
  const again = await second.call(2, METHOD.add, addParams(4, 1));
  assertEquals(readStruct(Tester_Add$Results, again.results.content).result, 5);
  assert(!second.s.rpc.isClosed);
  await second.call(3, METHOD.add, addParams(5, 1));
  await expectAbort(
    second.s,
    "left 8192 bytes of results without a Finish, the most of any connection of this process " +
      "whose maxProcessUnfinishedResultBytes is 10000 or less, which hold 12288 in all.",
  );
});

Deno.test("maxProcessUnfinishedResultBytes: a result just returned does not make its connection the one aborted", async () => {
  // Two peers hold 4 KiB each and never finish; a third's echo of 6000 bytes, returned a moment
  // ago, takes the total over: counted, it would be the most, but no Finish could have come yet.
  const limits = { maxProcessUnfinishedResultBytes: 10_000 };
  const echoed = await testerSession(limits);
  await using _echoed = echoed.s;
  const holders = [await testerSession(limits), await testerSession(limits)] as const;
  await using _first = holders[0].s;
  await using _second = holders[1].s;
  await holders[0].call(1, METHOD.add, addParams(1, 1));
  await holders[1].call(1, METHOD.add, addParams(1, 1));
  const ret = await echoed.call(1, METHOD.echo, (content) => {
    initStruct(Tester_Echo$Params, content)._initData(6000).toUint8Array().fill(7);
  });
  assertEquals(
    readStruct(Tester_Echo$Results, ret.results.content).data.toUint8Array().byteLength,
    6000,
  );
  await expectAbort(
    holders[0].s,
    "the peer left 4096 bytes of results without a Finish, the most of any connection",
  );
  await echoed.s.peer.send(build.finish(1, false));
  await tick();
  assert(!echoed.s.rpc.isClosed && !holders[1].s.rpc.isClosed);
});

type TesterSession = Awaited<ReturnType<typeof testerSession>>;

/** A list of sessions, or of what holds one (`session` gives it), closed when it is disposed. */
function closedTogether<T>(session: (item: T) => AsyncDisposable): T[] & AsyncDisposable {
  const items: T[] = [];
  return Object.assign(items, {
    async [Symbol.asyncDispose]() {
      for (const item of items) await session(item)[Symbol.asyncDispose]();
    },
  });
}

/** Tester sessions, each allowed its own `maxProcessUnfinishedResultBytes`, closed together. */
async function sessionsAllowing(...values: number[]) {
  const sessions = closedTogether<TesterSession>(({ s }) => s);
  for (const value of values) {
    sessions.push(await testerSession({ maxProcessUnfinishedResultBytes: value }));
  }
  return sessions;
}

/** Leaves a small result (4 KiB kept) unfinished on `session` for each question id. */
async function holdResults(session: TesterSession, ...ids: number[]) {
  for (const id of ids) await session.call(id, METHOD.add, addParams(1, 1));
}

/** A Tester whose counters' dispose throws, and how many times one did. */
function testerOfFailingCounters(): { tester: Capability; failures: () => number } {
  let live = 0, failures = 0;
  const { tester } = newTester({
    get live() {
      return live;
    },
    set live(count: number) {
      if (count < live) {
        failures++;
        throw new Error("the counter's dispose failed");
      }
      live = count;
    },
    canceled: 0,
    held: [],
  });
  return { tester, failures: () => failures };
}

Deno.test("a server whose dispose throws, ended by the peer's Release or Finish, leaves the connection open", async () => {
  const { tester, failures } = testerOfFailingCounters();
  await using s = await session({ bootstrap: tester });
  tester.dispose(); // the connection holds its own reference
  const bootstrap = await bootstrapExport(s.peer);
  // The Finish drops the results' reference, then the Release the last one.
  const first = await makeCounter(s, bootstrap, 1, 0n);
  await s.peer.send(build.finish(1, false));
  await s.peer.send(build.release(first, 1));
  await waitFor(() => failures() === 1, 20_000, "the first counter's dispose");
  // The Release drops the export's reference, then the Finish the last one.
  const second = await makeCounter(s, bootstrap, 2, 0n);
  await s.peer.send(build.release(second, 1));
  await s.peer.send(build.finish(2, false));
  await waitFor(() => failures() === 2, 20_000, "the second counter's dispose");
  const ret = await callAdd(s.peer, 3, { importedCap: bootstrap }, 2, 3);
  assertEquals(readStruct(Tester_Add$Results, ret.results.content).result, 5);
  assert(!s.rpc.isClosed);
});

Deno.test("maxProcessUnfinishedResultBytes: a server whose dispose throws at the close leaves nothing counted", async () => {
  // A counter whose dispose throws, held only by the results of a makeCounter never finished.
  const { tester, failures } = testerOfFailingCounters();
  const limits = { maxProcessUnfinishedResultBytes: 10_000 };
  {
    await using s = await session({ bootstrap: tester, limits });
    const counter = await makeCounter(s, await bootstrapExport(s.peer), 1, 0n);
    await s.peer.send(build.release(counter, 1));
    await waitFor(() => s.rpc.stats.exports === 1, 20_000, "the counter's export to go");
  } // the close disposes the results, and the counter with them
  assertEquals(failures(), 1, "the counter's dispose did not run at the close");
  tester.dispose();
  // None of the 4 KiB it held is left counted: a connection allowed 10 000 bytes holds 8 KiB.
  const { s, call } = await testerSession(limits);
  await using _s = s;
  await holdResults({ s, call }, 1, 2);
  await tick();
  assert(!s.rpc.isClosed, "aborted for what the closed connection left counted");
});

Deno.test("maxProcessUnfinishedResultBytes: a connection allowed more neither is aborted for one allowed less nor uses up its total", async () => {
  await using sessions = await sessionsAllowing(1 << 30, 10_000);
  const [lenient, strict] = sessions;
  await holdResults(lenient, 1, 2);
  // 16 KiB in all, over the strict connection's value; but what counts against it is its own
  // 8 KiB: the lenient connection's do not.
  await holdResults(strict, 1, 2);
  await tick();
  assert(!strict.s.rpc.isClosed && !lenient.s.rpc.isClosed);
  // A third result unfinished on the strict connection takes its own total over: it is aborted.
  await holdResults(strict, 3);
  await expectAbort(
    strict.s,
    "the peer left 8192 bytes of results without a Finish, the most of any connection of " +
      "this process whose maxProcessUnfinishedResultBytes is 10000 or less, which hold 12288 in all.",
  );
  const ret = await lenient.call(3, METHOD.add, addParams(2, 2));
  assertEquals(readStruct(Tester_Add$Results, ret.results.content).result, 4);
  assert(!lenient.s.rpc.isClosed);
});

Deno.test("maxProcessUnfinishedResultBytes: a stricter connection counts against a more lenient one's total", async () => {
  await using sessions = await sessionsAllowing(10_000, 9000);
  const [lenient, strict] = sessions;
  await holdResults(strict, 1, 2);
  // The strict connection's 8 KiB are within its value, and with the lenient one's first result
  // over that one's: the strict connection holds the most of it.
  await holdResults(lenient, 1);
  await expectAbort(
    strict.s,
    "the peer left 8192 bytes of results without a Finish, the most of any connection of this " +
      "process whose maxProcessUnfinishedResultBytes is 10000 or less, which hold 12288 in all.",
  );
  assert(!lenient.s.rpc.isClosed);
});

// ===================== Hostile resolutions and budgets =====================

for (
  const [label, resolves] of [
    ["to itself", [[5, 5]]],
    ["through another promise", [[5, 6], [6, 5]]],
  ] as const
) {
  Deno.test(`a promise the peer resolves ${label} fails its calls; the connection and process live on`, async () => {
    await using s = await serverSession();
    const tester = await bootstrapExport(s.peer);
    // One write: every Resolve lands before the calls run and return the promises.
    await s.peer.sendBytes(concatMessages(
      ...resolves.map(([promise], i) => echoCapCall(i + 1, tester, { senderPromise: promise })),
      ...resolves.map(([promise, to]) => build.resolve(promise, { senderPromise: to })),
    ));
    const exports = new Set<number>();
    for (let i = 1; i <= resolves.length; i++) {
      const ret = (await s.peer.expect(RpcMessage.RETURN)).return;
      assertEquals(ret.which(), RpcReturn.RESULTS);
      const [descriptor] = capTableOf(ret.results);
      assert("senderHosted" in descriptor, JSON.stringify(descriptor));
      exports.add(descriptor.senderHosted);
    }
    // What the engine hands back fails every call with one line.
    for (const exported of exports) {
      const failed = await callAdd(s.peer, 10 + exported, { importedCap: exported }, 2, 3);
      assertEquals(failed.which(), RpcReturn.EXCEPTION);
      assertEquals(exceptionOf(failed.exception).reason, "A promise was resolved to itself.");
    }
    const ret = await callAdd(s.peer, 100, { importedCap: tester }, 2, 3);
    assertEquals(readStruct(Tester_Add$Results, ret.results.content).result, 5);
    assert(!s.rpc.isClosed, "the connection lives on");
  });
}

Deno.test("a message with a null root pointer aborts the connection; nothing of another message is read", async () => {
  await using s = await serverSession();
  await bootstrapExport(s.peer);
  // Frame header (one segment of one word), then a null root; a Release follows in the same write.
  const nullRoot = new Uint8Array(16);
  new DataView(nullRoot.buffer).setUint32(4, 1, true);
  await s.peer.sendBytes(
    new Uint8Array([...nullRoot, ...new Uint8Array(build.release(0, 1).toArrayBuffer())]),
  );
  await expectAbort(s, "Message has a null root pointer.");
});

Deno.test("a call whose params hold a million voids, as C++ allows, is served", async () => {
  // Add's params with a pointer past its schema's to a void list: a few words on the wire,
  // charged a word per element against traversalLimitWords alone.
  await using s = await serverSession();
  const target = { importedCap: await bootstrapExport(s.peer) };
  const ret = await callEngine(s.peer, {
    questionId: 1,
    target,
    interfaceId: TESTER,
    methodId: METHOD.add,
    params: (content) => {
      const params = new capnp.Struct(content.segment, content.byteOffset);
      capnp.utils.initStruct(new capnp.ObjectSize(8, 1), params);
      capnp.utils.setInt32(0, 2, params);
      capnp.utils.setInt32(4, 3, params);
      const voids = capnp.utils.getPointer(0, params);
      voids.segment.setUint32(voids.byteOffset, 1); // a list right after the pointer
      voids.segment.setUint32(voids.byteOffset + 4, (1_000_000 << 3) | 0); // of a million voids
    },
  });
  assertEquals(ret.which(), RpcReturn.RESULTS);
  assertEquals(readStruct(Tester_Add$Results, ret.results.content).result, 5);
  assert(!s.rpc.isClosed);
});

Deno.test("maxRunningCallBytes: calls keeping more params alive than allowed are refused as overloaded", async () => {
  // Each small call arrives in (and keeps) a 16 KiB receive buffer: one runs, the next is over.
  await using s = await serverSession({ maxRunningCallBytes: 20_000 });
  const tester = await bootstrapExport(s.peer);
  const target = { importedCap: tester };
  await s.peer.sendBytes(concatMessages(
    build.call({
      questionId: 1,
      target,
      interfaceId: TESTER,
      methodId: METHOD.wait,
      params: (content) => initStruct(Tester_Wait$Params, content).ms = 300,
    }),
    build.call({
      questionId: 2,
      target,
      interfaceId: TESTER,
      methodId: METHOD.add,
      params: addParams(1, 1),
    }),
  ));
  const refused = (await s.peer.expect(RpcMessage.RETURN)).return;
  assertEquals([refused.answerId, refused.which()], [2, RpcReturn.EXCEPTION]);
  const { type, reason } = exceptionOf(refused.exception);
  assertEquals(type, OVERLOADED);
  assert(reason.includes("maxRunningCallBytes"), reason);
  const waited = (await s.peer.expect(RpcMessage.RETURN)).return;
  assertEquals([waited.answerId, waited.which()], [1, RpcReturn.RESULTS]);
  // Once the first returned, calls run again.
  const ret = await callAdd(s.peer, 3, target, 1, 1);
  assertEquals(readStruct(Tester_Add$Results, ret.results.content).result, 2);
});

for (
  const [label, firstValue, refused] of [
    ["calls on other connections count; over the total, overloaded", 20_000, true],
    ["a connection allowed more does not use up a stricter one's total", 1 << 30, false],
    ["a stricter connection counts against a more lenient one's total", 10_000, true],
  ] as const
) {
  Deno.test(`maxProcessRunningCallBytes: ${label}`, async () => {
    // Each small call keeps a 16 KiB receive buffer: one runs on the first connection, then a
    // call on the second (allowed 20 000 bytes) is over what its value counts, though its own
    // connection runs nothing, unless the first is allowed more.
    await using first = await serverSession({ maxProcessRunningCallBytes: firstValue });
    await using second = await serverSession({ maxProcessRunningCallBytes: 20_000 });
    const call = (s: Session, questionId: number, methodId: number, params: Params) =>
      s.peer.send(build.call({ questionId, target, interfaceId: TESTER, methodId, params }));
    type Params = Parameters<typeof build.call>[0]["params"];
    const target = { importedCap: await bootstrapExport(first.peer) };
    assertEquals(
      await bootstrapExport(second.peer),
      target.importedCap,
      "the same first export id",
    );
    // Running until its Finish below.
    await call(first, 1, METHOD.wait, (content) => {
      initStruct(Tester_Wait$Params, content).ms = 600_000;
    });
    await waitFor(() => first.signals.length > 0, 20_000, "the wait to run");
    await call(second, 1, METHOD.add, addParams(1, 1));
    const ret = (await second.peer.expect(RpcMessage.RETURN)).return;
    if (refused) {
      assertEquals([ret.answerId, ret.which()], [1, RpcReturn.EXCEPTION]);
      const { type, reason } = exceptionOf(ret.exception);
      assertEquals(type, OVERLOADED);
      assertMatch(
        reason,
        /in this process: \d+ and \d+ more on the connections whose maxProcessRunningCallBytes is 20000 or less, and this connection would hold \d+, more than its share of 10000\.$/,
      );
    } else {
      assertEquals(readStruct(Tester_Add$Results, ret.results.content).result, 2);
    }
    await first.peer.send(build.finish(1, true));
    const waited = (await first.peer.expect(RpcMessage.RETURN)).return;
    assertEquals([waited.answerId, waited.which()], [1, RpcReturn.CANCELED]);
    // The first call's bytes are back: the second connection's calls run.
    const again = await callAdd(second.peer, 2, target, 1, 1);
    assertEquals(readStruct(Tester_Add$Results, again.results.content).result, 2);
  });
}

/** Each wait keeps a 16 KiB receive buffer: a unit of running bytes. */
const RUNNING_UNIT = 16 * 1024;

/**
 * Opens a connection per row, allowed `value` bytes of
 * `maxProcessRunningCallBytes`, which runs `runs` waits of a unit one at a
 * time and then has one more refused: the connections whose value is
 * `over` or less run `total` units, and the refusal says `why`.
 */
async function assertRunningRefusals(
  rows:
    readonly (readonly [value: number, runs: number, total: number, over: number, why: string])[],
) {
  await using sessions = closedTogether<Session>((s) => s);
  for (const [value, runs, total, over, why] of rows) {
    const s = await serverSession({ maxProcessRunningCallBytes: value });
    sessions.push(s);
    const target = { importedCap: await bootstrapExport(s.peer) };
    const wait = (questionId: number) =>
      s.peer.send(build.call({
        questionId,
        target,
        interfaceId: TESTER,
        methodId: METHOD.wait,
        params: (content) => initStruct(Tester_Wait$Params, content).ms = 600_000,
      }));
    // One at a time, so that each arrives in a buffer of its own.
    for (let questionId = 1; questionId <= runs; questionId++) {
      await wait(questionId);
      await waitFor(() => s.signals.length === questionId, 20_000, `wait ${questionId} to run`);
    }
    await wait(runs + 1);
    const refused = (await s.peer.expect(RpcMessage.RETURN)).return;
    assertEquals([refused.answerId, refused.which()], [runs + 1, RpcReturn.EXCEPTION]);
    const { type, reason } = exceptionOf(refused.exception);
    assertEquals([type, reason], [
      OVERLOADED,
      `Too many bytes held by calls in progress in this process: ${total * RUNNING_UNIT} and ` +
      `${RUNNING_UNIT} more on the connections whose maxProcessRunningCallBytes is ${over} or ` +
      `less, and ${why}`,
    ]);
  }
}

Deno.test("maxProcessRunningCallBytes: a connection under its share still runs calls, to twice the limit in all", async () => {
  // The limit is 16 units. The first connection takes all of it, the second its share of two
  // (8), the third of three (5), and the fourth 3 of its 4 before the total is at twice the limit.
  const unit = RUNNING_UNIT, limit = 16 * unit;
  const share = (runs: number, of: number) =>
    `this connection would hold ${(runs + 1) * unit}, more than its share of ${of}.`;
  await assertRunningRefusals([
    [limit, 16, 16, limit, share(16, limit)],
    [limit, 8, 24, limit, share(8, limit / 2)],
    [limit, 5, 29, limit, share(5, Math.floor(limit / 3))],
    [limit, 3, 32, limit, "no call may take them past twice that."],
  ]);
});

Deno.test("maxProcessRunningCallBytes: a call whose target throws as it is delivered aborts and leaves nothing counted", async () => {
  // A hook of the engine's users that fails to deliver: the call had been counted as running.
  class UndeliverableHook extends Hook {
    send(): Sent {
      throw new Error("the hook cannot deliver");
    }
  }
  const value = 2 * RUNNING_UNIT;
  {
    const undeliverable = new Capability(new UndeliverableHook().retain());
    await using s = await session({
      bootstrap: undeliverable,
      limits: { maxProcessRunningCallBytes: value },
    });
    undeliverable.dispose(); // the connection holds its own reference
    const target = { importedCap: await bootstrapExport(s.peer) };
    await s.peer.send(build.call({
      questionId: 1,
      target,
      interfaceId: TESTER,
      methodId: METHOD.add,
      params: addParams(1, 1),
    }));
    await expectAbort(s, "the hook cannot deliver");
  }
  // None of its unit is left counted: a connection of the same value runs two, as alone.
  await assertRunningRefusals([
    [
      value,
      2,
      2,
      value,
      `this connection would hold ${3 * RUNNING_UNIT}, more than its share of ${value}.`,
    ],
  ]);
});

Deno.test("maxProcessRunningCallBytes: no call takes a more lenient value's total past twice it", async () => {
  // A connection allowed two units runs two. One allowed a unit less one byte runs one, which
  // the lenient total has room for; one allowed a unit less two bytes may not take the total of
  // the one before past twice its value, though its own connections run nothing.
  const unit = RUNNING_UNIT;
  await assertRunningRefusals([
    [
      2 * unit,
      2,
      2,
      2 * unit,
      `this connection would hold ${3 * unit}, more than its share of ${2 * unit}.`,
    ],
    [
      unit - 1,
      1,
      1,
      unit - 1,
      `this connection would hold ${2 * unit}, more than its share of ${unit - 1}.`,
    ],
    [unit - 2, 0, 1, unit - 1, "no call may take them past twice that."],
  ]);
});

/** Content: a chain of `levels` structs of a zero data word, each holding the next in its pointer. */
function nestedContent(levels: number): (content: capnp.Pointer) => void {
  return (content) => {
    let pointer = content;
    for (let i = 0; i < levels; i++) {
      const struct = new capnp.Struct(pointer.segment, pointer.byteOffset);
      capnp.utils.initStruct(new capnp.ObjectSize(8, 1), struct);
      pointer = capnp.utils.getPointer(0, struct);
    }
  };
}

Deno.test("client: results nested past the limit fail their call alone; their capabilities are released", async () => {
  // Message, Return, Payload: the content's first struct is the fourth level.
  await using s = await session({ limits: { nestingLimit: 10 } });
  using tester = await establish(s, { senderHosted: 7 });
  for (const [levels, fits] of [[7, true], [8, false]] as const) {
    const call = handled(tester.add(1, 2));
    const received = await expectCall(s.peer, { importedCap: 7 });
    const questionId = received.root.call.questionId;
    await s.peer.send(build.return({
      answerId: questionId,
      releaseParamCaps: false,
      results: nestedContent(levels),
      capTable: fits ? [] : [{ senderHosted: 9 }],
    }));
    if (fits) {
      assertEquals(await withTimeout(call), 0);
      await expectFinish(s.peer, questionId, false);
      continue;
    }
    const error = await rejection(call);
    assertEquals(error.type, "failed");
    assertEquals(
      error.message,
      "Message is too deeply-nested or contains cycles. The results nest deeper than 10 levels " +
        "(nestingLimit), counted from the message's root.",
    );
    const release = (await s.peer.expect(RpcMessage.RELEASE)).release;
    assertEquals({ id: release.id, referenceCount: release.referenceCount }, {
      id: 9,
      referenceCount: 1,
    });
    await expectFinish(s.peer, questionId, false);
  }
  const later = handled(tester.add(4, 5));
  await answerAdd(s.peer, await expectCall(s.peer, { importedCap: 7 }));
  assertEquals(await withTimeout(later), 9);
  assertEquals(s.rpc.stats.questions, 0);
});

Deno.test("a nesting limit too small for the envelope itself aborts on a message past it", async () => {
  await using s = await serverSession({ nestingLimit: 4 });
  const add = { target: { importedCap: await bootstrapExport(s.peer) }, methodId: METHOD.add };
  await s.peer.send(
    build.call({ ...add, questionId: 1, interfaceId: TESTER, params: nestedContent(2) }),
  );
  await expectAbort(s, "Message is too deeply-nested or contains cycles.");
});

/** Params with a capability and a Data, which no schema here has: a call is never sent with them. */
class CapAndData extends capnp.Struct {
  static readonly _capnp = {
    displayName: "CapAndData",
    id: "0",
    size: new capnp.ObjectSize(0, 2),
  };
}

Deno.test("client: a call more than a peer reads in one message fails at once, sending nothing; its capability exports are given back", async () => {
  await using s = await session({ limits: { maxMessageBytes: 4096 } });
  using tester = await establish(s, { senderHosted: 7 });
  const tooLarge =
    /^Message too large: the call's params take \d+ bytes, more than a peer reads in one message \(4096, maxMessageBytes\); nothing was sent\.$/;
  const error = await rejection(handled(tester.echo(new Uint8Array(5000))));
  assertEquals(error.type, "failed");
  assertMatch(error.message, tooLarge);
  const request = tester.cap.request({
    interfaceId: TESTER,
    methodId: METHOD.echoCap,
    ParamsClass: CapAndData,
  });
  const { cap, counts } = countingCallback();
  setCapParam(request, 0, cap);
  setData(capnp.utils.getPointer(1, request.params), new Uint8Array(5000));
  assertMatch(
    (await rejection(handled(request.send().then((r) => r.dispose())))).message,
    tooLarge,
  );
  assertEquals(s.rpc.stats, { questions: 0, answers: 0, imports: 1, exports: 0 });
  cap.dispose();
  assertEquals(counts.disposed, 1, "the callback, exported only to describe it, is held no more");
  // Nothing of either reached the peer: the next message it gets is the next call.
  const later = handled(tester.add(4, 5));
  await answerAdd(s.peer, await expectCall(s.peer, { importedCap: 7 }));
  assertEquals(await withTimeout(later), 9);
});

Deno.test("results more than a peer reads in one message fail their call, and calls pipelined on it", async () => {
  // Echoes its Data ten times over: small params, large results.
  const { methods } = Tester$Client;
  const server = Capability.fromServer(serverFromMethods(
    new Map([[TESTER, [undefined!, (call) => {
      const data = call.params(methods[1].ParamsClass).data.toUint8Array();
      const results = call.results(Tester_Echo$Results);
      setData(capnp.utils.getPointer(0, results), new Uint8Array(data.byteLength * 10));
    }]]]),
  ));
  await using s = await session({ bootstrap: server, limits: { maxMessageBytes: 4096 } });
  server.dispose();
  const exportId = await bootstrapExport(s.peer);
  const echo = (questionId: number, bytes: number) => ({
    questionId,
    target: { importedCap: exportId },
    interfaceId: TESTER,
    methodId: METHOD.echo,
    params: (content: capnp.Pointer) => initStruct(Tester_Echo$Params, content)._initData(bytes),
  });
  const fits = await callEngine(s.peer, echo(1, 100));
  assertEquals(fits.which(), RpcReturn.RESULTS);
  await s.peer.send(build.finish(1, false));
  const pipelined = { ...echo(3, 1), target: { promisedAnswer: 2, transform: [0] } };
  // The second, and one pipelined on its results before its Finish, fail alike.
  for (const call of [echo(2, 500), pipelined]) {
    const ret = await callEngine(s.peer, call);
    assertEquals(ret.which(), RpcReturn.EXCEPTION);
    assertMatch(
      exceptionOf(ret.exception).reason,
      /^Message too large: the results take \d+ bytes, more than a peer reads in one message \(4096, maxMessageBytes\); nothing was sent\.$/,
    );
  }
  await s.peer.send(build.finish(2, false));
  await s.peer.send(build.finish(3, false));
  assertEquals((await callEngine(s.peer, echo(4, 100))).which(), RpcReturn.RESULTS);
});

Deno.test("a message of a kind not implemented here nested past the limit aborts: it is never echoed", async () => {
  await using s = await serverSession();
  await bootstrapExport(s.peer);
  // A Message of union member 99 whose body nests 70 deep: echoing it would copy what no check
  // reached (a cycle or a diamond there would make the copy endless or exponential).
  const message = new capnp.Message();
  const root = message.initRoot(RpcMessage);
  capnp.utils.setUint16(0, 99, root);
  nestedContent(70)(capnp.utils.getPointer(0, root));
  await s.peer.send(message);
  await expectAbort(s, "Message is too deeply-nested or contains cycles.");
});

Deno.test("a tail call back into the engine refused as too deep fails the engine's own call alone", async () => {
  const { tester } = newTester();
  await using s = await session({ bootstrap: tester });
  tester.dispose();
  const exportId = await bootstrapExport(s.peer);
  using remote = await establish(s);
  const sum = handled(remote.add(1, 2));
  const received = await expectCall(s.peer, { importedCap: 7 });
  const tail = build.call({
    questionId: 5,
    target: { importedCap: exportId },
    interfaceId: TESTER,
    methodId: METHOD.add,
    params: nestedContent(70),
  });
  tail.getRoot(RpcMessage).call.sendResultsTo.yourself = true;
  await s.peer.send(tail);
  await s.peer.send(build.return({
    answerId: received.root.call.questionId,
    takeFromOtherQuestion: 5,
  }));
  const error = await rejection(sum);
  assertMatch(
    error.message,
    /^Message is too deeply-nested or contains cycles\. The call's params/,
  );
  assert(!s.rpc.isClosed, "the connection goes on");
});
