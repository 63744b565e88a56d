/**
 * Soft fork deployments on regtest as Bitcoin Core v30 reports them
 * (`getdeploymentinfo`): the buried ones at {@linkcode DEPLOYMENT_HEIGHTS},
 * and the BIP 9 ones (`testdummy`, and `taproot`, always active) with the
 * version bits state machine of Core's `versionbits.cpp` run over the
 * chain's real block versions. This node mines as Core's does
 * ({@linkcode computeBlockVersion}): its blocks signal `testdummy` while it
 * is started or locked in, so on a chain it mined alone `testdummy` is
 * `started` from height 144, `locked_in` from 288 and `active` from 432.
 * The same machine watches the version bits
 * no deployment here uses ({@linkcode UnknownActivations}), for the node's
 * warnings.
 *
 * @example
 * ```ts
 * import { ChainState } from "./chainstate.ts";
 * import { bip9Info, REGTEST_BIP9 } from "./deployments.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   const taproot = REGTEST_BIP9.find((d) => d.name === "taproot")!;
 *   if (bip9Info(chain, chain.tip, taproot).activeSince !== 0) throw new Error("always active");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import type { BlockEntry, ChainState } from "./chainstate.ts";
import { DEPLOYMENT_HEIGHTS } from "./params.ts";

/** `BIP9Deployment::ALWAYS_ACTIVE`. */
export const ALWAYS_ACTIVE = -1n;
/** `BIP9Deployment::NO_TIMEOUT` (the largest int64). */
export const NO_TIMEOUT = 2n ** 63n - 1n;

/** A BIP 9 deployment's parameters (`Consensus::BIP9Deployment`). */
export interface Bip9Deployment {
  readonly name: string;
  readonly bit: number;
  readonly startTime: bigint;
  readonly timeout: bigint;
  readonly minActivationHeight: number;
  readonly period: number;
  readonly threshold: number;
}

/**
 * Regtest's signalling period: its deployments' `period`, and its
 * `DifficultyAdjustmentInterval()` (a day of 10-minute blocks), which
 * Core's checker of unknown bits takes on a test chain.
 */
const REGTEST_PERIOD = 144;
/**
 * Regtest's signalling threshold: its deployments' `threshold`, and the
 * 75% of the period Core's checker of unknown bits takes on a test chain.
 */
const REGTEST_THRESHOLD = 108;

/** Regtest's BIP 9 deployments, in Core's `DeploymentInfo` order. */
export const REGTEST_BIP9: readonly Bip9Deployment[] = [
  {
    name: "testdummy",
    bit: 28,
    startTime: 0n,
    timeout: NO_TIMEOUT,
    minActivationHeight: 0,
    period: REGTEST_PERIOD,
    threshold: REGTEST_THRESHOLD,
  },
  {
    name: "taproot",
    bit: 2,
    startTime: ALWAYS_ACTIVE,
    timeout: NO_TIMEOUT,
    minActivationHeight: 0,
    period: REGTEST_PERIOD,
    threshold: REGTEST_THRESHOLD,
  },
];

/** Regtest's buried deployments by `DeploymentName`, in Core's order. */
export const REGTEST_BURIED: readonly { readonly name: string; readonly height: number }[] = [
  { name: "bip34", height: DEPLOYMENT_HEIGHTS.bip34 },
  { name: "bip66", height: DEPLOYMENT_HEIGHTS.bip66 },
  { name: "bip65", height: DEPLOYMENT_HEIGHTS.bip65 },
  { name: "csv", height: DEPLOYMENT_HEIGHTS.csv },
  { name: "segwit", height: DEPLOYMENT_HEIGHTS.segwit },
];

/** Core's `ThresholdState`, by its `StateName`. */
export type ThresholdState = "defined" | "started" | "locked_in" | "active" | "failed";

/** Signalling statistics of the current period (`BIP9Stats`). */
export interface Bip9Stats {
  readonly period: number;
  /** 0 once locked in. */
  readonly threshold: number;
  readonly elapsed: number;
  readonly count: number;
  readonly possible: boolean;
  /** Per block of the period so far, whether it signalled. */
  readonly signalling: readonly boolean[];
}

/** A deployment's state at a block (`VersionBitsCache::Info`). */
export interface Bip9Info {
  /** The state of the block itself. */
  readonly current: ThresholdState;
  /** The state of its child. */
  readonly next: ThresholdState;
  /** Height of the first block with the current state. */
  readonly since: number;
  /** Statistics while started or locked in. */
  readonly stats?: Bip9Stats;
  /** The height the rules apply from, once active or activating at the next block. */
  readonly activeSince?: number;
}

const TOP_MASK = 0xe0000000;
const TOP_BITS = 0x20000000;

/** `VersionBitsConditionChecker::Condition`: the block signals the deployment's bit. */
function signals(entry: BlockEntry, deployment: Bip9Deployment): boolean {
  const version = entry.header.version >>> 0;
  return ((version & TOP_MASK) >>> 0) === TOP_BITS && (version & (1 << deployment.bit)) !== 0;
}

