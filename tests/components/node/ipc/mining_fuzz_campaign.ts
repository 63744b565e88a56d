/**
 * A long campaign of the Mining fuzzer (`mining_fuzz.ts`):
 *
 *   deno run -A tests/components/node/ipc/mining_fuzz_campaign.ts <first seed> <cases>
 *
 * One node for the whole campaign. Prints each failing seed, every 500
 * cases the node's resident memory and descriptors, and at the end how
 * each kind of call ended (answered, or each distinct error with the first
 * seed that got it), then whether templates were left alive.
 *
 * @module
 */
import { usageLine } from "../../../helpers.ts";
import { leakedTemplates, runMiningCase, startMiningFuzzTarget } from "./mining_fuzz.ts";

const first = Number(Deno.args[0] ?? 1);
const count = Number(Deno.args[1] ?? 1000);

await using target = await startMiningFuzzTarget();
// The chain grows with the cases (blocks mined and solved), and the node's memory with it.
const sample = async () =>
  `node ${usageLine(target.node.child.pid)}, ${await target.node.call("getblockcount")} blocks`;
console.log(`start: ${await sample()}`);
const outcomes = new Map<string, { count: number; seed: number }>();
let failures = 0;
const started = performance.now();
for (let seed = first; seed < first + count; seed++) {
  const problems = await runMiningCase(target, seed, (what, outcome) => {
    const call = what.split(" ")[0];
    const key = `${call}: ${outcome.replace(/[0-9a-f]{64}/g, "<hash>").slice(0, 200)}`;
    const before = outcomes.get(key) ?? { count: 0, seed };
    outcomes.set(key, { ...before, count: before.count + 1 });
  });
  const health = await target.health();
  if (health !== null) problems.push(health);
  if (problems.length > 0) {
    failures++;
    console.log(`seed ${seed}: ${problems.join("; ").slice(0, 2000)}`);
  }
  if ((seed - first + 1) % 500 === 0) console.log(`${seed - first + 1} cases: ${await sample()}`);
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `${count} cases in ${seconds.toFixed(0)} s, ${failures} failing; end: ${await sample()}`,
);
for (const [key, { count, seed }] of [...outcomes].sort()) {
  console.log(`${count}\t${key} (seed ${seed})`);
}
console.log(`templates left alive: ${await leakedTemplates(target)}`);
