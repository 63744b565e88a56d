/**
 * A ZeroMQ PUB socket over TCP or a UNIX socket (libzmq's `ipc://`), speaking ZMTP 3.0 (RFC 23) with the NULL
 * security mechanism, as bitcoind's `-zmqpub*` sockets do through libzmq:
 * {@linkcode ZmtpPublisher.bind} listens, each subscriber (a libzmq SUB or
 * XSUB socket) completes the greeting and `READY` handshake, says which
 * topic prefixes it wants (ZMTP 3.0 subscription messages, or 3.1's
 * `SUBSCRIBE`/`CANCEL` commands), and {@linkcode ZmtpPublisher.publish}
 * sends a multipart message to every subscriber whose prefixes match its
 * first frame.
 *
 * As libzmq's PUB, a subscriber that does not keep up loses messages
 * rather than slowing the publisher: past its high-water mark (`hwm`
 * messages queued) new ones are dropped for it, and a subscriber that
 * never subscribes is kept and sent nothing. Unlike libzmq, a hostile
 * peer is bounded everywhere: the queued bytes per subscriber and per
 * publisher, the subscribers per socket, the handshakes in progress (apart
 * from them: the oldest unfinished one gives way to a new connection), the
 * subscriptions per subscriber, the size of what a subscriber may send,
 * and the time it has to finish the handshake (libzmq's is 30 s). So that
 * peers that never read cannot crowd out one that does:
 *
 * - when the publisher's bytes would pass their bound, the subscriber
 *   holding the most (if more than the one being sent to) drops its
 *   newest messages, and is closed if all it holds is a message it stopped
 *   reading in the middle of;
 * - when every subscriber place is taken, a new subscriber that completes
 *   its handshake takes the place of the oldest one subscribed to nothing
 *   (libzmq keeps those, sending them nothing, but has no bound for them
 *   to fill), or else of the one that lost the most messages, if any lost
 *   one; with neither, new connections are refused. A peer that
 *   subscribes to a topic never sent and never reads keeps its place.
 *
 * @example
 * ```ts
 * import { ZmtpPublisher } from "./zmtp.ts";
 * await using publisher = ZmtpPublisher.bind({ hostname: "127.0.0.1", port: 0 }, { hwm: 10 });
 * if (publisher.port === 0 || publisher.subscribers !== 0) throw new Error("bound, no subscriber");
 * publisher.publish([new TextEncoder().encode("topic"), new Uint8Array([1])]); // nobody: dropped
 * ```
 * @module
 */

/** Where a publisher listens: a TCP host and port, or a UNIX socket's path. */
export type ZmtpAddress =
  | { readonly hostname: string; readonly port: number }
  | { readonly path: string };

/** How a publisher treats its subscribers. */
export interface ZmtpOptions {
  /**
   * Messages queued per subscriber before new ones are dropped for it
   * (libzmq's `ZMQ_SNDHWM`; 0: no limit but {@linkcode ZmtpOptions.maxQueuedBytes}).
   */
  readonly hwm: number;
  /** Bytes queued per subscriber before new messages are dropped for it (64 MiB). */
  readonly maxQueuedBytes?: number;
  /**
   * Bytes queued for all subscribers together (256 MiB): past it, those
   * that hold the most give way (see above).
   */
  readonly maxPublisherBytes?: number;
  /**
   * Subscribers past the handshake at once; past it, a new one takes the
   * place of the oldest one subscribed to nothing or else of the one that
   * lost the most messages, or, with neither, is closed at once (256).
   */
  readonly maxSubscribers?: number;
  /**
   * Handshakes in progress at once, apart from the subscribers: a connection
   * past it closes the oldest unfinished one, so idle peers cannot keep
   * real subscribers out (32).
   */
  readonly maxHandshakes?: number;
  /** Where a refused or failed subscriber is told of (nowhere by default). */
  readonly log?: (line: string) => void;
  /** Milliseconds a peer has to finish the handshake (10 s). */
  readonly handshakeMs?: number;
}

