/**
 * RPC benchmarks: prints `BENCH <name> <value> <unit>` per figure and
 * `RATIO <name> <x>` comparisons (ours divided by the reference).
 *
 * (a) raw Deno UNIX-socket 64-byte ping-pong (also with a read always
 * pending, as an RPC connection keeps one), and 1 MiB messages echoed
 * whole in our framing; (b) our RPC Deno ↔ Deno, tiny call, sequential,
 * with the CPU time each side spends per call; (c) the same with 64 calls
 * in flight; (d) a call carrying 1 MiB of Data each way; (e) C++ ↔ C++ with
 * the same schema (when g++ and libcapnp-dev are present); (f) Deno client
 * → C++ server, with the C++ server's CPU time per call. Then the proxy,
 * spawn and sandbox figures, and last the hostile-peer ones
 * (`bench/hostile_bench.ts`: a server's memory under a peer that never reads).
 *
 * Allocation per call is sampled by V8's heap profiler over sequential
 * calls, Deno's own socket operations included, on each side: this client
 * through its own inspector, the server through the one it opens
 * (`--inspect`, in a process started for that alone, so the other figures
 * run without it). The raw ping-pong's figures are the floor; the functions
 * allocating most are printed as `#` lines.
 *
 * CPU time per call is the process's user + system time over the measured
 * calls (`process.cpuUsage()` here, the same kernel counters read from
 * `/proc/<pid>/stat` for a server), so it includes the socket system calls.
 *
 * Every server runs in its own process. `BENCH_SECONDS` sets the measuring
 * time per figure (default 2). The figures are taken in three rounds, ours
 * and the references in turn, and each one's best round is printed: one
 * run in this VM varies by 10-20%.
 *
 * @module
 */
import { TesterClient } from "../examples/tester.ts";
import { encodeFrame } from "../runtime/framing.ts";
import { RpcConnection } from "../runtime/rpc/connection.ts";
import {
  cppPeerPath,
  type Peer,
  type ServerOptions,
  spawnPeer,
  startCppTester,
  startDenoTester,
  tempSocket,
} from "../tests/helpers.ts";
import {
  type Allocation,
  allocationPerOp,
  BENCH_SECONDS as SECONDS,
  inspectorAddress,
  measureRate,
  ownCpu,
  processCpu,
  rate,
  remoteInspector,
  report,
} from "./measure.ts";

const MIB = 1 << 20;
/** Sequential operations whose allocations are sampled, per round. */
const ALLOCATION_OPS = 20_000;

/**
 * Starts `bench/raw_echo.ts` on a fresh socket, with `args` after the path;
 * disposing stops it and removes the socket.
 */
async function startRawEcho(
  args: string[],
  options: ServerOptions = {},
): Promise<{ path: string; server: Peer } & AsyncDisposable> {
  const socket = tempSocket("raw");
  const path = socket.path;
  const root = new URL("../", import.meta.url).pathname;
  const server = spawnPeer(Deno.execPath(), [
    "run",
    ...options.denoFlags ?? [],
    `--allow-read=${path}`,
    `--allow-write=${path}`,
    `--allow-net=unix:${path}`,
    `${root}bench/raw_echo.ts`,
    path,
    ...args,
  ], options);
  await server.line(/^READY$/);
  return {
    path,
    server,
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      socket[Symbol.dispose]();
    },
  };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.byteLength) at += await conn.write(bytes.subarray(at));
}

async function readFull(conn: Deno.Conn, into: Uint8Array): Promise<void> {
  let got = 0;
  while (got < into.byteLength) got += (await conn.read(into.subarray(got)))!;
}

/** What one round of raw 64-byte round trips found. */
interface RawFigures {
  rttUs: number;
  cpuUsClient: number;
  cpuUsServer: number;
  allocation: Allocation;
}

