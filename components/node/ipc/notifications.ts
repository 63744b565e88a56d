/**
 * Chain and mempool notifications for IPC subscribers (`Chain.handleNotifications`,
 * `Node.handleNotifyBlockTip`).
 *
 * One {@linkcode NotificationHub} follows the chain and the mempool and
 * turns each event into its IPC form once; every subscriber gets a
 * {@linkcode DeliveryQueue} that calls it one event at a time, in the order
 * the events happened. A queue is bounded in bytes: a subscriber that falls
 * further behind (slow, or never answering) is dropped with a log line
 * instead of growing the node's memory; one whose call fails (its process
 * went away) is dropped too. Deliveries run on the hub's own strand, so
 * each subscriber's connection sees them on one thread of its own, as
 * Bitcoin Core's validation interface calls from its scheduler thread.
 *
 * As in Core, `ChainNotifications.updatedBlockTip` follows the validation
 * interface's `UpdatedBlockTip`: once per iteration of `ActivateBestChain`
 * that moved the tip on (a reconnection of two blocks tells it twice, a
 * reorganisation of one step once), during initial block download too,
 * and not for the tip `invalidateblock` leaves. A `NotifyBlockTipCallback`
 * follows the kernel's `blockTip` (`uiInterface.NotifyBlockTip`): the same
 * iterations, and the tip `invalidateblock` leaves.
 *
 * @example
 * ```ts
 * import { DeliveryQueue } from "./notifications.ts";
 * const seen: number[] = [];
 * const queue = new DeliveryQueue<number>("counter", async (n) => {
 *   seen.push(n);
 * }, { maxQueuedBytes: 1024, log: () => {} });
 * queue.push(1, 8);
 * queue.push(2, 8);
 * await queue.flushed();
 * if (seen.join() !== "1,2") throw new Error("in order");
 * ```
 * @module
 */
import { release, Strand } from "../../../component.ts";
import { blockTipListener, type ChainState, encodeTx } from "../chain/mod.ts";
import type { Mempool, RemovalReason } from "../mempool/mod.ts";
import type {
  BlockInfo,
  ChainNotifications,
  MempoolRemovalReason,
} from "../../../schemas/gen/ipc/chain.mp.ts";
import type { Handler } from "../../../schemas/gen/ipc/handler.mp.ts";
import type {
  BlockTip,
  NotifyBlockTipCallback,
  SyncState,
} from "../../../schemas/gen/ipc/node.mp.ts";
import { blockInfo, blockInfoBytes, blockTip } from "./views.ts";

/** Bytes of notifications a subscriber may have waiting before it is dropped. */
export const DEFAULT_MAX_QUEUED_NOTIFICATION_BYTES = 32 * 1024 * 1024;

/** What a queued event costs besides its payload. */
const EVENT_OVERHEAD_BYTES = 64;

/** How a {@linkcode DeliveryQueue} is bounded and reports. */
export interface DeliveryOptions {
  /** Bytes of undelivered events beyond which the subscriber is dropped. */
  readonly maxQueuedBytes: number;
  /** Writes one line to the node's log. */
  readonly log: (line: string) => void;
  /** Runs once when the queue closes, for whatever reason. */
  readonly onClose?: () => void;
}

/** The events of one subscriber, delivered one at a time in order. */
export class DeliveryQueue<E> implements Disposable {
  /** Names the subscriber in log lines. */
  readonly name: string;
  readonly #deliver: (event: E) => Promise<void>;
  readonly #options: DeliveryOptions;
  #events: { event: E; bytes: number }[] = [];
  #queuedBytes = 0;
  #pushed = 0;
  /** Events delivered, failed or discarded. */
  #settled = 0;
  #pumping = false;
  #closed = false;
  #flushWaiters: { upTo: number; resolve: () => void }[] = [];

  constructor(name: string, deliver: (event: E) => Promise<void>, options: DeliveryOptions) {
    this.name = name;
    this.#deliver = deliver;
    this.#options = options;
  }

