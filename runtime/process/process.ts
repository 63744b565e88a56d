/**
 * The process half of the IPC API (libmultiprocess' `IpcProcess`): starting
 * components and finding each other. Each function moves a byte channel
 * into place and hands it to a protocol (`protocol.ts`, Cap'n Proto by
 * default).
 *
 * - {@linkcode spawn}: start a component as a child process; it gets its end
 *   of a socket pair as descriptor 3 (`-ipcfd=3`) and needs no filesystem
 *   grant for it, pipes of its own as 0–2 (what it prints reaches us as
 *   sanitized lines, `output.ts`), and no other descriptor. Releasing the
 *   Init proxy ends the child.
 * - {@linkcode serve}: in a spawned child, serve the Init object to the
 *   parent; the process exits when the parent goes.
 * - {@linkcode connect} / {@linkcode listen}: UNIX socket addresses in
 *   Bitcoin Core's syntax (`address.ts`); listening survives failed
 *   accepts (`accept.ts`) and bounds clients that have not presented
 *   their token.
 *
 * @example
 * ```ts
 * import { denoCommand, spawn } from "./process.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * const entry = new URL("../../examples/foo/main.ts", import.meta.url);
 * await using child = await spawn(FooInit, denoCommand(entry, { permissions: ["--deny-net"] }));
 * await using foo = (await child.init.makeFoo())!;
 * if (await foo.add(2, 3) !== 5) throw new Error("called the child");
 * ```
 * @module
 */
import type { Socket } from "node:net";
import type { InterfaceDescriptor } from "../schema/descriptor.ts";
import { channelFromNodeSocket } from "../transport.ts";
import { IpcLog } from "../log.ts";
import { type Remote, sessionOf } from "../proxy/client.ts";
import { AddressError, parseAddress, prepareSocketPath } from "./address.ts";
import { lifeline, TOKEN_BYTES } from "./lifeline.ts";
import { acceptConnections } from "./accept.ts";
import {
  LAST_LINES,
  LineForwarder,
  type OutputLimits,
  type OutputStream,
  printedLast,
  stderrLines,
} from "./output.ts";
import { capnpProtocol, type IpcProtocol, type ProtocolOptions } from "./protocol.ts";
import { delayOption, Timer } from "../timer.ts";

/** Options every entry point shares. */
export interface IpcOptions extends ProtocolOptions {
  /** Protocol to speak; Cap'n Proto with libmultiprocess conventions by default. */
  protocol?: IpcProtocol | undefined;
}

/** How a child ended. */
export interface ExitStatus {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: string | null;
}

/**
 * The exact program and arguments that start a child component: Deno
 * itself, or wrappers (resource limits, namespaces) ending in `deno run`.
 * {@linkcode denoCommand} makes the plain form; the sandbox makes the
 * confined one.
 */
export interface ChildCommand {
  /** The program to run (Deno's binary, or a wrapper such as prlimit). */
  executable: string;
  /** Arguments, the module and its own arguments last; `-ipcfd=3` is appended. */
  args: readonly string[];
  /** The whole environment of the child; nothing is inherited. */
  env: Readonly<Record<string, string>>;
  /** Working directory of the child; ours by default. */
  cwd?: string | undefined;
}

/** A running child component. Disposing it releases Init and waits for the exit. */
export interface SpawnedComponent<T> extends AsyncDisposable {
  /** The child's Init object. */
  readonly init: Remote<T>;
  /** The child's process id. */
  readonly pid: number;
  /** Settles when the child has exited. */
  readonly exited: Promise<ExitStatus>;
  /** Sends `signal` (SIGTERM by default) to the child, unless it has exited. */
  kill(signal?: Deno.Signal): void;
  /** Writes one line to the child's stdin, its control line (see `lifeline.ts`). */
  sendControl(line: string): void;
  /** Signals sent to the child so far (by `kill` or on dispose), oldest first. */
  readonly signalsSent: readonly Deno.Signal[];
  /**
   * The last lines it printed (three at most, stack frames left out): what
   * to show when it ended unexpectedly.
   */
  readonly lastLines: readonly string[];
}

