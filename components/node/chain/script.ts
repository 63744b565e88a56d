/**
 * Input script verification, as Bitcoin Core's `VerifyScript` judges the
 * spends this node supports: P2PKH, P2WPKH (bare or wrapped in P2SH) and
 * P2TR key-path spends, under every sighash type. Signature digests come from `@scure/btc-signer`'s
 * legacy, BIP 143 and BIP 341 preimage functions; ECDSA (with Core's strict
 * DER, low-S, hash-type, public-key-type and NULLFAIL rules, each under its
 * flag) and BIP 340 Schnorr verification from `@noble/curves`.
 *
 * Every other spend (other P2SH, P2WSH, tapscript, bare scripts, unknown witness
 * versions, scriptSigs with non-push opcodes) is refused with
 * {@linkcode UNSUPPORTED_SCRIPT_TEXT} — never accepted unchecked — except
 * where a rule Core checks first already rejects it (a hash mismatch, an
 * empty witness, a wrong program length…), which reports Core's error.
 *
 * Failures are {@linkcode ScriptErrorCode}s; {@linkcode scriptErrorText}
 * gives Core's `ScriptErrorString` text for reject reasons such as
 * `block-script-verify-flag-failed (<text>)`.
 *
 * @example
 * ```ts
 * import { BLOCK_SCRIPT_VERIFY_FLAGS, TxScriptChecker } from "./script.ts";
 * import { p2wpkh, Transaction } from "@scure/btc-signer";
 * import { secp256k1 } from "@noble/curves/secp256k1.js";
 * import { decodeTx } from "./tx.ts";
 * const key = new Uint8Array(32).fill(7);
 * const spent = { amount: 10_000n, script: p2wpkh(secp256k1.getPublicKey(key)).script };
 * const signer = new Transaction();
 * signer.addInput({ txid: new Uint8Array(32).fill(1), index: 0, witnessUtxo: spent });
 * signer.addOutput({ script: spent.script, amount: 9_000n });
 * signer.sign(key);
 * signer.finalize();
 * const checker = new TxScriptChecker(decodeTx(signer.toBytes(true, true)), [spent]);
 * if (checker.verifyInput(0, BLOCK_SCRIPT_VERIFY_FLAGS) !== null) throw new Error("valid spend");
 * ```
 * @module
 */
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { ripemd160 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { Transaction } from "@scure/btc-signer";
import { bytesEqual } from "./hash.ts";
import { encodeTx, type Tx } from "./tx.ts";
import { SighashCache } from "../../bitcoin/sighash.ts";

/** Script verification flags, with Bitcoin Core's bit values. */
export const ScriptVerify = Object.freeze({
  P2SH: 1 << 0,
  STRICTENC: 1 << 1,
  DERSIG: 1 << 2,
  LOW_S: 1 << 3,
  NULLDUMMY: 1 << 4,
  SIGPUSHONLY: 1 << 5,
  MINIMALDATA: 1 << 6,
  DISCOURAGE_UPGRADABLE_NOPS: 1 << 7,
  CLEANSTACK: 1 << 8,
  CHECKLOCKTIMEVERIFY: 1 << 9,
  CHECKSEQUENCEVERIFY: 1 << 10,
  WITNESS: 1 << 11,
  DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM: 1 << 12,
  MINIMALIF: 1 << 13,
  NULLFAIL: 1 << 14,
  WITNESS_PUBKEYTYPE: 1 << 15,
  CONST_SCRIPTCODE: 1 << 16,
  TAPROOT: 1 << 17,
  DISCOURAGE_UPGRADABLE_TAPROOT_VERSION: 1 << 18,
  DISCOURAGE_OP_SUCCESS: 1 << 19,
  DISCOURAGE_UPGRADABLE_PUBKEYTYPE: 1 << 20,
});

const F = ScriptVerify;

/**
 * The consensus flags every regtest block is checked with (Core's
 * `MANDATORY_SCRIPT_VERIFY_FLAGS`, equal to `GetBlockScriptFlags` on regtest).
 */
export const BLOCK_SCRIPT_VERIFY_FLAGS = F.P2SH | F.DERSIG | F.NULLDUMMY |
  F.CHECKLOCKTIMEVERIFY | F.CHECKSEQUENCEVERIFY | F.WITNESS | F.TAPROOT;

/** The flags the mempool checks with (`STANDARD_SCRIPT_VERIFY_FLAGS` of v30). */
export const STANDARD_SCRIPT_VERIFY_FLAGS = BLOCK_SCRIPT_VERIFY_FLAGS | F.STRICTENC |
  F.MINIMALDATA | F.DISCOURAGE_UPGRADABLE_NOPS | F.CLEANSTACK | F.MINIMALIF | F.NULLFAIL |
  F.LOW_S | F.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM | F.WITNESS_PUBKEYTYPE |
  F.CONST_SCRIPTCODE | F.DISCOURAGE_UPGRADABLE_TAPROOT_VERSION | F.DISCOURAGE_OP_SUCCESS |
  F.DISCOURAGE_UPGRADABLE_PUBKEYTYPE;

/** Policy-only flags: a failure with any of them set is a `mempool-` failure in Core. */
export const STANDARD_NOT_MANDATORY_VERIFY_FLAGS = STANDARD_SCRIPT_VERIFY_FLAGS &
  ~BLOCK_SCRIPT_VERIFY_FLAGS;

/** What this node says of spends it does not validate. */
export const UNSUPPORTED_SCRIPT_TEXT =
  "Unsupported script: this node validates only P2PKH, P2WPKH (bare or in P2SH) and P2TR key-path spends";

const SCRIPT_ERROR_TEXT = {
  EVAL_FALSE: "Script evaluated without error but finished with a false/empty top stack element",
  EQUALVERIFY: "Script failed an OP_EQUALVERIFY operation",
  SCRIPT_SIZE: "Script is too big",
  PUSH_SIZE: "Push value size limit exceeded",
  STACK_SIZE: "Stack size limit exceeded",
  BAD_OPCODE: "Opcode missing or not understood",
  INVALID_STACK_OPERATION: "Operation not valid with the current stack size",
  SIG_HASHTYPE: "Signature hash type missing or not understood",
  SIG_DER: "Non-canonical DER signature",
  MINIMALDATA: "Data push larger than necessary",
  SIG_PUSHONLY: "Only push operators allowed in signatures",
  SIG_HIGH_S: "Non-canonical signature: S value is unnecessarily high",
  SIG_NULLFAIL: "Signature must be zero for failed CHECK(MULTI)SIG operation",
  DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM: "Witness version reserved for soft-fork upgrades",
  PUBKEYTYPE: "Public key is neither compressed or uncompressed",
  CLEANSTACK: "Stack size must be exactly one after execution",
  WITNESS_PROGRAM_WRONG_LENGTH: "Witness program has incorrect length",
  WITNESS_PROGRAM_WITNESS_EMPTY: "Witness program was passed an empty witness",
  WITNESS_PROGRAM_MISMATCH: "Witness program hash mismatch",
  WITNESS_MALLEATED: "Witness requires empty scriptSig",
  WITNESS_MALLEATED_P2SH: "Witness requires only-redeemscript scriptSig",
  WITNESS_UNEXPECTED: "Witness provided for non-witness script",
  WITNESS_PUBKEYTYPE: "Using non-compressed keys in segwit",
  SCHNORR_SIG_SIZE: "Invalid Schnorr signature size",
  SCHNORR_SIG_HASHTYPE: "Invalid Schnorr signature hash type",
  SCHNORR_SIG: "Invalid Schnorr signature",
  TAPROOT_WRONG_CONTROL_SIZE: "Invalid Taproot control block size",
  SIG_FINDANDDELETE: "Signature is found in scriptCode",
  UNSUPPORTED: UNSUPPORTED_SCRIPT_TEXT,
} as const;

/** Why a script failed: Core's `SCRIPT_ERR_*` names, plus `UNSUPPORTED` (see the module doc). */
export type ScriptErrorCode = keyof typeof SCRIPT_ERROR_TEXT;

/**
 * Bitcoin Core's `ScriptErrorString` for a failure.
 *
 * @example
 * ```ts
 * import { scriptErrorText } from "./script.ts";
 * if (scriptErrorText("SIG_DER") !== "Non-canonical DER signature") throw new Error("text");
 * ```
 */
export function scriptErrorText(code: ScriptErrorCode): string {
  return SCRIPT_ERROR_TEXT[code];
}

/** The output an input spends: what its scripts are checked against. */
export interface SpentOutput {
  readonly amount: bigint;
  readonly script: Uint8Array;
}

const OP_0 = 0x00;
const OP_PUSHDATA1 = 0x4c;
const OP_PUSHDATA2 = 0x4d;
const OP_PUSHDATA4 = 0x4e;
const OP_1NEGATE = 0x4f;
const OP_1 = 0x51;
const OP_16 = 0x60;
const OP_DUP = 0x76;
const OP_EQUAL = 0x87;
const OP_EQUALVERIFY = 0x88;
const OP_HASH160 = 0xa9;
const OP_CHECKSIG = 0xac;

const MAX_SCRIPT_SIZE = 10_000;
const MAX_SCRIPT_ELEMENT_SIZE = 520;
const MAX_STACK_SIZE = 1000;
const ANNEX_TAG = 0x50;
const TAPROOT_CONTROL_BASE_SIZE = 33;
const TAPROOT_CONTROL_NODE_SIZE = 32;
const TAPROOT_CONTROL_MAX_SIZE = TAPROOT_CONTROL_BASE_SIZE + 128 * TAPROOT_CONTROL_NODE_SIZE;
const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** One parsed script operation: its opcode, pushed data, and byte range. */
export interface ScriptOp {
  readonly opcode: number;
  /** The pushed bytes, for push opcodes (0x00–0x4e). */
  readonly data?: Uint8Array;
  readonly start: number;
  readonly end: number;
}

/**
 * Splits a script into operations as `CScript::GetOp` reads them. A push that
 * runs past the end stops the walk and sets `truncated` (Core's `GetOp` failing).
 *
 * @example
 * ```ts
 * import { parseScript } from "./script.ts";
 * const { ops, truncated } = parseScript(Uint8Array.of(0x02, 0xaa, 0xbb, 0xac, 0x4c));
 * if (ops.length !== 2 || !truncated || ops[0].data?.length !== 2) throw new Error("parse");
 * ```
 */
export function parseScript(script: Uint8Array): { ops: ScriptOp[]; truncated: boolean } {
  const ops: ScriptOp[] = [];
  let pc = 0;
  while (pc < script.length) {
    const op = readOp(script, pc);
    if (!op) return { ops, truncated: true };
    ops.push(op);
    pc = op.end;
  }
  return { ops, truncated: false };
}

/** `GetOp`: the operation starting at `pc`, or undefined when its push runs past the end. */
function readOp(script: Uint8Array, pc: number): ScriptOp | undefined {
  const start = pc;
  const opcode = script[pc++];
  if (opcode > OP_PUSHDATA4) return { opcode, start, end: pc };
  let size = opcode;
  const width = opcode === OP_PUSHDATA1
    ? 1
    : opcode === OP_PUSHDATA2
    ? 2
    : opcode === OP_PUSHDATA4
    ? 4
    : 0;
  if (width > 0) {
    if (script.length - pc < width) return undefined;
    size = 0;
    for (let i = width - 1; i >= 0; i--) size = size * 256 + script[pc + i];
    pc += width;
  }
  if (script.length - pc < size) return undefined;
  return { opcode, data: script.subarray(pc, pc + size), start, end: pc + size };
}

/** Whether a script is `OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG`. */
export function isPayToPubKeyHash(script: Uint8Array): boolean {
  return script.length === 25 && script[0] === OP_DUP && script[1] === OP_HASH160 &&
    script[2] === 20 && script[23] === OP_EQUALVERIFY && script[24] === OP_CHECKSIG;
}

/** Whether a script is `OP_HASH160 <20> OP_EQUAL` (`IsPayToScriptHash`). */
export function isPayToScriptHash(script: Uint8Array): boolean {
  return script.length === 23 && script[0] === OP_HASH160 && script[1] === 20 &&
    script[22] === OP_EQUAL;
}

/** A witness program: version 0–16 and 2–40 program bytes (`IsWitnessProgram`), or undefined. */
export function witnessProgram(
  script: Uint8Array,
): { version: number; program: Uint8Array } | undefined {
  if (script.length < 4 || script.length > 42) return undefined;
  if (script[0] !== OP_0 && (script[0] < OP_1 || script[0] > OP_16)) return undefined;
  if (script[1] + 2 !== script.length) return undefined;
  return {
    version: script[0] === OP_0 ? 0 : script[0] - (OP_1 - 1),
    program: script.subarray(2),
  };
}

/** `CastToBool`: any non-zero byte, except a lone sign bit at the end (negative zero). */
function castToBool(value: Uint8Array): boolean {
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== 0) return !(i === value.length - 1 && value[i] === 0x80);
  }
  return false;
}

