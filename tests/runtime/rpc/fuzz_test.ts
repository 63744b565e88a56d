/**
 * Structure-aware mutation fuzzing of the RPC engine, at a fixed seed
 * (see `tests/rpc_fuzz.ts`; `tests/fuzz_campaign.ts` runs long campaigns).
 *
 * Against a real Tester server process: valid client sequences (Bootstrap,
 * calls on the bootstrap capability and pipelined on answers, cap tables of
 * every kind, Finish both ways, Release, Resolve, Disembargo, Returns to the
 * server's own calls), mutated, each on a fresh connection. After every case
 * the server must still answer a probe on that connection or have closed it
 * (no hang), every question of an unmutated-bytes case must have its Return,
 * the process must be alive and silent on stderr; every few cases a
 * connection opened before must still answer, and no server object may
 * outlive the connections that made it.
 *
 * Against our client: a hostile server answering each message as a real
 * Tester would, mutated; once it closes, every call must settle and the
 * process must see no uncaught error.
 *
 * Outcomes depend on timing only in what the server sends back, never in
 * what is asserted: every assertion holds whichever way a race goes.
 *
 * @module
 */
import { Message as RpcMessage, Return as RpcReturn } from "capnp-es/capnp/rpc";
import { Tester$Client } from "../../../examples/schemas/gen/testing.ts";
import { assert, assertEquals } from "../../assert.ts";
import {
  concatBytes,
  connectTester,
  DEFAULT_TIMEOUT_MS,
  descriptorsOf,
  startDenoTester,
  tempSocket,
  withTimeout,
} from "../../helpers.ts";
import {
  assertStillServing,
  clientCaseFailure,
  collectUncaught,
  frameOf,
  type Op,
  runClientCase,
  runServerCase,
  serverCase,
  serverCaseFailure,
} from "../../rpc_fuzz.ts";
import { type DescriptorSpec, TESTER_METHOD as M, WirePeer } from "../../wire_peer.ts";

/** Seeds of the fixed campaigns (a range each; change only with a reason). */
const SERVER_SEEDS = { first: 1, count: 500 };
const CLIENT_SEEDS = { first: 1, count: 200 };
/** Cases between checks of the connection opened before and of live server objects. */
const CHECK_EVERY = 50;

/** The frames of `ops` back to back, for one write (read by the server together). */
function together(ops: Op[]): Uint8Array {
  return concatBytes(...ops.map((op) => frameOf(op)));
}

/** wait(1 h) on the bootstrap capability as question `q`, with `caps` in its cap table. */
function waitCall(q: number, caps: DescriptorSpec[]): Op {
  return {
    k: "call",
    q,
    target: { importedCap: 0 },
    iface: Tester$Client.interfaceId,
    method: M.wait,
    params: { kind: "wait", ms: 3_600_000 },
    caps,
  };
}

Deno.test("rpc fuzz: mutated client sequences against a Tester server process", async (t) => {
  using socket = tempSocket("fuzz");
  const path = socket.path;
  await using server = await startDenoTester(path, { collectStderr: true });
  let exited = false;
  server.child.status.then(() => exited = true);
  await using before = await connectTester(path);
  assertEquals(await before.tester.add(1, 1), 2, "first add");

  /** The connection opened before answers, no server object made since lives on, and the process runs quietly. */
  const assertServing = async (what: string) => {
    await assertStillServing(before.tester, what);
    assert(!exited, `server exited after ${what}`);
    assertEquals(server.errors, [], `server stderr after ${what}`);
  };

  await t.step(
    "a Call and its early Finish read together: the call never runs, and holds nothing",
    async () => {
      // Found by this fuzzer (seed 23541): the Finish aborted the call's signal before the
      // server was given the call, so the server never saw it fire. A wait ran on for an
      // hour holding its params and their capabilities, counted as running (1024 such, and
      // every call on the connection was refused), and outlived the connection.
      await using raw = await WirePeer.connect(path);
      await raw.sendBytes(together([
        { k: "bootstrap", q: 0 },
        waitCall(1, [{ senderHosted: 5 }]),
        { k: "finish", q: 1, release: false },
      ]));
      assertEquals((await raw.expectReturn(0)).which(), RpcReturn.RESULTS, "bootstrap");
      assertEquals((await raw.expectReturn(1)).which(), RpcReturn.CANCELED, "wait canceled");
      // The capability in its params is given back at once, not after an hour.
      const release = await raw.expect(RpcMessage.RELEASE);
      assertEquals([release.release.id, release.release.referenceCount], [5, 1], "Release");
      // 1100 more such calls: none stays running, so the next call is served.
      const ops: Op[] = [];
      for (let q = 2; q < 1102; q++) ops.push(waitCall(q, []), { k: "finish", q, release: false });
      ops.push({
        k: "call",
        q: 2000,
        target: { importedCap: 0 },
        iface: Tester$Client.interfaceId,
        method: M.add,
        params: { kind: "add", a: 2, b: 3 },
        caps: [],
      });
      await raw.sendBytes(together(ops));
      for (;;) {
        const ret = (await raw.expect(RpcMessage.RETURN)).return;
        if (ret.answerId !== 2000) continue;
        assertEquals(ret.which(), RpcReturn.RESULTS, "add after 1100 canceled waits");
        break;
      }
      await raw.close();
      await assertServing("calls finished as they arrived");
    },
  );

  await t.step(
    `${SERVER_SEEDS.count} mutated sequences (seeds ${SERVER_SEEDS.first}…)`,
    async () => {
      const fdsBefore = descriptorsOf(server.child.pid).size;
      const ends: Record<string, number> = {};
      const { first, count } = SERVER_SEEDS;
      for (let seed = first; seed < first + count; seed++) {
        const fuzzCase = serverCase(seed);
        const outcome = await withTimeout(
          runServerCase(path, fuzzCase),
          3 * DEFAULT_TIMEOUT_MS, // a probe's wait and two for missing Returns, at the most
          `fuzz case ${seed}`,
        );
        ends[outcome.end] = (ends[outcome.end] ?? 0) + 1;
        const what = `seed ${seed} (${fuzzCase.notes.join(", ") || "unmutated"})`;
        assertEquals(serverCaseFailure(outcome), null, what);
        assert(!exited, `server exited at ${what}`);
        assertEquals(server.errors, [], `server stderr at ${what}`);
        if ((seed - first) % CHECK_EVERY === CHECK_EVERY - 1) await assertServing(what);
      }
      await assertServing("the campaign");
      // Descriptors: the cases' connections are all closed again (a few for the runtime aside).
      const fdsAfter = descriptorsOf(server.child.pid).size;
      assert(fdsAfter <= fdsBefore + 2, `server descriptors ${fdsBefore} -> ${fdsAfter}`);
      // The campaign reaches past the envelope: most cases are answered or aborted.
      assert((ends["probe-answered"] ?? 0) > count / 10, `outcomes ${JSON.stringify(ends)}`);
      assert((ends["aborted"] ?? 0) > count / 10, `outcomes ${JSON.stringify(ends)}`);
    },
  );
});

Deno.test("rpc fuzz: our client against a hostile server", async () => {
  using collected = collectUncaught();
  const { first, count } = CLIENT_SEEDS;
  for (let seed = first; seed < first + count; seed++) {
    const outcome = await runClientCase(seed);
    assertEquals(clientCaseFailure(outcome), null, `seed ${seed} (${outcome.notes})`);
    // Reactions to the case's last settlements run before the next case.
    await new Promise((r) => setTimeout(r, 0));
    assertEquals(collected.uncaught, [], `seed ${seed}`);
  }
});
