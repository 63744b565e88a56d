/**
 * The launcher's view of its components, served to a user interface as the
 * `Supervision` capability (`schemas/ipc/supervision.capnp`): the process
 * tree (the launcher, then each component it supervises or attached to),
 * each with its pid, state, uptime, restarts, resident memory and CPU time
 * (read from `/proc`), the exact permission flags of its command line, its
 * limits and what the permission audit found outside its grants; restart
 * and stop; and the IPC calls read from the components' `-debug=ipc` lines
 * ({@linkcode IpcCallLog}), pushed to watchers in batches.
 *
 * @example
 * ```ts
 * import { IpcCallLog } from "./ipc_calls.ts";
 * import { SupervisionService } from "./supervision.ts";
 * const logDir = Deno.makeTempDirSync();
 * {
 *   await using service = new SupervisionService({ logDir, calls: new IpcCallLog({}) });
 *   const [launcher] = await service.listComponents();
 *   if (launcher.name !== "launcher" || launcher.pid !== Deno.pid) throw new Error(launcher.name);
 * }
 * Deno.removeSync(logDir, { recursive: true });
 * ```
 * @module
 */
import type {
  ComponentInfo,
  IpcCall,
  Supervision,
  SupervisionEvents,
} from "../schemas/gen/ipc/supervision.mp.ts";
import type { Handler } from "../schemas/gen/ipc/handler.mp.ts";
import {
  type Manifest,
  stateLayout,
  summarizeAudit,
  type Supervised,
  Supervisor,
  type SupervisorOptions,
  treeUsage,
} from "../host.ts";
import { dup, IpcLog, release } from "../component.ts";
import { IpcCallLog } from "./ipc_calls.ts";

/** Milliseconds between deliveries of IPC calls to watchers. */
export const IPC_BATCH_MS = 250;

/** Calls a watcher may have waiting while an earlier delivery is in flight; older ones go. */
const MAX_UNDELIVERED = 2000;

/** The shortest interval a watcher may ask for. */
const MIN_INTERVAL_MS = 250;

/** How long an audit summary is reused before the logs are read again. */
const AUDIT_TTL_MS = 5000;

/** A component the launcher knows. */
interface Entry {
  readonly name: string;
  /** Null for a component this launcher only attached to. */
  readonly manifest: Manifest | null;
  /** Null for a component this launcher only attached to. */
  readonly supervised: Supervised<unknown> | null;
  /** When its current instance started (by pid). */
  started: { pid: number; at: number };
}

/** What {@linkcode SupervisionService} reads. */
export interface SupervisionOptions {
  /** The state directory's logs (the permission audit). */
  readonly logDir: string;
  /** Where the components' IPC lines are read into. */
  readonly calls: IpcCallLog;
}

interface Watcher {
  readonly callback: SupervisionEvents;
  readonly timer: ReturnType<typeof setInterval>;
  sendingComponents: boolean;
  sendingCalls: boolean;
  undelivered: IpcCall[];
}

/** The launcher's `Supervision` object; dispose it when the launcher stops. */
export class SupervisionService implements Supervision, AsyncDisposable {
  readonly #options: SupervisionOptions;
  readonly #entries: Entry[] = [];
  readonly #watchers = new Set<Watcher>();
  readonly #batch: ReturnType<typeof setInterval>;
  readonly #startedAt = Date.now();
  #audit: { at: number; found: Map<string, string[]> } | null = null;

  /** A service over no component yet ({@linkcode SupervisionService.add} adds them). */
  constructor(options: SupervisionOptions) {
    this.#options = options;
    this.#batch = setInterval(() => this.#deliverCalls(), IPC_BATCH_MS);
  }

  /** Adds a component this launcher supervises. */
  add(manifest: Manifest, supervised: Supervised<unknown>): void {
    this.#entries.push({ name: manifest.name, manifest, supervised, started: { pid: 0, at: 0 } });
    this.changed();
  }

  /** Adds a component started elsewhere, which this launcher only connected to. */
  addAttached(name: string): void {
    this.#entries.push({ name, manifest: null, supervised: null, started: { pid: 0, at: 0 } });
    this.changed();
  }

