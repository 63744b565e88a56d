/**
 * Script verification: BIP 341's and BIP 143's signed vectors, fresh
 * signatures under every sighash type, multisig in every wrapping, a
 * taproot script path, each failure with Bitcoin Core's error under
 * consensus (block) and standard (mempool) flags, hostile shapes, and
 * random scripts that must end in a verdict. (Core's own test data is
 * `script_vectors_test.ts`.)
 *
 * @module
 */
import { hex } from "@scure/base";
import { p2ms, p2sh, p2tr, p2tr_pk, p2wpkh, p2wsh, SigHash, Transaction } from "@scure/btc-signer";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ripemd160 } from "@noble/hashes/legacy.js";
import { taprootTweakPrivKey, taprootTweakPubkey } from "@scure/btc-signer/utils.js";
import { leafHash } from "../../../../components/bitcoin/sighash.ts";
import { assert, assertEquals, assertThrows } from "../../../assert.ts";
import {
  BLOCK_SCRIPT_VERIFY_FLAGS,
  checkInputScripts,
  decodeTx,
  encodeTx,
  hashToHex,
  pushScript,
  type ScriptErrorCode,
  scriptErrorText,
  type SpentOutput,
  STANDARD_SCRIPT_VERIFY_FLAGS,
  type Tx,
  txid,
  TxScriptChecker,
  UNSUPPORTED_SCRIPT_TEXT,
  ValidationError,
  wtxid,
} from "../../../../components/node/chain/mod.ts";
import { signTx, TestKey, type Utxo } from "./chain_helpers.ts";
import { BIP143_P2WPKH_SIGNED, BIP143_P2WPKH_SPENT, BIP341_SIGNED } from "./vectors.ts";

const key = new TestKey(1);
const other = new TestKey(2);

/** [consensus error, policy error] of input `index`. */
function verdicts(
  tx: Tx,
  spent: readonly SpentOutput[],
  index = 0,
): [ScriptErrorCode | null, ScriptErrorCode | null] {
  const checker = new TxScriptChecker(tx, spent);
  return [
    checker.verifyInput(index, BLOCK_SCRIPT_VERIFY_FLAGS),
    checker.verifyInput(index, STANDARD_SCRIPT_VERIFY_FLAGS),
  ];
}

/** A one-input, two-output transaction spending `script` (with `key`), and what it spends. */
function spend(
  script: Uint8Array,
  signer = key,
  amount = 100_000n,
): { tx: Tx; spent: SpentOutput[] } {
  const utxo: Utxo = { outpoint: { txid: sha256(script), index: 1 }, amount, script, key: signer };
  const tx = signTx([utxo], [{ script: other.wpkh, amount: 60_000n }, {
    script: other.tr,
    amount: 30_000n,
  }]);
  return { tx, spent: [{ amount, script }] };
}

function spentOf(list: readonly { script: string; amount: bigint }[]): SpentOutput[] {
  return list.map(({ script, amount }) => ({ script: hex.decode(script), amount }));
}

/** Views of the R and S bytes of a DER signature (with its hash-type byte), to tamper with. */
function derParts(sig: Uint8Array) {
  const lenR = sig[3];
  return { r: sig.subarray(4, 4 + lenR), s: sig.subarray(6 + lenR, sig.length - 1) };
}

Deno.test("script: every input of BIP 341's signed vector verifies (7 key paths, P2PKH, P2WPKH)", () => {
  const tx = decodeTx(hex.decode(BIP341_SIGNED.tx));
  const spent = spentOf(BIP341_SIGNED.spent);
  const checker = new TxScriptChecker(tx, spent);
  assertEquals(checker.verifyAll(BLOCK_SCRIPT_VERIFY_FLAGS), null);
  assertEquals(checker.verifyAll(STANDARD_SCRIPT_VERIFY_FLAGS), null);
  // Every sighash type commits to the lock time.
  const moved = { ...tx, lockTime: tx.lockTime + 1 };
  const expected: ScriptErrorCode[] = [
    "SCHNORR_SIG",
    "SCHNORR_SIG",
    "EVAL_FALSE",
    "SCHNORR_SIG",
    "SCHNORR_SIG",
  ];
  expected.push("EVAL_FALSE", "SCHNORR_SIG", "SCHNORR_SIG", "SCHNORR_SIG");
  const broken = new TxScriptChecker(moved, spent);
  assertEquals(tx.inputs.map((_, i) => broken.verifyInput(i, BLOCK_SCRIPT_VERIFY_FLAGS)), expected);
  assertEquals(broken.verifyInput(2, STANDARD_SCRIPT_VERIFY_FLAGS), "SIG_NULLFAIL");
  assertEquals(broken.verifyInput(5, STANDARD_SCRIPT_VERIFY_FLAGS), "SIG_NULLFAIL");
});

