/**
 * The cost of the sandbox: milliseconds from `spawnComponent` (provenance
 * check of the module graph, bundle lookup, directories, prlimit + setpriv
 * [+ bubblewrap], a fresh DENO_DIR) to the first answer, median of `runs`.
 * The first spawn, which also builds the bundle, is reported on its own.
 *
 * @module
 */
import { loadComponent, PROJECT_ROOT, spawnComponent } from "../mod.ts";
import { bwrapPath } from "../sandbox/hardened.ts";
import { FooInit } from "../schemas/gen/conformance.mp.ts";
import { report } from "./measure.ts";

async function firstCall(stateDir: string, hardened: boolean): Promise<number> {
  const foo = await loadComponent(`${PROJECT_ROOT}/examples/foo`);
  const started = performance.now();
  await using child = await spawnComponent(FooInit, foo, { stateDir, hardened });
  await (await child.init.makeFoo())!.add(1, 2);
  return performance.now() - started;
}

/** Prints `spawn_sandboxed_first_call_ms` (and `_hardened_` where bwrap exists). */
export async function sandboxFigures(runs = 10): Promise<void> {
  const stateDir = await Deno.makeTempDir({ prefix: "capdeno-bench-" });
  report("spawn_sandboxed_cold_bundle_ms", await firstCall(stateDir, false), "ms");
  for (const hardened of [false, true]) {
    if (hardened && bwrapPath() === null) {
      console.log("SKIPPED spawn_sandboxed_hardened_first_call_ms: bubblewrap not installed");
      continue;
    }
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await firstCall(stateDir, hardened));
    times.sort((a, b) => a - b);
    const name = hardened
      ? "spawn_sandboxed_hardened_first_call_ms"
      : "spawn_sandboxed_first_call_ms";
    report(name, times[Math.floor(times.length / 2)], "ms");
  }
  await Deno.remove(stateDir, { recursive: true });
}

if (import.meta.main) await sandboxFigures();
