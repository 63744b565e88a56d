/**
 * What the node's RPC methods work on: the chain, the mempool, the block
 * assembler's memory of the last block it built, the network state without
 * peers (the ban list, the `addnode` list), and the state Core derives
 * from the chain for `getblockchaininfo` — whether the node is in initial
 * block download (latched off for good once a block newer than 24 hours is
 * the tip, as `IsInitialBlockDownload` does) and the verification progress
 * estimate (`GuessVerificationProgress` with regtest's chain statistics).
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { NodeServices } from "./services.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   const node = new NodeServices({ chain, mempool });
 *   // A fresh regtest chain's tip is the 2011 genesis block: initial block download.
 *   if (!node.isInitialBlockDownload()) throw new Error("expected IBD");
 *   if (!(node.verificationProgress(chain.tip) < 1e-5)) throw new Error("progress");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import {
  type BlockAssembly,
  type BlockEntry,
  type BlockFilterIndex,
  type ChainState,
  DEFAULT_BLOCK_ASSEMBLY,
  type Hash,
  hashToHex,
  type TxIndex,
} from "../chain/mod.ts";
import { type IbdOptions, initialBlockDownload } from "../ipc/ibd.ts";
import { TipWatch } from "../ipc/watch.ts";
import type { ZmqNotifier } from "../zmq/options.ts";
import { WalletRouter } from "../../rpc/wallet_router.ts";
import type { MockableClock } from "../../bitcoin/clock.ts";
import { expiry } from "../../rpc/expiry.ts";
import { tellMockTime } from "../ipc/mock_time.ts";
import type { Mempool } from "../mempool/mod.ts";
import { BanMan, Connman } from "../net/mod.ts";
import { DEFAULT_NET_OPTIONS, type NetOptions } from "../net/options.ts";
import { Warnings } from "../warnings.ts";
/** Regtest's `nPowTargetSpacing`. */
const TARGET_SPACING = 10 * 60;
/** Regtest's `ChainTxData`: no reference point, 0.001 transactions per second. */
const CHAIN_TX_DATA = { time: 0, txCount: 0, txRate: 0.001 };

/** What the block assembler last built (`BlockAssembler::m_last_block_*`). */
export interface AssembledBlock {
  /** Weight including the 8,000 reserved for header, counts and coinbase. */
  readonly weight: number;
  /** Transactions besides the coinbase. */
  readonly txCount: number;
}

/** The node log's debug categories, as the `logging` method reads and sets them. */
export interface LogCategories {
  /** Every category, sorted, and whether its debug lines are logged. */
  categories(): [string, boolean][];
  /** Turns a category (or every one, for `all`/`1`) on or off; false for an unknown one. */
  setCategory(name: string, enabled: boolean): boolean;
}

/** The parts the methods use. */
export interface NodeParts {
  readonly chain: ChainState;
  readonly mempool: Mempool;
  /** The transaction index (`-txindex`), if kept. */
  readonly txindex?: TxIndex;
  /** The basic block filter index (`-blockfilterindex`), if kept. */
  readonly blockFilterIndex?: BlockFilterIndex;
  /**
   * The clock the chain was opened with, which `setmocktime` holds (and
   * tells the wallet processes of); without it, `setmocktime` is refused
   * and the time is the chain's.
   */
  readonly clock?: MockableClock;
  /** `-blocksonly`: transactions from peers are not asked for (`getnetworkinfo`'s `localrelay`). */
  readonly blocksOnly?: boolean;
  /** Aborted once the node is stopping (Core's `m_interrupt`); never, by default. */
  readonly stopping?: AbortSignal;
  /** Where `savemempool` writes (`<datadir>/regtest/mempool.dat`); none: it refuses. */
  readonly mempoolFile?: string;
  /**
   * A directory the node's sandbox lets it read in every mode
   * (`<datadir>/regtest`), named in the log when `importmempool` is
   * refused a file outside what it may read.
   */
  readonly readableDir?: string;
  /**
   * The network data directory (`<datadir>/regtest`, Core's
   * `GetDataDirNet`), against which `dumptxoutset` and `loadtxoutset`
   * resolve relative paths; the working directory when none.
   */
  readonly netDir?: string;
  /** Writes an unconditional line to the node's log (verifychain, prioritisetransaction). */
  readonly log?: (message: string) => void;
  /** The log's categories, for `logging`; none: it refuses. */
  readonly logCategories?: LogCategories;
  /** The deprecated behaviours `-deprecatedrpc` turns back on (`warnings`); none by default. */
  readonly deprecatedRpc?: readonly string[];
  /** `-walletrbf`: whether wallet sends signal BIP 125 when the call does not say; true by default. */
  readonly walletRbf?: boolean;
  /** The ban list (`setban`, `listbanned`); by default one kept in memory only. */
  readonly banman?: BanMan;
  /** The `addnode` list and network-active switch; by default a new one. */
  readonly connman?: Connman;
  /** What the peer-to-peer options come to (`-uacomment`, `-onlynet`, ...); Core's defaults by default. */
  readonly net?: NetOptions;
  /** `-blockmaxweight`, `-blockreservedweight`, `-blockversion`; Core's defaults by default. */
  readonly blockAssembly?: BlockAssembly;
  /** `-minimumchainwork` and `-maxtipage`; regtest's defaults by default. */
  readonly ibd?: IbdOptions;
  /** The ZMQ notifications publishing (`getzmqnotifications`); none without `-zmqpub…`. */
  readonly zmq?: { readonly active: readonly ZmqNotifier[] };
}

