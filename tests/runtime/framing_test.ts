/**
 * Unit tests of the stream framing: encodeFrame and FrameDecoder.
 */
import { assert, assertEquals, assertThrows } from "../assert.ts";
import {
  DEFAULT_FRAME_LIMITS,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FramingError,
} from "../../runtime/framing.ts";

const MiB = 1024 * 1024;

/** A segment of `words` words whose bytes follow a pattern seeded by `seed`. */
function segment(words: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(words * 8);
  for (let i = 0; i < bytes.byteLength; i++) bytes[i] = (i * 31 + seed * 7 + 1) & 0xff;
  return bytes;
}

/** A raw header declaring `sizes` (in words), padded to 8 bytes. */
function header(sizes: number[]): Uint8Array {
  const bytes = new Uint8Array((4 + 4 * sizes.length + 7) & ~7);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, sizes.length - 1, true);
  sizes.forEach((size, i) => view.setUint32(4 + 4 * i, size, true));
  return bytes;
}

function assertFrame(frame: Frame, expected: Uint8Array[]): void {
  assertEquals(frame.length, expected.length, "segment count");
  frame.forEach((segment, i) => {
    assert(segment instanceof ArrayBuffer, `segment ${i} is an ArrayBuffer`);
    assertEquals(new Uint8Array(segment), expected[i], `segment ${i} bytes`);
  });
}

Deno.test("encodeFrame: header layout for one and several segments", () => {
  const one = encodeFrame([segment(2)]);
  assertEquals(one.byteLength, 8 + 16);
  const view1 = new DataView(one.buffer);
  assertEquals(view1.getUint32(0, true), 0);
  assertEquals(view1.getUint32(4, true), 2);
  assertEquals(one.subarray(8), segment(2));

  // Two segments: 4 + 8 = 12 bytes of header, padded to 16.
  const two = encodeFrame([segment(1, 1), segment(3, 2)]);
  assertEquals(two.byteLength, 16 + 8 + 24);
  const view2 = new DataView(two.buffer);
  assertEquals(view2.getUint32(0, true), 1);
  assertEquals(view2.getUint32(4, true), 1);
  assertEquals(view2.getUint32(8, true), 3);
  assertEquals(view2.getUint32(12, true), 0, "padding is zero");
  assertEquals(two.subarray(16, 24), segment(1, 1));
  assertEquals(two.subarray(24), segment(3, 2));

  // Three segments: 4 + 12 = 16 bytes, no padding.
  const three = encodeFrame([segment(1), segment(1), segment(1)]);
  assertEquals(three.byteLength, 16 + 24);
});

Deno.test("encodeFrame: a segment that is not a whole number of words is padded with zeros", () => {
  const odd = new Uint8Array(13).fill(0xee);
  const bytes = encodeFrame([odd, new Uint8Array(8).fill(1)]);
  const view = new DataView(bytes.buffer);
  assertEquals([view.getUint32(4, true), view.getUint32(8, true)], [2, 1], "13 bytes take 2 words");
  assertEquals(bytes.byteLength, 16 + 16 + 8);
  assertEquals([...bytes.subarray(16, 32)], [...odd, 0, 0, 0]);
  const [frame] = new FrameDecoder().push(bytes);
  assertEquals(frame.map((s) => s.byteLength), [16, 8]);
});

Deno.test("FrameDecoder: single-segment round trip", () => {
  const seg = segment(5, 3);
  const frames = new FrameDecoder().push(encodeFrame([seg]));
  assertEquals(frames.length, 1);
  assertFrame(frames[0], [seg]);
});

Deno.test("FrameDecoder: multi-segment round trips (2 to 9 segments)", () => {
  for (let count = 2; count <= 9; count++) {
    const segs = Array.from({ length: count }, (_, i) => segment(i + 1, i));
    const frames = new FrameDecoder().push(encodeFrame(segs));
    assertEquals(frames.length, 1, `${count} segments`);
    assertFrame(frames[0], segs);
  }
});

Deno.test("FrameDecoder: byte-at-a-time feeding", () => {
  const messages = [
    [segment(1, 1)],
    [segment(2, 2), segment(1, 3)],
    [segment(1, 4), segment(0), segment(3, 5), segment(2, 6)],
  ];
  const bytes = new Uint8Array(
    messages.flatMap((m) => [...encodeFrame(m)]),
  );
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  const completedAt: number[] = [];
  for (let i = 0; i < bytes.byteLength; i++) {
    const got = decoder.push(bytes.subarray(i, i + 1));
    if (got.length > 0) completedAt.push(i);
    frames.push(...got);
  }
  assertEquals(frames.length, 3);
  messages.forEach((m, i) => assertFrame(frames[i], m));
  // Each frame completes exactly on its last byte.
  let end = -1;
  const expectedEnds = messages.map((m) => (end += encodeFrame(m).byteLength));
  assertEquals(completedAt, expectedEnds);
});

