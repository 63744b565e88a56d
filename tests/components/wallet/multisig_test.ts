/**
 * A 2-of-2 multisig of two wallets' keys, as Bitcoin Core's multisig
 * tutorial signs it: the node makes the address from a `wsh(sortedmulti())`
 * descriptor of the keys with their origins (as getaddressinfo tells
 * them), a third wallet funds it, `utxoupdatepsbt` describes the spend, and
 * each wallet's `walletprocesspsbt` adds the signature of the key the key
 * origins name; the second completes it, and the node relays and mines it.
 * A node and wallet processes over HTTP.
 *
 * @module
 */
import { base64 } from "@scure/base";
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";
import { readPsbt } from "../../../components/wallet/psbt.ts";

Deno.test("walletprocesspsbt signs another's multisig input with the keys its key origins name: two wallets in turn complete it", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const node = target.node.call;
  const external = target.context.addresses[4]; // no wallet's
  for (const name of ["p", "q"]) assertEquals(await call("createwallet", [name]), { name });
  const infos = await Promise.all(
    ["p", "q"].map(async (wallet) =>
      await call("getaddressinfo", [await call("getnewaddress", [], wallet)], wallet)
    ),
  );
  const keys = infos.map((info) =>
    `[${info.hdmasterfingerprint}${info.hdkeypath.slice(1)}]${info.pubkey}`
  );
  const text = `wsh(sortedmulti(2,${keys.join(",")}))`;
  const descriptor = `${text}#${(await node("getdescriptorinfo", [text])).checksum}`;
  const [address] = await node("deriveaddresses", [descriptor]);

  const txid = await call("sendtoaddress", [address, 1]);
  await node("generatetoaddress", [1, external]);
  const { vout } = (await call("gettransaction", [txid])).details
    .find((detail: { address: string }) => detail.address === address);
  const unsigned = await node("createpsbt", [[{ txid, vout }], [{ [external]: 0.9999 }]]);
  const updated = await node("utxoupdatepsbt", [unsigned, [descriptor]]);

  const signatures = (psbt: string) => readPsbt(base64.decode(psbt)).getInput(0).partialSig ?? [];
  // A wallet whose keys the origins do not name signs nothing.
  const byW = await call("walletprocesspsbt", [updated]);
  assertEquals([byW.complete, signatures(byW.psbt).length], [false, 0]);
  const byP = await call("walletprocesspsbt", [updated], "p");
  assertEquals([byP.complete, signatures(byP.psbt).length], [false, 1]);
  const byQ = await call("walletprocesspsbt", [byP.psbt], "q");
  assertEquals(byQ.complete, true);
  assertEquals((await node("testmempoolaccept", [[byQ.hex]]))[0].allowed, true);
  const sent = await node("sendrawtransaction", [byQ.hex]);
  const [mined] = await node("generatetoaddress", [1, external]);
  assert((await node("getblock", [mined])).tx.includes(sent), "the multisig spend is mined");
});
