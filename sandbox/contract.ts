/**
 * The spawn contract: the one way a component starts.
 *
 * {@linkcode sandboxCommand} turns a manifest into the exact command line,
 * and {@linkcode spawnComponent} runs it. The command is:
 *
 * ```text
 * prlimit --fsize=<disk> --cpu=… --nofile=… --core=0 --
 *   [hardened: bwrap …namespaces… --]
 *   setpriv --no-new-privs
 *     [as root: --reuid=<uid> --regid=<gid> --clear-groups
 *               --inh-caps=-all --ambient-caps=-all --bounding-set=-all] --
 *   deno run --no-prompt --no-config --no-remote --no-npm --cached-only
 *     --unstable-worker-options --location=http://<name>.component.invalid/
 *     --v8-flags=--max-old-space-size=<heap> --import-map=<data: URL>
 *     <the manifest's --allow-* flags> --deny-run
 *     file://<bundle> -datadir=<view> -lifeline [-ipcbind=… | -ipcconnect=…] -ipcfd=3
 * ```
 *
 * - Code: the bundle `provenance.ts` built from a checked module graph;
 *   nothing is downloaded or resolved at run time, and its import map
 *   refuses every other file module (`import()`, Workers).
 * - Permissions: only what the manifest grants, as absolute paths under the
 *   view of its data directory (`datadir.ts`), read and write on the view
 *   of each directory outside it the launcher gives it
 *   (`Component.outsideDirs`), plus read, write and `net=unix:` for exactly
 *   the socket it listens on or connects to. Never `-A` or `--allow-run`.
 * - Environment: cleared; only Deno's own settings and the variables the
 *   manifest names.
 * - Storage: a fresh `DENO_DIR` per run (removed after it), so
 *   `localStorage` and `caches` do not persist, and a `--location` of its own;
 *   a disk quota over its data directory and that `DENO_DIR` (`quota.ts`).
 * - Privileges: under a root supervisor the child runs as a user of its own
 *   with no supplementary group and no capability (`identity.ts`), owning
 *   only its data and run directories; sockets are arranged so that only
 *   the components meant to can connect (`sockets.ts`).
 * - Audit: Deno's permission audit goes through a pipe the supervisor
 *   reads and caps (`audit.ts`).
 * - Channel: a socket pair on descriptor 3, and stdin as the lifeline;
 *   stdout and stderr are pipes whose lines reach the supervisor's stderr
 *   sanitized as `[<name>] …`, and no other descriptor is inherited
 *   (`spawn` closes them, `runtime/process/process.ts`).
 * - Exit reasons: from the wait status, the CPU time and memory the
 *   watchdog sampled and the signals the supervisor sent (`limits.ts`).
 * - One run at a time per component and state directory (`<state>/locks/`):
 *   a second would share the first one's data directory, disk image and
 *   socket.
 *
 * @example
 * ```ts
 * import { projectRoot, spawnComponent } from "./contract.ts";
 * import { loadComponent } from "./manifest.ts";
 * import { FooInit } from "../examples/schemas/gen/conformance.mp.ts";
 * const stateDir = await Deno.makeTempDir();
 * const foo = await loadComponent(`${projectRoot()}/examples/foo`);
 * {
 *   await using child = await spawnComponent(FooInit, foo, { stateDir });
 *   await using remote = (await child.init.makeFoo())!;
 *   if (await remote.add(2, 3) !== 5) throw new Error("called across the sandbox");
 * }
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 * @module
 */
import { dirname, join, resolve } from "node:path";
import type { InterfaceDescriptor } from "../runtime/schema/descriptor.ts";
import {
  type ChildCommand,
  DEFAULT_START_TIMEOUT_MS,
  denoCommand,
  spawn,
  type SpawnedComponent,
  SpawnError,
  type SpawnOptions,
} from "../runtime/process/process.ts";
import { printedLast } from "../runtime/process/output.ts";
import { delayOption } from "../runtime/timer.ts";
import { type ExitReason, exitReason, rlimitArgs, watchUsage } from "./limits.ts";
import { bwrapArgs, bwrapPath } from "./hardened.ts";
import { type Component, grantHint } from "./manifest.ts";
import { type CodePolicy, prepareCode, runtimeImportMap } from "./provenance.ts";
import {
  AUDIT_SUFFIX,
  captureAudit,
  GRANTS_SUFFIX,
  makeAuditPipe,
  type RunGrants,
} from "./audit.ts";
import { chownTree, componentIdentity, type Identity } from "./identity.ts";
import {
  type OutsideDirectory,
  prepareDataDirectory,
  prepareOutsideDirectory,
  refuseLinksOutside,
} from "./datadir.ts";
import {
  diskUsage,
  entryLimit,
  fileSizeLimitArg,
  mountDataImage,
  unmountDataImage,
  watchDisk,
} from "./quota.ts";
import {
  connectorSocket,
  lockListenSocket,
  prepareListenDirectory,
  removeSocket,
} from "./sockets.ts";

