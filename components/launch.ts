/**
 * Starts the application's components through the sandbox: each goes
 * through the spawn contract under a {@linkcode Supervisor}.
 *
 * ```text
 * deno task start      [options] [node options]   the regtest node (same as spawn-node)
 * deno task spawn-node [options] [node options]   the regtest node under the supervisor: waits for
 *                                                  its JSON-RPC, calls its IPC Init, prints the RPC
 *                                                  address and a bitcoin-cli line; runs until
 *                                                  SIGINT or SIGTERM
 * deno task spawn-wallet | spawn-gui               refused until the wallet and gui are rewritten
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
import { applyGrants, loadComponent, parseGrant } from "../sandbox/manifest.ts";
import { projectRoot, unsearchableAncestor } from "../sandbox/contract.ts";
import { type Supervised, Supervisor } from "../sandbox/supervisor.ts";
import { ArgsError } from "./node/args.ts";
import { StartupError } from "./node/options.ts";
import { formatAudit, summarizeAudit } from "../sandbox/audit.ts";
import { checkIpc, cliOptions, planNode, rpcAccess, waitForRpc } from "./node/sandboxed.ts";

const USAGE = "usage: launch.ts <spawn node | audit> [--state=DIR] [--hardened] [--once] " +
  "[--grant node:kind=value]... [node options]";

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
async function spawnNode(flags: Flags): Promise<number> {
  using interrupted = interruption();
  const loaded = await loadComponent(join(projectRoot(), "components", "node"));
  const [manifest] = applyGrants([loaded.manifest], flags.grant.map((g) => parseGrant(g)));
  const { dir: stateDir, note } = stateDirectory(flags.state);
  if (note !== undefined) {
    console.error(`state: ${stateDir} (${note})`);
    Deno.mkdirSync(SHARED_STATE, { recursive: true, mode: 0o711 });
  }
  Deno.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const planned = planNode({ ...loaded, manifest }, Deno.realPathSync(stateDir), flags.node);
  if (planned.kind === "print") {
    await Deno.stdout.write(new TextEncoder().encode(planned.text));
    return 0;
  }
  const { plan } = planned;
  await using supervisor = new Supervisor({
    stateDir,
    hardened: flags.hardened,
    report: (line) => console.log(`[supervisor] ${line}`),
    output: (line) => console.error(`[node] ${line}`),
  });
  const node = await supervisor.start(Init, plan.component, { args: plan.args });
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
  if (flags.once) return 0;
  console.log("node: running; Ctrl-C stops it");
  return await finished(node, interrupted.signal);
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
  wallet: "the toy wallet calls the former toy node's NodeInit, which the real node does not serve",
  gui:
    "the toy gui reads the former toy node's Chain and the toy wallet, which the real node does " +
    "not serve",
} as const;

if (import.meta.main) {
  try {
    const flags = parseFlags(Deno.args);
    const [command, target] = flags.positionals;
    if (command === "spawn" && target === "node") Deno.exit(await spawnNode(flags));
    if (command === "spawn" && (target === "wallet" || target === "gui")) {
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
