/**
 * The client against the node's real JSON-RPC server (`RpcServer`, started
 * here with a few methods, cookie authentication on): calls and their
 * output, an RPC error's exit status, a wrong password, no cookie (nothing
 * sent), `-rpcwait` until the server appears and while it warms up,
 * `-rpcwaittimeout`, `-generate`, `-getinfo`, and the launcher as
 * `deno task cli` runs it.
 */
import { assert, assertEquals } from "../../assert.ts";
import { Amount, asInt, asStr } from "../../../components/rpc/json.ts";
import { defineMethod, type RpcMethod } from "../../../components/rpc/methods.ts";
import { RpcServer } from "../../../components/rpc/server.ts";
import { GENESIS, stubMethods } from "../rpc/stub_methods.ts";
import { startServer } from "../rpc/raw_http.ts";
import {
  FakeServer,
  freePort,
  regtest,
  runCli,
  runLauncher,
  spawnCli,
  TempDatadir,
  unreachable,
} from "./cli_fixture.ts";

const decoder = new TextDecoder();

Deno.test("cli: calls the real server and prints its answers", async () => {
  await using s = await startServer();
  const cli = (...argv: string[]) => runCli(regtest(s.datadir, s.port, ...argv));
  assertEquals(await cli("getblockcount"), { code: 0, stdout: "1\n", stderr: "" });
  assertEquals(await cli("getblock", GENESIS, "1"), {
    code: 0,
    stdout: `{\n  "hash": "${GENESIS}",\n  "height": 0\n}\n`,
    stderr: "",
  });
  assertEquals(
    (await cli("-named", "getblock", `blockhash=${GENESIS}`, "verbosity=0")).stdout,
    "00\n",
  );
  assertEquals((await cli("echo", "1", "true")).stdout, '[\n  "1",\n  "true"\n]\n');
  assertEquals((await cli("-rpcwallet=my wallet", "walletname")).stdout, "my wallet\n");
  assertEquals(await cli("nosuch"), {
    code: 89,
    stdout: "",
    stderr: "error code: -32601\nerror message:\nMethod not found\n",
  });
  assertEquals(await cli("getblockhash", "99"), {
    code: 8,
    stdout: "",
    stderr: "error code: -8\nerror message:\nBlock height out of range\n",
  });
  // A non-JSON word where the table wants JSON never reaches the server.
  assertEquals(await cli("getblockhash", "one"), {
    code: 1,
    stdout: "",
    stderr: "error: Error parsing JSON: one\n",
  });
  // Help text is a string result: printed raw.
  const help = await cli("help", "getblockcount");
  assert(
    help.stdout.startsWith("getblockcount\n\nReturns the height of the most-work"),
    help.stdout,
  );
  assertEquals(
    (await cli("-rpcpassword=wrong", "getblockcount")).stderr,
    "error: Authorization failed: Incorrect rpcuser or rpcpassword\n",
  );
});

Deno.test("cli: without a cookie or password nothing is sent (reference §1)", async () => {
  await using datadir = await TempDatadir.empty();
  await using server = new FakeServer(() => null);
  const run = await runCli(regtest(datadir.path, server.port, "x"));
  assertEquals(run, {
    code: 1,
    stdout: "",
    stderr: "error: Could not locate RPC credentials. No authentication cookie could be found, " +
      "and RPC password is not set.  See -rpcpassword and -stdinrpcpass.  Configuration file: " +
      `(${datadir.path}/bitcoin.conf)\n`,
  });
  assertEquals(await server.connectionsBefore(), 0);
});

Deno.test("cli: -rpcwait retries until the server appears, then succeeds", async () => {
  await using datadir = await TempDatadir.empty();
  const port = freePort();
  const output = spawnCli(regtest(datadir.path, port, "-rpcwait", "getblockcount")).output();
  {
    // First something that closes without answering: the client is retrying once it got here.
    await using early = new FakeServer(() => null, port);
    await early.handled(1);
    // No cookie yet: -rpcwait sends an empty Basic authorization (reference §1).
    assert(early.requests[0].raw.includes("\r\nAuthorization: Basic \r\n"), early.requests[0].raw);
  }
  await using server = new RpcServer({ datadir: datadir.path, port, methods: stubMethods() });
  await server.start();
  const done = await output;
  assertEquals(
    [done.code, decoder.decode(done.stdout), decoder.decode(done.stderr)],
    [0, "1\n", ""],
  );
});

