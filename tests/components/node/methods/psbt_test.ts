/**
 * The PSBT methods against a real node process over HTTP: createpsbt's
 * exact BIP 174 bytes and decodepsbt's Core shape and key order;
 * witness UTXOs, partial signatures (made with `@scure/btc-signer`),
 * sighash, key paths and unknown fields decoded with the fee;
 * utxoupdatepsbt from the UTXO set, the mempool and a descriptor;
 * combinepsbt of two half-signed copies, finalizepsbt into a transaction
 * the mempool accepts and a block mines; converttopsbt and joinpsbts;
 * analyzepsbt through every role, with its estimate, what inputs lack and
 * Core's own vectors; and every error these methods raise.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { base64, hex } from "@scure/base";
import { Transaction } from "@scure/btc-signer";
import { assert, assertEquals } from "../../../assert.ts";
import { rejects, startRealNode } from "../real_node.ts";
import { signTx, TestKey } from "../chain/chain_helpers.ts";
import {
  encodeTx,
  hash160,
  hashFromHex,
  scriptToAddress,
  txid,
} from "../../../../components/node/chain/mod.ts";

const key = new TestKey(21);
const other = new TestKey(22);
const ADDRESS = scriptToAddress(key.wpkh)!;
const OTHER = scriptToAddress(other.wpkh)!;
/** How the tests read and write PSBTs with the library: every field kept. */
const OPTIONS = { unknown: "ignore", allowUnknownOutputs: true } as const;

/** BIP 174 framing of an unsigned transaction with empty input and output maps. */
function blankPsbtHex(rawTx: string, inputs: number, outputs: number): string {
  const length = rawTx.length / 2;
  assert(length < 0xfd, "one-byte compact size");
  return "70736274ff" + "0100" + length.toString(16).padStart(2, "0") + rawTx + "00" +
    "00".repeat(inputs + outputs);
}

const psbtOf = (tx: Transaction) => base64.encode(tx.toPSBT(0));
const load = (psbt: string) => Transaction.fromPSBT(base64.decode(psbt), OPTIONS);

/**
 * A PSBT spending output 0 of a made-up transaction paying 1 BTC to
 * `script`, with that transaction as the non-witness UTXO when
 * `nonWitness`, else as the witness UTXO only; 0.0001 BTC of fee.
 */
function spending(script: Uint8Array, nonWitness: boolean): string {
  const previous = new Transaction(OPTIONS);
  previous.addInput({ txid: new Uint8Array(32).fill(7), index: 0 });
  previous.addOutput({ script, amount: 1_0000_0000n });
  const tx = new Transaction({ ...OPTIONS, allowUnknownInputs: true, disableScriptCheck: true });
  tx.addInput({
    txid: previous.id,
    index: 0,
    ...(nonWitness
      ? { nonWitnessUtxo: previous.toBytes(true, false) }
      : { witnessUtxo: { script, amount: 1_0000_0000n } }),
  });
  tx.addOutput({ script: other.wpkh, amount: 9999_0000n });
  return psbtOf(tx);
}

/**
 * PSBTs of Core's `rpc_psbt.py` (version 0) and what it says of them: an
 * unspendable UTXO, an amount past MAX_MONEY in a UTXO and in an output,
 * and an input signed but not finalized.
 */
