/**
 * A wallet's rescan over the node's block filters (`-blockfilterindex`), as
 * Core's fast rescan: a node and a wallet process over HTTP, the wallets
 * with a keypool of 3. A wallet restored from another's private
 * descriptors finds all seven of its payments, though only the first three
 * addresses are in its pool when the rescan starts: each payment found tops
 * the pool up, and the filters are asked again with the new scripts. The
 * wallet's log says which variant ran, as Core's does.
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";
import { waitFor } from "../../helpers.ts";

Deno.test("filter rescan: a restored wallet finds payments past its first pool through the node's block filters", async () => {
  await using target = await startMethodFuzzTarget(["-blockfilterindex"], ["-keypool=3"]);
  const node = target.node.call;
  const call = target.walletCall;
  const filler = target.context.addresses[4];
  await node("createwallet", ["keys"]);
  for (let i = 0; i < 7; i++) {
    await call("sendtoaddress", [await call("getnewaddress", [], "keys"), 1 + i / 10]);
    await node("generatetoaddress", [1, filler]);
    await node("generatetoaddress", [5, filler]);
  }
  const paid = await call("getbalance", [], "keys");
  assertEquals(paid, 9.1);
  const { descriptors } = await call("listdescriptors", [true], "keys");

  await node("createwallet", ["restored", false, true]);
  const imported = await call("importdescriptors", [
    descriptors.map((d: { desc: string; internal: boolean }) => ({
      desc: d.desc,
      timestamp: 0,
      active: true,
      internal: d.internal,
    })),
  ], "restored");
  assert(imported.every((result: { success: boolean }) => result.success));
  assertEquals(await call("getbalance", [], "restored"), paid);
  const txids = async (wallet: string) =>
    (await call("listtransactions", ["*", 100], wallet)).map((t: { txid: string }) => t.txid)
      .sort();
  assertEquals(await txids("restored"), await txids("keys"));

  // The log reaches the test through a pipe: wait for the lines.
  const genesis = await node("getblockhash", [0]);
  const started =
    `wallet: [restored] Rescan started from block ${genesis}... (fast variant using block filters)`;
  await waitFor(
    () =>
      target.walletStderr().includes(started) &&
      /wallet: \[restored\] Rescan completed in +\d+ms/.test(target.walletStderr()),
    undefined,
    "the rescan's log lines",
  );
});

Deno.test("filter catch-up: a wallet loaded behind the chain catches up through the filters, over a reorganisation made while it was away", async () => {
  await using target = await startMethodFuzzTarget(["-blockfilterindex"]);
  const node = target.node.call;
  const call = target.walletCall;
  const filler = target.context.addresses[4];
  await node("createwallet", ["away"]);
  const addresses = [
    await call("getnewaddress", [], "away"),
    await call("getnewaddress", [], "away"),
    await call("getnewaddress", [], "away"),
  ];
  const first = await call("sendtoaddress", [addresses[0], 1]);
  await node("generatetoaddress", [1, filler]);
  const seen = await node("getbestblockhash");
  const seenHeight = await node("getblockcount");
  await call("unloadwallet", [], "away");
  assertEquals(await call("listwallets"), ["w"]);

  // Away: the block it saw is replaced (its payment confirmed again in another), and the
  // chain grows by 300 blocks, two of them paying it.
  await node("invalidateblock", [seen]);
  await node("generatetoaddress", [1, target.context.addresses[3]]);
  const replaced = await node("getbestblockhash");
  assert(replaced !== seen);
  const later = [];
  for (const [blocks, address, amount] of [[120, addresses[1], 2], [178, addresses[2], 3]]) {
    await node("generatetoaddress", [blocks, filler]);
    later.push(await call("sendtoaddress", [address, amount]));
    await node("generatetoaddress", [1, filler]);
  }
  const tip = await node("getblockcount");
  assertEquals(tip, seenHeight + 300);

  await call("loadwallet", ["away"]);
  assertEquals(await call("getbalance", [], "away"), 6);
  assertEquals((await call("gettransaction", [first], "away")).blockhash, replaced);
  for (const txid of later) {
    assertEquals((await call("gettransaction", [txid], "away")).confirmations > 0, true);
  }
  assertEquals((await call("getwalletinfo", [], "away")).lastprocessedblock, {
    hash: await node("getbestblockhash"),
    height: tip,
  });
  // From the block below the one replaced, where its view and the node's fork.
  const fork = seenHeight - 1;
  const lines = [
    `wallet: [away] Rescanning last ${tip - fork} blocks (from block ${fork})...`,
    `wallet: [away] Rescan started from block ${await node("getblockhash", [fork])}... ` +
    "(fast variant using block filters)",
  ];
  await waitFor(
    () => lines.every((line) => target.walletStderr().includes(line)),
    undefined,
    "the catch-up's log lines",
  );

  // Core's listsinceblock of the block replaced: from the fork on, and its payment as removed.
  const since = await call("listsinceblock", [seen], "away");
  assertEquals(
    since.transactions.map((t: { txid: string }) => t.txid).sort(),
    [first, ...later].sort(),
  );
  assertEquals(since.removed.map((t: { txid: string }) => t.txid), [first]);
  // Without include_removed, no `removed` at all, as Core's.
  assertEquals("removed" in await call("listsinceblock", [seen, 1, true, false], "away"), false);
  assertEquals(
    (await call("listsinceblock", [replaced], "away")).transactions.map((t: { txid: string }) =>
      t.txid
    ).sort(),
    [...later].sort(),
  );
  // Change shows with include_change only, as a send and a receive; a label keeps its receives.
  const spent = await call("sendtoaddress", [target.context.addresses[3], 0.5], "away");
  const entriesOf = async (params: unknown[]) =>
    (await call("listsinceblock", params, "away")).transactions
      .filter((t: { txid: string }) => t.txid === spent)
      .map((t: { category: string }) => t.category).sort();
  assertEquals(await entriesOf([]), ["send"]);
  assertEquals(await entriesOf(["", 1, true, true, true]), ["receive", "send", "send"]);
  await call("setlabel", [addresses[1], "second"], "away");
  assertEquals(
    (await call("listsinceblock", ["", 1, true, true, false, "second"], "away")).transactions
      .map((t: { txid: string; category: string }) => [t.txid, t.category]),
    [[later[0], "receive"]],
  );
  assertEquals(
    (await call("listsinceblock", ["", 1000], "away")).lastblock,
    await node("getblockhash", [0]),
  );
  assertEquals(
    (await call("listsinceblock", ["", 3], "away")).lastblock,
    await node("getblockhash", [tip - 2]),
  );
});

for (const [variant, nodeArgs] of [["fast", ["-blockfilterindex"]], ["slow", []]] as const) {
  Deno.test(`${variant} catch-up: a reorganisation deeper than the wallet's recent blocks makes it read the chain again from where its view and the node's meet`, async () => {
    await using target = await startMethodFuzzTarget([...nodeArgs]);
    const node = target.node.call;
    const call = target.walletCall;
    const filler = target.context.addresses[4];
    await node("createwallet", ["deep"]);
    const paid = await call("sendtoaddress", [await call("getnewaddress", [], "deep"), 1]);
    await node("generatetoaddress", [1, filler]);
    const paidHeight = await node("getblockcount");
    await node("generatetoaddress", [150, filler]);
    await waitFor(async () =>
      (await call("getwalletinfo", [], "deep")).lastprocessedblock.height === paidHeight + 150
    );
    await call("unloadwallet", [], "deep");

    // 150 blocks below its tip, beyond the 100 it keeps (made at height 103, it has no 1,024th):
    // it shares no block with the node's chain, and reads it all again.
    await node("invalidateblock", [await node("getblockhash", [paidHeight])]);
    // Core's InvalidateBlock puts back the transactions of the ten blocks it disconnects first
    // only: the payment, 151 blocks down, is offered again by its sender.
    const { hex: paidHex } = await call("gettransaction", [paid]);
    await node("sendrawtransaction", [paidHex]);
    await node("generatetoaddress", [160, target.context.addresses[3]]);
    const reconfirmed = await node("getblockhash", [paidHeight]);
    const tip = await node("getblockcount");

    await call("loadwallet", ["deep"]);
    assertEquals((await call("gettransaction", [paid], "deep")).blockhash, reconfirmed);
    assertEquals(await call("getbalance", [], "deep"), 1);
    assertEquals((await call("getwalletinfo", [], "deep")).lastprocessedblock, {
      hash: await node("getbestblockhash"),
      height: tip,
    });
    const line = `wallet: [deep] Rescanning last ${tip} blocks (from block 0)...`;
    const genesis = await node("getblockhash", [0]);
    const started = `wallet: [deep] Rescan started from block ${genesis}... (${
      variant === "fast" ? "fast variant using block filters" : "slow variant inspecting all blocks"
    })`;
    await waitFor(
      () => target.walletStderr().includes(line) && target.walletStderr().includes(started),
      undefined,
      "the catch-up's log lines",
    );
  });
}

Deno.test("fast catch-up keeps the wallet's locator: every 1,024th block and the last 100, so a deep reorganisation made while it was away again is found at height 1,024", async () => {
  await using target = await startMethodFuzzTarget(["-blockfilterindex"]);
  const node = target.node.call;
  const call = target.walletCall;
  const filler = target.context.addresses[4];
  await node("createwallet", ["long"]);
  const address = await call("getnewaddress", [], "long");
  await call("unloadwallet", [], "long");
  await node("generatetoaddress", [500, filler]);
  const paid = await call("sendtoaddress", [address, 1]);
  await node("generatetoaddress", [600, filler]);
  await call("loadwallet", ["long"]);
  const tip = await node("getblockcount");
  assertEquals((await call("getwalletinfo", [], "long")).lastprocessedblock.height, tip);
  assertEquals(await call("getbalance", [], "long"), 1);
  await call("unloadwallet", [], "long");

  // 150 blocks back, below the last 100 the wallet keeps: it meets the new chain at 1,024.
  await node("invalidateblock", [await node("getblockhash", [tip - 149])]);
  // Another payee: the same one could make the very blocks just invalidated.
  await node("generatetoaddress", [160, target.context.addresses[3]]);
  const newTip = await node("getblockcount");
  await call("loadwallet", ["long"]);
  assertEquals((await call("getwalletinfo", [], "long")).lastprocessedblock, {
    hash: await node("getbestblockhash"),
    height: newTip,
  });
  const payment = await call("gettransaction", [paid], "long");
  assertEquals(payment.blockhash, await node("getblockhash", [payment.blockheight]));
  assertEquals(payment.confirmations, newTip - payment.blockheight + 1);
  const line = `wallet: [long] Rescanning last ${newTip - 1024} blocks (from block 1024)...`;
  await waitFor(() => target.walletStderr().includes(line), undefined, line);
});
