/**
 * Coin selection as Core's `SelectCoins`: a changeless set when one lands
 * within the cost of change, the set of least waste (which
 * `-consolidatefeerate` turns toward more inputs or fewer), Core's
 * eligibility filters and output types, the groups of avoided partial
 * spends, the weight bounds with Core's texts, change worth less than
 * `min_viable_change` given to the fee, payments that pay the fee, and
 * ancestors shared by unconfirmed coins counted once.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import {
  AMOUNT_TOO_SMALL_AFTER_FEE,
  AMOUNT_TOO_SMALL_FOR_FEE,
  type Coin,
  dustThreshold,
  ENORMOUS_CLUSTER,
  INSUFFICIENT_FUNDS,
  LONG_MEMPOOL_CHAIN,
  MAX_STANDARD_TX_WEIGHT,
  MAX_WEIGHT_EXCEEDED,
  minViableChange,
  NO_WEIGHT_FOR_INPUTS,
  NOTHING_TO_PAY,
  PRESET_AND_SELECTED_TOO_HEAVY,
  PRESET_TOO_SMALL,
  selectCoins,
  SelectionError,
  type SelectionRequest,
  transactionWeight,
} from "../../../components/wallet/coinselect.ts";
import { seeded } from "./seeded_random.ts";

/** A P2WPKH output script: the payee's and the change's. */
const script = new Uint8Array([0x00, 0x14, ...new Uint8Array(20)]);
/** The weight of a signed P2WPKH input (71-byte signature): 68 vB. */
const INPUT_WEIGHT = 271;

/** Change to a P2WPKH script at Core's default rates: 3 sat/vB dust relay, 10 sat/vB discard and long term. */
const DEFAULTS = {
  changeScript: script,
  dustRelayFee: 3000n,
  discardFeeRate: 10_000n,
  changeSpendWeight: INPUT_WEIGHT,
  longTermFeeRate: 10_000n,
};

const coin = (key: string, amount: bigint, more: Partial<Coin> = {}): Coin => ({
  key,
  amount,
  inputWeight: INPUT_WEIGHT,
  ...more,
});

/** Selects for one payment of `amount` at `feeRate`, the draws seeded by `seed`. */
const select = (
  amount: bigint,
  coins: readonly Coin[],
  options: Partial<SelectionRequest> & { subtractFee?: boolean; seed?: number } = {},
) =>
  selectCoins({
    coins,
    payments: [{ script, amount, subtractFee: options.subtractFee ?? false }],
    feeRate: 1000n,
    ...DEFAULTS,
    random: seeded(options.seed ?? 7),
    ...options,
  });

const keys = async (selection: ReturnType<typeof select>) =>
  (await selection).inputs.map((c) => c.key).sort();

Deno.test("coin selection: a set landing within the cost of change pays with no change, the least wasteful taken", async () => {
  // 0.5 BTC at 20 sat/vB: the target is the payment and 42 vB of outputs and overhead (840 sat);
  // each input costs 68 vB (1,360 sat). X alone, and Y with Z, land 100 sat above it.
  const payment = 50_000_000n;
  const coins = [
    coin("x", payment + 840n + 1_360n + 100n),
    coin("y", 20_000_000n),
    coin("z", payment + 840n + 2n * 1_360n + 100n - 20_000_000n),
  ];
  for (let seed = 0; seed < 5; seed++) {
    // At the default long-term rate (10 sat/vB) each input spent now wastes 680 sat: X alone.
    const dear = await select(payment, coins, { feeRate: 20_000n, seed });
    assertEquals([dear.algorithm, dear.inputs.map((c) => c.key), dear.change], [
      "bnb",
      ["x"],
      null,
    ]);
    assertEquals([dear.fee, dear.waste], [2_300n, 780n]);
    // With a long-term rate of 30 sat/vB each input spent now saves 680 sat: Y and Z.
    const cheap = await select(payment, coins, {
      feeRate: 20_000n,
      longTermFeeRate: 30_000n,
      seed,
    });
    assertEquals(cheap.algorithm, "bnb");
    assertEquals(cheap.inputs.map((c) => c.key).sort(), ["y", "z"]);
    assertEquals([cheap.change, cheap.fee, cheap.waste], [null, 3_660n, -1_260n]);
  }
});

