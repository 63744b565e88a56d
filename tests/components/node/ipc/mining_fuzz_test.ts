/**
 * The Mining fuzzer (`mining_fuzz.ts`) on fixed seeds against a real node
 * process, each case a client connection of its own.
 */
import { assertEquals } from "../../../assert.ts";
import { leakedTemplates, runMiningCase, startMiningFuzzTarget } from "./mining_fuzz.ts";

Deno.test("mining fuzz: 150 fixed seeds of Mining and template calls over IPC, then no template left", async () => {
  await using target = await startMiningFuzzTarget();
  const failures: string[] = [];
  for (let seed = 1; seed <= 150; seed++) {
    const problems = await runMiningCase(target, seed);
    const health = await target.health();
    if (health !== null) problems.push(health);
    if (problems.length > 0) failures.push(`seed ${seed}: ${problems.join("; ")}`);
  }
  assertEquals(failures, []);
  assertEquals(await leakedTemplates(target), 0);
  assertEquals(await target.health(), null);
});
