/**
 * Standard input read line by line, as bitcoin-cli reads it with
 * `std::getline`: a line ends at `\n` (a `\r` before it stays), a last line
 * without `\n` still counts, and nothing past the lines asked for is
 * waited for, so `-stdinrpcpass` reads one line from a terminal without
 * waiting for end of input. A secret line read from a terminal is typed
 * without echo (`NO_STDIN_ECHO`).
 *
 * @example
 * ```ts
 * import { LineReader } from "./stdin.ts";
 * const bytes = new TextEncoder().encode("a\r\n\nb");
 * const lines = new LineReader(ReadableStream.from([bytes]).getReader());
 * const read = [await lines.readLine(), await lines.readLine(), await lines.readLine()];
 * if (JSON.stringify(read) !== '["a\\r","","b"]') throw new Error(JSON.stringify(read));
 * if (await lines.readLine() !== null) throw new Error("end of input");
 * ```
 * @module
 */

import { ByteQueue } from "./byte_queue.ts";

/** A line longer than this is refused: standard input cannot grow memory without bound. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Lines from a byte stream. */
export class LineReader {
  readonly #source: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  readonly #buffered = new ByteQueue();
  #ended = false;

  /** Reads lines from `source`. */
  constructor(source: ReadableStreamDefaultReader<Uint8Array>) {
    this.#source = source;
  }

  /** Reads the next chunk into the buffer; false at the end of input. */
  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const { done, value } = await this.#source.read();
    if (done) this.#ended = true;
    else this.#buffered.append(value);
    return !done;
  }

  /** The next line without its `\n`, or null at the end of input. */
  async readLine(): Promise<string | null> {
    for (;;) {
      const newline = this.#buffered.indexOf(0x0a);
      if (newline >= 0) {
        return this.#decoder.decode(this.#buffered.take(newline + 1).subarray(0, newline));
      }
      if (this.#buffered.length > MAX_LINE_BYTES) {
        throw new Error(`a line on standard input is longer than ${MAX_LINE_BYTES} bytes`);
      }
      if (!await this.#fill()) {
        if (this.#buffered.length === 0) return null;
        return this.#decoder.decode(this.#buffered.take(this.#buffered.length));
      }
    }
  }

  /** The bytes buffered, or the next chunk read; null at the end of input. */
  async readBytes(): Promise<Uint8Array | null> {
    if (this.#buffered.length === 0) await this.#fill();
    return this.#buffered.length === 0 ? null : this.#buffered.take(this.#buffered.length);
  }

  /** Puts bytes back in front of what is buffered. */
  unread(bytes: Uint8Array): void {
    const rest = this.#buffered.take(this.#buffered.length);
    this.#buffered.append(bytes);
    this.#buffered.append(rest);
  }

  /** Every remaining line. */
  async readAll(): Promise<string[]> {
    const lines: string[] = [];
    for (let line; (line = await this.readLine()) !== null;) lines.push(line);
    return lines;
  }
}

/** The process's standard input as bitcoin-cli uses it. */
export class Stdin {
  #reader: LineReader | undefined;

  /** The line reader, made on first use: standard input is not touched unless asked for. */
  get #lines(): LineReader {
    return this.#reader ??= new LineReader(Deno.stdin.readable.getReader());
  }

  /** Whether standard input is a terminal (`StdinTerminal`). */
  get isTerminal(): boolean {
    return Deno.stdin.isTerminal();
  }

  /** The next line, or null at the end of input. */
  readLine(): Promise<string | null> {
    return this.#lines.readLine();
  }

  /** Every remaining line (`-stdin`). */
  readAll(): Promise<string[]> {
    return this.#lines.readAll();
  }

  /**
   * A secret line: from a terminal, typed without echo after `prompt` on
   * stderr; otherwise simply the next line.
   */
  async readSecret(prompt: string): Promise<string | null> {
    if (!this.isTerminal) return await this.readLine();
    await writeAll(Deno.stderr, new TextEncoder().encode(prompt));
    Deno.stdin.setRaw(true);
    try {
      return await this.#typedLine();
    } finally {
      Deno.stdin.setRaw(false);
    }
  }

  /** A line typed in raw mode: Enter ends it, backspace erases, Ctrl-C and Ctrl-D give up. */
  async #typedLine(): Promise<string | null> {
    const typed: number[] = [];
    for (let bytes; (bytes = await this.#lines.readBytes()) !== null;) {
      for (let i = 0; i < bytes.length; i++) {
        const key = bytes[i];
        if (key === 0x0d || key === 0x0a) {
          this.#lines.unread(bytes.subarray(i + 1));
          return new TextDecoder().decode(new Uint8Array(typed));
        }
        if (key === 0x03 || key === 0x04) return null;
        if (key === 0x7f || key === 0x08) typed.pop();
        else typed.push(key);
      }
    }
    return null;
  }
}

/** Where output is written: Deno.stdout, Deno.stderr, a file. */
export interface ByteSink {
  /** Writes some of `bytes`; resolves with how many. */
  write(bytes: Uint8Array): Promise<number>;
}

/** Writes all of `bytes` to `writer`. */
export async function writeAll(writer: ByteSink, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await writer.write(bytes.subarray(done));
}
