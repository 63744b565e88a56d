/**
 * Bitcoin Core's script interpreter: `EvalScript` over every opcode of
 * legacy, witness v0 and tapscript execution, and `VerifyScript` over a
 * transaction's inputs — P2PKH, P2PK, bare multisig and any other script,
 * P2SH, P2WPKH, P2WSH (bare or in P2SH), taproot key and script paths, pay
 * to anchor, and unknown witness versions as the soft-fork rules leave
 * them. Each rule sits under the flag Core puts it under and fails with
 * Core's `SCRIPT_ERR_*` name.
 *
 * Signature digests come from `@scure/btc-signer`'s legacy, BIP 143 and BIP
 * 341 preimages (through {@linkcode SighashCache}); ECDSA and BIP 340
 * verification from `@noble/curves`. ECDSA signatures are read with
 * libsecp256k1's lax DER parser and normalised to low S before checking,
 * as Core's `CPubKey::Verify` does, so pre-BIP 66 encodings judge alike.
 *
 * @example
 * ```ts
 * import { BLOCK_SCRIPT_VERIFY_FLAGS } from "./script.ts";
 * import { TxScriptChecker } from "./interpreter.ts";
 * import { p2ms, p2wsh, Transaction } from "@scure/btc-signer";
 * import { secp256k1 } from "@noble/curves/secp256k1.js";
 * import { decodeTx } from "./tx.ts";
 * const keys = [1, 2, 3].map((n) => new Uint8Array(32).fill(n));
 * const multisig = p2ms(2, keys.map((key) => secp256k1.getPublicKey(key)));
 * const payment = p2wsh(multisig);
 * const spent = { amount: 10_000n, script: payment.script };
 * const signer = new Transaction();
 * signer.addInput({
 *   txid: new Uint8Array(32).fill(1),
 *   index: 0,
 *   witnessUtxo: spent,
 *   witnessScript: payment.witnessScript,
 * });
 * signer.addOutput({ script: spent.script, amount: 9_000n });
 * signer.sign(keys[0]);
 * signer.sign(keys[2]);
 * signer.finalize();
 * const checker = new TxScriptChecker(decodeTx(signer.toBytes(true, true)), [spent]);
 * if (checker.verifyInput(0, BLOCK_SCRIPT_VERIFY_FLAGS) !== null) throw new Error("2-of-3 spend");
 * ```
 * @module
 */
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { ripemd160, sha1 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { Transaction } from "@scure/btc-signer";
import { taprootTweakPubkey } from "@scure/btc-signer/utils.js";
import { leafHash, SighashCache } from "../../bitcoin/sighash.ts";
import { bytesEqual } from "./hash.ts";
import {
  encodeScriptNum,
  hasDefinedHashType,
  isMinimalPush,
  isOpSuccess,
  isPayToScriptHash,
  isValidSignatureEncoding,
  MAX_PUBKEYS_PER_MULTISIG,
  MAX_SCRIPT_ELEMENT_SIZE,
  pushScript,
  readOp,
  type ScriptErrorCode,
  ScriptVerify as F,
  type SpentOutput,
  witnessProgram,
} from "./script.ts";
import { encodeTx, SEQUENCE_FINAL, type Tx } from "./tx.ts";
import { compareBytes } from "../../bitcoin/bytes.ts";

/** Which rules a script runs under and which digest its signatures sign (Core's `SigVersion`). */
export type SigVersion = "base" | "witness_v0" | "taproot" | "tapscript";

// Opcodes the interpreter names (Core's `opcodetype`).
const OP_PUSHDATA4 = 0x4e;
const OP_1NEGATE = 0x4f;
const OP_1 = 0x51;
const OP_16 = 0x60;
const OP_NOP = 0x61;
const OP_IF = 0x63;
const OP_NOTIF = 0x64;
const OP_ELSE = 0x67;
const OP_ENDIF = 0x68;
const OP_VERIFY = 0x69;
const OP_RETURN = 0x6a;
const OP_TOALTSTACK = 0x6b;
const OP_FROMALTSTACK = 0x6c;
const OP_2DROP = 0x6d;
const OP_2DUP = 0x6e;
const OP_3DUP = 0x6f;
const OP_2OVER = 0x70;
const OP_2ROT = 0x71;
const OP_2SWAP = 0x72;
const OP_IFDUP = 0x73;
const OP_DEPTH = 0x74;
const OP_DROP = 0x75;
const OP_DUP = 0x76;
const OP_NIP = 0x77;
const OP_OVER = 0x78;
const OP_PICK = 0x79;
const OP_ROLL = 0x7a;
const OP_ROT = 0x7b;
const OP_SWAP = 0x7c;
const OP_TUCK = 0x7d;
const OP_SIZE = 0x82;
const OP_EQUAL = 0x87;
const OP_EQUALVERIFY = 0x88;
const OP_1ADD = 0x8b;
const OP_1SUB = 0x8c;
const OP_NEGATE = 0x8f;
const OP_ABS = 0x90;
const OP_NOT = 0x91;
const OP_0NOTEQUAL = 0x92;
const OP_ADD = 0x93;
const OP_SUB = 0x94;
const OP_BOOLAND = 0x9a;
const OP_BOOLOR = 0x9b;
const OP_NUMEQUAL = 0x9c;
const OP_NUMEQUALVERIFY = 0x9d;
const OP_NUMNOTEQUAL = 0x9e;
const OP_LESSTHAN = 0x9f;
const OP_GREATERTHAN = 0xa0;
const OP_LESSTHANOREQUAL = 0xa1;
const OP_GREATERTHANOREQUAL = 0xa2;
const OP_MIN = 0xa3;
const OP_MAX = 0xa4;
const OP_WITHIN = 0xa5;
const OP_RIPEMD160 = 0xa6;
const OP_SHA1 = 0xa7;
const OP_SHA256 = 0xa8;
const OP_HASH160 = 0xa9;
const OP_HASH256 = 0xaa;
const OP_CODESEPARATOR = 0xab;
const OP_CHECKSIG = 0xac;
const OP_CHECKSIGVERIFY = 0xad;
const OP_CHECKMULTISIG = 0xae;
const OP_CHECKMULTISIGVERIFY = 0xaf;
const OP_NOP1 = 0xb0;
const OP_CHECKLOCKTIMEVERIFY = 0xb1;
const OP_CHECKSEQUENCEVERIFY = 0xb2;
const OP_NOP10 = 0xb9;
const OP_CHECKSIGADD = 0xba;

/** OP_CAT, OP_SUBSTR … OP_RSHIFT: fail wherever they appear (CVE-2010-5137). */
const DISABLED_OPCODES = new Set([
  0x7e,
  0x7f,
  0x80,
  0x81,
  0x83,
  0x84,
  0x85,
  0x86,
  0x8d,
  0x8e,
  0x95,
  0x96,
  0x97,
  0x98,
  0x99,
]);

const MAX_SCRIPT_SIZE = 10_000;
const MAX_STACK_SIZE = 1000;
const MAX_OPS_PER_SCRIPT = 201;
const LOCKTIME_THRESHOLD = 500_000_000;
const SEQUENCE_LOCKTIME_DISABLE_FLAG = 1 << 31;
const SEQUENCE_LOCKTIME_TYPE_FLAG = 1 << 22;
const SEQUENCE_LOCKTIME_MASK = 0xffff;
const ANNEX_TAG = 0x50;
const TAPROOT_LEAF_MASK = 0xfe;
const TAPROOT_LEAF_TAPSCRIPT = 0xc0;
const TAPROOT_CONTROL_BASE_SIZE = 33;
const TAPROOT_CONTROL_NODE_SIZE = 32;
const TAPROOT_CONTROL_MAX_SIZE = TAPROOT_CONTROL_BASE_SIZE + 128 * TAPROOT_CONTROL_NODE_SIZE;
const VALIDATION_WEIGHT_PER_SIGOP_PASSED = 50;
const VALIDATION_WEIGHT_OFFSET = 50;
const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const FALSE = new Uint8Array();
const TRUE = Uint8Array.of(1);

/** Thrown inside evaluation to stop it with a script error. */
class ScriptFailure {
  constructor(readonly code: ScriptErrorCode) {}
}

function fail(code: ScriptErrorCode): never {
  throw new ScriptFailure(code);
}

/** `CastToBool`: any non-zero byte, except a lone sign bit at the end (negative zero). */
function castToBool(value: Uint8Array): boolean {
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== 0) return !(i === value.length - 1 && value[i] === 0x80);
  }
  return false;
}

