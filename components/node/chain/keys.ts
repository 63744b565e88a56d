/**
 * Private keys and extended keys as Bitcoin Core writes them on regtest:
 * WIF secrets (`DecodeSecret`/`EncodeSecret`: prefix 0xef, an optional
 * compressed-key flag) and BIP 32 extended keys (`tprv…`/`tpub…`, through
 * `@scure/bip32`), plus the key hash every script template is built on.
 *
 * @example
 * ```ts
 * import { decodeSecret, encodeSecret } from "./keys.ts";
 * const secret = { key: new Uint8Array(32).fill(1), compressed: true };
 * const wif = encodeSecret(secret);
 * if (!wif.startsWith("c") || decodeSecret(wif)?.compressed !== true) throw new Error(wif);
 * if (decodeSecret("notakey") !== undefined) throw new Error("accepted garbage");
 * ```
 * @module
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { ripemd160 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { createBase58check } from "@scure/base";
import { HDKey } from "@scure/bip32";

const base58check = createBase58check(sha256);

/** Regtest's (and testnet's) WIF prefix. */
export const WIF_PREFIX = 0xef;

/** Regtest's BIP 32 version bytes: `tprv` and `tpub`. */
export const EXT_KEY_VERSIONS = Object.freeze({ private: 0x04358394, public: 0x043587cf });

/** The BIP 32 flag of a hardened child index. */
export const HARDENED = 0x8000_0000;

/** A private key and whether its public key is used compressed. */
export interface Secret {
  readonly key: Uint8Array;
  readonly compressed: boolean;
}

/** RIPEMD-160 of SHA-256 (Core's `Hash160`, a key or script id). */
export function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}

/**
 * Core's `CPubKey::IsFullyValid`: a compressed (33 bytes, 02/03) or
 * uncompressed (65 bytes, 04, or hybrid 06/07 whose prefix gives the
 * parity of y) encoding of a point on the curve.
 */
export function isFullyValidPubKey(key: Uint8Array): boolean {
  if (key.length === 65 && (key[0] === 6 || key[0] === 7)) {
    if ((key[0] & 1) !== (key[64] & 1)) return false;
    key = Uint8Array.of(4, ...key.subarray(1));
  }
  return (key.length === 33 || key.length === 65) && secp256k1.utils.isValidPublicKey(key);
}

/** Core's `DecodeSecret`: a regtest WIF key, or undefined when it is not one. */
export function decodeSecret(text: string): Secret | undefined {
  let data: Uint8Array;
  try {
    data = base58check.decode(text);
  } catch {
    return undefined;
  }
  if (data[0] !== WIF_PREFIX) return undefined;
  const compressed = data.length === 34 && data[33] === 1;
  if (data.length !== 33 && !compressed) return undefined;
  const key = data.slice(1, 33);
  return secp256k1.utils.isValidSecretKey(key) ? { key, compressed } : undefined;
}

/** Core's `EncodeSecret`. */
export function encodeSecret(secret: Secret): string {
  const flag = secret.compressed ? [1] : [];
  return base58check.encode(Uint8Array.of(WIF_PREFIX, ...secret.key, ...flag));
}

/** The public key of a secret, in the form its compressed flag says. */
export function secretPublicKey(secret: Secret): Uint8Array {
  return secp256k1.getPublicKey(secret.key, secret.compressed);
}

/** A `tprv`/`tpub` extended key, or undefined (mainnet `xprv`/`xpub` included, as Core refuses them here). */
export function decodeExtendedKey(text: string): HDKey | undefined {
  try {
    return HDKey.fromExtendedKey(text, EXT_KEY_VERSIONS);
  } catch {
    return undefined;
  }
}

/** The first four bytes of a public key's hash160 (a BIP 32 fingerprint). */
export function keyFingerprint(publicKey: Uint8Array): Uint8Array {
  return hash160(publicKey).subarray(0, 4);
}
