/**
 * The wallet process's options, bitcoind's names: `-wallet=<name>`
 * (repeatable: the wallets to load at start, created when missing),
 * `-fallbackfee=<BTC/kvB>` (0, regtest's default, disables it),
 * `-keypool=<n>` (the scripts each chain watches past its next index),
 * `-mocktime=<n>` (the wallets' clock held from the start, as the node's
 * `-mocktime` holds its own), `-walletdir=<dir>` (where the wallets live,
 * as Core checks it, used as given: the process must be granted that path,
 * which under the sandbox is a view of the directory), and
 * `-ipcconnect=unix[:path]`, the node to attach to, `-ipccookiefile=<path>`,
 * the node's IPC cookie to present there, and `-ipcreattach`: when the node
 * goes, wait for it and attach again (without it the process exits, for
 * its supervisor to decide). `-walletnotify=<cmd>` is run as bitcoind runs
 * it, by the process itself, or by its launcher when it is sandboxed.
 *
 * With `-rpcport=<port>` the process also serves the wallet's JSON-RPC
 * itself, on 127.0.0.1 and ::1 only, with its own credentials: a cookie
 * written to `<datadir>/regtest/.cookie` (or `-rpccookiefile`), or
 * `-rpcuser`/`-rpcpassword`, and `-rpcauth`. Without it the process opens
 * no network socket. `-rpcbind` and `-rpcallowip` are refused: a process
 * holding keys is not exposed beyond the machine.
 *
 * @example
 * ```ts
 * import { parseWalletArgs } from "./options.ts";
 * const options = parseWalletArgs(["-wallet=a", "-wallet=b", "-fallbackfee=0.0002"]);
 * if (options.wallets.join() !== "a,b" || options.policy.fallbackFee !== 20_000n) throw new Error();
 * // A bad wallet option refuses each wallet load and creation, not the process's start (Core's).
 * const { policyRefusal } = parseWalletArgs(["-fallbackfee=abc", "-paytxfee=0.000005"]);
 * const refused = policyRefusal(1000n);
 * if (refused !== "Invalid amount for -fallbackfee=<amount>: 'abc'") throw new Error(refused!);
 * // -paytxfee is checked against the node's relay minimum in the same pass, in Core's order.
 * const { policyRefusal: low } = parseWalletArgs(["-paytxfee=0.000005", "-maxtxfee=abc"]);
 * if (!low(1000n)?.startsWith("Invalid amount for -paytxfee=<amount>: '0.000005'")) throw new Error();
 * if (low(100n) !== "Invalid amount for -maxtxfee=<amount>: 'abc'") throw new Error();
 * // Core's reading of -keypool: a negation is 0, and the pool at least 1.
 * if (parseWalletArgs(["-nokeypool"]).keypool !== 1) throw new Error("-nokeypool");
 * ```
 * @module
 */
import { isAbsolute } from "node:path";
import { atoi, interpretBool, keypoolSize, walletDirOf } from "../bitcoin/options.ts";
import { checkMockTime } from "../bitcoin/clock.ts";
import type { NotifierOutbox } from "../notify/outbox.ts";
import type { Chain } from "../../schemas/gen/ipc/chain.mp.ts";
import {
  readWalletPolicy,
  WALLET_POLICY_OPTIONS,
  type WalletPolicy,
} from "../bitcoin/wallet_policy.ts";

