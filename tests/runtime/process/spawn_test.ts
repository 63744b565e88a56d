/**
 * spawn / serve: a child component's lifetime follows its parent's.
 *
 * @module
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { denoCommand, RpcError, spawn, SpawnError } from "../../../mod.ts";
import { childArgv, CLOSE_INHERITED_DESCRIPTORS } from "../../../runtime/process/process.ts";
import { FooInit } from "../../../examples/schemas/gen/conformance.mp.ts";
import { processGone, spawnPeer, waitFor } from "../../helpers.ts";

const component = new URL("../../../examples/foo/main.ts", import.meta.url);

Deno.test("spawn: the child exits cleanly when its Init is released", async () => {
  const child = await spawn(FooInit, denoCommand(component));
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
    new URL("../../fixtures/spawn_parent.ts", import.meta.url).pathname,
  ]);
  const pid = Number((await parent.line(/^CHILD \d+$/)).split(" ")[1]);
  assert(!processGone(pid));
  parent.child.kill("SIGKILL");
  await waitFor(() => processGone(pid), 20_000, `child ${pid} to exit`);
});

Deno.test("spawn: a killed child is reported, and calls fail as disconnected", async () => {
  await using child = await spawn(FooInit, denoCommand(component));
  const foo = (await child.init.makeFoo())!;
  child.kill("SIGKILL");
  assertEquals(await child.exited, { code: null, signal: "SIGKILL" });
  const error = await assertRejects(() => foo.add(1, 1), RpcError);
  assertEquals(error.type, "disconnected");
});

/** A command running the JavaScript `source` as a component that never serves. */
function notServing(source: string) {
  return denoCommand(`data:text/javascript,${encodeURIComponent(source)}`);
}

Deno.test("spawn: a child that ends before it serves is a SpawnError saying how and what it printed", async () => {
  const lines: string[] = [];
  const error = await assertRejects(
    () =>
      spawn(FooInit, notServing('console.error("broken: no config"); Deno.exit(3);'), {
        label: "broken",
        output: (line) => lines.push(line),
      }),
    SpawnError,
  );
  assertEquals(
    error.message,
    "spawn: broken exited with status 3 before serving; it printed last: broken: no config",
  );
  assertEquals(lines, ["broken: no config"]);
});

Deno.test("spawn: what a child printed last leaves out stack frames, which would push out its error", async () => {
  const error = await assertRejects(
    () =>
      spawn(FooInit, notServing("function f() { throw new SyntaxError('bad config'); }\nf();"), {
        label: "thrower",
        output: () => {},
      }),
    SpawnError,
  );
  assertMatch(
    error.message,
    /^spawn: thrower exited with status 1 before serving; it printed last: /,
  );
  assertMatch(error.message, /SyntaxError: bad config/);
  assert(!/\bat f\b/.test(error.message), error.message);
});

Deno.test("spawn: a child that does not serve in time is killed, and spawn says so", async () => {
  let pid = 0;
  const error = await assertRejects(
    () =>
      spawn(FooInit, notServing("console.log(`pid ${Deno.pid}`); setInterval(() => {}, 1000);"), {
        label: "hanger",
        output: (line) => pid = Number(/^pid (\d+)$/.exec(line)?.[1] ?? pid),
        startTimeoutMs: 1000,
      }),
    SpawnError,
  );
  assertEquals(
    error.message,
    `spawn: hanger did not serve within 1000 ms (startTimeoutMs); killed; it printed last: pid ${pid}`,
  );
  assert(pid > 0 && processGone(pid));
});

Deno.test("spawn: startTimeoutMs and exitTimeoutMs wait as long as given, past 2^31-1 ms and Infinity too", async () => {
  // setTimeout fires such delays after 1 ms: the child was killed as late, then on dispose.
  const child = await spawn(FooInit, denoCommand(component), {
    startTimeoutMs: Infinity,
    exitTimeoutMs: 2 ** 31,
  });
  assertEquals(await (await child.init.makeFoo())!.add(2, 2), 4);
  await child[Symbol.asyncDispose]();
  assertEquals(await child.exited, { code: 0, signal: null });
  assertEquals(child.signalsSent, []);
});

Deno.test("spawn: a negative or NaN timeout is refused before anything starts", async () => {
  for (const options of [{ startTimeoutMs: -1 }, { exitTimeoutMs: Number.NaN }]) {
    const error = await assertRejects(
      () => spawn(FooInit, denoCommand(component), options),
      RangeError,
    );
    assertMatch(error.message, /^spawn: (start|exit)TimeoutMs is a number of milliseconds/);
  }
});

