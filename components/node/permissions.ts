/**
 * The exact `deno run` permission flags a node with given options needs,
 * and nothing more:
 *
 * - read on the data directory (its existence, `bitcoin.conf`, and all of
 *   `regtest/`), write on `<datadir>/regtest/` only (the lock, the pid file,
 *   `debug.log`, `.cookie`, the chain's SQLite files, `node.sock`);
 *   configuration, pid, log and cookie files placed elsewhere by options
 *   are added one by one;
 * - net on each JSON-RPC address (`127.0.0.1:18443` and `[::1]:18443` by
 *   default; none with `-server=0`), on each ZMQ publishing address
 *   (`-zmqpub…=tcp://host:port`, and `ipc://path` with read and write on
 *   that socket file alone) and on each IPC socket, which Deno
 *   names by absolute path only (`unix:/abs/…/node.sock`);
 * - read on `-walletdir` when it lies outside, and write too when the node
 *   runs its wallets itself (`-monolithic`);
 * - env `HOME` only when no `-datadir` is given (the default `~/.bitcoin`);
 * - run `/bin/sh` only when a notification command is given
 *   (`-startupnotify`, `-blocknotify`, `-shutdownnotify`, `-alertnotify`, and
 *   `-walletnotify` with `-monolithic`; {@linkcode needsShell}):
 *   the node then runs it, as bitcoind does, and a shell may run anything,
 *   so such a node is confined by nothing but the user's own rights. Under
 *   the sandboxes (`deno task start`, `spawn-node`) the launcher runs the
 *   commands and the node gets no such grant.
 *
 * `node:sqlite` needs nothing beyond read and write on the database's
 * directory. `echoipc` spawns a process only when the node may run Deno
 * (`--allow-run=<deno>,/bin/bash --allow-env=NODE_V8_COVERAGE`, which this
 * module does not grant); without it, it echoes in-process, as bitcoind does.
 *
 * @example
 * ```ts
 * import { parseNodeArgs } from "./options.ts";
 * import { nodePermissions } from "./permissions.ts";
 * const datadir = Deno.makeTempDirSync();
 * const started = parseNodeArgs(["-regtest", `-datadir=${datadir}`, "-ipcbind=unix"]);
 * if (started.kind !== "run") throw new Error("expected options");
 * const flags = nodePermissions(started.options);
 * if (!flags.includes(`--allow-write=${datadir}/regtest`)) throw new Error(flags.join(" "));
 * Deno.removeSync(datadir, { recursive: true });
 * ```
 * @module
 */
import { existsSync } from "node:fs";
import { parseAddress } from "../../component.ts";
import { needsShell, netPermission, type NodeOptions } from "./options.ts";
import { zmqEndpoint } from "./zmq/options.ts";
import { NOTIFY_SHELL } from "../notify/commands.ts";

/** Whether `path` is `dir` or lies under it. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** The socket path of an IPC address, or null when it does not parse (the node reports that). */
function socketPath(address: string, netDir: string): string | null {
  try {
    return parseAddress(address, { datadir: netDir, component: "node" }).path;
  } catch {
    return null;
  }
}

/**
 * The `--allow-*` flags for `options`, in a stable order. Throws when a path
 * holds a comma, which Deno's permission lists cannot express.
 */
export function nodePermissions(options: NodeOptions): string[] {
  const { datadir, netDir } = options;
  const read = [datadir];
  const write = [existsSync(datadir) ? netDir : datadir];
  const net: string[] = [];
  const env: string[] = options.datadirGiven ? [] : ["HOME"];
  for (const file of options.configFilesRead) {
    if (!isWithin(file, datadir)) read.push(file);
  }
  for (const file of placedFiles(options)) {
    if (isWithin(file, netDir)) continue;
    read.push(file);
    write.push(file);
  }
  net.push(...rpcNetGrants(options), ...zmqNetGrants(options));
  for (const path of zmqSocketPaths(options)) {
    if (isWithin(path, netDir)) continue;
    read.push(path);
    write.push(path);
  }
  const { bind, connect } = options.ipc;
  for (const address of connect === null ? bind : [...bind, connect]) {
    const path = socketPath(address, netDir);
    if (path === null) continue;
    net.push(`unix:${path}`);
    if (isWithin(path, netDir)) continue;
    read.push(path);
    write.push(path);
  }
  // -walletdir: checked by every node, written by one that runs its wallets (-monolithic).
  // Deno checks a path as written: the one given (it may pass through a link) and the resolved one.
  if (options.walletDir !== null) {
    const given = options.walletDir;
    for (const path of new Set([given, Deno.realPathSync(given)])) {
      if (isWithin(path, netDir)) continue;
      read.push(path);
      if (options.monolithic) write.push(path);
    }
  }
  const run = needsShell(options) ? [NOTIFY_SHELL] : [];
  return permissionFlags({ read, write, net, env, run });
}

