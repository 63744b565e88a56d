/**
 * bitcoin-cli's options and its start-up (Core v30.0's `SetupCliArgs` and
 * `AppInitRPC`): the command line, `-help`/`-version`, the data directory,
 * `bitcoin.conf` (or `-conf`) with the chain's `[section]`, and the chain,
 * each failure worded as bitcoin-cli words it. Unlike the node, the client
 * talks to any chain: its port and cookie follow `-regtest`, `-testnet`,
 * `-testnet4`, `-signet` or `-chain` (main by default), as Core's do.
 *
 * @example
 * ```ts
 * import { appInit } from "./options.ts";
 * const datadir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${datadir}/bitcoin.conf`, "regtest=1\n[regtest]\nrpcport=18500\n");
 * const start = appInit([`-datadir=${datadir}`, "getblockcount"]);
 * if (start.kind !== "run") throw new Error("expected a command");
 * if (start.settings.chain !== "regtest" || start.settings.args.get("rpcport") !== "18500") {
 *   throw new Error("the [regtest] section applies");
 * }
 * if (start.settings.words.join(" ") !== "getblockcount") throw new Error("the command");
 * Deno.removeSync(datadir, { recursive: true });
 * ```
 * @module
 */
import { Args, ArgsError, type ArgSpec } from "../node/args.ts";
import {
  ConfigFileError,
  loadConfig,
  type StartupEnvironment,
  StartupError,
} from "../node/config.ts";
import { NODE_VERSION } from "../node/options.ts";

/** What the client calls itself in `-help` and `-version`. */
export const CLI_NAME = "capdeno RPC client";

/** Each chain's JSON-RPC port and data subdirectory (Core's `CBaseChainParams`). */
export const CHAIN_PARAMS: Readonly<Record<string, { rpcPort: number; dataDir: string }>> = {
  main: { rpcPort: 8332, dataDir: "" },
  test: { rpcPort: 18332, dataDir: "testnet3" },
  testnet4: { rpcPort: 48332, dataDir: "testnet4" },
  signet: { rpcPort: 38332, dataDir: "signet" },
  regtest: { rpcPort: 18443, dataDir: "regtest" },
};

/** The default `-rpcclienttimeout`, in seconds. */
export const DEFAULT_HTTP_CLIENT_TIMEOUT = 900;

/** The default number of blocks and tries for `-generate` (Core's `DEFAULT_NBLOCKS`, `DEFAULT_MAX_TRIES`). */
export const DEFAULT_NBLOCKS = "1";
const DEFAULT_MAX_TRIES = 1_000_000;

