/**
 * What every IPC object of one node shares: the chain and mempool it
 * serves, the watchers built on them, and the node's hooks. Made once by
 * `nodeInit` and handed to each object it creates.
 *
 * @module
 */
import type { BlockAssembly, BlockFilterIndex, ChainState } from "../chain/mod.ts";
import type { Mempool } from "../mempool/mod.ts";
import type { NotificationHub } from "./notifications.ts";
import type { TipWatch } from "./watch.ts";
import type { WalletRouter } from "../../rpc/wallet_router.ts";
import type { Args } from "../args.ts";

/** The node's settings as its IPC objects read them: Core's `GetSetting`, and each option's spec. */
export type NodeSettings = Pick<Args, "setting" | "spec">;

/** The node as its IPC objects see it. */
export interface IpcNode {
  readonly chain: ChainState;
  readonly mempool: Mempool;
  /** The block filter index (`-blockfilterindex`), if kept. */
  readonly blockFilterIndex?: BlockFilterIndex;
  /** Wakes long waits when the tip changes. */
  readonly watch: TipWatch;
  /** Delivers chain notifications to subscribers. */
  readonly hub: NotificationHub;
  /** The node's `-blockmaxweight`, `-blockreservedweight` and `-blockversion`. */
  readonly blockAssembly: BlockAssembly;
  /** Block templates alive in this node, bounded. */
  readonly templates: TemplateAllowance;
  /** The attached wallet processes, for the node's JSON-RPC. */
  readonly wallets: WalletRouter;
  /** The node's options, for `Chain.getSetting`. */
  readonly settings: NodeSettings;
  readonly isInitialBlockDownload: () => boolean;
  /** The time `setmocktime` holds the node's clock at, or 0 when it follows the system's. */
  readonly mockTime: () => number;
  /** Aborted when the node stops: every long wait ends. */
  readonly stopping: AbortSignal;
  /** Writes one line to the node's log. */
  readonly log: (line: string) => void;
  /** Asks the node to stop. */
  requestShutdown(): void;
  /** Whether a stop was asked for. */
  shutdownRequested(): boolean;
}

/**
 * A bound on the block templates alive at once: each holds a block, and
 * clients that never destroy theirs must not grow the node without bound.
 */
export class TemplateAllowance {
  /** Templates that may be alive at once. */
  readonly max: number;
  #live = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Templates alive now. */
  get live(): number {
    return this.#live;
  }

  /** Counts one more template; throws a one-line error once `max` are alive. */
  take(): void {
    if (this.#live >= this.max) {
      throw new Error(
        `too many block templates in use (${this.max}): destroy templates no longer needed`,
      );
    }
    this.#live++;
  }

  /** Counts one template gone. */
  give(): void {
    this.#live--;
  }
}
