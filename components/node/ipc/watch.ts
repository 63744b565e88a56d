/**
 * Waiting for the chain to move, for the long mining calls
 * (`waitTipChanged`, `waitNext`): a promise that settles on the next tip
 * change, after a time, or when an `AbortSignal` fires, whichever comes
 * first, and leaves nothing behind (timer, listener) once settled. One
 * subscription to the chain serves every waiter.
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { TipWatch } from "./watch.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using watch = new TipWatch(chain);
 *   await watch.nextChange(10, new AbortController().signal); // nothing moved: after 10 ms
 *   if (watch.waiting !== 0) throw new Error("a settled wait leaves nothing behind");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { Timer } from "../../../component.ts";
import type { ChainState } from "../chain/mod.ts";

/** Wakes waiters when the active tip changes. */
export class TipWatch implements Disposable {
  readonly #waiters = new Set<() => void>();
  readonly #subscription: Disposable;

  constructor(chain: ChainState) {
    this.#subscription = chain.subscribe({ tipChanged: () => this.#wakeAll() });
  }

  /** Waits in progress. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Settles on the next tip change, after `ms` milliseconds (any number:
   * below 0 is 0), or when `signal` aborts. Never rejects.
   */
  nextChange(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        timer.clear();
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = new Timer(Math.max(ms, 0), done);
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Stops watching the chain and releases every waiter. */
  [Symbol.dispose](): void {
    this.#subscription[Symbol.dispose]();
    this.#wakeAll();
  }

  #wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
