/**
 * Chains of unconfirmed transactions, Core's ancestor and descendant
 * limits with the CPFP carve-out, replace-by-fee rules 2–6, and TRUC
 * (version 3) rules with sibling eviction — each refusal with Core's text.
 *
 * @module
 */
import {
  COIN,
  hashToHex,
  type Tx,
  txid,
  txSizes,
  wtxid,
} from "../../../../components/node/chain/mod.ts";
import { assert, assertEquals } from "../../../assert.ts";
import {
  acceptAll,
  accepted,
  chainOf,
  pay,
  refused,
  setup,
  spend,
  txidOf,
  utxosOf,
} from "./mempool_helpers.ts";

const ids = (tx: Tx) => `${txidOf(tx)} (wtxid=${hashToHex(wtxid(tx))})`;

Deno.test("chains: entries count their in-mempool ancestors and descendants", () => {
  using f = setup();
  const parent = pay([f.coins[0]], f.key, [20n * COIN, 30n * COIN - 1000n]);
  const child = spend(utxosOf(parent, f.key)[0], 2000n);
  const grandchild = spend(utxosOf(child, f.key)[0], 3000n);
  acceptAll(f.mempool, parent, child, grandchild);
  const [p, c, g] = [parent, child, grandchild].map((tx) => f.mempool.get(txid(tx))!);
  assertEquals([p.ancestorCount, p.descendantCount, p.descendantFees], [1, 3, 6000n]);
  assertEquals(p.descendantSize, p.vsize + c.vsize + g.vsize);
  assertEquals([c.ancestorCount, c.descendantCount, c.ancestorFees], [2, 2, 3000n]);
  assertEquals([g.ancestorCount, g.ancestorSize, g.ancestorFees], [
    3,
    p.vsize + c.vsize + g.vsize,
    6000n,
  ]);
  assertEquals([p.spentBy, c.depends, c.spentBy, g.depends], [[c.txid], [p.txid], [g.txid], [
    c.txid,
  ]]);
  assertEquals(
    f.mempool.entries().map((entry) => hashToHex(entry.txid)),
    [parent, child, grandchild].map(txidOf),
  );
  assertEquals(f.mempool.coins().getCoin({ txid: txid(parent), index: 0 }), undefined);
  assertEquals(f.mempool.coins().getCoin({ txid: txid(parent), index: 1 })?.height, 0x7fffffff);
  assertEquals(f.mempool.spender({ txid: txid(parent), index: 0 }), txid(child));
  assertEquals(f.mempool.coins().getCoin(f.coins[0].outpoint), undefined);
  assertEquals(f.mempool.coins().getCoin(f.coins[1].outpoint)?.amount, 50n * COIN);
});

Deno.test("limits: the 26th transaction of a chain is too-long-mempool-chain", () => {
  using f = setup();
  const chain = chainOf(f.coins[0], ...Array(26).fill(1000n));
  acceptAll(f.mempool, ...chain.slice(0, 25));
  refused(
    f.mempool.accept(chain[25]),
    "too-long-mempool-chain, too many unconfirmed ancestors [limit: 25]",
  );
  assertEquals(f.mempool.size, 25);
});

Deno.test("limits: a parent's 25th descendant gets the CPFP carve-out, the 26th is refused", () => {
  using f = setup();
  const parent = pay([f.coins[0]], f.key, Array(27).fill((50n * COIN - 10_000n) / 27n));
  accepted(f.mempool.accept(parent));
  const outputs = utxosOf(parent, f.key);
  for (let i = 0; i < 25; i++) accepted(f.mempool.accept(spend(outputs[i], 1000n)));
  assertEquals(f.mempool.get(txid(parent))?.descendantCount, 26);
  refused(
    f.mempool.accept(spend(outputs[25], 1000n)),
    `too-long-mempool-chain, too many descendants for tx ${txidOf(parent)} [limit: 25]`,
  );
});

Deno.test("rbf: a conflicting transaction paying more replaces the original and its children", () => {
  using f = setup();
  const [original, child] = chainOf(f.coins[0], 1000n, 1000n);
  acceptAll(f.mempool, original, child);
  const replacement = spend(f.coins[0], 5000n);
  accepted(f.mempool.accept(replacement));
  assertEquals(f.mempool.size, 1);
  assert(f.mempool.has(txid(replacement)) && !f.mempool.has(txid(original)));
  assertEquals(
    f.events.slice(2).sort(),
    [
      `added ${txidOf(replacement)}`,
      `replaced ${txidOf(child)}`,
      `replaced ${txidOf(original)}`,
    ].sort(),
  );
  assertEquals(f.events.at(-1), `added ${txidOf(replacement)}`);
});

Deno.test("rbf: rule 6 — a lower fee rate is insufficient fee with both rates, as bitcoind words it", () => {
  using f = setup();
  accepted(f.mempool.accept(spend(f.coins[0], 10_000n)));
  const cheaper = spend(f.coins[0], 1000n);
  refused(
    f.mempool.accept(cheaper),
    `insufficient fee, rejecting replacement ${
      txidOf(cheaper)
    }; new feerate 0.00009090 BTC/kvB <= old feerate 0.00090909 BTC/kvB`,
  );
  assertEquals(f.mempool.testAccept([cheaper])[0].reject?.rejectReason, "insufficient fee");
});