/** 64-byte round trips: RTT in µs, and the CPU µs each side spends per round trip. */
async function rawPingPong(): Promise<RawFigures> {
  await using echo = await startRawEcho([]);
  const { path, server } = echo;
  using conn = await Deno.connect({ transport: "unix", path });
  const out = new Uint8Array(64).fill(7);
  const back = new Uint8Array(64);
  const roundTrip = async () => {
    await conn.write(out);
    await readFull(conn, back);
  };
  const measured = await measureRate(roundTrip, {
    clocks: [ownCpu, await processCpu(server.child.pid)],
  });
  return {
    rttUs: 1e6 / measured.perSecond,
    cpuUsClient: measured.cpuPerOp[0],
    cpuUsServer: measured.cpuPerOp[1],
    allocation: await allocationPerOp(roundTrip, ALLOCATION_OPS),
  };
}

/**
 * 64-byte round trips with a read always pending, as an RPC connection
 * keeps one (it must hear the peer at any time): the floor for a Deno
 * engine's round trip, where {@linkcode rawPingPong} reads only after writing.
 */
async function rawDuplexPingPong(): Promise<number> {
  await using echo = await startRawEcho([]);
  const { path } = echo;
  const conn = await Deno.connect({ transport: "unix", path });
  const out = new Uint8Array(64).fill(7);
  const back = new Uint8Array(64 * 1024);
  let received = 0;
  const waiter: { arrived: (() => void) | null } = { arrived: null };
  const reading = (async () => {
    for (;;) {
      const n = await conn.read(back).catch(() => null);
      if (n === null) return;
      received += n;
      if (received >= out.byteLength) {
        received -= out.byteLength;
        waiter.arrived?.();
      }
    }
  })();
  const perSecond = await rate(async () => {
    const echoed = new Promise<void>((resolve) => waiter.arrived = resolve);
    await conn.write(out);
    await echoed;
  });
  conn.close(); // ends the pending read
  await reading;
  return 1e6 / perSecond;
}

/** Bytes/s of 1 MiB messages echoed whole by a Deno server, in our framing, one at a time. */
async function rawSocketThroughput(): Promise<number> {
  await using echo = await startRawEcho(["--frames"]);
  const { path } = echo;
  using conn = await Deno.connect({ transport: "unix", path });
  const frame = encodeFrame([new Uint8Array(MIB).fill(1)]);
  const back = new Uint8Array(frame.byteLength);
  const perSecond = await rate(async () => {
    await writeAll(conn, frame);
    await readFull(conn, back);
  });
  return perSecond * MIB;
}

/** A server started with its inspector open and its stderr collected, to sample its allocation. */
const INSPECTED: ServerOptions = { denoFlags: ["--inspect=127.0.0.1:0"], collectStderr: true };

/** What `server` allocates per `op`, sampled by its own inspector after a warm-up. */
async function serverAllocation(server: Peer, op: () => Promise<unknown>): Promise<Allocation> {
  for (let i = 0; i < ALLOCATION_OPS / 10; i++) await op();
  const inspector = await remoteInspector(await inspectorAddress(server.errors));
  return await allocationPerOp(op, ALLOCATION_OPS, 5, inspector);
}

/** What the raw echo server and the Tester server each allocate per 64-byte round trip and tiny call. */
async function serverAllocations(): Promise<{ raw: Allocation; rpc: Allocation }> {
  await using echo = await startRawEcho([], INSPECTED);
  using conn = await Deno.connect({ transport: "unix", path: echo.path });
  const out = new Uint8Array(64).fill(7);
  const back = new Uint8Array(64);
  const raw = await serverAllocation(echo.server, async () => {
    await conn.write(out);
    await readFull(conn, back);
  });
  using socket = tempSocket("inspected");
  await using server = await startDenoTester(socket.path, INSPECTED);
  const rpc = new RpcConnection(await Deno.connect({ transport: "unix", path: socket.path }));
  try {
    using tester = new TesterClient(rpc.bootstrap());
    return { raw, rpc: await serverAllocation(server, () => tester.add(1, 2)) };
  } finally {
    await rpc.close();
  }
}

