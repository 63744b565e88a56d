/**
 * The wallet options that shape the transactions a wallet makes, read as
 * Bitcoin Core's `CWallet::Create` reads them: `-addresstype`,
 * `-avoidpartialspends`, `-changetype`, `-consolidatefeerate`,
 * `-discardfee`, `-fallbackfee`, `-maxapsfee`,
 * `-mintxfee`, `-maxtxfee`, `-spendzeroconfchange`, `-walletrbf`,
 * `-walletbroadcast` and `-walletrejectlongchains` (which Core reads at
 * each send, not at the load; no value of it is bad);
 * {@linkcode walletPolicyWarnings} gives the warnings Core's wallet loads
 * answer with for values set very high.
 * The node reads them (for the wallets it runs itself) and so does a
 * wallet process (for its own); both go through
 * {@linkcode readWalletPolicy}, so they agree on every value and every
 * error, which refuses each wallet load and creation rather than the
 * start, as Core's.
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
  /**
   * `-fallbackfee` in sat/kvB: the rate a send pays when the node has no
   * fee estimate; 0 (regtest's default) disables it, and such a send fails.
   */
  readonly fallbackFee: bigint;
  /** `-maxtxfee` in satoshis: the most fee one transaction may pay (0.1 BTC). */
  readonly maxTxFee: bigint;
  /**
   * `-paytxfee` in sat/kvB (0: none): the rate a send pays when the call
   * gives none (Core's `m_pay_tx_fee`, which `settxfee` changes until the
   * wallet is loaded again). Deprecated in Core v30.
   */
  readonly payTxFee: bigint;
  /** `-paytxfee` as written, when given: each wallet load warns it is deprecated. */
  readonly payTxFeeGiven?: string;
  /**
   * `-discardfee` in sat/kvB (10000): change worth less than spending it
   * at this rate costs goes to the fee (Core's discard rate; never below
   * the node's dust relay fee).
   */
  readonly discardFee: bigint;
  /**
   * `-consolidatefeerate` in sat/kvB (10000): the rate the wallet expects
   * to pay in the long run; below it coin selection spends more coins than
   * it needs, so that fewer are left to spend at higher rates.
   */
  readonly consolidateFeeRate: bigint;
  /** `-avoidpartialspends`: each address's coins are always spent together, or not at all. */
  readonly avoidPartialSpends: boolean;
  /**
   * `-maxapsfee` in satoshis (0): what more a transaction spending each
   * address's coins together may pay and still be preferred; -1: never tried.
   */
  readonly maxApsFee: bigint;
  /** `-spendzeroconfchange`: whether coin selection spends the wallet's unconfirmed change. */
  readonly spendZeroConfChange: boolean;
  /** `-walletrbf`: whether the inputs a send adds signal BIP 125 when the call does not say. */
  readonly rbf: boolean;
  /** `-walletbroadcast`: whether the wallet offers what it sends to the node's mempool. */
  readonly broadcast: boolean;
  /**
   * `-walletrejectlongchains`: whether a transaction the mempool's chain
   * limits would refuse is refused when made (Core's `checkChainLimits`);
   * without, coin selection's last try takes unconfirmed change on a chain
   * of any length.
   */
  readonly rejectLongChains: boolean;
}

/** Core's defaults (`DEFAULT_TRANSACTION_MINFEE`, `DEFAULT_TRANSACTION_MAXFEE`, ...). */
export const DEFAULT_WALLET_POLICY: WalletPolicy = {
  addressType: "bech32",
  changeType: null,
  minTxFee: 1000n,
  fallbackFee: 0n,
  payTxFee: 0n,
  maxTxFee: 10_000_000n,
  discardFee: 10_000n,
  consolidateFeeRate: 10_000n,
  avoidPartialSpends: false,
  maxApsFee: 0n,
  spendZeroConfChange: true,
  rbf: true,
  broadcast: true,
  rejectLongChains: true,
};