Deno.test("FrameDecoder: many frames in one chunk, and a chunk split mid-frame", () => {
  const messages = Array.from(
    { length: 200 },
    (_, i) => Array.from({ length: 1 + (i % 4) }, (_, s) => segment(s + (i % 3), i + s)),
  );
  const parts = messages.map((m) => encodeFrame(m));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  const frames = new FrameDecoder().push(all);
  assertEquals(frames.length, 200);
  messages.forEach((m, i) => assertFrame(frames[i], m));

  // Same stream in uneven chunks (prime sizes cut headers and segments).
  const decoder = new FrameDecoder();
  const chunked: Frame[] = [];
  for (let i = 0, size = 7; i < all.byteLength; i += size, size = size === 7 ? 1013 : 7) {
    chunked.push(...decoder.push(all.subarray(i, i + size)));
  }
  assertEquals(chunked.length, 200);
  messages.forEach((m, i) => assertFrame(chunked[i], m));
});

Deno.test("FrameDecoder: readTarget/commit receives a 3 MiB segment in place, in a few steps", () => {
  const big = segment(3 * 1024 * 1024 / 8, 9);
  const small = segment(1, 10);
  const bytes = encodeFrame([small, big]);
  const decoder = new FrameDecoder();
  const out: Frame[] = [];
  const targets: { buffer: ArrayBufferLike; length: number }[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    const target = decoder.readTarget();
    assert(target.byteLength > 0, "readTarget is never empty");
    // Like a socket read: at most 100 000 bytes per read.
    const n = Math.min(target.byteLength, bytes.byteLength - at, 100_000);
    target.set(bytes.subarray(at, at + n));
    targets.push({ buffer: target.buffer, length: n });
    at += n;
    decoder.commit(n, out);
    if (at < bytes.byteLength) assertEquals(out.length, 0, "no frame before the last byte");
  }
  assertEquals(out.length, 1);
  assertFrame(out[0], [small, big]);
  // Everything past the first staging read went straight into the segment's buffers,
  // of which there were few: it grows by doubling from 1 MiB.
  const staging = targets[0].buffer;
  const inPlace = targets.filter((t) => t.buffer !== staging).reduce((n, t) => n + t.length, 0);
  assert(
    inPlace >= big.byteLength - 64 * 1024,
    `only ${inPlace} of ${big.byteLength} bytes were read in place`,
  );
  const buffers = new Set(targets.map((t) => t.buffer).filter((b) => b !== staging));
  assert(buffers.size <= 3, `${buffers.size} buffers for the segment`);
  assert(buffers.has(out[0][1]), "the last one is the segment");
  // The staging buffer never grew to hold the segment.
  assertEquals(staging.byteLength, 16 * 1024, "staging buffer stayed at 16 KiB");
});

Deno.test("FrameDecoder: what follows a large segment reuses the staging space its start was read into", () => {
  const decoder = new FrameDecoder();
  const staging = decoder.readTarget().buffer;
  const small = segment(1, 1);
  const large = segment(40_000 / 8, 2);
  const bytes = encodeFrame([small, large]);
  const out: Frame[] = [];
  for (let at = 0; at < bytes.byteLength;) {
    const target = decoder.readTarget();
    const n = Math.min(target.byteLength, bytes.byteLength - at);
    target.set(bytes.subarray(at, at + n));
    at += n;
    decoder.commit(n, out);
  }
  assertEquals(out.length, 1);
  assertFrame(out[0], [small, large]);
  // The first read filled the staging buffer; the large segment's bytes in
  // it were copied out, so the next frame is read into the same buffer.
  const next = decoder.readTarget();
  assert(next.buffer === staging, "no new staging buffer after a large segment");
  const after = encodeFrame([segment(2, 3)]);
  next.set(after);
  decoder.commit(after.byteLength, out);
  assertFrame(out[1], [segment(2, 3)]);
  assertFrame(out[0], [small, large]);
});

