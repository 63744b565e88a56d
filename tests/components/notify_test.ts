/**
 * bitcoind's notification options under the sandbox, as a user runs them:
 * `deno task spawn-node -wallet=w -blocknotify=… -walletnotify=…
 * -startupnotify=… -shutdownnotify=…`, and `-alertnotify=…` once an
 * unknown version bit activates. Neither the node nor the wallet
 * process may start a process (their command lines carry no
 * `--allow-run`); they tell the launcher their events (`Init.setNotifier`)
 * and the launcher runs the user's commands, with the values bitcoind
 * would substitute.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { fileLines as lines, tempDir, waitFor } from "../helpers.ts";
import { freePort } from "./node/node_process.ts";
import { lastStartedPid, rpcResults, Task } from "./task_fixture.ts";
import { scriptToAddress } from "../../components/node/chain/mod.ts";
import { TestKey } from "./node/chain/chain_helpers.ts";
import {
  ACTIVATION_HEIGHT,
  LOCK_IN_HEIGHT,
  signalUnknownBit,
  UNKNOWN_BIT_WARNING,
} from "./node/version_bits.ts";

/** The command line of process `pid`. */
const commandLine = (pid: number) =>
  Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").slice(0, -1);

Deno.test("tasks: spawn-node's notification commands are run by the launcher; the sandboxed node and wallet process start no process", async () => {
  using state = tempDir("capdeno-notify-");
  using out = tempDir("notify_out_");
  const file = (name: string) => join(out.path, name);
  const port = freePort();
  await using node = new Task([
    "spawn-node",
    `--state=${state.path}`,
    `-rpcport=${port}`,
    "-wallet=w",
    "-fallbackfee=0.0002",
    `-startupnotify=echo up >> ${file("started")}`,
    `-blocknotify=echo %s >> ${file("tips")}`,
    `-walletnotify=echo %s %b %h %w >> ${file("txs")}`,
    `-shutdownnotify=sleep 0.5; echo bye > ${file("bye")}`,
  ]);
  await node.match(/^wallet: w loaded/m);
  for (const component of ["node", "wallet"]) {
    const argv = commandLine(lastStartedPid(node.output, component));
    assert(argv.includes("--deny-run"), argv.join(" "));
    assertEquals(argv.filter((arg) => /^(--allow-run|--allow-all|-A$)/.test(arg)), []);
  }
  await waitFor(() => lines(file("started")).length === 1, 30_000, "-startupnotify");
  const rpc = rpcResults(Deno.realPathSync(state.path), port);
  const address = await rpc("getnewaddress", [], "w") as string;
  const [hash] = await rpc("generatetoaddress", [1, address]) as string[];
  await waitFor(() => lines(file("tips")).length === 1, 30_000, node.output);
  assertEquals(lines(file("tips")), [hash]);
  const block = await rpc("getblock", [hash]) as { tx: string[] };
  await waitFor(() => lines(file("txs")).length === 1, 30_000, node.output);
  assertEquals(lines(file("txs")), [`${block.tx[0]} ${hash} 1 w`]);
  node.interrupt();
  assertEquals(await node.exited, 0, node.output);
  // The node waited for its -shutdownnotify, which the launcher ran.
  assertEquals(lines(file("bye")), ["bye"]);
  assert(!node.output.includes("[notify]"), node.output);
});

Deno.test("tasks: spawn-node's -alertnotify is run by the launcher with the warning, once; the sandboxed node starts no process", async () => {
  using state = tempDir("capdeno-notify-");
  using out = tempDir("notify_out_");
  const alerts = join(out.path, "alerts");
  const port = freePort();
  await using node = new Task([
    "spawn-node",
    `--state=${state.path}`,
    `-rpcport=${port}`,
    `-alertnotify=echo %s >> ${alerts}`,
  ]);
  await node.match(/^node: running/m);
  const argv = commandLine(lastStartedPid(node.output, "node"));
  assertEquals(argv.filter((arg) => /^(--allow-run|--allow-all|-A$)/.test(arg)), []);
  const rpc = rpcResults(Deno.realPathSync(state.path), port);
  const address = scriptToAddress(new TestKey(27).wpkh)!;
  await signalUnknownBit(rpc, address);
  await rpc("generatetoaddress", [ACTIVATION_HEIGHT - LOCK_IN_HEIGHT + 2, address]);
  await waitFor(() => lines(alerts).length === 1, 30_000, node.output);
  assertEquals((await rpc("getnetworkinfo")).warnings, [UNKNOWN_BIT_WARNING]);
  node.interrupt();
  assertEquals(await node.exited, 0, node.output);
  assertEquals(lines(alerts), [UNKNOWN_BIT_WARNING]);
});

Deno.test("tasks: a signal to the launcher (SIGTERM to it alone, or Ctrl-C to the group) runs -shutdownnotify before the node stops", async () => {
  using state = tempDir("capdeno-notify-");
  using out = tempDir("notify_out_");
  for (
    const [how, stop] of [
      ["term", (task: Task) => Deno.kill(task.pid, "SIGTERM")],
      ["int", (task: Task) => task.interrupt()],
    ] as const
  ) {
    const bye = join(out.path, how);
    await using node = new Task([
      "spawn-node",
      `--state=${state.path}`,
      `-rpcport=${freePort()}`,
      `-shutdownnotify=sleep 0.5; echo bye > ${bye}`,
    ]);
    await node.match(/^node: running/m);
    stop(node);
    assertEquals(await node.exited, 0, node.output);
    assertEquals(lines(bye), ["bye"], node.output);
  }
});
