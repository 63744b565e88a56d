/**
 * One descriptor wallet: its keys (`keys.ts`), its database (`store.ts`),
 * the transactions that concern it kept current from the node's chain
 * notifications, its coins, balances and locks, broadcast through the
 * node's `Chain` capability, and passphrase encryption of its keyring.
 * The keyring (the mnemonic, the keys `importdescriptors` gave, and every
 * private key derived from them) never leaves this object: the chain
 * sees signed transactions only.
 *
 * Spending (`spend.ts`) and signing (`sign.ts`) are layers above it, which
 * it does not import: they read what it exposes and drive it through the
 * few members kept for them (its queue, `publish`, `recordReplacement`,
 * `signInput`, which signs without handing a key out).
 *
 * State changes (a block, a mempool event, a send) run one at a time, in
 * order, and each is written to the database in one transaction.
 *
 * @example
 * ```ts
 * import { ChainState } from "../node/chain/mod.ts";
 * import { Mempool } from "../node/mempool/mod.ts";
 * import { nodeInit } from "../node/ipc/init.ts";
 * import { Wallet } from "./wallet.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   // A node's Chain in this process; a wallet process holds a proxy of it instead.
 *   using chain = ChainState.open(`${dir}/node`);
 *   using mempool = new Mempool(chain);
 *   using init = nodeInit({ chain, mempool, requestShutdown() {} });
 *   const wallet = await Wallet.create(`${dir}/w`, "w", init.makeChain(), {});
 *   const key = wallet.newAddress("wpkh", false);
 *   if (!("path" in key) || key.path !== "m/84h/1h/0h/0/0") throw new Error(key.descriptor);
 *   await wallet.close();
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { hex } from "@scure/base";
import { HARDENED_OFFSET } from "@scure/bip32";
import { sha256 } from "@noble/hashes/sha2.js";
import { signMessage } from "../bitcoin/message.ts";
import { leafHash, SCHNORR_AUX } from "../bitcoin/sighash.ts";
import { pkhLeaf } from "../bitcoin/tapscript.ts";
import { schnorr } from "@noble/curves/secp256k1.js";
import { Timer } from "../../component.ts";
import { Address, OutScript, p2pkh, p2sh, p2tr, p2wpkh, type Transaction } from "@scure/btc-signer";
import type {
  BlockInfo,
  Chain,
  ChainNotifications,
  MempoolRemovalReason,
} from "../../schemas/gen/ipc/chain.mp.ts";
import type { Handler } from "../../schemas/gen/ipc/handler.mp.ts";
import { decryptSecret, encryptSecret, type Resealer, type SealedSecret } from "./crypter.ts";
import {
  type DescriptorKind,
  OUTPUT_TYPE,
  privateRangedDescriptor,
  rangedDescriptor,
} from "./descriptor.ts";
import {
  Account,
  accountXpub,
  addressKey,
  chainKeyCount,
  type ChainSource,
  type DerivedKey,
  hdAccount,
  HdSecret,
  importedChain,
  type ImportedSecret,
  isSingleKey,
  isTaprootTree,
  type KeyChain,
  Keyring,
  type KeySource,
  type MultisigSource,
  type OriginKey,
  scriptsWithin,
  signingKeys,
  sourceKeyCount,
  type TreeSource,
} from "./keys.ts";
import { COINBASE_MATURITY, REGTEST } from "./network.ts";
import type { NotifierOutbox } from "../notify/outbox.ts";
import { DEFAULT_WALLET_POLICY, type WalletPolicy } from "../bitcoin/wallet_policy.ts";
import { LOCATOR_RECENT, LOCATOR_SPACING, type TxRow, WALLET_FILE, WalletStore } from "./store.ts";
import {
  displayHex,
  internalBytes,
  outpointKey,
  type ParsedTx,
  parseTx,
  type TxOut,
} from "./tx.ts";

/** Scripts derived ahead of the next unused index on each chain (Core's `-keypool`). */
export const KEYPOOL_SIZE = 100;
/** Keys per chain a refill derives before it lets other calls run (at least one script's). */
const REFILL_STEP = 50;
/** Blocks fetched per `getBlocksSince` during a rescan. */
const RESCAN_BATCH = 50;
/** The highest height a catch-up reads to: the tip, wherever it is. */
const MAX_HEIGHT = 2 ** 31 - 1;

/** Where a scan step ended: the height reached, the tip, or the chain moved under it. */
type ScanStep = number | "tip" | "moved";

/** How {@linkcode Wallet}'s block scans read blocks. */
interface BlockScan {
  /** Whether the wallet's tip follows the blocks read (a catch-up), else blocks it had processed are read again. */
  readonly advance: boolean;
  /** Whether the node's block filters are asked first. */
  readonly filters: boolean;
  /** The last height a filtered stretch after `height` may reach (none past `height`: read whole). */
  filterStop?(height: number): number;
  /** Throws to stop the scan. */
  aborted(): void;
  /** Called with each height read or passed over. */
  done(height: number): void;
}

/**
 * A catch-up to a chain of `chainHeight` blocks: the tip follows, never
 * stopped, filters first; but every block the locator keeps is read or
 * passed as a stretch's last (whose hash the filters name): each 1,024th,
 * and the recent ones, which are read whole.
 */
function follow(chainHeight: number): BlockScan {
  return {
    advance: true,
    filters: true,
    filterStop: (height) =>
      Math.min(
        (Math.floor(height / LOCATOR_SPACING) + 1) * LOCATOR_SPACING,
        chainHeight - LOCATOR_RECENT,
      ),
    aborted: () => {},
    done: () => {},
  };
}
/** Core's `walletpassphrase` cap on the timeout (about three years). */
const MAX_UNLOCK_SECONDS = 100_000_000;

