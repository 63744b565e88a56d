/**
 * BIP 380's descriptor checksum, as Bitcoin Core's `DescriptorChecksum`
 * computes it: eight characters of a BCH code over the descriptor's
 * characters, "" for a descriptor holding a character outside its set.
 * The node (parsing, `getdescriptorinfo`, inferred descriptors) and the
 * wallet (the descriptors it writes) share it.
 *
 * @example
 * ```ts
 * import { descriptorChecksum, withChecksum } from "./descriptor_checksum.ts";
 * // BIP 380's test vector, and the example of Core's doc/descriptors.md.
 * if (descriptorChecksum("raw(deadbeef)") !== "89f8spxm") throw new Error("BIP 380 vector");
 * const desc = "pkh(02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5)";
 * if (withChecksum(desc) !== `${desc}#8fhd9pwu`) throw new Error(withChecksum(desc));
 * if (descriptorChecksum("raw(é)") !== "") throw new Error("a foreign character has none");
 * ```
 * @module
 */

const INPUT_CHARSET = "0123456789()[],'/*abcdefgh@:$%{}" +
  "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~" +
  'ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
/** The BCH code's generator, one term per bit of the top five. */
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];

function polymod(c: bigint, value: number): bigint {
  const top = c >> 35n;
  c = ((c & 0x7ffffffffn) << 5n) ^ BigInt(value);
  for (let i = 0; i < 5; i++) if ((top >> BigInt(i)) & 1n) c ^= GENERATOR[i];
  return c;
}

/** BIP 380's checksum of a descriptor without `#`; "" when it holds characters outside the set. */
export function descriptorChecksum(descriptor: string): string {
  let c = 1n;
  let cls = 0;
  let clsCount = 0;
  for (const ch of descriptor) {
    const pos = INPUT_CHARSET.indexOf(ch);
    if (pos < 0) return "";
    c = polymod(c, pos & 31);
    cls = cls * 3 + (pos >> 5);
    if (++clsCount === 3) {
      c = polymod(c, cls);
      cls = 0;
      clsCount = 0;
    }
  }
  if (clsCount > 0) c = polymod(c, cls);
  for (let j = 0; j < 8; j++) c = polymod(c, 0);
  c ^= 1n;
  let out = "";
  for (let j = 0; j < 8; j++) out += CHECKSUM_CHARSET[Number((c >> BigInt(5 * (7 - j))) & 31n)];
  return out;
}

/** `<descriptor>#<checksum>`. */
export function withChecksum(descriptor: string): string {
  return `${descriptor}#${descriptorChecksum(descriptor)}`;
}
