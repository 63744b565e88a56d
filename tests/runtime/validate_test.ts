/**
 * Unit tests of the bounded message validator (runtime/validate.ts), on
 * messages built with capnp-es and on hand-built words.
 */
import { assert, assertEquals } from "../assert.ts";
import * as capnp from "capnp-es";
import { Message as RpcMessage } from "capnp-es/capnp/rpc";
import { encodeFrame, type Frame, FrameDecoder, FrameView } from "../../runtime/framing.ts";
import {
  DEFAULT_READ_LIMITS,
  MessageValidationError,
  type ReadLimits,
  TRAVERSAL_ALLOWANCE_WORDS,
  validateFrame,
  validateMessage,
} from "../../runtime/validate.ts";
import {
  Tester_CallBack$Params,
  Tester_Echo$Params,
  Tester_Fail$Params,
} from "../../examples/schemas/gen/testing.ts";

// ---- Hand-built words ----

/** One 64-bit word as its low and high 32-bit halves. */
type Word = readonly [lo: number, hi: number];

const NULL: Word = [0, 0];

/** A struct pointer; `offset` is in words from the end of the pointer. */
function structPtr(offset: number, dataWords: number, ptrCount: number): Word {
  return [(offset << 2) >>> 0, (dataWords | (ptrCount << 16)) >>> 0];
}

/** A list pointer; element size 0..7 (7 = composite, then `count` is the word count). */
function listPtr(offset: number, elementSize: number, count: number): Word {
  return [((offset << 2) | 1) >>> 0, (elementSize | (count << 3)) >>> 0];
}

/** A far pointer to word `padWord` of segment `segment`. */
function farPtr(segment: number, padWord: number, double = false): Word {
  return [((padWord << 3) | (double ? 4 : 0) | 2) >>> 0, segment];
}

/** A capability pointer. */
function capPtr(index: number): Word {
  return [3, index];
}

/** The tag word of a composite list. */
function compositeTag(elements: number, dataWords: number, ptrCount: number): Word {
  return [(elements << 2) >>> 0, (dataWords | (ptrCount << 16)) >>> 0];
}

/** A data word. */
function data(value: number): Word {
  return [value >>> 0, 0x5a5a5a5a];
}

/** A segment made of `words`. */
function seg(...words: Word[]): ArrayBuffer {
  return segOf(words);
}

/** A segment made of `words` (for long arrays, which cannot be spread). */
function segOf(words: readonly Word[]): ArrayBuffer {
  const buffer = new ArrayBuffer(words.length * 8);
  const view = new DataView(buffer);
  words.forEach(([lo, hi], i) => {
    view.setUint32(i * 8, lo, true);
    view.setUint32(i * 8 + 4, hi, true);
  });
  return buffer;
}

/** Runs `fn`, which must throw MessageValidationError including `text`. */
function assertRefused(fn: () => unknown, text: string): void {
  try {
    fn();
  } catch (error) {
    assert(
      error instanceof MessageValidationError,
      `expected MessageValidationError, got ${error}`,
    );
    assert(error.message.includes(text), `expected "${text}" in "${error.message}"`);
    return;
  }
  throw new Error(`expected MessageValidationError "${text}", but the message was accepted`);
}

/** C++'s limits alone, without ours against amplification. */
const limits = (traversalLimitWords: number, nestingLimit = 64) => ({
  traversalLimitWords,
  nestingLimit,
  traversalPerMessageWord: Infinity,
});

/** The default limits as C++ has them. */
const CXX = limits(DEFAULT_READ_LIMITS.traversalLimitWords);

// ---- capnp-es messages ----

/** The segments of a capnp-es message as they arrive off the wire. */
function received(message: capnp.Message): Frame {
  const frames = new FrameDecoder().push(new Uint8Array(message.toArrayBuffer()));
  assertEquals(frames.length, 1);
  return frames[0];
}

