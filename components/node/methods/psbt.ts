/**
 * The `rawtransactions` methods on Partially Signed Bitcoin Transactions
 * (BIP 174, version 0), as Bitcoin Core v30's `rpc/rawtransaction.cpp`
 * defines them: createpsbt, converttopsbt, decodepsbt (every field Core
 * knows, in Core's order, and the fee once every UTXO is known),
 * combinepsbt, finalizepsbt (finalized inputs checked with the node's
 * script interpreter, as Core's signature producer checks them),
 * utxoupdatepsbt, joinpsbts and analyzepsbt (Core's `AnalyzePSBT`: what
 * each input lacks, found by signing it without keys, and the size and
 * fee rate with dummy signatures), with Core's help texts, key order and
 * errors. `@scure/btc-signer` parses, serializes, combines and finalizes;
 * this module maps its failures onto the reasons Core's deserializer gives
 * (`TX decode failed <reason>`, -22).
 *
 * `nodeMethods` (`mod.ts`, whose example runs it) adds `psbtMethods(…)` to
 * the server's table next to the raw transaction methods.
 * @module
 */
import { ripemd160 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64, createBase58check, hex } from "@scure/base";
import { Transaction } from "@scure/btc-signer";
import { PSBTGlobal, PSBTInput, PSBTOutput, RawPSBTV0 } from "@scure/btc-signer/psbt.js";
import { TaprootControlBlock } from "@scure/btc-signer/psbt.js";
import { CompactSizeLen, RawOldTx, RawTx, VarBytes } from "@scure/btc-signer/script.js";
import { compareBytes, concatBytes } from "@scure/btc-signer/utils.js";
import * as P from "micro-packed";
import {
  bytesEqual,
  decodeTx,
  encodeTx,
  formatPath,
  hash160,
  isPayToScriptHash,
  isUnspendable,
  type KeyOrigin,
  MAX_MONEY,
  moneyRange,
  outpointKey,
  prevout,
  pushScript,
  signedAmount,
  SigningProvider,
  solver,
  type SpentOutput,
  STANDARD_SCRIPT_VERIFY_FLAGS,
  type Tx,
  txid,
  type TxoutType,
  TxScriptChecker,
  txSigOpCost,
  txSizes,
  witnessProgram,
} from "../chain/mod.ts";
import {
  Amount,
  asArr,
  asBool,
  asStr,
  asUint32,
  defineMethod,
  helpExampleCli,
  type JsonInput,
  type ResultSpec,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { feeRatePerKvB, virtualSize } from "../mempool/mod.ts";
import { evalScanObject } from "./descriptors.ts";
import {
  amount,
  arr,
  bool,
  CURRENCY_UNIT,
  elision,
  hexStr,
  num,
  obj,
  objDyn,
  str,
} from "./docs.ts";
import {
  decodeTxParam,
  isWitnessArg,
  scriptPubKeyJson,
  scriptToAsm,
  txToJson,
} from "./encoding.ts";
import { constructTransaction, createTxArgs } from "./rawtransactions.ts";
import type { NodeServices } from "./services.ts";
import { findCoins, SIGHASH_DEFAULT, SIGHASH_NAMES } from "./signing.ts";

/** A PSBT's maps as `RawPSBTV0` decodes them. */
type RawPsbt = ReturnType<typeof RawPSBTV0.decode>;
type RawInput = RawPsbt["inputs"][number];
type RawOutput = RawPsbt["outputs"][number];
type KeyPath = { fingerprint: number; path: number[] };

/** Scure's options for a PSBT kept as Core keeps it: every field and any script. */
const TX_OPTIONS = {
  allowUnknownInputs: true,
  allowUnknownOutputs: true,
  allowUnknownVersion: true,
  allowLegacyWitnessUtxo: true,
  disableScriptCheck: true,
  unknown: "ignore",
  proprietary: "ignore",
} as const;

const PSBT_MAGIC = Uint8Array.of(0x70, 0x73, 0x62, 0x74, 0xff);

/** Core reads with `std::ios_base::failure`, whose text libstdc++ suffixes. */
const streamError = (message: string) => `${message}: iostream error`;

/** Failures of the library's decoder and the reason Core's deserializer gives for each. */
const DECODE_REASONS: readonly (readonly [RegExp, string])[] = [
  [/Unexpected end of buffer/, streamError("DataStream::read(): end of data")],
  [/missing unsignedTx/, streamError("No unsigned transaction was provided")],
  [
    /scriptSig found in unsignedTx/,
    streamError("Unsigned tx does not have empty scriptSigs and scriptWitnesses."),
  ],
  [/^PSBTv[1-9]/, streamError("Unsupported version number")],
  [/Unexpected outputs left/, "extra data after PSBT"],
  [
    /Not outputs inputs/,
    streamError("Outputs provided does not match the number of outputs in transaction."),
  ],
  [/nonWitnessUtxo: wrong txid/, streamError("Non-witness UTXO does not match outpoint hash")],
  [/not in nonWitnessUtxo/, streamError("Input specifies output index that does not exist")],
];

function decodeFailed(reason: string): never {
  throw new RpcError(RpcErrorCode.DESERIALIZATION_ERROR, `TX decode failed ${reason}`);
}

/** Runs a library decoder, turning its failure into Core's -22 with Core's reason. */
function decoding<T>(decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const known = DECODE_REASONS.find(([pattern]) => pattern.test(message));
    decodeFailed(known?.[1] ?? message);
  }
}

/** A decoded PSBT: its raw maps (to read) and scure's transaction (to combine and finalize). */
export interface Psbt {
  readonly raw: RawPsbt;
  readonly tx: Transaction;
}

/** Core's `DecodeBase64PSBT`, with its errors: -22 `TX decode failed <reason>`. */
export function decodePsbt(text: string): Psbt {
  let bytes: Uint8Array;
  try {
    bytes = base64.decode(text);
  } catch {
    decodeFailed("invalid base64");
  }
  if (bytes.length < PSBT_MAGIC.length) {
    decodeFailed(streamError("DataStream::read(): end of data"));
  }
  if (!bytesEqual(bytes.subarray(0, PSBT_MAGIC.length), PSBT_MAGIC)) {
    decodeFailed(streamError("Invalid PSBT magic bytes"));
  }
  const raw = decoding(() => RawPSBTV0.decode(bytes));
  // The library takes an empty map after the last output as a compatibility encoding; Core reads
  // exactly one map per output and refuses what follows.
  if (raw.outputs.length !== raw.global.unsignedTx!.outputs.length) {
    decodeFailed("extra data after PSBT");
  }
  return { raw, tx: decoding(() => Transaction.fromPSBT(bytes, TX_OPTIONS)) };
}

/** Serializes raw maps (Core's `EncodeBase64(ssTx << psbtx)`). */
function encodeRaw(raw: RawPsbt): string {
  return base64.encode(RawPSBTV0.encode(raw));
}

/** A transaction in the library's PSBT form (the legacy serialization the PSBT holds). */
function psbtTx(tx: Tx): ReturnType<typeof RawOldTx.decode> {
  return RawOldTx.decode(RawOldTx.encode(tx));
}

/** A blank PSBT for `tx`: one empty map per input and per output. */
function blankPsbt(tx: Tx): string {
  return encodeRaw({
    global: { unsignedTx: psbtTx(tx) },
    inputs: tx.inputs.map(() => ({})),
    outputs: tx.outputs.map(() => ({})),
  });
}

/** The unsigned transaction of raw maps, as the node's {@linkcode Tx}. */
function unsignedTx(raw: RawPsbt): Tx {
  return { ...raw.global.unsignedTx!, segwitFlag: false };
}

/** `WriteHDKeypath`: `m/84h/1h/0h`. */
function keyPathJson(pubkey: Uint8Array, origin: KeyPath): Map<string, JsonInput> {
  return new Map<string, JsonInput>([
    ["pubkey", hex.encode(pubkey)],
    ["master_fingerprint", origin.fingerprint.toString(16).padStart(8, "0")],
    ["path", "m" + formatPath(origin.path, false)],
  ]);
}

/** Entries in the order of Core's `std::map` over their byte keys. */
function sortedBy<T>(entries: readonly T[], key: (entry: T) => Uint8Array): T[] {
  return [...entries].sort((a, b) => compareBytes(key(a), key(b)));
}

/** Key, byte value pairs as a JSON object of hex strings, in Core's key order. */
function hexMap(entries: readonly (readonly [Uint8Array, Uint8Array])[]): Map<string, JsonInput> {
  return new Map(sortedBy(entries, ([key]) => key).map(([k, v]) => [hex.encode(k), hex.encode(v)]));
}

const PROPRIETARY_KEY = P.struct({
  identifier: VarBytes,
  subtype: CompactSizeLen,
  key: P.bytes(null),
});

