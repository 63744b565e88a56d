/**
 * The REST interface (`-rest`) of real node processes over real HTTP, as
 * Core's `interface_rest.py` checks it and more: every endpoint in each
 * format against the RPC's answer for the same object (byte for byte where
 * the RPC prints the same JSON), content types, Core's statuses and error
 * texts, the limits (2000 headers, 15 outpoints), getutxos' path and body
 * forms, the indexes' absence, and `-rest` off.
 *
 * @module
 */
import { hex } from "@scure/base";
import { CompactSizeLen } from "@scure/btc-signer/script.js";
import { assert, assertEquals } from "../../../assert.ts";
import { concatBytes, waitFor } from "../../../helpers.ts";
import { coinbaseUtxo, type RealNode, startRealNode } from "../real_node.ts";
import { signTx, TestKey, type Utxo } from "../chain/chain_helpers.ts";
import { encodeTx, hashFromHex, scriptToAddress } from "../../../../components/node/chain/mod.ts";

const key = new TestKey(41);
const other = new TestKey(42);
const ADDRESS = scriptToAddress(key.wpkh)!;
const INVALID = "abc";
const UNKNOWN = "0".repeat(64);
const FORMATS_404 = "output format not found (available: .bin, .hex, .json)\r\n";
const JSON_ONLY_404 = "output format not found (available: json)\r\n";

/** A REST reply: status, content type, body bytes and text. */
interface Reply {
  readonly status: number;
  readonly type: string | null;
  readonly bytes: Uint8Array;
  readonly text: string;
}

/** Sends a REST request (no authentication) and reads the reply. */
async function rest(
  node: RealNode,
  path: string,
  init: { method?: string; body?: Uint8Array | string } = {},
): Promise<Reply> {
  const response = await fetch(`http://127.0.0.1:${node.port}/rest${path}`, {
    method: init.method ?? "GET",
    body: typeof init.body === "string" || init.body === undefined
      ? init.body
      : init.body.slice().buffer,
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    bytes,
    text: new TextDecoder().decode(bytes),
  };
}

/** Expects a `text/plain` error reply with Core's message (and CRLF). */
async function restError(node: RealNode, path: string, status: number, message: string) {
  const reply = await rest(node, path);
  assertEquals([reply.status, reply.type, reply.text], [status, "text/plain", `${message}\r\n`]);
}

/** Expects a 200 JSON reply whose text is exactly `text` and a newline. */
async function restJsonText(node: RealNode, path: string, text: string) {
  const reply = await rest(node, path);
  assertEquals([reply.status, reply.type], [200, "application/json"], reply.text);
  assertEquals(reply.text, `${text}\n`);
}

/** The exact JSON text of an RPC result, as the server wrote it. */
async function resultText(node: RealNode, method: string, params: unknown[] = []): Promise<string> {
  const { text } = await node.raw(JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }));
  const head = '{"jsonrpc":"2.0","result":';
  const tail = ',"id":1}\n';
  assert(text.startsWith(head) && text.endsWith(tail), text);
  return text.slice(head.length, -tail.length);
}

/** Sends a transaction of `utxo` paying `to` all but 10,000 sat; its txid and its one coin. */
async function spend(
  node: RealNode,
  utxo: Utxo,
  to = other,
): Promise<{ txid: string; coin: Utxo }> {
  const amount = utxo.amount - 10_000n;
  const tx = signTx([utxo], [{ script: to.wpkh, amount }]);
  const txid: string = await node.call("sendrawtransaction", [hex.encode(encodeTx(tx))]);
  return {
    txid,
    coin: { outpoint: { txid: hashFromHex(txid), index: 0 }, amount, script: to.wpkh, key: to },
  };
}

/** A getutxos body: the checkmempool byte, then the outpoints as a vector. */
function outpointsBody(checkMempool: boolean, outpoints: [string, number][]): Uint8Array {
  const parts = [Uint8Array.of(checkMempool ? 1 : 0), CompactSizeLen.encode(outpoints.length)];
  for (const [txid, n] of outpoints) {
    const index = new Uint8Array(4);
    new DataView(index.buffer).setUint32(0, n, true);
    parts.push(hashFromHex(txid), index);
  }
  return concatBytes(...parts);
}