function totalWords(frame: Frame): number {
  return frame.reduce((n, s) => n + s.byteLength / 8, 0);
}

Deno.test("validateMessage: capnp-es structs, text, data: counts every word but the root pointer", () => {
  const fail = new capnp.Message();
  const params = fail.initRoot(Tester_Fail$Params);
  params.type = 2;
  params.message = "a reason long enough to take several words";
  const failFrame = received(fail);
  // 2 words of struct + 6 of text (43 bytes and the NUL).
  assertEquals(validateMessage(failFrame), 2 + 6);
  assertEquals(validateMessage(failFrame), totalWords(failFrame) - 1);

  const echo = new capnp.Message();
  echo.initRoot(Tester_Echo$Params)._initData(1000).copyBuffer(new Uint8Array(1000).fill(7));
  const echoFrame = received(echo);
  assertEquals(validateMessage(echoFrame), 1 + 125);

  // A null root is 0 words.
  assertEquals(validateMessage([new ArrayBuffer(8)]), 0);
});

Deno.test("validateMessage: an RPC Call with params, a capability pointer and a cap table", () => {
  const message = new capnp.Message();
  const call = message.initRoot(RpcMessage)._initCall();
  call.questionId = 5;
  call.interfaceId = 0xb13dcd465de0e586n;
  call.methodId = 4;
  call._initTarget().importedCap = 3;
  const payload = call._initParams();
  capnp.utils.initStruct(Tester_CallBack$Params._capnp.size, payload.content);
  const params = capnp.utils.getAs(Tester_CallBack$Params, payload.content);
  params.n = 3;
  capnp.utils.setInterfacePointer(0, capnp.utils.getPointer(0, params));
  const table = payload._initCapTable(3);
  table.get(0).senderHosted = 1;
  table.get(1).senderPromise = 2;
  table.get(2)._initReceiverAnswer().questionId = 9;
  const frame = received(message);
  assertEquals(validateMessage(frame), totalWords(frame) - 1);
});

Deno.test("validateMessage: capnp-es multi-segment message with far pointers", () => {
  // An arena whose first segment holds only the root pointer: everything
  // else lands in further segments, reached through far pointers.
  const arenaOf = (buffers: ArrayBuffer[]) => {
    const sample = new capnp.Message(encodeFrame([new Uint8Array(8), new Uint8Array(8)]), false);
    const Arena = sample._capnp.arena.constructor as new (
      buffers: ArrayBuffer[],
    ) => ConstructorParameters<typeof capnp.Message>[0];
    return new Arena(buffers);
  };
  const message = new capnp.Message(arenaOf([new ArrayBuffer(8)]));
  const params = message.initRoot(Tester_Fail$Params);
  params.message = "x".repeat(5000);
  const frame = received(message);
  assert(frame.length >= 2, `expected several segments, got ${frame.length}`);
  const root = new DataView(frame[0]).getUint32(0, true);
  assertEquals(root & 3, 2, "root pointer is far");
  // Struct (2 words) + text (5001 bytes -> 626 words); landing pads are not counted.
  assertEquals(validateMessage(frame), 2 + 626);
});

// ---- Hand-built valid messages ----

Deno.test("validateMessage: hand-built single far pointer", () => {
  // seg0: far -> seg1 word 0: a struct pointer landing pad, content after it.
  const segments = [
    seg(farPtr(1, 0)),
    seg(structPtr(0, 1, 1), data(1), listPtr(0, 2, 16), data(2), data(3)),
  ];
  // Struct 2 words + byte list of 16 = 2 words.
  assertEquals(validateMessage(segments), 4);
});

