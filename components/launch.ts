/**
 * Starts the application's components through the sandbox: each goes
 * through the spawn contract under a {@linkcode Supervisor}.
 *
 * ```text
 * deno task start      [options] [node options]   the regtest node and the gui (same as gui)
 * deno task spawn-node [options] [node options]   the regtest node under the supervisor: waits for
 *                                                  its JSON-RPC, calls its IPC Init, prints the RPC
 *                                                  address and a bitcoin-cli line; runs until
 *                                                  SIGINT or SIGTERM
 * deno task spawn-node [options] -wallet=<name>... the node, and the wallet process attached to it
 *                                                  (its own sandbox: its data directory and the
 *                                                  node's socket), loading each -wallet (created when
 *                                                  missing); `deno task cli -rpcwallet=<name> …`
 * deno task gui        [options] [node options] [-guiport=N]
 *                                                  the node, then the gui attached to it, each in
 *                                                  its sandbox; prints the gui's URL (with its
 *                                                  session token); the node's and gui's -debug=ipc
 *                                                  lines feed the gui's IPC page
 * deno task gui -ipcconnect=unix[:path] [-datadir=D] [-guiport=N]
 *                                                  the gui alone, attached to a node started
 *                                                  elsewhere (`unix` is D/regtest/node.sock, D
 *                                                  ~/.bitcoin by default); the node keeps running
 *                                                  when the gui stops
 * deno task spawn-wallet                           refused: the wallet comes with spawn-node -wallet
 * deno task audit      [--state=DIR]              per component, what it tried outside its grants
 *
 * options: --state=DIR (default .capdeno in the project), --hardened (bubblewrap), --once (stop
 *          after the first answers), --grant node:<read|write|net|env>=<value> (repeatable)
 * node options: bitcoind's, e.g. -rpcport=18500 -debug=rpc -printtoconsole (see sandboxed.ts)
 * ```
 *
 * The tasks run this launcher, the supervisor, with `--allow-all`: it starts
 * `prlimit`, `setpriv`, `bwrap` and `mount` (an unrestricted `--allow-run`
 * is every permission anyway), and Deno lets it read `/proc` (the
 * resident-memory watchdog, the mount table) only with `--allow-all`. What
 * a component may do is its own command line's flags.
 *
 * @module
 */
