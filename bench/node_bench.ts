/**
 * The real node process benchmarks: prints `BENCH <name> <value> <unit>`
 * per figure and `RATIO <name> <x>` against a reference measured in the
 * same run.
 *
 * - `rpc_getblockcount_rps`: 8 concurrent keep-alive HTTP clients calling
 *   `getblockcount` on the node (cookie auth); reference: the same clients
 *   and bytes against a raw TCP echo process.
 * - `generate_100_blocks_ms`: `generatetoaddress 100` through RPC (median of
 *   3); reference: 100 blocks assembled, solved and connected in-process.
 * - `mempool_accept_tx_per_s`: signed one-in-one-out P2WPKH spends sent one
 *   after another with `sendrawtransaction`; reference: the same kind of
 *   spends through `Mempool.accept` in-process.
 * - `node_start_to_rpc_ms`: exec of the node on a fresh data directory to
 *   its first `getblockcount` answer (median of 3); reference: exec of a
 *   Deno TCP echo process to its first echo.
 *
 * Run: `deno run -A bench/node_bench.ts` (also part of `deno task bench`).
 *
 * @module
 */
import { hex } from "@scure/base";
import { report } from "./measure.ts";
import { keepAliveRequest, throughput } from "./rpc_http_bench.ts";
import { startRealNode } from "../tests/components/node/real_node.ts";
import { tempDir } from "../tests/helpers.ts";
import { signTx, TestKey, type Utxo } from "../tests/components/node/chain/chain_helpers.ts";
import {
  ChainState,
  encodeTx,
  generateBlock,
  hashFromHex,
  scriptToAddress,
  type Tx,
  txid,
} from "../components/node/chain/mod.ts";
import { Mempool } from "../components/node/mempool/mod.ts";

const key = new TestKey(77);
const ADDRESS = scriptToAddress(key.wpkh)!;
const SPENDS = 300;
const RUNS = 3;

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ratio = (name: string, ours: number, reference: number) =>
  console.log(`RATIO ${name} ${(ours / reference).toFixed(2)}`);

/** A transaction fanning `utxo` out to `count` outputs paying `key`, and spends of each. */
function fanOut(utxo: Utxo, count: number): { fan: Tx; spends: Tx[] } {
  const each = (utxo.amount - 100_000n) / BigInt(count);
  const fan = signTx(
    [utxo],
    Array.from({ length: count }, () => ({ script: key.wpkh, amount: each })),
  );
  const fanId = txid(fan);
  const spends = Array.from(
    { length: count },
    (_, index) =>
      signTx([{ outpoint: { txid: fanId, index }, amount: each, script: key.wpkh, key }], [
        { script: key.wpkh, amount: each - 1_410n },
      ]),
  );
  return { fan, spends };
}

/** Milliseconds from exec of `args` to `ready()` first resolving true. */
async function startup(args: string[], ready: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    while (!(await ready().catch(() => false))) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return performance.now() - started;
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel();
  }
}

