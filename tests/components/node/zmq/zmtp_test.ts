/**
 * The ZMTP publisher against peers that are not well-behaved subscribers,
 * over real TCP: a peer that is not ZMTP, a socket type that may not
 * subscribe, an oversized frame, silence during the handshake, one
 * connection too many, handshakes left unfinished (the oldest gives way),
 * a subscriber that never reads (its queue stays within its high-water
 * mark while others get every message; stuck in the middle of a message,
 * it is closed when the publisher's bytes are needed for a reader), and a
 * file in the way of a UNIX socket. Libzmq's own subscribers are in
 * `zmq_test.ts`.
 *
 * @module
 */
import { ZmtpPublisher } from "../../../../components/node/zmq/zmtp.ts";
import { assert, assertEquals, assertThrows } from "../../../assert.ts";
import { tempSocket, waitFor } from "../../../helpers.ts";
import { countReads, frame, greeting, handshaken, readAll, subscribed } from "./zmtp_peer.ts";

const encoder = new TextEncoder();

Deno.test("zmtp: a peer that is not ZMTP, a PUSH socket, an oversized frame and a silent peer are dropped, each logged", async () => {
  const logged: string[] = [];
  await using publisher = ZmtpPublisher.bind({ hostname: "127.0.0.1", port: 0 }, {
    hwm: 10,
    log: (line) => logged.push(line),
  });
  const { port } = publisher;
  const http = await Deno.connect({ hostname: "127.0.0.1", port });
  await http.write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n".padEnd(64, " ")));
  await readAll(http);
  http.close();
  const push = await subscribed(port, "PUSH");
  await readAll(push);
  push.close();
  const big = await subscribed(port);
  await big.write(Uint8Array.of(2, 0, 0, 0, 0, 0, 1, 0, 0)); // a 65,536-byte frame announced
  await readAll(big);
  big.close();
  await waitFor(() => logged.length === 3, 5_000, "three lines");
  // A peer that says nothing is closed once its time to finish the handshake is up.
  {
    await using quick = ZmtpPublisher.bind({ hostname: "127.0.0.1", port: 0 }, {
      hwm: 10,
      log: (line) => logged.push(line),
      handshakeMs: 200,
    });
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: quick.port });
    await readAll(silent);
    silent.close();
    await waitFor(() => logged.length === 4, 5_000, "the silent peer's line");
  }
  assert(logged[0].includes("not a ZMTP peer"), logged[0]);
  assert(logged[1].includes("a PUSH socket cannot subscribe to a PUB socket"), logged[1]);
  assert(logged[2].includes("a frame of 65536 bytes"), logged[2]);
  assert(logged[3].includes("subscriber dropped"), logged[3]);
  assertEquals(publisher.subscribers, 0);
});

Deno.test("zmtp: one connection past the bound is closed at once; a subscriber that never reads keeps at most its high-water mark queued", async () => {
  const logged: string[] = [];
  await using publisher = ZmtpPublisher.bind({ hostname: "127.0.0.1", port: 0 }, {
    hwm: 3,
    maxSubscribers: 2,
    log: (line) => logged.push(line),
  });
  const { port } = publisher;
  const stalled = await subscribed(port);
  const reader = await subscribed(port);
  // The bound counts subscribers past the handshake; both subscribed to everything (the
  // subscription is read after the handshake), neither lost a message: none gives way.
  await waitFor(() => publisher.subscribers === 2, 5_000, "two subscribers");
  await waitFor(() => publisher.subscriptions === 2, 5_000, "two subscriptions");
  const refused = await Deno.connect({ hostname: "127.0.0.1", port });
  assertEquals((await readAll(refused)).length, 0);
  refused.close();
  assert(logged.some((line) => line.includes("2 are connected")), logged.join("\n"));
  // The reader reads everything; the stalled one reads nothing (its socket buffers fill).
  const topic = encoder.encode("rawblock");
  const payload = new Uint8Array(128 * 1024);
  const reading = countReads(reader);
  // The publisher's greeting (64 bytes) and READY (27) first.
  await waitFor(() => reading.received === 91, 5_000, "the handshake");
  const perMessage = (2 + topic.length) + (9 + payload.length) + (2 + 4);
  for (let i = 1; i <= 200; i++) {
    publisher.publish([topic, payload, Uint8Array.of(i, 0, 0, 0)]);
    assert(publisher.queued <= 3 + 1, `${publisher.queued} queued`);
    // Paced by the reader, which so never reaches its mark: it gets every message whole.
    await waitFor(() => reading.received === 91 + i * perMessage, 10_000, `message ${i}`);
  }
  // The stalled one holds its mark, no more: 25.6 MB were published past it, more than its socket buffers hold.
  assertEquals(publisher.queued, 3);
  stalled.close();
  reader.close();
  await reading.done;
});

