/**
 * The spawn contract: the one way a component starts.
 *
 * {@linkcode sandboxCommand} turns a manifest into the exact command line,
 * and {@linkcode spawnComponent} runs it. The command is:
 *
 * ```text
 * prlimit --cpu=… --nofile=… --core=0 --
 *   [hardened: bwrap …namespaces… --]
 *   setpriv --no-new-privs [as root: --inh-caps=-all --ambient-caps=-all --bounding-set=-all] --
 *   deno run --no-prompt --no-config --no-remote --no-npm --cached-only
 *     --unstable-worker-options --location=http://<name>.component.invalid/
 *     --v8-flags=--max-old-space-size=<heap> <the manifest's --allow-* flags> --deny-run
 *     <bundle> -datadir=<data> -lifeline [-ipcbind=… | -ipcconnect=…] -ipcfd=3
 * ```
 *
 * - Code: the bundle `provenance.ts` built from a checked module graph;
 *   nothing is downloaded or resolved at run time.
 * - Permissions: only what the manifest grants, as absolute paths under the
 *   component's data directory, plus read, write and `net=unix:` for exactly
 *   the socket it listens on or connects to. Never `-A` or `--allow-run`.
 * - Environment: cleared; only Deno's own settings and the variables the
 *   manifest names.
 * - Storage: a fresh `DENO_DIR` per run (removed after it), so
 *   `localStorage` and `caches` do not persist, and a `--location` of its own.
 * - Privileges: under a root supervisor the child keeps uid 0 but no
 *   capability, so file modes bind it (a locked socket directory cannot be
 *   written).
 * - Channel: a socket pair on descriptor 3, and stdin as the lifeline;
 *   stdout and stderr are pipes whose lines reach the supervisor's stderr
 *   sanitized as `[<name>] …`, and no other descriptor is inherited
 *   (`spawn` closes them, `runtime/process/process.ts`).
 * - Exit reasons: from the wait status, the CPU time and memory the
 *   watchdog sampled and the signals the supervisor sent (`limits.ts`).
 *
 * @example
 * ```ts ignore
 * const foo = await loadComponent("examples/foo");
 * await using child = await spawnComponent(FooInit, foo, { stateDir: "/var/lib/app" });
 * ```
 * @module
 */
import { dirname, join } from "node:path";
import type { InterfaceDescriptor } from "../schemas/descriptor.ts";
import {
  type ChildCommand,
  denoCommand,
  spawn,
  type SpawnedComponent,
  type SpawnOptions,
} from "../runtime/process/process.ts";
import { type ExitReason, exitReason, rlimitArgs, watchUsage } from "./limits.ts";
import { bwrapArgs, bwrapPath } from "./hardened.ts";
import type { Component } from "./manifest.ts";
import { prepareCode } from "./provenance.ts";
import { AUDIT_SUFFIX, GRANTS_SUFFIX, type RunGrants } from "./audit.ts";

/** The project root: runtime/, schemas/ and deno.json live here. */
export const PROJECT_ROOT: string = Deno.realPathSync(new URL("../", import.meta.url));

/** A spawn the contract refuses (bad state directory, planted links, no bwrap). */
export class SandboxError extends Error {
  override name = "SandboxError";
}

/** Where one run of a component keeps its things. */
export interface RunPaths {
  /** The bundle it runs. */
  bundle: string;
  /** Its data directory (`<state>/data/<name>`); manifest paths are relative to it. */
  dataDir: string;
  /** This run's `DENO_DIR`, removed after the run. */
  denoDir: string;
  /** This run's permission audit log (`<state>/logs/<name>.<run>.audit.jsonl`). */
  auditLog: string;
  /** The socket it listens on, when its manifest `listens`. */
  listenSocket?: string;
  /** The socket it connects to (`-ipcconnect`). */
  connectSocket?: string;
}

/** How to run it beyond what the manifest says. */
export interface CommandOptions {
  /** Bubblewrap namespaces as well (see `hardened.ts`). */
  hardened?: boolean;
  /** Extra arguments for the component (e.g. `-debug=ipc`). */
  args?: readonly string[];
  /** Values of the environment variables the manifest names; absent ones are left out. */
  env?: Readonly<Record<string, string>>;
  /** Whether the supervisor runs as root (capabilities are then dropped). */
  root?: boolean;
}

/** The state directory's layout. */
export function stateLayout(stateDir: string) {
  return {
    code: join(stateDir, "code"),
    caches: (name: string) => join(stateDir, "caches", name),
    data: (name: string) => join(stateDir, "data", name),
    logs: join(stateDir, "logs"),
    run: join(stateDir, "run"),
    socket: (name: string) => join(stateDir, "sockets", name, `${name}.sock`),
  };
}

function list(paths: readonly string[]): string {
  return paths.join(",");
}

