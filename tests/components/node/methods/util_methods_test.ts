/**
 * The network, util and control methods added for regtest users, against a
 * real node process over HTTP: getpeerinfo, getnettotals,
 * getaddednodeinfo and ping with no peers; getdescriptorinfo and
 * deriveaddresses on Core's own vectors (single keys, key origins,
 * tprv/tpub ranges, combo), with Core's errors and clear refusals of what
 * this node does not parse; createmultisig against @scure/btc-signer's
 * scripts and addresses; signmessagewithprivkey / verifymessage on
 * Core's signature vector; getindexinfo; getmemoryinfo; getrpcinfo seeing
 * itself run; and logging turning a category on and off with the effect
 * visible in debug.log.
 *
 * @module
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hex } from "@scure/base";
import { p2ms, p2sh, p2wsh } from "@scure/btc-signer";
import { assert, assertEquals } from "../../../assert.ts";
import { rejects, startRealNode } from "../real_node.ts";
import { TestKey } from "../chain/chain_helpers.ts";
import {
  decodeExtendedKey,
  descriptorChecksum,
  encodeSecret,
  hash160,
  scriptToAddress,
} from "../../../../components/node/chain/mod.ts";

const key = new TestKey(3);
const WIF = encodeSecret({ key: key.secret, compressed: true });
const LEGACY = scriptToAddress(key.pkh)!;
const ADDRESS = scriptToAddress(key.wpkh)!;

/** Core's rpc_deriveaddresses.py keys. */
const TPRV =
  "tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK";
const TPUB =
  "tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B";

