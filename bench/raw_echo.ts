/**
 * The raw baseline: echoes every byte back on a UNIX socket, no Cap'n Proto.
 * Prints READY once listening.
 *
 * @module
 */
if (import.meta.main) {
  const [path] = Deno.args;
  try {
    Deno.removeSync(path);
  } catch { /* no stale socket */ }
  const listener = Deno.listen({ transport: "unix", path });
  console.log("READY");
  for await (const conn of listener) {
    (async () => {
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) break;
        await conn.write(buf.subarray(0, n));
      }
      conn.close();
    })();
  }
}
