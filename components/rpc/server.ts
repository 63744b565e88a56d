/**
 * The node's JSON-RPC server, behaving as bitcoind v30.0's: HTTP on
 * 127.0.0.1 and ::1 (port 18443 on regtest), cookie or user/password
 * authentication, the JSON-RPC envelope, and the method table with the
 * control methods (`help`, `stop`, `uptime`, `echo`, `echojson`) built in.
 *
 * @example
 * ```ts
 * import { RpcServer } from "./server.ts";
 * const datadir = await Deno.makeTempDir();
 * {
 *   await using server = new RpcServer({ datadir, port: 0, bind: [], methods: [] });
 *   await server.start();
 *   const cookie = await Deno.readTextFile(`${datadir}/regtest/.cookie`);
 *   const res = await fetch(`http://127.0.0.1:${server.port}/`, {
 *     method: "POST",
 *     headers: { authorization: `Basic ${btoa(cookie)}` },
 *     body: '{"jsonrpc":"2.0","id":1,"method":"echo","params":["a",1]}',
 *   });
 *   const text = await res.text();
 *   if (text !== '{"jsonrpc":"2.0","result":["a",1],"id":1}\n') throw new Error(text);
 * }
 * await Deno.remove(datadir, { recursive: true });
 * ```
 *
 * @module
 */
import { Credentials } from "./auth.ts";
import { controlMethods } from "./control.ts";
import { type Endpoint, type HttpReply, type HttpRequest, HttpServer, peerText } from "./http.ts";
import { findHeader, urlDecode } from "./http_message.ts";
import { handleJsonRpc, type JsonRpcPermit } from "./jsonrpc.ts";
import { MethodTable, type RpcMethod } from "./methods.ts";
import { AllowList, splitHostPort } from "./subnet.ts";
import { RpcWhitelist } from "./whitelist.ts";

/** What Core's init says on stderr when the HTTP server does not start (`AppInitServers` failed). */
export const HTTP_SERVER_FAILED = "Unable to start HTTP server. See debug log for details.";

const encoder = new TextEncoder();

/** The `WWW-Authenticate` value of a 401. */
const WWW_AUTH = 'Basic realm="jsonrpc"';
/** Core's brute-force deterrent before answering a wrong password. */
const WRONG_PASSWORD_DELAY_MS = 250;

/**
 * A handler of the paths under a prefix, served beside JSON-RPC (Core's
 * `RegisterHTTPHandler`, as `StartREST` registers its `/rest/` handlers):
 * without authentication and for any method the server takes, after the
 * `-rpcallowip` check and in the work queue like every request.
 */
export interface PathHandler {
  /** The path prefix the request target must start with (the whole target when `exact`). */
  readonly prefix: string;
  /** Match the whole request target, not a prefix of it. */
  readonly exact?: boolean;
  /** Serves a request; `path` is the request target after the prefix (query string included). */
  readonly handle: (
    request: HttpRequest,
    path: string,
    signal: AbortSignal,
  ) => HttpReply | Promise<HttpReply>;
}

