/**
 * The node's process shell, the part of `main.ts` that makes it run like
 * `bitcoind -regtest`: it reads the options (printing bitcoind's `Error: …`
 * line and exiting with 1 when they are wrong, or the help and 0), takes
 * the data directory's lock, writes `bitcoind.pid`, opens the log, starts
 * the node's parts, and stops them in reverse order on SIGINT, SIGTERM, an
 * RPC `stop`, or the end of the spawning parent, exiting with 0 after a
 * clean stop.
 *
 * The parts come from the caller's `start`, which registers each with
 * {@linkcode NodeContext.use} as it makes it, and serves the IPC side with
 * {@linkcode NodeContext.serveIpc}: on every `-ipcbind` address
 * (`unix` is `<datadir>/regtest/node.sock`) and to the parent when spawned
 * (`-ipcfd`). A node given no IPC option still runs: it serves JSON-RPC.
 *
 * A node's entry point calls `runNode({ start(node) { … } })`, opening its
 * chain, RPC server and IPC in `start` with `node.use(…)` for each resource
 * (`node.ts`'s `startNode`); the tests run whole nodes this way.
 * @module
 */
import {
  type InterfaceDescriptor,
  type IpcLog,
  lifeline,
  listen,
  type ListenOptions,
  onLifelineClosed,
  serve,
  writeCookie,
} from "../../component.ts";
import { join } from "node:path";
import { DataDirLock, PidFile, prepareDataDir } from "./datadir.ts";
import { NodeLog } from "./logging.ts";
import { needsShell, NODE_NAME, NODE_VERSION, type NodeOptions, parseNodeArgs } from "./options.ts";
import { checkMayRunCommands, CommandRunner } from "../notify/commands.ts";
import { NotifierOutbox } from "../notify/outbox.ts";

/**
 * The IPC cookie a supervised node (`-lifeline`) listening on `-ipcbind`
 * writes in its network directory (beside `node.sock` for `-ipcbind=unix`),
 * 0600, removed when it stops cleanly: a process presenting it may attach
 * (`deno task spawn-wallet -ipcconnect=unix`), as `.cookie` admits an RPC
 * client.
 */
export const IPC_COOKIE_FILE = "node.cookie";

/** How long a spawned node waits for its parent to run `-shutdownnotify` before shutting down. */
export const SPAWNED_SHUTDOWN_WAIT_MS = 60_000;

/** What `start` gets to build the node's parts with. */
export interface NodeContext {
  /** The node's options, checked. */
  readonly options: NodeOptions;
  /** The node's log (`debug.log`, and stdout with `-printtoconsole`). */
  readonly log: NodeLog;
  /** The runtime's IPC log, routed into {@linkcode NodeContext.log}. */
  readonly ipcLog: IpcLog;
  /**
   * Where the node's and its in-process wallets' events go for the
   * notification commands: run by the node itself, or, when spawned, by the
   * notifier its parent hands it (`Init.setNotifier`).
   */
  readonly notifications: NotifierOutbox;
  /** Aborted once the node is stopping. */
  readonly stopping: AbortSignal;
  /** Whether it is stopping because of a failure (it then exits with status 1). */
  readonly failing: boolean;
  /** Asks the node to stop cleanly (SIGTERM does the same; RPC `stop` calls this). */
  requestStop(): void;
  /**
   * Core's error message box (`ThreadSafeMessageBox` with `MSG_ERROR`):
   * `Error: <message>` on stderr and in the log; the node goes on.
   */
  showError(message: string): void;
  /** Stops the node because of `message`: shown as {@linkcode NodeContext.showError}, exit status 1. */
  fail(message: string): void;
  /** Registers a part; parts are disposed in reverse order when the node stops. */
  use<T extends AsyncDisposable | Disposable | null | undefined>(part: T): T;
  /** Runs `onStop` when the node stops, in reverse order with the parts. */
  defer(onStop: () => void | Promise<void>): void;
  /**
   * Serves `init` on every `-ipcbind` address and, when spawned, to the
   * parent (`-ipcfd`; the node stops when the parent goes). Throws with
   * Core's `Unable to bind to IPC address …` text.
   */
  serveIpc<T>(iface: InterfaceDescriptor<T>, init: T): void;
}

