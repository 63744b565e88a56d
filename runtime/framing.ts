/**
 * Cap'n Proto stream framing: `u32 segmentCount-1`, one `u32` word count per
 * segment, padding to 8 bytes, then the segments.
 *
 * {@linkcode FrameDecoder} turns an arbitrary byte stream into whole messages,
 * checking the segment count and total size from the segment table before it
 * allocates anything, so a hostile header costs nothing.
 *
 * @module
 */

/** Limits applied while framing; the defaults are the C++ reference's. */
export interface FrameLimits {
  /** Most segments one message may declare. Default 512. */
  maxSegments: number;
  /** Most bytes of segment data one message may declare. Default 64 MiB. */
  maxMessageBytes: number;
}

/** The C++ reference implementation's framing limits. */
export const DEFAULT_FRAME_LIMITS: Readonly<FrameLimits> = Object.freeze({
  maxSegments: 512,
  maxMessageBytes: 64 * 1024 * 1024,
});

/** Thrown when a peer's framing breaks a limit or is malformed. */
export class FramingError extends Error {
  override name = "FramingError";
}

/**
 * One received message: its segments, each its own `ArrayBuffer` so they can
 * back a capnp-es arena without another copy.
 */
export type Frame = ArrayBuffer[];

/**
 * Encodes segments into one framed buffer.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameDecoder } from "./framing.ts";
 * const bytes = encodeFrame([new Uint8Array(8)]);
 * const frames = new FrameDecoder().push(bytes);
 * console.assert(frames.length === 1 && frames[0][0].byteLength === 8);
 * ```
 */
export function encodeFrame(segments: Uint8Array[]): Uint8Array {
  const header = headerBytes(segments.length);
  let total = header;
  for (const s of segments) total += s.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, segments.length - 1, true);
  let at = header;
  segments.forEach((s, i) => {
    view.setUint32(4 + 4 * i, s.byteLength / 8, true);
    out.set(s, at);
    at += s.byteLength;
  });
  return out;
}

/** Bytes of framing header for `segmentCount` segments (padded to a word). */
export function headerBytes(segmentCount: number): number {
  return (4 + 4 * segmentCount + 7) & ~7;
}

/**
 * Incremental decoder from bytes to frames.
 *
 * Feed it with {@linkcode FrameDecoder.push}, or read straight into
 * {@linkcode FrameDecoder.readTarget} and report with
 * {@linkcode FrameDecoder.commit}: large segments are then received in place,
 * without an intermediate copy.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameDecoder } from "./framing.ts";
 * const bytes = encodeFrame([new Uint8Array(16), new Uint8Array(8)]);
 * const decoder = new FrameDecoder();
 * console.assert(decoder.push(bytes.subarray(0, 5)).length === 0);
 * console.assert(decoder.push(bytes.subarray(5))[0].length === 2);
 * ```
 */
export class FrameDecoder {
  readonly #limits: FrameLimits;
  /** Staging buffer for headers and small segments. */
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  /** The message being assembled once its header is known. */
  #segments: ArrayBuffer[] | null = null;
  #sizes: number[] = [];
  #segIndex = 0;
  #segFill = 0;

  constructor(limits: Partial<FrameLimits> = {}) {
    this.#limits = { ...DEFAULT_FRAME_LIMITS, ...limits };
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
    if (this.#segments !== null && this.#start === this.#end) {
      // Body of a segment: read directly into it.
      const seg = this.#segments[this.#segIndex];
      return new Uint8Array(seg, this.#segFill);
    }
    if (this.#end === this.#buf.byteLength) {
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      } else {
        const bigger = new Uint8Array(this.#buf.byteLength * 2);
        bigger.set(this.#buf);
        this.#buf = bigger;
      }
    }
    return this.#buf.subarray(this.#end);
  }

  /**
   * Accounts for `n` bytes written into the last {@linkcode readTarget} and
   * appends completed frames to `out`.
   *
   * @throws {FramingError} when a header breaks the limits.
   */
  commit(n: number, out: Frame[]): void {
    if (this.#segments !== null && this.#start === this.#end) {
      this.#segFill += n;
    } else {
      this.#end += n;
    }
    for (;;) {
      if (this.#segments === null && !this.#parseHeader()) return;
      if (!this.#fillSegments()) return;
      out.push(this.#segments!);
      this.#segments = null;
    }
  }

  /** Reads a header from the staging buffer; false when more bytes are needed. */
  #parseHeader(): boolean {
    const avail = this.#end - this.#start;
    if (avail < 4) return false;
    const view = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#start);
    const count = view.getUint32(0, true) + 1;
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
      sizes[i] = view.getUint32(4 + 4 * i, true) * 8;
      total += sizes[i];
    }
    if (total > this.#limits.maxMessageBytes) {
      throw new FramingError(
        `message declares ${total} bytes; the limit is ${this.#limits.maxMessageBytes}`,
      );
    }
    this.#start += header;
    this.#sizes = sizes;
    this.#segments = sizes.map((size) => new ArrayBuffer(size));
    this.#segIndex = 0;
    this.#segFill = 0;
    return true;
  }

  /** Moves staged bytes into the current message; true once it is whole. */
  #fillSegments(): boolean {
    const segments = this.#segments!;
    while (this.#segIndex < segments.length) {
      const size = this.#sizes[this.#segIndex];
      const need = size - this.#segFill;
      const staged = this.#end - this.#start;
      if (need > 0 && staged > 0) {
        const n = Math.min(need, staged);
        new Uint8Array(segments[this.#segIndex], this.#segFill, n)
          .set(this.#buf.subarray(this.#start, this.#start + n));
        this.#start += n;
        this.#segFill += n;
      }
      if (this.#segFill < size) return false;
      this.#segIndex++;
      this.#segFill = 0;
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return true;
  }

  #reserve(bytes: number): void {
    const staged = this.#buf.subarray(this.#start, this.#end);
    const next = new Uint8Array(Math.max(this.#buf.byteLength, bytes * 2));
    next.set(staged);
    this.#buf = next;
    this.#start = 0;
    this.#end = staged.byteLength;
  }
}
