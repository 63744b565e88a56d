/**
 * Signed messages as Bitcoin Core makes them (`common/signmessage.cpp`),
 * shared by the node (`signmessagewithprivkey`, `verifymessage`) and the
 * wallet (`signmessage`): the double SHA-256 of `"Bitcoin Signed
 * Message:\n"` and the message (each with its compact-size length), signed
 * with a recoverable compact ECDSA signature (a header byte 27 + recovery
 * id, + 4 for a compressed key, then r and s) in base64. Checking one is
 * recovering its key: whoever holds the address compares that key's hash.
 *
 * @example
 * ```ts
 * import { recoverMessageKey, signMessage } from "./message.ts";
 * import { secp256k1 } from "@noble/curves/secp256k1.js";
 * const key = new Uint8Array(32).fill(7);
 * const signature = signMessage({ key, compressed: true }, "hello");
 * const recovered = recoverMessageKey(signature, "hello");
 * if (!(recovered instanceof Uint8Array)) throw new Error(recovered);
 * const expected = secp256k1.getPublicKey(key, true);
 * if (!recovered.every((b, i) => b === expected[i])) throw new Error("another key");
 * if (recoverMessageKey("!!", "hello") !== "malformed-signature") throw new Error("read garbage");
 * ```
 * @module
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64 } from "@scure/base";
import { CompactSizeLen } from "@scure/btc-signer/script.js";

/** Core's `MESSAGE_MAGIC`. */
export const MESSAGE_MAGIC = "Bitcoin Signed Message:\n";

/** A private key and whether its public key is used compressed (which the header records). */
export interface MessageKey {
  readonly key: Uint8Array;
  readonly compressed: boolean;
}

const encoder = new TextEncoder();

/** `MessageHash`: what a message signature signs (a message of any length). */
export function messageHash(message: string): Uint8Array {
  const inner = sha256.create();
  for (const text of [MESSAGE_MAGIC, message]) {
    const bytes = encoder.encode(text);
    inner.update(CompactSizeLen.encode(bytes.length));
    inner.update(bytes);
  }
  return sha256(inner.digest());
}

/** `MessageSign`: the base64 compact signature of `message` (deterministic, RFC 6979). */
export function signMessage(secret: MessageKey, message: string): string {
  const recovered = secp256k1.sign(messageHash(message), secret.key, {
    prehash: false,
    format: "recovered",
  });
  const header = 27 + recovered[0] + (secret.compressed ? 4 : 0);
  return base64.encode(Uint8Array.of(header, ...recovered.subarray(1)));
}

/**
 * The public key (compressed or not, as the header says) that signed
 * `message` with `signature`, or why there is none, in the words of Core's
 * `MessageVerificationResult`.
 */
export function recoverMessageKey(
  signature: string,
  message: string,
): Uint8Array | "malformed-signature" | "pubkey-not-recovered" {
  let bytes: Uint8Array;
  try {
    bytes = base64.decode(signature);
  } catch {
    return "malformed-signature";
  }
  if (bytes.length !== 65) return "pubkey-not-recovered";
  const flags = bytes[0] - 27;
  try {
    const sig = secp256k1.Signature.fromBytes(bytes.subarray(1), "compact")
      .addRecoveryBit(flags & 3);
    return sig.recoverPublicKey(messageHash(message)).toBytes((flags & 4) !== 0);
  } catch {
    return "pubkey-not-recovered";
  }
}
