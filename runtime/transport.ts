/**
 * Message transport over a byte channel: framed receive, coalesced send, and
 * close semantics that reject nothing twice and never throw into a listener.
 *
 * A {@linkcode ByteChannel} is anything with `read`/`write`/`close` in the
 * shape of `Deno.Conn`; {@linkcode channelFromStreams} adapts a
 * readable/writable pair (stdio, an inherited socket fd).
 *
 * @module
 */
import { type Frame, FrameDecoder, type FrameLimits } from "./framing.ts";

/** The byte-level channel a transport runs over; `Deno.Conn` is one. */
export interface ByteChannel {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/**
 * Adapts a readable/writable stream pair to a {@linkcode ByteChannel}.
 *
 * @example
 * ```ts ignore
 * import { channelFromStreams } from "./transport.ts";
 * const channel = channelFromStreams(Deno.stdin.readable, Deno.stdout.writable);
 * ```
 */
export function channelFromStreams(
  readable: ReadableStream<Uint8Array>,
  writable: WritableStream<Uint8Array>,
): ByteChannel {
  const reader = readable.getReader();
  const writer = writable.getWriter();
  let leftover: Uint8Array | null = null;
  return {
    async read(p) {
      if (leftover === null) {
        const { value, done } = await reader.read();
        if (done) return null;
        leftover = value;
      }
      const n = Math.min(p.byteLength, leftover.byteLength);
      p.set(leftover.subarray(0, n));
      leftover = n === leftover.byteLength ? null : leftover.subarray(n);
      return n;
    },
    async write(p) {
      await writer.write(p);
      return p.byteLength;
    },
    close() {
      reader.cancel().catch(() => {});
      writer.close().catch(() => {});
    },
  };
}

/** Sends at most this many bytes per coalesced write; larger frames go alone. */
const COALESCE_BYTES = 64 * 1024;

/**
 * Frames in, frames out over one {@linkcode ByteChannel}.
 *
 * Frames sent in the same tick, or while a write is in flight, are joined
 * into one write. After close, `send` drops silently: the owner learns of the
 * close once, through {@linkcode FrameTransport.closed}.
 *
 * @example
 * ```ts ignore
 * import { FrameTransport } from "./transport.ts";
 * const conn = await Deno.connect({ transport: "unix", path: "/tmp/x.sock" });
 * const transport = new FrameTransport(conn, (frame) => console.log(frame.length));
 * transport.send(new Uint8Array(16));
 * ```
 */
export class FrameTransport {
  readonly #channel: ByteChannel;
  readonly #decoder: FrameDecoder;
  readonly #onFrame: (frame: Frame) => void;
  #queue: Uint8Array[] = [];
  #writing = false;
  #closed = false;
  #resolveClosed!: (reason: Error | undefined) => void;
  /** Settles once with the reason the transport closed (`undefined`: by us or clean EOF). */
  readonly closed: Promise<Error | undefined>;

  constructor(
    channel: ByteChannel,
    onFrame: (frame: Frame) => void,
    limits: Partial<FrameLimits> = {},
  ) {
    this.#channel = channel;
    this.#onFrame = onFrame;
    this.#decoder = new FrameDecoder(limits);
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#readLoop();
  }

  /** Whether the transport is closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Queues one framed message. Never throws; dropped after close. */
  send(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#queue.push(frame);
    if (!this.#writing) {
      this.#writing = true;
      queueMicrotask(() => this.#writeLoop());
    }
  }

  /** Closes the channel; pending writes are flushed first when `flush` is set. */
  close(reason?: Error, flush = false): void {
    if (this.#closed) return;
    if (flush && this.#writing) {
      this.#closeAfterFlush = reason ?? null;
      return;
    }
    this.#shut(reason);
  }

  #closeAfterFlush: Error | null | undefined = undefined;

  #shut(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    try {
      this.#channel.close();
    } catch { /* already closed */ }
    this.#resolveClosed(reason);
  }

  async #writeLoop(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const chunk = this.#takeChunk();
        let at = 0;
        while (at < chunk.byteLength) {
          at += await this.#channel.write(at === 0 ? chunk : chunk.subarray(at));
        }
      }
    } catch (error) {
      this.#shut(asError(error));
    } finally {
      this.#writing = false;
      if (this.#closeAfterFlush !== undefined) this.#shut(this.#closeAfterFlush ?? undefined);
    }
  }

  /** Joins queued small frames into one buffer; a large frame goes alone. */
  #takeChunk(): Uint8Array {
    const queue = this.#queue;
    if (queue.length === 1 || queue[0].byteLength >= COALESCE_BYTES) return queue.shift()!;
    let count = 0;
    let bytes = 0;
    while (count < queue.length && bytes + queue[count].byteLength <= COALESCE_BYTES) {
      bytes += queue[count++].byteLength;
    }
    if (count === 1) return queue.shift()!;
    const out = new Uint8Array(bytes);
    let at = 0;
    for (const part of queue.splice(0, count)) {
      out.set(part, at);
      at += part.byteLength;
    }
    return out;
  }

  async #readLoop(): Promise<void> {
    const frames: Frame[] = [];
    try {
      while (!this.#closed) {
        const target = this.#decoder.readTarget();
        const n = await this.#channel.read(target);
        if (n === null) break;
        this.#decoder.commit(n, frames);
        for (let i = 0; i < frames.length && !this.#closed; i++) this.#onFrame(frames[i]);
        frames.length = 0;
      }
      this.#shut(undefined);
    } catch (error) {
      this.#shut(this.#closed ? undefined : asError(error));
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