/** A proprietary map (`PSBTProprietary`): identifier, subtype, key and value. */
function proprietaryJson(entries: readonly [Uint8Array, Uint8Array][]): Map<string, JsonInput>[] {
  return sortedBy(entries, ([key]) => key).map(([key, value]) => {
    const parsed = PROPRIETARY_KEY.decode(key);
    return new Map<string, JsonInput>([
      ["identifier", hex.encode(parsed.identifier)],
      ["subtype", parsed.subtype],
      ["key", hex.encode(parsed.key)],
      ["value", hex.encode(value)],
    ]);
  });
}

type FieldTable = typeof PSBTGlobal | typeof PSBTInput | typeof PSBTOutput;
type FieldCoder = P.CoderType<unknown>;

/** Fields the library knows by name that Core v30 does not: Core keeps them as unknown. */
const UNKNOWN_TO_CORE = {
  global: ["genericSignedMessage"],
  input: ["porCommitment", "p2cKeyTweak"],
  output: ["dnssecProof"],
} as const;

/** The full key of an unknown field: its type (compact size), then its key data. */
function unknownKey(key: { type: number; key: Uint8Array }): Uint8Array {
  return concatBytes(CompactSizeLen.encode(key.type), key.key);
}

/**
 * A map's unknown fields as Core lists them (full key, type included, to
 * value), including those of {@linkcode UNKNOWN_TO_CORE}, re-encoded.
 */
function unknownJson(
  map: Record<string, unknown>,
  table: FieldTable,
  names: readonly string[],
): Map<string, JsonInput> {
  const unknown = (map.unknown ?? []) as [{ type: number; key: Uint8Array }, Uint8Array][];
  const entries: [Uint8Array, Uint8Array][] = unknown.map((
    [key, value],
  ) => [unknownKey(key), value]);
  for (const name of names) {
    if (map[name] === undefined) continue;
    const [type, keyCoder, valueCoder] = (table as Record<string, unknown>)[name] as [
      number,
      FieldCoder | false,
      FieldCoder,
    ];
    const typeBytes = CompactSizeLen.encode(type);
    if (!keyCoder) {
      entries.push([typeBytes, valueCoder.encode(map[name])]);
      continue;
    }
    for (const [key, value] of map[name] as [unknown, unknown][]) {
      entries.push([concatBytes(typeBytes, keyCoder.encode(key)), valueCoder.encode(value)]);
    }
  }
  return hexMap(entries);
}

/** Core's `SighashToStr`: a defined hash type's name, `""` for any other. */
function sighashName(type: number): string {
  return SIGHASH_NAMES.find(([name, value]) => value === type && name !== "DEFAULT")?.[0] ?? "";
}

/** A redeem or witness script as Core shows it: `asm`, `hex`, `type`. */
function scriptJson(script: Uint8Array): Map<string, JsonInput> {
  return scriptPubKeyJson(script, { includeAddress: false });
}

type MuSigKey = {
  participantPubkey: Uint8Array;
  aggregatePubkey: Uint8Array;
  leafHash?: Uint8Array;
};

/** The MuSig2 participants of an input or output (aggregate key order). */
function musigParticipantsJson(
  entries: readonly [Uint8Array, Uint8Array[]][],
): Map<string, JsonInput>[] {
  return sortedBy(entries, ([aggregate]) => aggregate).map(([aggregate, participants]) =>
    new Map<string, JsonInput>([
      ["aggregate_pubkey", hex.encode(aggregate)],
      ["participant_pubkeys", participants.map((key) => hex.encode(key))],
    ])
  );
}

/** MuSig2 public nonces or partial signatures, in Core's (aggregate, leaf, participant) order. */
function musigValuesJson(
  entries: readonly [MuSigKey, Uint8Array][],
  valueName: "pubnonce" | "partial_sig",
): Map<string, JsonInput>[] {
  const order = ({ participantPubkey, aggregatePubkey, leafHash }: MuSigKey) =>
    concatBytes(aggregatePubkey, leafHash ?? new Uint8Array(32), participantPubkey);
  return sortedBy(entries, ([key]) => order(key)).map(([key, value]) => {
    const out = new Map<string, JsonInput>([
      ["participant_pubkey", hex.encode(key.participantPubkey)],
      ["aggregate_pubkey", hex.encode(key.aggregatePubkey)],
    ]);
    if (key.leafHash) out.set("leaf_hash", hex.encode(key.leafHash));
    out.set(valueName, hex.encode(value));
    return out;
  });
}

/** Taproot key origins: x-only key, fingerprint, path and the leaves it appears in. */
function tapKeyPathsJson(
  entries: readonly [Uint8Array, { hashes: Uint8Array[]; der: KeyPath }][],
): Map<string, JsonInput>[] {
  return sortedBy(entries, ([key]) => key).map(([key, { hashes, der }]) => {
    const out = keyPathJson(key, der);
    out.set("leaf_hashes", sortedBy(hashes, (h) => h).map((h) => hex.encode(h)));
    return out;
  });
}

/** `taproot_scripts`: each leaf script once, with its control blocks (Core's `CScript` order). */
function tapScriptsJson(entries: NonNullable<RawInput["tapLeafScript"]>): Map<string, JsonInput>[] {
  const leaves = new Map<string, { script: Uint8Array; version: number; blocks: Uint8Array[] }>();
  for (const [block, scriptWithVersion] of entries) {
    const script = scriptWithVersion.subarray(0, -1);
    const version = scriptWithVersion[scriptWithVersion.length - 1];
    const id = `${hex.encode(script)}:${version}`;
    const leaf = leaves.get(id) ?? { script, version, blocks: [] };
    leaf.blocks.push(TaprootControlBlock.encode(block));
    leaves.set(id, leaf);
  }
  // A `CScript` sorts by length first, then by its bytes.
  const ordered = [...leaves.values()].sort((a, b) =>
    a.script.length - b.script.length || compareBytes(a.script, b.script) || a.version - b.version
  );
  return ordered.map((leaf) =>
    new Map<string, JsonInput>([
      ["script", hex.encode(leaf.script)],
      ["leaf_ver", leaf.version],
      ["control_blocks", sortedBy(leaf.blocks, (b) => b).map((b) => hex.encode(b))],
    ])
  );
}

/** One input of `decodepsbt`, keys in the order Core pushes them. */
function inputJson(input: RawInput): Map<string, JsonInput> {
  const out = new Map<string, JsonInput>();
  if (input.witnessUtxo) {
    out.set(
      "witness_utxo",
      new Map<string, JsonInput>([
        ["amount", new Amount(signedAmount(input.witnessUtxo.amount))],
        ["scriptPubKey", scriptPubKeyJson(input.witnessUtxo.script)],
      ]),
    );
  }
  if (input.nonWitnessUtxo) {
    out.set("non_witness_utxo", txToJson(input.nonWitnessUtxo as Tx, { includeHex: false }));
  }
  if (input.partialSig?.length) {
    // Core keys partial signatures by key id (hash160 of the public key).
    const sigs = sortedBy(input.partialSig, ([pubkey]) => hash160(pubkey));
    out.set("partial_signatures", new Map(sigs.map(([k, v]) => [hex.encode(k), hex.encode(v)])));
  }
  if (input.sighashType !== undefined) out.set("sighash", sighashName(input.sighashType & 0xff));
  if (input.redeemScript?.length) out.set("redeem_script", scriptJson(input.redeemScript));
  if (input.witnessScript?.length) out.set("witness_script", scriptJson(input.witnessScript));
  if (input.bip32Derivation?.length) {
    const paths = sortedBy(input.bip32Derivation, ([key]) => key);
    out.set("bip32_derivs", paths.map(([key, origin]) => keyPathJson(key, origin)));
  }
  if (input.finalScriptSig?.length) {
    out.set(
      "final_scriptSig",
      new Map<string, JsonInput>([
        ["asm", scriptToAsm(input.finalScriptSig, true)],
        ["hex", hex.encode(input.finalScriptSig)],
      ]),
    );
  }
  if (input.finalScriptWitness?.length) {
    out.set("final_scriptwitness", input.finalScriptWitness.map((item) => hex.encode(item)));
  }
  const preimages = [
    ["ripemd160_preimages", input.ripemd160],
    ["sha256_preimages", input.sha256],
    ["hash160_preimages", input.hash160],
    ["hash256_preimages", input.hash256],
  ] as const;
  for (const [name, entries] of preimages) if (entries?.length) out.set(name, hexMap(entries));
  if (input.tapKeySig) out.set("taproot_key_path_sig", hex.encode(input.tapKeySig));
  if (input.tapScriptSig?.length) {
    const sigs = sortedBy(input.tapScriptSig, ([k]) => concatBytes(k.pubKey, k.leafHash));
    out.set(
      "taproot_script_path_sigs",
      sigs.map(([key, sig]) =>
        new Map<string, JsonInput>([
          ["pubkey", hex.encode(key.pubKey)],
          ["leaf_hash", hex.encode(key.leafHash)],
          ["sig", hex.encode(sig)],
        ])
      ),
    );
  }
  if (input.tapLeafScript?.length) out.set("taproot_scripts", tapScriptsJson(input.tapLeafScript));
  if (input.tapBip32Derivation?.length) {
    out.set("taproot_bip32_derivs", tapKeyPathsJson(input.tapBip32Derivation));
  }
  if (input.tapInternalKey) out.set("taproot_internal_key", hex.encode(input.tapInternalKey));
  if (input.tapMerkleRoot) out.set("taproot_merkle_root", hex.encode(input.tapMerkleRoot));
  if (input.musig2ParticipantPubkeys?.length) {
    out.set("musig2_participant_pubkeys", musigParticipantsJson(input.musig2ParticipantPubkeys));
  }
  if (input.musig2PubNonce?.length) {
    out.set("musig2_pubnonces", musigValuesJson(input.musig2PubNonce, "pubnonce"));
  }
  if (input.musig2PartialSig?.length) {
    out.set("musig2_partial_sigs", musigValuesJson(input.musig2PartialSig, "partial_sig"));
  }
  if (input.proprietary?.length) out.set("proprietary", proprietaryJson(input.proprietary));
  const unknown = unknownJson(input, PSBTInput, UNKNOWN_TO_CORE.input);
  if (unknown.size > 0) out.set("unknown", unknown);
  return out;
}

