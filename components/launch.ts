/**
 * Starts the application's components through the sandbox: each goes
 * through the spawn contract under a {@linkcode Supervisor}.
 *
 * ```text
 * deno task start      [options] [node options]   the regtest node, its wallet process with a wallet
 *                                                  named "default" loaded (created at first) unless
 *                                                  -wallet is given, and the gui; state in ./data
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
 * deno task spawn-node -monolithic -wallet=<name>  the node with its wallets in its own process
 * deno task spawn-wallet [options] -ipcconnect=unix[:path] [-ipccookiefile=<path>] [-wallet=<name>]...
 *                                                  a wallet process attached to a running node,
 *                                                  presenting its IPC cookie (`unix`: the node of
 *                                                  this state directory; a path: the cookie beside
 *                                                  the socket, node.cookie); --name=<instance> names
 *                                                  its data directory (default wallet-<first name>);
 *                                                  runs until SIGINT or SIGTERM (it then detaches);
 *                                                  -rpcport=<port>: its own JSON-RPC, with its own
 *                                                  cookie in <its data directory>/regtest/.cookie
 * deno task audit      [--state=DIR]              per component, what it tried outside its grants
 *
 * options: --state=DIR (default ./data in the project), --hardened (bubblewrap), --once (stop
 *          after the first answers), --grant node:<read|write|net|env>=<value> (repeatable),
 *          --topology=FILE (the wiring: entries node, wallet and gui; default
 *          components/topology.json, whose node is rest_for_one)
 * node options: bitcoind's, e.g. -rpcport=18500 -debug=rpc -printtoconsole (see sandboxed.ts);
 *          -walletdir=<absolute dir> (also spawn-wallet's): the wallets there, checked as Core
 *          checks it, the process holding them granted it through <state>/view/<name>.walletdir
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
import { existsSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { Init } from "../schemas/gen/ipc/init.mp.ts";
import type { WalletSpawner } from "../schemas/gen/ipc/wallet.mp.ts";
import { CommandRunner, hasCommands, NO_COMMANDS, type NotifyCommands } from "./notify/commands.ts";
import {
  applyGrants,
  entryComponent,
  entryOf,
  formatAudit,
  loadTopology,
  parseGrant,
  projectRoot,
  readCookie,
  relaySocket,
  stateLayout,
  summarizeAudit,
  type Supervised,
  Supervisor,
  type Topology,
  unsearchableAncestor,
  wiringOf,
} from "../host.ts";
import { ArgsError } from "./node/args.ts";
import { StartupError } from "./node/options.ts";
import { IPC_COOKIE_FILE } from "./node/shell.ts";
import {
  checkIpc,
  cliOptions,
  planNode,
  type RpcAccess,
  rpcAccess,
  waitForRpc,
  withWalletDir,
} from "./node/sandboxed.ts";
import { supervisedApplication } from "./supervision.ts";
import { parseWalletArgs } from "./wallet/options.ts";
import {
  attachedWalletArgs,
  startWallets,
  waitForWallets,
  walletArgs,
  withRpcGrants,
} from "./wallet/spawned.ts";
import { planGui, startGui } from "./gui/spawned.ts";

const USAGE = "usage: launch.ts <start | spawn node | spawn wallet | gui | audit> [--state=DIR] " +
  "[--topology=FILE] [--hardened] [--once] [--name=INSTANCE] [--grant node:kind=value]... " +
  "[node or wallet options]";

/** Options for the gui, not the node. */
const GUI_OPTION = /^--?(guiport|noipctoken)(=|$)/;

