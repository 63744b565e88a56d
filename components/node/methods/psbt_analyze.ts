/**
 * `analyzepsbt`'s result, as Bitcoin Core's `AnalyzePSBT` (`node/psbt.cpp`)
 * finds it: what each input lacks and the role it goes to next, found by
 * signing it without keys (`SignPSBTInput` with Core's legacy templates,
 * checked with the node's script interpreter), and, with every UTXO known,
 * the fee and the size and fee rate with dummy signatures
 * (`DUMMY_SIGNATURE_CREATOR`); the PSBT goes to the earliest role any input
 * needs.
 *
 * `analyzepsbt` (`psbt.ts`) calls `analyzePsbt(raw, bytesPerSigop)` on a
 * PSBT that `decodePsbt` (`psbt_codec.ts`) read.
 * @module
 */
import { ripemd160 } from "@noble/hashes/legacy.js";
import { hex } from "@scure/base";
import { concatBytes } from "@scure/btc-signer/utils.js";
import {
  bytesEqual,
  hash160,
  isUnspendable,
  moneyRange,
  pushScript,
  signedAmount,
  SigningProvider,
  solver,
  type SpentOutput,
  STANDARD_SCRIPT_VERIFY_FLAGS,
  type Tx,
  type TxoutType,
  TxScriptChecker,
  txSigOpCost,
  txSizes,
  witnessProgram,
} from "../chain/mod.ts";
import { Amount, type JsonInput } from "../../rpc/mod.ts";
import { feeRatePerKvB, virtualSize } from "../mempool/mod.ts";
import {
  inputFinalized,
  outputTotal,
  type RawInput,
  type RawPsbt,
  UNKNOWN_UTXO,
  unsignedTx,
  utxoOf,
} from "./psbt_codec.ts";
import { SIGHASH_DEFAULT } from "./signing.ts";

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
export function analyzePsbt(raw: RawPsbt, bytesPerSigop: number): Map<string, JsonInput> {
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
