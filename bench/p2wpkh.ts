/**
 * One P2WPKH key for the node benchmarks: transactions signed with it
 * through `@scure/btc-signer`, and the reference figure they compare with —
 * noble's ECDSA verifications per second (each spend costs one).
 *
 * @module
 */
import { p2wpkh, Transaction } from "@scure/btc-signer";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  type ChainState,
  decodeTx,
  type Hash,
  type TemplateTx,
  type Tx,
  txid,
} from "../components/node/chain/mod.ts";
import { perSecond } from "./measure.ts";

/** An output to spend: its txid (internal byte order), index and amount. */
export interface SpendInput {
  readonly txid: Hash;
  readonly index: number;
  readonly amount: bigint;
}

/** A key whose P2WPKH outputs the benchmarks create and spend. */
export class P2wpkhKey {
  readonly secret: Uint8Array;
  /** The key's P2WPKH scriptPubKey. */
  readonly script: Uint8Array;

  constructor(seed: string) {
    this.secret = sha256(new TextEncoder().encode(seed));
    this.script = p2wpkh(secp256k1.getPublicKey(this.secret, true)).script;
  }

  /** A signed transaction spending `inputs` (paid to this key) to this key's outputs of `amounts`. */
  sign(inputs: readonly SpendInput[], amounts: readonly bigint[]): Tx {
    const tx = new Transaction();
    for (const input of inputs) {
      tx.addInput({
        txid: input.txid.slice().reverse(),
        index: input.index,
        witnessUtxo: { script: this.script, amount: input.amount },
      });
    }
    for (const amount of amounts) tx.addOutput({ script: this.script, amount });
    tx.sign(this.secret);
    tx.finalize();
    return decodeTx(tx.toBytes(true, true));
  }

  /**
   * Transactions splitting the coinbase outputs of blocks 1..`count` of
   * `chain` (paid to this key, mature) into `outputs` equal outputs each,
   * with the fee each pays.
   */
  fanOuts(chain: ChainState, count: number, outputs: number): TemplateTx[] {
    const fanOuts: TemplateTx[] = [];
    for (let height = 1; height <= count; height++) {
      const coinbase = chain.readBlock(chain.entryAtHeight(height)!.hash)!.txs[0];
      const amount = coinbase.outputs[0].amount;
      const each = (amount - 100_000n) / BigInt(outputs);
      const tx = this.sign([{ txid: txid(coinbase), index: 0, amount }], Array(outputs).fill(each));
      fanOuts.push({ tx, fee: amount - each * BigInt(outputs) });
    }
    return fanOuts;
  }

  /** One-in-one-out spends of every output of `tx`, each paying `fee`. */
  spendEach(tx: Tx, fee: bigint): TemplateTx[] {
    const hash = txid(tx);
    return tx.outputs.map((output, index) => ({
      tx: this.sign([{ txid: hash, index, amount: output.amount }], [output.amount - fee]),
      fee,
    }));
  }

  /** ECDSA verifications per second with this key (noble, DER, as script checks call it). */
  verifiesPerSecond(): number {
    const digest = sha256(new TextEncoder().encode("message"));
    const signature = secp256k1.sign(digest, this.secret, { prehash: false, format: "der" });
    const publicKey = secp256k1.getPublicKey(this.secret, true);
    return perSecond(() =>
      secp256k1.verify(signature, digest, publicKey, { prehash: false, format: "der", lowS: false })
    );
  }
}
