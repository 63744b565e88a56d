/**
 * The wallet as its own process attached to the real node process over a
 * UNIX socket, driven through the node's JSON-RPC over HTTP as
 * bitcoin-cli drives bitcoind: `-wallet=w`, getnewaddress, 101 blocks,
 * balances, a send to a second wallet by `/wallet/<name>`, Core's -19
 * when the wallet is ambiguous, and a restart of both processes that
 * keeps every wallet's state.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { tempDir, waitFor } from "../../helpers.ts";
import { type RealNode, RpcCallError, startRealNode } from "../node/real_node.ts";
import { WALLET_NOT_FOUND, WALLET_NOT_SPECIFIED } from "../../../components/rpc/wallet_choice.ts";
import { startWallet } from "./wallet_process.ts";

/** Calls `method` on `/wallet/<wallet>`. */
async function walletCall(node: RealNode, wallet: string, method: string, params: unknown[] = []) {
  const reply = await node.raw(
    JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    `/wallet/${encodeURIComponent(wallet)}`,
  );
  if (reply.body.error) throw new RpcCallError(reply.body.error.code, reply.body.error.message);
  return reply.body.result;
}

async function waitForWallets(node: RealNode, names: string[]) {
  await waitFor(
    async () => JSON.stringify(await node.call("listwallets")) === JSON.stringify(names),
    60_000,
    `the wallets ${names.join(", ")}`,
  );
}

Deno.test("wallet process: -wallet=w, mining, a send between wallets, a restart", async () => {
  using data = tempDir("wallet_e2e_");
  using wallets = tempDir("wallet_e2e_w_");
  const [datadir, walletDir] = [data.path, wallets.path];
  const walletArgs = ["-wallet=w", "-fallbackfee=0.0002"];
  let txid: string;
  let balances: unknown;
  {
    await using node = await startRealNode({ datadir, args: ["-ipcbind=unix"] });
    const wallet = startWallet(node, walletDir, walletArgs);
    try {
      await waitForWallets(node, ["w"]);
      const address = await node.call("getnewaddress");
      assert(address.startsWith("bcrt1q"), address);
      await node.call("generatetoaddress", [101, address]);
      assertEquals(await node.call("getbalance"), 50);

      assertEquals(await node.call("createwallet", ["w2"]), { name: "w2" });
      // Core's codes and texts, end to end (the lone wallet process applies the rule).
      const error = await assertRejects(() => node.call("getbalance"), RpcCallError);
      assertEquals([error.code, error.message], [-19, WALLET_NOT_SPECIFIED]);
      const missing = await assertRejects(
        () => walletCall(node, "nope", "getbalance"),
        RpcCallError,
      );
      assertEquals([missing.code, missing.message], [-18, WALLET_NOT_FOUND]);
      const to = await walletCall(node, "w2", "getnewaddress", ["", "bech32m"]);
      assert(to.startsWith("bcrt1p"), to);
      txid = await walletCall(node, "w", "sendtoaddress", [to, 1.5]);
      assert((await node.call("getrawmempool")).includes(txid), "the send is in the mempool");
      assertEquals((await walletCall(node, "w2", "getbalances")).mine.untrusted_pending, 1.5);
      await node.call("generatetoaddress", [1, address]);
      balances = await walletCall(node, "w2", "getbalances");
      assertEquals((balances as { mine: { trusted: number } }).mine.trusted, 1.5);
      const sent = await walletCall(node, "w", "gettransaction", [txid]);
      assertEquals(sent.confirmations, 1);
      assertEquals(sent.details[0].category, "send");
      assertEquals(sent.details[0].amount, -1.5);
      assert(sent.fee < 0, "a fee was paid");
      assertEquals(await node.stop(), 0);
      assertEquals(
        (await wallet.status).code,
        0,
        "told, the wallet ends cleanly as the node stops",
      );
    } finally {
      try {
        wallet.kill("SIGKILL");
      } catch { /* exited */ }
      await wallet.status;
    }
  }
  // Both processes again: w loads at start, w2 on request; nothing was lost.
  await using node = await startRealNode({ datadir, args: ["-ipcbind=unix"] });
  const wallet = startWallet(node, walletDir, walletArgs);
  try {
    await waitForWallets(node, ["w"]);
    assertEquals(await node.call("loadwallet", ["w2"]), { name: "w2" });
    assertEquals(await walletCall(node, "w2", "getbalances"), balances);
    assertEquals((await walletCall(node, "w", "gettransaction", [txid])).confirmations, 1);
    const error = await assertRejects(() => node.call("loadwallet", ["w2"]), RpcCallError);
    assertEquals([error.code, error.message], [-35, 'Wallet "w2" is already loaded.']);
  } finally {
    wallet.kill("SIGKILL");
    await wallet.status;
  }
});

