/**
 * Spending unconfirmed coins at a fee rate their parents do not pay, as
 * Core's wallet does it (its `wallet_spend_unconfirmed.py`): the new
 * transaction pays what its unconfirmed ancestors lack, so that together
 * they reach the rate — in send, sendall and bumpfee alike; ancestors the
 * coins share are paid for once; a parent paying more than the rate takes
 * nothing off; and a confirmed coin is spent before unconfirmed change. A
 * node and a wallet process over HTTP; the rates are read from the node's
 * mempool.
 */
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

Deno.test("spending unconfirmed coins: the package reaches the rate asked, as Core's", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const external = target.context.addresses[4]; // not the wallet's
  assertEquals(await call("createwallet", ["u"]), { name: "u" });
  const u = (method: string, params: unknown = []) => call(method, params, "u");
  const mine = () => call("generatetoaddress", [1, external]);
  /** The rate, sat/vB, of `txid` with its unconfirmed ancestors. */
  const packageRate = async (txid: string) => {
    const entry = await call("getmempoolentry", [txid]);
    return Math.round(entry.fees.ancestor * 1e8) / entry.ancestorsize;
  };
  const ownRate = async (txid: string) => {
    const entry = await call("getmempoolentry", [txid]);
    return Math.round(entry.fees.base * 1e8) / entry.vsize;
  };
  /** u's coins swept out, then one of 1 BTC spent by a parent at `rate` sat/vB paying `outputs`. */
  const parentAt = async (rate: number, outputs: Record<string, number>) => {
    if ((await u("listunspent", [0])).length > 0) await u("sendall", [[external]]);
    await call("sendtoaddress", [await u("getnewaddress"), 1]);
    await mine();
    const { txid } = await u("send", [outputs, null, "unset", rate]);
    assertEquals((await u("listunspent", [1])).length, 0, "only the parent's coins are left");
    return txid as string;
  };
  // The estimate weighs signatures at 71 bytes, a little over what low-R signing makes.
  const near = (rate: number, target: number) => rate >= target && rate < target + 0.2;

  // send: a child at 10 sat/vB of a parent at 1 sat/vB pays for both.
  const parent = await parentAt(1, { [external]: 0.5 });
  const child = (await u("send", [{ [external]: 0.1 }, null, "unset", 10])).txid;
  assertEquals((await call("getmempoolentry", [child])).depends, [parent]);
  assert(near(await packageRate(child), 10), `${await packageRate(child)}`);
  assert(await ownRate(child) > 15, "the child pays for its parent");

  // bumpfee: the replacement at 20 sat/vB pays for the parent at 20 sat/vB.
  const { txid: bumped } = await u("bumpfee", [child, { fee_rate: 20 }]);
  assert(near(await packageRate(bumped), 20), `${await packageRate(bumped)}`);
  await mine();

  // sendall: sweeping an unconfirmed parent's change at 10 sat/vB pays for the parent.
  await parentAt(1, { [external]: 0.5 });
  const { txid: swept } = await u("sendall", [[external], null, "unset", 10]);
  assert(near(await packageRate(swept), 10), `${await packageRate(swept)}`);
  await mine();

  // Three coins of one parent spent together: the parent is paid for once, not three times.
  await parentAt(1, { [await u("getnewaddress")]: 0.3, [await u("getnewaddress")]: 0.3 });
  const together = (await u("send", [{ [external]: 0.95 }, null, "unset", 10])).txid;
  const tx = await call("getrawtransaction", [together, true]);
  assertEquals(tx.vin.length, 3);
  assertEquals(tx.vout.length, 2, "with change");
  assert(near(await packageRate(together), 10), `${await packageRate(together)}`);
  await mine();

  // A parent paying more than the rate asked: the child pays its own rate, no less.
  await parentAt(20, { [external]: 0.5 });
  const { txid: cheap } = await u("send", [{ [external]: 0.1 }, null, "unset", 10]);
  assert(near(await ownRate(cheap), 10), `${await ownRate(cheap)}`);
  await mine();

  // A confirmed coin that pays is spent before unconfirmed change, however much larger.
  await u("sendall", [[external]]);
  await call("sendtoaddress", [await u("getnewaddress"), 1]);
  const small = await call("sendtoaddress", [await u("getnewaddress"), 0.2]);
  await mine();
  // At 20 sat/vB, twice the long-term rate, the fewest inputs waste least: the 1 BTC coin alone,
  // leaving 0.7 of change, unconfirmed.
  await u("send", [{ [external]: 0.3 }, null, "unset", 20]);
  const { txid: confirmedFirst } = await u("send", [{ [external]: 0.1 }, null, "unset", 10]);
  const spent = (await call("getrawtransaction", [confirmedFirst, true])).vin;
  assertEquals(spent.map((i: { txid: string }) => i.txid), [small]);
  assertEquals((await call("getmempoolentry", [confirmedFirst])).depends, []);
  assertEquals(await target.health(), null);
});

Deno.test("spending unconfirmed coins: change on a shorter mempool chain first, and none the mempool's chain limit would refuse, in Core's words", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const external = target.context.addresses[4]; // not the wallet's
  assertEquals(await call("createwallet", ["chain"]), { name: "chain" });
  const c = (method: string, params: unknown = []) => call(method, params, "chain");
  await call("sendtoaddress", [await c("getnewaddress"), 1]);
  await call("generatetoaddress", [1, external]);
  // Each send spends the last one's change: 24 sends make a mempool chain of 24 transactions.
  let last = "";
  for (let i = 0; i < 24; i++) last = await c("sendtoaddress", [external, 0.001]);
  assertEquals((await call("getmempoolentry", [last])).ancestorcount, 24);
  // The 25th: a child of all 24, the most -limitancestorcount (25) allows.
  const full = await c("sendtoaddress", [external, 0.001]);
  assertEquals((await call("getmempoolentry", [full])).ancestorcount, 25);
  // The 26th would be refused by the mempool: the wallet says so before building it.
  assertEquals(await c("sendtoaddress", [external, 0.001]), {
    error: {
      code: -6,
      message:
        "Unconfirmed UTXOs are available, but spending them creates a chain of transactions that will be rejected by the mempool",
    },
  });
  // A coin on a shorter chain is spent instead: one just received from another wallet (spent
  // unconfirmed with include_unsafe), its chain of one.
  const fresh = await call("sendtoaddress", [await c("getnewaddress"), 0.01]);
  const { txid } = await c("send", [{ [external]: 0.001 }, null, "unset", null, {
    include_unsafe: true,
  }]);
  assertEquals((await call("getmempoolentry", [txid])).depends, [fresh]);
  assertEquals(await target.health(), null);
});
