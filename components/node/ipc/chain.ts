/**
 * The `Chain` interface a wallet uses (`schemas/ipc/chain.capnp`): heights,
 * blocks and the data a rescan needs, the mempool's verdict on a
 * transaction, fee rates, and chain notifications.
 *
 * Edge cases: hashes must be 32 bytes (a one-line error otherwise); an
 * unknown block or a height outside 0..tip is absent (`getBlockHash`
 * throws `Block height out of range`, as `getblockhash` does);
 * `getBlocksSince` stops before 16 MiB of blocks (always returning at
 * least one when there is one); `broadcastTransaction` answers with
 * `sendrawtransaction`'s texts; this node keeps no fee estimates, so
 * `estimateSmartFee` answers as Core's estimator does without data (0,
 * target 0 for a target in 1..1008); the bump fees are the mempool's
 * (`components/node/mempool/bumpfee.ts`), and so are `checkChainLimits`'
 * texts (Core's `CheckPackageLimits`). `waitForNotifications` waits for the
 * subscribers registered through this Chain object: another client's slow
 * subscriber never holds it up. `getSetting` tells any of the node's
 * options but a sensitive one (`-rpcuser`, `-rpcpassword`, `-rpcauth`).
 *
 * @module
 */
import { dup } from "../../../component.ts";
import {
  type BlockEntry,
  bytesEqual,
  type ChainState,
  decodeBlock,
  decodeTx,
  encodeTx,
  MATCH_BUDGET,
  type Tx,
} from "../chain/mod.ts";
import type {
  BlockInfo,
  Chain,
  ChainNotifications,
  FilterMatches,
  FoundBlock,
  OutPoint as ChainOutPoint,
} from "../../../schemas/gen/ipc/chain.mp.ts";
import type { BumpFees } from "../mempool/mod.ts";
import type { BlockRef } from "../../../schemas/gen/ipc/common.mp.ts";
import type { Handler } from "../../../schemas/gen/ipc/handler.mp.ts";
import type { WalletLoader } from "../../../schemas/gen/ipc/wallet.mp.ts";
import type { IpcNode } from "./context.ts";
import { type ChainEvent, type DeliveryQueue, SubscriptionHandler } from "./notifications.ts";
import { blockInfo, blockRef, foundBlock, hashParam } from "./views.ts";
import { tellMockTime } from "./mock_time.ts";

/** `getBlocksSince` stops before its blocks exceed this many bytes. */
export const MAX_BLOCKS_SINCE_BYTES = 16 * 1024 * 1024;
/** The fee estimator's longest target (`CBlockPolicyEstimator` long horizon). */
const MAX_CONFIRMATION_TARGET = 1008;
/**
 * The most outpoints a bump fee query takes (and txids an ancestry one):
 * more than a standard transaction (400,000 weight units, 164 at least
 * per input) can spend.
 */
export const MAX_BUMP_OUTPOINTS = 10_000;
/** The most blocks one `blockFilterMatches` looks at (fewer when its work budget runs out). */
const MAX_FILTER_BLOCKS = 10_000;
/** What `sendrawtransaction` says of a transaction that does not decode. */
const TX_DECODE_FAILED = "TX decode failed. Make sure the tx has at least one input.";

/** The active chain's blocks `from`..`to`, lazily. */
function* activeBlocks(chain: ChainState, from: number, to: number): Generator<BlockEntry> {
  for (let height = from; height <= to; height++) yield chain.entryAtHeight(height)!;
}

/** One client's Chain object. */
export class ChainImpl implements Chain, Disposable {
  readonly #node: IpcNode;
  /** Subscriptions made through this object, for `waitForNotifications`. */
  readonly #queues = new Set<DeliveryQueue<ChainEvent>>();

  constructor(node: IpcNode) {
    this.#node = node;
  }

  getHeight(): number {
    return this.#node.chain.height;
  }

  getBlockHash(height: number): Uint8Array {
    const entry = this.#node.chain.entryAtHeight(height);
    if (entry === undefined) throw new Error("Block height out of range");
    return entry.hash;
  }