/** `CTxOut`: the amount (int64 LE) and the script with its compact size. */
function txOut(amountSat: bigint, script: Uint8Array): Uint8Array {
  const value = new Uint8Array(8);
  new DataView(value.buffer).setBigInt64(0, amountSat, true);
  return concatBytes(value, CompactSizeLen.encode(script.length), script);
}

const sats = (btc: number) => BigInt(Math.round(btc * 1e8));

Deno.test("REST: Core's endpoints, formats, statuses and error texts", async (t) => {
  await using node = await startRealNode({
    args: ["-rest", "-txindex", "-blockfilterindex", "-rpcdoccheck"],
  });
  const call = node.call;
  const blocks: string[] = await call("generatetoaddress", [101, ADDRESS]);
  const funding = await coinbaseUtxo(call, blocks[0], key);
  const fundingTxid = hex.encode(funding.outpoint.txid.slice().reverse());
  const first = await spend(node, funding);

  await t.step("/tx: a mempool transaction in each format, as getrawtransaction", async () => {
    await restJsonText(
      node,
      `/tx/${first.txid}.json`,
      await resultText(node, "getrawtransaction", [first.txid, 1]),
    );
    const rawHex: string = await call("getrawtransaction", [first.txid]);
    const hexReply = await rest(node, `/tx/${first.txid}.hex`);
    assertEquals([hexReply.status, hexReply.type, hexReply.text], [
      200,
      "text/plain",
      `${rawHex}\n`,
    ]);
    const bin = await rest(node, `/tx/${first.txid}.bin`);
    assertEquals([bin.status, bin.type], [200, "application/octet-stream"]);
    assertEquals(hex.encode(bin.bytes), rawHex);
    // Core's order: the hash is checked, the transaction looked up, then the format.
    await restError(node, `/tx/${first.txid}`, 404, FORMATS_404.trimEnd());
    await restError(node, `/tx/${first.txid}.`, 404, FORMATS_404.trimEnd());
    await restError(node, `/tx/${first.txid}.xml`, 400, `Invalid hash: ${first.txid}.xml`);
    await restError(node, `/tx/${INVALID}`, 400, `Invalid hash: ${INVALID}`);
    await restError(node, `/tx/${INVALID}.json`, 400, `Invalid hash: ${INVALID}`);
    await restError(node, `/tx/${UNKNOWN}.json`, 404, `${UNKNOWN} not found`);
    await restError(
      node,
      `/tx/${UNKNOWN.toUpperCase()}A.hex`,
      400,
      `Invalid hash: ${UNKNOWN.toUpperCase()}A`,
    );
  });

  await t.step("/getutxos: the path form with and without checkmempool", async () => {
    const tip: string = await call("getbestblockhash");
    const created = await rest(node, `/getutxos/${first.txid}-0.json`);
    assertEquals(created.type, "application/json");
    assertEquals(JSON.parse(created.text), {
      chainHeight: 101,
      chaintipHash: tip,
      bitmap: "0",
      utxos: [],
    });
    const inMempool = JSON.parse(
      (await rest(node, `/getutxos/checkmempool/${first.txid}-0.json`)).text,
    );
    assertEquals(inMempool.bitmap, "1");
    assertEquals(inMempool.utxos.length, 1);
    assertEquals(inMempool.utxos[0].height, 2147483647);
    assertEquals(inMempool.utxos[0].scriptPubKey.hex, hex.encode(other.wpkh));
    // The coin the mempool transaction spends: unspent in the chain, spent with the mempool.
    const spent = `${fundingTxid}-0`;
    const chainOnly = await rest(node, `/getutxos/${spent}/${first.txid}-0.json`);
    assertEquals(
      chainOnly.text,
      `{"chainHeight":101,"chaintipHash":"${tip}","bitmap":"10","utxos":[{"height":1,"value":50.00000000,"scriptPubKey":${await resultText(
        node,
        "gettxout",
        [fundingTxid, 0, false],
      ).then((text) => JSON.stringify(JSON.parse(text).scriptPubKey))}}]}\n`,
    );
    assertEquals(
      JSON.parse((await rest(node, `/getutxos/checkmempool/${spent}.json`)).text).bitmap,
      "0",
    );
  });

  await t.step("/getutxos: binary and hex, from the path or the body", async () => {
    const tip: string = await call("getbestblockhash");
    const height = new Uint8Array(4);
    new DataView(height.buffer).setInt32(0, 101, true);
    const coinbaseCoin = concatBytes(
      new Uint8Array(4),
      Uint8Array.of(1, 0, 0, 0),
      txOut(5_000_000_000n, key.wpkh),
    );
    const expected = concatBytes(
      height,
      hashFromHex(tip),
      Uint8Array.of(1, 0b01),
      Uint8Array.of(1),
      coinbaseCoin,
    );
    const path = `/getutxos/${fundingTxid}-0/${first.txid}-0`;
    const bin = await rest(node, `${path}.bin`);
    assertEquals([bin.status, bin.type], [200, "application/octet-stream"]);
    assertEquals(hex.encode(bin.bytes), hex.encode(expected));
    const hexReply = await rest(node, `${path}.hex`);
    assertEquals([hexReply.type, hexReply.text], ["text/plain", `${hex.encode(expected)}\n`]);
    const body = outpointsBody(false, [[fundingTxid, 0], [first.txid, 0]]);
    const posted = await rest(node, "/getutxos.bin", { method: "POST", body });
    assertEquals(hex.encode(posted.bytes), hex.encode(expected));
    // Hex bodies may have whitespace between byte pairs; extra bytes after the vector are ignored.
    const spaced = `${hex.encode(body).replace(/(..)/g, "$1 ")}\n`;
    const postedHex = await rest(node, "/getutxos.hex", { method: "POST", body: spaced });
    assertEquals(postedHex.text, `${hex.encode(expected)}\n`);
    const trailing = await rest(node, "/getutxos.bin", {
      method: "POST",
      body: concatBytes(body, Uint8Array.of(7)),
    });
    assertEquals(hex.encode(trailing.bytes), hex.encode(expected));
    // Checking the mempool from the body: the mempool coin found, the spent one not.
    const withPool = await rest(node, "/getutxos.bin", {
      method: "POST",
      body: outpointsBody(true, [[fundingTxid, 0], [first.txid, 0]]),
    });
    const poolCoin = concatBytes(
      new Uint8Array(4),
      Uint8Array.of(0xff, 0xff, 0xff, 0x7f),
      txOut(first.coin.amount, other.wpkh),
    );
    assertEquals(
      hex.encode(withPool.bytes),
      hex.encode(
        concatBytes(height, hashFromHex(tip), Uint8Array.of(1, 0b10), Uint8Array.of(1), poolCoin),
      ),
    );
    // Hex that does not parse is no outpoints at all: an empty answer.
    const junk = await rest(node, "/getutxos.hex", { method: "POST", body: "zz" });
    assertEquals(
      junk.text,
      `${hex.encode(concatBytes(height, hashFromHex(tip), Uint8Array.of(0, 0)))}\n`,
    );
  });

  await t.step("/getutxos: Core's refusals and the 15-outpoint limit", async () => {
    const post = (path: string, body: string | Uint8Array = "") =>
      rest(node, path, { method: "POST", body });
    const expectError = async (reply: Promise<Reply>, status: number, message: string) => {
      const got = await reply;
      assertEquals([got.status, got.type, got.text], [status, "text/plain", `${message}\r\n`]);
    };
    await expectError(post("/getutxos.json", '{"checkmempool'), 400, "Error: empty request");
    await expectError(post("/getutxos.bin", '{"checkmempool'), 400, "Parse error");
    await expectError(post("/getutxos/checkmempool.json"), 400, "Error: empty request");
    await expectError(post("/getutxos.bin"), 400, "Error: empty request");
    await expectError(post("/getutxos/checkmempool/.json"), 400, "Parse error");
    for (
      const bad of [
        `${first.txid}_+1`,
        `${first.txid}-+1`,
        `${first.txid}--1`,
        `${first.txid}aa-1234`,
        "aa-1234",
        `${first.txid}-4294967296`,
      ]
    ) {
      await restError(node, `/getutxos/${bad}.json`, 400, "Parse error");
    }
    await restError(node, `/getutxos/${first.txid}-0`, 404, FORMATS_404.trimEnd());
    await expectError(
      post(`/getutxos/${first.txid}-0.bin`, outpointsBody(false, [[first.txid, 0]])),
      400,
      "Combination of URI scheme inputs and raw post data is not allowed",
    );
    const many = (n: number) => Array.from({ length: n }, (_, i) => `${first.txid}-${i}`).join("/");
    await expectError(
      post(`/getutxos/checkmempool/${many(20)}.json`),
      400,
      "Error: max outpoints exceeded (max: 15, tried: 20)",
    );
    const fifteen = await post(`/getutxos/checkmempool/${many(15)}.json`);
    assertEquals([fifteen.status, JSON.parse(fifteen.text).bitmap], [200, "100000000000000"]);
    const sixteen = outpointsBody(false, Array.from({ length: 16 }, (_, i) => [first.txid, i]));
    await expectError(
      post("/getutxos.bin", sixteen),
      400,
      "Error: max outpoints exceeded (max: 15, tried: 16)",
    );
    // A count the body cannot hold, or a non-canonical one, is a parse error.
    await expectError(
      post("/getutxos.bin", Uint8Array.of(0, 0xfe, 0xff, 0xff, 0xff, 0x01)),
      400,
      "Parse error",
    );
    await expectError(
      post("/getutxos.bin", Uint8Array.of(0, 0xfd, 0x01, 0x00)),
      400,
      "Parse error",
    );
  });

  const [mined] = await call("generatetoaddress", [1, ADDRESS]);

  await t.step("/tx: a confirmed transaction through -txindex, with its block hash", async () => {
    const rpc = await call("getrawtransaction", [first.txid, 1]);
    const reply = JSON.parse((await rest(node, `/tx/${first.txid}.json`)).text);
    const { hex: rawHex, blockhash, confirmations: _c, time: _t, blocktime: _b, ...details } = rpc;
    assertEquals(blockhash, mined);
    // TxToUniv's order: the details, blockhash, hex; no confirmations or times.
    assertEquals(Object.keys(reply), [...Object.keys(details), "blockhash", "hex"]);
    assertEquals(reply, { ...details, blockhash, hex: rawHex });
    // The genesis coinbase is not in the transaction index.
    const genesis = await call("getblock", [await call("getblockhash", [0])]);
    await restError(node, `/tx/${genesis.tx[0]}.hex`, 404, `${genesis.tx[0]} not found`);
  });

  await t.step("/block and /block/notxdetails, as getblock 0, 3 and 1", async () => {
    const rawHex: string = await call("getblock", [mined, 0]);
    const hexReply = await rest(node, `/block/${mined}.hex`);
    assertEquals([hexReply.status, hexReply.type, hexReply.text], [
      200,
      "text/plain",
      `${rawHex}\n`,
    ]);
    const bin = await rest(node, `/block/${mined}.bin`);
    assertEquals([bin.type, hex.encode(bin.bytes)], ["application/octet-stream", rawHex]);
    await restJsonText(
      node,
      `/block/${mined}.json`,
      await resultText(node, "getblock", [mined, 3]),
    );
    await restJsonText(
      node,
      `/block/notxdetails/${mined}.json`,
      await resultText(node, "getblock", [mined, 1]),
    );
    const notx = await rest(node, `/block/notxdetails/${mined}.hex`);
    assertEquals(notx.text, `${rawHex}\n`);
    const json = JSON.parse((await rest(node, `/block/${mined}.json`)).text);
    assertEquals(json.tx[1].vin[0].prevout.generated, true);
    await restError(node, `/block/${UNKNOWN}.json`, 404, `${UNKNOWN} not found`);
    await restError(node, `/block/${INVALID}.json`, 400, `Invalid hash: ${INVALID}`);
    await restError(node, `/block/${mined}`, 404, FORMATS_404.trimEnd());
    await restError(node, `/block/notxdetails/${mined}.txt`, 400, `Invalid hash: ${mined}.txt`);
  });

  await t.step(
    "/headers: the query and deprecated forms, counts, the active chain only",
    async () => {
      const h1: string = blocks[0];
      const two = await rest(node, `/headers/${h1}.bin?count=2`);
      assertEquals(two.type, "application/octet-stream");
      assertEquals(two.bytes.length, 160);
      const raw1: string = await call("getblockheader", [h1, false]);
      const raw2: string = await call("getblockheader", [blocks[1], false]);
      assertEquals(hex.encode(two.bytes), raw1 + raw2);
      assertEquals((await rest(node, `/headers/${h1}.hex?count=2`)).text, `${raw1}${raw2}\n`);
      const json = `[${await resultText(node, "getblockheader", [h1])},${await resultText(
        node,
        "getblockheader",
        [blocks[1]],
      )}]`;
      await restJsonText(node, `/headers/${h1}.json?count=2`, json);
      await restJsonText(node, `/headers/2/${h1}.json`, json);
      // Five by default; never past the tip; an unknown block gives none.
      assertEquals(JSON.parse((await rest(node, `/headers/${h1}.json`)).text).length, 5);
      assertEquals(
        JSON.parse((await rest(node, `/headers/${mined}.json?count=2000`)).text).length,
        1,
      );
      await restJsonText(node, `/headers/${UNKNOWN}.json?count=1`, "[]");
      assertEquals((await rest(node, `/headers/${UNKNOWN}.bin?count=1`)).bytes.length, 0);
      for (
        const count of ["5a", "-5", "0", "2001", "99999999999999999999999999999999999", "+5", ""]
      ) {
        await restError(
          node,
          `/headers/${h1}.json?count=${encodeURIComponent(count)}`,
          400,
          `Header count is invalid or out of acceptable range (1-2000): ${count}`,
        );
      }
      await restError(
        node,
        `/headers/x/${h1}.json`,
        400,
        "Header count is invalid or out of acceptable range (1-2000): x",
      );
      await restError(node, `/headers/${INVALID}.json?count=1`, 400, `Invalid hash: ${INVALID}`);
      await restError(
        node,
        `/headers/1/2/${h1}.json`,
        400,
        "Invalid URI format. Expected /rest/headers/<hash>.<ext>?count=<count>",
      );
      await restError(node, `/headers/${h1}.txt?count=1`, 400, `Invalid hash: ${h1}.txt`);
      await restError(node, `/headers/${h1}?count=1`, 404, FORMATS_404.trimEnd());
      // The query value is URL-decoded ('+' a space); a malformed query keeps no parameter (count 5).
      await restError(
        node,
        `/headers/${h1}.json?count=%2B1+`,
        400,
        "Header count is invalid or out of acceptable range (1-2000): +1 ",
      );
      assertEquals(JSON.parse((await rest(node, `/headers/${h1}.json?count=1&x`)).text).length, 5);
      for (
        const path of [
          `/headers/${h1}%.json`,
          `/blockfilterheaders/basic/${h1}%.json`,
          "/mempool/contents.json?%",
        ]
      ) {
        await restError(
          node,
          path,
          400,
          "URI parsing failed, it likely contained RFC 3986 invalid characters",
        );
      }
      // A block out of the active chain has no headers here (the block itself is still served).
      await call("invalidateblock", [mined]);
      try {
        await restJsonText(node, `/headers/${mined}.json?count=1`, "[]");
        assertEquals((await rest(node, `/block/${mined}.json`)).status, 200);
      } finally {
        await call("reconsiderblock", [mined]);
      }
    },
  );

  await t.step("/blockhashbyheight", async () => {
    const json = await rest(node, "/blockhashbyheight/102.json");
    assertEquals([json.type, json.text], ["application/json", `{"blockhash":"${mined}"}\n`]);
    assertEquals((await rest(node, "/blockhashbyheight/102.hex")).text, `${mined}\n`);
    const bin = await rest(node, "/blockhashbyheight/102.bin");
    assertEquals(hex.encode(bin.bytes), hex.encode(hashFromHex(mined)));
    await restError(node, `/blockhashbyheight/${INVALID}.json`, 400, `Invalid height: ${INVALID}`);
    await restError(node, "/blockhashbyheight/+1.json", 400, "Invalid height: +1");
    await restError(node, "/blockhashbyheight/-1.json", 400, "Invalid height: -1");
    await restError(node, "/blockhashbyheight/1000000.json", 404, "Block height out of range");
    await restError(node, "/blockhashbyheight/.json", 400, "Invalid height: ");
    await restError(node, "/blockhashbyheight/1%20%3C%3E.json", 400, "Invalid height: 1%20%3C%3E");
    await restError(node, "/blockhashbyheight/1", 404, FORMATS_404.trimEnd());
  });

  await t.step("/blockfilter and /blockfilterheaders, as getblockfilter", async () => {
    await waitFor(
      async () =>
        (await call("getindexinfo"))["basic block filter index"].best_block_height === 102,
      undefined,
      "the block filter index at the tip",
    );
    const filter = await call("getblockfilter", [mined]);
    const json = await rest(node, `/blockfilter/basic/${mined}.json`);
    assertEquals([json.type, json.text], ["application/json", `{"filter":"${filter.filter}"}\n`]);
    const encoded = hex.decode(filter.filter);
    const serialized = concatBytes(
      Uint8Array.of(0),
      hashFromHex(mined),
      CompactSizeLen.encode(encoded.length),
      encoded,
    );
    assertEquals(
      hex.encode((await rest(node, `/blockfilter/basic/${mined}.bin`)).bytes),
      hex.encode(serialized),
    );
    assertEquals(
      (await rest(node, `/blockfilter/basic/${mined}.hex`)).text,
      `${hex.encode(serialized)}\n`,
    );

    const start = blocks[99];
    const headers = [];
    for (const hash of [blocks[99], blocks[100], mined]) {
      headers.push((await call("getblockfilter", [hash])).header);
    }
    await restJsonText(
      node,
      `/blockfilterheaders/basic/${start}.json?count=5`,
      JSON.stringify(headers),
    );
    await restJsonText(node, `/blockfilterheaders/basic/3/${start}.json`, JSON.stringify(headers));
    const bin = await rest(node, `/blockfilterheaders/basic/${start}.bin?count=2`);
    assertEquals(
      hex.encode(bin.bytes),
      hex.encode(concatBytes(...headers.slice(0, 2).map(hashFromHex))),
    );
    assertEquals(
      (await rest(node, `/blockfilterheaders/basic/${start}.hex?count=1`)).text,
      `${hex.encode(hashFromHex(headers[0]))}\n`,
    );

    await restError(
      node,
      `/blockfilterheaders/${INVALID}/${start}.json`,
      400,
      `Unknown filtertype ${INVALID}`,
    );
    await restError(
      node,
      `/blockfilterheaders/basic/${INVALID}.json`,
      400,
      `Invalid hash: ${INVALID}`,
    );
    await restError(
      node,
      `/blockfilterheaders/basic/${start}.json?count=2001`,
      400,
      "Header count is invalid or out of acceptable range (1-2000): 2001",
    );
    await restError(
      node,
      `/blockfilterheaders/${start}.json`,
      400,
      "Invalid URI format. Expected /rest/blockfilterheaders/<filtertype>/<blockhash>.<ext>?count=<count>",
    );
    await restJsonText(node, `/blockfilterheaders/basic/${UNKNOWN}.json`, "[]");
    await restError(node, `/blockfilter/basic/${UNKNOWN}.json`, 404, `${UNKNOWN} not found`);
    await restError(
      node,
      `/blockfilter/extended/${mined}.json`,
      400,
      "Unknown filtertype extended",
    );
    await restError(node, `/blockfilter/basic/${INVALID}.json`, 400, `Invalid hash: ${INVALID}`);
    await restError(
      node,
      `/blockfilter/${mined}.json`,
      400,
      "Invalid URI format. Expected /rest/blockfilter/<filtertype>/<blockhash>",
    );
    await restError(node, `/blockfilter/basic/${mined}`, 404, FORMATS_404.trimEnd());
  });

  await t.step("/spenttxouts: the coins each transaction's inputs spent", async () => {
    const block = await call("getblock", [mined, 3]);
    const prevout = block.tx[1].vin[0].prevout;
    const json = `[[],[{"value":50.00000000,"scriptPubKey":${
      JSON.stringify(prevout.scriptPubKey)
    }}]]`;
    await restJsonText(node, `/spenttxouts/${mined}.json`, json);
    const expected = concatBytes(Uint8Array.of(2, 0, 1), txOut(sats(prevout.value), key.wpkh));
    const bin = await rest(node, `/spenttxouts/${mined}.bin`);
    assertEquals([bin.type, hex.encode(bin.bytes)], [
      "application/octet-stream",
      hex.encode(expected),
    ]);
    assertEquals((await rest(node, `/spenttxouts/${mined}.hex`)).text, `${hex.encode(expected)}\n`);
    // A block of the coinbase alone, and the genesis block (no undo data at all).
    await restJsonText(node, `/spenttxouts/${blocks[0]}.json`, "[[]]");
    const genesis: string = await call("getblockhash", [0]);
    assertEquals((await rest(node, `/spenttxouts/${genesis}.hex`)).text, "0100\n");
    await restError(node, `/spenttxouts/${UNKNOWN}.json`, 404, `${UNKNOWN} not found`);
    await restError(node, `/spenttxouts/${INVALID}.json`, 400, `Invalid hash: ${INVALID}`);
    await restError(
      node,
      `/spenttxouts/a/${mined}.json`,
      400,
      "Invalid URI format. Expected /rest/spenttxouts/<hash>.<ext>",
    );
    await restError(node, `/spenttxouts/${mined}`, 404, FORMATS_404.trimEnd());
  });

  await t.step(
    "/mempool/info and /mempool/contents, as getmempoolinfo and getrawmempool",
    async () => {
      // Three chained transactions.
      let coin = first.coin;
      const txs: string[] = [];
      for (let i = 0; i < 3; i++) {
        const sent = await spend(node, coin, i % 2 === 0 ? key : other);
        txs.push(sent.txid);
        coin = sent.coin;
      }
      await restJsonText(node, "/mempool/info.json", await resultText(node, "getmempoolinfo"));
      const rawMempool: [string, unknown[]][] = [
        ["", [true]],
        ["?verbose=true&mempool_sequence=false", [true]],
        ["?verbose=false", [false]],
        ["?verbose=false&mempool_sequence=true", [false, true]],
      ];
      for (const [query, params] of rawMempool) {
        const expected = await resultText(node, "getrawmempool", params);
        await restJsonText(node, `/mempool/contents.json${query}`, expected);
      }
      const contents = JSON.parse((await rest(node, "/mempool/contents.json")).text);
      txs.forEach((tx, i) => {
        assertEquals(contents[tx].spentby, txs.slice(i + 1, i + 2));
        assertEquals(contents[tx].depends, txs.slice(Math.max(0, i - 1), i));
      });
      await restError(
        node,
        "/mempool/contents.json?verbose=true&mempool_sequence=true",
        400,
        'Verbose results cannot contain mempool sequence values. (hint: set "verbose=false")',
      );
      await restError(
        node,
        "/mempool/contents.json?verbose=TRUE",
        400,
        'The "verbose" query parameter must be either "true" or "false".',
      );
      await restError(
        node,
        "/mempool/contents.json?verbose=false&mempool_sequence=TRUE",
        400,
        'The "mempool_sequence" query parameter must be either "true" or "false".',
      );
      await restError(
        node,
        "/mempool/other.json",
        400,
        "Invalid URI format. Expected /rest/mempool/<info|contents>.json",
      );
      await restError(node, "/mempool/info.bin", 404, JSON_ONLY_404.trimEnd());
      await restError(node, "/mempool/contents", 404, JSON_ONLY_404.trimEnd());

      // Mined: the block lists them, with their prevouts.
      const [block] = await call("generatetoaddress", [1, ADDRESS]);
      const json = JSON.parse((await rest(node, `/block/${block}.json`)).text);
      assertEquals(json.tx.slice(1).map((tx: { txid: string }) => tx.txid).sort(), [...txs].sort());
      for (const tx of json.tx.slice(1)) assertEquals(tx.vin[0].prevout.generated, false);
      assertEquals(
        JSON.parse((await rest(node, `/block/notxdetails/${block}.json`)).text).tx.slice(1).sort(),
        [...txs].sort(),
      );
    },
  );

  await t.step(
    "/chaininfo and /deploymentinfo, as getblockchaininfo and getdeploymentinfo",
    async () => {
      const info = JSON.parse((await rest(node, "/chaininfo.json")).text);
      const rpc = await call("getblockchaininfo");
      // verificationprogress follows the clock; the rest is the same object, in the same order.
      delete info.verificationprogress;
      delete rpc.verificationprogress;
      assertEquals(Object.keys(info), Object.keys(rpc));
      assertEquals(info, rpc);
      await restError(node, "/chaininfo", 404, JSON_ONLY_404.trimEnd());
      await restError(node, "/chaininfo.bin", 404, JSON_ONLY_404.trimEnd());

      await restJsonText(node, "/deploymentinfo.json", await resultText(node, "getdeploymentinfo"));
      await restJsonText(
        node,
        "/deploymentinfo/.json",
        await resultText(node, "getdeploymentinfo"),
      );
      await restJsonText(
        node,
        `/deploymentinfo/${blocks[50]}.json`,
        await resultText(node, "getdeploymentinfo", [blocks[50]]),
      );
      await restError(node, `/deploymentinfo/${UNKNOWN}.json`, 400, "Block not found");
      await restError(node, `/deploymentinfo/${INVALID}.json`, 400, `Invalid hash: ${INVALID}`);
      await restError(node, `/deploymentinfo/${blocks[50]}`, 404, JSON_ONLY_404.trimEnd());
    },
  );

  await t.step("HTTP: no authentication, any method Core takes, unknown paths 404", async () => {
    const posted = await rest(node, "/blockhashbyheight/0.hex", { method: "PUT" });
    assertEquals([posted.status, posted.text], [200, `${await call("getblockhash", [0])}\n`]);
    const deleted = await rest(node, "/chaininfo.json", { method: "DELETE" });
    assertEquals([deleted.status, deleted.text], [405, ""]);
    for (const path of ["/", "/unknown.json", "/block.json", "/blockfilterheader/basic/x.json"]) {
      const reply = await rest(node, path);
      assertEquals([reply.status, reply.text], [404, ""], path);
    }
    // JSON-RPC is unaffected.
    assertEquals(await call("getblockcount"), 103);
  });
});

