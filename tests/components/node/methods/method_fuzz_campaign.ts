/**
 * A long campaign of the method fuzzer (`method_fuzz.ts`):
 *
 *   deno run -A tests/components/node/methods/method_fuzz_campaign.ts <first seed> <cases>
 *
 * One node (`-rpcdoccheck`) and one wallet process for the whole campaign.
 * `VALID=1` sends the cases unmutated; `METHODS=a,b` fuzzes only those
 * methods. Prints each failing seed with its
 * request, every 500 cases the node's resident memory and descriptors, and
 * at the end every distinct error message per method and code (with the
 * first seed that got it), for reading by eye against Core's.
 *
 * @module
 */
import { usageLine } from "../../../helpers.ts";
import { RawConnection } from "../../rpc/raw_http.ts";
import {
  cookieAuth,
  methodCase,
  methodShapes,
  runMethodCase,
  startMethodFuzzTarget,
} from "./method_fuzz.ts";

const first = Number(Deno.args[0] ?? 1);
const count = Number(Deno.args[1] ?? 1000);
const mutate = Deno.env.get("VALID") !== "1";

await using target = await startMethodFuzzTarget();
const only = Deno.env.get("METHODS")?.split(",");
const methods = methodShapes().filter((m) => only === undefined || only.includes(m.name));
const auth = cookieAuth(target.node);
let conn = await RawConnection.open(target.node.port);
const sample = () => `node ${usageLine(target.node.child.pid)}`;
console.log(`start: ${sample()}`);
const messages = new Map<string, { count: number; seed: number }>();
let failures = 0;
const started = performance.now();
for (let seed = first; seed < first + count; seed++) {
  const fuzzCase = methodCase(seed, methods, target.context, mutate);
  let problem: string | null;
  try {
    const outcome = await runMethodCase(conn, auth, fuzzCase);
    problem = outcome.problem;
    if (outcome.error) {
      const text = outcome.error.message.split("\n")[0].replace(/[0-9a-f]{64}/g, "<hash>");
      const key = `${fuzzCase.method} ${outcome.error.code} ${text.slice(0, 160)}`;
      const seen = messages.get(key) ?? { count: 0, seed };
      messages.set(key, { ...seen, count: seen.count + 1 });
    }
  } catch (error) {
    problem = `case threw: ${(error as Error).message}`;
    conn[Symbol.dispose]();
    conn = await RawConnection.open(target.node.port);
  }
  problem ??= await target.health();
  if (problem) {
    failures++;
    console.log(
      `FAIL seed ${seed} ${fuzzCase.method} ${fuzzCase.path} ${fuzzCase.params.slice(0, 400)} ` +
        `[${fuzzCase.notes.join("; ")}]: ${problem}`,
    );
    if (problem.includes("died")) break;
  }
  if (/wallet/.test(fuzzCase.method)) await target.restoreWallet().catch(() => {});
  if ((seed - first + 1) % 500 === 0) {
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    console.log(`${seed - first + 1} cases, ${failures} failures, ${seconds} s: ${sample()}`);
  }
}
conn[Symbol.dispose]();
console.log(`done: ${count} cases from seed ${first}, ${failures} failures; ${sample()}`);
for (const [key, { count, seed }] of [...messages].sort()) {
  console.log(`msg ${count}\tseed ${seed}\t${key}`);
}
