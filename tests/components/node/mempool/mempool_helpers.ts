/**
 * Helpers for the mempool tests: a real chain in a temporary directory
 * with mature coinbase outputs for a test key, a mempool on it recording
 * its notifications, a controllable clock, and transactions really signed
 * through `@scure/btc-signer` (the chain tests' helpers).
 *
 * @module
 */
import {
  type Block,
  type ChainState,
  generateBlock,
  hashToHex,
  type TemplateTx,
  type Tx,
  txid,
} from "../../../../components/node/chain/mod.ts";
import {
  type AcceptResult,
  Mempool,
  type MempoolPolicy,
} from "../../../../components/node/mempool/mod.ts";
import { assert, assertEquals } from "../../../assert.ts";
import {
  coinbaseUtxo,
  openTempChain,
  type SignOptions,
  signTx,
  TestKey,
  type Utxo,
  utxosOf,
} from "../chain/chain_helpers.ts";

export { signTx, TestKey, type Utxo, utxosOf };

/** What the mempool told its listener, as `<added|reason> <txid>` lines. */
export type EventLog = string[];

/** A chain, a mempool on it, a key with spendable coinbase outputs, and a settable clock. */
export interface Fixture extends Disposable {
  readonly chain: ChainState & { dir: string };
  readonly mempool: Mempool;
  readonly key: TestKey;
  /** Mature coinbase outputs of `key`, one per block, oldest first. */
  readonly coins: Utxo[];
  /** Notifications received so far. */
  readonly events: EventLog;
  /** The chain's (and mempool's) clock, in UNIX seconds; tests may move it. */
  clock: number;
  /** Mines one block paying `key` holding `txs` (fees taken as given). */
  mine(txs?: TemplateTx[]): Block;
}

/** Options of {@linkcode setup}. */
export interface SetupOptions {
  /** Mature coinbase outputs to provide (default 5). */
  readonly coins?: number;
  readonly policy?: Partial<MempoolPolicy>;
}

/** A fresh chain with `coins` mature coinbase outputs of a test key, and a mempool on it. */
export function setup(options: SetupOptions = {}): Fixture {
  const count = options.coins ?? 5;
  const key = new TestKey(11);
  const fixture = {
    clock: 1_700_000_000,
  } as Fixture & { clock: number };
  const chain = openTempChain({ now: () => fixture.clock });
  const blocks: Block[] = [];
  for (let i = 0; i < count + 100; i++) {
    blocks.push(generateBlock(chain, { payoutScript: key.wpkh }));
  }
  const mempool = new Mempool(chain, options.policy);
  const events: EventLog = [];
  const subscription = mempool.subscribe({
    added: (entry) => events.push(`added ${hashToHex(entry.txid)}`),
    removed: (tx, reason) => events.push(`${reason} ${hashToHex(txid(tx))}`),
  });
  return Object.assign(fixture, {
    chain,
    mempool,
    key,
    coins: blocks.slice(0, count).map((block) => coinbaseUtxo(block, key)),
    events,
    mine: (txs: TemplateTx[] = []) => generateBlock(chain, { payoutScript: key.wpkh, txs }),
    [Symbol.dispose]: () => {
      subscription[Symbol.dispose]();
      mempool[Symbol.dispose]();
      chain[Symbol.dispose]();
    },
  });
}

/** A transaction spending `inputs` to `key`'s P2WPKH outputs of the given amounts. */
export function pay(
  inputs: readonly Utxo[],
  key: TestKey,
  amounts: readonly bigint[],
  options: SignOptions = {},
): Tx {
  return signTx(inputs, amounts.map((amount) => ({ script: key.wpkh, amount })), options);
}

/** A one-input, one-output P2WPKH spend (110 vbytes) of `input` paying `fee`. */
export function spend(input: Utxo, fee: bigint, options: SignOptions = {}): Tx {
  return pay([input], input.key, [input.amount - fee], options);
}

/** A chain of one-in-one-out spends from `input`, each spending the previous, paying `fees`. */
export function chainOf(input: Utxo, ...fees: bigint[]): Tx[] {
  const txs: Tx[] = [];
  let utxo = input;
  for (const fee of fees) {
    const tx = spend(utxo, fee);
    txs.push(tx);
    utxo = utxosOf(tx, input.key)[0];
  }
  return txs;
}

/** Accepts each of `txs` into `mempool`, asserting every one is accepted. */
export function acceptAll(mempool: Mempool, ...txs: Tx[]): void {
  for (const tx of txs) accepted(mempool.accept(tx));
}

/** Asserts `result` was accepted, returning it. */
export function accepted(result: AcceptResult): AcceptResult {
  assert(result.accepted, `refused: ${result.reject?.message}`);
  return result;
}

/** Asserts `result` was refused with `message` and `code`, returning the reject. */
export function refused(result: AcceptResult, message: string, code = -26) {
  assert(!result.accepted, "expected a refusal");
  assertEquals(result.reject?.message, message);
  assertEquals(result.reject?.code, code);
  return result.reject!;
}

/** The display txid of a transaction. */
export function txidOf(tx: Tx): string {
  return hashToHex(txid(tx));
}
