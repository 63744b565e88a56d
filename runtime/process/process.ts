/**
 * The process half of the IPC API (libmultiprocess' `IpcProcess`): starting
 * components and finding each other. Each function moves a byte channel
 * into place and hands it to a protocol (`protocol.ts`, Cap'n Proto by
 * default).
 *
 * - {@linkcode spawn}: start a component as a child process; it gets its end
 *   of a socket pair as descriptor 3 (`-ipcfd=3`) and needs no filesystem
 *   grant for it. Releasing the Init proxy ends the child.
 * - {@linkcode serve}: in a spawned child, serve the Init object to the
 *   parent; the process exits when the parent goes.
 * - {@linkcode connect} / {@linkcode listen}: UNIX socket addresses in
 *   Bitcoin Core's syntax (`address.ts`).
 *
 * @example
 * ```ts ignore
 * await using child = await spawn(FooInit, denoCommand("examples/foo/component.ts"));
 * const foo = await child.init.makeFoo();
 * ```
 * @module
 */
import { spawn as spawnChild } from "node:child_process";
import { Socket } from "node:net";
import type { InterfaceDescriptor } from "../../schemas/descriptor.ts";
import { channelFromNodeSocket } from "../transport.ts";
import { IpcLog } from "../log.ts";
import type { Proxy } from "../proxy/client.ts";
import { AddressError, parseAddress, prepareSocketPath } from "./address.ts";
import { lifeline, TOKEN_BYTES } from "./lifeline.ts";
import { capnpProtocol, type IpcProtocol, type ProtocolOptions } from "./protocol.ts";

/** Options every entry point shares. */
export interface IpcOptions extends ProtocolOptions {
  /** Protocol to speak; Cap'n Proto with libmultiprocess conventions by default. */
  protocol?: IpcProtocol;
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
  executable: string;
  /** Arguments, the module and its own arguments last; `-ipcfd=3` is appended. */
  args: readonly string[];
  /** The whole environment of the child; nothing is inherited. */
  env: Readonly<Record<string, string>>;
  /** Working directory of the child; ours by default. */
  cwd?: string;
}

/** A running child component. Disposing it releases Init and waits for the exit. */
export interface SpawnedComponent<T> extends AsyncDisposable {
  /** The child's Init object. */
  readonly init: Proxy<T>;
  readonly pid: number;
  /** Settles when the child has exited. */
  readonly exited: Promise<ExitStatus>;
  /** Sends `signal` (SIGTERM by default) to the child. */
  kill(signal?: Deno.Signal): void;
  /** Writes one line to the child's stdin, its control line (see `lifeline.ts`). */
  sendControl(line: string): void;
}

/** How to run a spawned child. */
export interface SpawnOptions extends IpcOptions {
  /** Milliseconds to wait for a clean exit on dispose before SIGKILL. */
  exitTimeoutMs?: number;
  /** Receives each line the child prints; without it the child shares our stdout/stderr. */
  output?: (line: string, stream: "stdout" | "stderr") => void;
}

/** Options of {@linkcode denoCommand}. */
export interface DenoCommandOptions {
  /** Permission flags (`--allow-read=…`); none by default. `--deny-run` is always added. */
  permissions?: readonly string[];
  /** Deno flags before the module (e.g. `--v8-flags=…`); not permissions. */
  denoFlags?: readonly string[];
  /** The module's own arguments. */
  args?: readonly string[];
  /** Environment of the child; empty by default. */
  env?: Record<string, string>;
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
 * console.assert(command.args.join(" ") ===
 *   "run --no-prompt --allow-read=/data --deny-run component.ts");
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

/** Forwards `stream` to `output` line by line. */
function forwardLines(
  stream: NodeJS.ReadableStream,
  name: "stdout" | "stderr",
  output: (line: string, stream: "stdout" | "stderr") => void,
): void {
  let buffered = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      output(buffered.slice(0, newline), name);
      buffered = buffered.slice(newline + 1);
    }
  });
  stream.on("end", () => buffered && output(buffered, name));
}

/**
 * Starts `command` (a component entry point that calls {@linkcode serve})
 * as a child process and connects to its Init object over a socket pair
 * handed over as descriptor 3. The command must carry an explicit
 * permission flag and may not grant `-A` or `--allow-run`.
 */
