/**
 * The UTXO snapshot encoding (`components/node/chain/snapshot.ts`):
 * Core's VARINT bit patterns and amount compression vectors
 * (`serialize_tests.cpp`, `compress_tests.cpp`), the script compression
 * of each special kind both ways, the metadata's layout and checks, and
 * the whole-snapshot decoder's refusals of bad files.
 *
 * @module
 */
import { hex } from "@scure/base";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { assert, assertEquals, assertThrows } from "../../../assert.ts";
import {
  type Coin,
  compressAmount,
  compressScript,
  decodeSnapshot,
  decompressAmount,
  encodeCoin,
  encodeSnapshotMetadata,
  encodeVarInt,
  readSnapshotMetadata,
  REGTEST_MAGIC,
  SNAPSHOT_CHUNK_SIZE,
  SnapshotFormatError,
  SnapshotWriter,
} from "../../../../components/node/chain/mod.ts";
import { concatBytes } from "../../../helpers.ts";
import { TestKey } from "./chain_helpers.ts";

const COIN = 100_000_000n;

/** A snapshot of `coins` (in key order) written whole. */
function snapshotOf(coins: [Uint8Array, number, Coin][], count = coins.length): Uint8Array {
  const chunks: Uint8Array[] = [];
  const writer = new SnapshotWriter((bytes) => chunks.push(bytes.slice()));
  writer.writeMetadata({
    networkMagic: REGTEST_MAGIC,
    baseBlockHash: new Uint8Array(32).fill(0xbb),
    coinsCount: BigInt(count),
  });
  for (const [txid, index, coin] of coins) writer.add({ txid, index }, coin);
  writer.finish();
  return concatBytes(...chunks);
}

const coin = (script: Uint8Array, amount = COIN, height = 7, coinbase = false): Coin => ({
  amount,
  script,
  height,
  coinbase,
});

Deno.test("VARINT: Core's bit patterns (MSB first, one less per continuation byte)", () => {
  const vectors: [bigint, string][] = [
    [0n, "00"],
    [0x7fn, "7f"],
    [0x80n, "8000"],
    [0x1234n, "a334"],
    [0xffffn, "82fe7f"],
    [0x123456n, "c7e756"],
    [0x80123456n, "86ffc7e756"],
    [0xffffffffn, "8efefefe7f"],
    [0x7fffffffffffffffn, "fefefefefefefefe7f"],
    [0xffffffffffffffffn, "80fefefefefefefefe7f"],
  ];
  for (const [value, bytes] of vectors) assertEquals(hex.encode(encodeVarInt(value)), bytes);
});

Deno.test("CompressAmount: Core's vectors, and DecompressAmount undoes it", () => {
  const vectors: [bigint, bigint][] = [
    [0n, 0x0n],
    [1n, 0x1n],
    [1_000_000n, 0x7n],
    [COIN, 0x9n],
    [50n * COIN, 0x32n],
    [21_000_000n * COIN, 0x1406f40n],
  ];
  for (const [amount, compressed] of vectors) {
    assertEquals(compressAmount(amount), compressed);
    assertEquals(decompressAmount(compressed), amount);
  }
  for (let i = 0n; i < 100_000n; i += 7n) {
    assertEquals(decompressAmount(compressAmount(i)), i);
    assertEquals(decompressAmount(compressAmount(i * COIN)), i * COIN);
  }
});