/** The complete frames of a ZMTP stream after the greeting: their flags and bodies. */
function complete(bytes: Uint8Array): { flags: number; body: Uint8Array }[] {
  const frames: { flags: number; body: Uint8Array }[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 64; at + 2 <= bytes.length;) {
    const flags = bytes[at];
    const long = (flags & 2) !== 0;
    if (long && at + 9 > bytes.length) break;
    const size = long ? Number(view.getBigUint64(at + 1)) : bytes[at + 1];
    const start = at + (long ? 9 : 2);
    if (start + size > bytes.length) break;
    frames.push({ flags, body: bytes.subarray(start, start + size) });
    at = start + size;
  }
  return frames;
}

/**
 * The whole messages and the PONGs' contexts among `frames` (the first,
 * the publisher's READY, left out); fails on a command inside a message.
 */
function check(frames: { flags: number; body: Uint8Array }[]) {
  let inMessage = false;
  let messages = 0;
  const contexts: string[] = [];
  for (const { flags, body } of frames.slice(1)) {
    if ((flags & 4) !== 0) {
      assert(!inMessage, "a command inside a multipart message");
      assertEquals(new TextDecoder().decode(body.subarray(1, 5)), "PONG");
      contexts.push(new TextDecoder().decode(body.subarray(5)));
      continue;
    }
    inMessage = (flags & 1) !== 0;
    if (!inMessage) messages++;
  }
  return { messages, contexts };
}

Deno.test("zmtp: a PONG goes between two messages, never inside one, however large the messages in flight", async () => {
  await using publisher = ZmtpPublisher.bind({ hostname: "127.0.0.1", port: 0 }, { hwm: 1000 });
  const conn = await subscribed(publisher.port);
  await waitFor(() => publisher.subscriptions === 1, 5_000, "the subscription");
  const payload = new Uint8Array(512 * 1024).fill(7);
  for (let i = 0; i < 20; i++) {
    publisher.publish([encoder.encode("rawblock"), payload, Uint8Array.of(i, 0, 0, 0)]);
  }
  // PINGs (TTL 0, context "ctx<i>") while those are being written.
  for (let i = 0; i < 5; i++) {
    await conn.write(
      frame(4, Uint8Array.of(4, ...encoder.encode("PING"), 0, 0, ...encoder.encode(`ctx${i}`))),
    );
  }
  // Read until all 20 messages are in, then one more PING ("end"), whose PONG closes the stream.
  let bytes = new Uint8Array(0);
  const chunk = new Uint8Array(1 << 20);
  let messages = 0;
  let contexts: string[] = [];
  let sentEnd = false;
  while (!contexts.includes("end")) {
    const n = await conn.read(chunk);
    assert(n !== null, "the publisher closed the connection");
    const grown = new Uint8Array(bytes.length + n);
    grown.set(bytes);
    grown.set(chunk.subarray(0, n), bytes.length);
    bytes = grown;
    ({ messages, contexts } = check(complete(bytes)));
    if (messages === 20 && !sentEnd) {
      sentEnd = true;
      await conn.write(
        frame(4, Uint8Array.of(4, ...encoder.encode("PING"), 0, 0, ...encoder.encode("end"))),
      );
    }
  }
  conn.close();
  assertEquals(messages, 20);
  // Some of the five early PINGs may share a PONG (one waits at most): each answered is whole.
  const early = contexts.filter((c) => c !== "end");
  assert(early.length >= 1 && early.every((c) => /^ctx[0-4]$/.test(c)), contexts.join());
});