/** The options {@linkcode walletPolicyOf} reads, with Core's help texts. */
export const WALLET_POLICY_OPTIONS: readonly {
  name: string;
  param?: string;
  help: string;
  /**
   * Listed by `-help-debug` only, in this group: the debugging options
   * (Core's `DEBUG_TEST`) or the wallet's (`WALLET_DEBUG_TEST`).
   */
  debugGroup?: "debug" | "walletdebug";
}[] = [
  {
    name: "addresstype",
    param: "=<type>",
    help:
      'What type of addresses to use ("legacy", "p2sh-segwit", "bech32", "bech32m", default: "bech32")',
  },
  {
    name: "avoidpartialspends",
    help:
      'Group outputs by address, selecting many (possibly all) or none, instead of selecting on a per-output basis. Privacy is improved as addresses are mostly swept with fewer transactions and outputs are aggregated in clean change addresses. It may result in higher fees due to less optimal coin selection caused by this added limitation and possibly a larger-than-necessary number of inputs being used. Always enabled for wallets with "avoid_reuse" enabled, otherwise default: 0.',
  },
  {
    name: "changetype",
    param: "=<type>",
    help:
      'What type of change to use ("legacy", "p2sh-segwit", "bech32", "bech32m"). Default is "legacy" when -addresstype=legacy, else it is an implementation detail.',
  },
  {
    name: "consolidatefeerate",
    param: "=<amt>",
    help:
      `The maximum feerate (in BTC/kvB) at which transaction building may use more inputs than strictly necessary so that the wallet's UTXO pool can be reduced (default: ${
        formatMoney(DEFAULT_WALLET_POLICY.consolidateFeeRate)
      }).`,
  },
  {
    name: "discardfee",
    param: "=<amt>",
    help:
      `The fee rate (in BTC/kvB) that indicates your tolerance for discarding change by adding it to the fee (default: ${
        formatMoney(DEFAULT_WALLET_POLICY.discardFee)
      }). Note: An output is discarded if it is dust at this rate, but we will always discard up to the dust relay fee and a discard fee above that is limited by the fee estimate for the longest target`,
  },
  {
    name: "fallbackfee",
    param: "=<amt>",
    help:
      "A fee rate (in BTC/kvB) that will be used when fee estimation has insufficient data. 0 to entirely disable the fallbackfee feature. (default: 0.00)",
  },
  {
    name: "maxapsfee",
    param: "=<n>",
    help:
      `Spend up to this amount in additional (absolute) fees (in BTC) if it allows the use of partial spend avoidance (default: ${
        formatMoney(DEFAULT_WALLET_POLICY.maxApsFee)
      })`,
  },
  {
    name: "maxtxfee",
    param: "=<amt>",
    help:
      `Maximum total fees (in BTC) to use in a single wallet transaction; setting this too low may abort large transactions (default: ${
        formatMoney(DEFAULT_WALLET_POLICY.maxTxFee)
      })`,
    debugGroup: "debug",
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
    name: "paytxfee",
    param: "=<amt>",
    help: "Fee rate (in BTC/kvB) to add to transactions you send (default: 0.00)",
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
  {
    name: "walletrejectlongchains",
    help: "Wallet will not create transactions that violate mempool chain limits (default: 1)",
    debugGroup: "walletdebug",
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
  // In Core's order (CWallet::Create): the first bad value is the one refused.
  const addressType = type("addresstype", "address") ?? DEFAULT_WALLET_POLICY.addressType;
  const changeType = type("changetype", "change");
  const minTxFee = amount("mintxfee");
  if (minTxFee === 0n) throw badAmount("mintxfee");
  // Core takes "-1" as "never", and any amount; a negation reads as "0".
  const maxApsFee = text("maxapsfee") === "-1" ? -1n : amount("maxapsfee");
  const fallbackFee = amount("fallbackfee");
  const discardFee = amount("discardfee");
  const payTxFee = amount("paytxfee");
  if (payTxFee !== undefined) checkPayTxFee(payTxFee, text("paytxfee")!, relayMinFee);
  const maxTxFee = amount("maxtxfee");
  if (maxTxFee !== undefined) checkMaxTxFee(maxTxFee, text("maxtxfee")!, relayMinFee);
  const consolidateFeeRate = amount("consolidatefeerate");
  const flag = (name: string, byDefault: boolean): boolean => {
    const value = read(name);
    return value === undefined ? byDefault : value !== false && interpretBool(value);
  };
  const defaults = DEFAULT_WALLET_POLICY;
  return {
    addressType,
    changeType,
    minTxFee: minTxFee ?? defaults.minTxFee,
    fallbackFee: fallbackFee ?? defaults.fallbackFee,
    payTxFee: payTxFee ?? defaults.payTxFee,
    ...(payTxFee === undefined ? {} : { payTxFeeGiven: text("paytxfee") }),
    maxTxFee: maxTxFee ?? defaults.maxTxFee,
    discardFee: discardFee ?? defaults.discardFee,
    consolidateFeeRate: consolidateFeeRate ?? defaults.consolidateFeeRate,
    avoidPartialSpends: flag("avoidpartialspends", defaults.avoidPartialSpends),
    maxApsFee: maxApsFee ?? defaults.maxApsFee,
    spendZeroConfChange: flag("spendzeroconfchange", defaults.spendZeroConfChange),
    rbf: flag("walletrbf", defaults.rbf),
    broadcast: flag("walletbroadcast", defaults.broadcast),
    rejectLongChains: flag("walletrejectlongchains", defaults.rejectLongChains),
  };
}

/**
 * The wallet options as the node or a wallet process reads them at start
 * ({@linkcode walletPolicyOf}'s arguments): the policy, or, a value being
 * bad, Core's one-line refusal of it with the defaults in its place. As
 * Core's `CWallet::Create` checks them, the refusal answers every wallet
 * load and creation while the process runs on.
 *
 * @example
 * ```ts
 * import { readWalletPolicy } from "./wallet_policy.ts";
 * const read = readWalletPolicy((name) => name === "fallbackfee" ? "abc" : undefined, 1000n);
 * if (read.refusal !== "Invalid amount for -fallbackfee=<amount>: 'abc'") throw new Error();
 * if (read.policy.fallbackFee !== 0n) throw new Error("the default in its place");
 * ```
 */
export function readWalletPolicy(
  read: (name: string) => string | false | undefined,
  relayMinFee: bigint,
): { policy: WalletPolicy; refusal: string | null } {
  try {
    return { policy: walletPolicyOf(read, relayMinFee), refusal: null };
  } catch (error) {
    return { policy: DEFAULT_WALLET_POLICY, refusal: (error as Error).message };
  }
}

/**
 * Throws Core's one-line refusal of a `-maxtxfee` (`given` as written)
 * under the node's `-minrelaytxfee` (`relayMinFee`, sat/kvB): a wallet
 * paying no more could make nothing the node relays.
 *
 * @example
 * ```ts
 * import { checkMaxTxFee } from "./wallet_policy.ts";
 * checkMaxTxFee(1000n, "0.00001", 1000n);
 * let refused = "";
 * try {
 *   checkMaxTxFee(999n, "0.00000999", 1000n);
 * } catch (error) {
 *   refused = (error as Error).message;
 * }
 * if (!refused.startsWith("Invalid amount for -maxtxfee=<amount>: '0.00000999'")) throw new Error();
 * ```
 */
export function checkMaxTxFee(maxTxFee: bigint, given: string, relayMinFee: bigint): void {
  if (maxTxFee >= relayMinFee) return;
  throw new Error(
    `Invalid amount for -maxtxfee=<amount>: '${given}' (must be at least the minrelay fee of ${
      btcPerKvb(relayMinFee)
    } to prevent stuck transactions)`,
  );
}

/**
 * Throws Core's one-line refusal of a `-paytxfee` (`given` as written)
 * under the node's `-minrelaytxfee` (`relayMinFee`, sat/kvB).
 *
 * @example
 * ```ts
 * import { checkPayTxFee } from "./wallet_policy.ts";
 * checkPayTxFee(1000n, "0.00001", 1000n);
 * let refused = "";
 * try {
 *   checkPayTxFee(0n, "0", 1000n);
 * } catch (error) {
 *   refused = (error as Error).message;
 * }
 * if (refused !== "Invalid amount for -paytxfee=<amount>: '0' (must be at least 0.00001000 BTC/kvB)") {
 *   throw new Error(refused);
 * }
 * ```
 */
export function checkPayTxFee(payTxFee: bigint, given: string, relayMinFee: bigint): void {
  if (payTxFee >= relayMinFee) return;
  throw new Error(
    `Invalid amount for -paytxfee=<amount>: '${given}' (must be at least ${
      btcPerKvb(relayMinFee)
    })`,
  );
}

/** Core's `HIGH_TX_FEE_PER_KB` (sat/kvB): a fee rate option above it is warned about. */
const HIGH_TX_FEE_PER_KB = 1_000_000n;
/** Core's `HIGH_MAX_TX_FEE`, `HIGH_APS_FEE` (satoshis). */
const HIGH_MAX_TX_FEE = 100n * HIGH_TX_FEE_PER_KB;
const HIGH_APS_FEE = 10_000n;

/**
 * The warnings Core's `CWallet::Create` answers a wallet load or creation
 * with, in its order, for `policy` and the node's `-minrelaytxfee`
 * (`relayMinFee`, sat/kvB) when set very high. The defaults give none.
 *
 * @example
 * ```ts
 * import { DEFAULT_WALLET_POLICY, walletPolicyWarnings } from "./wallet_policy.ts";
 * const policy = { ...DEFAULT_WALLET_POLICY, maxTxFee: 200_000_000n };
 * const [warning] = walletPolicyWarnings(policy, 1000n);
 * if (!warning.startsWith("-maxtxfee is set very high!")) throw new Error(warning);
 * if (walletPolicyWarnings(DEFAULT_WALLET_POLICY, 1000n).length !== 0) throw new Error();
 * ```
 */
export function walletPolicyWarnings(policy: WalletPolicy, relayMinFee: bigint): string[] {
  const high = (option: string, why: string) => `-${option} is set very high! ${why}`;
  return [
    policy.minTxFee > HIGH_TX_FEE_PER_KB &&
    high("mintxfee", "This is the minimum transaction fee you pay on every transaction."),
    policy.maxApsFee > HIGH_APS_FEE && high(
      "maxapsfee",
      "This is the maximum transaction fee you pay (in addition to the normal fee) to prioritize partial spend avoidance over regular coin selection.",
    ),
    policy.fallbackFee > HIGH_TX_FEE_PER_KB && high(
      "fallbackfee",
      "This is the transaction fee you may pay when fee estimates are not available.",
    ),
    policy.discardFee > HIGH_TX_FEE_PER_KB && high(
      "discardfee",
      "This is the transaction fee you may discard if change is smaller than dust at this level",
    ),
    policy.payTxFeeGiven !== undefined &&
    "-paytxfee is deprecated and will be fully removed in v31.0.",
    policy.payTxFee > HIGH_TX_FEE_PER_KB &&
    high("paytxfee", "This is the transaction fee you will pay if you send a transaction."),
    policy.maxTxFee > HIGH_MAX_TX_FEE &&
    high("maxtxfee", "Fees this large could be paid on a single transaction."),
    relayMinFee > HIGH_TX_FEE_PER_KB &&
    high("minrelaytxfee", "The wallet will avoid paying less than the minimum relay fee."),
  ].filter((warning): warning is string => warning !== false);
}
