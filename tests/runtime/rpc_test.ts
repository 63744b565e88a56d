/** The engine against itself: a Deno client and a Deno server in separate processes. */
import { startDenoTester, tempSocketPath } from "../helpers.ts";
import { testerSuite } from "./tester_suite.ts";

Deno.test("Deno client → Deno server (separate processes)", async (t) => {
  const path = tempSocketPath("tester");
  await using _server = await startDenoTester(path);
  await testerSuite(t, path);
});
