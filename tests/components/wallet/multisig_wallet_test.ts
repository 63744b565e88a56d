/**
 * A watch-only multisig wallet, as Bitcoin Core's
 * `wallet_multisig_descriptor_psbt.py` and its multisig tutorial run it:
 * three signers' extended keys (`listdescriptors`' `pkh()` ones, with their
 * origins) make a 2-of-3 `wsh(sortedmulti())` of a receiving and a change
 * chain, each participant imports both into a wallet without private keys,
 * and the wallets agree on its addresses. The multisig wallet funds a
 * PSBT; two signers sign it apart (then `combinepsbt` and `finalizepsbt`)
 * or one after the other, and the node relays and mines it. A node and
 * wallet processes over HTTP.
 *
 * @module
 */
import { base64 } from "@scure/base";
import { assert, assertEquals } from "../../assert.ts";
import { readPsbt } from "../../../components/wallet/psbt.ts";
import { relayPaying, sats, startSigners } from "./signers.ts";

Deno.test("a 2-of-3 wsh(sortedmulti()) watch-only wallet hands out addresses, funds a PSBT and spends it with two signers' walletprocesspsbt", async () => {
  const { target, call, node, external, chainKeys } = await startSigners();
  await using _target = target;
  const multisigs = ["m0", "m1", "m2"];
  // Each signer's pkh() account key, as Core's test takes them.
  const receiving = `wsh(sortedmulti(2,${(await chainKeys("pkh", false)).join(",")}))`;
  const change = `wsh(sortedmulti(2,${(await chainKeys("pkh", true)).join(",")}))`;
  for (const name of multisigs) {
    assertEquals(await call("createwallet", [name, true, true]), { name });
    const [outside, inside] = await Promise.all(
      [receiving, change].map(async (text) =>
        (await call("getdescriptorinfo", [text], name)).descriptor
      ),
    );
    // Not Core's bound: at most 10,000 keys derived per import, here 3 per script.
    const tooLong = await call("importdescriptors", [[
      { desc: outside, active: true, range: [0, 3333], timestamp: "now" },
    ]], name);
    assertEquals(tooLong[0].error, {
      code: -8,
      message: "Range is too large for this wallet: at most 3333 scripts per descriptor of 3 keys" +
        ", an active one's from index 0",
    });
    const imported = await call("importdescriptors", [[
      { desc: outside, active: true, timestamp: "now" },
      { desc: inside, active: true, internal: true, timestamp: "now" },
    ]], name);
    const warning = "Range not given, using default keypool range";
    assertEquals(imported, [0, 1].map(() => ({ success: true, warnings: [warning] })));
    const { descriptors } = await call("listdescriptors", [], name);
    assertEquals(
      descriptors.map((d: { desc: string; active: boolean; internal: boolean }) => [
        d.desc,
        d.active,
        d.internal,
      ]).sort(),
      [[outside, true, false], [inside, true, true]].sort(),
    );
  }
  const addresses = await Promise.all(multisigs.map((name) => call("getnewaddress", [], name)));
  assertEquals(new Set(addresses).size, 1, "every participant derives the same address");
  const [address] = addresses;
  assert(address.startsWith("bcrt1q") && address.length === 64, address);
  const info = await call("getaddressinfo", [address], "m0");
  assertEquals([info.ismine, info.solvable, info.ischange], [true, true, false]);
  assertEquals([info.script, info.sigsrequired, info.pubkeys.length], ["multisig", 2, 3]);
  assert(
    /^wsh\(multi\(2,(\[[0-9a-f]{8}\/44h\/1h\/0h\/0\/0\][0-9a-f]{66},?){3}\)\)#/.test(info.desc),
  );
  assertEquals(await node("deriveaddresses", [info.desc]), [address]);
  assertEquals(info.hdkeypath, undefined, "no single key's metadata");

  // Funded from another wallet: every participant's multisig wallet sees it.
  const deposit = 6.15;
  await call("sendtoaddress", [address, deposit]);
  await node("generatetoaddress", [1, external]);
  for (const name of multisigs) assertEquals(await call("getbalance", [], name), deposit);
  const [coin] = await call("listunspent", [], "m1");
  assertEquals([coin.solvable, coin.witnessScript, coin.desc], [true, info.hex, info.desc]);

  /** A PSBT of the multisig wallet paying `value` to signer 2, checked as Core's _check_psbt. */
  const fundedPsbt = async (to: string, value: number) => {
    const funded = await call(
      "walletcreatefundedpsbt",
      [[], [{ [to]: value }], 0, { feeRate: 0.0001 }],
      "m0",
    );
    const decoded = await node("decodepsbt", [funded.psbt]);
    for (const output of decoded.tx.vout) {
      const paid = output.scriptPubKey.address;
      const { ischange } = await call("getaddressinfo", [paid], "m2");
      assertEquals(ischange, paid !== to);
    }
    for (const input of decoded.inputs) {
      // The witness script of the coin spent: its P2WSH address is the coin's.
      const { segwit } = await node("decodescript", [input.witness_script.hex]);
      assertEquals(segwit.address, input.witness_utxo.scriptPubKey.address);
      assertEquals(input.bip32_derivs.length, 3, "every key's origin, for the signers");
    }
    return { ...funded, decoded };
  };
  const to = await call("getnewaddress", [], "s2");
  const apart = await fundedPsbt(to, 1);
  const psbts = await Promise.all(
    ["s0", "s1"].map(async (signer) => {
      const signed = await call("walletprocesspsbt", [apart.psbt], signer);
      assertEquals(signed.complete, false);
      return signed.psbt;
    }),
  );
  // A signature that does not verify is not counted: the input is not finalized.
  const forged = readPsbt(base64.decode(psbts[1]));
  for (let i = 0; i < forged.inputsLength; i++) {
    const partialSig = forged.getInput(i).partialSig!.map(([key, signature]) => {
      const bad = signature.slice();
      bad[10] ^= 1; // within r: still DER
      return [key, bad] as [Uint8Array, Uint8Array];
    });
    forged.updateInput(i, { partialSig: undefined }, true);
    forged.updateInput(i, { partialSig }, true);
  }
  const withForged = await node("combinepsbt", [[psbts[0], base64.encode(forged.toPSBT())]]);
  assertEquals((await call("walletprocesspsbt", [withForged], "m1")).complete, false);
  assertEquals((await node("finalizepsbt", [withForged])).complete, false);

  const combined = await node("combinepsbt", [psbts]);
  const finalized = await node("finalizepsbt", [combined]);
  assertEquals(finalized.complete, true);
  // The multisig wallet finalizes its own input alike once it holds enough signatures.
  const byWallet = await call("walletprocesspsbt", [combined], "m1");
  assertEquals([byWallet.complete, byWallet.hex], [true, finalized.hex]);
  await relayPaying(node, external, finalized.hex, apart.fee, 10);
  assertEquals(await call("getbalance", [], "s2"), 1);
  const left = sats(deposit) - sats(1) - sats(apart.fee);
  for (const name of multisigs) assertEquals(sats(await call("getbalance", [], name)), left);
  const changeAddress =
    apart.decoded.tx.vout.find((output: { scriptPubKey: { address: string } }) =>
      output.scriptPubKey.address !== to
    ).scriptPubKey.address;
  const changeInfo = await call("getaddressinfo", [changeAddress], "m1");
  assertEquals([changeInfo.ischange, changeInfo.solvable], [true, true]);
  assert(changeInfo.desc.includes("/0h/1/0]"), changeInfo.desc);

  // One signer after the other: the second completes it.
  const chained = await fundedPsbt(to, 1);
  const first = await call("walletprocesspsbt", [chained.psbt], "s1");
  assertEquals(first.complete, false);
  const second = await call("walletprocesspsbt", [first.psbt], "s2");
  assertEquals(second.complete, true);
  await relayPaying(node, external, second.hex, chained.fee, 10);
  assertEquals(await call("getbalance", [], "s2"), 2);
  const rest = left - sats(1) - sats(chained.fee);
  assertEquals(sats(await call("getbalance", [], "m2")), rest);

  // Kept across a reload: its chains, coins and next address.
  assertEquals(await call("unloadwallet", [], "m0"), {});
  assertEquals(await call("loadwallet", ["m0"]), { name: "m0" });
  assertEquals(sats(await call("getbalance", [], "m0")), rest);
  assertEquals(await call("getnewaddress", [], "m0"), await call("getnewaddress", [], "m1"));
});

