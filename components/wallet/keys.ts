/**
 * The wallet's keys: a BIP 39 mnemonic is the one secret, its BIP 32 master
 * key derives one account per descriptor kind (`m/44h/1h/0h` for `pkh()`,
 * `m/49h/1h/0h` for `sh(wpkh())`, `m/84h/1h/0h` for `wpkh()`,
 * `m/86h/1h/0h` for `tr()`), and each account's extended public
 * key derives the addresses, external (`/0/i`) and change (`/1/i`), without
 * the secret: a locked wallet still hands out addresses. A wallet without
 * private keys derives from the extended public keys it imported instead,
 * and a blank one from those of the private keys it imported, which its
 * {@linkcode Keyring} holds beside its mnemonic (if any); an imported
 * multisig derives each of its keys so, and its address from them, and an
 * imported taproot script tree its internal and leaf keys, and its output
 * from the tree they make.
 *
 * @example
 * ```ts
 * import { Account, HdSecret } from "./keys.ts";
 * const secret = HdSecret.fromMnemonic(
 *   "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
 * );
 * const account = Account.fromSecret(secret, "wpkh");
 * const first = account.derive(false, 0);
 * if (!first.address.startsWith("bcrt1q")) throw new Error(first.address);
 * if (!account.descriptor(false).startsWith("wpkh([73c5da0a/84h/1h/0h]tpub")) {
 *   throw new Error(account.descriptor(false));
 * }
 * ```
 * @module
 */
