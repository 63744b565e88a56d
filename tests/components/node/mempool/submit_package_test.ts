/**
 * `Mempool.submitPackage` (Core's `AcceptPackage` behind `submitpackage`):
 * each transaction tried alone first, a TRUC parent below the relay fee
 * paid for by its child (CPFP), a plain parent held to the relay fee
 * alone, transactions already in the mempool, the client's maximum fee
 * rate, replacements, a script failure after an accepted parent, and the
 * package-wide errors that leave every transaction unevaluated.
 *
 * @module
 */
import { COIN, hashToHex, type Tx, wtxid } from "../../../../components/node/chain/mod.ts";
import type { PackageSubmission } from "../../../../components/node/mempool/mod.ts";
import { assert, assertEquals } from "../../../assert.ts";
import { accepted, pay, setup, spend, txidOf, utxosOf } from "./mempool_helpers.ts";

/** A submission reduced to what `submitpackage` prints: outcome and error per transaction. */
function shape(submission: PackageSubmission) {
  return {
    message: submission.message,
    results: submission.results.map((result) => ({
      txid: hashToHex(result.txid),
      outcome: result.outcome,
      ...(result.reject ? { error: result.reject.message } : {}),
      ...(result.vsize !== undefined ? { vsize: result.vsize, fee: result.fee } : {}),
    })),
    replaced: submission.replaced.map(hashToHex),
  };
}

Deno.test("submitPackage: a TRUC parent below the relay fee enters with the child paying for it", () => {
  using f = setup();
  const parent = pay([f.coins[0]], f.key, [50n * COIN], { version: 3 });
  const child = spend(utxosOf(parent, f.key)[0], 2200n, { version: 3 });
  assertEquals(
    f.mempool.accept(parent, { testOnly: true }).reject?.message,
    "min relay fee not met, 0 < 11",
  );
  const submission = f.mempool.submitPackage([parent, child]);
  assertEquals(shape(submission), {
    message: "success",
    results: [
      { txid: txidOf(parent), outcome: "accepted", vsize: 110, fee: 0n },
      { txid: txidOf(child), outcome: "accepted", vsize: 110, fee: 2200n },
    ],
    replaced: [],
  });
  // Judged by the package's rate: 2200 sat over 220 vB.
  for (const result of submission.results) {
    assertEquals(result.effectiveFeeRate, 10_000n);
    assertEquals(result.effectiveIncludes, [wtxid(parent), wtxid(child)]);
  }
  assertEquals(f.mempool.size, 2);
  assertEquals(f.mempool.get(txidOf(child))?.ancestorCount, 2);
  // Core's BroadcastTransaction finds them in the mempool and does not mark them.
  assertEquals(f.mempool.get(txidOf(parent))?.unbroadcast, false);
  assertEquals(f.events, [`added ${txidOf(parent)}`, `added ${txidOf(child)}`]);
});

Deno.test("submitPackage: a non-TRUC parent below the relay fee is refused even with a paying child", () => {
  using f = setup();
  const parent = pay([f.coins[0]], f.key, [50n * COIN]);
  const child = spend(utxosOf(parent, f.key)[0], 100_000n);
  assertEquals(shape(f.mempool.submitPackage([parent, child])), {
    message: "transaction failed",
    results: [
      { txid: txidOf(parent), outcome: "refused", error: "min relay fee not met, 0 < 11" },
      { txid: txidOf(child), outcome: "refused", error: "bad-txns-inputs-missingorspent" },
    ],
    replaced: [],
  });
  assertEquals(f.mempool.size, 0);
});

Deno.test("submitPackage: a package below the relay fee together fails on the child", () => {
  using f = setup();
  const parent = pay([f.coins[0]], f.key, [50n * COIN], { version: 3 });
  const child = spend(utxosOf(parent, f.key)[0], 20n, { version: 3 });
  assertEquals(shape(f.mempool.submitPackage([parent, child])), {
    message: "transaction failed",
    results: [
      { txid: txidOf(parent), outcome: "refused", error: "min relay fee not met, 0 < 11" },
      { txid: txidOf(child), outcome: "refused", error: "min relay fee not met, 20 < 22" },
    ],
    replaced: [],
  });
  assertEquals(f.mempool.size, 0);
});

