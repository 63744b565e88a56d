/**
 * The gui's web server: the page bundled ahead of time (`web_assets.ts`),
 * JSON-RPC forwarded to the node over IPC, and the live feed as server-sent
 * events. Only the local user holding the session token may use it:
 *
 * - `GET /?token=<token>` sets the session cookie (`HttpOnly`,
 *   `SameSite=Strict`) and redirects to `/`; every other request needs the
 *   cookie, or gets 403;
 * - the `Host` header must name this server (`127.0.0.1:<port>` or
 *   `localhost:<port>`), which defeats DNS rebinding;
 * - an `Origin` (or `Sec-Fetch-Site`) other than this server's is refused,
 *   and a `POST` must carry a same-origin `Origin`: other sites cannot
 *   drive the wallet through the browser.
 *
 * Routes: `/`, `/app.js`, `/app.css`; `GET /api/events` (events `hello`,
 * `tip`, `components`, `ipc`); `POST /api/rpc` (`{"method", "params",
 * "wallet"}` → the node's JSON-RPC reply, unchanged);
 * `POST /api/components/<restart|stop>` (`{"name"}`).
 *
 * `gui.ts` makes one as `new GuiServer({ port, token, backend })`, prints
 * its `url` and `publish`es the chain's tip and the components' state to
 * the open pages; `tests/components/gui/` drives it in Chromium.
 * @module
 */
import { sameToken } from "../../component.ts";
import { APP_CSS, APP_JS, INDEX_HTML } from "./web_assets.ts";

/** What the server asks the rest of the gui for. */
export interface GuiBackend {
  /** Runs one JSON-RPC request (its JSON text) on `uri` (`/` or `/wallet/<name>`). */
  rpc(request: string, uri: string): Promise<string>;
  /** The first event a new page gets: everything it shows, as now. */
  hello(): Promise<unknown>;
  /** Restarts (`restart`) or stops (`stop`) the named component. */
  control(action: "restart" | "stop", name: string): Promise<void>;
}

/** How to serve. */
export interface GuiServerOptions {
  /** Port on 127.0.0.1. */
  readonly port: number;
  /** The session token: at least 32 characters. */
  readonly token: string;
  readonly backend: GuiBackend;
}

/** Bytes an event stream may have waiting for a page that does not read; then it is closed. */
export const MAX_QUEUED_EVENT_BYTES = 4 * 1024 * 1024;

/** Bytes of a request body the server reads at most. */
export const MAX_BODY_BYTES = 1024 * 1024;

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; " +
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; " +
    "form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const encoder = new TextEncoder();

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS, ...headers },
  });
}

function sameText(a: string, b: string): boolean {
  return sameToken(encoder.encode(a), encoder.encode(b));
}

/** The value of cookie `name` in a `Cookie` header, or null. */
function cookieValue(header: string | null, name: string): string | null {
  for (const part of (header ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return null;
}

/** Reads a JSON object body of at most {@linkcode MAX_BODY_BYTES}. */
async function jsonBody(request: Request): Promise<Record<string, unknown>> {
  const reader = request.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel();
        throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(value);
    }
  }
  const body = new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
  const value = JSON.parse(body);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("expected a JSON object");
  }
  return value;
}

interface EventClient {
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
}

/** The gui's HTTP server on 127.0.0.1. Dispose it to stop serving. */
export class GuiServer implements AsyncDisposable {
  readonly #options: GuiServerOptions;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #clients = new Set<EventClient>();
  readonly #cookie: string;
  readonly #hosts: string[];

