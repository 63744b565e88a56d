/**
 * 32-byte hashes as Bitcoin Core keeps them: bytes in internal order (the
 * order SHA-256d produces and the wire carries), shown to people reversed
 * (`uint256::GetHex`), which is the order of every hash in JSON-RPC.
 *
 * @example
 * ```ts
 * import { hashFromHex, hashToHex, sha256d } from "./hash.ts";
 * const h = sha256d(new TextEncoder().encode("hello"));
 * if (hashToHex(hashFromHex(hashToHex(h))) !== hashToHex(h)) throw new Error("round trip");
 * ```
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";

/** A 32-byte hash in internal byte order. */
export type Hash = Uint8Array;

/** The all-zero hash (`uint256()`), e.g. genesis's previous-block hash. */
export const ZERO_HASH: Hash = new Uint8Array(32);

/**
 * Double SHA-256 (`Hash256` in Bitcoin Core) of the concatenated parts.
 *
 * @example
 * ```ts
 * import { sha256d } from "./hash.ts";
 * if (sha256d(new Uint8Array()).length !== 32) throw new Error("size");
 * ```
 */
export function sha256d(...parts: Uint8Array[]): Hash {
  const inner = sha256.create();
  for (const part of parts) inner.update(part);
  return sha256(inner.digest());
}

/**
 * The display form of a hash: its bytes reversed, as lower-case hex.
 *
 * @example
 * ```ts
 * import { hashToHex } from "./hash.ts";
 * const h = new Uint8Array(32);
 * h[0] = 1;
 * if (!hashToHex(h).endsWith("01")) throw new Error("reversed");
 * ```
 */
export function hashToHex(hash: Hash): string {
  return hex.encode(hash.slice().reverse());
}

/**
 * A hash from its display form (64 hex characters, most significant first).
 * Throws a one-line error for anything else.
 *
 * @example
 * ```ts
 * import { hashFromHex } from "./hash.ts";
 * if (hashFromHex("00".repeat(31) + "01")[0] !== 1) throw new Error("reversed");
 * ```
 */
export function hashFromHex(text: string): Hash {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new Error(`hash must be 64 hexadecimal characters (not '${text}')`);
  }
  return hex.decode(text.toLowerCase()).reverse();
}

/** Whether two byte strings are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A hash read as Bitcoin Core's `arith_uint256` (little-endian), for
 * comparisons against a proof-of-work target.
 *
 * @example
 * ```ts
 * import { hashToBigInt } from "./hash.ts";
 * const h = new Uint8Array(32);
 * h[1] = 1;
 * if (hashToBigInt(h) !== 256n) throw new Error("little-endian");
 * ```
 */
export function hashToBigInt(hash: Hash): bigint {
  return BigInt("0x" + hashToHex(hash));
}