Deno.test("script: BIP 143's P2WPKH and P2PK inputs verify", () => {
  const tx = decodeTx(hex.decode(BIP143_P2WPKH_SIGNED));
  const spent = spentOf(BIP143_P2WPKH_SPENT);
  assertEquals(verdicts(tx, spent, 1), [null, null]);
  assertEquals(verdicts(tx, spent, 0), [null, null]);
  assertEquals(verdicts({ ...tx, lockTime: 0 }, spent, 1), ["EVAL_FALSE", "SIG_NULLFAIL"]);
});

Deno.test("script: fresh P2WPKH, P2PKH and P2TR signatures verify under every sighash type", () => {
  const types = [
    SigHash.ALL,
    SigHash.NONE,
    SigHash.SINGLE,
    SigHash.ALL_ANYONECANPAY,
    SigHash.NONE_ANYONECANPAY,
    SigHash.SINGLE_ANYONECANPAY,
  ];
  for (const [name, script] of [["wpkh", key.wpkh], ["pkh", key.pkh], ["tr", key.tr]] as const) {
    for (const type of name === "tr" ? [SigHash.DEFAULT, ...types] : types) {
      const spent = [{ amount: 10_000n, script }, { amount: 20_000n, script }];
      const signer = new Transaction({ allowLegacyWitnessUtxo: true });
      spent.forEach((output, i) =>
        signer.addInput({
          txid: new Uint8Array(32).fill(i + 1),
          index: i,
          witnessUtxo: output,
          sighashType: type,
          ...(name === "tr" ? { tapInternalKey: key.xOnly } : {}),
        })
      );
      signer.addOutput({ script: other.wpkh, amount: 9_000n });
      signer.addOutput({ script: other.pkh, amount: 8_000n });
      signer.sign(key.secret, [type]);
      signer.finalize();
      const tx = decodeTx(signer.toBytes(true, true));
      const checker = new TxScriptChecker(tx, spent);
      const label = `${name} sighash ${type}`;
      assertEquals(checker.verifyAll(BLOCK_SCRIPT_VERIFY_FLAGS), null, label);
      assertEquals(checker.verifyAll(STANDARD_SCRIPT_VERIFY_FLAGS), null, label);
      // Output 0 is committed to by ALL and by SINGLE for input 0, never by NONE.
      tx.outputs[0].amount -= 1n;
      const committed = (type & 0x1f) !== SigHash.NONE;
      const error = name === "tr" ? "SCHNORR_SIG" : "EVAL_FALSE";
      assertEquals(
        new TxScriptChecker(tx, spent).verifyInput(0, BLOCK_SCRIPT_VERIFY_FLAGS),
        committed ? error : null,
        label,
      );
    }
  }
});

