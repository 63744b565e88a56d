/**
 * Cap'n Proto stream framing: `u32 segmentCount-1`, one `u32` word count per
 * segment, padding to 8 bytes, then the segments.
 *
 * {@linkcode FrameDecoder} turns an arbitrary byte stream into whole messages.
 * A header only declares sizes: the decoder checks them against the limits and
 * allocates memory for a segment only as its bytes arrive, so a hostile header
 * costs nothing, and a frame that is not completed in time can be refused.
 *
 * @module
 */
import { segmentBuffers } from "./buffers.ts";

/** Limits applied while framing; the message limits are the C++ reference's. */
export interface FrameLimits {
  /**
   * Most segments one message may have. Default 511: the C++ reference
   * requires fewer than 512.
   */
  maxSegments: number;
  /** Most bytes of segment data one message may declare. Default 64 MiB (C++: 8 Mi words). */
  maxMessageBytes: number;
  /**
   * Milliseconds a frame may take from its first byte to its last, on top
   * of the allowance for its size (see `minFrameBytesPerSecond`). C++ has
   * no such deadline. Default 10 000; `Infinity` for none.
   */
  frameTimeoutMs: number;
  /**
   * The slowest rate a frame may arrive at: a frame declaring `n` bytes must
   * be complete within `frameTimeoutMs + n / minFrameBytesPerSecond`
   * seconds of its first byte (70 s for 60 MiB). Default 1 MiB/s.
   */
  minFrameBytesPerSecond: number;
}

/** The default framing limits (see {@linkcode FrameLimits} for each one's origin). */
export const DEFAULT_FRAME_LIMITS: Readonly<FrameLimits> = Object.freeze({
  maxSegments: 511,
  maxMessageBytes: 64 * 1024 * 1024,
  frameTimeoutMs: 10_000,
  minFrameBytesPerSecond: 1024 * 1024,
});

/**
 * Thrown when a peer's framing breaks a limit or is malformed.
 *
 * @example A header declaring more segments than `maxSegments`: refused before any arrive
 * ```ts
 * import { FrameDecoder, FramingError } from "./framing.ts";
 * const header = new Uint8Array(8);
 * new DataView(header.buffer).setUint32(0, 999, true); // segment count less one: 1000
 * const decoder = new FrameDecoder({ maxSegments: 512 });
 * const refusal = (() => {
 *   try {
 *     decoder.push(header);
 *   } catch (error) {
 *     return error;
 *   }
 * })();
 * if (!(refusal instanceof FramingError)) throw new Error(`accepted: ${refusal}`);
 * ```
 */
export class FramingError extends Error {
  /** Always `"FramingError"`. */
  override name = "FramingError";
}

/**
 * One received message: its segments, each its own `ArrayBuffer` so they can
 * back a capnp-es arena without another copy.
 */
export type Frame = ArrayBuffer[];

/**
 * One received message read in place: where each segment's bytes are. Small
 * segments are still in the buffer they were received into. The view itself
 * is reused for the next frame once the callback it was given to returns;
 * {@linkcode FrameView.owned} copies out what is to be kept, or, when
 * {@linkcode FrameView.kept} says the bytes stay, a reader may keep reading
 * them where they are.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameDecoder, type FrameView } from "./framing.ts";
 * const decoder = new FrameDecoder();
 * const bytes = encodeFrame([new Uint8Array(16).fill(7)]);
 * decoder.readTarget().set(bytes);
 * let first = -1;
 * decoder.commitInPlace(bytes.byteLength, (frame: FrameView) => {
 *   first = frame.views[0].getUint8(frame.offsets[0]);
 * });
 * if (first !== 7) throw new Error("read in place");
 * ```
 */
export class FrameView {
  /** Segments in the message. */
  count = 0;
  /** The view each segment's bytes are in. */
  readonly views: DataView[] = [];
  /** Where each segment starts in its view, in bytes. */
  readonly offsets: number[] = [];
  /** Each segment's length in bytes. */
  readonly lengths: number[] = [];
  /**
   * Each segment's own buffer (from its start, perhaps longer than the
   * segment), or null while it shares a buffer with other bytes.
   */
  readonly buffers: (ArrayBuffer | null)[] = [];
  /**
   * Whether the bytes of segments without a buffer of their own stay as
   * they are after the frame is handed over: {@linkcode FrameDecoder} never
   * writes over what it delivered.
   */
  kept = false;

