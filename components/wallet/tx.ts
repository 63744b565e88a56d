/**
 * Transactions as the wallet reads them from the chain: wire bytes (with
 * witness) decoded into the outpoints they spend and the outputs they pay,
 * with their txid, wtxid and virtual size. Hashes are hex in display order,
 * as RPC shows them.
 *
 * @example
 * ```ts
 * import { parseTx } from "./tx.ts";
 * import { hex } from "@scure/base";
 * // A coinbase: one input spending the null outpoint, one output.
 * const raw = hex.decode(
 *   "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff" +
 *     "0151ffffffff0100f2052a010000000151" + "00000000",
 * );
 * const tx = parseTx(raw);
 * if (!tx.coinbase || tx.outputs[0].amount !== 5_000_000_000n) throw new Error("coinbase");
 * ```
 * @module
 */
import { RawOldTx, RawTx } from "@scure/btc-signer/script.js";
import { sha256x2 } from "@scure/btc-signer/utils.js";
import { hex } from "@scure/base";

/** An outpoint, its txid in display order. */
export interface OutPoint {
  readonly txid: string;
  readonly vout: number;
}

/** One output. */
export interface TxOut {
  readonly amount: bigint;
  readonly script: Uint8Array;
}

/** A decoded transaction. */
export interface ParsedTx {
  readonly txid: string;
  readonly wtxid: string;
  readonly version: number;
  /** Wire bytes with witness. */
  readonly raw: Uint8Array;
  readonly inputs: readonly (OutPoint & { readonly sequence: number })[];
  readonly outputs: readonly TxOut[];
  readonly coinbase: boolean;
  readonly vsize: number;
}

/** `outpoint` as a map key. */
export function outpointKey({ txid, vout }: OutPoint): string {
  return `${txid}:${vout}`;
}

/** Hash bytes (internal order) as display hex. */
export function displayHex(hash: Uint8Array): string {
  return hex.encode(hash.slice().reverse());
}

/** Display hex as hash bytes in internal order. */
export function internalBytes(displayed: string): Uint8Array {
  return hex.decode(displayed).reverse();
}

const NULL_TXID = "0".repeat(64);

/** Decodes `raw`; throws on bytes that are not one whole transaction. */
export function parseTx(raw: Uint8Array): ParsedTx {
  const decoded = RawTx.decode(raw);
  const stripped = RawOldTx.encode({
    version: decoded.version,
    inputs: decoded.inputs,
    outputs: decoded.outputs,
    lockTime: decoded.lockTime,
  });
  const txid = displayHex(sha256x2(stripped));
  const inputs = decoded.inputs.map((input) => ({
    txid: hex.encode(input.txid),
    vout: input.index,
    sequence: input.sequence,
  }));
  const weight = stripped.length * 3 + raw.length;
  return {
    txid,
    wtxid: decoded.segwitFlag ? displayHex(sha256x2(raw)) : txid,
    version: decoded.version,
    raw,
    inputs,
    outputs: decoded.outputs.map(({ amount, script }) => ({ amount, script })),
    coinbase: inputs.length === 1 && inputs[0].txid === NULL_TXID && inputs[0].vout === 0xffffffff,
    vsize: Math.ceil(weight / 4),
  };
}
