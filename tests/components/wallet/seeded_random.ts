/**
 * A seeded source of draws for the random coin selection algorithms, so
 * that a test's run repeats.
 *
 * @module
 */
import type { Random } from "../../../components/wallet/selection_algorithms.ts";

/** Uniform draws in [0, 1) from `seed` (mulberry32). */
export function seeded(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
