/**
 * The node under the sandbox, as `deno task spawn-node` and `deno task
 * start` run it: {@linkcode planNode} turns the node's manifest and the
 * user's options into the exact component and arguments the spawn contract
 * runs, {@linkcode waitForRpc} waits until its JSON-RPC answers, and
 * {@linkcode checkIpc} calls its Bitcoin Core `Init` through the
 * supervisor's channel.
 *
 * **Grants follow the options.** The manifest's net grants are the RPC
 * endpoints of the default options (`127.0.0.1:18443`, `[::1]:18443`, as
 * bitcoind binds both). Options that move the endpoints (`-rpcport`,
 * `-rpcbind` with `-rpcallowip`, `-server=0`) move the grants: the launcher
 * reads the node's argument list exactly as the node will
 * ({@linkcode parseNodeArgs}) and takes the endpoints' grants from
 * {@linkcode rpcNetGrants}, the function `deno task node` computes its
 * flags with, in place of the default ones, and those of its ZMQ sockets
 * from {@linkcode zmqNetGrants}. Other net grants of the manifest (or of
 * `--grant`) stay. An `ipc://` ZMQ socket must lie where the node may
 * write, reached through its data directory's view
 * (`<state>/view/node/regtest/…`).
 *
 * **The sandbox's own options** (`-datadir`, `-conf`, `-ipcbind`,
 * `-ipcconnect`, `-ipcfd`, `-lifeline`) are refused on the command line:
 * the contract sets them; so are `-daemon` and `-daemonwait`: the
 * supervisor keeps the node running. `-walletdir` is checked here as Core's
 * `VerifyWallets` checks it; the process that holds the wallets (the
 * wallet process, or the node with `-monolithic`) is given the directory
 * through a view ({@linkcode withWalletDir}), and a node that does not run
 * them is not given it at all. The node is given `-regtest`, `-noconf` (its
 * grants do not reach a `bitcoin.conf`; the launcher and the node must read
 * the same options), `-printtoconsole=0` (its log is
 * `<data>/regtest/debug.log`; `-printtoconsole` brings it back), the RPC
 * port (`-rpcport=18443` unless the user gives one), then the user's
 * options; a pid file, log or cookie placed outside `<datadir>/regtest` is
 * refused, since nothing else is granted.
 *
 * @example
 * ```ts
 * import { loadComponent } from "../../host.ts";
 * import { planNode } from "./sandboxed.ts";
 * const node = await loadComponent(new URL(".", import.meta.url).pathname);
 * const state = Deno.realPathSync(Deno.makeTempDirSync());
 * const planned = planNode(node, state, ["-rpcport=18500"]);
 * if (planned.kind !== "run") throw new Error("expected a plan");
 * const net = planned.plan.component.manifest.permissions.net.join(",");
 * if (net !== "[::1]:18500,127.0.0.1:18500") throw new Error(net);
 * Deno.removeSync(state, { recursive: true });
 * ```
 * @module
 */
import { join } from "node:path";
import { type Component, stateLayout } from "../../host.ts";
import type { Remote } from "../../component.ts";
import type { Init } from "../../schemas/gen/ipc/init.mp.ts";
import { hashToHex } from "./chain/hash.ts";
import { DEFAULT_RPC_PORT, type NodeOptions, parseNodeArgs, type RpcEndpoint } from "./options.ts";
import {
  isWithin,
  placedFiles,
  rpcNetGrants,
  zmqNetGrants,
  zmqSocketPaths,
} from "./permissions.ts";

/** What the launcher gives the node before the user's options (and the port, unless they give it). */
export const NODE_BASE_ARGS: readonly string[] = ["-regtest", "-noconf", "-printtoconsole=0"];

/** Options the spawn contract sets itself (`contract.ts`), refused from the user. */
const SANDBOX_OPTIONS = ["datadir", "conf", "ipcbind", "ipcconnect", "ipcfd", "lifeline"];

/** A node option spawn-node cannot run the node with; the message is one line. */
export class SpawnNodeError extends Error {
  override name = "SpawnNodeError";
}