/** Every node figure. */
export async function nodeFigures(): Promise<void> {
  // rpc_getblockcount_rps and its TCP echo reference.
  const body = '{"method":"getblockcount","params":[],"id":1,"jsonrpc":"2.0"}\n';
  {
    await using node = await startRealNode();
    const request = keepAliveRequest(
      Deno.readTextFileSync(`${node.datadir}/regtest/.cookie`),
      body,
    );
    const rps = report(
      "rpc_getblockcount_rps",
      await throughput(node.port, (c) => c.httpCall(request)),
      "req/s",
    );
    const echo = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./rpc_http_bench.ts", import.meta.url).pathname, "serve-echo"],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = echo.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const port = Number(/READY (\d+)/.exec((await reader.read()).value ?? "")![1]);
    const reference = report(
      "node_tcp_echo_reference_rps",
      await throughput(port, (c) => c.echoCall(request)),
      "req/s",
    );
    ratio("rpc_getblockcount_vs_tcp_echo", rps, reference);
    echo.kill("SIGKILL");
    await echo.status;
    await reader.cancel();

    // generate_100_blocks_ms through RPC, and in-process.
    const runs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await node.call("generatetoaddress", [100, ADDRESS]);
      runs.push(performance.now() - started);
    }
    const rpcMs = report("generate_100_blocks_ms", median(runs), "ms");
    const local: number[] = [];
    {
      using dir = tempDir("node_bench_");
      using chain = ChainState.open(dir.path);
      for (let i = 0; i < RUNS; i++) {
        const started = performance.now();
        for (let b = 0; b < 100; b++) generateBlock(chain, { payoutScript: key.wpkh });
        local.push(performance.now() - started);
      }
    }
    ratio(
      "generate_100_blocks_rpc_vs_inprocess",
      rpcMs,
      report("generate_100_blocks_inprocess_reference_ms", median(local), "ms"),
    );

    // mempool_accept_tx_per_s through sendrawtransaction.
    const first = (await node.call("getblock", [await node.call("getblockhash", [1]), 2])).tx[0];
    const { fan, spends } = fanOut({
      outpoint: { txid: hashFromHex(first.txid), index: 0 },
      amount: 50_0000_0000n,
      script: key.wpkh,
      key,
    }, SPENDS);
    await node.call("generateblock", [ADDRESS, [hex.encode(encodeTx(fan))]]);
    const texts = spends.map((tx) => hex.encode(encodeTx(tx)));
    const started = performance.now();
    for (const text of texts) await node.call("sendrawtransaction", [text]);
    const rpcRate = report(
      "mempool_accept_tx_per_s",
      SPENDS / ((performance.now() - started) / 1000),
      "tx/s",
    );
    ratio(
      "mempool_accept_rpc_vs_inprocess",
      rpcRate,
      report("mempool_accept_inprocess_reference_tx_per_s", inProcessAcceptRate(), "tx/s"),
    );
  }

  // node_start_to_rpc_ms and a Deno TCP process's start as the reference.
  const starts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    using temp = tempDir("node_bench_start_");
    const datadir = temp.path;
    const probe = await startRealNode({ datadir }).then(async (node) => {
      const argvFlags = node.flags;
      await node.stop();
      return argvFlags;
    });
    Deno.removeSync(`${datadir}/regtest`, { recursive: true });
    const port = await freeTcpPort();
    const main = new URL("../components/node/main.ts", import.meta.url).pathname;
    const flags = probe.map((flag) => flag.replace(/:\d+(?=,|$)/g, `:${port}`));
    starts.push(
      await startup(
        [
          "run",
          "--no-prompt",
          ...flags,
          main,
          "-regtest",
          `-datadir=${datadir}`,
          `-rpcport=${port}`,
          "-printtoconsole=0",
        ],
        () => answers(datadir, port),
      ),
    );
  }
  const startMs = report("node_start_to_rpc_ms", median(starts), "ms");
  const echoStarts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const port = await freeTcpPort();
    const script = `const l = Deno.listen({ hostname: "127.0.0.1", port: ${port} });` +
      "for await (const c of l) { const b = new Uint8Array(1); await c.read(b); await c.write(b); c.close(); }";
    echoStarts.push(
      await startup(["eval", script], async () => {
        using conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await conn.write(Uint8Array.of(1));
        return (await conn.read(new Uint8Array(1))) === 1;
      }),
    );
  }
  ratio(
    "node_start_vs_deno_tcp_start",
    startMs,
    report("deno_start_to_tcp_reference_ms", median(echoStarts), "ms"),
  );
}

/** Whether the node at `port` answers `getblockcount` (past warm-up). */
async function answers(datadir: string, port: number): Promise<boolean> {
  const cookie = Deno.readTextFileSync(`${datadir}/regtest/.cookie`);
  const response = await fetch(`http://127.0.0.1:${port}/`, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(cookie)}` },
    body: '{"jsonrpc":"2.0","id":1,"method":"getblockcount"}',
  });
  const reply = await response.json();
  return reply.result === 0;
}

async function freeTcpPort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return await Promise.resolve(port);
}

/** Spends of the same shape accepted in-process, per second. */
function inProcessAcceptRate(): number {
  const dir = Deno.makeTempDirSync({ prefix: "node_bench_mempool_" });
  try {
    using chain = ChainState.open(dir);
    const first = generateBlock(chain, { payoutScript: key.wpkh });
    for (let i = 0; i < 100; i++) generateBlock(chain, { payoutScript: key.wpkh });
    const { fan, spends } = fanOut({
      outpoint: { txid: txid(first.txs[0]), index: 0 },
      amount: 50_0000_0000n,
      script: key.wpkh,
      key,
    }, SPENDS);
    generateBlock(chain, { payoutScript: key.wpkh, txs: [{ tx: fan, fee: 100_000n }] });
    using mempool = new Mempool(chain);
    const started = performance.now();
    for (const tx of spends) {
      const result = mempool.accept(tx);
      if (!result.accepted) throw new Error(`refused: ${result.reject?.message}`);
    }
    return SPENDS / ((performance.now() - started) / 1000);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

if (import.meta.main) await nodeFigures();
