/**
 * The `Node` interface a user interface uses (`schemas/ipc/node.capnp`):
 * block count and tip, mempool size, a callback on every tip change, and
 * shutdown through the node's own stop.
 *
 * @module
 */
import { dup } from "../../../component.ts";
import type { BlockTip, Node, NotifyBlockTipCallback } from "../../../schemas/gen/ipc/node.mp.ts";
import type { Handler } from "../../../schemas/gen/ipc/handler.mp.ts";
import type { IpcNode } from "./context.ts";
import { SubscriptionHandler } from "./notifications.ts";
import { blockTip } from "./views.ts";

/** One client's Node object. */
export class NodeImpl implements Node {
  readonly #node: IpcNode;

  constructor(node: IpcNode) {
    this.#node = node;
  }

  getNumBlocks(): number {
    return this.#node.chain.height;
  }

  getBestBlockHash(): Uint8Array {
    return this.#node.chain.tip.hash;
  }

  getBlockTip(): BlockTip {
    return blockTip(this.#node.chain.tip);
  }

  getMempoolSize(): number {
    return this.#node.mempool.size;
  }

  isInitialBlockDownload(): boolean {
    return this.#node.isInitialBlockDownload();
  }

  handleNotifyBlockTip(callback: NotifyBlockTipCallback | null): Handler {
    if (callback === null) throw new Error("handleNotifyBlockTip: callback is null");
    return new SubscriptionHandler(this.#node.hub.addTipSubscriber(dup(callback)));
  }

  startShutdown(): void {
    this.#node.requestShutdown();
  }

  shutdownRequested(): boolean {
    return this.#node.shutdownRequested();
  }
}