Deno.test("FrameDecoder: readTarget after a frame resumes with the staging buffer", () => {
  const decoder = new FrameDecoder();
  const out: Frame[] = [];
  for (let round = 0; round < 3; round++) {
    const seg = segment(20_000, round); // 160 000 bytes: goes in place
    const bytes = encodeFrame([seg]);
    let at = 0;
    while (at < bytes.byteLength) {
      const target = decoder.readTarget();
      const n = Math.min(target.byteLength, bytes.byteLength - at);
      target.set(bytes.subarray(at, at + n));
      at += n;
      decoder.commit(n, out);
    }
    assertEquals(out.length, round + 1);
    assertFrame(out[round], [seg]);
  }
});

Deno.test("FrameDecoder: zero-length segments", () => {
  const empty = new Uint8Array(0);
  // A message of one empty segment is just its 8-byte header.
  const onlyEmpty = encodeFrame([empty]);
  assertEquals(onlyEmpty.byteLength, 8);
  const frames = new FrameDecoder().push(onlyEmpty);
  assertEquals(frames.length, 1);
  assertFrame(frames[0], [empty]);

  const mixed = [empty, segment(2, 1), empty, empty, segment(1, 2), empty];
  const bytes = encodeFrame(mixed);
  assertFrame(new FrameDecoder().push(bytes)[0], mixed);
  // And byte by byte, followed by an all-empty frame.
  const decoder = new FrameDecoder();
  const got: Frame[] = [];
  for (const b of [...bytes, ...encodeFrame([empty, empty])]) {
    got.push(...decoder.push(new Uint8Array([b])));
  }
  assertEquals(got.length, 2);
  assertFrame(got[0], mixed);
  assertFrame(got[1], [empty, empty]);
});

Deno.test("FrameDecoder: 512 segments or more is refused from the first 4 header bytes", () => {
  assertEquals(DEFAULT_FRAME_LIMITS.maxSegments, 511, "C++ requires fewer than 512");
  const hostile = header(new Array(512).fill(0));
  const decoder = new FrameDecoder();
  // Three bytes: not enough to know the count yet.
  assertEquals(decoder.push(hostile.subarray(0, 3)), []);
  const error = assertThrows(() => decoder.push(hostile.subarray(3, 4)), FramingError);
  assert(error.message.includes("512 segments; the limit is 511"), error.message);

  // A count of 2^32 (u32 0xffffffff + 1) is refused too, not wrapped.
  const huge = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
  assertThrows(() => new FrameDecoder().push(huge), FramingError);
});

Deno.test("FrameDecoder: exactly 511 segments is accepted", () => {
  const segs = Array.from({ length: 511 }, (_, i) => segment(i % 2, i));
  const frames = new FrameDecoder().push(encodeFrame(segs));
  assertEquals(frames.length, 1);
  assertFrame(frames[0], segs);
});

Deno.test("FrameDecoder: total size over 64 MiB is refused from the header alone", () => {
  const limitWords = DEFAULT_FRAME_LIMITS.maxMessageBytes / 8;
  // One segment one word too large: only the 8 header bytes are fed.
  const decoder = new FrameDecoder();
  const error = assertThrows(() => decoder.push(header([limitWords + 1])), FramingError);
  assert(error.message.includes(`${DEFAULT_FRAME_LIMITS.maxMessageBytes}`), error.message);

  // The sum over segments counts, not each segment alone.
  assertThrows(
    () => new FrameDecoder().push(header([limitWords / 2, limitWords / 2 + 1])),
    FramingError,
  );

  // A header claiming 32 GiB per segment fails as a FramingError, not an
  // allocation failure: nothing is allocated for the body.
  const huge = header(new Array(511).fill(0xffffffff));
  assertThrows(() => new FrameDecoder().push(huge), FramingError);
});

Deno.test("FrameDecoder: a segment of exactly 64 MiB is accepted", () => {
  const limitWords = DEFAULT_FRAME_LIMITS.maxMessageBytes / 8;
  const decoder = new FrameDecoder();
  const out: Frame[] = [];
  // Header first, then the body in place through readTarget.
  assertEquals(decoder.push(header([limitWords])), []);
  let received = 0;
  while (out.length === 0) {
    const target = decoder.readTarget();
    target[0] = 0xab;
    decoder.commit(target.byteLength, out);
    received += target.byteLength;
  }
  assertEquals(received, DEFAULT_FRAME_LIMITS.maxMessageBytes);
  assertEquals(out[0].length, 1);
  assertEquals(out[0][0].byteLength, DEFAULT_FRAME_LIMITS.maxMessageBytes);
  assertEquals(new Uint8Array(out[0][0])[0], 0xab);
});

