/**
 * The `Chain`, `ChainNotifications`, `Handler` and `Node` interfaces a
 * wallet and a gui use, served by the node over a real UNIX socket against
 * a real chain and mempool: queries and their edge cases, notifications in
 * event order through a reorganisation and mempool changes, handlers that
 * stop delivery, and subscribers dropped for falling behind or leaving.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../../../assert.ts";
import { tempDir, waitFor } from "../../../helpers.ts";
import { release } from "../../../../component.ts";
import { RpcError } from "../../../../runtime/rpc/errors.ts";
import { Args } from "../../../../components/node/args.ts";
import { NODE_OPTIONS } from "../../../../components/node/options.ts";
import {
  BlockFilterIndex,
  blockHash,
  decodeTx,
  encodeTx,
  GENESIS_HASH,
  hashToHex,
  type Tx,
  txid,
} from "../../../../components/node/chain/mod.ts";
import type {
  BlockInfo,
  ChainNotifications,
  MempoolRemovalReason,
} from "../../../../schemas/gen/ipc/chain.mp.ts";
import type { BlockTip, SyncState } from "../../../../schemas/gen/ipc/node.mp.ts";
import { acceptAll, chainOf, spend, utxosOf } from "../mempool/mempool_helpers.ts";
import { serveInit, serveNode } from "./ipc_helpers.ts";
import { setup } from "../mempool/mempool_helpers.ts";
import { craftBlock, TestKey } from "../chain/chain_helpers.ts";

const hex = (bytes: Uint8Array) => hashToHex(bytes);
const txidOf = (tx: Tx | Uint8Array) => hex(txid(tx instanceof Uint8Array ? decodeTx(tx) : tx));

/** A wallet-side subscriber writing what it hears as lines. */
class Recorder implements ChainNotifications {
  readonly lines: string[] = [];
  readonly blocks: BlockInfo[] = [];

  transactionAddedToMempool(tx: Uint8Array): void {
    this.lines.push(`added ${txidOf(tx)}`);
  }

  transactionRemovedFromMempool(tx: Uint8Array, reason: MempoolRemovalReason): void {
    this.lines.push(`${reason} ${txidOf(tx)}`);
  }

  blockConnected(block: BlockInfo): void {
    this.blocks.push(block);
    this.lines.push(`connected ${block.height}`);
  }

  blockDisconnected(block: BlockInfo): void {
    this.blocks.push(block);
    this.lines.push(`disconnected ${block.height}`);
  }

  updatedBlockTip(): void {
    this.lines.push("tip");
  }

  /** Runs when the node lets go of its reference (and the client's is gone). */
  released = false;

  [Symbol.dispose](): void {
    this.released = true;
  }
}

/** A served node's `Chain` with a {@linkcode Recorder} subscribed to its notifications. */
async function recording() {
  const node = await serveNode();
  const chain = (await (await node.connect()).makeChain())!;
  const recorder = new Recorder();
  const handler = (await chain.handleNotifications(recorder))!;
  return {
    fixture: node.fixture,
    chain,
    recorder,
    async [Symbol.asyncDispose]() {
      await handler[Symbol.asyncDispose]();
      await chain[Symbol.asyncDispose]();
      await node[Symbol.asyncDispose]();
    },
  };
}

