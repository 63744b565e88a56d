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
 * const result = await scan.run(() => ({ coins: [], scripts: new Set() }), new AbortController().signal);
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

/** What a `scantxoutset` scan reads: the coins, and the scripts (hex) it looks for. */
export interface TxOutSetScanInput {
  readonly coins: Iterable<readonly [OutPoint, Coin]> | AsyncIterable<readonly [OutPoint, Coin]>;
  readonly scripts: ReadonlySet<string>;
}

/** `scantxoutset`'s scan. */
export class TxOutSetScan extends OneScan {
  /** The running scan's progress in percent, or undefined when none runs. */
  get progress(): number | undefined {
    return this.running ? this.done : undefined;
  }

  /**
   * Scans the coins `prepare` gives for outputs paying one of its `scripts`
   * (hex); `prepare` runs with the scan already reserved (Core evaluates
   * the scan objects under its reserver). -8 when a scan is already
   * running; -9 `Shutting down` when `signal` aborts.
   */
  run(
    prepare: () => Promise<TxOutSetScanInput> | TxOutSetScanInput,
    signal: AbortSignal,
  ): Promise<ScanResult> {
    return this.reserve(async () => {
      const { coins, scripts } = await prepare();
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

/** The blocks of `tip`'s branch from `height` up to `tip`, lazily. */
function* ancestors(chain: ChainState, tip: BlockEntry, height: number): Generator<BlockEntry> {
  for (let h = height; h <= tip.height; h++) yield chain.ancestor(tip, h)!;
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

/** What a `scanblocks` scan reads: its blocks, the scripts it looks for, and its double check. */
export interface BlockFilterScanInput {
  readonly index: BlockFilterIndex;
  /** The first and last blocks, of the last one's branch. */
  readonly range: readonly [BlockEntry, BlockEntry];
  readonly needles: readonly Uint8Array[];
  /** Reads a matching block to rule out a false positive (`filter_false_positives`). */
  readonly confirm?: (entry: BlockEntry) => boolean;
}

/** `scanblocks`' scan through the block filters. */
export class BlockFilterScan extends OneScan {
  #height = 0;

  /** The running scan's progress in percent and current height, or undefined when none runs. */
  get status(): { progress: number; currentHeight: number } | undefined {
    return this.running ? { progress: this.done, currentHeight: this.#height } : undefined;
  }

  /**
   * Scans the filters of the blocks `prepare` gives (`start`..`stop` of
   * `stop`'s branch) for any of its `needles`; its `confirm` (for
   * `filter_false_positives`) reads a matching block to rule out a false
   * positive. `prepare` runs with the scan already reserved, as Core's
   * reserver is taken first. A block whose filter is not indexed yet (the
   * index catching up) yields nothing, as in Core. It lets other work in
   * after each match's worth of blocks. -8 when a scan is already running;
   * -9 when `signal` aborts.
   */
  run(
    chain: ChainState,
    prepare: () => Promise<BlockFilterScanInput> | BlockFilterScanInput,
    signal: AbortSignal,
  ): Promise<BlockScanResult> {
    return this.reserve(async () => {
      const { index, range: [start, stop], needles, confirm } = await prepare();
      this.#height = start.height;
      const relevant: Hash[] = [];
      let height = start.height;
      let completed = true;
      while (height <= stop.height) {
        if (await this.pause(signal)) {
          completed = false;
          break;
        }
        // A step is as many blocks as one match's work allows; a filter not indexed is skipped.
        const step = index.match(ancestors(chain, stop, height), needles);
        for (const entry of step?.matching ?? []) {
          if (!confirm || confirm(entry)) relevant.push(entry.hash);
        }
        const end = step?.last.height ?? height;
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