Deno.test("script: P2SH-wrapped P2WPKH verifies under every sighash type; its scriptSig is exactly the redeem script's push", () => {
  const wrapped = p2sh(p2wpkh(key.publicKey));
  const spent = [{ amount: 10_000n, script: wrapped.script }];
  const signed = (type: number) => {
    const signer = new Transaction();
    signer.addInput({
      txid: new Uint8Array(32).fill(3),
      index: 0,
      witnessUtxo: spent[0],
      redeemScript: wrapped.redeemScript,
      sighashType: type,
    });
    signer.addOutput({ script: other.wpkh, amount: 9_000n });
    signer.sign(key.secret, [type]);
    signer.finalize();
    return decodeTx(signer.toBytes(true, true));
  };
  for (const type of [SigHash.ALL, SigHash.NONE, SigHash.SINGLE, SigHash.ALL_ANYONECANPAY]) {
    const tx = signed(type);
    assertEquals(verdicts(tx, spent), [null, null], `sighash ${type}`);
    tx.outputs[0].amount -= 1n; // committed to by all but NONE
    const committed = (type & 0x1f) !== SigHash.NONE;
    assertEquals(verdicts(tx, spent), committed ? ["EVAL_FALSE", "SIG_NULLFAIL"] : [null, null]);
  }
  const tx = signed(SigHash.ALL);
  const scriptSig = tx.inputs[0].finalScriptSig;
  // One push more than the redeem script: malleable, refused as Core refuses it.
  tx.inputs[0].finalScriptSig = Uint8Array.of(0x51, ...scriptSig);
  assertEquals(verdicts(tx, spent), ["WITNESS_MALLEATED_P2SH", "WITNESS_MALLEATED_P2SH"]);
  assertEquals(
    scriptErrorText("WITNESS_MALLEATED_P2SH"),
    "Witness requires only-redeemscript scriptSig",
  );
  // Another key's witness fails the program's hash check.
  tx.inputs[0].finalScriptSig = scriptSig;
  tx.witnesses![0] = [tx.witnesses![0][0], other.publicKey];
  assertEquals(verdicts(tx, spent), ["EQUALVERIFY", "EQUALVERIFY"]);
  // A wrapped witness v1 program is no taproot output (BIP 341): a future version's.
  const v1 = Uint8Array.of(0x51, 0x20, ...key.xOnly);
  tx.inputs[0].finalScriptSig = Uint8Array.of(v1.length, ...v1);
  tx.witnesses![0] = [new Uint8Array(64)];
  const v1Spent = [{
    amount: 10_000n,
    script: Uint8Array.of(0xa9, 0x14, ...ripemd160(sha256(v1)), 0x87),
  }];
  assertEquals(verdicts(tx, v1Spent), [null, "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM"]);
});

Deno.test("script: a flipped signature byte fails as Core reports it in blocks and in the mempool", () => {
  for (const script of [key.wpkh, key.pkh]) {
    const { tx, spent } = spend(script);
    const sig = script === key.wpkh ? tx.witnesses![0][0] : tx.inputs[0].finalScriptSig.subarray(1);
    derParts(sig).r[5] ^= 1;
    assertEquals(verdicts(tx, spent), ["EVAL_FALSE", "SIG_NULLFAIL"]);
    assertEquals(
      scriptErrorText("EVAL_FALSE"),
      "Script evaluated without error but finished with a false/empty top stack element",
    );
    assertEquals(
      scriptErrorText("SIG_NULLFAIL"),
      "Signature must be zero for failed CHECK(MULTI)SIG operation",
    );
  }
});

Deno.test("script: ECDSA encoding rules — DER, low S, hash type, key types — under their flags", () => {
  // Non-DER: DERSIG is consensus on regtest.
  let { tx, spent } = spend(key.wpkh);
  tx.witnesses![0][0][0] = 0x31;
  assertEquals(verdicts(tx, spent), ["SIG_DER", "SIG_DER"]);
  assertEquals(scriptErrorText("SIG_DER"), "Non-canonical DER signature");

  // High S: valid by consensus, not standard.
  ({ tx, spent } = spend(key.wpkh));
  const signature = tx.witnesses![0][0];
  const parsed = secp256k1.Signature.fromBytes(signature.subarray(0, -1), "der");
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const high = new secp256k1.Signature(parsed.r, n - parsed.s).toBytes("der");
  tx.witnesses![0][0] = Uint8Array.of(...high, signature[signature.length - 1]);
  assertEquals(verdicts(tx, spent), [null, "SIG_HIGH_S"]);
  assertEquals(
    scriptErrorText("SIG_HIGH_S"),
    "Non-canonical signature: S value is unnecessarily high",
  );

  // An undefined hash type (5) signs like ALL for BIP 143: valid by consensus, not standard.
  ({ tx, spent } = spend(key.wpkh));
  const digest = Transaction.fromRaw(encodeTx(tx), { allowUnknownOutputs: true }).preimageWitnessV0(
    0,
    Uint8Array.of(0x76, 0xa9, 0x14, ...spent[0].script.subarray(2), 0x88, 0xac),
    5,
    spent[0].amount,
  );
  const der = secp256k1.sign(digest, key.secret, { prehash: false, format: "der" });
  tx.witnesses![0][0] = Uint8Array.of(...der, 5);
  assertEquals(verdicts(tx, spent), [null, "SIG_HASHTYPE"]);

  // An uncompressed key in P2WPKH: valid by consensus, not standard.
  const uncompressed = secp256k1.getPublicKey(key.secret, false);
  const hash = ripemd160(sha256(uncompressed));
  ({ tx } = spend(key.wpkh));
  spent = [{ amount: 100_000n, script: Uint8Array.of(0x00, 0x14, ...hash) }];
  const code = Uint8Array.of(0x76, 0xa9, 0x14, ...hash, 0x88, 0xac);
  const digest2 = Transaction.fromRaw(encodeTx(tx), { allowUnknownOutputs: true })
    .preimageWitnessV0(0, code, 1, spent[0].amount);
  const sig2 = secp256k1.sign(digest2, key.secret, { prehash: false, format: "der" });
  tx.witnesses = [[Uint8Array.of(...sig2, 1), uncompressed]];
  assertEquals(verdicts(tx, spent), [null, "WITNESS_PUBKEYTYPE"]);
  assertEquals(scriptErrorText("WITNESS_PUBKEYTYPE"), "Using non-compressed keys in segwit");
});

