/**
 * The mempool following a real chain: connected blocks remove their
 * transactions and conflicts; disconnected blocks (`invalidateblock`, a
 * longer competing branch) give their transactions back, linked again to
 * the children waiting in the mempool, while spends of coinbases that
 * vanished or became immature leave with their descendants. A reorganisation
 * that fails for want of stored data settles the mempool and tells what it
 * connected before the error is thrown.
 *
 * @module
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  type BlockEntry,
  blockHash,
  CHAINSTATE_FILE,
  COIN,
  type Hash,
  hashToHex,
  txid,
  wtxid,
} from "../../../../components/node/chain/mod.ts";
import { TipWatch } from "../../../../components/node/ipc/watch.ts";
import { craftBlock } from "../chain/chain_helpers.ts";
import { assert, assertEquals, assertThrows } from "../../../assert.ts";
import {
  acceptAll,
  accepted,
  chainOf,
  type Fixture,
  pay,
  refused,
  setup,
  signTx,
  spend,
  TestKey,
  txidOf,
  utxosOf,
} from "./mempool_helpers.ts";

Deno.test("blocks: a confirmed parent leaves; its child stays, now without ancestors", () => {
  using f = setup();
  const [parent, child] = chainOf(f.coins[0], 1000n, 1000n);
  acceptAll(f.mempool, parent, child);
  f.mine([{ tx: parent, fee: 1000n }]);
  assertEquals(f.events.at(-1), `block ${txidOf(parent)}`);
  const entry = f.mempool.get(txid(child))!;
  assertEquals([entry.ancestorCount, entry.ancestorSize, entry.depends], [1, entry.vsize, []]);
  assertEquals([f.mempool.size, f.mempool.bytes, f.mempool.totalFee], [1, entry.vsize, 1000n]);
});

Deno.test("blocks: a block spending the same coin removes the mempool transaction and its children as conflicts", () => {
  using f = setup();
  const [original, child] = chainOf(f.coins[0], 1000n, 1000n);
  const unrelated = spend(f.coins[1], 1000n);
  acceptAll(f.mempool, original, child, unrelated);
  const conflicting = spend(f.coins[0], 3000n);
  f.mine([{ tx: conflicting, fee: 3000n }]);
  assertEquals(
    f.events.slice(3).sort(),
    [`conflict ${txidOf(child)}`, `conflict ${txidOf(original)}`].sort(),
  );
  assertEquals(f.mempool.entries().map((entry) => txid(entry.tx)), [txid(unrelated)]);
  assertEquals(f.mempool.coins().getCoin(f.coins[0].outpoint), undefined);
});

Deno.test("reorg: invalidateblock re-adds the block's transactions, parents before the children waiting here", () => {
  using f = setup();
  const parent = spend(f.coins[0], 1000n);
  const sibling = spend(f.coins[1], 2000n);
  f.mine([{ tx: parent, fee: 1000n }, { tx: sibling, fee: 2000n }]);
  const minedAt = f.chain.tip.hash;
  const child = spend(utxosOf(parent, f.key)[0], 1500n);
  accepted(f.mempool.accept(child));
  f.chain.invalidateBlock(f.chain.tip.hash);
  assertEquals(f.mempool.size, 3);
  const [p, c] = [parent, child].map((tx) => f.mempool.get(txid(tx))!);
  assertEquals([p.descendantCount, p.descendantFees, p.spentBy], [2, 2500n, [c.txid]]);
  assertEquals([c.ancestorCount, c.ancestorFees, c.depends], [2, 2500n, [p.txid]]);
  assert(!p.unbroadcast);
  const order = f.mempool.entries().map((entry) => txidOf(entry.tx));
  assert(order.indexOf(txidOf(parent)) < order.indexOf(txidOf(child)));
  assertEquals(f.events.slice(1), [`added ${txidOf(parent)}`, `added ${txidOf(sibling)}`]);

  // Back in the chain, they leave again; the child is the only one left.
  f.chain.reconsiderBlock(minedAt);
  assertEquals(f.chain.tip.hash, minedAt);
  assertEquals(f.mempool.entries().map((entry) => txid(entry.tx)), [txid(child)]);
});

Deno.test("reorg: invalidateblock re-adds the transactions of the first ten blocks it takes off only, as Core's InvalidateBlock", () => {
  using f = setup();
  const deep = spend(f.coins[0], 1000n);
  f.mine([{ tx: deep, fee: 1000n }]);
  const deepBlock = f.chain.tip.hash;
  for (let i = 0; i < 9; i++) f.mine();
  const top = spend(f.coins[1], 1000n);
  f.mine([{ tx: top, fee: 1000n }]);
  f.chain.invalidateBlock(deepBlock);
  // The top block is the first taken off, the deep one the eleventh.
  assertEquals(f.mempool.entries().map((entry) => txidOf(entry.tx)), [txidOf(top)]);
  assertEquals(f.events, [`added ${txidOf(top)}`]);
});

Deno.test("reorg: spends of coinbases that became immature leave with their descendants", () => {
  using f = setup();
  const [early, earlyChild] = chainOf(f.coins[0], 1000n, 1000n);
  acceptAll(f.mempool, early, earlyChild);
  assertEquals(f.chain.height, 105);
  // At tip 100 the coinbase of block 1 is exactly mature for the next block; at 99 it is not.
  f.chain.invalidateBlock(f.chain.entryAtHeight(101)!.hash);
  assertEquals(f.mempool.size, 2);
  f.chain.invalidateBlock(f.chain.entryAtHeight(100)!.hash);
  assertEquals(f.mempool.size, 0);
  assertEquals(
    f.events.slice(2).sort(),
    [`reorg ${txidOf(early)}`, `reorg ${txidOf(earlyChild)}`].sort(),
  );
});

Deno.test("reorg: a block's transaction that no longer fits is dropped with its children; spends of vanished coinbases too", () => {
  using f = setup();
  const confirmed = spend(f.coins[0], 1000n);
  f.mine([{ tx: confirmed, fee: 1000n }]);
  const waiting = spend(utxosOf(confirmed, f.key)[0], 1000n);
  const onCoinbase5 = spend(f.coins[4], 1000n);
  acceptAll(f.mempool, waiting, onCoinbase5);
  // Without block 5 and above, block 1's coinbase is immature and block 5's gone. As Core's
  // InvalidateBlock, the mempool is made consistent after each block: without block 6, its
  // transaction is back and block 5's coinbase immature; without block 5, block 1's too.
  f.chain.invalidateBlock(f.chain.entryAtHeight(5)!.hash);
  assertEquals(f.chain.height, 4);
  assertEquals(f.mempool.size, 0);
  assertEquals(f.events.slice(2), [
    `added ${txidOf(confirmed)}`,
    `reorg ${txidOf(onCoinbase5)}`,
    `reorg ${txidOf(confirmed)}`,
    `reorg ${txidOf(waiting)}`,
  ]);
});

Deno.test("reorg: a longer competing branch gives back the transactions of the blocks it replaces", () => {
  using f = setup();
  const tx = spend(f.coins[0], 1000n);
  const forkPoint = f.chain.tip;
  f.mine([{ tx, fee: 1000n }]);
  assertEquals(f.mempool.size, 0);
  const side1 = craftBlock(f.chain, f.key, { parent: forkPoint });
  assertEquals(f.chain.processBlock(side1), "inconclusive");
  assertEquals(f.mempool.size, 0);
  const side2 = craftBlock(f.chain, f.key, { parent: f.chain.entry(blockHash(side1.header)) });
  assertEquals(f.chain.processBlock(side2), null);
  assertEquals(f.chain.height, forkPoint.height + 2);
  assertEquals(f.mempool.entries().map((entry) => txid(entry.tx)), [txid(tx)]);
});

Deno.test("reorg: a re-added fee-less parent's dust must be spent by its children (ephemeral dust)", () => {
  using f = setup();
  const dusty = signTx([f.coins[0]], [
    { script: f.key.wpkh, amount: 50n * COIN - 100n },
    { script: f.key.wpkh, amount: 100n },
  ]);
  f.mine([{ tx: dusty, fee: 0n }]);
  f.chain.invalidateBlock(f.chain.tip.hash);
  assert(f.mempool.has(txid(dusty)), "re-added without fee floors");
  const [main, dust] = utxosOf(dusty, f.key);
  const leavesDust = spend(main, 1000n);
  const detail = `tx ${txidOf(leavesDust)} (wtxid=${
    hashToHex(wtxid(leavesDust))
  }) did not spend parent's ephemeral dust`;
  refused(f.mempool.accept(leavesDust), `missing-ephemeral-spends, ${detail}`);
  accepted(f.mempool.accept(pay([main, dust], f.key, [50n * COIN - 5000n])));
});

/** Deletes `hash`'s row of `table` behind the chain's back: block or undo data lost on disk. */
function lose(f: Fixture, table: "block_data" | "block_undo", hash: Hash): void {
  const db = new DatabaseSync(join(f.chain.dir, CHAINSTATE_FILE));
  try {
    assertEquals(db.prepare(`DELETE FROM ${table} WHERE hash = ?`).run(hash).changes, 1);
  } finally {
    db.close();
  }
}

