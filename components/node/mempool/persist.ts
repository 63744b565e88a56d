/**
 * Bitcoin Core's `mempool.dat` (`node/mempool_persist.cpp`): the mempool
 * kept across restarts in `<datadir>/regtest/mempool.dat`, and the files
 * `importmempool` takes, in the format bitcoind v30 writes and reads — a
 * version (1, or 2 with an 8-byte XOR key obfuscating everything after
 * it), the transactions with their arrival times and fee deltas, the
 * fee-delta map, and the unbroadcast txids. Files are written beside the
 * target (`.new`) and renamed over it.
 *
 * {@linkcode MempoolFileReader} reads a file as Core's `LoadMempool` does:
 * one transaction at a time, then the fee deltas, then the unbroadcast set,
 * failing with Core's words (`e.what()`) where Core's deserializer throws;
 * reading a transaction pauses now and then, for a caller that must keep
 * answering while it reads.
 * Whatever a hostile file claims, reading allocates in proportion to what
 * it holds: a count or length is never trusted beyond the bytes left (and
 * never past Core's `MAX_SIZE`), a transaction's extent is found by walking
 * its serialization without building it, and one too large for any mempool
 * is not built at all (its txid is still known, as Core's counts need it).
 *
 * @example
 * ```ts
 * import { encodeMempoolDump, readMempoolDump } from "./persist.ts";
 * const bytes = encodeMempoolDump({ entries: [], deltas: [], unbroadcast: [] });
 * const read = readMempoolDump(bytes);
 * if (read?.entries.length !== 0 || read.error !== undefined) throw new Error("round trip");
 * const cut = readMempoolDump(bytes.subarray(0, 20));
 * if (cut?.error !== "AutoFile::read: end of file: iostream error") throw new Error(cut?.error);
 * ```
 * @module
 */
import * as P from "micro-packed";
import { RawTx } from "@scure/btc-signer";
import { CompactSizeLen } from "@scure/btc-signer/script.js";
import { decodeTx, encodeTx, type Hash, sha256d, type Tx } from "../chain/mod.ts";

/** The file's name inside `<datadir>/regtest/`. */
export const MEMPOOL_FILE = "mempool.dat";

const VERSION_NO_XOR_KEY = 1n;
const VERSION_XOR_KEY = 2n;
const KEY_SIZE = 8;
/** Core's `MAX_SIZE`: `ReadCompactSize` refuses a larger count or length. */
const MAX_SIZE = 0x02000000;
/** A fee-delta record: txid and 64-bit delta. */
const DELTA_SIZE = 40;
/** An unbroadcast record: a txid. */
const TXID_SIZE = 32;

/** What a `mempool.dat` holds. */
export interface MempoolDump {
  /** Transactions, parents first, with arrival time (UNIX seconds) and fee delta. */
  readonly entries: readonly { tx: Tx; time: bigint; feeDelta: bigint }[];
  /** `prioritisetransaction` deltas of transactions not in the mempool. */
  readonly deltas: readonly { txid: Hash; delta: bigint }[];
  /** Txids (internal byte order) still waiting for their first announcement. */
  readonly unbroadcast: readonly Hash[];
}

const TxCoder = P.wrap<Tx>({
  encodeStream: (writer, tx) => writer.bytes(encodeTx(tx)),
  decodeStream: (reader) => RawTx.decodeStream(reader) as Tx,
});

const Entry = P.struct({ tx: TxCoder, time: P.I64LE, feeDelta: P.I64LE });
const Deltas = P.array(CompactSizeLen, P.struct({ txid: P.bytes(32), delta: P.I64LE }));
const Unbroadcast = P.array(CompactSizeLen, P.bytes(32));

/** The body after the version (and key): a 64-bit count, the entries, the fee deltas, the unbroadcast txids. */
function encodeBody(dump: MempoolDump): Uint8Array {
  return P.wrap<MempoolDump>({
    encodeStream(writer, value) {
      P.U64LE.encodeStream(writer, BigInt(value.entries.length));
      for (const entry of value.entries) Entry.encodeStream(writer, { ...entry });
      Deltas.encodeStream(writer, value.deltas.map((delta) => ({ ...delta })));
      Unbroadcast.encodeStream(writer, [...value.unbroadcast]);
    },
    decodeStream() {
      throw new Error("read with MempoolFileReader");
    },
  }).encode(dump);
}

/** XORs `bytes` in place with `key`, as if `bytes[0]` sat at file offset `offset`. */
function obfuscate(bytes: Uint8Array, key: Uint8Array, offset: number): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] ^= key[(offset + i) % KEY_SIZE];
}

/**
 * Serializes a dump as version 2, obfuscated with `key` (random by
 * default), as v30 does; with a null key, as version 1, in the clear
 * (`-persistmempoolv1`).
 */
