/**
 * importdescriptors with private keys, as a user rebuilds a wallet from
 * another's `listdescriptors true` or imports keys a test framework made:
 * a node and a wallet process over HTTP. The imported wallet finds the
 * coins, hands out the same addresses, signs sends and messages with the
 * imported keys, shows them back (`listdescriptors true`, `gethdkeys`),
 * and an encrypted one keeps them sealed across a reload and a passphrase
 * change. Public descriptors, locked wallets and keys of other kinds are
 * refused.
 *
 * @module
 */
import { HDKey } from "@scure/bip32";
import { WIF } from "@scure/btc-signer";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { assert, assertEquals } from "../../assert.ts";
import { startImportTarget, UNLOCK_NEEDED } from "./import_target.ts";
import { REGTEST, TEST_VERSIONS } from "../../../components/wallet/network.ts";

interface Listed {
  desc: string;
  active: boolean;
  internal: boolean;
  range: [number, number];
  next_index: number;
}

Deno.test("importdescriptors with private keys: a blank wallet rebuilt from another's listdescriptors true spends and signs as it", async () => {
  await using target = await startImportTarget();
  const { call, node, mine } = target;

  await node("createwallet", ["keys"]);
  // A coin of each of its four kinds.
  const legacy = await call("getnewaddress", ["", "legacy"], "keys");
  for (const type of ["p2sh-segwit", "bech32", "bech32m"]) {
    await call("sendtoaddress", [await call("getnewaddress", ["", type], "keys"), 1.25]);
  }
  await call("sendtoaddress", [legacy, 1.25]);
  await mine();
  const privates: Listed[] = (await call("listdescriptors", [true], "keys")).descriptors;
  assert(privates.every((d) => d.desc.includes("tprv")), "listdescriptors true shows tprv");

  // A blank wallet with private keys takes them, not the public ones (Core's refusal).
  await node("createwallet", ["copy", false, true]);
  const publicWpkh = (await call("listdescriptors", [], "keys")).descriptors[0].desc;
  assertEquals(
    await call("importdescriptors", [[{ desc: publicWpkh, timestamp: 0 }]], "copy"),
    [{
      success: false,
      error: {
        code: -4,
        message:
          "Cannot import descriptor without private keys to a wallet with private keys enabled",
      },
      warnings: ["Range not given, using default keypool range"],
    }],
  );
  const requests = privates.map(({ desc, internal, range, next_index }) => ({
    desc,
    timestamp: 0,
    active: true,
    internal,
    range,
    next_index,
  }));
  assertEquals(
    await call("importdescriptors", [requests], "copy"),
    requests.map(() => ({ success: true })),
  );
  assertEquals(await call("getbalance", [], "copy"), 5);
  assertEquals(await call("getnewaddress", [], "copy"), await call("getnewaddress", [], "keys"));
  const summary = (listed: Listed[]) => listed.map((d) => [d.desc, d.active, d.internal]);
  assertEquals(
    summary((await call("listdescriptors", [true], "copy")).descriptors),
    summary(privates),
  );
  // Its public descriptors are the other's as Core shows them: the tprv's hardened steps taken.
  assertEquals(
    summary((await call("listdescriptors", [], "copy")).descriptors),
    summary((await call("listdescriptors", [], "keys")).descriptors),
  );
  // Its master key is the other's, and it holds the private one.
  const hdKeys = async (wallet: string) =>
    (await call("gethdkeys", [{ private: true }], wallet)).map((
      k: { xpub: string; xprv: string; has_private: boolean; descriptors: unknown[] },
    ) => [k.xpub, k.xprv, k.has_private, k.descriptors.length]);
  assertEquals(await hdKeys("copy"), await hdKeys("keys"));
  assertEquals((await hdKeys("copy"))[0].slice(2), [true, 8]);

  // It signs: a message as the other does, and a send the other sees.
  assertEquals(
    await call("signmessage", [legacy, "imported"], "copy"),
    await call("signmessage", [legacy, "imported"], "keys"),
  );
  const payee = await call("getnewaddress", [], "w");
  const txid = await call("sendtoaddress", [payee, 2], "copy");
  await mine();
  assertEquals((await call("gettransaction", [txid], "keys")).confirmations, 1);
  assertEquals(await call("getbalance", [], "copy"), await call("getbalance", [], "keys"));

  // Kept across a reload; every coin left, of whichever kind, spent with the imported keys.
  await node("unloadwallet", ["copy"]);
  await node("loadwallet", ["copy"]);
  assertEquals(
    summary((await call("listdescriptors", [true], "copy")).descriptors),
    summary(privates),
  );
  const back = await call("sendall", [[payee]], "copy");
  assert(back.complete, JSON.stringify(back));
  const { decoded } = await call("gettransaction", [back.txid, false, true], "copy");
  assert(decoded.vin.length >= 3, `${decoded.vin.length} inputs`);
});

