/**
 * listaddressgroupings end to end: a node and a wallet process over HTTP.
 * Each address paid is a group by itself until a transaction spends
 * several together: then they and its change are one group, as Core's
 * common-input-ownership heuristic has it; balances, labels and the order
 * of Core's sets of destinations.
 */
import { assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

Deno.test("listaddressgroupings: addresses grouped by common ownership, as Core's", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const external = target.context.addresses[4]; // not the wallet's
  assertEquals(await call("createwallet", ["g"]), { name: "g" });
  const g = (method: string, params: unknown[] = []) => call(method, params, "g");
  assertEquals(await g("listaddressgroupings"), []);

  const one = await g("getnewaddress", ["one"]);
  const two = await g("getnewaddress");
  const taproot = await g("getnewaddress", ["tr", "bech32m"]);
  await call("sendtoaddress", [one, 1]);
  await call("sendtoaddress", [two, 2]);
  await call("sendtoaddress", [taproot, 0.5]);
  await call("generatetoaddress", [1, external]);
  const script = async (address: string): Promise<string> =>
    (await g("getaddressinfo", [address])).scriptPubKey;
  // Same type: by program bytes; segwit v0 key hashes before taproot.
  const [first, second] = (await script(one)) < (await script(two))
    ? [[one, 1, "one"], [two, 2, ""]]
    : [[two, 2, ""], [one, 1, "one"]];
  assertEquals(await g("listaddressgroupings"), [[first], [second], [[taproot, 0.5, "tr"]]]);

  // Spending both wpkh coins together joins them and the change into one group.
  const coins = (await g("listunspent")).filter((u: { address: string }) =>
    u.address === one || u.address === two
  ).map((u: { txid: string; vout: number }) => ({ txid: u.txid, vout: u.vout }));
  const sent = await g("send", [{ [external]: 2.9 }, null, "unset", 2, { inputs: coins }]);
  const tx = await call("decoderawtransaction", [(await g("gettransaction", [sent.txid])).hex]);
  assertEquals(tx.vin.length, 2);
  const change = tx.vout.find((o: { scriptPubKey: { address: string } }) =>
    o.scriptPubKey.address !== external
  );
  const changeAddress: string = change.scriptPubKey.address;
  await call("generatetoaddress", [1, external]);
  const groupings = await g("listaddressgroupings");
  const members = [[one, 0, "one"], [two, 0, ""], [changeAddress, change.value]];
  const scripts = new Map<unknown, string>();
  for (const [address] of members) scripts.set(address, await script(address as string));
  // Core's variant order: key hash, script hash, segwit v0 key hash, taproot; then the bytes.
  const rank = (hex: string) => ["76a9", "a914", "0014", "5120"].indexOf(hex.slice(0, 4));
  const order = (hex: string) => `${rank(hex)}${hex}`;
  members.sort((a, b) => order(scripts.get(a[0])!) < order(scripts.get(b[0])!) ? -1 : 1);
  assertEquals(groupings, [members, [[taproot, 0.5, "tr"]]], "the change has no label");
  assertEquals(await target.health(), null);
});
