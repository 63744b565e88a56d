/**
 * Proxy-layer figures, printed by `deno task bench` after the RPC ones:
 *
 * - `proxy_seq`: a generated proxy's tiny sequential call (`Foo.add`), and
 *   the same call made with the raw engine on the same server process:
 *   `RATIO proxy_vs_rpc` is the proxy's time per call over the raw one's.
 * - `proxy_ctx_seq`: a call that runs on a server strand (Context filled in).
 * - `spawn_first_call_ms`: spawning a component and getting its first answer;
 *   `bare_deno_start_ms`, a bare `deno run` of an empty module to its exit,
 *   measured alongside: `RATIO spawn_vs_bare_deno` is the first over the
 *   second (`deno task bench` also divides the sandboxed spawn by it).
 *   Ending the child (`await using`) is timed apart: `spawn_dispose_ms`.
 * - `node_net_deno_start_ms`: a bare `deno run` of a module that only
 *   imports `node:net`, which a spawned child needs to take its socket as
 *   descriptor 3 (Deno has no other API for an inherited descriptor);
 *   `RATIO node_net_start_vs_bare_deno` is the floor under
 *   `spawn_vs_bare_deno` that loading Deno's Node compatibility sets.
 * - `bind_component_ready_ms`: Foo started on its own (`-ipcbind`) to its
 *   READY line, which loads no `node:` compatibility module for its
 *   channel; `RATIO bind_component_ready_vs_bare_deno`.
 *
 * @module
 */
import { connect, denoCommand, IpcLog, spawn } from "../mod.ts";
import { Foo$Client, Foo_Add$Results } from "../examples/schemas/gen/conformance.ts";
import { FooInit } from "../examples/schemas/gen/conformance.mp.ts";
import { capabilityOf } from "../runtime/proxy/ownership.ts";
import { startFooComponent, tempSocket } from "../tests/helpers.ts";
import { rate, report } from "./measure.ts";

const component = new URL("../examples/foo/main.ts", import.meta.url);

/** Proxy and raw-engine call rates against one Foo component process. */
export async function proxyFigures(): Promise<void> {
  using socket = tempSocket("foo");
  const path = socket.path;
  await using _server = await startFooComponent(path);
  await using init = await connect(FooInit, `unix:${path}`, { log: new IpcLog({ level: "off" }) });
  await using foo = (await init.makeFoo())!;
  const cap = capabilityOf(foo)!;
  const add = Foo$Client.methods[1];
  const viaProxy = () => foo.add(1, 2);
  const viaEngine = async () => {
    const request = cap.request(add);
    request.params.a = 1;
    request.params.b = 2;
    using response = await request.send();
    return response.results(Foo_Add$Results).result;
  };
  // Alternated and the best of three kept: the VM's idle wake-ups make one
  // run of either vary by 10-30%, more than the proxy's own cost.
  let proxy = 0;
  let raw = 0;
  for (let round = 0; round < 3; round++) {
    raw = Math.max(raw, await rate(viaEngine));
    proxy = Math.max(proxy, await rate(viaProxy));
  }
  report("proxy_seq_calls_per_s", proxy, "calls/s");
  report("proxy_raw_engine_seq_calls_per_s", raw, "calls/s");
  report("proxy_ctx_seq_calls_per_s", await rate(() => foo.addInOut(1, 2)), "calls/s");
  console.log(`RATIO proxy_vs_rpc ${(raw / proxy).toFixed(2)}`);
}

/** Milliseconds a bare `deno run` of the JavaScript `source` takes to start and exit. */
async function bareDenoStart(source = ""): Promise<number> {
  const started = performance.now();
  const { success } = await new Deno.Command(Deno.execPath(), {
    args: ["run", `data:text/javascript,${encodeURIComponent(source)}`],
    stdout: "null",
    stderr: "null",
  }).output();
  if (!success) throw new Error(`a bare deno run of '${source}' failed`);
  return performance.now() - started;
}

/**
 * Median milliseconds from spawn() to the first answer, of ending that
 * child, and of a bare `deno run`, over `runs` of each taken in turn.
 */
export async function spawnFigures(runs = 10): Promise<void> {
  const spawned: number[] = [];
  const disposed: number[] = [];
  const bare: number[] = [];
  const withNodeNet: number[] = [];
  const bound: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const child = await spawn(FooInit, denoCommand(component));
    {
      using foo = (await child.init.makeFoo())!;
      await foo.add(1, 2);
    }
    const answered = performance.now();
    await child[Symbol.asyncDispose]();
    spawned.push(answered - started);
    disposed.push(performance.now() - answered);
    bare.push(await bareDenoStart());
    withNodeNet.push(await bareDenoStart('import "node:net";'));
    bound.push(await boundComponentStart());
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const toFirstCall = report("spawn_first_call_ms", median(spawned), "ms");
  report("spawn_dispose_ms", median(disposed), "ms");
  const start = report("bare_deno_start_ms", median(bare), "ms");
  console.log(`RATIO spawn_vs_bare_deno ${(toFirstCall / start).toFixed(2)}`);
  const floor = report("node_net_deno_start_ms", median(withNodeNet), "ms");
  console.log(`RATIO node_net_start_vs_bare_deno ${(floor / start).toFixed(2)}`);
  const listening = report("bind_component_ready_ms", median(bound), "ms");
  console.log(`RATIO bind_component_ready_vs_bare_deno ${(listening / start).toFixed(2)}`);
}

/** Milliseconds from starting Foo on its own (`-ipcbind`) to its READY line. */
async function boundComponentStart(): Promise<number> {
  using socket = tempSocket("bound");
  const started = performance.now();
  await using _foo = await startFooComponent(socket.path);
  return performance.now() - started;
}

if (import.meta.main) {
  await proxyFigures();
  await spawnFigures();
}
