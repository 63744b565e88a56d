/**
 * Reuse of the large buffers that messages are received into.
 *
 * A fresh `ArrayBuffer` of a megabyte costs far more than the bytes that
 * fill it: the memory is mapped, faulted in page by page and zeroed, and its
 * size pushes V8 towards a collection. A {@linkcode BufferPool} keeps such
 * buffers once their last holder releases them and hands them out again.
 *
 * Holders count: a buffer taken from the pool has one hold, each
 * {@linkcode BufferPool.hold} adds one (an outgoing message that sends a
 * received message's bytes on, say), each {@linkcode BufferPool.release}
 * drops one. At the last release the buffer is detached
 * (`ArrayBuffer.prototype.transfer`) before it is reused, so a view kept
 * past its owner's release reads as empty and throws on use instead of
 * showing another message's bytes. A buffer that is never released is simply
 * collected.
 *
 * @module
 */

/** Bytes a pool keeps free by default, at most. */
const DEFAULT_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * The size a request of `bytes` is served at: rounded up to a quarter of
 * its power of two, so buffers of similar sizes are shared at no more than
 * a quarter of extra memory.
 */
function sizeClass(bytes: number): number {
  if (bytes <= 8) return 8;
  const step = 2 ** Math.max(3, Math.floor(Math.log2(bytes)) - 2);
  return Math.ceil(bytes / step) * step;
}

/**
 * Buffers handed out, counted while held and kept for reuse once released.
 *
 * @example
 * ```ts
 * import { BufferPool } from "./buffers.ts";
 * const pool = new BufferPool();
 * const buffer = pool.take(100_000);
 * const size = buffer.byteLength;
 * if (size < 100_000) throw new Error("too small");
 * const kept = new Uint8Array(buffer);
 * pool.hold(buffer); // a second holder
 * pool.release(buffer);
 * if (kept.byteLength === 0) throw new Error("still held once");
 * pool.release(buffer);
 * if (kept.byteLength !== 0) throw new Error("a released buffer is detached");
 * if (pool.freeBytes !== size || pool.take(100_000).byteLength !== size || pool.freeBytes !== 0) {
 *   throw new Error("reused");
 * }
 * ```
 */
export class BufferPool {
  readonly #free = new Map<number, ArrayBuffer[]>();
  readonly #holds = new WeakMap<ArrayBuffer, number>();
  readonly #limitBytes: number;
  #freeBytes = 0;

  /** A pool that keeps at most `limitBytes` free (default 16 MiB). */
  constructor(limitBytes: number = DEFAULT_LIMIT_BYTES) {
    this.#limitBytes = limitBytes;
  }

  /** Bytes of buffers released and kept for reuse. */
  get freeBytes(): number {
    return this.#freeBytes;
  }

  /** A buffer of at least `bytes` (its contents undefined), held once. */
  take(bytes: number): ArrayBuffer {
    const size = sizeClass(bytes);
    let buffer = this.#free.get(size)?.pop();
    if (buffer === undefined) buffer = new ArrayBuffer(size);
    else this.#freeBytes -= size;
    this.#holds.set(buffer, 1);
    return buffer;
  }

  /** Adds a hold on `buffer` when it is one of this pool's; says whether it was. */
  hold(buffer: ArrayBufferLike): boolean {
    const holds = this.#holds.get(buffer as ArrayBuffer);
    if (holds === undefined) return false;
    this.#holds.set(buffer as ArrayBuffer, holds + 1);
    return true;
  }

  /**
   * Drops a hold on `buffer`; at the last, the buffer is detached and its
   * memory kept for reuse (within the limit). Nothing for other buffers, or
   * for one already released.
   */
  release(buffer: ArrayBufferLike): void {
    const holds = this.#holds.get(buffer as ArrayBuffer);
    if (holds === undefined) return;
    if (holds > 1) {
      this.#holds.set(buffer as ArrayBuffer, holds - 1);
      return;
    }
    this.#holds.delete(buffer as ArrayBuffer);
    const size = buffer.byteLength;
    if (this.#freeBytes + size > this.#limitBytes || size !== sizeClass(size)) return;
    // The memory moves to a new buffer object; views of the old one see nothing.
    const reusable = (buffer as ArrayBuffer).transfer();
    let free = this.#free.get(size);
    if (free === undefined) this.#free.set(size, free = []);
    free.push(reusable);
    this.#freeBytes += size;
  }
}

/** The pool of this process's received large segments (see `FrameDecoder`). */
export const segmentBuffers: BufferPool = new BufferPool();
