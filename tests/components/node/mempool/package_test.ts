/**
 * `testmempoolaccept` of packages (the result shapes bitcoind gives:
 * evaluated, not evaluated, package-wide errors) and block template
 * selection (ancestor fee rate, parents first, weight and sigop budgets),
 * the selection mined into a block the chain accepts.
 *
 * @module
 */
import { COIN, hashToHex, type Tx, txid, wtxid } from "../../../../components/node/chain/mod.ts";
import type { AcceptResult } from "../../../../components/node/mempool/mod.ts";
import { assert, assertEquals } from "../../../assert.ts";
import {
  acceptAll,
  accepted,
  chainOf,
  pay,
  setup,
  spend,
  txidOf,
  utxosOf,
} from "./mempool_helpers.ts";

/** A result reduced to what `testmempoolaccept` prints of it. */
function shape(result: AcceptResult) {
  return {
    accepted: result.accepted,
    ...(result.reject ? { reason: result.reject.rejectReason } : {}),
    ...(result.packageError ? { packageError: result.packageError } : {}),
    ...(result.vsize ? { vsize: result.vsize, fee: result.fee } : {}),
  };
}

Deno.test("testAccept: a parent and child are judged together without entering the mempool", () => {
  using f = setup();
  const [parent, child] = chainOf(f.coins[0], 1000n, 2000n);
  const results = f.mempool.testAccept([parent, child]);
  assertEquals(results.map(shape), [
    { accepted: true, vsize: 110, fee: 1000n },
    { accepted: true, vsize: 110, fee: 2000n },
  ]);
  assertEquals(results[1].effectiveFeeRate, 18181n);
  assertEquals(results[1].effectiveIncludes, [wtxid(child)]);
  assertEquals([results[0].txid, results[0].wtxid], [txid(parent), wtxid(parent)]);
  assertEquals(f.mempool.size, 0);
  assertEquals(f.events, []);
});

Deno.test("testAccept: evaluation stops at the first failure; later entries only have their ids", () => {
  using f = setup();
  const good = spend(f.coins[0], 1000n);
  const bad = spend(f.coins[1], 0n);
  const third = spend(f.coins[2], 1000n);
  const results = f.mempool.testAccept([good, bad, third]);
  assertEquals(results.map(shape), [
    { accepted: false },
    { accepted: false, reason: "min relay fee not met" },
    { accepted: false },
  ]);
  assertEquals(results[1].reject?.rejectDetails, "min relay fee not met, 0 < 11");
  assertEquals(results.map((result) => result.txid), [good, bad, third].map(txid));
});

Deno.test("testAccept: package-wide errors are reported on every entry", () => {
  using f = setup();
  const [parent, child] = chainOf(f.coins[0], 1000n, 2000n);
  const error = (txs: Tx[]) => f.mempool.testAccept(txs).map(shape);
  assertEquals(error([child, parent]), [
    { accepted: false, packageError: "package-not-sorted" },
    { accepted: false, packageError: "package-not-sorted" },
  ]);
  assertEquals(error([parent, parent])[0].packageError, "package-contains-duplicates");
  assertEquals(error([parent, spend(f.coins[0], 5000n)])[1].packageError, "conflict-in-package");
  const many = Array.from({ length: 26 }, (_, i) => spend(f.coins[0], 1000n + BigInt(i)));
  assertEquals(error(many)[25].packageError, "package-too-many-transactions");
});

Deno.test("testAccept: a package may not replace, and a fee above the maximum ends the evaluation", () => {
  using f = setup();
  accepted(f.mempool.accept(spend(f.coins[0], 1000n)));
  const conflicting = spend(f.coins[0], 9000n);
  const other = spend(f.coins[1], 1000n);
  assertEquals(f.mempool.testAccept([other, conflicting]).map(shape), [
    { accepted: false },
    { accepted: false, reason: "bip125-replacement-disallowed" },
  ]);
  const rich = spend(f.coins[2], COIN);
  const afterRich = spend(utxosOf(rich, f.key)[0], 1000n);
  const results = f.mempool.testAccept([other, rich, afterRich]);
  assertEquals(results.map(shape), [
    { accepted: true, vsize: 110, fee: 1000n },
    { accepted: false, reason: "max-fee-exceeded" },
    { accepted: false },
  ]);
  assertEquals(results[1].reject?.rejectDetails, undefined);
  assertEquals(
    f.mempool.testAccept([other, rich], { maxFeeRate: 0n }).map(shape)[1].accepted,
    true,
  );
});

Deno.test("testAccept: a script failure in the child leaves the parent's success standing", () => {
  using f = setup();
  const parent = spend(f.coins[0], 1000n);
  const child = structuredClone(spend(utxosOf(parent, f.key)[0], 2000n));
  child.witnesses![0][0][10] ^= 1;
  const results = f.mempool.testAccept([parent, child]);
  assertEquals(results.map(shape), [
    { accepted: true, vsize: 110, fee: 1000n },
    {
      accepted: false,
      reason:
        "mempool-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)",
    },
  ]);
});

Deno.test("selectForBlock: packages by ancestor fee rate, parents first, within the budgets", () => {
  using f = setup();
  const [cheapParent, richChild] = chainOf(f.coins[0], 1000n, 50_000n);
  const middle = spend(f.coins[1], 10_000n);
  const lowest = spend(f.coins[2], 500n);
  acceptAll(f.mempool, cheapParent, middle, lowest, richChild);
  const order = (selected: { tx: Tx }[]) => selected.map((item) => txidOf(item.tx));
  const all = f.mempool.selectForBlock(3_992_000);
  assertEquals(order(all), [cheapParent, richChild, middle, lowest].map(txidOf));
  assertEquals(all.map((item) => [item.fee, item.sigops]), [
    [1000n, 1],
    [50_000n, 1],
    [10_000n, 1],
    [500n, 1],
  ]);
  assertEquals(order(f.mempool.selectForBlock(4 * 220 + 1)), [cheapParent, richChild].map(txidOf));
  assertEquals(order(f.mempool.selectForBlock(3_992_000, 2)), [middle].map(txidOf));

  const block = f.mine(all);
  assertEquals(block.txs.length, 5);
  assertEquals(f.mempool.size, 0);
  assert(f.events.slice(-4).every((event) => event.startsWith("block ")));
});

Deno.test("testAccept: package limits and TRUC rules count the package's transactions together", () => {
  using f = setup();
  const chain = chainOf(f.coins[0], ...Array(26).fill(1000n));
  acceptAll(f.mempool, ...chain.slice(0, 24));
  const [next, last] = chain.slice(24);
  assertEquals(f.mempool.testAccept([next]).map(shape), [{
    accepted: true,
    vsize: 110,
    fee: 1000n,
  }]);
  assertEquals(f.mempool.testAccept([next, last]).map(shape)[1], {
    accepted: false,
    packageError: "package-mempool-limits, possibly too many unconfirmed ancestors [limit: 25]",
  });

  const trucParent = pay([f.coins[1]], f.key, [50n * COIN - 1000n], { version: 3 });
  const plainChild = spend(utxosOf(trucParent, f.key)[0], 1000n);
  const [result] = f.mempool.testAccept([trucParent, plainChild]);
  assertEquals(
    result.packageError,
    `TRUC-violation, non-version=3 tx ${txidOf(plainChild)} (wtxid=${
      hashToHex(wtxid(plainChild))
    }) cannot spend from version=3 tx ${txidOf(trucParent)} (wtxid=${
      hashToHex(wtxid(trucParent))
    })`,
  );
});
