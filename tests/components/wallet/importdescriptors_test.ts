/**
 * importdescriptors end to end, as a watch-only setup uses it (a hardware
 * wallet's or another wallet's public descriptors in a wallet without
 * private keys): a node and a wallet process over HTTP. The watch-only
 * wallet finds the coins of the imported descriptors from their timestamp,
 * hands out the same addresses as the wallet holding the keys, funds a
 * PSBT that wallet signs, and keeps all of it across a reload. Core's
 * refusals with Core's codes and texts, each in its own result.
 *
 * @module
 */
import { HDKey } from "@scure/bip32";
import { hex } from "@scure/base";
import { assert, assertEquals } from "../../assert.ts";
import { startImportTarget } from "./import_target.ts";

interface Listed {
  desc: string;
  timestamp: number;
  active: boolean;
  internal: boolean;
  range: [number, number];
  next_index: number;
}

Deno.test("importdescriptors: a watch-only wallet of another wallet's descriptors sees its coins and funds PSBTs it signs", async () => {
  await using target = await startImportTarget();
  const { call, node, mine } = target;

  // The wallet holding the keys, paid three times.
  await node("createwallet", ["keys"]);
  for (const amount of [1.5, 2.25, 0.75]) {
    await call("sendtoaddress", [await call("getnewaddress", [], "keys"), amount]);
  }
  await mine();
  const listed: Listed[] = (await call("listdescriptors", [], "keys")).descriptors;
  const wpkh = (internal: boolean) =>
    listed.find((d) => d.desc.startsWith("wpkh(") && d.internal === internal)!.desc;

  // The watch-only wallet imports the wpkh pair: the coins come with the rescan.
  await node("createwallet", ["watch", true, true]);
  assertEquals(await call("getbalance", [], "watch"), 0);
  const results = await call("importdescriptors", [[
    { desc: wpkh(false), timestamp: 0, active: true, range: [0, 20] },
    { desc: wpkh(true), timestamp: 0, active: true, internal: true },
  ]], "watch");
  assertEquals(results, [
    { success: true },
    { success: true, warnings: ["Range not given, using default keypool range"] },
  ]);
  assertEquals(await call("getbalance", [], "watch"), 4.5);
  const utxos = (wallet: string) =>
    call("listunspent", [], wallet).then((coins: { txid: string; vout: number }[]) =>
      coins.map(({ txid, vout }) => `${txid}:${vout}`).sort()
    );
  assertEquals(await utxos("watch"), await utxos("keys"));

  // The same addresses, and what getaddressinfo says of them.
  const next = await call("getnewaddress", [], "watch");
  assertEquals(next, await call("getnewaddress", [], "keys"));
  const info = await call("getaddressinfo", [next], "watch");
  const own = await call("getaddressinfo", [next], "keys");
  assertEquals(
    [info.ismine, info.solvable, info.parent_desc, info.hdkeypath, info.hdmasterfingerprint],
    [true, true, wpkh(false), own.hdkeypath, own.hdmasterfingerprint],
  );
  assertEquals([info.desc, info.timestamp], [own.desc, 1]);
  assertEquals(
    await call("getrawchangeaddress", [], "watch"),
    await call("getrawchangeaddress", [], "keys"),
  );
  // No taproot descriptor imported: Core's -12.
  assertEquals(await call("getnewaddress", ["", "bech32m"], "watch"), {
    error: { code: -12, message: "Error: No bech32m addresses available." },
  });

  // A PSBT the watch-only wallet funds (change to its change chain), the other signs.
  const payee = await call("getnewaddress", [], "w");
  const funded = await call("walletcreatefundedpsbt", [[], [{ [payee]: 3 }]], "watch");
  const unsigned = await call("walletprocesspsbt", [funded.psbt], "watch");
  assertEquals(unsigned.complete, false);
  const signed = await call("walletprocesspsbt", [funded.psbt], "keys");
  assertEquals(signed.complete, true);
  const { hex } = await node("finalizepsbt", [signed.psbt]);
  const txid = await node("sendrawtransaction", [hex]);
  await mine();
  const fee = -(await call("gettransaction", [txid], "keys")).fee;
  const balance = await call("getbalance", [], "keys");
  assertEquals(balance, Number((4.5 - 3 - fee).toFixed(8)));
  assertEquals(await call("getbalance", [], "watch"), balance);
  assertEquals(await utxos("watch"), await utxos("keys"));

  // listdescriptors and gethdkeys of the imports.
  const imported: Listed[] = (await call("listdescriptors", [], "watch")).descriptors;
  assertEquals(
    imported.map((d) => [d.desc, d.timestamp, d.active, d.internal]),
    [
      [wpkh(false), 1, true, false],
      [wpkh(true), 1, true, true],
    ].sort((a, b) => a[0] < b[0] ? -1 : 1),
  );
  const external = imported.find((d) => !d.internal)!;
  assert(external.range[1] >= 20, `range ${external.range}`);
  // Three addresses used, one handed out since.
  assertEquals(external.next_index, 4);
  const xpub = /\]([a-zA-Z0-9]+)\//.exec(wpkh(false))![1];
  assertEquals(await call("gethdkeys", [], "watch"), [{
    xpub,
    has_private: false,
    descriptors: [wpkh(false), wpkh(true)].sort().map((desc) => ({ desc, active: true })),
  }]);
  assertEquals(await call("listdescriptors", [true], "watch"), {
    error: { code: -4, message: "Can't get private descriptor string for watch-only wallets" },
  });

  // Kept across a reload.
  await node("unloadwallet", ["watch"]);
  await node("loadwallet", ["watch"]);
  // (The keypool tops up at load, as any wallet's: the ranges may have grown.)
  const summary = (descriptors: Listed[]) =>
    descriptors.map((d) => [d.desc, d.timestamp, d.active, d.internal, d.next_index]);
  assertEquals(
    summary((await call("listdescriptors", [], "watch")).descriptors),
    summary(imported),
  );
  assertEquals(await call("getbalance", [], "watch"), balance);
  assertEquals(await call("getnewaddress", [], "watch"), await call("getnewaddress", [], "keys"));

  // A taproot pair imported later with "now": no scan needed for unused keys; addresses agree.
  const tr = (internal: boolean) =>
    listed.find((d) => d.desc.startsWith("tr(") && d.internal === internal)!.desc;
  assertEquals(
    await call("importdescriptors", [[
      { desc: tr(false), timestamp: "now", active: true },
      { desc: tr(true), timestamp: "now", active: true, internal: true },
    ]], "watch"),
    [0, 1].map(() => ({
      success: true,
      warnings: ["Range not given, using default keypool range"],
    })),
  );
  assertEquals(
    await call("getnewaddress", ["", "bech32m"], "watch"),
    await call("getnewaddress", ["", "bech32m"], "keys"),
  );
});

