/**
 * A child's output, made safe to show. A spawned component never writes to
 * its parent's stdout or stderr: both of its streams are pipes the parent
 * reads, so it cannot truncate, chmod or block the parent's log, or change
 * the parent's terminal. What it prints reaches the parent's log only as
 * lines that are
 *
 * - sanitized ({@linkcode sanitizeLine}): terminal escape sequences are
 *   removed and every other control character is shown as `\xNN`;
 * - capped in length and in rate ({@linkcode OutputLimits}); what is cut or
 *   dropped is counted and said in a line of its own;
 * - written by {@linkcode stderrLines}, which never throws and never blocks:
 *   when our own stderr does not keep up, lines are dropped and counted.
 *
 * @example
 * ```ts
 * import { LineForwarder } from "./output.ts";
 * const lines: string[] = [];
 * const forwarder = new LineForwarder((line) => lines.push(line));
 * forwarder.write("stdout", new TextEncoder().encode("\x1b[2Jhello\x07\nwor"));
 * forwarder.end("stdout");
 * if (lines.join("|") !== "hello\\x07|wor") throw new Error(lines.join("|"));
 * ```
 * @module
 */

/** Which stream of the child a line came from. */
export type OutputStream = "stdout" | "stderr";

/** Caps on what one child may make its parent print. */
export interface OutputLimits {
  /** Longest line kept, in characters; the rest is cut and counted. */
  maxLineLength: number;
  /** Lines per second kept in the long run (both streams together). */
  linesPerSecond: number;
  /** Lines that may come at once before the rate applies. */
  burstLines: number;
}

/** 1000 characters per line, 100 lines per second after a burst of 500. */
export const DEFAULT_OUTPUT_LIMITS: Readonly<OutputLimits> = Object.freeze({
  maxLineLength: 1000,
  linesPerSecond: 100,
  burstLines: 500,
});

/**
 * Escape sequences a terminal acts on: CSI (`ESC [` or 0x9b … final byte),
 * OSC, DCS, SOS, PM and APC strings (up to BEL or ST, or the end of the
 * line), and two-character `ESC x` sequences.
 */
const ESCAPE_SEQUENCE =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[\x20-\x2f]*[\x30-\x7e]?/g;

/**
 * Characters that control a terminal or the direction and breaking of
 * text: C0 and C1 controls, DEL, zero-width and bidirectional marks, line
 * and paragraph separators, the byte-order mark.
 */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;

function visible(char: string): string {
  const code = char.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` without terminal escape sequences, with tabs as spaces and every
 * other control character written out (`\x07`), so showing it can neither
 * move the cursor, recolour or retitle a terminal, nor disguise text.
 *
 * @example
 * ```ts
 * import { sanitizeLine } from "./output.ts";
 * const shown = sanitizeLine("\x1b]0;owned\x07\x1b[31mred\x1b[0m\tbell\x07\u202e");
 * if (shown !== "red bell\\x07\\u202e") throw new Error(shown);
 * ```
 */
export function sanitizeLine(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, "").replaceAll("\t", " ").replace(CONTROL, visible);
}

/** One stream's partial line. */
interface PartialLine {
  decoder: TextDecoder;
  text: string;
  /** Characters past the length cap, dropped. */
  cut: number;
}

/**
 * Splits a child's two streams into sanitized lines, cuts long lines and
 * drops lines over the rate, and hands each kept line, and a line counting
 * what was dropped, to `deliver`. Memory stays bounded by one line per
 * stream whatever the child writes. {@linkcode close} it when the child
 * is gone.
 */
export class LineForwarder {
  readonly #deliver: (line: string, stream: OutputStream) => void;
  readonly #limits: OutputLimits;
  readonly #partial = new Map<OutputStream, PartialLine>();
  #tokens: number;
  #refilledAt = performance.now();
  #dropped = 0;
  #notice: ReturnType<typeof setTimeout> | undefined;

  /** Hands kept lines to `deliver`, under `limits` (the defaults for those not given). */
  constructor(
    deliver: (line: string, stream: OutputStream) => void,
    limits: Partial<OutputLimits> = {},
  ) {
    this.#deliver = deliver;
    this.#limits = { ...DEFAULT_OUTPUT_LIMITS, ...limits };
    this.#tokens = this.#limits.burstLines;
  }

  /** Takes the next bytes the child wrote on `stream`. */
  write(stream: OutputStream, bytes: Uint8Array): void {
    const partial = this.#partialOf(stream);
    let text = partial.decoder.decode(bytes, { stream: true });
    for (let newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n")) {
      this.#append(partial, text.slice(0, newline));
      this.#finishLine(partial, stream);
      text = text.slice(newline + 1);
    }
    this.#append(partial, text);
  }

  /** The child closed `stream`: its unfinished last line is delivered. */
  end(stream: OutputStream): void {
    const partial = this.#partialOf(stream);
    this.#append(partial, partial.decoder.decode());
    if (partial.text !== "" || partial.cut > 0) this.#finishLine(partial, stream);
  }

  /** Says how many lines were dropped, if any, and stops. */
  close(): void {
    clearTimeout(this.#notice);
    this.#notice = undefined;
    this.#sayDropped();
  }

  #partialOf(stream: OutputStream): PartialLine {
    let partial = this.#partial.get(stream);
    if (partial === undefined) {
      partial = { decoder: new TextDecoder(), text: "", cut: 0 };
      this.#partial.set(stream, partial);
    }
    return partial;
  }

  #append(partial: PartialLine, text: string): void {
    const room = this.#limits.maxLineLength - partial.text.length;
    if (text.length <= room) {
      partial.text += text;
    } else {
      partial.text += text.slice(0, Math.max(room, 0));
      partial.cut += text.length - Math.max(room, 0);
    }
  }

  #finishLine(partial: PartialLine, stream: OutputStream): void {
    let line = sanitizeLine(partial.text.endsWith("\r") ? partial.text.slice(0, -1) : partial.text);
    let cut = partial.cut;
    if (line.length > this.#limits.maxLineLength) {
      cut += line.length - this.#limits.maxLineLength;
      line = line.slice(0, this.#limits.maxLineLength);
    }
    partial.text = "";
    partial.cut = 0;
    if (!this.#take()) {
      this.#dropped++;
      this.#notice ??= this.#noticeLater();
      return;
    }
    this.#sayDropped();
    this.#deliver(cut > 0 ? `${line}… [${cut} more characters cut]` : line, stream);
  }

  /** Says what was dropped as soon as the rate allows a line. */
  #noticeLater(): ReturnType<typeof setTimeout> {
    const wait = Math.max(1, (1 - this.#tokens) / this.#limits.linesPerSecond * 1000);
    return setTimeout(() => {
      this.#notice = undefined;
      if (this.#take()) this.#sayDropped();
      else this.#notice = this.#noticeLater();
    }, wait + 1);
  }

  /** Whether the rate allows one more line now. */
  #take(): boolean {
    const now = performance.now();
    const { burstLines, linesPerSecond } = this.#limits;
    this.#tokens = Math.min(
      burstLines,
      this.#tokens + (now - this.#refilledAt) / 1000 * linesPerSecond,
    );
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }

  #sayDropped(): void {
    if (this.#dropped === 0) return;
    const dropped = this.#dropped;
    this.#dropped = 0;
    this.#deliver(
      `[${dropped} lines dropped: more than ${this.#limits.linesPerSecond} lines per second]`,
      "stderr",
    );
  }
}

