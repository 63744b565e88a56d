/**
 * scantxoutset's scan: one at a time, its progress readable and its abort
 * honoured while it runs (the coin source here pauses at a gate the test
 * opens, so the order of events is fixed), and -9 at shutdown.
 *
 * @module
 */
import type { Coin, OutPoint } from "../../../../components/node/chain/mod.ts";
import { TxOutSetScan } from "../../../../components/node/methods/scan.ts";
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
  const running = scan.run(coins(1000, 10, gate), new Set(["51"]), new AbortController().signal);
  await Promise.resolve();
  assertEquals(scan.progress, 0);
  await assertRejects(
    () => scan.run([], new Set(), new AbortController().signal),
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
    coins(600, 0, gate),
    new Set(["51"]),
    new AbortController().signal,
  );
  assertEquals([complete.success, complete.count, complete.found.length], [true, 600, 300]);
});

Deno.test("scan: shutdown ends a running scan with -9", async () => {
  const scan = new TxOutSetScan();
  const stop = new AbortController();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const running = scan.run(coins(1000, 1, gate), new Set(), stop.signal);
  stop.abort();
  open();
  const error = await running.catch((e) => e);
  assertEquals([error.code, error.message], [-9, "Shutting down"]);
  assertEquals(scan.progress, undefined);
});