Deno.test("ScriptCompression: the special kinds are 21 or 33 bytes and come back whole", () => {
  const key = new TestKey(5);
  const uncompressed = secp256k1.getPublicKey(key.secret, false);
  const p2sh = Uint8Array.of(0xa9, 20, ...new Uint8Array(20).fill(3), 0x87);
  const cases: [Uint8Array, string][] = [
    [key.pkh, "00" + hex.encode(key.pkh.subarray(3, 23))],
    [p2sh, "01" + "03".repeat(20)],
    [Uint8Array.of(33, ...key.publicKey, 0xac), hex.encode(key.publicKey)],
    [
      Uint8Array.of(65, ...uncompressed, 0xac),
      hex.encode(Uint8Array.of(4 | (uncompressed[64] & 1), ...uncompressed.subarray(1, 33))),
    ],
    [key.wpkh, "1c" + hex.encode(key.wpkh)],
    [key.tr, "28" + hex.encode(key.tr)],
    [new Uint8Array(), "06"],
  ];
  const coins: [Uint8Array, number, Coin][] = cases.map(([script], i) => [
    new Uint8Array(32).fill(1),
    i,
    coin(script),
  ]);
  const { coins: decoded } = decodeSnapshot(snapshotOf(coins), REGTEST_MAGIC);
  for (const [i, [script, compressed]] of cases.entries()) {
    assertEquals(hex.encode(compressScript(script)), compressed);
    assertEquals(hex.encode(decoded[i][1].script), hex.encode(script));
  }
  // An uncompressed "key" off the curve, or a compressed-looking one with a bad prefix: as is.
  const offCurve = Uint8Array.of(65, 4, ...new Uint8Array(63), 1, 0xac);
  assertEquals(compressScript(offCurve)[0], 67 + 6);
  const hybrid = Uint8Array.of(33, 6, ...new Uint8Array(32).fill(1), 0xac);
  assertEquals(compressScript(hybrid)[0], 35 + 6);
});

Deno.test("Coin: VARINT(height * 2 + coinbase), compressed amount, compressed script", () => {
  const key = new TestKey(6);
  assertEquals(
    hex.encode(encodeCoin(coin(key.pkh, 50n * COIN, 1, true))),
    "03" + "32" + "00" + hex.encode(key.pkh.subarray(3, 23)),
  );
  // Height 200: code 400 = 0x190, VARINT 82 10.
  assertEquals(hex.encode(encodeCoin(coin(key.wpkh, 0n, 200)).subarray(0, 3)), "821000");
});

Deno.test("metadata: Core's layout, and SnapshotMetadata::Unserialize's checks in order", () => {
  const metadata = encodeSnapshotMetadata({
    networkMagic: REGTEST_MAGIC,
    baseBlockHash: new Uint8Array(32).fill(0xaa),
    coinsCount: 0x0102030405n,
  });
  assertEquals(
    hex.encode(metadata),
    "7574786fff0200fabfb5da" + "aa".repeat(32) + "0504030201000000",
  );
  const read = readSnapshotMetadata(metadata, REGTEST_MAGIC);
  assertEquals(read.coinsCount, 0x0102030405n);
  const fails = (bytes: Uint8Array, what: string) => {
    const error = assertThrows(
      () => readSnapshotMetadata(bytes, REGTEST_MAGIC),
      SnapshotFormatError,
    );
    assert(error.message.startsWith(what), error.message);
    assert(error.message.endsWith(": iostream error"), error.message);
  };
  const withBytes = (at: number, bytes: number[]) => {
    const copy = metadata.slice();
    copy.set(bytes, at);
    return copy;
  };
  fails(metadata.subarray(0, 50), "AutoFile::read: end of file");
  fails(withBytes(4, [0xfe]), "Invalid UTXO set snapshot magic bytes");
  fails(
    withBytes(5, [1, 0]),
    "Version of snapshot 1 does not match any of the supported versions.",
  );
  fails(withBytes(5, [2, 1]), "Version of snapshot 258 does not match");
  fails(
    withBytes(7, [0x0b, 0x11, 0x09, 0x07]),
    "The network of the snapshot (test) does not match the network of this node (regtest).",
  );
  fails(withBytes(7, [1, 2, 3, 4]), "This snapshot has been created for an unrecognized network.");
});