/**
 * `CScriptNum(bytes, requireMinimal, maxSize)`: a little-endian sign-magnitude
 * number of at most `maxSize` bytes. Core throws for an oversized or (under
 * MINIMALDATA) non-minimal encoding, which `EvalScript` reports as an unknown error.
 */
function scriptNum(bytes: Uint8Array, requireMinimal: boolean, maxSize = 4): number {
  const size = bytes.length;
  if (size > maxSize) fail("UNKNOWN_ERROR");
  if (size === 0) return 0;
  const last = bytes[size - 1];
  if (requireMinimal && (last & 0x7f) === 0 && (size === 1 || (bytes[size - 2] & 0x80) === 0)) {
    fail("UNKNOWN_ERROR");
  }
  let value = last & 0x7f;
  for (let i = size - 2; i >= 0; i--) value = value * 256 + bytes[i];
  return last & 0x80 ? -value : value;
}

/** The VERIFY forms of tests, and the error each fails with. */
const VERIFY_ERRORS = new Map<number, ScriptErrorCode>([
  [OP_EQUALVERIFY, "EQUALVERIFY"],
  [OP_NUMEQUALVERIFY, "NUMEQUALVERIFY"],
  [OP_CHECKSIGVERIFY, "CHECKSIGVERIFY"],
  [OP_CHECKMULTISIGVERIFY, "CHECKMULTISIGVERIFY"],
]);

/**
 * The opcodes that only rearrange the stack: how many items each needs,
 * and what it does with them (items are never changed in place).
 */
const STACK_OPERATIONS = new Map<number, [depth: number, (stack: Uint8Array[]) => void]>([
  [OP_2DROP, [2, (stack) => void (stack.length -= 2)]],
  [OP_2DUP, [2, (stack) => void stack.push(...stack.slice(-2))]],
  [OP_3DUP, [3, (stack) => void stack.push(...stack.slice(-3))]],
  [OP_2OVER, [4, (stack) => void stack.push(...stack.slice(-4, -2))]],
  [OP_2ROT, [6, (stack) => void stack.push(...stack.splice(-6, 2))]],
  [OP_2SWAP, [4, (stack) => void stack.push(...stack.splice(-4, 2))]],
  [OP_IFDUP, [1, (stack) => {
    if (castToBool(stack[stack.length - 1])) stack.push(stack[stack.length - 1]);
  }]],
  [OP_DEPTH, [0, (stack) => void stack.push(encodeScriptNum(stack.length))]],
  [OP_DROP, [1, (stack) => void stack.pop()]],
  [OP_DUP, [1, (stack) => void stack.push(stack[stack.length - 1])]],
  [OP_NIP, [2, (stack) => void stack.splice(-2, 1)]],
  [OP_OVER, [2, (stack) => void stack.push(stack[stack.length - 2])]],
  [OP_ROT, [3, (stack) => void stack.push(...stack.splice(-3, 1))]],
  [OP_SWAP, [2, (stack) => void stack.push(...stack.splice(-2, 1))]],
  [OP_TUCK, [2, (stack) => void stack.splice(-2, 0, stack[stack.length - 1])]],
  [OP_SIZE, [1, (stack) => void stack.push(encodeScriptNum(stack[stack.length - 1].length))]],
]);

/** `CScriptNum::getint`: clamped to a 32-bit int. */
function toInt(value: number): number {
  return Math.max(-0x80000000, Math.min(0x7fffffff, value));
}

function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}

/** `IsPushOnly`: every operation parses and pushes (OP_RESERVED counts as a push). */
function isPushOnly(script: Uint8Array): boolean {
  for (let pc = 0; pc < script.length;) {
    const op = readOp(script, pc);
    if (!op || op.opcode > OP_16) return false;
    pc = op.end;
  }
  return true;
}

/** `FindAndDelete`: removes `pattern` wherever it starts at an operation boundary. */
function findAndDelete(
  script: Uint8Array,
  pattern: Uint8Array,
): { script: Uint8Array; found: number } {
  const kept: Uint8Array[] = [];
  let found = 0;
  let pc = 0;
  let copied = 0;
  for (;;) {
    kept.push(script.subarray(copied, pc));
    while (
      script.length - pc >= pattern.length &&
      bytesEqual(script.subarray(pc, pc + pattern.length), pattern)
    ) {
      pc += pattern.length;
      found++;
    }
    copied = pc;
    const op = pc < script.length ? readOp(script, pc) : undefined;
    if (!op) break;
    pc = op.end;
  }
  if (found === 0) return { script, found };
  kept.push(script.subarray(copied));
  const out = new Uint8Array(kept.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of kept) {
    out.set(part, offset);
    offset += part.length;
  }
  return { script: out, found };
}