Deno.test("validateMessage: hand-built double-far pointer", () => {
  // seg0: double far -> seg1 word 1: [far to seg2 word 0][tag: struct 1 data, 1 ptr]
  // seg2: the struct's content, then its text.
  const segments = [
    seg(farPtr(1, 1, true)),
    seg(data(0), farPtr(2, 0), structPtr(0, 1, 1)),
    seg(data(42), listPtr(0, 2, 3), data(0x006968)),
  ];
  assertEquals(validateMessage(segments), 3);

  // A far pointer inside a struct's pointer section, to a third segment.
  const nested = [
    seg(structPtr(0, 0, 2), farPtr(1, 0), farPtr(2, 1, true)),
    seg(listPtr(0, 5, 2), data(1), data(2)),
    seg(data(0), farPtr(1, 1), structPtr(0, 1, 0)),
  ];
  // Root struct 2 + list of two 64-bit values 2 + struct at seg1 word 1, 1 word.
  assertEquals(validateMessage(nested), 5);
});

Deno.test("validateMessage: lists of every element size are charged their words", () => {
  const cases: [elementSize: number, count: number, words: number][] = [
    [1, 64, 1], // bits
    [1, 65, 2],
    [2, 9, 2], // bytes
    [3, 4, 1], // 16-bit
    [4, 3, 2], // 32-bit
    [5, 3, 3], // 64-bit
  ];
  for (const [size, count, words] of cases) {
    const body = Array.from({ length: words }, (_, i) => data(i));
    assertEquals(validateMessage([seg(listPtr(0, size, count), ...body)]), words, `size ${size}`);
    // One word short: out of bounds.
    assertRefused(
      () => validateMessage([seg(listPtr(0, size, count), ...body.slice(1))]),
      "out-of-bounds",
    );
  }
  // A list of pointers: each element, plus what it points to.
  assertEquals(
    validateMessage([seg(listPtr(0, 6, 3), NULL, structPtr(1, 1, 0), capPtr(0), data(1))]),
    3 + 1,
  );
  // Composite: the tag and the words.
  assertEquals(
    validateMessage([
      seg(listPtr(0, 7, 4), compositeTag(2, 1, 1), data(1), NULL, data(2), NULL),
    ]),
    5,
  );
});

Deno.test("validateMessage: capability pointers are accepted; other 'other' pointers are not", () => {
  assertEquals(validateMessage([seg(structPtr(0, 0, 2), capPtr(0), capPtr(7))]), 2);
  assertRefused(() => validateMessage([seg([7, 0])]), "Unknown pointer type");
});

Deno.test("validateMessage: empty struct is charged 1 word", () => {
  // C++ writes an empty struct as offset -1 (pointing at itself).
  assertEquals(validateMessage([seg(structPtr(-1, 0, 0))]), 1);
  // Offset 0, at the very end of the segment, is in bounds too.
  assertEquals(validateMessage([seg(structPtr(0, 0, 1), structPtr(-1, 0, 0))]), 1 + 1);
  // A struct holding ten pointers to empty structs: 10 + 10 * 1.
  const ptrs = Array.from({ length: 10 }, () => structPtr(-1, 0, 0));
  assertEquals(validateMessage([seg(structPtr(0, 0, 10), ...ptrs)]), 20);
  // 2^20 pointers to one empty struct amplify to 2^21 words.
  const many = 1 << 20;
  const manyPtrs: Word[] = [listPtr(0, 6, many)];
  for (let i = 0; i < many; i++) manyPtrs.push(structPtr(-1, 0, 0));
  assertEquals(validateMessage([segOf(manyPtrs)], limits(2 * many)), 2 * many);
  assertRefused(
    () => validateMessage([segOf(manyPtrs)], limits(2 * many - 1)),
    "Exceeded message traversal limit",
  );
});

// ---- Malformed messages ----

Deno.test("validateMessage: empty or truncated first segment", () => {
  assertRefused(() => validateMessage([]), "Message ends prematurely");
  assertRefused(() => validateMessage([new ArrayBuffer(0)]), "Message ends prematurely");
});

