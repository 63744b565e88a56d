/**
 * Chain benchmarks: prints `BENCH <name> <value> <unit>` per figure and
 * `RATIO <name> <x>` comparisons against references measured in the same run.
 *
 * - `generate_100_blocks_ms`: assemble, solve and connect 100 blocks (what
 *   `generatetoaddress 100` does below the RPC layer).
 * - `connect_block_tx_per_s`: `processBlock` of blocks holding 1,000 signed
 *   one-in-one-out P2WPKH spends each — every check, script verification and
 *   the SQLite commit included.
 * - References: noble's ECDSA verifications per second (one per P2WPKH spend)
 *   and double SHA-256 of 80-byte headers per second.
 *
 * Run: `deno run --allow-read --allow-write --allow-env bench/chain_bench.ts`
 *
 * @module
 */
import { p2wpkh, Transaction } from "@scure/btc-signer";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { report } from "./measure.ts";
import {
  ChainState,
  createBlockTemplate,
  decodeTx,
  generateBlock,
  sha256d,
  solveBlock,
  type TemplateTx,
  type Tx,
  txid,
} from "../components/node/chain/mod.ts";

const BLOCK_TXS = 1000;
const BLOCKS = 3;

const secret = sha256(new TextEncoder().encode("chain bench key"));
const script = p2wpkh(secp256k1.getPublicKey(secret, true)).script;

/** A signed transaction spending `inputs` (outpoints with their amounts) to `outputs` amounts. */
function sign(
  inputs: { txid: Uint8Array; index: number; amount: bigint }[],
  outputs: bigint[],
): Tx {
  const tx = new Transaction();
  for (const input of inputs) {
    tx.addInput({
      txid: input.txid.slice().reverse(),
      index: input.index,
      witnessUtxo: { script, amount: input.amount },
    });
  }
  for (const amount of outputs) tx.addOutput({ script, amount });
  tx.sign(secret);
  tx.finalize();
  return decodeTx(tx.toBytes(true, true));
}

/** Operations per second of `op`, run for about a second. */
function perSecond(op: () => void): number {
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < 1000) {
    op();
    count++;
  }
  return count / ((performance.now() - started) / 1000);
}

const dir = Deno.makeTempDirSync({ prefix: "chain_bench_" });
try {
  using chain = ChainState.open(dir);

  const started = performance.now();
  for (let i = 0; i < 100; i++) generateBlock(chain, { payoutScript: script });
  const generateMs = report("generate_100_blocks_ms", performance.now() - started, "ms");

  // Mature BLOCKS coinbases, then fan each out to BLOCK_TXS outputs in one block.
  for (let i = 0; i < BLOCKS + 1; i++) generateBlock(chain, { payoutScript: script });
  const fanOuts: TemplateTx[] = [];
  for (let height = 1; height <= BLOCKS; height++) {
    const coinbase = chain.readBlock(chain.entryAtHeight(height)!.hash)!.txs[0];
    const amount = coinbase.outputs[0].amount;
    const each = (amount - 100_000n) / BigInt(BLOCK_TXS);
    const tx = sign([{ txid: txid(coinbase), index: 0, amount }], Array(BLOCK_TXS).fill(each));
    fanOuts.push({ tx, fee: amount - each * BigInt(BLOCK_TXS) });
  }
  generateBlock(chain, { payoutScript: script, txs: fanOuts });

  // Sign every spend before measuring; each block builds on the previous one's tip.
  let connectMs = 0;
  for (const fanOut of fanOuts) {
    const hash = txid(fanOut.tx);
    const spends = fanOut.tx.outputs.map((output, index) => ({
      tx: sign([{ txid: hash, index, amount: output.amount }], [output.amount - 1_000n]),
      fee: 1_000n,
    }));
    const { block } = createBlockTemplate(chain, { payoutScript: script, txs: spends });
    if (!solveBlock(block)) throw new Error("no nonce");
    const before = performance.now();
    const result = chain.processBlock(block);
    connectMs += performance.now() - before;
    if (result !== null) throw new Error(`benchmark block refused: ${result}`);
  }
  const txPerSecond = report(
    "connect_block_tx_per_s",
    (BLOCKS * BLOCK_TXS) / (connectMs / 1000),
    "tx/s",
  );

  // References measured in this run.
  const digest = sha256(new TextEncoder().encode("message"));
  const signature = secp256k1.sign(digest, secret, { prehash: false, format: "der" });
  const publicKey = secp256k1.getPublicKey(secret, true);
  const verifies = report(
    "ref_ecdsa_verify_per_s",
    perSecond(() =>
      secp256k1.verify(signature, digest, publicKey, { prehash: false, format: "der", lowS: false })
    ),
    "verify/s",
  );
  const header = new Uint8Array(80);
  const hashes = report("ref_sha256d_header_per_s", perSecond(() => sha256d(header)), "hash/s");
  console.log(`RATIO connect_tx_vs_ecdsa_verify ${(txPerSecond / verifies).toFixed(2)}`);
  console.log(
    `RATIO generate_block_vs_sha256d ${((generateMs / 100) / (1000 / hashes)).toFixed(0)}`,
  );
} finally {
  Deno.removeSync(dir, { recursive: true });
}
