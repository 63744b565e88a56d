/**
 * The RPC envelope (`rpc.capnp`'s `Message` and the structs it carries),
 * read and written by hand straight on the frame: the engine's per-call
 * work without capnp-es's accessor objects. Application content (call
 * params, results) stays capnp-es's; this module only places it.
 *
 * Reading trusts what {@linkcode validateFrame} checked (every pointer in
 * bounds, within the traversal limit, down to the nesting limit: the
 * connection makes sure the envelope lies above it) and checks the rest as
 * the C++ reference does: a pointer of the wrong kind is refused with its
 * wording; a struct smaller than the schema's reads its missing fields as
 * defaults.
 *
 * The envelope-only messages (Finish, Release, Bootstrap, Return without
 * results, Abort, Resolve, Disembargo) are written into one reused buffer:
 * each is valid until the next is built, which suits a transport that
 * copies what it is sent.
 *
 * @module
 */
import type { FrameView } from "../framing.ts";

/** `Message` union tags, in `rpc.capnp` order. */
export const MessageTag = {
  unimplemented: 0,
  abort: 1,
  call: 2,
  return: 3,
  finish: 4,
  resolve: 5,
  release: 6,
  bootstrap: 8,
  disembargo: 13,
} as const;

/** `Return` union tags. */
export const ReturnTag = {
  results: 0,
  exception: 1,
  canceled: 2,
  resultsSentElsewhere: 3,
  takeFromOtherQuestion: 4,
} as const;

/** `CapDescriptor` union tags. */
export const DescriptorTag = {
  none: 0,
  senderHosted: 1,
  senderPromise: 2,
  receiverHosted: 3,
  receiverAnswer: 4,
} as const;

/** `Call.sendResultsTo` union tags. */
export const SendResultsTo = { caller: 0, yourself: 1, thirdParty: 2 } as const;

/** `Disembargo.context` union tags. */
export const DisembargoTag = { senderLoopback: 0, receiverLoopback: 1 } as const;

/** Data words and pointers of each struct, from `rpc.capnp`. */
const MESSAGE = [1, 1] as const;
const BOOTSTRAP = [1, 1] as const;
const CALL = [3, 3] as const;
const RETURN = [2, 1] as const;
const FINISH = [1, 0] as const;
const RESOLVE = [1, 1] as const;
const RELEASE = [1, 0] as const;
const DISEMBARGO = [1, 1] as const;
const TARGET = [1, 1] as const;
const PAYLOAD = [0, 2] as const;
const DESCRIPTOR = [1, 1] as const;
const PROMISED = [1, 1] as const;
const OP = [1, 0] as const;
const EXCEPTION = [1, 2] as const;

const STRUCT = 0;
const LIST = 1;
const FAR = 2;
const BIT = 1;
const BYTE = 2;
const POINTER = 6;
const COMPOSITE = 7;
const ELEMENT_BITS = [0, 1, 8, 16, 32, 64, 64];

/** Where a struct is in a frame; a null pointer reads as an empty struct (all defaults). */
export class StructRef {
  /** Segment index. */
  seg = 0;
  /** Byte offset of the data section in the segment. */
  data = 0;
  /** Bytes in the data section (fields past it read as defaults). */
  dataBytes = 0;
  /** Byte offset of the pointer section in the segment. */
  ptrs = 0;
  /** Pointers in the pointer section. */
  ptrCount = 0;
}

/** Where a list of structs is in a frame. */
export class ListRef {
  /** Segment index. */
  seg = 0;
  /** Byte offset of element 0. */
  start = 0;
  /** Elements in the list. */
  length = 0;
  /** Bytes from one element to the next. */
  stride = 0;
  /** Bytes in each element's data section. */
  dataBytes = 0;
  /** Pointers in each element's pointer section. */
  ptrCount = 0;
}

/** A received envelope that breaks the schema (C++'s wording). */
export class EnvelopeError extends Error {
  /** The error's name. */
  override name = "EnvelopeError";
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/**
 * Reads structs, lists and text of one validated frame in place. One
 * reader serves every frame of a connection; {@linkcode EnvelopeReader.begin}
 * points it at the next.
 *
 * @example
 * ```ts
 * import { FrameView } from "../framing.ts";
 * import { EnvelopeReader, finishMessage, MessageTag, StructRef } from "./envelope.ts";
 * const reader = new EnvelopeReader();
 * reader.begin(FrameView.of([finishMessage(7, false).slice().buffer]));
 * const root = new StructRef();
 * const body = new StructRef();
 * reader.root(root);
 * if (reader.u16(root, 0) !== MessageTag.finish) throw new Error("a Finish");
 * reader.struct(root, 0, body);
 * if (reader.u32(body, 0) !== 7) throw new Error("question 7");
 * ```
 */
export class EnvelopeReader {
  #views: DataView[] = [];
  #offsets: number[] = [];
  // Where the last pointer followed points: segment, content byte offset, tag words.
  #seg = 0;
  #at = 0;
  #lo = 0;
  #hi = 0;