Deno.test("importdescriptors: Core's refusals, each in its own result, and the ones that fail the call", async () => {
  await using target = await startImportTarget();
  const { call, node, checksummed } = target;
  await node("createwallet", ["watch", true, true]);
  const listed: Listed[] = (await call("listdescriptors")).descriptors;
  const wpkh = listed.find((d) => d.desc.startsWith("wpkh(") && !d.internal)!.desc;
  const privateWpkh = (await call("listdescriptors", [true])).descriptors
    .find((d: Listed) => d.desc.startsWith("wpkh(") && d.desc.includes("/84h/1h/0h/0/*"))!.desc;
  const single = (await call("getaddressinfo", [await call("getnewaddress")])).desc;
  const tpub = /\]([a-zA-Z0-9]+)\//.exec(wpkh)![1];
  const refused = (code: number, message: string) => ({ success: false, error: { code, message } });
  const importOne = async (request: Record<string, unknown>, wallet = "watch") =>
    (await call("importdescriptors", [[{ timestamp: "now", ...request }]], wallet))[0];

  assertEquals(await importOne({}), refused(-8, "Descriptor not found."));
  assertEquals(
    await importOne({ desc: wpkh.split("#")[0] }),
    refused(-5, "Missing checksum"),
  );
  assertEquals(
    await importOne({ desc: `${wpkh.split("#")[0]}#qqqqqqqq` }),
    refused(
      -5,
      `Provided checksum 'qqqqqqqq' does not match computed checksum '${wpkh.split("#")[1]}'`,
    ),
  );
  assertEquals(
    await importOne({ desc: single, range: [0, 5] }),
    refused(-8, "Range should not be specified for an un-ranged descriptor"),
  );
  assertEquals(
    await importOne({ desc: wpkh, range: [5, 2], active: true }),
    refused(-8, "Range specified as [begin,end] must not have begin after end"),
  );
  assertEquals(
    await importOne({ desc: wpkh, range: [0, 5], next_index: 6, active: true }),
    refused(-8, "next_index is out of range"),
  );
  assertEquals(
    await importOne({ desc: wpkh, next_index: 100, active: true }),
    {
      ...refused(-8, "next_index is out of range"),
      warnings: ["Range not given, using default keypool range"],
    },
  );
  assertEquals(
    await importOne({ desc: single, active: true }),
    refused(-8, "Active descriptors must be ranged"),
  );
  // Not Core's bound: each key takes about half a millisecond to derive here.
  const tooLarge = "Range is too large for this wallet: at most 10000 scripts per descriptor" +
    ", an active one's from index 0";
  assertEquals(
    await importOne({ desc: wpkh, range: [5, 10005], active: true }),
    refused(-8, tooLarge),
  );
  // An active chain derives from index 0: a narrow range far out costs its end, and is refused.
  assertEquals(
    await importOne({ desc: wpkh, range: [2_000_000, 2_000_099], active: true }),
    refused(-8, tooLarge),
  );
  // (One fewer is within it: this refusal comes later.)
  assertEquals(
    await importOne({ desc: wpkh, range: [5, 10004] }, "w"),
    refused(
      -4,
      "Cannot import descriptor without private keys to a wallet with private keys enabled",
    ),
  );
  assertEquals(
    await importOne({ desc: wpkh, label: "x", range: 3 }),
    refused(-8, "Ranged descriptors should not have a label"),
  );
  assertEquals(
    await importOne({ desc: single, label: "x", internal: true }),
    refused(-8, "Internal addresses should not have a label"),
  );
  assertEquals(
    await importOne({ desc: await checksummed(`combo(${tpub}/0/*)`), active: true, range: 2 }),
    refused(-4, "Combo descriptors cannot be set to active"),
  );
  assertEquals(
    await importOne({ desc: privateWpkh, active: true, range: 2 }),
    refused(-4, "Cannot import private keys to a wallet with private keys disabled"),
  );
  assertEquals(
    await importOne({ desc: await checksummed(`wpkh(${tpub}/0h/*)`), active: true, range: 2 }),
    refused(
      -4,
      "Cannot expand descriptor. Probably because of hardened derivations without private keys provided",
    ),
  );
  assertEquals(
    await importOne({ desc: wpkh, active: true, range: 2 }, "w"),
    refused(
      -4,
      "Cannot import descriptor without private keys to a wallet with private keys enabled",
    ),
  );
  // What this wallet does not derive ranges from, said so.
  const rangedCombo = await importOne({ desc: await checksummed(`combo(${tpub}/0/*)`), range: 2 });
  assertEquals(rangedCombo.error.code, -4);
  assert(rangedCombo.error.message.includes("ranged descriptors of"), rangedCombo.error.message);
  const rangedPk = await importOne({ desc: await checksummed(`pk(${tpub}/0/*)`), range: 2 });
  assertEquals(rangedPk.error.code, -4);
  assert(rangedPk.error.message.includes("ranged descriptors of"), rangedPk.error.message);
  // A multisig of fixed keys is watched, solvable: its script and keys known.
  await node("createwallet", ["multisig", true, true]);
  const G = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
  const G2 = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";
  const fixedMultisig = await checksummed(`wsh(multi(1,${G},${G2}))`);
  assertEquals(await importOne({ desc: fixedMultisig }, "multisig"), { success: true });
  const [multisigAddress] = await node("deriveaddresses", [fixedMultisig]);
  const multisigInfo = await call("getaddressinfo", [multisigAddress], "multisig");
  assertEquals([multisigInfo.ismine, multisigInfo.solvable], [true, true]);
  assertEquals(await node("deriveaddresses", [multisigInfo.desc]), [multisigAddress]);
  // One active descriptor per kind and side, as Core's: made inactive, it is watched still; another
  // in its place makes it inactive.
  const watchListed = async () =>
    ((await call("listdescriptors", [], "watch")).descriptors as Listed[])
      .map((d) => [d.desc, d.active, d.range?.[1]]);
  assertEquals(await importOne({ desc: wpkh, active: true, range: 2 }), { success: true });
  assertEquals(await importOne({ desc: wpkh, range: 999 }), { success: true });
  assertEquals(await watchListed(), [[wpkh, false, 999]]);
  assertEquals(await call("getnewaddress", [], "watch"), {
    error: { code: -4, message: "Error: This wallet has no available keys" },
  });
  const other = await checksummed(`wpkh(${tpub}/7/*)`);
  assertEquals(await importOne({ desc: other, active: true, range: 2 }), { success: true });
  const [otherFirst] = await node("deriveaddresses", [other, [0, 0]]);
  assertEquals(await call("getnewaddress", [], "watch"), otherFirst);
  // Imported again, its range must include the current one, as in Core.
  const again = await importOne({ desc: wpkh, active: true, range: 9 });
  assertEquals(again.error.code, -4);
  assert(
    again.error.message.startsWith(`Could not add descriptor '${wpkh}': new range must include`),
    again.error.message,
  );
  assertEquals(await importOne({ desc: wpkh, active: true, range: 999 }), { success: true });
  const byFirst = (a: unknown[], b: unknown[]) => String(a[0]) < String(b[0]) ? -1 : 1;
  assertEquals(
    (await watchListed()).sort(byFirst),
    [[wpkh, true, 999], [other, false, 99]].sort(byFirst),
  );
  // Both under the one extended key they were written with (gethdkeys), active or not.
  assertEquals(
    (await call("gethdkeys", [], "watch")).map((k: { xpub: string; descriptors: unknown[] }) => [
      k.xpub,
      k.descriptors.length,
    ]),
    [[tpub, 2]],
  );
  // Imported inactive for the other side, an active descriptor stays active (as Core's).
  assertEquals(await importOne({ desc: wpkh, range: 999, internal: true }), { success: true });
  assertEquals(typeof await call("getnewaddress", [], "watch"), "string");
  // A multipath descriptor is a receiving and a change descriptor: no 'internal', no label.
  const multipathText = wpkh.split("#")[0].replace("/0/*)", "/<0;1>/*)");
  const multipath = `${multipathText}#${
    (await node("getdescriptorinfo", [multipathText])).checksum
  }`;
  assertEquals(
    await importOne({ desc: multipath, active: true, internal: false }),
    refused(-5, "Cannot have multipath descriptor while also specifying 'internal'"),
  );
  // (Core warns of the default range before it looks at the label.)
  assertEquals(await importOne({ desc: multipath, label: "x" }), {
    ...refused(-8, "Multipath descriptors should not have a label"),
    warnings: ["Range not given, using default keypool range"],
  });
  await node("createwallet", ["paths", true, true]);
  assertEquals(await importOne({ desc: multipath, active: true, range: 5 }, "paths"), {
    success: true,
  });
  const change = listed.find((d) => d.desc.startsWith("wpkh(") && d.internal)!.desc;
  const paths: Listed[] = (await call("listdescriptors", [], "paths")).descriptors;
  assertEquals(
    paths.map((d) => [d.desc, d.active, d.internal]),
    [[wpkh, true, false], [change, true, true]].sort((a, b) => a[0] < b[0] ? -1 : 1),
  );
  // (The rescan found "w"'s own use of these addresses: the next ones are past it.)
  const parentOf = async (address: string) =>
    (await call("getaddressinfo", [address], "paths")).parent_desc;
  assertEquals(await parentOf(await call("getnewaddress", [], "paths")), wpkh);
  assertEquals(await parentOf(await call("getrawchangeaddress", [], "paths")), change);
  // A failed request does not stop the others.
  assertEquals(
    await call("importdescriptors", [[
      { desc: "nonsense", timestamp: "now" },
      { desc: wpkh, timestamp: "now", active: true, range: 999 },
    ]], "watch"),
    [refused(-5, "Missing checksum"), { success: true }],
  );

  // A missing or mistyped timestamp fails the whole call, before anything is imported.
  assertEquals(await call("importdescriptors", [[{ desc: wpkh }]], "watch"), {
    error: { code: -3, message: "Missing required timestamp field for key" },
  });
  // A request that is no object has no timestamp either.
  assertEquals(await call("importdescriptors", [[true]], "watch"), {
    error: { code: -3, message: "Missing required timestamp field for key" },
  });
  assertEquals(await call("importdescriptors", [[{ desc: wpkh, timestamp: true }]], "watch"), {
    error: { code: -3, message: 'Expected number or "now" timestamp value for key. got type bool' },
  });
});

