/**
 * The node's log in Bitcoin Core's format: one line per message,
 * `2026-12-01T22:17:02Z message`, with `[category]` before debug lines
 * (`[rpc] …`, `[ipc] …`), `[category:trace]` before trace lines and
 * `[warning]` / `[error]` before those. Debug lines are written only for
 * the categories `-debug` enabled.
 *
 * Lines go to stdout (`-printtoconsole`, on by default as for bitcoind) and
 * to `debug.log` (`-debuglogfile`, in `<datadir>/regtest/`). Until
 * {@linkcode NodeLog.start} they wait in a bounded buffer, as Core's do, so
 * a node that fails before taking its data directory writes nothing there.
 * The file is shrunk on start as Core does (over 11 MB: the last 10 MB
 * kept) and also while running, whenever it passes twice that, so it
 * never grows without bound.
 *
 * @example
 * ```ts
 * import { NodeLog } from "./logging.ts";
 * const lines: string[] = [];
 * const log = new NodeLog({ console: (text) => lines.push(text) });
 * log.configure({ categories: new Set(["rpc"]), level: "debug", categoryLevels: new Map() });
 * log.start({ file: null, console: true, timestamps: false, micros: false, shrinkOnStart: false });
 * log.debug("rpc", "ThreadRPCServer method=getblockcount");
 * log.debug("net", "not enabled, not logged");
 * if (lines.join("") !== "[rpc] ThreadRPCServer method=getblockcount\n") throw new Error(lines.join(""));
 * ```
 * @module
 */
import { IpcLog } from "../../component.ts";
import type { DebugLevel, LogOutputOptions, LogSettings } from "./options.ts";
import { LOG_CATEGORIES, StartupError } from "./options.ts";

/** A line's severity. */
export type LogLevel = DebugLevel | "warning" | "error";

const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warning: 3, error: 4 };

/** Bytes of `debug.log` kept when it is shrunk (Core's `RECENT_DEBUG_HISTORY_SIZE`). */
export const KEEP_BYTES = 10_000_000;

/** Bytes of messages buffered before the log starts; older ones are dropped past it. */
const BUFFER_BYTES = 1_000_000;

const encoder = new TextEncoder();

/** Writes all of `bytes` to `target`. */
function writeAll(target: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  for (let written = 0; written < bytes.length;) {
    written += target.writeSync(bytes.subarray(written));
  }
}

/** Control characters but the newline (Core escapes them in log lines). */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f]/g;

/** Control characters but the newline as `\xNN`, as Core's `LogEscapeMessage`. */
function escapeMessage(message: string): string {
  return message.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** Core's `GetLogPrefix`: nothing for plain info lines. */
function prefix(category: string | null, level: LogLevel): string {
  if (category === null) return level === "info" ? "" : `[${level}] `;
  return level === "debug" ? `[${category}] ` : `[${category}:${level}] `;
}

/**
 * The size of an open file, by seeking to its end. Not `file.statSync()`:
 * Deno checks that against the file's resolved path, which a sandboxed
 * node reaching its data directory through a symbolic link (the sandbox's
 * view) is not granted.
 */
function sizeOf(file: Deno.FsFile): number {
  return file.seekSync(0, Deno.SeekMode.End);
}

/**
 * Keeps the last `keep` bytes of the file at `path` when it is larger than
 * `limit` (in place, so a grant for the file alone suffices).
 */
export function shrinkFile(path: string, limit: number, keep: number): void {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true, write: true });
  } catch {
    return; // nothing to shrink yet
  }
  using _ = file;
  const size = sizeOf(file);
  if (size <= limit) return;
  const tail = new Uint8Array(Math.min(keep, size));
  file.seekSync(size - tail.length, Deno.SeekMode.Start);
  for (let read = 0; read < tail.length;) {
    const n = file.readSync(tail.subarray(read));
    if (n === null) break;
    read += n;
  }
  file.truncateSync(0);
  file.seekSync(0, Deno.SeekMode.Start);
  writeAll(file, tail);
}

