/**
 * How the wallet signs a transaction or fills a PSBT, as Bitcoin Core's
 * `FillPSBT` and `SignTransaction`: which inputs spend its coins, the
 * sighash each is signed with, and what it tells of its outputs
 * (`walletprocesspsbt`, `signrawtransactionwithwallet`, and every send's
 * last step). `psbt.ts` writes the fields; this module decides which.
 *
 * It reads the wallet through {@linkcode SigningWallet} and signs through
 * its `signInput`: the private keys never leave the wallet object.
 *
 * @example
 * ```ts
 * import { p2pkh, p2sh, p2wpkh, Transaction } from "@scure/btc-signer";
 * import { ChainState } from "../node/chain/mod.ts";
 * import { Mempool } from "../node/mempool/mod.ts";
 * import { nodeInit } from "../node/ipc/init.ts";
 * import { Wallet } from "./wallet.ts";
 * import { signRaw } from "./sign.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(`${dir}/node`);
 *   using mempool = new Mempool(chain);
 *   using init = nodeInit({ chain, mempool, requestShutdown() {} });
 *   const wallet = await Wallet.create(`${dir}/w`, "w", init.makeChain(), {});
 *   // An input spending a coin the wallet does not know: left unsigned, with Core's reason.
 *   const tx = new Transaction();
 *   tx.addInput({ txid: new Uint8Array(32).fill(1), index: 0 });
 *   tx.addOutput({ script: wallet.newAddress("wpkh", false).script, amount: 1000n });
 *   const { unsigned } = signRaw(wallet, tx.toBytes(true, false));
 *   if (unsigned[0]?.error !== "Input not found or already spent") throw new Error("signed?");
 *   await wallet.close();
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { hex } from "@scure/base";
import { Transaction } from "@scure/btc-signer";
import { cachedSighashes, psbtSighash } from "../bitcoin/sighash.ts";
import { type DerivedKey, isMultisig } from "./keys.ts";
import {
  describeInput,
  describeOutput,
  dropPreviousTransactions,
  finalizeInput,
  isFinalized,
  isTaproot,
  isWitnessProgram,
  readPartialMultisig,
  type SpentCoin,
  spentOutput,
  type TaprootFields,
  taprootFields,
  TX_OPTIONS,
  writePartialMultisig,
} from "./psbt.ts";
import { Code, type Wallet, WalletError } from "./wallet.ts";

/**
 * What signing reads of the wallet (its keys, its outputs and the
 * transactions that made them) and the one thing it asks of it: to sign an
 * input with one of its keys, when it can.
 */
export type SigningWallet = Pick<
  Wallet,
  | "keyOf"
  | "ownOutput"
  | "transaction"
  | "canSign"
  | "ensureCanSign"
  | "signInput"
  | "signListedKeys"
>;

/** How `walletprocesspsbt` fills a PSBT (Core's `PSBTFillOptions`). */
export interface PsbtOptions {
  readonly sign: boolean;
  /** The sighash to sign with; null: the input type's default. */
  readonly sighash: number | null;
  readonly finalize: boolean;
  readonly bip32derivs: boolean;
}

/** An input `signrawtransactionwithwallet` could not sign, with Core's reason. */
export interface UnsignedInput {
  readonly index: number;
  readonly error: string;
}

/** Core's reason for an input whose coin the wallet does not know. */
const NOT_FOUND = "Input not found or already spent";
/** Core's reason for a script left unsatisfied (`SCRIPT_ERR_INVALID_STACK_OPERATION`). */
const MISSING_KEY = "Unable to sign input, invalid stack size (possibly missing key)";
/** Core's reason for a multisig signed in part (`SCRIPT_ERR_SIG_NULLFAIL`). */
const MORE_SIGNATURES =
  "CHECK(MULTI)SIG failing with non-zero signature (possibly need more signatures)";
/** Core's reason for a witness program left unsatisfied (`SCRIPT_ERR_WITNESS_PROGRAM_WITNESS_EMPTY`). */
const WITNESS_EMPTY = "Witness program was passed an empty witness";

