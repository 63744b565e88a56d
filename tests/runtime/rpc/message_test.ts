/**
 * Unit tests of the engine's message plumbing: building and copying large
 * messages costs allocations linear in their size; received messages are
 * read in place.
 */
import * as capnp from "capnp-es";
import { Message as RpcMessage } from "capnp-es/capnp/rpc";
import { encodeFrame, FrameDecoder, FrameView } from "../../../runtime/framing.ts";
import {
  messageBytes,
  messageFromFrame,
  messageFromSegments,
  newCallMessage,
  newMessage,
  pointerAt,
  segmentsOf,
  setData,
} from "../../../runtime/rpc/message.ts";
import { validateFrame } from "../../../runtime/validate.ts";
import { Tester_Echo$Params } from "../../../examples/schemas/gen/testing.ts";
import { assert, assertEquals } from "../../assert.ts";

const MiB = 1024 * 1024;

/** Counts the bytes of every buffer `message`'s arena allocates from now on. */
function countAllocations(message: capnp.Message): { bytes: number; times: number } {
  const counted = { bytes: 0, times: 0 };
  const allocate = message.allocateSegment.bind(message);
  message.allocateSegment = (byteLength) => {
    const segment = allocate(byteLength);
    counted.bytes += segment.buffer.byteLength;
    counted.times++;
    return segment;
  };
  return counted;
}

/** A struct with one pointer, to hold the list. */
class Holder extends capnp.Struct {
  static readonly _capnp = { displayName: "Holder", id: "0", size: new capnp.ObjectSize(0, 1) };
}

/** Makes `message` a Return whose results hold `count` texts of `bytes` bytes; returns the content. */
function fillTexts(message: capnp.Message, count: number, bytes: number): capnp.Pointer {
  const content = message.initRoot(RpcMessage)._initReturn()._initResults().content;
  capnp.utils.initStruct(Holder._capnp.size, content);
  const texts = capnp.utils.initList(0, capnp.TextList, count, capnp.utils.getAs(Holder, content));
  for (let i = 0; i < count; i++) texts.set(i, String.fromCharCode(97 + i % 26).repeat(bytes));
  return content;
}

Deno.test("newMessage: 60 texts of 1 MiB allocate less than 4 times what they use", () => {
  const message = newMessage();
  const counted = countAllocations(message);
  fillTexts(message, 60, MiB);
  const used = messageBytes(message);
  assert(used > 60 * MiB, `${used} bytes used`);
  // Growing by what each text needs would allocate 1 + 2 + … + 60 MiB (1830 MiB) in 60 steps.
  assert(counted.bytes < 4 * used, `${counted.bytes} bytes allocated for ${used}`);
  assert(counted.times <= 10, `${counted.times} allocations`);
  assertEquals(segmentsOf(message).length, 1, "one segment on the wire");
  assertEquals(segmentsOf(message)[0].byteLength, used, "only the used part is sent");
});

Deno.test("newMessage: copying 60 texts of 1 MiB into a new message is linear too", () => {
  const content = fillTexts(newMessage(), 60, MiB);
  const copy = newMessage();
  const counted = countAllocations(copy);
  const into = copy.initRoot(RpcMessage)._initReturn()._initResults().content;
  capnp.utils.copyFrom(content, into);
  const used = messageBytes(copy);
  assert(used > 60 * MiB, `${used} bytes used`);
  assert(counted.bytes < 4 * used, `${counted.bytes} bytes allocated for ${used}`);
  const texts = capnp.utils.getList(0, capnp.TextList, capnp.utils.getAs(Holder, into));
  assertEquals(texts.length, 60);
  assertEquals(texts.get(59), "h".repeat(MiB));
});

Deno.test("newMessage: small messages stay in their first buffer", () => {
  const message = newMessage();
  const counted = countAllocations(message);
  const finish = message.initRoot(RpcMessage)._initFinish();
  finish.questionId = 7;
  assertEquals(counted.times, 0);
  assertEquals(segmentsOf(message).length, 1);
  assertEquals(messageBytes(message), segmentsOf(message)[0].byteLength);
});

Deno.test("newMessage: the words written after a large blob do not copy it again", () => {
  // A Call is filled in that order: params first, then its target when it is sent.
  const message = newMessage();
  const counted = countAllocations(message);
  const call = message.initRoot(RpcMessage)._initCall();
  const params = call._initParams();
  capnp.utils.initStruct(Holder._capnp.size, params.content);
  capnp.utils.initData(0, MiB, capnp.utils.getAs(Holder, params.content));
  call._initTarget().importedCap = 3;
  params._initCapTable(20);
  assertEquals(counted.times, 1, "one allocation, for the blob");
});

