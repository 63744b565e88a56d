/**
 * Coin selection as Bitcoin Core's `SelectCoins`: which of the wallet's
 * coins pay for a set of payments at a fee rate, and whether change is
 * kept. Coins are valued at what they add once the fee of spending them is
 * paid (their effective value); the preselected ones (`preset`) are always
 * spent. The others are tried under Core's eligibility filters in turn
 * (confirmed coins, others' with 6 confirmations, of one output type;
 * then any confirmed; then unconfirmed change; then anything given), and
 * under each, Core's algorithms (`selection_algorithms.ts`) each propose a
 * set: Branch and Bound a changeless one (not when the payments pay the
 * fee), Knapsack, CoinGrinder above three times the long-term fee rate
 * (`-consolidatefeerate`), and Single Random Draw. The set of least waste
 * is taken (the fee paid now above the long-term rate, plus the change's
 * cost or the excess given to the fee), the one spending more coins on a
 * tie: at low fee rates that consolidates coins, at high ones it spends
 * few. Coins of one `group` (Core's avoided partial spends: the coins of
 * one address) are spent together, a hundred at most at a time. A coin of
 * an unconfirmed transaction pays besides what its ancestors lack of the
 * fee rate (its `bumpFee`), ancestors shared counted once.
 *
 * Fees are the rate times the virtual size the signed transaction will
 * have, as Core estimates it (71-byte ECDSA signatures, as a wallet
 * grinding low R makes them). With `subtractFee`, the payments so marked
 * pay the fee between them, equally, the first of them any remainder, and
 * get what the change would have been when it is not kept, as in Core.
 *
 * @example
 * ```ts
 * import { selectCoins } from "./coinselect.ts";
 * const script = new Uint8Array([0x00, 0x14, ...new Uint8Array(20)]);
 * const coin = (key: string, amount: bigint) => ({ key, amount, inputWeight: 271 });
 * const request = {
 *   payments: [{ script, amount: 3_000_000n, subtractFee: false }],
 *   feeRate: 1000n,
 *   changeScript: script,
 *   dustRelayFee: 3000n,
 *   discardFeeRate: 10_000n,
 *   changeSpendWeight: 271,
 *   longTermFeeRate: 10_000n,
 * };
 * // Two coins meet the payment and the fee within what change would cost: no change.
 * const coins = [coin("a:0", 1_000_000n), coin("b:0", 2_000_200n), coin("c:0", 50_000_000n)];
 * const plan = await selectCoins({ ...request, coins });
 * if (plan.change !== null || plan.algorithm !== "bnb") throw new Error(plan.algorithm);
 * if (plan.inputs.map((c) => c.key).sort().join() !== "a:0,b:0") throw new Error("inputs");
 * if (plan.fee !== 200n) throw new Error(`fee ${plan.fee}`);
 * ```
 * @module
 */
import {
  type Attempt,
  branchAndBound,
  CHANGE_LOWER,
  coinGrinder,
  knapsack,
  MAX_WEIGHT_EXCEEDED,
  type Random,
  shuffle,
  singleRandomDraw,
  type ValuedGroup,
} from "./selection_algorithms.ts";

/** Core's message when the coins that would pay weigh more than the transaction may. */
export { MAX_WEIGHT_EXCEEDED };

/** A spendable coin. */
export interface Coin {
  /** Identifies the coin to the caller (`txid:vout`). */
  readonly key: string;
  readonly amount: bigint;
  /** Weight its input adds once signed (outpoint, sequence, script and witness). */
  readonly inputWeight: number;
  /** Its input carries no witness (P2PKH); false by default. */
  readonly legacy?: boolean;
  /** Spent with the other coins of its group, or not at all (Core's `OutputGroup`); alone by default. */
  readonly group?: string;
  /** Its output type: coins of one type are tried alone first (Core's `OutputType`); one type by default. */
  readonly type?: string;
  /** Its confirmations (0: unconfirmed); confirmed deep enough for every filter by default. */
  readonly depth?: number;
  /** Whether its transaction was the wallet's own (change: 1 confirmation is enough, or none); false by default. */
  readonly fromMe?: boolean;
  /**
   * Unconfirmed, its transaction's mempool chain (the node's
   * `getTransactionAncestry`): its ancestors, itself included, and the
   * most descendants of one of them; 0 by default (confirmed).
   */
  readonly ancestors?: number;
  readonly descendants?: number;
  /**
   * What spending it adds to the fee so that its unconfirmed ancestors reach
   * the fee rate (Core's ancestor bump fee); 0 by default.
   */
  readonly bumpFee?: bigint;
}

/** One payment. */
export interface Payment {
  readonly script: Uint8Array;
  readonly amount: bigint;
  readonly subtractFee: boolean;
}

