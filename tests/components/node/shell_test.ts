/**
 * The process shell as real processes: the data directory lock between two
 * nodes (run directly, or spawned by another process through the runtime's
 * spawn with the sandbox's arguments), released at exit and after SIGKILL;
 * clean stops on SIGINT, SIGTERM, an RPC `stop` and the parent's end, with
 * the parts disposed in reverse order, `bitcoind.pid` removed and status 0;
 * `-ipcbind=unix` on `<datadir>/regtest/node.sock`; `-debug=ipc` lines in
 * `debug.log`; and the permission flags of `permissions.ts` and the
 * launcher verified by running with exactly them.
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { connect, denoCommand, IpcLog, spawn } from "../../../mod.ts";
import { NodeInit } from "../../../schemas/gen/node.mp.ts";
import { parseNodeArgs } from "../../../components/node/options.ts";
import { nodePermissions } from "../../../components/node/permissions.ts";
import {
  dataGrants,
  FIXTURE,
  freePort,
  LAUNCHER,
  runOnce,
  spawnQuiet,
  startNode,
  waitForLine,
} from "./node_process.ts";
import { tempDir } from "../../helpers.ts";

const quiet = new IpcLog({ level: "off" });

/** The grants for a node on `datadir` serving IPC on `<datadir>/regtest/node.sock`. */
function ipcGrants(datadir: string): string[] {
  return [...dataGrants(datadir), `--allow-net=unix:${datadir}/regtest/node.sock`];
}

/** The height the node at `socket` reports through its Chain. */
async function heightAt(socket: string): Promise<number> {
  await using init = await connect(NodeInit, `unix:${socket}`, { log: quiet });
  await using chain = (await init.makeChain())!;
  return await chain.getHeight();
}

const lockError = (datadir: string) =>
  `Error: Cannot obtain a lock on directory ${datadir}/regtest. ` +
  "Bitcoin Core is probably already running.\n";

Deno.test("shell: a second node on the data directory refuses; the first runs on and stops cleanly", async () => {
  using temp = tempDir("capdeno-lock-");
  const datadir = temp.path;
  const argv = ["-regtest", `-datadir=${datadir}`, "-server=0", "-ipcbind=unix"];
  await using first = await startNode(argv, ipcGrants(datadir));
  const socket = `${datadir}/regtest/node.sock`;
  assertEquals(Deno.readTextFileSync(`${datadir}/regtest/bitcoind.pid`), `${first.child.pid}\n`);

  const second = await runOnce(argv, ipcGrants(datadir));
  assertEquals(second, { code: 1, stdout: "", stderr: lockError(datadir) });
  // The first still serves, and its files are untouched.
  assertEquals(await heightAt(socket), -1);
  assertEquals(Deno.readTextFileSync(`${datadir}/regtest/bitcoind.pid`), `${first.child.pid}\n`);

  first.child.kill("SIGTERM");
  assertEquals((await first.child.status).code, 0);
  const left = [...Deno.readDirSync(`${datadir}/regtest`)].map((e) => e.name);
  assert(!left.includes("bitcoind.pid"), "the pid file is removed on a clean stop");
  assertEquals(Deno.statSync(`${datadir}/regtest/.lock`).size, 0);
  // Released: a new node starts.
  await using third = await startNode(argv, ipcGrants(datadir));
  assertEquals(await heightAt(socket), -1);
  third.child.kill("SIGINT");
  assertEquals((await third.child.status).code, 0);
});

Deno.test("shell: SIGKILL leaves the pid file, but the lock goes with the process", async () => {
  using temp = tempDir("capdeno-kill-");
  const datadir = temp.path;
  const argv = ["-regtest", `-datadir=${datadir}`, "-server=0"];
  const killed = await startNode(argv, dataGrants(datadir));
  killed.child.kill("SIGKILL");
  await killed.child.status;
  await killed[Symbol.asyncDispose]();
  assertEquals(Deno.readTextFileSync(`${datadir}/regtest/bitcoind.pid`), `${killed.child.pid}\n`);
  await using next = await startNode(argv, dataGrants(datadir));
  assertEquals(Deno.readTextFileSync(`${datadir}/regtest/bitcoind.pid`), `${next.child.pid}\n`);
  next.child.kill("SIGTERM");
  assertEquals((await next.child.status).code, 0);
});

