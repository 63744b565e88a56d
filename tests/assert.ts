/**
 * Assertions for the tests, over `node:assert` (JSR's `@std/assert` is not
 * reachable from this project's machines).
 *
 * @module
 */
import { deepStrictEqual, ok } from "node:assert/strict";

/** Fails unless `condition` is truthy. */
export function assert(condition: unknown, message?: string): asserts condition {
  ok(condition, message);
}

/** Fails unless `actual` and `expected` are deeply equal (typed arrays and bigints included). */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  deepStrictEqual(actual, expected, message);
}

/** Fails unless `actual` matches `pattern`; `what` names the value in the failure. */
export function assertMatch(actual: string, pattern: RegExp, what = "value"): void {
  ok(pattern.test(actual), `${what}: ${JSON.stringify(actual)} does not match ${pattern}`);
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = new (...args: any[]) => E;

/**
 * Fails unless `fn` rejects (with an instance of `ErrorClass`, whose message
 * includes `includes`); returns the error.
 */
export async function assertRejects<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: ErrorClass<E>,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    checkError(error, ErrorClass, includes);
    return error as E;
  }
  throw new Error("expected a rejection, but the promise resolved");
}

/** Fails unless `fn` throws (as {@linkcode assertRejects}); returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: ErrorClass<E>,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    checkError(error, ErrorClass, includes);
    return error as E;
  }
  throw new Error("expected an exception, but none was thrown");
}

function checkError<E extends Error>(
  error: unknown,
  ErrorClass?: ErrorClass<E>,
  includes?: string,
) {
  if (ErrorClass && !(error instanceof ErrorClass)) {
    throw new Error(`expected ${ErrorClass.name}, got ${error}`, { cause: error });
  }
  if (includes !== undefined && !String((error as Error)?.message).includes(includes)) {
    throw new Error(
      `expected message to include "${includes}", got "${(error as Error)?.message}"`,
      {
        cause: error,
      },
    );
  }
}
