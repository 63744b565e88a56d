/**
 * `deno task node [options]`: starts the node with exactly the permission
 * flags its options need ({@linkcode nodePermissions}), which a fixed task
 * line cannot give: Deno grants a UNIX socket only by absolute path, and
 * the data directory, the ports and the sockets come from the command line
 * and `bitcoin.conf`. The launcher reads the options as the node will,
 * prints the same `Error: …` line (exit status 1) or help text (0) when
 * that is all there is to do, and otherwise runs
 * `deno run <flags> components/node/main.ts <options>` in the directory
 * `deno task` was called from (so a relative `-datadir` means what the user
 * meant), passes signals on, and exits with the node's status; with
 * `-daemon` or `-daemonwait` it leaves the node running in the background
 * ({@linkcode startDaemon}).
 *
 * The task line: `deno run --allow-read --allow-env=INIT_CWD,HOME
 * --allow-run=deno,setsid components/node/launcher.ts`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { DataDirLock } from "./datadir.ts";
import { nodePermissions } from "./permissions.ts";
import { parseNodeArgs } from "./options.ts";

/** Where the node is started. */
export interface LaunchOptions {
  /** The directory the user called from; `$INIT_CWD` (set by `deno task`), else ours. */
  cwd?: string;
}

/** The directory `deno task` was called from. */
export function callerDirectory(): string {
  return Deno.env.get("INIT_CWD") ?? Deno.cwd();
}

/**
 * Runs the node at `module` with the command line `argv` and the
 * permissions it needs; resolves with its exit status.
 */
export async function launchNode(
  module: string | URL,
  argv: readonly string[],
  options: LaunchOptions = {},
): Promise<number> {
  const cwd = options.cwd ?? callerDirectory();
  let flags: string[];
  let daemon: { wait: boolean } | null;
  try {
    const startup = parseNodeArgs(argv, { cwd });
    if (startup.kind === "print") {
      await Deno.stdout.write(new TextEncoder().encode(startup.text));
      return 0;
    }
    flags = nodePermissions(startup.options);
    daemon = startup.options.daemon ? { wait: startup.options.daemonWait } : null;
    // Core probes the lock before it forks: a node running there is said here, not lost.
    if (daemon !== null) DataDirLock.probe(startup.options.netDir);
  } catch (error) {
    console.error(`Error: ${error instanceof Error ? error.message : error}`);
    return 1;
  }
  if (daemon !== null) return await startDaemon(module, flags, argv, cwd, daemon.wait);
  return await runDenoModule(module, flags, argv, cwd);
}

/**
 * `-daemon`: starts the node in the background, in a session of its own
 * (`setsid`: no terminal whose hangup reaches it) with its standard streams
 * on `/dev/null`, as bitcoind forks, printing Core's `Bitcoin Core
 * starting`; resolves with 0 at once, or with `-daemonwait` (`wait`) once
 * the node has started, or with 1 and Core's line when it stopped first.
 * The node (`-daemonized`) says it has started with `1` on its standard
 * output, as bitcoind's child sends its parent a token.
 */
export async function startDaemon(
  module: string | URL,
  flags: readonly string[],
  argv: readonly string[],
  cwd: string,
  wait: boolean,
): Promise<number> {
  try {
    await Deno.stdout.write(new TextEncoder().encode("Bitcoin Core starting\n"));
  } catch { /* a closed stdout does not stop the start, as bitcoind's std::cout */ }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("setsid", {
      // Its console is /dev/null, as bitcoind's once forked: its stdout carries the token alone.
      args: [
        "deno",
        "run",
        "--no-prompt",
        ...flags,
        modulePath(module),
        ...argv,
        "-printtoconsole=0",
        "-daemonized",
      ],
      cwd,
      stdin: "null",
      stdout: wait ? "piped" : "null",
      stderr: "null",
    }).spawn();
  } catch (error) {
    console.error(`Error: fork_daemon() failed: ${error instanceof Error ? error.message : error}`);
    return 1;
  }
  child.unref();
  if (!wait) return 0;
  // The first byte decides: the token, or the node's end without it.
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  await child.stdout.cancel();
  if (value?.[0] === 0x31) return 0;
  console.error("Error during initialization - check debug.log for details");
  return 1;
}

/** The file path of `module` (a URL's percent-escapes decoded). */
function modulePath(module: string | URL): string {
  return module instanceof URL ? fileURLToPath(module) : module;
}

/**
 * Runs `deno run --no-prompt <flags> <module> <argv>` in `cwd` with this
 * process's stdin, stdout and stderr, passing SIGINT, SIGTERM and SIGHUP
 * on; resolves with its exit status. `--allow-run=deno` grants it.
 */
export async function runDenoModule(
  module: string | URL,
  flags: readonly string[],
  argv: readonly string[],
  cwd: string,
): Promise<number> {
  // By name, as `--allow-run=deno` grants it (Deno.execPath() is the resolved binary).
  const child = new Deno.Command("deno", {
    args: ["run", "--no-prompt", ...flags, modulePath(module), ...argv],
    cwd,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const forward = signals.map((signal) => {
    const pass = () => {
      try {
        child.kill(signal);
      } catch { /* it has exited */ }
    };
    Deno.addSignalListener(signal, pass);
    return () => Deno.removeSignalListener(signal, pass);
  });
  const status = await child.status;
  forward.forEach((remove) => remove());
  return status.code;
}

if (import.meta.main) {
  // -monolithic runs the node with its wallets in one process (monolithic.ts).
  const entry = Deno.args.some((arg) => /^--?monolithic(=1)?$/.test(arg))
    ? "./monolithic.ts"
    : "./main.ts";
  Deno.exit(await launchNode(new URL(entry, import.meta.url), Deno.args));
}
