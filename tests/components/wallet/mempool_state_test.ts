/**
 * A wallet transaction out of the mempool, as Core's wallet treats it: it
 * keeps its inputs spent until it is abandoned or conflicted (a reorg drops
 * it here), and a wallet loading offers the node its unconfirmed
 * transactions again (a node restarted without its mempool). Real node and
 * wallet processes, restarted on the same data directories.
 */
import { assertEquals } from "../../assert.ts";
import { tempDir, waitFor } from "../../helpers.ts";
import { type RealNode, startRealNode } from "../node/real_node.ts";
import { startWallet } from "./wallet_process.ts";

/** Not the wallet's: BIP 173's test vector, on regtest. */
const EXTERNAL = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";

Deno.test("wallet: a transaction out of the mempool holds its inputs until abandoned, and is offered again when the wallet loads", async () => {
  using nodeDir = tempDir("mempool_state_node_");
  using walletDir = tempDir("mempool_state_wallet_");
  let node: RealNode | undefined;
  let wallet: Deno.ChildProcess | undefined;
  const start = async (args: string[]) => {
    node = await startRealNode({ datadir: nodeDir.path, args: ["-ipcbind=unix", ...args] });
    wallet = startWallet(node, walletDir.path, ["-wallet=w", "-fallbackfee=0.0002"]);
    const current = node;
    await waitFor(
      async () => JSON.stringify(await current.call("listwallets")) === '["w"]',
      60_000,
      "the wallet loaded",
    );
  };
  const stop = async () => {
    await node!.stop();
    await wallet!.status; // it follows its node
  };
  try {
    await start([]);
    const call = (method: string, params: unknown[] = []) => node!.call(method, params);
    await call("generatetoaddress", [110, await call("getnewaddress")]);
    type Unspent = { txid: string; vout: number };
    const unspent = async () =>
      ((await call("listunspent", [0])) as Unspent[]).map((u) => `${u.txid}:${u.vout}`);
    const inputsOf = async (txid: string) =>
      ((await call("decoderawtransaction", [(await call("gettransaction", [txid])).hex])).vin as {
        txid: string;
        vout: number;
      }[]).map((i) => `${i.txid}:${i.vout}`);

    // A, locked to the tip's height, is no longer final once the tip is invalidated: the node
    // drops it (a reorg), the wallet keeps its input spent. The locktime is given: the one set
    // against fee sniping is one time in ten lower, and A would stay.
    const height = await call("getblockcount");
    const sent = await call("send", [{ [EXTERNAL]: 1 }, null, "unset", null, { locktime: height }]);
    const a: string = sent.txid;
    assertEquals(
      (await call("decoderawtransaction", [(await call("gettransaction", [a])).hex])).locktime,
      height,
    );
    const [spentByA] = await inputsOf(a);
    const tip = await call("getbestblockhash");
    await call("invalidateblock", [tip]);
    assertEquals((await call("getrawmempool")).includes(a), false);
    assertEquals((await call("gettransaction", [a])).confirmations, 0);
    assertEquals((await unspent()).includes(spentByA), false, "held by A");
    assertEquals(
      (await unspent()).some((outpoint) => outpoint.startsWith(`${a}:`)),
      false,
      "A's change is not there either",
    );
    assertEquals(await call("abandontransaction", [a]), null);
    // Checked with the tip back: A may have spent the youngest mature coinbase, which the
    // invalidated tip left one block short of maturity (listunspent lists no immature coin).
    await call("reconsiderblock", [tip]);
    assertEquals((await unspent()).includes(spentByA), true, "freed by abandoning");

    // B is in the mempool when the node stops; it starts without its mempool, and the wallet,
    // loading, offers B again.
    const b = await call("sendtoaddress", [EXTERNAL, 2]);
    const [spentByB] = await inputsOf(b);
    await stop();
    await start(["-persistmempool=0"]);
    assertEquals((await call("getrawmempool")).includes(b), true, "resubmitted");
    const info = await call("gettransaction", [b]);
    assertEquals([info.confirmations, info.trusted], [0, true]);
    assertEquals((await unspent()).includes(spentByB), false);
    assertEquals(
      (await unspent()).some((outpoint) => outpoint.startsWith(`${b}:`)),
      true,
      "B's change is back",
    );
    await call("generatetoaddress", [1, EXTERNAL]);
    assertEquals((await call("gettransaction", [b])).confirmations, 1);
  } finally {
    try {
      wallet?.kill("SIGKILL");
    } catch { /* gone */ }
    await wallet?.status;
    await node?.[Symbol.asyncDispose]();
  }
});