/** How the sandboxed node runs. */
export interface NodePlan {
  /** The node's component, its manifest's net grants those of {@linkcode NodePlan.options}. */
  readonly component: Component;
  /** The node's arguments after the contract's own (`-datadir`, `-lifeline`, `-ipcbind`). */
  readonly args: readonly string[];
  /** The options as the node reads them, paths through the real data directory. */
  readonly options: NodeOptions;
  /** The node's data directory (`<state>/data/node`); its files are in `regtest/`. */
  readonly dataDir: string;
}

/** A plan, or a text to print instead of running (`-help`, `-version`). */
export type PlannedNode = { kind: "run"; plan: NodePlan } | { kind: "print"; text: string };

/** The options of `args` for a node whose data directory is `dataDir`. */
function readOptions(dataDir: string, args: readonly string[]) {
  // The sandbox runs the node in its data directory (a relative ipc:// path is against it).
  return parseNodeArgs([`-datadir=${dataDir}`, ...args], { cwd: dataDir });
}

/**
 * Plans the node's run from `stateDir` (absolute, real) with the user's
 * node options `userArgs`. Throws {@linkcode SpawnNodeError} for an option
 * the sandbox sets or a file it does not grant, and the node's own
 * `StartupError` (bitcoind's text) for a bad option.
 */
export function planNode(
  component: Component,
  stateDir: string,
  userArgs: readonly string[],
): PlannedNode {
  for (const arg of userArgs) {
    const name = /^--?(?:no)?([a-z]+)(?:=|$)/.exec(arg)?.[1];
    // -nodaemon and -daemon=0 change nothing: only asking for the background is refused.
    if (/^--?(daemon|daemonwait|daemonized)(=1)?$/.test(arg)) {
      throw new SpawnNodeError(
        `${arg}: the supervisor keeps the node running; run the launcher itself in the background`,
      );
    }
    if (name !== undefined && SANDBOX_OPTIONS.includes(name)) {
      throw new SpawnNodeError(
        `${arg}: the sandbox sets -${name} itself (the node's data directory is ` +
          `${stateLayout(stateDir).data(component.manifest.name)})`,
      );
    }
  }
  const dataDir = stateLayout(stateDir).data(component.manifest.name);
  // The contract makes it too; the options are read against it (-datadir must exist).
  Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const portGiven = userArgs.some((arg) => /^--?rpcport=/.test(arg));
  const args = [
    ...NODE_BASE_ARGS,
    ...(portGiven ? [] : [`-rpcport=${DEFAULT_RPC_PORT}`]),
    ...userArgs,
  ];
  const startup = readOptions(dataDir, args);
  if (startup.kind === "print") return startup;
  const { options } = startup;
  // Checked above as Core's VerifyWallets checks it; the node touches the wallet files only when
  // it runs the wallets itself, else the wallet process is given the directory.
  const given = withWalletDir(
    component,
    stateDir,
    args,
    options.monolithic ? options.walletDir : null,
  );
  for (const file of placedFiles(options)) {
    if (!isWithin(file, options.netDir)) {
      throw new SpawnNodeError(
        `${file}: the sandbox grants the node ${options.netDir} only; leave the file there`,
      );
    }
  }
  // The node reaches its files through its data directory's view, where its grants are.
  const view = stateLayout(stateDir).view(component.manifest.name);
  const granted = component.manifest.permissions.write.map((path) => join(view, path));
  for (const path of zmqSocketPaths(options)) {
    // Its net grant joins a comma-separated list: a comma would grant what follows it.
    if (path.includes(",")) {
      throw new SpawnNodeError(
        `${path}: a path with ',' cannot be granted to Deno; choose another`,
      );
    }
    if (!granted.some((dir) => isWithin(path, dir))) {
      throw new SpawnNodeError(
        `${path}: the sandbox grants the node ${granted.join(", ")} only; put the ZMQ socket there`,
      );
    }
  }
  const defaults = readOptions(dataDir, NODE_BASE_ARGS);
  const defaultRpc = defaults.kind === "run" ? rpcNetGrants(defaults.options) : [];
  const { manifest } = given.component;
  const net = [
    ...manifest.permissions.net.filter((grant) => !defaultRpc.includes(grant)),
    ...rpcNetGrants(options),
    ...zmqNetGrants(options),
  ];
  return {
    kind: "run",
    plan: {
      component: {
        ...given.component,
        manifest: { ...manifest, permissions: { ...manifest.permissions, net: [...new Set(net)] } },
      },
      args: given.args,
      options,
      dataDir,
    },
  };
}

