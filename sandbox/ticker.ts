/**
 * One timer for every periodic task of the same interval.
 *
 * A supervisor watches each of its components' memory, CPU time and disk
 * several times a second. Every timer that fires wakes the process (an
 * empty 50 ms interval alone costs about half a percent of a core), so
 * the watches of all components share one timer per interval instead of
 * keeping one each.
 *
 * @example
 * ```ts
 * import { every } from "./ticker.ts";
 * let ticks = 0;
 * {
 *   using _counting = every(1, () => ticks++);
 *   await new Promise((resolve) => setTimeout(resolve, 30));
 * }
 * const seen = ticks;
 * await new Promise((resolve) => setTimeout(resolve, 30));
 * if (seen === 0 || ticks !== seen) throw new Error(`ticked ${seen} then ${ticks} times`);
 * ```
 * @module
 */

/** The tasks of one interval and the timer that runs them. */
interface Ticker {
  timer: ReturnType<typeof setInterval>;
  tasks: Set<() => void>;
}

const tickers = new Map<number, Ticker>();

/**
 * Calls `task` every `intervalMs` until disposed, on the timer every task
 * of that interval shares (it stops when its last task is disposed). A
 * task that throws is an uncaught error, as in a `setInterval` of its own.
 */
export function every(intervalMs: number, task: () => void): Disposable {
  let ticker = tickers.get(intervalMs);
  if (ticker === undefined) {
    const tasks = new Set<() => void>();
    const timer = setInterval(() => {
      for (const each of tasks) each();
    }, intervalMs);
    ticker = { timer, tasks };
    tickers.set(intervalMs, ticker);
  }
  // A function of its own, so the same task added twice runs twice.
  const entry = () => task();
  const { timer, tasks } = ticker;
  tasks.add(entry);
  return {
    [Symbol.dispose]() {
      if (!tasks.delete(entry) || tasks.size > 0) return;
      clearInterval(timer);
      tickers.delete(intervalMs);
    },
  };
}
