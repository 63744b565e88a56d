/**
 * Bitcoin Core's `GetTime` and `SetMockTime`: the time a node or a wallet
 * process reckons with, in UNIX seconds, which `setmocktime` (regtest
 * only) sets to a given value until it is set to 0 again. The node keeps
 * one for its chain, mempool and bans, and tells each wallet process's
 * (Core's `ChainClient::setMockTime`), so both see the same time.
 *
 * @example
 * ```ts
 * import { MockableClock } from "./clock.ts";
 * const clock = new MockableClock();
 * clock.setMockTime(1_700_000_000);
 * if (clock.now() !== 1_700_000_000) throw new Error("mocked");
 * clock.setMockTime(0);
 * if (Math.abs(clock.now() - Date.now() / 1000) > 60) throw new Error("the system's again");
 * ```
 * @module
 */

/** Core's largest mock time: the seconds `std::chrono::nanoseconds` holds. */
export const MAX_MOCK_TIME = 9_223_372_036;

/**
 * Throws a one-line RangeError for a mock time outside Core's range
 * (`setmocktime`'s text; `-mocktime` is held to it too).
 *
 * @example
 * ```ts
 * import { checkMockTime } from "./clock.ts";
 * checkMockTime(0);
 * let refused = "";
 * try {
 *   checkMockTime(-1);
 * } catch (error) {
 *   refused = (error as Error).message;
 * }
 * if (refused !== "Mocktime must be in the range [0, 9223372036], not -1.") throw new Error(refused);
 * ```
 */
export function checkMockTime(seconds: number): void {
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_MOCK_TIME) {
    throw new RangeError(`Mocktime must be in the range [0, ${MAX_MOCK_TIME}], not ${seconds}.`);
  }
}

/** A clock in UNIX seconds that `setmocktime` can hold at a given time. */
export class MockableClock {
  #mocked = 0;

  /** The time now: the mock time when one is set, else the system's. */
  now(): number {
    return this.#mocked !== 0 ? this.#mocked : Math.floor(Date.now() / 1000);
  }

  /** The time the clock is held at, or 0 when it follows the system's. */
  get mocked(): number {
    return this.#mocked;
  }

  /** Holds the clock at `seconds`; 0 lets the system's time run again. */
  setMockTime(seconds: number): void {
    checkMockTime(seconds);
    this.#mocked = seconds;
  }
}