Deno.test("chain: notifications arrive in event order through blocks, a reorg and the mempool", async () => {
  await using recorded = await recording();
  const { fixture, chain, recorder } = recorded;
  const start = fixture.chain.height;

  const first = fixture.mine();
  fixture.mine();
  await chain.waitForNotifications();
  assertEquals(recorder.lines, [`connected ${start + 1}`, "tip", `connected ${start + 2}`, "tip"]);
  const info = recorder.blocks[0];
  assertEquals(hex(info.hash), hex(blockHash(first.header)));
  assertEquals(hex(info.prevHash), hex(first.header.prevHash));
  assertEquals(info.time, first.header.time);
  assertEquals(info.transactions.map(txidOf), first.txs.map(txidOf));

  recorder.lines.length = 0;
  fixture.chain.invalidateBlock(fixture.chain.tip.hash);
  const payment = spend(fixture.coins[0], 1000n);
  assert(fixture.mempool.accept(payment).accepted);
  const withPayment = fixture.mine([{ tx: payment, fee: 1000n }]);
  fixture.chain.invalidateBlock(blockHash(withPayment.header));
  const replacement = spend(fixture.coins[0], 5000n);
  assert(fixture.mempool.accept(replacement).accepted);
  await chain.waitForNotifications();
  // No updatedBlockTip for the tips invalidateblock leaves: Core's InvalidateBlock signals
  // none, and the activation after it moves nothing.
  assertEquals(recorder.lines, [
    `disconnected ${start + 2}`,
    `added ${txidOf(payment)}`,
    `block ${txidOf(payment)}`,
    `connected ${start + 2}`,
    "tip",
    `disconnected ${start + 2}`,
    `added ${txidOf(payment)}`,
    `replaced ${txidOf(payment)}`,
    `added ${txidOf(replacement)}`,
  ]);
  const disconnected = recorder.blocks.at(-1)!;
  assertEquals(disconnected.transactions.map(txidOf), withPayment.txs.map(txidOf));
});

Deno.test("chain: a reorganisation's mempool re-additions arrive before its new blocks, as Core's validation interface", async () => {
  await using recorded = await recording();
  const { fixture, chain, recorder } = recorded;
  const fork = fixture.chain.tip;
  const payment = spend(fixture.coins[0], 1000n);
  fixture.mine([{ tx: payment, fee: 1000n }]);
  const side1 = craftBlock(fixture.chain, fixture.key, { parent: fork });
  assertEquals(fixture.chain.processBlock(side1), "inconclusive");
  const side2 = craftBlock(fixture.chain, fixture.key, {
    parent: fixture.chain.entry(blockHash(side1.header))!,
  });
  await chain.waitForNotifications();
  recorder.lines.length = 0;
  // One step: the payment's block off, both side blocks on; the payment back in the mempool
  // (MaybeUpdateMempoolForReorg) before BlockConnected is signalled for either.
  assertEquals(fixture.chain.processBlock(side2), null);
  await chain.waitForNotifications();
  assertEquals(recorder.lines, [
    `disconnected ${fork.height + 1}`,
    `added ${txidOf(payment)}`,
    `connected ${fork.height + 1}`,
    `connected ${fork.height + 2}`,
    "tip",
  ]);
});

Deno.test("chain: a disconnected or released handler stops delivery", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using chain = (await client.makeChain())!;
  const recorder = new Recorder();
  const handler = (await chain.handleNotifications(recorder))!;
  assertEquals(node.init.subscribers, 1);
  await handler.disconnect();
  assertEquals(node.init.subscribers, 0);
  fixture.mine();
  await chain.waitForNotifications();
  assertEquals(recorder.lines, []);
  await handler[Symbol.asyncDispose]();
  // The subscriber was lent: the node's reference (its dup) is given back, the
  // client's own is left, and releasing that one frees the subscriber.
  assertEquals(recorder.released, false);
  release(recorder);
  await waitFor(() => recorder.released, 10_000, "the node to release the subscriber");

  const released = (await chain.handleNotifications(new Recorder()))!;
  assertEquals(node.init.subscribers, 1);
  released[Symbol.dispose](); // a release without destroy
  await waitFor(() => node.init.subscribers === 0, 10_000, "the release to reach the node");

  const destroyed = (await chain.handleNotifications(new Recorder()))!;
  await destroyed.destroy();
  assertEquals(node.init.subscribers, 0);
});

