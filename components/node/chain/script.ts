/**
 * Script vocabulary shared by the interpreter, the policy checks and the RPC
 * methods: Bitcoin Core's verification flags and the flag sets blocks and
 * the mempool use, its script errors and their `ScriptErrorString` texts,
 * `GetOp` parsing, the standard templates, and the push and signature
 * encoding rules. The interpreter itself is `interpreter.ts`.
 *
 * @example
 * ```ts
 * import { isPayToScriptHash, parseScript, scriptErrorText } from "./script.ts";
 * const p2sh = Uint8Array.of(0xa9, 20, ...new Uint8Array(20), 0x87);
 * if (!isPayToScriptHash(p2sh) || parseScript(p2sh).ops.length !== 3) throw new Error("p2sh");
 * if (scriptErrorText("OP_COUNT") !== "Operation limit exceeded") throw new Error("text");
 * ```
 * @module
 */
import { operationEnd } from "../../bitcoin/sighash.ts";
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

/** What this node says of an input whose signature digest it cannot compute. */
export const UNSUPPORTED_SCRIPT_TEXT =
  "Unsupported transaction: this node cannot compute its signature digests";

const SCRIPT_ERROR_TEXT = {
  UNKNOWN_ERROR: "unknown error",
  EVAL_FALSE: "Script evaluated without error but finished with a false/empty top stack element",
  OP_RETURN: "OP_RETURN was encountered",
  SCRIPT_SIZE: "Script is too big",
  PUSH_SIZE: "Push value size limit exceeded",
  OP_COUNT: "Operation limit exceeded",
  STACK_SIZE: "Stack size limit exceeded",
  SIG_COUNT: "Signature count negative or greater than pubkey count",
  PUBKEY_COUNT: "Pubkey count negative or limit exceeded",
  VERIFY: "Script failed an OP_VERIFY operation",
  EQUALVERIFY: "Script failed an OP_EQUALVERIFY operation",
  CHECKMULTISIGVERIFY: "Script failed an OP_CHECKMULTISIGVERIFY operation",
  CHECKSIGVERIFY: "Script failed an OP_CHECKSIGVERIFY operation",
  NUMEQUALVERIFY: "Script failed an OP_NUMEQUALVERIFY operation",
  BAD_OPCODE: "Opcode missing or not understood",
  DISABLED_OPCODE: "Attempted to use a disabled opcode",
  INVALID_STACK_OPERATION: "Operation not valid with the current stack size",
  INVALID_ALTSTACK_OPERATION: "Operation not valid with the current altstack size",
  UNBALANCED_CONDITIONAL: "Invalid OP_IF construction",
  NEGATIVE_LOCKTIME: "Negative locktime",
  UNSATISFIED_LOCKTIME: "Locktime requirement not satisfied",
  SIG_HASHTYPE: "Signature hash type missing or not understood",
  SIG_DER: "Non-canonical DER signature",
  MINIMALDATA: "Data push larger than necessary",
  SIG_PUSHONLY: "Only push operators allowed in signatures",
  SIG_HIGH_S: "Non-canonical signature: S value is unnecessarily high",
  SIG_NULLDUMMY: "Dummy CHECKMULTISIG argument must be zero",
  PUBKEYTYPE: "Public key is neither compressed or uncompressed",
  CLEANSTACK: "Stack size must be exactly one after execution",
  MINIMALIF: "OP_IF/NOTIF argument must be minimal",
  SIG_NULLFAIL: "Signature must be zero for failed CHECK(MULTI)SIG operation",
  DISCOURAGE_UPGRADABLE_NOPS: "NOPx reserved for soft-fork upgrades",
  DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM: "Witness version reserved for soft-fork upgrades",
  DISCOURAGE_UPGRADABLE_TAPROOT_VERSION: "Taproot version reserved for soft-fork upgrades",
  DISCOURAGE_OP_SUCCESS: "OP_SUCCESSx reserved for soft-fork upgrades",
  DISCOURAGE_UPGRADABLE_PUBKEYTYPE: "Public key version reserved for soft-fork upgrades",
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
  TAPSCRIPT_VALIDATION_WEIGHT: "Too much signature validation relative to witness weight",
  TAPSCRIPT_CHECKMULTISIG: "OP_CHECKMULTISIG(VERIFY) is not available in tapscript",
  TAPSCRIPT_MINIMALIF: "OP_IF/NOTIF argument must be minimal in tapscript",
  TAPSCRIPT_EMPTY_PUBKEY: "Empty public key in tapscript",
  OP_CODESEPARATOR: "Using OP_CODESEPARATOR in non-witness script",
  SIG_FINDANDDELETE: "Signature is found in scriptCode",
  UNSUPPORTED: UNSUPPORTED_SCRIPT_TEXT,
} as const;

/**
 * Why a script failed: Core's `SCRIPT_ERR_*` names, plus `UNSUPPORTED` for a
 * transaction whose signature digests `@scure/btc-signer` cannot compute.
 */
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