Deno.test("importdescriptors: descriptors watched, not handed out (an address, one key, a range); their coins, and which of them fund a PSBT", async () => {
  await using target = await startImportTarget();
  const { call, node, mine, checksummed } = target;
  const byDesc = (a: { desc: string }, b: { desc: string }) => a.desc < b.desc ? -1 : 1;

  // The wallet holding the keys: an address to watch as addr(), one as its key, and the first
  // of a range.
  await node("createwallet", ["keys"]);
  const cold = await call("getnewaddress", [], "keys");
  const single = await call("getnewaddress", [], "keys");
  const shWpkh = ((await call("listdescriptors", [], "keys")).descriptors as Listed[])
    .find((d) => d.desc.startsWith("sh(wpkh(") && !d.internal)!.desc;
  const ranged = await call("getnewaddress", ["", "p2sh-segwit"], "keys");
  const paid = new Map<string, string>();
  for (const [address, amount] of [[cold, 1], [single, 2], [ranged, 4]] as const) {
    paid.set(address, await call("sendtoaddress", [address, amount]));
  }
  await mine();
  const addrDesc = await checksummed(`addr(${cold})`);
  const keyDesc: string = (await call("getaddressinfo", [single], "keys")).desc;

  await node("createwallet", ["watch", true, true]);
  assertEquals(
    await call("importdescriptors", [[
      { desc: addrDesc, timestamp: 0, label: "cold" },
      { desc: keyDesc, timestamp: 0 },
      { desc: shWpkh, timestamp: 0, range: [0, 5] },
    ]], "watch"),
    [{ success: true }, { success: true }, { success: true }],
  );
  assertEquals(await call("getbalance", [], "watch"), 7);
  const coins: Record<string, unknown>[] = await call("listunspent", [], "watch");
  const coin = (address: string) => coins.find((c) => c.address === address)!;
  const shown = (address: string) => {
    const { solvable, desc, parent_descs, label } = coin(address);
    return [solvable, desc, parent_descs, label];
  };
  // An addr(): watched and labelled, but not solvable: no descriptor of its own.
  assertEquals(shown(cold), [false, undefined, [addrDesc], "cold"]);
  assertEquals(shown(single), [true, keyDesc, [keyDesc], ""]);
  assertEquals((coin(ranged).parent_descs as string[])[0], shWpkh);
  const coldInfo = await call("getaddressinfo", [cold], "watch");
  assertEquals(
    [coldInfo.ismine, coldInfo.solvable, coldInfo.parent_desc, coldInfo.labels],
    [true, false, addrDesc, ["cold"]],
  );
  const singleInfo = await call("getaddressinfo", [single], "watch");
  assertEquals([singleInfo.ismine, singleInfo.solvable, singleInfo.desc], [true, true, keyDesc]);
  // Watched descriptors hand out nothing.
  assertEquals(await call("getnewaddress", [], "watch"), {
    error: { code: -4, message: "Error: This wallet has no available keys" },
  });
  // The range's first address was paid: its next index moved past it, and the range grew to the
  // keypool's 100 scripts beyond (Core's MarkUnusedAddresses and TopUp).
  const expected = [
    { desc: addrDesc, timestamp: 1, active: false },
    { desc: keyDesc, timestamp: 1, active: false },
    { desc: shWpkh, timestamp: 1, active: false, range: [0, 100], next: 1, next_index: 1 },
  ].sort(byDesc);
  assertEquals((await call("listdescriptors", [], "watch")).descriptors, expected);

  // A PSBT: the solvable coins fund it, never the addr() one; pre-selected, that one is refused.
  const payee = await call("getnewaddress", [], "w");
  const changeAddress = await call("getnewaddress", [], "keys");
  const coldOutpoint = { txid: coin(cold).txid as string, vout: coin(cold).vout };
  assertEquals(
    await call("walletcreatefundedpsbt", [[coldOutpoint], [{ [payee]: 0.5 }]], "watch"),
    {
      error: {
        code: -4,
        message: `Not solvable pre-selected input COutPoint(${
          coldOutpoint.txid.slice(0, 10)
        }, ${coldOutpoint.vout})`,
      },
    },
  );
  assertEquals(
    await call("walletcreatefundedpsbt", [[], [{ [payee]: 6.5 }], 0, { changeAddress }], "watch"),
    { error: { code: -4, message: "Insufficient funds" } },
  );
  const funded = await call(
    "walletcreatefundedpsbt",
    [[], [{ [payee]: 5.5 }], 0, { changeAddress }],
    "watch",
  );
  const decoded = await node("decodepsbt", [funded.psbt]);
  assertEquals(
    decoded.tx.vin.map((input: { txid: string }) => input.txid).sort(),
    [paid.get(single), paid.get(ranged)].sort(),
  );
  const signed = await call("walletprocesspsbt", [funded.psbt], "keys");
  assertEquals(signed.complete, true);
  await node("sendrawtransaction", [(await node("finalizepsbt", [signed.psbt])).hex]);
  await mine();
  assertEquals(await call("getbalance", [], "watch"), 1);

  // Kept across a reload.
  await node("unloadwallet", ["watch"]);
  await node("loadwallet", ["watch"]);
  assertEquals((await call("listdescriptors", [], "watch")).descriptors, expected);
  assertEquals(await call("getbalance", [], "watch"), 1);
  // The watched scripts come back from the database, their keys derived when asked.
  const reloaded = await call("getaddressinfo", [single], "watch");
  assertEquals([reloaded.ismine, reloaded.solvable, reloaded.desc], [true, true, keyDesc]);
  assertEquals(
    (await call("getaddressinfo", [ranged], "watch")).parent_desc,
    shWpkh,
  );

  // A watched range made active: its addresses are handed out from past the one used. (Over its
  // range, which grew: the default keypool range no longer includes it, as in Core.)
  assertEquals(
    await call("importdescriptors", [[{ desc: shWpkh, timestamp: 0, active: true }]], "watch"),
    [{
      success: false,
      error: {
        code: -4,
        message:
          `Could not add descriptor '${shWpkh}': new range must include current range = [0,100]`,
      },
      warnings: ["Range not given, using default keypool range"],
    }],
  );
  assertEquals(
    await call("importdescriptors", [[
      { desc: shWpkh, timestamp: 0, active: true, range: [0, 100] },
    ]], "watch"),
    [{ success: true }],
  );
  assertEquals(
    await call("getnewaddress", ["", "p2sh-segwit"], "watch"),
    await call("getnewaddress", ["", "p2sh-segwit"], "keys"),
  );
  const listed: Listed[] = (await call("listdescriptors", [], "watch")).descriptors;
  assertEquals(
    listed.map((d) => [d.desc, d.active]),
    [[addrDesc, false], [keyDesc, false], [shWpkh, true]].sort((a, b) => a[0] < b[0] ? -1 : 1),
  );
});