/** How to run a spawned child. */
export interface SpawnOptions extends IpcOptions {
  /** Milliseconds to wait for a clean exit on dispose before SIGKILL; 5000 by default, `Infinity` for ever. */
  exitTimeoutMs?: number | undefined;
  /**
   * Receives each line the child prints, sanitized and capped
   * (`output.ts`), and lines counting what was dropped. By default they
   * go to our stderr as `[<label>] <line>`; the child never shares our
   * stdout or stderr.
   */
  output?: ((line: string, stream: OutputStream) => void) | undefined;
  /** Caps on the child's lines; `DEFAULT_OUTPUT_LIMITS` (`output.ts`) by default. */
  outputLimits?: Partial<OutputLimits> | undefined;
  /** The child's name before its lines in our stderr; `pid <pid>` by default. */
  label?: string | undefined;
  /**
   * Milliseconds {@linkcode spawn} waits for the child to serve (to answer
   * on its channel) before it kills the child and rejects; 60 000 by
   * default, `Infinity` for ever. With 0 it resolves at once: calls then
   * wait for the child, and fail with a disconnect if it ends first.
   */
  startTimeoutMs?: number | undefined;
  /** Aborting it before the child serves kills the child; {@linkcode spawn} rejects with its reason. */
  signal?: AbortSignal | undefined;
  /**
   * Lines for the child's control line (its stdin, see `lifeline.ts`),
   * written as it starts, before {@linkcode spawn} waits for it to serve:
   * what it needs before it can (a token to present to a listener, say).
   */
  control?: readonly string[] | undefined;
}

/** A line of a JavaScript stack trace: `    at f (file:///…)`. */
const STACK_FRAME = /^\s+at /;

/** How long {@linkcode spawn} waits for a child to serve, by default. */
export const DEFAULT_START_TIMEOUT_MS = 60_000;

/**
 * A spawned child ended, or did not serve in time, before it served.
 *
 * @example A child that fails at start: how it ended, and the last lines it printed
 * ```ts
 * import { denoCommand, spawn, SpawnError } from "./process.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * const failing = `data:text/javascript,${encodeURIComponent('throw new Error("no config")')}`;
 * const printed: string[] = []; // the child's lines; by default they go to our stderr
 * const error = await spawn(FooInit, denoCommand(failing, { permissions: ["--deny-net"] }), {
 *   output: (line) => printed.push(line),
 * }).then(() => null, (thrown: unknown) => thrown);
 * if (!(error instanceof SpawnError)) throw new Error(`started: ${error}`);
 * if (!/exited with status 1 before serving/.test(error.message)) throw new Error(error.message);
 * if (!error.message.includes("no config")) throw new Error("its last lines are in the message");
 * if (!printed.some((line) => line.includes("no config"))) throw new Error(printed.join("\n"));
 * ```
 */
export class SpawnError extends Error {
  /** Always `"SpawnError"`. */
  override name = "SpawnError";
}

/** Options of {@linkcode denoCommand}. */
export interface DenoCommandOptions {
  /** Permission flags (`--allow-read=…`); none by default. `--deny-run` is always added. */
  permissions?: readonly string[] | undefined;
  /** Deno flags before the module (e.g. `--v8-flags=…`); not permissions. */
  denoFlags?: readonly string[] | undefined;
  /** The module's own arguments. */
  args?: readonly string[] | undefined;
  /** Environment of the child; empty by default. */
  env?: Record<string, string> | undefined;
}

/**
 * The plain `deno run` command for `module`: no prompt, the given
 * permissions and `--deny-run`, which is also the explicit permission flag
 * that keeps Node's child_process from granting `-A`.
 *
 * @example
 * ```ts
 * import { denoCommand } from "./process.ts";
 * const command = denoCommand("component.ts", { permissions: ["--allow-read=/data"] });
 * const expected = "run --no-prompt --allow-read=/data --deny-run component.ts";
 * if (command.args.join(" ") !== expected) throw new Error(command.args.join(" "));
 * ```
 */
export function denoCommand(module: string | URL, options: DenoCommandOptions = {}): ChildCommand {
  return {
    executable: Deno.execPath(),
    args: [
      "run",
      "--no-prompt",
      ...(options.denoFlags ?? []),
      ...(options.permissions ?? []),
      "--deny-run",
      module instanceof URL ? module.href : module,
      ...(options.args ?? []),
    ],
    env: options.env ?? {},
  };
}

/** Why `command` may not start a component, or null when it may. */
function refusal(command: ChildCommand): string | null {
  if (typeof command !== "object" || command === null || !Array.isArray(command.args)) {
    return `expected a command (make one with denoCommand), got ${
      typeof command === "string" ? JSON.stringify(command) : typeof command
    }`;
  }
  const { args } = command;
  if (args.some((arg) => /^(-A|--allow-all|--allow-run)(=|$)/.test(arg))) {
    return "-A and --allow-run are never granted to a component";
  }
  if (!args.some((arg) => /^--(allow|deny)-[a-z]+(=|$)/.test(arg))) {
    // Node's child_process would otherwise run the child with -A.
    return "a component needs at least one explicit permission flag";
  }
  const deno = Deno.execPath();
  for (let i = 0; i < args.length; i++) {
    // child_process inserts `run -A` after any argument naming Deno's own
    // binary that is not followed by a subcommand.
    if (args[i] === deno && args[i + 1] !== "run") {
      return `Deno's path may appear only as the program, followed by "run": ${deno}`;
    }
  }
  return null;
}