import { HDKey } from "@scure/bip32";
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { Address, OutScript, p2pkh, p2sh, p2tr, p2wpkh, Script } from "@scure/btc-signer";
import { ripemd160 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { REGTEST, TEST_VERSIONS } from "./network.ts";
import {
  accountPath,
  type DescriptorKind,
  keyDescriptor,
  multisigDescriptor,
  rangedDescriptor,
  taprootTreeDescriptor,
  type WrittenLeaf,
} from "./descriptor.ts";
import { compareBytes } from "../bitcoin/bytes.ts";
import { buildTaprootTree, inferTaprootTree, type TaprootTree } from "../bitcoin/taptree.ts";
import { MAX_KEYPOOL } from "../bitcoin/options.ts";
import { withChecksum } from "../bitcoin/descriptor_checksum.ts";
import { multiALeaf, pkhLeaf, pkLeaf, sortedMultiA } from "../bitcoin/tapscript.ts";

const hash160 = (bytes: Uint8Array) => ripemd160(sha256(bytes));

/** `m/84h/1h/0h` in the notation `@scure/bip32` reads. */
function scurePath(path: string): string {
  return path.replaceAll("h", "'");
}

/** The wallet's secret: a BIP 39 mnemonic and the master key it derives. */
export class HdSecret {
  readonly mnemonic: string;
  readonly master: HDKey;

  private constructor(mnemonic: string) {
    this.mnemonic = mnemonic;
    this.master = HDKey.fromMasterSeed(mnemonicToSeedSync(mnemonic), TEST_VERSIONS);
  }

  /** A fresh 24-word mnemonic (256 bits from the system's random source). */
  static generate(): HdSecret {
    return new HdSecret(generateMnemonic(wordlist, 256));
  }

  /** The secret of `mnemonic`; throws when it is not a valid English BIP 39 mnemonic. */
  static fromMnemonic(mnemonic: string): HdSecret {
    if (!validateMnemonic(mnemonic, wordlist)) throw new Error("invalid BIP 39 mnemonic");
    return new HdSecret(mnemonic);
  }

  /** The master key's fingerprint (`hdmasterfingerprint`). */
  get fingerprint(): number {
    return this.master.fingerprint;
  }
}

/**
 * A private key a descriptor was given with: an extended private key (at
 * `path` from the key whose fingerprint is `fingerprint`) its chain's keys
 * derive from, or one key, public and private (hex).
 */
export type SecretKey =
  | { readonly fingerprint: number; readonly path: string; readonly xprv: string }
  | { readonly pubkey: string; readonly privkey: string };

/**
 * The private part of a descriptor `importdescriptors` gave with its
 * keys: its private form, and the private keys it was given with (a
 * multisig's or a script tree's may be some of its keys only).
 */
export interface ImportedSecret {
  /** The public descriptor it belongs to, checksum included. */
  readonly desc: string;
  /** Its private form, checksum included (`listdescriptors true`). */
  readonly privateDesc: string;
  readonly keys: readonly SecretKey[];
}

/** An extended private key and where it sits, which keys at paths below it derive from. */
interface PrivateRoot {
  readonly fingerprint: number;
  readonly path: string;
  readonly key: HDKey;
}

/**
 * Every private key a wallet holds: its mnemonic's master key, when it
 * has one (a blank wallet has none), and the keys of the descriptors it
 * imported with theirs. What the database keeps, sealed when the wallet
 * is encrypted; a key is found by the origin its address was derived at.
 *
 * @example
 * ```ts
 * import { Account, HdSecret, isSingleKey, Keyring } from "./keys.ts";
 * const secret = HdSecret.fromMnemonic(
 *   "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
 * );
 * const key = Account.fromSecret(secret, "wpkh").derive(false, 0);
 * if (!isSingleKey(key)) throw new Error("an account of the wallet's own is of single keys");
 * const keyring = Keyring.parse(new Keyring(secret, []).toString());
 * if (keyring.privateKey(key, false) === undefined) throw new Error("the mnemonic's key");
 * if (new Keyring(null, []).privateKey(key, false) !== undefined) throw new Error("a blank");
 * ```
 */
export class Keyring {
  readonly hd: HdSecret | null;
  readonly imported: readonly ImportedSecret[];
  #roots: PrivateRoot[] | undefined;

  constructor(hd: HdSecret | null, imported: readonly ImportedSecret[]) {
    this.hd = hd;
    this.imported = imported;
  }

  /** The keyring `text` ({@linkcode toString}) holds; a wallet made before imports kept its bare mnemonic. */
  static parse(text: string): Keyring {
    if (!text.startsWith("{")) return new Keyring(HdSecret.fromMnemonic(text), []);
    const { mnemonic, imported } = JSON.parse(text) as {
      mnemonic: string | null;
      // Kept before multisig imports: one key each.
      imported: (Omit<ImportedSecret, "keys"> & { keys?: SecretKey[]; key?: SecretKey })[];
    };
    return new Keyring(
      mnemonic === null ? null : HdSecret.fromMnemonic(mnemonic),
      imported.map(({ desc, privateDesc, keys, key }) => ({
        desc,
        privateDesc,
        keys: keys ?? [key!],
      })),
    );
  }

  /** The text the database keeps (sealed, when encrypted). */
  toString(): string {
    return JSON.stringify({ mnemonic: this.hd?.mnemonic ?? null, imported: this.imported });
  }

  /**
   * The same keyring with `secret`. A descriptor imported again keeps the
   * private keys it had besides the new ones, as Core's wallet adds an
   * import's keys to the descriptor's: its private form shows each key
   * private that either gave private.
   */
  with(secret: ImportedSecret): Keyring {
    const held = this.imported.find((imported) => imported.desc === secret.desc);
    const others = this.imported.filter((imported) => imported !== held);
    if (held === undefined) return new Keyring(this.hd, [...others, secret]);
    const keys = new Map([...held.keys, ...secret.keys].map((key) => [JSON.stringify(key), key]));
    return new Keyring(this.hd, [...others, {
      desc: secret.desc,
      privateDesc: mergedPrivateDescriptor(held.privateDesc, secret.privateDesc),
      keys: [...keys.values()],
    }]);
  }

  /**
   * The keys the descriptors `descs` hold, as Core signs a coin with its
   * descriptors' keys alone: an imported one's keys as imported, any other
   * the mnemonic's (a wallet with private keys imports none without any,
   * so a descriptor not imported with keys is one of its own chains).
   */
  scoped(descs: readonly string[]): Keyring {
    const imported = this.imported.filter(({ desc }) => descs.includes(desc));
    const hd = descs.some((desc) => !imported.some((secret) => secret.desc === desc));
    return new Keyring(hd ? this.hd : null, imported);
  }

  /** The private form of the imported descriptor `desc`, if imported with its keys. */
  privateDescriptor(desc: string): string | undefined {
    return this.imported.find((imported) => imported.desc === desc)?.privateDesc;
  }

  /** The extended private key whose public one is `xpub`, if held. */
  extendedPrivateKey(xpub: string): string | undefined {
    return this.#privateRoots().find(({ key }) => key.publicExtendedKey === xpub)?.key
      .privateExtendedKey;
  }

  /**
   * The private key of `key`: derived from the extended private key its
   * origin lies under, or imported as it is; undefined when not held.
   * An `xonly` key (taproot's) is held whichever parity its point has.
   */
  privateKey(key: OriginKey, xonly: boolean): Uint8Array | undefined {
    for (const root of this.#privateRoots()) {
      if (root.fingerprint !== key.fingerprint) continue;
      if (key.path !== root.path && !key.path.startsWith(`${root.path}/`)) continue;
      const derived = root.key.derive(scurePath(`m${key.path.slice(root.path.length)}`));
      // Two keys may share a fingerprint: the public key tells.
      if (sameKey(derived.publicKey!, key, xonly)) return derived.privateKey!;
    }
    for (const imported of this.imported.flatMap(({ keys }) => keys)) {
      if ("privkey" in imported && sameKey(hex.decode(imported.pubkey), key, xonly)) {
        return hex.decode(imported.privkey);
      }
    }
    return undefined;
  }

  #privateRoots(): PrivateRoot[] {
    this.#roots ??= [
      ...(this.hd ? [{ fingerprint: this.hd.fingerprint, path: "m", key: this.hd.master }] : []),
      ...this.imported.flatMap(({ keys }) => keys).flatMap((key) =>
        "xprv" in key ? [{ ...key, key: HDKey.fromExtendedKey(key.xprv, TEST_VERSIONS) }] : []
      ),
    ];
    return this.#roots;
  }
}

