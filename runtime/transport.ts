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
import {
  DEFAULT_FRAME_LIMITS,
  frameBytes,
  FrameDecoder,
  type FrameLimits,
  type FrameView,
  headerBytes,
  paddedBytes,
  writeFrame,
  writeFrameHeader,
  writeSegment,
} from "./framing.ts";
import { overSharedLimitText, SharedLimit } from "./shared_limit.ts";
import { delayOption, Timer } from "./timer.ts";

/** The byte-level channel a transport runs over; `Deno.Conn` is one. */
export interface ByteChannel {
  /** Reads into `p`: the bytes read, or null at the end. */
  read(p: Uint8Array): Promise<number | null>;
  /**
   * Writes from `p`: the bytes written. The caller leaves `p` unchanged
   * until this settles; a channel that holds on to it longer copies it.
   */
  write(p: Uint8Array): Promise<number>;
  /** Closes both directions. */
  close(): void;
}

/**
 * Adapts a readable/writable stream pair to a {@linkcode ByteChannel}.
 *
 * @example
 * ```ts
 * import { channelFromStreams } from "./transport.ts";
 * // Two ends of an in-memory pipe: what one writes, the other reads.
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const near = channelFromStreams(back.readable, there.writable);
 * const far = channelFromStreams(there.readable, back.writable);
 * const written = near.write(new Uint8Array([1, 2, 3]));
 * const into = new Uint8Array(8);
 * const count = await far.read(into);
 * if (await written !== 3 || count !== 3 || into[2] !== 3) throw new Error("read what was written");
 * near.close();
 * far.close();
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
      // A stream keeps chunks by reference; the caller reuses its buffer.
      await writer.write(p.slice());
      return p.byteLength;
    },
    close() {
      reader.cancel().catch(() => {});
      writer.close().catch(() => {});
    },
  };
}

/**
 * Why a transport closed on a peer that broke one of its limits: it did not
 * read what was sent to it, or did not send a frame it began in time.
 */
export class PeerLimitError extends Error {
  /** Always `"PeerLimitError"`. */
  override name = "PeerLimitError";
}

/** Limits a transport applies to its peer: framing limits and the outgoing queue. */
export interface TransportLimits extends FrameLimits {
  /**
   * Bytes of messages queued for the peer and not yet written. A send that
   * takes the queue over this closes the transport (the peer is not reading);
   * one message of any size may always be queued behind an empty queue. C++
   * has no such limit. Default 64 MiB, one message of the largest size.
   */
  maxOutgoingBytes: number;
  /**
   * Bytes queued by the transports of this process whose value of this is
   * the same or less, together (one allowed more does not use up a
   * stricter one's total). Over it, of those transports, the one with the
   * most queued is closed: many peers that do not read cannot add up past
   * it. Default 256 MiB.
   */
  maxProcessOutgoingBytes: number;
  /**
   * Bytes of frames still arriving, summed over the transports of this
   * process whose value of this is the same or less. Over it, of those
   * transports, the one receiving the most is closed: many peers each
   * sending most of a large frame cannot add up past it. What they hold is at most
   * twice this and 1 MiB per connection (see `FrameDecoder`). C++ has no
   * such limit. Default 256 MiB.
   */
  maxProcessReceivingBytes: number;
}

/** The default transport limits. */
export const DEFAULT_TRANSPORT_LIMITS: Readonly<TransportLimits> = Object.freeze({
  ...DEFAULT_FRAME_LIMITS,
  maxOutgoingBytes: 64 * 1024 * 1024,
  maxProcessOutgoingBytes: 256 * 1024 * 1024,
  maxProcessReceivingBytes: 256 * 1024 * 1024,
});

/** Size of the buffers small frames are copied into when sent, and written from together. */
const STAGING_BYTES = 64 * 1024;
/** How long a lazy frame may wait for company before it is written alone. */
const LAZY_DELAY_MS = 5;

