/**
 * bumpfee end to end: a node and a wallet process over HTTP. A wallet
 * transaction is replaced in the node's mempool by one spending the same
 * inputs at a higher rate, paying the same recipients (or the outputs
 * given); the wallet records the replacement as Core's does; Core's
 * refusals come with Core's codes and texts.
 */
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

type Vout = { value: number; scriptPubKey: { address?: string } };
type Decoded = {
  txid: string;
  vsize: number;
  vin: { txid: string; vout: number; sequence: number }[];
  vout: Vout[];
};

Deno.test("bumpfee: replaces a wallet transaction at a higher rate, recorded as Core records it; Core's refusals", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const refused = (code: number, message: string) => ({ error: { code, message } });
  const external = target.context.addresses[4]; // not the wallet's
  const decoded = async (txid: string): Promise<Decoded> =>
    await call("decoderawtransaction", [(await call("gettransaction", [txid])).hex]);
  const mempool = async (): Promise<string[]> => await call("getrawmempool");
  const sats = (btc: number) => Math.round(btc * 1e8);
  const outpoints = (tx: Decoded) => tx.vin.map((i) => `${i.txid}:${i.vout}`).sort();

  // A pays 1 BTC at the fallback rate (20 sat/vB); B replaces it at Core's default step.
  const a = await call("sendtoaddress", [external, 1]);
  const txA = await decoded(a);
  const feeA = -(await call("gettransaction", [a])).fee;
  const bumped = await call("bumpfee", [a]);
  assertEquals(Object.keys(bumped), ["txid", "origfee", "fee", "errors"]);
  assertEquals(bumped.origfee, feeA);
  assertEquals(bumped.errors, []);
  const b: string = bumped.txid;
  assertEquals((await mempool()).includes(b), true);
  assertEquals((await mempool()).includes(a), false);
  const txB = await decoded(b);
  assertEquals(outpoints(txB), outpoints(txA), "the same inputs");
  assertEquals(txB.vin.every((input) => input.sequence === 0xfffffffd), true);
  assertEquals(txB.vout.filter((o) => o.scriptPubKey.address === external).map((o) => o.value), [
    1,
  ]);
  // Core's EstimateFeeRate: the old rate (rounded down) + 1 sat/kvB + 5 sat/vB, here above the
  // fallback rate; the fee is for the largest the signed replacement could be.
  const rate = Math.floor(sats(feeA) * 1000 / txA.vsize) + 1 + 5000;
  const feeB = sats(bumped.fee);
  assert(feeB * 1000 >= rate * txB.vsize, `${feeB} sat for ${txB.vsize} vB at ${rate} sat/kvB`);
  assert(
    feeB * 1000 < rate * (txB.vsize + 2),
    `${feeB} sat for ${txB.vsize} vB at ${rate} sat/kvB`,
  );
  const change = (tx: Decoded) => tx.vout.filter((o) => o.scriptPubKey.address !== external);
  assertEquals(sats(change(txA)[0].value) - sats(change(txB)[0].value), feeB - sats(feeA));
  assertEquals(await call("getmempoolentry", [b]).then((e) => e.fees.base), bumped.fee);

  // Recorded as Core's mapValue: replaced_by_txid on A, replaces_txid on B, after the RBF state.
  const infoA = await call("gettransaction", [a]);
  const infoB = await call("gettransaction", [b]);
  assertEquals(infoA.replaced_by_txid, b);
  assertEquals(infoB.replaces_txid, a);
  // Each spends the other's inputs: Core's walletconflicts.
  assertEquals(infoA.walletconflicts, [b]);
  assertEquals(infoB.walletconflicts, [a]);
  // B, in the mempool, spends A's inputs: Core's mempoolconflicts of A, not of B.
  assertEquals([infoA.mempoolconflicts, infoB.mempoolconflicts], [[b], []]);
  const keys = Object.keys(infoB);
  assertEquals(keys.indexOf("replaces_txid"), keys.indexOf("bip125-replaceable") + 1);
  assertEquals(
    await call("bumpfee", [a]),
    refused(-4, `Cannot bump transaction ${a} which was already bumped by transaction ${b}`),
  );
  // B's change is not spent by default while B is unconfirmed (Core's unsafe replacement).
  const unspent: { txid: string; safe: boolean }[] = await call("listunspent", [0]);
  assertEquals(unspent.filter((u) => u.txid === b).map((u) => u.safe), [false]);

  // An explicit rate: too low a step is refused with Core's sums; a rate well above is taken.
  const low = await call("bumpfee", [b, { fee_rate: 26 }]);
  assertEquals(low.error.code, -8);
  assert(
    /^Insufficient total fee 0\.0000\d+, must be at least 0\.0000\d+ \(oldFee 0\.0000\d+ \+ incrementalFee 0\.0000\d+\)$/
      .test(low.error.message),
    low.error.message,
  );
  assertEquals(
    await call("bumpfee", [b, { fee_rate: 0.05 }]),
    refused(
      -4,
      "New fee rate (0.0000005) is lower than the minimum fee rate (0.000001) to get into the mempool -- ",
    ),
  );
  const c = await call("bumpfee", [b, { fee_rate: 60, replaceable: false }]);
  const txC = await decoded(c.txid);
  // In Core's order: by the txid's bytes as stored, the reverse of the hex shown.
  const stored = (id: string) => id.match(/../g)!.reverse().join("");
  assertEquals(
    (await call("gettransaction", [b])).walletconflicts,
    [a, c.txid].sort((x, y) => stored(x) < stored(y) ? -1 : 1),
  );
  assertEquals(txC.vin.every((input) => input.sequence === 0xfffffffe), true);
  assert(sats(c.fee) * 1000 >= 60_000 * txC.vsize, `${c.fee} for ${txC.vsize} vB`);
  assertEquals(
    await call("bumpfee", [c.txid]),
    refused(-4, "Transaction is not BIP 125 replaceable"),
  );

  // sendtoaddress and sendmany signal BIP 125 unless told not to.
  const final = await call("sendtoaddress", [external, 1, "", "", false, false]);
  assertEquals((await decoded(final)).vin.every((input) => input.sequence === 0xfffffffe), true);
  assertEquals((await call("gettransaction", [final]))["bip125-replaceable"], "no");
  assertEquals(
    await call("bumpfee", [final]),
    refused(-4, "Transaction is not BIP 125 replaceable"),
  );
  const many = await call("sendmany", ["", { [external]: 1 }, 1, "", [], false]);
  assertEquals((await decoded(many)).vin.every((input) => input.sequence === 0xfffffffe), true);

  // New outputs: half to the recipient, the rest back as change.
  const d = await call("sendtoaddress", [external, 2]);
  const e = await call("bumpfee", [d, { outputs: [{ [external]: 0.5 }] }]);
  const txE = await decoded(e.txid);
  assertEquals(txE.vout.filter((o) => o.scriptPubKey.address === external).map((o) => o.value), [
    0.5,
  ]);
  assertEquals(txE.vout.length, 2);

  // No change to take the fee from: a confirmed coin is added, and change comes back.
  await call("generatetoaddress", [101, await call("getnewaddress", [])]);
  // All but 3000 sat of the largest coin (which selection takes first): the change is dust.
  const largest = Math.max(
    ...(await call("listunspent", [1])).map((u: { amount: number }) => sats(u.amount)),
  );
  const k = await call("sendtoaddress", [external, (largest - 3000) / 1e8]);
  const txK = await decoded(k);
  assertEquals(txK.vin.length, 1);
  assertEquals(txK.vout.length, 1, "the change was dust");
  const l = await call("bumpfee", [k]);
  const txL = await decoded(l.txid);
  assertEquals(txL.vin.length, 2);
  assertEquals(outpoints(txL).includes(outpoints(txK)[0]), true);
  assertEquals(txL.vout.length, 2);
  const unspentNow: { txid: string; confirmations: number }[] = await call("listunspent", [0]);
  const added = txL.vin.find((i) => `${i.txid}:${i.vout}` !== outpoints(txK)[0])!;
  assertEquals(
    (await call("gettransaction", [added.txid])).confirmations > 0,
    true,
    "only a confirmed coin is added",
  );
  assertEquals(unspentNow.some((u) => u.txid === l.txid), true);

  // The change named by its index: it stays the change, to the same script.
  const m = await call("sendtoaddress", [external, 1]);
  const txM = await decoded(m);
  const mChange = txM.vout.findIndex((o) => o.scriptPubKey.address !== external);
  const n = await call("bumpfee", [m, { original_change_index: mChange }]);
  const txN = await decoded(n.txid);
  assertEquals(
    txN.vout.filter((o) => o.scriptPubKey.address !== external).map((o) => o.scriptPubKey.address),
    [txM.vout[mChange].scriptPubKey.address],
  );

  // Once mined, its inputs are gone: Core answers with the first of them.
  await call("generatetoaddress", [1, external]);
  // And B, mined, left the mempool: no longer a mempool conflict of A.
  assertEquals((await call("gettransaction", [a])).mempoolconflicts, []);
  const [first] = txC.vin;
  assertEquals(
    await call("bumpfee", [c.txid]),
    refused(-1, `${first.txid}:${first.vout} is already spent`),
  );

  // A child in the wallet, or one in the mempool the wallet does not know, holds a bump back.
  const f = await call("sendtoaddress", [external, 1]);
  const txF = await decoded(f);
  const changeVout = txF.vout.findIndex((o) => o.scriptPubKey.address !== external);
  const own = await call("getnewaddress", []);
  const child = await call("signrawtransactionwithwallet", [
    await call("createrawtransaction", [[{ txid: f, vout: changeVout }], {
      [own]: Number((txF.vout[changeVout].value - 0.001).toFixed(8)),
    }]),
  ]);
  await call("sendrawtransaction", [child.hex]);
  assertEquals(
    await call("bumpfee", [f]),
    refused(-8, "Transaction has descendants in the wallet"),
  );
  assertEquals(await call("createwallet", ["other"]), { name: "other" });
  const theirs = await call("getnewaddress", [], "other");
  const g = await call("sendtoaddress", [theirs, 1]);
  const txG = await decoded(g);
  const theirVout = txG.vout.findIndex((o) => o.scriptPubKey.address === theirs);
  const theirChild = await call("signrawtransactionwithwallet", [
    await call("createrawtransaction", [[{ txid: g, vout: theirVout }], { [external]: 0.999 }]),
  ], "other");
  await call("sendrawtransaction", [theirChild.hex]);
  assertEquals(
    await call("bumpfee", [g]),
    refused(-8, "Transaction has descendants in the mempool"),
  );

  // Arguments, as Core reads them.
  const h = await call("sendtoaddress", [external, 1]);
  assertEquals(
    await call("bumpfee", ["ff".repeat(32)]),
    refused(-5, "Invalid or non-wallet transaction id"),
  );
  assertEquals(
    await call("bumpfee", ["abc"]),
    refused(-8, "txid must be of length 64 (not 3, for 'abc')"),
  );
  assertEquals(await call("bumpfee", [h, { foo: 1 }]), refused(-3, "Unexpected key foo"));
  assertEquals(
    await call("bumpfee", [h, { fee_rate: 10, conf_target: 2 }]),
    refused(
      -8,
      "Cannot specify both conf_target and fee_rate. Please provide either a confirmation target in blocks for automatic fee estimation, or an explicit fee rate.",
    ),
  );
  assertEquals(
    await call("bumpfee", [h, { confTarget: 2, conf_target: 2 }]),
    refused(
      -8,
      "confTarget and conf_target options should not both be set. Use conf_target (confTarget is deprecated).",
    ),
  );
  assertEquals(
    await call("bumpfee", [h, { outputs: [] }]),
    refused(-8, "Invalid parameter, output argument cannot be an empty array"),
  );
  assertEquals(
    await call("bumpfee", [h, { outputs: [{ [external]: 0.5 }], original_change_index: 0 }]),
    refused(
      -8,
      "The options 'outputs' and 'original_change_index' are incompatible. You can only either specify a new set of outputs, or designate a change output to be recycled.",
    ),
  );
  assertEquals(
    await call("bumpfee", [h, { original_change_index: 9 }]),
    refused(-8, "Change position is out of range"),
  );
  assertEquals(
    await call("bumpfee", [h, { replaceable: 1 }]),
    refused(
      -3,
      "JSON value of type number for field replaceable is not of expected type bool",
    ),
  );
  // Named, as bitcoin-cli -named sends it (an option by its own name); in an options object the
  // deprecated confTarget is read as conf_target.
  const named = await target.node.raw(
    JSON.stringify({ id: 1, method: "bumpfee", params: { txid: h, conf_target: 3 } }),
    "/wallet/w",
  );
  assertEquals(named.body.error, null);
  assert(named.body.result.origfee < named.body.result.fee, JSON.stringify(named.body));
  const again = await call("bumpfee", [named.body.result.txid, { confTarget: 3 }]);
  assert(again.fee > named.body.result.fee, JSON.stringify(again));
  const unknown = await target.node.raw(
    JSON.stringify({ id: 1, method: "bumpfee", params: { txid: h, confTarget: 3 } }),
    "/wallet/w",
  );
  assertEquals(unknown.body.error, { code: -8, message: "Unknown named parameter confTarget" });

  // A wallet without private keys, and a locked one.
  assertEquals(await call("createwallet", ["watch", true]), { name: "watch" });
  assertEquals(
    await call("bumpfee", [h], "watch"),
    refused(
      -4,
      "bumpfee is not available with wallets that have private keys disabled. Use psbtbumpfee instead.",
    ),
  );
  await call("encryptwallet", ["secret"], "other");
  assertEquals(
    await call("bumpfee", [h], "other"),
    refused(-13, "Error: Please enter the wallet passphrase with walletpassphrase first."),
  );
  assertEquals(await target.health(), null);
});

