/**
 * The wallet's keys: a BIP 39 mnemonic is the one secret, its BIP 32 master
 * key derives one account per descriptor kind (`m/44h/1h/0h` for `pkh()`,
 * `m/49h/1h/0h` for `sh(wpkh())`, `m/84h/1h/0h` for `wpkh()`,
 * `m/86h/1h/0h` for `tr()`), and each account's extended public
 * key derives the addresses, external (`/0/i`) and change (`/1/i`), without
 * the secret: a locked wallet still hands out addresses. A wallet without
 * private keys derives from the extended public keys it imported instead.
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
import { p2pkh, p2sh, p2tr, p2wpkh } from "@scure/btc-signer";
import { hex } from "@scure/base";
import { REGTEST, TEST_VERSIONS } from "./network.ts";
import {
  accountPath,
  type DescriptorKind,
  keyDescriptor,
  privateRangedDescriptor,
  rangedDescriptor,
} from "./descriptor.ts";

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

  /** The private key at `path` (`m/84h/1h/0h/0/3`). */
  privateKey(path: string): Uint8Array {
    const key = this.master.derive(scurePath(path)).privateKey;
    if (key === null) throw new Error(`no private key at ${path}`);
    return key;
  }
}

/** One address an account derives. */
export interface DerivedKey {
  readonly kind: DescriptorKind;
  readonly internal: boolean;
  readonly index: number;
  /** The fingerprint of the key its path starts at (the master key's, for the wallet's own). */
  readonly fingerprint: number;
  /** Full path from that key (`m/84h/1h/0h/0/3`). */
  readonly path: string;
  /** Compressed public key (33 bytes). */
  readonly publicKey: Uint8Array;
  readonly script: Uint8Array;
  /** The P2WPKH script a `sh(wpkh())` address wraps. */
  readonly redeemScript?: Uint8Array;
  readonly address: string;
  /** `getaddressinfo`'s `desc`. */
  readonly descriptor: string;
}

/** The `tpub…` of `secret`'s account of `kind` (`m/84h/1h/0h` for `wpkh`). */
export function accountXpub(secret: HdSecret, kind: DescriptorKind): string {
  return secret.master.derive(scurePath(accountPath(kind, REGTEST.coinType))).publicExtendedKey;
}

/**
 * One chain of addresses (external or change): the extended public key
 * index `i` derives from, where that key sits, and the ranged descriptor
 * it stands for.
 */
export interface KeyChain {
  /** The fingerprint of the key {@linkcode path} starts at. */
  readonly fingerprint: number;
  /** The path from that key to the chain's key (`m/84h/1h/0h/0`). */
  readonly path: string;
  /** The chain's key: address `i` is its child `i`. */
  readonly key: HDKey;
  /** Its public ranged descriptor, checksum included (`listdescriptors`). */
  readonly descriptor: string;
}

/** A chain from an extended public key: its `tpub…` and the unhardened steps after it. */
export function importedChain(
  descriptor: string,
  xpub: string,
  steps: readonly number[],
  fingerprint: number,
  path: string,
): KeyChain {
  let key = HDKey.fromExtendedKey(xpub, TEST_VERSIONS);
  for (const step of steps) key = key.deriveChild(step);
  return { fingerprint, path, key, descriptor };
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
      fingerprint,
      path: `${path}/${internal ? 1 : 0}`,
      key: account.deriveChild(internal ? 1 : 0),
      descriptor: rangedDescriptor(kind, fingerprint, path, xpub, internal),
    });
    return new Account(kind, [chain(false), chain(true)]);
  }

  /** The account of `kind` under `secret`'s master key. */
  static fromSecret(secret: HdSecret, kind: DescriptorKind): Account {
    return Account.fromXpub(kind, secret.fingerprint, accountXpub(secret, kind));
  }

  /** The same account with its external or change chain set to `chain`. */
  withChain(internal: boolean, chain: KeyChain): Account {
    const chains = [...this.#chains] as [KeyChain | undefined, KeyChain | undefined];
    chains[internal ? 1 : 0] = chain;
    return new Account(this.kind, chains);
  }

  /** The external or change chain, when the account has it. */
  chain(internal: boolean): KeyChain | undefined {
    return this.#chains[internal ? 1 : 0];
  }

  /** The ranged descriptor (`listdescriptors`), public or, given `secret`, private. */
  descriptor(internal: boolean, secret?: HdSecret): string {
    const chain = this.#chain(internal);
    return secret
      ? privateRangedDescriptor(this.kind, secret.master.privateExtendedKey, chain.path)
      : chain.descriptor;
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
    const publicKey = chain.key.deriveChild(index).publicKey!;
    const origin = { fingerprint: chain.fingerprint, path: `${chain.path}/${index}` };
    return addressKey(this.kind, publicKey, origin, internal, index);
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
): DerivedKey {
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
