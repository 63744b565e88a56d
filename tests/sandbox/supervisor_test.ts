/**
 * Exit reasons and supervision, with real processes through the real
 * contract: how a component's end is explained (limits included), restarts
 * by policy with a doubling backoff, the crash budget failing closed, and
 * disposal stopping what runs.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import {
  processesWith,
  processGone,
  startSandboxParent,
  tempDir,
  waitFor,
  withTimeout,
} from "../helpers.ts";
import { type Component, loadComponent, type Manifest } from "../../sandbox/manifest.ts";
import { projectRoot, type SandboxedComponent, spawnComponent } from "../../sandbox/contract.ts";
import { type ExitKind, type ExitReason, exitReason } from "../../sandbox/limits.ts";
import { isMountPoint } from "../../sandbox/quota.ts";
import { SupervisionError, Supervisor, type SupervisorOptions } from "../../sandbox/supervisor.ts";
import { HogInit, ProberInit } from "./fixtures/schema/gen/probe.mp.ts";
import { connect, IpcLog, newToken, RpcError, SpawnError } from "../../mod.ts";

const hog = await loadComponent(`${projectRoot()}/tests/sandbox/fixtures/hog`);
const hostile = await loadComponent(`${projectRoot()}/tests/sandbox/hostile`);

/** The hog with some limits or restart settings replaced, or listening. */
function hogWith(
  change: {
    limits?: Partial<Manifest["limits"]>;
    restart?: Partial<Manifest["restart"]>;
    listens?: boolean;
  },
): Component {
  return {
    ...hog,
    manifest: {
      ...hog.manifest,
      limits: { ...hog.manifest.limits, ...change.limits },
      restart: { ...hog.manifest.restart, ...change.restart },
      listens: change.listens ?? hog.manifest.listens,
    },
  };
}

/**
 * Spawns the hog, runs `act` on it and returns why it ended and what it
 * printed. A call the end interrupts must reject; with `rejects: false`
 * (a signal sent from here, or a call that may finish just before the
 * watchdog's kill) it may settle either way.
 */
async function endOf(
  component: Component,
  act: (child: SandboxedComponent<HogInit>) => Promise<unknown> | void,
  { rejects = true } = {},
): Promise<{ reason: ExitReason; output: string[] }> {
  const output: string[] = [];
  using state = tempDir();
  await using child = await spawnComponent(HogInit, component, {
    stateDir: state.path,
    output: (line) => output.push(line),
  });
  // Settled at once, so a rejection is never unhandled while we wait.
  const [acted] = await Promise.allSettled([act(child)]);
  if (rejects) assertEquals(acted.status, "rejected", "the interrupted call rejects");
  return { reason: await child.reason, output };
}

Deno.test("supervisor: exitReason takes signals from the wait status, never from the exit code", () => {
  const cpu = { usedAtMost: 0.4, limit: 5 };
  // An exit code is an exit code, whatever its number.
  for (const code of [133, 137, 143, 152]) {
    assertEquals(exitReason({ code, signal: null }, { cpu }), {
      kind: "error",
      text: `exited with status ${code}`,
    });
  }
  const signals: [string, ExitKind, string][] = [
    ["SIGTRAP", "out-of-memory", "out of memory (JS heap limit reached)"],
    ["SIGKILL", "killed", "killed (SIGKILL)"],
    ["SIGTERM", "terminated", "terminated (SIGTERM)"],
    // Sent by itself: its CPU time shows it was not the limit.
    ["SIGXCPU", "killed", "killed by SIGXCPU, not by its CPU limit (0.4 s at most of 5 s used)"],
  ];
  for (const [signal, kind, text] of signals) {
    assertEquals(exitReason({ code: null, signal }, { cpu }), { kind, text }, signal);
  }
  // The kernel charges the limit ahead of what /proc shows: half of it counts.
  const spent = { usedAtMost: 2.6, limit: 5 };
  assertEquals(exitReason({ code: null, signal: "SIGXCPU" }, { cpu: spent }), {
    kind: "cpu-limit",
    text: "CPU time limit exceeded",
  });
  assertEquals(
    exitReason({ code: null, signal: "SIGKILL" }, { cpu: { ...spent, usedAtMost: 6.3 } }),
    {
      kind: "cpu-limit",
      text: "CPU time limit exceeded (hard limit, SIGKILL)",
    },
  );
  assertEquals(
    exitReason({ code: null, signal: "SIGKILL" }, { residentKill: "resident memory 300 MB" }),
    {
      kind: "out-of-memory",
      text: "out of memory (resident memory 300 MB)",
    },
  );
});