Deno.test("shell: spawned as the sandbox spawns it, it holds the lock and stops when the parent goes", async () => {
  using temp = tempDir("capdeno-spawn-");
  const datadir = temp.path;
  // As the sandbox prepares a manifest granting read and write on "regtest"
  // only: the data directory and its bitcoin.conf are out of sight.
  Deno.mkdirSync(`${datadir}/regtest`, { mode: 0o700 });
  Deno.writeTextFileSync(`${datadir}/bitcoin.conf`, "regtest=1\n[regtest]\nserver=1\n");
  using socketsDir = tempDir("capdeno-sock-");
  const sockets = socketsDir.path;
  const socket = `${sockets}/node.sock`;
  const child = await spawn(
    NodeInit,
    denoCommand(FIXTURE, {
      permissions: [
        `--allow-read=${datadir}/regtest,${socket}`,
        `--allow-write=${datadir}/regtest,${socket}`,
        `--allow-net=unix:${socket}`,
      ],
      args: [
        `-datadir=${datadir}`,
        "-lifeline",
        `-ipcbind=unix:${socket}`,
        "-regtest",
        "-server=0",
      ],
    }),
    // Generous: the clean stop is what is tested, not its speed.
    { log: quiet, output: () => {}, exitTimeoutMs: 60_000 },
  );
  let exited = false;
  try {
    // Served to the parent over descriptor 3.
    await using chain = (await child.init.makeChain())!;
    assertEquals(await chain.generateToAddress(1, "tc1parent"), 0);
    const direct = await runOnce(
      ["-regtest", `-datadir=${datadir}`, "-server=0"],
      dataGrants(datadir),
    );
    assertEquals(direct, { code: 1, stdout: "", stderr: lockError(datadir) });
  } finally {
    await child[Symbol.asyncDispose]();
    exited = true;
  }
  assert(exited);
  assertEquals(await child.exited, { code: 0, signal: null });
  const log = Deno.readTextFileSync(`${datadir}/regtest/debug.log`);
  assert(log.endsWith(" Shutdown: done\n"), log);
  assert(log.includes(`Config file ${datadir}/bitcoin.conf is outside this process's permissions`));
  assert(!Deno.readDirSync(`${datadir}/regtest`).some((e) => e.name === "bitcoind.pid"));
});

Deno.test("shell: SIGINT stops the parts in reverse order and exits with 0", async () => {
  using temp = tempDir("capdeno-stop-");
  const datadir = temp.path;
  const port = freePort();
  const log = `${datadir}/regtest/debug.log`;
  const node = spawnQuiet(["-regtest", `-datadir=${datadir}`, `-rpcport=${port}`], [
    ...dataGrants(datadir),
    `--allow-net=127.0.0.1:${port},[::1]:${port}`,
  ]);
  await waitForLine(log, " fixture: started\n");
  node.kill("SIGINT");
  assertEquals((await node.status).code, 0);
  // debug.log is complete once the process has exited.
  const lines = Deno.readTextFileSync(log).trimEnd().split("\n");
  const after = lines.slice(lines.findIndex((l) => l.endsWith(" Shutdown: In progress...")));
  assertEquals(after.map((line) => line.slice(21)), [
    "Shutdown: In progress...",
    "fixture: rpc on 127.0.0.1 closed",
    "fixture: rpc on ::1 closed",
    "fixture: database closed",
    "Shutdown: done",
  ]);
  assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /.test(after[0]), after[0]);
});

Deno.test("shell: a stop during a start that does not finish still stops the parts made so far", async () => {
  using temp = tempDir("capdeno-hang-");
  const datadir = temp.path;
  const log = `${datadir}/regtest/debug.log`;
  const node = spawnQuiet(
    ["-regtest", `-datadir=${datadir}`, "-server=0", "-wallet=fixture-hangs"],
    dataGrants(datadir),
  );
  await waitForLine(log, " fixture: start hangs\n");
  node.kill("SIGTERM");
  assertEquals((await node.status).code, 0);
  const lines = Deno.readTextFileSync(log).trimEnd().split("\n");
  assert(!lines.some((line) => line.endsWith(" init message: Done loading")));
  assertEquals(lines.slice(-3).map((line) => line.slice(21)), [
    "Shutdown: In progress...",
    "fixture: database closed",
    "Shutdown: done",
  ]);
});