/** Core v30.0's bitcoin-cli options, with its help texts. */
export const CLI_OPTIONS: readonly ArgSpec[] = [
  { name: "help", help: "Print this help message and exit (also -h or -?)", category: "options" },
  {
    name: "color",
    param: "=<when>",
    help:
      "Color setting for CLI output (default: auto). Valid values: always, auto (add color codes when standard output is connected to a terminal and OS is not WIN32), never. Only applies to the output of -getinfo.",
    category: "options",
    noNegation: true,
  },
  {
    name: "conf",
    param: "=<file>",
    help:
      "Specify configuration file. Relative paths will be prefixed by datadir location. (default: bitcoin.conf)",
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
    name: "named",
    help: "Pass named instead of positional arguments (default: false)",
    category: "options",
  },
  {
    name: "rpcclienttimeout",
    param: "=<n>",
    help:
      `Timeout in seconds during HTTP requests, or 0 for no timeout. (default: ${DEFAULT_HTTP_CLIENT_TIMEOUT})`,
    category: "options",
  },
  {
    name: "rpcconnect",
    param: "=<ip>",
    help: "Send commands to node running on <ip> (default: 127.0.0.1)",
    category: "options",
  },
  {
    name: "rpccookiefile",
    param: "=<loc>",
    help:
      "Location of the auth cookie. Relative paths will be prefixed by a net-specific datadir location. (default: data dir)",
    category: "options",
  },
  {
    name: "rpcpassword",
    param: "=<pw>",
    help: "Password for JSON-RPC connections",
    category: "options",
    sensitive: true,
  },
  {
    name: "rpcport",
    param: "=<port>",
    help:
      "Connect to JSON-RPC on <port> (default: 8332, testnet: 18332, testnet4: 48332, signet: 38332, regtest: 18443)",
    category: "options",
    networkOnly: true,
  },
  {
    name: "rpcuser",
    param: "=<user>",
    help: "Username for JSON-RPC connections",
    category: "options",
    sensitive: true,
  },
  { name: "rpcwait", help: "Wait for RPC server to start", category: "options" },
  {
    name: "rpcwaittimeout",
    param: "=<n>",
    help:
      "Timeout in seconds to wait for the RPC server to start, or 0 for no timeout. (default: 0)",
    category: "options",
    noNegation: true,
  },
  {
    name: "rpcwallet",
    param: "=<walletname>",
    help:
      "Send RPC for non-default wallet on RPC server (needs to exactly match corresponding -wallet option passed to bitcoind). This changes the RPC endpoint used, e.g. http://127.0.0.1:8332/wallet/<walletname>",
    category: "options",
  },
  {
    name: "stdin",
    help:
      "Read extra arguments from standard input, one per line until EOF/Ctrl-D (recommended for sensitive information such as passphrases). When combined with -stdinrpcpass, the first line from standard input is used for the RPC password.",
    category: "options",
  },
  {
    name: "stdinrpcpass",
    help:
      "Read RPC password from standard input as a single line. When combined with -stdin, the first line from standard input is used for the RPC password. When combined with -stdinwalletpassphrase, -stdinrpcpass consumes the first line, and -stdinwalletpassphrase consumes the second.",
    category: "options",
  },
  {
    name: "stdinwalletpassphrase",
    help:
      "Read wallet passphrase from standard input as a single line. When combined with -stdin, the first line from standard input is used for the wallet passphrase.",
    category: "options",
  },
  { name: "version", help: "Print version and exit", category: "options" },
  {
    name: "chain",
    param: "=<chain>",
    help:
      "Use the chain <chain> (default: main). Allowed values: main, test, testnet4, signet, regtest",
    category: "chain",
  },
  {
    name: "regtest",
    help:
      "Enter regression test mode, which uses a special chain in which blocks can be solved instantly. This is intended for regression testing tools and app development. Equivalent to -chain=regtest.",
    category: "chain",
    debugOnly: true,
  },
  {
    name: "signet",
    help:
      "Use the signet chain. Equivalent to -chain=signet. Note that the network is defined by the -signetchallenge parameter",
    category: "chain",
  },
  {
    name: "signetchallenge",
    help:
      "Blocks must satisfy the given script to be considered valid (only for signet networks; defaults to the global default signet test network challenge)",
    category: "chain",
  },
  {
    name: "signetseednode",
    help:
      "Specify a seed node for the signet network, in the hostname[:port] format, e.g. sig.net:1234 (may be used multiple times to specify multiple seed nodes; defaults to the global default signet test network seed node(s))",
    category: "chain",
  },
  {
    name: "testnet",
    help:
      "Use the testnet3 chain. Equivalent to -chain=test. Support for testnet3 is deprecated and will be removed in an upcoming release. Consider moving to testnet4 now by using -testnet4.",
    category: "chain",
  },
  {
    name: "testnet4",
    help: "Use the testnet4 chain. Equivalent to -chain=testnet4.",
    category: "chain",
  },
  {
    name: "addrinfo",
    help:
      "Get the number of addresses known to the node, per network and total, after filtering for quality and recency. The total number of addresses known to the node may be higher.",
    category: "cli",
  },
  {
    name: "generate",
    help:
      `Generate blocks, equivalent to RPC getnewaddress followed by RPC generatetoaddress. Optional positional integer arguments are number of blocks to generate (default: ${DEFAULT_NBLOCKS}) and maximum iterations to try (default: ${DEFAULT_MAX_TRIES}), equivalent to RPC generatetoaddress nblocks and maxtries arguments. Example: bitcoin-cli -generate 4 1000`,
    category: "cli",
  },
  {
    name: "getinfo",
    help:
      "Get general information from the remote server. Note that unlike server-side RPC calls, the output of -getinfo is the result of multiple non-atomic requests. Some entries in the output may represent results from different states (e.g. wallet balance may be as of a different block from the chain state reported)",
    category: "cli",
  },
  {
    name: "netinfo",
    help:
      'Get network peer connection information from the remote server. An optional argument from 0 to 4 can be passed for different peers listings (default: 0). If a non-zero value is passed, an additional "outonly" (or "o") argument can be passed to see outbound peers only. Pass "help" (or "h") for detailed help documentation.',
    category: "cli",
  },
  // Accepted but not listed, as in Core.
  ...["h", "?", "testactivationheight", "vbparams"].map((name) => ({
    name,
    help: "",
    category: "hidden" as const,
  })),
];

