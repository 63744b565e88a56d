/**
 * Measuring helpers shared by the benchmarks. `BENCH_SECONDS` sets the
 * measuring time per figure (default 2).
 *
 * @module
 */
import { Session } from "node:inspector";
import process from "node:process";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? "2");
const WARMUP_MS = 300;

/** Measuring time per figure, in seconds. */
export const BENCH_SECONDS: number = SECONDS;

/** Prints `BENCH <name> <value> <unit>` and returns `value`. */
export function report(name: string, value: number, unit: string): number {
  console.log(`BENCH ${name} ${value.toFixed(value < 100 ? 2 : 0)} ${unit}`);
  return value;
}

/** A clock of CPU time consumed, in microseconds: this process's or another's. */
export type CpuClock = () => number;

/** CPU time (user + system) this process has used, in microseconds. */
export const ownCpu: CpuClock = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

let ticksPerSecond: number | null = null;

/**
 * A clock of the CPU time (user + system, all threads) process `pid` has
 * used, read from `/proc/<pid>/stat`: the kernel's counters that
 * `getrusage` reports to the process itself, in clock ticks (10 ms on
 * Linux), so measure over seconds.
 */
export async function processCpu(pid: number): Promise<CpuClock> {
  if (ticksPerSecond === null) {
    const output = await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output();
    ticksPerSecond = Number(new TextDecoder().decode(output.stdout).trim()) || 100;
  }
  const microsPerTick = 1e6 / ticksPerSecond;
  return () => {
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * microsPerTick;
  };
}

/** What {@linkcode measureRate} found. */
export interface Measured {
  /** Operations per second. */
  perSecond: number;
  /** CPU microseconds per operation, one figure per clock given. */
  cpuPerOp: number[];
}

/**
 * Runs `op` back to back (in `workers` parallel loops) after a warm-up and
 * returns its rate, with the CPU time each of `clocks` advanced per
 * operation over the measured part.
 */
export async function measureRate(
  op: () => Promise<unknown>,
  { workers = 1, clocks = [] }: { workers?: number; clocks?: CpuClock[] } = {},
): Promise<Measured> {
  const run = async (ms: number) => {
    const deadline = performance.now() + ms;
    let count = 0;
    const cpuBefore = clocks.map((clock) => clock());
    const started = performance.now();
    await Promise.all(Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        await op();
        count++;
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    return {
      perSecond: count / seconds,
      cpuPerOp: clocks.map((clock, i) => (clock() - cpuBefore[i]) / count),
    };
  };
  await run(WARMUP_MS);
  return await run(SECONDS * 1000);
}

/** Runs `op` back to back (in `workers` parallel loops) and returns operations per second. */
export async function rate(op: () => Promise<unknown>, workers = 1): Promise<number> {
  return (await measureRate(op, { workers })).perSecond;
}

/** Runs the synchronous `op` back to back for `BENCH_SECONDS` and returns operations per second. */
export function perSecond(op: () => void): number {
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) {
    op();
    count++;
  }
  return count / ((performance.now() - started) / 1000);
}

/** Bytes of JavaScript heap allocated per operation, sampled, with the functions allocating most. */
export interface Allocation {
  /** Sampled bytes allocated per operation (objects collected since included). */
  bytesPerOp: number;
  /** The functions allocating most, as `name folder/file`, with their bytes per operation. */
  top: [where: string, bytesPerOp: number][];
}

/**
 * Runs `op` `count` times, one after another, under V8's sampling heap
 * profiler (through `node:inspector`), and returns the bytes allocated per
 * operation: an estimate (one sample per 128 bytes on average) that counts
 * every allocation, also of objects already collected again. It includes
 * what Deno's own socket operations allocate.
 */
export async function allocationPerOp(
  op: () => Promise<unknown>,
  count: number,
  topCount = 5,
): Promise<Allocation> {
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) =>
      session.post(
        method,
        params,
        (error, result) =>
          error ? reject(error) : resolve((result ?? {}) as Record<string, unknown>),
      )
    );
  try {
    await post("HeapProfiler.enable");
    await post("HeapProfiler.startSampling", {
      samplingInterval: 128,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    for (let i = 0; i < count; i++) await op();
    const { profile } = await post("HeapProfiler.stopSampling") as {
      profile: { head: SampledNode };
    };
    const bySite = new Map<string, number>();
    let total = 0;
    const pending = [profile.head];
    for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
      // Lines would be the transpiled JavaScript's, not the source's: name the function and file.
      const { functionName, url } = node.callFrame;
      const file = url === "" ? "(built-in)" : url.split("/").slice(-2).join("/");
      const where = `${functionName || "(anonymous)"} ${file}`;
      bySite.set(where, (bySite.get(where) ?? 0) + node.selfSize);
      total += node.selfSize;
      pending.push(...node.children);
    }
    const top = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, topCount)
      .map(([where, bytes]): [string, number] => [where, bytes / count]);
    return { bytesPerOp: total / count, top };
  } finally {
    await post("HeapProfiler.disable").catch(() => {});
    session.disconnect();
  }
}

/** A node of V8's sampled allocation profile. */
interface SampledNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: SampledNode[];
}
