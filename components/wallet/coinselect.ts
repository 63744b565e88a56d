/**
 * Coin selection: which of the wallet's coins pay for a set of payments at
 * a fee rate, with a change output when what is left is worth keeping.
 * Largest coins first; the fee is the rate times the virtual size the
 * signed transaction will have, as Core estimates it (71-byte ECDSA
 * signatures, as a wallet grinding low R makes them; the segwit marker and
 * an empty witness per legacy input only when some input has a witness).
 * With `subtractFee`, the payments so marked pay the fee between them,
 * equally, the first of them any remainder, as Core does. Preselected
 * coins (`preset`) are always spent, and may be the only ones. Coins of
 * one `group` (Core's avoided partial spends: the coins of one address)
 * are spent together, a hundred at most at a time, and never when they
 * are worth less than the fee of spending them (dust sent to an address).
 * A coin of an unconfirmed transaction pays besides what its ancestors lack
 * of the fee rate (its `bumpFee`).
 *
 * @example
 * ```ts
 * import { selectCoins } from "./coinselect.ts";
 * const script = new Uint8Array(22);
 * const plan = selectCoins({
 *   coins: [{ key: "a:0", amount: 5_000_000_000n, inputWeight: 271 }],
 *   payments: [{ script, amount: 100_000_000n, subtractFee: false }],
 *   feeRate: 1000n,
 *   changeScript: script,
 *   dustRelayFee: 3000n,
 *   discardFeeRate: 10_000n,
 *   changeSpendWeight: 271,
 * });
 * if (plan.inputs.length !== 1 || plan.change === null) throw new Error("one coin, change");
 * if (plan.fee !== 141n) throw new Error(`fee ${plan.fee}`);
 * ```
 * @module
 */

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
  /** The most a transaction adding it may weigh (a child of an unconfirmed TRUC parent); none by default. */
  readonly maxWeight?: number;
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
  /** Coins chosen already, spent whatever else is chosen (Core's preselected inputs). */
  readonly preset?: readonly Coin[];
  /** Whether `coins` may be added to `preset` (false: only `preset` pays); true by default. */
  readonly addInputs?: boolean;
  /**
   * The most a transaction with coins added may weigh (Core's `max_tx_weight`);
   * {@linkcode MAX_STANDARD_TX_WEIGHT} by default, which `preset` alone is held to.
   */
  readonly maxWeight?: number;
}

