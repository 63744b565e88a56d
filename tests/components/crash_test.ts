/**
 * Crashes at the worst moment, as `deno task spawn-node -wallet=w` runs the
 * node and its wallet process: SIGKILL the wallet while sends are in
 * flight, and the node while it mines. After the supervisor's restart,
 * nothing is lost or counted twice: every send in the mempool is the
 * wallet's, no coin is spent twice, the balances add up, and the wallet
 * is at the node's height.
 *
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import { tempDir, waitFor } from "../helpers.ts";
import { freePort } from "./node/node_process.ts";
import { lastStartedPid, nodeRpc, Task } from "./task_fixture.ts";

/** Long enough for a restart on a loaded 2-core machine; only a hang reaches it. */
const PATIENCE_MS = 120_000;
/** BIP 173's regtest P2WPKH example: an address of no wallet here. */
const FOREIGN = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
const COIN = 100_000_000;

/** `spawn-node -wallet=w` on the state directory `dir`, and a JSON-RPC client for it. */
async function nodeWithWallet(dir: string) {
  const state = Deno.realPathSync(dir);
  const port = freePort();
  const task = new Task([
    "spawn-node",
    `--state=${state}`,
    `-rpcport=${port}`,
    "-wallet=w",
    "-fallbackfee=0.0002",
  ]);
  await task.match(/^node: running/m);
  const { call: rpc, healed } = nodeRpc(
    port,
    `${state}/data/node/regtest/.cookie`,
    () => task.output,
  );
  return { task, rpc, healed };
}

Deno.test("crash: SIGKILL the wallet process mid-send; after its restart no send is lost or spent twice", async () => {
  using state = tempDir("capdeno-crash-");
  const { task, rpc, healed } = await nodeWithWallet(state.path);
  await using _ = task;
  const mine = await healed("getnewaddress", [], "w") as string;
  await healed("generatetoaddress", [101, mine]);
  // Five sends at once, and the kill while they run.
  const sends = Array.from({ length: 5 }, () => rpc("sendtoaddress", [FOREIGN, 1], "w"));
  const wallet = lastStartedPid(task.output, "wallet");
  // The wallet makes them one at a time: once one has answered, the others are under way.
  await Promise.race(sends);
  Deno.kill(wallet, "SIGKILL");
  const answered = await Promise.allSettled(sends);
  await task.match(/\[supervisor\] wallet: killed \(SIGKILL\)/);
  await waitFor(
    () => lastStartedPid(task.output, "wallet") !== wallet,
    PATIENCE_MS,
    "the wallet back",
  );
  await healed("getwalletinfo", [], "w");

  // Every transaction in the mempool is the wallet's (it pays FOREIGN from w's coins) and w knows it.
  const mempool = await healed("getrawmempool") as string[];
  for (const txid of mempool) {
    const known = await rpc("gettransaction", [txid], "w");
    assertEquals(known.error, null, `${txid} in the mempool is unknown to the wallet`);
  }
  // The kill came while sends were under way: they answer that the wallet process is gone.
  assert(
    answered.some((settled) =>
      settled.status === "fulfilled" &&
      settled.value.error?.message.startsWith("The wallet process is gone")
    ),
    JSON.stringify(answered),
  );
  // Sends that answered with a txid are among them.
  for (const settled of answered) {
    const txid = settled.status === "fulfilled" ? settled.value.result : null;
    if (typeof txid === "string") assert(mempool.includes(txid), `${txid} answered but is gone`);
  }
  // No coin the mempool spends is offered again, so a new send works.
  const next = await healed("sendtoaddress", [FOREIGN, 1], "w") as string;
  await healed("generatetoaddress", [1, FOREIGN]);
  const sent = [...mempool, next];
  const fees = await Promise.all(sent.map(async (txid) => {
    const tx = (await rpc("gettransaction", [txid], "w")).result as {
      confirmations: number;
      fee: number;
    };
    assertEquals(tx.confirmations, 1, `${txid} was mined`);
    return Math.round(-tx.fee * COIN);
  }));
  const balances = (await healed("getbalances", [], "w")) as {
    mine: { trusted: number; untrusted_pending: number };
  };
  assertEquals(
    Math.round(balances.mine.trusted * COIN),
    // Two coinbases matured (heights 1 and 2), the sends paid from them.
    100 * COIN - sent.length * COIN - fees.reduce((a, b) => a + b, 0),
    `the balance adds up over the ${sent.length} sends`,
  );
  assertEquals(balances.mine.untrusted_pending, 0);
  const history = await healed("listtransactions", ["*", 100], "w") as { category: string }[];
  assertEquals(history.filter((entry) => entry.category === "send").length, sent.length);
  task.interrupt();
  assertEquals(await task.exited, 0, task.output);
});

Deno.test("crash: SIGKILL the node mid-block; after the restart the chain and the wallet agree", async () => {
  using state = tempDir("capdeno-crash-");
  const { task, rpc, healed } = await nodeWithWallet(state.path);
  await using _ = task;
  const mine = await healed("getnewaddress", [], "w") as string;
  const mining = rpc("generatetoaddress", [140, mine]).catch((error) => String(error));
  let seen = 0;
  await waitFor(
    async () => {
      seen = (await rpc("getblockcount")).result as number;
      return seen >= 20;
    },
    PATIENCE_MS,
    "mining to begin",
  );
  Deno.kill(lastStartedPid(task.output, "node"), "SIGKILL");
  await mining; // interrupted: the connection ends
  await task.match(/\[supervisor\] wallet: restarting with node/);
  const height = await healed("getblockcount") as number;
  assert(height >= seen && height <= 140, `height ${height} after seeing ${seen}`);
  assertEquals(await healed("verifychain", [4, 0]), true);
  // The wallet follows the restarted node to its tip: every coinbase counted once.
  let balances: {
    mine: { trusted: number; immature: number };
    lastprocessedblock: { height: number };
  };
  await waitFor(
    async () => {
      balances = await healed("getbalances", [], "w") as typeof balances;
      return balances.lastprocessedblock.height === height;
    },
    PATIENCE_MS,
    `the wallet at height ${height}`,
  );
  assertEquals(
    Math.round((balances!.mine.trusted + balances!.mine.immature) * COIN),
    50 * COIN * height,
  );
  assertEquals(balances!.mine.trusted, 50 * Math.max(0, height - 100));
  task.interrupt();
  assertEquals(await task.exited, 0, task.output);
});
