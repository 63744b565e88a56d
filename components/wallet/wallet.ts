/**
 * One descriptor wallet: its keys (`keys.ts`), its database (`store.ts`),
 * the transactions that concern it kept current from the node's chain
 * notifications, balances, coin selection, signing and broadcast through
 * the node's `Chain` capability, and passphrase encryption of its secret.
 * The secret (the mnemonic, and every private key derived from it) never
 * leaves this object: the chain sees signed transactions only.
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
 *   if (key.path !== "m/84h/1h/0h/0/0") throw new Error(key.path);
 *   await wallet.close();
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { base64, hex } from "@scure/base";
import { signMessage } from "../bitcoin/message.ts";
import { Timer } from "../../component.ts";
import { Address, OutScript, RawTx, Transaction } from "@scure/btc-signer";
import type {
  BlockInfo,
  Chain,
  ChainNotifications,
  MempoolRemovalReason,
} from "../../schemas/gen/ipc/chain.mp.ts";
import type { Handler } from "../../schemas/gen/ipc/handler.mp.ts";
import { formatMoney, formatSatPerVbyte } from "../bitcoin/amount.ts";
import {
  type Coin,
  dustThreshold,
  feeFor,
  type Payment,
  selectCoins,
  SelectionError,
  transactionWeight,
} from "./coinselect.ts";
import { decryptSecret, encryptSecret, type SealedSecret } from "./crypter.ts";
import type { DescriptorKind } from "./descriptor.ts";
import { Account, type DerivedKey, HdSecret } from "./keys.ts";
import {
  describeInput,
  describeOutput,
  dropPreviousTransactions,
  finalizeInput,
  isFinalized,
  isWitnessProgram,
  psbtOf,
  SIGHASH_ALL,
  SIGHASH_DEFAULT,
  type SpentCoin,
  spentOutput,
  type TaprootFields,
  TX_OPTIONS,
} from "./psbt.ts";
import { COINBASE_MATURITY, REGTEST } from "./network.ts";
import { type TxRow, WALLET_FILE, WalletStore } from "./store.ts";
import {
  displayHex,
  internalBytes,
  type OutPoint,
  outpointKey,
  type ParsedTx,
  parseTx,
  type TxOut,
} from "./tx.ts";

/** Scripts derived ahead of the next unused index on each chain (Core's `-keypool`). */
export const KEYPOOL_SIZE = 100;
/** Keys per chain a refill derives before it lets other calls run. */
const REFILL_STEP = 50;
/** Core's `WALLET_INCREMENTAL_RELAY_FEE` (sat/kvB): the least a bump adds to the fee rate. */
const WALLET_INCREMENTAL_RELAY_FEE = 5000n;
/** Core's `-maxtxfee` default: a send paying more is refused by the node. */
export const MAX_TX_FEE = 10_000_000n;
/** Core's `-minrelaytxfee` default in sat/kvB, the node's (which takes no other). */
export const MIN_RELAY_TX_FEE = 1000n;
/** Blocks fetched per `getBlocksSince` during a rescan. */
const RESCAN_BATCH = 50;
/** Sequence of the wallet's inputs: final locktime semantics off, RBF signalled (Core's default). */
const WALLET_SEQUENCE = 0xfffffffd;
/** Sequence of an input not signalling BIP 125, its locktime still enforced (Core's `MAX_SEQUENCE_NONFINAL`). */
const MAX_SEQUENCE_NONFINAL = 0xfffffffe;
/** BIP 431's version: topologically restricted until confirmation (TRUC). */
const TRUC_VERSION = 3;
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
} as const;

export const UNLOCK_NEEDED =
  "Error: Please enter the wallet passphrase with walletpassphrase first.";
export const NO_KEYS = "Error: This wallet has no available keys";
/** Core's answer to encrypting a wallet without private keys (-16). */
export const NOTHING_TO_ENCRYPT =
  "Error: wallet does not contain private keys, nothing to encrypt.";

/** How a wallet is made. */
/** What a wallet is opened with (the process's options). */
export interface OpenOptions {
  /** Scripts each chain watches past its next index (`-keypool`; `KEYPOOL_SIZE` by default). */
  readonly keypool?: number;
}

/** How a wallet is created. */
export interface CreateOptions extends OpenOptions {
  /** No keys at all (`disable_private_keys`). */
  readonly disablePrivateKeys?: boolean;
  /** No descriptors (`blank`). */
  readonly blank?: boolean;
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
  readonly key: DerivedKey;
  readonly confirmations: number;
  readonly coinbase: boolean;
  /** Counted as the wallet's own: confirmed, or spending only the wallet's coins. */
  readonly trusted: boolean;
  /**
   * Spent by default (Core's `safe`): trusted, and not from an unconfirmed
   * `bumpfee` replacement or a transaction one replaced.
   */
  readonly safe: boolean;
}

/** An input a transaction to fund has already (Core's preselected input), kept as it is. */
export interface PresetInput {
  readonly txid: string;
  readonly vout: number;
  readonly sequence: number;
  readonly scriptSig: Uint8Array;
  readonly witness: readonly Uint8Array[];
  /** Whether the coin it spends is in the node's UTXO set (asked for a coin not the wallet's). */
  readonly inUtxoSet: boolean;
}

/** What {@linkcode Wallet.fund} makes of a transaction (Core's `FundTransaction` and coin control). */
export interface FundRequest {
  readonly version: number;
  /** The locktime; null: none was given, and one is set against fee sniping (`send`). */
  readonly lockTime: number | null;
  readonly inputs: readonly PresetInput[];
  /** Its outputs, in order, those marked paying the fee between them. */
  readonly payments: readonly Payment[];
  /** Satoshis per 1000 vB. */
  readonly feeRate: bigint;
  /** Whether coins may be added to `inputs` (`add_inputs`). */
  readonly addInputs: boolean;
  /** Whether unconfirmed coins from others may be added (`include_unsafe`). */
  readonly includeUnsafe: boolean;
  /** Confirmations a coin added needs (`minconf`), and may have at most (`maxconf`). */
  readonly minDepth: number;
  readonly maxDepth?: number;
  /** Where change goes: this script, or a new address of `changeKind` (by default as sends pick). */
  readonly changeScript?: Uint8Array;
  readonly changeKind?: DescriptorKind;
  /** The change output's index; random by default. */
  readonly changePosition?: number;
  /** BIP 125 signalling on the inputs added. */
  readonly replaceable: boolean;
  /** Lock every input of the result (`lockUnspents`, not persisted). */
  readonly lockUnspents: boolean;
}

/** A funded transaction (`fund`): its bytes, its fee, and where its change went (-1: none). */
export interface Funded {
  readonly raw: Uint8Array;
  readonly fee: bigint;
  readonly changePos: number;
}

/** What becomes of a transaction once built (Core's `add_to_wallet` and `psbt` options). */
export interface FinishOptions {
  /** Broadcast and record it when complete. */
  readonly addToWallet: boolean;
  /** Return it as a PSBT, never broadcast. */
  readonly psbt: boolean;
}

/** What `FinishTransaction` answers, in Core's order (a JSON reply as it is). */
export type Finished = {
  readonly psbt?: string;
  readonly txid?: string;
  readonly hex?: string;
  readonly complete: boolean;
};

/** What `bumpfee` asks for (read by the node, `components/node/methods/funding.ts`). */
export interface BumpRequest {
  readonly txid: string;
  /**
   * The new fee rate (sat/kvB), or null for Core's `EstimateFeeRate`: the
   * original's, plus 1 sat/kvB and the wallet's incremental relay fee, at
   * least `walletFeeRate`.
   */
  readonly feeRate: bigint | null;
  /** The rate a send would pay (`settxfee`'s or the fallback fee; 0 when there is none). */
  readonly walletFeeRate: bigint;
  /** BIP 125 signalling on every input of the replacement. */
  readonly replaceable: boolean;
  /** Outputs to pay instead of the original's. */
  readonly outputs: readonly TxOut[] | null;
  /** Which of the original's outputs is the change (else: those `isChange` says). */
  readonly originalChangeIndex: number | null;
  /** Return the replacement as an unsigned PSBT, neither signed nor sent (`psbtbumpfee`). */
  readonly psbt: boolean;
}

/** What `sendall` asks for (read by the node, `components/node/methods/funding.ts`). */
export interface SendAllRequest extends FinishOptions {
  /** The inputs to spend, or null for every coin the wallet may spend. */
  readonly inputs: readonly { txid: string; vout: number; sequence: number }[] | null;
  /** The outputs in order: payments, and recipients of an equal share of what is left. */
  readonly outputs: readonly (TxOut & { readonly remainder: boolean })[];
  /** The fee rate (sat/kvB), and whether the caller gave it (else it is the wallet's). */
  readonly feeRate: bigint;
  readonly explicitFeeRate: boolean;
  readonly replaceable: boolean;
  /** The locktime given, or null for one at the tip's height (against fee sniping). */
  readonly lockTime: number | null;
  /** Leave out coins worth less than the fee to spend them. */
  readonly sendMax: boolean;
  readonly minDepth: number;
  readonly maxDepth: number | null;
  readonly lockUnspents: boolean;
}