Deno.test("FrameDecoder: custom limits: over refused from the header, at the limit accepted", () => {
  const limits = { maxSegments: 4, maxMessageBytes: 1024 };

  // Segment count.
  const five = header([0, 0, 0, 0, 0]);
  assertThrows(() => new FrameDecoder(limits).push(five.subarray(0, 4)), FramingError);
  const four = [segment(1), segment(1), segment(1), segment(1)];
  assertFrame(new FrameDecoder(limits).push(encodeFrame(four))[0], four);

  // Total bytes: 1032 declared is refused as soon as the header is complete.
  const decoder = new FrameDecoder(limits);
  const over = header([100, 29]);
  assertEquals(decoder.push(over.subarray(0, over.byteLength - 1)), []);
  const error = assertThrows(
    () => decoder.push(over.subarray(over.byteLength - 1)),
    FramingError,
  );
  assert(error.message.includes("1032") && error.message.includes("1024"), error.message);

  // Exactly 1024 bytes is accepted.
  const atLimit = [segment(100, 1), segment(28, 2)];
  assertFrame(new FrameDecoder(limits).push(encodeFrame(atLimit))[0], atLimit);

  // Partial limits keep the other default.
  const onlyBytes = new FrameDecoder({ maxMessageBytes: 16 });
  assertThrows(() => onlyBytes.push(header([3])), FramingError);
  const segs = Array.from({ length: 511 }, () => new Uint8Array(0));
  assertEquals(new FrameDecoder({ maxMessageBytes: 16 }).push(encodeFrame(segs)).length, 1);
});

Deno.test("FrameDecoder: frames after a long header in a tiny staging window", () => {
  // A 511-segment header (2048 bytes) fed in 5-byte chunks, twice over.
  const segs = Array.from({ length: 511 }, (_, i) => segment(i % 3 === 0 ? 1 : 0, i));
  const bytes = encodeFrame(segs);
  const decoder = new FrameDecoder();
  const out: Frame[] = [];
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < bytes.byteLength; i += 5) {
      out.push(...decoder.push(bytes.subarray(i, i + 5)));
    }
  }
  assertEquals(out.length, 2);
  assertFrame(out[0], segs);
  assertFrame(out[1], segs);
});

Deno.test("FrameDecoder: memory follows the bytes received, not the sizes declared", () => {
  // 511 segments of 128 KiB declared (64 MiB less 128 KiB): one segment at a time is allocated.
  const sizes = new Array(511).fill(16 * 1024);
  const decoder = new FrameDecoder();
  const out: Frame[] = [];
  assertEquals(decoder.push(header(sizes)), []);
  assertEquals(decoder.declaredBytes, 511 * 128 * 1024);
  for (let received = 0; received < 3 * 128 * 1024;) {
    const target = decoder.readTarget();
    assert(target.buffer.byteLength <= 128 * 1024, `a ${target.buffer.byteLength}-byte buffer`);
    const n = Math.min(target.byteLength, 10_000);
    decoder.commit(n, out);
    received += n;
  }
  assertEquals(out.length, 0);

  // One 60 MiB segment: memory stays within twice what arrived plus 1 MiB, until it is whole.
  const big = new FrameDecoder();
  big.push(header([60 * MiB / 8]));
  let received = 0;
  while (out.length === 0) {
    const target = big.readTarget();
    assert(
      target.buffer.byteLength <= 2 * received + MiB,
      `${target.buffer.byteLength} bytes allocated after ${received} received`,
    );
    const n = Math.min(target.byteLength, 100_000);
    target.fill((received >>> 20) & 0xff, 0, n);
    big.commit(n, out);
    received += n;
  }
  const segment = new Uint8Array(out[0][0]);
  assertEquals(segment.byteLength, 60 * MiB);
  assertEquals([segment[0], segment[MiB], segment[60 * MiB - 1]], [0, 1, 59], "content kept");
});

Deno.test("FrameDecoder: a large segment split over many reads arrives intact", () => {
  const big = segment(37_500, 4); // 300 000 bytes
  const small = segment(3, 5);
  const bytes = encodeFrame([small, big, small]);
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  // Prime chunk sizes cut the header, the small segments and the large one anywhere.
  for (let i = 0, size = 13; i < bytes.byteLength; i += size, size = size === 13 ? 70_001 : 13) {
    frames.push(...decoder.push(bytes.subarray(i, i + size)));
  }
  assertEquals(frames.length, 1);
  assertFrame(frames[0], [small, big, small]);
});