/** The chosen coins and the outputs to make. */
export interface SelectionPlan {
  readonly inputs: readonly Coin[];
  /** The payments' amounts after subtracting the fee where asked. */
  readonly amounts: readonly bigint[];
  /** The change amount, or null when it would be dust (the rest goes to the fee). */
  readonly change: bigint | null;
  readonly fee: bigint;
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
/** Core's `MAX_STANDARD_TX_WEIGHT`: the node relays nothing heavier. */
export const MAX_STANDARD_TX_WEIGHT = 400_000;
/** Core's messages when the coins that pay would weigh too much. */
export const MAX_WEIGHT_EXCEEDED =
  "The inputs size exceeds the maximum weight. Please try sending a smaller amount or manually consolidating your wallet's UTXOs";
export const PRESET_AND_SELECTED_TOO_HEAVY =
  "The combination of the pre-selected inputs and the wallet automatic inputs selection exceeds the transaction maximum weight. Please try sending a smaller amount or manually consolidating your wallet's UTXOs";
export const NO_WEIGHT_FOR_INPUTS =
  "Maximum transaction weight is less than transaction weight without inputs";
export const TRANSACTION_TOO_LARGE = "Transaction too large";

/** Weight of an output paying `script`. */
export function outputWeight(script: Uint8Array): number {
  return (8 + 1 + script.length) * 4;
}

/** Version, locktime and counts. */
const BASE_WEIGHT = (4 + 4 + 1 + 1) * 4;

/**
 * The weight `inputs` add: their own, and when any has a witness, the
 * segwit marker and flag and an empty witness (1 byte) for each legacy one.
 */
function inputsWeight(inputs: readonly Coin[]): number {
  const own = inputs.reduce((sum, coin) => sum + coin.inputWeight, 0);
  const legacy = inputs.filter((coin) => coin.legacy).length;
  return legacy === inputs.length ? own : own + 2 + legacy;
}

/** What `inputs` add to the fee for their unconfirmed ancestors. */
function bumpFees(inputs: readonly Coin[]): bigint {
  return inputs.reduce((sum, coin) => sum + (coin.bumpFee ?? 0n), 0n);
}

/** The weight of a signed transaction spending `inputs` to outputs paying `scripts`. */
export function transactionWeight(inputs: readonly Coin[], scripts: readonly Uint8Array[]): number {
  return scripts.reduce((sum, script) => sum + outputWeight(script), BASE_WEIGHT) +
    inputsWeight(inputs);
}

/**
 * Core's dust threshold (`GetDustThreshold`) at `dustRelayFee` (sat/kvB,
 * the node's `-dustrelayfee`): the fee of the output and the input
 * spending it, 67 vB for a witness program, 148 for another.
 */
export function dustThreshold(script: Uint8Array, dustRelayFee: bigint): bigint {
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

/** Selects coins for `request`; throws {@linkcode SelectionError}. */
export function selectCoins(request: SelectionRequest): SelectionPlan {
  const { payments, feeRate, changeScript, dustRelayFee } = request;
  const leastChange = minViableChange(
    changeScript,
    request.changeSpendWeight,
    request.discardFeeRate,
  );
  const target = payments.reduce((sum, p) => sum + p.amount, 0n);
  const subtracting = payments.filter((p) => p.subtractFee).length;
  const scripts = payments.map((p) => p.script);
  const changeWeight = outputWeight(changeScript);
  const preset = request.preset ?? [];
  const addInputs = request.addInputs ?? true;
  const presetKeys = new Set(preset.map((coin) => coin.key));
  const groups = addInputs
    ? outputGroups(request.coins.filter((coin) => !presetKeys.has(coin.key)), feeRate)
    : [];
  const chosen: Coin[] = [...preset];
  let total = preset.reduce((sum, coin) => sum + coin.amount, 0n);
  // As Core's: the preset coins alone are held to the standard bound only.
  let maxWeight = MAX_STANDARD_TX_WEIGHT;
  // The preset coins alone first, then one more of the largest groups at a time.
  for (let next = 0; next <= groups.length; next++) {
    if (next === 1) {
      maxWeight = request.maxWeight ?? MAX_STANDARD_TX_WEIGHT;
      // Core's `tx_noinputs_size` counts a whole byte for the segwit marker and flag.
      if (maxWeight <= transactionWeight([], scripts) + 4) {
        throw new SelectionError(NO_WEIGHT_FOR_INPUTS);
      }
    }
    if (next > 0) {
      for (const coin of groups[next - 1].coins) {
        chosen.push(coin);
        if (coin.maxWeight !== undefined && coin.maxWeight < maxWeight) maxWeight = coin.maxWeight;
      }
      total += groups[next - 1].amount;
    }
    if (chosen.length === 0) continue;
    const weight = transactionWeight(chosen, scripts);
    const bumps = bumpFees(chosen);
    const feeNoChange = feeFor(weight, feeRate) + bumps;
    const needed = subtracting > 0 ? target : target + feeNoChange;
    if (total < needed) continue;
    const feeWithChange = feeFor(weight + changeWeight, feeRate) + bumps;
    const changeLeft = subtracting > 0 ? total - target : total - target - feeWithChange;
    const keepChange = changeLeft >= leastChange;
    const amounts = subtracting > 0
      ? shareFee(payments, keepChange ? feeWithChange : feeNoChange, subtracting, dustRelayFee)
      : payments.map((p) => p.amount);
    // The lightest selection that pays: were it too heavy, so would every later one be.
    if (weight + (keepChange ? changeWeight : 0) > maxWeight) {
      throw new SelectionError(
        next === 0
          ? TRANSACTION_TOO_LARGE
          : preset.length > 0
          ? PRESET_AND_SELECTED_TOO_HEAVY
          : MAX_WEIGHT_EXCEEDED,
      );
    }
    const change = keepChange ? changeLeft : null;
    const paid = amounts.reduce((sum, a) => sum + a, 0n) + (change ?? 0n);
    return { inputs: chosen, amounts, change, fee: total - paid };
  }
  throw new SelectionError(addInputs ? INSUFFICIENT_FUNDS : PRESET_TOO_SMALL);
}

/** Core's `OUTPUT_GROUP_MAX_ENTRIES`: the most coins of one group spent at once. */
const GROUP_MAX_ENTRIES = 100;

/**
 * `coins` as the groups they are spent in (each alone when of no group),
 * largest first; a group worth no more than the fee of spending it at
 * `feeRate` is left out (as Core leaves out groups of no effective value).
 */
function outputGroups(
  coins: readonly Coin[],
  feeRate: bigint,
): { coins: Coin[]; amount: bigint }[] {
  const groups: { coins: Coin[]; amount: bigint; grouped: boolean }[] = [];
  const open = new Map<string, { coins: Coin[]; amount: bigint; grouped: boolean }>();
  for (const coin of coins) {
    let group = coin.group === undefined ? undefined : open.get(coin.group);
    if (group === undefined || group.coins.length === GROUP_MAX_ENTRIES) {
      group = { coins: [], amount: 0n, grouped: coin.group !== undefined };
      groups.push(group);
      if (coin.group !== undefined) open.set(coin.group, group);
    }
    group.coins.push(coin);
    group.amount += coin.amount;
  }
  const weight = (group: { coins: Coin[] }) =>
    group.coins.reduce((sum, coin) => sum + coin.inputWeight, 0);
  return groups
    .filter((group) =>
      !group.grouped || group.amount > feeFor(weight(group), feeRate) + bumpFees(group.coins)
    )
    .sort((a, b) => a.amount > b.amount ? -1 : a.amount < b.amount ? 1 : 0);
}

/** The payments' amounts once those marked pay `fee` between them. */
function shareFee(
  payments: readonly Payment[],
  fee: bigint,
  subtracting: number,
  dustRelayFee: bigint,
): bigint[] {
  const share = fee / BigInt(subtracting);
  let remainder = fee % BigInt(subtracting);
  return payments.map((p) => {
    if (!p.subtractFee) return p.amount;
    const amount = p.amount - share - remainder;
    remainder = 0n;
    if (amount < dustThreshold(p.script, dustRelayFee)) {
      throw new SelectionError(AMOUNT_TOO_SMALL_FOR_FEE);
    }
    return amount;
  });
}