/** One output of `decodepsbt`, keys in the order Core pushes them. */
function outputJson(output: RawOutput): Map<string, JsonInput> {
  const out = new Map<string, JsonInput>();
  if (output.redeemScript?.length) out.set("redeem_script", scriptJson(output.redeemScript));
  if (output.witnessScript?.length) out.set("witness_script", scriptJson(output.witnessScript));
  if (output.bip32Derivation?.length) {
    const paths = sortedBy(output.bip32Derivation, ([key]) => key);
    out.set("bip32_derivs", paths.map(([key, origin]) => keyPathJson(key, origin)));
  }
  if (output.tapInternalKey) out.set("taproot_internal_key", hex.encode(output.tapInternalKey));
  if (output.tapTree?.length) {
    out.set(
      "taproot_tree",
      output.tapTree.map((leaf) =>
        new Map<string, JsonInput>([
          ["depth", leaf.depth],
          ["leaf_ver", leaf.version],
          ["script", hex.encode(leaf.script)],
        ])
      ),
    );
  }
  if (output.tapBip32Derivation?.length) {
    out.set("taproot_bip32_derivs", tapKeyPathsJson(output.tapBip32Derivation));
  }
  if (output.musig2ParticipantPubkeys?.length) {
    out.set("musig2_participant_pubkeys", musigParticipantsJson(output.musig2ParticipantPubkeys));
  }
  if (output.proprietary?.length) out.set("proprietary", proprietaryJson(output.proprietary));
  const unknown = unknownJson(output, PSBTOutput, UNKNOWN_TO_CORE.output);
  if (unknown.size > 0) out.set("unknown", unknown);
  return out;
}

const base58check = createBase58check(sha256);

/** `global_xpubs`: each extended key (BIP 32 serialization) with its origin, in Core's order. */
function globalXpubsJson(xpubs: NonNullable<RawPsbt["global"]["xpub"]>): Map<string, JsonInput>[] {
  const originOrder = (a: KeyPath, b: KeyPath) =>
    a.fingerprint - b.fingerprint || a.path.length - b.path.length ||
    a.path.findIndex((step, i) => step !== b.path[i]);
  return [...xpubs].sort(([, a], [, b]) => originOrder(a, b)).map(([xpub, origin]) => {
    const serialized = new Uint8Array(78);
    const view = new DataView(serialized.buffer);
    view.setUint32(0, xpub.version);
    serialized[4] = xpub.depth;
    view.setUint32(5, xpub.parentFingerprint);
    view.setUint32(9, xpub.childNumber);
    serialized.set(xpub.chainCode, 13);
    serialized.set(xpub.publicKey, 45);
    const out = keyPathJson(xpub.publicKey, origin);
    out.delete("pubkey");
    return new Map<string, JsonInput>([["xpub", base58check.encode(serialized)], ...out]);
  });
}

/** The previous output an input spends, from its non-witness UTXO or else its witness UTXO. */
function utxoOf(
  input: RawInput,
  index: number,
): { amount: bigint; script: Uint8Array } | undefined {
  return input.nonWitnessUtxo?.outputs[index] ?? input.witnessUtxo;
}

/** `decodepsbt`'s result. */
function psbtToJson(raw: RawPsbt): Map<string, JsonInput> {
  const tx = unsignedTx(raw);
  const out = new Map<string, JsonInput>([
    ["tx", txToJson(tx, { includeHex: false })],
    ["global_xpubs", globalXpubsJson(raw.global.xpub ?? [])],
    ["psbt_version", raw.global.version ?? 0],
    ["proprietary", proprietaryJson(raw.global.proprietary ?? [])],
    ["unknown", unknownJson(raw.global, PSBTGlobal, UNKNOWN_TO_CORE.global)],
    ["inputs", raw.inputs.map(inputJson)],
    ["outputs", raw.outputs.map(outputJson)],
  ]);
  // The fee only when every input's UTXO is known and every amount is in the money range.
  let totalIn = 0n;
  for (const [i, input] of raw.inputs.entries()) {
    const utxo = utxoOf(input, tx.inputs[i].index);
    const value = utxo && signedAmount(utxo.amount);
    if (value === undefined || !moneyRange(value) || !moneyRange(totalIn + value)) return out;
    totalIn += value;
  }
  const totalOut = outputTotal(tx);
  if (totalOut !== undefined) out.set("fee", new Amount(totalIn - totalOut));
  return out;
}

/** What the outputs pay in all; undefined when an amount or the sum leaves the money range. */
function outputTotal(tx: Tx): bigint | undefined {
  let total = 0n;
  for (const output of tx.outputs) {
    const value = signedAmount(output.amount);
    if (!moneyRange(value) || !moneyRange(total + value)) return undefined;
    total += value;
  }
  return total;
}

/** Stands for an unknown spent output where the script checker needs one for every input. */
const UNKNOWN_UTXO: SpentOutput = { amount: MAX_MONEY, script: new Uint8Array() };

/** Whether an input is already finalized (`PSBTInputSigned`). */
function inputFinalized(input: { finalScriptSig?: Uint8Array; finalScriptWitness?: Uint8Array[] }) {
  return (input.finalScriptSig?.length ?? 0) > 0 || (input.finalScriptWitness?.length ?? 0) > 0;
}

/**
 * Core's `FinalizePSBT`: every input the library can finalize from its
 * partial signatures and whose final scripts then verify against the UTXO
 * it spends (Core's signature producer checks the same), the others left
 * as they were; complete when every input is finalized.
 */
function finalizePsbt(psbt: Psbt): { tx: Transaction; complete: boolean } {
  const bytes = psbt.tx.toPSBT(0);
  const trial = Transaction.fromPSBT(bytes, TX_OPTIONS);
  const inputs = Array.from({ length: trial.inputsLength }, (_, i) => trial.getInput(i));
  const finalized = inputs.map((input, i) => {
    if (inputFinalized(input)) return false;
    try {
      trial.finalizeIdx(i);
      return true;
    } catch {
      return false; // not enough signatures, or no UTXO: left for later
    }
  });
  const spent = inputs.map((input) => utxoOf(input as RawInput, input.index!) ?? UNKNOWN_UTXO);
  // Only built when something was finalized: a transaction without inputs does not decode.
  const checker = finalized.some(Boolean) &&
    new TxScriptChecker(decodeTx(trial.toBytes(true, true)), spent);
  const result = Transaction.fromPSBT(bytes, TX_OPTIONS);
  let complete = true;
  for (const [i, input] of inputs.entries()) {
    if (checker && finalized[i] && checker.verifyInput(i, STANDARD_SCRIPT_VERIFY_FLAGS) === null) {
      result.finalizeIdx(i);
    } else if (!inputFinalized(input)) {
      complete = false;
    }
  }
  return { tx: result, complete };
}

/** Core's `CombinePSBTs`: the first PSBT with every other one merged in. */
function combinePsbts(psbts: readonly Psbt[]): Transaction {
  const [first, ...rest] = psbts;
  const id = txid(unsignedTx(first.raw));
  for (const other of rest) {
    if (!bytesEqual(txid(unsignedTx(other.raw)), id)) {
      throw new RpcError(
        RpcErrorCode.INVALID_PARAMETER,
        "PSBTs not compatible (different transactions)",
      );
    }
    first.tx.combine(other.tx);
  }
  return first.tx;
}

