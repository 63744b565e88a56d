/**
 * Structure-aware mutation fuzzing of the proxy layer, at a fixed seed
 * (see `tests/proxy_fuzz.ts`; `tests/fuzz_campaign.ts foo` runs long
 * campaigns).
 *
 * Against the Foo component in a process of its own: the sequences a
 * libmultiprocess client sends (construct with its ThreadMap, threads made
 * on the component's, makeFoo, calls of every Foo method with a Context and
 * params of every kind, callbacks the raw peer answers, makeChild, destroy,
 * Finish), mutated in their Contexts, threads and params, then in their
 * words and framing, each on a fresh connection. After every case the
 * component must still answer a probe on that connection or have closed it
 * (no hang), every question of an unmutated-bytes case must have its Return,
 * the process must be alive and print nothing but the lines a hostile peer
 * is expected to cause (a connection it ended, a call of its own that
 * failed); every few cases a client connected before (our generated proxies)
 * must still be served, and no Foo made by the cases' connections may be
 * left.
 *
 * Outcomes depend on timing only in what the component sends back, never in
 * what is asserted: every assertion holds whichever way a race goes.
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import {
  DEFAULT_TIMEOUT_MS,
  descriptorsOf,
  startFooComponent,
  tempSocket,
  withTimeout,
} from "../../helpers.ts";
import { runServerCase, serverCase, serverCaseFailure } from "../../rpc_fuzz.ts";
import { FOO_GRAMMAR, fooBefore, unexpectedStderr } from "../../proxy_fuzz.ts";

/** Seeds of the fixed campaign (a range; change only with a reason). */
const SEEDS = { first: 1, count: 200 };
/** Cases between checks of the client connected before and of live Foos. */
const CHECK_EVERY = 50;

Deno.test("proxy fuzz: mutated Foo client sequences against the Foo component", async (t) => {
  using socket = tempSocket("proxy-fuzz");
  const path = socket.path;
  await using server = await startFooComponent(path, { collectStderr: true });
  let exited = false;
  server.child.status.then(() => exited = true);
  await using before = await fooBefore(path);
  await before.check("start");

  await t.step(`${SEEDS.count} mutated sequences (seeds ${SEEDS.first}…)`, async () => {
    const fdsBefore = descriptorsOf(server.child.pid).size;
    const ends: Record<string, number> = {};
    const { first, count } = SEEDS;
    for (let seed = first; seed < first + count; seed++) {
      const fuzzCase = serverCase(seed, true, FOO_GRAMMAR);
      const outcome = await withTimeout(
        runServerCase(path, fuzzCase),
        3 * DEFAULT_TIMEOUT_MS, // a probe's wait and two for missing Returns, at the most
        `proxy fuzz case ${seed}`,
      );
      ends[outcome.end] = (ends[outcome.end] ?? 0) + 1;
      const what = `seed ${seed} (${fuzzCase.notes.join(", ") || "unmutated"})`;
      assertEquals(serverCaseFailure(outcome), null, what);
      assert(!exited, `component exited at ${what}`);
      assertEquals(unexpectedStderr(server.errors), [], `component stderr at ${what}`);
      if ((seed - first) % CHECK_EVERY === CHECK_EVERY - 1) await before.check(what);
    }
    await before.check("the campaign");
    assert(!exited, "component exited after the campaign");
    // Descriptors: the cases' connections are all closed again (a few for the runtime aside).
    const fdsAfter = descriptorsOf(server.child.pid).size;
    assert(fdsAfter <= fdsBefore + 2, `component descriptors ${fdsBefore} -> ${fdsAfter}`);
    // The campaign reaches past the envelope: many cases are answered, many aborted.
    assert((ends["probe-answered"] ?? 0) > count / 10, `outcomes ${JSON.stringify(ends)}`);
    assert((ends["aborted"] ?? 0) > count / 10, `outcomes ${JSON.stringify(ends)}`);
  });
});
