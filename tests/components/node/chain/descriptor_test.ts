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
import { createBase58check, hex } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
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
  withChecksum,
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
  refused(`wsh(wsh(pk(${KEY})))`, "Can only have wsh() at top level or inside sh()");
  refused(`wsh(wpkh(${KEY}))`, "Can only have wpkh() at top level or inside sh()");
  refused(`wsh(${KEY})`, "A function is needed within P2WSH");
  refused(
    `wsh(and_v(v:pk(${KEY}),older(1)))`,
    "Miniscript expressions are not supported by this node",
  );
  refused(
    `wsh(pk(04${"79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"}${"483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"}))`,
    "pk(): Uncompressed keys are not allowed",
  );
  refused(
    `multi(1,${KEY},${KEY},${KEY},${KEY})`,
    "Cannot have 4 pubkeys in bare multisig; only at most 3 pubkeys",
  );
  refused(
    `sh(multi(1))`,
    "Cannot have 0 keys in multisig; must have between 1 and 20 keys, inclusive",
  );
  refused(`wsh(multi(1,${KEY},00))`, "Multi: Pubkey '00' is invalid");
  refused(
    `wsh(multi(1,${TPUB}/<0;1>/*,${TPUB}/<0;1;2>/*))`,
    "multi(): Multipath derivation paths have mismatched lengths",
  );
  // What this node does not support is said plainly.
  refused(`multi_a(1,${KEY})`, "Can only have multi_a/sortedmulti_a inside tr()");
  refused(
    `tr(${KEY},and_v(v:pk(${KEY}),older(1)))`,
    "Miniscript expressions other than pk() and pkh() are not supported in tr() leaves by this node",
  );
  // A multipath descriptor where one is wanted.
  refused(
    `wpkh(${TPUB}/<0;1>/*)`,
    "multipath key paths (<…;…>) are not supported here: give one descriptor per path",
  );
});

const base58check = createBase58check(sha256);

/** BIP 383's mainnet keys as regtest ones: the same key material under test versions. */
function regtestKeys(descriptor: string): string {
  const version = (prefix: number[]) => (text: string) => {
    const bytes = base58check.decode(text);
    bytes.set(prefix);
    return base58check.encode(bytes);
  };
  return descriptor
    .replace(/xprv[1-9A-HJ-NP-Za-km-z]+/g, version([0x04, 0x35, 0x83, 0x94]))
    .replace(/xpub[1-9A-HJ-NP-Za-km-z]+/g, version([0x04, 0x35, 0x87, 0xcf]))
    .replace(/(?<=[(,])[KL5][1-9A-HJ-NP-Za-km-z]{50,51}(?=[),])/g, (wif) => {
      const bytes = base58check.decode(wif);
      return encodeSecret({ key: bytes.subarray(1, 33), compressed: bytes.length === 34 });
    });
}

