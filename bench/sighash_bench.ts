/**
 * Signing and checking a transaction of many inputs, half P2WPKH and half
 * taproot key-path, with the transaction-wide sighash hashes kept
 * (`components/bitcoin/sighash.ts`) and, as the reference, with scure's own
 * preimages, which rehash every input for each one. The time per input at
 * 1,000 inputs over that at 100 says whether the cost grows with the
 * square of the input count (scure's: some 10×) or not (about 1).
 *
 * @module
 */
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { p2tr, p2wpkh, Transaction } from "@scure/btc-signer";
import { cachedSighashes } from "../components/bitcoin/sighash.ts";
import { BLOCK_SCRIPT_VERIFY_FLAGS } from "../components/node/chain/script.ts";
import { TxScriptChecker } from "../components/node/chain/interpreter.ts";
import { decodeTx } from "../components/node/chain/tx.ts";
import { report } from "./measure.ts";

const KEY = new Uint8Array(32).fill(7);
const WPKH = p2wpkh(secp256k1.getPublicKey(KEY, true));
const TR = p2tr(schnorr.getPublicKey(KEY));

/** An unsigned transaction of `inputs` inputs paying one output. */
function unsigned(inputs: number): Transaction {
  const tx = new Transaction();
  for (let i = 0; i < inputs; i++) {
    const payment = i % 2 === 0 ? WPKH : TR;
    const txid = new Uint8Array(32);
    new DataView(txid.buffer).setUint32(0, i + 1);
    tx.addInput({
      txid,
      index: 0,
      witnessUtxo: { script: payment.script, amount: 10_000n },
      ...(payment === TR ? { tapInternalKey: TR.tapInternalKey } : {}),
    });
  }
  tx.addOutput({ script: WPKH.script, amount: BigInt(inputs) * 9_000n });
  return tx;
}

/** Microseconds per input to sign a transaction of `inputs` inputs. */
function signing(inputs: number, cached: boolean): number {
  const tx = unsigned(inputs);
  const start = performance.now();
  {
    using _sighashes = cached ? cachedSighashes(tx) : undefined;
    for (let i = 0; i < inputs; i++) tx.signIdx(KEY, i);
  }
  const elapsed = performance.now() - start;
  tx.finalize();
  return (elapsed * 1000) / inputs;
}

/** Microseconds per input for the node to check every input's script. */
function checking(inputs: number): number {
  const tx = unsigned(inputs);
  {
    using _sighashes = cachedSighashes(tx);
    tx.sign(KEY);
  }
  tx.finalize();
  const spent = Array.from({ length: inputs }, (_, i) => tx.getInput(i).witnessUtxo!);
  const start = performance.now();
  const failure = new TxScriptChecker(decodeTx(tx.extract()), spent).verifyAll(
    BLOCK_SCRIPT_VERIFY_FLAGS,
  );
  const elapsed = performance.now() - start;
  if (failure !== null) throw new Error(`input ${failure.index}: ${failure.error}`);
  return (elapsed * 1000) / inputs;
}

signing(50, true); // warm up
const small = report("sign_100_inputs_us_per_input", signing(100, true), "µs");
const large = report("sign_1000_inputs_us_per_input", signing(1000, true), "µs");
const scure = report("sign_1000_inputs_scure_us_per_input", signing(1000, false), "µs");
console.log(`RATIO sign_1000_vs_100_per_input ${(large / small).toFixed(2)}`);
console.log(`RATIO sign_1000_cached_vs_scure ${(large / scure).toFixed(2)}`);
checking(50); // warm up
const checkSmall = report("check_100_inputs_us_per_input", checking(100), "µs");
const checkLarge = report("check_1000_inputs_us_per_input", checking(1000), "µs");
console.log(`RATIO check_1000_vs_100_per_input ${(checkLarge / checkSmall).toFixed(2)}`);
