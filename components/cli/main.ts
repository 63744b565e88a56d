/**
 * bitcoin-cli for Deno: the entry point. `deno task cli [options] <command>
 * [params]` runs it with the permission flags its options need (see
 * `launcher.ts`); run directly, it needs read access to the configuration
 * file and the cookie, and net access to the server's address:
 *
 * ```sh
 * deno run --allow-read=<datadir> --allow-net=127.0.0.1:18443 components/cli/main.ts \
 *   -regtest -datadir=<datadir> getblockcount
 * ```
 *
 * @module
 */
import { runCli } from "./cli.ts";
import { Stdin } from "./stdin.ts";

if (import.meta.main) {
  const code = await runCli(Deno.args, {
    stdout: Deno.stdout,
    stderr: Deno.stderr,
    stdin: new Stdin(),
  });
  Deno.exit(code);
}