export function encodeMempoolDump(
  dump: MempoolDump,
  key: Uint8Array | null = crypto.getRandomValues(new Uint8Array(KEY_SIZE)),
): Uint8Array {
  const header = key === null
    ? P.U64LE.encode(VERSION_NO_XOR_KEY)
    : P.struct({ version: P.U64LE, key: P.bytes(CompactSizeLen) })
      .encode({ version: VERSION_XOR_KEY, key });
  const body = encodeBody(dump);
  if (key !== null) obfuscate(body, key, header.length);
  const file = new Uint8Array(header.length + body.length);
  file.set(header);
  file.set(body, header.length);
  return file;
}

/** Why reading stopped, in the words of Core's exception (`e.what()`). */
export class MempoolFileError extends Error {
  override name = "MempoolFileError";
}

/** Core's `e.what()` for a read past the end of the file (`std::ios_base::failure` of `AutoFile::read`). */
const END_OF_FILE = "AutoFile::read: end of file: iostream error";

/** A `std::ios_base::failure` Core's deserializer throws, as libstdc++ words it. */
const iosFailure = (what: string) => new MempoolFileError(`${what}: iostream error`);

/** A position in the (deobfuscated) file, reading as Core's stream operators do. */
class Cursor {
  readonly #view: DataView;

  constructor(readonly bytes: Uint8Array, public pos: number) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws Core's end-of-file failure unless `n` more bytes are there. */
  need(n: number): void {
    if (n > this.bytes.length - this.pos) throw new MempoolFileError(END_OF_FILE);
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }

  u64(): bigint {
    this.need(8);
    const value = this.#view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  i64(): bigint {
    this.need(8);
    const value = this.#view.getBigInt64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** Core's `ReadCompactSize` with its range check: canonical, at most `MAX_SIZE`. */
  compactSize(): number {
    const first = this.u8();
    let size: number;
    if (first < 253) return first;
    if (first === 253) {
      this.need(2);
      size = this.#view.getUint16(this.pos, true);
      this.pos += 2;
      if (size < 253) throw iosFailure("non-canonical ReadCompactSize()");
    } else if (first === 254) {
      this.need(4);
      size = this.#view.getUint32(this.pos, true);
      this.pos += 4;
      if (size < 0x10000) throw iosFailure("non-canonical ReadCompactSize()");
    } else {
      const wide = this.u64();
      if (wide < 0x100000000n) throw iosFailure("non-canonical ReadCompactSize()");
      throw iosFailure("ReadCompactSize(): size too large");
    }
    if (size > MAX_SIZE) throw iosFailure("ReadCompactSize(): size too large");
    return size;
  }

  /** A length-prefixed byte vector, skipped. */
  skipVector(): void {
    this.skip(this.compactSize());
  }
}

/** Items (inputs, outputs, witness items) a transaction walk takes between its pauses. */
const WALK_STEP = 1 << 16;

/**
 * Walks one transaction as Core's `UnserializeTransaction` reads it (with
 * witness), throwing where it throws, without building it: its extent, and
 * the byte ranges its txid commits to (all but the marker, flag and witness).
 * It pauses (yields) every {@linkcode WALK_STEP} items: a transaction can
 * span the whole file, in millions of one-byte witness items.
 */
function* walkTx(c: Cursor): Generator<void, { start: number; end: number; txid: Hash }> {
  const start = c.pos;
  c.skip(4); // version
  let bodyStart = c.pos;
  let steps = 0;
  function* inputsOf(count: number) {
    for (let i = 0; i < count; i++) {
      c.skip(36); // prevout
      c.skipVector(); // scriptSig
      c.skip(4); // sequence
      if (++steps % WALK_STEP === 0) yield;
    }
  }
  function* outputsOf(count: number) {
    for (let i = 0; i < count; i++) {
      c.skip(8); // value
      c.skipVector(); // scriptPubKey
      if (++steps % WALK_STEP === 0) yield;
    }
  }
  let inputs = c.compactSize();
  let flags = 0;
  if (inputs === 0) {
    // The BIP 144 marker, or a transaction without inputs (and then without outputs).
    flags = c.u8();
    if (flags !== 0) {
      bodyStart = c.pos;
      inputs = c.compactSize();
      yield* inputsOf(inputs);
      yield* outputsOf(c.compactSize());
    }
  } else {
    yield* inputsOf(inputs);
    yield* outputsOf(c.compactSize());
  }
  const bodyEnd = c.pos;
  if (flags & 1) {
    flags ^= 1;
    let witnessed = false;
    for (let i = 0; i < inputs; i++) {
      const items = c.compactSize();
      if (items > 0) witnessed = true;
      for (let j = 0; j < items; j++) {
        c.skipVector();
        if (++steps % WALK_STEP === 0) yield;
      }
    }
    if (!witnessed) throw iosFailure("Superfluous witness record");
  }
  if (flags !== 0) throw iosFailure("Unknown transaction optional data");
  c.skip(4); // lock time
  const { bytes } = c;
  const txid = sha256d(
    bytes.subarray(start, start + 4),
    bytes.subarray(bodyStart, bodyEnd),
    bytes.subarray(c.pos - 4, c.pos),
  );
  return { start, end: c.pos, txid };
}

/** Runs a walk to its end without pausing. */
export function walkThrough<T>(walk: Generator<void, T>): T {
  for (;;) {
    const step = walk.next();
    if (step.done) return step.value;
  }
}

/** One transaction of the file with its metadata. */
export interface MempoolFileEntry {
  /** Its txid (internal byte order). */
  readonly txid: Hash;
  /**
   * The transaction; null when it is larger than the reader was asked to
   * build, or its bytes, framed as Core frames them, do not decode here:
   * either way no mempool accepts it.
   */
  readonly tx: Tx | null;
  /** Arrival time (UNIX seconds) as written. */
  readonly time: bigint;
  /** Fee delta (satoshis) as written. */
  readonly feeDelta: bigint;
}

/**
 * Fixed-size records of the file (the fee deltas or the unbroadcast txids),
 * read in place: each a 32-byte txid, then for fee deltas a 64-bit delta.
 */
export class MempoolFileRecords {
  readonly #bytes: Uint8Array;
  readonly #base: number;
  readonly #stride: number;
  /** How many records the file lists (duplicates included). */
  readonly count: number;