let projectRootPath: string | undefined;

/** The published component entry point, relative to the project root: components import the runtime through it. */
export const COMPONENT_ENTRY = "component.ts";

/**
 * The project root, where runtime/, schemas/ and deno.json live (its real
 * path, resolved on first use so that importing this module reads nothing).
 *
 * @example Found from this module, wherever the program runs
 * ```ts
 * const contract = new URL("./contract.ts", import.meta.url).href;
 * const config = new URL("../deno.json", import.meta.url).pathname; // its packages
 * const program = `import { projectRoot } from ${JSON.stringify(contract)};
 *   console.log(projectRoot());`;
 * const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
 *   args: ["eval", "--config", config, program],
 *   cwd: "/",
 * }).output();
 * const root = new TextDecoder().decode(stdout).trim();
 * if (root === "") throw new Error(new TextDecoder().decode(stderr));
 * if (!Deno.statSync(`${root}/sandbox/contract.ts`).isFile) throw new Error(`not the root: ${root}`);
 * if (Deno.realPathSync(root) !== root) throw new Error("not a real path");
 * ```
 */
export function projectRoot(): string {
  return projectRootPath ??= Deno.realPathSync(new URL("../", import.meta.url));
}

/**
 * A spawn the contract refuses: a bad state directory, links leading out of
 * the data directory, a disk image that will not mount, no bwrap.
 */
export class SandboxError extends Error {
  /** Always `"SandboxError"`. */
  override name = "SandboxError";
}

/** Where one run of a component keeps its things. */
export interface RunPaths {
  /** The bundle it runs. */
  bundle: string;
  /** Its data directory (`<state>/data/<name>`). */
  dataDir: string;
  /** The link to it the component is given (`<state>/view/<name>`); manifest paths are granted below it. */
  dataView: string;
  /** The directories outside it the component may read and write (`Component.outsideDirs`), each with its view. */
  outside?: readonly OutsideDirectory[] | undefined;
  /** This run's directory (`<state>/run/<name>.<run>`), removed after the run. */
  runDir: string;
  /** This run's `DENO_DIR`, in its run directory. */
  denoDir: string;
  /** The pipe Deno writes the permission audit to, in its run directory. */
  auditPipe: string;
  /** This run's capped permission audit log (`<state>/logs/<name>.<run>.audit.jsonl`). */
  auditLog: string;
  /** The ext4 image mounted on its data directory (`quota.ts`), under a root supervisor. */
  diskImage?: string | undefined;
  /** The socket it listens on, when its manifest `listens`. */
  listenSocket?: string | undefined;
  /** The path it is given for the socket it connects to (`-ipcconnect`; its own link under root). */
  connectSocket?: string | undefined;
}

/** How to run it beyond what the manifest says. */
export interface CommandOptions {
  /** Bubblewrap namespaces as well (see `hardened.ts`). */
  hardened?: boolean | undefined;
  /** Extra arguments for the component (e.g. `-debug=ipc`). */
  args?: readonly string[] | undefined;
  /**
   * Values of the environment variables the manifest names; absent ones are
   * left out. Default: the launcher's own values of them (those it may read).
   */
  env?: Readonly<Record<string, string>> | undefined;
  /** Under a root supervisor: the component's own user and group (`identity.ts`). */
  identity?: Identity | undefined;
}

/** Where everything lives under a state directory (see {@linkcode stateLayout}). */
export interface StateLayout {
  /** Bundles of checked component code. */
  code: string;
  /** A component's run caches (its `DENO_DIR`). */
  caches: (name: string) => string;
  /** A component's data directory. */
  data: (name: string) => string;
  /** A component's disk image (under root). */
  disk: (name: string) => string;
  /** The link a component is granted its data directory through. */
  view: (name: string) => string;
  /** The link a component is granted a directory outside it through (`Component.outsideDirs`). */
  outsideView: (name: string, label: string) => string;
  /** Held for a component's run (`lockRun`); a file kept between runs. */
  lock: (name: string) => string;
  /** Run logs and audit logs. */
  logs: string;
  /** Run directories. */
  run: string;
  /** Socket directories. */
  sockets: string;
  /** A listening component's socket. */
  socket: (name: string) => string;
}

