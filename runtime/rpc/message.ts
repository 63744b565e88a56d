/**
 * capnp-es message plumbing shared by the engine: wrapping received frames
 * (read where they were received when they can be), Call and Return
 * messages whose envelope the hand-written codec (`envelope.ts`) lays out
 * and capnp-es fills with the application's content, the capability table
 * that rides on each message, and pointer paths into results.
 *
 * Small messages share buffers, which saves an `ArrayBuffer` (the costliest
 * allocation of a call) per message: a received one is read in the
 * decoder's staging buffer, and a Call or Return starts in a 256-byte region
 * of a 4 KiB buffer, moving to one of its own if it outgrows it. Segment 0
 * of such a message starts at a `start` offset in its buffer, and capnp-es
 * (which counts every offset from the buffer's beginning) reads and writes
 * it unchanged; only what is counted from the segment's beginning (a root,
 * a layout offset) adds the start. A shared buffer lives as long as any of
 * its messages.
 *
 * @module
 */
import * as capnp from "capnp-es";
import { segmentBuffers } from "../buffers.ts";
import { encodeFrame, type FrameView } from "../framing.ts";
import type { FrameCheck } from "../validate.ts";
import {
  CALL_LAYOUT,
  RETURN_LAYOUT,
  type WordSpace,
  writeCallSkeleton,
  writeReturnSkeleton,
} from "./envelope.ts";

// capnp-es does not export its arena and segment classes; take them from a
// parsed two-segment message so received segments are used in place.
const twoSegments = encodeFrame([new Uint8Array(8), new Uint8Array(8)]);
const MultiSegmentArena = new capnp.Message(twoSegments, false)._capnp.arena.constructor as new (
  buffers: ArrayBuffer[],
) => ConstructorParameters<typeof capnp.Message>[0];
const SingleSegmentArena = new capnp.Message()._capnp.arena.constructor as new (
  buffer: ArrayBuffer,
) => ConstructorParameters<typeof capnp.Message>[0] & { buffer: ArrayBuffer };

type Segment = ReturnType<capnp.Message["allocateSegment"]>;

/** Where a call's params or a return's results sit in their message (capnp-es's pointer). */
export type CapnpPointer = capnp.Pointer;
const SegmentCtor = new capnp.Message(twoSegments, false).getSegment(0).constructor as new (
  id: number,
  message: capnp.Message,
  buffer: ArrayBuffer,
  byteLength: number,
) => Segment;

/**
 * Segment 0 of a message placed in a buffer it may share: its bytes start
 * at the message's `start` and may run up to `end`. capnp-es allocates in
 * it only below `end` (past it, the message grows or starts a new segment),
 * and zeroing stops at `end`, as capnp-es 0.0.16's `erase` of a list zeroes
 * eight times the list's length: a message never writes over a neighbour.
 */
class PlacedSegment extends SegmentCtor {
  end: number;
  /** Whether other messages' bytes are in the buffer too. */
  shared: boolean;

  constructor(
    message: capnp.Message,
    buffer: ArrayBuffer,
    byteLength: number,
    end: number,
    shared: boolean,
  ) {
    super(0, message, buffer, byteLength);
    this.end = end;
    this.shared = shared;
  }

  override hasCapacity(byteLength: number): boolean {
    return this.end - this.byteLength >= byteLength;
  }

  override fillZeroWords(byteOffset: number, wordLength: number): void {
    super.fillZeroWords(byteOffset, Math.min(wordLength, (this.end - byteOffset) / 8));
  }

  override replaceBuffer(buffer: ArrayBuffer): void {
    super.replaceBuffer(buffer);
    this.end = buffer.byteLength;
    this.shared = false;
  }
}

/**
 * What capnp-es's constructor sets up, without re-reading a segment table,
 * segment 0's start, and the pooled buffers the message holds (see
 * {@linkcode releaseBuffers}).
 */
interface MessageState {
  arena: ConstructorParameters<typeof capnp.Message>[0];
  segments: Segment[];
  traversalLimit: number;
  start: number;
  holds: ArrayBuffer[] | null;
  /** The landing pads of referenced Data (see {@linkcode setData}), once there is any. */
  pads: Segment | null;
  capTable?: unknown[] | undefined;
}

