/**
 * Starts the application's components through the sandbox: every one goes
 * through the spawn contract under a {@linkcode Supervisor}, and the
 * launcher hands capabilities between them (the node's Chain to the
 * wallet, both to the gui), as Bitcoin Core's node hands its chain to the
 * wallet.
 *
 * ```text
 * deno task spawn-node   [options]   node; prints the chain height
 * deno task spawn-wallet [options]   node + wallet; mines to a wallet address, prints the balance
 * deno task spawn-gui    [options]   node + wallet + gui; prints the web UI's URL
 * deno task audit        [--state=DIR]   per component, what it tried outside its grants
 *
 * options: --state=DIR (default .capdeno), --hardened (bubblewrap), --once (stop after the
 *          first answer), --grant <component>:<read|write|net|env>=<value> (repeatable),
 *          --listen=HOST:PORT (gui; must be granted), -debug=ipc (passed to the components)
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { NodeInit } from "../schemas/gen/node.mp.ts";
import { WalletInit } from "../schemas/gen/wallet.mp.ts";
import { GuiInit } from "../schemas/gen/gui.mp.ts";
import { applyGrants, type Component, loadComponent, parseGrant } from "../sandbox/manifest.ts";
import { PROJECT_ROOT } from "../sandbox/contract.ts";
import { Supervisor } from "../sandbox/supervisor.ts";
import { formatAudit, summarizeAudit } from "../sandbox/audit.ts";

const USAGE = "usage: launch.ts <spawn node|wallet|gui | audit> [--state=DIR] [--hardened] " +
  "[--once] [--grant c:kind=value]... [--listen=HOST:PORT] [-debug=ipc]";

/** The three components with the command line's grants applied. */
async function loadApplication(grants: readonly string[]): Promise<Record<string, Component>> {
  const loaded = await Promise.all(
    ["node", "wallet", "gui"].map((name) => loadComponent(join(PROJECT_ROOT, "components", name))),
  );
  const manifests = applyGrants(loaded.map((c) => c.manifest), grants.map((g) => parseGrant(g)));
  return Object.fromEntries(
    loaded.map((c, i) => [c.manifest.name, { ...c, manifest: manifests[i] }]),
  );
}

/** Until SIGINT or SIGTERM. */
function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    Deno.addSignalListener("SIGINT", resolve);
    Deno.addSignalListener("SIGTERM", resolve);
  });
}

async function spawnCommand(target: string, flags: ReturnType<typeof parseFlags>) {
  const components = await loadApplication(flags.grant);
  if (!(target in components)) throw new Error(`no component named "${target}"; ${USAGE}`);
  const stateDir = flags.state;
  Deno.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  await using supervisor = new Supervisor({
    stateDir,
    hardened: flags.hardened,
    report: (line) => console.log(`[supervisor] ${line}`),
  });
  const args = flags.debug ? ["-debug=ipc"] : [];
  const node = await supervisor.start(NodeInit, components.node, { args });
  await using chain = (await (await node.current()).makeChain())!;
  console.log(`node: chain height ${await chain.getHeight()}`);
  let stopped: Promise<unknown> = node.failed;
  if (target !== "node") {
    const wallet = await supervisor.start(WalletInit, components.wallet, { args });
    stopped = Promise.race([stopped, wallet.failed]);
    await using loader = (await (await wallet.current()).makeWalletLoader(chain))!;
    const names = await loader.listWallets();
    await using main = names.includes("main")
      ? (await loader.loadWallet("main"))!
      : (await loader.createWallet("main"))!;
    const address = await main.getNewAddress();
    const height = await chain.generateToAddress(1, address);
    console.log(
      `wallet: mined block ${height} to ${address}; balance ${await main.getBalance()} units`,
    );
    if (target === "gui") {
      const gui = await supervisor.start(GuiInit, components.gui, { args });
      stopped = Promise.race([stopped, gui.failed]);
      const url = await (await gui.current()).start(chain, loader, flags.listen);
      console.log(`gui: serving ${url}`);
      if (!flags.once) await Promise.race([interrupted(), stopped]);
      return;
    }
  }
  if (!flags.once) await Promise.race([interrupted(), stopped]);
}

function parseFlags(args: string[]) {
  const { values, positionals } = parseArgs({
    args: args.map((arg) => arg === "-debug=ipc" ? "--debug" : arg),
    allowPositionals: true,
    options: {
      state: { type: "string", default: join(PROJECT_ROOT, ".capdeno") },
      hardened: { type: "boolean", default: false },
      once: { type: "boolean", default: false },
      grant: { type: "string", multiple: true, default: [] },
      listen: { type: "string", default: "127.0.0.1:18480" },
      debug: { type: "boolean", default: false },
    },
  });
  return { ...values, positionals };
}

if (import.meta.main) {
  try {
    const flags = parseFlags(Deno.args);
    const [command, target] = flags.positionals;
    if (command === "spawn" && target) await spawnCommand(target, flags);
    else if (command === "audit") {
      console.log(formatAudit(await summarizeAudit(`${flags.state}/logs`)));
    } else throw new Error(USAGE);
  } catch (error) {
    console.error(`launch: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
