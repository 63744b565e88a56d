/**
 * Bitcoin Core's notification commands, run: `-startupnotify`,
 * `-blocknotify` (`%s`: the block hash), `-walletnotify` (`%s`: the txid,
 * `%b`: the block hash or `unconfirmed`, `%h`: the height or -1, `%w`: the
 * wallet name, shell-escaped), `-alertnotify` (`%s`: the warning,
 * sanitized and single-quoted) and `-shutdownnotify` (every one given, run
 * at once and waited for), each through `/bin/sh -c` in the caller's
 * directory, as bitcoind's `runCommand` calls `system()`; a command that
 * fails is logged as bitcoind logs it.
 *
 * {@linkcode CommandRunner} is a {@linkcode Notifier}: a process that may
 * start processes (the launcher, or a node run with `deno task node`) runs
 * the commands itself, and a sandboxed component reaches the launcher's
 * through IPC (`Init.setNotifier`). It checks and formats every value
 * itself, so a component can trigger the user's command only with a
 * well-formed hash, height, quoted name and sanitized message. Unlike bitcoind, which starts
 * a thread per event, it runs at most {@linkcode CommandRunnerOptions.maxRunning}
 * commands at a time and keeps at most
 * {@linkcode CommandRunnerOptions.maxWaiting} waiting (later ones are
 * dropped and logged): a flood of events cannot exhaust the machine.
 *
 * @example
 * ```ts
 * import { CommandRunner, NO_COMMANDS } from "./commands.ts";
 * const dir = Deno.makeTempDirSync();
 * const runner = new CommandRunner({
 *   commands: { ...NO_COMMANDS, block: `echo %s > ${dir}/tip` },
 *   log: (line) => console.error(line),
 * });
 * runner.blockTip(new Uint8Array(32).fill(1));
 * await runner.idle();
 * if (Deno.readTextFileSync(`${dir}/tip`) !== `${"01".repeat(32)}\n`) throw new Error("not run");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { constants as osConstants } from "node:os";
import type { Notifier } from "../../schemas/gen/ipc/notify.mp.ts";

/** The command lines, as the options give them (null or empty: none). */
export interface NotifyCommands {
  /** `-startupnotify`: run once the component has started. */
  readonly startup: string | null;
  /** `-blocknotify`: run when the best block changes. */
  readonly block: string | null;
  /** `-walletnotify`: run when a wallet transaction is added or changes. */
  readonly wallet: string | null;
  /** `-shutdownnotify`, every one given: run before shutting down, waited for. */
  readonly shutdown: readonly string[];
  /** `-alertnotify`: run when the node raises a warning. */
  readonly alert: string | null;
}

/** No commands at all. */
export const NO_COMMANDS: NotifyCommands = {
  startup: null,
  block: null,
  wallet: null,
  shutdown: [],
  alert: null,
};

/** The settings a component's options give (the node's `Args` is one). */
export interface NotifySettings {
  /** The last value given for `name`. */
  get(name: string): string | undefined;
  /** Every value given for `name`. */
  getAll(name: string): string[];
  /** Whether the last one given is `-no<name>`. */
  isNegated(name: string): boolean;
}

/**
 * The commands `args` set, as bitcoind reads them (`GetArg`: the last
 * one given; `GetArgs` for `-shutdownnotify`); an empty or negated one is
 * none.
 *
 * @example
 * ```ts
 * import { notifyCommandsOf } from "./commands.ts";
 * const given: Record<string, string[]> = { blocknotify: ["a %s", "b %s"], shutdownnotify: ["x", "y"] };
 * const commands = notifyCommandsOf({
 *   get: (name) => given[name]?.at(-1),
 *   getAll: (name) => given[name] ?? [],
 *   isNegated: () => false,
 * });
 * if (commands.block !== "b %s" || commands.shutdown.join() !== "x,y") throw new Error();
 * ```
 */