/** An address book entry. */
export interface AddressBookEntry {
  readonly label: string;
  /** The wallet's own address (`receive`), or another's it labelled (`send`). */
  readonly purpose: "receive" | "send";
}

/** How `walletprocesspsbt` fills a PSBT (Core's `PSBTFillOptions`). */
export interface PsbtOptions {
  readonly sign: boolean;
  /** The sighash to sign with; null: the input type's default. */
  readonly sighash: number | null;
  readonly finalize: boolean;
  readonly bip32derivs: boolean;
}

/** An input `signrawtransactionwithwallet` could not sign, with Core's reason. */
export interface UnsignedInput {
  readonly index: number;
  readonly error: string;
}

/** Core's reason for an input whose coin the wallet does not know. */
const NOT_FOUND = "Input not found or already spent";
/** Core's reason for a script left unsatisfied (`SCRIPT_ERR_INVALID_STACK_OPERATION`). */
const MISSING_KEY = "Unable to sign input, invalid stack size (possibly missing key)";
/** Core's reason for a witness program left unsatisfied (`SCRIPT_ERR_WITNESS_PROGRAM_WITNESS_EMPTY`). */
const WITNESS_EMPTY = "Witness program was passed an empty witness";

/** `getbalances`' `mine`. */
export interface Balances {
  trusted: bigint;
  untrustedPending: bigint;
  immature: bigint;
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

/** The descriptor kinds a new wallet gets, as Core's: legacy, p2sh-segwit, bech32, bech32m. */
const KINDS: readonly DescriptorKind[] = ["pkh", "sh_wpkh", "wpkh", "tr"];

/**
 * A 71-byte signature (hash type included: Core's estimate for a wallet
 * grinding low R) and a 33-byte key, each with its length byte.
 */
const SIGNATURE_AND_KEY = 1 + 71 + 1 + 33;

/**
 * Input weight once signed: outpoint, sequence and the script's length
 * byte (41 bytes), the script (×4) and the witness: pkh signs in its
 * script, sh(wpkh) pushes its redeem script there and signs in the
 * witness, wpkh signs in the witness, tr with a 64-byte signature.
 */
function inputWeight(kind: DescriptorKind): number {
  if (kind === "pkh") return (41 + SIGNATURE_AND_KEY) * 4;
  if (kind === "sh_wpkh") return (41 + 23) * 4 + 1 + SIGNATURE_AND_KEY;
  return 41 * 4 + (kind === "wpkh" ? 1 + SIGNATURE_AND_KEY : 1 + 1 + 64);
}

/** Core's `MAX_STANDARD_TX_WEIGHT`: the node relays nothing heavier. */
const MAX_STANDARD_TX_WEIGHT = 400_000;

/** The address of an output script, or undefined for one without an address. */
export function scriptAddress(script: Uint8Array): string | undefined {
  try {
    return Address(REGTEST).encode(OutScript.decode(script));
  } catch {
    return undefined;
  }
}

/** A coin of the wallet as coin selection weighs it. */
function asCoin(c: { txid: string; vout: number; amount: bigint; key: DerivedKey }): Coin {
  return {
    key: `${c.txid}:${c.vout}`,
    amount: c.amount,
    inputWeight: inputWeight(c.key.kind),
    legacy: c.key.kind === "pkh",
  };
}

/**
 * `tx`'s bytes with the scriptSig and witness `preset` had put back on its
 * first inputs (written here: scure's Transaction refuses outputs after
 * inputs that look signed).
 */
function withPresetScripts(tx: Transaction, preset: readonly PresetInput[]): Uint8Array {
  const raw = RawTx.decode(tx.toBytes(true, false));
  const inputs = raw.inputs.map((input, i) =>
    i < preset.length ? { ...input, finalScriptSig: preset[i].scriptSig } : input
  );
  const witnessed = preset.some((input) => input.witness.length > 0);
  return RawTx.encode({
    ...raw,
    inputs,
    segwitFlag: witnessed,
    witnesses: witnessed ? inputs.map((_, i) => [...(preset[i]?.witness ?? [])]) : undefined,
  });
}

/** Txids in the order of Core's `std::set<Txid>`: by their bytes as stored, the reverse of the hex. */
function byStoredTxid(txids: Iterable<string>): string[] {
  const stored = (id: string) => hex.encode(internalBytes(id));
  return [...txids].sort((a, b) => stored(a) < stored(b) ? -1 : stored(a) > stored(b) ? 1 : 0);
}

/** A payment's script type as the change type follows it (Core's `TransactionChangeType`). */
const CHANGE_FOR: readonly [string, DescriptorKind][] = [
  ["tr", "tr"],
  ["wpkh", "wpkh"],
  ["sh", "sh_wpkh"],
  ["pkh", "pkh"],
];

/** The wallet. */
export class Wallet implements Disposable {
  readonly name: string;
  readonly dir: string;
  readonly store: WalletStore;
  readonly #chain: Chain;
  readonly #accounts = new Map<DescriptorKind, Account>();
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
  /** The wallet transactions spending each outpoint (Core's `mapTxSpends`; coinbases spend none). */
  readonly #spends = new Map<string, string[]>();
  #blocks: Map<number, string>;
  #tip: BlockRef;
  #secret: HdSecret | null = null;
  #sealed: SealedSecret | null = null;
  #unlockedUntil = 0;
  #lockTimer: Timer | undefined;
  /**
   * The fee rate `settxfee` set (sat/kvB; 0: none), which sends use when
   * not given one (Core's `m_pay_tx_fee`). Not kept: a reload forgets it.
   */
  payTxFee = 0n;
  #queue: Promise<unknown> = Promise.resolve();
  #handler: Handler | null = null;
  #seq = 0;
  #closed = false;
  readonly #keypool: number;