/**
 * Two private forms of one descriptor merged: each key as `given` wrote
 * it if private there, else as `held` wrote it if private there, else as
 * `given` wrote it; checksum recomputed. Both being of one descriptor,
 * their keys stand in the same places between `(`, `)`, `,`, `{`, `}`.
 */
function mergedPrivateDescriptor(held: string, given: string): string {
  const parts = (desc: string) => desc.split("#")[0].split(/([(),{}])/);
  const [heldParts, givenParts] = [parts(held), parts(given)];
  if (heldParts.length !== givenParts.length) {
    throw new Error(`not one descriptor's forms: ${held.split("#")[1]}, ${given.split("#")[1]}`);
  }
  return withChecksum(
    givenParts.map((part, i) =>
      !isPrivateKeyText(part) && isPrivateKeyText(heldParts[i]) ? heldParts[i] : part
    ).join(""),
  );
}

/** Whether a descriptor's key expression is private: an extended private key or a WIF one. */
function isPrivateKeyText(text: string): boolean {
  const key = text.replace(/^\[[^\]]*\]/, "");
  return /^[xt]prv/.test(key) || /^[59KLc][1-9A-HJ-NP-Za-km-z]{50,51}$/.test(key);
}

/** Whether `publicKey` (compressed) is `key`'s: as x-only for taproot, which signs either parity. */
function sameKey(publicKey: Uint8Array, key: OriginKey, xonly: boolean): boolean {
  const from = xonly ? 1 : 0;
  return hex.encode(publicKey.subarray(from)) === hex.encode(key.publicKey.subarray(from));
}

