/**
 * `getblockstats`' numbers for one block, computed as Bitcoin Core's
 * `rpc/blockchain.cpp` does from the block and its undo data: fees,
 * fee rates (sat/vB, by weight percentiles), sizes, segwit totals and the
 * UTXO set's growth, all in satoshis and integer arithmetic where Core
 * uses it.
 *
 * `getblockstats` (`blockchain.ts`) calls `blockStats(block, undo, entry,
 * medianTimePast)`, a `Map` in Core's key order.
 * @module
 */
import {
  type Block,
  type BlockEntry,
  blockSubsidy,
  type Coin,
  hashToHex,
  hasWitness,
  isCoinbase,
  isUnspendable,
  MAX_MONEY,
  txSizes,
  WITNESS_SCALE_FACTOR,
} from "../chain/mod.ts";
import type { JsonInput } from "../../rpc/mod.ts";

/** Core's `MAX_BLOCK_SERIALIZED_SIZE` (the start of the minimum transaction size). */
const MAX_BLOCK_SERIALIZED_SIZE = 4_000_000;
/** `PER_UTXO_OVERHEAD`: outpoint (36), height (4) and coinbase flag (1). */
const PER_UTXO_OVERHEAD = 41;

/** Every statistic's name, in the order of the full result. */
export const BLOCK_STATS = [
  "avgfee",
  "avgfeerate",
  "avgtxsize",
  "blockhash",
  "feerate_percentiles",
  "height",
  "ins",
  "maxfee",
  "maxfeerate",
  "maxtxsize",
  "medianfee",
  "mediantime",
  "mediantxsize",
  "minfee",
  "minfeerate",
  "mintxsize",
  "outs",
  "subsidy",
  "swtotal_size",
  "swtotal_weight",
  "swtxs",
  "time",
  "total_out",
  "total_size",
  "total_weight",
  "totalfee",
  "txs",
  "utxo_increase",
  "utxo_size_inc",
  "utxo_increase_actual",
  "utxo_size_inc_actual",
] as const;

/** `GetSerializeSize(CTxOut)`: amount, script length prefix and script. */
function outputSize(script: Uint8Array): number {
  const prefix = script.length < 0xfd ? 1 : script.length <= 0xffff ? 3 : 5;
  return 8 + prefix + script.length;
}

/** `CalculateTruncatedMedian`. */
function truncatedMedian(values: bigint[]): bigint {
  if (values.length === 0) return 0n;
  values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const middle = Math.floor(values.length / 2);
  return values.length % 2 === 0 ? (values[middle - 1] + values[middle]) / 2n : values[middle];
}

/** `CalculatePercentilesByWeight`: fee rates at the 10/25/50/75/90th percentile weight unit. */
function percentilesByWeight(scores: [bigint, number][], totalWeight: number): bigint[] {
  const result = [0n, 0n, 0n, 0n, 0n];
  if (scores.length === 0) return result;
  scores.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  const weights = [
    totalWeight / 10.0,
    totalWeight / 4.0,
    totalWeight / 2.0,
    (totalWeight * 3.0) / 4.0,
    (totalWeight * 9.0) / 10.0,
  ];
  let next = 0;
  let cumulative = 0;
  for (const [rate, weight] of scores) {
    cumulative += weight;
    while (next < 5 && cumulative >= weights[next]) result[next++] = rate;
  }
  for (let i = next; i < 5; i++) result[i] = scores[scores.length - 1][0];
  return result;
}

/**
 * All of `getblockstats`' values for `block` at `entry`, in Core's key
 * order; `undo` holds, per non-coinbase transaction, the coins it spent
 * (empty for genesis).
 */
