/**
 * The PSBT methods that change a PSBT, as Bitcoin Core's
 * `rpc/rawtransaction.cpp` and `psbt.cpp` do: `combinePsbts`
 * (`CombinePSBTs`), `finalizePsbt` (`FinalizePSBT`, each finalized input
 * checked with the node's script interpreter, as Core's signature producer
 * checks it), `joinPsbts` (`joinpsbts`: inputs and outputs shuffled into
 * one) and `updatePsbt` (`utxoupdatepsbt`'s `ProcessPSBT`: UTXOs from the
 * transaction index, the mempool and the UTXO set, key origins and scripts
 * from descriptors, taproot script trees as Core's `SignTaproot` learns
 * them) and `signPsbt` (`descriptorprocesspsbt`'s: that, then the inputs
 * signed with the descriptors' private keys). `@scure/btc-signer`
 * combines, signs and finalizes (taproot `pkh()` leaves, which it does not
 * know, signed and finalized here).
 *
 * The methods in `psbt.ts` call them on PSBTs `decodePsbt`
 * (`psbt_codec.ts`) read.
 * @module
 */
import { schnorr } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { type CustomScript, Script, Transaction } from "@scure/btc-signer";
import { RawPSBTV0, TaprootControlBlock } from "@scure/btc-signer/psbt.js";
import { RawTx } from "@scure/btc-signer/script.js";
import { psbtSighash } from "../../bitcoin/sighash.ts";

const SIGHASH_DEFAULT = 0x00;
const SIGHASH_ALL = 0x01;
const SIGHASH_ANYONECANPAY = 0x80;
import {
  bytesEqual,
  decodeTx,
  encodeTx,
  hash160,
  isPayToScriptHash,
  type KeyOrigin,
  outpointKey,
  prevout,
  type SigningProvider,
  solver,
  STANDARD_SCRIPT_VERIFY_FLAGS,
  tapPkhHash,
  tapscriptKeys,
  type Tx,
  txid,
  TxScriptChecker,
  witnessProgram,
} from "../chain/mod.ts";
import type { TaprootTree } from "../chain/taptree.ts";
import { RpcError, RpcErrorCode } from "../../rpc/mod.ts";
import {
  encodeRaw,
  inputFinalized,
  type KeyPath,
  type Psbt,
  psbtTx,
  type RawInput,
  type RawOutput,
  type RawPsbt,
  TX_OPTIONS,
  UNKNOWN_UTXO,
  unknownKey,
  unsignedTx,
  utxoOf,
} from "./psbt_codec.ts";
import type { NodeServices } from "./services.ts";
import { findCoins } from "./signing.ts";

/**
 * A tapscript `pkh()` leaf for @scure/btc-signer's finalizer, which knows
 * only leaves that name their keys: satisfied, as miniscript's `pkh`, by
 * the signature of the x-only key hashing to the leaf's hash, then that key
 * (the library adds the control block after the script returned).
 */
const TAP_PKH: CustomScript = {
  encode(script) {
    const hash = script && tapPkhHash(Script.encode(script));
    return hash && { type: "tr_pkh", hash };
  },
  decode: (out) =>
    out?.type === "tr_pkh" ? ["DUP", "HASH160", out.hash, "EQUALVERIFY", "CHECKSIG"] : undefined,
  finalizeTaproot(script, parsed, signatures) {
    const found = signatures.find(([{ pubKey }]) => bytesEqual(hash160(pubKey), parsed.hash));
    return found && [found[1], found[0].pubKey, script];
  },
};

/** The PSBT options to finalize with: {@linkcode TAP_PKH} leaves known. */
const FINALIZE_OPTIONS = { ...TX_OPTIONS, customScripts: [TAP_PKH] };

/**
 * Core's `FinalizePSBT`: every input the library can finalize from its
 * partial signatures and whose final scripts then verify against the UTXO
 * it spends (Core's signature producer checks the same), the others left
 * as they were; complete when every input is finalized.
 */