/** Side blocks on `parent`, `count` of them, paying another key, each stored and not active. */
function sideBranch(f: Fixture, parent: BlockEntry, count: number): Hash[] {
  const other = new TestKey(12);
  const hashes: Hash[] = [];
  for (let i = 0; i < count; i++) {
    const block = craftBlock(f.chain, other, { parent });
    assertEquals(f.chain.processBlock(block), "inconclusive");
    hashes.push(blockHash(block.header));
    parent = f.chain.entry(hashes[i])!;
  }
  return hashes;
}

/** Records the chain's events by the names given to block hashes. */
function recordChain(f: Fixture, names: Map<string, string>): { events: string[] } & Disposable {
  const events: string[] = [];
  const name = (entry: BlockEntry) => names.get(hashToHex(entry.hash)) ?? `${entry.height}`;
  const subscription = f.chain.subscribe({
    blockConnected: ({ entry }) => events.push(`+${name(entry)}`),
    blockDisconnected: ({ entry }) => events.push(`-${name(entry)}`),
    reorganized: (readd) => events.push(`reorganized ${readd}`),
    updatedBlockTip: ({ entry }) => events.push(`updated ${name(entry)}`),
    tipChanged: (tip) => events.push(`tip ${name(tip)}`),
  });
  return { events, [Symbol.dispose]: () => subscription[Symbol.dispose]() };
}

