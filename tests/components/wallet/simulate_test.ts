/**
 * simulaterawtransaction end to end: a node and a wallet process over
 * HTTP. What unsigned transactions would take from the wallet and pay it,
 * a later one spending an earlier one's outputs, as Core's; its refusals
 * with Core's codes and texts.
 */
import { assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

const refused = (code: number, message: string) => ({ error: { code, message } });

Deno.test("simulaterawtransaction: the wallet's balance change, as Core's; Core's refusals", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const external = target.context.addresses[4]; // not the wallet's
  assertEquals(await call("createwallet", ["s"]), { name: "s" });
  const s = (method: string, params: unknown[] = []) => call(method, params, "s");
  const funding = await call("sendtoaddress", [await s("getnewaddress"), 1]);
  await call("generatetoaddress", [1, external]);
  const [coin] = await s("listunspent");
  assertEquals(coin.txid, funding);
  const change = await s("getnewaddress");

  // Pays 0.4 away and 0.5999 back: the wallet is 0.4001 poorer.
  const first = await call("createrawtransaction", [
    [{ txid: coin.txid, vout: coin.vout }],
    [{ [external]: 0.4 }, { [change]: 0.5999 }],
  ]);
  assertEquals(await s("simulaterawtransaction", [[first]]), { balance_change: -0.4001 });
  // A second spending the first's change away too: the whole coin.
  const firstTxid = (await call("decoderawtransaction", [first])).txid;
  const second = await call("createrawtransaction", [
    [{ txid: firstTxid, vout: 1 }],
    [{ [external]: 0.5998 }],
  ]);
  assertEquals(await s("simulaterawtransaction", [[first, second]]), { balance_change: -1 });
  // Neither spends nor pays the wallet: nothing changes. (Named, with the option.)
  const other = (await call("listunspent")).find((u: { txid: string }) => u.txid !== funding);
  const foreign = await call("createrawtransaction", [
    [{ txid: other.txid, vout: other.vout }],
    [{ [external]: 0.1 }],
  ]);
  assertEquals(
    await s("simulaterawtransaction", [[foreign], { include_watchonly: false }]),
    { balance_change: 0 },
  );

  // Core's refusals.
  assertEquals(
    await s("simulaterawtransaction", [[first, first]]),
    refused(-8, "Transaction(s) are spending the same output more than once"),
  );
  assertEquals(
    await s("simulaterawtransaction", [[second]]),
    refused(-8, "One or more transaction inputs are missing or have been spent already"),
  );
  assertEquals(
    await s("simulaterawtransaction", [[first, "zz"]]),
    refused(-22, "Transaction hex string decoding failure."),
  );
  assertEquals(
    await s("simulaterawtransaction", [[first], { bogus: true }]),
    refused(-3, "Unexpected key bogus"),
  );
  assertEquals(
    await call("simulaterawtransaction", [[first]], "nosuch"),
    refused(-18, "Requested wallet does not exist or is not loaded"),
  );
  assertEquals(await target.health(), null);
});
