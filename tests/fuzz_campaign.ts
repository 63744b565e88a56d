/**
 * A long fuzzing campaign from the command line:
 *
 *   deno run -A tests/fuzz_campaign.ts server <first seed> <cases>
 *   deno run -A tests/fuzz_campaign.ts one <seed>          # one server case, verbose
 *   deno run -A tests/fuzz_campaign.ts foo <first seed> <cases>   # the Foo component (proxies)
 *   deno run -A tests/fuzz_campaign.ts foo-one <seed>
 *   deno run -A tests/fuzz_campaign.ts client <first seed> <cases>
 *   deno run -A tests/fuzz_campaign.ts client-one <seed>   # one client case, verbose
 *
 * With `VALID=1` nothing is mutated (a check of the generator itself);
 * `HEAP_MB` caps the server's heap. Prints every failing seed, by the
 * checks of `rpc_fuzz.ts` (the server died or wrote to stderr, a probe
 * hung, the connection opened before stopped answering; calls left
 * pending, something uncaught), and how the server's (or this process's)
 * memory and descriptors went.
 *
 * @module
 */
import {
  connectTester,
  DEFAULT_TIMEOUT_MS,
  descriptorsOf,
  memoryOf,
  startDenoTester,
  startFooComponent,
  tempSocket,
  withTimeout,
} from "./helpers.ts";
import {
  assertStillServing,
  clientCaseFailure,
  collectUncaught,
  runClientCase,
  runServerCase,
  serverCase,
  serverCaseFailure,
  TESTER_GRAMMAR,
} from "./rpc_fuzz.ts";
import { FOO_GRAMMAR, fooBefore, unexpectedStderr } from "./proxy_fuzz.ts";

const [mode, firstArg, countArg] = Deno.args;

const valid = Deno.env.get("VALID") === "1";
const foo = mode === "foo" || mode === "foo-one";
if (mode === "server" || mode === "one" || foo) {
  const first = Number(firstArg ?? 1);
  const count = mode === "one" || mode === "foo-one" ? 1 : Number(countArg ?? 1000);
  using socket = tempSocket("fuzz");
  const heapMb = Deno.env.get("HEAP_MB");
  await using server = await (foo ? startFooComponent : startDenoTester)(socket.path, {
    collectStderr: true,
    denoFlags: heapMb ? [`--v8-flags=--max-old-space-size=${heapMb}`] : [],
  });
  const pid = server.child.pid;
  let exited = false;
  server.child.status.then(() => exited = true);
  await using before = foo ? null : await connectTester(socket.path);
  await using fooClient = foo ? await fooBefore(socket.path) : null;
  const stillServing = (what: string) =>
    fooClient ? fooClient.check(what) : assertStillServing(before!.tester, what);
  const failures: string[] = [];
  const ends: Record<string, number> = {};
  const aborts: Record<string, number> = {};
  // What the server printed while starting (a component says where it listens).
  let stderrSeen = server.errors.length;
  const started = performance.now();
  const sample = () => ({ rss: memoryOf(pid).rss, fds: descriptorsOf(pid).size });
  let baseline: { rss: number; fds: number } | null = null;
  let lastCheck = first;
  for (let seed = first; seed < first + count; seed++) {
    const fuzzCase = serverCase(seed, !valid, foo ? FOO_GRAMMAR : TESTER_GRAMMAR);
    if (mode === "one" || mode === "foo-one") {
      console.log(JSON.stringify(fuzzCase.notes), fuzzCase.framed);
      for (const op of fuzzCase.ops) {
        console.log(
          JSON.stringify(
            op,
            (_, v) =>
              typeof v === "bigint"
                ? `${v}n`
                : v instanceof Uint8Array
                ? `<${v.byteLength} bytes>`
                : v,
          ),
        );
      }
    }
    let outcome;
    try {
      outcome = await withTimeout(
        runServerCase(socket.path, fuzzCase),
        3 * DEFAULT_TIMEOUT_MS,
        `case ${seed}`,
      );
    } catch (error) {
      failures.push(`seed ${seed}: case failed: ${error}`);
      console.log(`FAIL seed ${seed}: ${error}`);
      continue;
    }
    if (mode === "one" || mode === "foo-one") console.log(JSON.stringify(outcome));
    ends[outcome.end] = (ends[outcome.end] ?? 0) + 1;
    if (outcome.abort !== undefined) {
      const key = outcome.abort.replace(/\d+/g, "N").slice(0, 70);
      aborts[key] = (aborts[key] ?? 0) + 1;
    }
    const failure = serverCaseFailure(outcome);
    if (failure !== null) {
      failures.push(`seed ${seed}: ${failure} ${JSON.stringify(fuzzCase.notes)}`);
      console.log(`FAIL seed ${seed}: ${failure}`, fuzzCase.notes);
    }
    const printed = server.errors.slice(stderrSeen);
    stderrSeen = server.errors.length;
    const lines = foo ? unexpectedStderr(printed) : printed;
    if (lines.length > 0) {
      failures.push(`seed ${seed}: server stderr: ${lines.join(" | ").slice(0, 500)}`);
      console.log(`FAIL seed ${seed}: server stderr:\n${lines.join("\n")}`);
    }
    if (exited) {
      failures.push(`seed ${seed}: server exited`);
      console.log(`FAIL seed ${seed}: server exited`);
      break;
    }
    if ((seed - first) % 50 === 49 || seed === first + count - 1) {
      try {
        await stillServing(`cases ${lastCheck}..${seed}`);
        lastCheck = seed + 1;
      } catch (error) {
        failures.push(`seed ${seed}: connection before: ${error}`);
        console.log(`FAIL seed ${seed}: connection before: ${error}`);
      }
      const now = sample();
      if (baseline === null && seed - first >= 199) baseline = now;
      console.log(
        `${seed - first + 1} cases, ${((performance.now() - started) / 1000).toFixed(0)} s, ` +
          `rss ${(now.rss / 2 ** 20).toFixed(1)} MiB, fds ${now.fds}, ends ${JSON.stringify(ends)}`,
      );
    }
  }
  await new Promise((r) => setTimeout(r, 500));
  const end = sample();
  console.log("aborts:", JSON.stringify(aborts, null, 1));
  console.log(`baseline ${JSON.stringify(baseline)}, end ${JSON.stringify(end)}`);
  console.log(`${failures.length} failures`);
  for (const f of failures) console.log(f);
}

