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
 * meant), passes signals on, and exits with the node's status.
 *
 * The task line: `deno run --allow-read --allow-env=INIT_CWD,HOME
 * --allow-run=deno components/node/launcher.ts`.
 *
 * @module
 */
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
  try {
    const startup = parseNodeArgs(argv, { cwd });
    if (startup.kind === "print") {
      await Deno.stdout.write(new TextEncoder().encode(startup.text));
      return 0;
    }
    flags = nodePermissions(startup.options);
  } catch (error) {
    console.error(`Error: ${error instanceof Error ? error.message : error}`);
    return 1;
  }
  return await runDenoModule(module, flags, argv, cwd);
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
  const path = module instanceof URL ? module.pathname : module;
  // By name, as `--allow-run=deno` grants it (Deno.execPath() is the resolved binary).
  const child = new Deno.Command("deno", {
    args: ["run", "--no-prompt", ...flags, path, ...argv],
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