/** bitcoind's RPC options, and what the node supplies. */
export interface RpcServerOptions {
  /** `-datadir`: the cookie lives in `<datadir>/regtest`. */
  readonly datadir: string;
  /** The node's methods (chain, mempool, wallet...); the control methods are added. */
  readonly methods?: Iterable<RpcMethod>;
  /** `-rpcport` (18443); 0 picks a free port (for tests). */
  readonly port?: number;
  /** `-rpcbind` (`addr[:port]`), honoured only together with `-rpcallowip`, as in Core. */
  readonly bind?: readonly string[];
  /** `-rpcallowip` (IP or subnet); 127.0.0.0/8 and ::1 are always allowed. */
  readonly allowIp?: readonly string[];
  /** `-rpcuser`. */
  readonly user?: string;
  /** `-rpcpassword`: when set, no cookie is written. */
  readonly password?: string;
  /** `-rpcauth` (`user:salt$hmac`). */
  readonly rpcauth?: readonly string[];
  /** `-rpcwhitelist` (`user:method,method`): what each user may call. */
  readonly rpcWhitelist?: readonly string[];
  /** `-rpcwhitelistdefault`: users without a whitelist may call nothing (default: when any is given). */
  readonly rpcWhitelistDefault?: boolean;
  /** `-rpccookiefile` (relative to `<datadir>/regtest`); `false` for `-norpccookiefile`. */
  readonly cookieFile?: string | false;
  /** `-rpccookieperms`: `owner`, `group` or `all`. */
  readonly cookiePerms?: string;
  /** `-rpcthreads` (16). */
  readonly threads?: number;
  /** `-rpcworkqueue` (64). */
  readonly workQueue?: number;
  /** `-rpcservertimeout` in seconds (30). */
  readonly serverTimeout?: number;
  /** Start in warm-up with this status: every call answers -28 until {@linkcode RpcServer.finishWarmup}. */
  readonly warmup?: string;
  /** Process start (ms since the epoch) for `uptime`; default: when the server was made. */
  readonly startTime?: number;
  /** What `stop` triggers (the node's shutdown); default: this server's own {@linkcode RpcServer.stop}. */
  readonly onStopRequest?: () => void;
  /** Serve `/wallet/<name>` paths (a wallet-enabled bitcoind does). Default true. */
  readonly walletEndpoint?: boolean;
  /**
   * Further handlers by path (Core's `RegisterHTTPHandler`), tried in order
   * after JSON-RPC's `/` and `/wallet/`.
   */
  readonly pathHandlers?: readonly PathHandler[];
  /** `-rpcdoccheck`: check every result against its documented shape (-1 on mismatch). */
  readonly docCheck?: boolean;
  /** Open connections at most (256); when full the one idle longest makes room. */
  readonly maxConnections?: number;
  /**
   * Reply bytes waiting for their clients at most (128 MiB); over it the
   * connection with the most unread is dropped (see `HttpServerOptions`).
   */
  readonly replyBudgetBytes?: number;
  /** The debug log's path, for `getrpcinfo`. */
  readonly logPath?: string;
  /** Core's always-on log lines (addresses bound, why the start failed, bad passwords, full work queue). */
  readonly log?: (message: string) => void;
  /**
   * Core's error message boxes (an invalid `-rpcallowip`): shown to the
   * user, on stderr and in the log, before {@linkcode RpcServer.start}
   * fails. The log by default.
   */
  readonly showError?: (message: string) => void;
  /** `-debug=rpc` lines (`ThreadRPCServer method=... user=...`). */
  readonly debug?: (message: string) => void;
}

/** The RPC server: `start()`, then `stop()` (or `await using`). */
export class RpcServer implements AsyncDisposable {
  /** Every method served, control methods included. */
  readonly table: MethodTable;
  /** Resolves once the server has stopped (after `stop`, or the `stop` RPC). */
  readonly stopped: Promise<void>;
  readonly #options: RpcServerOptions;
  readonly #log: (message: string) => void;
  #resolveStopped!: () => void;
  #warmup: string | undefined;
  #credentials: Credentials | undefined;
  readonly #whitelist: RpcWhitelist;
  #http: HttpServer | undefined;
  /** Every handler, in the order Core registers them. */
  readonly #handlers: readonly PathHandler[];
  #stopping: Promise<void> | undefined;

