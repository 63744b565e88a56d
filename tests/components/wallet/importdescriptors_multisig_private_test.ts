/**
 * importdescriptors of a multisig or a taproot script tree into wallets
 * with private keys, each holding one of its keys (Core takes them, with a
 * warning): the wallets derive the same addresses, see the same coins,
 * show their own key private in `listdescriptors true` and `gethdkeys`,
 * and sign a PSBT or a raw transaction each in part; two signatures spend
 * it, and the node mines the spend. A wallet holding enough keys (a 1-of-2,
 * a tree's internal key or its pk() leaf's) spends alone. An encrypted one
 * seals its key: locked, it signs nothing. A node and a wallet process
 * over HTTP.
 *
 * @module
 */
import { HDKey } from "@scure/bip32";
import { base64, hex } from "@scure/base";
import { TEST_NETWORK, WIF } from "@scure/btc-signer";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { readPsbt } from "../../../components/wallet/psbt.ts";
import { assert, assertEquals } from "../../assert.ts";
import { startImportTarget, UNLOCK_NEEDED } from "./import_target.ts";
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
    master,
    account,
    /** The key on chain `chain`, private (the master's, the path written out) or public (with its origin). */
    key: (chain: number, priv: boolean) =>
      priv
        ? `${master.privateExtendedKey}/${path}/${chain}/*`
        : `[${fingerprintHex(master.fingerprint)}/${path}]${account.publicExtendedKey}/${chain}/*`,
  };
}

/**
 * Wallet `wallet`'s receiving account of `kind` as listdescriptors shows it, as a descriptor key
 * (`[fp/84h/1h/0h]tpub…/0/*`: its origin, chain and range included).
 */