  /** Whether the queue was closed (disconnected, released or dropped). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes of events waiting (the one being delivered included). */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Queues `event`, whose payload is `bytes` long; drops the subscriber past the bound. */
  push(event: E, bytes: number): void {
    if (this.#closed) return;
    const cost = bytes + EVENT_OVERHEAD_BYTES;
    if (this.#queuedBytes + cost > this.#options.maxQueuedBytes) {
      this.close(
        `more than ${this.#options.maxQueuedBytes} bytes of notifications waiting for it`,
      );
      return;
    }
    this.#events.push({ event, bytes: cost });
    this.#queuedBytes += cost;
    this.#pushed++;
    if (this.#pumping) return;
    // Started from a microtask: the chain or mempool announcing the event
    // has finished its change before any subscriber hears of it.
    this.#pumping = true;
    queueMicrotask(() => void this.#pump());
  }

  /** Settles once every event queued before the call is delivered, or the queue closed. */
  flushed(): Promise<void> {
    if (this.#closed || this.#settled >= this.#pushed) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push({ upTo: this.#pushed, resolve }));
  }

  /**
   * Stops delivery: nothing queued is delivered any more (a call already
   * on its way completes). With `reason`, logs that the subscriber was
   * dropped.
   */
  close(reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#events = [];
    this.#queuedBytes = 0;
    this.#settled = this.#pushed;
    this.#wakeFlushWaiters();
    if (reason !== undefined) this.#options.log(`IPC: dropped ${this.name}: ${reason}`);
    this.#options.onClose?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #pump(): Promise<void> {
    try {
      while (!this.#closed && this.#events.length > 0) {
        const { event, bytes } = this.#events[0];
        try {
          await this.#deliver(event);
        } catch (error) {
          this.close(`a notification failed: ${error instanceof Error ? error.message : error}`);
          return;
        }
        if (this.#closed) return;
        this.#events.shift();
        this.#queuedBytes -= bytes;
        this.#settled++;
        this.#wakeFlushWaiters();
      }
    } finally {
      this.#pumping = false;
    }
  }

  #wakeFlushWaiters(): void {
    const waiting = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const waiter of waiting) {
      if (this.#closed || this.#settled >= waiter.upTo) waiter.resolve();
      else this.#flushWaiters.push(waiter);
    }
  }
}

/** A chain or mempool event in the form `ChainNotifications` takes it. */
export type ChainEvent =
  | { readonly kind: "added"; readonly tx: Uint8Array }
  | { readonly kind: "removed"; readonly tx: Uint8Array; readonly reason: MempoolRemovalReason }
  | { readonly kind: "connected" | "disconnected"; readonly block: BlockInfo }
  | { readonly kind: "tip" };

/** A tip change in the form `NotifyBlockTipCallback` takes it. */
export interface TipEvent {
  readonly syncState: SyncState;
  readonly tip: BlockTip;
  readonly verificationProgress: number;
}

const REMOVAL_REASONS: Readonly<Record<RemovalReason, MempoolRemovalReason>> = {
  expiry: "expiry",
  sizelimit: "sizeLimit",
  reorg: "reorg",
  block: "block",
  conflict: "conflict",
  replaced: "replaced",
};

/** Calls the `ChainNotifications` method for `event`. */
async function notifyChain(target: ChainNotifications, event: ChainEvent): Promise<void> {
  switch (event.kind) {
    case "added":
      return await target.transactionAddedToMempool(event.tx);
    case "removed":
      return await target.transactionRemovedFromMempool(event.tx, event.reason);
    case "connected":
      return await target.blockConnected(event.block);
    case "disconnected":
      return await target.blockDisconnected(event.block);
    case "tip":
      return await target.updatedBlockTip();
  }
}

/** A registration: disconnecting or releasing it closes its queue. */
export class SubscriptionHandler implements Handler, Disposable {
  readonly #queue: { close(): void };

  constructor(queue: { close(): void }) {
    this.#queue = queue;
  }

  disconnect(): void {
    this.#queue.close();
  }

  [Symbol.dispose](): void {
    this.#queue.close();
  }
}

/** What the hub needs besides the chain and the mempool. */
export interface HubOptions {
  readonly isInitialBlockDownload: () => boolean;
  readonly maxQueuedBytes: number;
  readonly log: (line: string) => void;
}

/** Follows the chain and the mempool and fans their events out to subscribers. */
export class NotificationHub implements Disposable {
  readonly #options: HubOptions;
  readonly #chainQueues = new Set<DeliveryQueue<ChainEvent>>();
  readonly #tipQueues = new Set<DeliveryQueue<TipEvent>>();
  readonly #subscriptions: Disposable[];
  /** Deliveries run here: one thread per subscriber connection, as Core's scheduler thread. */
  readonly #strand = new Strand("notifications");
  #count = 0;

  constructor(chain: ChainState, mempool: Mempool, options: HubOptions) {
    this.#options = options;
    // The chain tells blocks connected after the mempool's removals for them and, in a
    // reorganisation, after its re-additions, and each iteration's new tip after its blocks:
    // Core's validation-interface order.
    this.#subscriptions = [
      chain.subscribe({
        blockConnected: ({ block, entry }) =>
          this.#toChain(() => {
            const info = blockInfo(entry, block);
            return [{ kind: "connected", block: info }, blockInfoBytes(info)];
          }),
        blockDisconnected: ({ block, entry }) =>
          this.#toChain(() => {
            const info = blockInfo(entry, block);
            return [{ kind: "disconnected", block: info }, blockInfoBytes(info)];
          }),
        // Core's NotificationsProxy: updatedBlockTip from each UpdatedBlockTip (an iteration of
        // ActivateBestChain that moved the tip on), in initial block download too; nothing for
        // the tip invalidateblock leaves.
        updatedBlockTip: () => this.#toChain(() => [{ kind: "tip" }, 0]),
      }),
      // Node.handleNotifyBlockTip: Core's uiInterface.NotifyBlockTip, told by the kernel's
      // blockTip, which invalidateblock tells as well.
      chain.subscribe(blockTipListener((tip) => {
        if (this.#tipQueues.size === 0) return;
        const event: TipEvent = {
          syncState: options.isInitialBlockDownload() ? "initDownload" : "postInit",
          tip: blockTip(tip),
          // What Core's GuessVerificationProgress gives on regtest (no chain
          // transaction statistics): every block known is verified.
          verificationProgress: 1,
        };
        for (const queue of this.#tipQueues) queue.push(event, 0);
      })),
      mempool.subscribe({
        added: (entry) =>
          this.#toChain(() => {
            const tx = encodeTx(entry.tx);
            return [{ kind: "added", tx }, tx.length];
          }),
        removed: (removedTx, reason) =>
          this.#toChain(() => {
            const tx = encodeTx(removedTx);
            return [{ kind: "removed", tx, reason: REMOVAL_REASONS[reason] }, tx.length];
          }),
      }),
    ];
  }

  /**
   * Delivers every later chain and mempool event to `target`, which the
   * hub keeps (pass a reference of your own: `dup()` a lent parameter) and
   * releases when the returned queue closes.
   */
  addChainSubscriber(target: ChainNotifications): DeliveryQueue<ChainEvent> {
    return this.#add(
      this.#chainQueues,
      "a ChainNotifications subscriber",
      target,
      (event) => notifyChain(target, event),
    );
  }

  /** Calls `callback` on every later tip change; kept and released as above. */
  addTipSubscriber(callback: NotifyBlockTipCallback): DeliveryQueue<TipEvent> {
    return this.#add(
      this.#tipQueues,
      "a NotifyBlockTipCallback subscriber",
      callback,
      async (event) => {
        await callback(event.syncState, event.tip, event.verificationProgress);
      },
    );
  }

  /**
   * Settles once every subscriber has been delivered each event queued for
   * it before the call (or was dropped): Core's
   * `SyncWithValidationInterfaceQueue`.
   */
  async flushed(): Promise<void> {
    await Promise.all([...this.#chainQueues, ...this.#tipQueues].map((queue) => queue.flushed()));
  }

  /** Subscribers now registered (chain and tip). */
  get subscribers(): number {
    return this.#chainQueues.size + this.#tipQueues.size;
  }

  /** Stops following the chain and mempool and closes every subscriber. */
  [Symbol.dispose](): void {
    for (const subscription of this.#subscriptions) subscription[Symbol.dispose]();
    for (const queue of [...this.#chainQueues, ...this.#tipQueues]) queue.close();
  }

  #add<E>(
    queues: Set<DeliveryQueue<E>>,
    what: string,
    target: unknown,
    deliver: (event: E) => Promise<void>,
  ): DeliveryQueue<E> {
    const queue: DeliveryQueue<E> = new DeliveryQueue(
      `${what} (#${++this.#count})`,
      (event) => this.#strand.run(() => deliver(event)),
      {
        maxQueuedBytes: this.#options.maxQueuedBytes,
        log: this.#options.log,
        onClose: () => {
          queues.delete(queue);
          release(target);
        },
      },
    );
    queues.add(queue);
    return queue;
  }

  /** Makes a chain event (only when someone listens) and queues it for every subscriber. */
  #toChain(make: () => [ChainEvent, number]): void {
    if (this.#chainQueues.size === 0) return;
    const [event, bytes] = make();
    for (const queue of this.#chainQueues) queue.push(event, bytes);
  }
}