const CORE_VECTORS = {
  unspendable: "cHNidP8BAJoCAAAAAljoeiG1ba8MI76OcHBFbDNvfLqlyHV5JPVFiHuyq911AAAAAAD/////g40EJ9Ds" +
    "ZQpoqka7CwmK6kQiwHGyyng1Kgd5WdB86h0BAAAAAP////8CcKrwCAAAAAAWAEHYXCtx0AYLCcmIauuBXlCZ" +
    "HdoSTQDh9QUAAAAAFv8/wADXYP/7//////8JxOh0LR2HAI8AAAAAAAEBIADC6wsAAAAAF2oUt/X69ELjeX2n" +
    "Tof+fZ10l+OyAokDAQcJAwEHEAABAACAAAEBIADC6wsAAAAAF2oUt/X69ELjeX2nTof+fZ10l+OyAokDAQcJ" +
    "AwEHENkMak8AAAAA",
  inputValue: "cHNidP8BAHECAAAAAfA00BFgAm6tp86RowwH6BMImQNL5zXUcTT97XoLGz0BAAAAAAD/////AgD5ApUA" +
    "AAAAFgAUKNw0x8HRctAgmvoevm4u1SbN7XL87QKVAAAAABYAFPck4gF7iL4NL4wtfRAKgQbghiTUAAAAAAAB" +
    "AR8AgIFq49AHABYAFJUDtxf2PHo641HEOBOAIvFMNTr2AAAA",
  outputValue: "cHNidP8BAHECAAAAAfA00BFgAm6tp86RowwH6BMImQNL5zXUcTT97XoLGz0BAAAAAAD/////AgCAgWrj" +
    "0AcAFgAUKNw0x8HRctAgmvoevm4u1SbN7XL87QKVAAAAABYAFPck4gF7iL4NL4wtfRAKgQbghiTUAAAAAAAB" +
    "AR8A8gUqAQAAABYAFJUDtxf2PHo641HEOBOAIvFMNTr2AAAA",
  finalizer: "cHNidP8BAHECAAAAAZYezcxdnbXoQCmrD79t/LzDgtUo9ERqixk8wgioAobrAAAAAAD9////AlDDAAAA" +
    "AAAAFgAUy/UxxZuzZswcmFnN/E9DGSiHLUsuGPUFAAAAABYAFLsH5o0R38wXx+X2cCosTMCZnQ4baAAAAAAB" +
    "AR8A4fUFAAAAABYAFOBI2h5thf3+Lflb2LGCsVSZwsltIgIC/i4dtVARCRWtROG0HHoGcaVklzJUcwo5homg" +
    "GkSNAnJHMEQCIGx7zKcMIGr7cEES9BR4Kdt/pzPTK3fKWcGyCJXb7MVnAiALOBgqlMH4GbC1HDh/HmylmO54" +
    "fyEy4lKde7/BT/PWxwEBAwQBAAAAIgYC/i4dtVARCRWtROG0HHoGcaVklzJUcwo5homgGkSNAnIYDwVpQ1QA" +
    "AIABAACAAAAAgAAAAAAAAAAAAAAiAgL+CIiB59NSCssOJRGiMYQK1chahgAaaJpIXE41Cyir+xgPBWlDVAAA" +
    "gAEAAIAAAACAAQAAAAAAAAAA",
};

