/**
 * A 2-of-2 multisig through PSBTs against a real node process over HTTP,
 * as Bitcoin Core's multisig tutorial runs it with descriptors: the
 * address from `deriveaddresses` of a `wsh(sortedmulti())` descriptor with
 * key origins; `utxoupdatepsbt` adding the witness UTXO, the witness
 * script and both keys' origins from the descriptor; `analyzepsbt` naming
 * the signatures still missing; each signer's partial signature (made with `@scure/btc-signer` from what the PSBT holds);
 * `combinepsbt`, `finalizepsbt`, and the transaction relayed and mined;
 * then the same with `descriptorprocesspsbt`, each signer giving its
 * private descriptor. Then taproot script trees,
 * `tr(KEY,{pk(A),multi_a(2,B,C,D)})`, as Core's `SignTaproot` handles
 * them: `utxoupdatepsbt` describing the input and an output paying to one
 * (merkle root, control blocks and address checked against
 * `@scure/btc-signer`'s own tree), a key-path spend with the internal key's
 * private key, and with the NUMS point inside, script-path signatures of
 * two `multi_a()` signers combined, finalized and mined, a signer of
 * both leaves finalizing the smaller, and a `pkh()` leaf signed, finalized
 * and mined.
 *
 * @module
 */
import { base64, hex } from "@scure/base";
import { HDKey } from "@scure/bip32";
import { OutScript, p2tr, p2tr_ms, p2tr_pk, Transaction } from "@scure/btc-signer";
import { tapLeafHash } from "@scure/btc-signer/payment.js";
import { TaprootControlBlock } from "@scure/btc-signer/psbt.js";
import { compareBytes, tagSchnorr, taprootTweakPubkey } from "@scure/btc-signer/utils.js";
import { assert, assertEquals } from "../../../assert.ts";
import { type RealNode, rejects, startRealNode } from "../real_node.ts";
import { signTx, TestKey } from "../chain/chain_helpers.ts";
import {
  decodeDestination,
  encodeSecret,
  encodeTx,
  hash160,
  hashFromHex,
  scriptToAddress,
} from "../../../../components/node/chain/mod.ts";

const miner = new TestKey(31);
const signers = [new TestKey(32), new TestKey(33)];
const OPTIONS = { unknown: "ignore", allowUnknownOutputs: true } as const;

/** The output script of an address this node gave. */
function destination(address: string): Uint8Array {
  const decoded = decodeDestination(address);
  if (!decoded.ok) throw new Error(`not an address: ${address}`);
  return decoded.script;
}

const ORIGINS = ["aaaaaaaa", "bbbbbbbb"];

/** `[origin/48h/1h/0h/2h]KEY` of each signer: its public key, or its WIF when `secret` is its index. */
function multisigDescriptor(secret?: number): string {
  const keys = signers.map((signer, i) =>
    `[${ORIGINS[i]}/48h/1h/0h/2h]${
      i === secret
        ? encodeSecret({ key: signer.secret, compressed: true })
        : hex.encode(signer.publicKey)
    }`
  );
  return `wsh(sortedmulti(2,${keys.join(",")}))`;
}

/**
 * Mines a spendable coinbase to `miner`, pays 10 BTC from it to each of
 * `scripts` (in order, `miner`'s change last) and confirms the payment.
 * Returns its txid.
 */
async function payTo(call: RealNode["call"], scripts: readonly Uint8Array[]): Promise<string> {
  const [first] = await call("generatetoaddress", [1, scriptToAddress(miner.wpkh)]);
  await call("generatetoaddress", [100, scriptToAddress(miner.wpkh)]);
  const coinbase = (await call("getblock", [first])).tx[0];
  const funding = signTx([{
    outpoint: { txid: hashFromHex(coinbase), index: 0 },
    amount: 50_0000_0000n,
    script: miner.wpkh,
    key: miner,
  }], [
    ...scripts.map((script) => ({ script, amount: 10_0000_0000n })),
    {
      script: miner.wpkh,
      amount: 50_0000_0000n - 10_0000_0000n * BigInt(scripts.length) - 10_000n,
    },
  ]);
  const fundingId = await call("sendrawtransaction", [hex.encode(encodeTx(funding))]);
  await call("generatetoaddress", [1, scriptToAddress(miner.wpkh)]);
  return fundingId;
}

/** `text` with its checksum. */
async function checksummed(call: RealNode["call"], text: string): Promise<string> {
  return `${text}#${(await call("getdescriptorinfo", [text])).checksum}`;
}

/** Sends `hex`, mines a block, and checks the block holds it. */
async function relayedAndMined(call: RealNode["call"], hex: string): Promise<void> {
  const sent = await call("sendrawtransaction", [hex]);
  const [mined] = await call("generatetoaddress", [1, scriptToAddress(miner.wpkh)]);
  assert((await call("getblock", [mined])).tx.includes(sent), "the transaction is mined");
}