function setState(
  message: capnp.Message,
  arena: MessageState["arena"],
  segments: Segment[],
  start: number,
  holds: ArrayBuffer[] | null = null,
): void {
  // The validator bounded everything reachable in a received message, so
  // capnp-es's own per-access budget is lifted: long-lived messages must
  // stay readable.
  const state: MessageState = {
    arena,
    segments,
    traversalLimit: Infinity,
    start,
    holds,
    pads: null,
  };
  (message as { _capnp: unknown })._capnp = state;
}

function stateOf(message: capnp.Message): MessageState {
  return message._capnp as MessageState;
}

/** Where segment `seg` of `message` starts in its buffer. */
function startOf(message: capnp.Message, seg: number): number {
  return seg === 0 ? stateOf(message).start ?? 0 : 0;
}

/**
 * Wraps a received frame, which `check` validated, as a capnp-es message.
 * A frame of one segment whose bytes the decoder keeps
 * ({@linkcode FrameView.kept}) and without far pointers (which count from
 * a segment's beginning) is read where it lies. Any other frame takes its
 * segments over (staged ones are copied out: the message is kept), with
 * the decoder's hold on the pooled buffers of large ones: its owner calls
 * {@linkcode releaseBuffers} once done with it.
 */
export function messageFromFrame(frame: FrameView, check: FrameCheck): capnp.Message {
  if (frame.count !== 1 || frame.buffers[0] !== null || !frame.kept || check.farPointers > 0) {
    const buffers: ArrayBuffer[] = new Array(frame.count);
    for (let i = 0; i < frame.count; i++) buffers[i] = frame.own(i);
    const message = messageFromSegments(buffers, frame.lengths);
    stateOf(message).holds = buffers;
    return message;
  }
  const view = frame.views[0]!;
  const buffer = view.buffer as ArrayBuffer;
  const start = view.byteOffset + frame.offsets[0]!;
  const end = start + frame.lengths[0]!;
  const message = Object.create(capnp.Message.prototype) as capnp.Message;
  const segment = new PlacedSegment(message, buffer, end, end, true);
  setState(message, new MultiSegmentArena([buffer]), [segment], start);
  return message;
}

/**
 * A capnp-es message over `buffers`, one segment each (a message read from
 * its beginning), of `lengths` bytes (default: whole buffers).
 */
export function messageFromSegments(
  buffers: ArrayBuffer[],
  lengths: readonly number[] = buffers.map((buffer) => buffer.byteLength),
): capnp.Message {
  const message = Object.create(capnp.Message.prototype) as capnp.Message;
  const segments = buffers.map((buffer, i) => new SegmentCtor(i, message, buffer, lengths[i]!));
  setState(message, new MultiSegmentArena(buffers), segments, 0);
  return message;
}

/** The pointer at byte `byte` of segment `seg` of `message` (counted from the segment's start). */
export function pointerAt(message: capnp.Message, seg: number, byte: number): capnp.Pointer {
  return new capnp.Pointer(message.getSegment(seg), startOf(message, seg) + byte);
}

/** A null pointer (reads as an empty struct). */
export const NULL_POINTER: capnp.Pointer = new capnp.Pointer(
  new capnp.Message(new ArrayBuffer(8), false, true).getSegment(0),
  0,
);

/**
 * Room a growing segment keeps beyond what was asked for, as capnp-es's own
 * arena: the few words written after a large blob (a Call's target, its cap
 * table) must not copy the blob again.
 */
const SLACK_BYTES = 4096;

/**
 * A message being built in one segment that grows geometrically: capnp-es's
 * single-segment arena grows by exactly what is asked for and copies itself
 * each time, so a reply of many large blobs took time quadratic in its size.
 * Doubling copies every byte at most once on average. The segment keeps its
 * offsets (capnp-es's structs hold them), so a message placed at a start
 * keeps that many unused bytes before it in its own buffer.
 */
class GrowingMessage extends capnp.Message {
  override allocateSegment(byteLength: number): Segment {
    const segment = this._capnp.segments[0] as PlacedSegment;
    const start = startOf(this, 0);
    const used = segment.byteLength - start;
    const capacity = Math.max(2 * (segment.end - start), used + byteLength + SLACK_BYTES);
    const buffer = new ArrayBuffer(start + capacity);
    new Uint8Array(buffer, start, used).set(new Uint8Array(segment.buffer, start, used));
    segment.replaceBuffer(buffer);
    (this._capnp.arena as InstanceType<typeof SingleSegmentArena>).buffer = buffer;
    return segment;
  }
}

