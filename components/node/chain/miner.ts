/**
 * Block assembly and proof of work, as Bitcoin Core v30's `BlockAssembler`
 * builds blocks: the version `ComputeBlockVersion` gives (0x20000000, with
 * testdummy's bit while it is started or locked in); time = max(median time past + 1, now)
 * (with BIP 94's limit on the first block of a period); a coinbase whose
 * scriptSig is the BIP 34 height push then `OP_0`, sequence 0xfffffffe,
 * lock time height − 1, paying subsidy + fees to the payout script; and —
 * always, as v30's `GenerateCoinbaseCommitment` does, even for a block with
 * no witness transactions — the witness commitment output
 * (`OP_RETURN aa21a9ed…`) with the coinbase witness set to one 32-byte zero
 * reserved value. Then the nonce is ground until the hash meets the target
 * (on regtest about two tries).
 *
 * @example
 * ```ts
 * import { ChainState } from "./chainstate.ts";
 * import { generateBlock } from "./miner.ts";
 * import { addressToScript } from "./params.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   generateBlock(chain, { payoutScript: addressToScript("bcrt1q0xcqpzrky6eff2g52qdye53xkk9jxkvrl4xfg5") });
 *   if (chain.height !== 1) throw new Error("one block mined");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { Script } from "@scure/btc-signer";
import {
  type Block,
  blockHash,
  blockMerkleRoot,
  merklePath,
  witnessCommitmentIndex,
  witnessCommitmentScript,
  witnessMerkleRoot,
} from "./block.ts";
import type { BlockEntry, ChainState } from "./chainstate.ts";
import { computeBlockVersion } from "./deployments.ts";
import { type Hash, ZERO_HASH } from "./hash.ts";
import {
  blockSubsidy,
  DIFFICULTY_ADJUSTMENT_INTERVAL,
  MAX_TIMEWARP,
  POW_LIMIT,
  POW_LIMIT_BITS,
} from "./params.ts";
import { checkProofOfWork } from "./pow.ts";
import { hasWitness, type Tx, txid } from "./tx.ts";

/** A transaction to include in a block, with the fee it pays. */
export interface TemplateTx {
  readonly tx: Tx;
  readonly fee: bigint;
}

/** What to build a block from. */
export interface BlockTemplateOptions {
  /** The coinbase's payout script (the subsidy and all fees go there). */
  readonly payoutScript: Uint8Array;
  /** Transactions in block order, parents before children. */
  readonly txs?: readonly TemplateTx[];
  /** The header time; by default max(minimum time, the chain's clock). */
  readonly time?: number;
  /** The block to build on; the active tip by default (another one makes a side branch). */
  readonly parent?: BlockEntry;
  /** The header version (`-blockversion`); by default `ComputeBlockVersion`'s. */
  readonly version?: number;
}

export {
  type BlockAssembly,
  blockTxWeightLimit,
  DEFAULT_BLOCK_ASSEMBLY,
  DEFAULT_BLOCK_MAX_WEIGHT,
  DEFAULT_BLOCK_RESERVED_WEIGHT,
  MINIMUM_BLOCK_RESERVED_WEIGHT,
} from "./assembly.ts";

/** A block ready for proof of work, with the pieces a mining client needs. */
export interface BlockTemplate {
  /** The block, nonce 0; its merkle root and witness commitment already filled in. */
  readonly block: Block;
  /** Its height. */
  readonly height: number;
  /** Fee of each non-coinbase transaction, in block order. */
  readonly fees: readonly bigint[];
  /** The witness commitment output script (`getCoinbaseCommitment`). */
  readonly coinbaseCommitment: Uint8Array;
  /** Index of that output in the coinbase (`getWitnessCommitmentIndex`). */
  readonly witnessCommitmentIndex: number;
  /** Sibling hashes from the coinbase up to the merkle root (`getCoinbaseMerklePath`). */
  readonly coinbaseMerklePath: readonly Hash[];
}

/** The witness reserved value this node puts in the coinbase witness. */
const RESERVED_VALUE = new Uint8Array(32);

/** `GetMinimumTime`: after the parent's median time past, and BIP 94's bound at period starts. */
export function minimumBlockTime(chain: ChainState, parent: BlockEntry = chain.tip): number {
  let time = chain.medianTimePast(parent) + 1;
  if ((parent.height + 1) % DIFFICULTY_ADJUSTMENT_INTERVAL === 0) {
    time = Math.max(time, parent.header.time - MAX_TIMEWARP);
  }
  return time;
}

/**
 * The coinbase Core v30 creates at `height`, paying `value` to
 * `payoutScript`, before the witness commitment is added.
 */