Deno.test("chain: a subscriber that stops answering is dropped; others keep theirs", async () => {
  await using node = await serveNode({ init: { maxQueuedNotificationBytes: 4096 } });
  const { fixture } = node;
  const stuckClient = await node.connect("stuck");
  await using stuckChain = (await stuckClient.makeChain())!;
  let stuckCalls = 0;
  const stuck: ChainNotifications = {
    transactionAddedToMempool() {},
    transactionRemovedFromMempool() {},
    blockConnected: () => {
      stuckCalls++;
      return new Promise<void>(() => {}); // never answers
    },
    blockDisconnected() {},
    updatedBlockTip() {},
  };
  await using _stuckHandler = (await stuckChain.handleNotifications(stuck))!;
  const client = await node.connect("healthy");
  await using chain = (await client.makeChain())!;
  const recorder = new Recorder();
  await using _handler = (await chain.handleNotifications(recorder))!;
  assertEquals(node.init.subscribers, 2);

  for (let i = 0; i < 20; i++) {
    fixture.mine();
    await chain.waitForNotifications();
  }
  await waitFor(() => node.init.subscribers === 1, 10_000, "the stuck subscriber to go");
  assertEquals(stuckCalls, 1);
  assertEquals(node.logged.length, 1);
  assert(
    /^IPC: dropped a ChainNotifications subscriber \(#1\): more than 4096 bytes/.test(
      node.logged[0],
    ),
    node.logged[0],
  );
  assertEquals(recorder.lines.filter((line) => line.startsWith("connected")).length, 20);
});

Deno.test("chain: a subscriber's connection closing ends its subscription", async () => {
  await using node = await serveNode();
  const leaving = await node.connect("leaving");
  const chain = (await leaving.makeChain())!;
  const handler = (await chain.handleNotifications(new Recorder()))!;
  assertEquals(node.init.subscribers, 1);
  await leaving[Symbol.asyncDispose]();
  await waitFor(() => node.init.subscribers === 0, 10_000, "the subscription to end");
  handler[Symbol.dispose]();
  chain[Symbol.dispose]();
  node.fixture.mine(); // no one to deliver to, nothing fails
});

Deno.test("chain: requestMempoolTransactions replays the mempool to the caller", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using chain = (await client.makeChain())!;
  const txs = [spend(fixture.coins[0], 1000n), spend(fixture.coins[1], 3000n)];
  for (const tx of txs) assert(fixture.mempool.accept(tx).accepted);
  const recorder = new Recorder();
  await chain.requestMempoolTransactions(recorder);
  assertEquals(recorder.lines.sort(), txs.map((tx) => `added ${txidOf(tx)}`).sort());
  await assertRejects(
    () => chain.requestMempoolTransactions(null),
    RpcError,
    "requestMempoolTransactions: notifications is null",
  );
});

Deno.test("chain: heights, blocks and locators, with their edge cases", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using chain = (await client.makeChain())!;
  const height = fixture.chain.height;
  assertEquals(await chain.getHeight(), height);
  assertEquals(hex(await chain.getBlockHash(0)), hex(GENESIS_HASH));
  await assertRejects(() => chain.getBlockHash(height + 1), RpcError, "Block height out of range");
  await assertRejects(() => chain.getBlockHash(-1), RpcError, "Block height out of range");
  const tip = (await chain.getTip())!;
  assertEquals([hex(tip.hash), tip.height], [hex(fixture.chain.tip.hash), height]);

  const found = (await chain.findBlock(tip.hash))!;
  assertEquals(found.height, height);
  assertEquals(hex(found.prevHash), hex(fixture.chain.tip.prev!.hash));
  assertEquals(found.time, fixture.chain.tip.header.time);
  assertEquals(found.mtpTime, fixture.chain.medianTimePast());
  assertEquals(found.inActiveChain, true);
  assertEquals(await chain.findBlock(new Uint8Array(32)), undefined);
  await assertRejects(
    () => chain.findBlock(new Uint8Array(31)),
    RpcError,
    "findBlock: hash must be 32 bytes, got 31",
  );
  assertEquals(hex((await chain.findBlock(GENESIS_HASH))!.prevHash), hex(new Uint8Array(32)));

  // A reorganised-away block is still found, off the active chain.
  const stale = tip.hash;
  fixture.chain.invalidateBlock(stale);
  assertEquals((await chain.findBlock(stale))!.inActiveChain, false);
  const active = await chain.getBlockHash(height - 2);
  assertEquals(await chain.findLocatorFork([new Uint8Array(32), stale, active]), height - 2);
  assertEquals(await chain.findLocatorFork([stale]), undefined);
  assertEquals(await chain.findLocatorFork([]), undefined);

  const block = (await chain.getBlock(active))!;
  const stored = fixture.chain.readBlock(active)!;
  assertEquals(block.height, height - 2);
  assertEquals(block.transactions.map(txidOf), stored.txs.map(txidOf));
  assertEquals(hex(block.transactions[0]), hex(encodeTx(stored.txs[0])));
  assertEquals(await chain.getBlock(new Uint8Array(32)), undefined);
  assertEquals((await chain.getBlockAtHeight(0))!.height, 0);
  assertEquals(await chain.getBlockAtHeight(height), undefined, "above the new tip");
  assertEquals(await chain.getBlockAtHeight(-1), undefined);

  const since = await chain.getBlocksSince(height - 4, 2);
  assertEquals(since.map((b) => b.height), [height - 3, height - 2]);
  assertEquals(
    (await chain.getBlocksSince(height - 4, 100)).map((b) => b.height),
    [height - 3, height - 2, height - 1],
  );
  assertEquals(await chain.getBlocksSince(height - 1, 10), []);
  assertEquals((await chain.getBlocksSince(-5, 1)).map((b) => b.height), [0]);
  assertEquals(await chain.getBlocksSince(0, 0), []);
});

