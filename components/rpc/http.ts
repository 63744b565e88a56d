/**
 * bitcoind's HTTP server (libevent `evhttp` plus Core's `httpserver.cpp`)
 * on `Deno.listen`, with its own HTTP/1.x reader so every byte is as bitcoind
 * sends it: keep-alive, HTTP/1.0, chunked bodies, `100-continue`, the 8 KiB
 * head limit (400), the 32 MiB body limit (413, without reading the body),
 * 501 for methods libevent does not serve, then Core's checks — the
 * `-rpcallowip` list (403), unknown methods (405), unrouted paths (404) and
 * the work queue (`-rpcthreads` running, `-rpcworkqueue` waiting, 503 beyond)
 * — before the handler runs.
 *
 * Everything is bounded: head bytes per connection, body bytes per request
 * and in total, reply bytes waiting for their clients (over the budget, the
 * connection with the most still unwritten is dropped, so clients that never
 * read cannot pile replies up), connections (when full, the connection idle
 * longest is dropped for a new one), and time (`-rpcservertimeout` of
 * inactivity while reading or writing closes a connection silently, as
 * libevent does).
 *
 * @module
 */
import {
  addHeaderLine,
  ALLOWED_METHODS,
  announcedLength,
  bytesToLatin1,
  errorHead,
  errorPageBody,
  findHeader,
  type Headers,
  latin1ToBytes,
  mayHaveBody,
  parseChunkSize,
  parseRequestLine,
  type RequestInfo,
  responseHead,
} from "./http_message.ts";
import { Timer } from "../../component.ts";

/** A complete request, as a handler sees it. */
export interface HttpRequest extends RequestInfo {
  /** The method (always one libevent serves). */
  readonly method: string;
  /** The request target as sent. */
  readonly uri: string;
  /** The body (de-chunked). */
  readonly body: Uint8Array;
  /** The client. */
  readonly peer: Deno.NetAddr;
}

/** What a handler answers. */
export interface HttpReply {
  /** The status code. */
  readonly status: number;
  /** Headers the handler sets, in order (libevent adds Date, Content-Length, ...). */
  readonly headers?: Headers;
  /** The body. */
  readonly body?: Uint8Array | string;
  /** Wait this long before answering, without holding a work-queue slot (the 401 delay). */
  readonly delayMs?: number;
}

/** Serves one request; `signal` aborts when the server stops. */
export type HttpHandler = (request: HttpRequest, signal: AbortSignal) => Promise<HttpReply>;

/** Where to listen. */
export interface Endpoint {
  /** Address to bind. */
  readonly hostname: string;
  /** Port; 0 picks a free one (then later endpoints reuse it). */
  readonly port: number;
}

/** How the server behaves; defaults are bitcoind's. */
export interface HttpServerOptions {
  /** Addresses to bind, in order; those that fail are skipped, none bound is an error. */
  readonly endpoints: readonly Endpoint[];
  /** The request handler (Core's `HTTPReq_JSONRPC`). */
  readonly handler: HttpHandler;
  /** Whether a path is served (else 404). */
  readonly routes: (uri: string) => boolean;
  /** Whether a client address may connect (else 403). */
  readonly allowed: (hostname: string) => boolean;
  /** `-rpcthreads`: requests handled at once (16). */
  readonly threads?: number;
  /** `-rpcworkqueue`: requests waiting beyond those (64). */
  readonly workQueue?: number;
  /** `-rpcservertimeout` in milliseconds (30 s). */
  readonly timeoutMs?: number;
  /** Open connections at most (256). */
  readonly maxConnections?: number;
  /** Request line plus headers, in bytes (8192, libevent's limit as bitcoind sets it). */
  readonly maxHeaderBytes?: number;
  /** One request body (32 MiB, bitcoind's `MAX_SIZE`). */
  readonly maxBodyBytes?: number;
  /** All bodies being read or served at once (128 MiB). */
  readonly bodyBudgetBytes?: number;
  /**
   * All replies being written at once (128 MiB): a reply counts from when
   * it is ready until its client has taken the last byte. Over the budget
   * the connection with the most bytes still unwritten (the earliest among
   * equals) is dropped; a reply alone is always let through.
   */
  readonly replyBudgetBytes?: number;
  /** Receives Core's log lines (addresses bound and failed, work queue warnings). */
  readonly log?: (message: string) => void;
}

