/**
 * The node's options, read as `bitcoind -regtest` reads them: the command
 * line, then `bitcoin.conf` (or `-conf`) with its `[regtest]` section and
 * `includeconf` files, chain selection, and Core's startup checks, each
 * failing with the line Bitcoin Core prints (`Error: …`, exit status 1).
 * Only regtest runs: any other chain, none given included (bitcoind then
 * means main), is refused with one line saying to pass `-regtest`.
 *
 * {@linkcode parseNodeArgs} is pure but for reading the configuration
 * files; creating `<datadir>/regtest/` is left to the process shell.
 *
 * @example
 * ```ts
 * import { parseNodeArgs } from "./options.ts";
 * const datadir = Deno.makeTempDirSync();
 * const started = parseNodeArgs(["-regtest", `-datadir=${datadir}`, "-rpcport=18500"]);
 * if (started.kind !== "run") throw new Error("expected options");
 * if (started.options.rpc.port !== 18500) throw new Error("rpcport");
 * if (started.options.netDir !== `${datadir}/regtest`) throw new Error("netDir");
 * Deno.removeSync(datadir, { recursive: true });
 * ```
 * @module
 */
import { keypoolSize, walletDirOf } from "../bitcoin/options.ts";
import {
  readWalletPolicy,
  WALLET_POLICY_OPTIONS,
  type WalletPolicy,
} from "../bitcoin/wallet_policy.ts";
import { checkMockTime } from "../bitcoin/clock.ts";
import { fromUserHex } from "../bitcoin/options.ts";
import { type NotifyCommands, notifyCommandsOf } from "../notify/commands.ts";
import {
  DEFAULT_ZMQ_SNDHWM,
  zmqEndpoint,
  type ZmqNotifier,
  zmqNotifiersOf,
} from "./zmq/options.ts";
import { absolutePath, Args, ArgsError, type ArgSpec, compatibilityHelp } from "./args.ts";
import { DEFAULT_BAN_TIME } from "./net/banman.ts";
import {
  checkNetParameters,
  NET_OPTIONS,
  type NetOptions,
  netOptionsOf,
  netParameterInteraction,
  parsePort,
} from "./net/options.ts";
import { MEMPOOL_OPTIONS, mempoolPolicyOf } from "./mempool/options.ts";
import { checkInertOptions, INERT_OPTIONS, REFUSED_OPTIONS } from "./inert_options.ts";
import {
  type BlockAssembly,
  DEFAULT_BLOCK_MAX_WEIGHT,
  DEFAULT_BLOCK_RESERVED_WEIGHT,
  MAX_BLOCK_WEIGHT,
  MINIMUM_BLOCK_RESERVED_WEIGHT,
} from "./chain/assembly.ts";
import type { MempoolPolicy } from "./mempool/defaults.ts";
import { type IbdOptions, MAX_TIP_AGE } from "./ipc/ibd.ts";
import {
  HIDDEN,
  KNOWN_CHAINS,
  loadConfig,
  look,
  type Notice,
  quoted,
  type StartupEnvironment,
  StartupError,
} from "./config.ts";

export { type Notice, type StartupEnvironment, StartupError } from "./config.ts";

/** The node's version, as `-version` prints it. */
export const NODE_VERSION = "0.1.0";

/** What the node calls itself in `-help`, `-version` and the log. */
export const NODE_NAME = "capdeno node";

/** The one chain this node runs. */
export const CHAIN = "regtest";

/** Regtest's JSON-RPC port. */
export const DEFAULT_RPC_PORT = 18443;

/**
 * Bitcoin Core v30's logging categories (`-debug=<category>`); the node
 * accepts them all and logs in those its parts use (`ipc`, `rpc`, …).
 */
export const LOG_CATEGORIES: readonly string[] = [
  "addrman",
  "bench",
  "blockstorage",
  "cmpctblock",
  "coindb",
  "estimatefee",
  "http",
  "i2p",
  "ipc",
  "kernel",
  "leveldb",
  "libevent",
  "mempool",
  "mempoolrej",
  "net",
  "prune",
  "proxy",
  "qt",
  "rand",
  "reindex",
  "rpc",
  "scan",
  "selectcoins",
  "tor",
  "txpackages",
  "txreconciliation",
  "validation",
  "walletdb",
  "zmq",
];

/** How detailed a category's debug logging is. */
export type DebugLevel = "trace" | "debug" | "info";

/** Which debug lines are logged (`-debug`, `-debugexclude`, `-loglevel`). */
export interface LogSettings {
  /** Categories whose debug lines are logged. */
  readonly categories: ReadonlySet<string>;
  /** The level for enabled categories without their own (`-loglevel=<level>`; debug by default). */
  readonly level: DebugLevel;
  /** Per-category levels (`-loglevel=<category>:<level>`). */
  readonly categoryLevels: ReadonlyMap<string, DebugLevel>;
}

const LEVELS: readonly DebugLevel[] = ["info", "debug", "trace"];

/** `-debug=<category>` values meaning every category. */
const ALL_CATEGORIES = new Set(["", "1", "all"]);

/**
 * The log settings of `-debug`, `-debugexclude` and `-loglevel` values, as
 * Core's `SetLoggingCategories` and `SetLoggingLevel`; throws
 * {@linkcode StartupError} with Core's text for an unknown category or level.
 *
 * @example
 * ```ts
 * import { parseLogSettings } from "./options.ts";
 * const settings = parseLogSettings(["rpc", "0", "ipc"], [], ["ipc:trace"]);
 * if (settings.categories.has("rpc") || !settings.categories.has("ipc")) throw new Error();
 * if (settings.categoryLevels.get("ipc") !== "trace") throw new Error();
 * ```
 */
export function parseLogSettings(
  debug: readonly string[],
  exclude: readonly string[],
  logLevels: readonly string[],
): LogSettings {
  const categories = new Set<string>();
  // Categories before the last -debug=0 (or none) are disregarded.
  const last = debug.findLastIndex((category) => category === "0" || category === "none");
  for (const category of debug.slice(last + 1)) {
    if (ALL_CATEGORIES.has(category)) LOG_CATEGORIES.forEach((c) => categories.add(c));
    else if (LOG_CATEGORIES.includes(category)) categories.add(category);
    else throw new StartupError(`Unsupported logging category -debug=${category}.`);
  }
  for (const category of exclude) {
    if (ALL_CATEGORIES.has(category)) categories.clear();
    else if (LOG_CATEGORIES.includes(category)) categories.delete(category);
    else throw new StartupError(`Unsupported logging category -debugexclude=${category}.`);
  }
  let level: DebugLevel = "debug";
  const categoryLevels = new Map<string, DebugLevel>();
  const levelNames = LEVELS.join(", ");
  for (const text of logLevels) {
    if (text.indexOf(":", 3) < 0) {
      if (!LEVELS.includes(text as DebugLevel)) {
        throw new StartupError(
          `Unsupported global logging level -loglevel=${text}. Valid values: ${levelNames}.`,
        );
      }
      level = text as DebugLevel;
      continue;
    }
    const parts = text.split(":");
    const [category, value] = parts;
    if (
      parts.length !== 2 || !LOG_CATEGORIES.includes(category) ||
      !LEVELS.includes(value as DebugLevel)
    ) {
      throw new StartupError(
        `Unsupported category-specific logging level -loglevel=${text}. Expected ` +
          `-loglevel=<category>:<loglevel>. Valid categories: ${LOG_CATEGORIES.join(", ")}. ` +
          `Valid loglevels: ${levelNames}.`,
      );
    }
    categoryLevels.set(category, value as DebugLevel);
  }
  return { categories, level, categoryLevels };
}

