/**
 * Mempool policy as Bitcoin Core v30 sets it: the defaults of its options
 * ({@linkcode MempoolPolicy}), and the standardness rules of
 * `src/policy/policy.cpp` — `IsStandardTx` (version, weight, scriptSig
 * size and push-only, standard output types, OP_RETURN data budget, bare
 * multisig, dust), `GetDustThreshold`, `AreInputsStandard` (with BIP 54's
 * legacy sigop limit), `IsWitnessStandard` and the sigop-adjusted virtual
 * size. Functions return Core's reject reason, or null when the rule holds.
 *
 * @example
 * ```ts
 * import { DEFAULT_MEMPOOL_POLICY, dustThreshold } from "./policy.ts";
 * const p2wpkh = Uint8Array.of(0x00, 0x14, ...new Uint8Array(20));
 * const threshold = dustThreshold({ amount: 0n, script: p2wpkh }, DEFAULT_MEMPOOL_POLICY.dustRelayFeeRate);
 * if (threshold !== 294n) throw new Error(`P2WPKH dust threshold ${threshold}`);
 * ```
 * @module
 */
import {
  isPayToScriptHash,
  isUnspendable,
  parseScript,
  scriptSigOpCount,
  signedAmount,
  type SpentOutput,
  type Tx,
  type TxOutput,
  WITNESS_SCALE_FACTOR,
  witnessProgram,
} from "../chain/mod.ts";
import { feeAtRate } from "./feerate.ts";

import type { MempoolPolicy } from "./defaults.ts";
export { DEFAULT_MEMPOOL_POLICY, type MempoolPolicy } from "./defaults.ts";

/** Largest standard transaction weight (`MAX_STANDARD_TX_WEIGHT`). */
export const MAX_STANDARD_TX_WEIGHT = 400_000;
/** Smallest standard non-witness size (`MIN_STANDARD_TX_NONWITNESS_SIZE`, CVE-2017-12842). */
export const MIN_STANDARD_TX_NONWITNESS_SIZE = 65;
/** Largest standard sigop cost of one transaction (`MAX_STANDARD_TX_SIGOPS_COST`). */
export const MAX_STANDARD_TX_SIGOPS_COST = 16_000;
/** Transaction versions relayed (`TX_MIN_STANDARD_VERSION`..`TX_MAX_STANDARD_VERSION`). */
export const MIN_STANDARD_TX_VERSION = 1;
/** The highest standard version: 3 (TRUC). */
export const MAX_STANDARD_TX_VERSION = 3;
/** Dust outputs one transaction may have (ephemeral dust, which must then pay no fee). */
export const MAX_DUST_OUTPUTS_PER_TX = 1;

const MAX_STANDARD_SCRIPTSIG_SIZE = 1650;
const MAX_P2SH_SIGOPS = 15;
const MAX_TX_LEGACY_SIGOPS = 2500;
const MAX_STANDARD_P2WSH_SCRIPT_SIZE = 3600;
const MAX_STANDARD_P2WSH_STACK_ITEMS = 100;
const MAX_STANDARD_P2WSH_STACK_ITEM_SIZE = 80;
const MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE = 80;
const ANNEX_TAG = 0x50;
const TAPROOT_LEAF_MASK = 0xfe;
const TAPROOT_LEAF_TAPSCRIPT = 0xc0;
const OP_RETURN = 0x6a;
const OP_CHECKSIG = 0xac;
const OP_CHECKMULTISIG = 0xae;
const OP_1 = 0x51;
const OP_16 = 0x60;

/** What `Solver` makes of a scriptPubKey (`TxoutType`). */
export type OutputType =
  | "nonstandard"
  | "pubkey"
  | "pubkeyhash"
  | "scripthash"
  | "multisig"
  | "nulldata"
  | "witness_v0_keyhash"
  | "witness_v0_scripthash"
  | "witness_v1_taproot"
  | "anchor"
  | "witness_unknown";

/** `CPubKey::ValidSize`: the length the header byte announces. */
function validPubKeySize(key: Uint8Array): boolean {
  const expected = key[0] === 2 || key[0] === 3
    ? 33
    : key[0] === 4 || key[0] === 6 || key[0] === 7
    ? 65
    : 0;
  return key.length > 0 && key.length === expected;
}

/** The script `OP_1 <0x4e73>` (pay-to-anchor). */
export function isPayToAnchor(script: Uint8Array): boolean {
  return script.length === 4 && script[0] === OP_1 && script[1] === 2 && script[2] === 0x4e &&
    script[3] === 0x73;
}

/** `IsPushOnly`: every operation from `start` is a push (OP_16 or below) and parses. */
function isPushOnly(script: Uint8Array, start = 0): boolean {
  const { ops, truncated } = parseScript(script.subarray(start));
  return !truncated && ops.every((op) => op.opcode <= OP_16);
}

