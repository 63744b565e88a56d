/**
 * Bitcoin Core v30.0's mining interface (`Mining`, `BlockTemplate`), served
 * with the semantics of v30.0's `MinerImpl` and `BlockTemplateImpl`
 * (`src/node/interfaces.cpp`, `src/node/miner.cpp`):
 *
 * - `createNewBlock` builds the template at once (no Context: it runs on
 *   the event loop): the mempool's selection under the options as v30.0
 *   clamps them (`blockReservedWeight` 2,000–4,000,000, sigops
 *   0–80,000; v30.0's schema has no defaults, so a wire zero means
 *   "no mempool", the 2,000 minimum and no sigops), and a coinbase paying
 *   subsidy + fees to `OP_TRUE` with the witness commitment — a
 *   placeholder: the client builds the real coinbase and hands it to
 *   `submitSolution`. The template is checked with `TestBlockValidity`.
 * - `submitSolution` puts the coinbase, version, time and nonce into the
 *   template's block (kept: `getBlock` then returns the submitted block)
 *   and processes it: true when the block was accepted — connected, already
 *   known, or stored on a side branch (a stale template), as v30.0's
 *   `ProcessNewBlock` answers; false, with a log line, when it is invalid
 *   (v30.0 also says true for a block that fails only when connected; this
 *   node says false).
 * - `waitNext` wakes once per second, as v30.0 does: a new tip gives a new
 *   template; so does a tip older than 20 minutes (the test-chain rule for
 *   minimum-difficulty blocks); with `feeThreshold` below MAX_MONEY, a
 *   template whose fees reach the current ones + `feeThreshold`; null when
 *   `timeout` (ms) passes. `waitTipChanged` returns the tip once the
 *   kernel's last `blockTip` (`TipWatch`: each activation iteration's new
 *   tip, and the tip `invalidateblock` leaves) differs from `currentTip`,
 *   or after `timeout` ms.
 * - Long waits end when the object is destroyed or released (which is what
 *   a client's disconnect does), when their caller gives up on them (its
 *   `CallOptions.signal`) and when the node stops.
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { nodeInit } from "./init.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   using init = nodeInit({ chain, mempool, requestShutdown() {} });
 *   const mining = init.makeMining();
 *   const template = (await mining.createNewBlock({
 *     useMempool: true,
 *     blockReservedWeight: 4000n,
 *     coinbaseOutputMaxAdditionalSigops: 0n,
 *   }))!;
 *   // An empty template at height 1 is 227 bytes, as bitcoin-node v30.0's.
 *   if ((await template.getBlock()).length !== 227) throw new Error("template size");
 *   (template as unknown as Disposable)[Symbol.dispose]();
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import {
  type Block,
  blockHash,
  blockMerkleRoot,
  blockTxWeightLimit,
  bytesEqual,
  createBlockTemplate,
  decodeBlock,
  decodeTx,
  encodeBlock,
  encodeHeader,
  encodeTx,
  type Hash,
  hashToHex,
  MAX_BLOCK_SIGOPS_COST,
  MAX_BLOCK_WEIGHT,
  MAX_MONEY,
  MINIMUM_BLOCK_RESERVED_WEIGHT,
  witnessCommitmentIndex,
} from "../chain/mod.ts";
import type {
  BlockCheckOptions,
  BlockCreateOptions,
  BlockTemplate,
  BlockWaitOptions,
  Mining,
} from "../../../schemas/gen/ipc/mining.mp.ts";
import type { BlockRef } from "../../../schemas/gen/ipc/common.mp.ts";
import type { CallOptions } from "../../../component.ts";
import type { IpcNode } from "./context.ts";
import { blockRef } from "./views.ts";

/** The coinbase output script of a template: Core's anyone-can-spend placeholder. */
const OP_TRUE = Uint8Array.of(0x51);
/** What ends a long wait: the object's end, the node stopping, or its caller giving up. */
function waitSignal(closed: AbortSignal, stopping: AbortSignal, call?: CallOptions): AbortSignal {
  return AbortSignal.any(call?.signal ? [closed, stopping, call.signal] : [closed, stopping]);
}

/** How often `waitNext` re-checks fees (v30.0's tick). */
const WAIT_NEXT_TICK_MS = 1000;
/** Test chains allow a minimum-difficulty block this long (seconds) after the tip. */
const MIN_DIFFICULTY_DELAY = 20 * 60;
/** v30.0 caps waits at 100 years ("to avoid UB in std::chrono"). */
const MAX_WAIT_MS = 100 * 365.2425 * 24 * 3600 * 1000;
/** What an interrupted `waitTipChanged` returns (master documents "an empty BlockRef"). */
const NO_TIP: BlockRef = { hash: new Uint8Array(0), height: 0 };

/** A wait's `timeout` as v30.0 reads it: milliseconds, negative (or NaN) as 0, capped. */
function waitMs(timeout: number): number {
  if (!(timeout > 0)) return 0;
  return Math.min(timeout, MAX_WAIT_MS);
}

function clamp(value: bigint, low: number, high: number): number {
  return value < BigInt(low) ? low : value > BigInt(high) ? high : Number(value);
}