/** An address and port the JSON-RPC server binds. */
export interface RpcEndpoint {
  /** IPv4 or IPv6 address (without brackets) or host name. */
  host: string;
  /** The TCP port. */
  port: number;
}

/** JSON-RPC settings, as bitcoind reads them. */
export interface RpcOptions {
  /** `-rpcport`, validated (1–65535). */
  port: number;
  /**
   * Where to listen: `::1` and `127.0.0.1` on `port`, unless both
   * `-rpcbind` and `-rpcallowip` are given (bitcoind's rule).
   */
  endpoints: RpcEndpoint[];
  /** `-rpcallowip` values, unparsed. */
  allowIp: string[];
  /** `-rpcbind` values, ports validated. */
  bind: string[];
  /** `-rpcuser`; "" when unset. */
  user: string;
  /** `-rpcpassword`; "" when unset (cookie authentication then). */
  password: string;
  /** `-rpcauth` entries (`user:salt$hmac`), checked when the server starts. */
  rpcauth: string[];
  /** `-rpcwhitelist` entries (`user:method,method`). */
  whitelist: string[];
  /** `-rpcwhitelistdefault`; undefined when not given (on once any whitelist is given). */
  whitelistDefault: boolean | undefined;
  /** Absolute path of the cookie (`<datadir>/regtest/.cookie` by default); null with `-norpccookiefile`. */
  cookieFile: string | null;
  /** The cookie's mode from `-rpccookieperms` (0o600, 0o640, 0o644); null for the default (owner only). */
  cookieMode: number | null;
  /** `-rpcthreads`, at least 1. */
  threads: number;
  /** `-rpcworkqueue`, at least 1. */
  workQueue: number;
  /** `-rpcservertimeout` in seconds. */
  serverTimeout: number;
  /** `-rpcdoccheck`: every result is checked against its method's documented shape. */
  docCheck: boolean;
  /** `-deprecatedrpc` values: deprecated behaviours turned back on (any name is accepted, as Core's). */
  deprecated: string[];
}

/** The IPC side: Bitcoin Core's `-ipcbind`, and the runtime's spawn options. */
export interface IpcOptions {
  /** `-ipcbind` addresses (`unix` is `<datadir>/regtest/node.sock`). */
  bind: string[];
  /** `-ipcfd`: the descriptor of the parent's socket when spawned; null otherwise. */
  fd: number | null;
  /** `-ipcconnect`, for the sandbox; null when unset or negated. */
  connect: string | null;
  /** `-lifeline`: stdin is the supervisor's control line. */
  lifeline: boolean;
}

/** Where log lines go. */
export interface LogOutputOptions {
  /** Absolute path of `debug.log`; null with `-nodebuglogfile`. */
  file: string | null;
  /** `-printtoconsole` (on by default, as for bitcoind). */
  console: boolean;
  /** `-logtimestamps` (on by default). */
  timestamps: boolean;
  /** `-logtimemicros`. */
  micros: boolean;
  /** `-shrinkdebugfile` (on by default when no `-debug` category is enabled). */
  shrinkOnStart: boolean;
}

/** The node's options after every startup check: the typed result of the command line and config. */
export interface NodeOptions {
  /** Always `regtest`. */
  chain: typeof CHAIN;
  /** The data directory, absolute (relative `-datadir` resolved against the working directory). */
  datadir: string;
  /** Whether `-datadir` was given (else `$HOME/.bitcoin`). */
  datadirGiven: boolean;
  /** `<datadir>/regtest`: chain files, `.lock`, `.cookie`, `debug.log`, `bitcoind.pid`, `node.sock`. */
  netDir: string;
  /** The configuration file's path ("" with `-noconf`). */
  configFile: string;
  /** The configuration files actually read, included ones after the main one. */
  configFilesRead: string[];
  /** Absolute path of the pid file; null with `-nopid`. */
  pidFile: string | null;
  /** Where log lines go. */
  log: LogOutputOptions;
  /** Which debug lines are logged. */
  logSettings: LogSettings;
  /** `-server` (on by default, as for bitcoind): serve JSON-RPC. */
  server: boolean;
  /** `-rest` (off by default): serve Core's REST interface under `/rest/` on the RPC port (with `-server`). */
  rest: boolean;
  /** JSON-RPC settings. */
  rpc: RpcOptions;
  /** IPC settings. */
  ipc: IpcOptions;
  /** `-wallet` names, for the wallet component. */
  wallets: string[];
  /** `-monolithic` (this project's): the wallets run in the node's process, not their own. */
  monolithic: boolean;
  /** `-disablewallet`: no wallet process, no wallet RPC methods. */
  disableWallet: boolean;
  /** `-keypool`, read as the wallets read it (`keypoolSize`); undefined when not given. */
  keypool: number | undefined;
  /** `-addresstype`, `-changetype`, `-mintxfee`, `-fallbackfee`, `-maxtxfee`, ...: the wallets'. */
  walletPolicy: WalletPolicy;
  /**
   * Core's refusal of a bad wallet option (the defaults are in
   * `walletPolicy` then): the node starts, and every wallet load and
   * creation fails with it, as Core's `CWallet::Create` checks them.
   */
  walletRefusal: string | null;
  /**
   * `-blocksonly`: transactions from peers would be refused (this node has
   * none); `getnetworkinfo`'s `localrelay` is false, and by Core's parameter
   * interactions `-maxmempool` defaults to 5 MB and `-walletbroadcast` to 0.
   */
  blocksOnly: boolean;
  /** `-mocktime`: the time the node's clock is held at from the start (0: the system's). */
  mockTime: number;
  /**
   * `-walletdir`: where the wallets the node runs itself (`-monolithic`)
   * live, checked as Core's `VerifyWallets` checks it (an existing
   * directory, given absolute), as given (the sandbox gives it a view of
   * the directory, a link); null: `<datadir>/regtest/wallets`.
   */
  walletDir: string | null;
  /** `-listen`: accepted; this node has no peer-to-peer network either way. */
  listen: boolean;
  /** The peer-to-peer options: the addnode list, `-networkactive`, `-uacomment`, `-onlynet`, ... */
  net: NetOptions;
  /** `-blockmaxweight`, `-blockreservedweight` and `-blockversion`: how blocks are assembled. */
  blockAssembly: BlockAssembly;
  /** `-stopatheight`: the node stops once a block at this height is connected (0: never). */
  stopAtHeight: number;
  /** `-minimumchainwork` and `-maxtipage`: what holds the node in initial block download. */
  ibd: IbdOptions;
  /** `-bantime`: the duration in seconds of a `setban` that gives none (86400 by default). */
  banTime: number;
  /** `-txindex`: getrawtransaction finds confirmed transactions without a block hash. */
  txindex: boolean;
  /** `-blockfilterindex`: the basic block filters are kept, for getblockfilter and scanblocks. */
  blockFilterIndex: boolean;
  /** The mempool's policy: `-maxmempool`, `-minrelaytxfee`, `-datacarriersize`, … (Core's defaults otherwise). */
  mempoolPolicy: MempoolPolicy;
  /** `-persistmempool`: the mempool is saved to `<datadir>/regtest/mempool.dat` on stop and loaded on start. */
  persistMempool: boolean;
  /** `-daemon` (or `-daemonwait`): run in the background, as `deno task node` starts it. */
  daemon: boolean;
  /** `-daemonwait`: the launcher returns once the node has started, with its outcome. */
  daemonWait: boolean;
  /**
   * `-daemonized` (set by `deno task node -daemon`): this node runs in the
   * background, and writes `1` on its standard output once started.
   */
  daemonized: boolean;
  /** `-startupnotify`, `-blocknotify`, `-walletnotify`, `-shutdownnotify`, `-alertnotify`: commands to run. */
  notify: NotifyCommands;
  /** `-zmqpub<type>=<address>` and their `…hwm`: the ZMQ notifiers, in Core's order. */
  zmq: ZmqNotifier[];
  /** The working directory the options were read in (a relative `ipc://` path is against it). */
  workingDirectory: string;
  /** Things to log once the log is open. */
  notices: Notice[];
  /** Every setting, for parts reading options not typed here (Core's accessors). */
  args: Args;
}