/**
 * Where the code of the component in `folder` may come from: the runtime,
 * the schemas, the published component entry and its own folder (bundles
 * kept in `cacheDir`). Its graph resolves with the `deno.json` of the
 * nearest folder above it that has one (a project of the user's, or this
 * repository), and may use the packages that one or the runtime's declares.
 *
 * @example
 * ```ts
 * import { componentCodePolicy, projectRoot } from "./contract.ts";
 * const policy = componentCodePolicy(`${projectRoot()}/examples/foo`, "/tmp/code");
 * if (!policy.entries?.includes(`${projectRoot()}/component.ts`)) throw new Error("the entry");
 * ```
 */
export function componentCodePolicy(
  folder: string,
  cacheDir: string,
  codeFolders: readonly string[] = [],
): CodePolicy {
  const root = projectRoot();
  return {
    project: projectOf(folder) ?? root,
    packageProjects: [root],
    roots: [join(root, "runtime"), join(root, "schemas"), folder, ...codeFolders],
    entries: [join(root, COMPONENT_ENTRY)],
    cacheDir,
    outsideHint: (path) =>
      ["host.ts", "engine.ts", "mod.ts"].some((entry) => path === join(root, entry))
        ? `(a component imports the runtime through ${COMPONENT_ENTRY}, ` +
          `@capdeno/runtime/component; the host side is its launcher's)`
        : `(a folder of the component's own code, such as its generated code, is ` +
          `allowed by naming it in its manifest's "code" list, relative to ${folder})`,
  };
}

/** The launcher's values of the variables `names`, of those it may read. */
function launcherEnv(names: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of names) {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") continue;
    const value = Deno.env.get(name);
    if (value !== undefined) values[name] = value;
  }
  return values;
}

/** The nearest folder at or above `folder` that holds a `deno.json`, if any. */
function projectOf(folder: string): string | undefined {
  for (let at = resolve(folder);; at = dirname(at)) {
    try {
      if (Deno.statSync(join(at, "deno.json")).isFile) return at;
    } catch { /* none here */ }
    if (dirname(at) === at) return undefined;
  }
}

/** The state directory's layout. */
export function stateLayout(stateDir: string): StateLayout {
  return {
    code: join(stateDir, "code"),
    caches: (name: string) => join(stateDir, "caches", name),
    data: (name: string) => join(stateDir, "data", name),
    disk: (name: string) => join(stateDir, "disks", `${name}.ext4`),
    view: (name: string) => join(stateDir, "view", name),
    // A component's name has no '.': no view of another's.
    outsideView: (name: string, label: string) => join(stateDir, "view", `${name}.${label}`),
    lock: (name: string) => join(stateDir, "locks", `${name}.lock`),
    logs: join(stateDir, "logs"),
    run: join(stateDir, "run"),
    sockets: join(stateDir, "sockets"),
    socket: (name: string) => join(stateDir, "sockets", name, `${name}.sock`),
  };
}

function list(paths: readonly string[]): string {
  return paths.join(",");
}

/**
 * What a run is granted: the manifest's paths made absolute, plus its
 * sockets, the views of the directories outside its data directory it is
 * given, and reading the listening socket's own directory, which holds
 * nothing else: `listen` checks who may write there before it binds.
 */