Deno.test("psbtbumpfee: the replacement comes back as an unsigned PSBT, which signed replaces the original", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const external = target.context.addresses[4]; // not the wallet's
  const original = await call("sendtoaddress", [external, 1]);
  const origfee = -(await call("gettransaction", [original])).fee;
  const bumped = await call("psbtbumpfee", [original, { fee_rate: 50 }]);
  assertEquals(Object.keys(bumped), ["psbt", "origfee", "fee", "errors"]);
  assertEquals([bumped.origfee, bumped.errors], [origfee, []]);
  assert(bumped.fee > origfee, `${bumped.fee} over ${origfee}`);

  // Described for a signer, not signed, not sent: the original stays.
  const decoded = await call("decodepsbt", [bumped.psbt]);
  assertEquals(decoded.fee, bumped.fee);
  const spent = (await call("decoderawtransaction", [
    (await call("gettransaction", [original])).hex,
  ])).vin.map((i: { txid: string; vout: number }) => `${i.txid}:${i.vout}`);
  assertEquals(
    decoded.tx.vin.slice(0, spent.length).map((i: { txid: string; vout: number }) =>
      `${i.txid}:${i.vout}`
    ),
    spent,
    "the same inputs first",
  );
  for (const input of decoded.inputs) {
    assertEquals(input.partial_signatures, undefined);
    assertEquals(input.final_scriptwitness, undefined);
    assertEquals(input.bip32_derivs.length, 1);
  }
  const inMempool = async (txid: string) =>
    ((await call("getrawmempool")) as string[]).includes(txid);
  assertEquals(await inMempool(original), true);

  // Signed by the wallet and sent, it replaces the original at the new fee.
  const signed = await call("walletprocesspsbt", [bumped.psbt]);
  assertEquals(signed.complete, true);
  const replacement = await call("sendrawtransaction", [signed.hex]);
  assertEquals([await inMempool(replacement), await inMempool(original)], [true, false]);
  assertEquals((await call("getmempoolentry", [replacement])).fees.base, bumped.fee);

  // Locked, it refuses as bumpfee does.
  await call("encryptwallet", ["secret"]);
  assertEquals(await call("psbtbumpfee", [replacement]), {
    error: {
      code: -13,
      message: "Error: Please enter the wallet passphrase with walletpassphrase first.",
    },
  });
  assertEquals(await target.health(), null);
});