Deno.test("reorg: block data missing in the middle of a step: the blocks connected are told, the mempool settled without re-adding, waiters woken, then the error thrown", async () => {
  using f = setup();
  const fork = f.chain.tip;
  const parent = spend(f.coins[0], 1000n);
  const a1 = blockHash(f.mine([{ tx: parent, fee: 1000n }]).header);
  const [a2, a3] = [f.mine(), f.mine()].map((block) => blockHash(block.header));
  const child = spend(utxosOf(parent, f.key)[0], 1000n);
  accepted(f.mempool.accept(child));
  const [b1, b2, b3] = sideBranch(f, fork, 3);
  lose(f, "block_data", b3);
  const names = new Map(
    Object.entries({ a1, a2, a3, b1, b2, b3 }).map(([n, h]) => [hashToHex(h), n]),
  );
  using recorded = recordChain(f, names);
  using watch = new TipWatch(f.chain);
  const woken = watch.nextChange(3_600_000, new AbortController().signal);
  f.events.length = 0;
  // Equal work: preciousblock makes b3 the best. One step: a3, a2, a1 off, b1, b2 on, b3 unread.
  assertThrows(
    () => f.chain.preciousBlock(b3),
    Error,
    `block ${hashToHex(b3)} has no stored data`,
  );
  assertEquals(hashToHex(f.chain.tip.hash), hashToHex(b2));
  assertEquals(recorded.events, [
    "-a3",
    "-a2",
    "-a1",
    "reorganized false",
    "+b1",
    "+b2",
    "tip b2",
  ]);
  assertEquals(watch.waiting, 0);
  await woken;
  // Core's MaybeUpdateMempoolForReorg(disconnectpool, false): nothing re-added, and the child
  // of a1's transaction leaves with it.
  assertEquals(f.mempool.size, 0);
  assertEquals(f.events, [`reorg ${txidOf(child)}`]);
  // The next transaction finds no disconnected block left to settle.
  const later = spend(f.coins[1], 1000n);
  accepted(f.mempool.accept(later));
  assertEquals(f.mempool.entries().map((entry) => txidOf(entry.tx)), [txidOf(later)]);
});

Deno.test("reorg: undo data missing in the middle of a step: the mempool settled for the blocks taken off, waiters woken, then the error thrown", async () => {
  using f = setup();
  const fork = f.chain.tip;
  const a1 = blockHash(f.mine().header);
  const parent = spend(f.coins[0], 1000n);
  const a2 = blockHash(f.mine([{ tx: parent, fee: 1000n }]).header);
  const child = spend(utxosOf(parent, f.key)[0], 1000n);
  accepted(f.mempool.accept(child));
  const [b1, b2] = sideBranch(f, fork, 2);
  lose(f, "block_undo", a1);
  const names = new Map(Object.entries({ a1, a2, b1, b2 }).map(([n, h]) => [hashToHex(h), n]));
  using recorded = recordChain(f, names);
  using watch = new TipWatch(f.chain);
  const woken = watch.nextChange(3_600_000, new AbortController().signal);
  f.events.length = 0;
  // A third block makes branch b the best: a2 comes off, a1 cannot.
  const b3 = craftBlock(f.chain, new TestKey(12), { parent: f.chain.entry(b2)! });
  assertThrows(
    () => f.chain.processBlock(b3),
    Error,
    `block ${hashToHex(a1)} lacks its data or undo data`,
  );
  assertEquals(hashToHex(f.chain.tip.hash), hashToHex(a1));
  assertEquals(recorded.events, ["-a2", "reorganized false", "tip a1"]);
  assertEquals(watch.waiting, 0);
  await woken;
  assertEquals(f.mempool.size, 0);
  assertEquals(f.events, [`reorg ${txidOf(child)}`]);
});