Deno.test("chain: mempool queries, broadcasts and fee rates", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using chain = (await client.makeChain())!;
  assertEquals(await chain.isInitialBlockDownload(), false);
  const payment = spend(fixture.coins[0], 1000n);
  assertEquals(await chain.isInMempool(txid(payment)), false);
  assertEquals(await chain.broadcastTransaction(encodeTx(payment), 0n), {
    error: "",
    result: true,
  });
  assertEquals(await chain.isInMempool(txid(payment)), true);
  assertEquals(await chain.broadcastTransaction(encodeTx(payment), 0n), {
    error: "",
    result: true,
  }, "already in the mempool");
  // A double spend paying one satoshi more is no replacement: the mempool's reason comes back.
  const conflict = await chain.broadcastTransaction(encodeTx(spend(fixture.coins[0], 1001n)), 0n);
  assertEquals(conflict.result, false);
  assert(conflict.error.startsWith("insufficient fee, rejecting replacement"), conflict.error);
  assertEquals(
    await chain.broadcastTransaction(encodeTx(spend(fixture.coins[1], 50_000n)), 10_000n),
    {
      error: "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
      result: false,
    },
  );
  assertEquals(
    await chain.broadcastTransaction(encodeTx(spend(fixture.coins[1], 5000n)), 10_000n),
    {
      error: "",
      result: true,
    },
  );
  assertEquals(await chain.broadcastTransaction(Uint8Array.of(1, 2, 3), 0n), {
    error: "TX decode failed. Make sure the tx has at least one input.",
    result: false,
  });
  await assertRejects(
    () => chain.isInMempool(new Uint8Array(3)),
    RpcError,
    "isInMempool: txid must be 32 bytes, got 3",
  );
  // Bump fees: the payment (1,000 sat) lacks 10 sat/vB; txids in internal byte order.
  const outpoint = { txid: txid(payment), vout: 0 };
  const entry = fixture.mempool.get(txid(payment))!;
  const short = (BigInt(entry.vsize) * 10_000n + 999n) / 1000n - entry.fee;
  assertEquals(await chain.calculateIndividualBumpFees([outpoint, outpoint], 10_000n), [
    short,
    short,
  ]);
  assertEquals(await chain.calculateCombinedBumpFee([outpoint, outpoint], 10_000n), short);
  assertEquals(await chain.calculateIndividualBumpFees([], 10_000n), []);
  assertEquals(await chain.calculateCombinedBumpFee([], 10_000n), 0n);
  const reversed = { txid: txid(payment).slice().reverse(), vout: 0 };
  assertEquals(await chain.calculateIndividualBumpFees([reversed], 10_000n), [0n], "unknown");
  await assertRejects(
    () => chain.calculateCombinedBumpFee([{ txid: new Uint8Array(3), vout: 0 }], 1n),
    RpcError,
    "calculateCombinedBumpFee: txid must be 32 bytes, got 3",
  );
  await assertRejects(
    () => chain.calculateIndividualBumpFees(Array(10_001).fill(outpoint), 1n),
    RpcError,
    "calculateIndividualBumpFees: 10001 outpoints, at most 10000",
  );
  assertEquals(await chain.estimateSmartFee(6, true), { result: 0n, returnedTarget: 0 });
  assertEquals(await chain.estimateSmartFee(2000, false), { result: 0n, returnedTarget: 2000 });
  assertEquals(await chain.relayMinFee(), 100n);
  // waitForNotificationsIfTipChanged returns at once on the same tip, and with no subscribers.
  await chain.waitForNotificationsIfTipChanged(fixture.chain.tip.hash);
  await chain.waitForNotificationsIfTipChanged(new Uint8Array(32));
});

