/**
 * What the wallet writes into a transaction it signs or describes, as
 * Bitcoin Core's `FillPSBT` and `SignPSBTInput` write a PSBT's fields: an
 * input spending one of its coins gets the transaction that made the coin
 * (`non_witness_utxo`), the coin itself when the spend is segwit
 * (`witness_utxo`), the scripts and the taproot internal key it needs (a
 * script tree's merkle root and leaves with their control blocks too), and
 * where its keys come from (BIP 32 derivations) when asked; an output paying
 * the wallet gets the same scripts (a tree's leaves) and derivations. A
 * signed input is finalized as Core's `FromSignatureData` does it.
 *
 * @example
 * ```ts
 * import { hex } from "@scure/base";
 * import { Transaction } from "@scure/btc-signer";
 * import { Account, HdSecret, isSingleKey } from "./keys.ts";
 * import { describeOutput, pathIndexes } from "./psbt.ts";
 * const secret = HdSecret.fromMnemonic(
 *   "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
 * );
 * const key = Account.fromSecret(secret, "wpkh").derive(true, 0);
 * if (!isSingleKey(key)) throw new Error("an account of the wallet's own is of single keys");
 * const tx = new Transaction();
 * tx.addOutput({ script: key.script, amount: 1000n });
 * describeOutput(tx, 0, key, true);
 * const [[publicKey, origin]] = tx.getOutput(0).bip32Derivation!;
 * if (origin.path.join() !== pathIndexes(key.path).join()) throw new Error("wrong path");
 * const path = pathIndexes(key.path); // m/84h/1h/0h/1/0
 * if (hex.encode(publicKey) !== hex.encode(key.publicKey) || path[0] !== 0x80000054) {
 *   throw new Error("no derivation");
 * }
 * ```
 * @module
 */
import { Script, Transaction, type TxOpts } from "@scure/btc-signer";
import {
  type DerivedKey,
  isMultisig,
  isTaprootTree,
  type MultisigAddress,
  type OriginKey,
  type TaprootTreeAddress,
} from "./keys.ts";
import type { TaprootControlBlock } from "@scure/btc-signer/psbt.js";
import { hex } from "@scure/base";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { PERMISSIVE_TX_OPTIONS } from "../bitcoin/tx_options.ts";
import { scurePreimages } from "../bitcoin/sighash.ts";
import { tapPkhFinalizer } from "../bitcoin/tapscript.ts";
import type { TapLeaf } from "../bitcoin/taptree.ts";
import { compareBytes } from "../bitcoin/bytes.ts";

/**
 * How the wallet reads a transaction or PSBT others made: any script, any
 * version and any field kept, signatures low-R as Core grinds them.
 */
export const TX_OPTIONS: TxOpts = { ...PERMISSIVE_TX_OPTIONS, lowR: true };

/** The transaction of a PSBT (v0 or v2), read with `TX_OPTIONS`. */
export function readPsbt(bytes: Uint8Array): Transaction {
  return Transaction.fromPSBT(bytes, TX_OPTIONS);
}

/**
 * The unsigned transaction `raw` as a PSBT to fill (Core's
 * `PartiallySignedTransaction(tx)`): its inputs' empty scriptSigs are no
 * final scripts.
 */
export function psbtOf(raw: Uint8Array): Transaction {
  const tx = Transaction.fromRaw(raw, TX_OPTIONS);
  for (let i = 0; i < tx.inputsLength; i++) {
    if (!isFinalized(tx, i)) {
      tx.updateInput(i, { finalScriptSig: undefined, finalScriptWitness: undefined }, true);
    }
  }
  return tx;
}

/** BIP 32's mark of a hardened step. */
const HARDENED = 0x80000000;

/** The flag that signs one input alone. */
const SIGHASH_ANYONECANPAY = 0x80;

/** The steps of `m/84h/1h/0h/0/3` as BIP 32 numbers them (a PSBT's key origin). */
export function pathIndexes(path: string): number[] {
  return path.split("/").slice(1).map((step) =>
    step.endsWith("h") ? (Number(step.slice(0, -1)) + HARDENED) >>> 0 : Number(step)
  );
}