/**
 * libsecp256k1's `ecdsa_signature_parse_der_lax` (the hash-type byte already
 * removed): R and S of any BER-ish encoding Core has ever accepted, both
 * zero when either overflows the group order; undefined when unreadable.
 */
function parseDerLax(der: Uint8Array): { r: bigint; s: bigint } | undefined {
  const end = der.length;
  let pos = 0;
  if (pos === end || der[pos++] !== 0x30) return undefined;
  if (pos === end) return undefined;
  let lengthByte = der[pos++];
  if (lengthByte & 0x80) {
    lengthByte -= 0x80;
    if (lengthByte > end - pos) return undefined;
    pos += lengthByte;
  }
  const integer = (): { start: number; length: number } | undefined => {
    if (pos === end || der[pos++] !== 0x02) return undefined;
    if (pos === end) return undefined;
    let length = der[pos++];
    if (length & 0x80) {
      let width = length - 0x80;
      if (width > end - pos) return undefined;
      while (width > 0 && der[pos] === 0) {
        pos++;
        width--;
      }
      if (width >= 4) return undefined;
      length = 0;
      for (; width > 0; width--) length = length * 256 + der[pos++];
    }
    if (length > end - pos) return undefined;
    const start = pos;
    pos += length;
    return { start, length };
  };
  const r = integer();
  if (!r) return undefined;
  const s = integer();
  if (!s) return undefined;
  const value = ({ start, length }: { start: number; length: number }): bigint | undefined => {
    while (length > 0 && der[start] === 0) {
      start++;
      length--;
    }
    if (length > 32) return undefined;
    let n = 0n;
    for (let i = start; i < start + length; i++) n = (n << 8n) | BigInt(der[i]);
    return n < SECP256K1_ORDER ? n : undefined;
  };
  const rValue = value(r);
  const sValue = value(s);
  if (rValue === undefined || sValue === undefined) return { r: 0n, s: 0n };
  return { r: rValue, s: sValue };
}

/** `IsLowDERSignature` on a strictly encoded signature: S at most half the order. */
function hasLowS(sig: Uint8Array): boolean {
  const parsed = parseDerLax(sig.subarray(0, -1));
  return parsed !== undefined && parsed.s <= SECP256K1_ORDER >> 1n;
}

/** `CheckSignatureEncoding`: DER, low-S and hash-type rules under their flags. */
function checkSignatureEncoding(sig: Uint8Array, flags: number): void {
  if (sig.length === 0) return;
  if (flags & (F.DERSIG | F.LOW_S | F.STRICTENC) && !isValidSignatureEncoding(sig)) {
    fail("SIG_DER");
  }
  if (flags & F.LOW_S && !hasLowS(sig)) fail("SIG_HIGH_S");
  if (flags & F.STRICTENC && !hasDefinedHashType(sig)) fail("SIG_HASHTYPE");
}

/** `CheckPubKeyEncoding`: STRICTENC key formats; compressed keys only in segwit v0. */
function checkPubKeyEncoding(pubkey: Uint8Array, flags: number, sigVersion: SigVersion): void {
  const compressed = pubkey.length === 33 && (pubkey[0] === 0x02 || pubkey[0] === 0x03);
  const uncompressed = pubkey.length === 65 && pubkey[0] === 0x04;
  if (flags & F.STRICTENC && !compressed && !uncompressed) fail("PUBKEYTYPE");
  if (flags & F.WITNESS_PUBKEYTYPE && sigVersion === "witness_v0" && !compressed) {
    fail("WITNESS_PUBKEYTYPE");
  }
}

/**
 * A public key as noble parses it, or undefined when libsecp256k1 would not
 * parse it. Hybrid keys (0x06/0x07, valid in legacy scripts without
 * STRICTENC) become uncompressed keys once their parity byte checks out.
 */
function parsablePubKey(pubkey: Uint8Array): Uint8Array | undefined {
  const prefix = pubkey[0];
  if (pubkey.length === 33 && (prefix === 0x02 || prefix === 0x03)) return pubkey;
  if (pubkey.length !== 65) return undefined;
  if (prefix === 0x04) return pubkey;
  if ((prefix === 0x06 || prefix === 0x07) && (prefix & 1) === (pubkey[64] & 1)) {
    return Uint8Array.of(0x04, ...pubkey.subarray(1));
  }
  return undefined;
}

/** `GetSerializeSize` of a witness stack: its count and each item with its length. */
function witnessSize(witness: readonly Uint8Array[]): number {
  const compactSize = (n: number) => n < 0xfd ? 1 : n <= 0xffff ? 3 : 5;
  let size = compactSize(witness.length);
  for (const item of witness) size += compactSize(item.length) + item.length;
  return size;
}

/** What a taproot spend's signatures commit to besides the transaction (`ScriptExecutionData`). */
interface TaprootExecution {
  annex?: Uint8Array;
  /** The leaf being executed, for a script-path spend. */
  leafScript?: Uint8Array;
  leafVersion?: number;
  /** The opcode position of the last executed OP_CODESEPARATOR, or -1. */
  codeSeparator: number;
  /** What is left of the budget for signature checks (BIP 342). */
  weightLeft: number;
}

/** One script's execution: its input, flags, rules, and taproot data for a tapscript. */
interface ScriptRun {
  readonly index: number;
  readonly flags: number;
  readonly sigVersion: SigVersion;
  readonly execution?: TaprootExecution;
}

/** Core's `ConditionStack`: whether every enclosing IF branch executes. */
class ConditionStack {
  readonly #values: boolean[] = [];
  #falseCount = 0;

  get empty(): boolean {
    return this.#values.length === 0;
  }

  get allTrue(): boolean {
    return this.#falseCount === 0;
  }

  push(value: boolean): void {
    this.#values.push(value);
    if (!value) this.#falseCount++;
  }

  pop(): void {
    if (!this.#values.pop()) this.#falseCount--;
  }

  toggleTop(): void {
    const top = this.#values.length - 1;
    this.#falseCount += this.#values[top] ? 1 : -1;
    this.#values[top] = !this.#values[top];
  }
}

/**
 * Checks the input scripts of one transaction against the outputs it
 * spends. Build one per transaction; its signature digests share one parsed
 * copy of the transaction.
 */
export class TxScriptChecker {
  readonly #tx: Tx;
  readonly #spent: readonly SpentOutput[];
  #sighash?: SighashCache;
  #spentScripts?: Uint8Array[];
  #spentAmounts?: bigint[];