/**
 * A node whose chain pays 10 BTC to the 2-of-2 and 1 BTC to `miner`'s P2WPKH,
 * both confirmed, and a PSBT spending the 2-of-2.
 */
async function fundedMultisig() {
  const node = await startRealNode();
  const call = node.call;
  const { descriptor } = await call("getdescriptorinfo", [multisigDescriptor()]);
  const [address] = await call("deriveaddresses", [descriptor]);
  assert(address.startsWith("bcrt1q") && address.length === 64, address);
  const fundingId = await payTo(call, [destination(address)]);
  const unsigned = await call("createpsbt", [[{ txid: fundingId, vout: 0 }], [{
    [scriptToAddress(miner.wpkh)!]: 9.9999,
  }]]);
  const withChecksum = (text: string) => checksummed(call, text);
  const relayAndMine = (hex: string) => relayedAndMined(call, hex);
  return { node, call, descriptor, fundingId, unsigned, withChecksum, relayAndMine };
}

Deno.test("multisig PSBT: a wsh(sortedmulti()) address funded, updated from its descriptor, signed by two signers, combined, finalized and mined", async () => {
  const { node, call, descriptor, unsigned, relayAndMine } = await fundedMultisig();
  await using _node = node;
  const updated = await call("utxoupdatepsbt", [unsigned, [descriptor]]);
  const [input] = (await call("decodepsbt", [updated])).inputs;
  assertEquals(input.witness_utxo, { amount: 10, scriptPubKey: input.witness_utxo.scriptPubKey });
  assertEquals(input.witness_script.type, "multisig");
  const sortedKeys = signers.map((signer) => hex.encode(signer.publicKey)).sort();
  assertEquals(
    input.witness_script.asm,
    `2 ${sortedKeys.join(" ")} 2 OP_CHECKMULTISIG`,
  );
  assertEquals(
    input.bip32_derivs.map((
      d: { pubkey: string; master_fingerprint: string; path: string },
    ) => [d.pubkey, d.master_fingerprint, d.path]).sort(),
    signers.map((signer, i) => [hex.encode(signer.publicKey), ORIGINS[i], "m/48h/1h/0h/2h"])
      .sort(),
  );

  // analyzepsbt: both signatures missing, named by key id.
  const keyIds = signers.map((signer) => hex.encode(hash160(signer.publicKey)));
  const missing = async (psbt: string) => (await call("analyzepsbt", [psbt])).inputs[0];
  assertEquals((await missing(updated)).missing.signatures.sort(), keyIds.toSorted());
  // Each signer signs its own copy with what the PSBT holds.
  const halves = signers.map((signer) => {
    const tx = Transaction.fromPSBT(base64.decode(updated), OPTIONS);
    tx.signIdx(signer.secret, 0);
    return base64.encode(tx.toPSBT(0));
  });
  const one = await call("finalizepsbt", [halves[0]]);
  assertEquals(one.complete, false);
  assertEquals((await missing(halves[0])).missing.signatures, [keyIds[1]]);
  const combined = await call("combinepsbt", [halves]);
  assertEquals((await missing(combined)).next, "finalizer");
  const final = await call("finalizepsbt", [combined]);
  assertEquals(final.complete, true);
  assertEquals((await call("testmempoolaccept", [[final.hex]]))[0].allowed, true);
  await relayAndMine(final.hex);
});