Deno.test("supervisor: under bubblewrap, 128 + n is a signal only where the evidence shows it", () => {
  const statusOnly = true;
  const cpu = { usedAtMost: 0.4, limit: 5 };
  assertEquals(exitReason({ code: 152, signal: null }, { statusOnly, cpu }), {
    kind: "error",
    text: "exited with status 152 (or a signal, which bubblewrap reports the same way)",
  });
  assertEquals(
    exitReason({ code: 152, signal: null }, { statusOnly, cpu: { usedAtMost: 5.1, limit: 5 } }),
    { kind: "cpu-limit", text: "CPU time limit exceeded" },
  );
  assertEquals(exitReason({ code: 143, signal: null }, { statusOnly, signalsSent: ["SIGTERM"] }), {
    kind: "terminated",
    text: "terminated (SIGTERM)",
  });
  assertEquals(
    exitReason({ code: 137, signal: null }, { statusOnly, residentKill: "rss 300 MB" }),
    {
      kind: "out-of-memory",
      text: "out of memory (rss 300 MB)",
    },
  );
  assertEquals(exitReason({ code: 137, signal: null }, { statusOnly, cpu }).kind, "error");
  assertEquals(exitReason({ code: 153, signal: null }, { statusOnly }).kind, "error");
  assertEquals(
    exitReason({ code: 153, signal: null }, { statusOnly, fileSizeLimitReached: true }),
    { kind: "disk-quota", text: "disk quota exceeded (a file reached the size limit)" },
  );
  assertEquals(exitReason({ code: 3, signal: null }, { statusOnly }), {
    kind: "error",
    text: "exited with status 3",
  });
});

Deno.test("supervisor: a clean exit and an exit status", async () => {
  const clean = await endOf(hog, (child) => child.init.crash(0));
  assertEquals(clean.reason, { kind: "clean", text: "exited cleanly" });
  const failed = await endOf(hog, (child) => child.init.crash(3));
  assertEquals(failed.reason, { kind: "error", text: "exited with status 3" });
  // 128 + 24, but an exit code: not SIGXCPU.
  const spoofed = await endOf(hog, (child) => child.init.crash(152));
  assertEquals(spoofed.reason, { kind: "error", text: "exited with status 152" });
});

Deno.test("supervisor: SIGXCPU a component sends itself is not its CPU limit", async () => {
  using state = tempDir();
  await using child = await spawnComponent(ProberInit, hostile, {
    stateDir: state.path,
  });
  await assertRejects(() => child.init.probe("abuse:raise-signal", "SIGXCPU"));
  const reason = await child.reason;
  assertEquals(reason.kind, "killed");
  assert(reason.text.startsWith("killed by SIGXCPU, not by its CPU limit ("), reason.text);
  assert(reason.text.endsWith(" of 3600 s used)"), reason.text);
});

Deno.test("supervisor: SIGTERM terminates, SIGKILL kills", async () => {
  const terminated = await endOf(hog, (child) => child.kill("SIGTERM"), { rejects: false });
  assertEquals(terminated.reason, { kind: "terminated", text: "terminated (SIGTERM)" });
  const killed = await endOf(hog, (child) => child.kill("SIGKILL"), { rejects: false });
  assertEquals(killed.reason, { kind: "killed", text: "killed (SIGKILL)" });
});

Deno.test("supervisor: over the JS heap limit is out of memory", async () => {
  assertEquals(hog.manifest.limits.heapMb, 64);
  const { reason, output } = await endOf(hog, (child) => child.init.heap(2000));
  assertEquals(reason.kind, "out-of-memory");
  assert(reason.text.includes("JS heap"), reason.text);
  // V8 names one of two causes, depending on how its last collections went.
  const v8Reason = /Reached heap limit|Ineffective mark-compacts near heap limit/;
  assert(output.some((line) => v8Reason.test(line)), output.join("\n"));
});

Deno.test("supervisor: over the resident limit the watchdog kills it, out of memory", async () => {
  assertEquals(hog.manifest.limits.residentMb, 256);
  const { reason } = await endOf(hog, (child) => child.init.buffers(600), { rejects: false });
  assertEquals(reason.kind, "out-of-memory");
  assert(reason.text.includes("resident memory"), reason.text);
  assert(reason.text.includes("over the 256 MB limit"), reason.text);
});

