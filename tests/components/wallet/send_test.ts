/**
 * send end to end: a node and a wallet process over HTTP. A payment is
 * funded, signed and broadcast, with a locktime against fee sniping unless
 * one is given; it comes back unsent (hex and PSBT) when asked; a locked
 * wallet answers with the PSBT, incomplete; Core's refusals with Core's
 * codes and texts.
 */
import { base64 } from "@scure/base";
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";
import { readPsbt } from "../../../components/wallet/psbt.ts";

const refused = (code: number, message: string) => ({ error: { code, message } });

type Decoded = {
  txid: string;
  locktime: number;
  vsize: number;
  vin: { txid: string; vout: number; sequence: number }[];
  vout: { value: number; scriptPubKey: { address?: string } }[];
};

Deno.test("send: funds, signs and broadcasts as Core's, or returns the transaction unsent; Core's refusals", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const external = target.context.addresses[4]; // not the wallet's
  const mined = async () => await call("generatetoaddress", [1, external]);
  assertEquals(await call("createwallet", ["s"]), { name: "s" });
  const s = (method: string, params: unknown[] = []) => call(method, params, "s");
  for (const btc of [1, 2]) await call("sendtoaddress", [await s("getnewaddress"), btc]);
  await mined();
  const decode = async (hex: string): Promise<Decoded> => await call("decoderawtransaction", [hex]);
  const height = await call("getblockcount");

  // Sent: the locktime against fee sniping (the tip's height, one time in ten up to 99 lower, as
  // Core's), BIP 125 signalled, at the rate given.
  const sent = await s("send", [{ [external]: 0.5 }, null, "unset", 3]);
  assertEquals(Object.keys(sent), ["txid", "complete"]);
  assertEquals(sent.complete, true);
  const tx = await decode((await s("gettransaction", [sent.txid])).hex);
  assert(
    tx.locktime <= height && tx.locktime > height - 100,
    `locktime ${tx.locktime} at ${height}`,
  );
  assertEquals(tx.vin.every((input) => input.sequence === 0xfffffffd), true);
  const fee = Math.round((await call("getmempoolentry", [sent.txid])).fees.base * 1e8);
  assert(fee >= 3 * tx.vsize && fee < 4 * tx.vsize, `${fee} sat for ${tx.vsize} vB at 3 sat/vB`);

  // The fee taken from the payment, and the locktime given kept.
  const net = await s("send", [{ [external]: 0.25 }, null, "unset", null, {
    subtract_fee_from_outputs: [0],
    locktime: 7,
  }]);
  const netTx = await decode((await s("gettransaction", [net.txid])).hex);
  assertEquals(netTx.locktime, 7);
  const paid = netTx.vout.find((o) => o.scriptPubKey.address === external)!;
  const netFee = (await call("getmempoolentry", [net.txid])).fees.base;
  assertEquals(Math.round(paid.value * 1e8), Math.round((0.25 - netFee) * 1e8));

  // An input given as final (its sequence) leaves no locktime to discourage fee sniping with.
  const [coin] = await s("listunspent", [0]); // both confirmed coins are spent: change it is
  const final = await s("send", [{ [external]: 0.01 }, null, "unset", null, {
    inputs: [{ txid: coin.txid, vout: coin.vout, sequence: 0xffffffff }],
    replaceable: false,
  }]);
  assert(final.txid, JSON.stringify(final));
  assertEquals((await decode((await s("gettransaction", [final.txid])).hex)).locktime, 0);

  // Unsent when asked: the signed hex and a PSBT; the mempool does not have it until it is sent.
  for (const options of [{ add_to_wallet: false }, { psbt: true }]) {
    const kept = await s("send", [{ [external]: 0.1 }, null, "unset", null, options]);
    assertEquals(Object.keys(kept), ["psbt", "txid", "hex", "complete"]);
    assertEquals(kept.complete, true);
    assertEquals((await decode(kept.hex)).txid, kept.txid);
    const psbt = readPsbt(base64.decode(kept.psbt));
    assertEquals(psbt.isFinal, true, "the PSBT holds the final scripts");
    assertEquals(
      await call("getmempoolentry", [kept.txid]),
      refused(-5, "Transaction not in mempool"),
    );
    // Its coins are not marked spent: the next one may take them; send this one first.
    assertEquals(await call("sendrawtransaction", [kept.hex]), kept.txid);
    await mined();
  }

  // A locktime still to come: the mempool refuses it, and as Core's the wallet keeps it all the
  // same (its inputs held), to be sent once final.
  const early = await s("send", [{ [external]: 0.1 }, null, "unset", null, {
    locktime: (await call("getblockcount")) + 1,
  }]);
  assertEquals(Object.keys(early), ["txid", "complete"]);
  assertEquals(
    await call("getmempoolentry", [early.txid]),
    refused(-5, "Transaction not in mempool"),
  );
  const kept = await s("gettransaction", [early.txid]);
  assertEquals(kept.confirmations, 0);
  // Logged as Core logs it, with the mempool's reason.
  assert(
    target.walletStderr().includes(
      "wallet: [s] CommitTransaction(): Transaction cannot be broadcast immediately, non-final",
    ),
    target.walletStderr(),
  );
  const heldInputs = (await decode(kept.hex)).vin.map((i) => `${i.txid}:${i.vout}`);
  const unspent = (await s("listunspent", [0])).map((u: { txid: string; vout: number }) =>
    `${u.txid}:${u.vout}`
  );
  assertEquals(heldInputs.filter((o) => unspent.includes(o)), [], "its inputs held");
  await mined();
  assertEquals(await call("sendrawtransaction", [kept.hex]), early.txid);

  // Core's refusals.
  assertEquals(
    await s("send", [{ [external]: 0.1 }, null, "unset", 0.5]),
    refused(
      -4,
      "Fee rate (0.500 sat/vB) is lower than the minimum fee rate setting (1.000 sat/vB)",
    ),
  );
  // As sendtoaddress and sendmany refuse it (with their -6), unlike fundrawtransaction.
  for (
    const [method, params] of [
      ["sendtoaddress", [external, 0.1, "", "", false, true, null, "unset", false, 0.5]],
      ["sendmany", ["", { [external]: 0.1 }, 0, "", [], true, null, "unset", 0.5]],
    ] as const
  ) {
    assertEquals(
      await s(method, [...params]),
      refused(
        -6,
        "Fee rate (0.500 sat/vB) is lower than the minimum fee rate setting (1.000 sat/vB)",
      ),
    );
  }
  assertEquals(
    await s("send", [{ [external]: 0.1 }, null, "unset", null, { feeRate: 0.0001 }]),
    refused(-8, "Use fee_rate (sat/vB) instead of feeRate"),
  );
  assertEquals(
    await s("send", [{ [external]: 0.1 }, 6, "economical", null, { conf_target: 6 }]),
    refused(
      -8,
      "Pass conf_target and estimate_mode either as arguments or in the options object, but not both",
    ),
  );
  assertEquals(await s("send", [{ [external]: 100 }]), refused(-4, "Insufficient funds"));
  // A fee over -maxtxfee (0.1 BTC) is refused before anything is signed or kept: -6 from
  // sendtoaddress (SendMoney), -4 from send (FundTransaction); the coins stay spendable.
  const before = (await s("getbalances")).mine.trusted;
  const tooMuch = "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)";
  assertEquals(
    await s("sendtoaddress", [external, 0.1, "", "", false, true, null, "unset", false, 100_000]),
    refused(-6, tooMuch),
  );
  assertEquals(
    await s("send", [{ [external]: 0.1 }, null, "unset", 100_000]),
    refused(-4, tooMuch),
  );
  assertEquals((await s("getbalances")).mine.trusted, before);
  assertEquals(
    await s("send", [{ [external]: 0.1 }, null, "unset", null, { subtract_fee_from_outputs: [1] }]),
    refused(-8, "Invalid parameter 'subtract fee from output', position too large: 1"),
  );
  assertEquals(
    await s("send", [{ [external]: 0.1 }, null, "unset", null, { bogus: 1 }]),
    refused(-3, "Unexpected key bogus"),
  );

  // Core finds the wallet before it reads the arguments: a missing one answers first.
  const missing = refused(-18, "Requested wallet does not exist or is not loaded");
  for (
    const [method, params] of [
      ["send", [{ [external]: 0.1 }, null, "unset", null, { bogus: 1 }]],
      ["walletprocesspsbt", ["not base64!"]],
      ["walletcreatefundedpsbt", [[], [{ [external]: 0.1 }], 0, { bogus: 1 }]],
      ["fundrawtransaction", ["00"]],
      ["bumpfee", ["00".repeat(32), { bogus: 1 }]],
      ["sendall", [[external], null, "unset", null, { bogus: 1 }]],
      ["psbtbumpfee", ["00".repeat(32), { bogus: 1 }]],
    ] as const
  ) {
    assertEquals(await call(method, [...params], "nosuch"), missing, method);
  }

  // Locked: the PSBT, unsigned, not complete, nothing sent.
  await s("encryptwallet", ["secret"]);
  const locked = await s("send", [{ [external]: 0.1 }]);
  assertEquals(Object.keys(locked), ["psbt", "complete"]);
  assertEquals(locked.complete, false);
  const unsigned = readPsbt(base64.decode(locked.psbt));
  assertEquals(unsigned.getInput(0).finalScriptWitness, undefined);
  assert(unsigned.getInput(0).bip32Derivation !== undefined, "described for a signer");
  assertEquals(await target.health(), null);
});

Deno.test("send: a transaction made without change keeps the change addresses its attempts reserved, as Core's", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const external = target.context.addresses[4]; // not the wallet's
  assertEquals(await call("createwallet", ["c"]), { name: "c" });
  const c = (method: string, params: unknown[] | Record<string, unknown> = []) =>
    call(method, params, "c");
  await call("sendtoaddress", [await c("getnewaddress"), 1]);
  await call("generatetoaddress", [1, external]);
  // All of it, the fee taken from the payment: no change.
  const txid = await c("sendtoaddress", {
    address: external,
    amount: 1,
    subtractfeefromamount: true,
  });
  assertEquals((await call("getrawtransaction", [txid, true])).vout.length, 1);
  // Core's CreateTransaction keeps the change address each successful attempt reserved, of the
  // payment's type (legacy, as it pays a P2PKH address): the plain one's (/1/0) and the one
  // spending each address's coins together (/1/1).
  const next = await c("getrawchangeaddress", ["legacy"]);
  assertEquals((await c("getaddressinfo", [next])).hdkeypath, "m/44h/1h/0h/1/2");
});
