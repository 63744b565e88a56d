/**
 * Supervision: keeps components running under their manifests' restart
 * policies. An exit the policy covers is followed by a restart after a
 * backoff that doubles each time; more restarts than the crash budget
 * allows within its window, and the component fails closed: it stays
 * down, callers get a {@linkcode SupervisionError} saying why, and
 * `failed` settles so the application can stop.
 *
 * Every component is health-checked: every `intervalMs` the supervisor
 * completes one request, for a listener by connecting to its socket with a
 * fresh token (`IpcProtocol.ping`), else over the channel the component
 * serves it on (`IpcProtocol.probe`). After `failures` checks in a row
 * fail, the component is reported and killed (`unresponsive`), and its
 * policy decides about the restart: a hung component, or one whose
 * listener stopped serving, does not go unnoticed.
 *
 * What components print reaches the supervisor only through pipes, as
 * sanitized lines prefixed with the component's name (`[node] …`); see
 * `runtime/process/output.ts`.
 *
 * @example
 * ```ts
 * import { Supervisor } from "./supervisor.ts";
 * import { projectRoot } from "./contract.ts";
 * import { loadComponent } from "./manifest.ts";
 * import { FooInit } from "../examples/schemas/gen/conformance.mp.ts";
 * const stateDir = await Deno.makeTempDir();
 * {
 *   await using supervisor = new Supervisor({ stateDir });
 *   const foo = await supervisor.start(FooInit, await loadComponent(`${projectRoot()}/examples/foo`));
 *   await using remote = (await (await foo.current()).makeFoo())!;
 *   if (await remote.add(2, 3) !== 5) throw new Error("called the supervised component");
 * }
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 * @module
 */
import type { InterfaceDescriptor } from "../runtime/schema/descriptor.ts";
import { type Remote, sessionOf } from "../runtime/proxy/client.ts";
import { type SandboxedComponent, spawnComponent, type SpawnComponentOptions } from "./contract.ts";
import type { ExitReason } from "./limits.ts";
import { type Component, grantHint } from "./manifest.ts";
import { every } from "./ticker.ts";
import { newToken } from "../runtime/process/lifeline.ts";
import { type OutputStream, printedLast } from "../runtime/process/output.ts";
import { capnpProtocol } from "../runtime/process/protocol.ts";
import { Timer } from "../runtime/timer.ts";

/** A component that stays down: its crash budget is spent, or its policy says so. */
export class SupervisionError extends Error {
  /** Always `"SupervisionError"`. */
  override name = "SupervisionError";
}

/** One exit of a supervised component. */
export interface ExitRecord {
  /** Why it ended. */
  reason: ExitReason;
  /** `Date.now()` when the exit was handled (its run cleaned up). */
  at: number;
  /** `Date.now()` when its process ended, a moment before. */
  endedAt: number;
  /** Whether it was started again. */
  restarted: boolean;
  /**
   * Set when it was restarted because a component it depends on was (a
   * `rest_for_one` entry of a topology); such a restart spends no crash
   * budget.
   */
  cause?: string | undefined;
}

/** A component under supervision. */
export interface Supervised<T> {
  /** The component's name. */
  readonly name: string;
  /**
   * A reference of your own to the running instance's Init (release it when
   * done, `using`: that never ends the run; the run's end ends it); waits
   * while it restarts (from the moment its process ends or its connection
   * is lost, which a crash's caller may see first); rejects once it has
   * failed or been stopped.
   */
  current(): Promise<Remote<T>>;
  /** The running instance, or null between runs and after failing. */
  readonly instance: SandboxedComponent<T> | null;
  /**
   * Whether its process runs now: false as soon as it ends, before the exit
   * is handled (when `instance` is still the ended one).
   */
  readonly running: boolean;
  /** Every exit so far, oldest first. */
  readonly exits: readonly ExitRecord[];
  /** Settles with the error once the component has failed closed. */
  readonly failed: Promise<SupervisionError>;
  /** Whether it was stopped ({@linkcode Supervised.stop} or the supervisor's end). */
  readonly stopped: boolean;
  /** Stops it for good: no restart; `current` rejects from now on. */
  stop(): Promise<void>;
  /**
   * Calls `listener` after each exit, once the restart is decided. A
   * listener that throws is reported and skipped. Returns a function that
   * removes it.
   */
  onExit(listener: (record: ExitRecord) => void): () => void;
  /**
   * Calls `listener` with each new instance's Init once it runs (at once
   * for the running one): what a launcher hands every run of a component
   * goes here. A listener that throws is reported and skipped. Returns a
   * function that removes it.
   */
  onStart(listener: (init: Remote<T>) => void): () => void;
}

