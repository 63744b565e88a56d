/**
 * Unit tests of FrameTransport and channelFromStreams over real UNIX socket
 * pairs and stream pairs.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { encodeFrame, type Frame, FrameDecoder, type FrameView } from "../../runtime/framing.ts";
import {
  type ByteChannel,
  channelFromStreams,
  FrameTransport,
  PeerLimitError,
} from "../../runtime/transport.ts";
import { concatBytes, waitFor, withTimeout } from "../helpers.ts";
import { socketPair } from "../wire_peer.ts";

/** A one-segment message whose words carry `id` and a pattern. */
function frameOf(id: number, words = 2): Uint8Array[] {
  const segment = new Uint8Array(words * 8);
  const view = new DataView(segment.buffer);
  view.setUint32(0, id, true);
  for (let i = 4; i < segment.byteLength; i++) segment[i] = (id + i) & 0xff;
  return [segment];
}

/** Bytes `segments` take on the wire, header included. */
function wireBytes(segments: Uint8Array[]): number {
  return encodeFrame(segments).byteLength;
}

/** The id a `frameOf` frame carries, after checking its pattern. */
function idOf(frame: Frame, words = 2): number {
  assertEquals(frame.length, 1);
  const segment = new Uint8Array(frame[0]);
  assertEquals(segment.byteLength, words * 8);
  const id = new DataView(frame[0]).getUint32(0, true);
  for (let i = 4; i < segment.byteLength; i++) {
    if (segment[i] !== ((id + i) & 0xff)) throw new Error(`frame ${id} corrupted at byte ${i}`);
  }
  return id;
}

/** Collects frames and lets a test wait for a number of them. */
class Inbox {
  readonly frames: Frame[] = [];
  #waiter: { count: number; resolve: () => void } | null = null;

  readonly onFrame = (frame: FrameView): void => {
    this.frames.push(frame.owned());
    if (this.#waiter && this.frames.length >= this.#waiter.count) {
      this.#waiter.resolve();
      this.#waiter = null;
    }
  };