/** A public key and its origin: the fingerprint of the key its path starts at, and the path. */
export interface OriginKey {
  readonly fingerprint: number;
  /** Full path from that key (`m/84h/1h/0h/0/3`). */
  readonly path: string;
  /** Compressed public key (33 bytes). */
  readonly publicKey: Uint8Array;
}

/** What every address an account derives has. */
interface AddressFields {
  /** Its account's kind: its output type. */
  readonly kind: DescriptorKind;
  readonly internal: boolean;
  readonly index: number;
  readonly script: Uint8Array;
  /** The script a `sh()` address wraps: P2WPKH, P2WSH or the multisig itself. */
  readonly redeemScript?: Uint8Array;
  readonly address: string;
  /** `getaddressinfo`'s `desc`. */
  readonly descriptor: string;
}

/** An address of one key, which the wallet may hold the private key of. */
export interface SingleKeyAddress extends AddressFields, OriginKey {}

/**
 * A multisig address (`importdescriptors` of `wsh(sortedmulti(…))` and
 * the like), which its keys sign for: others', and the wallet's if it
 * holds some.
 */
export interface MultisigAddress extends AddressFields {
  readonly threshold: number;
  /** Its keys, in the script's order. */
  readonly keys: readonly OriginKey[];
  /** The multisig script of a `wsh()` or `sh(wsh())` address (a `sh()` one's is its redeem script). */
  readonly witnessScript?: Uint8Array;
}

/**
 * A `tr(KEY,TREE)` address (`importdescriptors` of a taproot multisig
 * and the like): its internal key and its tree, which its keys sign for
 * (others', and the wallet's if it holds some).
 */
export interface TaprootTreeAddress extends AddressFields {
  /** The internal key (33 bytes; its x-only part is the one committed to). */
  readonly internalKey: OriginKey;
  /** The tree as Core's `TaprootBuilder` builds it: merkle root, leaf scripts, control blocks. */
  readonly tree: TaprootTree;
  /** Its leaves in the order of `tree.leaves`, each one's keys in its script's order. */
  readonly leaves: readonly TreeLeafOf<OriginKey>[];
}

/** One address an account derives. */
export type DerivedKey = SingleKeyAddress | MultisigAddress | TaprootTreeAddress;

/** Whether `key` is a multisig address. */
export function isMultisig(key: DerivedKey): key is MultisigAddress {
  return "keys" in key;
}

/** Whether `key` is a `tr(KEY,TREE)` address. */
export function isTaprootTree(key: DerivedKey): key is TaprootTreeAddress {
  return "tree" in key;
}

/** Whether `key` is of one key, which the wallet may hold the private key of. */
export function isSingleKey(key: DerivedKey): key is SingleKeyAddress {
  return !isMultisig(key) && !isTaprootTree(key);
}

/**
 * The keys whose signatures spend `key`'s output: its one key, a
 * multisig's keys, or a script tree's internal key and its leaves' keys
 * (these x-only, as taproot signs with either parity of a point).
 */
export function signingKeys(key: DerivedKey): { key: OriginKey; xonly: boolean }[] {
  if (isMultisig(key)) return key.keys.map((one) => ({ key: one, xonly: false }));
  if (isTaprootTree(key)) {
    return [key.internalKey, ...key.leaves.flatMap((leaf) => leaf.keys)]
      .map((one) => ({ key: one, xonly: true }));
  }
  return [{ key, xonly: key.kind === "tr" }];
}

/** The `tpub…` of the account of `kind` under `master` (`m/84h/1h/0h` for `wpkh`). */
export function accountXpub(master: HDKey, kind: DescriptorKind): string {
  return master.derive(scurePath(accountPath(kind, REGTEST.coinType))).publicExtendedKey;
}

/**
 * The account of `kind` under the HD key `xprv` (Core's
 * `GenerateWalletDescriptor`): the key's own fingerprint, the account's
 * path from it and its `tpub…`.
 */
export function hdAccount(
  xprv: string,
  kind: DescriptorKind,
): { fingerprint: number; path: string; xpub: string } {
  const root = HDKey.fromExtendedKey(xprv, TEST_VERSIONS);
  const path = accountPath(kind, REGTEST.coinType);
  return { fingerprint: root.fingerprint, path, xpub: accountXpub(root, kind) };
}