Deno.test("coin selection: the waste metric weighs each input's fee now against the long-term rate, and the change's cost", async () => {
  const coins = Array.from({ length: 20 }, (_, i) => coin(`c${i}`, 1_000_000n));
  for (let seed = 0; seed < 10; seed++) {
    // 1.5 BTC of 0.01 BTC coins at 1 sat/vB, a tenth of the long-term rate: each set has change
    // (31 + 68 × 10 sat to make and spend), each input saves 612 sat over spending it later.
    const cheap = await select(1_500_000n, coins, { seed });
    assert(cheap.inputs.length >= 2 && cheap.change !== null);
    assertEquals(cheap.waste, BigInt(cheap.inputs.length) * (68n - 680n) + 711n);
    // At 40 sat/vB, four times the long-term rate, CoinGrinder runs too: the fewest inputs that
    // pay with change, two, each costing 2,040 sat more now; the change costs 1,240 + 680.
    const dear = await select(1_500_000n, coins, { feeRate: 40_000n, seed });
    assertEquals([dear.inputs.length, dear.waste], [2, 2n * (2_720n - 680n) + 1_920n]);
  }
  const all = await select(19_000_000n, coins, { seed: 1 });
  assertEquals([all.inputs.length, all.waste], [20, 20n * (68n - 680n) + 711n]);
});

Deno.test("coin selection: Core's eligibility filters, confirmed and single-typed coins first", async () => {
  // Others' coins want six confirmations before coins with fewer are tried.
  const theirs = [coin("deep", 100_000n, { depth: 6 }), coin("shallow", 100_000n, { depth: 3 })];
  assertEquals(await keys(select(50_000n, theirs)), ["deep"]);
  assertEquals(await keys(select(150_000n, theirs)), ["deep", "shallow"]);
  // The wallet's unconfirmed change comes after every confirmed coin.
  const change = [
    coin("confirmed", 60_000n, { depth: 1 }),
    coin("change", 100_000n, { depth: 0, fromMe: true }),
  ];
  assertEquals(await keys(select(50_000n, change)), ["confirmed"]);
  assert((await keys(select(80_000n, change))).includes("change"));
  // Unconfirmed change on a shorter mempool chain first; none whose child the mempool refuses.
  const chained = [
    coin("long", 100_000n, { depth: 0, fromMe: true, ancestors: 3, descendants: 3 }),
    coin("short", 100_000n, { depth: 0, fromMe: true, ancestors: 1, descendants: 1 }),
  ];
  assertEquals(await keys(select(50_000n, chained)), ["short"]);
  assertEquals(await keys(select(150_000n, chained)), ["long", "short"]);
  const tooLong = [coin("c", 100_000n, { depth: 0, fromMe: true, ancestors: 25, descendants: 25 })];
  await assertRejects(() => select(50_000n, tooLong), SelectionError, LONG_MEMPOOL_CHAIN);
  const limits = { packageLimits: { ancestors: 50, descendants: 50 } };
  assertEquals(await keys(select(50_000n, tooLong, limits)), ["c"]);
  // Without -walletrejectlongchains a last filter takes it, however long its chain; not before
  // the shorter chains' coins, and never others' unconfirmed coins.
  assertEquals(await keys(select(50_000n, tooLong, { rejectLongChains: false })), ["c"]);
  const both = [...tooLong, coin("short", 100_000n, { depth: 0, fromMe: true, ancestors: 1 })];
  assertEquals(await keys(select(50_000n, both, { rejectLongChains: false })), ["short"]);
  const othersLong = [coin("o", 100_000n, { depth: 0, ancestors: 25, descendants: 25 })];
  await assertRejects(
    () => select(50_000n, othersLong, { rejectLongChains: false }),
    SelectionError,
    LONG_MEMPOOL_CHAIN,
  );
  // Without -spendzeroconfchange, never.
  await assertRejects(
    () => select(80_000n, change, { spendZeroConfChange: false }),
    SelectionError,
    INSUFFICIENT_FUNDS,
  );
  // Others' unconfirmed coins come last of all.
  const unsafe = [...change, coin("unsafe", 500_000n, { depth: 0 })];
  assertEquals((await keys(select(150_000n, unsafe))).sort(), ["change", "confirmed"]);
  assert((await keys(select(300_000n, unsafe))).includes("unsafe"));
  // Coins of one output type pay alone when they can; types mix only when none can.
  const typed = [
    coin("a", 30_000n, { type: "wpkh" }),
    coin("b", 30_000n, { type: "wpkh" }),
    coin("l", 100_000n, { type: "pkh", legacy: true, inputWeight: 592 }),
  ];
  for (let seed = 0; seed < 10; seed++) {
    const types = new Set((await select(50_000n, typed, { seed })).inputs.map((c) => c.type));
    assertEquals(types.size, 1);
    const mixed = new Set((await select(120_000n, typed, { seed })).inputs.map((c) => c.type));
    assertEquals(mixed.size, 2);
  }
});

