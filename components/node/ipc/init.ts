/**
 * The node's bootstrap object, Bitcoin Core's `Init` followed by this
 * project's methods (`schemas/ipc/init.capnp`), built by
 * {@linkcode nodeInit} from the node's chain, mempool and hooks.
 *
 * - `makeEcho` @1: an `Echo` that returns its text.
 * - `makeMining` @2: Bitcoin Core v30.0's `Mining` (see `mining.ts`).
 * - `makeMiningNext` @3: refused with an error naming the interface this
 *   node serves. Master's Mining reuses v30.0's ordinals from @4 on with
 *   other parameters (its `createNewBlock` @4 takes a Context, its
 *   `BlockTemplate` @6/@9/@10 are other methods), and a call carries only
 *   the ordinal: serving it with v30.0's objects would answer a master
 *   client's calls with the wrong methods, silently.
 * - `makeRpc` @4: JSON-RPC over IPC through the `executeRpc` hook; without
 *   one, an error saying so.
 * - `makeChain` @5 and `makeNode` @6: `chain.ts`, `node.ts`.
 * - `makeWalletLoader` @7: refused ({@linkcode WALLET_LOADER_UNSUPPORTED});
 *   a wallet process serves it, and registers its loader with the node
 *   through `Chain.handleWalletLoader` (`components/rpc/wallet_router.ts`).
 * - `setWalletSpawner` @8: keeps the launcher's way to start a wallet
 *   process when `createwallet`/`loadwallet` find none (`components/rpc/wallet_router.ts`).
 * - `setNotifier` @9: the launcher's notifier, which runs the user's
 *   notification commands for the node (`components/notify/`); refused
 *   when the node was given no place for it (`notifications`).
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
 *   if (await init.makeEcho().echo("hello") !== "hello") throw new Error("echo");
 *   if (await init.makeNode().getNumBlocks() !== 0) throw new Error("genesis only");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import {
  type BlockAssembly,
  type BlockFilterIndex,
  type ChainState,
  DEFAULT_BLOCK_ASSEMBLY,
} from "../chain/mod.ts";
import type { Mempool } from "../mempool/mod.ts";
import type { Init } from "../../../schemas/gen/ipc/init.mp.ts";
import type { Echo } from "../../../schemas/gen/ipc/echo.mp.ts";
import type { Rpc } from "../../../schemas/gen/ipc/rpc.mp.ts";
import type { Mining } from "../../../schemas/gen/ipc/mining.mp.ts";
import type { Chain } from "../../../schemas/gen/ipc/chain.mp.ts";
import type { Node } from "../../../schemas/gen/ipc/node.mp.ts";
import type { WalletSpawner } from "../../../schemas/gen/ipc/wallet.mp.ts";
import type { Notifier } from "../../../schemas/gen/ipc/notify.mp.ts";
import type { NotifierOutbox } from "../../notify/outbox.ts";
import { ChainImpl } from "./chain.ts";
import { LocalEcho } from "./echo.ts";
import { type IpcNode, type NodeSettings, TemplateAllowance } from "./context.ts";
import { initialBlockDownload } from "./ibd.ts";
import { MiningImpl } from "./mining.ts";
import { NodeImpl } from "./node.ts";
import { DEFAULT_MAX_QUEUED_NOTIFICATION_BYTES, NotificationHub } from "./notifications.ts";
import { TipWatch } from "./watch.ts";
import { WalletRouter } from "../../rpc/wallet_router.ts";

/**
 * Runs one JSON-RPC request: `request` is its JSON text, `uri` the HTTP
 * path (`/` or `/wallet/<name>`), `user` the authenticated user; resolves
 * with the reply's JSON text as the HTTP server would send it.
 */
export type ExecuteRpc = (request: string, uri: string, user: string) => Promise<string>;

/** The error `makeMiningNext` (@3) answers with. */
export const MINING_NEXT_UNSUPPORTED =
  "makeMining @3 (the mining interface of Bitcoin Core after v30) is not served: this node " +
  "serves Bitcoin Core v30.0's mining interface through makeMining @2; use v30.0's mining.capnp";

/** The error `makeRpc` (@4) answers with when no `executeRpc` hook was given. */
export const RPC_UNAVAILABLE = "makeRpc: this node serves no JSON-RPC over IPC";

/** Block templates that may be alive at once in one node (see `TemplateAllowance`). */
export const MAX_LIVE_TEMPLATES = 256;

/** What the node passes to {@linkcode nodeInit}. */
export interface NodeInitOptions {
  /** The chain, opened. */
  readonly chain: ChainState;
  /** The mempool, made on `chain` before this (so its removals for a block come first). */
  readonly mempool: Mempool;
  /** The block filter index (`-blockfilterindex`), for `Chain.blockFilterMatches`; none without. */
  readonly blockFilterIndex?: BlockFilterIndex;
  /** Asks the node to stop cleanly (`Node.startShutdown`); main.ts passes its `requestStop`. */
  readonly requestShutdown: () => void;
  /** The node's block assembly options; Core's defaults by default. */
  readonly blockAssembly?: BlockAssembly;
  /**
   * Aborted when the node is stopping: long waits end, subscribers are
   * released, `Node.shutdownRequested` turns true. Disposing the Init does
   * the same.
   */
  readonly stopping?: AbortSignal;
  /** Writes one line to the node's log (dropped subscribers, rejected solutions). */
  readonly log?: (line: string) => void;
  /** Serves `makeRpc`; without it `makeRpc` fails with {@linkcode RPC_UNAVAILABLE}. */
  readonly executeRpc?: ExecuteRpc;
  /** The node's initial-block-download check; a latched one on `chain` by default. */
  readonly isInitialBlockDownload?: () => boolean;
  /** Bytes of notifications a subscriber may have waiting before it is dropped. */
  readonly maxQueuedNotificationBytes?: number;
  /**
   * Where `Chain.handleWalletLoader` registers wallet processes (the node's
   * RPC routes to it); its giver shuts it down. By default one of its own,
   * let go when the node stops.
   */
  readonly wallets?: WalletRouter;
  /** Where the node's events wait for the notifier `setNotifier` hands it. */
  readonly notifications?: NotifierOutbox;
  /** The node's options, which `Chain.getSetting` reads; none set by default. */
  readonly settings?: NodeSettings;
  /**
   * The time `setmocktime` holds the node's clock at (0: none), which a
   * wallet process attaching is told first; none by default.
   */
  readonly mockTime?: () => number;
}