  /** `spent[i]` is the output input `i` spends. */
  constructor(tx: Tx, spent: readonly SpentOutput[]) {
    if (spent.length !== tx.inputs.length) {
      throw new Error(`${tx.inputs.length} inputs but ${spent.length} spent outputs`);
    }
    this.#tx = tx;
    this.#spent = spent;
  }

  /** The first failing input and its error, or null when every input verifies. */
  verifyAll(flags: number): { index: number; error: ScriptErrorCode } | null {
    for (let index = 0; index < this.#tx.inputs.length; index++) {
      const error = this.verifyInput(index, flags);
      if (error !== null) return { index, error };
    }
    return null;
  }

  /** Verifies input `index` under `flags` (`VerifyScript`); null when it is valid. */
  verifyInput(index: number, flags: number): ScriptErrorCode | null {
    try {
      this.#verify(index, flags);
      return null;
    } catch (error) {
      if (error instanceof ScriptFailure) return error.code;
      throw error;
    }
  }

  /** `VerifyScript`. */
  #verify(index: number, flags: number): void {
    const scriptSig = this.#tx.inputs[index].finalScriptSig;
    const witness = this.#tx.witnesses?.[index] ?? [];
    const scriptPubKey = this.#spent[index].script;
    if (flags & F.SIGPUSHONLY && !isPushOnly(scriptSig)) fail("SIG_PUSHONLY");
    // scriptSig and scriptPubKey run one after the other on one stack (CVE-2010-5141).
    let stack: Uint8Array[] = [];
    const base: ScriptRun = { index, flags, sigVersion: "base" };
    this.#evaluate(stack, scriptSig, base);
    const afterScriptSig = flags & F.P2SH ? stack.slice() : [];
    this.#evaluate(stack, scriptPubKey, base);
    if (stack.length === 0 || !castToBool(stack[stack.length - 1])) fail("EVAL_FALSE");
    let hadWitness = false;
    const program = flags & F.WITNESS ? witnessProgram(scriptPubKey) : undefined;
    if (program) {
      hadWitness = true;
      if (scriptSig.length !== 0) fail("WITNESS_MALLEATED");
      this.#witnessProgram(program.version, program.program, witness, index, flags, false);
      stack = stack.slice(0, 1); // Witness programs are exempt from CLEANSTACK.
    }
    if (flags & F.P2SH && isPayToScriptHash(scriptPubKey)) {
      if (!isPushOnly(scriptSig)) fail("SIG_PUSHONLY");
      stack = afterScriptSig;
      const redeemScript = stack.pop()!; // The scriptPubKey above could not succeed on nothing.
      this.#evaluate(stack, redeemScript, base);
      if (stack.length === 0 || !castToBool(stack[stack.length - 1])) fail("EVAL_FALSE");
      const wrapped = flags & F.WITNESS ? witnessProgram(redeemScript) : undefined;
      if (wrapped) {
        hadWitness = true;
        // Exactly one push of the redeem script, or the spend is malleable.
        if (!bytesEqual(scriptSig, pushScript(redeemScript))) fail("WITNESS_MALLEATED_P2SH");
        this.#witnessProgram(wrapped.version, wrapped.program, witness, index, flags, true);
        stack = stack.slice(0, 1);
      }
    }
    if (flags & F.CLEANSTACK && stack.length !== 1) fail("CLEANSTACK");
    if (flags & F.WITNESS && !hadWitness && witness.length > 0) fail("WITNESS_UNEXPECTED");
  }