Deno.test("descriptorprocesspsbt: each signer's private descriptor adds its signature; the second completes, finalizes and extracts the transaction; Core's options and errors", async () => {
  const { node, call, descriptor, fundingId, unsigned, withChecksum, relayAndMine } =
    await fundedMultisig();
  await using _node = node;
  const first = await call("descriptorprocesspsbt", [
    unsigned,
    [await withChecksum(multisigDescriptor(0))],
  ]);
  assertEquals(Object.keys(first), ["psbt", "complete"]);
  assertEquals(first.complete, false);
  const [half] = (await call("decodepsbt", [first.psbt])).inputs;

  assertEquals(half.partial_signatures !== undefined, true);
  assertEquals(Object.keys(half.partial_signatures), [hex.encode(signers[0].publicKey)]);
  assertEquals(half.bip32_derivs.length, 2);
  assertEquals(half.witness_script.type, "multisig");
  // The public descriptor signs nothing; the other signer's completes it.
  assertEquals((await call("descriptorprocesspsbt", [first.psbt, [descriptor]])).complete, false);
  const second = await call("descriptorprocesspsbt", {
    psbt: first.psbt,
    descriptors: [{ desc: await withChecksum(multisigDescriptor(1)) }],
  });
  assertEquals(Object.keys(second), ["psbt", "complete", "hex"]);
  assertEquals(second.complete, true);
  const [final] = (await call("decodepsbt", [second.psbt])).inputs;
  assertEquals(final.final_scriptwitness.length, 4); // dummy, two signatures, witness script

  // Without finalize, both signatures stay partial; without bip32derivs, no key origins.
  const both = [multisigDescriptor(0), multisigDescriptor(1)];
  const kept = await call("descriptorprocesspsbt", [
    unsigned,
    await Promise.all(both.map(withChecksum)),
    "ALL",
    false,
    false,
  ]);
  assertEquals(kept.complete, false);
  const [partial] = (await call("decodepsbt", [kept.psbt])).inputs;

  assertEquals(Object.keys(partial.partial_signatures).length, 2);
  assertEquals(partial.bip32_derivs, undefined);
  assertEquals(partial.final_scriptwitness, undefined);
  // A sighash the PSBT does not hold, once it holds one, is refused (-22); a bad name (-8).
  const single = await call("descriptorprocesspsbt", [
    unsigned,
    [await withChecksum(multisigDescriptor(0))],
    "SINGLE",
  ]);
  await rejects(
    call("descriptorprocesspsbt", [single.psbt, [await withChecksum(multisigDescriptor(1))]]),
    -22,
    "Specified sighash value does not match value stored in PSBT",
  );
  await rejects(
    call("descriptorprocesspsbt", [unsigned, [descriptor], "EVERYTHING"]),
    -8,
    "'EVERYTHING' is not a valid sighash parameter.",
  );
  // One key's descriptor completes a P2WPKH spend alone.
  const change = await call("createpsbt", [[{ txid: fundingId, vout: 1 }], [{
    [scriptToAddress(signers[0].wpkh)!]: 39.999,
  }]]);
  const minerWif = encodeSecret({ key: miner.secret, compressed: true });
  const alone = await call("descriptorprocesspsbt", [change, [
    await withChecksum(`wpkh(${minerWif})`),
  ]]);
  assertEquals(alone.complete, true);
  assertEquals((await call("testmempoolaccept", [[alone.hex]]))[0].allowed, true);
  // The transaction the second signer completed is relayed and mined.
  await relayAndMine(second.hex);
});

Deno.test("descriptorprocesspsbt signs as Core's SignPSBTInput: with the scripts the PSBT holds, never a legacy input told by its witness UTXO alone, never beside a signature of another sighash", async () => {
  const { node, call, descriptor, unsigned, withChecksum } = await fundedMultisig();
  await using _node = node;
  const wifs = signers.map((signer) => encodeSecret({ key: signer.secret, compressed: true }));

  // The witness script from utxoupdatepsbt; the keys alone then sign and complete it.
  const updated = await call("utxoupdatepsbt", [unsigned, [descriptor]]);
  const byKeys = await call("descriptorprocesspsbt", [
    updated,
    await Promise.all(wifs.map((wif) => withChecksum(`pk(${wif})`))),
  ]);
  assertEquals(byKeys.complete, true);
  assertEquals((await call("testmempoolaccept", [[byKeys.hex]]))[0].allowed, true);

  // A P2PKH input told by a witness UTXO alone: its amount could lie, so it is not signed.
  const legacy = new Transaction({ ...OPTIONS, allowLegacyWitnessUtxo: true });
  legacy.addInput({
    txid: new Uint8Array(32).fill(4),
    index: 0,
    witnessUtxo: { script: signers[0].pkh, amount: 1_000_000n },
  });
  legacy.addOutput({ script: miner.wpkh, amount: 900_000n });
  const refused = await call("descriptorprocesspsbt", [
    base64.encode(legacy.toPSBT(0)),
    [await withChecksum(`pkh(${wifs[0]})`)],
  ]);
  assertEquals(refused.complete, false);
  assertEquals((await call("decodepsbt", [refused.psbt])).inputs[0].partial_signatures, undefined);

  // A signature of NONE held without the PSBT's sighash field: signing with ALL beside it is refused.
  const none = await call("descriptorprocesspsbt", [
    unsigned,
    [await withChecksum(multisigDescriptor(0))],
    "NONE",
    true,
    false,
  ]);
  const stripped = Transaction.fromPSBT(base64.decode(none.psbt), OPTIONS);
  assertEquals(stripped.getInput(0).sighashType, 2);
  stripped.updateInput(0, { sighashType: undefined }, true);
  await rejects(
    call("descriptorprocesspsbt", [
      base64.encode(stripped.toPSBT(0)),
      [await withChecksum(multisigDescriptor(1))],
    ]),
    -22,
    "Specified sighash value does not match value stored in PSBT",
  );

  // A pay-to-anchor input is no taproot one: its ALL is the default, not a mismatch.
  const anchor = new Transaction(OPTIONS);
  anchor.addInput({
    txid: new Uint8Array(32).fill(5),
    index: 0,
    witnessUtxo: { script: Uint8Array.of(0x51, 0x02, 0x4e, 0x73), amount: 240n },
    sighashType: 1,
  });
  anchor.addOutput({ script: miner.wpkh, amount: 200n });
  assertEquals(
    (await call("descriptorprocesspsbt", [base64.encode(anchor.toPSBT(0)), []])).complete,
    false,
  );
});

