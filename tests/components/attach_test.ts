/**
 * Wallet processes attached to a running sandboxed node with
 * `deno task spawn-wallet -ipcconnect=unix`: two at once, one detached
 * (Ctrl-C) while the node runs (its wallet's name then answers Core's -18)
 * and attached again; the node's IPC cookie (0600, removed when the node
 * stops cleanly) and a connection presenting no cookie refused. Then the
 * sandbox's stakes, through the real processes: the wallet's grants hold
 * no network address (a probe run with exactly its flags is refused a TCP
 * connection), the node's user cannot read the wallet's directory, and the
 * `-debug=ipc` traces of a full send hold neither the wallet's mnemonic
 * nor a private key. And a wallet's own JSON-RPC port (`-rpcport`), used
 * with bitcoin-cli and its own cookie. Under a `-blocksonly` node an
 * attached wallet does not broadcast unless told to (`-walletbroadcast`).
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { freePort } from "./node/node_process.ts";
import { rpcResults, stoppedNodeFiles, Task } from "./task_fixture.ts";
import { DatabaseSync } from "node:sqlite";
import { hex } from "@scure/base";
import { TEST_NETWORK, WIF } from "@scure/btc-signer";
import { Keyring } from "../../components/wallet/keys.ts";
import { runCli } from "./cli/cli_fixture.ts";
import { commandLines, tempDir } from "../helpers.ts";

async function started(args: string[], ready: RegExp): Promise<Task> {
  const running = new Task(args);
  await running.match(ready);
  return running;
}

/** `deno task spawn-wallet -ipcconnect=unix` with `args`, once it runs. */
function attachWallet(state: string, args: string[]): Promise<Task> {
  return started(
    ["spawn-wallet", `--state=${state}`, "-ipcconnect=unix", ...args],
    /^wallet: running/m,
  );
}

async function detach(task: Task): Promise<void> {
  task.interrupt();
  assertEquals(await task.exited, 0, task.output);
}

/** The argv of the component process `name` below `pid` (its `--location` names it). */
function componentArgv(name: string): string[] {
  const found = commandLines().find(({ argv }) =>
    argv[1] === "run" && argv.includes(`--location=http://${name}.component.invalid/`)
  );
  if (found === undefined) throw new Error(`no ${name} process`);
  return found.argv;
}

Deno.test("attach: two wallet processes at once, detach (-18) and re-attach while the node runs; the node's stop ends the attached wallet cleanly; the IPC cookie", async () => {
  using temp = tempDir("attach-");
  const state = Deno.realPathSync(temp.path);
  Deno.chmodSync(state, 0o755);
  const port = freePort();
  const rpc = rpcResults(state, port);
  const cookie = `${state}/data/node/regtest/node.cookie`;
  const node = await started(
    ["spawn-node", `--state=${state}`, `-rpcport=${port}`, "-debug=ipc"],
    /^node: running/m,
  );
  try {
    assertEquals(Deno.statSync(cookie).mode! & 0o777, 0o600);
    const attach = (name: string) => attachWallet(state, [`-wallet=${name}`]);
    const a = await attach("a");
    let b = await attach("b");
    assertEquals(await rpc("listwallets"), ["a", "b"]);
    assert(b.output.includes(`(data directory ${state}/data/wallet-b)`), b.output);
    const address = await rpc("getnewaddress", [], "b");
    await rpc("generatetoaddress", [101, address]);
    assertEquals(await rpc("getbalance", [], "b"), 50);

    await detach(b);
    assertEquals(await rpc("listwallets"), ["a"]);
    const gone = await rpc("getbalance", [], "b").catch((error) => error);
    assertEquals([gone.code, gone.message], [
      -18,
      "-18: Requested wallet does not exist or is not loaded",
    ]);
    assertEquals(await rpc("getbalance", [], "a"), 0); // the other one is untouched

    b = await attach("b");
    assertEquals(await rpc("listwallets"), ["a", "b"]);
    assertEquals(await rpc("getbalance", [], "b"), 50); // its state was kept

    // A connection presenting no cookie is not served: the node's log says it refused it.
    const conn = await Deno.connect({ transport: "unix", path: `${state}/sockets/node/node.sock` });
    await conn.write(new Uint8Array(32));
    const refused = await conn.read(new Uint8Array(8));
    conn.close();
    assertEquals(refused, null);

    await detach(b);
    // The node's `stop` tells the wallet still attached, which then ends cleanly, not as a failure.
    assertEquals(await rpc("stop"), "Bitcoin Core stopping");
    assertEquals(await a.exited, 0, a.output);
    assertMatch(a.output, /^\[wallet-a\] wallet: the node stopped; exiting$/m);
    assertMatch(a.output, /^\[supervisor\] wallet-a: exited cleanly$/m);
    assertEquals(await node.exited, 0, node.output);
  } finally {
    await node[Symbol.asyncDispose]();
  }
  const { names } = await stoppedNodeFiles(state);
  assert(!names.includes("node.cookie"), `the cookie is removed on a clean stop: ${names}`);
  const spawnWithoutNode = new Task([
    "spawn-wallet",
    `--state=${state}`,
    "-ipcconnect=unix",
    "-wallet=c",
  ]);
  assertEquals(await spawnWithoutNode.exited, 1);
  assertMatch(
    spawnWithoutNode.output,
    /^launch: no IPC cookie at .*node\.cookie: is the node running/m,
  );
});

