/**
 * Blocks: the 80-byte header and the block framing (header, CompactSize
 * transaction count, transactions), written with `micro-packed` around
 * scure's `RawTx`; block hashes; merkle roots with Bitcoin Core's
 * CVE-2012-2459 mutation flag; the BIP 141 witness merkle root and the
 * coinbase witness commitment; merkle paths.
 *
 * @example
 * ```ts
 * import { blockHash, decodeBlock, encodeBlock } from "./block.ts";
 * import { GENESIS_BLOCK_HEX } from "./params.ts";
 * import { hashToHex } from "./hash.ts";
 * import { hex } from "@scure/base";
 * const block = decodeBlock(hex.decode(GENESIS_BLOCK_HEX));
 * if (hex.encode(encodeBlock(block)) !== GENESIS_BLOCK_HEX) throw new Error("round trip");
 * if (!hashToHex(blockHash(block.header)).startsWith("0f9188f1")) throw new Error("hash");
 * ```
 * @module
 */
import * as P from "micro-packed";
import { RawTx } from "@scure/btc-signer";
import { CompactSizeLen } from "@scure/btc-signer/script.js";
import { bytesEqual, type Hash, sha256d, ZERO_HASH } from "./hash.ts";
import { encodeTx, type Tx, txid, txSizes, wtxid } from "./tx.ts";

/** A block header. Hashes are in internal byte order. */
export interface BlockHeader {
  version: number;
  prevHash: Hash;
  merkleRoot: Hash;
  time: number;
  bits: number;
  nonce: number;
}

/** A block: its header and its transactions, the coinbase first. */
export interface Block {
  header: BlockHeader;
  txs: Tx[];
}

const HeaderCoder: P.CoderType<BlockHeader> = P.struct({
  version: P.I32LE,
  prevHash: P.bytes(32),
  merkleRoot: P.bytes(32),
  time: P.U32LE,
  bits: P.U32LE,
  nonce: P.U32LE,
});

const BlockCoder = P.struct({ header: HeaderCoder, txs: P.array(CompactSizeLen, RawTx) });

/** Serializes a header (80 bytes). */
export function encodeHeader(header: BlockHeader): Uint8Array {
  return HeaderCoder.encode(header);
}

/** Decodes an 80-byte header; any other length throws. */
export function decodeHeader(bytes: Uint8Array): BlockHeader {
  return HeaderCoder.decode(bytes);
}

/** The block hash: double SHA-256 of the header. */
export function blockHash(header: BlockHeader): Hash {
  return sha256d(encodeHeader(header));
}

/** Serializes a block with its witness data. */
export function encodeBlock(block: Block): Uint8Array {
  return P.utils.concatBytes(
    encodeHeader(block.header),
    CompactSizeLen.encode(block.txs.length),
    ...block.txs.map((tx) => encodeTx(tx)),
  );
}

/**
 * Decodes a serialized block; truncation throws, and so do trailing bytes
 * unless `allowTrailingBytes` (Core's `DecodeHexBlk` reads a block from the
 * front of its input and ignores the rest).
 */
export function decodeBlock(
  bytes: Uint8Array,
  { allowTrailingBytes = false }: { allowTrailingBytes?: boolean } = {},
): Block {
  return BlockCoder.decode(bytes, { allowUnreadBytes: allowTrailingBytes }) as Block;
}

/** Sizes of a block as `getblock` reports them. */
export interface BlockSizes {
  readonly size: number;
  readonly strippedSize: number;
  readonly weight: number;
}

/** Size, stripped size and weight (`GetBlockWeight`) of a block. */
export function blockSizes(block: Block): BlockSizes {
  let size = 80 + CompactSizeLen.encode(block.txs.length).length;
  let strippedSize = size;
  for (const tx of block.txs) {
    const sizes = txSizes(tx);
    size += sizes.size;
    strippedSize += sizes.strippedSize;
  }
  return { size, strippedSize, weight: strippedSize * 3 + size };
}

