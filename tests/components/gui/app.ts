/**
 * The application as `deno task gui` runs it, started from a test: the node
 * and the gui under the sandbox contract and a supervisor (real processes,
 * each with its manifest's flags), the launcher's `Supervision` served to
 * the gui; and a headless Chromium (Debian's, driven by playwright-core)
 * with screenshots kept as artefacts.
 *
 * @module
 */
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { Init } from "../../../schemas/gen/ipc/init.mp.ts";
import { projectRoot } from "../../../sandbox/contract.ts";
import type { Supervised } from "../../../sandbox/supervisor.ts";
import { entryComponent, entryOf, loadTopology, wiringOf } from "../../../sandbox/topology.ts";
import { type Application, supervisedApplication } from "../../../components/supervision.ts";
import {
  callRpc,
  type NodePlan,
  planNode,
  type RpcAccess,
  rpcAccess,
  waitForRpc,
} from "../../../components/node/sandboxed.ts";
import { planGui, type RunningGui, startGui } from "../../../components/gui/spawned.ts";
import { startWallets } from "../../../components/wallet/spawned.ts";
import { freePort } from "../node/node_process.ts";
import { tempDir } from "../../helpers.ts";

/** The running application. */
export interface GuiApp extends AsyncDisposable {
  readonly application: Application;
  readonly node: NodePlan;
  readonly access: RpcAccess;
  readonly gui: RunningGui;
  /** The wallet process (`-wallet=miner`). */
  readonly wallet: Supervised<Init>;
  readonly guiPort: number;
  /** The gui's origin, `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Calls the node's JSON-RPC over HTTP (with its cookie), as bitcoin-cli would. */
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  /** Lines the components printed (stderr and stdout), for failure messages. */
  readonly lines: string[];
}

/** Starts the node and the gui in a fresh state directory. */
export async function startApp(): Promise<GuiApp> {
  const state = tempDir("capdeno-gui-");
  const stateDir = Deno.realPathSync(state.path);
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > 2000) lines.shift();
  };
  const application = supervisedApplication({
    stateDir,
    report: (line) => keep(`[supervisor] ${line}`),
    output: (line, component) => keep(`[${component}] ${line}`),
  });
  try {
    const topology = await loadTopology(join(projectRoot(), "components", "topology.json"));
    const started = new Map<string, Supervised<unknown>>();
    const planned = planNode(await entryComponent(entryOf(topology, "node")), stateDir, [
      `-rpcport=${freePort()}`,
      "-debug=ipc",
      "-printtoconsole",
    ]);
    if (planned.kind !== "run") throw new Error("expected a plan");
    const { plan } = planned;
    const node = await application.supervisor.start(Init, plan.component, {
      args: plan.args,
      ...wiringOf(topology, "node", started),
    });
    started.set("node", node);
    application.service.add(plan.component.manifest, node);
    const access = rpcAccess(plan)!;
    await waitForRpc(access, node.failed);
    // The wallet process, as `-wallet=miner` starts it: wallets created from the page load into it.
    const walletComponent = await entryComponent(entryOf(topology, "wallet"));
    const wallet = await startWallets(
      application.supervisor,
      walletComponent,
      wiringOf(topology, "wallet", started),
      access,
      ["-wallet=miner"],
      ["miner"],
    );
    application.service.add(walletComponent.manifest, wallet);
    started.set("wallet", wallet);
    const guiPort = freePort();
    const guiPlan = planGui(await entryComponent(entryOf(topology, "gui")), [
      `-guiport=${guiPort}`,
      "-debug=ipc",
    ]);
    const guiWiring = wiringOf(topology, "gui", started);
    const gui = await startGui(
      application.supervisor,
      guiPlan,
      node,
      application.service,
      guiWiring.restartWith,
    );
    application.service.add(guiPlan.component.manifest, gui.supervised);
    return {
      application,
      node: plan,
      access,
      gui,
      wallet,
      guiPort,
      origin: `http://127.0.0.1:${guiPort}`,
      rpc: (method, params = []) => callRpc(access, method, params),
      lines,
      async [Symbol.asyncDispose]() {
        await application[Symbol.asyncDispose]();
        state[Symbol.dispose]();
      },
    };
  } catch (error) {
    await application[Symbol.asyncDispose]();
    state[Symbol.dispose]();
    throw new Error(`${(error as Error).message}\n${lines.join("\n")}`, { cause: error });
  }
}

/** Where screenshots go: `$CAPDENO_ARTEFACTS`, else a folder in the temporary directory. */
export function artefactsDir(): string {
  const dir = Deno.env.get("CAPDENO_ARTEFACTS") ??
    join(Deno.env.get("TMPDIR") ?? "/tmp", "capdeno-gui-artefacts");
  Deno.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Debian's Chromium, headless. */
export async function launchBrowser(): Promise<Browser & AsyncDisposable> {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() });
}

/** Generous: a page waits on an event, never on a delay; only a hang reaches it. */
export const PATIENCE_MS = 120_000;

/** The little of the page's DOM the tests read (the tests are not compiled with the DOM's types). */
export interface PageDocument {
  getElementById(id: string): { textContent: string | null } | null;
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
}

/**
 * Waits until `condition` is true in the page: a function run there (it
 * sees no closure, only `arg`; `(globalThis as PageGlobals).document` is the page's document).
 * A timeout fails with `what` and what the page showed: the text of element
 * `shownId` if given, and of the page's active section (with its errors).
 */
export async function waitInPage<A extends string | number | string[]>(
  page: Page,
  condition: (arg: A) => boolean,
  arg: A,
  what = `waited for ${JSON.stringify(arg)}`,
  shownId?: string,
): Promise<void> {
  try {
    await page.waitForFunction(condition as (arg: unknown) => boolean, arg, {
      timeout: PATIENCE_MS,
    });
  } catch (error) {
    if ((error as Error).name !== "TimeoutError") throw error;
    const shown = await page.evaluate((id) => {
      const { document } = globalThis as unknown as PageGlobals;
      const text = (node: { textContent: string | null } | null) =>
        node === null ? "(none)" : JSON.stringify(node.textContent!.replace(/\s+/g, " ").trim());
      const active = `the active page ${text(document.querySelector("section.page.active"))}`;
      return id ? `#${id} ${text(document.getElementById(id))}; ${active}` : active;
    }, shownId ?? "").catch((reason: Error) => `(unreadable: ${reason.message})`);
    throw new Error(
      `${what}: not within ${PATIENCE_MS} ms; the page showed ${shown} at ${page.url()}`,
      { cause: error },
    );
  }
}

/** The page's globals, as {@linkcode waitInPage}'s conditions reach them. */
export type PageGlobals = { document: PageDocument };

/** Waits until element `id`'s text is `expected` (or matches it). */
export async function waitForText(page: Page, id: string, expected: string | RegExp) {
  const pattern = typeof expected === "string"
    ? `^${expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`
    : expected.source;
  await waitInPage(
    page,
    ([id, pattern]) => {
      const { document } = globalThis as unknown as PageGlobals;
      return new RegExp(pattern).test(document.getElementById(id)?.textContent ?? "");
    },
    [id, pattern],
    `#${id} to read ${expected}`,
    id,
  );
}
