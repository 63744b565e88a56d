/**
 * Encryption of the wallet's secret at rest: a key stretched from the
 * passphrase with PBKDF2-HMAC-SHA512 (a fresh salt each time) encrypts it
 * with AES-256-GCM, through WebCrypto. A wrong passphrase fails GCM's
 * authentication; nothing else can tell.
 *
 * @example
 * ```ts
 * import { decryptSecret, encryptSecret } from "./crypter.ts";
 * const sealed = await encryptSecret("twelve words", "pass", 1000);
 * if (await decryptSecret(sealed, "pass") !== "twelve words") throw new Error("round trip");
 * if (await decryptSecret(sealed, "wrong") !== null) throw new Error("wrong passphrase");
 * ```
 * @module
 */
import { base64 } from "@scure/base";

/** PBKDF2 iterations for a new encryption. */
export const DEFAULT_ITERATIONS = 100_000;

/** An encrypted secret, as stored (JSON). */
export interface SealedSecret {
  readonly iterations: number;
  /** Base64. */
  readonly salt: string;
  readonly iv: string;
  readonly ciphertext: string;
}

async function stretch(passphrase: string, salt: Uint8Array, iterations: number) {
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(passphrase),
    "PBKDF2",
    false,
    ["deriveKey"],
  );
  return await crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-512", salt: salt as BufferSource, iterations },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** Encrypts `secret` under `passphrase`. */
export async function encryptSecret(
  secret: string,
  passphrase: string,
  iterations = DEFAULT_ITERATIONS,
): Promise<SealedSecret> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await stretch(passphrase, salt, iterations);
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    key,
    new TextEncoder().encode(secret),
  );
  return {
    iterations,
    salt: base64.encode(salt),
    iv: base64.encode(iv),
    ciphertext: base64.encode(new Uint8Array(ciphertext)),
  };
}

/** The secret `sealed` holds, or null when `passphrase` is not the one it was sealed with. */
export async function decryptSecret(
  sealed: SealedSecret,
  passphrase: string,
): Promise<string | null> {
  const key = await stretch(passphrase, base64.decode(sealed.salt), sealed.iterations);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: base64.decode(sealed.iv) as BufferSource },
      key,
      base64.decode(sealed.ciphertext) as BufferSource,
    );
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}
