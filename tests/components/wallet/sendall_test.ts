/**
 * sendall end to end: a node and a wallet process over HTTP. A wallet is
 * swept to one recipient, to several (with payments among them), or only
 * of the coins worth spending; its unconfirmed inbound coins stay; the
 * transaction can come back unsent; Core's refusals with Core's codes and
 * texts.
 */
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

type Decoded = {
  txid: string;
  vsize: number;
  vin: { txid: string; vout: number; sequence: number }[];
  vout: { value: number; scriptPubKey: { address?: string } }[];
};

Deno.test("sendall: sweeps the wallet's spendable coins to its recipients, as Core's; Core's refusals", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const refused = (code: number, message: string) => ({ error: { code, message } });
  const sats = (btc: number) => Math.round(btc * 1e8);
  const external = target.context.addresses[4]; // not the wallet's
  const other = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"; // BIP 173's test vector
  const decode = async (hexTx: string): Promise<Decoded> =>
    await call("decoderawtransaction", [hexTx]);
  const mined = async () => await call("generatetoaddress", [1, external]);

  assertEquals(await call("createwallet", ["s"]), { name: "s" });
  const s = (method: string, params: unknown[] = []) => call(method, params, "s");
  const fund = async (btc: number) => {
    const address = await s("getnewaddress");
    return { txid: await call("sendtoaddress", [address, btc]), address };
  };
  assertEquals(
    await s("sendall", [[external]]),
    refused(
      -6,
      "Total value of UTXO pool too low to pay for transaction. Try using lower feerate or excluding uneconomic UTXOs with 'send_max' option.",
    ),
  );

  // Two confirmed coins are swept; a coin still coming in is not.
  const [one, two] = [await fund(1), await fund(2)];
  await mined();
  const incoming = await fund(0.5);
  const swept = await s("sendall", [[external]]);
  assertEquals(Object.keys(swept), ["txid", "complete"]);
  assertEquals(swept.complete, true);
  const tx = await decode((await s("gettransaction", [swept.txid])).hex);
  assertEquals(
    tx.vin.map((i) => i.txid).sort(),
    [one.txid, two.txid].sort(),
    "the confirmed coins, not the incoming one",
  );
  assertEquals(tx.vin.every((i) => i.sequence === 0xfffffffd), true);
  assertEquals(tx.vout.length, 1);
  const fee = sats((await call("getmempoolentry", [swept.txid])).fees.base);
  assertEquals(sats(tx.vout[0].value) + fee, sats(3), "all of it, less the fee");
  assert(fee * 1000 >= 20_000 * tx.vsize, `${fee} sat for ${tx.vsize} vB at the fallback rate`);
  assertEquals((await s("listunspent", [0])).map((u: { txid: string }) => u.txid), [
    incoming.txid,
  ]);
  await mined();

  // A payment and an equal share of the rest for each other recipient, the first taking the
  // rounding; at the rate given.
  await fund(1.23456789);
  await mined();
  const total = sats((await s("getbalances")).mine.trusted);
  const split = await s("sendall", [
    [{ [external]: 0.1 }, other, await s("getnewaddress")],
    null,
    "unset",
    3,
  ]);
  assert(split.txid, JSON.stringify(split));
  const splitTx = await decode((await s("gettransaction", [split.txid])).hex);
  const splitFee = sats((await call("getmempoolentry", [split.txid])).fees.base);
  const values = splitTx.vout.map((o) => sats(o.value));
  assertEquals(values[0], sats(0.1));
  const share = Math.floor((total - sats(0.1) - splitFee) / 2);
  assertEquals(values.slice(1).sort(), [share, total - sats(0.1) - splitFee - share].sort());
  assertEquals(values[1] - values[2] === 0 || values[1] - values[2] === 1, true, `${values}`);
  assert(splitFee * 1000 >= 3000 * splitTx.vsize && splitFee * 1000 < 3000 * (splitTx.vsize + 2));
  await mined();

  // Not sent: the signed transaction and its PSBT come back, and the coins stay.
  const kept = await s("sendall", [[external], null, "unset", null, { add_to_wallet: false }]);
  assertEquals(Object.keys(kept), ["psbt", "txid", "hex", "complete"]);
  assertEquals((await decode(kept.hex)).txid, kept.txid);
  assertEquals((await call("getrawmempool")).includes(kept.txid), false);
  assert(kept.psbt.startsWith("cHNidP8"), kept.psbt); // "psbt\xff" in base64
  assertEquals(await call("sendrawtransaction", [kept.hex]), kept.txid);
  await mined();

  // send_max leaves out a coin worth less than spending it at the rate.
  const dustish = await fund(0.000006);
  await fund(0.2);
  await mined();
  const max = await s("sendall", [[external], null, "unset", 10, { send_max: true }]);
  const maxTx = await decode((await s("gettransaction", [max.txid])).hex);
  assertEquals(maxTx.vin.some((i) => i.txid === dustish.txid), false);
  assertEquals(maxTx.vin.length, 1);
  await mined();

  // Specific inputs.
  const picked = await fund(0.3);
  await fund(0.4);
  await mined();
  const vout = (await s("listunspent")).find((u: { txid: string }) => u.txid === picked.txid).vout;
  const only = await s("sendall", [[external], null, "unset", null, {
    inputs: [{ txid: picked.txid, vout }],
  }]);
  assertEquals(
    (await decode((await s("gettransaction", [only.txid])).hex)).vin.map((i) => i.txid),
    [picked.txid],
  );
  assertEquals(
    await s("sendall", [[external], null, "unset", null, {
      inputs: [{ txid: picked.txid, vout }],
    }]),
    refused(-8, `Input not available. UTXO (${picked.txid}:${vout}) was already spent.`),
  );
  const notOurs = "ab".repeat(32); // no transaction the wallet knows
  assertEquals(
    await s("sendall", [[external], null, "unset", null, { inputs: [{ txid: notOurs, vout: 0 }] }]),
    refused(-8, `Input not found. UTXO (${notOurs}:0) is not part of wallet.`),
  );

  // Arguments, as Core reads them.
  assertEquals(
    await s("sendall", [[{ [external]: 1 }]]),
    refused(-8, "Must provide at least one address without a specified amount"),
  );
  assertEquals(
    await s("sendall", [[external], null, "unset", 5, { fee_rate: 5 }]),
    refused(-8, "Pass the fee_rate either as an argument, or in the options object, but not both"),
  );
  assertEquals(await s("sendall", [[external], 6]), refused(-8, "Specify estimate_mode"));
  assertEquals(
    await s("sendall", [[external], null, null, null, { feeRate: 0.0001 }]),
    refused(-8, "Use fee_rate (sat/vB) instead of feeRate"),
  );
  assertEquals(
    await s("sendall", [[external], null, null, null, { inputs: [], send_max: true }]),
    refused(-8, "Cannot combine send_max with specific inputs."),
  );
  assertEquals(
    await s("sendall", [[external], null, null, null, { inputs: [], minconf: 1 }]),
    refused(-8, "Cannot combine minconf or maxconf with specific inputs."),
  );
  assertEquals(
    await s("sendall", [[external], null, null, null, { minconf: -1 }]),
    refused(-8, "Invalid minconf (minconf cannot be negative): -1"),
  );
  assertEquals(
    await s("sendall", [[external, external]]),
    refused(-8, `Invalid parameter, duplicated address: ${external}`),
  );
  assertEquals(
    await s("sendall", [["notanaddress"]]),
    refused(-5, "Invalid Bitcoin address: notanaddress"),
  );
  assertEquals(
    await s("sendall", [[external], null, "unset", 0.05]),
    refused(
      -8,
      "Fee rate (0.050 sat/vB) is lower than the minimum fee rate setting (1.000 sat/vB).\nConsider modifying -mintxfee (1.000 sat/vB) or -minrelaytxfee (0.100 sat/vB).",
    ),
  );
  assertEquals(
    await s("sendall", [[{ [other]: 100 }, external]]),
    refused(-6, "Assigned more value to outputs than available funds."),
  );
  assertEquals(
    await s("sendall", [[{ [other]: 0.00000100 }, external]]),
    refused(-8, `Specified output amount to ${other} is below dust threshold.`),
  );
  // The same transaction unsent first, for its fee; then a payment leaving 100 sat to share.
  const balance = sats((await s("getbalances")).mine.trusted);
  const options = { fee_rate: 1, add_to_wallet: false };
  const dry = await decode(
    (await s("sendall", [[{ [other]: 0.1 }, external], null, null, null, options])).hex,
  );
  const dryFee = balance - dry.vout.reduce((sum, o) => sum + sats(o.value), 0);
  assertEquals(
    await s("sendall", [
      [{ [other]: (balance - dryFee - 100) / 1e8 }, external],
      null,
      null,
      null,
      options,
    ]),
    refused(-6, "Dynamically assigned remainder results in dust output."),
  );
  // Against fee sniping, the locktime is the tip's height (one time in ten up to 99 lower, as
  // Core's), unless an input is final.
  const height = await call("getblockcount");
  const coin =
    (await s("listunspent")).sort((a: { amount: number }, b: { amount: number }) =>
      b.amount - a.amount
    )[0]; // not the coin worth less than its fee
  const unsent = { add_to_wallet: false };
  const sniping = await s("sendall", [[external], null, null, null, unsent]);
  const { locktime } = await decode(sniping.hex) as unknown as { locktime: number };
  assert(locktime <= height && locktime > height - 100, `locktime ${locktime} at ${height}`);
  const finalInput = await s("sendall", [[external], null, null, null, {
    ...unsent,
    replaceable: false, // else the final sequence contradicts it, as Core says
    inputs: [{ txid: coin.txid, vout: coin.vout, sequence: 0xffffffff }],
  }]);
  assert(finalInput.hex, JSON.stringify(finalInput));
  assertEquals((await decode(finalInput.hex) as unknown as { locktime: number }).locktime, 0);

  // Locked: as Core's, the PSBT comes back unsigned, not complete, and nothing is sent.
  await s("encryptwallet", ["secret"]);
  const locked = await s("sendall", [[external]]);
  assertEquals(Object.keys(locked), ["psbt", "complete"]);
  assertEquals(locked.complete, false);
  assert(locked.psbt.startsWith("cHNidP8"), locked.psbt);
  assertEquals(await target.health(), null);
});