/** How to run the node. */
export interface RunNodeOptions {
  /** The command line; the process's by default. */
  argv?: readonly string[];
  /** Makes the node's parts, registering each with `node.use` as it goes. */
  start(node: NodeContext): void | Promise<void>;
}

const encoder = new TextEncoder();

function write(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  try {
    for (let written = 0; written < bytes.length;) {
      written += stream.writeSync(bytes.subarray(written));
    }
  } catch { /* a closed stdout or stderr must not stop the node */ }
}

const messageOf = (error: unknown) => error instanceof Error ? error.message : String(error);

/** The startup lines Core logs once the log is open (`StartLogging`). */
function startupLines(options: NodeOptions): string[] {
  const config = options.configFile;
  let configLine: string;
  if (config === "") configLine = "Config file: <disabled>";
  else if (options.configFilesRead.includes(config)) configLine = `Config file: ${config}`;
  else configLine = `Config file: ${config} (not found, skipping)`;
  return [`Using data directory ${options.netDir}`, configLine, ...options.args.describe()];
}

/**
 * Runs the node as a process until it stops, then exits: with 0 after a
 * clean stop, 1 after a startup error or a failure.
 */
export async function runNode(options: RunNodeOptions): Promise<never> {
  Deno.exit(await nodeProcess(options));
}

/** The node's life from the command line to the exit status. */
async function nodeProcess({ argv = Deno.args, start }: RunNodeOptions): Promise<number> {
  let options: NodeOptions;
  try {
    const startup = parseNodeArgs(argv);
    if (startup.kind === "print") {
      write(Deno.stdout, startup.text);
      return 0;
    }
    options = startup.options;
  } catch (error) {
    write(Deno.stderr, `Error: ${messageOf(error)}\n`);
    return 1;
  }
  if (options.daemon && !options.daemonized) {
    write(
      Deno.stderr,
      "Error: -daemon: a Deno process cannot fork itself; start the node with deno task node, " +
        "which runs it in the background\n",
    );
    return 1;
  }
  for (const notice of options.notices) if (notice.stderr) write(Deno.stderr, notice.stderr);
  const log = new NodeLog();
  log.configure(options.logSettings);
  log.info(`${NODE_NAME} version v${NODE_VERSION}`);
  for (const { level, message } of options.notices) log[level](message);

  const spawned = options.ipc.lifeline || options.ipc.fd !== null;
  using notifications = new NotifierOutbox({
    commands: options.notify,
    log: (line) => log.info(line),
    // Its parent's notifier is not let hold the node's shutdown for ever.
    shutdownWaitMs: spawned ? SPAWNED_SHUTDOWN_WAIT_MS : Infinity,
  });
  const parts = new AsyncDisposableStack();
  const stop = Promise.withResolvers<number>();
  const stopping = new AbortController();
  let failing = false;
  const requestStop = (code = 0) => {
    if (stopping.signal.aborted) return;
    failing = code !== 0;
    stopping.abort();
    stop.resolve(code);
  };
  const showError = (message: string) => {
    log.error(message);
    write(Deno.stderr, `Error: ${message}\n`);
  };
  const fail = (message: string) => {
    if (stopping.signal.aborted) return;
    showError(message);
    requestStop(1);
  };
  let code: number;
  try {
    prepareDataDir(options);
    parts.use(DataDirLock.acquire(options.netDir));
    if (options.pidFile !== null) {
      const pid = PidFile.create(options.pidFile);
      parts.defer(() => {
        const problem = pid.remove();
        if (problem !== null) log.info(problem);
      });
    }
    log.start(options.log);
    for (const line of startupLines(options)) log.info(line);
    watchProcess(log, requestStop, fail);
    const ipcLog = log.ipcLog();
    // A spawned node may not start processes: its parent runs the commands (Init.setNotifier).
    if (!spawned && needsShell(options)) {
      checkMayRunCommands(options.notify);
      notifications.use(
        new CommandRunner({
          commands: options.notify,
          log: (line) => log.info(line),
          // A daemon's stdout is the launcher's token pipe, then nobody's.
          output: options.daemonized ? "null" : "inherit",
        }),
      );
    }
    if (spawned) {
      onLifelineClosed(() => {
        log.info("The control line (stdin) closed; shutting down");
        requestStop();
      });
      if (options.ipc.lifeline) lifeline();
    }
    let served = false;
    const started = Promise.resolve(start({
      options,
      log,
      ipcLog,
      notifications,
      stopping: stopping.signal,
      get failing() {
        return failing;
      },
      requestStop: () => requestStop(),
      showError,
      fail,
      use: (part) => parts.use(part),
      defer: (onStop) => parts.defer(onStop),
      serveIpc(iface, init) {
        if (served) throw new Error("serveIpc: a node serves one IPC interface");
        served = true;
        serveIpc(iface, init, { options, ipcLog, parts, requestStop, fail });
      },
    }));
    // A stop requested while the parts start (Ctrl-C during a long load) does not wait for them.
    if (await Promise.race([started.then(() => true), stop.promise.then(() => false)])) {
      if (!served && (options.ipc.bind.length > 0 || options.ipc.fd !== null)) {
        log.warning("-ipcbind or -ipcfd was given, but this node serves no IPC interface");
      }
      log.info("init message: Done loading");
      // The launcher of `-daemonwait` waits for this on the node's standard output.
      if (options.daemonized) write(Deno.stdout, "1");
      notifications.startup();
    }
    code = await stop.promise;
  } catch (error) {
    showError(messageOf(error));
    failing = true;
    code = 1;
  }
  // Core's Interrupt: -shutdownnotify runs, and is waited for, before the shutdown begins.
  await notifications.shutdown();
  log.info("Shutdown: In progress...");
  try {
    await parts.disposeAsync();
  } catch (error) {
    showError(`Shutdown failed: ${messageOf(error)}`);
    code = 1;
  }
  log.info("Shutdown: done");
  log[Symbol.dispose]();
  return code;
}

