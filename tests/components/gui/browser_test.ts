/**
 * The gui end to end, in a real headless Chromium (Debian's, through
 * playwright-core), with the node and the gui as sandboxed processes under
 * a supervisor: the session token (403 without it, and for another Host or
 * Origin), the chain page updated live after `generatetoaddress`, the RPC
 * console, the components page listing node and gui with their permission
 * flags, the gui unable to read the node's or the wallet's data directory, the page
 * recovering by itself after the gui and then the node restart, and the
 * wallet pages through `/wallet/<name>` to the wallet process (its errors
 * next to their cause; two wallets, a confirmed send between them), the
 * wallet process killed from outside and seen coming back with its
 * wallets, and the Stop button.
 * Screenshots are saved as artefacts (`artefactsDir()`).
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../../assert.ts";
import {
  artefactsDir,
  launchBrowser,
  type PageGlobals,
  PATIENCE_MS,
  startApp,
  waitForText,
  waitInPage,
} from "./app.ts";

/** BIP 173's regtest P2WPKH example. */
const ADDRESS = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

Deno.test({
  name: "gui in Chromium: token, live chain, console, components, sandbox, restarts, wallet pages",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await using app = await startApp();
  await using browser = await launchBrowser();
  const shots = artefactsDir();
  const context = await browser.newContext();
  const page = await context.newPage();
  const fail = (what: string) => `${what}\n${app.lines.slice(-60).join("\n")}`;
  /** A step; when it fails, what the components printed last is shown with it. */
  const step = async (name: string, fn: () => Promise<void>) => {
    if (!await t.step(name, fn)) console.error(`${name}: the components printed\n${fail("")}`);
  };

  await step(
    "without the token: 403; with another Host or a cross-site Origin: 403",
    async () => {
      const bare = await fetch(`${app.origin}/`);
      assertEquals(bare.status, 403);
      assertMatch(await bare.text(), /no valid session/);
      const wrong = await fetch(`${app.origin}/?token=${"0".repeat(64)}`);
      assertEquals(wrong.status, 403);
      await wrong.body?.cancel();
      const url = new URL(app.gui.url);
      const rebound = await fetch(url, { headers: { host: `evil.example:${app.guiPort}` } });
      assertEquals(rebound.status, 403);
      await rebound.body?.cancel();
      const grant = await fetch(url, { redirect: "manual" });
      assertEquals(grant.status, 303);
      const cookie = grant.headers.get("set-cookie")!;
      assertMatch(cookie, /; HttpOnly; SameSite=Strict; Path=\/$/);
      const session = cookie.split(";")[0];
      const crossSite = await fetch(`${app.origin}/api/rpc`, {
        method: "POST",
        headers: { cookie: session, origin: "http://evil.example" },
        body: JSON.stringify({ method: "getblockcount" }),
      });
      assertEquals(crossSite.status, 403);
      await crossSite.body?.cancel();
      const noOrigin = await fetch(`${app.origin}/api/rpc`, {
        method: "POST",
        headers: { cookie: session },
        body: JSON.stringify({ method: "getblockcount" }),
      });
      assertEquals(noOrigin.status, 403);
      await noOrigin.body?.cancel();
      // The browser without the token is refused too.
      const refused = await page.goto(`${app.origin}/`);
      assertEquals(refused?.status(), 403);
    },
  );

  await step(
    "with the token: the chain page shows the height, live after generatetoaddress",
    async () => {
      await page.goto(app.gui.url);
      assertEquals(new URL(page.url()).search, "", "the token left the address bar");
      await waitForText(page, "height", "0");
      await waitForText(page, "connection", "connected");
      await page.screenshot({ path: join(shots, "chain-0.png"), fullPage: true });
      await app.rpc("generatetoaddress", [3, ADDRESS]);
      await waitForText(page, "height", "3");
      const hash = await app.rpc("getbestblockhash") as string;
      await waitForText(page, "tip-hash", hash);
      // Four rows (3 to 0) come only from a refresh at height 3.
      await page.waitForSelector("#blocks tr:nth-child(4)", { timeout: PATIENCE_MS });
      assertEquals(await page.textContent("#blocks tr:first-child td:first-child"), "3");
      await page.screenshot({ path: join(shots, "chain-3.png"), fullPage: true });
    },
  );

  await step(
    "the mine control mines to an address with progress; a bad address is named",
    async () => {
      await page.fill("#mine-count", "12");
      await page.fill("#mine-address", ADDRESS);
      await page.click("#mine-button");
      await waitForText(page, "mine-status", "mined 12 of 12");
      await waitForText(page, "height", "15");
      await page.fill("#mine-count", "1");
      await page.fill("#mine-address", "notanaddress");
      await page.click("#mine-button");
      await waitForText(page, "mine-error", /Error: Invalid address \(code -5\)|Invalid address/);
      assertEquals(await app.rpc("getblockcount"), 15);
    },
  );

  await step("console: getblockcount, help, and an error as bitcoin-qt shows it", async () => {
    await page.goto(`${app.origin}/#console`);
    await page.fill("#console-input", "getblockcount");
    await page.press("#console-input", "Enter");
    await page.waitForSelector("#console-output pre.result", { timeout: PATIENCE_MS });
    assertEquals(await page.textContent("#console-output pre.result"), "15");
    await page.fill("#console-input", "nosuchmethod 1");
    await page.press("#console-input", "Enter");
    await page.waitForSelector("#console-output pre.error", { timeout: PATIENCE_MS });
    assertEquals(
      await page.textContent("#console-output pre.error"),
      "Method not found (code -32601)",
    );
    await page.fill("#console-input", "getblockhash 99");
    await page.press("#console-input", "Enter");
    const second = page.locator("#console-output pre.error").nth(1);
    await second.waitFor({ timeout: PATIENCE_MS });
    assertEquals(await second.textContent(), "Block height out of range (code -8)");
    await page.fill("#console-input", "help getblockcount");
    await page.press("#console-input", "Enter");
    await waitInPage(page, (text) => {
      const { document } = globalThis as unknown as PageGlobals;
      return document.getElementById("console-output")!.textContent!.includes(text);
    }, "Returns the height");
    // History: the arrow brings the last command back.
    await page.press("#console-input", "ArrowUp");
    assertEquals(await page.inputValue("#console-input"), "help getblockcount");
    await page.screenshot({ path: join(shots, "console.png"), fullPage: true });
  });

  await step(
    "components page: launcher, node, wallet and gui with their permission flags",
    async () => {
      await page.goto(`${app.origin}/#components`);
      await page.waitForSelector('tr[data-component="gui"]', { timeout: PATIENCE_MS });
      const guiFlags = await page.textContent('tr[data-component="gui"] td.permissions');
      assert(guiFlags!.includes(`--allow-net=127.0.0.1:${app.guiPort},unix:`), fail(guiFlags!));
      assert(!guiFlags!.includes(app.node.dataDir), fail(guiFlags!));
      const nodeFlags = await page.textContent('tr[data-component="node"] td.permissions');
      assert(nodeFlags!.includes("--allow-read=") && nodeFlags!.includes("/view/node/regtest"));
      assert(nodeFlags!.includes("--deny-run"), fail(nodeFlags!));
      // The wallet process: its wallets folder and the node's socket, no network address.
      const walletFlags = await page.textContent('tr[data-component="wallet"] td.permissions');
      assert(walletFlags!.includes("/view/wallet/wallets"), fail(walletFlags!));
      assert(walletFlags!.includes("--allow-net=unix:"), fail(walletFlags!));
      assert(!/--allow-net=(?!unix:)/.test(walletFlags!), fail(walletFlags!));
      const guiPid = app.gui.supervised.instance!.pid;
      assertEquals(await page.textContent('tr[data-component="gui"] td:nth-child(2)'), `${guiPid}`);
      assertEquals(
        await page.textContent('tr[data-component="launcher"] td:nth-child(3)'),
        "running",
      );
      await page.screenshot({ path: join(shots, "components.png"), fullPage: true });
    },
  );

  await step("the gui process cannot read the node's or the wallet's data directory", async () => {
    // The directory is there and readable to the test…
    assert([...Deno.readDirSync(join(app.node.dataDir, "regtest"))].length > 0);
    // …but not to the gui, asked from inside its sandbox.
    const gui = await app.gui.supervised.current();
    const denied = await gui.checkAccess(join(app.node.dataDir, "regtest"));
    assertMatch(denied, /^NotCapable: Requires read access to/);
    const cookie = await gui.checkAccess(join(app.node.dataDir, "regtest", ".cookie"));
    assertMatch(cookie, /^NotCapable: Requires read access to/);
    // Nor the wallet's, where its keys are.
    const walletDir = app.wallet.instance!.paths.dataDir;
    assert([...Deno.readDirSync(join(walletDir, "wallets"))].length > 0);
    assertMatch(await gui.checkAccess(join(walletDir, "wallets")), /^NotCapable: Requires read/);
  });

  await step("IPC page: the gui's calls to the node, with counts and percentiles", async () => {
    await page.goto(`${app.origin}/#ipc`);
    await waitInPage(page, (text) => {
      const { document } = globalThis as unknown as PageGlobals;
      return document.getElementById("ipc-stats")!.textContent!.includes(text);
    }, "gui → node Rpc.executeRpc");
    await page.fill("#ipc-filter", "NotifyBlockTipCallback");
    await waitInPage(page, (text) => {
      const { document } = globalThis as unknown as PageGlobals;
      const rows = Array.from(document.querySelectorAll("#ipc-stats tr"));
      return rows.length > 0 && rows.every((row) => row.textContent!.includes(text));
    }, "node → gui NotifyBlockTipCallback.call");
    await page.screenshot({ path: join(shots, "ipc.png"), fullPage: true });
  });

  await step("the page recovers by itself after the gui restarts (restart button)", async () => {
    await page.goto(`${app.origin}/#components`);
    const before = app.gui.supervised.instance!.pid;
    await page.click('tr[data-component="gui"] button[data-action="restart"]');
    await waitInPage(page, (pid) => {
      const { document } = globalThis as unknown as PageGlobals;
      const cell = document.querySelector('tr[data-component="gui"] td:nth-child(2)');
      return /^\d+$/.test(cell?.textContent ?? "") && cell!.textContent !== String(pid);
    }, before);
    assertEquals(app.gui.supervised.exits.length, 1);
    await app.rpc("generatetoaddress", [1, ADDRESS]);
    await page.goto(`${app.origin}/#chain`);
    await waitForText(page, "height", "16");
  });

  await step("…and after the node restarts", async () => {
    const node = app.application.service;
    await node.restartComponent("node");
    // The gui follows the node (it exits with it and is started again).
    await waitForText(page, "connection", "connected");
    const deadline = Date.now() + PATIENCE_MS;
    for (;;) {
      try {
        await app.rpc("generatetoaddress", [1, ADDRESS]);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await waitForText(page, "height", "17");
    await page.screenshot({ path: join(shots, "chain-after-restarts.png"), fullPage: true });
  });

  await step(
    "wallet pages show the wallet's errors, in bitcoind's words, next to their cause",
    async () => {
      await page.goto(`${app.origin}/#wallets`);
      await waitForText(page, "loaded-wallets", "miner");
      await page.fill("#create-name", "miner");
      await page.click("#create-form button");
      await waitForText(page, "wallets-error", /Database already exists\. \(code -4\)$/);
      await page.fill("#load-name", "nosuch");
      await page.click('#load-form button[data-action="loadwallet"]');
      await waitForText(page, "wallets-error", /Path does not exist\. \(code -18\)$/);
      await page.click('#load-form button[data-action="unloadwallet"]');
      await waitForText(
        page,
        "wallets-error",
        "Requested wallet does not exist or is not loaded (code -18)",
      );
      await page.goto(`${app.origin}/#send`);
      await page.fill("#send-address", "nonsense");
      await page.fill("#send-amount", "-1");
      await page.click("#send-form button");
      await waitForText(page, "send-address-error", /^Invalid address/);
      await waitForText(page, "send-amount-error", /^Amount: a positive number/);
      await page.screenshot({ path: join(shots, "send-errors.png"), fullPage: true });
    },
  );

  await step(
    "wallets: create two, mine to A, send A → B with confirmation, balances update live",
    async () => {
      await page.goto(`${app.origin}/#wallets`);
      for (const name of ["alice", "bob"]) {
        await page.fill("#create-name", name);
        await page.click("#create-form button");
        await waitForText(page, "wallets-result", `createwallet: {"name":"${name}"}`);
      }
      await waitForText(page, "loaded-wallets", "miner, alice, bob");
      await page.selectOption("#wallet", "bob");
      await page.goto(`${app.origin}/#receive`);
      await page.click("#receive-form button");
      await page.waitForSelector("#receive-qr[src^='data:image/gif']", { timeout: PATIENCE_MS });
      const bobAddress = (await page.textContent("#receive-address"))!;
      await page.screenshot({ path: join(shots, "receive.png"), fullPage: true });
      await page.selectOption("#wallet", "alice");
      await page.goto(`${app.origin}/#chain`);
      await page.fill("#mine-count", "101");
      await page.fill("#mine-address", "");
      await page.click("#mine-button");
      await waitForText(page, "mine-status", "mined 101 of 101");
      await page.goto(`${app.origin}/#overview`);
      await waitForText(page, "balance-trusted", "50.00000000");
      await page.goto(`${app.origin}/#send`);
      await page.fill("#send-address", bobAddress);
      await page.fill("#send-amount", "1.5");
      await page.fill("#send-feerate", "2");
      await page.click("#send-form button");
      await page.waitForSelector("#send-confirm:not([hidden])", { timeout: PATIENCE_MS });
      await page.click("#confirm-send");
      await waitForText(page, "send-result", /^Sent: transaction [0-9a-f]{64}$/);
      await app.rpc("generatetoaddress", [1, ADDRESS]);
      await page.selectOption("#wallet", "bob");
      await page.goto(`${app.origin}/#overview`);
      await waitForText(page, "balance-trusted", "1.50000000");
      await page.goto(`${app.origin}/#transactions`);
      await page.waitForSelector("#history tr", { timeout: PATIENCE_MS });
      await page.screenshot({ path: join(shots, "transactions.png"), fullPage: true });
    },
  );
  await step(
    "kill the wallet process: the components page shows it come back, with the wallets made here",
    async () => {
      await page.goto(`${app.origin}/#components`);
      await page.waitForSelector('tr[data-component="wallet"]', { timeout: PATIENCE_MS });
      const cell = (n: number) =>
        page.textContent(`tr[data-component="wallet"] td:nth-child(${n})`);
      const pid = Number(await cell(2));
      const restarts = Number(await cell(5));
      assert(pid > 0 && pid !== Deno.pid, `the wallet's pid on the page: ${pid}`);
      Deno.kill(pid, "SIGKILL"); // from outside, as `kill -9` would
      await waitInPage(page, ([before, restartsAfter]) => {
        const { document } = globalThis as unknown as PageGlobals;
        const cells = Array.from(
          document.querySelectorAll('tr[data-component="wallet"] td'),
          (td) => td.textContent,
        );
        return /^\d+$/.test(cells[1] ?? "") && cells[1] !== before &&
          cells[2] === "running" && cells[4] === restartsAfter;
      }, [String(pid), String(restarts + 1)]);
      await page.screenshot({ path: join(shots, "wallet-restarted.png"), fullPage: true });
      // The wallets made on the page were created to load at start (as bitcoin-qt makes them).
      await page.goto(`${app.origin}/#wallets`);
      await waitForText(page, "loaded-wallets", "miner, alice, bob");
      await page.selectOption("#wallet", "bob");
      await page.goto(`${app.origin}/#overview`);
      await waitForText(page, "balance-trusted", "1.50000000");
    },
  );

  await step(
    "the Stop button stops the wallet process for good, after a confirmation",
    async () => {
      await page.goto(`${app.origin}/#components`);
      const dialog = new Promise<string>((resolve) =>
        page.once("dialog", (shown) => {
          resolve(shown.message());
          void shown.accept();
        })
      );
      await page.click('tr[data-component="wallet"] button[data-action="stop"]');
      assertEquals(await dialog, "Stop wallet? It stays down until the launcher restarts.");
      await waitInPage(page, (state) => {
        const { document } = globalThis as unknown as PageGlobals;
        const cells = document.querySelectorAll('tr[data-component="wallet"] td');
        return cells[2]?.textContent === state;
      }, "stopped");
      assert(
        await page.isDisabled('tr[data-component="wallet"] button[data-action="restart"]'),
        "a stopped component offers no restart",
      );
      assertEquals(await app.rpc("listwallets"), []);
      await page.screenshot({ path: join(shots, "wallet-stopped.png"), fullPage: true });
    },
  );

  await context.close();
  console.log(`screenshots: ${shots}`);
});