/** The node as the RPC methods see it. */
export class NodeServices {
  readonly chain: ChainState;
  readonly mempool: Mempool;
  readonly txindex: TxIndex | undefined;
  readonly blockFilterIndex: BlockFilterIndex | undefined;
  readonly mempoolFile: string | undefined;
  readonly readableDir: string | undefined;
  /** Where relative `dumptxoutset`/`loadtxoutset` paths resolve (`<datadir>/regtest`); none: the working directory. */
  readonly netDir: string | undefined;
  readonly log: (message: string) => void;
  readonly logCategories: LogCategories | undefined;
  /** `-deprecatedrpc`: the deprecated behaviours turned back on. */
  readonly deprecatedRpc: ReadonlySet<string>;
  /** `-walletrbf`, for the wallet requests the node builds (fundrawtransaction's, sendall's, ...). */
  readonly walletRbf: boolean;
  /** The ban list (`setban`, `listbanned`, `clearbanned`). */
  readonly banman: BanMan;
  /** The `addnode` list and whether network activity is on (`setnetworkactive`). */
  readonly connman: Connman;
  /** The user agent, networks and upload target the peer-to-peer options set. */
  readonly net: NetOptions;
  /** How the node assembles blocks (`generate*`, `generateblock`, `getblocktemplate`). */
  readonly blockAssembly: BlockAssembly;
  /** The ZMQ notifiers publishing. */
  readonly zmqNotifiers: () => readonly ZmqNotifier[];
  /** The attached wallet processes: the wallet methods route to them, `Chain.handleWalletLoader` adds them. */
  readonly wallets: WalletRouter = new WalletRouter();
  /** The warnings the node raised (the RPCs' `warnings`), kept until it stops. */
  readonly warnings: Warnings = new Warnings();
  /** Set by every block assembly (`generate*`, `generateblock`, `getblocktemplate`). */
  lastAssembled: AssembledBlock | undefined;
  /**
   * `IsInitialBlockDownload`: true until a tip with `-minimumchainwork` and
   * within `-maxtipage` (24 hours) of now; then false for good.
   */
  readonly isInitialBlockDownload: () => boolean;
  readonly #clock: MockableClock | undefined;
  /** What syncwithvalidationinterfacequeue waits for (the IPC subscribers' queues). */
  readonly #notificationQueues = new Set<() => Promise<void>>();
  /** `-blocksonly`: transactions from peers are not asked for. */
  readonly blocksOnly: boolean;
  /** Aborted once the node is stopping: long work (`generate*`) ends there, as Core's `m_interrupt`. */
  readonly stopping: AbortSignal;
  readonly #txCounts = new Map<string, number>();

  /** Wraps the parts. */
  constructor(parts: NodeParts) {
    this.chain = parts.chain;
    this.mempool = parts.mempool;
    this.txindex = parts.txindex;
    this.blockFilterIndex = parts.blockFilterIndex;
    this.mempoolFile = parts.mempoolFile;
    this.readableDir = parts.readableDir;
    this.netDir = parts.netDir;
    this.log = parts.log ?? (() => {});
    this.logCategories = parts.logCategories;
    this.deprecatedRpc = new Set(parts.deprecatedRpc);
    this.walletRbf = parts.walletRbf ?? true;
    this.#clock = parts.clock;
    this.blocksOnly = parts.blocksOnly ?? false;
    this.stopping = parts.stopping ?? new AbortController().signal;
    this.banman = parts.banman ?? new BanMan({ now: () => this.now() });
    this.connman = parts.connman ?? new Connman({ log: this.log });
    this.net = parts.net ?? DEFAULT_NET_OPTIONS;
    this.blockAssembly = parts.blockAssembly ?? DEFAULT_BLOCK_ASSEMBLY;
    this.zmqNotifiers = () => parts.zmq?.active ?? [];
    this.isInitialBlockDownload = initialBlockDownload(parts.chain, parts.ibd);
  }

