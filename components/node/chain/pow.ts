/**
 * Proof of work: compact `nBits` ↔ 256-bit targets (`arith_uint256`'s
 * SetCompact/GetCompact), the proof-of-work check, the work a block proves
 * (`GetBlockProof`, summed into chainwork) and `GetDifficulty`.
 *
 * @example
 * ```ts
 * import { blockProof, difficulty } from "./pow.ts";
 * if (Number(difficulty(0x207fffff).toPrecision(16)) !== 4.656542373906925e-10) throw new Error("difficulty");
 * if (blockProof(0x207fffff) !== 2n) throw new Error("regtest blocks prove 2 units of work");
 * ```
 * @module
 */
import { type Hash, hashToBigInt } from "./hash.ts";

/** A target decoded from compact bits, with SetCompact's flags. */
export interface CompactTarget {
  readonly target: bigint;
  readonly negative: boolean;
  readonly overflow: boolean;
}

/** Decodes compact bits into a target (`arith_uint256::SetCompact`). */
export function compactToTarget(bits: number): CompactTarget {
  const size = bits >>> 24;
  let word = bits & 0x007fffff;
  let target: bigint;
  if (size <= 3) {
    word >>>= 8 * (3 - size);
    target = BigInt(word);
  } else {
    target = BigInt(word) << BigInt(8 * (size - 3));
  }
  const negative = word !== 0 && (bits & 0x00800000) !== 0;
  const overflow = word !== 0 &&
    (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target: target & ((1n << 256n) - 1n), negative, overflow };
}

/**
 * Encodes a non-negative target as compact bits (`GetCompact`).
 *
 * @example
 * ```ts
 * import { compactToTarget, targetToCompact } from "./pow.ts";
 * if (targetToCompact(compactToTarget(0x207fffff).target) !== 0x207fffff) throw new Error("round trip");
 * ```
 */
export function targetToCompact(target: bigint): number {
  let size = target === 0n ? 0 : Math.ceil(target.toString(2).length / 8);
  let compact = size <= 3
    ? Number(target << BigInt(8 * (3 - size)))
    : Number(target >> BigInt(8 * (size - 3)));
  if (compact & 0x00800000) {
    compact >>>= 8;
    size++;
  }
  return (compact | (size << 24)) >>> 0;
}

/**
 * Whether `hash` satisfies `bits` under `powLimit` (`CheckProofOfWork`):
 * the target must be positive, not overflow, not exceed the limit, and the
 * hash read as a number must not exceed it.
 */
export function checkProofOfWork(hash: Hash, bits: number, powLimit: bigint): boolean {
  const { target, negative, overflow } = compactToTarget(bits);
  if (negative || overflow || target === 0n || target > powLimit) return false;
  return hashToBigInt(hash) <= target;
}

/** The work a header with `bits` proves: 2^256 / (target + 1), 0 for invalid bits. */
export function blockProof(bits: number): bigint {
  const { target, negative, overflow } = compactToTarget(bits);
  if (negative || overflow || target === 0n) return 0n;
  return (1n << 256n) / (target + 1n);
}

/**
 * The difficulty shown by `getblockchaininfo` etc. (`GetDifficulty`). Core's
 * JSON writes doubles with 16 significant digits (4.656542373906925e-10 on
 * regtest); JavaScript prints the same double as 4.6565423739069247e-10, so
 * JSON-RPC code should format it with `toPrecision(16)`.
 */
export function difficulty(bits: number): number {
  let shift = (bits >>> 24) & 0xff;
  let value = 0x0000ffff / (bits & 0x00ffffff);
  while (shift < 29) {
    value *= 256.0;
    shift++;
  }
  while (shift > 29) {
    value /= 256.0;
    shift--;
  }
  return value;
}
