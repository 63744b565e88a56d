/**
 * `mempool.dat` as Bitcoin Core writes and reads it: the byte layout of
 * versions 1 and 2 (with its XOR obfuscation), and a mempool saved and
 * loaded back with arrival times, links and unbroadcast marks intact.
 *
 * @module
 */
import { join } from "node:path";
import { encodeTx, hashToHex, txid } from "../../../../components/node/chain/mod.ts";
import { Mempool, MEMPOOL_FILE } from "../../../../components/node/mempool/mod.ts";
import { encodeMempoolDump, readMempoolDump } from "../../../../components/node/mempool/persist.ts";
import { assert, assertEquals } from "../../../assert.ts";
import { acceptAll, chainOf, setup, spend } from "./mempool_helpers.ts";
import { concatBytes } from "../../../helpers.ts";

const le64 = (value: bigint) => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return bytes;
};

Deno.test("persist: version 2 is the version, the key, then the body XORed by file offset", () => {
  using f = setup({ coins: 1 });
  const tx = spend(f.coins[0], 1000n);
  const dump = {
    entries: [{ tx, time: 1_700_000_123n, feeDelta: 0n }],
    deltas: [],
    unbroadcast: [txid(tx)],
  };
  const body = concatBytes(
    le64(1n),
    encodeTx(tx),
    le64(1_700_000_123n),
    le64(0n),
    Uint8Array.of(0, 1),
    txid(tx),
  );
  const key = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const file = encodeMempoolDump(dump, key);
  assertEquals(file.subarray(0, 17), concatBytes(le64(2n), Uint8Array.of(8), key));
  const clear = file.slice(17).map((byte, i) => byte ^ key[(17 + i) % 8]);
  assertEquals(clear, body);
  assertEquals(readMempoolDump(file), { ...dump, announced: 1n });
  assertEquals(readMempoolDump(concatBytes(le64(1n), body)), { ...dump, announced: 1n });
  // Core reads nothing past the unbroadcast set.
  assertEquals(readMempoolDump(concatBytes(le64(1n), body, Uint8Array.of(7))), {
    ...dump,
    announced: 1n,
  });
  // Another version: Core's LoadMempool returns without a word.
  assertEquals(readMempoolDump(concatBytes(le64(3n), body)), null);
  assertEquals(readMempoolDump(new TextEncoder().encode("garbagegarbage")), null);
});

Deno.test("persist: a damaged file keeps what Core's reader would have read before the damage", () => {
  using f = setup({ coins: 2 });
  const first = spend(f.coins[0], 1000n);
  const second = spend(f.coins[1], 1000n);
  const entries = [first, second].map((tx) => ({ tx, time: 1_700_000_000n, feeDelta: 0n }));
  const file = encodeMempoolDump({ entries, deltas: [], unbroadcast: [txid(first)] });
  const eof = "AutoFile::read: end of file: iostream error";
  const firstEnd = 17 + 8 + encodeTx(first).length + 16;
  // Cut inside the second transaction: the first one stands, nothing else.
  assertEquals(readMempoolDump(file.subarray(0, firstEnd + 10)), {
    entries: entries.slice(0, 1),
    deltas: [],
    unbroadcast: [],
    announced: 2n,
    error: eof,
  });
  // Cut in the unbroadcast set: every transaction, no unbroadcast marks.
  assertEquals(readMempoolDump(file.subarray(0, file.length - 1)), {
    entries,
    deltas: [],
    unbroadcast: [],
    announced: 2n,
    error: eof,
  });
  // Shorter than the version, or than the key.
  for (const length of [0, 7, 12]) {
    assertEquals(readMempoolDump(file.subarray(0, length)), {
      entries: [],
      deltas: [],
      unbroadcast: [],
      error: eof,
    });
  }
  const badKey = file.slice();
  badKey[8] = 3;
  assertEquals(readMempoolDump(badKey)?.error, "obfuscation key of 3 bytes");
});

