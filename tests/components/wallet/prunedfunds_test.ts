/**
 * importprunedfunds and removeprunedfunds end to end, as Core's
 * `wallet_importprunedfunds.py` uses them: a node and a wallet process over
 * HTTP. A transaction the wallet forgot comes back with a proof from
 * gettxoutproof, confirmed where the block holds it; Core's refusals with
 * Core's codes and texts, in Core's order.
 *
 * @module
 */
import { assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

Deno.test("importprunedfunds and removeprunedfunds: a transaction forgotten and proven back; Core's refusals", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const node = target.node.call;
  const refused = (code: number, message: string) => ({ error: { code, message } });
  await node("createwallet", ["r"]);
  const address = await call("getnewaddress", [], "r");
  const paid = await call("sendtoaddress", [address, 1.25]);
  const [block] = await node("generatetoaddress", [1, target.context.addresses[4]]);
  const seen = await call("gettransaction", [paid], "r");
  const raw: string = seen.hex;
  const proof: string = await node("gettxoutproof", [[paid]]);

  // Forgotten: no balance, no transaction; a second removal is Core's -4.
  assertEquals(await call("removeprunedfunds", [paid], "r"), null);
  assertEquals(await call("getbalance", [], "r"), 0);
  assertEquals(
    await call("gettransaction", [paid], "r"),
    refused(-5, "Invalid or non-wallet transaction id"),
  );
  assertEquals(
    await call("removeprunedfunds", [paid], "r"),
    refused(-4, `Transaction ${paid} does not belong to this wallet`),
  );

  // Proven back: confirmed in its block, at its place.
  assertEquals(await call("importprunedfunds", [raw, proof], "r"), null);
  assertEquals(await call("getbalance", [], "r"), 1.25);
  const back = await call("gettransaction", [paid], "r");
  assertEquals(
    [back.confirmations, back.blockhash, back.blockindex, back.amount],
    [1, block, seen.blockindex, 1.25],
  );

  // Core's refusals, in its order.
  assertEquals(
    await call("importprunedfunds", ["zz", proof], "r"),
    refused(-22, "TX decode failed. Make sure the tx has at least one input."),
  );
  // Core decodes the witness serialization only: a transaction of no inputs does not decode.
  assertEquals(
    await call("importprunedfunds", ["01000000000100f2052a01000000015100000000", proof], "r"),
    refused(-22, "TX decode failed. Make sure the tx has at least one input."),
  );
  assertEquals(
    await call("importprunedfunds", [raw, "zz"], "r"),
    refused(-8, "proof must be hexadecimal string (not 'zz')"),
  );
  const tampered = proof.slice(0, 170) + (proof[170] === "0" ? "1" : "0") + proof.slice(171);
  assertEquals(
    await call("importprunedfunds", [raw, tampered], "r"),
    refused(-5, "Something wrong with merkleblock"),
  );
  const coinbase: string = (await node("getblock", [block])).tx[0];
  const coinbaseProof: string = await node("gettxoutproof", [[coinbase]]);
  assertEquals(
    await call("importprunedfunds", [raw, coinbaseProof], "r"),
    refused(-5, "Transaction given doesn't exist in proof"),
  );
  const coinbaseRaw: string = await node("getrawtransaction", [coinbase]);
  assertEquals(
    await call("importprunedfunds", [coinbaseRaw, coinbaseProof], "r"),
    refused(-5, "No addresses in wallet correspond to included transaction"),
  );
  // A block before the wallet was made is in its chain too (Core's findAncestorByHash).
  await node("createwallet", ["late"]);
  assertEquals(
    await call("importprunedfunds", [coinbaseRaw, coinbaseProof], "late"),
    refused(-5, "No addresses in wallet correspond to included transaction"),
  );
  await node("invalidateblock", [block]);
  assertEquals(
    await call("importprunedfunds", [raw, proof], "r"),
    refused(-5, "Block not found in chain"),
  );
  await node("reconsiderblock", [block]);
  assertEquals(
    await call("removeprunedfunds", ["foo"], "r"),
    refused(-8, "txid must be of length 64 (not 3, for 'foo')"),
  );
  assertEquals(
    await call("removeprunedfunds", [paid], "nosuch"),
    refused(-18, "Requested wallet does not exist or is not loaded"),
  );
  assertEquals(
    await call("importprunedfunds", ["zz", proof], "nosuch"),
    refused(-18, "Requested wallet does not exist or is not loaded"),
  );

  // Removing a replacement leaves the replaced transaction's record of it, as Core's.
  const external = target.context.addresses[4];
  const original = await call("sendtoaddress", [external, 0.5], "r");
  const { txid: replacement } = await call("bumpfee", [original], "r");
  assertEquals(await call("removeprunedfunds", [replacement], "r"), null);
  assertEquals((await call("gettransaction", [original], "r")).replaced_by_txid, replacement);
  assertEquals(await target.health(), null);
});