/** A message to build at `start` of `buffer`, with bytes up to `end`; its root word is taken. */
function placedMessage(buffer: ArrayBuffer, start: number, end: number): capnp.Message {
  // The public constructors either zero 4 KiB or mark a supplied arena as
  // full of data; set up the (documented) internal state directly instead.
  const message = Object.create(GrowingMessage.prototype) as GrowingMessage;
  const shared = end - start < buffer.byteLength;
  const segment = new PlacedSegment(message, buffer, start + 8, end, shared);
  setState(message, new SingleSegmentArena(buffer), [segment], start);
  return message;
}

/**
 * A new message for building, starting with `bytes` of segment space:
 * capnp-es would zero 4 KiB for each, where most RPC messages need a few
 * words. It grows geometrically, so building costs time linear in its size.
 *
 * @example
 * ```ts
 * import { Message as RpcMessage } from "capnp-es/capnp/rpc";
 * import { newMessage, segmentsOf } from "./message.ts";
 * const message = newMessage();
 * message.initRoot(RpcMessage)._initAbort().reason = "x".repeat(100_000);
 * if (segmentsOf(message).length !== 1) throw new Error("one segment");
 * ```
 */
export function newMessage(bytes = 512): capnp.Message {
  return placedMessage(new ArrayBuffer(bytes), 0, bytes);
}

/** Bytes of each region a Call or Return starts in, and of the buffers holding them. */
const REGION_BYTES = 256;
const REGIONS_BUFFER_BYTES = 4096;
/** The buffer regions are taken from, and how much of it is taken. */
let regions = new ArrayBuffer(REGIONS_BUFFER_BYTES);
let regionsTaken = 0;

/**
 * A message to build in a region of a shared buffer. Only the envelope
 * codec lays out its root (capnp-es's `initRoot` writes at the buffer's
 * beginning). A kept message keeps its 4 KiB buffer alive: the connection's
 * limits on unfinished answers bound how many a peer can make this side keep.
 */
function regionMessage(): capnp.Message {
  if (regionsTaken + REGION_BYTES > REGIONS_BUFFER_BYTES) {
    regions = new ArrayBuffer(REGIONS_BUFFER_BYTES);
    regionsTaken = 0;
  }
  const start = regionsTaken;
  regionsTaken += REGION_BYTES;
  return placedMessage(regions, start, start + REGION_BYTES);
}

/** Bytes of segment data a message holds (its size on the wire, less the header). */
export function messageBytes(message: capnp.Message): number {
  let bytes = 0;
  message._capnp.segments.forEach((segment, i) =>
    bytes += segment.byteLength - startOf(message, i)
  );
  return bytes;
}

/**
 * Bytes of memory a kept message may keep alive: its segments' bytes, and
 * a whole buffer it shares with other messages (they may all be gone).
 */
export function retainedBytes(message: capnp.Message): number {
  let bytes = 0;
  message._capnp.segments.forEach((segment, i) => {
    bytes += segment instanceof PlacedSegment && segment.shared
      ? segment.buffer.byteLength
      : segment.byteLength - startOf(message, i);
  });
  return bytes;
}

/** The used part of each segment of a message, for the transport to frame. */
export function segmentsOf(message: capnp.Message): Uint8Array[] {
  if (message._capnp.segments.length === 0) message.getSegment(0);
  return message._capnp.segments.map((s, i) => {
    const start = startOf(message, i);
    return new Uint8Array(s.buffer, start, s.byteLength - start);
  });
}

/**
 * A segment of the caller's bytes, sent where they are (see
 * {@linkcode setData}): nothing is allocated in it, and erasing the Data
 * (setting the field again) leaves the caller's bytes alone.
 */
class ReferencedSegment extends SegmentCtor {
  override hasCapacity(): boolean {
    return false;
  }

  override fillZeroWords(): void {}
}

/**
 * The landing pads of a message's referenced Data, in a segment that starts
 * its own buffer: capnp-es counts a far pointer's offset from the start of
 * the buffer, the wire from the start of the segment, and segment 0 of a
 * message built in a shared region starts further in.
 */
class PadSegment extends SegmentCtor {
  override hasCapacity(): boolean {
    return false;
  }
}

