/**
 * Supervision: keeps components running under their manifests' restart
 * policies. An exit the policy covers is followed by a restart after a
 * backoff that doubles each time; more restarts than the crash budget
 * allows within its window, and the component fails closed: it stays
 * down, callers get a {@linkcode SupervisionError} saying why, and
 * `failed` settles so the application can stop.
 *
 * @example
 * ```ts ignore
 * await using supervisor = new Supervisor({ stateDir: "/var/lib/app" });
 * const node = await supervisor.start(NodeInit, await loadComponent("components/node"));
 * const chain = await (await node.current()).makeChain();
 * ```
 * @module
 */
import type { InterfaceDescriptor } from "../schemas/descriptor.ts";
import type { Proxy } from "../runtime/proxy/client.ts";
import { type SandboxedComponent, spawnComponent, type SpawnComponentOptions } from "./contract.ts";
import type { ExitReason } from "./limits.ts";
import type { Component } from "./manifest.ts";
import { newToken } from "../runtime/process/lifeline.ts";

/** A component that stays down: its crash budget is spent, or its policy says so. */
export class SupervisionError extends Error {
  override name = "SupervisionError";
}

/** One exit of a supervised component. */
export interface ExitRecord {
  reason: ExitReason;
  /** `Date.now()` at the exit. */
  at: number;
  /** Whether it was started again. */
  restarted: boolean;
}

/** A component under supervision. */
export interface Supervised<T> {
  readonly name: string;
  /**
   * The running instance's Init; waits while it restarts; rejects once it
   * has failed or been stopped. Right after a crash, before the exit is
   * noticed, it may still be the dead instance's.
   */
  current(): Promise<Proxy<T>>;
  /** The running instance, or null between runs and after failing. */
  readonly instance: SandboxedComponent<T> | null;
  /** Every exit so far, oldest first. */
  readonly exits: readonly ExitRecord[];
  /** Settles with the error once the component has failed closed. */
  readonly failed: Promise<SupervisionError>;
}

/** Options of a {@linkcode Supervisor}. */
export type SupervisorOptions =
  & Pick<SpawnComponentOptions, "stateDir" | "hardened" | "env" | "output" | "log">
  & {
    /** Receives one line per lifecycle event (start, exit, restart, failure). */
    report?: (line: string) => void;
  };

/** Starts components under the spawn contract and restarts them by policy. */
export class Supervisor implements AsyncDisposable {
  readonly #options: SupervisorOptions;
  readonly #stops: (() => Promise<void>)[] = [];

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  /**
   * Starts `component`; resolves once its first instance runs. `args`
   * apply to every run; with `connectTo` (a listening component), each run
   * gets `-ipcconnect` to its socket and a fresh one-time token, which the
   * listener is told to accept first.
   */
  async start<T>(
    iface: InterfaceDescriptor<T>,
    component: Component,
    extra: { args?: readonly string[]; connectTo?: Supervised<unknown> } = {},
  ): Promise<Supervised<T>> {
    const { manifest } = component;
    const { restart } = manifest;
    const report = this.#options.report ?? (() => {});
    const exits: ExitRecord[] = [];
    let instance: SandboxedComponent<T> | null = null;
    let stopping = false;
    let failWith: (error: SupervisionError) => void = () => {};
    const failed = new Promise<SupervisionError>((resolve) => failWith = resolve);
    let failure: SupervisionError | null = null;
    let waiting: { resolve: (init: Proxy<T>) => void; reject: (e: Error) => void }[] = [];
    let backoff: ReturnType<typeof setTimeout> | undefined;

    const fail = (error: SupervisionError) => {
      failure = error;
      report(error.message);
      for (const waiter of waiting) waiter.reject(error);
      waiting = [];
      failWith(error);
    };

    const connection = async (): Promise<SpawnComponentOptions["connect"]> => {
      if (!extra.connectTo) return undefined;
      await extra.connectTo.current();
      const listener = extra.connectTo.instance!;
      const token = newToken();
      listener.sendControl(`accept ${token.hex}`);
      return { socket: listener.paths.listenSocket!, tokenHex: token.hex };
    };

    let starting: Promise<void> = Promise.resolve();
    const run = async (): Promise<void> => {
      const started = await spawnComponent(iface, component, {
        ...this.#options,
        args: extra.args,
        connect: await connection(),
      });
      if (stopping) {
        // Stopped while this instance was starting: it never serves.
        await started[Symbol.asyncDispose]();
        return;
      }
      instance = started;
      report(`${manifest.name}: started (pid ${started.pid})`);
      for (const waiter of waiting) waiter.resolve(started.init);
      waiting = [];
      started.reason.then((reason) => {
        instance = null;
        if (stopping) return;
        const now = Date.now();
        const recent = exits.filter((e) =>
          e.restarted && now - e.at < restart.windowSeconds * 1000
        );
        const wanted = restart.policy === "always" ||
          (restart.policy === "on-failure" && reason.kind !== "clean");
        const record: ExitRecord = { reason, at: now, restarted: false };
        exits.push(record);
        report(`${manifest.name}: ${reason.text}`);
        if (!wanted) {
          return fail(
            new SupervisionError(
              `${manifest.name} ${reason.text}; restart policy "${restart.policy}": not restarting`,
            ),
          );
        }
        if (recent.length >= restart.maxRestarts) {
          return fail(
            new SupervisionError(
              `${manifest.name} ${reason.text}; it was restarted ${recent.length} times within ` +
                `${restart.windowSeconds} s (budget ${restart.maxRestarts}): not restarting`,
            ),
          );
        }
        record.restarted = true;
        const delay = restart.backoffMs * 2 ** recent.length;
        report(`${manifest.name}: restarting in ${delay} ms`);
        backoff = setTimeout(() => {
          starting = run().catch((error) =>
            fail(new SupervisionError(`${manifest.name} could not be restarted: ${error.message}`))
          );
        }, delay);
      });
    };

    await run();
    const stopped = new SupervisionError(`${manifest.name}: stopped`);
    this.#stops.push(async () => {
      stopping = true;
      clearTimeout(backoff);
      for (const waiter of waiting) waiter.reject(stopped);
      waiting = [];
      await starting;
      await instance?.[Symbol.asyncDispose]();
    });
    return {
      name: manifest.name,
      current: () => {
        if (failure) return Promise.reject(failure);
        if (stopping) return Promise.reject(stopped);
        if (instance) return Promise.resolve(instance.init);
        return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
      },
      get instance() {
        return instance;
      },
      exits,
      failed,
    };
  }

  /** Stops every component, the last started first. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const stop of this.#stops.reverse()) await stop();
  }
}
