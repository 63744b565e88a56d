/**
 * Starts the application's components through the sandbox: each goes
 * through the spawn contract under a {@linkcode Supervisor}.
 *
 * ```text
 * deno task start      [options] [node options]   the regtest node and its wallet process, a wallet
 *                                                  named "default" loaded (created at first), state
 *                                                  in ./data: spawn-node -wallet=default, unless
 *                                                  -wallet is given
 * deno task spawn-node [options] [node options]   the regtest node under the supervisor: waits for
 *                                                  its JSON-RPC, calls its IPC Init, prints the RPC
 *                                                  address and a bitcoin-cli line; runs until
 *                                                  SIGINT or SIGTERM
 * deno task spawn-node [options] -wallet=<name>... the node, and the wallet process attached to it
 *                                                  (its own sandbox: its data directory and the
 *                                                  node's socket), loading each -wallet (created when
 *                                                  missing); `deno task cli -rpcwallet=<name> …`
 * deno task spawn-node -monolithic -wallet=<name>  the node with its wallets in its own process
 * deno task spawn-wallet [options] -ipcconnect=unix[:path] [-ipccookiefile=<path>] [-wallet=<name>]...
 *                                                  a wallet process attached to a running node,
 *                                                  presenting its IPC cookie (`unix`: the node of
 *                                                  this state directory; a path: the cookie beside
 *                                                  the socket, node.cookie); --name=<instance> names
 *                                                  its data directory (default wallet-<first name>);
 *                                                  runs until SIGINT or SIGTERM (it then detaches)
 * deno task spawn-gui                              refused until the gui is rewritten
 * deno task audit      [--state=DIR]              per component, what it tried outside its grants
 *
 * options: --state=DIR (default ./data in the project), --hardened (bubblewrap), --once (stop
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
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { Init } from "../schemas/gen/ipc/init.mp.ts";
import {
  applyGrants,
  formatAudit,
  loadComponent,
  parseGrant,
  projectRoot,
  readCookie,
  stateLayout,
  summarizeAudit,
  type Supervised,
  Supervisor,
  unsearchableAncestor,
} from "../host.ts";
import { ArgsError } from "./node/args.ts";
import { StartupError } from "./node/options.ts";
import { IPC_COOKIE_FILE } from "./node/shell.ts";
import {
  callRpc,
  checkIpc,
  cliOptions,
  planNode,
  type RpcAccess,
  rpcAccess,
  waitForRpc,
} from "./node/sandboxed.ts";

const USAGE = "usage: launch.ts <start | spawn node | spawn wallet | audit> [--state=DIR] " +
  "[--hardened] [--once] [--name=INSTANCE] [--grant node:kind=value]... [node or wallet options]";

/** What the command line asks for. */
interface Flags {
  positionals: string[];
  state: string | undefined;
  hardened: boolean;
  once: boolean;
  grant: string[];
  /** `--name`: the attached wallet's instance name. */
  name: string | undefined;
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

/** The wallet component's folder. */
const walletFolder = () => join(projectRoot(), "components", "wallet");

/** Whether the node's options ask for `-monolithic`. */
const isMonolithic = (args: readonly string[]) =>
  args.some((arg) => /^--?monolithic(=1)?$/.test(arg));

/**
 * `spawn node` (and `start`): the node under the supervisor until a signal,
 * its failure, or at once with `--once`; resolves with the exit status.
 * With `-wallet`, the wallet process too, or with `-monolithic` the node
 * runs its wallets itself (its bundle may hold the wallet's code).
 */
async function spawnNode(flags: Flags): Promise<number> {
  using interrupted = interruption();
  const loaded = await loadComponent(join(projectRoot(), "components", "node"));
  const [manifest] = applyGrants([loaded.manifest], flags.grant.map((g) => parseGrant(g)));
  const monolithic = isMonolithic(flags.node);
  const component = monolithic
    ? {
      ...loaded,
      manifest: { ...manifest, entry: "monolithic.ts" },
      codeFolders: [walletFolder()],
    }
    : { ...loaded, manifest };
  const stateDir = preparedState(flags);
  const planned = planNode(component, stateDir, flags.node);
  if (planned.kind === "print") {
    await Deno.stdout.write(new TextEncoder().encode(planned.text));
    return 0;
  }
  const { plan } = planned;
  await using supervisor = newSupervisor(stateDir, flags.hardened);
  const node = await supervisor.start(Init, plan.component, { args: plan.args });
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
  const ipc = await checkIpc(await node.current());
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
  const names = plan.options.wallets;
  if (names.length > 0) {
    if (access === null) throw new Error("-wallet needs the node's JSON-RPC (-server=0 was given)");
    let where: string;
    if (monolithic) {
      await waitForWallets(access, names, stopped);
      where = `in the node's process, ${plan.dataDir}/regtest/wallets`;
    } else {
      const wallet = await supervisor.start(Init, await loadComponent(walletFolder()), {
        args: flags.node.filter((arg) => WALLET_OPTIONS.test(arg)),
        connectTo: node,
      });
      await waitForWallets(access, names, Promise.race([stopped, wallet.failed]));
      where = `data directory ${wallet.instance?.paths.dataDir}`;
    }
    console.log(`wallet: ${names.join(", ")} loaded (${where})`);
    const words = [...cliWords, `-rpcwallet=${names[0]}`, "getwalletinfo"];
    console.log(`try: ${denoInvocation()} ${words.map(shellWord).join(" ")}`);
  }
  console.log(
    `node: IPC cookie ${plan.dataDir}/regtest/${IPC_COOKIE_FILE} (deno task spawn-wallet -ipcconnect=unix attaches with it)`,
  );
  if (flags.once) return 0;
  console.log("node: running; Ctrl-C stops it");
  return await finished(node, interrupted.signal);
}

/** The options the wallet process reads too (bitcoind's wallet options, and its IPC log's). */
const WALLET_OPTIONS = /^--?(wallet|fallbackfee|debug|loglevel)=/;

/** Resolves once the node's JSON-RPC lists every one of `names`; rejects if `gone` settles first. */
async function waitForWallets(
  access: RpcAccess,
  names: readonly string[],
  gone: Promise<unknown>,
): Promise<void> {
  let failure: unknown = null;
  gone.then((reason) => failure = reason ?? new Error("stopped"));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (failure !== null) throw failure;
    const loaded = await callRpc(access, "listwallets") as string[];
    if (names.every((name) => loaded.includes(name))) return;
    if (Date.now() > deadline) {
      throw new Error(`the wallets ${names.join(", ")} were not loaded within 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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
  const names = flags.node.filter((arg) => WALLET_OPTIONS.test(arg) && /^--?wallet=/.test(arg))
    .map((arg) => arg.replace(/^--?wallet=/, ""));
  const instance = flags.name ??
    `wallet-${(names[0] ?? "attached").toLowerCase().replace(/[^a-z0-9-]/g, "-")}`.slice(0, 32);
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(instance)) {
    throw new Error(
      `--name=${instance}: lower-case letters, digits and '-', starting with a letter`,
    );
  }
  const credential = () => {
    const token = readCookie(target.cookie);
    if (token === null) {
      throw new Error(`no IPC cookie at ${target.cookie}: is the node running (deno task start)?`);
    }
    return { socket: target.socket, tokenHex: toHex(token) };
  };
  credential(); // a missing cookie is said at once, before anything starts
  const loaded = await loadComponent(walletFolder());
  const attached = Promise.withResolvers<string>();
  await using supervisor = newSupervisor(stateDir, flags.hardened, (line) => {
    const match = /^wallet: attached to the node at .*; wallets: (.*)$/.exec(line);
    if (match) attached.resolve(match[1]);
  });
  const wallet = await supervisor.start(Init, {
    ...loaded,
    manifest: { ...loaded.manifest, name: instance },
  }, {
    args: flags.node.filter((arg) => WALLET_OPTIONS.test(arg)),
    connectTo: credential,
  });
  const ended = await Promise.race([
    attached.promise,
    wallet.failed,
    interrupted.signal.then((name) => new Interrupted(name)),
  ]);
  if (ended instanceof Error) throw ended;
  console.log(
    `wallet: ${instance} attached to ${target.socket}; wallets: ${ended || "(none)"} ` +
      `(data directory ${wallet.instance?.paths.dataDir})`,
  );
  if (flags.once) return 0;
  console.log("wallet: running; Ctrl-C detaches it");
  const stop = await Promise.race([interrupted.signal, wallet.failed]);
  if (typeof stop === "string") {
    console.log(`wallet: detaching (${stop})`);
    return 0;
  }
  return 1;
}

/** `bytes` in lower-case hex. */
const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

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

/** `start`: a wallet named "default" unless the user names theirs. */
function withDefaultWallet(flags: Flags): Flags {
  if (flags.node.some((arg) => /^--?wallet=/.test(arg))) return flags;
  return { ...flags, node: [...flags.node, `-wallet=${DEFAULT_WALLET}`] };
}

/** The wallet `deno task start` loads (created at the first start). */
const DEFAULT_WALLET = "default";

if (import.meta.main) {
  try {
    const flags = parseFlags(Deno.args);
    const [command, target] = flags.positionals;
    if (command === "start") Deno.exit(await spawnNode(withDefaultWallet(flags)));
    if (command === "spawn" && target === "node") Deno.exit(await spawnNode(flags));
    if (command === "spawn" && target === "wallet") Deno.exit(await spawnWallet(flags));
    if (command === "spawn" && target === "gui") {
      throw new Error(
        "spawn-gui returns with the gui rewrite: the toy gui reads the former toy node's Chain " +
          "and the toy wallet, which the real node does not serve",
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
