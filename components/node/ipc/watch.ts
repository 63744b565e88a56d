/**
 * Waiting for the chain to move, for the long mining calls
 * (`waitTipChanged`, `waitNext`): Core's `m_tip_block` and
 * `m_tip_block_cv`. The watch keeps the tip of the kernel's last
 * `blockTip` notification (each iteration of the activation that moved
 * the tip on, and the tip `invalidateblock` leaves, before the activation
 * that follows it) and wakes its waiters with each. A wait is a promise
 * that settles on the next such tip, after a time, or when an
 * `AbortSignal` fires, whichever comes first, and leaves nothing behind
 * (timer, listener) once settled. One subscription to the chain serves
 * every waiter.
 *
 * An activation that fails for no block's fault (the database, missing
 * block or undo data) may leave the tip where no `blockTip` told it: Core
 * stops the node on such a failure, which ends every wait; this node goes
 * on, so the watch takes the tip the activation left and wakes its waiters
 * instead of letting them sleep on a tip that is gone.
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
import { blockTipListener, bytesEqual, type ChainState, type Hash } from "../chain/mod.ts";

/** Wakes waiters when the kernel's `blockTip` tells a new tip. */
export class TipWatch implements Disposable {
  readonly #waiters = new Set<() => void>();
  readonly #subscription: Disposable;
  #tipBlock: Hash;

  constructor(chain: ChainState) {
    this.#tipBlock = chain.tip.hash;
    this.#subscription = chain.subscribe({
      ...blockTipListener((tip) => this.#told(tip.hash)),
      tipChanged: (tip) => {
        if (!bytesEqual(tip.hash, this.#tipBlock)) this.#told(tip.hash);
      },
    });
  }

  /** The hash of the tip last told (Core's `KernelNotifications::TipBlock()`). */
  get tipBlock(): Hash {
    return this.#tipBlock;
  }

  /** Waits in progress. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Settles on the next tip told, after `ms` milliseconds (any number:
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

  /**
   * Core's wait in `waitTipChanged`: settles once the tip told is not
   * `current` (at once when it already is not), after `ms` milliseconds
   * (`Infinity`: no time limit), or when `signal` aborts. Never rejects.
   */
  async changedFrom(current: Hash, ms: number, signal: AbortSignal): Promise<void> {
    const deadline = performance.now() + Math.max(ms, 0);
    while (!signal.aborted && bytesEqual(this.#tipBlock, current)) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await this.nextChange(left, signal);
    }
  }

  /** Stops watching the chain and releases every waiter. */
  [Symbol.dispose](): void {
    this.#subscription[Symbol.dispose]();
    this.#wakeAll();
  }

  #told(hash: Hash): void {
    this.#tipBlock = hash;
    this.#wakeAll();
  }

  #wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
