/**
 * Bitcoin Core's UTXO snapshot format (`dumptxoutset`/`loadtxoutset`,
 * v30): the {@linkcode SnapshotMetadata} header (`node/utxo_snapshot.h`:
 * magic `utxo\xff`, version 2, the network magic, the base block hash, the
 * coin count), then per transaction id (in the coins database's key
 * order) the txid, a CompactSize count and per coin a CompactSize output
 * index and the `Coin` serialization: Core's `VARINT(height * 2 +
 * coinbase)` and `TxOutCompression` — `VARINT(CompressAmount(value))` and
 * `ScriptCompression` (`compressor.cpp`, `coins.h`, `serialize.h`).
 *
 * {@linkcode SnapshotWriter} streams a snapshot to a sink in bounded
 * chunks; {@linkcode readSnapshotMetadata} parses the header with the
 * checks and texts of Core's `SnapshotMetadata::Unserialize`, and
 * {@linkcode decodeSnapshot} reads a whole snapshot back.
 *
 * @example
 * ```ts
 * import { decodeSnapshot, REGTEST_MAGIC, SnapshotWriter } from "./snapshot.ts";
 * const chunks: Uint8Array[] = [];
 * const writer = new SnapshotWriter((bytes) => chunks.push(bytes.slice()));
 * const base = new Uint8Array(32).fill(7);
 * writer.writeMetadata({ networkMagic: REGTEST_MAGIC, baseBlockHash: base, coinsCount: 1n });
 * const p2pkh = Uint8Array.of(0x76, 0xa9, 20, ...new Uint8Array(20).fill(9), 0x88, 0xac);
 * writer.add({ txid: new Uint8Array(32).fill(1), index: 3 }, {
 *   amount: 5_000_000_000n, script: p2pkh, height: 1, coinbase: true,
 * });
 * writer.finish();
 * const file = Uint8Array.from(chunks.flatMap((c) => [...c]));
 * // 51 bytes of metadata, then txid, 1 coin, index 3, VARINT(3), VARINT(50), 0x00 + key hash.
 * if (file.length !== 51 + 32 + 1 + 1 + 1 + 1 + 21) throw new Error(`${file.length}`);
 * const { metadata, coins } = decodeSnapshot(file, REGTEST_MAGIC);
 * if (metadata.coinsCount !== 1n || coins[0][0].index !== 3) throw new Error("decoded");
 * if (coins[0][1].amount !== 5_000_000_000n || coins[0][1].script.length !== 25) {
 *   throw new Error("coin");
 * }
 * ```
 * @module
 */
import { compareBytes } from "../../bitcoin/bytes.ts";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { CompactSizeLen } from "@scure/btc-signer/script.js";
import type { Coin } from "./coins.ts";
import { bytesEqual, type Hash, hashToHex } from "./hash.ts";
import { isFullyValidPubKey } from "./keys.ts";
import type { OutPoint } from "./tx.ts";

/** `SNAPSHOT_MAGIC_BYTES`: `utxo` and 0xff. */
export const SNAPSHOT_MAGIC_BYTES: Uint8Array = Uint8Array.of(0x75, 0x74, 0x78, 0x6f, 0xff);

/** `SnapshotMetadata::VERSION`, the only version Core v30 writes and reads. */
export const SNAPSHOT_VERSION = 2;

/** The metadata's size: magic (5), version (2), network magic (4), base hash (32), count (8). */
export const SNAPSHOT_METADATA_SIZE = 51;

/** Regtest's network magic (`pchMessageStart`), `fabfb5da`. */
export const REGTEST_MAGIC: Uint8Array = Uint8Array.of(0xfa, 0xbf, 0xb5, 0xda);

/**
 * The networks `GetNetworkForMagic` recognises, by `ChainTypeToString`
 * name, in the order it compares them (signet's is the default signet's).
 */
export const NETWORK_MAGICS: readonly (readonly [string, Uint8Array])[] = [
  ["main", Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9)],
  ["test", Uint8Array.of(0x0b, 0x11, 0x09, 0x07)],
  ["testnet4", Uint8Array.of(0x1c, 0x16, 0x3f, 0x28)],
  ["regtest", REGTEST_MAGIC],
  ["signet", Uint8Array.of(0x0a, 0x03, 0xcf, 0x40)],
];