/**
 * One key of a chain's addresses: address `i`'s is child `i` of the chain
 * key `key` (at `path` from the key whose fingerprint is `fingerprint`),
 * or a fixed key, the same at every index.
 */
export type ChainKey =
  | { readonly fingerprint: number; readonly path: string; readonly key: HDKey }
  | OriginKey;

/**
 * A chain of addresses: of one key, of a multisig's keys (as written,
 * before `sortedmulti()` sorts them), or of a taproot internal key and
 * its script tree.
 */
export interface KeyChain {
  /** The one key, a multisig's keys, or a script tree's internal key. */
  readonly keys: readonly ChainKey[];
  /** A multisig's threshold, and whether its keys are sorted (BIP 67); none for one key. */
  readonly multisig?: { readonly threshold: number; readonly sorted: boolean };
  /** A `tr(KEY,TREE)`'s leaves, depth-first, their keys as written. */
  readonly tree?: readonly TreeLeafOf<ChainKey>[];
  /** Its public ranged descriptor, checksum included (`listdescriptors`). */
  readonly descriptor: string;
}

/**
 * Where an imported key comes from: an extended public key (its `tpub…`
 * and the unhardened steps from it to the chain's key), or one key
 * (compressed, hex); with its origin (the chain key's, or the key's:
 * `path` from the key whose fingerprint is `fingerprint`).
 */
export type KeySource =
  | {
    readonly xpub: string;
    readonly steps: readonly number[];
    readonly fingerprint: number;
    readonly path: string;
    /** Written as an extended private key: that key, public (`gethdkeys` lists it). */
    readonly root?: string;
  }
  | { readonly pubkey: string; readonly fingerprint: number; readonly path: string };

/** An imported multisig: its threshold, whether its keys are sorted (BIP 67), its keys as written. */
export interface MultisigSource {
  readonly threshold: number;
  readonly sorted: boolean;
  readonly keys: readonly KeySource[];
}

/** The leaves a script tree the wallet imports has (Core's `multi_a()` family, `pk()`, `pkh()`). */
export type TreeLeafKind = "pk" | "pkh" | "multi_a" | "sortedmulti_a";

/** A script tree's leaf: its depth, kind, threshold (1 for `pk()`, `pkh()`) and keys as written. */
export interface TreeLeafOf<Key> {
  readonly depth: number;
  readonly leaf: TreeLeafKind;
  readonly threshold: number;
  readonly keys: readonly Key[];
}

/** An imported `tr(KEY,TREE)`: its internal key and its leaves, depth-first. */
export interface TreeSource {
  readonly internal: KeySource;
  readonly leaves: readonly TreeLeafOf<KeySource>[];
}

/** A chain of imported keys: one extended key, a multisig's keys, or a script tree's. */
export type ChainSource = Extract<KeySource, { xpub: string }> | MultisigSource | TreeSource;

/**
 * The keys one index of an imported source derives: a multisig's keys, a
 * script tree's internal key and its leaves' keys, else one.
 */
export function sourceKeyCount(source: object | null): number {
  if (source === null) return 1;
  if ("leaves" in source) {
    const { leaves } = source as { leaves: readonly { keys: readonly unknown[] }[] };
    return 1 + leaves.reduce((sum, leaf) => sum + leaf.keys.length, 0);
  }
  if ("keys" in source) return (source as { keys: readonly unknown[] }).keys.length;
  return 1;
}

/** The keys one index of `chain` derives, as {@linkcode sourceKeyCount} counts them. */
export function chainKeyCount(chain: KeyChain): number {
  return chain.keys.length + (chain.tree ?? []).reduce((sum, leaf) => sum + leaf.keys.length, 0);
}

