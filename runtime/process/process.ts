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
 * await using child = await spawn(FooInit, "examples/foo_component.ts");
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

/** A running child component. Disposing it releases Init and waits for the exit. */
export interface SpawnedComponent<T> extends AsyncDisposable {
  /** The child's Init object. */
  readonly init: Proxy<T>;
  readonly pid: number;
  /** Settles when the child has exited. */
  readonly exited: Promise<ExitStatus>;
  /** Sends `signal` (SIGTERM by default) to the child. */
  kill(signal?: Deno.Signal): void;
}

/** How to start a child component. */
export interface SpawnOptions extends IpcOptions {
  /** Arguments after the IPC ones, e.g. `["-debug=ipc"]`. */
  args?: string[];
  /**
   * Deno permission flags of the child (`--allow-read=…`). Empty by
   * default: the child gets no permission at all. `--deny-run` is always
   * added, which also keeps Node's child_process from granting `-A`.
   */
  permissions?: string[];
  /** Deno flags before the module (e.g. `--v8-flags=…`); not permissions. */
  denoFlags?: string[];
  /** Environment of the child; empty by default. */
  env?: Record<string, string>;
  /** Milliseconds to wait for a clean exit on dispose before SIGKILL. */
  exitTimeoutMs?: number;
}

/**
 * Starts `module` (a component entry point that calls {@linkcode serve}) as
 * a child process and connects to its Init object.
 */
export function spawn<T>(
  iface: InterfaceDescriptor<T>,
  module: string | URL,
  options: SpawnOptions = {},
): Promise<SpawnedComponent<T>> {
  const permissions = options.permissions ?? [];
  if (permissions.some((flag) => /^(-A|--allow-all|--allow-run)\b/.test(flag))) {
    return Promise.reject(new Error("spawn: -A and --allow-run are never granted to a component"));
  }
  const args = [
    "run",
    "--no-prompt",
    ...(options.denoFlags ?? []),
    ...permissions,
    "--deny-run",
    module instanceof URL ? module.href : module,
    "-ipcfd=3",
    ...(options.args ?? []),
  ];
  const child = spawnChild(Deno.execPath(), args, {
    stdio: ["pipe", "inherit", "inherit", "pipe"],
    env: options.env ?? {},
  });
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
        async [Symbol.asyncDispose]() {
          await init[Symbol.asyncDispose]();
          let timer: ReturnType<typeof setTimeout> | undefined;
          const late = new Promise<void>((r) => timer = setTimeout(r, timeout));
          await Promise.race([exited, late]);
          clearTimeout(timer);
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
          await exited;
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
 * parent and exits once the parent disconnects, so nothing after it runs.
 * Returns false at once otherwise (the component was started on its own).
 *
 * @example
 * ```ts ignore
 * if (!(await serve(FooInit, fooInit()))) runStandalone();
 * ```
 */
export async function serve<T>(
  iface: InterfaceDescriptor<T>,
  init: T,
  options: IpcOptions & { args?: readonly string[] } = {},
): Promise<boolean> {
  const args = options.args ?? Deno.args;
  const fd = ipcFdOf(args);
  if (fd === null) return false;
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

/** Connects to the Init object listening at `address` (`unix` or `unix:<path>`). */
export async function connect<T>(
  iface: InterfaceDescriptor<T>,
  address: string,
  options: AddressOptions = {},
): Promise<Proxy<T>> {
  const parsed = parseAddress(address, addressContext(options));
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path: parsed.path });
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

/** How many clients a listener serves at once. */
export interface ListenOptions extends AddressOptions {
  /** Clients served at once; later ones wait in the backlog. Unlimited by default. */
  maxConnections?: number;
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
      (options.protocol ?? capnpProtocol).serve(iface, init, conn, { ...options, log })
        .finally(() => {
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
