/**
 * Mempool benchmark: prints `BENCH <name> <value> <unit>` per figure and a
 * `RATIO` against a reference measured in the same run.
 *
 * - `mempool_accept_inprocess_tx_per_s`: signed one-in-one-out P2WPKH spends of
 *   confirmed outputs accepted one after another through `Mempool.accept`
 *   (every policy check, the UTXO lookups in SQLite and the signature
 *   verification included; the node's figure through `sendrawtransaction`,
 *   `mempool_accept_tx_per_s`, is `node_bench.ts`'s).
 * - Reference: noble's ECDSA verifications per second (one per spend).
 *
 * Run: `deno run --allow-read --allow-write --allow-env bench/mempool_bench.ts`
 *
 * @module
 */
import { report } from "./measure.ts";
import { P2wpkhKey } from "./p2wpkh.ts";
import { ChainState, generateBlock } from "../components/node/chain/mod.ts";
import { Mempool } from "../components/node/mempool/mod.ts";

const FAN_OUT = 1000;
const FAN_OUTS = 3;

const key = new P2wpkhKey("mempool bench key");

const dir = Deno.makeTempDirSync({ prefix: "mempool_bench_" });
try {
  using chain = ChainState.open(dir);
  for (let i = 0; i < 100 + FAN_OUTS; i++) generateBlock(chain, { payoutScript: key.script });
  const fanOuts = key.fanOuts(chain, FAN_OUTS, FAN_OUT);
  generateBlock(chain, { payoutScript: key.script, txs: fanOuts });
  // Sign every spend before measuring.
  const spends = fanOuts.flatMap(({ tx }) => key.spendEach(tx, 1_410n));

  using mempool = new Mempool(chain);
  const started = performance.now();
  for (const { tx } of spends) {
    const result = mempool.accept(tx);
    if (!result.accepted) throw new Error(`benchmark spend refused: ${result.reject?.message}`);
  }
  const elapsed = performance.now() - started;
  if (mempool.size !== spends.length) throw new Error("not every spend is in the mempool");
  const txPerSecond = report(
    "mempool_accept_inprocess_tx_per_s",
    spends.length / (elapsed / 1000),
    "tx/s",
  );
  const verifies = report("mempool_ref_ecdsa_verify_per_s", key.verifiesPerSecond(), "verify/s");
  console.log(`RATIO mempool_accept_vs_ecdsa_verify ${(txPerSecond / verifies).toFixed(2)}`);
} finally {
  Deno.removeSync(dir, { recursive: true });
}