/**
 * Core's reading of `-blockfilterindex`: "" or 1 enables every filter type
 * (here `basic`, the only one), 0 (or a negation) none, and otherwise every
 * value given must name a type.
 */
function blockFilterIndexOption(args: Args): boolean {
  const value = args.get("blockfilterindex") ?? "0";
  if (value === "" || value === "1") return true;
  if (value === "0") return false;
  for (const name of args.getAll("blockfilterindex")) {
    if (name !== "basic") throw new StartupError(`Unknown -blockfilterindex value ${name}.`);
  }
  return true;
}

/**
 * Core's block assembly options (`ApplyArgsManOptions` of the
 * `BlockAssembler`), checked as `AppInitParameterInteraction` checks them;
 * `-blockversion` is regtest's (`MineBlocksOnDemand`), read as Core's
 * `int32_t` takes it.
 */
function blockAssemblyOf(args: Args): BlockAssembly {
  const maxWeight = args.getInt("blockmaxweight", DEFAULT_BLOCK_MAX_WEIGHT);
  if (maxWeight > MAX_BLOCK_WEIGHT) {
    throw new StartupError(
      `Specified -blockmaxweight (${maxWeight}) exceeds consensus maximum block weight (${MAX_BLOCK_WEIGHT})`,
    );
  }
  const reserved = args.getInt("blockreservedweight", DEFAULT_BLOCK_RESERVED_WEIGHT);
  if (reserved > MAX_BLOCK_WEIGHT) {
    throw new StartupError(
      `Specified -blockreservedweight (${reserved}) exceeds consensus maximum block weight (${MAX_BLOCK_WEIGHT})`,
    );
  }
  if (reserved < MINIMUM_BLOCK_RESERVED_WEIGHT) {
    throw new StartupError(
      `Specified -blockreservedweight (${reserved}) is lower than minimum safety value of (${MINIMUM_BLOCK_RESERVED_WEIGHT})`,
    );
  }
  const version = args.isSet("blockversion")
    ? Number(BigInt.asIntN(32, BigInt(args.getInt("blockversion", 0))))
    : undefined;
  return {
    // Core's size_t: a negative weight wraps to a huge one, which the assembler clamps.
    maxWeight: maxWeight < 0 ? MAX_BLOCK_WEIGHT : maxWeight,
    reservedWeight: args.isSet("blockreservedweight") ? reserved : undefined,
    version,
  };
}

/**
 * Core's `ApplyArgsManOptions` of the `ChainstateManager`, in its order and
 * with its texts: `-minimumchainwork` and `-assumevalid` (taken and ignored
 * here) read by `uint256::FromUserHex`, `-maxtipage` by `GetIntArg`.
 */
function ibdOptionsOf(args: Args): IbdOptions {
  const work = args.get("minimumchainwork") ?? "0";
  const minimumChainWork = fromUserHex(work);
  if (minimumChainWork === undefined) {
    throw new StartupError(`Invalid minimum work specified (${work}), must be up to 64 hex digits`);
  }
  const assumeValid = args.get("assumevalid");
  if (assumeValid !== undefined && fromUserHex(assumeValid) === undefined) {
    throw new StartupError(
      `Invalid assumevalid block hash specified (${assumeValid}), must be up to 64 hex digits (or 0 to disable)`,
    );
  }
  return { minimumChainWork, maxTipAge: args.getInt("maxtipage", MAX_TIP_AGE) };
}

/**
 * Whether the node itself runs notification commands (when not spawned):
 * its own (`-startupnotify`, `-blocknotify`, `-shutdownnotify`,
 * `-alertnotify`), and
 * `-walletnotify` when its wallets run in its process (`-monolithic`);
 * wallet processes run theirs.
 *
 * @example
 * ```ts
 * import { needsShell, parseNodeArgs } from "./options.ts";
 * const datadir = Deno.makeTempDirSync();
 * const run = (argv: string[]) => {
 *   const started = parseNodeArgs(["-regtest", `-datadir=${datadir}`, ...argv]);
 *   if (started.kind !== "run") throw new Error("expected options");
 *   return needsShell(started.options);
 * };
 * if (!run(["-blocknotify=true"]) || run(["-walletnotify=true"])) throw new Error();
 * if (!run(["-walletnotify=true", "-monolithic"])) throw new Error("-monolithic runs the wallets");
 * Deno.removeSync(datadir, { recursive: true });
 * ```
 */
export function needsShell(options: NodeOptions): boolean {
  const { notify } = options;
  return notify.startup !== null || notify.block !== null || notify.shutdown.length > 0 ||
    notify.alert !== null || (notify.wallet !== null && options.monolithic);
}

/** What starting with a command line comes to. */
export type NodeStartup =
  | { kind: "run"; options: NodeOptions }
  /** `-help` or `-version`: print `text` on stdout and exit with status 0. */
  | { kind: "print"; text: string };

