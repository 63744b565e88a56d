/**
 * The gui as a user meets it: `deno task gui` run as a user runs it (the
 * node and the gui under the sandbox), and Debian's Chromium (headless,
 * already open, through playwright-core) opening the printed URL.
 *
 * - `gui_first_paint_ms`: from starting `deno task gui` to the chain page
 *   showing the height; with the reference `gui_task_node_ready_ms` (the same
 *   run's node answering JSON-RPC) and their ratio;
 * - `gui_block_to_screen_ms`: the median, over 20 blocks, from asking the
 *   node for a block (`generatetoaddress 1` over JSON-RPC) to its height shown
 *   in the page (pushed by `handleNotifyBlockTip` over server-sent events);
 *   with the reference `gui_generate_rpc_ms` (the same call's own round
 *   trip, measured in the same run) and their ratio.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { chromium } from "playwright-core";
import { report } from "./measure.ts";
import { callRpc, type RpcAccess } from "../components/node/sandboxed.ts";

const ADDRESS = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
const BLOCKS = 20;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Run in the page (serialized: it sees only the page's globals): whether the height matches. */
function heightMatches(pattern: string): boolean {
  const { document } = globalThis as unknown as {
    document: { getElementById(id: string): { textContent: string | null } | null };
  };
  return new RegExp(pattern).test(document.getElementById("height")?.textContent ?? "");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const root = new URL("../", import.meta.url).pathname;
const state = Deno.makeTempDirSync({ prefix: "capdeno-gui-bench-" });
const rpcPort = freePort();
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
const page = await browser.newPage();
const started = performance.now();
const task = spawn(Deno.execPath(), [
  "task",
  "-q",
  "gui",
  `--state=${state}`,
  `-rpcport=${rpcPort}`,
  `-guiport=${freePort()}`,
], { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
const exited = new Promise((resolve) => task.once("close", resolve));
let output = "";
let nodeReady = 0;
const url = await new Promise<string>((resolve, reject) => {
  task.stderr!.on("data", (chunk: Uint8Array) => output += new TextDecoder().decode(chunk));
  task.stdout!.on("data", (chunk: Uint8Array) => {
    output += new TextDecoder().decode(chunk);
    if (nodeReady === 0 && /^node: JSON-RPC on /m.test(output)) {
      nodeReady = performance.now() - started;
    }
    const found = /^gui: (http:\S+)$/m.exec(output);
    if (found) resolve(found[1]);
  });
  exited.then(() => reject(new Error(`deno task gui ended:\n${output}`)));
});
try {
  await page.goto(url);
  await page.waitForFunction(heightMatches, "^\\d+$", { timeout: 120_000, polling: "raf" });
  const firstPaint = performance.now() - started;
  report("gui_first_paint_ms", firstPaint, "ms");
  report("gui_task_node_ready_ms", nodeReady, "ms");
  console.log(`RATIO gui_first_paint_vs_node_ready ${(firstPaint / nodeReady).toFixed(2)}`);

  const access: RpcAccess = {
    endpoints: [`127.0.0.1:${rpcPort}`],
    endpoint: { host: "127.0.0.1", port: rpcPort },
    cookieFile: `${state}/data/node/regtest/.cookie`,
  };
  const toScreen: number[] = [];
  const roundTrip: number[] = [];
  for (let height = 1; height <= BLOCKS; height++) {
    const asked = performance.now();
    const shown = page.waitForFunction(heightMatches, `^${height}$`, {
      timeout: 60_000,
      polling: "raf",
    });
    await callRpc(access, "generatetoaddress", [1, ADDRESS]);
    roundTrip.push(performance.now() - asked);
    await shown;
    toScreen.push(performance.now() - asked);
  }
  const screen = report("gui_block_to_screen_ms", median(toScreen), "ms");
  const rpc = report("gui_generate_rpc_ms", median(roundTrip), "ms");
  console.log(`RATIO gui_block_to_screen_vs_generate ${(screen / rpc).toFixed(2)}`);
} finally {
  await browser.close();
  Deno.kill(-task.pid!, "SIGINT");
  await exited;
  Deno.removeSync(state, { recursive: true });
}
