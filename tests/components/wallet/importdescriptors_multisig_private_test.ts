/**
 * importdescriptors of a multisig or a taproot script tree into wallets
 * with private keys, each holding one of its keys (Core takes them, with a
 * warning): the wallets derive the same addresses, see the same coins,
 * show their own key private in `listdescriptors true`, and sign a PSBT
 * each in part; two signatures spend it, and the node mines the spend. An
 * encrypted one seals its key: locked, it signs nothing. A node and a
 * wallet process over HTTP.
 *
 * @module
 */
import { HDKey } from "@scure/bip32";
import { assert, assertEquals } from "../../assert.ts";
import { startImportTarget } from "./import_target.ts";
import { TEST_VERSIONS } from "../../../components/wallet/network.ts";
import { fingerprintHex } from "../../../components/wallet/descriptor.ts";

/** Core's warning for a descriptor given with some of its private keys. */
const NOT_ALL =
  "Not all private keys provided. Some wallet functionality may return unexpected errors";
const DEFAULT_RANGE = "Range not given, using default keypool range";

/** A participant's master key and its account at `m/48h/1h/0h/2h`, as a multisig coordinator has them. */
function participant() {
  const master = HDKey.fromMasterSeed(crypto.getRandomValues(new Uint8Array(32)), TEST_VERSIONS);
  const path = "48h/1h/0h/2h";
  const account = master.derive(`m/${path.replaceAll("h", "'")}`);
  return {
    /** The key on chain `chain`, private (the master's, the path written out) or public (with its origin). */
    key: (chain: number, priv: boolean) =>
      priv
        ? `${master.privateExtendedKey}/${path}/${chain}/*`
        : `[${fingerprintHex(master.fingerprint)}/${path}]${account.publicExtendedKey}/${chain}/*`,
  };
}

/** `wrap` of each participant's key on `chain`, participant `holder`'s private. */
function written(
  wrap: (keys: string[]) => string,
  participants: ReturnType<typeof participant>[],
  chain: number,
  holder: number,
): string {
  return wrap(participants.map((p, i) => p.key(chain, i === holder)));
}

Deno.test("importdescriptors of a 2-of-3 wsh(sortedmulti()) into three wallets with keys, each holding one: the same addresses and coins, two partial signatures spend it", async () => {
  await using target = await startImportTarget();
  const { call, node, mine, checksummed } = target;
  const participants = [participant(), participant(), participant()];
  const wallets = ["m0", "m1", "m2"];
  const multisig = (keys: string[]) => `wsh(sortedmulti(2,${keys.join(",")}))`;
  const given: string[][] = [];
  for (const [holder, name] of wallets.entries()) {
    await node("createwallet", [name, false, true]);
    const [receiving, change] = await Promise.all(
      [0, 1].map((chain) => checksummed(written(multisig, participants, chain, holder))),
    );
    given.push([receiving, change]);
    assertEquals(
      await call("importdescriptors", [[
        { desc: receiving, timestamp: "now", active: true },
        { desc: change, timestamp: "now", active: true, internal: true },
      ]], name),
      [0, 1].map(() => ({ success: true, warnings: [DEFAULT_RANGE, NOT_ALL] })),
    );
  }
  // The same public descriptors, addresses and coins in all three.
  const publicOf = async (name: string) =>
    (await call("listdescriptors", [], name)).descriptors.map((
      d: { desc: string; active: boolean; internal: boolean },
    ) => [d.desc, d.active, d.internal]);
  const shown = await publicOf("m0");
  assertEquals(shown.length, 2);
  assertEquals(await publicOf("m1"), shown);
  assertEquals(await publicOf("m2"), shown);
  const addresses = await Promise.all(wallets.map((name) => call("getnewaddress", [], name)));
  assertEquals(new Set(addresses).size, 1, addresses.join());
  const [address] = addresses;
  assert(address.startsWith("bcrt1q") && address.length === 64, address);
  // Its own key private, the others' as given (Core's listdescriptors true).
  const privates = (await call("listdescriptors", [true], "m1")).descriptors.map((
    d: { desc: string },
  ) => d.desc).sort();
  assertEquals(privates, [...given[1]].sort());

  await call("sendtoaddress", [address, 3]);
  await mine();
  for (const name of wallets) {
    assertEquals(await call("getbalance", [], name), 3);
    const [coin] = await call("listunspent", [], name);
    assertEquals([coin.address, coin.solvable, coin.spendable], [address, true, true]);
  }

  // One funds a PSBT; it signs in part, a second completes it.
  const payee = await call("getnewaddress", [], "w");
  const funded = await call("walletcreatefundedpsbt", [[], [{ [payee]: 1 }]], "m0");
  const first = await call("walletprocesspsbt", [funded.psbt], "m0");
  assertEquals(first.complete, false);
  const [input] = (await node("decodepsbt", [first.psbt])).inputs;
  assertEquals(Object.keys(input.partial_signatures).length, 1);
  assertEquals(await node("finalizepsbt", [first.psbt, false]).then((r) => r.complete), false);
  const second = await call("walletprocesspsbt", [first.psbt], "m2");
  assertEquals(second.complete, true);
  const finalized = await node("finalizepsbt", [second.psbt]);
  assertEquals(finalized.complete, true);
  const txid = await node("sendrawtransaction", [finalized.hex]);
  await mine();
  assertEquals((await call("gettransaction", [txid], "m1")).confirmations, 1);
  assertEquals(await call("getbalance", [], "m1"), await call("getbalance", [], "m2"));

  // Signed apart, combined: the same. Kept across a reload, keys and all.
  await node("unloadwallet", ["m1"]);
  await node("loadwallet", ["m1"]);
  assertEquals(
    (await call("listdescriptors", [true], "m1")).descriptors.map((d: { desc: string }) => d.desc)
      .sort(),
    [...given[1]].sort(),
  );
  const again = await call("walletcreatefundedpsbt", [[], [{ [payee]: 0.5 }]], "m2");
  const apart = await Promise.all(
    ["m0", "m1"].map(async (name) => {
      const signed = await call("walletprocesspsbt", [again.psbt], name);
      assertEquals(signed.complete, false);
      return signed.psbt;
    }),
  );
  const combined = await node("combinepsbt", [apart]);
  const done = await node("finalizepsbt", [combined]);
  assertEquals(done.complete, true);
  await node("sendrawtransaction", [done.hex]);
  await mine();
  assertEquals(await call("getbalance", [], "m0"), await call("getbalance", [], "m2"));
});
