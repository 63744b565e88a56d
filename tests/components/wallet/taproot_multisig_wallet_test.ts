/**
 * A watch-only taproot multisig wallet, as Bitcoin Core's multisig
 * tutorial runs it with `tr()`: three signers' account keys make a tree of
 * a `pk()` leaf and a 2-of-3 `multi_a()` leaf under an unspendable
 * internal key (BIP 341's NUMS point), a receiving and a change chain,
 * which a wallet without private keys imports active; another such
 * descriptor is imported to be watched over its range. The wallet hands
 * out the addresses, lists their coins as solvable, funds a PSBT whose
 * input and change output carry the tree's taproot fields, which are
 * checked against @scure/btc-signer's `p2tr` of the same tree; two
 * signers sign through the `multi_a()` leaf (one with its wallet's
 * walletprocesspsbt, one with the node's descriptorprocesspsbt and its
 * private descriptor), the node combines
 * and finalizes the PSBTs and relays and mines the spend; another tree is
 * signed by btc-signer, as an outside tool would. A node and wallet
 * processes over HTTP.
 *
 * @module
 */
import { schnorr } from "@noble/curves/secp256k1.js";
import { HDKey } from "@scure/bip32";
import { base64, hex } from "@scure/base";
import { p2tr, p2tr_ms, p2tr_pk } from "@scure/btc-signer";
import { tapLeafHash } from "@scure/btc-signer/payment.js";
import { assert, assertEquals } from "../../assert.ts";
import { readPsbt } from "../../../components/wallet/psbt.ts";
import { REGTEST, TEST_VERSIONS } from "../../../components/wallet/network.ts";
import { sats, startSigners, type WalletCall } from "./signers.ts";

/** BIP 341's unspendable internal key (`H`): a tree spent by its leaves alone. */
const NUMS = "50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0";

/** `[fp/86h/1h/0h]tpub…/0/*` → the x-only key at `index` of that chain. */
function chainXonly(chainKey: string, index: number): Uint8Array {
  const [, tpub, step] = /\]([a-zA-Z0-9]+)\/(\d)\/\*$/.exec(chainKey)!;
  const key = HDKey.fromExtendedKey(tpub, TEST_VERSIONS).deriveChild(Number(step));
  return key.deriveChild(index).publicKey!.subarray(1);
}

/** btc-signer's `p2tr` of the test's tree at `index`: `{pk(P),multi_a(2,A,B,C)}` under NUMS. */
function expectedTree(pkKey: string, multiKeys: string[], index: number) {
  const pk = p2tr_pk(chainXonly(pkKey, index)).script;
  const multi = p2tr_ms(2, multiKeys.map((key) => chainXonly(key, index))).script;
  return {
    pk,
    multi,
    payment: p2tr(hex.decode(NUMS), [{ script: pk }, { script: multi }], REGTEST),
  };
}

/** Hex strings of byte arrays, sorted: a comparison that ignores order. */
const sortedHex = (items: Uint8Array[]) => items.map((item) => hex.encode(item)).sort();