Deno.test("supervisor: over the CPU limit is a cpu-limit", async () => {
  const limited = hogWith({ limits: { cpuSeconds: 1 } });
  // Wall-clock seconds: long enough to use a CPU second even on a crowded machine.
  const { reason } = await endOf(limited, (child) => child.init.spin(120));
  assertEquals(reason, { kind: "cpu-limit", text: "CPU time limit exceeded" });
});

Deno.test("supervisor: on-failure restarts a killed component after the backoff", async () => {
  const lines: string[] = [];
  const component = hogWith({ restart: { policy: "on-failure", backoffMs: 50 } });
  using state = tempDir();
  await using supervisor = new Supervisor({
    stateDir: state.path,
    report: (line) => lines.push(line),
  });
  const supervised = await supervisor.start(HogInit, component);
  const first = supervised.instance!.pid;
  // What a launcher hands every run: the running one at once, then each new one.
  const handed: number[] = [];
  supervised.onStart(() => handed.push(supervised.instance!.pid));
  // An exit listener that throws is reported, and the ones after it still run.
  supervised.onExit(() => {
    throw new Error("the listener failed");
  });
  supervised.onExit(() => {
    throw undefined; // not even an Error
  });
  const told: string[] = [];
  supervised.onExit(({ reason }) => told.push(reason.kind));
  await (await supervised.current()).spin(0);
  supervised.instance!.kill("SIGKILL");
  await waitFor(() => supervised.exits.length === 1, 20_000, "the exit");
  const init = await supervised.current();
  await init.spin(0);
  const second = supervised.instance!.pid;
  assert(second !== first, `a new process (${first} → ${second})`);
  assertEquals(handed, [first, second]);
  assertEquals(told, ["killed"]);
  assert(processGone(first));
  assertEquals(supervised.exits.map(({ reason, restarted }) => ({ reason, restarted })), [
    { reason: { kind: "killed", text: "killed (SIGKILL)" }, restarted: true },
  ]);
  assertEquals(lines, [
    `hog: started (pid ${first})`,
    "hog: killed (SIGKILL)",
    "hog: restarting in 50 ms",
    "hog: an exit listener failed: the listener failed",
    "hog: an exit listener failed: undefined",
    `hog: started (pid ${second})`,
  ]);
});

Deno.test("supervisor: current() right after a call failed with the crash waits for the next run", async () => {
  const component = hogWith({ restart: { policy: "on-failure", backoffMs: 50 } });
  using state = tempDir();
  await using supervisor = new Supervisor({ stateDir: state.path });
  const supervised = await supervisor.start(HogInit, component);
  const first = await supervised.current();
  const firstPid = supervised.instance!.pid;
  // The caller sees the connection go before the supervisor sees the exit.
  await assertRejects(() => first.crash(1), RpcError, "disconnect");
  const next = await supervised.current();
  assert(next !== first, "the crashed run's Init was handed out again");
  await next.spin(0);
  assert(supervised.instance!.pid !== firstPid);
  assertEquals(supervised.exits.length, 1);
});

Deno.test("supervisor: current() hands out a reference of the caller's own: releasing it never ends the run, stopping ends it", async () => {
  const component = hogWith({ restart: { policy: "never" } });
  using state = tempDir();
  const supervisor = new Supervisor({ stateDir: state.path });
  const supervised = await supervisor.start(HogInit, component);
  {
    using init = await supervised.current();
    await init.spin(0);
  }
  const kept = await supervised.current();
  await kept.spin(0);
  assertEquals([supervised.running, supervised.exits.length], [true, 0]);
  // Stopping closes the connection for every holder: the run ends as asked, not killed.
  const run = supervised.instance!;
  await supervisor[Symbol.asyncDispose]();
  assertEquals((await run.reason).kind, "clean");
  assertEquals(supervised.exits.length, 0, "a stop is no exit to decide on");
  await assertRejects(() => kept.spin(0), RpcError);
});