/** The error `makeWalletLoader` (@7) answers with: the node serves no wallets itself. */
export const WALLET_LOADER_UNSUPPORTED =
  "makeWalletLoader: a node serves no wallets; a wallet process serves it (components/wallet)";

/** The error `setNotifier` (@9) answers with when the node keeps no notifications. */
export const NOTIFIER_UNSUPPORTED = "setNotifier: this node runs no notification commands";

/** The node's Init: serve it with `listen`/`serve`; dispose it when the node stops. */
export interface NodeInit extends Init, Disposable {
  makeEcho(): Echo;
  makeMining(): Mining;
  makeMiningNext(): never;
  makeRpc(): Rpc;
  makeChain(): Chain;
  makeNode(): Node;
  makeWalletLoader(): never;
  setWalletSpawner(spawner: WalletSpawner | null): void;
  setNotifier(notifier: Notifier | null): void;
  /** Long waits (`waitTipChanged`, `waitNext` ticks) in progress. */
  readonly waits: number;
  /** Block templates alive (bounded by {@linkcode MAX_LIVE_TEMPLATES}). */
  readonly liveTemplates: number;
  /** Notification subscribers registered (chain and tip). */
  readonly subscribers: number;
  /** Settles once every subscriber has the notifications queued for it before the call. */
  notificationsFlushed(): Promise<void>;
}

class RpcImpl implements Rpc {
  readonly #execute: ExecuteRpc;

  constructor(execute: ExecuteRpc) {
    this.#execute = execute;
  }

  executeRpc(request: string, uri: string, user: string): Promise<string> {
    return this.#execute(request, uri, user);
  }
}

/** Builds the node's Init from its chain, mempool and hooks. */
export function nodeInit(options: NodeInitOptions): NodeInit {
  const { chain, mempool, executeRpc } = options;
  const log = options.log ?? (() => {});
  const stopped = new AbortController();
  const stopping = options.stopping
    ? AbortSignal.any([options.stopping, stopped.signal])
    : stopped.signal;
  const isInitialBlockDownload = options.isInitialBlockDownload ?? initialBlockDownload(chain);
  let shutdownAsked = false;
  // A router handed in is its giver's to shut down (the node tells its wallets, `main.ts`).
  const ownWallets = options.wallets === undefined ? new WalletRouter() : null;
  const node: IpcNode = {
    chain,
    mempool,
    blockFilterIndex: options.blockFilterIndex,
    watch: new TipWatch(chain),
    hub: new NotificationHub(chain, mempool, {
      isInitialBlockDownload,
      maxQueuedBytes: options.maxQueuedNotificationBytes ?? DEFAULT_MAX_QUEUED_NOTIFICATION_BYTES,
      log,
    }),
    blockAssembly: options.blockAssembly ?? DEFAULT_BLOCK_ASSEMBLY,
    templates: new TemplateAllowance(MAX_LIVE_TEMPLATES),
    wallets: ownWallets ?? options.wallets!,
    settings: options.settings ?? { setting: () => undefined, spec: () => undefined },
    isInitialBlockDownload,
    mockTime: options.mockTime ?? (() => 0),
    stopping,
    log,
    requestShutdown() {
      shutdownAsked = true;
      options.requestShutdown();
    },
    shutdownRequested: () => shutdownAsked || stopping.aborted,
  };
  const stop = () => {
    node.watch[Symbol.dispose]();
    node.hub[Symbol.dispose]();
    ownWallets?.[Symbol.dispose]();
  };
  if (stopping.aborted) stop();
  else stopping.addEventListener("abort", stop, { once: true });
  return {
    makeEcho: () => new LocalEcho(),
    makeMining: () => new MiningImpl(node),
    makeMiningNext: () => {
      throw new Error(MINING_NEXT_UNSUPPORTED);
    },
    makeRpc: () => {
      if (executeRpc === undefined) throw new Error(RPC_UNAVAILABLE);
      return new RpcImpl(executeRpc);
    },
    makeChain: () => new ChainImpl(node),
    makeNode: () => new NodeImpl(node),
    makeWalletLoader: () => {
      throw new Error(WALLET_LOADER_UNSUPPORTED);
    },
    setWalletSpawner: (spawner) => {
      if (spawner === null) throw new Error("setWalletSpawner: spawner is null");
      node.wallets.useSpawner(spawner);
    },
    setNotifier: (notifier) => {
      if (notifier === null) throw new Error("setNotifier: notifier is null");
      if (options.notifications === undefined) throw new Error(NOTIFIER_UNSUPPORTED);
      options.notifications.use(notifier);
    },
    get waits() {
      return node.watch.waiting;
    },
    get liveTemplates() {
      return node.templates.live;
    },
    get subscribers() {
      return node.hub.subscribers;
    },
    notificationsFlushed: () => node.hub.flushed(),
    [Symbol.dispose]: () => stopped.abort(),
  };
}