export function notifyCommandsOf(args: NotifySettings): NotifyCommands {
  const one = (name: string) => args.isNegated(name) ? null : args.get(name) || null;
  return {
    startup: one("startupnotify"),
    block: one("blocknotify"),
    wallet: one("walletnotify"),
    shutdown: args.isNegated("shutdownnotify")
      ? []
      : args.getAll("shutdownnotify").filter((command) => command !== ""),
    alert: one("alertnotify"),
  };
}

/**
 * Whether `commands` holds any command.
 *
 * @example
 * ```ts
 * import { hasCommands, NO_COMMANDS } from "./commands.ts";
 * if (hasCommands(NO_COMMANDS) || !hasCommands({ ...NO_COMMANDS, shutdown: ["x"] })) throw new Error();
 * ```
 */
export function hasCommands(commands: NotifyCommands): boolean {
  return commands.startup !== null || commands.block !== null || commands.wallet !== null ||
    commands.shutdown.length > 0 || commands.alert !== null;
}

/** The longest wallet name a runner substitutes: what a component may make it copy is bounded. */
export const MAX_WALLET_NAME = 4096;

/** The shell the commands run in, as `system()` runs them. */
export const NOTIFY_SHELL = "/bin/sh";

/**
 * Whether this process may run the commands (start {@linkcode NOTIFY_SHELL});
 * throws a one-line error naming the grant when it may not, so that a
 * process run without it says so at start instead of at each event.
 *
 * @example
 * ```ts
 * import { checkMayRunCommands, NO_COMMANDS } from "./commands.ts";
 * checkMayRunCommands(NO_COMMANDS); // nothing to run: nothing needed
 * ```
 */
export function checkMayRunCommands(commands: NotifyCommands): void {
  if (!hasCommands(commands)) return;
  if (Deno.permissions.querySync({ name: "run", command: NOTIFY_SHELL }).state === "granted") {
    return;
  }
  throw new Error(
    `the notification commands (-startupnotify, -blocknotify, -walletnotify, -shutdownnotify, ` +
      `-alertnotify) ` +
      `run ${NOTIFY_SHELL}: run this process with --allow-run=${NOTIFY_SHELL}`,
  );
}

/**
 * Bitcoin Core's `ShellEscape`: `value` in single quotes, each `'` as `'"'"'`.
 *
 * @example
 * ```ts
 * import { shellEscape } from "./commands.ts";
 * if (shellEscape("it's") !== `'it'"'"'s'`) throw new Error(shellEscape("it's"));
 * ```
 */
