/**
 * `deno task demo`: a parent process spawns the Foo component
 * (`examples/foo/main.ts`) through the sandbox's spawn contract, with no
 * permissions at all (its manifest grants none), and calls it
 * through the proxy generated from `examples/schemas/conformance.capnp`: a plain
 * call, a struct, a function passed as a callback that calls back into the
 * child, calls from two strands, an error carried in an exception field,
 * and a release that ends the child.
 *
 * @module
 */
import { loadComponent, spawnComponent, Strand } from "../mod.ts";
import { FooInit } from "./schemas/gen/conformance.mp.ts";

if (import.meta.main) {
  const started = performance.now();
  const stateDir = await Deno.makeTempDir({ prefix: "capdeno-demo-" });
  // Removed last, also when the demo fails: the child has ended by then.
  await using _state = {
    [Symbol.asyncDispose]: () => Deno.remove(stateDir, { recursive: true }),
  };
  await using child = await spawnComponent(
    FooInit,
    await loadComponent(new URL("./foo", import.meta.url).pathname),
    { stateDir, args: Deno.args }, // e.g. -debug=ipc
  );
  console.log(`spawned: ${child.command.executable} ${child.command.args.join(" ")}`);
  const foo = (await child.init.makeFoo())!;
  console.log(`child ${child.pid} answered add(2, 3) = ${await foo.add(2, 3)}`, {
    ms: Math.round(performance.now() - started),
  });

  const sent = {
    name: "struct",
    setint: new Set([3, 1, 2]),
    vbool: [true, false],
    optionalInt: 7,
    texts: ["a", "b"],
    nested: [[1, 2], [3]],
    color: "green" as const,
    blob: new Uint8Array([1, 2, 3]),
  };
  console.log("struct round trip:", await foo.pass(sent));

  // The function becomes a capability; calling back into the child from it
  // runs on the strand that is waiting for the outer call.
  const result = await foo.passFn(async () => (await foo.addInOut(1, 41)).sum);
  console.log(`callback calling back into the child: ${result}`);

  const names = await Promise.all([
    foo.threadName(),
    new Strand("worker").run(() => foo.threadName()),
  ]);
  console.log("server threads per client strand:", names);

  try {
    await foo.raiseText("raised in the child");
  } catch (error) {
    console.log(`error from the child: ${(error as Error).message}`);
  }

  await foo[Symbol.asyncDispose]();
  await child.init[Symbol.asyncDispose]();
  console.log("child exited:", (await child.reason).text);
}
