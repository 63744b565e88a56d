/**
 * The tasks that start the node (`deno task start` with the gui, `deno task spawn-node`)
 * and `deno task audit`, run as a user runs them: `deno task …` in its own
 * process group (as in a terminal, so Ctrl-C is SIGINT to the group), the
 * node under the sandbox contract and the supervisor, its JSON-RPC called
 * through the printed bitcoin-cli line, its IPC `Init` through the
 * supervisor, its argv read from /proc.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { tempDir, type TempPath, waitFor } from "../helpers.ts";
import { projectRoot } from "../../sandbox/contract.ts";
import { bwrapPath } from "../../sandbox/hardened.ts";
import { freePort } from "./node/node_process.ts";
import { nodeRpc, stoppedNodeFiles, Task, task } from "./task_fixture.ts";

const GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";
/** BIP 173's regtest P2WPKH example. */
const ADDRESS = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
/** A fresh state directory (`path` is its real path), removed on dispose. */
function stateDir(): TempPath {
  const dir = tempDir("capdeno-launch-");
  return { ...dir, path: Deno.realPathSync(dir.path) };
}

/** The task words (`cli …`) of the command a start printed; its Deno invocation checked. */
function printedCli(output: string, ending = ""): string[] {
  const line = [...output.matchAll(/^try: (.*)$/gm)].map((m) => m[1])
    .find((line) => line.endsWith(ending));
  assert(line !== undefined, output);
  const match = /^(deno|npx deno@[\d.]+|\/\S+) (task cli .*)$/.exec(line);
  assert(match !== null, `the printed command starts with a way to run Deno: ${line}`);
  // The paths this test makes need no quoting, so the words split on spaces.
  return match[2].split(" ").slice(1);
}

/** The task words of `spawn-node` with state directory `state`, JSON-RPC on `port`, and `options`. */
function spawnNode(state: string, port: number, ...options: string[]): string[] {
  return ["spawn-node", `--state=${state}`, `-rpcport=${port}`, ...options];
}

/** Runs a `deno task cli …` command; its stdout, the exit status asserted 0. */
async function cli(words: readonly string[]): Promise<string> {
  const result = await task(words);
  assertEquals(result.code, 0, result.out);
  return result.out;
}

/** `spawn-node --once` output for a fresh node on `port` under `state`. */
function assertOnceOutput(out: string, state: string, port: number, blocks = 0) {
  const data = `${state}/data/node`;
  assert(/\[supervisor\] node: started \(pid \d+\)/.test(out), out);
  assert(
    out.includes(`node: JSON-RPC on [::1]:${port} and 127.0.0.1:${port}; block count ${blocks}\n`),
    out,
  );
  assert(
    out.includes(`node: IPC Init through the supervisor: Echo answered "capdeno", `) &&
      /Mining\.getTip is block \d+ [0-9a-f]{64}\n/.test(out),
    out,
  );
  assert(out.includes(`node: cookie ${data}/regtest/.cookie\n`), out);
  assert(
    new RegExp(
      `^try: \\S.* task cli -regtest -datadir=${data} -rpcport=${port} getblockchaininfo$`,
      "m",
    ).test(out),
    out,
  );
}

for (const hardened of [false, true]) {
  Deno.test({
    name: `tasks: spawn-node --once${
      hardened ? " --hardened" : ""
    } starts the node under the contract, its RPC and IPC answer`,
    ignore: hardened && bwrapPath() === null,
  }, async () => {
    using temp = stateDir();
    const state = temp.path;
    const port = freePort();
    const flags = hardened ? ["--hardened"] : [];
    const first = await task([
      "spawn-node",
      "--once",
      ...flags,
      `--state=${state}`,
      `-rpcport=${port}`,
    ]);
    assertEquals(first.code, 0, first.out);
    assertOnceOutput(first.out, state, port);
    assert(first.out.includes(`Mining.getTip is block 0 ${GENESIS}\n`), first.out);
    // Stopped cleanly: the cookie is gone, the log says so.
    const { names, log } = await stoppedNodeFiles(state);
    assert(!names.includes(".cookie") && names.includes("chainstate.sqlite"), names.join(" "));
    assert(log.trimEnd().endsWith("Shutdown: done"), log);
  });
}

