/**
 * The wallet's JSON-RPC methods, with bitcoind's result shapes, error codes
 * and texts (`bitcoind-rpc.md` §9). The node checks the arguments against
 * each method's spec and hands them over in positional order, amounts
 * already in satoshis (`schemas/ipc/wallet.capnp`); these functions run
 * the method on one wallet and answer with a {@linkcode Reply}.
 *
 * The loader (`loader.ts`, whose example runs it) calls
 * `walletMethods[method](wallet, args, options)` for each request.
 * @module
 */
import type { NotifierOutbox } from "../notify/outbox.ts";
import { DEFAULT_WALLET_POLICY, type WalletPolicy } from "../bitcoin/wallet_policy.ts";
import { addressToScript } from "../bitcoin/address.ts";
import { base64, hex } from "@scure/base";
import { Address, OutScript, RawTx } from "@scure/btc-signer";
import { psbtOf, readPsbt } from "./psbt.ts";
import type { Payment } from "./coinselect.ts";
import { dustThreshold, SelectionError } from "./coinselect.ts";
import type { DescriptorKind } from "./descriptor.ts";
import {
  type DerivedKey,
  type ImportedSecret,
  isMultisig,
  isSingleKey,
  isTaprootTree,
  type KeySource,
  scriptsWithin,
  sourceKeyCount,
  type TreeLeafKind,
} from "./keys.ts";
import { ADDRESS_TYPES, fingerprintHex } from "./descriptor.ts";
import { Btc, type Reply } from "./json.ts";
import { formatSatPerVbyte } from "../bitcoin/amount.ts";
import { parseHashV } from "../rpc/params.ts";
import type { Json } from "../rpc/json.ts";
import { processPsbt, signRaw } from "./sign.ts";
import {
  bumpFee,
  type FinishOptions,
  fundAndFinish,
  type FundRequest,
  fundTransaction,
  requiredFeeRate,
  sendAll,
  sendMoney,
} from "./spend.ts";
import {
  Code,
  type ImportedDescriptor,
  NO_KEYS,
  NOTHING_TO_ENCRYPT,
  RESCAN_RUNNING,
  scriptAddress,
  sourceXpubs,
  type Wallet,
  WalletError,
  type WalletTx,
} from "./wallet.ts";
import { REGTEST, TEST_VERSIONS } from "./network.ts";
import { HDKey } from "@scure/bip32";
import { MAX_KEYPOOL } from "../bitcoin/options.ts";
import { internalBytes, parseTx } from "./tx.ts";
import { compareBytes } from "../bitcoin/bytes.ts";

/** Options of the wallet process that methods read. */
export interface WalletRpcOptions {
  /**
   * `-keypool`: scripts each chain watches past its next index, which the
   * loader opens each wallet with; `KEYPOOL_SIZE` when not given.
   */
  readonly keypool?: number;
  /**
   * `-mocktime`: the time the wallets' clock is held at from the start
   * (0 or none: the system's), until the node's `setmocktime` says otherwise.
   */
  readonly mockTime?: number;
  /** `-walletdir`: where the wallets live, an existing directory; `<datadir>/wallets` by default. */
  readonly walletDir?: string;
  /** `-addresstype`, `-fallbackfee`, ...: what the loader opens each wallet with; Core's defaults when not given. */
  readonly policy?: WalletPolicy;
  /**
   * Core's refusal of a bad wallet option (`policy` holds the defaults
   * then) given the node's relay minimum (sat/kvB): every wallet load and
   * creation fails with it, as Core's `CWallet::Create` checks them; null
   * or none when the options are good.
   */
  readonly policyRefusal?: (relayMinFee: bigint) => string | null;
  /** Where the wallets' log lines go; nowhere when not given. */
  readonly log?: (line: string) => void;
  /** Where the wallets tell of their transactions (`-walletnotify`); nowhere when not given. */
  readonly notifications?: NotifierOutbox;
}

/** A wallet method: the wallet, its positional arguments (JSON values), the options. */
type WalletMethod = (
  wallet: Wallet,
  params: unknown[],
  options: WalletRpcOptions,
) => Reply | Promise<Reply>;

const FEE_ESTIMATION_FAILED =
  "Fee estimation failed. Fallbackfee is disabled. Wait a few blocks or enable -fallbackfee.";
/** Core's `walletversion` of descriptor wallets (FEATURE_LATEST). */
const WALLET_VERSION = 169900;

function fail(code: number, message: string): never {
  throw new WalletError(code, message);
}

function str(value: unknown, fallback = ""): string {
  return value === null || value === undefined ? fallback : String(value);
}

function bool(value: unknown, fallback: boolean): boolean {
  return value === null || value === undefined ? fallback : value === true;
}

function int(value: unknown, fallback: number): number {
  return value === null || value === undefined ? fallback : Number(value);
}

/**
 * An address's output script, or `code` (-5 by default) with `message` (by
 * default `Invalid Bitcoin address: <text>`).
 */
export function addressScript(
  address: string,
  message = `Invalid Bitcoin address: ${address}`,
  code: number = Code.INVALID_ADDRESS_OR_KEY,
): Uint8Array {
  try {
    return OutScript.encode(Address(REGTEST).decode(address));
  } catch {
    return fail(code, message);
  }
}

/**
 * Core's `GetReceived` over `scripts`, those of them the wallet's only
 * (-4 `Address not found in wallet` when none is).
 */
function receivedBy(
  wallet: Wallet,
  scripts: readonly Uint8Array[],
  minconf: unknown,
  immature: unknown,
): Reply {
  const own = new Set(scripts.filter((s) => wallet.isMine(s)).map((s) => hex.encode(s)));
  if (own.size === 0) fail(Code.WALLET, "Address not found in wallet");
  return new Btc(wallet.received(own, int(minconf, 1), bool(immature, false)));
}

/** What the node hands `fundrawtransaction` (see `components/node/methods/funding.ts`). */
interface FundrawRequest {
  version: number;
  /** null: none was given (`send`), for the wallet to set one against fee sniping. */
  locktime: number | null;
  inputs: {
    txid: string;
    vout: number;
    sequence: number;
    scriptSig: string;
    witness: string[];
    inUtxoSet: boolean;
  }[];
  /** Amounts as decimal text of the 64 bits the node read. */
  outputs: { script: string; amount: string; subtractFee: boolean }[];
  addInputs: boolean;
  includeUnsafe: boolean;
  lockUnspents: boolean;
  minconf: number;
  maxconf: number | null;
  changeScript: string | null;
  changeType: string | null;
  changePosition: number | null;
  /** Satoshis per 1000 vB; null: the wallet's choice. */
  feeRate: number | null;
  replaceable: boolean;
  /** `max_tx_weight`, or null when not given. */
  maxTxWeight: number | null;
}

/**
 * Core's `FundTransaction` of what the node read (`fundrawtransaction`,
 * `walletcreatefundedpsbt`, `send`): the wallet's request built from it and
 * handed to `fund`, whose failures are all RPC_WALLET_ERROR.
 */
async function fundRequested<T>(
  wallet: Wallet,
  r: FundrawRequest,
  options: WalletRpcOptions,
  fund: (request: FundRequest) => Promise<T>,
): Promise<T> {
  const payments = r.outputs.map((output): Payment => ({
    script: hex.decode(output.script),
    // A CAmount: the 64 bits read as signed.
    amount: BigInt.asIntN(64, BigInt(output.amount)),
    subtractFee: output.subtractFee,
  }));
  if (payments.some((payment) => payment.amount < 0n)) {
    fail(Code.WALLET, "Transaction amounts must not be negative");
  }
  // Core's CreateTransaction: a spendable output worth less than spending it, unless its
  // share of the fee is taken from it (checked once that share is known).
  const dustRelayFee = await wallet.chain.relayDustFee();
  for (const payment of payments) {
    const unspendable = payment.script[0] === 0x6a;
    if (
      !unspendable && !payment.subtractFee &&
      payment.amount < dustThreshold(payment.script, dustRelayFee)
    ) {
      fail(Code.WALLET, "Transaction amount too small");
    }
  }
  // Core's fundrawtransaction says so with -4 where a send says -6.
  const { rate } = await feeRate(wallet, r.feeRate, options, Code.WALLET);
  try {
    return await fund({
      version: r.version,
      lockTime: r.locktime,
      inputs: r.inputs.map((input) => ({
        ...input,
        scriptSig: hex.decode(input.scriptSig),
        witness: input.witness.map((item) => hex.decode(item)),
      })),
      payments,
      feeRate: rate,
      addInputs: r.addInputs,
      includeUnsafe: r.includeUnsafe,
      minDepth: r.minconf,
      maxDepth: r.maxconf ?? undefined,
      changeScript: r.changeScript === null ? undefined : hex.decode(r.changeScript),
      changeKind: r.changeType === null ? undefined : ADDRESS_TYPES[r.changeType],
      changePosition: r.changePosition ?? undefined,
      replaceable: r.replaceable,
      lockUnspents: r.lockUnspents,
      maxWeight: r.maxTxWeight ?? undefined,
    });
  } catch (error) {
    if (error instanceof SelectionError || error instanceof WalletError) {
      fail(Code.WALLET, error.message);
    }
    throw error;
  }
}

/**
 * Core's `bumpfee` and `psbtbumpfee` (`bumpfee_helper`): the replacement's
 * txid, or (`psbt`) its unsigned PSBT, then both fees.
 */