interface RpcFigures {
  seq: number;
  cpuUsClient: number;
  cpuUsServer: number;
  allocation: Allocation;
  inflight: number;
  blob: number;
}

/** Call figures of a Deno client against the Tester server at `path` (process `serverPid`). */
async function rpcFigures(path: string, serverPid: number): Promise<RpcFigures> {
  const rpc = new RpcConnection(await Deno.connect({ transport: "unix", path }));
  using tester = new TesterClient(rpc.bootstrap());
  const payload = new Uint8Array(MIB).fill(1);
  const sequential = await measureRate(() => tester.add(1, 2), {
    clocks: [ownCpu, await processCpu(serverPid)],
  });
  const allocation = await allocationPerOp(() => tester.add(1, 2), ALLOCATION_OPS);
  const inflight = await rate(() => tester.add(1, 2), 64);
  const blob = (await rate(async () => {
    // As the C++ client: the bytes back are checked where they arrived.
    if (await tester.echoSize(payload) !== MIB) throw new Error("echo returned the wrong size");
  })) * MIB;
  await rpc.close();
  return {
    seq: sequential.perSecond,
    cpuUsClient: sequential.cpuPerOp[0],
    cpuUsServer: sequential.cpuPerOp[1],
    allocation,
    inflight,
    blob,
  };
}

/** Prints the figures of `prefix` (rates of calls and bytes, CPU per call). */
function reportRpc(prefix: string, figures: RpcFigures): void {
  report(`${prefix}_seq_calls_per_s`, figures.seq, "calls/s");
  report(`${prefix}_seq_rtt_us`, 1e6 / figures.seq, "us");
  report(`${prefix}_seq_cpu_us_client`, figures.cpuUsClient, "us");
  report(`${prefix}_seq_cpu_us_server`, figures.cpuUsServer, "us");
  reportAllocation(`${prefix}_seq`, figures.allocation);
  report(`${prefix}_inflight64_calls_per_s`, figures.inflight, "calls/s");
  report(`${prefix}_blob_1mib_bytes_per_s`, figures.blob, "B/s");
}

/** Prints the bytes `side` allocates per operation, and where most are allocated (as comments). */
function reportAllocation(
  prefix: string,
  allocation: Allocation,
  side: "client" | "server" = "client",
): number {
  for (const [where, bytes] of allocation.top) {
    console.log(`# ${prefix} ${side} allocates ${bytes.toFixed(0)} B/op in ${where}`);
  }
  return report(`${prefix}_alloc_bytes_${side}`, allocation.bytesPerOp, "B");
}

/** The round that allocated least per operation. */
function leastAllocation(rounds: { allocation: Allocation }[]): Allocation {
  return rounds.map((round) => round.allocation)
    .reduce((least, a) => a.bytesPerOp < least.bytesPerOp ? a : least);
}

/** What the C++ client measured against the C++ server. */
type CppFigures = Pick<RpcFigures, "seq" | "inflight" | "blob">;

async function cppFigures(binary: string): Promise<CppFigures> {
  using socket = tempSocket("cpp");
  const path = socket.path;
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
    seq: figures.get("seq_calls_per_s")!,
    inflight: figures.get("inflight64_calls_per_s")!,
    blob: figures.get("blob_bytes_per_s")!,
  };
}

/** Our figures against a Tester server started by `start` on a fresh socket. */
async function oursAgainst(
  start: (path: string) => Promise<Peer>,
  name: string,
): Promise<RpcFigures> {
  using socket = tempSocket(name);
  const path = socket.path;
  await using server = await start(path);
  return await rpcFigures(path, server.child.pid);
}

/** The round with the most sequential calls per second (its CPU figures go with it). */
function fastest<T extends { seq: number }>(rounds: T[]): T {
  return rounds.reduce((best, round) => round.seq > best.seq ? round : best);
}