/** The descendants of `pid`, from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry.name)]);
    } catch { /* gone meanwhile */ }
  }
  const found: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const next = children.get(pending.pop()!) ?? [];
    found.push(...next);
    pending.push(...next);
  }
  return found;
}

/** The argv of the component process `name` below `pid` (the Deno process the contract started). */
function componentArgv(pid: number, name = "node"): string[] {
  const argvs = descendants(pid).map((child) => {
    try {
      return Deno.readTextFileSync(`/proc/${child}/cmdline`).split("\0").slice(0, -1);
    } catch {
      return [];
    }
  });
  const nodes = argvs.filter((argv) =>
    argv.includes(`--location=http://${name}.component.invalid/`) && argv[1] === "run"
  );
  assertEquals(nodes.length, 1, argvs.map((argv) => argv.join(" ")).join("\n"));
  return nodes[0];
}

Deno.test("tasks: a running spawn-node: its argv grants what the manifest and options say; a second spawn and a plain node on its data are refused; Ctrl-C stops it", async () => {
  using temp = stateDir();
  const state = temp.path;
  const port = freePort();
  await using running = new Task(["spawn-node", `--state=${state}`, `-rpcport=${port}`]);
  await running.match(/^node: running; Ctrl-C stops it$/m);
  assertOnceOutput(running.output, state, port);

  // Read/write on the view's regtest/ and the socket (read on the socket's own folder); net
  // on the RPC endpoints of -rpcport (not the manifest's 18443) and the socket; nothing else.
  const argv = componentArgv(running.pid);
  const socket = `${state}/sockets/node/node.sock`;
  assertEquals(argv.filter((arg) => /^--(allow|deny)-/.test(arg)), [
    `--allow-read=${state}/view/node/regtest,${state}/sockets/node`,
    `--allow-write=${state}/view/node/regtest,${socket}`,
    `--allow-net=[::1]:${port},127.0.0.1:${port},unix:${socket}`,
    "--deny-run",
  ]);
  const bundle = argv.findIndex((arg) => arg.startsWith("file://"));
  assertEquals(argv.slice(bundle + 1), [
    `-datadir=${state}/view/node`,
    "-lifeline",
    `-ipcbind=unix:${socket}`,
    "-regtest",
    "-noconf",
    "-printtoconsole=0",
    `-rpcport=${port}`,
    "-ipcfd=3",
  ]);

  // A second spawn on the same state directory: refused before anything of the first is touched.
  const second = await task(["spawn-node", "--once", `--state=${state}`, `-rpcport=${freePort()}`]);
  assertEquals(second.code, 1, second.out);
  assertEquals(
    second.out,
    `launch: node is already running from the state directory ${state} (another run holds ` +
      `${state}/locks/node.lock); stop it first, or choose another state directory\n`,
  );
  // A node run directly on its data directory: the node's own lock refuses it.
  const plain = await task([
    "node",
    "-regtest",
    `-datadir=${state}/data/node`,
    `-rpcport=${freePort()}`,
  ]);
  assertEquals(plain.code, 1, plain.out);
  assert(
    plain.out.includes(
      `Error: Cannot obtain a lock on directory ${state}/data/node/regtest. ` +
        "Bitcoin Core is probably already running.",
    ),
    plain.out,
  );
  // The first still serves: the printed command reaches it.
  const info = JSON.parse(await cli(printedCli(running.output)));
  assertEquals([info.chain, info.blocks], ["regtest", 0]);

  running.interrupt();
  assertEquals(await running.exited, 0, running.output);
  assert(running.output.includes("node: stopping (SIGINT)\n"), running.output);
  const { names } = await stoppedNodeFiles(state);
  assert(!names.includes(".cookie"), names.join(" "));

  // Every run left its grants and audit log; the node tried nothing outside them but looking
  // at its data directory and bitcoin.conf there (refused, skipped).
  const audit = await task(["audit", `--state=${state}`]);
  assertEquals(audit.code, 0, audit.out);
  assert(/^node: 1 run\(s\), \d+ permission check\(s\)/m.test(audit.out), audit.out);
  const outside = audit.out.split("\n").filter((line) => /^ {2}\d+× /.test(line))
    .map((line) => line.replace(/^ {2}\d+× /, "")).sort();
  assertEquals(outside, [
    `read ${state}/view/node`,
    `read ${state}/view/node/bitcoin.conf`,
  ]);
});