Deno.test("importdescriptors: a descriptor imported again is updated as Core's, and a wallet without change pays what needs none", async () => {
  await using target = await startImportTarget();
  const { call, node, mine } = target;
  await node("createwallet", ["keys"]);
  const listed: Listed[] = (await call("listdescriptors", [], "keys")).descriptors;
  const find = (prefix: string, internal: boolean) =>
    listed.find((d) => d.desc.startsWith(prefix) && d.internal === internal)!.desc;
  const shWpkh = find("sh(wpkh(", false);
  const wpkh = find("wpkh(", false);
  // A coin at index 150 of the sh(wpkh()) chain, another at index 0 of the wpkh() one.
  const [far] = await node("deriveaddresses", [shWpkh, [150, 150]]);
  await call("sendtoaddress", [far, 1]);
  await call("sendtoaddress", [(await node("deriveaddresses", [wpkh, [0, 0]]))[0], 2]);
  await mine();
  const importOne = async (wallet: string, request: Record<string, unknown>) =>
    (await call("importdescriptors", [[{ timestamp: 0, ...request }]], wallet))[0];

  await node("createwallet", ["watch", true, true]);
  assertEquals(await importOne("watch", { desc: shWpkh, range: [0, 200] }), { success: true });
  assertEquals(await call("getbalance", [], "watch"), 1);
  // The coin at 150 moved the range's next index past it, and the range grew to the keypool's
  // 100 scripts beyond (Core's MarkUnusedAddresses and TopUp): a coin at 240 is seen, and moves
  // them again.
  const shWpkhRange = async () =>
    ((await call("listdescriptors", [], "watch")).descriptors as Listed[])
      .filter((d) => d.desc === shWpkh).map((d) => [d.range, d.next_index]);
  assertEquals(await shWpkhRange(), [[[0, 250], 151]]);
  await call("sendtoaddress", [(await node("deriveaddresses", [shWpkh, [240, 240]]))[0], 0.5]);
  await mine();
  assertEquals(await call("getbalance", [], "watch"), 1.5);
  assertEquals(await shWpkhRange(), [[[0, 340], 241]]);
  // A range that does not include the current one is refused, watched or active.
  const narrower = {
    success: false,
    error: {
      code: -4,
      message:
        `Could not add descriptor '${shWpkh}': new range must include current range = [0,340]`,
    },
  };
  assertEquals(await importOne("watch", { desc: shWpkh, range: [10, 300] }), narrower);
  assertEquals(await importOne("watch", { desc: shWpkh, range: [0, 5], active: true }), narrower);
  assertEquals(await call("getbalance", [], "watch"), 1.5);
  // Made active over its range: the coins stay the wallet's.
  assertEquals(await importOne("watch", { desc: shWpkh, range: [0, 340], active: true }), {
    success: true,
  });
  assertEquals(await call("getbalance", [], "watch"), 1.5);
  // The receiving descriptor does not become the change one.
  const moved = await importOne("watch", {
    desc: shWpkh,
    range: [0, 340],
    active: true,
    internal: true,
  });
  assertEquals(moved.error.code, -4);
  assert(moved.error.message.includes("making it the change one"), moved.error.message);
  // The next index is the one given, lower too, as Core's (on a chain nothing paid yet).
  const tr = find("tr(", false);
  const trAt = async (index: number) => (await node("deriveaddresses", [tr, [index, index]]))[0];
  for (const next of [4, 0]) {
    assertEquals(
      await importOne("watch", { desc: tr, range: [0, 200], next_index: next, active: true }),
      { success: true },
    );
    assertEquals(await call("getnewaddress", ["", "bech32m"], "watch"), await trAt(next));
  }
  // gethdkeys: each extended key once, with its descriptors, in Core's order (by public key).
  const hdKeys: { xpub: string; descriptors: { desc: string }[] }[] = await call(
    "gethdkeys",
    [],
    "watch",
  );
  const publicKey = (xpub: string) =>
    hex.encode(HDKey.fromExtendedKey(xpub, { private: 0x04358394, public: 0x043587cf }).publicKey!);
  assertEquals(hdKeys.map((k) => k.descriptors.map((d) => d.desc)).sort(), [[shWpkh], [tr]].sort());
  assert(publicKey(hdKeys[0].xpub) < publicKey(hdKeys[1].xpub), "ordered by public key");
  // Core's warning stands beside a refusal the node gives too.
  assertEquals(await importOne("watch", { desc: wpkh, label: "x" }), {
    success: false,
    error: { code: -8, message: "Ranged descriptors should not have a label" },
    warnings: ["Range not given, using default keypool range"],
  });

  // A wallet with a receiving chain only: a payment of everything needs no change; one of less does.
  await node("createwallet", ["receiving", true, true]);
  assertEquals(await importOne("receiving", { desc: wpkh, active: true }), {
    success: true,
    warnings: ["Range not given, using default keypool range"],
  });
  const payee = await call("getnewaddress", [], "w");
  const all = await call(
    "walletcreatefundedpsbt",
    [[], [{ [payee]: 2 }], 0, { subtractFeeFromOutputs: [0] }],
    "receiving",
  );
  assertEquals(all.changepos, -1);
  assertEquals(await call("walletcreatefundedpsbt", [[], [{ [payee]: 1 }]], "receiving"), {
    error: {
      code: -4,
      message:
        "Transaction needs a change address, but we can't generate it. Error: No bech32 addresses available.",
    },
  });
});

