/**
 * Interop with the reference C++ implementation (Debian libcapnp-dev), in
 * both directions, built from tests/cpp/peer.c++.
 */
import { assert, assertEquals } from "../../assert.ts";
import {
  cppPeerPath,
  spawnPeer,
  startCppTester,
  startDenoTester,
  tempSocket,
} from "../../helpers.ts";
import { testerSuite } from "./tester_suite.ts";

const peer = await cppPeerPath();
const ignore = peer === null;
if (ignore) {
  console.log("SKIPPED interop tests: g++ / libcapnp-dev (pkg-config capnp-rpc) not found");
}

/** The C++ client's checks, one line each. */
const CPP_CHECKS = [
  "bootstrap_add",
  "pipelining",
  "returned_capability",
  "callback",
  "exception_types",
  "extended",
  "release",
  "hold_release",
  "concurrent64",
  "payload_1mib",
  "cancellation",
  "echo_cap_loopback",
];

Deno.test({ name: "C++ client → Deno server", ignore }, async (t) => {
  using socket = tempSocket("tester");
  const path = socket.path;
  await using _server = await startDenoTester(path);
  await using client = spawnPeer(peer!, ["client", path]);
  const status = await client.child.status;
  for (const check of CPP_CHECKS) {
    await t.step(check, () => {
      const line = client.lines.find((l) => l.split(" ")[1]?.replace(":", "") === check);
      assertEquals(line, `PASS ${check}`);
    });
  }
  assertEquals(client.lines.length, CPP_CHECKS.length, client.lines.join("\n"));
  assert(status.success);
});

Deno.test({ name: "Deno client → C++ server", ignore }, async (t) => {
  using socket = tempSocket("tester");
  const path = socket.path;
  await using _server = await startCppTester(peer!, path);
  await testerSuite(t, path);
});