const encoder = new TextEncoder();
const MIB = 1024 * 1024;

/** The HTTP server. Start it, then stop it (or `await using`). */
export class HttpServer implements AsyncDisposable {
  readonly #options: Required<Omit<HttpServerOptions, "log">> & {
    log: (message: string) => void;
  };
  readonly #listeners: Deno.TcpListener[] = [];
  readonly #connections = new Set<Connection>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #queue: WorkQueue;
  readonly #budget: ByteBudget;
  readonly #replies: ReplyBudget;
  readonly #abort = new AbortController();
  #sweep: ReturnType<typeof setInterval> | undefined;
  #interrupted = false;
  #stopping: Promise<void> | undefined;

  /** Prepares a server; nothing is bound until {@linkcode HttpServer.start}. */
  constructor(options: HttpServerOptions) {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.#options = {
      threads: 16,
      workQueue: 64,
      timeoutMs: 30_000,
      maxConnections: 256,
      maxHeaderBytes: 8192,
      maxBodyBytes: 32 * MIB,
      bodyBudgetBytes: 128 * MIB,
      replyBudgetBytes: 128 * MIB,
      log: () => {},
      ...given as HttpServerOptions,
    };
    this.#queue = new WorkQueue(
      Math.max(1, this.#options.threads),
      Math.max(1, this.#options.workQueue),
    );
    this.#budget = new ByteBudget(
      Math.max(this.#options.bodyBudgetBytes, this.#options.maxBodyBytes),
    );
    this.#replies = new ReplyBudget(this.#options.replyBudgetBytes, this.#options.log);
  }

  /** The bound addresses (after start). */
  get addresses(): Deno.NetAddr[] {
    return this.#listeners.map((l) => l.addr);
  }

  /** Body bytes reserved now for requests being read, and requests waiting for some (see `bodyBudgetBytes`). */
  get bodyBudget(): { held: number; waiting: number } {
    return { held: this.#budget.held, waiting: this.#budget.waiting };
  }

  /** Reply bytes waiting for their clients now (see `replyBudgetBytes`). */
  get replyBytesHeld(): number {
    return this.#replies.total;
  }

  /** Requests being handled, and requests waiting for a slot in the work queue. */
  get workQueue(): { running: number; queued: number } {
    return { running: this.#queue.running, queued: this.#queue.queued };
  }

  /**
   * Binds every endpoint that can be bound and starts accepting; throws when
   * none could. Logs Core's `HTTPBindAddresses` lines: each address as it is
   * bound, each failure, and `Unable to bind any endpoint for RPC server`.
   */
  start(): Deno.NetAddr[] {
    let port: number | undefined;
    for (const endpoint of this.#options.endpoints) {
      const wanted = endpoint.port === 0 && port !== undefined ? port : endpoint.port;
      this.#options.log(`Binding RPC on address ${endpoint.hostname} port ${wanted}`);
      try {
        const listener = Deno.listen({
          hostname: endpoint.hostname,
          port: wanted,
          transport: "tcp",
        });
        port ??= listener.addr.port;
        this.#listeners.push(listener);
        this.#track(this.#acceptLoop(listener));
      } catch {
        this.#options.log(`Binding RPC on address ${endpoint.hostname} port ${wanted} failed.`);
      }
    }
    if (this.#listeners.length === 0) {
      const message = "Unable to bind any endpoint for RPC server";
      this.#options.log(message);
      throw new Error(message);
    }
    const timeout = this.#options.timeoutMs;
    this.#sweep = setInterval(() => {
      const now = performance.now();
      for (const c of this.#connections) {
        if (c.ioSince !== undefined && now - c.ioSince > timeout) c.close();
      }
    }, Math.min(1000, Math.max(10, timeout / 4)));
    return this.addresses;
  }

  /**
   * Core's shutdown request: from now on every reply carries
   * `Connection: close` and new requests get 503. Idempotent.
   */
  interrupt(): void {
    this.#interrupted = true;
  }

  /** Stops accepting, lets requests in progress answer, then closes every connection. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /** Same as {@linkcode HttpServer.stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #stop(): Promise<void> {
    this.interrupt();
    for (const listener of this.#listeners) {
      try {
        listener.close();
      } catch { /* already closed */ }
    }
    this.#abort.abort();
    clearInterval(this.#sweep);
    for (const connection of this.#connections) {
      if (connection.busy) connection.closeAfterReply = true;
      else connection.close();
    }
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }

  /** Keeps a background task until it ends; it must not reject (each catches its own errors). */
  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    const done = () => this.#tasks.delete(task);
    task.then(done, done);
  }

  async #acceptLoop(listener: Deno.TcpListener): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#abort.signal.aborted || error instanceof Deno.errors.BadResource) return;
        // Out of descriptors and the like: keep serving once it passes.
        this.#options.log(`RPC accept failed: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (this.#abort.signal.aborted) {
        conn.close();
        return;
      }
      this.#admit(conn);
    }
  }

  /** Makes room for a new connection by dropping the one idle longest, or refuses it. */
  #admit(conn: Deno.TcpConn): void {
    const live = [...this.#connections].filter((c) => !c.closed);
    if (live.length >= this.#options.maxConnections) {
      const idle = live.filter((c) => !c.busy);
      if (idle.length === 0) {
        conn.close();
        return;
      }
      idle.reduce((a, b) => (a.lastActivity <= b.lastActivity ? a : b)).close();
    }
    try {
      conn.setNoDelay(true);
    } catch { /* the peer is already gone */ }
    const connection = new Connection(conn);
    this.#connections.add(connection);
    this.#track(
      this.#serve(connection)
        .catch((error) => this.#options.log(`RPC connection failed: ${(error as Error).message}`))
        .finally(() => {
          connection.close();
          this.#connections.delete(connection);
        }),
    );
  }

  async #serve(c: Connection): Promise<void> {
    while (!c.closed) {
      const outcome = await this.#readRequest(c);
      if (outcome === undefined) return;
      try {
        if ("error" in outcome) {
          await this.#sendError(c, outcome.info, outcome.error);
          await c.finish();
          return;
        }
        c.busy = true;
        const keep = await this.#dispatch(c, outcome.request);
        c.busy = false;
        if (!keep || c.closeAfterReply) {
          await c.finish();
          return;
        }
      } finally {
        if (!("error" in outcome)) this.#budget.release(outcome.reserved);
      }
    }
  }

  /** Reads one request, or an error to answer with a libevent error page, or nothing (closed). */
  async #readRequest(c: Connection): Promise<ReadOutcome | undefined> {
    const max = this.#options.maxHeaderBytes;
    let info: { -readonly [K in keyof RequestInfo]: RequestInfo[K] } & { uri?: string } = {
      method: undefined,
      major: 0,
      minor: 0,
      headers: [],
      proxy: false,
    };
    const fail = (error: number): ReadOutcome => ({ error, info });

    // Request line. Blank lines before it are skipped by no one: libevent reads them as the line.
    let line = c.readLine();
    while (line === undefined) {
      if (c.buffered > max) return fail(400);
      if (!(await c.fill())) return undefined;
      line = c.readLine();
    }
    if (line.length > max) return fail(400);
    let headerBytes = line.length;
    const requestLine = parseRequestLine(line);
    if (!requestLine) return fail(400);
    info = { ...info, ...requestLine };

    // Headers.
    const headBytes = await this.#readHeaderLines(c, info.headers, headerBytes, max);
    if (headBytes === undefined) return undefined;
    if (headBytes < 0) return fail(400);
    headerBytes = headBytes;

    if (info.method === undefined || !ALLOWED_METHODS.has(info.method)) {
      // libevent reads any body first, then refuses the method.
      if (info.method !== undefined && mayHaveBody(info.method)) {
        const body = await this.#readBody(c, info, headerBytes);
        if (body === undefined) return undefined;
        if ("error" in body) return fail(body.error);
        this.#budget.release(body.reserved);
      }
      return fail(501);
    }
    let body: Uint8Array = new Uint8Array(0);
    let reserved = 0;
    if (mayHaveBody(info.method)) {
      const read = await this.#readBody(c, info, headerBytes);
      if (read === undefined) return undefined;
      if ("error" in read) return fail(read.error);
      body = read.body;
      reserved = read.reserved;
    }
    return {
      request: { ...info, method: info.method, uri: requestLine.uri, body, peer: c.peer },
      reserved,
    };
  }

  /** Reads header (or trailer) lines; the new head size, -1 when malformed or too long, undefined when closed. */
  async #readHeaderLines(
    c: Connection,
    headers: Headers,
    headBytes: number,
    max: number,
  ): Promise<number | undefined> {
    for (;;) {
      const line = c.readLine();
      if (line === undefined) {
        if (headBytes + c.buffered > max) return -1;
        if (!(await c.fill())) return undefined;
        continue;
      }
      headBytes += line.length;
      if (headBytes > max) return -1;
      if (line === "") return headBytes;
      if (!addHeaderLine(headers, line)) return -1;
    }
  }

  /** Reads the body per Content-Length or chunked encoding, holding its bytes in the budget. */
  async #readBody(
    c: Connection,
    info: RequestInfo,
    headBytes: number,
  ): Promise<{ body: Uint8Array; reserved: number } | { error: number } | undefined> {
    const maxBody = this.#options.maxBodyBytes;
    const encoding = findHeader(info.headers, "Transfer-Encoding");
    const chunked = encoding !== undefined && encoding.toLowerCase() === "chunked";
    let length = -1;
    if (!chunked) {
      const announced = announcedLength(info.headers);
      if (announced === undefined) return { error: 400 };
      if (announced < 1) return { body: new Uint8Array(0), reserved: 0 };
      length = announced;
    }
    const expect = info.major > 1 || (info.major === 1 && info.minor >= 1)
      ? findHeader(info.headers, "Expect")
      : undefined;
    if (expect !== undefined) {
      if (expect.toLowerCase() !== "100-continue") return { error: 417 };
      if (length > maxBody) return { error: 413 };
      if (c.buffered === 0) {
        const interim = encoder.encode(`HTTP/${info.major}.${info.minor} 100 Continue\r\n\r\n`);
        if (!(await this.#write(c, interim))) return undefined;
      }
    }
    if (!chunked) {
      if (length > maxBody) return { error: 413 };
      if (!(await this.#budget.acquire(length, this.#options.timeoutMs, this.#abort.signal))) {
        return undefined;
      }
      const body = new Uint8Array(length);
      if (!(await c.readExactly(body))) {
        this.#budget.release(length);
        return undefined;
      }
      return { body, reserved: length };
    }
    // The chunks are read into one buffer that doubles as it fills: an array of one per chunk
    // would cost a few hundred bytes of heap per chunk, so a body sent in 1-byte chunks (6 bytes
    // each on the wire) would take 32 MiB × that, far past the body budget, before any check.
    let body = new Uint8Array(0);
    let total = 0;
    const release = () => this.#budget.release(total);
    for (;;) {
      const line = c.readLine();
      if (line === undefined) {
        if (c.buffered > this.#options.maxHeaderBytes) {
          release();
          return { error: 413 };
        }
        if (!(await c.fill())) {
          release();
          return undefined;
        }
        continue;
      }
      if (line === "") continue;
      const size = parseChunkSize(line);
      if (size === undefined || total + size > maxBody) {
        release();
        return { error: 413 };
      }
      if (size === 0) break;
      if (!(await this.#budget.acquire(size, this.#options.timeoutMs, this.#abort.signal))) {
        release();
        return undefined;
      }
      if (total + size > body.length) {
        const grown = new Uint8Array(Math.min(maxBody, Math.max(total + size, body.length * 2)));
        grown.set(body.subarray(0, total));
        body = grown;
      }
      total += size;
      if (!(await c.readExactly(body.subarray(total - size, total)))) {
        release();
        return undefined;
      }
    }
    // Trailer lines join the headers, as libevent adds them to the input headers.
    const trailer = await this.#readHeaderLines(
      c,
      info.headers as Headers,
      headBytes,
      this.#options.maxHeaderBytes,
    );
    if (trailer === undefined || trailer < 0) {
      release();
      return trailer === undefined ? undefined : { error: 413 };
    }
    return { body: body.subarray(0, total), reserved: total };
  }

  /** Core's `http_request_cb` and the work queue, then the handler; whether to keep the connection. */
  async #dispatch(c: Connection, request: HttpRequest): Promise<boolean> {
    if (this.#interrupted) return await this.#sendError(c, request, 503);
    if (!this.#options.allowed(request.peer.hostname)) {
      return await this.#send(c, request, { status: 403 });
    }
    if (request.method === "DELETE") return await this.#send(c, request, { status: 405 });
    if (!this.#options.routes(request.uri)) return await this.#send(c, request, { status: 404 });
    const slot = this.#queue.enter();
    if (slot === undefined) {
      this.#options.log(
        "WARNING: request rejected because http work queue depth exceeded, it can be increased " +
          "with the -rpcworkqueue= setting",
      );
      return await this.#send(c, request, { status: 503, body: "Work queue depth exceeded" });
    }
    let reply: HttpReply;
    try {
      await slot;
      reply = await this.#options.handler(request, this.#abort.signal);
    } catch (error) {
      reply = { status: 500, body: `Unhandled request: ${(error as Error).message}` };
    } finally {
      this.#queue.leave();
    }
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    return await this.#send(c, request, reply);
  }

  /** Writes a reply as `evhttp_send_reply` does; whether the connection stays open. */
  async #send(c: Connection, info: RequestInfo, reply: HttpReply): Promise<boolean> {
    const headers: Headers = [...(reply.headers ?? [])];
    if (this.#interrupted) headers.push(["Connection", "close"]);
    const body = typeof reply.body === "string"
      ? encoder.encode(reply.body)
      : reply.body ?? new Uint8Array(0);
    const head = responseHead(info, reply.status, headers, body.length, httpDate());
    const written = await this.#write(c, latin1ToBytes(head.text), body);
    return written && !head.close;
  }

  /** Writes an `evhttp_send_error` page; the connection then closes. */
  async #sendError(c: Connection, info: RequestInfo, status: number): Promise<false> {
    const head = errorHead(info, status, httpDate());
    await this.#write(c, latin1ToBytes(head.text), encoder.encode(errorPageBody(status)));
    return false;
  }

  /** Writes to a client with the bytes counted in the reply budget until it has taken them. */
  async #write(c: Connection, ...parts: Uint8Array[]): Promise<boolean> {
    this.#replies.hold(c, parts.reduce((n, part) => n + part.length, 0));
    try {
      return await c.write(...parts);
    } finally {
      this.#replies.release(c);
    }
  }
}