Deno.test("validateMessage: out-of-bounds struct pointers", () => {
  // Two data words declared, one present.
  assertRefused(() => validateMessage([seg(structPtr(0, 2, 0), data(1))]), "out-of-bounds");
  // Pointer section past the end.
  assertRefused(() => validateMessage([seg(structPtr(0, 1, 1), data(1))]), "out-of-bounds");
  // Negative offset before the segment start.
  assertRefused(() => validateMessage([seg(structPtr(-3, 1, 0), data(1))]), "out-of-bounds");
  // Offset far past the end.
  assertRefused(() => validateMessage([seg(structPtr(1000, 0, 1))]), "out-of-bounds");
  // Nested: the inner struct is out of bounds.
  assertRefused(
    () => validateMessage([seg(structPtr(0, 0, 1), structPtr(5, 1, 0), data(1))]),
    "out-of-bounds",
  );
  // Through a far pointer: the landing pad itself is outside its segment.
  assertRefused(() => validateMessage([seg(farPtr(1, 2)), seg(data(0), data(0))]), "out-of-bounds");
  // Double far needs two words of landing pad.
  assertRefused(
    () => validateMessage([seg(farPtr(1, 1, true)), seg(data(0), farPtr(1, 0))]),
    "out-of-bounds",
  );
  // Double far whose content is out of bounds in its segment.
  assertRefused(
    () =>
      validateMessage([
        seg(farPtr(1, 0, true)),
        seg(farPtr(2, 0), structPtr(0, 2, 0)),
        seg(data(1)),
      ]),
    "out-of-bounds",
  );
});

Deno.test("validateMessage: out-of-bounds list pointers", () => {
  assertRefused(() => validateMessage([seg(listPtr(0, 5, 3), data(1), data(2))]), "out-of-bounds");
  assertRefused(() => validateMessage([seg(listPtr(-2, 2, 1))]), "out-of-bounds");
  // A composite list whose word count runs past the segment.
  assertRefused(
    () => validateMessage([seg(listPtr(0, 7, 4), compositeTag(2, 2, 0), data(1), data(2))]),
    "out-of-bounds",
  );
  // A pointer list whose element points outside.
  assertRefused(
    () => validateMessage([seg(listPtr(0, 6, 1), listPtr(10, 2, 8))]),
    "out-of-bounds",
  );
  // The maximum element count of 64-bit values: 2^29 - 1 words, not present.
  assertRefused(
    () => validateMessage([seg(listPtr(0, 5, 2 ** 29 - 1))], limits(2 ** 32)),
    "out-of-bounds",
  );
});

Deno.test("validateMessage: far pointer to a missing segment", () => {
  assertRefused(() => validateMessage([seg(farPtr(1, 0))]), "Far pointer to unknown segment");
  assertRefused(
    () => validateMessage([seg(farPtr(7, 0)), seg(structPtr(0, 0, 0))]),
    "Far pointer to unknown segment",
  );
  assertRefused(
    () => validateMessage([seg(farPtr(0xffffffff, 0, true))]),
    "Far pointer to unknown segment",
  );
  // Double far whose landing pad names a missing content segment.
  assertRefused(
    () => validateMessage([seg(farPtr(1, 0, true)), seg(farPtr(5, 0), structPtr(0, 1, 0))]),
    "Far pointer to unknown segment",
  );
});

Deno.test("validateMessage: malformed far landing pads", () => {
  // Single far whose landing pad is another far pointer.
  assertRefused(
    () => validateMessage([seg(farPtr(1, 0)), seg(farPtr(0, 0))]),
    "Far pointer landing pad is far",
  );
  // Double far whose first pad word is not a (single) far pointer.
  assertRefused(
    () => validateMessage([seg(farPtr(1, 0, true)), seg(structPtr(0, 0, 0), structPtr(0, 0, 0))]),
    "Double-far landing pad is not a far pointer",
  );
  // Double far whose tag has an offset.
  assertRefused(
    () =>
      validateMessage([
        seg(farPtr(1, 0, true)),
        seg(farPtr(2, 0), structPtr(3, 1, 0)),
        seg(data(1)),
      ]),
    "Double-far tag has a non-zero offset",
  );
});

