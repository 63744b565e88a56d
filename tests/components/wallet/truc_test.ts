/**
 * Version 3 (TRUC, BIP 431) funding end to end: a node and a wallet process
 * over HTTP. As Core v30's wallet: a version 3 transaction spends
 * unconfirmed coins of version 3 transactions only, any other transaction
 * never one of theirs; an unconfirmed version 3 parent takes one child; a
 * given input breaking the rule is refused with Core's text. What the
 * wallet funds, the mempool accepts.
 */
import { assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

const refused = (code: number, message: string) => ({ error: { code, message } });

Deno.test("version 3 funding: the wallet keeps BIP 431's rules, as Core's", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const external = target.context.addresses[4]; // not the wallet's
  assertEquals(await call("createwallet", ["t"]), { name: "t" });
  const t = (method: string, params: unknown[] = []) => call(method, params, "t");
  await call("sendtoaddress", [await t("getnewaddress"), 1]);
  await call("generatetoaddress", [1, external]);
  const fund = async (outputs: unknown, version: number) =>
    await t("walletcreatefundedpsbt", [[], outputs, 0, {}, true, version]);
  const send = async (psbt: string) => {
    const signed = await t("walletprocesspsbt", [psbt]);
    return await call("sendrawtransaction", [signed.hex]);
  };

  // Version 2 spends the confirmed coin; its unconfirmed change is no version 3 coin.
  const parent = await send((await fund([{ [external]: 0.1 }], 2)).psbt);
  const change = (await t("listunspent", [0])).find((u: { txid: string }) => u.txid === parent);
  assertEquals(await fund([{ [external]: 0.1 }], 3), refused(-4, "Insufficient funds"));
  assertEquals(
    await t("walletcreatefundedpsbt", [
      [{ txid: change.txid, vout: change.vout }],
      [{ [external]: 0.1 }],
      0,
      {},
      true,
      3,
    ]),
    refused(-4, "Can't spend unconfirmed version 2 pre-selected input with a version 3 tx"),
  );
  await call("generatetoaddress", [1, external]);

  // A version 3 parent paying the wallet twice: version 2 spends neither of its coins, one version
  // 3 child takes one of them, and no second child the other.
  const own = await t("getnewaddress");
  const v3 = await send((await fund([{ [external]: 0.1 }, { [own]: 0.3 }], 3)).psbt);
  assertEquals((await call("getrawtransaction", [v3, true])).version, 3);
  assertEquals(await fund([{ [external]: 0.2 }], 2), refused(-4, "Insufficient funds"));
  const child = await send((await fund([{ [external]: 0.2 }], 3)).psbt);
  assertEquals(
    (await call("getmempoolentry", [child])).depends,
    [v3],
    "the child spends the version 3 parent",
  );
  assertEquals(await fund([{ [external]: 0.05 }], 3), refused(-4, "Insufficient funds"));
  await call("generatetoaddress", [1, external]);
  assertEquals((await fund([{ [external]: 0.05 }], 3)).changepos >= 0, true, "once confirmed");

  // Two unconfirmed version 3 parents, from two confirmed coins: a child has one of them.
  await call("sendtoaddress", [await t("getnewaddress"), 1]);
  await call("generatetoaddress", [1, external]);
  const confirmed = (await t("listunspent", [1])).slice(0, 2);
  assertEquals(confirmed.length, 2);
  for (const coin of confirmed) {
    const to = await t("getnewaddress");
    await send(
      (await t("walletcreatefundedpsbt", [
        [{ txid: coin.txid, vout: coin.vout }],
        [{ [to]: Math.round(coin.amount * 0.9 * 1e8) / 1e8 }],
        0,
        {},
        true,
        3,
      ])).psbt,
    );
  }
  // Only the parents' coins left to spend.
  const rest = (await t("listunspent", [1])).map((u: { txid: string; vout: number }) => ({
    txid: u.txid,
    vout: u.vout,
  }));
  assertEquals(await t("lockunspent", [false, rest]), true);
  const totals = new Map<string, number>();
  for (const { txid, amount } of await t("listunspent", [0, 0])) {
    totals.set(txid, (totals.get(txid) ?? 0) + Math.round(amount * 1e8));
  }
  assertEquals(totals.size, 2, "two unconfirmed parents");
  // More than the richest holds, less than both: Core's AvailableCoins keeps one parent's coins.
  const needed = (Math.max(...totals.values()) + 100_000) / 1e8;
  const both = [...totals.values()].reduce((a, b) => a + b);
  assertEquals(both > needed * 1e8 + 100_000, true, "both parents together would pay it");
  assertEquals(await fund([{ [external]: needed }], 3), refused(-4, "Insufficient funds"));
  const one = await t("walletprocesspsbt", [(await fund([{ [external]: 0.01 }], 3)).psbt]);
  assertEquals((await call("decoderawtransaction", [one.hex])).vin.length, 1);
  assertEquals((await call("testmempoolaccept", [[one.hex]]))[0].allowed, true);
  assertEquals(await target.health(), null);
});