/**
 * Where bash lives; it closes inherited descriptors before the child runs.
 * A process that may not look (no read permission there) gets the usual
 * place, and its run permission for it decides.
 */
export function bashPath(): string {
  for (const path of ["/bin/bash", "/usr/bin/bash"]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) return "/bin/bash";
    }
  }
  throw new Error("spawn: bash is needed to close inherited descriptors, and none was found");
}

/**
 * A bash script that closes every descriptor above 3, then `exec`s its
 * arguments. Whatever our own parent let us inherit (Deno opens everything
 * close-on-exec, but cannot mark what it was handed) would otherwise reach
 * every child. Without /proc it refuses to run anything. Bash adds `PWD`
 * and `SHLVL` to the environment (the latter even on `exec`), so it runs
 * the command through `env`, which drops `SHLVL`; leading `NAME=value`
 * arguments put back the ones the child is meant to have.
 */
export const CLOSE_INHERITED_DESCRIPTORS: string =
  '[ -d /proc/self/fd ] || { echo "$0: /proc is needed to close inherited descriptors" >&2; exit 126; }; ' +
  "for fd in /proc/self/fd/*; do fd=${fd##*/}; " +
  'if [ "$fd" -gt 3 ] && [ -L "/proc/self/fd/$fd" ]; then exec {fd}>&-; fi; done; ' +
  'unset PWD; exec /usr/bin/env -u SHLVL "$@"';

/** The variables bash sets by itself; {@linkcode CLOSE_INHERITED_DESCRIPTORS} restores them. */
const BASH_SETS = ["PWD", "SHLVL"];

/** O_CLOEXEC in the octal `flags` of /proc/self/fdinfo/<fd>. */
const CLOSE_ON_EXEC = 0o2000000;

/** Set once this process was seen holding nothing a child would inherit. */
let nothingToPassOn = false;

/**
 * Whether this process holds a descriptor above 3 that is not
 * close-on-exec, which every child would inherit; true when it cannot
 * tell (no read access to /proc/self). Deno opens everything
 * close-on-exec, so such descriptors can only have been inherited at
 * startup: once none is left, none can come back.
 */
export function holdsInheritableDescriptors(): boolean {
  if (nothingToPassOn) return false;
  try {
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      if (Number(entry.name) <= 3) continue; // a child's 0–3 are replaced anyway
      let info: string;
      try {
        info = Deno.readTextFileSync(`/proc/self/fdinfo/${entry.name}`);
      } catch {
        continue; // closed meanwhile, like the directory's own descriptor
      }
      if ((parseInt(/^flags:\s*(\d+)/m.exec(info)![1]!, 8) & CLOSE_ON_EXEC) === 0) return true;
    }
  } catch {
    return true;
  }
  nothingToPassOn = true;
  return false;
}

/**
 * The program and arguments that run `command` with exactly descriptors
 * 0–3 (stdin, stdout, stderr, the channel) and exactly its environment, as
 * {@linkcode spawn} does: through bash and
 * {@linkcode CLOSE_INHERITED_DESCRIPTORS} when `closeInherited` (by
 * default, when this process holds descriptors a child would inherit),
 * else the command itself.
 */
export function childArgv(
  command: ChildCommand,
  closeInherited: boolean = holdsInheritableDescriptors(),
): { program: string; args: string[] } {
  if (!closeInherited) {
    return { program: command.executable, args: [...command.args, "-ipcfd=3"] };
  }
  return {
    program: bashPath(),
    args: [
      "-c",
      CLOSE_INHERITED_DESCRIPTORS,
      "capdeno-spawn",
      ...BASH_SETS.filter((name) => name in command.env).map((name) =>
        `${name}=${command.env[name]}`
      ),
      command.executable,
      ...command.args,
      "-ipcfd=3",
    ],
  };
}

/**
 * Starts `command` (a component entry point that calls {@linkcode serve})
 * as a child process and connects to its Init object over a socket pair
 * handed over as descriptor 3; resolves once the child serves. A child
 * that ends first, or does not serve within `startTimeoutMs` (it is killed
 * then), rejects it with a {@linkcode SpawnError} saying how it ended and
 * what it printed last. The command must carry an explicit permission flag
 * and may not grant `-A` or `--allow-run`. When this process holds
 * inherited descriptors, it runs through bash, which closes them
 * ({@linkcode childArgv}; the caller then needs `--allow-run` for bash).
 * This process needs `--allow-env=NODE_V8_COVERAGE`: Deno's
 * `node:child_process`, the only way to hand over a descriptor, reads it;
 * a missing grant is a one-line {@linkcode SpawnError}. With unscoped
 * `--allow-run`, signals are sent with `Deno.kill` and the exit status is
 * the wait status.
 *
 * @example A child serves its Init to the parent; a command granting everything is refused
 * ```ts
 * import { denoCommand, spawn } from "./process.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * const entry = new URL("../../examples/foo/main.ts", import.meta.url);
 * {
 *   // The child may do what its flags grant (here: no network), and nothing else.
 *   await using child = await spawn(FooInit, denoCommand(entry, { permissions: ["--deny-net"] }));
 *   await using foo = (await child.init.makeFoo())!;
 *   if (await foo.add(2, 3) !== 5) throw new Error("a call across processes");
 * } // the proxies go first, then the child, which exits once its parent is gone
 * const refused = await spawn(FooInit, denoCommand(entry, { permissions: ["-A"] })).then(
 *   () => null,
 *   (error: unknown) => error,
 * );
 * if (!(refused instanceof Error) || !refused.message.includes("never granted")) {
 *   throw new Error(`-A was not refused: ${refused}`);
 * }
 * ```
 */
