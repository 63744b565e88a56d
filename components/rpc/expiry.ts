/**
 * A deadline to race work against, so that a peer that never answers
 * holds its caller for a bounded time only: {@linkcode expiry}'s `expired`
 * settles after the time given, and disposing it clears the timer.
 *
 * @example
 * ```ts
 * import { expiry } from "./expiry.ts";
 * using late = expiry(10);
 * const never = new Promise<string>(() => {});
 * const outcome = await Promise.race([never, late.expired.then(() => "late")]);
 * if (outcome !== "late") throw new Error(outcome);
 * ```
 * @module
 */

/**
 * A deadline: `expired` settles after `ms`, rejected with `error` when one
 * is given, else resolved; disposing it clears the timer.
 */
export function expiry(ms: number, error?: Error): { expired: Promise<void> } & Disposable {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => error === undefined ? resolve() : reject(error), ms);
  });
  expired.catch(() => {});
  return { expired, [Symbol.dispose]: () => clearTimeout(timer) };
}
