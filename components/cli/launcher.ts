/**
 * `deno task cli [options] <command> [params]`: runs bitcoin-cli with
 * exactly the permission flags its options need ({@linkcode cliPermissions}),
 * which a fixed task line cannot give, since the configuration file, the
 * cookie and the server's address come from the command line and
 * `bitcoin.conf`. The launcher reads the options as the client will; help,
 * version and start-up errors it prints itself (the client's exact text and
 * status), and otherwise it runs `deno run --no-config <flags>
 * components/cli/main.ts <options>` in the directory `deno task` was called
 * from, with this process's stdin, stdout and stderr, and exits with the
 * client's status.
 *
 * The task line: `deno run --allow-read --allow-env=INIT_CWD,HOME
 * --allow-run=deno components/cli/launcher.ts`.
 *
 * @module
 */
import { callerDirectory, runDenoModule } from "../node/launcher.ts";
import { appInit } from "./options.ts";
import { cliPermissions } from "./permissions.ts";
import { writeAll } from "./stdin.ts";

/** Runs the client at `module` with `argv` from `cwd`; resolves with its exit status. */
export async function launchCli(
  module: string | URL,
  argv: readonly string[],
  cwd: string = callerDirectory(),
): Promise<number> {
  const start = appInit(argv, { cwd });
  if (start.kind === "print") {
    await writeAll(Deno.stdout, new TextEncoder().encode(start.stdout));
    await writeAll(Deno.stderr, new TextEncoder().encode(start.stderr));
    return start.code;
  }
  let flags: string[];
  try {
    flags = cliPermissions(start.settings);
  } catch (error) {
    await writeAll(Deno.stderr, new TextEncoder().encode(`error: ${(error as Error).message}\n`));
    return 1;
  }
  // --no-config: the caller's directory may hold any deno.json; the client needs none.
  return await runDenoModule(module, ["--no-config", ...flags], argv, cwd);
}

if (import.meta.main) {
  Deno.exit(await launchCli(new URL("./main.ts", import.meta.url), Deno.args));
}
