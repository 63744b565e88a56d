/**
 * The gui component's object, implementing `GuiInit` of
 * `schemas/gui.capnp`: a status page served with `Deno.serve`, showing the
 * chain height and each wallet's balance, read through the `Chain` and
 * `WalletLoader` capabilities at request time.
 *
 * - `GET /`: the page (HTML; every value from the capabilities escaped);
 * - `GET /api/status`: `{"height": 3, "wallets": [{"name": "alice", "balance": "150.00000000"}]}`.
 *
 * When the chain or the wallets cannot be read, both answer 503 with the
 * reason.
 *
 * @example
 * ```ts ignore
 * const gui = new Gui();
 * const url = await gui.start(chain, loader, "127.0.0.1:18480"); // "http://127.0.0.1:18480/"
 * await gui.stop();
 * ```
 * @module
 */
import type { Chain } from "../../schemas/gen/node.mp.ts";
import type { WalletLoader } from "../../schemas/gen/wallet.mp.ts";
import type { GuiInit } from "../../schemas/gen/gui.mp.ts";
import { dup, release } from "../../component.ts";

/** What `/api/status` answers. */
export interface Status {
  height: number;
  /** Every wallet, with its balance in coins ("50.00000000"). */
  wallets: { name: string; balance: string }[];
}

/** Units per coin. */
const COIN = 100_000_000n;

/**
 * `units` as coins with eight decimals.
 *
 * @example
 * ```ts
 * import { formatCoins } from "./gui.ts";
 * console.assert(formatCoins(5_000_000_001n) === "50.00000001");
 * ```
 */
export function formatCoins(units: bigint): string {
  const magnitude = units < 0n ? -units : units;
  const fraction = (magnitude % COIN).toString().padStart(8, "0");
  return `${units < 0n ? "-" : ""}${magnitude / COIN}.${fraction}`;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `text` safe to place in HTML content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

/** Reads the status through the capabilities. */
async function readStatus(chain: Chain, wallets: WalletLoader): Promise<Status> {
  const [height, names] = await Promise.all([chain.getHeight(), wallets.listWallets()]);
  const balances = await Promise.all(names.map(async (name) => {
    const wallet = await wallets.loadWallet(name);
    try {
      if (wallet === null) throw new Error(`no wallet ${JSON.stringify(name)}`);
      return { name, balance: formatCoins(await wallet.getBalance()) };
    } finally {
      release(wallet);
    }
  }));
  return { height, wallets: balances };
}

/** The HTML page for `status`. */
function renderPage(status: Status): string {
  const rows = status.wallets.map((w) =>
    `<tr><td>${escapeHtml(w.name)}</td><td>${escapeHtml(w.balance)}</td></tr>`
  );
  const wallets = rows.length === 0
    ? "<p>No wallets.</p>"
    : `<table><tr><th>Wallet</th><th>Balance</th></tr>${rows.join("")}</table>`;
  return page(`<p>Chain height: <strong>${status.height}</strong></p>${wallets}`);
}

function page(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="refresh" content="5"><title>Toy node</title></head>` +
    `<body><h1>Toy node</h1>${body}</body></html>\n`;
}

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'",
  "x-content-type-options": "nosniff",
};

/** Answers one request. */
async function handle(request: Request, chain: Chain, wallets: WalletLoader): Promise<Response> {
  const { pathname } = new URL(request.url);
  const json = pathname === "/api/status";
  if (!json && pathname !== "/") return new Response("Not found\n", { status: 404 });
  if (request.method !== "GET") {
    return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET" } });
  }
  let status: Status;
  try {
    status = await readStatus(chain, wallets);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return json
      ? Response.json({ error: reason }, { status: 503 })
      : html(page(`<p>Unavailable: ${escapeHtml(reason)}</p>`), 503);
  }
  return json ? Response.json(status) : html(renderPage(status), 200);
}

function html(body: string, status: number): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS },
  });
}

/** `host:port`, port 0 meaning any free one. */
function parseListen(listen: string): { hostname: string; port: number } {
  const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen);
  if (match === null || Number(match[2]) > 65535) {
    throw new Error(
      `Invalid listen address ${JSON.stringify(listen)}: expected host:port, e.g. 127.0.0.1:18480`,
    );
  }
  return { hostname: match[1], port: Number(match[2]) };
}

interface Running {
  server: Deno.HttpServer<Deno.NetAddr>;
  chain: Chain;
  wallets: WalletLoader;
  url: string;
}

/**
 * The gui's Init object: serves one status page at a time. `start` keeps
 * references of its own to what it is handed; `stop` releases them.
 */
export class Gui implements GuiInit {
  #running: Running | null = null;

  start(chain: Chain | null, wallets: WalletLoader | null, listen: string): string {
    if (this.#running !== null) throw new Error(`Already serving ${this.#running.url}`);
    if (chain === null || wallets === null) {
      throw new Error("start: a Chain and a WalletLoader are required");
    }
    const { hostname, port } = parseListen(listen);
    // The parameters are lent for this call only: the page keeps its own references.
    const kept = { chain: dup(chain), wallets: dup(wallets) };
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve(
        { hostname, port, onListen: () => {} },
        (request) => handle(request, kept.chain, kept.wallets),
      );
    } catch (error) {
      release(kept.chain);
      release(kept.wallets);
      throw new Error(`Unable to serve on ${listen}: ${(error as Error).message}`);
    }
    const url = `http://${hostname}:${server.addr.port}/`;
    this.#running = { server, ...kept, url };
    return url;
  }

  async stop(): Promise<void> {
    const running = this.#running;
    if (running === null) return;
    this.#running = null;
    await running.server.shutdown();
    release(running.chain);
    release(running.wallets);
  }
}
