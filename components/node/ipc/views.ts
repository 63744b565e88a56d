/**
 * How the chain's objects cross IPC: the schema structs (`BlockRef`,
 * `BlockInfo`, `FoundBlock`, `BlockTip`) made from block index entries and
 * blocks, and the checks on hashes arriving as Data. Hashes stay in
 * internal byte order, as Bitcoin Core sends uint256.
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { blockRef } from "./views.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   const tip = blockRef(chain.tip);
 *   if (tip.height !== 0 || tip.hash.length !== 32) throw new Error("the genesis block");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { type Block, type BlockEntry, encodeTx, type Hash, ZERO_HASH } from "../chain/mod.ts";
import type { BlockRef } from "../../../schemas/gen/ipc/common.mp.ts";
import type { BlockInfo, FoundBlock } from "../../../schemas/gen/ipc/chain.mp.ts";
import type { BlockTip } from "../../../schemas/gen/ipc/node.mp.ts";

/** A block's place in the chain: hash and height. */
export function blockRef(entry: BlockEntry): BlockRef {
  return { hash: entry.hash, height: entry.height };
}

/** The tip as `Node.getBlockTip` and the block-tip callback give it. */
export function blockTip(entry: BlockEntry): BlockTip {
  return { blockHeight: entry.height, blockTime: entry.header.time, blockHash: entry.hash };
}

/** A block with its transactions (serialized with witness). */
export function blockInfo(entry: BlockEntry, block: Block): BlockInfo {
  return {
    hash: entry.hash,
    height: entry.height,
    prevHash: entry.prev?.hash ?? ZERO_HASH,
    time: entry.header.time,
    transactions: block.txs.map((tx) => encodeTx(tx)),
  };
}

/** Bytes a {@linkcode BlockInfo} holds, for queue accounting. */
export function blockInfoBytes(info: BlockInfo): number {
  let bytes = 3 * 32;
  for (const tx of info.transactions) bytes += tx.length;
  return bytes;
}

/** Where a block sits, without its transactions. */
export function foundBlock(entry: BlockEntry, medianTimePast: number, active: boolean): FoundBlock {
  return {
    hash: entry.hash,
    height: entry.height,
    prevHash: entry.prev?.hash ?? ZERO_HASH,
    time: entry.header.time,
    mtpTime: medianTimePast,
    inActiveChain: active,
  };
}

/** `data` as a 32-byte hash; anything else throws a one-line error naming `what`. */
export function hashParam(data: Uint8Array, what: string): Hash {
  if (data.length !== 32) throw new Error(`${what} must be 32 bytes, got ${data.length}`);
  return data;
}
