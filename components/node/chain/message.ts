/**
 * Checking a signed message against a P2PKH address, as Core's
 * `MessageVerify`: the key that signed it (`components/bitcoin/message.ts`,
 * which makes and reads the signatures the node and the wallet share) must
 * hash to the address's key hash.
 *
 * @example
 * ```ts
 * import { verifyMessage } from "./message.ts";
 * import { signMessage } from "../../bitcoin/message.ts";
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
import { recoverMessageKey } from "../../bitcoin/message.ts";
import { decodeDestination } from "./address.ts";
import { hash160 } from "./keys.ts";

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
  const key = recoverMessageKey(signature, message);
  if (!(key instanceof Uint8Array)) return key;
  const expected = dest.script.subarray(3, 23);
  return hash160(key).every((b, i) => b === expected[i]) ? "ok" : "not-signed";
}