Deno.test("chain: checkChainLimits, the mempool's limits on a transaction alone in Core's words", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  await using chain = (await (await node.connect()).makeChain())!;
  // A chain of 24: a child of its last has 25 ancestors, itself counted, the most allowed.
  const txs = chainOf(fixture.coins[2], ...Array(25).fill(1000n));
  acceptAll(fixture.mempool, ...txs.slice(0, 24));
  assertEquals(await chain.checkChainLimits(encodeTx(txs[24])), { error: "", result: true });
  acceptAll(fixture.mempool, txs[24]);
  // Its child would have 26: as Core's CheckPackageLimits words a package's excess.
  const grandchild = spend(utxosOf(txs[24], fixture.key)[0], 1000n);
  assertEquals(await chain.checkChainLimits(encodeTx(grandchild)), {
    error: "possibly too many unconfirmed ancestors [limit: 25]",
    result: false,
  });
  // Asked of, never added: the mempool is as it was.
  assertEquals(fixture.mempool.has(txid(grandchild)), false);
  await assertRejects(
    () => chain.checkChainLimits(Uint8Array.of(1, 2, 3)),
    RpcError,
    "checkChainLimits: tx does not decode",
  );
});

Deno.test("chain: getSetting, the node's merged settings in JSON as Core's GetSetting; a sensitive one is not told", async () => {
  const args = new Args(NODE_OPTIONS);
  args.parseCommandLine(["-blocksonly", "-nolisten", "-maxmempool=50", "-rpcpassword=secret"]);
  args.softSet("maxmempool", "5");
  args.softSet("walletbroadcast", "0");
  await using node = await serveNode({ init: { settings: args } });
  await using chain = (await (await node.connect()).makeChain())!;
  const settings = await Promise.all(
    ["blocksonly", "listen", "maxmempool", "walletbroadcast", "txindex"].map((name) =>
      chain.getSetting(name)
    ),
  );
  assertEquals(settings, ['""', "false", '"50"', '"0"', "null"]);
  await assertRejects(() => chain.getSetting("rpcpassword"), RpcError, "-rpcpassword is not told");
});

Deno.test("node: counts, tip, block-tip callbacks and shutdown", async () => {
  await using node = await serveNode();
  const { fixture } = node;
  const client = await node.connect();
  await using gui = (await client.makeNode())!;
  assertEquals(await gui.getNumBlocks(), fixture.chain.height);
  assertEquals(hex(await gui.getBestBlockHash()), hex(fixture.chain.tip.hash));
  const tip = await gui.getBlockTip();
  assertEquals(tip.blockHeight, fixture.chain.height);
  assertEquals(tip.blockTime, fixture.chain.tip.header.time);
  assertEquals(hex(tip.blockHash), hex(fixture.chain.tip.hash));
  assertEquals(await gui.getMempoolSize(), 0);
  assert(fixture.mempool.accept(spend(fixture.coins[0], 1000n)).accepted);
  assertEquals(await gui.getMempoolSize(), 1);
  assertEquals(await gui.isInitialBlockDownload(), false);

  const seen: [SyncState, BlockTip, number][] = [];
  const handler = (await gui.handleNotifyBlockTip((state, blockTip, progress) => {
    seen.push([state, blockTip, progress]);
  }))!;
  const mined = [fixture.mine(), fixture.mine()];
  await waitFor(() => seen.length === 2, 10_000, "two tip callbacks");
  assertEquals(
    seen.map(([state, t, progress]) => [state, t.blockHeight, hex(t.blockHash), progress]),
    [
      ["postInit", fixture.chain.height - 1, hex(blockHash(mined[0].header)), 1],
      ["postInit", fixture.chain.height, hex(blockHash(mined[1].header)), 1],
    ],
  );
  await handler.disconnect();
  assertEquals(node.init.subscribers, 0);
  await handler[Symbol.asyncDispose]();

  assertEquals(await gui.shutdownRequested(), false);
  await gui.startShutdown();
  assertEquals(node.shutdowns, 1);
  assertEquals(await gui.shutdownRequested(), true);
});

