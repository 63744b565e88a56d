/**
 * A stand-in node for the toy wallet and gui tests: the project's former toy
 * block chain (the real node is `components/node/`), implementing `Chain`
 * and `NodeInit` of `schemas/node.capnp`, which the wallet and the gui still
 * use until they move to Bitcoin Core's interfaces. A block is its coinbase address; its hash is
 * SHA-256 over the previous block's hash (32 zero bytes before block 0),
 * its height (Int32, little-endian) and the address (UTF-8). Every block
 * pays {@linkcode SUBSIDY} to its address.
 *
 * The blocks live in `<datadir>/blocks/chain.json`, replaced atomically
 * after every change and checked hash by hash when the chain is opened.
 *
 * @example
 * ```ts
 * import { ToyChain } from "./toy_node.ts";
 * const dir = Deno.makeTempDirSync();
 * const chain = ToyChain.open(dir);
 * if (chain.generateToAddress(1, "tc1abc") !== 0) throw new Error("block 0 first");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { Chain, Coinbase, NodeInit } from "../../schemas/gen/node.mp.ts";
import { readFileIfExists, writeFileAtomic } from "../../runtime/component.ts";

/** What every block pays: 50 coins of 10^8 units. */
export const SUBSIDY = 5_000_000_000n;

/** Most blocks one `generateToAddress` call mines. */
export const MAX_GENERATE = 1000;

/** Addresses the chain accepts: 1 to 90 letters and digits (bech32's longest). */
const ADDRESS = /^[A-Za-z0-9]{1,90}$/;

/** The hash of the block at `height` paying `address` on top of `previous`. */
export function blockHash(previous: Uint8Array, height: number, address: string): Uint8Array {
  const heightBytes = new Uint8Array(4);
  new DataView(heightBytes.buffer).setInt32(0, height, true);
  const digest = createHash("sha256").update(previous).update(heightBytes).update(address)
    .digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

interface Block {
  readonly hash: Uint8Array;
  readonly address: string;
}

/** The file format of `blocks/chain.json`. */
interface ChainFile {
  version: 1;
  blocks: { hash: string; address: string }[];
}

const GENESIS_PREVIOUS = new Uint8Array(32);

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** A chain held in memory and saved under `<datadir>/blocks/`. */
export class ToyChain implements Chain {
  readonly #dir: string;
  readonly #blocks: Block[];

  private constructor(dir: string, blocks: Block[]) {
    this.#dir = dir;
    this.#blocks = blocks;
  }

  /**
   * Opens the chain saved under `<datadir>/blocks/` (made when missing),
   * checking every hash; an empty chain when nothing is saved yet.
   */
  static open(datadir: string): ToyChain {
    const dir = `${datadir}/blocks`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const text = readFileIfExists(`${dir}/chain.json`);
    return new ToyChain(dir, text === null ? [] : parseBlocks(text, `${dir}/chain.json`));
  }

  getHeight(): number {
    return this.#blocks.length - 1;
  }

  getBlockHash(height: number): Uint8Array {
    const block = this.#blocks[height];
    if (block === undefined) {
      throw new Error(`Block height ${height} out of range (tip is ${this.getHeight()})`);
    }
    return block.hash.slice();
  }

  generateToAddress(count: number, address: string): number {
    if (!Number.isInteger(count) || count < 1 || count > MAX_GENERATE) {
      throw new Error(`Block count ${count} out of range (1 to ${MAX_GENERATE})`);
    }
    if (!ADDRESS.test(address)) {
      throw new Error(`Invalid address ${JSON.stringify(address)}: 1 to 90 letters and digits`);
    }
    for (let i = 0; i < count; i++) {
      const height = this.#blocks.length;
      const previous = this.#blocks[height - 1]?.hash ?? GENESIS_PREVIOUS;
      this.#blocks.push({ hash: blockHash(previous, height, address), address });
    }
    this.#save();
    return this.getHeight();
  }

  getCoinbases(addresses: string[]): Coinbase[] {
    const wanted = new Set(addresses);
    const out: Coinbase[] = [];
    this.#blocks.forEach((block, height) => {
      if (wanted.has(block.address)) out.push({ height, address: block.address, amount: SUBSIDY });
    });
    return out;
  }

  #save(): void {
    const file: ChainFile = {
      version: 1,
      blocks: this.#blocks.map((b) => ({ hash: toHex(b.hash), address: b.address })),
    };
    writeFileAtomic(`${this.#dir}/chain.json`, JSON.stringify(file));
  }
}

/** Reads a saved chain, recomputing each hash; throws naming `source` when it does not match. */
function parseBlocks(text: string, source: string): Block[] {
  let file: ChainFile;
  try {
    file = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON (${(error as Error).message})`);
  }
  if (file?.version !== 1 || !Array.isArray(file.blocks)) {
    throw new Error(`${source}: not a version 1 chain file`);
  }
  const blocks: Block[] = [];
  for (const [height, saved] of file.blocks.entries()) {
    const address = typeof saved?.address === "string" ? saved.address : "";
    const previous = blocks[height - 1]?.hash ?? GENESIS_PREVIOUS;
    const hash = blockHash(previous, height, address);
    if (!ADDRESS.test(address) || saved.hash !== toHex(hash)) {
      throw new Error(`${source}: block ${height} is corrupt`);
    }
    blocks.push({ hash, address });
  }
  return blocks;
}

/** The node's Init object: every `makeChain` hands out `chain`. */
export function nodeInit(chain: Chain): NodeInit {
  return { makeChain: () => chain };
}
