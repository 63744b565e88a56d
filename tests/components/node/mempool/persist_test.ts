/**
 * `mempool.dat` as Bitcoin Core writes and reads it: the byte layout of
 * versions 1 and 2 (with its XOR obfuscation), and a mempool saved and
 * loaded back with arrival times, links and unbroadcast marks intact;
 * `-persistmempoolv1` on the real node.
 *
 * @module
 */
import { join } from "node:path";
import { encodeTx, hashToHex, txid } from "../../../../components/node/chain/mod.ts";
import {
  Mempool,
  MEMPOOL_FILE,
  type MempoolLoadOptions,
} from "../../../../components/node/mempool/mod.ts";
import {
  encodeMempoolDump,
  MempoolFileReader,
  readMempoolDump,
  walkThrough,
} from "../../../../components/node/mempool/persist.ts";
import { assert, assertEquals } from "../../../assert.ts";
import { acceptAll, chainOf, setup, spend } from "./mempool_helpers.ts";
import { concatBytes, tempDir } from "../../../helpers.ts";
import { hex } from "@scure/base";
import { scriptToAddress } from "../../../../components/node/chain/mod.ts";
import { signTx, TestKey } from "../chain/chain_helpers.ts";
import { coinbaseUtxo, startRealNode } from "../real_node.ts";

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

/** Loads `path` into `mempool`, returning the result with the log lines. */
async function loadLogged(mempool: Mempool, path: string, options: MempoolLoadOptions = {}) {
  const lines: string[] = [];
  const result = await mempool.load(path, { ...options, log: (line) => lines.push(line) });
  return { ...result, lines };
}

Deno.test("persist: load logs Core's lines and never throws", async () => {
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
  const loadedFull = await loadLogged(full, path);
  assertEquals(loadedFull.lines, [
    "Loading 3 mempool transactions from file...",
    "Progress loading mempool transactions from file: 33% (tried 1, 2 remaining)",
    "Progress loading mempool transactions from file: 66% (tried 2, 1 remaining)",
    "Imported mempool transactions from file: 3 succeeded, 0 failed, 0 expired, 0 already there, 0 waiting for initial broadcast",
  ]);
  assertEquals([loadedFull.loaded, loadedFull.failure], [true, undefined]);
  // Cut in the second transaction: the first is accepted, and the failure logged.
  const cut = 17 + 8 + encodeTx(txs[0]).length + 16 + 10;
  Deno.writeFileSync(path, whole.subarray(0, cut));
  using partial = new Mempool(f.chain);
  const loaded = await loadLogged(partial, path);
  assertEquals(loaded.lines, [
    "Loading 3 mempool transactions from file...",
    "Progress loading mempool transactions from file: 33% (tried 1, 2 remaining)",
    "Failed to deserialize mempool data on file: AutoFile::read: end of file: iostream error. Continuing anyway.",
  ]);
  assertEquals(loaded.stats.succeeded, 1);
  assertEquals([loaded.loaded, loaded.failure], [
    false,
    "AutoFile::read: end of file: iostream error",
  ]);
  assertEquals(partial.entries().map((entry) => entry.txid), [txid(txs[0])]);
  Deno.writeFileSync(path, new TextEncoder().encode("garbagegarbage"));
  using garbage = new Mempool(f.chain);
  const unknown = await loadLogged(garbage, path);
  // Core skips a file of another version without a word, and reports it as not loaded.
  assertEquals(unknown.lines, []);
  assertEquals([unknown.loaded, unknown.failure], [
    false,
    "unknown mempool file version 7450474826515505511",
  ]);
  assertEquals(garbage.size, 0);
  const missing = await loadLogged(garbage, join(f.chain.dir, "missing.dat"));
  assertEquals(missing.lines, ["Failed to open mempool file. Continuing anyway."]);
  assertEquals([missing.loaded, missing.failure], [false, "no such file"]);
  const directory = await loadLogged(garbage, f.chain.dir);
  assertEquals([directory.lines.length, directory.failure], [1, "not a regular file"]);
});