/** What the wallet process was asked for. */
export interface WalletOptions {
  readonly wallets: string[];
  /** `-keypool`, or undefined for the wallet's default. */
  readonly keypool?: number;
  /** `-mocktime`: the time the wallets' clock is held at from the start (0: the system's). */
  readonly mockTime: number;
  /** `-walletdir`: where the wallets live (an existing directory); `<datadir>/wallets` by default. */
  readonly walletDir?: string;
  /** `-addresstype`, `-changetype`, `-mintxfee`, `-fallbackfee`, `-maxtxfee`, ... */
  readonly policy: WalletPolicy;
  /**
   * Core's refusal of a bad one of those (the defaults are in `policy`
   * then), read in one pass with the node's relay minimum (sat/kvB) as
   * `CWallet::Create` reads them; null when none.
   */
  readonly policyRefusal: (relayMinFee: bigint) => string | null;
  /** Whether `-walletbroadcast` was given (a node's `-blocksonly` then leaves it be). */
  readonly broadcastGiven: boolean;
  /** `-ipcconnect`'s address, or null. */
  readonly connect: string | null;
  /** `-ipccookiefile`: the node's IPC cookie to present, or null (beside its socket). */
  readonly cookieFile: string | null;
  /** `-ipcreattach`: wait for a node that went and attach again, instead of exiting. */
  readonly reattach: boolean;
  /** The wallet's own JSON-RPC server (`-rpcport`), or null: no network socket. */
  readonly rpc: WalletRpcServerOptions | null;
  /** `-walletnotify`: the command run when a wallet transaction is added or changes; null: none. */
  readonly walletNotify: string | null;
  /** Where the wallets' log lines go (set by the process, not an option). */
  readonly log?: (line: string) => void;
  /** Where the wallets tell of their transactions (set by the process, not an option). */
  readonly notifications?: NotifierOutbox;
}

/** The wallet's own JSON-RPC server, bitcoind's option names. */
export interface WalletRpcServerOptions {
  /** `-rpcport`, 1–65535. */
  readonly port: number;
  /** `-rpcuser`; "" when unset. */
  readonly user: string;
  /** `-rpcpassword`; "" when unset (a cookie then). */
  readonly password: string;
  /** `-rpcauth` entries. */
  readonly rpcauth: readonly string[];
  /** `-rpccookiefile` (relative to `<datadir>/regtest`); false for `-norpccookiefile`. */
  readonly cookieFile: string | false;
}

/** A wallet policy option (`components/bitcoin/wallet_policy.ts`): its negation, name and value. */
const POLICY_ARG = new RegExp(
  `^--?(no)?(${WALLET_POLICY_OPTIONS.map((option) => option.name).join("|")})(?:=(.*))?$`,
);

/** Why the wallet refuses `-rpcbind` and `-rpcallowip`. */
const LOOPBACK_ONLY = "the wallet's JSON-RPC listens on 127.0.0.1 and ::1 only";

/**
 * Reads the wallet options from `args`; throws a one-line error for a bad
 * value, but a bad wallet policy value is told by `policyRefusal` (each
 * wallet load and creation is refused with it, as Core's).
 */
