/**
 * Shared test plumbing: temporary directories and sockets, the Deno and C++
 * peer processes, and polling.
 *
 * @module
 */
import { RpcConnection } from "../runtime/rpc/connection.ts";
import type { ByteChannel } from "../runtime/transport.ts";
import { TesterClient } from "../examples/tester.ts";

const root = new URL("../", import.meta.url).pathname;

/**
 * A temporary folder, or a `path` in one: disposing removes the folder with
 * everything in it (one already gone is no error).
 */
export interface TempPath extends Disposable, AsyncDisposable {
  readonly path: string;
}

/** A fresh temporary directory (`Deno.makeTempDirSync`), removed on dispose. */
export function tempDir(prefix?: string): TempPath {
  const path = Deno.makeTempDirSync({ prefix });
  const gone = (error: unknown) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  };
  return {
    path,
    [Symbol.dispose]() {
      try {
        Deno.removeSync(path, { recursive: true });
      } catch (error) {
        gone(error);
      }
    },
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(gone),
  };
}

/** A socket path (`path`) in a fresh temporary directory, removed on dispose. */
export function tempSocket(name = "test"): TempPath {
  const dir = tempDir("capdeno-");
  return { ...dir, path: `${dir.path}/${name}.sock` };
}

/** A spawned peer process that is killed on dispose. */
export interface Peer extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** Lines the process printed on stdout so far. */
  readonly lines: string[];
  /** Lines it printed on stderr so far, when asked to collect them (else stderr is ours). */
  readonly errors: string[];
  /** Resolves with the first line matching `pattern`. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Calls `each` with every line of `stream`. */
async function eachLine(stream: ReadableStream<Uint8Array>, each: (line: string) => void) {
  let buffered = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      each(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  }
}

/** Spawns `command args`, collecting stdout lines (and stderr lines with `collectStderr`). */
export function spawnPeer(
  command: string,
  args: string[],
  { collectStderr = false } = {},
): Peer {
  const child = new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: collectStderr ? "piped" : "inherit",
  }).spawn();
  const lines: string[] = [];
  const errors: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  eachLine(child.stdout, (line) => {
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  if (collectStderr) eachLine(child.stderr, (line) => errors.push(line));
  return {
    child,
    lines,
    errors,
    line(pattern, timeoutMs = 20_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no line matching ${pattern} within ${timeoutMs} ms; got ${JSON.stringify(lines)}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      });
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await child.status;
    },
  };
}

/** How {@linkcode startDenoTester} and {@linkcode startFooComponent} run the server. */
export interface ServerOptions {
  /** Runs it under `prlimit --nofile=<openFiles>`. */
  openFiles?: number;
  /** Collects its stderr lines (`Peer.errors`) instead of sharing ours. */
  collectStderr?: boolean;
  /** Deno flags before the module (`--inspect=…`, say); not permissions. */
  denoFlags?: readonly string[];
}

/** Starts the Deno Tester server on `path` and waits until it listens. */
export function startDenoTester(path: string, options: ServerOptions = {}): Promise<Peer> {
  return startDenoServer("examples/tester_server.ts", path, [path], options);
}

/** Runs `module args` with grants for the socket at `path` only; waits for READY. */
async function startDenoServer(
  module: string,
  path: string,
  args: string[],
  { openFiles, collectStderr, denoFlags = [] }: ServerOptions = {},
): Promise<Peer> {
  const deno = [
    Deno.execPath(),
    "run",
    ...denoFlags,
    `--allow-read=${path}`,
    `--allow-write=${path}`,
    `--allow-net=unix:${path}`,
    `${root}${module}`,
    ...args,
  ];
  const [command, ...rest] = openFiles === undefined
    ? deno
    : ["prlimit", `--nofile=${openFiles}`, "--", ...deno];
  const peer = spawnPeer(command, rest, { collectStderr });
  await peer.line(/^READY$/);
  return peer;
}

/**
 * Starts `tests/fixtures/limited_server.ts` on `path` in `mode` (`tester` or
 * `blobs`) with `limits` (JSON for `RpcLimits`), and waits until it listens.
 * It prints `CLOSED <reason>` for each connection that ends with an error.
 */
export function startLimitedServer(
  path: string,
  mode: "tester" | "blobs",
  limits: Record<string, number> = {},
): Promise<Peer> {
  return startDenoServer("tests/fixtures/limited_server.ts", path, [
    path,
    mode,
    JSON.stringify(limits),
  ]);
}