Deno.test("shell: the permission flags of permissions.ts, exactly, run the node; each is needed", async () => {
  using temp = tempDir("capdeno-perm-");
  const parent = temp.path;
  Deno.mkdirSync(`${parent}/data`);
  const port = freePort();
  const argv = ["-regtest", "-datadir=./data", "-ipcbind=unix", `-rpcport=${port}`, "-debug=ipc"];
  const started = parseNodeArgs(argv, { cwd: parent });
  if (started.kind !== "run") throw new Error("expected options");
  const flags = nodePermissions(started.options);
  const data = `${parent}/data`;
  assertEquals(flags, [
    `--allow-read=${data}`,
    `--allow-write=${data}/regtest`,
    `--allow-net=[::1]:${port},127.0.0.1:${port},unix:${data}/regtest/node.sock`,
  ]);
  const output = runOnce(argv, flags, { cwd: parent });
  const log = `${data}/regtest/debug.log`;
  await waitForLine(log, " fixture: started\n");
  assertEquals(await heightAt(`${data}/regtest/node.sock`), -1);
  // The RPC part's stop ends the node cleanly.
  const response = await fetch(`http://127.0.0.1:${port}/`, {
    method: "POST",
    body: JSON.stringify({ method: "stop", id: 1 }),
  });
  assertEquals(await response.json(), { result: "Bitcoin Core stopping", error: null, id: 1 });
  const done = await output;
  assertEquals([done.code, done.stderr], [0, ""]);
  const text = Deno.readTextFileSync(log);
  assert(text.includes(" [ipc] IPC server recv request"), "-debug=ipc logs IPC calls");
  assert(text.includes(" fixture: database closed\n"), "node:sqlite ran under these grants");

  // Without any one of them it cannot start.
  for (const dropped of flags) {
    const outcome = await runOnce(argv, flags.filter((flag) => flag !== dropped), { cwd: parent });
    assertEquals(outcome.code, 1, `without ${dropped}`);
    assert(outcome.stderr.startsWith("Error: "), outcome.stderr);
  }
});

Deno.test("shell: the launcher (deno task node) grants exactly those flags and passes signals on", async () => {
  using temp = tempDir("capdeno-task-");
  const parent = temp.path;
  Deno.mkdirSync(`${parent}/data`);
  const data = `${parent}/data`;
  const launcher = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-read",
      "--allow-env=INIT_CWD,HOME",
      "--allow-run=deno",
      LAUNCHER,
      "-regtest",
      "-datadir=./data",
      "-ipcbind=unix",
      "-server=0",
      "-printtoconsole=0",
    ],
    env: { INIT_CWD: parent },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = launcher.output();
  const pidFile = `${data}/regtest/bitcoind.pid`;
  await waitForLine(`${data}/regtest/debug.log`, " fixture: started\n");
  const pid = Deno.readTextFileSync(pidFile).trim();
  const command = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
  assertEquals(command.filter((arg) => arg.startsWith("--allow-")), [
    `--allow-read=${data}`,
    `--allow-write=${data}/regtest`,
    `--allow-net=unix:${data}/regtest/node.sock`,
  ]);
  assertEquals(await heightAt(`${data}/regtest/node.sock`), -1);
  launcher.kill("SIGTERM");
  const done = await output;
  assertEquals([done.code, new TextDecoder().decode(done.stderr)], [0, ""]);
  assert(Deno.readTextFileSync(`${data}/regtest/debug.log`).includes(" Shutdown: done\n"));
  // Errors come from the launcher itself, as the node words them.
  const refused = await runOnce(["-datadir=./nope"], [
    "--allow-read",
    "--allow-env=INIT_CWD,HOME",
    "--allow-run=deno",
  ], { module: LAUNCHER, env: { INIT_CWD: parent } });
  assertEquals(refused.stderr, 'Error: Specified data directory "./nope" does not exist.\n');
  assertEquals(refused.code, 1);
});