async function bump(
  wallet: Wallet,
  r: BumpfeeRequest,
  options: WalletRpcOptions,
  psbt: boolean,
): Promise<Reply> {
  wallet.ensureUnlocked();
  const bumped = await bumpFee(wallet, {
    txid: r.txid,
    feeRate: r.feeRate === null ? null : BigInt(r.feeRate),
    // Core's GetMinimumFeeRate, which is 0 when there is no estimate and no fallback fee.
    walletFeeRate: (await minimumFeeRate(wallet, options)).rate,
    replaceable: r.replaceable,
    outputs: r.outputs?.map((output) => ({
      script: hex.decode(output.script),
      amount: BigInt(output.amount),
    })) ?? null,
    originalChangeIndex: r.originalChangeIndex,
    psbt,
  });
  return {
    txid: bumped.txid,
    psbt: bumped.psbt,
    origfee: new Btc(bumped.oldFee),
    fee: new Btc(bumped.fee),
    errors: [],
  };
}

/** What the node hands `simulaterawtransaction` of each transaction (null: hex not decoded). */
type SimulatedTx = {
  txid: string;
  /** `known`: the coin is in the node's UTXO set or the mempool (Core's `findCoins`). */
  inputs: { txid: string; vout: number; known: boolean }[];
  /** Amounts as decimal text. */
  outputs: { script: string; amount: string }[];
} | null;

/** What the node hands `walletprocesspsbt` (see `components/node/methods/walletpsbt.ts`). */
interface ProcessPsbtRequest {
  /** Base64, as the node read it. */
  psbt: string;
  sign: boolean;
  /** The sighash asked for; null: each input type's default. */
  sighash: number | null;
  bip32derivs: boolean;
  finalize: boolean;
}

/** What the node hands `bumpfee` (see `components/node/methods/funding.ts`). */
interface BumpfeeRequest {
  txid: string;
  /** Satoshis per 1000 vB; null: Core's choice (`EstimateFeeRate`). */
  feeRate: number | null;
  replaceable: boolean;
  /** Amounts as decimal text. */
  outputs: { script: string; amount: string }[] | null;
  originalChangeIndex: number | null;
}

/** What the node hands `sendall` (see `components/node/methods/funding.ts`). */
interface SendallRequest {
  inputs: { txid: string; vout: number; sequence: number }[] | null;
  /** Amounts as decimal text; `remainder` outputs share what is left. */
  outputs: { script: string; amount: string; remainder: boolean }[];
  /** Satoshis per 1000 vB; null: the wallet's choice. */
  feeRate: number | null;
  replaceable: boolean;
  locktime: number | null;
  sendMax: boolean;
  minconf: number;
  maxconf: number | null;
  lockUnspents: boolean;
  addToWallet: boolean;
  psbt: boolean;
  version: number;
}

/** What `listReceived` reads: the arguments both methods share, and the address filter. */
interface ReceivedQuery {
  minconf: unknown;
  includeEmpty: unknown;
  immature: unknown;
  filter?: unknown;
}

/**
 * Core's `ListReceived`: for each address of the address book (in its
 * order), or summed per label (in byte order), what the wallet's
 * transactions of at least `minconf` confirmations paid it. Addresses paid
 * nothing are left out unless `includeEmpty`.
 */
function listReceived(wallet: Wallet, query: ReceivedQuery, byLabel: boolean): Reply {
  const minDepth = int(query.minconf, 1);
  const withImmature = bool(query.immature, false);
  const filterText = str(query.filter);
  const filter = filterText === ""
    ? undefined
    : hex.encode(addressScript(filterText, "address_filter parameter was invalid", Code.WALLET));
  const tally = new Map<string, { amount: bigint; depth: number; txids: string[] }>();
  for (const { tx, row } of wallet.transactions()) {
    const depth = wallet.confirmations(row);
    if (depth < minDepth || (tx.coinbase && depth < 1)) continue;
    if (!withImmature && wallet.immature({ coinbase: tx.coinbase, confirmations: depth })) continue;
    for (const output of tx.outputs) {
      const script = hex.encode(output.script);
      if (
        (filter !== undefined && script !== filter) || !wallet.isMine(output.script)
      ) {
        continue;
      }
      const item = tally.get(script) ?? { amount: 0n, depth: Infinity, txids: [] };
      item.amount += output.amount;
      item.depth = Math.min(item.depth, depth);
      item.txids.push(tx.txid);
      tally.set(script, item);
    }
  }
  // Core's "no transaction" depth is INT_MAX, answered as 0.
  const confirmations = (depth: number) => depth === Infinity ? 0 : depth;
  const book = [...wallet.addressBook]
    .filter(([script]) => filter === undefined || script === filter)
    .map(([script, entry]) => [hex.decode(script), entry.label] as const)
    .sort(([a], [b]) => destinationOrder(a, b));
  const rows: Reply[] = [];
  const labels = new Map<string, { amount: bigint; depth: number }>();
  for (const [script, label] of book) {
    const item = tally.get(hex.encode(script));
    if (item === undefined && !bool(query.includeEmpty, false)) continue;
    const amount = item?.amount ?? 0n;
    const depth = item?.depth ?? Infinity;
    if (byLabel) {
      const sum = labels.get(label) ?? { amount: 0n, depth: Infinity };
      labels.set(label, { amount: sum.amount + amount, depth: Math.min(sum.depth, depth) });
    } else {
      rows.push({
        address: scriptAddress(script),
        amount: new Btc(amount),
        confirmations: confirmations(depth),
        label,
        txids: item?.txids ?? [],
      });
    }
  }
  if (!byLabel) return rows;
  return [...labels].sort(([a], [b]) => byBytes(a, b)).map(([label, sum]) => ({
    amount: new Btc(sum.amount),
    confirmations: confirmations(sum.depth),
    label,
  }));
}

/** Core's `ParseHashO`: 64 hex digits, or -8 with its text. */
function hashArg(value: unknown, name: string): string {
  const text = typeof value === "string" ? value : "";
  if (text.length !== 64) {
    fail(
      Code.INVALID_PARAMETER,
      `${name} must be of length 64 (not ${text.length}, for '${text}')`,
    );
  }
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    fail(Code.INVALID_PARAMETER, `${name} must be hexadecimal string (not '${text}')`);
  }
  return text.toLowerCase();
}

/** Core's name of a JSON value's type (`uvTypeName`). */
function jsonTypeName(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "boolean" ? "bool" : typeof value;
}

/**
 * An array element read as Core's `get_obj` and `RPCTypeCheckObj`: an object
 * whose `expected` fields are present and of their JSON type (-3 otherwise).
 */
function typedFields(
  value: unknown,
  expected: Record<string, "string" | "number">,
): Record<string, unknown> {
  const actual = jsonTypeName(value);
  if (actual !== "object") {
    fail(Code.TYPE, `JSON value of type ${actual} is not of expected type object`);
  }
  const fields = value as Record<string, unknown>;
  for (const [key, type] of Object.entries(expected)) {
    const field = jsonTypeName(fields[key]);
    if (field === "null") fail(Code.TYPE, `Missing ${key}`);
    if (field !== type) {
      fail(
        Code.TYPE,
        `JSON value of type ${field} for field ${key} is not of expected type ${type}`,
      );
    }
  }
  return fields;
}

/**
 * Core's refusal to lock the wallet or change its passphrase while a
 * rescan, which may need the keys, runs (-4).
 */
function refuseWhileRescanning(wallet: Wallet, doing: string): void {
  if (wallet.scanning === false) return;
  fail(
    Code.WALLET,
    "Error: the wallet is currently being used to rescan the blockchain for related transactions. " +
      `Please call \`abortrescan\` before ${doing}.`,
  );
}

/** Core's `LabelFromValue`: "" when absent; `*` is -11 `Invalid label name`. */
function labelName(value: unknown): string {
  const label = str(value);
  if (label === "*") fail(Code.INVALID_LABEL_NAME, "Invalid label name");
  return label;
}

/** `getaddressinfo`'s `labels`: the address book entry's label, if any. */
function labelsOf(wallet: Wallet, script: Uint8Array): string[] {
  const entry = wallet.addressBookEntry(script);
  return entry === undefined ? [] : [entry.label];
}

/** Strings in the order of their UTF-8 bytes, as `std::string` compares. */
function byBytes(a: string, b: string): number {
  return compareBytes(new TextEncoder().encode(a), new TextEncoder().encode(b));
}

/** `CTxDestination`'s order: the variant's rank (pkh, sh, wsh, wpkh, tr), then its bytes. */
function destinationOrder(a: Uint8Array, b: Uint8Array): number {
  const ranks = ["pkh", "sh", "wsh", "wpkh", "tr"];
  const rank = (script: Uint8Array) => {
    const found = ranks.indexOf(OutScript.decode(script).type);
    return found < 0 ? ranks.length : found;
  };
  return rank(a) - rank(b) || compareBytes(a, b);
}

/** The kind of address `type` names, when `wallet` has an external or change descriptor of it. */
function addressKind(wallet: Wallet, type: string, internal: boolean): DescriptorKind {
  if (!Object.hasOwn(ADDRESS_TYPES, type)) {
    return fail(Code.INVALID_ADDRESS_OR_KEY, `Unknown address type '${type}'`);
  }
  const kind = ADDRESS_TYPES[type];
  // Core's text when the wallet has no descriptor of the type (one made before it kept all four).
  if (wallet.accounts.get(kind)?.chain(internal) === undefined) {
    fail(-12, `Error: No ${type} addresses available.`);
  }
  return kind;
}

/** Core's `DescribeAddress`: what an output script's type tells. */
function describeScript(script: Uint8Array): Record<string, Reply | undefined> {
  const { type } = OutScript.decode(script);
  const version = type === "tr" ? 1 : type === "wpkh" || type === "wsh" ? 0 : undefined;
  return {
    isscript: type === "sh" || type === "wsh" || type === "tr",
    iswitness: version !== undefined,
    witness_version: version,
    witness_program: version === undefined ? undefined : hex.encode(script.subarray(2)),
  };
}