/** One entry of a chain's `m_assumeutxo_data` (`AssumeutxoData`), hashes as Core prints them. */
export interface AssumeutxoData {
  readonly height: number;
  /** `hash_serialized` of the UTXO set at the block (display order). */
  readonly hashSerialized: string;
  /** Transactions in the chain up to and including the block. */
  readonly chainTxCount: number;
  /** The block's hash (display order). */
  readonly blockHash: string;
}

/** Regtest's `m_assumeutxo_data` in Core v30's `kernel/chainparams.cpp`. */
export const REGTEST_ASSUMEUTXO: readonly AssumeutxoData[] = [
  {
    height: 110,
    hashSerialized: "b952555c8ab81fec46f3d4253b7af256d766ceb39fb7752b9d18cdf4a0141327",
    chainTxCount: 111,
    blockHash: "6affe030b7965ab538f820a56ef56c8149b7dc1d1c144af57113be080db7c397",
  },
  {
    height: 200,
    hashSerialized: "17dcc016d188d16068907cdeb38b75691a118d43053b8cd6a25969419381d13a",
    chainTxCount: 201,
    blockHash: "385901ccbd69dff6bbd00065d01fb8a9e464dede7cfe0372443884f9b1dcf6b9",
  },
  {
    height: 299,
    hashSerialized: "d2b051ff5e8eef46520350776f4100dd710a63447a8e01d917e92e79751a63e2",
    chainTxCount: 334,
    blockHash: "7cc695046fec709f8c9394b6f928f81e81fd3ac20977bb68760fa1faa7916ea2",
  },
];

/** What a snapshot's header says (`node::SnapshotMetadata`). */
export interface SnapshotMetadata {
  readonly networkMagic: Uint8Array;
  /** The base block's hash, internal byte order. */
  readonly baseBlockHash: Hash;
  readonly coinsCount: bigint;
}

/**
 * A `std::ios_base::failure` of Core's deserialisation; `message` is its
 * `what()` as libstdc++ words it (the text, then `: iostream error`).
 */
export class SnapshotFormatError extends Error {
  override name = "SnapshotFormatError";

  /** The failure Core throws with `what`. */
  constructor(what: string) {
    super(`${what}: iostream error`);
  }
}

/** `AutoFile::read`'s failure at the end of the file. */
const END_OF_FILE = "AutoFile::read: end of file";
/** `MAX_SCRIPT_SIZE`. */
const MAX_SCRIPT_SIZE = 10_000;
/** `ScriptCompression::nSpecialScripts`. */
const SPECIAL_SCRIPTS = 6;
const U32_MAX = 0xffff_ffffn;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Core's `WriteVarInt` (MSB-first base 128, each continuation one less): its bytes. */
export function encodeVarInt(value: bigint | number): Uint8Array {
  let n = BigInt(value);
  if (n < 0n) throw new RangeError("VARINT of a negative number");
  const bytes: number[] = [];
  for (let len = 0;; len++) {
    bytes.push(Number(n & 0x7fn) | (len ? 0x80 : 0));
    if (n <= 0x7fn) break;
    n = (n >> 7n) - 1n;
  }
  return Uint8Array.from(bytes.reverse());
}

/** Core's `CompressAmount`. */
export function compressAmount(amount: bigint): bigint {
  let n = amount;
  if (n === 0n) return 0n;
  let e = 0n;
  while (n % 10n === 0n && e < 9n) {
    n /= 10n;
    e++;
  }
  if (e < 9n) {
    const d = n % 10n;
    n /= 10n;
    return 1n + (n * 9n + d - 1n) * 10n + e;
  }
  return 1n + (n - 1n) * 10n + 9n;
}

/** Core's `DecompressAmount` (wrapping at 64 bits as Core's `uint64_t` does). */
export function decompressAmount(x: bigint): bigint {
  if (x === 0n) return 0n;
  x--;
  let e = x % 10n;
  x /= 10n;
  let n: bigint;
  if (e < 9n) {
    const d = (x % 9n) + 1n;
    x /= 9n;
    n = (x * 10n + d) & U64_MAX;
  } else {
    n = x + 1n;
  }
  for (; e > 0n; e--) n = (n * 10n) & U64_MAX;
  return BigInt.asIntN(64, n);
}