/**
 * Starts the Foo component (examples/foo/main.ts) listening on
 * `path` with grants for that one socket, and waits until it listens.
 */
export function startFooComponent(path: string, options: ServerOptions = {}): Promise<Peer> {
  return startDenoServer("examples/foo/main.ts", path, [`-ipcbind=unix:${path}`], options);
}

/** Runs a mode of the Deno test process (see tests/fixtures/tester_process.ts). */
export function spawnDenoClient(mode: string, path: string): Peer {
  return spawnPeer(Deno.execPath(), [
    "run",
    "--allow-all",
    `${root}tests/fixtures/tester_process.ts`,
    mode,
    path,
  ]);
}

let cppPeers: Promise<string | null> | null = null;

/**
 * Builds the C++ peers once per process (under a lock shared by parallel
 * test files) and returns their directory; null when g++ or libcapnp-dev is
 * missing.
 */
function cppPeerDir(): Promise<string | null> {
  return cppPeers ??= buildCppPeers();
}

/** The C++ Tester peer (`tests/cpp/peer.c++`), or null without a C++ toolchain. */
export async function cppPeerPath(): Promise<string | null> {
  const dir = await cppPeerDir();
  return dir === null ? null : `${dir}/peer`;
}

/** The C++ libmultiprocess-style peer (`tests/cpp/mp_peer.c++`), or null. */
export async function cppMpPeerPath(): Promise<string | null> {
  const dir = await cppPeerDir();
  return dir === null ? null : `${dir}/mp_peer`;
}

/** The C++ Bitcoin Core-style mining client (`tests/cpp/mining_client.c++`), or null. */
export async function cppMiningClientPath(): Promise<string | null> {
  const dir = await cppPeerDir();
  return dir === null ? null : `${dir}/mining_client`;
}