/** The most a subscriber may send in one frame: subscriptions and commands are small. */
const MAX_INCOMING_FRAME = 4096;
/** The most prefixes one subscriber may hold. */
const MAX_SUBSCRIPTIONS = 1024;
/** The most bytes of prefixes one subscriber may hold (the topics here are a few bytes each). */
const MAX_PREFIX_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** RFC 23's greeting: signature, version 3.0, mechanism NULL, as-server 0, filler. */
function greeting(): Uint8Array {
  const bytes = new Uint8Array(64);
  bytes[0] = 0xff;
  bytes[9] = 0x7f;
  bytes[10] = 3;
  bytes[11] = 0;
  bytes.set(encoder.encode("NULL"), 12);
  return bytes;
}

/** One frame: flags (MORE, LONG, COMMAND) and size, then the body. */
function frame(body: Uint8Array, more: boolean, command = false): Uint8Array {
  const long = body.length > 255;
  const head = long ? 9 : 2;
  const out = new Uint8Array(head + body.length);
  out[0] = (more ? 1 : 0) | (long ? 2 : 0) | (command ? 4 : 0);
  if (long) new DataView(out.buffer).setBigUint64(1, BigInt(body.length));
  else out[1] = body.length;
  out.set(body, head);
  return out;
}

/** A command's body: its name's length, its name, its data. */
function commandBody(name: string, data: Uint8Array): Uint8Array {
  const nameBytes = encoder.encode(name);
  const out = new Uint8Array(1 + nameBytes.length + data.length);
  out[0] = nameBytes.length;
  out.set(nameBytes, 1);
  out.set(data, 1 + nameBytes.length);
  return out;
}

/** `READY` with the property `Socket-Type: PUB`. */
function readyCommand(): Uint8Array {
  const name = encoder.encode("Socket-Type");
  const value = encoder.encode("PUB");
  const data = new Uint8Array(1 + name.length + 4 + value.length);
  data[0] = name.length;
  data.set(name, 1);
  new DataView(data.buffer).setUint32(1 + name.length, value.length);
  data.set(value, 5 + name.length);
  return frame(commandBody("READY", data), false, true);
}

/** The properties of a `READY` command's data; throws on a malformed one. */
function readyProperties(data: Uint8Array): Map<string, string> {
  const properties = new Map<string, string>();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at < data.length;) {
    const nameLength = data[at];
    const valueAt = at + 1 + nameLength + 4;
    if (valueAt > data.length) throw new Error("malformed READY property");
    const name = decoder.decode(data.subarray(at + 1, at + 1 + nameLength));
    const valueLength = view.getUint32(at + 1 + nameLength);
    if (valueAt + valueLength > data.length) throw new Error("malformed READY property");
    properties.set(
      name.toLowerCase(),
      decoder.decode(data.subarray(valueAt, valueAt + valueLength)),
    );
    at = valueAt + valueLength;
  }
  return properties;
}

