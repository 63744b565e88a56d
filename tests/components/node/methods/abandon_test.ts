/**
 * abandontransaction end to end: a node and a wallet process, a wallet
 * transaction replaced in the mempool with its child evicted, then
 * abandoned, confirmed after all, and refused where Core refuses.
 */
import { assertEquals } from "../../../assert.ts";
import { startMethodFuzzTarget } from "./method_fuzz.ts";

Deno.test("abandontransaction: Core's refusals; a replaced transaction and its child marked, unmarked once mined", async () => {
  await using target = await startMethodFuzzTarget();
  const { node } = target;
  const call = target.walletCall;
  const external = target.context.addresses[4]; // not the wallet's
  const abandoned = async (txid: string) =>
    ((await call("listtransactions", ["*", 1000])) as { txid: string; abandoned: boolean }[])
      .filter((entry) => entry.txid === txid).map((entry) => entry.abandoned);

  // A pays 1 BTC away; C spends A's change back to the wallet.
  const a = await call("sendtoaddress", [external, 1]);
  const decodedA = await call("decoderawtransaction", [(await call("gettransaction", [a])).hex]);
  const changeVout = decodedA.vout.findIndex((out: { value: number }) => out.value !== 1);
  const own = await call("getnewaddress", []);
  const change = decodedA.vout[changeVout].value;
  const rawC = await call("createrawtransaction", [[{ txid: a, vout: changeVout }], {
    [own]: Number((change - 0.0001).toFixed(8)),
  }]);
  const c = await node.call("sendrawtransaction", [
    (await call("signrawtransactionwithwallet", [rawC])).hex,
  ]);
  // B spends A's inputs, paying far more fee: it replaces A, and C goes with A.
  const inputs = decodedA.vin.map((input: { txid: string; vout: number }) => ({
    txid: input.txid,
    vout: input.vout,
  }));
  let total = 0;
  for (const input of inputs) {
    // What A's inputs hold (one may be unconfirmed change: the node's -txindex or mempool has it).
    total += (await node.call("getrawtransaction", [input.txid, true])).vout[input.vout].value;
  }
  const rawB = await call("createrawtransaction", [inputs, {
    [external]: Number((total - 0.001).toFixed(8)),
  }]);
  const signedB = await call("signrawtransactionwithwallet", [rawB]);
  const b = await node.call("sendrawtransaction", [signedB.hex]);
  assertEquals((await node.call("getrawmempool")).includes(a), false);
  assertEquals((await node.call("getrawmempool")).includes(c), false);

  const notEligible = { error: { code: -5, message: "Transaction not eligible for abandonment" } };
  assertEquals(await call("abandontransaction", [b]), notEligible, "in the mempool");
  assertEquals(
    await call("abandontransaction", [target.context.txids[0]]),
    notEligible,
    "confirmed",
  );
  assertEquals(await call("abandontransaction", ["ff".repeat(32)]), {
    error: { code: -5, message: "Invalid or non-wallet transaction id" },
  });
  assertEquals(await call("abandontransaction", ["abc"]), {
    error: { code: -8, message: "txid must be of length 64 (not 3, for 'abc')" },
  });
  assertEquals(await call("gettransaction", ["zz"]), {
    error: { code: -8, message: "txid must be of length 64 (not 2, for 'zz')" },
  });

  assertEquals(await abandoned(a), [false]);
  assertEquals(await call("abandontransaction", [a]), null);
  assertEquals(await call("abandontransaction", [a]), null, "again: no effect, no error");
  assertEquals(await abandoned(a), [true]);
  assertEquals(await abandoned(c), [true, true], "the child too: its send and its receive");
  assertEquals(await abandoned(b), [false]);
  assertEquals(
    (await call("gettransaction", [a])).details.map((d: { abandoned: boolean }) => d.abandoned),
    [true],
  );

  // A is mined after all (with its unconfirmed parent, B left out): no longer abandoned.
  const mempool: string[] = await node.call("getrawmempool");
  const parents = inputs.filter((input: { txid: string }) => mempool.includes(input.txid));
  const block = [
    ...await Promise.all(
      parents.map((input: { txid: string }) => node.call("getrawtransaction", [input.txid])),
    ),
    (await call("gettransaction", [a])).hex,
  ];
  await node.call("generateblock", [external, block]);
  assertEquals(await abandoned(a), [false]);
  assertEquals((await call("gettransaction", [a])).confirmations, 1);
  // B lost to A's block: conflicted, so not eligible either.
  assertEquals(await call("abandontransaction", [b]), notEligible, "conflicted");
});