import { basename, isAbsolute, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { Init } from "../schemas/gen/ipc/init.mp.ts";
import {
  applyGrants,
  formatAudit,
  loadComponent,
  parseGrant,
  projectRoot,
  summarizeAudit,
  type Supervised,
  Supervisor,
  unsearchableAncestor,
} from "../host.ts";
import { ArgsError } from "./node/args.ts";
import { StartupError } from "./node/options.ts";
import {
  callRpc,
  checkIpc,
  cliOptions,
  planNode,
  type RpcAccess,
  rpcAccess,
  waitForRpc,
} from "./node/sandboxed.ts";
import { supervisedApplication } from "./supervision.ts";
import { planGui, startGui } from "./gui/spawned.ts";

const USAGE = "usage: launch.ts <spawn node | gui | audit> [--state=DIR] [--hardened] [--once] " +
  "[--grant node:kind=value]... [node options]";

/** Options for the gui, not the node. */
const GUI_OPTION = /^--?(guiport|noipctoken)(=|$)/;

/** What the command line asks for. */
interface Flags {
  positionals: string[];
  state: string | undefined;
  hardened: boolean;
  once: boolean;
  grant: string[];
  /** Everything else starting with `-`: bitcoind options for the node. */
  node: string[];
}

/** Splits the launcher's own `--` flags from the node's options. */
function parseFlags(args: readonly string[]): Flags {
  const flags: Flags = {
    positionals: [],
    state: undefined,
    hardened: false,
    once: false,
    grant: [],
    node: [],
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [name, inline] = arg.startsWith("--") ? splitFlag(arg) : [arg, undefined];
    const value = () => {
      const given = inline ?? args[++i];
      if (given === undefined) throw new Error(`${name} needs a value; ${USAGE}`);
      return given;
    };
    if (name === "--hardened" && inline === undefined) flags.hardened = true;
    else if (name === "--once" && inline === undefined) flags.once = true;
    else if (name === "--state") flags.state = value();
    else if (name === "--grant") flags.grant.push(value());
    else if (arg.startsWith("-")) flags.node.push(arg);
    else flags.positionals.push(arg);
  }
  return flags;
}

function splitFlag(arg: string): [string, string | undefined] {
  const equals = arg.indexOf("=");
  return equals < 0 ? [arg, undefined] : [arg.slice(0, equals), arg.slice(equals + 1)];
}

/**
 * The state directory: `--state` (relative to where the task was called),
 * else `.capdeno` in the project. Under root, components run as their own
 * users and must reach it; where the project lies below a directory they
 * cannot pass (a clone in `/root`), the default is
 * `/var/lib/capdeno/<project>-<hash of its path>`, and `note` says why.
 */
function stateDirectory(given: string | undefined): { dir: string; note?: string } {
  if (given !== undefined) {
    return {
      dir: isAbsolute(given) ? given : resolve(Deno.env.get("INIT_CWD") ?? Deno.cwd(), given),
    };
  }
  const inProject = join(projectRoot(), ".capdeno");
  const closed = Deno.uid() === 0 ? unsearchableAncestor(inProject) : null;
  if (closed === null) return { dir: inProject };
  const id = createHash("sha256").update(projectRoot()).digest("hex").slice(0, 12);
  return {
    dir: `${SHARED_STATE}/${basename(projectRoot())}-${id}`,
    note: `the components run as their own users and cannot pass ${closed}; ` +
      "--state=DIR chooses another",
  };
}

/** Where root keeps state directories of projects its components cannot reach. */
const SHARED_STATE = "/var/lib/capdeno";

/** How the user runs Deno in their shell: through npx as the README says, or `deno`. */
function denoInvocation(): string {
  const env = Deno.env.toObject();
  if (env.npm_lifecycle_event === "npx") return `npx deno@${Deno.version.deno}`;
  const onPath = (env.PATH ?? "").split(":").some((dir) => {
    try {
      return Deno.statSync(join(dir, "deno")).isFile;
    } catch {
      return false;
    }
  });
  return onPath ? "deno" : Deno.execPath();
}

/** `word`, quoted for a POSIX shell when it needs to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./[\]-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A signal that came before the node answered. */
class Interrupted extends Error {
  override name = "Interrupted";
  constructor(signal: string) {
    super(`interrupted (${signal}) before the node answered; it was stopped`);
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
function interruption(): { signal: Promise<string>; [Symbol.dispose](): void } {
  const { promise, resolve } = Promise.withResolvers<string>();
  const listeners = (["SIGINT", "SIGTERM"] as const).map((name) => {
    const listener = () => resolve(name);
    Deno.addSignalListener(name, listener);
    return () => Deno.removeSignalListener(name, listener);
  });
  return { signal: promise, [Symbol.dispose]: () => listeners.forEach((remove) => remove()) };
}

/**
 * `spawn node`: the node under the supervisor until a signal, its failure,
 * or at once with `--once`; resolves with the exit status.
 */
async function spawnNode(flags: Flags, withGui = false): Promise<number> {
  using interrupted = interruption();
  const guiArgs = flags.node.filter((arg) => GUI_OPTION.test(arg));
  if (!withGui && guiArgs.length > 0) throw new Error(`${guiArgs[0]}: an option of the gui`);
  const userAsked = flags.node.some((arg) => /^--?debug=(ipc|1|all)$/.test(arg));
  const nodeArgs = flags.node.filter((arg) => !GUI_OPTION.test(arg));
  // The gui's IPC page reads the node's -debug=ipc lines from its console.
  if (withGui) nodeArgs.push("-debug=ipc", "-printtoconsole");
  const loaded = await loadComponent(join(projectRoot(), "components", "node"));
  const [manifest] = applyGrants([loaded.manifest], flags.grant.map((g) => parseGrant(g)));
  const { dir: stateDir, note } = stateDirectory(flags.state);
  if (note !== undefined) {
    console.error(`state: ${stateDir} (${note})`);
    Deno.mkdirSync(SHARED_STATE, { recursive: true, mode: 0o711 });
  }
  Deno.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const planned = planNode({ ...loaded, manifest }, Deno.realPathSync(stateDir), nodeArgs);
  if (planned.kind === "print") {
    await Deno.stdout.write(new TextEncoder().encode(planned.text));
    return 0;
  }
  const { plan } = planned;
  await using launcher = supervisedApplication({
    stateDir,
    hardened: flags.hardened,
    printIpcLines: userAsked,
  });
  const { supervisor } = launcher;
  const node = await supervisor.start(Init, plan.component, { args: plan.args });
  launcher.service.add(plan.component.manifest, node);
  const access = rpcAccess(plan);
  const rpcLine = access === null
    ? "node: JSON-RPC is off (-server=0)"
    : `node: JSON-RPC on ${access.endpoints.join(" and ")}; block count ${await waitForRpc(
      access,
      Promise.race([node.failed, interrupted.signal.then((name) => new Interrupted(name))]),
    )}`;
  const ipc = await checkIpc(await node.current());
  console.log(rpcLine);
  console.log(
    `node: IPC Init through the supervisor: Echo answered "${ipc.echoed}", ` +
      `Mining.getTip is block ${ipc.tip.height} ${ipc.tip.hash}`,
  );
  console.log(`node: data directory ${plan.dataDir} (chain, debug.log and cookie in regtest/)`);
  if (access !== null) {
    if (access.cookieFile !== null) console.log(`node: cookie ${access.cookieFile}`);
    const words = ["task", "cli", ...cliOptions(plan, access), "getblockchaininfo"];
    console.log(`try: ${denoInvocation()} ${words.map(shellWord).join(" ")}`);
  }
  if (plan.options.wallets.length > 0) {
    if (access === null) throw new Error("-wallet needs the node's JSON-RPC (-server=0 was given)");
    await spawnWallets(supervisor, node, access, flags.node, plan.options.wallets);
  }
  if (withGui) {
    const gui = planGui(await loadComponent(join(projectRoot(), "components", "gui")), [
      ...guiArgs,
      "-debug=ipc",
    ]);
    const running = await startGui(supervisor, gui, node, launcher.service);
    launcher.service.add(gui.component.manifest, running.supervised);
    console.log(`gui: ${running.url}`);
  }
  if (flags.once) return 0;
  console.log(
    `${withGui ? "node and gui" : "node"}: running; Ctrl-C stops ${withGui ? "them" : "it"}`,
  );
  return await finished(node, interrupted.signal);
}

/** The node options the wallet process reads too (bitcoind's wallet options). */
const WALLET_OPTIONS = /^--?(wallet|fallbackfee)=/;

/**
 * Starts the wallet process under the supervisor, attached to the node's
 * socket (a one-time token per run), with the user's `-wallet` and
 * `-fallbackfee`; resolves once the node's JSON-RPC lists every wallet.
 */
async function spawnWallets(
  supervisor: Supervisor,
  node: Supervised<Init>,
  access: RpcAccess,
  nodeArgs: readonly string[],
  names: readonly string[],
): Promise<void> {
  const component = await loadComponent(join(projectRoot(), "components", "wallet"));
  const wallet = await supervisor.start(Init, component, {
    args: nodeArgs.filter((arg) => WALLET_OPTIONS.test(arg)),
    connectTo: node,
  });
  let failure: Error | null = null;
  wallet.failed.then((error) => failure = error);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (failure !== null) throw failure;
    const loaded = await callRpc(access, "listwallets") as string[];
    if (names.every((name) => loaded.includes(name))) break;
    if (Date.now() > deadline) {
      throw new Error(`the wallet process did not load ${names.join(", ")} within 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(
    `wallet: ${names.join(", ")} loaded (data directory ${wallet.instance?.paths.dataDir})`,
  );
}

/**
 * `gui -ipcconnect=…`: the gui alone under the supervisor, attached to a
 * node started elsewhere, until a signal or the gui's failure.
 */
async function attachGui(flags: Flags, address: string): Promise<number> {
  using interrupted = interruption();
  const datadir = flags.node.map((arg) => /^--?datadir=(.+)$/.exec(arg)?.[1]).findLast((d) => d);
  const unknown = flags.node.find((arg) =>
    !GUI_OPTION.test(arg) && !/^--?(datadir|ipcconnect|debug)=/.test(arg)
  );
  if (unknown !== undefined) throw new Error(`${unknown}: not an option of an attached gui`);
  const base = resolve(
    Deno.env.get("INIT_CWD") ?? Deno.cwd(),
    datadir ?? join(Deno.env.get("HOME") ?? "/", ".bitcoin"),
  );
  const socket = address === "unix"
    ? join(base, "regtest", "node.sock")
    : /^unix:(.+)$/.exec(address)?.[1];
  if (socket === undefined) {
    throw new Error(`-ipcconnect=${address}: expected unix or unix:<path>`);
  }
  const path = resolve(base, socket);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    throw new Error(
      `-ipcconnect=${address}: no node listens at ${path} (${(error as Error).message})`,
    );
  }
  if (!info.isSocket) throw new Error(`-ipcconnect=${address}: ${path} is not a socket`);
  if (Deno.uid() === 0 && (info.mode! & 0o006) !== 0o006) {
    throw new Error(
      `-ipcconnect=${address}: under root the gui runs as a user of its own, which may not ` +
        `connect to ${path} (mode ${(info.mode! & 0o777).toString(8)}); run the node and the ` +
        "gui as one non-root user, or let the gui's user reach the socket",
    );
  }
  const { dir: stateDir } = stateDirectory(flags.state);
  Deno.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const userAsked = flags.node.some((arg) => /^--?debug=(ipc|1|all)$/.test(arg));
  await using launcher = supervisedApplication({
    stateDir,
    hardened: flags.hardened,
    printIpcLines: userAsked,
  });
  launcher.service.addAttached("node");
  const gui = planGui(await loadComponent(join(projectRoot(), "components", "gui")), [
    ...flags.node.filter((arg) => GUI_OPTION.test(arg)),
    "-noipctoken",
    "-debug=ipc",
  ]);
  const running = await startGui(launcher.supervisor, gui, { socket: path }, launcher.service);
  launcher.service.add(gui.component.manifest, running.supervised);
  console.log(`gui: attached to the node at unix:${path}`);
  console.log(`gui: ${running.url}`);
  if (flags.once) return 0;
  console.log("gui: running; Ctrl-C stops it (the node keeps running)");
  const ended = await Promise.race([interrupted.signal, running.supervised.failed]);
  if (typeof ended === "string") return 0;
  console.error(`launch: ${ended.message}`);
  return 1;
}

/** Waits for a signal (then stops the node) or the node's end; the exit status. */
async function finished(node: Supervised<Init>, signal: Promise<string>): Promise<number> {
  const ended = await Promise.race([signal, node.failed]);
  if (typeof ended === "string") {
    console.log(`node: stopping (${ended})`);
    return 0;
  }
  // It stopped by itself (RPC stop) or failed past its restart budget.
  return node.exits.at(-1)?.reason.kind === "clean" ? 0 : 1;
}

const REWRITE = {
  wallet: "attaching a wallet to a running node is not written yet; `deno task spawn-node " +
    "-wallet=<name>` starts the node with its wallet process",
} as const;

if (import.meta.main) {
  try {
    const flags = parseFlags(Deno.args);
    const [command, target] = flags.positionals;
    if (command === "spawn" && target === "node") Deno.exit(await spawnNode(flags));
    if (command === "gui" || (command === "spawn" && target === "gui")) {
      const attach = flags.node.map((arg) => /^--?ipcconnect=(.*)$/.exec(arg)?.[1])
        .findLast((value) => value !== undefined);
      Deno.exit(
        attach === undefined ? await spawnNode(flags, true) : await attachGui(flags, attach),
      );
    }
    if (command === "spawn" && target === "wallet") {
      throw new Error(
        `spawn-${target} returns with the ${target} rewrite: ${REWRITE[target]}; ` +
          "`deno task spawn-node` starts the node",
      );
    }
    if (command === "audit") {
      console.log(formatAudit(await summarizeAudit(`${stateDirectory(flags.state).dir}/logs`)));
    } else throw new Error(USAGE);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // The node's own option errors read as bitcoind prints them.
    const nodes = error instanceof StartupError || error instanceof ArgsError;
    console.error(nodes ? `Error: ${message}` : `launch: ${message}`);
    Deno.exit(1);
  }
}
