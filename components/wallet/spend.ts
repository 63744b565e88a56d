/**
 * The wallet's spending, as Bitcoin Core's `spend.cpp`, `feebumper.cpp`
 * and the send RPCs: which coins may be spent, coin selection
 * (`coinselect.ts`) turned into a transaction with its change, and the
 * sends built on it: `sendtoaddress` and `sendmany` (`SendMoney`),
 * funding (`FundTransaction`, and `send`'s fund then finish), `bumpfee`
 * and `sendall`, with Core's fee checks and locktime against fee sniping.
 *
 * It holds no state: it reads and drives the wallet through
 * {@linkcode SpendingWallet}, signs through `sign.ts`, and runs each call
 * in one turn of the wallet's queue, so that no two spends take the same
 * coins and the chain moves on only between them.
 *
 * @example
 * ```ts
 * import { ChainState } from "../node/chain/mod.ts";
 * import { Mempool } from "../node/mempool/mod.ts";
 * import { nodeInit } from "../node/ipc/init.ts";
 * import { Wallet } from "./wallet.ts";
 * import { requiredFeeRate, sendMoney } from "./spend.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(`${dir}/node`);
 *   using mempool = new Mempool(chain);
 *   using init = nodeInit({ chain, mempool, requestShutdown() {} });
 *   const wallet = await Wallet.create(`${dir}/w`, "w", init.makeChain(), {});
 *   const feeRate = await requiredFeeRate(wallet); // 1 sat/vB, the relay minimum
 *   const script = wallet.newAddress("wpkh", false).script;
 *   // No coins yet: coin selection says so, in Core's words.
 *   const sent = await sendMoney(wallet, [{ script, amount: 1000n, subtractFee: false }], feeRate)
 *     .then(() => "sent", (error) => error.message);
 *   if (feeRate !== 1000n || sent !== "Insufficient funds") throw new Error(sent);
 *   await wallet.close();
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { base64, hex } from "@scure/base";
import { OutScript, RawTx, Transaction } from "@scure/btc-signer";
import type { Chain } from "../../schemas/gen/ipc/chain.mp.ts";
import { formatMoney, formatSatPerVbyte } from "../bitcoin/amount.ts";
import {
  type Coin,
  compactSize,
  dustThreshold,
  ENORMOUS_CLUSTER,
  feeFor,
  MAX_STANDARD_TX_WEIGHT,
  type Payment,
  selectCoins,
  SelectionError,
  TRANSACTION_TOO_LARGE,
  transactionWeight,
} from "./coinselect.ts";
import { ADDRESS_TYPES, type DescriptorKind, OUTPUT_TYPE } from "./descriptor.ts";
import { type DerivedKey, isMultisig } from "./keys.ts";
import { psbtOf } from "./psbt.ts";
import { processPsbt, type SigningWallet, signTransaction } from "./sign.ts";
import {
  internalBytes,
  type OutPoint,
  outpointKey,
  type ParsedTx,
  parseTx,
  type TxOut,
} from "./tx.ts";
import {
  Code,
  scriptAddress,
  type Wallet,
  type WalletCoin,
  WalletError,
  type WalletTx,
} from "./wallet.ts";

/** Core's `WALLET_INCREMENTAL_RELAY_FEE` (sat/kvB): the least a bump adds to the fee rate. */
const WALLET_INCREMENTAL_RELAY_FEE = 5000n;
/** Sequence of the wallet's inputs: final locktime semantics off, RBF signalled (Core's default). */
const WALLET_SEQUENCE = 0xfffffffd;
/** Sequence of an input not signalling BIP 125, its locktime still enforced (Core's `MAX_SEQUENCE_NONFINAL`). */
const MAX_SEQUENCE_NONFINAL = 0xfffffffe;
/** BIP 431's version: topologically restricted until confirmation (TRUC). */
const TRUC_VERSION = 3;
/** Core's lightest standard transaction (`MIN_STANDARD_TX_NONWITNESS_SIZE`, as weight). */
const MIN_STANDARD_TX_WEIGHT = 65 * 4;
/** BIP 431's bounds: a version 3 transaction's weight, and a child's of an unconfirmed one. */
const TRUC_MAX_WEIGHT = 40_000;
const TRUC_CHILD_MAX_WEIGHT = 4_000;

/**
 * What spending needs of the wallet beside signing. It reads the coins,
 * keys, own outputs and transactions, the tip, the locks and the bumps
 * made; it takes a turn of the queue (`serial`), holding the keys
 * through a send that signs (`holdKeys`), hands out change
 * addresses, locks coins, records a replacement and publishes a signed
 * transaction; and it asks the node for fee floors and whether a
 * transaction has children in the mempool (`chain`).
 */
export type SpendingWallet =
  & SigningWallet
  & Pick<
    Wallet,
    | "serial"
    | "holdKeys"
    | "signForSend"
    | "policy"
    | "tip"
    | "coins"
    | "immature"
    | "spent"
    | "isLocked"
    | "setLocked"
    | "transactions"
    | "confirmations"
    | "allFromMe"
    | "debit"
    | "isChange"
    | "isConflicted"
    | "replacedBy"
    | "recordReplacement"
    | "accounts"
    | "nextIndex"
    | "newAddress"
    | "keyOf"
    | "now"
    | "publish"
    | "flags"
  >
  & {
    readonly chain: Pick<
      Chain,
      | "relayMinFee"
      | "relayIncrementalFee"
      | "relayDustFee"
      | "mempoolMinFee"
      | "hasDescendantsInMempool"
      | "calculateIndividualBumpFees"
      | "calculateCombinedBumpFee"
      | "getTransactionAncestry"
      | "getPackageLimits"
      | "checkChainLimits"
      | "isInitialBlockDownload"
      | "findBlock"
    >;
  };

/**
 * A turn of the wallet's queue for a send that signs, its keys held until
 * it ends (a lock asked for meanwhile waits), as Core's sends hold
 * `cs_wallet` throughout.
 */
function signingTurn<T>(wallet: SpendingWallet, send: () => Promise<T>): Promise<T> {
  return wallet.serial(() => wallet.holdKeys(send));
}

