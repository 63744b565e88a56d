/**
 * Output script classification as Bitcoin Core's `Solver` does it
 * (`script/solver.cpp`): the standard type of a scriptPubKey and the data it
 * carries (a key, a key hash, a script hash, a witness program, the keys of
 * a bare multisig). The RPC layer names types with these strings
 * (`GetTxnOutputType`), the wallet will match its keys against them.
 *
 * @example
 * ```ts
 * import { solver } from "./solver.ts";
 * const p2wpkh = Uint8Array.of(0x00, 0x14, ...new Uint8Array(20).fill(7));
 * const { type, solutions } = solver(p2wpkh);
 * if (type !== "witness_v0_keyhash" || solutions[0].length !== 20) throw new Error(type);
 * ```
 * @module
 */
import {
  isMinimalPush,
  isPayToPubKeyHash,
  isPayToScriptHash,
  MAX_PUBKEYS_PER_MULTISIG,
  MAX_SCRIPT_ELEMENT_SIZE,
  parseScript,
  witnessProgram,
} from "./script.ts";

/** Core's `TxoutType`, as `GetTxnOutputType` names it. */
export type TxoutType =
  | "nonstandard"
  | "anchor"
  | "pubkey"
  | "pubkeyhash"
  | "scripthash"
  | "multisig"
  | "nulldata"
  | "witness_v0_scripthash"
  | "witness_v0_keyhash"
  | "witness_v1_taproot"
  | "witness_unknown";

/** Every type, in Core's `GetAllOutputTypes` order (for help texts). */
export const OUTPUT_TYPES: readonly TxoutType[] = [
  "nonstandard",
  "anchor",
  "pubkey",
  "pubkeyhash",
  "scripthash",
  "multisig",
  "nulldata",
  "witness_v0_scripthash",
  "witness_v0_keyhash",
  "witness_v1_taproot",
  "witness_unknown",
];

/** What {@linkcode solver} found: the type and Core's `vSolutionsRet`. */
export interface Solution {
  readonly type: TxoutType;
  /**
   * pubkey: [key]; pubkeyhash / scripthash / witness v0: [hash];
   * taproot: [x-only key]; witness_unknown: [[version], program];
   * multisig: [[m], keys…, [n]]; others: [].
   */
  readonly solutions: Uint8Array[];
}

const OP_1 = 0x51;
const OP_16 = 0x60;
const OP_RETURN = 0x6a;
const OP_CHECKSIG = 0xac;
const OP_CHECKMULTISIG = 0xae;
/** Core's `MAX_OPCODE` (OP_NOP10): anything above is not a valid operation. */
const MAX_OPCODE = 0xb9;

/** `CPubKey::ValidSize`: 33 bytes led by 02/03, or 65 led by 04/06/07. */
export function isValidPubKeySize(data: Uint8Array): boolean {
  if (data.length === 33) return data[0] === 0x02 || data[0] === 0x03;
  if (data.length === 65) return data[0] === 0x04 || data[0] === 0x06 || data[0] === 0x07;
  return false;
}

/** `CScript::HasValidOps`: every operation parses, is known and pushes at most 520 bytes. */
export function hasValidOps(script: Uint8Array): boolean {
  const { ops, truncated } = parseScript(script);
  return !truncated &&
    ops.every((op) => op.opcode <= MAX_OPCODE && (op.data?.length ?? 0) <= MAX_SCRIPT_ELEMENT_SIZE);
}

/** `CScript::IsPushOnly` from byte `start`: only pushes and OP_1NEGATE…OP_16. */
export function isPushOnly(script: Uint8Array, start = 0): boolean {
  const { ops, truncated } = parseScript(script.subarray(start));
  return !truncated && ops.every((op) => op.opcode <= OP_16);
}

/** `CScript::IsPayToAnchor`: `OP_1 <0x4e73>` (BIP 431's pay-to-anchor). */
export function isPayToAnchor(script: Uint8Array): boolean {
  return script.length === 4 && script[0] === OP_1 && script[1] === 0x02 &&
    script[2] === 0x4e && script[3] === 0x73;
}