  /** `VerifyWitnessProgram`, for a bare witness program or one wrapped in P2SH (`p2sh`). */
  #witnessProgram(
    version: number,
    program: Uint8Array,
    witness: Uint8Array[],
    index: number,
    flags: number,
    p2sh: boolean,
  ): void {
    if (version === 0) {
      const v0: ScriptRun = { index, flags, sigVersion: "witness_v0" };
      if (program.length === 32) {
        if (witness.length === 0) fail("WITNESS_PROGRAM_WITNESS_EMPTY");
        const script = witness[witness.length - 1];
        if (!bytesEqual(sha256(script), program)) fail("WITNESS_PROGRAM_MISMATCH");
        this.#executeWitnessScript(witness.slice(0, -1), script, v0);
      } else if (program.length === 20) {
        if (witness.length !== 2) fail("WITNESS_PROGRAM_MISMATCH");
        const script = Uint8Array.of(
          OP_DUP,
          OP_HASH160,
          20,
          ...program,
          OP_EQUALVERIFY,
          OP_CHECKSIG,
        );
        this.#executeWitnessScript(witness.slice(), script, v0);
      } else {
        fail("WITNESS_PROGRAM_WRONG_LENGTH");
      }
      return;
    }
    if (version === 1 && program.length === 32 && !p2sh) {
      if (flags & F.TAPROOT) this.#taproot(program, witness, index, flags);
      return;
    }
    const payToAnchor = version === 1 && program.length === 2 && program[0] === 0x4e &&
      program[1] === 0x73;
    if (!p2sh && payToAnchor) return;
    // Other versions and lengths stay spendable by anyone until a soft fork defines them.
    if (flags & F.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM) {
      fail("DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM");
    }
  }

  /** A taproot spend: the key path, or a script path whose leaf the output commits to. */
  #taproot(outputKey: Uint8Array, witness: Uint8Array[], index: number, flags: number): void {
    if (witness.length === 0) fail("WITNESS_PROGRAM_WITNESS_EMPTY");
    let stack = witness;
    const execution: TaprootExecution = { codeSeparator: -1, weightLeft: 0 };
    const last = witness[witness.length - 1];
    if (witness.length >= 2 && last.length > 0 && last[0] === ANNEX_TAG) {
      execution.annex = last;
      stack = witness.slice(0, -1);
    }
    if (stack.length === 1) {
      this.#checkSchnorr(stack[0], outputKey, index, "taproot", execution);
      return;
    }
    const control = stack[stack.length - 1];
    const script = stack[stack.length - 2];
    if (
      control.length < TAPROOT_CONTROL_BASE_SIZE || control.length > TAPROOT_CONTROL_MAX_SIZE ||
      (control.length - TAPROOT_CONTROL_BASE_SIZE) % TAPROOT_CONTROL_NODE_SIZE !== 0
    ) {
      fail("TAPROOT_WRONG_CONTROL_SIZE");
    }
    const leafVersion = control[0] & TAPROOT_LEAF_MASK;
    if (!commitsToLeaf(control, outputKey, leafHash(script, leafVersion))) {
      fail("WITNESS_PROGRAM_MISMATCH");
    }
    if (leafVersion === TAPROOT_LEAF_TAPSCRIPT) {
      execution.leafScript = script;
      execution.leafVersion = leafVersion;
      execution.weightLeft = witnessSize(witness) + VALIDATION_WEIGHT_OFFSET;
      const run: ScriptRun = { index, flags, sigVersion: "tapscript", execution };
      this.#executeWitnessScript(stack.slice(0, -2), script, run);
      return;
    }
    if (flags & F.DISCOURAGE_UPGRADABLE_TAPROOT_VERSION) {
      fail("DISCOURAGE_UPGRADABLE_TAPROOT_VERSION");
    }
  }

  /** `ExecuteWitnessScript`: the script runs on the witness items and must leave one true item. */
  #executeWitnessScript(stack: Uint8Array[], script: Uint8Array, run: ScriptRun): void {
    const { flags } = run;
    if (run.sigVersion === "tapscript") {
      // An OP_SUCCESSx anywhere decides before anything else, even element sizes.
      for (let pc = 0; pc < script.length;) {
        const op = readOp(script, pc);
        if (!op) fail("BAD_OPCODE");
        if (isOpSuccess(op.opcode)) {
          if (flags & F.DISCOURAGE_OP_SUCCESS) fail("DISCOURAGE_OP_SUCCESS");
          return;
        }
        pc = op.end;
      }
      if (stack.length > MAX_STACK_SIZE) fail("STACK_SIZE");
    }
    if (stack.some((item) => item.length > MAX_SCRIPT_ELEMENT_SIZE)) fail("PUSH_SIZE");
    this.#evaluate(stack, script, run);
    if (stack.length !== 1) fail("CLEANSTACK");
    if (!castToBool(stack[0])) fail("EVAL_FALSE");
  }

  /** `EvalScript`: runs `script` on `stack`, failing with Core's error. */
  #evaluate(stack: Uint8Array[], script: Uint8Array, run: ScriptRun): void {
    const { index, flags, sigVersion, execution } = run;
    const legacyLimits = sigVersion === "base" || sigVersion === "witness_v0";
    if (legacyLimits && script.length > MAX_SCRIPT_SIZE) fail("SCRIPT_SIZE");
    const minimal = (flags & F.MINIMALDATA) !== 0;
    const conditions = new ConditionStack();
    const alt: Uint8Array[] = [];
    let opCount = 0;
    let codeStart = 0;
    const top = (depth: number): Uint8Array => stack[stack.length + depth];
    const need = (count: number) => {
      if (stack.length < count) fail("INVALID_STACK_OPERATION");
    };
    const num = (depth: number) => scriptNum(top(depth), minimal);
    /** A test's outcome: pushed as true or false, or, for its VERIFY form, required. */
    const conclude = (success: boolean, verifyError?: ScriptErrorCode) => {
      if (verifyError === undefined) stack.push(success ? TRUE : FALSE);
      else if (!success) fail(verifyError);
    };
    const checkSig = (sig: Uint8Array, pubkey: Uint8Array): boolean =>
      sigVersion === "tapscript"
        ? this.#checkSigTapscript(sig, pubkey, index, flags, execution!)
        : this.#checkSigEcdsa(sig, pubkey, script.subarray(codeStart), index, flags, sigVersion);
    for (let pc = 0, position = 0; pc < script.length; position++) {
      const executing = conditions.allTrue;
      const op = readOp(script, pc);
      if (!op) fail("BAD_OPCODE");
      pc = op.end;
      const opcode = op.opcode;
      if (op.data && op.data.length > MAX_SCRIPT_ELEMENT_SIZE) fail("PUSH_SIZE");
      // OP_RESERVED and the pushes do not count towards the limit.
      if (legacyLimits && opcode > OP_16 && ++opCount > MAX_OPS_PER_SCRIPT) fail("OP_COUNT");
      if (DISABLED_OPCODES.has(opcode)) fail("DISABLED_OPCODE");
      if (opcode === OP_CODESEPARATOR && sigVersion === "base" && flags & F.CONST_SCRIPTCODE) {
        fail("OP_CODESEPARATOR"); // Even unexecuted.
      }
      if (executing && opcode <= OP_PUSHDATA4) {
        if (minimal && !isMinimalPush(op.data!, opcode)) fail("MINIMALDATA");
        stack.push(op.data!);
      } else if (executing || (opcode >= OP_IF && opcode <= OP_ENDIF)) {
        switch (opcode) {
          case OP_1NEGATE:
            stack.push(Uint8Array.of(0x81));
            break;
          case OP_NOP:
            break;
          case OP_CHECKLOCKTIMEVERIFY: {
            if (!(flags & F.CHECKLOCKTIMEVERIFY)) break; // Still OP_NOP2.
            need(1);
            // Five bytes: lock times reach 2^32 - 1.
            const lockTime = scriptNum(top(-1), minimal, 5);
            if (lockTime < 0) fail("NEGATIVE_LOCKTIME");
            if (!this.#checkLockTime(index, lockTime)) fail("UNSATISFIED_LOCKTIME");
            break;
          }
          case OP_CHECKSEQUENCEVERIFY: {
            if (!(flags & F.CHECKSEQUENCEVERIFY)) break; // Still OP_NOP3.
            need(1);
            const sequence = scriptNum(top(-1), minimal, 5);
            if (sequence < 0) fail("NEGATIVE_LOCKTIME");
            // With the disable flag it stays a NOP, for later soft forks.
            if ((sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG) !== 0) break;
            if (!this.#checkSequence(index, sequence)) fail("UNSATISFIED_LOCKTIME");
            break;
          }
          case OP_IF:
          case OP_NOTIF: {
            let value = false;
            if (executing) {
              if (stack.length < 1) fail("UNBALANCED_CONDITIONAL");
              const condition = top(-1);
              const notMinimal = condition.length > 1 ||
                (condition.length === 1 && condition[0] !== 1);
              if (sigVersion === "tapscript" && notMinimal) fail("TAPSCRIPT_MINIMALIF");
              if (sigVersion === "witness_v0" && flags & F.MINIMALIF && notMinimal) {
                fail("MINIMALIF");
              }
              value = castToBool(condition) !== (opcode === OP_NOTIF);
              stack.pop();
            }
            conditions.push(value);
            break;
          }
          case OP_ELSE:
            if (conditions.empty) fail("UNBALANCED_CONDITIONAL");
            conditions.toggleTop();
            break;
          case OP_ENDIF:
            if (conditions.empty) fail("UNBALANCED_CONDITIONAL");
            conditions.pop();
            break;
          case OP_VERIFY:
            need(1);
            if (!castToBool(top(-1))) fail("VERIFY");
            stack.pop();
            break;
          case OP_RETURN:
            fail("OP_RETURN");
            break;
          case OP_TOALTSTACK:
            need(1);
            alt.push(stack.pop()!);
            break;
          case OP_FROMALTSTACK:
            if (alt.length < 1) fail("INVALID_ALTSTACK_OPERATION");
            stack.push(alt.pop()!);
            break;
          case OP_PICK:
          case OP_ROLL: {
            need(2);
            const n = toInt(num(-1));
            stack.pop();
            if (n < 0 || n >= stack.length) fail("INVALID_STACK_OPERATION");
            const item = top(-n - 1);
            if (opcode === OP_ROLL) stack.splice(stack.length - n - 1, 1);
            stack.push(item);
            break;
          }
          case OP_EQUAL:
          case OP_EQUALVERIFY:
          case OP_CHECKSIG:
          case OP_CHECKSIGVERIFY: {
            need(2);
            const equality = opcode === OP_EQUAL || opcode === OP_EQUALVERIFY;
            const success = equality ? bytesEqual(top(-2), top(-1)) : checkSig(top(-2), top(-1));
            stack.length -= 2;
            conclude(success, VERIFY_ERRORS.get(opcode));
            break;
          }
          case OP_1ADD:
          case OP_1SUB:
          case OP_NEGATE:
          case OP_ABS:
          case OP_NOT:
          case OP_0NOTEQUAL: {
            need(1);
            const n = num(-1);
            stack.pop();
            stack.push(encodeScriptNum(unaryOp(opcode, n)));
            break;
          }
          case OP_ADD:
          case OP_SUB:
          case OP_BOOLAND:
          case OP_BOOLOR:
          case OP_NUMEQUAL:
          case OP_NUMEQUALVERIFY:
          case OP_NUMNOTEQUAL:
          case OP_LESSTHAN:
          case OP_GREATERTHAN:
          case OP_LESSTHANOREQUAL:
          case OP_GREATERTHANOREQUAL:
          case OP_MIN:
          case OP_MAX: {
            need(2);
            const result = binaryOp(opcode, num(-2), num(-1));
            stack.length -= 2;
            if (opcode === OP_NUMEQUALVERIFY) conclude(result !== 0, VERIFY_ERRORS.get(opcode));
            else stack.push(encodeScriptNum(result));
            break;
          }
          case OP_WITHIN: {
            need(3);
            const [x, min, max] = [num(-3), num(-2), num(-1)];
            stack.length -= 3;
            conclude(min <= x && x < max);
            break;
          }
          case OP_RIPEMD160:
          case OP_SHA1:
          case OP_SHA256:
          case OP_HASH160:
          case OP_HASH256: {
            need(1);
            const item = stack.pop()!;
            stack.push(
              opcode === OP_RIPEMD160
                ? ripemd160(item)
                : opcode === OP_SHA1
                ? sha1(item)
                : opcode === OP_SHA256
                ? sha256(item)
                : opcode === OP_HASH160
                ? hash160(item)
                : sha256(sha256(item)),
            );
            break;
          }
          case OP_CODESEPARATOR:
            // Signatures sign the script from here on (tapscript: commit to this position).
            codeStart = pc;
            if (execution) execution.codeSeparator = position;
            break;
          case OP_CHECKSIGADD: {
            if (legacyLimits) fail("BAD_OPCODE");
            need(3);
            const sig = top(-3);
            const n = num(-2);
            const success = checkSig(sig, top(-1));
            stack.length -= 3;
            stack.push(encodeScriptNum(n + (success ? 1 : 0)));
            break;
          }
          case OP_CHECKMULTISIG:
          case OP_CHECKMULTISIGVERIFY: {
            if (sigVersion === "tapscript") fail("TAPSCRIPT_CHECKMULTISIG");
            const success = this.#checkMultisig(
              stack,
              script.subarray(codeStart),
              index,
              flags,
              sigVersion,
              (keys) => {
                opCount += keys;
                if (opCount > MAX_OPS_PER_SCRIPT) fail("OP_COUNT");
              },
            );
            conclude(success, VERIFY_ERRORS.get(opcode));
            break;
          }
          default:
            if (STACK_OPERATIONS.has(opcode)) {
              const [depth, rearrange] = STACK_OPERATIONS.get(opcode)!;
              need(depth);
              rearrange(stack);
            } else if (opcode >= OP_1 && opcode <= OP_16) {
              stack.push(encodeScriptNum(opcode - (OP_1 - 1)));
            } else if (
              (opcode >= OP_NOP1 && opcode <= OP_NOP10)
            ) {
              // OP_NOP1 and OP_NOP4–10 (CLTV and CSV were handled above).
              if (flags & F.DISCOURAGE_UPGRADABLE_NOPS) fail("DISCOURAGE_UPGRADABLE_NOPS");
            } else {
              fail("BAD_OPCODE");
            }
        }
      }
      if (stack.length + alt.length > MAX_STACK_SIZE) fail("STACK_SIZE");
    }
    if (!conditions.empty) fail("UNBALANCED_CONDITIONAL");
  }

  /**
   * `OP_CHECKMULTISIG` on `stack`: `[dummy] [sig …] m [key …] n`, replaced
   * by nothing (the caller pushes the result). `countKeys` adds the keys to
   * the operation count.
   */
  #checkMultisig(
    stack: Uint8Array[],
    scriptCode: Uint8Array,
    index: number,
    flags: number,
    sigVersion: SigVersion,
    countKeys: (keys: number) => void,
  ): boolean {
    const minimal = (flags & F.MINIMALDATA) !== 0;
    const at = (depth: number) => stack[stack.length - depth];
    let i = 1;
    if (stack.length < i) fail("INVALID_STACK_OPERATION");
    let keysLeft = toInt(scriptNum(at(i), minimal));
    if (keysLeft < 0 || keysLeft > MAX_PUBKEYS_PER_MULTISIG) fail("PUBKEY_COUNT");
    countKeys(keysLeft);
    let keyAt = ++i;
    // Items from here down to the top are keys and counts; NULLFAIL spares them.
    let keysAndCounts = keysLeft + 2;
    i += keysLeft;
    if (stack.length < i) fail("INVALID_STACK_OPERATION");
    let sigsLeft = toInt(scriptNum(at(i), minimal));
    if (sigsLeft < 0 || sigsLeft > keysLeft) fail("SIG_COUNT");
    let sigAt = ++i;
    i += sigsLeft;
    if (stack.length < i) fail("INVALID_STACK_OPERATION");
    let code = scriptCode;
    if (sigVersion === "base") {
      // Legacy signatures cannot sign themselves: each is cut from the script code.
      for (let k = 0; k < sigsLeft; k++) {
        const deleted = findAndDelete(code, pushScript(at(sigAt + k)));
        if (deleted.found > 0 && flags & F.CONST_SCRIPTCODE) fail("SIG_FINDANDDELETE");
        code = deleted.script;
      }
    }
    let success = true;
    while (success && sigsLeft > 0) {
      const sig = at(sigAt);
      const pubkey = at(keyAt);
      // The order of checks is visible to CHECKMULTISIG NOT under STRICTENC.
      checkSignatureEncoding(sig, flags);
      checkPubKeyEncoding(pubkey, flags, sigVersion);
      if (this.#verifyEcdsa(sig, pubkey, code, index, sigVersion)) {
        sigAt++;
        sigsLeft--;
      }
      keyAt++;
      keysLeft--;
      // More signatures left than keys: too many have failed.
      if (sigsLeft > keysLeft) success = false;
    }
    while (i-- > 1) {
      if (!success && flags & F.NULLFAIL && keysAndCounts === 0 && at(1).length > 0) {
        fail("SIG_NULLFAIL");
      }
      if (keysAndCounts > 0) keysAndCounts--;
      stack.pop();
    }
    // The extra item CHECKMULTISIG consumes (a bug kept for consensus) must be empty under NULLDUMMY.
    if (stack.length < 1) fail("INVALID_STACK_OPERATION");
    if (flags & F.NULLDUMMY && at(1).length > 0) fail("SIG_NULLDUMMY");
    stack.pop();
    return success;
  }

  /** `EvalChecksigPreTapscript`: false for a failed check, a thrown error for a bad encoding. */
  #checkSigEcdsa(
    sig: Uint8Array,
    pubkey: Uint8Array,
    scriptCode: Uint8Array,
    index: number,
    flags: number,
    sigVersion: SigVersion,
  ): boolean {
    let code = scriptCode;
    if (sigVersion === "base") {
      const deleted = findAndDelete(scriptCode, pushScript(sig));
      if (deleted.found > 0 && flags & F.CONST_SCRIPTCODE) fail("SIG_FINDANDDELETE");
      code = deleted.script;
    }
    checkSignatureEncoding(sig, flags);
    checkPubKeyEncoding(pubkey, flags, sigVersion);
    const ok = this.#verifyEcdsa(sig, pubkey, code, index, sigVersion);
    if (!ok && flags & F.NULLFAIL && sig.length > 0) fail("SIG_NULLFAIL");
    return ok;
  }

  /**
   * `EvalChecksigTapscript`: an empty signature is a failed check; any other
   * must verify, and spends BIP 342's validation budget.
   */
  #checkSigTapscript(
    sig: Uint8Array,
    pubkey: Uint8Array,
    index: number,
    flags: number,
    execution: TaprootExecution,
  ): boolean {
    const success = sig.length > 0;
    if (success) {
      execution.weightLeft -= VALIDATION_WEIGHT_PER_SIGOP_PASSED;
      if (execution.weightLeft < 0) fail("TAPSCRIPT_VALIDATION_WEIGHT");
    }
    if (pubkey.length === 0) fail("TAPSCRIPT_EMPTY_PUBKEY");
    if (pubkey.length === 32) {
      if (success) this.#checkSchnorr(sig, pubkey, index, "tapscript", execution);
    } else if (flags & F.DISCOURAGE_UPGRADABLE_PUBKEYTYPE) {
      // Other key lengths are kept for future key versions (and pass meanwhile).
      fail("DISCOURAGE_UPGRADABLE_PUBKEYTYPE");
    }
    return success;
  }

  /** `CheckSchnorrSignature` of a key-path spend or a tapscript signature. */
  #checkSchnorr(
    sig: Uint8Array,
    pubkey: Uint8Array,
    index: number,
    sigVersion: "taproot" | "tapscript",
    execution: TaprootExecution,
  ): void {
    if (sig.length !== 64 && sig.length !== 65) fail("SCHNORR_SIG_SIZE");
    let hashType = 0;
    if (sig.length === 65) {
      hashType = sig[64];
      if (hashType === 0) fail("SCHNORR_SIG_HASHTYPE");
    }
    const definedType = hashType <= 0x03 || (hashType >= 0x81 && hashType <= 0x83);
    const singleWithoutOutput = (hashType & 0x03) === 0x03 && index >= this.#tx.outputs.length;
    if (!definedType || singleWithoutOutput) fail("SCHNORR_SIG_HASHTYPE");
    const digest = this.signatureHash(index, sigVersion, hashType, undefined, execution);
    let valid = false;
    try {
      valid = schnorr.verify(sig.subarray(0, 64), digest, pubkey);
    } catch {
      valid = false;
    }
    if (!valid) fail("SCHNORR_SIG");
  }

  /** `CheckECDSASignature`: parse as libsecp256k1 does, normalise S, digest and verify. */
  #verifyEcdsa(
    sig: Uint8Array,
    pubkey: Uint8Array,
    scriptCode: Uint8Array,
    index: number,
    sigVersion: SigVersion,
  ): boolean {
    const key = parsablePubKey(pubkey);
    if (!key || sig.length === 0) return false;
    const parsed = parseDerLax(sig.subarray(0, -1));
    if (!parsed || parsed.r === 0n || parsed.s === 0n) return false;
    const s = parsed.s > SECP256K1_ORDER >> 1n ? SECP256K1_ORDER - parsed.s : parsed.s;
    const digest = this.signatureHash(index, sigVersion, sig[sig.length - 1], scriptCode);
    try {
      return secp256k1.verify(
        new secp256k1.Signature(parsed.r, s).toBytes("compact"),
        digest,
        key,
        { prehash: false, format: "compact", lowS: false },
      );
    } catch {
      return false;
    }
  }

  /**
   * Whether `sig` (hash-type byte last) is `pubkey`'s ECDSA signature of
   * input `index` over `scriptCode` (`CheckECDSASignature`): how a signer
   * finds the signatures an input already holds.
   */
  checkEcdsaSignature(
    index: number,
    sig: Uint8Array,
    pubkey: Uint8Array,
    scriptCode: Uint8Array,
    version: SigVersion,
  ): boolean {
    try {
      return this.#verifyEcdsa(sig, pubkey, scriptCode, index, version);
    } catch (error) {
      if (error instanceof ScriptFailure) return false;
      throw error;
    }
  }

  /** `CheckLockTime`: the transaction's lock time is of the same kind and at least `lockTime`. */
  #checkLockTime(index: number, lockTime: number): boolean {
    const txLockTime = this.#tx.lockTime >>> 0;
    if ((txLockTime < LOCKTIME_THRESHOLD) !== (lockTime < LOCKTIME_THRESHOLD)) return false;
    if (lockTime > txLockTime) return false;
    // A final input would let the lock time be bypassed (IsFinalTx).
    return this.#tx.inputs[index].sequence >>> 0 !== SEQUENCE_FINAL;
  }

  /** `CheckSequence`: BIP 68's relative lock of the input is of the same kind and at least `sequence`. */
  #checkSequence(index: number, sequence: number): boolean {
    if (this.#tx.version >>> 0 < 2) return false;
    const txSequence = this.#tx.inputs[index].sequence >>> 0;
    if ((txSequence & SEQUENCE_LOCKTIME_DISABLE_FLAG) !== 0) return false;
    const mask = SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK;
    const txMasked = txSequence & mask;
    const masked = sequence & mask;
    const byTime = (value: number) => value >= SEQUENCE_LOCKTIME_TYPE_FLAG;
    if (byTime(txMasked) !== byTime(masked)) return false;
    return masked <= txMasked;
  }

  /**
   * The digest a signature of input `index` commits to (Core's
   * `SignatureHash`): legacy or BIP 143 over `scriptCode` (BIP 143 with the
   * spent amount), or BIP 341 with every spent output, for a key-path spend
   * or (with `execution`'s leaf) a tapscript. Signing uses it as checking
   * does. Throws a script failure `UNSUPPORTED` for a transaction scure
   * cannot take apart.
   */
  signatureHash(
    index: number,
    version: SigVersion,
    hashType: number,
    scriptCode: Uint8Array = new Uint8Array(),
    execution?: { annex?: Uint8Array; leafScript?: Uint8Array; codeSeparator?: number },
  ): Uint8Array {
    const tx = this.#transaction();
    if (version === "base") return tx.preimageLegacy(index, scriptCode, hashType);
    if (version === "witness_v0") {
      return tx.preimageWitnessV0(index, scriptCode, hashType, this.#spent[index].amount);
    }
    this.#spentScripts ??= this.#spent.map((output) => output.script);
    this.#spentAmounts ??= this.#spent.map((output) => output.amount);
    return tx.preimageWitnessV1(
      index,
      this.#spentScripts,
      hashType,
      this.#spentAmounts,
      execution?.codeSeparator ?? -1,
      version === "tapscript" ? execution?.leafScript : undefined,
      TAPROOT_LEAF_TAPSCRIPT,
      execution?.annex,
    );
  }

  /**
   * The transaction's sighash preimages, its transaction-wide hashes kept
   * for every input it checks.
   */
  #transaction(): SighashCache {
    try {
      this.#sighash ??= new SighashCache(Transaction.fromRaw(encodeTx(this.#tx), {
        allowUnknownOutputs: true,
        allowUnknownVersion: true,
        allowUnknownInputs: true,
        disableScriptCheck: true,
      }));
    } catch {
      // A transaction scure cannot take apart has no digest this node can check.
      fail("UNSUPPORTED");
    }
    return this.#sighash;
  }
}

