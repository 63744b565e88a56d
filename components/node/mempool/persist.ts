/**
 * Bitcoin Core's `mempool.dat` (`node/mempool_persist.cpp`): the mempool
 * kept across restarts in `<datadir>/regtest/mempool.dat`, in the format
 * bitcoind v30 writes and reads — a version (1, or 2 with an 8-byte XOR key
 * obfuscating everything after it), the transactions with their arrival
 * times and fee deltas, the fee-delta map, and the unbroadcast txids. Files
 * are written beside the target (`.new`) and renamed over it. A damaged
 * file reads as Core's reader leaves it: what decoded before the damage.
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
import { encodeTx, type Hash, type Tx } from "../chain/mod.ts";

/** The file's name inside `<datadir>/regtest/`. */
export const MEMPOOL_FILE = "mempool.dat";

const VERSION_NO_XOR_KEY = 1n;
const VERSION_XOR_KEY = 2n;
const KEY_SIZE = 8;

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

/** What the body decoder has read so far (kept when a later part fails). */
interface BodyProgress {
  readonly entries: { tx: Tx; time: bigint; feeDelta: bigint }[];
  announced?: bigint;
}

/**
 * The body after the version (and key): a 64-bit transaction count, the
 * entries, the fee deltas, the unbroadcast txids. Decoding records its
 * progress in `progress` entry by entry, as Core's reader goes.
 */
function bodyCoder(progress: BodyProgress = { entries: [] }): P.CoderType<MempoolDump> {
  return P.wrap<MempoolDump>({
    encodeStream(writer, dump) {
      P.U64LE.encodeStream(writer, BigInt(dump.entries.length));
      for (const entry of dump.entries) Entry.encodeStream(writer, { ...entry });
      Deltas.encodeStream(writer, dump.deltas.map((delta) => ({ ...delta })));
      Unbroadcast.encodeStream(writer, [...dump.unbroadcast]);
    },
    decodeStream(reader) {
      const announced = progress.announced = P.U64LE.decodeStream(reader);
      for (let i = 0n; i < announced; i++) progress.entries.push(Entry.decodeStream(reader));
      return {
        entries: progress.entries,
        deltas: Deltas.decodeStream(reader),
        unbroadcast: Unbroadcast.decodeStream(reader),
      };
    },
  });
}

/** XORs `bytes` in place with `key`, as if `bytes[0]` sat at file offset `offset`. */
function obfuscate(bytes: Uint8Array, key: Uint8Array, offset: number): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] ^= key[(offset + i) % KEY_SIZE];
}

/** Serializes a dump as version 2, obfuscated with `key` (random by default), as v30 does. */
export function encodeMempoolDump(
  dump: MempoolDump,
  key: Uint8Array = crypto.getRandomValues(new Uint8Array(KEY_SIZE)),
): Uint8Array {
  const header = P.struct({ version: P.U64LE, key: P.bytes(CompactSizeLen) })
    .encode({ version: VERSION_XOR_KEY, key });
  const body = bodyCoder().encode(dump);
  obfuscate(body, key, header.length);
  const file = new Uint8Array(header.length + body.length);
  file.set(header);
  file.set(body, header.length);
  return file;
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

/** Core's `e.what()` for a read past the end of the file (`std::ios_base::failure` of `AutoFile::read`). */
const END_OF_FILE = "AutoFile::read: end of file: iostream error";

/** The decoder's ways of saying the data ran out (a read past the end, or an array longer than what is left). */
const RAN_OUT = /Unexpected end of buffer|bytes left$/;

/** The one-line reason of a decoding failure, in Core's words for the end of the file. */
function failureText(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
  return RAN_OUT.test(message) ? END_OF_FILE : message;
}

/**
 * Reads a `mempool.dat` of version 1 or 2 as Core does: entry by entry,
 * keeping what decoded before a failure (see {@linkcode MempoolFileContent}),
 * and ignoring bytes after the unbroadcast set. Null for a file of another
 * version, which Core skips without a word.
 */
export function readMempoolDump(file: Uint8Array): MempoolFileContent | null {
  const progress: BodyProgress = { entries: [] };
  try {
    const version = P.U64LE.decode(file.subarray(0, 8));
    if (version !== VERSION_XOR_KEY && version !== VERSION_NO_XOR_KEY) return null;
    let body = file.subarray(8);
    if (version === VERSION_XOR_KEY) {
      const size = P.U8.decode(file.subarray(8, 9));
      if (size !== KEY_SIZE) throw new Error(`obfuscation key of ${size} bytes`);
      const key = P.bytes(KEY_SIZE).decode(file.subarray(9, 9 + KEY_SIZE));
      const offset = 9 + KEY_SIZE;
      body = file.slice(offset);
      obfuscate(body, key, offset);
    }
    const dump = bodyCoder(progress).decode(body, { allowUnreadBytes: true });
    return { ...dump, announced: progress.announced };
  } catch (error) {
    return { ...progress, deltas: [], unbroadcast: [], error: failureText(error) };
  }
}
