/**
 * Signature digests with each transaction-wide hash computed once, as Core's
 * `PrecomputedTransactionData` does. `@scure/btc-signer` rehashes every
 * input's outpoint, amount, script and sequence, and every output, for each
 * input it signs or checks: a transaction of n inputs then costs n² work
 * (a thousand taproot inputs took some 25 s to sign). The digests here are
 * scure's, byte for byte; only the transaction-wide parts are kept.
 *
 * @example
 * ```ts
 * import { Transaction } from "@scure/btc-signer";
 * import { scurePreimages, SighashCache } from "./sighash.ts";
 * const tx = new Transaction({ allowUnknownOutputs: true });
 * tx.addInput({ txid: new Uint8Array(32).fill(1), index: 0 });
 * tx.addOutput({ script: Uint8Array.of(0x51), amount: 1000n });
 * const script = Uint8Array.of(0x76, 0xa9);
 * const cached = new SighashCache(tx).preimageWitnessV0(0, script, 1, 5000n);
 * const scures = scurePreimages(tx).preimageWitnessV0(0, script, 1, 5000n);
 * if (cached.toHex() !== scures.toHex()) throw new Error();
 * ```
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { schnorr } from "@noble/curves/secp256k1.js";
import { equalBytes } from "@noble/curves/utils.js";
import type { Transaction } from "@scure/btc-signer";

/**
 * The auxiliary randomness BIP 340 signatures are made with: none, as
 * Core's `CreateSchnorrSig` signs (`uint256{}`), so signing twice gives the
 * same signature.
 */
export const SCHNORR_AUX: Uint8Array = new Uint8Array(32);

const SIGHASH_DEFAULT = 0x00;
const SIGHASH_ALL = 0x01;
const SIGHASH_NONE = 0x02;
const SIGHASH_SINGLE = 0x03;
const SIGHASH_ANYONECANPAY = 0x80;
const DEFAULT_SEQUENCE = 0xffffffff;
const ZERO_HASH = new Uint8Array(32);
const OP_PUSHDATA1 = 0x4c;
const OP_PUSHDATA2 = 0x4d;
const OP_PUSHDATA4 = 0x4e;
const OP_CODESEPARATOR = 0xab;
/** What a legacy SINGLE signature without its output signs: the number one (Core's bug, kept). */
const LEGACY_SINGLE_BUG = Uint8Array.of(1, ...new Uint8Array(31));
/** `CTxOut()` as the legacy digest writes the outputs SINGLE leaves out: value -1, no script. */
const NULL_OUTPUT = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00);

/**
 * BIP 341's leaf hash of `script` under any leaf version (scure's
 * `tapLeafHash` refuses versions it does not know, which consensus
 * accepts).
 *
 * @example
 * ```ts
 * import { tapLeafHash } from "@scure/btc-signer/payment.js";
 * import { leafHash } from "./sighash.ts";
 * const script = Uint8Array.of(0x51);
 * if (leafHash(script, 0xc0).toHex() !== tapLeafHash(script, 0xc0).toHex()) throw new Error();
 * if (leafHash(script, 0x50).length !== 32) throw new Error("any version");
 * ```
 */
export function leafHash(script: Uint8Array, version: number): Uint8Array {
  return schnorr.utils.taggedHash("TapLeaf", Uint8Array.of(version), varBytes(script));
}

/**
 * scure's sighash preimage methods on a `Transaction`: private in its
 * types, public at run time, and what both the node's script checks and
 * scure's signing call.
 */
export interface SighashPreimages {
  preimageLegacy(index: number, scriptCode: Uint8Array, hashType: number): Uint8Array;
  preimageWitnessV0(
    index: number,
    scriptCode: Uint8Array,
    hashType: number,
    amount: bigint,
  ): Uint8Array;
  preimageWitnessV1(
    index: number,
    scripts: Uint8Array[],
    hashType: number,
    amounts: bigint[],
    codeSeparator?: number,
    leafScript?: Uint8Array,
    leafVersion?: number,
    annex?: Uint8Array,
  ): Uint8Array;
}

/**
 * scure's own preimage methods of `tx`, uncached.
 *
 * @example
 * ```ts
 * import { Transaction } from "@scure/btc-signer";
 * import { scurePreimages } from "./sighash.ts";
 * const tx = new Transaction();
 * tx.addInput({ txid: new Uint8Array(32), index: 0 });
 * if (scurePreimages(tx).preimageLegacy(0, new Uint8Array(), 1).length !== 32) throw new Error();
 * ```
 */