export function spawn<T>(
  iface: InterfaceDescriptor<T>,
  command: ChildCommand,
  options: SpawnOptions = {},
): Promise<SpawnedComponent<T>> {
  const refused = refusal(command);
  if (refused !== null) return Promise.reject(new Error(`spawn: ${refused}`));
  const output = options.output;
  const child = spawnChild(command.executable, [...command.args, "-ipcfd=3"], {
    stdio: ["pipe", output ? "pipe" : "inherit", output ? "pipe" : "inherit", "pipe"],
    env: { ...command.env },
    cwd: command.cwd,
  });
  if (output) {
    forwardLines(child.stdout!, "stdout", output);
    forwardLines(child.stderr!, "stderr", output);
  }
  // A child that is gone makes writes to its stdin fail; that is not our error.
  child.stdin!.on("error", () => {});
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("spawn", () => {
      const channel = channelFromNodeSocket(child.stdio[3] as Socket);
      const init = (options.protocol ?? capnpProtocol).connect(iface, channel, options);
      const timeout = options.exitTimeoutMs ?? 5000;
      resolve({
        init,
        pid: child.pid!,
        exited,
        kill: (signal = "SIGTERM") => void child.kill(signal as NodeJS.Signals),
        sendControl: (line) => void child.stdin!.write(`${line}\n`),
        async [Symbol.asyncDispose]() {
          await init[Symbol.asyncDispose]();
          let timer: ReturnType<typeof setTimeout> | undefined;
          const late = new Promise<void>((r) => timer = setTimeout(r, timeout));
          await Promise.race([exited, late]);
          clearTimeout(timer);
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
          await exited;
          child.stdin!.destroy();
        },
      });
    });
  });
}

/** The descriptor of `-ipcfd=<n>` / `-ipcfd <n>`, or null when absent. */
export function ipcFdOf(args: readonly string[]): number | null {
  for (let i = 0; i < args.length; i++) {
    const match = /^--?ipcfd(?:=(.*))?$/.exec(args[i]);
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
 * @example
 * ```ts ignore
 * if (!(await serve(FooInit, fooInit()))) runStandalone();
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
  datadir?: string;
  /** Name of the `unix` default socket (`<component>.sock`); `name`, else "node". */
  component?: string;
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
  token?: Uint8Array;
}

/** Connects to the Init object listening at `address` (`unix` or `unix:<path>`). */
export async function connect<T>(
  iface: InterfaceDescriptor<T>,
  address: string,
  options: ConnectOptions = {},
): Promise<Proxy<T>> {
  const parsed = parseAddress(address, addressContext(options));
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path: parsed.path });
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
  readonly address: string;
  readonly path: string;
  /** Connections being served now. */
  readonly connections: number;
}

/** How many clients a listener serves at once, and which. */
export interface ListenOptions extends AddressOptions {
  /** Clients served at once; later ones wait in the backlog. Unlimited by default. */
  maxConnections?: number;
  /**
   * When set, a client must first send a token (`TOKEN_BYTES` bytes) this
   * accepts, within `tokenTimeoutMs`; others are disconnected unserved.
   */
  authenticate?: (token: Uint8Array) => boolean;
  /** Milliseconds a client has to send its token; 2000 by default. */
  tokenTimeoutMs?: number;
}

/** Reads exactly `bytes` bytes from `conn`, or null on end of file or after `timeoutMs`. */
async function readPrelude(
  conn: Deno.UnixConn,
  bytes: number,
  timeoutMs: number,
): Promise<Uint8Array | null> {
  const prelude = new Uint8Array(bytes);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), timeoutMs));
  const reading = (async () => {
    for (let filled = 0; filled < bytes;) {
      const n = await conn.read(prelude.subarray(filled));
      if (n === null) return null;
      filled += n;
    }
    return prelude;
  })().catch(() => null);
  try {
    return await Promise.race([reading, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Serves `init` to every client connecting to `address`. A stale socket
 * file is replaced; the socket's directory must not be writable by others.
 */
export function listen<T>(
  iface: InterfaceDescriptor<T>,
  address: string,
  init: T,
  options: ListenOptions = {},
): IpcListener {
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
  const max = options.maxConnections ?? Infinity;
  const open = new Set<Deno.UnixConn>();
  let slotFreed: (() => void) | null = null;
  let closing = false;
  const authenticated = async (conn: Deno.UnixConn): Promise<boolean> => {
    if (!options.authenticate) return true;
    const token = await readPrelude(conn, TOKEN_BYTES, options.tokenTimeoutMs ?? 2000);
    if (token !== null && options.authenticate(token)) return true;
    if (log.info) log.write(`IPC server: refused a connection without a valid token on ${address}`);
    try {
      conn.close();
    } catch { /* closed already */ }
    return false;
  };
  const accepting = (async () => {
    while (!closing) {
      if (open.size >= max) {
        await new Promise<void>((resolve) => slotFreed = resolve);
        continue;
      }
      let conn: Deno.UnixConn;
      try {
        conn = await listener.accept();
      } catch {
        return; // closed
      }
      open.add(conn);
      (async () => {
        if (await authenticated(conn)) {
          await (options.protocol ?? capnpProtocol).serve(iface, init, conn, { ...options, log });
        }
      })().finally(() => {
        open.delete(conn);
        slotFreed?.();
        slotFreed = null;
      });
    }
  })();
  return {
    address,
    path: parsed.path,
    get connections() {
      return open.size;
    },
    async [Symbol.asyncDispose]() {
      closing = true;
      listener.close();
      slotFreed?.();
      await accepting;
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed already */ }
      }
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
 * console.assert(args.bind.length === 2 && args.connect === null);
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
