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
  NO_WEIGHT_FOR_INPUTS,
  PRESET_AND_SELECTED_TOO_HEAVY,
  selectCoins,
  SelectionError,
  TRANSACTION_TOO_LARGE,
} from "../../../components/wallet/coinselect.ts";

/** A P2WPKH output script (the payee's and the change's: only its length counts). */
const script = new Uint8Array(22);
/** The weight of a signed P2WPKH input. */
const INPUT_WEIGHT = 272;

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
    changeScript: script,
    dustRelayFee: 3000n,
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
      changeScript: script,
      dustRelayFee: 3000n,
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
      changeScript: script,
      dustRelayFee: 3000n,
    }).inputs.map((c) => c.key);
  assertEquals(pay(15_000n), ["u:0"]);
  assertThrows(() => pay(45_000n), SelectionError, MAX_WEIGHT_EXCEEDED);
});