/** The project as a fresh clone has it: everything but `.git` and what `.gitignore` names. */
function cloneProject(into: string): void {
  const ignored = new Set([
    ".git",
    ...Deno.readTextFileSync(join(projectRoot(), ".gitignore")).split("\n")
      .map((line) => line.trim().replace(/\/$/, "")).filter(Boolean),
  ]);
  const copy = (from: string, to: string, relative: string) => {
    Deno.mkdirSync(to, { recursive: true });
    for (const entry of Deno.readDirSync(from)) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (ignored.has(path)) continue;
      if (entry.isDirectory) copy(join(from, entry.name), join(to, entry.name), path);
      else if (entry.isFile) Deno.copyFileSync(join(from, entry.name), join(to, entry.name));
    }
  };
  copy(projectRoot(), into, "");
}

Deno.test('tasks: deno task start in a fresh clone: node and wallet "default", the printed cli lines work, blocks persist in ./data, Ctrl-C stops it cleanly', async () => {
  using temp = tempDir("capdeno-clone-");
  const clone = Deno.realPathSync(temp.path);
  Deno.chmodSync(clone, 0o755); // under root the components must pass through it
  cloneProject(clone);
  const state = `${clone}/data`;
  const port = freePort();
  const guiPort = freePort();
  {
    await using start = new Task(["start", `-rpcport=${port}`, `-guiport=${guiPort}`], clone);
    await start.match(/^node and gui: running; Ctrl-C stops them$/m);
    assertOnceOutput(start.output, state, port);
    assert(
      new RegExp(`^gui: http://127\\.0\\.0\\.1:${guiPort}/\\?token=[0-9a-f]{64}$`, "m")
        .test(start.output),
      start.output,
    );
    // The exact printed command, then the same options mining five blocks.
    const words = printedCli(start.output);
    assertEquals(JSON.parse(await cli(words)).blocks, 0);
    const options = words.slice(0, -1);
    assertEquals(JSON.parse(await cli([...options, "generatetoaddress", "5", ADDRESS])).length, 5);
    assertEquals((await cli([...options, "getblockcount"])).trim(), "5");
    // The wallet line: the default wallet, in its own process and data directory.
    assert(start.output.includes(`wallet: default loaded (data directory ${state}/data/wallet)`));
    const walletWords = printedCli(start.output, " -rpcwallet=default getwalletinfo");
    const info = JSON.parse(await cli(walletWords));
    assertEquals([info.walletname, info.format], ["default", "sqlite"]);
    start.interrupt();
    assertEquals(await start.exited, 0, start.output);
  }
  const { names, log } = await stoppedNodeFiles(state);
  assert(!names.includes(".cookie"), names.join(" "));
  assert(log.trimEnd().endsWith("Shutdown: done"), log);
  // The chain is kept in the clone's ./data.
  const again = await task(["start", "--once", `-rpcport=${port}`, `-guiport=${guiPort}`], clone);
  assertEquals(again.code, 0, again.out);
  assertOnceOutput(again.out, state, port, 5);
});