Deno.test("rbf: rules 3 and 4 — replaced fees and the relay fee of the replacement", () => {
  using f = setup();
  const [original, child] = chainOf(f.coins[0], 1000n, 20_000n);
  acceptAll(f.mempool, original, child);
  const underpays = spend(f.coins[0], 5000n);
  refused(
    f.mempool.accept(underpays),
    `insufficient fee, rejecting replacement ${
      txidOf(underpays)
    }, less fees than conflicting txs; 0.00005 < 0.00021`,
  );
  const other = spend(f.coins[1], 1000n);
  accepted(f.mempool.accept(other));
  const barely = spend(f.coins[1], 1005n);
  refused(
    f.mempool.accept(barely),
    `insufficient fee, rejecting replacement ${
      txidOf(barely)
    }, not enough additional fees to relay; 0.00000005 < 0.00000011`,
  );
  accepted(f.mempool.accept(spend(f.coins[1], 1011n)));
});

Deno.test("rbf: rule 2 — a replacement may not add unconfirmed inputs", () => {
  using f = setup();
  const unconfirmed = spend(f.coins[1], 1000n);
  accepted(f.mempool.accept(unconfirmed));
  accepted(f.mempool.accept(spend(f.coins[0], 1000n)));
  const replacement = pay([f.coins[0], utxosOf(unconfirmed, f.key)[0]], f.key, [
    100n * COIN - 50_000n,
  ]);
  refused(
    f.mempool.accept(replacement),
    `replacement-adds-unconfirmed, replacement ${
      txidOf(replacement)
    } adds unconfirmed input, idx 1`,
  );
});

Deno.test("rbf: a transaction spending what it replaces is bad-txns-spends-conflicting-tx", () => {
  using f = setup();
  const original = spend(f.coins[0], 1000n);
  accepted(f.mempool.accept(original));
  const both = pay([f.coins[0], utxosOf(original, f.key)[0]], f.key, [100n * COIN - 100_000n]);
  refused(
    f.mempool.accept(both),
    `bad-txns-spends-conflicting-tx, ${txidOf(both)} spends conflicting transaction ${
      txidOf(original)
    }`,
  );
});

Deno.test("rbf: rule 5 — at most 100 transactions may be replaced", () => {
  using f = setup();
  const fanOut = pay([f.coins[0]], f.key, Array(101).fill(COIN / 10n));
  f.mine([{ tx: fanOut, fee: 50n * COIN - 101n * (COIN / 10n) }]);
  const outputs = utxosOf(fanOut, f.key);
  for (const output of outputs) accepted(f.mempool.accept(spend(output, 1000n)));
  const all = pay(outputs, f.key, [101n * (COIN / 10n) - 300_000n]);
  refused(
    f.mempool.accept(all),
    `too many potential replacements, rejecting replacement ${
      txidOf(all)
    }; too many potential replacements (101 > 100)`,
  );
  const hundred = pay(outputs.slice(0, 100), f.key, [100n * (COIN / 10n) - 300_000n]);
  accepted(f.mempool.accept(hundred));
  assertEquals(f.mempool.size, 2);
  assertEquals(f.events.filter((event) => event.startsWith("replaced")).length, 100);
});

Deno.test("truc: version 3 inheritance, sizes, ancestors — Core's TRUC-violation texts", () => {
  using f = setup();
  const truc = pay([f.coins[0]], f.key, [COIN, COIN, 48n * COIN - 1000n], { version: 3 });
  const plain = pay([f.coins[1]], f.key, [COIN, 49n * COIN - 1000n]);
  acceptAll(f.mempool, truc, plain);
  const [t0, t1] = utxosOf(truc, f.key);
  const nonTrucChild = spend(t0, 1000n);
  refused(
    f.mempool.accept(nonTrucChild),
    `TRUC-violation, non-version=3 tx ${ids(nonTrucChild)} cannot spend from version=3 tx ${
      ids(truc)
    }`,
  );
  const trucChild = spend(utxosOf(plain, f.key)[0], 1000n, { version: 3 });
  refused(
    f.mempool.accept(trucChild),
    `TRUC-violation, version=3 tx ${ids(trucChild)} cannot spend from non-version=3 tx ${
      ids(plain)
    }`,
  );
  const big = pay([t0], f.key, Array(40).fill(COIN / 50n), { version: 3 });
  const vsize = txSizes(big).vsize;
  refused(
    f.mempool.accept(big),
    `TRUC-violation, version=3 child tx ${ids(big)} is too big: ${vsize} > 1000 virtual bytes`,
  );
  const child = spend(t0, 2000n, { version: 3 });
  accepted(f.mempool.accept(child));
  const grandchild = spend(utxosOf(child, f.key)[0], 2000n, { version: 3 });
  refused(
    f.mempool.accept(grandchild),
    `TRUC-violation, tx ${ids(grandchild)} would have too many ancestors`,
  );
  // A second child evicts its sibling when it pays enough, under the replacement rules.
  const poorSibling = spend(t1, 1000n, { version: 3 });
  refused(
    f.mempool.accept(poorSibling),
    `insufficient fee (including sibling eviction), rejecting replacement ${
      txidOf(poorSibling)
    }; new feerate 0.00009090 BTC/kvB <= old feerate 0.00018181 BTC/kvB`,
  );
  const sibling = spend(t1, 5000n, { version: 3 });
  accepted(f.mempool.accept(sibling));
  assert(!f.mempool.has(txid(child)));
  assertEquals(f.events.at(-2), `replaced ${txidOf(child)}`);
});
