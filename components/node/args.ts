/**
 * Bitcoin Core's argument model (`common/args.cpp`, `common/config.cpp`,
 * `common/settings.cpp`): settings from the command line and from
 * configuration files with network sections, merged with Core's precedence
 * and quirks, and the help text in Core's layout. It knows no particular
 * option: a program declares its own as {@linkcode ArgSpec}s.
 *
 * - `-name`, `--name`, `-name=value`; `-noname` negates (`false`), and
 *   `-noname=0` is a double negative (`true`).
 * - A single option's last command-line value wins; in a configuration file
 *   the first one does (Core keeps that for compatibility).
 * - Precedence: command line, then the selected network's `[section]`, then
 *   the top of the file (which network-only options ignore).
 *
 * @example
 * ```ts
 * import { Args } from "./args.ts";
 * const args = new Args([{ name: "rpcport", help: "", category: "rpc", networkOnly: true }]);
 * args.parseCommandLine(["-rpcport=1", "--rpcport=2"]);
 * args.readConfig("rpcport=3\n[regtest]\nrpcport=4\n", "bitcoin.conf");
 * args.selectNetwork("regtest");
 * if (args.get("rpcport") !== "2") throw new Error("the command line wins");
 * ```
 * @module
 */
import { atoi, interpretBool } from "../bitcoin/options.ts";

/** The help group of an option; `hidden` options are accepted but not listed. */
export type ArgCategory =
  | "options"
  | "connection"
  | "wallet"
  | "walletdebug"
  | "zmq"
  | "debug"
  | "chain"
  | "relay"
  | "blockcreation"
  | "rpc"
  | "cli"
  | "ipc"
  | "hidden";

/** Help groups' titles, in the order Bitcoin Core prints them. */
const CATEGORIES: Record<ArgCategory, string> = {
  options: "Options:",
  connection: "Connection options:",
  wallet: "Wallet options:",
  walletdebug: "Wallet debugging/testing options:",
  zmq: "ZeroMQ notification options:",
  debug: "Debugging/Testing options:",
  chain: "Chain selection options:",
  relay: "Node relay options:",
  blockcreation: "Block creation options:",
  rpc: "RPC server options:",
  cli: "CLI Commands:",
  ipc: "IPC interprocess connection options:",
  hidden: "",
};

/** One option a program accepts (Core's `AddArg`). */
export interface ArgSpec {
  /** The name, without a dash. */
  name: string;
  /** What follows the name in the help, e.g. `=<dir>`. */
  param?: string;
  /** The help text, one paragraph. */
  help: string;
  /** The help group it is listed in. */
  category: ArgCategory;
  /** Read only from the selected network's section of a config file (`NETWORK_ONLY`). */
  networkOnly?: boolean;
  /** `-noname` is an error (`DISALLOW_NEGATION`). */
  noNegation?: boolean;
  /** `-name` without a value is an error (`DISALLOW_ELISION`). */
  needsValue?: boolean;
  /** Listed only by `-help-debug` (`DEBUG_ONLY`). */
  debugOnly?: boolean;
  /** Logged as `****` (`SENSITIVE`). */
  sensitive?: boolean;
}

/**
 * Core's help of an option this program takes for compatibility, ending
 * with `clause` (what the option comes to here), a final period dropped.
 *
 * @example
 * ```ts
 * import { compatibilityHelp } from "./args.ts";
 * if (compatibilityHelp("Do x.", "accepted") !== "Do x; accepted") throw new Error();
 * ```
 */
export function compatibilityHelp(help: string, clause: string): string {
  return `${help.replace(/\.$/, "")}; ${clause}`;
}

/** A setting: a string; `false` for a negation (`-noname`); `true` for a double negative. */
export type SettingValue = string | boolean;

/** A command line or configuration file Core would refuse; the message is Core's. */
export class ArgsError extends Error {
  /** The error's name. */
  override name = "ArgsError";
}

/** Where a `[section]` (or a `section.name=` key) appeared in a configuration file. */
export interface SectionInfo {
  /** The section's name. */
  name: string;
  /** The file, as it was given. */
  file: string;
  /** The line, from 1. */
  line: number;
}

interface KeyInfo {
  section: string;
  name: string;
  negated: boolean;
}