function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}

/** `CheckMinimalPush`: whether `opcode` is the shortest way to push `data`. */
export function isMinimalPush(data: Uint8Array, opcode: number): boolean {
  if (data.length === 0) return opcode === OP_0;
  if (data.length === 1 && data[0] >= 1 && data[0] <= 16) return opcode === OP_1 + data[0] - 1;
  if (data.length === 1 && data[0] === 0x81) return opcode === OP_1NEGATE;
  if (data.length <= 75) return opcode === data.length;
  if (data.length <= 255) return opcode === OP_PUSHDATA1;
  if (data.length <= 65535) return opcode === OP_PUSHDATA2;
  return true;
}

/** The script `CScript() << data` makes: the minimal push of `data`. */
export function pushScript(data: Uint8Array): Uint8Array {
  if (data.length === 0) return Uint8Array.of(OP_0);
  if (data.length < OP_PUSHDATA1) return Uint8Array.of(data.length, ...data);
  if (data.length <= 0xff) return Uint8Array.of(OP_PUSHDATA1, data.length, ...data);
  return Uint8Array.of(OP_PUSHDATA2, data.length & 0xff, data.length >> 8, ...data);
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

/** BIP 66 `IsValidSignatureEncoding` (the hash-type byte included). */
export function isValidSignatureEncoding(sig: Uint8Array): boolean {
  if (sig.length < 9 || sig.length > 73) return false;
  if (sig[0] !== 0x30 || sig[1] !== sig.length - 3) return false;
  const lenR = sig[3];
  if (5 + lenR >= sig.length) return false;
  const lenS = sig[5 + lenR];
  if (lenR + lenS + 7 !== sig.length) return false;
  if (sig[2] !== 0x02 || lenR === 0 || sig[4] & 0x80) return false;
  if (lenR > 1 && sig[4] === 0x00 && !(sig[5] & 0x80)) return false;
  if (sig[lenR + 4] !== 0x02 || lenS === 0 || sig[lenR + 6] & 0x80) return false;
  if (lenS > 1 && sig[lenR + 6] === 0x00 && !(sig[lenR + 7] & 0x80)) return false;
  return true;
}

/** Whether a strictly encoded signature's S is at most half the group order (`CheckLowS`). */
function hasLowS(sig: Uint8Array): boolean {
  const lenR = sig[3];
  const lenS = sig[5 + lenR];
  let s = 0n;
  for (const byte of sig.subarray(6 + lenR, 6 + lenR + lenS)) s = (s << 8n) | BigInt(byte);
  // Core's lax parser zeroes an S that overflows the order, which then counts as low.
  return s >= SECP256K1_ORDER || s <= SECP256K1_ORDER >> 1n;
}

/** `IsDefinedHashtypeSignature`: hash type ALL, NONE or SINGLE, optionally ANYONECANPAY. */
export function hasDefinedHashType(sig: Uint8Array): boolean {
  const type = sig[sig.length - 1] & ~0x80;
  return type >= 1 && type <= 3;
}

/** `CheckSignatureEncoding`: DER, low-S and hash-type rules under their flags. */
function checkSignatureEncoding(sig: Uint8Array, flags: number): ScriptErrorCode | null {
  if (sig.length === 0) return null;
  if (flags & (F.DERSIG | F.LOW_S | F.STRICTENC) && !isValidSignatureEncoding(sig)) {
    return "SIG_DER";
  }
  if (flags & F.LOW_S && !hasLowS(sig)) return "SIG_HIGH_S";
  if (flags & F.STRICTENC && !hasDefinedHashType(sig)) return "SIG_HASHTYPE";
  return null;
}

/** `CheckPubKeyEncoding`: STRICTENC key formats; compressed keys only in segwit v0. */
function checkPubKeyEncoding(
  pubkey: Uint8Array,
  flags: number,
  witnessV0: boolean,
): ScriptErrorCode | null {
  const compressed = pubkey.length === 33 && (pubkey[0] === 0x02 || pubkey[0] === 0x03);
  const uncompressed = pubkey.length === 65 && pubkey[0] === 0x04;
  if (flags & F.STRICTENC && !compressed && !uncompressed) return "PUBKEYTYPE";
  if (flags & F.WITNESS_PUBKEYTYPE && witnessV0 && !compressed) return "WITNESS_PUBKEYTYPE";
  return null;
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

/** Which signature digest an ECDSA check uses. */
export type SigVersion = "base" | "witness_v0";

/** Thrown inside evaluation to stop it with a script error. */
class ScriptFailure {
  constructor(readonly code: ScriptErrorCode) {}
}

function fail(code: ScriptErrorCode): never {
  throw new ScriptFailure(code);
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

  #verify(index: number, flags: number): void {
    const scriptSig = this.#tx.inputs[index].finalScriptSig;
    const witness = this.#tx.witnesses?.[index] ?? [];
    const scriptPubKey = this.#spent[index].script;
    const stack = evaluatePushes(scriptSig, flags);
    const program = flags & F.WITNESS ? witnessProgram(scriptPubKey) : undefined;
    if (isPayToPubKeyHash(scriptPubKey)) {
      this.#payToPubKeyHash(stack, scriptPubKey.subarray(3, 23), index, flags, "base");
      if (stack.length === 0 || !castToBool(stack[stack.length - 1])) fail("EVAL_FALSE");
      if (flags & F.CLEANSTACK && stack.length !== 1) fail("CLEANSTACK");
    } else if (program) {
      // The scriptPubKey pushes its version and program; the program must read as true.
      if (stack.length + 2 > MAX_STACK_SIZE) fail("STACK_SIZE");
      if (!castToBool(program.program)) fail("EVAL_FALSE");
      if (scriptSig.length !== 0) fail("WITNESS_MALLEATED");
      this.#witnessProgram(program.version, program.program, witness, index, flags);
      return;
    } else if (flags & F.P2SH && isPayToScriptHash(scriptPubKey)) {
      if (stack.length === 0) fail("INVALID_STACK_OPERATION");
      if (stack.length + 1 > MAX_STACK_SIZE) fail("STACK_SIZE");
      const redeemScript = stack[stack.length - 1];
      if (!bytesEqual(hash160(redeemScript), scriptPubKey.subarray(2, 22))) fail("EVAL_FALSE");
      const wrapped = flags & F.WITNESS ? witnessProgram(redeemScript) : undefined;
      if (wrapped) {
        // The redeem script pushes its version and program; the program must read as true.
        if (!castToBool(wrapped.program)) fail("EVAL_FALSE");
        // Exactly one push of the redeem script, or the spend is malleable.
        if (!bytesEqual(scriptSig, pushScript(redeemScript))) fail("WITNESS_MALLEATED_P2SH");
        this.#witnessProgram(wrapped.version, wrapped.program, witness, index, flags, true);
        return;
      }
      fail("UNSUPPORTED");
    } else {
      fail("UNSUPPORTED");
    }
    if (flags & F.WITNESS && witness.length > 0) fail("WITNESS_UNEXPECTED");
  }

  /** `VerifyWitnessProgram`, for a bare witness program or one wrapped in P2SH (`p2sh`). */
  #witnessProgram(
    version: number,
    program: Uint8Array,
    witness: Uint8Array[],
    index: number,
    flags: number,
    p2sh = false,
  ): void {
    if (version === 0 && program.length === 32) {
      if (witness.length === 0) fail("WITNESS_PROGRAM_WITNESS_EMPTY");
      if (!bytesEqual(sha256(witness[witness.length - 1]), program)) {
        fail("WITNESS_PROGRAM_MISMATCH");
      }
      fail("UNSUPPORTED");
    }
    if (version === 0 && program.length === 20) {
      if (witness.length !== 2) fail("WITNESS_PROGRAM_MISMATCH");
      if (witness.some((item) => item.length > MAX_SCRIPT_ELEMENT_SIZE)) fail("PUSH_SIZE");
      const stack = witness.slice();
      this.#payToPubKeyHash(stack, program, index, flags, "witness_v0");
      if (stack.length !== 1) fail("CLEANSTACK");
      if (!castToBool(stack[0])) fail("EVAL_FALSE");
      return;
    }
    if (version === 0) fail("WITNESS_PROGRAM_WRONG_LENGTH");
    // Taproot only bare: a wrapped v1 program is a future version's (BIP 341).
    if (version === 1 && program.length === 32 && flags & F.TAPROOT && !p2sh) {
      this.#taproot(program, witness, index);
      return;
    }
    if (flags & F.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM) {
      fail("DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM");
    }
    fail("UNSUPPORTED");
  }

  /** A taproot spend: the key path is verified; a script path is refused after its shape checks. */
  #taproot(outputKey: Uint8Array, witness: Uint8Array[], index: number): void {
    if (witness.length === 0) fail("WITNESS_PROGRAM_WITNESS_EMPTY");
    let stack = witness;
    let annex: Uint8Array | undefined;
    const last = witness[witness.length - 1];
    if (witness.length >= 2 && last.length > 0 && last[0] === ANNEX_TAG) {
      annex = last;
      stack = witness.slice(0, -1);
    }
    if (stack.length === 1) {
      this.#checkSchnorr(stack[0], outputKey, index, annex);
      return;
    }
    const control = stack[stack.length - 1];
    if (
      control.length < TAPROOT_CONTROL_BASE_SIZE || control.length > TAPROOT_CONTROL_MAX_SIZE ||
      (control.length - TAPROOT_CONTROL_BASE_SIZE) % TAPROOT_CONTROL_NODE_SIZE !== 0
    ) {
      fail("TAPROOT_WRONG_CONTROL_SIZE");
    }
    fail("UNSUPPORTED");
  }

  /** `CheckSchnorrSignature` for a key-path spend. */
  #checkSchnorr(sig: Uint8Array, outputKey: Uint8Array, index: number, annex?: Uint8Array): void {
    if (sig.length !== 64 && sig.length !== 65) fail("SCHNORR_SIG_SIZE");
    let hashType = 0;
    if (sig.length === 65) {
      hashType = sig[64];
      if (hashType === 0) fail("SCHNORR_SIG_HASHTYPE");
    }
    const definedType = hashType <= 0x03 || (hashType >= 0x81 && hashType <= 0x83);
    const singleWithoutOutput = (hashType & 0x03) === 0x03 && index >= this.#tx.outputs.length;
    if (!definedType || singleWithoutOutput) fail("SCHNORR_SIG_HASHTYPE");
    const digest = this.signatureHash(index, "taproot", hashType, undefined, annex);
    let valid = false;
    try {
      valid = schnorr.verify(sig.subarray(0, 64), digest, outputKey);
    } catch {
      valid = false;
    }
    if (!valid) fail("SCHNORR_SIG");
  }

  /**
   * Runs `OP_DUP OP_HASH160 <hash> OP_EQUALVERIFY OP_CHECKSIG` on `stack`,
   * with Core's stack checks and errors.
   */
  #payToPubKeyHash(
    stack: Uint8Array[],
    pubKeyHash: Uint8Array,
    index: number,
    flags: number,
    sigVersion: SigVersion,
  ): void {
    const push = (item: Uint8Array) => {
      stack.push(item);
      if (stack.length > MAX_STACK_SIZE) fail("STACK_SIZE");
    };
    if (stack.length < 1) fail("INVALID_STACK_OPERATION");
    push(stack[stack.length - 1]); // OP_DUP
    push(hash160(stack.pop()!)); // OP_HASH160
    push(pubKeyHash);
    if (!bytesEqual(stack.pop()!, stack.pop()!)) fail("EQUALVERIFY");
    if (stack.length < 2) fail("INVALID_STACK_OPERATION");
    const pubkey = stack.pop()!;
    const sig = stack.pop()!;
    const scriptCode = Uint8Array.of(
      OP_DUP,
      OP_HASH160,
      20,
      ...pubKeyHash,
      OP_EQUALVERIFY,
      OP_CHECKSIG,
    );
    const ok = this.#checkEcdsa(sig, pubkey, scriptCode, index, flags, sigVersion);
    push(ok ? Uint8Array.of(1) : new Uint8Array());
  }

  /** `OP_CHECKSIG` before tapscript (`EvalChecksigPreTapscript`); false or a thrown error. */
  #checkEcdsa(
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
    const encodingError = checkSignatureEncoding(sig, flags) ??
      checkPubKeyEncoding(pubkey, flags, sigVersion === "witness_v0");
    if (encodingError) fail(encodingError);
    const ok = this.#verifyEcdsa(sig, pubkey, code, index, sigVersion);
    if (!ok && flags & F.NULLFAIL && sig.length > 0) fail("SIG_NULLFAIL");
    return ok;
  }

  /** `CheckECDSASignature`: digest the transaction and verify. */
  #verifyEcdsa(
    sig: Uint8Array,
    pubkey: Uint8Array,
    scriptCode: Uint8Array,
    index: number,
    sigVersion: SigVersion,
  ): boolean {
    const key = parsablePubKey(pubkey);
    if (!key || sig.length === 0) return false;
    // Pre-BIP 66 (lax) DER is only reachable without DERSIG, which no regtest block lacks.
    if (!isValidSignatureEncoding(sig)) fail("UNSUPPORTED");
    const digest = this.signatureHash(index, sigVersion, sig[sig.length - 1], scriptCode);
    try {
      return secp256k1.verify(sig.subarray(0, -1), digest, key, {
        prehash: false,
        format: "der",
        lowS: false,
      });
    } catch {
      return false;
    }
  }

  /**
   * The digest a signature of input `index` commits to (Core's
   * `SignatureHash`): legacy or BIP 143 over `scriptCode` (BIP 143 with the
   * spent amount), or BIP 341 for a taproot key-path spend (with every
   * spent output). Signing uses it as checking does. Throws a script
   * failure `UNSUPPORTED` for a transaction scure cannot take apart.
   */
  signatureHash(
    index: number,
    version: SigVersion | "taproot",
    hashType: number,
    scriptCode: Uint8Array = new Uint8Array(),
    annex?: Uint8Array,
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
      -1,
      undefined,
      0xc0,
      annex,
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

/**
 * Executes a scriptSig made of pushes (`EvalScript` on a push-only script),
 * returning the stack it leaves. Non-push opcodes are refused as unsupported.
 */
function evaluatePushes(scriptSig: Uint8Array, flags: number): Uint8Array[] {
  if (scriptSig.length > MAX_SCRIPT_SIZE) fail("SCRIPT_SIZE");
  const { ops, truncated } = parseScript(scriptSig);
  const stack: Uint8Array[] = [];
  for (const op of ops) {
    if (op.data) {
      if (op.data.length > MAX_SCRIPT_ELEMENT_SIZE) fail("PUSH_SIZE");
      if (flags & F.MINIMALDATA && !isMinimalPush(op.data, op.opcode)) fail("MINIMALDATA");
      stack.push(op.data);
    } else if (op.opcode === OP_1NEGATE) {
      stack.push(Uint8Array.of(0x81));
    } else if (op.opcode >= OP_1 && op.opcode <= OP_16) {
      stack.push(Uint8Array.of(op.opcode - (OP_1 - 1)));
    } else if (op.opcode === 0x50) {
      fail("BAD_OPCODE"); // OP_RESERVED counts as a push but fails when executed.
    } else {
      fail("UNSUPPORTED");
    }
    if (stack.length > MAX_STACK_SIZE) fail("STACK_SIZE");
  }
  if (truncated) fail("BAD_OPCODE");
  return stack;
}