/**
 * `ScriptCompression`'s serialization of an output script: 21 bytes for
 * P2PKH (0x00) and P2SH (0x01), 33 for P2PK with a compressed key
 * (0x02/0x03 and x) or a valid uncompressed one (0x04 | parity of y, and
 * x); otherwise `VARINT(length + 6)` and the script.
 */
export function compressScript(script: Uint8Array): Uint8Array {
  const s = script;
  if (
    s.length === 25 && s[0] === 0x76 && s[1] === 0xa9 && s[2] === 20 && s[23] === 0x88 &&
    s[24] === 0xac
  ) {
    return Uint8Array.of(0x00, ...s.subarray(3, 23));
  }
  if (s.length === 23 && s[0] === 0xa9 && s[1] === 20 && s[22] === 0x87) {
    return Uint8Array.of(0x01, ...s.subarray(2, 22));
  }
  if (s.length === 35 && s[0] === 33 && s[34] === 0xac && (s[1] === 2 || s[1] === 3)) {
    return s.slice(1, 34);
  }
  if (
    s.length === 67 && s[0] === 65 && s[66] === 0xac && s[1] === 4 &&
    isFullyValidPubKey(s.subarray(1, 66))
  ) {
    return Uint8Array.of(0x04 | (s[65] & 1), ...s.subarray(2, 34));
  }
  return concatBytes(encodeVarInt(s.length + SPECIAL_SCRIPTS), s);
}

/** `Coin::Serialize`: `VARINT(height * 2 + coinbase)`, then the compressed output. */
export function encodeCoin(coin: Coin): Uint8Array {
  return concatBytes(
    encodeVarInt(BigInt(coin.height) * 2n + (coin.coinbase ? 1n : 0n)),
    encodeVarInt(compressAmount(coin.amount)),
    compressScript(coin.script),
  );
}

/** `SnapshotMetadata::Serialize`: the 51-byte header. */
export function encodeSnapshotMetadata(metadata: SnapshotMetadata): Uint8Array {
  const out = new Uint8Array(SNAPSHOT_METADATA_SIZE);
  const view = new DataView(out.buffer);
  out.set(SNAPSHOT_MAGIC_BYTES);
  view.setUint16(5, SNAPSHOT_VERSION, true);
  out.set(metadata.networkMagic, 7);
  out.set(metadata.baseBlockHash, 11);
  view.setBigUint64(43, metadata.coinsCount, true);
  return out;
}

/** How many bytes {@linkcode SnapshotWriter} gathers before handing them to its sink. */
export const SNAPSHOT_CHUNK_SIZE = 64 * 1024;

/**
 * Writes a snapshot as Core's `WriteUTXOSnapshot` does: the metadata,
 * then the coins, which must come in key order (txid bytes, then index),
 * grouped per txid. Bytes reach the sink in chunks of about
 * {@linkcode SNAPSHOT_CHUNK_SIZE} (the sink must copy them if it keeps
 * them); only one transaction's coins are held at a time.
 */
export class SnapshotWriter {
  readonly #sink: (bytes: Uint8Array) => void;
  readonly #buffer = new Uint8Array(SNAPSHOT_CHUNK_SIZE);
  #used = 0;
  #txid: Hash | undefined;
  #coins: [number, Coin][] = [];
  #written = 0;

  /** A writer handing its bytes to `sink`. */
  constructor(sink: (bytes: Uint8Array) => void) {
    this.#sink = sink;
  }

  /** Coins written so far (those of the transaction still gathering excluded). */
  get coinsWritten(): number {
    return this.#written;
  }

  /** Writes the header; call once, first. */
  writeMetadata(metadata: SnapshotMetadata): void {
    this.#write(encodeSnapshotMetadata(metadata));
  }