Deno.test("script: witness shape rules of P2WPKH and P2PKH", () => {
  let { tx, spent } = spend(key.wpkh);
  tx.witnesses![0].push(new Uint8Array(1));
  assertEquals(verdicts(tx, spent), ["WITNESS_PROGRAM_MISMATCH", "WITNESS_PROGRAM_MISMATCH"]);
  assertEquals(scriptErrorText("WITNESS_PROGRAM_MISMATCH"), "Witness program hash mismatch");

  ({ tx, spent } = spend(key.wpkh));
  tx.witnesses![0][1] = other.publicKey;
  assertEquals(verdicts(tx, spent), ["EQUALVERIFY", "EQUALVERIFY"]);

  ({ tx, spent } = spend(key.wpkh));
  tx.inputs[0].finalScriptSig = Uint8Array.of(0x51);
  assertEquals(verdicts(tx, spent), ["WITNESS_MALLEATED", "WITNESS_MALLEATED"]);
  assertEquals(scriptErrorText("WITNESS_MALLEATED"), "Witness requires empty scriptSig");

  ({ tx, spent } = spend(key.pkh));
  tx.witnesses = [[Uint8Array.of(1)]];
  assertEquals(verdicts(tx, spent), ["WITNESS_UNEXPECTED", "WITNESS_UNEXPECTED"]);

  // A non-minimal push of the signature, or an extra item: standardness only.
  ({ tx, spent } = spend(key.pkh));
  const scriptSig = tx.inputs[0].finalScriptSig;
  tx.inputs[0].finalScriptSig = Uint8Array.of(0x4c, ...scriptSig);
  assertEquals(verdicts(tx, spent), [null, "MINIMALDATA"]);
  ({ tx, spent } = spend(key.pkh));
  tx.inputs[0].finalScriptSig = Uint8Array.of(0x51, ...tx.inputs[0].finalScriptSig);
  assertEquals(verdicts(tx, spent), [null, "CLEANSTACK"]);
  ({ tx, spent } = spend(key.pkh));
  tx.inputs[0].finalScriptSig = tx.inputs[0].finalScriptSig.subarray(0, 10);
  assertEquals(verdicts(tx, spent), ["BAD_OPCODE", "BAD_OPCODE"]);
  ({ tx, spent } = spend(key.pkh));
  tx.inputs[0].finalScriptSig = new Uint8Array();
  assertEquals(verdicts(tx, spent), ["INVALID_STACK_OPERATION", "INVALID_STACK_OPERATION"]);
});