Deno.test("tasks: spawn-node -wallet=w starts the sandboxed wallet process; cli -rpcwallet sends between wallets; a restart keeps them", async () => {
  using temp = stateDir();
  const state = temp.path;
  const port = freePort();
  const args = spawnNode(state, port, "-wallet=w", "-fallbackfee=0.0002");
  let options: string[];
  {
    await using node = new Task(args);
    await node.match(/^wallet: w loaded/m);
    assert(/\[supervisor\] wallet: started \(pid \d+\)/.test(node.output), node.output);
    options = printedCli(node.output).slice(0, -1);
    const w = [...options, "-rpcwallet=w"];
    const address = (await cli([...w, "getnewaddress"])).trim();
    assert(address.startsWith("bcrt1q"), address);
    await cli([...options, "generatetoaddress", "101", address]);
    assertEquals((await cli([...w, "getbalance"])).trim(), "50.00000000");
    assertEquals(JSON.parse(await cli([...options, "createwallet", "w2"])), { name: "w2" });
    const to = (await cli([...options, "-rpcwallet=w2", "getnewaddress"])).trim();
    const txid = (await cli([...w, "sendtoaddress", to, "1.25"])).trim();
    assert(/^[0-9a-f]{64}$/.test(txid), txid);
    await cli([...options, "generatetoaddress", "1", address]);
    assertEquals((await cli([...options, "-rpcwallet=w2", "getbalance"])).trim(), "1.25000000");
    // Forty wallets in the one sandboxed process (each holds its database's three files open):
    // within its descriptor limit, which 64 was not.
    const { call } = nodeRpc(port, `${state}/data/node/regtest/.cookie`, () => node.output);
    for (let i = 0; i < 40; i++) {
      const created = await call("createwallet", [`m${i}`]);
      assertEquals(created.result, { name: `m${i}` }, JSON.stringify(created.error));
    }
    assertEquals(((await call("listwallets")).result as string[]).length, 42);
    node.interrupt();
    assertEquals(await node.exited, 0, node.output);
  }
  // The wallets' state is in the wallet's own data directory, kept across runs.
  await using node = new Task(args);
  await node.match(/^wallet: w loaded/m);
  assertEquals(JSON.parse(await cli([...options, "loadwallet", "w2"])), { name: "w2" });
  assertEquals((await cli([...options, "-rpcwallet=w2", "getbalance"])).trim(), "1.25000000");
  const w = JSON.parse(await cli([...options, "-rpcwallet=w", "getbalances"]));
  assertEquals(w.lastprocessedblock.height, 102);
  node.interrupt();
  assertEquals(await node.exited, 0, node.output);
});