/** `-walletdir` in any spelling (`--walletdir`, `-nowalletdir`). */
const WALLET_DIR_ARG = /^--?(no)?walletdir(=|$)/;

/**
 * `component` given `walletDir` (a `-walletdir` checked as Core checks it,
 * or null: none) through a view of its own,
 * `<state>/view/<name>.walletdir`, and `args` with `-walletdir` naming that
 * view instead (none without one): the process that holds the wallets is
 * granted read and write of that directory and nothing else of the user's.
 *
 * @example
 * ```ts
 * import { loadComponent } from "../../host.ts";
 * import { withWalletDir } from "./sandboxed.ts";
 * const wallet = await loadComponent(new URL("../wallet", import.meta.url).pathname);
 * const walletDir = Deno.realPathSync(Deno.makeTempDirSync());
 * const given = withWalletDir(wallet, "/state", ["-wallet=w", `-walletdir=${walletDir}`], walletDir);
 * if (given.component.outsideDirs?.walletdir !== walletDir) throw new Error("the directory");
 * const args = given.args.join(" ");
 * if (args !== "-wallet=w -walletdir=/state/view/wallet.walletdir") throw new Error(args);
 * Deno.removeSync(walletDir);
 * ```
 */
export function withWalletDir(
  component: Component,
  stateDir: string,
  args: readonly string[],
  walletDir: string | null | undefined,
): { component: Component; args: string[] } {
  const others = args.filter((arg) => !WALLET_DIR_ARG.test(arg));
  if (walletDir === null || walletDir === undefined) return { component, args: others };
  const view = stateLayout(stateDir).outsideView(component.manifest.name, "walletdir");
  return {
    component: {
      ...component,
      outsideDirs: { ...component.outsideDirs, walletdir: Deno.realPathSync(walletDir) },
    },
    args: [...others, `-walletdir=${view}`],
  };
}

