/**
 * A relay from a socket the sandbox owns to a listener it does not: a
 * launcher attaching a component to a node started elsewhere cannot give
 * the component's user that node's socket (under root it is another user's
 * file, mode 0600), so it listens on a socket of its own, laid out as a
 * component's listening socket is (`sockets.ts`), and copies bytes both
 * ways between each connection and a connection it makes to the target.
 * Both directions wait for the other side to read (streams with
 * backpressure): a peer that does not read holds no more than a chunk.
 *
 * @example
 * ```ts
 * import { relaySocket } from "./relay.ts";
 * const dir = await Deno.makeTempDir();
 * const target = Deno.listen({ transport: "unix", path: `${dir}/target.sock` });
 * // The target answers every connection with "hi".
 * (async () => {
 *   for await (const conn of target) await conn.write(new TextEncoder().encode("hi")).then(() => conn.close());
 * })();
 * {
 *   await using relay = relaySocket(`${dir}/target.sock`, `${dir}/relay/target.sock`);
 *   const conn = await Deno.connect({ transport: "unix", path: relay.path });
 *   const text = await new Response(conn.readable).text();
 *   if (text !== "hi") throw new Error(text);
 * }
 * target.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */
import { dirname } from "node:path";
import { lockListenSocket, prepareListenDirectory } from "./sockets.ts";

/** Connections one relay carries at once; more are closed as they come. */
export const MAX_RELAYED_CONNECTIONS = 64;

/** A running relay. */
export interface Relay extends AsyncDisposable {
  /** The socket it listens on. */
  readonly path: string;
  /** Connections carried now. */
  readonly connections: number;
}

/**
 * Listens on `path` (its directory made for it and locked as a listener's:
 * under root both root's, the socket 0666, reached through connector
 * links) and relays each connection to the unix socket `target`. Disposing
 * it stops listening and ends every relayed connection.
 */
export function relaySocket(target: string, path: string): Relay {
  prepareListenDirectory(path);
  const listener = Deno.listen({ transport: "unix", path });
  lockListenSocket(path, Deno.uid() === 0);
  /** Every connection of either side, to end them all on disposal. */
  const open = new Set<Deno.UnixConn>();
  let carried = 0;
  const carry = async (inbound: Deno.UnixConn) => {
    let outbound: Deno.UnixConn | undefined;
    try {
      outbound = await Deno.connect({ transport: "unix", path: target });
      open.add(outbound);
      const to = outbound;
      // Each direction ends the other: a half-closed relay would hold both.
      await Promise.race([
        inbound.readable.pipeTo(to.writable, { preventClose: true }),
        to.readable.pipeTo(inbound.writable, { preventClose: true }),
      ]);
    } catch {
      /* the target is gone or a side closed: end both */
    } finally {
      carried--;
      for (const conn of [inbound, outbound]) {
        if (conn === undefined) continue;
        open.delete(conn);
        try {
          conn.close();
        } catch { /* closed already */ }
      }
    }
  };
  const accepting = (async () => {
    for (;;) {
      let conn: Deno.UnixConn;
      try {
        conn = await listener.accept();
      } catch {
        return; // closed
      }
      if (carried >= MAX_RELAYED_CONNECTIONS) {
        conn.close();
        continue;
      }
      carried++;
      open.add(conn);
      void carry(conn);
    }
  })();
  return {
    path,
    get connections() {
      return carried;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed already */ }
      }
      open.clear();
      // Unlocked, the socket gone (closing the listener may have removed it).
      try {
        Deno.chmodSync(dirname(path), 0o700);
        Deno.removeSync(path);
      } catch { /* removed with the listener, or the directory with it */ }
    },
  };
}
