/**
 * BIP 37 merkle blocks (Core's `CMerkleBlock` and `CPartialMerkleTree`):
 * a block's header and the part of its merkle tree that proves some of its
 * transactions are in it, what `gettxoutproof` gives and
 * `verifytxoutproof` checks.
 *
 * @example
 * ```ts
 * import { decodeMerkleBlock, encodeMerkleBlock, extractMatches, merkleBlock } from "./merkleblock.ts";
 * import { GENESIS_BLOCK, hashToHex, txid } from "./mod.ts";
 * const proof = encodeMerkleBlock(merkleBlock(GENESIS_BLOCK, () => true));
 * const found = extractMatches(decodeMerkleBlock(proof));
 * if (found === null || hashToHex(found.matches[0].txid) !== hashToHex(txid(GENESIS_BLOCK.txs[0]))) {
 *   throw new Error("the coinbase is proven");
 * }
 * ```
 * @module
 */
import { CompactSizeLen } from "@scure/btc-signer/script.js";
import { type Block, type BlockHeader, decodeHeader, encodeHeader } from "./block.ts";
import { bytesEqual, type Hash, sha256d } from "./hash.ts";
import { txid } from "./tx.ts";

/** A block header and a partial merkle tree of its transactions. */
export interface MerkleBlock {
  readonly header: BlockHeader;
  /** How many transactions the block holds. */
  readonly transactions: number;
  /** The hashes of the tree, depth first. */
  readonly hashes: readonly Hash[];
  /**
   * One bit per node visited, depth first (whether a matched transaction
   * is below it), eight to a byte from the least significant: kept packed,
   * as a proof's bytes may hold millions of them.
   */
  readonly flags: Uint8Array;
  /** How many of the flag bits the tree uses (a decoded proof: all of its bytes' bits). */
  readonly bitCount: number;
}

/** A transaction the proof shows, and its place in the block. */
export interface MatchedTx {
  readonly txid: Hash;
  readonly index: number;
}

/** Core's bound on a block's transactions (`MAX_BLOCK_WEIGHT / MIN_TRANSACTION_WEIGHT`). */
const MAX_TRANSACTIONS = Math.floor(4_000_000 / 240);

/** Core's `MAX_SIZE`: the largest vector length a stream reads. */
const MAX_SIZE = 0x02000000;

/** Nodes at `height` above the leaves of a tree of `transactions` leaves. */
function treeWidth(transactions: number, height: number): number {
  return Math.floor((transactions + 2 ** height - 1) / 2 ** height);
}

/** The height of the tree of `transactions` leaves. */
function treeHeight(transactions: number): number {
  let height = 0;
  while (treeWidth(transactions, height) > 1) height++;
  return height;
}

/**
 * The merkle block of `block` proving the transactions `matches` picks,
 * as Core's `CMerkleBlock` builds it.
 */
export function merkleBlock(block: Block, matches: (txid: Hash) => boolean): MerkleBlock {
  const txids = block.txs.map(txid);
  const matched = txids.map(matches);
  const transactions = txids.length;
  const hashes: Hash[] = [];
  const bits: boolean[] = [];
  const hashAt = (height: number, pos: number): Hash => {
    if (height === 0) return txids[pos];
    const left = hashAt(height - 1, pos * 2);
    const right = pos * 2 + 1 < treeWidth(transactions, height - 1)
      ? hashAt(height - 1, pos * 2 + 1)
      : left;
    return sha256d(left, right);
  };
  const build = (height: number, pos: number): void => {
    let parentOfMatch = false;
    for (let p = pos * 2 ** height; p < (pos + 1) * 2 ** height && p < transactions; p++) {
      parentOfMatch ||= matched[p];
    }
    bits.push(parentOfMatch);
    if (height === 0 || !parentOfMatch) {
      hashes.push(hashAt(height, pos));
      return;
    }
    build(height - 1, pos * 2);
    if (pos * 2 + 1 < treeWidth(transactions, height - 1)) build(height - 1, pos * 2 + 1);
  };
  build(treeHeight(transactions), 0);
  const flags = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((bit, i) => {
    if (bit) flags[i >> 3] |= 1 << (i & 7);
  });
  return { header: block.header, transactions, hashes, flags, bitCount: bits.length };
}