Deno.test("cli: -rpcwait waits out the server's warm-up (-28)", async () => {
  await using datadir = await TempDatadir.empty();
  // Calls the server has taken, and a wake-up for each.
  let calls = 0;
  let called = () => {};
  const callNumber = async (n: number) => {
    while (calls < n) await new Promise<void>((resolve) => (called = resolve));
  };
  await using server = new RpcServer({
    datadir: datadir.path,
    port: 0,
    methods: stubMethods(),
    warmup: "Loading block index…",
    debug: () => {
      calls++;
      called();
    },
  });
  await server.start();
  // Without -rpcwait the warm-up error is the answer.
  assertEquals(await runCli(regtest(datadir.path, server.port, "getblockcount")), {
    code: 28,
    stdout: "",
    stderr: "error code: -28\nerror message:\nLoading block index…\n",
  });
  const waiting = spawnCli(regtest(datadir.path, server.port, "-rpcwait", "getblockcount"))
    .output();
  // The waiting client's first call was answered -28; then the warm-up ends.
  await callNumber(2);
  server.finishWarmup();
  const done = await waiting;
  assertEquals([done.code, decoder.decode(done.stdout)], [0, "1\n"]);
});

Deno.test("cli: -rpcwaittimeout gives up with Core's message", async () => {
  await using datadir = await TempDatadir.withCookie();
  await using server = new FakeServer(() => null);
  const run = await runCli(
    regtest(datadir.path, server.port, "-rpcwait", "-rpcwaittimeout=1", "getblockcount"),
  );
  assertEquals(run, unreachable(server.port, ' (error code 1 - "EOF reached")'));
  assert(server.requests.length >= 1);
});

/** Methods a wallet node would have, answering fixed values, recording generatetoaddress's params. */
function walletMethods(calls: string[][]): RpcMethod[] {
  return [
    defineMethod({
      name: "getnewaddress",
      category: "wallet",
      description: "A fixed address.",
      result: { type: "any" },
      handler: (_params, ctx) => `bcrt1q${ctx.walletName ?? "default"}`,
    }),
    defineMethod({
      name: "generatetoaddress",
      category: "generating",
      description: "Fake blocks.",
      args: [
        { name: "nblocks", type: "num", description: "" },
        { name: "address", type: "str", description: "" },
        { name: "maxtries", type: "num", default: 1000000, description: "" },
      ],
      result: { type: "any" },
      handler(params) {
        const n = params.arg("nblocks", asInt);
        const address = params.arg("address", asStr);
        const maxtries = params.arg("maxtries", asInt);
        calls.push([String(n), address, String(maxtries)]);
        return Array.from({ length: n }, (_, i) => String(i).repeat(64).slice(0, 64));
      },
    }),
  ];
}

Deno.test("cli: -generate asks the wallet for an address, then generates to it", async () => {
  const calls: string[][] = [];
  await using s = await startServer({ methods: [...stubMethods(), ...walletMethods(calls)] });
  const cli = (...argv: string[]) => runCli(regtest(s.datadir, s.port, ...argv));
  assertEquals(await cli("-generate"), {
    code: 0,
    stdout: `{\n  "address": "bcrt1qdefault",\n  "blocks": [\n    "${"0".repeat(64)}"\n  ]\n}\n`,
    stderr: "",
  });
  assertEquals(
    (await cli("-rpcwallet=w", "-generate", "2", "50")).stdout,
    `{\n  "address": "bcrt1qw",\n  "blocks": [\n    "${"0".repeat(64)}",\n    "${
      "1".repeat(64)
    }"\n  ]\n}\n`,
  );
  assertEquals(calls, [["1", "bcrt1qdefault", "1000000"], ["2", "bcrt1qw", "50"]]);
  assertEquals(await cli("-generate", "0"), {
    code: 1,
    stdout: "",
    stderr: "error: the first argument (number of blocks to generate, default: 1) must be an " +
      "integer value greater than zero\n",
  });
  assertEquals(
    (await cli("-generate", "1", "2", "3")).stderr,
    "error: too many arguments (maximum 2 for nblocks and maxtries)\n",
  );
  assertEquals(
    (await cli("-generate", "-getinfo")).stderr,
    "error: Only one of -generate, -getinfo may be specified.\n",
  );
});