/**
 * The `--allow-net` entries of the node's JSON-RPC endpoints, IPv6 in
 * brackets (`127.0.0.1:18443`, `[::1]:18443` by default); none with
 * `-server=0`.
 *
 * @example
 * ```ts
 * import { parseNodeArgs } from "./options.ts";
 * import { rpcNetGrants } from "./permissions.ts";
 * const datadir = Deno.makeTempDirSync();
 * const started = parseNodeArgs(["-regtest", `-datadir=${datadir}`, "-rpcport=18500"]);
 * if (started.kind !== "run") throw new Error("expected options");
 * const grants = rpcNetGrants(started.options).join(",");
 * if (grants !== "[::1]:18500,127.0.0.1:18500") throw new Error(grants);
 * Deno.removeSync(datadir, { recursive: true });
 * ```
 */
export function rpcNetGrants(options: NodeOptions): string[] {
  return options.server ? options.rpc.endpoints.map(netPermission) : [];
}

/**
 * The `--allow-net` entries of the node's ZMQ publishing sockets
 * (`-zmqpub<type>=tcp://host:port`; `unix:/abs/path` for `ipc://path`),
 * each address once.
 *
 * @example
 * ```ts
 * import { parseNodeArgs } from "./options.ts";
 * import { zmqNetGrants } from "./permissions.ts";
 * const datadir = Deno.makeTempDirSync();
 * const started = parseNodeArgs([
 *   "-regtest",
 *   `-datadir=${datadir}`,
 *   "-zmqpubrawblock=tcp://127.0.0.1:28332",
 *   "-zmqpubrawtx=tcp://127.0.0.1:28332",
 *   "-zmqpubhashtx=tcp://[::1]:28333",
 * ]);
 * if (started.kind !== "run") throw new Error("expected options");
 * const grants = zmqNetGrants(started.options).join(",");
 * if (grants !== "[::1]:28333,127.0.0.1:28332") throw new Error(grants);
 * Deno.removeSync(datadir, { recursive: true });
 * ```
 */
export function zmqNetGrants(options: NodeOptions): string[] {
  const grants = options.zmq.map(({ address }) => {
    const endpoint = zmqEndpoint(address, options.workingDirectory);
    if ("path" in endpoint) return `unix:${endpoint.path}`;
    return netPermission({ host: endpoint.hostname, port: endpoint.port });
  });
  return [...new Set(grants)];
}

/** The absolute paths of the node's `ipc://` ZMQ sockets, each once. */
export function zmqSocketPaths(options: NodeOptions): string[] {
  const paths = options.zmq.map(({ address }) => zmqEndpoint(address, options.workingDirectory))
    .flatMap((endpoint) => "path" in endpoint ? [endpoint.path] : []);
  return [...new Set(paths)];
}

/**
 * The files the options place, each absolute: the pid file, `debug.log`
 * and the cookie (those turned off are left out). By default all lie in
 * `<datadir>/regtest/`.
 */
export function placedFiles(options: NodeOptions): string[] {
  return [options.pidFile, options.log.file, options.rpc.cookieFile]
    .filter((file) => file !== null);
}

/**
 * `--allow-<kind>=<values>` flags, in the order given, each list without
 * duplicates and left out when empty. Throws when a value holds a comma,
 * which Deno's permission lists cannot express.
 *
 * @example
 * ```ts
 * import { permissionFlags } from "./permissions.ts";
 * const flags = permissionFlags({ read: ["/a", "/a"], net: [] });
 * if (flags.join(" ") !== "--allow-read=/a") throw new Error(flags.join(" "));
 * ```
 */
export function permissionFlags(grants: Record<string, readonly string[]>): string[] {
  const flags: string[] = [];
  for (const [kind, values] of Object.entries(grants)) {
    const unique = [...new Set(values)];
    if (unique.length === 0) continue;
    const comma = unique.find((value) => value.includes(","));
    if (comma !== undefined) {
      throw new Error(`${comma}: a path with ',' cannot be granted to Deno; choose another`);
    }
    flags.push(`--allow-${kind}=${unique.join(",")}`);
  }
  return flags;
}