/**
 * Core's `DescribeWalletAddress` for one of the wallet's keys: the script
 * type's fields, then the key (and for `sh(wpkh())` the script it wraps).
 */
function describeKey(key: DerivedKey): Record<string, Reply | undefined> {
  if (isMultisig(key)) {
    const multisig = {
      script: "multisig",
      hex: hex.encode(key.witnessScript ?? key.redeemScript!),
      sigsrequired: key.threshold,
      pubkeys: key.keys.map(({ publicKey }) => hex.encode(publicKey)),
    };
    if (key.witnessScript === undefined || key.redeemScript === undefined) {
      return { ...describeScript(key.script), ...multisig };
    }
    // sh(wsh()): the P2WSH script it wraps, described in turn.
    const redeem = key.redeemScript;
    return {
      ...describeScript(key.script),
      script: "witness_v0_scripthash",
      hex: hex.encode(redeem),
      embedded: {
        ...describeScript(redeem),
        ...multisig,
        address: scriptAddress(redeem),
        scriptPubKey: hex.encode(redeem),
      },
    };
  }
  // Core describes a taproot output by its script alone, a tree's (whose output key is no key of
  // the wallet's) as a single key's.
  if (isTaprootTree(key) || key.kind === "tr") return describeScript(key.script);
  const pubkey = hex.encode(key.publicKey);
  if (key.kind === "pkh") return { ...describeScript(key.script), pubkey, iscompressed: true };
  if (key.kind === "wpkh") return { ...describeScript(key.script), pubkey };
  const redeem = key.redeemScript!;
  return {
    ...describeScript(key.script),
    script: "witness_v0_keyhash",
    hex: hex.encode(redeem),
    pubkey,
    embedded: {
      ...describeScript(redeem),
      pubkey,
      address: scriptAddress(redeem),
      scriptPubKey: hex.encode(redeem),
    },
  };
}

function lastProcessedBlock(wallet: Wallet): Reply {
  return { hash: wallet.tip.hash, height: wallet.tip.height };
}

/**
 * Core's `GetMinimumFeeRate` for a call that gives no rate: the wallet's
 * `settxfee` rate, else the fallback fee (the node keeps no estimates) at
 * least the mempool's minimum, and either at least the required rate
 * (`-mintxfee`, the relay minimum); 0 when neither rate is set.
 */
async function minimumFeeRate(
  wallet: Wallet,
  options: WalletRpcOptions,
): Promise<{ rate: bigint; reason: string }> {
  let rate = wallet.payTxFee;
  let reason = "PayTxFee set";
  if (rate === 0n) {
    const { fallbackFee } = options.policy ?? DEFAULT_WALLET_POLICY;
    if (fallbackFee === 0n) return { rate: 0n, reason: "Fallback fee" };
    rate = fallbackFee;
    reason = "Fallback fee";
    const mempoolMin = await wallet.chain.mempoolMinFee();
    if (rate < mempoolMin) [rate, reason] = [mempoolMin, "Mempool Min Fee"];
  }
  const required = await requiredFeeRate(wallet);
  if (rate < required) [rate, reason] = [required, "Minimum Required Fee"];
  return { rate, reason };
}

/**
 * The fee rate for a send: `fee_rate` (sat/kvB) when given, else
 * {@linkcode minimumFeeRate}'s; with neither `settxfee` nor a fallback
 * fee, Core's "Fee estimation failed" as `noEstimateCode`.
 */
async function feeRate(
  wallet: Wallet,
  given: unknown,
  options: WalletRpcOptions,
  noEstimateCode: number,
): Promise<{ rate: bigint; reason: string }> {
  if (given !== null && given !== undefined) {
    return { rate: BigInt(given as number), reason: "PayTxFee set" };
  }
  const minimum = await minimumFeeRate(wallet, options);
  if (minimum.rate === 0n) fail(noEstimateCode, FEE_ESTIMATION_FAILED);
  return minimum;
}

/**
 * A rate the caller gave, as CreateTransaction takes it when the minimum
 * is not overridden (sendtoaddress, sendmany, send; not fundrawtransaction
 * nor walletcreatefundedpsbt): at least the required rate, else `code`.
 */
async function requireFeeRate(wallet: Wallet, rate: bigint, code: number): Promise<void> {
  const required = await requiredFeeRate(wallet);
  if (rate < required) {
    fail(
      code,
      `Fee rate (${formatSatPerVbyte(rate)}) is lower than the minimum fee rate setting (${
        formatSatPerVbyte(required)
      })`,
    );
  }
}

/** Sends `payments`, answering the txid (or `{txid, fee_reason}` when `verbose`). */
async function send(
  wallet: Wallet,
  payments: Payment[],
  { fee, verbose, replaceable, avoidReuse = false }: {
    fee: unknown;
    verbose: unknown;
    replaceable: unknown;
    avoidReuse?: boolean;
  },
  options: WalletRpcOptions,
): Promise<Reply> {
  const dustRelayFee = await wallet.chain.relayDustFee();
  for (const payment of payments) {
    if (payment.amount <= 0n) fail(Code.TYPE, "Invalid amount for send");
    if (payment.amount < dustThreshold(payment.script, dustRelayFee)) {
      fail(Code.INSUFFICIENT_FUNDS, "Transaction amount too small");
    }
  }
  const { rate, reason } = await feeRate(wallet, fee, options, Code.INSUFFICIENT_FUNDS);
  if (fee !== null && fee !== undefined) {
    // SendMoney checks the lock before CreateTransaction the rate.
    wallet.ensureUnlocked();
    await requireFeeRate(wallet, rate, Code.INSUFFICIENT_FUNDS);
  }
  try {
    // Core signals BIP 125 unless told not to (an explicit fee_rate keeps an explicit false).
    const { tx } = await sendMoney(
      wallet,
      payments,
      rate,
      bool(replaceable, wallet.policy.rbf),
      avoidReuse,
    );
    return bool(verbose, false) ? { txid: tx.txid, fee_reason: reason } : tx.txid;
  } catch (error) {
    // SendMoney answers every CreateTransaction failure with RPC_WALLET_INSUFFICIENT_FUNDS.
    if (error instanceof SelectionError) fail(Code.INSUFFICIENT_FUNDS, error.message);
    throw error;
  }
}

/** The entries `listtransactions` and friends show for one transaction. */
function entries(
  wallet: Wallet,
  { tx, row }: WalletTx,
  forDetails = false,
  includeChange = false,
): Record<string, Reply | undefined>[] {
  const debit = wallet.debit(tx);
  const confirmations = wallet.confirmations(row);
  const fromMe = debit > 0n;
  const fee = fromMe && row.fee !== null ? new Btc(-row.fee) : undefined;
  const out: Record<string, Reply | undefined>[] = [];
  const sends: Record<string, Reply | undefined>[] = [];
  const receives: Record<string, Reply | undefined>[] = [];
  tx.outputs.forEach((output, vout) => {
    const mine = wallet.isMine(output.script);
    if (fromMe && !includeChange && wallet.isChange(output.script)) return;
    const address = scriptAddress(output.script);
    const label = wallet.addressBookEntry(output.script)?.label;
    if (fromMe) {
      sends.push({
        address,
        category: "send",
        amount: new Btc(-output.amount),
        label,
        vout,
        fee,
        abandoned: wallet.isAbandoned(tx.txid),
      });
    }
    if (mine) {
      const category = !tx.coinbase
        ? "receive"
        : confirmations < 1
        ? "orphan"
        : wallet.immature({ coinbase: true, confirmations })
        ? "immature"
        : "generate";
      receives.push({
        address,
        parent_descs: [wallet.descriptorOf(output.script)!.desc],
        category,
        amount: new Btc(output.amount),
        label,
        vout,
        abandoned: wallet.isAbandoned(tx.txid),
      });
    }
  });
  if (forDetails) return [...sends, ...receives];
  const common = txFields(wallet, { tx, row });
  for (const entry of sends) {
    const { abandoned, ...rest } = entry;
    out.push({ ...rest, ...common, abandoned });
  }
  for (const entry of receives) {
    const { address, parent_descs, category, amount, label, vout, abandoned } = entry;
    out.push({
      address,
      parent_descs,
      category,
      amount,
      label,
      vout,
      abandoned,
      ...(tx.coinbase ? { confirmations: common.confirmations, generated: true } : {}),
      ...common,
    });
  }
  return out;
}

/** The fields every transaction entry shares (`WalletTxToJSON`). */
function txFields(wallet: Wallet, { tx, row }: WalletTx): Record<string, Reply | undefined> {
  const confirmations = wallet.confirmations(row);
  const confirmed = row.blockHash !== null;
  return {
    confirmations: Math.max(confirmations, 0),
    trusted: confirmed ? undefined : wallet.allFromMe(tx) && row.inMempool,
    blockhash: row.blockHash ?? undefined,
    blockheight: row.blockHeight ?? undefined,
    blockindex: row.blockIndex ?? undefined,
    blocktime: row.blockTime ?? undefined,
    txid: tx.txid,
    wtxid: tx.wtxid,
    walletconflicts: wallet.conflicts(tx.txid),
    mempoolconflicts: wallet.mempoolConflicts(tx.txid),
    time: row.time,
    timereceived: row.time,
    "bip125-replaceable": confirmed
      ? "no"
      : tx.inputs.some((i) => i.sequence < 0xfffffffe)
      ? "yes"
      : "no",
    // Core's mapValue entries, in their (sorted) order.
    replaced_by_txid: wallet.replacedBy(tx.txid),
    replaces_txid: wallet.replaces(tx.txid),
  };
}

