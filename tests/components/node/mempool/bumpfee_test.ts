/**
 * What spending unconfirmed outputs must add for their ancestors to reach a
 * fee rate (Core's MiniMiner, as `Mempool.bumpFees` reckons it) on a real
 * mempool of signed transactions: a parent short of the rate, one a child
 * pays for already, ancestors counted once when spent together, a spender
 * taken to be replaced, and the cluster limit.
 *
 * @module
 */
import { COIN, type Tx, txid } from "../../../../components/node/chain/mod.ts";
import { feeAtRate, type Mempool } from "../../../../components/node/mempool/mod.ts";
import { assertEquals } from "../../../assert.ts";
import { acceptAll, pay, setup, spend, utxosOf } from "./mempool_helpers.ts";

/** 10 sat/vB, in sat/kvB. */
const RATE = 10_000n;

/** The outpoint `vout` of `tx`. */
const out = (tx: Tx, vout: number) => ({ txid: txid(tx), index: vout });

/** What the mempool's entry of `tx` lacks of `RATE` alone. */
const deficit = (mempool: Mempool, tx: Tx) => {
  const entry = mempool.get(txid(tx))!;
  return feeAtRate(RATE, entry.vsize) - entry.fee;
};

Deno.test("bump fees: a parent short of the rate is raised to it; confirmed, unknown and paid-for ones are not", () => {
  using f = setup();
  // The parent pays 1 sat/vB or so; its two outputs are the wallet's.
  const parent = pay([f.coins[0]], f.key, [20n * COIN, 30n * COIN - 150n]);
  acceptAll(f.mempool, parent);
  const short = deficit(f.mempool, parent);
  assertEquals(short > 1000n, true);
  const confirmed = f.coins[1].outpoint;
  const unknown = { txid: new Uint8Array(32).fill(7), index: 0 };
  assertEquals(f.mempool.bumpFees([out(parent, 0), confirmed, unknown, out(parent, 1)], RATE), {
    individual: [short, 0n, 0n, short],
    combined: short, // the parent once
  });
  // At a rate it pays already, nothing.
  assertEquals(f.mempool.bumpFees([out(parent, 0)], 1_000n), { individual: [0n], combined: 0n });

  // A child paying enough for both has the parent mined: its sibling output needs nothing.
  const child = spend(utxosOf(parent, f.key)[0], 10_000n);
  acceptAll(f.mempool, child);
  assertEquals(f.mempool.bumpFees([out(parent, 1)], RATE), { individual: [0n], combined: 0n });
  // Spending the child's output needs nothing either; a grandchild short of the rate does.
  assertEquals(f.mempool.bumpFees([out(child, 0)], RATE)?.individual, [0n]);
  const grandchild = spend(utxosOf(child, f.key)[0], 200n);
  acceptAll(f.mempool, grandchild);
  const grandShort = deficit(f.mempool, grandchild);
  assertEquals(f.mempool.bumpFees([out(grandchild, 0), out(parent, 1)], RATE), {
    individual: [grandShort, 0n],
    combined: grandShort,
  });
});

Deno.test("bump fees: a transaction spending the output already is taken to be replaced", () => {
  using f = setup();
  const parent = pay([f.coins[0]], f.key, [20n * COIN, 30n * COIN - 150n]);
  // The spender pays for its parent; a replacement of it would not, so it does not count.
  const spender = spend(utxosOf(parent, f.key)[0], 10_000n);
  acceptAll(f.mempool, parent, spender);
  const short = deficit(f.mempool, parent);
  assertEquals(f.mempool.bumpFees([out(parent, 1)], RATE)?.individual, [0n]);
  assertEquals(f.mempool.bumpFees([out(parent, 0)], RATE), {
    individual: [short],
    combined: short,
  });
  // An output of the replaced transaction itself will not exist: nothing to bump.
  assertEquals(f.mempool.bumpFees([out(parent, 0), out(spender, 0)], RATE)?.individual, [
    short,
    0n,
  ]);
});

Deno.test("bump fees: Core's example, a child under the rate whose ancestor set is over it", () => {
  using f = setup({ coins: 2 });
  // A large grandparent at 1 sat/vB, two parents of it paying well and less well, and a child of
  // both at 9 sat/vB: no ancestor set reaches 10 sat/vB on the lower of its own and its set's rate,
  // and the child's set pays more than 10 sat/vB, so the child must reach the rate alone.
  const outputs = Array.from({ length: 51 }, () => 90_000_000n);
  const grandparent = pay([f.coins[0]], f.key, [
    ...outputs,
    50n * COIN - 51n * 90_000_000n - 1_700n,
  ]);
  const [left, right] = utxosOf(grandparent, f.key);
  const parent1 = spend(left, 15_000n);
  const parent2 = spend(right, 5_000n);
  const inputs = [utxosOf(parent1, f.key)[0], utxosOf(parent2, f.key)[0]];
  const childFee = 1_600n;
  const child = pay(inputs, f.key, [inputs[0].amount + inputs[1].amount - childFee]);
  acceptAll(f.mempool, grandparent, parent1, parent2, child);
  const rate = (fee: bigint, size: number) => Number(fee) / size;
  const [p1, c] = [parent1, child].map((tx) => f.mempool.get(txid(tx))!);
  assertEquals(rate(p1.ancestorFees, p1.ancestorSize) < 10, true, "parent 1's set");
  assertEquals(rate(c.fee, c.vsize) < 10, true, "the child alone");
  assertEquals(rate(c.ancestorFees, c.ancestorSize) > 10, true, "the child's set");
  const alone = feeAtRate(RATE, c.vsize) - c.fee;
  assertEquals(f.mempool.bumpFees([out(child, 0)], RATE)?.individual, [alone]);
});

Deno.test("bump fees: a cluster of more than 500 transactions is not reckoned", () => {
  using f = setup({
    policy: { descendantCount: 1_000, descendantSizeVbytes: 1_000_000 },
  });
  const outputs500 = Array.from({ length: 500 }, () => 9_000_000n);
  const parent = pay([f.coins[0]], f.key, [...outputs500, 5n * COIN - 20_000n]);
  acceptAll(f.mempool, parent);
  const outputs = utxosOf(parent, f.key);
  for (const output of outputs.slice(0, 499)) acceptAll(f.mempool, spend(output, 200n));
  // 500 transactions: reckoned.
  assertEquals(f.mempool.bumpFees([out(parent, 499)], RATE)?.individual.length, 1);
  acceptAll(f.mempool, spend(outputs[499], 200n));
  assertEquals(f.mempool.bumpFees([out(parent, 499)], RATE), null);
  // A confirmed output alone still is.
  assertEquals(f.mempool.bumpFees([f.coins[1].outpoint], RATE), { individual: [0n], combined: 0n });
});
