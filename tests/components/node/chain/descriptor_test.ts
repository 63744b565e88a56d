/**
 * Descriptors as Bitcoin Core parses, writes and expands them: Core's
 * error texts, the canonical public form (WIF and tprv keys written as
 * public ones, the hardened marker kept), BIP 32 derivation (Core's
 * rpc_deriveaddresses and rpc_scantxoutset vectors, key origins),
 * inference from what an expansion learned, and the forms this node
 * refuses clearly. Also WIF keys and signed messages.
 *
 * @module
 */
import { signMessage } from "../../../../components/bitcoin/message.ts";
import { hex } from "@scure/base";
import { p2tr } from "@scure/btc-signer";
import {
  decodeSecret,
  DescriptorError,
  encodeSecret,
  inferDescriptor,
  parseDescriptor,
  parseDescriptors,
  scriptToAddress,
  verifyMessage,
} from "../../../../components/node/chain/mod.ts";
import { assert, assertEquals, assertThrows } from "../../../assert.ts";
import { TestKey } from "./chain_helpers.ts";

const TPRV =
  "tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK";
const TPUB =
  "tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B";
const KEY = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
const key = new TestKey(12);
const WIF = encodeSecret({ key: key.secret, compressed: true });

function refused(text: string, message: string, options = {}) {
  const error = assertThrows(() => parseDescriptor(text, options), DescriptorError);
  assertEquals(error.message, message);
}

Deno.test("descriptor: Core's parse errors", () => {
  refused("raw(00)#a#b", "Multiple '#' symbols");
  refused("raw(00)", "Missing checksum", { requireChecksum: true });
  refused("raw(00)#abc", "Expected 8 character checksum, not 3 characters");
  refused("raw(00)é", "Invalid characters in payload");
  refused(
    `pkh(d34db33f]${KEY})`,
    "pkh(): Key origin start '[ character expected but not found, got 'd' instead",
  );
  refused(
    `pkh([d34db3]${KEY})`,
    "pkh(): Fingerprint is not 4 bytes (6 characters instead of 8 characters)",
  );
  refused(`pkh([zzzzzzzz]${KEY})`, "pkh(): Fingerprint 'zzzzzzzz' is not hex");
  refused(`pkh([d34db33f]]${KEY})`, "pkh(): Multiple ']' characters found for a single pubkey");
  refused(`pkh(${TPUB}/x)`, "pkh(): Key path value 'x' is not a valid uint32");
  refused(`pkh(${TPUB}/2147483648)`, "pkh(): Key path value 2147483648 is out of range");
  refused("pkh()", "pkh(): No key provided");
  refused(`pk(06${"11".repeat(64)})`, "pk(): Hybrid public keys are not allowed");
  refused("pk(00)", "pk(): Pubkey '00' is invalid");
  refused(`sh(sh(pk(${KEY})))`, "Can only have sh() at top level");
  refused(`sh(${KEY})`, "A function is needed within P2SH");
  refused(`sh(combo(${KEY}))`, "Can only have combo() at top level");
  refused(`sh(addr(${scriptToAddress(key.wpkh)}))`, "Can only have addr() at top level");
  refused("addr(nope)", "Address is not valid");
  refused("raw(zz)", "Raw script is not hex");
  refused("foo(1)", "'foo(1)' is not a valid descriptor function");
  refused(`xpub(${TPUB})`, `'xpub(${TPUB})' is not a valid descriptor function`);
  // Mainnet extended keys are not regtest keys, as in Core.
  refused(
    "pkh(xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8)",
    "pkh(): key 'xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8' is not valid",
  );
  // What this node does not support is said plainly.
  refused(`wsh(pk(${KEY}))`, "wsh() descriptors are not supported by this node");
  refused(`multi(1,${KEY})`, "multi() descriptors are not supported by this node");
  refused(`tr(${KEY},pk(${KEY}))`, "tr() with a script tree is not supported by this node");
  // A multipath descriptor where one is wanted.
  refused(
    `wpkh(${TPUB}/<0;1>/*)`,
    "multipath key paths (<…;…>) are not supported here: give one descriptor per path",
  );
});

