/**
 * The mempool's options, as Bitcoin Core v30 reads them: their
 * declarations ({@linkcode MEMPOOL_OPTIONS}: help, category, debug-only as
 * Core's) and the {@linkcode MempoolPolicy} they come to
 * ({@linkcode mempoolPolicyOf}, Core's `ApplyArgsManOptions` of
 * `node/mempool_args.cpp`, the `-blockmintxfee` check of `init.cpp` and
 * the size check of `CTxMemPool`), failing with Core's startup errors.
 *
 * @example
 * ```ts
 * import { Args } from "../args.ts";
 * import { MEMPOOL_OPTIONS, mempoolPolicyOf } from "./options.ts";
 * const args = new Args(MEMPOOL_OPTIONS);
 * args.parseCommandLine(["-maxmempool=50", "-minrelaytxfee=0.00001", "-nodatacarrier"]);
 * const policy = mempoolPolicyOf(args, []);
 * if (policy.maxMempoolBytes !== 50_000_000) throw new Error("maxmempool");
 * if (policy.minRelayFeeRate !== 1000n || policy.maxDatacarrierBytes !== 0) throw new Error();
 * ```
 * @module
 */
import type { Args, ArgSpec } from "../args.ts";
import { amountArg, type Notice, StartupError } from "../config.ts";
import { COIN, formatMoney } from "../../bitcoin/amount.ts";
import { DEFAULT_MEMPOOL_POLICY, type MempoolPolicy } from "./defaults.ts";

const DEFAULTS = DEFAULT_MEMPOOL_POLICY;

/** The mempool's options, with Bitcoin Core v30's help texts and defaults. */
export const MEMPOOL_OPTIONS: readonly ArgSpec[] = [
  {
    name: "maxmempool",
    param: "=<n>",
    help: `Keep the transaction memory pool below <n> megabytes (default: ${
      DEFAULTS.maxMempoolBytes / 1_000_000
    })`,
    category: "options",
  },
  {
    name: "persistmempoolv1",
    help:
      "Whether a mempool.dat file created by -persistmempool or the savemempool RPC will be written in the legacy format (version 1) or the current format (version 2). This temporary option will be removed in the future. (default: 0)",
    category: "options",
  },
  {
    name: "mempoolexpiry",
    param: "=<n>",
    help: `Do not keep transactions in the mempool longer than <n> hours (default: ${
      DEFAULTS.expirySeconds / 3600
    })`,
    category: "options",
  },
  {
    name: "limitancestorcount",
    param: "=<n>",
    help:
      `Do not accept transactions if number of in-mempool ancestors is <n> or more (default: ${DEFAULTS.ancestorCount})`,
    category: "debug",
    debugOnly: true,
  },
  {
    name: "limitancestorsize",
    param: "=<n>",
    help:
      `Do not accept transactions whose size with all in-mempool ancestors exceeds <n> kilobytes (default: ${
        DEFAULTS.ancestorSizeVbytes / 1000
      })`,
    category: "debug",
    debugOnly: true,
  },
  {
    name: "limitdescendantcount",
    param: "=<n>",
    help:
      `Do not accept transactions if any ancestor would have <n> or more in-mempool descendants (default: ${DEFAULTS.descendantCount})`,
    category: "debug",
    debugOnly: true,
  },
  {
    name: "limitdescendantsize",
    param: "=<n>",
    help:
      `Do not accept transactions if any ancestor would have more than <n> kilobytes of in-mempool descendants (default: ${
        DEFAULTS.descendantSizeVbytes / 1000
      }).`,
    category: "debug",
    debugOnly: true,
  },
  {
    name: "acceptnonstdtxn",
    help: `Relay and mine "non-standard" transactions (test networks only; default: ${
      Number(!DEFAULTS.requireStandard)
    })`,
    category: "relay",
    debugOnly: true,
  },
  {
    name: "incrementalrelayfee",
    param: "=<amt>",
    help:
      `Fee rate (in BTC/kvB) used to define cost of relay, used for mempool limiting and replacement policy. (default: ${
        formatMoney(DEFAULTS.incrementalRelayFeeRate)
      })`,
    category: "relay",
    debugOnly: true,
  },
  {
    name: "dustrelayfee",
    param: "=<amt>",
    help:
      `Fee rate (in BTC/kvB) used to define dust, the value of an output such that it will cost more than its value in fees at this fee rate to spend it. (default: ${
        formatMoney(DEFAULTS.dustRelayFeeRate)
      })`,
    category: "relay",
    debugOnly: true,
  },
  {
    name: "bytespersigop",
    help:
      `Equivalent bytes per sigop in transactions for relay and mining (default: ${DEFAULTS.bytesPerSigop})`,
    category: "relay",
  },
  {
    name: "datacarrier",
    help: "(DEPRECATED) Relay and mine data carrier transactions (default: 1)",
    category: "relay",
  },
  {
    name: "datacarriersize",
    help:
      "(DEPRECATED) Relay and mine transactions whose data-carrying raw scriptPubKeys in aggregate " +
      `are of this size or less, allowing multiple outputs (default: ${DEFAULTS.maxDatacarrierBytes})`,
    category: "relay",
  },
  {
    name: "permitbaremultisig",
    help: `Relay transactions creating non-P2SH multisig outputs (default: ${
      Number(DEFAULTS.permitBareMultisig)
    })`,
    category: "relay",
  },
  {
    name: "minrelaytxfee",
    param: "=<amt>",
    help:
      `Fees (in BTC/kvB) smaller than this are considered zero fee for relaying, mining and transaction creation (default: ${
        formatMoney(DEFAULTS.minRelayFeeRate)
      })`,
    category: "relay",
  },
  {
    name: "blockmintxfee",
    param: "=<amt>",
    help:
      `Set lowest fee rate (in BTC/kvB) for transactions to be included in block creation. (default: ${
        formatMoney(DEFAULTS.blockMinFeeRate)
      })`,
    category: "blockcreation",
  },
];