/**
 * Frames in, frames out over one {@linkcode ByteChannel}.
 *
 * Each received frame is handed over read in place: the view is reused once
 * the callback returns, but the bytes it shows stay as they are
 * ({@linkcode FrameView.kept}), so a reader may keep reading them.
 *
 * Outgoing messages are given as their segments and framed here: a small
 * one is copied at once into a buffer that the frames sent in the same tick,
 * or while a write is in flight, share and are written from together (two
 * such buffers take turns); a large one is written in place.
 * After close, `send` drops silently: the owner learns of the close once,
 * through {@linkcode FrameTransport.closed}.
 *
 * Against a hostile peer (see {@linkcode TransportLimits}): the transport
 * closes when more than `maxOutgoingBytes` wait to be written (the peer is
 * not reading), when a frame is not received by its deadline, and when a
 * flushing close cannot write its last messages by theirs.
 *
 * @example
 * ```ts
 * import { channelFromStreams, FrameTransport } from "./transport.ts";
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const received = Promise.withResolvers<number>();
 * const far = new FrameTransport(
 *   channelFromStreams(there.readable, back.writable),
 *   (frame) => received.resolve(frame.count),
 * );
 * const near = new FrameTransport(channelFromStreams(back.readable, there.writable), () => {});
 * near.send([new Uint8Array(16), new Uint8Array(8)]); // one frame of two segments
 * if (await received.promise !== 2) throw new Error("a frame of two segments");
 * near.close();
 * far.close();
 * ```
 */
export class FrameTransport {
  readonly #channel: ByteChannel;
  readonly #limits: TransportLimits;
  readonly #decoder: FrameDecoder;
  readonly #onFrame: (frame: FrameView) => void;
  /**
   * Writes waiting their turn, from `#head` on: framed bytes of small
   * messages, or the segments of one large message.
   */
  #queue: (Uint8Array | LargeWrite)[] = [];
  #head = 0;
  /** Bytes sent and not yet written, on the wire's count (headers included). */
  #queuedBytes = 0;
  /** Where small messages are framed as they are sent, up to `#filled`; queued as one write. */
  #fill = new Uint8Array(STAGING_BYTES);
  #fillView = new DataView(this.#fill.buffer);
  #filled = 0;
  /** A buffer whose write completed, kept to become the next `#fill`. */
  #spare: Uint8Array<ArrayBuffer> | null = null;
  /** Whether a write is in flight (or about to start). */
  #writing = false;
  /** The small write in flight, and how many of its bytes are written. */
  #current: Uint8Array = EMPTY_BYTES;
  #currentAt = 0;
  readonly #startWriting = () => this.#writeNext();
  readonly #wrote = (n: number) => this.#onWrote(n);
  readonly #writeFailed = (error: unknown) => this.#stopWriting(asError(error));
  #lazyTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Fires at the deadline of the frame being received, or of a flushing close. */
  #deadlineTimer: Timer | undefined = undefined;
  #deadlineAt = 0;
  /** Bytes of the frame being received that have arrived (counted in `#arriving`). */
  #receiving = 0;
  /** When a flushing close gives up on the peer taking its last messages. */
  #flushBy: number | null = null;
  #closed = false;
  #closeAfterFlush: Error | null | undefined = undefined;
  #resolveClosed!: (reason: Error | undefined) => void;
  /** Settles once with the reason the transport closed (`undefined`: by us or clean EOF). */
  readonly closed: Promise<Error | undefined>;

