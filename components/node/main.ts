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
 * 1) for bad options, a locked data directory or a corrupt chain.
 *
 * @module
 */
import { Init } from "../../schemas/gen/ipc/init.mp.ts";
import { nodeInit } from "./ipc/mod.ts";
import { startNode } from "./node.ts";
import { runNode } from "./shell.ts";

if (import.meta.main) {
  await runNode({
    async start(node) {
      const { services, executeRpc } = await startNode(node);
      node.serveIpc(
        Init,
        node.use(nodeInit({
          chain: services.chain,
          mempool: services.mempool,
          requestShutdown: node.requestStop,
          stopping: node.stopping,
          log: (line) => node.log.info(line),
          isInitialBlockDownload: services.isInitialBlockDownload,
          wallets: services.wallets,
          executeRpc,
        })),
      );
    },
  });
}