Deno.test("tasks: -walletdir under the sandbox: the process holding the wallets (the wallet process, spawn-wallet's, the node with -monolithic) alone is given that directory, through its view; wallets are made, listed and loaded there again after a restart; a bad one is refused in one line", async () => {
  using temp = stateDir();
  using dirs = stateDir();
  const state = temp.path;
  const walletDir = `${dirs.path}/wallets`;
  const sibling = `${dirs.path}/sibling`;
  const link = `${dirs.path}/link`; // given through a link: the view leads to where it resolves
  Deno.chmodSync(dirs.path, 0o711); // under root the wallet process's user passes through it
  Deno.mkdirSync(walletDir);
  Deno.mkdirSync(sibling);
  Deno.symlinkSync(walletDir, link);
  const apart = `${dirs.path}/apart`; // another process's: under root each is given to its user
  Deno.mkdirSync(apart);
  const view = `${state}/view/wallet.walletdir`;
  const port = freePort();
  const args = spawnNode(state, port, "-wallet=w", `-walletdir=${link}`);
  const rpcOf = (node: Task) =>
    nodeRpc(port, `${state}/data/node/regtest/.cookie`, () => node.output);
  {
    await using node = new Task(args);
    await node.match(/^node: running/m);
    assert(
      node.output.includes(
        `wallet: w loaded (data directory ${state}/data/wallet, wallets in ${link})`,
      ),
      node.output,
    );
    // The wallet process: read and write on its data directory's folders, the view and its
    // socket, nothing else; -walletdir names the view.
    const wallet = componentArgv(node.pid, "wallet");
    const socket = wallet.find((arg) => arg.startsWith("-ipcconnect=unix:"))!.slice(17);
    const grants = [`${state}/view/wallet/wallets`, `${state}/view/wallet/settings`, view, socket];
    assertEquals(wallet.filter((arg) => /^--allow-(read|write)=/.test(arg)), [
      `--allow-read=${grants.join(",")}`,
      `--allow-write=${grants.join(",")}`,
    ]);
    assertEquals(wallet.filter((arg) => /^--?walletdir=/.test(arg)), [`-walletdir=${view}`]);
    assertEquals(Deno.realPathSync(view), walletDir);
    // The node does not run the wallets: it is given nothing of the directory.
    const nodeArgs = componentArgv(node.pid);
    assert(!nodeArgs.some((arg) => /walletdir|wallets/.test(arg) || arg.includes(dirs.path)));
    // A probe run with exactly the wallet's flags writes through the view, and nowhere else:
    // not the directory by its own path, not a sibling; and what it wrote there cannot be
    // require()d (which resolves the real path first), as in its data directory.
    const flags = wallet.filter((arg) => /^--(allow|deny)-/.test(arg));
    const probeFile = Deno.makeTempFileSync({ suffix: ".ts" });
    Deno.writeTextFileSync(
      probeFile,
      `import { createRequire } from "node:module";
      const [view, ...others] = Deno.args;
      for (const dir of [view, ...others]) {
        try { Deno.writeTextFileSync(dir + "/probe.cjs", "module.exports = 1;"); console.log("written"); }
        catch (e) { console.log(e.name); }
      }
      try { createRequire(import.meta.url)(view + "/probe.cjs"); console.log("required"); }
      catch (e) { console.log(e.name); }`,
    );
    const probe = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...flags, probeFile, view, walletDir, sibling],
      stdout: "piped",
    }).output();
    Deno.removeSync(probeFile);
    Deno.removeSync(`${walletDir}/probe.cjs`);
    assertEquals(
      new TextDecoder().decode(probe.stdout),
      "written\nNotCapable\nNotCapable\nNotCapable\n",
    );
    assertEquals([...Deno.readDirSync(sibling)], []);

    const { call } = rpcOf(node);
    // x is to be loaded at start (settings.json, in the wallet's own data directory).
    const created = await call("createwallet", ["x", false, false, null, false, true, true]);
    assertEquals(created.result, { name: "x" }, JSON.stringify(created.error));
    for (const name of ["w", "x"]) {
      assertEquals(Deno.statSync(`${walletDir}/${name}/wallet.dat`).isFile, true);
    }
    assertEquals((await call("listwalletdir")).result, { wallets: [{ name: "w" }, { name: "x" }] });
    // Nothing of them in the state directory.
    const found = (dir: string): string[] =>
      [...Deno.readDirSync(dir)].flatMap((entry) =>
        entry.isDirectory ? found(`${dir}/${entry.name}`) : [entry.name]
      );
    assert(!found(`${state}/data`).includes("wallet.dat"));
    // A backup outside the directory is refused, naming where backups may go.
    const backup = await call("backupwallet", [`${sibling}/w.bak`], "w");
    assert(backup.error?.message.endsWith(`; back up under '${view}/w'.`), JSON.stringify(backup));
    assertEquals([...Deno.readDirSync(sibling)], []);
    node.interrupt();
    assertEquals(await node.exited, 0, node.output);
  }
  {
    // Restarted: w from -wallet and x from settings.json are loaded from the directory again.
    await using node = new Task(args);
    await node.match(/^node: running/m);
    const { call, healed } = rpcOf(node);
    await waitFor(
      async () => JSON.stringify((await healed("listwallets") as string[]).sort()) === '["w","x"]',
      120_000,
      `w and x loaded at start\n${node.output}`,
    );
    assertEquals((await call("unloadwallet", ["x"])).error, null);
    assertEquals((await call("loadwallet", ["x"])).result, { name: "x" });
    // A wallet process attached by hand (spawn-wallet) keeps its wallets in its own -walletdir.
    const attached = await task([
      "spawn-wallet",
      "--once",
      `--state=${state}`,
      "-ipcconnect=unix",
      "-wallet=a",
      `-walletdir=${apart}`,
    ]);
    assertEquals(attached.code, 0, attached.out);
    assert(attached.out.includes("wallet: wallet-a attached to "), attached.out);
    assertEquals(Deno.statSync(`${apart}/a/wallet.dat`).isFile, true);
    node.interrupt();
    assertEquals(await node.exited, 0, node.output);
  }
  if (bwrapPath() !== null) {
    // Under bubblewrap the directory is bound at its real path, the view a link to it.
    const hardened = await task(
      spawnNode(state, port, "--once", "--hardened", "-wallet=h", `-walletdir=${walletDir}`),
    );
    assertEquals(hardened.code, 0, hardened.out);
    assertEquals(Deno.statSync(`${walletDir}/h/wallet.dat`).isFile, true);
  }
  // The node running its wallets (-monolithic) is given the directory through its own view.
  const monolithic = await task(
    spawnNode(state, port, "--once", "-monolithic", "-wallet=m", `-walletdir=${apart}`),
  );
  assertEquals(monolithic.code, 0, monolithic.out);
  assert(monolithic.out.includes(`wallet: m loaded (in the node's process, ${apart})`));
  assertEquals(Deno.statSync(`${apart}/m/wallet.dat`).isFile, true);
  assertEquals(Deno.realPathSync(`${state}/view/node.walletdir`), apart);
  // A bad -walletdir: Core's text, one line, nothing started and nothing of the wallets touched.
  const file = `${dirs.path}/file`;
  Deno.writeTextFileSync(file, "");
  const cases: [string[], string][] = [
    [
      ["spawn-node", `-walletdir=${dirs.path}/missing`],
      `Error: Specified -walletdir "${dirs.path}/missing" does not exist\n`,
    ],
    [
      ["spawn-node", `-walletdir=${file}`],
      `Error: Specified -walletdir "${file}" is not a directory\n`,
    ],
    [
      ["spawn-wallet", "-ipcconnect=unix", "-walletdir=wallets"],
      `launch: Specified -walletdir "wallets" is a relative path\n`,
    ],
  ];
  for (const [[command, ...options], message] of cases) {
    const result = await task([command, "--once", `--state=${state}`, "-wallet=w", ...options]);
    assertEquals([result.code, result.out], [1, message]);
  }
  if (Deno.uid() === 0) {
    // One the wallet process's user cannot reach: its start is refused in one line, saying why.
    const closed = `${dirs.path}/closed`;
    Deno.mkdirSync(`${closed}/wallets`, { recursive: true, mode: 0o700 });
    Deno.chmodSync(closed, 0o700);
    const result = await task(
      spawnNode(state, port, "--once", "-wallet=w", `-walletdir=${closed}/wallets`),
    );
    assertEquals(result.code, 1, result.out);
    assert(
      result.out.endsWith(
        `launch: wallet: ${closed}/wallets: it runs as its own user, which cannot pass ${closed}; ` +
          "make that searchable (chmod o+x) or choose another directory\n",
      ),
      result.out,
    );
    assertEquals([...Deno.readDirSync(`${closed}/wallets`)], []);
  }
  assertEquals([...Deno.readDirSync(walletDir)].map((entry) => entry.name).sort(), ["h", "w", "x"]);
});

