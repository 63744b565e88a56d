/**
 * A raw ZMTP peer for the ZMQ tests, written byte by byte so that it can
 * misbehave: RFC 23's greeting and `READY`, frames, reading until the
 * end, and a subscriber through the handshake that reads only if its
 * caller does.
 *
 * @module
 */
const encoder = new TextEncoder();

/** Our side of RFC 23's greeting: version 3.0, NULL. */
export function greeting(): Uint8Array {
  const bytes = new Uint8Array(64);
  bytes[0] = 0xff;
  bytes[9] = 0x7f;
  bytes[10] = 3;
  bytes.set(encoder.encode("NULL"), 12);
  return bytes;
}

/** A short frame. */
export function frame(flags: number, body: Uint8Array): Uint8Array {
  return Uint8Array.of(flags, body.length, ...body);
}

/** `READY` with `Socket-Type: type`. */
export function ready(type: string): Uint8Array {
  const name = encoder.encode("Socket-Type");
  const value = encoder.encode(type);
  return frame(
    4,
    Uint8Array.of(
      5,
      ...encoder.encode("READY"),
      name.length,
      ...name,
      0,
      0,
      0,
      value.length,
      ...value,
    ),
  );
}

/** Reads until the peer closes; resolves with the bytes read. */
export async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const chunk = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(chunk).catch(() => null);
    if (n === null) break;
    parts.push(chunk.slice(0, n));
  }
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** A connection read as fast as it comes: the bytes so far, and when it ended. */
export interface ReadCount {
  readonly received: number;
  readonly done: Promise<void>;
}

/** Reads `conn` until it ends, counting the bytes (a subscriber that keeps up). */
export function countReads(conn: Deno.Conn): ReadCount {
  let received = 0;
  const done = (async () => {
    const chunk = new Uint8Array(1 << 20);
    for (;;) {
      const n = await conn.read(chunk).catch(() => null);
      if (n === null) return;
      received += n;
    }
  })();
  return {
    get received() {
      return received;
    },
    done,
  };
}

/** A raw client through the handshake as `type`, subscribed to nothing. */
export async function handshaken(port: number, type = "SUB"): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(greeting());
  await conn.write(ready(type));
  return conn;
}

/** A raw client through the handshake as `type`, subscribed to everything. */
export async function subscribed(port: number, type = "SUB"): Promise<Deno.Conn> {
  const conn = await handshaken(port, type);
  await conn.write(frame(0, Uint8Array.of(1))); // ZMTP 3.0: subscribe to ""
  return conn;
}
