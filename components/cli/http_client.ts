/**
 * One HTTP/1.1 request on one TCP connection, written and read as
 * bitcoin-cli's libevent client does: the request's bytes exactly as given
 * (the caller orders the headers; `Content-Length` is added last), then a
 * response read to its end, by `Content-Length`, chunked encoding, or the
 * server closing the connection.
 *
 * When no complete response arrives, {@linkcode ConnectionFailed} carries
 * libevent's error code: none (-1) when the connection is refused, `0`
 * ("timeout reached") after `timeoutMs` without progress, `1` ("EOF
 * reached") when the connection fails or closes early, `2` ("error while
 * reading header, or invalid header") for a response that is not HTTP, and
 * `5` ("response body is larger than allowed") past the size limits, which
 * keep a hostile server from growing this process's memory without bound.
 *
 * @example
 * ```ts
 * import { postRequest } from "./http_client.ts";
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const served = (async () => {
 *   using conn = await listener.accept();
 *   await conn.read(new Uint8Array(1024));
 *   await conn.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
 * })();
 * const reply = await postRequest({
 *   host: "127.0.0.1", port: listener.addr.port, path: "/", headers: [], body: new Uint8Array(),
 *   timeoutMs: 10_000,
 * });
 * await served;
 * if (reply.status !== 200 || new TextDecoder().decode(reply.body) !== "ok") throw new Error();
 * ```
 * @module
 */
import { ByteQueue } from "./byte_queue.ts";
import { writeAll } from "./stdin.ts";

/** libevent's `evhttp_request_error` codes, as bitcoin-cli prints them. */
export const HTTP_ERRORS: Readonly<Record<number, string>> = {
  0: "timeout reached",
  1: "EOF reached",
  2: "error while reading header, or invalid header",
  3: "error encountered while reading or writing",
  4: "request was canceled",
  5: "response body is larger than allowed",
};

/** No complete response: `code` is libevent's error code, -1 for none (a refused connection). */
export class ConnectionFailed extends Error {
  /** The error's name. */
  override name = "ConnectionFailed";

  /** `code` is one of {@linkcode HTTP_ERRORS}' keys, or -1. */
  constructor(readonly code: number) {
    super(code < 0 ? "connection refused" : HTTP_ERRORS[code] ?? "unknown");
  }
}

/** The largest response head accepted. */
export const MAX_HEAD_BYTES = 1024 * 1024;
/** The largest response body accepted (a verbose block of 4 MB is far below). */
export const MAX_BODY_BYTES = 512 * 1024 * 1024;

/** What to send. */
export interface HttpPost {
  /** Host to connect to (an IPv6 address without brackets). */
  host: string;
  /** TCP port. */
  port: number;
  /** Request target, e.g. `/` or `/wallet/w`. */
  path: string;
  /** Headers in the order they are sent, before `Content-Length`. */
  headers: readonly (readonly [string, string])[];
  /** The body. */
  body: Uint8Array;
  /** Milliseconds without progress (connecting, writing, reading) before giving up. */
  timeoutMs: number;
}

/** A complete response. */
export interface HttpResponse {
  /** The status code. */
  status: number;
  /** The body, de-chunked. */
  body: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sends one POST and reads its response; throws {@linkcode ConnectionFailed} when there is none. */
export async function postRequest(request: HttpPost): Promise<HttpResponse> {
  using watchdog = new Watchdog(request.timeoutMs);
  let conn: Deno.TcpConn;
  try {
    conn = await watchdog.guard(Deno.connect({ hostname: request.host, port: request.port }));
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    if (error instanceof Deno.errors.ConnectionRefused) throw new ConnectionFailed(-1);
    throw new ConnectionFailed(watchdog.expired ? 0 : 1);
  }
  watchdog.onExpiry(() => conn.close());
  try {
    const head = `POST ${request.path} HTTP/1.1\r\n` +
      request.headers.map(([name, value]) => `${name}: ${value}\r\n`).join("") +
      `Content-Length: ${request.body.length}\r\n\r\n`;
    await writeAll(conn, encoder.encode(head));
    await writeAll(conn, request.body);
    return await new ResponseReader(conn, watchdog).read();
  } catch (error) {
    if (error instanceof ConnectionFailed) throw error;
    throw new ConnectionFailed(watchdog.expired ? 0 : 1);
  } finally {
    try {
      conn.close();
    } catch { /* closed by the watchdog */ }
  }
}

/** The longest delay a timer takes; a longer (or infinite) timeout never fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Fires once after `ms` without {@linkcode Watchdog.progress}. */
class Watchdog implements Disposable {
  readonly #ms: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #expire: (() => void)[] = [];
  #rejectPending: ((error: Error) => void) | undefined;
  expired = false;