/** The size from which {@linkcode setData} sends Data where it is instead of copying it in. */
export const REFERENCED_DATA_BYTES = 64 * 1024;
/**
 * Most Data one message references; more is copied in. Each is a segment,
 * and a frame may have no more than 511 (the C++ reference's limit).
 */
const MAX_REFERENCED = 64;
const PAD_BYTES = 16;
const BYTE_ELEMENTS = 2;

/**
 * Sets the Data at `pointer`, in a message being built, to `bytes`.
 *
 * In a message this module built, Data of {@linkcode REFERENCED_DATA_BYTES}
 * or more that starts at the beginning of its (plain, fixed-length)
 * `ArrayBuffer` is not copied, up to 64 such per message: it becomes a
 * segment of the message of its own, which the transport writes where it
 * is. The caller then leaves those bytes unchanged until the message is
 * written: for a call's params, until the call settles (a call canceled
 * while its params are being written may still be writing them), and an
 * in-process server reads the caller's own bytes. When they are a received
 * message's (a server sending its params' Data back), the message holds
 * their buffer until written, past the received message's release. Other
 * Data is copied in.
 *
 * @example
 * ```ts
 * import * as capnp from "capnp-es";
 * import { Tester_Echo$Params } from "../../examples/schemas/gen/testing.ts";
 * import { newMessage, segmentsOf, setData } from "./message.ts";
 * const message = newMessage();
 * const params = message.initRoot(Tester_Echo$Params);
 * const big = new Uint8Array(100_000).fill(7);
 * setData(capnp.utils.getPointer(0, params), big);
 * const segments = segmentsOf(message);
 * // The root, the landing pad of the far pointer to the Data, the Data.
 * if (segments.length !== 3 || segments[2].buffer !== big.buffer) {
 *   throw new Error("sent where it is, as a segment of its own");
 * }
 * if (params.data.toUint8Array()[99_999] !== 7) throw new Error("and read through a far pointer");
 * ```
 */
export function setData(pointer: CapnpPointer, bytes: Uint8Array): void {
  capnp.utils.erase(pointer);
  const length = bytes.byteLength;
  const buffer = bytes.buffer;
  // Shared or resizable memory could change under the write: copied.
  const fixed = buffer instanceof ArrayBuffer && !buffer.resizable;
  const message = pointer.segment.message;
  const state = stateOf(message);
  // A message capnp-es set up itself (no `pads` in its state) writes only its arena's segments.
  const pads = state.pads;
  if (
    length < REFERENCED_DATA_BYTES || bytes.byteOffset !== 0 || !fixed || pads === undefined ||
    (pads !== null && pads.byteLength === MAX_REFERENCED * PAD_BYTES)
  ) {
    const content = pointer.segment.allocate(length);
    const at = capnp.utils.initPointer(content.segment, content.byteOffset, pointer);
    capnp.utils.setListPointer(at.offsetWords, BYTE_ELEMENTS, length, at.pointer);
    new Uint8Array(content.segment.buffer, content.byteOffset, length).set(bytes);
    return;
  }
  const padSegment = pads ?? newPadSegment(message, state);
  const id = state.segments.length;
  state.segments.push(new ReferencedSegment(id, message, buffer, length));
  if (segmentBuffers.hold(buffer)) (state.holds ??= []).push(buffer);
  // A double-far pointer: its landing pad is a far pointer to the segment's
  // first word, then the list's tag.
  const pad = new capnp.Pointer(padSegment, padSegment.byteLength);
  padSegment.byteLength += PAD_BYTES;
  capnp.utils.setFarPointer(true, pad.byteOffset / 8, padSegment.id, pointer);
  capnp.utils.setFarPointer(false, 0, id, pad);
  pad.byteOffset += 8;
  capnp.utils.setListPointer(0, BYTE_ELEMENTS, length, pad);
}

/** Adds the segment of landing pads to `message`, before the Data they lead to. */
function newPadSegment(message: capnp.Message, state: MessageState): Segment {
  const pads = new PadSegment(
    state.segments.length,
    message,
    new ArrayBuffer(MAX_REFERENCED * PAD_BYTES),
    0,
  );
  state.segments.push(pads);
  state.pads = pads;
  return pads;
}

/**
 * Drops the holds `message` has on pooled buffers (`segmentBuffers`), once:
 * a received message's large segments, a built one's received Data sent on
 * (see {@linkcode setData}). A buffer whose last hold goes is detached and
 * reused, so the message's bytes must no longer be read.
 */
