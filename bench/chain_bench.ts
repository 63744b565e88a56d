/**
 * Chain benchmarks: prints `BENCH <name> <value> <unit>` per figure and
 * `RATIO <name> <x>` comparisons against references measured in the same run.
 *
 * - `generate_100_blocks_inprocess_ms`: assemble, solve and connect 100 blocks (what
 *   `generatetoaddress 100` does below the RPC layer).
 * - `connect_block_tx_per_s`: `processBlock` of blocks holding 1,000 signed
 *   one-in-one-out P2WPKH spends each — every check, script verification and
 *   the SQLite commit included.
 * - `filter_match_scripts_per_s`: a BIP 158 filter's `matchAny` of 800
 *   22-byte scripts (a wallet's pool), per script: SipHash, range mapping
 *   and the sorted walk — what a wallet's fast rescan pays per block.
 * - References: noble's ECDSA verifications per second (one per P2WPKH spend)
 *   and double SHA-256 of 80-byte headers per second.
 *
 * Run: `deno run --allow-read --allow-write --allow-env bench/chain_bench.ts`
 *
 * @module
 */
import { perSecond, report } from "./measure.ts";
import { P2wpkhKey } from "./p2wpkh.ts";
import { BlockFilter } from "../components/node/chain/blockfilter.ts";
import {
  ChainState,
  createBlockTemplate,
  generateBlock,
  sha256d,
  solveBlock,
} from "../components/node/chain/mod.ts";

const BLOCK_TXS = 1000;
const BLOCKS = 3;

const key = new P2wpkhKey("chain bench key");
const script = key.script;

const dir = Deno.makeTempDirSync({ prefix: "chain_bench_" });
try {
  using chain = ChainState.open(dir);

  const started = performance.now();
  for (let i = 0; i < 100; i++) generateBlock(chain, { payoutScript: script });
  const generateMs = report("generate_100_blocks_inprocess_ms", performance.now() - started, "ms");

  // Mature BLOCKS coinbases, then fan each out to BLOCK_TXS outputs in one block.
  for (let i = 0; i < BLOCKS + 1; i++) generateBlock(chain, { payoutScript: script });
  const fanOuts = key.fanOuts(chain, BLOCKS, BLOCK_TXS);
  generateBlock(chain, { payoutScript: script, txs: fanOuts });

  // Sign every spend before measuring; each block builds on the previous one's tip.
  let connectMs = 0;
  for (const fanOut of fanOuts) {
    const spends = key.spendEach(fanOut.tx, 1_000n);
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
  const verifies = report("chain_ref_ecdsa_verify_per_s", key.verifiesPerSecond(), "verify/s");
  const header = new Uint8Array(80);
  const hashes = report("ref_sha256d_header_per_s", perSecond(() => sha256d(header)), "hash/s");
  console.log(`RATIO connect_tx_vs_ecdsa_verify ${(txPerSecond / verifies).toFixed(2)}`);
  // P2WPKH-shaped scripts, none of them in the filter (a match would end the walk early).
  const scripts = Array.from({ length: 800 }, (_, i) => {
    const script = new Uint8Array(22);
    script.set([0, 20, i >> 8, i & 0xff]);
    return script;
  });
  const filter = BlockFilter.fromElements(sha256d(header), [scripts[0].map((b) => b ^ 1)]);
  const matches = report(
    "filter_match_scripts_per_s",
    perSecond(() => filter.matchAny(scripts)) * scripts.length,
    "script/s",
  );
  console.log(`RATIO filter_match_vs_sha256d ${(matches / hashes).toFixed(2)}`);
  console.log(
    `RATIO generate_block_vs_sha256d ${((generateMs / 100) / (1000 / hashes)).toFixed(0)}`,
  );
} finally {
  Deno.removeSync(dir, { recursive: true });
}
