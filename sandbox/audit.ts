/**
 * Permission audit. Deno writes one JSON line per permission check, granted
 * or not and with no outcome, to the file named by `DENO_AUDIT_PERMISSIONS`,
 * opening it itself (the component needs no grant for it). A component
 * making refused checks in a loop would fill the disk that way, so the file
 * Deno opens is a pipe (a FIFO in the run directory) that the supervisor
 * reads ({@linkcode captureAudit}): it keeps whole lines up to a cap per run
 * in `<state>/logs/<name>.<run>.audit.jsonl`, counts the lines it drops,
 * and ends the log with a trailer line holding both counts. Deno writes
 * each line with one `write`, so a pipe that fills only slows the component
 * down.
 *
 * The contract writes the run's grants beside the log; comparing the two
 * ({@linkcode summarizeAudit}, `deno task audit`) tells what a component
 * attempted outside its grants. The summary reads every log as a stream,
 * line by line, and keeps at most {@linkcode MAX_DISTINCT} distinct
 * attempts per component, so its memory is bounded however large the logs.
 *
 * @example
 * ```ts
 * import { covered } from "./audit.ts";
 * const grants = { read: ["/d"], write: [], net: ["unix:/s"], env: [] };
 * if (!covered(grants, { permission: "read", value: "/d/x" })) throw new Error("granted");
 * if (covered(grants, { permission: "read", value: "/etc/passwd" })) throw new Error("not granted");
 * ```
 * @module
 */
import { join } from "node:path";
import type { Identity } from "./identity.ts";

/** What one run was granted: absolute paths, `host:port` / `unix:<path>`, names. */
export interface RunGrants {
  read: string[];
  write: string[];
  net: string[];
  env: string[];
}

/** One permission check from Deno's audit log. */
export interface AuditEntry {
  permission: string;
  value: string | null;
}

/** Attempts of one component outside its grants, counted. */
export interface AuditSummary {
  /** The component's name. */
  component: string;
  /** Runs whose audit logs were read. */
  runs: number;
  /** Checks logged. */
  checks: number;
  /** Checks made but not logged: over the per-run cap. */
  dropped: number;
  /** `permission value` → how many times, most frequent first. */
  outside: { permission: string; value: string | null; count: number }[];
  /** Checks outside the grants not listed in `outside`: their values came after the first {@linkcode MAX_DISTINCT}. */
  unlisted: number;
}

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);
}

/** Whether `grants` cover the check `entry`. */
export function covered(grants: RunGrants, entry: AuditEntry): boolean {
  const value = entry.value ?? "";
  switch (entry.permission) {
    case "read":
    case "write":
      return grants[entry.permission].some((root) => under(value, root));
    case "net":
      return grants.net.some((grant) =>
        grant === value || (!grant.includes(":") && value.split(":")[0] === grant)
      );
    case "env":
      return grants.env.includes(value);
    default:
      return false; // run, ffi, sys, import: never granted
  }
}

/** Suffixes of the two files every run leaves in the log directory. */
export const AUDIT_SUFFIX = ".audit.jsonl";
export const GRANTS_SUFFIX = ".grants.json";

/** Bytes of audit lines kept per run by default (1 MiB, about 12,000 checks). */
export const AUDIT_CAP_BYTES = 1 << 20;

/** Longest line kept; Deno's lines hold one path or name, far shorter. */
export const MAX_LINE_BYTES = 64 * 1024;

/** Distinct attempts counted per component by {@linkcode summarizeAudit}. */
export const MAX_DISTINCT = 1000;

const NEWLINE = 0x0a;
/** Ends a capture: Deno's JSON lines never hold a NUL byte. */
const END = 0x00;
const CLOSING_BRACE = 0x7d;

/** The bytes of `parts`, one after the other. */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

/**
 * Splits a byte stream into lines of at most `maxLine` bytes; a longer
 * line is reported once as `null` and skipped up to its newline.
 */
class LineSplitter {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #overlong = false;
  constructor(readonly maxLine: number) {}