const LISTEN_HELP = compatibilityHelp(
  "Accept connections from outside (default: 1 if no -proxy, -connect or -maxconnections=0)",
  "accepted, as this node has no peer-to-peer network",
);

/** The options this node accepts; their help is bitcoind's where they behave as bitcoind's. */
export const NODE_OPTIONS: readonly ArgSpec[] = [
  {
    name: "alertnotify",
    param: "=<cmd>",
    help: "Execute command when an alert is raised (%s in cmd is replaced by message)",
    category: "options",
  },
  {
    name: "allowignoredconf",
    help:
      "For backwards compatibility, treat an unused bitcoin.conf file in the datadir as a warning, not an error.",
    category: "options",
  },
  {
    name: "blockfilterindex",
    param: "=<type>",
    help:
      "Maintain an index of compact filters by block (default: 0, values: basic). If <type> is not supplied or if <type> = 1, indexes for all known types are enabled.",
    category: "options",
  },
  {
    name: "blocknotify",
    param: "=<cmd>",
    help: "Execute command when the best block changes (%s in cmd is replaced by block hash)",
    category: "options",
  },
  {
    name: "conf",
    param: "=<file>",
    help:
      "Specify path to read-only configuration file. Relative paths will be prefixed by datadir location (only useable from command line, not configuration file) (default: bitcoin.conf)",
    category: "options",
  },
  {
    name: "datadir",
    param: "=<dir>",
    help: "Specify data directory",
    category: "options",
    noNegation: true,
  },
  {
    name: "daemon",
    help: "Run in the background as a daemon and accept commands (default: 0)",
    category: "options",
  },
  {
    name: "daemonwait",
    help:
      "Wait for initialization to be finished before exiting. This implies -daemon (default: 0)",
    category: "options",
  },
  {
    name: "debuglogfile",
    param: "=<file>",
    help:
      "Specify location of debug log file (default: debug.log). Relative paths will be prefixed by a net-specific datadir location. Pass -nodebuglogfile to disable writing the log to a file.",
    category: "options",
  },
  { name: "help", help: "Print this help message and exit (also -h or -?)", category: "options" },
  {
    name: "includeconf",
    param: "=<file>",
    help:
      "Specify additional configuration file, relative to the -datadir path (only useable from configuration file, not command line)",
    category: "options",
  },
  {
    name: "minimumchainwork",
    param: "=<hex>",
    // Core v30's nMinimumChainWork of main, testnet3, testnet4 and signet (regtest's is 0).
    help:
      "Minimum work assumed to exist on a valid chain in hex (default: 0000000000000000000000000000000000000000dee8e2a309ad8a9820433c68, testnet3: 0000000000000000000000000000000000000000000016dd270dd94fac1d7632, testnet4: 00000000000000000000000000000000000000000000034a4690fe592dc49c7c, signet: 0000000000000000000000000000000000000000000000000000067d328e681a)",
    category: "options",
    debugOnly: true,
  },
  {
    name: "pid",
    param: "=<file>",
    help:
      "Specify pid file. Relative paths will be prefixed by a net-specific datadir location. (default: bitcoind.pid)",
    category: "options",
  },
  {
    name: "persistmempool",
    help: "Whether to save the mempool on shutdown and load on restart (default: 1)",
    category: "options",
  },
  {
    name: "shutdownnotify",
    param: "=<cmd>",
    help:
      "Execute command immediately before beginning shutdown. The need for shutdown may be urgent, so be careful not to delay it long (if the command doesn't require interaction with the server, consider having it fork into the background).",
    category: "options",
  },
  {
    name: "startupnotify",
    param: "=<cmd>",
    help: "Execute command on startup.",
    category: "options",
  },
  {
    name: "txindex",
    help: "Maintain a full transaction index, used by the getrawtransaction rpc call (default: 0)",
    category: "options",
  },
  { name: "version", help: "Print version and exit", category: "options" },
  {
    name: "bantime",
    param: "=<n>",
    help:
      `Default duration (in seconds) of manually configured bans (default: ${DEFAULT_BAN_TIME})`,
    category: "connection",
  },
  { name: "listen", help: LISTEN_HELP, category: "connection" },
  {
    name: "blocksonly",
    help:
      "Whether to reject transactions from network peers. Disables automatic broadcast and rebroadcast of transactions, unless the source peer has the 'forcerelay' permission. RPC transactions are not affected. (default: 0)",
    category: "options",
  },
  {
    name: "peerblockfilters",
    help:
      "Serve compact block filters to peers per BIP 157 (default: 0); accepted, as this node has no peers",
    category: "connection",
  },
  {
    name: "txconfirmtarget",
    param: "=<n>",
    help:
      "If paytxfee is not set, include enough fee so transactions begin confirmation on average within n blocks (default: 6); accepted, as this node keeps no fee estimates for it to choose among",
    category: "wallet",
  },
  {
    name: "keypool",
    param: "=<n>",
    help:
      "Set key pool size to <n> (default: 100; at most 10000). Warning: Smaller sizes may increase the risk of losing funds when restoring from an old backup, if none of the addresses in the original keypool have been used.",
    category: "wallet",
  },
  {
    name: "disablewallet",
    help: "Do not load the wallet and disable wallet RPC calls",
    category: "wallet",
  },
  {
    name: "monolithic",
    help:
      "Run the wallets (-wallet) in the node's own process instead of wallet processes attached over IPC (this node's option; default: 0)",
    category: "wallet",
  },
  {
    name: "wallet",
    param: "=<path>",
    help: compatibilityHelp(
      "Specify wallet path to load at startup. Can be used multiple times to load multiple wallets. Path is to a directory containing wallet data and log files. If the path is not absolute, it is interpreted relative to <walletdir>. This only loads existing wallets and does not create new ones. For backwards compatibility this also accepts names of existing top-level data files in <walletdir>.",
      "here a wallet that does not exist yet is created (Core skips it with a warning), as `deno task start` makes its wallet",
    ),
    category: "wallet",
    networkOnly: true,
  },
  {
    name: "walletdir",
    param: "=<dir>",
    help:
      "Specify directory to hold wallets (default: <datadir>/wallets if it exists, otherwise <datadir>)",
    category: "wallet",
    networkOnly: true,
  },
  {
    name: "walletnotify",
    param: "=<cmd>",
    help:
      "Execute command when a wallet transaction changes. %s in cmd is replaced by TxID, %w is replaced by wallet name, %b is replaced by the hash of the block including the transaction (set to 'unconfirmed' if the transaction is not included) and %h is replaced by the block height (-1 if not included). %w is not currently implemented on windows. On systems where %w is supported, it should NOT be quoted because this would break shell escaping used to invoke the command.",
    category: "wallet",
  },
  {
    name: "zmqpubhashblock",
    param: "=<address>",
    help: "Enable publish hash block in <address>",
    category: "zmq",
  },
  {
    name: "zmqpubhashtx",
    param: "=<address>",
    help: "Enable publish hash transaction in <address>",
    category: "zmq",
  },
  {
    name: "zmqpubrawblock",
    param: "=<address>",
    help: "Enable publish raw block in <address>",
    category: "zmq",
  },
  {
    name: "zmqpubrawtx",
    param: "=<address>",
    help: "Enable publish raw transaction in <address>",
    category: "zmq",
  },
  {
    name: "zmqpubsequence",
    param: "=<address>",
    help: "Enable publish hash block and tx sequence in <address>",
    category: "zmq",
  },
  {
    name: "zmqpubhashblockhwm",
    param: "=<n>",
    help:
      `Set publish hash block outbound message high water mark (default: ${DEFAULT_ZMQ_SNDHWM})`,
    category: "zmq",
  },
  {
    name: "zmqpubhashtxhwm",
    param: "=<n>",
    help:
      `Set publish hash transaction outbound message high water mark (default: ${DEFAULT_ZMQ_SNDHWM})`,
    category: "zmq",
  },
  {
    name: "zmqpubrawblockhwm",
    param: "=<n>",
    help: `Set publish raw block outbound message high water mark (default: ${DEFAULT_ZMQ_SNDHWM})`,
    category: "zmq",
  },
  {
    name: "zmqpubrawtxhwm",
    param: "=<n>",
    help:
      `Set publish raw transaction outbound message high water mark (default: ${DEFAULT_ZMQ_SNDHWM})`,
    category: "zmq",
  },
  {
    name: "zmqpubsequencehwm",
    param: "=<n>",
    help: `Set publish hash sequence message high water mark (default: ${DEFAULT_ZMQ_SNDHWM})`,
    category: "zmq",
  },
  {
    name: "debug",
    param: "=<category>",
    help:
      'Output debug and trace logging (default: -nodebug, supplying <category> is optional). If <category> is not supplied or if <category> is 1 or "all", output all debug logging. If <category> is 0 or "none", any other categories are ignored. Other valid values for <category> are: ' +
      `${
        LOG_CATEGORIES.join(", ")
      }. This option can be specified multiple times to output multiple categories.`,
    category: "debug",
  },
  {
    name: "debugexclude",
    param: "=<category>",
    help:
      'Exclude debug and trace logging for a category. Can be used in conjunction with -debug=1 to output debug and trace logging for all categories except the specified category. This option can be specified multiple times to exclude multiple categories. This takes priority over "-debug"',
    category: "debug",
  },
  {
    name: "help-debug",
    help: "Print help message with debugging options and exit",
    category: "debug",
  },
  {
    name: "loglevel",
    param: "=<level>|<category>:<level>",
    help:
      "Set the global or per-category severity level for logging categories enabled with the -debug configuration option. Possible values are info, debug, trace (default=debug). The following levels are always logged: error, warning, info. If <category>:<level> is supplied, the setting will override the global one and may be specified multiple times to set multiple category-specific levels. <category> can be: " +
      `${LOG_CATEGORIES.join(", ")}.`,
    category: "debug",
    noNegation: true,
    needsValue: true,
    debugOnly: true,
  },
  {
    name: "maxtipage",
    param: "=<n>",
    help:
      `Maximum tip age in seconds to consider node in initial block download (default: ${MAX_TIP_AGE})`,
    category: "debug",
    debugOnly: true,
  },
  {
    name: "mocktime",
    param: "=<n>",
    help: "Replace actual time with UNIX epoch time (default: 0)",
    category: "debug",
    debugOnly: true,
  },
  {
    name: "logtimemicros",
    help: "Add microsecond precision to debug timestamps (default: 0)",
    category: "debug",
    debugOnly: true,
  },
  {
    name: "logtimestamps",
    help: "Prepend debug output with timestamp (default: 1)",
    category: "debug",
  },
  {
    name: "printtoconsole",
    help:
      "Send trace/debug info to console (default: 1 when no -daemon. To disable logging to file, set -nodebuglogfile)",
    category: "debug",
  },
  {
    name: "shrinkdebugfile",
    help: "Shrink debug.log file on client startup (default: 1 when no -debug)",
    category: "debug",
  },
  {
    name: "chain",
    param: "=<chain>",
    help:
      "Use the chain <chain>. This node runs only regtest: main, test, testnet4 and signet are refused (bitcoind's default is main, so give -regtest or -chain=regtest)",
    category: "chain",
  },
  {
    name: "regtest",
    help:
      "Enter regression test mode, which uses a special chain in which blocks can be solved instantly. This is intended for regression testing tools and app development. Equivalent to -chain=regtest. Required: this node runs only regtest.",
    category: "chain",
  },
  { name: "rest", help: "Accept public REST requests (default: 0)", category: "rpc" },
  {
    name: "rpcallowip",
    param: "=<ip>",
    help:
      "Allow JSON-RPC connections from specified source. Valid values for <ip> are a single IP (e.g. 1.2.3.4), a network/netmask (e.g. 1.2.3.4/255.255.255.0), a network/CIDR (e.g. 1.2.3.4/24), all ipv4 (0.0.0.0/0), or all ipv6 (::/0). This option can be specified multiple times",
    category: "rpc",
  },
  {
    name: "rpcbind",
    param: "=<addr>[:port]",
    help:
      "Bind to given address to listen for JSON-RPC connections. Do not expose the RPC server to untrusted networks such as the public internet! This option is ignored unless -rpcallowip is also passed. Port is optional and overrides -rpcport. Use [host]:port notation for IPv6. This option can be specified multiple times (default: 127.0.0.1 and ::1 i.e., localhost)",
    category: "rpc",
    networkOnly: true,
  },
  {
    name: "rpccookiefile",
    param: "=<loc>",
    help:
      "Location of the auth cookie. Relative paths will be prefixed by a net-specific datadir location. (default: data dir)",
    category: "rpc",
  },
  {
    name: "rpccookieperms",
    param: "=<readable-by>",
    help:
      "Set permissions on the RPC auth cookie file so that it is readable by [owner|group|all] (default: owner [via umask 0077])",
    category: "rpc",
  },
  {
    name: "deprecatedrpc",
    param: "=<method>",
    help: "Allows deprecated RPC method(s) to be used",
    category: "rpc",
    debugOnly: true,
  },
  {
    name: "rpcdoccheck",
    help:
      "Throw a non-fatal error at runtime if the documentation for an RPC is incorrect (default: 0)",
    category: "rpc",
    debugOnly: true,
  },
  {
    name: "rpcauth",
    param: "=<userpw>",
    help:
      "Username and HMAC-SHA-256 hashed password for JSON-RPC connections. The field <userpw> comes in the format: <USERNAME>:<SALT>$<HASH>. A canonical python script is included in share/rpcauth. The client then connects normally using the rpcuser=<USERNAME>/rpcpassword=<PASSWORD> pair of arguments. This option can be specified multiple times",
    category: "rpc",
    sensitive: true,
  },
  {
    name: "rpcpassword",
    param: "=<pw>",
    help: "Password for JSON-RPC connections",
    category: "rpc",
    sensitive: true,
  },
  {
    name: "rpcport",
    param: "=<port>",
    help: `Listen for JSON-RPC connections on <port> (default: ${DEFAULT_RPC_PORT})`,
    category: "rpc",
    networkOnly: true,
  },
  {
    name: "rpcservertimeout",
    param: "=<n>",
    help: "Timeout during HTTP requests (default: 30)",
    category: "rpc",
    debugOnly: true,
  },
  {
    name: "rpcthreads",
    param: "=<n>",
    help: "Set the number of threads to service RPC calls (default: 16)",
    category: "rpc",
  },
  {
    name: "rpcuser",
    param: "=<user>",
    help: "Username for JSON-RPC connections",
    category: "rpc",
    sensitive: true,
  },
  {
    name: "rpcwhitelist",
    param: "=<whitelist>",
    help:
      "Set a whitelist to filter incoming RPC calls for a specific user. The field <whitelist> comes in the format: <USERNAME>:<rpc 1>,<rpc 2>,...,<rpc n>. If multiple whitelists are set for a given user, they are set-intersected. See -rpcwhitelistdefault documentation for information on default whitelist behavior.",
    category: "rpc",
  },
  {
    name: "rpcwhitelistdefault",
    help:
      "Sets default behavior for rpc whitelisting. Unless rpcwhitelistdefault is set to 0, if any -rpcwhitelist is set, the rpc server acts as if all rpc users are subject to empty-unless-otherwise-specified whitelists. If rpcwhitelistdefault is set to 1 and no -rpcwhitelist is set, rpc server acts as if all rpc users are subject to empty whitelists.",
    category: "rpc",
  },
  {
    name: "rpcworkqueue",
    param: "=<n>",
    help: "Set the maximum depth of the work queue to service RPC calls (default: 64)",
    category: "rpc",
    debugOnly: true,
  },
  { name: "server", help: "Accept command line and JSON-RPC commands", category: "rpc" },
  {
    name: "ipcbind",
    param: "=<address>",
    help:
      'Bind to Unix socket address and listen for incoming connections. Valid address values are "unix" to listen on the default path, <datadir>/regtest/node.sock, or "unix:/custom/path" to specify a custom path. Can be specified multiple times to listen on multiple paths. Default behavior is not to listen on any path. If relative paths are specified, they are interpreted relative to the network data directory. If paths include any parent directory components and the parent directories do not exist, they will be created.',
    category: "ipc",
  },
  {
    name: "blockmaxweight",
    param: "=<n>",
    help: `Set maximum BIP141 block weight (default: ${DEFAULT_BLOCK_MAX_WEIGHT})`,
    category: "blockcreation",
    debugOnly: true,
  },
  {
    name: "blockreservedweight",
    param: "=<n>",
    help:
      `Reserve space for the fixed-size block header plus the largest coinbase transaction the mining software may add to the block. (default: ${DEFAULT_BLOCK_RESERVED_WEIGHT}).`,
    category: "blockcreation",
  },
  {
    name: "blockversion",
    param: "=<n>",
    help: "Override block version to test forking scenarios",
    category: "blockcreation",
    debugOnly: true,
  },
  {
    name: "stopatheight",
    help: "Stop running after reaching the given height in the main chain (default: 0)",
    category: "debug",
    debugOnly: true,
  },
  ...NET_OPTIONS,
  ...INERT_OPTIONS,
  ...REFUSED_OPTIONS,
  ...MEMPOOL_OPTIONS,
  ...WALLET_POLICY_OPTIONS.map(({ debugGroup, ...option }) => ({
    ...option,
    category: debugGroup ?? "wallet" as const,
    debugOnly: debugGroup !== undefined,
  })),
  // Accepted but not listed: -h and -?, the chains other than regtest (so that
  // combinations get bitcoind's error), and the spawn contract's arguments.
  // daemonized: `deno task node -daemon` started this node in the background (it says `1` on its
  // standard output once it has started).
  ...[
    "h",
    "?",
    "testnet",
    "testnet4",
    "signet",
    "ipcfd",
    "ipcconnect",
    "lifeline",
    "daemonized",
  ].map((name) => ({
    name,
    help: "",
    category: "hidden" as const,
  })),
];