Deno.test("importdescriptors: a script two descriptors share stays right across a reload", async () => {
  await using target = await startImportTarget();
  const { call, node, mine, checksummed } = target;
  await node("createwallet", ["keys"]);
  const x = await call("getnewaddress", [], "keys");
  await call("sendtoaddress", [x, 1]);
  await mine();
  const keyDesc: string = (await call("getaddressinfo", [x], "keys")).desc;
  const shWpkh = ((await call("listdescriptors", [], "keys")).descriptors as Listed[])
    .find((d) => d.desc.startsWith("sh(wpkh(") && !d.internal)!.desc;
  const at = async (index: number) => (await node("deriveaddresses", [shWpkh, [index, index]]))[0];
  const y = await at(3);

  // x watched as an address and as its key; y as an address, then inside an active range.
  await node("createwallet", ["watch", true, true]);
  const requests = [await checksummed(`addr(${x})`), keyDesc, await checksummed(`addr(${y})`)]
    .map((desc) => ({ desc, timestamp: 0 }));
  assertEquals(
    await call("importdescriptors", [requests], "watch"),
    requests.map(() => ({
      success: true,
    })),
  );
  assertEquals(
    await call("importdescriptors", [[
      { desc: shWpkh, timestamp: 0, active: true, range: [0, 10] },
    ]], "watch"),
    [{ success: true }],
  );
  await node("unloadwallet", ["watch"]);
  await node("loadwallet", ["watch"]);

  // x is still solvable by its key, and its coin funds a PSBT.
  const xInfo = await call("getaddressinfo", [x], "watch");
  assertEquals([xInfo.solvable, xInfo.desc, xInfo.parent_desc], [true, keyDesc, keyDesc]);
  const payee = await call("getnewaddress", [], "w");
  const funded = await call(
    "walletcreatefundedpsbt",
    [[], [{ [payee]: 1 }], 0, { subtractFeeFromOutputs: [0] }],
    "watch",
  );
  assertEquals(funded.changepos, -1);
  // y is the active chain's: paid, it moves the next index past it.
  const yInfo = await call("getaddressinfo", [y], "watch");
  assertEquals([yInfo.parent_desc, yInfo.hdkeypath?.endsWith("/0/3")], [shWpkh, true]);
  await call("sendtoaddress", [y, 0.5]);
  await mine();
  assertEquals(await call("getnewaddress", ["", "p2sh-segwit"], "watch"), await at(4));
});

