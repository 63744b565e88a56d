/**
 * Mining through the node's IPC interface (Bitcoin Core v30.0's Mining):
 * prints `BENCH mining_ipc_create_submit_ms` — the median time for one
 * block of `createNewBlock` → `getBlockHeader` / `getCoinbaseTx` → solve
 * → `submitSolution` → `destroy`, from a client of generated proxies over a
 * UNIX socket to the node's Init served in this process — and, measured in
 * the same run on the same chain, the same block built and submitted
 * in-process through the same Mining object without IPC
 * (`mining_inprocess_create_submit_ms`), with `RATIO mining_ipc_vs_inprocess`.
 * The two alternate block by block, so both see the same chain.
 *
 * Run: `deno run --allow-read --allow-write --allow-env --allow-net bench/mining_ipc_bench.ts`
 * (`BENCH_BLOCKS` sets the blocks per figure, default 100).
 *
 * @module
 */
import { report } from "./measure.ts";
import {
  blockHash,
  checkProofOfWork,
  decodeHeader,
  POW_LIMIT,
} from "../components/node/chain/mod.ts";
import { Mempool } from "../components/node/mempool/mod.ts";
import type { Mining } from "../schemas/gen/ipc/mining.mp.ts";
import { openTempChain } from "../tests/components/node/chain/chain_helpers.ts";
import { CREATE_OPTIONS, serveInit } from "../tests/components/node/ipc/ipc_helpers.ts";

const BLOCKS = Number(Deno.env.get("BENCH_BLOCKS") ?? "100");

/** One block mined through `mining` (a proxy or the object itself); returns milliseconds. */
async function mineOne(mining: Mining): Promise<number> {
  const started = performance.now();
  const template = (await mining.createNewBlock(CREATE_OPTIONS))!;
  const [headerBytes, coinbase] = await Promise.all([
    template.getBlockHeader(),
    template.getCoinbaseTx(),
  ]);
  const header = decodeHeader(headerBytes);
  while (!checkProofOfWork(blockHash(header), header.bits, POW_LIMIT)) header.nonce++;
  const accepted = await template.submitSolution(
    header.version >>> 0,
    header.time,
    header.nonce,
    coinbase,
  );
  if (!accepted) throw new Error("the node refused the solved block");
  await (template as unknown as AsyncDisposable)[Symbol.asyncDispose]?.();
  (template as unknown as Partial<Disposable>)[Symbol.dispose]?.();
  return performance.now() - started;
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

if (import.meta.main) {
  using chain = openTempChain();
  using mempool = new Mempool(chain);
  await using node = await serveInit(chain, mempool);
  const client = await node.connect("bench");
  await using remote = (await client.makeMining())!;
  const local = node.init.makeMining();
  // Warm-up: code paths, the connection's thread, SQLite's statements.
  for (let i = 0; i < 5; i++) {
    await mineOne(remote as unknown as Mining);
    await mineOne(local);
  }
  const ipc: number[] = [];
  const inProcess: number[] = [];
  for (let i = 0; i < BLOCKS; i++) {
    ipc.push(await mineOne(remote as unknown as Mining));
    inProcess.push(await mineOne(local));
  }
  const ipcMs = report("mining_ipc_create_submit_ms", median(ipc), "ms");
  const localMs = report("mining_inprocess_create_submit_ms", median(inProcess), "ms");
  console.log(`RATIO mining_ipc_vs_inprocess ${(ipcMs / localMs).toFixed(2)}`);
  console.log(`blocks mined: ${chain.height} (height), live templates: ${node.init.liveTemplates}`);
}
