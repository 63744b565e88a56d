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

/** A session with a V8 inspector (the Chrome DevTools protocol): commands and their results. */
export interface InspectorSession extends Disposable {
  /** Sends `method` with `params`; settles with its result, or rejects with the inspector's error. */
  post(method: string, params?: object): Promise<Record<string, unknown>>;
}

/** A session with this process's own inspector (`node:inspector`). */
export function ownInspector(): InspectorSession {
  const session = new Session();
  session.connect();
  return {
    post: (method, params = {}) =>
      new Promise((resolve, reject) =>
        session.post(
          method,
          params,
          (error, result) =>
            error ? reject(error) : resolve((result ?? {}) as Record<string, unknown>),
        )
      ),
    [Symbol.dispose]: () => session.disconnect(),
  };
}

/**
 * A session with the inspector of another process, started with
 * `--inspect=127.0.0.1:0`, at the `ws://` address it printed
 * ({@linkcode inspectorAddress}).
 */
export async function remoteInspector(address: string): Promise<InspectorSession> {
  const socket = new WebSocket(address);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`cannot reach the inspector at ${address}`));
  });
  const waiting = new Map<number, PromiseWithResolvers<Record<string, unknown>>>();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    const waiter = waiting.get(message.id); // events carry no id
    if (waiter === undefined) return;
    waiting.delete(message.id);
    if (message.error) waiter.reject(new Error(`inspector: ${message.error.message}`));
    else waiter.resolve(message.result ?? {});
  };
  socket.onclose = () => {
    for (const waiter of waiting.values()) waiter.reject(new Error("the inspector closed"));
    waiting.clear();
  };
  let nextId = 1;
  return {
    post(method, params = {}) {
      const waiter = Promise.withResolvers<Record<string, unknown>>();
      const id = nextId++;
      waiting.set(id, waiter);
      socket.send(JSON.stringify({ id, method, params }));
      return waiter.promise;
    },
    [Symbol.dispose]: () => socket.close(),
  };
}

/** The `ws://` address in the `Debugger listening on …` line of `stderr`, once it has arrived. */
export async function inspectorAddress(
  stderr: readonly string[],
  waitMs = 10_000,
): Promise<string> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    for (const line of stderr) {
      const address = /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
      if (address !== undefined) return address;
    }
    if (performance.now() > deadline) {
      throw new Error("no inspector address in the process's stderr");
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Runs `op` `count` times, one after another, under V8's sampling heap
 * profiler of `inspector` (this process's by default; another's to measure
 * what a server allocates per call), and returns the bytes allocated per
 * operation: an estimate (one sample per 128 bytes on average) that counts
 * every allocation, also of objects already collected again. It includes
 * what Deno's own socket operations allocate.
 */
export async function allocationPerOp(
  op: () => Promise<unknown>,
  count: number,
  topCount = 5,
  inspector: InspectorSession = ownInspector(),
): Promise<Allocation> {
  using session = inspector;
  const post = (method: string, params?: object) => session.post(method, params);
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
  }
}

/** A node of V8's sampled allocation profile. */
interface SampledNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: SampledNode[];
}
