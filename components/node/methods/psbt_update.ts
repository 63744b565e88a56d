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
 * know, signed here and finalized by `tapPkhFinalizer`, shared with the
 * wallet in `components/bitcoin/tapscript.ts`).
 *
 * The methods in `psbt.ts` call them on PSBTs `decodePsbt`
 * (`psbt_codec.ts`) read.
 * @module
 */
import { schnorr } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { Transaction } from "@scure/btc-signer";
import { RawPSBTV0, TaprootControlBlock, type TransactionInput } from "@scure/btc-signer/psbt.js";
import { RawTx } from "@scure/btc-signer/script.js";
import { concatBytes } from "@scure/btc-signer/utils.js";
import { compareBytes } from "../../bitcoin/bytes.ts";
import { tapPkhFinalizer } from "../../bitcoin/tapscript.ts";
import { cachedSighashes, leafHash, psbtSighash, SCHNORR_AUX } from "../../bitcoin/sighash.ts";

const SIGHASH_DEFAULT = 0x00;
const SIGHASH_ALL = 0x01;
const SIGHASH_SINGLE = 0x03;
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
  type TapLeaf,
  tapPkhHash,
  type TaprootTree,
  tapscriptKeys,
  type Tx,
  txid,
  TxScriptChecker,
  witnessProgram,
} from "../chain/mod.ts";
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
 * Core's `FinalizePSBT`: every input the library can finalize from its
 * partial signatures and whose final scripts then verify against the UTXO
 * it spends (Core's signature producer checks the same), the others left
 * as they were; complete when every input is finalized. A `pkh()` leaf's
 * key is found among the input's taproot key origins, else `provider`'s
 * keys (`descriptorprocesspsbt`'s; `finalizepsbt` has none).
 */
export function finalizePsbt(
  psbt: Psbt,
  provider?: SigningProvider,
): { tx: Transaction; complete: boolean } {
  const bytes = psbt.tx.toPSBT(0);
  // The input being finalized, whose taproot key origins tell the keys of its pkh() leaves.
  let current: TransactionInput | undefined;
  const knows = (pubKey: Uint8Array) =>
    current?.tapBip32Derivation?.some(([key]) => bytesEqual(key, pubKey)) === true ||
    provider?.publicKey(hash160(pubKey)) !== undefined;
  const options = { ...TX_OPTIONS, customScripts: [tapPkhFinalizer(knows)] };
  const trial = Transaction.fromPSBT(bytes, options);
  const inputs = Array.from({ length: trial.inputsLength }, (_, i) => trial.getInput(i));
  const finalized = inputs.map((input, i) => {
    if (inputFinalized(input)) return false;
    try {
      current = input;
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
  const result = Transaction.fromPSBT(bytes, options);
  let complete = true;
  for (const [i, input] of inputs.entries()) {
    if (checker && finalized[i] && checker.verifyInput(i, STANDARD_SCRIPT_VERIFY_FLAGS) === null) {
      current = input;
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
  /**
   * Every key a non-taproot spend's script names (those of multisig ones
   * included); none for a taproot spend ({@linkcode signTaproot} signs it).
   */
  keys: Uint8Array[];
  redeemScript?: Uint8Array;
  witnessScript?: Uint8Array;
  /** Whether the spend is segwit v0 (the producer then records the witness UTXO). */
  witness: boolean;
  keyPaths: [Uint8Array, KeyPath][];
  tapInternalKey?: Uint8Array;
  /** The script tree of a taproot output with one, as the descriptors tell it. */
  tapTree?: TaprootTree;
  /**
   * The leaves a taproot spend may use: the tree's, then those only the
   * input holds (Core merges both into `TaprootSpendData`).
   */
  tapLeaves: Leaf[];
  /** Taproot key origins, each with the hashes of the leaves the key is in (byte order). */
  tapKeyPaths: [Uint8Array, { hashes: Uint8Array[]; der: KeyPath }][];
}

/** A taproot leaf as signing needs it, from a tree or a PSBT's `tap_scripts`. */
type Leaf = Pick<TapLeaf, "script" | "leafVersion" | "leafHash" | "controlBlock">;

/** What a PSBT input holds of a taproot spend, read as Core's `FillSignatureData`. */
interface HeldTaproot {
  tapInternalKey?: Uint8Array;
  tapLeafScript?: LeafScript[];
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
 * learns of a taproot output, whose keys are described as `keyPathSigns`
 * says.
 */
function spendInfo(
  provider: SigningProvider,
  script: Uint8Array,
  held: { redeemScript?: Uint8Array; witnessScript?: Uint8Array } & HeldTaproot = {},
  keyPathSigns?: boolean,
): SpendInfo {
  const info: SpendInfo = {
    keys: [],
    witness: false,
    keyPaths: [],
    tapKeyPaths: [],
    tapLeaves: [],
  };
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
    addTaprootInfo(info, provider, solutions[0], held, keyPathSigns);
  }
  return info;
}

/**
 * Core's `SignTaproot` without signing: the internal key of the output
 * `outputKey` (the one the input holds, else the descriptors'), for one
 * with a script tree the tree, and the leaves to try (the tree's and those
 * the input holds); then the taproot key origins as `keyPathSigns` says. Core records the internal key's
 * origin (no leaf hashes) before trying the key path; only when no key-path
 * signature was made or held does it go on to the script path, recording
 * each key a leaf names ({@linkcode tapscriptKeys}) with its origin and the
 * hashes of the leaves it is in (`CreateTaprootScriptSig`). Undefined
 * `keyPathSigns`: not known yet, no origins recorded (the signer records
 * them after signing).
 */
function addTaprootInfo(
  info: SpendInfo,
  provider: SigningProvider,
  outputKey: Uint8Array,
  held: HeldTaproot,
  keyPathSigns: boolean | undefined,
): void {
  const tree = provider.taprootTree(outputKey);
  const internal = held.tapInternalKey ?? tree?.internalKey ??
    provider.taprootInternalKey(outputKey);
  if (internal) info.tapInternalKey = internal;
  if (tree) info.tapTree = tree;
  info.tapLeaves = [...tree?.leaves ?? []];
  if (held.tapLeafScript?.length) {
    const known = new Set(info.tapLeaves.map((leaf) => hex.encode(leaf.controlBlock)));
    for (const entry of held.tapLeafScript) {
      const leaf = heldLeaf(entry);
      if (!known.has(hex.encode(leaf.controlBlock))) info.tapLeaves.push(leaf);
    }
  }
  if (keyPathSigns === undefined) return;
  const origins = new Map<string, [Uint8Array, { hashes: Uint8Array[]; der: KeyPath }]>();
  const add = (key: Uint8Array, leafHash?: Uint8Array) => {
    const id = hex.encode(key);
    let entry = origins.get(id);
    if (!entry) {
      const origin = provider.keyOrigin(key);
      if (!origin) return;
      origins.set(id, entry = [key, { hashes: [], der: keyPath(origin) }]);
    }
    if (leafHash) entry[1].hashes.push(leafHash);
  };
  if (internal) add(internal);
  if (!keyPathSigns) {
    for (const leaf of info.tapLeaves) {
      for (const key of tapscriptKeys(leaf.script, provider)) add(key, leaf.leafHash);
    }
  }
  for (const entry of origins.values()) {
    // A set of hashes in byte order, as Core's `std::set<uint256>`.
    const hashes = entry[1].hashes.sort(compareBytes);
    entry[1].hashes = hashes.filter((h, j) => j === 0 || compareBytes(hashes[j - 1], h) !== 0);
    info.tapKeyPaths.push(entry);
  }
}

/** A leaf a PSBT's `tap_scripts` entry tells. */
function heldLeaf([block, scriptAndVersion]: LeafScript): Leaf {
  const script = scriptAndVersion.subarray(0, -1);
  const leafVersion = scriptAndVersion[scriptAndVersion.length - 1];
  return {
    script,
    leafVersion,
    leafHash: leafHash(script, leafVersion),
    controlBlock: TaprootControlBlock.encode(block),
  };
}

/**
 * `PSBTInput::FromSignatureData`: adds what `info` learned to an input's
 * map, a script tree as its merkle root and its leaves (`tap_scripts`: each
 * leaf's control block, script and leaf version) not held yet.
 */
function addInputInfo(input: RawInput, info: SpendInfo): void {
  addSpendInfo(input, info);
  if (!info.tapTree) return;
  const { merkleRoot, leaves } = info.tapTree;
  input.tapMerkleRoot ??= merkleRoot.slice();
  const scripts = input.tapLeafScript ??= [];
  const held = new Set(scripts.map(([block]) => hex.encode(TaprootControlBlock.encode(block))));
  for (const leaf of leaves) {
    const id = hex.encode(leaf.controlBlock);
    if (held.has(id)) continue;
    held.add(id);
    scripts.push(leafScriptEntry(leaf));
  }
}

/** A leaf as a PSBT's `tap_scripts` entry: its control block, then its script and leaf version. */
function leafScriptEntry(leaf: Leaf): LeafScript {
  return [
    TaprootControlBlock.decode(leaf.controlBlock),
    concatBytes(leaf.script, Uint8Array.of(leaf.leafVersion)),
  ];
}

/** A `tap_scripts` entry as @scure/btc-signer reads it. */
type LeafScript = [ReturnType<typeof TaprootControlBlock.decode>, Uint8Array];

/**
 * `PSBTOutput::FromSignatureData`: adds what `info` learned to an output's
 * map, a script tree as its leaves' depths, leaf versions and scripts
 * (`GetTreeTuples`, depth first). Core reads the output's internal key only
 * beside its tree (`PSBTOutput::FillSignatureData`), so the internal key
 * learned replaces one held without a tree.
 */
function addOutputInfo(output: RawOutput, info: SpendInfo): void {
  const heldKey = output.tapTree && output.tapInternalKey;
  addSpendInfo(output, info);
  if (!heldKey && info.tapInternalKey) output.tapInternalKey = info.tapInternalKey.slice();
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
  const hiding = provider.hiding({ secrets: true });
  fillPsbt(node, raw, hiding, hiding, false);
  dropUnneededTransactions(raw, SIGHASH_ALL);
}

/**
 * {@linkcode updatePsbt} before the non-witness UTXOs it can do without are
 * dropped: the inputs described with `provider`, the outputs with
 * `outputs` (one without private keys, as Core's `UpdatePSBTOutput`); when
 * `signing`, a taproot input's key origins are left to
 * {@linkcode signTaproot}, which knows whether the key path signed.
 */
function fillPsbt(
  node: NodeServices,
  raw: RawPsbt,
  provider: SigningProvider,
  outputs: SigningProvider,
  signing: boolean,
): void {
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
    const keyPathSigns = signing ? undefined : input.tapKeySig !== undefined;
    const info = spendInfo(provider, utxo.script, input, keyPathSigns);
    addInputInfo(input, info);
    if (info.witness) input.witnessUtxo = { amount: utxo.amount, script: utxo.script.slice() };
  }
  tx.outputs.forEach((output, i) =>
    addOutputInfo(
      raw.outputs[i],
      spendInfo(outputs, output.script, scriptsOf(raw.outputs[i]), false),
    )
  );
}

/**
 * The scripts an output's map holds: an output's taproot fields are not
 * read as an input's ({@linkcode addOutputInfo}).
 */
function scriptsOf(output: RawOutput): { redeemScript?: Uint8Array; witnessScript?: Uint8Array } {
  return { redeemScript: output.redeemScript, witnessScript: output.witnessScript };
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

/** The outputs every input spends, which a taproot digest commits to. */
interface SpentOutputs {
  scripts: Uint8Array[];
  amounts: bigint[];
}

/**
 * Core's `SignTaproot` for input `i` (`input` as it was before), spending
 * `script`, with the private keys `provider` holds: the key path first,
 * with the internal key's private key (a key-path signature the PSBT holds
 * counts as made); only when none was made or held, the script path, each
 * leaf of the tree signed with each of its keys not yet signed with there
 * ({@linkcode signLeaves}). Then the key origins the attempt recorded
 * ({@linkcode addTaprootInfo}) are added, those of keys the input holds
 * kept (`FromSignatureData`). A digest that cannot be made (a spent output
 * unknown, SINGLE without its output) leaves the input unsigned.
 */
function signTaproot(
  tx: Transaction,
  i: number,
  input: TransactionInput,
  script: Uint8Array,
  provider: SigningProvider,
  sighash: number,
  spent: SpentOutputs | undefined,
): void {
  let keyPathSigns = input.tapKeySig !== undefined;
  const secret = input.tapInternalKey && provider.secret(input.tapInternalKey);
  if (!keyPathSigns && secret) {
    // btc-signer goes on to the leaves naming the key; Core stops at the key path.
    keyPathSigns = withLeaves(
      tx,
      i,
      input,
      [],
      () => tx.signIdx(secret, i, [sighash], SCHNORR_AUX),
    );
  }
  const info = spendInfo(provider, script, input as HeldTaproot, keyPathSigns);
  const fresh = info.tapKeyPaths.filter(([key]) =>
    !input.tapBip32Derivation?.some(([held]) => bytesEqual(held, key))
  );
  if (fresh.length > 0) tx.updateInput(i, { tapBip32Derivation: fresh }, true);
  if (!keyPathSigns && info.tapLeaves.length > 0 && spent) {
    signLeaves(tx, i, input, info.tapLeaves, provider, sighash, spent);
  }
}

/**
 * Runs `sign` (true when it signed; a throw is taken as not signed) on `tx`
 * with input `i`'s `tap_scripts` held to `leaves`, then puts back those
 * `input` held: @scure/btc-signer signs every leaf its key is in.
 */
function withLeaves(
  tx: Transaction,
  i: number,
  input: TransactionInput,
  leaves: LeafScript[],
  sign: () => boolean,
): boolean {
  tx.updateInput(i, { tapLeafScript: leaves.length > 0 ? leaves : undefined }, true);
  try {
    return sign();
  } catch {
    return false; // no digest, or not this input's key as the library reads it
  } finally {
    tx.updateInput(i, { tapLeafScript: input.tapLeafScript }, true);
  }
}

/**
 * Script-path signatures for input `i` in each leaf of `tree` with each of
 * its keys ({@linkcode tapscriptKeys}) `provider` has the private key of,
 * except where the input holds that key's signature for that leaf (Core's
 * `CreateTaprootScriptSig` keeps it): `pk()` and `multi_a()` leaves by
 * @scure/btc-signer, `pkh()` leaves, which the library does not know (it
 * signs only leaves naming a key), here: BIP 342's digest for the leaf
 * (the library's), signed as Core's `CreateSchnorrSig` signs, without
 * auxiliary randomness. Nothing is signed without a digest (SINGLE without
 * its output).
 */
function signLeaves(
  tx: Transaction,
  i: number,
  input: TransactionInput,
  leaves: readonly Leaf[],
  provider: SigningProvider,
  sighash: number,
  spent: SpentOutputs,
): void {
  if ((sighash & 0x03) === SIGHASH_SINGLE && i >= tx.outputsLength) return;
  const held = new Set(
    (input.tapScriptSig ?? []).map(([{ pubKey, leafHash }]) =>
      hex.encode(pubKey) + hex.encode(leafHash)
    ),
  );
  const signers = new Map<string, { key: Uint8Array; secret: Uint8Array; leaves: Leaf[] }>();
  const noSecret = new Set<string>();
  for (const leaf of leaves) {
    for (const key of tapscriptKeys(leaf.script, provider)) {
      const id = hex.encode(key);
      if (noSecret.has(id) || held.has(id + hex.encode(leaf.leafHash))) continue;
      let signer = signers.get(id);
      if (!signer) {
        const secret = provider.secret(key);
        if (!secret) {
          noSecret.add(id);
          continue;
        }
        signers.set(id, signer = { key, secret, leaves: [] });
      }
      signer.leaves.push(leaf);
    }
  }
  for (const { key, secret, leaves: own } of signers.values()) {
    const named = own.filter((leaf) => !tapPkhHash(leaf.script)).map(leafScriptEntry);
    if (named.length > 0) {
      withLeaves(tx, i, input, named, () => tx.signIdx(secret, i, [sighash], SCHNORR_AUX));
    }
    for (const leaf of own.filter((leaf) => tapPkhHash(leaf.script))) {
      const digest = tx.preimageWitnessV1(
        i,
        spent.scripts,
        sighash,
        spent.amounts,
        undefined,
        leaf.script,
        leaf.leafVersion,
      );
      const signature = schnorr.sign(digest, secret, SCHNORR_AUX);
      tx.updateInput(i, {
        tapScriptSig: [[
          { pubKey: key, leafHash: leaf.leafHash },
          sighash === SIGHASH_DEFAULT ? signature : concatBytes(signature, Uint8Array.of(sighash)),
        ]],
      }, true);
    }
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
 * `bip32derivs`; a taproot input's key origins as {@linkcode signTaproot}
 * records them); each input not final signed (`SignPSBTInput`) with the
 * private keys `provider` holds for the keys its script names (a taproot
 * input's as {@linkcode signTaproot} signs), without auxiliary randomness
 * ({@linkcode SCHNORR_AUX}), at the hash
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
  const shown = options.bip32derivs ? provider : provider.hiding({ origins: true });
  fillPsbt(node, raw, shown, shown.hiding({ secrets: true }), true);
  const unsigned = unsignedTx(raw);
  const utxos = raw.inputs.map((input, i) => utxoOf(input, unsigned.inputs[i].index));
  // A taproot digest commits to every spent output: with one unknown there is none (Core's
  // `PrecomputePSBTData`).
  const spent = utxos.every((utxo) => utxo !== undefined)
    ? { scripts: utxos.map((utxo) => utxo!.script), amounts: utxos.map((utxo) => utxo!.amount) }
    : undefined;
  const signed = Transaction.fromPSBT(RawPSBTV0.encode(raw), TX_OPTIONS);
  {
    // Signing adds signatures and key origins only: the transaction-wide hashes hold throughout.
    using _sighashes = cachedSighashes(signed);
    for (let i = 0; i < signed.inputsLength; i++) {
      const input = signed.getInput(i);
      const utxo = utxos[i];
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
      if (taproot) {
        signTaproot(signed, i, input, utxo.script, shown, sighash, spent);
        continue;
      }
      const info = spendInfo(shown, utxo.script, input);
      if (!input.nonWitnessUtxo && !info.witness) continue;
      for (const key of info.keys) {
        const secret = shown.secret(key);
        if (!secret) continue;
        try {
          signed.signIdx(secret, i, [sighash], SCHNORR_AUX);
        } catch {
          // Not this input's key as the library reads the input (or its data is missing).
        }
      }
    }
  }
  const tx = options.finalize ? finalizePsbt({ raw, tx: signed }, shown).tx : signed;
  const out = RawPSBTV0.decode(tx.toPSBT(0));
  dropUnneededTransactions(out, options.sighash ?? SIGHASH_DEFAULT);
  const result = Transaction.fromPSBT(RawPSBTV0.encode(out), TX_OPTIONS);
  const inputs = Array.from({ length: result.inputsLength }, (_, i) => result.getInput(i));
  return { tx: result, complete: inputs.every(inputFinalized) };
}
