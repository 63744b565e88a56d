/**
 * Bytes read but not yet consumed, in one growable buffer: appending is
 * amortised O(1) per byte (the store doubles, and consumed space is reused),
 * so reading a large reply or a long line in small chunks stays linear.
 *
 * @example
 * ```ts
 * import { ByteQueue } from "./byte_queue.ts";
 * const queue = new ByteQueue();
 * queue.append(new TextEncoder().encode("ab\ncd"));
 * if (queue.indexOf(0x0a) !== 2) throw new Error("newline at 2");
 * const line = queue.take(3);
 * if (new TextDecoder().decode(line) !== "ab\n" || queue.length !== 2) throw new Error();
 * ```
 * @module
 */

/** A FIFO of bytes. */
export class ByteQueue {
  #store = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  /** How many bytes are queued. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** The queued bytes (a view, valid until the next change). */
  view(): Uint8Array {
    return this.#store.subarray(this.#start, this.#end);
  }

  /** The offset of the first `byte` in the queue, or -1. */
  indexOf(byte: number): number {
    return this.view().indexOf(byte);
  }

  /** Room for at least `n` more bytes at the end; returns that free space. */
  reserve(n: number): Uint8Array {
    if (this.#end + n > this.#store.length) {
      const needed = this.length + n;
      if (needed <= this.#store.length) {
        this.#store.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(Math.max(needed, this.#store.length * 2));
        grown.set(this.view());
        this.#store = grown;
      }
      this.#end -= this.#start;
      this.#start = 0;
    }
    return this.#store.subarray(this.#end);
  }

  /** Marks `n` bytes written into {@linkcode ByteQueue.reserve}'s space as queued. */
  commit(n: number): void {
    this.#end += n;
  }

  /** Appends a copy of `bytes`. */
  append(bytes: Uint8Array): void {
    this.reserve(bytes.length).set(bytes);
    this.commit(bytes.length);
  }

  /** Removes and returns (a copy of) the first `n` bytes. */
  take(n: number): Uint8Array {
    const taken = this.#store.slice(this.#start, this.#start + n);
    this.#start += taken.length;
    return taken;
  }
}
