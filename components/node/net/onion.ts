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
// node:crypto, not an npm package: the options modules load in `deno task cli` (--no-config) too.
import { createHash } from "node:crypto";

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
  const encoded = host.slice(0, -SUFFIX.length).toLowerCase();
  if (!/^[a-z2-7]{56}$/.test(encoded)) return undefined;
  // RFC 4648 base32: 56 characters of 5 bits are the 35 bytes exactly.
  const bytes = new Uint8Array(35);
  for (let i = 0; i < 56; i++) {
    const value = BASE32.indexOf(encoded[i]);
    for (let bit = 0; bit < 5; bit++) {
      const at = i * 5 + bit;
      if ((value >> (4 - bit)) & 1) bytes[at >> 3] |= 0x80 >> (at & 7);
    }
  }
  const key = bytes.subarray(0, KEY_LENGTH);
  const checksum = bytes.subarray(KEY_LENGTH, KEY_LENGTH + CHECKSUM_LENGTH);
  if (bytes[KEY_LENGTH + CHECKSUM_LENGTH] !== VERSION) return undefined;
  const expected = createHash("sha3-256")
    .update(Uint8Array.of(...CHECKSUM_PREFIX, ...key, VERSION))
    .digest();
  if (checksum[0] !== expected[0] || checksum[1] !== expected[1]) return undefined;
  return { key: key.slice(), address: `${encoded}${SUFFIX}` };
}

/** RFC 4648's base32 alphabet, in lower case as Tor writes it. */
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