/** Core's `SplitHostPort`: the host and the port (or `fallback`), null when the port is invalid. */
export function splitHostPort(
  text: string,
  fallback: number,
): { host: string; port: number } | null {
  const colon = text.lastIndexOf(":");
  let port = fallback;
  let rest = text;
  let valid = true;
  if (colon >= 0) {
    const bracketed = text.startsWith("[") && text[colon - 1] === "]";
    const multiColon = colon > 0 && text.lastIndexOf(":", colon - 1) >= 0;
    if (colon === 0 || bracketed || !multiColon) {
      const parsed = parsePort(text.slice(colon + 1));
      valid = parsed !== undefined;
      rest = text.slice(0, colon);
      port = parsed ?? port;
    }
  }
  if (!valid) return null;
  const host = rest.startsWith("[") && rest.endsWith("]") ? rest.slice(1, -1) : rest;
  return { host, port };
}

/** `-walletdir` as {@linkcode walletDirOf} reads it; null when not given. */
function walletDirOption(args: Args, cwd: string): string | null {
  // Core's VerifyWallets: not run without wallets; an empty or negated one is looked for too.
  if (!args.isSet("walletdir") || args.getBool("disablewallet", false)) return null;
  const given = args.getPath("walletdir");
  try {
    return walletDirOf(given, cwd);
  } catch (error) {
    throw new StartupError((error as Error).message);
  }
}

