/**
 * Serves one shared Tester (see `examples/tester.ts`).
 *
 * - `<socket path>`: to every connection on a UNIX socket; prints READY once listening.
 *   Failed accepts (out of descriptors, say) are reported on stderr and retried.
 * - `--stdio`: to the parent over stdin/stdout (needs no permissions).
 * - `--fd <n>`: to the parent over an inherited socket descriptor (needs no permissions).
 *
 * @example
 * ```sh
 * S=/tmp/tester.sock
 * deno run --allow-read=$S --allow-write=$S --allow-net=unix:$S examples/tester_server.ts $S
 * ```
 * @module
 */
import { Duplex } from "node:stream";
import { Socket } from "node:net";
import { acceptConnections, channelFromStreams, RpcConnection } from "../engine.ts";
import { newTester } from "./tester.ts";

if (import.meta.main) {
  const { tester } = newTester();
  const [mode, arg] = Deno.args;
  if (mode === "--stdio") {
    const rpc = new RpcConnection(channelFromStreams(Deno.stdin.readable, Deno.stdout.writable), {
      bootstrap: tester,
    });
    await rpc.closed;
  } else if (mode === "--fd") {
    const { readable, writable } = Duplex.toWeb(new Socket({ fd: Number(arg) }));
    const rpc = new RpcConnection(
      channelFromStreams(
        readable as ReadableStream<Uint8Array>,
        writable as WritableStream<Uint8Array>,
      ),
      { bootstrap: tester },
    );
    await rpc.closed;
    Deno.exit(0);
  } else {
    try {
      Deno.removeSync(mode);
    } catch { /* no stale socket */ }
    const listener = Deno.listen({ transport: "unix", path: mode });
    console.log("READY");
    const onError = (error: Error) => console.error(`accept failed: ${error.message}; retrying`);
    for await (const conn of acceptConnections(listener, { onError })) {
      new RpcConnection(conn, { bootstrap: tester });
    }
  }
}