/** Core's `MAX_SCRIPT_ELEMENT_SIZE`: the most a push may hold (and so a P2SH redeem script). */
export const MAX_SCRIPT_ELEMENT_SIZE = 520;

/** Core's `MAX_PUBKEYS_PER_MULTISIG`. */
export const MAX_PUBKEYS_PER_MULTISIG = 20;

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

/**
 * `GetOp`: the operation starting at `pc`, or undefined when its push runs past the end.
 *
 * @example
 * ```ts
 * import { readOp } from "./script.ts";
 * const op = readOp(Uint8Array.of(0x51, 0x4c, 0x01, 0xff), 1);
 * if (op?.opcode !== 0x4c || op.data?.[0] !== 0xff || op.end !== 4) throw new Error("pushdata1");
 * ```
 */
export function readOp(script: Uint8Array, pc: number): ScriptOp | undefined {
  const end = operationEnd(script, pc);
  if (end === undefined) return undefined;
  const opcode = script[pc];
  if (opcode > OP_PUSHDATA4) return { opcode, start: pc, end };
  const header = opcode < OP_PUSHDATA1
    ? 1
    : opcode === OP_PUSHDATA1
    ? 2
    : opcode === OP_PUSHDATA2
    ? 3
    : 5;
  return { opcode, data: script.subarray(pc + header, end), start: pc, end };
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

/**
 * Core's `IsOpSuccess`: BIP 342's OP_SUCCESSx, opcodes that make a
 * tapscript succeed wherever they appear.
 *
 * @example
 * ```ts
 * import { isOpSuccess } from "./script.ts";
 * if (!isOpSuccess(0x50) || isOpSuccess(0xba)) throw new Error("OP_SUCCESS80, not CHECKSIGADD");
 * ```
 */
export function isOpSuccess(opcode: number): boolean {
  return opcode === 80 || opcode === 98 || (opcode >= 126 && opcode <= 129) ||
    (opcode >= 131 && opcode <= 134) || (opcode >= 137 && opcode <= 138) ||
    (opcode >= 141 && opcode <= 142) || (opcode >= 149 && opcode <= 153) ||
    (opcode >= 187 && opcode <= 254);
}

/**
 * `CScriptNum::serialize`: the shortest little-endian sign-magnitude
 * encoding of `value` (exact below 2^53), as scripts push numbers.
 *
 * @example
 * ```ts
 * import { encodeScriptNum } from "./script.ts";
 * const bytes = (n: number) => Array.from(encodeScriptNum(n)).join(",");
 * if (bytes(0) !== "" || bytes(-1) !== "129" || bytes(128) !== "128,0" || bytes(-255) !== "255,128") {
 *   throw new Error("script numbers");
 * }
 * ```
 */
export function encodeScriptNum(value: number): Uint8Array {
  if (value === 0) return new Uint8Array();
  const bytes: number[] = [];
  for (let magnitude = Math.abs(value); magnitude > 0; magnitude = Math.floor(magnitude / 256)) {
    bytes.push(magnitude % 256);
  }
  const top = bytes.length - 1;
  if (bytes[top] & 0x80) bytes.push(value < 0 ? 0x80 : 0);
  else if (value < 0) bytes[top] |= 0x80;
  return Uint8Array.from(bytes);
}

/**
 * Core's `GetScriptForMultisig`: `k <key>… n OP_CHECKMULTISIG`, each count
 * as OP_1…OP_16 or, above 16, a pushed number.
 *
 * @example
 * ```ts
 * import { multisigScript } from "./script.ts";
 * const key = new Uint8Array(33).fill(2);
 * const script = multisigScript(1, [key]);
 * if (script.length !== 37 || script[0] !== 0x51 || script[35] !== 0x51) throw new Error("1-of-1");
 * if (multisigScript(17, Array(17).fill(key))[1] !== 17) throw new Error("pushed count");
 * ```
 */
export function multisigScript(required: number, keys: readonly Uint8Array[]): Uint8Array {
  const count = (n: number) => n >= 1 && n <= 16 ? [0x50 + n] : [...pushScript(encodeScriptNum(n))];
  return Uint8Array.from([
    ...count(required),
    ...keys.flatMap((key) => [...pushScript(key)]),
    ...count(keys.length),
    0xae, // OP_CHECKMULTISIG
  ]);
}

/** The script `CScript() << data` makes: the minimal push of `data`. */
export function pushScript(data: Uint8Array): Uint8Array {
  if (data.length === 0) return Uint8Array.of(OP_0);
  if (data.length < OP_PUSHDATA1) return Uint8Array.of(data.length, ...data);
  if (data.length <= 0xff) return Uint8Array.of(OP_PUSHDATA1, data.length, ...data);
  return Uint8Array.of(OP_PUSHDATA2, data.length & 0xff, data.length >> 8, ...data);
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

/** `IsDefinedHashtypeSignature`: hash type ALL, NONE or SINGLE, optionally ANYONECANPAY. */
export function hasDefinedHashType(sig: Uint8Array): boolean {
  const type = sig[sig.length - 1] & ~0x80;
  return type >= 1 && type <= 3;
}