Deno.test("REST: without the indexes, and with -rest off", async () => {
  const [plain, off] = await Promise.all([
    startRealNode({ args: ["-rest"] }),
    startRealNode({ args: ["-txindex", "-blockfilterindex"] }),
  ]);
  await using _plain = plain;
  await using _off = off;
  const blocks: string[] = await plain.call("generatetoaddress", [101, ADDRESS]);
  const coinbase = (await plain.call("getblock", [blocks[0]])).tx[0];
  // Confirmed transactions need -txindex.
  await restError(plain, `/tx/${coinbase}.json`, 404, `${coinbase} not found`);
  await restError(
    plain,
    `/blockfilter/basic/${blocks[0]}.json`,
    400,
    "Index is not enabled for filtertype basic",
  );
  await restError(
    plain,
    `/blockfilterheaders/basic/${blocks[0]}.json`,
    400,
    "Index is not enabled for filtertype basic",
  );
  const headers = await rest(plain, `/headers/${blocks[0]}.json?count=1`);
  assertEquals(headers.status, 200);

  // -rest off: no handler, Core's bare 404.
  for (const path of ["/chaininfo.json", `/blockhashbyheight/0.hex`, "/mempool/info.json"]) {
    const reply = await rest(off, path);
    assertEquals([reply.status, reply.text], [404, ""], path);
  }
  assertEquals(await off.call("getblockcount"), 0);
});