/** A merkle root and whether the tree was mutated (CVE-2012-2459). */
export interface MerkleRoot {
  readonly root: Hash;
  /** Two equal adjacent hashes at some level: the same root with other transactions. */
  readonly mutated: boolean;
}

/**
 * The merkle root of `leaves` as `ComputeMerkleRoot` computes it: odd levels
 * repeat their last hash; the all-zero hash for no leaves.
 *
 * @example
 * ```ts
 * import { merkleRoot } from "./block.ts";
 * const a = new Uint8Array(32).fill(1);
 * if (!merkleRoot([a, a]).mutated) throw new Error("duplicate pair must be flagged");
 * if (merkleRoot([a]).root !== a) throw new Error("single leaf is the root");
 * ```
 */
export function merkleRoot(leaves: readonly Hash[]): MerkleRoot {
  if (leaves.length === 0) return { root: ZERO_HASH, mutated: false };
  let level = leaves.slice();
  let mutated = false;
  while (level.length > 1) {
    for (let i = 0; i + 1 < level.length; i += 2) {
      if (bytesEqual(level[i], level[i + 1])) mutated = true;
    }
    if (level.length % 2 === 1) level.push(level[level.length - 1]);
    const next: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha256d(level[i], level[i + 1]));
    level = next;
  }
  return { root: level[0], mutated };
}

/**
 * The sibling hashes from leaf `index` up to the root (`ComputeMerklePath`):
 * what a miner needs to recompute the root after changing that leaf, e.g.
 * the coinbase (index 0) for the IPC `getCoinbaseMerklePath`.
 */
export function merklePath(leaves: readonly Hash[], index: number): Hash[] {
  const path: Hash[] = [];
  let level = leaves.slice();
  let position = index;
  while (level.length > 1) {
    if (level.length % 2 === 1) level.push(level[level.length - 1]);
    path.push(level[position ^ 1]);
    const next: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha256d(level[i], level[i + 1]));
    level = next;
    position >>= 1;
  }
  return path;
}

/** The merkle root of a block's txids, with the mutation flag (`BlockMerkleRoot`). */
export function blockMerkleRoot(block: Block): MerkleRoot {
  return merkleRoot(block.txs.map(txid));
}

/** The BIP 141 witness merkle root: wtxids, the coinbase's counted as zero. */
export function witnessMerkleRoot(block: Block): Hash {
  return merkleRoot(block.txs.map((tx, i) => (i === 0 ? ZERO_HASH : wtxid(tx)))).root;
}

/** The four bytes after `OP_RETURN 0x24` that mark a witness commitment. */
const COMMITMENT_HEADER = Uint8Array.of(0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed);

/** Whether an output script is a witness commitment (at least 38 bytes, `6a24aa21a9ed…`). */
export function isWitnessCommitment(script: Uint8Array): boolean {
  return script.length >= 38 && bytesEqual(script.subarray(0, 6), COMMITMENT_HEADER);
}

/**
 * The index of the coinbase output holding the witness commitment (the last
 * such output, as `GetWitnessCommitmentIndex`), or -1 if there is none.
 */
export function witnessCommitmentIndex(block: Block): number {
  const outputs = block.txs[0]?.outputs ?? [];
  let index = -1;
  outputs.forEach((output, i) => {
    if (isWitnessCommitment(output.script)) index = i;
  });
  return index;
}

/**
 * The commitment output script `OP_RETURN <aa21a9ed ‖ SHA256d(witness root ‖ reserved value)>`.
 *
 * @example
 * ```ts
 * import { witnessCommitmentScript } from "./block.ts";
 * const script = witnessCommitmentScript(new Uint8Array(32), new Uint8Array(32));
 * if (script.length !== 38) throw new Error("a commitment is 38 bytes");
 * ```
 */
export function witnessCommitmentScript(witnessRoot: Hash, reservedValue: Uint8Array): Uint8Array {
  return P.utils.concatBytes(COMMITMENT_HEADER, sha256d(witnessRoot, reservedValue));
}