Deno.test("importdescriptors with private keys: an encrypted blank wallet seals an account key and a WIF key, across a reload and a passphrase change", async () => {
  await using target = await startImportTarget();
  const { call, node, mine, checksummed } = target;

  await node("createwallet", ["keys"]);
  const paid = await call("getnewaddress", ["", "bech32"], "keys");
  await call("sendtoaddress", [paid, 0.5]);
  // An account's private key with its origin, as a hardware wallet's export or a test framework has it.
  const [{ xprv }] = await call("gethdkeys", [{ private: true }], "keys");
  const master = HDKey.fromExtendedKey(xprv, TEST_VERSIONS);
  const fingerprint = master.fingerprint.toString(16).padStart(8, "0");
  const account = master.derive("m/84'/1'/0'").privateExtendedKey;
  const accountDesc = await checksummed(`wpkh([${fingerprint}/84h/1h/0h]${account}/0/*)`);
  // A lone key, paid too (a legacy one: it signs messages).
  const lone = secp256k1.utils.randomSecretKey();
  const loneDesc = await checksummed(`pkh(${WIF(REGTEST).encode(lone)})`);
  const [loneAddress] = await node("deriveaddresses", [loneDesc]);
  await call("sendtoaddress", [loneAddress, 0.25]);
  await mine();

  await node("createwallet", ["sealed", false, true, "pass"]);
  const imports = [
    { desc: accountDesc, timestamp: 0, active: true, range: [0, 10] },
    { desc: loneDesc, timestamp: 0 },
  ];
  assertEquals(await call("importdescriptors", [imports], "sealed"), UNLOCK_NEEDED);
  await call("walletpassphrase", ["pass", 600], "sealed");
  assertEquals(await call("importdescriptors", [imports], "sealed"), [
    { success: true },
    { success: true },
  ]);
  assertEquals(await call("getbalance", [], "sealed"), 0.75);
  const listedPrivate = async () =>
    (await call("listdescriptors", [true], "sealed")).descriptors.map((d: Listed) => d.desc)
      .sort();
  assertEquals(await listedPrivate(), [accountDesc, loneDesc].sort());
  assertEquals((await call("getaddressinfo", [paid], "sealed")).hdkeypath, "m/84h/1h/0h/0/0");
  // gethdkeys shows the account key as written, with its private key.
  assertEquals(
    (await call("gethdkeys", [{ private: true }], "sealed")).map((
      k: { xpub: string; xprv: string; has_private: boolean },
    ) => [k.xpub, k.xprv, k.has_private]),
    [[HDKey.fromExtendedKey(account, TEST_VERSIONS).publicExtendedKey, account, true]],
  );
  // Nothing of them in the clear on disk.
  const file = `${target.walletDir}/wallets/sealed/wallet.dat`;
  const onDisk = () => new TextDecoder("latin1").decode(Deno.readFileSync(file));
  assert(!onDisk().includes(account) && !onDisk().includes(loneDesc.slice(5, 30)), "sealed");

  // Reloaded, locked: the keys come back with the passphrase only.
  await node("unloadwallet", ["sealed"]);
  await node("loadwallet", ["sealed"]);
  const payee = await call("getnewaddress", [], "w");
  // (Core's sendall leaves a locked wallet's PSBT unsigned.)
  assertEquals((await call("sendall", [[payee]], "sealed")).complete, false);
  assertEquals(await call("listdescriptors", [true], "sealed"), UNLOCK_NEEDED);
  await call("walletpassphrase", ["pass", 600], "sealed");
  // A new passphrase while unlocked: what it imports next is sealed under that one.
  await call("walletpassphrasechange", ["pass", "next"], "sealed");
  const taproot = await checksummed(
    `tr([${fingerprint}/86h/1h/0h]${master.derive("m/86'/1'/0'").privateExtendedKey}/0/*)`,
  );
  assertEquals(
    await call(
      "importdescriptors",
      [[{ desc: taproot, timestamp: "now", active: true }]],
      "sealed",
    ),
    [{ success: true, warnings: ["Range not given, using default keypool range"] }],
  );
  await call("walletlock", [], "sealed");
  assertEquals(
    await call("walletpassphrase", ["pass", 600], "sealed"),
    { error: { code: -14, message: "Error: The wallet passphrase entered was incorrect." } },
  );
  await call("walletpassphrase", ["next", 600], "sealed");
  // The lone key signs a message the node verifies.
  const signature = await call("signmessage", [loneAddress, "sealed"], "sealed");
  assertEquals(await node("verifymessage", [loneAddress, signature, "sealed"]), true);
  assertEquals(await listedPrivate(), [accountDesc, loneDesc, taproot].sort());
  // Both coins spent with the imported keys: the account's and the lone key's.
  const spent = await call("sendall", [[payee]], "sealed");
  assert(spent.complete, JSON.stringify(spent));
  const tx = await call("gettransaction", [spent.txid, false, true], "sealed");
  assertEquals(tx.decoded.vin.length, 2);
  await mine();
  assertEquals(await call("getbalance", [], "sealed"), 0);
});