Deno.test("attach: under a -blocksonly node, an attached wallet does not broadcast (Core's parameter interaction, read with Chain.getSetting) unless given -walletbroadcast", async () => {
  using temp = tempDir("blocksonly-");
  const state = Deno.realPathSync(temp.path);
  Deno.chmodSync(state, 0o755);
  const port = freePort();
  const rpc = rpcResults(state, port);
  const node = await started(
    ["spawn-node", `--state=${state}`, `-rpcport=${port}`, "-blocksonly"],
    /^node: running/m,
  );
  try {
    const fee = "-fallbackfee=0.0002";
    const quiet = await attachWallet(state, ["-wallet=q", fee]);
    const loud = await attachWallet(state, ["-wallet=l", fee, "-walletbroadcast=1"]);
    const interaction =
      "wallet: ParameterInteraction: parameter interaction: -blocksonly=1 -> setting -walletbroadcast=0";
    assertMatch(quiet.output, new RegExp(`^\\[wallet-q\\] ${interaction}$`, "m"));
    assert(!loud.output.includes(interaction), loud.output);
    // Both with a mature coin.
    await rpc("generatetoaddress", [1, await rpc("getnewaddress", [], "l")]);
    await rpc("generatetoaddress", [101, await rpc("getnewaddress", [], "q")]);
    const elsewhere = await rpc("getnewaddress", [], "l");

    const kept = await rpc("sendtoaddress", [elsewhere, 1], "q");
    assertEquals(await rpc("getrawmempool"), []);
    // As Core shows a transaction it never offered: unconfirmed, and not trusted (not in the mempool).
    const unsent = await rpc("gettransaction", [kept], "q");
    assertEquals([unsent.confirmations, unsent.trusted], [0, false]);

    const relayed = await rpc("sendtoaddress", [elsewhere, 1], "l");
    assertEquals(await rpc("getrawmempool"), [relayed]);
    const sent = await rpc("gettransaction", [relayed], "l");
    assertEquals([sent.confirmations, sent.trusted], [0, true]);
    await detach(quiet);
    await detach(loud);
    await detach(node);
  } finally {
    await node[Symbol.asyncDispose]();
  }
});