/** Frames of `messages` received by a decoder: each message with its `FrameCheck`. */
function receive(messages: capnp.Message[]): capnp.Message[] {
  const decoder = new FrameDecoder();
  const bytes = messages.map((m) => encodeFrame(segmentsOf(m)));
  const received: capnp.Message[] = [];
  for (const frame of bytes) {
    decoder.readTarget().set(frame);
    decoder.commitInPlace(frame.byteLength, (view) => {
      received.push(messageFromFrame(view, validateFrame(view)));
    });
  }
  return received;
}

/** A Return whose results are one text. */
function textReturn(text: string): capnp.Message {
  const message = newMessage();
  const content = message.initRoot(RpcMessage)._initReturn()._initResults().content;
  capnp.utils.initStruct(Holder._capnp.size, content);
  capnp.utils.setText(0, text, capnp.utils.getAs(Holder, content));
  return message;
}

/** The text of a Return built by {@linkcode textReturn}, read from `message`'s segment 0 at `root`. */
function textOf(message: capnp.Message): string {
  const root = pointerAt(message, 0, 0);
  const ret = capnp.utils.getAs(RpcMessage, root).return;
  return capnp.utils.getText(0, capnp.utils.getAs(Holder, ret.results.content));
}

Deno.test("messageFromFrame: a one-segment frame is read where it was received", () => {
  const [first, second] = receive([textReturn("first"), textReturn("second")]);
  const [a, b] = [first.getSegment(0), second.getSegment(0)];
  assert(a.buffer === b.buffer, "both read from the decoder's staging buffer, not copies");
  assertEquals([textOf(first), textOf(second)], ["first", "second"]);
  // A write that needs room goes to a new segment, never over the neighbour.
  const ret = capnp.utils.getAs(RpcMessage, pointerAt(first, 0, 0)).return;
  capnp.utils.setText(
    0,
    "a longer text than before",
    capnp.utils.getAs(Holder, ret.results.content),
  );
  assertEquals(textOf(first), "a longer text than before");
  assertEquals(textOf(second), "second");
});

Deno.test("messageFromFrame: a frame with a far pointer, or of several segments, is copied out", () => {
  // One segment whose root is a far pointer to a landing pad in that same segment.
  const selfFar = new Uint8Array(32);
  const view = new DataView(selfFar.buffer);
  view.setUint32(0, (1 << 3) | 2, true); // far: landing pad at word 1 of segment 0
  view.setUint32(8, 0, true); // landing pad: struct right after it,
  view.setUint32(12, 1 | (1 << 16), true); // one data word, one pointer
  view.setUint32(16, 42, true);
  // Several segments: capnp-es puts what follows the root pointer in further ones.
  const sample = new capnp.Message(encodeFrame([new Uint8Array(8), new Uint8Array(8)]), false);
  const Arena = sample._capnp.arena.constructor as new (
    buffers: ArrayBuffer[],
  ) => ConstructorParameters<typeof capnp.Message>[0];
  const several = new capnp.Message(new Arena([new ArrayBuffer(8)]));
  capnp.utils.initStruct(Holder._capnp.size, pointerAt(several, 0, 0));
  const holder = capnp.utils.getAs(Holder, pointerAt(several, 0, 0));
  capnp.utils.setText(0, "far away", holder);
  assert(segmentsOf(several).length > 1, "a message of several segments");

  const decoder = new FrameDecoder();
  const got: { message: capnp.Message; farPointers: number }[] = [];
  for (const frame of [encodeFrame([selfFar]), encodeFrame(segmentsOf(several))]) {
    decoder.readTarget().set(frame);
    decoder.commitInPlace(frame.byteLength, (received) => {
      const check = validateFrame(received);
      got.push({ message: messageFromFrame(received, check), farPointers: check.farPointers });
    });
  }
  assertEquals(got.map((g) => g.farPointers), [1, 1]);
  const [far, multi] = got.map((g) => g.message);
  assertEquals(far.getSegment(0).buffer.byteLength, 32, "copied into a buffer of its own");
  const struct = capnp.utils.getAs(Holder, pointerAt(far, 0, 0));
  assertEquals(capnp.utils.getUint32(0, struct), 42);
  const text = capnp.utils.getText(0, capnp.utils.getAs(Holder, pointerAt(multi, 0, 0)));
  assertEquals(text, "far away");
});

