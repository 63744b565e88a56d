/**
 * BIP 158's basic block filter (Bitcoin Core's `BlockFilter` of type
 * `basic`): a Golomb-coded set of every output script a block creates
 * (OP_RETURN and empty ones left out) and every output script its inputs
 * spend, each hashed with SipHash-2-4 keyed by the block's hash into
 * `[0, N·M)` and coded with Rice parameter P = 19, M = 784931. A light
 * client asks whether any of its scripts is in a block without fetching the
 * block; a match may be a false positive (about 1 in M per script), a miss
 * never is. Filter headers chain the filters as block headers chain blocks
 * (BIP 157).
 *
 * @example
 * ```ts
 * import { BlockFilter, filterHeader, ZERO_HASH } from "./mod.ts";
 * const blockHash = new Uint8Array(32).fill(7);
 * const mine = Uint8Array.of(0x51), other = Uint8Array.of(0x52);
 * const filter = BlockFilter.fromElements(blockHash, [mine, Uint8Array.of(0x6a, 0x01, 0x00)]);
 * if (filter.count !== 2) throw new Error("the set keeps what it is given");
 * if (!filter.matchAny([other, mine])) throw new Error("a member always matches");
 * if (BlockFilter.fromElements(blockHash, []).matchAny([mine])) throw new Error("an empty set matches nothing");
 * if (filterHeader(filter.encoded, ZERO_HASH).length !== 32) throw new Error("a 32-byte header");
 * ```
 * @module
 */
import { CompactSizeLen } from "@scure/btc-signer/script.js";
import { hex } from "@scure/base";
import type { Block } from "./block.ts";
import type { Coin } from "./coins.ts";
import { type Hash, sha256d } from "./hash.ts";

/** BIP 158's Golomb-Rice parameter of the basic filter. */
export const BASIC_FILTER_P = 19;
/** BIP 158's false-positive rate parameter of the basic filter (1 in M). */
export const BASIC_FILTER_M = 784931;

const OP_RETURN = 0x6a;

/** The elements of a block's basic filter (Core's `BasicFilterElements`), without repeats. */
export function basicFilterElements(
  block: Block,
  undo: readonly (readonly Coin[])[],
): Uint8Array[] {
  const elements = new Map<string, Uint8Array>();
  const add = (script: Uint8Array) => elements.set(hex.encode(script), script);
  for (const tx of block.txs) {
    for (const { script } of tx.outputs) {
      if (script.length > 0 && script[0] !== OP_RETURN) add(script);
    }
  }
  for (const coins of undo) {
    for (const { script } of coins) if (script.length > 0) add(script);
  }
  return [...elements.values()];
}

/** A Golomb-coded set of one block's scripts, as stored and served. */
export class BlockFilter {
  /** The filter's bytes: CompactSize N, then the Rice-coded sorted deltas. */
  readonly encoded: Uint8Array;
  /** How many elements the set holds (N). */
  readonly count: number;
  readonly #key: SipKey;
  /** Where the coded values start in {@linkcode encoded}. */
  readonly #start: number;

  private constructor(blockHash: Hash, encoded: Uint8Array) {
    this.encoded = encoded;
    this.#key = sipKey(blockHash);
    const [count, start] = readCompactSize(encoded);
    this.count = count;
    this.#start = start;
  }

  /** The basic filter of `block` (whose hash is `blockHash`), given the coins its inputs spent. */
  static basic(blockHash: Hash, block: Block, undo: readonly (readonly Coin[])[]): BlockFilter {
    return BlockFilter.fromElements(blockHash, basicFilterElements(block, undo));
  }

  /** The filter of distinct `elements` keyed by `blockHash`. */
  static fromElements(blockHash: Hash, elements: readonly Uint8Array[]): BlockFilter {
    const key = sipKey(blockHash);
    const range = elements.length * BASIC_FILTER_M;
    const values = elements.map((element) => hashToRange(key, element, range)).sort((a, b) =>
      a - b
    );
    const writer = new BitWriter();
    let last = 0;
    for (const value of values) {
      writer.writeRice(value - last);
      last = value;
    }
    const count = CompactSizeLen.encode(elements.length);
    const bits = writer.finish();
    const encoded = new Uint8Array(count.length + bits.length);
    encoded.set(count);
    encoded.set(bits, count.length);
    return new BlockFilter(blockHash, encoded);
  }

  /** A stored filter of the block `blockHash`. */
  static fromEncoded(blockHash: Hash, encoded: Uint8Array): BlockFilter {
    return new BlockFilter(blockHash, encoded);
  }

