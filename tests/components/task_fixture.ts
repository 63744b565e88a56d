/**
 * A `deno task …` run as a user runs it in a terminal: in its own process
 * group (Ctrl-C is SIGINT to the group), stdout and stderr gathered as one
 * text that tests wait on.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { projectRoot } from "../../sandbox/contract.ts";
import { assert } from "../assert.ts";
import { waitFor } from "../helpers.ts";

/** Long enough for a first bundle build on a loaded 2-core machine; only a hang reaches it. */
const PATIENCE_MS = 180_000;

/** A `deno task` in its own process group, its stdout and stderr gathered as one text. */
export class Task implements AsyncDisposable {
  readonly #child: ChildProcess;
  #output = "";
  #waiters: (() => void)[] = [];
  #closed = false;
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[], cwd = projectRoot()) {
    this.#child = spawn(Deno.execPath(), ["task", "-q", ...args], {
      cwd,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...Deno.env.toObject(), NO_COLOR: "1" },
    });
    const gather = (chunk: Uint8Array) => {
      this.#output += new TextDecoder().decode(chunk);
      this.#waiters.forEach((wake) => wake());
    };
    this.#child.stdout!.on("data", gather);
    this.#child.stderr!.on("data", gather);
    this.exited = new Promise((resolve) => {
      this.#child.once("close", (code) => {
        this.#closed = true;
        resolve(code);
        this.#waiters.forEach((wake) => wake());
      });
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  get output(): string {
    return this.#output;
  }

  /** The first match of `pattern` in the output; rejects if the task ends first. */
  match(pattern: RegExp): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => check(true), PATIENCE_MS);
      const check = (late = false) => {
        const found = pattern.exec(this.#output);
        if (found === null && !this.#closed && !late) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((wake) => wake !== check);
        if (found) resolve(found);
        else reject(new Error(`no ${pattern} in the task's output:\n${this.#output}`));
      };
      this.#waiters.push(check);
      check();
    });
  }

  /** Ctrl-C: SIGINT to the whole process group. */
  interrupt(): void {
    Deno.kill(-this.pid, "SIGINT");
  }

  /**
   * Ctrl-C first (after a failed assertion), so that the supervisor stops
   * the node and unmounts its disk image; SIGKILL if it has not ended 30 s
   * later.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    const signal = (name: Deno.Signal) => {
      try {
        Deno.kill(-this.pid, name);
      } catch { /* gone meanwhile */ }
    };
    if (!this.#closed) signal("SIGINT");
    const late = setTimeout(() => signal("SIGKILL"), 30_000);
    await this.exited;
    clearTimeout(late);
  }
}

/** Runs a task to its end. */
export async function task(args: readonly string[], cwd = projectRoot()) {
  await using running = new Task(args, cwd);
  const code = await running.exited;
  return { code, out: running.output };
}

/**
 * The names in the node's `regtest/` directory and its `debug.log`, read
 * while it is stopped: under root from its disk image, mounted read-only
 * for the look.
 */
export async function stoppedNodeFiles(state: string): Promise<{ names: string[]; log: string }> {
  const image = `${state}/disks/node.ext4`;
  const read = (dir: string) => ({
    names: [...Deno.readDirSync(`${dir}/regtest`)].map((entry) => entry.name).sort(),
    log: Deno.readTextFileSync(`${dir}/regtest/debug.log`),
  });
  try {
    Deno.statSync(image);
  } catch {
    return read(`${state}/data/node`);
  }
  const mountPoint = Deno.makeTempDirSync();
  const run = (program: string, args: string[]) =>
    new Deno.Command(program, { args, stdout: "null", stderr: "inherit" }).output();
  assert((await run("mount", ["-o", "loop,ro", image, mountPoint])).success, "mount the image");
  try {
    return read(mountPoint);
  } finally {
    await run("umount", [mountPoint]);
    Deno.removeSync(mountPoint);
  }
}

/** The pid of the last start of `component` the supervisor reported in `output`. */
export function lastStartedPid(output: string, component: string): number {
  const pids = [
    ...output.matchAll(new RegExp(`\\[supervisor\\] ${component}: started \\(pid (\\d+)\\)`, "g")),
  ];
  assert(pids.length > 0, output);
  return Number(pids.at(-1)![1]);
}

/** A JSON-RPC reply: its result, or its error. */
export type RpcReply = { result: unknown; error: { code: number; message: string } | null };

/**
 * JSON-RPC over HTTP to the node on `port` with its cookie, as any client
 * calls it: `call` answers the reply (an RPC error is no throw); `healed`
 * calls until an answer has no error (the application came back after a
 * restart) and gives its result, failing with the last answer and
 * `context()` after `patienceMs`.
 */
export function nodeRpc(port: number, cookieFile: string, context: () => string) {
  const call = async (method: string, params: unknown[] = [], wallet?: string) => {
    const response = await fetch(
      `http://127.0.0.1:${port}/${wallet === undefined ? "" : `wallet/${wallet}`}`,
      {
        method: "POST",
        headers: { authorization: `Basic ${btoa(Deno.readTextFileSync(cookieFile))}` },
        body: JSON.stringify({ jsonrpc: "1.0", id: 1, method, params }),
      },
    );
    return await response.json() as RpcReply;
  };
  const healed = async (method: string, params: unknown[] = [], wallet?: string) => {
    let last: unknown;
    await waitFor(
      async () => {
        try {
          last = await call(method, params, wallet);
          return (last as RpcReply).error === null;
        } catch (error) {
          last = String(error); // restarting: nothing listens for a moment
          return false;
        }
      },
      PATIENCE_MS,
      `${method} to answer (last: ${JSON.stringify(last)})\n${context()}`,
    );
    return (last as RpcReply).result;
  };
  return { call, healed };
}

/** A JSON-RPC error answer, thrown by {@linkcode rpcResults}: `<code>: <message>`. */
export class RpcFailure extends Error {
  constructor(readonly code: number, message: string) {
    super(`${code}: ${message}`);
  }
}

/**
 * bitcoin-cli's way to the node of state directory `state` on `port` (or
 * another server there, with its `cookieFile`): the result of each call,
 * an RPC error thrown as an {@linkcode RpcFailure}.
 */
export function rpcResults(
  state: string,
  port: number,
  cookieFile = `${state}/data/node/regtest/.cookie`,
) {
  const { call } = nodeRpc(port, cookieFile, () => "");
  return async (method: string, params: unknown[] = [], wallet?: string) => {
    const reply = await call(method, params, wallet);
    if (reply.error) throw new RpcFailure(reply.error.code, reply.error.message);
    // deno-lint-ignore no-explicit-any
    return reply.result as any;
  };
}