/**
 * The origin fields a PSBT gives `key`: each of a multisig's keys, one
 * key's (taproot's naming its x-only key and no leaves).
 */
function derivation(key: DerivedKey): {
  bip32Derivation?: [Uint8Array, { fingerprint: number; path: number[] }][];
  tapBip32Derivation?: [
    Uint8Array,
    { hashes: Uint8Array[]; der: { fingerprint: number; path: number[] } },
  ][];
} {
  const der = (origin: OriginKey) => ({
    fingerprint: origin.fingerprint,
    path: pathIndexes(origin.path),
  });
  if (isMultisig(key)) {
    return { bip32Derivation: key.keys.map((origin) => [origin.publicKey, der(origin)]) };
  }
  if (isTaprootTree(key)) return { tapBip32Derivation: treeDerivation(key, der) };
  return key.kind === "tr"
    ? { tapBip32Derivation: [[key.publicKey.subarray(1), { hashes: [], der: der(key) }]] }
    : { bip32Derivation: [[key.publicKey, der(key)]] };
}

/**
 * A tree address's key origins as Core's `SignTaproot` gathers them: the
 * internal key with no leaves, then each leaf's keys with the hashes of
 * the leaves they sit in (a key in several leaves once, with all of them).
 */
function treeDerivation(
  key: TaprootTreeAddress,
  der: (origin: OriginKey) => { fingerprint: number; path: number[] },
): [Uint8Array, { hashes: Uint8Array[]; der: { fingerprint: number; path: number[] } }][] {
  const byKey = new Map<string, { key: OriginKey; hashes: Uint8Array[] }>();
  const note = (origin: OriginKey, hashes: Uint8Array[]) => {
    const xonly = hex.encode(origin.publicKey.subarray(1));
    const entry = byKey.get(xonly) ?? { key: origin, hashes: [] };
    for (const hash of hashes) {
      if (!entry.hashes.some((held) => equal(held, hash))) entry.hashes.push(hash);
    }
    byKey.set(xonly, entry);
  };
  note(key.internalKey, []);
  key.leaves.forEach((leaf, i) => {
    for (const origin of leaf.keys) note(origin, [key.tree.leaves[i].leafHash]);
  });
  return [...byKey.values()].map(({ key: origin, hashes }) => [
    origin.publicKey.subarray(1),
    { hashes, der: der(origin) },
  ]);
}

/**
 * What a spend of a tree address needs (Core's `tap_internal_key`,
 * `tap_merkle_root`, `tap_scripts`): each leaf's script with its control
 * block, by which a signer finds the leaves it signs.
 */
function treeInputFields(key: TaprootTreeAddress) {
  return {
    tapInternalKey: key.tree.internalKey,
    tapMerkleRoot: key.tree.merkleRoot,
    tapLeafScript: key.tree.leaves.map((leaf): [
      ReturnType<typeof TaprootControlBlock.decode>,
      Uint8Array,
    ] => {
      // The script with its leaf version last, as the PSBT field holds it.
      const versioned = new Uint8Array(leaf.script.length + 1);
      versioned.set(leaf.script);
      versioned[leaf.script.length] = leaf.leafVersion;
      const control = {
        version: leaf.controlBlock[0],
        internalKey: key.tree.internalKey,
        merklePath: [...leaf.merklePath],
      };
      return [control, versioned];
    }),
  };
}

/** What an output paying a tree address gets (Core's `tap_internal_key`, `tap_tree`). */
function treeOutputFields(key: TaprootTreeAddress) {
  return {
    tapInternalKey: key.tree.internalKey,
    tapTree: key.tree.leaves.map(({ depth, leafVersion, script }) => ({
      depth,
      version: leafVersion,
      script,
    })),
  };
}

/** The scripts a spend or payment of `key`'s script needs beside the script itself. */
function scripts(key: Exclude<DerivedKey, TaprootTreeAddress>) {
  if (isMultisig(key)) {
    return {
      ...(key.redeemScript ? { redeemScript: key.redeemScript } : {}),
      ...(key.witnessScript ? { witnessScript: key.witnessScript } : {}),
    };
  }
  return key.kind === "sh_wpkh"
    ? { redeemScript: key.redeemScript! }
    : key.kind === "tr"
    ? { tapInternalKey: key.publicKey.subarray(1) }
    : {};
}