  /** Frames over `channel`, each complete frame handed to `onFrame` (see the class). */
  constructor(
    channel: ByteChannel,
    onFrame: (frame: FrameView) => void,
    limits: Partial<TransportLimits> = {},
  ) {
    this.#channel = channel;
    this.#onFrame = onFrame;
    this.#limits = { ...DEFAULT_TRANSPORT_LIMITS, ...limits };
    delayOption("frameTimeoutMs", this.#limits.frameTimeoutMs, 0);
    this.#decoder = new FrameDecoder(this.#limits);
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    FrameTransport.#outgoing.join(this);
    FrameTransport.#arriving.join(this);
    this.#readLoop();
  }

  /** Whether the transport is closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Bytes of messages sent and not yet written to the channel. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Bytes of the message being received that have arrived; 0 between messages. */
  get receivingBytes(): number {
    return this.#receiving;
  }

  /**
   * Queues one message, given as its segments (one that is not a whole
   * number of words is padded with zeros). A message of up to 64 KiB is
   * copied before `send` returns, so its buffers may be reused at once; a
   * larger one is written in place and must not change until `written` is
   * called. `written` is called once the bytes are no longer needed: at
   * once for a copied message, after its write for one written in place,
   * and when the message is dropped. Never throws; dropped after close.
   * Closes the transport instead when the queue would go over
   * `maxOutgoingBytes`.
   *
   * A `lazy` message (one nobody waits on, such as a Finish) does not start
   * a write of its own: it rides along with the next message sent, or is
   * written after a few milliseconds when none comes. That saves a write
   * and a wake-up of the peer per call.
   */
  send(segments: Uint8Array[], lazy = false, written?: () => void): void {
    if (this.#closed || this.#closeAfterFlush !== undefined) return written?.();
    const bytes = frameBytes(segments);
    if (this.#queuedBytes > 0 && this.#queuedBytes + bytes > this.#limits.maxOutgoingBytes) {
      written?.();
      return this.#shut(
        new PeerLimitError(
          `Peer is not reading: ${this.#queuedBytes + bytes} bytes would be queued for it; ` +
            `the limit is ${this.#limits.maxOutgoingBytes} (maxOutgoingBytes).`,
        ),
      );
    }
    this.#queuedBytes += bytes;
    // Counted before `written` runs: it may send or close in turn.
    const outgoing = FrameTransport.#outgoing;
    outgoing.change(this, bytes);
    if (bytes <= STAGING_BYTES) {
      if (this.#filled + bytes > this.#fill.byteLength) this.#seal();
      this.#filled = writeFrame(this.#fill, this.#fillView, this.#filled, segments);
      written?.();
    } else {
      // A mostly empty buffer is copied out rather than held for a few bytes.
      this.#seal(this.#filled < STAGING_BYTES / 2);
      this.#queue.push(new LargeWrite(segments, bytes, written));
    }
    if (outgoing.total > this.#limits.maxProcessOutgoingBytes) {
      FrameTransport.#shutOver(
        outgoing,
        this.#limits.maxProcessOutgoingBytes,
        "maxProcessOutgoingBytes",
        (held) => `Peer is not reading: ${held} bytes are queued for it`,
      );
      if (this.#closed) return;
    }
    if (this.#writing) return;
    if (!lazy) {
      this.#writing = true;
      queueMicrotask(this.#startWriting);
    } else {
      this.#lazyTimer ??= setTimeout(() => {
        this.#lazyTimer = undefined;
        if (!this.#writing && this.#pending() > 0) {
          this.#writing = true;
          this.#writeNext();
        }
      }, LAZY_DELAY_MS);
    }
  }

  /**
   * Closes the channel. With `flush`, queued messages are written first,
   * within the deadline a frame of their size would get.
   */
  close(reason?: Error, flush = false): void {
    if (this.#closed) return;
    if (!flush || (!this.#writing && this.#pending() === 0)) return this.#shut(reason);
    if (this.#closeAfterFlush !== undefined) return;
    this.#closeAfterFlush = reason ?? null;
    this.#flushBy = performance.now() + this.#allowanceMs(this.#queuedBytes);
    this.#armDeadline(this.#flushBy);
    if (!this.#writing) {
      // Lazy messages are waiting on their timer: write them now.
      this.#writing = true;
      this.#writeNext();
    }
  }

  /** Counts what the frame in progress has received; over the process's limit, closes the largest. */
  #noteReceiving(bytes: number): void {
    // A frame delivered in the same read may have closed it: it counts nothing any more.
    if (this.#closed) return;
    const arriving = FrameTransport.#arriving;
    const more = bytes - this.#receiving;
    this.#receiving = bytes;
    arriving.change(this, more);
    if (arriving.total <= this.#limits.maxProcessReceivingBytes) return;
    FrameTransport.#shutOver(
      arriving,
      this.#limits.maxProcessReceivingBytes,
      "maxProcessReceivingBytes",
      (held) => `Too many bytes of messages still arriving: ${held} from this peer`,
    );
  }

  /** Bytes queued by the transports of this process. */
  static readonly #outgoing = new SharedLimit<FrameTransport>(
    (t) => t.#queuedBytes,
    (t) => t.#limits.maxProcessOutgoingBytes,
  );
  /** Bytes of the frames the transports of this process are receiving. */
  static readonly #arriving = new SharedLimit<FrameTransport>(
    (t) => t.#receiving,
    (t) => t.#limits.maxProcessReceivingBytes,
  );

  /**
   * After a transport whose value of `limit` is `value` grew its part of
   * it, closes the one the shared limit blames, saying `why`. (Only totals
   * counting the grown one changed: each is within its value when the
   * process's total is within `value`, the callers' quick test.)
   */
  static #shutOver(
    limit: SharedLimit<FrameTransport>,
    value: number,
    name: "maxProcessOutgoingBytes" | "maxProcessReceivingBytes",
    why: (held: number) => string,
  ): void {
    const over = limit.over(value);
    if (over === undefined) return;
    over.member.#shut(new PeerLimitError(`${why(over.held)}, ${overSharedLimitText(over, name)}.`));
  }

  #shut(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    // Given back first: the senders told below run code of their own.
    const queued = this.#queuedBytes;
    const receiving = this.#receiving;
    this.#queuedBytes = 0;
    this.#receiving = 0;
    FrameTransport.#outgoing.change(this, -queued);
    FrameTransport.#arriving.change(this, -receiving);
    FrameTransport.#outgoing.leave(this);
    FrameTransport.#arriving.leave(this);
    for (let i = this.#head; i < this.#queue.length; i++) {
      const entry = this.#queue[i];
      if (entry instanceof LargeWrite) entry.done();
    }
    this.#queue = [];
    this.#head = 0;
    this.#filled = 0;
    clearTimeout(this.#lazyTimer);
    this.#deadlineTimer?.clear();
    try {
      this.#channel.close();
    } catch { /* already closed */ }
    this.#resolveClosed(reason);
  }

  /** Writes queued and not yet started. */
  #pending(): number {
    return this.#queue.length - this.#head + (this.#filled > 0 ? 1 : 0);
  }

  /**
   * Queues the framed small messages as one write: the buffer goes with
   * them and the next ones start another, or, with `copy`, a copy of them
   * goes and the buffer stays.
   */
  #seal(copy = false): void {
    if (this.#filled === 0) return;
    if (copy) {
      this.#queue.push(this.#fill.slice(0, this.#filled));
    } else {
      this.#queue.push(this.#fill.subarray(0, this.#filled));
      this.#fill = this.#spare ?? new Uint8Array(STAGING_BYTES);
      this.#fillView = new DataView(this.#fill.buffer);
      this.#spare = null;
    }
    this.#filled = 0;
  }

  /** Milliseconds the limits allow for `bytes` to cross the wire. */
  #allowanceMs(bytes: number): number {
    const { frameTimeoutMs, minFrameBytesPerSecond } = this.#limits;
    return frameTimeoutMs + (bytes / minFrameBytesPerSecond) * 1000;
  }

  /**
   * Makes the one deadline timer fire by `at` (a `performance.now()` time).
   * A timer already due earlier stays: when it fires it looks at what is due
   * then, so frames that complete in time cost no timer of their own.
   */
  #armDeadline(at: number): void {
    if (this.#deadlineTimer !== undefined && this.#deadlineAt <= at) return;
    this.#deadlineTimer?.clear();
    this.#deadlineAt = at;
    // A Timer: an infinite or weeks-long frameTimeoutMs would make setTimeout fire at once, and spin.
    this.#deadlineTimer = new Timer(Math.max(0, at - performance.now()), () => {
      this.#deadlineTimer = undefined;
      this.#onDeadline();
    });
  }

  #onDeadline(): void {
    const flushing = this.#closeAfterFlush !== undefined;
    const due = flushing ? this.#flushBy : this.#decoder.deadline;
    if (due === null) return;
    if (performance.now() < due) return this.#armDeadline(due);
    // The peer did not take the last messages in time: close without them.
    if (flushing) return this.#shut(this.#closeAfterFlush ?? undefined);
    const declared = this.#decoder.declaredBytes;
    this.#shut(
      new PeerLimitError(
        `A frame${declared > 0 ? ` of ${declared} bytes` : ""} was not received within ` +
          `${Math.round(this.#allowanceMs(declared))} ms`,
      ),
    );
  }

  /**
   * Starts the next write, or stops writing when nothing is queued. Written
   * with callbacks rather than as an async loop: a small write, one per call
   * and connection, then costs one promise reaction instead of two async
   * functions' frames and promises.
   */
  #writeNext(): void {
    if (this.#closed) return this.#stopWriting();
    if (this.#head === this.#queue.length) {
      if (this.#filled === 0) return this.#stopWriting();
      try {
        this.#seal();
      } catch (error) {
        // No buffer for the next messages: this runs from a microtask or a timer.
        return this.#writeFailed(error);
      }
    }
    const entry = this.#queue[this.#head]!;
    this.#queue[this.#head++] = EMPTY_BYTES;
    if (entry instanceof LargeWrite) return this.#startLarge(entry, EMPTY_BYTES);
    const next = this.#queue[this.#head];
    if (
      next instanceof LargeWrite &&
      entry.byteLength + headerBytes(next.segments.length) <= STAGING_BYTES
    ) {
      // Small messages just before a large one (a call's Finish before the
      // next call) go in its first write: one write and one wake-up fewer.
      this.#queue[this.#head++] = EMPTY_BYTES;
      return this.#startLarge(next, entry);
    }
    this.#current = entry;
    this.#currentAt = 0;
    this.#write(entry);
  }

  /** Writes a large message, after the framed small messages `before`. */
  #startLarge(entry: LargeWrite, before: Uint8Array): void {
    this.#writeLarge(entry.segments, before).then(
      () => {
        entry.done();
        this.#afterWrite(before.byteLength + entry.bytes);
      },
      (error) => {
        entry.done();
        this.#writeFailed(error);
      },
    );
  }

  #write(bytes: Uint8Array): void {
    try {
      this.#channel.write(bytes).then(this.#wrote, this.#writeFailed);
    } catch (error) {
      this.#writeFailed(error);
    }
  }

  /** `n` more bytes of `#current` are written. */
  #onWrote(n: number): void {
    const entry = this.#current;
    this.#currentAt += n;
    if (this.#currentAt < entry.byteLength) return this.#write(entry.subarray(this.#currentAt));
    this.#current = EMPTY_BYTES;
    if (entry.buffer.byteLength === STAGING_BYTES) {
      this.#spare ??= new Uint8Array(entry.buffer as ArrayBuffer);
    }
    this.#afterWrite(entry.byteLength);
  }

  /**
   * Accounts for a finished write of `bytes` and starts the next. Runs in a
   * promise reaction, so what throws here (a buffer that cannot be
   * allocated) closes the transport rather than escaping as an unhandled
   * rejection.
   */
  #afterWrite(bytes: number): void {
    try {
      this.#written(bytes);
      this.#writeNext();
    } catch (error) {
      this.#writeFailed(error);
    }
  }

  /** Writing ends: nothing is queued, the transport closed, or a write failed (`error`). */
  #stopWriting(error?: Error): void {
    this.#writing = false;
    this.#current = EMPTY_BYTES;
    if (error !== undefined) this.#shut(error);
    else if (this.#closeAfterFlush !== undefined) this.#shut(this.#closeAfterFlush ?? undefined);
  }

  /** Accounts for `bytes` written, and drops the taken part of the queue from time to time. */
  #written(bytes: number): void {
    if (this.#closed) return;
    this.#queuedBytes -= bytes;
    FrameTransport.#outgoing.change(this, -bytes);
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * Writes one message too large to be copied at send: the framed bytes
   * `before` it, its header, the segments that fit after it and the start
   * of the next in one write (a reader learns the sizes together with the
   * start of the content), then the rest where it is, each segment followed
   * by its padding.
   */
  async #writeLarge(segments: Uint8Array[], before: Uint8Array): Promise<void> {
    const lead = this.#spare ?? new Uint8Array(STAGING_BYTES);
    this.#spare = null;
    lead.set(before);
    let at = writeFrameHeader(lead, new DataView(lead.buffer), before.byteLength, segments);
    let next = 0;
    let taken = 0;
    for (; next < segments.length; next++) {
      const segment = segments[next]!;
      if (at + paddedBytes(segment.byteLength) > lead.byteLength) {
        taken = Math.min(segment.byteLength, lead.byteLength - at);
        lead.set(segment.subarray(0, taken), at);
        at += taken;
        break;
      }
      at = writeSegment(lead, at, segment);
    }
    await this.#writeAll(lead.subarray(0, at));
    this.#spare = lead;
    for (; next < segments.length; next++, taken = 0) {
      const segment = segments[next]!;
      if (taken < segment.byteLength) await this.#writeAll(segment.subarray(taken));
      const padding = paddedBytes(segment.byteLength) - segment.byteLength;
      if (padding > 0) await this.#writeAll(PADDING.subarray(0, padding));
    }
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.byteLength) {
      at += await this.#channel.write(at === 0 ? bytes : bytes.subarray(at));
    }
  }

  async #readLoop(): Promise<void> {
    const decoder = this.#decoder;
    const deliver = (frame: FrameView) => {
      if (!this.#closed) this.#onFrame(frame);
    };
    try {
      while (!this.#closed) {
        const target = decoder.readTarget();
        const n = await this.#channel.read(target);
        if (n === null) break;
        decoder.commitInPlace(n, deliver);
        if (decoder.arrivedBytes !== this.#receiving) this.#noteReceiving(decoder.arrivedBytes);
        if (this.#closed) break;
        const deadline = decoder.deadline;
        if (deadline !== null && this.#closeAfterFlush === undefined) this.#armDeadline(deadline);
      }
      this.#shut(undefined);
    } catch (error) {
      this.#shut(this.#closed ? undefined : asError(error));
    }
  }
}

/** A message written in place, and who to tell once its bytes are no longer needed. */
class LargeWrite {
  readonly segments: Uint8Array[];
  /** Its size on the wire, header included (counted at send: the segments' views may be detached once done). */
  readonly bytes: number;
  #written: (() => void) | undefined;

  constructor(segments: Uint8Array[], bytes: number, written: (() => void) | undefined) {
    this.segments = segments;
    this.bytes = bytes;
    this.#written = written;
  }

  /**
   * Tells the sender, once, that the bytes are no longer needed. A sender
   * that fails at it fails alone: the transport's own accounting and the
   * writes after this one go on.
   */
  done(): void {
    const written = this.#written;
    this.#written = undefined;
    try {
      written?.();
    } catch { /* the sender's failure, which nobody here could handle */ }
  }
}

/** An empty write: a queue slot already taken (its bytes are not held any longer). */
const EMPTY_BYTES = new Uint8Array(0);
/** Zeros that pad a segment to a whole word. */
const PADDING = new Uint8Array(8);

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The parts of a Node.js `net.Socket` a channel needs. */
export interface NodeSocketLike {
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  on(event: "end" | "close", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  destroy(): unknown;
  readonly destroyed: boolean;
}

/**
 * A {@linkcode ByteChannel} over a Node.js socket, such as an inherited
 * descriptor (`new Socket({ fd: 3 })`) or a child's extra stdio pipe.
 * Reading pauses the socket while a few chunks wait, so a fast peer cannot
 * fill memory.
 *
 * @example
 * ```ts
 * import { PassThrough } from "node:stream";
 * import { channelFromNodeSocket } from "./transport.ts";
 * // A stream that gives back what is written to it, in place of a socket.
 * const channel = channelFromNodeSocket(new PassThrough());
 * await channel.write(new Uint8Array([7, 8]));
 * const into = new Uint8Array(4);
 * if (await channel.read(into) !== 2 || into[1] !== 8) throw new Error("read the echo");
 * channel.close();
 * ```
 */
export function channelFromNodeSocket(socket: NodeSocketLike): ByteChannel {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const resume = wake;
    wake = null;
    resume?.();
  };
  socket.on("data", (chunk) => {
    chunks.push(chunk);
    if (chunks.length >= 16) socket.pause();
    notify();
  });
  socket.on("end", () => (ended = true, notify()));
  socket.on("close", () => (ended = true, notify()));
  socket.on("error", (error) => (failure = error, notify()));
  return {
    async read(p) {
      while (chunks.length === 0) {
        if (failure !== null) throw failure;
        if (ended) return null;
        await new Promise<void>((resolve) => wake = resolve);
      }
      const head = chunks[0]!;
      const n = Math.min(p.byteLength, head.byteLength);
      p.set(head.subarray(0, n));
      if (n === head.byteLength) chunks.shift();
      else chunks[0] = head.subarray(n);
      if (chunks.length < 4) socket.resume();
      return n;
    },
    write(p) {
      return new Promise((resolve, reject) => {
        if (socket.destroyed) return reject(new Error("socket closed"));
        // The socket holds on to the chunk until its callback: the caller
        // reuses its buffer only once this settles.
        socket.write(p, (error) => error ? reject(error) : resolve(p.byteLength));
      });
    },
    close() {
      socket.destroy();
    },
  };
}