async function accountKey(
  call: (
    method: string,
    params: unknown[],
    wallet: string,
  ) => Promise<{ descriptors: { desc: string; internal: boolean }[] }>,
  wallet: string,
  kind: string,
): Promise<string> {
  const { descriptors } = await call("listdescriptors", [], wallet);
  const { desc } = descriptors.find((d) => d.desc.startsWith(`${kind}(`) && !d.internal)!;
  return desc.slice(kind.length + 1, desc.indexOf(")"));
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

  // Each key as written, once per descriptor: its own master key with its private one.
  const hdKeys = await call("gethdkeys", [{ private: true }], "m1");
  assertEquals(
    hdKeys.map((k: { xpub: string; has_private: boolean; xprv?: string; descriptors: [] }) => [
      k.xpub,
      k.has_private,
      k.xprv,
      k.descriptors.length,
    ]).sort(),
    [
      [participants[0].account.publicExtendedKey, false, undefined, 2],
      [
        participants[1].master.publicExtendedKey,
        true,
        participants[1].master.privateExtendedKey,
        2,
      ],
      [participants[2].account.publicExtendedKey, false, undefined, 2],
    ].sort(),
  );
  await call("sendtoaddress", [address, 3]);
  await mine();
  for (const name of wallets) {
    assertEquals(await call("getbalance", [], name), 3);
    const [coin] = await call("listunspent", [], name);
    assertEquals([coin.address, coin.solvable, coin.spendable], [address, true, true]);
  }

  // One funds a PSBT; it signs in part, a second completes it.
  const payee = await call("getnewaddress", [], "w");
  // Its coins are the wallet's own, so a send picks them and, one key short, fails: Core's
  // CreateTransaction signs for SendMoney, which answers its failures with -6.
  assertEquals(await call("sendtoaddress", [payee, 1], "m0"), {
    error: { code: -6, message: "Signing transaction failed" },
  });
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

  // A raw transaction alike (signrawtransactionwithwallet): the first signature in its witness,
  // with Core's reason, the second completing it.
  const [change] = await call("listunspent", [], "m0");
  const raw = await node("createrawtransaction", [
    [{ txid: change.txid, vout: change.vout }],
    [{ [payee]: Math.round((change.amount - 0.0001) * 1e8) / 1e8 }],
  ]);
  const half = await call("signrawtransactionwithwallet", [raw], "m2");
  assertEquals(half.complete, false);
  assertEquals(
    half.errors.map((e: { error: string }) => e.error),
    ["CHECK(MULTI)SIG failing with non-zero signature (possibly need more signatures)"],
  );
  // Core's stack: the dummy, the signature, an empty one in place of the missing, the script.
  const [{ txinwitness }] = (await node("decoderawtransaction", [half.hex])).vin;
  assertEquals([txinwitness.length, txinwitness[0], txinwitness[2]], [4, "", ""]);
  // The error entry shows the input as it is left, as Core's TxInErrorToJSON.
  assertEquals([half.errors[0].witness, half.errors[0].scriptSig], [txinwitness, ""]);
  const whole = await call("signrawtransactionwithwallet", [half.hex], "m0");
  assertEquals([whole.complete, whole.errors], [true, undefined]);
  // Complete already: a third signer leaves it as it is, as Core's.
  const third = await call("signrawtransactionwithwallet", [whole.hex], "m1");
  assertEquals([third.complete, third.hex], [true, whole.hex]);
  await node("sendrawtransaction", [whole.hex]);
  await mine();
  await call("sendtoaddress", [address, 2]);
  await mine();

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

/** BIP 341's unspendable internal key: a tree spent by its leaves alone. */
const NUMS = "50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0";

Deno.test("importdescriptors of tr(NUMS,{pk(C),sortedmulti_a(2,A,B)}) into wallets with keys, one encrypted: two sign through the multi_a() leaf, the pk() leaf's holder alone, and locked it signs nothing", async () => {
  await using target = await startImportTarget();
  const { call, node, mine, checksummed } = target;
  const participants = [participant(), participant(), participant()];
  const wallets = ["t0", "t1", "t2"];
  const tree = ([a, b, c]: string[]) => `tr(${NUMS},{pk(${c}),sortedmulti_a(2,${a},${b})})`;
  const given: string[] = [];
  for (const [holder, name] of wallets.entries()) {
    // t1 encrypted: it takes its key unlocked only, and seals it.
    await node("createwallet", holder === 1 ? [name, false, true, "pass"] : [name, false, true]);
    const [desc, change] = await Promise.all(
      [0, 1].map((chain) => checksummed(written(tree, participants, chain, holder))),
    );
    given.push(desc);
    const request = [
      { desc, timestamp: "now", active: true, range: [0, 5] },
      { desc: change, timestamp: "now", active: true, internal: true, range: [0, 5] },
    ];
    if (holder === 1) {
      assertEquals(await call("importdescriptors", [request], name), UNLOCK_NEEDED);
      await call("walletpassphrase", ["pass", 600], name);
    }
    assertEquals(
      await call("importdescriptors", [request], name),
      [0, 1].map(() => ({ success: true, warnings: [NOT_ALL] })),
    );
  }
  const { descriptors } = await call("listdescriptors", [true], "t1");
  assert(descriptors.some((d: { desc: string }) => d.desc === given[1]), given[1]);
  await call("walletlock", [], "t1");
  // Its key sealed: nothing of it in the clear on disk.
  const file = `${target.walletDir}/wallets/t1/wallet.dat`;
  const tprv = participants[1].key(0, true).split("/")[0];
  assert(!new TextDecoder("latin1").decode(Deno.readFileSync(file)).includes(tprv), "sealed");
  const addresses = await Promise.all(
    wallets.map((name) => call("getnewaddress", ["", "bech32m"], name)),
  );
  assertEquals(new Set(addresses).size, 1, addresses.join());
  const [address] = addresses;
  assertEquals(await node("deriveaddresses", [given[0], [0, 0]]), [address]);
  await call("sendtoaddress", [address, 2]);
  await call("sendtoaddress", [address, 2]);
  await mine();
  for (const name of wallets) assertEquals(await call("getbalance", [], name), 4);

  // t0 signs in part; t1, locked, refuses to sign, then unlocked completes it.
  const payee = await call("getnewaddress", [], "w");
  const pay = async (from: string) => {
    // Change to the tree's change chain (bech32m), the wallet having no other.
    const options = { change_type: "bech32m" };
    const funded = await call("walletcreatefundedpsbt", [[], [{ [payee]: 1 }], 0, options], from);
    assert(typeof funded.psbt === "string", JSON.stringify(funded));
    return funded.psbt;
  };
  const first = await call("walletprocesspsbt", [await pay("t0")], "t0");
  assertEquals(first.complete, false, JSON.stringify(first));
  assertEquals(await call("walletprocesspsbt", [first.psbt], "t1"), UNLOCK_NEEDED);
  assertEquals(
    (await call("walletprocesspsbt", [first.psbt, false], "t1")).complete,
    false,
    "not signing, a locked wallet still fills the PSBT",
  );
  await call("walletpassphrase", ["pass", 600], "t1");
  const second = await call("walletprocesspsbt", [first.psbt], "t1");
  assertEquals(second.complete, true);
  await node("sendrawtransaction", [second.hex]);
  await mine();

  // The pk() leaf's key holder spends alone; kept across a reload.
  await node("unloadwallet", ["t2"]);
  await node("loadwallet", ["t2"]);
  const alone = await call("walletprocesspsbt", [await pay("t2")], "t2");
  assertEquals(alone.complete, true);
  const txid = await node("sendrawtransaction", [alone.hex]);
  await mine();
  assertEquals((await call("gettransaction", [txid], "t0")).confirmations, 1);
  assertEquals(await call("getbalance", [], "t0"), await call("getbalance", [], "t1"));
});

Deno.test("importdescriptors of 1-of-2 sh(multi()) and sh(wsh(multi())) of fixed keys, one private, and of a tree whose internal key is private: a wallet with keys spends them alone; a hardened step after a public key is refused as Core's", async () => {
  await using target = await startImportTarget();
  const { call, node, mine, checksummed } = target;
  const [mine0, other] = [participant(), participant()];
  await node("createwallet", ["one", false, true]);
  // Fixed keys (no range): the private one's key is kept as it is, not its extended key.
  const fixed = (p: ReturnType<typeof participant>, priv: boolean, index: number) =>
    p.key(0, priv).replace("/*", `/${index}`);
  const descs = await Promise.all([
    checksummed(`sh(multi(1,${fixed(mine0, true, 0)},${fixed(other, false, 0)}))`),
    checksummed(`sh(wsh(multi(1,${fixed(other, false, 1)},${fixed(mine0, true, 1)})))`),
  ]);
  assertEquals(
    await call("importdescriptors", [descs.map((desc) => ({ desc, timestamp: "now" }))], "one"),
    [0, 1].map(() => ({ success: true, warnings: [NOT_ALL] })),
  );
  for (const desc of descs) {
    const [address] = await node("deriveaddresses", [desc]);
    await call("sendtoaddress", [address, 1]);
  }
  await mine();
  assertEquals(await call("getbalance", [], "one"), 2);
  const spent = await call("sendall", [[await call("getnewaddress", [], "w")]], "one");
  assertEquals(spent.complete, true, JSON.stringify(spent));
  await mine();
  assertEquals(await call("getbalance", [], "one"), 0);

  // A tree whose internal key it holds: spent alone by its key path, one signature.
  const spendsAlone = async (tree: string, witnessItems: number) => {
    const desc = await checksummed(tree);
    assertEquals(
      await call("importdescriptors", [[{ desc, timestamp: "now", range: [0, 0] }]], "one"),
      [{ success: true, warnings: [NOT_ALL] }],
    );
    const [treeAddress] = await node("deriveaddresses", [desc, [0, 0]]);
    await call("sendtoaddress", [treeAddress, 1]);
    await mine();
    const spent = await call("sendall", [[await call("getnewaddress", [], "w")]], "one");
    assertEquals(spent.complete, true, JSON.stringify(spent));
    const { vin } = await node("getrawtransaction", [spent.txid, true]);
    assertEquals(vin.map((v: { txinwitness: string[] }) => v.txinwitness.length), [witnessItems]);
    await mine();
  };
  await spendsAlone(`tr(${mine0.key(1, true)},pk(${other.key(1, false)}))`, 1);
  // A tree whose pkh() leaf's key it holds: spent alone through that leaf (signature, key,
  // script, control block), as Core's miniscript satisfies it.
  await spendsAlone(`tr(${other.key(2, false)},pkh(${mine0.key(2, true)}))`, 4);

  // Hardened steps after a public key: Core cannot expand it, whatever key is private.
  const hardened = await checksummed(
    `wsh(multi(1,${mine0.key(0, true)},${other.key(0, false).replace("/0/*", "/0h/*")}))`,
  );
  const [refused] = await call(
    "importdescriptors",
    [[{ desc: hardened, timestamp: "now", range: 2 }]],
    "one",
  );
  assertEquals(refused.error, {
    code: -4,
    message:
      "Cannot expand descriptor. Probably because of hardened derivations without private keys provided",
  });
});

Deno.test("importdescriptors of a 2-of-3 wsh(sortedmulti()) again with another of its private keys: the wallet keeps both, as Core adds an import's keys, and spends alone", async () => {
  await using target = await startImportTarget();
  const { call, node, mine, checksummed } = target;
  const participants = [participant(), participant(), participant()];
  const multisig = (keys: string[]) => `wsh(sortedmulti(2,${keys.join(",")}))`;
  await node("createwallet", ["two", false, true]);
  // Key 0 private, then key 1 private; key 1 written the second time at its account, with origin.
  const first = await checksummed(written(multisig, participants, 0, 0));
  const account = (p: ReturnType<typeof participant>) =>
    `[${fingerprintHex(p.master.fingerprint)}/48h/1h/0h/2h]${p.account.privateExtendedKey}/0/*`;
  const second = await checksummed(
    multisig([
      participants[0].key(0, false),
      account(participants[1]),
      participants[2].key(0, false),
    ]),
  );
  for (const desc of [first, second]) {
    assertEquals(
      await call("importdescriptors", [[{ desc, timestamp: "now", active: true }]], "two"),
      [{ success: true, warnings: [DEFAULT_RANGE, NOT_ALL] }],
    );
  }
  // One descriptor, each key private that either import gave private.
  const both = await checksummed(
    multisig([
      participants[0].key(0, true),
      account(participants[1]),
      participants[2].key(0, false),
    ]),
  );
  const privateForms = async () =>
    (await call("listdescriptors", [true], "two")).descriptors.map((d: { desc: string }) => d.desc)
      .filter((desc: string) => desc.startsWith("wsh("));
  assertEquals(await privateForms(), [both]);
  const address = await call("getnewaddress", ["", "bech32"], "two");
  await call("sendtoaddress", [address, 2]);
  await mine();
  // Two of its keys held: a send signs twice and completes, kept across a reload.
  await node("unloadwallet", ["two"]);
  await node("loadwallet", ["two"]);
  assertEquals(await privateForms(), [both]);
  const payee = await call("getnewaddress", [], "w");
  // No change chain imported: a send needing change fails, -6 as SendMoney answers every
  // CreateTransaction failure (-4 from the funding calls).
  assertEquals(await call("sendtoaddress", [payee, 1], "two"), {
    error: {
      code: -6,
      message:
        "Transaction needs a change address, but we can't generate it. Error: No bech32 addresses available.",
    },
  });
  // The change back to the multisig address.
  const options = { changeAddress: address };
  const funded = await call("walletcreatefundedpsbt", [[], [{ [payee]: 1 }], 0, options], "two");
  const signed = await call("walletprocesspsbt", [funded.psbt], "two");
  assertEquals(signed.complete, true, JSON.stringify(signed));
  await node("sendrawtransaction", [signed.hex]);
  await mine();
  assertEquals(await call("getbalance", [], "two") < 1, true);
});

Deno.test("a multisig imported with a cosigner's private key and the wallet's own wpkh account public: a raw transaction is signed with the descriptor's key alone, a PSBT also with the seed's key its origins name, as Core's SignTransaction and FillPSBT", async () => {
  await using target = await startImportTarget();
  const { call, node, mine, checksummed } = target;
  await node("createwallet", ["own"]);
  const cosigner = participant();
  const ownKey = await accountKey(call, "own", "wpkh");
  const desc = await checksummed(`wsh(multi(2,${ownKey},${cosigner.key(0, true)}))`);
  assertEquals(
    await call("importdescriptors", [[{ desc, timestamp: "now", range: [0, 4] }]], "own"),
    [{ success: true, warnings: [NOT_ALL] }],
  );
  const publicForm = await checksummed(`wsh(multi(2,${ownKey},${cosigner.key(0, false)}))`);
  const [address] = await node("deriveaddresses", [publicForm, [0, 0]]);
  await call("sendtoaddress", [address, 1]);
  await mine();
  const [coin] = await call("listunspent", [], "own");
  assertEquals(coin.address, address);
  const payee = await call("getnewaddress", [], "w");

  // The seed derives the multisig's first key, but this descriptor was given it public: Core's
  // SignTransaction signs with the cosigner's key alone.
  const raw = await node("createrawtransaction", [
    [{ txid: coin.txid, vout: coin.vout }],
    [{ [payee]: 0.9999 }],
  ]);
  const half = await call("signrawtransactionwithwallet", [raw], "own");
  assertEquals([half.complete, half.errors.map((e: { error: string }) => e.error)], [false, [
    "CHECK(MULTI)SIG failing with non-zero signature (possibly need more signatures)",
  ]]);
  const [{ txinwitness }] = (await node("decoderawtransaction", [half.hex])).vin;
  assertEquals(txinwitness.filter((item: string) => item.length > 0).length, 2); // one signature, the script
  // A send picks the coin and fails to sign it; Core signs before it bounds the fee, so a fee
  // rate far past -maxtxfee still answers the signing failure.
  for (const feeRate of [null, 100_000]) {
    const args = [payee, 0.5, "", "", false, true, null, "unset", null, feeRate];
    assertEquals(await call("sendtoaddress", args, "own"), {
      error: { code: -6, message: "Signing transaction failed" },
    });
  }

  // A PSBT names the input's key origins: the wallet's wpkh() account, which does not have the
  // multisig's script, signs for the key it derives (Core's FillPSBT), and the spend completes.
  const funded = await call("walletcreatefundedpsbt", [
    [{ txid: coin.txid, vout: coin.vout }],
    [{ [payee]: 1 }],
    0,
    { add_inputs: false, subtractFeeFromOutputs: [0] },
  ], "own");
  const signed = await call("walletprocesspsbt", [funded.psbt], "own");
  assertEquals(signed.complete, true, JSON.stringify(signed));
  await node("sendrawtransaction", [signed.hex]);
  await mine();
  assertEquals(await call("listunspent", [], "own"), []);
});

Deno.test("a PSBT is signed by every descriptor that derives a key its origins list, as Core's FillPSBT: the wallet's wpkh key in a tree's multi_a() leaf, its tr key in a wsh(multi()), a key another multisig holds, the wallet's key in a pkh() leaf", async () => {
  await using target = await startImportTarget();
  const { call, node, mine, checksummed } = target;
  await node("createwallet", ["own"]);
  const [cosigner, other, b, c, e] = [
    participant(),
    participant(),
    participant(),
    participant(),
    participant(),
  ];
  const [wpkhKey, trKey] = [
    await accountKey(call, "own", "wpkh"),
    await accountKey(call, "own", "tr"),
  ];
  const ownKey = (kind: "wpkh" | "tr") => kind === "wpkh" ? wpkhKey : trKey;
  // Each: the descriptor as imported (private keys where `priv`), and its public form.
  type Key = (priv: boolean) => string;
  const cases: Record<string, (key: (p: ReturnType<typeof participant>) => Key) => string> = {
    "wpkh key in a multi_a() leaf": (k) =>
      `tr(${k(other)(false)},multi_a(2,${ownKey("wpkh")},${k(cosigner)(true)}))`,
    "tr key in a wsh(multi())": (k) => `wsh(multi(2,${ownKey("tr")},${k(cosigner)(true)}))`,
    // b's chain 0, which the holder below derives.
    "a key another multisig holds": (k) => `wsh(multi(2,${b.key(0, false)},${k(e)(true)}))`,
    "the wallet's key in a pkh() leaf": (k) =>
      `tr(${k(other)(false)},{pkh(${ownKey("wpkh")}),multi_a(2,${k(cosigner)(true)},${
        k(other)(false)
      })})`,
  };
  const keyOn = (chain: number) => (p: ReturnType<typeof participant>) => (priv: boolean) =>
    p.key(chain, priv);
  const publicKeyOn = (chain: number) => (p: ReturnType<typeof participant>) => (_: boolean) =>
    p.key(chain, false);
  // The multisig holding b's key (its other key c public), imported alone.
  const holder = await checksummed(`wsh(multi(2,${b.key(0, true)},${c.key(0, false)}))`);
  assertEquals(
    await call("importdescriptors", [[{ desc: holder, timestamp: "now", range: [0, 4] }]], "own"),
    [{ success: true, warnings: [NOT_ALL] }],
  );
  const payee = await call("getnewaddress", [], "w");
  for (const [chain, [name, build]] of Object.entries(cases).entries()) {
    const desc = await checksummed(build(keyOn(chain)));
    const imported = await call(
      "importdescriptors",
      [[{ desc, timestamp: "now", range: [0, 4] }]],
      "own",
    );
    assertEquals(imported[0].success, true, `${name}: ${JSON.stringify(imported)}`);
    const [address] = await node("deriveaddresses", [await checksummed(build(publicKeyOn(chain))), [
      0,
      0,
    ]]);
    const sent = await call("sendtoaddress", [address, 1]);
    await mine();
    const coin = (await call("listunspent", [], "own")).find((u: { txid: string }) =>
      u.txid === sent
    );
    assert(coin !== undefined, name);
    const funded = await call("walletcreatefundedpsbt", [
      [{ txid: coin.txid, vout: coin.vout }],
      [{ [payee]: 1 }],
      0,
      { add_inputs: false, subtractFeeFromOutputs: [0] },
    ], "own");
    // Any key a PSBT may list, an uncompressed one too, is looked up without failing the call.
    const psbt = readPsbt(base64.decode(funded.psbt));
    const uncompressed = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false);
    psbt.updateInput(0, { bip32Derivation: [[uncompressed, { fingerprint: 1, path: [7] }]] });
    const signed = await call("walletprocesspsbt", [base64.encode(psbt.toPSBT())], "own");
    assertEquals(signed.complete, true, name);
    await node("sendrawtransaction", [signed.hex]);
    await mine();
  }
  assertEquals(await call("listunspent", [], "own"), []);
});