Deno.test("coin selection: an address's coins are spent together, a hundred at most at a time", async () => {
  const coins = [coin("a:0", 60_000n, { group: "a" }), coin("a:1", 10_000n, { group: "a" })];
  coins.push(coin("b:0", 50_000n, { group: "b" }));
  for (let seed = 0; seed < 10; seed++) {
    const chosen = await keys(select(40_000n, coins, { seed }));
    assertEquals(chosen.includes("a:0"), chosen.includes("a:1"));
  }
  // 101 coins of one address: a group of 100, then a partial one of 1, spent only when needed.
  const many = Array.from({ length: 101 }, (_, i) => coin(`m:${i}`, 10_000n, { group: "m" }));
  assertEquals((await select(500_000n, many)).inputs.length, 100);
  assertEquals((await select(1_000_000n, many)).inputs.length, 101);
  // A group worth less than spending it costs is never among those that pay: 100 coins of 600
  // sat cost 680 sat each to spend at 10 sat/vB.
  const dust = Array.from({ length: 100 }, (_, i) => coin(`d:${i}`, 600n, { group: "d" }));
  assertEquals(
    await keys(select(50_000n, [...dust, coin("s:0", 200_000n)], { feeRate: 10_000n })),
    [
      "s:0",
    ],
  );
  await assertRejects(
    () => select(50_000n, dust, { feeRate: 10_000n }),
    SelectionError,
    INSUFFICIENT_FUNDS,
  );
});