Deno.test("supervisor: policy never fails closed on the first crash", async () => {
  const lines: string[] = [];
  using state = tempDir();
  await using supervisor = new Supervisor({
    stateDir: state.path,
    report: (line) => lines.push(line),
  });
  const supervised = await supervisor.start(HogInit, hogWith({ restart: { policy: "never" } }));
  await assertRejects(async () => (await supervised.current()).crash(2));
  const error = await supervised.failed;
  assert(error instanceof SupervisionError);
  assertEquals(
    error.message,
    'hog exited with status 2; restart policy "never": not restarting',
  );
  assert(await assertRejects(() => supervised.current(), SupervisionError) === error);
  assertEquals(supervised.instance, null);
  assertEquals(supervised.exits.length, 1);
  assertEquals(supervised.exits[0].restarted, false);
  assertEquals(lines.slice(1), ["hog: exited with status 2", error.message]);
});

Deno.test("supervisor: a crash loop spends the budget with a doubling backoff, then fails closed", async () => {
  const lines: string[] = [];
  const component = hogWith({
    restart: { policy: "on-failure", maxRestarts: 2, windowSeconds: 60, backoffMs: 20 },
  });
  using state = tempDir();
  await using supervisor = new Supervisor({
    stateDir: state.path,
    report: (line) => lines.push(line),
  });
  const supervised = await supervisor.start(HogInit, component);
  const started: number[] = [];
  for (let crash = 0; crash < 3; crash++) {
    const init = await supervised.current();
    started.push(Date.now());
    await assertRejects(() => init.crash(1));
    await waitFor(() => supervised.exits.length === crash + 1, 20_000, `exit ${crash + 1}`);
  }
  const error = await supervised.failed;
  assert(error.message.includes("restarted 2 times within 60 s"), error.message);
  assert(error.message.includes("not restarting"), error.message);
  assertEquals(
    error.message,
    "hog exited with status 1; it was restarted 2 times within 60 s (budget 2): not restarting",
  );
  await assertRejects(() => supervised.current(), SupervisionError, "not restarting");
  assertEquals(supervised.exits.map((e) => e.restarted), [true, true, false]);
  const gaps = [started[1] - supervised.exits[0].at, started[2] - supervised.exits[1].at];
  assert(gaps[0] >= 15, `first gap ${gaps[0]} ms`);
  assert(gaps[1] >= 35, `second gap ${gaps[1]} ms`);
  assertEquals(lines.filter((line) => line.includes("restarting in")), [
    "hog: restarting in 20 ms",
    "hog: restarting in 40 ms",
  ]);
  assertEquals(lines.at(-1), error.message);
});

Deno.test("supervisor: disposing stops the running component, which is no crash", async () => {
  const lines: string[] = [];
  using state = tempDir();
  const supervisor = new Supervisor({
    stateDir: state.path,
    report: (line) => lines.push(line),
  });
  const supervised = await supervisor.start(
    HogInit,
    hogWith({ restart: { policy: "always", backoffMs: 20 } }),
  );
  await (await supervised.current()).spin(0);
  const pid = supervised.instance!.pid;
  let failed = false;
  supervised.failed.then(() => failed = true);
  await supervisor[Symbol.asyncDispose]();
  assert(processGone(pid), `pid ${pid} is gone`);
  assertEquals(supervised.exits, []);
  assertEquals(supervised.instance, null);
  // Nothing follows: no restart (backoff 20 ms) and no failure.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assertEquals(supervised.instance, null);
  assertEquals(failed, false);
  assertEquals(lines, [`hog: started (pid ${pid})`]);
});

/** A supervisor checking its components' health every 100 ms (1 s to answer, 2 failures). */
function quicklyChecking(stateDir: string, options: Partial<SupervisorOptions>): Supervisor {
  return new Supervisor({
    stateDir,
    healthCheck: { intervalMs: 100, timeoutMs: 1000, failures: 2 },
    ...options,
  });
}

