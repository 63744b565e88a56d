/**
 * Bitcoin Core's `mempool.dat` (`node/mempool_persist.cpp`): the mempool
 * kept across restarts in `<datadir>/regtest/mempool.dat`, in the format
 * bitcoind v30 writes and reads — a version (1, or 2 with an 8-byte XOR key
 * obfuscating everything after it), the transactions with their arrival
 * times and fee deltas, the fee-delta map, and the unbroadcast txids. Files
 * are written beside the target (`.new`) and renamed over it.
 *
 * @example
 * ```ts
 * import { decodeMempoolDump, encodeMempoolDump } from "./persist.ts";
 * const bytes = encodeMempoolDump({ entries: [], deltas: [], unbroadcast: [] });
 * if (decodeMempoolDump(bytes).entries.length !== 0) throw new Error("round trip");
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

/** A 64-bit count, as a number (a count past 2^53 cannot be backed by the file anyway). */
const Count64 = P.apply(P.U64LE, {
  encode: (count: bigint) => Number(count),
  decode: (count: number) => BigInt(count),
});

const Body = P.struct({
  entries: P.array(Count64, P.struct({ tx: TxCoder, time: P.I64LE, feeDelta: P.I64LE })),
  deltas: P.array(CompactSizeLen, P.struct({ txid: P.bytes(32), delta: P.I64LE })),
  unbroadcast: P.array(CompactSizeLen, P.bytes(32)),
});

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
  const body = Body.encode({
    entries: dump.entries.map((entry) => ({ ...entry })),
    deltas: dump.deltas.map((delta) => ({ ...delta })),
    unbroadcast: [...dump.unbroadcast],
  });
  obfuscate(body, key, header.length);
  const file = new Uint8Array(header.length + body.length);
  file.set(header);
  file.set(body, header.length);
  return file;
}

/** Reads a `mempool.dat` of version 1 or 2; throws a one-line error for anything else. */
export function decodeMempoolDump(file: Uint8Array): MempoolDump {
  try {
    if (file.length < 8) throw new Error("file too short");
    const version = new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true);
    let offset = 8;
    const body = file.slice(offset);
    if (version === VERSION_XOR_KEY) {
      const key = P.bytes(CompactSizeLen).decode(body.subarray(0, 1 + KEY_SIZE));
      if (key.length !== KEY_SIZE) throw new Error(`obfuscation key of ${key.length} bytes`);
      offset += 1 + KEY_SIZE;
      const data = file.slice(offset);
      obfuscate(data, key, offset);
      return Body.decode(data);
    }
    if (version !== VERSION_NO_XOR_KEY) throw new Error(`unknown version ${version}`);
    return Body.decode(body);
  } catch (error) {
    throw new Error(
      `Failed to deserialize mempool data on file: ${(error as Error).message.split("\n")[0]}`,
    );
  }
}
