/**
 * Helpers for the chain tests: keys with their P2WPKH, P2PKH and P2TR
 * scripts, transactions really signed through `@scure/btc-signer`, temporary
 * chains, mining, and a UTXO set rebuilt from the active chain's stored
 * blocks without the chain's own connection code.
 *
 * @module
 */
import { p2pkh, p2tr, p2wpkh, Transaction } from "@scure/btc-signer";
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  type Block,
  type BlockEntry,
  blockMerkleRoot,
  ChainState,
  type ChainStateOptions,
  type Coin,
  createBlockTemplate,
  decodeTx,
  generateBlock,
  hashToHex,
  isCoinbase,
  type OutPoint,
  prevout,
  solveBlock,
  type TemplateTx,
  type Tx,
  txid,
} from "../../../../components/node/chain/mod.ts";
import { assert, assertEquals } from "../../../assert.ts";
import { tempDir } from "../../../helpers.ts";

/** A private key and the three kinds of output this node validates spends of. */
export class TestKey {
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly xOnly: Uint8Array;
  readonly wpkh: Uint8Array;
  readonly pkh: Uint8Array;
  readonly tr: Uint8Array;

  constructor(seed: number) {
    this.secret = sha256(Uint8Array.of(seed, 0x42));
    this.publicKey = secp256k1.getPublicKey(this.secret, true);
    this.xOnly = schnorr.getPublicKey(this.secret);
    this.wpkh = p2wpkh(this.publicKey).script;
    this.pkh = p2pkh(this.publicKey).script;
    this.tr = p2tr(this.xOnly).script;
  }
}

/** An output the tests can spend: where it is, what it holds, and the key that unlocks it. */
export interface Utxo {
  readonly outpoint: OutPoint;
  readonly amount: bigint;
  readonly script: Uint8Array;
  readonly key: TestKey;
}

/** Options of {@linkcode signTx}. */
export interface SignOptions {
  readonly lockTime?: number;
  readonly sequence?: number;
  readonly version?: number;
  /** Lets outputs of any script through, bare P2PK and off-curve keys included. */
  readonly anyOutputs?: boolean;
}

/** A transaction spending `inputs` to `outputs`, every input signed (SIGHASH_ALL / default). */
export function signTx(
  inputs: readonly Utxo[],
  outputs: readonly { script: Uint8Array; amount: bigint }[],
  options: SignOptions = {},
): Tx {
  const tx = new Transaction({
    version: options.version ?? 2,
    lockTime: options.lockTime ?? 0,
    allowLegacyWitnessUtxo: true,
    allowUnknownOutputs: true,
    disableScriptCheck: options.anyOutputs ?? false,
  });
  for (const input of inputs) {
    const isTaproot = input.script[0] === 0x51;
    tx.addInput({
      txid: input.outpoint.txid.slice().reverse(),
      index: input.outpoint.index,
      sequence: options.sequence ?? 0xfffffffd,
      witnessUtxo: { script: input.script, amount: input.amount },
      ...(isTaproot ? { tapInternalKey: input.key.xOnly } : {}),
    });
  }
  for (const output of outputs) tx.addOutput({ script: output.script, amount: output.amount });
  inputs.forEach((input, i) => tx.signIdx(input.key.secret, i));
  tx.finalize();
  return decodeTx(tx.toBytes(true, true));
}

/** The outputs of `tx` that pay `key`'s scripts, as spendable {@linkcode Utxo}s. */
export function utxosOf(tx: Tx, key: TestKey): Utxo[] {
  const hash = txid(tx);
  const scripts = [key.wpkh, key.pkh, key.tr].map(hashToHex);
  return tx.outputs.flatMap((output, index) =>
    scripts.includes(hashToHex(output.script))
      ? [{ outpoint: { txid: hash, index }, amount: output.amount, script: output.script, key }]
      : []
  );
}

