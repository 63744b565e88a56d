/**
 * spawn / serve: a child component's lifetime follows its parent's.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { RpcError, spawn } from "../../mod.ts";
import { FooInit } from "../../schemas/gen/conformance.mp.ts";
import { spawnPeer, waitFor } from "../helpers.ts";

const component = new URL("../../examples/foo_component.ts", import.meta.url);

/** Whether `pid` is gone (or a zombie nobody reaped). */
function exited(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

Deno.test("spawn: the child exits cleanly when its Init is released", async () => {
  const child = await spawn(FooInit, component);
  assertEquals(await (await child.init.makeFoo())!.add(2, 2), 4);
  await child.init[Symbol.asyncDispose]();
  assertEquals(await child.exited, { code: 0, signal: null });
});

Deno.test("spawn: the child exits when its parent is killed", async () => {
  await using parent = spawnPeer(Deno.execPath(), [
    "run",
    "--allow-read",
    "--allow-run",
    "--allow-env",
    new URL("../fixtures/spawn_parent.ts", import.meta.url).pathname,
  ]);
  const pid = Number((await parent.line(/^CHILD \d+$/)).split(" ")[1]);
  assert(!exited(pid));
  parent.child.kill("SIGKILL");
  await waitFor(() => exited(pid), 2000, `child ${pid} to exit`);
});

Deno.test("spawn: a killed child is reported, and calls fail as disconnected", async () => {
  await using child = await spawn(FooInit, component);
  const foo = (await child.init.makeFoo())!;
  child.kill("SIGKILL");
  assertEquals(await child.exited, { code: null, signal: "SIGKILL" });
  const error = await assertRejects(() => foo.add(1, 1), RpcError);
  assertEquals(error.type, "disconnected");
});

Deno.test("spawn: -A and --allow-run are refused", async () => {
  await assertRejects(
    () => spawn(FooInit, component, { permissions: ["--allow-run"] }),
    Error,
    "never granted",
  );
  await assertRejects(
    () => spawn(FooInit, component, { permissions: ["-A"] }),
    Error,
    "never granted",
  );
});
