/**
 * Running bitcoin-cli for the tests as a real process: `components/cli/main.ts`
 * under exactly the permission flags `deno task cli` gives it (or the
 * launcher itself, as the task runs it), with a chosen stdin; and a raw TCP
 * server that records each request's bytes and answers with given bytes.
 *
 * @module
 */
import { appInit } from "../../../components/cli/options.ts";
import { cliPermissions } from "../../../components/cli/permissions.ts";
import { writeAll } from "../../../components/cli/stdin.ts";

const root = new URL("../../../", import.meta.url).pathname;
const MAIN = `${root}components/cli/main.ts`;
const LAUNCHER = `${root}components/cli/launcher.ts`;

/** What a run printed and returned. */
export interface CliRun {
  /** The exit status. */
  code: number;
  /** Everything on stdout. */
  stdout: string;
  /** Everything on stderr. */
  stderr: string;
}

/** How to run. */
export interface CliRunOptions {
  /** Text on standard input (closed at once when absent). */
  stdin?: string;
  /** The working directory; the repository root by default. */
  cwd?: string;
}

const decoder = new TextDecoder();

async function collect(child: Deno.ChildProcess, stdin?: string): Promise<CliRun> {
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** The flags the launcher would give the client for `argv` (none when it prints instead). */
export function launcherFlags(argv: readonly string[], cwd = root): string[] {
  const start = appInit(argv, { cwd });
  return start.kind === "run" ? cliPermissions(start.settings) : [];
}

/** Spawns the client with the launcher's exact flags. */
export function spawnCli(argv: readonly string[], options: CliRunOptions = {}): Deno.ChildProcess {
  const cwd = options.cwd ?? root;
  return new Deno.Command("deno", {
    args: ["run", "--no-prompt", "--no-config", ...launcherFlags(argv, cwd), MAIN, ...argv],
    cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Runs the client with the launcher's exact flags; resolves when it exits. */
export function runCli(argv: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  return collect(spawnCli(argv, options), options.stdin);
}

/** Runs the launcher as `deno task cli` does: its task flags, `INIT_CWD` the caller's directory. */
export function runLauncher(argv: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  const cwd = options.cwd ?? root;
  const child = new Deno.Command("deno", {
    args: [
      "run",
      "--allow-read",
      "--allow-env=INIT_CWD,HOME",
      "--allow-run=deno",
      LAUNCHER,
      ...argv,
    ],
    cwd,
    env: { INIT_CWD: cwd },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return collect(child, options.stdin);
}

/** A request as it came off the wire. */
export interface CapturedRequest {
  /** Every byte, head and body. */
  raw: string;
  /** The request line, e.g. `POST / HTTP/1.1`. */
  requestLine: string;
  /** The body. */
  body: string;
}

/** Reads one HTTP request (head, then `Content-Length` bytes) off `conn`. */
async function readRequest(conn: Deno.Conn): Promise<CapturedRequest | null> {
  let bytes = new Uint8Array(0);
  const chunk = new Uint8Array(64 * 1024);
  for (;;) {
    const text = decoder.decode(bytes);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const length = Number(
        /\r\nContent-Length: (\d+)\r\n/i.exec(text.slice(0, end + 2))?.[1] ?? 0,
      );
      const headBytes = new TextEncoder().encode(text.slice(0, end + 4)).length;
      if (bytes.length >= headBytes + length) {
        return {
          raw: text,
          requestLine: text.slice(0, text.indexOf("\r\n")),
          body: decoder.decode(bytes.subarray(headBytes)),
        };
      }
    }
    const n = await conn.read(chunk);
    if (n === null) return bytes.length === 0 ? null : { raw: text, requestLine: "", body: "" };
    const joined = new Uint8Array(bytes.length + n);
    joined.set(bytes);
    joined.set(chunk.subarray(0, n), bytes.length);
    bytes = joined;
  }
}

/** What the fake server answers a request with: raw bytes to send, or nothing (close at once). */
export type Answer = (request: CapturedRequest) => string | null;

/**
 * A TCP server on 127.0.0.1 that records each request and answers it with
 * `answer`'s bytes, then closes the connection; `connections` counts every
 * accepted connection, a request or not.
 */
export class FakeServer implements AsyncDisposable {
  readonly requests: CapturedRequest[] = [];
  /** Connections accepted. */
  connections = 0;
  /** Connections handled and closed. */
  finished = 0;
  readonly #listener: Deno.TcpListener;
  readonly #served: Promise<void>;
  readonly #waiters: (() => void)[] = [];

  constructor(readonly answer: Answer, port = 0) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port });
    this.#served = this.#serve();
  }

  /** The bound port. */
  get port(): number {
    return this.#listener.addr.port;
  }

  async #serve(): Promise<void> {
    for await (const conn of this.#listener) {
      this.connections++;
      try {
        const request = await readRequest(conn);
        if (request !== null) {
          this.requests.push(request);
          const reply = this.answer(request);
          if (reply !== null) await writeAll(conn, new TextEncoder().encode(reply));
        }
      } catch {
        /* the client went away */
      } finally {
        conn.close();
        this.finished++;
        this.#waiters.splice(0).forEach((wake) => wake());
      }
    }
  }

  /** Resolves once `count` connections have been handled. */
  async handled(count: number): Promise<void> {
    while (this.finished < count) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /**
   * Connects, sends a marker request and waits until it is handled: every
   * connection made before it (connections are accepted in order) has been
   * accepted by then. Resolves with how many there were.
   */
  async connectionsBefore(): Promise<number> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
    await conn.write(new TextEncoder().encode("PROBE / HTTP/1.1\r\n\r\n"));
    while (!this.requests.some((request) => request.requestLine.startsWith("PROBE "))) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    conn.close();
    return this.connections - 1;
  }

  /** Stops listening. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    await this.#served;
  }
}

/** An HTTP/1.1 reply with a JSON body, as bitcoind sends it (status 200 unless told). */
export function jsonReply(body: string, status = 200, reason = "OK"): string {
  const bytes = new TextEncoder().encode(body);
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${bytes.length}\r\nConnection: close\r\n\r\n${body}`;
}

/** A fresh data directory, removed on dispose. */
export class TempDatadir implements AsyncDisposable {
  private constructor(readonly path: string) {}

  /** An empty data directory. */
  static async empty(): Promise<TempDatadir> {
    return new TempDatadir(await Deno.makeTempDir({ prefix: "cli_test_" }));
  }

  /** A data directory with a cookie for `chain` (`__cookie__:<hex>`, no newline, as bitcoind writes it). */
  static async withCookie(
    cookie = `__cookie__:${"ab".repeat(32)}`,
    chain = "regtest",
  ): Promise<TempDatadir> {
    const datadir = await TempDatadir.empty();
    await Deno.mkdir(`${datadir.path}/${chain}`);
    await Deno.writeTextFile(`${datadir.path}/${chain}/.cookie`, cookie);
    return datadir;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Deno.remove(this.path, { recursive: true });
  }
}

/** A port nothing listens on now (bound, then released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** `-regtest -datadir=<datadir> -rpcport=<port>` followed by `argv`. */
export function regtest(datadir: string, port: number, ...argv: string[]): string[] {
  return ["-regtest", `-datadir=${datadir}`, `-rpcport=${port}`, ...argv];
}

/** What bitcoin-cli prints when no reply came from `port`, with libevent's error if any. */
export function unreachable(port: number, libeventError = ""): CliRun {
  return {
    code: 1,
    stdout: "",
    stderr: `error: timeout on transient error: Could not connect to the server 127.0.0.1:${port}` +
      `${libeventError}\n\nMake sure the bitcoind server is running and that you are connecting ` +
      'to the correct RPC port.\nUse "bitcoin-cli -help" for more info.\n',
  };
}
