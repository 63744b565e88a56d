/**
 * The node's routing of wallet calls to wallet processes, over a real IPC
 * connection: a slow call to one wallet process holds up no other call,
 * as bitcoind's RPC threads would not be held up.
 *
 * @module
 */
import { assertEquals } from "../../assert.ts";
import { withTimeout } from "../../helpers.ts";
import { WalletRouter } from "../../../components/rpc/wallet_router.ts";
import type { WalletLoader } from "../../../schemas/gen/ipc/wallet.mp.ts";
import { serveNode } from "../node/ipc/ipc_helpers.ts";

Deno.test("wallet router: a slow call to a wallet process holds up no other routed call", async () => {
  const wallets = new WalletRouter();
  await using served = await serveNode({ init: { wallets } });
  const client = await served.connect("wallet");
  await using chain = (await client.makeChain())!;
  const slow = Promise.withResolvers<void>();
  // The wallet process's loader, served to the node over the connection.
  const loader: WalletLoader = {
    listWallets: () => ["w"],
    async executeRpc(method) {
      if (method === "slow") await slow.promise;
      return JSON.stringify({ result: method });
    },
    stop() {},
  };
  using _handler = (await chain.handleWalletLoader(loader))!;
  const routed = (await wallets.resolve("w")).loader;
  const pending = wallets.call(routed, "slow", [], "w");
  // Without its own strand, this call would queue behind the slow one on the wallet's thread.
  assertEquals(
    await withTimeout(wallets.call(routed, "fast", [], "w"), 20_000, "the fast call"),
    "fast",
  );
  slow.resolve();
  assertEquals(await pending, "slow");
  wallets[Symbol.dispose]();
});