Deno.test("a watch-only tr(NUMS,{pk(),multi_a(2,…)}) wallet hands out bech32m addresses, funds a PSBT with the tree's taproot fields, and two signers' spend through the leaf is mined", async () => {
  const { target, call, node, external, chainKeys } = await startSigners();
  await using _target = target;
  const [trOut, trIn] = [await chainKeys("tr", false), await chainKeys("tr", true)];
  const [pkhOut, pkhIn] = [await chainKeys("pkh", false), await chainKeys("pkh", true)];
  const text = (pk: string, keys: string[]) =>
    `tr(${NUMS},{pk(${pk}),multi_a(2,${keys.join(",")})})`;
  const info = async (descriptor: string) =>
    (await node("getdescriptorinfo", [descriptor])).descriptor as string;
  const receiving = await info(text(pkhOut[0], trOut));
  const change = await info(text(pkhIn[0], trIn));
  // Watched only: signer 1's pkh() chain in the pk() leaf.
  const watched = await info(text(pkhOut[1], trOut));

  assertEquals(await call("createwallet", ["m", true, true]), { name: "m" });
  const imported = await call("importdescriptors", [[
    { desc: receiving, active: true, timestamp: "now" },
    { desc: change, active: true, internal: true, timestamp: "now" },
    { desc: watched, range: [0, 5], timestamp: "now" },
  ]], "m");
  const warning = "Range not given, using default keypool range";
  assertEquals(imported, [
    { success: true, warnings: [warning] },
    { success: true, warnings: [warning] },
    { success: true },
  ]);
  const { descriptors } = await call("listdescriptors", [], "m");
  assertEquals(
    descriptors.map((d: { desc: string; active: boolean; internal?: boolean; range: number[] }) => [
      d.desc,
      d.active,
      d.internal,
      d.range,
    ]).sort(),
    [
      [receiving, true, false, [0, 99]],
      [change, true, true, [0, 99]],
      [watched, false, undefined, [0, 5]],
    ].sort(),
  );

  // The receiving chain is the bech32m one; its address is the descriptor's, btc-signer's too.
  const address = await call("getnewaddress", ["", "bech32m"], "m");
  assertEquals(await node("deriveaddresses", [receiving, [0, 0]]), [address]);
  const expected = expectedTree(pkhOut[0], trOut, 0);
  assertEquals(address, expected.payment.address);
  const addressInfo = await call("getaddressinfo", [address], "m");
  assertEquals(
    [addressInfo.ismine, addressInfo.solvable, addressInfo.ischange, addressInfo.parent_desc],
    [true, true, false, receiving],
  );
  assertEquals([addressInfo.iswitness, addressInfo.witness_version], [true, 1]);
  assertEquals(addressInfo.hdkeypath, undefined, "no single key's metadata");
  // Core's inferred descriptor: x-only keys with their origins (NUMS's own fingerprint).
  const origin = String.raw`\[[0-9a-f]{8}\/(44|86)h\/1h\/0h\/0\/0\][0-9a-f]{64}`;
  assert(
    new RegExp(
      `^tr\\(\\[[0-9a-f]{8}\\]${NUMS},\\{(pk\\(${origin}\\),multi_a\\(2(,${origin}){3}\\)|multi_a\\(2(,${origin}){3}\\),pk\\(${origin}\\))\\}\\)#`,
    )
      .test(addressInfo.desc),
    addressInfo.desc,
  );
  assertEquals(await node("deriveaddresses", [addressInfo.desc]), [address]);

  // Paid, and a payment to the watched range's index 3: both listed solvable, with their descriptors.
  const [watchedAddress] = await node("deriveaddresses", [watched, [3, 3]]);
  await call("sendtoaddress", [address, 4]);
  await call("sendtoaddress", [watchedAddress, 0.5]);
  await node("generatetoaddress", [1, external]);
  assertEquals(await call("getbalance", [], "m"), 4.5);
  const coins = await call("listunspent", [], "m");
  const byAddress = (paid: string) => coins.find((c: { address: string }) => c.address === paid);
  assertEquals([byAddress(address).solvable, byAddress(address).desc], [true, addressInfo.desc]);
  const watchedInfo = await call("getaddressinfo", [watchedAddress], "m");
  assertEquals([watchedInfo.solvable, watchedInfo.parent_desc], [true, watched]);
  assertEquals(byAddress(watchedAddress).desc, watchedInfo.desc);
  // The descriptors inferred are the node's (scantxoutset infers them as Core's InferDescriptor).
  const scanned = await node("scantxoutset", ["start", [
    { desc: receiving, range: 2 },
    { desc: watched, range: 5 },
  ]]);
  assertEquals(
    scanned.unspents.map((u: { desc: string }) => u.desc).sort(),
    [addressInfo.desc, watchedInfo.desc].sort(),
  );

  // A PSBT from the receiving coin, change to the change chain.
  const to = await call("getnewaddress", [], "s2");
  const rate = 10;
  const funded = await call("walletcreatefundedpsbt", [
    [{ txid: byAddress(address).txid, vout: byAddress(address).vout }],
    [{ [to]: 1 }],
    0,
    { feeRate: rate / 1e5, add_inputs: false },
  ], "m");
  const psbt = readPsbt(base64.decode(funded.psbt));
  const input = psbt.getInput(0);
  assertEquals(hex.encode(input.tapInternalKey!), NUMS);
  assertEquals(hex.encode(input.tapMerkleRoot!), hex.encode(expected.payment.tapMerkleRoot));
  /** Leaves as comparable text: control block's version, internal key, path (sorted), script. */
  const leafScripts = (
    leaves: readonly [
      { version: number; internalKey: Uint8Array; merklePath: Uint8Array[] },
      Uint8Array,
    ][],
  ) =>
    leaves.map(([control, script]) =>
      JSON.stringify([
        control.version,
        hex.encode(control.internalKey),
        sortedHex(control.merklePath),
        hex.encode(script),
      ])
    ).sort();
  assertEquals(leafScripts(input.tapLeafScript!), leafScripts(expected.payment.tapLeafScript!));
  // Every key's origin, each leaf key with the leaf it sits in; NUMS with its own fingerprint.
  const [pkHash, multiHash] = [tapLeafHash(expected.pk), tapLeafHash(expected.multi)];
  const derivs = new Map(input.tapBip32Derivation!.map(([key, value]) => [hex.encode(key), value]));
  assertEquals(derivs.size, 5);
  assertEquals([derivs.get(NUMS)!.hashes.length, derivs.get(NUMS)!.der.path], [0, []]);
  const pkDeriv = derivs.get(hex.encode(chainXonly(pkhOut[0], 0)))!;
  assertEquals(sortedHex(pkDeriv.hashes), sortedHex([pkHash]));
  assertEquals(pkDeriv.der.path.slice(-2), [0, 0]);
  for (const key of trOut) {
    const deriv = derivs.get(hex.encode(chainXonly(key, 0)))!;
    assertEquals(sortedHex(deriv.hashes), sortedHex([multiHash]));
    assertEquals(deriv.der.fingerprint, parseInt(/^\[([0-9a-f]{8})/.exec(key)![1], 16));
    assertEquals(deriv.der.path, [0x80000056, 0x80000001, 0x80000000, 0, 0]);
  }
  // The change output: the change chain's tree at index 0.
  const changeTree = expectedTree(pkhIn[0], trIn, 0);
  const changeAt = funded.changepos as number;
  assertEquals(hex.encode(psbt.getOutput(changeAt).script!), hex.encode(changeTree.payment.script));
  const changeOutput = psbt.getOutput(changeAt);
  assertEquals(hex.encode(changeOutput.tapInternalKey!), NUMS);
  // In the descriptor's depth-first order, as Core's tap_tree writes the builder's leaves.
  assertEquals(
    changeOutput.tapTree!.map(({ depth, version, script }) => [depth, version, hex.encode(script)]),
    [[1, 0xc0, hex.encode(changeTree.pk)], [1, 0xc0, hex.encode(changeTree.multi)]],
  );
  assertEquals(changeOutput.tapBip32Derivation!.length, 5);
  const changeInfo = await call("getaddressinfo", [changeTree.payment.address], "m");
  assertEquals([changeInfo.ischange, changeInfo.solvable, changeInfo.parent_desc], [
    true,
    true,
    change,
  ]);

  // Signer 0's wallet holds the pk() leaf's key (its pkh() chain's) as well as one of the
  // multi_a() leaf's (its tr() chain's): as Core's FillPSBT, each of its descriptors deriving a
  // key the PSBT's taproot key origins list signs, and the pk() leaf alone completes the spend.
  const alone = await call("walletprocesspsbt", [funded.psbt], "s0");
  assertEquals(alone.complete, true);
  assertEquals((await node("testmempoolaccept", [[alone.hex]]))[0].allowed, true);
  // Signers 1 and 2 sign through the multi_a() leaf apart, as Core's tutorial has them: signer 1
  // with the node's descriptorprocesspsbt and its private descriptor, signer 2 with its wallet
  // (walletprocesspsbt finds its key by the PSBT's taproot key origins).
  const processed = [
    await node("descriptorprocesspsbt", [funded.psbt, [await signerDescriptor(call, "s1")]]),
    await call("walletprocesspsbt", [funded.psbt], "s2"),
  ];
  const signed = processed.map(({ psbt, complete }) => {
    assertEquals(complete, false);
    assertEquals(readPsbt(base64.decode(psbt)).getInput(0).tapScriptSig?.length, 1);
    return psbt;
  });
  // Deterministic, as Core's (no auxiliary randomness): signing again gives the same signature.
  assertEquals((await call("walletprocesspsbt", [funded.psbt], "s2")).psbt, signed[1]);
  const combined = await node("combinepsbt", [signed]);
  assertEquals(readPsbt(base64.decode(combined)).getInput(0).tapScriptSig?.length, 2);
  const finalized = await node("finalizepsbt", [combined]);
  assertEquals(finalized.complete, true);
  // The watch-only wallet finalizes it too, as Core's: through the multi_a() leaf, the two
  // signatures it holds (the pk() leaf has none), the same transaction as the node's.
  const byWallet = await call("walletprocesspsbt", [combined], "m");
  assertEquals(byWallet.complete, true);
  assertEquals(byWallet.hex, finalized.hex);
  const walletInput = readPsbt(base64.decode(byWallet.psbt)).getInput(0);
  assertEquals(walletInput.finalScriptWitness?.length, 5);
  const final = byWallet.hex;

  // Core's estimate weighs a key-path spend (TRDescriptor's MaxSatisfactionWeight): the fee pays
  // `rate` on that size; the leaf's witness (two signatures, a skipped key, script and control
  // block) is larger, so the spend pays less than `rate` as signed, as Core's would.
  const decoded = await node("decoderawtransaction", [final]);
  const witness = decoded.vin[0].txinwitness as string[];
  const witnessBytes = (items: string[]) =>
    1 + items.reduce((n, item) => n + 1 + item.length / 2, 0);
  const keyPathWeight = decoded.weight - witnessBytes(witness) + witnessBytes(["00".repeat(65)]);
  const estimated = sats(funded.fee) / Math.ceil(keyPathWeight / 4);
  assert(
    estimated >= rate && estimated <= rate * 1.03,
    `fee rate ${estimated} sat/vB as estimated`,
  );
  assert(sats(funded.fee) / decoded.vsize < rate, "a leaf's spend is larger than the key path's");
  assertEquals(witness.length, 5, "three signature slots, the script, the control block");
  await node("sendrawtransaction", [final]);
  await node("generatetoaddress", [1, external]);
  assertEquals(await call("getbalance", [], "s2"), 1);
  assertEquals(sats(await call("getbalance", [], "m")), sats(3.5) - sats(funded.fee));
  // The change is the wallet's: listed solvable, and it funds the next PSBT.
  const next = await call(
    "walletcreatefundedpsbt",
    [[], [{ [to]: 3 }], 0, { feeRate: rate / 1e5 }],
    "m",
  );
  assertEquals(readPsbt(base64.decode(next.psbt)).inputsLength >= 1, true);
});

/** Signer `signer`'s private receiving `tr()` descriptor, as listdescriptors shows it. */
async function signerDescriptor(call: WalletCall, signer: string): Promise<string> {
  const { descriptors } = await call("listdescriptors", [true], signer);
  return descriptors.find((d: { desc: string; internal: boolean }) =>
    d.desc.startsWith("tr(") && !d.internal
  ).desc;
}

/** The x-only key at `index` of signer `signer`'s chain key, with its private key. */
async function signerKey(call: WalletCall, signer: string, index: number): Promise<Uint8Array> {
  const tprv = /^tr\((tprv[a-zA-Z0-9]+)\//.exec(await signerDescriptor(call, signer))![1];
  return HDKey.fromExtendedKey(tprv, TEST_VERSIONS).derive(`m/86'/1'/0'/0/${index}`).privateKey!;
}

Deno.test("a watch-only tr(tpub…/0/*,{pkh(),{sortedmulti_a(1,…),pk()}}) chain: addresses and descriptors as the node's, the internal key's origin in the PSBT, kept across a reload, spent through the sortedmulti_a() leaf", async () => {
  const { target, call, node, external, chainKeys } = await startSigners();
  await using _target = target;
  const [tr, pkh, wpkh] = [
    await chainKeys("tr", false),
    await chainKeys("pkh", false),
    await chainKeys("wpkh", false),
  ];
  const receiving = (await node("getdescriptorinfo", [
    `tr(${tr[2]},{pkh(${pkh[0]}),{sortedmulti_a(1,${tr[0]},${tr[1]}),pk(${wpkh[2]})}})`,
  ])).descriptor;
  assertEquals(await call("createwallet", ["m", true, true]), { name: "m" });
  const [imported] = await call("importdescriptors", [[
    { desc: receiving, active: true, range: [0, 9], timestamp: "now" },
  ]], "m");
  assertEquals(imported, { success: true });
  const addresses = [
    await call("getnewaddress", ["", "bech32m"], "m"),
    await call("getnewaddress", ["", "bech32m"], "m"),
  ];
  assertEquals(await node("deriveaddresses", [receiving, [0, 1]]), addresses);
  await call("sendtoaddress", [addresses[1], 2]);
  await node("generatetoaddress", [1, external]);

  // Kept across a reload: the chain, its coin and its next address.
  assertEquals(await call("unloadwallet", [], "m"), {});
  assertEquals(await call("loadwallet", ["m"]), { name: "m" });
  assertEquals(await call("getbalance", [], "m"), 2);
  assertEquals(
    await call("getnewaddress", ["", "bech32m"], "m"),
    (await node("deriveaddresses", [receiving, [2, 2]]))[0],
  );
  const info = await call("getaddressinfo", [addresses[1]], "m");
  const scanned = await node("scantxoutset", ["start", [{ desc: receiving, range: 3 }]]);
  assertEquals(scanned.unspents.map((u: { desc: string }) => u.desc), [info.desc]);
  const [coin] = await call("listunspent", [], "m");
  assertEquals([coin.solvable, coin.desc], [true, info.desc]);
  // gethdkeys: each extended key of the tree, internal and leaves', with the descriptor.
  const tpub = (chainKey: string) => /\]([a-zA-Z0-9]+)\//.exec(chainKey)![1];
  const hdkeys = await call("gethdkeys", [], "m");
  assertEquals(
    hdkeys.map((k: { xpub: string }) => k.xpub).sort(),
    [tr[2], pkh[0], tr[0], tr[1], wpkh[2]].map(tpub).sort(),
  );
  for (const key of hdkeys) {
    assertEquals([key.has_private, key.descriptors], [false, [{ desc: receiving, active: true }]]);
  }

  const to = await call("getnewaddress", [], "s2");
  // No change chain: the whole coin to one payment, the fee taken from it.
  const funded = await call(
    "walletcreatefundedpsbt",
    [[], [{ [to]: 2 }], 0, { feeRate: 0.0001, subtractFeeFromOutputs: [0] }],
    "m",
  );
  const described = await call("walletprocesspsbt", [funded.psbt], "m");
  assertEquals(described.complete, false, "a watch-only wallet signs no leaf");
  const psbt = readPsbt(base64.decode(described.psbt));
  const input = psbt.getInput(0);
  assertEquals(
    input.tapLeafScript!.map(([control]) => control.merklePath.length).sort(),
    [1, 2, 2],
  );
  // The internal key: signer 2's, with its origin and no leaf.
  const internal = input.tapBip32Derivation!.find(([key]) =>
    hex.encode(key) === hex.encode(chainXonly(tr[2], 1))
  )!;
  assertEquals([internal[1].hashes.length, internal[1].der.path.slice(-2)], [0, [0, 1]]);
  assertEquals(input.tapBip32Derivation!.length, 5);

  // Signer 0's pkh() leaf, signed alone (as Core's signer would, the key its wallet's pkh() one):
  // the watch-only wallet finalizes it as the node does, the leaf's key being the wallet's to know.
  const byPkh = readPsbt(base64.decode(described.psbt));
  const pkhLeaf = byPkh.getInput(0).tapLeafScript!.find(([, script]) => script.length === 26)!;
  const pkhScript = pkhLeaf[1].subarray(0, -1);
  const spent = byPkh.getInput(0).witnessUtxo!;
  const digest = byPkh.preimageWitnessV1(
    0,
    [spent.script],
    0,
    [spent.amount],
    undefined,
    pkhScript,
    0xc0,
  );
  const tprv0 = /^tr\((tprv[a-zA-Z0-9]+)\//.exec(await signerDescriptor(call, "s0"))![1];
  const pkhSecret = HDKey.fromExtendedKey(tprv0, TEST_VERSIONS).derive("m/44'/1'/0'/0/1")
    .privateKey!;
  const pkhXonly = schnorr.getPublicKey(pkhSecret);
  assertEquals(hex.encode(pkhXonly), hex.encode(chainXonly(pkh[0], 1)));
  byPkh.updateInput(0, {
    tapScriptSig: [[
      { pubKey: pkhXonly, leafHash: tapLeafHash(pkhScript) },
      schnorr.sign(digest, pkhSecret),
    ]],
  });
  const pkhSigned = base64.encode(byPkh.toPSBT());
  // A signature that does not verify is not counted: not finalized.
  const forged = readPsbt(byPkh.toPSBT());
  forged.updateInput(0, { tapScriptSig: undefined }, true);
  forged.updateInput(0, {
    tapScriptSig: [[{ pubKey: pkhXonly, leafHash: tapLeafHash(pkhScript) }, new Uint8Array(64)]],
  });
  const refused = await call("walletprocesspsbt", [base64.encode(forged.toPSBT())], "m");
  assertEquals([refused.complete, refused.hex], [false, undefined]);
  const pkhFinal = await call("walletprocesspsbt", [pkhSigned], "m");
  assertEquals(pkhFinal.complete, true);
  // A key-path signature that does not verify, beside the leaf's: the leaf finalizes it.
  const withKeySig = readPsbt(byPkh.toPSBT());
  withKeySig.updateInput(0, { tapKeySig: new Uint8Array(64).fill(1) });
  const throughLeaf = await call("walletprocesspsbt", [base64.encode(withKeySig.toPSBT())], "m");
  assertEquals([throughLeaf.complete, throughLeaf.hex], [true, pkhFinal.hex]);
  assertEquals(pkhFinal.hex, (await node("finalizepsbt", [pkhSigned])).hex);
  const pkhWitness = (await node("decoderawtransaction", [pkhFinal.hex])).vin[0].txinwitness;
  assertEquals(pkhWitness.length, 4, "signature, key, pkh() script, control block");
  const [accepted] = await node("testmempoolaccept", [[pkhFinal.hex]]);
  assertEquals(accepted.allowed, true, accepted["reject-reason"]);

  // Signer 2 holds the internal key: its wallet signs the key path (not finalizing), and the
  // watch-only wallet finalizes through it, a one-signature witness.
  const byKey = await call(
    "walletprocesspsbt",
    [described.psbt, true, "DEFAULT", true, false],
    "s2",
  );
  assertEquals(readPsbt(base64.decode(byKey.psbt)).getInput(0).tapKeySig?.length, 64);
  const keyFinal = await call("walletprocesspsbt", [byKey.psbt], "m");
  assertEquals(keyFinal.complete, true);
  assertEquals((await node("decoderawtransaction", [keyFinal.hex])).vin[0].txinwitness.length, 1);
  const [keyAccepted] = await node("testmempoolaccept", [[keyFinal.hex]]);
  assertEquals(keyAccepted.allowed, true, keyAccepted["reject-reason"]);

  // Signer 0 alone completes the 1-of-2 leaf.
  psbt.signIdx(await signerKey(call, "s0", 1), 0);
  psbt.finalizeIdx(0);
  const spend = hex.encode(psbt.extract());
  await node("sendrawtransaction", [spend]);
  await node("generatetoaddress", [1, external]);
  assertEquals(sats(await call("getbalance", [], "s2")), sats(2) - sats(funded.fee));
  assertEquals(await call("getbalance", [], "m"), 0);
});

Deno.test("importdescriptors: a ranged tr() tree with a private key among public ones is taken by a wallet with private keys, with Core's warning", async () => {
  const { target, call } = await startSigners();
  await using _target = target;
  const { descriptors } = await call("listdescriptors", [true], "s0");
  const { desc } = descriptors.find((d: { desc: string; internal: boolean }) =>
    d.desc.startsWith("tr(") && !d.internal
  );
  const tprv = /^tr\((tprv[a-zA-Z0-9]+\/[^)]*)\)/.exec(desc)![1];
  const privateTree = `tr(${NUMS},pk(${tprv}))`;
  assertEquals(await call("createwallet", ["p", false, true]), { name: "p" });
  const taken = await call("importdescriptors", [[
    {
      desc: `${privateTree}#${(await call("getdescriptorinfo", [privateTree])).checksum}`,
      timestamp: "now",
    },
  ]], "p");
  assertEquals(taken, [{
    success: true,
    warnings: [
      "Range not given, using default keypool range",
      "Not all private keys provided. Some wallet functionality may return unexpected errors",
    ],
  }]);
});

Deno.test("importdescriptors: a tree of 201 keys without a range derives MAX_KEYPOOL keys' worth of scripts (49), for its default range, its top-ups, keypoolrefill and a watched range", async () => {
  const { target, call, node, external, chainKeys } = await startSigners();
  await using _target = target;
  const [trOut] = await chainKeys("tr", false);
  // 200 leaf keys: children 0 to 199 of signer 0's receiving chain key, each ranged below.
  const keys = Array.from({ length: 200 }, (_, k) => trOut.replace(/\/\*$/, `/${k}/*`));
  const text = (threshold: number) => `tr(${NUMS},multi_a(${threshold},${keys.join(",")}))`;
  const info = async (descriptor: string) =>
    (await node("getdescriptorinfo", [descriptor])).descriptor as string;
  const [active, watched] = [await info(text(1)), await info(text(2))];
  assertEquals(await call("createwallet", ["big", true, true]), { name: "big" });
  const bounded =
    "Range bounded to [0,48]: at most 10000 keys per descriptor, 49 scripts of 201 keys, below -keypool=100";
  assertEquals(
    await call("importdescriptors", [[
      { desc: active, active: true, timestamp: "now" },
      { desc: watched, timestamp: "now" },
    ]], "big"),
    [
      { success: true, warnings: ["Range not given, using default keypool range", bounded] },
      { success: true, warnings: ["Range not given, using default keypool range", bounded] },
    ],
  );
  const ranges = async () =>
    Object.fromEntries(
      (await call("listdescriptors", [], "big")).descriptors.map((
        d: { desc: string; range: number[] },
      ) => [d.desc, d.range]),
    );
  assertEquals(await ranges(), { [active]: [0, 48], [watched]: [0, 48] });
  assertEquals((await call("getwalletinfo", [], "big")).keypoolsize, 49);

  // An address handed out (topped up first, as Core's: one fewer), then a refill asking for
  // more: 49 past the next index.
  const address = await call("getnewaddress", ["", "bech32m"], "big");
  assertEquals(await node("deriveaddresses", [active, [0, 0]]), [address]);
  assertEquals((await call("getwalletinfo", [], "big")).keypoolsize, 48);
  assertEquals(await call("keypoolrefill", [200], "big"), null);
  assertEquals((await call("getwalletinfo", [], "big")).keypoolsize, 49);
  assertEquals((await ranges())[active], [0, 49]);

  // A coin to the watched range's index 0 moves its next index to 1, and its range to 49 past it.
  const [watchedAddress] = await node("deriveaddresses", [watched, [0, 0]]);
  await call("sendtoaddress", [watchedAddress, 1]);
  await node("generatetoaddress", [1, external]);
  assertEquals(await call("getbalance", [], "big"), 1);
  assertEquals((await ranges())[watched], [0, 49]);

  // A range given past the bound is refused, naming it.
  const [refused] = await call("importdescriptors", [[
    { desc: watched, range: [0, 49], timestamp: "now" },
  ]], "big");
  assertEquals(refused.error, {
    code: -8,
    message: "Range is too large for this wallet: at most 49 scripts per descriptor of 201 keys",
  });
});

Deno.test("importdescriptors: a multipath tr(NUMS,{pk(A/<0;1>/*),multi_a(1,A/<0;1>/*,B/<0;1>/*)}) is a receiving and a change chain, as the node derives them; A's origin in a PSBT names both its leaves", async () => {
  const { target, call, node, external, chainKeys } = await startSigners();
  await using _target = target;
  const [a, b] = await chainKeys("tr", false);
  const multipath = (key: string) => key.replace(/\/0\/\*$/, "/<0;1>/*");
  const [A, B] = [multipath(a), multipath(b)];
  const text = `tr(${NUMS},{pk(${A}),multi_a(1,${A},${B})})`;
  // getdescriptorinfo's descriptor is the first path's, as Core's; its checksum the text's.
  const descriptor = `${text}#${(await node("getdescriptorinfo", [text])).checksum}`;
  assertEquals(await call("createwallet", ["mp", true, true]), { name: "mp" });
  const [imported] = await call("importdescriptors", [[
    { desc: descriptor, active: true, range: [0, 4], timestamp: "now" },
  ]], "mp");
  assertEquals(imported, { success: true });
  const { descriptors } = await call("listdescriptors", [], "mp");
  const [receiving, change] = [false, true].map((internal) =>
    descriptors.find((d: { internal: boolean }) => d.internal === internal)
  );
  assertEquals([receiving.active, change.active], [true, true]);
  const derived = await node("deriveaddresses", [descriptor, [0, 1]]);
  assertEquals(derived.length, 2, "the node's two paths");
  const address = await call("getnewaddress", ["", "bech32m"], "mp");
  const changeAddress = await call("getrawchangeaddress", ["bech32m"], "mp");
  assertEquals([address, changeAddress], [derived[0][0], derived[1][0]]);
  assertEquals(await node("deriveaddresses", [receiving.desc, [0, 0]]), [address]);
  assertEquals(await node("deriveaddresses", [change.desc, [0, 0]]), [changeAddress]);

  await call("sendtoaddress", [address, 1]);
  await node("generatetoaddress", [1, external]);
  const to = await call("getnewaddress", [], "s2");
  const funded = await call(
    "walletcreatefundedpsbt",
    [[], [{ [to]: 0.5 }], 0, { feeRate: 0.0001 }],
    "mp",
  );
  const input = readPsbt(base64.decode(funded.psbt)).getInput(0);
  const leafHashes = input.tapLeafScript!.map(([, script]) =>
    hex.encode(tapLeafHash(script.subarray(0, -1), script[script.length - 1]))
  );
  assertEquals(leafHashes.length, 2);
  const origins = new Map(
    input.tapBip32Derivation!.map(([key, { hashes }]) => [hex.encode(key), sortedHex(hashes)]),
  );
  // A, in both leaves, once with both leaf hashes; B in the multi_a() leaf alone; NUMS in none.
  assertEquals(origins.get(hex.encode(chainXonly(a, 0))), [...leafHashes].sort());
  const multiHash = hex.encode(
    tapLeafHash(p2tr_ms(1, [chainXonly(a, 0), chainXonly(b, 0)]).script),
  );
  assertEquals(origins.get(hex.encode(chainXonly(b, 0))), [multiHash]);
  assertEquals(origins.get(NUMS), []);
  assertEquals(origins.size, 3);
});