Deno.test("a PSBT's listed keys: a fixed (WIF) key another multisig holds signs by the key alone; a pkh() leaf the PSBT already carries a signature of, or a SINGLE with no output, leaves the call answering", async () => {
  await using target = await startImportTarget();
  const { call, node, mine, checksummed } = target;
  await node("createwallet", ["own"]);
  const plain = () => {
    const secret = secp256k1.utils.randomSecretKey();
    return {
      wif: WIF({ ...TEST_NETWORK, wif: 0xef }).encode(secret),
      pub: hex.encode(secp256k1.getPublicKey(secret, true)),
    };
  };
  const payee = await call("getnewaddress", [], "w");
  const fundedSpend = async (address: string, more: { txid: string; vout: number }[] = []) => {
    const sent = await call("sendtoaddress", [address, 1]);
    await mine();
    const coin = (await call("listunspent", [], "own")).find((u: { txid: string }) =>
      u.txid === sent
    );
    return (await call("walletcreatefundedpsbt", [
      [...more, { txid: coin.txid, vout: coin.vout }],
      [{ [payee]: 1 + more.length }],
      0,
      { add_inputs: false, subtractFeeFromOutputs: [0] },
    ], "own")).psbt as string;
  };
  // E holds A's WIF (a fixed key, its origin only its own fingerprint); D has the coin and B.
  const [a, b, x] = [plain(), plain(), plain()];
  const e = await checksummed(`wsh(multi(1,${a.wif},${x.pub}))`);
  const d = await checksummed(`wsh(multi(2,${a.pub},${b.wif}))`);
  await call(
    "importdescriptors",
    [[{ desc: e, timestamp: "now" }, { desc: d, timestamp: "now" }]],
    "own",
  );
  const [fixed] = await node("deriveaddresses", [
    await checksummed(`wsh(multi(2,${a.pub},${b.pub}))`),
  ]);
  const both = await call("walletprocesspsbt", [await fundedSpend(fixed)], "own");
  assertEquals(both.complete, true);
  await node("sendrawtransaction", [both.hex]);
  await mine();

  // A tree with a pkh() leaf of the wallet's wpkh key.
  const ownKey = await accountKey(call, "own", "wpkh");
  const [cosigner, other] = [participant(), participant()];
  const tree = (priv: boolean) =>
    `tr(${other.key(0, false)},{pkh(${ownKey}),multi_a(2,${cosigner.key(0, priv)},${
      other.key(1, false)
    })})`;
  await call("importdescriptors", [[
    { desc: await checksummed(tree(true)), timestamp: "now", range: [0, 2] },
  ]], "own");
  const [leafAddress] = await node("deriveaddresses", [await checksummed(tree(false)), [0, 0]]);
  const psbt = await fundedSpend(leafAddress);
  // Another signer of the same key put its own signature there first: kept, and the call answers.
  const first = await call("walletprocesspsbt", [psbt, true, "DEFAULT", true, false], "own");
  const tx = readPsbt(base64.decode(first.psbt));
  const sigs = tx.getInput(0).tapScriptSig!;
  assert(sigs.length >= 1);
  const theirs = sigs.map(([key]) => [key, crypto.getRandomValues(new Uint8Array(64))] as const);
  tx.updateInput(0, { tapScriptSig: undefined }, true);
  tx.updateInput(0, { tapScriptSig: theirs.map(([k, s]) => [k, s]) }, true);
  const again = await call("walletprocesspsbt", [base64.encode(tx.toPSBT(0))], "own");
  assertEquals(typeof again.psbt, "string", JSON.stringify(again));
  // SINGLE for the leaf's input with no output at its index: left unsigned, as Core leaves it.
  const own = await call("getnewaddress", [], "own");
  const sent = await call("sendtoaddress", [own, 1]);
  await mine();
  const coin = (await call("listunspent", [], "own")).find((u: { txid: string }) =>
    u.txid === sent
  );
  const two = await fundedSpend(leafAddress, [{ txid: coin.txid, vout: coin.vout }]);
  const single = await call("walletprocesspsbt", [two, true, "SINGLE"], "own");
  assertEquals(single.complete, false, JSON.stringify(single));
});