/** A transaction entry with the order Core gives `trusted` (mempool only). */
function listEntries(
  wallet: Wallet,
  selected: WalletTx[],
  label?: string,
  includeChange = false,
): Reply[] {
  const all = selected.flatMap((wtx) => entries(wallet, wtx, false, includeChange));
  // Core: with a label, only the receives to addresses carrying it.
  return label === undefined
    ? all
    : all.filter((entry) => entry.category !== "send" && entry.label === label);
}

/** The methods that run on one wallet. */
export const walletMethods: Readonly<Record<string, WalletMethod>> = {
  getwalletinfo(wallet) {
    const flags = wallet.flags;
    return {
      walletname: wallet.name,
      walletversion: WALLET_VERSION,
      format: "sqlite",
      txcount: wallet.transactions().length,
      keypoolsize: wallet.keypoolSize(false),
      keypoolsize_hd_internal: wallet.keypoolSize(true),
      unlocked_until: wallet.encrypted ? wallet.unlockedUntil : undefined,
      paytxfee: new Btc(wallet.payTxFee),
      private_keys_enabled: !flags.disablePrivateKeys,
      avoid_reuse: flags.avoidReuse,
      scanning: wallet.scanning,
      descriptors: true,
      external_signer: false,
      blank: flags.blank,
      birthtime: wallet.birthtime,
      // In the order of Core's flag bits.
      flags: [
        ...(flags.avoidReuse ? ["avoid_reuse"] : []),
        "last_hardened_xpub_cached",
        ...(flags.disablePrivateKeys ? ["disable_private_keys"] : []),
        ...(flags.blank ? ["blank"] : []),
        "descriptor_wallet",
      ],
      lastprocessedblock: lastProcessedBlock(wallet),
    };
  },

  getnewaddress(wallet, [label, type]) {
    const name = labelName(label);
    if (!wallet.canGetAddresses(false)) fail(Code.WALLET, NO_KEYS);
    return wallet.newAddress(
      addressKind(wallet, str(type, wallet.policy.addressType), false),
      false,
      name,
    ).address;
  },

  signmessage(wallet, [address, message]) {
    wallet.ensureUnlocked();
    const script = addressScript(str(address), "Invalid address");
    if (OutScript.decode(script).type !== "pkh") fail(Code.TYPE, "Address does not refer to key");
    return wallet.signMessage(script, str(message));
  },

  walletdisplayaddress(_wallet, [address]) {
    // Any destination Core decodes, witness versions no rule spends yet included.
    try {
      addressToScript(str(address));
    } catch {
      fail(Code.INVALID_ADDRESS_OR_KEY, "Invalid address");
    }
    // Core's CWallet::DisplayAddress: only an external signer's ScriptPubKeyMan displays an
    // address, and this wallet has none (it holds descriptor wallets without external signers).
    return fail(Code.MISC, "There is no ScriptPubKeyManager for this address");
  },

  async keypoolrefill(wallet, [newsize]) {
    const size = int(newsize, 0);
    if (size < 0) fail(Code.INVALID_PARAMETER, "Invalid parameter, expected valid size.");
    // Not Core's: a bound on what one call may derive (see MAX_KEYPOOL).
    if (size > MAX_KEYPOOL) {
      fail(
        Code.INVALID_PARAMETER,
        `Invalid parameter, expected a size of at most ${MAX_KEYPOOL}.`,
      );
    }
    // Core's check, of the size within what the chains may watch (MAX_KEYPOOL keys each); a
    // wallet without chains has no pool, and any size falls short.
    const { watched, most } = await wallet.refillKeypool(size);
    const reachable = most === 0 ? size : Math.min(size, most);
    if (watched < reachable) fail(Code.WALLET, "Error refreshing keypool.");
    return null;
  },

  setlabel(wallet, [address, label]) {
    const script = addressScript(str(address), "Invalid Bitcoin address");
    wallet.setLabel(script, labelName(label));
    return null;
  },

  listlabels(wallet, [purpose]) {
    const wanted = str(purpose);
    // Core's purposes; "refund" is one too, which this wallet never sets.
    if (!["", "send", "receive", "refund"].includes(wanted)) {
      fail(
        Code.INVALID_PARAMETER,
        "Invalid 'purpose' argument, must be a known purpose string, typically 'send', or 'receive'.",
      );
    }
    const labels = new Set<string>();
    for (const entry of wallet.addressBook.values()) {
      if (wanted === "" || entry.purpose === wanted) labels.add(entry.label);
    }
    return [...labels].sort(byBytes);
  },

  listaddressgroupings(wallet) {
    // Core's GetAddressGroupings: the wallet's scripts each transaction spends, with the change it
    // pays, are one group; every script it pays the wallet is a group by itself.
    const groups: Set<string>[] = [];
    for (const { tx } of wallet.transactions()) {
      const spent = new Set<string>();
      for (const input of tx.inputs) {
        const script = wallet.transaction(input.txid)?.tx.outputs[input.vout]?.script;
        if (script !== undefined && wallet.isMine(script)) spent.add(hex.encode(script));
      }
      if (spent.size > 0) {
        for (const output of tx.outputs) {
          if (wallet.isChange(output.script)) spent.add(hex.encode(output.script));
        }
        groups.push(spent);
      }
      for (const output of tx.outputs) {
        if (wallet.isMine(output.script)) groups.push(new Set([hex.encode(output.script)]));
      }
    }
    // Groups sharing a script merge.
    const merged: Set<string>[] = [];
    const groupOf = new Map<string, Set<string>>();
    for (const group of groups) {
      const joined = new Set(group);
      for (const script of group) {
        const other = groupOf.get(script);
        if (other === undefined || other === joined) continue;
        for (const s of other) joined.add(s);
        merged.splice(merged.indexOf(other), 1);
      }
      for (const script of joined) groupOf.set(script, joined);
      merged.push(joined);
    }
    // GetAddressBalances: the unspent, trusted, mature coins of each script.
    const balances = new Map<string, bigint>();
    for (const coin of wallet.coins()) {
      if (!coin.trusted || wallet.immature(coin)) continue;
      const script = hex.encode(coin.script);
      balances.set(script, (balances.get(script) ?? 0n) + coin.amount);
    }
    // A set of sets of destinations, as Core's: each group in destination order, the groups
    // compared element by element.
    const sorted = merged.map((group) =>
      [...group].map((script) => hex.decode(script)).sort(destinationOrder)
    );
    sorted.sort((a, b) => {
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        const order = destinationOrder(a[i], b[i]);
        if (order !== 0) return order;
      }
      return a.length - b.length;
    });
    return sorted.map((group) =>
      group.map((script) => {
        const entry = wallet.addressBookEntry(script);
        const balance = new Btc(balances.get(hex.encode(script)) ?? 0n);
        const address = scriptAddress(script) ?? "";
        return entry === undefined ? [address, balance] : [address, balance, entry.label];
      })
    );
  },

  getaddressesbylabel(wallet, [label]) {
    const name = labelName(label);
    const found: [Uint8Array, string][] = [];
    for (const [script, entry] of wallet.addressBook) {
      if (entry.label === name) found.push([hex.decode(script), entry.purpose]);
    }
    if (found.length === 0) fail(Code.INVALID_LABEL_NAME, `No addresses with label ${name}`);
    // In the order of Core's address book, a map keyed by destination: by type, then program.
    found.sort(([a], [b]) => destinationOrder(a, b));
    return Object.fromEntries(
      found.map(([script, purpose]) => [scriptAddress(script) ?? hex.encode(script), { purpose }]),
    );
  },

  getreceivedbyaddress(wallet, [address, minconf, immature]) {
    const script = addressScript(str(address), "Invalid Bitcoin address");
    return receivedBy(wallet, [script], minconf, immature);
  },

  getreceivedbylabel(wallet, [label, minconf, immature]) {
    const name = labelName(label);
    const scripts = [...wallet.addressBook].filter(([, entry]) => entry.label === name)
      .map(([script]) => hex.decode(script));
    if (scripts.length === 0) fail(Code.WALLET, "Label not found in wallet");
    return receivedBy(wallet, scripts, minconf, immature);
  },

  lockunspent(wallet, [unlock, transactions, persistent]) {
    const unlocking = unlock === true;
    const keep = bool(persistent, false);
    if (transactions === null || transactions === undefined) {
      if (unlocking) wallet.setLocked(wallet.locked, false, false);
      return true;
    }
    // Every output checked before any changes, as Core does.
    const outpoints = (transactions as unknown[]).map((output) => {
      const fields = typedFields(output, { txid: "string", vout: "number" });
      const txid = hashArg(fields.txid, "txid");
      const vout = fields.vout as number;
      // getInt<int>: an integer that fits 32 bits.
      if (!Number.isInteger(vout) || vout < -(2 ** 31) || vout >= 2 ** 31) {
        fail(Code.MISC, "JSON integer out of range");
      }
      if (vout < 0) fail(Code.INVALID_PARAMETER, "Invalid parameter, vout cannot be negative");
      const known = wallet.transaction(txid);
      if (known === undefined) {
        fail(Code.INVALID_PARAMETER, "Invalid parameter, unknown transaction");
      }
      if (vout >= known.tx.outputs.length) {
        fail(Code.INVALID_PARAMETER, "Invalid parameter, vout index out of bounds");
      }
      const outpoint = `${txid}:${vout}`;
      if (wallet.spent().has(outpoint)) {
        fail(Code.INVALID_PARAMETER, "Invalid parameter, expected unspent output");
      }
      const locked = wallet.isLocked(outpoint);
      if (unlocking && !locked) {
        fail(Code.INVALID_PARAMETER, "Invalid parameter, expected locked output");
      }
      if (!unlocking && locked && !keep) {
        fail(Code.INVALID_PARAMETER, "Invalid parameter, output already locked");
      }
      return outpoint;
    });
    wallet.setLocked(outpoints, !unlocking, keep);
    return true;
  },

  listreceivedbyaddress(wallet, [minconf, includeEmpty, , filter, immature]) {
    return listReceived(wallet, { minconf, includeEmpty, immature, filter }, false);
  },

  listreceivedbylabel(wallet, [minconf, includeEmpty, , immature]) {
    return listReceived(wallet, { minconf, includeEmpty, immature }, true);
  },

  listlockunspent(wallet) {
    // Core keeps them in a map by outpoint: the txid's internal bytes, then the index.
    const internal = (txid: string) => hex.encode(internalBytes(txid));
    return wallet.locked.map((outpoint) => {
      const [txid, vout] = outpoint.split(":");
      return { txid, vout: Number(vout) };
    }).sort((a, b) =>
      internal(a.txid) < internal(b.txid)
        ? -1
        : internal(a.txid) > internal(b.txid)
        ? 1
        : a.vout - b.vout
    );
  },

  getrawchangeaddress(wallet, [type]) {
    if (!wallet.canGetAddresses(true)) fail(Code.WALLET, NO_KEYS);
    return wallet.newAddress(
      addressKind(wallet, str(type, wallet.policy.changeType ?? wallet.policy.addressType), true),
      true,
    ).address;
  },

  getaddressinfo(wallet, [address]) {
    let script: Uint8Array;
    try {
      script = OutScript.encode(Address(REGTEST).decode(str(address)));
    } catch {
      return fail(Code.INVALID_ADDRESS_OR_KEY, "Invalid address");
    }
    const key = wallet.keyOf(script);
    if (key === undefined) {
      // Not the wallet's, or a script it watches without its key (an imported addr()).
      const parent = wallet.descriptorOf(script);
      return {
        address: str(address),
        scriptPubKey: hex.encode(script),
        ismine: parent !== undefined,
        solvable: false,
        parent_desc: parent?.desc,
        iswatchonly: false,
        ...describeScript(script),
        ischange: parent !== undefined && wallet.isChange(script),
        labels: labelsOf(wallet, script),
      };
    }
    const parent = wallet.descriptorOf(script)!;
    return {
      address: str(address),
      scriptPubKey: hex.encode(script),
      ismine: true,
      solvable: true,
      desc: key.descriptor,
      parent_desc: parent.desc,
      iswatchonly: false,
      ...describeKey(key),
      ischange: wallet.isChange(script),
      // Core's key metadata: a single key's only.
      ...(isSingleKey(key)
        ? {
          timestamp: parent.timestamp,
          hdkeypath: key.path,
          hdseedid: "0".repeat(40),
          hdmasterfingerprint: fingerprintHex(key.fingerprint),
        }
        : {}),
      labels: labelsOf(wallet, script),
    };
  },

  getbalance(wallet, [dummy, minconf, , avoidReuse]) {
    if (dummy !== null && dummy !== undefined && dummy !== "*") {
      fail(Code.INVALID_PARAMETER, 'dummy first argument must be excluded or set to "*".');
    }
    const least = int(minconf, 0);
    const avoid = avoidReuseArg(wallet, avoidReuse);
    let sum = 0n;
    for (const coin of wallet.coins()) {
      if (wallet.immature(coin) || !coin.trusted || coin.confirmations < least) continue;
      if (avoid && coin.reused) continue;
      sum += coin.amount;
    }
    return new Btc(sum);
  },

  getbalances(wallet) {
    const { trusted, untrustedPending, immature, used } = wallet.balances();
    return {
      mine: {
        trusted: new Btc(trusted),
        untrusted_pending: new Btc(untrustedPending),
        immature: new Btc(immature),
        used: wallet.flags.avoidReuse ? new Btc(used) : undefined,
      },
      lastprocessedblock: lastProcessedBlock(wallet),
    };
  },

  sendtoaddress(wallet, params, options) {
    const [address, amount, , , subtract, replaceable, , , avoidReuse, fee, verbose] = params;
    const avoid = avoidReuseArg(wallet, avoidReuse);
    const script = addressScript(str(address));
    const payments = [{
      script,
      amount: BigInt(amount as number),
      subtractFee: bool(subtract, false),
    }];
    return send(wallet, payments, { fee, verbose, replaceable, avoidReuse: avoid }, options);
  },

  bumpfee(wallet, [request], options) {
    // The node read the txid and the options (components/node/methods/funding.ts).
    if (wallet.flags.disablePrivateKeys) {
      fail(
        Code.WALLET,
        "bumpfee is not available with wallets that have private keys disabled. Use psbtbumpfee instead.",
      );
    }
    return bump(wallet, request as BumpfeeRequest, options, false);
  },

  psbtbumpfee(wallet, [request], options) {
    return bump(wallet, request as BumpfeeRequest, options, true);
  },

  async sendall(wallet, [request], options) {
    // The node read the recipients and the options (components/node/methods/funding.ts).
    const r = request as SendallRequest;
    const { rate } = await feeRate(wallet, r.feeRate, options, Code.WALLET);
    const sent = await sendAll(wallet, {
      inputs: r.inputs,
      outputs: r.outputs.map((output) => ({
        script: hex.decode(output.script),
        amount: BigInt(output.amount),
        remainder: output.remainder,
      })),
      feeRate: rate,
      explicitFeeRate: r.feeRate !== null,
      replaceable: r.replaceable,
      lockTime: r.locktime,
      sendMax: r.sendMax,
      minDepth: r.minconf,
      maxDepth: r.maxconf,
      lockUnspents: r.lockUnspents,
      addToWallet: r.addToWallet,
      psbt: r.psbt,
      version: r.version,
    });
    return sent;
  },

  async fundrawtransaction(wallet, [request], options) {
    // The node decoded the transaction and checked the options (components/node/methods/funding.ts).
    const funded = await fundRequested(
      wallet,
      request as FundrawRequest,
      options,
      (r) => fundTransaction(wallet, r),
    );
    return { hex: hex.encode(funded.raw), fee: new Btc(funded.fee), changepos: funded.changePos };
  },

  async walletcreatefundedpsbt(wallet, [request, bip32derivs], options) {
    // The node built the transaction and checked the options (components/node/methods/walletpsbt.ts).
    const funded = await fundRequested(
      wallet,
      request as FundrawRequest,
      options,
      (r) => fundTransaction(wallet, r),
    );
    const tx = psbtOf(funded.raw);
    processPsbt(wallet, tx, {
      sign: false,
      sighash: null,
      finalize: false,
      bip32derivs: bip32derivs === true,
    });
    return {
      psbt: base64.encode(tx.toPSBT(0)),
      fee: new Btc(funded.fee),
      changepos: funded.changePos,
    };
  },

  async send(wallet, [request, finish], options) {
    // The node built the transaction and read the options (components/node/methods/funding.ts).
    const r = request as FundrawRequest;
    if (r.feeRate !== null) await requireFeeRate(wallet, BigInt(r.feeRate), Code.WALLET);
    return await fundRequested(
      wallet,
      r,
      options,
      (funding) => fundAndFinish(wallet, funding, finish as FinishOptions),
    );
  },

  simulaterawtransaction(wallet, [txs]) {
    // Core's: what the transactions, in order, would take from the wallet and pay it.
    let change = 0n;
    const made = new Map<string, bigint>(); // outputs of the transactions before, and what each pays
    const spent = new Set<string>();
    for (const tx of txs as SimulatedTx[]) {
      if (tx === null) fail(Code.DESERIALIZATION, "Transaction hex string decoding failure.");
      for (const input of tx.inputs) {
        const outpoint = `${input.txid}:${input.vout}`;
        if (spent.has(outpoint)) {
          fail(
            Code.INVALID_PARAMETER,
            "Transaction(s) are spending the same output more than once",
          );
        }
        if (made.has(outpoint)) {
          change -= made.get(outpoint)!;
          made.delete(outpoint);
        } else {
          if (!input.known) {
            fail(
              Code.INVALID_PARAMETER,
              "One or more transaction inputs are missing or have been spent already",
            );
          }
          change -= wallet.ownOutput(input.txid, input.vout)?.amount ?? 0n;
        }
        spent.add(outpoint);
      }
      tx.outputs.forEach((output, vout) => {
        const paid = wallet.isMine(hex.decode(output.script)) ? BigInt(output.amount) : 0n;
        made.set(`${tx.txid}:${vout}`, paid);
        change += paid;
      });
    }
    return { balance_change: new Btc(change) };
  },

  walletprocesspsbt(wallet, [request]) {
    // The node read the PSBT and the sighash (components/node/methods/walletpsbt.ts).
    const r = request as ProcessPsbtRequest;
    if (r.sign) wallet.ensureUnlocked();
    const tx = readPsbt(base64.decode(r.psbt));
    const complete = processPsbt(wallet, tx, r);
    return {
      psbt: base64.encode(tx.toPSBT(0)),
      complete,
      hex: complete ? hex.encode(tx.toBytes(true, true)) : undefined,
    };
  },

  sendmany(wallet, params, options) {
    const [dummy, amounts, , , subtractFrom, replaceable, , , fee, verbose] = params;
    if (str(dummy) !== "") fail(Code.INVALID_PARAMETER, 'Dummy value must be set to ""');
    const subtract = new Set((subtractFrom as string[] | null) ?? []);
    const seen = new Set<string>();
    const payments: Payment[] = [];
    for (const [address, amount] of amounts as [string, number][]) {
      const script = addressScript(address);
      if (seen.has(address)) {
        fail(Code.INVALID_PARAMETER, `Invalid parameter, duplicated address: ${address}`);
      }
      seen.add(address);
      payments.push({ script, amount: BigInt(amount), subtractFee: subtract.has(address) });
    }
    for (const address of subtract) {
      if (!seen.has(address)) {
        fail(
          Code.INVALID_PARAMETER,
          `Invalid parameter 'subtract fee from output', destination ${address} not found in tx outputs`,
        );
      }
    }
    return send(wallet, payments, { fee, verbose, replaceable }, options);
  },

  listunspent(wallet, [minconf, maxconf, addresses, includeUnsafe]) {
    const least = int(minconf, 1);
    const most = int(maxconf, 9_999_999);
    const wanted = addresses === null || addresses === undefined
      ? null
      : new Set((addresses as string[]).map((a) => {
        addressScript(a);
        return a;
      }));
    const unsafe = bool(includeUnsafe, true);
    const { avoidReuse } = wallet.flags;
    return wallet.coins()
      .filter((c) => !wallet.immature(c) && c.confirmations >= least && c.confirmations <= most)
      .filter((c) => (unsafe || c.safe) && !wallet.isLocked(`${c.txid}:${c.vout}`))
      .filter((c) => wanted === null || wanted.has(scriptAddress(c.script)!))
      .map((coin) => ({
        txid: coin.txid,
        vout: coin.vout,
        address: scriptAddress(coin.script),
        label: wallet.addressBookEntry(coin.script)?.label,
        redeemScript: coin.key?.redeemScript && hex.encode(coin.key.redeemScript),
        witnessScript: coin.key && isMultisig(coin.key) && coin.key.witnessScript
          ? hex.encode(coin.key.witnessScript)
          : undefined,
        scriptPubKey: hex.encode(coin.script),
        amount: new Btc(coin.amount),
        confirmations: coin.confirmations,
        spendable: true,
        // A watched addr() or raw() script: the wallet knows no way to spend it.
        solvable: coin.key !== undefined,
        desc: coin.key?.descriptor,
        parent_descs: [wallet.descriptorOf(coin.script)!.desc],
        reused: avoidReuse ? coin.reused : undefined,
        safe: coin.safe,
      }));
  },

  listtransactions(wallet, [label, count, skip]) {
    let only: string | undefined;
    if (label !== null && label !== undefined && label !== "*") {
      only = labelName(label);
      if (only === "") {
        fail(Code.INVALID_PARAMETER, 'Label argument must be a valid label name or "*".');
      }
    }
    const n = int(count, 10);
    const from = int(skip, 0);
    if (n < 0) fail(Code.INVALID_PARAMETER, "Negative count");
    if (from < 0) fail(Code.INVALID_PARAMETER, "Negative from");
    const all = listEntries(wallet, wallet.transactions(), only);
    return all.slice(Math.max(all.length - from - n, 0), all.length - from);
  },

  async listsinceblock(
    wallet,
    [blockhash, targetConfirmations, , includeRemoved, includeChange, label],
  ) {
    let since = -1;
    let detached: Uint8Array[] = [];
    if (blockhash !== null && blockhash !== undefined && blockhash !== "") {
      const fork = await wallet.commonAncestor(parseHashV(blockhash as Json, "blockhash"));
      if (fork === undefined) fail(Code.INVALID_ADDRESS_OR_KEY, "Block not found");
      ({ height: since, detached } = fork);
    }
    const target = int(targetConfirmations, 1);
    if (target < 1) fail(Code.INVALID_PARAMETER, "Invalid parameter");
    const change = bool(includeChange, false);
    const only = label === null || label === undefined ? undefined : labelName(label);
    // Core's: every transaction not confirmed at or below the block (unconfirmed ones too).
    const selected = wallet.transactions().filter(({ row }) =>
      row.blockHeight === null || row.blockHeight > since
    );
    const tip = wallet.tip.height;
    return {
      transactions: listEntries(wallet, selected, only, change),
      // Core's: the wallet's transactions in the blocks the chain left, as they are now.
      removed: bool(includeRemoved, true)
        ? listEntries(wallet, await wallet.transactionsIn(detached), only, change)
        : undefined,
      lastblock: await wallet.blockHashAt(tip + 1 - Math.min(target, tip + 1)),
    };
  },

  gettransaction(wallet, [txid, , verbose]) {
    const wtx = wallet.transaction(parseHashV(txid as Json, "txid"));
    if (wtx === undefined) {
      fail(Code.INVALID_ADDRESS_OR_KEY, "Invalid or non-wallet transaction id");
    }
    const { tx, row } = wtx;
    const debit = wallet.debit(tx);
    let credit = 0n;
    let change = 0n;
    for (const output of tx.outputs) {
      if (!wallet.isMine(output.script)) continue;
      credit += output.amount;
      if (debit > 0n && wallet.isChange(output.script)) change += output.amount;
    }
    const fee = debit > 0n && row.fee !== null ? row.fee : 0n;
    const amount = debit > 0n ? credit - change - (debit - fee) : credit;
    const net = debit > 0n ? credit - debit + fee : amount;
    const details = entries(wallet, wtx, true).map((entry) => entry);
    return {
      amount: new Btc(net),
      fee: debit > 0n ? new Btc(-fee) : undefined,
      ...txFields(wallet, wtx),
      ...(tx.coinbase ? { generated: true } : {}),
      details,
      hex: hex.encode(tx.raw),
      decoded: bool(verbose, false) ? decodedTx(tx.raw) : undefined,
      lastprocessedblock: lastProcessedBlock(wallet),
    };
  },

  signrawtransactionwithwallet(wallet, [hexstring]) {
    let raw: Uint8Array;
    try {
      raw = hex.decode(str(hexstring));
      parseTx(raw);
    } catch {
      return fail(-22, "TX decode failed. Make sure the tx has at least one input.");
    }
    const signed = signRaw(wallet, raw);
    const tx = parseTx(signed.raw);
    // As Core's TxInErrorToJSON: each input as it is left (a multisig's partial signatures).
    const { inputs, witnesses } = RawTx.decode(signed.raw);
    const errors = signed.unsigned.map(({ index, error }) => ({
      txid: tx.inputs[index].txid,
      vout: tx.inputs[index].vout,
      witness: (witnesses?.[index] ?? []).map((item) => hex.encode(item)),
      scriptSig: hex.encode(inputs[index].finalScriptSig),
      sequence: tx.inputs[index].sequence,
      error,
    }));
    return {
      hex: hex.encode(signed.raw),
      complete: errors.length === 0,
      errors: errors.length > 0 ? errors : undefined,
    };
  },

  async walletpassphrase(wallet, [passphrase, timeout]) {
    if (!wallet.encrypted) {
      fail(
        Code.WRONG_ENC_STATE,
        "Error: running with an unencrypted wallet, but walletpassphrase was called.",
      );
    }
    if (str(passphrase) === "") fail(Code.INVALID_PARAMETER, "passphrase cannot be empty");
    await wallet.unlock(str(passphrase), int(timeout, 0));
    return null;
  },

  async walletpassphrasechange(wallet, [current, next]) {
    if (wallet.encrypted) refuseWhileRescanning(wallet, "changing the passphrase");
    await wallet.changePassphrase(str(current), str(next));
    return null;
  },

  async settxfee(wallet, [amount]) {
    // Core's checks (the node let the call through only with -deprecatedrpc=settxfee).
    const rate = BigInt(String(amount));
    const perKvb = (sats: bigint) => `${new Btc(sats)} BTC/kvB`;
    const relayMin = await wallet.chain.relayMinFee();
    const { minTxFee, maxTxFee } = wallet.policy;
    if (rate !== 0n && rate < relayMin) {
      fail(
        Code.INVALID_PARAMETER,
        `txfee cannot be less than min relay tx fee (${perKvb(relayMin)})`,
      );
    }
    if (rate !== 0n && rate < minTxFee) {
      fail(
        Code.INVALID_PARAMETER,
        `txfee cannot be less than wallet min fee (${perKvb(minTxFee)})`,
      );
    }
    if (rate > maxTxFee) {
      fail(
        Code.INVALID_PARAMETER,
        `txfee cannot be more than wallet max tx fee (${perKvb(maxTxFee)})`,
      );
    }
    wallet.payTxFee = rate;
    return true;
  },

  abandontransaction(wallet, [txid]) {
    wallet.abandon(parseHashV(txid as Json, "txid"));
    return null;
  },

  async walletlock(wallet) {
    if (wallet.encrypted) refuseWhileRescanning(wallet, "locking the wallet");
    await wallet.lock();
    return null;
  },

  async encryptwallet(wallet, [passphrase]) {
    // In Core's order: a wallet without private keys first (-16), then one already encrypted.
    // A blank one is encrypted: the keys it imports later are sealed too.
    if (wallet.flags.disablePrivateKeys) {
      fail(Code.ENCRYPTION_FAILED, NOTHING_TO_ENCRYPT);
    }
    if (wallet.encrypted) {
      fail(
        Code.WRONG_ENC_STATE,
        "Error: running with an encrypted wallet, but encryptwallet was called.",
      );
    }
    await wallet.encrypt(str(passphrase));
    return "wallet encrypted; The keypool has been flushed and a new HD seed was generated. " +
      "You need to make a new backup with the backupwallet RPC.";
  },

  async rescanblockchain(wallet, [startHeight, stopHeight]) {
    // Refused at once while one runs: waiting for the wallet's turn would wait for it.
    if (wallet.scanning !== false) fail(Code.WALLET, RESCAN_RUNNING);
    wallet.ensureUnlocked();
    await wallet.sync();
    const tip = wallet.tip.height;
    const start = int(startHeight, 0);
    if (start < 0 || start > tip) fail(Code.INVALID_PARAMETER, "Invalid start_height");
    const stop = int(stopHeight, tip);
    if (stop < 0 || stop > tip) fail(Code.INVALID_PARAMETER, "Invalid stop_height");
    if (stop < start) fail(Code.INVALID_PARAMETER, "stop_height must be greater than start_height");
    await wallet.rescan(start, stop);
    return { start_height: start, stop_height: stop };
  },

  async importprunedfunds(wallet, [raw, blockHash, index]) {
    // The node read the transaction and the proof (components/node/methods/txoutproof.ts).
    await wallet.importPruned(
      hex.decode(str(raw)),
      str(blockHash),
      index === null ? null : int(index, 0),
    );
    return null;
  },

  async removeprunedfunds(wallet, [txid]) {
    await wallet.removeTransaction(hashArg(txid, "txid"));
    return null;
  },

  async importdescriptors(wallet, [requests, rescanFrom]) {
    // The node read the requests (components/node/methods/importdescriptors.ts).
    if (wallet.scanning !== false) fail(Code.WALLET, RESCAN_RUNNING);
    await wallet.sync();
    wallet.ensureUnlocked();
    let imported = false;
    const results: Reply[] = [];
    for (const request of requests as DescriptorRequest[]) {
      const warnings: string[] = [];
      try {
        await importDescriptor(wallet, request, warnings);
        imported = true;
        results.push({ success: true, ...(warnings.length > 0 ? { warnings } : {}) });
      } catch (error) {
        if (!(error instanceof WalletError)) throw error;
        results.push({
          success: false,
          error: { code: error.code, message: error.message },
          ...(warnings.length > 0 ? { warnings } : {}),
        });
      }
    }
    if (imported && rescanFrom !== null && Number(rescanFrom) <= wallet.tip.height) {
      try {
        await wallet.rescan(Number(rescanFrom), wallet.tip.height);
      } catch (error) {
        if (error instanceof WalletError && error.code === Code.MISC) {
          fail(Code.MISC, "Rescan aborted by user.");
        }
        throw error;
      }
    }
    if (imported) await wallet.scanMempool();
    return results;
  },

  async createwalletdescriptor(wallet, [type, options]) {
    const name = str(type);
    if (!Object.hasOwn(ADDRESS_TYPES, name)) {
      fail(Code.INVALID_ADDRESS_OR_KEY, `Unknown address type '${name}'`);
    }
    // In Core's order: `internal` read before the lock is looked at, `hdkey` after.
    const internal = optionField(options, "internal", "boolean", true);
    const sides = internal === undefined ? [false, true] : [internal];
    wallet.ensureUnlocked();
    const hdkey = optionField(options, "hdkey", "string", true);
    let xpub: string;
    if (hdkey === undefined) {
      const active = wallet.activeHdKeys;
      if (active.length !== 1) {
        fail(
          Code.INVALID_ADDRESS_OR_KEY,
          "Unable to determine which HD key to use from active descriptors. Please specify with 'hdkey'",
        );
      }
      xpub = active[0];
    } else {
      xpub = hdkey;
      let parsed: HDKey | undefined;
      try {
        parsed = HDKey.fromExtendedKey(xpub, TEST_VERSIONS);
      } catch { /* not a key */ }
      if (parsed === undefined || parsed.privateKey) {
        fail(Code.INVALID_ADDRESS_OR_KEY, "Unable to parse HD key. Please provide a valid xpub");
      }
    }
    const known = !wallet.flags.disablePrivateKeys && wallet.extendedPrivateKey(xpub) !== undefined;
    if (!known) fail(Code.INVALID_ADDRESS_OR_KEY, `Private key for ${xpub} is not known`);
    return { descs: await wallet.createDescriptors(ADDRESS_TYPES[name], sides, xpub) };
  },

  setwalletflag(wallet, [flag, value]) {
    const name = str(flag);
    const state = value === null || value === undefined || bool(value, true);
    if (!Object.hasOwn(WALLET_FLAGS, name)) {
      fail(Code.INVALID_PARAMETER, `Unknown wallet flag: ${name}`);
    }
    if (!WALLET_FLAGS[name]) fail(Code.INVALID_PARAMETER, `Wallet flag is immutable: ${name}`);
    if (wallet.flags.avoidReuse === state) {
      fail(Code.INVALID_PARAMETER, `Wallet flag is already set to ${state}: ${name}`);
    }
    wallet.setAvoidReuse(state);
    return {
      flag_name: name,
      flag_state: state,
      warnings: state ? AVOID_REUSE_CAVEAT : undefined,
    };
  },

  abortrescan(wallet) {
    return wallet.abortRescan();
  },

  async backupwallet(wallet, [destination]) {
    const path = str(destination);
    try {
      await wallet.backup(path);
    } catch (error) {
      // Core says no more; a path the sandbox does not grant deserves saying which it does.
      const denied = error instanceof Deno.errors.NotCapable;
      fail(
        Code.WALLET,
        "Error: Wallet backup failed!" +
          (denied
            ? ` The wallet's sandbox does not let it write '${path}'; back up under '${wallet.dir}'.`
            : ""),
      );
    }
    return null;
  },

  gethdkeys(wallet, [options]) {
    const activeOnly = optionField(options, "active_only", "boolean") === true;
    const withPrivate = optionField(options, "private", "boolean") === true;
    const master = wallet.masterKey(withPrivate);
    // Each descriptor of an extended key, under the key as written: the wallet's own chains under
    // its master key, the imported ones under theirs (private when imported with it).
    const imported = wallet.importedDescriptors;
    const importedDescs = new Set(imported.map(({ desc }) => desc));
    const own = master === null ? [] : [...wallet.accounts.values()]
      .flatMap((account) => [false, true].map((internal) => account.chain(internal)?.descriptor))
      .filter((desc) => desc !== undefined && !importedDescs.has(desc))
      .map((desc) => ({ ...master, hasPrivate: true, desc: desc!, active: true }));
    // A multisig's under each of its extended keys.
    const imports = imported.flatMap((d) => {
      if (activeOnly && !d.active) return [];
      const keys = d.privateRoot === undefined
        ? sourceXpubs(d.source)
        : [{ xpub: d.privateRoot, hasPrivate: true }];
      return keys.map(({ xpub, hasPrivate }) => ({
        xpub,
        xprv: withPrivate && hasPrivate ? wallet.extendedPrivateKey(xpub) : undefined,
        hasPrivate,
        desc: d.desc,
        active: d.active,
      }));
    });
    const byXpub = Map.groupBy([...own, ...imports], ({ xpub }) => xpub);
    // In Core's order (its std::map of CExtPubKey): by public key, then chain code, as bytes.
    const order = (xpub: string) => {
      const key = HDKey.fromExtendedKey(xpub, TEST_VERSIONS);
      return hex.encode(key.publicKey!) + hex.encode(key.chainCode!);
    };
    const sorted = [...byXpub].sort(([a], [b]) => order(a) < order(b) ? -1 : 1);
    return sorted.map(([xpub, descriptors]) => {
      // As Core's: private when any descriptor of it holds its private key.
      const hasPrivate = descriptors.some((d) => d.hasPrivate);
      const xprv = descriptors.find((d) => d.xprv !== undefined)?.xprv;
      return {
        xpub,
        has_private: hasPrivate,
        ...(xprv === undefined ? {} : { xprv }),
        descriptors: descriptors.sort((a, b) => a.desc < b.desc ? -1 : 1)
          .map(({ desc, active }) => ({ desc, active })),
      };
    });
  },

  listdescriptors(wallet, [privateKeys]) {
    const withPrivate = bool(privateKeys, false);
    if (withPrivate && wallet.flags.disablePrivateKeys) {
      fail(Code.WALLET, "Can't get private descriptor string for watch-only wallets");
    }
    if (withPrivate) wallet.ensureUnlocked();
    const shown = (desc: string) => withPrivate ? wallet.privateDescriptor(desc) : desc;
    const active: ({ desc: string } & Record<string, Reply>)[] = [...wallet.accounts.values()]
      .flatMap((account) =>
        [false, true].filter((internal) => account.chain(internal) !== undefined).map(
          (internal) => {
            const next = wallet.nextIndex(account.kind, internal);
            return {
              desc: shown(account.descriptor(internal)),
              timestamp: wallet.chainTime(account.kind, internal),
              active: true,
              internal,
              range: [0, wallet.derivedCount(account.kind, internal) - 1],
              next,
              next_index: next,
            };
          },
        )
      );
    // The watched imports: Core tells `internal` of an active descriptor only.
    const watched = wallet.importedDescriptors.filter((d) => !d.active).map(({ desc, ...d }) => ({
      desc: shown(desc),
      timestamp: d.timestamp,
      active: false,
      ...(d.range === undefined ? {} : {
        range: [d.range.start, d.range.end - 1],
        next: d.range.next,
        next_index: d.range.next,
      }),
    }));
    const descriptors = [...active, ...watched]
      .sort((a, b) => a.desc < b.desc ? -1 : a.desc > b.desc ? 1 : 0);
    return { wallet_name: wallet.name, descriptors };
  },
};

