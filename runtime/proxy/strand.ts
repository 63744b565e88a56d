/**
 * Strands: the logical threads of libmultiprocess' 1:1 threading model,
 * for a single-threaded runtime.
 *
 * A strand is an async context plus a FIFO queue. Calls posted to a strand
 * run one at a time in arrival order, except while every running call is
 * waiting on an outgoing IPC call: then the next posted call runs at once,
 * as a libmultiprocess thread blocked in a call runs the callbacks posted
 * to it. That is what lets a callback call back into the server that is
 * calling it (recursion) without deadlock.
 *
 * Code runs "on" a strand inside {@linkcode Strand.run}; outgoing calls made
 * there use that strand's threads on the peer, so one strand's calls run in
 * order on one server strand.
 *
 * @example
 * ```ts
 * import { Strand } from "./strand.ts";
 * const strand = new Strand("worker");
 * const order: number[] = [];
 * await Promise.all([
 *   strand.post(async () => { await new Promise((r) => setTimeout(r, 10)); order.push(1); }),
 *   strand.post(() => { order.push(2); }),
 * ]);
 * console.assert(order.join() === "1,2");
 * ```
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";

const current = new AsyncLocalStorage<Strand>();

/** A logical thread: an async context whose posted calls run in order. */
export class Strand {
  /** Shown in logs and by `Thread.getName()`. */
  readonly name: string;
  #active = 0;
  #waiting = 0;
  readonly #queue: (() => void)[] = [];
  /** Per-connection state kept by the proxy layer (this strand's threads there). */
  readonly threads: Map<object, unknown> = new Map();

  constructor(name: string) {
    this.name = name;
  }

  /** Calls posted or running and not finished: the load a pool balances. */
  get depth(): number {
    return this.#active + this.#queue.length;
  }

  /** Runs `fn` on this strand (its outgoing calls use this strand's threads). */
  run<T>(fn: () => T): T {
    return current.run(this, fn);
  }

  /** Runs `task` on this strand after the calls posted before it. */
  post<T>(task: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.#active++;
        current.run(this, async () => {
          try {
            resolve(await task());
          } catch (error) {
            reject(error);
          } finally {
            this.#active--;
            this.#next();
          }
        });
      };
      if (this.#active <= this.#waiting) start();
      else this.#queue.push(start);
    });
  }

  /**
   * Awaits an outgoing call made on this strand; while it is pending,
   * posted calls may run (they are nested in it, as callbacks are).
   */
  async wait<T>(pending: Promise<T>): Promise<T> {
    this.#waiting++;
    this.#next();
    try {
      return await pending;
    } finally {
      this.#waiting--;
    }
  }

  #next(): void {
    while (this.#queue.length > 0 && this.#active <= this.#waiting) this.#queue.shift()!();
  }
}

/** The strand of code that runs outside every {@linkcode Strand.run}. */
export const mainStrand: Strand = new Strand("main");

/**
 * The strand the calling code runs on.
 *
 * @example
 * ```ts
 * import { currentStrand, mainStrand, Strand } from "./strand.ts";
 * console.assert(currentStrand() === mainStrand);
 * new Strand("a").run(() => console.assert(currentStrand().name === "a"));
 * ```
 */
export function currentStrand(): Strand {
  return current.getStore() ?? mainStrand;
}