/** Whether spending `key`'s script is a segwit spend, whose signature commits to its coin. */
function segwit(key: DerivedKey): boolean {
  return key.kind !== "pkh";
}

/** The coin an input spends: its output and the transaction that made it. */
export interface SpentCoin {
  readonly script: Uint8Array;
  readonly amount: bigint;
  /** The whole transaction that made the coin (`non_witness_utxo`). */
  readonly prevTx: Uint8Array;
}

/**
 * Describes input `i` of `tx`, which spends `coin` with `key`: what signing
 * it needs, and where its keys come from with `bip32derivs`.
 */
export function describeInput(
  tx: Transaction,
  i: number,
  coin: SpentCoin,
  key: DerivedKey,
  bip32derivs: boolean,
): void {
  tx.updateInput(
    i,
    {
      nonWitnessUtxo: coin.prevTx,
      ...(segwit(key) ? { witnessUtxo: { script: coin.script, amount: coin.amount } } : {}),
      ...(isTaprootTree(key) ? treeInputFields(key) : scripts(key)),
      ...(bip32derivs ? derivation(key) : {}),
    },
    true,
  );
}

/** Describes output `i` of `tx`, which pays `key`'s script (Core's `UpdatePSBTOutput`). */
export function describeOutput(
  tx: Transaction,
  i: number,
  key: DerivedKey,
  bip32derivs: boolean,
): void {
  const fields = isTaprootTree(key) ? treeOutputFields(key) : scripts(key);
  tx.updateOutput(i, { ...fields, ...(bip32derivs ? derivation(key) : {}) }, true);
}

/** Whether input `i` of `tx` is final: its scriptSig or witness written (`PSBTInputSigned`). */
export function isFinalized(tx: Transaction, i: number): boolean {
  const input = tx.getInput(i);
  return (input.finalScriptSig?.length ?? 0) > 0 || (input.finalScriptWitness?.length ?? 0) > 0;
}

/** What a finalized input drops: what only signing needed (`FromSignatureData`). */
const CLEARED = {
  partialSig: undefined,
  bip32Derivation: undefined,
  redeemScript: undefined,
  witnessScript: undefined,
} as const;

/** The taproot fields a finalized input keeps only if it had them before (`FromSignatureData`), cleared. */
const TAPROOT_CLEARED = {
  tapInternalKey: undefined,
  tapBip32Derivation: undefined,
  tapKeySig: undefined,
  tapScriptSig: undefined,
  tapLeafScript: undefined,
  tapMerkleRoot: undefined,
} as const;

/** Taproot fields a finalized input keeps only if it had them before (`FromSignatureData`). */
export type TaprootFields = Pick<
  ReturnType<Transaction["getInput"]>,
  keyof typeof TAPROOT_CLEARED
>;

/** The taproot fields of input `i` as they are, for {@linkcode finalizeInput} to keep. */
export function taprootFields(tx: Transaction, i: number): TaprootFields {
  const input = tx.getInput(i);
  return Object.fromEntries(
    Object.keys(TAPROOT_CLEARED).map((field) => [field, input[field as keyof TaprootFields]]),
  );
}

/**
 * Puts the signature of `key` in input `i` where its script type wants it
 * and drops what only signing needed, as Core's `FromSignatureData` does
 * for a complete input: the partial signatures, key origins and scripts
 * go; of the taproot fields only those in `taproot` (what the input had
 * before this wallet described and signed it, a key-path signature an
 * earlier pass left among them) stay. False
 * when the input holds no signature by `key`. scure's own `finalizeIdx`
 * first checks the fee, which needs every input's coin; a transaction the
 * wallet owns only in part has inputs it does not know.
 */
