/**
 * What the client sends, byte for byte (reference §1): header order and
 * values, the body's key order and final newline, one connection per call;
 * the arguments converted by Core's table (and kept as strings elsewhere),
 * `-named` with `args`, `/wallet/<percent-encoded>` paths, credentials from
 * the cookie, `-rpcuser`/`-rpcpassword`, `-stdinrpcpass` and the config
 * file's `[regtest]` section, and arguments from `-stdin`.
 */
import { assert, assertEquals } from "../../assert.ts";
import { type CapturedRequest, FakeServer, jsonReply, runCli, TempDatadir } from "./cli_fixture.ts";

const COOKIE = `__cookie__:${"0123456789abcdef".repeat(4)}`;
const HASH = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";

/** The request bitcoin-cli v30.0 sends (reference §1), for a body and path. */
function expected(body: string, path = "/", credentials = COOKIE): string {
  const text = `${body}\n`;
  return `POST ${path} HTTP/1.1\r\n` +
    "Host: 127.0.0.1\r\n" +
    "Connection: close\r\n" +
    "Content-Type: application/json\r\n" +
    `Authorization: Basic ${btoa(credentials)}\r\n` +
    `Content-Length: ${new TextEncoder().encode(text).length}\r\n` +
    "\r\n" +
    text;
}

/** Runs the client against a server answering `{"result":null}`; returns what it received. */
async function capture(
  argv: string[],
  options: { stdin?: string; datadir?: string } = {},
): Promise<{ request: CapturedRequest; stdout: string; code: number }> {
  await using owned = await TempDatadir.withCookie(COOKIE);
  const datadir = options.datadir ?? owned.path;
  await using server = new FakeServer(() => jsonReply('{"result":null,"error":null,"id":1}\n'));
  const run = await runCli(
    ["-regtest", `-datadir=${datadir}`, `-rpcport=${server.port}`, ...argv],
    { stdin: options.stdin },
  );
  assertEquals(run.stderr, "");
  assertEquals(server.requests.length, 1, "one connection, one request");
  return { request: server.requests[0], stdout: run.stdout, code: run.code };
}

Deno.test("cli: getblockcount's request is bitcoin-cli's, byte for byte", async () => {
  const { request, stdout, code } = await capture(["getblockcount"]);
  assertEquals(
    request.raw,
    expected('{"method":"getblockcount","params":[],"id":1,"jsonrpc":"2.0"}'),
  );
  // The §1 capture: 62 bytes of body, the newline counted.
  assert(request.raw.includes("Content-Length: 62\r\n"));
  assertEquals([stdout, code], ["", 0]);
});

Deno.test("cli: arguments are converted by Core's table, and only there", async () => {
  const body = async (...argv: string[]) => (await capture(argv)).request.body;
  assertEquals(
    await body("getblock", HASH, "2"),
    `{"method":"getblock","params":["${HASH}",2],"id":1,"jsonrpc":"2.0"}\n`,
  );
  assertEquals(
    await body("sendtoaddress", "bcrt1qaddress", "1.5"),
    '{"method":"sendtoaddress","params":["bcrt1qaddress",1.5],"id":1,"jsonrpc":"2.0"}\n',
  );
  // echo is not in the table: every argument stays a string.
  assertEquals(
    await body("echo", '{"a":1}', "3", "true"),
    '{"method":"echo","params":["{\\"a\\":1}","3","true"],"id":1,"jsonrpc":"2.0"}\n',
  );
  // Number text goes out exactly as typed; arrays and objects as parsed, compact.
  assertEquals(
    await body("createrawtransaction", '[ {"txid":"aa", "vout":0} ]', '{"bcrt1q":0.10}', "1e0"),
    '{"method":"createrawtransaction","params":[[{"txid":"aa","vout":0}],{"bcrt1q":0.10},1e0],' +
      '"id":1,"jsonrpc":"2.0"}\n',
  );
});

Deno.test("cli: -named puts name=value in an object, positional words under args, last", async () => {
  const body = async (...argv: string[]) => (await capture(["-named", ...argv])).request.body;
  assertEquals(
    await body("getblock", `blockhash=${HASH}`, "verbosity=2"),
    `{"method":"getblock","params":{"blockhash":"${HASH}","verbosity":2},"id":1,"jsonrpc":"2.0"}\n`,
  );
  assertEquals(
    await body("getblock", HASH, "verbosity=2"),
    `{"method":"getblock","params":{"verbosity":2,"args":["${HASH}"]},"id":1,"jsonrpc":"2.0"}\n`,
  );
  // A later value replaces an earlier one in its place; unknown names stay strings.
  assertEquals(
    await body("getblock", "verbosity=1", "foo=1", "verbosity=0"),
    '{"method":"getblock","params":{"verbosity":0,"foo":"1"},"id":1,"jsonrpc":"2.0"}\n',
  );
});

Deno.test("cli: -rpcwallet picks /wallet/<name>, percent-encoded as libevent does", async () => {
  const path = async (wallet: string) => {
    const { request } = await capture([`-rpcwallet=${wallet}`, "getbalance"]);
    assertEquals(request.body, '{"method":"getbalance","params":[],"id":1,"jsonrpc":"2.0"}\n');
    return request.requestLine;
  };
  assertEquals(await path("w"), "POST /wallet/w HTTP/1.1");
  assertEquals(await path("my wallet/ü"), "POST /wallet/my%20wallet%2F%C3%BC HTTP/1.1");
  assertEquals(await path(""), "POST /wallet/ HTTP/1.1");
  assertEquals(await path("a-b._~!*"), "POST /wallet/a-b._~%21%2A HTTP/1.1");
  const { request } = await capture(["-rpcwallet=w", "-norpcwallet", "getbalance"]);
  assertEquals(request.requestLine, "POST / HTTP/1.1");
});

