/**
 * The cost of the sandbox: milliseconds from `spawnComponent` (provenance
 * check of the module graph, bundle lookup, directories, prlimit + setpriv
 * [+ bubblewrap], a fresh DENO_DIR) to the first answer, median of `runs`.
 * The first spawn, which also builds the bundle, is reported on its own.
 *
 * Then the node as `deno task spawn-node` starts it (planned from its
 * manifest and options, under a {@linkcode Supervisor}, under root with its
 * disk image mounted): `spawn_node_sandboxed_to_rpc_ms` from the plan to
 * its first JSON-RPC answer, median of 3 on a state directory whose bundle
 * is built (and `_hardened_` where bwrap exists). Its reference, the node
 * started with plain `deno run` (`node_start_to_rpc_ms`), is
 * `node_bench.ts`'s; `deno task bench` prints the ratio of the two.
 *
 * @module
 */
import { loadComponent, projectRoot, spawnComponent } from "../mod.ts";
import { bwrapPath } from "../sandbox/hardened.ts";
import { Supervisor } from "../sandbox/supervisor.ts";
import { FooInit } from "../examples/schemas/gen/conformance.mp.ts";
import { Init } from "../schemas/gen/ipc/init.mp.ts";
import { planNode, rpcAccess, waitForRpc } from "../components/node/sandboxed.ts";
import { freePort } from "../tests/components/node/node_process.ts";
import { tempDir } from "../tests/helpers.ts";
import { report } from "./measure.ts";

async function firstCall(stateDir: string, hardened: boolean): Promise<number> {
  const foo = await loadComponent(`${projectRoot()}/examples/foo`);
  const started = performance.now();
  await using child = await spawnComponent(FooInit, foo, { stateDir, hardened });
  await (await child.init.makeFoo())!.add(1, 2);
  return performance.now() - started;
}

/** Milliseconds from planning the sandboxed node to its first JSON-RPC answer. */
async function nodeToRpc(stateDir: string, hardened: boolean): Promise<number> {
  const node = await loadComponent(`${projectRoot()}/components/node`);
  const started = performance.now();
  const planned = planNode(node, stateDir, [`-rpcport=${freePort()}`]);
  if (planned.kind !== "run") throw new Error("the node's options print instead of running");
  await using supervisor = new Supervisor({ stateDir, hardened });
  const { component, args } = planned.plan;
  const supervised = await supervisor.start(Init, component, { args });
  await waitForRpc(rpcAccess(planned.plan)!, supervised.failed);
  return performance.now() - started;
}

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** `runs` measurements of `measure`, one after another. */
async function repeat(runs: number, measure: () => Promise<number>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await measure());
  return times;
}

/** Prints `spawn_sandboxed_first_call_ms`, the node's figures (and `_hardened_` where bwrap exists). */
export async function sandboxFigures(runs = 10, nodeRuns = 3): Promise<void> {
  using state = tempDir("capdeno-bench-");
  const stateDir = Deno.realPathSync(state.path);
  report("spawn_sandboxed_cold_bundle_ms", await firstCall(stateDir, false), "ms");
  report("spawn_node_sandboxed_cold_bundle_to_rpc_ms", await nodeToRpc(stateDir, false), "ms");
  for (const hardened of [false, true]) {
    const suffix = hardened ? "_hardened" : "";
    if (hardened && bwrapPath() === null) {
      console.log("SKIPPED the hardened figures: bubblewrap not installed");
      continue;
    }
    const foo = await repeat(runs, () => firstCall(stateDir, hardened));
    report(`spawn_sandboxed${suffix}_first_call_ms`, median(foo), "ms");
    const node = await repeat(nodeRuns, () => nodeToRpc(stateDir, hardened));
    report(`spawn_node_sandboxed${suffix}_to_rpc_ms`, median(node), "ms");
  }
}

if (import.meta.main) await sandboxFigures();
