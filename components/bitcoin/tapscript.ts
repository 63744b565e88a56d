/**
 * The tapscript leaves a `tr(KEY,TREE)` descriptor writes, as Bitcoin
 * Core's descriptors and miniscript build them: `pk()` (`<x> CHECKSIG`),
 * `pkh()` (`DUP HASH160 <hash160(x)> EQUALVERIFY CHECKSIG`) and `multi_a()`
 * (`<x1> CHECKSIG <x2> CHECKSIGADD … <k> NUMEQUAL`), with `sortedmulti_a()`'s
 * order of the x-only keys (BIP 387); and a `pkh()` leaf's finalizer for
 * @scure/btc-signer, which knows the others. Consensus-relevant: an output's key
 * commits to these bytes. Shared by the node and the wallet (whose sandbox
 * cannot import the node's modules).
 *
 * @example
 * ```ts
 * import { multiALeaf, pkLeaf, sortedMultiA } from "./tapscript.ts";
 * const [a, b] = [new Uint8Array(32).fill(2), new Uint8Array(32).fill(1)];
 * if (pkLeaf(a).length !== 34 || pkLeaf(a)[33] !== 0xac) throw new Error("pk()");
 * const script = multiALeaf(2, sortedMultiA([a, b], (key) => key));
 * // 1 1 … CHECKSIG, 2 2 … CHECKSIGADD, OP_2, NUMEQUAL
 * const tail = [script[1], script[33], script[35], script[67], script[68], script[69]];
 * if (tail.join() !== [1, 0xac, 2, 0xba, 0x52, 0x9c].join()) {
 *   throw new Error("multi_a()");
 * }
 * ```
 * @module
 */
import { ripemd160 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { type CustomScript, Script } from "@scure/btc-signer";
import { compareBytes } from "./bytes.ts";

/** A key's x-only form: a compressed key without its parity byte, an x-only key itself. */
export const xonlyKey = (key: Uint8Array): Uint8Array =>
  key.length === 32 ? key : key.subarray(1, 33);

/** `CScript() << n` for a positive threshold: `OP_n` for 1 to 16, else a minimal number push. */
function pushNumber(n: number): number[] {
  if (n >= 1 && n <= 16) return [0x50 + n];
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.push(rest % 256);
  // The top bit is the sign: a positive number with it set takes another byte.
  if (bytes[bytes.length - 1] & 0x80) bytes.push(0);
  return [bytes.length, ...bytes];
}

/** A tapscript `pk()` leaf of `key` (x-only or compressed): `<x> CHECKSIG`. */
export function pkLeaf(key: Uint8Array): Uint8Array {
  const script = new Uint8Array(34);
  script[0] = 0x20;
  script.set(xonlyKey(key), 1);
  script[33] = 0xac;
  return script;
}

/** A tapscript `pkh()` leaf (miniscript's `pkh`) of `key`: `DUP HASH160 <hash160(x)> EQUALVERIFY CHECKSIG`. */
export function pkhLeaf(key: Uint8Array): Uint8Array {
  const script = Uint8Array.of(0x76, 0xa9, 0x14, ...new Uint8Array(20), 0x88, 0xac);
  script.set(hash160(xonlyKey(key)), 3);
  return script;
}

/** A `multi_a()` leaf of `keys` (x-only or compressed), in their order: `<x1> CHECKSIG <x2> CHECKSIGADD … <k> NUMEQUAL`. */
export function multiALeaf(threshold: number, keys: readonly Uint8Array[]): Uint8Array {
  const tail = [...pushNumber(threshold), 0x9c]; // OP_NUMEQUAL
  const script = new Uint8Array(keys.length * 34 + tail.length);
  keys.forEach((key, i) => {
    script[i * 34] = 0x20;
    script.set(xonlyKey(key), i * 34 + 1);
    script[i * 34 + 33] = i === 0 ? 0xac : 0xba; // CHECKSIG, then CHECKSIGADD
  });
  script.set(tail, keys.length * 34);
  return script;
}

/** BIP 387's `sortedmulti_a()` order: the keys by their x-only bytes (`xonly` gives them). */
export function sortedMultiA<Key>(keys: readonly Key[], xonly: (key: Key) => Uint8Array): Key[] {
  return [...keys].sort((a, b) => compareBytes(xonlyKey(xonly(a)), xonlyKey(xonly(b))));
}

const hash160 = (bytes: Uint8Array) => ripemd160(sha256(bytes));

/** The key hash of a tapscript `pkh()` leaf ({@linkcode pkhLeaf}), else undefined. */
export function tapPkhHash(script: Uint8Array): Uint8Array | undefined {
  const matches = script.length === 25 && script[0] === 0x76 && script[1] === 0xa9 &&
    script[2] === 0x14 && script[23] === 0x88 && script[24] === 0xac;
  return matches ? script.subarray(3, 23) : undefined;
}

/**
 * A tapscript `pkh()` leaf for @scure/btc-signer's finalizer, which knows
 * only leaves that name their keys: satisfied, as miniscript's `pkh`, by
 * the signature of the x-only key hashing to the leaf's hash, then that key
 * (the library adds the control block after the script returned) — when
 * `knows` the key: Core's satisfier finds a key by its hash only among the
 * input's taproot key origins and the signing provider's keys.
 */
export function tapPkhFinalizer(knows: (pubKey: Uint8Array) => boolean): CustomScript {
  return {
    encode(script) {
      // The library hands over a script it decoded.
      const hash = tapPkhHash(Script.encode(script!));
      return hash && { type: "tr_pkh", hash };
    },
    decode: (out) =>
      out?.type === "tr_pkh" ? ["DUP", "HASH160", out.hash, "EQUALVERIFY", "CHECKSIG"] : undefined,
    finalizeTaproot(script, parsed, signatures) {
      const found = signatures.find(([{ pubKey }]) =>
        equalBytes(hash160(pubKey), parsed.hash) && knows(pubKey)
      );
      return found && [found[1], found[0].pubKey, script];
    },
  };
}

const equalBytes = (a: Uint8Array, b: Uint8Array) => compareBytes(a, b) === 0;
