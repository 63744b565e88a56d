/**
 * The gui in process: its page and `/api/status` over real HTTP on a free
 * port, read through the chain and wallet objects at request time; HTML
 * escaping; refusals; and `stop` releasing what `start` was handed.
 *
 * @module
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { connect, IpcLog, listen, release } from "../../mod.ts";
import type { Chain } from "../../schemas/gen/node.mp.ts";
import { GuiInit } from "../../schemas/gen/gui.mp.ts";
import type { WalletLoader } from "../../schemas/gen/wallet.mp.ts";
import { SUBSIDY, ToyChain } from "./toy_node.ts";
import { FileWalletInit } from "./toy_wallet.ts";
import { escapeHtml, formatCoins, Gui } from "../../components/gui/gui.ts";

/** A loopback `host:port` nobody listens on right now. */
function freeAddress(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return `127.0.0.1:${listener.addr.port}`;
}

/** A chain with two wallets on it: alice mined 3 blocks, bob none. */
function app() {
  const datadir = Deno.makeTempDirSync();
  const chain = ToyChain.open(datadir);
  const loader = new FileWalletInit(datadir).makeWalletLoader(chain);
  chain.generateToAddress(3, loader.createWallet("alice").getNewAddress());
  loader.createWallet("bob");
  return { datadir, chain, loader };
}

/** A loader whose only wallet has `name` and a balance of 1 unit. */
function loaderNamed(name: string): WalletLoader {
  const wallet = {
    getName: () => name,
    getNewAddress: () => "",
    getBalance: () => 1n,
    listAddresses: () => [],
  };
  return { listWallets: () => [name], loadWallet: () => wallet, createWallet: () => wallet };
}

Deno.test("gui: the page and /api/status show the height and every balance", async () => {
  const { chain, loader } = app();
  const gui = new Gui();
  const url = gui.start(chain, loader, freeAddress());
  try {
    const page = await fetch(url);
    assertEquals(page.status, 200);
    assertEquals(page.headers.get("content-type"), "text/html; charset=utf-8");
    assertEquals(page.headers.get("content-security-policy"), "default-src 'none'");
    const html = await page.text();
    assert(html.includes("Chain height: <strong>2</strong>"), html);
    assert(html.includes("<tr><td>alice</td><td>150.00000000</td></tr>"), html);
    assert(html.includes("<tr><td>bob</td><td>0.00000000</td></tr>"), html);
    const status = await (await fetch(new URL("/api/status", url))).json();
    assertEquals(status, {
      height: 2,
      wallets: [{ name: "alice", balance: "150.00000000" }, { name: "bob", balance: "0.00000000" }],
    });
    // Read at request time: a new block shows at once.
    chain.generateToAddress(1, "tc1someoneelse");
    assertEquals((await (await fetch(new URL("/api/status", url))).json()).height, 3);
  } finally {
    await gui.stop();
  }
});

Deno.test("gui: wallet names are escaped in the page", async () => {
  const { chain } = app();
  const name = `<script>alert("x")</script>&'`;
  const gui = new Gui();
  const url = gui.start(chain, loaderNamed(name), freeAddress());
  try {
    const html = await (await fetch(url)).text();
    assert(!html.includes("<script>"), html);
    assert(html.includes(`<td>${escapeHtml(name)}</td>`), html);
    assertEquals(escapeHtml(name), "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    const status = await (await fetch(new URL("/api/status", url))).json();
    assertEquals(status.wallets, [{ name, balance: "0.00000001" }]);
  } finally {
    await gui.stop();
  }
});

Deno.test("gui: unknown paths, other methods and an unreadable chain", async () => {
  const { loader } = app();
  const failing: Chain = {
    getHeight: () => {
      throw new Error("node <gone>");
    },
    getBlockHash: () => new Uint8Array(),
    generateToAddress: () => 0,
    getCoinbases: () => [],
  };
  const gui = new Gui();
  const url = gui.start(failing, loader, freeAddress());
  try {
    const missing = await fetch(new URL("/nope", url));
    assertEquals([missing.status, await missing.text()], [404, "Not found\n"]);
    const post = await fetch(url, { method: "POST" });
    assertEquals([post.status, post.headers.get("allow"), await post.text()], [
      405,
      "GET",
      "Method not allowed\n",
    ]);
    const page = await fetch(url);
    assertEquals(page.status, 503);
    assert((await page.text()).includes("Unavailable: node &lt;gone&gt;"));
    const api = await fetch(new URL("/api/status", url));
    assertEquals([api.status, await api.json()], [503, { error: "node <gone>" }]);
  } finally {
    await gui.stop();
  }
});

Deno.test("gui: start refuses bad addresses, a taken port and a second start", async () => {
  const { chain, loader } = app();
  const gui = new Gui();
  for (const listen of ["", "127.0.0.1", "127.0.0.1:99999", "http://x:1", "[::1]:80"]) {
    assertThrows(() => gui.start(chain, loader, listen), Error, "Invalid listen address");
  }
  assertThrows(() => gui.start(null, loader, freeAddress()), Error, "are required");
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  assertThrows(
    () => gui.start(chain, loader, `127.0.0.1:${taken.addr.port}`),
    Error,
    `Unable to serve on 127.0.0.1:${taken.addr.port}`,
  );
  const url = gui.start(chain, loader, freeAddress());
  try {
    assertThrows(() => gui.start(chain, loader, freeAddress()), Error, `Already serving ${url}`);
  } finally {
    await gui.stop();
  }
});

Deno.test("gui: stop closes the server and releases the chain and the loader", async () => {
  const { datadir, loader } = app();
  // A chain of its own (the same blocks), held by this test and the gui only.
  const chain = ToyChain.open(datadir);
  const released: string[] = [];
  const gui = new Gui();
  const url = gui.start(
    Object.assign(chain, { [Symbol.dispose]: () => released.push("chain") }),
    Object.assign(loader, { [Symbol.dispose]: () => released.push("loader") }),
    freeAddress(),
  );
  assertEquals((await fetch(url)).status, 200);
  await gui.stop();
  // The gui gave back the references it kept: the caller's are the last.
  assertEquals(released, []);
  release(chain);
  release(loader);
  assertEquals(released, ["chain", "loader"]);
  await assertRejects(() => fetch(url), TypeError);
  await gui.stop();
  // And it can start again.
  const again = gui.start(chain, loader, freeAddress());
  assertEquals((await (await fetch(new URL("/api/status", again))).json()).height, 2);
  await gui.stop();
});

Deno.test("formatCoins: eight decimals, exact", () => {
  assertEquals(formatCoins(0n), "0.00000000");
  assertEquals(formatCoins(SUBSIDY), "50.00000000");
  assertEquals(formatCoins(2n ** 63n - 1n), "92233720368.54775807");
  assertEquals(formatCoins(-1n), "-0.00000001");
});

Deno.test("gui over a socket: its HTTP handler calls back into the objects the client passed", async () => {
  // The handler's calls start outside any call from the client, so the gui
  // makes threads with the ThreadMap the client handed over in `construct`.
  const { chain, loader } = app();
  const datadir = Deno.makeTempDirSync();
  const log = new IpcLog({ level: "off" });
  await using _listener = listen(GuiInit, "unix:gui.sock", new Gui(), { datadir, log });
  await using gui = await connect(GuiInit, "unix:gui.sock", { datadir, log });
  const url = await gui.start(chain, loader, freeAddress());
  try {
    const status = await (await fetch(new URL("/api/status", url))).json();
    assertEquals(status.height, 2);
    assertEquals(status.wallets[0], { name: "alice", balance: "150.00000000" });
  } finally {
    await gui.stop();
  }
});
