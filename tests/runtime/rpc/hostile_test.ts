/**
 * Hostile peers against a real Tester server process.
 *
 * One Tester server process (`startDenoTester`) runs for the whole file.
 * Each step opens a raw UNIX-socket connection, writes hostile bytes,
 * and checks what the server does on that connection: an `abort` message and
 * a close for protocol violations, a bare close for framing violations, an
 * `unimplemented` echo or an exception Return where the protocol says the
 * connection goes on. After every step a connection opened before all steps
 * and one opened afterwards must still be served, and the process must still
 * be alive.
 *
 * @module
 */
import * as capnp from "capnp-es";
import {
  CapDescriptor,
  Exception_Type,
  Message as RpcMessage,
  MessageTarget,
  Return as RpcReturn,
} from "capnp-es/capnp/rpc";
import { encodeFrame } from "../../../runtime/framing.ts";
import { DEFAULT_RPC_LIMITS } from "../../../runtime/rpc/connection.ts";
import { RpcError } from "../../../runtime/rpc/errors.ts";
import {
  Tester$Client,
  Tester_Add$Params,
  Tester_Add$Results,
  Tester_Echo$Results,
  Tester_Wait$Params,
} from "../../../examples/schemas/gen/testing.ts";
import { assert, assertEquals, assertMatch } from "../../assert.ts";
import {
  concatBytes,
  connectTester,
  DEFAULT_TIMEOUT_MS,
  memoryOf,
  type Peer,
  startDenoTester,
  tempSocket,
  withTimeout,
} from "../../helpers.ts";
import { buildMessage, whichName, WirePeer } from "../../wire_peer.ts";

/** How long any single reply or close may take. */
const REPLY_MS = DEFAULT_TIMEOUT_MS;

/** Bootstraps with `questionId`; returns the export id of the server's bootstrap capability. */
async function bootstrap(raw: WirePeer, questionId = 0): Promise<number> {
  await raw.sendBytes(rpc((m) => m._initBootstrap().questionId = questionId));
  const ret = await raw.expectReturn(questionId);
  assertEquals(ret.which(), RpcReturn.RESULTS, "bootstrap Return variant");
  const table = ret.results.capTable;
  assertEquals(table.length, 1, "bootstrap cap table length");
  assertEquals(table.get(0).which(), CapDescriptor.SENDER_HOSTED, "bootstrap descriptor");
  return table.get(0).senderHosted;
}

/** Calls add(a, b) on export `target` as `questionId`, checks the result, and finishes. */
async function expectAdd(
  raw: WirePeer,
  questionId: number,
  target: number,
  a: number,
  b: number,
): Promise<void> {
  await raw.sendBytes(addCall(questionId, target, a, b));
  const ret = await raw.expectReturn(questionId);
  assertEquals(ret.which(), RpcReturn.RESULTS, "add Return variant");
  assertEquals(resultsOf(ret, Tester_Add$Results).result, a + b, "add result");
  await raw.sendBytes(finish(questionId));
}

// ---- Building messages ----

/** A framed RPC message whose root is filled in by `fill`. */
function rpc(fill: (root: RpcMessage) => void): Uint8Array {
  return new Uint8Array(buildMessage(fill).toArrayBuffer());
}

function finish(questionId: number): Uint8Array {
  return rpc((m) => m._initFinish().questionId = questionId);
}

/** A Call on export `target`; `fill` writes the params content. */
function call(
  questionId: number,
  target: number | { questionId: number },
  interfaceId: bigint,
  methodId: number,
  fill: (content: capnp.Pointer) => void = () => {},
): Uint8Array {
  return rpc((m) => {
    const c = m._initCall();
    c.questionId = questionId;
    if (typeof target === "number") c._initTarget().importedCap = target;
    else c._initTarget()._initPromisedAnswer().questionId = target.questionId;
    c.interfaceId = interfaceId;
    c.methodId = methodId;
    fill(c._initParams().content);
  });
}

function initParams<T extends capnp.Struct>(Ctor: capnp.StructCtor<T>, content: capnp.Pointer): T {
  capnp.utils.initStruct(Ctor._capnp.size, content);
  return capnp.utils.getAs(Ctor, content);
}