/** The CLI commands (Core's `OptionsCategory::CLI_COMMANDS`), in Core's order. */
export const CLI_COMMANDS: readonly string[] = CLI_OPTIONS
  .filter((spec) => spec.category === "cli").map((spec) => spec.name).sort();

/** The settings of a client that is to call the server. */
export interface CliSettings {
  /** Every setting, the chain's config section selected. */
  args: Args;
  /** The selected chain (`main`, `test`, `testnet4`, `signet`, `regtest`). */
  chain: string;
  /** The data directory, absolute. */
  datadir: string;
  /** `<datadir>` plus the chain's subdirectory: where the cookie is. */
  netDir: string;
  /** The configuration file's path, as the credentials error names it ("" with `-noconf`). */
  configFile: string;
  /** The configuration files read. */
  configFilesRead: string[];
  /** The words after the options: the command and its arguments. */
  words: string[];
  /** Whether `-datadir` was given (otherwise `$HOME/.bitcoin` is used). */
  datadirGiven: boolean;
}

/** What starting comes to: text to print and an exit status, or a client to run. */
export type CliStartup =
  | { kind: "print"; stdout: string; stderr: string; code: number }
  | { kind: "run"; settings: CliSettings };

function usage(args: Args): string {
  return `${CLI_NAME} version v${NODE_VERSION}\n\n` +
    "This client is bitcoin-cli for Deno: Bitcoin Core v30.0's command-line JSON-RPC client, " +
    "with its options, requests, output and exit codes, for a capdeno node or a bitcoind.\n\n" +
    'Use the "help" command to list all commands. Use "help <command>" to show help for that ' +
    "command.\nThe -named option allows you to specify parameters using the key=value format, " +
    "eliminating the need to pass unused positional parameters.\n\n" +
    "Usage: deno task cli [options] <command> [params]\n" +
    "or:    deno task cli [options] -named <command> [name=value]...\n" +
    "or:    deno task cli [options] help\n" +
    "or:    deno task cli [options] help <command>\n\n\n" +
    args.helpMessage(false);
}

function versionText(): string {
  return `${CLI_NAME} version v${NODE_VERSION}\n` +
    "bitcoin-cli for Deno; not Bitcoin Core. It speaks bitcoin-cli's command line, requests " +
    "and output.\n";
}

/** `<datadir>/<chain's subdirectory>` (Core's `GetDataDirNet`). */
function netDirectory(datadir: string, chain: string): string {
  const sub = CHAIN_PARAMS[chain].dataDir;
  return sub === "" ? datadir : `${datadir}/${sub}`;
}

/** The words after the options: Core skips every leading word that starts with `-`. */
function commandWords(argv: readonly string[]): string[] {
  const first = argv.findIndex((word) => !word.startsWith("-"));
  return first < 0 ? [] : argv.slice(first);
}

/**
 * Core's `AppInitRPC`: reads `argv` and the configuration. Errors and
 * help come back as text to print with their exit status; anything else
 * throws.
 */
export function appInit(argv: readonly string[], env: StartupEnvironment = {}): CliStartup {
  const fail = (stderr: string): CliStartup => ({ kind: "print", stdout: "", stderr, code: 1 });
  const args = new Args(CLI_OPTIONS);
  try {
    args.parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof ArgsError)) throw error;
    return fail(`Error parsing command line arguments: ${error.message}\n`);
  }
  const help = ["?", "h", "help"].some((name) => args.isSet(name));
  if (argv.length === 0 || help || args.isSet("version")) {
    const stdout = args.isSet("version") ? versionText() : usage(args);
    if (argv.length === 0) {
      return { kind: "print", stdout, stderr: "Error: too few parameters\n", code: 1 };
    }
    return { kind: "print", stdout, stderr: "", code: 0 };
  }
  const cwd = env.cwd ?? Deno.cwd();
  try {
    const loaded = loadConfig(args, { ...env, cwd }, []);
    return {
      kind: "run",
      settings: {
        args,
        chain: loaded.chain,
        datadir: loaded.datadir,
        netDir: netDirectory(loaded.datadir, loaded.chain),
        configFile: loaded.configFile,
        configFilesRead: loaded.configFilesRead,
        words: commandWords(argv),
        datadirGiven: args.getPath("datadir") !== "",
      },
    };
  } catch (error) {
    if (error instanceof ConfigFileError) return fail(`${error.message}\n`);
    if (error instanceof StartupError) return fail(`Error: ${error.message}\n`);
    throw error;
  }
}
