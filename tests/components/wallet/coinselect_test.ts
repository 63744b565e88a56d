/**
 * Coin selection's groups (Core's avoided partial spends): the coins of
 * one address spent together, a hundred at most at a time, and a group of
 * dust that costs more to spend than it is worth left out.
 *
 * @module
 */
import { assertEquals, assertThrows } from "../../assert.ts";
import { type Coin, selectCoins, SelectionError } from "../../../components/wallet/coinselect.ts";

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
