/**
 * `deno task node -daemon` and `-daemonwait`, as `bitcoind -daemon` runs:
 * the launcher prints `Bitcoin Core starting` and returns while the node
 * goes on in the background, in a session of its own (no terminal to lose);
 * with `-daemonwait` it returns once the node answers, or with status 1
 * and Core's line when the node could not start (here: its data directory
 * locked by another). The node run directly with `-daemon` says it cannot
 * fork itself.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../assert.ts";
import { fileLines, processGone, tempDir, waitFor } from "../../helpers.ts";
import { freePort, runOnce } from "./node_process.ts";
import { NODE_MAIN } from "./real_node.ts";

const LAUNCHER = new URL("../../../components/node/launcher.ts", import.meta.url).pathname;

/** `deno task node -regtest -datadir=<datadir> -rpcport=<port> <options>`, to the launcher's end. */
function taskNode(datadir: string, port: number, ...options: string[]) {
  return runOnce(
    ["-regtest", `-datadir=${datadir}`, `-rpcport=${port}`, ...options],
    ["--allow-read", "--allow-env=INIT_CWD,HOME", "--allow-run=deno,setsid"],
    { module: LAUNCHER },
  );
}

/** JSON-RPC to the node of `datadir` on `port`, with its cookie; throws until it answers. */
async function rpc(
  datadir: string,
  port: number,
  method: string,
  params: unknown[] = [],
): Promise<unknown> {
  const cookie = Deno.readTextFileSync(join(datadir, "regtest", ".cookie"));
  const response = await fetch(`http://127.0.0.1:${port}/`, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(cookie)}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const reply = await response.json();
  if (reply.error) throw new Error(reply.error.message);
  return reply.result;
}

/** The session of process `pid` (field 6 of `/proc/<pid>/stat`). */
function sessionOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
}

/** Stops the node of `datadir` (RPC `stop`, SIGKILL if it stays) and waits until it is gone. */
async function stopDaemon(datadir: string, port: number): Promise<void> {
  // A daemon may still be starting: its pid file comes a moment after the launcher returned.
  const pidFile = join(datadir, "regtest", "bitcoind.pid");
  let pid = 0;
  await waitFor(
    () => {
      try {
        pid = Number(Deno.readTextFileSync(pidFile).trim());
      } catch { /* not yet, or never */ }
      return pid > 0;
    },
    5_000,
    "the pid file",
  ).catch(() => {});
  if (pid === 0) return; // never started
  await rpc(datadir, port, "stop").catch(() => {});
  try {
    await waitFor(() => processGone(pid), 30_000, "the daemon to stop");
  } catch (error) {
    Deno.kill(pid, "SIGKILL");
    throw error;
  }
}

Deno.test("node: -daemon leaves the node running in a session of its own; the launcher returns at once", async () => {
  using data = tempDir("daemon_");
  const port = freePort();
  try {
    const started = await taskNode(data.path, port, "-daemon");
    assertEquals([started.code, started.stdout, started.stderr], [
      0,
      "Bitcoin Core starting\n",
      "",
    ]);
    let count: unknown;
    await waitFor(
      async () => {
        count = await rpc(data.path, port, "getblockcount").catch(() => undefined);
        return count !== undefined;
      },
      60_000,
      "the daemon's RPC",
    );
    assertEquals(count, 0);
    const pid = Number(Deno.readTextFileSync(join(data.path, "regtest", "bitcoind.pid")).trim());
    assert(sessionOf(pid) === pid, "the node leads a session of its own");
    assert(sessionOf(pid) !== sessionOf(Deno.pid), "not the test's session");
  } finally {
    await stopDaemon(data.path, port);
  }
});

Deno.test("node: -daemonwait returns once the node answers, its commands' output on /dev/null; a data directory another node holds is refused before the fork", async () => {
  using data = tempDir("daemon_");
  const port = freePort();
  try {
    // -printtoconsole as well: the daemon's console is /dev/null, as bitcoind's; so is the
    // output of its notification commands (this one's echo would otherwise die on a pipe the
    // launcher no longer reads, before the line that counts).
    const tips = join(data.path, "tips");
    const started = await taskNode(
      data.path,
      port,
      "-daemonwait",
      "-printtoconsole",
      `-blocknotify=echo %s; echo %s >> ${tips}`,
    );
    assertEquals([started.code, started.stdout], [0, "Bitcoin Core starting\n"]);
    // Started: it answers now, without waiting.
    assertEquals(await rpc(data.path, port, "getblockcount"), 0);
    const [hash] = await rpc(data.path, port, "generatetoaddress", [
      1,
      "bcrt1qjqmxmkpmxt80xz4y3746zgt0q3u3ferr34acd5",
    ]) as string[];
    await waitFor(() => fileLines(tips).length === 1, 20_000, "the -blocknotify line");
    assertEquals(fileLines(tips), [hash]);
    // A second node on the same data directory: its lock is probed before the fork, as Core's.
    const second = await taskNode(data.path, freePort(), "-daemonwait");
    assertEquals([second.code, second.stdout, second.stderr], [
      1,
      "",
      `Error: Cannot obtain a lock on directory ${data.path}/regtest. Bitcoin Core is probably ` +
      "already running.\n",
    ]);
    // The first goes on.
    assertEquals(await rpc(data.path, port, "getblockcount"), 1);
  } finally {
    await stopDaemon(data.path, port);
  }
});

Deno.test("node: -daemonwait says a node that stopped while starting failed, as Core; debug.log says why", async () => {
  using data = tempDir("daemon_");
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const started = await taskNode(
    data.path,
    taken.addr.port,
    "-daemonwait",
    "-rpcbind=127.0.0.1",
    "-rpcallowip=127.0.0.1",
  );
  assertEquals([started.code, started.stdout, started.stderr], [
    1,
    "Bitcoin Core starting\n",
    "Error during initialization - check debug.log for details\n",
  ]);
  const log = Deno.readTextFileSync(join(data.path, "regtest", "debug.log"));
  assert(log.includes("Unable to start HTTP server"), log);
});

Deno.test("node: run directly with -daemon, the node says it cannot fork itself", async () => {
  using data = tempDir("daemon_");
  const { code, stderr } = await runOnce(
    ["-regtest", `-datadir=${data.path}`, "-daemon"],
    [`--allow-read=${data.path}`, `--allow-write=${data.path}`],
    { module: NODE_MAIN },
  );
  assertEquals(code, 1);
  assertEquals(
    stderr,
    "Error: -daemon: a Deno process cannot fork itself; start the node with deno task node, " +
      "which runs it in the background\n",
  );
});
