/**
 * `decodepsbt`'s result, as Bitcoin Core's `rpc/rawtransaction.cpp`
 * renders a PSBT: the unsigned transaction, the global xpubs, proprietary
 * and unknown fields, then every field Core knows of each input and output,
 * in Core's key order and Core's `std::map` order over byte keys (fields
 * the library knows and Core v30 does not shown as unknown), and the fee
 * once every UTXO is known.
 *
 * `decodepsbt` (`psbt.ts`) calls `psbtToJson(raw)` on a PSBT that
 * `decodePsbt` (`psbt_codec.ts`) read.
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { createBase58check, hex } from "@scure/base";
import { PSBTGlobal, PSBTInput, PSBTOutput } from "@scure/btc-signer/psbt.js";
import { TaprootControlBlock } from "@scure/btc-signer/psbt.js";
import { CompactSizeLen, VarBytes } from "@scure/btc-signer/script.js";
import { compareBytes, concatBytes } from "@scure/btc-signer/utils.js";
import * as P from "micro-packed";
import { formatPath, hash160, moneyRange, signedAmount, type Tx } from "../chain/mod.ts";
import { Amount, type JsonInput } from "../../rpc/mod.ts";
import { scriptPubKeyJson, scriptToAsm, txToJson } from "./encoding.ts";
import {
  type KeyPath,
  outputTotal,
  type RawInput,
  type RawOutput,
  type RawPsbt,
  unknownKey,
  unsignedTx,
  utxoOf,
} from "./psbt_codec.ts";
import { SIGHASH_NAMES } from "./signing.ts";

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

/** `decodepsbt`'s result. */
export function psbtToJson(raw: RawPsbt): Map<string, JsonInput> {
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
