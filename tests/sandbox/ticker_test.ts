/**
 * The shared timer of the supervisor's watches: tasks of one interval run
 * on each tick, in the order they were added, until each is disposed; the
 * timer ends with its last task (the test sanitizer fails a leaked one).
 *
 * @module
 */
import { assertEquals } from "../assert.ts";
import { every } from "../../sandbox/ticker.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("ticker: tasks of one interval share its ticks and leave one by one", async () => {
  const seen: string[] = [];
  const first = every(2, () => seen.push("first"));
  const second = every(2, () => seen.push("second"));
  while (seen.length < 4) await sleep(2);
  // One timer runs both tasks, in the order they were added, on every tick.
  assertEquals(seen.slice(0, 4), ["first", "second", "first", "second"]);
  first[Symbol.dispose]();
  first[Symbol.dispose](); // disposing again changes nothing
  seen.length = 0;
  while (seen.length < 2) await sleep(2);
  assertEquals(new Set(seen), new Set(["second"]));
  second[Symbol.dispose]();
  seen.length = 0;
  await sleep(20);
  assertEquals(seen, []);
});

Deno.test("ticker: the same task added twice runs twice", async () => {
  let twice = 0;
  const task = () => twice++;
  {
    using _a = every(1, task);
    using _b = every(1, task);
    while (twice < 4) await sleep(1);
    assertEquals(twice % 2, 0, "both entries run on each tick");
  }
  const after = twice;
  await sleep(10);
  assertEquals(twice, after);
});
