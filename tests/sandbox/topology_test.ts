/**
 * Topology files: validation errors in one line per problem, naming the
 * file and the field; the wiring an entry gets; and a whole topology
 * started under a supervisor, a `rest_for_one` entry's restart spreading
 * to the entries after it and no further back.
 *
 * @module
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { processGone, tempDir, waitFor } from "../helpers.ts";
import { projectRoot } from "../../sandbox/contract.ts";
import { Supervisor } from "../../sandbox/supervisor.ts";
import {
  loadTopology,
  parseTopology,
  selectEntries,
  startTopology,
  TopologyError,
  wiringOf,
} from "../../sandbox/topology.ts";
import { HogInit, ProberInit } from "./fixtures/schema/gen/probe.mp.ts";
import { Init } from "../../schemas/gen/ipc/init.mp.ts";

Deno.test("topology: each invalid entry is refused with its file, field and problem", () => {
  const refused = (value: unknown) =>
    assertThrows(() => parseTopology(value, "/app/topology.json"), TopologyError).message;
  assertEquals(
    refused({ components: [{ name: "a", folder: "a" }, { name: "a", folder: "b" }] }),
    '/app/topology.json: components[1].name: "a" is named twice',
  );
  assertEquals(
    refused({ components: [{ name: "w", folder: "w", connectTo: "node" }] }),
    '/app/topology.json: components[0].connectTo: "node" is not an entry before "w"',
  );
  assert(
    refused({ components: [{ name: "n", folder: "n", strategy: "one_for_all" }] })
      .startsWith("/app/topology.json: components[0].strategy: "),
  );
  assert(
    refused({ components: [{ name: "n", folder: "n", restart: "sometimes" }] })
      .startsWith("/app/topology.json: components[0].restart: "),
  );
  assert(
    refused({ components: [{ name: "n", folder: "n", policy: "always" }] })
      .startsWith("/app/topology.json: components[0]: "),
  );
  assert(refused({ components: [] }).startsWith("/app/topology.json: components: "));
  assert(refused({ components: [{ name: "Node", folder: "n" }] }).includes("lower-case"));
});

Deno.test("topology: a missing or broken file is one line naming it", async () => {
  using temp = tempDir();
  const dir = temp.path;
  const error = await assertRejects(() => loadTopology(`${dir}/none.json`), TopologyError);
  assert(error.message.startsWith(`${dir}/none.json: `), error.message);
  Deno.writeTextFileSync(`${dir}/bad.json`, "{ components");
  const bad = await assertRejects(() => loadTopology(`${dir}/bad.json`), TopologyError);
  assert(bad.message.startsWith(`${dir}/bad.json: `) && !bad.message.includes("\n"));
});

Deno.test("topology: the project's own file wires wallet and gui to a rest_for_one node", async () => {
  const topology = await loadTopology(`${projectRoot()}/components/topology.json`);
  assertEquals(topology.entries.map((e) => [e.name, e.connectTo, e.strategy]), [
    ["node", undefined, "rest_for_one"],
    ["wallet", "node", "one_for_one"],
    ["gui", "node", "one_for_one"],
  ]);
  assertEquals(topology.entries[0].folder, `${projectRoot()}/components/node`);
  assertEquals(selectEntries(topology, ["gui", "node"]).entries.map((e) => e.name), [
    "node",
    "gui",
  ]);
  assertThrows(() => selectEntries(topology, ["wallet"]), TopologyError, "left out");
  assertThrows(() => selectEntries(topology, ["miner"]), TopologyError, "no component");
});

Deno.test("topology: started in order; a rest_for_one entry restarts those after it, not those before", async () => {
  using temp = tempDir();
  const dir = temp.path;
  const hog = `${projectRoot()}/tests/sandbox/fixtures/hog`;
  const topology = parseTopology({
    components: [
      { name: "first", folder: hog, restart: "on-failure" },
      { name: "middle", folder: hog, strategy: "rest_for_one", restart: "on-failure" },
      { name: "last", folder: hog, restart: "on-failure" },
    ],
  }, `${dir}/topology.json`);
  await using supervisor = new Supervisor({ stateDir: dir });
  const started = await startTopology(supervisor, topology, { HogInit });
  assertEquals([...started.keys()], ["first", "middle", "last"]);
  assertEquals(wiringOf(topology, "last", started).restartWith, [started.get("middle")]);
  assertEquals(wiringOf(topology, "first", started).restartWith, []);
  const [first, middle, last] = ["first", "middle", "last"].map((name) => started.get(name)!);
  const firstPid = first.instance!.pid;
  const lastPid = last.instance!.pid;
  middle.instance!.kill("SIGKILL");
  await waitFor(() => last.exits.length === 1, 20_000, "the last one's restart");
  await (await started.serving("last", HogInit).current()).spin(0);
  assert(last.instance!.pid !== lastPid, "the last one is a new process");
  assertEquals(last.exits[0].cause, "restarted with middle");
  assertEquals(middle.exits.map((exit) => exit.restarted), [true]);
  assertEquals([first.instance!.pid, first.exits.length], [firstPid, 0]);
  await assertRejects(
    () => startTopology(supervisor, topology, {}),
    TopologyError,
    '"first" serves HogInit; the launcher knows no interface',
  );
  // Typed by the interface it serves, and checked: a wrong one or a wrong name is said so.
  assertThrows(
    () => started.serving("last", ProberInit),
    TopologyError,
    '"last" serves HogInit, not ProberInit',
  );
  assertThrows(
    () => started.serving("lats", HogInit),
    TopologyError,
    'no component "lats" was started; there are first, middle, last',
  );
});

Deno.test("topology: an interface the launcher does not know is refused before anything starts", async () => {
  using temp = tempDir();
  const topology = parseTopology({
    components: [
      { name: "first", folder: `${projectRoot()}/tests/sandbox/fixtures/hog` },
      { name: "second", folder: `${projectRoot()}/examples/foo` },
    ],
  }, `${temp.path}/topology.json`);
  await using supervisor = new Supervisor({ stateDir: temp.path });
  await assertRejects(
    () => startTopology(supervisor, topology, { HogInit }),
    TopologyError,
    '"second" serves FooInit; the launcher knows HogInit',
  );
  // So is an entry whose manifest connects to a listener, given none to connect to.
  const wallet = parseTopology({
    components: [{ name: "wallet", folder: `${projectRoot()}/components/wallet` }],
  }, `${temp.path}/topology.json`);
  await assertRejects(
    () => startTopology(supervisor, wallet, { Init }),
    TopologyError,
    '"wallet" connects to node (its manifest\'s "connects"); give its entry "connectTo"',
  );
  // And one whose "connectTo" names an entry that does not listen.
  const unheard = parseTopology({
    components: [
      { name: "first", folder: `${projectRoot()}/tests/sandbox/fixtures/hog` },
      { name: "wallet", folder: `${projectRoot()}/components/wallet`, connectTo: "first" },
    ],
  }, `${temp.path}/topology.json`);
  await assertRejects(
    () => startTopology(supervisor, unheard, { HogInit, Init }),
    TopologyError,
    '"wallet" connects to "first", which does not listen (its manifest has no "listens": true)',
  );
  assertEquals(
    [...Deno.readDirSync(temp.path)],
    [],
    "nothing started: the state directory is empty",
  );
});

Deno.test("topology: when a rest_for_one entry stays down, those after it stop and fail too", async () => {
  using temp = tempDir();
  const dir = temp.path;
  const hog = `${projectRoot()}/tests/sandbox/fixtures/hog`;
  const topology = parseTopology({
    components: [
      { name: "middle", folder: hog, strategy: "rest_for_one" }, // the hog's manifest: never
      { name: "last", folder: hog, restart: "always" },
    ],
  }, `${dir}/topology.json`);
  await using supervisor = new Supervisor({ stateDir: dir });
  const started = await startTopology(supervisor, topology, { HogInit });
  const lastPid = started.get("last")!.instance!.pid;
  started.get("middle")!.instance!.kill("SIGKILL");
  await started.get("middle")!.failed;
  assertEquals(
    (await started.get("last")!.failed).message,
    "last: stopped, as middle stays down (rest_for_one)",
  );
  await waitFor(() => processGone(lastPid), 20_000, "the last one's end");
  await assertRejects(() => started.get("last")!.current(), Error, "middle stays down");
});