Deno.test("wallet process: with -ipcreattach it outlives its node and attaches again to the next one", async () => {
  using data = tempDir("wallet_reattach_");
  using wallets = tempDir("wallet_reattach_w_");
  const [datadir, walletDir] = [data.path, wallets.path];
  let wallet: Deno.ChildProcess | undefined;
  let exited = false;
  try {
    {
      await using node = await startRealNode({ datadir, args: ["-ipcbind=unix"] });
      wallet = startWallet(node, walletDir, ["-wallet=w", "-ipcreattach"]);
      wallet.status.then(() => exited = true);
      await waitForWallets(node, ["w"]);
      await node.call("generatetoaddress", [1, await node.call("getnewaddress")]);
      assertEquals(await node.stop(), 0);
    }
    // No node for a while: the wallet keeps trying, and the next node on the socket gets it back.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assertEquals(exited, false, "the wallet waits for a node");
    await using node = await startRealNode({ datadir, args: ["-ipcbind=unix"] });
    await waitForWallets(node, ["w"]);
    assertEquals(exited, false, "the same wallet process attached again");
    assertEquals((await walletCall(node, "w", "getwalletinfo")).lastprocessedblock.height, 1);
  } finally {
    try {
      wallet?.kill("SIGKILL");
    } catch { /* exited */ }
    await wallet?.status;
  }
});

Deno.test("wallet processes: a wallet loaded in one process is not created or restored again by another", async () => {
  using data = tempDir("wallet_two_");
  using first = tempDir("wallet_two_a_");
  using second = tempDir("wallet_two_b_");
  await using node = await startRealNode({ datadir: data.path, args: ["-ipcbind=unix"] });
  const processes = [startWallet(node, first.path, ["-wallet=x"])];
  try {
    await waitForWallets(node, ["x"]);
    processes.push(startWallet(node, second.path, ["-wallet=y"]));
    await waitFor(
      async () => (await node.call("listwallets")).length === 2,
      60_000,
      "both wallet processes",
    );
    // New wallets go to one of the two; each name is answered by the process that holds it.
    for (const [name, dir] of [["x", first.path], ["y", second.path]]) {
      const created = await assertRejects(() => node.call("createwallet", [name]), RpcCallError);
      assertEquals(
        [created.code, created.message],
        [
          -4,
          `Wallet file verification failed. Failed to create database path '${dir}/wallets/${name}'. Database already exists.`,
        ],
      );
      const backup = `${dir}/wallets/${name}.bak`;
      assertEquals(await walletCall(node, name, "backupwallet", [backup]), null);
      const restored = await assertRejects(
        () => node.call("restorewallet", [name, backup]),
        RpcCallError,
      );
      assertEquals(
        [restored.code, restored.message],
        [
          -36,
          `Failed to restore wallet. Database file exists in '${dir}/wallets/${name}/wallet.dat'.`,
        ],
      );
    }
    assertEquals((await node.call("listwallets")).sort(), ["x", "y"]);
    assertEquals(await node.call("createwallet", ["z"]), { name: "z" });
  } finally {
    for (const process of processes) {
      try {
        process.kill("SIGKILL");
      } catch { /* exited */ }
      await process.status;
    }
  }
});