Deno.test("zmtp: on a UNIX socket path, a file that is not a socket is left alone and the bind fails", () => {
  using socket = tempSocket("zmq");
  Deno.writeTextFileSync(socket.path, "not a socket");
  assertThrows(() => ZmtpPublisher.bind({ path: socket.path }, { hwm: 10 }), Deno.errors.AddrInUse);
  assertEquals(Deno.readTextFileSync(socket.path), "not a socket");
});

Deno.test("zmtp: unfinished handshakes are bounded apart from subscribers: a new connection closes the oldest", async () => {
  const logged: string[] = [];
  await using publisher = ZmtpPublisher.bind({ hostname: "127.0.0.1", port: 0 }, {
    hwm: 10,
    maxSubscribers: 1,
    maxHandshakes: 2,
    handshakeMs: 3_600_000,
    log: (line) => logged.push(line),
  });
  const { port } = publisher;
  const first = await Deno.connect({ hostname: "127.0.0.1", port });
  const second = await Deno.connect({ hostname: "127.0.0.1", port });
  await second.write(greeting()); // halfway: no READY
  // A third in progress: the first, the oldest, gives way (it got the greeting, then the end).
  const third = await Deno.connect({ hostname: "127.0.0.1", port });
  assertEquals((await readAll(first)).length, 64);
  assert(logged.some((line) => line.includes("2 are in progress")), logged.join("\n"));
  // A subscriber still gets in, closing the second; then the bound on subscribers holds.
  const reader = await subscribed(port);
  await waitFor(() => publisher.subscribers === 1, 5_000, "the subscriber");
  assertEquals((await readAll(second)).length, 64 + 27); // its greeting answered: READY too
  // Subscribed, it does not give way (a peer subscribed to nothing would).
  await waitFor(() => publisher.subscriptions === 1, 5_000, "its subscription");
  const refused = await Deno.connect({ hostname: "127.0.0.1", port });
  assertEquals((await readAll(refused)).length, 0);
  for (const conn of [first, second, third, reader, refused]) conn.close();
});

Deno.test("zmtp: a subscriber that stops reading in the middle of a message is closed when the publisher's bytes are needed for one that reads", async () => {
  const logged: string[] = [];
  const payload = new Uint8Array(200 * 1024);
  const topic = encoder.encode("rawblock");
  const perMessage = (2 + topic.length) + (9 + payload.length) + (2 + 4);
  // Room for one message in all: a message stuck half-written leaves none for the reader.
  await using publisher = ZmtpPublisher.bind({ hostname: "127.0.0.1", port: 0 }, {
    hwm: 1000,
    maxPublisherBytes: perMessage,
    log: (line) => logged.push(line),
  });
  const { port } = publisher;
  const stalled = await subscribed(port);
  const reader = await subscribed(port);
  await waitFor(() => publisher.subscriptions === 2, 5_000, "two subscriptions");
  const reading = countReads(reader);
  await waitFor(() => reading.received === 91, 5_000, "the handshake");
  // 200 messages (40 MB), each once the reader has the one before: the stalled peer's socket
  // buffers fill, a message of its stays half-written, and it must go for the reader's next.
  for (let i = 1; i <= 200; i++) {
    publisher.publish([topic, payload, Uint8Array.of(i, 0, 0, 0)]);
    assert(publisher.queuedBytes <= perMessage, `${publisher.queuedBytes} bytes queued`);
    await waitFor(() => reading.received === 91 + i * perMessage, 10_000, `message ${i}`);
  }
  assert(
    logged.some((line) => line.includes("closing a subscriber that stopped reading")),
    logged.join("\n"),
  );
  await waitFor(() => publisher.subscribers === 1, 5_000, "the stalled peer gone");
  stalled.close();
  reader.close();
  await reading.done;
});