Deno.test("script: taproot key-path rules — signature size, hash type, annex, script paths", () => {
  let { tx, spent } = spend(key.tr);
  const signature = tx.witnesses![0][0];
  assertEquals(verdicts(tx, spent), [null, null]);
  tx.witnesses![0][0] = signature.subarray(0, 63);
  assertEquals(verdicts(tx, spent), ["SCHNORR_SIG_SIZE", "SCHNORR_SIG_SIZE"]);
  tx.witnesses![0][0] = Uint8Array.of(...signature, 0x00);
  assertEquals(verdicts(tx, spent), ["SCHNORR_SIG_HASHTYPE", "SCHNORR_SIG_HASHTYPE"]);
  tx.witnesses![0][0] = Uint8Array.of(...signature, 0x04);
  assertEquals(verdicts(tx, spent), ["SCHNORR_SIG_HASHTYPE", "SCHNORR_SIG_HASHTYPE"]);
  assertEquals(scriptErrorText("SCHNORR_SIG_HASHTYPE"), "Invalid Schnorr signature hash type");
  tx.witnesses![0][0] = Uint8Array.of(...signature.subarray(0, 63), signature[63] ^ 1);
  assertEquals(verdicts(tx, spent), ["SCHNORR_SIG", "SCHNORR_SIG"]);
  assertEquals(scriptErrorText("SCHNORR_SIG"), "Invalid Schnorr signature");

  // An annex is committed to by the signature.
  ({ tx, spent } = spend(key.tr));
  const annex = Uint8Array.of(0x50, 1, 2, 3);
  const digest = taprootDigest(tx, spent, 0, annex);
  tx.witnesses = [[schnorr.sign(digest, taprootTweakPrivKey(key.secret)), annex]];
  assertEquals(verdicts(tx, spent), [null, null]);
  tx.witnesses = [[tx.witnesses[0][0], Uint8Array.of(0x50, 9)]];
  assertEquals(verdicts(tx, spent), ["SCHNORR_SIG", "SCHNORR_SIG"]);

  // SINGLE without a matching output.
  ({ tx, spent } = spend(key.tr));
  tx.outputs = [];
  tx.witnesses![0][0] = Uint8Array.of(...tx.witnesses![0][0], 0x03);
  assertEquals(verdicts(tx, spent)[0], "SCHNORR_SIG_HASHTYPE");

  // Script paths: a malformed control block fails, and so does a leaf the output does not commit to.
  ({ tx, spent } = spend(key.tr));
  tx.witnesses = [[Uint8Array.of(1), new Uint8Array(34)]];
  assertEquals(verdicts(tx, spent), ["TAPROOT_WRONG_CONTROL_SIZE", "TAPROOT_WRONG_CONTROL_SIZE"]);
  tx.witnesses = [[Uint8Array.of(0x51), Uint8Array.of(0xc0, ...key.xOnly)]];
  assertEquals(verdicts(tx, spent), ["WITNESS_PROGRAM_MISMATCH", "WITNESS_PROGRAM_MISMATCH"]);
  tx.witnesses = [[]];
  assertEquals(verdicts(tx, spent), [
    "WITNESS_PROGRAM_WITNESS_EMPTY",
    "WITNESS_PROGRAM_WITNESS_EMPTY",
  ]);
});

/** The BIP 341 digest input 0 signs (through scure's preimage function). */
function taprootDigest(
  tx: Tx,
  spent: SpentOutput[],
  hashType: number,
  annex?: Uint8Array,
): Uint8Array {
  return Transaction.fromRaw(encodeTx(tx), { allowUnknownOutputs: true }).preimageWitnessV1(
    0,
    spent.map((output) => output.script),
    hashType,
    spent.map((output) => output.amount),
    -1,
    undefined,
    0xc0,
    annex,
  );
}

Deno.test("script: P2WSH, P2SH, bare scripts and future witness versions run as Core runs them", () => {
  const witnessScript = Uint8Array.of(0x51);
  const p2wshScript = Uint8Array.of(0x00, 0x20, ...sha256(witnessScript));
  let { tx, spent } = spend(key.wpkh);
  spent = [{ amount: 100_000n, script: p2wshScript }];
  tx.witnesses = [[witnessScript]];
  assertEquals(verdicts(tx, spent), [null, null]);
  tx.witnesses = [[Uint8Array.of(0x52)]];
  assertEquals(verdicts(tx, spent), ["WITNESS_PROGRAM_MISMATCH", "WITNESS_PROGRAM_MISMATCH"]);
  tx.witnesses = [[]];
  assertEquals(verdicts(tx, spent), [
    "WITNESS_PROGRAM_WITNESS_EMPTY",
    "WITNESS_PROGRAM_WITNESS_EMPTY",
  ]);
  // A witness script must leave exactly one true item.
  tx.witnesses = [[Uint8Array.of(1), witnessScript]];
  assertEquals(verdicts(tx, spent), ["CLEANSTACK", "CLEANSTACK"]);

  // Witness version 2: anyone can spend it until a soft fork defines it; policy refuses it.
  spent = [{ amount: 100_000n, script: Uint8Array.of(0x52, 0x02, 0xab, 0xcd) }];
  tx.witnesses = [[]];
  assertEquals(verdicts(tx, spent), [null, "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM"]);
  spent = [{ amount: 100_000n, script: Uint8Array.of(0x00, 0x03, 1, 2, 3) }];
  assertEquals(verdicts(tx, spent), [
    "WITNESS_PROGRAM_WRONG_LENGTH",
    "WITNESS_PROGRAM_WRONG_LENGTH",
  ]);

  // P2SH: a wrong redeem script fails its hash; the right one runs.
  const redeem = Uint8Array.of(0x51);
  spent = [{
    amount: 100_000n,
    script: Uint8Array.of(0xa9, 0x14, ...ripemd160(sha256(redeem)), 0x87),
  }];
  tx.witnesses = undefined;
  tx.inputs[0].finalScriptSig = Uint8Array.of(0x01, 0x52);
  assertEquals(verdicts(tx, spent), ["EVAL_FALSE", "EVAL_FALSE"]);
  tx.inputs[0].finalScriptSig = Uint8Array.of(0x01, 0x51);
  assertEquals(verdicts(tx, spent), [null, null]);
  // Only pushes may unlock a P2SH output.
  tx.inputs[0].finalScriptSig = Uint8Array.of(0x61, 0x01, 0x51);
  assertEquals(verdicts(tx, spent), ["SIG_PUSHONLY", "SIG_PUSHONLY"]);

  // A bare script (here OP_TRUE) runs; one left with two items is not clean for the mempool.
  spent = [{ amount: 100_000n, script: Uint8Array.of(0x51) }];
  tx.inputs[0].finalScriptSig = new Uint8Array();
  assertEquals(verdicts(tx, spent), [null, null]);
  tx.inputs[0].finalScriptSig = Uint8Array.of(0x51);
  assertEquals(verdicts(tx, spent), [null, "CLEANSTACK"]);
  // A witness program of zero bytes reads as false, like Core's stack check.
  tx.inputs[0].finalScriptSig = new Uint8Array();
  spent = [{ amount: 100_000n, script: Uint8Array.of(0x00, 0x14, ...new Uint8Array(20)) }];
  assertEquals(verdicts(tx, spent), ["EVAL_FALSE", "EVAL_FALSE"]);
});