export function createCoinbase(height: number, payoutScript: Uint8Array, value: bigint): Tx {
  return {
    version: 2,
    segwitFlag: false,
    inputs: [{
      txid: new Uint8Array(32),
      index: 0xffffffff,
      finalScriptSig: Script.encode([height, "OP_0"]),
      sequence: 0xfffffffe,
    }],
    outputs: [{ amount: value, script: payoutScript }],
    lockTime: height - 1,
  };
}

/** Assembles a block on the active tip of `chain` (`CreateNewBlock`), or on `options.parent`. */
export function createBlockTemplate(
  chain: ChainState,
  options: BlockTemplateOptions,
): BlockTemplate {
  const parent = options.parent ?? chain.tip;
  const height = parent.height + 1;
  const entries = options.txs ?? [];
  const fees = entries.map((entry) => entry.fee);
  const coinbase = createCoinbase(
    height,
    options.payoutScript,
    blockSubsidy(height) + fees.reduce((sum, fee) => sum + fee, 0n),
  );
  const block: Block = {
    header: {
      version: options.version ?? computeBlockVersion(chain, parent),
      prevHash: parent.hash,
      merkleRoot: ZERO_HASH,
      time: options.time ?? Math.max(minimumBlockTime(chain, parent), chain.now()),
      bits: POW_LIMIT_BITS,
      nonce: 0,
    },
    txs: [coinbase, ...entries.map((entry) => entry.tx)],
  };
  const coinbaseCommitment = witnessCommitmentScript(witnessMerkleRoot(block), RESERVED_VALUE);
  coinbase.outputs.push({ amount: 0n, script: coinbaseCommitment });
  coinbase.segwitFlag = true;
  coinbase.witnesses = [[RESERVED_VALUE]];
  const txids = block.txs.map(txid);
  block.header.merkleRoot = blockMerkleRoot(block).root;
  return {
    block,
    height,
    fees,
    coinbaseCommitment,
    witnessCommitmentIndex: coinbase.outputs.length - 1,
    coinbaseMerklePath: merklePath(txids, 0),
  };
}

/**
 * What `submitblock` does before processing a block (Core's
 * `UpdateUncommittedBlockStructures`): a block with a witness commitment
 * whose coinbase has no witness gets the 32-byte zero reserved value.
 */
export function updateUncommittedBlockStructures(block: Block): void {
  const coinbase = block.txs[0];
  if (!coinbase || coinbase.inputs.length === 0 || hasWitness(coinbase)) return;
  if (witnessCommitmentIndex(block) < 0) return;
  coinbase.witnesses = coinbase.inputs.map((_, i) => (i === 0 ? [RESERVED_VALUE] : []));
  coinbase.segwitFlag = true;
}

/** How {@linkcode grindNonce} ended. */
export type GrindOutcome =
  /** The header now meets its target. */
  | "solved"
  /** The tries ran out first. */
  | "exhausted"
  /** The nonce reached 0xffffffff unsolved: Core builds a new template. */
  | "skipped";

/**
 * Core's `GenerateBlock` nonce loop: from the header's nonce, tries nonces
 * while `tries.left` (a uint64, shared across the blocks of one call) lasts
 * and the nonce is below 0xffffffff, one try per nonce that misses the
 * target. "solved" only with a hash that meets the target; a count of zero
 * or below is "exhausted".
 */
export function grindNonce(block: Block, tries: { left: bigint }): GrindOutcome {
  const { header } = block;
  let solved = false;
  while (
    tries.left > 0n && header.nonce < 0xffffffff &&
    !(solved = checkProofOfWork(blockHash(header), header.bits, POW_LIMIT))
  ) {
    header.nonce++;
    tries.left--;
  }
  if (tries.left <= 0n) return "exhausted";
  return solved ? "solved" : "skipped";
}

/**
 * Grinds the header nonce (from its current value) until the block hash
 * meets its target; false when the tries or the nonce space run out first.
 */
export function solveBlock(block: Block, maxTries = 2n ** 64n - 1n): boolean {
  return grindNonce(block, { left: maxTries }) === "solved";
}

/**
 * Assembles, solves and submits one block (what `generatetoaddress` does
 * per block). Returns the new block; throws `Error("<reject reason>")` if
 * the chain refuses it (`inconclusive` for a side-branch block that did not
 * become active).
 */
export function generateBlock(chain: ChainState, options: BlockTemplateOptions): Block {
  const { block } = createBlockTemplate(chain, options);
  if (!solveBlock(block)) throw new Error("no nonce satisfies the target");
  const result = chain.processBlock(block);
  if (result !== null) throw new Error(result);
  return block;
}
