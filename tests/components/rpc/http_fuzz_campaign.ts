/**
 * A long campaign of the HTTP JSON-RPC fuzzer (`http_fuzz.ts`):
 *
 *   deno run -A tests/components/rpc/http_fuzz_campaign.ts <first seed> <cases>
 *   deno run -A tests/components/rpc/http_fuzz_campaign.ts one <seed>   # one case, verbose
 *
 * Two servers (cookie, and user/password), each with a 512 MB heap as the
 * node's manifest gives it (`HEAP_MB` to change). `VALID=1` sends the cases
 * unmutated (a check of the generator and of the exact expectations).
 * Prints each failing seed with its notes, and every 500 cases the servers'
 * resident memory and descriptors.
 *
 * @module
 */
import { descriptorsOf, memoryOf } from "../../helpers.ts";
import { httpCase, runHttpCase, Sentinel, startFuzzServer, unexpectedStderr } from "./http_fuzz.ts";

const one = Deno.args[0] === "one";
const first = Number(one ? Deno.args[1] : Deno.args[0] ?? 1);
const count = one ? 1 : Number(Deno.args[1] ?? 1000);
const mutate = Deno.env.get("VALID") !== "1";
const heapMb = Number(Deno.env.get("HEAP_MB") ?? 512);

await using cookie = await startFuzzServer({ heapMb });
await using userpass = await startFuzzServer({ userpass: true, heapMb });
const servers = [cookie, userpass];
const sentinels = await Promise.all(servers.map((s) => Sentinel.open(s.port, s.auth)));
const sample = () =>
  servers.map((s) => {
    const pid = s.peer.child.pid;
    return `rss ${(memoryOf(pid).rss / 2 ** 20).toFixed(0)} MiB fds ${descriptorsOf(pid).size}`;
  }).join(" | ");
console.log(`start: ${sample()}`);
let failures = 0;
const started = performance.now();
for (let seed = first; seed < first + count; seed++) {
  const fuzzCase = httpCase(seed, mutate, servers.map((s) => s.auth));
  const server = servers[fuzzCase.server];
  if (one) console.log(JSON.stringify(fuzzCase, null, 1).slice(0, 4000));
  let problem: string | null;
  try {
    problem = await runHttpCase(server.port, fuzzCase);
  } catch (error) {
    problem = `case threw: ${(error as Error).message}`;
  }
  problem ??= await sentinels[fuzzCase.server].check();
  const stderr = unexpectedStderr(server.peer.errors);
  if (stderr.length) problem ??= `stderr: ${stderr.join("\n").slice(0, 2000)}`;
  if (problem) {
    failures++;
    console.log(`FAIL seed ${seed} [${fuzzCase.notes.join("; ")}]: ${problem}`);
    if (stderr.length || server.peer.lines.length === -1) break;
  }
  if ((seed - first + 1) % 500 === 0) {
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    console.log(`${seed - first + 1} cases, ${failures} failures, ${seconds} s: ${sample()}`);
  }
}
console.log(`done: ${count} cases from seed ${first}, ${failures} failures; ${sample()}`);
for (const s of sentinels) s[Symbol.dispose]();