Deno.test("script: 2-of-3 multisig verifies bare, in P2SH, in P2WSH and in P2SH-P2WSH; a changed output, a short or reordered signature list and a non-empty dummy fail as in Core", () => {
  const keys = [key, other, new TestKey(3)];
  const multisig = p2ms(2, keys.map((k) => k.publicKey));
  // scure signs the wrapped forms.
  const inP2wsh = p2wsh(multisig);
  const wrapped: Record<
    string,
    { script: Uint8Array; redeemScript?: Uint8Array; witnessScript?: Uint8Array }
  > = {
    p2sh: p2sh(multisig),
    p2wsh: inP2wsh,
    "p2sh-p2wsh": { ...p2sh(inP2wsh), witnessScript: inP2wsh.witnessScript },
  };
  for (const [name, payment] of Object.entries(wrapped)) {
    const spent = [{ amount: 50_000n, script: payment.script }];
    const signer = new Transaction({ allowUnknownOutputs: true, allowLegacyWitnessUtxo: true });
    signer.addInput({
      txid: new Uint8Array(32).fill(9),
      index: 0,
      witnessUtxo: spent[0],
      redeemScript: payment.redeemScript,
      witnessScript: payment.witnessScript,
    });
    signer.addOutput({ script: other.wpkh, amount: 40_000n });
    signer.sign(keys[0].secret);
    signer.sign(keys[2].secret);
    signer.finalize();
    const tx = decodeTx(signer.toBytes(true, true));
    assertEquals(verdicts(tx, spent), [null, null], name);
    // The signatures sign the outputs.
    const changed = { ...tx, outputs: [{ ...tx.outputs[0], amount: 39_999n }] };
    assertEquals(verdicts(changed, spent), ["EVAL_FALSE", "SIG_NULLFAIL"], name);
  }
  // Bare multisig (which scure does not sign): `<dummy> <sig> <sig>` over the legacy digest.
  const spent = [{ amount: 50_000n, script: multisig.script }];
  const tx: Tx = {
    version: 2,
    segwitFlag: false,
    inputs: [{
      txid: new Uint8Array(32).fill(9),
      index: 0,
      finalScriptSig: new Uint8Array(),
      sequence: 0xfffffffd,
    }],
    outputs: [{ script: other.wpkh, amount: 40_000n }],
    lockTime: 0,
  };
  const digest = new TxScriptChecker(tx, spent).signatureHash(
    0,
    "base",
    SigHash.ALL,
    multisig.script,
  );
  const sigs = [keys[0], keys[1]].map((k) =>
    Uint8Array.of(...secp256k1.sign(digest, k.secret, { prehash: false, format: "der" }), 0x01)
  );
  const scriptSig = (dummy: number, list: Uint8Array[]) =>
    Uint8Array.of(dummy, ...list.flatMap((sig) => [...pushScript(sig)]));
  tx.inputs[0].finalScriptSig = scriptSig(0x00, sigs);
  assertEquals(verdicts(tx, spent), [null, null]);
  // Signatures must come in the keys' order.
  tx.inputs[0].finalScriptSig = scriptSig(0x00, sigs.toReversed());
  assertEquals(verdicts(tx, spent), ["EVAL_FALSE", "SIG_NULLFAIL"]);
  // A dummy other than empty breaks NULLDUMMY, a consensus rule.
  tx.inputs[0].finalScriptSig = scriptSig(0x51, sigs);
  assertEquals(verdicts(tx, spent), ["SIG_NULLDUMMY", "SIG_NULLDUMMY"]);
  assertEquals(scriptErrorText("SIG_NULLDUMMY"), "Dummy CHECKMULTISIG argument must be zero");
  // One signature for a 2-of-3: the stack runs out.
  tx.inputs[0].finalScriptSig = scriptSig(0x00, sigs.slice(0, 1));
  assertEquals(verdicts(tx, spent), ["INVALID_STACK_OPERATION", "INVALID_STACK_OPERATION"]);
});

