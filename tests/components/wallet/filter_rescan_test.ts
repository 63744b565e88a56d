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
