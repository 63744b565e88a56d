/**
 * Unit tests of the hand-written RPC envelope codec, checked against
 * capnp-es's generated `rpc.capnp` code: what the writers write capnp-es
 * reads back, what capnp-es writes the reader reads, far pointers are
 * followed, short structs read as defaults, and a pointer of the wrong kind
 * is refused with the C++ reference's wording.
 */
import * as capnp from "capnp-es";
import { Message as RpcMessage, Return as RpcReturn } from "capnp-es/capnp/rpc";
import { encodeFrame, FrameDecoder, FrameView } from "../../../runtime/framing.ts";
import {
  abortMessage,
  bootstrapMessage,
  CALL_LAYOUT,
  disembargoMessage,
  EnvelopeError,
  EnvelopeReader,
  Field,
  finishMessage,
  ListRef,
  MessageTag,
  releaseMessage,
  resolveMessage,
  resolveToCap,
  resolveToException,
  returnMessage,
  ReturnTag,
  StructRef,
  writeDescriptorAnswer,
} from "../../../runtime/rpc/envelope.ts";
import {
  capTableOf,
  messageFromSegments,
  newCallMessage,
  segmentsOf,
  spaceOf,
} from "../../../runtime/rpc/message.ts";
import { validateFrame } from "../../../runtime/validate.ts";
import { assert, assertEquals, assertThrows } from "../../assert.ts";

/** Reads one envelope-only segment with capnp-es. */
function capnpRoot(segment: Uint8Array): RpcMessage {
  return messageFromSegments([segment.slice().buffer]).getRoot(RpcMessage);
}

/** A reader on `segments` (validated first, as the connection does) and its root. */
function readerOn(segments: ArrayBuffer[]): { reader: EnvelopeReader; root: StructRef } {
  const frame = FrameView.of(segments);
  validateFrame(frame);
  const reader = new EnvelopeReader();
  reader.begin(frame);
  const root = new StructRef();
  reader.root(root);
  return { reader, root };
}

function bytesOf(message: capnp.Message): ArrayBuffer[] {
  return segmentsOf(message).map((s) => s.slice().buffer);
}

Deno.test("envelope writers: capnp-es reads back every field", () => {
  const finish = capnpRoot(finishMessage(7, false)).finish;
  assertEquals([finish.questionId, finish.releaseResultCaps], [7, false], "Finish");
  assertEquals(capnpRoot(finishMessage(8, true)).finish.releaseResultCaps, true, "Finish default");

  const release = capnpRoot(releaseMessage(3, 5)).release;
  assertEquals([release.id, release.referenceCount], [3, 5], "Release");

  assertEquals(capnpRoot(bootstrapMessage(9)).bootstrap.questionId, 9, "Bootstrap");

  const failed = capnpRoot(returnMessage(4, ReturnTag.exception, { reason: "nö", type: 2 })).return;
  assertEquals(failed.which(), RpcReturn.EXCEPTION, "Return variant");
  assertEquals([failed.answerId, failed.releaseParamCaps], [4, false], "Return header");
  assertEquals([failed.exception.reason, failed.exception.type], ["nö", 2], "Return exception");
  assertEquals(capnpRoot(returnMessage(5, ReturnTag.canceled)).return.which(), RpcReturn.CANCELED);

  const abort = capnpRoot(abortMessage("x".repeat(100), 0)).abort;
  assertEquals(abort.reason, "x".repeat(100), "Abort reason (grown past the first buffer)");

  const toCap = capnpRoot(resolveMessage(6, (space, body) => {
    writeDescriptorAnswer(space, resolveToCap(space, body), { questionId: 2, path: [1, 0] });
  })).resolve;
  assertEquals(toCap.promiseId, 6, "Resolve id");
  const promised = toCap.cap.receiverAnswer;
  assertEquals(promised.questionId, 2, "receiverAnswer question");
  assertEquals(
    [0, 1].map((i) => promised.transform.get(i).getPointerField),
    [1, 0],
    "receiverAnswer path",
  );
  const toError = capnpRoot(resolveMessage(6, (space, body) => {
    resolveToException(space, body, "gone", 2);
  })).resolve;
  assertEquals(toError.exception.reason, "gone", "Resolve exception");

  const disembargo = capnpRoot(disembargoMessage({ questionId: 1, path: [2] }, 0, 11)).disembargo;
  assertEquals(disembargo.context.senderLoopback, 11, "Disembargo id");
  assertEquals(disembargo.target.promisedAnswer.questionId, 1, "Disembargo target");
  assertEquals(disembargo.target.promisedAnswer.transform.get(0).getPointerField, 2, "path");
});