Deno.test("spawn: with startTimeoutMs 0 it resolves at once; a call then fails when the child ends", async () => {
  await using child = await spawn(FooInit, notServing("setTimeout(() => Deno.exit(1), 300);"), {
    startTimeoutMs: 0,
  });
  const error = await assertRejects(() => child.init.makeFoo(), RpcError);
  assertEquals(error.type, "disconnected");
  assertEquals(await child.exited, { code: 1, signal: null });
});

Deno.test("spawn: a parent without the grants spawning needs is told which, in one line", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-run",
      new URL("../../fixtures/spawn_parent.ts", import.meta.url).pathname,
    ],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals(code, 1);
  const first = new TextDecoder().decode(stderr).split("\n")[0];
  assertMatch(
    first,
    /SpawnError: spawn: Requires env access to "NODE_V8_COVERAGE"; spawning needs --allow-run=\S+ and --allow-env=NODE_V8_COVERAGE /,
  );
});

Deno.test("spawn: commands that would grant everything are refused", async () => {
  const plain = denoCommand(component);
  const refused = [
    [denoCommand(component, { permissions: ["--allow-run"] }), "never granted"],
    [denoCommand(component, { permissions: ["--allow-run=deno"] }), "never granted"],
    [denoCommand(component, { permissions: ["-A"] }), "never granted"],
    [denoCommand(component, { permissions: ["--allow-all"] }), "never granted"],
    // Without a permission flag Node's child_process would add -A.
    [{ ...plain, args: ["run", "--no-prompt", component.href] }, "explicit permission flag"],
    // ...and it inserts `run -A` after Deno's path when no subcommand follows.
    [{
      executable: "/usr/bin/env",
      args: [Deno.execPath(), component.href, "--deny-net"],
      env: {},
    }, 'followed by "run"'],
  ] as const;
  for (const [command, message] of refused) {
    await assertRejects(() => spawn(FooInit, command), Error, message);
  }
  // A module path where a command belongs is named in one line.
  await assertRejects(
    () => spawn(FooInit, "examples/foo/main.ts" as never),
    Error,
    'spawn: expected a command (make one with denoCommand), got "examples/foo/main.ts"',
  );
});

Deno.test("spawn: denoCommand builds the plain command with --deny-run", () => {
  assertEquals(denoCommand("m.ts", { permissions: ["--allow-read=/d"], args: ["-x"] }), {
    executable: Deno.execPath(),
    args: ["run", "--no-prompt", "--allow-read=/d", "--deny-run", "m.ts", "-x"],
    env: {},
  });
});

Deno.test("spawn: the command runs as itself when nothing would be inherited, else behind bash", () => {
  const command = denoCommand("m.ts", { env: { PWD: "/d" } });
  assertEquals(childArgv(command, false), {
    program: command.executable,
    args: [...command.args, "-ipcfd=3"],
  });
  const { program, args } = childArgv(command, true);
  assert(program.endsWith("/bash"), program);
  assertEquals(args, [
    "-c",
    CLOSE_INHERITED_DESCRIPTORS,
    "capdeno-spawn",
    "PWD=/d", // bash would drop or rewrite it: given back as it was
    command.executable,
    ...command.args,
    "-ipcfd=3",
  ]);
});

Deno.test("spawn: a process tells whether it holds descriptors a child would inherit", async () => {
  const module = new URL("../../../runtime/process/process.ts", import.meta.url).href;
  const script = `import { holdsInheritableDescriptors } from "${module}";` +
    `console.log(holdsInheritableDescriptors());`;
  const deno = [Deno.execPath(), "eval", script];
  const holds = async (shell: string) => {
    const output = await new Deno.Command("/bin/bash", { args: ["-c", shell, "x", ...deno] })
      .output();
    assert(output.success, new TextDecoder().decode(output.stderr));
    return new TextDecoder().decode(output.stdout).trim();
  };
  // Started behind the closing script it holds nothing; with a descriptor left open, it does.
  assertEquals(await holds(CLOSE_INHERITED_DESCRIPTORS), "false");
  assertEquals(await holds(`exec 7</dev/null; ${CLOSE_INHERITED_DESCRIPTORS}`), "false");
  assertEquals(await holds('exec 7</dev/null; exec "$@"'), "true");
});
