/**
 * walletcreatefundedpsbt and walletprocesspsbt end to end: a node and a
 * wallet process over HTTP. The PSBTs are read back with
 * `@scure/btc-signer`, not with the node's own decoder: a funded PSBT
 * describes the wallet's inputs and change as Core's `FillPSBT` does (the
 * coins, the key origins getaddressinfo names, taproot's internal key, no
 * previous transactions when every input is taproot); processing signs and
 * finalizes what is the wallet's, two wallets sign one transaction in turn,
 * and the result is accepted by the mempool; Core's refusals with Core's
 * codes and texts.
 */
import { base64, hex } from "@scure/base";
import type { Transaction } from "@scure/btc-signer";
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";
import { pathIndexes, readPsbt } from "../../../components/wallet/psbt.ts";

const refused = (code: number, message: string) => ({ error: { code, message } });
const sats = (btc: number) => BigInt(Math.round(btc * 1e8));

/** The transaction of a base64 PSBT. */
const read = (psbt: string): Transaction => readPsbt(base64.decode(psbt));

Deno.test("walletcreatefundedpsbt and walletprocesspsbt: funded, described, signed and sent as Core's", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const external = target.context.addresses[4]; // not the wallet's
  const mined = async () => await call("generatetoaddress", [1, external]);
  for (const name of ["p", "q"]) assertEquals(await call("createwallet", [name]), { name });
  const p = (method: string, params: unknown[] = []) => call(method, params, "p");
  const q = (method: string, params: unknown[] = []) => call(method, params, "q");
  const segwit = await p("getnewaddress");
  const taproot = await p("getnewaddress", ["", "bech32m"]);
  const fromSegwit = await call("sendtoaddress", [segwit, 1]);
  const fromTaproot = await call("sendtoaddress", [taproot, 2]);
  await mined();

  // Funded from the wallet's coins, at the rate given: each input described, the change too.
  const funded = await p("walletcreatefundedpsbt", [[], [{ [external]: 2.5 }], 0, {
    fee_rate: 2,
  }]);
  assertEquals(Object.keys(funded), ["psbt", "fee", "changepos"]);
  const tx = read(funded.psbt);
  assertEquals(tx.inputsLength, 2, "both coins are needed");
  assertEquals(tx.outputsLength, 2);
  const payment = tx.getOutput(1 - funded.changepos);
  assertEquals([payment.amount, hex.encode(payment.script!)], [
    sats(2.5),
    (await call("getaddressinfo", [external])).scriptPubKey,
  ]);
  let spent = 0n;
  for (let i = 0; i < tx.inputsLength; i++) {
    const input = tx.getInput(i);
    const txid = hex.encode(input.txid!);
    const address = txid === fromSegwit ? segwit : taproot;
    const info = await p("getaddressinfo", [address]);
    assertEquals(hex.encode(input.witnessUtxo!.script), info.scriptPubKey);
    spent += input.witnessUtxo!.amount;
    assertEquals(input.nonWitnessUtxo !== undefined, true, "a segwit v0 input keeps them");
    assertEquals(input.sequence, 0xfffffffd);
    const origin = { fingerprint: parseInt(info.hdmasterfingerprint, 16) };
    if (address === segwit) {
      assertEquals(input.bip32Derivation!.map(([key, der]) => [hex.encode(key), der]), [
        [info.pubkey, { ...origin, path: pathIndexes(info.hdkeypath) }],
      ]);
      assertEquals(input.tapInternalKey, undefined);
    } else {
      // The internal key, untweaked, as the address's descriptor names it.
      const internalKey = /\]([0-9a-f]{64})\)/.exec(info.desc)![1];
      assertEquals(hex.encode(input.tapInternalKey!), internalKey);
      assertEquals(input.tapBip32Derivation!.map(([key, d]) => [hex.encode(key), d.der]), [
        [internalKey, { ...origin, path: pathIndexes(info.hdkeypath) }],
      ]);
    }
    assertEquals(input.partialSig, undefined, "nothing signed");
  }
  const change = tx.getOutput(funded.changepos);
  const changeInfo = await p("getaddressinfo", [
    (await call("decodescript", [hex.encode(change.script!)])).address,
  ]);
  assertEquals(changeInfo.ischange, true);
  assertEquals(change.bip32Derivation!.map(([key, der]) => [hex.encode(key), der.path]), [
    [changeInfo.pubkey, pathIndexes(changeInfo.hdkeypath)],
  ]);
  assertEquals(
    spent - sats(2.5) - change.amount!,
    sats(funded.fee),
    "fee is what the inputs leave",
  );

  // Without derivations when asked.
  const bare = read(
    (await p("walletcreatefundedpsbt", [[], { [external]: 0.1 }, 0, {}, false])).psbt,
  );
  assertEquals(bare.getInput(0).bip32Derivation ?? bare.getInput(0).tapBip32Derivation, undefined);

  // Described, not signed; signed, not finalized; then finalized and accepted.
  const described = await p("walletprocesspsbt", [funded.psbt, false]);
  assertEquals(described.complete, false);
  assertEquals(described.hex, undefined);
  const unfinal = await p("walletprocesspsbt", [funded.psbt, true, "ALL", true, false]);
  assertEquals(unfinal.complete, false);
  const partly = read(unfinal.psbt);
  for (let i = 0; i < partly.inputsLength; i++) {
    const input = partly.getInput(i);
    assert(input.partialSig !== undefined || input.tapKeySig !== undefined, `input ${i} signed`);
    assertEquals(input.finalScriptWitness, undefined);
  }
  // Signatures an earlier pass left are finalized by a pass that signs nothing.
  const twoPasses = await p("walletprocesspsbt", [
    (await p("walletprocesspsbt", [funded.psbt, true, "DEFAULT", true, false])).psbt,
    false,
  ]);
  assertEquals(twoPasses.complete, true);
  // As Core's FromSignatureData: the key-path signature the first pass left stays.
  const twoPassed = read(twoPasses.psbt);
  const taprootInput = hex.encode(twoPassed.getInput(0).txid!) === fromTaproot ? 0 : 1;
  assert(twoPassed.getInput(taprootInput).tapKeySig !== undefined, "tapKeySig kept");
  assertEquals((await call("testmempoolaccept", [[twoPasses.hex]]))[0].allowed, true);
  // Another key's signature in the wallet's input is not taken for the wallet's own.
  const stranger = read(funded.psbt);
  const segwitInput = hex.encode(stranger.getInput(0).txid!) === fromSegwit ? 0 : 1;
  const otherKey = hex.decode((await q("getaddressinfo", [await q("getnewaddress")])).pubkey);
  const bogus = hex.decode("3044" + "0220" + "11".repeat(32) + "0220" + "22".repeat(32) + "01");
  stranger.updateInput(segwitInput, { partialSig: [[otherKey, bogus]] }, true);
  const sorted = await p("walletprocesspsbt", [base64.encode(stranger.toPSBT(0))]);
  assertEquals(sorted.complete, true);
  assertEquals((await call("testmempoolaccept", [[sorted.hex]]))[0].allowed, true);

  const signed = await p("walletprocesspsbt", [funded.psbt]);
  assertEquals(Object.keys(signed), ["psbt", "complete", "hex"]);
  assertEquals(signed.complete, true);
  const final = read(signed.psbt);
  for (let i = 0; i < final.inputsLength; i++) {
    const input = final.getInput(i);
    assert(input.finalScriptWitness !== undefined, `input ${i} final`);
    assertEquals([input.partialSig, input.bip32Derivation], [undefined, undefined]);
    // Core's FromSignatureData: no key-path signature kept; the taproot fields it had stay.
    assertEquals(input.tapKeySig, undefined);
    assertEquals(input.tapInternalKey !== undefined, i !== segwitInput);
  }
  const txid = await call("sendrawtransaction", [signed.hex]);
  assertEquals((await call("decoderawtransaction", [signed.hex])).txid, txid);
  assertEquals((await p("gettransaction", [txid])).txid, txid, "the wallet sees it sent");

  // Two wallets, one transaction: each signs its own input, the second completes it.
  const qAddress = await q("getnewaddress");
  const pAddress = await p("getnewaddress");
  const toQ = await call("sendtoaddress", [qAddress, 0.3]);
  const toP = await call("sendtoaddress", [pAddress, 0.4]);
  await mined();
  const vout = async (txid: string, address: string) =>
    (await call("getrawtransaction", [txid, true])).vout.findIndex((
      o: { scriptPubKey: { address: string } },
    ) => o.scriptPubKey.address === address);
  const pInput = { txid: toP, vout: await vout(toP, pAddress) };
  assertEquals(
    await p("walletcreatefundedpsbt", [[pInput], [{ [external]: 0.5 }]]),
    refused(
      -4,
      "The preselected coins total amount does not cover the transaction target. Please allow other inputs to be automatically selected or include more coins manually",
    ),
    "given inputs, none are added unless asked",
  );
  const joint = await p("walletcreatefundedpsbt", [[pInput], [{ [external]: 0.39 }]]);
  // q's coin and what q is paid back added by hand: p's wallet funds with its own coins only.
  const shared = read(joint.psbt);
  shared.addInput({ txid: toQ, index: await vout(toQ, qAddress), sequence: 0xfffffffd });
  shared.addOutput({
    script: hex.decode((await q("getaddressinfo", [await q("getnewaddress")])).scriptPubKey),
    amount: sats(0.2999),
  });
  // q's input, its coin told and ANYONECANPAY asked: p holds it to that sighash too, as Core's.
  const qCoin = (await call("getrawtransaction", [toQ, true])).vout[await vout(toQ, qAddress)];
  const asked = read(base64.encode(shared.toPSBT(0)));
  asked.updateInput(1, {
    witnessUtxo: { script: hex.decode(qCoin.scriptPubKey.hex), amount: sats(qCoin.value) },
    sighashType: 0x81,
  }, true);
  assertEquals(
    await p("walletprocesspsbt", [base64.encode(asked.toPSBT(0)), false]),
    refused(-22, "Specified sighash value does not match value stored in PSBT"),
  );
  const byP = await p("walletprocesspsbt", [base64.encode(shared.toPSBT(0))]);
  assertEquals(byP.complete, false, "q's input is not p's");
  const byQ = await q("walletprocesspsbt", [byP.psbt]);
  assertEquals(byQ.complete, true);
  const jointTxid = await call("sendrawtransaction", [byQ.hex]);
  await mined();
  assertEquals((await q("gettransaction", [jointTxid])).confirmations, 1);

  // Taproot inputs alone: the previous transactions are left out, as Core's.
  const trOnly = read(
    (await p("walletcreatefundedpsbt", [
      [{ txid: fromTaproot, vout: await vout(fromTaproot, taproot) }],
      [{ [external]: 0.01 }],
    ])).psbt,
  );
  assertEquals(trOnly.getInput(0).nonWitnessUtxo, undefined);
  assert(trOnly.getInput(0).witnessUtxo !== undefined);
  // A bare PSBT finalized in one pass gets no taproot fields beside its witness, as Core's.
  const blank = read(
    await call("createpsbt", [
      [{ txid: fromTaproot, vout: await vout(fromTaproot, taproot) }],
      [{ [external]: 1.99 }],
    ]),
  );
  const onePass = await p("walletprocesspsbt", [base64.encode(blank.toPSBT(0))]);
  assertEquals(onePass.complete, true);
  const { tapInternalKey, tapBip32Derivation, tapKeySig, finalScriptWitness } = read(onePass.psbt)
    .getInput(0);
  assertEquals([tapInternalKey, tapBip32Derivation, tapKeySig], [undefined, undefined, undefined]);
  assertEquals(finalScriptWitness!.length, 1);

  // A sighash the PSBT does not ask for is refused; the one it asks for is recorded and used.
  const single = read(
    (await p("walletcreatefundedpsbt", [[], [{ [external]: 0.01 }], 0, { add_inputs: true }]))
      .psbt,
  );
  single.updateInput(0, { sighashType: 0x81 }, true);
  const asking = base64.encode(single.toPSBT(0));
  assertEquals(
    await p("walletprocesspsbt", [asking]),
    refused(-22, "Specified sighash value does not match value stored in PSBT"),
  );
  const withIt = await p("walletprocesspsbt", [asking, true, "ALL|ANYONECANPAY", true, false]);
  const signedAlone = read(withIt.psbt).getInput(0);
  assertEquals(signedAlone.sighashType, 0x81);
  const signature = signedAlone.partialSig?.[0][1] ?? signedAlone.tapKeySig!;
  assertEquals(signature.at(-1), 0x81, "signed ALL|ANYONECANPAY");

  // Core's refusals.
  assertEquals(
    await p("walletprocesspsbt", ["not base64!"]),
    refused(-22, "TX decode failed invalid base64"),
  );
  assertEquals(
    await p("walletprocesspsbt", [funded.psbt, true, "MOST"]),
    refused(-8, "'MOST' is not a valid sighash parameter."),
  );
  assertEquals(
    await p("walletcreatefundedpsbt", [[], [{ [external]: 1000 }]]),
    refused(-4, "Insufficient funds"),
  );
  assertEquals(
    await p("walletcreatefundedpsbt", [[], [{ [external]: 0.1 }], 0, {
      subtractFeeFromOutputs: ["bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"],
    }]),
    refused(
      -8,
      "Invalid parameter 'subtract fee from output', destination bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 not found in tx outputs",
    ),
  );
  // An output named by its address pays the fee.
  const sffo = await p("walletcreatefundedpsbt", [[], [{ [external]: 0.1 }], 0, {
    subtractFeeFromOutputs: [external],
  }]);
  const sffoTx = read(sffo.psbt);
  const paid = [0, 1].map((i) => sffoTx.getOutput(i)).find((o) =>
    hex.encode(o.script!) === hex.encode(payment.script!)
  )!;
  assertEquals(paid.amount, sats(0.1) - sats(sffo.fee));
  // send's spelling is not walletcreatefundedpsbt's: Core ignores it there, and so does this.
  const ignored = read(
    (await p("walletcreatefundedpsbt", [[], [{ [external]: 0.1 }], 0, {
      subtract_fee_from_outputs: [0],
    }])).psbt,
  );
  assertEquals(
    [0, 1].map((i) => ignored.getOutput(i).amount).includes(sats(0.1)),
    true,
    "the payment whole",
  );
  // A wallet without private keys signs nothing, and says so by complete alone.
  assertEquals(await call("createwallet", ["watching", true]), { name: "watching" });
  const watched = await call("walletprocesspsbt", [funded.psbt], "watching");
  assertEquals([watched.complete, watched.psbt], [false, funded.psbt]);

  // Encrypted, hence locked: signing needs the passphrase, describing does not.
  assertEquals(typeof await p("encryptwallet", ["secret"]), "string");
  assertEquals(
    await p("walletprocesspsbt", [funded.psbt]),
    refused(-13, "Error: Please enter the wallet passphrase with walletpassphrase first."),
  );
  assertEquals((await p("walletprocesspsbt", [funded.psbt, false])).complete, false);
  assertEquals(await target.health(), null);
});
