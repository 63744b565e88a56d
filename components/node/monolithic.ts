/**
 * The node and its wallets in one process (`-monolithic`): the node as
 * `main.ts` starts it, and the wallet component's `WalletLoader` made in
 * this process on the node's own `Chain` object and registered with its
 * JSON-RPC routing exactly as a wallet process registers over IPC
 * (`Chain.handleWalletLoader`) — the same component code, no IPC between
 * them. Wallets live in `<datadir>/regtest/wallets`, as in bitcoind; each
 * `-wallet=<name>` is loaded at start (created when missing).
 *
 * `deno task node -monolithic -wallet=w` runs it without the sandbox;
 * `deno task start -monolithic` under it (the bundle may hold the wallet's
 * code: `Component.codeFolders`).
 *
 * @module
 */
import { release } from "../../component.ts";
import { loadOrCreateWallets, WalletLoaderImpl } from "../wallet/loader.ts";
import { startServing } from "./main.ts";
import { runNode } from "./shell.ts";

if (import.meta.main) {
  await runNode({
    async start(node) {
      const init = await startServing(node);
      const chain = (await init.makeChain())!;
      const loader = new WalletLoaderImpl(node.options.netDir, chain, {
        keypool: node.options.keypool,
        policy: node.options.walletPolicy,
        // Read by the node with its own relay minimum.
        policyRefusal: () => node.options.walletRefusal,
        mockTime: node.options.mockTime,
        walletDir: node.options.walletDir ?? undefined,
        log: (line) => node.log.info(`wallet: ${line}`),
        notifications: node.notifications,
      });
      node.defer(async () => {
        await loader[Symbol.asyncDispose]();
        release(chain);
      });
      for (const line of await loadOrCreateWallets(loader, node.options.wallets)) {
        node.log.info(line);
      }
      const handler = (await chain.handleWalletLoader(loader))!;
      node.defer(() => handler.disconnect());
    },
  });
}