export function scurePreimages(tx: Transaction): SighashPreimages {
  return tx as unknown as SighashPreimages;
}

/** One input as the digests read it: its outpoint on the wire, its sequence. */
interface InputView {
  readonly outpoint: Uint8Array;
  readonly sequence: number;
}

/** The BIP 341 single-SHA256 hashes over every input's spent output. */
interface SpentHashes {
  /** The arrays last passed: the same arrays again need no comparing. */
  readonly given: { scripts: readonly Uint8Array[]; amounts: readonly bigint[] };
  readonly scripts: readonly Uint8Array[];
  readonly amounts: readonly bigint[];
  readonly amountsHash: Uint8Array;
  readonly scriptsHash: Uint8Array;
}

/**
 * The sighash preimages of one transaction (scure's `preimageLegacy`,
 * `preimageWitnessV0` and `preimageWitnessV1`, same arguments and results),
 * with the hashes over all inputs and outputs computed on first use and
 * kept. It reads the transaction's inputs and outputs when made: adding or
 * changing one afterwards needs a new cache. Signatures and witnesses may
 * change freely; no digest covers them.
 *
 * @example
 * ```ts
 * import { Transaction } from "@scure/btc-signer";
 * import { scurePreimages, SighashCache } from "./sighash.ts";
 * const tx = new Transaction({ allowUnknownOutputs: true });
 * for (let i = 0; i < 3; i++) tx.addInput({ txid: new Uint8Array(32).fill(i + 1), index: i });
 * tx.addOutput({ script: Uint8Array.of(0x51), amount: 700n });
 * const scripts = [0, 1, 2].map(() => Uint8Array.of(0x51));
 * const amounts = [1000n, 2000n, 3000n];
 * const cache = new SighashCache(tx);
 * for (const [i, type] of [[0, 0x83], [1, 0x00], [2, 0x02]]) {
 *   const ours = cache.preimageWitnessV1(i, scripts, type, amounts);
 *   if (ours.toHex() !== scurePreimages(tx).preimageWitnessV1(i, scripts, type, amounts).toHex()) {
 *     throw new Error(`input ${i}`);
 *   }
 * }
 * ```
 */
export class SighashCache implements SighashPreimages {
  readonly #tx: Transaction;
  readonly #version: number;
  readonly #lockTime: number;
  readonly #inputs: readonly InputView[];
  readonly #outputs: readonly Uint8Array[];
  #prevoutsHash?: Uint8Array;
  #sequencesHash?: Uint8Array;
  #outputsHash?: Uint8Array;
  #spent?: SpentHashes;
  #leaf?: { script: Uint8Array; version: number; hash: Uint8Array };

