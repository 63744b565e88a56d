/**
 * Bitcoin Core's start-up reading of the data directory, the configuration
 * file and the chain (`CheckDataDirOption`, `ReadConfigFiles`,
 * `GetChainType`), shared by every program that reads `bitcoin.conf`: the
 * node (`bitcoind`) and the command-line client (`bitcoin-cli`). Each
 * program declares its own options; this module knows none of them.
 *
 * - A given `-datadir` must be an existing directory; without one the data
 *   directory is `$HOME/.bitcoin`.
 * - The configuration file is `-conf` (default `bitcoin.conf`), relative
 *   paths against the data directory; a missing default file is no error,
 *   a missing `-conf` is. `includeconf` files are read when the program
 *   declares that option, first the chain's section's, then the top's.
 * - The chain is chosen from `-regtest`, `-testnet`, `-testnet4`,
 *   `-signet` and `-chain`, at most one of them.
 *
 * @example
 * ```ts
 * import { Args } from "./args.ts";
 * import { loadConfig, type Notice } from "./config.ts";
 * const datadir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${datadir}/bitcoin.conf`, "regtest=1\n[regtest]\nrpcport=18500\n");
 * const args = new Args([
 *   { name: "datadir", help: "", category: "options" },
 *   { name: "regtest", help: "", category: "chain" },
 *   { name: "rpcport", help: "", category: "rpc", networkOnly: true },
 * ]);
 * args.parseCommandLine([`-datadir=${datadir}`]);
 * const notices: Notice[] = [];
 * const loaded = loadConfig(args, { cwd: "/" }, notices);
 * if (loaded.chain !== "regtest" || args.get("rpcport") !== "18500") throw new Error("not read");
 * Deno.removeSync(datadir, { recursive: true });
 * ```
 * @module
 */
import { absolutePath, type Args, ArgsError } from "./args.ts";
import { parseMoney } from "../bitcoin/amount.ts";

/**
 * A start-up failure: printed as `Error: <message>` on stderr, exit status 1.
 * Messages are Bitcoin Core's where Core has one.
 */
export class StartupError extends Error {
  /** The error's name. */
  override name = "StartupError";
}

/**
 * A configuration file that cannot be read as Core reads it; the message
 * starts `Error reading configuration file: `, as both programs print it.
 */
export class ConfigFileError extends StartupError {
  /** The error's name. */
  override name = "ConfigFileError";
}

/**
 * The satoshis of amount option `-name` (Core's `ParseMoney`, a negation
 * reading as 0), or undefined when unset; throws {@linkcode StartupError}
 * with Core's `AmountErrMsg` when it is no amount.
 *
 * @example
 * ```ts
 * import { Args } from "./args.ts";
 * import { amountArg, StartupError } from "./config.ts";
 * const args = new Args([{ name: "minrelaytxfee", help: "", category: "relay" }]);
 * args.parseCommandLine(["-minrelaytxfee=0.0001"]);
 * if (amountArg(args, "minrelaytxfee") !== 10_000n) throw new Error("amount");
 * args.parseCommandLine(["-minrelaytxfee=x"]);
 * try {
 *   amountArg(args, "minrelaytxfee");
 *   throw new Error("accepted");
 * } catch (error) {
 *   if (!(error instanceof StartupError)) throw error;
 *   if (error.message !== "Invalid amount for -minrelaytxfee=<amount>: 'x'") throw error;
 * }
 * ```
 */
export function amountArg(args: Args, name: string): bigint | undefined {
  const text = args.get(name);
  if (text === undefined) return undefined;
  const value = parseMoney(text);
  if (value === null) throw new StartupError(`Invalid amount for -${name}=<amount>: '${text}'`);
  return value;
}

/** A line to log once the log is open, and maybe to print on stderr at once. */
export interface Notice {
  /** How it is logged: plain, or with `[warning]`. */
  level: "info" | "warning";
  /** The log line. */
  message: string;
  /** Printed on stderr during startup, as bitcoind does for this one. */
  stderr?: string;
}