/**
 * The object serialized at the start of `bytes`, read as v30.0's IPC layer
 * reads a `Data` param into one (a `SpanReader`): bytes after it are left
 * unread, and a failure says what the stream says (`SpanReader::read():
 * end of data`, `ReadCompactSize(): size too large`) in one bounded line,
 * never the bytes themselves.
 */
function readSerialized<T>(
  what: string,
  bytes: Uint8Array,
  decode: (bytes: Uint8Array, options: { allowTrailingBytes: boolean }) => T,
): T {
  try {
    return decode(bytes, { allowTrailingBytes: true });
  } catch (error) {
    const text = firstLine(error);
    const reason = /Unexpected end of buffer/.test(text)
      ? "SpanReader::read(): end of data"
      : /Wrong length/.test(text)
      ? "ReadCompactSize(): size too large"
      : text.slice(0, 200);
    throw new Error(`${what} does not deserialize: ${reason}: iostream error`);
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}

/** `BlockAssembler::Options` after v30.0's `ClampOptions`. */
interface AssemblyOptions {
  readonly useMempool: boolean;
  readonly reservedWeight: number;
  readonly additionalSigops: number;
}

function assemblyOptions(node: IpcNode, options: BlockCreateOptions): AssemblyOptions {
  return {
    useMempool: options.useMempool,
    // v30.0's createNewBlock applies -blockreservedweight over the client's when it is given.
    reservedWeight: node.blockAssembly.reservedWeight ?? clamp(
      options.blockReservedWeight,
      MINIMUM_BLOCK_RESERVED_WEIGHT,
      MAX_BLOCK_WEIGHT,
    ),
    additionalSigops: clamp(options.coinbaseOutputMaxAdditionalSigops, 0, MAX_BLOCK_SIGOPS_COST),
  };
}

/** A block template's contents (`CBlockTemplate`). */
interface Assembly {
  readonly block: Block;
  /** Per non-coinbase transaction, as v30.0's vTxFees (no coinbase entry). */
  readonly fees: readonly bigint[];
  /** Per non-coinbase transaction, as v30.0's vTxSigOpsCost (no coinbase entry). */
  readonly sigops: readonly bigint[];
  readonly coinbaseCommitment: Uint8Array;
  /** The coinbase's merkle branch: replacing the coinbase leaves it unchanged. */
  readonly coinbaseMerklePath: readonly Hash[];
  /** The mempool's sequence when the selection was made. */
  readonly mempoolSequence: number;
}

/** `BlockAssembler::CreateNewBlock` on the active tip, checked as Core checks it. */
function assemble(node: IpcNode, options: AssemblyOptions): Assembly {
  const { chain, mempool } = node;
  const mempoolSequence = mempool.sequence;
  const selected = options.useMempool
    ? mempool.selectForBlock(
      blockTxWeightLimit(node.blockAssembly, options.reservedWeight),
      MAX_BLOCK_SIGOPS_COST - options.additionalSigops,
    )
    : [];
  const template = createBlockTemplate(chain, {
    payoutScript: OP_TRUE,
    txs: selected,
    version: node.blockAssembly.version,
  });
  const invalid = chain.testBlockValidity(template.block, {
    checkPow: false,
    checkMerkleRoot: false,
  });
  if (invalid !== null) throw new Error(`TestBlockValidity failed: ${invalid.message}`);
  return {
    block: template.block,
    fees: template.fees,
    sigops: selected.map((entry) => BigInt(entry.sigops)),
    coinbaseCommitment: template.coinbaseCommitment,
    coinbaseMerklePath: template.coinbaseMerklePath,
    mempoolSequence,
  };
}

/** A template counted against the node's allowance, built now or from `assembly`. */
function openTemplate(
  node: IpcNode,
  options: AssemblyOptions,
  assembly?: Assembly,
): BlockTemplateImpl {
  node.templates.take();
  try {
    return new BlockTemplateImpl(node, options, assembly ?? assemble(node, options));
  } catch (error) {
    node.templates.give();
    throw error;
  }
}

/** A block being mined, owned by one client. */
class BlockTemplateImpl implements BlockTemplate, Disposable {
  readonly #node: IpcNode;
  readonly #options: AssemblyOptions;
  #assembly: Assembly;
  readonly #closed = new AbortController();

  constructor(node: IpcNode, options: AssemblyOptions, assembly: Assembly) {
    this.#node = node;
    this.#options = options;
    this.#assembly = assembly;
  }

  getBlockHeader(): Uint8Array {
    return encodeHeader(this.#assembly.block.header);
  }

  getBlock(): Uint8Array {
    return encodeBlock(this.#assembly.block);
  }

  getTxFees(): bigint[] {
    return [...this.#assembly.fees];
  }

  getTxSigops(): bigint[] {
    return [...this.#assembly.sigops];
  }

  getCoinbaseTx(): Uint8Array {
    return encodeTx(this.#assembly.block.txs[0]);
  }

  getCoinbaseCommitment(): Uint8Array {
    return this.#assembly.coinbaseCommitment;
  }

  getWitnessCommitmentIndex(): number {
    return witnessCommitmentIndex(this.#assembly.block);
  }

  getCoinbaseMerklePath(): Uint8Array[] {
    return [...this.#assembly.coinbaseMerklePath];
  }

  submitSolution(version: number, timestamp: number, nonce: number, coinbase: Uint8Array): boolean {
    if (coinbase.length === 0) throw new Error("submitSolution: the coinbase is empty");
    const tx = readSerialized("submitSolution: the coinbase", coinbase, decodeTx);
    // v30.0's AddMerkleRootAndCoinbase: the template's block becomes the
    // submitted one. A new object, since the chain hands it to listeners.
    const { header, txs } = this.#assembly.block;
    const block: Block = {
      header: { ...header, version: version | 0, time: timestamp, nonce },
      txs: [tx, ...txs.slice(1)],
    };
    block.header.merkleRoot = blockMerkleRoot(block).root;
    this.#assembly = { ...this.#assembly, block };
    const reason = this.#node.chain.processBlock(block);
    if (reason === null || reason === "duplicate" || reason === "inconclusive") return true;
    this.#node.log(
      `submitSolution: block ${hashToHex(blockHash(block.header))} rejected: ${reason}`,
    );
    return false;
  }

  async waitNext(options: BlockWaitOptions, call?: CallOptions): Promise<BlockTemplate | null> {
    const { chain, mempool, watch } = this.#node;
    const signal = waitSignal(this.#closed.signal, this.#node.stopping, call);
    const prevHash = this.#assembly.block.header.prevHash;
    const currentFees = this.#assembly.fees.reduce((sum, fee) => sum + fee, 0n);
    const checkFees = options.feeThreshold < MAX_MONEY;
    // The first tick always checks (as v30.0 does); later ones only after
    // the mempool changed, since an unchanged mempool on an unchanged tip
    // selects the same transactions.
    let checkedSequence = -1;
    let now = performance.now();
    const deadline = now + waitMs(options.timeout);
    do {
      if (bytesEqual(watch.tipBlock, prevHash)) {
        await watch.nextChange(Math.min(WAIT_NEXT_TICK_MS, deadline - now), signal);
      }
      if (signal.aborted) return null;
      const tipChanged = !bytesEqual(watch.tipBlock, prevHash) ||
        chain.now() > chain.tip.header.time + MIN_DIFFICULTY_DELAY;
      if (tipChanged) return openTemplate(this.#node, this.#options);
      if (checkFees && mempool.sequence !== checkedSequence) {
        checkedSequence = mempool.sequence;
        const next = assemble(this.#node, this.#options);
        // v30.0 returns as soon as the running sum reaches the threshold.
        let fees = 0n;
        for (const fee of next.fees) {
          fees += fee;
          if (fees >= currentFees + options.feeThreshold) {
            return openTemplate(this.#node, this.#options, next);
          }
        }
      }
      now = performance.now();
    } while (now < deadline);
    return null;
  }

  /** Destroyed or released: a `waitNext` in progress returns null. */
  [Symbol.dispose](): void {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    this.#node.templates.give();
  }
}

/** One client's Mining object. */
export class MiningImpl implements Mining, Disposable {
  readonly #node: IpcNode;
  readonly #closed = new AbortController();

  constructor(node: IpcNode) {
    this.#node = node;
  }

  isTestChain(): boolean {
    return true;
  }

  isInitialBlockDownload(): boolean {
    return this.#node.isInitialBlockDownload();
  }

  getTip(): BlockRef {
    return blockRef(this.#node.chain.tip);
  }

  async waitTipChanged(
    currentTip: Uint8Array,
    timeout: number,
    call?: CallOptions,
  ): Promise<BlockRef> {
    const { chain, watch, stopping } = this.#node;
    // Core's MinerImpl: waits until the kernel's last blockTip is not `currentTip`, then
    // answers the active tip.
    await watch.changedFrom(
      currentTip,
      waitMs(timeout),
      waitSignal(this.#closed.signal, stopping, call),
    );
    return stopping.aborted ? NO_TIP : blockRef(chain.tip);
  }

  createNewBlock(options: BlockCreateOptions): BlockTemplate | null {
    // v30.0 returns no template only when interrupted by a shutdown.
    if (this.#node.stopping.aborted) return null;
    return openTemplate(this.#node, assemblyOptions(this.#node, options));
  }

  checkBlock(
    block: Uint8Array,
    options: BlockCheckOptions,
  ): { reason: string; debug: string; result: boolean } {
    const decoded = readSerialized("checkBlock: the block", block, decodeBlock);
    const invalid = this.#node.chain.testBlockValidity(decoded, {
      checkPow: options.checkPow,
      checkMerkleRoot: options.checkMerkleRoot,
    });
    if (invalid === null) return { reason: "", debug: "", result: true };
    return { reason: invalid.reason, debug: invalid.detail, result: false };
  }

  /** Released: a `waitTipChanged` in progress returns. */
  [Symbol.dispose](): void {
    this.#closed.abort();
  }
}