function addCall(
  questionId: number,
  target: number | { questionId: number },
  a: number,
  b: number,
): Uint8Array {
  return call(questionId, target, Tester$Client.interfaceId, 0, (content) => {
    const params = initParams(Tester_Add$Params, content);
    params.a = a;
    params.b = b;
  });
}

function waitCall(questionId: number, target: number, ms: number): Uint8Array {
  return call(questionId, target, Tester$Client.interfaceId, 6, (content) => {
    initParams(Tester_Wait$Params, content).ms = ms;
  });
}

function resultsOf<T extends capnp.Struct>(ret: RpcReturn, Ctor: capnp.StructCtor<T>): T {
  return capnp.utils.getAs(Ctor, ret.results.content);
}

/** A deterministic byte stream (xorshift32), so a failure reproduces. */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

// ---- Hand-written segments ----

/** Words of the hand-written Call envelope before the params content. */
const ENVELOPE_WORDS = 13;
/** Word holding the params content pointer. */
const CONTENT_POINTER = 11;

/** Writes a struct pointer at word `at` to a struct at word `to`. */
function structPointer(
  view: DataView,
  at: number,
  to: number,
  dataWords: number,
  pointers: number,
): void {
  view.setInt32(at * 8, ((to - at - 1) << 2) | 0, true);
  view.setUint32(at * 8 + 4, dataWords | (pointers << 16), true);
}

/** Writes a list pointer at word `at` to a list at word `to`. */
function listPointer(
  view: DataView,
  at: number,
  to: number,
  elementSize: number,
  count: number,
): void {
  view.setInt32(at * 8, ((to - at - 1) << 2) | 1, true);
  view.setUint32(at * 8 + 4, elementSize | (count << 3), true);
}

/**
 * One segment holding `Message{call: Call{questionId, target: importedCap,
 * interfaceId, methodId, params: Payload{content}}}`, written word by word.
 * `writeContent` gets the view and must write the content pointer at word
 * {@linkcode CONTENT_POINTER} and the content from word
 * {@linkcode ENVELOPE_WORDS} on, within `contentWords` words.
 */
function handWrittenCall(
  head: { questionId: number; target: number; interfaceId: bigint; methodId: number },
  contentWords: number,
  writeContent: (view: DataView) => void,
): Uint8Array {
  const segment = new Uint8Array((ENVELOPE_WORDS + contentWords) * 8);
  const view = new DataView(segment.buffer);
  structPointer(view, 0, 1, 1, 1); // root -> Message (1 data word, 1 pointer)
  view.setUint16(1 * 8, RpcMessage.CALL, true); // Message union discriminant
  structPointer(view, 2, 3, 3, 3); // Message.call -> Call (3 data words, 3 pointers)
  view.setUint32(3 * 8, head.questionId, true);
  view.setUint16(3 * 8 + 4, head.methodId, true);
  view.setUint16(3 * 8 + 6, 0, true); // sendResultsTo = caller
  view.setBigUint64(4 * 8, head.interfaceId, true);
  structPointer(view, 6, 9, 1, 1); // Call.target -> MessageTarget
  structPointer(view, 7, 11, 0, 2); // Call.params -> Payload (content, capTable)
  // word 8: Call.sendResultsTo.thirdParty, null
  view.setUint32(9 * 8, head.target, true); // MessageTarget.importedCap
  view.setUint16(9 * 8 + 4, MessageTarget.IMPORTED_CAP, true);
  // word 10: MessageTarget.promisedAnswer, null; word 12: Payload.capTable, null
  writeContent(view);
  return encodeFrame([segment]);
}

/** echo params with `slots` pointer fields, the first `aliases` of them on one `blobBytes` Data. */
function aliasedEcho(
  questionId: number,
  target: number,
  slots: number,
  aliases: number,
  blobBytes: number,
): Uint8Array {
  const params = ENVELOPE_WORDS;
  const blob = params + slots;
  return handWrittenCall(
    { questionId, target, interfaceId: Tester$Client.interfaceId, methodId: 1 },
    slots + blobBytes / 8,
    (view) => {
      structPointer(view, CONTENT_POINTER, params, 0, slots);
      for (let i = 0; i < aliases; i++) listPointer(view, params + i, blob, 2, blobBytes);
      for (let i = 0; i < blobBytes; i++) view.setUint8(blob * 8 + i, i * 7 + 1);
    },
  );
}