Deno.test("descriptor: a multipath key path (BIP 389) stands for one descriptor per value, in order", () => {
  const paths = parseDescriptors(`wpkh([d34db33f/84h/1h/0h]${TPUB}/<0;1;7h>/*)`);
  assertEquals(
    paths.map(String),
    [`/0/*`, `/1/*`, `/7h/*`].map((tail) =>
      parseDescriptor(`wpkh([d34db33f/84h/1h/0h]${TPUB}${tail})`).toString()
    ),
  );
  // The same key and path otherwise: the first path's first address is the /0/* descriptor's.
  assertEquals(
    hex.encode(paths[1].expand(3).scripts[0]),
    hex.encode(parseDescriptor(`wpkh([d34db33f/84h/1h/0h]${TPUB}/1/*)`).expand(3).scripts[0]),
  );
  assertEquals(parseDescriptors(`wpkh(${TPUB}/0/*)`).length, 1);
  // Core's refusals, with their function's name first.
  const multipathRefused = (text: string, message: string) =>
    assertEquals(assertThrows(() => parseDescriptors(text), DescriptorError).message, message);
  multipathRefused(
    `wpkh(${TPUB}/<0>/*)`,
    "wpkh(): Multipath key path specifiers must have at least two items",
  );
  multipathRefused(
    `wpkh(${TPUB}/<0;1;0>/*)`,
    "wpkh(): Duplicated key path value 0 in multipath specifier",
  );
  multipathRefused(
    `wpkh(${TPUB}/<0;1>/<2;3>/*)`,
    "wpkh(): Multiple multipath key path specifiers found",
  );
  multipathRefused(
    `wpkh([d34db33f/<0;1>]${TPUB}/0/*)`,
    "wpkh(): Key path value '<0;1>' specifies multipath in a section where multipath is not allowed",
  );
  multipathRefused(`wpkh(${TPUB}/<0;x>/*)`, "wpkh(): Key path value 'x' is not a valid uint32");
});

Deno.test("descriptor: canonical form, flags and BIP 32 derivation", () => {
  const fromPrivate = parseDescriptor(`wpkh(${TPRV}/1/1/0)#t6wfjs64`, { requireChecksum: true });
  assertEquals(fromPrivate.toString(), `wpkh(${TPUB}/1/1/0)#s9ga3alw`);
  assertEquals([fromPrivate.isRange, fromPrivate.isSolvable, fromPrivate.hasPrivateKeys], [
    false,
    true,
    true,
  ]);
  const address = (text: string, index = 0) =>
    scriptToAddress(parseDescriptor(text).expand(index).scripts[0]);
  assertEquals(address(`wpkh(${TPUB}/1/1/0)`), "bcrt1qjqmxmkpmxt80xz4y3746zgt0q3u3ferr34acd5");
  assertEquals(address(`wpkh(${TPRV}/1/1/*)`, 2), "bcrt1qpgptk2gvshyl0s9lqshsmx932l9ccsv265tvaq");
  // Hardened steps need the private key; the public form keeps them.
  const hardened = parseDescriptor(`wpkh(${TPRV}/84'/1'/0'/0/*)`);
  assert(hardened.toString().startsWith(`wpkh(${TPUB}/84'/1'/0'/0/*)#`));
  assert(
    parseDescriptor(`wpkh(${TPRV}/84h/1h/0h/0/*h)`).toString().startsWith(
      `wpkh(${TPUB}/84h/1h/0h/0/*h)#`,
    ),
  );
  const publicOnly = parseDescriptor(hardened.toString());
  assertEquals(publicOnly.hasPrivateKeys, false);
  assertThrows(
    () => publicOnly.expand(0),
    DescriptorError,
    "Cannot derive script without private keys",
  );
  assertEquals(
    scriptToAddress(hardened.expand(4).scripts[0]),
    scriptToAddress(parseDescriptor(`wpkh(${TPRV}/84h/1h/0h/0/4)`).expand(0).scripts[0]),
  );
  // WIF keys are written as their public keys; inside tr() as x-only keys.
  assertEquals(
    parseDescriptor(`pkh(${WIF})`).toString().split("#")[0],
    `pkh(${hex.encode(key.publicKey)})`,
  );
  assertEquals(
    parseDescriptor(`tr(${WIF})`).toString().split("#")[0],
    `tr(${hex.encode(key.xOnly)})`,
  );
  assertEquals(parseDescriptor(`addr(${scriptToAddress(key.wpkh)})`).isSolvable, false);
  // tr(KEY) is BIP 86's key-path-only output; rawtr() uses the key as is.
  assertEquals(parseDescriptor(`tr(${hex.encode(key.xOnly)})`).expand(0).scripts[0], key.tr);
  assertEquals(
    parseDescriptor(`rawtr(${hex.encode(key.xOnly)})`).expand(0).scripts[0],
    Uint8Array.of(0x51, 0x20, ...key.xOnly),
  );
  assertEquals(parseDescriptor(`tr(${TPUB}/0/*)`).expand(1).scripts[0].length, 34);
});