  /** A view of `segments`, each in a buffer of its own. */
  static of(segments: readonly ArrayBuffer[]): FrameView {
    const frame = new FrameView();
    for (const segment of segments) {
      frame.add(new DataView(segment), 0, segment.byteLength, segment);
    }
    return frame;
  }

  /** Appends a segment. */
  add(view: DataView, offset: number, length: number, buffer: ArrayBuffer | null): void {
    const i = this.count++;
    this.views[i] = view;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.buffers[i] = buffer;
  }

  /** Gives segment `i` a buffer of its own (a copy of its staged bytes). */
  own(i: number): ArrayBuffer {
    let buffer = this.buffers[i] as ArrayBuffer | null;
    if (buffer === null) {
      const view = this.views[i]!;
      const start = view.byteOffset + this.offsets[i]!;
      buffer = view.buffer.slice(start, start + this.lengths[i]!) as ArrayBuffer;
      this.buffers[i] = buffer;
      this.views[i] = new DataView(buffer);
      this.offsets[i] = 0;
    }
    return buffer;
  }

  /**
   * The segments, each in a buffer of its own and of its size (staged ones,
   * and ones in a larger pooled buffer, copied), to keep.
   */
  owned(): Frame {
    const segments: Frame = new Array(this.count);
    for (let i = 0; i < this.count; i++) {
      const buffer = this.own(i);
      segments[i] = buffer.byteLength === this.lengths[i]
        ? buffer
        : buffer.slice(0, this.lengths[i]);
    }
    return segments;
  }

  /** Forgets the segments (and the buffers they hold). */
  clear(): void {
    for (let i = 0; i < this.count; i++) this.buffers[i] = null;
    this.count = 0;
  }
}

/**
 * Encodes segments into one framed buffer. A segment that is not a whole
 * number of words is padded with zeros, here and wherever frames are written.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameDecoder } from "./framing.ts";
 * const bytes = encodeFrame([new Uint8Array(8)]);
 * const frames = new FrameDecoder().push(bytes);
 * if (frames.length !== 1 || frames[0][0].byteLength !== 8) throw new Error("bad frame");
 * ```
 */
export function encodeFrame(segments: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frameBytes(segments));
  writeFrame(out, new DataView(out.buffer), 0, segments);
  return out;
}

/**
 * Writes the framing header of `segments` into `into` (a whole buffer,
 * `view` over it) at `at`; returns where the first segment goes.
 *
 * @example
 * ```ts
 * import { writeFrameHeader } from "./framing.ts";
 * const into = new Uint8Array(16).fill(9);
 * const first = writeFrameHeader(into, new DataView(into.buffer), 0, [new Uint8Array(24)]);
 * if (first !== 8 || into[0] !== 0 || into[4] !== 3) throw new Error("one segment of 3 words");
 * ```
 */
export function writeFrameHeader(
  into: Uint8Array,
  view: DataView,
  at: number,
  segments: readonly Uint8Array[],
): number {
  const header = headerBytes(segments.length);
  into.fill(0, at, at + header);
  view.setUint32(at, segments.length - 1, true);
  for (let i = 0; i < segments.length; i++) {
    view.setUint32(at + 4 + 4 * i, paddedBytes(segments[i]!.byteLength) / 8, true);
  }
  return at + header;
}

/**
 * Frames `segments` into `into` (a whole buffer, `view` over it) at `at`,
 * which has room for {@linkcode frameBytes} of them; returns where the
 * frame ends.
 *
 * @example
 * ```ts
 * import { encodeFrame, writeFrame } from "./framing.ts";
 * const segments = [new Uint8Array(8).fill(1)];
 * const into = new Uint8Array(32);
 * const end = writeFrame(into, new DataView(into.buffer), 8, segments);
 * if (end !== 24 || into.subarray(8, end).join() !== encodeFrame(segments).join()) {
 *   throw new Error("the same bytes as encodeFrame");
 * }
 * ```
 */