Deno.test({
  name:
    "tasks: under root, start in a clone the components' users cannot reach keeps its state in /var/lib/capdeno",
  ignore: Deno.uid() !== 0,
}, async () => {
  const closed = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "capdeno-closed-" })); // 0700
  const clone = `${closed}/capdeno`;
  cloneProject(clone);
  const port = freePort();
  const result = await task(
    ["start", "--once", `-rpcport=${port}`, `-guiport=${freePort()}`],
    clone,
  );
  const state = /^state: (\/var\/lib\/capdeno\/capdeno-[0-9a-f]{12}) \(/m.exec(result.out)?.[1];
  try {
    assertEquals(result.code, 0, result.out);
    assert(state !== undefined, result.out);
    assert(
      result.out.includes(`the components run as their own users and cannot pass ${closed}; `),
      result.out,
    );
    assertOnceOutput(result.out, state, port);
  } finally {
    if (state !== undefined) Deno.removeSync(state, { recursive: true });
    Deno.removeSync(closed, { recursive: true });
    try {
      Deno.removeSync("/var/lib/capdeno"); // when this test made it, and it holds nothing else
    } catch { /* other state directories live there */ }
  }
});

Deno.test("tasks: options the sandbox sets, files outside its grants and bad options are refused in one line; nothing starts", async () => {
  using temp = stateDir();
  const state = temp.path;
  const cases: [string[], string][] = [
    [
      ["-datadir=/tmp"],
      `launch: -datadir=/tmp: the sandbox sets -datadir itself (the node's data directory is ${state}/data/node)\n`,
    ],
    [
      ["-ipcbind=unix"],
      `launch: -ipcbind=unix: the sandbox sets -ipcbind itself (the node's data directory is ${state}/data/node)\n`,
    ],
    [
      ["-pid=/tmp/node.pid"],
      `launch: /tmp/node.pid: the sandbox grants the node ${state}/data/node/regtest only; leave the file there\n`,
    ],
    [["-foo"], "Error: Error parsing command line arguments: Invalid parameter -foo\n"],
    // A wallet to load at start under a bad wallet option: Core's LoadWallets stops the start.
    [
      ["-wallet=w", "-fallbackfee=abc"],
      "Error: Invalid amount for -fallbackfee=<amount>: 'abc'\n",
    ],
    [
      ["--grant", "node:read=/etc"],
      `launch: --grant "node:read=/etc": read: must be a relative path inside the component's data directory (no '..' or ',')\n`,
    ],
  ];
  for (const [args, message] of cases) {
    const result = await task(["spawn-node", "--once", `--state=${state}`, ...args]);
    assertEquals([result.code, result.out], [1, message]);
  }
  assertEquals(
    [...Deno.readDirSync(`${state}`)].map((e) => e.name).filter((n) => n !== "data"),
    [],
  );
});