  /**
   * Whether any of `elements` may be in the set (Core's `MatchAny`): the
   * queries hashed and sorted, then walked in step with the decoded set.
   */
  matchAny(elements: Iterable<Uint8Array>): boolean {
    const range = this.count * BASIC_FILTER_M;
    const scripts = Array.isArray(elements) ? elements : [...elements];
    // A typed array sorts numerically, and fast.
    const queries = new Float64Array(scripts.length);
    for (let i = 0; i < scripts.length; i++) queries[i] = hashToRange(this.#key, scripts[i], range);
    queries.sort();
    const reader = new BitReader(this.encoded, this.#start);
    let value = 0;
    let next = 0;
    for (let i = 0; i < this.count; i++) {
      value += reader.readRice();
      while (next < queries.length && queries[next] < value) next++;
      if (next === queries.length) return false;
      if (queries[next] === value) return true;
    }
    return false;
  }
}

/** BIP 157's filter header: the double SHA-256 of the filter's hash and the previous header. */
export function filterHeader(encoded: Uint8Array, previousHeader: Hash): Hash {
  return sha256d(sha256d(encoded), previousHeader);
}

function readCompactSize(bytes: Uint8Array): [number, number] {
  const first = bytes[0];
  if (first === undefined) throw new Error("block filter: empty encoding");
  const width = first < 0xfd ? 0 : first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
  const count = Number(CompactSizeLen.decode(bytes.subarray(0, 1 + width)));
  return [count, 1 + width];
}

/** Writes bits most significant first, as Core's `BitStreamWriter`. */
class BitWriter {
  #bytes = new Uint8Array(64);
  #length = 0;
  #bits = 0;
  #current = 0;

  /** Golomb-Rice: the quotient in unary (ones, then a zero), the remainder in P bits. */
  writeRice(value: number): void {
    const quotient = Math.floor(value / 2 ** BASIC_FILTER_P);
    for (let i = 0; i < quotient; i++) this.#write(1);
    this.#write(0);
    const remainder = value - quotient * 2 ** BASIC_FILTER_P;
    for (let bit = BASIC_FILTER_P - 1; bit >= 0; bit--) this.#write((remainder >>> bit) & 1);
  }

  #write(bit: number): void {
    this.#current = (this.#current << 1) | bit;
    if (++this.#bits === 8) this.#flushByte();
  }

  #flushByte(): void {
    if (this.#length === this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes[this.#length++] = this.#current << (8 - this.#bits);
    this.#current = 0;
    this.#bits = 0;
  }

  /** The bytes written, the last one padded with zero bits. */
  finish(): Uint8Array {
    if (this.#bits > 0) this.#flushByte();
    return this.#bytes.slice(0, this.#length);
  }
}

/** Reads bits most significant first; reading past the end throws. */
class BitReader {
  readonly #bytes: Uint8Array;
  #offset: number;
  #bit = 0;

  constructor(bytes: Uint8Array, offset: number) {
    this.#bytes = bytes;
    this.#offset = offset;
  }

  readRice(): number {
    let quotient = 0;
    while (this.#read() === 1) quotient++;
    let remainder = 0;
    for (let i = 0; i < BASIC_FILTER_P; i++) remainder = remainder * 2 + this.#read();
    return quotient * 2 ** BASIC_FILTER_P + remainder;
  }

  #read(): number {
    const byte = this.#bytes[this.#offset];
    if (byte === undefined) throw new Error("block filter: truncated encoding");
    const bit = (byte >>> (7 - this.#bit)) & 1;
    if (++this.#bit === 8) {
      this.#bit = 0;
      this.#offset++;
    }
    return bit;
  }
}

/** SipHash's two 64-bit key words, each as [high, low] 32-bit halves. */
type SipKey = readonly [number, number, number, number];

/** The key of a block's filter: the first 16 bytes of its hash, two little-endian words. */
function sipKey(blockHash: Hash): SipKey {
  const view = new DataView(blockHash.buffer, blockHash.byteOffset, 16);
  return [
    view.getUint32(4, true),
    view.getUint32(0, true),
    view.getUint32(12, true),
    view.getUint32(8, true),
  ];
}

/** Core's `HashToRange`: SipHash-2-4 of `element`, mapped onto `[0, range)` by a 64×64 multiply's high half. */
function hashToRange(key: SipKey, element: Uint8Array, range: number): number {
  sipHash24(key, element);
  return mulHigh(HASH[0], HASH[1], range);
}

/**
 * The high 64 bits of the 128-bit product of `high:low` and `range` (<
 * 2^53), in exact 16-bit limbs: column sums stay under 2^35, and only
 * floor divisions carry (a float `%` costs more than the rest).
 */
function mulHigh(high: number, low: number, range: number): number {
  const x0 = low & 0xffff, x1 = low >>> 16, x2 = high & 0xffff, x3 = high >>> 16;
  const rangeHigh = Math.floor(range / 2 ** 32);
  const rangeLow = range - rangeHigh * 2 ** 32;
  const y0 = rangeLow & 0xffff,
    y1 = rangeLow >>> 16,
    y2 = rangeHigh & 0xffff,
    y3 = rangeHigh >>> 16;
  let carry = Math.floor((x0 * y0) / 0x10000);
  carry = Math.floor((carry + x0 * y1 + x1 * y0) / 0x10000);
  carry = Math.floor((carry + x0 * y2 + x1 * y1 + x2 * y0) / 0x10000);
  carry = Math.floor((carry + x0 * y3 + x1 * y2 + x2 * y1 + x3 * y0) / 0x10000);
  const c4 = carry + x1 * y3 + x2 * y2 + x3 * y1;
  const c4High = Math.floor(c4 / 0x10000);
  const c5 = c4High + x2 * y3 + x3 * y2;
  const c5High = Math.floor(c5 / 0x10000);
  const c6 = c5High + x3 * y3;
  return (c4 - c4High * 0x10000) + (c5 - c5High * 0x10000) * 0x10000 + c6 * 2 ** 32;
}

/** The last SipHash: [high, low]. */
const HASH = new Uint32Array(2);

/**
 * SipHash-2-4 of `message` into {@linkcode HASH}. Its 64-bit words are kept
 * as 32-bit halves in locals, so that a round is plain integer arithmetic
 * (this runs once per script per block a wallet's filter scan reads).
 */
function sipHash24(key: SipKey, message: Uint8Array): void {
  const [k0h, k0l, k1h, k1l] = key;
  let v0h = (k0h ^ 0x736f6d65) >>> 0, v0l = (k0l ^ 0x70736575) >>> 0;
  let v1h = (k1h ^ 0x646f7261) >>> 0, v1l = (k1l ^ 0x6e646f6d) >>> 0;
  let v2h = (k0h ^ 0x6c796765) >>> 0, v2l = (k0l ^ 0x6e657261) >>> 0;
  let v3h = (k1h ^ 0x74656462) >>> 0, v3l = (k1l ^ 0x79746573) >>> 0;
  const length = message.length;
  const whole = length >>> 3;
  // Each message word (the last: the remaining bytes with the length's low byte on top) takes
  // two rounds; then the finalization four.
  for (let word = 0; word <= whole + 1; word++) {
    let mh = 0, ml = 0, rounds = 2;
    if (word < whole) {
      const i = word * 8;
      ml = message[i] | (message[i + 1] << 8) | (message[i + 2] << 16) | (message[i + 3] << 24);
      mh = message[i + 4] | (message[i + 5] << 8) | (message[i + 6] << 16) |
        (message[i + 7] << 24);
    } else if (word === whole) {
      mh = (length & 0xff) << 24;
      for (let i = whole * 8; i < length; i++) {
        const shift = (i & 7) * 8;
        if (shift < 32) ml |= message[i] << shift;
        else mh |= message[i] << (shift - 32);
      }
    } else {
      v2l = (v2l ^ 0xff) >>> 0;
      rounds = 4;
    }
    mh >>>= 0;
    ml >>>= 0;
    v3h = (v3h ^ mh) >>> 0;
    v3l = (v3l ^ ml) >>> 0;
    for (let round = 0; round < rounds; round++) {
      // Each add's carry test (`t < low`) needs both operands unsigned: a half left signed by an
      // xor is made unsigned (`>>>= 0`) before its next add.
      let t: number;
      // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
      t = (v0l + v1l) >>> 0;
      v0h = (v0h + v1h + (t < v0l ? 1 : 0)) >>> 0;
      v0l = t;
      t = v1h;
      v1h = ((v1h << 13) | (v1l >>> 19)) ^ v0h;
      v1l = ((v1l << 13) | (t >>> 19)) ^ v0l;
      t = v0h;
      v0h = v0l;
      v0l = t;
      // v2 += v3; v3 = rotl(v3, 16) ^ v2
      t = (v2l + v3l) >>> 0;
      v2h = (v2h + v3h + (t < v2l ? 1 : 0)) >>> 0;
      v2l = t;
      t = v3h;
      v3h = ((v3h << 16) | (v3l >>> 16)) ^ v2h;
      v3l = ((v3l << 16) | (t >>> 16)) ^ v2l;
      // v0 += v3; v3 = rotl(v3, 21) ^ v0
      v3h >>>= 0;
      v3l >>>= 0;
      t = (v0l + v3l) >>> 0;
      v0h = (v0h + v3h + (t < v0l ? 1 : 0)) >>> 0;
      v0l = t;
      t = v3h;
      v3h = (((v3h << 21) | (v3l >>> 11)) ^ v0h) >>> 0;
      v3l = (((v3l << 21) | (t >>> 11)) ^ v0l) >>> 0;
      // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
      v1h >>>= 0;
      v1l >>>= 0;
      t = (v2l + v1l) >>> 0;
      v2h = (v2h + v1h + (t < v2l ? 1 : 0)) >>> 0;
      v2l = t;
      t = v1h;
      v1h = (((v1h << 17) | (v1l >>> 15)) ^ v2h) >>> 0;
      v1l = (((v1l << 17) | (t >>> 15)) ^ v2l) >>> 0;
      t = v2h;
      v2h = v2l;
      v2l = t;
    }
    v0h = (v0h ^ mh) >>> 0;
    v0l = (v0l ^ ml) >>> 0;
  }
  HASH[0] = v0h ^ v1h ^ v2h ^ v3h;
  HASH[1] = v0l ^ v1l ^ v2l ^ v3l;
}