  /** Adds the next coin (a transaction's coins together, in any order). */
  add(outpoint: OutPoint, coin: Coin): void {
    if (this.#txid && !bytesEqual(this.#txid, outpoint.txid)) this.#flushCoins();
    this.#txid = outpoint.txid;
    this.#coins.push([outpoint.index, coin]);
  }

  /** Writes the last transaction's coins and hands over what is buffered. */
  finish(): void {
    this.#flushCoins();
    if (this.#used > 0) this.#sink(this.#buffer.subarray(0, this.#used));
    this.#used = 0;
  }

  #flushCoins(): void {
    if (!this.#txid || this.#coins.length === 0) return;
    // Core writes a transaction's coins in its database's key order, which sorts the encoded
    // VARINT of each index: not numeric order (16512, 80 80 00, comes before 256, 81 00).
    this.#coins.sort(([a], [b]) => compareBytes(encodeVarInt(a), encodeVarInt(b)));
    this.#write(this.#txid);
    this.#write(CompactSizeLen.encode(this.#coins.length));
    for (const [index, coin] of this.#coins) {
      this.#write(CompactSizeLen.encode(index));
      this.#write(encodeCoin(coin));
      this.#written++;
    }
    this.#coins = [];
  }

  #write(bytes: Uint8Array): void {
    if (this.#used + bytes.length > this.#buffer.length) {
      if (this.#used > 0) this.#sink(this.#buffer.subarray(0, this.#used));
      this.#used = 0;
      if (bytes.length > this.#buffer.length) {
        this.#sink(bytes);
        return;
      }
    }
    this.#buffer.set(bytes, this.#used);
    this.#used += bytes.length;
  }
}

/** A position in snapshot bytes, reading as Core's stream operators do. */
class Reader {
  pos: number;
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array, pos = 0) {
    this.#bytes = bytes;
    this.pos = pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.#bytes.length;
  }

  take(n: number): Uint8Array {
    if (n > this.#bytes.length - this.pos) throw new SnapshotFormatError(END_OF_FILE);
    const out = this.#bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** `ReadVarInt<I>` with `max` the type's maximum. */
  varInt(max: bigint): bigint {
    let n = 0n;
    for (;;) {
      const byte = this.take(1)[0];
      if (n > max >> 7n) throw new SnapshotFormatError("ReadVarInt(): size too large");
      n = (n << 7n) | BigInt(byte & 0x7f);
      if (!(byte & 0x80)) return n;
      if (n === max) throw new SnapshotFormatError("ReadVarInt(): size too large");
      n++;
    }
  }

  /** `ReadCompactSize` (range-checked to `MAX_SIZE`, canonical encodings only). */
  compactSize(): number {
    const first = this.take(1)[0];
    let n: bigint;
    let least: bigint;
    const view = (k: number) => {
      const b = this.take(k);
      return new DataView(b.buffer, b.byteOffset, k);
    };
    if (first < 0xfd) return first;
    if (first === 0xfd) [n, least] = [BigInt(view(2).getUint16(0, true)), 0xfdn];
    else if (first === 0xfe) [n, least] = [BigInt(view(4).getUint32(0, true)), 0x10000n];
    else [n, least] = [view(8).getBigUint64(0, true), 0x100000000n];
    if (n < least) throw new SnapshotFormatError("non-canonical ReadCompactSize()");
    if (n > 0x02000000n) throw new SnapshotFormatError("ReadCompactSize(): size too large");
    return Number(n);
  }
}

/** The name `GetNetworkForMagic` gives `magic`, if any. */
export function networkForMagic(magic: Uint8Array): string | undefined {
  return NETWORK_MAGICS.find(([, known]) => bytesEqual(known, magic))?.[0];
}

/**
 * `SnapshotMetadata::Unserialize` over the start of a file, for a node of
 * network `networkMagic`: throws {@linkcode SnapshotFormatError} with
 * Core's texts for bad magic bytes, an unsupported version, another or an
 * unknown network, or a file that ends early.
 */
export function readSnapshotMetadata(
  bytes: Uint8Array,
  networkMagic: Uint8Array,
): SnapshotMetadata {
  return readMetadata(new Reader(bytes), networkMagic);
}

function readMetadata(reader: Reader, networkMagic: Uint8Array): SnapshotMetadata {
  if (!bytesEqual(reader.take(5), SNAPSHOT_MAGIC_BYTES)) {
    throw new SnapshotFormatError(
      "Invalid UTXO set snapshot magic bytes. Please check if this is indeed a snapshot file or if you are using an outdated snapshot format.",
    );
  }
  const versionBytes = reader.take(2);
  const version = versionBytes[0] | (versionBytes[1] << 8);
  if (version !== SNAPSHOT_VERSION) {
    throw new SnapshotFormatError(
      `Version of snapshot ${version} does not match any of the supported versions.`,
    );
  }
  const magic = reader.take(4).slice();
  if (!bytesEqual(magic, networkMagic)) {
    const theirs = networkForMagic(magic);
    if (theirs !== undefined) {
      throw new SnapshotFormatError(
        `The network of the snapshot (${theirs}) does not match the network of this node (${
          networkForMagic(networkMagic)
        }).`,
      );
    }
    throw new SnapshotFormatError(
      "This snapshot has been created for an unrecognized network. This could be a custom signet, a new testnet or possibly caused by data corruption.",
    );
  }
  const baseBlockHash = reader.take(32).slice();
  const count = reader.take(8);
  const coinsCount = new DataView(count.buffer, count.byteOffset, 8).getBigUint64(0, true);
  return { networkMagic: magic, baseBlockHash, coinsCount };
}

/** `DecompressScript` (an empty script when a compressed key's x is not on the curve). */
function decompressScript(kind: number, data: Uint8Array): Uint8Array {
  switch (kind) {
    case 0:
      return Uint8Array.of(0x76, 0xa9, 20, ...data, 0x88, 0xac);
    case 1:
      return Uint8Array.of(0xa9, 20, ...data, 0x87);
    case 2:
    case 3:
      return Uint8Array.of(33, kind, ...data, 0xac);
    default: {
      try {
        const point = secp256k1.Point.fromBytes(Uint8Array.of(kind - 2, ...data));
        return Uint8Array.of(65, ...point.toBytes(false), 0xac);
      } catch {
        return new Uint8Array();
      }
    }
  }
}

/** `Coin::Unserialize` (`ScriptCompression::Unser` included). */
function readCoin(reader: Reader): Coin {
  const code = reader.varInt(U32_MAX);
  const amount = decompressAmount(reader.varInt(U64_MAX));
  const size = Number(reader.varInt(U32_MAX));
  let script: Uint8Array;
  if (size < SPECIAL_SCRIPTS) {
    script = decompressScript(size, reader.take(size < 2 ? 20 : 32));
  } else if (size - SPECIAL_SCRIPTS > MAX_SCRIPT_SIZE) {
    reader.take(size - SPECIAL_SCRIPTS);
    script = Uint8Array.of(0x6a);
  } else {
    script = reader.take(size - SPECIAL_SCRIPTS).slice();
  }
  return { amount, script, height: Number(code >> 1n), coinbase: (code & 1n) === 1n };
}

/**
 * A whole snapshot read back: its metadata and its coins in file order.
 * Throws {@linkcode SnapshotFormatError} for a bad header or a file that
 * ends early, and a plain `Error` when the coins do not add up to the
 * metadata's count or bytes are left over.
 */
export function decodeSnapshot(
  bytes: Uint8Array,
  networkMagic: Uint8Array,
): { metadata: SnapshotMetadata; coins: [OutPoint, Coin][] } {
  const reader = new Reader(bytes);
  const metadata = readMetadata(reader, networkMagic);
  const coins: [OutPoint, Coin][] = [];
  let left = metadata.coinsCount;
  while (left > 0n) {
    const txid = reader.take(32).slice();
    const count = reader.compactSize();
    if (BigInt(count) > left) {
      throw new Error("Mismatch in coins count in snapshot metadata and actual snapshot data");
    }
    for (let i = 0; i < count; i++) {
      const index = reader.compactSize();
      coins.push([{ txid, index }, readCoin(reader)]);
      left--;
    }
  }
  if (!reader.atEnd) {
    throw new Error(`Bad snapshot - coins left over after deserializing ${coins.length} coins.`);
  }
  return { metadata, coins };
}

/** The assumeutxo entry of regtest for a base block hash (internal order), if any. */
export function regtestAssumeutxoFor(baseBlockHash: Hash): AssumeutxoData | undefined {
  const shown = hashToHex(baseBlockHash);
  return REGTEST_ASSUMEUTXO.find((data) => data.blockHash === shown);
}
