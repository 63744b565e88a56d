/**
 * Output script descriptors (BIP 380–386) as Bitcoin Core v30 reads and
 * writes the forms a regtest node and a simple wallet need: the checksum;
 * `addr()`, `raw()`, `pk()`, `pkh()`, `wpkh()`, `multi()` and
 * `sortedmulti()` (BIP 383), `sh()` and `wsh()` of them, `tr(KEY)`,
 * `rawtr()` and `combo()`; `tr(KEY,TREE)` with a script tree (BIP 386) whose
 * leaves are `pk()`, `pkh()`, `multi_a()` or `sortedmulti_a()` (BIP 387),
 * built as Core's `TaprootBuilder` builds it; keys as hex, regtest WIF, or BIP 32
 * extended keys (`tpub`/`tprv`) with key origins (`[fingerprint/path]`),
 * derivation paths, ranges (`/*`, `/*h`) and multipath elements (`<0;1>`,
 * BIP 389: one descriptor per value); the canonical public string
 * (`getdescriptorinfo`), expansion at an index into scripts plus what
 * Core's signing provider learns (key origins, redeem scripts, taproot
 * internal keys, private keys), and inferring the descriptor Core prints
 * for any output script (`desc` in decoded transactions and scans).
 * Other miniscript (in `wsh()` or as a tree leaf) is refused with a clear
 * message.
 *
 * @example
 * ```ts
 * import { descriptorChecksum, inferDescriptor, parseDescriptor } from "./descriptor.ts";
 * if (descriptorChecksum("raw(deadbeef)") !== "89f8spxm") throw new Error("BIP 380 vector");
 * const desc = parseDescriptor("raw(deadbeef)#89f8spxm", { requireChecksum: true });
 * const [script] = desc.expand(0).scripts;
 * if (inferDescriptor(script) !== "raw(deadbeef)#89f8spxm") throw new Error("round trip");
 * ```
 * @module
 */
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { ripemd160 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import type { HDKey } from "@scure/bip32";
import { p2tr } from "@scure/btc-signer";
import { decodeDestination } from "./address.ts";
import {
  decodeExtendedKey,
  decodeSecret,
  encodeSecret,
  HARDENED,
  hash160,
  keyFingerprint,
  secretPublicKey,
} from "./keys.ts";
import { scriptToAddress } from "./params.ts";
import {
  encodeScriptNum,
  MAX_PUBKEYS_PER_MULTISIG,
  MAX_SCRIPT_ELEMENT_SIZE,
  multisigScript,
  parseScript,
  pushScript,
} from "./script.ts";
import { isValidPubKeySize, solver } from "./solver.ts";
import {
  multiALeaf,
  pkhLeaf,
  pkLeaf,
  sortedMultiA,
  tapPkhHash,
  xonlyKey as xonlyOf,
} from "../../bitcoin/tapscript.ts";
import { descriptorChecksum, withChecksum } from "../../bitcoin/descriptor_checksum.ts";
import {
  buildTaprootTree,
  inferTaprootTree,
  TAPROOT_CONTROL_MAX_NODE_COUNT,
  type TaprootTree,
  treeText,
} from "../../bitcoin/taptree.ts";

export { descriptorChecksum, withChecksum };

/** A descriptor that does not parse or expand: the message is Core's where Core has one. */
export class DescriptorError extends Error {
  override name = "DescriptorError";
}

/** Where a key came from: the fingerprint of the key its path starts at, and the path. */
export interface KeyOrigin {
  readonly fingerprint: Uint8Array;
  /** Child indexes, hardened ones with {@linkcode HARDENED} added. */
  readonly path: readonly number[];
}

/**
 * Scripts and keys a descriptor inference may resolve (Core's signing
 * provider); every part is optional.
 */
export interface ScriptProvider {
  /** The witness script hashing (SHA-256) to `hash`, if known. */
  witnessScript?(hash: Uint8Array): Uint8Array | undefined;
  /** The script hashing (hash160) to `hash` (a P2SH redeem script), if known. */
  script?(hash: Uint8Array): Uint8Array | undefined;
  /** The public key hashing (hash160) to `hash`, if known. */
  publicKey?(hash: Uint8Array): Uint8Array | undefined;
  /** Where a public key (33 or 65 bytes, or 32 x-only) came from, if known. */
  keyOrigin?(key: Uint8Array): KeyOrigin | undefined;
  /** The internal key of a taproot output key (key-path only), if known. */
  taprootInternalKey?(outputKey: Uint8Array): Uint8Array | undefined;
  /** The script tree (internal key, merkle root, leaves) behind a taproot output key, if known. */
  taprootTree?(outputKey: Uint8Array): TaprootTree | undefined;
}

/**
 * What expanding a descriptor learned besides its scripts (Core's
 * `FlatSigningProvider`): public keys, their origins, redeem scripts,
 * taproot internal keys, taproot script trees and private keys. Serves
 * {@linkcode inferDescriptor} and signing.
 */
export class SigningProvider implements ScriptProvider {
  readonly #pubkeys = new Map<string, Uint8Array>();
  readonly #origins = new Map<string, KeyOrigin>();
  readonly #scripts = new Map<string, Uint8Array>();
  readonly #taproot = new Map<string, Uint8Array>();
  readonly #trees = new Map<string, TaprootTree>();
  readonly #secrets = new Map<string, Uint8Array>();

  /** Records a public key (and where it came from). */
  addKey(pubkey: Uint8Array, origin?: KeyOrigin): void {
    const id = hex.encode(hash160(pubkey));
    this.#pubkeys.set(id, pubkey);
    if (origin) this.#origins.set(id, origin);
  }

  /**
   * Records a public key under the hash160 of its x-only form, as a
   * tapscript `pkh()` leaf commits to it (Core's miniscript expansion).
   */
  addXOnlyKeyHash(pubkey: Uint8Array): void {
    this.#pubkeys.set(hex.encode(hash160(xonlyOf(pubkey))), pubkey);
  }

  /** Records a private key for the public key hashing to `keyId`'s key. */
  addSecret(pubkey: Uint8Array, secret: Uint8Array): void {
    this.#secrets.set(hex.encode(hash160(pubkey)), secret);
  }

  /** Records a script a P2SH output commits to. */
  addScript(script: Uint8Array): void {
    this.#scripts.set(hex.encode(hash160(script)), script);
  }

  /** Records the internal key of a key-path-only taproot output. */
  addTaproot(outputKey: Uint8Array, internalKey: Uint8Array): void {
    this.#taproot.set(hex.encode(outputKey), internalKey);
  }

  /** Records the script tree of a taproot output (Core's `tr_trees`). */
  addTaprootTree(tree: TaprootTree): void {
    this.#trees.set(hex.encode(tree.outputKey), tree);
  }

  /**
   * A copy hiding what `hide` asks (Core's `HidingSigningProvider`): with
   * `secrets`, no private keys (what updating a PSBT learns must not depend
   * on whether it could sign); with `origins`, no key origins.
   */
  hiding(hide: { secrets?: boolean; origins?: boolean }): SigningProvider {
    const copy = new SigningProvider();
    copy.merge(this);
    if (hide.secrets) copy.#secrets.clear();
    if (hide.origins) copy.#origins.clear();
    return copy;
  }

  /** Adds everything `other` knows. */
  merge(other: SigningProvider): void {
    for (const [k, v] of other.#pubkeys) this.#pubkeys.set(k, v);
    for (const [k, v] of other.#origins) this.#origins.set(k, v);
    for (const [k, v] of other.#scripts) this.#scripts.set(k, v);
    for (const [k, v] of other.#taproot) this.#taproot.set(k, v);
    for (const [k, v] of other.#trees) this.#trees.set(k, v);
    for (const [k, v] of other.#secrets) this.#secrets.set(k, v);
  }

  script(hash: Uint8Array): Uint8Array | undefined {
    return this.#scripts.get(hex.encode(hash));
  }

  /** The witness script of a P2WSH program (kept by its hash160, as Core's `CScriptID`). */
  witnessScript(hash: Uint8Array): Uint8Array | undefined {
    return this.script(ripemd160(hash));
  }

  publicKey(hash: Uint8Array): Uint8Array | undefined {
    return this.#pubkeys.get(hex.encode(hash));
  }

  keyOrigin(key: Uint8Array): KeyOrigin | undefined {
    return this.#byKey(this.#origins, key);
  }

  taprootInternalKey(outputKey: Uint8Array): Uint8Array | undefined {
    return this.#taproot.get(hex.encode(outputKey));
  }

  taprootTree(outputKey: Uint8Array): TaprootTree | undefined {
    return this.#trees.get(hex.encode(outputKey));
  }

  /** The private key of a public key (33/65 bytes, or 32 x-only), if known. */
  secret(key: Uint8Array): Uint8Array | undefined {
    return this.#byKey(this.#secrets, key);
  }

  /** Looks a key up by its id; an x-only key under either full key (`GetKeyIDs`). */
  #byKey<T>(map: Map<string, T>, key: Uint8Array): T | undefined {
    if (key.length !== 32) return map.get(hex.encode(hash160(key)));
    for (const prefix of [0x02, 0x03]) {
      const found = map.get(hex.encode(hash160(Uint8Array.of(prefix, ...key))));
      if (found !== undefined) return found;
    }
    return undefined;
  }
}

/** Core's `ParseScriptContext`: where a key or script sits. */
type Context = "top" | "p2sh" | "p2wpkh" | "p2wsh" | "p2tr";

/** Where a script expression may sit (`p2tr`: a leaf of a `tr()` script tree). */
type ScriptContext = "top" | "p2sh" | "p2wsh" | "p2tr";

/** How the last step of an extended key derives (Core's `DeriveType`). */
type Derive = "no" | "unhardened" | "hardened";

/** A key expression's key: a fixed public key or an extended key with a path. */
type KeySource =
  | { readonly kind: "const"; readonly pubkey: Uint8Array; readonly xonly: boolean }
  | {
    readonly kind: "bip32";
    readonly root: HDKey;
    readonly path: readonly number[];
    readonly derive: Derive;
  };

/** A parsed key expression (Core's `PubkeyProvider`). */
interface KeyExpression {
  readonly source: KeySource;
  readonly origin?: KeyOrigin;
  /** Whether `'` (rather than `h`) marks hardened steps when written. */
  readonly apostrophe: boolean;
  /** The private key a WIF key gave (extended private keys are held by `root`). */
  readonly secret?: Uint8Array;
}

/** A parsed descriptor expression. */
type Expression =
  | { readonly fn: "addr" | "raw"; readonly script: Uint8Array }
  | {
    readonly fn: "pk" | "pkh" | "wpkh" | "combo" | "rawtr";
    readonly key: KeyExpression;
    /** A `pk()` or `pkh()` leaf of a script tree: its key written x-only in the script. */
    readonly tapscript?: boolean;
  }
  | {
    readonly fn: "tr";
    readonly key: KeyExpression;
    /** The script tree's leaves, depth-first, with their depths (none for key path only). */
    readonly tree?: { readonly leaves: readonly Expression[]; readonly depths: readonly number[] };
  }
  | {
    readonly fn: "multi" | "sortedmulti" | "multi_a" | "sortedmulti_a";
    readonly threshold: number;
    readonly keys: readonly KeyExpression[];
  }
  | { readonly fn: "sh" | "wsh"; readonly inner: Expression };

/** The address types a wallet derives from a key: `pkh()`, `sh(wpkh())`, `wpkh()`, `tr()`. */
export type AddressType = "pkh" | "sh(wpkh)" | "wpkh" | "tr";

/** Where a wallet's multisig script sits: `wsh()`, `sh(wsh())` or `sh()`. */
export type MultisigType = "wsh" | "sh(wsh)" | "sh";

/** A derived key: the public key, where it came from, and its private key when known. */
interface DerivedKey {
  readonly pubkey: Uint8Array;
  readonly origin: KeyOrigin;
  readonly secret?: Uint8Array;
}

/** Core's `FormatHDKeypath`: `/0h/1` (`/0'/1` with `apostrophe`). */
export function formatPath(path: readonly number[], apostrophe: boolean): string {
  return path.map((i) => i >= HARDENED ? `/${i - HARDENED}${apostrophe ? "'" : "h"}` : `/${i}`)
    .join("");
}

/**
 * How a descriptor is written back: with public keys (Core's `ToString`),
 * with its private keys where given (`ToPrivateString`), or public with an
 * extended private key's hardened steps taken (`ToNormalizedString`: the
 * extended public key after the last of them, its origin saying where).
 */
type Form = "public" | "private" | "normalized";

/** An extended key's path split after its last hardened step, and the key there. */
interface HardenedSplit {
  /** The key after the hardened steps (derived with the private key when there are some). */
  readonly key: HDKey;
  readonly hardened: readonly number[];
  readonly rest: readonly number[];
}

/** `root`'s `path` split after its last hardened step; undefined when no private key derives it. */
function splitHardened(root: HDKey, path: readonly number[]): HardenedSplit | undefined {
  const at = path.findLastIndex((step) => step >= HARDENED) + 1;
  if (at > 0 && !root.privateKey) return undefined;
  let key = root;
  for (const step of path.slice(0, at)) key = key.deriveChild(step);
  return { key, hardened: path.slice(0, at), rest: path.slice(at) };
}

/** A key expression as written back in `form`. */
function keyString(key: KeyExpression, form: Form): string {
  const { source, apostrophe } = key;
  const split = source.kind === "bip32" && source.derive !== "hardened" && form === "normalized"
    ? splitHardened(source.root, source.path)
    : undefined;
  if (source.kind === "bip32" && split !== undefined && split.hardened.length > 0) {
    const origin = {
      fingerprint: key.origin?.fingerprint ?? keyFingerprint(source.root.publicKey!),
      path: [...(key.origin?.path ?? []), ...split.hardened],
    };
    return keyString(
      { ...key, origin, source: { ...source, root: split.key, path: split.rest } },
      "public",
    );
  }
  const withPrivate = form === "private";
  let inner: string;
  if (source.kind === "const") {
    inner = withPrivate && key.secret
      ? encodeSecret({ key: key.secret, compressed: source.pubkey.length === 33 })
      : hex.encode(source.xonly ? source.pubkey.subarray(1) : source.pubkey);
  } else {
    const root = withPrivate && source.root.privateKey
      ? source.root.privateExtendedKey
      : source.root.publicExtendedKey;
    inner = root + formatPath(source.path, apostrophe);
    if (source.derive !== "no") {
      inner += "/*" + (source.derive === "hardened" ? (apostrophe ? "'" : "h") : "");
    }
  }
  if (!key.origin) return inner;
  return `[${hex.encode(key.origin.fingerprint)}${
    formatPath(key.origin.path, apostrophe)
  }]${inner}`;
}

function expressionString(expr: Expression, form: Form): string {
  switch (expr.fn) {
    case "addr":
      return `addr(${scriptToAddress(expr.script)})`;
    case "raw":
      return `raw(${hex.encode(expr.script)})`;
    case "sh":
    case "wsh":
      return `${expr.fn}(${expressionString(expr.inner, form)})`;
    case "multi":
    case "sortedmulti":
    case "multi_a":
    case "sortedmulti_a":
      return `${expr.fn}(${expr.threshold},${
        expr.keys.map((key) => keyString(key, form)).join(",")
      })`;
    case "tr":
      if (expr.tree) return `tr(${keyString(expr.key, form)},${treeString(expr.tree, form)})`;
      return `tr(${keyString(expr.key, form)})`;
    default:
      return `${expr.fn}(${keyString(expr.key, form)})`;
  }
}

/** A script tree written back: its leaves in `form`, with their braces. */
function treeString(
  tree: { readonly leaves: readonly Expression[]; readonly depths: readonly number[] },
  form: Form,
): string {
  return treeText(tree.leaves.map((leaf) => expressionString(leaf, form)), tree.depths);
}

/** Every key expression of an expression, leaves of a script tree included. */
function allKeys(expr: Expression): KeyExpression[] {
  switch (expr.fn) {
    case "addr":
    case "raw":
      return [];
    case "sh":
    case "wsh":
      return allKeys(expr.inner);
    case "multi":
    case "sortedmulti":
    case "multi_a":
    case "sortedmulti_a":
      return [...expr.keys];
    case "tr":
      return [expr.key, ...(expr.tree?.leaves.flatMap(allKeys) ?? [])];
    default:
      return [expr.key];
  }
}

const isRangeKey = (key: KeyExpression) =>
  key.source.kind === "bip32" && key.source.derive !== "no";

/** Each extended key's node at the end of its fixed path (the parent of a range's keys). */
const derivedParents = new WeakMap<KeySource, HDKey>();

/** The key at `index` (`GetPubKey`); throws when only private derivation could make it. */
function deriveKey(key: KeyExpression, index: number): DerivedKey {
  const { source } = key;
  let derived: DerivedKey;
  if (source.kind === "const") {
    derived = {
      pubkey: source.pubkey,
      origin: { fingerprint: keyFingerprint(source.pubkey), path: [] },
      secret: key.secret,
    };
  } else {
    const path = [...source.path];
    if (source.derive === "unhardened") path.push(index);
    if (source.derive === "hardened") path.push(index + HARDENED);
    let node: HDKey;
    try {
      // The key's fixed path is derived once; a range then takes one step per index.
      let parent = derivedParents.get(source);
      if (!parent) {
        parent = source.root;
        for (const step of source.path) parent = parent.deriveChild(step);
        derivedParents.set(source, parent);
      }
      node = source.derive === "no" ? parent : parent.deriveChild(path[path.length - 1]);
    } catch {
      throw new DescriptorError("Cannot derive script without private keys");
    }
    derived = {
      pubkey: node.publicKey!,
      origin: { fingerprint: keyFingerprint(source.root.publicKey!), path },
      secret: node.privateKey ?? undefined,
    };
  }
  if (!key.origin) return derived;
  return {
    ...derived,
    origin: {
      fingerprint: key.origin.fingerprint,
      path: [...key.origin.path, ...derived.origin.path],
    },
  };
}

const p2pkScript = (key: Uint8Array) => Uint8Array.of(...pushScript(key), 0xac);
const p2pkhScript = (key: Uint8Array) =>
  Uint8Array.of(0x76, 0xa9, 0x14, ...hash160(key), 0x88, 0xac);
const p2wpkhScript = (key: Uint8Array) => Uint8Array.of(0x00, 0x14, ...hash160(key));
const p2shScript = (script: Uint8Array) => Uint8Array.of(0xa9, 0x14, ...hash160(script), 0x87);
const p2wshScript = (script: Uint8Array) => Uint8Array.of(0x00, 0x20, ...sha256(script));
/** The key at `index`, recorded in `out` with its origin and private key. */
function learnKey(expr: KeyExpression, index: number, out: SigningProvider): DerivedKey {
  const key = deriveKey(expr, index);
  out.addKey(key.pubkey, key.origin);
  if (key.secret) out.addSecret(key.pubkey, key.secret);
  return key;
}

/** `ExpandHelper`: an expression's scripts at `index`, recording what it learns in `out`. */
function expandExpression(expr: Expression, index: number, out: SigningProvider): Uint8Array[] {
  switch (expr.fn) {
    case "addr":
    case "raw":
      return [expr.script];
    case "sh":
    case "wsh": {
      const inner = expandExpression(expr.inner, index, out);
      for (const script of inner) out.addScript(script);
      return inner.map(expr.fn === "sh" ? p2shScript : p2wshScript);
    }
    case "multi":
    case "sortedmulti": {
      const pubkeys = expr.keys.map((key) => learnKey(key, index, out).pubkey);
      // BIP 67: the keys in byte order, after derivation.
      if (expr.fn === "sortedmulti") pubkeys.sort((a, b) => hex.encode(a) < hex.encode(b) ? -1 : 1);
      return [multisigScript(expr.threshold, pubkeys)];
    }
    case "multi_a":
    case "sortedmulti_a": {
      const keys = expr.keys.map((key) => xonlyOf(learnKey(key, index, out).pubkey));
      // BIP 387: sortedmulti_a sorts the x-only keys, after derivation.
      return [
        multiALeaf(
          expr.threshold,
          expr.fn === "sortedmulti_a" ? sortedMultiA(keys, (k) => k) : keys,
        ),
      ];
    }
    case "tr":
      return [expandTaproot(expr, index, out)];
  }
  const key = learnKey(expr.key, index, out);
  switch (expr.fn) {
    case "pk":
      if (expr.tapscript) return [pkLeaf(key.pubkey)];
      return [p2pkScript(key.pubkey)];
    case "pkh":
      if (expr.tapscript) {
        out.addXOnlyKeyHash(key.pubkey);
        return [pkhLeaf(key.pubkey)];
      }
      return [p2pkhScript(key.pubkey)];
    case "wpkh":
      return [p2wpkhScript(key.pubkey)];
    case "combo": {
      const scripts = [p2pkScript(key.pubkey), p2pkhScript(key.pubkey)];
      if (key.pubkey.length === 33) {
        const wpkh = p2wpkhScript(key.pubkey);
        out.addScript(wpkh);
        scripts.push(wpkh, p2shScript(wpkh));
      }
      return scripts;
    }
    case "rawtr":
      return [Uint8Array.of(0x51, 0x20, ...xonlyOf(key.pubkey))];
  }
}

/**
 * A `tr()` output at `index`: the internal key, then each leaf's script,
 * built into the tree (`TRDescriptor::MakeScripts`). A key-path-only one
 * records its internal key; one with a tree records the tree.
 */
function expandTaproot(
  expr: Extract<Expression, { fn: "tr" }>,
  index: number,
  out: SigningProvider,
): Uint8Array {
  const internal = xonlyOf(learnKey(expr.key, index, out).pubkey);
  if (!expr.tree) {
    const output = p2tr(internal).script;
    out.addTaproot(output.subarray(2), internal);
    return output;
  }
  const { leaves, depths } = expr.tree;
  const scripts = leaves.map((leaf) => expandExpression(leaf, index, out)[0]);
  const tree = buildTaprootTree(
    internal,
    scripts.map((script, i) => ({ depth: depths[i], script })),
  );
  out.addTaprootTree(tree);
  return Uint8Array.of(0x51, 0x20, ...tree.outputKey);
}

/** The expression inside any `sh()` and `wsh()`. */
function innermost(expr: Expression): Expression {
  while (expr.fn === "sh" || expr.fn === "wsh") expr = expr.inner;
  return expr;
}

/**
 * Where a wallet derives a key of its addresses from: for a ranged key (an
 * extended key ending in unhardened steps and `/*`), the extended public
 * key, the steps from it to the key whose child `i` is address `i`'s key,
 * and that key's origin (the fingerprint its path starts at, and the path:
 * the key origin's followed by the steps); for a fixed one, the key (33
 * bytes) and its origin.
 *
 * A ranged one written with an extended private key may have hardened
 * steps: the extended public key is then the one after the last of them,
 * and `root` is the key as written (`tprv…`) with its origin. A fixed one
 * written as a private key has it as `secret`.
 */
export type AddressKeySource =
  | {
    xpub: string;
    steps: readonly number[];
    origin: KeyOrigin;
    root?: { xprv: string; xpub: string; origin: KeyOrigin };
  }
  | { pubkey: Uint8Array; origin: KeyOrigin; secret?: Uint8Array };

/** A key expression's {@linkcode AddressKeySource}; undefined for an uncompressed key or one it cannot derive. */
function keySourceOf(key: KeyExpression): AddressKeySource | undefined {
  const { source, origin } = key;
  if (source.kind === "bip32" && source.derive !== "no") {
    const { root, path } = source;
    const split = splitHardened(root, path);
    if (source.derive === "hardened" || split === undefined) return undefined;
    const rootOrigin = {
      fingerprint: origin?.fingerprint ?? keyFingerprint(root.publicKey!),
      path: origin?.path ?? [],
    };
    return {
      xpub: split.key.publicExtendedKey,
      steps: split.rest,
      origin: { fingerprint: rootOrigin.fingerprint, path: [...rootOrigin.path, ...path] },
      ...(root.privateKey
        ? {
          root: { xprv: root.privateExtendedKey, xpub: root.publicExtendedKey, origin: rootOrigin },
        }
        : {}),
    };
  }
  let derived: DerivedKey;
  try {
    derived = deriveKey(key, 0);
  } catch {
    return undefined;
  }
  // An x-only key stands for its even-Y point; an uncompressed one is no address type's.
  const pubkey = derived.pubkey.length === 32
    ? Uint8Array.of(0x02, ...derived.pubkey)
    : derived.pubkey;
  if (pubkey.length !== 33) return undefined;
  return { pubkey, origin: derived.origin, ...(derived.secret ? { secret: derived.secret } : {}) };
}

/** A leaf of a script tree as a wallet derives it: see {@linkcode Descriptor.taprootTreeSource}. */
export interface TaprootLeafSource {
  depth: number;
  leaf: "pk" | "pkh" | "multi_a" | "sortedmulti_a";
  /** A `multi_a()`'s threshold; 1 for a `pk()` or `pkh()` leaf. */
  threshold: number;
  keys: AddressKeySource[];
}

/** A `tr(KEY,TREE)` descriptor as a wallet derives it: see {@linkcode Descriptor.taprootTreeSource}. */
export interface TaprootTreeSource {
  internal: AddressKeySource;
  leaves: TaprootLeafSource[];
}

/** `leaf` (at `depth`) as a wallet derives it; undefined for another leaf or a key not derivable. */
function treeLeafSource(leaf: Expression, depth: number): TaprootLeafSource | undefined {
  const described = leaf.fn === "pk" || leaf.fn === "pkh"
    ? { leaf: leaf.fn, threshold: 1, keys: [leaf.key] }
    : leaf.fn === "multi_a" || leaf.fn === "sortedmulti_a"
    ? { leaf: leaf.fn, threshold: leaf.threshold, keys: leaf.keys }
    : undefined;
  if (described === undefined) return undefined;
  const keys = described.keys.map(keySourceOf);
  if (keys.some((key) => key === undefined)) return undefined;
  return {
    depth,
    leaf: described.leaf,
    threshold: described.threshold,
    keys: keys as AddressKeySource[],
  };
}

/** A parsed descriptor (Core's `Descriptor`). */
export class Descriptor {
  /** The text parsed, without its checksum. */
  readonly descriptor: string;
  /** Whether the text held a private key (WIF or `tprv`). */
  readonly hasPrivateKeys: boolean;
  readonly #expr: Expression;

  /** @internal Made by {@linkcode parseDescriptor}. */
  constructor(descriptor: string, expr: Expression, hasPrivateKeys: boolean) {
    this.descriptor = descriptor;
    this.#expr = expr;
    this.hasPrivateKeys = hasPrivateKeys;
  }

  /** Whether it stands for a range of scripts (an extended key ending in `/*`). */
  get isRange(): boolean {
    return allKeys(this.#expr).some(isRangeKey);
  }

  /**
   * How many key expressions it holds (a multisig's keys, a script tree's
   * internal and leaf keys; none for `addr()`, `raw()`).
   */
  get keyCount(): number {
    return allKeys(this.#expr).length;
  }

  /** Whether it is `tr()` with a script tree (its outputs are not single-key ones). */
  get hasScriptTree(): boolean {
    return this.#expr.fn === "tr" && this.#expr.tree !== undefined;
  }

  /** Whether its scripts can be spent knowing only its keys (false for `addr()`, `raw()`). */
  get isSolvable(): boolean {
    const expr = innermost(this.#expr);
    return expr.fn !== "addr" && expr.fn !== "raw";
  }

  /** Whether it stands for one output type (false for `combo()`: Core's `IsSingleType`). */
  get isSingleType(): boolean {
    return this.#expr.fn !== "combo";
  }

  /**
   * What a wallet deriving addresses from it needs, else undefined. For a
   * single-key descriptor of an address type — `pkh()`, `sh(wpkh())`,
   * `wpkh()` or `tr()` of one compressed (or x-only) key and no script
   * tree — the type and
   * the key's {@linkcode AddressKeySource}. For a multisig — `multi()` or
   * `sortedmulti()` of compressed keys in `wsh()`, `sh(wsh())` or `sh()`
   * — the wrapping, the threshold, whether the keys are sorted (BIP 67)
   * and each key's source, in the order written.
   */
  get addressSource():
    | (AddressKeySource & { type: AddressType })
    | {
      type: MultisigType;
      threshold: number;
      sorted: boolean;
      keys: AddressKeySource[];
    }
    | undefined {
    const expr = this.#expr;
    const inner = expr.fn === "sh" ? expr.inner : expr;
    const multisig = inner.fn === "wsh" ? inner.inner : inner;
    if (multisig.fn === "multi" || multisig.fn === "sortedmulti") {
      if (expr.fn !== "sh" && expr.fn !== "wsh") return undefined;
      const type = expr.fn === "wsh" ? "wsh" : inner.fn === "wsh" ? "sh(wsh)" : "sh";
      const keys = multisig.keys.map(keySourceOf);
      if (keys.some((key) => key === undefined)) return undefined;
      return {
        type,
        threshold: multisig.threshold,
        sorted: multisig.fn === "sortedmulti",
        keys: keys as AddressKeySource[],
      };
    }
    const type = expr.fn === "sh"
      ? (inner.fn === "wpkh" ? "sh(wpkh)" : undefined)
      : expr.fn === "pkh" || expr.fn === "wpkh" || (expr.fn === "tr" && !expr.tree)
      ? expr.fn
      : undefined;
    if (type === undefined || !("key" in inner)) return undefined;
    const source = keySourceOf(inner.key);
    return source && { type, ...source };
  }

  /**
   * What a wallet deriving a `tr(KEY,TREE)` descriptor's outputs needs,
   * else undefined: the internal key's {@linkcode AddressKeySource} and
   * the tree's leaves depth-first, each with its depth, its kind (`pk()`,
   * `pkh()`, `multi_a()` or `sortedmulti_a()`, the leaves a wallet here
   * describes) and its keys' sources as written. Undefined for another
   * leaf or a key it cannot derive.
   */
  get taprootTreeSource(): TaprootTreeSource | undefined {
    const expr = this.#expr;
    if (expr.fn !== "tr" || expr.tree === undefined) return undefined;
    const internal = keySourceOf(expr.key);
    const leaves = expr.tree.leaves.map((leaf, i) => treeLeafSource(leaf, expr.tree!.depths[i]));
    if (internal === undefined || leaves.some((leaf) => leaf === undefined)) return undefined;
    return { internal, leaves: leaves as TaprootLeafSource[] };
  }

  /** The canonical public form with its checksum (Core's `ToString`): private keys as public ones. */
  toString(): string {
    return withChecksum(expressionString(this.#expr, "public"));
  }

  /**
   * The public form a wallet shows of it (Core's `ToNormalizedString`):
   * an extended private key's hardened steps taken, the extended public
   * key after the last of them written with its origin.
   */
  toNormalizedString(): string {
    return withChecksum(expressionString(this.#expr, "normalized"));
  }

  /** The form with its private keys, where it was given them, and its checksum (Core's `ToPrivateString`). */
  toPrivateString(): string {
    return withChecksum(expressionString(this.#expr, "private"));
  }

  /**
   * The scripts at `index` (ignored when not ranged), in Core's `Expand`
   * order, and what the expansion learned. Throws
   * {@linkcode DescriptorError} `Cannot derive script without private keys`
   * for hardened steps below an extended public key.
   */
  expand(index: number): { scripts: Uint8Array[]; provider: SigningProvider } {
    const provider = new SigningProvider();
    return { scripts: expandExpression(this.#expr, index, provider), provider };
  }
}

/** Core's `CheckChecksum`: the descriptor part, after the checksum (if any) was verified. */
function checkChecksum(text: string, requireChecksum: boolean): string {
  const parts = text.split("#");
  if (parts.length > 2) throw new DescriptorError("Multiple '#' symbols");
  const [payload, checksum] = parts;
  if (checksum === undefined && requireChecksum) throw new DescriptorError("Missing checksum");
  if (checksum !== undefined && checksum.length !== 8) {
    throw new DescriptorError(`Expected 8 character checksum, not ${checksum.length} characters`);
  }
  const computed = descriptorChecksum(payload);
  if (computed === "") throw new DescriptorError("Invalid characters in payload");
  if (checksum !== undefined && computed !== checksum) {
    throw new DescriptorError(
      `Provided checksum '${checksum}' does not match computed checksum '${computed}'`,
    );
  }
  return payload;
}

/**
 * Parses descriptor text, collecting whether any private key was seen. A
 * multipath element of a key's path (`<0;1>`, BIP 389) stands for its
 * value at `branch`; the values are kept in {@linkcode Parser.multipath}.
 */
class Parser {
  hasPrivateKeys = false;
  /** The values of the multipath element met, if one was. */
  multipath: number[] | null = null;
  /**
   * How many values each multipath element met had (one length, or a
   * multisig's mismatch); a `tr()` tree counts its internal key and each
   * leaf apart.
   */
  multipathLengths = new Set<number>();

  constructor(readonly branch = 0) {}

  /** Core's `ParseKeyPathNum`; `apostrophe` is updated by hardened steps. */
  #pathElement(text: string, marker: { apostrophe: boolean }): number {
    if (text.startsWith("<") && text.endsWith(">")) {
      throw new DescriptorError(
        `Key path value '${text}' specifies multipath in a section where multipath is not allowed`,
      );
    }
    let digits = text;
    let hardened = false;
    const last = text.at(-1);
    if (last === "'" || last === "h") {
      digits = text.slice(0, -1);
      hardened = true;
      marker.apostrophe = last === "'";
    }
    if (!/^\+?[0-9]+$/.test(digits) || BigInt(digits) > 0xffffffffn) {
      throw new DescriptorError(`Key path value '${digits}' is not a valid uint32`);
    }
    const value = Number(digits);
    if (value > 0x7fffffff) throw new DescriptorError(`Key path value ${value} is out of range`);
    return hardened ? value + HARDENED : value;
  }

  /**
   * Core's `ParseKeyPath` for the steps after a key, where one multipath
   * element may stand: its values checked as Core checks them, and the one
   * at this parse's branch taken.
   */
  #keyPath(steps: readonly string[], marker: { apostrophe: boolean }): number[] {
    const isMultipath = (step: string) => step.startsWith("<") && step.endsWith(">");
    if (steps.filter(isMultipath).length > 1) {
      throw new DescriptorError("Multiple multipath key path specifiers found");
    }
    return steps.map((step) => {
      if (!isMultipath(step)) return this.#pathElement(step, marker);
      const items = step.slice(1, -1).split(";");
      if (items.length < 2) {
        throw new DescriptorError("Multipath key path specifiers must have at least two items");
      }
      const values: number[] = [];
      for (const item of items) {
        const value = this.#pathElement(item, marker);
        if (values.includes(value)) {
          throw new DescriptorError(`Duplicated key path value ${value} in multipath specifier`);
        }
        values.push(value);
      }
      this.multipathLengths.add(values.length);
      this.multipath = values;
      return values[this.branch];
    });
  }

  /** Core's `ParsePubkey`: an optional `[fingerprint/path]` origin, then the key. */
  key(text: string, context: Context): KeyExpression {
    const originSplit = text.split("]");
    if (originSplit.length > 2) {
      throw new DescriptorError("Multiple ']' characters found for a single pubkey");
    }
    const marker = { apostrophe: false };
    if (originSplit.length === 1) return this.#innerKey(text, context, marker);
    const [originText, keyText] = originSplit;
    if (!originText.startsWith("[")) {
      throw new DescriptorError(
        `Key origin start '[ character expected but not found, got '${
          originText === "" ? "]" : originText[0]
        }' instead`,
      );
    }
    const [fingerprint, ...steps] = originText.slice(1).split("/");
    if (fingerprint.length !== 8) {
      throw new DescriptorError(
        `Fingerprint is not 4 bytes (${fingerprint.length} characters instead of 8 characters)`,
      );
    }
    if (!/^[0-9a-fA-F]{8}$/.test(fingerprint)) {
      throw new DescriptorError(`Fingerprint '${fingerprint}' is not hex`);
    }
    const origin = {
      fingerprint: hex.decode(fingerprint.toLowerCase()),
      path: steps.map((step) => this.#pathElement(step, marker)),
    };
    const inner = this.#innerKey(keyText, context, marker);
    return { ...inner, origin, apostrophe: marker.apostrophe };
  }

  /** Core's `ParsePubkeyInner`: a hex or WIF key, or an extended key with its path. */
  #innerKey(text: string, context: Context, marker: { apostrophe: boolean }): KeyExpression {
    const permitUncompressed = context === "top" || context === "p2sh";
    const split = text.split("/");
    const keyText = split[0];
    if (keyText === "") throw new DescriptorError("No key provided");
    if (split.length === 1) {
      if (/^([0-9a-fA-F]{2})+$/.test(keyText)) {
        const bytes = hex.decode(keyText.toLowerCase());
        if (bytes.length === 65 && (bytes[0] === 0x06 || bytes[0] === 0x07)) {
          throw new DescriptorError("Hybrid public keys are not allowed");
        }
        if (isValidPubKeySize(bytes) && secp256k1.utils.isValidPublicKey(bytes)) {
          if (!permitUncompressed && bytes.length === 65) {
            throw new DescriptorError("Uncompressed keys are not allowed");
          }
          return {
            source: { kind: "const", pubkey: bytes, xonly: false },
            apostrophe: marker.apostrophe,
          };
        }
        if (bytes.length === 32 && context === "p2tr" && isValidXOnly(bytes)) {
          return {
            source: { kind: "const", pubkey: Uint8Array.of(0x02, ...bytes), xonly: true },
            apostrophe: marker.apostrophe,
          };
        }
        throw new DescriptorError(`Pubkey '${keyText}' is invalid`);
      }
      const secret = decodeSecret(keyText);
      if (secret) {
        if (!permitUncompressed && !secret.compressed) {
          throw new DescriptorError("Uncompressed keys are not allowed");
        }
        this.hasPrivateKeys = true;
        return {
          source: { kind: "const", pubkey: secretPublicKey(secret), xonly: context === "p2tr" },
          apostrophe: marker.apostrophe,
          secret: secret.key,
        };
      }
    }
    const root = decodeExtendedKey(keyText);
    if (!root) throw new DescriptorError(`key '${keyText}' is not valid`);
    let steps = split.slice(1);
    let derive: Derive = "no";
    const last = steps.at(-1);
    if (last === "*") derive = "unhardened";
    if (last === "*'" || last === "*h") {
      derive = "hardened";
      marker.apostrophe = last === "*'";
    }
    if (derive !== "no") steps = steps.slice(0, -1);
    const path = this.#keyPath(steps, marker);
    if (root.privateKey) this.hasPrivateKeys = true;
    return { source: { kind: "bip32", root, path, derive }, apostrophe: marker.apostrophe };
  }

  /**
   * `multi(k,KEY,…)` and `sortedmulti(…)` (BIP 383), with Core's limits: 1
   * to 20 keys, at most 3 bare, a P2SH script within 520 bytes, and a
   * threshold from 1 to the number of keys; `multi_a()` and
   * `sortedmulti_a()` (BIP 387, tapscript leaves) with 1 to 999 x-only keys.
   */
  #multisig(
    fn: "multi" | "sortedmulti" | "multi_a" | "sortedmulti_a",
    args: string,
    context: ScriptContext,
  ): Expression {
    const [thresholdText, ...keyTexts] = splitArguments(args);
    if (!/^[0-9]+$/.test(thresholdText) || Number(thresholdText) > 0xffffffff) {
      throw new DescriptorError(`Multi threshold '${thresholdText}' is not valid`);
    }
    const threshold = Number(thresholdText);
    const keys = keyTexts.map((text) => {
      try {
        return this.key(text, context);
      } catch (error) {
        if (!(error instanceof DescriptorError)) throw error;
        throw new DescriptorError(`Multi: ${error.message}`);
      }
    });
    const tapscript = fn === "multi_a" || fn === "sortedmulti_a";
    if (tapscript && (keys.length === 0 || keys.length > MAX_PUBKEYS_PER_MULTI_A)) {
      throw new DescriptorError(
        `Cannot have ${keys.length} keys in multi_a; must have between 1 and ${MAX_PUBKEYS_PER_MULTI_A} keys, inclusive`,
      );
    }
    if (!tapscript && (keys.length === 0 || keys.length > MAX_PUBKEYS_PER_MULTISIG)) {
      throw new DescriptorError(
        `Cannot have ${keys.length} keys in multisig; must have between 1 and ${MAX_PUBKEYS_PER_MULTISIG} keys, inclusive`,
      );
    }
    if (threshold < 1) {
      throw new DescriptorError(`Multisig threshold cannot be ${threshold}, must be at least 1`);
    }
    if (threshold > keys.length) {
      throw new DescriptorError(
        `Multisig threshold cannot be larger than the number of keys; threshold is ${threshold} but only ${keys.length} keys specified`,
      );
    }
    if (context === "top" && keys.length > 3) {
      throw new DescriptorError(
        `Cannot have ${keys.length} pubkeys in bare multisig; only at most 3 pubkeys`,
      );
    }
    if (tapscript) {
      if (this.multipathLengths.size > 1) {
        throw new DescriptorError("multi(): Multipath derivation paths have mismatched lengths");
      }
      return { fn, threshold, keys };
    }
    const keySize = ({ source }: KeyExpression) =>
      source.kind === "const" ? source.pubkey.length : 33;
    const scriptSize = keys.reduce((size, key) => size + keySize(key) + 1, 0) + 3;
    if (context === "p2sh" && scriptSize > MAX_SCRIPT_ELEMENT_SIZE) {
      throw new DescriptorError(
        `P2SH script is too large, ${scriptSize} bytes is larger than ${MAX_SCRIPT_ELEMENT_SIZE} bytes`,
      );
    }
    if (this.multipathLengths.size > 1) {
      throw new DescriptorError("multi(): Multipath derivation paths have mismatched lengths");
    }
    return { fn, threshold, keys };
  }

  /** Core's `ParseScript` for the functions this node supports. */
  script(text: string, context: ScriptContext): Expression {
    const parsed = call(text);
    const top = context === "top";
    const tapscript = context === "p2tr";
    const keyed = (fn: "pk" | "pkh" | "wpkh" | "combo" | "rawtr", keyContext: Context) => {
      try {
        return { fn, key: this.key(parsed![1], keyContext), ...(tapscript ? { tapscript } : {}) };
      } catch (error) {
        if (!(error instanceof DescriptorError)) throw error;
        throw new DescriptorError(`${fn}(): ${error.message}`);
      }
    };
    switch (parsed?.[0]) {
      case "pk":
        return keyed("pk", context);
      case "pkh":
        // In a tree, pkh() is miniscript's: Core reports its key's errors without a prefix.
        if (tapscript) return { fn: "pkh", key: this.key(parsed[1], "p2tr"), tapscript };
        return keyed("pkh", context);
      case "combo":
        if (!top) throw new DescriptorError("Can only have combo() at top level");
        return keyed("combo", context);
      case "wpkh":
        if (context === "p2wsh" || tapscript) {
          throw new DescriptorError("Can only have wpkh() at top level or inside sh()");
        }
        return keyed("wpkh", "p2wpkh");
      case "sh":
        if (!top) throw new DescriptorError("Can only have sh() at top level");
        return { fn: "sh", inner: this.script(parsed[1], "p2sh") };
      case "wsh":
        if (context === "p2wsh" || tapscript) {
          throw new DescriptorError("Can only have wsh() at top level or inside sh()");
        }
        return { fn: "wsh", inner: this.script(parsed[1], "p2wsh") };
      case "multi":
      case "sortedmulti":
        if (tapscript) {
          throw new DescriptorError(
            "Can only have multi/sortedmulti at top level, in sh(), or in wsh()",
          );
        }
        return this.#multisig(parsed[0], parsed[1], context);
      case "multi_a":
      case "sortedmulti_a":
        if (!tapscript) {
          throw new DescriptorError("Can only have multi_a/sortedmulti_a inside tr()");
        }
        return this.#multisig(parsed[0], parsed[1], context);
      case "addr": {
        if (!top) throw new DescriptorError("Can only have addr() at top level");
        const dest = decodeDestination(parsed[1]);
        if (!dest.ok) throw new DescriptorError("Address is not valid");
        return { fn: "addr", script: dest.script };
      }
      case "raw": {
        if (!top) throw new DescriptorError("Can only have raw() at top level");
        if (!/^([0-9a-fA-F]{2})*$/.test(parsed[1])) {
          throw new DescriptorError("Raw script is not hex");
        }
        return { fn: "raw", script: hex.decode(parsed[1].toLowerCase()) };
      }
      case "tr":
        if (!top) throw new DescriptorError("Can only have tr at top level");
        return this.#taproot(parsed[1]);
      case "rawtr":
        if (!top) throw new DescriptorError("Can only have rawtr at top level");
        if (topLevelComma(parsed[1])) throw new DescriptorError("rawtr(): only one key expected.");
        return keyed("rawtr", "p2tr");
    }
    if (context === "p2sh") throw new DescriptorError("A function is needed within P2SH");
    const fragment = MINISCRIPT_FRAGMENT.test(parsed?.[0] ?? "") ||
      MINISCRIPT_WRAPPED.test(text);
    if (context === "p2wsh" && fragment) {
      throw new DescriptorError("Miniscript expressions are not supported by this node");
    }
    if (tapscript && fragment) {
      throw new DescriptorError(
        "Miniscript expressions other than pk() and pkh() are not supported in tr() leaves by this node",
      );
    }
    if (context === "p2wsh") throw new DescriptorError("A function is needed within P2WSH");
    throw new DescriptorError(`'${text}' is not a valid descriptor function`);
  }

  /**
   * Core's `tr()` parsing: the internal key, then (after a comma) a tree —
   * a leaf script, or `{TREE,TREE}` — read as Core reads it, braces
   * opening left branches, at most 128 levels deep; each leaf and the
   * internal key may have a multipath element of one same length.
   */
  #taproot(args: string): Expression {
    const outer = this.multipathLengths;
    const lengthOf = (lengths: Set<number>) => Math.max(1, ...lengths);
    this.multipathLengths = new Set();
    let pos = exprEnd(args, 0);
    let key: KeyExpression;
    try {
      key = this.key(args.slice(0, pos), "p2tr");
    } catch (error) {
      if (!(error instanceof DescriptorError)) throw error;
      throw new DescriptorError(`tr(): ${error.message}`);
    }
    const keyLength = lengthOf(this.multipathLengths);
    const lengths = [...this.multipathLengths];
    const leaves: Expression[] = [];
    const depths: number[] = [];
    const leafLengths: number[] = [];
    let treeKeys = 0;
    if (pos < args.length) {
      if (args[pos] !== ",") throw new DescriptorError(`tr: expected ',', got '${args[pos]}'`);
      pos++;
      // The path from the top to the leaf being read: false for a left branch, true for a right one.
      const branches: boolean[] = [];
      do {
        while (args[pos] === "{") {
          pos++;
          branches.push(false);
          if (branches.length > TAPROOT_CONTROL_MAX_NODE_COUNT) {
            throw new DescriptorError(
              `tr() supports at most ${TAPROOT_CONTROL_MAX_NODE_COUNT} nesting levels`,
            );
          }
        }
        const end = exprEnd(args, pos);
        this.multipathLengths = new Set();
        const leaf = this.script(args.slice(pos, end), "p2tr");
        treeKeys += allKeys(leaf).length;
        if (treeKeys > MAX_TREE_KEYS) {
          throw new DescriptorError(
            `tr(): at most ${MAX_TREE_KEYS} keys in a script tree here (not Core's limit: each is derived in turn)`,
          );
        }
        leaves.push(leaf);
        leafLengths.push(lengthOf(this.multipathLengths));
        lengths.push(...this.multipathLengths);
        depths.push(branches.length);
        pos = end;
        while (branches.length > 0 && branches[branches.length - 1]) {
          if (args[pos] !== "}") {
            throw new DescriptorError("tr(): expected '}' after script expression");
          }
          pos++;
          branches.pop();
        }
        if (branches.length > 0 && !branches[branches.length - 1]) {
          if (args[pos] !== ",") {
            throw new DescriptorError("tr(): expected ',' after script expression");
          }
          pos++;
          branches[branches.length - 1] = true;
        }
      } while (branches.length > 0);
      if (pos !== args.length) {
        throw new DescriptorError("tr(): expected ')' after script expression");
      }
    }
    // A loop, not a spread: a tree may have more leaves than a call takes arguments.
    let most = keyLength;
    for (const length of leafLengths) most = Math.max(most, length);
    if (leafLengths.some((length) => length !== 1 && length !== most)) {
      throw new DescriptorError("tr(): Multipath subscripts have mismatched lengths");
    }
    if (keyLength > 1 && keyLength !== most) {
      throw new DescriptorError(
        "tr(): Multipath internal key mismatches multipath subscripts lengths",
      );
    }
    this.multipathLengths = outer;
    for (const length of lengths) outer.add(length);
    return leaves.length > 0 ? { fn: "tr", key, tree: { leaves, depths } } : { fn: "tr", key };
  }
}

/** Core's `MAX_PUBKEYS_PER_MULTI_A`. */
const MAX_PUBKEYS_PER_MULTI_A = 999;
/** The most keys a script tree holds here (Core has no such limit). */
const MAX_TREE_KEYS = 1000;

/**
 * Core's `script::Expr`: where the expression starting at `from` ends — at
 * the first `,`, `)` or `}` outside any `(…)` or `{…}`.
 */
function exprEnd(text: string, from: number): number {
  let level = 0;
  let i = from;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(" || ch === "{") level++;
    else if (level && (ch === ")" || ch === "}")) level--;
    else if (level === 0 && (ch === ")" || ch === "}" || ch === ",")) break;
  }
  return i;
}

/** A miniscript fragment's name, with its wrappers (`v:`, `s:`…), as `wsh()` may hold. */
const MINISCRIPT_FRAGMENT =
  /^([asctdvjnlu]+:)?(pk|pkh|pk_k|pk_h|older|after|sha256|hash256|ripemd160|hash160|andor|and_v|and_b|and_n|or_b|or_c|or_d|or_i|thresh|multi_a)$/;

/** A miniscript fragment without arguments (`0`, `1`), or any fragment behind wrappers. */
const MINISCRIPT_WRAPPED = /^(([asctdvjnlu]+:)?[01]|[asctdvjnlu]+:.*)$/;

/** The arguments of a call, split at the commas outside any brackets. */
function splitArguments(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(" || ch === "{" || ch === "[") depth++;
    else if (ch === ")" || ch === "}" || ch === "]") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** `name(arg)` → [name, arg], or undefined when `text` is not a call. */
function call(text: string): [string, string] | undefined {
  const open = text.indexOf("(");
  if (open <= 0 || !text.endsWith(")")) return undefined;
  return [text.slice(0, open), text.slice(open + 1, -1)];
}

/** Whether `text` has a comma outside any brackets. */
function topLevelComma(text: string): boolean {
  return splitArguments(text).length > 1;
}

/**
 * Parses a descriptor (Core's `Parse`): one descriptor, or one per value of
 * its multipath element (`<0;1>`, BIP 389), in order. Throws
 * {@linkcode DescriptorError} with Core's messages, or a clear message for
 * forms this node does not support.
 */
export function parseDescriptors(
  text: string,
  options: { requireChecksum?: boolean } = {},
): Descriptor[] {
  const descriptor = checkChecksum(text, options.requireChecksum ?? false);
  const parse = (branch: number) => {
    const parser = new Parser(branch);
    const expr = parser.script(descriptor, "top");
    return { parser, parsed: new Descriptor(descriptor, expr, parser.hasPrivateKeys) };
  };
  const first = parse(0);
  const more = (first.parser.multipath?.length ?? 1) - 1;
  return [first.parsed, ...Array.from({ length: more }, (_, i) => parse(i + 1).parsed)];
}

/**
 * {@linkcode parseDescriptors} where one descriptor is wanted: a multipath
 * one is refused.
 */
export function parseDescriptor(
  text: string,
  options: { requireChecksum?: boolean } = {},
): Descriptor {
  const [descriptor, ...more] = parseDescriptors(text, options);
  if (more.length > 0) {
    throw new DescriptorError(
      "multipath key paths (<…;…>) are not supported here: give one descriptor per path",
    );
  }
  return descriptor;
}

/** Where an inferred script sits (Core's `ParseScriptContext` for `InferScript`). */
type InferContext = "top" | "p2sh" | "p2wpkh" | "p2wsh";

/** Core's `InferPubkey`: the key, with its origin when the provider knows it. */
function inferKey(key: Uint8Array, context: InferContext, provider: ScriptProvider) {
  // No hybrid keys, and only compressed ones inside segwit.
  if (key[0] === 0x06 || key[0] === 0x07) return undefined;
  if (context !== "top" && context !== "p2sh" && key.length !== 33) return undefined;
  return originString(key, hex.encode(key), provider);
}

function originString(key: Uint8Array, text: string, provider: ScriptProvider): string {
  const origin = provider.keyOrigin?.(key);
  if (!origin) return text;
  return `[${hex.encode(origin.fingerprint)}${formatPath(origin.path, false)}]${text}`;
}

/** `pk()` or `multi()` of a bare key or multisig script, when its keys are usable there. */
function inferKeyScript(
  script: Uint8Array,
  context: InferContext,
  provider: ScriptProvider,
): string | undefined {
  const { type, solutions } = solver(script);
  if (type === "pubkey") {
    const key = inferKey(solutions[0], context, provider);
    return key && `pk(${key})`;
  }
  if (type === "multisig") {
    const keys = solutions.slice(1, -1).map((key) => inferKey(key, context, provider));
    if (keys.every((key) => key !== undefined)) {
      return `multi(${solutions[0][0]},${keys.join(",")})`;
    }
  }
  return undefined;
}

/** Core's `InferScript`. */
function inferScript(
  script: Uint8Array,
  context: InferContext,
  provider: ScriptProvider,
): string {
  const keyed = inferKeyScript(script, context, provider);
  if (keyed) return keyed;
  const { type, solutions } = solver(script);
  if (type === "pubkeyhash" && context !== "p2wpkh") {
    const pubkey = provider.publicKey?.(solutions[0]);
    const key = pubkey && inferKey(pubkey, context, provider);
    if (key) return `pkh(${key})`;
  }
  if (type === "witness_v0_keyhash" && (context === "top" || context === "p2sh")) {
    const pubkey = provider.publicKey?.(solutions[0]);
    const key = pubkey && inferKey(pubkey, "p2wpkh", provider);
    if (key) return `wpkh(${key})`;
  }
  if (type === "scripthash" && context === "top") {
    const sub = provider.script?.(solutions[0]);
    if (sub) return `sh(${inferScript(sub, "p2sh", provider)})`;
  }
  if (type === "witness_v0_scripthash" && (context === "top" || context === "p2sh")) {
    const sub = provider.witnessScript?.(solutions[0]);
    const inner = sub && inferKeyScript(sub, "p2wsh", provider);
    if (inner) return `wsh(${inner})`;
  }
  if (type === "witness_v1_taproot" && context === "top") {
    const tree = provider.taprootTree?.(solutions[0]);
    const leaves = tree && inferTaprootTree(tree, solutions[0]);
    const inferred = leaves?.map((leaf) =>
      leaf.leafVersion === 0xc0 ? inferTapscript(leaf.script, provider) : undefined
    );
    if (tree && leaves && inferred?.every((leaf) => leaf !== undefined)) {
      const key = originString(tree.internalKey, hex.encode(tree.internalKey), provider);
      if (leaves.length === 0) return `tr(${key})`;
      return `tr(${key},${treeText(inferred as string[], leaves.map((leaf) => leaf.depth))})`;
    }
    const internal = provider.taprootInternalKey?.(solutions[0]);
    if (internal) return `tr(${originString(internal, hex.encode(internal), provider)})`;
    if (isValidXOnly(solutions[0])) {
      return `rawtr(${originString(solutions[0], hex.encode(solutions[0]), provider)})`;
    }
  }
  const address = scriptToAddress(script);
  return address !== undefined ? `addr(${address})` : `raw(${hex.encode(script)})`;
}

/**
 * Core's `InferScript` in a tapscript leaf, for the leaves this node
 * writes: `pk()` of an x-only key, `multi_a()` (`InferMultiA`), and
 * miniscript's `pkh()` when the provider knows the key; else undefined.
 */
function inferTapscript(script: Uint8Array, provider: ScriptProvider): string | undefined {
  const xonly = (key: Uint8Array) => originString(key, hex.encode(key), provider);
  const key = tapPkKey(script);
  if (key) return `pk(${xonly(key)})`;
  const multi = matchMultiA(script);
  if (multi) return `multi_a(${multi.threshold},${multi.keys.map(xonly).join(",")})`;
  const hash = tapPkhHash(script);
  const pubkey = hash && provider.publicKey?.(hash);
  // Miniscript infers the full key it was given, compressed only.
  if (pubkey?.length === 33) return `pkh(${originString(pubkey, hex.encode(pubkey), provider)})`;
  return undefined;
}

/** The x-only key of a tapscript `pk()` leaf (`<key> CHECKSIG`), else undefined. */
function tapPkKey(script: Uint8Array): Uint8Array | undefined {
  const matches = script.length === 34 && script[0] === 32 && script[33] === 0xac;
  return matches ? script.subarray(1, 33) : undefined;
}

export { tapPkhHash } from "../../bitcoin/tapscript.ts";

/**
 * The x-only keys a tapscript leaf of the kinds this node writes needs
 * signatures from (the keys Core's miniscript satisfier asks to sign for):
 * a `pk()` leaf's key, a `multi_a()` leaf's keys in script order, a `pkh()`
 * leaf's key when `provider` knows it; none for any other leaf.
 */
export function tapscriptKeys(script: Uint8Array, provider: ScriptProvider): Uint8Array[] {
  const key = tapPkKey(script);
  if (key) return [key];
  const multi = matchMultiA(script);
  if (multi) return multi.keys;
  const hash = tapPkhHash(script);
  const pubkey = hash && provider.publicKey?.(hash);
  return pubkey ? [xonlyOf(pubkey)] : [];
}

/** Core's `MatchMultiA`: the threshold and keys of a `multi_a()` script. */
function matchMultiA(script: Uint8Array): { threshold: number; keys: Uint8Array[] } | undefined {
  if (script.length === 0 || script[0] !== 32 || script[script.length - 1] !== 0x9c) {
    return undefined;
  }
  const keys: Uint8Array[] = [];
  let at = 0;
  while (script.length - at >= 34) {
    if (script[at] !== 32) return undefined;
    keys.push(script.subarray(at + 1, at + 33));
    if (script[at + 33] !== (keys.length === 1 ? 0xac : 0xba)) return undefined;
    at += 34;
  }
  if (keys.length === 0 || keys.length > MAX_PUBKEYS_PER_MULTI_A) return undefined;
  const { ops, truncated } = parseScript(script.subarray(at));
  if (truncated || ops.length !== 2 || ops[1].opcode !== 0x9c) return undefined;
  const [op] = ops;
  let threshold: number | undefined;
  if (op.opcode >= 0x51 && op.opcode <= 0x60) threshold = op.opcode - 0x50;
  else if (op.data && op.data.length <= 4 && op.data.length > 0) {
    // A minimally encoded script number (`GetScriptNumber`).
    const value = op.data.reduce((n, byte, i) => n + byte * 2 ** (8 * i), 0);
    const negative = (op.data[op.data.length - 1] & 0x80) !== 0;
    if (
      !negative && hex.encode(pushScript(encodeScriptNum(value))) === hex.encode(
          script.subarray(at, script.length - 1),
        )
    ) threshold = value;
  }
  if (threshold === undefined || threshold < 1 || threshold > keys.length) return undefined;
  return { threshold, keys };
}

/**
 * The descriptor Core infers for an output script (`InferDescriptor(...)
 * .ToString()`), checksum included: `pk()`, `multi()`, `rawtr()` for a valid
 * x-only key; with what `provider` knows, `pkh()`, `wpkh()`, `sh(…)`,
 * `wsh(pk|multi)`, `tr()` and key origins; else an `addr()` for anything
 * with an address, else `raw()`.
 */
export function inferDescriptor(script: Uint8Array, provider: ScriptProvider = {}): string {
  return withChecksum(inferScript(script, "top", provider));
}

/** Whether 32 bytes are the x coordinate of a curve point (`XOnlyPubKey::IsFullyValid`). */
function isValidXOnly(key: Uint8Array): boolean {
  try {
    schnorr.utils.lift_x(BigInt("0x" + hex.encode(key)));
    return true;
  } catch {
    return false;
  }
}
