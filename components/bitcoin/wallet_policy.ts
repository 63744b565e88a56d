/**
 * The wallet options that shape the transactions a wallet makes, read as
 * Bitcoin Core's `CWallet::Create` reads them: `-addresstype`,
 * `-changetype`, `-mintxfee`, `-maxtxfee`, `-spendzeroconfchange`,
 * `-walletrbf` and `-walletbroadcast`.
 * The node reads them (to refuse a bad one at startup, and for the wallets
 * it runs itself) and so does a wallet process (for its own wallets); both
 * go through {@linkcode walletPolicyOf}, so they agree on every value and
 * every error.
 *
 * @example
 * ```ts
 * import { walletPolicyOf } from "./wallet_policy.ts";
 * const given = new Map<string, string | false>([["addresstype", "bech32m"], ["maxtxfee", "0.5"]]);
 * const policy = walletPolicyOf((name) => given.get(name), 100n);
 * if (policy.addressType !== "bech32m" || policy.maxTxFee !== 50_000_000n) throw new Error();
 * if (policy.changeType !== null || !policy.spendZeroConfChange) throw new Error("defaults");
 * ```
 * @module
 */
import { interpretBool } from "./options.ts";
import { formatMoney, parseMoney } from "./amount.ts";

/** Core's output type names, as `getnewaddress` and `-addresstype` take them. */
export const OUTPUT_TYPE_NAMES: readonly string[] = ["legacy", "p2sh-segwit", "bech32", "bech32m"];

/** What a wallet's options say about the transactions it makes. */
export interface WalletPolicy {
  /** `-addresstype`: `getnewaddress`' type when none is asked for (Core's name, "bech32"). */
  readonly addressType: string;
  /** `-changetype`: the change's type, or null to follow the payments (Core's `TransactionChangeType`). */
  readonly changeType: string | null;
  /** `-mintxfee` in sat/kvB: the least fee rate the wallet pays (1000). */
  readonly minTxFee: bigint;
  /** `-maxtxfee` in satoshis: the most fee one transaction may pay (0.1 BTC). */
  readonly maxTxFee: bigint;
  /** `-spendzeroconfchange`: whether coin selection spends the wallet's unconfirmed change. */
  readonly spendZeroConfChange: boolean;
  /** `-walletrbf`: whether the inputs a send adds signal BIP 125 when the call does not say. */
  readonly rbf: boolean;
  /** `-walletbroadcast`: whether the wallet offers what it sends to the node's mempool. */
  readonly broadcast: boolean;
}

/** Core's defaults (`DEFAULT_TRANSACTION_MINFEE`, `DEFAULT_TRANSACTION_MAXFEE`, ...). */
export const DEFAULT_WALLET_POLICY: WalletPolicy = {
  addressType: "bech32",
  changeType: null,
  minTxFee: 1000n,
  maxTxFee: 10_000_000n,
  spendZeroConfChange: true,
  rbf: true,
  broadcast: true,
};

/** The options {@linkcode walletPolicyOf} reads, with Core's help texts. */
export const WALLET_POLICY_OPTIONS: readonly {
  name: string;
  param?: string;
  help: string;
  /** Listed by `-help-debug` only, among the debugging options (Core's `DEBUG_TEST`). */
  debugOnly?: boolean;
}[] = [
  {
    name: "addresstype",
    param: "=<type>",
    help:
      'What type of addresses to use ("legacy", "p2sh-segwit", "bech32", "bech32m", default: "bech32")',
  },
  {
    name: "changetype",
    param: "=<type>",
    help:
      'What type of change to use ("legacy", "p2sh-segwit", "bech32", "bech32m"). Default is "legacy" when -addresstype=legacy, else it is an implementation detail.',
  },
  {
    name: "maxtxfee",
    param: "=<amt>",
    help:
      `Maximum total fees (in BTC) to use in a single wallet transaction; setting this too low may abort large transactions (default: ${
        formatMoney(DEFAULT_WALLET_POLICY.maxTxFee)
      })`,
    debugOnly: true,
  },
  {
    name: "mintxfee",
    param: "=<amt>",
    help:
      `Fee rates (in BTC/kvB) smaller than this are considered zero fee for transaction creation (default: ${
        formatMoney(DEFAULT_WALLET_POLICY.minTxFee)
      })`,
  },
  {
    name: "spendzeroconfchange",
    help: "Spend unconfirmed change when sending transactions (default: 1)",
  },
  {
    name: "walletrbf",
    help: "Send transactions with full-RBF opt-in enabled (RPC only, default: 1)",
  },
  {
    name: "walletbroadcast",
    help: "Make the wallet broadcast transactions (default: 1)",
  },
];

/** Core's `CFeeRate::ToString()`: BTC/kvB with eight decimals. */
function btcPerKvb(rate: bigint): string {
  return `${rate / 100_000_000n}.${String(rate % 100_000_000n).padStart(8, "0")} BTC/kvB`;
}

/**
 * The policy `read` gives: `read(name)` is the option's last value, false
 * when negated, undefined when not given. `relayMinFee` (sat/kvB) is the
 * node's `-minrelaytxfee`, which `-maxtxfee` must reach. Throws a one-line
 * error with Core's text for a bad value.
 *
 * @example
 * ```ts
 * import { walletPolicyOf } from "./wallet_policy.ts";
 * let refused = "";
 * try {
 *   walletPolicyOf((name) => name === "changetype" ? "p2wpkh" : undefined, 100n);
 * } catch (error) {
 *   refused = (error as Error).message;
 * }
 * if (refused !== "Unknown change type 'p2wpkh'") throw new Error(refused);
 * ```
 */
export function walletPolicyOf(
  read: (name: string) => string | false | undefined,
  relayMinFee: bigint,
): WalletPolicy {
  // Core's GetArg(name, ""): a negation reads as "0" (no type, no amount), no value as "".
  const text = (name: string): string | undefined => {
    const value = read(name);
    return value === false ? "0" : value;
  };
  const type = (name: string, what: string): string | null => {
    const value = text(name) ?? "";
    if (value === "") return null;
    if (!OUTPUT_TYPE_NAMES.includes(value)) throw new Error(`Unknown ${what} type '${value}'`);
    return value;
  };
  const badAmount = (name: string) =>
    new Error(`Invalid amount for -${name}=<amount>: '${text(name)}'`);
  const amount = (name: string): bigint | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const parsed = parseMoney(value);
    if (parsed === null) throw badAmount(name);
    return parsed;
  };
  const addressType = type("addresstype", "address") ?? DEFAULT_WALLET_POLICY.addressType;
  const changeType = type("changetype", "change");
  const minTxFee = amount("mintxfee");
  if (minTxFee === 0n) throw badAmount("mintxfee");
  const maxTxFee = amount("maxtxfee");
  if (maxTxFee !== undefined && maxTxFee < relayMinFee) {
    throw new Error(
      `Invalid amount for -maxtxfee=<amount>: '${
        text("maxtxfee")
      }' (must be at least the minrelay fee of ${
        btcPerKvb(relayMinFee)
      } to prevent stuck transactions)`,
    );
  }
  const flag = (name: string): boolean => {
    const value = read(name);
    return value === undefined || (value !== false && interpretBool(value));
  };
  return {
    addressType,
    changeType,
    minTxFee: minTxFee ?? DEFAULT_WALLET_POLICY.minTxFee,
    maxTxFee: maxTxFee ?? DEFAULT_WALLET_POLICY.maxTxFee,
    spendZeroConfChange: flag("spendzeroconfchange"),
    rbf: flag("walletrbf"),
    broadcast: flag("walletbroadcast"),
  };
}
