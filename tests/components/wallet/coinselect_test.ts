/**
 * Coin selection's groups (Core's avoided partial spends): the coins of
 * one address spent together, a hundred at most at a time, and a group of
 * dust that costs more to spend than it is worth left out. Its weight
 * bounds, with Core's texts: the one asked for, a coin's own, and the
 * standard bound the preset coins alone are held to.
 *
 * @module
 */
import { assertEquals, assertThrows } from "../../assert.ts";
import {
  type Coin,
  MAX_WEIGHT_EXCEEDED,
  minViableChange,
  NO_WEIGHT_FOR_INPUTS,
  PRESET_AND_SELECTED_TOO_HEAVY,
  selectCoins,
  SelectionError,
  TRANSACTION_TOO_LARGE,
} from "../../../components/wallet/coinselect.ts";

/** A P2WPKH output script: the payee's and the change's. */
const script = new Uint8Array([0x00, 0x14, ...new Uint8Array(20)]);
/** The weight of a signed P2WPKH input. */
const INPUT_WEIGHT = 272;

/** Change to a P2WPKH script at Core's default rates: 3 sat/vB dust relay, 10 sat/vB discard. */
const CHANGE = {
  changeScript: script,
  dustRelayFee: 3000n,
  discardFeeRate: 10_000n,
  changeSpendWeight: INPUT_WEIGHT,
};

const coin = (key: string, amount: bigint, group?: string): Coin => ({
  key,
  amount,
  inputWeight: INPUT_WEIGHT,
  ...(group === undefined ? {} : { group }),
});

const pay = (amount: bigint, coins: Coin[], feeRate = 1000n) =>
  selectCoins({
    coins,
    payments: [{ script, amount, subtractFee: false }],
    feeRate,
    ...CHANGE,
  }).inputs.map((c) => c.key).sort();

Deno.test("coin selection: an address's coins are spent together, a hundred at most at a time", () => {
  // Alone, the larger coin pays; grouped, its address's other coin goes with it.
  const coins = [coin("a:0", 60_000n, "a"), coin("a:1", 10_000n, "a"), coin("b:0", 50_000n)];
  assertEquals(pay(40_000n, coins.map(({ group: _, ...c }) => c)), ["a:0"]);
  assertEquals(pay(40_000n, coins), ["a:0", "a:1"]);
  // 101 coins of one address: a group of 100, then one of 1.
  const many = Array.from({ length: 101 }, (_, i) => coin(`m:${i}`, 10_000n, "m"));
  assertEquals(pay(500_000n, many).length, 100);
  assertEquals(pay(1_000_000n, many).length, 101);
});

Deno.test("coin selection: a group worth less than the fee of spending it is left out", () => {
  // 100 coins of 600 sat cost 680 sat each to spend at 10 sat/vB: the single coin pays.
  const dust = Array.from({ length: 100 }, (_, i) => coin(`d:${i}`, 600n, "d"));
  const coins = [...dust, coin("s:0", 55_000n, "s")];
  assertEquals(pay(50_000n, coins, 10_000n), ["s:0"]);
  // Without the single coin, nothing pays.
  assertThrows(() => pay(50_000n, dust, 10_000n), SelectionError, "Insufficient funds");
});

Deno.test("coin selection: the weight bounds, as Core's", () => {
  const coins = Array.from({ length: 10 }, (_, i) => coin(`c:${i}`, 10_000n));
  const select = (amount: bigint, options: { maxWeight?: number; preset?: Coin[] } = {}) =>
    selectCoins({
      coins,
      payments: [{ script, amount, subtractFee: false }],
      feeRate: 1000n,
      ...CHANGE,
      ...options,
    }).inputs.length;
  // Five coins pay 45,000 sat with change: 40 + 2 × 124 + 2 (the segwit marker) + 5 × 272 = 1,650.
  assertEquals(select(45_000n, { maxWeight: 1_650 }), 5);
  assertThrows(() => select(45_000n, { maxWeight: 1_649 }), SelectionError, MAX_WEIGHT_EXCEEDED);
  assertThrows(
    () => select(45_000n, { maxWeight: 1_649, preset: [coins[0]] }),
    SelectionError,
    PRESET_AND_SELECTED_TOO_HEAVY,
  );
  // The preset coins that pay alone are held to the standard bound only.
  assertEquals(select(45_000n, { maxWeight: 300, preset: coins.slice(0, 5) }), 5);
  const heavy = Array.from({ length: 1_500 }, (_, i) => coin(`h:${i}`, 10_000n));
  assertThrows(
    () => select(1_000_000n, { preset: heavy }),
    SelectionError,
    TRANSACTION_TOO_LARGE,
  );
  // No room for an input: the version, locktime, counts, the segwit marker (a whole byte, as
  // Core counts it) and the payment weigh 168.
  assertThrows(() => select(5_000n, { maxWeight: 168 }), SelectionError, NO_WEIGHT_FOR_INPUTS);
  assertEquals(select(5_000n, { maxWeight: 562 }), 1); // 40 + 2 × 124 + 2 + 272

  // A coin's own bound holds for every transaction adding it.
  const bounded = [{ ...coin("u:0", 20_000n), maxWeight: 1_000 }, ...coins];
  const pay = (amount: bigint) =>
    selectCoins({
      coins: bounded,
      payments: [{ script, amount, subtractFee: false }],
      feeRate: 1000n,
      ...CHANGE,
    }).inputs.map((c) => c.key);
  assertEquals(pay(15_000n), ["u:0"]);
  assertThrows(() => pay(45_000n), SelectionError, MAX_WEIGHT_EXCEEDED);
});

Deno.test("coin selection: change worth less than Core's min_viable_change goes to the fee", () => {
  // P2WPKH change at the 10 sat/vB discard rate: its dust threshold, (31 + 67) vB × 10 = 980 sat,
  // is more than spending it costs, 68 vB × 10 + 1 = 681 sat.
  assertEquals(minViableChange(script, INPUT_WEIGHT, 10_000n), 980n);
  // At a discard rate of the dust relay fee's 3 sat/vB: 294 sat (dust), over 205 (spending).
  assertEquals(minViableChange(script, INPUT_WEIGHT, 3000n), 294n);
  // A spend weighing more than its dust: 1,000 vB at 1 sat/vB costs 1,000 sat, dust is 98 sat.
  assertEquals(minViableChange(script, 4000, 1000n), 1001n);
  // One coin of 100,000 sat; with change the transaction is 141 vB: 141 sat at 1 sat/vB.
  const plan = (amount: bigint, discardFeeRate: bigint) =>
    selectCoins({
      coins: [coin("c:0", 100_000n)],
      payments: [{ script, amount, subtractFee: false }],
      feeRate: 1000n,
      ...CHANGE,
      discardFeeRate,
    });
  assertEquals([plan(98_879n, 10_000n).change, plan(98_879n, 10_000n).fee], [980n, 141n]);
  assertEquals([plan(98_880n, 10_000n).change, plan(98_880n, 10_000n).fee], [null, 1120n]);
  assertEquals(plan(99_565n, 3000n).change, 294n);
  assertEquals(plan(99_566n, 3000n).change, null);
});