/**
 * The most scripts of `keys` keys each a chain derives at once (a default
 * range, a top-up, a watched range's growth): {@linkcode MAX_KEYPOOL} keys'
 * worth, at least one script.
 *
 * @example
 * ```ts
 * import { scriptsWithin } from "./keys.ts";
 * if (scriptsWithin(1) !== 10_000 || scriptsWithin(201) !== 49 || scriptsWithin(20_000) !== 1) {
 *   throw new Error();
 * }
 * ```
 */
export function scriptsWithin(keys: number, most = MAX_KEYPOOL): number {
  return Math.max(1, Math.floor(most / Math.max(1, keys)));
}

/** The chain of `source`, whose public descriptor is `descriptor`. */
export function importedChain(descriptor: string, source: ChainSource): KeyChain {
  const chainKey = (key: KeySource): ChainKey => {
    const { fingerprint, path } = key;
    if ("pubkey" in key) return { fingerprint, path, publicKey: hex.decode(key.pubkey) };
    let chain = HDKey.fromExtendedKey(key.xpub, TEST_VERSIONS);
    for (const step of key.steps) chain = chain.deriveChild(step);
    return { fingerprint, path, key: chain };
  };
  if ("leaves" in source) {
    const tree = source.leaves.map((leaf) => ({ ...leaf, keys: leaf.keys.map(chainKey) }));
    return { keys: [chainKey(source.internal)], tree, descriptor };
  }
  if (!("keys" in source)) return { keys: [chainKey(source)], descriptor };
  const { threshold, sorted } = source;
  return { keys: source.keys.map(chainKey), multisig: { threshold, sorted }, descriptor };
}

/**
 * One descriptor kind's account: the chains it derives addresses from,
 * external and change. The wallet's own come from its secret; a
 * watch-only wallet's are imported (`importdescriptors`), either chain
 * possibly missing.
 */
export class Account {
  readonly kind: DescriptorKind;
  readonly #chains: [KeyChain | undefined, KeyChain | undefined];
  /**
   * Keys derived so far, by chain and index: a derivation costs elliptic-curve
   * work, and balances look up every coin's key. As many as the wallet watches.
   */
  readonly #derived: [Map<number, DerivedKey>, Map<number, DerivedKey>] = [new Map(), new Map()];

  constructor(kind: DescriptorKind, chains: [KeyChain | undefined, KeyChain | undefined]) {
    this.kind = kind;
    this.#chains = chains;
  }

  /**
   * The account of `kind` at its BIP 44-style path (`m/84h/1h/0h`) of the
   * master key whose fingerprint is `fingerprint`, from its `tpub…`.
   */
  static fromXpub(kind: DescriptorKind, fingerprint: number, xpub: string): Account {
    const path = accountPath(kind, REGTEST.coinType);
    const account = HDKey.fromExtendedKey(xpub, TEST_VERSIONS);
    const chain = (internal: boolean): KeyChain => ({
      keys: [{
        fingerprint,
        path: `${path}/${internal ? 1 : 0}`,
        key: account.deriveChild(internal ? 1 : 0),
      }],
      descriptor: rangedDescriptor(kind, fingerprint, path, xpub, internal),
    });
    return new Account(kind, [chain(false), chain(true)]);
  }

  /** The account of `kind` under `secret`'s master key. */
  static fromSecret(secret: HdSecret, kind: DescriptorKind): Account {
    return Account.fromXpub(kind, secret.fingerprint, accountXpub(secret.master, kind));
  }

