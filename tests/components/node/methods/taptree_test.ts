/**
 * `tr(KEY,TREE)` descriptors on a real node over HTTP (`-rpcdoccheck`:
 * every result checked against its documented shape): getdescriptorinfo
 * and deriveaddresses of a ranged tree with a `pk()` and a
 * `sortedmulti_a()` leaf (the addresses checked against
 * @scure/btc-signer's own taproot tree construction), scantxoutset
 * finding coins paid to two of its addresses (a coinbase, and a payment
 * signed with `signTx`) with the descriptor Core infers for them, and
 * Core's errors for `multi_a()` outside `tr()`, a tree too deep and a
 * miniscript leaf this node does not support.
 *
 * @module
 */
import { hex } from "@scure/base";
import { HDKey } from "@scure/bip32";
import { p2tr } from "@scure/btc-signer";
import { assert, assertEquals } from "../../../assert.ts";
import { signTx, TestKey } from "../chain/chain_helpers.ts";
import { coinbaseUtxo, rejects, startRealNode } from "../real_node.ts";
import {
  decodeDestination,
  encodeTx,
  parseDescriptor,
  scriptToAddress,
  withChecksum,
} from "../../../../components/node/chain/mod.ts";

const VERSIONS = { private: 0x04358394, public: 0x043587cf };
const ROOT1 = HDKey.fromMasterSeed(new Uint8Array(32).fill(1), VERSIONS);
const ROOT2 = HDKey.fromMasterSeed(new Uint8Array(32).fill(2), VERSIONS);
const XPUB1 = ROOT1.publicExtendedKey;
const XPUB2 = ROOT2.publicExtendedKey;
const TREE = `tr(${XPUB1}/0/*,{pk(${XPUB2}/0/*),sortedmulti_a(2,${XPUB1}/1/*,${XPUB2}/1/*)})`;
const xonly = (root: HDKey, path: string) => root.derive(path).publicKey!.subarray(1);

/** Index `i`'s address, built by @scure/btc-signer: two leaves, one level down. */
function expectedAddress(i: number): string {
  const [a, b] = [xonly(ROOT1, `m/1/${i}`), xonly(ROOT2, `m/1/${i}`)]
    .sort((x, y) => hex.encode(x) < hex.encode(y) ? -1 : 1);
  const pk = Uint8Array.of(0x20, ...xonly(ROOT2, `m/0/${i}`), 0xac);
  const multiA = Uint8Array.of(0x20, ...a, 0xac, 0x20, ...b, 0xba, 0x52, 0x9c);
  const output = p2tr(
    xonly(ROOT1, `m/0/${i}`),
    [{ script: pk }, { script: multiA }],
    undefined,
    true,
  );
  return scriptToAddress(output.script)!;
}

Deno.test("tr() script trees on a real node: getdescriptorinfo, deriveaddresses, scantxoutset and errors", async () => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  const { call } = node;

  const info = await call("getdescriptorinfo", [TREE]);
  assertEquals(info, {
    descriptor: withChecksum(TREE),
    checksum: withChecksum(TREE).slice(-8),
    isrange: true,
    issolvable: true,
    hasprivatekeys: false,
  });
  // Given with its extended private keys: the public form, and private keys said.
  const secretTree = TREE.replace(XPUB1, ROOT1.privateExtendedKey);
  const fromSecret = await call("getdescriptorinfo", [secretTree]);
  assertEquals([fromSecret.descriptor, fromSecret.hasprivatekeys], [withChecksum(TREE), true]);

  const addresses: string[] = await call("deriveaddresses", [withChecksum(TREE), [0, 2]]);
  assertEquals(addresses, [0, 1, 2].map(expectedAddress));

  // A coinbase to address 1; a payment to address 3 from a key's matured coinbase.
  const payer = new TestKey(61);
  const [hPayer] = await call("generatetoaddress", [1, scriptToAddress(payer.wpkh)]);
  const [hTree] = await call("generatetoaddress", [1, addresses[1]]);
  await call("generatetoaddress", [100, scriptToAddress(new TestKey(62).wpkh)]);
  const coin = await coinbaseUtxo(call, hPayer, payer);
  const third = decodeDestination(expectedAddress(3));
  assert(third.ok);
  const payment = signTx([coin], [{ script: third.script, amount: coin.amount - 10_000n }]);
  const txid = await call("sendrawtransaction", [hex.encode(encodeTx(payment))]);
  await call("generatetoaddress", [1, scriptToAddress(new TestKey(62).wpkh)]);

  const scan = await call("scantxoutset", ["start", [{ desc: TREE, range: 5 }]]);
  assertEquals(scan.success, true);
  const found = scan.unspents.map((u: { txid: string; desc: string; scriptPubKey: string }) => u)
    .sort((a: { scriptPubKey: string }, b: { scriptPubKey: string }) =>
      addresses.indexOf(scriptToAddress(hex.decode(a.scriptPubKey))!) -
      addresses.indexOf(scriptToAddress(hex.decode(b.scriptPubKey))!)
    );
  assertEquals(found.length, 2);
  const block = await call("getblock", [hTree, 1]);
  assertEquals(
    new Set(found.map((u: { txid: string }) => u.txid)),
    new Set([block.tx[0], txid]),
  );
  // Each coin's descriptor is the tree Core infers from what the expansion learned.
  for (const unspent of found) {
    assert(unspent.desc.startsWith("tr([") && unspent.desc.includes("multi_a(2,["), unspent.desc);
    const inferred = parseDescriptor(unspent.desc);
    assertEquals(hex.encode(inferred.expand(0).scripts[0]), unspent.scriptPubKey);
  }

  // Core's errors (-5), and what this node does not support, said plainly.
  const key = hex.encode(xonly(ROOT1, "m/0/0"));
  await rejects(
    call("getdescriptorinfo", [`wsh(multi_a(1,${hex.encode(ROOT1.publicKey!)}))`]),
    -5,
    "Can only have multi_a/sortedmulti_a inside tr()",
  );
  await rejects(
    call("deriveaddresses", [
      withChecksum(`tr(${key},${"{".repeat(129)}pk(${key})${`,pk(${key})}`.repeat(129)})`),
    ]),
    -5,
    "tr() supports at most 128 nesting levels",
  );
  await rejects(
    call("getdescriptorinfo", [`tr(${key},and_v(v:pk(${key}),older(10)))`]),
    -5,
    "Miniscript expressions other than pk() and pkh() are not supported in tr() leaves by this node",
  );
  await rejects(
    call("getdescriptorinfo", [`tr(${key},multi_a(1000,${Array(1000).fill(key).join(",")}))`]),
    -5,
    "Cannot have 1000 keys in multi_a; must have between 1 and 999 keys, inclusive",
  );
});