/** The best of each rate over `rounds`. */
function bestRates(rounds: CppFigures[]): CppFigures {
  return {
    seq: Math.max(...rounds.map((round) => round.seq)),
    inflight: Math.max(...rounds.map((round) => round.inflight)),
    blob: Math.max(...rounds.map((round) => round.blob)),
  };
}

/**
 * Rounds of every figure, taken in turn: in this VM, idle wake-ups make
 * one run of a figure vary by 10-20%, so ours and each reference are
 * measured alternately and each one's best round is kept.
 */
const ROUNDS = 3;

if (import.meta.main) {
  const binary = await cppPeerPath();
  const raw: RawFigures[] = [];
  const duplex: number[] = [];
  const rawBytes: number[] = [];
  const ours: RpcFigures[] = [];
  const cpp: CppFigures[] = [];
  const oursToCpp: RpcFigures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    raw.push(await rawPingPong());
    duplex.push(await rawDuplexPingPong());
    rawBytes.push(await rawSocketThroughput());
    ours.push(await oursAgainst(startDenoTester, "tester"));
    if (binary === null) continue;
    cpp.push(await cppFigures(binary));
    oursToCpp.push(await oursAgainst((path) => startCppTester(binary, path), "cpp-for-deno"));
  }
  const rawBest = raw.reduce((best, round) => round.rttUs < best.rttUs ? round : best);
  report("raw_pingpong_cpu_us_client", rawBest.cpuUsClient, "us");
  report("raw_pingpong_cpu_us_server", rawBest.cpuUsServer, "us");
  const rawRtt = report("raw_pingpong_rtt_us", rawBest.rttUs, "us");
  const duplexRtt = report("raw_duplex_pingpong_rtt_us", Math.min(...duplex), "us");
  const socketBytes = report("raw_socket_1mib_bytes_per_s", Math.max(...rawBytes), "B/s");
  const rawAllocation = reportAllocation("raw_pingpong", leastAllocation(raw));
  const best = { ...fastest(ours), ...bestRates(ours), allocation: leastAllocation(ours) };
  reportRpc("rpc", best);
  console.log(
    `RATIO rpc_alloc_vs_raw ${(best.allocation.bytesPerOp / rawAllocation).toFixed(2)}`,
  );
  const servers = await serverAllocations();
  const rawServer = reportAllocation("raw_pingpong", servers.raw, "server");
  const rpcServer = reportAllocation("rpc_seq", servers.rpc, "server");
  console.log(`RATIO rpc_alloc_server_vs_raw ${(rpcServer / rawServer).toFixed(2)}`);
  console.log(`RATIO rpc_seq_vs_raw ${((1e6 / best.seq) / rawRtt).toFixed(2)}`);
  console.log(`RATIO rpc_seq_vs_raw_duplex ${((1e6 / best.seq) / duplexRtt).toFixed(2)}`);
  console.log(`RATIO blob_vs_socket ${(best.blob / socketBytes).toFixed(2)}`);
  if (binary === null) {
    console.log("SKIPPED C++ figures: g++ / libcapnp-dev (pkg-config capnp-rpc) not found");
  } else {
    const reference = bestRates(cpp);
    report("cpp_seq_calls_per_s", reference.seq, "calls/s");
    report("cpp_inflight64_calls_per_s", reference.inflight, "calls/s");
    report("cpp_blob_1mib_bytes_per_s", reference.blob, "B/s");
    reportRpc("deno_to_cpp", {
      ...fastest(oursToCpp),
      ...bestRates(oursToCpp),
      allocation: leastAllocation(oursToCpp),
    });
    console.log(`RATIO rpc_seq_vs_cpp ${(best.seq / reference.seq).toFixed(2)}`);
    console.log(`RATIO rpc_inflight_vs_cpp ${(best.inflight / reference.inflight).toFixed(2)}`);
    console.log(`RATIO blob_vs_cpp ${(best.blob / reference.blob).toFixed(2)}`);
  }
}
