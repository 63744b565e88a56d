/**
 * The raw baselines, no Cap'n Proto: a UNIX-socket echo server.
 *
 * - `raw_echo.ts <path>`: echoes every byte back as it arrives.
 * - `raw_echo.ts <path> --frames`: reads each whole message in the stream
 *   framing our RPC messages use (segment table, then the segments) and
 *   writes it back in one write, as a server answers a call only once it
 *   has all of it.
 *
 * Prints READY once listening.
 *
 * @module
 */

/** Reads exactly `into.byteLength` bytes; false at end of stream. */
async function readFull(conn: Deno.Conn, into: Uint8Array): Promise<boolean> {
  let got = 0;
  while (got < into.byteLength) {
    const n = await conn.read(into.subarray(got)).catch(() => null);
    if (n === null) return false;
    got += n;
  }
  return true;
}

/** Echoes bytes as they come. */
async function echoBytes(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    await conn.write(buf.subarray(0, n));
  }
}

/** Echoes whole framed messages, each once it has fully arrived. */
async function echoFrames(conn: Deno.Conn): Promise<void> {
  let buf = new Uint8Array(64 * 1024);
  for (;;) {
    if (!await readFull(conn, buf.subarray(0, 4))) break;
    const view = new DataView(buf.buffer);
    const count = view.getUint32(0, true) + 1;
    const header = (4 + 4 * count + 7) & ~7;
    if (!await readFull(conn, buf.subarray(4, header))) break;
    let total = header;
    for (let i = 0; i < count; i++) {
      total += new DataView(buf.buffer).getUint32(4 + 4 * i, true) * 8;
    }
    if (total > buf.byteLength) {
      const grown = new Uint8Array(total);
      grown.set(buf.subarray(0, header));
      buf = grown;
    }
    if (!await readFull(conn, buf.subarray(header, total))) break;
    let at = 0;
    while (at < total) at += await conn.write(buf.subarray(at, total));
  }
}

if (import.meta.main) {
  const [path, mode] = Deno.args;
  try {
    Deno.removeSync(path);
  } catch { /* no stale socket */ }
  const listener = Deno.listen({ transport: "unix", path });
  console.log("READY");
  for await (const conn of listener) {
    (mode === "--frames" ? echoFrames(conn) : echoBytes(conn))
      .catch(() => {}) // the client went away mid-write
      .finally(() => conn.close());
  }
}
