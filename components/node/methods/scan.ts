/**
 * The node's long scans, one of each kind at a time, each with a progress
 * figure and an abort flag that `status` and `abort` calls read and set
 * while it runs (Bitcoin Core's `CoinsViewScanReserver` and
 * `BlockFiltersScanReserver`): `scantxoutset`'s through the UTXO set
 * (`FindScriptPubKey`; its progress from the first two bytes of the txid
 * being read, as Core computes it) and `scanblocks`' through the block
 * filters. Each lets other work in as it goes. Also the arguments and
 * results the scanning methods document alike.
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
import type {
  BlockEntry,
  BlockFilterIndex,
  ChainState,
  Coin,
  Hash,
  OutPoint,
} from "../chain/mod.ts";
import { hex } from "@scure/base";
import { type ArgSpec, type ResultSpec, RpcError, RpcErrorCode } from "../../rpc/mod.ts";
import { SCAN_OBJECT_ELEMENTS } from "./descriptors.ts";
import { when } from "./docs.ts";

/** Coins between progress updates and chances for other work to run. */
const STEP = 256;

/** Blocks whose filters are read between chances for other work to run, at most. */
const FILTER_STEP = 128;
/** Script hashes (blocks × scripts) between chances for other work to run, at most. */
const FILTER_HASHES_PER_STEP = 200_000;

/** Core's `scan_action_arg_desc`. */
export const SCAN_ACTION_ARG: ArgSpec = {
  name: "action",
  type: "str",
  description: "The action to execute\n" +
    '"start" for starting a scan\n' +
    '"abort" for aborting the current scan (returns true when abort was successful)\n' +
    '"status" for progress report (in %) of the current scan',
};

/** Core's `scan_objects_arg_desc`. */
export const SCAN_OBJECTS_ARG: ArgSpec = {
  name: "scanobjects",
  type: "arr",
  optional: true,
  description: 'Array of scan objects. Required for "start" action\n' +
    "Every scan object is either a string descriptor or an object:",
  inner: SCAN_OBJECT_ELEMENTS,
  onelineDescription: "[scanobjects,...]",
};

/** Core's `scan_result_abort`. */
export const SCAN_RESULT_ABORT: ResultSpec = when("when action=='abort'", {
  type: "bool",
  description:
    "True if scan will be aborted (not necessarily before this RPC returns), or false if there is no scan to abort",
});

/** Core's `scan_result_status_none`. */
export const SCAN_RESULT_STATUS_NONE: ResultSpec = when(
  "when action=='status' and no scan is in progress - possibly already completed",
  { type: "none", description: "" },
);

/** The one scan of a kind: whether it runs, how far it got, and whether it was asked to stop. */
abstract class OneScan {
  #running = false;
  #abort = false;
  /** Percent done, for `status`. */
  protected done = 0;

  /** Whether a scan runs. */
  get running(): boolean {
    return this.#running;
  }

  /** Asks the running scan to stop; false when none runs. */
  abort(): boolean {
    if (!this.#running) return false;
    this.#abort = true;
    return true;
  }

  /** Runs `scan` as the one scan; -8 when one already runs. */
  protected async reserve<T>(scan: () => Promise<T>): Promise<T> {
    if (this.#running) {
      throw new RpcError(
        RpcErrorCode.INVALID_PARAMETER,
        'Scan already in progress, use action "abort" or "status"',
      );
    }
    this.#running = true;
    this.#abort = false;
    this.done = 0;
    try {
      return await scan();
    } finally {
      this.#running = false;
      this.done = 0;
    }
  }

  /** Lets other work run; -9 `Shutting down` when `signal` aborted; true when asked to stop. */
  protected async pause(signal: AbortSignal): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (signal.aborted) throw new RpcError(RpcErrorCode.CLIENT_NOT_CONNECTED, "Shutting down");
    return this.#abort;
  }
}