export async function spawn<T>(
  iface: InterfaceDescriptor<T>,
  command: ChildCommand,
  options: SpawnOptions = {},
): Promise<SpawnedComponent<T>> {
  const refused = refusal(command);
  if (refused !== null) throw new Error(`spawn: ${refused}`);
  const startTimeout = delayOption(
    "spawn: startTimeoutMs",
    options.startTimeoutMs,
    DEFAULT_START_TIMEOUT_MS,
  );
  const exitTimeout = delayOption("spawn: exitTimeoutMs", options.exitTimeoutMs, 5000);
  const { program, args } = childArgv(command);
  const { spawn: spawnChild } = await nodeChildProcess();
  let child: ReturnType<typeof spawnChild>;
  try {
    child = spawnChild(program, args, {
      stdio: ["pipe", "pipe", "pipe", "pipe"],
      env: { ...command.env },
      cwd: command.cwd,
    });
  } catch (error) {
    throw spawnFailure(error, program);
  }
  const label = options.label ?? `pid ${child.pid}`;
  const lastLines: string[] = [];
  const show = options.output ?? ((line) => stderrLines(`[${label}] ${line}`));
  const forwarder = new LineForwarder((line, stream) => {
    // A stack's frames would push out the error they follow (and in a bundle say little).
    if (!STACK_FRAME.test(line)) {
      lastLines.push(line);
      if (lastLines.length > LAST_LINES) lastLines.shift();
    }
    show(line, stream);
  }, options.outputLimits);
  const outputClosed = Promise.all((["stdout", "stderr"] as const).map((name) => {
    const stream = child[name]!;
    stream.on("data", (chunk: Uint8Array) => forwarder.write(name, chunk));
    return new Promise<void>((resolve) => stream.once("close", resolve)).then(() =>
      forwarder.end(name)
    );
  })).then(() => forwarder.close());
  // A child that is gone makes writes to its stdin fail; that is not our error.
  child.stdin!.on("error", () => {});
  for (const line of options.control ?? []) child.stdin!.write(`${line}\n`);
  let gone = false;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("exit", (code, signal) => {
      gone = true;
      resolve({ code, signal });
    });
  });
  const signalsSent: Deno.Signal[] = [];
  const kill = (signal: Deno.Signal) => {
    if (gone) return;
    signalsSent.push(signal);
    try {
      Deno.kill(child.pid!, signal);
    } catch (error) {
      // Without full --allow-run, Node's kill, which sends only the first
      // signal (later ones, SIGKILL too, are dropped after a SIGSTOP) and
      // reports that signal as the exit's whatever the wait status says.
      if (error instanceof Deno.errors.NotCapable) child.kill(signal as NodeJS.Signals);
    }
  };
  const protocol = options.protocol ?? capnpProtocol;
  const spawned = await new Promise<SpawnedComponent<T>>((resolve, reject) => {
    child.once("error", (error) => reject(spawnFailure(error, program)));
    child.once("spawn", () => {
      const channel = channelFromNodeSocket(child.stdio[3] as Socket);
      const init = protocol.connect(iface, channel, options);
      resolve({
        init,
        pid: child.pid!,
        exited,
        signalsSent,
        lastLines,
        kill: (signal = "SIGTERM") => kill(signal),
        sendControl: (line) => void child.stdin!.write(`${line}\n`),
        async [Symbol.asyncDispose]() {
          // Closed for every holder: dup()s of the Init end with the child.
          const connection = sessionOf(init)?.connection;
          await init[Symbol.asyncDispose]();
          await connection?.close();
          let timer: Timer | undefined;
          const late = new Promise<void>((r) => timer = new Timer(exitTimeout, r));
          await Promise.race([exited, late]);
          timer!.clear();
          kill("SIGKILL");
          await exited;
          child.stdin!.destroy();
          await outputClosed;
        },
      });
    });
  });
  if (startTimeout === 0) return spawned;
  const { signal } = options;
  const abort = () => spawned.kill("SIGKILL");
  signal?.addEventListener("abort", abort, { once: true });
  try {
    signal?.throwIfAborted();
    await untilServing(spawned, protocol.serving(spawned.init), outputClosed, startTimeout, label);
  } catch (error) {
    await spawned[Symbol.asyncDispose]();
    throw signal?.aborted ? signal.reason : error;
  } finally {
    signal?.removeEventListener("abort", abort);
  }
  return spawned;
}