/** Splits `section.name` and a `no` prefix, as Core's `InterpretKey`. */
function interpretKey(key: string): KeyInfo {
  let section = "";
  const dot = key.indexOf(".");
  if (dot >= 0) {
    section = key.slice(0, dot);
    key = key.slice(dot + 1);
  }
  const negated = key.startsWith("no");
  return { section, name: negated ? key.slice(2) : key, negated };
}

/** The count of values up to and including the last negation (Core's `SettingsSpan::negated`). */
function negatedCount(values: readonly SettingValue[]): number {
  for (let i = values.length; i > 0; i--) {
    if (values[i - 1] === false) return i;
  }
  return 0;
}

const lastNegated = (values: readonly SettingValue[]) => values.at(-1) === false;
const spanEmpty = (values: readonly SettingValue[]) => values.length === 0 || lastNegated(values);

/** The value as Core's `SettingToString` gives it: `false` is "0", `true` is "1". */
function settingText(value: SettingValue): string {
  return value === false ? "0" : value === true ? "1" : value;
}

type Source = "forced" | "commandLine" | "networkSection" | "defaultSection";

/**
 * The lexically normal form of a path, without a trailing slash: what Core's
 * `GetPathArg` makes of an option's value.
 *
 * @example
 * ```ts
 * import { normalPath } from "./args.ts";
 * if (normalPath("./data//x/../") !== "data") throw new Error();
 * if (normalPath("/a/./b/") !== "/a/b") throw new Error();
 * ```
 */
export function normalPath(path: string): string {
  if (path === "") return "";
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.length > 0 && parts.at(-1) !== "..") parts.pop();
    else if (!absolute) parts.push("..");
  }
  const joined = parts.join("/");
  return absolute ? `/${joined}` : joined === "" ? "." : joined;
}

/** `path` made absolute against `base` as `std::filesystem` joins them (no normalisation). */
export function absolutePath(path: string, base: string): string {
  if (path === "" || path.startsWith("/")) return path;
  return base.endsWith("/") ? `${base}${path}` : `${base}/${path}`;
}

/**
 * Settings from a command line and configuration files, read with Bitcoin
 * Core's rules for the options in `specs`.
 */
export class Args {
  readonly #specs: Map<string, ArgSpec>;
  readonly #commandLine = new Map<string, SettingValue[]>();
  /** What a parameter interaction set (Core's forced settings, above every other source). */
  readonly #forced = new Map<string, SettingValue>();
  /** Section ("" for the top of the file) → name → values in file order. */
  readonly #config = new Map<string, Map<string, SettingValue[]>>();
  readonly #sections: SectionInfo[] = [];
  #network = "";
  /** Lines Core logs while reading (unknown configuration values, double negatives). */
  readonly warnings: string[] = [];

  /** Settings for the options `specs` declares; empty until read. */
  constructor(specs: readonly ArgSpec[]) {
    this.#specs = new Map(specs.map((spec) => [spec.name, spec]));
  }

  /** The declaration of `name`, if it is an option here. */
  spec(name: string): ArgSpec | undefined {
    return this.#specs.get(name);
  }

  /** The network whose config section applies ("" until one is selected). */
  get network(): string {
    return this.#network;
  }

  /** Selects the network whose `[section]` applies (Core's `SelectConfigNetwork`). */
  selectNetwork(network: string): void {
    this.#network = network;
  }