/** `CFeeRate::ToString()`: `<btc>.<8 digits> BTC/kvB`. */
function feeRateText(perKvb: bigint): string {
  return `${perKvb / COIN}.${String(perKvb % COIN).padStart(8, "0")} BTC/kvB`;
}

/** An integer option read into C++'s `unsigned int` (Core's `-bytespersigop`, `-datacarriersize`). */
function unsignedInt(args: Args, name: string, fallback: number): number {
  return Number(BigInt.asUintN(32, BigInt(args.getInt(name, fallback))));
}

/**
 * The mempool policy `args` set, starting from Core v30's defaults and in
 * Core's order: `-blockmintxfee`'s check, the amounts (an unset
 * `-minrelaytxfee` raised to a higher `-incrementalrelayfee`, logged as
 * Core logs it), `-datacarrier`/`-datacarriersize` (their deprecation
 * warned of), standardness, the package limits (sizes in kvB); the size
 * check is {@linkcode checkMempoolSize}'s. Lines to log go to
 * `notices`; a bad value throws {@linkcode StartupError} with Core's text.
 *
 * @example
 * ```ts
 * import { Args } from "../args.ts";
 * import type { Notice } from "../config.ts";
 * import { MEMPOOL_OPTIONS, mempoolPolicyOf } from "./options.ts";
 * const args = new Args(MEMPOOL_OPTIONS);
 * args.parseCommandLine(["-incrementalrelayfee=0.00002", "-limitancestorsize=50"]);
 * const notices: Notice[] = [];
 * const policy = mempoolPolicyOf(args, notices);
 * if (policy.minRelayFeeRate !== 2000n || policy.ancestorSizeVbytes !== 50_000) throw new Error();
 * const expected = "Increasing minrelaytxfee to 0.00002000 BTC/kvB to match incrementalrelayfee";
 * if (notices[0]?.message !== expected) throw new Error(JSON.stringify(notices));
 * ```
 */
