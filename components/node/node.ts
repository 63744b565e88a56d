/**
 * The node's parts put together, as `bitcoind -regtest` starts them: the
 * JSON-RPC server first (answering -28 `Loading block index…` while the
 * chain loads, unless `-server=0`), then the chain state under
 * `<datadir>/regtest`, the mempool following it, the ban list
 * (`regtest/banlist.json`), and every RPC method;
 * then warm-up ends. On stop the RPC server closes first (in-flight calls
 * answered, cookie removed), then the mempool and the chain.
 *
 * {@linkcode startNode} is what `main.ts` calls in `runNode`'s `start`. It
 * returns the {@linkcode NodeServices} (chain, mempool, the one
 * initial-block-download latch) and the JSON-RPC runner that `main.ts`
 * then serves over IPC as Bitcoin Core's `Init` (`ipc/mod.ts`).
 *
 * `main.ts` runs it as `runNode({ start: (node) => startNode(node) })`
 * (`shell.ts`).
 * @module
 */
import {
  type BlockEntry,
  BlockFilterIndex,
  blockTipListener,
  ChainState,
  hashToHex,
  TxIndex,
  UnknownActivations,
} from "./chain/mod.ts";
import { join } from "node:path";
import { Mempool, MEMPOOL_FILE, NO_MEMPOOL_FILE } from "./mempool/mod.ts";
import { checkMempoolSize } from "./mempool/options.ts";
import { nodeMethods, NodeServices } from "./methods/mod.ts";
import { BANLIST_FILE, BanMan, Connman } from "./net/mod.ts";
import { RpcServer } from "../rpc/mod.ts";
import { restHandlers } from "./rest/mod.ts";
import type { NodeContext } from "./shell.ts";
import { ZmqNotifications } from "./zmq/notifications.ts";
import { MockableClock } from "../bitcoin/clock.ts";
import { LARGE_WORK_INVALID_CHAIN_WARNING, unknownRulesWarning } from "./warnings.ts";

/** Core's warm-up status while the block index loads. */
export const LOADING_BLOCK_INDEX = "Loading block index…";

/**
 * Core's `UpdateTipLog` line for a new tip, ending in ` warning='…'` when
 * `warning` (the unknown rules locked in) is not empty. Its `cache=` is the
 * size of Core's in-memory coins cache: this node writes coins straight to
 * its database and caches none, hence `0.0MiB(0txo)`.
 */
export function updateTipLine(tip: BlockEntry, services: NodeServices, warning: string): string {
  const version = (tip.header.version >>> 0).toString(16).padStart(8, "0");
  const progress = services.verificationProgress(tip).toFixed(6);
  return `UpdateTip: new best=${hashToHex(tip.hash)} height=${tip.height} version=0x${version} ` +
    `log2_work=${log2Work(tip)} tx=${services.chainTxCount(tip)} date='${blockDate(tip)}' ` +
    `progress=${progress} cache=0.0MiB(0txo)${warning === "" ? "" : ` warning='${warning}'`}`;
}

/** Core's `log2_work=%f` of a block: the log2 of its chain work, six decimals. */
function log2Work(entry: BlockEntry): string {
  return (Math.log(Number(entry.chainWork)) / Math.log(2)).toFixed(6);
}

/** A block's time as Core's `FormatISO8601DateTime`. */
function blockDate(entry: BlockEntry): string {
  return `${new Date(entry.header.time * 1000).toISOString().slice(0, 19)}Z`;
}

/**
 * Core's (v30) two `InvalidChainFound` lines, double spaces included: the
 * block found invalid, and the tip.
 *
 * @example
 * ```ts
 * import { invalidChainFoundLines } from "./node.ts";
 * const block = (height: number, chainWork: bigint) =>
 *   ({ hash: new Uint8Array(32), height, chainWork, header: { time: 1296688602 } }) as never;
 * const [invalid, best] = invalidChainFoundLines(block(1, 4n), block(0, 2n));
 * if (!invalid.endsWith("  height=1  log2_work=2.000000  date=2011-02-02T23:16:42Z")) {
 *   throw new Error(invalid);
 * }
 * if (!best.startsWith("InvalidChainFound:  current best=")) throw new Error(best);
 * ```
 */
export function invalidChainFoundLines(invalid: BlockEntry, tip: BlockEntry): [string, string] {
  const described = (entry: BlockEntry) =>
    `${hashToHex(entry.hash)}  height=${entry.height}  log2_work=${log2Work(entry)}  ` +
    `date=${blockDate(entry)}`;
  return [
    `InvalidChainFound: invalid block=${described(invalid)}`,
    `InvalidChainFound:  current best=${described(tip)}`,
  ];
}