Deno.test("tasks: spawn-wallet without -ipcconnect says in one line what it needs", async () => {
  using temp = stateDir();
  const state = temp.path;
  const wallet = await task(["spawn-wallet", `--state=${state}`, "-wallet=w"]);
  assertEquals(wallet.code, 1);
  assertEquals(
    wallet.out,
    "launch: spawn-wallet needs -ipcconnect=unix (the node of the state directory) or " +
      "-ipcconnect=unix:<path of the node's socket>\n",
  );
});

Deno.test("tasks: deno task demo spawns Foo through the contract and calls it", async () => {
  const result = await task(["demo"]);
  assertEquals(result.code, 0, result.out);
  for (
    const line of [
      /^spawned: prlimit .* --deny-run file:\/\/\S+\.js -datadir=\S+ -lifeline$/m,
      /^child \d+ answered add\(2, 3\) = 5/m,
      /^callback calling back into the child: 42$/m,
      /^error from the child: raised in the child$/m,
      /^child exited: exited cleanly$/m,
    ]
  ) assert(line.test(result.out), `${line} in:\n${result.out}`);
});

Deno.test("tasks: spawn-node without -wallet starts the wallet process when createwallet asks, as bitcoin-node spawns bitcoin-wallet, and at start once it has run; -disablewallet ignores -wallet", async () => {
  using temp = stateDir();
  const state = temp.path;
  const port = freePort();
  const rpcOf = (node: Task) =>
    nodeRpc(port, `${state}/data/node/regtest/.cookie`, () => node.output);
  {
    await using node = new Task(["spawn-node", `--state=${state}`, `-rpcport=${port}`]);
    await node.match(/^node: running/m);
    assert(!node.output.includes("[supervisor] wallet: started"), node.output);
    const { call } = rpcOf(node);
    // Two at once: one wallet process is started for both; "a" is to load at start.
    const [a, b] = await Promise.all([
      call("createwallet", ["a", false, false, null, false, true, true]),
      call("createwallet", ["b"]),
    ]);
    assertEquals([a.result, b.result], [{ name: "a" }, { name: "b" }], node.output);
    assertEquals(node.output.split("[supervisor] wallet: started").length, 2, node.output);
    assert((await call("getnewaddress", [], "a")).result!.toString().startsWith("bcrt1q"));
    node.interrupt();
    assertEquals(await node.exited, 0, node.output);
  }
  {
    // The wallet process has run before: it starts with the node and loads "a" again.
    await using node = new Task(["spawn-node", `--state=${state}`, `-rpcport=${port}`]);
    await node.match(/^node: running/m);
    assert(node.output.includes("[supervisor] wallet: started"), node.output);
    const { healed } = rpcOf(node);
    await waitFor(
      async () => JSON.stringify(await healed("listwallets")) === '["a"]',
      120_000,
      `wallet "a" loaded at start\n${node.output}`,
    );
    node.interrupt();
    assertEquals(await node.exited, 0, node.output);
  }
  await using node = new Task([
    "spawn-node",
    `--state=${state}`,
    `-rpcport=${port}`,
    "-disablewallet",
    "-wallet=w",
    "-printtoconsole",
  ]);
  await node.match(/^node: running/m);
  assert(
    node.output.includes(
      "ParameterInteraction: parameter interaction: -disablewallet -> ignoring -wallet=w",
    ),
    node.output,
  );
  assertEquals((await rpcOf(node).call("createwallet", ["c"])).error, {
    code: -32601,
    message: "Method not found",
  });
  assert(!node.output.includes("[supervisor] wallet: started"), node.output);
  node.interrupt();
  assertEquals(await node.exited, 0, node.output);
});