/** What to select from and for. */
export interface SelectionRequest {
  readonly coins: readonly Coin[];
  readonly payments: readonly Payment[];
  /** Satoshis per 1000 virtual bytes. */
  readonly feeRate: bigint;
  readonly changeScript: Uint8Array;
  /** The node's `-dustrelayfee` (sat/kvB): a payment the fee leaves under its dust threshold is refused. */
  readonly dustRelayFee: bigint;
  /**
   * Core's discard rate (sat/kvB, at least `dustRelayFee`): change worth
   * less than its dust threshold at this rate, or than the fee of spending
   * it at this rate, goes to the fee instead (Core's `min_viable_change`).
   */
  readonly discardFeeRate: bigint;
  /** The weight of the input that will spend the change (Core's `change_spend_size`). */
  readonly changeSpendWeight: number;
  /**
   * The rate the wallet expects to pay in the long run (sat/kvB, the
   * wallet's `-consolidatefeerate`): below it spending more coins now is
   * cheaper than later, above it dearer.
   */
  readonly longTermFeeRate: bigint;
  /** Coins chosen already, spent whatever else is chosen (Core's preselected inputs). */
  readonly preset?: readonly Coin[];
  /** Whether `coins` may be added to `preset` (false: only `preset` pays); true by default. */
  readonly addInputs?: boolean;
  /**
   * The most a transaction with coins added may weigh (Core's `max_tx_weight`);
   * {@linkcode MAX_STANDARD_TX_WEIGHT} by default, which `preset` alone is held to.
   */
  readonly maxWeight?: number;
  /**
   * The most it may weigh once unconfirmed coins may be added (BIP 431's
   * bound on a child of an unconfirmed TRUC transaction); none by default.
   */
  readonly unconfirmedMaxWeight?: number;
  /**
   * What the unconfirmed coins of `keys` add to the fee together, their
   * ancestors counted once (Core's `calculateCombinedBumpFee`), or
   * undefined when the node cannot tell. Without it, each coin's own.
   */
  readonly combinedBumpFee?: (keys: readonly string[]) => Promise<bigint | undefined>;
  /**
   * The node's mempool limits (`-limitancestorcount`,
   * `-limitdescendantcount`): unconfirmed coins on shorter chains are
   * tried first, and none whose child the mempool would refuse; 25 and 25
   * by default.
   */
  readonly packageLimits?: PackageLimits;
  /**
   * Whether unconfirmed coins may be spent (the wallet's `-spendzeroconfchange`):
   * without, only Core's two confirmed filters are tried; true by default.
   */
  readonly spendZeroConfChange?: boolean;
  /**
   * The wallet's `-walletrejectlongchains`; without, a last filter takes
   * unconfirmed change on a mempool chain of any length (the node's check
   * of the transaction made is then what the limits ask). True by default.
   */
  readonly rejectLongChains?: boolean;
  /** Draws for the shuffles and the random algorithms; `Math.random` by default. */
  readonly random?: Random;
}

/** A mempool's limits on a transaction's chain: its ancestors and descendants, itself included. */
export interface PackageLimits {
  readonly ancestors: number;
  readonly descendants: number;
}

/** Core's `DEFAULT_ANCESTOR_LIMIT` and `DEFAULT_DESCENDANT_LIMIT`. */
const DEFAULT_PACKAGE_LIMITS: PackageLimits = { ancestors: 25, descendants: 25 };

/** Which of Core's algorithms chose the coins ("manual": the preset ones alone). */
export type SelectionAlgorithm = "bnb" | "knapsack" | "cg" | "srd" | "manual";

/** The chosen coins and the outputs to make. */
export interface SelectionPlan {
  /** The preset coins first, in their order, then the coins added, shuffled (as Core's). */
  readonly inputs: readonly Coin[];
  /** The payments' amounts after subtracting the fee where asked. */
  readonly amounts: readonly bigint[];
  /** The change amount, or null when it would be dust (the rest goes to the fee). */
  readonly change: bigint | null;
  readonly fee: bigint;
  readonly algorithm: SelectionAlgorithm;
  /** Core's waste metric of the selection (satoshis). */
  readonly waste: bigint;
  /**
   * The signed transaction's weight as estimated; over
   * {@linkcode MAX_STANDARD_TX_WEIGHT} the caller refuses it with
   * {@linkcode TRANSACTION_TOO_LARGE} (once it knows there is a change address).
   */
  readonly weight: number;
}

/** Why no selection is possible, with Core's texts. */
export class SelectionError extends Error {
  override name = "SelectionError";
}

