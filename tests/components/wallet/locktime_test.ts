/**
 * The locktime a send gets against fee sniping, as Core's
 * `DiscourageFeeSniping` gives it, on a real chain whose block times the
 * test sets: 0 while the node catches up (its tip over a day old) and
 * while the tip is over 8 hours old; then the tip's height, one time in
 * ten up to 99 blocks lower.
 *
 * @module
 */
import { Transaction } from "@scure/btc-signer";
import { generateBlock } from "../../../components/node/chain/mod.ts";
import { WalletLoaderImpl } from "../../../components/wallet/loader.ts";
import { DEFAULT_WALLET_POLICY } from "../../../components/bitcoin/wallet_policy.ts";
import { assert, assertEquals } from "../../assert.ts";
import { testNode } from "./chain_fixture.ts";

Deno.test("wallet sends: the anti-fee-sniping locktime follows the tip's age, as Core's", async () => {
  using node = testNode();
  await using loader = new WalletLoaderImpl(`${node.dir}/wd`, node.makeChain(), {
    policy: { ...DEFAULT_WALLET_POLICY, fallbackFee: 20_000n },
  });
  const call = async (method: string, params: unknown[] = []) => {
    const reply = JSON.parse(await loader.executeRpc(method, JSON.stringify(params), "w"));
    if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
    return reply.result;
  };
  await call("createwallet", ["w"]);
  const address = await call("getnewaddress");
  const script = Uint8Array.fromHex((await call("getaddressinfo", [address])).scriptPubKey);
  const mine = (time?: number) => {
    generateBlock(node.chain, {
      payoutScript: script,
      txs: node.mempool.selectForBlock(3_992_000),
      time,
    });
  };
  const lockTimeOfSend = async () => {
    const txid = await call("sendtoaddress", [address, 100_000]);
    return Transaction.fromRaw(Uint8Array.fromHex((await call("gettransaction", [txid])).hex))
      .lockTime;
  };
  const now = Math.floor(Date.now() / 1000);

  // Blocks of 2011, after the genesis block: the node is catching up.
  const genesisTime = node.chain.tip.header.time;
  for (let i = 1; i <= 110; i++) mine(genesisTime + i * 600);
  assertEquals(await lockTimeOfSend(), 0);

  // A tip 9 hours old: the node has caught up (under a day), the tip is still too old.
  mine(now - 9 * 3600);
  assertEquals(await lockTimeOfSend(), 0);

  // A current tip: its height, now and then up to 99 lower (150 sends: none lower is a
  // chance of 1 in 6 million).
  const lockTimes: { lockTime: number; height: number }[] = [];
  for (let i = 0; i < 150; i++) {
    if (i % 20 === 0) mine(); // the chain of unconfirmed change stays under the mempool's limit
    lockTimes.push({ lockTime: await lockTimeOfSend(), height: node.chain.tip.height });
  }
  const back = lockTimes.filter(({ lockTime, height }) => lockTime !== height);
  assert(
    back.every(({ lockTime, height }) => lockTime < height && lockTime > height - 100),
    `locktimes outside the 99 blocks below the tip: ${JSON.stringify(back)}`,
  );
  assert(back.length > 0, "no locktime below the tip in 150 sends");
  assert(back.length < 50, `${back.length} of 150 below the tip, where Core sends 1 in 10`);
});