Deno.test("importdescriptors with private keys: keys this wallet cannot sign with are refused, saying so", async () => {
  await using target = await startImportTarget();
  const { call, node, checksummed } = target;
  const [{ xprv }] = await call("gethdkeys", [{ private: true }], "w");
  const wif = WIF(REGTEST).encode(secp256k1.utils.randomSecretKey());
  await node("createwallet", ["blank", false, true]);
  const importOne = async (desc: string, extra: Record<string, unknown> = {}) =>
    (await call("importdescriptors", [[{ desc, timestamp: "now", ...extra }]], "blank"))[0];
  const refusal = async (desc: string, extra?: Record<string, unknown>) => {
    const result = await importOne(desc, extra);
    assertEquals([result.success, result.error?.code], [false, -4], JSON.stringify(result));
    return result.error.message as string;
  };
  assert(
    (await refusal(await checksummed(`pk(${wif})`))).includes("signs for the compressed keys of"),
  );
  assert(
    (await refusal(await checksummed(`combo(${wif})`))).includes(
      "signs for the compressed keys of",
    ),
  );
  assert(
    (await refusal(await checksummed(`wpkh(${xprv}/0/*h)`), { range: 2 }))
      .includes("unhardened at their last step"),
  );
  // Nothing was imported by the refusals.
  assertEquals((await call("listdescriptors", [], "blank")).descriptors, []);
  // A key of a kind it signs for, with hardened steps after the private key: imported.
  assertEquals(await importOne(await checksummed(`wpkh(${xprv}/84h/1h/0h/0/*)`), { range: 2 }), {
    success: true,
  });
});

Deno.test("importdescriptors with private keys: an import and a change of the keyring's sealing in flight at once both hold", async () => {
  await using target = await startImportTarget();
  const { call, node, checksummed } = target;
  const [{ xprv }] = await call("gethdkeys", [{ private: true }], "w");
  const master = HDKey.fromExtendedKey(xprv, TEST_VERSIONS);
  const imported = async (wallet: string) =>
    (await call("listdescriptors", [true], wallet)).descriptors.map((d: Listed) => d.desc);
  const request = async (account: number) => ({
    desc: await checksummed(
      `wpkh(${master.derive(`m/84'/1'/${account}'`).privateExtendedKey}/0/*)`,
    ),
    timestamp: "now",
    range: [0, 2],
  });

  // Each import races a change of the keyring's sealing: whichever goes first, an import that
  // succeeds is kept, and one that does not says so (the wallet was locked by then).
  await node("createwallet", ["first", false, true]);
  const kept: string[] = [];
  const race = async (change: () => Promise<unknown>, account: number) => {
    const { desc } = await request(account);
    const [changed, result] = await Promise.all([
      change(),
      call("importdescriptors", [[await request(account)]], "first"),
    ]);
    assert(changed === null || typeof changed === "string", JSON.stringify(changed));
    if (result[0]?.success) kept.push(desc);
    else assertEquals((result[0] ?? result).error.code, -13, JSON.stringify(result));
  };
  await race(() => call("encryptwallet", ["pass"], "first"), 1);
  await call("walletpassphrase", ["pass", 600], "first");
  await race(() => call("walletpassphrasechange", ["pass", "next"], "first"), 2);
  await race(() => call("walletpassphrase", ["next", 600], "first"), 3);
  await race(() => call("walletpassphrasechange", ["next", "last"], "first"), 4);
  await race(() => call("walletpassphrase", ["last", 600], "first"), 5);
  assert(kept.length >= 4, `${kept.length} of 5 imported`);
  await call("walletlock", [], "first");
  await call("walletpassphrase", ["last", 600], "first");
  assertEquals((await imported("first")).sort(), kept.sort());
});