/** The environment the options are read in; the process's own by default. */
export interface StartupEnvironment {
  /** Base of a relative `-datadir`; the working directory by default. */
  cwd?: string;
  /** `$HOME`, for the default data directory; undefined when unset. */
  home?: () => string | undefined;
}

/** Chain names Bitcoin Core knows (`ChainTypeFromString`). */
export const KNOWN_CHAINS: readonly string[] = ["main", "test", "testnet4", "signet", "regtest"];

/** `"path"`, quoted as `fs::quoted` quotes it. */
export function quoted(path: string): string {
  return `"${path.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The error of a Deno permission this process was not granted, naming it. */
function permissionError(error: Deno.errors.NotCapable): StartupError {
  return new StartupError(`${error.message} (this process's permission flags do not cover it)`);
}

/** A path the process's Deno permissions do not let it look at. */
export const HIDDEN: unique symbol = Symbol("hidden");

/**
 * `Deno.statSync`; null when the path does not exist, {@linkcode HIDDEN}
 * when the permissions do not reach it (a sandbox granting only
 * `<datadir>/regtest` prepared the data directory itself).
 */
export function look(path: string): Deno.FileInfo | null | typeof HIDDEN {
  try {
    return Deno.statSync(path);
  } catch (error) {
    return error instanceof Deno.errors.NotCapable ? HIDDEN : null;
  }
}

const isDirectory = (path: string) => {
  const seen = look(path);
  return seen !== HIDDEN && seen?.isDirectory === true;
};

/** A file's text, or null when it cannot be opened. */
function readOrNull(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw permissionError(error);
    return null;
  }
}

/**
 * The chain the settings select (Core's `GetChainTypeString`): `main` when
 * none is given. Throws {@linkcode StartupError} for more than one.
 */
export function selectedChain(args: Args): string {
  const flags: [string, string][] = [
    ["regtest", "regtest"],
    ["signet", "signet"],
    ["testnet", "test"],
    ["testnet4", "testnet4"],
  ];
  const set = flags.filter(([name]) => args.chainFlag(name));
  const chain = args.get("chain");
  if (set.length + (chain === undefined ? 0 : 1) > 1) {
    throw new StartupError(
      "Invalid combination of -regtest, -signet, -testnet, -testnet4 and -chain. Can use at most one.",
    );
  }
  return chain ?? set[0]?.[1] ?? "main";
}

/** The `includeconf` values of `section` from index `skip` on, after any negation. */
function includesOf(args: Args, section: string, skip: number): string[] {
  const values = args.configValues(section, "includeconf");
  const negated = values.findLastIndex((value) => value === false) + 1;
  return values.slice(Math.max(skip, negated)).map((value) => String(value));
}

/**
 * Reads the configuration file and the files it includes (Core's
 * `ReadConfigFiles`); returns the paths read.
 */
function readConfigFiles(args: Args, confPath: string, datadir: string, notices: Notice[]) {
  const read: string[] = [];
  if (confPath === "") return read;
  if (look(confPath) === HIDDEN) {
    if (args.isSet("conf")) {
      throw new StartupError(
        `Cannot read the configuration file ${confPath}: this process's permission flags do not cover it`,
      );
    }
    notices.push({
      level: "info",
      message: `Config file ${confPath} is outside this process's permissions, skipping`,
    });
    return read;
  }
  if (isDirectory(confPath)) throw new ArgsError(`Config file ${quoted(confPath)} is a directory.`);
  const text = readOrNull(confPath);
  if (text === null) {
    if (args.isSet("conf")) {
      throw new ArgsError(`specified config file ${quoted(confPath)} could not be opened.`);
    }
    return read;
  }
  args.readConfig(text, confPath);
  read.push(confPath);
  // -noincludeconf on the command line turns includes off.
  if (args.onCommandLine("includeconf")) return read;
  const chain = selectedChain(args);
  const chainCount = args.configValues(chain, "includeconf").length;
  const topCount = args.configValues("", "includeconf").length;
  for (const name of [...includesOf(args, chain, 0), ...includesOf(args, "", 0)]) {
    const path = absolutePath(name, datadir);
    if (isDirectory(path)) {
      throw new ArgsError(`Included config file ${quoted(path)} is a directory.`);
    }
    const included = readOrNull(path);
    if (included === null) throw new ArgsError(`Failed to include configuration file ${name}`);
    args.readConfig(included, name);
    read.push(path);
    notices.push({ level: "info", message: `Included configuration file ${name}` });
  }
  const nested = [...includesOf(args, chain, chainCount), ...includesOf(args, "", topCount)];
  const finalChain = selectedChain(args);
  if (finalChain !== chain) nested.push(...includesOf(args, finalChain, 0));
  for (const name of nested) {
    const message =
      `-includeconf cannot be used from included files; ignoring -includeconf=${name}`;
    notices.push({ level: "warning", message, stderr: `warning: ${message}\n` });
  }
  return read;
}