export function finalizeInput(
  tx: Transaction,
  i: number,
  key: DerivedKey,
  taproot: TaprootFields = {},
): boolean {
  const input = tx.getInput(i);
  if (isMultisig(key)) return finalizeMultisig(tx, i, key);
  // Signed through its leaves or its key path, by this wallet's keys of it or others'.
  if (isTaprootTree(key)) return finalizeTree(tx, i, key, taproot);
  if (key.kind === "tr") {
    if (input.tapKeySig === undefined) return false;
    tx.updateInput(i, {
      ...CLEARED,
      ...TAPROOT_CLEARED,
      ...taproot,
      finalScriptWitness: [input.tapKeySig],
    }, true);
    return true;
  }
  const signature = input.partialSig?.find(([publicKey]) => equal(publicKey, key.publicKey))?.[1];
  if (signature === undefined) return false;
  tx.updateInput(
    i,
    {
      ...CLEARED,
      ...(key.kind === "pkh" ? { finalScriptSig: Script.encode([signature, key.publicKey]) } : {
        finalScriptWitness: [signature, key.publicKey],
        ...(key.kind === "sh_wpkh" ? { finalScriptSig: Script.encode([key.redeemScript!]) } : {}),
      }),
    },
    true,
  );
  return true;
}

/** The hash types a 65-byte BIP 342 signature may name. */
const SCHNORR_HASH_TYPES = new Set([0x01, 0x02, 0x03, 0x81, 0x82, 0x83]);

/**
 * A tree input finalized, as Core's `SignTaproot` satisfies it: by a
 * key-path signature it holds that verifies, else through its smallest leaf
 * the valid script signatures it holds satisfy (`pk()`, `multi_a()` by
 * @scure/btc-signer's finalizer, `pkh()` by the shared
 * {@linkcode tapPkhFinalizer}, its key the leaf's); a signature that does
 * not verify is not counted, and an input without enough is left as it
 * was.
 */
function finalizeTree(
  tx: Transaction,
  i: number,
  key: TaprootTreeAddress,
  taproot: TaprootFields,
): boolean {
  const { tapKeySig, tapScriptSig: held = [] } = tx.getInput(i);
  const spent = Array.from({ length: tx.inputsLength }, (_, j) => spentOutput(tx, j));
  if (spent.some((output) => output === undefined)) return false;
  const scripts = spent.map((output) => output!.script);
  const amounts = spent.map((output) => output!.amount);
  const preimages = scurePreimages(tx);
  /** Whether `signature` by `pubKey` verifies, over the key path or `leaf`'s script. */
  const verifies = (signature: Uint8Array, pubKey: Uint8Array, leaf?: TapLeaf) => {
    if (signature.length !== 64 && signature.length !== 65) return false;
    // BIP 341/342: a 65-byte signature names a defined hash type other than DEFAULT.
    if (signature.length === 65 && !SCHNORR_HASH_TYPES.has(signature[64])) return false;
    const hashType = signature.length === 65 ? signature[64] : 0; // SIGHASH_DEFAULT
    try {
      const digest = preimages.preimageWitnessV1(
        i,
        scripts,
        hashType,
        amounts,
        undefined,
        leaf?.script,
        leaf?.leafVersion,
      );
      return schnorr.verify(signature.subarray(0, 64), digest, pubKey);
    } catch {
      return false; // SINGLE without its output.
    }
  };
  if (tapKeySig !== undefined && verifies(tapKeySig, key.tree.outputKey)) {
    tx.updateInput(i, {
      ...CLEARED,
      ...TAPROOT_CLEARED,
      ...taproot,
      finalScriptWitness: [tapKeySig],
    }, true);
    return true;
  }
  const leaves = new Map(key.tree.leaves.map((leaf) => [hex.encode(leaf.leafHash), leaf]));
  const valid = held.filter(([{ pubKey, leafHash }, signature]) => {
    const leaf = leaves.get(hex.encode(leafHash));
    return leaf !== undefined && verifies(signature, pubKey, leaf);
  });
  if (valid.length === 0) return false;
  const pkhKeys = key.leaves.flatMap((leaf) => leaf.leaf === "pkh" ? leaf.keys : []);
  const knows = (pubKey: Uint8Array) =>
    pkhKeys.some((origin) => equal(origin.publicKey.subarray(1), pubKey));
  // A copy to finalize: scure's finalizer writes only the smallest satisfied leaf's witness.
  const trial = Transaction.fromPSBT(tx.toPSBT(), {
    ...TX_OPTIONS,
    customScripts: [tapPkhFinalizer(knows)],
  });
  // Only verified leaf signatures and the tree's own leaves, in script order (Core's choice among
  // equal witnesses): no key-path signature left unchecked, no control block the PSBT brought.
  const ownLeaves = treeInputFields(key).tapLeafScript
    .sort(([, a], [, b]) => compareBytes(a, b));
  trial.updateInput(
    i,
    { tapScriptSig: undefined, tapKeySig: undefined, tapLeafScript: undefined },
    true,
  );
  trial.updateInput(i, { tapScriptSig: valid, tapLeafScript: ownLeaves }, true);
  try {
    trial.finalizeIdx(i);
  } catch {
    return false; // Not enough signatures for any leaf.
  }
  tx.updateInput(i, {
    ...CLEARED,
    ...TAPROOT_CLEARED,
    ...taproot,
    finalScriptWitness: trial.getInput(i).finalScriptWitness,
  }, true);
  return true;
}