/** `GetScriptNumber`: a small integer or minimally pushed number in [min, max], or undefined. */
function scriptNumber(opcode: number, data: Uint8Array | undefined, min: number, max: number) {
  let count: number;
  if (opcode >= OP_1 && opcode <= OP_16) {
    count = opcode - OP_1 + 1;
  } else if (data !== undefined && data.length <= 4 && isMinimalPush(data, opcode)) {
    if (
      data.length > 0 && (data[data.length - 1] & 0x7f) === 0 &&
      (data.length === 1 || !(data[data.length - 2] & 0x80))
    ) return undefined;
    count = 0;
    for (let i = data.length - 1; i >= 0; i--) count = count * 256 + data[i];
    if (data.length > 0 && data[data.length - 1] & 0x80) {
      count = -(count - 0x80 * 256 ** (data.length - 1));
    }
  } else {
    return undefined;
  }
  return count >= min && count <= max ? count : undefined;
}

/** `MatchMultisig`: [[m], keys…, [n]] for `m <keys> n OP_CHECKMULTISIG`, or undefined. */
function matchMultisig(script: Uint8Array): Uint8Array[] | undefined {
  if (script.length < 1 || script[script.length - 1] !== OP_CHECKMULTISIG) return undefined;
  const { ops, truncated } = parseScript(script);
  if (truncated || ops.length < 3) return undefined;
  const required = scriptNumber(ops[0].opcode, ops[0].data, 1, MAX_PUBKEYS_PER_MULTISIG);
  if (required === undefined) return undefined;
  let i = 1;
  const keys: Uint8Array[] = [];
  while (i < ops.length && ops[i].data !== undefined && isValidPubKeySize(ops[i].data!)) {
    keys.push(ops[i].data!);
    i++;
  }
  if (i !== ops.length - 2) return undefined;
  const total = scriptNumber(ops[i].opcode, ops[i].data, required, MAX_PUBKEYS_PER_MULTISIG);
  if (total === undefined || keys.length !== total) return undefined;
  return [Uint8Array.of(required), ...keys, Uint8Array.of(total)];
}

/** Core's `Solver`: the standard type of `script` and its solutions. */
export function solver(script: Uint8Array): Solution {
  if (isPayToScriptHash(script)) {
    return { type: "scripthash", solutions: [script.slice(2, 22)] };
  }
  const program = witnessProgram(script);
  if (program) {
    const { version, program: bytes } = program;
    if (version === 0 && bytes.length === 20) {
      return { type: "witness_v0_keyhash", solutions: [bytes.slice()] };
    }
    if (version === 0 && bytes.length === 32) {
      return { type: "witness_v0_scripthash", solutions: [bytes.slice()] };
    }
    if (version === 1 && bytes.length === 32) {
      return { type: "witness_v1_taproot", solutions: [bytes.slice()] };
    }
    if (isPayToAnchor(script)) return { type: "anchor", solutions: [] };
    if (version !== 0) {
      return { type: "witness_unknown", solutions: [Uint8Array.of(version), bytes.slice()] };
    }
    return { type: "nonstandard", solutions: [] };
  }
  if (script.length >= 1 && script[0] === OP_RETURN && isPushOnly(script, 1)) {
    return { type: "nulldata", solutions: [] };
  }
  for (const size of [65, 33]) {
    if (
      script.length === size + 2 && script[0] === size &&
      script[script.length - 1] === OP_CHECKSIG
    ) {
      const key = script.slice(1, size + 1);
      if (isValidPubKeySize(key)) return { type: "pubkey", solutions: [key] };
    }
  }
  if (isPayToPubKeyHash(script)) {
    return { type: "pubkeyhash", solutions: [script.slice(3, 23)] };
  }
  const multisig = matchMultisig(script);
  if (multisig) return { type: "multisig", solutions: multisig };
  return { type: "nonstandard", solutions: [] };
}