export function runGrants(component: Component, paths: RunPaths): RunGrants {
  const { permissions } = component.manifest;
  const sockets = [paths.listenSocket, paths.connectSocket].filter((s) => s !== undefined);
  const outside = (paths.outside ?? []).map((dir) => dir.view);
  return {
    read: [
      ...permissions.read.map((p) => join(paths.dataView, p)),
      ...outside,
      ...(paths.listenSocket ? [dirname(paths.listenSocket)] : []),
      ...(paths.connectSocket ? [paths.connectSocket] : []),
    ],
    write: [...permissions.write.map((p) => join(paths.dataView, p)), ...outside, ...sockets],
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
    DENO_AUDIT_PERMISSIONS: paths.auditPipe,
    DENO_NO_UPDATE_CHECK: "1",
    DENO_NO_PACKAGE_JSON: "1",
    NO_COLOR: "1",
  };
  const values = options.env ?? launcherEnv(permissions.env);
  for (const name of permissions.env) {
    if (values[name] !== undefined) env[name] = values[name];
  }
  const { main, importMap } = runtimeImportMap(paths.bundle);
  const deno = denoCommand(main, {
    denoFlags: [
      "--no-config",
      "--no-remote",
      "--no-npm",
      "--cached-only",
      // Without it, asking a Worker for permissions ends the process uncatchably.
      "--unstable-worker-options",
      `--location=http://${manifest.name}.component.invalid/`,
      `--v8-flags=--max-old-space-size=${limits.heapMb}`,
      `--import-map=${importMap}`,
    ],
    permissions: grants,
    args: [
      `-datadir=${paths.dataView}`,
      "-lifeline",
      ...(paths.listenSocket ? [`-ipcbind=unix:${paths.listenSocket}`] : []),
      ...(paths.connectSocket ? [`-ipcconnect=unix:${paths.connectSocket}`] : []),
      ...(options.args ?? []),
    ],
    env,
  });
  const { identity } = options;
  const dropPrivileges = identity
    ? [
      `--reuid=${identity.uid}`,
      `--regid=${identity.gid}`,
      "--clear-groups",
      "--inh-caps=-all",
      "--ambient-caps=-all",
      "--bounding-set=-all",
    ]
    : [];
  const hardened = options.hardened
    ? [
      bwrapPath() ?? "bwrap",
      ...bwrapArgs({
        readOnly: [
          paths.bundle,
          `${paths.bundle}.map`, // read only to format a stack trace
          ...(paths.connectSocket ? [dirname(paths.connectSocket)] : []),
        ],
        writable: [
          paths.dataDir,
          ...(paths.outside ?? []).map((dir) => dir.real),
          paths.runDir,
          ...(paths.listenSocket ? [dirname(paths.listenSocket)] : []),
        ],
        symlinks: [
          { path: paths.dataView, target: paths.dataDir },
          ...(paths.outside ?? []).map((dir) => ({ path: dir.view, target: dir.real })),
        ],
        cwd: paths.dataDir,
      }, { network: permissions.net.length > 0, userNamespace: identity === undefined }),
    ]
    : [];
  return {
    executable: "prlimit",
    args: [
      fileSizeLimitArg(limits.diskMb),
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

/**
 * Copies the carried caches from `from` into `to` (each file replaced
 * atomically). One that cannot be is left out: it costs a run its warm
 * start, never the run.
 */
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
    try {
      Deno.copyFileSync(join(from, entry.name), copy);
      Deno.renameSync(copy, join(to, entry.name));
    } catch {
      // Left out (a full disk, or something else at its name); its copy, if made, goes.
      try {
        Deno.removeSync(copy);
      } catch { /* never made */ }
    }
  }
}

/**
 * The real path of the state directory `path`, made private when it does
 * not exist yet (under root, folders it makes may be passed through by the
 * components' users, not listed).
 */
function realStateDirectory(path: string): string {
  try {
    Deno.mkdirSync(path, { recursive: true, mode: Deno.uid() === 0 ? 0o711 : 0o700 });
    return Deno.realPathSync(path);
  } catch (error) {
    throw new SandboxError(`state directory ${path}: ${(error as Error).message}`);
  }
}

/**
 * The first directory above `path` (an absolute, real path) that other
 * users may not search (no `o+x`), or null when there is none. Under a root
 * supervisor a state directory below one cannot be used: its components
 * run as other users.
 */
export function unsearchableAncestor(path: string): string | null {
  for (let dir = dirname(path); dir !== "/"; dir = dirname(dir)) {
    if ((Deno.statSync(dir).mode! & 0o001) === 0) return dir;
  }
  return null;
}

/**
 * Under a root supervisor components run as other users, which must be able
 * to pass through the state directory to reach their own directories: its
 * ancestors must be searchable by others, and it is made so itself.
 */
function exposeStateDirectory(stateDir: string): void {
  const closed = unsearchableAncestor(stateDir);
  if (closed !== null) {
    throw new SandboxError(
      `components run as their own users and cannot pass ${closed} to reach ${stateDir}; ` +
        `make it searchable (chmod o+x) or choose another state directory`,
    );
  }
  Deno.chmodSync(stateDir, (Deno.statSync(stateDir).mode! & 0o7777) | 0o001);
}

/**
 * Takes `<state>/locks/<name>.lock` for one run of a component, or throws:
 * two runs of one component on one state directory would share its data
 * directory, its disk image and its socket, and the second would remove
 * the first's socket and unmount its data when it ended. The lock is an
 * exclusive `flock`, so it goes with the supervisor, however that ends.
 */
function lockRun(path: string, name: string): Deno.FsFile {
  directory(dirname(path), 0o700);
  const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  if (file.tryLockSync(true)) return file;
  file.close();
  throw new SandboxError(
    `${name} is already running from the state directory ${dirname(dirname(path))} ` +
      `(another run holds ${path}); stop it first, or choose another state directory`,
  );
}

/** Runs whose permission audits are kept per component, the current one included. */
export const KEPT_AUDITS = 20;

/**
 * Ends the processes of `name` and removes the run directories that
 * earlier runs left (its run lock held: none of them is supervised), and
 * its permission audits (with their
 * grants) but the latest {@linkcode KEPT_AUDITS} − 1, making room for this
 * run's: a component restarted without end leaves a bounded trail.
 */
function removeEarlierRuns(layout: StateLayout, name: string): void {
  killLeftovers(`-datadir=${layout.view(name)}`);
  const ours = (dir: string) =>
    [...Deno.readDirSync(dir)].map((entry) => entry.name)
      .filter((entry) => entry.startsWith(`${name}.`));
  for (const run of ours(layout.run)) Deno.removeSync(join(layout.run, run), { recursive: true });
  const runOf = (file: string) =>
    [AUDIT_SUFFIX, GRANTS_SUFFIX].filter((suffix) => file.endsWith(suffix))
      .map((suffix) => file.slice(0, -suffix.length))[0];
  const logs = ours(layout.logs).filter((file) => runOf(file) !== undefined);
  // Run ids start with the time in base 36, so their names sort by age.
  const runs = [...new Set(logs.map(runOf))].sort();
  const dropped = new Set(runs.slice(0, Math.max(0, runs.length - (KEPT_AUDITS - 1))));
  for (const file of logs) {
    if (dropped.has(runOf(file))) Deno.removeSync(join(layout.logs, file));
  }
}

/**
 * SIGKILLs every process whose command line has the argument `marker` (a
 * component's `-datadir=<view>`): one an earlier supervisor left when it
 * was killed as the component started, before the component could read its
 * lifeline (its start blocks opening the audit pipe once nobody reads it).
 * Processes it may not inspect are left alone.
 */
function killLeftovers(marker: string): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync("/proc")];
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const args = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      if (args.includes(marker)) Deno.kill(Number(entry.name), "SIGKILL");
    } catch {
      // gone meanwhile, or not ours to inspect
    }
  }
}