/** Core's message when the coins cannot pay. */
export const INSUFFICIENT_FUNDS = "Insufficient funds";
/** Core's message when only the preselected coins may pay, and they cannot. */
export const PRESET_TOO_SMALL =
  "The preselected coins total amount does not cover the transaction target. Please allow other inputs to be automatically selected or include more coins manually";
/** Core's message when a payment cannot carry its share of the fee. */
export const AMOUNT_TOO_SMALL_FOR_FEE = "The transaction amount is too small to pay the fee";
/** Core's message when a payment carries its share of the fee and what is left is dust. */
export const AMOUNT_TOO_SMALL_AFTER_FEE =
  "The transaction amount is too small to send after the fee has been deducted";
/** Core's `MAX_STANDARD_TX_WEIGHT`: the node relays nothing heavier. */
export const MAX_STANDARD_TX_WEIGHT = 400_000;
/** Core's message when the preselected coins and those added weigh more than inputs may. */
export const PRESET_AND_SELECTED_TOO_HEAVY =
  "The combination of the pre-selected inputs and the wallet automatic inputs selection exceeds the transaction maximum weight. Please try sending a smaller amount or manually consolidating your wallet's UTXOs";
/** Core's message when the outputs alone leave no weight for an input. */
export const NO_WEIGHT_FOR_INPUTS =
  "Maximum transaction weight is less than transaction weight without inputs";
/** Core's message when the outputs leave no weight for a change output, and no changeless set pays. */
export const NO_WEIGHT_FOR_CHANGE =
  "Maximum transaction weight is too low, can not accommodate change output";
/** Core's message when the transaction made would weigh more than the node relays. */
export const TRANSACTION_TOO_LARGE = "Transaction too large";
/** Core's message when nothing would be paid: no payment of value, no fee, no coin given. */
export const NOTHING_TO_PAY =
  "Transaction requires one destination of non-0 value, a non-0 feerate, or a pre-selected input";
/** Core's message when only coins on too long a mempool chain would pay. */
export const LONG_MEMPOOL_CHAIN =
  "Unconfirmed UTXOs are available, but spending them creates a chain of transactions that will be rejected by the mempool";
/** Core's message when the node cannot reckon what unconfirmed coins' ancestors lack. */
export const ENORMOUS_CLUSTER =
  "Failed to calculate bump fees, because unconfirmed UTXOs depend on an enormous cluster of unconfirmed transactions.";

/** Weight of an output paying `script`. */
export function outputWeight(script: Uint8Array): number {
  return (8 + compactSize(script.length) + script.length) * 4;
}

/**
 * The weight `inputs` add: their own, and when any has a witness, the
 * segwit marker and flag and an empty witness (1 byte) for each legacy one.
 */
function inputsWeight(inputs: readonly Coin[]): number {
  const own = inputs.reduce((sum, coin) => sum + coin.inputWeight, 0);
  const legacy = inputs.filter((coin) => coin.legacy).length;
  return legacy === inputs.length ? own : own + 2 + legacy;
}

/** The weight of a signed transaction spending `inputs` to outputs paying `scripts`. */
export function transactionWeight(inputs: readonly Coin[], scripts: readonly Uint8Array[]): number {
  // Version, locktime, and the input and output counts.
  const base = (4 + 4 + compactSize(inputs.length) + compactSize(scripts.length)) * 4;
  return scripts.reduce((sum, script) => sum + outputWeight(script), base) + inputsWeight(inputs);
}

/**
 * Core's dust threshold (`GetDustThreshold`) at `dustRelayFee` (sat/kvB,
 * the node's `-dustrelayfee`): the fee of the output and the input
 * spending it, 67 vB for a witness program, 148 for another; none for an
 * output no one can spend.
 */
export function dustThreshold(script: Uint8Array, dustRelayFee: bigint): bigint {
  // An output no one can spend (OP_RETURN, or a script over 10,000 bytes) is never dust.
  if (script[0] === 0x6a || script.length > 10_000) return 0n;
  const witness = script.length >= 4 && script.length <= 42 && script[1] === script.length - 2 &&
    (script[0] === 0x00 || (script[0] >= 0x51 && script[0] <= 0x60));
  return feeFor(outputWeight(script) + (witness ? 67 : 148) * 4, dustRelayFee);
}

/** The fee for `weight` at `feeRate` (sat/kvB), rounded up as Core's CFeeRate::GetFee. */
export function feeFor(weight: number, feeRate: bigint): bigint {
  const vsize = BigInt(Math.ceil(weight / 4));
  return (feeRate * vsize + 999n) / 1000n;
}

/**
 * The least change worth keeping (Core's `min_viable_change`): at least
 * the change's dust threshold at the discard rate, and more than the fee
 * of spending it at that rate.
 */