/** Bytes read from a connection, taken as they are needed. */
class Incoming {
  #buffer = new Uint8Array(0);
  readonly #conn: Deno.Conn;
  readonly #chunk = new Uint8Array(8192);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** The next `n` bytes; throws when the peer closes first. */
  async take(n: number): Promise<Uint8Array> {
    while (this.#buffer.length < n) {
      const read = await this.#conn.read(this.#chunk);
      if (read === null) throw new Error("the subscriber closed the connection");
      const grown = new Uint8Array(this.#buffer.length + read);
      grown.set(this.#buffer);
      grown.set(this.#chunk.subarray(0, read), this.#buffer.length);
      this.#buffer = grown;
    }
    const taken = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return taken;
  }

  /** The next frame: its flags and body; throws on one past {@linkcode MAX_INCOMING_FRAME}. */
  async frame(): Promise<{ more: boolean; command: boolean; body: Uint8Array }> {
    const [flags] = await this.take(1);
    if ((flags & 0xf8) !== 0) throw new Error(`invalid frame flags 0x${flags.toString(16)}`);
    const size = flags & 2
      ? new DataView((await this.take(8)).buffer).getBigUint64(0)
      : BigInt((await this.take(1))[0]);
    if (size > BigInt(MAX_INCOMING_FRAME)) {
      throw new Error(`a frame of ${size} bytes (at most ${MAX_INCOMING_FRAME} are taken)`);
    }
    return {
      more: (flags & 1) !== 0,
      command: (flags & 4) !== 0,
      body: await this.take(Number(size)),
    };
  }
}

/** Bytes the queued messages of all of one publisher's subscribers hold, against its budget. */
interface ByteBudget {
  used: number;
  readonly limit: number;
}

/** A connected subscriber: its prefixes and its queue of messages to send. */
class Subscriber {
  readonly #conn: Deno.Conn;
  readonly #hwm: number;
  readonly #maxQueuedBytes: number;
  readonly #budget: ByteBudget;
  /** Prefixes (as latin-1 text of their bytes) with how often each was subscribed. */
  readonly #prefixes = new Map<string, number>();
  #prefixBytes = 0;
  /** What {@linkcode Subscriber.wants} answered per topic, until the prefixes change. */
  readonly #wanted = new Map<string, boolean>();
  #queue: { frames: Uint8Array[]; bytes: number }[] = [];
  /** Bytes of the queued messages, the one being written included (until written). */
  #queuedBytes = 0;
  /** Bytes of the queued messages not yet begun (those that may still be dropped). */
  #waitingBytes = 0;
  /** Messages it has lost: dropped at its marks, or taken back for others. */
  #lost = 0;
  /** A PONG to write between two messages (at most one waits). */
  #pong: Uint8Array | null = null;
  #writing = false;
  #closed = false;
  ready = false;

  constructor(conn: Deno.Conn, hwm: number, maxQueuedBytes: number, budget: ByteBudget) {
    this.#conn = conn;
    this.#hwm = hwm;
    this.#maxQueuedBytes = maxQueuedBytes;
    this.#budget = budget;
  }

  /** Messages waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Bytes queued, the message being written included. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Bytes of the messages not yet begun: what {@linkcode Subscriber.dropNewest} can take back. */
  get waitingBytes(): number {
    return this.#waitingBytes;
  }

  /** Messages it has lost so far. */
  get lost(): number {
    return this.#lost;
  }

  /** Distinct prefixes subscribed. */
  get prefixCount(): number {
    return this.#prefixes.size;
  }

  /** Whether `topic` starts with one of its prefixes. */
  wants(topic: string): boolean {
    let wanted = this.#wanted.get(topic);
    if (wanted === undefined) {
      wanted = false;
      for (const prefix of this.#prefixes.keys()) if (topic.startsWith(prefix)) wanted = true;
      this.#wanted.set(topic, wanted);
    }
    return wanted;
  }

  /**
   * Whether a message of `bytes` stays within its own marks (its
   * messages, as libzmq's `ZMQ_SNDHWM`, and its bytes). A mark of 0 is
   * libzmq's "no limit": the bound on bytes still holds.
   */
  admits(bytes: number): boolean {
    return !this.#closed && (this.#hwm === 0 || this.#queue.length < this.#hwm) &&
      this.#queuedBytes + bytes <= this.#maxQueuedBytes;
  }

  /** Queues `frames` (already encoded, `bytes` long) and writes them in turn. */
  enqueue(frames: Uint8Array[], bytes: number): void {
    if (this.#closed) return;
    this.#queue.push({ frames, bytes });
    this.#queuedBytes += bytes;
    this.#waitingBytes += bytes;
    this.#budget.used += bytes;
    this.#drain();
  }

  /** Counts a message it did not get. */
  lose(): void {
    this.#lost++;
  }

  /** Drops its newest message not yet begun (a message lost, as past its mark). */
  dropNewest(): void {
    const dropped = this.#queue.pop();
    if (dropped === undefined) return;
    this.#queuedBytes -= dropped.bytes;
    this.#waitingBytes -= dropped.bytes;
    this.#budget.used -= dropped.bytes;
    this.#lost++;
  }

  /** Answers a PING, between two messages (one PONG waits at most: a later replaces it). */
  pong(context: Uint8Array): void {
    this.#pong = frame(commandBody("PONG", context), false, true);
    this.#drain();
  }

  /** Writes what is queued, one message after another, a PONG only between two. */
  async #drain(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (!this.#closed) {
        const pong = this.#pong;
        this.#pong = null;
        if (pong !== null) await this.write(pong);
        const message = this.#queue.shift();
        if (message === undefined) {
          if (this.#pong === null) break;
          continue;
        }
        this.#waitingBytes -= message.bytes;
        for (const part of message.frames) {
          // Closed meanwhile: close() took back what was left.
          if (this.#closed) return;
          this.#queuedBytes -= part.length;
          this.#budget.used -= part.length;
          await this.write(part);
        }
      }
    } catch {
      this.close();
    } finally {
      this.#writing = false;
    }
  }

  /** Writes `bytes` whole (the handshake's, or a message's part). */
  async write(bytes: Uint8Array): Promise<void> {
    for (let written = 0; written < bytes.length;) {
      written += await this.#conn.write(bytes.subarray(written));
    }
  }

  /** Adds `prefix` (a prefix subscribed twice needs two cancels, as libzmq's). */
  subscribe(prefix: Uint8Array): void {
    const key = String.fromCharCode(...prefix);
    const count = this.#prefixes.get(key) ?? 0;
    if (count === 0) {
      if (this.#prefixes.size >= MAX_SUBSCRIPTIONS) {
        throw new Error(`more than ${MAX_SUBSCRIPTIONS} subscriptions`);
      }
      if (this.#prefixBytes + prefix.length > MAX_PREFIX_BYTES) {
        throw new Error(`subscriptions of more than ${MAX_PREFIX_BYTES} bytes in all`);
      }
      this.#prefixBytes += prefix.length;
      this.#wanted.clear();
    }
    this.#prefixes.set(key, count + 1);
  }

  /** Takes one subscription of `prefix` back. */
  cancel(prefix: Uint8Array): void {
    const key = String.fromCharCode(...prefix);
    const count = this.#prefixes.get(key) ?? 0;
    if (count > 1) this.#prefixes.set(key, count - 1);
    else if (count === 1) {
      this.#prefixes.delete(key);
      this.#prefixBytes -= prefix.length;
      this.#wanted.clear();
    }
  }

  /** Closes the connection and lets go of what it had queued; it no longer counts as ready. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.ready = false;
    // What is still counted: the messages waiting and what is left of the one being written.
    this.#budget.used -= this.#queuedBytes;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#waitingBytes = 0;
    try {
      this.#conn.close();
    } catch { /* closed already */ }
  }
}

/**
 * Removes what a previous run left at `path` if it is a socket, as libzmq
 * unlinks the path before binding (anything else there is left alone: the
 * bind then fails).
 */
function removeStaleSocket(path: string): void {
  try {
    if (Deno.lstatSync(path).isSocket) Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** A PUB socket listening on one TCP address or UNIX socket. */
export class ZmtpPublisher implements AsyncDisposable {
  readonly #listener: Deno.Listener;
  readonly #options: Required<Omit<ZmtpOptions, "log" | "maxPublisherBytes">>;
  readonly #budget: ByteBudget;
  readonly #log: (line: string) => void;
  readonly #subscribers = new Set<Subscriber>();
  /** Those still in the handshake, oldest first. */
  readonly #handshaking = new Set<Subscriber>();
  readonly #accepting: Promise<void>;
  readonly #serving = new Set<Promise<void>>();

  private constructor(listener: Deno.Listener, options: ZmtpOptions) {
    this.#listener = listener;
    this.#options = {
      hwm: options.hwm,
      maxQueuedBytes: options.maxQueuedBytes ?? 64 * 1024 * 1024,
      maxSubscribers: options.maxSubscribers ?? 256,
      maxHandshakes: options.maxHandshakes ?? 32,
      handshakeMs: options.handshakeMs ?? 10_000,
    };
    this.#budget = { used: 0, limit: options.maxPublisherBytes ?? 256 * 1024 * 1024 };
    this.#log = options.log ?? (() => {});
    this.#accepting = this.#accept();
  }

  /**
   * Listens on `address` (port 0: any free one; a socket left at a path
   * replaced); throws as `Deno.listen` does.
   */
  static bind(address: ZmtpAddress, options: ZmtpOptions): ZmtpPublisher {
    if ("path" in address) {
      removeStaleSocket(address.path);
      return new ZmtpPublisher(Deno.listen({ transport: "unix", path: address.path }), options);
    }
    return new ZmtpPublisher(
      Deno.listen({ hostname: address.hostname, port: address.port }),
      options,
    );
  }

  /** The TCP port it listens on (0 on a UNIX socket). */
  get port(): number {
    const { addr } = this.#listener;
    return addr.transport === "tcp" ? addr.port : 0;
  }

  /** Subscribers past the handshake. */
  get subscribers(): number {
    let count = 0;
    for (const subscriber of this.#subscribers) if (subscriber.ready) count++;
    return count;
  }

  /** Prefixes subscribed, over all subscribers (a prefix subscribed twice counts once). */
  get subscriptions(): number {
    let count = 0;
    for (const subscriber of this.#subscribers) count += subscriber.prefixCount;
    return count;
  }

  /** Messages waiting to be written, over all subscribers (each bounded by its marks). */
  get queued(): number {
    let count = 0;
    for (const subscriber of this.#subscribers) count += subscriber.queued;
    return count;
  }

  /** Bytes queued, over all subscribers (at most `maxPublisherBytes`). */
  get queuedBytes(): number {
    return this.#budget.used;
  }

  /**
   * Sends the multipart message `parts` to every subscriber past the
   * handshake whose prefixes match its first part (as libzmq, by bytes).
   * A subscriber at its marks loses it (as libzmq's PUB past `ZMQ_SNDHWM`);
   * when the publisher's bytes would pass their bound, the subscribers
   * that hold the most give back their newest messages first, so peers
   * that never read cannot take the budget from one that keeps up.
   */
  publish(parts: readonly Uint8Array[]): void {
    const topic = String.fromCharCode(...parts[0]);
    let frames: Uint8Array[] | null = null;
    let bytes = 0;
    for (const subscriber of this.#subscribers) {
      if (!subscriber.ready || !subscriber.wants(topic)) continue;
      if (frames === null) {
        frames = parts.map((part, i) => frame(part, i < parts.length - 1));
        bytes = frames.reduce((sum, f) => sum + f.length, 0);
      }
      if (subscriber.admits(bytes) && this.#makeRoom(subscriber, bytes)) {
        subscriber.enqueue(frames, bytes);
      } else {
        subscriber.lose();
      }
    }
  }

  /**
   * Brings the publisher's queued bytes to where `bytes` more for `to` fit,
   * taking from the subscriber that holds the most, as long as it holds
   * more than `to`: its newest message not yet begun is dropped, or, when
   * all it holds is the message being written (it stopped reading in the
   * middle of it), it is closed. False (nothing fits) when `to` holds the
   * most.
   */
  #makeRoom(to: Subscriber, bytes: number): boolean {
    const budget = this.#budget;
    if (bytes > budget.limit) return false;
    while (budget.used + bytes > budget.limit) {
      let largest = to;
      for (const subscriber of this.#subscribers) {
        if (subscriber.queuedBytes > largest.queuedBytes) largest = subscriber;
      }
      if (largest.queuedBytes <= to.queuedBytes) return false;
      if (largest.waitingBytes > 0) {
        largest.dropNewest();
      } else {
        this.#log(
          `closing a subscriber that stopped reading: ${largest.queuedBytes} bytes of a message unsent`,
        );
        largest.close();
      }
    }
    return true;
  }

  /**
   * The subscriber past the handshake that gives way to a new one when
   * every place is taken: the oldest one subscribed to nothing (it is sent
   * nothing, so it loses nothing), else the one that lost the most
   * messages, if any lost one (most likely it does not read), else none.
   */
  #givingWay(): { subscriber: Subscriber; why: string } | null {
    let lossy: Subscriber | null = null;
    let idle: Subscriber | null = null;
    // The set keeps the order of connection: the first idle one is the oldest.
    for (const subscriber of this.#subscribers) {
      if (!subscriber.ready) continue;
      if (subscriber.lost > (lossy?.lost ?? 0)) lossy = subscriber;
      if (idle === null && subscriber.prefixCount === 0) idle = subscriber;
    }
    if (idle !== null) return { subscriber: idle, why: "is subscribed to nothing" };
    if (lossy !== null) return { subscriber: lossy, why: `lost ${lossy.lost} messages` };
    return null;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
          return; // closed
        }
        // Out of descriptors, a connection aborted: the socket goes on, after a breath.
        this.#log(`accepting a subscriber failed: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const { hwm, maxQueuedBytes, maxSubscribers, maxHandshakes } = this.#options;
      // Full: a subscriber may give way (once this one is through its handshake); with none
      // that would, the connection is refused at once.
      if (this.subscribers >= maxSubscribers && this.#givingWay() === null) {
        this.#log(`refusing a subscriber: ${maxSubscribers} are connected`);
        conn.close();
        continue;
      }
      if (this.#handshaking.size >= maxHandshakes) {
        const [oldest] = this.#handshaking;
        this.#handshaking.delete(oldest);
        oldest.close();
        this.#log(`closing the oldest unfinished handshake: ${maxHandshakes} are in progress`);
      }
      const subscriber = new Subscriber(conn, hwm, maxQueuedBytes, this.#budget);
      this.#subscribers.add(subscriber);
      this.#handshaking.add(subscriber);
      const serving = this.#serve(conn, subscriber).finally(() => {
        this.#subscribers.delete(subscriber);
        this.#handshaking.delete(subscriber);
        subscriber.close();
        this.#serving.delete(serving);
      });
      this.#serving.add(serving);
    }
  }