/** `MatchMultisig`: `OP_m <keys…> OP_n OP_CHECKMULTISIG`; returns [m, n] or undefined. */
function matchMultisig(script: Uint8Array): [number, number] | undefined {
  if (script.length < 1 || script[script.length - 1] !== OP_CHECKMULTISIG) return undefined;
  const { ops, truncated } = parseScript(script);
  if (truncated || ops.length < 3) return undefined;
  const first = ops[0].opcode;
  if (first < OP_1 || first > OP_16) return undefined;
  let i = 1;
  while (i < ops.length && ops[i].data && validPubKeySize(ops[i].data!)) i++;
  const last = ops[i]?.opcode;
  if (last === undefined || last < OP_1 || last > OP_16) return undefined;
  const required = first - OP_1 + 1;
  const keys = last - OP_1 + 1;
  if (i - 1 !== keys || keys < required) return undefined;
  if (i + 2 !== ops.length || ops[i + 1].opcode !== OP_CHECKMULTISIG) return undefined;
  return [required, keys];
}

/** `Solver`: the type of a scriptPubKey. */
export function outputType(script: Uint8Array): OutputType {
  if (isPayToScriptHash(script)) return "scripthash";
  const program = witnessProgram(script);
  if (program) {
    const size = program.program.length;
    if (program.version === 0 && size === 20) return "witness_v0_keyhash";
    if (program.version === 0 && size === 32) return "witness_v0_scripthash";
    if (program.version === 1 && size === 32) return "witness_v1_taproot";
    if (isPayToAnchor(script)) return "anchor";
    return program.version !== 0 ? "witness_unknown" : "nonstandard";
  }
  if (script.length >= 1 && script[0] === OP_RETURN && isPushOnly(script, 1)) return "nulldata";
  if (
    (script.length === 35 && script[0] === 33 || script.length === 67 && script[0] === 65) &&
    script[script.length - 1] === OP_CHECKSIG && validPubKeySize(script.subarray(1, -1))
  ) {
    return "pubkey";
  }
  if (
    script.length === 25 && script[0] === 0x76 && script[1] === 0xa9 && script[2] === 20 &&
    script[23] === 0x88 && script[24] === OP_CHECKSIG
  ) {
    return "pubkeyhash";
  }
  return matchMultisig(script) ? "multisig" : "nonstandard";
}

/** The serialized size of an output: amount, script length, script. */
function outputSize(script: Uint8Array): number {
  const length = script.length;
  return 8 + (length < 253 ? 1 : length <= 0xffff ? 3 : 5) + length;
}

/**
 * `GetDustThreshold`: the value below which `output` costs more to spend
 * than it is worth at `dustRelayFeeRate` — the output's size plus a
 * minimal input spending it (148 bytes, or 67 virtual bytes for witness
 * programs), at that rate. Unspendable outputs have no threshold.
 */
export function dustThreshold(output: TxOutput, dustRelayFeeRate: bigint): bigint {
  if (isUnspendable(output.script)) return 0n;
  const spendSize = witnessProgram(output.script)
    ? 32 + 4 + 1 + Math.floor(107 / WITNESS_SCALE_FACTOR) + 4
    : 32 + 4 + 1 + 107 + 4;
  return feeAtRate(dustRelayFeeRate, outputSize(output.script) + spendSize);
}

/** `GetDust`: indices of the dust outputs of `tx`. */
export function dustOutputs(tx: Tx, dustRelayFeeRate: bigint): number[] {
  const dust: number[] = [];
  tx.outputs.forEach((output, index) => {
    if (signedAmount(output.amount) < dustThreshold(output, dustRelayFeeRate)) dust.push(index);
  });
  return dust;
}

/**
 * `IsStandardTx`: Core's reason (`version`, `tx-size`, `scriptsig-size`,
 * `scriptsig-not-pushonly`, `scriptpubkey`, `datacarrier`, `bare-multisig`,
 * `dust`) for the first rule `tx` breaks, or null. `weight` is its weight.
 */
export function nonStandardReason(tx: Tx, weight: number, policy: MempoolPolicy): string | null {
  if (tx.version > MAX_STANDARD_TX_VERSION || tx.version < MIN_STANDARD_TX_VERSION) {
    return "version";
  }
  if (weight > MAX_STANDARD_TX_WEIGHT) return "tx-size";
  for (const input of tx.inputs) {
    if (input.finalScriptSig.length > MAX_STANDARD_SCRIPTSIG_SIZE) return "scriptsig-size";
    if (!isPushOnly(input.finalScriptSig)) return "scriptsig-not-pushonly";
  }
  let datacarrierLeft = policy.maxDatacarrierBytes;
  for (const output of tx.outputs) {
    const type = outputType(output.script);
    if (type === "nonstandard") return "scriptpubkey";
    if (type === "multisig") {
      const [required, keys] = matchMultisig(output.script)!;
      if (keys > 3 || required > keys) return "scriptpubkey";
      if (!policy.permitBareMultisig) return "bare-multisig";
    }
    if (type === "nulldata") {
      if (output.script.length > datacarrierLeft) return "datacarrier";
      datacarrierLeft -= output.script.length;
    }
  }
  if (dustOutputs(tx, policy.dustRelayFeeRate).length > MAX_DUST_OUTPUTS_PER_TX) return "dust";
  return null;
}