Deno.test("network, util and control methods of a node without peers", async (t) => {
  await using node = await startRealNode();
  const call = node.call;

  await t.step("network: no peers, no traffic, no added nodes", async () => {
    assertEquals(await call("getpeerinfo"), []);
    assertEquals(await call("ping"), null);
    assertEquals(await call("getaddednodeinfo"), []);
    await rejects(call("getaddednodeinfo", ["127.0.0.1"]), -24, "Error: Node has not been added.");
    const before = Date.now();
    const totals = await call("getnettotals");
    assertEquals(Object.keys(totals), [
      "totalbytesrecv",
      "totalbytessent",
      "timemillis",
      "uploadtarget",
    ]);
    assertEquals([totals.totalbytesrecv, totals.totalbytessent], [0, 0]);
    assert(totals.timemillis >= before - 1000 && Number.isInteger(totals.timemillis));
    assertEquals(totals.uploadtarget, {
      timeframe: 86400,
      target: 0,
      target_reached: false,
      serve_historical_blocks: true,
      bytes_left_in_cycle: 0,
      time_left_in_cycle: 0,
    });
    const help: string = await call("help", ["getpeerinfo"]);
    assert(help.startsWith("getpeerinfo\n\nReturns data about each connected network peer"), help);
    assert(help.includes('    "connection_type" : "str",'), help);
  });

  await t.step("getdescriptorinfo: Core's vectors, canonical form, flags", async () => {
    assertEquals(await call("getdescriptorinfo", [`wpkh(${TPRV}/1/1/0)`]), {
      descriptor: `wpkh(${TPUB}/1/1/0)#s9ga3alw`,
      checksum: "t6wfjs64",
      isrange: false,
      issolvable: true,
      hasprivatekeys: true,
    });
    const ranged = await call("getdescriptorinfo", [`wpkh(${TPRV}/1/1/*)#kft60nuy`]);
    assertEquals([ranged.checksum, ranged.isrange, ranged.hasprivatekeys], [
      "kft60nuy",
      true,
      true,
    ]);
    assert(ranged.descriptor.startsWith(`wpkh(${TPUB}/1/1/*)#`), ranged.descriptor);
    // Key origins keep the last hardened marker used; upper-case hex comes back lower case.
    const origin = await call("getdescriptorinfo", [
      "wpkh([d34db33f/84h/0h/0']0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798)",
    ]);
    assert(
      origin.descriptor.startsWith(
        "wpkh([d34db33f/84'/0'/0']0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798)#",
      ),
      origin.descriptor,
    );
    assertEquals([origin.isrange, origin.issolvable, origin.hasprivatekeys], [false, true, false]);
    const address = await call("getdescriptorinfo", [`addr(${ADDRESS})`]);
    assertEquals([address.issolvable, address.hasprivatekeys], [false, false]);
    // A WIF key inside tr() is written as its x-only public key.
    const taproot = await call("getdescriptorinfo", [`tr(${WIF})`]);
    assert(
      taproot.descriptor.startsWith(
        `tr(${[...key.xOnly].map((b) => b.toString(16).padStart(2, "0")).join("")})#`,
      ),
    );
    await rejects(call("getdescriptorinfo", ["pk(nope)"]), -5, "pk(): key 'nope' is not valid");
    await rejects(
      call("getdescriptorinfo", [
        "wpkh(04a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd5b8dec5235a0fa8722476c7709c02559e3aa73aa03918ba2d492eea75abea235)",
      ]),
      -5,
      "wpkh(): Uncompressed keys are not allowed",
    );
    // A multipath descriptor: its first path, each path's descriptor, and the input's checksum.
    const [external, change] = await Promise.all(
      ["0", "1"].map(async (path) =>
        (await call("getdescriptorinfo", [`wpkh(${TPUB}/${path}/*)`])).descriptor
      ),
    );
    const multipath = await call("getdescriptorinfo", [`wpkh(${TPUB}/<0;1>/*)`]);
    assertEquals(Object.keys(multipath), [
      "descriptor",
      "multipath_expansion",
      "checksum",
      "isrange",
      "issolvable",
      "hasprivatekeys",
    ]);
    assertEquals([multipath.descriptor, multipath.multipath_expansion], [external, [
      external,
      change,
    ]]);
    assert(!external.endsWith(`#${multipath.checksum}`), "the checksum is of the input");
    await rejects(
      call("getdescriptorinfo", [`wpkh(${TPUB}/<0>/*)`]),
      -5,
      "wpkh(): Multipath key path specifiers must have at least two items",
    );
    await rejects(
      call("getdescriptorinfo", [`multi_a(1,${TPUB})`]),
      -5,
      "Can only have multi_a/sortedmulti_a inside tr()",
    );
    const computed = (await call("getdescriptorinfo", ["raw(00)"])).checksum;
    await rejects(
      call("getdescriptorinfo", ["raw(00)#aaaaaaaa"]),
      -5,
      `Provided checksum 'aaaaaaaa' does not match computed checksum '${computed}'`,
    );
  });

  await t.step("deriveaddresses: Core's vectors and errors", async () => {
    const address = "bcrt1qjqmxmkpmxt80xz4y3746zgt0q3u3ferr34acd5";
    assertEquals(await call("deriveaddresses", [`wpkh(${TPRV}/1/1/0)#t6wfjs64`]), [address]);
    assertEquals(await call("deriveaddresses", [`wpkh(${TPUB}/1/1/0)#s9ga3alw`]), [address]);
    await rejects(call("deriveaddresses", [`wpkh(${TPRV}/1/1/0)`]), -5, "Missing checksum");
    const ranged = `wpkh(${TPRV}/1/1/*)#kft60nuy`;
    const next = [
      "bcrt1qhku5rq7jz8ulufe2y6fkcpnlvpsta7rq4442dy",
      "bcrt1qpgptk2gvshyl0s9lqshsmx932l9ccsv265tvaq",
    ];
    assertEquals(await call("deriveaddresses", [ranged, [1, 2]]), next);
    assertEquals(await call("deriveaddresses", [ranged, 2]), [address, ...next]);
    assertEquals(
      await call("deriveaddresses", { descriptor: ranged, range: [2147483647, 2147483647] }),
      ["bcrt1qtzs23vgzpreks5gtygwxf8tv5rldxvvsyfpdkg"],
    );
    const withChecksum = async (text: string) =>
      `${text}#${(await call("getdescriptorinfo", [text])).checksum}`;
    await rejects(
      call("deriveaddresses", [await withChecksum(`wpkh(${TPRV}/1/1/0)`), [0, 2]]),
      -8,
      "Range should not be specified for an un-ranged descriptor",
    );
    await rejects(
      call("deriveaddresses", [ranged]),
      -8,
      "Range must be specified for a ranged descriptor",
    );
    await rejects(call("deriveaddresses", [ranged, 10000000000]), -8, "End of range is too high");
    await rejects(
      call("deriveaddresses", [ranged, [1000000000, 2000000000]]),
      -8,
      "Range is too large",
    );
    await rejects(
      call("deriveaddresses", [ranged, [2, 0]]),
      -8,
      "Range specified as [begin,end] must not have begin after end",
    );
    await rejects(
      call("deriveaddresses", [ranged, [-1, 0]]),
      -8,
      "Range should be greater or equal than 0",
    );
    // A multipath descriptor: one list per path.
    const multipath = await withChecksum(`wpkh(${TPRV}/1/<1;0>/*)`);
    assertEquals(await call("deriveaddresses", [multipath, [1, 2]]), [
      next,
      await call("deriveaddresses", [await withChecksum(`wpkh(${TPRV}/1/0/*)`), [1, 2]]),
    ]);
    // combo(): P2PKH, P2WPKH and P2SH-P2WPKH; its P2PK script has no address.
    assertEquals(
      await call("deriveaddresses", [await withChecksum(`combo(${TPRV}/1/1/0)`)]),
      ["mtfUoUax9L4tzXARpw1oTGxWyoogp52KhJ", address, "2NDvEwGfpEqJWfybzpKPHF2XH3jwoQV3D7x"],
    );
    await rejects(
      call("deriveaddresses", [await withChecksum(`pk(${WIF})`)]),
      -5,
      "Descriptor does not have a corresponding address",
    );
    await rejects(
      call("deriveaddresses", [await withChecksum(`wpkh(${TPUB}/1'/1/0)`)]),
      -5,
      "Cannot derive script without private keys",
    );
    // Hardened steps derive from the private key; pkh() and tr() too.
    const hardened = await call("deriveaddresses", [
      await withChecksum(`pkh(${TPRV}/44h/1h/0h/0/*)`),
      [0, 1],
    ]);
    assertEquals(hardened.length, 2);
    assert(hardened.every((a: string) => a.startsWith("m") || a.startsWith("n")), hardened.join());
    const taproot = await call("deriveaddresses", [
      await withChecksum(`tr(${TPRV}/86h/1h/0h/0/*)`),
      [0, 0],
    ]);
    assert(taproot[0].startsWith("bcrt1p"), taproot[0]);
    assertEquals(await call("deriveaddresses", [await withChecksum(`pkh(${WIF})`)]), [LEGACY]);
    // A ranged 2-of-2 in P2WSH: each address is createmultisig's of the keys derived at its
    // index, sorted (BIP 67); getdescriptorinfo writes it with public keys.
    const other = new TestKey(4);
    const sorted = `wsh(sortedmulti(2,${TPRV}/7/*,${other.publicKey.toHex()}))`;
    const info = await call("getdescriptorinfo", [sorted]);
    assertEquals([info.isrange, info.issolvable, info.hasprivatekeys], [true, true, true]);
    assert(info.descriptor.startsWith(`wsh(sortedmulti(2,${TPUB}/7/*,`), info.descriptor);
    const derived = await call("deriveaddresses", [info.descriptor, [0, 2]]);
    assertEquals(derived.length, 3);
    for (const [i, derivedAddress] of derived.entries()) {
      const keys = [
        hex.encode(decodeExtendedKey(TPUB)!.derive(`m/7/${i}`).publicKey!),
        other.publicKey.toHex(),
      ].sort();
      const made = await call("createmultisig", [2, keys, "bech32"]);
      assertEquals(derivedAddress, made.address, `index ${i}`);
    }
    // Twenty keys an index: a range is held to a million keys derived, not a million indexes.
    const twenty = await withChecksum(
      `wsh(sortedmulti(1,${Array.from({ length: 20 }, (_, i) => `${TPUB}/${i}/*`).join(",")}))`,
    );
    await rejects(
      call("deriveaddresses", [twenty, [0, 50000]]),
      -8,
      "Range is too large for a descriptor of 20 keys: at most 1000000 keys are derived per descriptor",
    );
    assertEquals((await call("deriveaddresses", [twenty, [7, 7]])).length, 1);
  });

  await t.step(
    "createmultisig: the three address types, the legacy fallback, Core's errors",
    async () => {
      // Addresses as @scure/btc-signer makes them for the same script, independently.
      const regtest = { bech32: "bcrt", pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
      const keys = [new TestKey(4), new TestKey(5), new TestKey(6)].map((k) => k.publicKey);
      const hexKeys = keys.map((k) => hex.encode(k));
      const ms = p2ms(2, keys);
      const expected = {
        legacy: [p2sh(ms, regtest).address!, `sh(multi(2,${hexKeys}))`],
        "p2sh-segwit": [p2sh(p2wsh(ms, regtest), regtest).address!, `sh(wsh(multi(2,${hexKeys})))`],
        bech32: [p2wsh(ms, regtest).address!, `wsh(multi(2,${hexKeys}))`],
      };
      for (const [type, [address, descriptor]] of Object.entries(expected)) {
        const made = await call("createmultisig", [2, hexKeys, type]);
        assertEquals(made, {
          address,
          redeemScript: hex.encode(ms.script),
          descriptor: `${descriptor}#${descriptorChecksum(descriptor)}`,
        });
      }
      assertEquals((await call("createmultisig", [2, hexKeys])).address, expected.legacy[0]);
      // An uncompressed key makes it legacy, with Core's warning when another type was asked.
      const uncompressed = hex.encode(secp256k1.getPublicKey(new TestKey(7).secret, false));
      const fallback = await call("createmultisig", [1, [hexKeys[0], uncompressed], "bech32"]);
      assertEquals(fallback.address.startsWith("2"), true, fallback.address);
      assertEquals(fallback.warnings, [
        "Unable to make chosen address type, please ensure no uncompressed public keys are present.",
      ]);
      assertEquals("warnings" in await call("createmultisig", [1, [uncompressed]]), false);
      // Twenty keys: the count is pushed as a number past OP_16.
      const twenty = await call("createmultisig", [20, Array(20).fill(hexKeys[0]), "bech32"]);
      assertEquals(twenty.redeemScript.slice(0, 4), "0114");
      assertEquals(twenty.redeemScript.slice(-6), "0114ae");
      const refusals: [unknown[], number, string][] = [
        [[0, hexKeys], -8, "a multisignature address must require at least one key to redeem"],
        [[4, hexKeys], -8, "not enough keys supplied (got 3 keys, but need at least 4 to redeem)"],
        [
          [1, Array(21).fill(hexKeys[0]), "bech32"],
          -8,
          "Number of keys involved in the multisignature address creation > 20\nReduce the number",
        ],
        [[1, Array(16).fill(hexKeys[0])], -8, "redeemScript exceeds size limit: 547 > 520"],
        [[1, hexKeys, "bech32m"], -5, "createmultisig cannot create bech32m multisig addresses"],
        [[1, hexKeys, "p2tr"], -5, "Unknown address type 'p2tr'"],
        [[1, ["zz"]], -5, 'Pubkey "zz" must be a hex string'],
        [[1, ["deadbeef"]], -5, 'Pubkey "deadbeef" must have a length of either 33 or 65 bytes'],
        [
          [1, ["02" + "00".repeat(32)]],
          -5,
          `Pubkey "02${"00".repeat(32)}" must be cryptographically valid.`,
        ],
        [[1, [5]], -3, "JSON value of type number is not of expected type string"],
      ];
      for (const [params, code, message] of refusals) {
        await rejects(call("createmultisig", params), code, message);
      }
    },
  );

  await t.step("signmessagewithprivkey and verifymessage", async () => {
    // Core's util_tests message_sign vector (a compressed key).
    const vectorKey = Uint8Array.from([
      0xd9,
      0x7f,
      0x51,
      0x08,
      0xf1,
      0x1c,
      0xda,
      0x6e,
      0xee,
      0xba,
      0xaa,
      0x42,
      0x0f,
      0xef,
      0x07,
      0x26,
      0xb1,
      0xf8,
      0x98,
      0x06,
      0x0b,
      0x98,
      0x48,
      0x9f,
      0xa3,
      0x09,
      0x84,
      0x63,
      0xc0,
      0x03,
      0x28,
      0x66,
    ]);
    assertEquals(
      await call("signmessagewithprivkey", [
        encodeSecret({ key: vectorKey, compressed: true }),
        "Trust no one",
      ]),
      "IPojfrX2dfPnH26UegfbGQQLrdK844DlHq5157/P6h57WyuS/Qsl+h/WSVGDF4MUi4rWSswW38oimDYfNNUBUOk=",
    );
    const signature = await call("signmessagewithprivkey", [WIF, "hello"]);
    assertEquals(await call("verifymessage", [LEGACY, signature, "hello"]), true);
    assertEquals(await call("verifymessage", [LEGACY, signature, "hello!"]), false);
    const other = scriptToAddress(
      Uint8Array.of(0x76, 0xa9, 0x14, ...hash160(new TestKey(4).publicKey), 0x88, 0xac),
    )!;
    assertEquals(await call("verifymessage", [other, signature, "hello"]), false);
    await rejects(
      call("verifymessage", [ADDRESS, signature, "hello"]),
      -3,
      "Address does not refer to key",
    );
    await rejects(
      call("verifymessage", ["notanaddress", signature, "hello"]),
      -5,
      "Invalid address",
    );
    await rejects(
      call("verifymessage", [LEGACY, "not base64!", "hello"]),
      -3,
      "Malformed base64 encoding",
    );
    await rejects(call("signmessagewithprivkey", ["nokey", "hello"]), -5, "Invalid private key");
  });

  await t.step("getindexinfo, getmemoryinfo, getrpcinfo", async () => {
    assertEquals(await call("getindexinfo"), {});
    assertEquals(await call("getindexinfo", ["txindex"]), {});
    assertEquals(await call("getmemoryinfo"), {
      locked: { used: 0, free: 0, total: 0, locked: 0, chunks_used: 0, chunks_free: 0 },
    });
    await rejects(call("getmemoryinfo", ["mallocinfo"]), -8, "mallocinfo mode not available");
    await rejects(call("getmemoryinfo", ["nope"]), -8, "unknown mode nope");
    const info = await call("getrpcinfo");
    assertEquals(Object.keys(info), ["active_commands", "logpath"]);
    assertEquals(info.active_commands.map((c: { method: string }) => c.method), ["getrpcinfo"]);
    assert(Number.isInteger(info.active_commands[0].duration));
    assertEquals(info.logpath, `${node.datadir}/regtest/debug.log`);
  });

  await t.step("logging: categories on and off, visible in debug.log", async () => {
    const initial = await call("logging");
    assert(Object.values(initial).every((on) => on === false), JSON.stringify(initial));
    assertEquals(Object.keys(initial), Object.keys(initial).sort());
    assert("rpc" in initial && "libevent" in initial);
    const enabled = await call("logging", [["rpc"]]);
    assertEquals(enabled.rpc, true);
    await call("getblockcount");
    const log = () => Deno.readTextFileSync(`${node.datadir}/regtest/debug.log`);
    assert(log().includes("[rpc] ThreadRPCServer method=getblockcount user=__cookie__"), log());
    assertEquals((await call("logging", [[], ["rpc"]])).rpc, false);
    await call("getbestblockhash");
    assert(!log().includes("method=getbestblockhash"));
    const all = await call("logging", [["all"]]);
    assert(Object.values(all).every((on) => on === true));
    // Evaluated in order: included, then excluded.
    const both = await call("logging", [["net"], ["all"]]);
    assert(Object.values(both).every((on) => on === false));
    await rejects(call("logging", [["nope"]]), -8, "unknown logging category nope");
  });

  assertEquals(await node.stop(), 0);
});