  constructor(bytes: Uint8Array, base: number, stride: number, count: number) {
    this.#bytes = bytes;
    this.#base = base;
    this.#stride = stride;
    this.count = count;
  }

  /** The `i`th record's txid (a copy, internal byte order). */
  txid(i: number): Hash {
    const at = this.#base + i * this.#stride;
    return this.#bytes.slice(at, at + TXID_SIZE);
  }

  /** The `i`th record's 64-bit value after its txid (the fee delta). */
  value(i: number): bigint {
    const at = this.#base + i * this.#stride + TXID_SIZE;
    return new DataView(this.#bytes.buffer, this.#bytes.byteOffset + at, 8).getBigInt64(0, true);
  }

  /**
   * The records as Core's `std::map`/`std::set` keeps them: the first of
   * each txid (a later duplicate is dropped), in txid byte order. A stable
   * radix sort over the txids' bytes, in typed arrays (no object per
   * record); `pause` is awaited between its passes.
   */
  async distinct(pause: () => Promise<void> = () => Promise.resolve()): Promise<number[]> {
    const { count } = this;
    let order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    if (count < 2) return [...order];
    let scratch = new Uint32Array(count);
    const buckets = new Uint32Array(257);
    const bytes = this.#bytes;
    for (let b = TXID_SIZE - 1; b >= 0; b--) {
      const offset = this.#base + b;
      buckets.fill(0);
      for (let i = 0; i < count; i++) buckets[bytes[offset + order[i] * this.#stride] + 1]++;
      for (let k = 0; k < 256; k++) buckets[k + 1] += buckets[k];
      for (let i = 0; i < count; i++) {
        const record = order[i];
        scratch[buckets[bytes[offset + record * this.#stride]]++] = record;
      }
      [order, scratch] = [scratch, order];
      await pause();
    }
    const kept: number[] = [order[0]];
    for (let i = 1; i < count; i++) {
      const a = this.#base + order[i - 1] * this.#stride;
      const b = this.#base + order[i] * this.#stride;
      let same = true;
      for (let k = 0; k < TXID_SIZE && same; k++) same = bytes[a + k] === bytes[b + k];
      if (!same) kept.push(order[i]);
    }
    return kept;
  }
}

/**
 * Reads a `mempool.dat` in Core's order, one part at a time: the version
 * (on construction; a file of another version is {@linkcode supported}
 * false, which Core skips without a word), then {@linkcode start} (the key
 * and the transaction count), {@linkcode nextEntry} per transaction,
 * {@linkcode readDeltas}, {@linkcode readUnbroadcast}. Every read throws a
 * {@linkcode MempoolFileError} where Core's would throw; bytes after the
 * unbroadcast set are ignored, as Core ignores them.
 */
export class MempoolFileReader {
  /** The file's version. */
  readonly version: bigint;
  readonly #cursor: Cursor;
  #announced: bigint | undefined;

  /**
   * A reader of `file`. With `inPlace` the obfuscated body is decoded in
   * `file` itself (the caller's own buffer); otherwise in a copy.
   */
  constructor(file: Uint8Array, options: { inPlace?: boolean } = {}) {
    this.#cursor = new Cursor(options.inPlace ? file : file.slice(), 0);
    this.version = this.#cursor.u64();
  }

  /** Whether Core reads files of this version (1 and 2). */
  get supported(): boolean {
    return this.version === VERSION_NO_XOR_KEY || this.version === VERSION_XOR_KEY;
  }

  /** The number of transactions the file announces, once {@linkcode start} read it. */
  get announced(): bigint | undefined {
    return this.#announced;
  }

  /** Reads the XOR key (version 2), deobfuscates the rest, and reads the transaction count. */
  start(): bigint {
    const c = this.#cursor;
    if (this.version === VERSION_XOR_KEY) {
      const size = c.compactSize();
      if (size !== KEY_SIZE) throw new MempoolFileError(`obfuscation key of ${size} bytes`);
      c.need(KEY_SIZE);
      const key = c.bytes.slice(c.pos, c.pos + KEY_SIZE);
      c.pos += KEY_SIZE;
      obfuscate(c.bytes.subarray(c.pos), key, c.pos);
    }
    return this.#announced = c.u64();
  }

  /**
   * The next transaction with its arrival time and fee delta, as a walk
   * that pauses (yields) now and then in a long transaction: drive it to
   * its end (or {@linkcode walkThrough}). A transaction of more than
   * `maxTxBytes` serialized bytes is walked and hashed but not built
   * (`tx` null).
   */
  *nextEntry(maxTxBytes = Infinity): Generator<void, MempoolFileEntry> {
    const c = this.#cursor;
    const { start, end, txid } = yield* walkTx(c);
    let tx: Tx | null = null;
    if (end - start <= maxTxBytes) {
      try {
        // A copy: the transaction must not keep the whole file alive.
        tx = decodeTx(c.bytes.slice(start, end));
      } catch {
        tx = null;
      }
    }
    return { txid, tx, time: c.i64(), feeDelta: c.i64() };
  }

  /** The fee-delta map's records (a count, then txid and delta each). */
  readDeltas(): MempoolFileRecords {
    return this.#records(DELTA_SIZE);
  }

  /** The unbroadcast set's records (a count, then txids). */
  readUnbroadcast(): MempoolFileRecords {
    return this.#records(TXID_SIZE);
  }

  #records(stride: number): MempoolFileRecords {
    const c = this.#cursor;
    const count = c.compactSize();
    // Core reads them one by one until the end of the file: all there, or that failure.
    c.need(count * stride);
    const records = new MempoolFileRecords(c.bytes, c.pos, stride, count);
    c.pos += count * stride;
    return records;
  }
}

/**
 * A `mempool.dat` as far as it decodes: Core's `LoadMempool` reads the
 * transactions one by one, so those before a damaged one are kept; the
 * fee deltas and unbroadcast txids only count when the whole file decoded.
 */
export interface MempoolFileContent extends MempoolDump {
  /** The number of transactions the file announces (Core logs it), once read. */
  readonly announced?: bigint;
  /**
   * Why reading stopped early, as Core's exception words it
   * (`AutoFile::read: end of file: iostream error` for a cut file);
   * undefined when the file decoded to its end.
   */
  readonly error?: string;
}

/**
 * Reads a whole `mempool.dat` of version 1 or 2 with {@linkcode MempoolFileReader}
 * (see {@linkcode MempoolFileContent}); the records in file order, duplicates
 * kept. Null for a file of another version, which Core skips without a word.
 * A transaction framed as Core frames it that does not decode here ends the
 * reading like damage. For files in hand (tests, tools): the mempool reads
 * with the reader itself, one transaction at a time.
 */
export function readMempoolDump(file: Uint8Array): MempoolFileContent | null {
  const entries: { tx: Tx; time: bigint; feeDelta: bigint }[] = [];
  let reader: MempoolFileReader | undefined;
  try {
    reader = new MempoolFileReader(file);
    if (!reader.supported) return null;
    const announced = reader.start();
    for (let i = 0n; i < announced; i++) {
      const { tx, time, feeDelta } = walkThrough(reader.nextEntry());
      if (tx === null) throw new MempoolFileError("a transaction this node does not decode");
      entries.push({ tx, time, feeDelta });
    }
    const deltaRecords = reader.readDeltas();
    const deltas = Array.from(
      { length: deltaRecords.count },
      (_, i) => ({ txid: deltaRecords.txid(i), delta: deltaRecords.value(i) }),
    );
    const unbroadcastRecords = reader.readUnbroadcast();
    const unbroadcast = Array.from(
      { length: unbroadcastRecords.count },
      (_, i) => unbroadcastRecords.txid(i),
    );
    return { entries, deltas, unbroadcast, announced };
  } catch (error) {
    if (!(error instanceof MempoolFileError)) throw error;
    const announced = reader?.announced;
    return {
      entries,
      deltas: [],
      unbroadcast: [],
      ...(announced === undefined ? {} : { announced }),
      error: error.message,
    };
  }
}
