/**
 * Existing clients work unchanged: the exact bytes bitcoin-cli sends (and the
 * exact reply, reference §1), and the npm `bitcoin-core` client.
 */
// A test-only package kept out of deno.json's imports, so a fresh checkout that runs the node
// or the cli never fetches it (and its build-script warning); pinned here, locked in deno.lock.
// deno-lint-ignore no-import-prefix
import Client from "npm:bitcoin-core@5.0.0";
import { assert, assertEquals } from "../../assert.ts";
import { defineMethod } from "../../../components/rpc/methods.ts";
import { DATE, exchange, RawConnection, startServer } from "./raw_http.ts";
import { BLOCK1, GENESIS, stubMethods } from "./stub_methods.ts";

Deno.test("bitcoin-cli getblockcount: its exact request, bitcoind's exact reply", async () => {
  await using s = await startServer();
  const request = "POST / HTTP/1.1\r\n" +
    "Host: 127.0.0.1\r\n" +
    "Connection: close\r\n" +
    "Content-Type: application/json\r\n" +
    `Authorization: ${s.auth}\r\n` +
    "Content-Length: 62\r\n" +
    "\r\n" +
    '{"method":"getblockcount","params":[],"id":1,"jsonrpc":"2.0"}\n';
  using c = await RawConnection.open(s.port);
  await c.send(request);
  assert(await c.closedByServer(), "one connection per call");
  const reply = c.text();
  const date = /\r\nDate: ([^\r]*)\r\n/.exec(reply)![1];
  assert(DATE.test(date));
  assertEquals(
    reply,
    "HTTP/1.1 200 OK\r\n" +
      "Content-Type: application/json\r\n" +
      `Date: ${date}\r\n` +
      "Content-Length: 36\r\n" +
      "Connection: close\r\n" +
      "\r\n" +
      '{"jsonrpc":"2.0","result":1,"id":1}\n',
  );
});

Deno.test("bitcoin-cli's other request forms (reference §1 table)", async () => {
  await using s = await startServer();
  const cli = (params: string, path = "/", method = "getblock") => {
    const body = `{"method":"${method}","params":${params},"id":1,"jsonrpc":"2.0"}\n`;
    return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Authorization: ${s.auth}\r\nContent-Length: ${
        new TextEncoder().encode(body).length
      }\r\n\r\n${body}`;
  };
  const result = async (request: string) =>
    JSON.parse((await exchange(s.port, request)).body).result;
  // -named getblock blockhash=<h> verbosity=1
  assertEquals(await result(cli(`{"blockhash":"${BLOCK1}","verbosity":1}`)), {
    hash: BLOCK1,
    height: 1,
  });
  // -named getblock <h> verbosity=0: positional arguments go under "args"
  assertEquals(await result(cli(`{"verbosity":0,"args":["${GENESIS}"]}`)), "00");
  // getblock <h> 1
  assertEquals(await result(cli(`["${GENESIS}",1]`)), { hash: GENESIS, height: 0 });
  // echo '{"a":1}' 3 true: everything stays a string
  assertEquals(await result(cli('["{\\"a\\":1}","3","true"]', "/", "echo")), [
    '{"a":1}',
    "3",
    "true",
  ]);
  // -rpcwallet="my wallet/ü" and -rpcwallet=
  assertEquals(
    await result(cli("[]", "/wallet/my%20wallet%2F%C3%BC", "walletname")),
    "my wallet/ü",
  );
  assertEquals(await result(cli("[]", "/wallet/", "walletname")), "");
});

Deno.test("the npm bitcoin-core client", async () => {
  const getbalance = defineMethod({
    name: "getbalance",
    category: "wallet",
    description: "Test stand-in: answers with the wallet named by the path.",
    result: { type: "any" },
    handler: (_params, ctx) => ctx.walletName ?? null,
  });
  await using s = await startServer({ methods: [...stubMethods(), getbalance] });
  const colon = s.cookie.indexOf(":");
  const options = {
    host: `http://127.0.0.1:${s.port}`,
    username: s.cookie.slice(0, colon),
    password: s.cookie.slice(colon + 1),
  };
  const client = new Client(options);
  assertEquals(await client.command("getblockcount"), 1);
  assertEquals(await client.command("getblockhash", 0), GENESIS);
  assertEquals(await client.command("echo", "a", 1.5), ["a", 1.5]);
  // Errors keep their codes.
  const notFound = await client.command("nosuch").catch((e: { code: number }) => e);
  assertEquals(notFound.code, -32601);
  const outOfRange = await client.command("getblockhash", 99).catch((
    e: { code: number; message: string },
  ) => e);
  assertEquals([outOfRange.code, outOfRange.message], [-8, "Block height out of range"]);
  // Batches: one result or error per element.
  const batch = await client.command([
    { method: "getblockcount" },
    { method: "nosuch" },
    { method: "getblockhash", parameters: [1] },
  ]);
  assertEquals(batch[0], 1);
  assertEquals((batch[1] as { code: number }).code, -32601);
  assertEquals(batch[2], BLOCK1);
  // Wallet methods go to /wallet/<name>.
  assertEquals(await new Client({ ...options, wallet: "w" }).command("getbalance"), "w");
  // Wrong credentials: the client reports 401.
  const denied = await new Client({ ...options, password: "x" }).command("getblockcount")
    .catch((e: { code: number }) => e);
  assertEquals(denied.code, 401);
});