  getTip(): BlockRef {
    return blockRef(this.#node.chain.tip);
  }

  findBlock(hash: Uint8Array): FoundBlock | undefined {
    const { chain } = this.#node;
    const entry = chain.entry(hashParam(hash, "findBlock: hash"));
    if (entry === undefined) return undefined;
    return foundBlock(entry, chain.medianTimePast(entry), chain.isActive(entry));
  }

  findLocatorFork(locator: Uint8Array[]): number | undefined {
    const { chain } = this.#node;
    for (const hash of locator) {
      const entry = chain.entry(hashParam(hash, "findLocatorFork: each hash"));
      if (entry !== undefined && chain.isActive(entry)) return entry.height;
    }
    return undefined;
  }

  getBlock(hash: Uint8Array): BlockInfo | undefined {
    const { chain } = this.#node;
    const entry = chain.entry(hashParam(hash, "getBlock: hash"));
    const block = entry && chain.readBlock(entry.hash);
    return block && blockInfo(entry!, block);
  }

  getBlockAtHeight(height: number): BlockInfo | undefined {
    const { chain } = this.#node;
    const entry = chain.entryAtHeight(height);
    const block = entry && chain.readBlock(entry.hash);
    return block && blockInfo(entry!, block);
  }

  getBlocksSince(height: number, maxCount: number): BlockInfo[] {
    const { chain } = this.#node;
    const blocks: BlockInfo[] = [];
    let bytes = 0;
    for (let h = Math.max(height + 1, 0); h <= chain.height && blocks.length < maxCount; h++) {
      const entry = chain.entryAtHeight(h)!;
      const data = chain.readBlockBytes(entry.hash);
      if (data === undefined) break;
      bytes += data.length;
      if (blocks.length > 0 && bytes > MAX_BLOCKS_SINCE_BYTES) break;
      blocks.push(blockInfo(entry, decodeBlock(data)));
    }
    return blocks;
  }

  isInitialBlockDownload(): boolean {
    return this.#node.isInitialBlockDownload();
  }

  isInMempool(txid: Uint8Array): boolean {
    return this.#node.mempool.has(hashParam(txid, "isInMempool: txid"));
  }

  broadcastTransaction(tx: Uint8Array, maxTxFee: bigint): { error: string; result: boolean } {
    const { mempool } = this.#node;
    let decoded: Tx;
    try {
      decoded = decodeTx(tx);
    } catch {
      return { error: TX_DECODE_FAILED, result: false };
    }
    // Core's BroadcastTransaction limits the absolute fee (max_tx_fee), not the rate.
    const outcome = mempool.accept(decoded, { maxFee: maxTxFee });
    if (outcome.accepted) return { error: "", result: true };
    return { error: outcome.reject?.message ?? "rejected", result: false };
  }

  estimateSmartFee(numBlocks: number, _conservative: boolean) {
    // Core's estimator with no history: targets it covers come back as 0.
    const covered = numBlocks > 0 && numBlocks <= MAX_CONFIRMATION_TARGET;
    return { result: 0n, returnedTarget: covered ? 0 : numBlocks };
  }

  relayMinFee(): bigint {
    return this.#node.mempool.policy.minRelayFeeRate;
  }

  hasDescendantsInMempool(txid: Uint8Array): boolean {
    // The entry counts itself among its descendants.
    return (this.#node.mempool.get(hashParam(txid, "hasDescendantsInMempool: txid"))
      ?.descendantCount ?? 1) > 1;
  }

  mempoolMinFee(): bigint {
    return this.#node.mempool.minFeeRate();
  }

  relayIncrementalFee(): bigint {
    return this.#node.mempool.policy.incrementalRelayFeeRate;
  }

  relayDustFee(): bigint {
    return this.#node.mempool.policy.dustRelayFeeRate;
  }

  getTransactionAncestry(txids: Uint8Array[]): { ancestors: number; descendants: number }[] {
    if (txids.length > MAX_BUMP_OUTPOINTS) {
      throw new Error(
        `getTransactionAncestry: ${txids.length} txids, at most ${MAX_BUMP_OUTPOINTS}`,
      );
    }
    const { mempool } = this.#node;
    return txids.map((txid) => mempool.ancestry(hashParam(txid, "getTransactionAncestry: txid")));
  }

  getPackageLimits(): { ancestors: number; descendants: number } {
    const { policy } = this.#node.mempool;
    return { ancestors: policy.ancestorCount, descendants: policy.descendantCount };
  }

  checkChainLimits(tx: Uint8Array): { error: string; result: boolean } {
    let decoded: Tx;
    try {
      decoded = decodeTx(tx);
    } catch (error) {
      throw new Error(`checkChainLimits: tx does not decode: ${(error as Error).message}`);
    }
    const error = this.#node.mempool.checkChainLimits(decoded);
    return { error: error ?? "", result: error === null };
  }

  getSetting(name: string): string {
    const { settings } = this.#node;
    // A secret of the node's (-rpcpassword) is no wallet's to read.
    if (settings.spec(name)?.sensitive) throw new Error(`getSetting: -${name} is not told`);
    return JSON.stringify(settings.setting(name) ?? null);
  }

  calculateIndividualBumpFees(outpoints: ChainOutPoint[], feeRate: bigint): bigint[] {
    return this.#bumpFees("calculateIndividualBumpFees", outpoints, feeRate)?.individual ?? [];
  }

  calculateCombinedBumpFee(outpoints: ChainOutPoint[], feeRate: bigint): bigint | undefined {
    return this.#bumpFees("calculateCombinedBumpFee", outpoints, feeRate)?.combined;
  }

  blockFilterMatches(
    fromHeight: number,
    toHeight: number,
    scripts: Uint8Array[],
  ): FilterMatches | undefined {
    const { chain, blockFilterIndex } = this.#node;
    if (!blockFilterIndex || scripts.length > MATCH_BUDGET) return undefined;
    if (fromHeight < 0) throw new Error(`blockFilterMatches: fromHeight ${fromHeight} is negative`);
    const last = Math.min(toHeight, chain.height, fromHeight + MAX_FILTER_BLOCKS - 1);
    const previousHash = chain.entryAtHeight(fromHeight - 1)?.hash ?? new Uint8Array();
    if (last < fromHeight) {
      return {
        heights: [],
        lastHeight: fromHeight - 1,
        hashes: [],
        lastHash: previousHash,
        previousHash,
      };
    }
    const found = blockFilterIndex.match(activeBlocks(chain, fromHeight, last), scripts);
    return found && {
      heights: found.matching.map((entry) => entry.height),
      lastHeight: found.last.height,
      hashes: found.matching.map((entry) => entry.hash),
      lastHash: found.last.hash,
      previousHash,
    };
  }

  handleNotifications(notifications: ChainNotifications | null): Handler {
    if (notifications === null) throw new Error("handleNotifications: notifications is null");
    this.#forgetClosed();
    const queue = this.#node.hub.addChainSubscriber(dup(notifications));
    this.#queues.add(queue);
    return new SubscriptionHandler(queue);
  }

  async requestMempoolTransactions(notifications: ChainNotifications | null): Promise<void> {
    if (notifications === null) {
      throw new Error("requestMempoolTransactions: notifications is null");
    }
    for (const entry of this.#node.mempool.entries()) {
      await notifications.transactionAddedToMempool(encodeTx(entry.tx));
    }
  }

  async waitForNotifications(): Promise<void> {
    this.#forgetClosed();
    await Promise.all([...this.#queues].map((queue) => queue.flushed()));
  }

  async waitForNotificationsIfTipChanged(oldTip: Uint8Array): Promise<void> {
    if (bytesEqual(oldTip, this.#node.chain.tip.hash)) return;
    await this.waitForNotifications();
  }

  async handleWalletLoader(loader: WalletLoader | null): Promise<Handler> {
    if (loader === null) throw new Error("handleWalletLoader: loader is null");
    // As Core's setmocktime holds every chain client's clock: a wallet process attaching takes
    // the node's time (held, or the system's) before any call is routed to it, again if a
    // setmocktime came meanwhile (checked and added in one turn: none can slip in between).
    let told: number | undefined;
    for (let mocked = this.#node.mockTime(); mocked !== told; mocked = this.#node.mockTime()) {
      await tellMockTime(loader, mocked, this.#node.log);
      told = mocked;
    }
    return this.#node.wallets.add(dup(loader));
  }

  /** Released: subscriptions live on with their handlers. */
  [Symbol.dispose](): void {
    this.#queues.clear();
  }

  #bumpFees(
    method: string,
    outpoints: readonly ChainOutPoint[],
    feeRate: bigint,
  ): BumpFees | null {
    // More than any standard transaction spends: refused before any work.
    if (outpoints.length > MAX_BUMP_OUTPOINTS) {
      throw new Error(`${method}: ${outpoints.length} outpoints, at most ${MAX_BUMP_OUTPOINTS}`);
    }
    return this.#node.mempool.bumpFees(
      outpoints.map((o) => ({ txid: hashParam(o.txid, `${method}: txid`), index: o.vout })),
      feeRate,
    );
  }

  #forgetClosed(): void {
    for (const queue of this.#queues) if (queue.closed) this.#queues.delete(queue);
  }
}