const VERSIONS = { private: 0x04358394, public: 0x043587cf };
const REGTEST = { bech32: "bcrt", pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
/** The extended keys of a script tree: the internal key, A (a `pk()` leaf), B, C, D (`multi_a(2,…)`). */
const [INTERNAL, A, B, C, D] = [41, 42, 43, 44, 45].map((n) =>
  HDKey.fromMasterSeed(new Uint8Array(32).fill(n), VERSIONS)
);
/** BIP 341's NUMS point H: an internal key with no private key. */
const NUMS = "50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0";

/** The x-only key a tree uses of `root`: its child 0. */
const xonlyKey = (root: HDKey) => root.deriveChild(0).publicKey!.subarray(1);

/**
 * `root`'s key `ROOT/0` as a descriptor writes it (origin: the root's
 * fingerprint, `m/0`): an xprv when `root` is in `secrets`, else an xpub.
 */
function keyText(root: HDKey, secrets: readonly HDKey[]): string {
  return `${secrets.includes(root) ? root.privateExtendedKey : root.publicExtendedKey}/0`;
}

/**
 * `tr(INTERNAL,{pk(A),multi_a(2,B,C,D)})`, each key {@linkcode keyText};
 * `internal` as text is written as it is.
 */
function treeDescriptor(internal: HDKey | string, secrets: readonly HDKey[] = []): string {
  const key = (root: HDKey) => keyText(root, secrets);
  const top = typeof internal === "string" ? internal : key(internal);
  return `tr(${top},{pk(${key(A)}),multi_a(2,${[B, C, D].map(key).join(",")})})`;
}

/** The tree @scure/btc-signer builds from its own leaf scripts, with each leaf's hash and control block. */
function expectedTree(internal: Uint8Array) {
  const pk = p2tr_pk(xonlyKey(A)).script;
  const multiA = p2tr_ms(2, [B, C, D].map(xonlyKey)).script;
  const output = p2tr(internal, [{ script: pk }, { script: multiA }], REGTEST, true);
  const leaf = (script: Uint8Array) => {
    const [block] = output.tapLeafScript!.find(([, withVersion]) =>
      hex.encode(withVersion) === hex.encode(script) + "c0"
    )!;
    return { script, hash: tapLeafHash(script), controlBlock: TaprootControlBlock.encode(block) };
  };
  return { ...output, pk: leaf(pk), multiA: leaf(multiA) };
}

/** The key of the `pkh()` leaf in {@linkcode pkhTree}. */
const E = HDKey.fromMasterSeed(new Uint8Array(32).fill(46), VERSIONS);

/**
 * `tr(INTERNAL,{pkh(E),pk(A)})` ({@linkcode keyText} keys) as text, its
 * leaves, their hashes, its output script, and the `pk()` leaf's control
 * block; btc-signer's p2tr() takes no pkh() leaf: BIP 341's two-leaf tree
 * built here from its parts.
 */
function pkhTree() {
  const text = (secrets: readonly HDKey[]) => {
    const key = (root: HDKey) => keyText(root, secrets);
    return `tr(${key(INTERNAL)},{pkh(${key(E)}),pk(${key(A)})})`;
  };
  const pkh = OutScript.encode({ type: "pkh", hash: hash160(xonlyKey(E)) });
  const [pkhHash, pkHash] = [pkh, p2tr_pk(xonlyKey(A)).script].map((leaf) => tapLeafHash(leaf));
  const root = tagSchnorr("TapBranch", ...[pkhHash, pkHash].sort(compareBytes));
  const [outputKey, parity] = taprootTweakPubkey(xonlyKey(INTERNAL), root);
  const output = { script: Uint8Array.of(0x51, 0x20, ...outputKey) };
  const controlBlock = Uint8Array.of(0xc0 | parity, ...xonlyKey(INTERNAL), ...pkHash);
  return { text, pkh, pkhHash, pkHash, output, controlBlock };
}

/** `taproot_scripts` as decodepsbt shows them: each leaf with its one control block. */
function tapScripts(leaves: readonly { script: Uint8Array; controlBlock: Uint8Array }[]) {
  return leaves.map((leaf) => ({
    script: hex.encode(leaf.script),
    leaf_ver: 0xc0,
    control_blocks: [hex.encode(leaf.controlBlock)],
  }));
}

/** `taproot_bip32_derivs` as decodepsbt shows them: each root's key `m/0` with its leaf hashes. */
function tapDerivs(entries: readonly [HDKey, Uint8Array[]][]) {
  return entries.map(([root, hashes]) => ({
    pubkey: hex.encode(xonlyKey(root)),
    master_fingerprint: root.fingerprint.toString(16).padStart(8, "0"),
    path: "m/0",
    leaf_hashes: hashes.map((h) => hex.encode(h)),
  })).sort((a, b) => a.pubkey < b.pubkey ? -1 : 1);
}

Deno.test("tr(KEY,TREE) PSBTs: utxoupdatepsbt describes the tree's input and output as Core; the internal key's private key spends by the key path", async () => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  const { call } = node;
  const tree = expectedTree(xonlyKey(INTERNAL));
  const descriptor = await checksummed(call, treeDescriptor(INTERNAL));
  assertEquals(await call("deriveaddresses", [descriptor]), [tree.address]);
  const fundingId = await payTo(call, [tree.script]);
  const unsigned = await call("createpsbt", [[{ txid: fundingId, vout: 0 }], [
    { [tree.address]: 4 },
    { [scriptToAddress(miner.wpkh)!]: 5.9999 },
  ]]);
  const updated = await call("decodepsbt", [
    await call("utxoupdatepsbt", [unsigned, [descriptor]]),
  ]);
  const [input] = updated.inputs;
  const derivs = tapDerivs([
    [INTERNAL, []],
    [A, [tree.pk.hash]],
    ...[B, C, D].map((root): [HDKey, Uint8Array[]] => [root, [tree.multiA.hash]]),
  ]);
  assertEquals(input.witness_utxo.scriptPubKey.hex, hex.encode(tree.script));
  assertEquals(input.taproot_internal_key, hex.encode(xonlyKey(INTERNAL)));
  assertEquals(input.taproot_merkle_root, hex.encode(tree.tapMerkleRoot));
  // The internal key tweaked by that merkle root is the output key the address pays to.
  const [outputKey] = taprootTweakPubkey(xonlyKey(INTERNAL), hex.decode(input.taproot_merkle_root));
  assertEquals(hex.encode(outputKey), hex.encode(tree.script.subarray(2)));
  // Shorter script first, as Core's map of `CScript`s orders them.
  assertEquals(
    input.taproot_scripts,
    tapScripts([tree.pk, tree.multiA]),
  );
  assertEquals(input.taproot_bip32_derivs, derivs);
  const [output, change] = updated.outputs;
  assertEquals(output.taproot_internal_key, hex.encode(xonlyKey(INTERNAL)));
  assertEquals(
    output.taproot_tree,
    [tree.pk, tree.multiA].map((leaf) => ({
      depth: 1,
      leaf_ver: 0xc0,
      script: hex.encode(leaf.script),
    })),
  );
  assertEquals(output.taproot_bip32_derivs, derivs);
  assertEquals(change, {});

  // The internal key's private key signs by the key path, and Core then tries no leaf.
  const keyPath = await checksummed(call, treeDescriptor(INTERNAL, [INTERNAL]));
  const held = await call("descriptorprocesspsbt", [unsigned, [keyPath], "DEFAULT", true, false]);
  assertEquals(held.complete, false);
  const [signed] = (await call("decodepsbt", [held.psbt])).inputs;
  assertEquals(signed.taproot_key_path_sig.length, 128);
  assertEquals(signed.taproot_script_path_sigs, undefined);
  assertEquals(signed.taproot_bip32_derivs, tapDerivs([[INTERNAL, []]]));
  // The tree is described all the same, for another signer.
  assertEquals(signed.taproot_scripts, input.taproot_scripts);
  assertEquals(signed.taproot_merkle_root, input.taproot_merkle_root);
  const final = await call("finalizepsbt", [held.psbt]);
  assertEquals(final.complete, true);
  const witness = (await call("decoderawtransaction", [final.hex])).vin[0].txinwitness;
  assertEquals(witness, [signed.taproot_key_path_sig]);
  // Finalizing in the same call gives the same spend.
  const done = await call("descriptorprocesspsbt", [unsigned, [keyPath]]);
  assertEquals(done.complete, true);
  await relayedAndMined(call, done.hex);
});