const BIP383_KEYS16 = [
  "03669b8afcec803a0d323e9a17f3ea8e68e8abe5a278020a929adbec52421adbd0",
  "0260b2003c386519fc9eadf2b5cf124dd8eea4c4e68d5e154050a9346ea98ce600",
  "0362a74e399c39ed5593852a30147f2959b56bb827dfa3e60e464b02ccf87dc5e8",
  "0261345b53de74a4d721ef877c255429961b7e43714171ac06168d7e08c542a8b8",
  "02da72e8b46901a65d4374fe6315538d8f368557dda3a1dcf9ea903f3afe7314c8",
  "0318c82dd0b53fd3a932d16e0ba9e278fcc937c582d5781be626ff16e201f72286",
  "0297ccef1ef99f9d73dec9ad37476ddb232f1238aff877af19e72ba04493361009",
  "02e502cfd5c3f972fe9a3e2a18827820638f96b6f347e54d63deb839011fd5765d",
  "03e687710f0e3ebe81c1037074da939d409c0025f17eb86adb9427d28f0f7ae0e9",
  "02c04d3a5274952acdbc76987f3184b346a483d43be40874624b29e3692c1df5af",
  "02ed06e0f418b5b43a7ec01d1d7d27290fa15f75771cb69b642a51471c29c84acd",
  "036d46073cbb9ffee90473f3da429abc8de7f8751199da44485682a989a4bebb24",
  "02f5d1ff7c9029a80a4e36b9a5497027ef7f3e73384a4a94fbfe7c4e9164eec8bc",
  "02e41deffd1b7cce11cde209a781adcffdabd1b91c0ba0375857a2bfd9302419f3",
  "02d76625f7956a7fc505ab02556c23ee72d832f1bac391bcd2d3abce5710a13d06",
  "0399eb0a5487515802dc14544cf10b3666623762fbed2ec38a3975716e2c29c232",
].join(",");
const BIP383_WIFS20 = [
  "KzoAz5CanayRKex3fSLQ2BwJpN7U52gZvxMyk78nDMHuqrUxuSJy",
  "KwGNz6YCCQtYvFzMtrC6D3tKTKdBBboMrLTsjr2NYVBwapCkn7Mr",
  "KxogYhiNfwxuswvXV66eFyKcCpm7dZ7TqHVqujHAVUjJxyivxQ9X",
  "L2BUNduTSyZwZjwNHynQTF14mv2uz2NRq5n5sYWTb4FkkmqgEE9f",
  "L1okJGHGn1kFjdXHKxXjwVVtmCMR2JA5QsbKCSpSb7ReQjezKeoD",
  "KxDCNSST75HFPaW5QKpzHtAyaCQC7p9Vo3FYfi2u4dXD1vgMiboK",
  "L5edQjFtnkcf5UWURn6UuuoFrabgDQUHdheKCziwN42aLwS3KizU",
  "KzF8UWFcEC7BYTq8Go1xVimMkDmyNYVmXV5PV7RuDicvAocoPB8i",
  "L3nHUboKG2w4VSJ5jYZ5CBM97oeK6YuKvfZxrefdShECcjEYKMWZ",
  "KyjHo36dWkYhimKmVVmQTq3gERv3pnqA4xFCpvUgbGDJad7eS8WE",
  "KwsfyHKRUTZPQtysN7M3tZ4GXTnuov5XRgjdF2XCG8faAPmFruRF",
  "KzCUbGhN9LJhdeFfL9zQgTJMjqxdBKEekRGZX24hXdgCNCijkkap",
  "KzgpMBwwsDLwkaC5UrmBgCYaBD2WgZ7PBoGYXR8KT7gCA9UTN5a3",
  "KyBXTPy4T7YG4q9tcAM3LkvfRpD1ybHMvcJ2ehaWXaSqeGUxEdkP",
  "KzJDe9iwJRPtKP2F2AoN6zBgzS7uiuAwhWCfGdNeYJ3PC1HNJ8M8",
  "L1xbHrxynrqLKkoYc4qtoQPx6uy5qYXR5ZDYVYBSRmCV5piU3JG9",
  "KzRedjSwMggebB3VufhbzpYJnvHfHe9kPJSjCU5QpJdAW3NSZxYS",
  "Kyjtp5858xL7JfeV4PNRCKy2t6XvgqNNepArGY9F9F1SSPqNEMs3",
  "L2D4RLHPiHBidkHS8ftx11jJk1hGFELvxh8LoxNQheaGT58dKenW",
  "KyLPZdwY4td98bKkXqEXTEBX3vwEYTQo1yyLjX2jKXA63GBpmSjv",
].join(",");
const BIP383_MULTI =
  "512103a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd4104a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd5b8dec5235a0fa8722476c7709c02559e3aa73aa03918ba2d492eea75abea23552ae";

