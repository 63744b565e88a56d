/**
 * The real node as a process for the node's end-to-end tests and
 * benchmarks: `deno run` with exactly the flags `nodePermissions` computes
 * for its options, `components/node/main.ts -regtest -datadir=… -rpcport=…`,
 * and a JSON-RPC client over real HTTP with the cookie.
 *
 * @module
 */
import { parseNodeArgs } from "../../../components/node/options.ts";
import { nodePermissions } from "../../../components/node/permissions.ts";
import { hex } from "@scure/base";
import { hashFromHex } from "../../../components/node/chain/mod.ts";
import { assertEquals } from "../../assert.ts";
import { tempDir, waitFor } from "../../helpers.ts";
import type { TestKey, Utxo } from "./chain/chain_helpers.ts";
import { freePort } from "./node_process.ts";

/** The node's entry point. */
export const NODE_MAIN = new URL("../../../components/node/main.ts", import.meta.url).pathname;

/** An RPC error answer. */
export class RpcCallError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = "RpcCallError";
  }
}

/** A JSON-RPC reply: the parsed body and its exact text. */
export interface RawReply {
  readonly status: number;
  readonly text: string;
  // deno-lint-ignore no-explicit-any
  readonly body: any;
}

/** Options of {@linkcode startRealNode}. */
export interface StartOptions {
  /** An existing data directory (by default a new temporary one, removed on dispose). */
  datadir?: string;
  /** More node options. */
  args?: string[];
  /** Permission flags added to `nodePermissions`' (e.g. `--allow-run=<deno>` for echoipc). */
  extraFlags?: string[];
  /** The RPC port (a free one by default). */
  port?: number;
  /** The entry point ({@linkcode NODE_MAIN} by default; `monolithic.ts` runs the wallets too). */
  module?: string;
}

/** A running node. */
export interface RealNode extends AsyncDisposable {
  readonly datadir: string;
  readonly port: number;
  readonly child: Deno.ChildProcess;
  /** The exact command-line flags it was started with. */
  readonly flags: string[];
  /** Calls a method (JSON-RPC 2.0); throws {@linkcode RpcCallError} for an error answer. */
  // deno-lint-ignore no-explicit-any
  call(method: string, params?: unknown[] | Record<string, unknown>): Promise<any>;
  /** Sends `body` as is and returns the reply (any version, batches, …). */
  raw(body: string, path?: string): Promise<RawReply>;
  /** `stop` over RPC, then the exit status. */
  stop(): Promise<number>;
  /** Everything written to stderr so far (when piped). */
  stderr(): string;
}

/** The `--allow-*` flags a node with `argv` needs. */
export function flagsFor(argv: readonly string[]): string[] {
  const startup = parseNodeArgs(argv);
  if (startup.kind !== "run") throw new Error("not a run");
  return nodePermissions(startup.options);
}

/** Starts the node and waits until it answers RPC (past warm-up). */
export async function startRealNode(options: StartOptions = {}): Promise<RealNode> {
  const made = options.datadir === undefined ? tempDir("node_test_") : undefined;
  const datadir = made?.path ?? options.datadir!;
  const port = options.port ?? freePort();
  const argv = [
    "-regtest",
    `-datadir=${datadir}`,
    `-rpcport=${port}`,
    "-printtoconsole=0",
    ...(options.args ?? []),
  ];
  const flags = [...flagsFor(argv), ...(options.extraFlags ?? [])];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, options.module ?? NODE_MAIN, ...argv],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const cookiePath = `${datadir}/regtest/.cookie`;
  const auth = () => `Basic ${btoa(Deno.readTextFileSync(cookiePath))}`;
  const raw = async (body: string, path = "/"): Promise<RawReply> => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: "POST",
      headers: { authorization: auth(), "content-type": "application/json" },
      body,
    });
    const text = await response.text();
    return { status: response.status, text, body: text === "" ? null : JSON.parse(text) };
  };
  let id = 0;
  const call = async (method: string, params: unknown[] | Record<string, unknown> = []) => {
    const reply = await raw(JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }));
    if (reply.body.error) throw new RpcCallError(reply.body.error.code, reply.body.error.message);
    return reply.body.result;
  };
  await waitFor(
    async () => {
      if (exited) throw new Error(`the node exited before answering: ${stderr}`);
      try {
        await call("getblockcount");
        return true;
      } catch (error) {
        if (error instanceof RpcCallError && error.code === -28) return false;
        if (error instanceof RpcCallError) throw error;
        return false; // not listening yet, or no cookie yet
      }
    },
    60_000,
    "the node's first RPC answer",
  );
  return {
    datadir,
    port,
    child,
    flags,
    call,
    raw,
    stderr: () => stderr,
    async stop() {
      await call("stop");
      const { code } = await status;
      await stderrDone;
      return code;
    },
    async [Symbol.asyncDispose]() {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }
      await status;
      await stderrDone;
      made?.[Symbol.dispose]();
    },
  };
}

/** Expects `promise` to fail with exactly the RPC error `code` and `message`. */
export async function rejects(promise: Promise<unknown>, code: number, message: string) {
  const error = await promise.then(() => undefined, (e) => e);
  if (!(error instanceof RpcCallError)) throw error ?? new Error(`expected ${code} ${message}`);
  assertEquals([error.code, error.message], [code, message]);
}

/** The coinbase output of the block at `hash` as a spendable UTXO of `owner`. */
export async function coinbaseUtxo(
  call: RealNode["call"],
  hash: string,
  owner: TestKey,
): Promise<Utxo> {
  const block = await call("getblock", [hash, 2]);
  const out = block.tx[0].vout[0];
  return {
    outpoint: { txid: hashFromHex(block.tx[0].txid), index: 0 },
    amount: BigInt(Math.round(out.value * 1e8)),
    script: hex.decode(out.scriptPubKey.hex),
    key: owner,
  };
}
