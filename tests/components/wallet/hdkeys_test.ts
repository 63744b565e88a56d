/**
 * gethdkeys and `listdescriptors true` end to end: a node and a wallet
 * process over HTTP. The wallet's one HD key is its BIP 32 master key, used
 * by its eight descriptors; the private descriptors show the master `tprv`
 * with the whole path, as Core's do (no account private key beside its
 * xpub), and derive the public ones' addresses. Core's refusals with
 * Core's codes and texts.
 */
import { HDKey } from "@scure/bip32";
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

const TEST_VERSIONS = { private: 0x04358394, public: 0x043587cf };

Deno.test("gethdkeys: the master key and the descriptors using it; listdescriptors true shows the master tprv", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const listed: { desc: string }[] = (await call("listdescriptors")).descriptors;

  const [key, ...others] = await call("gethdkeys");
  assertEquals(others, []);
  assertEquals(Object.keys(key), ["xpub", "has_private", "descriptors"]);
  assertEquals(key.has_private, true);
  assertEquals(key.descriptors, listed.map(({ desc }) => ({ desc, active: true })));
  // The xpub is the master's: its fingerprint is the descriptors' origin, and it derives none of
  // their (hardened) account keys without its private half.
  const master = HDKey.fromExtendedKey(key.xpub, TEST_VERSIONS);
  assertEquals(master.depth, 0);
  const fingerprint = master.fingerprint.toString(16).padStart(8, "0");
  assert(listed.every(({ desc }) => desc.includes(`[${fingerprint}/`)), "origin is the master");

  const [withPrivate] = await call("gethdkeys", [{ private: true, active_only: true }]);
  assertEquals(Object.keys(withPrivate), ["xpub", "has_private", "xprv", "descriptors"]);
  const xprv = HDKey.fromExtendedKey(withPrivate.xprv, TEST_VERSIONS);
  assertEquals(xprv.publicExtendedKey, key.xpub);
  // Named, as Core's obj_named_params allows.
  assertEquals(await call("gethdkeys", { private: true }), [withPrivate]);

  // listdescriptors true: the master tprv and the whole path; the same addresses.
  const privates: { desc: string }[] = (await call("listdescriptors", [true])).descriptors;
  assertEquals(privates.length, listed.length);
  for (const { desc } of privates) {
    assert(
      new RegExp(`\\(${withPrivate.xprv}/(44|49|84|86)h/1h/0h/[01]/\\*\\)`).test(desc),
      `not the master form: ${desc}`,
    );
    const path = /\/(\d\d)h\/1h\/0h\/([01])\/\*/.exec(desc)!;
    const twin = listed.find((l) =>
      l.desc.includes(`/${path[1]}h/1h/0h]`) && l.desc.includes(`/${path[2]}/*`)
    )!;
    assertEquals(
      await target.node.call("deriveaddresses", [desc, [0, 3]]),
      await target.node.call("deriveaddresses", [twin.desc, [0, 3]]),
    );
  }

  // Core's type check of the options, -3.
  assertEquals(await call("gethdkeys", [{ private: "yes" }]), {
    error: { code: -3, message: "JSON value of type string is not of expected type bool" },
  });
  assertEquals(await call("gethdkeys", [{ active_only: null }]), {
    error: { code: -3, message: "JSON value of type null is not of expected type bool" },
  });

  // No keys, no HD key.
  await target.node.call("createwallet", ["blank", false, true]);
  await target.node.call("createwallet", ["watch", true]);
  assertEquals(await call("gethdkeys", [], "blank"), []);
  assertEquals(await call("gethdkeys", [{ private: true }], "watch"), []);

  // Encrypted and locked: the xpub, but not the xprv (-13).
  await target.node.call("createwallet", ["sealed", false, false, "secret"]);
  const [sealed] = await call("gethdkeys", [], "sealed");
  assertEquals(sealed.has_private, true);
  assertEquals(await call("gethdkeys", [{ private: true }], "sealed"), {
    error: {
      code: -13,
      message: "Error: Please enter the wallet passphrase with walletpassphrase first.",
    },
  });
  await call("walletpassphrase", ["secret", 60], "sealed");
  const [unsealed] = await call("gethdkeys", [{ private: true }], "sealed");
  assertEquals(HDKey.fromExtendedKey(unsealed.xprv, TEST_VERSIONS).publicExtendedKey, sealed.xpub);

  // A wallet made before the master xpub was kept learns it when it loads.
  await target.node.call("unloadwallet", ["w"]);
  const db = new DatabaseSync(`${target.walletDir}/wallets/w/wallet.dat`);
  db.prepare("DELETE FROM meta WHERE key = 'master_xpub'").run();
  db.close();
  await target.node.call("loadwallet", ["w"]);
  assertEquals(await call("gethdkeys"), [key]);
  assertEquals(await target.health(), null);
});
