/**
 * Telling a wallet process the node's mock time (Core's
 * `ChainClient::setMockTime`), bounded: `setmocktime` tells every attached
 * one, and `Chain.handleWalletLoader` one attaching while the clock is held.
 *
 * @example
 * ```ts
 * import { tellMockTime } from "./mock_time.ts";
 * import type { WalletLoader } from "../../../schemas/gen/ipc/wallet.mp.ts";
 * let told = 0n;
 * const loader = { setMockTime: (time: bigint) => void (told = time) } as unknown as WalletLoader;
 * await tellMockTime(loader, 1_700_000_000, () => {});
 * if (told !== 1_700_000_000n) throw new Error("told");
 * ```
 * @module
 */
import type { WalletLoader } from "../../../schemas/gen/ipc/wallet.mp.ts";
import { expiry } from "../../rpc/expiry.ts";
/** How long a wallet process is given to take the node's mock time. */
const MOCK_TIME_NOTICE_MS = 10_000;

/**
 * Tells `loader`'s process the node's mock time (Core's
 * `ChainClient::setMockTime`), {@linkcode MOCK_TIME_NOTICE_MS} at most; a
 * process that fails or does not answer is logged, not waited for.
 */
export async function tellMockTime(
  loader: WalletLoader,
  seconds: number,
  log: (line: string) => void,
): Promise<void> {
  using late = expiry(MOCK_TIME_NOTICE_MS);
  const told = Promise.resolve(loader.setMockTime(BigInt(seconds))).then(
    () => true,
    (error) => {
      log(`setmocktime: a wallet process was not told: ${(error as Error).message}`);
      return true;
    },
  );
  if (!await Promise.race([told, late.expired.then(() => false)])) {
    log(
      `setmocktime: a wallet process did not take the time within ${MOCK_TIME_NOTICE_MS / 1000} s`,
    );
  }
}