  /** Reads `tx`'s inputs and outputs; hashes nothing yet. */
  constructor(tx: Transaction) {
    this.#tx = tx;
    this.#version = tx.version;
    this.#lockTime = tx.lockTime;
    this.#inputs = Array.from({ length: tx.inputsLength }, (_, i) => {
      const { txid, index, sequence } = tx.getInput(i);
      if (txid === undefined || index === undefined) {
        throw new Error("Transaction/input: txid and index required");
      }
      const outpoint = new Uint8Array(36);
      outpoint.set(txid.toReversed());
      new DataView(outpoint.buffer).setUint32(32, index, true);
      return { outpoint, sequence: sequence ?? DEFAULT_SEQUENCE };
    });
    this.#outputs = Array.from({ length: tx.outputsLength }, (_, i) => {
      const { script, amount } = tx.getOutput(i);
      if (script === undefined || amount === undefined) {
        throw new Error("Transaction/output: script and amount required");
      }
      return concat([u64(amount), varBytes(script)]);
    });
  }

  /**
   * The legacy digest (Core's `SignatureHash` before segwit): the
   * transaction with input `index`'s script replaced by `scriptCode`
   * without its OP_CODESEPARATORs and the other inputs' emptied, inputs
   * and outputs trimmed as the hash type says. scure's, except that a
   * script code ending in an unreadable operation is signed as Core signs
   * it (separators dropped up to there) where scure throws.
   */
  preimageLegacy(index: number, scriptCode: Uint8Array, hashType: number): Uint8Array {
    this.#input(index);
    const base = hashType & 0x1f;
    const single = base === SIGHASH_SINGLE;
    const none = base === SIGHASH_NONE;
    if (single && index >= this.#outputs.length) return LEGACY_SINGLE_BUG;
    const signed = hashType & SIGHASH_ANYONECANPAY ? [index] : this.#inputs.map((_, i) => i);
    const parts = [u32(this.#version), compactSize(signed.length)];
    for (const i of signed) {
      const { outpoint, sequence } = this.#inputs[i];
      parts.push(
        outpoint,
        i === index ? varBytes(withoutCodeSeparators(scriptCode)) : Uint8Array.of(0),
        u32(i !== index && (single || none) ? 0 : sequence),
      );
    }
    const outputs = none
      ? []
      : single
      ? [...Array.from({ length: index }, () => NULL_OUTPUT), this.#outputs[index]]
      : this.#outputs;
    parts.push(compactSize(outputs.length), ...outputs, u32(this.#lockTime), u32(hashType));
    return sha256(sha256(concat(parts)));
  }

  /** The BIP 143 digest of input `index` spending `amount` under `scriptCode`. */
  preimageWitnessV0(
    index: number,
    scriptCode: Uint8Array,
    hashType: number,
    amount: bigint,
  ): Uint8Array {
    const input = this.#input(index);
    const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
    const base = hashType & 0x1f;
    const single = base === SIGHASH_SINGLE;
    const none = base === SIGHASH_NONE;
    // BIP 143's hashes are the BIP 341 ones hashed once more.
    const prevouts = anyoneCanPay ? ZERO_HASH : sha256(this.#prevouts());
    const sequences = anyoneCanPay || single || none ? ZERO_HASH : sha256(this.#sequences());
    const outputs = !single && !none
      ? sha256(this.#allOutputs())
      : single && index < this.#outputs.length
      ? sha256(sha256(this.#outputs[index]))
      : ZERO_HASH;
    return sha256(sha256(concat([
      u32(this.#version),
      prevouts,
      sequences,
      input.outpoint,
      varBytes(scriptCode),
      u64(amount),
      u32(input.sequence),
      outputs,
      u32(this.#lockTime),
      u32(hashType),
    ])));
  }

  /**
   * The BIP 341 digest of input `index`, given every input's spent script
   * and amount (a key-path spend, or a script-path one with `leafScript`).
   */
  preimageWitnessV1(
    index: number,
    scripts: Uint8Array[],
    hashType: number,
    amounts: bigint[],
    codeSeparator = -1,
    leafScript?: Uint8Array,
    leafVersion = 0xc0,
    annex?: Uint8Array,
  ): Uint8Array {
    const input = this.#input(index);
    if (amounts.length !== this.#inputs.length) throw new Error(`Invalid amounts array=${amounts}`);
    if (scripts.length !== this.#inputs.length) {
      throw new Error(`Invalid prevOutScript array=${scripts}`);
    }
    const outType = hashType === SIGHASH_DEFAULT ? SIGHASH_ALL : hashType & 0b11;
    const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
    // BIP 341 has no digest for SINGLE without its output (legacy and v0 do).
    if (outType === SIGHASH_SINGLE && index >= this.#outputs.length) {
      throw new Error(
        `Input with sighash SINGLE, but there is no output with corresponding index=${index}`,
      );
    }
    const parts = [Uint8Array.of(0, hashType), u32(this.#version), u32(this.#lockTime)];
    if (!anyoneCanPay) {
      const spent = this.#spentHashes(scripts, amounts);
      parts.push(
        this.#prevouts(),
        spent.amountsHash,
        spent.scriptsHash,
        this.#sequences(),
      );
    }
    if (outType === SIGHASH_ALL) parts.push(this.#allOutputs());
    parts.push(Uint8Array.of((annex ? 1 : 0) | (leafScript ? 2 : 0)));
    if (anyoneCanPay) {
      parts.push(
        input.outpoint,
        u64(amounts[index]),
        varBytes(scripts[index]),
        u32(input.sequence),
      );
    } else parts.push(u32(index));
    if (annex) parts.push(sha256(varBytes(annex)));
    if (outType === SIGHASH_SINGLE) parts.push(sha256(this.#outputs[index]));
    if (leafScript) {
      parts.push(this.#leafHash(leafScript, leafVersion), Uint8Array.of(0), u32(codeSeparator));
    }
    return schnorr.utils.taggedHash("TapSighash", ...parts);
  }

  #input(index: number): InputView {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.#inputs.length) {
      throw new Error(`Invalid input idx=${index}`);
    }
    return this.#inputs[index];
  }

  /** The leaf's hash, kept for the signature checks of one tapscript (BIP 342 allows many). */
  #leafHash(script: Uint8Array, version: number): Uint8Array {
    const kept = this.#leaf;
    if (kept?.script === script && kept.version === version) return kept.hash;
    this.#leaf = { script, version, hash: leafHash(script, version) };
    return this.#leaf.hash;
  }

  #prevouts(): Uint8Array {
    return this.#prevoutsHash ??= sha256(concat(this.#inputs.map((input) => input.outpoint)));
  }

  #sequences(): Uint8Array {
    return this.#sequencesHash ??= sha256(concat(this.#inputs.map((i) => u32(i.sequence))));
  }

  #allOutputs(): Uint8Array {
    return this.#outputsHash ??= sha256(concat(this.#outputs));
  }

  /**
   * The spent outputs' hashes, kept while callers pass the same outputs:
   * each call brings its own arrays (scure maps them afresh), so they are
   * compared, element by element and mostly by reference, not hashed.
   */
  #spentHashes(scripts: readonly Uint8Array[], amounts: readonly bigint[]): SpentHashes {
    const kept = this.#spent;
    if (kept?.given.scripts === scripts && kept.given.amounts === amounts) return kept;
    if (
      kept !== undefined &&
      kept.amounts.every((amount, i) => amount === amounts[i]) &&
      kept.scripts.every((script, i) => script === scripts[i] || equalBytes(script, scripts[i]))
    ) return kept;
    this.#spent = {
      given: { scripts, amounts },
      scripts: scripts.slice(),
      amounts: amounts.slice(),
      amountsHash: sha256(concat(amounts.map(u64))),
      scriptsHash: sha256(concat(scripts.map(varBytes))),
    };
    return this.#spent;
  }
}

/**
 * Core's `SignPSBTInput` choice of hash type for input `i` of the PSBT
 * `tx`: `requested`, else taproot's DEFAULT or ALL. One other than the
 * input type's default is recorded in the PSBT. Undefined when the PSBT
 * already asks for another, or holds a signature of another (Core refuses
 * to sign then, for the user's safety); else the hash type to sign with
 * (DEFAULT is ALL for ECDSA).
 *
 * @example
 * ```ts
 * import { Transaction } from "@scure/btc-signer";
 * import { psbtSighash } from "./sighash.ts";
 * const tx = new Transaction();
 * tx.addInput({ txid: new Uint8Array(32).fill(1), index: 0 });
 * if (psbtSighash(tx, 0, false, null) !== 0x01) throw new Error("ALL by default");
 * if (psbtSighash(tx, 0, false, 0x03) !== 0x03) throw new Error("SINGLE asked");
 * if (tx.getInput(0).sighashType !== 0x03) throw new Error("and recorded");
 * if (psbtSighash(tx, 0, false, null) !== undefined) throw new Error("another one held");
 * ```
 */
export function psbtSighash(
  tx: Transaction,
  i: number,
  taproot: boolean,
  requested: number | null,
): number | undefined {
  const sighash = requested ?? (taproot ? SIGHASH_DEFAULT : SIGHASH_ALL);
  const input = tx.getInput(i);
  if (input.sighashType !== undefined && input.sighashType !== sighash) return undefined;
  // The signatures it already holds must be of that hash type too.
  const schnorr = [input.tapKeySig ?? [], ...(input.tapScriptSig ?? []).map(([, sig]) => sig)]
    .filter((sig) => sig.length > 0);
  const matches = sighash === SIGHASH_DEFAULT
    ? schnorr.every((sig) => sig.length === 64)
    : schnorr.every((sig) => sig.length === 65 && sig[64] === sighash) &&
      (input.partialSig ?? []).every(([, sig]) => sig[sig.length - 1] === sighash);
  if (!matches) return undefined;
  if (sighash !== SIGHASH_DEFAULT && (taproot || sighash !== SIGHASH_ALL)) {
    tx.updateInput(i, { sighashType: sighash }, true);
  }
  return !taproot && sighash === SIGHASH_DEFAULT ? SIGHASH_ALL : sighash;
}

/**
 * Makes scure's own signing (`signIdx`, `sign`) on `tx` use a
 * {@linkcode SighashCache} until disposed. Within the scope only signatures
 * may be added: the cache does not see inputs or outputs that change.
 *
 * @example
 * ```ts
 * import { p2wpkh, Transaction } from "@scure/btc-signer";
 * import { secp256k1 } from "@noble/curves/secp256k1.js";
 * import { cachedSighashes } from "./sighash.ts";
 * const key = new Uint8Array(32).fill(7);
 * const payment = p2wpkh(secp256k1.getPublicKey(key, true));
 * const make = () => {
 *   const tx = new Transaction();
 *   for (let i = 0; i < 4; i++) {
 *     tx.addInput({
 *       txid: new Uint8Array(32).fill(i + 1), index: 0,
 *       witnessUtxo: { script: payment.script, amount: 1000n },
 *     });
 *   }
 *   tx.addOutput({ script: payment.script, amount: 3000n });
 *   return tx;
 * };
 * const plain = make();
 * plain.sign(key);
 * const fast = make();
 * {
 *   using _cache = cachedSighashes(fast);
 *   fast.sign(key);
 * }
 * plain.finalize();
 * fast.finalize();
 * if (fast.hex !== plain.hex) throw new Error("the signatures differ");
 * ```
 */
export function cachedSighashes(tx: Transaction): Disposable {
  const cache = new SighashCache(tx);
  const methods: Partial<SighashPreimages> = scurePreimages(tx);
  methods.preimageWitnessV0 = cache.preimageWitnessV0.bind(cache);
  methods.preimageWitnessV1 = cache.preimageWitnessV1.bind(cache);
  return {
    [Symbol.dispose]() {
      // Deleting the own properties leaves the prototype's methods showing.
      delete methods.preimageWitnessV0;
      delete methods.preimageWitnessV1;
    },
  };
}

function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
  return bytes;
}

function u64(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return bytes;
}

/** `bytes` after its CompactSize length, as scripts are serialized. */
function varBytes(bytes: Uint8Array): Uint8Array {
  return concat([compactSize(bytes.length), bytes]);
}

function compactSize(n: number): Uint8Array {
  return n < 0xfd
    ? Uint8Array.of(n)
    : n <= 0xffff
    ? Uint8Array.of(0xfd, n & 0xff, n >> 8)
    : Uint8Array.of(0xfe, ...u32(n));
}

/**
 * Core's `SerializeScriptCode`: the script without its OP_CODESEPARATORs,
 * up to the first operation that does not parse; the rest as it is.
 */
function withoutCodeSeparators(script: Uint8Array): Uint8Array {
  const kept: Uint8Array[] = [];
  let start = 0;
  for (let pc = 0; pc < script.length;) {
    const end = operationEnd(script, pc);
    if (end === undefined) break;
    if (script[pc] === OP_CODESEPARATOR) {
      kept.push(script.subarray(start, pc));
      start = end;
    }
    pc = end;
  }
  if (start === 0) return script;
  kept.push(script.subarray(start));
  return concat(kept);
}

/**
 * Where the script operation at `pc` ends (Core's `GetOp`: one byte, or a
 * push with its length and data), or undefined when its push runs past
 * the script.
 *
 * @example
 * ```ts
 * import { operationEnd } from "./sighash.ts";
 * const script = Uint8Array.of(0x51, 0x4c, 0x02, 0xaa, 0xbb, 0x4d, 0xff);
 * if (operationEnd(script, 0) !== 1 || operationEnd(script, 1) !== 5) throw new Error("ends");
 * if (operationEnd(script, 5) !== undefined) throw new Error("a cut push");
 * ```
 */
export function operationEnd(script: Uint8Array, pc: number): number | undefined {
  const opcode = script[pc++];
  if (opcode > OP_PUSHDATA4) return pc;
  const width = opcode === OP_PUSHDATA1
    ? 1
    : opcode === OP_PUSHDATA2
    ? 2
    : opcode === OP_PUSHDATA4
    ? 4
    : 0;
  if (script.length - pc < width) return undefined;
  let size = width === 0 ? opcode : 0;
  for (let i = width - 1; i >= 0; i--) size = size * 256 + script[pc + i];
  pc += width;
  return script.length - pc < size ? undefined : pc + size;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