export function minViableChange(
  changeScript: Uint8Array,
  changeSpendWeight: number,
  discardFeeRate: bigint,
): bigint {
  const spendFee = feeFor(changeSpendWeight, discardFeeRate) + 1n;
  const dust = dustThreshold(changeScript, discardFeeRate);
  return spendFee > dust ? spendFee : dust;
}

/** Core's `CHANGE_UPPER`: the most the random change target reaches (satoshis). */
const CHANGE_UPPER = 1_000_000n;
/** Core's `OUTPUT_GROUP_MAX_ENTRIES`: the most coins of one group spent at once. */
const GROUP_MAX_ENTRIES = 100;
/** A depth every filter accepts: a coin given no depth is taken as confirmed. */
const DEEP = Number.MAX_SAFE_INTEGER;

/**
 * Core's `GenerateChangeTarget`: the change aimed at beside the change's
 * fee, random between 50,000 sat and twice the average payment (at most
 * 1,000,000 sat), so that the change does not give itself away.
 */
function changeTarget(payment: bigint, changeFee: bigint, random: Random): bigint {
  if (payment <= CHANGE_LOWER / 2n) return changeFee + CHANGE_LOWER;
  const upper = payment * 2n < CHANGE_UPPER ? payment * 2n : CHANGE_UPPER;
  return changeFee + BigInt(Math.floor(random() * Number(upper - CHANGE_LOWER))) + CHANGE_LOWER;
}

/** A group of coins spent together, valued (Core's `OutputGroup`). */
interface Group extends ValuedGroup {
  readonly coins: readonly Coin[];
  readonly type: string;
  /** The shallowest of its coins, and whether every one is the wallet's own. */
  readonly depth: number;
  readonly fromMe: boolean;
  /**
   * Its coins' mempool ancestors, summed (a child of them all would have
   * as many, or fewer when they share some), and the most descendants
   * above any of them.
   */
  readonly ancestors: number;
  readonly descendants: number;
  /** The last of an address's groups when it has several (Core's partial group). */
  readonly partial: boolean;
}

/**
 * A proposed selection: its groups, which algorithm proposed them, and
 * what its unconfirmed coins' bump fees overstate (ancestors they share).
 */
interface Candidate {
  readonly groups: readonly Group[];
  readonly algorithm: SelectionAlgorithm;
  readonly discount: bigint;
}

/**
 * Core's coin eligibility filter: the confirmations asked of the wallet's
 * own coins and of others', and the longest mempool chain a group may
 * stand on.
 */
interface Filter {
  readonly confMine: number;
  readonly confTheirs: number;
  readonly maxAncestors: number;
  readonly maxDescendants: number;
  /** Whether an address's last, partial group is eligible beside its full ones. */
  readonly partialGroups: boolean;
  /** Whether a set may mix output types when no single type pays. */
  readonly mixTypes: boolean;
}

/**
 * Core's filters, in order: confirmed coins (others' with 6
 * confirmations, of one output type; then any); then, with
 * `-spendzeroconfchange`, unconfirmed change on ever longer mempool chains
 * (`limits`, the node's ancestor and descendant limits), an address's
 * partial group, and others' unconfirmed coins (which reach selection only
 * when the caller allows them, `include_unsafe`); last, without
 * `rejectLongChains`, unconfirmed change on a chain of any length.
 */
function eligibilityFilters(
  limits: PackageLimits,
  spendZeroConfChange: boolean,
  rejectLongChains: boolean,
): Filter[] {
  const filter = (
    confMine: number,
    confTheirs: number,
    maxAncestors: number,
    maxDescendants = maxAncestors,
    partialGroups = false,
  ): Filter => ({
    confMine,
    confTheirs,
    maxAncestors,
    maxDescendants,
    partialGroups,
    mixTypes: true,
  });
  const confirmed = [{ ...filter(1, 6, 0), mixTypes: false }, filter(1, 1, 0)];
  if (!spendZeroConfChange) return confirmed;
  const ancestors = Math.max(1, limits.ancestors);
  const descendants = Math.max(1, limits.descendants);
  return [
    ...confirmed,
    filter(0, 1, 2),
    filter(0, 1, Math.min(4, Math.floor(ancestors / 3)), Math.min(4, Math.floor(descendants / 3))),
    filter(0, 1, Math.floor(ancestors / 2), Math.floor(descendants / 2)),
    filter(0, 1, ancestors - 1, descendants - 1, true),
    filter(0, 0, ancestors - 1, descendants - 1, true),
    // As Core's: the counts a group is given may overstate its chain, which the mempool judges.
    ...(rejectLongChains ? [] : [filter(0, 1, Infinity, Infinity, true)]),
  ];
}