Deno.test("attach: the wallet's grants hold no network address, the node's user cannot read the wallet's directory, the IPC trace of a send holds no secret", async () => {
  using temp = tempDir("stakes-");
  const state = Deno.realPathSync(temp.path);
  Deno.chmodSync(state, 0o755);
  const port = freePort();
  const rpc = rpcResults(state, port);
  const node = await started(
    [
      "spawn-node",
      `--state=${state}`,
      `-rpcport=${port}`,
      "-debug=ipc",
      "-loglevel=ipc:trace",
      "-fallbackfee=0.0002",
    ],
    /^node: running/m,
  );
  try {
    const wallet = await attachWallet(state, [
      "-wallet=w",
      "-fallbackfee=0.0002",
      "-debug=ipc",
      "-loglevel=ipc:trace",
    ]);
    // The wallet's own flags: net only for the node's socket.
    const argv = componentArgv("wallet-w");
    const net = argv.filter((arg) => arg.startsWith("--allow-net"));
    assertEquals(net, [`--allow-net=unix:${state}/sockets/node.wallet-w/node.sock`]);
    // A probe run with exactly those flags is refused a TCP connection.
    const flags = argv.filter((arg) => /^--(allow|deny)-/.test(arg));
    const probeFile = Deno.makeTempFileSync({ suffix: ".ts" });
    Deno.writeTextFileSync(
      probeFile,
      `try { (await Deno.connect({ hostname: "127.0.0.1", port: ${port} })).close(); ` +
        `console.log("connected"); } catch (e) { console.log(e.name); }`,
    );
    const probe = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...flags, probeFile],
      stdout: "piped",
      stderr: "piped",
    }).output();
    Deno.removeSync(probeFile);
    assertEquals(new TextDecoder().decode(probe.stdout).trim(), "NotCapable");

    const to = await rpc("getnewaddress", [], "w");
    await rpc("generatetoaddress", [101, to]);
    // The trace of 101 blocks' notifications used up the burst of lines a
    // component may print (100 a second after it): once the wallet has seen
    // them, let the rate refill so that the send's trace is printed whole.
    const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    while (await rpc("getbalance", [], "w") === 0) await delay(50);
    await delay(1500);
    const txid = await rpc("sendtoaddress", [to, 1], "w");
    await rpc("generatetoaddress", [1, to]);
    assertEquals((await rpc("gettransaction", [txid], "w")).confirmations, 1);
    // The secret, read from a copy of the wallet's database (its disk is mounted while it runs,
    // and it holds the database exclusively, as Core's wallet does): the file and its journal.
    using copy = tempDir("attach_wallet_copy_");
    for (const file of ["wallet.dat", "wallet.dat-wal"]) {
      Deno.copyFileSync(`${state}/data/wallet-w/wallets/w/${file}`, `${copy.path}/${file}`);
    }
    const db = new DatabaseSync(`${copy.path}/wallet.dat`);
    const row = db.prepare("SELECT value FROM meta WHERE key = 'secret'").get();
    db.close();
    const secret = Keyring.parse(String(row?.value)).hd!;
    const nodeTrace = Deno.readTextFileSync(`${state}/data/node/regtest/debug.log`);
    await detach(wallet);
    const walletTrace = wallet.output;
    // Both sides traced the send's calls (the trace is on, and it carries the transaction).
    for (const trace of [nodeTrace, walletTrace]) {
      assertMatch(trace, /broadcastTransaction/);
    }
    const words = secret.mnemonic.split(" ");
    const keys = ["m/84'/1'/0'", "m/86'/1'/0'"].flatMap((account) =>
      [0, 1].flatMap((change) =>
        [0, 1, 2].map((index) => secret.master.derive(`${account}/${change}/${index}`).privateKey!)
      )
    );
    const secrets = [
      ...words.slice(0, -2).map((_, i) => words.slice(i, i + 3).join(" ")),
      secret.master.privateExtendedKey,
      secret.master.derive("m/84'/1'/0'").privateExtendedKey,
      secret.master.derive("m/86'/1'/0'").privateExtendedKey,
      ...keys.map((key) => hex.encode(key)),
      ...keys.map((key) => WIF(TEST_NETWORK).encode(key)),
    ];
    for (const trace of [nodeTrace, walletTrace]) {
      const found = secrets.filter((text) => trace.includes(text));
      assertEquals(found, [], "no secret in an IPC trace");
    }

    if (Deno.uid() === 0) {
      // The node runs as its own user: that user cannot list the wallet's directory.
      const registry = JSON.parse(Deno.readTextFileSync(`${state}/identities.json`));
      const probeAsNode = await new Deno.Command("setpriv", {
        args: [
          `--reuid=${registry.node}`,
          `--regid=${registry.node}`,
          "--clear-groups",
          "ls",
          `${state}/data/wallet-w/wallets`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(!probeAsNode.success);
      assertMatch(new TextDecoder().decode(probeAsNode.stderr), /Permission denied/);
    }
    // The node's flags grant nothing of the wallet's directory either.
    const nodeArgv = componentArgv("node");
    assert(!nodeArgv.some((arg) => arg.includes("wallet-w/") || arg.endsWith("wallet-w")));

    await detach(node);
  } finally {
    await node[Symbol.asyncDispose]();
  }
});