Deno.test("tr(NUMS,TREE) PSBTs: the leaf keys sign by the script path; two multi_a signers combined and finalized, one signer of both leaves finalizing the smaller", async () => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  const { call } = node;
  const tree = expectedTree(hex.decode(NUMS));
  const descriptor = await checksummed(call, treeDescriptor(NUMS));
  assertEquals(await call("deriveaddresses", [descriptor]), [tree.address]);
  const fundingId = await payTo(call, [tree.script, tree.script]);
  const spend = (vout: number) =>
    call("createpsbt", [[{ txid: fundingId, vout }], [{ [scriptToAddress(miner.wpkh)!]: 9.9999 }]]);

  // The public descriptor signs nothing.
  const unsigned = await spend(0);
  assertEquals((await call("descriptorprocesspsbt", [unsigned, [descriptor]])).complete, false);
  // B and C each sign the multi_a() leaf. A key without origin shows as its own (Core's
  // `ConstPubkeyProvider`): its id's first bytes, path m.
  const numsOrigin = {
    pubkey: NUMS,
    master_fingerprint: hex.encode(hash160(hex.decode(`02${NUMS}`)).subarray(0, 4)),
    path: "m",
    leaf_hashes: [],
  };
  const halves = [];
  for (const signer of [B, C]) {
    const text = await checksummed(call, treeDescriptor(NUMS, [signer]));
    const half = await call("descriptorprocesspsbt", [unsigned, [text]]);
    assertEquals(half.complete, false);
    const [input] = (await call("decodepsbt", [half.psbt])).inputs;
    assertEquals(input.taproot_key_path_sig, undefined);
    assertEquals(
      input.taproot_script_path_sigs.map((s: { pubkey: string; leaf_hash: string }) => [
        s.pubkey,
        s.leaf_hash,
      ]),
      [[hex.encode(xonlyKey(signer)), hex.encode(tree.multiA.hash)]],
    );
    assertEquals(
      input.taproot_bip32_derivs,
      [
        numsOrigin,
        ...tapDerivs([
          [A, [tree.pk.hash]],
          ...[B, C, D].map((root): [HDKey, Uint8Array[]] => [root, [tree.multiA.hash]]),
        ]),
      ].sort((a, b) => a.pubkey < b.pubkey ? -1 : 1),
    );
    halves.push({ psbt: half.psbt, sig: input.taproot_script_path_sigs[0].sig });
  }
  const combined = await call("combinepsbt", [halves.map((h) => h.psbt)]);
  const final = await call("finalizepsbt", [combined]);
  assertEquals(final.complete, true);
  // Stack from the bottom: D's empty signature, C's, B's, the leaf script, its control block.
  assertEquals((await call("decoderawtransaction", [final.hex])).vin[0].txinwitness, [
    "",
    halves[1].sig,
    halves[0].sig,
    hex.encode(tree.multiA.script),
    hex.encode(tree.multiA.controlBlock),
  ]);
  await relayedAndMined(call, final.hex);

  // A signer of both leaves finalizes with the smaller witness: the pk() leaf.
  const both = await checksummed(call, treeDescriptor(NUMS, [A, B, C]));
  const alone = await call("descriptorprocesspsbt", [await spend(1), [both]]);
  assertEquals(alone.complete, true);
  const witness = (await call("decoderawtransaction", [alone.hex])).vin[0].txinwitness;
  assertEquals(witness.slice(1), [hex.encode(tree.pk.script), hex.encode(tree.pk.controlBlock)]);
  assertEquals(witness[0].length, 128);
  await relayedAndMined(call, alone.hex);
});