Deno.test("script: a taproot script-path spend signed by scure verifies; its leaf signature is checked", () => {
  const leaf = p2tr_pk(other.xOnly);
  const payment = p2tr(key.xOnly, { script: leaf.script });
  const spent = [{ amount: 70_000n, script: payment.script }];
  const signer = new Transaction({ allowUnknownOutputs: true });
  signer.addInput({
    txid: new Uint8Array(32).fill(5),
    index: 1,
    witnessUtxo: spent[0],
    tapLeafScript: payment.tapLeafScript,
  });
  signer.addOutput({ script: key.wpkh, amount: 60_000n });
  signer.sign(other.secret);
  signer.finalize();
  const tx = decodeTx(signer.toBytes(true, true));
  assertEquals(tx.witnesses![0].length, 3); // signature, leaf script, control block
  assertEquals(verdicts(tx, spent), [null, null]);
  tx.witnesses![0][0] = tx.witnesses![0][0].map((byte, i) => i === 10 ? byte ^ 1 : byte);
  assertEquals(verdicts(tx, spent), ["SCHNORR_SIG", "SCHNORR_SIG"]);
  // An empty signature is a failed check, not an error: the leaf then leaves false.
  tx.witnesses![0][0] = new Uint8Array();
  assertEquals(verdicts(tx, spent), ["EVAL_FALSE", "EVAL_FALSE"]);
});

Deno.test("script: hostile shapes end in Core's verdicts: an unreadable push after a signature check, and a taproot leaf of an unknown version", () => {
  // P2SH `<key> CHECKSIG <PUSHDATA4 with a huge length>`: the signature's digest covers the
  // unreadable tail (Core signs it as it is); the script then fails where the push is read.
  const redeem = Uint8Array.of(33, ...key.publicKey, 0xac, 0x4e, 0xfb, 0xff, 0xff, 0xff);
  let { tx } = spend(key.wpkh);
  const spent = [{
    amount: 100_000n,
    script: Uint8Array.of(0xa9, 0x14, ...ripemd160(sha256(redeem)), 0x87),
  }];
  const sig = Uint8Array.of(
    ...secp256k1.sign(new Uint8Array(32), key.secret, {
      prehash: false,
      format: "der",
    }),
    0x01,
  );
  tx = { ...tx, witnesses: undefined };
  tx.inputs[0].finalScriptSig = Uint8Array.of(...pushScript(sig), ...pushScript(redeem));
  assertEquals(verdicts(tx, spent), ["BAD_OPCODE", "SIG_NULLFAIL"]);

  // A leaf of version 0x50 the output commits to: valid by consensus (kept for later soft
  // forks), refused by policy. Its control block starts 0x50, so an annex must follow it.
  const script = Uint8Array.of(0x51);
  const [outputKey, parity] = taprootTweakPubkey(key.xOnly, leafHash(script, 0x50));
  const leafSpent = [{ amount: 100_000n, script: Uint8Array.of(0x51, 0x20, ...outputKey) }];
  tx.inputs[0].finalScriptSig = new Uint8Array();
  tx.witnesses = [[script, Uint8Array.of(0x50 | parity, ...key.xOnly), Uint8Array.of(0x50)]];
  assertEquals(verdicts(tx, leafSpent), [null, "DISCOURAGE_UPGRADABLE_TAPROOT_VERSION"]);
  tx.witnesses = [[
    Uint8Array.of(0x52),
    Uint8Array.of(0x50 | parity, ...key.xOnly),
    Uint8Array.of(0x50),
  ]];
  assertEquals(verdicts(tx, leafSpent), ["WITNESS_PROGRAM_MISMATCH", "WITNESS_PROGRAM_MISMATCH"]);
});

