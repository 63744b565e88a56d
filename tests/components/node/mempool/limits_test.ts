/**
 * The mempool's bounds: eviction by descendant fee rate past
 * `-maxmempool` with the minimum fee rising (and decaying after blocks),
 * `mempool min fee not met` and `mempool full`, and expiry after 336 hours
 * — time moved through the chain's clock, never waited for.
 *
 * @module
 */
import { txid } from "../../../../components/node/chain/mod.ts";
import { Mempool } from "../../../../components/node/mempool/mod.ts";
import { assert, assertEquals } from "../../../assert.ts";
import { acceptAll, accepted, chainOf, refused, setup, spend, txidOf } from "./mempool_helpers.ts";

/** The usage one 1-in-1-out P2WPKH spend counts. */
function usageOfOne(): number {
  using f = setup({ coins: 1 });
  accepted(f.mempool.accept(spend(f.coins[0], 1000n)));
  return f.mempool.usage;
}

Deno.test("eviction: past -maxmempool the lowest descendant fee rate leaves and the minimum fee rises", () => {
  const one = usageOfOne();
  using f = setup({ coins: 8, policy: { maxMempoolBytes: 3 * one + one / 2 } });
  const [low, mid, high, higher] = [1000n, 2000n, 3000n, 4000n].map((fee, i) =>
    spend(f.coins[i], fee)
  );
  acceptAll(f.mempool, low, mid, high);
  assertEquals(f.mempool.minFeeRate(), 100n);
  accepted(f.mempool.accept(higher));
  assertEquals(f.events.at(-2), `sizelimit ${txidOf(low)}`);
  assertEquals(f.mempool.size, 3);
  assert(f.mempool.usage <= f.mempool.policy.maxMempoolBytes);
  // 1000 sat over 110 vB is 9090 sat/kvB, plus the incremental relay fee.
  assertEquals(f.mempool.minFeeRate(), 9190n);
  refused(f.mempool.accept(spend(f.coins[4], 1005n)), "mempool min fee not met, 1005 < 1011");
  // Above the minimum but still the cheapest: in and out at once, announced to nobody.
  const events = f.events.length;
  refused(f.mempool.accept(spend(f.coins[4], 1500n)), "mempool full");
  assertEquals(f.events.length, events);
  assertEquals(f.mempool.size, 3);
});

Deno.test("eviction: a parent with a paying child is judged by the package's fee rate", () => {
  const one = usageOfOne();
  using f = setup({ coins: 4, policy: { maxMempoolBytes: 4 * one } });
  const [parent, child] = chainOf(f.coins[0], 500n, 30_000n);
  const loner = spend(f.coins[1], 2000n);
  acceptAll(f.mempool, parent, child, loner);
  accepted(f.mempool.accept(spend(f.coins[2], 3000n)));
  assertEquals(f.events.at(-2), `sizelimit ${txidOf(loner)}`);
  assert(f.mempool.has(txid(parent)) && f.mempool.has(txid(child)));
});

Deno.test("eviction: the minimum fee holds until a block, then halves away with time", () => {
  const one = usageOfOne();
  using f = setup({ coins: 4, policy: { maxMempoolBytes: 2 * one + one / 2 } });
  for (const [i, fee] of [1000n, 2000n, 3000n].entries()) {
    accepted(f.mempool.accept(spend(f.coins[i], fee)));
  }
  assertEquals(f.mempool.minFeeRate(), 9190n);
  f.clock += 7 * 24 * 3600;
  assertEquals(f.mempool.minFeeRate(), 9190n);
  f.mine();
  assertEquals(f.mempool.minFeeRate(), 9190n);
  f.clock += 3 * 3600;
  const decayed = f.mempool.minFeeRate();
  assert(decayed < 9190n && decayed > 100n, `decayed to ${decayed}`);
  f.clock += 7 * 24 * 3600;
  assertEquals(f.mempool.minFeeRate(), 100n);
});

Deno.test("expiry: transactions older than 336 hours leave with their descendants at the next acceptance", () => {
  using f = setup();
  const [parent, child] = chainOf(f.coins[0], 1000n, 1000n);
  accepted(f.mempool.accept(parent));
  f.clock += 3600;
  accepted(f.mempool.accept(child));
  f.clock += 336 * 3600;
  const fresh = spend(f.coins[1], 1000n);
  accepted(f.mempool.accept(fresh));
  assertEquals(
    f.events.slice(2, 4).sort(),
    [`expiry ${txidOf(parent)}`, `expiry ${txidOf(child)}`].sort(),
  );
  assertEquals(f.mempool.entries().map((entry) => txid(entry.tx)), [txid(fresh)]);
});

Deno.test("policy: Core v30's defaults, overridable; the instance stops following when disposed", () => {
  using f = setup({ coins: 1 });
  assertEquals(f.mempool.policy.minRelayFeeRate, 100n);
  assertEquals(f.mempool.policy.dustRelayFeeRate, 3000n);
  assertEquals(f.mempool.policy.maxMempoolBytes, 300_000_000);
  assertEquals(f.mempool.policy.maxDatacarrierBytes, 100_000);
  assertEquals(f.mempool.policy.expirySeconds, 336 * 3600);
  const second = new Mempool(f.chain, { minRelayFeeRate: 1000n });
  refused(second.accept(spend(f.coins[0], 100n)), "min relay fee not met, 100 < 110");
  accepted(second.accept(spend(f.coins[0], 200n)));
  second[Symbol.dispose]();
  f.mine([{ tx: spend(f.coins[0], 200n), fee: 200n }]);
  assertEquals(second.size, 1);
});