/** Where a {@linkcode NodeLog} writes, for tests and embedding. */
export interface NodeLogOptions {
  /** Receives console text; stdout by default. */
  console?: (text: string) => void;
  /** Bytes kept when `debug.log` is shrunk; {@linkcode KEEP_BYTES} by default. */
  keepBytes?: number;
  /** Size at which a running node shrinks `debug.log`; twice `keepBytes` by default. */
  capBytes?: number;
  /** The clock; the system's by default. */
  now?: () => number;
}

const NO_DEBUG: LogSettings = { categories: new Set(), level: "debug", categoryLevels: new Map() };

/** The node's log (Core's `BCLog::Logger`). */
export class NodeLog implements Disposable {
  readonly #console: (text: string) => void;
  readonly #keep: number;
  readonly #cap: number;
  readonly #now: () => number;
  #settings: LogSettings = NO_DEBUG;
  #output: LogOutputOptions | null = null;
  #file: Deno.FsFile | null = null;
  #fileSize = 0;
  #buffer: string[] = [];
  #buffered = 0;
  #dropped = 0;
  #consoleBroken = false;
  #fileFailed = false;

  /** A log that buffers until {@linkcode NodeLog.start}. */
  constructor(options: NodeLogOptions = {}) {
    this.#console = options.console ?? ((text) => writeAll(Deno.stdout, encoder.encode(text)));
    this.#keep = options.keepBytes ?? KEEP_BYTES;
    this.#cap = options.capBytes ?? 2 * this.#keep;
    this.#now = options.now ?? Date.now;
  }

  /** Sets which debug categories and levels are logged. */
  configure(settings: LogSettings): void {
    this.#settings = settings;
  }