export function mempoolPolicyOf(args: Args, notices: Notice[]): MempoolPolicy {
  const blockMinFeeRate = amountArg(args, "blockmintxfee") ?? DEFAULTS.blockMinFeeRate;
  const policy: MempoolPolicy = { ...DEFAULTS, blockMinFeeRate };
  if (args.isSet("datacarrier") || args.isSet("datacarriersize")) {
    const message = "Options '-datacarrier' or '-datacarriersize' are set but are marked as " +
      "deprecated. They will be removed in a future version.";
    notices.push({ level: "warning", message, stderr: `Warning: ${message}\n` });
  }
  if (args.isSet("maxmempool")) policy.maxMempoolBytes = args.getInt("maxmempool", 0) * 1_000_000;
  if (args.isSet("mempoolexpiry")) policy.expirySeconds = args.getInt("mempoolexpiry", 0) * 3600;
  policy.incrementalRelayFeeRate = amountArg(args, "incrementalrelayfee") ??
    policy.incrementalRelayFeeRate;
  const minRelayFeeRate = amountArg(args, "minrelaytxfee");
  if (minRelayFeeRate !== undefined) policy.minRelayFeeRate = minRelayFeeRate;
  else if (policy.incrementalRelayFeeRate > policy.minRelayFeeRate) {
    // Core lets -incrementalrelayfee alone set both.
    policy.minRelayFeeRate = policy.incrementalRelayFeeRate;
    notices.push({
      level: "info",
      message: `Increasing minrelaytxfee to ${
        feeRateText(policy.minRelayFeeRate)
      } to match incrementalrelayfee`,
    });
  }
  policy.dustRelayFeeRate = amountArg(args, "dustrelayfee") ?? policy.dustRelayFeeRate;
  policy.permitBareMultisig = args.getBool("permitbaremultisig", DEFAULTS.permitBareMultisig);
  // -nodatacarrier: no OP_RETURN output at all (Core's nullopt, a budget of 0 bytes).
  policy.maxDatacarrierBytes = args.getBool("datacarrier", true)
    ? unsignedInt(args, "datacarriersize", DEFAULTS.maxDatacarrierBytes)
    : 0;
  // Regtest is a test chain: -acceptnonstdtxn is allowed.
  policy.requireStandard = !args.getBool("acceptnonstdtxn", !DEFAULTS.requireStandard);
  policy.bytesPerSigop = unsignedInt(args, "bytespersigop", DEFAULTS.bytesPerSigop);
  policy.persistV1Dat = args.getBool("persistmempoolv1", DEFAULTS.persistV1Dat);
  policy.ancestorCount = args.getInt("limitancestorcount", DEFAULTS.ancestorCount);
  if (args.isSet("limitancestorsize")) {
    policy.ancestorSizeVbytes = args.getInt("limitancestorsize", 0) * 1000;
  }
  policy.descendantCount = args.getInt("limitdescendantcount", DEFAULTS.descendantCount);
  if (args.isSet("limitdescendantsize")) {
    policy.descendantSizeVbytes = args.getInt("limitdescendantsize", 0) * 1000;
  }
  return policy;
}

/**
 * `CTxMemPool`'s own check, made when the node builds its mempool (after
 * `-daemon` forks, the data directory locked and the log open, as Core's):
 * the mempool must hold 40 descendant packages of the largest size;
 * {@linkcode StartupError} with Core's text otherwise.
 *
 * @example
 * ```ts
 * import { DEFAULT_MEMPOOL_POLICY } from "./defaults.ts";
 * import { checkMempoolSize } from "./options.ts";
 * checkMempoolSize(DEFAULT_MEMPOOL_POLICY);
 * let refused = "";
 * try {
 *   checkMempoolSize({ ...DEFAULT_MEMPOOL_POLICY, maxMempoolBytes: 1_000_000 });
 * } catch (error) {
 *   refused = (error as Error).message;
 * }
 * if (refused !== "-maxmempool must be at least 5 MB") throw new Error(refused);
 * ```
 */
export function checkMempoolSize(policy: MempoolPolicy): void {
  const descendantLimitBytes = policy.descendantSizeVbytes * 40;
  if (policy.maxMempoolBytes < 0 || policy.maxMempoolBytes < descendantLimitBytes) {
    throw new StartupError(
      `-maxmempool must be at least ${Math.ceil(descendantLimitBytes / 1_000_000)} MB`,
    );
  }
}
