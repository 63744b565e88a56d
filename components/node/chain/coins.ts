/**
 * Unspent outputs (coins) and views of a UTXO set. {@linkcode CoinsCache}
 * layers changes over any {@linkcode CoinsView} — block connection applies a
 * block to one, the mempool can overlay its own outputs with one — and lists
 * the changes for the owner of the base view to write.
 *
 * @example
 * ```ts
 * import { CoinsCache, type CoinsView } from "./coins.ts";
 * const empty: CoinsView = { getCoin: () => undefined };
 * const cache = new CoinsCache(empty);
 * const outpoint = { txid: new Uint8Array(32), index: 0 };
 * cache.addCoin(outpoint, { amount: 1n, script: new Uint8Array(), height: 1, coinbase: false });
 * if (cache.spendCoin(outpoint)?.amount !== 1n || cache.getCoin(outpoint)) throw new Error("spent");
 * ```
 * @module
 */
import { type OutPoint, outpointKey } from "./tx.ts";

/** An unspent output and where it was created (Core's `Coin`). */
export interface Coin {
  readonly amount: bigint;
  readonly script: Uint8Array;
  /** Height of the block that created it. */
  readonly height: number;
  /** Whether a coinbase created it (then it matures after 100 blocks). */
  readonly coinbase: boolean;
}

/** Read access to a UTXO set. */
export interface CoinsView {
  /** The unspent output at `outpoint`, or undefined when it is spent or never existed. */
  getCoin(outpoint: OutPoint): Coin | undefined;
}

/** One change a {@linkcode CoinsCache} holds: a coin added, or spent (`coin` null). */
export interface CoinChange {
  readonly outpoint: OutPoint;
  readonly coin: Coin | null;
}

/** Changes to a UTXO set held in memory over a base view, whose reads it also remembers. */
export class CoinsCache implements CoinsView {
  readonly #base: CoinsView;
  readonly #changes = new Map<string, CoinChange>();
  readonly #read = new Map<string, Coin | undefined>();

  constructor(base: CoinsView) {
    this.#base = base;
  }

  /** The coin at `outpoint` as changed here, else as in the base view. */
  getCoin(outpoint: OutPoint): Coin | undefined {
    const key = outpointKey(outpoint);
    const change = this.#changes.get(key);
    if (change) return change.coin ?? undefined;
    if (this.#read.has(key)) return this.#read.get(key);
    const coin = this.#base.getCoin(outpoint);
    this.#read.set(key, coin);
    return coin;
  }

  /** Adds an unspent output. */
  addCoin(outpoint: OutPoint, coin: Coin): void {
    this.#changes.set(outpointKey(outpoint), { outpoint, coin });
  }

  /** Spends the coin at `outpoint`, returning it; undefined (and no change) when there is none. */
  spendCoin(outpoint: OutPoint): Coin | undefined {
    const coin = this.getCoin(outpoint);
    if (coin) this.#changes.set(outpointKey(outpoint), { outpoint, coin: null });
    return coin;
  }

  /** Every change, in the order outpoints were first touched. */
  changes(): Iterable<CoinChange> {
    return this.#changes.values();
  }
}
