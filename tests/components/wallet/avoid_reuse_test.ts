/**
 * The `avoid_reuse` wallet flag end to end, as Core's: a node and a
 * wallet process over HTTP. A wallet created with it (or given it by
 * `setwalletflag`) marks the addresses it spends from; coins paid to them
 * again are "used": apart in `getbalances`, out of `getbalance`, marked
 * `reused` in `listunspent`, and left by `sendtoaddress`, which spends an
 * address's coins together. The flag and the marks survive a reload.
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

const NOT_ENABLED = {
  error: { code: -4, message: 'wallet does not have the "avoid reuse" feature enabled' },
};

Deno.test("avoid_reuse: coins paid again to an address spent from are kept apart, and sendtoaddress leaves them", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const node = target.node.call;
  const mine = () => node("generatetoaddress", [1, target.context.addresses[4]]);

  await node("createwallet", ["reuse", false, false, null, true]);
  const info = await call("getwalletinfo", [], "reuse");
  assertEquals([info.avoid_reuse, info.flags[0]], [true, "avoid_reuse"]);

  // Two coins to one address: spent together (Core's avoided partial spends).
  const reused = await call("getnewaddress", [], "reuse");
  await call("sendtoaddress", [reused, 1]);
  await call("sendtoaddress", [reused, 1]);
  await mine();
  assertEquals((await call("getbalances", [], "reuse")).mine.used, 0);
  const payee = await call("getnewaddress", [], "w");
  const spent = await call("sendtoaddress", [payee, 0.5], "reuse");
  const { decoded } = await call("gettransaction", [spent, false, true], "reuse");
  assertEquals(decoded.vin.length, 2);
  await mine();
  const change = await call("getbalance", [], "reuse");

  // Paid again: that coin is used.
  await call("sendtoaddress", [reused, 3]);
  await mine();
  const balances = (await call("getbalances", [], "reuse")).mine;
  assertEquals([balances.trusted, balances.used], [change, 3]);
  assertEquals(await call("getbalance", [], "reuse"), change);
  assertEquals(await call("getbalance", ["*", 0, false, false], "reuse"), change + 3);
  const coins: { address: string; reused: boolean }[] = await call("listunspent", [], "reuse");
  assertEquals(
    coins.map((c) => [c.address === reused, c.reused]).sort(),
    [[false, false], [true, true]],
  );
  // sendtoaddress leaves it (Core's -6), unless told not to avoid reuse.
  assertEquals(await call("sendtoaddress", [payee, 2], "reuse"), {
    error: { code: -6, message: "Insufficient funds" },
  });
  const anyway = await call(
    "sendtoaddress",
    [payee, 2, "", "", false, true, null, "unset", false],
    "reuse",
  );
  assertEquals(typeof anyway, "string");
  await mine();

  // Kept across a reload.
  await node("unloadwallet", ["reuse"]);
  await node("loadwallet", ["reuse"]);
  assertEquals((await call("getwalletinfo", [], "reuse")).avoid_reuse, true);
  await call("sendtoaddress", [reused, 0.25]);
  await mine();
  assertEquals((await call("getbalances", [], "reuse")).mine.used, 0.25);

  // Cleared: no used balance, no reused field, and avoid_reuse may not be asked for.
  assertEquals(await call("setwalletflag", ["avoid_reuse", false], "reuse"), {
    flag_name: "avoid_reuse",
    flag_state: false,
  });
  assertEquals("used" in (await call("getbalances", [], "reuse")).mine, false);
  assert((await call("listunspent", [], "reuse")).every((c: object) => !("reused" in c)));
  assertEquals(await call("getbalance", ["*", 0, false, true], "reuse"), NOT_ENABLED);
  assertEquals(
    await call("sendtoaddress", [payee, 0.1, "", "", false, true, null, "unset", true], "reuse"),
    NOT_ENABLED,
  );
});

Deno.test("avoid_reuse: setwalletflag as Core's, its warning and its refusals", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  assertEquals((await call("getwalletinfo")).avoid_reuse, false);
  assertEquals(await call("setwalletflag", ["avoid_reuse"]), {
    flag_name: "avoid_reuse",
    flag_state: true,
    warnings:
      "You need to rescan the blockchain in order to correctly mark used destinations in the past. Until this is done, some destinations may be considered unused, even if the opposite is the case.",
  });
  const refused = (message: string) => ({ error: { code: -8, message } });
  assertEquals(
    await call("setwalletflag", ["avoid_reuse", true]),
    refused("Wallet flag is already set to true: avoid_reuse"),
  );
  assertEquals(await call("setwalletflag", ["abc"]), refused("Unknown wallet flag: abc"));
  assertEquals(
    await call("setwalletflag", ["disable_private_keys"]),
    refused("Wallet flag is immutable: disable_private_keys"),
  );
  assertEquals(
    await call("setwalletflag", ["blank", false]),
    refused("Wallet flag is immutable: blank"),
  );
  // getwalletinfo's flags, in the order of Core's flag bits.
  assertEquals((await call("getwalletinfo")).flags, [
    "avoid_reuse",
    "last_hardened_xpub_cached",
    "descriptor_wallet",
  ]);
  await target.node.call("createwallet", ["watch", true, true]);
  assertEquals((await call("getwalletinfo", [], "watch")).flags, [
    "last_hardened_xpub_cached",
    "disable_private_keys",
    "blank",
    "descriptor_wallet",
  ]);
});
