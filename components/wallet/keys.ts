/**
 * The wallet's keys: a BIP 39 mnemonic is the one secret, its BIP 32 master
 * key derives one account per descriptor kind (`m/44h/1h/0h` for `pkh()`,
 * `m/49h/1h/0h` for `sh(wpkh())`, `m/84h/1h/0h` for `wpkh()`,
 * `m/86h/1h/0h` for `tr()`), and each account's extended public
 * key derives the addresses, external (`/0/i`) and change (`/1/i`), without
 * the secret: a locked wallet still hands out addresses.
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
  /** Full path from the master (`m/84h/1h/0h/0/3`). */
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

/** One descriptor kind's account: its extended public key and what it derives. */
export class Account {
  readonly kind: DescriptorKind;
  readonly fingerprint: number;
  /** `m/84h/1h/0h`. */
  readonly path: string;
  /** The account's `tpub…`. */
  readonly xpub: string;
  readonly #chains: [HDKey, HDKey];
  /**
   * Keys derived so far, by chain and index: a derivation costs elliptic-curve
   * work, and balances look up every coin's key. As many as the wallet watches.
   */
  readonly #derived: [Map<number, DerivedKey>, Map<number, DerivedKey>] = [new Map(), new Map()];

  constructor(kind: DescriptorKind, fingerprint: number, xpub: string) {
    this.kind = kind;
    this.fingerprint = fingerprint;
    this.path = accountPath(kind, REGTEST.coinType);
    this.xpub = xpub;
    const account = HDKey.fromExtendedKey(xpub, TEST_VERSIONS);
    this.#chains = [account.deriveChild(0), account.deriveChild(1)];
  }

  /** The account of `kind` under `secret`'s master key. */
  static fromSecret(secret: HdSecret, kind: DescriptorKind): Account {
    const path = accountPath(kind, REGTEST.coinType);
    const xpub = secret.master.derive(scurePath(path)).publicExtendedKey;
    return new Account(kind, secret.fingerprint, xpub);
  }

  /** The ranged descriptor (`listdescriptors`), public or, given `secret`, private. */
  descriptor(internal: boolean, secret?: HdSecret): string {
    return secret
      ? privateRangedDescriptor(this.kind, secret.master.privateExtendedKey, this.path, internal)
      : rangedDescriptor(this.kind, this.fingerprint, this.path, this.xpub, internal);
  }

  /** The key, script and address at `index` of the external or change chain. */
  derive(internal: boolean, index: number): DerivedKey {
    const derived = this.#derived[internal ? 1 : 0];
    let key = derived.get(index);
    if (key === undefined) derived.set(index, key = this.#derive(internal, index));
    return key;
  }

  #derive(internal: boolean, index: number): DerivedKey {
    const publicKey = this.#chains[internal ? 1 : 0].deriveChild(index).publicKey!;
    const path = `${this.path}/${internal ? 1 : 0}/${index}`;
    const payment = this.kind === "pkh"
      ? p2pkh(publicKey, REGTEST)
      : this.kind === "sh_wpkh"
      ? p2sh(p2wpkh(publicKey, REGTEST), REGTEST)
      : this.kind === "wpkh"
      ? p2wpkh(publicKey, REGTEST)
      : p2tr(publicKey.subarray(1), undefined, REGTEST);
    const keyHex = hex.encode(this.kind === "tr" ? publicKey.subarray(1) : publicKey);
    return {
      kind: this.kind,
      internal,
      index,
      path,
      publicKey,
      script: payment.script,
      ...("redeemScript" in payment ? { redeemScript: payment.redeemScript } : {}),
      address: payment.address!,
      descriptor: keyDescriptor(this.kind, this.fingerprint, path, keyHex),
    };
  }
}