/**
 * The merkle root the proof computes and the transactions it shows, as
 * Core's `ExtractMatches`; null for a proof that does not hold together
 * (too many transactions or hashes, bits or hashes left over or missing,
 * or two equal siblings, CVE-2012-2459).
 */
export function extractMatches(
  block: MerkleBlock,
): { root: Hash; matches: MatchedTx[] } | null {
  const { transactions, hashes, flags, bitCount } = block;
  if (transactions === 0 || transactions > MAX_TRANSACTIONS) return null;
  if (hashes.length > transactions || bitCount < hashes.length) return null;
  let bitsUsed = 0;
  let hashesUsed = 0;
  let bad = false;
  const matches: MatchedTx[] = [];
  const extract = (height: number, pos: number): Hash => {
    if (bitsUsed >= bitCount) {
      bad = true;
      return new Uint8Array(32);
    }
    const parentOfMatch = (flags[bitsUsed >> 3] >> (bitsUsed & 7) & 1) === 1;
    bitsUsed++;
    if (height === 0 || !parentOfMatch) {
      if (hashesUsed >= hashes.length) {
        bad = true;
        return new Uint8Array(32);
      }
      const hash = hashes[hashesUsed++];
      if (height === 0 && parentOfMatch) matches.push({ txid: hash, index: pos });
      return hash;
    }
    const left = extract(height - 1, pos * 2);
    let right = left;
    if (pos * 2 + 1 < treeWidth(transactions, height - 1)) {
      right = extract(height - 1, pos * 2 + 1);
      if (bytesEqual(right, left)) bad = true;
    }
    return sha256d(left, right);
  };
  const root = extract(treeHeight(transactions), 0);
  if (bad) return null;
  // Every bit in the bytes it came in, and every hash, used.
  if (Math.ceil(bitsUsed / 8) !== Math.ceil(bitCount / 8)) return null;
  if (hashesUsed !== hashes.length) return null;
  return { root, matches };
}

/** Serializes a merkle block as Core's stream does (`gettxoutproof`'s bytes). */
export function encodeMerkleBlock(block: MerkleBlock): Uint8Array {
  const flags = block.flags.subarray(0, Math.ceil(block.bitCount / 8));
  const parts = [
    encodeHeader(block.header),
    u32(block.transactions),
    CompactSizeLen.encode(block.hashes.length),
    ...block.hashes,
    CompactSizeLen.encode(flags.length),
    flags,
  ];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Reads a merkle block as Core's stream does; throws Core's stream error
 * (`DataStream::read(): end of data`, a size too large or not canonical).
 * Bytes after it are left unread, as Core leaves them.
 */
export function decodeMerkleBlock(bytes: Uint8Array): MerkleBlock {
  let offset = 0;
  const take = (n: number): Uint8Array => {
    if (offset + n > bytes.length) throw new Error("DataStream::read(): end of data");
    const part = bytes.subarray(offset, offset + n);
    offset += n;
    return part;
  };
  const view = (n: number) => new DataView(take(n).slice().buffer);
  const readSize = (): number => {
    const first = take(1)[0];
    const [size, min] = first < 0xfd
      ? [first, 0]
      : first === 0xfd
      ? [view(2).getUint16(0, true), 0xfd]
      : first === 0xfe
      ? [view(4).getUint32(0, true), 0x10000]
      : [Number(view(8).getBigUint64(0, true)), 0x100000000];
    if (size < min) throw new Error("non-canonical ReadCompactSize()");
    if (size > MAX_SIZE) throw new Error("ReadCompactSize(): size too large");
    return size;
  };
  const header = decodeHeader(take(80).slice());
  const transactions = view(4).getUint32(0, true);
  const hashCount = readSize();
  // Read as they come: a count the bytes cannot hold ends at the data's end, allocating nothing.
  const hashes: Hash[] = [];
  for (let i = 0; i < hashCount; i++) hashes.push(take(32).slice());
  const flags = take(readSize()).slice();
  return { header, transactions, hashes, flags, bitCount: flags.length * 8 };
}

function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
}