/** What a run is granted: the manifest's paths made absolute, plus its sockets. */
export function runGrants(component: Component, paths: RunPaths): RunGrants {
  const { permissions } = component.manifest;
  const sockets = [paths.listenSocket, paths.connectSocket].filter((s) => s !== undefined);
  return {
    read: [...permissions.read.map((p) => join(paths.dataDir, p)), ...sockets],
    write: [...permissions.write.map((p) => join(paths.dataDir, p)), ...sockets],
    net: [...permissions.net, ...sockets.map((s) => `unix:${s}`)],
    env: [...permissions.env],
  };
}

/**
 * The exact command that runs one component: a pure function of the
 * manifest, the run's paths and the options, so it can be asserted.
 */
export function sandboxCommand(
  component: Component,
  paths: RunPaths,
  options: CommandOptions = {},
): ChildCommand {
  const { manifest } = component;
  const { permissions, limits } = manifest;
  const granted = runGrants(component, paths);
  const grants = (["read", "write", "net", "env"] as const)
    .filter((kind) => granted[kind].length > 0)
    .map((kind) => `--allow-${kind}=${list(granted[kind])}`);
  const env: Record<string, string> = {
    DENO_DIR: paths.denoDir,
    DENO_AUDIT_PERMISSIONS: paths.auditLog,
    DENO_NO_UPDATE_CHECK: "1",
    DENO_NO_PACKAGE_JSON: "1",
    NO_COLOR: "1",
  };
  for (const name of permissions.env) {
    if (options.env?.[name] !== undefined) env[name] = options.env[name];
  }
  const deno = denoCommand(paths.bundle, {
    denoFlags: [
      "--no-config",
      "--no-remote",
      "--no-npm",
      "--cached-only",
      // Without it, asking a Worker for permissions ends the process uncatchably.
      "--unstable-worker-options",
      `--location=http://${manifest.name}.component.invalid/`,
      `--v8-flags=--max-old-space-size=${limits.heapMb}`,
    ],
    permissions: grants,
    args: [
      `-datadir=${paths.dataDir}`,
      "-lifeline",
      ...(paths.listenSocket ? [`-ipcbind=unix:${paths.listenSocket}`] : []),
      ...(paths.connectSocket ? [`-ipcconnect=unix:${paths.connectSocket}`] : []),
      ...(options.args ?? []),
    ],
    env,
  });
  const dropPrivileges = options.root
    ? ["--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all"]
    : [];
  const hardened = options.hardened
    ? [
      bwrapPath() ?? "bwrap",
      ...bwrapArgs({
        readOnly: [paths.bundle, ...(paths.connectSocket ? [dirname(paths.connectSocket)] : [])],
        writable: [
          paths.dataDir,
          paths.denoDir,
          paths.auditLog,
          ...(paths.listenSocket ? [dirname(paths.listenSocket)] : []),
        ],
        cwd: paths.dataDir,
      }, { network: permissions.net.length > 0 }),
    ]
    : [];
  return {
    executable: "prlimit",
    args: [
      ...rlimitArgs(limits),
      ...hardened,
      "setpriv",
      "--no-new-privs",
      ...dropPrivileges,
      "--",
      deno.executable,
      ...deno.args,
    ],
    env: deno.env,
    cwd: paths.dataDir,
  };
}

/**
 * V8's compiled-code cache and Deno's analysis caches, carried from one run
 * of a component to the next: everything else in `DENO_DIR`, localStorage
 * and caches among it, starts empty every run.
 */
const CARRIED_CACHE = /^(v8_code_cache|node_analysis_cache|dep_analysis_cache)_v\d+(-wal|-shm)?$/;

/** Copies the carried caches from `from` into `to` (each file replaced atomically). */
function carryCaches(from: string, to: string): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(from)];
  } catch {
    return; // no earlier run
  }
  for (const entry of entries) {
    if (!entry.isFile || !CARRIED_CACHE.test(entry.name)) continue;
    const copy = join(to, `.${entry.name}.${crypto.randomUUID()}`);
    Deno.copyFileSync(join(from, entry.name), copy);
    Deno.renameSync(copy, join(to, entry.name));
  }
}

/** Refuses a data directory holding links: Deno follows them past the grant. */
function refuseLinks(dir: string): void {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    const info = Deno.lstatSync(path);
    if (info.isSymlink) {
      throw new SandboxError(
        `${path} is a symbolic link; a component's data directory may not hold links (remove it)`,
      );
    }
    if (info.isFile && (info.nlink ?? 1) > 1) {
      throw new SandboxError(
        `${path} is a hard link to another file; a component's data directory may not hold links`,
      );
    }
    if (info.isDirectory) refuseLinks(path);
  }
}