/** Fisher–Yates with a strong random source (`std::shuffle` with `FastRandomContext`). */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  const random = crypto.getRandomValues(new Uint32Array(out.length));
  for (let i = out.length - 1; i > 0; i--) {
    const j = random[i] % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * `joinpsbts`: the inputs and outputs of every PSBT in one (shuffled), the
 * highest transaction version and the lowest lock time, each input's
 * partial signatures and final scripts dropped (`AddInput`), and the global
 * unknown fields of all (the first of a key kept). As in Core, the global
 * xpubs do not survive the shuffle.
 */
function joinPsbts(psbts: readonly Psbt[]): string {
  let version = 1;
  let lockTime = 0xffffffff;
  const inputs: { txin: Tx["inputs"][number]; map: RawInput }[] = [];
  const outputs: { txout: Tx["outputs"][number]; map: RawOutput }[] = [];
  const unknown = new Map<string, NonNullable<RawPsbt["global"]["unknown"]>[number]>();
  for (const { raw } of psbts) {
    const tx = unsignedTx(raw);
    version = Math.max(version, tx.version >>> 0);
    lockTime = Math.min(lockTime, tx.lockTime >>> 0);
    for (const [i, txin] of tx.inputs.entries()) {
      const key = outpointKey(prevout(txin));
      // `AddInput` compares whole inputs: the outpoint again with another sequence passes.
      if (
        inputs.some((e) =>
          outpointKey(prevout(e.txin)) === key && e.txin.sequence === txin.sequence
        )
      ) {
        throw new RpcError(
          RpcErrorCode.INVALID_PARAMETER,
          `Input ${key} exists in multiple PSBTs`,
        );
      }
      const { partialSig: _s, finalScriptSig: _f, finalScriptWitness: _w, ...map } = raw.inputs[i];
      inputs.push({ txin, map });
    }
    tx.outputs.forEach((txout, i) => outputs.push({ txout, map: raw.outputs[i] }));
    for (const entry of raw.global.unknown ?? []) {
      const id = hex.encode(unknownKey(entry[0]));
      if (!unknown.has(id)) unknown.set(id, entry);
    }
  }
  const ins = shuffled(inputs);
  const outs = shuffled(outputs);
  return encodeRaw({
    global: {
      unsignedTx: psbtTx({
        version,
        segwitFlag: false,
        lockTime,
        inputs: ins.map((e) => e.txin),
        outputs: outs.map((e) => e.txout),
      }),
      ...(unknown.size > 0 ? { unknown: [...unknown.values()] } : {}),
    },
    inputs: ins.map((e) => e.map),
    outputs: outs.map((e) => e.map),
  });
}

/** A previous transaction from the transaction index, else the mempool (`ProcessPSBT`). */
function previousTransaction(node: NodeServices, hash: Uint8Array): Tx | undefined {
  const block = node.txindex?.find(hash);
  const indexed = block &&
    node.chain.readBlock(block)?.txs.find((tx) => bytesEqual(txid(tx), hash));
  return indexed ?? node.mempool.get(hash)?.tx;
}

/** Core's `IsSegWitOutput`: a witness program, or P2SH of one whose redeem script is known. */
function isSegwitOutput(provider: SigningProvider, script: Uint8Array): boolean {
  if (witnessProgram(script)) return true;
  if (!isPayToScriptHash(script)) return false;
  const redeem = provider.script(script.subarray(2, 22));
  return redeem !== undefined && witnessProgram(redeem) !== undefined;
}

/** What Core's signature producer learns about spending `script` without keys. */
interface SpendInfo {
  redeemScript?: Uint8Array;
  /** Whether the spend is segwit v0 (the producer then records the witness UTXO). */
  witness: boolean;
  keyPaths: [Uint8Array, KeyPath][];
  tapInternalKey?: Uint8Array;
  tapKeyPaths: [Uint8Array, { hashes: Uint8Array[]; der: KeyPath }][];
}

/** A key origin as the PSBT field holds it. */
function keyPath(origin: KeyOrigin): KeyPath {
  const fingerprint = new DataView(origin.fingerprint.buffer, origin.fingerprint.byteOffset);
  return { fingerprint: fingerprint.getUint32(0), path: [...origin.path] };
}

/**
 * `ProduceSignature` with a provider that hides private keys: the P2SH
 * redeem script, the origins of the keys a P2PK, P2PKH or P2WPKH spend
 * needs, and a key-path taproot output's internal key and its origin.
 */
function spendInfo(provider: SigningProvider, script: Uint8Array): SpendInfo {
  const info: SpendInfo = { witness: false, keyPaths: [], tapKeyPaths: [] };
  let inner = script;
  if (isPayToScriptHash(script)) {
    const redeem = provider.script(script.subarray(2, 22));
    if (!redeem) return info;
    info.redeemScript = inner = redeem;
  }
  const { type, solutions } = solver(inner);
  if (type === "pubkey" || type === "pubkeyhash" || type === "witness_v0_keyhash") {
    info.witness = type === "witness_v0_keyhash";
    const pubkey = type === "pubkey" ? solutions[0] : provider.publicKey(solutions[0]);
    const origin = pubkey && provider.keyOrigin(pubkey);
    if (origin) info.keyPaths.push([pubkey, keyPath(origin)]);
  } else if (type === "witness_v1_taproot" && !info.redeemScript) {
    const internal = provider.taprootInternalKey(solutions[0]);
    const origin = internal && provider.keyOrigin(internal);
    if (internal) info.tapInternalKey = internal;
    if (origin) info.tapKeyPaths.push([internal, { hashes: [], der: keyPath(origin) }]);
  }
  return info;
}

/** `FromSignatureData`: adds what `info` learned to an input's or output's map. */
function addSpendInfo(map: RawInput | RawOutput, info: SpendInfo): void {
  if (info.redeemScript) map.redeemScript ??= info.redeemScript.slice();
  const known = (list: [Uint8Array, unknown][] | undefined, key: Uint8Array) =>
    list?.some(([k]) => bytesEqual(k, key)) ?? false;
  for (const entry of info.keyPaths) {
    if (!known(map.bip32Derivation, entry[0])) (map.bip32Derivation ??= []).push(entry);
  }
  if (info.tapInternalKey) map.tapInternalKey ??= info.tapInternalKey.slice();
  for (const entry of info.tapKeyPaths) {
    if (!known(map.tapBip32Derivation, entry[0])) (map.tapBip32Derivation ??= []).push(entry);
  }
}

/**
 * Core's `ProcessPSBT` for `utxoupdatepsbt`: each input without a
 * non-witness UTXO gets its previous transaction from the transaction index
 * or the mempool, else (segwit outputs only) its witness UTXO from the UTXO
 * set; each unfinalized input and each output then gets what the
 * descriptors tell about spending it ({@linkcode spendInfo}), a segwit v0
 * input its witness UTXO too; the non-witness UTXOs are dropped when every
 * input is segwit v1+ (`RemoveUnnecessaryTransactions`).
 */
function updatePsbt(node: NodeServices, raw: RawPsbt, provider: SigningProvider): void {
  const tx = unsignedTx(raw);
  const missing: number[] = [];
  for (const [i, input] of raw.inputs.entries()) {
    if (input.nonWitnessUtxo) continue;
    const previous = previousTransaction(node, prevout(tx.inputs[i]).txid);
    if (!previous) {
      missing.push(i);
      continue;
    }
    // Core keeps non-witness UTXOs without their witnesses.
    input.nonWitnessUtxo = RawTx.decode(encodeTx(previous, false)) as RawInput["nonWitnessUtxo"];
  }
  const coins = findCoins(tx, node.mempool.coins({ includeSpent: true }));
  for (const i of missing) {
    const coin = coins.get(outpointKey(prevout(tx.inputs[i])));
    if (coin && isSegwitOutput(provider, coin.script)) {
      raw.inputs[i].witnessUtxo = { amount: coin.amount, script: coin.script.slice() };
    }
  }
  for (const [i, input] of raw.inputs.entries()) {
    const utxo = utxoOf(input, tx.inputs[i].index);
    if (!utxo || inputFinalized(input)) continue;
    const info = spendInfo(provider, utxo.script);
    addSpendInfo(input, info);
    if (info.witness) input.witnessUtxo = { amount: utxo.amount, script: utxo.script.slice() };
  }
  tx.outputs.forEach((output, i) =>
    addSpendInfo(raw.outputs[i], spendInfo(provider, output.script))
  );
  const droppable = raw.inputs.every((input) => {
    const program = input.witnessUtxo && witnessProgram(input.witnessUtxo.script);
    return program !== undefined && program.version > 0;
  });
  if (droppable) { for (const input of raw.inputs) delete input.nonWitnessUtxo; }
}

/** Core's `PSBTRole`, earliest first: a PSBT goes next to the earliest role any input needs. */
const ROLES = ["creator", "updater", "signer", "finalizer", "extractor"] as const;
type Role = (typeof ROLES)[number];

/** An input's final scripts: the PSBT's own, or those signing completed (`FromSignatureData`). */
interface FinalScripts {
  readonly finalScriptSig: Uint8Array;
  readonly finalScriptWitness: Uint8Array[];
}

/**
 * A PSBT under `analyzepsbt`: its maps and unsigned transaction, the output
 * each input spends where known, and each input's final scripts, which
 * signing fills in as Core's `SignPSBTInput` fills its copy of the PSBT.
 */
interface Analysis {
  readonly raw: RawPsbt;
  readonly tx: Tx;
  readonly utxos: readonly (SpentOutput | undefined)[];
  readonly finals: FinalScripts[];
}

/** What signing an input found missing (`SignatureData`'s `missing_*`). */
interface Missing {
  /** Key ids of public keys no field names (a P2PKH or P2WPKH key). */
  readonly pubkeys: Uint8Array[];
  /** Key ids of keys without a signature. */
  readonly signatures: Uint8Array[];
  /** The hash160 of an unknown redeem script. */
  redeemScript?: Uint8Array;
  /** The SHA-256 of an unknown witness script. */
  witnessScript?: Uint8Array;
}

/** One input of `analyzepsbt` (`PSBTInputAnalysis`). */
interface InputAnalysis {
  readonly hasUtxo: boolean;
  readonly isFinal: boolean;
  readonly missing?: Missing;
  readonly next: Role;
}

/** The hash type `SignPSBTInput` signs with off taproot, unless told otherwise. */
const SIGHASH_ALL = 1;

/** `DUMMY_SIGNATURE_CREATOR`'s signature: DER of a 32-byte R and S, then SIGHASH_ALL (71 bytes). */
const DUMMY_SIGNATURE = Uint8Array.of(
  ...[0x30, 68, 0x02, 32, 0x01, ...new Uint8Array(31)],
  ...[0x02, 32, 0x01, ...new Uint8Array(31)],
  SIGHASH_ALL,
);

/** Its Schnorr signature: 64 zero bytes. */
const DUMMY_SCHNORR_SIGNATURE = new Uint8Array(64);

/** The unsigned transaction with each input's final scripts. */
function withFinals(tx: Tx, finals: readonly FinalScripts[]): Tx {
  return {
    ...tx,
    inputs: tx.inputs.map((input, i) => ({ ...input, finalScriptSig: finals[i].finalScriptSig })),
    witnesses: finals.map((final) => final.finalScriptWitness),
  };
}

/**
 * `VerifyScript` of input `i` with `scripts` under the standard flags:
 * `unknown` where the node's interpreter cannot evaluate the spend (P2WSH,
 * bare multisig, taproot script paths…). A Schnorr signature is checked
 * only with every spent output at hand (`precomputed`, Core's
 * `PrecomputedTransactionData`), as Core fails it without them.
 */
function verdict(
  analysis: Analysis,
  i: number,
  scripts: FinalScripts,
  precomputed: boolean,
): "valid" | "invalid" | "unknown" {
  const spent = analysis.utxos[i]!;
  const program = witnessProgram(spent.script);
  const taproot = program?.version === 1 && program.program.length === 32;
  if (taproot && !(precomputed && analysis.utxos.every(Boolean))) return "invalid";
  const tx = withFinals(analysis.tx, analysis.finals.with(i, scripts));
  const checker = new TxScriptChecker(tx, analysis.utxos.map((utxo) => utxo ?? UNKNOWN_UTXO));
  const error = checker.verifyInput(i, STANDARD_SCRIPT_VERIFY_FLAGS);
  return error === null ? "valid" : error === "UNSUPPORTED" ? "unknown" : "invalid";
}

/**
 * `PSBTInputSignedAndVerified`: the input's final scripts verify against
 * the output it spends. Final scripts the interpreter cannot evaluate are
 * taken as they are, as `finalizepsbt` takes them.
 */
function signedAndVerified(analysis: Analysis, i: number, precomputed: boolean): boolean {
  if (!analysis.utxos[i]) return false;
  const final = analysis.finals[i];
  const result = verdict(analysis, i, final, precomputed);
  return result === "valid" || (result === "unknown" && inputFinalized(final));
}

/**
 * Whether the input's sighash field or signatures disagree with the hash
 * type `SignPSBTInput` defaults to (taproot's DEFAULT, else ALL), which
 * stops it before signing.
 */
function sighashMismatch(input: RawInput, script: Uint8Array): boolean {
  const sighash = solver(script).type === "witness_v1_taproot" ? SIGHASH_DEFAULT : SIGHASH_ALL;
  if (input.sighashType !== undefined && input.sighashType !== sighash) return true;
  const schnorr = [
    ...(input.tapKeySig?.length ? [input.tapKeySig] : []),
    ...(input.tapScriptSig ?? []).map(([, sig]) => sig),
  ];
  if (sighash === SIGHASH_DEFAULT) return schnorr.some((sig) => sig.length !== 64);
  const typed = (sig: Uint8Array) => sig[sig.length - 1] === sighash;
  return schnorr.some((sig) => sig.length !== 65 || !typed(sig)) ||
    (input.partialSig ?? []).some(([, sig]) => !typed(sig));
}

/**
 * Core's `SignatureData` as `FillSignatureData` fills it from an input (the
 * public keys its partial signatures and key origins name, its redeem and
 * witness scripts) and what signing finds missing. `dummy` signs for every
 * key it knows (`DUMMY_SIGNATURE_CREATOR`, for the size estimate); else the
 * input's own signatures are all there is, as for a signer without keys.
 */
interface Signing {
  readonly input: RawInput;
  readonly known: SigningProvider;
  readonly dummy: boolean;
  readonly missing: Missing;
}

/** A {@linkcode Signing} for `input` (`FillSignatureData`). */
function signingFor(input: RawInput, dummy: boolean): Signing {
  const known = new SigningProvider();
  for (const [pubkey] of [...(input.partialSig ?? []), ...(input.bip32Derivation ?? [])]) {
    known.addKey(pubkey);
  }
  // A witness script is found by its hash160 too (`CScriptID`), as P2WSH looks it up.
  for (const script of [input.redeemScript, input.witnessScript]) {
    if (script?.length) known.addScript(script);
  }
  return { input, known, dummy, missing: { pubkeys: [], signatures: [] } };
}

/** `CreateSig`: the input's signature by `pubkey`, else a dummy one, else recorded missing. */
function createSig(signing: Signing, pubkey: Uint8Array): Uint8Array | undefined {
  const keyId = hash160(pubkey);
  const own = signing.input.partialSig?.find(([key]) => bytesEqual(hash160(key), keyId));
  if (own) return own[1];
  if (signing.dummy) return DUMMY_SIGNATURE;
  signing.missing.signatures.push(keyId);
  return undefined;
}

/** One `SignStep`: whether `script` is satisfied, its type, and the stack satisfying it. */
interface Step {
  readonly solved: boolean;
  readonly type: TxoutType;
  readonly stack: Uint8Array[];
}

/**
 * `SignStep` for the templates Core's legacy signer knows; a taproot
 * output by its key path only (the node's interpreter verifies no script
 * path), and without Core's miniscript satisfier for other witness scripts.
 */
function signStep(signing: Signing, script: Uint8Array): Step {
  const { type, solutions } = solver(script);
  const step = (stack?: Uint8Array[]): Step => ({ solved: !!stack, type, stack: stack ?? [] });
  switch (type) {
    case "pubkey": {
      const sig = createSig(signing, solutions[0]);
      return step(sig && [sig]);
    }
    case "pubkeyhash": {
      const pubkey = signing.known.publicKey(solutions[0]);
      if (!pubkey) signing.missing.pubkeys.push(solutions[0]);
      const sig = pubkey && createSig(signing, pubkey);
      return step(sig && [sig, pubkey!]);
    }
    case "scripthash": {
      const redeemScript = signing.known.script(solutions[0]);
      if (!redeemScript) signing.missing.redeemScript = solutions[0];
      return step(redeemScript && [redeemScript]);
    }
    case "witness_v0_scripthash": {
      const witnessScript = signing.known.script(ripemd160(solutions[0]));
      if (!witnessScript) signing.missing.witnessScript = solutions[0];
      return step(witnessScript && [witnessScript]);
    }
    case "multisig": {
      const required = solutions[0][0];
      // Every key is tried, so that each missing signature is recorded.
      const sigs = solutions.slice(1, -1).map((pubkey) => createSig(signing, pubkey))
        .filter((sig) => sig !== undefined).slice(0, required);
      // CHECKMULTISIG pops one item too many; signatures still missing stay empty pushes.
      const empty = Array.from({ length: 1 + required - sigs.length }, () => new Uint8Array());
      return {
        solved: sigs.length === required,
        type,
        stack: [empty[0], ...sigs, ...empty.slice(1)],
      };
    }
    case "witness_v0_keyhash":
      return step([solutions[0]]);
    case "witness_v1_taproot": {
      const own = signing.input.tapKeySig?.length ? signing.input.tapKeySig : undefined;
      const sig = own ?? (signing.dummy ? DUMMY_SCHNORR_SIGNATURE : undefined);
      return step(sig && [sig]);
    }
    default:
      return step();
  }
}

/** Types a witness script cannot take. */
const NOT_IN_WITNESS_SCRIPT: readonly TxoutType[] = [
  "scripthash",
  "witness_v0_scripthash",
  "witness_v0_keyhash",
];

/** What `ProduceSignature` made of an input: solved or not, a witness spend or not, its scripts. */
interface Produced {
  readonly solved: boolean;
  readonly witness: boolean;
  readonly scripts: FinalScripts;
}

/** `ProduceSignature`: through P2SH and segwit v0 down to the keys, then the final scripts. */
function produceSignature(signing: Signing, scriptPubKey: Uint8Array): Produced {
  let { solved, type, stack } = signStep(signing, scriptPubKey);
  let redeemScript: Uint8Array | undefined;
  if (solved && type === "scripthash") {
    redeemScript = stack[0];
    ({ solved, type, stack } = signStep(signing, redeemScript));
    solved &&= type !== "scripthash";
  }
  let witness: Uint8Array[] | undefined;
  if (solved && type === "witness_v0_keyhash") {
    const keyHash = Uint8Array.of(0x76, 0xa9, 0x14, ...stack[0], 0x88, 0xac);
    ({ solved, stack: witness } = signStep(signing, keyHash));
  } else if (solved && type === "witness_v0_scripthash") {
    const inner = signStep(signing, stack[0]);
    solved = inner.solved && !NOT_IN_WITNESS_SCRIPT.includes(inner.type);
    witness = [...inner.stack, stack[0]];
  } else if (type === "witness_v1_taproot" && !redeemScript) {
    witness = solved ? stack : [];
  }
  const pushes = [...(witness ? [] : stack), ...(redeemScript ? [redeemScript] : [])];
  return {
    solved,
    witness: witness !== undefined,
    scripts: {
      finalScriptSig: concatBytes(...pushes.map(pushScript)),
      finalScriptWitness: witness ?? [],
    },
  };
}

/**
 * Core's `SignPSBTInput` with no keys (`DUMMY_SIGNING_PROVIDER`), on a
 * transaction whose data is precomputed unless `dummy`: complete when the
 * input already verifies, or its final scripts are there, or its own
 * signatures (dummy ones for known keys when `dummy`) satisfy its script;
 * a completed input gets its final scripts. `missing` is what signing
 * found missing, when it got that far.
 */
function signInput(
  analysis: Analysis,
  i: number,
  dummy: boolean,
): { complete: boolean; missing?: Missing } {
  if (signedAndVerified(analysis, i, !dummy)) return { complete: true };
  const utxo = analysis.utxos[i];
  const input = analysis.raw.inputs[i];
  if (!utxo || sighashMismatch(input, utxo.script)) return { complete: false };
  // A witness UTXO may lie about the output it stands for: only a witness signature commits to it.
  const needsWitness = !input.nonWitnessUtxo;
  if (inputFinalized(analysis.finals[i])) return { complete: !needsWitness };
  const signing = signingFor(input, dummy);
  const produced = produceSignature(signing, utxo.script);
  if (needsWitness && !produced.witness) return { complete: false };
  // A spend the interpreter cannot evaluate is taken as its signatures make it, as Core would
  // verify it when they are valid.
  const complete = produced.solved &&
    (dummy || verdict(analysis, i, produced.scripts, true) !== "invalid");
  if (complete) analysis.finals[i] = produced.scripts;
  return { complete, missing: signing.missing };
}

/** `AnalyzePSBT`'s look at one input whose UTXO, if any, is valid. */
function analyzeInput(analysis: Analysis, i: number): InputAnalysis {
  const hasUtxo = analysis.utxos[i] !== undefined;
  if (signedAndVerified(analysis, i, true)) return { hasUtxo, isFinal: true, next: "extractor" };
  const { complete, missing } = signInput(analysis, i, false);
  if (complete) return { hasUtxo, isFinal: false, next: "finalizer" };
  const onlySignatures = missing !== undefined && missing.pubkeys.length === 0 &&
    !missing.redeemScript && !missing.witnessScript && missing.signatures.length > 0;
  return { hasUtxo, isFinal: false, missing, next: onlySignatures ? "signer" : "updater" };
}

/**
 * The virtual size of the finished transaction (`GetVirtualTransactionSize`
 * with its sigop cost): each input signed with dummy signatures where its
 * keys are known; undefined when some input cannot be solved so.
 */
function estimateVsize(analysis: Analysis, bytesPerSigop: number): number | undefined {
  for (let i = 0; i < analysis.finals.length; i++) {
    if (!signInput(analysis, i, true).complete) return undefined;
  }
  const tx = withFinals(analysis.tx, analysis.finals);
  const sigOpCost = txSigOpCost(tx, analysis.utxos as SpentOutput[]);
  return virtualSize(txSizes(tx).weight, sigOpCost, bytesPerSigop);
}

/** `analyzepsbt`'s `missing`, in the order Core pushes its keys. */
function missingJson(missing: Missing): Map<string, JsonInput> {
  const out = new Map<string, JsonInput>();
  if (missing.pubkeys.length > 0) out.set("pubkeys", missing.pubkeys.map((id) => hex.encode(id)));
  if (missing.redeemScript) out.set("redeemscript", hex.encode(missing.redeemScript));
  if (missing.witnessScript) out.set("witnessscript", hex.encode(missing.witnessScript));
  if (missing.signatures.length > 0) {
    out.set("signatures", missing.signatures.map((id) => hex.encode(id)));
  }
  return out;
}

/** One input of `analyzepsbt`: `next` before `missing`, as Core pushes them. */
function inputAnalysisJson(input: InputAnalysis): Map<string, JsonInput> {
  const out = new Map<string, JsonInput>([
    ["has_utxo", input.hasUtxo],
    ["is_final", input.isFinal],
    ["next", input.next],
  ]);
  const missing = input.missing && missingJson(input.missing);
  if (missing?.size) out.set("missing", missing);
  return out;
}

/**
 * Core's `AnalyzePSBT` and `analyzepsbt`'s result: each input's state and
 * the role it waits for; with every UTXO known, the fee and (when every
 * input can be solved) the estimated size and fee rate; the role the PSBT
 * waits for. An invalid UTXO or output amount gives only `next: creator`
 * and Core's `error`.
 */
function analyzePsbt(raw: RawPsbt, bytesPerSigop: number): Map<string, JsonInput> {
  const tx = unsignedTx(raw);
  const analysis: Analysis = {
    raw,
    tx,
    utxos: raw.inputs.map((input, i) => utxoOf(input, tx.inputs[i].index)),
    finals: raw.inputs.map((input) => ({
      finalScriptSig: input.finalScriptSig ?? new Uint8Array(),
      finalScriptWitness: input.finalScriptWitness ?? [],
    })),
  };
  const invalid = (error: string) =>
    new Map<string, JsonInput>([["next", "creator"], ["error", `PSBT is not valid. ${error}`]]);
  const inputs: InputAnalysis[] = [];
  let totalIn = 0n;
  for (const [i, utxo] of analysis.utxos.entries()) {
    if (utxo) {
      const value = signedAmount(utxo.amount);
      if (!moneyRange(value) || !moneyRange(totalIn + value)) {
        return invalid(`Input ${i} has invalid value`);
      }
      totalIn += value;
      if (isUnspendable(utxo.script)) return invalid(`Input ${i} spends unspendable output`);
    }
    inputs.push(analyzeInput(analysis, i));
  }
  const out = new Map<string, JsonInput>();
  if (inputs.length > 0) out.set("inputs", inputs.map(inputAnalysisJson));
  if (analysis.utxos.every(Boolean)) {
    const totalOut = outputTotal(tx);
    if (totalOut === undefined) return invalid("Output amount invalid");
    const fee = totalIn - totalOut;
    const vsize = estimateVsize(analysis, bytesPerSigop);
    if (vsize !== undefined) {
      out.set("estimated_vsize", vsize);
      out.set("estimated_feerate", new Amount(feeRatePerKvB(fee, vsize)));
    }
    out.set("fee", new Amount(fee));
  }
  const next = inputs.reduce<Role>(
    (role, input) => ROLES.indexOf(input.next) < ROLES.indexOf(role) ? input.next : role,
    "extractor",
  );
  out.set("next", next);
  return out;
}

/** `decodepsbt`'s documentation of a proprietary map. */
function proprietaryDoc(description: string, optional: boolean): ResultSpec {
  return arr("proprietary", description, [
    obj("", "", [
      hexStr("identifier", "The hex string for the proprietary identifier"),
      num("subtype", "The number for the subtype"),
      hexStr("key", "The hex for the key"),
      hexStr("value", "The hex for the value"),
    ]),
  ], optional);
}

/** `decodepsbt`'s documentation of a map's unknown fields. */
function unknownDoc(description: string, optional: boolean): ResultSpec {
  return {
    ...objDyn("unknown", description, [
      hexStr("key", "(key-value pair) An unknown key-value pair"),
    ]),
    ...(optional ? { optional } : {}),
  };
}

/** A redeem or witness script (`redeem_script`, `witness_script`). */
function scriptDoc(key: string, what: string): ResultSpec {
  return obj(key, "", [
    str("asm", `Disassembly of the ${what} script`),
    hexStr("hex", `The raw ${what} script bytes, hex-encoded`),
    str("type", "The type, eg 'pubkeyhash'"),
  ], true);
}

function bip32DerivsDoc(pubkeyDoc: string): ResultSpec {
  return arr("bip32_derivs", "", [
    obj("", "", [
      str("pubkey", pubkeyDoc),
      str("master_fingerprint", "The fingerprint of the master key"),
      str("path", "The path"),
    ]),
  ], true);
}

function tapBip32DerivsDoc(): ResultSpec {
  return arr("taproot_bip32_derivs", "", [
    obj("", "", [
      str("pubkey", "The x-only public key this path corresponds to"),
      str("master_fingerprint", "The fingerprint of the master key"),
      str("path", "The path"),
      arr("leaf_hashes", "The hashes of the leaves this pubkey appears in", [
        hexStr("hash", "The hash of a leaf this pubkey appears in"),
      ]),
    ]),
  ], true);
}

function musigParticipantsDoc(): ResultSpec {
  return arr("musig2_participant_pubkeys", "", [
    obj("", "", [
      hexStr(
        "aggregate_pubkey",
        "The compressed aggregate public key for which the participants create.",
      ),
      arr("participant_pubkeys", "", [
        hexStr("pubkey", "The compressed public keys that are aggregated for aggregate_pubkey."),
      ]),
    ]),
  ], true);
}

function musigValuesDoc(key: string, what: string, valueKey: string, valueDoc: string) {
  return arr(key, "", [
    obj("", "", [
      hexStr(
        "participant_pubkey",
        `The compressed public key of the participant that created this ${what}.`,
      ),
      hexStr(
        "aggregate_pubkey",
        `The compressed aggregate public key for which this ${what} is for.`,
      ),
      hexStr(
        "leaf_hash",
        "The hash of the leaf script that contains the aggregate pubkey being signed for. Omitted when signing for the internal key.",
        true,
      ),
      hexStr(valueKey, valueDoc),
    ]),
  ], true);
}

function preimagesDoc(key: string): ResultSpec {
  return {
    ...objDyn(key, "", [str("hash", "The hash and preimage that corresponds to it.")]),
    optional: true,
  };
}

/** A decoded transaction whose fields are those of `decoderawtransaction`. */
const TX_LAYOUT = elision("The layout is the same as the output of decoderawtransaction.");

/** `DecodePSBTInputs()`. */
function inputsDoc(): ResultSpec {
  return arr("inputs", "", [
    obj("", "", [
      obj(
        "non_witness_utxo",
        "Decoded network transaction for non-witness UTXOs",
        [TX_LAYOUT],
        true,
      ),
      obj("witness_utxo", "Transaction output for witness UTXOs", [
        num("amount", `The value in ${CURRENCY_UNIT}`),
        obj("scriptPubKey", "", [
          str("asm", "Disassembly of the output script"),
          str("desc", "Inferred descriptor for the output"),
          hexStr("hex", "The raw output script bytes, hex-encoded"),
          str("type", "The type, eg 'pubkeyhash'"),
          str("address", "The Bitcoin address (only if a well-defined address exists)", true),
        ]),
      ], true),
      {
        ...objDyn("partial_signatures", "", [
          str("pubkey", "The public key and signature that corresponds to it."),
        ]),
        optional: true,
      },
      str("sighash", "The sighash type to be used", true),
      scriptDoc("redeem_script", "redeem"),
      scriptDoc("witness_script", "witness"),
      bip32DerivsDoc("The public key with the derivation path as the value."),
      obj("final_scriptSig", "", [
        str("asm", "Disassembly of the final signature script"),
        hexStr("hex", "The raw final signature script bytes, hex-encoded"),
      ], true),
      arr("final_scriptwitness", "", [hexStr("", "hex-encoded witness data (if any)")], true),
      preimagesDoc("ripemd160_preimages"),
      preimagesDoc("sha256_preimages"),
      preimagesDoc("hash160_preimages"),
      preimagesDoc("hash256_preimages"),
      hexStr("taproot_key_path_sig", "hex-encoded signature for the Taproot key path spend", true),
      arr("taproot_script_path_sigs", "", [
        obj("signature", "The signature for the pubkey and leaf hash combination", [
          str("pubkey", "The x-only pubkey for this signature"),
          str("leaf_hash", "The leaf hash for this signature"),
          str("sig", "The signature itself"),
        ], true),
      ], true),
      arr("taproot_scripts", "", [
        obj("", "", [
          hexStr("script", "A leaf script"),
          num("leaf_ver", "The version number for the leaf script"),
          arr("control_blocks", "The control blocks for this script", [
            hexStr("control_block", "A hex-encoded control block for this script"),
          ]),
        ]),
      ], true),
      tapBip32DerivsDoc(),
      hexStr("taproot_internal_key", "The hex-encoded Taproot x-only internal key", true),
      hexStr("taproot_merkle_root", "The hex-encoded Taproot merkle root", true),
      musigParticipantsDoc(),
      musigValuesDoc("musig2_pubnonces", "pubnonce", "pubnonce", "The public nonce itself."),
      musigValuesDoc(
        "musig2_partial_sigs",
        "partial signature",
        "partial_sig",
        "The partial signature itself.",
      ),
      unknownDoc("The unknown input fields", true),
      proprietaryDoc("The input proprietary map", true),
    ]),
  ]);
}

/** `DecodePSBTOutputs()`. */
function outputsDoc(): ResultSpec {
  return arr("outputs", "", [
    obj("", "", [
      scriptDoc("redeem_script", "redeem"),
      scriptDoc("witness_script", "witness"),
      bip32DerivsDoc("The public key this path corresponds to"),
      hexStr("taproot_internal_key", "The hex-encoded Taproot x-only internal key", true),
      arr("taproot_tree", "The tuples that make up the Taproot tree, in depth first search order", [
        obj("tuple", "A single leaf script in the taproot tree", [
          num("depth", "The depth of this element in the tree"),
          num("leaf_ver", "The version of this leaf"),
          str("script", "The hex-encoded script itself"),
        ], true),
      ], true),
      tapBip32DerivsDoc(),
      musigParticipantsDoc(),
      unknownDoc("The unknown output fields", true),
      proprietaryDoc("The output proprietary map", true),
    ]),
  ]);
}

/** `analyzepsbt`'s lists of key ids: those of keys whose `what` is missing. */
function keyIdsDoc(key: string, what: string): ResultSpec {
  return arr(key, "", [
    hexStr(
      "keyid",
      `Public key ID, hash160 of the public key, of a public key whose ${what} is missing`,
    ),
  ], true);
}

const PSBT_ARG = { name: "psbt", type: "str", description: "A base64 string of a PSBT" } as const;
const BASE64_RESULT = "The resulting raw transaction (base64-encoded string)";

/** The PSBT methods of the `rawtransactions` category. */
export function psbtMethods(node: NodeServices): RpcMethod[] {
  return [
    defineMethod({
      name: "decodepsbt",
      category: "rawtransactions",
      description:
        "Return a JSON object representing the serialized, base64-encoded partially signed Bitcoin transaction.",
      args: [{ name: "psbt", type: "str", description: "The PSBT base64 string" }],
      result: obj("", "", [
        obj("tx", "The decoded network-serialized unsigned transaction.", [TX_LAYOUT]),
        arr("global_xpubs", "", [
          obj("", "", [
            str("xpub", "The extended public key this path corresponds to"),
            hexStr("master_fingerprint", "The fingerprint of the master key"),
            str("path", "The path"),
          ]),
        ]),
        num(
          "psbt_version",
          "The PSBT version number. Not to be confused with the unsigned transaction version",
        ),
        proprietaryDoc("The global proprietary map", false),
        unknownDoc("The unknown global fields", false),
        inputsDoc(),
        outputsDoc(),
        amount(
          "fee",
          "The transaction fee paid if all UTXOs slots in the PSBT have been filled.",
          true,
        ),
      ]),
      examples: helpExampleCli("decodepsbt", '"psbt"'),
      handler(params) {
        return psbtToJson(decodePsbt(params.arg("psbt", asStr)).raw);
      },
    }),
    defineMethod({
      name: "combinepsbt",
      category: "rawtransactions",
      description:
        "Combine multiple partially signed Bitcoin transactions into one transaction.\n" +
        "Implements the Combiner role.\n",
      args: [{
        name: "txs",
        type: "arr",
        description: "The base64 strings of partially signed transactions",
        inner: [{ ...PSBT_ARG, optional: true }],
      }],
      result: str("", "The base64-encoded partially signed transaction"),
      examples: helpExampleCli("combinepsbt", `'["mybase64_1", "mybase64_2", "mybase64_3"]'`),
      handler(params) {
        const txs = asArr(params.raw("txs"));
        if (txs.length === 0) {
          throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "Parameter 'txs' cannot be empty");
        }
        return base64.encode(combinePsbts(txs.map((tx) => decodePsbt(asStr(tx)))).toPSBT(0));
      },
    }),
    defineMethod({
      name: "finalizepsbt",
      category: "rawtransactions",
      description:
        "Finalize the inputs of a PSBT. If the transaction is fully signed, it will produce a\n" +
        "network serialized transaction which can be broadcast with sendrawtransaction. Otherwise a PSBT will be\n" +
        "created which has the final_scriptSig and final_scriptwitness fields filled for inputs that are complete.\n" +
        "Implements the Finalizer and Extractor roles.\n",
      args: [
        PSBT_ARG,
        {
          name: "extract",
          type: "bool",
          default: true,
          description: "If true and the transaction is complete,\n" +
            "                             extract and return the complete transaction in normal network serialization instead of the PSBT.",
        },
      ],
      result: obj("", "", [
        str("psbt", "The base64-encoded partially signed transaction if not extracted", true),
        hexStr("hex", "The hex-encoded network transaction if extracted", true),
        bool("complete", "If the transaction has a complete set of signatures"),
      ]),
      examples: helpExampleCli("finalizepsbt", '"psbt"'),
      handler(params) {
        const { tx, complete } = finalizePsbt(decodePsbt(params.arg("psbt", asStr)));
        const out = new Map<string, JsonInput>();
        if (complete && params.arg("extract", asBool)) {
          out.set("hex", hex.encode(tx.toBytes(true, true)));
        } else {
          out.set("psbt", base64.encode(tx.toPSBT(0)));
        }
        out.set("complete", complete);
        return out;
      },
    }),
    defineMethod({
      name: "createpsbt",
      category: "rawtransactions",
      description: "Creates a transaction in the Partially Signed Transaction format.\n" +
        "Implements the Creator role.\n" +
        "Note that the transaction's inputs are not signed, and\n" +
        "it is not stored in the wallet or transmitted to the network.\n",
      args: createTxArgs(),
      result: str("", BASE64_RESULT),
      examples: helpExampleCli(
        "createpsbt",
        '"[{\\"txid\\":\\"myid\\",\\"vout\\":0}]" "[{\\"address\\":0.01}]"',
      ),
      handler(params) {
        const tx = constructTransaction(
          params.raw("inputs"),
          params.raw("outputs"),
          params.raw("locktime"),
          // Core tells an explicit `replaceable` from its default (sequence checks).
          params.has("replaceable") ? params.arg("replaceable", asBool) : undefined,
          params.arg("version", asUint32),
        );
        return blankPsbt(tx);
      },
    }),
    defineMethod({
      name: "converttopsbt",
      category: "rawtransactions",
      description:
        "Converts a network serialized transaction to a PSBT. This should be used only with createrawtransaction and fundrawtransaction\n" +
        "createpsbt and walletcreatefundedpsbt should be used for new applications.\n",
      args: [
        { name: "hexstring", type: "hex", description: "The hex string of a raw transaction" },
        {
          name: "permitsigdata",
          type: "bool",
          default: false,
          description: "If true, any signatures in the input will be discarded and conversion\n" +
            "                              will continue. If false, RPC will fail if any signatures are present.",
        },
        isWitnessArg(""),
      ],
      result: str("", BASE64_RESULT),
      examples: "\nCreate a transaction\n" +
        helpExampleCli(
          "createrawtransaction",
          '"[{\\"txid\\":\\"myid\\",\\"vout\\":0}]" "[{\\"data\\":\\"00010203\\"}]"',
        ) +
        "\nConvert the transaction to a PSBT\n" +
        helpExampleCli("converttopsbt", '"rawtransaction"'),
      handler(params) {
        const tx = decodeTxParam(params);
        const signed = tx.inputs.some((input, i) =>
          input.finalScriptSig.length > 0 || (tx.witnesses?.[i]?.length ?? 0) > 0
        );
        if (signed && !params.arg("permitsigdata", asBool)) {
          throw new RpcError(
            RpcErrorCode.DESERIALIZATION_ERROR,
            "Inputs must not have scriptSigs and scriptWitnesses",
          );
        }
        return blankPsbt({
          ...tx,
          inputs: tx.inputs.map((input) => ({ ...input, finalScriptSig: new Uint8Array() })),
          witnesses: undefined,
        });
      },
    }),
    defineMethod({
      name: "utxoupdatepsbt",
      category: "rawtransactions",
      description:
        "Updates all segwit inputs and outputs in a PSBT with data from output descriptors, the UTXO set, txindex, or the mempool.\n",
      args: [
        PSBT_ARG,
        {
          name: "descriptors",
          type: "arr",
          optional: true,
          description: "An array of either strings or objects",
          inner: [
            { name: "", type: "str", optional: true, description: "An output descriptor" },
            {
              name: "",
              type: "obj",
              optional: true,
              description: "An object with an output descriptor and extra information",
              inner: [
                { name: "desc", type: "str", description: "An output descriptor" },
                {
                  name: "range",
                  type: "range",
                  default: 1000,
                  description:
                    "Up to what index HD chains should be explored (either end or [begin,end])",
                },
              ],
            },
          ],
        },
      ],
      result: str("", "The base64-encoded partially signed transaction with inputs updated"),
      examples: helpExampleCli("utxoupdatepsbt", '"psbt"'),
      handler(params) {
        const provider = new SigningProvider();
        for (const descriptor of params.maybe("descriptors", asArr) ?? []) {
          evalScanObject(descriptor, provider);
        }
        const { raw } = decodePsbt(params.arg("psbt", asStr));
        updatePsbt(node, raw, provider);
        return encodeRaw(raw);
      },
    }),
    defineMethod({
      name: "joinpsbts",
      category: "rawtransactions",
      description:
        "Joins multiple distinct PSBTs with different inputs and outputs into one PSBT with inputs and outputs from all of the PSBTs\n" +
        "No input in any of the PSBTs can be in more than one of the PSBTs.\n",
      args: [{
        name: "txs",
        type: "arr",
        description: "The base64 strings of partially signed transactions",
        inner: [PSBT_ARG],
      }],
      result: str("", "The base64-encoded partially signed transaction"),
      examples: helpExampleCli("joinpsbts", '"psbt"'),
      handler(params) {
        const txs = asArr(params.raw("txs"));
        if (txs.length <= 1) {
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "At least two PSBTs are required to join PSBTs.",
          );
        }
        return joinPsbts(txs.map((tx) => decodePsbt(asStr(tx))));
      },
    }),
    defineMethod({
      name: "analyzepsbt",
      category: "rawtransactions",
      description:
        "Analyzes and provides information about the current status of a PSBT and its inputs\n",
      args: [PSBT_ARG],
      result: obj("", "", [
        arr("inputs", "", [
          obj("", "", [
            bool("has_utxo", "Whether a UTXO is provided"),
            bool("is_final", "Whether the input is finalized"),
            obj("missing", "Things that are missing that are required to complete this input", [
              keyIdsDoc("pubkeys", "BIP 32 derivation path"),
              keyIdsDoc("signatures", "signature"),
              hexStr("redeemscript", "Hash160 of the redeem script that is missing", true),
              hexStr("witnessscript", "SHA256 of the witness script that is missing", true),
            ], true),
            str("next", "Role of the next person that this input needs to go to", true),
          ]),
        ], true),
        num("estimated_vsize", "Estimated vsize of the final signed transaction", true),
        amount(
          "estimated_feerate",
          `Estimated feerate of the final signed transaction in ${CURRENCY_UNIT}/kvB. ` +
            "Shown only if all UTXO slots in the PSBT have been filled",
          true,
        ),
        amount(
          "fee",
          "The transaction fee paid. Shown only if all UTXO slots in the PSBT have been filled",
          true,
        ),
        str("next", "Role of the next person that this psbt needs to go to"),
        str("error", "Error message (if there is one)", true),
      ]),
      examples: helpExampleCli("analyzepsbt", '"psbt"'),
      handler(params) {
        const { raw } = decodePsbt(params.arg("psbt", asStr));
        return analyzePsbt(raw, node.mempool.policy.bytesPerSigop);
      },
    }),
  ];
}