export function writeFrame(
  into: Uint8Array,
  view: DataView,
  at: number,
  segments: readonly Uint8Array[],
): number {
  let offset = writeFrameHeader(into, view, at, segments);
  for (const segment of segments) offset = writeSegment(into, offset, segment);
  return offset;
}

/**
 * Copies `segment` into `into` at `at`, padded with zeros to a whole word;
 * returns where it ends.
 *
 * @example
 * ```ts
 * import { writeSegment } from "./framing.ts";
 * const into = new Uint8Array(16).fill(9);
 * const end = writeSegment(into, 0, new Uint8Array([1, 2, 3]));
 * if (end !== 8 || into.subarray(0, 9).join() !== "1,2,3,0,0,0,0,0,9") throw new Error("padded");
 * ```
 */
export function writeSegment(into: Uint8Array, at: number, segment: Uint8Array): number {
  into.set(segment, at);
  const end = at + paddedBytes(segment.byteLength);
  into.fill(0, at + segment.byteLength, end);
  return end;
}

/**
 * Bytes `segments` take on the wire, header included.
 *
 * @example
 * ```ts
 * import { frameBytes } from "./framing.ts";
 * if (frameBytes([new Uint8Array(8), new Uint8Array(16)]) !== 16 + 24) throw new Error("bad size");
 * ```
 */
export function frameBytes(segments: readonly Uint8Array[]): number {
  let bytes = headerBytes(segments.length);
  for (let i = 0; i < segments.length; i++) bytes += paddedBytes(segments[i]!.byteLength);
  return bytes;
}

/**
 * `bytes` rounded up to whole words: a segment's size on the wire.
 *
 * @example
 * ```ts
 * import { paddedBytes } from "./framing.ts";
 * if (paddedBytes(13) !== 16 || paddedBytes(16) !== 16) throw new Error("whole words");
 * ```
 */
export function paddedBytes(bytes: number): number {
  return (bytes + 7) & ~7;
}

/** Bytes of framing header for `segmentCount` segments (padded to a word). */
export function headerBytes(segmentCount: number): number {
  return (4 + 4 * segmentCount + 7) & ~7;
}

/**
 * Bytes of each staging buffer; segments up to this size are assembled in
 * one. A message kept in place keeps its whole staging buffer alive, so
 * this also bounds what one small kept message can hold on to.
 */
const STAGING_BYTES = 16 * 1024;
/** Space below which a staging buffer with nothing pending in it is left for a new one. */
const MIN_READ_BYTES = 1024;
/**
 * How far memory for a large segment may run ahead of the bytes received
 * into it: a segment is allocated whole once no more than this is missing.
 */
const AHEAD_BYTES = 1024 * 1024;

/**
 * Incremental decoder from bytes to frames.
 *
 * Feed it with {@linkcode FrameDecoder.push}, or read straight into
 * {@linkcode FrameDecoder.readTarget} and report with
 * {@linkcode FrameDecoder.commit}: large segments are then received in place,
 * without an intermediate copy.
 *
 * Memory follows the bytes received, never the sizes declared: a segment
 * of up to 16 KiB is received into a staging buffer, where it stays (the
 * decoder moves on to a new staging buffer rather than write over bytes it
 * delivered, so a message can be read in place for as long as it is kept);
 * a larger one is received in place into a buffer of its own at most 1 MiB
 * larger than what has arrived, which doubles (up to the declared size) as
 * it fills. A segment of up to 1 MiB is therefore allocated once, at its
 * size, and received without a copy; a larger one is copied less than once
 * on average. These buffers come from `segmentBuffers` (`buffers.ts`),
 * rounded up by at most a quarter: a frame's holder releases them there once
 * it is done, and the next large message is received into the same memory.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameDecoder } from "./framing.ts";
 * const bytes = encodeFrame([new Uint8Array(16), new Uint8Array(8)]);
 * const decoder = new FrameDecoder();
 * if (decoder.push(bytes.subarray(0, 5)).length !== 0) throw new Error("early frame");
 * if (decoder.deadline === null) throw new Error("a frame is in progress");
 * if (decoder.push(bytes.subarray(5))[0].length !== 2) throw new Error("bad frame");
 * if (decoder.deadline !== null) throw new Error("no frame is in progress");
 * ```
 */