Deno.test("a 2-of-3 multisig wallet's legacy sh(), p2sh-segwit sh(wsh()) and bech32 wsh() addresses are Core's, and a spend of all three pays Core's fee", async () => {
  const { target, call, node, external, chainKeys } = await startSigners();
  await using _target = target;
  const multi = `multi(2,${(await chainKeys("wpkh", false)).join(",")})`;
  const wrapped = {
    legacy: `sh(${multi})`,
    "p2sh-segwit": `sh(wsh(${multi}))`,
    bech32: `wsh(${multi})`,
  };
  assertEquals(await call("createwallet", ["m", true, true]), { name: "m" });
  const requests = await Promise.all(
    Object.values(wrapped).map(async (text) => ({
      desc: (await node("getdescriptorinfo", [text])).descriptor,
      active: true,
      range: [0, 4],
      timestamp: "now",
    })),
  );
  const imported = await call("importdescriptors", [requests], "m");
  assertEquals(imported.map((result: { success: boolean }) => result.success), [true, true, true]);

  for (const [type, text] of Object.entries(wrapped)) {
    const address = await call("getnewaddress", ["", type], "m");
    const desc = (await node("getdescriptorinfo", [text])).descriptor;
    assertEquals(await node("deriveaddresses", [desc, [0, 0]]), [address], type);
    const info = await call("getaddressinfo", [address], "m");
    assertEquals(await node("deriveaddresses", [info.desc]), [address]);
    const multisig = type === "p2sh-segwit" ? info.embedded : info;
    assertEquals([multisig.script, multisig.sigsrequired, multisig.pubkeys.length], [
      "multisig",
      2,
      3,
    ]);
    if (type === "p2sh-segwit") {
      assertEquals([info.script, info.embedded.iswitness], ["witness_v0_scripthash", true]);
    }
    await call("sendtoaddress", [address, 1]);
  }
  await node("generatetoaddress", [1, external]);
  assertEquals(await call("getbalance", [], "m"), 3);

  // No change chain: all three coins to one payment, the fee taken from it.
  const funded = await call(
    "walletcreatefundedpsbt",
    [[], [{ [external]: 3 }], 0, { feeRate: 0.0002, subtractFeeFromOutputs: [0] }],
    "m",
  );
  const decoded = await node("decodepsbt", [funded.psbt]);
  assertEquals(decoded.inputs.length, 3);
  // Core's MaxInputWeight with 72-byte signatures (this wallet has no private keys), for a 2-of-3
  // whose multisig script is 105 bytes: the dummy and two signatures are 1 + 2 × 73 bytes.
  const satisfaction = 1 + 2 * 73;
  const inputWeights = {
    // The scriptSig: satisfaction, the script with one length byte (Core's SHDescriptor), its length
    // in three bytes (253); one byte for its empty witness in a segwit transaction.
    legacy: (40 + 3 + satisfaction + 1 + 105) * 4 + 1,
    // The scriptSig pushes the P2WSH script; the witness: 4 items, satisfaction, the script.
    "p2sh-segwit": (40 + 1 + 35) * 4 + 1 + satisfaction + 1 + 105,
    bech32: (40 + 1) * 4 + 1 + satisfaction + 1 + 105,
  };
  const output = decoded.tx.vout[0].scriptPubKey.hex.length / 2;
  // Version, input and output counts and locktime, the segwit marker and flag, the output.
  const weight = (4 + 1 + 1 + 4) * 4 + 2 + (8 + 1 + output) * 4 +
    Object.values(inputWeights).reduce((sum, w) => sum + w, 0);
  assertEquals(sats(funded.fee), 20 * Math.ceil(weight / 4));

  // Signed apart, then finalized by the multisig wallet as the node's finalizepsbt does it.
  const [first, second] = await Promise.all(
    ["s0", "s2"].map((signer) => call("walletprocesspsbt", [funded.psbt], signer)),
  );
  assertEquals([first.complete, second.complete], [false, false]);
  const combined = await node("combinepsbt", [[first.psbt, second.psbt]]);
  const finalized = await call("walletprocesspsbt", [combined], "m");
  assertEquals(finalized.complete, true);
  assertEquals(finalized.hex, (await node("finalizepsbt", [combined])).hex);
  await relayPaying(node, external, finalized.hex, funded.fee, 20);
  assertEquals(await call("getbalance", [], "m"), 0);
});