Deno.test("FrameDecoder: a deadline per frame, from its first byte, with a size allowance", () => {
  const decoder = new FrameDecoder({ frameTimeoutMs: 1000, minFrameBytesPerSecond: 1024 * 1024 });
  assertEquals(decoder.deadline, null, "no frame in progress");
  const bytes = encodeFrame([segment(4)]);
  const before = performance.now();
  decoder.push(bytes.subarray(0, 3));
  const after = performance.now();
  const partial = decoder.deadline;
  assert(partial !== null && partial >= before + 1000 && partial <= after + 1000, `${partial}`);
  assertEquals(decoder.push(bytes.subarray(3)).length, 1);
  assertEquals(decoder.deadline, null, "the frame is whole");

  // A frame declaring 2 MiB gets 2 s more, counted from its first byte.
  const headerBefore = performance.now();
  decoder.push(header([2 * 1024 * 1024 / 8]));
  const headerAfter = performance.now();
  const declared = decoder.deadline!;
  assert(
    declared >= headerBefore + 3000 && declared <= headerAfter + 3000,
    `the size allowance is added: ${declared - headerBefore}`,
  );
  decoder.push(new Uint8Array(1000));
  assertEquals(decoder.deadline, declared, "progress does not move the deadline");
});

Deno.test("FrameDecoder: the bytes of a delivered frame are never written over", () => {
  const decoder = new FrameDecoder();
  const kept: { view: DataView; offset: number; expected: Uint8Array }[] = [];
  // 3000 frames of 17 to 50 words: many staging buffers' worth, split at odd places.
  const frames = Array.from({ length: 3000 }, (_, i) => segment(17 + i % 34, i));
  const chunks = frames.map((f) => encodeFrame([f]));
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  chunks.reduce((at, c) => (bytes.set(c, at), at + c.byteLength), 0);
  let at = 0;
  let delivered = 0;
  while (at < bytes.byteLength) {
    const target = decoder.readTarget();
    const n = Math.min(target.byteLength, bytes.byteLength - at, 777);
    target.set(bytes.subarray(at, at + n));
    at += n;
    decoder.commitInPlace(n, (frame) => {
      assert(frame.kept, "the decoder keeps what it delivered");
      assertEquals(frame.buffers[0], null, "a small segment is read where it was received");
      kept.push({ view: frame.views[0], offset: frame.offsets[0], expected: frames[delivered++] });
    });
  }
  assertEquals(delivered, frames.length);
  const buffers = new Set(kept.map((k) => k.view.buffer));
  assert(buffers.size > 10, `${buffers.size} staging buffers`);
  for (const { view, offset, expected } of kept) {
    const start = view.byteOffset + offset;
    assertEquals(new Uint8Array(view.buffer, start, expected.byteLength), expected);
  }
});

Deno.test("FrameDecoder: frames after a large segment split at an odd byte stay word-aligned", () => {
  const decoder = new FrameDecoder();
  const big = encodeFrame([segment(2500, 1)]); // 20 000 bytes: received in place
  const after = [segment(2046, 2), segment(3, 3), segment(5, 4)].map((s) => encodeFrame([s]));
  const bytes = [big, ...after];
  const stream = new Uint8Array(bytes.reduce((n, b) => n + b.byteLength, 0));
  bytes.reduce((at, b) => (stream.set(b, at), at + b.byteLength), 0);
  const starts: number[] = [];
  const lengths: number[] = [];
  let at = 0;
  // The first read stops 13 bytes into the large frame, the others at odd places too.
  for (const step of [13, 20_000, 777, 16_000, 5000]) {
    const target = decoder.readTarget();
    const n = Math.min(target.byteLength, stream.byteLength - at, step);
    target.set(stream.subarray(at, at + n));
    at += n;
    decoder.commitInPlace(n, (frame) => {
      starts.push(frame.views[0].byteOffset + frame.offsets[0]);
      lengths.push(frame.lengths[0]);
      assertEquals(frame.views[0].buffer.byteLength % 8, 0, "a buffer of whole words");
    });
  }
  while (at < stream.byteLength) {
    const target = decoder.readTarget();
    const n = Math.min(target.byteLength, stream.byteLength - at);
    target.set(stream.subarray(at, at + n));
    at += n;
    decoder.commitInPlace(n, (frame) => {
      starts.push(frame.views[0].byteOffset + frame.offsets[0]);
      lengths.push(frame.lengths[0]);
    });
  }
  assertEquals(lengths, [20_000, 16_368, 24, 40]);
  for (const start of starts) assertEquals(start % 8, 0, `a segment at ${start}`);
});
