/**
 * The node's entry point, run exactly like `bitcoind -regtest`:
 * `deno task node -datadir=<dir> [options]`, or `deno run` with the flags
 * `permissions.ts` computes. It serves bitcoind's JSON-RPC on
 * 127.0.0.1:18443 with cookie authentication (see `node.ts`), stops on
 * SIGINT, SIGTERM or RPC `stop`, and prints bitcoind's `Error: …` line
 * (exit status 1) for bad options, a locked data directory or a corrupt
 * chain.
 *
 * @module
 */
import { startNode } from "./node.ts";
import { runNode } from "./shell.ts";

if (import.meta.main) {
  await runNode({
    async start(node) {
      await startNode(node);
      // Bitcoin Core's IPC interfaces (Init: Echo, Mining, Chain, Node) are served here
      // with node.serveIpc(Init, …) over the services startNode returns.
    },
  });
}