/**
 * Message{which: 99 (unknown), pointer 0 -> level 0}, where level i is a struct of two
 * pointers, both to level i + 1: a frame of `levels` * 16 bytes in which level i is reached
 * 2^i times, as a deep copy would copy it.
 */
function sharedChain(levels: number): Uint8Array {
  const segment = new Uint8Array((3 + levels * 2 + 1) * 8);
  const view = new DataView(segment.buffer);
  structPointer(view, 0, 1, 1, 1);
  view.setUint16(8, 99, true);
  structPointer(view, 2, 3, 0, 2);
  for (let i = 0; i < levels; i++) {
    const at = 3 + i * 2;
    structPointer(view, at, at + 2, 0, i + 1 < levels ? 2 : 1);
    structPointer(view, at + 1, at + 2, 0, i + 1 < levels ? 2 : 1);
  }
  return encodeFrame([segment]);
}

// ---- The server under attack ----

interface Server {
  readonly path: string;
  readonly peer: Peer;
  /** Set once the server process has exited. */
  exited: boolean;
}

const MEMORY_CEILING = 500 * 1024 * 1024;

function assertSmallMemory(server: Server): void {
  const { rss, peak } = memoryOf(server.peer.child.pid);
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
  assert(rss < MEMORY_CEILING, `server VmRSS is ${mb(rss)}`);
  assert(peak < MEMORY_CEILING, `server VmHWM (peak RSS) is ${mb(peak)}`);
}

type Client = Awaited<ReturnType<typeof connectTester>>;

/** The long-lived connection and a fresh one both work, and the process is alive. */
async function assertServing(server: Server, before: Client): Promise<void> {
  const payload = pseudoRandomBytes(100, 7);
  const check = async (client: Client, which: string) => {
    assertEquals(await withTimeout(client.tester.add(2, 3), REPLY_MS, `add on ${which}`), 5, "add");
    const echoed = await withTimeout(client.tester.echo(payload), REPLY_MS, `echo on ${which}`);
    assertEquals(echoed.byteLength, payload.byteLength, `echo length on ${which}`);
    assert(echoed.every((b, i) => b === payload[i]), `echo content on ${which}`);
  };
  await check(before, "the connection opened before");
  await using after = await connectTester(server.path);
  await check(after, "a new connection");
  assert(!server.exited, "server process exited");
}