Deno.test("attach: a wallet's own JSON-RPC port (-rpcport): bitcoin-cli against it with its own cookie, the same answers as through the node, nothing else served, stop ends it cleanly", async () => {
  using temp = tempDir("walletrpc-");
  const state = Deno.realPathSync(temp.path);
  Deno.chmodSync(state, 0o755);
  const port = freePort();
  let walletPort = freePort();
  while (walletPort === port) walletPort = freePort();
  const rpc = rpcResults(state, port);
  const dataDir = `${state}/data/wallet-w`;
  const cli = (...args: string[]) =>
    runCli(["-regtest", `-datadir=${dataDir}`, `-rpcport=${walletPort}`, ...args]);
  const node = await started(
    ["spawn-node", `--state=${state}`, `-rpcport=${port}`, "-fallbackfee=0.0002"],
    /^node: running/m,
  );
  try {
    const wallet = await attachWallet(state, [
      "-wallet=w",
      "-fallbackfee=0.0002",
      `-rpcport=${walletPort}`,
    ]);
    assertMatch(
      wallet.output,
      new RegExp(
        `^try: .* -datadir=${dataDir} -rpcport=${walletPort} -rpcwallet=w getwalletinfo$`,
        "m",
      ),
    );
    // Its network grants are exactly its own port, on loopback.
    const net = componentArgv("wallet-w").filter((arg) => arg.startsWith("--allow-net"));
    assertEquals(net, [
      `--allow-net=127.0.0.1:${walletPort},[::1]:${walletPort},unix:${state}/sockets/node.wallet-w/node.sock`,
    ]);
    assertEquals(Deno.statSync(`${dataDir}/regtest/.cookie`).mode! & 0o777, 0o600);

    const address = (await cli("-rpcwallet=w", "getnewaddress")).stdout.trim();
    assertMatch(address, /^bcrt1q/);
    await rpc("generatetoaddress", [101, address]);
    const balance = await cli("getbalance"); // the only wallet: no -rpcwallet needed
    assertEquals([balance.code, balance.stdout], [0, "50.00000000\n"], balance.stderr);
    const sent = await cli("-named", "sendtoaddress", `address=${address}`, "amount=1.5");
    assertEquals(sent.code, 0, sent.stderr);
    assertEquals(await rpc("getrawmempool"), [sent.stdout.trim()]);
    // The same wallet through the node's routing answers the same.
    const own = JSON.parse((await cli("-rpcwallet=w", "getbalances")).stdout);
    assertEquals(own, await rpc("getbalances", [], "w"));

    // A method that asks every process, routed on its port as on the node's.
    assertEquals(JSON.parse((await cli("listwalletdir")).stdout), { wallets: [{ name: "w" }] });
    const missing = await cli("-rpcwallet=other", "getbalance");
    assertEquals([missing.code, missing.stderr], [
      18,
      "error code: -18\nerror message:\nRequested wallet does not exist or is not loaded\n",
    ]);
    // Its port serves the wallet only, and only to its own credentials.
    const nodeMethod = await cli("getblockcount");
    assertEquals([nodeMethod.code, nodeMethod.stderr], [
      89,
      "error code: -32601\nerror message:\nMethod not found\n",
    ]);
    const nodeCookie = await runCli([
      "-regtest",
      `-datadir=${state}/data/node`,
      `-rpcport=${walletPort}`,
      "getbalance",
    ]);
    assertEquals(nodeCookie.code, 1);
    assertMatch(
      nodeCookie.stderr,
      /^error: Authorization failed: Incorrect rpcuser or rpcpassword/,
    );

    const stop = await cli("stop");
    assertEquals(stop.stdout, "Bitcoin Core stopping\n", stop.stderr);
    assertEquals(await wallet.exited, 0, wallet.output);
    assertMatch(wallet.output, /wallet-w exited cleanly/);
    assertEquals(await rpc("listwallets"), []); // it left the node's routing
    await detach(node);
  } finally {
    await node[Symbol.asyncDispose]();
  }
  // Refused before anything starts: a wallet's RPC is not exposed beyond the machine.
  const exposed = new Task([
    "spawn-wallet",
    `--state=${state}`,
    "-ipcconnect=unix",
    "-wallet=w",
    `-rpcport=${walletPort}`,
    "-rpcbind=0.0.0.0",
  ]);
  assertEquals(await exposed.exited, 1);
  assertMatch(
    exposed.output,
    /^launch: -rpcbind: the wallet's JSON-RPC listens on 127\.0\.0\.1 and ::1 only$/m,
  );
});