Deno.test("supervisor: a listener that stops answering is reported, killed and restarted", async () => {
  const lines: string[] = [];
  const component = hogWith({ listens: true, restart: { policy: "on-failure", backoffMs: 20 } });
  using state = tempDir();
  await using supervisor = quicklyChecking(state.path, { report: (line) => lines.push(line) });
  const supervised = await supervisor.start(HogInit, component);
  const first = supervised.instance!;
  await (await supervised.current()).spin(0);
  // Hung: it still holds its socket, and connections queue unanswered.
  first.kill("SIGSTOP");
  await waitFor(() => supervised.exits.length === 1, 20_000, "the hung component to be killed");
  const [exit] = supervised.exits;
  assertEquals(exit.reason.kind, "unresponsive");
  assert(exit.reason.text.includes("2 health checks of its listener failed"), exit.reason.text);
  assert(exit.reason.text.includes("no answer within 1000 ms"), exit.reason.text);
  assertEquals(exit.restarted, true);
  assert(
    lines.some((line) => /^hog: unresponsive \(.*\); killing it$/.test(line)),
    lines.join("\n"),
  );
  // The new instance serves, through its channel and its listener.
  await (await supervised.current()).spin(0);
  const second = supervised.instance!;
  assert(second.pid !== first.pid && processGone(first.pid));
  const token = newToken();
  second.sendControl(`accept ${token.hex}`);
  await using init = await connect(HogInit, `unix:${second.paths.listenSocket}`, {
    token: token.bytes,
    log: new IpcLog({ level: "off" }),
  });
  await init.spin(0);
});

Deno.test("supervisor: a component that stops answering over its channel is killed as unresponsive", async () => {
  const component = hogWith({ restart: { policy: "never" } });
  const printed: string[] = [];
  using state = tempDir();
  await using supervisor = quicklyChecking(state.path, { output: (line) => printed.push(line) });
  const supervised = await supervisor.start(HogInit, component);
  const hog = await supervised.current();
  await hog.spin(0);
  // Answering, it stays: a few checks pass, and they make it print nothing.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert(supervised.running);
  assertEquals(printed, []);
  // Its event loop stuck (on a call that would take a minute), nothing answers.
  await assertRejects(() => hog.spin(60));
  await supervised.failed;
  const [exit] = supervised.exits;
  assertEquals(exit.reason.kind, "unresponsive");
  assert(exit.reason.text.includes("2 health checks over its channel failed"), exit.reason.text);
  assert(exit.reason.text.includes("no answer within 1000 ms"), exit.reason.text);
});

/** The hog under another name, restarted on failure at most `maxRestarts` times a minute. */
function namedHog(name: string, maxRestarts: number): Component {
  const component = hogWith({ restart: { policy: "on-failure", backoffMs: 20, maxRestarts } });
  return { ...component, manifest: { ...component.manifest, name } };
}

/**
 * A supervisor running `base` (budget 5) and `dependant` (budget 1),
 * restarted with it; its report lines.
 */
async function baseAndDependant() {
  const lines: string[] = [];
  const state = tempDir();
  const supervisor = new Supervisor({
    stateDir: state.path,
    report: (line) => lines.push(line),
  });
  const base = await supervisor.start(HogInit, namedHog("base", 5));
  const dependant = await supervisor.start(HogInit, namedHog("dependant", 1), {
    restartWith: [base],
  });
  return {
    lines,
    supervisor,
    base,
    dependant,
    async [Symbol.asyncDispose]() {
      await supervisor[Symbol.asyncDispose]();
      state[Symbol.dispose]();
    },
  };
}

Deno.test("supervisor: restartWith (rest_for_one) restarts a dependant after its dependency, spending none of its budget", async () => {
  // A budget of one restart: two restarts with base prove they spend none of it.
  await using pair = await baseAndDependant();
  const { lines, supervisor, base, dependant } = pair;
  const bystander = await supervisor.start(HogInit, namedHog("bystander", 1));
  const bystanderPid = bystander.instance!.pid;
  for (let round = 1; round <= 2; round++) {
    const before = dependant.instance!.pid;
    base.instance!.kill("SIGKILL");
    await waitFor(() => dependant.exits.length === round, 20_000, "the dependant's exit");
    await (await dependant.current()).spin(0);
    assert(base.instance !== null, "the dependant runs again only once its dependency does");
    assert(dependant.instance!.pid !== before, "the dependant is a new process");
    assert(processGone(before), `pid ${before} is gone`);
    const exit = dependant.exits.at(-1)!;
    assertEquals([exit.cause, exit.restarted], ["restarted with base", true]);
  }
  // Its own crash still spends its budget as before.
  await assertRejects(async () => (await dependant.current()).crash(3));
  await waitFor(() => dependant.exits.length === 3, 20_000, "the dependant's crash");
  await (await dependant.current()).spin(0);
  assertEquals(dependant.exits.at(-1)!.cause, undefined);
  // One for one: the bystander was never touched.
  assertEquals(bystander.instance!.pid, bystanderPid);
  assertEquals(bystander.exits, []);
  assert(lines.includes("dependant: stopping, base restarts (rest_for_one)"), lines.join("\n"));
});

