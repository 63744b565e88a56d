/**
 * Tor v3 onion addresses as Bitcoin Core reads them (`CNetAddr::SetTor`,
 * no DNS involved): 56 base32 characters, any case, of the service's
 * 32-byte public key, a two-byte checksum and the version 3, then
 * `.onion`; written back in lower case.
 *
 * @example
 * ```ts
 * import { parseOnion } from "./onion.ts";
 * const name = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion";
 * const onion = parseOnion(name.toUpperCase().replace(".ONION", ".onion"));
 * if (onion?.address !== name || onion.key.length !== 32) throw new Error("a v3 address");
 * if (parseOnion(name.replace("pg6", "pg7")) !== undefined) throw new Error("a bad checksum");
 * if (parseOnion("expyuzz4wqqyqhjn.onion") !== undefined) throw new Error("v2 is gone");
 * ```
 * @module
 */
import { base32 } from "@scure/base";
import { sha3_256 } from "@noble/hashes/sha3.js";

/** Tor's version byte of v3 addresses. */
const VERSION = 3;
/** Bytes: key, checksum, version. */
const KEY_LENGTH = 32;
const CHECKSUM_LENGTH = 2;
const SUFFIX = ".onion";
const CHECKSUM_PREFIX = new TextEncoder().encode(".onion checksum");

/** A v3 onion address: the service's public key and its canonical text. */
export interface OnionAddress {
  readonly key: Uint8Array;
  readonly address: string;
}

/** `host` read as a v3 onion address, or undefined when it is none. */
export function parseOnion(host: string): OnionAddress | undefined {
  if (!host.endsWith(SUFFIX)) return undefined;
  const encoded = host.slice(0, -SUFFIX.length).toUpperCase();
  if (!/^[A-Z2-7]{56}$/.test(encoded)) return undefined;
  const bytes = base32.decode(encoded);
  const key = bytes.subarray(0, KEY_LENGTH);
  const checksum = bytes.subarray(KEY_LENGTH, KEY_LENGTH + CHECKSUM_LENGTH);
  if (bytes[KEY_LENGTH + CHECKSUM_LENGTH] !== VERSION) return undefined;
  const expected = sha3_256(Uint8Array.of(...CHECKSUM_PREFIX, ...key, VERSION));
  if (checksum[0] !== expected[0] || checksum[1] !== expected[1]) return undefined;
  return { key, address: `${base32.encode(bytes).toLowerCase()}${SUFFIX}` };
}
