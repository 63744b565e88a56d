/**
 * Regtest chain parameters as Bitcoin Core v30 sets them (`CRegTestParams`):
 * the genesis block, proof-of-work limit, subsidy schedule, deployment
 * heights, consensus limits, and regtest addresses (`bcrt` bech32, base58
 * versions 0x6f / 0xc4) through `@scure/btc-signer`.
 *
 * @example
 * ```ts
 * import { addressToScript, blockSubsidy, scriptToAddress } from "./params.ts";
 * if (blockSubsidy(150) !== 2_500_000_000n) throw new Error("halving every 150 blocks");
 * const address = "bcrt1q0xcqpzrky6eff2g52qdye53xkk9jxkvrl4xfg5";
 * if (scriptToAddress(addressToScript(address)) !== address) throw new Error("round trip");
 * ```
 * @module
 */
import { Address } from "@scure/btc-signer";
import { REGTEST_NETWORK } from "../../bitcoin/address.ts";
import { COIN } from "../../bitcoin/amount.ts";
import { type Block, blockHash, decodeBlock } from "./block.ts";
import { bech32, bech32m, hex } from "@scure/base";
import type { Hash } from "./hash.ts";
import { isPayToPubKeyHash, isPayToScriptHash, witnessProgram } from "./script.ts";

/** Blocks a coinbase output must wait before it can be spent. */
export const COINBASE_MATURITY = 100;
/** Regtest halves the subsidy every 150 blocks. */
export const SUBSIDY_HALVING_INTERVAL = 150;
export { MAX_BLOCK_WEIGHT } from "./assembly.ts";
/** Sigop cost limit per block. */
export const MAX_BLOCK_SIGOPS_COST = 80_000;
/** Weight of one byte of non-witness data. */
export const WITNESS_SCALE_FACTOR = 4;
/** The easiest target regtest allows (`powLimit`, 0x7fffff × 2^232). */
export const POW_LIMIT = 0x7fffffn << 232n;
/** The compact form of {@linkcode POW_LIMIT}: every regtest block carries these bits. */
export const POW_LIMIT_BITS = 0x207fffff;
/** Headers may be at most this many seconds ahead of the node's clock. */
export const MAX_FUTURE_BLOCK_TIME = 2 * 60 * 60;
/** Blocks in the median-time-past window. */
export const MEDIAN_TIME_SPAN = 11;
/**
 * Blocks per difficulty period: regtest's one-day timespan of 10-minute
 * blocks (it never retargets, but BIP 94's timing at period starts uses it).
 */
export const DIFFICULTY_ADJUSTMENT_INTERVAL = 144;
/** BIP 94: how far before its parent the first block of a period may be dated. */
export const MAX_TIMEWARP = 600;
/** Lock times below this are heights, above it UNIX times. */
export const LOCKTIME_THRESHOLD = 500_000_000;

/** Heights from which soft forks apply on regtest (all from the start, as in v30). */
export const DEPLOYMENT_HEIGHTS = Object.freeze({
  bip34: 1,
  bip66: 1,
  bip65: 1,
  csv: 1,
  segwit: 0,
  taproot: 0,
});

/** The regtest genesis block, serialized (identical to Bitcoin Core's). */
export const GENESIS_BLOCK_HEX = "01000000" + "00".repeat(32) +
  "3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a" + "dae5494d" + "ffff7f20" +
  "02000000" + "01" + "01000000" + "01" + "00".repeat(32) + "ffffffff" + "4d" +
  "04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272" +
  "696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73" + "ffffffff" + "01" +
  "00f2052a01000000" + "43" +
  "4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e5" +
  "1ec112de5c384df7ba0b8d578a4c702b6bf11d5fac" + "00000000";

/** The regtest genesis block, decoded. Treat as read-only. */
export const GENESIS_BLOCK: Block = decodeBlock(hex.decode(GENESIS_BLOCK_HEX));

/** The regtest genesis hash, `0f9188f1…466e2206` in display order. */
export const GENESIS_HASH: Hash = blockHash(GENESIS_BLOCK.header);

/**
 * The block subsidy at `height` (`GetBlockSubsidy`): 50 BTC halved every
 * {@linkcode SUBSIDY_HALVING_INTERVAL} blocks, zero after 64 halvings.
 */
export function blockSubsidy(height: number): bigint {
  const halvings = Math.floor(height / SUBSIDY_HALVING_INTERVAL);
  if (halvings >= 64) return 0n;
  return (50n * COIN) >> BigInt(halvings);
}

export { addressToScript, REGTEST_NETWORK } from "../../bitcoin/address.ts";

const base58Addresses = Address(REGTEST_NETWORK);

/**
 * The regtest address of an output script (Core's `ExtractDestination`), or
 * `undefined` when the script has none (OP_RETURN, bare multisig, P2PK,
 * version-0 programs of other lengths…).
 */
export function scriptToAddress(script: Uint8Array): string | undefined {
  const program = witnessProgram(script);
  if (program) {
    const { version, program: bytes } = program;
    if (version === 0 && bytes.length !== 20 && bytes.length !== 32) return undefined;
    const words = [version, ...bech32.toWords(bytes)];
    return (version === 0 ? bech32 : bech32m).encode(REGTEST_NETWORK.bech32, words, 90);
  }
  if (isPayToPubKeyHash(script)) {
    return base58Addresses.encode({ type: "pkh", hash: script.subarray(3, 23) });
  }
  if (isPayToScriptHash(script)) {
    return base58Addresses.encode({ type: "sh", hash: script.subarray(2, 22) });
  }
  return undefined;
}