/** The wallet's coin input `i` of `tx` spends, with its key; undefined if not the wallet's. */
function spending(
  wallet: SigningWallet,
  tx: Transaction,
  i: number,
): { coin: SpentCoin; key: DerivedKey } | undefined {
  const input = tx.getInput(i);
  const txid = hex.encode(input.txid!);
  const output = wallet.ownOutput(txid, input.index!);
  const key = output && wallet.keyOf(output.script);
  if (output === undefined || key === undefined) return undefined;
  return { coin: { ...output, prevTx: wallet.transaction(txid)!.tx.raw }, key };
}

/**
 * Signs the inputs of `tx` that spend the wallet's coins (Core's
 * `SignTransaction`, for `signrawtransactionwithwallet` and the sends);
 * -13 when locked, -4 without private keys. A multisig input it signs in
 * part keeps its signatures (and another's it carried) in its scriptSig or
 * witness, as Core's. The inputs it could not sign, each with Core's reason.
 */
export function signTransaction(wallet: SigningWallet, tx: Transaction): UnsignedInput[] {
  wallet.ensureCanSign();
  // A multisig input another wallet signed in part: its signatures read back, for ours to join.
  for (let i = 0; i < tx.inputsLength; i++) {
    const own = spending(wallet, tx, i);
    if (own === undefined || !isMultisig(own.key) || !isFinalized(tx, i)) continue;
    describeInput(tx, i, own.coin, own.key, false);
    readPartialMultisig(tx, i, own.key);
  }
  signInputs(wallet, tx, { sign: true, sighash: null, finalize: true, bip32derivs: false }, false);
  const unsigned: UnsignedInput[] = [];
  for (let i = 0; i < tx.inputsLength; i++) {
    const own = spending(wallet, tx, i);
    if (own === undefined) unsigned.push({ index: i, error: NOT_FOUND });
    else if (!isFinalized(tx, i)) {
      // A multisig signed in part carries its signatures, as Core's raw transactions do.
      const partial = isMultisig(own.key) && writePartialMultisig(tx, i, own.key) > 0;
      unsigned.push({
        index: i,
        // Signing failed (a taproot input needs every spent output to commit to): Core's reason.
        error: partial ? MORE_SIGNATURES : own.key.kind === "pkh" ? MISSING_KEY : WITNESS_EMPTY,
      });
    }
  }
  return unsigned;
}

/**
 * Core's `SignPSBTInput` over the inputs of `tx` not final that spend the
 * wallet's coins: each described (with its key's origin if `bip32derivs`),
 * with `sign` signed at its sighash (see {@linkcode sighashFor}), and with
 * `finalize` finalized with its key's signature, one an earlier pass left
 * too. With `byOrigins` (a PSBT's, as Core's `FillPSBT`), a multisig's or
 * a tree's input is signed too with the wallet's keys of other descriptors
 * that its key origins name. The wallet's inputs, each with its key.
 */
function signInputs(
  wallet: SigningWallet,
  tx: Transaction,
  options: PsbtOptions,
  byOrigins: boolean,
): Map<number, DerivedKey> {
  const own = new Map<number, { key: DerivedKey; sighash: number; taproot: TaprootFields }>();
  // Every input's spent output first: a taproot signature commits to all of them.
  for (let i = 0; i < tx.inputsLength; i++) {
    if (isFinalized(tx, i)) continue;
    const found = spending(wallet, tx, i);
    if (found === undefined) continue;
    const { coin, key } = found;
    const taproot = taprootFields(tx, i);
    try {
      describeInput(tx, i, coin, key, options.bip32derivs);
    } catch {
      // The PSBT tells another coin for this input: Core leaves it unsigned, as here.
      continue;
    }
    // The coin first, then the sighash, as Core's SignPSBTInput reads them.
    const sighash = sighashFor(tx, i, coin.script, options.sighash);
    own.set(i, { key, sighash, taproot });
  }
  // Signing only adds signatures, so the transaction-wide hashes hold throughout.
  using _sighashes = cachedSighashes(tx);
  for (const [i, { key, sighash, taproot }] of own) {
    // Signed with those of its keys its descriptors hold, if any, and in a PSBT with the keys
    // its origins list that other descriptors derive (Core's SPKMs not knowing its script).
    if (options.sign) {
      try {
        wallet.signInput(tx, i, key, sighash);
      } catch {
        // Unsignable here: none of its keys held, a taproot spend with another input's coin
        // unknown, SINGLE without its output. The input stays as it is, which says so.
      }
      if (byOrigins) wallet.signListedKeys(tx, i, sighash, key.script);
    }
    if (options.finalize) finalizeInput(tx, i, key, taproot);
  }
  return new Map([...own].map(([i, { key }]) => [i, key]));
}

