/**
 * Spending unconfirmed coins at a fee rate their parents do not pay, as
 * Core's wallet does it (its `wallet_spend_unconfirmed.py`): the new
 * transaction pays what its unconfirmed ancestors lack, so that together
 * they reach the rate — in send, sendall and bumpfee alike; ancestors the
 * coins share are paid for once; a parent paying more than the rate takes
 * nothing off; and a confirmed coin is spent before unconfirmed change.
 * And the mempool's chain limits: coin selection leaves change on too long
 * a chain, and with `-walletrejectlongchains` (the default) a transaction
 * made is refused when the node's check of it (`Chain.checkChainLimits`)
 * fails; without, it is made, and kept unbroadcast when the mempool
 * refuses it. A node and a wallet process over HTTP; the rates are read
 * from the node's mempool.
 */
import { assert, assertEquals } from "../../assert.ts";
import { type MethodFuzzTarget, startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

/** A new wallet `name` of `target`: calls to it, to `target`'s wallet, and an address of neither. */
async function newWallet(target: MethodFuzzTarget, name: string) {
  const call = target.walletCall;
  assertEquals(await call("createwallet", [name]), { name });
  const wallet = (method: string, params: unknown = []) => call(method, params, name);
  return { call, wallet, external: target.context.addresses[4] };
}

/**
 * Wallet `name` of `target`, given 1 BTC (confirmed), then sending 0.001 BTC away `sends` times,
 * each send spending the last one's change: a mempool chain of `sends` transactions, `last` the
 * newest.
 */
async function chainOfSends(target: MethodFuzzTarget, name: string, sends: number) {
  const { call, wallet, external } = await newWallet(target, name);
  await call("sendtoaddress", [await wallet("getnewaddress"), 1]);
  await call("generatetoaddress", [1, external]);
  let last = "";
  for (let i = 0; i < sends; i++) last = await wallet("sendtoaddress", [external, 0.001]);
  assertEquals((await call("getmempoolentry", [last])).ancestorcount, sends);
  return { call, wallet, external, last };
}

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
  const { call, wallet: c, external } = await chainOfSends(target, "chain", 24);
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

Deno.test("spending unconfirmed coins: with -walletrejectlongchains (the default) a transaction the mempool's chain limits refuse is not made, in Core's words and codes, and leaves the wallet as it was", async () => {
  await using target = await startMethodFuzzTarget();
  const { call, wallet: t, external } = await newWallet(target, "two");
  await call("sendtoaddress", [await t("getnewaddress"), 1]);
  await call("sendtoaddress", [await t("getnewaddress"), 1]);
  await call("generatetoaddress", [1, external]);
  // Two mempool chains of 13: each coin swept on to a new address of the wallet's, 13 times.
  for (const coin of await t("listunspent")) {
    let { txid, vout } = coin;
    for (let i = 0; i < 13; i++) {
      const swept = await t("sendall", [[await t("getnewaddress")], null, "unset", null, {
        inputs: [{ txid, vout }],
      }]);
      ({ txid } = swept);
      vout = 0;
    }
    assertEquals((await call("getmempoolentry", [txid])).ancestorcount, 13);
  }
  // Each coin's chain is short enough for coin selection, but a child of both would have 27
  // ancestors, itself counted: the node's check refuses it (Core's CheckPackageLimits words).
  const state = async () => ({
    transactions: await t("listtransactions", ["*", 1000]),
    unspent: await t("listunspent", [0]),
    locked: await t("listlockunspent"),
    descriptors: (await t("listdescriptors")).descriptors,
  });
  const before = await state();
  const refused = (code: number) => ({
    error: { code, message: "possibly too many unconfirmed ancestors [limit: 25]" },
  });
  // SendMoney answers with RPC_WALLET_INSUFFICIENT_FUNDS, FundTransaction with RPC_WALLET_ERROR.
  assertEquals(await t("sendtoaddress", [external, 1.5]), refused(-6));
  assertEquals(await t("sendmany", ["", { [external]: 1.5 }]), refused(-6));
  const raw = await call("createrawtransaction", [[], { [external]: 1.5 }]);
  assertEquals(await t("fundrawtransaction", [raw, { lock_unspents: true }]), refused(-4));
  assertEquals(await t("walletcreatefundedpsbt", [[], { [external]: 1.5 }]), refused(-4));
  assertEquals(await t("send", [{ [external]: 1.5 }]), refused(-4));
  // Nothing recorded, locked or handed out: not even the change address.
  assertEquals(await state(), before);
  // One chain's coin alone is within the limits: sent, a child of 14 ancestors.
  const txid = await t("sendtoaddress", [external, 0.5]);
  assertEquals((await call("getmempoolentry", [txid])).ancestorcount, 14);
  assertEquals(await target.health(), null);
});

Deno.test("spending unconfirmed coins: with -walletrejectlongchains (the default) bumping the newest of a chain as long as the limit is refused, the transaction it replaces counted among its ancestors' descendants as Core's check counts it", async () => {
  await using target = await startMethodFuzzTarget();
  const { call, wallet, last } = await chainOfSends(target, "bump", 25);
  const pool = await call("getrawmempool", [true]);
  const root = Object.keys(pool).find((txid) => pool[txid].ancestorcount === 1);
  const refused = {
    error: {
      code: -4,
      message:
        `Unable to create transaction. possibly too many descendants for tx ${root} [limit: 25]`,
    },
  };
  assertEquals(await wallet("bumpfee", [last]), refused);
  assertEquals(await wallet("psbtbumpfee", [last]), refused);
  assertEquals((await wallet("gettransaction", [last])).walletconflicts, []);
  assertEquals(await target.health(), null);
});

Deno.test("spending unconfirmed coins: with -walletrejectlongchains=0 change on too long a chain is spent, and what the mempool refuses is kept unbroadcast, as Core's CommitTransaction keeps it", async () => {
  const off = ["-walletrejectlongchains=0"];
  await using target = await startMethodFuzzTarget(off, off);
  // A mempool chain as long as the limit.
  const { call, wallet: l, external, last } = await chainOfSends(target, "long", 25);
  // The 26th: coin selection's last try takes the change, the node is not asked, and the
  // mempool refuses the transaction; the send answers its txid all the same.
  const kept = await l("sendtoaddress", [external, 0.001]);
  assertEquals(typeof kept, "string", JSON.stringify(kept));
  /** `txid` is wallet `name`'s, out of the mempool, spending `parent`'s change. */
  const unbroadcast = async (name: string, txid: string, parent: string) => {
    assertEquals(await call("getmempoolentry", [txid]), {
      error: { code: -5, message: "Transaction not in mempool" },
    });
    const tx = await call("gettransaction", [txid, false, true], name);
    assertEquals([tx.confirmations, tx.trusted], [0, false]);
    assertEquals(tx.decoded.vin.map((input: { txid: string }) => input.txid), [parent]);
  };
  await unbroadcast("long", kept, last);
  // Its change, out of the mempool, is not spent, even asked for: nothing is left to spend.
  const unsafe = { include_unsafe: true };
  assertEquals(await l("sendtoaddress", [external, 0.001]), {
    error: { code: -6, message: "Insufficient funds" },
  });
  assertEquals(await l("send", [{ [external]: 0.001 }, null, "unset", null, unsafe]), {
    error: { code: -4, message: "Insufficient funds" },
  });
  // Another chain as long: bumping its newest is not judged either, and the mempool takes the
  // replacement (the one it replaces leaves room for it).
  const other = await chainOfSends(target, "bump", 25);
  const { txid: bumped } = await other.wallet("bumpfee", [other.last]);
  assertEquals((await call("getmempoolentry", [bumped])).ancestorcount, 25);
  // Its change (a replacement's, unsafe: asked for) spent by send: kept unbroadcast as well.
  const sent = await other.wallet("send", [{ [external]: 0.001 }, null, "unset", null, unsafe]);
  assertEquals(sent.complete, true);
  await unbroadcast("bump", sent.txid, bumped);
  assertEquals(await target.health(), null);
});
