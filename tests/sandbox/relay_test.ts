/**
 * The relay a launcher puts between a component and a listener it does
 * not own: bytes both ways, a bounded number of connections (the rest
 * closed at once, the relayed ones kept), a target that is gone closing
 * the caller's connection, and disposal ending every connection.
 *
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import { tempDir, waitFor } from "../helpers.ts";
import { MAX_RELAYED_CONNECTIONS, relaySocket } from "../../sandbox/relay.ts";

/** A unix echo server at `path`; closing it ends its connections. */
function echoServer(path: string) {
  const listener = Deno.listen({ transport: "unix", path });
  const conns = new Set<Deno.UnixConn>();
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      conn.readable.pipeTo(conn.writable).catch(() => {}).finally(() => conns.delete(conn));
    }
  })();
  return {
    close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    },
  };
}

/** Writes `text` while reading back as many bytes (both at once: socket buffers are small). */
async function roundTrip(conn: Deno.UnixConn, text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const into = new Uint8Array(bytes.length);
  const reading = (async () => {
    let got = 0;
    while (got < into.length) {
      const n = await conn.read(into.subarray(got));
      if (n === null) throw new Error("closed");
      got += n;
    }
  })();
  let sent = 0;
  while (sent < bytes.length) sent += await conn.write(bytes.subarray(sent));
  await reading;
  return new TextDecoder().decode(into);
}

/** Resolves with null once the peer closes `conn`. */
const closedByPeer = (conn: Deno.UnixConn) => conn.read(new Uint8Array(1));

Deno.test("relay: bytes both ways; past the cap connections are closed and the relayed ones kept", async () => {
  using temp = tempDir();
  const dir = temp.path;
  const target = echoServer(`${dir}/target.sock`);
  {
    await using relay = relaySocket(`${dir}/target.sock`, `${dir}/relay/target.sock`);
    const kept: Deno.UnixConn[] = [];
    for (let i = 0; i < MAX_RELAYED_CONNECTIONS; i++) {
      kept.push(await Deno.connect({ transport: "unix", path: relay.path }));
    }
    assertEquals(await roundTrip(kept[0], "first"), "first");
    await waitFor(() => relay.connections === MAX_RELAYED_CONNECTIONS, 10_000, "all relayed");
    const extra = await Deno.connect({ transport: "unix", path: relay.path });
    assertEquals(await closedByPeer(extra), null);
    extra.close();
    assertEquals(await roundTrip(kept.at(-1)!, "still served"), "still served");
    // A big message goes through whole.
    const big = "x".repeat(1 << 20);
    assertEquals(await roundTrip(kept[1], big), big);
    for (const conn of kept) conn.close();
    await waitFor(() => relay.connections === 0, 10_000, "the relayed connections to end");
  }
  target.close();
});

Deno.test("relay: a target that goes closes its callers; disposal ends every connection", async () => {
  using temp = tempDir();
  const dir = temp.path;
  const target = echoServer(`${dir}/target.sock`);
  const relay = relaySocket(`${dir}/target.sock`, `${dir}/relay/target.sock`);
  const conn = await Deno.connect({ transport: "unix", path: relay.path });
  assertEquals(await roundTrip(conn, "hello"), "hello");
  target.close();
  assertEquals(await closedByPeer(conn), null);
  conn.close();
  // Nothing listens at the target now: a caller is closed at once.
  const refused = await Deno.connect({ transport: "unix", path: relay.path });
  assertEquals(await closedByPeer(refused), null);
  refused.close();
  const again = echoServer(`${dir}/target.sock`);
  const open = await Deno.connect({ transport: "unix", path: relay.path });
  assertEquals(await roundTrip(open, "back"), "back");
  await relay[Symbol.asyncDispose]();
  assertEquals(await closedByPeer(open), null);
  open.close();
  assert(relay.connections === 0);
  again.close();
});
