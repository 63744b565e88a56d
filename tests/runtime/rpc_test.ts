/** The engine against itself: a Deno client and a Deno server in separate processes. */
import { assertEquals } from "../assert.ts";
import { TesterClient } from "../../examples/tester.ts";
import { RpcConnection } from "../../runtime/rpc/connection.ts";
import { RpcError } from "../../runtime/rpc/errors.ts";
import { startDenoTester, tempSocketPath } from "../helpers.ts";
import { testerSuite } from "./tester_suite.ts";

Deno.test("Deno client → Deno server (separate processes)", async (t) => {
  const path = tempSocketPath("tester");
  await using _server = await startDenoTester(path);
  await testerSuite(t, path);
});

Deno.test("outstanding questions are limited: calls over maxQuestions fail as overloaded", async () => {
  const path = tempSocketPath("tester");
  await using _server = await startDenoTester(path);
  const rpc = new RpcConnection(await Deno.connect({ transport: "unix", path }), {
    limits: { maxQuestions: 4 },
  });
  using tester = new TesterClient(rpc.bootstrap());
  assertEquals(await tester.add(1, 1), 2);
  const calls = Array.from({ length: 6 }, () => tester.wait(200));
  const outcomes = await Promise.allSettled(calls);
  const overloaded = outcomes.filter((o) =>
    o.status === "rejected" && o.reason instanceof RpcError && o.reason.type === "overloaded"
  );
  assertEquals(outcomes.filter((o) => o.status === "fulfilled").length, 4);
  assertEquals(overloaded.length, 2);
  assertEquals(await tester.add(2, 2), 4, "usable once calls complete");
  await rpc.close();
});
