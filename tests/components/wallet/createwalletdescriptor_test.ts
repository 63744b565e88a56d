/**
 * createwalletdescriptor end to end, as Core's: a node and a wallet
 * process over HTTP. A blank wallet given an HD key by importdescriptors
 * makes the descriptors of other address types from it, the same another
 * wallet of that key has; the HD key is the one of the active descriptors
 * or the one named; an existing descriptor is not made twice; a locked
 * wallet makes none.
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { startImportTarget } from "./import_target.ts";

interface Listed {
  desc: string;
  active: boolean;
  internal: boolean;
}

const error = (code: number, message: string) => ({ error: { code, message } });

/** Core's answer when the wallet's active descriptors are of more than one HD key, or none. */
const UNDETERMINED = error(
  -5,
  "Unable to determine which HD key to use from active descriptors. Please specify with 'hdkey'",
);

Deno.test("createwalletdescriptor: a blank wallet makes another wallet's descriptors from its HD key", async () => {
  await using target = await startImportTarget();
  const { call, node, checksummed } = target;
  const [{ xpub, xprv }] = await call("gethdkeys", [{ private: true }], "w");
  const listed = async (wallet: string, withPrivate = false) =>
    (await call("listdescriptors", [withPrivate], wallet)).descriptors as Listed[];
  const ofW = (prefix: string) =>
    listed("w").then((all) => all.filter((d) => d.desc.startsWith(prefix)).map((d) => d.desc));

  await node("createwallet", ["blank", false, true]);
  assertEquals(
    await call("createwalletdescriptor", ["bech32"], "blank"),
    UNDETERMINED,
  );
  assertEquals(
    await call("createwalletdescriptor", ["bech32", { hdkey: xpub }], "blank"),
    error(-5, `Private key for ${xpub} is not known`),
  );
  assertEquals(
    await call("createwalletdescriptor", ["p2wsh"], "blank"),
    error(-5, "Unknown address type 'p2wsh'"),
  );
  // One active descriptor of the HD key: it is the one used.
  const imported = await call("importdescriptors", [[{
    desc: await checksummed(`pkh(${xprv}/44h/2h/0h/0/0/*)`),
    timestamp: "now",
    active: true,
  }]], "blank");
  assertEquals(imported[0].success, true);
  const made = await call("createwalletdescriptor", ["bech32"], "blank");
  assertEquals(made, { descs: await ofW("wpkh(") });
  assertEquals((await call("gethdkeys", [], "blank")).length, 1);
  const [first] = await node("deriveaddresses", [made.descs[0], [0, 0]]);
  assertEquals(await call("getnewaddress", ["", "bech32"], "blank"), first);
  // One side only, written with the private key as Core writes it.
  const before = new Set((await listed("blank", true)).map((d) => d.desc));
  const external = await call("createwalletdescriptor", ["bech32m", { internal: false }], "blank");
  assertEquals(external.descs.length, 1);
  const added = (await listed("blank", true)).filter((d) => !before.has(d.desc));
  assertEquals(
    added.map((d) => [d.desc, d.active, d.internal]),
    [[await checksummed(`tr(${xprv}/86h/1h/0h/0/*)`), true, false]],
  );
  // Made already: refused.
  assertEquals(
    await call("createwalletdescriptor", ["bech32m", { internal: false }], "blank"),
    error(-4, "Descriptor already exists"),
  );
  // Options of the wrong type, as Core's get_bool and get_str.
  assertEquals(
    await call("createwalletdescriptor", ["bech32m", { internal: "true" }], "blank"),
    error(-3, "JSON value of type string is not of expected type bool"),
  );
  assertEquals(
    await call("createwalletdescriptor", ["bech32m", { hdkey: 5 }], "blank"),
    error(-3, "JSON value of type number is not of expected type string"),
  );
  // No longer blank (Core's SetupDescriptorGeneration); kept across a reload.
  assertEquals((await call("getwalletinfo", [], "blank")).blank, false);
  await node("unloadwallet", ["blank"]);
  await node("loadwallet", ["blank"]);
  assertEquals((await listed("blank")).length, 4);
  assertEquals((await call("getwalletinfo", [], "blank")).flags.includes("blank"), false);
});

Deno.test("createwalletdescriptor: several HD keys, a named one, and a locked wallet", async () => {
  await using target = await startImportTarget();
  const { call, node, checksummed } = target;
  const [{ xpub, xprv }] = await call("gethdkeys", [{ private: true }], "w");

  // A wallet of its own that took another key's active descriptor: two HD keys.
  await node("createwallet", ["multiple"]);
  const [{ xpub: own }] = await call("gethdkeys", [], "multiple");
  const importOne = (wallet: string, text: string) =>
    checksummed(text).then((desc) =>
      call("importdescriptors", [[{ desc, timestamp: "now", active: true }]], wallet)
    );
  assertEquals((await importOne("multiple", `wpkh(${xprv}/0/0/*)`))[0].success, true);
  assertEquals((await call("gethdkeys", [], "multiple")).length, 2);
  assertEquals(
    await call("createwalletdescriptor", ["bech32"], "multiple"),
    UNDETERMINED,
  );
  assertEquals(
    await call("createwalletdescriptor", ["bech32m", { hdkey: own }], "multiple"),
    error(-4, "Descriptor already exists"),
  );
  assertEquals(
    await call("createwalletdescriptor", ["bech32m", { hdkey: xprv }], "multiple"),
    error(-5, "Unable to parse HD key. Please provide a valid xpub"),
  );
  // Named, the other key's taproot descriptors take the place of its own, which are watched still
  // (and so exist already).
  const replaced = await call("createwalletdescriptor", ["bech32m", { hdkey: xpub }], "multiple");
  assertEquals(
    await call("createwalletdescriptor", ["bech32m", { hdkey: own }], "multiple"),
    error(-4, "Descriptor already exists"),
  );
  assertEquals(replaced.descs.length, 2);
  const listed: Listed[] = (await call("listdescriptors", [], "multiple")).descriptors;
  const taproot = listed.filter((d) => d.desc.startsWith("tr("));
  assertEquals(taproot.length, 4);
  assertEquals(
    taproot.filter((d) => d.active).map((d) => d.desc).sort(),
    [...replaced.descs].sort(),
  );

  // Encrypted: none while locked.
  await node("createwallet", ["encrypted", false, true, "pass"]);
  await call("walletpassphrase", ["pass", 60], "encrypted");
  assertEquals((await importOne("encrypted", `wpkh(${xprv}/0/0/*)`))[0].success, true);
  await call("walletlock", [], "encrypted");
  assertEquals(
    await call("createwalletdescriptor", ["bech32m"], "encrypted"),
    error(-13, "Error: Please enter the wallet passphrase with walletpassphrase first."),
  );
  await call("walletpassphrase", ["pass", 60], "encrypted");
  const sealed = await call("createwalletdescriptor", ["bech32m"], "encrypted");
  assert(Array.isArray(sealed.descs) && sealed.descs.length === 2, JSON.stringify(sealed));
});