Deno.test("persist: a saved mempool (0600) loads back with its times, links and unbroadcast marks", async () => {
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
  assertEquals((await restored.load(path)).stats, {
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
  assertEquals((await restored.load(path)).stats.alreadyThere, 3);

  f.clock += 336 * 3600 - 100;
  using late = new Mempool(f.chain);
  assertEquals((await late.load(path)).stats, {
    succeeded: 1,
    failed: 0,
    expired: 2,
    alreadyThere: 0,
    unbroadcast: 3,
  });
});

/** A version 1 file: the count, then `rest` as it is (no XOR key). */
const v1 = (count: bigint, ...rest: Uint8Array[]) => concatBytes(le64(1n), le64(count), ...rest);
const eof = "AutoFile::read: end of file: iostream error";

Deno.test("persist: hostile counts and framing fail as Core's deserializer does, without building anything", () => {
  const version = Uint8Array.of(2, 0, 0, 0);
  const failure = (bytes: Uint8Array) => readMempoolDump(bytes)?.error;
  // A count of 2^64 - 1 transactions with none there: the end of the file, at once.
  assertEquals(readMempoolDump(v1(2n ** 64n - 1n)), {
    entries: [],
    deltas: [],
    unbroadcast: [],
    announced: 2n ** 64n - 1n,
    error: eof,
  });
  // Input counts: over MAX_SIZE, non-canonical, or more than the bytes left.
  const tooLarge = "ReadCompactSize(): size too large: iostream error";
  const nonCanonical = "non-canonical ReadCompactSize(): iostream error";
  assertEquals(failure(v1(1n, version, Uint8Array.of(0xfe, 1, 0, 0, 2))), tooLarge);
  assertEquals(failure(v1(1n, version, Uint8Array.of(0xff, 0, 0, 0, 0, 1, 0, 0, 0))), tooLarge);
  assertEquals(failure(v1(1n, version, Uint8Array.of(0xfd, 10, 0))), nonCanonical);
  assertEquals(failure(v1(1n, version, Uint8Array.of(0xfe, 0xff, 0xff, 0, 0))), nonCanonical);
  assertEquals(failure(v1(1n, version, Uint8Array.of(0xfe, 0, 0, 0, 2))), eof);
  // A BIP 144 marker with every witness empty, and flags Core does not know.
  const input = concatBytes(new Uint8Array(36), Uint8Array.of(0), new Uint8Array(4));
  const output = concatBytes(new Uint8Array(8), Uint8Array.of(0));
  const segwit = (flags: number, witness: Uint8Array) =>
    concatBytes(
      version,
      Uint8Array.of(0, flags, 1),
      input,
      Uint8Array.of(1),
      output,
      witness,
      new Uint8Array(4),
    );
  assertEquals(
    failure(v1(1n, segwit(1, Uint8Array.of(0)))),
    "Superfluous witness record: iostream error",
  );
  assertEquals(
    failure(v1(1n, segwit(3, Uint8Array.of(1, 1, 7)))),
    "Unknown transaction optional data: iostream error",
  );
  // The fee-delta map and the unbroadcast set: counts past MAX_SIZE, or past the bytes left.
  const noTxs = v1(0n);
  assertEquals(failure(concatBytes(noTxs, Uint8Array.of(0xfe, 0, 0, 0, 2))), eof);
  assertEquals(failure(concatBytes(noTxs, Uint8Array.of(0xfe, 1, 0, 0, 2))), tooLarge);
  assertEquals(failure(concatBytes(noTxs, Uint8Array.of(0, 0xfe, 0, 0, 0, 2))), eof);
  assertEquals(failure(concatBytes(noTxs, Uint8Array.of(0, 1), new Uint8Array(31))), eof);
  assertEquals(readMempoolDump(concatBytes(noTxs, Uint8Array.of(0, 0))), {
    entries: [],
    deltas: [],
    unbroadcast: [],
    announced: 0n,
  });
});

Deno.test("persist: a transaction larger than any mempool takes is walked and hashed, not built", async () => {
  using f = setup({ coins: 2 });
  const inPool = spend(f.coins[0], 1000n);
  const other = spend(f.coins[1], 1000n);
  acceptAll(f.mempool, inPool);
  // The same txid with a 400 kB witness item: no mempool accepts it.
  const bloated = { ...inPool, witnesses: [[new Uint8Array(400_001), ...inPool.witnesses![0]]] };
  const time = BigInt(f.clock);
  const file = encodeMempoolDump({
    entries: [bloated, other].map((tx) => ({ tx, time, feeDelta: 0n })),
    deltas: [],
    unbroadcast: [],
  });
  const reader = new MempoolFileReader(file);
  assertEquals(reader.start(), 2n);
  const first = walkThrough(reader.nextEntry(400_000));
  assertEquals([first.tx, hashToHex(first.txid)], [null, hashToHex(txid(inPool))]);
  assertEquals(hashToHex(txid(walkThrough(reader.nextEntry(400_000)).tx!)), hashToHex(txid(other)));
  const path = join(f.chain.dir, "bloated.dat");
  Deno.writeFileSync(path, file);
  // Core decodes it, its acceptance fails, and its txid is in the mempool: "already there".
  const loaded = await loadLogged(f.mempool, path);
  assertEquals(loaded.stats, {
    succeeded: 1,
    failed: 0,
    expired: 0,
    alreadyThere: 1,
    unbroadcast: 0,
  });
  using fresh = new Mempool(f.chain);
  assertEquals((await fresh.load(path)).stats.failed, 1, "not in the mempool: failed");
});

Deno.test("persist: import options, duplicate records, a file too large, an interrupted load", async () => {
  using f = setup({ coins: 2 });
  const [a, b] = [spend(f.coins[0], 1000n), spend(f.coins[1], 2000n)];
  const [x, y] = [new Uint8Array(32).fill(0xee), new Uint8Array(32).fill(0x11)];
  const fileTime = BigInt(f.clock - 3600);
  const path = join(f.chain.dir, "import.dat");
  Deno.writeFileSync(
    path,
    encodeMempoolDump({
      entries: [{ tx: a, time: fileTime, feeDelta: 500n }, { tx: b, time: fileTime, feeDelta: 0n }],
      // Core's map keeps the first of a txid, and applies them in txid byte order.
      deltas: [{ txid: x, delta: 5n }, { txid: y, delta: 7n }, { txid: x, delta: 100n }],
      unbroadcast: [txid(a), txid(a)],
    }),
  );
  // importmempool's defaults: now as the time, no deltas, no unbroadcast marks.
  f.clock += 10;
  using imported = new Mempool(f.chain);
  const plain = await loadLogged(imported, path, {
    useCurrentTime: true,
    applyFeeDeltaPriority: false,
    applyUnbroadcastSet: false,
  });
  assert(plain.loaded);
  assertEquals(imported.entries().map((e) => e.time), [f.clock, f.clock]);
  assertEquals(imported.get(txid(a))!.modifiedFee, 1000n);
  assertEquals(imported.prioritisedTransactions(), []);
  assert(imported.entries().every((e) => !e.unbroadcast));
  assertEquals(
    plain.lines.at(-1),
    "Imported mempool transactions from file: 2 succeeded, 0 failed, 0 expired, 0 already there, 0 waiting for initial broadcast",
  );
  // Everything taken over, as at start: the file's times, its deltas (first of each txid), its marks.
  using restored = new Mempool(f.chain);
  const all = await loadLogged(restored, path);
  assertEquals(restored.entries().map((e) => e.time), [Number(fileTime), Number(fileTime)]);
  assertEquals(restored.get(txid(a))!.modifiedFee, 1500n);
  assertEquals(
    Object.fromEntries(restored.prioritisedTransactions().map((d) => [hashToHex(d.txid), d.delta])),
    { [hashToHex(txid(a))]: 500n, [hashToHex(x)]: 5n, [hashToHex(y)]: 7n },
  );

  assertEquals(all.lines.filter((l) => l.startsWith("PrioritiseTransaction")), [
    `PrioritiseTransaction: ${
      hashToHex(txid(a))
    } (not in mempool) fee += 0.000005, new delta=0.000005`,
    `PrioritiseTransaction: ${
      hashToHex(y)
    } (not in mempool) fee += 0.00000007, new delta=0.00000007`,
    `PrioritiseTransaction: ${
      hashToHex(x)
    } (not in mempool) fee += 0.00000005, new delta=0.00000005`,
  ]);
  assertEquals(
    all.lines.at(-1),
    "Imported mempool transactions from file: 2 succeeded, 0 failed, 0 expired, 0 already there, 1 waiting for initial broadcast",
  );
  assertEquals(restored.entries().filter((e) => e.unbroadcast).map((e) => e.txid), [txid(a)]);
  // Larger than -maxmempool: refused unread (a sparse file, no disk used).
  using small = new Mempool(f.chain, { maxMempoolBytes: 1000 });
  const big = join(f.chain.dir, "big.dat");
  Deno.writeFileSync(big, new Uint8Array());
  Deno.truncateSync(big, 1001);
  const refused = await loadLogged(small, big);
  assertEquals(refused.lines, ["Failed to open mempool file. Continuing anyway."]);
  assertEquals(refused.failure, "1001 bytes, more than the 1000 of this node's -maxmempool");
  // Interrupted (shutdown): stops after the transaction in hand, not loaded.
  using interrupted = new Mempool(f.chain);
  const stop = new AbortController();
  stop.abort();
  const aborted = await interrupted.load(path, { signal: stop.signal });
  assertEquals([aborted.loaded, aborted.failure, interrupted.size], [false, "interrupted", 1]);
});

Deno.test("persist: a time far in the future is kept at 2^53 - 1, and saves back", async () => {
  using f = setup({ coins: 1 });
  const tx = spend(f.coins[0], 1000n);
  const path = join(f.chain.dir, "future.dat");
  const entries = [{ tx, time: 2n ** 63n - 1n, feeDelta: 0n }];
  Deno.writeFileSync(path, encodeMempoolDump({ entries, deltas: [], unbroadcast: [] }));
  assert((await f.mempool.load(path)).loaded);
  assertEquals(f.mempool.get(txid(tx))!.time, Number.MAX_SAFE_INTEGER);
  f.mempool.save(path);
  assertEquals(readMempoolDump(Deno.readFileSync(path))!.entries[0].time, 2n ** 53n - 1n);
});

Deno.test("persist: -persistmempoolv1 writes version 1 in the clear; the node reads it back without the option", async () => {
  using dir = tempDir("persist_v1_");
  const key = new TestKey(52);
  const address = scriptToAddress(key.wpkh)!;
  let sent: string;
  {
    await using node = await startRealNode({ datadir: dir.path, args: ["-persistmempoolv1"] });
    const [first] = await node.call("generatetoaddress", [101, address]);
    const utxo = await coinbaseUtxo(node.call, first, key);
    const tx = signTx([utxo], [{ script: key.wpkh, amount: utxo.amount - 1000n }]);
    sent = await node.call("sendrawtransaction", [hex.encode(encodeTx(tx))]);
    const { filename } = await node.call("savemempool");
    const file = Deno.readFileSync(filename);
    assertEquals(file.subarray(0, 8), le64(1n));
    // In the clear: the transaction's own bytes stand in the file.
    assert(hex.encode(file).includes(hex.encode(encodeTx(tx))));
    assertEquals(readMempoolDump(file)!.entries.map((entry) => hashToHex(txid(entry.tx))), [sent]);
  }
  await using again = await startRealNode({ datadir: dir.path });
  assertEquals(await again.call("getrawmempool"), [sent]);
});
