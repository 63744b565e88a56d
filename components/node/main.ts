/**
 * The node's entry point, run exactly like `bitcoind -regtest`:
 * `deno task node -datadir=<dir> [options]`, or `deno run` with the flags
 * `permissions.ts` computes. It serves bitcoind's JSON-RPC on
 * 127.0.0.1:18443 with cookie authentication (see `node.ts`) and Bitcoin
 * Core's IPC `Init` (Echo, Mining, Rpc: JSON-RPC over IPC, and this
 * project's Chain and Node) on
 * every `-ipcbind` address (`unix` is `<datadir>/regtest/node.sock`) and to
 * a spawning parent; it stops on SIGINT, SIGTERM, RPC `stop` or
 * `Node.startShutdown`, and prints bitcoind's `Error: …` line (exit status
 * 1) for bad options, a locked data directory or a corrupt chain. With
 * `-monolithic` the entry is `monolithic.ts`, which runs this node with
 * its wallets in the same process.
 *
 * @module
 */
import { Init } from "../../schemas/gen/ipc/init.mp.ts";
import { nodeInit } from "./ipc/mod.ts";
import { startNode } from "./node.ts";
import { type NodeContext, runNode } from "./shell.ts";

/** Starts the node's parts and serves its `Init` over IPC; resolves with that `Init`. */
export async function startServing(node: NodeContext): Promise<Init> {
  const { services, executeRpc } = await startNode(node);
  const init = node.use(nodeInit({
    chain: services.chain,
    mempool: services.mempool,
    blockFilterIndex: services.blockFilterIndex,
    blockAssembly: services.blockAssembly,
    requestShutdown: node.requestStop,
    stopping: node.stopping,
    log: (line) => node.log.info(line),
    isInitialBlockDownload: services.isInitialBlockDownload,
    wallets: services.wallets,
    mockTime: () => services.mockTime(),
    notifications: node.notifications,
    settings: node.options.args,
    executeRpc,
  }));
  node.use(services.addNotificationQueue(() => init.notificationsFlushed()));
  node.serveIpc(Init, init);
  // First at shutdown (parts end in reverse), before IPC closes: a node stopping cleanly tells its
  // wallet processes, which then end cleanly too; a failing one lets them go untold (their
  // supervisor restarts them with it).
  node.defer(() => node.failing ? services.wallets[Symbol.dispose]() : services.wallets.shutdown());
  return init;
}

if (import.meta.main) {
  await runNode({
    async start(node) {
      if (node.options.monolithic) {
        throw new Error("-monolithic: run components/node/monolithic.ts (deno task node does)");
      }
      await startServing(node);
    },
  });
}