/** What failed to start `program`: a missing grant said in one line, with the grants spawning needs. */
function spawnFailure(error: unknown, program: string): unknown {
  if (!(error instanceof Deno.errors.NotCapable)) return error;
  return new SpawnError(
    `spawn: ${error.message.replace(/, run again with.*$/, "")}; spawning needs ` +
      `--allow-run=${program} and --allow-env=NODE_V8_COVERAGE (Deno's node:child_process reads it)`,
  );
}

/**
 * Settles once `child` serves (`serving` resolves); rejects with a
 * {@linkcode SpawnError} saying how it ended and what it printed last when
 * it ends first, or after `timeoutMs` (it is killed then). What it printed
 * is read to the end first (`outputRead`), for a second at most.
 */
async function untilServing(
  child: SpawnedComponent<unknown>,
  serving: Promise<void>,
  outputRead: Promise<void>,
  timeoutMs: number,
  label: string,
): Promise<void> {
  const timers: Timer[] = [];
  const after = <V>(ms: number, value: V) =>
    new Promise<V>((resolve) => timers.push(new Timer(ms, () => resolve(value))));
  try {
    const outcome = await Promise.race([
      // A channel usually closes just before the exit it announces: that says more.
      serving.then(() => null, (error: Error) => Promise.race([child.exited, after(1000, error)])),
      child.exited,
      after(timeoutMs, "late" as const),
    ]);
    if (outcome === null) return;
    if (outcome === "late") child.kill("SIGKILL");
    await Promise.race([outputRead, after(1000, undefined)]);
    const how = outcome === "late"
      ? `did not serve within ${timeoutMs} ms (startTimeoutMs); killed`
      : outcome instanceof Error
      ? `closed its channel (${outcome.message})`
      : describeExit(outcome);
    throw new SpawnError(
      `spawn: ${label} ${how}${outcome === "late" ? "" : " before serving"}` +
        printedLast(child.lastLines),
    );
  } finally {
    for (const timer of timers) timer.clear();
  }
}

/** How a child ended, in words: `exited with status 1`, `was killed by SIGKILL`. */
function describeExit({ code, signal }: ExitStatus): string {
  return signal === null ? `exited with status ${code}` : `was killed by ${signal}`;
}

/*
 * Deno's Node compatibility modules are loaded when first needed: `node:net`
 * (the only way to use an inherited descriptor) costs a child's start about
 * 60% of a bare `deno run`, `node:child_process` more on top, and a component
 * started on its own (`-ipcbind`) or one that never spawns needs neither.
 */
const nodeNet = () => import("node:net");
const nodeChildProcess = () => import("node:child_process");

/**
 * The descriptor of `-ipcfd=<n>` / `-ipcfd <n>`, or null when absent.
 *
 * @example As Bitcoin Core reads it, with its error for a bad number
 * ```ts
 * import { ipcFdOf } from "./process.ts";
 * if (ipcFdOf(["-datadir=/d", "-ipcfd=3"]) !== 3 || ipcFdOf(["-ipcfd", "7"]) !== 7) {
 *   throw new Error("both spellings");
 * }
 * if (ipcFdOf(["-ipcbind=unix"]) !== null) throw new Error("not spawned");
 * try {
 *   ipcFdOf(["-ipcfd=x"]);
 *   throw new Error("x is no descriptor");
 * } catch (error) {
 *   if ((error as Error).message !== "Invalid -ipcfd number 'x'") throw error;
 * }
 * ```
 */
export function ipcFdOf(args: readonly string[]): number | null {
  for (let i = 0; i < args.length; i++) {
    const match = /^--?ipcfd(?:=(.*))?$/.exec(args[i]!);
    if (match === null) continue;
    const text = match[1] ?? args[i + 1] ?? "";
    if (!/^\d+$/.test(text)) throw new Error(`Invalid -ipcfd number '${text}'`);
    return Number(text);
  }
  return null;
}

