/**
 * Existing clients against the real node: the npm `bitcoin-core` client in
 * a realistic session, the exact bytes bitcoin-cli sends (reference §1),
 * `-rpcwallet`-style paths for non-wallet methods, and python-bitcoinrpc's
 * requests from a standard-library Python script (Decimal amounts).
 *
 * @module
 */
// A test-only package kept out of deno.json's imports, so a fresh checkout that runs the node
// or the cli never fetches it (and its build-script warning); pinned here, locked in deno.lock.
// deno-lint-ignore no-import-prefix
import Client from "npm:bitcoin-core@5.0.0";
import { hex } from "@scure/base";
import { assert, assertEquals } from "../../../assert.ts";
import { startRealNode } from "../real_node.ts";
import { basic, cliRequest, DATE, exchange, RawConnection } from "../../rpc/raw_http.ts";
import { signTx, TestKey } from "../chain/chain_helpers.ts";
import { encodeTx, hashFromHex, scriptToAddress } from "../../../../components/node/chain/mod.ts";

const key = new TestKey(5);
const ADDRESS = scriptToAddress(key.wpkh)!;

Deno.test("the npm bitcoin-core client: a mining and spending session", async () => {
  await using node = await startRealNode();
  const cookie = Deno.readTextFileSync(`${node.datadir}/regtest/.cookie`);
  const colon = cookie.indexOf(":");
  const client = new Client({
    host: `http://127.0.0.1:${node.port}`,
    username: cookie.slice(0, colon),
    password: cookie.slice(colon + 1),
  });
  const hashes = await client.command("generatetoaddress", 101, ADDRESS);
  assertEquals(hashes.length, 101);
  assertEquals(await client.command("getblockcount"), 101);
  const block = await client.command("getblock", hashes[0], 2);
  const spend = signTx([{
    outpoint: { txid: hashFromHex(block.tx[0].txid), index: 0 },
    amount: 50_0000_0000n,
    script: key.wpkh,
    key,
  }], [{ script: key.wpkh, amount: 49_9990_0000n }]);
  const txid = await client.command("sendrawtransaction", hex.encode(encodeTx(spend)));
  assertEquals(await client.command("getrawmempool"), [txid]);
  const entry = await client.command("getmempoolentry", txid);
  assertEquals(entry.fees.base, 0.001);
  const [mined] = await client.command("generatetoaddress", 1, ADDRESS);
  assertEquals((await client.command("getblock", mined)).tx[1], txid);
  const batch = await client.command([
    { method: "getblockcount" },
    { method: "getbestblockhash" },
    { method: "getblockhash", parameters: [1000] },
  ]);
  assertEquals(batch[0], 102);
  assertEquals(batch[1], mined);
  assertEquals((batch[2] as { code: number }).code, -8);
  const wrong = await client.command("getblockhash", 1000).catch((e: { code: number }) => e);
  assertEquals(wrong.code, -8);
  // A wallet-routed client reaches non-wallet methods too (the path is ignored for them).
  const walletClient = new Client({
    host: `http://127.0.0.1:${node.port}`,
    username: cookie.slice(0, colon),
    password: cookie.slice(colon + 1),
    wallet: "nosuch",
  });
  assertEquals(await walletClient.command("getblockcount"), 102);
  assertEquals(await node.stop(), 0);
});

Deno.test("bitcoin-cli's exact bytes, reply and wallet paths (§1)", async () => {
  await using node = await startRealNode();
  const auth = basic(Deno.readTextFileSync(`${node.datadir}/regtest/.cookie`));
  const body = '{"method":"getblockcount","params":[],"id":1,"jsonrpc":"2.0"}';
  using c = await RawConnection.open(node.port);
  await c.send(cliRequest(body, auth));
  assert(await c.closedByServer(), "one connection per call");
  const reply = c.text();
  const date = /\r\nDate: ([^\r]*)\r\n/.exec(reply)![1];
  assert(DATE.test(date), date);
  assertEquals(
    reply,
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
      `Date: ${date}\r\nContent-Length: 36\r\nConnection: close\r\n\r\n` +
      '{"jsonrpc":"2.0","result":0,"id":1}\n',
  );
  const cli = async (method: string, params: string, path = "/") =>
    JSON.parse(
      (await exchange(
        node.port,
        cliRequest(`{"method":"${method}","params":${params},"id":1,"jsonrpc":"2.0"}`, auth, path),
      )).body,
    );
  const genesis = (await cli("getblockhash", "[0]")).result;
  // -named getblock blockhash=<h> verbosity=2, and with the hash positional under "args".
  const named = await cli("getblock", `{"blockhash":"${genesis}","verbosity":2}`);
  assertEquals(named.result.height, 0);
  assertEquals(
    (await cli("getblock", `{"verbosity":2,"args":["${genesis}"]}`)).result,
    named.result,
  );
  // -rpcwallet=w, "my wallet/ü" and "" for a non-wallet method: the path is ignored.
  for (const path of ["/wallet/w", "/wallet/my%20wallet%2F%C3%BC", "/wallet/"]) {
    assertEquals((await cli("getblockcount", "[]", path)).result, 0, path);
  }
  // bitcoin-cli sends numbers and booleans as JSON by its own table.
  assertEquals((await cli("getblockheader", `["${genesis}",false]`)).result.length, 160);
  assertEquals(await node.stop(), 0);
});

Deno.test("python-bitcoinrpc's requests (AuthServiceProxy shape, Decimal amounts)", async () => {
  await using node = await startRealNode();
  const script = new URL("./python_client.py", import.meta.url).pathname;
  const output = await new Deno.Command("python3", {
    args: [script, String(node.port), `${node.datadir}/regtest/.cookie`, ADDRESS],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  assertEquals(output.code, 0, text + new TextDecoder().decode(output.stderr));
  assert(text.trimEnd().endsWith("done"), text);
  assertEquals(await node.stop(), 0);
});