Deno.test("chain: blockFilterMatches over the node's block filter index, bounded per call", async () => {
  using fixture = setup({ coins: 2 });
  using dir = tempDir("ipc_filters_");
  using index = BlockFilterIndex.open(dir.path, fixture.chain);
  const other = new TestKey(12).wpkh;
  // The first block pays `other`; the rest pay the fixture's key.
  await using without = await serveInit(fixture.chain, fixture.mempool);
  await using chainWithout = (await (await without.connect()).makeChain())!;
  assertEquals(await chainWithout.blockFilterMatches(0, 10, [other]), undefined, "no index");
  await using served = await serveInit(fixture.chain, fixture.mempool, { blockFilterIndex: index });
  await using chain = (await (await served.connect()).makeChain())!;
  assertEquals(await chain.blockFilterMatches(0, 10, [other]), undefined, "not indexed yet");
  await index.sync();
  fixture.mine();
  const height = fixture.chain.height;
  const all = await chain.blockFilterMatches(0, height, [fixture.key.wpkh]);
  assertEquals(all?.lastHeight, height);
  // Every block but the genesis block pays the key (a false positive there would be 1 in 784931).
  assertEquals(all?.heights.slice(-height), Array.from({ length: height }, (_, i) => i + 1));
  // The blocks read are named by hash, the chain's at the time, and so is the one before them.
  const hashAt = (h: number) => fixture.chain.entryAtHeight(h)!.hash;
  assertEquals(all?.hashes, all?.heights.map(hashAt));
  assertEquals(all?.lastHash, hashAt(height));
  assertEquals(all?.previousHash, new Uint8Array());
  const from3 = await chain.blockFilterMatches(3, 4, [fixture.key.wpkh]);
  assertEquals(from3, {
    heights: [3, 4],
    lastHeight: 4,
    hashes: [hashAt(3), hashAt(4)],
    lastHash: hashAt(4),
    previousHash: hashAt(2),
  });
  assertEquals(await chain.blockFilterMatches(5, 4, []), {
    heights: [],
    lastHeight: 4,
    hashes: [],
    lastHash: hashAt(4),
    previousHash: hashAt(4),
  });
  assertEquals(await chain.blockFilterMatches(height + 1, height + 9, [other]), {
    heights: [],
    lastHeight: height,
    hashes: [],
    lastHash: hashAt(height),
    previousHash: hashAt(height),
  });
  // Many scripts: the call stops early, its work bounded (200,000 hashes and elements: 7
  // blocks of 25,000 scripts and one element each); more than 200,000 scripts get no answer.
  const scripts = Array.from({ length: 25_000 }, (_, i) => Uint8Array.of(0x51, i & 0xff, i >> 8));
  assertEquals((await chain.blockFilterMatches(0, height, scripts))?.lastHeight, 6);
  const tooMany = Array.from({ length: 200_001 }, () => Uint8Array.of(0x51));
  assertEquals(await chain.blockFilterMatches(0, height, tooMany), undefined);
  await assertRejects(
    () => chain.blockFilterMatches(-1, 3, []),
    RpcError,
    "blockFilterMatches: fromHeight -1 is negative",
  );
});