async function buildCppPeers(): Promise<string | null> {
  const have = await new Deno.Command("pkg-config", { args: ["--exists", "capnp-rpc"] })
    .output().then((o) => o.success, () => false);
  if (!have) return null;
  const out = `${root}tests/cpp/build`;
  Deno.mkdirSync(out, { recursive: true });
  const lock = `${out}/.lock`;
  for (;;) {
    try {
      Deno.openSync(lock, { createNew: true, write: true }).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    const sources = [
      "tests/cpp/peer.c++",
      "tests/cpp/mp_peer.c++",
      "tests/cpp/mining_client.c++",
      "tests/cpp/build.sh",
      "examples/schemas/testing.capnp",
      "runtime/schema/mp/proxy.capnp",
      "runtime/schema/mapping.capnp",
      "examples/schemas/conformance.capnp",
      ...[...Deno.readDirSync(`${root}schemas/ipc`)].map((entry) => `schemas/ipc/${entry.name}`),
    ].map((s) => Deno.statSync(root + s).mtime!.getTime());
    const built = Math.min(...["peer", "mp_peer", "mining_client"].map((binary) => {
      try {
        return Deno.statSync(`${out}/${binary}`).mtime!.getTime();
      } catch {
        return 0;
      }
    }));
    if (built < Math.max(...sources)) {
      const result = await new Deno.Command("bash", { args: [`${root}tests/cpp/build.sh`, out] })
        .output();
      if (!result.success) {
        throw new Error(`C++ peer build failed:\n${new TextDecoder().decode(result.stderr)}`);
      }
    }
  } finally {
    Deno.removeSync(lock);
  }
  return out;
}

/** Starts the C++ Tester server on `path` and waits until it listens. */
export async function startCppTester(binary: string, path: string): Promise<Peer> {
  const peer = spawnPeer(binary, ["server", path]);
  await peer.line(/^READY$/);
  return peer;
}

/** A Tester client over `channel`; disposing it closes the connection. */
export function testerOver(
  channel: ByteChannel,
): { rpc: RpcConnection; tester: TesterClient } & AsyncDisposable {
  const rpc = new RpcConnection(channel);
  const tester = new TesterClient(rpc.bootstrap());
  return {
    rpc,
    tester,
    async [Symbol.asyncDispose]() {
      tester.dispose();
      await rpc.close();
    },
  };
}

/** Connects to a Tester server listening at `path`. */
export async function connectTester(
  path: string,
): Promise<{ rpc: RpcConnection; tester: TesterClient } & AsyncDisposable> {
  return testerOver(await Deno.connect({ transport: "unix", path }));
}

/** How long a test waits for anything before it fails (generous: the machine may be loaded). */
export const DEFAULT_TIMEOUT_MS = 20_000;

/** Settles like `promise`, or rejects with a descriptive error after `ms`. */
export function withTimeout<T>(
  promise: Promise<T>,
  ms = DEFAULT_TIMEOUT_MS,
  what = "promise",
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  what = "condition",
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Whether process `pid` is gone (or only a zombie nobody reaped). */
export function processGone(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Descriptor number → what it points to (`pipe:[…]`, `socket:[…]`, a path) in process `pid`. */
export function descriptorsOf(pid: number): Map<number, string> {
  const fds = new Map<number, string>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      fds.set(Number(entry.name), Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`));
    } catch { /* closed meanwhile */ }
  }
  return fds;
}

/** The open-file flags (`O_…`) of descriptor `fd` of process `pid`. */
export function descriptorFlags(pid: number, fd: number): number {
  const info = Deno.readTextFileSync(`/proc/${pid}/fdinfo/${fd}`);
  return parseInt(/^flags:\s*(\d+)/m.exec(info)![1], 8);
}

/** O_CLOEXEC in {@linkcode descriptorFlags}. */
const CLOSE_ON_EXEC = 0o2000000;

/** The descriptors a child of `pid` would inherit: those not close-on-exec. */
export function inheritableDescriptors(pid: number): Map<number, string> {
  return new Map([...descriptorsOf(pid)].filter(([fd]) => {
    try {
      return (descriptorFlags(pid, fd) & CLOSE_ON_EXEC) === 0;
    } catch {
      return false; // closed meanwhile
    }
  }));
}

/** The descriptors of `pid` that point to something `held` (another process's descriptors) does. */
export function sharedDescriptors(pid: number, held: Map<number, string>): [number, string][] {
  const targets = new Set(held.values());
  return [...descriptorsOf(pid)].filter(([, target]) => targets.has(target));
}

/** Resident and peak resident memory (`VmRSS`, `VmHWM`) of process `pid`, in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string) => {
    const kb = status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"));
    if (kb === null) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(kb[1]) * 1024;
  };
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

/** Process `pid`'s resident memory and open descriptors, as a line for a campaign's log. */
export function usageLine(pid: number): string {
  return `rss ${(memoryOf(pid).rss / 2 ** 20).toFixed(0)} MiB fds ${descriptorsOf(pid).size}`;
}

/** The bytes of `parts`, one after another, in one new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * Runs `tests/fixtures/<fixture>` to its end under `v8Flags`, with `args`;
 * its standard output, once it exited with status 0 (else an error with
 * what it wrote to stderr).
 */
export async function runFixture(
  fixture: string,
  v8Flags: string,
  ...args: string[]
): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--v8-flags=${v8Flags}`, `${root}tests/fixtures/${fixture}`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (output.code !== 0) {
    throw new Error(
      `${fixture} exited with ${output.code}: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/**
 * Starts `tests/fixtures/sandbox_parent.ts` on `stateDir` (with `args`)
 * and waits until its sandboxed Foo child answered: the parent process,
 * and the child's pid, data directory and run directory.
 */
export async function startSandboxParent(stateDir: string, ...args: string[]) {
  const parent = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${root}tests/fixtures/sandbox_parent.ts`, stateDir, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/CHILD \d+ \S+ \S+\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the parent ended before its child started: ${text}`);
    text += value;
  }
  await reader.cancel();
  const [, pid, dataDir, runDir] = /CHILD (\d+) (\S+) (\S+)/.exec(text)!;
  return { parent, pid: Number(pid), dataDir, runDir };
}

/** Every process's pid and command line, from /proc (those gone meanwhile left out). */
export function commandLines(): { pid: number; argv: string[] }[] {
  const found: { pid: number; argv: string[] }[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0").slice(0, -1);
      found.push({ pid: Number(entry.name), argv });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The pids of the processes whose command line has the argument `arg`. */
export function processesWith(arg: string): number[] {
  return commandLines().filter(({ argv }) => argv.includes(arg)).map(({ pid }) => pid);
}

/** The non-empty lines of the text file at `path`; none while it does not exist. */
export function fileLines(path: string): string[] {
  try {
    return Deno.readTextFileSync(path).split("\n").filter((line) => line !== "");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}