Deno.test("validateMessage: composite list whose tag claims more elements than its word count", () => {
  // Word count 2, tag: 3 elements of 1 data word.
  assertRefused(
    () => validateMessage([seg(listPtr(0, 7, 2), compositeTag(3, 1, 0), data(1), data(2))]),
    "INLINE_COMPOSITE list's elements overrun its word count",
  );
  // Pointers count toward the element size too: 2 elements of (1 data, 1 ptr) need 4 words.
  assertRefused(
    () =>
      validateMessage([
        seg(listPtr(0, 7, 3), compositeTag(2, 1, 1), data(1), NULL, data(2)),
      ]),
    "overrun its word count",
  );
  // The same list with the words it needs passes.
  assertEquals(
    validateMessage([seg(listPtr(0, 7, 4), compositeTag(2, 1, 1), data(1), NULL, data(2), NULL)]),
    5,
  );
  // The tag must describe a struct.
  assertRefused(
    () => validateMessage([seg(listPtr(0, 7, 1), listPtr(0, 2, 1), data(1))]),
    "INLINE_COMPOSITE lists of non-STRUCT type",
  );
});

Deno.test("validateMessage: composite list of empty structs is charged per element", () => {
  const elements = 2 ** 30 - 1;
  const message = [seg(structPtr(0, 0, 1), listPtr(0, 7, 0), compositeTag(elements, 0, 0))];
  assertRefused(() => validateMessage(message, CXX), "Exceeded message traversal limit.");
  assertEquals(validateMessage(message, limits(2 ** 31)), 1 + elements + 1);
});

// ---- Nesting ----

/** A chain of `depth` nested structs, each with one pointer to the next. */
function chain(depth: number): ArrayBuffer[] {
  const words: Word[] = [structPtr(0, 0, 1)];
  for (let i = 1; i < depth; i++) words.push(structPtr(0, 0, 1));
  words.push(NULL);
  return [seg(...words)];
}

Deno.test("validateMessage: pointer cycle is refused as too deeply nested", () => {
  // Root -> struct at word 1, whose pointer (word 1) points at word 1 again.
  assertRefused(
    () => validateMessage([seg(structPtr(0, 0, 1), structPtr(-1, 0, 1))]),
    "Message is too deeply-nested or contains cycles.",
  );
  // A list of pointers containing a pointer back to the list.
  assertRefused(
    () => validateMessage([seg(listPtr(0, 6, 1), listPtr(-1, 6, 1))]),
    "too deeply-nested or contains cycles",
  );
  // A cycle through two segments.
  assertRefused(
    () => validateMessage([seg(farPtr(1, 0)), seg(structPtr(0, 0, 1), farPtr(1, 0))]),
    "too deeply-nested or contains cycles",
  );
});

Deno.test("validateMessage: nesting exactly at the limit passes, one deeper fails", () => {
  const limit = DEFAULT_READ_LIMITS.nestingLimit;
  assertEquals(limit, 64);
  assertEquals(validateMessage(chain(limit)), limit);
  assertRefused(() => validateMessage(chain(limit + 1)), "too deeply-nested");

  assertEquals(validateMessage(chain(5), limits(1000, 5)), 5);
  assertRefused(() => validateMessage(chain(6), limits(1000, 5)), "too deeply-nested");
  // Lists count as a level too: root list of pointers -> struct: 2 levels.
  const listThenStruct = [seg(listPtr(0, 6, 1), structPtr(0, 1, 0), data(1))];
  assertEquals(validateMessage(listThenStruct, limits(1000, 2)), 2);
  assertRefused(() => validateMessage(listThenStruct, limits(1000, 1)), "too deeply-nested");
  // A nesting limit of 0 refuses any non-null root.
  assertRefused(() => validateMessage(chain(1), limits(1000, 0)), "too deeply-nested");
  assertEquals(validateMessage([seg(NULL)], limits(1000, 0)), 0);
});