Deno.test("importdescriptors with private keys: a wallet with keys of its own takes another's active descriptors, its own watched still, as Core's", async () => {
  await using target = await startImportTarget();
  const { call, node, mine } = target;

  await node("createwallet", ["keys"]);
  await call("sendtoaddress", [await call("getnewaddress", [], "keys"), 1]);
  // A wallet of its own, paid before it takes the other's descriptors.
  await node("createwallet", ["restore"]);
  await call("sendtoaddress", [await call("getnewaddress", [], "restore"), 2]);
  await mine();
  const ownBefore: Listed[] = (await call("listdescriptors", [true], "restore")).descriptors;
  const privates: Listed[] = (await call("listdescriptors", [true], "keys")).descriptors;
  const requests = privates.map(({ desc, internal }) => ({
    desc,
    timestamp: 0,
    active: true,
    internal,
  }));
  const results = await call("importdescriptors", [requests], "restore");
  assert(results.every((r: { success: boolean }) => r.success), JSON.stringify(results));

  // The other's hand out addresses now; its own are watched, their coins spent as before.
  assertEquals(await call("getnewaddress", [], "restore"), await call("getnewaddress", [], "keys"));
  assertEquals(await call("getbalance", [], "restore"), 3);
  const summary = (listed: Listed[]) =>
    listed.map((d) => [d.desc, d.active]).sort((a, b) => a[0] < b[0] ? -1 : 1);
  const expected = summary([
    ...privates,
    ...ownBefore.map((d) => ({ ...d, active: false })),
  ]);
  assertEquals(summary((await call("listdescriptors", [true], "restore")).descriptors), expected);
  const hdKeys: { has_private: boolean; descriptors: { active: boolean }[] }[] = await call(
    "gethdkeys",
    [],
    "restore",
  );
  // Two master keys, both private: the other's with the active descriptors, its own with the rest.
  assertEquals(
    hdKeys.map((k) => [k.has_private, k.descriptors.filter((d) => d.active).length]).sort(),
    [[true, 0], [true, 8]],
  );
  assertEquals(hdKeys.map((k) => k.descriptors.length), [8, 8]);
  // Kept across a reload; a send spends the coins of both.
  await node("unloadwallet", ["restore"]);
  await node("loadwallet", ["restore"]);
  assertEquals(summary((await call("listdescriptors", [true], "restore")).descriptors), expected);
  const payee = await call("getnewaddress", [], "w");
  const spent = await call("sendall", [[payee]], "restore");
  assert(spent.complete, JSON.stringify(spent));
  const { decoded } = await call("gettransaction", [spent.txid, false, true], "restore");
  assertEquals(decoded.vin.length, 2);
});

Deno.test("importdescriptors with private keys: a wallet given its own listdescriptors true knows its own descriptors", async () => {
  await using target = await startImportTarget();
  const { call, node } = target;
  await node("createwallet", ["own"]);
  const own: Listed[] = (await call("listdescriptors", [true], "own")).descriptors;
  const receiving = own.find((d) => d.desc.startsWith("wpkh(") && !d.internal)!;
  const count = async () => (await call("listdescriptors", [], "own")).descriptors.length;
  // Made inactive: no more bech32 addresses, the same eight descriptors.
  assertEquals(
    await call("importdescriptors", [[{ desc: receiving.desc, timestamp: "now" }]], "own"),
    [{ success: true, warnings: ["Range not given, using default keypool range"] }],
  );
  assertEquals(await call("getnewaddress", [], "own"), {
    error: { code: -12, message: "Error: No bech32 addresses available." },
  });
  assertEquals(await count(), 8);
  // Active again: its addresses from the index given, still eight, all under its master key.
  const again = await call("importdescriptors", [[{
    desc: receiving.desc,
    timestamp: "now",
    active: true,
    range: [0, 999],
    next_index: 3,
  }]], "own");
  assertEquals(again, [{ success: true }]);
  const [third] = await node("deriveaddresses", [receiving.desc, [3, 3]]);
  assertEquals(await call("getnewaddress", [], "own"), third);
  assertEquals(await count(), 8);
  const hdKeys = await call("gethdkeys", [], "own");
  assertEquals(hdKeys.map((k: { descriptors: unknown[] }) => k.descriptors.length), [8]);
  // Kept across a reload.
  await node("unloadwallet", ["own"]);
  await node("loadwallet", ["own"]);
  assertEquals(await count(), 8);
  const [fourth] = await node("deriveaddresses", [receiving.desc, [4, 4]]);
  assertEquals(await call("getnewaddress", [], "own"), fourth);
});