  /** Core's `InterpretValue`: checks negation and elision rules. */
  #interpretValue(key: KeyInfo, value: string | undefined, spec: ArgSpec): SettingValue {
    if (key.negated) {
      if (spec.noNegation) {
        throw new ArgsError(`Negating of -${key.name} is meaningless and therefore forbidden`);
      }
      if (value !== undefined && !interpretBool(value)) {
        this.warnings.push(
          `Warning: parsed potentially confusing double-negative -${key.name}=${value}`,
        );
        return true;
      }
      return false;
    }
    if (value === undefined && spec.needsValue) {
      throw new ArgsError(
        `Can not set -${key.name} with no value. Please specify value with -${key.name}=value.`,
      );
    }
    return value ?? "";
  }

  /**
   * Reads a command line as Core's `ParseParameters`: options up to the
   * first token without a dash, which is returned with everything after it
   * (a program that takes no commands refuses it later). Throws
   * {@linkcode ArgsError} with Core's text for an unknown option.
   */
  parseCommandLine(argv: readonly string[]): string[] {
    this.#commandLine.clear();
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (arg === "-") break;
      const equals = arg.indexOf("=");
      let key = equals >= 0 ? arg.slice(0, equals) : arg;
      const value = equals >= 0 ? arg.slice(equals + 1) : undefined;
      if (!key.startsWith("-")) return argv.slice(i);
      if (key.length > 1 && key[1] === "-") key = key.slice(1);
      const info = interpretKey(key.slice(1));
      const spec = this.#specs.get(info.name);
      if (spec === undefined || info.section !== "") {
        throw new ArgsError(`Invalid parameter ${arg}`);
      }
      const values = this.#commandLine.get(info.name) ?? [];
      values.push(this.#interpretValue(info, value, spec));
      this.#commandLine.set(info.name, values);
    }
    const includes = this.#commandLine.get("includeconf");
    if (includes !== undefined && !spanEmpty(includes)) {
      const first = includes[negatedCount(includes)];
      throw new ArgsError(
        `-includeconf cannot be used from commandline; -includeconf=${JSON.stringify(first)}`,
      );
    }
    return [];
  }

  /**
   * Reads one configuration file's text (Core's `ReadConfigStream`):
   * `name=value` lines, `[section]` headers and `#` comments. Unknown names
   * are only recorded in {@linkcode Args.warnings}; malformed lines throw
   * {@linkcode ArgsError} with Core's text.
   */
  readConfig(text: string, file: string): void {
    const options: [string, string][] = [];
    let prefix = "";
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    for (const [index, raw] of lines.entries()) {
      const line = index + 1;
      const hash = raw.indexOf("#");
      const usedHash = hash >= 0;
      const str = (usedHash ? raw.slice(0, hash) : raw).replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
      if (str === "") continue;
      if (str.startsWith("[") && str.endsWith("]")) {
        const section = str.slice(1, -1);
        this.#sections.push({ name: section, file, line });
        prefix = `${section}.`;
      } else if (str.startsWith("-")) {
        throw new ArgsError(
          `parse error on line ${line}: ${str}, options in configuration file must be specified without leading -`,
        );
      } else if (str.includes("=")) {
        const equals = str.indexOf("=");
        const name = prefix + str.slice(0, equals).replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
        const value = str.slice(equals + 1).replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
        if (usedHash && name.includes("rpcpassword")) {
          throw new ArgsError(
            `parse error on line ${line}, using # in rpcpassword can be ambiguous and should be avoided`,
          );
        }
        options.push([name, value]);
        const dot = name.lastIndexOf(".");
        if (dot >= 0 && prefix.length <= dot) {
          this.#sections.push({ name: name.slice(0, dot), file, line });
        }
      } else {
        let error = `parse error on line ${line}: ${str}`;
        if (str.length >= 2 && str.startsWith("no")) {
          error += `, if you intended to specify a negated option, use ${str}=1 instead`;
        }
        throw new ArgsError(error);
      }
    }
    for (const [key, value] of options) {
      const info = interpretKey(key);
      if (info.name === "conf") {
        throw new ArgsError(
          "conf cannot be set in the configuration file; use includeconf= if you want to include additional config files",
        );
      }
      const spec = this.#specs.get(info.name);
      if (spec === undefined) {
        this.warnings.push(`Ignoring unknown configuration value ${key}`);
        continue;
      }
      const section = this.#config.get(info.section) ?? new Map<string, SettingValue[]>();
      const values = section.get(info.name) ?? [];
      values.push(this.#interpretValue(info, value, spec));
      section.set(info.name, values);
      this.#config.set(info.section, section);
    }
  }

  /** The values of `name` in `section` of the configuration files, in file order. */
  configValues(section: string, name: string): readonly SettingValue[] {
    return this.#config.get(section)?.get(name) ?? [];
  }

  /** Whether the command line names `name` at all (negated or not). */
  onCommandLine(name: string): boolean {
    return this.#commandLine.has(name);
  }

  /** Each source holding `name`, highest precedence first (Core's `MergeSettings`). */
  #sources(name: string, section: string): [Source, SettingValue[]][] {
    const out: [Source, SettingValue[]][] = [];
    const forced = this.#forced.get(name);
    if (forced !== undefined) out.push(["forced", [forced]]);
    const line = this.#commandLine.get(name);
    if (line !== undefined) out.push(["commandLine", line]);
    const network = section === "" ? undefined : this.#config.get(section)?.get(name);
    if (network !== undefined) out.push(["networkSection", network]);
    const top = this.#config.get("")?.get(name);
    if (top !== undefined) out.push(["defaultSection", top]);
    return out;
  }

  /** Whether the top of the file is ignored for `name` (Core's `!UseDefaultSection`). */
  #ignoresDefaultSection(name: string): boolean {
    return this.#network !== "main" && this.#specs.get(name)?.networkOnly === true;
  }

  /** Core's `GetSetting`, quirks included. */
  #setting(
    name: string,
    section: string,
    ignoreDefaultSection: boolean,
    chainType: boolean,
  ): SettingValue | undefined {
    for (const [source, values] of this.#sources(name, section)) {
      const fromConfig = source === "networkSection" || source === "defaultSection";
      // A negation at the top of the file applies even to network-only options.
      if (ignoreDefaultSection && source === "defaultSection" && !lastNegated(values)) continue;
      // A negated -regtest or -testnet is ignored, whatever its source.
      if (chainType && lastNegated(values)) continue;
      if (!spanEmpty(values)) {
        // In a configuration file the first value wins, except for the chain.
        return fromConfig && !chainType ? values[negatedCount(values)] : values.at(-1)!;
      }
      if (lastNegated(values)) return false;
    }
    return undefined;
  }

  /** The merged setting of `name` for the selected network, or undefined when unset. */
  setting(name: string): SettingValue | undefined {
    return this.#setting(name, this.#network, this.#ignoresDefaultSection(name), false);
  }

  /** A chain selection setting (`-regtest`, `-testnet`, …) as Core's `GetChainArg` reads it. */
  chainFlag(name: string): boolean {
    const value = this.#setting(name, "", false, true);
    return value === undefined ? false : typeof value === "boolean" ? value : interpretBool(value);
  }

  /** `-name`'s value as text (`false` is "0"), or undefined when unset. */
  get(name: string): string | undefined {
    const value = this.setting(name);
    return value === undefined ? undefined : settingText(value);
  }

  /** Every value of a repeatable option, with Core's negation rules (`GetArgs`). */
  getAll(name: string): string[] {
    const result: SettingValue[] = [];
    let done = false;
    let previousNegatedEmpty = false;
    const ignoreDefault = this.#ignoresDefaultSection(name);
    for (const [source, values] of this.#sources(name, this.#network)) {
      // Config values come back after a negation that a later command-line value followed.
      const zombies = (source === "networkSection" || source === "defaultSection") &&
        !previousNegatedEmpty;
      if (ignoreDefault && source === "defaultSection") continue;
      if (!done || zombies) result.push(...values.slice(negatedCount(values)));
      done ||= negatedCount(values) > 0;
      previousNegatedEmpty ||= lastNegated(values) && result.length === 0;
    }
    return result.map(settingText);
  }

  /**
   * Core's `SoftSetArg`: sets `-name` to `value` unless it is set already
   * (a parameter interaction: `-blocksonly` lowers `-maxmempool`'s
   * default); true when it did.
   */
  softSet(name: string, value: string): boolean {
    if (this.isSet(name)) return false;
    this.#forced.set(name, value);
    return true;
  }

  /** Whether `-name` is set at all, a negation included. */
  isSet(name: string): boolean {
    return this.setting(name) !== undefined;
  }

  /** Whether `-name`'s setting is a negation. */
  isNegated(name: string): boolean {
    return this.setting(name) === false;
  }

  /** `-name` as a boolean, `fallback` when unset. */
  getBool(name: string, fallback: boolean): boolean {
    const value = this.setting(name);
    if (value === undefined) return fallback;
    return typeof value === "boolean" ? value : interpretBool(value);
  }

  /** `-name` as an integer read like C's `atoi`, `fallback` when unset. */
  getInt(name: string, fallback: number): number {
    const value = this.setting(name);
    if (value === undefined) return fallback;
    return typeof value === "boolean" ? Number(value) : atoi(value);
  }

  /** `-name` as a normalised path; "" when negated, `fallback` when unset or empty. */
  getPath(name: string, fallback = ""): string {
    if (this.isNegated(name)) return "";
    const text = this.get(name) ?? "";
    return text === "" ? fallback : normalPath(text);
  }

  /**
   * Network-only options set only at the top of a config file, which the
   * selected network then ignores (Core's `GetUnsuitableSectionOnlyArgs`).
   */
  unsuitableSectionOnly(): string[] {
    if (this.#network === "" || this.#network === "main") return [];
    const names = [...this.#specs.values()].filter((spec) => spec.networkOnly)
      .map((spec) => `-${spec.name}`).sort();
    return names.filter((arg) => {
      let inDefault = false;
      let elsewhere = false;
      for (const [source, values] of this.#sources(arg.slice(1), this.#network)) {
        if (spanEmpty(values)) continue;
        if (source === "defaultSection") inDefault = true;
        else elsewhere = true;
      }
      return inDefault && !elsewhere;
    });
  }

  /** The config sections that are not among `known`. */
  unrecognizedSections(known: readonly string[]): SectionInfo[] {
    return this.#sections.filter((section) => !known.includes(section.name));
  }

  /**
   * The settings as Core logs them at startup (`LogArgs`): configuration
   * file values per section, then the command line; sensitive ones as `****`.
   */
  describe(): string[] {
    const lines: string[] = [];
    const describe = (prefix: string, section: string, map: Map<string, SettingValue[]>) => {
      for (const name of [...map.keys()].sort()) {
        for (const value of map.get(name)!) {
          const shown = this.#specs.get(name)?.sensitive ? "****" : JSON.stringify(value);
          lines.push(`${prefix} ${section === "" ? "" : `[${section}] `}${name}=${shown}`);
        }
      }
    };
    for (const section of [...this.#config.keys()].sort()) {
      describe("Config file arg:", section, this.#config.get(section)!);
    }
    describe("Command-line arg:", "", this.#commandLine);
    return lines;
  }

  /** The options' help in Core's layout (`GetHelpMessage`); `debug` adds debug-only ones. */
  helpMessage(debug: boolean): string {
    let usage = "";
    for (const [category, title] of Object.entries(CATEGORIES)) {
      if (category === "hidden") continue;
      const specs = [...this.#specs.values()].filter((spec) => spec.category === category);
      if (specs.length === 0) continue;
      usage += `${title}\n\n`;
      const named = specs.map((spec) => [`-${spec.name}`, spec] as const)
        .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
      for (const [name, spec] of named) {
        if (spec.debugOnly && !debug) continue;
        usage += `  ${name}${spec.param ?? ""}\n       ${formatParagraph(spec.help, 72, 7)}\n\n`;
      }
    }
    return usage;
  }
}

/**
 * Wraps `text` at `width` columns, indenting continuation lines by
 * `indent` spaces, as Core's `FormatParagraph` (the first line is assumed
 * to be indented already).
 *
 * @example
 * ```ts
 * import { formatParagraph } from "./args.ts";
 * if (formatParagraph("aaa bbb ccc", 8, 2) !== "aaa bbb\n  ccc") throw new Error();
 * ```
 */
export function formatParagraph(text: string, width = 79, indent = 0): string {
  let out = "";
  let at = 0;
  let indented = 0;
  while (at < text.length) {
    let lineEnd = text.indexOf("\n", at);
    if (lineEnd < 0) lineEnd = text.length;
    const room = width - indented;
    if (lineEnd - at <= room) {
      out += text.slice(at, lineEnd + 1);
      at = lineEnd + 1;
      indented = 0;
      continue;
    }
    let space = lastIndexOfAny(text, " \n", at + room);
    if (space < at) {
      // No place to break: keep the whole word.
      space = firstIndexOfAny(text, "\n ", at);
      if (space < 0) {
        out += text.slice(at);
        break;
      }
    }
    out += `${text.slice(at, space)}\n`;
    if (text[space] === "\n") indented = 0;
    else if (indent > 0) {
      out += " ".repeat(indent);
      indented = indent;
    }
    at = space + 1;
  }
  return out;
}

function lastIndexOfAny(text: string, chars: string, from: number): number {
  for (let i = Math.min(from, text.length - 1); i >= 0; i--) {
    if (chars.includes(text[i])) return i;
  }
  return -1;
}

function firstIndexOfAny(text: string, chars: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (chars.includes(text[i])) return i;
  }
  return -1;
}
