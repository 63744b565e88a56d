/**
 * The sandboxed node's plan (`components/node/sandboxed.ts`): the node's
 * arguments, its net grants computed from them, what is refused, and the
 * bitcoin-cli options that reach it. The runs themselves are in
 * `tests/components/launch_test.ts`.
 *
 * @module
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { loadComponent } from "../../../sandbox/manifest.ts";
import { projectRoot } from "../../../sandbox/contract.ts";
import {
  cliOptions,
  type NodePlan,
  planNode,
  rpcAccess,
  SpawnNodeError,
} from "../../../components/node/sandboxed.ts";
import { StartupError } from "../../../components/node/options.ts";
import { tempDir } from "../../helpers.ts";

const node = await loadComponent(`${projectRoot()}/components/node`);

function plan(state: string, args: string[]): NodePlan {
  const planned = planNode(node, state, args);
  assert(planned.kind === "run", "a plan");
  return planned.plan;
}

Deno.test("sandboxed node: arguments and net grants follow the options", () => {
  using temp = tempDir();
  const state = Deno.realPathSync(temp.path);
  const data = `${state}/data/node`;
  const net = (p: NodePlan) => p.component.manifest.permissions.net;

  const defaults = plan(state, []);
  assertEquals(defaults.args, ["-regtest", "-noconf", "-printtoconsole=0", "-rpcport=18443"]);
  assertEquals(net(defaults), node.manifest.permissions.net);
  assertEquals(defaults.dataDir, data);

  const moved = plan(state, ["-rpcport=18500", "-debug=rpc"]);
  assertEquals(moved.args, [
    "-regtest",
    "-noconf",
    "-printtoconsole=0",
    "-rpcport=18500",
    "-debug=rpc",
  ]);
  assertEquals(net(moved), ["[::1]:18500", "127.0.0.1:18500"]);

  const bound = plan(state, ["-rpcbind=127.0.0.1:18600", "-rpcallowip=127.0.0.1"]);
  assertEquals(net(bound), ["127.0.0.1:18600"]);

  assertEquals(net(plan(state, ["-server=0"])), []);
  // Each ZMQ publishing address is granted too, once however many notifiers share it.
  const zmq = plan(state, [
    "-zmqpubrawblock=tcp://127.0.0.1:28332",
    "-zmqpubrawtx=tcp://127.0.0.1:28332",
    "-zmqpubsequence=tcp://[::1]:28333",
  ]);
  assertEquals(net(zmq), [
    "[::1]:18443",
    "127.0.0.1:18443",
    "127.0.0.1:28332",
    "[::1]:28333",
  ]);
  // An ipc:// socket (unix: is its other spelling) in the node's view of regtest/: its path.
  const socket = `${state}/view/node/regtest/zmq.sock`;
  const ipc = plan(state, [`-zmqpubsequence=ipc://${socket}`, `-zmqpubhashtx=unix:${socket}`]);
  assertEquals(net(ipc), [...node.manifest.permissions.net, `unix:${socket}`]);
  assertEquals(ipc.options.zmq.map((n) => n.address), [`ipc://${socket}`, `ipc://${socket}`]);
  // Grants of other kinds and hosts the manifest (or --grant) adds stay.
  const extra = planNode(
    {
      ...node,
      manifest: {
        ...node.manifest,
        permissions: {
          ...node.manifest.permissions,
          net: [...node.manifest.permissions.net, "example.org:443"],
        },
      },
    },
    state,
    ["-rpcport=18500"],
  );
  assert(extra.kind === "run");
  assertEquals(net(extra.plan), ["example.org:443", "[::1]:18500", "127.0.0.1:18500"]);
  // Everything else of the manifest is as written.
  assertEquals(moved.component.manifest.permissions.read, ["regtest"]);
  assertEquals(moved.component.manifest.limits, node.manifest.limits);
});

Deno.test("sandboxed node: the sandbox's options, files outside regtest/ and bad options are refused", () => {
  using temp = tempDir();
  const state = Deno.realPathSync(temp.path);
  for (
    const option of [
      "-datadir=/x",
      "--datadir=/x",
      "-conf=/etc/b.conf",
      "-noconf",
      "-ipcbind=unix",
      "-ipcfd=3",
      "-lifeline",
    ]
  ) {
    const error = assertThrows(() => planNode(node, state, [option]), SpawnNodeError);
    assert(error.message.startsWith(`${option}: the sandbox sets -`), error.message);
  }
  for (const option of ["-pid=/tmp/n.pid", "-debuglogfile=/tmp/d.log", "-rpccookiefile=/tmp/c"]) {
    const error = assertThrows(() => planNode(node, state, [option]), SpawnNodeError);
    assertEquals(
      error.message,
      `${option.split("=")[1]}: the sandbox grants the node ${state}/data/node/regtest only; ` +
        "leave the file there",
    );
  }
  // Inside regtest/ they are fine.
  plan(state, ["-pid=n.pid", "-debuglogfile=d.log", "-rpccookiefile=c"]);
  // -walletdir: checked as Core checks it; a node not running the wallets is not given it.
  assertThrows(
    () => planNode(node, state, [`-walletdir=${state}/missing`]),
    StartupError,
    `Specified -walletdir "${state}/missing" does not exist`,
  );
  const walletDir = `${state}/wallets`;
  Deno.mkdirSync(walletDir);
  const apart = plan(state, [`-walletdir=${walletDir}`]);
  assert(!apart.args.some((arg) => arg.includes("walletdir")), apart.args.join(" "));
  assertEquals(apart.component.outsideDirs, undefined);
  assertEquals(apart.options.walletDir, walletDir);
  // One running them (-monolithic) is given the directory through its view.
  const monolithic = plan(state, ["-monolithic", `--walletdir=${walletDir}`]);
  assertEquals(monolithic.args.at(-1), `-walletdir=${state}/view/node.walletdir`);
  assertEquals(monolithic.args.filter((arg) => arg.includes("walletdir=")).length, 1);
  assertEquals(monolithic.component.outsideDirs, { walletdir: walletDir });
  assertThrows(() => planNode(node, state, ["-foo"]), StartupError, "Invalid parameter -foo");
  for (const option of ["-daemon", "-daemonwait=1"]) {
    assertThrows(
      () => planNode(node, state, [option]),
      SpawnNodeError,
      `${option}: the supervisor keeps the node running`,
    );
  }
  // A ZMQ address this node does not serve is a startup error.
  assertThrows(
    () => planNode(node, state, ["-zmqpubrawtx=udp://127.0.0.1:1"]),
    StartupError,
    "-zmqpubrawtx=udp://127.0.0.1:1: a ZMQ address here is tcp://<host>:<port> or ipc://<path>",
  );
  assertThrows(
    () => planNode(node, state, ["-zmqpubrawtx=ipc://*"]),
    StartupError,
    "-zmqpubrawtx=ipc://*: an ipc:// address here names a socket file",
  );
  // A UNIX socket outside what the node may write (through its data directory's view), or
  // relative (to the data directory itself, where the node runs), is refused.
  for (const path of ["/tmp/z", "z.sock", `${state}/data/node/regtest/z.sock`]) {
    assertThrows(
      () => planNode(node, state, [`-zmqpubrawtx=ipc://${path}`]),
      SpawnNodeError,
      `: the sandbox grants the node ${state}/view/node/regtest only; put the ZMQ socket there`,
    );
  }
  // A comma would end the socket's grant in the comma-joined --allow-net list and grant what
  // follows it: refused, as the plain node's grants refuse it.
  const comma = `${state}/view/node/regtest/x,unix:/other.sock`;
  assertThrows(
    () => planNode(node, state, [`-zmqpubrawtx=ipc://${comma}`]),
    SpawnNodeError,
    `${comma}: a path with ',' cannot be granted to Deno; choose another`,
  );
  // A negative mark keeps the default, as Core's.
  const negative = plan(state, ["-zmqpubrawtx=tcp://127.0.0.1:1", "-zmqpubrawtxhwm=-1"]);
  assertEquals(negative.options.zmq, [
    { type: "pubrawtx", address: "tcp://127.0.0.1:1", hwm: 1000 },
  ]);
  assertEquals(planNode(node, state, ["-version"]).kind, "print");
});

Deno.test("sandboxed node: the bitcoin-cli options that reach it", () => {
  using temp = tempDir();
  const state = Deno.realPathSync(temp.path);
  const data = `${state}/data/node`;
  const cli = (args: string[]) => {
    const p = plan(state, args);
    return cliOptions(p, rpcAccess(p)!);
  };
  assertEquals(cli([]), ["-regtest", `-datadir=${data}`, "-rpcport=18443"]);
  assertEquals(cli(["-rpccookiefile=other"]), [
    "-regtest",
    `-datadir=${data}`,
    "-rpcport=18443",
    `-rpccookiefile=${data}/regtest/other`,
  ]);
  assertEquals(cli(["-rpcuser=u", "-rpcpassword=p"]), [
    "-regtest",
    `-datadir=${data}`,
    "-rpcport=18443",
    "-rpcuser=u",
    "-rpcpassword=p",
  ]);
  assertEquals(cli(["-rpcbind=::1", "-rpcallowip=::1"]), [
    "-regtest",
    `-datadir=${data}`,
    "-rpcport=18443",
    "-rpcconnect=[::1]",
  ]);
  assertEquals(rpcAccess(plan(state, ["-server=0"])), null);
});
