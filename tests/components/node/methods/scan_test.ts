/**
 * scantxoutset's scan: one at a time, its progress readable and its abort
 * honoured while it runs (the coin source here pauses at a gate the test
 * opens, so the order of events is fixed), and -9 at shutdown; scanblocks'
 * scan over a real block filter index, paused at its first chance.
 *
 * @module
 */
import {
  type BlockEntry,
  BlockFilterIndex,
  type Coin,
  type OutPoint,
} from "../../../../components/node/chain/mod.ts";
import { BlockFilterScan, TxOutSetScan } from "../../../../components/node/methods/scan.ts";
import { tempDir } from "../../../helpers.ts";
import { mine, openTempChain, TestKey } from "../chain/chain_helpers.ts";
import { RpcError } from "../../../../components/rpc/mod.ts";
import { assertEquals, assertRejects } from "../../../assert.ts";

const script = Uint8Array.of(0x51);

/** `count` coins; after the `pauseAt`-th it waits for `gate`. */
async function* coins(count: number, pauseAt: number, gate: Promise<void>) {
  for (let i = 0; i < count; i++) {
    const txid = new Uint8Array(32);
    txid[0] = Math.floor((i * 256) / count);
    const item: readonly [OutPoint, Coin] = [
      { txid, index: 0 },
      {
        amount: 1n,
        script: i % 2 === 0 ? script : Uint8Array.of(0x52),
        height: 1,
        coinbase: false,
      },
    ];
    yield item;
    if (i + 1 === pauseAt) await gate;
  }
}

Deno.test("scan: progress and abort while running, one scan at a time", async () => {
  const scan = new TxOutSetScan();
  assertEquals([scan.progress, scan.abort()], [undefined, false]);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const running = scan.run(
    () => ({ coins: coins(1000, 10, gate), scripts: new Set(["51"]) }),
    new AbortController().signal,
  );
  await Promise.resolve();
  assertEquals(scan.progress, 0);
  await assertRejects(
    () => scan.run(() => ({ coins: [], scripts: new Set() }), new AbortController().signal),
    RpcError,
    'Scan already in progress, use action "abort" or "status"',
  );
  assertEquals(scan.abort(), true);
  open();
  const result = await running;
  // Stopped at the first check after the abort (every 256 coins).
  assertEquals([result.success, result.count, result.found.length], [false, 256, 128]);
  assertEquals(scan.progress, undefined);
  const complete = await scan.run(
    () => ({ coins: coins(600, 0, gate), scripts: new Set(["51"]) }),
    new AbortController().signal,
  );
  assertEquals([complete.success, complete.count, complete.found.length], [true, 600, 300]);
});

Deno.test("scan: shutdown ends a running scan with -9", async () => {
  const scan = new TxOutSetScan();
  const stop = new AbortController();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const running = scan.run(
    () => ({ coins: coins(1000, 1, gate), scripts: new Set() }),
    stop.signal,
  );
  stop.abort();
  open();
  const error = await running.catch((e) => e);
  assertEquals([error.code, error.message], [-9, "Shutting down"]);
  assertEquals(scan.progress, undefined);
});

Deno.test("scan: scanblocks' scan reports its height, stops when asked, one at a time", async () => {
  using chain = openTempChain();
  using dir = tempDir("scan_test_");
  const miner = new TestKey(5);
  mine(chain, 400, miner);
  using index = BlockFilterIndex.open(dir.path, chain);
  await index.sync();
  const scan = new BlockFilterScan();
  const whole: readonly [BlockEntry, BlockEntry] = [chain.entryAtHeight(0)!, chain.tip];
  const signal = new AbortController().signal;
  // 1,000 scripts: a step of 199 blocks (each costs 1,000 hashes and its filter's one element).
  const needles = [
    miner.wpkh,
    ...Array.from({ length: 999 }, (_, i) => Uint8Array.of(0x51, i & 0xff, i >> 8)),
  ];
  assertEquals([scan.status, scan.abort()], [undefined, false]);
  const running = scan.run(chain, () => ({ index, range: whole, needles }), signal);
  // Its first pause comes before any filter is read.
  assertEquals(scan.status, { progress: 0, currentHeight: 0 });
  await assertRejects(
    () => scan.run(chain, () => ({ index, range: whole, needles: [] }), signal),
    RpcError,
    'Scan already in progress, use action "abort" or "status"',
  );
  await new Promise((resolve) => setTimeout(resolve, 0));
  // The first step read: blocks 0 to 198, 49% of the 400 after the start.
  assertEquals(scan.status, { progress: 49, currentHeight: 198 });
  assertEquals(scan.abort(), true);
  const stopped = await running;
  assertEquals([stopped.fromHeight, stopped.toHeight, stopped.completed], [0, 198, false]);
  assertEquals(stopped.relevant.length, 198, "blocks 1 to 198 pay the miner");
  assertEquals(scan.status, undefined);
  const done = await scan.run(chain, () => ({ index, range: whole, needles }), signal);
  assertEquals([done.toHeight, done.completed, done.relevant.length], [400, true, 400]);
});