export function finalizePsbt(psbt: Psbt): { tx: Transaction; complete: boolean } {
  const bytes = psbt.tx.toPSBT(0);
  const trial = Transaction.fromPSBT(bytes, FINALIZE_OPTIONS);
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
  const result = Transaction.fromPSBT(bytes, FINALIZE_OPTIONS);
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
export function combinePsbts(psbts: readonly Psbt[]): Transaction {
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
export function joinPsbts(psbts: readonly Psbt[]): string {
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
  /** Every key the spend's script names (those of multisig ones included). */
  keys: Uint8Array[];
  redeemScript?: Uint8Array;
  witnessScript?: Uint8Array;
  /** Whether the spend is segwit v0 (the producer then records the witness UTXO). */
  witness: boolean;
  keyPaths: [Uint8Array, KeyPath][];
  tapInternalKey?: Uint8Array;
  /** The script tree of a taproot output with one. */
  tapTree?: TaprootTree;
  /** Taproot key origins, each with the hashes of the leaves the key is in (byte order). */
  tapKeyPaths: [Uint8Array, { hashes: Uint8Array[]; der: KeyPath }][];
}

/** A key origin as the PSBT field holds it. */
function keyPath(origin: KeyOrigin): KeyPath {
  const fingerprint = new DataView(origin.fingerprint.buffer, origin.fingerprint.byteOffset);
  return { fingerprint: fingerprint.getUint32(0), path: [...origin.path] };
}

/**
 * `ProduceSignature` with a provider that hides private keys: the P2SH
 * redeem script and P2WSH witness script, the origins of the keys a P2PK,
 * P2PKH, P2WPKH or multisig spend needs, and what {@linkcode addTaprootInfo}
 * learns of a taproot output.
 */
function spendInfo(
  provider: SigningProvider,
  script: Uint8Array,
  held: { redeemScript?: Uint8Array; witnessScript?: Uint8Array; tapKeySig?: Uint8Array } = {},
): SpendInfo {
  const info: SpendInfo = { keys: [], witness: false, keyPaths: [], tapKeyPaths: [] };
  let inner = script;
  if (isPayToScriptHash(script)) {
    const hash = script.subarray(2, 22);
    // The descriptors' script, else the one the PSBT holds when it hashes right (`GetCScript`).
    const redeem = provider.script(hash) ??
      (held.redeemScript && bytesEqual(hash160(held.redeemScript), hash)
        ? held.redeemScript
        : undefined);
    if (!redeem) return info;
    info.redeemScript = inner = redeem;
  }
  let { type, solutions } = solver(inner);
  if (type === "witness_v0_scripthash") {
    info.witness = true;
    const witnessScript = provider.witnessScript(solutions[0]) ??
      (held.witnessScript && bytesEqual(sha256(held.witnessScript), solutions[0])
        ? held.witnessScript
        : undefined);
    if (!witnessScript) return info;
    info.witnessScript = witnessScript;
    ({ type, solutions } = solver(witnessScript));
  }
  const addKey = (pubkey: Uint8Array | undefined) => {
    if (pubkey) info.keys.push(pubkey);
    const origin = pubkey && provider.keyOrigin(pubkey);
    if (origin) info.keyPaths.push([pubkey, keyPath(origin)]);
  };
  if (type === "pubkey" || type === "pubkeyhash" || type === "witness_v0_keyhash") {
    info.witness ||= type === "witness_v0_keyhash";
    addKey(type === "pubkey" ? solutions[0] : provider.publicKey(solutions[0]));
  } else if (type === "multisig") {
    solutions.slice(1, -1).forEach(addKey);
  } else if (type === "witness_v1_taproot" && !info.redeemScript) {
    addTaprootInfo(info, provider, solutions[0], held.tapKeySig !== undefined);
  }
  return info;
}

/**
 * Core's `SignTaproot` without signing: the internal key of the output
 * `outputKey` and its origin (no leaf hashes); for one with a script tree,
 * the tree, and — unless the key path signs (a key-path signature held or
 * the internal key's private key known), where Core stops before the
 * script path — each key its leaves name ({@linkcode tapscriptKeys}), with
 * its origin and the hashes of the leaves it is in (`CreateTaprootScriptSig`).
 */
function addTaprootInfo(
  info: SpendInfo,
  provider: SigningProvider,
  outputKey: Uint8Array,
  keyPathSigned: boolean,
): void {
  const tree = provider.taprootTree(outputKey);
  const internal = tree?.internalKey ?? provider.taprootInternalKey(outputKey);
  if (!internal) return;
  info.tapInternalKey = internal;
  addTapKey(info, provider, internal);
  if (!tree) return;
  info.tapTree = tree;
  if (keyPathSigned || provider.secret(internal)) return;
  for (const leaf of tree.leaves) {
    for (const key of tapscriptKeys(leaf.script, provider)) addTapKey(info, provider, key, leaf);
  }
}

/** Records a taproot key to sign with and its origin, in `leaf` when given. */
function addTapKey(
  info: SpendInfo,
  provider: SigningProvider,
  key: Uint8Array,
  leaf?: { leafHash: Uint8Array },
): void {
  if (!info.keys.some((k) => bytesEqual(k, key))) info.keys.push(key);
  const origin = provider.keyOrigin(key);
  if (!origin) return;
  let entry = info.tapKeyPaths.find(([k]) => bytesEqual(k, key));
  if (!entry) info.tapKeyPaths.push(entry = [key, { hashes: [], der: keyPath(origin) }]);
  const { hashes } = entry[1];
  if (leaf && !hashes.some((h) => bytesEqual(h, leaf.leafHash))) {
    hashes.push(leaf.leafHash);
    hashes.sort((a, b) => hex.encode(a) < hex.encode(b) ? -1 : 1);
  }
}

/**
 * `PSBTInput::FromSignatureData`: adds what `info` learned to an input's
 * map, a script tree as its merkle root and its leaves (`tap_scripts`: each
 * leaf's control block, script and leaf version).
 */
function addInputInfo(input: RawInput, info: SpendInfo): void {
  addSpendInfo(input, info);
  if (!info.tapTree) return;
  const { merkleRoot, leaves } = info.tapTree;
  input.tapMerkleRoot ??= merkleRoot.slice();
  const scripts = input.tapLeafScript ??= [];
  for (const leaf of leaves) {
    const held = scripts.some(([block]) =>
      bytesEqual(TaprootControlBlock.encode(block), leaf.controlBlock)
    );
    if (!held) {
      scripts.push([
        TaprootControlBlock.decode(leaf.controlBlock),
        Uint8Array.of(...leaf.script, leaf.leafVersion),
      ]);
    }
  }
}

/**
 * `PSBTOutput::FromSignatureData`: adds what `info` learned to an output's
 * map, a script tree as its leaves' depths, leaf versions and scripts
 * (`GetTreeTuples`, depth first).
 */
function addOutputInfo(output: RawOutput, info: SpendInfo): void {
  addSpendInfo(output, info);
  if (!info.tapTree) return;
  output.tapTree = info.tapTree.leaves.map((leaf) => ({
    depth: leaf.depth,
    version: leaf.leafVersion,
    script: leaf.script.slice(),
  }));
}

/** What inputs and outputs share of `FromSignatureData`: scripts and key origins. */
function addSpendInfo(map: RawInput | RawOutput, info: SpendInfo): void {
  if (info.redeemScript) map.redeemScript ??= info.redeemScript.slice();
  if (info.witnessScript) map.witnessScript ??= info.witnessScript.slice();
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
 * input its witness UTXO too (scripts the PSBT holds count where they hash
 * right); then {@linkcode dropUnneededTransactions}.
 */
export function updatePsbt(node: NodeServices, raw: RawPsbt, provider: SigningProvider): void {
  fillPsbt(node, raw, provider.withoutSecrets());
  dropUnneededTransactions(raw, SIGHASH_ALL);
}

/** {@linkcode updatePsbt} before the non-witness UTXOs it can do without are dropped. */
function fillPsbt(node: NodeServices, raw: RawPsbt, provider: SigningProvider): void {
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
    const info = spendInfo(provider, utxo.script, input);
    addInputInfo(input, info);
    if (info.witness) input.witnessUtxo = { amount: utxo.amount, script: utxo.script.slice() };
  }
  // Outputs are described as by a provider without private keys (`UpdatePSBTOutput`).
  const hiding = provider.withoutSecrets();
  tx.outputs.forEach((output, i) =>
    addOutputInfo(raw.outputs[i], spendInfo(hiding, output.script, raw.outputs[i]))
  );
}

/**
 * Core's `RemoveUnnecessaryTransactions`: the non-witness UTXOs dropped when
 * every input is segwit v1+ (their witness UTXOs are then all a signature
 * commits to), unless `sighash` is ANYONECANPAY.
 */
function dropUnneededTransactions(raw: RawPsbt, sighash: number): void {
  if (sighash & SIGHASH_ANYONECANPAY) return;
  const droppable = raw.inputs.every((input) => {
    const program = input.witnessUtxo && witnessProgram(input.witnessUtxo.script);
    return program !== undefined && program.version > 0;
  });
  if (droppable) { for (const input of raw.inputs) delete input.nonWitnessUtxo; }
}

/**
 * Script-path signatures for the `pkh()` leaves of input `i`'s tree whose
 * keys `provider` has private keys for: @scure/btc-signer signs only the
 * leaves that name a key, and a `pkh()` leaf names its key's hash. The
 * digest is BIP 342's for the leaf (the library's), signed as Core's
 * `CreateSchnorrSig` signs, with fresh auxiliary randomness.
 */
function signPkhLeaves(
  tx: Transaction,
  i: number,
  info: SpendInfo,
  provider: SigningProvider,
  sighash: number,
): void {
  const spent = Array.from({ length: tx.inputsLength }, (_, j) => {
    const input = tx.getInput(j);
    return utxoOf(input as RawInput, input.index!);
  });
  if (spent.some((utxo) => utxo === undefined)) return; // a taproot digest commits to them all
  for (const leaf of info.tapTree?.leaves ?? []) {
    if (!tapPkhHash(leaf.script)) continue;
    const [key] = tapscriptKeys(leaf.script, provider);
    // Its key is among those to sign with unless the key path signs.
    const secret = key && info.keys.some((k) => bytesEqual(k, key)) && provider.secret(key);
    if (!secret) continue;
    const digest = tx.preimageWitnessV1(
      i,
      spent.map((utxo) => utxo!.script),
      sighash,
      spent.map((utxo) => utxo!.amount),
      undefined,
      leaf.script,
      leaf.leafVersion,
    );
    const signature = schnorr.sign(digest, secret);
    tx.updateInput(i, {
      tapScriptSig: [[
        { pubKey: key, leafHash: leaf.leafHash },
        sighash === SIGHASH_DEFAULT ? signature : Uint8Array.of(...signature, sighash),
      ]],
    }, true);
  }
}

/** What {@linkcode signPsbt} is asked to do besides updating. */
export interface SignPsbtOptions {
  /** The sighash to sign with; null: the input type's default (DEFAULT for taproot, else ALL). */
  readonly sighash: number | null;
  /** Whether key origins are added from the descriptors. */
  readonly bip32derivs: boolean;
  readonly finalize: boolean;
}

/**
 * `descriptorprocesspsbt`'s `ProcessPSBT`: the PSBT filled as
 * {@linkcode updatePsbt} fills it (without the key origins unless
 * `bip32derivs`; its inputs with the private keys known, so that a tree
 * whose key path signs gets no leaf keys, as in Core); each input not final
 * signed (`SignPSBTInput`) with the private keys `provider` holds for the
 * keys its script names (a tree's: its internal key's by the key path, else
 * its leaves' keys), at the hash
 * type {@linkcode psbtSighash} chooses (-22 when the PSBT asks for another);
 * a legacy input told by its witness UTXO alone is not signed (the amount
 * could lie); with `finalize`, finalized ({@linkcode finalizePsbt}); then the
 * non-witness UTXOs it can do without dropped. Complete when every input is
 * final.
 */
export function signPsbt(
  node: NodeServices,
  raw: RawPsbt,
  provider: SigningProvider,
  options: SignPsbtOptions,
): { tx: Transaction; complete: boolean } {
  fillPsbt(node, raw, options.bip32derivs ? provider : provider.withoutOrigins());
  const signed = Transaction.fromPSBT(RawPSBTV0.encode(raw), TX_OPTIONS);
  for (let i = 0; i < signed.inputsLength; i++) {
    const input = signed.getInput(i);
    const utxo = utxoOf(input as RawInput, input.index!);
    if (!utxo || inputFinalized(input)) continue;
    const program = witnessProgram(utxo.script);
    const taproot = program?.version === 1 && program.program.length === 32;
    const sighash = psbtSighash(signed, i, taproot, options.sighash);
    if (sighash === undefined) {
      throw new RpcError(
        RpcErrorCode.DESERIALIZATION_ERROR,
        "Specified sighash value does not match value stored in PSBT",
      );
    }
    const info = spendInfo(provider, utxo.script, input);
    if (!input.nonWitnessUtxo && !info.witness && !taproot) continue;
    for (const key of info.keys) {
      const secret = provider.secret(key);
      if (!secret) continue;
      try {
        signed.signIdx(secret, i, [sighash]);
      } catch {
        // Not this input's key as the library reads the input (or its data is missing).
      }
    }
    signPkhLeaves(signed, i, info, provider, sighash);
  }
  const tx = options.finalize ? finalizePsbt({ raw, tx: signed }).tx : signed;
  const out = RawPSBTV0.decode(tx.toPSBT(0));
  dropUnneededTransactions(out, options.sighash ?? SIGHASH_DEFAULT);
  const result = Transaction.fromPSBT(RawPSBTV0.encode(out), TX_OPTIONS);
  const inputs = Array.from({ length: result.inputsLength }, (_, i) => result.getInput(i));
  return { tx: result, complete: inputs.every(inputFinalized) };
}
