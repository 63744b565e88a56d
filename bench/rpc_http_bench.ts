/**
 * JSON-RPC over HTTP throughput: 8 concurrent keep-alive clients calling
 * `getblockcount`, each in bitcoin-cli's request shape with cookie auth, and
 * as the reference, the same 8 clients doing round trips of the same bytes
 * against a raw TCP echo server. Both servers run in their own process.
 *
 * Prints `BENCH rpc_http_stub_getblockcount_rps <n> req/s`,
 * `BENCH rpc_http_echo_reference_rps <n> req/s` and
 * `RATIO rpc_http_stub_vs_tcp_echo <x>` (the node's own figure,
 * `rpc_getblockcount_rps`, is `node_bench.ts`'s).
 *
 * The server side answers `getblockcount` from a stub method table (the
 * method's Core spec, a constant result); point {@linkcode benchMethods} at
 * the node's real table to measure the node itself.
 *
 * @module
 */
import { RpcServer } from "../components/rpc/server.ts";
import { helpExampleCli, helpExampleRpc } from "../components/rpc/help.ts";
import { defineMethod, type RpcMethod } from "../components/rpc/methods.ts";
import { spawnPeer } from "../tests/helpers.ts";
import { rate, report } from "./measure.ts";

const CLIENTS = 8;
const encoder = new TextEncoder();

/** The methods the benchmarked server serves. */
export function benchMethods(): RpcMethod[] {
  return [
    defineMethod({
      name: "getblockcount",
      category: "blockchain",
      description: "Returns the height of the most-work fully-validated chain.\n" +
        "The genesis block has height 0.\n",
      result: { type: "num", description: "The current block count" },
      examples: helpExampleCli("getblockcount", "") + helpExampleRpc("getblockcount", ""),
      handler: () => 101,
    }),
  ];
}

/** A keep-alive client connection that reads whole HTTP responses. */
export class Client {
  #buf = new Uint8Array(64 * 1024);
  #end = 0;

  constructor(readonly conn: Deno.TcpConn) {}

  async #fill(): Promise<void> {
    const n = await this.conn.read(this.#buf.subarray(this.#end));
    if (n === null) throw new Error("the server closed the connection");
    this.#end += n;
  }

  /** Sends a request and reads its response (head, then Content-Length bytes). */
  async httpCall(request: Uint8Array): Promise<void> {
    await this.conn.write(request);
    let headEnd: number;
    for (;;) {
      headEnd = indexOfBlankLine(this.#buf.subarray(0, this.#end));
      if (headEnd >= 0) break;
      await this.#fill();
    }
    const head = new TextDecoder().decode(this.#buf.subarray(0, headEnd));
    if (!head.startsWith("HTTP/1.1 200 ")) throw new Error(`unexpected response: ${head}`);
    const length = Number(/\r\nContent-Length: (\d+)/.exec(head)![1]);
    const total = headEnd + 4 + length;
    while (this.#end < total) await this.#fill();
    this.#buf.copyWithin(0, total, this.#end);
    this.#end -= total;
  }

  /** Sends bytes and reads the same number back (the echo reference). */
  async echoCall(request: Uint8Array): Promise<void> {
    await this.conn.write(request);
    while (this.#end < request.length) await this.#fill();
    this.#end = 0;
  }
}

/** A keep-alive POST of `body` with the cookie's Basic authorization, as bytes. */
export function keepAliveRequest(cookie: string, body: string): Uint8Array {
  return encoder.encode(
    "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
      `Authorization: Basic ${btoa(cookie)}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
}

function indexOfBlankLine(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

/** Calls per second with `CLIENTS` connections, each used by one loop at a time. */
export async function throughput(
  port: number,
  call: (client: Client) => Promise<void>,
): Promise<number> {
  const idle: Client[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    idle.push(new Client(conn));
  }
  try {
    return await rate(async () => {
      const client = idle.pop()!;
      try {
        await call(client);
      } finally {
        idle.push(client);
      }
    }, CLIENTS);
  } finally {
    for (const client of idle) client.conn.close();
  }
}

async function serveRpc(datadir: string): Promise<void> {
  const server = new RpcServer({ datadir, port: 0, methods: benchMethods() });
  await server.start();
  console.log(`READY ${server.port} ${server.cookiePath}`);
  await server.stopped;
}

async function serveEcho(): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`READY ${listener.addr.port}`);
  for await (const conn of listener) {
    conn.setNoDelay(true);
    (async () => {
      const buf = new Uint8Array(64 * 1024);
      try {
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          let offset = 0;
          while (offset < n) offset += await conn.write(buf.subarray(offset, n));
        }
      } catch { /* the client left */ }
      conn.close();
    })();
  }
}

if (import.meta.main) {
  const [mode, arg] = Deno.args;
  if (mode === "serve-rpc") {
    await serveRpc(arg);
  } else if (mode === "serve-echo") {
    await serveEcho();
  } else {
    const self = new URL(import.meta.url).pathname;
    const datadir = await Deno.makeTempDir({ prefix: "rpc_bench_" });
    try {
      const body = '{"method":"getblockcount","params":[],"id":1,"jsonrpc":"2.0"}\n';
      let rps: number;
      let request: Uint8Array;
      {
        await using server = spawnPeer(Deno.execPath(), ["run", "-A", self, "serve-rpc", datadir]);
        const [, port, cookiePath] = (await server.line(/^READY /)).split(" ");
        const cookie = await Deno.readTextFile(cookiePath);
        request = keepAliveRequest(cookie, body);
        rps = report(
          "rpc_http_stub_getblockcount_rps",
          await throughput(Number(port), (c) => c.httpCall(request)),
          "req/s",
        );
      }
      let echo: number;
      {
        await using server = spawnPeer(Deno.execPath(), ["run", "-A", self, "serve-echo"]);
        const port = Number((await server.line(/^READY /)).split(" ")[1]);
        echo = report(
          "rpc_http_echo_reference_rps",
          await throughput(port, (c) => c.echoCall(request)),
          "req/s",
        );
      }
      console.log(`RATIO rpc_http_stub_vs_tcp_echo ${(rps / echo).toFixed(2)}`);
    } finally {
      await Deno.remove(datadir, { recursive: true });
    }
  }
}