/**
 * In a component's entry point: when this process was started by
 * {@linkcode spawn} (`-ipcfd` is among `args`), serves `init` to the
 * parent and exits once the parent disconnects or its stdin closes (the
 * lifeline, `lifeline.ts`), so nothing after it runs; with `exit: false`
 * it returns true once the parent disconnects instead, and the caller
 * shuts down. Returns false at once otherwise (the component was started
 * on its own).
 *
 * @example Spawned, it serves the parent until the parent goes; started on its own, it returns false
 * ```ts
 * import { denoCommand, serve, spawn } from "./process.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * import { fooInit } from "../../examples/foo/foo.ts";
 * // examples/foo/main.ts serves through serveComponent, which calls serve().
 * const entry = new URL("../../examples/foo/main.ts", import.meta.url);
 * const child = await spawn(FooInit, denoCommand(entry));
 * {
 *   await using foo = (await child.init.makeFoo())!;
 *   if (await foo.add(2, 3) !== 5) throw new Error("served");
 * }
 * await child.init[Symbol.asyncDispose]();
 * const { code } = await child.exited;
 * if (code !== 0) throw new Error(`the child ended with ${code} once the parent went`);
 * // Not spawned (no -ipcfd): returns false at once, and the caller runs on its own.
 * if (await serve(FooInit, fooInit(), { args: [] })) throw new Error("not spawned");
 * ```
 */
export async function serve<T>(
  iface: InterfaceDescriptor<T>,
  init: T,
  options: IpcOptions & { args?: readonly string[]; exit?: boolean } = {},
): Promise<boolean> {
  const args = options.args ?? Deno.args;
  const fd = ipcFdOf(args);
  if (fd === null) return false;
  lifeline();
  const log = options.log ?? IpcLog.fromArgs(args);
  const { Socket } = await nodeNet();
  await (options.protocol ?? capnpProtocol).serve(
    iface,
    init,
    channelFromNodeSocket(new Socket({ fd })),
    {
      ...options,
      log,
    },
  );
  if (options.exit === false) return true;
  Deno.exit(0);
}

/** Where addresses resolve. */
export interface AddressOptions extends IpcOptions {
  /** Base of relative socket paths and of `unix`; the current directory by default. */
  datadir?: string | undefined;
  /** Name of the `unix` default socket (`<component>.sock`); `name`, else "node". */
  component?: string | undefined;
}

function addressContext(options: AddressOptions): { datadir: string; component: string } {
  return {
    datadir: options.datadir ?? Deno.cwd(),
    component: options.component ?? options.name ?? "node",
  };
}

/** How to connect. */
export interface ConnectOptions extends AddressOptions {
  /** A one-time token the listener expects first (its `authenticate`), sent before anything else. */
  token?: Uint8Array | undefined;
  /**
   * Milliseconds to keep trying while the listener's backlog is full (a
   * flood of connections ahead of us: `connect` fails with EAGAIN); 5000
   * by default.
   */
  backlogWaitMs?: number | undefined;
}