Deno.test(
  "validateMessage: Text and Data below the limit's last level pass, as C++ never checks " +
    "their nesting; other lists are a level",
  () => {
    // A struct at the limit's last level whose one pointer is a byte list (Text, Data).
    const lastThen = (elementSize: number) => [
      seg(structPtr(0, 0, 1), listPtr(0, elementSize, 8), data(0x41)),
    ];
    assertEquals(validateMessage(lastThen(2), limits(1000, 1)), 2);
    assertRefused(() => validateMessage(lastThen(3), limits(1000, 1)), "too deeply-nested");
    assertRefused(() => validateMessage(lastThen(6), limits(1000, 1)), "too deeply-nested");
    // Its bounds are still checked there.
    assertRefused(
      () =>
        validateMessage([seg(structPtr(0, 0, 1), listPtr(0, 2, 9), data(0x41))], limits(1000, 1)),
      "Message contains out-of-bounds pointer.",
    );
  },
);

Deno.test("validateFrame: stops at the nesting limit and says so, checking everything above it", () => {
  const frameOf = (segment: ArrayBuffer) => FrameView.of([segment]);
  // Root struct with two pointers: a chain one level too deep, then a sibling.
  const deepThen = (sibling: Word) =>
    seg(
      structPtr(0, 0, 2),
      structPtr(1, 0, 1),
      sibling,
      structPtr(0, 0, 1),
      structPtr(0, 1, 0),
      data(7),
    );
  const deep = validateFrame(frameOf(deepThen(NULL)), limits(1000, 3));
  assertEquals({ tooDeep: deep.tooDeep, words: deep.words }, { tooDeep: true, words: 4 });
  assertEquals(validateFrame(frameOf(deepThen(NULL)), limits(1000, 4)).tooDeep, false);
  // The sibling after the cut is still checked.
  assertRefused(
    () => validateFrame(frameOf(deepThen(structPtr(100, 1, 0))), limits(1000, 3)),
    "Message contains out-of-bounds pointer.",
  );
  // A cycle is cut too; one that fans out still meets the traversal limit.
  assert(validateFrame(frameOf(seg(structPtr(0, 0, 1), structPtr(-1, 0, 1)))).tooDeep);
  assertRefused(
    () =>
      validateFrame(
        frameOf(seg(structPtr(0, 0, 2), structPtr(-1, 0, 2), structPtr(-2, 0, 2))),
        limits(1000),
      ),
    "Exceeded message traversal limit.",
  );
});

// ---- Traversal ----

/** A struct of `count` pointers all aliasing one byte list of `words` words. */
function aliased(count: number, words: number): ArrayBuffer[] {
  const ptrs = Array.from({ length: count }, (_, i) => listPtr(count - 1 - i, 2, words * 8));
  const body = new ArrayBuffer((1 + count + words) * 8);
  new Uint8Array(body).set(new Uint8Array(seg(structPtr(0, 0, count), ...ptrs)));
  return [body];
}

Deno.test("validateMessage: aliasing is counted each time it is reached", () => {
  // 10 pointers to one 100-word list: 10 + 10 * 100 words.
  assertEquals(validateMessage(aliased(10, 100)), 1010);
  assertEquals(validateMessage(aliased(10, 100), limits(1010)), 1010);
  assertRefused(
    () => validateMessage(aliased(10, 100), limits(1009)),
    "Exceeded message traversal limit.",
  );
  // 1024 pointers to one 1 MiB list (a 1 MiB message) count as 1 GiB.
  assertRefused(
    () => validateMessage(aliased(1024, 131072), CXX),
    "Exceeded message traversal limit.",
  );
});

