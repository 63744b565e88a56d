/**
 * Unit tests of the engine's message plumbing: building and copying large
 * messages costs allocations linear in their size.
 */
import * as capnp from "capnp-es";
import { Message as RpcMessage } from "capnp-es/capnp/rpc";
import { messageBytes, newMessage, segmentsOf } from "../../runtime/rpc/message.ts";
import { assert, assertEquals } from "../assert.ts";

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
