/**
 * `deno task bench`: every benchmark, one after another, each in a process
 * of its own (so one's memory and open sockets do not weigh on the next),
 * their `BENCH <name> <value> <unit>` and `RATIO <name> <x>` lines printed
 * as they come. Then the ratios between figures of different benchmarks
 * of this run, and a check that no two benchmarks print one name.
 * `BENCH_SECONDS` (default 2) sets the measuring time per throughput figure.
 *
 * Exits 1 when a benchmark failed or a name was printed twice; the others
 * still run.
 *
 * @module
 */

/** The benchmarks, in the order they run. */
const BENCHMARKS = [
  "rpc_bench.ts", // raw socket, RPC engine Deno ↔ Deno, C++ ↔ C++, Deno → C++
  "proxy_bench.ts", // generated proxies against the raw engine; spawn to first call
  "sandbox_bench.ts", // the spawn contract: Foo and the node, plain and hardened
  "node_bench.ts", // the node process: RPC throughput, generate, mempool, start
  "rpc_http_bench.ts", // the JSON-RPC HTTP server on a stub method table
  "chain_bench.ts", // block assembly and validation in-process
  "mempool_bench.ts", // mempool acceptance in-process
  "sighash_bench.ts", // signing and checking 1,000 inputs: kept sighash hashes vs scure's
  "mining_ipc_bench.ts", // Bitcoin Core's Mining interface over IPC
  "hostile_bench.ts", // server memory under a peer that never reads
  "gui_bench.ts", // deno task gui to first paint in Chromium; block to screen
  "wallet_bench.ts", // deno task start, sends and balances: wallet process vs -monolithic
];

/** Ratios of figures printed by different benchmarks: name, ours, reference. */
const CROSS_RATIOS: [string, string, string][] = [
  ["spawn_node_sandboxed_vs_plain", "spawn_node_sandboxed_to_rpc_ms", "node_start_to_rpc_ms"],
  ["sandboxed_spawn_vs_bare_deno", "spawn_sandboxed_first_call_ms", "bare_deno_start_ms"],
];

/** Runs `bench/<file>`, echoing its output; records its BENCH figures in `figures`. */
async function runBenchmark(
  file: string,
  figures: Map<string, { value: number; from: string }>,
  problems: string[],
): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(file, import.meta.url).pathname],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let pending = "";
  const take = (line: string) => {
    console.log(line);
    const figure = /^BENCH (\S+) (\S+) /.exec(line);
    if (figure === null) return;
    const [, name, value] = figure;
    const earlier = figures.get(name);
    if (earlier) problems.push(`BENCH ${name} is printed by both ${earlier.from} and ${file}`);
    figures.set(name, { value: Number(value), from: file });
  };
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    lines.forEach(take);
  }
  if (pending) take(pending);
  const status = await child.status;
  if (!status.success) problems.push(`${file} failed (exit status ${status.code})`);
}

if (import.meta.main) {
  const figures = new Map<string, { value: number; from: string }>();
  const problems: string[] = [];
  for (const file of BENCHMARKS) {
    console.log(`# bench/${file}`);
    await runBenchmark(file, figures, problems);
  }
  for (const [name, ours, reference] of CROSS_RATIOS) {
    const a = figures.get(ours);
    const b = figures.get(reference);
    if (a && b) console.log(`RATIO ${name} ${(a.value / b.value).toFixed(2)}`);
  }
  for (const problem of problems) console.error(`bench: ${problem}`);
  Deno.exit(problems.length === 0 ? 0 : 1);
}
