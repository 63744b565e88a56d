/**
 * Resource limits of a component and how its end is explained.
 *
 * - The JS heap is capped by V8 (`--v8-flags=--max-old-space-size`), which
 *   ends the process with SIGTRAP.
 * - CPU seconds, open files and core dumps are rlimits set by `prlimit`
 *   before Deno starts; over the CPU limit the kernel sends SIGXCPU, and
 *   SIGKILL a second later.
 * - ArrayBuffers live outside the V8 heap and `RLIMIT_AS` cannot be used
 *   with Deno, so a watchdog polls the resident memory of the component's
 *   process tree and SIGKILLs it over its limit; the same polls record the
 *   CPU time it used.
 *
 * An exit is explained from the wait status (a signal, or an exit code)
 * and from that evidence, never from the exit code alone: a component that
 * calls `Deno.exit(152)` exited with status 152, and one that sends itself
 * SIGXCPU was not stopped by its CPU limit. Only bubblewrap reports a
 * signal as exit status 128 + its number; there, such a status counts as
 * the signal only when the evidence shows it (the CPU time used, the
 * watchdog's kill, a signal the supervisor sent).
 *
 * @example
 * ```ts
 * import { exitReason } from "./limits.ts";
 * const cpu = { usedAtMost: 2.1, limit: 2 };
 * if (exitReason({ code: null, signal: "SIGXCPU" }, { cpu }).kind !== "cpu-limit") throw new Error();
 * if (exitReason({ code: 152, signal: null }, { cpu }).kind !== "error") throw new Error();
 * ```
 * @module
 */
import type { ExitStatus } from "../runtime/process/process.ts";
import type { Manifest } from "./manifest.ts";
import { every } from "./ticker.ts";

/** Why a component ended. */
export type ExitKind =
  | "clean"
  | "error"
  | "out-of-memory"
  | "terminated"
  | "cpu-limit"
  | "disk-quota"
  | "killed"
  | "unresponsive";

/** Why a component ended, in words. */
export interface ExitReason {
  /** Which way it ended. */
  kind: ExitKind;
  /** One line for logs and errors. */
  text: string;
}

/** What besides the wait status tells how a component ended. */
export interface ExitEvidence {
  /** Why the memory watchdog killed it, when it did. */
  residentKill?: string | undefined;
  /** The most CPU seconds any of its processes can have used, and its limit. */
  cpu?: { usedAtMost: number; limit: number } | undefined;
  /** Signals the supervisor sent it. */
  signalsSent?: readonly string[] | undefined;
  /** Whether a wrapper (bubblewrap) reported signals as exit status 128 + n. */
  statusOnly?: boolean | undefined;
  /** Whether one of its files reached the file-size limit when it ended. */
  fileSizeLimitReached?: boolean | undefined;
}

/**
 * The share of a CPU limit the watchdog must have seen used for the limit
 * to explain an exit. The kernel charges the limit by whole scheduler
 * ticks, which runs ahead of the CPU time /proc reports: on the project's
 * VM, SIGXCPU at a 1 s limit came at 0.82–0.92 s measured. Half leaves
 * room for a busier machine and still tells a component that signals
 * itself early from one that spent its budget.
 */
const CPU_MEASURED_SHARE = 0.5;

/** Whether the sampled CPU time shows the CPU limit (plus `beyond` seconds) reached. */
function reached(cpu: ExitEvidence["cpu"], beyond = 0): boolean {
  return cpu !== undefined && cpu.usedAtMost >= (cpu.limit + beyond) * CPU_MEASURED_SHARE;
}

/** Linux signal numbers of the signals that explain an exit. */
const SIGNAL_NUMBERS: Record<string, number> = {
  SIGINT: 2,
  SIGTRAP: 5,
  SIGKILL: 9,
  SIGTERM: 15,
  SIGXCPU: 24,
  SIGXFSZ: 25,
};

/** Whether the evidence shows that `signal` ended it (for a status-only wrapper). */
function shown(signal: string, evidence: ExitEvidence): boolean {
  const cpu = evidence.cpu;
  const sent = evidence.signalsSent ?? [];
  switch (signal) {
    case "SIGXCPU":
      return reached(cpu);
    case "SIGKILL":
      return evidence.residentKill !== undefined || sent.includes(signal) ||
        reached(cpu, 1);
    case "SIGTERM":
    case "SIGINT":
      return sent.includes(signal);
    case "SIGXFSZ":
      return evidence.fileSizeLimitReached === true;
    default:
      return false; // nothing to show SIGTRAP (the heap limit) or others
  }
}

function seconds(value: number): string {
  return `${Math.round(value * 10) / 10} s`;
}