/** One `importdescriptors` request as the node read it, or its refusal there. */
type DescriptorRequest =
  | { error: { code: number; message: string }; warnings?: string[] }
  | {
    error?: undefined;
    /** The descriptor as the request wrote it. */
    given: string;
    ranged: boolean;
    active: boolean;
    /** Null when not given. */
    label: string | null;
    /** `[begin, end]`, inclusive; null when not given. */
    range: [number, number] | null;
    next_index: number | null;
    timestamp: number;
    /** Whether it holds private keys. */
    private: boolean;
    /** What it stands for: one descriptor, or one per path of a multipath one. */
    descriptors: {
      /**
       * The public descriptor, checksum included, normalized as Core's
       * wallet shows it (an extended private key's hardened steps taken).
       */
      desc: string;
      internal: boolean;
      /** Whether it expands without more private keys. */
      expands: boolean;
      /**
       * What its scripts come from: an extended key's chain or one key, or
       * a multisig of such keys, of an address type; a
       * `tr(KEY,TREE)`'s internal key and leaves (depth-first); else the
       * scripts of one not ranged; else null.
       */
      source:
        | ({ kind: DescriptorKind } & RequestKey)
        | { kind: DescriptorKind; threshold: number; sorted: boolean; keys: RequestKey[] }
        | {
          kind: "tr";
          internal: RequestKey;
          leaves: { depth: number; leaf: TreeLeafKind; threshold: number; keys: RequestKey[] }[];
        }
        | { scripts: string[] }
        | null;
      /**
       * Given with private keys: its private form, the private keys among
       * its keys (each an extended private key as written, with its
       * origin, or one key), none for a descriptor of another kind; and
       * whether all its keys are private.
       */
      secret: {
        desc: string;
        keys: (
          | { xprv: string; fingerprint: string; path: number[] }
          | { pubkey: string; privkey: string }
        )[];
        all: boolean;
      } | null;
    }[];
  };