Deno.test("descriptor: multi() and sortedmulti(), bare, in sh(), wsh() and sh(wsh()): BIP 383's vectors, with Core's limits", () => {
  const vectors: [string, string[]][] = [
    [
      "multi(1,L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1,5KYZdUEo39z3FPrtuX2QbbwGnNP5zTd7yyr2SC1j299sBCnWjss)",
      [BIP383_MULTI],
    ],
    [
      "multi(1,03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd,04a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd5b8dec5235a0fa8722476c7709c02559e3aa73aa03918ba2d492eea75abea235)",
      [BIP383_MULTI],
    ],
    [
      "sortedmulti(1,04a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd5b8dec5235a0fa8722476c7709c02559e3aa73aa03918ba2d492eea75abea235,03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd)",
      [BIP383_MULTI],
    ],
    [
      "sh(multi(2,[00000000/111'/222]xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc,xprv9uPDJpEQgRQfDcW7BkF7eTya6RPxXeJCqCJGHuCJ4GiRVLzkTXBAJMu2qaMWPrS7AANYqdq6vcBcBUdJCVVFceUvJFjaPdGZ2y9WACViL4L/0))",
      ["a91445a9a622a8b0a1269944be477640eedc447bbd8487"],
    ],
    [
      "sortedmulti(2,xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL/*,xpub68NZiKmJWnxxS6aaHmn81bvJeTESw724CRDs6HbuccFQN9Ku14VQrADWgqbhhTHBaohPX4CjNLf9fq9MYo6oDaPPLPxSb7gwQN3ih19Zm4Y/0/0/*)",
      [
        "5221025d5fc65ebb8d44a5274b53bac21ff8307fec2334a32df05553459f8b1f7fe1b62102fbd47cc8034098f0e6a94c6aeee8528abf0a2153a5d8e46d325b7284c046784652ae",
        "52210264fd4d1f5dea8ded94c61e9641309349b62f27fbffe807291f664e286bfbe6472103f4ece6dfccfa37b211eb3d0af4d0c61dba9ef698622dc17eecdf764beeb005a652ae",
        "5221022ccabda84c30bad578b13c89eb3b9544ce149787e5b538175b1d1ba259cbb83321024d902e1a2fc7a8755ab5b694c575fce742c48d9ff192e63df5193e4c7afe1f9c52ae",
      ],
    ],
    [
      "wsh(multi(2,xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqPqm55Qn3LqFtT2emdEXVYsCzC2U/2147483647'/0,xprv9vHkqa6EV4sPZHYqZznhT2NPtPCjKuDKGY38FBWLvgaDx45zo9WQRUT3dKYnjwih2yJD9mkrocEZXo1ex8G81dwSM1fwqWpWkeS3v86pgKt/1/2/*,xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi/10/20/30/40/*'))",
      [
        "0020b92623201f3bb7c3771d45b2ad1d0351ea8fbf8cfe0a0e570264e1075fa1948f",
        "002036a08bbe4923af41cf4316817c93b8d37e2f635dd25cfff06bd50df6ae7ea203",
        "0020a96e7ab4607ca6b261bfe3245ffda9c746b28d3f59e83d34820ec0e2b36c139c",
      ],
    ],
    [`sh(wsh(multi(16,${BIP383_KEYS16})))`, ["a9147fc63e13dc25e8a95a3cee3d9a714ac3afd96f1e87"]],
    [
      `wsh(multi(20,${BIP383_WIFS20}))`,
      ["0020376bd8344b8b6ebe504ff85ef743eaa1aa9272178223bcb6887e9378efb341ac"],
    ],
    [`sh(wsh(multi(20,${BIP383_WIFS20})))`, ["a914c2c9c510e9d7f92fd6131e94803a8d34a8ef675e87"]],
  ];
  for (const [text, scripts] of vectors) {
    const descriptor = parseDescriptor(regtestKeys(text));
    const indexes = descriptor.isRange ? [0, 1, 2] : [0];
    assertEquals(
      indexes.map((i) => hex.encode(descriptor.expand(i).scripts[0])),
      scripts,
      text.slice(0, 40),
    );
    // Written back (with the private keys given), it parses to the same scripts.
    const again = parseDescriptor(descriptor.toPrivateString());
    assertEquals(indexes.map((i) => hex.encode(again.expand(i).scripts[0])), scripts);
    assertEquals(parseDescriptor(descriptor.toString()).toString(), descriptor.toString());
  }
  const p2wsh = parseDescriptor(regtestKeys(vectors[7][0]));
  assertEquals([p2wsh.isRange, p2wsh.isSolvable, p2wsh.hasPrivateKeys], [false, true, true]);
  // What the expansion learns lets Core's inference find the multisig behind the output.
  const { scripts: [output], provider } = p2wsh.expand(0);
  assert(inferDescriptor(output, provider).startsWith("wsh(multi(20,"), "wsh(multi()) inferred");

  refused(
    `sh(multi(16,${BIP383_KEYS16}))`,
    "P2SH script is too large, 547 bytes is larger than 520 bytes",
  );
  const twoKeys = BIP383_MULTI.slice(4, 70) + "," + BIP383_MULTI.slice(72, 202);
  refused(`multi(a,${twoKeys})`, "Multi threshold 'a' is not valid");
  refused(`multi(0,${twoKeys})`, "Multisig threshold cannot be 0, must be at least 1");
  refused(
    `multi(3,${twoKeys})`,
    "Multisig threshold cannot be larger than the number of keys; threshold is 3 but only 2 keys specified",
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

// Core's descriptor_tests.cpp (v29/v30) vectors for tr() script trees and multi_a(), as data:
// [private form, public form, expected scripts at 0, 1, 2 (one when not ranged)].
const L4RK = "L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1";
const XA34B = "a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd";
const X03A3 = "03a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5";
const XPRV_A1RP =
  "xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc";
const XPUB_6ERA =
  "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL";
const TAPROOT_VECTORS: [string, string, string[]][] = [
  [
    `tr(${X03A3},{pk(${X03A3}),{pk(${L4RK}),pk(${X03A3})}})`,
    `tr(${X03A3},{pk(${X03A3}),{pk(${XA34B}),pk(${X03A3})}})`,
    ["51201497ae16f30dacb88523ed9301bff17773b609e8a90518a3f96ea328a47d1500"],
  ],
  [
    `tr(${XPRV_A1RP}/0/*,pk(${XPRV_A1RP}/1/*))`,
    `tr(${XPUB_6ERA}/0/*,pk(${XPUB_6ERA}/1/*))`,
    [
      "512078bc707124daa551b65af74de2ec128b7525e10f374dc67b64e00ce0ab8b3e12",
      "512001f0a02a17808c20134b78faab80ef93ffba82261ccef0a2314f5d62b6438f11",
      "512021024954fcec88237a9386fce80ef2ced5f1e91b422b26c59ccfc174c8d1ad25",
    ],
  ],
  [
    `tr(${L4RK},pk(KzoAz5CanayRKex3fSLQ2BwJpN7U52gZvxMyk78nDMHuqrUxuSJy))`,
    `tr(${XA34B},pk(669b8afcec803a0d323e9a17f3ea8e68e8abe5a278020a929adbec52421adbd0))`,
    ["512017cf18db381d836d8923b1bdb246cfcd818da1a9f0e6e7907f187f0b2f937754"],
  ],
  [
    `tr(${L4RK},multi_a(1,KzoAz5CanayRKex3fSLQ2BwJpN7U52gZvxMyk78nDMHuqrUxuSJy))`,
    `tr(${XA34B},multi_a(1,669b8afcec803a0d323e9a17f3ea8e68e8abe5a278020a929adbec52421adbd0))`,
    ["5120eb5bd3894327d75093891cc3a62506df7d58ec137fcd104cdd285d67816074f3"],
  ],
  // pkh() alone as a leaf: valid miniscript in tapscript.
  [
    `tr(${XA34B},pkh(L1NKM8dVA1h52mwDrmk1YreTWkAZZTu2vmKLpmLEbFRqGQYjHeEV))`,
    `tr(${XA34B},pkh(30a6069f344fb784a2b4c99540a91ee727c91e3a25ef6aae867d9c65b5f23529))`,
    ["51201e9875f690f5847404e4c5951e2f029887df0525691ee11a682afd37b608aad4"],
  ],
];

Deno.test("descriptor: tr() script trees and multi_a(): Core's vectors (scripts, public and private forms)", () => {
  for (const [prv, pub, scripts] of TAPROOT_VECTORS) {
    const fromPrivate = parseDescriptor(regtestKeys(prv));
    const fromPublic = parseDescriptor(regtestKeys(pub));
    const indexes = fromPublic.isRange ? [0, 1, 2] : [0];
    assertEquals(fromPublic.isRange, scripts.length > 1);
    for (const descriptor of [fromPrivate, fromPublic]) {
      assertEquals(
        indexes.map((i) => hex.encode(descriptor.expand(i).scripts[0])),
        scripts,
        pub.slice(0, 60),
      );
      assert(descriptor.hasScriptTree && descriptor.isSolvable);
    }
    // Both write back to Core's public form; the private one to the private form given.
    assertEquals(fromPrivate.toString(), withChecksum(regtestKeys(pub)));
    assertEquals(fromPublic.toString(), withChecksum(regtestKeys(pub)));
    assertEquals(fromPrivate.toPrivateString(), withChecksum(regtestKeys(prv)));
    assertEquals([fromPrivate.hasPrivateKeys, fromPublic.hasPrivateKeys], [true, false]);
    // A tree's outputs are no single-key address type a wallet derives.
    assertEquals(fromPublic.addressSource, undefined);
  }
});

Deno.test("descriptor: a multipath tr() tree stands for one descriptor per value (Core's vectors)", () => {
  const root =
    "xpub661MyMwAqRbcF3yVrV2KyYetLMYA5mCbv4BhrKwUrFE9LZM6JRR1AEt8Jq4V4C8LwtTke6YEEdCZqgXp85YRk2j74EfJKhe3QybQ9kcUjs4";
  const other =
    "xpub661MyMwAqRbcGDZQUKLqmWodYLcoBQnQH33yYkkF3jjxeLvY8qr2wWGEWkiKFaaQfJCoi3HeEq3Dc5DptfbCyjD38fNhSqtKc1UHaP4ba3t";
  const tree = (internal: string) =>
    regtestKeys(
      `tr(${root}/${internal}/*,{pk(${XPUB_6ERA}/<1;2;3>/0/*),pk(${other}/0/0/<3;4;5>/*)})`,
    );
  const first = [
    "5120993e5b1d71d14cbb0a90c57ea0fed1d5bf77d5804cee206c3dbd7e4d2c67d869",
    "51207b8f629f6d406b92ffa6284f5545085eafb837c469018b715755f619b587163b",
    "512061f52925826e51e4615007557ddbea55b22c817909d7ebcfd3c454c634643ece",
  ];
  const expected: [string, string[][]][] = [
    ["<6;7;8>", [first, [
      "5120633808b2156d0a6597e8b07f59c387bb4c2d5c02c4cb98f1802748e64c6abf5f",
      "5120fc5f06ded29328c170bf7e49e71c9cc8699befa2bf0a2a80802a1f32ab72d291",
      "5120fd05e2227e0dac972dff9941e332db8461bedc320c2a74def44e469ddbad9d21",
    ], [
      "51205d19538c7c0901520eb712d079ae6eebed4f691021da466dc24e9575d9815ad0",
      "5120b9fc348ede2b7b9fb1f84c21741bb36bb3fa0905d0bc9417e07145d3142673f7",
      "51203a655bc5181b12efac82a5a5d1d0969b2ceb92c6fc37f505fdf00ee8afa09b33",
    ]]],
    ["6", [first, [
      "5120c481a8ada38d1070094f62af526d4f8aae2eb1e44d1fd961be6a25198b4da77b",
      "512034a2d31c091905e62def62b575b88beff41723d83acb02dfada2e73d9c529b40",
      "5120e0ecc278655b092962ded92a5781bd8e86e8408055de05f121e107fa211e5dfb",
    ], [
      "51206052cff5efc848e4b38a947803943eb1eb0076523eec1041969851ebcd265555",
      "512009ed83d758c0bdd36e225c961810761c7a360533434a41a17bba709e331e6cd1",
      "5120fcd77851ebaac37564b87e9b351c54492a8fbb1d6afdf7f3a9317703a002b22b",
    ]]],
  ];
  for (const [internal, branches] of expected) {
    const descriptors = parseDescriptors(tree(internal));
    assertEquals(
      descriptors.map((d) => [0, 1, 2].map((i) => hex.encode(d.expand(i).scripts[0]))),
      branches,
    );
  }
  const mismatch = (text: string, message: string) =>
    assertEquals(assertThrows(() => parseDescriptors(text), DescriptorError).message, message);
  mismatch(
    `tr(${TPUB}/<0;1>/*,{pk(${TPUB}/<0;1;2>/*),pk(${TPUB}/9/*)})`,
    "tr(): Multipath internal key mismatches multipath subscripts lengths",
  );
  mismatch(
    `tr(${TPUB}/0/*,{pk(${TPUB}/<0;1;2>/*),pk(${TPUB}/<3;4>/*)})`,
    "tr(): Multipath subscripts have mismatched lengths",
  );
  mismatch(
    `tr(${TPUB}/0/*,multi_a(1,${TPUB}/<0;1;2>/*,${TPUB}/<3;4>/*))`,
    "multi(): Multipath derivation paths have mismatched lengths",
  );
});

Deno.test("descriptor: tr() trees and multi_a(): Core's errors and limits", () => {
  const X = XA34B;
  refused(
    `tr(${X},multi_a(1))`,
    "Cannot have 0 keys in multi_a; must have between 1 and 999 keys, inclusive",
  );
  refused(`tr(${X},{pk(${X})})`, "tr(): expected ',' after script expression");
  refused(`tr(${X},{pk(${X}),pk(${X}))`, "tr(): expected '}' after script expression");
  refused(`tr(${X},{pk(${X}),pk(${X})},pk(${X}))`, "tr(): expected ')' after script expression");
  refused(`tr(${X}},pk(${X}))`, "tr: expected ',', got '}'");
  refused(
    `tr(${X},multi(1,${X}))`,
    "Can only have multi/sortedmulti at top level, in sh(), or in wsh()",
  );
  refused(`wsh(multi_a(1,${KEY}))`, "Can only have multi_a/sortedmulti_a inside tr()");
  refused(`sh(sortedmulti_a(1,${KEY}))`, "Can only have multi_a/sortedmulti_a inside tr()");
  refused(`tr(${X},wpkh(${KEY}))`, "Can only have wpkh() at top level or inside sh()");
  refused(`tr(${X},tr(${X}))`, "Can only have tr at top level");
  refused(`tr(${X},raw(51))`, "Can only have raw() at top level");
  refused(`tr(${X},foo(1))`, "'foo(1)' is not a valid descriptor function");
  refused(`tr(${X},multi_a(0,${X}))`, "Multisig threshold cannot be 0, must be at least 1");
  refused(
    `tr(${X},multi_a(3,${X},${KEY}))`,
    "Multisig threshold cannot be larger than the number of keys; threshold is 3 but only 2 keys specified",
  );
  refused(`tr(${X},sortedmulti_a(x,${X}))`, "Multi threshold 'x' is not valid");
  refused(`tr(${X},multi_a(1,${X},00))`, "Multi: Pubkey '00' is invalid");
  refused(
    `tr(${X},pk(04${"a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd"}${"5b8dec5235a0fa8722476c7709c02559e3aa73aa03918ba2d492eea75abea235"}))`,
    "pk(): Uncompressed keys are not allowed",
  );
  // Core's vector: a miniscript where the internal key goes is read as a key.
  refused(
    "tr(and_v(vc:andor(pk(03cdabb7f2dce7bfbd8a0b9570c6fd1e712e5d64045e9d6b517b3d5072251dc204),pk_k(032707170c71d8f75e4ca4e3fce870b9409dcaf12b051d3bcadff74747fa7619c0),and_v(v:older(1),pk_k(02aa27e5eb2c185e87cd1dbc3e0efc9cb1175235e0259df1713424941c3cb40402))),after(10)))",
    "tr(): key 'and_v(vc:andor(pk(03cdabb7f2dce7bfbd8a0b9570c6fd1e712e5d64045e9d6b517b3d5072251dc204),pk_k(032707170c71d8f75e4ca4e3fce870b9409dcaf12b051d3bcadff74747fa7619c0),and_v(v:older(1),pk_k(02aa27e5eb2c185e87cd1dbc3e0efc9cb1175235e0259df1713424941c3cb40402))),after(10))' is not valid",
  );
  // 999 keys in multi_a, not 1000; a leaf 128 deep, not 129.
  const keys = (n: number) => Array.from({ length: n }, () => X).join(",");
  assertEquals(parseDescriptor(`tr(${X},multi_a(1,${keys(999)}))`).keyCount, 1000);
  refused(
    `tr(${X},multi_a(1,${keys(1000)}))`,
    "Cannot have 1000 keys in multi_a; must have between 1 and 999 keys, inclusive",
  );
  const deep = (depth: number) =>
    `tr(${X},${"{".repeat(depth)}pk(${X})${`,pk(${X})}`.repeat(depth)})`;
  assertEquals(parseDescriptor(deep(128)).keyCount, 130);
  refused(deep(129), "tr() supports at most 128 nesting levels");
});

Deno.test("descriptor: multi_a() and sortedmulti_a() leaves: scripts, key order and inference", () => {
  const a = new TestKey(21).xOnly;
  const b = new TestKey(22).xOnly;
  const [low, high] = hex.encode(a) < hex.encode(b) ? [a, b] : [b, a];
  const leaf = (fn: string, keys: Uint8Array[]) =>
    parseDescriptor(`tr(${XA34B},${fn}(2,${keys.map((k) => hex.encode(k)).join(",")}))`);
  const multiA = (keys: Uint8Array[]) =>
    Uint8Array.of(0x20, ...keys[0], 0xac, 0x20, ...keys[1], 0xba, 0x52, 0x9c);
  // multi_a keeps the keys' order; sortedmulti_a sorts the x-only keys (BIP 387).
  const sorted = leaf("sortedmulti_a", [high, low]).expand(0);
  assertEquals(
    hex.encode(sorted.scripts[0]),
    hex.encode(leaf("multi_a", [low, high]).expand(0).scripts[0]),
  );
  const tree = sorted.provider.taprootTree(sorted.scripts[0].subarray(2))!;
  assertEquals(hex.encode(tree.leaves[0].script), hex.encode(multiA([low, high])));
  // Core infers the leaf back as multi_a() in script order, keys with their origins.
  const inferred = inferDescriptor(sorted.scripts[0], sorted.provider);
  assert(inferred.startsWith(`tr([`) && inferred.includes(",multi_a(2,["), inferred);
  assertEquals(parseDescriptor(inferred).expand(0).scripts, sorted.scripts);
  // A threshold above 16 is a number push: 17 keys, 17 of them.
  const many = Array.from({ length: 17 }, (_, i) => new TestKey(30 + i).xOnly);
  const big = parseDescriptor(
    `tr(${XA34B},multi_a(17,${many.map((k) => hex.encode(k)).join(",")}))`,
  ).expand(0);
  const script = big.provider.taprootTree(big.scripts[0].subarray(2))!.leaves[0].script;
  assertEquals(hex.encode(script.subarray(-3)), "01119c");
  assert(inferDescriptor(big.scripts[0], big.provider).includes("multi_a(17,"));
});

Deno.test("descriptor: tree inference takes a script's shallowest occurrence first, as Core's; a tree's keys are bounded here", () => {
  const a = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
  const b = "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";
  const internal = "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9";
  // Trees whose inference differs from the written tree only when a repeated leaf is placed
  // by its deeper occurrence first.
  for (
    const [written, inferred] of [
      [`{pk(${a}),{pk(${a}),{pk(${a}),pk(${a})}}}`, `{pk(${a}),{pk(${a}),{pk(${a}),pk(${a})}}}`],
      [`{{pk(${a}),{pk(${b}),pk(${b})}},pk(${a})}`, `{pk(${a}),{pk(${a}),{pk(${b}),pk(${b})}}}`],
    ]
  ) {
    const descriptor = parseDescriptor(`tr(${internal},${written})`);
    const { scripts, provider } = descriptor.expand(0);
    assertEquals(
      // Each hex key comes back with its own fingerprint as origin, as in Core.
      inferDescriptor(scripts[0], provider).split("#")[0].replaceAll(/\[[0-9a-f]{8}\]/g, ""),
      `tr(${internal},${inferred})`,
      written,
    );
  }
  const leaves = Array.from({ length: 1001 }, () => `pk(${a})`);
  let tree = leaves[0];
  for (const leaf of leaves.slice(1, 128)) tree = `{${leaf},${tree}}`;
  const big = `tr(${internal},{multi_a(1,${Array(999).fill(a).join(",")}),multi_a(1,${a},${a})})`;
  assertThrows(
    () => parseDescriptor(big),
    DescriptorError,
    "tr(): at most 1000 keys in a script tree here (not Core's limit: each is derived in turn)",
  );
  assertEquals(parseDescriptor(`tr(${internal},${tree})`).keyCount, 129);
});