export function releaseBuffers(message: capnp.Message): void {
  const state = stateOf(message);
  const holds = state.holds;
  if (holds == null) return; // none, or a message capnp-es set up
  state.holds = null;
  for (const buffer of holds) segmentBuffers.release(buffer);
}

/** Whether `message` holds pooled buffers, to release with {@linkcode releaseBuffers}. */
export function holdsBuffers(message: capnp.Message): boolean {
  return stateOf(message).holds != null;
}

/**
 * Segment 0 of a message being built, as space for the envelope codec to
 * write words in, and where the segment starts in its view.
 */
export function spaceOf(message: capnp.Message): WordSpace & { readonly start: number } {
  return new SegmentSpace(message.getSegment(0), startOf(message, 0));
}

class SegmentSpace implements WordSpace {
  readonly #segment: Segment;
  readonly start: number;

  constructor(segment: Segment, start: number) {
    this.#segment = segment;
    this.start = start;
  }

  get view(): DataView {
    return (this.#segment as unknown as { _dv: DataView })._dv;
  }

  alloc(words: number): number {
    const at = this.#segment.allocate(words * 8);
    if (at.segment !== this.#segment) throw new Error("Envelope space outside the first segment.");
    return at.byteOffset;
  }
}

/** A new Call message of `interfaceId.methodId`, with the params content pointer to fill. */
export function newCallMessage(
  interfaceId: bigint,
  methodId: number,
): { message: capnp.Message; content: capnp.Pointer } {
  const message = regionMessage();
  writeCallSkeleton(spaceOf(message), interfaceId, methodId);
  return { message, content: pointerAt(message, 0, CALL_LAYOUT.content) };
}

/** A new Return message of results, with the results content pointer to fill. */
export function newReturnMessage(): { message: capnp.Message; content: capnp.Pointer } {
  const message = regionMessage();
  writeReturnSkeleton(spaceOf(message));
  return { message, content: pointerAt(message, 0, RETURN_LAYOUT.content) };
}

/**
 * The capability table of a message: slot `i` is what interface pointer `i`
 * refers to. capnp-es keeps it on the message so its generated accessors see
 * it; here it holds this engine's handles (typed loosely by capnp-es).
 */
export function capTableOf<T>(message: capnp.Message): (T | null)[] {
  const cap = message._capnp as { capTable?: unknown[] };
  return (cap.capTable ??= []) as (T | null)[];
}

/** Reads the struct at `pointer` as `Ctor`; a null pointer reads as defaults. */
export function readStruct<T extends capnp.Struct>(
  Ctor: capnp.StructCtor<T>,
  pointer: capnp.Pointer,
): T {
  if (capnp.utils.isNull(pointer)) return newMessage().initRoot(Ctor);
  return capnp.utils.getAs(Ctor, pointer);
}

/** Initialises a struct of type `Ctor` at `pointer`. */
export function initStruct<T extends capnp.Struct>(
  Ctor: capnp.StructCtor<T>,
  pointer: capnp.Pointer,
): T {
  capnp.utils.initStruct(Ctor._capnp.size, pointer);
  return capnp.utils.getAs(Ctor, pointer);
}

const OTHER = 3;
const STRUCT = 0;

/**
 * Follows a pipeline path (pointer field indexes) from `content` and returns
 * the capability index it ends on, or null for a null pointer.
 *
 * @throws {Error} when the path leaves a struct or ends on a non-capability.
 */
export function capIndexAt(content: capnp.Pointer, path: readonly number[]): number | null {
  let pointer = content;
  for (const field of path) {
    if (capnp.utils.isNull(pointer)) return null;
    if (capnp.utils.getTargetPointerType(pointer) !== STRUCT) {
      throw new Error("Pipeline path goes through a non-struct pointer.");
    }
    const struct = capnp.utils.getAs(
      capnp.Struct as unknown as capnp.StructCtor<capnp.Struct>,
      pointer,
    );
    if (field >= capnp.utils.getTargetStructSize(struct).pointerLength) return null;
    pointer = capnp.utils.getPointer(field, struct);
  }
  if (capnp.utils.isNull(pointer)) return null;
  const target = capnp.utils.followFars(pointer);
  if (capnp.utils.getPointerType(target) !== OTHER) {
    throw new Error("Pipeline path does not end on a capability.");
  }
  return capnp.utils.getCapabilityId(target);
}
