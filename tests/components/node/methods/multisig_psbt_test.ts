/**
 * A 2-of-2 multisig through PSBTs against a real node process over HTTP,
 * as Bitcoin Core's multisig tutorial runs it with descriptors: the
 * address from `deriveaddresses` of a `wsh(sortedmulti())` descriptor with
 * key origins; `utxoupdatepsbt` adding the witness UTXO, the witness
 * script and both keys' origins from the descriptor; `analyzepsbt` naming
 * the signatures still missing; each signer's partial signature (made with `@scure/btc-signer` from what the PSBT holds);
 * `combinepsbt`, `finalizepsbt`, and the transaction relayed and mined;
 * then the same with `descriptorprocesspsbt`, each signer giving its
 * private descriptor.
 *
 * @module
 */
import { base64, hex } from "@scure/base";
import { Transaction } from "@scure/btc-signer";
import { assert, assertEquals } from "../../../assert.ts";
import { rejects, startRealNode } from "../real_node.ts";
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
 * A node whose chain pays 10 BTC to the 2-of-2 and 1 BTC to `miner`'s P2WPKH,
 * both confirmed, and a PSBT spending the 2-of-2.
 */
async function fundedMultisig() {
  const node = await startRealNode();
  const call = node.call;
  const [first] = await call("generatetoaddress", [1, scriptToAddress(miner.wpkh)]);
  await call("generatetoaddress", [100, scriptToAddress(miner.wpkh)]);
  const coinbase = (await call("getblock", [first])).tx[0];
  const { descriptor } = await call("getdescriptorinfo", [multisigDescriptor()]);
  const [address] = await call("deriveaddresses", [descriptor]);
  assert(address.startsWith("bcrt1q") && address.length === 64, address);
  const funding = signTx([{
    outpoint: { txid: hashFromHex(coinbase), index: 0 },
    amount: 50_0000_0000n,
    script: miner.wpkh,
    key: miner,
  }], [{ script: destination(address), amount: 10_0000_0000n }, {
    script: miner.wpkh,
    amount: 39_9999_0000n,
  }]);
  const fundingId = await call("sendrawtransaction", [hex.encode(encodeTx(funding))]);
  await call("generatetoaddress", [1, scriptToAddress(miner.wpkh)]);
  const unsigned = await call("createpsbt", [[{ txid: fundingId, vout: 0 }], [{
    [scriptToAddress(miner.wpkh)!]: 9.9999,
  }]]);
  /** `text` with its checksum. */
  const withChecksum = async (text: string) =>
    `${text}#${(await call("getdescriptorinfo", [text])).checksum}`;
  /** Sends `hex`, mines a block, and checks the block holds it. */
  const relayAndMine = async (hex: string) => {
    const sent = await call("sendrawtransaction", [hex]);
    const [mined] = await call("generatetoaddress", [1, scriptToAddress(miner.wpkh)]);
    assert((await call("getblock", [mined])).tx.includes(sent), "the transaction is mined");
  };
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