/**
 * A socket outside this supervisor to connect a component to: a listener
 * started by someone else (`deno task node -ipcbind=unix`), which asks for
 * no token.
 */
export interface ExternalListener {
  /** The socket's absolute path. */
  readonly socket: string;
}

/** How components are health-checked (through a listener, else over their channel). */
export interface HealthCheckOptions {
  /** Milliseconds between checks; 5000 by default. */
  intervalMs: number;
  /** Milliseconds a check may take (for a listener: connect, token, one answer); 5000 by default. */
  timeoutMs: number;
  /** Failed checks in a row after which the component is killed; 2 by default. */
  failures: number;
}

/** Every 5 s, 5 s to answer, killed after 2 failures in a row. */
export const DEFAULT_HEALTH_CHECK: Readonly<HealthCheckOptions> = Object.freeze({
  intervalMs: 5000,
  timeoutMs: 5000,
  failures: 2,
});

/**
 * How long a dependant's clean exit waits for its dependency's (`restartWith`)
 * before it counts as its own: a process told that its dependency shuts
 * down ends a moment before the dependency does.
 */
const DEPENDENCY_GRACE_MS = 5000;

/** Options of a {@linkcode Supervisor}. */
export type SupervisorOptions =
  & Pick<
    SpawnComponentOptions,
    "stateDir" | "hardened" | "env" | "log" | "outputLimits" | "startTimeoutMs"
  >
  & {
    /** Receives one line per lifecycle event (start, exit, restart, failure). */
    report?: ((line: string) => void) | undefined;
    /**
     * Receives each line a component prints, sanitized and capped; by
     * default they go to our stderr as `[<component>] <line>`.
     */
    output?: ((line: string, stream: OutputStream, component: string) => void) | undefined;
    /** Health checks of the components; `false` turns them off. */
    healthCheck?: Partial<HealthCheckOptions> | false | undefined;
  };

/**
 * Resolves when `instance`'s listener answers one request; rejects when it
 * does not within `timeoutMs`, or when `signal` aborts.
 */
async function checkListener(
  instance: SandboxedComponent<unknown>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const token = newToken();
  instance.sendControl(`accept ${token.hex}`);
  const giveUp = new AbortController();
  const timer = new Timer(
    timeoutMs,
    () => giveUp.abort(new Error(`no answer within ${timeoutMs} ms`)),
  );
  const stop = () => giveUp.abort(new Error("stopped"));
  signal.addEventListener("abort", stop, { once: true });
  let conn: Deno.UnixConn | undefined;
  // Closing the connection ends a ping that waits for its answer.
  const hangUp = () => {
    try {
      conn?.close();
    } catch { /* the ping closed it already */ }
  };
  giveUp.signal.addEventListener("abort", hangUp, { once: true });
  try {
    conn = await Deno.connect({ transport: "unix", path: instance.paths.listenSocket! });
    giveUp.signal.throwIfAborted();
    await conn.write(token.bytes);
    await capnpProtocol.ping(conn);
  } catch (error) {
    throw giveUp.signal.aborted ? giveUp.signal.reason : error;
  } finally {
    timer.clear();
    signal.removeEventListener("abort", stop);
    giveUp.signal.removeEventListener("abort", hangUp);
  }
}

/**
 * Resolves when `instance` answers one request over the channel it serves
 * its parent on; rejects when it does not within `timeoutMs`, or when
 * `signal` aborts. A request left unanswered stays pending until the
 * connection ends (a hung component is killed after a few).
 */
async function checkChannel(
  instance: SandboxedComponent<unknown>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const { promise: givenUp, reject } = Promise.withResolvers<never>();
  const timer = new Timer(timeoutMs, () => reject(new Error(`no answer within ${timeoutMs} ms`)));
  const stop = () => reject(new Error("stopped"));
  signal.addEventListener("abort", stop, { once: true });
  try {
    await Promise.race([capnpProtocol.probe(instance.init), givenUp]);
  } finally {
    timer.clear();
    signal.removeEventListener("abort", stop);
  }
}