  /** Builds the method table; nothing is bound or written until {@linkcode RpcServer.start}. */
  constructor(options: RpcServerOptions) {
    this.#options = options;
    this.#log = options.log ?? (() => {});
    this.#warmup = options.warmup;
    this.#whitelist = new RpcWhitelist(options.rpcWhitelist ?? [], options.rpcWhitelistDefault);
    this.stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    this.table = new MethodTable();
    const control = controlMethods({
      table: this.table,
      startTime: options.startTime ?? Date.now(),
      logPath: options.logPath,
      requestShutdown: () => {
        this.#http?.interrupt();
        if (options.onStopRequest) options.onStopRequest();
        else void this.stop();
      },
    });
    for (const method of [...control, ...(options.methods ?? [])]) this.table.add(method);
    const jsonRpc = (request: HttpRequest, _path: string, signal: AbortSignal) =>
      this.#handle(request, signal);
    this.#handlers = [
      { prefix: "/", exact: true, handle: jsonRpc },
      ...(options.walletEndpoint ?? true ? [{ prefix: "/wallet/", handle: jsonRpc }] : []),
      ...(options.pathHandlers ?? []),
    ];
  }

  /**
   * Writes the cookie (or takes the password), binds and starts serving.
   * When it cannot, it throws what Core's init then says on stderr,
   * {@linkcode HTTP_SERVER_FAILED}, with the reason in the log (an invalid
   * `-rpcallowip` also shown through `showError`, as Core shows it).
   */
  async start(): Promise<void> {
    const o = this.#options;
    let allow: AllowList;
    try {
      allow = new AllowList(o.allowIp ?? []);
    } catch (error) {
      (o.showError ?? this.#log)((error as Error).message);
      throw new Error(HTTP_SERVER_FAILED);
    }
    const endpoints = this.#endpoints();
    try {
      this.#credentials = await Credentials.create({
        netDir: `${o.datadir.replace(/\/+$/, "")}/regtest`,
        user: o.user,
        password: o.password,
        rpcauth: o.rpcauth,
        cookieFile: o.cookieFile,
        cookiePerms: o.cookiePerms,
      });
    } catch (error) {
      this.#log((error as Error).message);
      throw new Error(HTTP_SERVER_FAILED);
    }
    if (o.password) {
      this.#log(
        "Warning: The use of rpcuser/rpcpassword is less secure, because credentials are " +
          "configured in plain text. It is recommended that locally-run instances switch to " +
          "cookie-based auth, or otherwise to use hashed rpcauth credentials. See share/rpcauth " +
          "in the source directory for more information.",
      );
    }
    this.#http = new HttpServer({
      endpoints,
      handler: (request, signal) => this.#route(request, signal),
      routes: (uri) => this.#match(uri) !== undefined,
      allowed: (hostname) => allow.allows(hostname),
      threads: o.threads,
      workQueue: o.workQueue,
      timeoutMs: (o.serverTimeout ?? 30) * 1000,
      maxConnections: o.maxConnections,
      replyBudgetBytes: o.replyBudgetBytes,
      log: this.#log,
    });
    try {
      this.#http.start();
    } catch {
      // The HTTP server logged every address that failed, and that none bound.
      await this.#credentials.removeCookie();
      throw new Error(HTTP_SERVER_FAILED);
    }
  }

  /** Core's `HTTPBindAddresses`: `-rpcbind` only together with `-rpcallowip`, else loopback. */
  #endpoints(): Endpoint[] {
    const o = this.#options;
    const port = o.port ?? 18443;
    const bind = o.bind ?? [];
    const allowIp = o.allowIp ?? [];
    let endpoints: Endpoint[];
    if (allowIp.length === 0 || bind.length === 0) {
      endpoints = [{ hostname: "::1", port }, { hostname: "127.0.0.1", port }];
      if (allowIp.length > 0) {
        this.#log(
          "WARNING: option -rpcallowip was specified without -rpcbind; this doesn't usually make sense",
        );
      }
      if (bind.length > 0) {
        this.#log(
          "WARNING: option -rpcbind was ignored because -rpcallowip was not specified, refusing " +
            "to allow everyone to connect",
        );
      }
    } else {
      endpoints = bind.map((entry) => {
        const { host, port: p } = splitHostPort(entry, port);
        return { hostname: host === "" ? "0.0.0.0" : host, port: p };
      });
    }
    // A free port is picked on the first address bound: take IPv4 first so 127.0.0.1 always has it.
    return port === 0
      ? [...endpoints].sort((a, b) =>
        Number(a.hostname.includes(":")) - Number(b.hostname.includes(":"))
      )
      : endpoints;
  }

  /** The bound addresses. */
  get addresses(): Deno.NetAddr[] {
    return this.#http?.addresses ?? [];
  }

  /** The bound port. */
  get port(): number {
    const first = this.addresses[0];
    if (!first) throw new Error("the RPC server is not started");
    return first.port;
  }

  /** Requests being handled and requests waiting in the work queue (zeros before start). */
  get workQueue(): { running: number; queued: number } {
    return this.#http?.workQueue ?? { running: 0, queued: 0 };
  }

  /** Body bytes reserved for requests being read, and requests waiting for some (zeros before start). */
  get bodyBudget(): { held: number; waiting: number } {
    return this.#http?.bodyBudget ?? { held: 0, waiting: 0 };
  }

  /** Reply bytes waiting for their clients now (0 before start). */
  get replyBytesHeld(): number {
    return this.#http?.replyBytesHeld ?? 0;
  }

  /** The cookie file written at start, if any. */
  get cookiePath(): string | undefined {
    return this.#credentials?.cookiePath;
  }

  /** The warm-up status while warming up, else undefined. */
  get warmupStatus(): string | undefined {
    return this.#warmup;
  }

  /** Enters (or stays in) warm-up with this status: calls answer -28 with it (`SetRPCWarmupStatus`). */
  setWarmup(status: string): void {
    this.#warmup = status;
  }

  /** Ends warm-up: calls are served (`SetRPCWarmupFinished`). */
  finishWarmup(): void {
    this.#warmup = undefined;
  }

  /** Stops: answers in-flight requests, closes every connection, removes the cookie. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      try {
        await this.#http?.stop();
      } finally {
        await this.#credentials?.removeCookie();
        this.#resolveStopped();
      }
    })();
    return this.#stopping;
  }

  /** Same as {@linkcode RpcServer.stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /**
   * Core's `http_request_cb` handler search: the first registered handler
   * whose prefix the target starts with (or equals, for an exact one) —
   * JSON-RPC's `/` (exact) and `/wallet/`, then the path handlers.
   */
  #match(uri: string): { handler: PathHandler; path: string } | undefined {
    for (const handler of this.#handlers) {
      if (handler.exact ? uri === handler.prefix : uri.startsWith(handler.prefix)) {
        return { handler, path: uri.slice(handler.prefix.length) };
      }
    }
    return undefined;
  }

  /** Runs the handler the request target matches (the server answered 404 when none does). */
  #route(request: HttpRequest, signal: AbortSignal): Promise<HttpReply> {
    const found = this.#match(request.uri);
    if (!found) return Promise.resolve({ status: 404 });
    return Promise.resolve(found.handler.handle(request, found.path, signal));
  }

  /** Core's `HTTPReq_JSONRPC`. */
  async #handle(request: HttpRequest, signal: AbortSignal): Promise<HttpReply> {
    if (request.method !== "POST") {
      return { status: 405, body: "JSONRPC server handles only POST requests" };
    }
    const authorization = findHeader(request.headers, "authorization");
    if (authorization === undefined) {
      return { status: 401, headers: [["WWW-Authenticate", WWW_AUTH]] };
    }
    const peer = peerText(request.peer);
    const authUser = this.#credentials!.check(authorization);
    if (authUser === undefined) {
      this.#log(`ThreadRPCServer incorrect password attempt from ${peer}`);
      return {
        status: 401,
        headers: [["WWW-Authenticate", WWW_AUTH]],
        delayMs: WRONG_PASSWORD_DELAY_MS,
      };
    }
    const permit = {
      methods: this.#whitelist.methodsOf(authUser),
      refused: (method?: string) =>
        this.#log(
          method === undefined
            ? `RPC User ${authUser} not allowed to call any methods`
            : `RPC User ${authUser} not allowed to call method ${method}`,
        ),
    };
    const reply = await this.#run(request.body, request.uri, authUser, peer, signal, permit);
    if (reply.body === null) return { status: reply.status };
    return {
      status: reply.status,
      headers: [["Content-Type", "application/json"]],
      // As bytes, so the text is not kept alive beside them while a slow client reads.
      body: encoder.encode(reply.body),
    };
  }

  /**
   * Runs one JSON-RPC request that arrived another way than HTTP (over IPC,
   * `Init.makeRpc`, whose channel is authenticated already): `request` is
   * its JSON text, `uri` `/` or `/wallet/<name>`, `user` who asks. Resolves
   * with the reply text as the HTTP server would send it ("" for a
   * notification, which gets none).
   */
  async execute(request: string, uri: string, user: string): Promise<string> {
    const reply = await this.#run(encoder.encode(request), uri, user, "ipc", NEVER_ABORTED);
    return reply.body ?? "";
  }

  /** Runs an authenticated request body on `uri` (bitcoind's `HTTPReq_JSONRPC` after its checks). */
  #run(
    body: Uint8Array,
    uri: string,
    authUser: string,
    peer: string,
    signal: AbortSignal,
    permit?: JsonRpcPermit,
  ) {
    const walletName = uri.startsWith("/wallet/")
      ? urlDecode(uri.slice("/wallet/".length))
      : undefined;
    return handleJsonRpc(body, (call) => {
      this.#options.debug?.(`ThreadRPCServer method=${call.method} user=${authUser}`);
      return this.table.execute(
        call.method,
        call.params,
        { method: call.method, uri, walletName, authUser, peer, jsonVersion: call.version, signal },
        { warmupStatus: this.#warmup, docCheck: this.#options.docCheck },
      );
    }, permit);
  }
}

/** The signal of a request nobody can abort (one over IPC has no connection to drop). */
const NEVER_ABORTED = new AbortController().signal;
