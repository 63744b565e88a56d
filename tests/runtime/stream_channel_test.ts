/**
 * The engine over byte-stream pairs instead of a socket path: a child's
 * stdin/stdout, and an inherited socket descriptor. The child runs with no
 * permission at all (an explicit --deny-ffi keeps node:child_process from
 * injecting -A).
 */
import { assertEquals } from "../assert.ts";
import { spawn } from "node:child_process";
import { Duplex } from "node:stream";
import type { Socket } from "node:net";
import { channelFromStreams } from "../../runtime/transport.ts";
import { testerOver } from "../helpers.ts";
import { testerSuite } from "./rpc/tester_suite.ts";

const server = new URL("../../examples/tester_server.ts", import.meta.url).pathname;

Deno.test("Tester over a child's stdin/stdout (child has no permissions)", async (t) => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--deny-ffi", server, "--stdio"],
    stdin: "piped",
    stdout: "piped",
    clearEnv: true,
  }).spawn();
  await testerSuite(
    t,
    () => Promise.resolve(testerOver(channelFromStreams(child.stdout, child.stdin))),
  );
  const status = await child.status;
  assertEquals(status.code, 0, "the child exits when its channel closes");
});

Deno.test("Tester over an inherited socket descriptor, fd 3 (child has no permissions)", async (t) => {
  const child = spawn(Deno.execPath(), ["run", "--no-prompt", "--deny-ffi", server, "--fd", "3"], {
    stdio: ["ignore", "inherit", "inherit", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const { readable, writable } = Duplex.toWeb(child.stdio[3] as Socket);
  const channel = channelFromStreams(
    readable as ReadableStream<Uint8Array>,
    writable as WritableStream<Uint8Array>,
  );
  await testerSuite(t, () => Promise.resolve(testerOver(channel)));
  assertEquals(await exited, 0, "the child exits when its channel closes");
});
