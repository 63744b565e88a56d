/**
 * `-mocktime` and `setmocktime` on the real node with a wallet process
 * attached over IPC: the node's clock (block times, mempool entry times)
 * and the wallet process's (a transaction's time received) both hold at
 * the time given, a wallet process attaching later is told it first, and
 * both follow the system's again after 0; Core's refusals.
 *
 * @module
 */
import { assertEquals } from "../../../assert.ts";
import { tempDir, waitFor } from "../../../helpers.ts";
import { RpcCallError, startRealNode } from "../real_node.ts";
import { startWallet } from "../../wallet/wallet_process.ts";

/** Past every block a new regtest chain has, and far from the system's time. */
const MOCKED = 2_000_000_000;

Deno.test("-mocktime and setmocktime hold the node's clock and its wallet processes', one attaching later too; 0 lets the system's run again", async () => {
  using wallets = tempDir("mocktime_w_");
  await using node = await startRealNode({ args: ["-ipcbind=unix", `-mocktime=${MOCKED}`] });
  // Attached once the node's clock is held: told so before any call reaches it.
  const wallet = startWallet(node, wallets.path, ["-wallet=w", "-fallbackfee=0.0002"]);
  try {
    await waitFor(
      async () => (await node.call("listwallets")).includes("w"),
      60_000,
      "the wallet process's wallet",
    );
    const call = async (method: string, params: unknown[] = []) => {
      const { body } = await node.raw(
        JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        "/wallet/w",
      );
      if (body.error) throw new RpcCallError(body.error.code, body.error.message);
      return body.result;
    };
    const address = await call("getnewaddress");
    const hashes = await node.call("generatetoaddress", [101, address]);
    // A block assembled now takes the node's time (past its parents' median).
    assertEquals((await node.call("getblockheader", [hashes[0]])).time, MOCKED);
    /** A payment's mempool arrival time, and the wallet process's time received. */
    const times = async () => {
      const txid = await call("sendtoaddress", [address, 1]);
      const { time } = await node.call("getmempoolentry", [txid]);
      const { timereceived } = await call("gettransaction", [txid]);
      return [time, timereceived];
    };
    assertEquals(await times(), [MOCKED, MOCKED]);

    // setmocktime moves both clocks, the attached wallet process's over IPC.
    assertEquals(await node.call("setmocktime", [MOCKED + 1000]), null);
    assertEquals(await times(), [MOCKED + 1000, MOCKED + 1000]);

    // 0: the system's time again, in the node and in the wallet process.
    await node.call("setmocktime", [0]);
    const now = Math.floor(Date.now() / 1000);
    for (const time of await times()) assertEquals(Math.abs(time - now) < 600, true, `${time}`);
  } finally {
    wallet.kill("SIGKILL");
    await wallet.status;
  }
});

Deno.test("setmocktime: Core's refusals; hidden from help's list, its own help as Core's", async () => {
  await using node = await startRealNode();
  const refused = async (params: unknown[]) => {
    const error = await node.call("setmocktime", params).catch((e) => e);
    return [error.code, error.message];
  };
  assertEquals(await refused([-1]), [
    -8,
    "Mocktime must be in the range [0, 9223372036], not -1.",
  ]);
  assertEquals(await refused([9_223_372_037]), [
    -8,
    "Mocktime must be in the range [0, 9223372036], not 9223372037.",
  ]);
  assertEquals(await refused(["1"]), [
    -3,
    'Wrong type passed:\n{\n    "Position 1 (timestamp)": "JSON value of type string is not of expected type number"\n}',
  ]);
  assertEquals(await refused([]), [-1, await node.call("help", ["setmocktime"])]);
  assertEquals((await node.call("help")).includes("setmocktime"), false);
  assertEquals(
    await node.call("help", ["setmocktime"]),
    "setmocktime timestamp\n\nSet the local time to given timestamp (-regtest only)\n\n" +
      "Arguments:\n" +
      "1. timestamp    (numeric, required) UNIX epoch time\n" +
      "                Pass 0 to go back to using the system time.\n\n" +
      // Core's RPCExamples{""}: no examples section.
      "Result:\nnull    (json null)\n",
  );
});

Deno.test("getblocktemplate: a block starting one of regtest's 144-block periods may be dated no earlier than 600 s before its parent (BIP 94's bound, as Core's GetMinimumTime)", async () => {
  await using node = await startRealNode({ args: [`-mocktime=${MOCKED}`] });
  const payee = "bcrt1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqdku202";
  await node.call("generatetoaddress", [142, payee]);
  // Block 143 dated two hours ahead; the clock then goes back.
  await node.call("setmocktime", [MOCKED + 7_200]);
  const [ahead] = await node.call("generatetoaddress", [1, payee]);
  await node.call("setmocktime", [MOCKED]);
  const template = async () => await node.call("getblocktemplate", [{ rules: ["segwit"] }]);
  // Block 144 starts a period: at least 600 s before its parent, past the median time.
  const parentTime = (await node.call("getblockheader", [ahead])).time;
  assertEquals((await template()).mintime, parentTime - 600);
  assertEquals((await template()).curtime, parentTime - 600);
  // Block 145 does not: only past the median time of its parents.
  await node.call("generatetoaddress", [1, payee]);
  const { mediantime } = await node.call("getblockchaininfo");
  assertEquals((await template()).mintime, mediantime + 1);
});