  /** The same account with its external or change chain set to `chain` (or none). */
  withChain(internal: boolean, chain: KeyChain | undefined): Account {
    const chains = [...this.#chains] as [KeyChain | undefined, KeyChain | undefined];
    chains[internal ? 1 : 0] = chain;
    return new Account(this.kind, chains);
  }

  /** The external or change chain, when the account has it. */
  chain(internal: boolean): KeyChain | undefined {
    return this.#chains[internal ? 1 : 0];
  }

  /** The public ranged descriptor of the external or change chain (`listdescriptors`). */
  descriptor(internal: boolean): string {
    return this.#chain(internal).descriptor;
  }

  /** The key, script and address at `index` of the external or change chain. */
  derive(internal: boolean, index: number): DerivedKey {
    const derived = this.#derived[internal ? 1 : 0];
    let key = derived.get(index);
    if (key === undefined) derived.set(index, key = this.#derive(internal, index));
    return key;
  }

  #chain(internal: boolean): KeyChain {
    const chain = this.chain(internal);
    if (chain === undefined) {
      throw new Error(`the ${this.kind} account has no ${internal ? "change" : "external"} chain`);
    }
    return chain;
  }

  #derive(internal: boolean, index: number): DerivedKey {
    const chain = this.#chain(internal);
    const keys = chain.keys.map((key) => keyAt(key, index));
    if (chain.tree !== undefined) {
      const leaves = chain.tree.map((leaf) => ({
        ...leaf,
        keys: leaf.keys.map((key) => keyAt(key, index)),
      }));
      return taprootTreeAddress(keys[0], leaves, internal, index);
    }
    if (chain.multisig === undefined) {
      return addressKey(this.kind, keys[0].publicKey, keys[0], internal, index);
    }
    return multisigAddress(this.kind, chain.multisig, keys, internal, index);
  }
}

/**
 * The script and address of `publicKey` (33 bytes) as a `kind` address,
 * with the key's origin (`path` from the key whose fingerprint is
 * `fingerprint`) and where a chain has it.
 */
export function addressKey(
  kind: DescriptorKind,
  publicKey: Uint8Array,
  origin: { fingerprint: number; path: string },
  internal: boolean,
  index: number,
): SingleKeyAddress {
  const payment = kind === "pkh"
    ? p2pkh(publicKey, REGTEST)
    : kind === "sh_wpkh"
    ? p2sh(p2wpkh(publicKey, REGTEST), REGTEST)
    : kind === "wpkh"
    ? p2wpkh(publicKey, REGTEST)
    : p2tr(publicKey.subarray(1), undefined, REGTEST);
  const keyHex = hex.encode(kind === "tr" ? publicKey.subarray(1) : publicKey);
  return {
    kind,
    internal,
    index,
    fingerprint: origin.fingerprint,
    path: origin.path,
    publicKey,
    script: payment.script,
    ...("redeemScript" in payment ? { redeemScript: payment.redeemScript } : {}),
    address: payment.address!,
    descriptor: keyDescriptor(kind, origin.fingerprint, origin.path, keyHex),
  };
}

/**
 * The multisig address of `keys` (ordered by their bytes when `sorted`,
 * BIP 67) in `kind`'s wrapping: `wsh()` for `wpkh` (`bech32`),
 * `sh(wsh())` for `sh_wpkh` (`p2sh-segwit`), `sh()` for `pkh` (`legacy`),
 * as Core's `GetOutputType` gives a multisig descriptor's type.
 */
function multisigAddress(
  kind: DescriptorKind,
  { threshold, sorted }: { threshold: number; sorted: boolean },
  keys: readonly OriginKey[],
  internal: boolean,
  index: number,
): MultisigAddress {
  if (kind === "tr") throw new Error("no multisig address is taproot");
  const ordered = sorted ? [...keys].sort((a, b) => compareBytes(a.publicKey, b.publicKey)) : keys;
  // Script.encode writes 17 to 20 as pushed numbers, as Core's `CScript() << n`.
  const multisig = Script.encode([
    threshold,
    ...ordered.map((key) => key.publicKey),
    ordered.length,
    "CHECKMULTISIG",
  ]);
  const network = Address(REGTEST);
  const p2wsh = OutScript.encode({ type: "wsh", hash: sha256(multisig) });
  const wrapped = kind === "pkh" ? multisig : p2wsh;
  const script = kind === "wpkh" ? p2wsh : OutScript.encode({ type: "sh", hash: hash160(wrapped) });
  return {
    kind,
    internal,
    index,
    threshold,
    keys: ordered,
    script,
    ...(kind === "wpkh" ? {} : { redeemScript: wrapped }),
    ...(kind === "pkh" ? {} : { witnessScript: multisig }),
    address: network.encode(OutScript.decode(script)),
    descriptor: multisigDescriptor(
      kind,
      threshold,
      ordered.map(({ fingerprint, path, publicKey }) => ({
        fingerprint,
        path,
        keyHex: hex.encode(publicKey),
      })),
    ),
  };
}