/** The state machine of one deployment over one chain, remembering period states. */
class VersionBits {
  readonly #cache = new Map<BlockEntry | undefined, ThresholdState>();

  /**
   * `condition` is `AbstractThresholdConditionChecker::Condition`: whether
   * a block counts towards the threshold (by default, that it signals the
   * deployment's bit).
   */
  constructor(
    readonly chain: ChainState,
    readonly deployment: Bip9Deployment,
    readonly condition: (entry: BlockEntry) => boolean = (entry) => signals(entry, deployment),
  ) {}

  /** The last block of the period before `prev`'s child's (`pindexPrev` rounded down). */
  #periodStart(prev: BlockEntry | undefined): BlockEntry | undefined {
    if (!prev) return undefined;
    const { period } = this.deployment;
    return this.chain.ancestor(prev, prev.height - ((prev.height + 1) % period));
  }

  /** `GetStateFor`: the state of the child of `prev` (undefined: genesis). */
  stateFor(prev: BlockEntry | undefined): ThresholdState {
    const d = this.deployment;
    if (d.startTime === ALWAYS_ACTIVE) return "active";
    prev = this.#periodStart(prev);
    const toCompute: BlockEntry[] = [];
    while (!this.#cache.has(prev)) {
      if (!prev || BigInt(this.chain.medianTimePast(prev)) < d.startTime) {
        this.#cache.set(prev, "defined");
        break;
      }
      toCompute.push(prev);
      prev = this.chain.ancestor(prev, prev.height - d.period);
    }
    let state = this.#cache.get(prev)!;
    while (toCompute.length > 0) {
      const entry = toCompute.pop()!;
      const mtp = BigInt(this.chain.medianTimePast(entry));
      if (state === "defined") {
        if (mtp >= d.timeout) state = "failed";
        else if (mtp >= d.startTime) state = "started";
      } else if (state === "started") {
        let count = 0;
        let cursor: BlockEntry | undefined = entry;
        for (let i = 0; i < d.period && cursor; i++, cursor = cursor.prev) {
          if (this.condition(cursor)) count++;
        }
        if (count >= d.threshold) state = "locked_in";
        else if (mtp >= d.timeout) state = "failed";
      } else if (state === "locked_in") {
        if (entry.height + 1 >= d.minActivationHeight) state = "active";
      }
      this.#cache.set(entry, state);
    }
    return state;
  }

  /** `GetStateSinceHeightFor`. */
  sinceFor(prev: BlockEntry | undefined): number {
    if (this.deployment.startTime === ALWAYS_ACTIVE) return 0;
    const initial = this.stateFor(prev);
    if (initial === "defined") return 0;
    const { period } = this.deployment;
    let start = this.#periodStart(prev)!;
    let previous = this.chain.ancestor(start, start.height - period);
    while (previous && this.stateFor(previous) === initial) {
      start = previous;
      previous = this.chain.ancestor(start, start.height - period);
    }
    return start.height + 1;
  }

  /** `GetStateStatisticsFor`: the signalling in `entry`'s period so far. */
  statsFor(entry: BlockEntry): Bip9Stats {
    const { period, threshold } = this.deployment;
    const inPeriod = 1 + (entry.height % period);
    const signalling = new Array<boolean>(inPeriod).fill(false);
    let count = 0;
    let cursor: BlockEntry | undefined = entry;
    for (let i = inPeriod - 1; i >= 0 && cursor; i--, cursor = cursor.prev) {
      if (this.condition(cursor)) {
        count++;
        signalling[i] = true;
      }
    }
    const elapsed = inPeriod;
    return {
      period,
      threshold,
      elapsed,
      count,
      possible: period - threshold >= elapsed - count,
      signalling,
    };
  }
}

/**
 * Each chain's state machines of {@linkcode REGTEST_BIP9}, their period
 * states remembered for as long as the chain lives (Core's
 * `VersionBitsCache`): the states of a block's ancestry never change.
 */
const chainBits = new WeakMap<ChainState, readonly VersionBits[]>();

function deploymentBits(chain: ChainState): readonly VersionBits[] {
  let bits = chainBits.get(chain);
  if (bits === undefined) {
    bits = REGTEST_BIP9.map((deployment) => new VersionBits(chain, deployment));
    chainBits.set(chain, bits);
  }
  return bits;
}

