/**
 * Signed messages as Bitcoin Core makes and checks them (`util/message.cpp`):
 * the double SHA-256 of `"Bitcoin Signed Message:\n"` and the message (each
 * with its compact-size length), signed with a recoverable compact ECDSA
 * signature (a header byte 27 + recovery id, + 4 for a compressed key, then
 * r and s) in base64; verification recovers the key and compares its P2PKH
 * address.
 *
 * @example
 * ```ts
 * import { signMessage, verifyMessage } from "./message.ts";
 * import { secretPublicKey, hash160 } from "./keys.ts";
 * import { scriptToAddress } from "./params.ts";
 * const secret = { key: new Uint8Array(32).fill(7), compressed: true };
 * const address = scriptToAddress(
 *   Uint8Array.of(0x76, 0xa9, 0x14, ...hash160(secretPublicKey(secret)), 0x88, 0xac),
 * )!;
 * const signature = signMessage(secret, "hello");
 * if (verifyMessage(address, signature, "hello") !== "ok") throw new Error("verify");
 * if (verifyMessage(address, signature, "other") !== "not-signed") throw new Error("other text");
 * ```
 * @module
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { base64 } from "@scure/base";
import { CompactSizeLen } from "@scure/btc-signer/script.js";
import { decodeDestination } from "./address.ts";
import { sha256d } from "./hash.ts";
import { hash160, type Secret } from "./keys.ts";

/** Core's `MESSAGE_MAGIC`. */
export const MESSAGE_MAGIC = "Bitcoin Signed Message:\n";

const encoder = new TextEncoder();

function serializeString(text: string): Uint8Array {
  const bytes = encoder.encode(text);
  return Uint8Array.of(...CompactSizeLen.encode(bytes.length), ...bytes);
}

/** `MessageHash`: what a message signature signs. */
export function messageHash(message: string): Uint8Array {
  return sha256d(serializeString(MESSAGE_MAGIC), serializeString(message));
}

/** `MessageSign`: the base64 compact signature of `message` (deterministic, RFC 6979). */
export function signMessage(secret: Secret, message: string): string {
  const recovered = secp256k1.sign(messageHash(message), secret.key, {
    prehash: false,
    format: "recovered",
  });
  const header = 27 + recovered[0] + (secret.compressed ? 4 : 0);
  return base64.encode(Uint8Array.of(header, ...recovered.subarray(1)));
}

/** Core's `MessageVerificationResult`. */
export type MessageVerification =
  | "ok"
  | "invalid-address"
  | "address-no-key"
  | "malformed-signature"
  | "pubkey-not-recovered"
  | "not-signed";

/** `MessageVerify`: whether `signature` signs `message` for the key of P2PKH `address`. */
export function verifyMessage(
  address: string,
  signature: string,
  message: string,
): MessageVerification {
  const dest = decodeDestination(address);
  if (!dest.ok) return "invalid-address";
  if (dest.kind !== "pubkeyhash") return "address-no-key";
  let bytes: Uint8Array;
  try {
    bytes = base64.decode(signature);
  } catch {
    return "malformed-signature";
  }
  if (bytes.length !== 65) return "pubkey-not-recovered";
  const flags = bytes[0] - 27;
  let key: Uint8Array;
  try {
    const sig = secp256k1.Signature.fromBytes(bytes.subarray(1), "compact")
      .addRecoveryBit(flags & 3);
    key = sig.recoverPublicKey(messageHash(message)).toBytes((flags & 4) !== 0);
  } catch {
    return "pubkey-not-recovered";
  }
  const expected = dest.script.subarray(3, 23);
  return hash160(key).every((b, i) => b === expected[i]) ? "ok" : "not-signed";
}