Deno.test("submitPackage: what is in the mempool already is reported, the rest judged alone", () => {
  using f = setup();
  const parent = spend(f.coins[0], 1000n);
  const child = spend(utxosOf(parent, f.key)[0], 3000n);
  accepted(f.mempool.accept(parent));
  const submission = f.mempool.submitPackage([parent, child]);
  assertEquals(shape(submission), {
    message: "success",
    results: [
      { txid: txidOf(parent), outcome: "in-mempool", vsize: 110, fee: 1000n },
      { txid: txidOf(child), outcome: "accepted", vsize: 110, fee: 3000n },
    ],
    replaced: [],
  });
  assertEquals(submission.results[0].effectiveFeeRate, undefined);
  assertEquals(submission.results[1].effectiveFeeRate, 27_272n);
  assertEquals(submission.results[1].effectiveIncludes, [wtxid(child)]);
  // Submitting the same package again changes nothing.
  assertEquals(
    shape(f.mempool.submitPackage([parent, child])).results.map((result) => result.outcome),
    ["in-mempool", "in-mempool"],
  );
  assertEquals(f.mempool.size, 2);
});

Deno.test("submitPackage: the client's maximum fee rate, a replacement and a script failure", () => {
  using f = setup();
  const rich = spend(f.coins[0], COIN);
  assertEquals(shape(f.mempool.submitPackage([rich])), {
    message: "transaction failed",
    results: [{ txid: txidOf(rich), outcome: "refused", error: "max feerate exceeded" }],
    replaced: [],
  });
  assertEquals(f.mempool.submitPackage([rich], { maxFeeRate: 0n }).message, "success");

  const original = spend(f.coins[1], 1000n);
  accepted(f.mempool.accept(original));
  const replacement = spend(f.coins[1], 5000n);
  assertEquals(shape(f.mempool.submitPackage([replacement])), {
    message: "success",
    results: [{ txid: txidOf(replacement), outcome: "accepted", vsize: 110, fee: 5000n }],
    replaced: [txidOf(original)],
  });
  assert(!f.mempool.has(txidOf(original)));

  const parent = spend(f.coins[2], 1000n);
  const child = structuredClone(spend(utxosOf(parent, f.key)[0], 2000n));
  child.witnesses![0][0][10] ^= 1;
  assertEquals(shape(f.mempool.submitPackage([parent, child])), {
    message: "transaction failed",
    results: [
      { txid: txidOf(parent), outcome: "accepted", vsize: 110, fee: 1000n },
      {
        txid: txidOf(child),
        outcome: "refused",
        error:
          "mempool-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation), " +
          `input 0 of ${txidOf(child)} (wtxid ${hashToHex(wtxid(child))}), spending ${
            txidOf(parent)
          }:0`,
      },
    ],
    replaced: [],
  });
  assert(f.mempool.has(txidOf(parent)));
});

Deno.test("submitPackage: malformed packages are refused before any transaction is evaluated", () => {
  using f = setup();
  const parent = spend(f.coins[0], 1000n);
  const child = spend(utxosOf(parent, f.key)[0], 2000n);
  const refusedWith = (txs: Tx[]) => {
    const submission = f.mempool.submitPackage(txs);
    assertEquals(submission.results, []);
    return submission.message;
  };
  assertEquals(refusedWith([parent, parent, child]), "package-contains-duplicates");
  assertEquals(refusedWith([child, parent]), "package-not-sorted");
  assertEquals(refusedWith([parent, spend(f.coins[1], 1000n)]), "package-not-child-with-parents");
  // Two transactions of about 53,000 vB each: over the package's 404,000 weight units.
  const wide = pay([f.coins[2]], f.key, Array(1700).fill(COIN / 100n));
  const wideChild = pay([utxosOf(wide, f.key)[0]], f.key, Array(1700).fill(COIN / 1_000_000n));
  assertEquals(refusedWith([wide, wideChild]), "package-too-large");
  const many = Array.from({ length: 26 }, (_, i) => spend(f.coins[3], 1000n + BigInt(i)));
  assertEquals(refusedWith(many), "package-too-many-transactions");
  assertEquals(f.mempool.size, 0);
  assertEquals(f.events, []);
});