/** The scripts given a preset input, kept in what is made of it (Core's coin control scripts). */
type PresetScripts = Partial<Pick<PresetInput, "scriptSig" | "witness">>;

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

/** What {@linkcode fundTransaction} makes of a transaction (Core's `FundTransaction` and coin control). */
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
  /** The most the transaction may weigh once coins are added (`max_tx_weight`). */
  readonly maxWeight?: number;
}

/** A funded transaction (`fundTransaction`): its bytes, its fee, and where its change went (-1: none). */
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
  readonly version: number;
}

/** Core's `DUMMY_NESTED_P2WPKH_INPUT_SIZE` (91 vB), as weight. */
const DUMMY_NESTED_P2WPKH_INPUT_WEIGHT = 91 * 4;

/**
 * Input weight once signed, as Core's `MaxInputWeight` reckons it from its
 * descriptor's costliest satisfaction: outpoint and sequence (40 bytes),
 * the scriptSig with its length (×4), and for a segwit spend the witness
 * with its item count. An ECDSA signature counts 71 bytes with its hash
 * type in a wallet that grinds low R, else 72 (Core's `use_max_sig`: a
 * wallet without private keys cannot count on its signers grinding); a
 * taproot key-path one 65, as Core counts it. A `tr()` output with a
 * script tree counts as a key-path spend too, as Core's `TRDescriptor`
 * counts it (its `MaxSatisfactionWeight` says so, a FIXME there): a
 * spend through a leaf weighs more, and pays a lower rate than asked.
 */
function inputWeight(key: DerivedKey, grindsR: boolean): number {
  const signature = 1 + (grindsR ? 71 : 72);
  const { scriptSig, witness } = satisfaction(key, signature);
  const base = (40 + compactSize(scriptSig) + scriptSig) * 4;
  if (witness === undefined) return base;
  return base + compactSize(witness.items) + witness.bytes;
}

/**
 * The bytes of `key`'s satisfaction in the scriptSig and in the witness
 * (none for a legacy spend), each pushed item with its length byte:
 * `signature` bytes a signature. A `sh()` redeem script counts one length
 * byte, as Core's `SHDescriptor` counts it.
 */
function satisfaction(
  key: DerivedKey,
  signature: number,
): { scriptSig: number; witness?: { items: number; bytes: number } } {
  const keyed = { items: 2, bytes: signature + 1 + 33 };
  if (!isMultisig(key)) {
    if (key.kind === "pkh") return { scriptSig: keyed.bytes };
    if (key.kind === "sh_wpkh") return { scriptSig: 1 + 22, witness: keyed };
    if (key.kind === "wpkh") return { scriptSig: 0, witness: keyed };
    // Taproot, with a script tree or without: the key path.
    return { scriptSig: 0, witness: { items: 1, bytes: 1 + 65 } };
  }
  // The dummy element CHECKMULTISIG pops, then `threshold` signatures.
  const signatures = 1 + key.threshold * signature;
  const redeem = key.redeemScript === undefined ? 0 : 1 + key.redeemScript.length;
  if (key.witnessScript === undefined) return { scriptSig: signatures + redeem };
  const script = key.witnessScript.length;
  return {
    scriptSig: redeem,
    witness: { items: key.threshold + 2, bytes: signatures + compactSize(script) + script },
  };
}

/** Whether spending `key`'s output takes no witness (a legacy spend: P2PKH, bare P2SH). */
function witnessless(key: DerivedKey): boolean {
  return satisfaction(key, 0).witness === undefined;
}

/**
 * A coin of `wallet` as coin selection weighs it: a wallet with private
 * keys grinds its signatures low R (Core's `CanGrindR`).
 */
function asCoin(
  wallet: SpendingWallet,
  c: { txid: string; vout: number; amount: bigint; key: DerivedKey },
): Coin {
  return {
    key: `${c.txid}:${c.vout}`,
    amount: c.amount,
    inputWeight: inputWeight(c.key, !wallet.flags.disablePrivateKeys),
    legacy: witnessless(c.key),
    type: c.key.kind,
  };
}

/**
 * `tx`'s bytes with the scriptSig and witness `preset` had put back on its
 * first inputs (written here: scure's Transaction refuses outputs after
 * inputs that look signed).
 */
function withPresetScripts(tx: Transaction, preset: readonly PresetScripts[]): Uint8Array {
  const raw = RawTx.decode(tx.toBytes(true, false));
  const inputs = raw.inputs.map((input, i) =>
    i < preset.length
      ? { ...input, finalScriptSig: preset[i].scriptSig ?? input.finalScriptSig }
      : input
  );
  const witnessed = preset.some((input) => (input.witness?.length ?? 0) > 0);
  return RawTx.encode({
    ...raw,
    inputs,
    segwitFlag: witnessed,
    witnesses: witnessed ? inputs.map((_, i) => [...(preset[i]?.witness ?? [])]) : undefined,
  });
}

/** A payment's script type as the change type follows it (Core's `TransactionChangeType`). */
const CHANGE_FOR: readonly [string, DescriptorKind][] = [
  ["tr", "tr"],
  ["wpkh", "wpkh"],
  ["sh", "sh_wpkh"],
  ["pkh", "pkh"],
];

/**
 * Builds, signs and broadcasts a transaction paying `payments` at
 * `feeRate` (sat/kvB) from the wallet's trusted coins, change to a new
 * address of the wallet, BIP 125 signalled unless not `replaceable`;
 * records it and returns it (Core's `SendMoney`). With `avoidReuse`
 * (`sendtoaddress` in a wallet avoiding reuse), coins of addresses spent
 * from before are left, and each address's coins are spent together.
 */
export function sendMoney(
  wallet: SpendingWallet,
  payments: readonly Payment[],
  feeRate: bigint,
  replaceable = true,
  avoidReuse = false,
): Promise<{ tx: ParsedTx; fee: bigint }> {
  return signingTurn(wallet, async () => {
    wallet.ensureCanSign();
    const { tx } = await build(wallet, {
      sign: true,
      payments,
      feeRate,
      preset: [],
      available: spendable(
        wallet,
        (c) => c.safe && !(avoidReuse && c.reused) && selectableDepth(wallet, c),
      ),
      byAddress: avoidReuse,
      version: 2,
      lockTime: await antiFeeSniping(wallet, []),
      sequence: replaceable ? WALLET_SEQUENCE : MAX_SEQUENCE_NONFINAL,
    });
    return await wallet.publish(tx.toBytes(true, true));
  });
}

