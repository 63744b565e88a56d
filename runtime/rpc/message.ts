/**
 * capnp-es message plumbing shared by the engine: wrapping received frames
 * (their segments taken over), Call and Return messages whose envelope the
 * hand-written codec (`envelope.ts`) lays out and capnp-es fills with the
 * application's content, the capability table that rides on each message,
 * and pointer paths into results.
 *
 * @module
 */
import * as capnp from "capnp-es";
import { encodeFrame, type FrameView } from "../framing.ts";
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

type Segment = ReturnType<capnp.Message["allocateSegment"]>;
const SegmentCtor = new capnp.Message(twoSegments, false).getSegment(0).constructor as new (
  id: number,
  message: capnp.Message,
  buffer: ArrayBuffer,
  byteLength: number,
) => Segment;

/**
 * Wraps a received (already validated) frame as a capnp-es message, taking
 * its segments over (staged ones are copied out: the message is kept).
 *
 * The validator bounded everything reachable, so capnp-es's own per-access
 * budget is lifted: long-lived messages must stay readable.
 */
export function messageFromFrame(frame: FrameView): capnp.Message {
  const buffers = frame.owned();
  // What capnp-es's constructor sets up, without re-reading the segment table.
  const message = Object.create(capnp.Message.prototype) as capnp.Message;
  const segments = buffers.map((buffer, i) =>
    new SegmentCtor(i, message, buffer, buffer.byteLength)
  );
  (message as { _capnp: unknown })._capnp = {
    arena: new MultiSegmentArena(buffers),
    segments,
    traversalLimit: Infinity,
  };
  return message;
}

/** The pointer at byte `byte` of segment `seg` of `message`. */
export function pointerAt(message: capnp.Message, seg: number, byte: number): capnp.Pointer {
  return new capnp.Pointer(message.getSegment(seg), byte);
}

/** A null pointer (reads as an empty struct). */
export const NULL_POINTER: capnp.Pointer = new capnp.Pointer(
  new capnp.Message(new ArrayBuffer(8), false, true).getSegment(0),
  0,
);

const SingleSegmentArena = new capnp.Message()._capnp.arena.constructor as new (
  buffer: ArrayBuffer,
) => ConstructorParameters<typeof capnp.Message>[0] & { buffer: ArrayBuffer };

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
 * Doubling copies every byte at most once on average.
 */
class GrowingMessage extends capnp.Message {
  override allocateSegment(byteLength: number): Segment {
    const segment = this._capnp.segments[0];
    const used = segment.byteLength;
    const capacity = Math.max(2 * segment.buffer.byteLength, used + byteLength + SLACK_BYTES);
    const buffer = new ArrayBuffer(capacity);
    new Uint8Array(buffer).set(new Uint8Array(segment.buffer, 0, used));
    segment.replaceBuffer(buffer);
    (this._capnp.arena as InstanceType<typeof SingleSegmentArena>).buffer = buffer;
    return segment;
  }
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
  // The public constructors either zero 4 KiB or mark a supplied arena as
  // full of data; set up the (documented) internal state directly instead.
  const message = Object.create(GrowingMessage.prototype) as GrowingMessage;
  (message as { _capnp: unknown })._capnp = {
    arena: new SingleSegmentArena(new ArrayBuffer(bytes)),
    segments: [],
    traversalLimit: Infinity,
  };
  return message;
}

/** Bytes of segment data a message holds (its size on the wire, less the header). */
export function messageBytes(message: capnp.Message): number {
  let bytes = 0;
  for (const segment of message._capnp.segments) bytes += segment.byteLength;
  return bytes;
}

/** The used part of each segment of a message, for the transport to frame. */
export function segmentsOf(message: capnp.Message): Uint8Array[] {
  if (message._capnp.segments.length === 0) message.getSegment(0);
  return message._capnp.segments.map((s) => new Uint8Array(s.buffer, 0, s.byteLength));
}

/** Segment 0 of a message being built, as space for the envelope codec to write words in. */
export function spaceOf(message: capnp.Message): WordSpace {
  const segment = message.getSegment(0);
  return {
    get view() {
      return (segment as unknown as { _dv: DataView })._dv;
    },
    alloc(words) {
      const at = segment.allocate(words * 8);
      if (at.segment !== segment) throw new Error("Envelope space outside the first segment.");
      return at.byteOffset;
    },
  };
}

/** A new Call message of `interfaceId.methodId`, with the params content pointer to fill. */
export function newCallMessage(
  interfaceId: bigint,
  methodId: number,
): { message: capnp.Message; content: capnp.Pointer } {
  const message = newMessage();
  writeCallSkeleton(spaceOf(message), interfaceId, methodId);
  return { message, content: pointerAt(message, 0, CALL_LAYOUT.content) };
}

/** A new Return message of results, with the results content pointer to fill. */
export function newReturnMessage(): { message: capnp.Message; content: capnp.Pointer } {
  const message = newMessage();
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