/**
 * Explains an exit from its wait status and `evidence`. A signal is taken
 * from the status itself; under a status-only wrapper, 128 + n counts as
 * signal n only when the evidence shows it.
 *
 * @example A SIGKILL told apart by what the supervisor saw
 * ```ts
 * import { exitReason } from "./limits.ts";
 * const killed = { code: null, signal: "SIGKILL" };
 * const byWatchdog = exitReason(killed, { residentKill: "resident 600 MB, over 512" });
 * const overCpu = exitReason(killed, { cpu: { usedAtMost: 61, limit: 60 } });
 * const byHand = exitReason(killed, { signalsSent: ["SIGKILL"] });
 * const kinds = [byWatchdog, overCpu, byHand].map((reason) => reason.kind).join();
 * if (kinds !== "out-of-memory,cpu-limit,killed") throw new Error(kinds);
 * if (byWatchdog.text !== "out of memory (resident 600 MB, over 512)") {
 *   throw new Error(byWatchdog.text);
 * }
 * if (exitReason({ code: 3, signal: null }).text !== "exited with status 3") {
 *   throw new Error("a status is a status");
 * }
 * ```
 */
export function exitReason(status: ExitStatus, evidence: ExitEvidence = {}): ExitReason {
  let signal = status.signal;
  let note = "";
  if (signal === null && evidence.statusOnly && status.code !== null && status.code > 128) {
    const name = Object.keys(SIGNAL_NUMBERS).find((n) => SIGNAL_NUMBERS[n] === status.code! - 128);
    if (name !== undefined && shown(name, evidence)) signal = name;
    else note = " (or a signal, which bubblewrap reports the same way)";
  }
  if (signal === null) {
    return status.code === 0
      ? { kind: "clean", text: "exited cleanly" }
      : { kind: "error", text: `exited with status ${status.code}${note}` };
  }
  const cpu = evidence.cpu;
  switch (signal) {
    case "SIGTRAP":
      return { kind: "out-of-memory", text: "out of memory (JS heap limit reached)" };
    case "SIGXFSZ":
      return { kind: "disk-quota", text: "disk quota exceeded (a file reached the size limit)" };
    case "SIGXCPU":
      if (reached(cpu)) {
        return { kind: "cpu-limit", text: "CPU time limit exceeded" };
      }
      return {
        kind: "killed",
        text: cpu === undefined
          ? "killed by SIGXCPU"
          : `killed by SIGXCPU, not by its CPU limit (${seconds(cpu.usedAtMost)} at most ` +
            `of ${seconds(cpu.limit)} used)`,
      };
    case "SIGTERM":
    case "SIGINT":
      return { kind: "terminated", text: `terminated (${signal})` };
    case "SIGKILL":
      if (evidence.residentKill !== undefined) {
        return { kind: "out-of-memory", text: `out of memory (${evidence.residentKill})` };
      }
      if (reached(cpu, 1) && !evidence.signalsSent?.includes("SIGKILL")) {
        return { kind: "cpu-limit", text: "CPU time limit exceeded (hard limit, SIGKILL)" };
      }
      return { kind: "killed", text: "killed (SIGKILL)" };
    default:
      return { kind: "killed", text: `killed by ${signal}` };
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

/** Resident bytes of process `pid` (0 once it is gone). */
function residentBytes(pid: number): number {
  try {
    return residentOf(Deno.readTextFileSync(`/proc/${pid}/statm`));
  } catch {
    return 0;
  }
}

/** Resident bytes in the text of a `/proc/<pid>/statm` (0 for none). */
function residentOf(statm: string | null): number {
  return statm === null ? 0 : Number(statm.split(" ")[1]) * PAGE_BYTES;
}

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds `pid` has used (all its threads), or null once it is gone or
 * a zombie (whose figures no longer count all of its threads).
 */
function cpuSeconds(pid: number): number | null {
  try {
    return cpuOf(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return null;
  }
}

/** CPU seconds in the text of a `/proc/<pid>/stat`; null for none or a zombie's. */
function cpuOf(stat: string | null): number | null {
  if (stat === null) return null;
  // Fields after the command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return null;
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The pids of `pid`'s process tree, itself first. */
function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    try {
      for (const task of Deno.readDirSync(`/proc/${tree[i]}/task`)) {
        const children = Deno.readTextFileSync(`/proc/${tree[i]}/task/${task.name}/children`);
        for (const child of children.split(" ")) if (child) tree.push(Number(child));
      }
    } catch { /* gone meanwhile */ }
  }
  return tree;
}

/** Resident memory and CPU time of a process tree, read once. */
export interface TreeUsage {
  /** Resident bytes of every process of the tree, added up. */
  residentBytes: number;
  /** CPU seconds of the tree's most used process (RLIMIT_CPU is per process). */
  cpuSeconds: number;
}

/**
 * What `pid`'s process tree uses now (with `tree: false`, `pid` alone):
 * zeros once it is gone.
 *
 * @example
 * ```ts
 * import { treeUsage } from "./limits.ts";
 * if (treeUsage(Deno.pid).residentBytes <= 0) throw new Error("this process has resident memory");
 * ```
 */
export function treeUsage(pid: number, { tree = true } = {}): TreeUsage {
  let resident = 0;
  let cpu = 0;
  for (const member of tree ? processTree(pid) : [pid]) {
    resident += residentBytes(member);
    cpu = Math.max(cpu, cpuSeconds(member) ?? 0);
  }
  return { residentBytes: resident, cpuSeconds: cpu };
}

/** What a {@linkcode watchUsage} has seen. Dispose to stop watching. */
export interface UsageWatch extends Disposable {
  /**
   * The most CPU seconds any process of the tree can have used by now: the
   * highest sampled, plus what all cores could have added since that sample.
   */
  cpuUsedAtMost(): number;
}

/** How often a {@linkcode watchUsage} looks for processes that joined or left the tree. */
const TREE_RESCAN_MS = 1000;

/**
 * A `/proc` file of one process, kept open and read again from its start:
 * a poll then costs two system calls instead of five, and a pid reused
 * after the process ended is never read in its place.
 */
class ProcFile implements Disposable {
  readonly #file: Deno.FsFile | null;
  readonly #buffer = new Uint8Array(1024);

  constructor(path: string) {
    try {
      this.#file = Deno.openSync(path);
    } catch {
      this.#file = null;
    }
  }

  /** The file's content now, or null once the process is gone. */
  read(): string | null {
    if (this.#file === null) return null;
    try {
      this.#file.seekSync(0, Deno.SeekMode.Start);
      const n = this.#file.readSync(this.#buffer);
      return n === null ? null : decoder.decode(this.#buffer.subarray(0, n));
    } catch {
      return null;
    }
  }

  [Symbol.dispose](): void {
    this.#file?.close();
  }
}

const decoder = new TextDecoder();

/** The `/proc` files a {@linkcode watchUsage} reads of one process. */
interface Member {
  statm: ProcFile;
  stat: ProcFile;
}

/**
 * Polls `pid`'s process tree every `intervalMs` (on a timer shared with
 * other watches, see {@linkcode every}): calls `exceeded` once
 * (with a description) when its resident memory passes `residentMb`, and
 * records the CPU time of each of its processes (RLIMIT_CPU is per process).
 * The tree's members are looked up again every {@linkcode TREE_RESCAN_MS}
 * (a component cannot start processes; its tree is the wrappers around it),
 * and their files stay open in between.
 */
export function watchUsage(
  pid: number,
  residentMb: number,
  exceeded: (description: string) => void,
  intervalMs = 50,
): UsageWatch {
  let highestCpu = 0;
  let sampledAt = performance.now();
  let over = false;
  const members = new Map<number, Member>();
  let scannedAt = -Infinity;
  const rescan = (now: number) => {
    scannedAt = now;
    const tree = new Set(processTree(pid));
    for (const [member, files] of members) {
      if (tree.has(member)) continue;
      files.statm[Symbol.dispose]();
      files.stat[Symbol.dispose]();
      members.delete(member);
    }
    for (const member of tree) {
      if (members.has(member)) continue;
      members.set(member, {
        statm: new ProcFile(`/proc/${member}/statm`),
        stat: new ProcFile(`/proc/${member}/stat`),
      });
    }
  };
  const ticking = every(intervalMs, () => {
    const now = performance.now();
    if (now - scannedAt >= TREE_RESCAN_MS) rescan(now);
    let resident = 0;
    let alive = false;
    for (const { statm, stat } of members.values()) {
      resident += residentOf(statm.read());
      const used = cpuOf(stat.read());
      if (used === null) continue;
      alive = true;
      highestCpu = Math.max(highestCpu, used);
    }
    // A sample counts only while the processes could be read.
    if (alive) sampledAt = now;
    const mb = resident / (1 << 20);
    if (!over && mb > residentMb) {
      over = true;
      exceeded(`resident memory ${Math.round(mb)} MB over the ${residentMb} MB limit`);
    }
  });
  const stop = () => {
    ticking[Symbol.dispose]();
    for (const { statm, stat } of members.values()) {
      statm[Symbol.dispose]();
      stat[Symbol.dispose]();
    }
    members.clear();
  };
  return {
    cpuUsedAtMost: () =>
      highestCpu + 1 / TICKS_PER_SECOND +
      (performance.now() - sampledAt) / 1000 * navigator.hardwareConcurrency,
    [Symbol.dispose]: stop,
  };
}