Deno.test("envelope writers: a Call skeleton is a Call to capnp-es", () => {
  const { message, content } = newCallMessage(0x1234_5678_9abc_def0n, 3);
  capnp.utils.initStruct(new capnp.ObjectSize(8, 0), content);
  const space = spaceOf(message);
  space.view.setUint32(space.start + CALL_LAYOUT.call, 42, true); // questionId
  const call = capnpRoot(segmentsOf(message)[0]).call;
  assertEquals(call.questionId, 42, "questionId");
  assertEquals(call.interfaceId, 0x1234_5678_9abc_def0n, "interfaceId");
  assertEquals(call.methodId, 3, "methodId");
  assertEquals(call.target.importedCap, 0, "target");
  assert(!capnp.utils.isNull(call.params.content), "params content");
  assertEquals(capTableOf(message).length, 0, "no caps");
});

Deno.test("envelope reader: reads what capnp-es writes, cap table and transform included", () => {
  const message = new capnp.Message();
  const call = message.initRoot(RpcMessage)._initCall();
  call.questionId = 77;
  call.interfaceId = 0xabcdn;
  call.methodId = 9;
  const promised = call._initTarget()._initPromisedAnswer();
  promised.questionId = 5;
  const ops = promised._initTransform(2);
  ops.get(0).getPointerField = 4;
  ops.get(1).noop = true;
  const table = call._initParams()._initCapTable(2);
  table.get(0).senderPromise = 12;
  table.get(1).receiverHosted = 13;

  const { reader, root } = readerOn(bytesOf(message));
  assertEquals(reader.u16(root, Field.message.which), MessageTag.call, "which");
  const body = new StructRef();
  reader.struct(root, 0, body);
  assertEquals(reader.u32(body, Field.call.questionId), 77, "questionId");
  assertEquals(reader.u64(body, Field.call.interfaceId), 0xabcdn, "interfaceId");
  assertEquals(reader.u16(body, Field.call.methodId), 9, "methodId");
  const target = new StructRef();
  reader.struct(body, Field.call.target, target);
  assertEquals(reader.u16(target, Field.target.which), 1, "promisedAnswer");
  const answer = new StructRef();
  reader.struct(target, Field.target.promisedAnswer, answer);
  assertEquals(reader.u32(answer, Field.promised.questionId), 5, "question");
  const list = new ListRef();
  const op = new StructRef();
  reader.structList(answer, Field.promised.transform, list);
  const path = [];
  for (let i = 0; i < list.length; i++) {
    reader.element(list, i, op);
    path.push([reader.u16(op, Field.op.which), reader.u16(op, Field.op.pointerField)]);
  }
  assertEquals(path, [[1, 4], [0, 0]], "transform");
  const payload = new StructRef();
  reader.struct(body, Field.call.params, payload);
  reader.structList(payload, Field.payload.capTable, list);
  const descriptors = [];
  for (let i = 0; i < list.length; i++) {
    reader.element(list, i, op);
    descriptors.push([reader.u16(op, Field.descriptor.which), reader.u32(op, Field.descriptor.id)]);
  }
  assertEquals(descriptors, [[2, 12], [3, 13]], "cap table");
});

/** A frame whose root Finish(questionId 31) is reached through a far pointer. */
function farFinish(double: boolean): ArrayBuffer[] {
  const root = new DataView(new ArrayBuffer(8));
  if (!double) {
    // Segment 1: the landing pad (a struct pointer), the Message, the Finish.
    const pad = new DataView(new ArrayBuffer(32));
    pad.setUint32(0, 0, true); // struct pointer, offset 0: the Message is the next word
    pad.setUint32(4, 1 | 1 << 16, true);
    pad.setUint16(8, MessageTag.finish, true);
    pad.setUint32(16, 0, true); // struct pointer, offset 0: the Finish is the next word
    pad.setUint32(20, 1, true);
    pad.setUint32(24, 31, true);
    root.setUint32(0, 0 << 3 | 2, true); // far, single, pad at word 0
    root.setUint32(4, 1, true); // of segment 1
    return [root.buffer, pad.buffer];
  }
  // Segment 2: the Message and the Finish, with no pointer in front of them.
  const content = new DataView(new ArrayBuffer(24));
  content.setUint16(0, MessageTag.finish, true);
  content.setUint32(8, 0, true);
  content.setUint32(12, 1, true);
  content.setUint32(16, 31, true);
  // Segment 1: a double-far pad: a far pointer to segment 2 word 0, then the struct tag.
  const pad = new DataView(new ArrayBuffer(16));
  pad.setUint32(0, 0 << 3 | 2, true);
  pad.setUint32(4, 2, true);
  pad.setUint32(8, 0, true);
  pad.setUint32(12, 1 | 1 << 16, true);
  root.setUint32(0, 0 << 3 | 4 | 2, true); // far, double, pad at word 0
  root.setUint32(4, 1, true); // of segment 1
  return [root.buffer, pad.buffer, content.buffer];
}