/** The stack a scriptSig's pushes leave (`EvalScript` without flags), or undefined. */
function pushedStack(scriptSig: Uint8Array): Uint8Array[] | undefined {
  const { ops, truncated } = parseScript(scriptSig);
  if (truncated) return undefined;
  const stack: Uint8Array[] = [];
  for (const op of ops) {
    if (op.data) stack.push(op.data);
    else if (op.opcode === 0x4f) stack.push(Uint8Array.of(0x81));
    else if (op.opcode >= OP_1 && op.opcode <= OP_16) stack.push(Uint8Array.of(op.opcode - 0x50));
    else return undefined;
  }
  return stack;
}

/** `CScript::GetSigOpCount(scriptSig)` of a spent scriptPubKey: P2SH counts its redeem script. */
function spentSigOps(scriptPubKey: Uint8Array, scriptSig: Uint8Array): number {
  if (!isPayToScriptHash(scriptPubKey)) return scriptSigOpCount(scriptPubKey, true);
  const { ops } = parseScript(scriptSig);
  if (ops.some((op) => op.opcode > OP_16)) return 0;
  const last = ops[ops.length - 1];
  return last?.data ? scriptSigOpCount(last.data, true) : 0;
}

/**
 * `AreInputsStandard`: false when the legacy sigops of the inputs exceed
 * BIP 54's 2500, an input spends a non-standard or unknown-witness output,
 * or a P2SH redeem script has more than 15 sigops. `spent[i]` is the output
 * input `i` spends.
 */
export function areInputsStandard(tx: Tx, spent: readonly SpentOutput[]): boolean {
  let legacySigOps = 0;
  for (let i = 0; i < tx.inputs.length; i++) {
    const scriptSig = tx.inputs[i].finalScriptSig;
    legacySigOps += scriptSigOpCount(scriptSig, true) + spentSigOps(spent[i].script, scriptSig);
    if (legacySigOps > MAX_TX_LEGACY_SIGOPS) return false;
  }
  for (let i = 0; i < tx.inputs.length; i++) {
    const type = outputType(spent[i].script);
    if (type === "nonstandard" || type === "witness_unknown") return false;
    if (type === "scripthash") {
      const stack = pushedStack(tx.inputs[i].finalScriptSig);
      if (!stack || stack.length === 0) return false;
      if (scriptSigOpCount(stack[stack.length - 1], true) > MAX_P2SH_SIGOPS) return false;
    }
  }
  return true;
}

/**
 * `IsWitnessStandard`: witness data only where a witness program is spent,
 * P2WSH within its script, stack-item count and item-size limits, taproot
 * without annex and with small tapscript stack items, no witness for
 * pay-to-anchor.
 */
export function isWitnessStandard(tx: Tx, spent: readonly SpentOutput[]): boolean {
  for (let i = 0; i < tx.inputs.length; i++) {
    const witness = tx.witnesses?.[i] ?? [];
    if (witness.length === 0) continue;
    let script = spent[i].script;
    if (isPayToAnchor(script)) return false;
    let wrapped = false;
    if (isPayToScriptHash(script)) {
      const stack = pushedStack(tx.inputs[i].finalScriptSig);
      if (!stack || stack.length === 0) return false;
      script = stack[stack.length - 1];
      wrapped = true;
    }
    const program = witnessProgram(script);
    if (!program) return false;
    const size = program.program.length;
    if (program.version === 0 && size === 32) {
      if (witness[witness.length - 1].length > MAX_STANDARD_P2WSH_SCRIPT_SIZE) return false;
      const items = witness.slice(0, -1);
      if (items.length > MAX_STANDARD_P2WSH_STACK_ITEMS) return false;
      if (items.some((item) => item.length > MAX_STANDARD_P2WSH_STACK_ITEM_SIZE)) return false;
    }
    if (program.version === 1 && size === 32 && !wrapped) {
      const last = witness[witness.length - 1];
      if (witness.length >= 2 && last.length > 0 && last[0] === ANNEX_TAG) return false;
      if (witness.length >= 2) {
        const control = witness[witness.length - 1];
        if (control.length === 0) return false;
        const items = witness.slice(0, -2);
        if (
          (control[0] & TAPROOT_LEAF_MASK) === TAPROOT_LEAF_TAPSCRIPT &&
          items.some((item) => item.length > MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE)
        ) {
          return false;
        }
      }
    }
  }
  return true;
}

/**
 * `GetVirtualTransactionSize`: weight / 4 rounded up, or the sigop cost ×
 * `bytesPerSigop` / 4 when that is larger — the size the mempool charges.
 */
export function virtualSize(weight: number, sigOpCost: number, bytesPerSigop: number): number {
  const adjusted = Math.max(weight, sigOpCost * bytesPerSigop);
  return Math.floor((adjusted + WITNESS_SCALE_FACTOR - 1) / WITNESS_SCALE_FACTOR);
}