  /** The complete lines in `chunk` (and what came before it), without their newline. */
  *push(chunk: Uint8Array): Generator<Uint8Array | null> {
    let start = 0;
    for (
      let newline = chunk.indexOf(NEWLINE);
      newline >= 0;
      newline = chunk.indexOf(NEWLINE, start)
    ) {
      const tail = chunk.subarray(start, newline);
      start = newline + 1;
      if (this.#overlong || this.#pendingBytes + tail.length > this.maxLine) {
        this.#reset();
        yield null;
        continue;
      }
      if (this.#pending.length === 0) {
        yield tail;
        continue;
      }
      const line = concat([...this.#pending, tail]);
      this.#reset();
      yield line;
    }
    const rest = chunk.subarray(start);
    if (this.#overlong || this.#pendingBytes + rest.length > this.maxLine) {
      this.#overlong = true;
      this.#pending = [];
      this.#pendingBytes = 0;
    } else if (rest.length > 0) {
      this.#pending.push(rest.slice());
      this.#pendingBytes += rest.length;
    }
  }

  #reset() {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#overlong = false;
  }
}

/** How many lines of a run's audit were kept and dropped. */
export interface AuditTally {
  kept: number;
  dropped: number;
}

/** The trailer line that ends a capped log. */
interface AuditTrailer extends AuditTally {
  capdeno: "audit-end";
  capBytes: number;
}

/** A capture under way; see {@linkcode captureAudit}. */
export interface AuditCapture {
  /**
   * Once the component has exited: reads what it left in the pipe, writes
   * the trailer and closes everything.
   */
  finish(): Promise<AuditTally>;
}

/**
 * Makes the FIFO `pipe` (mode 0600, given to `owner` under root) for Deno
 * to write the audit to.
 */
export function makeAuditPipe(pipe: string, owner?: Identity): void {
  const made = new Deno.Command("mkfifo", { args: ["-m", "0600", pipe], stderr: "piped" })
    .outputSync();
  if (!made.success) {
    throw new Error(`mkfifo ${pipe}: ${new TextDecoder().decode(made.stderr).trim()}`);
  }
  if (owner) Deno.chownSync(pipe, owner.uid, owner.gid);
}

/**
 * Reads the FIFO `pipe` into `log` (created 0600), keeping whole lines up
 * to `capBytes`, counting the others. Call `finish` once the writer is
 * gone. Opening the pipe for reading and writing returns at once, whether
 * or not the component ever opens it.
 */
export async function captureAudit(
  pipe: string,
  log: string,
  capBytes: number = AUDIT_CAP_BYTES,
): Promise<AuditCapture> {
  const reader = await Deno.open(pipe, { read: true, write: true });
  const ender = await Deno.open(pipe, { write: true });
  const out = await Deno.open(log, { write: true, create: true, truncate: true, mode: 0o600 });
  const tally: AuditTally = { kept: 0, dropped: 0 };
  const reading = (async () => {
    const splitter = new LineSplitter(MAX_LINE_BYTES);
    const buffer = new Uint8Array(64 * 1024);
    let keptBytes = 0;
    for (;;) {
      const n = await reader.read(buffer);
      if (n === null) break;
      const chunk = buffer.subarray(0, n);
      const end = chunk.indexOf(END);
      const batch: Uint8Array[] = [];
      for (const line of splitter.push(end >= 0 ? chunk.subarray(0, end) : chunk)) {
        if (line === null || (line.length > 0 && line[line.length - 1] !== CLOSING_BRACE)) {
          tally.dropped++; // overlong, or cut short by a kill
        } else if (line.length === 0) {
          continue;
        } else if (keptBytes + line.length + 1 <= capBytes) {
          keptBytes += line.length + 1;
          tally.kept++;
          batch.push(line, new Uint8Array([NEWLINE]));
        } else {
          tally.dropped++;
        }
      }
      if (batch.length > 0) await out.write(concat(batch));
      if (end >= 0) break;
    }
    const trailer: AuditTrailer = { capdeno: "audit-end", ...tally, capBytes };
    await out.write(new TextEncoder().encode(JSON.stringify(trailer) + "\n"));
  })();
  return {
    async finish() {
      try {
        // A newline first ends a line the component was cut off in.
        await ender.write(new Uint8Array([NEWLINE, END]));
        await reading;
      } finally {
        reader.close();
        ender.close();
        out.close();
      }
      return { ...tally };
    },
  };
}

/** The lines of `path`, read as a stream; overlong ones come as null. */
async function* fileLines(path: string): AsyncGenerator<string | null> {
  using file = await Deno.open(path);
  const splitter = new LineSplitter(MAX_LINE_BYTES);
  const decoder = new TextDecoder();
  for await (const chunk of file.readable) {
    for (const line of splitter.push(chunk)) yield line && decoder.decode(line);
  }
}

/**
 * Summarises every run logged in `logDir`, per component, sorted by name.
 * Reads each log as a stream; memory does not grow with the logs' size.
 */
export async function summarizeAudit(logDir: string): Promise<AuditSummary[]> {
  const byComponent = new Map<string, AuditSummary>();
  const counts = new Map<string, Map<string, AuditSummary["outside"][number]>>();
  for await (const entry of Deno.readDir(logDir)) {
    if (!entry.name.endsWith(AUDIT_SUFFIX)) continue;
    const run = entry.name.slice(0, -AUDIT_SUFFIX.length);
    const component = run.slice(0, run.indexOf("."));
    let grants: RunGrants;
    try {
      grants = JSON.parse(await Deno.readTextFile(join(logDir, run + GRANTS_SUFFIX)));
    } catch {
      continue; // not a run the contract started
    }
    const summary = byComponent.get(component) ??
      { component, runs: 0, checks: 0, dropped: 0, outside: [], unlisted: 0 };
    byComponent.set(component, summary);
    const seen = counts.get(component) ?? new Map();
    counts.set(component, seen);
    summary.runs++;
    for await (const line of fileLines(join(logDir, entry.name))) {
      if (line === null || !line.trim()) continue;
      let check: AuditEntry & Partial<AuditTrailer>;
      try {
        check = JSON.parse(line);
      } catch {
        continue; // a line cut short by a kill
      }
      if (check.capdeno === "audit-end") {
        summary.dropped += check.dropped ?? 0;
        continue;
      }
      summary.checks++;
      if (covered(grants, check)) continue;
      const key = `${check.permission}\0${check.value}`;
      const known = seen.get(key);
      if (known) known.count++;
      else if (seen.size < MAX_DISTINCT) {
        seen.set(key, { permission: check.permission, value: check.value, count: 1 });
      } else summary.unlisted++;
    }
  }
  for (const summary of byComponent.values()) {
    summary.outside = [...counts.get(summary.component)!.values()]
      .sort((a, b) => b.count - a.count || a.permission.localeCompare(b.permission));
  }
  return [...byComponent.values()].sort((a, b) => a.component.localeCompare(b.component));
}

/** The summaries as text, one block per component. */
export function formatAudit(summaries: readonly AuditSummary[]): string {
  if (summaries.length === 0) return "no audited runs";
  return summaries.map((s) => {
    const head = `${s.component}: ${s.runs} run(s), ${s.checks} permission check(s)` +
      (s.dropped > 0 ? ` (and ${s.dropped} more not logged: over the per-run cap)` : "") +
      `, ${s.outside.length === 0 ? "nothing" : `${s.outside.length} distinct`} outside its grants`;
    const unlisted = s.unlisted > 0
      ? [`  ${s.unlisted}× other attempts (past the first ${MAX_DISTINCT} distinct ones)`]
      : [];
    return [
      head,
      ...s.outside.map((o) => `  ${o.count}× ${o.permission} ${o.value ?? ""}`),
      ...unlisted,
    ]
      .join("\n");
  }).join("\n");
}