/**
 * Core's `FundTransaction`: adds coins (unless `request.addInputs` is
 * false) and at most one change output so that the transaction's inputs
 * pay its outputs and the fee at `request.feeRate`; signs nothing. The
 * inputs it has already are kept as they are; each must spend a coin of
 * the wallet (this wallet takes no solving data for others').
 */
export function fundTransaction(wallet: SpendingWallet, request: FundRequest): Promise<Funded> {
  return wallet.serial(() => fundInTurn(wallet, request));
}

/**
 * Core's `send`: funds `request` as {@linkcode fundTransaction} does, then
 * finishes it as {@linkcode finish} does, in one turn of the wallet's queue
 * (no other send takes the same coins in between).
 */
export function fundAndFinish(
  wallet: SpendingWallet,
  request: FundRequest,
  options: FinishOptions,
): Promise<Finished> {
  return signingTurn(
    wallet,
    async () => finish(wallet, psbtOf((await fundInTurn(wallet, request)).raw), options),
  );
}

/**
 * Core's `FinishTransaction` once the locktime is set: the PSBT filled with
 * its keys' origins and signed as far as the wallet can (locked, not at
 * all), each signed input finalized; broadcast and recorded when complete
 * unless `psbt` or not `addToWallet`. The PSBT comes back when it is
 * asked for, incomplete, or not added; the hex whenever complete and not
 * broadcast.
 */
async function finish(
  wallet: SpendingWallet,
  tx: Transaction,
  options: FinishOptions,
): Promise<Finished> {
  const complete = wallet.signForSend(() =>
    processPsbt(wallet, tx, { sign: true, sighash: null, finalize: true, bip32derivs: true })
  );
  const psbt = options.psbt || !complete || !options.addToWallet
    ? base64.encode(tx.toPSBT(0))
    : undefined;
  if (!complete) return { psbt, complete };
  const raw = tx.toBytes(true, true);
  if (options.addToWallet && !options.psbt) {
    const { tx: sent } = await wallet.publish(raw);
    return { txid: sent.txid, complete };
  }
  return { psbt, txid: parseTx(raw).txid, hex: hex.encode(raw), complete };
}

/** {@linkcode fundTransaction}'s work, inside a turn of the queue. */
async function fundInTurn(wallet: SpendingWallet, request: FundRequest): Promise<Funded> {
  for (const input of request.inputs) {
    if (wallet.ownOutput(input.txid, input.vout) === undefined && !input.inUtxoSet) {
      throw new WalletError(Code.WALLET, "Unable to find UTXO for external input");
    }
  }
  // Core's FundTransaction and CreateTransaction: version 3 is held to BIP 431's bound, and the
  // bound must leave room for a standard transaction (checked before the inputs given are read).
  const maxWeight = request.version === TRUC_VERSION
    ? Math.min(request.maxWeight ?? TRUC_MAX_WEIGHT, TRUC_MAX_WEIGHT)
    : request.maxWeight ?? MAX_STANDARD_TX_WEIGHT;
  if (maxWeight < MIN_STANDARD_TX_WEIGHT || maxWeight > MAX_STANDARD_TX_WEIGHT) {
    throw new WalletError(
      Code.WALLET,
      `Maximum transaction weight must be between ${MIN_STANDARD_TX_WEIGHT} and ${MAX_STANDARD_TX_WEIGHT}`,
    );
  }
  const preset = request.inputs.map((input) => {
    const output = wallet.ownOutput(input.txid, input.vout);
    if (output === undefined) {
      throw new WalletError(
        Code.WALLET,
        `Not solvable pre-selected input COutPoint(${input.txid.slice(0, 10)}, ${input.vout})`,
      );
    }
    checkTrucParent(wallet, input.txid, request.version, Code.WALLET);
    return { ...input, amount: output.amount, key: presetKey(wallet, input, output.script) };
  });
  const depthOk = (c: WalletCoin) =>
    c.confirmations >= request.minDepth &&
    (request.maxDepth === undefined || c.confirmations <= request.maxDepth);
  const built = await build(wallet, {
    payments: request.payments,
    feeRate: request.feeRate,
    preset,
    available: request.addInputs
      ? await trucChildless(
        wallet,
        spendable(
          wallet,
          (c) => (c.safe || request.includeUnsafe) && depthOk(c) && selectableDepth(wallet, c),
          request.version,
        ),
      )
      : [],
    addInputs: request.addInputs,
    changeScript: request.changeScript,
    changeKind: request.changeKind,
    changePosition: request.changePosition,
    version: request.version,
    maxWeight,
    // The inputs added keep locktime semantics on: the given ones decide.
    lockTime: request.lockTime ?? await antiFeeSniping(wallet, request.inputs),
    // Core's: BIP 125 signalled, else final locktime semantics kept on (MAX_SEQUENCE_NONFINAL).
    sequence: request.replaceable ? WALLET_SEQUENCE : MAX_SEQUENCE_NONFINAL,
  });
  if (request.lockUnspents) wallet.setLocked(built.inputs, true, false);
  return {
    raw: withPresetScripts(built.tx, request.inputs),
    fee: built.fee,
    changePos: built.changePos,
  };
}

/**
 * BIP 431 (TRUC) for a given input: an unconfirmed parent and its child
 * are both version 3, or neither (a parent out of the mempool too, as
 * Core's depth 0). Refused with `code`: Core's funding answers -4, its
 * sendall -8.
 */
function checkTrucParent(
  wallet: SpendingWallet,
  txid: string,
  version: number,
  code: number,
): void {
  const { tx, row } = wallet.transaction(txid)!;
  if (
    row.blockHeight === null && !wallet.isConflicted(txid) &&
    (tx.version === TRUC_VERSION) !== (version === TRUC_VERSION)
  ) {
    throw new WalletError(
      code,
      `Can't spend unconfirmed version ${tx.version} pre-selected input with a version ${version} tx`,
    );
  }
}