Deno.test("newCallMessage: calls share a buffer until one outgrows its region, which leaves its neighbours alone", () => {
  const shared = () => Array.from({ length: 3 }, (_, i) => newCallMessage(BigInt(i + 1), i));
  let calls = shared();
  // Three in a row share a buffer unless the first buffer filled up among them.
  if (calls[0].message.getSegment(0).buffer !== calls[2].message.getSegment(0).buffer) {
    calls = shared();
  }
  const [a, b, c] = calls.map(({ message }) => message.getSegment(0));
  assert(a.buffer === b.buffer && b.buffer === c.buffer, "one buffer for three small calls");
  // Fill each one's params with a text; the middle one's outgrows its region.
  const texts = ["short", "y".repeat(5000), "also short"];
  calls.forEach(({ content }, i) => {
    capnp.utils.initStruct(Holder._capnp.size, content);
    capnp.utils.setText(0, texts[i], capnp.utils.getAs(Holder, content));
  });
  assert(calls[1].message.getSegment(0).buffer !== a.buffer, "the big one moved out");
  assert(calls[2].message.getSegment(0).buffer === a.buffer, "its neighbour stayed");
  // Each one, framed and read back from its beginning, is the Call that was built.
  calls.forEach(({ message }, i) => {
    const [segment] = segmentsOf(message);
    assertEquals(messageBytes(message), segment.byteLength);
    const read = messageFromSegments([segment.slice().buffer]).getRoot(RpcMessage).call;
    assertEquals([read.interfaceId, read.methodId], [BigInt(i + 1), i]);
    const holder = capnp.utils.getAs(Holder, read.params.content);
    assertEquals(capnp.utils.getText(0, holder), texts[i]);
  });
});

Deno.test("setData: large Data in a plain buffer goes as a segment of its own; any other is copied in", () => {
  const cases: [string, Uint8Array, boolean][] = [
    ["small", new Uint8Array(1000).fill(3), false],
    ["large", new Uint8Array(70_000).fill(4), true],
    ["large, odd length", new Uint8Array(70_001).fill(5), true],
    ["large, not at its buffer's start", new Uint8Array(80_000).fill(6).subarray(8), false],
    ["large, shared memory", new Uint8Array(new SharedArrayBuffer(70_000)).fill(7), false],
    [
      "large, resizable",
      new Uint8Array(new ArrayBuffer(70_000, { maxByteLength: 1 << 20 })),
      false,
    ],
  ];
  for (const [name, bytes, referenced] of cases) {
    const message = newMessage();
    const params = message.initRoot(Tester_Echo$Params);
    setData(capnp.utils.getPointer(0, params), bytes);
    const segments = segmentsOf(message);
    assertEquals(segments.length, referenced ? 3 : 1, name); // the root, landing pads, the Data
    if (referenced) assert(segments[2].buffer === bytes.buffer, `${name}: not copied`);
    // What a peer reads: the frame, validated and decoded.
    const [frame] = new FrameDecoder().push(encodeFrame(segments));
    validateFrame(FrameView.of(frame));
    const read = messageFromSegments(frame).getRoot(Tester_Echo$Params).data.toUint8Array();
    assertEquals(read, bytes, name);
  }
});

Deno.test("setData: a message references at most 64 Data; the rest is copied in", () => {
  const message = newMessage();
  const params = message.initRoot(Tester_Echo$Params);
  const count = 70;
  const list = capnp.utils.initList(0, capnp.DataList, count, params);
  const content = capnp.utils.getContent(list);
  for (let i = 0; i < count; i++) {
    setData(capnp.utils.add(i * 8, content), new Uint8Array(65_536).fill(i));
  }
  const segments = segmentsOf(message);
  assertEquals(segments.length, 1 + 1 + 64, "the root, the landing pads and 64 Data");
  const [frame] = new FrameDecoder().push(encodeFrame(segments));
  validateFrame(FrameView.of(frame));
  const read = capnp.utils.getList(
    0,
    capnp.DataList,
    messageFromSegments(frame).getRoot(Tester_Echo$Params),
  );
  for (let i = 0; i < count; i++) {
    const data = read.get(i).toUint8Array();
    assert(data.byteLength === 65_536 && data.every((b) => b === i), `Data ${i}`);
  }
});