/** A key of an `importdescriptors` request as the node read it, its origin's path in numbers. */
type RequestKey =
  | { xpub: string; steps: number[]; fingerprint: string; path: number[]; root?: string }
  | { pubkey: string; fingerprint: string; path: number[] };

/** BIP 32's hardened offset. */
const HARDENED = 0x80000000;

/** `m/84h/1h/0h` for a path's numbers. */
function pathText(steps: readonly number[]): string {
  return "m" + steps.map((i) => i >= HARDENED ? `/${i - HARDENED}h` : `/${i}`).join("");
}

/** A request's key as the wallet keeps it: the fingerprint a number, the path in text. */
function keySource(key: RequestKey): KeySource {
  return { ...key, fingerprint: parseInt(key.fingerprint, 16), path: pathText(key.path) };
}

/**
 * Core's `ProcessDescriptorImport`, the wallet's part: the default range
 * (`-keypool`), the checks that depend on the wallet, then the import.
 * A wallet without private keys takes descriptors without them, another
 * takes them with theirs, which join its keyring: a multisig's or a
 * tree's with some of them at least (Core's warning when not all). It
 * derives ranges of scripts from the descriptors of its four address
 * kinds, multisigs and trees only, and signs for those only, so other
 * ranged ones (`combo()`, `pk()`, `rawtr()` over a range) and other
 * private ones are refused with a sentence saying so.
 */