/** A chain in a fresh temporary directory, removed on dispose. */
export function openTempChain(options: ChainStateOptions = {}): ChainState & { dir: string } {
  const dir = tempDir("chain_test_");
  const chain = ChainState.open(dir.path, options) as ChainState & { dir: string };
  chain.dir = dir.path;
  const close = chain[Symbol.dispose].bind(chain);
  chain[Symbol.dispose] = () => {
    close();
    dir[Symbol.dispose]();
  };
  return chain;
}

/** Mines `count` blocks paying `key`'s P2WPKH script; the first carries `txs`. */
export function mine(
  chain: ChainState,
  count: number,
  key: TestKey,
  txs: TemplateTx[] = [],
): Block[] {
  const blocks: Block[] = [];
  for (let i = 0; i < count; i++) {
    blocks.push(generateBlock(chain, { payoutScript: key.wpkh, txs: i === 0 ? txs : [] }));
  }
  return blocks;
}

/** A mined block's coinbase payout as a spendable output. */
export function coinbaseUtxo(block: Block, key: TestKey): Utxo {
  return utxosOf(block.txs[0], key)[0];
}

/** How {@linkcode craftBlock} builds a block. */
export interface CraftOptions {
  readonly txs?: TemplateTx[];
  /** The parent; the tip by default. */
  readonly parent?: BlockEntry;
  /** Changes the block before its merkle root is recomputed and the nonce ground again. */
  readonly edit?: (block: Block) => void;
  /** Keep the header's merkle root as `edit` left it. */
  readonly keepMerkleRoot?: boolean;
}

/** A solved block paying `key`, built as the miner does and then optionally tampered with. */
export function craftBlock(chain: ChainState, key: TestKey, options: CraftOptions = {}): Block {
  const { block } = createBlockTemplate(chain, {
    payoutScript: key.wpkh,
    txs: options.txs,
    parent: options.parent,
  });
  options.edit?.(block);
  if (!options.keepMerkleRoot) block.header.merkleRoot = blockMerkleRoot(block).root;
  block.header.nonce = 0;
  assert(solveBlock(block));
  return block;
}

/** The UTXO set of the active chain, rebuilt by replaying its stored blocks. */
export function rebuildUtxoSet(chain: ChainState): Map<string, Coin> {
  const coins = new Map<string, Coin>();
  for (let height = 1; height <= chain.height; height++) {
    const block = chain.readBlock(chain.entryAtHeight(height)!.hash)!;
    for (const tx of block.txs) {
      if (!isCoinbase(tx)) {
        for (const input of tx.inputs) {
          const key = keyOf(prevout(input));
          assert(coins.delete(key), `block ${height} spends missing ${key}`);
        }
      }
      const hash = txid(tx);
      tx.outputs.forEach((output, index) => {
        if (output.script[0] === 0x6a) return;
        coins.set(keyOf({ txid: hash, index }), {
          amount: output.amount,
          script: output.script,
          height,
          coinbase: isCoinbase(tx),
        });
      });
    }
  }
  return coins;
}

function keyOf(outpoint: OutPoint): string {
  return `${hashToHex(outpoint.txid)}:${outpoint.index}`;
}

/** Asserts the chain's UTXO set equals the one rebuilt from its active blocks. */
export function assertUtxoSetMatchesBlocks(chain: ChainState): void {
  const rebuilt = rebuildUtxoSet(chain);
  const stats = chain.utxoStats();
  assertEquals(stats.txouts, rebuilt.size, "number of unspent outputs");
  let total = 0n;
  for (const [key, coin] of rebuilt) {
    const [hex, index] = key.split(":");
    const outpoint = { txid: hexToInternal(hex), index: Number(index) };
    assertEquals(chain.getCoin(outpoint), coin, `coin ${key}`);
    total += coin.amount;
  }
  assertEquals(stats.totalAmount, total);
}

function hexToInternal(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!.map((byte) => parseInt(byte, 16))).reverse();
}
