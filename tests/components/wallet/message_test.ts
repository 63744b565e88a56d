/**
 * signmessage end to end: a node and a wallet process over HTTP. The
 * wallet's signature is the one the node's signmessagewithprivkey makes
 * with the same key (read back from listdescriptors' private descriptor),
 * verifymessage accepts it, and Core's refusals come in Core's order.
 */
import { HDKey } from "@scure/bip32";
import { assertEquals } from "../../assert.ts";
import { encodeSecret, EXT_KEY_VERSIONS } from "../../../components/node/chain/keys.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

Deno.test("signmessage: the wallet's key signs as signmessagewithprivkey does; Core's refusals in Core's order", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const message = "Stratum v2 says hello ✓";

  const legacy: string = await call("getnewaddress", ["", "legacy"]);
  const signature: string = await call("signmessage", [legacy, message]);
  assertEquals(await call("verifymessage", [legacy, signature, message]), true);
  assertEquals(await call("verifymessage", [legacy, signature, `${message}.`]), false);

  // The same key, taken from the wallet's private descriptor, through the node's own signer.
  const path: string = (await call("getaddressinfo", [legacy])).hdkeypath; // m/44h/1h/0h/0/<i>
  const descriptors: { desc: string; internal: boolean }[] =
    (await call("listdescriptors", [true])).descriptors;
  const pkh = descriptors.find((d) => d.desc.startsWith("pkh(") && !d.internal)!.desc;
  // The master tprv with the whole path, as Core shows it: pkh(tprv…/44h/1h/0h/0/*).
  const tprv = pkh.match(/^pkh\((tprv[1-9A-HJ-NP-Za-km-z]+)\/44h\/1h\/0h\/0\/\*\)/)![1];
  const child = HDKey.fromExtendedKey(tprv, EXT_KEY_VERSIONS).derive(path.replaceAll("h", "'"));
  const wif = encodeSecret({ key: child.privateKey!, compressed: true });
  assertEquals(await call("signmessagewithprivkey", [wif, message]), signature);
  // Any length, as Core's (a 300 kB message once overflowed the stack building its hash).
  const long = "x".repeat(300_000);
  const longSignature: string = await call("signmessage", [legacy, long]);
  assertEquals(await call("signmessagewithprivkey", [wif, long]), longSignature);
  assertEquals(await call("verifymessage", [legacy, longSignature, long]), true);

  const refused = (code: number, text: string) => ({ error: { code, message: text } });
  assertEquals(
    await call("signmessage", [await call("getnewaddress", []), message]),
    refused(-3, "Address does not refer to key"),
    "a bech32 address",
  );
  assertEquals(
    await call("signmessage", ["notanaddress", message]),
    refused(-5, "Invalid address"),
  );
  // Core's own test vector's address: valid, P2PKH, not this wallet's.
  assertEquals(
    await call("signmessage", ["mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB", message]),
    refused(-4, "Private key not available"),
  );
  // Change is the wallet's too.
  const change: string = await call("getrawchangeaddress", ["legacy"]);
  assertEquals(
    await call("verifymessage", [change, await call("signmessage", [change, "x"]), "x"]),
    true,
  );

  // Locked: -13 before the address is even read; unlocked, it signs.
  assertEquals(await call("createwallet", ["e"]), { name: "e" });
  const locked: string = await call("getnewaddress", ["", "legacy"], "e");
  await call("encryptwallet", ["secret"], "e");
  const unlockFirst = refused(
    -13,
    "Error: Please enter the wallet passphrase with walletpassphrase first.",
  );
  assertEquals(await call("signmessage", [locked, message], "e"), unlockFirst);
  assertEquals(await call("signmessage", ["notanaddress", message], "e"), unlockFirst);
  assertEquals(await call("walletpassphrase", ["secret", 60], "e"), null);
  const unlocked: string = await call("signmessage", [locked, message], "e");
  assertEquals(await call("verifymessage", [locked, unlocked, message]), true);

  // A wallet without private keys holds none to sign with.
  assertEquals(await call("createwallet", ["watch", true]), { name: "watch" });
  assertEquals(
    await call("signmessage", [legacy, message], "watch"),
    refused(-4, "Private key not available"),
  );
  assertEquals(await target.health(), null);
});
