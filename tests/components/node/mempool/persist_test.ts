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
import {
  decodeMempoolDump,
  encodeMempoolDump,
} from "../../../../components/node/mempool/persist.ts";
import { assert, assertEquals, assertThrows } from "../../../assert.ts";
import { acceptAll, chainOf, setup, spend } from "./mempool_helpers.ts";

const le64 = (value: bigint) => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return bytes;
};
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};

Deno.test("persist: version 2 is the version, the key, then the body XORed by file offset", () => {
  using f = setup({ coins: 1 });
  const tx = spend(f.coins[0], 1000n);
  const dump = {
    entries: [{ tx, time: 1_700_000_123n, feeDelta: 0n }],
    deltas: [],
    unbroadcast: [txid(tx)],
  };
  const body = concat(
    le64(1n),
    encodeTx(tx),
    le64(1_700_000_123n),
    le64(0n),
    Uint8Array.of(0, 1),
    txid(tx),
  );
  const key = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const file = encodeMempoolDump(dump, key);
  assertEquals(file.subarray(0, 17), concat(le64(2n), Uint8Array.of(8), key));
  const clear = file.slice(17).map((byte, i) => byte ^ key[(17 + i) % 8]);
  assertEquals(clear, body);
  assertEquals(decodeMempoolDump(file), dump);
  assertEquals(decodeMempoolDump(concat(le64(1n), body)), dump);
  const error = assertThrows(() => decodeMempoolDump(concat(le64(3n), body)));
  assertEquals(error.message, "Failed to deserialize mempool data on file: unknown version 3");
  assert(
    assertThrows(() => decodeMempoolDump(file.subarray(0, 40))).message.startsWith(
      "Failed to deserialize mempool data on file: ",
    ),
  );
});

Deno.test("persist: a saved mempool loads back with its times, links and unbroadcast marks", () => {
  using f = setup();
  const [parent, child] = chainOf(f.coins[0], 1000n, 2000n);
  acceptAll(f.mempool, parent, child);
  f.clock += 600;
  const later = spend(f.coins[1], 3000n);
  acceptAll(f.mempool, later);
  const path = join(f.chain.dir, MEMPOOL_FILE);
  f.mempool.save(path);
  f.mempool[Symbol.dispose]();

  using restored = new Mempool(f.chain);
  f.clock += 60;
  assertEquals(restored.load(path), {
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
  assertEquals(restored.load(path)?.alreadyThere, 3);

  f.clock += 336 * 3600 - 100;
  using late = new Mempool(f.chain);
  assertEquals(late.load(path), {
    succeeded: 1,
    failed: 0,
    expired: 2,
    alreadyThere: 0,
    unbroadcast: 3,
  });
  assertEquals(late.load(join(f.chain.dir, "missing.dat")), null);
});
