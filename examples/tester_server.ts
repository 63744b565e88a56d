/**
 * Serves one shared Tester (see `examples/tester.ts`) to every connection on
 * a UNIX socket; prints READY once listening.
 *
 * @example
 * ```sh
 * S=/tmp/tester.sock
 * deno run --allow-read=$S --allow-write=$S --allow-net=unix:$S examples/tester_server.ts $S
 * ```
 * @module
 */
import { RpcConnection } from "../runtime/rpc/connection.ts";
import { newTester } from "./tester.ts";

if (import.meta.main) {
  const [path] = Deno.args;
  try {
    Deno.removeSync(path);
  } catch { /* no stale socket */ }
  const listener = Deno.listen({ transport: "unix", path });
  const { tester } = newTester();
  console.log("READY");
  for await (const conn of listener) new RpcConnection(conn, { bootstrap: tester });
}