Deno.test("supervisor: a listener whose start fails is refused with its exit and what it printed last", async () => {
  const lines: string[] = [];
  using state = tempDir();
  await using supervisor = new Supervisor({
    stateDir: state.path,
    output: (line) => lines.push(line),
  });
  const error = await assertRejects(
    () =>
      supervisor.start(HogInit, hogWith({ listens: true }), {
        args: ["-failstart=Error: Unable to bind any endpoint for RPC server"],
      }),
    Error,
  );
  assertEquals(
    error.message,
    "hog exited with status 3 before it listened; it printed last: " +
      "Error: Unable to bind any endpoint for RPC server",
  );
  assertEquals(lines, ["Error: Unable to bind any endpoint for RPC server"]);
});

Deno.test("supervisor: a dependant that dies with its dependency, whichever exit is handled first, spends none of its budget", async () => {
  await using pair = await baseAndDependant();
  const { lines, base, dependant } = pair;
  // Three times both at once, as a wallet exits when its node goes; a budget of one restart.
  for (let round = 1; round <= 3; round++) {
    const [basePid, dependantPid] = [base.instance!.pid, dependant.instance!.pid];
    Deno.kill(basePid, "SIGKILL");
    Deno.kill(dependantPid, "SIGKILL");
    await waitFor(() => dependant.exits.length === round, 20_000, `round ${round}'s exit`);
    await (await dependant.current()).spin(0);
    assert(base.running && dependant.running, lines.join("\n"));
  }
  assertEquals(
    dependant.exits.map((exit) => exit.cause),
    ["restarted with base", "restarted with base", "restarted with base"],
    lines.join("\n"),
  );
  assertEquals(dependant.exits.every((exit) => exit.endedAt <= exit.at), true);
});

Deno.test("supervisor: a dependant that ends cleanly just before its dependency fails restarts with it", async () => {
  await using pair = await baseAndDependant();
  const { lines, base, dependant } = pair;
  // As a wallet told that its node stops exits 0 while the node is still shutting down.
  await assertRejects(async () => (await dependant.current()).crash(0));
  await waitFor(() => dependant.exits.length === 1, 20_000, "the dependant's clean exit");
  assertEquals(dependant.exits[0].reason.kind, "clean");
  await assertRejects(async () => (await base.current()).crash(3));
  await waitFor(() => dependant.running, 20_000, `the dependant back\n${lines.join("\n")}`);
  await (await dependant.current()).spin(0);
  assertEquals(dependant.exits[0].cause, "restarted with base", lines.join("\n"));
});

Deno.test("supervisor: a component whose start fails is refused with its exit and what it printed last", async () => {
  using state = tempDir();
  await using supervisor = new Supervisor({ stateDir: state.path, output: () => {} });
  const error = await assertRejects(
    () =>
      supervisor.start(HogInit, hogWith({}), {
        args: ["-failstart=Error: Unable to bind any endpoint for RPC server"],
      }),
    SpawnError,
  );
  assertEquals(
    error.message,
    "spawn: hog exited with status 3 before serving; it printed last: " +
      "Error: Unable to bind any endpoint for RPC server",
  );
});

/** What the sandbox adds to Deno's refusal to read /etc/hostname in the hog. */
const READ_HINT = ' (the sandbox refused read access to "/etc/hostname": a component may use ' +
  `only what "permissions"."read" in ${hog.folder}/manifest.json grants, paths relative to its ` +
  "data directory)";

Deno.test("supervisor: a start the sandbox refused a permission says what the manifest would grant, and where", async () => {
  for (const hardened of [false, true]) {
    using state = tempDir();
    const lines: string[] = [];
    await using supervisor = new Supervisor({
      stateDir: state.path,
      output: (line) => lines.push(line),
      hardened,
    });
    const error = await assertRejects(
      () => supervisor.start(HogInit, hog, { args: ["-readstart=/etc/hostname"] }),
      SpawnError,
    );
    assert(error.message.includes("NotCapable: Requires read access to"), error.message);
    assert(error.message.endsWith(READ_HINT), error.message);
    // The stack trace names the component's own source, not the bundle it runs as.
    assert(
      lines.some((line) => line.includes(`at file://${hog.folder}/main.ts:`)),
      lines.join("\n"),
    );
    // Its map names the sources where they are, whatever the state directory's place.
    const [map] = [...Deno.readDirSync(`${state.path}/code`)].filter((e) =>
      e.name.endsWith(".map")
    );
    const { sources } = JSON.parse(Deno.readTextFileSync(`${state.path}/code/${map!.name}`));
    assert(sources.includes(`file://${hog.folder}/main.ts`), JSON.stringify(sources));
  }
});

