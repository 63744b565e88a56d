/**
 * Crash-test fixture (spawned by `crash_test.ts`, which SIGKILLs it): opens
 * the chain state in the directory given as the argument and keeps changing
 * it — mining blocks that spend mature coinbases and earlier outputs, and now
 * and then invalidating a recent block so the chain reorganises — printing
 * `block <hash>` after each block the chain has accepted and stored.
 *
 * Usage: `deno run --allow-read --allow-write crash_fixture.ts <dir>`
 *
 * @module
 */
import {
  blockHash,
  ChainState,
  COINBASE_MATURITY,
  createBlockTemplate,
  hashToHex,
  solveBlock,
  type TemplateTx,
} from "../../../../components/node/chain/mod.ts";
import { coinbaseUtxo, signTx, TestKey, type Utxo, utxosOf } from "./chain_helpers.ts";

const key = new TestKey(1);
using chain = ChainState.open(Deno.args[0]);

/** Outputs paying `key` in the tip block's transactions that are still unspent. */
function unspentAtTip(): Utxo[] {
  const block = chain.readBlock(chain.tip.hash)!;
  return block.txs.slice(1).flatMap((tx) => utxosOf(tx, key)).filter((utxo) =>
    chain.getCoin(utxo.outpoint)
  );
}

for (let round = 0;; round++) {
  const txs: TemplateTx[] = [];
  if (chain.height >= COINBASE_MATURITY) {
    const matured = chain.readBlock(
      chain.entryAtHeight(chain.height + 1 - COINBASE_MATURITY)!.hash,
    )!;
    const inputs = [coinbaseUtxo(matured, key), ...unspentAtTip()];
    const total = inputs.reduce((sum, utxo) => sum + utxo.amount, 0n);
    const part = (total - 10_000n) / 3n;
    const outputs = [key.wpkh, key.pkh, key.tr].map((script) => ({ script, amount: part }));
    txs.push({ tx: signTx(inputs, outputs), fee: total - 3n * part });
  }
  // A block re-mined after an invalidation could repeat the invalid one; a later time avoids that.
  const { block } = createBlockTemplate(chain, { payoutScript: key.wpkh, txs });
  while (!solveBlock(block) || chain.entry(blockHash(block.header))) block.header.time++;
  const result = chain.processBlock(block);
  if (result !== null) throw new Error(`block refused: ${result}`);
  console.log(`block ${hashToHex(blockHash(block.header))}`);
  if (round % 7 === 6 && chain.height > COINBASE_MATURITY + 3) {
    chain.invalidateBlock(chain.tip.prev!.hash);
  }
}