Deno.test("descriptor: inference from an expansion (Core's scantxoutset vectors)", () => {
  const combo = parseDescriptor(`combo(${TPRV}/1/1/0)`).expand(0);
  assertEquals(combo.scripts.length, 4);
  const inferred = combo.scripts.map((script) => inferDescriptor(script, combo.provider));
  assertEquals(
    inferred[1],
    "pkh([0c5f9a1e/1/1/0]03e1c5b6e650966971d7e71ef2674f80222752740fc1dfd63bbbd220d2da9bd0fb)#cxmct4w8",
  );
  assert(inferred[0].startsWith("pk([0c5f9a1e/1/1/0]03e1c5b6"), inferred[0]);
  assert(inferred[2].startsWith("wpkh([0c5f9a1e/1/1/0]03e1c5b6"), inferred[2]);
  assert(inferred[3].startsWith("sh(wpkh([0c5f9a1e/1/1/0]03e1c5b6"), inferred[3]);
  // An origin given in the descriptor prefixes the derived path.
  const origin = parseDescriptor(`pkh([d34db33f/44'/0'/0']${TPUB}/1/*)`).expand(5);
  assertEquals(
    inferDescriptor(origin.scripts[0], origin.provider).split("#")[0],
    "pkh([d34db33f/44h/0h/0h/1/5]030712deb386a6b3fdc330253b2deb9983e37c1a02bbf50e32ec0534e4cb1280dd)",
  );
  // A key path only taproot output infers tr() of its internal key; unknown outputs rawtr().
  const taproot = parseDescriptor(`tr(${hex.encode(key.xOnly)})`).expand(0);
  const fingerprint = taproot.provider.keyOrigin(key.xOnly)!.fingerprint;
  assertEquals(
    inferDescriptor(taproot.scripts[0], taproot.provider).split("#")[0],
    `tr([${hex.encode(fingerprint)}]${hex.encode(key.xOnly)})`,
  );
  assertEquals(
    inferDescriptor(key.tr).split("#")[0],
    `rawtr(${hex.encode(p2tr(key.xOnly).script.subarray(2))})`,
  );
  // Without a provider: addresses as addr().
  assertEquals(inferDescriptor(key.wpkh).split("#")[0], `addr(${scriptToAddress(key.wpkh)})`);
});

Deno.test("keys and messages: WIF secrets, compact signatures", () => {
  const secret = decodeSecret(WIF)!;
  assertEquals([hex.encode(secret.key), secret.compressed], [hex.encode(key.secret), true]);
  const uncompressed = encodeSecret({ key: key.secret, compressed: false });
  assertEquals(decodeSecret(uncompressed)?.compressed, false);
  assertEquals(decodeSecret("notakey"), undefined);
  // A mainnet WIF (prefix 0x80) is not a regtest key.
  assertEquals(decodeSecret("L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1"), undefined);
  const legacy = scriptToAddress(key.pkh)!;
  const signature = signMessage(secret, "message");
  assertEquals(verifyMessage(legacy, signature, "message"), "ok");
  assertEquals(verifyMessage(legacy, signature, "other"), "not-signed");
  assertEquals(verifyMessage(scriptToAddress(key.wpkh)!, signature, "message"), "address-no-key");
  assertEquals(verifyMessage("nope", signature, "message"), "invalid-address");
  assertEquals(verifyMessage(legacy, "!!", "message"), "malformed-signature");
  assertEquals(verifyMessage(legacy, btoa("short"), "message"), "pubkey-not-recovered");
  // Signed as uncompressed, it verifies against the uncompressed key's address only.
  const loose = signMessage({ key: key.secret, compressed: false }, "message");
  assertEquals(verifyMessage(legacy, loose, "message"), "not-signed");
});
