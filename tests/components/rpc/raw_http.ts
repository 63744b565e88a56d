/**
 * A raw HTTP/1.x client over TCP for the RPC server tests: sends exact bytes,
 * reads responses byte for byte (status line, headers in order, body), so
 * nothing in between normalises what the server sent.
 *
 * @module
 */
import {
  HTTP_SERVER_FAILED,
  RpcServer,
  type RpcServerOptions,
} from "../../../components/rpc/server.ts";
import { assertRejects } from "../../assert.ts";
import { Latch, stubMethods } from "./stub_methods.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A response as it came off the wire. */
export interface RawResponse {
  /** `HTTP/1.1 200 OK`. */
  readonly statusLine: string;
  /** The status code. */
  readonly status: number;
  /** Headers in order. */
  readonly headers: [string, string][];
  /** The body as text. */
  readonly body: string;
}

/** An RFC 1123 date as libevent writes it. */
export const DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** A TCP connection that reads responses one at a time. */
export class RawConnection implements Disposable {
  readonly conn: Deno.TcpConn;
  #store = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  #eof = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Connects to the server. */
  static async open(port: number, hostname = "127.0.0.1"): Promise<RawConnection> {
    return new RawConnection(await Deno.connect({ hostname, port }));
  }

  /** Sends bytes (text is UTF-8 encoded). */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let offset = 0;
    while (offset < bytes.length) offset += await this.conn.write(bytes.subarray(offset));
  }

  /** The bytes received and not yet consumed. */
  get #buf(): Uint8Array {
    return this.#store.subarray(this.#start, this.#end);
  }

  #consume(n: number): void {
    this.#start += n;
  }

  async #more(): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#end === this.#store.length) {
      const grown = new Uint8Array(Math.max(64 * 1024, (this.#end - this.#start) * 2));
      grown.set(this.#buf);
      this.#end -= this.#start;
      this.#start = 0;
      this.#store = grown;
    }
    let n: number | null;
    try {
      n = await this.conn.read(this.#store.subarray(this.#end));
    } catch {
      n = null;
    }
    if (n === null) {
      this.#eof = true;
      return false;
    }
    this.#end += n;
    return true;
  }

  /**
   * Reads one response: the head, then a body of Content-Length bytes, none
   * for 1xx/204 or a HEAD request, else everything until the server closes.
   */
  async response(options: { head?: boolean } = {}): Promise<RawResponse> {
    let end: number;
    while ((end = indexOf(this.#buf, "\r\n\r\n")) < 0) {
      if (!(await this.#more())) {
        throw new Error(`connection closed before a response head: ${this.text()}`);
      }
    }
    const head = decoder.decode(this.#buf.subarray(0, end)).split("\r\n");
    this.#consume(end + 4);
    const statusLine = head[0];
    const status = Number(statusLine.split(" ")[1]);
    const headers = head.slice(1).map((line): [string, string] => {
      const colon = line.indexOf(": ");
      return [line.slice(0, colon), line.slice(colon + 2)];
    });
    const length = headers.find(([k]) => k.toLowerCase() === "content-length")?.[1];
    let bodyLength: number;
    if (length !== undefined) {
      bodyLength = Number(length);
    } else if (status === 204 || status < 200 || options.head) {
      bodyLength = 0;
    } else {
      while (await this.#more()) { /* until the server closes */ }
      bodyLength = this.#buf.length;
    }
    while (this.#buf.length < bodyLength) {
      if (!(await this.#more())) throw new Error("connection closed inside a body");
    }
    const body = decoder.decode(this.#buf.subarray(0, bodyLength));
    this.#consume(bodyLength);
    return { statusLine, status, headers, body };
  }

  /** Whether the server closes the connection (reads to the end; true once it does). */
  async closedByServer(): Promise<boolean> {
    while (await this.#more()) { /* drain */ }
    return this.#eof;
  }

  /** Bytes received but not consumed, as text. */
  text(): string {
    return decoder.decode(this.#buf);
  }

  /** Closes the socket. */
  [Symbol.dispose](): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

function indexOf(haystack: Uint8Array, needle: string): number {
  const n = encoder.encode(needle);
  outer: for (let i = 0; i + n.length <= haystack.length; i++) {
    for (let j = 0; j < n.length; j++) if (haystack[i + j] !== n[j]) continue outer;
    return i;
  }
  return -1;
}

/** Sends one request on a fresh connection and reads one response. */
export async function exchange(port: number, request: string | Uint8Array): Promise<RawResponse> {
  using c = await RawConnection.open(port);
  await c.send(request);
  return await c.response({ head: typeof request === "string" && request.startsWith("HEAD ") });
}

/** `Basic <base64(credentials)>`. */
export function basic(credentials: string): string {
  return `Basic ${btoa(credentials)}`;
}

/**
 * A request in bitcoin-cli's exact shape (§1 of the reference): Host,
 * Connection: close, Content-Type, Authorization, Content-Length, then the
 * body and its final newline counted.
 */
export function cliRequest(
  body: string,
  authorization: string,
  path = "/",
): string {
  const text = body + "\n";
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
    `Content-Type: application/json\r\nAuthorization: ${authorization}\r\n` +
    `Content-Length: ${encoder.encode(text).length}\r\n\r\n${text}`;
}

/** A running server with the stub methods and a fresh data directory; disposing stops and removes it. */
export interface TestServer extends AsyncDisposable {
  readonly server: RpcServer;
  readonly datadir: string;
  readonly port: number;
  /** The cookie file's content. */
  readonly cookie: string;
  /** `Basic` header value for the cookie. */
  readonly auth: string;
  readonly latch: Latch;
  readonly logs: string[];
}

/** Starts a server on a free port with cookie auth (unless options say otherwise). */
export async function startServer(options: Partial<RpcServerOptions> = {}): Promise<TestServer> {
  const datadir = await Deno.makeTempDir({ prefix: "rpc_test_" });
  const latch = new Latch();
  const logs: string[] = [];
  const server = new RpcServer({
    datadir,
    port: 0,
    methods: stubMethods(latch),
    log: (line) => logs.push(line),
    ...options,
  });
  await server.start();
  const cookie = server.cookiePath ? await Deno.readTextFile(server.cookiePath) : "";
  return {
    server,
    datadir,
    port: server.port,
    cookie,
    auth: basic(cookie),
    latch,
    logs,
    async [Symbol.asyncDispose]() {
      latch.open();
      await server.stop();
      await Deno.remove(datadir, { recursive: true });
    },
  };
}

/**
 * Starts a server that must fail to start: checks that `start` throws
 * Core's init message, and returns the server's log, which says why.
 */
export async function failedStartLog(options: Partial<RpcServerOptions>): Promise<string[]> {
  const datadir = await Deno.makeTempDir({ prefix: "rpc_test_" });
  const logs: string[] = [];
  try {
    const server = new RpcServer({ datadir, port: 0, log: (line) => logs.push(line), ...options });
    await assertRejects(() => server.start(), Error, HTTP_SERVER_FAILED);
    return logs;
  } finally {
    await Deno.remove(datadir, { recursive: true });
  }
}

/** Polls `condition` until true, failing after a generous deadline (no timing assertion). */
export async function waitFor(
  condition: () => boolean,
  what: string,
  deadlineMs = 20_000,
): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
