/**
 * Encryption of the wallet's secret at rest: a key stretched from the
 * passphrase with PBKDF2-HMAC-SHA512 (a fresh salt each time) encrypts it
 * with AES-256-GCM, through WebCrypto. A wrong passphrase fails GCM's
 * authentication; nothing else can tell.
 *
 * An opened secret keeps the stretched key (never the passphrase), as
 * Core keeps its master key while unlocked: keys imported meanwhile are
 * sealed under the same passphrase without asking for it again.
 *
 * @example
 * ```ts
 * import { decryptSecret, encryptSecret } from "./crypter.ts";
 * const { sealed } = await encryptSecret("twelve words", "pass", 1000);
 * const opened = await decryptSecret(sealed, "pass");
 * if (opened?.secret !== "twelve words") throw new Error("round trip");
 * if (await decryptSecret(sealed, "wrong") !== null) throw new Error("wrong passphrase");
 * const next = await opened.reseal("thirteen words");
 * if ((await decryptSecret(next, "pass"))?.secret !== "thirteen words") throw new Error("reseal");
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

/** Seals `secret` with the stretched `key` of `salt` and `iterations`, under a fresh IV. */
async function seal(
  secret: string,
  key: CryptoKey,
  salt: Uint8Array,
  iterations: number,
): Promise<SealedSecret> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
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

/** Seals another secret under the passphrase a secret was sealed or opened with (and its salt). */
export type Resealer = (secret: string) => Promise<SealedSecret>;

/** Encrypts `secret` under `passphrase` (a fresh salt): the sealed secret, and its resealer. */
export async function encryptSecret(
  secret: string,
  passphrase: string,
  iterations = DEFAULT_ITERATIONS,
): Promise<{ sealed: SealedSecret; reseal: Resealer }> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await stretch(passphrase, salt, iterations);
  const reseal: Resealer = (next) => seal(next, key, salt, iterations);
  return { sealed: await reseal(secret), reseal };
}

/** A secret opened with its passphrase. */
export interface OpenedSecret {
  readonly secret: string;
  readonly reseal: Resealer;
}

/** The secret `sealed` holds, or null when `passphrase` is not the one it was sealed with. */
export async function decryptSecret(
  sealed: SealedSecret,
  passphrase: string,
): Promise<OpenedSecret | null> {
  const salt = base64.decode(sealed.salt);
  const key = await stretch(passphrase, salt, sealed.iterations);
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: base64.decode(sealed.iv) as BufferSource },
      key,
      base64.decode(sealed.ciphertext) as BufferSource,
    );
  } catch {
    return null;
  }
  return {
    secret: new TextDecoder().decode(plain),
    reseal: (secret) => seal(secret, key, salt, sealed.iterations),
  };
}