  wait(count: number, timeoutMs = 3000): Promise<void> {
    if (this.frames.length >= count) return Promise.resolve();
    return withTimeout(
      new Promise<void>((resolve) => this.#waiter = { count, resolve }),
      timeoutMs,
      `${count} frames (have ${this.frames.length})`,
    );
  }
}

/** A channel that records the writes made through it (the arrays as given). */
function countingChannel(inner: ByteChannel): ByteChannel & { writes: Uint8Array[] } {
  const writes: Uint8Array[] = [];
  return {
    writes,
    read: (p) => inner.read(p),
    write: (p) => {
      writes.push(p);
      return inner.write(p);
    },
    close: () => inner.close(),
  };
}

/** Two transports over a UNIX socket pair, closed (and awaited) on dispose. */
async function transportPair(
  options: { countWrites?: boolean } = {},
): Promise<
  {
    a: FrameTransport;
    b: FrameTransport;
    aInbox: Inbox;
    bInbox: Inbox;
    aWrites: Uint8Array[];
  } & AsyncDisposable
> {
  const [connA, connB] = await socketPair();
  const channelA = countingChannel(connA);
  const aInbox = new Inbox();
  const bInbox = new Inbox();
  const a = new FrameTransport(options.countWrites === false ? connA : channelA, aInbox.onFrame);
  const b = new FrameTransport(connB, bInbox.onFrame);
  return {
    a,
    b,
    aInbox,
    bInbox,
    aWrites: channelA.writes,
    async [Symbol.asyncDispose]() {
      a.close();
      b.close();
      await Promise.all([a.closed, b.closed]);
      // Let the reads the closes interrupted settle.
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
}

Deno.test("FrameTransport: frames both ways over a UNIX socket", async () => {
  await using pair = await transportPair();
  pair.a.send(frameOf(1));
  pair.b.send(frameOf(2, 5));
  pair.a.send([new Uint8Array(8), new Uint8Array(16)]);
  await pair.bInbox.wait(2);
  await pair.aInbox.wait(1);
  assertEquals(idOf(pair.bInbox.frames[0]), 1);
  assertEquals(pair.bInbox.frames[1].map((s) => s.byteLength), [8, 16]);
  assertEquals(idOf(pair.aInbox.frames[0], 5), 2);
  assert(!pair.a.isClosed && !pair.b.isClosed);
});

Deno.test("FrameTransport: small frames sent in one tick are coalesced, in order", async () => {
  await using pair = await transportPair();
  for (let i = 0; i < 100; i++) pair.a.send(frameOf(i));
  await pair.bInbox.wait(100);
  assertEquals(pair.bInbox.frames.map((f) => idOf(f)), Array.from({ length: 100 }, (_, i) => i));
  assert(pair.aWrites.length <= 5, `expected few writes, got ${pair.aWrites.length}`);
  assertEquals(pair.aWrites.reduce((n, w) => n + w.byteLength, 0), 100 * wireBytes(frameOf(0)));

  // Frames sent while a write is in flight join the next write.
  const before = pair.aWrites.length;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 10; i++) pair.a.send(frameOf(1000 + round * 10 + i));
    await Promise.resolve();
  }
  await pair.bInbox.wait(200);
  assertEquals(
    pair.bInbox.frames.slice(100).map((f) => idOf(f)),
    Array.from({ length: 100 }, (_, i) => 1000 + i),
  );
  assert(
    pair.aWrites.length - before < 100,
    `${pair.aWrites.length - before} writes for 100 frames`,
  );
});

Deno.test("FrameTransport: coalesced writes stay within 64 KiB; a larger message goes in place", async () => {
  await using pair = await transportPair();
  const bigWords = 100 * 1024 / 8; // 100 KiB
  const small = frameOf(1);
  const big = frameOf(2, bigWords);
  pair.a.send(small);
  pair.a.send(big);
  pair.a.send(frameOf(3));
  // 2000 messages of 40 bytes (80 000 bytes) need at least two writes.
  for (let i = 0; i < 2000; i++) pair.a.send(frameOf(10 + i, 4));
  await pair.bInbox.wait(2003, 5000);
  assertEquals(idOf(pair.bInbox.frames[0]), 1);
  assertEquals(idOf(pair.bInbox.frames[1], bigWords), 2);
  assertEquals(idOf(pair.bInbox.frames[2]), 3);
  for (let i = 0; i < 2000; i++) assertEquals(idOf(pair.bInbox.frames[3 + i], 4), 10 + i);
  const writes = pair.aWrites;
  // The small message, then the big one's header and first bytes (64 KiB
  // in all), then the rest of its segment as given, not copied.
  assertEquals(writes[0].byteLength, 64 * 1024);
  assertEquals(writes[0].subarray(0, wireBytes(small)), encodeFrame(small));
  assert(writes[1].buffer === big[0].buffer, "big segment written in place");
  assertEquals(writes[1].byteLength, big[0].byteLength - (64 * 1024 - wireBytes(small) - 8));
  assert(
    writes.slice(2).every((w) => w.byteLength <= 64 * 1024),
    `${writes.map((w) => w.byteLength)}`,
  );
  assert(writes.length >= 4 && writes.length < 20, `${writes.length} writes`);
  const total = writes.reduce((n, w) => n + w.byteLength, 0);
  assertEquals(total, wireBytes(small) + wireBytes(big) + wireBytes(frameOf(3)) + 2000 * 40);
});

Deno.test("FrameTransport: multi-segment messages are framed on send", async () => {
  await using pair = await transportPair();
  const segments = [frameOf(1, 1)[0], frameOf(2, 3)[0], new Uint8Array(0), frameOf(3, 2)[0]];
  pair.a.send(segments);
  pair.a.send([new Uint8Array(0)]);
  await pair.bInbox.wait(2);
  assertEquals(pair.bInbox.frames[0].map((s) => new Uint8Array(s)), segments);
  assertEquals(pair.bInbox.frames[1].map((s) => s.byteLength), [0]);
  // Exactly the framed bytes went out.
  assertEquals(
    new Uint8Array(pair.aWrites.flatMap((w) => [...w])),
    new Uint8Array([...encodeFrame(segments), ...encodeFrame([new Uint8Array(0)])]),
  );
});

Deno.test("FrameTransport: a lazy message rides with the next one, or goes alone soon", async () => {
  await using pair = await transportPair();
  pair.a.send(frameOf(1), true);
  pair.a.send(frameOf(2));
  await pair.bInbox.wait(2);
  assertEquals(pair.bInbox.frames.map((f) => idOf(f)), [1, 2]);
  assertEquals(pair.aWrites.length, 1, "one write for both");
  // Alone, it still goes out.
  pair.a.send(frameOf(3), true);
  await pair.bInbox.wait(3, 1000);
  assertEquals(idOf(pair.bInbox.frames[2]), 3);
});

Deno.test("FrameTransport: a 3 MiB frame arrives intact", async () => {
  await using pair = await transportPair();
  const words = 3 * 1024 * 1024 / 8;
  pair.a.send(frameOf(77, words));
  pair.a.send(frameOf(78));
  await pair.bInbox.wait(2, 10_000);
  assertEquals(idOf(pair.bInbox.frames[0], words), 77);
  assertEquals(idOf(pair.bInbox.frames[1]), 78);
});

Deno.test("FrameTransport: a large segment of any length is written in place, padded, then released", async () => {
  await using pair = await transportPair();
  const big = new Uint8Array(200_003).map((_, i) => i & 255);
  const head = frameOf(5)[0];
  let written = 0;
  pair.a.send([head, big], false, () => written++);
  assertEquals(written, 0, "held until written");
  pair.a.send(frameOf(6), false, () => written += 10);
  assertEquals(written, 10, "a small message is copied: released at once");
  await pair.bInbox.wait(2, 10_000);
  assertEquals(written, 11);
  const [first, second] = pair.bInbox.frames;
  assertEquals(first.map((s) => s.byteLength), [16, 200_008]);
  assertEquals(new Uint8Array(first[1]), new Uint8Array([...big, 0, 0, 0, 0, 0]));
  assertEquals(idOf(second), 6);
  assert(pair.aWrites.some((w) => w.buffer === big.buffer), "written from where it is");
});

Deno.test("FrameTransport: small messages queued just before a large one go in its first write", async () => {
  await using pair = await transportPair();
  pair.a.send(frameOf(1), true); // a lazy Finish, say
  const big = new Uint8Array(300_000).map((_, i) => (i * 3) & 255);
  pair.a.send([frameOf(2)[0], big]);
  await pair.bInbox.wait(2, 10_000);
  assertEquals(idOf(pair.bInbox.frames[0]), 1);
  assertEquals(new Uint8Array(pair.bInbox.frames[1][1]), big);
  const small = encodeFrame(frameOf(1));
  const first = pair.aWrites[0];
  assertEquals(first.subarray(0, small.byteLength), small);
  assert(first.byteLength > small.byteLength + 1024, "the large message starts in the same write");
  assertEquals(pair.a.queuedBytes, 0, "both are accounted as written");
});

Deno.test("FrameTransport: a large message dropped at close is released", async () => {
  const [conn] = await socketPair();
  const transport = new FrameTransport(conn, () => {});
  let released = 0;
  // Queued behind a first large write the peer never reads.
  transport.send([new Uint8Array(8 << 20)], false, () => released++);
  transport.send([new Uint8Array(1 << 20)], false, () => released++);
  transport.close();
  await transport.closed;
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(released, 2);
  transport.send([new Uint8Array(1 << 20)], false, () => released++);
  assertEquals(released, 3, "after close: dropped and released at once");
});

Deno.test("FrameTransport: closed resolves once with undefined when the peer closes", async () => {
  const [connA, connB] = await socketPair();
  const inbox = new Inbox();
  const a = new FrameTransport(connA, inbox.onFrame);
  let settled = 0;
  a.closed.then(() => settled++);
  connB.close();
  assertEquals(await withTimeout(a.closed, 20_000, "closed"), undefined);
  assert(a.isClosed);
  // Closing again is a no-op; closed stays settled with the first reason.
  a.close(new Error("later"));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assertEquals(settled, 1);
  assertEquals(await a.closed, undefined);
});

Deno.test("FrameTransport: closed resolves with the Error of a failing read", async () => {
  let closes = 0;
  const boom = new Error("read exploded");
  const channel: ByteChannel = {
    read: () => Promise.reject(boom),
    write: (p) => Promise.resolve(p.byteLength),
    close: () => void closes++,
  };
  const transport = new FrameTransport(channel, () => {});
  const reason = await withTimeout(transport.closed, 20_000, "closed");
  assert(reason === boom, `expected the read's error, got ${reason}`);
  assert(transport.isClosed);
  assertEquals(closes, 1, "the channel is closed once");

  // A non-Error rejection is wrapped in an Error.
  const other = new FrameTransport({
    read: () => Promise.reject("just a string"),
    write: (p) => Promise.resolve(p.byteLength),
    close: () => {},
  }, () => {});
  const wrapped = await withTimeout(other.closed, 20_000, "closed");
  assert(wrapped instanceof Error);
  assertEquals(wrapped.message, "just a string");
});

Deno.test("FrameTransport: a failing write closes with its Error", async () => {
  let releaseRead!: (n: number | null) => void;
  const channel: ByteChannel = {
    read: () => new Promise((resolve) => releaseRead = resolve),
    write: () => Promise.reject(new Error("write exploded")),
    close: () => releaseRead?.(null),
  };
  const transport = new FrameTransport(channel, () => {});
  transport.send(frameOf(1));
  const reason = await withTimeout(transport.closed, 20_000, "closed");
  assertEquals(reason?.message, "write exploded");
});

Deno.test("FrameTransport: a framing limit broken by the peer closes with a FramingError", async () => {
  const [connA, connB] = await socketPair();
  const a = new FrameTransport(connA, () => {}, { maxSegments: 2 });
  await connB.write(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  const reason = await withTimeout(a.closed, 20_000, "closed");
  assertEquals(reason?.name, "FramingError");
  // The transport closed its end: the peer sees EOF.
  assertEquals(await withTimeout(connB.read(new Uint8Array(8)), 20_000, "EOF"), null);
  connB.close();
});

Deno.test("FrameTransport: send after close is dropped silently", async () => {
  const [connA, connB] = await socketPair();
  const channel = countingChannel(connA);
  const a = new FrameTransport(channel, () => {});
  const bInbox = new Inbox();
  const b = new FrameTransport(connB, bInbox.onFrame);
  a.close();
  assert(a.isClosed);
  a.send(frameOf(1)); // must not throw
  await new Promise((resolve) => setTimeout(resolve, 50));
  assertEquals(channel.writes, []);
  assertEquals(await a.closed, undefined);
  // The peer sees a clean EOF and nothing else.
  assertEquals(await withTimeout(b.closed, 20_000, "peer closed"), undefined);
  assertEquals(bInbox.frames, []);
  b.send(frameOf(2)); // also dropped
  await new Promise((resolve) => setTimeout(resolve, 0));
});

Deno.test("FrameTransport: close with flush delivers queued frames first", async () => {
  const [connA, connB] = await socketPair();
  const a = new FrameTransport(connA, () => {});
  const bInbox = new Inbox();
  const b = new FrameTransport(connB, bInbox.onFrame);
  for (let i = 0; i < 5; i++) a.send(frameOf(i));
  a.close(undefined, true);
  assertEquals(await withTimeout(b.closed, 20_000, "peer closed"), undefined);
  assertEquals(bInbox.frames.map((f) => idOf(f)), [0, 1, 2, 3, 4]);
  assertEquals(await a.closed, undefined);
  await new Promise((resolve) => setTimeout(resolve, 0));
});

Deno.test("FrameTransport: close with flush delivers a queued lazy message", async () => {
  const [connA, connB] = await socketPair();
  const a = new FrameTransport(connA, () => {});
  const bInbox = new Inbox();
  const b = new FrameTransport(connB, bInbox.onFrame);
  a.send(frameOf(1), true); // e.g. a Finish, waiting for company
  a.close(undefined, true);
  assertEquals(await withTimeout(b.closed, 20_000, "peer closed"), undefined);
  await a.closed;
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(bInbox.frames.map((f) => idOf(f)), [1], "the pending lazy message was dropped");
});

Deno.test("FrameTransport: send after close(reason, flush) is dropped, not flushed", async () => {
  const [connA, connB] = await socketPair();
  const a = new FrameTransport(connA, () => {});
  const bInbox = new Inbox();
  const b = new FrameTransport(connB, bInbox.onFrame);
  a.send(frameOf(1));
  a.close(undefined, true);
  // close() has been called: the documented contract is "dropped after close".
  a.send(frameOf(99));
  assertEquals(await withTimeout(b.closed, 20_000, "peer closed"), undefined);
  await a.closed;
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(bInbox.frames.map((f) => idOf(f)), [1], "frame sent after close() was written");
});

Deno.test("FrameTransport: an exception in onFrame closes the transport and does not escape", async () => {
  const [connA, connB] = await socketPair();
  let calls = 0;
  const error = new Error("listener exploded");
  const a = new FrameTransport(connA, () => {
    calls++;
    throw error;
  });
  const bInbox = new Inbox();
  const b = new FrameTransport(connB, bInbox.onFrame);
  // Two frames in one write: the second must not be delivered after the throw.
  b.send(frameOf(1));
  b.send(frameOf(2));
  const reason = await withTimeout(a.closed, 20_000, "closed");
  assert(reason === error, `expected the listener's error, got ${reason}`);
  assert(a.isClosed);
  assertEquals(calls, 1);
  // The closed transport closed its channel: the peer sees EOF.
  assertEquals(await withTimeout(b.closed, 20_000, "peer closed"), undefined);
  // Give any stray rejection a chance to surface (the test fails if it does).
  await new Promise((resolve) => setTimeout(resolve, 20));
});

/** A channel whose writes never complete (a peer that does not read), closed on demand. */
function stalledChannel(): ByteChannel & { closes: number } {
  let endRead: ((n: null) => void) | null = null;
  const channel = {
    closes: 0,
    read: () => new Promise<null>((resolve) => endRead = resolve),
    write: () => new Promise<number>(() => {}),
    close: () => {
      channel.closes++;
      endRead?.(null);
    },
  };
  return channel;
}

Deno.test("FrameTransport: a peer that does not read is cut off once over maxOutgoingBytes", async () => {
  const channel = stalledChannel();
  const transport = new FrameTransport(channel, () => {}, { maxOutgoingBytes: 100_000 });
  // 64-byte frames (8 header + 56): the first write stalls, the rest queue up.
  let sent = 0;
  while (!transport.isClosed && sent < 10_000) {
    transport.send(frameOf(sent++, 7));
    if (!transport.isClosed) assert(transport.queuedBytes <= 100_000, `${transport.queuedBytes}`);
  }
  assertEquals(sent, Math.floor(100_000 / 64) + 1, "cut off by the frame that went over");
  const reason = await withTimeout(transport.closed, 20_000, "closed");
  assert(reason instanceof PeerLimitError, `expected a PeerLimitError, got ${reason}`);
  assert(/not reading.*maxOutgoingBytes/.test(reason.message), reason.message);
  assertEquals(channel.closes, 1);
  assertEquals(transport.queuedBytes, 0, "the queue is dropped");
});

Deno.test("FrameTransport: over maxProcessOutgoingBytes, the transport with the most queued is closed", async () => {
  const limits = { maxOutgoingBytes: 1024 * 1024, maxProcessOutgoingBytes: 50_000 };
  const [channelA, channelB] = [stalledChannel(), stalledChannel()];
  const a = new FrameTransport(channelA, () => {}, limits);
  const b = new FrameTransport(channelB, () => {}, limits);
  for (let i = 0; i < 35; i++) a.send(frameOf(i, 127)); // 35 × 1 KiB
  for (let i = 0; i < 10; i++) b.send(frameOf(i, 127)); // 10 × 1 KiB
  assert(!a.isClosed && !b.isClosed, "closed under the limits");
  // B's next 10 KiB take the process over 50 000 bytes: A, which holds the most, goes.
  for (let i = 0; i < 10; i++) b.send(frameOf(i, 127));
  const reason = await withTimeout(a.closed, 20_000, "A closed");
  assert(reason instanceof PeerLimitError, `expected a PeerLimitError, got ${reason}`);
  assert(
    /35840 bytes are queued for it.*maxProcessOutgoingBytes/.test(reason.message),
    reason.message,
  );
  assert(!b.isClosed, "B was closed");
  assertEquals(b.queuedBytes, 20 * 1024);
  b.close();
  assertEquals(await b.closed, undefined);
});

Deno.test("FrameTransport: a sender's callback that throws after a large write leaves the transport writing", async () => {
  const [conn, peerConn] = await socketPair();
  const transport = new FrameTransport(conn, () => {});
  const inbox = new Inbox();
  const peer = new FrameTransport(peerConn, inbox.onFrame);
  // Larger than the staging buffer: written as it lies, its sender told once it is written.
  transport.send(frameOf(1, 100_000 / 8), false, () => {
    throw new Error("the sender failed");
  });
  await inbox.wait(1, 20_000);
  await waitFor(() => transport.queuedBytes === 0, 20_000, "the write to be counted");
  transport.send(frameOf(2));
  await inbox.wait(2, 20_000);
  assertEquals(inbox.frames.map((frame) => new DataView(frame[0]!).getUint32(0, true)), [
    1,
    2,
  ]);
  transport.close();
  peer.close();
  assertEquals(await transport.closed, undefined);
  assertEquals(await peer.closed, undefined);
});

Deno.test("FrameTransport: a sender's callback that throws at close leaves nothing counted for the process", async () => {
  const limits = { maxOutgoingBytes: 1024 * 1024, maxProcessOutgoingBytes: 150_000 };
  const first = new FrameTransport(stalledChannel(), () => {}, limits);
  // Larger than the staging buffer: queued as it is, its sender told at close that it is done.
  first.send(frameOf(0, 100_000 / 8), false, () => {
    throw new Error("the sender failed");
  });
  first.close();
  assertEquals(await first.closed, undefined);
  // None of its 100 KiB is left counted: 140 KiB queued on another stay under 150 000 bytes.
  const second = new FrameTransport(stalledChannel(), () => {}, limits);
  for (let i = 0; i < 140; i++) second.send(frameOf(i, 127));
  assert(!second.isClosed, "closed for what the first one left counted");
  second.close();
  assertEquals(await second.closed, undefined);
});

Deno.test("FrameTransport: a transport allowed more queued is not closed for one allowed less", async () => {
  const strictLimits = { maxOutgoingBytes: 1024 * 1024, maxProcessOutgoingBytes: 50_000 };
  const lenientLimits = { ...strictLimits, maxProcessOutgoingBytes: 1024 * 1024 };
  const [channelA, channelB] = [stalledChannel(), stalledChannel()];
  const lenient = new FrameTransport(channelA, () => {}, lenientLimits);
  const strict = new FrameTransport(channelB, () => {}, strictLimits);
  for (let i = 0; i < 35; i++) lenient.send(frameOf(i, 127)); // 35 × 1 KiB
  // 55 KiB in all, over the strict value; but only its own 20 KiB count against it.
  for (let i = 0; i < 20; i++) strict.send(frameOf(i, 127));
  assert(!lenient.isClosed && !strict.isClosed, "closed under their own totals");
  // Its own 50 KiB are over: the strict transport goes, not the one holding the most.
  for (let i = 0; i < 30; i++) strict.send(frameOf(i, 127));
  const reason = await withTimeout(strict.closed, 20_000, "the strict transport closed");
  assert(reason instanceof PeerLimitError, `expected a PeerLimitError, got ${reason}`);
  assertEquals(
    reason.message,
    "Peer is not reading: 50176 bytes are queued for it, the most of any connection of this " +
      "process whose maxProcessOutgoingBytes is 50000 or less, which hold 50176 in all.",
  );
  assert(!lenient.isClosed, "the lenient transport was closed");
  lenient.close();
  assertEquals(await lenient.closed, undefined);
});

Deno.test("FrameTransport: over maxProcessReceivingBytes, the transport receiving the most is closed", async () => {
  const limits = { maxProcessReceivingBytes: 1024 * 1024 };
  const [[connA, peerA], [connB, peerB]] = [await socketPair(), await socketPair()];
  const a = new FrameTransport(connA, () => {}, limits);
  const inboxB = new Inbox();
  const b = new FrameTransport(connB, inboxB.onFrame, limits);
  // Each peer sends the header of a 1 MiB frame and part of its segment: A 600 KiB, B 300 KiB.
  const frame = encodeFrame([new Uint8Array(1024 * 1024).fill(7)]);
  // All of them, whatever one write takes (the transport reads as they come).
  const send = async (conn: Deno.Conn, bytes: Uint8Array) => {
    for (let at = 0; at < bytes.byteLength;) at += await conn.write(bytes.subarray(at));
  };
  await send(peerA, frame.subarray(0, 8 + 600 * 1024));
  await waitFor(() => a.receivingBytes === 8 + 600 * 1024, 20_000, "A's 600 KiB");
  await send(peerB, frame.subarray(0, 8 + 300 * 1024));
  await waitFor(() => b.receivingBytes === 8 + 300 * 1024, 20_000, "B's 300 KiB");
  assert(!a.isClosed && !b.isClosed, "closed under the limit");
  // B's next 200 KiB take the process over 1 MiB: A, which has sent the most, goes.
  await send(peerB, frame.subarray(8 + 300 * 1024, 8 + 500 * 1024));
  const reason = await withTimeout(a.closed, 20_000, "A closed");
  assert(reason instanceof PeerLimitError, `expected a PeerLimitError, got ${reason}`);
  assertMatch(
    reason.message,
    /^Too many bytes of messages still arriving: 614408 from this peer, the most of any connection of this process whose maxProcessReceivingBytes is 1048576 or less, which hold \d+ in all\.$/,
  );
  // B goes on, and its frame arrives whole.
  await send(peerB, frame.subarray(8 + 500 * 1024));
  await inboxB.wait(1);
  assertEquals(inboxB.frames[0]![0]!.byteLength, 1024 * 1024);
  assertEquals(b.receivingBytes, 0);
  assert(!b.isClosed, "B was closed");
  b.close();
  peerA.close();
  peerB.close();
  assertEquals(await b.closed, undefined);
});

Deno.test("FrameTransport: a transport closed by a frame it delivered counts none of what came with it", async () => {
  const big = encodeFrame([new Uint8Array(1024 * 1024)]);
  // Five times: a frame whose delivery closes the transport, and in the same write most of
  // a large one (what one read takes of it would have stayed counted for the process).
  for (let i = 0; i < 5; i++) {
    const [conn, peer] = await socketPair();
    const transport: FrameTransport = new FrameTransport(conn, () => transport.close());
    await peer.write(concatBytes(encodeFrame(frameOf(i)), big.subarray(0, 8 + 100 * 1024)));
    assertEquals(await withTimeout(transport.closed, 20_000, "the close"), undefined);
    assertEquals(transport.receivingBytes, 0);
    peer.close();
  }
  // Nothing was left counted: 60 KiB arriving stay under a process limit of 64 KiB.
  const [conn, peer] = await socketPair();
  const fresh = new FrameTransport(conn, () => {}, { maxProcessReceivingBytes: 64 * 1024 });
  for (let at = 0; at < 8 + 60 * 1024;) at += await peer.write(big.subarray(at, 8 + 60 * 1024));
  await waitFor(() => fresh.receivingBytes === 8 + 60 * 1024, 20_000, "60 KiB to arrive");
  assert(!fresh.isClosed, "closed under the limit");
  fresh.close();
  peer.close();
  assertEquals(await fresh.closed, undefined);
});

Deno.test("FrameTransport: one message over maxOutgoingBytes may go when nothing else waits", async () => {
  const [connA, connB] = await socketPair();
  const a = new FrameTransport(connA, () => {}, { maxOutgoingBytes: 1024 });
  const inbox = new Inbox();
  const b = new FrameTransport(connB, inbox.onFrame);
  a.send(frameOf(1, 4096)); // 32 KiB alone: allowed
  await inbox.wait(1);
  assertEquals(a.queuedBytes, 0, "written and accounted for");
  a.send(frameOf(2, 4096));
  await inbox.wait(2);
  assert(!a.isClosed, "closed although the peer reads");
  a.close();
  b.close();
  await Promise.all([a.closed, b.closed]);
  await new Promise((resolve) => setTimeout(resolve, 0));
});

Deno.test("FrameTransport: queued bytes are accounted as they are written", async () => {
  await using pair = await transportPair();
  for (let i = 0; i < 100; i++) pair.a.send(frameOf(i));
  assertEquals(pair.a.queuedBytes, 100 * 24);
  await pair.bInbox.wait(100);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(pair.a.queuedBytes, 0);
});

Deno.test("FrameTransport: a frame not completed by its deadline closes the transport", async () => {
  const [connA, connB] = await socketPair();
  const a = new FrameTransport(connA, () => {}, {
    frameTimeoutMs: 200,
    minFrameBytesPerSecond: 1024 * 1024 * 1024,
  });
  // A header declaring 60 MiB, then a trickle that would take minutes.
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(4, 60 * 1024 * 1024 / 8, true);
  await connB.write(header);
  let trickled = 0;
  while (!a.isClosed && trickled < 500) {
    await connB.write(new Uint8Array(8)).catch(() => 0);
    trickled++;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const reason = await withTimeout(a.closed, 20_000, "closed");
  assert(reason instanceof PeerLimitError, `expected a PeerLimitError, got ${reason}`);
  assert(/frame of 62914560 bytes was not received within/.test(reason.message), reason.message);
  // The peer sees the close: EOF, or a reset when trickled bytes were left unread.
  const end = await withTimeout(
    connB.read(new Uint8Array(8)).catch((error) => {
      if (error instanceof Deno.errors.ConnectionReset) return null;
      throw error;
    }),
    20_000,
    "the close",
  );
  assertEquals(end, null);
  connB.close();
});

/** A channel that reads `chunks` one by one, then waits until closed; writes are dropped. */
function scriptedChannel(chunks: Uint8Array[]): ByteChannel {
  let endRead: ((n: null) => void) | null = null;
  return {
    read(p) {
      const chunk = chunks.shift();
      if (chunk === undefined) return new Promise((resolve) => endRead = resolve);
      p.set(chunk.subarray(0, p.byteLength));
      if (chunk.byteLength > p.byteLength) chunks.unshift(chunk.subarray(p.byteLength));
      return Promise.resolve(Math.min(chunk.byteLength, p.byteLength));
    },
    write: (p) => Promise.resolve(p.byteLength),
    close: () => endRead?.(null),
  };
}

Deno.test("FrameTransport: a frame completed in time is not cut off by its deadline later", async () => {
  // Half a frame, then the rest at once: a deadline is armed for it while it is incomplete.
  const frame = encodeFrame(frameOf(5, 1000));
  const inbox = new Inbox();
  const transport = new FrameTransport(
    scriptedChannel([frame.subarray(0, 3000), frame.subarray(3000)]),
    inbox.onFrame,
    { frameTimeoutMs: 50, minFrameBytesPerSecond: 1024 * 1024 * 1024 },
  );
  await inbox.wait(1);
  assertEquals(idOf(inbox.frames[0], 1000), 5);
  // Well past the deadline the frame had: still open.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert(!transport.isClosed, "closed after its frame had arrived");
  transport.close();
  assertEquals(await transport.closed, undefined);
});

Deno.test("FrameTransport: frameTimeoutMs Infinity is no deadline, and no timer spinning in its place", async () => {
  const realSetTimeout = globalThis.setTimeout;
  let timers = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timers++;
    return realSetTimeout(...args);
  }) as typeof setTimeout;
  try {
    const [connA, connB] = await socketPair();
    const inbox = new Inbox();
    const a = new FrameTransport(connA, inbox.onFrame, { frameTimeoutMs: Infinity });
    const frame = encodeFrame(frameOf(7, 1000));
    await connB.write(frame.subarray(0, 3000));
    await new Promise((resolve) => realSetTimeout(resolve, 200));
    // setTimeout fires an infinite delay after 1 ms: the deadline re-armed itself ~100 times.
    assertEquals(timers, 0, "timers set while the frame waited");
    assert(!a.isClosed);
    await connB.write(frame.subarray(3000));
    await inbox.wait(1);
    assertEquals(idOf(inbox.frames[0], 1000), 7);
    a.close();
    connB.close();
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  assertThrows(
    () => new FrameTransport(stalledChannel(), () => {}, { frameTimeoutMs: Number.NaN }),
    RangeError,
    "frameTimeoutMs is a number of milliseconds",
  );
});

Deno.test("FrameTransport: a flushing close gives up on a peer that does not read", async () => {
  const channel = stalledChannel();
  const transport = new FrameTransport(channel, () => {}, {
    frameTimeoutMs: 100,
    minFrameBytesPerSecond: 1024 * 1024,
  });
  transport.send(frameOf(1));
  transport.close(undefined, true);
  assertEquals(await withTimeout(transport.closed, 20_000, "closed"), undefined);
  assertEquals(channel.closes, 1);
});

Deno.test("channelFromStreams: frames both ways over TransformStreams; EOF closes", async () => {
  const toB = new TransformStream<Uint8Array, Uint8Array>();
  const toA = new TransformStream<Uint8Array, Uint8Array>();
  const aInbox = new Inbox();
  const bInbox = new Inbox();
  const a = new FrameTransport(channelFromStreams(toA.readable, toB.writable), aInbox.onFrame);
  const b = new FrameTransport(channelFromStreams(toB.readable, toA.writable), bInbox.onFrame);

  for (let i = 0; i < 50; i++) a.send(frameOf(i));
  b.send(frameOf(500, 20_000)); // 160 KiB: larger than one read target
  b.send(frameOf(501));
  await bInbox.wait(50);
  await aInbox.wait(2);
  assertEquals(bInbox.frames.map((f) => idOf(f)), Array.from({ length: 50 }, (_, i) => i));
  assertEquals(idOf(aInbox.frames[0], 20_000), 500);
  assertEquals(idOf(aInbox.frames[1]), 501);

  // Closing one side closes its writable: the other reads EOF and closes cleanly.
  a.close();
  assertEquals(await withTimeout(b.closed, 20_000, "b closed"), undefined);
  assertEquals(await a.closed, undefined);
});

Deno.test("channelFromStreams: batches written back to back arrive intact", async () => {
  // A stream keeps the chunks it is given by reference: what the transport
  // wrote must not change after write() resolved.
  const toB = new TransformStream<Uint8Array, Uint8Array>();
  const toA = new TransformStream<Uint8Array, Uint8Array>();
  const aInbox = new Inbox();
  const bInbox = new Inbox();
  const a = new FrameTransport(channelFromStreams(toA.readable, toB.writable), aInbox.onFrame);
  const b = new FrameTransport(channelFromStreams(toB.readable, toA.writable), bInbox.onFrame);
  let id = 0;
  for (let batch = 0; batch < 20; batch++) {
    for (let i = 0; i < 10; i++) a.send(frameOf(id++));
    await Promise.resolve();
  }
  await bInbox.wait(200);
  const ids = bInbox.frames.map((f) => {
    try {
      return idOf(f);
    } catch {
      return -1;
    }
  });
  assertEquals(ids, Array.from({ length: 200 }, (_, i) => i));
  a.close();
  await withTimeout(b.closed, 20_000, "b closed");
  assertEquals(aInbox.frames, []);
});

Deno.test("channelFromStreams: a chunk handed to the stream is not changed afterwards", async () => {
  // Streams pass chunks on by reference, and write() resolves once the chunk
  // is accepted, not consumed: a consumer holding a chunk must keep its bytes.
  const stream = new TransformStream<Uint8Array, Uint8Array>();
  const a = new FrameTransport(channelFromStreams(new ReadableStream(), stream.writable), () => {});
  const reader = stream.readable.getReader();
  for (let i = 0; i < 3; i++) a.send(frameOf(i));
  const chunks = [(await withTimeout(reader.read(), 20_000, "chunk 1")).value!];
  for (let i = 3; i < 6; i++) a.send(frameOf(i));
  chunks.push((await withTimeout(reader.read(), 20_000, "chunk 2")).value!);
  const decoder = new FrameDecoder();
  const ids = chunks.flatMap((chunk) => decoder.push(chunk).map((f) => idOf(f)));
  a.close();
  await a.closed;
  await reader.cancel();
  assertEquals(ids, [0, 1, 2, 3, 4, 5], "the first chunk was overwritten by the second batch");
});

Deno.test("channelFromStreams: reads split a chunk and keep the leftover", async () => {
  const input = new TransformStream<Uint8Array, Uint8Array>();
  const output = new TransformStream<Uint8Array, Uint8Array>();
  const channel = channelFromStreams(input.readable, output.writable);
  const writer = input.writable.getWriter();
  writer.write(new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
  writer.write(new Uint8Array([8, 9]));
  writer.close();

  const p = new Uint8Array(3);
  assertEquals(await channel.read(p), 3);
  assertEquals(p, new Uint8Array([1, 2, 3]));
  assertEquals(await channel.read(p), 3);
  assertEquals(p, new Uint8Array([4, 5, 6]));
  // The rest of the first chunk only, not joined with the next.
  assertEquals(await channel.read(p), 1);
  assertEquals(p[0], 7);
  assertEquals(await channel.read(p), 2);
  assertEquals(p.subarray(0, 2), new Uint8Array([8, 9]));
  assertEquals(await channel.read(p), null);

  // Writes reach the writable side whole.
  const reader = output.readable.getReader();
  const chunk = reader.read();
  assertEquals(await channel.write(new Uint8Array([42, 43])), 2);
  assertEquals((await chunk).value, new Uint8Array([42, 43]));
  channel.close();
  assertEquals((await reader.read()).done, true);
});

Deno.test("channelFromStreams: frames joined in one chunk and split over chunks", async () => {
  const input = new TransformStream<Uint8Array, Uint8Array>();
  const output = new TransformStream<Uint8Array, Uint8Array>();
  const inbox = new Inbox();
  const transport = new FrameTransport(
    channelFromStreams(input.readable, output.writable),
    inbox.onFrame,
  );
  const writer = input.writable.getWriter();
  // Three frames in one chunk, then one frame split over three chunks.
  writer.write(
    new Uint8Array([
      ...encodeFrame(frameOf(1)),
      ...encodeFrame(frameOf(2)),
      ...encodeFrame(frameOf(3)),
    ]),
  );
  const split = encodeFrame(frameOf(4, 3));
  writer.write(split.subarray(0, 3));
  writer.write(split.subarray(3, 20));
  writer.write(split.subarray(20));
  await inbox.wait(4);
  assertEquals(inbox.frames.slice(0, 3).map((f) => idOf(f)), [1, 2, 3]);
  assertEquals(idOf(inbox.frames[3], 3), 4);
  // EOF on the readable closes the transport cleanly.
  writer.close();
  assertEquals(await withTimeout(transport.closed, 20_000, "closed"), undefined);
  assert(transport.isClosed);
});
