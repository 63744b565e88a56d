/**
 * BIP 64's `getutxos` as Bitcoin Core's REST interface serves it
 * (`rest_getutxos`): outpoints from the path
 * (`/rest/getutxos[/checkmempool]/<txid>-<n>/…`) or, in the binary and
 * hex formats, from the request body (a `checkmempool` byte, then a
 * vector of outpoints); at most 15; the answer is the chain height and
 * tip, the bitmap of outpoints found unspent, and their coins. Also the
 * binary form of outputs (`CTxOut`) that `/rest/spenttxouts` shares.
 *
 * @example
 * ```ts
 * import { parseOutpointsBody, serializeUtxos } from "./getutxos.ts";
 * // One outpoint, mempool checked: 01, compact size 1, txid, index 3.
 * const body = Uint8Array.of(1, 1, ...new Uint8Array(32).fill(0xab), 3, 0, 0, 0);
 * const parsed = parseOutpointsBody(body);
 * if (parsed === undefined || !parsed.checkMempool || parsed.outpoints[0].index !== 3) {
 *   throw new Error("parsed");
 * }
 * const reply = serializeUtxos({ height: 0, tip: new Uint8Array(32), hits: [false], coins: [] });
 * // height, tip, a one-byte bitmap (0), no coins.
 * if (reply.length !== 4 + 32 + 2 + 1) throw new Error(`${reply.length}`);
 * ```
 * @module
 */
import { CompactSizeLen } from "@scure/btc-signer/script.js";
import { concatBytes } from "@scure/btc-signer/utils.js";
import type { Coin, Hash, OutPoint } from "../chain/mod.ts";

/** Core's `MAX_GETUTXOS_OUTPOINTS`. */
export const MAX_GETUTXOS_OUTPOINTS = 15;

/** Bitcoin Core's `MAX_SIZE`: no compact size may say more. */
const MAX_SIZE = 0x02000000;

/** One outpoint as the body carries it: the txid's 32 bytes, then the index (LE). */
const OUTPOINT_BYTES = 36;

/**
 * Core's `oss >> fCheckMemPool >> vOutPoints` over a request body: the
 * flag (any non-zero byte) and the outpoints, undefined when the bytes end
 * early or the count is not a canonical compact size (Core's `Parse error`).
 * Bytes after the outpoints are left unread, as Core leaves them. A count
 * over `limit` is not read further (its outpoints are not needed: the
 * request fails with the count alone), only checked to fit the body.
 */
export function parseOutpointsBody(
  body: Uint8Array,
  limit = MAX_GETUTXOS_OUTPOINTS,
): { checkMempool: boolean; outpoints: OutPoint[]; count: number } | undefined {
  if (body.length < 2) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const checkMempool = body[0] !== 0;
  let offset = 1;
  const first = body[offset++];
  let count: number;
  let min = 0;
  if (first < 0xfd) {
    count = first;
  } else {
    const width = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
    if (offset + width > body.length) return undefined;
    count = width === 2
      ? view.getUint16(offset, true)
      : width === 4
      ? view.getUint32(offset, true)
      : Number(view.getBigUint64(offset, true));
    min = width === 2 ? 0xfd : width === 4 ? 0x10000 : 0x100000000;
    offset += width;
  }
  if (count < min || count > MAX_SIZE) return undefined;
  if (offset + count * OUTPOINT_BYTES > body.length) return undefined;
  const outpoints: OutPoint[] = [];
  for (let i = 0; i < Math.min(count, limit + 1); i++) {
    const at = offset + i * OUTPOINT_BYTES;
    outpoints.push({
      txid: body.slice(at, at + 32),
      index: view.getUint32(at + 32, true),
    });
  }
  return { checkMempool, outpoints, count };
}

/**
 * Core's `ParseHex` over a body's bytes: pairs of hex digits, whitespace
 * between pairs skipped; anything else gives no bytes at all.
 */
export function parseHexBody(text: Uint8Array): Uint8Array {
  const out = new Uint8Array(text.length >> 1);
  let length = 0;
  for (let i = 0; i < text.length;) {
    const c = text[i];
    // Core's IsSpace: space, \f, \n, \r, \t, \v.
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) {
      i++;
      continue;
    }
    const high = hexValue(c);
    const low = i + 1 < text.length ? hexValue(text[i + 1]) : -1;
    if (high < 0 || low < 0) return new Uint8Array(0);
    out[length++] = (high << 4) | low;
    i += 2;
  }
  return out.subarray(0, length);
}

/** A hex digit's value (either case), or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** What a getutxos request found. */
export interface UtxosFound {
  /** The active chain's height. */
  readonly height: number;
  /** The active chain's tip. */
  readonly tip: Hash;
  /** Per outpoint asked, whether it was found unspent. */
  readonly hits: readonly boolean[];
  /** The coins found, in the order asked. */
  readonly coins: readonly Coin[];
}

/** The bitmap: outpoint `i` found sets bit `i % 8` of byte `i / 8`. */
export function utxoBitmap(hits: readonly boolean[]): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(hits.length / 8));
  hits.forEach((hit, i) => {
    if (hit) bitmap[i >> 3] |= 1 << (i % 8);
  });
  return bitmap;
}

/** Core's `CTxOut` serialization: the amount (int64 LE), then the script with its length. */
export function serializeTxOut(coin: Pick<Coin, "amount" | "script">): Uint8Array {
  const length = CompactSizeLen.encode(coin.script.length);
  const out = new Uint8Array(8 + length.length + coin.script.length);
  new DataView(out.buffer).setBigInt64(0, BigInt.asIntN(64, coin.amount), true);
  out.set(length, 8);
  out.set(coin.script, 8 + length.length);
  return out;
}

/**
 * `/rest/spenttxouts`' binary form (Core's `SerializeBlockUndo`): the
 * transaction count, an empty list for the coinbase, then per transaction
 * the outputs its inputs spent. Written in place: a block may spend a
 * hundred thousand outputs.
 */
export function serializeSpentOutputs(undo: readonly (readonly Coin[])[]): Uint8Array {
  const size = (n: number) => CompactSizeLen.encode(n);
  let total = size(undo.length + 1).length + 1;
  for (const coins of undo) {
    total += size(coins.length).length;
    for (const coin of coins) total += 8 + size(coin.script.length).length + coin.script.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  const put = (bytes: Uint8Array) => {
    out.set(bytes, at);
    at += bytes.length;
  };
  put(size(undo.length + 1));
  put(size(0));
  for (const coins of undo) {
    put(size(coins.length));
    for (const coin of coins) put(serializeTxOut(coin));
  }
  return out;
}

/**
 * The binary answer (BIP 64): the height (int32 LE), the tip, the bitmap
 * and the coins (each `CCoin`: a zero uint32, the height, the output),
 * both as vectors.
 */
export function serializeUtxos(found: UtxosFound): Uint8Array {
  const parts: Uint8Array[] = [];
  const head = new Uint8Array(4);
  new DataView(head.buffer).setInt32(0, found.height, true);
  parts.push(head, found.tip);
  const bitmap = utxoBitmap(found.hits);
  parts.push(CompactSizeLen.encode(bitmap.length), bitmap);
  parts.push(CompactSizeLen.encode(found.coins.length));
  for (const coin of found.coins) {
    const fixed = new Uint8Array(8);
    new DataView(fixed.buffer).setUint32(4, coin.height >>> 0, true);
    parts.push(fixed, serializeTxOut(coin));
  }
  return concatBytes(...parts);
}
