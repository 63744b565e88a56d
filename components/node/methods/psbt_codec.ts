/**
 * The PSBT (BIP 174, version 0) as the node's PSBT methods hold it, and the
 * questions about its inputs they share: `decodePsbt` (Core's
 * `DecodeBase64PSBT`, the library's failures mapped onto the reasons Core's
 * deserializer gives, `TX decode failed <reason>`, -22), the raw maps
 * serialized back (`encodeRaw`) or made blank for a transaction
 * (`blankPsbt`), the unsigned transaction, the output an input spends
 * (`utxoOf`), whether an input is finalized, and what the outputs pay.
 * `@scure/btc-signer` parses and serializes.
 *
 * `psbt.ts` (the methods), `psbt_json.ts`, `psbt_update.ts` and
 * `psbt_analyze.ts` build on it, as does the wallet's `walletpsbt.ts`
 * through `psbt.ts`'s re-export of `decodePsbt`; it imports none of them.
 * @module
 */
import { base64 } from "@scure/base";
import { Transaction } from "@scure/btc-signer";
import { RawPSBTV0 } from "@scure/btc-signer/psbt.js";
import { CompactSizeLen, RawOldTx } from "@scure/btc-signer/script.js";
import { concatBytes } from "@scure/btc-signer/utils.js";
import {
  bytesEqual,
  MAX_MONEY,
  moneyRange,
  signedAmount,
  type SpentOutput,
  type Tx,
} from "../chain/mod.ts";
import { RpcError, RpcErrorCode } from "../../rpc/mod.ts";
import { PERMISSIVE_TX_OPTIONS } from "../../bitcoin/tx_options.ts";

/** A PSBT's maps as `RawPSBTV0` decodes them. */
export type RawPsbt = ReturnType<typeof RawPSBTV0.decode>;
/** One input's map of a {@linkcode RawPsbt}. */
export type RawInput = RawPsbt["inputs"][number];
/** One output's map of a {@linkcode RawPsbt}. */
export type RawOutput = RawPsbt["outputs"][number];
/** A key origin as the PSBT fields hold it: master fingerprint and derivation path. */
export type KeyPath = { fingerprint: number; path: number[] };

/** Scure's options for a PSBT kept as Core keeps it: every field and any script. */
export const TX_OPTIONS = { ...PERMISSIVE_TX_OPTIONS, proprietary: "ignore" } as const;

const PSBT_MAGIC = Uint8Array.of(0x70, 0x73, 0x62, 0x74, 0xff);

/** Core reads with `std::ios_base::failure`, whose text libstdc++ suffixes. */
const streamError = (message: string) => `${message}: iostream error`;

/** Failures of the library's decoder and the reason Core's deserializer gives for each. */
const DECODE_REASONS: readonly (readonly [RegExp, string])[] = [
  [/Unexpected end of buffer/, streamError("DataStream::read(): end of data")],
  [/missing unsignedTx/, streamError("No unsigned transaction was provided")],
  [
    /scriptSig found in unsignedTx/,
    streamError("Unsigned tx does not have empty scriptSigs and scriptWitnesses."),
  ],
  [/^PSBTv[1-9]/, streamError("Unsupported version number")],
  [/Unexpected outputs left/, "extra data after PSBT"],
  [
    /Not outputs inputs/,
    streamError("Outputs provided does not match the number of outputs in transaction."),
  ],
  [/nonWitnessUtxo: wrong txid/, streamError("Non-witness UTXO does not match outpoint hash")],
  [/not in nonWitnessUtxo/, streamError("Input specifies output index that does not exist")],
];

function decodeFailed(reason: string): never {
  throw new RpcError(RpcErrorCode.DESERIALIZATION_ERROR, `TX decode failed ${reason}`);
}

/** Runs a library decoder, turning its failure into Core's -22 with Core's reason. */
function decoding<T>(decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const known = DECODE_REASONS.find(([pattern]) => pattern.test(message));
    decodeFailed(known?.[1] ?? message);
  }
}

/** A decoded PSBT: its raw maps (to read) and scure's transaction (to combine and finalize). */
export interface Psbt {
  readonly raw: RawPsbt;
  readonly tx: Transaction;
}

/** Core's `DecodeBase64PSBT`, with its errors: -22 `TX decode failed <reason>`. */
export function decodePsbt(text: string): Psbt {
  let bytes: Uint8Array;
  try {
    bytes = base64.decode(text);
  } catch {
    decodeFailed("invalid base64");
  }
  if (bytes.length < PSBT_MAGIC.length) {
    decodeFailed(streamError("DataStream::read(): end of data"));
  }
  if (!bytesEqual(bytes.subarray(0, PSBT_MAGIC.length), PSBT_MAGIC)) {
    decodeFailed(streamError("Invalid PSBT magic bytes"));
  }
  const raw = decoding(() => RawPSBTV0.decode(bytes));
  // The library takes an empty map after the last output as a compatibility encoding; Core reads
  // exactly one map per output and refuses what follows.
  if (raw.outputs.length !== raw.global.unsignedTx!.outputs.length) {
    decodeFailed("extra data after PSBT");
  }
  return { raw, tx: decoding(() => Transaction.fromPSBT(bytes, TX_OPTIONS)) };
}

/** Serializes raw maps (Core's `EncodeBase64(ssTx << psbtx)`). */
export function encodeRaw(raw: RawPsbt): string {
  return base64.encode(RawPSBTV0.encode(raw));
}

/** A transaction in the library's PSBT form (the legacy serialization the PSBT holds). */
export function psbtTx(tx: Tx): ReturnType<typeof RawOldTx.decode> {
  return RawOldTx.decode(RawOldTx.encode(tx));
}

/** A blank PSBT for `tx`: one empty map per input and per output. */
export function blankPsbt(tx: Tx): string {
  return encodeRaw({
    global: { unsignedTx: psbtTx(tx) },
    inputs: tx.inputs.map(() => ({})),
    outputs: tx.outputs.map(() => ({})),
  });
}

/** The unsigned transaction of raw maps, as the node's {@linkcode Tx}. */
export function unsignedTx(raw: RawPsbt): Tx {
  return { ...raw.global.unsignedTx!, segwitFlag: false };
}

/** The previous output an input spends, from its non-witness UTXO or else its witness UTXO. */
export function utxoOf(
  input: RawInput,
  index: number,
): { amount: bigint; script: Uint8Array } | undefined {
  return input.nonWitnessUtxo?.outputs[index] ?? input.witnessUtxo;
}

/** Whether an input is already finalized (`PSBTInputSigned`). */
export function inputFinalized(
  input: { finalScriptSig?: Uint8Array; finalScriptWitness?: Uint8Array[] },
): boolean {
  return (input.finalScriptSig?.length ?? 0) > 0 || (input.finalScriptWitness?.length ?? 0) > 0;
}

/** Stands for an unknown spent output where the script checker needs one for every input. */
export const UNKNOWN_UTXO: SpentOutput = { amount: MAX_MONEY, script: new Uint8Array() };

/** What the outputs pay in all; undefined when an amount or the sum leaves the money range. */
export function outputTotal(tx: Tx): bigint | undefined {
  let total = 0n;
  for (const output of tx.outputs) {
    const value = signedAmount(output.amount);
    if (!moneyRange(value) || !moneyRange(total + value)) return undefined;
    total += value;
  }
  return total;
}

/** The full key of an unknown field: its type (compact size), then its key data. */
export function unknownKey(key: { type: number; key: Uint8Array }): Uint8Array {
  return concatBytes(CompactSizeLen.encode(key.type), key.key);
}