  /** The current time in UNIX seconds. */
  now(): number {
    return this.chain.now();
  }

  /**
   * Registers a queue of notifications that {@linkcode syncNotifications}
   * waits for (`flushed` settles once what it held is delivered); disposing
   * the result takes it back.
   */
  addNotificationQueue(flushed: () => Promise<void>): Disposable {
    this.#notificationQueues.add(flushed);
    return { [Symbol.dispose]: () => void this.#notificationQueues.delete(flushed) };
  }

  /**
   * Core's `SyncWithValidationInterfaceQueue`: true once each queue
   * registered has delivered what it held at the call; false when that
   * takes longer than `timeoutMs` (a subscriber not taking them: unlike
   * Core's, the caller is not held for good).
   */
  async syncNotifications(timeoutMs: number): Promise<boolean> {
    using late = expiry(timeoutMs);
    const flushed = Promise.all([...this.#notificationQueues].map((flushed) => flushed()));
    return await Promise.race([flushed.then(() => true), late.expired.then(() => false)]);
  }

  /** The time `setmocktime` holds the node's clock at, or 0 when it follows the system's. */
  mockTime(): number {
    return this.#clock?.mocked ?? 0;
  }

  /**
   * Core's `setmocktime`: holds the node's clock at `seconds` (0: the
   * system's time again) and tells each attached wallet process's (Core's
   * `ChainClient::setMockTime`); a wallet process that cannot be told is
   * logged, not failed on. Throws a RangeError outside Core's range.
   */
  async setMockTime(seconds: number): Promise<void> {
    if (this.#clock === undefined) throw new Error("this node's clock cannot be mocked");
    this.#clock.setMockTime(seconds);
    await Promise.all(
      this.wallets.loaders.map((loader) => tellMockTime(loader, seconds, this.log)),
    );
  }

  /**
   * Core's `Mining::waitTipChanged`, which its RPC waits use: the tip once
   * the kernel's last `blockTip` is not `current` (at once when it already
   * is not; {@linkcode TipWatch}), the tip when `timeoutMs` passes (0: no
   * timeout), or undefined when `signal` aborts (shutdown).
   */
  async waitTipChanged(
    current: Hash,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<BlockEntry | undefined> {
    using watch = new TipWatch(this.chain);
    await watch.changedFrom(current, timeoutMs > 0 ? timeoutMs : Infinity, signal);
    return signal.aborted ? undefined : this.chain.tip;
  }

  /** Transactions in the chain up to and including `entry` (`m_chain_tx_count`). */
  chainTxCount(entry: BlockEntry): number {
    const pending: BlockEntry[] = [];
    let cursor: BlockEntry | undefined = entry;
    let base = 0;
    while (cursor) {
      const known = this.#txCounts.get(hashToHex(cursor.hash));
      if (known !== undefined) {
        base = known;
        break;
      }
      pending.push(cursor);
      cursor = cursor.prev;
    }
    for (const e of pending.reverse()) {
      base += e.txCount;
      this.#txCounts.set(hashToHex(e.hash), base);
    }
    return base;
  }

  /**
   * `GuessVerificationProgress`: transactions validated over those expected
   * by now; a tip within two hours of now counts by height against the
   * best header instead of by its own time.
   */
  verificationProgress(entry: BlockEntry): number {
    const count = this.chainTxCount(entry);
    if (count === 0) return 0;
    const now = this.now();
    const best = this.chain.tip;
    const blockTime =
      Math.abs(now - entry.header.time) <= 2 * 60 * 60 && best.height >= entry.height
        ? now - (best.height - entry.height) * TARGET_SPACING
        : entry.header.time;
    const total = count <= CHAIN_TX_DATA.txCount
      ? CHAIN_TX_DATA.txCount + (now - CHAIN_TX_DATA.time) * CHAIN_TX_DATA.txRate
      : count + (now - blockTime) * CHAIN_TX_DATA.txRate;
    return Math.min(count / total, 1);
  }
}