Deno.test("tr(KEY,{pkh(E),pk(A)}) PSBTs: a pkh() leaf's key described with its leaf, signed and finalized with its x-only key, and mined", async () => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  const { call } = node;
  const { text, pkh, pkhHash, pkHash, output, controlBlock } = pkhTree();
  const descriptor = await checksummed(call, text([]));
  assertEquals(await call("deriveaddresses", [descriptor]), [scriptToAddress(output.script)]);
  const fundingId = await payTo(call, [output.script]);
  const unsigned = await call("createpsbt", [[{ txid: fundingId, vout: 0 }], [{
    [scriptToAddress(miner.wpkh)!]: 9.9999,
  }]]);
  const [input] =
    (await call("decodepsbt", [await call("utxoupdatepsbt", [unsigned, [descriptor]])])).inputs;
  assertEquals(
    input.taproot_bip32_derivs,
    tapDerivs([[INTERNAL, []], [E, [pkhHash]], [A, [pkHash]]]),
  );

  const signer = await checksummed(call, text([E]));
  // Without key origins finalizepsbt cannot tell the pkh() leaf's key from its hash (Core's
  // satisfier looks among them), where descriptorprocesspsbt has the descriptor's keys.
  const bare = await call("descriptorprocesspsbt", [unsigned, [signer], "DEFAULT", false, false]);
  assertEquals(
    (await call("decodepsbt", [bare.psbt])).inputs[0].taproot_script_path_sigs.length,
    1,
  );
  assertEquals((await call("finalizepsbt", [bare.psbt])).complete, false);
  const finalized = await call("descriptorprocesspsbt", [unsigned, [signer], "DEFAULT", false]);
  assertEquals(finalized.complete, true);
  const described = await call("descriptorprocesspsbt", [
    unsigned,
    [signer],
    "DEFAULT",
    true,
    false,
  ]);
  assertEquals((await call("finalizepsbt", [described.psbt])).hex, finalized.hex);

  const signedBy = await call("descriptorprocesspsbt", [unsigned, [signer]]);
  assertEquals(signedBy.complete, true);
  const witness = (await call("decoderawtransaction", [signedBy.hex])).vin[0].txinwitness;
  assertEquals(witness.slice(1), [
    hex.encode(xonlyKey(E)),
    hex.encode(pkh),
    hex.encode(controlBlock),
  ]);
  await relayedAndMined(call, signedBy.hex);
});

/** `taproot_script_path_sigs` as decodepsbt shows them. */
interface ScriptPathSig {
  pubkey: string;
  leaf_hash: string;
  sig: string;
}