  /** Every category, sorted, and whether its debug lines are logged (Core's `LogCategoriesList`). */
  categories(): [string, boolean][] {
    return [...LOG_CATEGORIES].sort().map((c) => [c, this.#settings.categories.has(c)]);
  }

  /**
   * Core's `EnableCategory`/`DisableCategory`: `""`, `1` and `all` stand
   * for every category; false (nothing changed) for an unknown one.
   */
  setCategory(name: string, enabled: boolean): boolean {
    const every = name === "" || name === "1" || name === "all";
    if (!every && !LOG_CATEGORIES.includes(name)) return false;
    const categories = new Set(this.#settings.categories);
    for (const category of every ? LOG_CATEGORIES : [name]) {
      if (enabled) categories.add(category);
      else categories.delete(category);
    }
    this.#settings = { ...this.#settings, categories };
    return true;
  }

  /** Whether a line of `category` at `level` would be written (Core's `WillLogCategoryLevel`). */
  willLog(category: string, level: LogLevel): boolean {
    if (RANK[level] >= RANK.info) return true;
    if (!this.#settings.categories.has(category)) return false;
    const threshold = this.#settings.categoryLevels.get(category) ?? this.#settings.level;
    return RANK[level] >= RANK[threshold];
  }

  /** Logs an unconditional line (`LogInfo`). */
  info(message: string): void {
    this.#log(null, "info", message);
  }

  /** Logs a warning (`LogWarning`), prefixed `[warning]`. */
  warning(message: string): void {
    this.#log(null, "warning", message);
  }

  /** Logs an error (`LogError`), prefixed `[error]`. */
  error(message: string): void {
    this.#log(null, "error", message);
  }

  /** Logs a debug line of `category` when enabled (`LogDebug`); check {@linkcode willLog} before costly formatting. */
  debug(category: string, message: string): void {
    if (this.willLog(category, "debug")) this.#log(category, "debug", message);
  }

  /** Logs a trace line of `category` when enabled (`LogTrace`). */
  trace(category: string, message: string): void {
    if (this.willLog(category, "trace")) this.#log(category, "trace", message);
  }

  /** The runtime's IPC log, routed here: `[ipc]` lines with `-debug=ipc`, plain ones otherwise. */
  ipcLog(): IpcLog {
    const level = this.willLog("ipc", "trace")
      ? "trace"
      : this.willLog("ipc", "debug")
      ? "debug"
      : "info";
    return new IpcLog({
      level,
      sink: (line) =>
        this.#log(level === "info" ? null : "ipc", level === "info" ? "info" : "debug", line),
    });
  }

  #timestamp(): string {
    if (!this.#output?.timestamps) return "";
    const iso = new Date(this.#now()).toISOString().slice(0, 19);
    if (!this.#output.micros) return `${iso}Z `;
    const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000) % 1_000_000;
    return `${iso}.${String(micros).padStart(6, "0")}Z `;
  }

  #log(category: string | null, level: LogLevel, message: string): void {
    const body = prefix(category, level) + escapeMessage(message);
    if (this.#output === null) {
      // Before start: kept with the time it happened, within a bounded buffer.
      const line = `${new Date(this.#now()).toISOString()}\u0000${body}`;
      this.#buffer.push(line);
      this.#buffered += line.length;
      while (this.#buffered > BUFFER_BYTES && this.#buffer.length > 0) {
        this.#buffered -= this.#buffer.shift()!.length;
        this.#dropped++;
      }
      return;
    }
    this.#emit(this.#timestamp() + body);
  }

  #emit(text: string): void {
    if (!text.endsWith("\n")) text += "\n";
    if (this.#output?.console && !this.#consoleBroken) {
      try {
        this.#console(text);
      } catch {
        this.#consoleBroken = true; // stdout closed: keep running, log to the file only
      }
    }
    if (this.#file !== null && !this.#fileFailed) {
      const bytes = encoder.encode(text);
      try {
        writeAll(this.#file, bytes);
        this.#fileSize += bytes.length;
        if (this.#fileSize > this.#cap) this.#shrink(this.#cap);
      } catch (error) {
        this.#fileFailed = true; // a full disk must not stop the node
        try {
          writeAll(
            Deno.stderr,
            encoder.encode(
              `Error: writing ${this.#output!.file} failed: ${(error as Error).message}\n`,
            ),
          );
        } catch { /* stderr closed too */ }
      }
    }
  }

  #shrink(limit: number): void {
    const path = this.#output!.file!;
    shrinkFile(path, limit, this.#keep);
    this.#fileSize = Deno.statSync(path).size;
  }

  /**
   * Opens the outputs and writes what was buffered (Core's
   * `StartLogging`). Throws {@linkcode StartupError} with Core's text when
   * `debug.log` cannot be opened.
   */
  start(output: LogOutputOptions): void {
    this.#output = output;
    if (output.file !== null) {
      if (output.shrinkOnStart) shrinkFile(output.file, (11 * this.#keep) / 10, this.#keep);
      try {
        this.#file = Deno.openSync(output.file, { append: true, create: true, mode: 0o600 });
        this.#fileSize = sizeOf(this.#file);
      } catch {
        throw new StartupError(`Could not open debug log file ${output.file}`);
      }
      // Newlines between runs, as Core writes them.
      writeAll(this.#file, encoder.encode("\n\n\n\n\n"));
      this.#fileSize += 5;
    }
    const buffered = this.#buffer;
    this.#buffer = [];
    this.#buffered = 0;
    for (const line of buffered) {
      const [time, body] = line.split("\u0000");
      const stamp = output.timestamps ? `${time.slice(0, 19)}Z ` : "";
      this.#emit(stamp + body);
    }
    if (this.#dropped > 0) {
      this.warning(`Early logging buffer overflowed, ${this.#dropped} log lines discarded.`);
      this.#dropped = 0;
    }
  }

  /** Reopens `debug.log` (SIGHUP, after a log rotation moved it). */
  reopen(): void {
    const path = this.#output?.file;
    if (this.#file === null || !path) return;
    try {
      const file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
      this.#file.close();
      this.#file = file;
      this.#fileSize = sizeOf(file);
      this.#fileFailed = false;
    } catch { /* keep the old one */ }
  }

  /** Closes `debug.log`. */
  [Symbol.dispose](): void {
    this.#file?.close();
    this.#file = null;
  }
}