/** Core's `DEFAULT_BLOCKSONLY_MAX_MEMPOOL_SIZE_MB`: `-blocksonly`'s default `-maxmempool`. */
const BLOCKSONLY_MAX_MEMPOOL_MB = 5;

const COOKIE_MODES: Record<string, number> = { owner: 0o600, group: 0o640, all: 0o644 };

/** The first line of `-help` and `-version`, as bitcoind's (`<name> daemon version v<version>`). */
const VERSION_LINE = `${NODE_NAME} daemon version v${NODE_VERSION}\n`;

/** The help text (`-help`, `-help-debug`). */
function helpText(args: Args): string {
  return `${VERSION_LINE}\n` +
    `The ${NODE_NAME} is a regtest-only Bitcoin node for Deno, a drop-in for bitcoind -regtest: ` +
    "it validates and stores a regtest block chain, and serves bitcoind's JSON-RPC interface and " +
    "Bitcoin Core's IPC interfaces.\n\n" +
    "Usage: deno task node -regtest [options]\n\n" +
    args.helpMessage(args.getBool("help-debug", false));
}

/** The version text (`-version`): the version line, then a paragraph wrapped at 79 columns, as Core's. */
function versionText(): string {
  return VERSION_LINE +
    "A regtest-only Bitcoin node for Deno; not Bitcoin Core. It speaks bitcoind's\n" +
    "command line, JSON-RPC and Bitcoin Core's IPC interfaces.\n" +
    "\n" +
    "This is experimental software.\n";
}

