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
    const queries = Array.from(elements, (element) => hashToRange(this.#key, element, range))
      .sort((a, b) => a - b);
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
  return mulHigh(
    STATE[0] ^ STATE[2] ^ STATE[4] ^ STATE[6],
    STATE[1] ^ STATE[3] ^ STATE[5] ^ STATE[7],
    range,
  );
}

/** The high 64 bits of the 128-bit product of `high:low` and `range` (< 2^53), in exact 16-bit limbs. */
function mulHigh(high: number, low: number, range: number): number {
  const x0 = low & 0xffff, x1 = low >>> 16, x2 = high & 0xffff, x3 = high >>> 16;
  const rangeLow = range % 2 ** 32, rangeHigh = (range - rangeLow) / 2 ** 32;
  const y0 = rangeLow & 0xffff,
    y1 = rangeLow >>> 16,
    y2 = rangeHigh & 0xffff,
    y3 = rangeHigh >>> 16;
  // Column sums of the limb products (each under 2^34), carried from the lowest.
  let carry = Math.floor((x0 * y0) / 0x10000);
  carry = Math.floor((carry + x0 * y1 + x1 * y0) / 0x10000);
  carry = Math.floor((carry + x0 * y2 + x1 * y1 + x2 * y0) / 0x10000);
  carry = Math.floor((carry + x0 * y3 + x1 * y2 + x2 * y1 + x3 * y0) / 0x10000);
  const c4 = carry + x1 * y3 + x2 * y2 + x3 * y1;
  const c5 = Math.floor(c4 / 0x10000) + x2 * y3 + x3 * y2;
  const c6 = Math.floor(c5 / 0x10000) + x3 * y3;
  return (c4 % 0x10000) + (c5 % 0x10000) * 0x10000 + c6 * 2 ** 32;
}

/** SipHash's state v0..v3, each [high, low] (index 2i and 2i+1); one hash at a time. */
const STATE = new Uint32Array(8);

/** SipHash-2-4 of `message`, left in {@linkcode STATE} (the hash is v0 ^ v1 ^ v2 ^ v3). */
function sipHash24(key: SipKey, message: Uint8Array): void {
  const [k0h, k0l, k1h, k1l] = key;
  const state = STATE;
  state[0] = k0h ^ 0x736f6d65;
  state[1] = k0l ^ 0x70736575;
  state[2] = k1h ^ 0x646f7261;
  state[3] = k1l ^ 0x6e646f6d;
  state[4] = k0h ^ 0x6c796765;
  state[5] = k0l ^ 0x6e657261;
  state[6] = k1h ^ 0x74656462;
  state[7] = k1l ^ 0x79746573;
  const whole = message.length - (message.length % 8);
  for (let i = 0; i < whole; i += 8) {
    const low = message[i] | (message[i + 1] << 8) | (message[i + 2] << 16) |
      (message[i + 3] << 24);
    const high = message[i + 4] | (message[i + 5] << 8) | (message[i + 6] << 16) |
      (message[i + 7] << 24);
    compress(state, high >>> 0, low >>> 0);
  }
  // The last word: the remaining bytes, little-endian, with the length's low byte on top.
  let lastHigh = (message.length & 0xff) << 24;
  let lastLow = 0;
  for (let i = whole; i < message.length; i++) {
    const shift = (i - whole) * 8;
    if (shift < 32) lastLow |= message[i] << shift;
    else lastHigh |= message[i] << (shift - 32);
  }
  compress(state, lastHigh >>> 0, lastLow >>> 0);
  state[5] ^= 0xff;
  for (let i = 0; i < 4; i++) sipRound(state);
}

function compress(state: Uint32Array, high: number, low: number): void {
  state[6] ^= high;
  state[7] ^= low;
  sipRound(state);
  sipRound(state);
  state[0] ^= high;
  state[1] ^= low;
}

/** v[a] += v[b], modulo 2^64. */
function add(state: Uint32Array, a: number, b: number): void {
  const low = state[2 * a + 1] + state[2 * b + 1];
  state[2 * a] = state[2 * a] + state[2 * b] + (low > 0xffffffff ? 1 : 0);
  state[2 * a + 1] = low;
}

/** v[a] = rotl(v[a], bits), 0 < bits < 32, or a swap of the halves for 32. */
function rotate(state: Uint32Array, a: number, bits: number): void {
  const high = state[2 * a], low = state[2 * a + 1];
  if (bits === 32) {
    state[2 * a] = low;
    state[2 * a + 1] = high;
    return;
  }
  state[2 * a] = (high << bits) | (low >>> (32 - bits));
  state[2 * a + 1] = (low << bits) | (high >>> (32 - bits));
}

/** v[a] ^= v[b]. */
function xor(state: Uint32Array, a: number, b: number): void {
  state[2 * a] ^= state[2 * b];
  state[2 * a + 1] ^= state[2 * b + 1];
}

function sipRound(state: Uint32Array): void {
  add(state, 0, 1);
  rotate(state, 1, 13);
  xor(state, 1, 0);
  rotate(state, 0, 32);
  add(state, 2, 3);
  rotate(state, 3, 16);
  xor(state, 3, 2);
  add(state, 0, 3);
  rotate(state, 3, 21);
  xor(state, 3, 0);
  add(state, 2, 1);
  rotate(state, 1, 17);
  xor(state, 1, 2);
  rotate(state, 2, 32);
}