/** A wallet error with a JSON-RPC code and Core's text. */
export class WalletError extends Error {
  override name = "WalletError";
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** Core's RPC error codes the wallet uses. */
export const Code = {
  MISC: -1,
  TYPE: -3,
  WALLET: -4,
  INVALID_ADDRESS_OR_KEY: -5,
  INSUFFICIENT_FUNDS: -6,
  INVALID_PARAMETER: -8,
  DESERIALIZATION: -22,
  INVALID_LABEL_NAME: -11,
  UNLOCK_NEEDED: -13,
  PASSPHRASE_INCORRECT: -14,
  WRONG_ENC_STATE: -15,
  ENCRYPTION_FAILED: -16,
  NOT_FOUND: -18,
  NOT_SPECIFIED: -19,
  ALREADY_LOADED: -35,
  ALREADY_EXISTS: -36,
  INTERNAL_ERROR: -32603,
} as const;

export const UNLOCK_NEEDED =
  "Error: Please enter the wallet passphrase with walletpassphrase first.";
export const NO_KEYS = "Error: This wallet has no available keys";
/** Core's answer to a rescan asked for while one runs (-4). */
export const RESCAN_RUNNING = "Wallet is currently rescanning. Abort existing rescan or wait.";
/** Core's answer to encrypting a wallet without private keys (-16). */
export const NOTHING_TO_ENCRYPT =
  "Error: wallet does not contain private keys, nothing to encrypt.";

/** The system's time in UNIX seconds. */
function systemTime(): number {
  return Math.floor(Date.now() / 1000);
}

/** What a wallet is opened with (the process's options). */
export interface OpenOptions {
  /** Scripts each chain watches past its next index (`-keypool`; `KEYPOOL_SIZE` by default). */
  readonly keypool?: number;
  /** Where the wallet's log lines go (Core's `WalletLogPrintf`); nowhere by default. */
  readonly log?: (line: string) => void;
  /** Where a transaction added or changed is told, for `-walletnotify`; nowhere by default. */
  readonly notifications?: NotifierOutbox;
  /** What the options say of the transactions it makes; Core's defaults when not given. */
  readonly policy?: WalletPolicy;
  /** The time, in UNIX seconds (the process's, which `setmocktime` may hold); the system's by default. */
  readonly now?: () => number;
}

/** How a wallet is created. */
export interface CreateOptions extends OpenOptions {
  /** No keys at all (`disable_private_keys`). */
  readonly disablePrivateKeys?: boolean;
  /** No descriptors (`blank`). */
  readonly blank?: boolean;
  /** Keeps track of the addresses spent from, and spends their coins apart (`avoid_reuse`). */
  readonly avoidReuse?: boolean;
  /** Encrypts the secret at once. */
  readonly passphrase?: string;
  /** A given mnemonic instead of a fresh one (tests, restores). */
  readonly mnemonic?: string;
}

/** A transaction the wallet keeps, with where it stands. */
export interface WalletTx {
  readonly tx: ParsedTx;
  readonly row: TxRow;
}

/** A coin of the wallet, with what the RPCs show of it. */
export interface WalletCoin {
  readonly txid: string;
  readonly vout: number;
  readonly amount: bigint;
  readonly script: Uint8Array;
  /** Its key; none for a script the wallet watches without knowing how to spend it. */
  readonly key?: DerivedKey;
  readonly confirmations: number;
  readonly coinbase: boolean;
  /** Counted as the wallet's own: confirmed, or spending only the wallet's coins. */
  readonly trusted: boolean;
  /**
   * Spent by default (Core's `safe`): trusted, and not from an unconfirmed
   * `bumpfee` replacement or a transaction one replaced.
   */
  readonly safe: boolean;
  /** Paid to an address spent from before, in a wallet avoiding reuse (Core's `reused`). */
  readonly reused: boolean;
}

/** An address book entry. */
export interface AddressBookEntry {
  readonly label: string;
  /** The wallet's own address (`receive`), or another's it labelled (`send`). */
  readonly purpose: "receive" | "send";
}

/** `getbalances`' `mine`: in a wallet avoiding reuse, the reused coins apart (`used`). */
export interface Balances {
  trusted: bigint;
  untrustedPending: bigint;
  immature: bigint;
  used: bigint;
}

/** A block the wallet has processed. */
export interface BlockRef {
  readonly hash: string;
  readonly height: number;
}

/** Where a watched script was derived. */
interface ScriptOrigin {
  readonly kind: DescriptorKind;
  readonly internal: boolean;
  readonly index: number;
}

/**
 * What an imported descriptor's scripts come from: a chain of addresses of
 * an extended public key (a ranged descriptor), one key, or a multisig of
 * such keys, of an address type (a multisig's `wpkh` standing for
 * `wsh()`, `sh_wpkh` for `sh(wsh())`, `pkh` for `sh()`), or a
 * `tr(KEY,TREE)`'s internal key and script tree; else the scripts
 * themselves (`addr()`, `raw()`…), which the wallet watches without
 * knowing how to spend them.
 */
export type ImportedSource =
  | ({ readonly kind: DescriptorKind } & KeySource)
  | ({ readonly kind: DescriptorKind } & MultisigSource)
  | ({ readonly kind: "tr" } & TreeSource)
  | { readonly scripts: readonly string[] };

/**
 * A descriptor the wallet imported (`importdescriptors`; its private
 * keys, if given any, in its keyring), as kept in its database: an active one, which the wallet hands out
 * addresses of, or one it only watches.
 */
export interface ImportedDescriptor {
  /** The public descriptor, checksum included. */
  readonly desc: string;
  readonly active: boolean;
  readonly internal: boolean;
  /** When its keys were made, seconds since the epoch (`listdescriptors`' `timestamp`). */
  readonly timestamp: number;
  readonly source: ImportedSource;
  /**
   * Given with its extended private key: that key as written, public
   * (`gethdkeys`); the private one is in the wallet's keyring.
   */
  readonly privateRoot?: string;
  /**
   * A watched ranged one's range: the scripts from `start` below `end`,
   * and the index shown next (an active one's live in the chain's meta).
   */
  readonly range?: { readonly start: number; readonly end: number; readonly next: number };
}

/** One descriptor to import (`Wallet.importDescriptor`'s arguments). */
interface DescriptorImport {
  readonly record: ImportedDescriptor;
  readonly range: { start: number; end: number; next: number } | null;
  readonly label: string | null;
  readonly given: string;
  readonly keys: ImportedSecret | null;
}

/** The descriptor kinds a new wallet gets, as Core's: legacy, p2sh-segwit, bech32, bech32m. */
const KINDS: readonly DescriptorKind[] = ["pkh", "sh_wpkh", "wpkh", "tr"];

/** The address of an output script, or undefined for one without an address. */
export function scriptAddress(script: Uint8Array): string | undefined {
  try {
    return Address(REGTEST).encode(OutScript.decode(script));
  } catch {
    return undefined;
  }
}

/** The chain an active import's source stands for (an active descriptor is ranged). */
function chainSource(source: ImportedSource): ChainSource & { readonly kind: DescriptorKind } {
  if ("scripts" in source || "pubkey" in source) throw new Error("an active descriptor is ranged");
  return source;
}

/** A multisig's keys, or a tree's internal key and its leaves' keys; none for another source. */
function multiKeySources(source: ImportedSource): readonly KeySource[] {
  return "keys" in source
    ? source.keys
    : "leaves" in source
    ? [source.internal, ...source.leaves.flatMap((leaf) => leaf.keys)]
    : [];
}

/**
 * The extended keys of an import's source as written, public (`gethdkeys`;
 * one written private as that key, which the wallet holds), each once.
 */
export function sourceXpubs(source: ImportedSource): { xpub: string; hasPrivate: boolean }[] {
  const keys = "xpub" in source ? [source] : multiKeySources(source);
  const written = keys.flatMap((key) =>
    "xpub" in key ? [{ xpub: key.root ?? key.xpub, hasPrivate: key.root !== undefined }] : []
  );
  // A key written twice is private when either time was.
  const byXpub = new Map<string, { xpub: string; hasPrivate: boolean }>();
  for (const key of written) {
    byXpub.set(key.xpub, {
      xpub: key.xpub,
      hasPrivate: key.hasPrivate || byXpub.get(key.xpub)?.hasPrivate === true,
    });
  }
  return [...byXpub.values()];
}

/**
 * Signs input `i` of `tx` through its taproot leaf `script` with
 * `privateKey` (BIP 342, as scure signs a leaf that writes the key), when
 * the input carries the leaf and every input its spent output; whether it
 * did.
 */
function signTapLeaf(
  tx: Transaction,
  i: number,
  script: Uint8Array,
  privateKey: Uint8Array,
  sighash: number,
): boolean {
  const leaf = tx.getInput(i).tapLeafScript?.find(([, written]) =>
    hex.encode(written.subarray(0, -1)) === hex.encode(script)
  );
  if (leaf === undefined) return false;
  const version = leaf[1][leaf[1].length - 1];
  const pubKey = schnorr.getPublicKey(privateKey);
  const hash = leafHash(script, version);
  // Signed already (by this wallet, or a signer of the same key): kept, as Core reuses it.
  const signed = tx.getInput(i).tapScriptSig?.some(([key]) =>
    hex.encode(key.pubKey) === hex.encode(pubKey) && hex.encode(key.leafHash) === hex.encode(hash)
  );
  if (signed) return true;
  const spent = [];
  for (let j = 0; j < tx.inputsLength; j++) {
    const input = tx.getInput(j);
    const output = input.witnessUtxo ?? input.nonWitnessUtxo?.outputs[input.index!];
    if (output === undefined) return false;
    spent.push(output);
  }
  let digest: Uint8Array;
  try {
    digest = tx.preimageWitnessV1(
      i,
      spent.map((output) => output.script),
      sighash,
      spent.map((output) => output.amount),
      undefined,
      script,
      version,
    );
  } catch {
    return false; // no sighash (SINGLE without its output): left unsigned, as Core leaves it
  }
  const signature = schnorr.sign(digest, privateKey, SCHNORR_AUX);
  tx.updateInput(i, {
    tapScriptSig: [[
      { pubKey, leafHash: hash },
      sighash === 0 ? signature : Uint8Array.of(...signature, sighash),
    ]],
  }, true);
  return true;
}

/** Txids in the order of Core's `std::set<Txid>`: by their bytes as stored, the reverse of the hex. */
function byStoredTxid(txids: Iterable<string>): string[] {
  const stored = (id: string) => hex.encode(internalBytes(id));
  return [...txids].sort((a, b) => stored(a) < stored(b) ? -1 : stored(a) > stored(b) ? 1 : 0);
}

/** The wallet. */
export class Wallet implements Disposable {
  readonly name: string;
  readonly dir: string;
  readonly store: WalletStore;
  /**
   * The node's `Chain` capability the wallet follows and broadcasts
   * through; spending (`spend.ts`) asks it for fee floors too.
   */
  readonly chain: Chain;
  /** What the options say of the transactions it makes (`-addresstype`, `-maxtxfee`, ...). */
  readonly policy: WalletPolicy;
  /** The time, in UNIX seconds: when a transaction is received, a key made, an unlock ends. */
  readonly now: () => number;
  readonly #accounts = new Map<DescriptorKind, Account>();
  /** The active chains `importdescriptors` gave, by {@linkcode importedKey}. */
  readonly #imported = new Map<string, ImportedDescriptor>();
  /** The descriptors imported to watch only, by descriptor. */
  readonly #watched = new Map<string, ImportedDescriptor>();
  /**
   * Their scripts (hex), kept in the database: which descriptors have each
   * (two may share one: an `addr()` and the key of its address), at which index.
   */
  readonly #watchedScripts = new Map<string, { desc: string; index: number }[]>();
  /** Each watched descriptor's key at an index (none for `addr()`, `raw()`…), made when first asked. */
  readonly #watchedKeys = new Map<string, (index: number) => DerivedKey | undefined>();
  readonly #scripts = new Map<string, ScriptOrigin>();
  /** The address book by script (hex): Core's `m_address_book`. */
  readonly #labels = new Map<string, AddressBookEntry>();
  /** Locked coins (`lockunspent`), `txid:vout`; the persistent ones are kept in the database. */
  readonly #locked = new Set<string>();
  /** Transactions `abandontransaction` marked (and their descendants), kept in the database. */
  readonly #abandoned = new Set<string>();
  /** Transactions `bumpfee` replaced, and their replacements (Core's `replaced_by_txid`), kept. */
  readonly #replacedBy = new Map<string, string>();
  /** The same, the other way round (Core's `replaces_txid`). */
  readonly #replaces = new Map<string, string>();
  readonly #txs = new Map<string, WalletTx>();
  /** The scripts spent from while avoiding reuse (hex), kept in the database. */
  readonly #spentFrom = new Set<string>();
  /** Whether it avoids reuse (the `avoid_reuse` flag), kept in the database's flags. */
  #avoidReuse = false;
  /** The wallet transactions spending each outpoint (Core's `mapTxSpends`; coinbases spend none). */
  readonly #spends = new Map<string, string[]>();
  /** The last processed block, as the store keeps it. */
  #tip: BlockRef;
  /** The rescan running: when it started, the share done, whether it was told to stop. */
  #scan: { started: number; progress: number; aborting: boolean } | null = null;
  /** Its private keys; null when locked, or when it has private keys disabled. */
  #keyring: Keyring | null = null;
  /** While an encrypted wallet is unlocked: seals its keyring again, under the same passphrase. */
  #reseal: Resealer | null = null;
  /** Changes of the keyring or its sealing, one at a time ({@linkcode #keyTurn}). */
  #keyQueue: Promise<unknown> = Promise.resolve();
  /** The master key's xpub (`gethdkeys`), kept outside the sealed secret. */
  #masterXpub: string | undefined;
  #sealed: SealedSecret | null = null;
  #unlockedUntil = 0;
  #lockTimer: Timer | undefined;
  /** Sends under way that sign ({@linkcode holdKeys}): a lock waits for them. */
  #keyHolds = 0;
  /** A lock asked for while a send held the keys, done when the last one ends. */
  #pendingLock: PromiseWithResolvers<void> | null = null;
  /** Whether the send holding the keys is signing ({@linkcode signForSend}). */
  #sendSigning = false;
  /**
   * The fee rate sends use when not given one (sat/kvB; 0: none; Core's
   * `m_pay_tx_fee`): `-paytxfee`'s at each load, until `settxfee` sets
   * another. Not kept: a reload forgets it.
   */
  payTxFee: bigint;
  #queue: Promise<unknown> = Promise.resolve();
  #handler: Handler | null = null;
  /** What the node notifies: the chain's and the mempool's changes, applied in turn. */
  #notifications: ChainNotifications | null = null;
  #seq = 0;
  #closed = false;
  readonly #keypool: number;
  /** Writes a line to the log, after the wallet's name as Core's do. */
  readonly #log: (line: string) => void;
  readonly #notify: NotifierOutbox | undefined;
  /**
   * Sends between their commit and the mempool's word of them, by txid:
   * `pending` (broadcast, neither seen), `seen` (the mempool's notification
   * came first) or `recorded` (the broadcast's answer came first), so that
   * each is told to `-walletnotify` in the mempool once.
   */
  readonly #committing = new Map<string, "pending" | "seen" | "recorded">();

  private constructor(
    dir: string,
    name: string,
    store: WalletStore,
    chain: Chain,
    {
      keypool = KEYPOOL_SIZE,
      log = () => {},
      notifications,
      policy = DEFAULT_WALLET_POLICY,
      now = systemTime,
    }: OpenOptions,
  ) {
    this.#keypool = keypool;
    this.policy = policy;
    this.payTxFee = policy.payTxFee;
    this.now = now;
    this.#notify = notifications;
    this.#log = (line) => log(`[${name}] ${line}`);
    this.dir = dir;
    this.name = name;
    this.store = store;
    this.chain = chain;
    this.#tip = store.tip();
  }

  /**
   * Creates the wallet in `dir` (which must not hold one), its birth at the
   * chain's tip, and starts following the chain.
   */
  static async create(
    dir: string,
    name: string,
    chain: Chain,
    options: CreateOptions = {},
  ): Promise<Wallet> {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const store = WalletStore.create(`${dir}/${WALLET_FILE}`);
    try {
      const tip = await chain.getTip();
      const now = (options.now ?? systemTime)();
      const secret = options.blank || options.disablePrivateKeys
        ? null
        : options.mnemonic
        ? HdSecret.fromMnemonic(options.mnemonic)
        : HdSecret.generate();
      store.atomically(() => {
        store.setMeta("name", name);
        store.setMeta("birthtime", String(now));
        store.setMeta(
          "flags",
          JSON.stringify({
            blank: options.blank === true,
            disablePrivateKeys: options.disablePrivateKeys === true,
            avoidReuse: options.avoidReuse === true,
          }),
        );
        if (tip !== undefined) store.setTip(tip.height, displayHex(tip.hash));
        if (!options.disablePrivateKeys) {
          store.setMeta(KEYRING_KEY, new Keyring(secret, []).toString());
        }
        if (secret !== null) {
          store.setMeta("fingerprint", String(secret.fingerprint));
          store.setMeta("master_xpub", secret.master.publicExtendedKey);
          for (const kind of KINDS) {
            store.setMeta(`xpub_${kind}`, accountXpub(secret.master, kind));
            for (const internal of [false, true]) store.setMeta(nextKey(kind, internal), "0");
          }
        }
      });
      const wallet = new Wallet(dir, name, store, chain, options);
      wallet.#loadKeys();
      if (options.passphrase !== undefined) await wallet.encrypt(options.passphrase);
      await wallet.#attach();
      return wallet;
    } catch (error) {
      // Nothing half made stays behind: the name is free for the next createwallet.
      store.destroy();
      throw error;
    }
  }

  /** Opens the wallet in `dir`, catches up with the chain from its last block, and follows it. */
  static async load(
    dir: string,
    name: string,
    chain: Chain,
    options: OpenOptions = {},
  ): Promise<Wallet> {
    const store = WalletStore.open(`${dir}/${WALLET_FILE}`);
    const wallet = new Wallet(dir, name, store, chain, options);
    try {
      wallet.#loadKeys();
      for (const row of store.txs()) {
        wallet.#remember(parseTx(row.raw), row);
        wallet.#seq = Math.max(wallet.#seq, row.seq + 1);
      }
      await wallet.#attach();
    } catch (error) {
      wallet[Symbol.dispose]();
      throw error;
    }
    return wallet;
  }