if (mode === "client" || mode === "client-one") {
  const first = Number(firstArg ?? 1);
  const count = mode === "client-one" ? 1 : Number(countArg ?? 1000);
  using collected = collectUncaught();
  const { uncaught } = collected;
  const failures: string[] = [];
  const totals: Record<string, number> = {};
  const fds = () => [...Deno.readDirSync("/proc/self/fd")].length;
  const fdsBefore = fds();
  const started = performance.now();
  for (let seed = first; seed < first + count; seed++) {
    const seen = uncaught.length;
    let outcome;
    try {
      outcome = await runClientCase(seed, { mutate: !valid });
    } catch (error) {
      failures.push(`seed ${seed}: case threw ${error}`);
      console.log(`FAIL seed ${seed}: case threw ${(error as Error)?.stack ?? error}`);
      continue;
    }
    await new Promise((r) => setTimeout(r, 0));
    if (mode === "client-one") console.log(JSON.stringify(outcome, null, 1));
    for (const [k, v] of Object.entries(outcome.results)) totals[k] = (totals[k] ?? 0) + v;
    const failure = clientCaseFailure(outcome);
    if (failure !== null) {
      failures.push(`seed ${seed}: ${failure} ${outcome.notes}`);
      console.log(`FAIL seed ${seed}: ${failure}`, outcome.notes);
    }
    if (uncaught.length > seen) {
      failures.push(`seed ${seed}: ${uncaught.slice(seen).join(" | ").slice(0, 800)}`);
      console.log(`FAIL seed ${seed}: ${uncaught.slice(seen).join("\n")}`);
    }
    if ((seed - first) % 100 === 99) {
      console.log(
        `${seed - first + 1} cases, ${((performance.now() - started) / 1000).toFixed(0)} s, ` +
          `rss ${
            (Deno.memoryUsage().rss / 2 ** 20).toFixed(1)
          } MiB, fds ${fds()} (${fdsBefore} before)`,
      );
    }
  }
  console.log(JSON.stringify(totals, null, 1));
  console.log(`${failures.length} failures`);
  for (const f of failures) console.log(f);
}