Deno.test("tasks: gui -ipcconnect=unix attaches the gui to a node started elsewhere (through a relay the sandbox owns); stopping the gui leaves the node running", async () => {
  using stateTemp = stateDir();
  using datadirTemp = stateDir();
  const [state, datadir] = [stateTemp.path, datadirTemp.path];
  const port = freePort();
  const guiPort = freePort();
  await using node = new Task([
    "node",
    "-regtest",
    `-datadir=${datadir}`,
    `-rpcport=${port}`,
    "-ipcbind=unix",
    "-printtoconsole",
  ]);
  await node.match(/Listening for IPC requests on address unix:/);
  const { call, healed } = nodeRpc(port, `${datadir}/regtest/.cookie`, () => node.output);
  await healed("generatetoaddress", [3, ADDRESS]);
  {
    await using gui = new Task([
      "gui",
      `--state=${state}`,
      "-ipcconnect=unix",
      `-datadir=${datadir}`,
      `-guiport=${guiPort}`,
    ]);
    const url = (await gui.match(/^gui: (http:\/\/\S+)$/m))[1];
    assert(gui.output.includes(`gui: attached to the node at unix:${datadir}/regtest/node.sock`));
    // The page's session, then a call through the gui to the node.
    const session = await fetch(url, { redirect: "manual" });
    await session.body?.cancel();
    const origin = new URL(url).origin;
    const reply = await fetch(`${origin}/api/rpc`, {
      method: "POST",
      headers: {
        origin,
        cookie: session.headers.get("set-cookie")!.split(";")[0],
        "content-type": "application/json",
      },
      body: JSON.stringify({ method: "getblockcount", params: [] }),
    });
    assertEquals((await reply.json()).result, 3, gui.output);
    gui.interrupt();
    assertEquals(await gui.exited, 0, gui.output);
  }
  // The node was not the gui's to stop.
  assertEquals((await call("getblockcount")).result, 3, node.output);
  node.interrupt();
  await node.exited;
});