Deno.test({
  name: "hostile peers: each is aborted or closed, and the server keeps serving everyone else",
}, async (t) => {
  using socket = tempSocket("hostile");
  const path = socket.path;
  await using peer = await startDenoTester(path);
  const server: Server = { path, peer, exited: false };
  peer.child.status.then(() => server.exited = true);
  await using before = await connectTester(path);
  assertEquals(await before.tester.add(1, 1), 2, "first add");

  await t.step("64 KiB of random bytes: closed without a reply", async () => {
    await using raw = await WirePeer.connect(path);
    const bytes = pseudoRandomBytes(64 * 1024, 0x5eed);
    // Declares far more than 512 segments.
    assert(new DataView(bytes.buffer).getUint32(0, true) + 1 > 512, "seed gives a bad header");
    await raw.trySendBytes(bytes);
    await raw.expectEof();
    await assertServing(server, before);
  });

  await t.step("valid frame header, random segment content: abort from validation", async () => {
    await using raw = await WirePeer.connect(path);
    const words = 1024;
    const segment = pseudoRandomBytes(words * 8, 0xbad5eed);
    await raw.sendBytes(encodeFrame([segment]));
    await raw.expectAbort(
      /out-of-bounds|Unknown pointer type|far|Far pointer|INLINE_COMPOSITE|deeply-nested|traversal limit|prematurely/,
    );
    await assertServing(server, before);
  });

  await t.step("Finish for an unknown question id: abort", async () => {
    await using raw = await WirePeer.connect(path);
    await raw.sendBytes(finish(5));
    await raw.expectAbort(/Finish for unknown answer ID/);
    await assertServing(server, before);
  });

  await t.step("Return for an unknown question id: abort", async () => {
    await using raw = await WirePeer.connect(path);
    await raw.sendBytes(rpc((m) => {
      const ret = m._initReturn();
      ret.answerId = 7;
      ret._initResults();
    }));
    await raw.expectAbort(/Invalid question ID in Return message/);
    await assertServing(server, before);
  });

  await t.step("Release of an unknown export id: abort", async () => {
    await using raw = await WirePeer.connect(path);
    await raw.sendBytes(rpc((m) => {
      const release = m._initRelease();
      release.id = 42;
      release.referenceCount = 1;
    }));
    await raw.expectAbort(/Tried to release invalid export ID/);
    await assertServing(server, before);
  });

  await t.step("Release with a count above the export's references: abort", async () => {
    await using raw = await WirePeer.connect(path);
    const exportId = await bootstrap(raw);
    await raw.sendBytes(rpc((m) => {
      const release = m._initRelease();
      release.id = exportId;
      release.referenceCount = 5;
    }));
    await raw.expectAbort(/refcount below zero/);
    await assertServing(server, before);
  });

  await t.step("duplicate question id on two running calls: abort", async () => {
    await using raw = await WirePeer.connect(path);
    const exportId = await bootstrap(raw);
    await raw.sendBytes(waitCall(1, exportId, 2000));
    await raw.sendBytes(waitCall(1, exportId, 2000));
    await raw.expectAbort(/Duplicate question ID/);
    await assertServing(server, before);
  });

  await t.step("duplicate question id: Bootstrap reusing a running call's id: abort", async () => {
    await using raw = await WirePeer.connect(path);
    const exportId = await bootstrap(raw);
    await raw.sendBytes(waitCall(1, exportId, 2000));
    await raw.sendBytes(rpc((m) => m._initBootstrap().questionId = 1));
    await raw.expectAbort(/Duplicate question ID/);
    await assertServing(server, before);
  });

  await t.step("Call to unknown export id 999: abort", async () => {
    await using raw = await WirePeer.connect(path);
    await bootstrap(raw);
    await raw.sendBytes(addCall(1, 999, 2, 3));
    await raw.expectAbort(/not a current export ID/);
    await assertServing(server, before);
  });

  await t.step("Call pipelined on an unknown question: abort", async () => {
    await using raw = await WirePeer.connect(path);
    await raw.sendBytes(addCall(1, { questionId: 77 }, 2, 3));
    await raw.expectAbort(/request that doesn't exist/);
    await assertServing(server, before);
  });

  await t.step("Disembargo senderLoopback on unknown export 999: abort", async () => {
    await using raw = await WirePeer.connect(path);
    await raw.sendBytes(rpc((m) => {
      const disembargo = m._initDisembargo();
      disembargo._initTarget().importedCap = 999;
      disembargo._initContext().senderLoopback = 0;
    }));
    await raw.expectAbort(/not a current export ID/);
    await assertServing(server, before);
  });

  await t.step("Disembargo senderLoopback on a server-hosted object: abort", async () => {
    await using raw = await WirePeer.connect(path);
    const exportId = await bootstrap(raw);
    await raw.sendBytes(rpc((m) => {
      const disembargo = m._initDisembargo();
      disembargo._initTarget().importedCap = exportId;
      disembargo._initContext().senderLoopback = 0;
    }));
    await raw.expectAbort(/does not point back to the sender/);
    await assertServing(server, before);
  });

  await t.step("Disembargo receiverLoopback with an unknown embargo id: abort", async () => {
    await using raw = await WirePeer.connect(path);
    const exportId = await bootstrap(raw);
    await raw.sendBytes(rpc((m) => {
      const disembargo = m._initDisembargo();
      disembargo._initTarget().importedCap = exportId;
      disembargo._initContext().receiverLoopback = 42;
    }));
    await raw.expectAbort(/Invalid embargo ID/);
    await assertServing(server, before);
  });

  await t.step("a list where the Finish struct belongs: abort in C++'s words", async () => {
    await using raw = await WirePeer.connect(path);
    const bytes = finish(5);
    // Frame header (8 bytes), root pointer, Message's data word, then its pointer: make it
    // a list of 8 bytes (the Finish's data word) where a struct pointer belongs.
    const view = new DataView(bytes.buffer);
    view.setUint32(24, 1, true);
    view.setUint32(28, 2 | 8 << 3, true);
    await raw.sendBytes(bytes);
    await raw.expectAbort(/non-struct pointer where struct pointer was expected/);
    await assertServing(server, before);
  });

  await t.step(
    "unknown and unsupported message types: echoed as unimplemented, connection goes on",
    async () => {
      await using raw = await WirePeer.connect(path);
      /** Finish{questionId: 5} with its union discriminant overwritten to `which`. */
      const patched = (which: number) => {
        const bytes = rpc((m) => m._initFinish().questionId = 5);
        // Frame header (8 bytes), root pointer (8 bytes), then Message's data word.
        new DataView(bytes.buffer).setUint16(16, which, true);
        return bytes;
      };
      const cases: [string, number, Uint8Array][] = [
        ["out-of-range discriminant 42", 42, patched(42)],
        ["out-of-range discriminant 0xffff", 0xffff, patched(0xffff)],
        ["obsoleteSave", RpcMessage.OBSOLETE_SAVE, patched(RpcMessage.OBSOLETE_SAVE)],
        ["obsoleteDelete", RpcMessage.OBSOLETE_DELETE, patched(RpcMessage.OBSOLETE_DELETE)],
        ["provide", RpcMessage.PROVIDE, rpc((m) => m._initProvide().questionId = 3)],
        ["accept", RpcMessage.ACCEPT, rpc((m) => m._initAccept().questionId = 4)],
        ["join", RpcMessage.JOIN, rpc((m) => m._initJoin().questionId = 6)],
      ];
      for (const [name, which, bytes] of cases) {
        await raw.sendBytes(bytes);
        const reply = await raw.next();
        assert(
          reply.which() === RpcMessage.UNIMPLEMENTED,
          `${name}: expected unimplemented, got ${whichName(reply.which())}`,
        );
        assertEquals(reply.unimplemented.which(), which, `${name}: echoed discriminant`);
      }
      // The same connection still works.
      const exportId = await bootstrap(raw, 0);
      await expectAdd(raw, 1, exportId, 2, 3);
      await assertServing(server, before);
    },
  );

  await t.step(
    "unknown messages of a few hundred bytes whose pointers share one chain: abort, no echo",
    async () => {
      const cases = [
        // Within the traversal budget (8192 words and 4 per word sent), its deep copy 64 KiB.
        [11, /Unknown message whose echo would copy \d{5} bytes out of 2\d\d/],
        // Reaching 2^19 words: checking it all would take tens of milliseconds per message.
        [18, /traversal limit of \d{4} words for a message of 4\d \(traversalPerMessageWord\)/],
      ] as const;
      for (const [levels, reason] of cases) {
        await using raw = await WirePeer.connect(path);
        await raw.sendBytes(sharedChain(levels));
        await raw.expectAbort(reason);
      }
      assertSmallMemory(server);
      await assertServing(server, before);
    },
  );

  await t.step("unknown method and unknown interface: unimplemented exception Return", async () => {
    await using raw = await WirePeer.connect(path);
    const exportId = await bootstrap(raw);
    const cases: [string, bigint, number][] = [
      ["unknown method", Tester$Client.interfaceId, 99],
      ["unknown interface", 0x123456789abcdefn, 0],
    ];
    let questionId = 1;
    for (const [name, interfaceId, methodId] of cases) {
      await raw.sendBytes(call(questionId, exportId, interfaceId, methodId));
      const ret = await raw.expectReturn(questionId);
      assertEquals(ret.which(), RpcReturn.EXCEPTION, `${name}: Return variant`);
      assertEquals(ret.exception.type, Exception_Type.UNIMPLEMENTED, `${name}: exception type`);
      assertMatch(ret.exception.reason, /not implemented/, `${name}: reason`);
      await raw.sendBytes(finish(questionId++));
    }
    await expectAdd(raw, questionId, exportId, 2, 3);
    await assertServing(server, before);
  });

  await t.step("control: hand-written Call segments are valid messages", async () => {
    await using raw = await WirePeer.connect(path);
    const exportId = await bootstrap(raw);
    // add(2, 3) with the content written by hand.
    await raw.sendBytes(handWrittenCall(
      { questionId: 1, target: exportId, interfaceId: Tester$Client.interfaceId, methodId: 0 },
      1,
      (view) => {
        structPointer(view, CONTENT_POINTER, ENVELOPE_WORDS, 1, 0);
        view.setInt32(ENVELOPE_WORDS * 8, 2, true);
        view.setInt32(ENVELOPE_WORDS * 8 + 4, 3, true);
      },
    ));
    const added = await raw.expectReturn(1);
    assertEquals(resultsOf(added, Tester_Add$Results).result, 5, "hand-written add");
    await raw.sendBytes(finish(1));
    // The amplification layout with a single alias: a 1 MiB echo the server accepts.
    const blobBytes = 1 << 20;
    await raw.sendBytes(aliasedEcho(2, exportId, 1024, 1, blobBytes));
    const echoed = await raw.expectReturn(2);
    assertEquals(echoed.which(), RpcReturn.RESULTS, "1 MiB echo Return variant");
    const data = resultsOf(echoed, Tester_Echo$Results).data.toUint8Array();
    assertEquals(data.byteLength, blobBytes, "1 MiB echo length");
    assert(data.every((b, i) => b === ((i * 7 + 1) & 0xff)), "1 MiB echo content");
    await raw.sendBytes(finish(2));
    await assertServing(server, before);
  });

  await t.step(
    "pointer cycle in call params: that call fails, the connection goes on",
    async () => {
      await using raw = await WirePeer.connect(path);
      const exportId = await bootstrap(raw);
      // echoText params whose `text` pointer points back at the params struct itself.
      const cyclic = (view: DataView) => {
        structPointer(view, CONTENT_POINTER, ENVELOPE_WORDS, 0, 1);
        structPointer(view, ENVELOPE_WORDS, ENVELOPE_WORDS, 0, 1);
      };
      const echoText = { target: exportId, interfaceId: Tester$Client.interfaceId, methodId: 2 };
      await raw.sendBytes(handWrittenCall({ ...echoText, questionId: 1 }, 1, cyclic));
      const ret = await raw.expectReturn(1);
      assertEquals(ret.which(), RpcReturn.EXCEPTION, "cyclic call Return variant");
      assertEquals(ret.exception.type, Exception_Type.FAILED, "cyclic call exception type");
      assertMatch(ret.exception.reason, /too deeply-nested or contains cycles. The call's params/);
      await raw.sendBytes(finish(1));
      await expectAdd(raw, 2, exportId, 2, 3);
      await assertServing(server, before);
    },
  );

  await t.step(
    "1024 pointers aliasing one 1 MiB blob: abort for traversal, memory stays small",
    async () => {
      await using raw = await WirePeer.connect(path);
      const exportId = await bootstrap(raw);
      const message = aliasedEcho(1, exportId, 1024, 1024, 1 << 20);
      assert(message.byteLength < (1 << 20) + 16 * 1024, "the message itself is about 1 MiB");
      await raw.sendBytes(message);
      await raw.expectAbort(/Exceeded message traversal limit/);
      assertSmallMemory(server);
      await assertServing(server, before);
    },
  );

  await t.step(
    "cap tables of voids, bytes or pointers (a handle each, whatever it took on the wire): abort, memory stays small",
    async () => {
      // wait(1 h), its Payload.capTable (word 12) a list of `size` elements, bytes after the params.
      const tables = [
        { size: 0, count: 8000, dataBytes: 0 },
        { size: 2, count: 8_000_000, dataBytes: 1 },
        { size: 6, count: 1_000_000, dataBytes: 0 },
      ];
      for (const { size, count, dataBytes } of tables) {
        await using raw = await WirePeer.connect(path);
        const exportId = await bootstrap(raw);
        const listBytes = size === 0 ? 0 : size === 2 ? count : count * 8;
        await raw.sendBytes(handWrittenCall(
          { questionId: 1, target: exportId, interfaceId: Tester$Client.interfaceId, methodId: 6 },
          1 + Math.ceil(listBytes / 8),
          (view) => {
            structPointer(view, CONTENT_POINTER, ENVELOPE_WORDS, 1, 0);
            view.setUint32(ENVELOPE_WORDS * 8, 3_600_000, true);
            listPointer(view, 12, ENVELOPE_WORDS + 1, size, count);
          },
        ));
        await raw.expectAbort(
          new RegExp(`Cap table of ${count} elements with ${dataBytes} data bytes each`),
        );
        assertSmallMemory(server);
      }
      await assertServing(server, before);
    },
  );

  await t.step(
    "a cap table one past maxCapTableEntries: abort; one at it: taken, and every import released",
    async () => {
      const limit = DEFAULT_RPC_LIMITS.maxCapTableEntries;
      for (const count of [limit + 1, limit]) {
        await using raw = await WirePeer.connect(path);
        const exportId = await bootstrap(raw);
        // add(2, 3) with `count` senderHosted descriptors, each a distinct import.
        const table = ENVELOPE_WORDS + 1;
        await raw.sendBytes(handWrittenCall(
          { questionId: 1, target: exportId, interfaceId: Tester$Client.interfaceId, methodId: 0 },
          1 + 1 + count,
          (view) => {
            structPointer(view, CONTENT_POINTER, ENVELOPE_WORDS, 1, 0);
            view.setInt32(ENVELOPE_WORDS * 8, 2, true);
            view.setInt32(ENVELOPE_WORDS * 8 + 4, 3, true);
            listPointer(view, 12, table, 7, count);
            view.setUint32(table * 8, count << 2, true); // tag: `count` elements
            view.setUint32(table * 8 + 4, 1, true); // of one data word, no pointers
            for (let i = 0; i < count; i++) {
              view.setUint16((table + 1 + i) * 8, CapDescriptor.SENDER_HOSTED, true);
              view.setUint32((table + 1 + i) * 8 + 4, 1000 + i, true);
            }
          },
        ));
        if (count > limit) {
          await raw.expectAbort(
            new RegExp(
              `Cap table of ${count} entries; the limit is ${limit} \\(maxCapTableEntries\\)`,
            ),
          );
          continue;
        }
        const released = new Set<number>();
        let sum: number | undefined;
        while (sum === undefined || released.size < count) {
          const message = await raw.next();
          if (message.which() === RpcMessage.RELEASE) {
            assertEquals(
              message.release.referenceCount,
              1,
              `import ${message.release.id} released once`,
            );
            released.add(message.release.id);
          } else {
            assertEquals(message.which(), RpcMessage.RETURN, "a Return or Releases");
            sum = resultsOf(message.return, Tester_Add$Results).result;
          }
        }
        assertEquals(sum, 5, "add with a full cap table");
        assertEquals(Math.min(...released), 1000, "first import released");
        assertEquals(Math.max(...released), 1000 + count - 1, "last import released");
        assertSmallMemory(server);
      }
      await assertServing(server, before);
    },
  );

  await t.step("segment table declaring 2^32 segments: closed", async () => {
    await using raw = await WirePeer.connect(path);
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, 0xffffffff, true);
    await raw.trySendBytes(header);
    await raw.expectEof();
    await assertServing(server, before);
  });

  await t.step("one 4 GiB segment declared, 8 header bytes sent: closed at once", async () => {
    await using raw = await WirePeer.connect(path);
    const header = new Uint8Array(8);
    const view = new DataView(header.buffer);
    view.setUint32(0, 0, true); // one segment
    view.setUint32(4, 0x20000000, true); // of 2^29 words
    await raw.sendBytes(header);
    // The server must decide from the header alone: nothing more is coming.
    await raw.expectEof(2000);
    assertSmallMemory(server);
    await assertServing(server, before);
  });

  await t.step("packed-encoding bomb: refused (closed), memory stays small", async () => {
    await using raw = await WirePeer.connect(path);
    // Packed: tag 0x80 + byte 0x20 is the word 00 00 00 00 00 00 00 20, i.e. a segment
    // table of one 2^29-word (4 GiB) segment; each [0x00, 0xff] is 256 zero words more.
    const bomb = new Uint8Array([0x80, 0x20, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff]);
    await raw.trySendBytes(bomb);
    await raw.expectEof();
    assertSmallMemory(server);
    await assertServing(server, before);
  });

  await t.step(
    "1100 concurrent wait(500) calls: exactly 1024 run, 76 overloaded, connection survives",
    async () => {
      await using client = await connectTester(path);
      const outcomes = await withTimeout(
        Promise.allSettled(Array.from({ length: 1100 }, () => client.tester.wait(500))),
        10_000,
        "1100 wait calls",
      );
      let completed = 0;
      let overloaded = 0;
      const other: string[] = [];
      for (const outcome of outcomes) {
        if (outcome.status === "fulfilled" && outcome.value === true) completed++;
        else if (
          outcome.status === "rejected" && outcome.reason instanceof RpcError &&
          outcome.reason.type === "overloaded"
        ) overloaded++;
        else other.push(outcome.status === "rejected" ? String(outcome.reason) : "false");
      }
      assertEquals(other.length, 0, `other outcomes (${other.slice(0, 3).join("; ")})`);
      assertEquals(completed, 1024, "calls completed");
      assertEquals(overloaded, 76, "calls overloaded");
      assertEquals(await client.tester.add(2, 3), 5, "add on the overloaded connection");
      assert(!client.rpc.isClosed, "overloaded connection closed");
      await assertServing(server, before);
    },
  );

  await t.step("raw overload: call 1025 gets overloaded at once, the 1024 complete", async () => {
    await using raw = await WirePeer.connect(path);
    const exportId = await bootstrap(raw);
    const calls: Uint8Array[] = [];
    for (let q = 1; q <= 1025; q++) calls.push(waitCall(q, exportId, 1000));
    await raw.sendBytes(concatBytes(...calls));
    const refused = await raw.expectReturn(1025);
    assertEquals(refused.which(), RpcReturn.EXCEPTION, "call 1025 Return variant");
    assertEquals(refused.exception.type, Exception_Type.OVERLOADED, "call 1025 exception type");
    await raw.sendBytes(finish(1025));
    const done = new Set<number>();
    for (let i = 0; i < 1024; i++) {
      const message = await raw.next(REPLY_MS);
      assert(
        message.which() === RpcMessage.RETURN,
        `expected a Return, got ${whichName(message.which())}`,
      );
      assertEquals(message.return.which(), RpcReturn.RESULTS, "wait Return variant");
      done.add(message.return.answerId);
    }
    assertEquals(done.size, 1024, "distinct waits completed");
    await raw.sendBytes(concatBytes(...[...done].map(finish)));
    await expectAdd(raw, 2000, exportId, 2, 3);
    await assertServing(server, before);
  });

  await t.step("call pipelined on an overloaded call: exception Return, not an abort", async () => {
    await using raw = await WirePeer.connect(path);
    const exportId = await bootstrap(raw);
    const calls: Uint8Array[] = [];
    for (let q = 1; q <= 1025; q++) calls.push(waitCall(q, exportId, 1000));
    await raw.sendBytes(concatBytes(...calls));
    const refused = await raw.expectReturn(1025);
    assertEquals(refused.exception.type, Exception_Type.OVERLOADED, "call 1025 exception type");
    // A well-behaved client may have pipelined on 1025 before its Return arrived.
    await raw.sendBytes(addCall(1026, { questionId: 1025 }, 2, 3));
    const pipelined = await raw.expectReturn(1026);
    assertEquals(pipelined.which(), RpcReturn.EXCEPTION, "pipelined call Return variant");
    await assertServing(server, before);
  });

  await t.step(
    "well-behaved client pipelining on an overloaded call keeps its connection",
    async () => {
      await using client = await connectTester(path);
      const outcome = (promise: Promise<unknown>) =>
        promise.then(() => "ok", (error) => `${error.type}: ${error.message}`);
      const waits = Array.from({ length: 1024 }, () => outcome(client.tester.wait(500)));
      // The 1025th call is refused; a call pipelined on its result goes out before that is known.
      const { counter, done } = client.tester.makeCounter(1n);
      const next = outcome(counter.next());
      assertMatch(
        await withTimeout(outcome(done), REPLY_MS, "makeCounter"),
        /^overloaded/,
        "makeCounter",
      );
      assertMatch(
        await withTimeout(next, REPLY_MS, "counter.next"),
        /^(overloaded|failed)/,
        "next",
      );
      counter.dispose();
      const waited = await withTimeout(Promise.all(waits), REPLY_MS, "the 1024 waits");
      assertEquals([...new Set(waited)], ["ok"], "outcomes of the 1024 waits");
      assert(!client.rpc.isClosed, "connection closed");
      await assertServing(server, before);
    },
  );

  assertSmallMemory(server);
});