Deno.test("validateMessage: a message may reach traversalPerMessageWord words per word it holds, and 8192 more", () => {
  // 5 pointers to one list of w words: a message of 6 + w words reaching 5 + 5w. At the edge,
  // 5 + 5w = 4 (6 + w) + 8192, so w = 8211.
  assertEquals(DEFAULT_READ_LIMITS.traversalPerMessageWord, 4);
  const budget = 4 * (6 + 8211) + TRAVERSAL_ALLOWANCE_WORDS;
  assertEquals(validateMessage(aliased(5, 8211)), budget);
  assertRefused(
    () => validateMessage(aliased(5, 8212)),
    `Exceeded message traversal limit of ${budget + 4} words for a message of ${6 + 8212} ` +
      "(traversalPerMessageWord).",
  );
  assertEquals(validateMessage(aliased(5, 8212), CXX), budget + 5);
  // 100 pointers to one 1000-word list: 1101 words reaching 100,100, which C++ accepts.
  assertEquals(validateMessage(aliased(100, 1000), CXX), 100_100);
  assertRefused(() => validateMessage(aliased(100, 1000)), "for a message of 1101 (");
  // Limits written without the field (in JavaScript, say) get its default, not no limit.
  const older = { traversalLimitWords: 8 * 1024 * 1024, nestingLimit: 64 } as ReadLimits;
  assertRefused(() => validateMessage(aliased(100, 1000), older), "for a message of 1101 (");
  // Without aliases a message reaches at most its own words: any size passes.
  assertEquals(validateMessage(aliased(1, 1 << 20)), 1 + (1 << 20));
});

Deno.test("validateMessage: objects of no size count against traversalLimitWords alone, as in C++", () => {
  // Three words holding a void list of a million elements, a composite list of as many empty
  // structs, a struct of 1000 pointers to one empty struct: far past 4 words per word held.
  const million = 1_000_000;
  const voids = [seg(structPtr(0, 0, 1), listPtr(0, 0, million))];
  const check = validateFrame(FrameView.of(voids));
  assertEquals([check.words, check.emptyWords, check.messageWords], [1 + million, million, 2]);
  const empties = [seg(structPtr(0, 0, 1), listPtr(0, 7, 0), compositeTag(million, 0, 0))];
  assertEquals(validateMessage(empties), 1 + 1 + million);
  const pointers = Array.from({ length: 1000 }, () => structPtr(-1, 0, 0));
  assertEquals(validateMessage([seg(structPtr(0, 0, 1000), ...pointers)]), 2000);
  // traversalLimitWords still counts them.
  assertRefused(
    () => validateMessage(voids, { ...DEFAULT_READ_LIMITS, traversalLimitWords: million }),
    "Exceeded message traversal limit.",
  );
});

Deno.test("validateMessage: a void list of 2^29 - 1 elements counts as that many words", () => {
  // The element count field has 29 bits; the root struct adds one: 2^29 words.
  const message = [seg(structPtr(0, 0, 1), listPtr(0, 0, 2 ** 29 - 1))];
  assertRefused(() => validateMessage(message, CXX), "Exceeded message traversal limit.");
  assertEquals(validateMessage(message, limits(2 ** 29)), 2 ** 29);
  assertRefused(() => validateMessage(message, limits(2 ** 29 - 1)), "traversal limit");
  // A void list occupies no words: any offset is in bounds as long as it is in the segment.
  assertEquals(validateMessage([seg(listPtr(0, 0, 8))]), 8);
});

Deno.test("validateMessage: the default traversal limit is 8 Mi words, inclusive", () => {
  assertEquals(DEFAULT_READ_LIMITS.traversalLimitWords, 8 * 1024 * 1024);
  const atLimit = [seg(structPtr(0, 0, 1), listPtr(0, 0, 8 * 1024 * 1024 - 1))];
  assertEquals(validateMessage(atLimit, CXX), 8 * 1024 * 1024);
  const over = [seg(structPtr(0, 0, 1), listPtr(0, 0, 8 * 1024 * 1024))];
  assertRefused(() => validateMessage(over, CXX), "Exceeded message traversal limit.");
});