  /** Reads `frame` from now on (valid until the frame is). */
  begin(frame: FrameView): void {
    this.#views = frame.views;
    this.#offsets = frame.offsets;
  }

  /** The root struct; a null root is an error (no RPC message is empty). */
  root(out: StructRef): void {
    if (!this.#follow(0, 0)) throw new EnvelopeError("Message has a null root pointer.");
    this.#asStruct(out);
  }

  /** Reads pointer `index` of `s` as a struct into `out`; false (and empty) when null. */
  struct(s: StructRef, index: number, out: StructRef): boolean {
    if (index >= s.ptrCount || !this.#follow(s.seg, s.ptrs + index * 8)) {
      out.dataBytes = out.ptrCount = 0;
      return false;
    }
    this.#asStruct(out);
    return true;
  }

  /** Whether pointer `index` of `s` is null (or absent). */
  isNull(s: StructRef, index: number): boolean {
    return index >= s.ptrCount || this.#word(s.seg, s.ptrs + index * 8, 0) === 0 &&
        this.#word(s.seg, s.ptrs + index * 8, 4) === 0;
  }

  /** Reads pointer `index` of `s` as a list of structs into `out` (empty when null). */
  structList(s: StructRef, index: number, out: ListRef): void {
    out.length = 0;
    if (index >= s.ptrCount || !this.#follow(s.seg, s.ptrs + index * 8)) return;
    if ((this.#lo & 3) !== LIST) {
      throw new EnvelopeError("Message contains non-list pointer where list pointer was expected.");
    }
    const size = this.#hi & 7;
    out.seg = this.#seg;
    if (size === COMPOSITE) {
      const tagLo = this.#word(this.#seg, this.#at, 0);
      const tagHi = this.#word(this.#seg, this.#at, 4);
      out.start = this.#at + 8;
      out.length = tagLo >>> 2;
      out.dataBytes = (tagHi & 0xffff) * 8;
      out.ptrCount = tagHi >>> 16;
      out.stride = out.dataBytes + out.ptrCount * 8;
      return;
    }
    if (size === BIT) {
      throw new EnvelopeError(
        "Found bit list where struct list was expected; upgrading boolean lists to structs is no longer supported.",
      );
    }
    // A list of primitives or pointers reads as structs of one field (schema evolution).
    out.start = this.#at;
    out.length = this.#hi >>> 3;
    out.ptrCount = size === POINTER ? 1 : 0;
    out.dataBytes = size === POINTER ? 0 : ELEMENT_BITS[size]! / 8;
    out.stride = ELEMENT_BITS[size]! / 8;
  }

  /** Element `i` of `list` into `out`. */
  element(list: ListRef, i: number, out: StructRef): void {
    out.seg = list.seg;
    out.data = list.start + i * list.stride;
    out.dataBytes = list.dataBytes;
    out.ptrs = out.data + list.dataBytes;
    out.ptrCount = list.ptrCount;
  }

  /** Reads pointer `index` of `s` as text ("" when null). */
  text(s: StructRef, index: number): string {
    if (index >= s.ptrCount || !this.#follow(s.seg, s.ptrs + index * 8)) return "";
    if ((this.#lo & 3) !== LIST) {
      throw new EnvelopeError("Message contains non-list pointer where text was expected.");
    }
    if ((this.#hi & 7) !== BYTE) {
      throw new EnvelopeError(
        "Message contains list pointer of non-bytes where text was expected.",
      );
    }
    const length = this.#hi >>> 3;
    if (length === 0) {
      throw new EnvelopeError("Message contains text that is not NUL-terminated.");
    }
    const view = this.#views[this.#seg]!;
    const start = view.byteOffset + this.#offsets[this.#seg]! + this.#at;
    const bytes = new Uint8Array(view.buffer, start, length);
    if (bytes[length - 1] !== 0) {
      throw new EnvelopeError("Message contains text that is not NUL-terminated.");
    }
    return utf8.decode(bytes.subarray(0, length - 1));
  }

  /** An 8-bit unsigned field at `byte` of the data section (0 past its end). */
  u8(s: StructRef, byte: number): number {
    return byte + 1 <= s.dataBytes
      ? this.#views[s.seg]!.getUint8(this.#offsets[s.seg]! + s.data + byte)
      : 0;
  }

  /** A 16-bit unsigned field at `byte` of the data section (0 past its end). */
  u16(s: StructRef, byte: number): number {
    return byte + 2 <= s.dataBytes
      ? this.#views[s.seg]!.getUint16(this.#offsets[s.seg]! + s.data + byte, true)
      : 0;
  }

  /** A 32-bit unsigned field at `byte` of the data section (0 past its end). */
  u32(s: StructRef, byte: number): number {
    return byte + 4 <= s.dataBytes
      ? this.#views[s.seg]!.getUint32(this.#offsets[s.seg]! + s.data + byte, true)
      : 0;
  }

  /** A 64-bit unsigned field at `byte` of the data section (0 past its end). */
  u64(s: StructRef, byte: number): bigint {
    return byte + 8 <= s.dataBytes
      ? this.#views[s.seg]!.getBigUint64(this.#offsets[s.seg]! + s.data + byte, true)
      : 0n;
  }

  /** Bit `bit` of the data section. */
  bool(s: StructRef, bit: number): boolean {
    return (this.u8(s, bit >>> 3) & (1 << (bit & 7))) !== 0;
  }

  #word(seg: number, byte: number, half: 0 | 4): number {
    return this.#views[seg]!.getUint32(this.#offsets[seg]! + byte + half, true);
  }

  /**
   * Follows the pointer at `byte` of segment `seg` through far pointers
   * (checked by the validator); false when null. Leaves the content's
   * place in `#seg`/`#at` and the tag in `#lo`/`#hi`.
   */
  #follow(seg: number, byte: number): boolean {
    let lo = this.#word(seg, byte, 0);
    let hi = this.#word(seg, byte, 4);
    if (lo === 0 && hi === 0) return false;
    if ((lo & 3) === FAR) {
      const padSeg = hi;
      const pad = (lo >>> 3) * 8;
      if ((lo & 4) === 0) {
        seg = padSeg;
        byte = pad;
        lo = this.#word(seg, byte, 0);
        hi = this.#word(seg, byte, 4);
      } else {
        const landing = this.#word(padSeg, pad, 0);
        this.#seg = this.#word(padSeg, pad, 4);
        this.#at = (landing >>> 3) * 8;
        this.#lo = this.#word(padSeg, pad + 8, 0);
        this.#hi = this.#word(padSeg, pad + 8, 4);
        return true;
      }
    }
    this.#seg = seg;
    this.#at = byte + 8 + ((lo | 0) >> 2) * 8;
    this.#lo = lo;
    this.#hi = hi;
    return true;
  }

  #asStruct(out: StructRef): void {
    if ((this.#lo & 3) !== STRUCT) {
      throw new EnvelopeError(
        "Message contains non-struct pointer where struct pointer was expected.",
      );
    }
    out.seg = this.#seg;
    out.data = this.#at;
    out.dataBytes = (this.#hi & 0xffff) * 8;
    out.ptrs = this.#at + out.dataBytes;
    out.ptrCount = this.#hi >>> 16;
  }
}

/** Space to write words into: a standalone buffer or a capnp-es segment. */
export interface WordSpace {
  /** The view to write through (re-read after each `alloc`: the buffer may move). */
  readonly view: DataView;
  /** Allocates `words` zeroed words; returns their byte offset. */
  alloc(words: number): number;
}

/** A growing buffer of words: the one segment of an envelope-only message. */
export class WordBuffer implements WordSpace {
  #buffer: ArrayBuffer;
  view: DataView;
  /** Bytes used. */
  used = 0;

  /** A buffer with room for `words` words to start with. */
  constructor(words: number) {
    this.#buffer = new ArrayBuffer(words * 8);
    this.view = new DataView(this.#buffer);
  }

  alloc(words: number): number {
    const at = this.used;
    const need = at + words * 8;
    if (need > this.#buffer.byteLength) {
      const grown = new ArrayBuffer(Math.max(need, this.#buffer.byteLength * 2));
      new Uint8Array(grown).set(new Uint8Array(this.#buffer, 0, at));
      this.#buffer = grown;
      this.view = new DataView(grown);
    }
    this.used = need;
    return at;
  }

  /** The segment written. */
  segment(): Uint8Array {
    return new Uint8Array(this.#buffer, 0, this.used);
  }

  /**
   * Starts over for another message: the words used are zeroed, or a buffer
   * grown past `keepBytes` is let go (its last segment stays as it was).
   */
  reset(keepBytes: number): void {
    if (this.#buffer.byteLength > keepBytes) {
      this.#buffer = new ArrayBuffer(512);
      this.view = new DataView(this.#buffer);
    } else {
      new Uint8Array(this.#buffer, 0, this.used).fill(0);
    }
    this.used = 0;
  }
}

/** Writes a struct pointer at byte `at` to a new struct of `size`; returns the struct's offset. */
export function newStruct(space: WordSpace, at: number, size: readonly [number, number]): number {
  const content = space.alloc(size[0] + size[1]);
  structPointer(space.view, at, content, size);
  return content;
}

function structPointer(
  view: DataView,
  at: number,
  content: number,
  [data, ptrs]: readonly [number, number],
): void {
  view.setUint32(at, ((content - at - 8) / 8) << 2 | STRUCT, true);
  view.setUint32(at + 4, data | ptrs << 16, true);
}

/** Writes a list pointer at `at` to a new composite list; returns element 0's offset. */
function newStructList(
  space: WordSpace,
  at: number,
  length: number,
  size: readonly [number, number],
): number {
  const words = (size[0] + size[1]) * length;
  const tag = space.alloc(1 + words);
  const view = space.view;
  view.setUint32(at, ((tag - at - 8) / 8) << 2 | LIST, true);
  view.setUint32(at + 4, COMPOSITE | words << 3, true);
  view.setUint32(tag, length << 2 | STRUCT, true);
  view.setUint32(tag + 4, size[0] | size[1] << 16, true);
  return tag + 8;
}

const utf8Encoder = new TextEncoder();

function writeText(space: WordSpace, at: number, text: string): void {
  const bytes = utf8Encoder.encode(text);
  const content = space.alloc(Math.ceil((bytes.byteLength + 1) / 8));
  const view = space.view;
  view.setUint32(at, ((content - at - 8) / 8) << 2 | LIST, true);
  view.setUint32(at + 4, BYTE | (bytes.byteLength + 1) << 3, true);
  new Uint8Array(view.buffer, view.byteOffset + content, bytes.byteLength).set(bytes);
}

/** Where a call goes: an export of the receiver, or a promised answer of this side's question. */
export type Target = { importId: number } | { questionId: number; path: readonly number[] };

/** Writes a `PromisedAnswer` through the pointer at `at`. */
export function writePromisedAnswer(
  space: WordSpace,
  at: number,
  to: { questionId: number; path: readonly number[] },
): void {
  const promised = newStruct(space, at, PROMISED);
  space.view.setUint32(promised, to.questionId, true);
  if (to.path.length === 0) return;
  const first = newStructList(space, promised + 8, to.path.length, OP);
  const view = space.view;
  for (let i = 0; i < to.path.length; i++) {
    view.setUint16(first + i * 8, 1, true); // getPointerField
    view.setUint16(first + i * 8 + 2, to.path[i]!, true);
  }
}

/** Fills the `MessageTarget` struct at `target` (its pointer already written). */
export function writeTarget(space: WordSpace, target: number, to: Target): void {
  if ("importId" in to) {
    space.view.setUint32(target, to.importId, true);
  } else {
    space.view.setUint16(target + 4, 1, true);
    writePromisedAnswer(space, target + 8, to);
  }
}

/** Writes an `Exception` through the pointer at `at`. */
export function writeException(space: WordSpace, at: number, reason: string, type: number): void {
  const exception = newStruct(space, at, EXCEPTION);
  space.view.setUint16(exception + 4, type, true);
  writeText(space, exception + 8, reason);
}

/**
 * Writes a cap table of `length` descriptors through the pointer at `at`;
 * returns descriptor 0's offset (each is {@linkcode DESCRIPTOR_BYTES} on).
 */
export function writeCapTable(space: WordSpace, at: number, length: number): number {
  return newStructList(space, at, length, DESCRIPTOR);
}

/** Bytes from one descriptor of a written cap table to the next. */
export const DESCRIPTOR_BYTES = 16;

/** Makes the descriptor at `descriptor` a `tag` naming export or import `id`. */
export function writeDescriptorId(
  space: WordSpace,
  descriptor: number,
  tag: number,
  id: number,
): void {
  space.view.setUint16(descriptor, tag, true);
  space.view.setUint32(descriptor + 4, id, true);
}

/** Makes the descriptor at `descriptor` a `receiverAnswer`. */
export function writeDescriptorAnswer(
  space: WordSpace,
  descriptor: number,
  to: { questionId: number; path: readonly number[] },
): void {
  space.view.setUint16(descriptor, DescriptorTag.receiverAnswer, true);
  writePromisedAnswer(space, descriptor + 8, to);
}

/**
 * The one buffer envelope-only messages are written in, over and over: a
 * message is sent, and copied by the transport (which copies every message
 * of up to 64 KiB as it is sent), before the next is built. A message that
 * grew past {@linkcode SCRATCH_KEEP_BYTES} keeps its buffer: the next one
 * starts a new buffer.
 */
const scratch = new WordBuffer(64);
const SCRATCH_KEEP_BYTES = 4096;

/** The scratch buffer, emptied for the next message. */
function scratchBuffer(): WordBuffer {
  scratch.reset(SCRATCH_KEEP_BYTES);
  return scratch;
}

/**
 * An envelope-only message being written: the root `Message` with its
 * union set to `tag` and a body struct of `size`. Returns the buffer and
 * the body's offset. The message's bytes are valid until the next envelope
 * is built (see {@linkcode scratch}).
 */
function envelope(
  tag: number,
  size: readonly [number, number],
): { buffer: WordBuffer; body: number } {
  const buffer = scratchBuffer();
  const root = newStruct(buffer, buffer.alloc(1), MESSAGE);
  buffer.view.setUint16(root, tag, true);
  return { buffer, body: newStruct(buffer, root + 8, size) };
}

/** `Finish`: the question is done with. */
export function finishMessage(questionId: number, releaseResultCaps: boolean): Uint8Array {
  const { buffer, body } = envelope(MessageTag.finish, FINISH);
  buffer.view.setUint32(body, questionId, true);
  // Default true: stored inverted.
  buffer.view.setUint8(body + 4, releaseResultCaps ? 0 : 1);
  return buffer.segment();
}

/** `Release`: drops `count` references to import `id`. */
export function releaseMessage(id: number, count: number): Uint8Array {
  const { buffer, body } = envelope(MessageTag.release, RELEASE);
  buffer.view.setUint32(body, id, true);
  buffer.view.setUint32(body + 4, count, true);
  return buffer.segment();
}

/** `Bootstrap` as question `questionId`. */
export function bootstrapMessage(questionId: number): Uint8Array {
  const { buffer, body } = envelope(MessageTag.bootstrap, BOOTSTRAP);
  buffer.view.setUint32(body, questionId, true);
  return buffer.segment();
}

/** A `Return` with no payload: `canceled`, `resultsSentElsewhere`, or an exception. */
export function returnMessage(
  answerId: number,
  tag: number,
  exception?: { reason: string; type: number },
): Uint8Array {
  const { buffer, body } = envelope(MessageTag.return, RETURN);
  buffer.view.setUint32(body, answerId, true);
  buffer.view.setUint8(body + 4, 1); // releaseParamCaps = false, as C++ sends it
  buffer.view.setUint16(body + 6, tag, true);
  if (exception) writeException(buffer, body + 16, exception.reason, exception.type);
  return buffer.segment();
}

/** `Abort` with an exception. */
export function abortMessage(reason: string, type: number): Uint8Array {
  const buffer = scratchBuffer();
  const root = newStruct(buffer, buffer.alloc(1), MESSAGE);
  buffer.view.setUint16(root, MessageTag.abort, true);
  writeException(buffer, root + 8, reason, type);
  return buffer.segment();
}

/** `Resolve` of export `promiseId`; `fill` writes the cap descriptor or exception. */
export function resolveMessage(
  promiseId: number,
  fill: (space: WordBuffer, body: number) => void,
): Uint8Array {
  const { buffer, body } = envelope(MessageTag.resolve, RESOLVE);
  buffer.view.setUint32(body, promiseId, true);
  fill(buffer, body);
  return buffer.segment();
}

/** Makes the `Resolve` at `body` carry an exception. */
export function resolveToException(
  space: WordSpace,
  body: number,
  reason: string,
  type: number,
): void {
  space.view.setUint16(body + 4, 1, true);
  writeException(space, body + 8, reason, type);
}

/** Makes the `Resolve` at `body` carry a descriptor; returns its offset. */
export function resolveToCap(space: WordSpace, body: number): number {
  return newStruct(space, body + 8, DESCRIPTOR);
}

/** `Disembargo` to `target` with context `tag` and id. */
export function disembargoMessage(target: Target, tag: number, id: number): Uint8Array {
  const { buffer, body } = envelope(MessageTag.disembargo, DISEMBARGO);
  buffer.view.setUint32(body, id, true);
  buffer.view.setUint16(body + 4, tag, true);
  writeTarget(buffer, newStruct(buffer, body + 8, TARGET), target);
  return buffer.segment();
}

// ---- Call and Return skeletons in capnp-es messages ----

/**
 * Byte offsets in a Call message laid out by {@linkcode writeCallSkeleton},
 * from the root pointer: the fields filled in at send time, and the
 * params' content pointer.
 */
export const CALL_LAYOUT = {
  /** `Call` data section (questionId @0, methodId @4, interfaceId @8). */
  call: 3 * 8,
  /** `MessageTarget` data section; its pointer follows. */
  target: 9 * 8,
  /** `Payload.content` pointer. */
  content: 11 * 8,
  /** `Payload.capTable` pointer. */
  capTable: 12 * 8,
  /** Words the skeleton takes. */
  words: 13,
} as const;

/**
 * Lays out a Call at the start of `space`, which holds only the root
 * pointer's word so far: root → Message(call)
 * → Call (target and params structs allocated, empty) → Payload.
 */
export function writeCallSkeleton(space: WordSpace, interfaceId: bigint, methodId: number): void {
  // The root pointer's word is taken already (capnp-es reserves it).
  const root = space.alloc(CALL_LAYOUT.words - 1) - 8;
  const view = space.view;
  structPointer(view, root, root + 8, MESSAGE);
  view.setUint16(root + 8, MessageTag.call, true);
  const call = root + CALL_LAYOUT.call;
  structPointer(view, root + 16, call, CALL);
  view.setUint16(call + 4, methodId, true);
  view.setBigUint64(call + 8, interfaceId, true);
  structPointer(view, call + 24, root + CALL_LAYOUT.target, TARGET);
  structPointer(view, call + 32, root + CALL_LAYOUT.content, PAYLOAD);
}

/** Byte offsets in a Return message laid out by {@linkcode writeReturnSkeleton}, from the root pointer. */
export const RETURN_LAYOUT = {
  /** `Return` data section (answerId @0, releaseParamCaps @4, tag @6). */
  ret: 3 * 8,
  content: 6 * 8,
  capTable: 7 * 8,
  words: 8,
} as const;

/** Lays out a Return of results at the start of `space` (see {@linkcode writeCallSkeleton}). */
export function writeReturnSkeleton(space: WordSpace): void {
  // The root pointer's word is taken already (capnp-es reserves it).
  const root = space.alloc(RETURN_LAYOUT.words - 1) - 8;
  const view = space.view;
  structPointer(view, root, root + 8, MESSAGE);
  view.setUint16(root + 8, MessageTag.return, true);
  const ret = root + RETURN_LAYOUT.ret;
  structPointer(view, root + 16, ret, RETURN);
  // releaseParamCaps = false, as C++ sends it (stored inverted).
  view.setUint8(ret + 4, 1);
  structPointer(view, ret + 16, root + RETURN_LAYOUT.content, PAYLOAD);
}

/** Byte offsets of fields read by the connection, by struct. */
export const Field = {
  message: { which: 0 },
  bootstrap: { questionId: 0 },
  call: { questionId: 0, methodId: 4, sendResultsTo: 6, interfaceId: 8, target: 0, params: 1 },
  ret: {
    answerId: 0,
    releaseParamCapsBit: 32,
    which: 6,
    takeFromOtherQuestion: 8,
    payload: 0,
  },
  finish: { questionId: 0, releaseResultCapsBit: 32 },
  resolve: { promiseId: 0, which: 4, body: 0 },
  release: { id: 0, referenceCount: 4 },
  disembargo: { target: 0, id: 0, which: 4 },
  target: { importedCap: 0, which: 4, promisedAnswer: 0 },
  payload: { content: 0, capTable: 1 },
  descriptor: { which: 0, id: 4, promisedAnswer: 0 },
  promised: { questionId: 0, transform: 0 },
  op: { which: 0, pointerField: 2 },
  exception: { reason: 0, type: 4 },
} as const;