/**
 * The sighash input `i` (spending `script`) is signed with, as
 * {@linkcode psbtSighash} chooses it; a PSBT asking for another is refused
 * (Core's check for the user's safety, -22).
 */
function sighashFor(
  tx: Transaction,
  i: number,
  script: Uint8Array,
  requested: number | null,
): number {
  const sighash = psbtSighash(tx, i, isTaproot(script), requested);
  if (sighash === undefined) {
    throw new WalletError(
      Code.DESERIALIZATION,
      "Specified sighash value does not match value stored in PSBT",
    );
  }
  return sighash;
}

/**
 * Core's `FillPSBT` over the PSBT `tx`: each input not final gets the
 * transaction it spends when the wallet has it; the wallet's inputs are
 * described and signed ({@linkcode signInputs}); any other input whose
 * coin the PSBT tells is held to its sighash, gets the coin as a witness
 * UTXO when it is a segwit spend, and is finalized with the signatures it
 * holds; each output paying the wallet gets its scripts and key origins.
 * Whether every input is now final, its coin known (Core verifies the
 * scripts too). Locked, or without private keys, it signs nothing, as
 * Core's (walletprocesspsbt checks the lock first).
 */
export function processPsbt(wallet: SigningWallet, tx: Transaction, options: PsbtOptions): boolean {
  for (let i = 0; i < tx.inputsLength; i++) {
    const input = tx.getInput(i);
    const previous = wallet.transaction(hex.encode(input.txid!));
    if (isFinalized(tx, i) || input.nonWitnessUtxo !== undefined || !previous) continue;
    try {
      tx.updateInput(i, { nonWitnessUtxo: previous.tx.raw }, true);
    } catch {
      // The PSBT tells another coin for this input; it is left as it is.
    }
  }
  const sign = options.sign && wallet.canSign;
  const own = signInputs(wallet, tx, { ...options, sign }, true);
  for (let i = 0; i < tx.inputsLength; i++) {
    const spent = spentOutput(tx, i);
    if (own.has(i) || isFinalized(tx, i) || spent === undefined) continue;
    const sighash = sighashFor(tx, i, spent.script, options.sighash);
    if (isWitnessProgram(spent.script) && tx.getInput(i).witnessUtxo === undefined) {
      tx.updateInput(i, { witnessUtxo: spent }, true);
    }
    // Another's coin (a multisig's or a script tree's): signed with the wallet's keys its key
    // origins name (a tree's leaves that hold them, or its key path for its internal key).
    if (sign) wallet.signListedKeys(tx, i, sighash);
    if (!options.finalize) continue;
    try {
      tx.finalizeIdx(i);
    } catch {
      // Not all its signatures, or another input's coin unknown (scure checks the fee first).
    }
  }
  for (let i = 0; i < tx.outputsLength; i++) {
    const key = wallet.keyOf(tx.getOutput(i).script!);
    if (key === undefined) continue;
    describeOutput(tx, i, key, options.bip32derivs);
  }
  dropPreviousTransactions(tx);
  for (let i = 0; i < tx.inputsLength; i++) {
    if (!isFinalized(tx, i) || spentOutput(tx, i) === undefined) return false;
  }
  return true;
}

/**
 * Signs what it can of the raw transaction `raw` (`signrawtransactionwithwallet`):
 * the new bytes and, per input it could not sign, its index.
 */
export function signRaw(
  wallet: SigningWallet,
  raw: Uint8Array,
): { raw: Uint8Array; unsigned: UnsignedInput[] } {
  const tx = Transaction.fromRaw(raw, TX_OPTIONS);
  const unsigned = signTransaction(wallet, tx);
  return { raw: tx.toBytes(true, true), unsigned };
}