/** Why disk images cannot be used here, once that is known (`quota.ts`). */
let diskImagesUnusable: string | null = null;

/**
 * Under a root supervisor, mounts the component's disk image on its data
 * directory (after refusing links that lead outside, which moving files in
 * would copy) and returns it. An image that exists must be mounted (its
 * data are in it); where a first one cannot be made or mounted, images are
 * not used at all (said once on stderr) and nothing is returned.
 */
async function mountedImage(
  dataDir: string,
  image: string,
  diskMb: number,
  owner: Identity,
): Promise<string | undefined> {
  let exists = true;
  try {
    Deno.lstatSync(image);
  } catch {
    exists = false;
  }
  if (!exists && diskImagesUnusable !== null) return undefined;
  refuseLinksOutside(dataDir);
  try {
    await mountDataImage(dataDir, image, diskMb, owner);
    return image;
  } catch (error) {
    if (exists) {
      throw new Error(`its disk image ${image} holds its data but: ${(error as Error).message}`);
    }
    diskImagesUnusable = (error as Error).message;
    console.error(`sandbox: disk quotas are only watched, not capped: ${diskImagesUnusable}`);
    return undefined;
  }
}

/** Makes `dir` (and its parents) and sets its mode, whatever it was made with before. */
function directory(dir: string, mode: number): void {
  Deno.mkdirSync(dir, { recursive: true, mode });
  Deno.chmodSync(dir, mode);
}

/**
 * Waits until the socket `path` is bound and made private (the runtime's
 * `listen` makes it 0600 right after binding; locking it before would make
 * that fail): "listening" then, "exited" when the component exits first,
 * "late" after `timeoutMs` (0: no deadline), and `signal`'s reason thrown
 * when it aborts.
 */