Deno.test("decodeSnapshot: grouping per txid, and the refusals of bad files", () => {
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);
  const key = new TestKey(7);
  const coins: [Uint8Array, number, Coin][] = [
    [a, 0, coin(key.wpkh)],
    [a, 300, coin(key.pkh, 1n, 2, true)],
    [b, 1, coin(key.tr, 21_000_000n * COIN, 0)],
  ];
  const file = snapshotOf(coins);
  // a: txid, count 2, index 0 and coin, index fd2c01 and coin; then b likewise with one coin.
  assertEquals(hex.encode(file.subarray(51, 84)), "01".repeat(32) + "02");
  const { coins: decoded } = decodeSnapshot(file, REGTEST_MAGIC);
  assertEquals(
    decoded.map(([o, c]) => [o.index, c.amount, c.height, c.coinbase]),
    [[0, COIN, 7, false], [300, 1n, 2, true], [1, 21_000_000n * COIN, 0, false]],
  );
  assertThrows(
    () => decodeSnapshot(file.subarray(0, file.length - 1), REGTEST_MAGIC),
    SnapshotFormatError,
    "AutoFile::read: end of file",
  );
  assertThrows(
    () => decodeSnapshot(snapshotOf(coins, 4), REGTEST_MAGIC),
    SnapshotFormatError,
    "AutoFile::read: end of file",
  );
  assertThrows(
    () => decodeSnapshot(snapshotOf(coins, 2), REGTEST_MAGIC),
    Error,
    "Bad snapshot - coins left over after deserializing 2 coins.",
  );
  assertThrows(
    () => decodeSnapshot(snapshotOf(coins, 1), REGTEST_MAGIC),
    Error,
    "Mismatch in coins count in snapshot metadata and actual snapshot data",
  );
  // A VARINT too large for the coin's 32-bit code.
  const huge = file.slice(0, 51 + 34);
  const tooLarge = new Uint8Array([...huge, 0x8f, 0xff, 0xff, 0xff, 0xff, 0x7f]);
  assertThrows(
    () => decodeSnapshot(tooLarge, REGTEST_MAGIC),
    SnapshotFormatError,
    "ReadVarInt(): size too large",
  );
});

Deno.test("SnapshotWriter: a transaction's coins in Core's database key order (its VARINT bytes)", () => {
  const txid = new Uint8Array(32).fill(3);
  const key = new TestKey(9);
  const indexes = [256, 1, 16512, 127, 128];
  const written: number[] = [];
  const file: Uint8Array[] = [];
  const writer = new SnapshotWriter((bytes) => file.push(bytes.slice()));
  writer.writeMetadata({
    networkMagic: REGTEST_MAGIC,
    baseBlockHash: new Uint8Array(32),
    coinsCount: BigInt(indexes.length),
  });
  for (const index of indexes) writer.add({ txid, index }, coin(key.wpkh));
  writer.finish();
  const { coins } = decodeSnapshot(
    new Uint8Array(file.flatMap((chunk) => [...chunk])),
    REGTEST_MAGIC,
  );
  for (const [outpoint] of coins) written.push(outpoint.index);
  // 01, 7f, 80 00 (128), 80 80 00 (16512), 81 00 (256).
  assertEquals(written, [1, 127, 128, 16512, 256]);
});

Deno.test("SnapshotWriter: bounded chunks, however many coins", () => {
  const sizes: number[] = [];
  const writer = new SnapshotWriter((bytes) => sizes.push(bytes.length));
  writer.writeMetadata({
    networkMagic: REGTEST_MAGIC,
    baseBlockHash: new Uint8Array(32),
    coinsCount: 20_000n,
  });
  const key = new TestKey(8);
  for (let i = 0; i < 20_000; i++) {
    const txid = new Uint8Array(32);
    new DataView(txid.buffer).setUint32(0, i);
    writer.add({ txid, index: 0 }, coin(key.wpkh));
  }
  writer.finish();
  assertEquals(writer.coinsWritten, 20_000);
  assertEquals(sizes.every((size) => size <= SNAPSHOT_CHUNK_SIZE), true);
  assertEquals(sizes.length > 10, true);
});