/** Everything a selection is weighed by, fixed for one request. */
interface Params {
  readonly target: bigint;
  readonly subtractFee: boolean;
  readonly changeFee: bigint;
  readonly costOfChange: bigint;
  readonly minChangeTarget: bigint;
  readonly leastChange: bigint;
  readonly feeRate: bigint;
  readonly longTermFeeRate: bigint;
  /** The transaction's weight without inputs, as Core's `tx_noinputs_size` counts it. */
  readonly noInputsWeight: number;
  readonly changeWeight: number;
  readonly random: Random;
  readonly combinedBumpFee?: SelectionRequest["combinedBumpFee"];
}

/** Selects coins for `request`; throws {@linkcode SelectionError} with Core's texts. */
export async function selectCoins(request: SelectionRequest): Promise<SelectionPlan> {
  const { payments, feeRate, changeScript } = request;
  const random = request.random ?? Math.random;
  const subtractFee = payments.some((p) => p.subtractFee);
  const recipients = payments.reduce((sum, p) => sum + p.amount, 0n);
  const changeWeight = outputWeight(changeScript);
  const changeFee = feeFor(changeWeight, feeRate);
  // Version, locktime, input count, a whole byte for the segwit marker, the output count and the
  // outputs: what the inputs leave room for (their fee is the payments' own when they pay it).
  const noInputsWeight = (10 + compactSize(payments.length) +
    payments.reduce((sum, p) => sum + outputWeight(p.script) / 4, 0)) * 4;
  const params: Params = {
    target: recipients + (subtractFee ? 0n : feeFor(noInputsWeight, feeRate)),
    subtractFee,
    changeFee,
    costOfChange: feeFor(request.changeSpendWeight, request.discardFeeRate) + changeFee,
    minChangeTarget: changeTarget(recipients / BigInt(payments.length || 1), changeFee, random),
    leastChange: minViableChange(changeScript, request.changeSpendWeight, request.discardFeeRate),
    feeRate,
    longTermFeeRate: request.longTermFeeRate,
    noInputsWeight,
    changeWeight,
    random,
    combinedBumpFee: request.combinedBumpFee,
  };
  const preset = request.preset ?? [];
  if (params.target === 0n && preset.length === 0) throw new SelectionError(NOTHING_TO_PAY);
  const presetGroups = preset.map((coin) => valued([coin], params, false));
  const remaining = params.target - presetGroups.reduce((sum, g) => sum + g.amount, 0n);
  // As Core's: the preset coins' ancestors are paid for coin by coin, none shared.
  let chosen: Candidate = { groups: presetGroups, algorithm: "manual", discount: 0n };
  if (remaining > 0n) {
    if (request.addInputs === false) throw new SelectionError(PRESET_TOO_SMALL);
    const presetKeys = new Set(preset.map((coin) => coin.key));
    const coins = request.coins.filter((coin) => !presetKeys.has(coin.key));
    const worth = coins.reduce(
      (sum, c) => sum + (subtractFee ? c.amount : effective(c, feeRate)),
      0n,
    );
    if (worth < remaining) throw new SelectionError(INSUFFICIENT_FUNDS);
    const found = await automatic(coins, { ...params, target: remaining }, request);
    chosen = { ...found, groups: [...presetGroups, ...found.groups] };
    const maxInputsWeight = (request.maxWeight ?? MAX_STANDARD_TX_WEIGHT) - noInputsWeight;
    if (preset.length > 0 && weightOf(chosen.groups) > maxInputsWeight) {
      throw new SelectionError(PRESET_AND_SELECTED_TOO_HEAVY);
    }
  }
  return plan(chosen, params, request, preset.length);
}

