/**
 * Resource limits of a component and how its end is explained.
 *
 * - The JS heap is capped by V8 (`--v8-flags=--max-old-space-size`), which
 *   ends the process with SIGTRAP (133).
 * - CPU seconds, open files and core dumps are rlimits set by `prlimit`
 *   before Deno starts; over the CPU limit the kernel sends SIGXCPU (152).
 * - ArrayBuffers live outside the V8 heap and `RLIMIT_AS` cannot be used
 *   with Deno, so a watchdog polls the resident memory of the component's
 *   process tree and SIGKILLs it over its limit.
 *
 * @example
 * ```ts
 * import { exitReason } from "./limits.ts";
 * console.assert(exitReason({ code: null, signal: "SIGXCPU" }).kind === "cpu-limit");
 * ```
 * @module
 */
import type { ExitStatus } from "../runtime/process/process.ts";
import type { Manifest } from "./manifest.ts";

/** Why a component ended. */
export type ExitKind =
  | "clean"
  | "error"
  | "out-of-memory"
  | "terminated"
  | "cpu-limit"
  | "disk-quota"
  | "killed";

/** Why a component ended, in words. */
export interface ExitReason {
  kind: ExitKind;
  /** One line for logs and errors. */
  text: string;
}

const SIGNAL_NUMBERS: Record<string, number> = {
  SIGINT: 2,
  SIGKILL: 9,
  SIGTRAP: 5,
  SIGTERM: 15,
  SIGXCPU: 24,
  SIGXFSZ: 25,
};

/**
 * Maps an exit status to its reason. Wrappers (bubblewrap) report a
 * signal as 128 + its number, so both forms are read. `residentKill`
 * tells that the supervisor's memory watchdog sent the SIGKILL.
 */
export function exitReason(status: ExitStatus, residentKill?: string): ExitReason {
  const signal = status.signal !== null
    ? SIGNAL_NUMBERS[status.signal] ?? -1
    : status.code !== null && status.code > 128
    ? status.code - 128
    : 0;
  switch (signal) {
    case 0:
      return status.code === 0
        ? { kind: "clean", text: "exited cleanly" }
        : { kind: "error", text: `exited with status ${status.code}` };
    case SIGNAL_NUMBERS.SIGTRAP:
      return { kind: "out-of-memory", text: "out of memory (JS heap limit reached)" };
    case SIGNAL_NUMBERS.SIGXCPU:
      return { kind: "cpu-limit", text: "CPU time limit exceeded" };
    case SIGNAL_NUMBERS.SIGXFSZ:
      return { kind: "disk-quota", text: "disk quota exceeded (a file reached the size limit)" };
    case SIGNAL_NUMBERS.SIGTERM:
    case SIGNAL_NUMBERS.SIGINT:
      return {
        kind: "terminated",
        text: `terminated (${status.signal ?? `status ${status.code}`})`,
      };
    case SIGNAL_NUMBERS.SIGKILL:
      return residentKill
        ? { kind: "out-of-memory", text: `out of memory (${residentKill})` }
        : { kind: "killed", text: "killed (SIGKILL)" };
    default:
      return { kind: "killed", text: `killed by ${status.signal ?? `signal ${signal}`}` };
  }
}

/**
 * The `prlimit` wrapper for `limits`: CPU seconds (SIGXCPU at the limit,
 * SIGKILL a second later), open files, and no core dumps.
 */
export function rlimitArgs(limits: Manifest["limits"]): string[] {
  return [
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
    `--nofile=${limits.openFiles}`,
    "--core=0",
    "--",
  ];
}

const PAGE_BYTES = 4096;

/** Resident bytes of `pid` and all its descendants (0 once it is gone). */
export function residentBytes(pid: number): number {
  let total = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop()!;
    try {
      total += Number(Deno.readTextFileSync(`/proc/${next}/statm`).split(" ")[1]) * PAGE_BYTES;
      for (const task of Deno.readDirSync(`/proc/${next}/task`)) {
        const children = Deno.readTextFileSync(`/proc/${next}/task/${task.name}/children`);
        for (const child of children.split(" ")) if (child) pending.push(Number(child));
      }
    } catch { /* gone meanwhile */ }
  }
  return total;
}

/**
 * Polls the resident memory of `pid`'s tree every `intervalMs` and calls
 * `exceeded` once (with a description) when it passes `limitMb`. Dispose
 * to stop watching.
 */
export function watchResident(
  pid: number,
  limitMb: number,
  exceeded: (description: string) => void,
  intervalMs = 50,
): Disposable {
  const timer = setInterval(() => {
    const mb = residentBytes(pid) / (1 << 20);
    if (mb > limitMb) {
      clearInterval(timer);
      exceeded(`resident memory ${Math.round(mb)} MB over the ${limitMb} MB limit`);
    }
  }, intervalMs);
  return { [Symbol.dispose]: () => clearInterval(timer) };
}