  private constructor(
    dir: string,
    name: string,
    store: WalletStore,
    chain: Chain,
    { keypool = KEYPOOL_SIZE }: OpenOptions,
  ) {
    this.#keypool = keypool;
    this.dir = dir;
    this.name = name;
    this.store = store;
    this.#chain = chain;
    this.#blocks = store.blocks();
    const hash = store.meta("tip_hash") ?? "";
    this.#tip = { hash, height: Number(store.meta("tip_height") ?? -1) };
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
      const now = Math.floor(Date.now() / 1000);
      const withKeys = !options.blank && !options.disablePrivateKeys;
      const secret = withKeys
        ? options.mnemonic ? HdSecret.fromMnemonic(options.mnemonic) : HdSecret.generate()
        : null;
      store.atomically(() => {
        store.setMeta("name", name);
        store.setMeta("birthtime", String(now));
        store.setMeta(
          "flags",
          JSON.stringify({
            blank: options.blank === true,
            disablePrivateKeys: options.disablePrivateKeys === true,
          }),
        );
        if (tip !== undefined) {
          store.setMeta("tip_hash", displayHex(tip.hash));
          store.setMeta("tip_height", String(tip.height));
          store.setBlock(tip.height, displayHex(tip.hash));
        }
        if (secret !== null) {
          store.setMeta("secret", secret.mnemonic);
          store.setMeta("fingerprint", String(secret.fingerprint));
          for (const kind of KINDS) {
            const account = Account.fromSecret(secret, kind);
            store.setMeta(`xpub_${kind}`, account.xpub);
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
    const fingerprint = Number(store.meta("fingerprint") ?? 0);
    for (const kind of KINDS) {
      const xpub = store.meta(`xpub_${kind}`);
      if (xpub !== undefined) this.#accounts.set(kind, new Account(kind, fingerprint, xpub));
    }
    const sealed = store.meta("crypted");
    this.#sealed = sealed === undefined ? null : JSON.parse(sealed);
    const plain = store.meta("secret");
    if (plain !== undefined) this.#secret = HdSecret.fromMnemonic(plain);
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
   * index, at most `limit` of them; never fewer than it already watches.
   * Whether it stopped at `limit`.
   */
  #topUp(kind: DescriptorKind, internal: boolean, size = this.#keypool, limit = Infinity): boolean {
    const account = this.#accounts.get(kind)!;
    const wanted = this.nextIndex(kind, internal) + size;
    let derived = this.derivedCount(kind, internal);
    const end = Math.min(wanted, derived + limit);
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
   * the wallet was unloaded meanwhile).
   *
   * A key takes about half a millisecond to derive, so it goes in steps,
   * each its own transaction and its own turn among the wallet's changes:
   * calls (which wait for those) and chain notifications run between
   * steps, and an unload stops it, keeping what was derived.
   */
  async refillKeypool(size: number): Promise<number> {
    this.ensureUnlocked();
    const step = () =>
      !this.#closed &&
      this.store.atomically(() => this.#topUpAll(size || this.#keypool, REFILL_STEP));
    while (await this.#serial(step)) {
      // A macrotask between steps, or the steps (chained promises) would starve the event loop.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return await this.#serial(() =>
      this.#closed ? 0 : this.keypoolSize(false) + this.keypoolSize(true)
    );
  }

  /** Runs `change` after every change queued before it. */
  #serial<T>(change: () => T | Promise<T>): Promise<T> {
    const run = this.#queue.then(change);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Registers for notifications, then catches up with the chain and the mempool. */
  async #attach(): Promise<void> {
    const notifications: ChainNotifications = {
      transactionAddedToMempool: (tx) => this.#serial(() => this.#mempoolAdded(tx)),
      transactionRemovedFromMempool: (tx, reason) =>
        this.#serial(() => this.#mempoolRemoved(tx, reason)),
      blockConnected: (block) => this.#serial(() => this.#blockConnected(block)),
      blockDisconnected: (block) => this.#serial(() => this.#blockDisconnected(block)),
      updatedBlockTip: () => {},
    };
    this.#handler = await this.#chain.handleNotifications(notifications);
    await this.#serial(() => this.#catchUp());
    // What is in the mempool now is the node's to say (it may have restarted without its mempool).
    await this.#serial(() => this.#forgetMempool());
    await this.#chain.requestMempoolTransactions(notifications);
    await this.#serial(() => this.#resubmit());
    await this.#chain.waitForNotifications();
  }

  /** Marks every unconfirmed transaction out of the mempool until the node says otherwise. */
  #forgetMempool(): void {
    this.store.atomically(() => {
      for (const { tx, row } of this.#txs.values()) {
        if (row.inMempool) this.#record(tx, { inMempool: false });
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
    for (const wtx of this.transactions()) {
      if (wtx.row.blockHeight !== null || wtx.row.inMempool || !this.#holdsInputs(wtx)) continue;
      await this.#chain.broadcastTransaction(wtx.tx.raw, MAX_TX_FEE);
    }
  }

  /** The wallet's last processed block. */
  get tip(): BlockRef {
    return this.#tip;
  }

  /** Height of the processed block `hash`, if it is on the wallet's chain. */
  heightOf(hash: string): number | undefined {
    for (const [height, known] of this.#blocks) if (known === hash) return height;
    return undefined;
  }

  /** Hash of the processed block at `height`. */
  hashAt(height: number): string | undefined {
    return this.#blocks.get(height);
  }

  /** Epoch seconds of the wallet's creation. */
  get birthtime(): number {
    return Number(this.store.meta("birthtime") ?? 0);
  }

  get flags(): { blank: boolean; disablePrivateKeys: boolean } {
    return JSON.parse(this.store.meta("flags") ?? "{}");
  }

  get encrypted(): boolean {
    return this.#sealed !== null;
  }

  /** Epoch seconds until which it is unlocked; 0 when locked (or not encrypted). */
  get unlockedUntil(): number {
    return this.#secret === null ? 0 : this.#unlockedUntil;
  }

  get hasKeys(): boolean {
    return this.#accounts.size > 0;
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
    for (const kind of this.#accounts.keys()) {
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
    if (account === undefined) throw new WalletError(Code.WALLET, NO_KEYS);
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

  /** The key that derives `script`, when the wallet watches it. */
  keyOf(script: Uint8Array): DerivedKey | undefined {
    const origin = this.#scripts.get(hex.encode(script));
    if (origin === undefined) return undefined;
    return this.#accounts.get(origin.kind)!.derive(origin.internal, origin.index);
  }

  isMine(script: Uint8Array): boolean {
    return this.#scripts.has(hex.encode(script));
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
  #ownOutput(txid: string, vout: number) {
    const output = this.#txs.get(txid)?.tx.outputs[vout];
    return output !== undefined && this.isMine(output.script) ? output : undefined;
  }

  /** The amount `tx` takes from the wallet's coins. */
  debit(tx: ParsedTx): bigint {
    let sum = 0n;
    for (const input of tx.inputs) sum += this.#ownOutput(input.txid, input.vout)?.amount ?? 0n;
    return sum;
  }

  /** Whether every input of `tx` spends a coin of the wallet. */
  allFromMe(tx: ParsedTx): boolean {
    return !tx.coinbase && tx.inputs.every((i) => this.#ownOutput(i.txid, i.vout) !== undefined);
  }

  /**
   * Outpoints the wallet's transactions hold spent (Core's `IsSpent`): those
   * of transactions confirmed or in the mempool, and of those out of the
   * mempool (evicted, expired, a node restarted without its mempool) unless
   * abandoned or conflicted by one that is confirmed or in the mempool.
   */
  #spent(): Set<string> {
    const spent = new Set<string>();
    for (const wtx of this.#txs.values()) {
      if (!this.#holdsInputs(wtx)) continue;
      for (const input of wtx.tx.inputs) spent.add(outpointKey(input));
    }
    return spent;
  }

  /** Whether `wtx` holds its inputs spent: see {@linkcode #spent}. */
  #holdsInputs(wtx: WalletTx): boolean {
    if (wtx.tx.coinbase) return false;
    if (this.#active(wtx.row)) return true;
    return !this.#abandoned.has(wtx.tx.txid) && !this.#conflicted(wtx, (row) => this.#active(row));
  }

  /** Whether one of the wallet's counted transactions spends `outpoint` (`txid:vout`). */
  isSpent(outpoint: string): boolean {
    return this.#spent().has(outpoint);
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
    const spent = this.#spent();
    const coins: WalletCoin[] = [];
    for (const { tx, row } of this.transactions()) {
      if (!this.#active(row)) continue;
      const confirmations = this.confirmations(row);
      const trusted = confirmations > 0 || this.allFromMe(tx);
      const safe = trusted &&
        !(confirmations === 0 && (this.#replacedBy.has(tx.txid) || this.replaces(tx.txid)));
      tx.outputs.forEach((output, vout) => {
        if (spent.has(`${tx.txid}:${vout}`)) return;
        const key = this.keyOf(output.script);
        if (key === undefined) return;
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
    const balances: Balances = { trusted: 0n, untrustedPending: 0n, immature: 0n };
    for (const coin of this.coins()) {
      if (this.immature(coin)) balances.immature += coin.amount;
      else if (coin.trusted) balances.trusted += coin.amount;
      else balances.untrustedPending += coin.amount;
    }
    return balances;
  }

  // --- following the chain ---

  /** Whether `tx` pays the wallet or spends one of its coins. */
  #relevant(tx: ParsedTx): boolean {
    return tx.outputs.some((o) => this.isMine(o.script)) ||
      tx.inputs.some((i) => this.#ownOutput(i.txid, i.vout) !== undefined);
  }

  /**
   * Core's `MarkUnusedAddresses`: an output to a script at or past its
   * chain's next index (a restored backup, an address derived elsewhere)
   * moves that index past it, so it is never handed out again, and the
   * pool tops up behind it. The external addresses passed over enter the
   * address book with the label "" when not in it, as Core enters them:
   * they are received to, not change.
   */
  #markUsed(tx: ParsedTx): void {
    for (const { script } of tx.outputs) {
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

  /** Adds or updates `tx` (already known to be relevant or known). */
  #record(tx: ParsedTx, update: Partial<TxRow>): void {
    const known = this.#txs.get(tx.txid);
    const row: TxRow = {
      txid: tx.txid,
      seq: known?.row.seq ?? this.#seq++,
      raw: tx.raw,
      blockHash: null,
      blockHeight: null,
      blockIndex: null,
      blockTime: null,
      time: Math.floor(Date.now() / 1000),
      inMempool: false,
      fee: null,
      ...known?.row,
      ...update,
    };
    if (row.fee === null && this.allFromMe(tx)) {
      row.fee = this.debit(tx) - tx.outputs.reduce((sum, o) => sum + o.amount, 0n);
    }
    this.store.putTx(row);
    this.#remember(tx, row);
    this.#markUsed(tx);
    // Seen again in the mempool or a block: no longer abandoned (Core's states are not permanent).
    if (this.#active(row) && this.#abandoned.delete(tx.txid)) this.#saveAbandoned();
  }

  #mempoolAdded(raw: Uint8Array): void {
    const tx = parseTx(raw);
    const known = this.#txs.get(tx.txid);
    if (known === undefined && !this.#relevant(tx)) return;
    if (known?.row.blockHeight != null) return;
    this.store.atomically(() => this.#record(tx, { inMempool: true }));
  }

  #mempoolRemoved(raw: Uint8Array, reason: MempoolRemovalReason): void {
    // A block's removals are followed by the block, which confirms the transaction.
    if (reason === "block") return;
    const tx = parseTx(raw);
    const known = this.#txs.get(tx.txid);
    if (known === undefined || !known.row.inMempool) return;
    this.store.atomically(() => this.#record(tx, { inMempool: false }));
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
      if (!advance) return;
      this.store.setBlock(block.height, hash);
      this.store.setMeta("tip_hash", hash);
      this.store.setMeta("tip_height", String(block.height));
      this.#blocks.set(block.height, hash);
      for (const height of this.#blocks.keys()) {
        if (height > block.height) this.#blocks.delete(height);
      }
      this.#tip = { hash, height: block.height };
    });
  }

  async #blockConnected(block: BlockInfo): Promise<void> {
    const hash = displayHex(block.hash);
    if (this.#blocks.get(block.height) === hash) return; // seen during a catch-up
    if (displayHex(block.prevHash) !== this.#tip.hash) {
      await this.#catchUp(); // a gap: this block comes with the rest
      return;
    }
    this.#applyBlock(block, true);
  }

  #blockDisconnected(block: BlockInfo): void {
    const hash = displayHex(block.hash);
    if (this.#blocks.get(block.height) !== hash) return;
    this.#unwindTo(block.height - 1, displayHex(block.prevHash));
  }

  /** Forgets the blocks above `height` (their transactions become unconfirmed). */
  #unwindTo(height: number, hash: string): void {
    this.store.atomically(() => {
      for (const { tx, row } of this.#txs.values()) {
        if (row.blockHeight !== null && row.blockHeight > height) {
          this.#record(tx, {
            blockHash: null,
            blockHeight: null,
            blockIndex: null,
            blockTime: null,
          });
        }
      }
      this.store.dropBlocksFrom(height + 1);
      for (const h of [...this.#blocks.keys()]) if (h > height) this.#blocks.delete(h);
      this.store.setMeta("tip_hash", hash);
      this.store.setMeta("tip_height", String(height));
      this.#tip = { hash, height };
    });
  }

  /** Catches up with the node's active chain from where the wallet's view forks from it. */
  async #catchUp(): Promise<void> {
    const heights = [...this.#blocks.keys()].sort((a, b) => b - a);
    const locator = heights.map((h) => internalBytes(this.#blocks.get(h)!));
    const fork = locator.length === 0 ? undefined : await this.#chain.findLocatorFork(locator);
    let height = fork ?? -1;
    if (height < this.#tip.height) {
      const hash = height < 0 ? "" : this.#blocks.get(height)!;
      this.#unwindTo(height, hash);
    }
    for (;;) {
      const blocks = await this.#chain.getBlocksSince(height, RESCAN_BATCH);
      if (blocks.length === 0) return;
      for (const block of blocks) this.#applyBlock(block, true);
      height = blocks.at(-1)!.height;
    }
  }

  /** Scans the active chain's blocks `start`..`stop` for the wallet's transactions. */
  rescan(start: number, stop: number): Promise<void> {
    return this.#serial(async () => {
      for (let height = start - 1; height < stop;) {
        const blocks = await this.#chain.getBlocksSince(
          height,
          Math.min(RESCAN_BATCH, stop - height),
        );
        if (blocks.length === 0) return;
        for (const block of blocks) this.#applyBlock(block, false);
        height = blocks.at(-1)!.height;
      }
    });
  }

  /** Waits until every notification the node sent so far has been applied. */
  async sync(): Promise<void> {
    await this.#chain.waitForNotifications();
    await this.#serial(() => {});
  }

  // --- keys at rest ---

  /** Core's `EnsureWalletIsUnlocked`: -13 when the wallet is encrypted and locked. */
  ensureUnlocked(): void {
    if (this.#sealed !== null && this.#secret === null) {
      throw new WalletError(Code.UNLOCK_NEEDED, UNLOCK_NEEDED);
    }
  }

  /** The secret, or -13 when locked, or -4 when the wallet has none. */
  #unlocked(): HdSecret {
    this.ensureUnlocked();
    if (this.#secret !== null) return this.#secret;
    throw new WalletError(Code.WALLET, "Error: Private keys are disabled for this wallet");
  }

  /**
   * Core's `SignMessage`: `message` signed (`components/bitcoin/message.ts`)
   * by the key of `script`, a P2PKH script; -13 when locked, -4 `Private
   * key not available` when the wallet holds no private key for it.
   */
  signMessage(script: Uint8Array, message: string): string {
    this.ensureUnlocked();
    const key = this.keyOf(script);
    if (key === undefined || this.#secret === null) {
      throw new WalletError(Code.WALLET, "Private key not available");
    }
    // The wallet's keys are all used compressed, as Core's descriptor wallets' are.
    return signMessage({ key: this.#secret.privateKey(key.path), compressed: true }, message);
  }

  /** The private-key descriptors (`listdescriptors true`). */
  privateDescriptors(): { kind: DescriptorKind; internal: boolean; desc: string }[] {
    const secret = this.#unlocked();
    return [...this.#accounts.values()].flatMap((account) =>
      [false, true].map((internal) => ({
        kind: account.kind,
        internal,
        desc: account.descriptor(internal, secret),
      }))
    );
  }

  /** Encrypts the secret under `passphrase` and locks the wallet. */
  async encrypt(passphrase: string): Promise<void> {
    if (this.#sealed !== null) {
      throw new WalletError(
        Code.WRONG_ENC_STATE,
        "Error: running with an encrypted wallet, but encryptwallet was called.",
      );
    }
    if (passphrase === "") {
      throw new WalletError(Code.INVALID_PARAMETER, "passphrase cannot be empty");
    }
    const secret = this.#unlocked();
    const sealed = await encryptSecret(secret.mnemonic, passphrase);
    this.store.atomically(() => {
      this.store.setMeta("crypted", JSON.stringify(sealed));
      this.store.deleteMeta("secret");
    });
    // The plaintext's old pages are overwritten (secure_delete) and the journal emptied.
    this.store.scrub();
    this.#sealed = sealed;
    this.lock();
  }

  /** Unlocks for `timeout` seconds. */
  /**
   * Seals the secret under `next` instead of `current` (`walletpassphrasechange`);
   * the wallet stays locked or unlocked as it was.
   */
  async changePassphrase(current: string, next: string): Promise<void> {
    if (this.#sealed === null) {
      throw new WalletError(
        Code.WRONG_ENC_STATE,
        "Error: running with an unencrypted wallet, but walletpassphrasechange was called.",
      );
    }
    if (current === "" || next === "") {
      throw new WalletError(Code.INVALID_PARAMETER, "passphrase cannot be empty");
    }
    const mnemonic = await decryptSecret(this.#sealed, current);
    if (mnemonic === null) {
      throw new WalletError(
        Code.PASSPHRASE_INCORRECT,
        "Error: The wallet passphrase entered was incorrect.",
      );
    }
    const sealed = await encryptSecret(mnemonic, next);
    this.store.atomically(() => this.store.setMeta("crypted", JSON.stringify(sealed)));
    this.store.scrub();
    this.#sealed = sealed;
  }

  async unlock(passphrase: string, timeout: number): Promise<void> {
    if (this.#sealed === null) {
      throw new WalletError(
        Code.WRONG_ENC_STATE,
        "Error: running with an unencrypted wallet, but walletpassphrase was called.",
      );
    }
    if (timeout < 0) throw new WalletError(Code.INVALID_PARAMETER, "Timeout cannot be negative.");
    const mnemonic = await decryptSecret(this.#sealed, passphrase);
    if (mnemonic === null) {
      throw new WalletError(
        Code.PASSPHRASE_INCORRECT,
        "Error: The wallet passphrase entered was incorrect.",
      );
    }
    const seconds = Math.min(timeout, MAX_UNLOCK_SECONDS);
    this.#secret = HdSecret.fromMnemonic(mnemonic);
    this.#unlockedUntil = Math.floor(Date.now() / 1000) + seconds;
    this.#lockTimer?.clear();
    // A Timer: Core allows 10^8 s, far past what setTimeout holds.
    this.#lockTimer = new Timer(seconds * 1000, () => this.lock(), { persistent: false });
  }

  /** Forgets the secret (of an encrypted wallet). */
  lock(): void {
    if (this.#sealed === null) {
      throw new WalletError(
        Code.WRONG_ENC_STATE,
        "Error: running with an unencrypted wallet, but walletlock was called.",
      );
    }
    this.#lockTimer?.clear();
    this.#secret = null;
    this.#unlockedUntil = 0;
  }

  // --- spending ---

  /** The wallet's coin input `i` of `tx` spends, with its key; undefined if not the wallet's. */
  #spending(tx: Transaction, i: number): { coin: SpentCoin; key: DerivedKey } | undefined {
    const input = tx.getInput(i);
    const txid = hex.encode(input.txid!);
    const output = this.#ownOutput(txid, input.index!);
    const key = output && this.keyOf(output.script);
    if (output === undefined || key === undefined) return undefined;
    return { coin: { ...output, prevTx: this.#txs.get(txid)!.tx.raw }, key };
  }

  /**
   * Signs the inputs of `tx` that spend the wallet's coins
   * (`signrawtransactionwithwallet`); the inputs it could not sign, each
   * with Core's reason.
   */
  #sign(tx: Transaction, secret: HdSecret | null = this.#unlocked()): UnsignedInput[] {
    this.#signInputs(tx, { secret, sighash: null, finalize: true, bip32derivs: false });
    const unsigned: UnsignedInput[] = [];
    for (let i = 0; i < tx.inputsLength; i++) {
      const own = this.#spending(tx, i);
      if (own === undefined) unsigned.push({ index: i, error: NOT_FOUND });
      else if (!isFinalized(tx, i)) {
        unsigned.push({
          index: i,
          // Without the key, or (taproot) without every spent output to commit to.
          error: secret === null || own.key.kind === "pkh" ? MISSING_KEY : WITNESS_EMPTY,
        });
      }
    }
    return unsigned;
  }

  /**
   * Core's `SignPSBTInput` over the inputs of `tx` not final that spend the
   * wallet's coins: each described (with its key's origin if
   * `bip32derivs`), signed with `secret` (none: described only) at its
   * sighash (see {@linkcode #sighashFor}), and with `finalize` finalized
   * with its key's signature, one an earlier pass left too. The wallet's
   * inputs, each with its key.
   */
  #signInputs(
    tx: Transaction,
    options: Omit<PsbtOptions, "sign"> & { secret: HdSecret | null },
  ): Map<number, DerivedKey> {
    const own = new Map<number, { key: DerivedKey; sighash: number; taproot: TaprootFields }>();
    // Every input's spent output first: a taproot signature commits to all of them.
    for (let i = 0; i < tx.inputsLength; i++) {
      if (isFinalized(tx, i)) continue;
      const spending = this.#spending(tx, i);
      if (spending === undefined) continue;
      const { coin, key } = spending;
      const sighash = this.#sighashFor(tx, i, coin.script, options.sighash);
      const { tapInternalKey, tapBip32Derivation } = tx.getInput(i);
      const fingerprint = options.bip32derivs
        ? this.#accounts.get(key.kind)!.fingerprint
        : undefined;
      try {
        describeInput(tx, i, coin, key, fingerprint);
      } catch {
        // The PSBT tells another coin for this input: Core leaves it unsigned, as here.
        continue;
      }
      own.set(i, { key, sighash, taproot: { tapInternalKey, tapBip32Derivation } });
    }
    for (const [i, { key, sighash, taproot }] of own) {
      if (options.secret !== null) {
        try {
          tx.signIdx(options.secret.privateKey(key.path), i, [sighash]);
        } catch {
          // Unsignable here: a taproot spend with another input's coin unknown, SINGLE without
          // its output. The input stays as it is, which says so.
        }
      }
      if (options.finalize) finalizeInput(tx, i, key, taproot);
    }
    return new Map([...own].map(([i, { key }]) => [i, key]));
  }

  /**
   * The sighash input `i` (spending `script`) is signed with: `requested`,
   * else taproot's DEFAULT or ALL. A PSBT asking for another is refused
   * (Core's check for the user's safety, -22); one other than the input
   * type's default is recorded in it. The hash type to sign with (DEFAULT
   * is ALL for ECDSA).
   */
  #sighashFor(tx: Transaction, i: number, script: Uint8Array, requested: number | null): number {
    const taproot = script.length === 34 && script[0] === 0x51 && script[1] === 0x20;
    const sighash = requested ?? (taproot ? SIGHASH_DEFAULT : SIGHASH_ALL);
    const stored = tx.getInput(i).sighashType;
    if (stored !== undefined && stored !== sighash) {
      throw new WalletError(
        Code.DESERIALIZATION,
        "Specified sighash value does not match value stored in PSBT",
      );
    }
    if (sighash !== SIGHASH_DEFAULT && (taproot || sighash !== SIGHASH_ALL)) {
      tx.updateInput(i, { sighashType: sighash }, true);
    }
    return !taproot && sighash === SIGHASH_DEFAULT ? SIGHASH_ALL : sighash;
  }

  /**
   * Core's `FillPSBT` over the PSBT `tx`: each input not final gets the
   * transaction it spends when the wallet has it; the wallet's inputs are
   * described and signed ({@linkcode #signInputs}); any other input whose
   * coin the PSBT tells is held to its sighash, gets the coin as a witness
   * UTXO when it is a segwit spend, and is finalized with the signatures it
   * holds; each output paying the wallet gets its scripts and key origins.
   * Whether every input is now final, its coin known (Core verifies the
   * scripts too). Locked, or without private keys, it signs nothing, as
   * Core's (walletprocesspsbt checks the lock first).
   */
  processPsbt(tx: Transaction, options: PsbtOptions): boolean {
    for (let i = 0; i < tx.inputsLength; i++) {
      const input = tx.getInput(i);
      const previous = this.#txs.get(hex.encode(input.txid!));
      if (isFinalized(tx, i) || input.nonWitnessUtxo !== undefined || !previous) continue;
      try {
        tx.updateInput(i, { nonWitnessUtxo: previous.tx.raw }, true);
      } catch {
        // The PSBT tells another coin for this input; it is left as it is.
      }
    }
    const own = this.#signInputs(tx, { ...options, secret: options.sign ? this.#secret : null });
    for (let i = 0; i < tx.inputsLength; i++) {
      const spent = spentOutput(tx, i);
      if (own.has(i) || isFinalized(tx, i) || spent === undefined) continue;
      this.#sighashFor(tx, i, spent.script, options.sighash);
      if (isWitnessProgram(spent.script) && tx.getInput(i).witnessUtxo === undefined) {
        tx.updateInput(i, { witnessUtxo: spent }, true);
      }
      if (!options.finalize) continue;
      try {
        tx.finalizeIdx(i);
      } catch {
        // Not all its signatures, or another input's coin unknown (scure checks the fee first).
      }
    }
    for (let i = 0; i < tx.outputsLength; i++) {
      const key = this.keyOf(tx.getOutput(i).script!);
      if (key === undefined) continue;
      describeOutput(
        tx,
        i,
        key,
        options.bip32derivs ? this.#accounts.get(key.kind)!.fingerprint : undefined,
      );
    }
    dropPreviousTransactions(tx);
    for (let i = 0; i < tx.inputsLength; i++) {
      if (!isFinalized(tx, i) || spentOutput(tx, i) === undefined) return false;
    }
    return true;
  }

  /**
   * Builds, signs and broadcasts a transaction paying `payments` at
   * `feeRate` (sat/kvB) from the wallet's trusted coins, change to a new
   * address of the wallet, BIP 125 signalled unless not `replaceable`;
   * records it and returns it.
   */
  send(
    payments: readonly Payment[],
    feeRate: bigint,
    replaceable = true,
  ): Promise<{ tx: ParsedTx; fee: bigint }> {
    return this.#serial(async () => {
      this.#unlocked();
      const { tx } = this.#build({
        payments,
        feeRate,
        preset: [],
        available: this.#spendable((c) => c.safe),
        version: 2,
        lockTime: Math.max(this.#tip.height, 0),
        sequence: replaceable ? WALLET_SEQUENCE : MAX_SEQUENCE_NONFINAL,
      });
      return await this.#commit(tx);
    });
  }

  /**
   * Core's `FundTransaction`: adds coins (unless `request.addInputs` is
   * false) and at most one change output so that the transaction's inputs
   * pay its outputs and the fee at `request.feeRate`; signs nothing. The
   * inputs it has already are kept as they are; each must spend a coin of
   * the wallet (this wallet takes no solving data for others').
   */
  fund(request: FundRequest): Promise<Funded> {
    return this.#serial(() => this.#fund(request));
  }

  /**
   * Core's `send`: funds `request` as `fund` does, then finishes it as
   * `#finish` does, in one turn of the wallet's queue (no other send takes
   * the same coins in between).
   */
  fundAndFinish(request: FundRequest, options: FinishOptions): Promise<Finished> {
    return this.#serial(async () => this.#finish(psbtOf((await this.#fund(request)).raw), options));
  }

  /**
   * Core's `FinishTransaction` once the locktime is set: the PSBT filled with
   * its keys' origins and signed as far as the wallet can (locked, not at
   * all), each signed input finalized; broadcast and recorded when complete
   * unless `psbt` or not `addToWallet`. The PSBT comes back when it is
   * asked for, incomplete, or not added; the hex whenever complete and not
   * broadcast.
   */
  async #finish(tx: Transaction, options: FinishOptions): Promise<Finished> {
    const complete = this.processPsbt(tx, {
      sign: true,
      sighash: null,
      finalize: true,
      bip32derivs: true,
    });
    const psbt = options.psbt || !complete || !options.addToWallet
      ? base64.encode(tx.toPSBT(0))
      : undefined;
    if (!complete) return { psbt, complete };
    if (options.addToWallet && !options.psbt) {
      const { tx: sent } = await this.#publish(tx);
      return { txid: sent.txid, complete };
    }
    const raw = tx.toBytes(true, true);
    return { psbt, txid: parseTx(raw).txid, hex: hex.encode(raw), complete };
  }

  /** `fund`'s work, inside a turn of the queue. */
  async #fund(request: FundRequest): Promise<Funded> {
    for (const input of request.inputs) {
      if (this.#ownOutput(input.txid, input.vout) === undefined && !input.inUtxoSet) {
        throw new WalletError(Code.WALLET, "Unable to find UTXO for external input");
      }
    }
    const preset = request.inputs.map((input) => {
      const output = this.#ownOutput(input.txid, input.vout);
      if (output === undefined) {
        throw new WalletError(
          Code.WALLET,
          `Not solvable pre-selected input COutPoint(${input.txid.slice(0, 10)}, ${input.vout})`,
        );
      }
      const { tx, row } = this.#txs.get(input.txid)!;
      // BIP 431 (TRUC): an unconfirmed parent and its child are both version 3, or neither.
      if (
        this.confirmations(row) === 0 &&
        (tx.version === TRUC_VERSION) !== (request.version === TRUC_VERSION)
      ) {
        throw new WalletError(
          Code.WALLET,
          `Can't spend unconfirmed version ${tx.version} pre-selected input with a version ${request.version} tx`,
        );
      }
      return { ...input, amount: output.amount, key: this.keyOf(output.script)! };
    });
    const depthOk = (c: WalletCoin) =>
      c.confirmations >= request.minDepth &&
      (request.maxDepth === undefined || c.confirmations <= request.maxDepth);
    const built = this.#build({
      payments: request.payments,
      feeRate: request.feeRate,
      preset,
      available: request.addInputs
        ? await this.#trucChildless(
          this.#spendable(
            (c) => (c.safe || request.includeUnsafe) && depthOk(c),
            request.version,
          ),
        )
        : [],
      addInputs: request.addInputs,
      changeScript: request.changeScript,
      changeKind: request.changeKind,
      changePosition: request.changePosition,
      version: request.version,
      // The inputs added keep locktime semantics on: the given ones decide.
      lockTime: request.lockTime ?? this.#antiFeeSniping(request.inputs),
      // Core's: BIP 125 signalled, else final locktime semantics kept on (MAX_SEQUENCE_NONFINAL).
      sequence: request.replaceable ? WALLET_SEQUENCE : MAX_SEQUENCE_NONFINAL,
    });
    if (request.lockUnspents) this.setLocked(built.inputs, true, false);
    return {
      raw: withPresetScripts(built.tx, request.inputs),
      fee: built.fee,
      changePos: built.changePos,
    };
  }

  /** The coins coin selection may add: mature, not locked, and passing `accept`. */
  #spendable(accept: (coin: WalletCoin) => boolean, version = 2): WalletCoin[] {
    return this.coins().filter((c) =>
      !this.immature(c) && !this.#locked.has(`${c.txid}:${c.vout}`) && accept(c) &&
      // BIP 431 (TRUC), as Core's AvailableCoins: a version 3 transaction spends unconfirmed coins
      // of version 3 transactions only, any other never one of theirs.
      (c.confirmations > 0 ||
        (this.#txs.get(c.txid)!.tx.version === TRUC_VERSION) === (version === TRUC_VERSION))
    );
  }

  /**
   * Of `coins`, those a version 3 child may spend as Core's AvailableCoins
   * lets it: an unconfirmed version 3 parent takes one child (none in the
   * mempool yet) and has no unconfirmed parent of its own (the wallet's).
   */
  async #trucChildless(coins: WalletCoin[]): Promise<WalletCoin[]> {
    const kept: WalletCoin[] = [];
    for (const coin of coins) {
      const { tx } = this.#txs.get(coin.txid)!;
      if (coin.confirmations === 0 && tx.version === TRUC_VERSION) {
        if (await this.#chain.hasDescendantsInMempool(internalBytes(coin.txid))) continue;
        if (tx.inputs.some((input) => this.#txs.get(input.txid)?.row.blockHeight === null)) {
          continue;
        }
      }
      kept.push(coin);
    }
    return kept;
  }

  /**
   * Core's `CreateTransaction`: `preset` (kept as they are) and coins of
   * `available` to pay `payments` and the fee at `feeRate`, and change to
   * `changeScript` or to a new address of the wallet, at `changePosition`
   * (random by default, as Core places it). Signs nothing.
   */
  #build(spec: {
    payments: readonly Payment[];
    feeRate: bigint;
    preset: readonly {
      txid: string;
      vout: number;
      sequence: number;
      amount: bigint;
      key: DerivedKey;
    }[];
    available: readonly WalletCoin[];
    addInputs?: boolean;
    changeScript?: Uint8Array;
    changeKind?: DescriptorKind;
    changePosition?: number;
    version: number;
    lockTime: number;
    sequence: number;
  }): { tx: Transaction; fee: bigint; changePos: number; inputs: string[] } {
    const byKey = new Map(spec.available.map((c) => [`${c.txid}:${c.vout}`, c]));
    const changeKind = spec.changeKind ?? this.#changeKind(spec.payments);
    let changeScript = spec.changeScript;
    if (changeScript === undefined) {
      const changeAccount = this.#accounts.get(changeKind);
      if (changeAccount === undefined) throw new WalletError(Code.WALLET, NO_KEYS);
      changeScript = changeAccount.derive(true, this.nextIndex(changeKind, true)).script;
    }
    const plan = selectCoins({
      coins: spec.available.map(asCoin),
      preset: spec.preset.map(asCoin),
      addInputs: spec.addInputs,
      payments: spec.payments,
      feeRate: spec.feeRate,
      changeScript,
    });
    const outputs = spec.payments.map((p, i) => ({ script: p.script, amount: plan.amounts[i] }));
    let changePos = -1;
    if (plan.change !== null) {
      const script = spec.changeScript ?? this.newAddress(changeKind, true).script;
      changePos = spec.changePosition ?? Math.floor(Math.random() * (outputs.length + 1));
      outputs.splice(changePos, 0, { script, amount: plan.change });
    }
    const tx = new Transaction({
      version: spec.version,
      lockTime: spec.lockTime,
      allowUnknownOutputs: true,
      lowR: true, // as Core grinds its ECDSA signatures: 71-byte signatures, smaller fees
    });
    for (const input of spec.preset) {
      tx.addInput({ txid: input.txid, index: input.vout, sequence: input.sequence });
    }
    for (const chosen of plan.inputs.slice(spec.preset.length)) {
      const coin = byKey.get(chosen.key)!;
      tx.addInput({ txid: coin.txid, index: coin.vout, sequence: spec.sequence });
    }
    for (const output of outputs) tx.addOutput(output);
    return { tx, fee: plan.fee, changePos, inputs: plan.inputs.map((coin) => coin.key) };
  }

  /**
   * The change's kind, as Core's `TransactionChangeType` chooses it: the
   * type of a payment the wallet has a descriptor for (taproot first), else
   * taproot, else segwit v0, else any it has.
   */
  #changeKind(payments: readonly Payment[]): DescriptorKind {
    const types = new Set(payments.map((payment) => {
      try {
        return OutScript.decode(payment.script).type as string;
      } catch {
        return "unknown";
      }
    }));
    for (const [type, kind] of CHANGE_FOR) {
      if (types.has(type) && this.#accounts.has(kind)) return kind;
    }
    const [first] = this.#accounts.keys();
    return this.#accounts.has("tr") ? "tr" : this.#accounts.has("wpkh") ? "wpkh" : first ?? "wpkh";
  }

  /** Signs `tx` fully, broadcasts it, records it. */
  async #commit(tx: Transaction): Promise<{ tx: ParsedTx; fee: bigint }> {
    const unsigned = this.#sign(tx);
    if (unsigned.length > 0) throw new WalletError(Code.WALLET, "Signing transaction failed");
    return await this.#publish(tx);
  }

  /**
   * Core's `CommitTransaction`: records signed `tx`, then offers it to the
   * node's mempool. One the mempool refuses (a locktime still in the
   * future, say) stays in the wallet, holding its inputs, to be offered
   * again when the wallet loads: as Core's, the send succeeds all the same.
   */
  async #publish(tx: Transaction): Promise<{ tx: ParsedTx; fee: bigint }> {
    const parsed = parseTx(tx.toBytes(true, true));
    this.store.atomically(() => this.#record(parsed, {}));
    const { result } = await this.#chain.broadcastTransaction(parsed.raw, MAX_TX_FEE);
    if (result) this.store.atomically(() => this.#record(parsed, { inMempool: true }));
    const fee = this.#txs.get(parsed.txid)!.row.fee ?? 0n;
    return { tx: parsed, fee };
  }

  /**
   * Core's `bumpfee` (`CreateRateBumpTransaction`, then signing and
   * `CommitTransaction`): replaces wallet transaction `request.txid` by one
   * spending the same inputs (and confirmed coins more when they do not
   * cover the new fee), paying its recipients (or `request.outputs`) and
   * change to its change script, at a higher fee rate; broadcasts it and
   * records the replacement (or, with `request.psbt`, returns it as an
   * unsigned PSBT). Refuses with Core's codes and texts.
   */
  bumpFee(
    request: BumpRequest,
  ): Promise<{ txid?: string; psbt?: string; oldFee: bigint; fee: bigint }> {
    return this.#serial(async () => {
      // Only signing needs the keys.
      if (!request.psbt) this.#unlocked();
      if (request.outputs !== null && request.originalChangeIndex !== null) {
        throw new WalletError(
          Code.INVALID_PARAMETER,
          "The options 'outputs' and 'original_change_index' are incompatible. You can only either specify a new set of outputs, or designate a change output to be recycled.",
        );
      }
      const wtx = this.#txs.get(request.txid);
      if (wtx === undefined) {
        throw new WalletError(Code.INVALID_ADDRESS_OR_KEY, "Invalid or non-wallet transaction id");
      }
      const { tx } = wtx;
      const changeIndex = request.originalChangeIndex;
      if (changeIndex !== null && changeIndex >= tx.outputs.length) {
        throw new WalletError(Code.INVALID_PARAMETER, "Change position is out of range");
      }
      const spentInChain = this.#spentInChain();
      for (const input of tx.inputs) {
        if (spentInChain.has(outpointKey(input))) {
          throw new WalletError(Code.MISC, `${input.txid}:${input.vout} is already spent`);
        }
      }
      await this.#checkBumpable(wtx);
      const preset = tx.inputs.map((input) => {
        const coin = this.#ownOutput(input.txid, input.vout)!;
        const sequence = request.replaceable ? WALLET_SEQUENCE : MAX_SEQUENCE_NONFINAL;
        return { ...input, sequence, amount: coin.amount, key: this.keyOf(coin.script)! };
      });
      const sum = (amounts: readonly { amount: bigint }[]) =>
        amounts.reduce((total, { amount }) => total + amount, 0n);
      const oldFee = sum(preset) - sum(tx.outputs);

      // The recipients, and the change script kept (Core's OutputIsChange, or the index given).
      const txouts = request.outputs ?? tx.outputs;
      let changeScript: Uint8Array | undefined;
      let payments: Payment[] = [];
      txouts.forEach((output, i) => {
        if (changeIndex !== null ? i === changeIndex : this.isChange(output.script)) {
          changeScript = output.script;
        } else {
          payments.push({ script: output.script, amount: output.amount, subtractFee: false });
        }
      });
      if (payments.length === 0) {
        if (changeScript === undefined) {
          throw new WalletError(
            Code.INVALID_PARAMETER,
            "Unable to create transaction. Transaction must have at least one recipient",
          );
        }
        // Only change: it pays the fee, and any change left goes to a new address.
        payments = [{ script: changeScript, amount: sum(txouts), subtractFee: true }];
        changeScript = undefined;
      }

      let feeRate: bigint;
      if (request.feeRate !== null) {
        feeRate = request.feeRate;
        const weight = transactionWeight(preset.map(asCoin), txouts.map((o) => o.script));
        await this.#checkFeeRate(feeRate, weight, oldFee);
      } else {
        // The original's rate (rounded down, so 1 sat/kvB more) and the incremental step.
        feeRate = (oldFee * 1000n) / BigInt(tx.vsize) + 1n + await this.#incrementalFeeRate();
        if (request.walletFeeRate > feeRate) feeRate = request.walletFeeRate;
      }
      let built;
      try {
        built = this.#build({
          payments,
          feeRate,
          preset,
          // Confirmed coins only: a replacement may not add unconfirmed inputs (BIP 125 rule 2).
          available: this.#spendable((c) => c.confirmations >= 1),
          addInputs: true,
          changeScript,
          version: 2,
          lockTime: Math.max(this.#tip.height, 0),
          sequence: request.replaceable ? WALLET_SEQUENCE : MAX_SEQUENCE_NONFINAL,
        });
      } catch (error) {
        if (!(error instanceof SelectionError)) throw error;
        throw new WalletError(Code.WALLET, `Unable to create transaction. ${error.message}`);
      }
      if (request.psbt) {
        this.processPsbt(built.tx, {
          sign: false,
          sighash: null,
          finalize: false,
          bip32derivs: true,
        });
        return { psbt: base64.encode(built.tx.toPSBT(0)), oldFee, fee: built.fee };
      }
      if (this.#sign(built.tx).length > 0) {
        throw new WalletError(Code.WALLET, "Can't sign transaction.");
      }
      // Checked again, as Core's CommitTransaction does (answering any failure with -4): nothing
      // may have spent or mined it since.
      try {
        await this.#checkBumpable(this.#txs.get(request.txid)!);
      } catch (error) {
        if (error instanceof WalletError) throw new WalletError(Code.WALLET, error.message);
        throw error;
      }
      const { tx: replacement } = await this.#publish(built.tx);
      this.#replacedBy.set(request.txid, replacement.txid);
      this.#replaces.set(replacement.txid, request.txid);
      this.store.atomically(() =>
        this.store.setMeta("replaced_txs", JSON.stringify([...this.#replacedBy]))
      );
      return { txid: replacement.txid, oldFee, fee: built.fee };
    });
  }

  /** The step a bump adds: the node's incremental relay fee, at least the wallet's. */
  async #incrementalFeeRate(): Promise<bigint> {
    const node = await this.#chain.relayIncrementalFee();
    return node > WALLET_INCREMENTAL_RELAY_FEE ? node : WALLET_INCREMENTAL_RELAY_FEE;
  }

  /**
   * The locktime Core's `FinishTransaction` gives a send that was given
   * none: the tip's height against fee sniping (`DiscourageFeeSniping`),
   * when every input keeps locktime semantics on; else 0.
   */
  #antiFeeSniping(inputs: readonly { sequence: number }[]): number {
    const kept = inputs.every((input) =>
      input.sequence === WALLET_SEQUENCE || input.sequence === MAX_SEQUENCE_NONFINAL
    );
    return kept ? Math.max(this.#tip.height, 0) : 0;
  }

  /** Core's `GetRequiredFeeRate`: the higher of `-mintxfee` and the node's relay minimum. */
  async requiredFeeRate(): Promise<bigint> {
    const relayMin = await this.#chain.relayMinFee();
    return relayMin > MIN_RELAY_TX_FEE ? relayMin : MIN_RELAY_TX_FEE;
  }

  /**
   * Core's `sendall`: spends `request.inputs`, or every coin the wallet may
   * spend (mature, unlocked, confirmed or its own unconfirmed change,
   * within the depths asked), pays the outputs with amounts, and shares
   * what is left after the fee equally among the others, the first taking
   * the rounding. Refuses with Core's codes and texts; signs, then
   * broadcasts and records it, or returns it (and a PSBT) unsent.
   */
  sendAll(request: SendAllRequest): Promise<Finished> {
    return this.#serial(async () => {
      const rate = request.feeRate;
      const required = await this.requiredFeeRate();
      if (request.explicitFeeRate && rate < required) {
        throw new WalletError(
          Code.INVALID_PARAMETER,
          `Fee rate (${formatSatPerVbyte(rate)}) is lower than the minimum fee rate setting (${
            formatSatPerVbyte(required)
          }).\nConsider modifying -mintxfee (${
            formatSatPerVbyte(MIN_RELAY_TX_FEE)
          }) or -minrelaytxfee (${formatSatPerVbyte(await this.#chain.relayMinFee())}).`,
        );
      }
      const feeRate = rate < required ? required : rate;
      const sequence = request.replaceable ? WALLET_SEQUENCE : MAX_SEQUENCE_NONFINAL;
      let coins: (OutPoint & { sequence: number; amount: bigint; key: DerivedKey })[];
      if (request.inputs !== null) {
        const spent = this.#spent();
        coins = request.inputs.map((input) => {
          const outpoint = `${input.txid}:${input.vout}`;
          if (spent.has(outpoint)) {
            throw new WalletError(
              Code.INVALID_PARAMETER,
              `Input not available. UTXO (${outpoint}) was already spent.`,
            );
          }
          const output = this.#ownOutput(input.txid, input.vout);
          if (output === undefined) {
            throw new WalletError(
              Code.INVALID_PARAMETER,
              `Input not found. UTXO (${outpoint}) is not part of wallet.`,
            );
          }
          return { ...input, amount: output.amount, key: this.keyOf(output.script)! };
        });
      } else {
        coins = this.#spendable((c) =>
          c.safe && c.confirmations >= request.minDepth &&
          (request.maxDepth === null || c.confirmations <= request.maxDepth)
        ).filter((c) => !request.sendMax || feeFor(asCoin(c).inputWeight, feeRate) <= c.amount)
          .map((c) => ({ txid: c.txid, vout: c.vout, sequence, amount: c.amount, key: c.key }));
      }
      const weight = transactionWeight(coins.map(asCoin), request.outputs.map((o) => o.script));
      const fee = feeFor(weight, feeRate);
      if (fee > MAX_TX_FEE) {
        throw new WalletError(
          Code.WALLET,
          "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
        );
      }
      const total = coins.reduce((sum, coin) => sum + coin.amount, 0n);
      const effective = total - fee;
      if (effective <= 0n) {
        throw new WalletError(
          Code.INSUFFICIENT_FUNDS,
          request.sendMax
            ? "Total value of UTXO pool too low to pay for transaction, try using lower feerate."
            : "Total value of UTXO pool too low to pay for transaction. Try using lower feerate or excluding uneconomic UTXOs with 'send_max' option.",
        );
      }
      if (weight > MAX_STANDARD_TX_WEIGHT) {
        throw new WalletError(Code.WALLET, "Transaction too large.");
      }
      const claimed = request.outputs.reduce((sum, o) => sum + (o.remainder ? 0n : o.amount), 0n);
      if (claimed > total) {
        throw new WalletError(
          Code.INSUFFICIENT_FUNDS,
          "Assigned more value to outputs than available funds.",
        );
      }
      const left = effective - claimed;
      if (left < 0n) {
        throw new WalletError(
          Code.INSUFFICIENT_FUNDS,
          "Insufficient funds for fees after creating specified outputs.",
        );
      }
      const sharing = BigInt(request.outputs.filter((o) => o.remainder).length);
      let rounding = left % sharing;
      const outputs = request.outputs.map((output) => {
        // An OP_RETURN output is never dust (it cannot be spent).
        const dust = output.script[0] !== 0x6a && output.amount < dustThreshold(output.script);
        if (!output.remainder) {
          if (dust) {
            throw new WalletError(
              Code.INVALID_PARAMETER,
              `Specified output amount to ${
                scriptAddress(output.script) ?? hex.encode(output.script)
              } is below dust threshold.`,
            );
          }
          return output;
        }
        const amount = left / sharing + rounding;
        rounding = 0n;
        if (output.script[0] !== 0x6a && amount < dustThreshold(output.script)) {
          throw new WalletError(
            Code.INSUFFICIENT_FUNDS,
            "Dynamically assigned remainder results in dust output.",
          );
        }
        return { script: output.script, amount };
      });
      if (request.lockUnspents) {
        this.setLocked(coins.map((c) => `${c.txid}:${c.vout}`), true, false);
      }
      const tx = new Transaction({
        version: 2,
        lockTime: request.lockTime ?? this.#antiFeeSniping(coins),
        allowUnknownOutputs: true,
        lowR: true,
      });
      for (const coin of coins) {
        tx.addInput({ txid: coin.txid, index: coin.vout, sequence: coin.sequence });
      }
      for (const output of outputs) tx.addOutput(output);
      // Locked, it answers as Core's: the PSBT, unsigned, and not complete.
      return await this.#finish(tx, request);
    });
  }

  /** Outpoints a confirmed wallet transaction spends: gone from the UTXO set. */
  #spentInChain(): Set<string> {
    const spent = new Set<string>();
    for (const { tx, row } of this.#txs.values()) {
      if (row.blockHeight === null) continue;
      for (const input of tx.inputs) spent.add(outpointKey(input));
    }
    return spent;
  }

  /** Core's `PreconditionChecks` of a bump (`require_mine`). */
  async #checkBumpable({ tx, row }: WalletTx): Promise<void> {
    // Core's HasWalletSpend: a spender abandoned or conflicted does not count (IsSpent).
    const holding = (spender: string) => this.#holdsInputs(this.#txs.get(spender)!);
    const spends = (vout: number) =>
      (this.#spends.get(outpointKey({ txid: tx.txid, vout })) ?? []).some(holding);
    if (tx.outputs.some((_, vout) => spends(vout))) {
      throw new WalletError(Code.INVALID_PARAMETER, "Transaction has descendants in the wallet");
    }
    if (await this.#chain.hasDescendantsInMempool(internalBytes(tx.txid))) {
      throw new WalletError(Code.INVALID_PARAMETER, "Transaction has descendants in the mempool");
    }
    if (row.blockHeight !== null || this.#conflicted({ tx, row })) {
      throw new WalletError(
        Code.WALLET,
        "Transaction has been mined, or is conflicted with a mined transaction",
      );
    }
    if (!tx.inputs.some((input) => input.sequence < MAX_SEQUENCE_NONFINAL)) {
      throw new WalletError(Code.WALLET, "Transaction is not BIP 125 replaceable");
    }
    const by = this.#replacedBy.get(tx.txid);
    if (by !== undefined) {
      throw new WalletError(
        Code.WALLET,
        `Cannot bump transaction ${tx.txid} which was already bumped by transaction ${by}`,
      );
    }
    if (!this.allFromMe(tx)) {
      throw new WalletError(
        Code.WALLET,
        "Transaction contains inputs that don't belong to this wallet",
      );
    }
  }

  /**
   * Core's `CheckFeeRate` of a rate the caller gave, for a replacement
   * weighing at most `weight`: at least the mempool's minimum, its fee at
   * least the old one plus the incremental relay fee for its size and the
   * required fee, at most `-maxtxfee`. (Core adds what unconfirmed parents
   * need to reach the rate, `calculateCombinedBumpFee`; this node has no
   * such query, so none is added.)
   */
  async #checkFeeRate(feeRate: bigint, weight: number, oldFee: bigint): Promise<void> {
    const btc = (sats: bigint) => formatMoney(sats);
    const mempoolMin = await this.#chain.mempoolMinFee();
    if (feeRate < mempoolMin) {
      throw new WalletError(
        Code.WALLET,
        `New fee rate (${btc(feeRate)}) is lower than the minimum fee rate (${
          btc(mempoolMin)
        }) to get into the mempool -- `,
      );
    }
    const newFee = feeFor(weight, feeRate);
    const incremental = feeFor(weight, await this.#incrementalFeeRate());
    if (newFee < oldFee + incremental) {
      throw new WalletError(
        Code.INVALID_PARAMETER,
        `Insufficient total fee ${btc(newFee)}, must be at least ${
          btc(oldFee + incremental)
        } (oldFee ${btc(oldFee)} + incrementalFee ${btc(incremental)})`,
      );
    }
    const required = feeFor(weight, MIN_RELAY_TX_FEE);
    if (newFee < required) {
      throw new WalletError(
        Code.INVALID_PARAMETER,
        `Insufficient total fee (cannot be less than required fee ${btc(required)})`,
      );
    }
    if (newFee > MAX_TX_FEE) {
      throw new WalletError(
        Code.WALLET,
        `Specified or calculated fee ${btc(newFee)} is too high (cannot be higher than -maxtxfee ${
          btc(MAX_TX_FEE)
        })`,
      );
    }
  }

  /**
   * Signs what it can of the raw transaction `raw` (`signrawtransactionwithwallet`):
   * the new bytes and, per input it could not sign, its index.
   */
  signRaw(raw: Uint8Array): { raw: Uint8Array; unsigned: UnsignedInput[] } {
    const tx = Transaction.fromRaw(raw, TX_OPTIONS);
    const unsigned = this.#sign(tx);
    return { raw: tx.toBytes(true, true), unsigned };
  }

  /** Writes a copy of the database to `path`. */
  backup(path: string): void {
    this.store.backup(path);
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
    this.store.close();
  }

  [Symbol.dispose](): void {
    this.#lockTimer?.clear();
    this.#closed = true;
    this.store.close();
  }
}

/** The meta key of a chain's next unused index. */
function nextKey(kind: DescriptorKind, internal: boolean): string {
  return `next_${kind}_${internal ? 1 : 0}`;
}

/** The meta key of how many scripts a chain has derived. */
function derivedCountKey(kind: DescriptorKind, internal: boolean): string {
  return `derived_${kind}_${internal ? 1 : 0}`;
}