/** Core's `AutomaticCoinSelection`: the filters in turn, the first that pays taken. */
async function automatic(
  coins: readonly Coin[],
  params: Params,
  request: SelectionRequest,
): Promise<Candidate> {
  const { positive, all } = outputGroups(coins, params);
  const limits = request.packageLimits ?? DEFAULT_PACKAGE_LIMITS;
  const filters = eligibilityFilters(
    limits,
    request.spendZeroConfChange ?? true,
    request.rejectLongChains ?? true,
  );
  const eligible = (group: Group, filter: Filter) =>
    group.depth >= (group.fromMe ? filter.confMine : filter.confTheirs) &&
    group.ancestors <= filter.maxAncestors && group.descendants <= filter.maxDescendants &&
    (!group.partial || filter.partialGroups);
  // Groups no filter takes leave less to pay with; as Core's, when what they leave falls short
  // and the groups on too long a mempool chain would pay, that is said.
  const discarded = all.filter((group) => !filters.some((filter) => eligible(group, filter)));
  const left = coins.reduce((sum, coin) => sum + coin.amount, 0n) - amountOf(discarded);
  if (left < params.target) {
    const longChains = discarded.filter((group) =>
      group.ancestors >= Math.max(1, limits.ancestors) ||
      group.descendants >= Math.max(1, limits.descendants)
    );
    throw new SelectionError(
      amountOf(longChains) >= params.target ? LONG_MEMPOOL_CHAIN : INSUFFICIENT_FUNDS,
    );
  }
  let maxWeight = request.maxWeight ?? MAX_STANDARD_TX_WEIGHT;
  let detailed: string | undefined;
  let tried = "";
  for (const filter of filters) {
    const pool = {
      positive: positive.filter((group) => eligible(group, filter)),
      all: all.filter((group) => eligible(group, filter)),
    };
    // As Core's: once unconfirmed coins may be spent, a TRUC child's bound holds from then on.
    if (
      request.unconfirmedMaxWeight !== undefined && request.unconfirmedMaxWeight < maxWeight &&
      (filter.confMine === 0 || filter.confTheirs === 0)
    ) {
      maxWeight = request.unconfirmedMaxWeight;
    }
    // The same groups under the same bound as a filter before: the same answer.
    const key = [
      ...pool.all.map((group) => all.indexOf(group)),
      "",
      ...pool.positive.map((group) => positive.indexOf(group)),
      maxWeight,
      filter.mixTypes,
    ].join();
    if (pool.all.length === 0 || key === tried) continue;
    tried = key;
    const result = await attempt(pool, filter.mixTypes, params, maxWeight);
    if ("groups" in result) return result;
    detailed ??= result.error ?? undefined;
  }
  throw new SelectionError(detailed ?? INSUFFICIENT_FUNDS);
}

/**
 * Core's `AttemptSelection`: each output type's coins alone, the set of
 * least waste among them taken; when none pays, all types together (if
 * `mixTypes`).
 */
async function attempt(
  pool: { positive: readonly Group[]; all: readonly Group[] },
  mixTypes: boolean,
  params: Params,
  maxWeight: number,
): Promise<Candidate | { error: string | null }> {
  const types = [...new Set(pool.all.map((group) => group.type))];
  const found: (Candidate & { waste: bigint })[] = [];
  for (const type of types) {
    const ofType = (group: Group) => group.type === type;
    const result = await choose(
      { positive: pool.positive.filter(ofType), all: pool.all.filter(ofType) },
      params,
      maxWeight,
    );
    if ("error" in result) {
      if (result.error !== null) return result;
    } else {
      found.push(result);
    }
  }
  if (found.length > 0) return leastWaste(found);
  if (mixTypes && types.length > 1) return await choose(pool, params, maxWeight);
  return { error: null };
}

/** Core's `ChooseSelectionResult`: every algorithm's set, the one of least waste taken. */
async function choose(
  pool: { positive: readonly Group[]; all: readonly Group[] },
  params: Params,
  maxWeight: number,
): Promise<(Candidate & { waste: bigint }) | { error: string | null }> {
  const { target } = params;
  let maxSelectionWeight = maxWeight - params.noInputsWeight;
  if (maxSelectionWeight <= 0) return { error: NO_WEIGHT_FOR_INPUTS };
  const errors: string[] = [];
  const candidates: Omit<Candidate, "discount">[] = [];
  const take = (algorithm: SelectionAlgorithm, result: Attempt<Group>) => {
    if ("chosen" in result) candidates.push({ groups: result.chosen, algorithm });
    else if (result.error !== null) errors.push(result.error);
  };
  // Core skips Branch and Bound when the payments pay the fee: a changeless set then often fails.
  if (!params.subtractFee) {
    take("bnb", branchAndBound(pool.positive, target, params.costOfChange, maxSelectionWeight));
  }
  // The others may make change: its weight is kept free.
  maxSelectionWeight -= params.changeWeight;
  if (maxSelectionWeight < 0 && candidates.length === 0) return { error: NO_WEIGHT_FOR_CHANGE };
  const { minChangeTarget, random } = params;
  take("knapsack", knapsack(pool.all, target, minChangeTarget, random, maxSelectionWeight));
  if (params.feeRate > 3n * params.longTermFeeRate) {
    take("cg", coinGrinder(pool.positive, target, minChangeTarget, maxSelectionWeight));
  }
  take(
    "srd",
    singleRandomDraw(pool.positive, target, params.changeFee, random, maxSelectionWeight),
  );
  if (candidates.length === 0) return { error: errors[0] ?? null };
  const weighed: (Candidate & { waste: bigint })[] = [];
  for (const candidate of candidates) {
    const discount = await bumpDiscount(candidate.groups, params);
    if (discount === undefined) return { error: ENORMOUS_CLUSTER };
    weighed.push({ ...candidate, discount, waste: waste(candidate.groups, discount, params) });
  }
  return leastWaste(weighed);
}