export class FrameDecoder {
  readonly #limits: FrameLimits;
  /** Staging buffer for headers and small segments; written only from `#end` on. */
  #buf = new Uint8Array(STAGING_BYTES);
  #bufView = new DataView(this.#buf.buffer);
  #start = 0;
  #end = 0;
  /** Segment sizes of the frame in progress, once its header is read. */
  #sizes: number[] | null = null;
  /** Segments of the frame in progress received so far. */
  readonly #frame = new FrameView();
  /** The large segment being received in place, its declared size and how much has arrived. */
  #current: ArrayBuffer | null = null;
  #currentSize = 0;
  #fill = 0;
  /** Bytes the frame in progress declares (0 until its header is whole). */
  #declared = 0;
  /** `performance.now()` when the frame in progress was first seen incomplete. */
  #startedAt: number | null = null;
  /** Bytes of the frame in progress that have arrived. */
  #arrived = 0;

  constructor(limits: Partial<FrameLimits> = {}) {
    this.#limits = { ...DEFAULT_FRAME_LIMITS, ...limits };
    this.#frame.kept = true;
  }

  /**
   * The `performance.now()` time by which the frame in progress must be
   * complete under the limits, or null when no frame is in progress.
   */
  get deadline(): number | null {
    if (this.#startedAt === null) return null;
    const { frameTimeoutMs, minFrameBytesPerSecond } = this.#limits;
    return this.#startedAt + frameTimeoutMs + (this.#declared / minFrameBytesPerSecond) * 1000;
  }

  /** Bytes the frame in progress declares; 0 between frames or before its header is whole. */
  get declaredBytes(): number {
    return this.#declared;
  }

  /** Bytes of the frame in progress that have arrived, header included; 0 between frames. */
  get arrivedBytes(): number {
    return this.#arrived;
  }

  /** Copies `bytes` in and returns the frames completed by them. */
  push(bytes: Uint8Array): Frame[] {
    const out: Frame[] = [];
    let at = 0;
    while (at < bytes.byteLength) {
      const target = this.readTarget();
      const n = Math.min(target.byteLength, bytes.byteLength - at);
      target.set(bytes.subarray(at, at + n));
      at += n;
      this.commit(n, out);
    }
    return out;
  }

  /** Where the next bytes from the stream should be written (never empty). */
  readTarget(): Uint8Array {
    if (this.#current !== null) {
      // Body of a large segment: read into it, grown first if it is full.
      if (this.#fill === this.#current.byteLength) this.#current = this.#grown(this.#current);
      const end = Math.min(this.#current.byteLength, this.#currentSize);
      return new Uint8Array(this.#current, this.#fill, end - this.#fill);
    }
    const room = this.#buf.byteLength - this.#end;
    if (room === 0 || (room < MIN_READ_BYTES && this.#start === this.#end)) {
      // A new staging buffer takes the bytes pending; the frame in progress
      // keeps its staged segments where they are.
      this.#reserve(0);
    }
    return this.#buf.subarray(this.#end);
  }

  /**
   * Accounts for `n` bytes written into the last {@linkcode readTarget} and
   * appends completed frames to `out`, each segment in a buffer of its own.
   *
   * @throws {FramingError} when a header breaks the limits.
   */
  commit(n: number, out: Frame[]): void {
    this.commitInPlace(n, (frame) => out.push(frame.owned()));
  }

  /**
   * Accounts for `n` bytes written into the last {@linkcode readTarget} and
   * calls `each` with every completed frame, read in place: the view is
   * reused once `each` returns; the bytes it shows are never written over.
   *
   * @throws {FramingError} when a header breaks the limits.
   */
  commitInPlace(n: number, each: (frame: FrameView) => void): void {
    if (this.#current !== null) this.#fill += n;
    else this.#end += n;
    this.#arrived += n;
    for (;;) {
      if (this.#sizes === null && !this.#parseHeader()) break;
      if (!this.#fillSegments()) break;
      this.#arrived -= headerBytes(this.#sizes!.length) + this.#declared;
      this.#sizes = null;
      this.#declared = 0;
      this.#startedAt = null;
      each(this.#frame);
      this.#frame.clear();
    }
    if (this.#sizes === null && this.#start === this.#end) this.#startedAt = null;
    else this.#startedAt ??= performance.now();
  }

  /** Reads a header from the staging buffer; false when more bytes are needed. */
  #parseHeader(): boolean {
    const avail = this.#end - this.#start;
    if (avail < 4) return false;
    const view = this.#bufView;
    const at = this.#start;
    const count = view.getUint32(at, true) + 1;
    if (count > this.#limits.maxSegments) {
      throw new FramingError(
        `message declares ${count} segments; the limit is ${this.#limits.maxSegments}`,
      );
    }
    const header = headerBytes(count);
    if (avail < header) {
      if (header > this.#buf.byteLength - this.#start) this.#reserve(header);
      return false;
    }
    let total = 0;
    const sizes: number[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const size = view.getUint32(at + 4 + 4 * i, true) * 8;
      sizes[i] = size;
      total += size;
    }
    if (total > this.#limits.maxMessageBytes) {
      throw new FramingError(
        `message declares ${total} bytes; the limit is ${this.#limits.maxMessageBytes}`,
      );
    }
    this.#start += header;
    this.#sizes = sizes;
    this.#declared = total;
    return true;
  }

  /**
   * Takes the segments whose bytes have arrived; true once the frame is
   * whole. A small segment waits in the staging buffer until it is whole and
   * stays there for the frame to be read in place; a large one continues in
   * place in a buffer of its own (the staged segments before it are copied
   * out first, as the staging buffer starts over for what follows it).
   */
  #fillSegments(): boolean {
    const sizes = this.#sizes!;
    const frame = this.#frame;
    while (frame.count < sizes.length) {
      const size = sizes[frame.count]!;
      if (this.#current !== null) {
        if (this.#fill < size) return false;
        // Held once, by whoever keeps the frame: released to the pool when done.
        frame.add(new DataView(this.#current), 0, size, this.#current);
        this.#current = null;
        continue;
      }
      const staged = this.#end - this.#start;
      if (staged >= size) {
        frame.add(this.#bufView, this.#start, size, null);
        this.#start += size;
        continue;
      }
      if (size <= STAGING_BYTES) return false;
      const segment = segmentBuffers.take(Math.min(size, staged + AHEAD_BYTES));
      new Uint8Array(segment).set(this.#buf.subarray(this.#start, this.#end));
      // Those staged bytes were copied out and never delivered from here: the
      // staging buffer takes what follows the segment in their place (from a
      // word boundary, as every frame needs), rather than a new one filling up.
      this.#end = this.#start;
      this.#current = segment;
      this.#currentSize = size;
      this.#fill = staged;
      return false;
    }
    return true;
  }

  /** The segment being received moved to a buffer twice as large, at most its size. */
  #grown(segment: ArrayBuffer): ArrayBuffer {
    const grown = segmentBuffers.take(
      Math.min(this.#currentSize, Math.max(2 * segment.byteLength, this.#fill + AHEAD_BYTES)),
    );
    new Uint8Array(grown).set(new Uint8Array(segment, 0, this.#fill));
    segmentBuffers.release(segment);
    return grown;
  }

  /** Moves the bytes pending to a new staging buffer of at least `bytes`, with room to read. */
  #reserve(bytes: number): void {
    const staged = this.#buf.subarray(this.#start, this.#end);
    const size = Math.max(STAGING_BYTES, bytes, staged.byteLength + MIN_READ_BYTES);
    // A whole number of words: messages are read where they lie, from word-aligned offsets.
    const next = new Uint8Array((size + 7) & ~7);
    next.set(staged);
    this.#buf = next;
    this.#bufView = new DataView(next.buffer);
    this.#start = 0;
    this.#end = staged.byteLength;
  }
}