  /** Tells the watchers at once (a component started, exited or restarted). */
  changed(): void {
    for (const watcher of this.#watchers) this.#sendComponents(watcher);
  }

  async listComponents(): Promise<ComponentInfo[]> {
    const audit = await this.#auditFindings();
    const launcher: ComponentInfo = {
      name: "launcher",
      parent: "",
      pid: Deno.pid,
      state: "running",
      startedAt: this.#startedAt,
      restarts: 0,
      // Itself only: its children are the components, listed below.
      ...usage(Deno.pid, false),
      permissions: ["--allow-all (the supervisor: it starts prlimit, setpriv, bwrap)"],
      limits: [],
      audit: [],
      lastExit: "",
    };
    return [launcher, ...this.#entries.map((entry) => this.#describe(entry, audit))];
  }

  #describe(entry: Entry, audit: Map<string, string[]>): ComponentInfo {
    const { supervised, manifest } = entry;
    if (supervised === null || manifest === null) {
      return {
        name: entry.name,
        parent: "",
        pid: 0,
        state: "attached",
        startedAt: 0,
        restarts: 0,
        residentBytes: 0n,
        cpuSeconds: 0,
        permissions: ["(started outside this launcher: its flags are its own)"],
        limits: [],
        audit: [],
        lastExit: "",
      };
    }
    const instance = supervised.instance;
    const pid = instance?.pid ?? 0;
    const limits = Object.entries(manifest.limits).map(([key, value]) => `${key}=${value}`);
    if (pid !== 0 && entry.started.pid !== pid) entry.started = { pid, at: Date.now() };
    const exits = supervised.exits;
    const state = instance !== null
      ? "running"
      : supervised.stopped
      ? "stopped"
      : exits.at(-1)?.restarted
      ? "restarting"
      : "failed";
    return {
      name: entry.name,
      parent: "launcher",
      pid,
      state,
      startedAt: pid === 0 ? 0 : entry.started.at,
      restarts: exits.filter((exit) => exit.restarted).length,
      ...(pid === 0 ? { residentBytes: 0n, cpuSeconds: 0 } : usage(pid)),
      permissions: (instance?.command.args ?? []).filter((arg) => /^--(allow|deny)-/.test(arg)),
      limits,
      audit: audit.get(entry.name) ?? [],
      lastExit: exits.at(-1)?.reason.text ?? "",
    };
  }

  /** Per component, what its audit logs show outside its grants (re-read at most every 5 s). */
  async #auditFindings(): Promise<Map<string, string[]>> {
    if (this.#audit !== null && Date.now() - this.#audit.at < AUDIT_TTL_MS) {
      return this.#audit.found;
    }
    const found = new Map<string, string[]>();
    try {
      for (const summary of await summarizeAudit(this.#options.logDir)) {
        found.set(summary.component, [
          ...summary.outside.map((o) => `${o.count}× ${o.permission} ${o.value ?? ""}`.trim()),
          ...(summary.dropped > 0 ? [`${summary.dropped} checks not logged (over the cap)`] : []),
        ]);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    this.#audit = { at: Date.now(), found };
    return found;
  }

  #supervised(name: string): Supervised<unknown> {
    const entry = this.#entries.find((e) => e.name === name);
    if (entry === undefined) {
      throw new Error(
        `no component named "${name}" (known: ${this.#entries.map((e) => e.name).join(", ")})`,
      );
    }
    if (entry.supervised === null) {
      throw new Error(`${name} was started outside this launcher, which cannot control it`);
    }
    return entry.supervised;
  }

  restartComponent(name: string): void {
    const supervised = this.#supervised(name);
    const instance = supervised.instance;
    if (instance === null) {
      throw new Error(`${name} is not running (${supervised.stopped ? "stopped" : "restarting"})`);
    }
    // Its supervisor notices the exit and starts it again, as its restart policy says.
    instance.kill("SIGKILL");
    this.changed();
  }

  async stopComponent(name: string): Promise<void> {
    const supervised = this.#supervised(name);
    if (supervised.stopped) throw new Error(`${name} is stopped already`);
    await supervised.stop();
    this.changed();
  }

  watch(callback: SupervisionEvents | null, intervalMs: number): Handler {
    if (callback === null) throw new Error("watch: callback is null");
    const interval = Math.max(MIN_INTERVAL_MS, intervalMs);
    const watcher: Watcher = {
      callback: dup(callback),
      timer: setInterval(() => this.#sendComponents(watcher), interval),
      sendingComponents: false,
      sendingCalls: false,
      undelivered: [],
    };
    this.#watchers.add(watcher);
    this.#sendComponents(watcher);
    const disconnect = () => this.#drop(watcher);
    return { disconnect, [Symbol.dispose]: disconnect } as Handler & Disposable;
  }

  #drop(watcher: Watcher): void {
    if (!this.#watchers.delete(watcher)) return;
    clearInterval(watcher.timer);
    release(watcher.callback);
  }

  /** Sends the components unless the last sending is still in flight (a slow watcher skips). */
  #sendComponents(watcher: Watcher): void {
    if (watcher.sendingComponents) return;
    watcher.sendingComponents = true;
    this.listComponents()
      .then((list) => this.#watchers.has(watcher) ? watcher.callback.components(list) : undefined)
      .catch(() => this.#drop(watcher))
      .finally(() => watcher.sendingComponents = false);
  }

  #deliverCalls(): void {
    const calls = this.#options.calls.take();
    for (const watcher of this.#watchers) {
      watcher.undelivered.push(...calls);
      watcher.undelivered.splice(0, watcher.undelivered.length - MAX_UNDELIVERED);
      if (watcher.sendingCalls || watcher.undelivered.length === 0) continue;
      const batch = watcher.undelivered;
      watcher.undelivered = [];
      watcher.sendingCalls = true;
      Promise.resolve(watcher.callback.ipcCalls(batch))
        .catch(() => this.#drop(watcher))
        .finally(() => watcher.sendingCalls = false);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    clearInterval(this.#batch);
    for (const watcher of [...this.#watchers]) this.#drop(watcher);
    await Promise.resolve();
  }
}

function usage(pid: number, tree = true): { residentBytes: bigint; cpuSeconds: number } {
  const { residentBytes, cpuSeconds } = treeUsage(pid, { tree });
  return { residentBytes: BigInt(residentBytes), cpuSeconds };
}

/** A `-debug=ipc` line (or trace dump) of the runtime's IPC log. */
const IPC_LINE = /IPC (client|server)|^(send|recv|request|response) data: /;

/** Who serves each interface, for the IPC page's callee column. */
export const SERVED_BY: Readonly<Record<string, string>> = {
  Init: "node",
  Echo: "node",
  Mining: "node",
  BlockTemplate: "node",
  Rpc: "node",
  Chain: "node",
  Node: "node",
  GuiInit: "gui",
  NotifyBlockTipCallback: "gui",
  SupervisionEvents: "gui",
  Supervision: "launcher",
};

/** How {@linkcode supervisedApplication} runs its components. */
export interface ApplicationOptions {
  /** The state directory. */
  readonly stateDir: string;
  /** Bubblewrap namespaces as well. */
  readonly hardened?: boolean;
  /** Print the components' `-debug=ipc` lines too (they feed the IPC page either way). */
  readonly printIpcLines?: boolean;
  /** Lifecycle lines; `[supervisor] …` on stdout by default. */
  readonly report?: (line: string) => void;
  /** The components' other lines; `[<name>] …` on stderr by default. */
  readonly output?: (line: string, component: string) => void;
}

/** A supervisor and the {@linkcode SupervisionService} over what it starts. */
export interface Application extends AsyncDisposable {
  readonly supervisor: Supervisor;
  readonly service: SupervisionService;
}

/**
 * A supervisor whose components' `-debug=ipc` lines (and the launcher's
 * own calls) feed a {@linkcode SupervisionService}, which hears of every
 * lifecycle event. Disposing it stops every component.
 */
export function supervisedApplication(options: ApplicationOptions): Application {
  const report = options.report ?? ((line) => console.log(`[supervisor] ${line}`));
  const output = options.output ?? ((line, component) => console.error(`[${component}] ${line}`));
  const calls = new IpcCallLog(SERVED_BY, ["SupervisionEvents"]);
  const service = new SupervisionService({ logDir: stateLayout(options.stateDir).logs, calls });
  const supervisorOptions: SupervisorOptions = {
    stateDir: options.stateDir,
    hardened: options.hardened,
    log: new IpcLog({ level: "debug", sink: (line) => calls.line("launcher", line) }),
    report: (line) => {
      report(line);
      service.changed();
    },
    output: (line, _stream, component) => {
      calls.line(component, line);
      if (options.printIpcLines || !IPC_LINE.test(line)) output(line, component);
    },
  };
  const supervisor = new Supervisor(supervisorOptions);
  return {
    supervisor,
    service,
    async [Symbol.asyncDispose]() {
      await supervisor[Symbol.asyncDispose]();
      await service[Symbol.asyncDispose]();
    },
  };
}