  /** The handshake, then the subscriber's subscriptions, until it goes or misbehaves. */
  async #serve(conn: Deno.Conn, subscriber: Subscriber): Promise<void> {
    const incoming = new Incoming(conn);
    try {
      const late = setTimeout(() => subscriber.close(), this.#options.handshakeMs);
      try {
        await subscriber.write(greeting());
        const theirs = await incoming.take(64);
        if (theirs[0] !== 0xff || theirs[9] !== 0x7f) throw new Error("not a ZMTP peer");
        if (theirs[10] < 3) throw new Error(`ZMTP ${theirs[10]}.x is not served (3.0 is)`);
        const mechanism = decoder.decode(theirs.subarray(12, 32)).replace(/\0+$/, "");
        if (mechanism !== "NULL") throw new Error(`security mechanism ${mechanism} is not served`);
        await subscriber.write(readyCommand());
        const ready = await incoming.frame();
        const name = ready.command ? commandName(ready.body) : null;
        if (name?.name !== "READY") throw new Error("expected READY");
        const type = readyProperties(name.data).get("socket-type");
        if (type !== "SUB" && type !== "XSUB") {
          throw new Error(`a ${type ?? "typeless"} socket cannot subscribe to a PUB socket`);
        }
      } finally {
        clearTimeout(late);
        this.#handshaking.delete(subscriber);
      }
      // Others may have finished theirs meanwhile: the bound holds for those past it. One
      // that does not read or asked for nothing gives way, if any.
      if (this.subscribers >= this.#options.maxSubscribers) {
        const giving = this.#givingWay();
        if (giving === null) {
          throw new Error(`${this.#options.maxSubscribers} subscribers are connected`);
        }
        this.#log(
          `closing a subscriber that ${giving.why}: ${this.#options.maxSubscribers} are connected`,
        );
        giving.subscriber.close();
      }
      subscriber.ready = true;
      // Whether the next data frame begins a message (libzmq reads a subscription from it).
      let first = true;
      for (;;) {
        const next = await incoming.frame();
        if (next.command) {
          const { name, data } = commandName(next.body);
          if (name === "SUBSCRIBE") subscriber.subscribe(data);
          else if (name === "CANCEL") subscriber.cancel(data);
          // PONG carries the ping's context (after its 2-byte TTL).
          else if (name === "PING") subscriber.pong(data.subarray(2));
          continue;
        }
        // ZMTP 3.0: a message whose first byte is 1 subscribes, 0 cancels; others are ignored.
        if (first && next.body[0] === 1) subscriber.subscribe(next.body.subarray(1));
        else if (first && next.body[0] === 0) subscriber.cancel(next.body.subarray(1));
        first = !next.more;
      }
    } catch (error) {
      if (subscriber.ready || !/closed the connection/.test(String(error))) {
        this.#log(`subscriber dropped: ${error instanceof Error ? error.message : error}`);
      }
    }
  }

  /** Stops listening and closes every subscriber. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* closed */ }
    await this.#accepting;
    for (const subscriber of this.#subscribers) subscriber.close();
    await Promise.allSettled([...this.#serving]);
  }
}

/** A command frame's name and data; throws on a malformed one. */
function commandName(body: Uint8Array): { name: string; data: Uint8Array } {
  const length = body[0] ?? 0;
  if (body.length < 1 + length) throw new Error("malformed command");
  return {
    name: decoder.decode(body.subarray(1, 1 + length)),
    data: body.subarray(1 + length),
  };
}
