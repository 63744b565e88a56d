/**
 * A component's side of the notification commands: {@linkcode NotifierOutbox}
 * takes the node's and the wallet's events and hands them, in order, to a
 * {@linkcode Notifier}: a {@linkcode CommandRunner} of the process's own
 * when it may start processes, or the launcher's through IPC
 * (`Init.setNotifier`) when it is sandboxed. Only events the component's
 * own options name a command for are sent. Events before a notifier is
 * given wait for it, at most {@linkcode OutboxOptions.capacity} of them
 * (the oldest are dropped, and said so once); an event the notifier
 * refuses is logged and dropped, and the next one goes on.
 *
 * @example
 * ```ts
 * import { NO_COMMANDS } from "./commands.ts";
 * import { NotifierOutbox } from "./outbox.ts";
 * const seen: string[] = [];
 * const outbox = new NotifierOutbox({
 *   commands: { ...NO_COMMANDS, block: "true", shutdown: ["true"] },
 *   log: () => {},
 * });
 * outbox.startup(); // no -startupnotify: not sent
 * outbox.blockTip(new Uint8Array(32));
 * outbox.use({
 *   startup: () => void seen.push("startup"),
 *   blockTip: (hash) => void seen.push(`tip ${hash.length}`),
 *   walletTransaction: () => {},
 *   shutdown: () => void seen.push("shutdown"),
 *   alert: () => {},
 * });
 * await outbox.shutdown();
 * if (seen.join() !== "tip 32,shutdown") throw new Error(seen.join());
 * ```
 * @module
 */
import { dup, type Lent, release } from "../../component.ts";
import type { Notifier } from "../../schemas/gen/ipc/notify.mp.ts";
import type { NotifyCommands } from "./commands.ts";

/** How a {@linkcode NotifierOutbox} keeps events. */
export interface OutboxOptions {
  /** The component's commands: events none is set for are not sent. */
  commands: NotifyCommands;
  /** Where a dropped event or a failing notifier is reported. */
  log: (line: string) => void;
  /** At most this many events wait for a notifier (1,000); the shutdown event always waits. */
  capacity?: number;
  /**
   * How long {@linkcode NotifierOutbox.shutdown} waits for the notifier
   * (without end by default, as bitcoind waits for its commands; a
   * component whose notifier is another process's bounds it).
   */
  shutdownWaitMs?: number;
}

/** An event's sending; `kept`: never dropped for room. */
type Event = ((notifier: Notifier) => unknown) & { kept?: boolean };

/** The events of one component, on their way to its notifier. */
export class NotifierOutbox implements Disposable {
  readonly #commands: NotifyCommands;
  readonly #log: (line: string) => void;
  readonly #capacity: number;
  readonly #shutdownWaitMs: number;
  readonly #pending: Event[] = [];
  /** Shutdowns waiting for their event to be sent: resolved however it ends. */
  readonly #waiting = new Set<() => void>();
  #notifier: Notifier | null = null;
  #sending: Promise<void> | null = null;
  #dropped = false;

  constructor(options: OutboxOptions) {
    this.#commands = options.commands;
    this.#log = options.log;
    this.#capacity = options.capacity ?? 1000;
    this.#shutdownWaitMs = options.shutdownWaitMs ?? Infinity;
  }

  /**
   * Sends the events to `notifier` (kept: a reference of its own), those
   * waiting first. Only one is taken: a component is handed its notifier
   * once (a later one, from another peer, is refused).
   */
  use(notifier: Lent<Notifier>): void {
    if (this.#notifier !== null) throw new Error("setNotifier: a notifier was handed already");
    this.#notifier = dup(notifier);
    this.#dropped = false;
    this.#flush();
  }

  /** Events waiting for the notifier or for the one before them. */
  get pending(): number {
    return this.#pending.length;
  }

  /** The component has started (`-startupnotify`). */
  startup(): void {
    if (this.#commands.startup !== null) this.#add((notifier) => notifier.startup());
  }

  /** The best block is now `hash` (internal byte order; `-blocknotify`). */
  blockTip(hash: Uint8Array): void {
    if (this.#commands.block !== null) this.#add((notifier) => notifier.blockTip(hash));
  }

  /**
   * Transaction `txid` of wallet `wallet` was added or changed, now in the
   * block `blockHash` at `height`, or in none (null, -1; `-walletnotify`).
   */
  walletTransaction(
    wallet: string,
    txid: Uint8Array,
    blockHash: Uint8Array | null,
    height: number,
  ): void {
    if (this.#commands.wallet === null) return;
    this.#add((notifier) =>
      notifier.walletTransaction(wallet, txid, blockHash ?? new Uint8Array(), height)
    );
  }

  /** The node raised the warning `message` (`-alertnotify`). */
  alert(message: string): void {
    if (this.#commands.alert !== null) this.#add((notifier) => notifier.alert(message));
  }

  /**
   * The component is about to stop (`-shutdownnotify`): resolves once the
   * events before it and the shutdown commands are done (or
   * {@linkcode OutboxOptions.shutdownWaitMs} passed); at once when there
   * is no such command, or no notifier to run it.
   */
  async shutdown(): Promise<void> {
    if (this.#commands.shutdown.length === 0 || this.#notifier === null) return;
    const done = Promise.withResolvers<void>();
    this.#waiting.add(done.resolve);
    this.#pending.push(Object.assign(async (notifier: Notifier) => {
      try {
        await notifier.shutdown();
      } finally {
        done.resolve();
      }
    }, { kept: true }));
    this.#flush();
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (Number.isFinite(this.#shutdownWaitMs)) {
      timer = setTimeout(() => {
        this.#log(
          `notifications: -shutdownnotify did not finish within ${this.#shutdownWaitMs / 1000} s`,
        );
        done.resolve();
      }, this.#shutdownWaitMs);
    }
    await done.promise;
    clearTimeout(timer);
    this.#waiting.delete(done.resolve);
  }

  #add(event: Event): void {
    if (this.#pending.length >= this.#capacity) {
      // The oldest but a shutdown, which the component waits for.
      const oldest = this.#pending.findIndex((pending) => !pending.kept);
      if (oldest >= 0) this.#pending.splice(oldest, 1);
      if (!this.#dropped) {
        this.#log(
          `notifications: ${this.#capacity} events wait for a notifier; dropping the oldest`,
        );
      }
      this.#dropped = true;
    }
    this.#pending.push(event);
    this.#flush();
  }

  /** Sends the waiting events one after another, while there is a notifier. */
  #flush(): void {
    if (this.#sending !== null || this.#notifier === null) return;
    this.#sending = (async () => {
      for (let event; this.#notifier !== null && (event = this.#pending.shift());) {
        try {
          await event(this.#notifier);
        } catch (error) {
          this.#log(`notifications: ${error instanceof Error ? error.message : error}`);
        }
      }
      this.#dropped = false;
    })().finally(() => {
      this.#sending = null;
      if (this.#notifier !== null && this.#pending.length > 0) this.#flush();
    });
  }

  /** Releases the notifier and drops what waits (a waiting shutdown returns). */
  [Symbol.dispose](): void {
    if (this.#notifier !== null) release(this.#notifier);
    this.#notifier = null;
    this.#pending.length = 0;
    for (const resolve of this.#waiting) resolve();
    this.#waiting.clear();
  }
}