Deno.test("persist: load logs Core's lines and never throws", () => {
  using f = setup({ coins: 3 });
  const txs = [0, 1, 2].map((i) => spend(f.coins[i], 1000n));
  const path = join(f.chain.dir, MEMPOOL_FILE);
  const time = BigInt(f.clock);
  Deno.writeFileSync(
    path,
    encodeMempoolDump({
      entries: txs.map((tx) => ({ tx, time, feeDelta: 0n })),
      deltas: [],
      unbroadcast: [],
    }),
  );
  const whole = Deno.readFileSync(path);
  using full = new Mempool(f.chain);
  assertEquals(full.load(path).messages, [
    "Loading 3 mempool transactions from file...",
    "Progress loading mempool transactions from file: 33% (tried 1, 2 remaining)",
    "Progress loading mempool transactions from file: 66% (tried 2, 1 remaining)",
    "Imported mempool transactions from file: 3 succeeded, 0 failed, 0 expired, 0 already there, 0 waiting for initial broadcast",
  ]);
  // Cut in the second transaction: the first is accepted, and the failure logged.
  const cut = 17 + 8 + encodeTx(txs[0]).length + 16 + 10;
  Deno.writeFileSync(path, whole.subarray(0, cut));
  using partial = new Mempool(f.chain);
  const loaded = partial.load(path);
  assertEquals(loaded.messages, [
    "Loading 3 mempool transactions from file...",
    "Progress loading mempool transactions from file: 33% (tried 1, 2 remaining)",
    "Failed to deserialize mempool data on file: AutoFile::read: end of file: iostream error. Continuing anyway.",
  ]);
  assertEquals(loaded.stats.succeeded, 1);
  assertEquals(partial.entries().map((entry) => entry.txid), [txid(txs[0])]);
  Deno.writeFileSync(path, new TextEncoder().encode("garbagegarbage"));
  using garbage = new Mempool(f.chain);
  assertEquals(garbage.load(path).messages, []);
  assertEquals(garbage.size, 0);
  assertEquals(garbage.load(join(f.chain.dir, "missing.dat")).messages, [
    "Failed to open mempool file. Continuing anyway.",
  ]);
});

Deno.test("persist: a saved mempool (0600) loads back with its times, links and unbroadcast marks", () => {
  using f = setup();
  const [parent, child] = chainOf(f.coins[0], 1000n, 2000n);
  acceptAll(f.mempool, parent, child);
  f.clock += 600;
  const later = spend(f.coins[1], 3000n);
  acceptAll(f.mempool, later);
  const path = join(f.chain.dir, MEMPOOL_FILE);
  f.mempool.save(path);
  f.mempool[Symbol.dispose]();
  assertEquals((Deno.statSync(path).mode! & 0o777).toString(8), "600", "the owner's only");

  using restored = new Mempool(f.chain);
  f.clock += 60;
  assertEquals(restored.load(path).stats, {
    succeeded: 3,
    failed: 0,
    expired: 0,
    alreadyThere: 0,
    unbroadcast: 3,
  });
  const entries = restored.entries();
  // Core's order: fewest ancestors first, then the higher fee rate.
  assertEquals(
    entries.map((entry) => hashToHex(entry.txid)),
    [later, parent, child].map((tx) => hashToHex(txid(tx))),
  );
  assertEquals(entries.map((entry) => entry.time), [f.clock - 60, f.clock - 660, f.clock - 660]);
  assertEquals(restored.get(txid(child))?.depends, [txid(parent)]);
  assert(entries.every((entry) => entry.unbroadcast));
  assertEquals(restored.load(path).stats.alreadyThere, 3);

  f.clock += 336 * 3600 - 100;
  using late = new Mempool(f.chain);
  assertEquals(late.load(path).stats, {
    succeeded: 1,
    failed: 0,
    expired: 2,
    alreadyThere: 0,
    unbroadcast: 3,
  });
});