/** Bytes our stderr may be behind before lines are dropped. */
const MAX_QUEUED_BYTES = 1 << 20;

const encoder = new TextEncoder();
const queue: Uint8Array[] = [];
let queuedBytes = 0;
let droppedLines = 0;
let pumping = false;

/** Writes the queue out without ever blocking the event loop or throwing. */
async function pump(): Promise<void> {
  pumping = true;
  try {
    while (queue.length > 0) {
      const chunk = queue.shift()!;
      queuedBytes -= chunk.byteLength;
      try {
        for (let written = 0; written < chunk.byteLength;) {
          written += await Deno.stderr.write(chunk.subarray(written));
        }
      } catch {
        droppedLines++; // stderr closed or refusing: nothing better to do with it
      }
    }
  } finally {
    pumping = false;
  }
}

/**
 * Appends `line` to our stderr, eventually: lines queue (up to 1 MiB) and
 * are written asynchronously, so a stderr nobody reads, a closed one or a
 * non-blocking one never blocks or throws here. Lines that do not fit are
 * dropped and counted in the next line that does.
 *
 * @example A stderr nobody reads does not block the process writing to it
 * ```ts
 * const output = new URL("./output.ts", import.meta.url).href;
 * // 4 MiB of lines into a pipe of 64 KiB that is never read.
 * const writer = `import { stderrLines } from ${JSON.stringify(output)};
 *   for (let i = 0; i < 65536; i++) stderrLines("x".repeat(63));
 *   console.log("returned");
 *   Deno.exit(0);`;
 * const child = new Deno.Command(Deno.execPath(), {
 *   args: ["eval", writer],
 *   stdout: "piped",
 *   stderr: "piped",
 * }).spawn();
 * // A child still blocked after 30 s is killed, which ends its stdout with nothing read.
 * const deadline = setTimeout(() => child.kill(), 30_000);
 * const { value } = await child.stdout.getReader().read();
 * clearTimeout(deadline);
 * if (new TextDecoder().decode(value) !== "returned\n") throw new Error("stderrLines blocked");
 * await child.status;
 * await child.stderr.cancel();
 * ```
 */
export function stderrLines(line: string): void {
  const text = droppedLines > 0 ? `[${droppedLines} log lines dropped]\n${line}\n` : `${line}\n`;
  const bytes = encoder.encode(text);
  if (queuedBytes + bytes.byteLength > MAX_QUEUED_BYTES) {
    droppedLines++;
    return;
  }
  droppedLines = 0;
  queue.push(bytes);
  queuedBytes += bytes.byteLength;
  if (!pumping) void pump();
}

/** Lines of a child's output kept to say why it ended unexpectedly. */
export const LAST_LINES = 3;

/**
 * `; it printed last: <lines>`, or nothing when it printed nothing: what a
 * message about a child's failure ends with.
 *
 * @example
 * ```ts
 * import { printedLast } from "./output.ts";
 * if (printedLast([]) !== "") throw new Error("nothing printed, nothing said");
 * if (printedLast(["a", "b"]) !== "; it printed last: a | b") throw new Error("joined");
 * ```
 */
export function printedLast(lines: readonly string[]): string {
  return lines.length === 0 ? "" : `; it printed last: ${lines.join(" | ")}`;
}