/** `host:port` as a URL or a bitcoin-cli `-rpcconnect` writes it (IPv6 in brackets). */
function hostText(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** The address to call a listening endpoint on: a wildcard is reached on loopback. */
function reachable({ host, port }: RpcEndpoint): RpcEndpoint {
  if (host === "0.0.0.0" || host === "") return { host: "127.0.0.1", port };
  if (host === "::") return { host: "::1", port };
  return { host, port };
}

/** Where the sandboxed node serves JSON-RPC and with which credentials. */
export interface RpcAccess {
  /** Every endpoint, `host:port` (IPv6 in brackets). */
  readonly endpoints: string[];
  /** The endpoint the launcher and the printed command call. */
  readonly endpoint: RpcEndpoint;
  /** The cookie file the node writes, or null with `-rpcpassword` (or `-norpccookiefile`). */
  readonly cookieFile: string | null;
  /** `-rpcuser` and `-rpcpassword`, when given. */
  readonly user?: { name: string; password: string };
}

/** How to reach the planned node's JSON-RPC; null with `-server=0`. */
export function rpcAccess(plan: NodePlan): RpcAccess | null {
  const { server, rpc } = plan.options;
  if (!server) return null;
  return {
    endpoints: rpc.endpoints.map(({ host, port }) => `${hostText(host)}:${port}`),
    endpoint: reachable(rpc.endpoints.find((e) => !e.host.includes(":")) ?? rpc.endpoints[0]),
    cookieFile: rpc.password ? null : rpc.cookieFile,
    user: rpc.password ? { name: rpc.user, password: rpc.password } : undefined,
  };
}

/** A JSON-RPC error the node answered with. */
export class RpcReplyError extends Error {
  override name = "RpcReplyError";
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/**
 * Calls `method` on the node; throws {@linkcode RpcReplyError} for an error
 * reply, and for a 403 (the node's `-rpcwhitelist` refuses the method to
 * this user) one with code 403 saying so.
 */
export async function callRpc(
  access: RpcAccess,
  method: string,
  params: unknown[] = [],
): Promise<unknown> {
  const credentials = access.user
    ? `${access.user.name}:${access.user.password}`
    : access.cookieFile
    ? await Deno.readTextFile(access.cookieFile)
    : ":";
  const { host, port } = access.endpoint;
  const response = await fetch(`http://${hostText(host)}:${port}/`, {
    method: "POST",
    headers: {
      authorization: `Basic ${btoa(credentials)}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await response.text();
  if (response.status === 403) {
    const user = access.user?.name ?? "__cookie__";
    throw new RpcReplyError(
      403,
      `the node's -rpcwhitelist does not let ${user} call ${method}; add it to ${user}'s whitelist`,
    );
  }
  if (body === "") throw new Error(`HTTP ${response.status} ${response.statusText}`);
  const reply = JSON.parse(body) as { result?: unknown; error?: { code: number; message: string } };
  if (reply.error) throw new RpcReplyError(reply.error.code, reply.error.message);
  return reply.result;
}

/**
 * Waits until the node answers `getblockcount` (past its warm-up) and
 * returns the count. Gives up with an error when `gone` settles first (the
 * node failed) or after `timeoutMs`.
 */
export async function waitForRpc(
  access: RpcAccess,
  gone: Promise<unknown>,
  timeoutMs = 60_000,
): Promise<number> {
  let failure: unknown = null;
  gone.then((reason) => failure = reason ?? "the node stopped");
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (failure === null) {
    try {
      return await callRpc(access, "getblockcount") as number;
    } catch (error) {
      // Refused for good: waiting would not change the node's whitelist.
      if (error instanceof RpcReplyError && error.code === 403) throw error;
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the node's JSON-RPC on ${access.endpoints.join(", ")} did not answer within ` +
          `${timeoutMs / 1000} s (${last})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw failure instanceof Error ? failure : new Error(String(failure));
}

/** What the node's `Init` answered through the supervisor. */
export interface IpcCheck {
  /** What `Echo.echo` returned for the text sent. */
  echoed: string;
  /** `Mining.getTip`: the tip's height and hash (display order). */
  tip: { height: number; hash: string };
}

/**
 * Calls the node's Bitcoin Core `Init` (over the channel the supervisor
 * holds, i.e. under the sandbox): `makeEcho` → `echo(text)`, and
 * `makeMining` → `getTip`.
 */
export async function checkIpc(init: Remote<Init>, text = "capdeno"): Promise<IpcCheck> {
  await using echo = (await init.makeEcho())!;
  const echoed = await echo.echo(text);
  await using mining = (await init.makeMining())!;
  const tip = await mining.getTip();
  if (tip === undefined) throw new Error("Mining.getTip answered without a tip");
  return { echoed, tip: { height: tip.height, hash: hashToHex(tip.hash) } };
}

/**
 * bitcoin-cli's options reaching the planned node: its data directory and
 * port, and the cookie file, credentials or address when they are not the
 * defaults the cli derives from those.
 */
export function cliOptions(plan: NodePlan, access: RpcAccess): string[] {
  const args = ["-regtest", `-datadir=${plan.dataDir}`, `-rpcport=${access.endpoint.port}`];
  if (access.endpoint.host !== "127.0.0.1") {
    args.push(`-rpcconnect=${hostText(access.endpoint.host)}`);
  }
  if (access.user) {
    args.push(`-rpcuser=${access.user.name}`, `-rpcpassword=${access.user.password}`);
  } else if (access.cookieFile !== `${plan.options.netDir}/.cookie`) {
    args.push(`-rpccookiefile=${access.cookieFile}`);
  }
  return args;
}