let dateSecond = -1;
let dateText = "";

/** The `Date` header value (RFC 1123, as libevent's `evutil_date_rfc1123`), made once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

type ReadOutcome =
  | { request: HttpRequest; reserved: number }
  | { error: number; info: RequestInfo };

/** One client connection: a read-ahead buffer, inactivity timeouts, and its state. */
class Connection {
  readonly peer: Deno.NetAddr;
  #buf = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  lastActivity = performance.now();
  /** When the read or write in progress started (for the inactivity timeout). */
  ioSince: number | undefined;
  busy = false;
  closeAfterReply = false;
  closed = false;
  /** Bytes of the write in progress the client has not taken yet. */
  unwritten = 0;

  constructor(readonly conn: Deno.TcpConn) {
    this.peer = conn.remoteAddr;
  }

  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * Closes after a response: sends FIN, then reads and drops what the client
   * still sends (at most 64 KiB, 2 s) so that closing does not reset the
   * connection and destroy the response before the client reads it.
   */
  async finish(): Promise<void> {
    if (this.closed) return;
    try {
      await this.conn.closeWrite();
      const sink = new Uint8Array(16 * 1024);
      const deadline = setTimeout(() => this.close(), 2000);
      try {
        for (let drained = 0; drained < 64 * 1024;) {
          const n = await this.conn.read(sink);
          if (n === null) break;
          drained += n;
        }
      } finally {
        clearTimeout(deadline);
      }
    } catch { /* the peer is gone */ }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  /**
   * Runs one read or write; the server's sweep closes the connection when
   * one takes longer than the timeout (cheaper than a timer per operation).
   */
  async #io<T>(op: () => Promise<T>): Promise<T | undefined> {
    if (this.closed) return undefined;
    this.ioSince = performance.now();
    try {
      return await op();
    } catch {
      this.close();
      return undefined;
    } finally {
      this.ioSince = undefined;
    }
  }

