/**
 * Which wallet a JSON-RPC request means, by Bitcoin Core's rule
 * (`GetWalletForJSONRPCRequest`), with Core's codes and texts: the node
 * applies it across its wallet processes, a wallet process to its own
 * wallets.
 *
 * @example
 * ```ts
 * import { NO_WALLET_LOADED, walletForRequest } from "./wallet_choice.ts";
 * const error = (() => {
 *   try {
 *     walletForRequest(new Map(), undefined);
 *   } catch (error) {
 *     return error as { code: number; message: string };
 *   }
 * })();
 * if (error?.code !== -18 || error.message !== NO_WALLET_LOADED) throw new Error("none loaded");
 * ```
 * @module
 */
import { RpcError, RpcErrorCode } from "./errors.ts";

/** migratewallet's -4 for a descriptor wallet (Core's `MigrateLegacyToDescriptor`). */
export const ALREADY_DESCRIPTOR = "Error: This wallet is already a descriptor wallet";
/** migratewallet's -4 for a name no wallet has. */
export const NO_SUCH_WALLET = "Error: Wallet does not exist";

/** Core's -18 for a wallet path naming no loaded wallet. */
export const WALLET_NOT_FOUND = "Requested wallet does not exist or is not loaded";
/** Core's -18 when no wallet is loaded and none is named. */
export const NO_WALLET_LOADED =
  "No wallet is loaded. Load a wallet using loadwallet or create a new one with createwallet. " +
  "(Note: A default wallet is no longer automatically created)";
/** Core's -19 when several are loaded and none is named. */
export const WALLET_NOT_SPECIFIED =
  "Multiple wallets are loaded. Please select which wallet to use by requesting the RPC through " +
  "the /wallet/<walletname> URI path.";

/**
 * Bitcoin Core's rule for the wallet a request means
 * (`GetWalletForJSONRPCRequest`), over the wallets `loaded` by name:
 * `named` (from `/wallet/<name>`), else the only one loaded; -18 or -19
 * with Core's texts otherwise. The node applies it across its wallet
 * processes, a wallet process to its own wallets.
 *
 * @example
 * ```ts
 * import { walletForRequest } from "./wallet_choice.ts";
 * const loaded = new Map([["w", 1]]);
 * if (walletForRequest(loaded, undefined)[0] !== "w") throw new Error("the only one");
 * const error = (() => {
 *   try {
 *     walletForRequest(new Map([["a", 1], ["b", 2]]), undefined);
 *   } catch (error) {
 *     return error as { code: number };
 *   }
 * })();
 * if (error?.code !== -19) throw new Error("two and none named");
 * ```
 */
export function walletForRequest<T>(
  loaded: ReadonlyMap<string, T>,
  named: string | undefined,
): [name: string, wallet: T] {
  if (named !== undefined) {
    const wallet = loaded.get(named);
    if (wallet === undefined) throw new RpcError(RpcErrorCode.WALLET_NOT_FOUND, WALLET_NOT_FOUND);
    return [named, wallet];
  }
  if (loaded.size === 1) return [...loaded][0];
  if (loaded.size === 0) throw new RpcError(RpcErrorCode.WALLET_NOT_FOUND, NO_WALLET_LOADED);
  throw new RpcError(RpcErrorCode.WALLET_NOT_SPECIFIED, WALLET_NOT_SPECIFIED);
}