Deno.test("zmtp: with every place taken, a new subscriber takes that of the oldest peer subscribed to nothing", async () => {
  const logged: string[] = [];
  await using publisher = ZmtpPublisher.bind({ hostname: "127.0.0.1", port: 0 }, {
    hwm: 10,
    maxSubscribers: 2,
    log: (line) => logged.push(line),
  });
  const { port } = publisher;
  // Two peers through the handshake that never subscribe (libzmq would keep them, sending
  // nothing), the older one first.
  const older = await handshaken(port);
  await waitFor(() => publisher.subscribers === 1, 5_000, "the older peer");
  const newer = await handshaken(port);
  await waitFor(() => publisher.subscribers === 2, 5_000, "both peers");
  const reader = await subscribed(port);
  // The older one goes (the publisher's greeting and READY, then the end); the reader is in.
  assertEquals((await readAll(older)).length, 91);
  await waitFor(() => publisher.subscriptions === 1, 5_000, "the reader's subscription");
  assertEquals(publisher.subscribers, 2);
  assert(
    logged.some((line) => line.includes("closing a subscriber that is subscribed to nothing")),
    logged.join("\n"),
  );
  const reading = countReads(reader);
  publisher.publish([encoder.encode("hashtx"), Uint8Array.of(7), Uint8Array.of(0, 0, 0, 0)]);
  const message = (2 + 6) + (2 + 1) + (2 + 4);
  await waitFor(() => reading.received === 91 + message, 5_000, "the message");
  // Now the place of the newer one, still subscribed to nothing, goes to the next.
  const next = await subscribed(port);
  assertEquals((await readAll(newer)).length, 91);
  for (const conn of [older, newer, reader, next]) conn.close();
  await reading.done;
});

Deno.test("zmtp: with every place taken, a peer subscribed to nothing gives way before one that loses messages, and that one before a reader", async () => {
  const logged: string[] = [];
  await using publisher = ZmtpPublisher.bind({ hostname: "127.0.0.1", port: 0 }, {
    hwm: 1,
    maxSubscribers: 3,
    log: (line) => logged.push(line),
  });
  const { port } = publisher;
  const lossy = await subscribed(port);
  const reader = await subscribed(port);
  const reading = countReads(reader);
  await waitFor(() => publisher.subscriptions === 2, 5_000, "two subscriptions");
  const idle = await handshaken(port);
  await waitFor(() => publisher.subscribers === 3, 5_000, "three peers");
  // 200 messages (25 MB), each once the reader has the one before: the peer that never reads
  // loses messages past its mark of one once its socket buffers are full; the reader none.
  const topic = encoder.encode("rawblock");
  const payload = new Uint8Array(128 * 1024);
  const perMessage = (2 + topic.length) + (9 + payload.length) + (2 + 4);
  for (let i = 1; i <= 200; i++) {
    publisher.publish([topic, payload, Uint8Array.of(i, 0, 0, 0)]);
    await waitFor(() => reading.received === 91 + i * perMessage, 10_000, `message ${i}`);
  }
  // The first newcomer takes the idle peer's place, the second the lossy one's.
  const first = await subscribed(port);
  assertEquals((await readAll(idle)).length, 91);
  await waitFor(() => publisher.subscriptions === 3, 5_000, "the first newcomer's subscription");
  const second = await subscribed(port);
  await waitFor(
    () => logged.some((line) => /closing a subscriber that lost \d+ messages/.test(line)),
    5_000,
    "the lossy peer closed",
  );
  await waitFor(() => publisher.subscriptions === 3, 5_000, "the second newcomer's subscription");
  assert(
    logged.some((line) => line.includes("closing a subscriber that is subscribed to nothing")),
    logged.join("\n"),
  );
  assertEquals(publisher.subscribers, 3);
  // The reader kept its place.
  publisher.publish([topic, payload, Uint8Array.of(0, 1, 0, 0)]);
  await waitFor(() => reading.received === 91 + 201 * perMessage, 10_000, "one more message");
  for (const conn of [lossy, reader, idle, first, second]) conn.close();
  await reading.done;
});