Deno.test("coin selection: the weight bounds, as Core's", async () => {
  // Five coins: Knapsack's second approximation (the target with change) stays out of reach, so
  // each answer below is the only one.
  const coins = Array.from({ length: 5 }, (_, i) => coin(`c:${i}`, 10_000n));
  const count = async (amount: bigint, options: Partial<SelectionRequest> = {}) =>
    (await select(amount, coins, options)).inputs.length;
  // 45,000 sat take five coins; with change the transaction may weigh, as Core counts it, the
  // outputs and overhead (42 vB), the change (31 vB) and five inputs of 68 vB: 1,652.
  assertEquals(await count(45_000n, { maxWeight: 1_652 }), 5);
  await assertRejects(
    () => count(45_000n, { maxWeight: 1_651 }),
    SelectionError,
    MAX_WEIGHT_EXCEEDED,
  );
  // The preset coin and four more weigh more than the inputs may (1,400 − 168).
  await assertRejects(
    () => count(45_000n, { maxWeight: 1_400, preset: [coins[0]] }),
    SelectionError,
    PRESET_AND_SELECTED_TOO_HEAVY,
  );
  // The preset coins that pay alone are held to the standard bound only.
  assertEquals(await count(45_000n, { maxWeight: 300, preset: coins.slice(0, 5) }), 5);
  // 1,500 of them weigh more than the node relays: the plan says so, and its caller refuses it.
  const heavy = Array.from({ length: 1_500 }, (_, i) => coin(`h:${i}`, 10_000n));
  assert((await select(1_000_000n, coins, { preset: heavy })).weight > MAX_STANDARD_TX_WEIGHT);
  // Payments paying the fee still take their room: 168 + 124 (change) + 272 is more than 500.
  await assertRejects(
    () => count(5_000n, { maxWeight: 500, subtractFee: true } as Partial<SelectionRequest>),
    SelectionError,
    MAX_WEIGHT_EXCEEDED,
  );
  // Only the preset coins may pay, and they fall short.
  await assertRejects(
    () => count(45_000n, { preset: [coins[0]], addInputs: false }),
    SelectionError,
    PRESET_TOO_SMALL,
  );
  // No room for an input: the version, locktime, counts, the segwit marker (a whole byte, as
  // Core counts it) and the payment weigh 168.
  await assertRejects(
    () => count(5_000n, { maxWeight: 168 }),
    SelectionError,
    NO_WEIGHT_FOR_INPUTS,
  );
  assertEquals(await count(5_000n, { maxWeight: 564 }), 1);
  await assertRejects(() => count(5_000n, { maxWeight: 563 }), SelectionError, MAX_WEIGHT_EXCEEDED);
  // BIP 431: once unconfirmed coins may be spent, a TRUC child's bound holds.
  const unconfirmed = coins.map((c) => ({ ...c, depth: 0, fromMe: true }));
  const truc = { unconfirmedMaxWeight: 1_000 };
  assertEquals((await select(5_000n, unconfirmed, truc)).inputs.length, 1);
  await assertRejects(
    () => select(45_000n, unconfirmed, truc),
    SelectionError,
    MAX_WEIGHT_EXCEEDED,
  );
  assertEquals((await select(45_000n, unconfirmed)).inputs.length >= 5, true);
  // Counts of 253 or more take three bytes, as the serialization writes them.
  const outputs = (n: number) => transactionWeight([], Array.from({ length: n }, () => script));
  assertEquals([outputs(253) - outputs(252), outputs(252) - outputs(251)], [31 * 4 + 8, 31 * 4]);
  // Nothing to pay for: no value, no fee, no coin given.
  await assertRejects(() => select(0n, coins, { feeRate: 0n }), SelectionError, NOTHING_TO_PAY);
});

Deno.test("coin selection: change worth less than Core's min_viable_change goes to the fee", async () => {
  // P2WPKH change at the 10 sat/vB discard rate: its dust threshold, (31 + 67) vB × 10 = 980 sat,
  // is more than spending it costs, 68 vB × 10 + 1 = 681 sat.
  assertEquals(minViableChange(script, INPUT_WEIGHT, 10_000n), 980n);
  // At a discard rate of the dust relay fee's 3 sat/vB: 294 sat (dust), over 205 (spending).
  assertEquals(minViableChange(script, INPUT_WEIGHT, 3000n), 294n);
  // A spend weighing more than its dust: 1,000 vB at 1 sat/vB costs 1,000 sat, dust is 98 sat.
  assertEquals(minViableChange(script, 4000, 1000n), 1001n);
  // One coin of 100,000 sat; with change the transaction is 141 vB: 141 sat at 1 sat/vB.
  const one = [coin("c:0", 100_000n)];
  const plan = async (amount: bigint, discardFeeRate: bigint) => {
    const { change, fee } = await select(amount, one, { discardFeeRate });
    return [change, fee];
  };
  assertEquals(await plan(98_879n, 10_000n), [980n, 141n]);
  assertEquals(await plan(98_880n, 10_000n), [null, 1120n]);
  assertEquals((await plan(99_565n, 3000n))[0], 294n);
  assertEquals((await plan(99_566n, 3000n))[0], null);
});

