/**
 * `Init.setNotifier` over a real socket, as the launcher hands a sandboxed
 * node its notifier: the node's events reach the launcher's runner in
 * order, a malformed value is refused by the runner (the node logs the
 * answer and goes on), and a node without an outbox refuses the call.
 *
 * @module
 */
import { CommandRunner, NO_COMMANDS } from "../../../../components/notify/commands.ts";
import { NotifierOutbox } from "../../../../components/notify/outbox.ts";
import { NOTIFIER_UNSUPPORTED } from "../../../../components/node/ipc/init.ts";
import { assert, assertEquals, assertRejects } from "../../../assert.ts";
import { tempDir } from "../../../helpers.ts";
import { serveNode } from "./ipc_helpers.ts";

Deno.test("node IPC: setNotifier hands the launcher's runner to the node; its events run the user's commands there", async () => {
  using dir = tempDir("notifier_");
  const launcherLog: string[] = [];
  const runner = new CommandRunner({
    commands: {
      ...NO_COMMANDS,
      block: `echo %s >> ${dir.path}/tips`,
      shutdown: [`echo bye > ${dir.path}/bye`],
    },
    log: (line) => launcherLog.push(line),
  });
  const nodeLog: string[] = [];
  using outbox = new NotifierOutbox({
    commands: runner.commands,
    log: (line) => nodeLog.push(line),
  });
  // Events before the notifier wait for it.
  outbox.blockTip(new Uint8Array(32).fill(0x01));
  await using node = await serveNode({ init: { notifications: outbox } });
  const client = await node.connect("launcher");
  await client.setNotifier(runner);
  outbox.blockTip(new Uint8Array(31));
  outbox.blockTip(new Uint8Array(32).fill(0x02));
  await outbox.shutdown();
  await runner.idle();
  // The two commands run at once: in either order.
  assertEquals(Deno.readTextFileSync(`${dir.path}/tips`).split("\n").sort(), [
    "",
    "01".repeat(32),
    "02".repeat(32),
  ]);
  assertEquals(Deno.readTextFileSync(`${dir.path}/bye`), "bye\n");
  assertEquals(nodeLog.length, 1, nodeLog.join("\n"));
  assert(nodeLog[0].includes("blockTip hash: expected 32 bytes, got 31"), nodeLog[0]);
  assertEquals(launcherLog, []);
  // Another peer cannot replace it.
  await assertRejects(
    () => Promise.resolve(client.setNotifier(runner)),
    Error,
    "a notifier was handed already",
  );
});

Deno.test("node IPC: a node given no outbox refuses setNotifier with a one-line error", async () => {
  await using node = await serveNode();
  const client = await node.connect("launcher");
  const runner = new CommandRunner({ commands: NO_COMMANDS, log: () => {} });
  await assertRejects(
    () => Promise.resolve(client.setNotifier(runner)),
    Error,
    NOTIFIER_UNSUPPORTED,
  );
});