async function appeared(
  path: string,
  exited: Promise<unknown>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<"listening" | "exited" | "late"> {
  const deadline = timeoutMs === 0 ? Infinity : Date.now() + timeoutMs;
  let gone = false;
  exited.then(() => gone = true);
  for (;;) {
    signal?.throwIfAborted();
    try {
      const info = Deno.lstatSync(path);
      if (info.isSocket && (info.mode! & 0o777) === 0o600) return "listening";
    } catch { /* not yet */ }
    if (gone) return "exited";
    if (Date.now() >= deadline) return "late";
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** How to spawn a component. */
export interface SpawnComponentOptions extends CommandOptions, SpawnOptions {
  /**
   * The supervisor's state directory (bundles, data, logs, sockets): made,
   * private, when it does not exist; a relative path is taken from the
   * current directory.
   */
  stateDir: string;
  /**
   * Another component's socket to connect to, and this component's token
   * for it (none for a listener that asks for none: one started without
   * `-lifeline`, outside this supervisor).
   */
  connect?: { socket: string; tokenHex?: string } | undefined;
  /** Bytes of permission audit kept for this run (`audit.ts`; 1 MiB by default). */
  auditCapBytes?: number | undefined;
}

/** A component running under the contract. */
export interface SandboxedComponent<T> extends SpawnedComponent<T> {
  /** The component's name (its manifest's). */
  readonly name: string;
  /** The command it was started with. */
  readonly command: ChildCommand;
  /** Where this run keeps its data, sockets, logs and caches. */
  readonly paths: RunPaths;
  /** The user and group it runs as under a root supervisor; null otherwise. */
  readonly identity: Identity | null;
  /** Why it ended, once it has. */
  readonly reason: Promise<ExitReason>;
}

/** A run's directories, made and given to the component's user. */
interface PreparedRun {
  paths: RunPaths;
  /** Where its carried caches are kept between runs. */
  caches: string;
  /** Undoes what lasts one run: removes the run directory, unmounts the disk image. */
  release(): Promise<void>;
}

/**
 * Prepares one run of `component`: the data directory (links refused, disk
 * image mounted under root, owned by its user, seen through its view), the
 * run directory (`DENO_DIR` with the carried caches, the audit pipe) and
 * its sockets. On failure nothing is left mounted.
 */
async function prepareRun(
  component: Component,
  layout: ReturnType<typeof stateLayout>,
  identity: Identity | undefined,
  connect: SpawnComponentOptions["connect"],
): Promise<PreparedRun> {
  const { manifest } = component;
  // Under root other users (the components) pass through these, each to its own part.
  const passable = identity ? 0o711 : 0o700;
  for (const dir of [layout.data(""), layout.view(""), layout.run, layout.sockets]) {
    directory(dir, passable);
  }
  directory(layout.logs, 0o700);
  const runLock = lockRun(layout.lock(manifest.name), manifest.name);
  try {
    // With the lock, no other run of it is alive: what earlier runs left (a supervisor killed
    // before it could clean up) goes, and their permission audits but the latest few.
    removeEarlierRuns(layout, manifest.name);
  } catch (error) {
    runLock.close();
    throw new SandboxError(`${manifest.name}: ${(error as Error).message}`, { cause: error });
  }
  const runId = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
  const runDir = join(layout.run, `${manifest.name}.${runId}`);
  const paths: RunPaths = {
    bundle: "", // the caller's, once checked
    dataDir: layout.data(manifest.name),
    dataView: layout.view(manifest.name),
    outside: Object.entries(component.outsideDirs ?? {}).map(([label, real]) => ({
      real,
      view: layout.outsideView(manifest.name, label),
    })),
    runDir,
    denoDir: join(runDir, "deno"),
    auditPipe: join(runDir, "audit.pipe"),
    auditLog: join(layout.logs, `${manifest.name}.${runId}${AUDIT_SUFFIX}`),
  };
  /** The socket and the link this run made, which end with it. */
  const sockets: string[] = [];
  const release = async () => {
    try {
      try {
        Deno.removeSync(runDir, { recursive: true });
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      for (const socket of sockets) removeSocket(socket);
      if (paths.diskImage) await unmountDataImage(paths.dataDir);
    } finally {
      runLock.close(); // last: the next run may now prepare its directories
    }
  };
  const caches = layout.caches(manifest.name);
  try {
    Deno.mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
    Deno.mkdirSync(paths.denoDir, { recursive: true, mode: 0o700 });
    if (identity) {
      paths.diskImage = await mountedImage(
        paths.dataDir,
        layout.disk(manifest.name),
        manifest.limits.diskMb,
        identity,
      );
    }
    prepareDataDirectory({
      real: paths.dataDir,
      view: paths.dataView,
      granted: [...manifest.permissions.read, ...manifest.permissions.write],
    }, identity);
    for (const dir of paths.outside ?? []) {
      // Its user must pass the directories above it (the state directory's are checked too).
      const closed = identity ? unsearchableAncestor(dir.real) : null;
      if (closed !== null) {
        throw new Error(
          `${dir.real}: it runs as its own user, which cannot pass ${closed}; ` +
            "make that searchable (chmod o+x) or choose another directory",
        );
      }
      prepareOutsideDirectory(dir, identity);
    }
    Deno.mkdirSync(caches, { recursive: true, mode: 0o700 });
    carryCaches(caches, paths.denoDir);
    makeAuditPipe(paths.auditPipe);
    if (identity) chownTree(runDir, identity);
    if (manifest.listens) {
      paths.listenSocket = layout.socket(manifest.name);
      sockets.push(paths.listenSocket);
      prepareListenDirectory(paths.listenSocket, identity);
    }
    if (connect) {
      // A supervised listener's socket (a token is presented) or one in this state directory
      // (a relay's) is reached through a link of the connector's own; another listener's
      // (no token) at its own path: its directory is not ours to make links in.
      const ours = connect.tokenHex !== undefined ||
        dirname(dirname(connect.socket)) === layout.sockets;
      paths.connectSocket = ours
        ? connectorSocket(connect.socket, manifest.name, identity)
        : connect.socket;
      if (paths.connectSocket !== connect.socket) sockets.push(paths.connectSocket);
    }
  } catch (error) {
    await release();
    throw new SandboxError(`${manifest.name}: ${(error as Error).message}`, { cause: error });
  }
  return { paths, caches, release };
}

/**
 * Starts `component` under the contract and connects to its Init object:
 * checks its code while it prepares its directories for its own user
 * ({@linkcode prepareRun}; undone if the code is refused), runs
 * {@linkcode sandboxCommand}, captures its
 * permission audit, watches its resident memory and disk use, and undoes
 * what lasts one run after it ends. It resolves once the component is
 * ready: a listener when its socket appears, anything else when it serves
 * us, within `startTimeoutMs` either way (0: a listener is waited for
 * without a deadline, since its socket must be locked once bound; anything
 * else at once, as {@linkcode spawn}). One that ends first or is late is
 * refused with how it ended and what it printed last; `signal` ends the
 * wait at once, killing it.
 *
 * @example Two runs under the contract: the notes outlive the first, its flags are its manifest's
 * ```ts
 * import { spawnComponent } from "./contract.ts";
 * import { loadComponent } from "./manifest.ts";
 * import { NotesInit } from "../examples/notes/gen/notes.mp.ts";
 * const notes = await loadComponent(new URL("../examples/notes/", import.meta.url).pathname);
 * const stateDir = await Deno.makeTempDir();
 * for (const before of [undefined, "milk"]) {
 *   await using run = await spawnComponent(NotesInit, notes, { stateDir });
 *   await using store = (await run.init.makeNotes())!;
 *   if (await store.read("todo") !== before) throw new Error("its data directory is kept");
 *   await store.write("todo", "milk");
 *   // Granted read and write of notes/ in the view of its data directory, and no network.
 *   const flags = run.command.args;
 *   if (!flags.some((flag) => flag.startsWith("--allow-write=") && flag.includes("/notes"))) {
 *     throw new Error(flags.join(" "));
 *   }
 *   if (flags.some((flag) => /^--allow-(net|run|ffi|all)/.test(flag))) throw new Error("granted");
 * } // each run ends here: its process, then its run directory
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export async function spawnComponent<T>(
  iface: InterfaceDescriptor<T>,
  component: Component,
  options: SpawnComponentOptions,
): Promise<SandboxedComponent<T>> {
  const { manifest, folder } = component;
  const startTimeoutMs = delayOption(
    "spawnComponent: startTimeoutMs",
    options.startTimeoutMs,
    DEFAULT_START_TIMEOUT_MS,
  );
  if (!manifest.serves.includes(iface.name)) {
    throw new SandboxError(
      `${manifest.name}: its manifest serves ${manifest.serves.join(", ")}, not ${iface.name}`,
    );
  }
  if (typeof options.stateDir !== "string" || options.stateDir === "") {
    throw new SandboxError("no state directory: give stateDir, a folder's path");
  }
  if (options.stateDir.includes(",")) {
    throw new SandboxError(`state directory ${options.stateDir} may not contain ','`);
  }
  // A label names its view beside the data directory's: nothing that could lead elsewhere.
  const label = Object.keys(component.outsideDirs ?? {}).find((label) => !/^[a-z]+$/.test(label));
  if (label !== undefined) {
    throw new SandboxError(
      `${manifest.name}: outside directory "${label}": lower-case letters only`,
    );
  }
  if (options.hardened && bwrapPath() === null) {
    throw new SandboxError("hardened mode needs bubblewrap (bwrap), which is not installed");
  }
  const stateDir = realStateDirectory(options.stateDir);
  // An outside directory apart from the state: else it would grant the component the others' data.
  for (const given of Object.values(component.outsideDirs ?? {})) {
    const real = realPathOr(given);
    const within = (inner: string, outer: string) =>
      inner === outer || inner.startsWith(`${outer}/`);
    if (within(real, stateDir) || within(stateDir, real)) {
      throw new SandboxError(
        `${manifest.name}: ${real} overlaps the state directory ${stateDir}; choose one apart from it`,
      );
    }
  }
  const root = Deno.uid() === 0;
  if (root) exposeStateDirectory(stateDir);
  const layout = stateLayout(stateDir);
  const identity = root ? componentIdentity(stateDir, manifest.name) : undefined;
  // The code check waits on `deno info`; the directories (mounting a disk image) meanwhile.
  const [code, prepared] = await Promise.allSettled([
    prepareCode(
      join(folder, manifest.entry),
      componentCodePolicy(folder, layout.code, component.codeFolders),
    ),
    prepareRun(component, layout, identity, options.connect),
  ]);
  if (code.status === "rejected" || prepared.status === "rejected") {
    if (prepared.status === "fulfilled") await prepared.value.release();
    throw code.status === "rejected" ? code.reason : (prepared as PromiseRejectedResult).reason;
  }
  const run = prepared.value;
  const { paths } = run;
  paths.bundle = code.value.bundle;
  const command = sandboxCommand(component, paths, { ...options, identity });
  Deno.writeTextFileSync(
    paths.auditLog.slice(0, -AUDIT_SUFFIX.length) + GRANTS_SUFFIX,
    JSON.stringify(runGrants(component, paths)),
  );
  const audit = await captureAudit(paths.auditPipe, paths.auditLog, options.auditCapBytes);
  let child: SpawnedComponent<T>;
  try {
    child = await spawn(iface, command, {
      label: manifest.name,
      ...options,
      // A listener is ready once its socket appears (below); anything else once it serves us.
      startTimeoutMs: paths.listenSocket ? 0 : startTimeoutMs,
      // The token for its listener comes first: it may connect before it serves.
      control: options.connect?.tokenHex ? [`token ${options.connect.tokenHex}`] : [],
      // A permission Deno refused during a call: which grant of the manifest it needs.
      explainRemote: (message) => grantHint(message, component.folder),
    });
  } catch (error) {
    try {
      await audit.finish();
    } finally {
      await run.release();
    }
    // Deno's own words tell a plain `deno run` user to pass a flag; here the manifest grants.
    if (!(error instanceof SpawnError)) throw error;
    const hint = grantHint(error.message, component.folder);
    throw hint === "" ? error : new SpawnError(error.message + hint, { cause: error });
  }
  let residentKill: string | undefined;
  const usage = watchUsage(child.pid, manifest.limits.residentMb, (description) => {
    residentKill = description;
    child.kill("SIGKILL");
  });
  let diskKill: string | undefined;
  const disk = watchDisk([paths.dataDir, paths.denoDir], manifest.limits.diskMb, (description) => {
    diskKill = description;
    child.kill("SIGKILL");
  });
  const reason = child.exited.then(async (status): Promise<ExitReason> => {
    const limitBytes = manifest.limits.diskMb * 1024 * 1024;
    const evidence = {
      residentKill,
      cpu: { usedAtMost: usage.cpuUsedAtMost(), limit: manifest.limits.cpuSeconds },
      signalsSent: child.signalsSent,
      statusOnly: options.hardened,
      // Under bubblewrap SIGXFSZ reads as status 153: a file at the limit shows it.
      fileSizeLimitReached: options.hardened && status.code === 128 + 25 &&
        (await diskUsage([paths.dataDir, paths.denoDir], entryLimit(manifest.limits.diskMb)))
            .largestFile >= limitBytes,
    };
    try {
      usage[Symbol.dispose]();
      await disk[Symbol.asyncDispose]();
      await audit.finish();
      carryCaches(paths.denoDir, run.caches);
    } finally {
      // Whatever failed above, the next run may start.
      await run.release();
    }
    if (diskKill) return { kind: "disk-quota", text: `disk quota exceeded (${diskKill})` };
    return exitReason(status, evidence);
  });
  if (paths.listenSocket) {
    let outcome: Awaited<ReturnType<typeof appeared>>;
    try {
      outcome = await appeared(paths.listenSocket, child.exited, startTimeoutMs, options.signal);
    } catch (aborted) {
      await child[Symbol.asyncDispose]();
      await reason;
      throw aborted;
    }
    if (outcome !== "listening") {
      if (outcome === "late") child.kill("SIGKILL");
      await child[Symbol.asyncDispose]();
      const ended = await reason;
      const how = outcome === "late"
        ? `did not listen within ${startTimeoutMs} ms (startTimeoutMs); killed`
        : `${ended.text} before it listened`;
      throw new SpawnError(
        `${manifest.name} ${how}${printedLast(child.lastLines)}` +
          grantHint(child.lastLines.join("\n"), component.folder),
      );
    }
    // Bound: from now on nobody without privileges may replace or chmod it.
    lockListenSocket(paths.listenSocket, root);
  }
  return {
    ...child,
    name: manifest.name,
    command,
    paths,
    identity: identity ?? null,
    reason,
    async [Symbol.asyncDispose]() {
      await child[Symbol.asyncDispose]();
      await reason;
    },
  };
}

/** `path`'s real path, or `path` itself when it cannot be resolved (refused later, saying why). */
function realPathOr(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}
