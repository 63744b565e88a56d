/**
 * The abuse table of the hostile component: each probe misuses something
 * the component does own (its stdout and stderr, its stdin, its own
 * process, connections to a socket it is granted) to harm its supervisor or
 * a peer. Unlike the escapes (`probes.ts`), these may well succeed on their
 * own terms; what the tests check is that the supervisor and the peers are
 * unharmed: its log intact, its descriptors untouched, the peers served.
 * Outcome lines have the same form as the escapes'.
 *
 * @module
 */
import * as nodeFs from "node:fs";
import { Socket } from "node:net";
import { attempt, type Probe } from "./probes.ts";

/** Bytes of the huge line. */
export const HUGE_LINE_BYTES = 4 << 20;

/** Lines of the flood. */
export const FLOOD_LINES = 20_000;

/** What a terminal would act on: title, clear, colour, reset, bell, bidi override, CR. */
export const ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31mRED\x1b[0m\x1bc\x07\u202eevil\rCR";

const encoder = new TextEncoder();

/**
 * Writes all of `text` to descriptor `fd` (1 or 2). Blocks on a full pipe;
 * after `abuse:stdout-nonblocking` it fails there instead.
 */
function writeAll(fd: number, text: string): number {
  const bytes = encoder.encode(text);
  const stream = fd === 1 ? Deno.stdout : Deno.stderr;
  for (let written = 0; written < bytes.length;) {
    written += stream.writeSync(bytes.subarray(written));
  }
  return bytes.length;
}

/** Runs `fn` on stdout and on stderr; the outcome of each. */
async function onBoth(fn: (fd: number) => unknown): Promise<string> {
  const outcomes = [];
  for (const fd of [1, 2]) outcomes.push(`fd ${fd}: ${await attempt(() => fn(fd))}`);
  return `allowed ${outcomes.join("; ")}`;
}

/** Resolves when the peer ends `conn` (reading and discarding what it sends). */
async function untilClosed(conn: Deno.UnixConn): Promise<void> {
  const buffer = new Uint8Array(64);
  try {
    while (await conn.read(buffer) !== null) { /* discard */ }
  } catch { /* reset: closed as well */ }
}

/** Connections of the flood, and how many of them the server has closed. */
const flood = { opened: [] as Deno.UnixConn[], closed: 0 };

/** Every abuse by name (`abuse:…`); each returns an outcome line like a probe. */
export const ABUSES: Readonly<Record<string, Probe>> = {
  /** Terminal control on both streams, in a line marked ESCAPES-MARK. */
  "abuse:stdout-escapes": () => onBoth((fd) => writeAll(fd, `ESCAPES-MARK ${ESCAPES} END\n`)),
  /** One line of {@linkcode HUGE_LINE_BYTES} bytes, starting HUGE-MARK. */
  "abuse:stdout-huge-line": () =>
    attempt(() => writeAll(1, `HUGE-MARK ${"x".repeat(HUGE_LINE_BYTES)}\n`)),
  /** {@linkcode FLOOD_LINES} lines as fast as they go, each FLOOD-MARK <n>. */
  "abuse:stdout-flood": () =>
    attempt(() => {
      let written = 0;
      for (let from = 0; from < FLOOD_LINES; from += 1000) {
        const lines = Array.from({ length: 1000 }, (_, i) => `FLOOD-MARK ${from + i}\n`);
        written += writeAll(1, lines.join(""));
      }
      return written;
    }),
  /** Takes stdout and stderr over as non-blocking sockets (O_NONBLOCK on the open file). */
  "abuse:stdout-nonblocking": () =>
    onBoth((fd) =>
      new Promise((resolve, reject) => {
        const socket = new Socket({ fd, readable: false, writable: true });
        socket.once("error", reject);
        socket.write(`NONBLOCK-MARK fd ${fd}\n`, (error) =>
          error ? reject(error) : resolve("written"));
      })
    ),
  /** Makes its stdout and stderr world-writable: the supervisor's log file, if they were it. */
  "abuse:stdout-chmod": () => onBoth((fd) => nodeFs.fchmodSync(fd, 0o777)),
  /** Truncates, then overwrites from offset 0: the supervisor's log, if they were it. */
  "abuse:stdout-truncate": () =>
    onBoth((fd) => {
      nodeFs.ftruncateSync(fd, 0);
      return nodeFs.writeSync(fd, "OVERWRITTEN-MARK\n", 0);
    }),
  /** Raw mode on its stdin: the operator's terminal, if it were one. */
  "abuse:stdin-raw": () => attempt(() => Deno.stdin.setRaw(true)),
  /** Closes its stdout and stderr (last: nothing it prints arrives after this). */
  "abuse:stdout-close": () => onBoth((fd) => nodeFs.closeSync(fd)),
  /** target: a signal name it sends itself (SIGXCPU: to pass for its CPU limit). */
  "abuse:raise-signal": (target) => attempt(() => Deno.kill(Deno.pid, target as Deno.Signal)),
  /**
   * target: `<socket path>|<count>`. Opens up to `count` connections that
   * never send a token and keeps them; each counts as closed once the
   * server ends it.
   */
  "abuse:connection-flood": (target) =>
    attempt(async () => {
      const [path, count] = target.split("|");
      for (let i = 0; i < Number(count); i++) {
        let conn: Deno.UnixConn;
        try {
          conn = await Deno.connect({ transport: "unix", path });
        } catch (error) {
          return `opened ${flood.opened.length}, then ${(error as Error).message}`;
        }
        flood.opened.push(conn);
        untilClosed(conn).then(() => flood.closed++);
      }
      return `opened ${flood.opened.length}`;
    }),
  /** How many of the flood's connections the server has closed so far. */
  "abuse:connection-flood-closed": () =>
    attempt(() => `${flood.closed} of ${flood.opened.length} closed by the server`),
};