/**
 * Whether coin selection may add `coin` for its depth: without
 * -spendzeroconfchange, Core's selection tries confirmed coins only
 * (`sendall` takes them all the same).
 */
function selectableDepth(wallet: SpendingWallet, coin: { confirmations: number }): boolean {
  return coin.confirmations > 0 || wallet.policy.spendZeroConfChange;
}

/** The coins coin selection may add: mature, not locked, and passing `accept`. */
function spendable(
  wallet: SpendingWallet,
  accept: (coin: SolvableCoin) => boolean,
  version = 2,
): SolvableCoin[] {
  return wallet.coins().filter((c): c is SolvableCoin =>
    // A script watched without its key (an imported addr()) cannot be weighed, as in Core.
    c.key !== undefined &&
    !wallet.immature(c) && !wallet.isLocked(`${c.txid}:${c.vout}`) && accept(c as SolvableCoin) &&
    // BIP 431 (TRUC), as Core's AvailableCoins: a version 3 transaction spends unconfirmed coins
    // of version 3 transactions only, any other never one of theirs.
    (c.confirmations > 0 ||
      (wallet.transaction(c.txid)!.tx.version === TRUC_VERSION) === (version === TRUC_VERSION))
  );
}

/** A coin whose key the wallet knows: coin selection can weigh its input. */
type SolvableCoin = WalletCoin & { readonly key: DerivedKey };

/**
 * The key of the script a pre-selected input spends, which weighing it
 * needs: -4 for a script the wallet watches without its key, as Core's
 * `FetchSelectedInputs` refuses an input it cannot solve.
 */
function presetKey(wallet: SpendingWallet, input: OutPoint, script: Uint8Array): DerivedKey {
  const key = wallet.keyOf(script);
  if (key !== undefined) return key;
  throw new WalletError(
    Code.WALLET,
    `Not solvable pre-selected input COutPoint(${input.txid.slice(0, 10)}, ${input.vout})`,
  );
}

/**
 * Of `coins`, those a version 3 child may spend as Core's AvailableCoins
 * lets it: an unconfirmed version 3 parent takes one child (none in the
 * mempool yet) and has no unconfirmed parent of its own (the wallet's),
 * and a child has one unconfirmed parent: of several, the one whose coins
 * are worth most. Coins locked while it asked the node stay out.
 */
async function trucChildless(
  wallet: SpendingWallet,
  coins: SolvableCoin[],
): Promise<SolvableCoin[]> {
  const kept: SolvableCoin[] = [];
  // Each unconfirmed version 3 parent's coins, or null when it may take no child.
  const byParent = new Map<string, SolvableCoin[] | null>();
  for (const coin of coins) {
    const { tx } = wallet.transaction(coin.txid)!;
    if (coin.confirmations > 0 || tx.version !== TRUC_VERSION) {
      kept.push(coin);
      continue;
    }
    if (!byParent.has(coin.txid)) {
      const childless = !await wallet.chain.hasDescendantsInMempool(internalBytes(coin.txid)) &&
        !tx.inputs.some((input) => unconfirmed(wallet, input.txid));
      byParent.set(coin.txid, childless ? [] : null);
    }
    byParent.get(coin.txid)?.push(coin);
  }
  const worth = (group: readonly WalletCoin[]) => group.reduce((sum, c) => sum + c.amount, 0n);
  let parent: SolvableCoin[] = [];
  for (const group of byParent.values()) if (group && worth(group) > worth(parent)) parent = group;
  return [...kept, ...parent].filter((c) => !wallet.isLocked(`${c.txid}:${c.vout}`));
}

/** What {@linkcode build} makes a transaction of. */
type BuildSpec = Parameters<typeof createInternal>[1];

/**
 * Core's `CreateTransaction`: {@linkcode createInternal}'s transaction;
 * unless each address's coins are spent together already (`byAddress`,
 * `-avoidpartialspends`), it is built again so, its change going where the
 * first one's went, and that one is taken when its fee is at most
 * `-maxapsfee` more (Core's avoided partial spends; -1 never tries it).
 */
async function build(wallet: SpendingWallet, spec: BuildSpec): ReturnType<typeof createInternal> {
  const { avoidPartialSpends, maxApsFee } = wallet.policy;
  const byAddress = spec.byAddress === true || avoidPartialSpends;
  const ungrouped = await createInternal(wallet, { ...spec, byAddress });
  // A fee of 0: no working fee rate, nothing to weigh (Core's words).
  if (byAddress || ungrouped.fee <= 0n || maxApsFee < 0n) return ungrouped;
  const changeScript = ungrouped.changePos < 0
    ? spec.changeScript
    : ungrouped.tx.getOutput(ungrouped.changePos).script;
  try {
    const grouped = await createInternal(wallet, { ...spec, byAddress: true, changeScript });
    return grouped.fee <= ungrouped.fee + maxApsFee ? grouped : ungrouped;
  } catch (error) {
    if (error instanceof SelectionError || error instanceof WalletError) return ungrouped;
    throw error;
  }
}

/**
 * Core's `CreateTransactionInternal`: `preset` (kept as they are, with the
 * scripts given them) and coins of `available` to pay `payments` and the
 * fee at `feeRate`, and change to `changeScript` or to a new address of the
 * wallet, at `changePosition` (random by default, as Core places it).
 * Signed when `sign` says (Core's `SendMoney`), then held to the standard
 * weight and `-maxtxfee`; last, with `-walletrejectlongchains`, the node
 * judges it against its mempool's chain limits, and a change address is
 * kept only once it passes.
 */