const MAX_WEIGHT_EXCEEDED =
  "The inputs size exceeds the maximum weight. Please try sending a smaller amount or manually consolidating your wallet's UTXOs";

Deno.test("version 3 send and sendall, and weight bounds: the version given, BIP 431's rules and bounds, max_tx_weight, as Core's", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const external = target.context.addresses[4]; // not the wallet's
  assertEquals(await call("createwallet", ["v"]), { name: "v" });
  const v = (method: string, params: unknown = []) => call(method, params, "v");
  // Fifteen confirmed coins: a sendall of all of them weighs more than BIP 431's child bound.
  const payments: Record<string, number> = {};
  for (let i = 0; i < 15; i++) payments[await v("getnewaddress")] = 0.1;
  await call("sendmany", ["", payments]);
  await call("generatetoaddress", [1, external]);
  const decode = async (txid: string) =>
    await call("decoderawtransaction", [(await v("gettransaction", [txid])).hex]);

  // max_tx_weight: 1.2 BTC to a P2WPKH address takes 13 coins of 0.1 and P2WPKH change; as
  // Core counts them, 4 × (42 vB of outputs and overhead + 31 of change + 13 × 68) = 3,828.
  const payee = await call("getnewaddress", ["", "bech32"]); // the default wallet's
  const fund = (inputs: unknown[], amount: number, options: Record<string, unknown>) =>
    v("walletcreatefundedpsbt", [inputs, [{ [payee]: amount }], 0, options]);
  assertEquals(
    (await call("decodepsbt", [(await fund([], 1.2, { max_tx_weight: 3_828 })).psbt])).tx.vin
      .length,
    13,
  );
  assertEquals(await fund([], 1.2, { max_tx_weight: 3_827 }), refused(-4, MAX_WEIGHT_EXCEEDED));
  // Named, as bitcoin-cli -named passes it: an option of the options object.
  assertEquals(
    await v("walletcreatefundedpsbt", { outputs: [{ [payee]: 1.2 }], max_tx_weight: 3_827 }),
    refused(-4, MAX_WEIGHT_EXCEEDED),
  );
  for (const weight of [259, 400_001, -1]) {
    assertEquals(
      await fund([], 0.1, { max_tx_weight: weight }),
      refused(-4, "Maximum transaction weight must be between 260 and 400000"),
    );
  }
  const [first, second] = await v("listunspent");
  const given = [first, second].map((u: { txid: string; vout: number }) => ({
    txid: u.txid,
    vout: u.vout,
  }));
  // The given coin and the twelve added weigh more than inputs may (3,600 − 168), though the
  // twelve alone fit with change (as Core's, the change is not counted once they are merged).
  assertEquals(
    await fund(given.slice(0, 1), 1.2, { max_tx_weight: 3_600, add_inputs: true }),
    refused(
      -4,
      "The combination of the pre-selected inputs and the wallet automatic inputs selection exceeds the transaction maximum weight. Please try sending a smaller amount or manually consolidating your wallet's UTXOs",
    ),
  );
  // As Core's: given inputs that pay alone are held to the standard bound only.
  assertEquals(typeof (await fund(given, 0.15, { max_tx_weight: 300 })).psbt, "string");
  assertEquals(
    await v("walletcreatefundedpsbt", [
      [],
      [await call("getnewaddress"), await call("getnewaddress"), payee].map((address) => ({
        [address]: 0.1,
      })),
      0,
      { max_tx_weight: 300 }, // three outputs and the rest weigh 412
    ]),
    refused(-4, "Maximum transaction weight is less than transaction weight without inputs"),
  );
  // Version 3 is held to BIP 431's 10 kvB: a data output of 9,950 bytes (9,965 with its value and
  // lengths) leaves 96 weight units for inputs and change, too little for the change alone.
  const bulky = (version: number) =>
    call("createrawtransaction", [[], [{ data: "00".repeat(9_950) }], 0, true, version]);
  assertEquals(
    await v("fundrawtransaction", [await bulky(3)]),
    refused(-4, "Maximum transaction weight is too low, can not accommodate change output"),
  );
  assertEquals((await v("fundrawtransaction", [await bulky(2)])).changepos >= 0, true);

  // send: the version is its argument after the options (Core's), positional or named.
  const parent = await v("send", [{ [external]: 0.01 }, null, "unset", null, {}, 3]);
  assertEquals((await decode(parent.txid)).version, 3);
  const named = await v("send", {
    outputs: { [external]: 0.01 },
    version: 1,
    add_to_wallet: false,
  });
  assertEquals((await call("decoderawtransaction", [named.hex])).version, 1);
  assertEquals(
    await v("send", [{ [external]: 0.01 }, null, "unset", null, {}, 4]),
    refused(-8, "Invalid parameter, version out of range(1~3)"),
  );
  assertEquals(
    await v("send", [{ [external]: 0.01 }, null, "unset", null, { version: 3 }]),
    refused(-3, "Unexpected key version"),
  );

  // sendall: the version is an option. The unconfirmed version 3 change is no version 2 input.
  const change = (await v("listunspent", [0, 0]))[0];
  assertEquals(change.txid, parent.txid);
  // Funding: a version 3 child of the unconfirmed parent is held to BIP 431's 1 kvB (every coin
  // pays 1.45 BTC: 15 inputs); a version 2 transaction does not spend the parent's change at all.
  assertEquals(await fund([], 1.45, { version: 3 }), refused(-3, "Unexpected key version"));
  const fundVersion = (version: number) =>
    v("walletcreatefundedpsbt", [[], [{ [external]: 1.45 }], 0, {}, true, version]);
  assertEquals(await fundVersion(3), refused(-4, MAX_WEIGHT_EXCEEDED));
  assertEquals(await fundVersion(2), refused(-4, "Insufficient funds"));
  assertEquals(
    await v("sendall", [[external], null, "unset", null, {
      inputs: [{ txid: change.txid, vout: change.vout }],
    }]),
    refused(-8, "Can't spend unconfirmed version 3 pre-selected input with a version 2 tx"),
  );
  assertEquals(
    await v("sendall", [[external], null, "unset", null, { version: 0 }]),
    refused(-8, "Invalid parameter, version out of range(1~3)"),
  );
  assertEquals(
    await v("sendall", [[external], null, "unset", null, { version: "3" }]),
    refused(-3, "JSON value of type string is not of expected type number"),
  );
  // Every coin, the unconfirmed parent's among them: more than a child of it may weigh.
  assertEquals(
    await v("sendall", [[external], null, "unset", null, { version: 3 }]),
    refused(-4, "Transaction too large."),
  );
  // Given, the coins are held to the version 3 bound only, and the mempool takes the child.
  const confirmed = (await v("listunspent", [1])).slice(0, 3);
  const inputs = [change, ...confirmed].map((u: { txid: string; vout: number }) => ({
    txid: u.txid,
    vout: u.vout,
  }));
  const child = await v("sendall", [[external], null, "unset", null, { version: 3, inputs }]);
  const childTx = await decode(child.txid);
  assertEquals([childTx.version, childTx.vin.length], [3, 4]);
  assertEquals((await call("getmempoolentry", [child.txid])).depends, [parent.txid]);
  // A version 2 sendall leaves the version 3 child's coins alone; it spends all the others.
  const own = await v("getnewaddress");
  const grandchildless = await v("sendall", [[own], null, "unset", null, {}]);
  const rest = await decode(grandchildless.txid);
  assertEquals([rest.version, rest.vin.length], [2, 11]); // 15, less the parent's and 3 of the child's
  assertEquals(
    rest.vin.some((i: { txid: string }) => i.txid === parent.txid || i.txid === child.txid),
    false,
  );
  assertEquals(await target.health(), null);
});