/**
 * Core's `ComputeBlockVersion(prev)`: the version a block mined on `prev`
 * takes, the top bits and the bits of the deployments started or locked in
 * for it (testdummy's bit 28 from height 144 until it is active).
 *
 * @example
 * ```ts
 * import { ChainState } from "./chainstate.ts";
 * import { computeBlockVersion } from "./deployments.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   // Genesis's child is in testdummy's first period, where it is only defined.
 *   if (computeBlockVersion(chain, chain.tip) !== 0x20000000) throw new Error("no bit yet");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function computeBlockVersion(chain: ChainState, prev: BlockEntry | undefined): number {
  let version = TOP_BITS;
  for (const bits of deploymentBits(chain)) {
    const state = bits.stateFor(prev);
    if (state === "started" || state === "locked_in") version |= 1 << bits.deployment.bit;
  }
  return version >>> 0;
}

/**
 * Core's `GBTStatus` for a block mined on `prev`: the deployments
 * signalling (started), locked in and active, by name in Core's
 * (`std::map`) order, with their bits: `getblocktemplate`'s `vbavailable`
 * and `rules`.
 */
export function gbtStatus(
  chain: ChainState,
  prev: BlockEntry | undefined,
): Record<"signalling" | "lockedIn" | "active", { name: string; bit: number }[]> {
  const status = {
    signalling: [] as { name: string; bit: number }[],
    lockedIn: [] as { name: string; bit: number }[],
    active: [] as { name: string; bit: number }[],
  };
  for (const bits of deploymentBits(chain)) {
    const { name, bit } = bits.deployment;
    const state = bits.stateFor(prev);
    if (state === "started") status.signalling.push({ name, bit });
    else if (state === "locked_in") status.lockedIn.push({ name, bit });
    else if (state === "active") status.active.push({ name, bit });
  }
  for (const list of Object.values(status)) list.sort((a, b) => a.name < b.name ? -1 : 1);
  return status;
}

/** A BIP 9 deployment's state at `entry` (Core's `VersionBitsCache::Info`). */
export function bip9Info(
  chain: ChainState,
  entry: BlockEntry,
  deployment: Bip9Deployment,
): Bip9Info {
  const bits = deploymentBits(chain).find((bits) => bits.deployment === deployment) ??
    new VersionBits(chain, deployment);
  const current = bits.stateFor(entry.prev);
  const next = bits.stateFor(entry);
  const since = bits.sinceFor(entry.prev);
  let stats: Bip9Stats | undefined;
  if (current === "started" || current === "locked_in") {
    stats = bits.statsFor(entry);
    if (current === "locked_in") stats = { ...stats, threshold: 0, possible: false };
  }
  let activeSince: number | undefined;
  if (current === "active") activeSince = since;
  else if (next === "active") activeSince = entry.height + 1;
  return { current, next, since, stats, activeSince };
}

/** `VERSIONBITS_NUM_BITS`: the version bits 0 to 28 a block may signal. */
export const VERSIONBITS_NUM_BITS = 29;
/** Regtest's `MinBIP9WarningHeight`: blocks signal unknown bits from genesis on. */
export const MIN_BIP9_WARNING_HEIGHT = 0;

/** A version bit no deployment of this node uses, locked in or active (`CheckUnknownActivations`). */
export interface UnknownActivation {
  readonly bit: number;
  /** Active at the tip's child; otherwise locked in. */
  readonly active: boolean;
}

/**
 * Core's `VersionBitsCache::CheckUnknownActivations`: every version bit run
 * through the BIP 9 state machine with a `WarningBitsConditionChecker` (no
 * start or timeout, regtest's period of 144 and threshold of 108), where a block counts
 * when it signals the bit although `ComputeBlockVersion` of its parent
 * would not set it, that is, not for a deployment this node expects then
 * (testdummy's bit 28 while started or locked in). It keeps its period
 * states for the chain it was made with, as Core's warning cache.
 *
 * @example
 * ```ts
 * import { ChainState } from "./chainstate.ts";
 * import { UnknownActivations } from "./deployments.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   if (new UnknownActivations(chain).check(chain.tip).length !== 0) throw new Error("none");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export class UnknownActivations {
  readonly #bits: readonly VersionBits[];

  constructor(chain: ChainState) {
    this.#bits = Array.from({ length: VERSIONBITS_NUM_BITS }, (_, bit) => {
      const watched: Bip9Deployment = {
        name: `versionbit ${bit}`,
        bit,
        startTime: 0n,
        timeout: NO_TIMEOUT,
        minActivationHeight: 0,
        period: REGTEST_PERIOD,
        threshold: REGTEST_THRESHOLD,
      };
      return new VersionBits(
        chain,
        watched,
        (entry) =>
          entry.height >= MIN_BIP9_WARNING_HEIGHT && signals(entry, watched) &&
          (computeBlockVersion(chain, entry.prev) & (1 << bit)) === 0,
      );
    });
  }

  /** The unknown bits locked in or active at the child of `tip`, lowest bit first. */
  check(tip: BlockEntry): UnknownActivation[] {
    const found: UnknownActivation[] = [];
    for (const bits of this.#bits) {
      const state = bits.stateFor(tip);
      if (state === "active" || state === "locked_in") {
        found.push({ bit: bits.deployment.bit, active: state === "active" });
      }
    }
    return found;
  }
}
