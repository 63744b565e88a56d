/**
 * IPC logging with libmultiprocess' lines and levels.
 *
 * `-debug=ipc` turns on the request/response lines, `-loglevel=ipc:trace`
 * adds message dumps cut at 200 characters. Every formatting step sits
 * behind a level check, so a disabled log costs one branch per call
 * (libmultiprocess once lost over half its CPU to eager formatting).
 *
 * @example
 * ```ts
 * import { IpcLog } from "./log.ts";
 * const lines: string[] = [];
 * const log = new IpcLog({ level: "debug", sink: (line) => lines.push(line) });
 * if (log.debug) log.write("IPC server recv request  #1 Foo.add$Params");
 * if (lines.length !== 1) throw new Error(`one line expected, got ${lines.length}`);
 * ```
 * @module
 */

/** Levels from most to least verbose; `off` logs nothing but errors' text. */
export type LogLevel = "trace" | "debug" | "info" | "off";

const ORDER: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, off: 3 };

/** Where log lines go and how much is logged. */
export interface IpcLogOptions {
  /** How much is logged (`info` by default). */
  level?: LogLevel | undefined;
  /** Receives each finished line; stderr by default. */
  sink?: ((line: string) => void) | undefined;
}

const encoder = new TextEncoder();

function stderrSink(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

/**
 * A leveled log; check {@linkcode IpcLog.debug} / {@linkcode IpcLog.trace} before formatting.
 *
 * @example `-debug=ipc` asks for request lines; the sink takes each line
 * ```ts
 * import { IpcLog } from "./log.ts";
 * const quiet = IpcLog.fromArgs([]);
 * const lines: string[] = [];
 * const debugging = IpcLog.fromArgs(["-debug=ipc"], (line) => lines.push(line));
 * if (quiet.debug || !quiet.info || !debugging.debug || debugging.trace) {
 *   throw new Error("info by default; -debug=ipc adds request lines, not message dumps");
 * }
 * if (debugging.debug) debugging.write("{foo-1/main} IPC client send Foo.add$Params");
 * if (lines.length !== 1) throw new Error("written to its sink");
 * ```
 */
export class IpcLog {
  /** Request/response lines are wanted. */
  readonly debug: boolean;
  /** Message dumps are wanted. */
  readonly trace: boolean;
  /** Connection events and recoverable failures are wanted. */
  readonly info: boolean;
  readonly #sink: (line: string) => void;
  #requests = 0;

  /** A log at `options.level`, writing to `options.sink`. */
  constructor(options: IpcLogOptions = {}) {
    const level = ORDER[options.level ?? "info"];
    this.trace = level <= ORDER.trace;
    this.debug = level <= ORDER.debug;
    this.info = level <= ORDER.info;
    this.#sink = options.sink ?? stderrSink;
  }

  /** The number of the next request a server receives (counted per log). */
  nextRequest(): number {
    return ++this.#requests;
  }

  /**
   * Writes `line` as one line of at most {@linkcode MAX_LINE_CHARS}
   * characters: lines carry what peers sent (exception reasons, names), and
   * a peer must not be able to forge lines or send the terminal commands.
   *
   * @example Control characters escaped, the length capped
   * ```ts
   * import { IpcLog, MAX_LINE_CHARS } from "./log.ts";
   * const lines: string[] = [];
   * const log = new IpcLog({ sink: (line) => lines.push(line) });
   * log.write("peer said: a\nforged line \x1b[2J" + "x".repeat(10_000));
   * if (lines.length !== 1 || lines[0]!.includes("\n") || lines[0]!.includes("\x1b")) {
   *   throw new Error("one line, no control characters");
   * }
   * if (!lines[0]!.startsWith("peer said: a\\0aforged line \\1b[2J")) throw new Error(lines[0]);
   * if (lines[0]!.length > MAX_LINE_CHARS + 3) throw new Error("capped");
   * ```
   */
  write(line: string): void {
    this.#sink(escaped(line, MAX_LINE_CHARS, isControl));
  }

  /**
   * The log a command line asks for: `-debug=ipc` (or `-debug=1`, `-debug=all`)
   * for debug, `-loglevel=ipc:trace` for trace.
   *
   * @example
   * ```ts
   * import { IpcLog } from "./log.ts";
   * if (!IpcLog.fromArgs(["-debug=ipc"]).debug) throw new Error("-debug=ipc logs calls");
   * if (IpcLog.fromArgs([]).debug) throw new Error("no -debug, no call lines");
   * ```
   */
  static fromArgs(args: readonly string[], sink?: (line: string) => void): IpcLog {
    let level: LogLevel = "info";
    for (const arg of args) {
      if (/^-?-debug(=(ipc|1|all))?$/.test(arg) && level !== "trace") level = "debug";
      if (/^-?-loglevel=(ipc:)?trace$/.test(arg)) level = "trace";
    }
    return new IpcLog({ level, sink });
  }
}

/** Maximum characters of a message dump, as in libmultiprocess. */
export const MAX_DUMP_CHARS = 200;

/**
 * Escapes characters outside printable ASCII as `\xx` and cuts the text at
 * `max` characters, marking the cut with `...`.
 *
 * @example
 * ```ts
 * import { escapeDump } from "./log.ts";
 * if (escapeDump("a\nb") !== "a\\0ab") throw new Error("a newline is escaped as \\0a");
 * ```
 */
export function escapeDump(text: string, max: number = MAX_DUMP_CHARS): string {
  return escaped(text, max, (code) => code < 0x20 || code > 0x7e);
}

/** The most characters {@linkcode IpcLog.write} writes on one line, `...` aside. */
export const MAX_LINE_CHARS = 1000;

/** C0 controls, DEL and C1 controls: what a terminal may act on. */
function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** `text` with the characters `escapes` picks written as `\xx`, cut at `max` with `...`. */
function escaped(text: string, max: number, escapes: (code: number) => boolean): string {
  let out = "";
  for (const char of text) {
    const code = char.charCodeAt(0);
    const piece = escapes(code) ? `\\${code.toString(16).padStart(2, "0")}` : char;
    if (out.length + piece.length > max) return out + "...";
    out += piece;
  }
  return out;
}
