/**
 * RPC benchmarks: prints `BENCH <name> <value> <unit>` per figure and
 * `RATIO <name> <x>` comparisons (ours divided by the reference).
 *
 * (a) raw Deno UNIX-socket 64-byte ping-pong; (b) our RPC Deno ↔ Deno, tiny
 * call, sequential; (c) the same with 64 calls in flight; (d) a call carrying
 * 1 MiB of Data; (e) C++ ↔ C++ with the same schema (when g++ and
 * libcapnp-dev are present); (f) Deno client → C++ server. Then the proxy,
 * spawn and sandbox figures, and last the hostile-peer ones
 * (`bench/hostile_bench.ts`: a server's memory under a peer that never reads).
 *
 * Every server runs in its own process. `BENCH_SECONDS` sets the measuring
 * time per figure (default 2).
 *
 * @module
 */
import { TesterClient } from "../examples/tester.ts";
import { RpcConnection } from "../runtime/rpc/connection.ts";
import {
  cppPeerPath,
  type Peer,
  spawnPeer,
  startCppTester,
  startDenoTester,
  tempSocketPath,
} from "../tests/helpers.ts";
import { BENCH_SECONDS as SECONDS, rate, report } from "./measure.ts";

const MIB = 1 << 20;

async function rawPingPong(): Promise<number> {
  const path = tempSocketPath("raw");
  const root = new URL("../", import.meta.url).pathname;
  await using server = spawnPeer(Deno.execPath(), [
    "run",
    `--allow-read=${path}`,
    `--allow-write=${path}`,
    `--allow-net=unix:${path}`,
    `${root}bench/raw_echo.ts`,
    path,
  ]);
  await server.line(/^READY$/);
  using conn = await Deno.connect({ transport: "unix", path });
  const out = new Uint8Array(64).fill(7);
  const back = new Uint8Array(64);
  const perSecond = await rate(async () => {
    await conn.write(out);
    let got = 0;
    while (got < 64) got += (await conn.read(back.subarray(got)))!;
  });
  return 1e6 / perSecond;
}

interface RpcFigures {
  seq: number;
  inflight: number;
  blob: number;
}

async function rpcFigures(prefix: string, path: string): Promise<RpcFigures> {
  const rpc = new RpcConnection(await Deno.connect({ transport: "unix", path }));
  using tester = new TesterClient(rpc.bootstrap());
  const payload = new Uint8Array(MIB).fill(1);
  const seq = report(`${prefix}_seq_calls_per_s`, await rate(() => tester.add(1, 2)), "calls/s");
  report(`${prefix}_seq_rtt_us`, 1e6 / seq, "us");
  const inflight = report(
    `${prefix}_inflight64_calls_per_s`,
    await rate(() => tester.add(1, 2), 64),
    "calls/s",
  );
  const blob = report(
    `${prefix}_blob_1mib_bytes_per_s`,
    (await rate(() => tester.echo(payload))) * MIB,
    "B/s",
  );
  await rpc.close();
  return { seq, inflight, blob };
}

async function cppFigures(binary: string): Promise<RpcFigures> {
  const path = tempSocketPath("cpp");
  await using _server: Peer = await startCppTester(binary, path);
  const result = await new Deno.Command(binary, {
    args: ["bench-client", path, String(SECONDS)],
    stdout: "piped",
  }).output();
  const figures = new Map(
    new TextDecoder().decode(result.stdout).trim().split("\n").map((line) => {
      const [, name, value] = line.split(" ");
      return [name, Number(value)] as const;
    }),
  );
  return {
    seq: report("cpp_seq_calls_per_s", figures.get("seq_calls_per_s")!, "calls/s"),
    inflight: report(
      "cpp_inflight64_calls_per_s",
      figures.get("inflight64_calls_per_s")!,
      "calls/s",
    ),
    blob: report("cpp_blob_1mib_bytes_per_s", figures.get("blob_bytes_per_s")!, "B/s"),
  };
}

if (import.meta.main) {
  const rawRtt = report("raw_pingpong_rtt_us", await rawPingPong(), "us");
  const denoPath = tempSocketPath("tester");
  let ours: RpcFigures;
  {
    await using _server = await startDenoTester(denoPath);
    ours = await rpcFigures("rpc", denoPath);
  }
  console.log(`RATIO rpc_seq_vs_raw ${((1e6 / ours.seq) / rawRtt).toFixed(2)}`);
  const binary = await cppPeerPath();
  if (binary === null) {
    console.log("SKIPPED C++ figures: g++ / libcapnp-dev (pkg-config capnp-rpc) not found");
  } else {
    const cpp = await cppFigures(binary);
    const cppPath = tempSocketPath("cpp-for-deno");
    {
      await using _server = await startCppTester(binary, cppPath);
      await rpcFigures("deno_to_cpp", cppPath);
    }
    console.log(`RATIO rpc_seq_vs_cpp ${(ours.seq / cpp.seq).toFixed(2)}`);
    console.log(`RATIO rpc_inflight_vs_cpp ${(ours.inflight / cpp.inflight).toFixed(2)}`);
    console.log(`RATIO blob_vs_cpp ${(ours.blob / cpp.blob).toFixed(2)}`);
  }
}