async function importDescriptor(
  wallet: Wallet,
  request: DescriptorRequest,
  warnings: string[],
): Promise<void> {
  if (request.error !== undefined) {
    warnings.push(...request.warnings ?? []);
    fail(request.error.code, request.error.message);
  }
  // Not Core's (which takes up to a million scripts): at most MAX_KEYPOOL keys derived per
  // descriptor, at about half a millisecond each, whether a range is given or not.
  const keysPerScript = Math.max(
    1,
    ...request.descriptors.map(({ source }) => sourceKeyCount(source)),
  );
  const most = scriptsWithin(keysPerScript);
  let range = request.range;
  if (request.ranged && range === null) {
    warnings.push("Range not given, using default keypool range");
    if (most < wallet.keypool) {
      warnings.push(
        `Range bounded to [0,${
          most - 1
        }]: at most ${MAX_KEYPOOL} keys per descriptor, ${most} scripts of ${keysPerScript} keys, below -keypool=${wallet.keypool}`,
      );
    }
    range = [0, Math.min(wallet.keypool, most) - 1];
    const next = request.next_index;
    if (next !== null && (next < range[0] || next > range[1])) {
      fail(Code.INVALID_PARAMETER, "next_index is out of range");
    }
  }
  // An active chain derives from index 0 to its range's end: the end is what it costs.
  const derived = request.range === null
    ? 0
    : request.active
    ? request.range[1] + 1
    : request.range[1] - request.range[0] + 1;
  if (derived > most) {
    fail(
      Code.INVALID_PARAMETER,
      `Range is too large for this wallet: at most ${most} scripts per descriptor${
        keysPerScript > 1 ? ` of ${keysPerScript} keys` : ""
      }${request.active ? ", an active one's from index 0" : ""}`,
    );
  }
  const watchOnly = wallet.flags.disablePrivateKeys;
  if (watchOnly && request.private) {
    fail(Code.WALLET, "Cannot import private keys to a wallet with private keys disabled");
  }
  const next = request.next_index ?? range?.[0];
  // One after the other, as Core's: a later path refused leaves the earlier ones imported.
  for (const { desc, internal, expands, source, secret } of request.descriptors) {
    if (!expands) {
      fail(
        Code.WALLET,
        "Cannot expand descriptor. Probably because of hardened derivations without private keys provided",
      );
    }
    if (!watchOnly && !request.private) {
      fail(
        Code.WALLET,
        "Cannot import descriptor without private keys to a wallet with private keys enabled",
      );
    }
    if (source === null) {
      fail(
        Code.WALLET,
        "This wallet imports ranged descriptors of pkh(), sh(wpkh()), wpkh(), tr() (its script tree, if any, of pk(), pkh(), multi_a() or sortedmulti_a() leaves) and of multi() or sortedmulti() in wsh(), sh(wsh()) or sh(), of compressed keys unhardened at their last step, only",
      );
    }
    if (secret !== null && secret.keys.length === 0) {
      fail(
        Code.WALLET,
        "This wallet signs for the compressed keys of pkh(), sh(wpkh()), wpkh() and tr() descriptors (their script trees' too) and of multisig ones only",
      );
    }
    // Core's: a multisig or a tree the wallet holds some keys of is imported, signed for in part.
    if (secret !== null && !secret.all) {
      warnings.push(
        "Not all private keys provided. Some wallet functionality may return unexpected errors",
      );
    }
    const keys: ImportedSecret | null = secret && {
      desc,
      privateDesc: secret.desc,
      keys: secret.keys.map((key) =>
        "xprv" in key
          ? { xprv: key.xprv, fingerprint: parseInt(key.fingerprint, 16), path: pathText(key.path) }
          : key
      ),
    };
    // The extended key a single-key chain derives from, as written (gethdkeys).
    const [root] = keys?.keys ?? [];
    const singleRoot = root !== undefined && "xprv" in root && !("keys" in source) &&
      !("leaves" in source);
    const record: ImportedDescriptor = {
      desc,
      active: request.active,
      internal,
      timestamp: request.timestamp,
      source: "scripts" in source
        ? source
        : "keys" in source
        ? { ...source, keys: source.keys.map(keySource) }
        : "leaves" in source
        ? {
          kind: source.kind,
          internal: keySource(source.internal),
          leaves: source.leaves.map((leaf) => ({ ...leaf, keys: leaf.keys.map(keySource) })),
        }
        : { kind: source.kind, ...keySource(source) },
      ...(singleRoot
        ? { privateRoot: HDKey.fromExtendedKey(root.xprv, TEST_VERSIONS).publicExtendedKey }
        : {}),
    };
    await wallet.importDescriptor(
      record,
      range === null ? null : { start: range[0], end: range[1] + 1, next: next! },
      request.label,
      request.given,
      keys,
    );
  }
}

