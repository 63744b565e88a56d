/**
 * Fee deltas (`prioritisetransaction`): a delta moves an entry's modified
 * fee and its relatives' ancestor and descendant totals, waits for a
 * transaction not yet in the mempool, is forgotten when its transaction is
 * mined or when it returns to zero, decides replacements by modified fees,
 * and survives `mempool.dat`.
 *
 * @module
 */
import { COIN, hashToHex, txid } from "../../../../components/node/chain/mod.ts";
import { Mempool } from "../../../../components/node/mempool/mod.ts";
import { assert, assertEquals } from "../../../assert.ts";
import { accepted, pay, setup, spend, utxosOf } from "./mempool_helpers.ts";

Deno.test("prioritise: totals of the entry, its ancestors and its descendants", () => {
  using f = setup();
  const parent = pay([f.coins[0]], f.key, [20n * COIN, 30n * COIN - 1000n]);
  const child = spend(utxosOf(parent, f.key)[0], 2000n);
  accepted(f.mempool.accept(parent));
  accepted(f.mempool.accept(child));
  const log = f.mempool.prioritise(txid(parent), 5000n);
  assertEquals(
    log,
    `PrioritiseTransaction: ${
      hashToHex(txid(parent))
    } (in mempool) fee += 0.00005, new delta=0.00005`,
  );
  const p = f.mempool.get(txid(parent))!;
  const c = f.mempool.get(txid(child))!;
  assertEquals([p.fee, p.feeDelta, p.modifiedFee], [1000n, 5000n, 6000n]);
  assertEquals([p.ancestorFees, p.descendantFees], [6000n, 8000n]);
  assertEquals([c.ancestorFees, c.descendantFees], [8000n, 2000n]);
  f.mempool.prioritise(txid(child), -500n);
  assertEquals([p.descendantFees, c.ancestorFees, c.modifiedFee], [7500n, 7500n, 1500n]);
  assertEquals(f.mempool.totalFee, 3000n); // real fees only
  assertEquals(
    f.mempool.prioritisedTransactions().map((d) => [hashToHex(d.txid), d.delta, d.modifiedFee])
      .sort(),
    [[hashToHex(txid(parent)), 5000n, 6000n], [hashToHex(txid(child)), -500n, 1500n]].sort(),
  );
  // Mined: the deltas of the block's transactions go.
  f.mine([{ tx: parent, fee: 1000n }, { tx: child, fee: 2000n }]);
  assertEquals(f.mempool.prioritisedTransactions(), []);
});

Deno.test("prioritise: a waiting delta, clearing, replacement by modified fees, mempool.dat", async () => {
  using f = setup();
  const original = pay([f.coins[0]], f.key, [50n * COIN - 1000n]);
  // A delta for a transaction not yet here applies when it arrives.
  f.mempool.prioritise(txid(original), 20_000n);
  assertEquals(f.mempool.prioritisedTransactions()[0].modifiedFee, undefined);
  accepted(f.mempool.accept(original));
  assertEquals(f.mempool.get(txid(original))!.modifiedFee, 21_000n);
  // A replacement paying 5000 beats the real fee (1000) but not the modified one (21000).
  const replacement = pay([f.coins[0]], f.key, [50n * COIN - 5000n]);
  assertEquals(f.mempool.accept(replacement).reject?.rejectReason, "insufficient fee");
  // Back to zero: the delta is forgotten, and the replacement goes through.
  assertEquals(
    f.mempool.prioritise(txid(original), -20_000n),
    `PrioritiseTransaction: ${hashToHex(txid(original))} (in mempool) delta cleared`,
  );
  assertEquals(f.mempool.prioritisedTransactions(), []);
  accepted(f.mempool.accept(replacement));
  // Deltas in and out of the mempool are written to and read from mempool.dat.
  f.mempool.prioritise(txid(replacement), 700n);
  f.mempool.prioritise(new Uint8Array(32).fill(9), -3n);
  const file = `${f.chain.dir}/mempool.dat`;
  f.mempool.save(file);
  using fresh = new Mempool(f.chain);
  assert((await fresh.load(file)).loaded);
  assertEquals(
    fresh.prioritisedTransactions().map((d) => [hashToHex(d.txid), d.delta, d.modifiedFee]),
    f.mempool.prioritisedTransactions().map((d) => [hashToHex(d.txid), d.delta, d.modifiedFee]),
  );
  assertEquals(fresh.get(txid(replacement))!.modifiedFee, 5700n);
});