/** OP_1ADD … OP_0NOTEQUAL. */
function unaryOp(opcode: number, n: number): number {
  switch (opcode) {
    case OP_1ADD:
      return n + 1;
    case OP_1SUB:
      return n - 1;
    case OP_NEGATE:
      return -n;
    case OP_ABS:
      return Math.abs(n);
    case OP_NOT:
      return n === 0 ? 1 : 0;
    default: // OP_0NOTEQUAL
      return n !== 0 ? 1 : 0;
  }
}

/** OP_ADD … OP_MAX (OP_NUMEQUALVERIFY answers as OP_NUMEQUAL). */
function binaryOp(opcode: number, a: number, b: number): number {
  switch (opcode) {
    case OP_ADD:
      return a + b;
    case OP_SUB:
      return a - b;
    case OP_BOOLAND:
      return a !== 0 && b !== 0 ? 1 : 0;
    case OP_BOOLOR:
      return a !== 0 || b !== 0 ? 1 : 0;
    case OP_NUMEQUAL:
    case OP_NUMEQUALVERIFY:
      return a === b ? 1 : 0;
    case OP_NUMNOTEQUAL:
      return a !== b ? 1 : 0;
    case OP_LESSTHAN:
      return a < b ? 1 : 0;
    case OP_GREATERTHAN:
      return a > b ? 1 : 0;
    case OP_LESSTHANOREQUAL:
      return a <= b ? 1 : 0;
    case OP_GREATERTHANOREQUAL:
      return a >= b ? 1 : 0;
    case OP_MIN:
      return Math.min(a, b);
    default: // OP_MAX
      return Math.max(a, b);
  }
}

/**
 * `VerifyTaprootCommitment`: the control block's path from `leafHash` leads
 * to a root that, tweaking the control block's internal key, gives
 * `outputKey` with the control block's parity.
 */
function commitsToLeaf(control: Uint8Array, outputKey: Uint8Array, leafHash: Uint8Array): boolean {
  let node = leafHash;
  for (let at = TAPROOT_CONTROL_BASE_SIZE; at < control.length; at += TAPROOT_CONTROL_NODE_SIZE) {
    const sibling = control.subarray(at, at + TAPROOT_CONTROL_NODE_SIZE);
    node = compareBytes(node, sibling) < 0
      ? schnorr.utils.taggedHash("TapBranch", node, sibling)
      : schnorr.utils.taggedHash("TapBranch", sibling, node);
  }
  try {
    const [tweaked, parity] = taprootTweakPubkey(
      control.subarray(1, TAPROOT_CONTROL_BASE_SIZE),
      node,
    );
    return bytesEqual(tweaked, outputKey) && parity === (control[0] & 1);
  } catch {
    return false; // No point with that internal key, or a tweak past the group order.
  }
}
