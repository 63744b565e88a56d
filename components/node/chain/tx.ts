/**
 * Transactions as plain data, decoded and encoded by `@scure/btc-signer`'s
 * `RawTx` (BIP 144 serialization, byte for byte in both directions), and the
 * identities and sizes Bitcoin Core derives from them.
 *
 * Byte order: `RawTx` gives an input's previous txid (`inputs[i].txid`) in
 * display order, as scure does everywhere; {@linkcode prevout} turns it into
 * an {@linkcode OutPoint} whose txid is in internal order, like every other
 * {@linkcode Hash} of this library.
 *
 * @example
 * ```ts
 * import { decodeTx, encodeTx, txid } from "./tx.ts";
 * import { hashToHex } from "./hash.ts";
 * import { hex } from "@scure/base";
 * // The first bitcoin transaction to pay someone else (block 170).
 * const raw = hex.decode(
 *   "0100000001c997a5e56e104102fa209c6a852dd90660a20b2d9c352423edce25857fcd3704000000004847304402204e45e16932b8af514961a1d3a1a25fdf3f4f7732e9d624c6c61548ab5fb8cd410220181522ec8eca07de4860a4acdd12909d831cc56cbbac4622082221a8768d1d0901ffffffff0200ca9a3b00000000434104ae1a62fe09c5f51b13905f07f06b99a2f7159b2225f374cd378d71302fa28414e7aab37397f554a7df5f142c21c1b7303b8a0626f1baded5c72a704f7e6cd84cac00286bee0000000043410411db93e1dcdb8a016b49840f8c53bc1eb68a382e97b1482ecad7b148a6909a5cb2e0eaddfb84ccf9744464f82e160bfa9b8b64f9d4c03f999b8643f656b412a3ac00000000",
 * );
 * const tx = decodeTx(raw);
 * if (hex.encode(encodeTx(tx)) !== hex.encode(raw)) throw new Error("round trip");
 * if (hashToHex(txid(tx)) !== "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16") {
 *   throw new Error("txid");
 * }
 * ```
 * @module
 */
import { RawTx } from "@scure/btc-signer";
import { hex } from "@scure/base";
import { type Hash, sha256d } from "./hash.ts";

/** One input of a {@linkcode Tx}, as `RawTx` decodes it. */
export interface TxInput {
  /** The previous transaction's txid, in display order (scure's convention). */
  txid: Uint8Array;
  /** The previous output's index. */
  index: number;
  /** The scriptSig. */
  finalScriptSig: Uint8Array;
  sequence: number;
}

/** One output of a {@linkcode Tx}. */
export interface TxOutput {
  /** Satoshis, read as an unsigned 64-bit number (see {@linkcode signedAmount}). */
  amount: bigint;
  /** The scriptPubKey. */
  script: Uint8Array;
}

/** A transaction: `RawTx`'s decoded form. */
export interface Tx {
  version: number;
  /** Set by the decoder when the BIP 144 form was used; {@linkcode encodeTx} derives it itself. */
  segwitFlag: boolean;
  inputs: TxInput[];
  outputs: TxOutput[];
  /** One stack per input when any input has witness data. */
  witnesses?: Uint8Array[][];
  lockTime: number;
}

/** A reference to a transaction output; `txid` in internal byte order. */
export interface OutPoint {
  readonly txid: Hash;
  readonly index: number;
}

/** `SEQUENCE_FINAL`: an input with this sequence opts out of lock times. */
export const SEQUENCE_FINAL = 0xffffffff;

/**
 * Decodes a serialized transaction (with or without witness data); a
 * superfluous witness flag or truncation throw, and so do trailing bytes
 * unless `allowTrailingBytes` (a stream that reads one object, as Core's
 * `SpanReader` does, leaves them).
 */
export function decodeTx(
  bytes: Uint8Array,
  { allowTrailingBytes = false }: { allowTrailingBytes?: boolean } = {},
): Tx {
  return RawTx.decode(bytes, { allowUnreadBytes: allowTrailingBytes }) as Tx;
}

/** Whether any input carries witness data (`CTransaction::HasWitness`). */
export function hasWitness(tx: Tx): boolean {
  return tx.witnesses?.some((stack) => stack.length > 0) ?? false;
}

/**
 * Serializes a transaction. With `witness` (the default) the BIP 144 form is
 * used when some input has witness data; without it, the legacy form that
 * txids commit to.
 */
export function encodeTx(tx: Tx, witness = true): Uint8Array {
  const segwit = witness && hasWitness(tx);
  return RawTx.encode({
    ...tx,
    segwitFlag: segwit,
    witnesses: segwit ? tx.inputs.map((_, i) => tx.witnesses?.[i] ?? []) : undefined,
  });
}

/** The txid: double SHA-256 of the serialization without witness data. */
export function txid(tx: Tx): Hash {
  return sha256d(encodeTx(tx, false));
}

/** The wtxid: double SHA-256 of the full serialization (BIP 141). */
export function wtxid(tx: Tx): Hash {
  return sha256d(encodeTx(tx, true));
}

/** Sizes of a transaction as `decoderawtransaction` reports them. */
export interface TxSizes {
  /** Serialized size with witness data. */
  readonly size: number;
  /** Serialized size without witness data. */
  readonly strippedSize: number;
  /** BIP 141 weight: stripped size × 3 + size. */
  readonly weight: number;
  /** Virtual size: weight / 4, rounded up. */
  readonly vsize: number;
}

/** Size, stripped size, weight and virtual size of a transaction. */
export function txSizes(tx: Tx): TxSizes {
  const size = encodeTx(tx, true).length;
  const strippedSize = hasWitness(tx) ? encodeTx(tx, false).length : size;
  const weight = strippedSize * 3 + size;
  return { size, strippedSize, weight, vsize: Math.ceil(weight / 4) };
}

/** The outpoint an input spends, with its txid in internal byte order. */
export function prevout(input: TxInput): OutPoint {
  return { txid: input.txid.slice().reverse(), index: input.index };
}

/** A string key for an outpoint (`<display txid>:<index>`), for maps. */
export function outpointKey(outpoint: OutPoint): string {
  return `${hex.encode(outpoint.txid.slice().reverse())}:${outpoint.index}`;
}

/** Whether an input spends the null outpoint (all-zero txid, index 0xffffffff). */
export function isNullPrevout(input: TxInput): boolean {
  return input.index === 0xffffffff && input.txid.every((b) => b === 0);
}

/** Whether a transaction is a coinbase: one input, spending the null outpoint. */
export function isCoinbase(tx: Tx): boolean {
  return tx.inputs.length === 1 && isNullPrevout(tx.inputs[0]);
}

/**
 * An output amount as Bitcoin Core's signed `CAmount`: the wire carries an
 * int64, which `RawTx` reads unsigned, so values of 2^63 and above are negative.
 */
export function signedAmount(amount: bigint): bigint {
  return BigInt.asIntN(64, amount);
}

/** The sum of a transaction's (signed) outputs; may leave the money range. */
export function valueOut(tx: Tx): bigint {
  let total = 0n;
  for (const output of tx.outputs) total += signedAmount(output.amount);
  return total;
}