Deno.test("PSBT methods: create, decode, update, combine, finalize, convert, join", async (t) => {
  // Every result is checked against its documented shape, as Core's -rpcdoccheck checks it.
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  const call = node.call;
  const blocks: string[] = await call("generatetoaddress", [10, ADDRESS]);
  await call("generatetoaddress", [1, OTHER]);
  await call("generatetoaddress", [100, ADDRESS]);
  const coinbase = async (height: number) => (await call("getblock", [blocks[height - 1]])).tx[0];
  const otherCoinbase = (await call("getblock", [await call("getblockhash", [11])])).tx[0];
  const spk = async (id: string) => (await call("gettxout", [id, 0])).scriptPubKey;

  await t.step("createpsbt: BIP 174 bytes, and decodepsbt's shape in Core's order", async () => {
    const inputs = [{ txid: await coinbase(1), vout: 0 }];
    const outputs = [{ [OTHER]: 1.5 }, { data: "00010203" }];
    const psbt = await call("createpsbt", [inputs, outputs, 7, false, 3]);
    const raw = await call("createrawtransaction", [inputs, outputs, 7, false, 3]);
    assertEquals(hex.encode(base64.decode(psbt)), blankPsbtHex(raw, 1, 2));
    assertEquals(await call("converttopsbt", [raw]), psbt);
    const decoded = await call("decodepsbt", [psbt]);
    assertEquals(Object.keys(decoded), [
      "tx",
      "global_xpubs",
      "psbt_version",
      "proprietary",
      "unknown",
      "inputs",
      "outputs",
    ]);
    assertEquals(decoded, {
      tx: await call("decoderawtransaction", [raw]),
      global_xpubs: [],
      psbt_version: 0,
      proprietary: [],
      unknown: {},
      inputs: [{}],
      outputs: [{}, {}],
    });
    assertEquals([decoded.tx.version, decoded.tx.locktime], [3, 7]);
    assertEquals(decoded.tx.vin[0].sequence, 0xfffffffe);
    // An explicit sequence without `replaceable` is taken as given.
    const final = [{ ...inputs[0], sequence: 0xffffffff }];
    const finalSequence = await call("decodepsbt", [await call("createpsbt", [final, outputs])]);
    assertEquals(finalSequence.tx.vin[0].sequence, 0xffffffff);
    // Without inputs there is nothing to sign: complete, and extracted as is.
    const empty = await call("createpsbt", [[], [{ [OTHER]: 1 }]]);
    assertEquals(await call("finalizepsbt", [empty]), {
      hex: await call("createrawtransaction", [[], [{ [OTHER]: 1 }]]),
      complete: true,
    });
  });

  await t.step("witness UTXO, partial signature, sighash, key path, unknown; fee", async () => {
    const id = await coinbase(2);
    const tx = new Transaction(OPTIONS);
    tx.addInput({
      txid: id,
      index: 0,
      witnessUtxo: { script: key.wpkh, amount: 50_0000_0000n },
      sighashType: 1,
      bip32Derivation: [[key.publicKey, { fingerprint: 0xdeadbeef, path: [0x80000054, 1] }]],
      unknown: [[{ type: 0xf0, key: Uint8Array.of(1) }, Uint8Array.of(2)]],
    });
    tx.addOutput({ script: other.wpkh, amount: 49_9999_0000n });
    tx.signIdx(key.secret, 0);
    const [pubkey, sig] = tx.getInput(0).partialSig![0];
    const decoded = await call("decodepsbt", [psbtOf(tx)]);
    assertEquals(Object.keys(decoded.inputs[0]), [
      "witness_utxo",
      "partial_signatures",
      "sighash",
      "bip32_derivs",
      "unknown",
    ]);
    assertEquals(decoded.inputs[0], {
      witness_utxo: { amount: 50, scriptPubKey: await spk(id) },
      partial_signatures: { [hex.encode(pubkey)]: hex.encode(sig) },
      sighash: "ALL",
      bip32_derivs: [{
        pubkey: hex.encode(key.publicKey),
        master_fingerprint: "deadbeef",
        path: "m/84h/1",
      }],
      unknown: { f001: "02" },
    });
    assertEquals(Object.keys(decoded.inputs[0].witness_utxo.scriptPubKey), [
      "asm",
      "desc",
      "hex",
      "address",
      "type",
    ]);
    assertEquals(decoded.fee, 0.0001);
    assertEquals(Object.keys(decoded).at(-1), "fee");
    // Finalized, the input keeps its UTXO and final witness only.
    const final = await call("finalizepsbt", [psbtOf(tx), false]);
    assertEquals(final.complete, true);
    const finalInput = (await call("decodepsbt", [final.psbt])).inputs[0];
    assertEquals(Object.keys(finalInput), ["witness_utxo", "final_scriptwitness", "unknown"]);
    assertEquals(finalInput.final_scriptwitness, [hex.encode(sig), hex.encode(pubkey)]);
  });

  await t.step(
    "utxoupdatepsbt, combinepsbt of half-signed copies, finalizepsbt, mining",
    async () => {
      const mine = await coinbase(3);
      const inputs = [{ txid: mine, vout: 0 }, { txid: otherCoinbase, vout: 0 }];
      const unsigned = await call("createpsbt", [inputs, [{ [ADDRESS]: 99.999 }]]);
      const updated = await call("utxoupdatepsbt", [unsigned]);
      const decoded = await call("decodepsbt", [updated]);
      assertEquals(decoded.inputs, [
        { witness_utxo: { amount: 50, scriptPubKey: await spk(mine) } },
        { witness_utxo: { amount: 50, scriptPubKey: await spk(otherCoinbase) } },
      ]);
      assertEquals(decoded.fee, 0.001);

      const half = (signer: TestKey, index: number) => {
        const tx = load(updated);
        tx.signIdx(signer.secret, index);
        return psbtOf(tx);
      };
      const [a, b] = [half(key, 0), half(other, 1)];
      const notYet = await call("finalizepsbt", [a]);
      assertEquals(Object.keys(notYet), ["psbt", "complete"]);
      assertEquals(notYet.complete, false);
      const partly = (await call("decodepsbt", [notYet.psbt])).inputs;
      assertEquals(partly.map((i: object) => Object.keys(i)), [
        ["witness_utxo", "final_scriptwitness"],
        ["witness_utxo"],
      ]);

      const combined = await call("combinepsbt", [[a, b]]);
      const both = (await call("decodepsbt", [combined])).inputs;
      assertEquals(
        both.map((i: { partial_signatures: object }) => Object.keys(i.partial_signatures)),
        [
          [hex.encode(key.publicKey)],
          [hex.encode(other.publicKey)],
        ],
      );
      assertEquals(await call("combinepsbt", [[combined, a, b]]), combined);
      assertEquals((await call("finalizepsbt", [combined, false])).complete, true);
      const final = await call("finalizepsbt", { psbt: combined });
      assertEquals(Object.keys(final), ["hex", "complete"]);
      assertEquals(final.complete, true);
      const sent = await call("sendrawtransaction", [final.hex]);
      assertEquals(sent, (await call("decoderawtransaction", [final.hex])).txid);
      const [block] = await call("generatetoaddress", [1, ADDRESS]);
      assert((await call("getblock", [block])).tx.includes(sent));
    },
  );

  await t.step("finalizepsbt leaves an input whose signature does not verify", async () => {
    const id = await coinbase(4);
    const tx = new Transaction(OPTIONS);
    tx.addInput({ txid: id, index: 0, witnessUtxo: { script: key.wpkh, amount: 50_0000_0000n } });
    tx.addOutput({ script: other.wpkh, amount: 49_0000_0000n });
    tx.signIdx(key.secret, 0);
    // The same signature over another amount: well formed, but not this input's.
    const forged = new Transaction(OPTIONS);
    forged.addOutput({ script: other.wpkh, amount: 39_0000_0000n });
    forged.addInput({
      txid: id,
      index: 0,
      witnessUtxo: { script: key.wpkh, amount: 40_0000_0000n },
      partialSig: tx.getInput(0).partialSig,
    });
    const psbt = psbtOf(forged);
    assertEquals(await call("finalizepsbt", [psbt]), { psbt, complete: false });
  });

  await t.step("utxoupdatepsbt: a mempool parent, and key origins from a descriptor", async () => {
    const funding = signTx([{
      outpoint: { txid: hashFromHex(await coinbase(5)), index: 0 },
      amount: 50_0000_0000n,
      script: key.wpkh,
      key,
    }], [{ script: key.wpkh, amount: 49_9999_0000n }]);
    const parent = await call("sendrawtransaction", [hex.encode(encodeTx(funding))]);
    const unsigned = await call("createpsbt", [[{ txid: parent, vout: 0 }], [{ [OTHER]: 49 }]]);
    const descriptor = `wpkh([deadbeef/84h/1h/0h]${hex.encode(key.publicKey)})`;
    const updated = await call("utxoupdatepsbt", [unsigned, [descriptor]]);
    const [input] = (await call("decodepsbt", [updated])).inputs;
    assertEquals(Object.keys(input), ["witness_utxo", "non_witness_utxo", "bip32_derivs"]);
    assertEquals(input.non_witness_utxo.txid, parent);
    assertEquals(input.witness_utxo.amount, 49.9999);
    assertEquals(input.bip32_derivs, [{
      pubkey: hex.encode(key.publicKey),
      master_fingerprint: "deadbeef",
      path: "m/84h/1h/0h",
    }]);
    // The non-witness UTXO is kept without witness data, as Core keeps it.
    assertEquals(input.non_witness_utxo.hash, parent);
  });

  await t.step("converttopsbt and joinpsbts", async () => {
    const id = await coinbase(6);
    const signed = signTx([{
      outpoint: { txid: hashFromHex(id), index: 0 },
      amount: 50_0000_0000n,
      script: key.wpkh,
      key,
    }], [{ script: other.wpkh, amount: 49_9999_0000n }]);
    const signedHex = hex.encode(encodeTx(signed));
    await rejects(
      call("converttopsbt", [signedHex]),
      -22,
      "Inputs must not have scriptSigs and scriptWitnesses",
    );
    const converted = await call("converttopsbt", [signedHex, true]);
    const expected = await call("createpsbt", [[{ txid: id, vout: 0 }], [{ [OTHER]: 49.9999 }]]);
    assertEquals(converted, expected);
    assertEquals(
      hex.encode(txid(signed).reverse()),
      (await call("decodepsbt", [converted])).tx.txid,
    );
    await rejects(call("converttopsbt", ["zz"]), -22, "TX decode failed");

    const first = await call("createpsbt", [[{ txid: id, vout: 0 }], [{ [OTHER]: 1 }], 5, true, 1]);
    const second = await call("createpsbt", [
      [{ txid: await coinbase(7), vout: 1 }],
      [{
        [ADDRESS]: 2,
      }],
      9,
      true,
      2,
    ]);
    const joined = await call("decodepsbt", [await call("joinpsbts", [[first, second]])]);
    assertEquals([joined.tx.version, joined.tx.locktime], [2, 5]);
    assertEquals(
      joined.tx.vin.map((i: { txid: string; vout: number }) => `${i.txid}:${i.vout}`).sort(),
      [`${id}:0`, `${await coinbase(7)}:1`].sort(),
    );
    assertEquals(
      joined.tx.vout.map((o: { value: number }) => o.value).sort(),
      [1, 2],
    );
    await rejects(
      call("joinpsbts", [[first]]),
      -8,
      "At least two PSBTs are required to join PSBTs.",
    );
    await rejects(
      call("joinpsbts", [[first, first]]),
      -8,
      `Input ${id}:0 exists in multiple PSBTs`,
    );
  });

  await t.step("analyzepsbt: creator to extractor, the estimate, what inputs lack", async () => {
    const id = await coinbase(10);
    const analyze = (psbt: string) => call("analyzepsbt", [psbt]);
    const unsigned = await call("createpsbt", [[{ txid: id, vout: 0 }], [{ [OTHER]: 49.9999 }]]);
    assertEquals(await analyze(unsigned), {
      inputs: [{ has_utxo: false, is_final: false, next: "updater" }],
      next: "updater",
    });
    // Core names keys by key id: hash160 of the public key, a P2WPKH output's program.
    const keyId = hex.encode(hash160(key.publicKey));
    assertEquals(keyId, hex.encode(key.wpkh.subarray(2)));
    // The UTXO alone names no public key: none to sign with, nor to size a dummy signature.
    assertEquals(await analyze(await call("utxoupdatepsbt", [unsigned])), {
      inputs: [{ has_utxo: true, is_final: false, next: "updater", missing: { pubkeys: [keyId] } }],
      fee: 0.0001,
      next: "updater",
    });
    const descriptor = `wpkh([deadbeef/84h/1h/0h]${hex.encode(key.publicKey)})`;
    const updated = await call("utxoupdatepsbt", [unsigned, [descriptor]]);
    // 110 vB: a 71-byte dummy signature and the key as witness; 10000 sat over 110 vB.
    const estimate = { estimated_vsize: 110, estimated_feerate: 0.00090909, fee: 0.0001 };
    const toSign = await analyze(updated);
    assertEquals(toSign, {
      inputs: [{
        has_utxo: true,
        is_final: false,
        next: "signer",
        missing: { signatures: [keyId] },
      }],
      ...estimate,
      next: "signer",
    });
    assertEquals(Object.keys(toSign), [
      "inputs",
      "estimated_vsize",
      "estimated_feerate",
      "fee",
      "next",
    ]);
    assertEquals(Object.keys(toSign.inputs[0]), ["has_utxo", "is_final", "next", "missing"]);

    const tx = load(updated);
    tx.signIdx(key.secret, 0);
    const signed = psbtOf(tx);
    assertEquals(await analyze(signed), {
      inputs: [{ has_utxo: true, is_final: false, next: "finalizer" }],
      ...estimate,
      next: "finalizer",
    });
    const finalized = (await call("finalizepsbt", [signed, false])).psbt;
    assertEquals(await analyze(finalized), {
      inputs: [{ has_utxo: true, is_final: true, next: "extractor" }],
      ...estimate,
      next: "extractor",
    });
    const extracted = (await call("finalizepsbt", [signed])).hex;
    assertEquals((await call("decoderawtransaction", [extracted])).vsize, 110);

    // The PSBT waits for its earliest input: here one whose UTXO is unknown.
    const unknown = "11".repeat(32);
    const two = await call("createpsbt", [
      [{ txid: id, vout: 0 }, { txid: unknown, vout: 1 }],
      [{ [OTHER]: 49.9999 }],
    ]);
    assertEquals(await analyze(await call("utxoupdatepsbt", [two, [descriptor]])), {
      inputs: [
        { has_utxo: true, is_final: false, next: "signer", missing: { signatures: [keyId] } },
        { has_utxo: false, is_final: false, next: "updater" },
      ],
      next: "updater",
    });
    // Without inputs there is nothing to wait for; outputs beyond the inputs make a negative fee,
    // its rate rounded down.
    assertEquals(await analyze(await call("createpsbt", [[], [{ [OTHER]: 1 }]])), {
      estimated_vsize: 41,
      estimated_feerate: -24.39024391,
      fee: -1,
      next: "extractor",
    });
  });

  await t.step("analyzepsbt: scripts, taproot and witness UTXOs, Core's vectors", async () => {
    const analyze = (psbt: string) => call("analyzepsbt", [psbt]);
    const updater = (missing?: object) => ({
      inputs: [{ has_utxo: true, is_final: false, next: "updater", ...(missing && { missing }) }],
      fee: 0.0001,
      next: "updater",
    });
    // A script known only by its hash is missing, when the UTXO is the whole previous transaction.
    const witnessScript = Uint8Array.of(0x21, ...key.publicKey, 0xac);
    const wsh = Uint8Array.of(0x00, 0x20, ...sha256(witnessScript));
    assertEquals(
      await analyze(spending(wsh, true)),
      updater({ witnessscript: hex.encode(sha256(witnessScript)) }),
    );
    const sh = Uint8Array.of(0xa9, 0x14, ...hash160(key.wpkh), 0x87);
    assertEquals(
      await analyze(spending(sh, true)),
      updater({ redeemscript: hex.encode(hash160(key.wpkh)) }),
    );
    // With a witness UTXO only, a spend that does not reach a witness stops before that.
    assertEquals(await analyze(spending(wsh, false)), updater());
    assertEquals(await analyze(spending(sh, false)), updater());
    // A taproot key path: no key gives a signature, yet a 64-byte dummy sizes it (99 vB).
    assertEquals(await analyze(spending(key.tr, false)), {
      ...updater(),
      estimated_vsize: 99,
      estimated_feerate: 0.0010101,
      fee: 0.0001,
    });

    const invalid = (error: string) => ({ next: "creator", error: `PSBT is not valid. ${error}` });
    assertEquals(
      await analyze(CORE_VECTORS.unspendable),
      invalid("Input 0 spends unspendable output"),
    );
    assertEquals(await analyze(CORE_VECTORS.inputValue), invalid("Input 0 has invalid value"));
    assertEquals(await analyze(CORE_VECTORS.outputValue), invalid("Output amount invalid"));
    // 141 vB with its 71-byte signature; 1410 sat of fee.
    assertEquals(await analyze(CORE_VECTORS.finalizer), {
      inputs: [{ has_utxo: true, is_final: false, next: "finalizer" }],
      estimated_vsize: 141,
      estimated_feerate: 0.0001,
      fee: 0.0000141,
      next: "finalizer",
    });
    await rejects(call("analyzepsbt", ["not base64!"]), -22, "TX decode failed invalid base64");
  });

  await t.step("errors", async () => {
    const psbt = await call("createpsbt", [[{ txid: await coinbase(8), vout: 0 }], [{
      [OTHER]: 1,
    }]]);
    const bytes = base64.decode(psbt);
    const failed = (reason: string) => `TX decode failed ${reason}`;
    for (const method of ["decodepsbt", "finalizepsbt", "utxoupdatepsbt"]) {
      await rejects(call(method, ["not base64!"]), -22, failed("invalid base64"));
    }
    await rejects(call("combinepsbt", [["@@@@"]]), -22, failed("invalid base64"));
    await rejects(call("joinpsbts", [[psbt, "@@@@"]]), -22, failed("invalid base64"));
    await rejects(
      call("decodepsbt", [""]),
      -22,
      failed("DataStream::read(): end of data: iostream error"),
    );
    await rejects(
      call("decodepsbt", [base64.encode(Uint8Array.of(1, 2, 3, 4, 5, 6))]),
      -22,
      failed("Invalid PSBT magic bytes: iostream error"),
    );
    await rejects(
      call("decodepsbt", [base64.encode(bytes.subarray(0, bytes.length - 3))]),
      -22,
      failed("DataStream::read(): end of data: iostream error"),
    );
    await rejects(
      call("decodepsbt", [base64.encode(Uint8Array.of(...bytes, 0))]),
      -22,
      failed("extra data after PSBT"),
    );
    await rejects(
      call("decodepsbt", [base64.encode(Uint8Array.of(0x70, 0x73, 0x62, 0x74, 0xff, 0))]),
      -22,
      failed("No unsigned transaction was provided: iostream error"),
    );
    await rejects(call("combinepsbt", [[]]), -8, "Parameter 'txs' cannot be empty");
    const another = await call("createpsbt", [[{ txid: await coinbase(9), vout: 0 }], [{
      [OTHER]: 1,
    }]]);
    await rejects(
      call("combinepsbt", [[psbt, another]]),
      -8,
      "PSBTs not compatible (different transactions)",
    );
    await rejects(
      call("createpsbt", [[{ txid: await coinbase(8), vout: 0 }], [{ [OTHER]: 1 }], 0, true, 4]),
      -8,
      "Invalid parameter, version out of range(1~3)",
    );
    await rejects(
      call("utxoupdatepsbt", [psbt, ["wpkh(nokey)"]]),
      -5,
      "wpkh(): key 'nokey' is not valid",
    );
  });
});
