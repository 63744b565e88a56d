/**
 * Running the shell fixture as a real process for the node's process
 * tests: once to its exit, or in the background until a line appears.
 *
 * @module
 */
import { type Peer, spawnPeer, waitFor } from "../../helpers.ts";

/** The fixture entry point: the real process shell with stand-in parts. */
export const FIXTURE = new URL("./shell_fixture.ts", import.meta.url).pathname;

/** The launcher fixture: `deno task node` starting the shell fixture. */
export const LAUNCHER = new URL("./launcher_fixture.ts", import.meta.url).pathname;

/** The least a node on `datadir` needs without sockets: read it, write its `regtest/`. */
export function dataGrants(datadir: string): string[] {
  return [`--allow-read=${datadir}`, `--allow-write=${datadir}/regtest`];
}

/** How a run ended. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run <flags> <module> <argv>` to its end. */
export async function runOnce(
  argv: readonly string[],
  flags: readonly string[],
  { cwd, module = FIXTURE, env }: { cwd?: string; module?: string; env?: Record<string, string> } =
    {},
): Promise<Outcome> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, module, ...argv],
    cwd,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** Starts the fixture in the background and waits until it has started (its stdout says so). */
export async function startNode(
  argv: readonly string[],
  flags: readonly string[],
  module = FIXTURE,
): Promise<Peer> {
  const peer = spawnPeer(Deno.execPath(), ["run", "--no-prompt", ...flags, module, ...argv]);
  await Promise.race([
    peer.line(/ fixture: started$/),
    peer.child.status.then((status) => {
      throw new Error(`the node exited with ${status.code} before starting`);
    }),
  ]);
  return peer;
}

/** A TCP port nothing listened on a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Waits until the file at `path` contains `text` (for a node started with `-printtoconsole=0`). */
export function waitForLine(path: string, text: string): Promise<void> {
  return waitFor(
    () => {
      try {
        return Deno.readTextFileSync(path).includes(text);
      } catch {
        return false;
      }
    },
    20_000,
    `${JSON.stringify(text.trim())} in ${path}`,
  );
}

/** Starts the fixture with `-printtoconsole=0` (it logs to `debug.log` only); stderr is shown. */
export function spawnQuiet(argv: readonly string[], flags: readonly string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, FIXTURE, ...argv, "-printtoconsole=0"],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
}