export function blockStats(
  block: Block,
  undo: readonly (readonly Coin[])[],
  entry: BlockEntry,
  medianTimePast: number,
): Map<string, JsonInput> {
  let maxFee = 0n;
  let maxFeeRate = 0n;
  let minFee = MAX_MONEY;
  let minFeeRate = MAX_MONEY;
  let totalOut = 0n;
  let totalFee = 0n;
  let inputs = 0;
  let maxTxSize = 0;
  let minTxSize = MAX_BLOCK_SERIALIZED_SIZE;
  let outputs = 0;
  let swTotalSize = 0;
  let swTotalWeight = 0;
  let swTxs = 0;
  let totalSize = 0;
  let totalWeight = 0;
  let utxos = 0;
  let utxoSizeInc = 0;
  let utxoSizeIncActual = 0;
  const fees: bigint[] = [];
  const feeRates: [bigint, number][] = [];
  const txSizesList: bigint[] = [];
  block.txs.forEach((tx, i) => {
    outputs += tx.outputs.length;
    let txOut = 0n;
    for (const output of tx.outputs) {
      txOut += output.amount;
      const size = outputSize(output.script) + PER_UTXO_OVERHEAD;
      utxoSizeInc += size;
      // Genesis outputs never enter the UTXO set, nor do unspendable ones.
      if (entry.height === 0 || isUnspendable(output.script)) continue;
      utxos++;
      utxoSizeIncActual += size;
    }
    if (isCoinbase(tx)) return;
    inputs += tx.inputs.length;
    totalOut += txOut;
    const { size, weight } = txSizes(tx);
    txSizesList.push(BigInt(size));
    maxTxSize = Math.max(maxTxSize, size);
    minTxSize = Math.min(minTxSize, size);
    totalSize += size;
    totalWeight += weight;
    if (hasWitness(tx)) {
      swTxs++;
      swTotalSize += size;
      swTotalWeight += weight;
    }
    let txIn = 0n;
    for (const coin of undo[i - 1]) {
      txIn += coin.amount;
      const spentSize = outputSize(coin.script) + PER_UTXO_OVERHEAD;
      utxoSizeInc -= spentSize;
      utxoSizeIncActual -= spentSize;
    }
    const fee = txIn - txOut;
    fees.push(fee);
    if (fee > maxFee) maxFee = fee;
    if (fee < minFee) minFee = fee;
    totalFee += fee;
    // Satoshis per virtual byte, truncated.
    const feeRate = weight ? (fee * BigInt(WITNESS_SCALE_FACTOR)) / BigInt(weight) : 0n;
    feeRates.push([feeRate, weight]);
    if (feeRate > maxFeeRate) maxFeeRate = feeRate;
    if (feeRate < minFeeRate) minFeeRate = feeRate;
  });
  const others = BigInt(block.txs.length - 1);
  return new Map<string, JsonInput>([
    ["avgfee", others > 0n ? totalFee / others : 0n],
    [
      "avgfeerate",
      totalWeight ? (totalFee * BigInt(WITNESS_SCALE_FACTOR)) / BigInt(totalWeight) : 0n,
    ],
    ["avgtxsize", others > 0n ? BigInt(totalSize) / others : 0n],
    ["blockhash", hashToHex(entry.hash)],
    ["feerate_percentiles", percentilesByWeight(feeRates, totalWeight)],
    ["height", entry.height],
    ["ins", inputs],
    ["maxfee", maxFee],
    ["maxfeerate", maxFeeRate],
    ["maxtxsize", maxTxSize],
    ["medianfee", truncatedMedian(fees)],
    ["mediantime", medianTimePast],
    ["mediantxsize", truncatedMedian(txSizesList)],
    ["minfee", minFee === MAX_MONEY ? 0n : minFee],
    ["minfeerate", minFeeRate === MAX_MONEY ? 0n : minFeeRate],
    ["mintxsize", minTxSize === MAX_BLOCK_SERIALIZED_SIZE ? 0 : minTxSize],
    ["outs", outputs],
    ["subsidy", blockSubsidy(entry.height)],
    ["swtotal_size", swTotalSize],
    ["swtotal_weight", swTotalWeight],
    ["swtxs", swTxs],
    ["time", entry.header.time],
    ["total_out", totalOut],
    ["total_size", totalSize],
    ["total_weight", totalWeight],
    ["totalfee", totalFee],
    ["txs", block.txs.length],
    ["utxo_increase", outputs - inputs],
    ["utxo_size_inc", utxoSizeInc],
    ["utxo_increase_actual", utxos - inputs],
    ["utxo_size_inc_actual", utxoSizeIncActual],
  ]);
}