/**
 * SIGINT and SIGTERM stop the node, SIGHUP reopens `debug.log` (as in
 * bitcoind), and an error nothing caught stops it with exit status 1
 * instead of a stack trace.
 */
function watchProcess(log: NodeLog, requestStop: () => void, fail: (m: string) => void): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, requestStop);
  Deno.addSignalListener("SIGHUP", () => log.reopen());
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    fail(`Unexpected error: ${messageOf(event.reason)}`);
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    fail(`Unexpected error: ${messageOf(event.error)}`);
  });
}

/** The IPC side: listeners for `-ipcbind`, and the parent's channel for `-ipcfd`. */
function serveIpc<T>(
  iface: InterfaceDescriptor<T>,
  init: T,
  node: {
    options: NodeOptions;
    ipcLog: IpcLog;
    parts: AsyncDisposableStack;
    requestStop: () => void;
    fail: (message: string) => void;
  },
): void {
  const { bind, fd, lifeline: supervised } = node.options.ipc;
  let authenticate: ListenOptions["authenticate"];
  if (supervised && bind.length > 0) {
    // Besides the supervisor's one-time tokens, the cookie lets an operator attach a process.
    const cookie = node.parts.use(writeCookie(join(node.options.netDir, IPC_COOKIE_FILE)));
    authenticate = (token, signal) => cookie.accepts(token) || lifeline().accept(token, signal);
  }
  for (const address of bind) {
    try {
      node.parts.use(listen(iface, address, init, {
        name: "node",
        component: "node",
        datadir: node.options.netDir,
        log: node.ipcLog,
        authenticate,
      }));
    } catch (error) {
      const message = messageOf(error);
      throw new Error(
        message.startsWith("Unable to bind")
          ? message
          : `Unable to bind to IPC address '${address}'. ${message}`,
      );
    }
  }
  if (fd === null) return;
  serve(iface, init, { name: "node", args: [`-ipcfd=${fd}`], log: node.ipcLog, exit: false })
    .then(() => {
      node.ipcLog.write("The parent process disconnected; shutting down");
      node.requestStop();
    }, (error) => node.fail(`IPC connection to the parent failed: ${messageOf(error)}`));
}