/** What a finished scan found. */
export interface ScanResult {
  /** False when it was aborted. */
  readonly success: boolean;
  /** Coins read. */
  readonly count: number;
  /** The coins whose script was searched for, in cursor order. */
  readonly found: (readonly [OutPoint, Coin])[];
}

/** `scantxoutset`'s scan. */
export class TxOutSetScan extends OneScan {
  /** The running scan's progress in percent, or undefined when none runs. */
  get progress(): number | undefined {
    return this.running ? this.done : undefined;
  }

  /**
   * Scans `coins` for outputs paying one of `scripts` (hex). -8 when a scan
   * is already running; -9 `Shutting down` when `signal` aborts.
   */
  run(
    coins: Iterable<readonly [OutPoint, Coin]> | AsyncIterable<readonly [OutPoint, Coin]>,
    scripts: ReadonlySet<string>,
    signal: AbortSignal,
  ): Promise<ScanResult> {
    return this.reserve(async () => {
      const found: (readonly [OutPoint, Coin])[] = [];
      let count = 0;
      for await (const item of coins) {
        if (++count % STEP === 0) {
          const [{ txid }] = item;
          this.done = Math.floor(((0x100 * txid[0] + txid[1]) * 100) / 65536 + 0.5);
          if (await this.pause(signal)) return { success: false, count, found };
        }
        if (scripts.has(hex.encode(item[1].script))) found.push(item);
      }
      this.done = 100;
      return { success: true, count, found };
    });
  }
}

/** What a finished `scanblocks` scan found. */
export interface BlockScanResult {
  readonly fromHeight: number;
  /** The last block scanned. */
  readonly toHeight: number;
  /** The blocks whose filter matched, in chain order. */
  readonly relevant: readonly Hash[];
  /** False when it was aborted. */
  readonly completed: boolean;
}

/** `scanblocks`' scan through the block filters. */
export class BlockFilterScan extends OneScan {
  #height = 0;

  /** The running scan's progress in percent and current height, or undefined when none runs. */
  get status(): { progress: number; currentHeight: number } | undefined {
    return this.running ? { progress: this.done, currentHeight: this.#height } : undefined;
  }

  /**
   * Scans the filters of the active chain's blocks `start`..`stop` for any
   * of `needles`; `confirm` (for `filter_false_positives`) reads a matching
   * block to rule out a false positive. As Core's `LookupFilterRange`, a
   * stretch with a filter missing (the index still catching up) yields no
   * blocks. -8 when a scan is already running; -9 when `signal` aborts.
   */
  run(
    chain: ChainState,
    index: BlockFilterIndex,
    [start, stop]: readonly [BlockEntry, BlockEntry],
    needles: readonly Uint8Array[],
    confirm: ((entry: BlockEntry) => boolean) | undefined,
    signal: AbortSignal,
  ): Promise<BlockScanResult> {
    return this.reserve(async () => {
      this.#height = start.height;
      const relevant: Hash[] = [];
      let height = start.height;
      let completed = true;
      while (height <= stop.height) {
        if (await this.pause(signal)) {
          completed = false;
          break;
        }
        const step = Math.min(FILTER_STEP, Math.floor(FILTER_HASHES_PER_STEP / needles.length));
        const end = Math.min(height + Math.max(1, step) - 1, stop.height);
        const entries = [];
        for (let h = height; h <= end; h++) entries.push(chain.ancestor(stop, h)!);
        for (const entry of index.matching(entries, needles) ?? []) {
          if (!confirm || confirm(entry)) relevant.push(entry.hash);
        }
        this.#height = end;
        const total = stop.height - start.height;
        this.done = total > 0 ? Math.floor((100 / total) * (end - start.height)) : 100;
        height = end + 1;
      }
      return {
        fromHeight: start.height,
        toHeight: completed ? stop.height : Math.max(height - 1, start.height),
        relevant,
        completed,
      };
    });
  }
}