/**
 * A multisig input finalized when it holds valid signatures of enough of
 * its keys: the first `threshold` of them in the script's order after the
 * dummy element, in the scriptSig (`sh()`) or the witness with the
 * witness script (and the scriptSig pushing the P2WSH script in
 * `sh(wsh())`), as Core's `ProduceSignature` writes them. A signature
 * that does not verify is not counted (Core's finalizer checks the
 * script), and an input without enough is left as it was.
 */
function finalizeMultisig(tx: Transaction, i: number, key: MultisigAddress): boolean {
  const signatures = validSignatures(tx, i, key);
  if (signatures.length < key.threshold) return false;
  writeMultisig(tx, i, key, signatures);
  return true;
}

/** The valid signatures among input `i`'s partial ones, in the script's order, `threshold` at most. */
function validSignatures(tx: Transaction, i: number, key: MultisigAddress): Uint8Array[] {
  const held = tx.getInput(i).partialSig ?? [];
  const signs = signatureCheck(tx, i, key);
  return key.keys.flatMap(({ publicKey }) =>
    held.filter(([signer, signature]) => equal(signer, publicKey) && signs(signature, publicKey))
      .map(([, signature]) => signature)
  ).slice(0, key.threshold);
}

/**
 * `signatures` of `key`'s multisig written to input `i` after the dummy
 * element, as Core's `ProduceSignature` writes them: padded with empty
 * ones up to the threshold when fewer (a raw transaction signed in part).
 */
function writeMultisig(
  tx: Transaction,
  i: number,
  key: MultisigAddress,
  signatures: readonly Uint8Array[],
): void {
  const missing = Math.max(0, key.threshold - signatures.length);
  const stack = [new Uint8Array(), ...signatures, ...Array(missing).fill(new Uint8Array())];
  tx.updateInput(i, {
    ...CLEARED,
    ...(key.witnessScript === undefined
      ? { finalScriptSig: Script.encode([...stack, key.redeemScript!]) }
      : {
        finalScriptWitness: [...stack, key.witnessScript],
        ...(key.redeemScript === undefined
          ? {}
          : { finalScriptSig: Script.encode([key.redeemScript]) }),
      }),
  }, true);
}

/**
 * A raw transaction's multisig input `i` left signed in part
 * (`signrawtransactionwithwallet`): its valid signatures written as Core
 * leaves them, for another wallet to add its own. How many it holds.
 */
export function writePartialMultisig(tx: Transaction, i: number, key: MultisigAddress): number {
  const signatures = validSignatures(tx, i, key);
  writeMultisig(tx, i, key, signatures);
  return signatures.length;
}

/**
 * The signatures a raw transaction's multisig input `i` carries (another
 * wallet's partial signing), moved to its partial signatures as Core's
 * `DataFromTransaction` reads them, each matched to the key it verifies
 * with; its scriptSig and witness cleared, for signing to complete (an
 * input with enough of them is left as it is). The coin it spends must be
 * described first (its amount is signed).
 */
