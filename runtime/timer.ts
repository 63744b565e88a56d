/**
 * A timer for any delay a caller may give. `setTimeout` holds at most
 * 2^31-1 ms (some 25 days): a longer delay, `Infinity` included, fires
 * after 1 ms with a warning on stderr. So a deadline meant as "a month" or
 * "never" expired at once, and one re-armed from its own callback spun.
 *
 * @module
 */

/** The longest delay `setTimeout` holds; a longer one fires after 1 ms. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Options of {@linkcode Timer}. */
export interface TimerOptions {
  /**
   * Whether a pending timer keeps the process running, as `setTimeout`
   * does; true by default. With false it is `Deno.unrefTimer`'d.
   */
  persistent?: boolean | undefined;
}

/**
 * `ms`, or `fallback` when it is undefined, checked as a delay a
 * {@linkcode Timer} takes: a `RangeError` naming `name` otherwise, for an
 * option to be refused before anything starts.
 *
 * @example
 * ```ts
 * import { delayOption } from "./timer.ts";
 * if (delayOption("startTimeoutMs", undefined, 60_000) !== 60_000) throw new Error("default");
 * if (delayOption("startTimeoutMs", Infinity, 1) !== Infinity) throw new Error("never");
 * try {
 *   delayOption("startTimeoutMs", Number.NaN, 1);
 *   throw new Error("NaN was taken");
 * } catch (error) {
 *   if (!(error as Error).message.startsWith("startTimeoutMs ")) throw error;
 * }
 * ```
 */
export function delayOption(name: string, ms: number | undefined, fallback: number): number {
  const delay = ms ?? fallback;
  if (typeof delay !== "number" || !(delay >= 0)) {
    throw new RangeError(
      `${name} is a number of milliseconds, 0 or more (Infinity: never); got ${delay}`,
    );
  }
  return delay;
}

/**
 * Runs an action once after a delay of any length: in steps `setTimeout`
 * can hold when it is longer than {@linkcode MAX_TIMEOUT_MS}, and never for
 * `Infinity`. A delay below 0 or `NaN` is a `RangeError`, thrown at once.
 * Disposing it (or {@linkcode Timer.clear}) cancels it.
 *
 * @example A month is a month, `Infinity` is never, and a cleared timer does not fire
 * ```ts
 * import { Timer } from "./timer.ts";
 * const fired: string[] = [];
 * using month = new Timer(30 * 86_400_000, () => fired.push("month"));
 * using never = new Timer(Infinity, () => fired.push("never"));
 * const soon = new Timer(1, () => fired.push("soon"));
 * using cleared = new Timer(1, () => fired.push("cleared"));
 * cleared.clear();
 * await new Promise((resolve) => setTimeout(resolve, 20));
 * if (fired.join() !== "soon") throw new Error(fired.join());
 * if (soon.pending || !month.pending || !never.pending) throw new Error("pending");
 * try {
 *   new Timer(-1, () => {});
 *   throw new Error("a negative delay was taken");
 * } catch (error) {
 *   if (!(error instanceof RangeError)) throw error;
 * }
 * ```
 */
export class Timer implements Disposable {
  readonly #persistent: boolean;
  #handle: ReturnType<typeof setTimeout> | undefined;
  #pending = true;

  /** Runs `action` once after `ms` milliseconds (`Infinity`: never). */
  constructor(ms: number, action: () => void, options: TimerOptions = {}) {
    delayOption("a delay", ms, 0);
    this.#persistent = options.persistent ?? true;
    this.#arm(ms, action);
  }

  /** Whether it has neither fired nor been cleared. */
  get pending(): boolean {
    return this.#pending;
  }

  /** Cancels it, if it has not fired. */
  clear(): void {
    clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#pending = false;
  }

  /** Same as {@linkcode Timer.clear}. */
  [Symbol.dispose](): void {
    this.clear();
  }

  #arm(ms: number, action: () => void): void {
    if (ms === Infinity) return;
    const step = Math.min(ms, MAX_TIMEOUT_MS);
    const handle = setTimeout(() => {
      if (ms > step) return this.#arm(ms - step, action);
      this.#handle = undefined;
      this.#pending = false;
      action();
    }, step);
    if (!this.#persistent) Deno.unrefTimer(handle);
    this.#handle = handle;
  }
}