Deno.test("envelope reader: single and double far pointers are followed", () => {
  for (const double of [false, true]) {
    const { reader, root } = readerOn(farFinish(double));
    assertEquals(reader.u16(root, 0), MessageTag.finish, `which (double: ${double})`);
    const body = new StructRef();
    reader.struct(root, 0, body);
    assertEquals(reader.u32(body, Field.finish.questionId), 31, `questionId (double: ${double})`);
  }
});

Deno.test("envelope reader: fields past a short struct read as defaults", () => {
  // Message → Return with no data words and no pointers.
  const segment = new DataView(new ArrayBuffer(24));
  segment.setUint32(0, 0, true);
  segment.setUint32(4, 1 | 1 << 16, true);
  segment.setUint16(8, MessageTag.return, true);
  // Return pointer: offset 0, zero-sized struct (data 0, ptrs 0) is encoded as offset -1.
  segment.setUint32(16, -1 << 2, true);
  segment.setUint32(20, 0, true);
  const { reader, root } = readerOn([segment.buffer]);
  const body = new StructRef();
  reader.struct(root, 0, body);
  assertEquals(reader.u32(body, Field.ret.answerId), 0, "answerId default");
  assertEquals(reader.bool(body, Field.ret.releaseParamCapsBit), false, "stored bit default");
  assertEquals(reader.u16(body, Field.ret.which), ReturnTag.results, "union default");
  const payload = new StructRef();
  assertEquals(reader.struct(body, Field.ret.payload, payload), false, "no payload pointer");
  assertEquals(reader.text(payload, 0), "", "text of an empty struct");
});

/** A message whose root's pointer 0 is `lo`/`hi`; the word after it holds eight 'A's. */
function rootWithPointer(lo: number, hi: number): { reader: EnvelopeReader; root: StructRef } {
  const segment = new DataView(new ArrayBuffer(32));
  segment.setUint32(0, 0, true);
  segment.setUint32(4, 1 | 1 << 16, true);
  segment.setUint16(8, MessageTag.finish, true);
  segment.setUint32(16, lo, true);
  segment.setUint32(20, hi, true);
  new Uint8Array(segment.buffer, 24).fill(0x41); // the content word: "AAAAAAAA"
  return readerOn([segment.buffer]);
}

Deno.test("envelope reader: a pointer of the wrong kind is refused in C++'s words", () => {
  const byteList = rootWithPointer(0 << 2 | 1, 2 | 8 << 3); // list of 8 bytes
  assertThrows(
    () => byteList.reader.struct(byteList.root, 0, new StructRef()),
    EnvelopeError,
    "Message contains non-struct pointer where struct pointer was expected.",
  );
  const struct = rootWithPointer(0, 1); // struct of one data word
  assertThrows(
    () => struct.reader.structList(struct.root, 0, new ListRef()),
    EnvelopeError,
    "Message contains non-list pointer where list pointer was expected.",
  );
  assertThrows(
    () => struct.reader.text(struct.root, 0),
    EnvelopeError,
    "Message contains non-list pointer where text was expected.",
  );
  const bitList = rootWithPointer(0 << 2 | 1, 1 | 8 << 3); // list of 8 bits
  assertThrows(
    () => bitList.reader.structList(bitList.root, 0, new ListRef()),
    EnvelopeError,
    "Found bit list where struct list was expected",
  );
  // A list of bytes reads as a list of one-byte structs (schema evolution), as in C++.
  const list = new ListRef();
  byteList.reader.structList(byteList.root, 0, list);
  assertEquals([list.length, list.dataBytes, list.stride], [8, 1, 1], "bytes as structs");
  assertThrows(
    () => byteList.reader.text(byteList.root, 0),
    EnvelopeError,
    "Message contains text that is not NUL-terminated.",
  );
});

Deno.test("frame decoder: frames read in place, copied out only when kept", () => {
  const decoder = new FrameDecoder();
  const bytes = new Uint8Array([
    ...encodeFrame([new Uint8Array(8).fill(1)]),
    ...encodeFrame([new Uint8Array(8).fill(2), new Uint8Array(16).fill(3)]),
  ]);
  decoder.readTarget().set(bytes);
  const kept: ArrayBuffer[][] = [];
  const firstBytes: number[] = [];
  decoder.commitInPlace(bytes.byteLength, (frame) => {
    firstBytes.push(frame.views[0].getUint8(frame.offsets[0]));
    assertEquals(frame.buffers[0], null, "a small segment stays in the staging buffer");
    kept.push(frame.owned());
  });
  assertEquals(firstBytes, [1, 2], "both frames, in order");
  assertEquals(kept.map((f) => f.map((s) => new Uint8Array(s)[0])), [[1], [2, 3]], "owned copies");
  assertEquals(kept[1][1].byteLength, 16, "exact sizes");
});