/** Waits until `path` exists, or fails after `timeoutMs`. */
async function appeared(path: string, exited: Promise<unknown>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  exited.then(() => gone = true);
  while (Date.now() < deadline && !gone) {
    try {
      if (Deno.lstatSync(path).isSocket) return;
    } catch { /* not yet */ }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new SandboxError(`${path}: the component did not listen within ${timeoutMs} ms`);
}

/** How to spawn a component. */
export interface SpawnComponentOptions extends CommandOptions, SpawnOptions {
  /** The supervisor's state directory (bundles, data, logs, sockets). */
  stateDir: string;
  /** Another component's socket to connect to, and this component's token for it. */
  connect?: { socket: string; tokenHex: string };
}

/** A component running under the contract. */
export interface SandboxedComponent<T> extends SpawnedComponent<T> {
  readonly name: string;
  /** The command it was started with. */
  readonly command: ChildCommand;
  readonly paths: RunPaths;
  /** Why it ended, once it has. */
  readonly reason: Promise<ExitReason>;
}

/**
 * Starts `component` under the contract and connects to its Init object:
 * checks its code, prepares its directories (refusing planted links),
 * runs {@linkcode sandboxCommand}, watches its resident memory, and
 * removes its run directory after it ends.
 */
export async function spawnComponent<T>(
  iface: InterfaceDescriptor<T>,
  component: Component,
  options: SpawnComponentOptions,
): Promise<SandboxedComponent<T>> {
  const { manifest, folder } = component;
  if (options.stateDir.includes(",")) {
    throw new SandboxError(`state directory ${options.stateDir} may not contain ','`);
  }
  if (options.hardened && bwrapPath() === null) {
    throw new SandboxError("hardened mode needs bubblewrap (bwrap), which is not installed");
  }
  const layout = stateLayout(Deno.realPathSync(options.stateDir));
  const code = await prepareCode(join(folder, manifest.entry), {
    project: PROJECT_ROOT,
    roots: [join(PROJECT_ROOT, "runtime"), join(PROJECT_ROOT, "schemas"), folder],
    cacheDir: layout.code,
  });
  const dataDir = layout.data(manifest.name);
  Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  for (const path of [...manifest.permissions.read, ...manifest.permissions.write]) {
    Deno.mkdirSync(join(dataDir, path), { recursive: true, mode: 0o700 });
  }
  refuseLinks(dataDir);
  Deno.mkdirSync(layout.logs, { recursive: true, mode: 0o700 });
  const runId = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
  const runDir = join(layout.run, `${manifest.name}.${runId}`);
  const paths: RunPaths = {
    bundle: code.bundle,
    dataDir,
    denoDir: join(runDir, "deno"),
    auditLog: join(layout.logs, `${manifest.name}.${runId}${AUDIT_SUFFIX}`),
    connectSocket: options.connect?.socket,
  };
  Deno.mkdirSync(paths.denoDir, { recursive: true, mode: 0o700 });
  const caches = layout.caches(manifest.name);
  Deno.mkdirSync(caches, { recursive: true, mode: 0o700 });
  carryCaches(caches, paths.denoDir);
  Deno.writeTextFileSync(paths.auditLog, "", { mode: 0o600 });
  if (manifest.listens) {
    paths.listenSocket = layout.socket(manifest.name);
    const socketDir = dirname(paths.listenSocket);
    Deno.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(socketDir, 0o700);
    try {
      Deno.removeSync(paths.listenSocket);
    } catch { /* no stale socket */ }
  }
  const command = sandboxCommand(component, paths, { ...options, root: Deno.uid() === 0 });
  Deno.writeTextFileSync(
    paths.auditLog.slice(0, -AUDIT_SUFFIX.length) + GRANTS_SUFFIX,
    JSON.stringify(runGrants(component, paths)),
  );
  const child = await spawn(iface, command, { label: manifest.name, ...options });
  if (options.connect) child.sendControl(`token ${options.connect.tokenHex}`);
  let residentKill: string | undefined;
  const usage = watchUsage(child.pid, manifest.limits.residentMb, (description) => {
    residentKill = description;
    child.kill("SIGKILL");
  });
  const reason = child.exited.then((status) => {
    const evidence = {
      residentKill,
      cpu: { usedAtMost: usage.cpuUsedAtMost(), limit: manifest.limits.cpuSeconds },
      signalsSent: child.signalsSent,
      statusOnly: options.hardened,
    };
    usage[Symbol.dispose]();
    carryCaches(paths.denoDir, caches);
    Deno.removeSync(runDir, { recursive: true });
    return exitReason(status, evidence);
  });
  if (paths.listenSocket) {
    try {
      await appeared(paths.listenSocket, child.exited, 10_000);
    } catch (error) {
      await child[Symbol.asyncDispose]();
      throw error;
    }
    // Bound: from now on nobody without capabilities may replace it.
    Deno.chmodSync(dirname(paths.listenSocket), 0o500);
  }
  return {
    ...child,
    name: manifest.name,
    command,
    paths,
    reason,
    async [Symbol.asyncDispose]() {
      await child[Symbol.asyncDispose]();
      await reason;
    },
  };
}