Deno.test("cli: -rpcuser/-rpcpassword replace the cookie; -stdinrpcpass reads the password", async () => {
  await using owned = await TempDatadir.withCookie(COOKIE);
  const datadir = owned.path;
  const body = '{"method":"getblockcount","params":[],"id":1,"jsonrpc":"2.0"}';
  const withPassword = await capture(["-rpcuser=alice", "-rpcpassword=s3cret:é", "getblockcount"], {
    datadir,
  });
  assertEquals(
    withPassword.request.raw,
    expected(body, "/", "alice:s3cret:é".replace("é", "\xc3\xa9")),
  );
  // The first line of stdin is the password; -stdin takes the rest as arguments.
  const fromStdin = await capture(["-rpcuser=bob", "-stdinrpcpass", "-stdin", "echo"], {
    datadir,
    stdin: "pw\r\nfirst\n\nthird",
  });
  assertEquals(
    fromStdin.request.raw,
    expected(
      '{"method":"echo","params":["first","","third"],"id":1,"jsonrpc":"2.0"}',
      "/",
      "bob:pw\r",
    ),
  );
  // An empty password line falls back to the cookie.
  const emptyLine = await capture(["-stdinrpcpass", "getblockcount"], { datadir, stdin: "\n" });
  assertEquals(emptyLine.request.raw, expected(body));
});

Deno.test("cli: -stdin appends one argument per line; a final newline adds none", async () => {
  const { request } = await capture(["-stdin", "echo", "a"], { stdin: "b c\nd\n" });
  assertEquals(request.body, '{"method":"echo","params":["a","b c","d"],"id":1,"jsonrpc":"2.0"}\n');
  const passphrase = await capture(
    ["-stdinwalletpassphrase", "walletpassphrase", "60"],
    { stdin: "secret words\n" },
  );
  assertEquals(
    passphrase.request.body,
    '{"method":"walletpassphrase","params":["secret words",60],"id":1,"jsonrpc":"2.0"}\n',
  );
});

Deno.test("cli: bitcoin.conf's [regtest] section gives the port and credentials", async () => {
  await using owned = await TempDatadir.empty();
  const datadir = owned.path;
  await using server = new FakeServer(() => jsonReply('{"result":7}'));
  // A top-level rpcport is ignored on regtest (network-only option); [regtest] applies.
  await Deno.writeTextFile(
    `${datadir}/bitcoin.conf`,
    `regtest=1\nrpcport=1\nserver=1\n[regtest]\nrpcport=${server.port}\nrpcuser=u\nrpcpassword=p\n`,
  );
  const run = await runCli([`-datadir=${datadir}`, "getblockcount"]);
  assertEquals([run.code, run.stdout, run.stderr], [0, "7\n", ""]);
  assertEquals(
    server.requests[0].raw,
    expected('{"method":"getblockcount","params":[],"id":1,"jsonrpc":"2.0"}', "/", "u:p"),
  );
  // The same file through -conf, from another data directory.
  await using other = await TempDatadir.empty();
  const viaConf = await runCli([
    `-datadir=${other.path}`,
    `-conf=${datadir}/bitcoin.conf`,
    "getblockcount",
  ]);
  assertEquals([viaConf.code, viaConf.stdout], [0, "7\n"]);
  assertEquals(server.requests[1].raw, server.requests[0].raw);
});

Deno.test("cli: -rpcconnect's port yields to -rpcport, with Core's warning", async () => {
  await using owned = await TempDatadir.withCookie(COOKIE);
  const datadir = owned.path;
  await using server = new FakeServer(() => jsonReply('{"result":"ok"}'));
  const run = await runCli([
    "-regtest",
    `-datadir=${datadir}`,
    "-rpcconnect=127.0.0.1:1",
    `-rpcport=${server.port}`,
    "uptime",
  ]);
  assertEquals(run, {
    code: 0,
    stdout: "ok\n",
    stderr:
      `Warning: Port specified in both -rpcconnect and -rpcport. Using -rpcport ${server.port}\n`,
  });
  const viaConnect = await runCli([
    "-regtest",
    `-datadir=${datadir}`,
    `-rpcconnect=127.0.0.1:${server.port}`,
    "uptime",
  ]);
  assertEquals(viaConnect, { code: 0, stdout: "ok\n", stderr: "" });
});

Deno.test("cli: standard input that is not there is refused before anything is sent", async () => {
  await using datadir = await TempDatadir.withCookie(COOKIE);
  await using server = new FakeServer(() => jsonReply('{"result":1}'));
  const cli = (argv: string[], stdin: string) =>
    runCli(["-regtest", `-datadir=${datadir.path}`, `-rpcport=${server.port}`, ...argv], { stdin });
  assertEquals(await cli(["-stdinrpcpass", "getblockcount"], ""), {
    code: 1,
    stdout: "",
    stderr: "error: -stdinrpcpass specified but failed to read from standard input\n",
  });
  assertEquals(await cli(["-stdinwalletpassphrase", "getbalance"], "pw\n"), {
    code: 1,
    stdout: "",
    stderr: "error: -stdinwalletpassphrase is only applicable for walletpassphrase(change)\n",
  });
  assertEquals(await cli(["-stdin"], ""), {
    code: 1,
    stdout: "",
    stderr: "error: too few parameters (need at least command)\n",
  });
  assertEquals(await server.connectionsBefore(), 0);
});