/**
 * Reads `argv` and the configuration files as `bitcoind` does, in its
 * order: the command line, the data directory check, the configuration,
 * the chain, stray tokens, `-help`/`-version`, then the node's
 * regtest-only rule and Core's parameter checks. Throws
 * {@linkcode StartupError} with the text bitcoind prints after `Error: `.
 */
export function parseNodeArgs(
  argv: readonly string[],
  env: StartupEnvironment = {},
): NodeStartup {
  const cwd = env.cwd ?? Deno.cwd();
  const args = new Args(NODE_OPTIONS);
  const notices: Notice[] = [];
  try {
    args.parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof ArgsError)) throw error;
    throw new StartupError(`Error parsing command line arguments: ${error.message}`);
  }

  const loaded = loadConfig(args, { ...env, cwd }, notices);
  const { datadir, originalDatadir, configFile: originalConf, configFilesRead, chain } = loaded;
  checkIgnoredConfig(args, datadir, originalDatadir, originalConf, notices);

  const stray = argv.find((arg) => !arg.startsWith("-"));
  if (stray !== undefined) {
    throw new StartupError(
      `Command line contains unexpected token '${stray}', see bitcoind -h for a list of options.`,
    );
  }
  if (["?", "h", "help", "help-debug"].some((name) => args.isSet(name))) {
    return { kind: "print", text: helpText(args) };
  }
  if (args.getBool("version", false)) return { kind: "print", text: versionText() };
  if (chain !== CHAIN) {
    throw new StartupError(
      `This node runs only regtest, but the selected chain is ${chain}. ` +
        "Pass -regtest (or -chain=regtest, or regtest=1 in bitcoin.conf).",
    );
  }
  const given = args.get("datadir");
  if (given !== undefined && given !== "" && !given.startsWith("/")) {
    notices.push({
      level: "info",
      message: `Warning: relative datadir option '${given}' specified, which will be interpreted ` +
        `relative to the current working directory '${cwd}'. This is fragile, because if ` +
        "bitcoin is started in the future from a different location, it will be unable to " +
        "locate the current data files. There could also be data loss if bitcoin is started " +
        "while in a temporary directory.",
    });
  }
  return {
    kind: "run",
    options: nodeOptions(args, datadir, originalConf, configFilesRead, notices, cwd),
  };
}

/**
 * Refuses a `bitcoin.conf` in the data directory that another
 * configuration file displaces (unless `-allowignoredconf`).
 */
function checkIgnoredConfig(
  args: Args,
  datadir: string,
  originalDatadir: string,
  originalConf: string,
  notices: Notice[],
): void {
  const inDatadir = `${datadir}/bitcoin.conf`;
  const present = look(inDatadir);
  if (present === null || present === HIDDEN) return;
  if (originalConf === "") {
    notices.push({
      level: "info",
      message: `Data directory ${quoted(datadir)} contains a "bitcoin.conf" file which is ` +
        "explicitly ignored using -noconf.",
    });
    return;
  }
  const used = look(originalConf);
  if (used !== null && used !== HIDDEN && used.dev === present.dev && used.ino === present.ino) {
    return;
  }
  const given = args.get("conf") ?? "";
  const source = given === ""
    ? `data directory ${quoted(originalDatadir)}`
    : `command line argument ${quoted(`-conf=${given}`)}`;
  const error = `Data directory ${quoted(datadir)} contains a "bitcoin.conf" file which is ` +
    `ignored, because a different configuration file ${quoted(originalConf)} from ${source} ` +
    "is being used instead. Possible ways to address this would be to:\n" +
    `- Delete or rename the "bitcoin.conf" file in data directory ${quoted(datadir)}.\n` +
    "- Change datadir= or conf= options to specify one configuration file, not two, and use " +
    "includeconf= to include any other configuration files.\n" +
    "- Set allowignoredconf=1 option to treat this condition as a warning, not an error.";
  if (!args.getBool("allowignoredconf", false)) throw new StartupError(error);
  notices.push({ level: "warning", message: error });
}