Deno.test("tr(KEY,{pkh(E),pk(A)}) descriptorprocesspsbt signs as Core's CreateSchnorrSig: no aux randomness, so twice the same; signatures held kept; SINGLE signs the input with an output and leaves the other", async () => {
  await using node = await startRealNode();
  const { call } = node;
  const { text, pkhHash, pkHash, output } = pkhTree();
  const fundingId = await payTo(call, [output.script, output.script]);
  const signer = await checksummed(call, text([E, A]));
  const unsigned = await call("createpsbt", [[0, 1].map((vout) => ({ txid: fundingId, vout })), [{
    [scriptToAddress(miner.wpkh)!]: 19.9999,
  }]]);
  const sigs = async (psbt: string) =>
    (await call("decodepsbt", [psbt])).inputs.map((input: {
      taproot_script_path_sigs?: ScriptPathSig[];
    }) => input.taproot_script_path_sigs);
  const first = await call("descriptorprocesspsbt", [unsigned, [signer], "DEFAULT", true, false]);
  const [held] = await sigs(first.psbt);
  assertEquals(
    held.map((s: ScriptPathSig) => [s.pubkey, s.leaf_hash, s.sig.length]),
    [[hex.encode(xonlyKey(E)), hex.encode(pkhHash), 128], [
      hex.encode(xonlyKey(A)),
      hex.encode(pkHash),
      128,
    ]].sort((a, b) => `${a[0]}${a[1]}` < `${b[0]}${b[1]}` ? -1 : 1),
  );
  const second = await call("descriptorprocesspsbt", [unsigned, [signer], "DEFAULT", true, false]);
  assertEquals(await sigs(second.psbt), await sigs(first.psbt));
  // Signing a PSBT that holds the signatures keeps them.
  const again = await call("descriptorprocesspsbt", [first.psbt, [signer], "DEFAULT", true, false]);
  assertEquals(await sigs(again.psbt), await sigs(first.psbt));
  // Signatures held are not made again, even ones this signer would not make (Core does not
  // check them here).
  const described = Transaction.fromPSBT(
    base64.decode(await call("utxoupdatepsbt", [unsigned, [await checksummed(call, text([]))]])),
    OPTIONS,
  );
  const foreign = [[E, pkhHash, 1], [A, pkHash, 2]] as const;
  described.updateInput(0, {
    tapScriptSig: foreign.map(([root, leafHash, fill]) => [
      { pubKey: xonlyKey(root), leafHash },
      new Uint8Array(64).fill(fill),
    ]),
  });
  const resigned = await call("descriptorprocesspsbt", [
    base64.encode(described.toPSBT(0)),
    [signer],
    "DEFAULT",
    true,
    false,
  ]);
  const [kept] = await sigs(resigned.psbt);
  assertEquals(
    kept.map((s: ScriptPathSig) => s.sig).sort(),
    ["01".repeat(64), "02".repeat(64)],
  );

  // SINGLE: the second input has no output of its index, so no digest: Core leaves it unsigned.
  const single = await call("descriptorprocesspsbt", [unsigned, [signer], "SINGLE", true, false]);
  assertEquals(single.complete, false);
  const [signedSingle, unsignedSingle] = await sigs(single.psbt);
  assertEquals(signedSingle.length, 2);
  for (const sig of signedSingle) {
    assertEquals(sig.sig.length, 130);
    assertEquals(sig.sig.slice(-2), "03");
  }
  assertEquals(unsignedSingle, undefined);
});

Deno.test("tr(KEY,TREE) descriptorprocesspsbt: the leaf keys described when the key path cannot sign (a spent output unknown); an internal key also in a leaf signs by the key path alone", async () => {
  await using node = await startRealNode();
  const { call } = node;
  const tree = expectedTree(xonlyKey(INTERNAL));
  // tr(INTERNAL,{pk(INTERNAL),multi_a(2,B,C,D)}), built by btc-signer.
  const twice = p2tr(
    xonlyKey(INTERNAL),
    [
      { script: p2tr_pk(xonlyKey(INTERNAL)).script },
      { script: tree.multiA.script },
    ],
    REGTEST,
    true,
  );
  const fundingId = await payTo(call, [tree.script, twice.script]);
  const keyPath = await checksummed(call, treeDescriptor(INTERNAL, [INTERNAL, A]));
  const blind = await call("createpsbt", [[{ txid: fundingId, vout: 0 }, {
    txid: "11".repeat(32),
    vout: 0,
  }], [{ [scriptToAddress(miner.wpkh)!]: 9.9999 }]]);
  const result = await call("descriptorprocesspsbt", [blind, [keyPath], "DEFAULT", true, false]);
  assertEquals(result.complete, false);
  const [input, other] = (await call("decodepsbt", [result.psbt])).inputs;
  assertEquals(input.taproot_key_path_sig, undefined);
  assertEquals(input.taproot_script_path_sigs, undefined);
  assertEquals(
    input.taproot_bip32_derivs,
    tapDerivs([
      [INTERNAL, []],
      [A, [tree.pk.hash]],
      ...[B, C, D].map((root): [HDKey, Uint8Array[]] => [root, [tree.multiA.hash]]),
    ]),
  );
  assertEquals(other, {});

  const k = (root: HDKey) => keyText(root, [INTERNAL]);
  const both = await checksummed(
    call,
    `tr(${k(INTERNAL)},{pk(${k(INTERNAL)}),multi_a(2,${[B, C, D].map(k).join(",")})})`,
  );
  assertEquals(await call("deriveaddresses", [both]), [twice.address]);
  const spend = await call("createpsbt", [[{ txid: fundingId, vout: 1 }], [{
    [scriptToAddress(miner.wpkh)!]: 9.9999,
  }]]);
  const signed = await call("descriptorprocesspsbt", [spend, [both], "DEFAULT", true, false]);
  const [keyOnly] = (await call("decodepsbt", [signed.psbt])).inputs;
  assertEquals(keyOnly.taproot_key_path_sig.length, 128);
  assertEquals(keyOnly.taproot_script_path_sigs, undefined);
  assertEquals(keyOnly.taproot_bip32_derivs, tapDerivs([[INTERNAL, []]]));
});