  /** Reads more bytes into the buffer; false at end of stream, timeout or error. */
  async fill(): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      } else {
        const grown = new Uint8Array(this.#buf.length * 2);
        grown.set(this.#buf);
        this.#buf = grown;
      }
    }
    const n = await this.#io(() => this.conn.read(this.#buf.subarray(this.#end)));
    if (n === undefined || n === null) {
      this.close();
      return false;
    }
    this.#end += n;
    this.lastActivity = performance.now();
    return true;
  }

  /** One line from the buffer (`\n` or `\r\n` ended, as `EVBUFFER_EOL_CRLF`), or undefined. */
  readLine(): string | undefined {
    const newline = this.#buf.subarray(this.#start, this.#end).indexOf(0x0a);
    if (newline < 0) return undefined;
    let end = this.#start + newline;
    const next = end + 1;
    if (end > this.#start && this.#buf[end - 1] === 0x0d) end--;
    const line = bytesToLatin1(this.#buf.subarray(this.#start, end));
    this.#start = next;
    return line;
  }

  /** Fills `dest` from the buffer, then straight from the socket. */
  async readExactly(dest: Uint8Array): Promise<boolean> {
    const fromBuffer = Math.min(this.buffered, dest.length);
    dest.set(this.#buf.subarray(this.#start, this.#start + fromBuffer));
    this.#start += fromBuffer;
    let offset = fromBuffer;
    while (offset < dest.length) {
      const n = await this.#io(() => this.conn.read(dest.subarray(offset)));
      if (n === undefined || n === null) {
        this.close();
        return false;
      }
      offset += n;
      this.lastActivity = performance.now();
    }
    return true;
  }

  /** Writes all the parts (small ones in one write); false when the connection failed or timed out. */
  async write(...parts: Uint8Array[]): Promise<boolean> {
    const total = parts.reduce((n, p) => n + p.length, 0);
    if (parts.length > 1 && total <= 64 * 1024) {
      const joined = new Uint8Array(total);
      let at = 0;
      for (const part of parts) {
        joined.set(part, at);
        at += part.length;
      }
      parts = [joined];
    }
    this.unwritten = total;
    try {
      for (const part of parts) {
        let offset = 0;
        while (offset < part.length) {
          const n = await this.#io(() => this.conn.write(part.subarray(offset)));
          if (n === undefined) return false;
          offset += n;
          this.unwritten -= n;
        }
      }
    } finally {
      this.unwritten = 0;
    }
    this.lastActivity = performance.now();
    return true;
  }
}

/** Core's work queue: `threads` requests run, `depth` more wait, the rest are refused. */
class WorkQueue {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly threads: number, readonly depth: number) {}

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** A promise that resolves when the request may run, or undefined when the queue is full. */
  enter(): Promise<void> | undefined {
    if (this.#running < this.threads) {
      this.#running++;
      return Promise.resolve();
    }
    if (this.#waiting.length >= this.depth) return undefined;
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  leave(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }
}

/** A shared allowance of body bytes; waiting is first come, first served, and times out. */
class ByteBudget {
  #available: number;
  readonly #waiting: { bytes: number; grant: () => void }[] = [];

  constructor(readonly total: number) {
    this.#available = total;
  }

  /** Bytes reserved now. */
  get held(): number {
    return this.total - this.#available;
  }

  /** Reservations waiting for bytes. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Reserves `bytes`, waiting up to `timeoutMs`; false on timeout or abort. */
  acquire(bytes: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (this.#waiting.length === 0 && bytes <= this.#available) {
      this.#available -= bytes;
      return Promise.resolve(true);
    }
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const giveUp = () => {
        timer.clear();
        signal.removeEventListener("abort", giveUp);
        this.#waiting.splice(this.#waiting.indexOf(entry), 1);
        resolve(false);
        this.#wake();
      };
      const entry = {
        bytes,
        grant: () => {
          timer.clear();
          signal.removeEventListener("abort", giveUp);
          resolve(true);
        },
      };
      // A Timer: -rpcservertimeout may be weeks, far past what setTimeout holds.
      const timer = new Timer(Math.max(0, timeoutMs), giveUp);
      signal.addEventListener("abort", giveUp);
      this.#waiting.push(entry);
    });
  }

  release(bytes: number): void {
    this.#available += bytes;
    this.#wake();
  }

  #wake(): void {
    while (this.#waiting.length > 0 && this.#waiting[0].bytes <= this.#available) {
      const entry = this.#waiting.shift()!;
      this.#available -= entry.bytes;
      entry.grant();
    }
  }
}