/** The candidate of least waste; of equal waste, the one spending more coins (Core's `operator<`). */
function leastWaste<C extends Candidate & { waste: bigint }>(candidates: readonly C[]): C {
  const count = (c: Candidate) => c.groups.reduce((sum, g) => sum + g.coins.length, 0);
  return candidates.reduce((best, c) =>
    c.waste < best.waste || (c.waste === best.waste && count(c) > count(best)) ? c : best
  );
}

/**
 * What `groups`' unconfirmed coins' bump fees overstate, their ancestors
 * shared counted once (Core's bump fee discount); 0 without a way to ask;
 * undefined when the node cannot tell.
 */
async function bumpDiscount(groups: readonly Group[], params: Params): Promise<bigint | undefined> {
  const bumped = groups.flatMap((g) => g.coins).filter((coin) => (coin.bumpFee ?? 0n) > 0n);
  if (bumped.length === 0 || params.combinedBumpFee === undefined) return 0n;
  const combined = await params.combinedBumpFee(bumped.map((coin) => coin.key));
  if (combined === undefined) return undefined;
  const summed = bumped.reduce((sum, coin) => sum + coin.bumpFee!, 0n);
  return summed > combined ? summed - (combined > 0n ? combined : 0n) : 0n;
}

/** Core's `GetChange`: what is left for change, or 0 when less than is worth keeping. */
function changeOf(groups: readonly Group[], discount: bigint, params: Params): bigint {
  const change = params.subtractFee
    ? valueOf(groups) - params.target
    : amountOf(groups) + discount - params.target - params.changeFee;
  return change < params.leastChange ? 0n : change;
}

/**
 * Core's waste metric: each input's fee now less its fee at the long-term
 * rate, less the bump fee discount; plus the cost of making and spending
 * the change, or, without change, the excess given to the fee.
 */
function waste(groups: readonly Group[], discount: bigint, params: Params): bigint {
  const inputs = groups.reduce((sum, g) => sum + g.fee - g.longTermFee, 0n) - discount;
  if (changeOf(groups, discount, params) > 0n) return inputs + params.costOfChange;
  const selected = params.subtractFee ? valueOf(groups) : amountOf(groups) + discount;
  return inputs + selected - params.target;
}

/**
 * The outputs of `candidate` (Core's `CreateTransactionInternal` after
 * `SelectCoins`): the fee is the rate times the signed transaction's
 * size with the ancestors' bumps; change, when kept, takes what the
 * estimates overpaid, and payments paying the fee share it.
 */
function plan(
  candidate: Candidate,
  params: Params,
  request: SelectionRequest,
  presetCount: number,
): SelectionPlan {
  const { groups, discount } = candidate;
  const { payments, feeRate, changeScript, dustRelayFee } = request;
  const coins = groups.flatMap((g) => g.coins);
  const inputs = [
    ...coins.slice(0, presetCount),
    ...shuffle(coins.slice(presetCount), params.random),
  ];
  const kept = changeOf(groups, discount, params);
  const scripts = payments.map((p) => p.script);
  const weight = transactionWeight(inputs, kept > 0n ? [...scripts, changeScript] : scripts);
  const bumps = inputs.reduce((sum, coin) => sum + (coin.bumpFee ?? 0n), 0n) - discount;
  const feeNeeded = feeFor(weight, feeRate) + bumps;
  const selected = valueOf(groups);
  const recipients = payments.reduce((sum, p) => sum + p.amount, 0n);
  let change = kept;
  let fee = selected - recipients - change;
  if (kept > 0n && feeNeeded < fee) {
    change += fee - feeNeeded;
    fee = feeNeeded;
  }
  let amounts = payments.map((p) => p.amount);
  if (params.subtractFee) {
    amounts = shareFee(payments, feeNeeded - fee, dustRelayFee);
    fee = feeNeeded;
  }
  return {
    inputs,
    amounts,
    change: kept > 0n ? change : null,
    fee,
    algorithm: candidate.algorithm,
    waste: waste(groups, discount, params),
    weight,
  };
}

/**
 * The payments' amounts once those marked pay `toReduce` between them,
 * equally, the first any remainder (negative: they share what change was
 * not kept), as Core's; refused when one is left dust.
 */