Deno.test("importdescriptors: a tr() script tree of keys is solvable, ranged or not, as in Core", async () => {
  await using target = await startImportTarget();
  const { call, node, mine, checksummed } = target;
  const xonly = (seed: number) =>
    hex.encode(HDKey.fromMasterSeed(new Uint8Array(32).fill(seed)).publicKey!.subarray(1));
  const tree = await checksummed(
    `tr(${xonly(1)},{pk(${xonly(2)}),multi_a(1,${xonly(3)},${xonly(4)})})`,
  );
  const [address] = await node("deriveaddresses", [tree]);
  const txid = await call("sendtoaddress", [address, 1.25]);
  await mine();
  await node("createwallet", ["watch", true, true]);
  assertEquals(
    await call("importdescriptors", [[{ desc: tree, timestamp: 0, label: "tree" }]], "watch"),
    [{ success: true }],
  );
  assertEquals(await call("getbalance", [], "watch"), 1.25);
  const [coin] = await call("listunspent", [], "watch");
  assertEquals([coin.txid, coin.address, coin.solvable, coin.label], [
    txid,
    address,
    true,
    "tree",
  ]);
  // Core's inferred descriptor: each x-only key with its own fingerprint as its origin.
  const info = await call("getaddressinfo", [address], "watch");
  assertEquals([coin.desc, info.parent_desc], [info.desc, tree]);
  assertEquals(await node("deriveaddresses", [info.desc]), [address]);
  // Solvable: it funds a PSBT, whose input says how the tree is spent.
  const funded = await call(
    "walletcreatefundedpsbt",
    [[], [{ [address]: 1.25 }], 0, { subtractFeeFromOutputs: [0] }],
    "watch",
  );
  const [input] = (await node("decodepsbt", [funded.psbt])).inputs;
  assertEquals([input.taproot_internal_key, input.taproot_scripts.length], [xonly(1), 2]);

  const listed: Listed[] = (await call("listdescriptors")).descriptors;
  const tpub = /\]([a-zA-Z0-9]+)\//.exec(listed.find((d) => d.desc.startsWith("wpkh("))!.desc)![1];
  const ranged = await checksummed(`tr(${tpub}/0/*,pk(${tpub}/1/*))`);
  // Its coins solvable (taproot_multisig_wallet_test.ts follows such a wallet through a spend).
  assertEquals(
    await call("importdescriptors", [[{ desc: ranged, timestamp: "now" }]], "watch"),
    [{ success: true, warnings: ["Range not given, using default keypool range"] }],
  );
  const [first] = await node("deriveaddresses", [ranged, [0, 0]]);
  assertEquals((await call("getaddressinfo", [first], "watch")).solvable, true);
});