/**
 * Field `key` of an options object as Core's `options["…"].get_bool()`
 * and `get_str()` read it: undefined when absent (or null, with
 * `nullIsAbsent`), else -3 unless of `type`.
 */
function optionField<T extends "boolean" | "string">(
  options: unknown,
  key: string,
  type: T,
  nullIsAbsent = false,
): (T extends "boolean" ? boolean : string) | undefined {
  const value = (options as Record<string, unknown> | null | undefined)?.[key];
  if (value === undefined || (nullIsAbsent && value === null)) return undefined;
  const typed = type === "boolean" ? typeof value === "boolean" : typeof value === "string";
  if (typed) return value as T extends "boolean" ? boolean : string;
  return fail(
    Code.TYPE,
    `JSON value of type ${jsonTypeName(value)} is not of expected type ${
      type === "boolean" ? "bool" : "string"
    }`,
  );
}

/**
 * Core's `GetAvoidReuseFlag`: an `avoid_reuse` argument, by default the
 * wallet's flag; -4 when it asks a wallet without the flag to avoid reuse.
 */
function avoidReuseArg(wallet: Wallet, value: unknown): boolean {
  const enabled = wallet.flags.avoidReuse;
  const avoid = value === null || value === undefined ? enabled : bool(value, false);
  if (avoid && !enabled) {
    fail(Code.WALLET, 'wallet does not have the "avoid reuse" feature enabled');
  }
  return avoid;
}

/** The flags `setwalletflag` knows (Core's names), and whether each may be changed. */
const WALLET_FLAGS: Record<string, boolean> = {
  avoid_reuse: true,
  blank: false,
  key_origin_metadata: false,
  last_hardened_xpub_cached: false,
  disable_private_keys: false,
  descriptor_wallet: false,
  external_signer: false,
};

/** Core's caveat when `avoid_reuse` is set on a wallet that has history. */
const AVOID_REUSE_CAVEAT =
  "You need to rescan the blockchain in order to correctly mark used destinations in the past. Until this is done, some destinations may be considered unused, even if the opposite is the case.";

/** `decoded` of `gettransaction … true`: the transaction's main fields. */
function decodedTx(raw: Uint8Array): Reply {
  const tx = parseTx(raw);
  return {
    txid: tx.txid,
    hash: tx.wtxid,
    size: raw.length,
    vsize: tx.vsize,
    vin: tx.inputs.map((input) => ({
      txid: input.txid,
      vout: input.vout,
      sequence: input.sequence,
    })),
    vout: tx.outputs.map((output, n) => ({
      value: new Btc(output.amount),
      n,
      scriptPubKey: { hex: hex.encode(output.script), address: scriptAddress(output.script) },
    })),
  };
}