/** A chain key's key at `index`, with its origin: a fixed key is the same at every index. */
function keyAt(key: ChainKey, index: number): OriginKey {
  if (!("key" in key)) return key;
  return {
    fingerprint: key.fingerprint,
    path: `${key.path}/${index}`,
    publicKey: key.key.deriveChild(index).publicKey!,
  };
}

const xonly = (key: OriginKey) => key.publicKey.subarray(1);

/**
 * A leaf's keys in its script's order and its tapscript, as Core's
 * descriptors write them ({@linkcode pkLeaf}, {@linkcode pkhLeaf},
 * {@linkcode multiALeaf}; `sortedmulti_a()` ordering the x-only keys by
 * their bytes, BIP 387).
 */
function leafScript(leaf: TreeLeafOf<OriginKey>): { script: Uint8Array; keys: OriginKey[] } {
  const keys = leaf.leaf === "sortedmulti_a"
    ? sortedMultiA(leaf.keys, (key) => key.publicKey)
    : [...leaf.keys];
  if (leaf.leaf === "pk") return { script: pkLeaf(keys[0].publicKey), keys };
  if (leaf.leaf === "pkh") return { script: pkhLeaf(keys[0].publicKey), keys };
  return { script: multiALeaf(leaf.threshold, keys.map((key) => key.publicKey)), keys };
}

/**
 * The `tr(KEY,TREE)` address of `internalKey` and `leaves` (depth-first,
 * their keys at this index): the tree built as Core's `TaprootBuilder`
 * builds it, and its `getaddressinfo` descriptor as Core infers it.
 */
function taprootTreeAddress(
  internalKey: OriginKey,
  leaves: readonly TreeLeafOf<OriginKey>[],
  internal: boolean,
  index: number,
): TaprootTreeAddress {
  const scripts = leaves.map(leafScript);
  const tree = buildTaprootTree(
    xonly(internalKey),
    scripts.map(({ script }, i) => ({ depth: leaves[i].depth, script })),
  );
  const script = OutScript.encode({ type: "tr", pubkey: tree.outputKey });
  // Core's InferDescriptor, written when first asked (most derived addresses never are): the
  // leaves in the order its InferTaprootTree finds them, each found by its script.
  const inferredDescriptor = () => {
    const written = (key: OriginKey) => ({ ...key, keyHex: hex.encode(xonly(key)) });
    // Core's miniscript keeps a `pkh()` leaf's key whole, and infers it so.
    const whole = (key: OriginKey) => ({ ...key, keyHex: hex.encode(key.publicKey) });
    const byScript = new Map(scripts.map(({ script }, i) => [hex.encode(script), i]));
    const inferred = inferTaprootTree(tree, tree.outputKey)!.map((found): WrittenLeaf => {
      const i = byScript.get(hex.encode(found.script))!;
      const { leaf, threshold } = leaves[i];
      return {
        depth: found.depth,
        leaf: leaf === "sortedmulti_a" ? "multi_a" : leaf,
        threshold,
        keys: scripts[i].keys.map(leaf === "pkh" ? whole : written),
      };
    });
    return taprootTreeDescriptor(written(internalKey), inferred);
  };
  let descriptor: string | undefined;
  return {
    kind: "tr",
    internal,
    index,
    internalKey,
    tree,
    leaves: scripts.map(({ keys }, i) => ({ ...leaves[i], keys })),
    script,
    address: Address(REGTEST).encode(OutScript.decode(script)),
    get descriptor() {
      return descriptor ??= inferredDescriptor();
    },
  };
}