  /** Starts serving; throws when the port cannot be bound. */
  constructor(options: GuiServerOptions) {
    if (options.token.length < 32) throw new Error("the session token must have 32 characters");
    this.#options = options;
    this.#cookie = `capdeno_gui_${options.port}`;
    this.#hosts = [`127.0.0.1:${options.port}`, `localhost:${options.port}`];
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: options.port, onListen: () => {} },
      (request) => this.#handle(request),
    );
  }

  /** The URL to open, with the session token. */
  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/?token=${this.#options.token}`;
  }

  /** Pages connected to the event stream. */
  get listeners(): number {
    return this.#clients.size;
  }

  /** Sends event `name` with `data` (as JSON) to every connected page. */
  publish(name: string, data: unknown): void {
    const bytes = encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    for (const client of this.#clients) this.#send(client, bytes);
  }

  #send(client: EventClient, bytes: Uint8Array): void {
    const { controller } = client;
    // A page that stops reading is dropped rather than buffered without bound.
    if ((controller.desiredSize ?? 0) < -MAX_QUEUED_EVENT_BYTES) {
      this.#clients.delete(client);
      try {
        controller.close();
      } catch { /* closed by the page */ }
      return;
    }
    try {
      controller.enqueue(bytes);
    } catch {
      this.#clients.delete(client);
    }
  }

  /** Why `request` is refused (403), or null when it may go on. */
  #refusal(request: Request, url: URL): string | null {
    const host = request.headers.get("host") ?? "";
    if (!this.#hosts.includes(host)) return `unexpected Host "${host}"`;
    const origin = request.headers.get("origin");
    if (origin !== null && origin !== `http://${host}`) return `cross-site request from ${origin}`;
    const site = request.headers.get("sec-fetch-site");
    if (site !== null && site !== "same-origin" && site !== "none") {
      return `cross-site request (Sec-Fetch-Site: ${site})`;
    }
    if (request.method === "POST" && origin === null) return "a POST must carry its Origin";
    const cookie = cookieValue(request.headers.get("cookie"), this.#cookie);
    const given = url.pathname === "/" ? url.searchParams.get("token") : null;
    if (cookie !== null && sameText(cookie, this.#options.token)) return null;
    if (given !== null && sameText(given, this.#options.token)) return null;
    return "no valid session: open the URL with the token the gui printed";
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const refused = this.#refusal(request, url);
    if (refused !== null) return text(403, `Forbidden: ${refused}`);
    if (url.searchParams.has("token")) {
      // Trade the token for the cookie, and take it out of the address bar.
      return new Response(null, {
        status: 303,
        headers: {
          location: "/",
          "set-cookie": `${this.#cookie}=${this.#options.token}; HttpOnly; SameSite=Strict; Path=/`,
          ...SECURITY_HEADERS,
        },
      });
    }
    const route = `${request.method} ${url.pathname}`;
    try {
      switch (route) {
        case "GET /":
          return this.#asset(INDEX_HTML, "text/html; charset=utf-8");
        case "GET /app.js":
          return this.#asset(APP_JS, "text/javascript; charset=utf-8");
        case "GET /app.css":
          return this.#asset(APP_CSS, "text/css; charset=utf-8");
        case "GET /api/events":
          return await this.#events();
        case "POST /api/rpc":
          return await this.#rpc(request);
        case "POST /api/components/restart":
        case "POST /api/components/stop":
          return await this.#control(request, url.pathname.endsWith("stop") ? "stop" : "restart");
      }
    } catch (error) {
      return Response.json({ error: error instanceof Error ? error.message : String(error) }, {
        status: 400,
        headers: SECURITY_HEADERS,
      });
    }
    return text(404, `Not found: ${route}`);
  }

  #asset(body: string, type: string): Response {
    return new Response(body, { headers: { "content-type": type, ...SECURITY_HEADERS } });
  }

  async #events(): Promise<Response> {
    const hello = await this.#options.backend.hello();
    let client: EventClient;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = { controller };
        this.#clients.add(client);
        // After a restart of the gui the page reconnects within half a second.
        controller.enqueue(encoder.encode("retry: 500\n\n"));
        this.#send(client, encoder.encode(`event: hello\ndata: ${JSON.stringify(hello)}\n\n`));
      },
      cancel: () => {
        this.#clients.delete(client);
      },
    }, { highWaterMark: 0 });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream", ...SECURITY_HEADERS },
    });
  }

  async #rpc(request: Request): Promise<Response> {
    const body = await jsonBody(request);
    const { method, params, wallet } = body;
    if (typeof method !== "string" || method === "") throw new Error("method: a name is required");
    if (params !== undefined && (typeof params !== "object" || params === null)) {
      throw new Error("params: an array or an object");
    }
    if (wallet !== undefined && wallet !== null && typeof wallet !== "string") {
      throw new Error("wallet: a wallet name");
    }
    const uri = typeof wallet === "string" ? `/wallet/${encodeURIComponent(wallet)}` : "/";
    const reply = await this.#options.backend.rpc(
      JSON.stringify({ jsonrpc: "1.0", id: "gui", method, params: params ?? [] }),
      uri,
    );
    return new Response(reply, {
      headers: { "content-type": "application/json", ...SECURITY_HEADERS },
    });
  }

  async #control(request: Request, action: "restart" | "stop"): Promise<Response> {
    const { name } = await jsonBody(request);
    if (typeof name !== "string") throw new Error("name: a component's name");
    await this.#options.backend.control(action, name);
    return Response.json({ ok: true }, { headers: SECURITY_HEADERS });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const client of this.#clients) {
      try {
        client.controller.close();
      } catch { /* closed */ }
    }
    this.#clients.clear();
    await this.#server.shutdown();
  }
}