/** Connects to the UNIX socket `path`, retrying while its backlog is full, for up to `waitMs`. */
async function connectUnix(path: string, waitMs: number): Promise<Deno.UnixConn> {
  const deadline = performance.now() + waitMs;
  for (let backoff = 5;; backoff = Math.min(backoff * 2, 250)) {
    try {
      return await Deno.connect({ transport: "unix", path });
    } catch (error) {
      if (!(error instanceof Deno.errors.WouldBlock) || performance.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }
}

/**
 * Connects to the Init object listening at `address` (`unix` or `unix:<path>`).
 *
 * @example Nothing listening there: an `AddressError` naming the address, with the system's reason
 * ```ts
 * import { AddressError } from "./address.ts";
 * import { connect } from "./process.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * const datadir = await Deno.makeTempDir();
 * const failure = await connect(FooInit, "unix", { datadir, component: "foo" }).then(
 *   () => null,
 *   (error: unknown) => error,
 * );
 * await Deno.remove(datadir);
 * if (!(failure instanceof AddressError)) throw new Error(`connected to nothing: ${failure}`);
 * if (!failure.message.startsWith("Unable to connect to IPC address 'unix'.")) {
 *   throw new Error(failure.message);
 * }
 * ```
 */
export async function connect<T>(
  iface: InterfaceDescriptor<T>,
  address: string,
  options: ConnectOptions = {},
): Promise<Remote<T>> {
  const parsed = parseAddress(address, addressContext(options));
  let conn: Deno.UnixConn;
  try {
    conn = await connectUnix(parsed.path, options.backlogWaitMs ?? 5000);
    if (options.token) await conn.write(options.token);
  } catch (error) {
    throw new AddressError(
      `Unable to connect to IPC address '${address}'. ${(error as Error).message}`,
      { cause: error },
    );
  }
  return (options.protocol ?? capnpProtocol).connect(iface, conn, options);
}

/** A listening socket. Disposing it stops accepting and closes its connections. */
export interface IpcListener extends AsyncDisposable {
  /** The address as given, e.g. `unix` or `unix:/run/app/node.sock`. */
  readonly address: string;
  /** The socket file's absolute path. */
  readonly path: string;
  /** Connections being served now (authenticated ones, when tokens are required). */
  readonly connections: number;
  /** Connections accepted that have not presented a valid token yet. */
  readonly unauthenticated: number;
}

/** Clients a listener serves at once unless told otherwise. */
export const DEFAULT_MAX_CONNECTIONS = 64;

/** How many clients a listener serves at once, and which. */
export interface ListenOptions extends AddressOptions {
  /**
   * Clients served at once; later ones wait in the backlog. Default
   * {@linkcode DEFAULT_MAX_CONNECTIONS}: each may keep up to the RPC limits'
   * worth of memory, so their number bounds the process's.
   */
  maxConnections?: number | undefined;
  /**
   * When set, a client must first send a token (`TOKEN_BYTES` bytes) this
   * accepts (at once, or once `signal` tells it to give up), within
   * `tokenTimeoutMs`; others are disconnected unserved.
   */
  authenticate?:
    | ((token: Uint8Array, signal: AbortSignal) => boolean | Promise<boolean>)
    | undefined;
  /** Milliseconds a client has to present its token; 1000 by default, `Infinity` for ever. */
  tokenTimeoutMs?: number | undefined;
  /**
   * Clients waiting to present their token at once; 16 by default. When
   * all are taken, the one waiting longest is disconnected as soon as it
   * has had `UNDER_PRESSURE_MS` (100 ms) to present its token, so a flood
   * of idle connections moves through quickly and clients behind it, who
   * send their token at once, are served.
   */
  maxUnauthenticated?: number | undefined;
}

/** How long a client waiting for its token is kept when others queue behind it. */
export const UNDER_PRESSURE_MS = 100;

/**
 * Reads exactly `bytes` bytes from `conn`, or null on end of file, on an
 * error, or once `signal` aborts.
 */
async function readPrelude(
  conn: Deno.UnixConn,
  bytes: number,
  signal: AbortSignal,
): Promise<Uint8Array | null> {
  const prelude = new Uint8Array(bytes);
  const aborted = new Promise<null>((resolve) => {
    if (signal.aborted) resolve(null);
    signal.addEventListener("abort", () => resolve(null), { once: true });
  });
  const reading = (async () => {
    for (let filled = 0; filled < bytes;) {
      const n = await conn.read(prelude.subarray(filled));
      if (n === null) return null;
      filled += n;
    }
    return prelude;
  })().catch(() => null);
  return await Promise.race([reading, aborted]);
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed already */ }
}

/**
 * Serves `init` to every client connecting to `address`. A stale socket
 * file is replaced; the socket's directory must not be writable by others.
 * Accept failures (out of descriptors included) are retried, never fatal
 * (`accept.ts`); with `authenticate`, clients without a valid token are
 * bounded in number and time (see {@linkcode ListenOptions}).
 *
 * @example A listener in the data directory, its socket named after the component, and a client
 * ```ts
 * import { connect, listen } from "./process.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * import { fooInit } from "../../examples/foo/foo.ts";
 * const datadir = await Deno.makeTempDir();
 * {
 *   await using listener = listen(FooInit, "unix", fooInit(), { datadir, component: "foo" });
 *   if (listener.path !== `${datadir}/foo.sock`) throw new Error(listener.path);
 *   await using init = await connect(FooInit, "unix", { datadir, component: "foo" });
 *   await using foo = (await init.makeFoo())!;
 *   if (await foo.add(1, 2) !== 3) throw new Error("served");
 *   if (listener.connections !== 1) throw new Error(`${listener.connections} connections`);
 * }
 * await Deno.remove(datadir, { recursive: true });
 * ```
 */
export function listen<T>(
  iface: InterfaceDescriptor<T>,
  address: string,
  init: T,
  options: ListenOptions = {},
): IpcListener {
  const tokenTimeoutMs = delayOption("listen: tokenTimeoutMs", options.tokenTimeoutMs, 1000);
  const parsed = parseAddress(address, addressContext(options));
  prepareSocketPath(parsed);
  let listener: Deno.UnixListener;
  try {
    listener = Deno.listen({ transport: "unix", path: parsed.path });
    Deno.chmodSync(parsed.path, 0o600);
  } catch (error) {
    throw new AddressError(
      `Unable to bind to IPC address '${address}'. ${(error as Error).message}`,
      { cause: error },
    );
  }
  const log = options.log ?? new IpcLog();
  if (log.info) log.write(`Listening for IPC requests on address unix:${parsed.path}`);
  const maxServed = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const maxWaiting = options.maxUnauthenticated ?? 16;
  const served = new Set<Deno.UnixConn>();
  /** Clients still to present their token, oldest first, with when they came and how to drop them. */
  const waiting = new Map<Deno.UnixConn, { since: number; drop: AbortController }>();
  const handlers = new Set<Promise<void>>();
  const closing = new AbortController();
  let changed = Promise.withResolvers<void>();
  const change = () => {
    changed.resolve();
    changed = Promise.withResolvers();
  };
  let refused = 0;
  const refuse = (conn: Deno.UnixConn) => {
    closeQuietly(conn);
    // 1, 2, 4, 8, …: a flood leaves a few lines, not one per connection.
    if (log.info && (++refused & (refused - 1)) === 0) {
      log.write(
        `IPC server: refused a connection without a valid token on ${address} (${refused} so far)`,
      );
    }
  };

  /** Whether `conn` presents a valid token in time (closing it otherwise). */
  const authenticated = async (
    conn: Deno.UnixConn,
    authenticate: NonNullable<ListenOptions["authenticate"]>,
  ) => {
    const drop = new AbortController();
    waiting.set(conn, { since: performance.now(), drop });
    const timer = new Timer(tokenTimeoutMs, () => drop.abort());
    const giveUp = AbortSignal.any([drop.signal, closing.signal]);
    try {
      const token = await readPrelude(conn, TOKEN_BYTES, giveUp);
      const valid = token !== null && !giveUp.aborted &&
        await Promise.resolve(authenticate(token, giveUp)).catch(() => false);
      if (!valid) refuse(conn);
      return valid;
    } finally {
      timer.clear();
      waiting.delete(conn);
      change();
    }
  };

  const serveOne = async (conn: Deno.UnixConn) => {
    if (options.authenticate && !(await authenticated(conn, options.authenticate))) return;
    if (closing.signal.aborted) return closeQuietly(conn);
    served.add(conn);
    try {
      await (options.protocol ?? capnpProtocol).serve(iface, init, conn, { ...options, log });
    } finally {
      served.delete(conn);
      change();
    }
  };

  /** Until another client may be taken: a serving slot and a waiting slot are free. */
  const room = async () => {
    while (!closing.signal.aborted) {
      if (served.size >= maxServed) {
        await changed.promise;
        continue;
      }
      // A client that presents its token is served at once: those waiting
      // to present one take serving slots too, or more would be served.
      if (waiting.size < Math.min(maxWaiting, maxServed - served.size)) return;
      const [, oldest] = waiting.entries().next().value!;
      const wait = oldest.since + UNDER_PRESSURE_MS - performance.now();
      if (wait <= 0) {
        oldest.drop.abort();
        await changed.promise;
        continue;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        changed.promise,
        new Promise((resolve) => timer = setTimeout(resolve, wait)),
      ]);
      clearTimeout(timer);
    }
  };

  const accepting = (async () => {
    const connections = acceptConnections(listener, {
      signal: closing.signal,
      onError(error) {
        if (log.info) {
          log.write(`IPC server: accept failed on ${address}: ${error.message}; retrying`);
        }
      },
    });
    for (;;) {
      await room();
      const next = closing.signal.aborted ? await connections.return() : await connections.next();
      if (next.done) return;
      const handler = serveOne(next.value).catch((error) => {
        if (log.info) log.write(`IPC server: connection on ${address} failed: ${error}`);
      });
      handlers.add(handler);
      handler.finally(() => handlers.delete(handler));
    }
  })();

  return {
    address,
    path: parsed.path,
    get connections() {
      return served.size;
    },
    get unauthenticated() {
      return waiting.size;
    },
    async [Symbol.asyncDispose]() {
      closing.abort();
      listener.close();
      change();
      await accepting;
      for (const conn of [...served, ...waiting.keys()]) closeQuietly(conn);
      await Promise.all(handlers);
    },
  };
}