/** What the command line asks for. */
interface Flags {
  positionals: string[];
  state: string | undefined;
  hardened: boolean;
  once: boolean;
  grant: string[];
  /** `--name`: the attached wallet's instance name. */
  name: string | undefined;
  /** `--topology`: the wiring file instead of components/topology.json. */
  topology: string | undefined;
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
    name: undefined,
    topology: undefined,
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
    else if (name === "--name") flags.name = value();
    else if (name === "--topology") flags.topology = value();
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
 * else `data` in the project. Under root, components run as their own
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
  const inProject = join(projectRoot(), "data");
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

/** The state directory, made, and where it is when the default could not be used. */
function preparedState(flags: Flags): string {
  const { dir, note } = stateDirectory(flags.state);
  if (note !== undefined) {
    console.error(`state: ${dir} (${note})`);
    Deno.mkdirSync(SHARED_STATE, { recursive: true, mode: 0o711 });
  }
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return Deno.realPathSync(dir);
}

/** A supervisor reporting to stdout, component output labelled on stderr (and shown to `watch`). */
function newSupervisor(
  stateDir: string,
  hardened: boolean,
  watch: (line: string) => void = () => {},
): Supervisor {
  return new Supervisor({
    stateDir,
    hardened,
    report: (line) => console.log(`[supervisor] ${line}`),
    output: (line, _stream, component) => {
      console.error(`[${component}] ${line}`);
      watch(line);
    },
  });
}

/**
 * The application's wiring: `--topology` (relative to where the task was
 * called) or `components/topology.json`, with entries named node, wallet
 * and gui.
 */
function topologyOf(flags: Flags): Promise<Topology> {
  const given = flags.topology;
  return loadTopology(
    given === undefined
      ? join(projectRoot(), "components", "topology.json")
      : resolve(Deno.env.get("INIT_CWD") ?? Deno.cwd(), given),
  );
}

/** Whether the node's options ask for `-monolithic`. */
const isMonolithic = (args: readonly string[]) =>
  args.some((arg) => /^--?monolithic(=1)?$/.test(arg));

/**
 * `spawn node` (and `start`): the node under the supervisor until a signal,
 * its failure, or at once with `--once`; resolves with the exit status.
 * With `-wallet`, the wallet process too, or with `-monolithic` the node
 * runs its wallets itself (its bundle may hold the wallet's code).
 */
async function spawnNode(flags: Flags, withGui = false): Promise<number> {
  using interrupted = interruption();
  const guiArgs = flags.node.filter((arg) => GUI_OPTION.test(arg));
  if (!withGui && guiArgs.length > 0) throw new Error(`${guiArgs[0]}: an option of the gui`);
  const userAsked = flags.node.some((arg) => /^--?debug=(ipc|1|all)$/.test(arg));
  const topology = await topologyOf(flags);
  const nodeEntry = entryOf(topology, "node");
  const nodeArgs = [...nodeEntry.args, ...flags.node.filter((arg) => !GUI_OPTION.test(arg))];
  // The gui's IPC page reads the node's -debug=ipc lines from its console.
  if (withGui) nodeArgs.push("-debug=ipc", "-printtoconsole");
  const loaded = await entryComponent(nodeEntry);
  const [manifest] = applyGrants([loaded.manifest], flags.grant.map((g) => parseGrant(g)));
  const monolithic = isMonolithic(flags.node);
  const wallet = monolithic ? await entryComponent(entryOf(topology, "wallet")) : null;
  const component = wallet !== null
    ? {
      ...loaded,
      manifest: { ...manifest, entry: "monolithic.ts" },
      codeFolders: [...(loaded.codeFolders ?? []), wallet.folder, ...(wallet.codeFolders ?? [])],
    }
    : { ...loaded, manifest };
  const stateDir = preparedState(flags);
  const planned = planNode(component, stateDir, nodeArgs);
  if (planned.kind === "print") {
    await Deno.stdout.write(new TextEncoder().encode(planned.text));
    return 0;
  }
  const { plan } = planned;
  // As bitcoind: -disablewallet ignores -wallet (the node logs each one it ignores).
  const names = plan.options.disableWallet ? [] : plan.options.wallets;
  // Core's LoadWallets: a wallet to load at start under a bad wallet option stops the start.
  if (names.length > 0 && plan.options.walletRefusal !== null) {
    throw new StartupError(plan.options.walletRefusal);
  }
  await using launcher = supervisedApplication({
    stateDir,
    hardened: flags.hardened,
    printIpcLines: userAsked,
  });
  const { supervisor } = launcher;
  const started = new Map<string, Supervised<unknown>>();
  const node = await supervisor.start(Init, plan.component, {
    args: plan.args,
    ...wiringOf(topology, "node", started),
  });
  started.set("node", node);
  launcher.service.add(plan.component.manifest, node);
  // Each component gets a runner of its own commands only: a compromised wallet process cannot
  // run the node's, nor crowd out its events.
  const { notify } = plan.options;
  const nodeNotifier = commandRunner({ ...notify, wallet: monolithic ? notify.wallet : null });
  const walletNotifier = commandRunner({ ...NO_COMMANDS, wallet: notify.wallet });
  handNotifier(node, nodeNotifier);
  const access = rpcAccess(plan);
  const stopped = Promise.race([
    node.failed,
    interrupted.signal.then((name) => new Interrupted(name)),
  ]);
  const rpcLine = access === null
    ? "node: JSON-RPC is off (-server=0)"
    : `node: JSON-RPC on ${access.endpoints.join(" and ")}; block count ${await waitForRpc(
      access,
      stopped,
    )}`;
  using nodeInit = await node.current();
  const ipc = await checkIpc(nodeInit);
  console.log(rpcLine);
  console.log(
    `node: IPC Init through the supervisor: Echo answered "${ipc.echoed}", ` +
      `Mining.getTip is block ${ipc.tip.height} ${ipc.tip.hash}`,
  );
  console.log(`node: data directory ${plan.dataDir} (chain, debug.log and cookie in regtest/)`);
  const cliWords = access === null ? [] : ["task", "cli", ...cliOptions(plan, access)];
  if (access !== null) {
    if (access.cookieFile !== null) console.log(`node: cookie ${access.cookieFile}`);
    console.log(
      `try: ${denoInvocation()} ${[...cliWords, "getblockchaininfo"].map(shellWord).join(" ")}`,
    );
  }
  /** The wallet process: started once, at start for -wallet, else when the node asks. */
  let walletProcess: Supervised<Init> | null = null;
  let walletStarting: Promise<Supervised<Init>> | null = null;
  let walletFailure: Error | null = null;
  const startWalletProcess = async (rpc: RpcAccess): Promise<Supervised<Init>> => {
    if (walletProcess !== null) {
      // Stopped (the gui's Stop) or failed for good: said, not started again behind the user.
      if (walletProcess.stopped) throw new Error("the wallet process was stopped");
      if (walletFailure !== null) throw walletFailure;
      return walletProcess;
    }
    walletStarting ??= (async () => {
      const entry = entryOf(topology, "wallet");
      const asked = [...entry.args, ...walletArgs(flags.node, plan.options.walletPolicy)];
      const { component: walletComponent, args } = withWalletDir(
        withRpcGrants(await entryComponent(entry), asked),
        stateDir,
        asked,
        plan.options.walletDir,
      );
      const wallet = await startWallets(
        supervisor,
        walletComponent,
        wiringOf(topology, "wallet", started),
        rpc,
        args,
        names,
        stopped,
      );
      started.set("wallet", wallet);
      handNotifier(wallet, walletNotifier);
      launcher.service.add(walletComponent.manifest, wallet);
      wallet.failed.then((error) => walletFailure = error);
      return walletProcess = wallet;
    })().finally(() => walletStarting = null);
    return await walletStarting;
  };
  if (names.length > 0) {
    if (access === null) throw new Error("-wallet needs the node's JSON-RPC (-server=0 was given)");
    let where: string;
    const { walletDir } = plan.options;
    if (monolithic) {
      await waitForWallets(access, names, stopped);
      where = `in the node's process, ${walletDir ?? `${plan.dataDir}/regtest/wallets`}`;
    } else {
      const wallet = await startWalletProcess(access);
      where = `data directory ${wallet.instance?.paths.dataDir}` +
        (walletDir === null ? "" : `, wallets in ${walletDir}`);
    }
    console.log(`wallet: ${names.join(", ")} loaded (${where})`);
    const words = [...cliWords, `-rpcwallet=${names[0]}`, "getwalletinfo"];
    console.log(`try: ${denoInvocation()} ${words.map(shellWord).join(" ")}`);
  }
  const walletsEnabled = !monolithic && !plan.options.disableWallet && access !== null &&
    topology.entries.some((entry) => entry.name === "wallet");
  if (walletsEnabled && names.length === 0) {
    // As bitcoin-node spawns bitcoin-wallet: createwallet/loadwallet with no wallet process start
    // one; handed to every run of the node, the first before the node is said to run.
    const spawner: WalletSpawner = {
      spawnWalletProcess: async () => void await startWalletProcess(access),
    };
    let handed: Promise<void> = Promise.resolve();
    node.onStart((init) =>
      handed = Promise.resolve(init.setWalletSpawner(spawner)).catch(() => {})
    );
    await handed;
    // A wallet process that ran before may have wallets to load at start (load_on_startup).
    if (existsSync(stateLayout(stateDir).data("wallet"))) await startWalletProcess(access);
  }
  console.log(
    `node: IPC cookie ${plan.dataDir}/regtest/${IPC_COOKIE_FILE} (deno task spawn-wallet -ipcconnect=unix attaches with it)`,
  );
  if (withGui) {
    const entry = entryOf(topology, "gui");
    const gui = planGui(await entryComponent(entry), [...entry.args, ...guiArgs, "-debug=ipc"]);
    const wiring = wiringOf(topology, "gui", started);
    const running = await startGui(
      supervisor,
      gui,
      wiring.connectTo ?? node,
      launcher.service,
      wiring.restartWith,
    );
    launcher.service.add(gui.component.manifest, running.supervised);
    console.log(`gui: ${running.url}`);
  }
  // Stopping the node itself, the launcher runs its -shutdownnotify first (the node's own call,
  // if it comes, joins it): the node's connection closes before the node has stopped.
  if (flags.once) {
    await nodeNotifier?.shutdown();
    return 0;
  }
  console.log(
    `${withGui ? "node and gui" : "node"}: running; Ctrl-C stops ${withGui ? "them" : "it"}`,
  );
  return await finished(node, interrupted.signal, () => nodeNotifier?.shutdown());
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
  const stateDir = preparedState(flags);
  // The node's socket is not the sandbox's to hand out (under root another user's file, 0600):
  // the gui connects to a socket of the launcher's, which relays to it.
  await using relay = relaySocket(
    path,
    join(stateLayout(stateDir).sockets, "node-attached", "node.sock"),
  );
  const userAsked = flags.node.some((arg) => /^--?debug=(ipc|1|all)$/.test(arg));
  await using launcher = supervisedApplication({
    stateDir,
    hardened: flags.hardened,
    printIpcLines: userAsked,
  });
  launcher.service.addAttached("node");
  const entry = entryOf(await topologyOf(flags), "gui");
  const gui = planGui(await entryComponent(entry), [
    ...entry.args,
    ...flags.node.filter((arg) => GUI_OPTION.test(arg)),
    "-noipctoken",
    "-debug=ipc",
  ]);
  const running = await startGui(
    launcher.supervisor,
    gui,
    { socket: relay.path },
    launcher.service,
  );
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

/** The node's socket and IPC cookie for `-ipcconnect=<address>` (and `-ipccookiefile`). */
function attachTarget(
  stateDir: string,
  args: readonly string[],
): { socket: string; cookie: string } {
  const value = (name: string) =>
    args.findLast((arg) => arg.startsWith(`-${name}=`) || arg.startsWith(`--${name}=`))
      ?.replace(/^--?[a-z]+=/, "");
  const address = value("ipcconnect");
  if (address === undefined) {
    throw new Error(
      "spawn-wallet needs -ipcconnect=unix (the node of the state directory) or " +
        "-ipcconnect=unix:<path of the node's socket>",
    );
  }
  const cwd = Deno.env.get("INIT_CWD") ?? Deno.cwd();
  const cookieGiven = value("ipccookiefile");
  if (address === "unix") {
    const layout = stateLayout(stateDir);
    return {
      socket: layout.socket("node"),
      cookie: cookieGiven
        ? resolve(cwd, cookieGiven)
        : join(layout.data("node"), "regtest", IPC_COOKIE_FILE),
    };
  }
  if (!address.startsWith("unix:") || address.length === 5) {
    throw new Error(`-ipcconnect=${address}: the address is unix or unix:<path>`);
  }
  const socket = resolve(cwd, address.slice(5));
  return {
    socket,
    cookie: cookieGiven ? resolve(cwd, cookieGiven) : join(dirname(socket), IPC_COOKIE_FILE),
  };
}

/**
 * `spawn wallet`: a wallet process under the supervisor attached to a
 * running node, presenting the node's IPC cookie (read again for every
 * run, so a restarted wallet finds a restarted node); until a signal (it
 * then detaches: its wallets leave the node's routing) or its failure.
 */
async function spawnWallet(flags: Flags): Promise<number> {
  using interrupted = interruption();
  const stateDir = preparedState(flags);
  const target = attachTarget(stateDir, flags.node);
  const names = flags.node.filter((arg) => /^--?wallet=/.test(arg))
    .map((arg) => arg.replace(/^--?wallet=/, ""));
  const instance = flags.name ??
    `wallet-${(names[0] ?? "attached").toLowerCase().replace(/[^a-z0-9-]/g, "-")}`.slice(0, 32);
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(instance)) {
    throw new Error(
      `--name=${instance}: lower-case letters, digits and '-', starting with a letter`,
    );
  }
  const walletEntry = entryOf(await topologyOf(flags), "wallet");
  const asked = [...walletEntry.args, ...attachedWalletArgs(flags.node)];
  const loaded = withRpcGrants(await entryComponent(walletEntry), asked);
  const options = parseWalletArgs(asked);
  // -walletdir, checked as Core checks it, through a view of this instance's own.
  const { component, args } = withWalletDir(
    { ...loaded, manifest: { ...loaded.manifest, name: instance } },
    stateDir,
    asked,
    options.walletDir,
  );
  const credential = () => {
    const token = readCookie(target.cookie);
    if (token === null) {
      throw new Error(`no IPC cookie at ${target.cookie}: is the node running (deno task start)?`);
    }
    return { socket: target.socket, tokenHex: toHex(token) };
  };
  credential(); // a missing cookie is said at once, before anything starts
  const notifier = commandRunner({ ...NO_COMMANDS, wallet: options.walletNotify });
  const attached = Promise.withResolvers<string>();
  await using supervisor = newSupervisor(stateDir, flags.hardened, (line) => {
    const match = /^wallet: attached to the node at .*; wallets: (.*)$/.exec(line);
    if (match) attached.resolve(match[1]);
  });
  const wallet = await supervisor.start(Init, component, {
    args,
    connectTo: credential,
  });
  handNotifier(wallet, notifier);
  const ended = await Promise.race([
    attached.promise,
    wallet.failed,
    interrupted.signal.then((name) => new Interrupted(name)),
  ]);
  if (ended instanceof Error) throw ended;
  const dataDir = wallet.instance?.paths.dataDir;
  console.log(
    `wallet: ${instance} attached to ${target.socket}; wallets: ${ended || "(none)"} ` +
      `(data directory ${dataDir})`,
  );
  const { rpc } = options;
  if (rpc !== null) {
    console.log(`wallet: its own JSON-RPC on 127.0.0.1:${rpc.port} and [::1]:${rpc.port}`);
    const words = ["task", "cli", "-regtest", `-datadir=${dataDir}`, `-rpcport=${rpc.port}`];
    if (rpc.password !== "") words.push(`-rpcuser=${rpc.user}`, `-rpcpassword=${rpc.password}`);
    else if (rpc.cookieFile !== ".cookie" && rpc.cookieFile !== false) {
      words.push(`-rpccookiefile=${dataDir}/regtest/${rpc.cookieFile}`);
    }
    if (names.length > 0) words.push(`-rpcwallet=${names[0]}`);
    console.log(`try: ${denoInvocation()} ${[...words, "getwalletinfo"].map(shellWord).join(" ")}`);
  }
  if (flags.once) return 0;
  console.log("wallet: running; Ctrl-C detaches it");
  const stop = await Promise.race([interrupted.signal, wallet.failed]);
  if (typeof stop === "string") {
    console.log(`wallet: detaching (${stop})`);
    return 0;
  }
  // It stopped by itself (`stop` on its own JSON-RPC) or failed past its restart budget.
  return wallet.exits.at(-1)?.reason.kind === "clean" ? 0 : 1;
}

/**
 * The launcher's runner of the user's notification commands, or null when
 * none is given: the sandboxed components may not start processes, so they
 * tell it their events (`Init.setNotifier`) and it runs the commands in the
 * directory the task was called from, as bitcoind would in its own.
 */
function commandRunner(commands: NotifyCommands): CommandRunner | null {
  if (!hasCommands(commands)) return null;
  return new CommandRunner({
    commands,
    cwd: Deno.env.get("INIT_CWD") ?? Deno.cwd(),
    log: (line) => console.error(`[notify] ${line}`),
  });
}

/**
 * Hands every run of `component` the launcher's `notifier` (none: nothing
 * to hand), its startup and shutdown commands armed again for each.
 */
function handNotifier(component: Supervised<Init>, notifier: CommandRunner | null): void {
  if (notifier === null) return;
  component.onStart((init) => {
    notifier.rearm();
    void Promise.resolve(init.setNotifier(notifier)).catch((error) =>
      console.error(
        `[notify] ${component.name}: setNotifier failed: ${
          error instanceof Error ? error.message : error
        }`,
      )
    );
  });
}

/** `bytes` in lower-case hex. */
const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * Waits for a signal (then runs `beforeStop` and stops the node) or the
 * node's end; the exit status.
 */
async function finished(
  node: Supervised<Init>,
  signal: Promise<string>,
  beforeStop: () => Promise<void> | undefined,
): Promise<number> {
  const ended = await Promise.race([signal, node.failed]);
  if (typeof ended === "string") {
    console.log(`node: stopping (${ended})`);
    await beforeStop();
    return 0;
  }
  // It stopped by itself (RPC stop) or failed past its restart budget.
  return node.exits.at(-1)?.reason.kind === "clean" ? 0 : 1;
}

/** `start`: a wallet named "default" unless the user names theirs. */
function withDefaultWallet(flags: Flags): Flags {
  if (flags.node.some((arg) => /^--?(wallet=|disablewallet(=1)?$)/.test(arg))) return flags;
  return { ...flags, node: [...flags.node, `-wallet=${DEFAULT_WALLET}`] };
}

/** The wallet `deno task start` loads (created at the first start). */
const DEFAULT_WALLET = "default";

if (import.meta.main) {
  try {
    const flags = parseFlags(Deno.args);
    const [command, target] = flags.positionals;
    // `start` is the whole application: the node, its default wallet and the gui.
    if (command === "start") Deno.exit(await spawnNode(withDefaultWallet(flags), true));
    if (command === "spawn" && target === "node") Deno.exit(await spawnNode(flags));
    if (command === "gui" || (command === "spawn" && target === "gui")) {
      const attach = flags.node.map((arg) => /^--?ipcconnect=(.*)$/.exec(arg)?.[1])
        .findLast((value) => value !== undefined);
      Deno.exit(
        attach === undefined ? await spawnNode(flags, true) : await attachGui(flags, attach),
      );
    }
    if (command === "spawn" && target === "wallet") Deno.exit(await spawnWallet(flags));
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