/** Core's parameter checks, then the typed options. */
function nodeOptions(
  args: Args,
  datadir: string,
  configFile: string,
  configFilesRead: string[],
  notices: Notice[],
  cwd: string,
): NodeOptions {
  const netDir = `${datadir}/${CHAIN}`;
  const unsuitable = args.unsuitableSectionOnly();
  if (unsuitable.length > 0) {
    throw new StartupError(
      unsuitable.map((arg) =>
        `Config setting for ${arg} only applied on ${CHAIN} network when in [${CHAIN}] section.\n`
      ).join(""),
    );
  }
  const sections = args.unrecognizedSections(KNOWN_CHAINS);
  if (sections.length > 0) {
    const text = sections.map((s) => `${s.file}:${s.line} Section [${s.name}] is not recognized.\n`)
      .join("");
    notices.push({ level: "warning", message: text.trimEnd(), stderr: `Warning: ${text}\n` });
  }
  const logSettings = parseLogSettings(
    args.getAll("debug"),
    args.getAll("debugexclude"),
    args.getAll("loglevel"),
  );
  checkInertOptions(args, notices);
  const ibd = ibdOptionsOf(args);
  netParameterInteraction(args, notices);
  // Core's parameter interactions of -blocksonly (InitParameterInteraction, then the wallet's):
  // a smaller mempool, and wallets that do not broadcast, unless the options say otherwise.
  const blocksOnly = args.getBool("blocksonly", false);
  if (blocksOnly && args.softSet("maxmempool", String(BLOCKSONLY_MAX_MEMPOOL_MB))) {
    notices.push({
      level: "info",
      message:
        `parameter interaction: -blocksonly=1 -> setting -maxmempool=${BLOCKSONLY_MAX_MEMPOOL_MB}`,
    });
  }
  if (
    blocksOnly && !args.getBool("disablewallet", false) && args.softSet("walletbroadcast", "0")
  ) {
    notices.push({
      level: "info",
      message:
        "ParameterInteraction: parameter interaction: -blocksonly=1 -> setting -walletbroadcast=0",
    });
  }
  const mempoolPolicy = mempoolPolicyOf(args, notices);
  // Core's SetMockTime(-mocktime) at startup; its range is setmocktime's.
  const mockTime = args.getInt("mocktime", 0);
  try {
    checkMockTime(mockTime);
  } catch (error) {
    throw new StartupError((error as Error).message);
  }
  let keypool: number | undefined;
  if (args.isSet("keypool")) {
    try {
      keypool = keypoolSize(args.isNegated("keypool") ? false : args.get("keypool")!);
    } catch (error) {
      throw new StartupError((error as Error).message);
    }
  }
  const { policy: walletPolicy, refusal: walletRefusal } = readWalletPolicy(
    (name) => args.isNegated(name) ? false : args.get(name),
    mempoolPolicy.minRelayFeeRate,
  );
  // Checked last, as Core's VerifyWallets runs after the parameter checks.
  const walletDir = walletDirOption(args, cwd);
  const blockFilterIndex = blockFilterIndexOption(args);
  if (args.getBool("peerblockfilters", false) && !blockFilterIndex) {
    throw new StartupError("Cannot set -peerblockfilters without -blockfilterindex.");
  }
  checkNetParameters(args);
  const blockAssembly = blockAssemblyOf(args);
  // Core's AppInitMain checks, after its parameter interaction.
  const net = netOptionsOf(args, netDir, notices);
  const daemonWait = args.getBool("daemonwait", false);
  const daemon = daemonWait || args.getBool("daemon", false);
  const inNetDir = (path: string) => absolutePath(path, netDir);
  const pid = args.getPath("pid", "bitcoind.pid");
  const logFile = args.getPath("debuglogfile", "debug.log");
  return {
    chain: CHAIN,
    datadir,
    datadirGiven: args.getPath("datadir") !== "",
    netDir,
    configFile,
    configFilesRead,
    pidFile: pid === "" ? null : inNetDir(pid),
    log: {
      file: args.isNegated("debuglogfile") ? null : inNetDir(logFile),
      console: args.getBool("printtoconsole", !daemon),
      timestamps: args.getBool("logtimestamps", true),
      micros: args.getBool("logtimemicros", false),
      shrinkOnStart: args.getBool("shrinkdebugfile", logSettings.categories.size === 0),
    },
    logSettings,
    server: args.getBool("server", true),
    rest: args.getBool("rest", false),
    rpc: rpcOptions(args, netDir, notices),
    ipc: ipcOptions(args),
    wallets: args.getAll("wallet"),
    monolithic: args.getBool("monolithic", false),
    disableWallet: args.getBool("disablewallet", false),
    keypool,
    walletPolicy,
    walletRefusal,
    listen: args.getBool("listen", true),
    net,
    blockAssembly,
    stopAtHeight: args.getInt("stopatheight", 0),
    ibd,
    blocksOnly,
    mockTime,
    walletDir,
    banTime: args.getInt("bantime", DEFAULT_BAN_TIME),
    txindex: args.getBool("txindex", false),
    blockFilterIndex,
    mempoolPolicy,
    persistMempool: args.getBool("persistmempool", true),
    daemon,
    daemonWait,
    daemonized: args.getBool("daemonized", false),
    notify: notifyCommandsOf(args),
    zmq: zmqOptions(args, cwd),
    workingDirectory: cwd,
    notices: [
      ...args.warnings.map((message) => ({ level: "info" as const, message })),
      ...notices,
      // Core's WalletInit::ParameterInteraction.
      ...(args.getBool("disablewallet", false) ? args.getAll("wallet") : []).map((wallet) => ({
        level: "info" as const,
        message:
          `ParameterInteraction: parameter interaction: -disablewallet -> ignoring -wallet=${wallet}`,
      })),
    ],
    args,
  };
}

/**
 * The ZMQ notifiers, each address one this node serves (`tcp://host:port`, `ipc://path`):
 * a startup error otherwise, where Core would start without its
 * notifications and say so only with `-debug=zmq`.
 */
function zmqOptions(args: Args, cwd: string): ZmqNotifier[] {
  const notifiers = zmqNotifiersOf(args);
  for (const { type, address } of notifiers) {
    try {
      zmqEndpoint(address, cwd);
    } catch (error) {
      throw new StartupError(`-zmq${type}=${(error as Error).message}`);
    }
  }
  return notifiers;
}

/** The JSON-RPC settings, ports checked as Core's `CheckHostPortOptions`. */
function rpcOptions(args: Args, netDir: string, notices: Notice[]): RpcOptions {
  const portText = args.get("rpcport");
  const port = portText === undefined ? DEFAULT_RPC_PORT : parsePort(portText);
  if (port === undefined) {
    throw new StartupError(`Invalid port specified in -rpcport: '${portText}'`);
  }
  const bind = args.getAll("rpcbind");
  const binds = bind.map((address) => {
    const split = splitHostPort(address, port);
    if (split === null) throw new StartupError(`Invalid port specified in -rpcbind: '${address}'`);
    return split;
  });
  const allowIp = args.getAll("rpcallowip");
  let endpoints = binds;
  if (allowIp.length === 0 || bind.length === 0) {
    endpoints = [{ host: "::1", port }, { host: "127.0.0.1", port }];
    if (allowIp.length > 0) {
      notices.push({
        level: "warning",
        message:
          "Option -rpcallowip was specified without -rpcbind; this doesn't usually make sense",
      });
    }
    if (bind.length > 0) {
      notices.push({
        level: "warning",
        message:
          "Option -rpcbind was ignored because -rpcallowip was not specified, refusing to allow everyone to connect",
      });
    }
  }
  const perms = args.get("rpccookieperms");
  if (perms !== undefined && !(perms in COOKIE_MODES)) {
    throw new StartupError(
      `Invalid -rpccookieperms=${perms}; must be one of 'owner', 'group', or 'all'.`,
    );
  }
  const cookie = args.getPath("rpccookiefile", ".cookie");
  return {
    port,
    endpoints,
    allowIp,
    bind,
    user: args.get("rpcuser") ?? "",
    password: args.get("rpcpassword") ?? "",
    rpcauth: args.getAll("rpcauth"),
    whitelist: args.getAll("rpcwhitelist"),
    whitelistDefault: args.isSet("rpcwhitelistdefault")
      ? args.getBool("rpcwhitelistdefault", false)
      : undefined,
    cookieFile: cookie === "" ? null : absolutePath(cookie, netDir),
    cookieMode: perms === undefined ? null : COOKIE_MODES[perms],
    threads: Math.max(args.getInt("rpcthreads", 16), 1),
    workQueue: Math.max(args.getInt("rpcworkqueue", 64), 1),
    serverTimeout: args.getInt("rpcservertimeout", 30),
    docCheck: args.getBool("rpcdoccheck", false),
    deprecated: args.getAll("deprecatedrpc"),
  };
}

/** The IPC settings: Core's `-ipcbind`, and the spawn contract's arguments. */
function ipcOptions(args: Args): IpcOptions {
  const fdText = args.get("ipcfd");
  if (fdText !== undefined && !/^\d+$/.test(fdText)) {
    throw new StartupError(`Invalid -ipcfd number '${fdText}'`);
  }
  const connect = args.get("ipcconnect");
  return {
    bind: args.getAll("ipcbind"),
    fd: fdText === undefined ? null : Number(fdText),
    connect: connect === undefined || args.isNegated("ipcconnect") ? null : connect,
    lifeline: args.getBool("lifeline", false),
  };
}

/** `host:port` as a Deno `--allow-net` entry (IPv6 in brackets). */
export function netPermission({ host, port }: RpcEndpoint): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