/** The IPC options of a component's command line. */
export interface IpcArgs {
  /** `-ipcbind=<address>`, repeatable. */
  bind: string[];
  /** `-ipcconnect=<address>`; null without it or with `-noipcconnect`. */
  connect: string | null;
}

/**
 * Reads `-ipcbind=…` (repeatable), `-ipcconnect=…` and `-noipcconnect`.
 *
 * @example
 * ```ts
 * import { parseIpcArgs } from "./process.ts";
 * const args = parseIpcArgs(["-ipcbind=unix", "-ipcbind=unix:/tmp/x.sock"]);
 * if (args.bind.length !== 2 || args.connect !== null) throw new Error("parsed wrongly");
 * ```
 */
export function parseIpcArgs(args: readonly string[]): IpcArgs {
  const out: IpcArgs = { bind: [], connect: null };
  for (const arg of args) {
    const match = /^--?(ipcbind|ipcconnect|noipcconnect)(?:=(.*))?$/.exec(arg);
    if (match === null) continue;
    const [, name, value] = match;
    if (name === "noipcconnect") out.connect = null;
    else if (value === undefined || value === "") {
      throw new Error(`-${name} needs an address, e.g. -${name}=unix`);
    } else if (name === "ipcbind") out.bind.push(value);
    else out.connect = value;
  }
  return out;
}