/**
 * The reply bytes held for clients, across connections (see
 * `HttpServerOptions.replyBudgetBytes`). Each connection writes one reply
 * at a time, so it holds at most one. When a new reply takes the total over
 * the limit, the other connections holding the most bytes still unwritten
 * (the earliest queued among equals) are dropped until it is back under:
 * memory stays below the limit plus one reply, and the reply just made is
 * always given its chance.
 */
class ReplyBudget {
  #total = 0;
  /** Bytes held per connection, in the order the replies were queued. */
  readonly #held = new Map<Connection, number>();

  constructor(readonly limit: number, readonly log: (message: string) => void) {}

  /** The bytes held now. */
  get total(): number {
    return this.#total;
  }

  /** Counts a reply of `bytes` for `c`, dropping other holders while over the budget. */
  hold(c: Connection, bytes: number): void {
    this.#total += bytes;
    this.#held.set(c, (this.#held.get(c) ?? 0) + bytes);
    while (this.#total > this.limit) {
      let victim: Connection | undefined;
      for (const holder of this.#held.keys()) {
        if (holder !== c && (victim === undefined || holder.unwritten > victim.unwritten)) {
          victim = holder;
        }
      }
      if (victim === undefined) return;
      this.log(
        `HTTP: replies waiting for their clients passed ${this.limit} bytes; dropped the ` +
          `connection from ${peerText(victim.peer)}, ${victim.unwritten} reply bytes unread`,
      );
      this.release(victim);
      victim.close();
    }
  }

  /** Stops counting `c`'s reply (written, or given up). */
  release(c: Connection): void {
    this.#total -= this.#held.get(c) ?? 0;
    this.#held.delete(c);
  }
}

/** A client's address as Core logs it (`CService::ToStringAddrPort`): `host:port`, `[v6]:port`. */
export function peerText(peer: Deno.NetAddr): string {
  return peer.hostname.includes(":")
    ? `[${peer.hostname}]:${peer.port}`
    : `${peer.hostname}:${peer.port}`;
}