  constructor(ms: number) {
    this.#ms = ms;
    this.progress();
  }

  /** Restarts the countdown. */
  progress(): void {
    clearTimeout(this.#timer);
    if (this.#ms > MAX_TIMER_MS) return;
    this.#timer = setTimeout(() => {
      this.expired = true;
      this.#rejectPending?.(new Error("timeout"));
      for (const expire of this.#expire) expire();
    }, this.#ms);
  }

  /** Runs `action` on expiry. */
  onExpiry(action: () => void): void {
    this.#expire.push(action);
  }

  /** `promise`, or a rejection on expiry (a late connection is then closed). */
  guard(promise: Promise<Deno.TcpConn>): Promise<Deno.TcpConn> {
    return new Promise((resolve, reject) => {
      this.#rejectPending = reject;
      promise.then((conn) => {
        if (this.expired) conn.close();
        else resolve(conn);
      }, reject);
    });
  }

  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
  }
}

/** Reads one response off a connection. */
class ResponseReader {
  readonly #conn: Deno.TcpConn;
  readonly #watchdog: Watchdog;
  readonly #buffer = new ByteQueue();
  #eof = false;

  constructor(conn: Deno.TcpConn, watchdog: Watchdog) {
    this.#conn = conn;
    this.#watchdog = watchdog;
  }

  /** Reads more bytes into the buffer; false at end of stream. */
  async #fill(limit: number): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#buffer.length > limit) throw new ConnectionFailed(5);
    const n = await this.#conn.read(this.#buffer.reserve(64 * 1024));
    if (n === null) {
      this.#eof = true;
      return false;
    }
    this.#buffer.commit(n);
    this.#watchdog.progress();
    return true;
  }

  /** A line ending in LF (CRLF or LF, as `EVBUFFER_EOL_CRLF`), without its ending. */
  async #line(limit: number): Promise<string> {
    for (;;) {
      const newline = this.#buffer.indexOf(0x0a);
      if (newline >= 0) {
        const line = this.#buffer.take(newline + 1);
        const end = newline > 0 && line[newline - 1] === 0x0d ? newline - 1 : newline;
        return decoder.decode(line.subarray(0, end));
      }
      if (!await this.#fill(limit)) throw new ConnectionFailed(1);
    }
  }

  /** Exactly `length` more bytes. */
  async #take(length: number): Promise<Uint8Array> {
    if (length > MAX_BODY_BYTES) throw new ConnectionFailed(5);
    while (this.#buffer.length < length) {
      if (!await this.#fill(MAX_BODY_BYTES)) throw new ConnectionFailed(1);
    }
    return this.#buffer.take(length);
  }

  async read(): Promise<HttpResponse> {
    const statusLine = await this.#line(MAX_HEAD_BYTES);
    const status = /^HTTP\/\d+\.\d+ (\d{3})(?: .*)?$/.exec(statusLine);
    if (status === null) throw new ConnectionFailed(2);
    const headers = new Map<string, string>();
    for (;;) {
      const line = await this.#line(MAX_HEAD_BYTES);
      if (line === "") break;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new ConnectionFailed(2);
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const code = Number(status[1]);
    // No body for these (RFC 9112 §6.3).
    if (code === 204 || code === 304 || (code >= 100 && code < 200)) {
      return { status: code, body: new Uint8Array(0) };
    }
    if (/\bchunked\b/i.test(headers.get("transfer-encoding") ?? "")) {
      return { status: code, body: await this.#chunked() };
    }
    const length = headers.get("content-length");
    if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw new ConnectionFailed(2);
      return { status: code, body: await this.#take(Number(length)) };
    }
    while (await this.#fill(MAX_BODY_BYTES)) { /* to the end of the stream */ }
    return { status: code, body: this.#buffer.take(this.#buffer.length) };
  }

  async #chunked(): Promise<Uint8Array> {
    const body = new ByteQueue();
    for (;;) {
      const size = /^([0-9a-fA-F]+)/.exec(await this.#line(MAX_HEAD_BYTES));
      if (size === null) throw new ConnectionFailed(2);
      const length = parseInt(size[1], 16);
      if (body.length + length > MAX_BODY_BYTES) throw new ConnectionFailed(5);
      if (length === 0) break;
      body.append(await this.#take(length));
      await this.#line(MAX_HEAD_BYTES);
    }
    // Trailer lines up to the empty one.
    while (await this.#line(MAX_HEAD_BYTES) !== "") { /* ignored */ }
    return body.take(body.length);
  }
}
