/**
 * What the client prints and returns for each kind of reply (reference §1,
 * Core's `ParseResult`, `ParseError` and `CallRPC`), against a raw TCP
 * server answering with exact bytes: results (strings unquoted, number
 * text verbatim, JSON indented by 2, nothing for null), error objects in
 * 200/400/404/500 replies (exit |code| mod 256), 401, 503, other statuses,
 * empty and unparsable bodies, a server that closes without answering, and
 * no server at all.
 */
import { assertEquals } from "../../assert.ts";
import {
  type CliRun,
  FakeServer,
  freePort,
  jsonReply,
  regtest,
  runCli,
  TempDatadir,
  unreachable,
} from "./cli_fixture.ts";

/** Runs `argv` against a server answering every request with `reply`; returns the run and the port. */
async function againstPort(reply: string | null, argv: string[]): Promise<[CliRun, number]> {
  await using datadir = await TempDatadir.withCookie();
  await using server = new FakeServer(() => reply);
  const run = await runCli([
    "-regtest",
    `-datadir=${datadir.path}`,
    `-rpcport=${server.port}`,
    ...argv,
  ]);
  return [run, server.port];
}

/** Runs `argv` against a server answering every request with `reply`. */
async function against(reply: string | null, ...argv: string[]): Promise<CliRun> {
  return (await againstPort(reply, argv))[0];
}

const ok = (stdout: string): CliRun => ({ code: 0, stdout, stderr: "" });
const failed = (code: number, stderr: string): CliRun => ({ code, stdout: "", stderr });

Deno.test("cli: results are printed as bitcoin-cli prints them", async () => {
  // No id, no jsonrpc: accepted; number text verbatim.
  assertEquals(await against(jsonReply('{"result":1.50}'), "getbalance"), ok("1.50\n"));
  assertEquals(await against(jsonReply('{"result":5}'), "getblockcount"), ok("5\n"));
  assertEquals(
    await against(jsonReply('{"result":"a \\"b\\"\\nc","id":9}'), "x"),
    ok('a "b"\nc\n'),
  );
  assertEquals(await against(jsonReply('{"result":null,"error":null,"id":1}'), "x"), ok(""));
  assertEquals(await against(jsonReply('{"result":true}'), "x"), ok("true\n"));
  assertEquals(
    await against(jsonReply('{"result":{"a":[1,{"b":0.00000000}],"e":[],"o":{},"s":"ü/"}}'), "x"),
    ok(
      '{\n  "a": [\n    1,\n    {\n      "b": 0.00000000\n    }\n  ],\n  "e": [\n  ],\n' +
        '  "o": {\n  },\n  "s": "ü/"\n}\n',
    ),
  );
  // A chunked reply and a reply closed instead of sized are read to their end.
  const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
    '5\r\n{"res\r\n8\r\nult":42}\r\n0\r\n\r\n';
  assertEquals(await against(chunked, "x"), ok("42\n"));
  assertEquals(
    await against('HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"result":3}\n', "x"),
    ok("3\n"),
  );
});

Deno.test("cli: an error object prints code and message; the status is |code| mod 256", async () => {
  const error = '{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1}\n';
  const expected = failed(89, "error code: -32601\nerror message:\nMethod not found\n");
  for (
    const [status, reason] of [[200, "OK"], [400, "Bad Request"], [404, "Not Found"], [
      500,
      "Internal Server Error",
    ]] as const
  ) {
    assertEquals(await against(jsonReply(error, status, reason), "nosuch"), expected);
  }
  assertEquals(
    await against(jsonReply('{"error":{"code":-8,"message":"Block height out of range"}}'), "x"),
    failed(8, "error code: -8\nerror message:\nBlock height out of range\n"),
  );
  // -19 gets bitcoin-cli's own hint.
  assertEquals(
    (await against(jsonReply('{"error":{"code":-19,"message":"Wallet file not specified."}}'), "x"))
      .stderr,
    "error code: -19\nerror message:\nWallet file not specified. Or for the CLI, specify the " +
      '"-rpcwallet=<walletname>" option before the command (run "bitcoin-cli -h" for help or ' +
      '"bitcoin-cli listwallets" to see which wallets are currently loaded).\n',
  );
  // An error that is no object, or has no code, ends as the missing code's type error.
  assertEquals(
    await against(jsonReply('{"error":"boom"}'), "x"),
    failed(1, "error: JSON value of type null is not of expected type number\n"),
  );
  assertEquals(
    await against(jsonReply('{"error":{"message":"m"}}'), "x"),
    failed(1, "error: JSON value of type null is not of expected type number\n"),
  );
});

Deno.test("cli: HTTP failures in Core's words", async () => {
  const cases: [reply: string, stderr: string][] = [
    [
      "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
      "Authorization failed: Incorrect rpcuser or rpcpassword",
    ],
    [jsonReply(""), "no response from server"],
    [
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 25\r\n\r\nWork queue depth exceeded",
      "Server response: Work queue depth exceeded",
    ],
    ["HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", "server returned HTTP error 403"],
    [jsonReply("<html>"), "couldn't parse reply from server"],
    [jsonReply("[1]"), "JSON value of type array is not of expected type object"],
    [jsonReply("{}"), "expected reply to have result, error and id properties"],
  ];
  for (const [reply, stderr] of cases) {
    assertEquals(await against(reply, "x"), failed(1, `error: ${stderr}\n`));
  }
});

Deno.test("cli: no reply at all is a transient error, reported once without -rpcwait", async () => {
  // The server reads the request and closes: libevent's "EOF reached".
  const [closed, closedPort] = await againstPort(null, ["x"]);
  assertEquals(closed, unreachable(closedPort, ' (error code 1 - "EOF reached")'));
  // A reply that is not HTTP.
  const [garbage, garbagePort] = await againstPort("SSH-2.0-OpenSSH\r\n", ["x"]);
  assertEquals(
    garbage,
    unreachable(garbagePort, ' (error code 2 - "error while reading header, or invalid header")'),
  );
  // Nobody listening: refused, no error code.
  await using datadir = await TempDatadir.withCookie();
  const port = freePort();
  assertEquals(
    await runCli(regtest(datadir.path, port, "x")),
    unreachable(port),
  );
});

Deno.test("cli: -rpcclienttimeout gives up on a server that never answers", async () => {
  await using datadir = await TempDatadir.withCookie();
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  const run = runCli(regtest(datadir.path, port, "-rpcclienttimeout=1", "getblockcount"));
  // Accepted, never read from, never answered: only the client's timeout ends the call. A cli
  // that ends without connecting fails the test, rather than leaving it waiting.
  using _silent = await Promise.race([
    listener.accept(),
    run.then((outcome) => {
      throw new Error(`the cli ended without connecting: ${JSON.stringify(outcome)}`);
    }),
  ]);
  assertEquals(await run, unreachable(port, ' (error code 0 - "timeout reached")'));
});

Deno.test("cli: a large reply is read whole (a verbose block's size and more)", async () => {
  const big = "ab".repeat(8 * 1024 * 1024);
  const run = await against(jsonReply(`{"result":"${big}","error":null,"id":1}\n`), "getblock");
  assertEquals([run.code, run.stderr, run.stdout.length], [0, "", big.length + 1]);
  assertEquals(run.stdout, `${big}\n`);
});