export function parseWalletArgs(args: readonly string[]): WalletOptions {
  const wallets: string[] = [];
  let keypool: number | undefined;
  let connect: string | null = null;
  let cookieFile: string | null = null;
  let reattach = false;
  let walletNotify: string | null = null;
  let mockTime = 0;
  let walletDir: string | undefined;
  let port: number | null = null;
  const rpc = {
    user: "",
    password: "",
    rpcauth: [] as string[],
    cookieFile: ".cookie" as string | false,
  };
  const policyValues = new Map<string, string | false>();
  for (const arg of args) {
    const policyArg = POLICY_ARG.exec(arg);
    if (policyArg !== null) {
      const [, negated, name, value = ""] = policyArg;
      // Core's -noname=0 reads as name=1.
      policyValues.set(name, negated === undefined ? value : interpretBool(value) ? false : "1");
      continue;
    }
    // Core reads any -keypool as a number: a negation or no value is 0, hence 1.
    const pool = /^--?(no)?keypool(?:=(.*))?$/.exec(arg);
    if (pool !== null) {
      keypool = keypoolSize(pool[1] === undefined ? pool[2] ?? "" : false);
      continue;
    }
    const flag = /^--?(no)?ipcreattach(?:=([01]))?$/.exec(arg);
    if (flag !== null) {
      reattach = (flag[1] === undefined) === (flag[2] !== "0");
      continue;
    }
    if (/^--?nowalletnotify(=1)?$/.test(arg)) {
      walletNotify = null;
      continue;
    }
    if (/^--?norpccookiefile(=1)?$/.test(arg)) {
      rpc.cookieFile = false;
      continue;
    }
    const refused = /^--?(rpcbind|rpcallowip)(=|$)/.exec(arg);
    if (refused !== null) throw new Error(`-${refused[1]}: ${LOOPBACK_ONLY}`);
    const match =
      /^--?(wallet|ipcconnect|ipccookiefile|rpcport|rpcuser|rpcpassword|rpcauth|rpccookiefile|walletnotify|mocktime|walletdir)=(.*)$/
        .exec(arg);
    if (match === null) continue;
    const [, name, value] = match;
    if (name === "rpcport") {
      port = /^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535
        ? Number(value)
        : null;
      if (port === null) throw new Error(`Invalid port specified in -rpcport: '${value}'`);
    } else if (name === "rpcuser") rpc.user = value;
    else if (name === "rpcpassword") rpc.password = value;
    else if (name === "rpcauth") rpc.rpcauth.push(value);
    else if (name === "rpccookiefile") rpc.cookieFile = value;
    else if (name === "wallet") wallets.push(value);
    else if (name === "ipcconnect") connect = value;
    else if (name === "ipccookiefile") cookieFile = value;
    else if (name === "walletnotify") walletNotify = value === "" ? null : value;
    else if (name === "walletdir") {
      // Core's checks; a relative path is refused before it is looked for (this process may not
      // read its working directory).
      if (!isAbsolute(value)) throw new Error(`Specified -walletdir "${value}" is a relative path`);
      walletDir = walletDirOf(value, "/");
    } else {
      // -mocktime: Core's GetIntArg, held to setmocktime's range.
      mockTime = atoi(value);
      checkMockTime(mockTime);
    }
  }
  // -paytxfee and -maxtxfee are checked against the node's -minrelaytxfee at each load; this
  // process does not know it yet.
  const read = (name: string) => policyValues.get(name);
  const { policy } = readWalletPolicy(read, 0n);
  return {
    wallets,
    walletNotify,
    keypool,
    mockTime,
    walletDir,
    policy,
    policyRefusal: (relayMinFee) => readWalletPolicy(read, relayMinFee).refusal,
    broadcastGiven: policyValues.has("walletbroadcast"),
    connect,
    cookieFile,
    reattach,
    rpc: port === null ? null : { ...rpc, port },
  };
}

/**
 * Core's `WalletInit::ParameterInteraction` for a process attached to a
 * node, whose options it reads with `Chain.getSetting` (it shares no
 * argument list with it): the node's `-blocksonly` soft-sets
 * `-walletbroadcast=0`, logged in Core's words; a `-walletbroadcast` given
 * to the wallet wins, and so does the node's own `-walletbroadcast=1`.
 *
 * @example
 * ```ts
 * import { parseWalletArgs, withNodeInteractions } from "./options.ts";
 * const blocksOnly = { getSetting: (name: string) => name === "blocksonly" ? '""' : "null" };
 * const soft = await withNodeInteractions(parseWalletArgs([]), blocksOnly);
 * if (soft.policy.broadcast) throw new Error("-blocksonly soft-sets -walletbroadcast=0");
 * const given = await withNodeInteractions(parseWalletArgs(["-walletbroadcast"]), blocksOnly);
 * if (!given.policy.broadcast) throw new Error("a -walletbroadcast given wins");
 * const nodeSays = { getSetting: (name: string) => name === "blocksonly" ? "true" : '"1"' };
 * const node = await withNodeInteractions(parseWalletArgs([]), nodeSays);
 * if (!node.policy.broadcast) throw new Error("the node's -walletbroadcast=1 wins too");
 * ```
 */
export async function withNodeInteractions(
  options: WalletOptions,
  chain: Pick<Chain, "getSetting">,
): Promise<WalletOptions> {
  if (options.broadcastGiven) return options;
  // Core's SettingToBool of the JSON SettingsValue: unset is the default.
  const setting = async (name: string, unset: boolean) => {
    const value: unknown = JSON.parse(await chain.getSetting(name));
    return typeof value === "string"
      ? interpretBool(value)
      : value === null
      ? unset
      : value === true;
  };
  if (!await setting("blocksonly", false)) return options;
  // The soft-set fails when the node was given -walletbroadcast=1 (one argument list in Core).
  if (await setting("walletbroadcast", false)) return options;
  options.log?.(
    "ParameterInteraction: parameter interaction: -blocksonly=1 -> setting -walletbroadcast=0",
  );
  return { ...options, policy: { ...options.policy, broadcast: false } };
}
