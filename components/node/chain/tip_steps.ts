/**
 * The new tips bitcoind announces as it activates the best chain. Core's
 * `ActivateBestChainStep` returns as soon as the tip has more work than
 * where the step began, and the end of each step is announced
 * (`UpdatedBlockTip` to ZMQ, the `blockTip` notification to
 * `-blocknotify`): extending the chain by several blocks at once (a
 * `reconsiderblock`, a reorganisation) announces each block from the first
 * that beats the old tip; a chain that only went back (`invalidateblock`)
 * announces no step. {@linkcode subscribeTipSteps} replays that from the
 * chain's per-block events.
 *
 * @example
 * ```ts
 * import { ChainState } from "./mod.ts";
 * import { subscribeTipSteps } from "./tip_steps.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   const steps: number[] = [];
 *   using _steps = subscribeTipSteps(chain, { step: (entry) => void steps.push(entry.height) });
 *   if (steps.length !== 0) throw new Error("no block connected yet");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import type { Block } from "./block.ts";
import type { BlockEntry, ChainState } from "./chainstate.ts";

/** What the steps of activating the best chain come to. */
export interface TipStepListener {
  /** A step ended on `entry` (its block `block`): a tip with more work than the step began with. */
  step?(entry: BlockEntry, block: Block): void;
  /**
   * The chain settled on `tip` (Core's activation is done); `stepped`:
   * whether any step was announced since it last settled.
   */
  settled?(tip: BlockEntry, stepped: boolean): void;
}

/** Calls `listener` for each step of `chain`'s activations until disposed. */
export function subscribeTipSteps(chain: ChainState, listener: TipStepListener): Disposable {
  let reference = chain.tip.chainWork;
  let stepped = false;
  return chain.subscribe({
    blockConnected: ({ block, entry }) => {
      if (entry.chainWork <= reference) return;
      reference = entry.chainWork;
      stepped = true;
      listener.step?.(entry, block);
    },
    tipChanged: (tip) => {
      listener.settled?.(tip, stepped);
      stepped = false;
      reference = tip.chainWork;
    },
  });
}