export function readPartialMultisig(tx: Transaction, i: number, key: MultisigAddress): void {
  const input = tx.getInput(i);
  const stack: unknown[] = key.witnessScript === undefined
    ? Script.decode(input.finalScriptSig ?? new Uint8Array())
    : input.finalScriptWitness ?? [];
  const signs = signatureCheck(tx, i, key);
  const partialSig = stack.flatMap((item) => {
    if (!(item instanceof Uint8Array) || item.length === 0) return [];
    const signer = key.keys.find(({ publicKey }) => signs(item, publicKey));
    return signer === undefined ? [] : [[signer.publicKey, item] as [Uint8Array, Uint8Array]];
  });
  // Enough signatures already: left as it is, as Core's ProduceSignature leaves a complete input.
  if (partialSig.length >= key.threshold) return;
  tx.updateInput(i, { finalScriptSig: undefined, finalScriptWitness: undefined }, true);
  if (partialSig.length > 0) tx.updateInput(i, { partialSig }, true);
}

/**
 * Whether a signature (hash type last) is a key's for input `i` spending
 * `key`'s multisig: over the witness script and the coin's amount, or
 * the legacy digest of the redeem script.
 */
function signatureCheck(
  tx: Transaction,
  i: number,
  key: MultisigAddress,
): (signature: Uint8Array, publicKey: Uint8Array) => boolean {
  const preimages = scurePreimages(tx);
  const amount = spentOutput(tx, i)?.amount;
  return (signature, publicKey) => {
    const hashType = signature[signature.length - 1];
    try {
      const digest = key.witnessScript === undefined
        ? preimages.preimageLegacy(i, key.redeemScript!, hashType)
        : preimages.preimageWitnessV0(i, key.witnessScript, hashType, amount!);
      return secp256k1.verify(signature.subarray(0, -1), digest, publicKey, {
        prehash: false,
        format: "der",
        lowS: false,
      });
    } catch {
      return false; // Not DER, or no amount to sign for.
    }
  };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** The output input `i` spends, as the PSBT tells it (`non_witness_utxo` or `witness_utxo`). */
export function spentOutput(
  tx: Transaction,
  i: number,
): { script: Uint8Array; amount: bigint } | undefined {
  const input = tx.getInput(i);
  const previous = input.nonWitnessUtxo?.outputs[input.index!];
  return previous === undefined ? input.witnessUtxo : previous;
}

/** Whether `script` pays a taproot output (a witness v1 program of 32 bytes). */
export function isTaproot(script: Uint8Array): boolean {
  return witnessVersion(script) === 1 && script.length === 34;
}

/** Whether `script` is a witness program: a segwit spend, whose signature commits to its coin. */
export function isWitnessProgram(script: Uint8Array): boolean {
  return witnessVersion(script) !== null;
}

/**
 * Core's `RemoveUnnecessaryTransactions`: when every input spends a segwit
 * v1+ output, whose signatures commit to every spent amount, the whole
 * previous transactions are dropped, unless an input signs alone
 * (`ANYONECANPAY` recorded in it).
 */
export function dropPreviousTransactions(tx: Transaction): void {
  for (let i = 0; i < tx.inputsLength; i++) {
    const { witnessUtxo, sighashType } = tx.getInput(i);
    if (witnessUtxo === undefined || !(witnessVersion(witnessUtxo.script) ?? 0)) return;
    if (sighashType !== undefined && (sighashType & SIGHASH_ANYONECANPAY) !== 0) return;
  }
  for (let i = 0; i < tx.inputsLength; i++) {
    if (tx.getInput(i).nonWitnessUtxo !== undefined) {
      tx.updateInput(i, { nonWitnessUtxo: undefined }, true);
    }
  }
}

/** The witness version of a witness program (`IsWitnessProgram`), else null. */
function witnessVersion(script: Uint8Array): number | null {
  if (script.length < 4 || script.length > 42 || script[1] !== script.length - 2) return null;
  if (script[0] === 0) return 0;
  return script[0] >= 0x51 && script[0] <= 0x60 ? script[0] - 0x50 : null;
}