/** What a listener threw, as a line: an `Error`'s message, or anything else as text. */
function messageOf(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

/**
 * Checks `instance` every `health.intervalMs`, one check at a time, through
 * its listener when it has one, else over the channel it serves its parent
 * on, until the returned function stops it; after `health.failures` failed
 * checks in a row, calls `unhealthy` (once) with why.
 */
function watchHealth(
  instance: SandboxedComponent<unknown>,
  health: HealthCheckOptions,
  unhealthy: (why: string) => void,
): () => Promise<void> {
  const [checkOnce, what] = instance.paths.listenSocket !== undefined
    ? [checkListener, "of its listener"]
    : [checkChannel, "over its channel"];
  const stopped = new AbortController();
  let failed = 0;
  let checking: Promise<void> | null = null;
  const check = async () => {
    try {
      await checkOnce(instance, health.timeoutMs, stopped.signal);
      failed = 0;
    } catch (error) {
      if (stopped.signal.aborted || ++failed < health.failures) return;
      ticking[Symbol.dispose]();
      unhealthy(`${failed} health checks ${what} failed, the last: ${(error as Error).message}`);
    } finally {
      checking = null;
    }
  };
  // A tick that finds a check still running skips; the timer is shared with other watches.
  const ticking = every(health.intervalMs, () => checking ??= check());
  return async () => {
    ticking[Symbol.dispose]();
    stopped.abort();
    await checking;
  };
}

/** A signal {@linkcode Supervisor.stopOnSignals} can stop on. */
export type StopSignal = "SIGHUP" | "SIGINT" | "SIGTERM";

const STOP_SIGNAL_NUMBERS: Record<StopSignal, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/**
 * Starts components under the spawn contract and restarts them by policy.
 *
 * @example A component killed from outside is started again, its data directory kept
 * ```ts
 * import { Supervisor } from "./supervisor.ts";
 * import { loadComponent } from "./manifest.ts";
 * import { NotesInit } from "../examples/notes/gen/notes.mp.ts";
 * const stateDir = await Deno.makeTempDir(); // bundles, data directories, logs, sockets
 * {
 *   await using supervisor = new Supervisor({ stateDir });
 *   // examples/notes/manifest.json: read and write notes/ in its data directory, restart on failure.
 *   const folder = new URL("../examples/notes/", import.meta.url).pathname;
 *   const notes = await supervisor.start(NotesInit, await loadComponent(folder));
 *   {
 *     await using store = (await (await notes.current()).makeNotes())!;
 *     await store.write("todo", "milk");
 *   }
 *   const run = notes.instance!;
 *   run.kill("SIGKILL");
 *   await run.exited;
 *   // From its process's end, current() waits while it restarts, and gives the new run's Init.
 *   await using store = (await (await notes.current()).makeNotes())!;
 *   if (await store.read("todo") !== "milk") throw new Error("the data directory outlives a run");
 *   const [exit] = notes.exits;
 *   if (exit?.reason.kind !== "killed" || !exit.restarted) throw new Error(JSON.stringify(exit));
 * } // stops the component
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export class Supervisor implements AsyncDisposable {
  readonly #options: SupervisorOptions;
  readonly #stops: (() => Promise<void>)[] = [];

  /** A supervisor starting components as `options` say; it starts none yet. */
  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  /**
   * Starts `component`; resolves once its first instance is ready (it
   * serves, or a listener listens), and refuses one that ends first or does
   * not serve within `startTimeoutMs` (a `SpawnError` saying how
   * it ended and what it printed last). `args`
   * apply to every run; with `connectTo` (a listening component), each run
   * gets `-ipcconnect` to its socket and a fresh one-time token, which the
   * listener is told to accept first; an {@linkcode ExternalListener} gets
   * `-ipcconnect` to its socket and no token; with a function instead (a
   * listener this supervisor did not start that asks for a credential),
   * each run connects where it says, with the credential it gives (the
   * listener's cookie).
   *
   * With `restartWith`, the component restarts whenever one of those does
   * (Erlang/OTP's `rest_for_one`): a running instance is stopped, a
   * pending backoff is cut short, and the new run starts once they all run
   * again. An exit while one of them is down counts as caused by it, and
   * so does a clean exit one of their exits follows within 5 s; such
   * restarts spend no crash budget. When one of them fails closed, this
   * component is stopped and fails too.
   */
  async start<T>(
    iface: InterfaceDescriptor<T>,
    component: Component,
    extra: {
      args?: readonly string[] | undefined;
      connectTo?:
        | Supervised<unknown>
        | ExternalListener
        | (() => { socket: string; tokenHex: string })
        | undefined;
      restartWith?: readonly Supervised<unknown>[] | undefined;
    } = {},
  ): Promise<Supervised<T>> {
    const { manifest } = component;
    const { restart } = manifest;
    const given = this.#options.report;
    // A report that throws is the caller's own failure: supervision goes on.
    const report = (line: string) => {
      try {
        given?.(line);
      } catch { /* nobody else to tell */ }
    };
    const exits: ExitRecord[] = [];
    let instance: SandboxedComponent<T> | null = null;
    /** Whether the instance's process runs (it ends a moment before its exit is handled). */
    let alive = false;
    let endedAt = 0;
    let stopping = false;
    let failWith: (error: SupervisionError) => void = () => {};
    const failed = new Promise<SupervisionError>((resolve) => failWith = resolve);
    let failure: SupervisionError | null = null;
    let waiting: { resolve: (init: Remote<T>) => void; reject: (e: Error) => void }[] = [];
    let backoff: Timer | undefined;
    const exitListeners = new Set<(record: ExitRecord) => void>();
    const startListeners = new Set<(init: Remote<T>) => void>();
    const restartWith = extra.restartWith ?? [];
    /** The dependency whose restart stops the running instance, once one does. */
    let recycledFor: string | null = null;

    /** Removes the listeners this component put on its dependencies. */
    let unwatchDependencies = () => {};
    const fail = (error: SupervisionError) => {
      failure = error;
      unwatchDependencies();
      report(error.message);
      for (const waiter of waiting) waiter.reject(error);
      waiting = [];
      failWith(error);
    };

    const connection = async (): Promise<SpawnComponentOptions["connect"]> => {
      if (!extra.connectTo) return undefined;
      if (typeof extra.connectTo === "function") return extra.connectTo();
      if ("socket" in extra.connectTo) return { socket: extra.connectTo.socket };
      let listener: SandboxedComponent<unknown> | null = null;
      // Between current() and now it may have ended: then wait for its next run.
      while (listener === null) {
        await extra.connectTo.current();
        listener = extra.connectTo.running ? extra.connectTo.instance : null;
      }
      const token = newToken();
      listener.sendControl(`accept ${token.hex}`);
      return { socket: listener.paths.listenSocket!, tokenHex: token.hex };
    };

    const stopped = new SupervisionError(`${manifest.name}: stopped`);
    let starting: Promise<void> = Promise.resolve();
    /** Aborted when it is stopped: a first run still waiting to serve is killed. */
    const stoppedStarting = new AbortController();
    /** Stops the health checks of the running instance. */
    let stopChecks = async () => {};
    const { output } = this.#options;
    const health = this.#options.healthCheck === false
      ? null
      : { ...DEFAULT_HEALTH_CHECK, ...this.#options.healthCheck };

    const run = async (): Promise<void> => {
      for (const dependency of restartWith) await dependency.current();
      const started = await spawnComponent(iface, component, {
        ...this.#options,
        output: output && ((line, stream) => output(line, stream, manifest.name)),
        args: extra.args,
        connect: await connection(),
        // A first run must serve to count as started; a restart that ends early is an exit
        // its policy decides on.
        startTimeoutMs: exits.length === 0 ? this.#options.startTimeoutMs : 0,
        signal: stoppedStarting.signal,
      });
      if (stopping) {
        // Stopped while this instance was starting: it never serves.
        await started[Symbol.asyncDispose]();
        return;
      }
      instance = started;
      alive = true;
      started.exited.then(() => {
        alive = false;
        endedAt = Date.now();
      });
      report(`${manifest.name}: started (pid ${started.pid})`);
      for (const listener of startListeners) {
        try {
          listener(started.init);
        } catch (error) {
          report(`${manifest.name}: a start listener failed: ${messageOf(error)}`);
        }
      }
      for (const waiter of waiting) waiter.resolve(started.init);
      waiting = [];
      let unresponsive: string | null = null;
      stopChecks = health !== null
        ? watchHealth(started, health, (why) => {
          unresponsive = why;
          report(`${manifest.name}: unresponsive (${why}); killing it`);
          started.kill("SIGKILL");
        })
        : async () => {};
      started.reason.then(async (exit) => {
        await stopChecks();
        const reason: ExitReason = unresponsive === null
          ? exit
          : { kind: "unresponsive", text: `unresponsive (${unresponsive}); killed` };
        instance = null;
        if (stopping) return;
        const now = Date.now();
        const record: ExitRecord = { reason, at: now, endedAt, restarted: false };
        exits.push(record);
        report(`${manifest.name}: ${reason.text}`);
        // A dependency whose process has ended (its exit perhaps not handled yet) caused this one.
        const down = recycledFor ??
          restartWith.find((dependency) => !dependency.running)?.name;
        recycledFor = null;
        if (down !== undefined) return restartWithDependency(record, down);
        const recent = exits.filter((e) =>
          e !== record && e.restarted && e.cause === undefined &&
          now - e.at < restart.windowSeconds * 1000
        );
        const wanted = restart.policy === "always" ||
          (restart.policy === "on-failure" && reason.kind !== "clean");
        if (!wanted && restartWith.length > 0) {
          // Ended cleanly as its dependency still shuts down (a wallet told its node stops):
          // decided with the dependency's exit when it follows within the grace.
          const dependency = await dependencyExit(DEPENDENCY_GRACE_MS);
          if (stopping || failure !== null) return;
          if (dependency !== undefined) return restartWithDependency(record, dependency);
        }
        // A failure that ends supervision says what the component said last.
        const said = reason.kind === "clean" ? "" : printedLast(started.lastLines) +
          grantHint(started.lastLines.join("\n"), component.folder);
        if (!wanted) {
          fail(
            new SupervisionError(
              `${manifest.name} ${reason.text}; restart policy "${restart.policy}": not ` +
                `restarting${said}`,
            ),
          );
          return exited(record);
        }
        if (recent.length >= restart.maxRestarts) {
          fail(
            new SupervisionError(
              `${manifest.name} ${reason.text}; it was restarted ${recent.length} times within ` +
                `${restart.windowSeconds} s (budget ${restart.maxRestarts}): not restarting${said}`,
            ),
          );
          return exited(record);
        }
        record.restarted = true;
        const delay = restart.backoffMs * 2 ** recent.length;
        report(`${manifest.name}: restarting in ${delay} ms`);
        backoff = new Timer(delay, rerun);
        exited(record);
      });
    };
    const rerun = () => {
      backoff = undefined;
      starting = run().catch((error) =>
        fail(new SupervisionError(`${manifest.name} could not be restarted: ${error.message}`))
      );
    };
    const exited = (record: ExitRecord) => {
      for (const listener of exitListeners) {
        try {
          listener(record);
        } catch (error) {
          report(`${manifest.name}: an exit listener failed: ${messageOf(error)}`);
        }
      }
    };
    /** The name of the first dependency whose exit is handled within `ms`, if any. */
    const dependencyExit = (ms: number) =>
      new Promise<string | undefined>((resolve) => {
        const finish = (name: string | undefined) => {
          timer.clear();
          for (const remove of removers) remove();
          resolve(name);
        };
        const timer = new Timer(ms, () => finish(undefined));
        const removers = restartWith.map((dependency) =>
          dependency.onExit(() => finish(dependency.name))
        );
      });
    /** Restarts at once (when `dependency` runs again), spending no budget. */
    const restartWithDependency = (record: ExitRecord, dependency: string) => {
      backoff?.clear();
      record.restarted = true;
      record.cause = `restarted with ${dependency}`;
      report(`${manifest.name}: restarting with ${dependency}`);
      rerun();
      exited(record);
    };
    const removers = restartWith.map((dependency) =>
      dependency.onExit((record) => {
        if (stopping || failure) return;
        if (!record.restarted) {
          // It stays down: without it this one cannot serve either.
          fail(
            new SupervisionError(
              `${manifest.name}: stopped, as ${dependency.name} stays down (rest_for_one)`,
            ),
          );
          stopping = true;
          backoff?.clear();
          void instance?.[Symbol.asyncDispose]();
          return;
        }
        if (instance !== null) {
          // Still running: stopped (escalating to SIGKILL), its exit handler restarts it once
          // the dependency runs again. Ended but not handled yet: its handler sees the cause.
          if (alive) {
            recycledFor = dependency.name;
            report(`${manifest.name}: stopping, ${dependency.name} restarts (rest_for_one)`);
            void instance[Symbol.asyncDispose]();
          }
          return;
        }
        // It ended after its dependency's process did but was counted as a crash (the
        // dependency's exit was handled later): recount it, restarting at once if it waits.
        const last = exits.at(-1);
        if (last?.restarted && last.cause === undefined && last.endedAt >= record.endedAt) {
          if (backoff !== undefined) return restartWithDependency(last, dependency.name);
          last.cause = `restarted with ${dependency.name}`;
        }
      })
    );
    unwatchDependencies = () => removers.forEach((remove) => remove());

    let stoppedAll: Promise<void> | null = null;
    const stop = () =>
      stoppedAll ??= (async () => {
        stopping = true;
        stoppedStarting.abort(stopped);
        unwatchDependencies();
        backoff?.clear();
        for (const waiter of waiting) waiter.reject(stopped);
        waiting = [];
        await starting.catch(() => {}); // a run starting ends once it has started
        await stopChecks();
        await instance?.[Symbol.asyncDispose]();
      })();
    // Stopping everything (on a signal, say) includes a component still starting.
    this.#stops.push(stop);
    starting = run();
    try {
      await starting;
    } catch (error) {
      unwatchDependencies();
      this.#stops.splice(this.#stops.indexOf(stop), 1);
      throw stopping ? stopped : error;
    }
    if (stopping) throw stopped;
    return {
      name: manifest.name,
      current: () => {
        if (failure) return Promise.reject(failure);
        if (stopping) return Promise.reject(stopped);
        // Its connection may be gone before its exit is seen (and the calls it failed with it).
        if (instance !== null && alive && !sessionOf(instance.init)?.connection.isClosed) {
          return Promise.resolve(instance.init.dup());
        }
        return new Promise((resolve, reject) =>
          waiting.push({ resolve: (init) => resolve(init.dup()), reject })
        );
      },
      get instance() {
        return instance;
      },
      get running() {
        return instance !== null && alive;
      },
      exits,
      failed,
      get stopped() {
        return stopping;
      },
      async stop() {
        await stop();
        report(`${manifest.name}: stopped`);
      },
      onExit(listener) {
        exitListeners.add(listener);
        return () => exitListeners.delete(listener);
      },
      onStart(listener) {
        startListeners.add(listener);
        if (instance !== null) listener(instance.init);
        return () => startListeners.delete(listener);
      },
    };
  }

  /**
   * Makes `signals` (SIGINT and SIGTERM by default) stop every component
   * and then end this process (status 128 + the signal's number), as a
   * launcher needs: Deno ends a process on Ctrl-C before `await using` can
   * stop anything, which leaves each component's run directory (and, under
   * root, its mounted disk image) to the next start from this state
   * directory. A second signal ends the process at once. Disposing the
   * result removes the handlers.
   *
   * @example A launcher stopped by SIGTERM stops its components, then exits with status 143
   * ```ts
   * const stateDir = await Deno.makeTempDir();
   * const supervisor = new URL("./supervisor.ts", import.meta.url).href;
   * const launcher = `import { Supervisor } from ${JSON.stringify(supervisor)};
   *   const supervisor = new Supervisor({
   *     stateDir: ${JSON.stringify(stateDir)},
   *     report: (line) => console.log(line),
   *   });
   *   supervisor.stopOnSignals(); // ... then start components
   *   console.log("running");
   *   setInterval(() => {}, 1000);`;
   * const child = new Deno.Command(Deno.execPath(), { args: ["eval", launcher], stdout: "piped" })
   *   .spawn();
   * const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
   * const { value } = await lines.read();
   * if (!value?.startsWith("running")) throw new Error("not running");
   * child.kill("SIGTERM");
   * let rest = "";
   * for (let read = await lines.read(); !read.done; read = await lines.read()) rest += read.value;
   * // Exited on its own (a process the signal killed would report the signal).
   * const { code, signal } = await child.status;
   * if (code !== 143 || signal !== null) throw new Error(`ended with ${code}, ${signal}`);
   * if (rest !== "SIGTERM: stopping every component\n") throw new Error(rest);
   * await Deno.remove(stateDir, { recursive: true });
   * ```
   */
  stopOnSignals(signals: readonly StopSignal[] = ["SIGINT", "SIGTERM"]): Disposable {
    let stopping = false;
    const removers = signals.map((signal) => {
      const listener = () => {
        const status = 128 + STOP_SIGNAL_NUMBERS[signal];
        if (stopping) Deno.exit(status);
        stopping = true;
        this.#options.report?.(`${signal}: stopping every component`);
        this[Symbol.asyncDispose]().finally(() => Deno.exit(status));
      };
      Deno.addSignalListener(signal, listener);
      return () => Deno.removeSignalListener(signal, listener);
    });
    return { [Symbol.dispose]: () => removers.forEach((remove) => remove()) };
  }

  /** Stops every component, the last started first. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const stop of [...this.#stops].reverse()) await stop();
  }
}
