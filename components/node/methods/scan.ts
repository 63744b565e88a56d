/**
 * `scantxoutset`'s scan (Bitcoin Core's `FindScriptPubKey` and
 * `CoinsViewScanReserver`): one scan at a time through the UTXO set,
 * matching output scripts, with a progress figure (from the first two
 * bytes of the txid being read, as Core computes it) and an abort flag
 * that `status` and `abort` calls read and set while it runs — the scan
 * lets other work in every 256 coins.
 *
 * @example
 * ```ts
 * import { TxOutSetScan } from "./scan.ts";
 * const scan = new TxOutSetScan();
 * const result = await scan.run([], new Set(), new AbortController().signal);
 * if (!result.success || result.count !== 0 || scan.progress !== undefined) throw new Error("idle");
 * ```
 * @module
 */
import type { Coin, OutPoint } from "../chain/mod.ts";
import { hex } from "@scure/base";
import { RpcError, RpcErrorCode } from "../../rpc/mod.ts";

/** Coins between progress updates and chances for other work to run. */
const STEP = 256;

/** What a finished scan found. */
export interface ScanResult {
  /** False when it was aborted. */
  readonly success: boolean;
  /** Coins read. */
  readonly count: number;
  /** The coins whose script was searched for, in cursor order. */
  readonly found: (readonly [OutPoint, Coin])[];
}

/** The one scan a node runs at a time. */
export class TxOutSetScan {
  #running = false;
  #progress = 0;
  #abort = false;

  /** The running scan's progress in percent, or undefined when none runs. */
  get progress(): number | undefined {
    return this.#running ? this.#progress : undefined;
  }

  /** Asks the running scan to stop; false when none runs. */
  abort(): boolean {
    if (!this.#running) return false;
    this.#abort = true;
    return true;
  }

  /**
   * Scans `coins` for outputs paying one of `scripts` (hex). -8 when a scan
   * is already running; -9 `Shutting down` when `signal` aborts.
   */
  async run(
    coins: Iterable<readonly [OutPoint, Coin]> | AsyncIterable<readonly [OutPoint, Coin]>,
    scripts: ReadonlySet<string>,
    signal: AbortSignal,
  ): Promise<ScanResult> {
    if (this.#running) {
      throw new RpcError(
        RpcErrorCode.INVALID_PARAMETER,
        'Scan already in progress, use action "abort" or "status"',
      );
    }
    this.#running = true;
    this.#abort = false;
    this.#progress = 0;
    try {
      const found: (readonly [OutPoint, Coin])[] = [];
      let count = 0;
      for await (const item of coins) {
        if (++count % STEP === 0) {
          const [{ txid }] = item;
          this.#progress = Math.floor(((0x100 * txid[0] + txid[1]) * 100) / 65536 + 0.5);
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (signal.aborted) {
            throw new RpcError(RpcErrorCode.CLIENT_NOT_CONNECTED, "Shutting down");
          }
          if (this.#abort) return { success: false, count, found };
        }
        if (scripts.has(hex.encode(item[1].script))) found.push(item);
      }
      this.#progress = 100;
      return { success: true, count, found };
    } finally {
      this.#running = false;
      this.#progress = 0;
    }
  }
}