async function createInternal(wallet: SpendingWallet, spec: {
  sign?: boolean;
  payments: readonly Payment[];
  feeRate: bigint;
  preset: readonly (PresetScripts & {
    txid: string;
    vout: number;
    sequence: number;
    amount: bigint;
    key: DerivedKey;
  })[];
  available: readonly SolvableCoin[];
  /** Whether each address's coins of `available` are spent together (Core's avoided partial spends). */
  byAddress?: boolean;
  addInputs?: boolean;
  changeScript?: Uint8Array;
  changeKind?: DescriptorKind;
  changePosition?: number;
  version: number;
  /** The most the transaction may weigh once coins of `available` are added. */
  maxWeight?: number;
  lockTime: number;
  sequence: number;
}): Promise<{ tx: Transaction; fee: bigint; changePos: number; inputs: string[] }> {
  const byKey = new Map(spec.available.map((c) => [`${c.txid}:${c.vout}`, c]));
  const bumps = await individualBumpFees(wallet, [
    ...spec.preset.filter((c) => unconfirmed(wallet, c.txid)),
    ...spec.available.filter((c) => c.confirmations === 0),
  ], spec.feeRate);
  const changeKind = spec.changeKind ?? changeKindFor(wallet, spec.payments);
  const changeChain = wallet.accounts.get(changeKind)?.chain(true);
  // As Core's: with no change address to be had, the change is weighed as an empty script, and
  // refused only if there is change.
  const changeKey = spec.changeScript !== undefined
    ? wallet.keyOf(spec.changeScript)
    : changeChain &&
      wallet.accounts.get(changeKind)!.derive(true, wallet.nextIndex(changeKind, true));
  const changeScript = spec.changeScript ?? changeKey?.script;
  // Core's eligibility filters ask how deep each coin is and whether its transaction spent any
  // coin of the wallet's (Core's CachedTxIsFromMe: its change, which fewer confirmations do for).
  const fromMe = new Map<string, boolean>();
  const ownTransaction = (txid: string) => {
    if (!fromMe.has(txid)) fromMe.set(txid, wallet.debit(wallet.transaction(txid)!.tx) > 0n);
    return fromMe.get(txid)!;
  };
  // And, for unconfirmed ones, how long a mempool chain they stand on.
  const unconfirmedTxids = [
    ...new Set(spec.available.filter((c) => c.confirmations === 0).map((c) => c.txid)),
  ];
  const ancestry = new Map<string, { ancestors: number; descendants: number }>();
  let packageLimits;
  if (unconfirmedTxids.length > 0) {
    const found = await wallet.chain.getTransactionAncestry(unconfirmedTxids.map(internalBytes));
    unconfirmedTxids.forEach((txid, i) => ancestry.set(txid, found[i]));
    packageLimits = await wallet.chain.getPackageLimits();
  }
  const coins = spec.available.map((c) => ({
    ...asCoin(wallet, c),
    group: spec.byAddress ? hex.encode(c.script) : undefined,
    depth: c.confirmations,
    fromMe: ownTransaction(c.txid),
    ...ancestry.get(c.txid),
    bumpFee: bumps.get(`${c.txid}:${c.vout}`),
  }));
  const dustRelayFee = await wallet.chain.relayDustFee();
  const plan = await selectCoins({
    coins,
    preset: spec.preset.map((c) => ({
      ...asCoin(wallet, c),
      bumpFee: bumps.get(`${c.txid}:${c.vout}`),
    })),
    addInputs: spec.addInputs,
    maxWeight: spec.maxWeight,
    // BIP 431: a child of an unconfirmed version 3 parent is held to the child's bound.
    unconfirmedMaxWeight: spec.version === TRUC_VERSION ? TRUC_CHILD_MAX_WEIGHT : undefined,
    payments: spec.payments,
    feeRate: spec.feeRate,
    changeScript: changeScript ?? new Uint8Array(),
    dustRelayFee,
    // Core's GetDiscardRate: -discardfee, held under the longest fee estimate (this node keeps
    // none) and never below the dust relay fee.
    discardFeeRate: wallet.policy.discardFee > dustRelayFee
      ? wallet.policy.discardFee
      : dustRelayFee,
    // Core's change_spend_size: weighed in a segwit transaction (a legacy input's empty witness
    // counted); a change the wallet cannot sign for as a nested segwit key's input
    // (DUMMY_NESTED_P2WPKH_INPUT_SIZE).
    changeSpendWeight: changeKey === undefined
      ? DUMMY_NESTED_P2WPKH_INPUT_WEIGHT
      : inputWeight(changeKey, !wallet.flags.disablePrivateKeys) +
        (witnessless(changeKey) ? 1 : 0),
    spendZeroConfChange: wallet.policy.spendZeroConfChange,
    rejectLongChains: wallet.policy.rejectLongChains,
    packageLimits,
    longTermFeeRate: wallet.policy.consolidateFeeRate,
    combinedBumpFee: async (keys) =>
      await wallet.chain.calculateCombinedBumpFee(
        keys.map((key) => {
          const [txid, vout] = key.split(":");
          return chainOutPoint({ txid, vout: Number(vout) });
        }),
        spec.feeRate,
      ),
  });
  const { fee, change } = plan;
  if (change !== null && changeScript === undefined) {
    throw new SelectionError(
      `Transaction needs a change address, but we can't generate it. Error: No ${
        OUTPUT_TYPE[changeKind]
      } addresses available.`,
    );
  }
  const outputs = spec.payments.map((p, i) => ({ script: p.script, amount: plan.amounts[i] }));
  let changePos = -1;
  if (change !== null) {
    changePos = spec.changePosition ?? Math.floor(Math.random() * (outputs.length + 1));
    outputs.splice(changePos, 0, { script: changeScript!, amount: change });
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
  // Core's order: signed, then its size (as signed, or as estimated unsigned) and its fee bounded,
  // then the node's chain limits.
  if (spec.sign && wallet.signForSend(() => signTransaction(wallet, tx)).length > 0) {
    throw new SelectionError("Signing transaction failed");
  }
  if ((spec.sign ? tx.weight : plan.weight) > MAX_STANDARD_TX_WEIGHT) {
    throw new SelectionError(TRANSACTION_TOO_LARGE);
  }
  if (fee > wallet.policy.maxTxFee) {
    throw new SelectionError("Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)");
  }
  if (wallet.policy.rejectLongChains) {
    // Judged as made: signed, or with the scripts given the preset inputs and none for the others.
    const raw = spec.sign ? tx.toBytes(true, true) : withPresetScripts(tx, spec.preset);
    const limits = await wallet.chain.checkChainLimits(raw);
    if (!limits.result) throw new SelectionError(limits.error);
  }
  // As Core's: the change address reserved is kept once the transaction is made, change or not
  // (no later transaction gets an address this one's inputs may already be linked to).
  if (spec.changeScript === undefined && changeChain) wallet.newAddress(changeKind, true);
  return { tx, fee, changePos, inputs: plan.inputs.map((coin) => coin.key) };
}

/** Each of `coins`' ancestor bump fee at `feeRate` (Core's `calculateIndividualBumpFees`), by key. */
async function individualBumpFees(
  wallet: SpendingWallet,
  coins: readonly OutPoint[],
  feeRate: bigint,
): Promise<Map<string, bigint>> {
  if (coins.length === 0) return new Map();
  const fees = await wallet.chain.calculateIndividualBumpFees(coins.map(chainOutPoint), feeRate);
  if (fees.length !== coins.length) throw new SelectionError(ENORMOUS_CLUSTER);
  return new Map(coins.map((coin, i) => [`${coin.txid}:${coin.vout}`, fees[i]]));
}

/** Whether wallet transaction `txid` is not in a block (in the mempool, or out of it). */
function unconfirmed(wallet: SpendingWallet, txid: string): boolean {
  return wallet.transaction(txid)?.row.blockHeight === null;
}

/** An outpoint as the Chain interface takes it: the txid in internal byte order. */
function chainOutPoint({ txid, vout }: OutPoint): { txid: Uint8Array; vout: number } {
  return { txid: internalBytes(txid), vout };
}

/**
 * The change's kind, as Core's `TransactionChangeType` chooses it:
 * `-changetype` when given, legacy with `-addresstype=legacy`; else the
 * type of a payment the wallet has a change descriptor for (taproot
 * first), else taproot, else segwit v0, else `-addresstype`'s.
 */
function changeKindFor(wallet: SpendingWallet, payments: readonly Payment[]): DescriptorKind {
  const { changeType, addressType } = wallet.policy;
  if (changeType !== null) return ADDRESS_TYPES[changeType];
  if (addressType === "legacy") return "pkh";
  const types = new Set(payments.map((payment) => {
    try {
      return OutScript.decode(payment.script).type as string;
    } catch {
      return "unknown";
    }
  }));
  const kinds = [...wallet.accounts].filter(([, account]) => account.chain(true) !== undefined)
    .map(([kind]) => kind);
  for (const [type, kind] of CHANGE_FOR) {
    if (types.has(type) && kinds.includes(kind)) return kind;
  }
  return kinds.includes("tr") ? "tr" : kinds.includes("wpkh") ? "wpkh" : ADDRESS_TYPES[addressType];
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
export function bumpFee(
  wallet: SpendingWallet,
  request: BumpRequest,
): Promise<{ txid?: string; psbt?: string; oldFee: bigint; fee: bigint }> {
  return signingTurn(wallet, async () => {
    // Only signing needs the keys.
    if (!request.psbt) wallet.ensureCanSign();
    if (request.outputs !== null && request.originalChangeIndex !== null) {
      throw new WalletError(
        Code.INVALID_PARAMETER,
        "The options 'outputs' and 'original_change_index' are incompatible. You can only either specify a new set of outputs, or designate a change output to be recycled.",
      );
    }
    const wtx = wallet.transaction(request.txid);
    if (wtx === undefined) {
      throw new WalletError(Code.INVALID_ADDRESS_OR_KEY, "Invalid or non-wallet transaction id");
    }
    const { tx } = wtx;
    const changeIndex = request.originalChangeIndex;
    if (changeIndex !== null && changeIndex >= tx.outputs.length) {
      throw new WalletError(Code.INVALID_PARAMETER, "Change position is out of range");
    }
    const inChain = spentInChain(wallet);
    for (const input of tx.inputs) {
      if (inChain.has(outpointKey(input))) {
        throw new WalletError(Code.MISC, `${input.txid}:${input.vout} is already spent`);
      }
    }
    await checkBumpable(wallet, wtx);
    const preset = tx.inputs.map((input) => {
      const coin = wallet.ownOutput(input.txid, input.vout)!;
      const sequence = request.replaceable ? WALLET_SEQUENCE : MAX_SEQUENCE_NONFINAL;
      return {
        ...input,
        sequence,
        amount: coin.amount,
        key: presetKey(wallet, input, coin.script),
      };
    });
    const sum = (amounts: readonly { amount: bigint }[]) =>
      amounts.reduce((total, { amount }) => total + amount, 0n);
    const oldFee = sum(preset) - sum(tx.outputs);

    // The recipients, and the change script kept (Core's OutputIsChange, or the index given).
    const txouts = request.outputs ?? tx.outputs;
    let changeScript: Uint8Array | undefined;
    let payments: Payment[] = [];
    txouts.forEach((output, i) => {
      if (changeIndex !== null ? i === changeIndex : wallet.isChange(output.script)) {
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
      const weight = transactionWeight(
        preset.map((c) => asCoin(wallet, c)),
        txouts.map((o) => o.script),
      );
      await checkFeeRate(wallet, feeRate, preset, weight, oldFee);
    } else {
      // The original's rate (rounded down, so 1 sat/kvB more) and the incremental step.
      feeRate = (oldFee * 1000n) / BigInt(tx.vsize) + 1n + await incrementalFeeRate(wallet);
      if (request.walletFeeRate > feeRate) feeRate = request.walletFeeRate;
    }
    let built;
    try {
      built = await build(wallet, {
        payments,
        feeRate,
        preset,
        // Confirmed coins only: a replacement may not add unconfirmed inputs (BIP 125 rule 2).
        available: spendable(wallet, (c) => c.confirmations >= 1),
        addInputs: true,
        changeScript,
        version: 2,
        lockTime: await antiFeeSniping(wallet, preset),
        sequence: request.replaceable ? WALLET_SEQUENCE : MAX_SEQUENCE_NONFINAL,
      });
    } catch (error) {
      if (!(error instanceof SelectionError)) throw error;
      throw new WalletError(Code.WALLET, `Unable to create transaction. ${error.message}`);
    }
    if (request.psbt) {
      processPsbt(wallet, built.tx, {
        sign: false,
        sighash: null,
        finalize: false,
        bip32derivs: true,
      });
      return { psbt: base64.encode(built.tx.toPSBT(0)), oldFee, fee: built.fee };
    }
    if (wallet.signForSend(() => signTransaction(wallet, built.tx)).length > 0) {
      throw new WalletError(Code.WALLET, "Can't sign transaction.");
    }
    // Checked again, as Core's CommitTransaction does (answering any failure with -4): nothing
    // may have spent or mined it since.
    try {
      await checkBumpable(wallet, wallet.transaction(request.txid)!);
    } catch (error) {
      if (error instanceof WalletError) throw new WalletError(Code.WALLET, error.message);
      throw error;
    }
    const { tx: replacement } = await wallet.publish(built.tx.toBytes(true, true));
    wallet.recordReplacement(request.txid, replacement.txid);
    return { txid: replacement.txid, oldFee, fee: built.fee };
  });
}

/** The step a bump adds: the node's incremental relay fee, at least the wallet's. */
async function incrementalFeeRate(wallet: SpendingWallet): Promise<bigint> {
  const node = await wallet.chain.relayIncrementalFee();
  return node > WALLET_INCREMENTAL_RELAY_FEE ? node : WALLET_INCREMENTAL_RELAY_FEE;
}

/** Core's `MAX_ANTI_FEE_SNIPING_TIP_AGE`: a tip older than this (seconds) is lagging. */
const MAX_ANTI_FEE_SNIPING_TIP_AGE = 8 * 60 * 60;

/**
 * The locktime Core gives a send that was given none
 * (`DiscourageFeeSniping`), when every input keeps locktime semantics on
 * (else 0): the tip's height, so that only the next block may take it, and
 * one time in ten up to 99 blocks lower, so that a transaction signed
 * earlier and sent late does not stand out. A wallet whose chain lags (the
 * node catching up, or its tip over 8 hours old) sets 0, a locktime that
 * tells nothing about it.
 */
async function antiFeeSniping(
  wallet: SpendingWallet,
  inputs: readonly { sequence: number }[],
): Promise<number> {
  const kept = inputs.every((input) =>
    input.sequence === WALLET_SEQUENCE || input.sequence === MAX_SEQUENCE_NONFINAL
  );
  if (!kept || wallet.tip.height < 0 || await wallet.chain.isInitialBlockDownload()) return 0;
  const tip = await wallet.chain.findBlock(internalBytes(wallet.tip.hash));
  if (tip === undefined || tip.time < wallet.now() - MAX_ANTI_FEE_SNIPING_TIP_AGE) return 0;
  const height = wallet.tip.height;
  return randomBelow(10) === 0 ? Math.max(0, height - randomBelow(100)) : height;
}

/** A uniform random integer in [0, n) (Core's `randrange`). */
function randomBelow(n: number): number {
  return Math.floor(Math.random() * n);
}

/** Core's `GetRequiredFeeRate`: the higher of `-mintxfee` and the node's relay minimum. */
export async function requiredFeeRate(wallet: SpendingWallet): Promise<bigint> {
  const relayMin = await wallet.chain.relayMinFee();
  const { minTxFee } = wallet.policy;
  return relayMin > minTxFee ? relayMin : minTxFee;
}

/**
 * Core's `sendall`: spends `request.inputs`, or every coin the wallet may
 * spend (mature, unlocked, confirmed or its own unconfirmed change,
 * within the depths asked), pays the outputs with amounts, and shares
 * what is left after the fee equally among the others, the first taking
 * the rounding. Refuses with Core's codes and texts; signs, then
 * broadcasts and records it, or returns it (and a PSBT) unsent.
 */
export function sendAll(wallet: SpendingWallet, request: SendAllRequest): Promise<Finished> {
  return signingTurn(wallet, async () => {
    const rate = request.feeRate;
    const required = await requiredFeeRate(wallet);
    if (request.explicitFeeRate && rate < required) {
      throw new WalletError(
        Code.INVALID_PARAMETER,
        `Fee rate (${formatSatPerVbyte(rate)}) is lower than the minimum fee rate setting (${
          formatSatPerVbyte(required)
        }).\nConsider modifying -mintxfee (${
          formatSatPerVbyte(wallet.policy.minTxFee)
        }) or -minrelaytxfee (${formatSatPerVbyte(await wallet.chain.relayMinFee())}).`,
      );
    }
    const feeRate = rate < required ? required : rate;
    const sequence = request.replaceable ? WALLET_SEQUENCE : MAX_SEQUENCE_NONFINAL;
    let maxWeight = request.version === TRUC_VERSION ? TRUC_MAX_WEIGHT : MAX_STANDARD_TX_WEIGHT;
    let coins: (OutPoint & { sequence: number; amount: bigint; key: DerivedKey })[];
    if (request.inputs !== null) {
      const spent = wallet.spent();
      coins = request.inputs.map((input) => {
        const outpoint = `${input.txid}:${input.vout}`;
        if (spent.has(outpoint)) {
          throw new WalletError(
            Code.INVALID_PARAMETER,
            `Input not available. UTXO (${outpoint}) was already spent.`,
          );
        }
        const output = wallet.ownOutput(input.txid, input.vout);
        if (output === undefined) {
          throw new WalletError(
            Code.INVALID_PARAMETER,
            `Input not found. UTXO (${outpoint}) is not part of wallet.`,
          );
        }
        checkTrucParent(wallet, input.txid, request.version, Code.INVALID_PARAMETER);
        return { ...input, amount: output.amount, key: presetKey(wallet, input, output.script) };
      });
    } else {
      const available = await trucChildless(
        wallet,
        spendable(
          wallet,
          (c) =>
            c.safe && c.confirmations >= request.minDepth &&
            (request.maxDepth === null || c.confirmations <= request.maxDepth),
          request.version,
        ),
      );
      const spent = available.filter((c) =>
        !request.sendMax || feeFor(asCoin(wallet, c).inputWeight, feeRate) <= c.amount
      );
      coins = spent.map((c) => ({
        txid: c.txid,
        vout: c.vout,
        sequence,
        amount: c.amount,
        key: c.key,
      }));
      // A child of an unconfirmed version 3 parent is held to BIP 431's child bound.
      if (request.version === TRUC_VERSION && spent.some((c) => c.confirmations === 0)) {
        maxWeight = TRUC_CHILD_MAX_WEIGHT;
      }
    }
    const weight = transactionWeight(
      coins.map((c) => asCoin(wallet, c)),
      request.outputs.map((o) => o.script),
    );
    // What unconfirmed coins' ancestors lack of the rate, each once; Core's sendall counts none
    // when the node cannot reckon it.
    const bump = coins.some((c) => unconfirmed(wallet, c.txid))
      ? await wallet.chain.calculateCombinedBumpFee(coins.map(chainOutPoint), feeRate) ?? 0n
      : 0n;
    // Never under the size's fee at the rate (a negative bump: ancestors overpaying).
    const fee = feeFor(weight, feeRate) + (bump > 0n ? bump : 0n);
    if (fee > wallet.policy.maxTxFee) {
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
    if (weight > maxWeight) {
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
    const dustRelayFee = await wallet.chain.relayDustFee();
    let rounding = left % sharing;
    const outputs = request.outputs.map((output) => {
      // An OP_RETURN output is never dust (it cannot be spent).
      const dust = output.script[0] !== 0x6a &&
        output.amount < dustThreshold(output.script, dustRelayFee);
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
      if (output.script[0] !== 0x6a && amount < dustThreshold(output.script, dustRelayFee)) {
        throw new WalletError(
          Code.INSUFFICIENT_FUNDS,
          "Dynamically assigned remainder results in dust output.",
        );
      }
      return { script: output.script, amount };
    });
    if (request.lockUnspents) {
      wallet.setLocked(coins.map((c) => `${c.txid}:${c.vout}`), true, false);
    }
    const tx = new Transaction({
      version: request.version,
      lockTime: request.lockTime ?? await antiFeeSniping(wallet, coins),
      allowUnknownOutputs: true,
      lowR: true,
    });
    for (const coin of coins) {
      tx.addInput({ txid: coin.txid, index: coin.vout, sequence: coin.sequence });
    }
    for (const output of outputs) tx.addOutput(output);
    // Locked, it answers as Core's: the PSBT, unsigned, and not complete.
    return await finish(wallet, tx, request);
  });
}

/** Outpoints a confirmed wallet transaction spends: gone from the UTXO set. */
function spentInChain(wallet: SpendingWallet): Set<string> {
  const spent = new Set<string>();
  for (const { tx, row } of wallet.transactions()) {
    if (row.blockHeight === null) continue;
    for (const input of tx.inputs) spent.add(outpointKey(input));
  }
  return spent;
}

/** Core's `PreconditionChecks` of a bump (`require_mine`). */
async function checkBumpable(wallet: SpendingWallet, { tx, row }: WalletTx): Promise<void> {
  // Core's HasWalletSpend: a spender abandoned or conflicted does not count (IsSpent).
  const spent = wallet.spent();
  if (tx.outputs.some((_, vout) => spent.has(outpointKey({ txid: tx.txid, vout })))) {
    throw new WalletError(Code.INVALID_PARAMETER, "Transaction has descendants in the wallet");
  }
  if (await wallet.chain.hasDescendantsInMempool(internalBytes(tx.txid))) {
    throw new WalletError(Code.INVALID_PARAMETER, "Transaction has descendants in the mempool");
  }
  if (row.blockHeight !== null || wallet.isConflicted(tx.txid)) {
    throw new WalletError(
      Code.WALLET,
      "Transaction has been mined, or is conflicted with a mined transaction",
    );
  }
  if (!tx.inputs.some((input) => input.sequence < MAX_SEQUENCE_NONFINAL)) {
    throw new WalletError(Code.WALLET, "Transaction is not BIP 125 replaceable");
  }
  const by = wallet.replacedBy(tx.txid);
  if (by !== undefined) {
    throw new WalletError(
      Code.WALLET,
      `Cannot bump transaction ${tx.txid} which was already bumped by transaction ${by}`,
    );
  }
  if (!wallet.allFromMe(tx)) {
    throw new WalletError(
      Code.WALLET,
      "Transaction contains inputs that don't belong to this wallet",
    );
  }
}

/**
 * Core's `CheckFeeRate` of a rate the caller gave, for a replacement
 * spending `inputs` and weighing at most `weight`: at least the mempool's
 * minimum, its fee (with what unconfirmed parents lack of the rate, each
 * once) at least the old one plus the incremental relay fee for its size
 * and the required fee, at most `-maxtxfee`.
 */
async function checkFeeRate(
  wallet: SpendingWallet,
  feeRate: bigint,
  inputs: readonly OutPoint[],
  weight: number,
  oldFee: bigint,
): Promise<void> {
  const btc = (sats: bigint) => formatMoney(sats);
  const mempoolMin = await wallet.chain.mempoolMinFee();
  if (feeRate < mempoolMin) {
    throw new WalletError(
      Code.WALLET,
      `New fee rate (${btc(feeRate)}) is lower than the minimum fee rate (${
        btc(mempoolMin)
      }) to get into the mempool -- `,
    );
  }
  const bump = await wallet.chain.calculateCombinedBumpFee(inputs.map(chainOutPoint), feeRate);
  if (bump === undefined) throw new WalletError(Code.WALLET, ENORMOUS_CLUSTER);
  const newFee = feeFor(weight, feeRate) + bump;
  const incremental = feeFor(weight, await incrementalFeeRate(wallet));
  if (newFee < oldFee + incremental) {
    throw new WalletError(
      Code.INVALID_PARAMETER,
      `Insufficient total fee ${btc(newFee)}, must be at least ${
        btc(oldFee + incremental)
      } (oldFee ${btc(oldFee)} + incrementalFee ${btc(incremental)})`,
    );
  }
  const required = feeFor(weight, await requiredFeeRate(wallet));
  if (newFee < required) {
    throw new WalletError(
      Code.INVALID_PARAMETER,
      `Insufficient total fee (cannot be less than required fee ${btc(required)})`,
    );
  }
  if (newFee > wallet.policy.maxTxFee) {
    throw new WalletError(
      Code.WALLET,
      `Specified or calculated fee ${btc(newFee)} is too high (cannot be higher than -maxtxfee ${
        btc(wallet.policy.maxTxFee)
      })`,
    );
  }
}