Deno.test("supervisor: a call the sandbox refused a permission says what the manifest would grant", async () => {
  using state = tempDir();
  await using supervisor = new Supervisor({ stateDir: state.path, output: () => {} });
  const supervised = await supervisor.start(HogInit, hog, {
    args: ["-readonspin=/etc/hostname"],
  });
  using init = await supervised.current();
  const error = await assertRejects(() => init.spin(0), RpcError);
  assert(error.remote, "the component raised it");
  assertEquals(
    error.message,
    'Requires read access to "/etc/hostname", run again with the --allow-read flag' + READ_HINT,
  );
  // It still serves: the refusal failed that call alone.
  await assertRejects(() => init.spin(0), RpcError, "Requires read access");
});

Deno.test("supervisor: a component that does not serve (or listen) within startTimeoutMs is killed and refused", async () => {
  for (const listens of [false, true]) {
    using state = tempDir();
    await using supervisor = new Supervisor({
      stateDir: state.path,
      output: () => {},
      startTimeoutMs: 1000,
    });
    const error = await assertRejects(
      () => supervisor.start(HogInit, hogWith({ listens }), { args: ["-hangstart"] }),
      SpawnError,
    );
    assertEquals(
      error.message,
      (listens ? "hog did not listen" : "spawn: hog did not serve") +
        " within 1000 ms (startTimeoutMs); killed; it printed last: hog: starting, slowly",
    );
    // Nothing of the run is left: its directories went with it.
    assertEquals([...Deno.readDirSync(`${state.path}/run`)], []);
  }
});

Deno.test("supervisor: stopOnSignals stops every component on SIGINT, then the process ends (130)", async () => {
  using state = tempDir();
  const { parent, pid, dataDir, runDir } = await startSandboxParent(state.path, "--supervised");
  parent.kill("SIGINT");
  const { code, signal } = await parent.status;
  assertEquals(
    { code, signal },
    { code: 130, signal: null },
    "it exited, not killed by the signal",
  );
  assert(processGone(pid));
  // Stopped before the process ended: its run directory is gone, its disk image unmounted.
  assertEquals([...Deno.readDirSync(`${state.path}/run`)].map((entry) => entry.name), []);
  assert(runDir.startsWith(`${state.path}/run/`));
  assertEquals(isMountPoint(dataDir), false);
});

Deno.test("supervisor: stopped while a component starts (or is yet to listen), it ends that component, and start is refused", async () => {
  for (const listens of [false, true]) {
    using state = tempDir();
    const supervisor = new Supervisor({ stateDir: state.path, output: () => {} });
    const starting = supervisor.start(HogInit, hogWith({ listens }), { args: ["-hangstart"] });
    const marker = `-datadir=${state.path}/view/hog`;
    await waitFor(() => processesWith(marker).length === 1, 20_000, "the component's process");
    // At once, not when the start's 60 s run out.
    await withTimeout(supervisor[Symbol.asyncDispose](), 20_000, "the supervisor to stop");
    await assertRejects(() => starting, SupervisionError, "hog: stopped");
    assertEquals(processesWith(marker), []);
    assertEquals([...Deno.readDirSync(`${state.path}/run`)], []);
  }
});

Deno.test("supervisor: a component it gives up on is reported with what it printed last", async () => {
  using state = tempDir();
  await using supervisor = new Supervisor({ stateDir: state.path, output: () => {} });
  const supervised = await supervisor.start(HogInit, hogWith({ restart: { policy: "never" } }), {
    args: ["-crashsays=Error: the disk went away"],
  });
  await assertRejects(async () => (await supervised.current()).crash(3));
  const error = await supervised.failed;
  assertEquals(
    error.message,
    'hog exited with status 3; restart policy "never": not restarting; it printed last: ' +
      "Error: the disk went away",
  );
});
