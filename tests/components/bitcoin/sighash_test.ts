/**
 * The kept-hash sighash digests against `@scure/btc-signer`'s own, over
 * random transactions, every hash type (invalid ones too), key and script
 * paths, annexes and long scripts; and scure's signing inside
 * `cachedSighashes` producing the very transaction it produces without.
 *
 * @module
 */
import { p2tr, p2wpkh, Transaction } from "@scure/btc-signer";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { assert, assertEquals } from "../../assert.ts";
import {
  cachedSighashes,
  scurePreimages,
  SighashCache,
} from "../../../components/bitcoin/sighash.ts";

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  // Lengths around the CompactSize steps (253, 65,536) now and then.
  const scriptLength = () => [0, 1, 22, 34, 252, 253, 300, 65_536][int(8)];
  return { int, bytes, scriptLength };
}

const HASH_TYPES = [0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83, 0x04, 0x41, 0xc3];

/** The digest, or the error's message when computing it throws. */
function outcome(digest: () => Uint8Array): string {
  try {
    return digest().toHex();
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

/** A readable legacy script code: OP_CODESEPARATORs among pushes and other operations. */
function legacyScript(rng: ReturnType<typeof random>): Uint8Array {
  const parts: number[] = [];
  for (let n = rng.int(8); n > 0; n--) {
    const choice = rng.int(4);
    if (choice === 0) parts.push(0xab);
    else if (choice === 1) parts.push(0x76 + rng.int(0x30));
    else if (choice === 2) parts.push(20, ...rng.bytes(20));
    else parts.push(0x4c, 80, ...rng.bytes(80));
  }
  return Uint8Array.from(parts);
}

Deno.test("sighash: legacy, BIP 143 and BIP 341 digests equal scure's over random transactions", () => {
  const rng = random(20261206);
  let compared = 0;
  for (let round = 0; round < 120; round++) {
    const tx = new Transaction({
      allowUnknownOutputs: true,
      allowUnknownVersion: true,
      disableScriptCheck: true,
      version: [1, 2, 3, 0x7fffffff][rng.int(4)],
      lockTime: rng.int(2 ** 32),
    });
    const inputs = 1 + rng.int(6);
    for (let i = 0; i < inputs; i++) {
      const sequence = [0xffffffff, 0xfffffffd, 0, rng.int(2 ** 32)][rng.int(4)];
      tx.addInput({ txid: rng.bytes(32), index: rng.int(2 ** 32), sequence });
    }
    for (let o = rng.int(5); o > 0; o--) {
      tx.addOutput({ script: rng.bytes(rng.scriptLength()), amount: BigInt(rng.int(2 ** 40)) });
    }
    const scripts = Array.from({ length: inputs }, () => rng.bytes(rng.scriptLength()));
    const amounts = Array.from({ length: inputs }, () => BigInt(rng.int(2 ** 52)));
    const cache = new SighashCache(tx);
    const scures = scurePreimages(tx);
    for (let i = 0; i < inputs; i++) {
      for (const hashType of HASH_TYPES) {
        const legacyCode = legacyScript(rng);
        assertEquals(
          outcome(() => cache.preimageLegacy(i, legacyCode, hashType)),
          outcome(() => scures.preimageLegacy(i, legacyCode, hashType)),
          `legacy: round ${round}, input ${i}, hash type ${hashType}`,
        );
        const scriptCode = rng.bytes(rng.scriptLength());
        assertEquals(
          outcome(() => cache.preimageWitnessV0(i, scriptCode, hashType, amounts[i])),
          outcome(() => scures.preimageWitnessV0(i, scriptCode, hashType, amounts[i])),
          `v0: round ${round}, input ${i}, hash type ${hashType}`,
        );
        const annex = rng.int(3) === 0
          ? Uint8Array.of(0x50, ...rng.bytes(rng.int(300)))
          : undefined;
        const leaf = rng.int(2) === 0 ? rng.bytes(rng.scriptLength()) : undefined;
        const separator = [-1, 0, rng.int(1000)][rng.int(3)];
        const version = [0xc0, 0xc2][rng.int(2)];
        assertEquals(
          outcome(() =>
            cache.preimageWitnessV1(i, scripts, hashType, amounts, separator, leaf, version, annex)
          ),
          outcome(() =>
            scures.preimageWitnessV1(i, scripts, hashType, amounts, separator, leaf, version, annex)
          ),
          `v1: round ${round}, input ${i}, hash type ${hashType}`,
        );
        compared += 3;
      }
    }
    // An input that is not there is refused, as scure refuses it.
    for (const i of [-1, inputs, 1.5]) {
      for (
        const digest of [cache, scures].map((t) => () => t.preimageWitnessV0(i, scripts[0], 1, 0n))
      ) {
        assert(outcome(digest).startsWith("error: "), `input ${i} has a digest`);
      }
    }
  }
  assert(compared > 7500, `only ${compared} digests compared`);
});

Deno.test("sighash: a legacy script code ending in an unreadable push is signed as Core signs it, where scure throws", () => {
  const tx = new Transaction({ allowUnknownOutputs: true });
  tx.addInput({ txid: new Uint8Array(32).fill(1), index: 0 });
  tx.addOutput({ script: Uint8Array.of(0x51), amount: 1000n });
  const cache = new SighashCache(tx);
  const digest = (code: number[]) => cache.preimageLegacy(0, Uint8Array.from(code), 1).toHex();
  // Separators before the unreadable operation are dropped; the rest is signed as it is.
  assertEquals(digest([0xab, 0x51, 0x4c]), digest([0x51, 0x4c]));
  assert(digest([0x51, 0x4c, 0xab]) !== digest([0x51, 0x4c]), "a separator past it is kept");
  // A PUSHDATA4 length with its top bit set ends the walk, not loops it.
  assertEquals(
    digest([0xab, 0x4e, 0xfb, 0xff, 0xff, 0xff]),
    digest([0x4e, 0xfb, 0xff, 0xff, 0xff]),
  );
  assert(
    outcome(() => scurePreimages(tx).preimageLegacy(0, Uint8Array.of(0x51, 0x4c), 1))
      .startsWith("error: "),
    "scure reads the whole script",
  );
});

Deno.test("sighash: the kept spent-output hashes follow the outputs each call passes", () => {
  const tx = new Transaction({ allowUnknownOutputs: true });
  for (let i = 0; i < 3; i++) tx.addInput({ txid: new Uint8Array(32).fill(i + 1), index: i });
  tx.addOutput({ script: Uint8Array.of(0x51), amount: 1n });
  const cache = new SighashCache(tx);
  const scripts = [Uint8Array.of(0x51), Uint8Array.of(0x52), Uint8Array.of(0x53)];
  const variants: [Uint8Array[], bigint[]][] = [
    [scripts, [1n, 2n, 3n]],
    [scripts, [1n, 2n, 4n]], // one amount differs
    [[scripts[0], scripts[1], Uint8Array.of(0x54)], [1n, 2n, 4n]], // one script differs
    [scripts.map((s) => s.slice()), [1n, 2n, 3n]], // equal content, other arrays
  ];
  for (const [spentScripts, spentAmounts] of [...variants, ...variants]) {
    assertEquals(
      cache.preimageWitnessV1(1, spentScripts, 0, spentAmounts).toHex(),
      scurePreimages(tx).preimageWitnessV1(1, spentScripts, 0, spentAmounts).toHex(),
    );
  }
});

Deno.test("sighash: scure's signing within cachedSighashes yields the same signed transaction", () => {
  const key = new Uint8Array(32).fill(9);
  const wpkh = p2wpkh(secp256k1.getPublicKey(key, true));
  const tr = p2tr(schnorr.getPublicKey(key));
  const auxRand = new Uint8Array(32).fill(3);
  const make = () => {
    const tx = new Transaction();
    for (let i = 0; i < 24; i++) {
      const payment = i % 3 === 0 ? tr : wpkh;
      tx.addInput({
        txid: new Uint8Array(32).fill(i + 1),
        index: i,
        sequence: 0xfffffffd,
        witnessUtxo: { script: payment.script, amount: BigInt(10_000 + i) },
        ...(payment === tr ? { tapInternalKey: tr.tapInternalKey } : {}),
        ...(i < 2 ? { sighashType: 0x83 } : i % 5 === 4 ? { sighashType: 0x82 } : {}),
      });
    }
    tx.addOutput({ script: wpkh.script, amount: 1_000n });
    tx.addOutput({ script: tr.script, amount: 2_000n });
    return tx;
  };
  const sign = (tx: Transaction) => {
    for (let i = 0; i < tx.inputsLength; i++) {
      tx.signIdx(key, i, [tx.getInput(i).sighashType ?? (i % 3 === 0 ? 0 : 1)], auxRand);
    }
    tx.finalize();
    return tx.hex;
  };
  const cached = make();
  let signed: string;
  {
    using _cache = cachedSighashes(cached);
    signed = sign(cached);
  }
  assertEquals(signed, sign(make()));
  // Once disposed, the transaction digests with scure's own methods again.
  const prototype = scurePreimages(Transaction.prototype);
  assertEquals(scurePreimages(cached).preimageWitnessV0, prototype.preimageWitnessV0);
  assertEquals(scurePreimages(cached).preimageWitnessV1, prototype.preimageWitnessV1);
  assert(
    !Object.hasOwn(cached, "preimageWitnessV0") && !Object.hasOwn(cached, "preimageWitnessV1"),
  );
});
