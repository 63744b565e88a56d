/**
 * Bitcoin Core's asmap files (`-asmap`): a bit-packed program mapping IP
 * prefixes to autonomous system numbers, which Core checks before it
 * takes one ({@linkcode isSaneAsmap}, its `SanityCheckASMap`) and names
 * in its log by a hash ({@linkcode asmapVersion}). This node has no peers
 * to bucket, so it checks and names the file and goes no further.
 *
 * The program's bits are each byte's, least significant first. Each
 * instruction is a type (RETURN `0`, JUMP `10`, MATCH `110`, DEFAULT
 * `111`) and one number, coded in Core's variable-length form
 * ({@linkcode decodeNumber}).
 *
 * @example
 * ```ts
 * import { isSaneAsmap } from "./asmap.ts";
 * // RETURN 1 (17 bits), padded with zeros to 3 bytes: every address is in AS1.
 * if (!isSaneAsmap(new Uint8Array(3))) throw new Error("the smallest asmap");
 * // A fourth zero byte is padding past 7 bits: refused, as Core refuses it.
 * if (isSaneAsmap(new Uint8Array(4))) throw new Error("excessive padding");
 * if (isSaneAsmap(new Uint8Array(0))) throw new Error("no RETURN");
 * ```
 * @module
 */
// node:crypto, not an npm package: the options modules load in `deno task cli` (--no-config) too.
import { createHash } from "node:crypto";

/** A number that runs past the program's end. */
const TRUNCATED = -1;

/** Core's instruction types. */
const RETURN = 0, JUMP = 1, MATCH = 2, DEFAULT = 3;

/** Core's codings: each number's least value and its classes' mantissa sizes. */
const TYPE_CODING = { least: 0, sizes: [0, 0, 1] };
const ASN_CODING = { least: 1, sizes: [15, 16, 17, 18, 19, 20, 21, 22, 23, 24] };
const MATCH_CODING = { least: 2, sizes: [1, 2, 3, 4, 5, 6, 7, 8] };
const JUMP_CODING = {
  least: 17,
  sizes: Array.from({ length: 26 }, (_, i) => i + 5), // 5 to 30 bits
};

/** The program's bits, read from a position that moves on. */
class BitCursor {
  readonly #bytes: Uint8Array;
  readonly end: number;
  position = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.end = bytes.length * 8;
  }

  /** The next bit (0 or 1), or undefined at the end. */
  next(): number | undefined {
    if (this.position === this.end) return undefined;
    const at = this.position++;
    return (this.#bytes[at >> 3] >> (at & 7)) & 1;
  }
}

/**
 * A number in Core's coding: each class but the last is entered by a 1
 * bit, which adds 2^size and moves on; a 0 bit (implied for the last
 * class) is followed by `size` mantissa bits, most significant first.
 * {@linkcode TRUNCATED} when the program ends inside it.
 */
function decodeNumber(cursor: BitCursor, coding: { least: number; sizes: number[] }): number {
  let value = coding.least;
  for (const [i, size] of coding.sizes.entries()) {
    const last = i === coding.sizes.length - 1;
    const escape = last ? 0 : cursor.next();
    if (escape === undefined) return TRUNCATED;
    if (escape === 1) {
      value += 2 ** size;
      continue;
    }
    for (let b = size - 1; b >= 0; b--) {
      const bit = cursor.next();
      if (bit === undefined) return TRUNCATED;
      value += bit * 2 ** b;
    }
    return value;
  }
  return TRUNCATED;
}

/**
 * Core's `SanityCheckASMap` for 128-bit addresses: every path ends in a
 * RETURN, no jump lands inside an instruction or past another's target,
 * no input bit is consumed twice or past the address's end, no dead code
 * or redundant instruction, at most 7 zero bits of padding after the last
 * RETURN.
 */
export function isSaneAsmap(bytes: Uint8Array): boolean {
  const cursor = new BitCursor(bytes);
  let bits = 128;
  // The targets of the jumps taken so far, innermost last, with the input bits left there.
  const targets: { at: number; bits: number }[] = [];
  let previous = JUMP;
  let incompleteMatch = false;
  while (cursor.position < cursor.end) {
    const target = targets.at(-1);
    if (target !== undefined && cursor.position >= target.at) return false; // into an instruction
    const type = decodeNumber(cursor, TYPE_CODING);
    if (type === RETURN) {
      if (previous === DEFAULT) return false; // DEFAULT then RETURN is one RETURN
      if (decodeNumber(cursor, ASN_CODING) === TRUNCATED) return false;
      if (target === undefined) {
        // The end: only zero padding, less than a byte, may follow.
        if (cursor.end - cursor.position > 7) return false;
        for (let bit = cursor.next(); bit !== undefined; bit = cursor.next()) {
          if (bit !== 0) return false;
        }
        return true;
      }
      // What follows must be the innermost jump's target, with the bits left there.
      if (cursor.position !== target.at) return false;
      bits = target.bits;
      targets.pop();
      previous = JUMP;
    } else if (type === JUMP) {
      const jump = decodeNumber(cursor, JUMP_CODING);
      if (jump === TRUNCATED || jump > cursor.end - cursor.position || bits === 0) return false;
      bits--;
      const at = cursor.position + jump;
      if (target !== undefined && at >= target.at) return false; // jumps must nest
      targets.push({ at, bits });
      previous = JUMP;
    } else if (type === MATCH) {
      const match = decodeNumber(cursor, MATCH_CODING);
      if (match === TRUNCATED) return false;
      // The match's bits follow its leading 1.
      const length = 31 - Math.clz32(match);
      if (previous !== MATCH) incompleteMatch = false;
      // In a run of matches, only one may match fewer than 8 bits.
      if (length < 8 && incompleteMatch) return false;
      incompleteMatch = length < 8;
      if (bits < length) return false;
      bits -= length;
      previous = MATCH;
    } else if (type === DEFAULT) {
      if (previous === DEFAULT) return false; // two DEFAULTs are one
      if (decodeNumber(cursor, ASN_CODING) === TRUNCATED) return false;
      previous = DEFAULT;
    } else {
      return false; // the program ends inside an instruction's type
    }
  }
  return false; // no RETURN at the end
}

/**
 * The name Core logs an asmap by (`Using asmap version %s`): the double
 * SHA-256 of its bits as Core serializes a `std::vector<bool>` (a
 * CompactSize count, then a byte per bit), written as a uint256 (bytes
 * reversed, in hex).
 */
export function asmapVersion(bytes: Uint8Array): string {
  const count = bytes.length * 8;
  const prefix = compactSize(count);
  const serialized = new Uint8Array(prefix.length + count);
  serialized.set(prefix);
  for (let at = 0; at < count; at++) {
    serialized[prefix.length + at] = (bytes[at >> 3] >> (at & 7)) & 1;
  }
  const sha256 = (data: Uint8Array) => new Uint8Array(createHash("sha256").update(data).digest());
  // A uint256 is written most significant byte first: the hash's bytes reversed.
  return Array.from(
    sha256(sha256(serialized)).reverse(),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
}

/** Core's CompactSize of `n`: one byte below 0xfd, else a marker and 2, 4 or 8 bytes. */
function compactSize(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  const [marker, width] = n <= 0xffff ? [0xfd, 2] : n <= 0xffffffff ? [0xfe, 4] : [0xff, 8];
  return Uint8Array.from(
    { length: 1 + width },
    (_, i) => i === 0 ? marker : Math.floor(n / 2 ** (8 * (i - 1))) % 256,
  );
}