function defaultHome(): string | undefined {
  try {
    return Deno.env.get("HOME");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
    throw new StartupError(
      "No -datadir given, and the default data directory ($HOME/.bitcoin) needs --allow-env=HOME; give -datadir=<dir>",
    );
  }
}

/**
 * The data directory the settings name, absolute: `-datadir` against
 * `env.cwd`, else `$HOME/.bitcoin` (`/.bitcoin` without a home, as Core).
 */
export function dataDirectory(args: Args, env: StartupEnvironment = {}): string {
  const given = args.getPath("datadir");
  if (given !== "") return absolutePath(given, env.cwd ?? Deno.cwd());
  const home = (env.home ?? defaultHome)() || "/";
  return absolutePath(".bitcoin", home);
}

/** Core's `CheckDataDirOption`; a directory hidden by the permissions was prepared by whoever granted them. */
function dataDirectoryExists(args: Args, env: StartupEnvironment): boolean {
  if (args.getPath("datadir") === "") return true;
  const seen = look(dataDirectory(args, env));
  return seen === HIDDEN || seen?.isDirectory === true;
}

/** What the data directory, the configuration and the chain come to. */
export interface LoadedConfig {
  /** The data directory after the configuration (which may name another one), absolute. */
  datadir: string;
  /** The data directory the command line named, where the configuration file was looked for. */
  originalDatadir: string;
  /** The configuration file's path ("" with `-noconf`). */
  configFile: string;
  /** The configuration files actually read, included ones after the main one. */
  configFilesRead: string[];
  /** The selected chain (`main`, `test`, `testnet4`, `signet` or `regtest`); `args` now reads its section. */
  chain: string;
}

/**
 * After the command line: checks the data directory, reads the
 * configuration files, selects the chain (so `args` reads its `[section]`)
 * and returns where everything is. Throws {@linkcode StartupError} with
 * Core's text ({@linkcode ConfigFileError} for the files themselves); lines
 * Core logs while reading go to `notices`.
 */
export function loadConfig(
  args: Args,
  env: StartupEnvironment,
  notices: Notice[],
): LoadedConfig {
  if (!dataDirectoryExists(args, env)) {
    throw new StartupError(`Specified data directory "${args.get("datadir")}" does not exist.`);
  }
  const originalDatadir = dataDirectory(args, env);
  const configFile = absolutePath(args.getPath("conf", "bitcoin.conf"), originalDatadir);
  let configFilesRead: string[];
  try {
    configFilesRead = readConfigFiles(args, configFile, originalDatadir, notices);
    if (!dataDirectoryExists(args, env)) {
      throw new ArgsError(`specified data directory "${args.get("datadir")}" does not exist.`);
    }
  } catch (error) {
    if (!(error instanceof ArgsError)) throw error;
    throw new ConfigFileError(`Error reading configuration file: ${error.message}`);
  }
  const chain = selectedChain(args);
  if (!KNOWN_CHAINS.includes(chain)) throw new StartupError(`Unknown chain ${chain}.`);
  args.selectNetwork(chain);
  return {
    datadir: dataDirectory(args, env),
    originalDatadir,
    configFile,
    configFilesRead,
    chain,
  };
}