export function shellEscape(value: string): string {
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

/** Core's words for an unknown version bit active, which stays set until the node stops. */
const UNKNOWN_RULES = /^Unknown new rules activated \(versionbit (?:[0-9]|1[0-9]|2[0-8])\)$/;
/** Core's (v30) words for a chain known invalid beyond the tip, which the node sets and unsets. */
const LARGE_WORK_INVALID_CHAIN =
  "Warning: We do not appear to fully agree with our peers! You may need to upgrade, or other nodes may need to upgrade.";

/** Core's `SAFE_CHARS_DEFAULT`: the characters `SanitizeString` keeps by default. */
const SAFE_CHARS_DEFAULT =
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;-_/:?@()";

/**
 * Core's `SanitizeString(text)`: only the characters of `SAFE_CHARS_DEFAULT`
 * are kept, so no quote or shell character survives.
 *
 * @example
 * ```ts
 * import { sanitizeString } from "./commands.ts";
 * if (sanitizeString("it's $(x) `y`") !== "its (x) y") throw new Error();
 * ```
 */
export function sanitizeString(text: string): string {
  return [...text].filter((c) => SAFE_CHARS_DEFAULT.includes(c)).join("");
}

/** A 32-byte hash in internal byte order, as bitcoind prints it (reversed hex). */
function hashHex(hash: Uint8Array, what: string): string {
  if (!(hash instanceof Uint8Array) || hash.length !== 32) {
    throw new Error(`${what}: expected 32 bytes, got ${hash?.length ?? 0}`);
  }
  return Array.from(hash, (byte) => byte.toString(16).padStart(2, "0")).reverse().join("");
}

/** How a {@linkcode CommandRunner} runs commands. */
export interface CommandRunnerOptions {
  /** The command lines. */
  commands: NotifyCommands;
  /** Where a failing command is reported (bitcoind's `runCommand error: …` line). */
  log: (line: string) => void;
  /** The commands' working directory; this process's by default. */
  cwd?: string;
  /** The shell ({@linkcode NOTIFY_SHELL}). */
  shell?: string;
  /** At most this many commands run at once (8). */
  maxRunning?: number;
  /** At most this many wait to run; later ones are dropped (10,000). */
  maxWaiting?: number;
  /**
   * The commands' stdout and stderr: this process's (`inherit`, the
   * default) or `/dev/null` (`null`: a daemon's, as bitcoind's once forked).
   */
  output?: "inherit" | "null";
}

/** Runs the user's notification commands for the events it is told of. */
export class CommandRunner implements Notifier {
  readonly #commands: NotifyCommands;
  readonly #log: (line: string) => void;
  readonly #cwd: string | undefined;
  readonly #shell: string;
  readonly #maxRunning: number;
  readonly #maxWaiting: number;
  readonly #output: "inherit" | "null";
  readonly #waiting: string[] = [];
  #running = 0;
  #dropping = false;
  #idle: PromiseWithResolvers<void> | null = null;
  /** Whether `-startupnotify` ran for this run of the component ({@linkcode CommandRunner.rearm}). */
  #startedUp = false;
  /** The `-shutdownnotify` commands of this run of the component, once asked for. */
  #shuttingDown: Promise<void> | null = null;
  /** Whether `-alertnotify` ran for an unknown version bit in this run of the component. */
  #alertedUnknownRules = false;

  constructor(options: CommandRunnerOptions) {
    this.#commands = options.commands;
    this.#log = options.log;
    this.#cwd = options.cwd;
    this.#shell = options.shell ?? NOTIFY_SHELL;
    this.#maxRunning = options.maxRunning ?? 8;
    this.#maxWaiting = options.maxWaiting ?? 10_000;
    this.#output = options.output ?? "inherit";
  }

  /** The command lines it runs. */
  get commands(): NotifyCommands {
    return this.#commands;
  }

  /** Runs `-startupnotify`, once per run of the component. */
  startup(): void {
    if (this.#startedUp) return;
    this.#startedUp = true;
    this.#queue(this.#commands.startup);
  }

  /** Runs `-blocknotify` for the block `hash` (internal byte order). */
  blockTip(hash: Uint8Array): void {
    const hex = hashHex(hash, "blockTip hash");
    this.#queue(this.#commands.block?.replaceAll("%s", () => hex) ?? null);
  }

  /**
   * Runs `-walletnotify` for transaction `txid` of wallet `wallet`, in the
   * block `blockHash` at `height`, or in none (an empty hash and -1).
   */
  walletTransaction(wallet: string, txid: Uint8Array, blockHash: Uint8Array, height: number): void {
    const id = hashHex(txid, "walletTransaction txid");
    const confirmed = blockHash.length > 0;
    if (confirmed ? !(Number.isInteger(height) && height >= 0) : height !== -1) {
      throw new Error(
        `walletTransaction: height ${height} does not go with ${
          confirmed ? "a block" : "no block"
        }`,
      );
    }
    if (typeof wallet !== "string" || wallet.length > MAX_WALLET_NAME || wallet.includes("\0")) {
      throw new Error(
        `walletTransaction: a wallet name is text of at most ${MAX_WALLET_NAME} characters, no NUL`,
      );
    }
    const block = confirmed ? hashHex(blockHash, "walletTransaction blockHash") : "unconfirmed";
    const command = this.#commands.wallet;
    if (command === null) return;
    // Core's order: %s, then %b and %h, then %w (a name holding "%s" stays as it is). Each is
    // put in by a function: a replacement string would read `$'`, `$&`… in a name as patterns.
    this.#queue(
      command.replaceAll("%s", () => id)
        .replaceAll("%b", () => block)
        .replaceAll("%h", () => String(height))
        .replaceAll("%w", () => shellEscape(wallet)),
    );
  }

  /**
   * Runs `-alertnotify` for the warning `message`: `%s` is replaced by it
   * sanitized and in single quotes, as Core's `AlertNotify` does. Core's
   * `Warnings::Set` tells only a warning newly set: an unknown version
   * bit's is never unset, so it runs once per run of the component; the
   * invalid chain's runs each time the node sets it again. Only Core's
   * words for these warnings are taken: a component cannot put other text
   * into a command.
   */
  alert(message: string): void {
    const unknownRules = typeof message === "string" && UNKNOWN_RULES.test(message);
    if (!unknownRules && message !== LARGE_WORK_INVALID_CHAIN) {
      throw new Error(
        "alert: not a warning this node raises ('Unknown new rules activated (versionbit N)', N from 0 to 28, or the invalid chain's)",
      );
    }
    if (unknownRules) {
      if (this.#alertedUnknownRules) return;
      this.#alertedUnknownRules = true;
    }
    this.#queue(
      this.#commands.alert?.replaceAll("%s", () => `'${sanitizeString(message)}'`) ?? null,
    );
  }

  /**
   * Runs every `-shutdownnotify` command at once, once per run of the
   * component (a second call waits for the first's); resolves when all
   * have ended.
   */
  shutdown(): Promise<void> {
    this.#shuttingDown ??= Promise.all(
      this.#commands.shutdown.map((command) => this.#run(command)),
    ).then(() => {});
    return this.#shuttingDown;
  }

  /**
   * A new run of the component begins (its supervisor restarted it):
   * `-startupnotify`, `-shutdownnotify` and `-alertnotify` run again for it.
   */
  rearm(): void {
    this.#startedUp = false;
    this.#shuttingDown = null;
    this.#alertedUnknownRules = false;
  }

  /** Commands running now. */
  get running(): number {
    return this.#running;
  }

  /** Commands waiting to run. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves once no command runs or waits. */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#waiting.length === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers();
    return this.#idle.promise;
  }

  #queue(command: string | null): void {
    if (command === null) return;
    if (this.#running < this.#maxRunning) {
      this.#start(command);
      return;
    }
    if (this.#waiting.length >= this.#maxWaiting) {
      if (!this.#dropping) {
        this.#log(
          `runCommand: ${this.#maxWaiting} notification commands are waiting; dropping more until they run`,
        );
      }
      this.#dropping = true;
      return;
    }
    this.#waiting.push(command);
  }

  #start(command: string): void {
    this.#running++;
    this.#run(command).finally(() => {
      this.#running--;
      const next = this.#waiting.shift();
      if (next !== undefined) this.#start(next);
      else if (this.#running === 0) {
        this.#dropping = false;
        this.#idle?.resolve();
        this.#idle = null;
      }
    });
  }

  /** `system(command)`; never rejects. */
  async #run(command: string): Promise<void> {
    let status: number;
    let reason = "";
    try {
      const child = new Deno.Command(this.#shell, {
        args: ["-c", command],
        cwd: this.#cwd,
        stdin: "null",
        stdout: this.#output,
        stderr: this.#output,
      }).spawn();
      const ended = await child.status;
      // system()'s wait status: the exit code in the high byte, or the signal number.
      status = ended.signal === null ? ended.code * 256 : signalNumber(ended.signal);
    } catch (error) {
      status = -1;
      reason = ` (${error instanceof Error ? error.message : error})`;
    }
    if (status !== 0) this.#log(`runCommand error: system(${command}) returned ${status}${reason}`);
  }
}

/** The number of `signal`, as system()'s wait status holds it. */
function signalNumber(signal: Deno.Signal): number {
  return (osConstants.signals as Record<string, number>)[signal] ?? 0;
}