Deno.test("script: checkInputScripts words failures as Core's mempool and block reasons", () => {
  const { tx, spent } = spend(key.wpkh);
  derParts(tx.witnesses![0][0]).s[3] ^= 1;
  const source = `${hashToHex(sha256(key.wpkh))}:1`;
  const detail = `input 0 of ${hashToHex(txid(tx))} (wtxid ${
    hashToHex(wtxid(tx))
  }), spending ${source}`;
  const policy = assertThrows(
    () => checkInputScripts(tx, spent, STANDARD_SCRIPT_VERIFY_FLAGS),
    ValidationError,
  );
  assertEquals(
    [policy.reason, policy.detail, policy.kind],
    [
      "mempool-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)",
      detail,
      "policy",
    ],
  );
  const consensus = assertThrows(
    () => checkInputScripts(tx, spent, BLOCK_SCRIPT_VERIFY_FLAGS),
    ValidationError,
  );
  assertEquals(
    [consensus.reason, consensus.kind],
    [
      "block-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)",
      "consensus",
    ],
  );
  // An output beyond 2^63 - 1 sats (refused earlier by checkTransaction) leaves no digest to check.
  const unencodable = { ...tx, outputs: [{ ...tx.outputs[0], amount: 1n << 63n }] };
  const unsupported = assertThrows(
    () => checkInputScripts(unencodable, spent, BLOCK_SCRIPT_VERIFY_FLAGS),
    ValidationError,
  );
  assertEquals(unsupported.reason, `block-script-verify-flag-failed (${UNSUPPORTED_SCRIPT_TEXT})`);
  assertEquals(unsupported.kind, "unsupported");
  // The P2WPKH script the spent output has is what the checker needs, not the key.
  assertEquals(p2wpkh(key.publicKey).script, key.wpkh);
});

Deno.test("script: random scripts, scriptSigs and witnesses end in a verdict under every flag set, never an exception", () => {
  let state = 2026;
  const random = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  const bytes = (n: number) => Array.from({ length: n }, () => random(256));
  /** Pushes, keys and every kind of opcode (disabled, reserved, OP_SUCCESS and beyond). */
  const script = () => {
    const out: number[] = [];
    for (let n = random(30); n > 0; n--) {
      const pick = random(10);
      if (pick < 2) out.push(...pushScript(Uint8Array.from(bytes(random(80)))));
      else if (pick === 2) out.push(0x21, 0x02, ...bytes(32));
      else out.push(0x4c + random(0xb4));
    }
    return Uint8Array.from(out);
  };
  const verdicts = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const inner = script();
    const kind = random(3);
    const spent = kind === 0
      ? inner
      : kind === 1
      ? Uint8Array.of(0x00, 0x20, ...sha256(inner))
      : Uint8Array.of(0x51, 0x20, ...bytes(32));
    const witness = kind === 1
      ? [script(), inner]
      : kind === 2
      ? [script(), script(), Uint8Array.of(0xc0, ...bytes(32))]
      : [];
    const tx: Tx = {
      version: random(3),
      segwitFlag: witness.length > 0,
      inputs: [{
        txid: new Uint8Array(32).fill(1),
        index: 0,
        finalScriptSig: kind === 0 ? script() : new Uint8Array(),
        sequence: random(2) ? 0xffffffff : random(1000),
      }],
      outputs: [{ amount: 1000n, script: Uint8Array.of(0x51) }],
      witnesses: witness.length > 0 ? [witness] : undefined,
      lockTime: random(1000),
    };
    const checker = new TxScriptChecker(tx, [{ amount: 2000n, script: spent }]);
    for (const flags of [0, BLOCK_SCRIPT_VERIFY_FLAGS, STANDARD_SCRIPT_VERIFY_FLAGS]) {
      verdicts.add(checker.verifyInput(0, flags) ?? "OK");
    }
  }
  // Many rules were reached, passing scripts among them.
  assert(verdicts.has("OK") && verdicts.size > 15, [...verdicts].join());
});
