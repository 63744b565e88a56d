/**
 * Core's asmap sanity check and version name (`-asmap`), against programs
 * built here bit by bit in Core's coding: sane ones of every instruction,
 * and each kind of fault `SanityCheckASMap` refuses. The version is
 * checked against a double SHA-256 taken by the platform's own digest.
 *
 * @module
 */
import { assert, assertEquals } from "../../../assert.ts";
import { asmapVersion, isSaneAsmap } from "../../../../components/node/net/asmap.ts";

/** Core's codings: least value and class sizes. */
const ASN = { least: 1, sizes: [15, 16, 17, 18, 19, 20, 21, 22, 23, 24] };
const MATCH = { least: 2, sizes: [1, 2, 3, 4, 5, 6, 7, 8] };
const JUMP = { least: 17, sizes: Array.from({ length: 26 }, (_, i) => i + 5) };

/** `value` in Core's variable-length coding, as bits. */
function encoded(value: number, coding: { least: number; sizes: number[] }): number[] {
  let rest = value - coding.least;
  const bits: number[] = [];
  for (const [i, size] of coding.sizes.entries()) {
    const last = i === coding.sizes.length - 1;
    if (!last && rest >= 2 ** size) {
      bits.push(1);
      rest -= 2 ** size;
      continue;
    }
    if (!last) bits.push(0);
    for (let b = size - 1; b >= 0; b--) bits.push(Math.floor(rest / 2 ** b) % 2);
    return bits;
  }
  throw new Error(`${value} does not fit`);
}

const op = {
  return: (asn: number) => [0, ...encoded(asn, ASN)],
  jump: (offset: number) => [1, 0, ...encoded(offset, JUMP)],
  /** Matches `pattern` (bits, most significant first): its value is a 1 and the bits. */
  match: (pattern: string) => [1, 1, 0, ...encoded(parseInt(`1${pattern}`, 2), MATCH)],
  default: (asn: number) => [1, 1, 1, ...encoded(asn, ASN)],
};

/** The program's bits packed least significant first, zero padded to whole bytes. */
function packed(bits: number[]): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((bit, i) => bytes[i >> 3] |= bit << (i & 7));
  return bytes;
}

Deno.test("asmap: sane programs of each instruction are taken", () => {
  const returnBits = op.return(100).length;
  assertEquals(returnBits, 17);
  const programs = {
    "RETURN": op.return(1),
    "JUMP over a RETURN to another": [...op.jump(returnBits), ...op.return(100), ...op.return(200)],
    "MATCH then RETURN": [...op.match("1"), ...op.return(7)],
    "DEFAULT, MATCH, RETURN": [...op.default(9), ...op.match("0101"), ...op.return(7)],
    "sixteen full matches: all 128 bits": [
      ...Array.from({ length: 16 }, () => op.match("10101010")).flat(),
      ...op.return(3),
    ],
    "a large ASN": op.return(4_000_000),
  };
  for (const [name, bits] of Object.entries(programs)) {
    assert(isSaneAsmap(packed(bits)), name);
  }
  assert(isSaneAsmap(new Uint8Array(3)), "RETURN 1 in three zero bytes");
});

Deno.test("asmap: each fault Core's SanityCheckASMap refuses is refused", () => {
  const returnBits = op.return(100).length;
  const faults = {
    "empty": [],
    "no RETURN at the end": op.default(5),
    "a RETURN right after a DEFAULT": [...op.default(5), ...op.return(6)],
    "two DEFAULTs in a row": [...op.default(5), ...op.default(6), ...op.return(7)],
    "a jump landing past the next instruction": [
      ...op.jump(returnBits + 1),
      ...op.return(1),
      0,
      ...op.return(2),
    ],
    "a jump's other branch missing": [...op.jump(returnBits), ...op.return(1)],
    "a jump out of the program": [...op.jump(200), ...op.return(1)],
    "two incomplete matches in a row": [...op.match("1"), ...op.match("0"), ...op.return(1)],
    "more than 128 bits matched": [
      ...Array.from({ length: 17 }, () => op.match("10101010")).flat(),
      ...op.return(3),
    ],
    "an ASN cut off by the end": op.return(1).slice(0, 10),
  };
  for (const [name, bits] of Object.entries(faults)) {
    assert(!isSaneAsmap(packed(bits)), name);
  }
  // Padding: up to 7 zero bits only.
  assert(!isSaneAsmap(new Uint8Array(4)), "a whole byte of padding");
  const nonzeroPadding = packed(op.return(1));
  nonzeroPadding[2] |= 0x80;
  assert(!isSaneAsmap(nonzeroPadding), "a padding bit set");
});

Deno.test("asmap: the version is the double SHA-256 of the bits as Core serializes them, reversed", async () => {
  const file = packed([...op.default(9), ...op.match("0101"), ...op.return(7)]);
  const count = file.length * 8;
  assert(count < 0xfd);
  const serialized = Uint8Array.of(
    count,
    ...Array.from({ length: count }, (_, i) => (file[i >> 3] >> (i & 7)) & 1),
  );
  const once = await crypto.subtle.digest("SHA-256", serialized);
  const twice = new Uint8Array(await crypto.subtle.digest("SHA-256", once));
  const expected = Array.from(twice.reverse(), (b) => b.toString(16).padStart(2, "0")).join("");
  assertEquals(asmapVersion(file), expected);
});