Deno.test("coin selection: payments that pay the fee share it, and get the change not kept", async () => {
  const one = [coin("c:0", 100_000n)];
  // 1,000 sat left: change kept (980 at least), the payment pays the 141 sat fee.
  const kept = await select(99_000n, one, { subtractFee: true });
  assertEquals([kept.amounts, kept.change, kept.fee], [[98_859n], 1_000n, 141n]);
  // 900 sat left: no change; as Core's, the payment gets it less the 110 sat fee.
  const given = await select(99_100n, one, { subtractFee: true });
  assertEquals([given.amounts, given.change, given.fee], [[99_890n], null, 110n]);
  // Two payments share it, the first any remainder.
  const shared = await selectCoins({
    coins: one,
    payments: [
      { script, amount: 40_000n, subtractFee: true },
      { script, amount: 1_000n, subtractFee: false },
      { script, amount: 40_000n, subtractFee: true },
    ],
    feeRate: 1000n,
    ...DEFAULTS,
  });
  // 19,000 sat of change; 10 + 3 × 31 + 31 + 68 = 203 vB (202.75).
  assertEquals([shared.amounts, shared.change, shared.fee], [
    [39_898n, 1_000n, 39_899n],
    19_000n,
    203n,
  ]);
  // A data output is never dust: what is left of it after its share is sent.
  const data = new Uint8Array([0x6a, 0x01, 0x00]);
  assertEquals(dustThreshold(data, 3000n), 0n);
  // Left dust by its share, or below nothing: Core's two texts.
  await assertRejects(
    () => select(400n, one, { subtractFee: true }),
    SelectionError,
    AMOUNT_TOO_SMALL_AFTER_FEE,
  );
  await assertRejects(
    () => select(100n, one, { subtractFee: true }),
    SelectionError,
    AMOUNT_TOO_SMALL_FOR_FEE,
  );
});

Deno.test("coin selection: unconfirmed coins pay for their ancestors, shared ones counted once", async () => {
  // Two unconfirmed coins of one parent that lacks 500 sat of the rate: each alone would pay it.
  const coins = [
    coin("p:0", 60_000n, { depth: 0, fromMe: true, bumpFee: 500n }),
    coin("p:1", 60_000n, { depth: 0, fromMe: true, bumpFee: 500n }),
  ];
  const asked: string[][] = [];
  const combinedBumpFee = (keys: readonly string[]) => {
    asked.push([...keys].sort());
    return Promise.resolve(500n);
  };
  const plan = await select(100_000n, coins, { combinedBumpFee });
  assertEquals(plan.inputs.length, 2);
  assert(asked.some((keys) => keys.join() === "p:0,p:1"));
  // 120,000 − 100,000 − (10 + 2 × 31 + 2 × 68 vB, 208 sat) − 500 once.
  assertEquals([plan.fee, plan.change], [708n, 120_000n - 100_000n - 708n]);
  // Without the node's answer, each pays its own, as the bumps said.
  const alone = await select(100_000n, coins);
  assertEquals(alone.fee, 1_208n);
  // Preset coins pay their ancestors' shortfall each, as Core's: the node is not asked.
  asked.length = 0;
  const preset = await select(100_000n, [], { preset: coins, combinedBumpFee });
  assertEquals([preset.fee, asked.length], [1_208n, 0]);
  // The node cannot tell: Core's text.
  await assertRejects(
    () => select(100_000n, coins, { combinedBumpFee: () => Promise.resolve(undefined) }),
    SelectionError,
    ENORMOUS_CLUSTER,
  );
});
