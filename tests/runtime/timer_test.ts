/**
 * runtime/timer.ts: delays of any length, which `setTimeout` fires after
 * 1 ms once they pass 2^31-1 ms.
 *
 * @module
 */
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { delayOption, MAX_TIMEOUT_MS, Timer } from "../../runtime/timer.ts";

const timerModule = new URL("../../runtime/timer.ts", import.meta.url).href;

Deno.test("Timer: a delay past setTimeout's limit, and Infinity, do not fire early", async () => {
  const fired: number[] = [];
  const delays = [MAX_TIMEOUT_MS + 1, 30 * 86_400_000, 100_000_000_000, Infinity];
  const timers = delays.map((ms) => new Timer(ms, () => fired.push(ms)));
  const short = Promise.withResolvers<void>();
  using _short = new Timer(50, short.resolve);
  await short.promise;
  assertEquals(fired, []);
  assert(timers.every((timer) => timer.pending));
  for (const timer of timers) timer.clear();
  assert(timers.every((timer) => !timer.pending));
});

Deno.test("Timer: fires once after its delay, not when cleared first", async () => {
  const fired: string[] = [];
  const done = Promise.withResolvers<void>();
  const started = performance.now();
  const timer = new Timer(30, () => {
    fired.push("due");
    done.resolve();
  });
  using cleared = new Timer(10, () => fired.push("cleared"));
  cleared.clear();
  await done.promise;
  assert(performance.now() - started >= 29, "not before its delay");
  assert(!timer.pending);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assertEquals(fired, ["due"]);
});

Deno.test("Timer: a negative or NaN delay is a RangeError at once", () => {
  for (const ms of [-1, Number.NaN, -Infinity]) {
    assertThrows(() => new Timer(ms, () => {}), RangeError, "a delay is a number of milliseconds");
  }
  assertThrows(
    () => delayOption("tokenTimeoutMs", -5, 1000),
    RangeError,
    "tokenTimeoutMs is a number of milliseconds, 0 or more (Infinity: never); got -5",
  );
  assertEquals(delayOption("tokenTimeoutMs", undefined, 1000), 1000);
});

Deno.test("Timer: persistent keeps a process running, persistent: false does not", async () => {
  const run = async (persistent: boolean) => {
    const source = `import { Timer } from "${timerModule}";\n` +
      `new Timer(${persistent ? 300 : 60_000}, () => console.log("fired"), ` +
      `{ persistent: ${persistent} });`;
    const started = performance.now();
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", source],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assertEquals(code, 0);
    return { printed: new TextDecoder().decode(stdout), ms: performance.now() - started };
  };
  const kept = await run(true);
  assertEquals(kept.printed, "fired\n");
  const unref = await run(false);
  assertEquals(unref.printed, "", "exited without waiting for it");
  assert(unref.ms < 30_000, `exited after ${unref.ms} ms`);
});
