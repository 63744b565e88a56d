/**
 * Why the mempool refused a transaction, in the words and codes of Bitcoin
 * Core v30: the reject reason and debug detail of its `TxValidationState`,
 * the message `sendrawtransaction` answers with and its RPC error code, and
 * what `testmempoolaccept` shows as `reject-reason` / `reject-details`.
 *
 * @example
 * ```ts
 * import { rejection } from "./reject.ts";
 * const reject = rejection("min relay fee not met", "0 < 11");
 * if (reject.message !== "min relay fee not met, 0 < 11" || reject.code !== -26) {
 *   throw new Error(reject.message);
 * }
 * ```
 * @module
 */

/** `RPC_TRANSACTION_ERROR` (Core's `RPC_VERIFY_ERROR`): missing inputs, fee above the maximum. */
export const RPC_VERIFY_ERROR = -25;
/** `RPC_TRANSACTION_REJECTED`: every other validation or policy failure. */
export const RPC_VERIFY_REJECTED = -26;
/** `RPC_VERIFY_ALREADY_IN_UTXO_SET`: the transaction is already confirmed. */
export const RPC_VERIFY_ALREADY_IN_UTXO_SET = -27;

/** Why a transaction was refused: Core's reject reason, detail and the RPC error code. */
export interface MempoolReject {
  /** Core's reject reason, e.g. `bad-txns-inputs-missingorspent`, `min relay fee not met`. */
  readonly reason: string;
  /** Core's debug message, e.g. `0 < 11`; absent where Core has none. */
  readonly detail?: string;
  /** What `sendrawtransaction` answers: `<reason>, <detail>`, or one of Core's fixed texts. */
  readonly message: string;
  /** The RPC error code: -25, -26 or -27. */
  readonly code: number;
  /** `testmempoolaccept`'s `reject-reason` (`missing-inputs` for missing inputs). */
  readonly rejectReason: string;
  /** `testmempoolaccept`'s `reject-details`; absent for missing inputs and a fee above the maximum. */
  readonly rejectDetails?: string;
}

/** A validation failure: `state.Invalid(result, reason, detail)`, turned into a {@linkcode MempoolReject}. */
export function rejection(reason: string, detail?: string): MempoolReject {
  const message = detail ? `${reason}, ${detail}` : reason;
  return {
    reason,
    ...(detail ? { detail } : {}),
    message,
    code: RPC_VERIFY_REJECTED,
    rejectReason: reason,
    rejectDetails: message,
  };
}

/** An input is missing or already spent (`TX_MISSING_INPUTS`). */
export const MISSING_INPUTS: MempoolReject = Object.freeze({
  reason: "bad-txns-inputs-missingorspent",
  message: "bad-txns-inputs-missingorspent",
  code: RPC_VERIFY_ERROR,
  rejectReason: "missing-inputs",
});

/** The fee exceeds the caller's maximum fee rate (`TransactionError::MAX_FEE_EXCEEDED`). */
export const MAX_FEE_EXCEEDED: MempoolReject = Object.freeze({
  reason: "max-fee-exceeded",
  message: "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
  code: RPC_VERIFY_ERROR,
  rejectReason: "max-fee-exceeded",
});

/** `sendrawtransaction` of a transaction whose outputs are in the UTXO set (`ALREADY_IN_UTXO_SET`). */
export const ALREADY_IN_UTXO_SET: MempoolReject = Object.freeze({
  reason: "txn-already-known",
  message: "Transaction outputs already in utxo set",
  code: RPC_VERIFY_ALREADY_IN_UTXO_SET,
  rejectReason: "txn-already-known",
  rejectDetails: "txn-already-known",
});

/** Thrown inside validation to stop it with a reject. */
export class TxRejected extends Error {
  readonly reject: MempoolReject;

  constructor(reject: MempoolReject) {
    super(reject.message);
    this.name = "TxRejected";
    this.reject = reject;
  }
}

/** Throws {@linkcode TxRejected} for `reason` and `detail`. */
export function refuse(reason: string, detail?: string): never {
  throw new TxRejected(rejection(reason, detail));
}