Deno.test("tr(NUMS,TREE) PSBTs already carrying taproot fields: held key origins and leaves kept, a stale output internal key without a tree replaced; bip32derivs=false describes the tree without origins; a leaf the PSBT alone holds signed", async () => {
  await using node = await startRealNode();
  const { call } = node;
  const tree = expectedTree(hex.decode(NUMS));
  const descriptor = await checksummed(call, treeDescriptor(NUMS));
  const fundingId = await payTo(call, [tree.script]);
  const unsigned = await call("createpsbt", [[{ txid: fundingId, vout: 0 }], [
    { [tree.address]: 4 },
    { [scriptToAddress(miner.wpkh)!]: 5.9999 },
  ]]);
  const tx = Transaction.fromPSBT(base64.decode(unsigned), OPTIONS);
  const heldOrigin = { fingerprint: 0xdeadbeef, path: [7] };
  tx.updateInput(0, {
    witnessUtxo: { script: tree.script, amount: 10_0000_0000n },
    tapLeafScript: [[
      TaprootControlBlock.decode(tree.pk.controlBlock),
      Uint8Array.of(...tree.pk.script, 0xc0),
    ]],
    tapBip32Derivation: [[xonlyKey(B), { hashes: [], der: heldOrigin }]],
  });
  tx.updateOutput(0, { tapInternalKey: xonlyKey(A) });
  const carrying = base64.encode(tx.toPSBT(0));
  const updated = await call("decodepsbt", [
    await call("utxoupdatepsbt", [carrying, [descriptor]]),
  ]);
  const [input] = updated.inputs;
  assertEquals(
    input.taproot_scripts,
    tapScripts([tree.pk, tree.multiA]),
  );
  const bDeriv = input.taproot_bip32_derivs.find((d: { pubkey: string }) =>
    d.pubkey === hex.encode(xonlyKey(B))
  );
  assertEquals(bDeriv, {
    pubkey: hex.encode(xonlyKey(B)),
    master_fingerprint: "deadbeef",
    path: "m/7",
    leaf_hashes: [],
  });
  assertEquals(updated.outputs[0].taproot_internal_key, NUMS);

  const noOrigins = await call("descriptorprocesspsbt", [
    unsigned,
    [await checksummed(call, treeDescriptor(NUMS, [B]))],
    "DEFAULT",
    false,
    false,
  ]);
  const decoded = await call("decodepsbt", [noOrigins.psbt]);
  const [signed] = decoded.inputs;
  assertEquals(signed.taproot_bip32_derivs, undefined);
  assertEquals(signed.taproot_internal_key, NUMS);
  assertEquals(signed.taproot_merkle_root, hex.encode(tree.tapMerkleRoot));
  assertEquals(signed.taproot_scripts.length, 2);
  assertEquals(
    signed.taproot_script_path_sigs.map((s: ScriptPathSig) => [s.pubkey, s.leaf_hash]),
    [[hex.encode(xonlyKey(B)), hex.encode(tree.multiA.hash)]],
  );
  assertEquals(decoded.outputs[0].taproot_internal_key, NUMS);
  assertEquals(decoded.outputs[0].taproot_tree.length, 2);
  assertEquals(decoded.outputs[0].taproot_bip32_derivs, undefined);

  // A tree known only from the PSBT's tap_scripts: a key given alone, tr(A), signs its leaf
  // (Core's SignTaproot tries the leaves the input holds).
  const described = await call("utxoupdatepsbt", [unsigned, [descriptor]]);
  const alone = await checksummed(call, `tr(${keyText(A, [A])})`);
  const byA = await call("descriptorprocesspsbt", [described, [alone]]);
  assertEquals(byA.complete, true);
  const witness = (await call("decoderawtransaction", [byA.hex])).vin[0].txinwitness;
  assertEquals(witness.slice(1), [hex.encode(tree.pk.script), hex.encode(tree.pk.controlBlock)]);
  await relayedAndMined(call, byA.hex);
});