/** `getnetworkinfo` … `listwallets` with v30's shapes (the fields -getinfo reads). */
function infoMethods(wallets: string[]): RpcMethod[] {
  const fixed = (name: string, value: () => unknown) =>
    defineMethod({
      name,
      category: "test",
      description: "Fixed.",
      result: { type: "any" },
      handler: (_params, ctx) =>
        (name === "getbalances"
          ? { mine: { trusted: new Amount(ctx.walletName === "b" ? 200_000_000 : 100_000_000) } }
          : value()) as never,
    });
  return [
    fixed("getnetworkinfo", () => ({
      version: 300000,
      timeoffset: 0,
      connections: 0,
      connections_in: 0,
      connections_out: 0,
      networks: [{ name: "ipv4", proxy: "" }, { name: "onion", proxy: "127.0.0.1:9050" }],
      relayfee: new Amount(1000),
      warnings: [],
    })),
    fixed("getblockchaininfo", () => ({
      chain: "regtest",
      blocks: 101,
      headers: 101,
      difficulty: 4.656542373906925e-10,
      verificationprogress: 1,
    })),
    fixed("getwalletinfo", () => ({ walletname: "", keypoolsize: 4000, paytxfee: new Amount(0) })),
    fixed("getbalances", () => null),
    fixed("listwallets", () => wallets),
  ];
}

Deno.test("cli: -getinfo folds four calls into Core's report", async () => {
  await using s = await startServer({ methods: infoMethods(["a", "b"]) });
  const run = await runCli(regtest(s.datadir, s.port, "-getinfo"));
  assertEquals(run.stderr, "");
  assertEquals(
    run.stdout,
    "Chain: regtest\nBlocks: 101\nHeaders: 101\nVerification progress: 100.0000%\n" +
      "Difficulty: 4.656542373906925e-10\n\n" +
      "Network: in 0, out 0, total 0\nVersion: 300000\nTime offset (s): 0\n" +
      "Proxies: 127.0.0.1:9050 (onion)\nMin tx relay fee rate (BTC/kvB): 0.00001000\n\n" +
      'Wallet: ""\nKeypool size: 4000\nTransaction fee rate (-paytxfee) (BTC/kvB): 0.00000000\n\n' +
      "Balance: 1.00000000\n\n" +
      "Balances\n1.00000000 a\n2.00000000 b\n\n" +
      "Warnings: (none)\n",
  );
  const colored = await runCli(
    regtest(s.datadir, s.port, "-rpcwallet=a", "-color=always", "-getinfo"),
  );
  assert(colored.stdout.startsWith("\x1B[34mChain: regtest\x1B[0m\n"), colored.stdout);
  assert(!colored.stdout.includes("Balances"), "no per-wallet balances with -rpcwallet");
  assertEquals(
    (await runCli(regtest(s.datadir, s.port, "-color=x", "-getinfo")))
      .stderr,
    "error: Invalid value for -color option. Valid values: always, auto, never.\n",
  );
});

Deno.test("cli: the launcher (deno task cli) runs it with its own flags, from the caller's directory", async () => {
  await using s = await startServer();
  const cwd = await Deno.makeTempDir({ prefix: "cli_cwd_" });
  try {
    // A relative -datadir means the caller's directory, as for bitcoin-cli.
    await Deno.symlink(s.datadir, `${cwd}/data`);
    assertEquals(
      await runLauncher(["-regtest", "-datadir=data", `-rpcport=${s.port}`, "getblockcount"], {
        cwd,
      }),
      { code: 0, stdout: "1\n", stderr: "" },
    );
    assertEquals(await runLauncher(["-foo"], { cwd }), {
      code: 1,
      stdout: "",
      stderr: "Error parsing command line arguments: Invalid parameter -foo\n",
    });
    const usage = await runLauncher([], { cwd });
    assertEquals([usage.code, usage.stderr], [1, "Error: too few parameters\n"]);
    assert(usage.stdout.includes("Usage: deno task cli [options] <command> [params]"));
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