  #loadKeys(): void {
    const { store } = this;
    this.#avoidReuse = this.flags.avoidReuse;
    for (const script of store.usedScripts()) this.#spentFrom.add(hex.encode(script));
    const fingerprint = Number(store.meta("fingerprint") ?? 0);
    for (const kind of KINDS) {
      const xpub = store.meta(`xpub_${kind}`);
      if (xpub !== undefined) this.#accounts.set(kind, Account.fromXpub(kind, fingerprint, xpub));
      for (const internal of [false, true]) {
        const imported = store.meta(importedKey(kind, internal));
        if (imported !== undefined) this.#setChain(JSON.parse(imported));
      }
    }
    const watched = new Map<string, string>();
    for (const record of JSON.parse(store.meta(WATCHED_KEY) ?? "[]") as ImportedDescriptor[]) {
      this.#watched.set(record.desc, record);
      watched.set(watchedKind(record.desc), record.desc);
    }
    // A chain of the wallet's own made inactive is watched instead.
    for (const { kind, internal, chain } of this.#activeChains()) {
      if (this.#watched.has(chain.descriptor)) {
        this.#accounts.set(kind, this.#accounts.get(kind)!.withChain(internal, undefined));
      }
    }
    const sealed = store.meta("crypted");
    this.#sealed = sealed === undefined ? null : JSON.parse(sealed);
    const plain = store.meta(KEYRING_KEY);
    if (plain !== undefined) this.#keyring = Keyring.parse(plain);
    // A blank wallet made before the keyring was kept: an empty one.
    else if (this.#sealed === null && !this.flags.disablePrivateKeys) {
      this.#keyring = new Keyring(null, []);
    }
    this.#masterXpub = store.meta("master_xpub");
    this.#keepMasterXpub();
    for (const row of store.watchedScripts()) {
      const desc = watched.get(row.kind);
      if (desc !== undefined) this.#addWatched(hex.encode(row.script), desc, row.index);
    }
    for (const row of store.scripts()) {
      this.#scripts.set(hex.encode(row.script), {
        kind: row.kind as DescriptorKind,
        internal: row.internal,
        index: row.index,
      });
    }
    store.atomically(() => {
      this.#topUpAll(this.#keypool);
      // A wallet older than its address book: the addresses it handed out were labelled "" (in
      // the same transaction as the table, so an interrupted upgrade is done again in full).
      if (!store.hasAddressBook) {
        store.addAddressBook();
        for (const [kind, account] of this.#accounts) {
          for (let index = 0; index < this.nextIndex(kind, false); index++) {
            this.setLabel(account.derive(false, index).script, "");
          }
        }
      }
    });
    for (const { script, label, purpose } of store.labels()) {
      this.#labels.set(hex.encode(script), { label, purpose });
    }
    for (const outpoint of JSON.parse(store.meta("locked_coins") ?? "[]")) {
      this.#locked.add(outpoint);
    }
    for (const txid of JSON.parse(store.meta("abandoned_txs") ?? "[]")) this.#abandoned.add(txid);
    for (const [txid, by] of JSON.parse(store.meta("replaced_txs") ?? "[]")) {
      this.#replacedBy.set(txid, by);
      this.#replaces.set(by, txid);
    }
  }

  /**
   * Derives and watches scripts up to `size` (the keypool's) past the next
   * index, but no more than `MAX_KEYPOOL` keys' worth of them
   * ({@linkcode scriptsWithin}), the scripts of at most `limit` keys (at
   * least one script); never fewer than it already watches. Whether it
   * stopped at `limit`.
   */
  #topUp(kind: DescriptorKind, internal: boolean, size = this.#keypool, limit = Infinity): boolean {
    const account = this.#accounts.get(kind)!;
    const chain = account.chain(internal);
    if (chain === undefined) return false;
    const keys = chainKeyCount(chain);
    const wanted = this.nextIndex(kind, internal) + Math.min(size, scriptsWithin(keys));
    let derived = this.derivedCount(kind, internal);
    const end = Math.min(wanted, derived + scriptsWithin(keys, limit));
    for (; derived < end; derived++) {
      const key = account.derive(internal, derived);
      this.store.addScript({ script: key.script, kind, internal, index: derived });
      this.#scripts.set(hex.encode(key.script), { kind, internal, index: derived });
    }
    this.store.setMeta(derivedCountKey(kind, internal), String(derived));
    return derived < wanted;
  }

  /** {@linkcode #topUp} on every chain, in the caller's transaction; whether one stopped at `limit`. */
  #topUpAll(size: number, limit = Infinity): boolean {
    let more = false;
    for (const kind of this.#accounts.keys()) {
      for (const internal of [false, true]) more = this.#topUp(kind, internal, size, limit) || more;
    }
    return more;
  }

  /**
   * Core's `TopUpKeyPool` (`keypoolrefill`): every chain watches `size`
   * scripts past its next index (the keypool's size when 0), or as many
   * as it already does when that is more; -13 when locked, as Core asks.
   * Resolves to the scripts watched past the next indexes, in all (0 when
   * the wallet was unloaded meanwhile), and the most its chains may watch
   * at once (each `MAX_KEYPOOL` keys' worth, {@linkcode scriptsWithin}).
   *
   * A key takes about half a millisecond to derive, so it goes in steps,
   * each its own transaction and its own turn among the wallet's changes:
   * calls (which wait for those) and chain notifications run between
   * steps, and an unload stops it, keeping what was derived.
   */
  async refillKeypool(size: number): Promise<{ watched: number; most: number }> {
    this.ensureUnlocked();
    const step = () =>
      !this.#closed &&
      this.store.atomically(() => this.#topUpAll(size || this.#keypool, REFILL_STEP));
    while (await this.serial(step)) {
      // A macrotask between steps, or the steps (chained promises) would starve the event loop.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return await this.serial(() => ({
      watched: this.#closed ? 0 : this.keypoolSize(false) + this.keypoolSize(true),
      most: this.#activeChains().reduce(
        (sum, { chain }) => sum + scriptsWithin(chainKeyCount(chain)),
        0,
      ),
    }));
  }

  /** Puts `record`'s chain (an active import's) in its kind's account. */
  #setChain(record: ImportedDescriptor): void {
    const source = chainSource(record.source);
    const chain = importedChain(record.desc, source);
    const { kind } = source;
    const { internal } = record;
    const account = this.#accounts.get(kind) ?? new Account(kind, [undefined, undefined]);
    this.#accounts.set(kind, account.withChain(internal, chain));
    this.#imported.set(importedKey(kind, internal), record);
  }

  /**
   * Watches `record`'s scripts (a watched import's), over its range when
   * ranged: each kept in the database, its key derived when first asked.
   */
  #watch(record: ImportedDescriptor): void {
    const { desc, source } = record;
    this.#watched.set(desc, record);
    this.#watchedKeys.delete(desc);
    if ("scripts" in source) {
      source.scripts.forEach((script, index) => this.#keepWatched(hex.decode(script), desc, index));
    } else {
      const { start, end } = record.range ?? { start: 0, end: 1 };
      this.#watchIndexes(desc, start, end);
    }
  }

  /** Watches the scripts of the watched descriptor `desc` (of a key) from `start` below `end`. */
  #watchIndexes(desc: string, start: number, end: number): void {
    for (let index = start; index < end; index++) {
      this.#keepWatched(this.#watchedKey(desc, index)!.script, desc, index);
    }
  }

  /** Keeps `script` as the watched descriptor `desc`'s at `index`, in the database and here. */
  #keepWatched(script: Uint8Array, desc: string, index: number): void {
    this.store.addWatchedScript({ script, kind: watchedKind(desc), index });
    this.#addWatched(hex.encode(script), desc, index);
  }

  /**
   * Core's `MarkUnusedAddresses` and `TopUp` for a watched range: a script
   * used at or past its next index moves that index past it, and the
   * range grows to the keypool's size past it, so that the addresses after
   * it are watched too.
   */
  #advanceWatched(desc: string, index: number): void {
    const record = this.#watched.get(desc)!;
    const { range } = record;
    if (range === undefined || index < range.next) return;
    const next = index + 1;
    const end = Math.max(
      range.end,
      next + Math.min(this.#keypool, scriptsWithin(sourceKeyCount(record.source))),
    );
    this.#watchIndexes(desc, range.end, end);
    this.#watched.set(desc, { ...record, range: { ...range, next, end } });
    this.store.setMeta(WATCHED_KEY, JSON.stringify([...this.#watched.values()]));
  }

  /** Notes that the watched descriptor `desc` has `script` (hex) at `index`. */
  #addWatched(script: string, desc: string, index: number): void {
    const owners = this.#watchedScripts.get(script) ?? [];
    if (!owners.some((owner) => owner.desc === desc)) owners.push({ desc, index });
    this.#watchedScripts.set(script, owners);
  }

  /** The key of a watched script: the first of its descriptors' that knows one. */
  #watchedScriptKey(script: string): DerivedKey | undefined {
    for (const { desc, index } of this.#watchedScripts.get(script) ?? []) {
      const key = this.#watchedKey(desc, index);
      if (key !== undefined) return key;
    }
    return undefined;
  }

  /** A watched descriptor's key at `index`; undefined for one of scripts alone. */
  #watchedKey(desc: string, index: number): DerivedKey | undefined {
    let derive = this.#watchedKeys.get(desc);
    if (derive === undefined) {
      const { internal, source } = this.#watched.get(desc)!;
      if ("scripts" in source) {
        derive = () => undefined;
      } else if ("pubkey" in source) {
        const key = addressKey(source.kind, hex.decode(source.pubkey), source, internal, 0);
        derive = () => key;
      } else {
        const chain = importedChain(desc, source);
        const account = new Account(
          source.kind,
          internal ? [undefined, chain] : [chain, undefined],
        );
        derive = (i) => account.derive(internal, i);
      }
      this.#watchedKeys.set(desc, derive);
    }
    return derive(index);
  }

  /**
   * Imports `record` (`importdescriptors`), over `range` when ranged (the
   * scripts from `start` below `end`, `next` handed out next); `label`
   * names its address when not ranged. Given with private keys, `keys`
   * joins the keyring (sealed again when encrypted: -13 when locked).
   *
   * - An active one is its kind's chain of addresses: its scripts watched
   *   below `end` and a keypool past `next`.
   * - Another is watched: its scripts.
   *
   * A descriptor the wallet has already is updated, as Core's
   * `UpdateWalletDescriptor`: a new range must include the current one
   * (-4, `given` being the descriptor as the request wrote it); a watched
   * one may become active, an active one inactive (watched from then on,
   * as another active one in its place makes it), and an active one
   * keeps its side (receiving or change). The caller rescans.
   */
  importDescriptor(
    record: ImportedDescriptor,
    range: { start: number; end: number; next: number } | null,
    label: string | null,
    given: string,
    keys: ImportedSecret | null,
  ): Promise<void> {
    return this.#importTurn(() => [{ record, range, label, given, keys }]);
  }

  /**
   * Imports what `imports` gives, asked in the wallet's turn and its
   * keyring's (which an encryptwallet, a walletpassphrasechange or a
   * walletpassphrase could otherwise seal as it was before), in one
   * database transaction with `also`: all of them or none.
   */
  #importTurn(imports: () => readonly DescriptorImport[], also = () => {}): Promise<void> {
    return this.serial(() =>
      this.#keyTurn(async () => {
        const all = imports();
        const secrets = all.flatMap(({ keys }) => keys === null ? [] : [keys]);
        const keyring = secrets.length === 0
          ? null
          : secrets.reduce((ring, keys) => ring.with(keys), this.#unlocked());
        const sealed = keyring && this.#sealed && await this.#reseal!(keyring.toString());
        // Locked while sealing: the keyring must not come back.
        if (keyring !== null) this.#unlocked();
        this.store.atomically(() => {
          for (const one of all) this.#import(one);
          also();
          if (sealed) this.store.setMeta("crypted", JSON.stringify(sealed));
          else if (keyring !== null) this.store.setMeta(KEYRING_KEY, keyring.toString());
        });
        if (keyring !== null) this.#keyring = keyring;
        if (sealed) this.#sealed = sealed;
      })
    );
  }

  /** One import of {@linkcode importDescriptor}, in the caller's transaction. */
  #import({ record, range, label, given }: DescriptorImport): void {
    const running = this.#activeChains().find(({ chain }) => chain.descriptor === record.desc);
    const current = running === undefined
      ? this.#watched.get(record.desc)?.range
      : { start: 0, end: this.derivedCount(running.kind, running.internal) };
    if (current !== undefined && range !== null) {
      if (range.start > current.start || range.end < current.end) {
        throw new WalletError(
          Code.WALLET,
          `Could not add descriptor '${given}': new range must include current range = [${current.start},${
            current.end - 1
          }]`,
        );
      }
    }
    if (running !== undefined && record.active && running.internal !== record.internal) {
      const side = (internal: boolean) => internal ? "change" : "receiving";
      throw new WalletError(
        Code.WALLET,
        `${record.desc} is this wallet's active ${OUTPUT_TYPE[running.kind]} ${
          side(running.internal)
        } descriptor: making it the ${side(record.internal)} one is not supported`,
      );
    }
    // Made inactive on the side the request names, as Core's DeactivateScriptPubKeyMan: named
    // for the other side, it stays active, updated.
    const stays = running !== undefined && !record.active &&
      running.internal !== record.internal;
    if (running !== undefined && !record.active && !stays) {
      this.#deactivate(running.kind, running.internal);
    }
    if (stays) {
      this.#activate({ ...record, active: true, internal: running.internal }, range!);
    } else if (record.active) this.#activate(record, range!);
    else this.#watchImport(record, range, label);
    this.#bornBy(record.timestamp);
  }

  /** The active chains, by kind and side. */
  #activeChains(): { kind: DescriptorKind; internal: boolean; chain: KeyChain }[] {
    return [...this.#accounts].flatMap(([kind, account]) =>
      [false, true].flatMap((internal) => {
        const chain = account.chain(internal);
        return chain === undefined ? [] : [{ kind, internal, chain }];
      })
    );
  }

  /** The watched half of {@linkcode importDescriptor}. */
  #watchImport(
    record: ImportedDescriptor,
    range: { start: number; end: number; next: number } | null,
    label: string | null,
  ): void {
    this.#watch(range === null ? record : { ...record, range });
    this.store.setMeta(WATCHED_KEY, JSON.stringify([...this.#watched.values()]));
    if (range === null && !record.internal) {
      // Core labels the address of a descriptor not ranged, "" when given none.
      for (const [script, owners] of this.#watchedScripts) {
        const bytes = hex.decode(script);
        if (owners.some((o) => o.desc === record.desc) && scriptAddress(bytes) !== undefined) {
          this.setLabel(bytes, label ?? "");
        }
      }
    }
  }

  /** The active half of {@linkcode importDescriptor}. */
  #activate(record: ImportedDescriptor, range: { end: number; next: number }): void {
    const { internal, source } = record;
    const { kind } = chainSource(source);
    const current = this.#accounts.get(kind)?.chain(internal);
    if (current !== undefined && current.descriptor !== record.desc) {
      this.#deactivate(kind, internal);
    }
    if (this.#watched.delete(record.desc)) {
      // Watched until now: its scripts are the chain's from here on (its range within the new one).
      for (const [script, owners] of this.#watchedScripts) {
        const others = owners.filter((owner) => owner.desc !== record.desc);
        if (others.length > 0) this.#watchedScripts.set(script, others);
        else this.#watchedScripts.delete(script);
      }
      this.#watchedKeys.delete(record.desc);
      this.store.deleteWatchedScripts(watchedKind(record.desc));
      this.store.setMeta(WATCHED_KEY, JSON.stringify([...this.#watched.values()]));
    }
    this.store.setMeta(importedKey(kind, internal), JSON.stringify(record));
    this.#setChain(record);
    // As Core's, the next index is the one given (or the range's start), even when lower.
    this.store.setMeta(nextKey(kind, internal), String(range.next));
    this.#topUp(kind, internal, Math.max(this.#keypool, range.end - range.next));
  }

  /**
   * Core's `DeactivateScriptPubKeyMan`: the active chain of `kind` on one
   * side becomes a watched descriptor, its scripts, range and next index
   * as they were, its keys where they were (the master key's, or an
   * import's); the side is left without a chain.
   */
  #deactivate(kind: DescriptorKind, internal: boolean): void {
    const account = this.#accounts.get(kind)!;
    const chain = account.chain(internal)!;
    const imported = this.#imported.get(importedKey(kind, internal));
    const own = imported === undefined &&
      String(chain.keys[0].fingerprint) === this.store.meta("fingerprint");
    const privateRoot = imported?.privateRoot ?? (own ? this.#masterXpub : undefined);
    const record: ImportedDescriptor = {
      desc: chain.descriptor,
      active: false,
      internal,
      timestamp: this.chainTime(kind, internal),
      // Where its keys come from as the descriptor writes it (gethdkeys groups by that key).
      source: imported?.source ?? {
        kind,
        xpub: this.store.meta(`xpub_${kind}`)!,
        steps: [internal ? 1 : 0],
        fingerprint: chain.keys[0].fingerprint,
        path: chain.keys[0].path,
      },
      ...(privateRoot === undefined ? {} : { privateRoot }),
      range: {
        start: 0,
        end: this.derivedCount(kind, internal),
        next: this.nextIndex(kind, internal),
      },
    };
    this.#accounts.set(kind, account.withChain(internal, undefined));
    this.#imported.delete(importedKey(kind, internal));
    this.store.deleteMeta(importedKey(kind, internal));
    this.#watched.set(record.desc, record);
    this.#watchedKeys.delete(record.desc);
    // Its scripts, known already, move from the chain's table to the watched ones'.
    for (const [script, origin] of this.#scripts) {
      if (origin.kind !== kind || origin.internal !== internal) continue;
      this.#keepWatched(hex.decode(script), record.desc, origin.index);
      this.#scripts.delete(script);
    }
    this.store.deleteScripts(kind, internal);
    this.store.setMeta(nextKey(kind, internal), "0");
    this.store.setMeta(derivedCountKey(kind, internal), "0");
    this.store.setMeta(WATCHED_KEY, JSON.stringify([...this.#watched.values()]));
  }

  /**
   * The extended keys the active descriptors are written with (Core's
   * `GetActiveHDPubKeys`): the master key's for the wallet's own chains,
   * an import's key as written for the others.
   */
  get activeHdKeys(): string[] {
    const keys = this.#activeChains().flatMap(({ kind, internal }) => {
      const imported = this.#imported.get(importedKey(kind, internal));
      if (imported === undefined) return this.#masterXpub === undefined ? [] : [this.#masterXpub];
      return imported.privateRoot === undefined
        ? sourceXpubs(imported.source).map(({ xpub }) => xpub)
        : [imported.privateRoot];
    });
    return [...new Set(keys)];
  }

  /**
   * Core's `createwalletdescriptor`: the active descriptors of `kind` (the
   * receiving and the change one, or the side in `sides`) of the HD key
   * `xpub`, which the keyring must hold, at their BIP 44-style account
   * path, as Core's `SetupDescriptorScriptPubKeyMan` makes them (another
   * active one in their place is watched from then on). The public
   * descriptors made; -4 when the wallet has them all already.
   */
  async createDescriptors(
    kind: DescriptorKind,
    sides: readonly boolean[],
    xpub: string,
  ): Promise<string[]> {
    const made: string[] = [];
    const imports = () => {
      const xprv = this.#unlocked().extendedPrivateKey(xpub)!;
      const { fingerprint, path, xpub: account } = hdAccount(xprv, kind);
      const all = sides.flatMap((internal): DescriptorImport[] => {
        const desc = rangedDescriptor(kind, fingerprint, path, account, internal);
        const known = this.#watched.has(desc) ||
          this.#activeChains().some(({ chain }) => chain.descriptor === desc);
        if (known) return [];
        made.push(desc);
        const chainPath = `${path}/${internal ? 1 : 0}`;
        const record: ImportedDescriptor = {
          desc,
          active: true,
          internal,
          timestamp: this.now(),
          source: { kind, xpub: account, steps: [internal ? 1 : 0], fingerprint, path: chainPath },
          privateRoot: xpub,
        };
        const keys: ImportedSecret = {
          desc,
          privateDesc: privateRangedDescriptor(kind, xprv, chainPath),
          keys: [{ fingerprint, path: "m", xprv }],
        };
        const range = { start: 0, end: this.#keypool, next: 0 };
        return [{ record, range, label: null, given: desc, keys }];
      });
      if (all.length === 0) throw new WalletError(Code.WALLET, "Descriptor already exists");
      return all;
    };
    // As Core's SetupDescriptorGeneration, a blank wallet is blank no more.
    await this.#importTurn(imports, () => this.#writeFlags({ blank: false }));
    return made;
  }

  /** Moves the wallet's birth back to `time` (an import's keys older than the wallet). */
  #bornBy(time: number): void {
    if (time < this.birthtime) this.store.setMeta("birthtime", String(time));
  }

  /** The descriptors `importdescriptors` gave: the active ones, then the watched ones. */
  get importedDescriptors(): readonly ImportedDescriptor[] {
    return [...this.#imported.values(), ...this.#watched.values()];
  }

  /** When a chain's keys were made: its import's timestamp, else the wallet's birth. */
  chainTime(kind: DescriptorKind, internal: boolean): number {
    return this.#imported.get(importedKey(kind, internal))?.timestamp ?? this.birthtime;
  }

  /**
   * The descriptor `script` is one of (the public one of its chain, or an
   * import's), and when its keys were made; undefined when not the wallet's.
   */
  descriptorOf(script: Uint8Array): { desc: string; timestamp: number } | undefined {
    const key = hex.encode(script);
    const origin = this.#scripts.get(key);
    if (origin !== undefined) {
      const { kind, internal } = origin;
      const desc = this.#accounts.get(kind)!.descriptor(internal);
      return { desc, timestamp: this.chainTime(kind, internal) };
    }
    // Of the watched descriptors having it, the first that knows its key (whose key keyOf gives).
    const owners = this.#watchedScripts.get(key) ?? [];
    const owner = owners.find(({ desc, index }) => this.#watchedKey(desc, index)) ?? owners[0];
    return owner && { desc: owner.desc, timestamp: this.#watched.get(owner.desc)!.timestamp };
  }

  /** Every descriptor that has `script`: its chain's, and the watched imports' having it. */
  #descriptorsOf(script: Uint8Array): string[] {
    const key = hex.encode(script);
    const origin = this.#scripts.get(key);
    return [
      ...origin ? [this.#accounts.get(origin.kind)!.descriptor(origin.internal)] : [],
      ...(this.#watchedScripts.get(key) ?? []).map(({ desc }) => desc),
    ];
  }

  /** Scripts the keypool holds by default (`-keypool`): an import without a range watches as many. */
  get keypool(): number {
    return this.#keypool;
  }

  /**
   * Runs `change` after every change queued before it: chain notifications
   * and the calls that change the wallet (a spend among them) take turns.
   */
  serial<T>(change: () => T | Promise<T>): Promise<T> {
    const run = this.#queue.then(change);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Registers for notifications, then catches up with the chain and the mempool. */
  async #attach(): Promise<void> {
    const notifications: ChainNotifications = this.#notifications = {
      transactionAddedToMempool: (tx) => this.serial(() => this.#mempoolAdded(tx)),
      transactionRemovedFromMempool: (tx, reason) =>
        this.serial(() => this.#mempoolRemoved(tx, reason)),
      blockConnected: (block) => this.serial(() => this.#blockConnected(block)),
      blockDisconnected: (block) => this.serial(() => this.#blockDisconnected(block)),
      updatedBlockTip: () => {},
    };
    this.#handler = await this.chain.handleNotifications(notifications);
    await this.serial(() => this.#catchUp(true));
    // What is in the mempool now is the node's to say (it may have restarted without its mempool).
    await this.serial(() => this.#forgetMempool());
    await this.chain.requestMempoolTransactions(notifications);
    await this.serial(() => this.#resubmit());
    await this.chain.waitForNotifications();
  }

  /**
   * Asks the node for its mempool again and waits until it was applied:
   * what pays scripts the wallet just began to watch (`importdescriptors`).
   */
  async scanMempool(): Promise<void> {
    if (this.#notifications === null) return;
    await this.chain.requestMempoolTransactions(this.#notifications);
    await this.sync();
  }

  /** Marks every unconfirmed transaction out of the mempool until the node says otherwise. */
  #forgetMempool(): void {
    this.store.atomically(() => {
      for (const { tx, row } of this.#txs.values()) {
        if (row.inMempool) this.#record(tx, { inMempool: false }, false);
      }
    });
  }

  /**
   * Core's `ResubmitWalletTransactions` at load: offers the node every
   * unconfirmed transaction that still holds its inputs (neither abandoned
   * nor conflicted) and is not in its mempool, oldest first. A refusal
   * leaves it as it was, for `abandontransaction` to free.
   */
  async #resubmit(): Promise<void> {
    // As Core's: never with -walletbroadcast=0.
    if (!this.policy.broadcast) return;
    for (const wtx of this.transactions()) {
      if (wtx.row.blockHeight !== null || wtx.row.inMempool || !this.#holdsInputs(wtx)) continue;
      await this.chain.broadcastTransaction(wtx.tx.raw, this.policy.maxTxFee);
    }
  }

  /** The wallet's last processed block. */
  get tip(): BlockRef {
    return this.#tip;
  }

  /**
   * Core's `findCommonAncestor` of the block `hash` and the wallet's tip:
   * the height where the block's branch meets the node's active chain (at
   * most the wallet's tip), and the blocks of that branch above it, which
   * the chain left (newest first). Undefined when the node does not know
   * the block.
   */
  async commonAncestor(
    hash: string,
  ): Promise<{ height: number; detached: Uint8Array[] } | undefined> {
    let found = await this.chain.findBlock(internalBytes(hash));
    const detached: Uint8Array[] = [];
    while (found !== undefined && !found.inActiveChain) {
      detached.push(found.hash);
      found = await this.chain.findBlock(found.prevHash);
    }
    return found && { height: Math.min(found.height, this.#tip.height), detached };
  }

  /** The wallet's transactions in the blocks `hashes`, block by block (Core's `removed`). */
  async transactionsIn(hashes: readonly Uint8Array[]): Promise<WalletTx[]> {
    const found: WalletTx[] = [];
    for (const hash of hashes) {
      const block = await this.chain.getBlock(hash);
      if (block === undefined) {
        throw new WalletError(Code.INTERNAL_ERROR, "Can't read block from disk");
      }
      for (const raw of block.transactions) {
        const wtx = this.#txs.get(parseTx(raw).txid);
        if (wtx !== undefined) found.push(wtx);
      }
    }
    return found;
  }

  /** Hash of the block at `height` of the wallet's chain, at most its tip's. */
  async blockHashAt(height: number): Promise<string> {
    return this.store.blockAt(height) ?? displayHex(await this.chain.getBlockHash(height));
  }

  /** Epoch seconds of the wallet's creation. */
  get birthtime(): number {
    return Number(this.store.meta("birthtime") ?? 0);
  }

  get flags(): { blank: boolean; disablePrivateKeys: boolean; avoidReuse: boolean } {
    const flags = JSON.parse(this.store.meta("flags") ?? "{}");
    return {
      blank: flags.blank === true,
      disablePrivateKeys: flags.disablePrivateKeys === true,
      avoidReuse: flags.avoidReuse === true,
    };
  }

  /**
   * Sets or clears the `avoid_reuse` flag (`setwalletflag`). Set, the
   * wallet marks the addresses its transactions spend from from then on.
   */
  setAvoidReuse(value: boolean): void {
    this.#writeFlags({ avoidReuse: value });
    this.#avoidReuse = value;
  }

  /** Changes the wallet's flags (kept in the database) as `change` says. */
  #writeFlags(change: Partial<Wallet["flags"]>): void {
    this.store.setMeta("flags", JSON.stringify({ ...this.flags, ...change }));
  }

  get encrypted(): boolean {
    return this.#sealed !== null;
  }

  /** Epoch seconds until which it is unlocked; 0 when locked (or not encrypted). */
  get unlockedUntil(): number {
    return this.#usableKeyring === null ? 0 : this.#unlockedUntil;
  }

  /** Whether an account hands out addresses of the external or change chain (Core's `CanGetAddresses`). */
  canGetAddresses(internal: boolean): boolean {
    return [...this.#accounts.values()].some((account) => account.chain(internal) !== undefined);
  }

  get accounts(): ReadonlyMap<DescriptorKind, Account> {
    return this.#accounts;
  }

  /** Next unused index of a chain. */
  nextIndex(kind: DescriptorKind, internal: boolean): number {
    return Number(this.store.meta(nextKey(kind, internal)) ?? 0);
  }

  /** Scripts a chain watches: indexes below it are derived (`listdescriptors`' range). */
  derivedCount(kind: DescriptorKind, internal: boolean): number {
    return Number(this.store.meta(derivedCountKey(kind, internal)) ?? 0);
  }

  /** Scripts watched beyond the next index (`keypoolsize`). */
  keypoolSize(internal: boolean): number {
    let size = 0;
    for (const [kind, account] of this.#accounts) {
      if (account.chain(internal) === undefined) continue;
      size += this.derivedCount(kind, internal) - this.nextIndex(kind, internal);
    }
    return size;
  }

  /**
   * Hands out the next address of `kind`'s external chain, entered in the
   * address book with `label`, or of its change chain (never entered). As
   * Core's, it tops the pool up first, so handing one out leaves one fewer.
   */
  newAddress(kind: DescriptorKind, internal: boolean, label = ""): DerivedKey {
    const account = this.#accounts.get(kind);
    if (account?.chain(internal) === undefined) throw new WalletError(Code.WALLET, NO_KEYS);
    return this.store.atomically(() => {
      this.#topUp(kind, internal);
      const index = this.nextIndex(kind, internal);
      this.store.setMeta(nextKey(kind, internal), String(index + 1));
      const key = account.derive(internal, index);
      if (!internal) this.setLabel(key.script, label);
      return key;
    });
  }

  /**
   * Whether an output paying `script` is change: the wallet's own and not in
   * its address book (Core's `ScriptIsChange`; a labelled change address is
   * no longer change).
   */
  isChange(script: Uint8Array): boolean {
    return this.isMine(script) && this.addressBookEntry(script) === undefined;
  }

  /** `script`'s address book entry, if it has one. */
  addressBookEntry(script: Uint8Array): AddressBookEntry | undefined {
    return this.#labels.get(hex.encode(script));
  }

  /** Labels `script` (`setlabel`): the wallet's own a receive entry, another's a send entry. */
  setLabel(script: Uint8Array, label: string): void {
    const purpose = this.isMine(script) ? "receive" : "send";
    this.store.putLabel({ script, label, purpose });
    this.#labels.set(hex.encode(script), { label, purpose });
  }

  /** The address book: entries by script (hex). */
  get addressBook(): ReadonlyMap<string, AddressBookEntry> {
    return this.#labels;
  }

  /**
   * The key that derives `script`, when the wallet watches it and knows
   * its key (not for the scripts of an imported `addr()` or `raw()`).
   */
  keyOf(script: Uint8Array): DerivedKey | undefined {
    const hexScript = hex.encode(script);
    const origin = this.#scripts.get(hexScript);
    if (origin === undefined) return this.#watchedScriptKey(hexScript);
    return this.#accounts.get(origin.kind)!.derive(origin.internal, origin.index);
  }

  /** Whether the wallet watches `script`: its chains' and its imports'. */
  isMine(script: Uint8Array): boolean {
    const hexScript = hex.encode(script);
    return this.#scripts.has(hexScript) || this.#watchedScripts.has(hexScript);
  }

  /** Every transaction, in the order the wallet first saw them. */
  transactions(): WalletTx[] {
    return [...this.#txs.values()].sort((a, b) => a.row.seq - b.row.seq);
  }

  transaction(txid: string): WalletTx | undefined {
    return this.#txs.get(txid);
  }

  /** Confirmations of `row`: 0 in the mempool, -1 neither confirmed nor in the mempool. */
  confirmations(row: TxRow): number {
    if (row.blockHeight !== null) return this.#tip.height - row.blockHeight + 1;
    return row.inMempool ? 0 : -1;
  }

  /** Whether `row` counts: confirmed, or in the mempool. */
  #active(row: TxRow): boolean {
    return row.blockHeight !== null || row.inMempool;
  }

  /** What an input spends, when it is one of the wallet's outputs. */
  ownOutput(txid: string, vout: number): TxOut | undefined {
    const output = this.#txs.get(txid)?.tx.outputs[vout];
    return output !== undefined && this.isMine(output.script) ? output : undefined;
  }

  /** The amount `tx` takes from the wallet's coins. */
  debit(tx: ParsedTx): bigint {
    let sum = 0n;
    for (const input of tx.inputs) sum += this.ownOutput(input.txid, input.vout)?.amount ?? 0n;
    return sum;
  }

  /** Whether every input of `tx` spends a coin of the wallet. */
  allFromMe(tx: ParsedTx): boolean {
    return !tx.coinbase && tx.inputs.every((i) => this.ownOutput(i.txid, i.vout) !== undefined);
  }

  /**
   * Outpoints (`txid:vout`) the wallet's transactions hold spent (Core's
   * `IsSpent`): those of transactions confirmed or in the mempool, and of
   * those out of the mempool (evicted, expired, a node restarted without
   * its mempool) unless abandoned or conflicted by one that is confirmed or
   * in the mempool.
   */
  spent(): Set<string> {
    const spent = new Set<string>();
    for (const wtx of this.#txs.values()) {
      if (!this.#holdsInputs(wtx)) continue;
      for (const input of wtx.tx.inputs) spent.add(outpointKey(input));
    }
    return spent;
  }

  /** Whether `wtx` holds its inputs spent: see {@linkcode spent}. */
  #holdsInputs(wtx: WalletTx): boolean {
    if (wtx.tx.coinbase) return false;
    if (this.#active(wtx.row)) return true;
    return !this.#abandoned.has(wtx.tx.txid) && !this.#conflicted(wtx, (row) => this.#active(row));
  }

  /** Whether `outpoint` is locked. */
  isLocked(outpoint: string): boolean {
    return this.#locked.has(outpoint);
  }

  /** The locked coins, `txid:vout`. */
  get locked(): readonly string[] {
    return [...this.#locked];
  }

  /**
   * Core's `GetTxConflicts`: the other wallet transactions spending an
   * outpoint `txid` spends, whatever their state, in Core's order (by the
   * txid's bytes as stored, the reverse of the hex shown).
   */
  conflicts(txid: string): string[] {
    const wtx = this.#txs.get(txid);
    if (wtx === undefined) return [];
    const found = new Set<string>();
    for (const input of wtx.tx.inputs) {
      for (const spender of this.#spends.get(outpointKey(input)) ?? []) {
        if (spender !== txid) found.add(spender);
      }
    }
    return byStoredTxid(found);
  }

  /**
   * Core's `mempool_conflicts`: the wallet's transactions in the mempool
   * that spend an outpoint `txid` spends, or one of its unconfirmed
   * ancestors in the wallet (Core marks the conflict on each descendant of
   * the transaction conflicted), in Core's order.
   */
  mempoolConflicts(txid: string): string[] {
    const found = new Set<string>();
    const seen = new Set<string>([txid]);
    for (const id of seen) {
      for (const input of this.#txs.get(id)?.tx.inputs ?? []) {
        for (const spender of this.#spends.get(outpointKey(input)) ?? []) {
          if (spender !== id && this.#txs.get(spender)!.row.inMempool) found.add(spender);
        }
        const parent = this.#txs.get(input.txid);
        if (parent !== undefined && parent.row.blockHeight === null) seen.add(input.txid);
      }
    }
    return byStoredTxid(found);
  }

  /** The transaction `bumpfee` replaced `txid` with (Core's `replaced_by_txid`). */
  replacedBy(txid: string): string | undefined {
    return this.#replacedBy.get(txid);
  }

  /** The transaction `txid` was made by `bumpfee` to replace (Core's `replaces_txid`). */
  replaces(txid: string): string | undefined {
    return this.#replaces.get(txid);
  }

  /** Records that `bumpfee` replaced `txid` with `by` (both ways, kept in the database). */
  recordReplacement(txid: string, by: string): void {
    this.#replacedBy.set(txid, by);
    this.#replaces.set(by, txid);
    this.store.atomically(() =>
      this.store.setMeta("replaced_txs", JSON.stringify([...this.#replacedBy]))
    );
  }

  /** Whether `abandontransaction` marked `txid` (or an ancestor of it), and nothing brought it back since. */
  isAbandoned(txid: string): boolean {
    return this.#abandoned.has(txid);
  }

  /**
   * Core's `AbandonTransaction`: marks `txid`, neither confirmed nor in the
   * mempool nor conflicted by a confirmed spend of one of its inputs, and
   * every unconfirmed wallet transaction spending its outputs, as
   * abandoned, which frees the inputs they held. Returning to the mempool
   * or a block unmarks one.
   */
  abandon(txid: string): void {
    const wtx = this.#txs.get(txid);
    if (wtx === undefined) {
      throw new WalletError(Code.INVALID_ADDRESS_OR_KEY, "Invalid or non-wallet transaction id");
    }
    if (this.#active(wtx.row) || this.#conflicted(wtx)) {
      throw new WalletError(
        Code.INVALID_ADDRESS_OR_KEY,
        "Transaction not eligible for abandonment",
      );
    }
    const marked = new Set<string>([txid]);
    for (const current of marked) {
      for (const { tx, row } of this.#txs.values()) {
        if (row.blockHeight !== null || marked.has(tx.txid)) continue;
        if (tx.inputs.some((input) => input.txid === current)) marked.add(tx.txid);
      }
    }
    for (const id of marked) this.#abandoned.add(id);
    this.store.atomically(() => this.#saveAbandoned());
  }

  /**
   * Core's conflicted states: whether another wallet transaction that
   * `counts` (confirmed, by default: a block conflict) spends an input of
   * `wtx`, or of one of its unconfirmed ancestors in the wallet (Core marks
   * the descendants of a conflicted transaction conflicted too).
   */
  #conflicted(
    { tx }: WalletTx,
    counts: (row: TxRow) => boolean = (row) => row.blockHeight !== null,
    seen = new Set<string>([tx.txid]),
  ): boolean {
    for (const input of tx.inputs) {
      for (const spender of this.#spends.get(outpointKey(input)) ?? []) {
        if (spender !== tx.txid && counts(this.#txs.get(spender)!.row)) return true;
      }
      const parent = this.#txs.get(input.txid);
      if (parent === undefined || parent.row.blockHeight !== null || seen.has(input.txid)) continue;
      seen.add(input.txid);
      if (this.#conflicted(parent, counts, seen)) return true;
    }
    return false;
  }

  /**
   * Whether a confirmed wallet transaction spends an input of `txid`, or of
   * one of its unconfirmed ancestors in the wallet (Core's conflicted state).
   */
  isConflicted(txid: string): boolean {
    const wtx = this.#txs.get(txid);
    return wtx !== undefined && this.#conflicted(wtx);
  }

  #saveAbandoned(): void {
    this.store.setMeta("abandoned_txs", JSON.stringify([...this.#abandoned]));
  }

  /** Locks `outpoints` (in the database too when `persistent`), or unlocks them (both kinds). */
  setLocked(outpoints: readonly string[], lock: boolean, persistent: boolean): void {
    const kept = new Set<string>(JSON.parse(this.store.meta("locked_coins") ?? "[]"));
    for (const outpoint of outpoints) {
      if (lock) this.#locked.add(outpoint);
      else this.#locked.delete(outpoint);
      if (lock && persistent) kept.add(outpoint);
      if (!lock) kept.delete(outpoint);
    }
    this.store.atomically(() => this.store.setMeta("locked_coins", JSON.stringify([...kept])));
  }

  /**
   * What transactions with at least `minDepth` confirmations paid to
   * `scripts` (hex), immature coinbases only with `immature` (Core's
   * `GetReceived`).
   */
  received(scripts: ReadonlySet<string>, minDepth: number, immature: boolean): bigint {
    let amount = 0n;
    for (const { tx, row } of this.#txs.values()) {
      const depth = this.confirmations(row);
      if (depth < minDepth || (tx.coinbase && depth < 1)) continue;
      if (!immature && this.immature({ coinbase: tx.coinbase, confirmations: depth })) continue;
      for (const output of tx.outputs) {
        if (scripts.has(hex.encode(output.script))) amount += output.amount;
      }
    }
    return amount;
  }

  /** Unspent coins of the wallet (immature ones too; see `trusted`). */
  coins(): WalletCoin[] {
    const spent = this.spent();
    const coins: WalletCoin[] = [];
    for (const { tx, row } of this.transactions()) {
      if (!this.#active(row)) continue;
      const confirmations = this.confirmations(row);
      const trusted = confirmations > 0 || this.allFromMe(tx);
      const safe = trusted &&
        !(confirmations === 0 && (this.#replacedBy.has(tx.txid) || this.replaces(tx.txid)));
      tx.outputs.forEach((output, vout) => {
        if (spent.has(`${tx.txid}:${vout}`) || !this.isMine(output.script)) return;
        const key = this.keyOf(output.script);
        coins.push({
          txid: tx.txid,
          vout,
          amount: output.amount,
          script: output.script,
          key,
          confirmations,
          coinbase: tx.coinbase,
          trusted,
          safe,
          reused: this.#avoidReuse && this.#spentFrom.has(hex.encode(output.script)),
        });
      });
    }
    return coins;
  }

  /** Whether `coin` is a coinbase output short of maturity. */
  immature(coin: { coinbase: boolean; confirmations: number }): boolean {
    return coin.coinbase && coin.confirmations < COINBASE_MATURITY + 1;
  }

  balances(): Balances {
    const balances: Balances = { trusted: 0n, untrustedPending: 0n, immature: 0n, used: 0n };
    for (const coin of this.coins()) {
      if (this.immature(coin)) balances.immature += coin.amount;
      else if (coin.reused) balances.used += coin.amount;
      else if (coin.trusted) balances.trusted += coin.amount;
      else balances.untrustedPending += coin.amount;
    }
    return balances;
  }

  // --- following the chain ---

  /** Whether `tx` pays the wallet or spends one of its coins. */
  #relevant(tx: ParsedTx): boolean {
    return tx.outputs.some((o) => this.isMine(o.script)) ||
      tx.inputs.some((i) => this.ownOutput(i.txid, i.vout) !== undefined);
  }

  /**
   * Core's `MarkUnusedAddresses`: an output to a script at or past its
   * chain's next index (a restored backup, an address derived elsewhere)
   * moves that index past it, so it is never handed out again, and the
   * pool tops up behind it. The external addresses passed over enter the
   * address book with the label "" when not in it, as Core enters them:
   * they are received to, not change. A watched range moves its own
   * next index ({@linkcode #advanceWatched}).
   */
  #markUsed(tx: ParsedTx): void {
    for (const { script } of tx.outputs) {
      for (const { desc, index } of this.#watchedScripts.get(hex.encode(script)) ?? []) {
        this.#advanceWatched(desc, index);
      }
      const origin = this.#scripts.get(hex.encode(script));
      if (origin === undefined) continue;
      const { kind, internal, index } = origin;
      const next = this.nextIndex(kind, internal);
      if (index < next) continue;
      const account = this.#accounts.get(kind)!;
      for (let skipped = next; skipped <= index && !internal; skipped++) {
        const key = account.derive(false, skipped);
        if (this.addressBookEntry(key.script) === undefined) this.setLabel(key.script, "");
      }
      this.store.setMeta(nextKey(kind, internal), String(index + 1));
      this.#topUp(kind, internal);
    }
  }

  /** Holds `tx` in memory, indexing its inputs' outpoints the first time (Core's `AddToSpends`). */
  #remember(tx: ParsedTx, row: TxRow): void {
    // A coinbase spends nothing (all of them name the same null outpoint).
    if (!this.#txs.has(tx.txid) && !tx.coinbase) {
      for (const input of tx.inputs) {
        const key = outpointKey(input);
        const spenders = this.#spends.get(key);
        if (spenders === undefined) this.#spends.set(key, [tx.txid]);
        else spenders.push(tx.txid);
      }
    }
    this.#txs.set(tx.txid, { tx, row });
  }

  /**
   * Adds or updates `tx` (already known to be relevant or known), Core's
   * `AddToWallet`; `notify`: told to `-walletnotify` as Core's is, each
   * time (an update changing nothing too), with its block or none.
   */
  #record(tx: ParsedTx, update: Partial<TxRow>, notify = true): void {
    const known = this.#txs.get(tx.txid);
    const row: TxRow = {
      txid: tx.txid,
      seq: known?.row.seq ?? this.#seq++,
      raw: tx.raw,
      blockHash: null,
      blockHeight: null,
      blockIndex: null,
      blockTime: null,
      time: this.now(),
      inMempool: false,
      fee: null,
      ...known?.row,
      ...update,
    };
    if (row.fee === null && this.allFromMe(tx)) {
      row.fee = this.debit(tx) - tx.outputs.reduce((sum, o) => sum + o.amount, 0n);
    }
    this.store.putTx(row);
    if (notify) {
      this.#notify?.walletTransaction(
        this.name,
        internalBytes(tx.txid),
        row.blockHash === null ? null : internalBytes(row.blockHash),
        row.blockHeight ?? -1,
      );
    }
    this.#remember(tx, row);
    this.#markUsed(tx);
    if (this.#avoidReuse) this.#markSpentFrom(tx);
    // Seen again in the mempool or a block: no longer abandoned (Core's states are not permanent).
    if (this.#active(row) && this.#abandoned.delete(tx.txid)) this.#saveAbandoned();
  }

  /**
   * Core's `SetSpentKeyState`: the wallet's addresses `tx` spends coins of
   * are marked spent from (a script without an address never is).
   */
  #markSpentFrom(tx: ParsedTx): void {
    for (const input of tx.inputs) {
      const script = this.ownOutput(input.txid, input.vout)?.script;
      if (script === undefined || scriptAddress(script) === undefined) continue;
      const key = hex.encode(script);
      if (this.#spentFrom.has(key)) continue;
      this.store.addUsedScript(script);
      this.#spentFrom.add(key);
    }
  }

  #mempoolAdded(raw: Uint8Array): void {
    const tx = parseTx(raw);
    const known = this.#txs.get(tx.txid);
    if (known === undefined && !this.#relevant(tx)) return;
    if (known?.row.blockHeight != null) return;
    // A send is told twice, as Core tells it: committed, then in the mempool, whichever of
    // `publish` and this notification records the latter.
    const committed = this.#committing.get(tx.txid);
    if (committed === "pending") this.#committing.set(tx.txid, "seen");
    else if (committed === "recorded") this.#committing.delete(tx.txid);
    this.store.atomically(() => this.#record(tx, { inMempool: true }, committed !== "recorded"));
  }

  #mempoolRemoved(raw: Uint8Array, reason: MempoolRemovalReason): void {
    // A block's removals are followed by the block, which confirms the transaction.
    if (reason === "block") return;
    const tx = parseTx(raw);
    const known = this.#txs.get(tx.txid);
    if (known === undefined) return;
    this.#committing.delete(tx.txid);
    // Core tells -walletnotify of those a block's conflict removed (known ones, in the mempool
    // or not), and of no other removal.
    const conflict = reason === "conflict";
    if (!known.row.inMempool && !conflict) return;
    this.store.atomically(() => this.#record(tx, { inMempool: false }, conflict));
  }

  /** Applies a block's transactions; `advance` also moves the wallet's tip to it. */
  #applyBlock(block: BlockInfo, advance: boolean): void {
    const hash = displayHex(block.hash);
    this.store.atomically(() => {
      block.transactions.forEach((raw, index) => {
        const tx = parseTx(raw);
        if (!this.#txs.has(tx.txid) && !this.#relevant(tx)) return;
        this.#record(tx, {
          blockHash: hash,
          blockHeight: block.height,
          blockIndex: index,
          blockTime: block.time,
          inMempool: false,
        });
      });
      if (advance) this.#setTip(block.height, hash);
    });
  }

  /** Makes the block `hash` at `height` the last processed one (-1: none). */
  #setTip(height: number, hash: string): void {
    this.store.setTip(height, hash);
    this.#tip = { hash, height };
  }

  async #blockConnected(block: BlockInfo): Promise<void> {
    // Not above the tip: seen during a catch-up (a reorganisation's disconnections come first).
    if (block.height <= this.#tip.height) return;
    if (displayHex(block.prevHash) !== this.#tip.hash) {
      await this.#catchUp(); // a gap: this block comes with the rest
      return;
    }
    this.#applyBlock(block, true);
  }

  #blockDisconnected(block: BlockInfo): void {
    const hash = displayHex(block.hash);
    if (this.store.blockAt(block.height) !== hash) return;
    this.#unwindTo(block.height - 1, displayHex(block.prevHash));
  }

  /**
   * Forgets the blocks above `height` (their transactions become
   * unconfirmed); `notify`: told to `-walletnotify`, as a disconnected
   * block's are (not a catch-up's, as Core's load is silent).
   */
  #unwindTo(height: number, hash: string, notify = true): void {
    this.store.atomically(() => {
      for (const { tx, row } of this.#txs.values()) {
        if (row.blockHeight !== null && row.blockHeight > height) {
          this.#record(tx, {
            blockHash: null,
            blockHeight: null,
            blockIndex: null,
            blockTime: null,
          }, notify);
        }
      }
      this.#setTip(height, hash);
    });
  }

  /**
   * Catches up with the node's active chain from where the wallet's view
   * forks from it, through the node's block filters where it keeps them,
   * as Core's `AttachChain` rescans; from the fork again when the chain
   * moves under the catch-up. `logged`: with Core's log lines (at load).
   */
  async #catchUp(logged = false): Promise<void> {
    const started = Date.now();
    let announced = false;
    let step: ScanStep;
    do {
      const locator = this.store.locator();
      const fork = locator.length === 0
        ? undefined
        : await this.chain.findLocatorFork(locator.map(({ hash }) => internalBytes(hash)));
      if ((fork ?? -1) < this.#tip.height) {
        const at = locator.find(({ height }) => height === fork);
        // At load silent, as Core's; a gap met while attached stands for the disconnections missed.
        this.#unwindTo(at?.height ?? -1, at?.hash ?? "", !logged);
      }
      const height = this.#tip.height;
      const chainHeight = await this.chain.getHeight() ?? height;
      if (logged && !announced && chainHeight > height) {
        // Core's words, once: from the fork (read from the block after it), or from genesis when
        // the wallet's view and the node's share no block.
        const from = Math.max(height, 0);
        this.#log(`Rescanning last ${chainHeight - from} blocks (from block ${from})...`);
        await this.#logScanStart(from);
        announced = true;
      }
      step = await this.#scanBlocks(height, MAX_HEIGHT, follow(chainHeight));
    } while (step === "moved");
    if (announced) this.#logScanEnd(started);
  }

  /**
   * Core's first line of a scan from `start`, saying whether the node's
   * block filters will serve it; whether they will.
   */
  async #logScanStart(start: number): Promise<boolean> {
    // An empty range asks only whether the node keeps filters.
    const filters = await this.chain.blockFilterMatches(start, start - 1, []) !== undefined;
    const from = displayHex(await this.chain.getBlockHash(start));
    this.#log(
      `Rescan started from block ${from}... (${
        filters ? "fast variant using block filters" : "slow variant inspecting all blocks"
      })`,
    );
    return filters;
  }

  /** Core's last line of a scan `started` then (epoch milliseconds). */
  #logScanEnd(started: number): void {
    this.#log(`Rescan completed in ${String(Date.now() - started).padStart(15)}ms`);
  }

  /**
   * Scans the active chain's blocks `start`..`stop` for the wallet's
   * transactions, reading only the blocks the node's block filters point to
   * when it keeps them (`-blockfilterindex`), every block otherwise, as
   * Core's `ScanForWalletTransactions`. One rescan at a time, as Core's `WalletRescanReserver`
   * (-4 for a second); {@linkcode abortRescan} stops it before its next
   * block (-1 `Rescan aborted.`), what it found so far kept.
   */
  async rescan(start: number, stop: number): Promise<void> {
    if (this.#scan !== null) throw new WalletError(Code.WALLET, RESCAN_RUNNING);
    const scan = this.#scan = { started: Date.now(), progress: 0, aborting: false };
    let at = start;
    try {
      await this.serial(async () => {
        await this.#scanBlocks(start - 1, stop, {
          advance: false,
          filters: await this.#logScanStart(start),
          aborted: () => {
            if (!scan.aborting) return;
            this.#log(`Rescan aborted at block ${at}. Progress=${scan.progress.toFixed(6)}`);
            throw new WalletError(Code.MISC, "Rescan aborted.");
          },
          done: (height) => {
            at = height;
            scan.progress = (height - start + 1) / (stop - start + 1);
          },
        });
        this.#logScanEnd(scan.started);
      });
    } finally {
      this.#scan = null;
    }
  }

  /**
   * Reads the active chain's blocks after `height` up to `stop`: through
   * the node's block filters while it has them for the blocks asked (and
   * `scan.filters`), every block otherwise. Ends at `stop` or the tip, or
   * "moved" when, following the chain (`scan.advance`), what it reads no
   * longer extends the wallet's tip.
   */
  async #scanBlocks(height: number, stop: number, scan: BlockScan): Promise<ScanStep> {
    let reached: ScanStep = height;
    while (typeof reached === "number" && reached < stop) {
      scan.aborted();
      const filterStop = Math.min(stop, scan.filterStop?.(reached) ?? stop);
      const filtered: ScanStep | undefined = scan.filters && filterStop > reached
        ? await this.#scanFiltered(reached, filterStop, scan)
        : undefined;
      reached = filtered ?? await this.#scanBatch(reached, stop, scan);
    }
    return reached;
  }

  /**
   * Core's fast rescan: the node's block filters say which blocks after
   * `height` (up to `stop`) may hold the wallet's scripts, and only those
   * are read. A block that adds scripts (the pool topped up past a used
   * address) ends the stretch, as the filters were asked about the scripts
   * before it. Undefined when the node has no filters for the blocks.
   */
  async #scanFiltered(
    height: number,
    stop: number,
    scan: BlockScan,
  ): Promise<ScanStep | undefined> {
    const scripts = [...this.#scripts.keys(), ...this.#watchedScripts.keys()];
    const matches = await this.chain.blockFilterMatches(height + 1, stop, scripts.map(hex.decode));
    if (matches === undefined) return undefined;
    if (scan.advance && !this.#extendsTip(height + 1, matches.previousHash)) return "moved";
    if (matches.lastHeight <= height) return "tip";
    for (const [i, matched] of matches.heights.entries()) {
      scan.aborted();
      // By hash: the blocks of the chain the filters were read on, which the tip below follows.
      const block = await this.chain.getBlock(matches.hashes[i]);
      if (block === undefined) return "tip"; // a block the node no longer has
      this.#applyBlock(block, scan.advance);
      scan.done(matched);
      if (this.#scripts.size + this.#watchedScripts.size !== scripts.length) return matched;
    }
    if (scan.advance) {
      this.store.atomically(() => this.#setTip(matches.lastHeight, displayHex(matches.lastHash)));
    }
    scan.done(matches.lastHeight);
    return matches.lastHeight;
  }

  /** Reads the blocks after `height` (up to `stop`), a batch of them. */
  async #scanBatch(height: number, stop: number, scan: BlockScan): Promise<ScanStep> {
    const blocks = await this.chain.getBlocksSince(height, Math.min(RESCAN_BATCH, stop - height));
    if (blocks.length === 0) return "tip";
    for (const block of blocks) {
      scan.aborted();
      if (scan.advance && !this.#extendsTip(block.height, block.prevHash)) return "moved";
      this.#applyBlock(block, scan.advance);
      scan.done(block.height);
    }
    return blocks.at(-1)!.height;
  }

  /** Whether a block at `height` whose parent is `prevHash` comes right after the wallet's tip. */
  #extendsTip(height: number, prevHash: Uint8Array): boolean {
    if (height !== this.#tip.height + 1) return false;
    return height === 0 || displayHex(prevHash) === this.#tip.hash;
  }

  /**
   * The rescan running (`getwalletinfo`'s `scanning`): whole seconds since
   * it started and the share of its blocks done; false when none runs.
   */
  get scanning(): { duration: number; progress: number } | false {
    const scan = this.#scan;
    if (scan === null) return false;
    return { duration: Math.floor((Date.now() - scan.started) / 1000), progress: scan.progress };
  }

  /** Core's `abortrescan`: true when a rescan runs and was not already told to stop. */
  abortRescan(): boolean {
    if (this.#scan === null || this.#scan.aborting) return false;
    this.#scan.aborting = true;
    return true;
  }

  /**
   * Core's `importprunedfunds`: adds `raw`, confirmed at `index` of block
   * `blockHash`, which must be in the wallet's chain (-5), the transaction
   * shown by its proof (`index` not null, -5) and paying the wallet (-5).
   */
  importPruned(raw: Uint8Array, blockHash: string, index: number | null): Promise<void> {
    return this.serial(async () => {
      const refused = (message: string) => new WalletError(Code.INVALID_ADDRESS_OR_KEY, message);
      // Core's findAncestorByHash from the wallet's last block: the wallet follows the active
      // chain, so a block of it at or below the wallet's height (not only blocks it saw itself).
      const block = await this.chain.findBlock(internalBytes(blockHash));
      if (
        block === undefined || !block.inActiveChain || block.height > this.#tip.height ||
        (this.store.blockAt(block.height) ?? blockHash) !== blockHash
      ) throw refused("Block not found in chain");
      if (index === null) throw refused("Transaction given doesn't exist in proof");
      const tx = parseTx(raw);
      if (!tx.outputs.some((output) => this.isMine(output.script))) {
        throw refused("No addresses in wallet correspond to included transaction");
      }
      this.store.atomically(() =>
        this.#record(tx, {
          blockHash,
          blockHeight: block.height,
          blockIndex: index,
          blockTime: block.time,
          inMempool: false,
        })
      );
    });
  }

  /**
   * Core's `removeprunedfunds` (`RemoveTxs`): forgets transaction `txid`
   * (-4 when the wallet has none), as if it had never been seen.
   */
  removeTransaction(txid: string): Promise<void> {
    return this.serial(() => {
      const wtx = this.#txs.get(txid);
      if (wtx === undefined) {
        throw new WalletError(Code.WALLET, `Transaction ${txid} does not belong to this wallet`);
      }
      this.#txs.delete(txid);
      for (const input of wtx.tx.coinbase ? [] : wtx.tx.inputs) {
        const key = outpointKey(input);
        const spenders = this.#spends.get(key)?.filter((id) => id !== txid) ?? [];
        if (spenders.length === 0) this.#spends.delete(key);
        else this.#spends.set(key, spenders);
      }
      // Its own records only: the transaction it replaced still tells what replaced it, as in
      // Core, where that is kept in the other transaction's own entry.
      this.#replacedBy.delete(txid);
      this.#replaces.delete(txid);
      this.#abandoned.delete(txid);
      this.store.atomically(() => {
        this.store.deleteTx(txid);
        this.store.setMeta("replaced_txs", JSON.stringify([...this.#replacedBy]));
        this.#saveAbandoned();
      });
    });
  }

  /** Waits until every notification the node sent so far has been applied. */
  async sync(): Promise<void> {
    await this.chain.waitForNotifications();
    await this.serial(() => {});
  }

  /**
   * Core's `CommitTransaction`, in a turn of {@linkcode serial}: records
   * the signed transaction `raw`, then offers it to the node's mempool. One
   * the mempool refuses (a locktime still in the future, say) stays in the
   * wallet, holding its inputs, to be offered again when the wallet loads:
   * as Core's, the send succeeds all the same. With `-walletbroadcast=0`
   * it is only recorded, for the user to broadcast. The transaction, and
   * its fee as the wallet counts it (0 unless all its inputs are the wallet's).
   */
  async publish(raw: Uint8Array): Promise<{ tx: ParsedTx; fee: bigint }> {
    const parsed = parseTx(raw);
    this.store.atomically(() => this.#record(parsed, {}));
    const fee = () => this.#txs.get(parsed.txid)!.row.fee ?? 0n;
    if (!this.policy.broadcast) return { tx: parsed, fee: fee() };
    this.#committing.set(parsed.txid, "pending");
    const { result, error } = await this.chain.broadcastTransaction(
      parsed.raw,
      this.policy.maxTxFee,
    );
    if (result) {
      // The node's mempool notification may have come first, and told -walletnotify.
      const seen = this.#committing.get(parsed.txid) === "seen";
      if (seen) this.#committing.delete(parsed.txid);
      else this.#committing.set(parsed.txid, "recorded");
      this.store.atomically(() => this.#record(parsed, { inMempool: true }, !seen));
    } else {
      this.#committing.delete(parsed.txid);
      this.#log(`CommitTransaction(): Transaction cannot be broadcast immediately, ${error}`);
    }
    return { tx: parsed, fee: fee() };
  }

  // --- keys at rest ---

  /** Core's `EnsureWalletIsUnlocked`: -13 when the wallet is encrypted and locked. */
  ensureUnlocked(): void {
    if (this.#sealed !== null && this.#usableKeyring === null) {
      throw new WalletError(Code.UNLOCK_NEEDED, UNLOCK_NEEDED);
    }
  }

  /** The keyring, or -13 when locked, or -4 when the wallet has private keys disabled. */
  #unlocked(): Keyring {
    this.ensureUnlocked();
    const keyring = this.#usableKeyring;
    if (keyring !== null) return keyring;
    throw new WalletError(Code.WALLET, "Error: Private keys are disabled for this wallet");
  }

  /**
   * The keyring as the caller may use it: none once a lock is asked for
   * while a send holds the keys ({@linkcode holdKeys}), but to that send's
   * own signing ({@linkcode signForSend}).
   */
  get #usableKeyring(): Keyring | null {
    return this.#pendingLock !== null && !this.#sendSigning ? null : this.#keyring;
  }

  /**
   * A wallet made before the master xpub was kept learns it once its
   * secret is at hand (at load, or when an encrypted one is unlocked).
   */
  #keepMasterXpub(): void {
    const hd = this.#keyring?.hd;
    if (this.#masterXpub !== undefined || !hd) return;
    this.#masterXpub = hd.master.publicExtendedKey;
    this.store.setMeta("master_xpub", this.#masterXpub);
  }

  /**
   * The wallet's BIP 32 master key (`gethdkeys`): its xpub and, with
   * `withPrivate`, its xprv (-13 when locked); null for a wallet without
   * keys. An encrypted wallet made before its xpub was kept must be
   * unlocked once first (-13).
   */
  masterKey(withPrivate: boolean): { xpub: string; xprv?: string } | null {
    if (withPrivate) this.ensureUnlocked();
    // Its fingerprint is kept in the clear from the wallet's creation: a blank wallet has none.
    if (this.store.meta("fingerprint") === undefined) return null;
    if (this.#masterXpub === undefined) throw new WalletError(Code.UNLOCK_NEEDED, UNLOCK_NEEDED);
    return withPrivate
      ? { xpub: this.#masterXpub, xprv: this.#unlocked().hd!.master.privateExtendedKey }
      : { xpub: this.#masterXpub };
  }

  /**
   * The extended private key of `xpub` (`gethdkeys`' `xprv`): the master
   * key's or one imported with a descriptor; -13 when locked.
   */
  extendedPrivateKey(xpub: string): string | undefined {
    return this.#unlocked().extendedPrivateKey(xpub);
  }

  /** What signing needs: -13 when the wallet is locked, -4 when it has no private keys. */
  ensureCanSign(): void {
    this.#unlocked();
  }

  /** Whether it can sign now: it holds its keyring (unlocked, with private keys). */
  get canSign(): boolean {
    return this.#usableKeyring !== null;
  }

  /**
   * Signs input `i` of `tx`, which spends a coin of `key`, with hash type
   * `sighash` (scure's `signIdx`, which throws when it cannot): how
   * `sign.ts` signs, the private key never leaving this object. A
   * multisig's or a script tree's coin is signed with each of its keys
   * the wallet holds (a partial signature, or several). -13 when locked,
   * -4 without private keys; throws too when it signs with none of them
   * (it holds none, as for a watched one's, or the input is not signable).
   * As Core's descriptor wallets, only the keys of the descriptors that
   * have `key`'s script sign: not a key its seed or another import could
   * derive but that descriptor was not given private.
   */
  signInput(tx: Transaction, i: number, key: DerivedKey, sighash: number): void {
    const keyring = this.#unlocked().scoped(this.#descriptorsOf(key.script));
    const held = signingKeys(key).flatMap(({ key, xonly }) => keyring.privateKey(key, xonly) ?? []);
    if (held.length === 0) throw new Error(`no private key for ${key.descriptor}`);
    let signed = 0;
    let failure: unknown;
    // A key listed twice (in several leaves) signs once: scure signs every leaf it is in.
    for (const privateKey of new Map(held.map((k) => [hex.encode(k), k])).values()) {
      try {
        tx.signIdx(privateKey, i, [sighash], SCHNORR_AUX);
        signed++;
      } catch (error) {
        failure = error;
      }
    }
    // scure signs the leaves that write a key; a pkh() leaf writes its hash: signed here.
    for (const leaf of isTaprootTree(key) ? key.leaves : []) {
      const privateKey = leaf.leaf === "pkh" ? keyring.privateKey(leaf.keys[0], true) : undefined;
      if (privateKey === undefined) continue;
      if (signTapLeaf(tx, i, pkhLeaf(leaf.keys[0].publicKey), privateKey, sighash)) signed++;
    }
    if (signed === 0) throw failure;
  }

  /**
   * Core's `FillPSBT` for the wallet's descriptors that do not have input
   * `i`'s script `script` (every one, for another's coin): each key the
   * input's key origins list that such a descriptor derives signs it, with
   * that descriptor's private key, when it holds it (Core's
   * `GetSigningProvider(pubkey)`). An x-only key signs a `pkh()` leaf too.
   * Keys it cannot sign with are passed over; -13 when locked.
   */
  signListedKeys(tx: Transaction, i: number, sighash: number, script?: Uint8Array): void {
    const keyring = this.#unlocked();
    const having = script === undefined ? [] : this.#descriptorsOf(script);
    const { bip32Derivation = [], tapBip32Derivation = [] } = tx.getInput(i);
    const listed = [
      ...bip32Derivation.map(([pubkey, origin]) => ({ pubkey, origin, xonly: false })),
      ...tapBip32Derivation.map(([pubkey, { der }]) => ({ pubkey, origin: der, xonly: true })),
    ];
    const signers = new Map<string, { privateKey: Uint8Array; key: OriginKey; xonly: boolean }>();
    for (const { pubkey, origin, xonly } of listed) {
      for (const { desc, key } of this.#keysOf(pubkey, origin.path)) {
        if (having.includes(desc)) continue;
        const privateKey = keyring.scoped([desc]).privateKey(key, xonly);
        if (privateKey !== undefined) {
          signers.set(hex.encode(privateKey), { privateKey, key, xonly });
        }
      }
    }
    for (const { privateKey, key, xonly } of signers.values()) {
      try {
        tx.signIdx(privateKey, i, [sighash], SCHNORR_AUX);
      } catch {
        // Not in the input's scripts as the library reads them, or its coin unknown.
      }
      // scure signs the leaves that write a key; a pkh() leaf writes its hash.
      if (xonly) signTapLeaf(tx, i, pkhLeaf(key.publicKey), privateKey, sighash);
    }
  }

  /**
   * The wallet's descriptors that derive `pubkey` (33 bytes; 32, x-only,
   * of either parity), each with the key as it derives it: Core's
   * `m_map_pubkeys` lookup. A single-key descriptor's key is found by its
   * address script; a multisig's or a tree's at the index `path` (the key
   * origin a PSBT lists) ends with, within the range it derives, or as a
   * fixed key.
   */
  #keysOf(pubkey: Uint8Array, path: readonly number[]): { desc: string; key: OriginKey }[] {
    const xonly = pubkey.length === 32;
    const matches = (key: OriginKey) =>
      hex.encode(xonly ? key.publicKey.subarray(1) : key.publicKey) === hex.encode(pubkey);
    const found: { desc: string; key: OriginKey }[] = [];
    const take = (descs: readonly string[], derived: DerivedKey | undefined) => {
      const key = derived && signingKeys(derived).find(({ key }) => matches(key))?.key;
      if (key !== undefined) { for (const desc of descs) found.push({ desc, key }); }
    };
    const full = xonly ? [0x02, 0x03].map((parity) => Uint8Array.of(parity, ...pubkey)) : [pubkey];
    const scripts = full.flatMap((key) => {
      if (key.length !== 33) return [];
      const wpkh = p2wpkh(key);
      return [wpkh.script, p2pkh(key).script, p2sh(wpkh).script];
    });
    try {
      scripts.push(p2tr(xonly ? pubkey : pubkey.subarray(1)).script);
    } catch {
      // Not a point: no taproot address of it.
    }
    for (const script of scripts) {
      const derived = this.keyOf(script);
      if (derived !== undefined && isSingleKey(derived)) take(this.#descriptorsOf(script), derived);
    }
    // A multisig's or a tree's fixed keys (a WIF or hex key, a hardened path), by the key alone.
    for (const { desc, source } of this.importedDescriptors) {
      for (const key of multiKeySources(source)) {
        if (!("pubkey" in key)) continue;
        const fixed = {
          fingerprint: key.fingerprint,
          path: key.path,
          publicKey: hex.decode(key.pubkey),
        };
        if (matches(fixed)) found.push({ desc, key: fixed });
      }
    }
    // Their keys of extended keys, at the index the origin's path ends with.
    const index = path.at(-1);
    if (index === undefined || index >= HARDENED_OFFSET) return found;
    for (const { kind, internal, chain } of this.#activeChains()) {
      if (chain.multisig === undefined && chain.tree === undefined) continue; // single keys: above
      if (index < this.derivedCount(kind, internal)) {
        take([chain.descriptor], this.#accounts.get(kind)!.derive(internal, index));
      }
    }
    for (const { desc, source, range } of this.#watched.values()) {
      if (!("keys" in source) && !("leaves" in source)) continue;
      if (range === undefined) take([desc], this.#watchedKey(desc, 0));
      else if (index >= range.start && index < range.end) {
        take([desc], this.#watchedKey(desc, index));
      }
    }
    return found;
  }

  /**
   * Core's `SignMessage`: `message` signed (`components/bitcoin/message.ts`)
   * by the key of `script`, a P2PKH script; -13 when locked, -4 `Private
   * key not available` when the wallet holds no private key for it.
   */
  signMessage(script: Uint8Array, message: string): string {
    this.ensureUnlocked();
    const key = this.keyOf(script);
    const privateKey = key && isSingleKey(key)
      ? this.#usableKeyring?.scoped(this.#descriptorsOf(script)).privateKey(key, key.kind === "tr")
      : undefined;
    if (privateKey === undefined) throw new WalletError(Code.WALLET, "Private key not available");
    // The wallet's keys are all used compressed, as Core's descriptor wallets' are.
    return signMessage({ key: privateKey, compressed: true }, message);
  }

  /**
   * The private form of the wallet's descriptor `desc` (`listdescriptors
   * true`): an import's as given, or its own chain's from its master key.
   * -13 when locked, -4 when it holds no private key of it (Core's words).
   */
  privateDescriptor(desc: string): string {
    const keyring = this.#unlocked();
    const imported = keyring.privateDescriptor(desc);
    if (imported !== undefined) return imported;
    // The wallet's own chains, active or not any more: ranged descriptors of its master key.
    const hd = keyring.hd;
    const chains = [
      ...this.#activeChains().flatMap(({ kind, chain: { descriptor, keys, multisig, tree } }) =>
        multisig === undefined && tree === undefined ? [{ kind, desc: descriptor, ...keys[0] }] : []
      ),
      ...[...this.#watched.values()].flatMap(({ desc, source }) =>
        "xpub" in source ? [{ ...source, desc }] : []
      ),
    ];
    const own = hd && chains.find((c) => c.desc === desc && c.fingerprint === hd.fingerprint);
    if (!own) throw new WalletError(Code.WALLET, "Can't get descriptor string.");
    return privateRangedDescriptor(own.kind, hd.master.privateExtendedKey, own.path);
  }

  /**
   * Runs `change`, which changes the keyring or its sealing across awaits
   * (a key stretched from a passphrase takes a while), after those queued
   * before it: two such changes never work from the same old state. Its
   * own queue, not {@linkcode serial}'s, which a rescan holds while a
   * passphrase change or a lock must get through.
   */
  #keyTurn<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#keyQueue.then(change);
    this.#keyQueue = run.catch(() => {});
    return run;
  }

  /** Encrypts the keyring under `passphrase` and locks the wallet. */
  encrypt(passphrase: string): Promise<void> {
    return this.#keyTurn(() => this.#encrypt(passphrase));
  }

  async #encrypt(passphrase: string): Promise<void> {
    if (this.#sealed !== null) {
      throw new WalletError(
        Code.WRONG_ENC_STATE,
        "Error: running with an encrypted wallet, but encryptwallet was called.",
      );
    }
    if (passphrase === "") {
      throw new WalletError(Code.INVALID_PARAMETER, "passphrase cannot be empty");
    }
    const keyring = this.#unlocked();
    const { sealed } = await encryptSecret(keyring.toString(), passphrase);
    this.store.atomically(() => {
      this.store.setMeta("crypted", JSON.stringify(sealed));
      this.store.deleteMeta(KEYRING_KEY);
    });
    // The plaintext's old pages are overwritten (secure_delete) and the journal emptied.
    this.store.scrub();
    this.#sealed = sealed;
    await this.lock();
  }

  /**
   * Seals the secret under `next` instead of `current` (`walletpassphrasechange`);
   * the wallet stays locked or unlocked as it was.
   */
  changePassphrase(current: string, next: string): Promise<void> {
    return this.#keyTurn(() => this.#changePassphrase(current, next));
  }

  async #changePassphrase(current: string, next: string): Promise<void> {
    if (this.#sealed === null) {
      throw new WalletError(
        Code.WRONG_ENC_STATE,
        "Error: running with an unencrypted wallet, but walletpassphrasechange was called.",
      );
    }
    if (current === "" || next === "") {
      throw new WalletError(Code.INVALID_PARAMETER, "passphrase cannot be empty");
    }
    const opened = await decryptSecret(this.#sealed, current);
    if (opened === null) {
      throw new WalletError(
        Code.PASSPHRASE_INCORRECT,
        "Error: The wallet passphrase entered was incorrect.",
      );
    }
    const { sealed, reseal } = await encryptSecret(opened.secret, next);
    this.store.atomically(() => this.store.setMeta("crypted", JSON.stringify(sealed)));
    this.store.scrub();
    this.#sealed = sealed;
    // Unlocked, it seals what it imports under the new passphrase from now on.
    if (this.#reseal !== null) this.#reseal = reseal;
  }

  /** Unlocks for `timeout` seconds. */
  unlock(passphrase: string, timeout: number): Promise<void> {
    return this.#keyTurn(() => this.#unlock(passphrase, timeout));
  }

  async #unlock(passphrase: string, timeout: number): Promise<void> {
    if (this.#sealed === null) {
      throw new WalletError(
        Code.WRONG_ENC_STATE,
        "Error: running with an unencrypted wallet, but walletpassphrase was called.",
      );
    }
    if (timeout < 0) throw new WalletError(Code.INVALID_PARAMETER, "Timeout cannot be negative.");
    const opened = await decryptSecret(this.#sealed, passphrase);
    if (opened === null) {
      throw new WalletError(
        Code.PASSPHRASE_INCORRECT,
        "Error: The wallet passphrase entered was incorrect.",
      );
    }
    const seconds = Math.min(timeout, MAX_UNLOCK_SECONDS);
    this.#keyring = Keyring.parse(opened.secret);
    this.#reseal = opened.reseal;
    this.#keepMasterXpub();
    this.#unlockedUntil = this.now() + seconds;
    this.#lockTimer?.clear();
    // Unlocked again: a lock asked for before, waiting on a send, is overtaken, as Core's calls
    // waiting on the wallet's lock run in turn.
    this.#pendingLock?.resolve();
    this.#pendingLock = null;
    // A Timer: Core allows 10^8 s, far past what setTimeout holds.
    this.#lockTimer = new Timer(seconds * 1000, () => void this.lock(), { persistent: false });
  }

  /**
   * Forgets the secret (of an encrypted wallet), once no send holds it
   * ({@linkcode holdKeys}): resolves when locked. Throws at once when the
   * wallet is not encrypted.
   */
  lock(): Promise<void> {
    if (this.#sealed === null) {
      throw new WalletError(
        Code.WRONG_ENC_STATE,
        "Error: running with an unencrypted wallet, but walletlock was called.",
      );
    }
    this.#lockTimer?.clear();
    if (this.#keyHolds === 0) {
      this.#forgetKeys();
      return Promise.resolve();
    }
    this.#pendingLock ??= Promise.withResolvers();
    return this.#pendingLock.promise;
  }

  /**
   * Runs `send`, which signs across awaits, with the keys kept until it
   * ends: Core's sends hold the wallet's lock, which `walletlock` and the
   * unlock timeout wait for, so a send begun unlocked is never locked
   * half-way.
   */
  async holdKeys<T>(send: () => Promise<T>): Promise<T> {
    this.#keyHolds++;
    try {
      return await send();
    } finally {
      if (--this.#keyHolds === 0 && this.#pendingLock !== null) {
        this.#forgetKeys();
        this.#pendingLock.resolve();
        this.#pendingLock = null;
      }
    }
  }

  /**
   * Runs `sign` (synchronous) as the signing of the send holding the keys
   * ({@linkcode holdKeys}): a lock asked for meanwhile waits for that send,
   * and until then refuses everyone else, as Core's callers waiting on
   * `cs_wallet` behind a send find the wallet locked.
   */
  signForSend<T>(sign: () => T): T {
    this.#sendSigning = true;
    try {
      return sign();
    } finally {
      this.#sendSigning = false;
    }
  }

  #forgetKeys(): void {
    this.#keyring = null;
    this.#reseal = null;
    this.#unlockedUntil = 0;
  }

  /** Writes a copy of the database to `path`. */
  async backup(path: string): Promise<void> {
    await this.store.backup(path);
  }

  /** Stops following the chain and closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#lockTimer?.clear();
    const handler = this.#handler;
    this.#handler = null;
    try {
      await handler?.disconnect();
    } catch { /* the node is gone */ }
    await this.#queue;
    await this.#keyQueue;
    this.store.close();
  }

  [Symbol.dispose](): void {
    this.#lockTimer?.clear();
    this.#closed = true;
    this.store.close();
  }
}

/** The meta key of the keyring (`keys.ts` `Keyring`), kept in the clear when not encrypted. */
const KEYRING_KEY = "secret";

/** The meta key of the descriptors imported to watch only. */
const WATCHED_KEY = "watched_descriptors";

/** The `kind` of a watched descriptor's scripts in the database: its hash, in short. */
function watchedKind(desc: string): string {
  return `watched:${hex.encode(sha256(new TextEncoder().encode(desc))).slice(0, 16)}`;
}

/** The meta key of a chain imported by `importdescriptors`. */
function importedKey(kind: DescriptorKind, internal: boolean): string {
  return `import_${kind}_${internal ? 1 : 0}`;
}

/** The meta key of a chain's next unused index. */
function nextKey(kind: DescriptorKind, internal: boolean): string {
  return `next_${kind}_${internal ? 1 : 0}`;
}

/** The meta key of how many scripts a chain has derived. */
function derivedCountKey(kind: DescriptorKind, internal: boolean): string {
  return `derived_${kind}_${internal ? 1 : 0}`;
}
