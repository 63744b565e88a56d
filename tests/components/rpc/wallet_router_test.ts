/**
 * The node's routing of wallet calls to wallet processes, over a real IPC
 * connection: a slow call to one wallet process holds up no other call,
 * as bitcoind's RPC threads would not be held up; a request goes to a lone
 * wallet process in one call, and across several the node applies Core's
 * rule for which wallet it means.
 *
 * @module
 */
import { assertEquals, assertThrows } from "../../assert.ts";
import { withTimeout } from "../../helpers.ts";
import { RpcError } from "../../../components/rpc/errors.ts";
import { WalletRouter } from "../../../components/rpc/wallet_router.ts";
import {
  NO_WALLET_LOADED,
  WALLET_NOT_FOUND,
  WALLET_NOT_SPECIFIED,
  walletForRequest,
} from "../../../components/rpc/wallet_choice.ts";
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
    setMockTime() {},
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

Deno.test("wallet router: with one wallet process, it picks the wallet; with none or two, the node does", async () => {
  const wallets = new WalletRouter();
  await using served = await serveNode({ init: { wallets } });
  const client = await served.connect("wallet");
  await using chain = (await client.makeChain())!;
  // None attached: Core's -18 for no wallet loaded, not this node's "no wallet process".
  const none = await wallets.callWallet("getbalance", [], undefined).catch((e) => e);
  assertEquals([none.code, none.message], [-18, NO_WALLET_LOADED]);
  const listed: string[] = [];
  /** A wallet process's loader holding `names`; it answers with the wallet it was asked for. */
  const loaderOf = (process: string, names: string[]): WalletLoader => ({
    listWallets: () => (listed.push(process), names),
    executeRpc: (method, _params, wallet) =>
      JSON.stringify({ result: `${process}:${method}:${wallet ?? "(unnamed)"}` }),
    stop() {},
    setMockTime() {},
  });
  using _first = (await chain.handleWalletLoader(loaderOf("a", ["w1", "w2"])))!;
  // One process: the request goes to it as it came, in one call; it applies Core's rule itself.
  assertEquals(await wallets.callWallet("getbalance", [], undefined), "a:getbalance:(unnamed)");
  assertEquals(await wallets.callWallet("getbalance", [], "w2"), "a:getbalance:w2");
  assertEquals(listed, []);

  using _second = (await chain.handleWalletLoader(loaderOf("b", ["w3"])))!;
  // Two: the node finds which process holds the wallet named, and refuses to guess.
  assertEquals(await wallets.callWallet("getbalance", [], "w3"), "b:getbalance:w3");
  const error = await wallets.callWallet("getbalance", [], undefined).catch((e) => e);
  assertEquals([error.code, error.message], [-19, WALLET_NOT_SPECIFIED]);
  const missing = await wallets.callWallet("getbalance", [], "nope").catch((e) => e);
  assertEquals([missing.code, missing.message], [-18, WALLET_NOT_FOUND]);
  wallets[Symbol.dispose]();
});

Deno.test("walletForRequest: Core's rule for the wallet a request means", () => {
  const two = new Map([["a", 1], ["b", 2]]);
  assertEquals(walletForRequest(two, "b"), ["b", 2]);
  assertEquals(walletForRequest(new Map([["only", 3]]), undefined), ["only", 3]);
  const cases: [Map<string, number>, string | undefined, number, string][] = [
    [two, undefined, -19, WALLET_NOT_SPECIFIED],
    [new Map(), undefined, -18, NO_WALLET_LOADED],
    [two, "c", -18, WALLET_NOT_FOUND],
  ];
  for (const [loaded, named, code, message] of cases) {
    const error = assertThrows(() => walletForRequest(loaded, named), RpcError);
    assertEquals([error.code, error.message], [code, message]);
  }
});

Deno.test("wallet router: a wallet process from before it picked the wallet itself is still routed", async () => {
  const wallets = new WalletRouter();
  await using served = await serveNode({ init: { wallets } });
  const client = await served.connect("wallet");
  await using chain = (await client.makeChain())!;
  // As such a process answered: a request naming no wallet, or one it lacks, is refused with -18.
  const older: WalletLoader = {
    listWallets: () => ["w"],
    executeRpc: (method, _params, wallet) =>
      JSON.stringify(
        wallet === "w"
          ? { result: `${method}:${wallet}` }
          : { error: { code: -18, message: WALLET_NOT_FOUND } },
      ),
    stop() {},
    setMockTime() {},
  };
  using _handler = (await chain.handleWalletLoader(older))!;
  assertEquals(await wallets.callWallet("getbalance", [], undefined), "getbalance:w");
  // A named wallet it does not hold is still Core's -18, found by the process itself.
  const missing = await wallets.callWallet("getbalance", [], "nope").catch((e) => e);
  assertEquals([missing.code, missing.message], [-18, WALLET_NOT_FOUND]);
  wallets[Symbol.dispose]();
});