/** What {@linkcode startNode} started. */
export interface StartedNode {
  /** The chain, the mempool and what the methods share. */
  readonly services: NodeServices;
  /**
   * Runs a JSON-RPC request as the RPC server does (for `Init.makeRpc`);
   * absent with `-server=0`.
   */
  readonly executeRpc?: (request: string, uri: string, user: string) => Promise<string>;
}

/** Starts the node's parts on `node` (see the module doc); resolves once it serves. */
export async function startNode(node: NodeContext): Promise<StartedNode> {
  const { options, log } = node;
  let rpc: RpcServer | undefined;
  // Set once the chain and mempool are up; the REST handlers answer 503 until warm-up ends.
  let ready: NodeServices | undefined = undefined;
  if (options.server) {
    const source = { services: () => ready, warmupStatus: () => rpc?.warmupStatus };
    rpc = new RpcServer({
      datadir: options.datadir,
      port: options.rpc.port,
      bind: options.rpc.bind,
      allowIp: options.rpc.allowIp,
      user: options.rpc.user || undefined,
      password: options.rpc.password || undefined,
      rpcauth: options.rpc.rpcauth,
      rpcWhitelist: options.rpc.whitelist,
      rpcWhitelistDefault: options.rpc.whitelistDefault,
      cookieFile: options.rpc.cookieFile ?? false,
      cookiePerms: options.args.get("rpccookieperms"),
      threads: options.rpc.threads,
      workQueue: options.rpc.workQueue,
      serverTimeout: options.rpc.serverTimeout,
      docCheck: options.rpc.docCheck,
      // Core's StartREST, with -rest: /rest/ served beside JSON-RPC.
      pathHandlers: options.rest ? restHandlers(source) : [],
      warmup: LOADING_BLOCK_INDEX,
      logPath: options.log.file ?? join(options.netDir, "debug.log"),
      onStopRequest: () => node.requestStop(),
      log: (message) => log.info(message),
      showError: (message) => node.showError(message),
      debug: (message) => log.debug("rpc", message),
    });
    node.use(rpc);
    await rpc.start();
  }
  // Core's GetTime, which setmocktime holds: the chain's, the mempool's and the bans' time.
  const clock = new MockableClock();
  if (options.mockTime !== 0) clock.setMockTime(options.mockTime);
  const chain = node.use(ChainState.open(options.netDir, { now: () => clock.now() }));
  checkMempoolSize(options.mempoolPolicy);
  const mempool = node.use(new Mempool(chain, options.mempoolPolicy));
  if (options.persistMempool) {
    // Core's -persistmempool: loaded before RPC answers, saved once RPC has stopped.
    const file = join(options.netDir, MEMPOOL_FILE);
    // A damaged file does not stop the start: Core logs it and goes on (init ignores the result).
    // Why it was not loaded is logged too (beyond Core's lines), but not a file that is not there.
    const loaded = await mempool.load(file, {
      log: (message) => log.info(message),
      signal: node.stopping,
    });
    if (!loaded.loaded && loaded.failure !== undefined && loaded.failure !== NO_MEMPOOL_FILE) {
      log.info(`Mempool file ${file} not loaded: ${loaded.failure}`);
    }
    node.defer(() => {
      mempool.save(file);
      log.info(`Dumped mempool: ${mempool.size} transactions to ${file}`);
    });
  }
  // Core's -txindex: opened with the chain, caught up in the background once RPC answers.
  const txindex = options.txindex
    ? node.use(TxIndex.open(join(options.netDir, "indexes", "txindex"), chain, (m) => log.info(m)))
    : undefined;
  // Core's -blockfilterindex, kept where Core keeps it (`indexes/blockfilter/basic`).
  const blockFilterIndex = options.blockFilterIndex
    ? node.use(BlockFilterIndex.open(
      join(options.netDir, "indexes", "blockfilter", "basic"),
      chain,
      (m) => log.info(m),
    ))
    : undefined;
  let zmq: ZmqNotifications | undefined;
  // Core's BanMan: banlist.json read (and written back swept) at start, written on every
  // change and once more on stop.
  const banman = new BanMan({
    file: join(options.netDir, BANLIST_FILE),
    defaultBanTime: options.banTime,
    now: () => chain.now(),
    log: (message) => log.info(message),
  });
  node.defer(() => banman.dump());
  // Core's CConnman takes the -addnode list and -networkactive at start.
  const connman = new Connman({
    log: (message) => log.info(message),
    addNodes: options.net.addNodes,
    v2transport: options.net.v2transport,
    networkActive: options.net.networkActive,
  });
  const services = new NodeServices({
    chain,
    mempool,
    zmq: {
      get active() {
        return zmq?.active ?? [];
      },
    },
    txindex,
    blockFilterIndex,
    banman,
    connman,
    net: options.net,
    blockAssembly: options.blockAssembly,
    ibd: options.ibd,
    mempoolFile: join(options.netDir, MEMPOOL_FILE),
    readableDir: options.netDir,
    netDir: options.netDir,
    log: (message) => log.info(message),
    logCategories: log,
    deprecatedRpc: options.rpc.deprecated,
    walletRbf: options.walletPolicy.rbf,
    clock,
    blocksOnly: options.blocksOnly,
    stopping: node.stopping,
  });
  ready = services;
  // Core's ZMQ notifications (-zmqpub*); its lines are -debug=zmq's.
  if (options.zmq.length > 0) {
    zmq = node.use(ZmqNotifications.start(options.zmq, {
      chain,
      mempool,
      isInitialBlockDownload: services.isInitialBlockDownload,
      log: (message) => log.debug("zmq", message),
      warn: (message) => log.warning(message),
    }, options.workingDirectory));
  }
  // Core's UpdateTip, for every block connected or disconnected, each time with the new tip:
  // outside initial block download, a version bit no deployment here uses that is active is
  // warned of (-alertnotify once, when first set), and one locked in is said in the log line.
  const unknownActivations = new UnknownActivations(chain);
  const updateTip = (tip: BlockEntry) => {
    const lockedIn: string[] = [];
    if (!services.isInitialBlockDownload()) {
      for (const { bit, active } of unknownActivations.check(tip)) {
        const message = unknownRulesWarning(bit);
        if (!active) lockedIn.push(message);
        else if (services.warnings.set("UNKNOWN_NEW_RULES_ACTIVATED", message)) {
          node.notifications.alert(message);
        }
      }
    }
    log.info(updateTipLine(tip, services, lockedIn.join(", ")));
  };
  node.use(chain.subscribe({
    tipConnected: ({ entry }) => updateTip(entry),
    blockDisconnected: ({ entry }) => updateTip(entry.prev!),
    // Core's CheckForkWarningConditions, which initial block download skips: a chain known
    // invalid beyond the tip sets the warning (-alertnotify when newly set), else it is unset.
    forkWarningChecked: (largeWorkInvalidChain) => {
      if (services.isInitialBlockDownload()) return;
      if (!largeWorkInvalidChain) {
        services.warnings.unset("LARGE_WORK_INVALID_CHAIN");
        return;
      }
      log.info(
        "CheckForkWarningConditions: Warning: Found invalid chain at least ~6 blocks longer than our best chain.\nChain state database corruption likely.",
      );
      if (services.warnings.set("LARGE_WORK_INVALID_CHAIN", LARGE_WORK_INVALID_CHAIN_WARNING)) {
        node.notifications.alert(LARGE_WORK_INVALID_CHAIN_WARNING);
      }
    },
    invalidChainFound: (invalid, tip) => {
      for (const line of invalidChainFoundLines(invalid, tip)) log.info(line);
    },
    connectFailed: (block, error) =>
      log.error(`ConnectTip: ConnectBlock ${hashToHex(block.hash)} failed, ${error.message}`),
  }));
  // Core's -stopatheight (KernelNotifications::blockTip): a block connected at or above it
  // asks for the shutdown.
  if (options.stopAtHeight > 0) {
    node.use(chain.subscribe({
      tipConnected: ({ entry }) => {
        if (entry.height >= options.stopAtHeight) node.requestStop();
      },
    }));
  }
  // -blocknotify: Core's blockTip notification with SynchronizationState::POST_INIT (not in
  // initial block download), told with each UpdatedBlockTip and for the tip an invalidateblock
  // leaves (Core's InvalidateBlock tells it too).
  node.use(chain.subscribe(blockTipListener((tip) => {
    if (!services.isInitialBlockDownload()) node.notifications.blockTip(tip.hash);
  })));
  log.info(
    `Loaded best chain: hashBestChain=${hashToHex(chain.tip.hash)} height=${chain.height}`,
  );
  txindex?.catchUp();
  blockFilterIndex?.catchUp();
  if (rpc) {
    const methods = nodeMethods(services, {
      ipcLog: node.ipcLog,
      disableWallet: options.disableWallet,
    });
    for (const method of methods) rpc.table.add(method);
    // Stopped before the mempool and the chain close (disposal runs in reverse).
    const server = rpc;
    node.defer(() => server.stop());
    rpc.finishWarmup();
    return { services, executeRpc: (request, uri, user) => server.execute(request, uri, user) };
  }
  return { services };
}