function shareFee(payments: readonly Payment[], toReduce: bigint, dustRelayFee: bigint): bigint[] {
  const subtracting = BigInt(payments.filter((p) => p.subtractFee).length);
  let remainder = toReduce % subtracting;
  return payments.map((p) => {
    if (!p.subtractFee) return p.amount;
    const amount = p.amount - toReduce / subtracting - remainder;
    remainder = 0n;
    if (amount < dustThreshold(p.script, dustRelayFee)) {
      throw new SelectionError(amount < 0n ? AMOUNT_TOO_SMALL_FOR_FEE : AMOUNT_TOO_SMALL_AFTER_FEE);
    }
    return amount;
  });
}

/** A coin's value less the fee of spending it and what its ancestors lack (Core's effective value). */
function effective(coin: Coin, feeRate: bigint): bigint {
  return coin.amount - feeFor(selectionWeight(coin), feeRate) - (coin.bumpFee ?? 0n);
}

/**
 * The weight a coin is valued at: its input's, and for a legacy input the
 * empty witness it carries in a segwit transaction, so that the estimate
 * never falls short of the signed size.
 */
function selectionWeight(coin: Coin): number {
  return coin.inputWeight + (coin.legacy ? 1 : 0);
}

/** `coins` as one group, valued for `params`. */
function valued(coins: readonly Coin[], params: Params, partial: boolean): Group {
  let amount = 0n;
  let fee = 0n;
  let longTermFee = 0n;
  let weight = 0;
  for (const coin of coins) {
    const spend = feeFor(selectionWeight(coin), params.feeRate) + (coin.bumpFee ?? 0n);
    amount += params.subtractFee ? coin.amount : coin.amount - spend;
    fee += spend;
    longTermFee += feeFor(selectionWeight(coin), params.longTermFeeRate);
    weight += Math.ceil(selectionWeight(coin) / 4) * 4;
  }
  return {
    coins,
    amount,
    fee,
    longTermFee,
    weight,
    type: coins[0].type ?? "",
    depth: Math.min(...coins.map((coin) => coin.depth ?? DEEP)),
    fromMe: coins.every((coin) => coin.fromMe === true),
    ancestors: coins.reduce((sum, coin) => sum + (coin.ancestors ?? 0), 0),
    descendants: Math.max(...coins.map((coin) => coin.descendants ?? 0)),
    partial,
  };
}

/**
 * `coins` as Core's `GroupOutputs` groups them: each alone, or with the
 * coins of its `group` in groups of a hundred at most; the groups of
 * positive selection amount (which all but Knapsack choose among), those
 * of a `group` formed of coins of positive effective value only. More than a hundred coins grouped are shuffled first,
 * as Core's, so that which of them go together is not foreseeable.
 */
function outputGroups(
  coins: readonly Coin[],
  params: Params,
): { positive: Group[]; all: Group[] } {
  const grouped = coins.some((coin) => coin.group !== undefined);
  const ordered = grouped && coins.length > GROUP_MAX_ENTRIES
    ? shuffle([...coins], params.random)
    : coins;
  // A grouped coin of no positive effective value is left out of the groups all but Knapsack
  // choose among (a group alone is judged by its selection amount).
  const positiveCoin = (coin: Coin) =>
    coin.group === undefined || effective(coin, params.feeRate) > 0n;
  const form = (from: readonly Coin[]) => {
    const lists = new Map<string, Coin[][]>();
    const groups: Group[] = [];
    for (const coin of from) {
      if (coin.group === undefined) {
        groups.push(valued([coin], params, false));
        continue;
      }
      const key = `${coin.group}\0${coin.type ?? ""}`;
      const list = lists.get(key) ?? [];
      lists.set(key, list);
      if (list.length === 0 || list[list.length - 1].length === GROUP_MAX_ENTRIES) list.push([]);
      list[list.length - 1].push(coin);
    }
    for (const list of lists.values()) {
      list.forEach((members, i) =>
        groups.push(valued(members, params, list.length > 1 && i === list.length - 1))
      );
    }
    return groups;
  };
  return {
    positive: form(ordered.filter(positiveCoin)).filter((g) => g.amount > 0n),
    all: form(ordered),
  };
}

const amountOf = (groups: readonly Group[]) => groups.reduce((sum, g) => sum + g.amount, 0n);
const weightOf = (groups: readonly Group[]) => groups.reduce((sum, g) => sum + g.weight, 0);
const valueOf = (groups: readonly Group[]) =>
  groups.reduce((sum, g) => sum + g.coins.reduce((s, coin) => s + coin.amount, 0n), 0n);

/** The bytes of a count or length as the serialization writes it (`CompactSize`). */
export function compactSize(count: number): number {
  return count < 253 ? 1 : count <= 0xffff ? 3 : 5;
}
