/**
 * How the node and the wallet read transactions and PSBTs others made
 * with `@scure/btc-signer`: as Core reads them, any version, any script,
 * every input and output kept, fields it does not know kept aside.
 *
 * @example
 * ```ts
 * import { Transaction } from "@scure/btc-signer";
 * import { PERMISSIVE_TX_OPTIONS } from "./tx_options.ts";
 * // Version 7 and a bare OP_TRUE output, which scure refuses by default: Core reads both.
 * const tx = new Transaction({ ...PERMISSIVE_TX_OPTIONS, version: 7 });
 * tx.addInput({ txid: new Uint8Array(32).fill(1), index: 0 });
 * tx.addOutput({ script: Uint8Array.of(0x51), amount: 1000n });
 * const read = Transaction.fromRaw(tx.toBytes(true, false), PERMISSIVE_TX_OPTIONS);
 * if (read.version !== 7 || read.getOutput(0).script?.[0] !== 0x51) throw new Error();
 * ```
 * @module
 */
import type { TxOpts } from "@scure/btc-signer";

/** scure's options for a transaction or PSBT read as Core reads it. */
export const PERMISSIVE_TX_OPTIONS = {
  allowUnknownInputs: true,
  allowUnknownOutputs: true,
  allowUnknownVersion: true,
  // A legacy input told by its coin alone: Core reads it (and signs it only with the whole
  // previous transaction).
  allowLegacyWitnessUtxo: true,
  disableScriptCheck: true,
  unknown: "ignore",
} as const satisfies TxOpts;
