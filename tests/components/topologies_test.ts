/**
 * One end-to-end JSON-RPC suite run unchanged against the three ways to
 * run the wallet, each through the real tasks under the sandbox:
 *
 * - `monolithic`: `spawn-node -monolithic -wallet=A` (the wallet loader in
 *   the node's process);
 * - `spawned`: `spawn-node -wallet=A` (the node's supervisor starts the
 *   wallet process);
 * - `attached`: `spawn-node`, then `spawn-wallet -ipcconnect=unix
 *   -wallet=A` (a wallet process attached with the node's IPC cookie);
 * - `own port`: as `spawned`, the wallet entry of a `--topology` file
 *   giving the wallet process `-rpcport`, and every wallet call made on
 *   that port with the wallet's own cookie (the node's port for the
 *   node's methods only).
 *
 * The suite creates wallet B, mines 101 blocks to A, sends to B, mines,
 * reads balances, history, mempool and block contents, encrypts A, finds
 * a send refused while locked, unlocks, sends again, restarts everything
 * and reads it all again. What it observes, with txids, addresses, hashes
 * times and keys replaced by their shapes (and outputs sorted, indexes
 * dropped: the change goes to a random position), must be identical in
 * the three runs.
 *
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import { freePort } from "./node/node_process.ts";
import { RpcFailure, rpcResults, Task } from "./task_fixture.ts";
import { tempDir } from "../helpers.ts";

/** A JSON-RPC client as the suite calls it. */
type Rpc = ReturnType<typeof rpcResults>;

/** How one topology starts and stops its processes on a state directory. */
interface Topology {
  readonly name: string;
  /** Starts it: the node's JSON-RPC on `port`, a wallet process's own (if it has one) on `walletPort`. */
  start(state: string, port: number, walletPort: number): Promise<Task[]>;
  /** Where the suite's calls go; the node's port by default. */
  rpc?(state: string, port: number, walletPort: number): Rpc;
}

/** The node's methods the suite calls; every other is the wallet's. */
const NODE_METHODS = new Set([
  "generatetoaddress",
  "getrawmempool",
  "getmempoolentry",
  "getblock",
  "getblockcount",
]);

/** The wallet options every topology is given, whichever process reads them. */
const FEE = "-fallbackfee=0.0002";
const KEYPOOL = "-keypool=30";

async function started(args: string[], ready: RegExp): Promise<Task> {
  const running = new Task(args);
  try {
    await running.match(ready);
  } catch (error) {
    await running[Symbol.asyncDispose]();
    throw error;
  }
  return running;
}

const TOPOLOGIES: readonly Topology[] = [
  {
    name: "monolithic",
    start: async (state, port) => [
      await started(
        [
          "spawn-node",
          "-monolithic",
          `--state=${state}`,
          `-rpcport=${port}`,
          FEE,
          KEYPOOL,
          "-wallet=A",
        ],
        /^node: running/m,
      ),
    ],
  },
  {
    name: "spawned",
    start: async (state, port) => [
      await started(
        ["spawn-node", `--state=${state}`, `-rpcport=${port}`, FEE, KEYPOOL, "-wallet=A"],
        /^node: running/m,
      ),
    ],
  },
  {
    name: "attached",
    async start(state, port) {
      const node = await started(
        ["spawn-node", `--state=${state}`, `-rpcport=${port}`],
        /^node: running/m,
      );
      try {
        const wallet = await started(
          ["spawn-wallet", `--state=${state}`, "-ipcconnect=unix", FEE, KEYPOOL, "-wallet=A"],
          /^wallet: running/m,
        );
        return [wallet, node];
      } catch (error) {
        await node[Symbol.asyncDispose]();
        throw error;
      }
    },
  },
  {
    name: "own port",
    start: async (state, port, walletPort) => {
      const file = `${state}/topology.json`;
      const components = new URL("../../components/", import.meta.url).pathname;
      Deno.writeTextFileSync(
        file,
        JSON.stringify({
          components: [
            { name: "node", folder: `${components}node`, strategy: "rest_for_one" },
            {
              name: "wallet",
              folder: `${components}wallet`,
              connectTo: "node",
              args: [`-rpcport=${walletPort}`],
            },
          ],
        }),
      );
      return [
        await started(
          [
            "spawn-node",
            `--state=${state}`,
            `--topology=${file}`,
            `-rpcport=${port}`,
            FEE,
            KEYPOOL,
            "-wallet=A",
          ],
          /^node: running/m,
        ),
      ];
    },
    rpc(state, port, walletPort) {
      const node = rpcResults(state, port);
      const wallet = rpcResults(state, walletPort, `${state}/data/wallet/regtest/.cookie`);
      return (method, params, name) =>
        NODE_METHODS.has(method) ? node(method, params, name) : wallet(method, params, name);
    },
  },
];

/** Stops `tasks` in order with Ctrl-C; each must exit with status 0. */
async function stop(tasks: readonly Task[]): Promise<void> {
  for (const task of tasks) {
    task.interrupt();
    assertEquals(await task.exited, 0, task.output);
  }
}

/** Values that legitimately differ between runs, replaced by their shape. */
function normalized(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalized);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([key, inner]) => {
        // Times, and an output's index (the change goes to a random position).
        if (/^(time|timereceived|blocktime|mediantime|unlocked_until|birthtime|vout)$/.test(key)) {
          return [key, typeof inner];
        }
        return [key, normalized(inner)];
      }),
    );
  }
  if (typeof value === "string") {
    if (/^[0-9a-f]{64}$/.test(value)) return "<hash>";
    const descriptor = /^(\w+)\(\[[0-9a-f]{8}(\/[0-9]+h)+\]tpub\w+(\/[0-9*]+)+\)#\w{8}$/.exec(
      value,
    );
    if (descriptor) return `${descriptor[1]}(<key>${descriptor[3]})`;
    if (/^bcrt1q[02-9ac-hj-np-z]{38}$/.test(value)) return "<p2wpkh>";
    if (/^bcrt1p[02-9ac-hj-np-z]{58}$/.test(value)) return "<p2tr>";
    // A raw transaction: its signatures differ from run to run (keys, and now and then a length).
    if (/^[0-9a-f]+$/.test(value) && value.length > 64) return "<hex>";
  }
  return value;
}

/** The suite; resolves with what it observed, normalized. */
async function suite(topology: Topology): Promise<[string, unknown][]> {
  using temp = tempDir(`topo-${topology.name}-`);
  const state = Deno.realPathSync(temp.path);
  Deno.chmodSync(state, 0o755);
  const port = freePort();
  let walletPort = freePort();
  while (walletPort === port) walletPort = freePort();
  const rpc = topology.rpc?.(state, port, walletPort) ?? rpcResults(state, port);
  const seen: [string, unknown][] = [];
  const see = (label: string, value: unknown) => seen.push([label, normalized(value)]);
  const refused = async (call: Promise<unknown>) => {
    try {
      await call;
    } catch (error) {
      if (error instanceof RpcFailure) return { code: error.code, message: error.message };
      throw error;
    }
    throw new Error("the call was not refused");
  };
  type Output = { value: number; scriptPubKey: { type: string } };
  const byAmount = (outputs: Output[]) =>
    outputs.map((o) => [o.value, o.scriptPubKey.type]).sort((a, b) =>
      a.join().localeCompare(b.join())
    );
  let tasks = await topology.start(state, port, walletPort);
  try {
    see("listwallets", await rpc("listwallets"));
    see("createwallet B", await rpc("createwallet", ["B"]));
    see("listwallets", await rpc("listwallets"));
    const toA = await rpc("getnewaddress", [], "A");
    see("generate 101", (await rpc("generatetoaddress", [101, toA])).length);
    see("A balances", await rpc("getbalances", [], "A"));
    const toB = await rpc("getnewaddress", ["", "bech32m"], "B");
    const first = await rpc("sendtoaddress", [toB, 1.5], "A");
    see("mempool", (await rpc("getrawmempool")).map((txid: string) => txid === first));
    const entry = await rpc("getmempoolentry", [first]);
    // Paying a bech32m address, its change is bech32m too (Core's TransactionChangeType): one
    // P2WPKH input, two P2TR outputs. Its signature is 71 bytes with the hash type (low R, as
    // Core grinds), now and then one shorter (a short r or s: about 1 in 100), which can take a
    // virtual byte off: the size is checked against its weight and its range, not to the byte;
    // the fee, for the largest signature, is exact.
    assert(
      entry.vsize === Math.ceil(entry.weight / 4) && entry.vsize >= 164 && entry.vsize <= 165,
      `vsize ${entry.vsize}, weight ${entry.weight}`,
    );
    see("mempool entry fees", entry.fees);
    see("B pending", await rpc("getbalances", [], "B"));
    const [block] = await rpc("generatetoaddress", [1, toA]);
    const contents = await rpc("getblock", [block, 2]);
    see("block", {
      height: contents.height,
      txs: contents.tx.map((tx: { txid: string; vout: Output[] }) => ({
        sent: tx.txid === first,
        outputs: byAmount(tx.vout),
      })),
    });
    const sent = contents.tx.find((tx: { txid: string }) => tx.txid === first);
    assertEquals(
      sent.vout.map((o: Output) => o.scriptPubKey.type),
      ["witness_v1_taproot", "witness_v1_taproot"],
      "the payment and its change",
    );
    see("mempool after", await rpc("getrawmempool"));
    see("A balances", await rpc("getbalances", [], "A"));
    see("B balances", await rpc("getbalances", [], "B"));
    see("B history", await rpc("listtransactions", [], "B"));
    see(
      "A sent",
      (await rpc("listtransactions", ["*", 200], "A")).filter(
        (row: { category: string }) => row.category === "send",
      ),
    );
    see("B gettransaction", await rpc("gettransaction", [first], "B"));

    see("encryptwallet", await rpc("encryptwallet", ["correct horse"], "A"));
    see("locked send", await refused(rpc("sendtoaddress", [toB, 2], "A")));
    see("wrong passphrase", await refused(rpc("walletpassphrase", ["wrong", 60], "A")));
    see("walletpassphrase", await rpc("walletpassphrase", ["correct horse", 60], "A"));
    const second = await rpc("sendtoaddress", [toB, 2], "A");
    see("walletlock", await rpc("walletlock", [], "A"));
    see("mempool 2", (await rpc("getrawmempool")).map((txid: string) => txid === second));
    await rpc("generatetoaddress", [1, toA]);
    see("A info", await rpc("getwalletinfo", [], "A"));

    await stop(tasks);
    tasks = await topology.start(state, port, walletPort);
    see("after restart listwallets", await rpc("listwallets"));
    see("loadwallet B", await rpc("loadwallet", ["B"]));
    see("blocks", await rpc("getblockcount"));
    see("A balances", await rpc("getbalances", [], "A"));
    see("B balances", await rpc("getbalances", [], "B"));
    see("B history", await rpc("listtransactions", [], "B"));
    see("A info", await rpc("getwalletinfo", [], "A"));
    see("still locked", await refused(rpc("sendtoaddress", [toB, 1], "A")));
    see("unknown wallet", await refused(rpc("getbalance", [], "C")));
    await stop(tasks);
    tasks = [];
  } finally {
    for (const task of tasks) await task[Symbol.asyncDispose]();
  }
  return seen;
}

Deno.test("topologies: the same JSON-RPC session gives identical results monolithic, with spawned and with attached wallet processes, and on the wallet's own port", async (t) => {
  const results = new Map<string, [string, unknown][]>();
  for (const topology of TOPOLOGIES) {
    await t.step(topology.name, async () => {
      results.set(topology.name, await suite(topology));
    });
  }
  const monolithic = results.get("monolithic")!;
  // The suite saw real activity: 50 BTC mature after 101 blocks, B received 1.5 then 2.
  const balances = monolithic.filter(([label]) => label === "B balances").map(([, value]) => value);
  assertEquals(balances.map((b) => (b as { mine: { trusted: number } }).mine.trusted), [1.5, 3.5]);
  assert(monolithic.length > 30, `${monolithic.length} observations`);
  // -keypool reached the wallets (A handed out addresses of one kind: one fewer there).
  const pools = monolithic.filter(([label]) => label === "A info")
    .map(([, info]) => (info as { keypoolsize_hd_internal: number }).keypoolsize_hd_internal);
  assert(pools.length > 0 && pools.every((size) => size <= 4 * 30), `${pools}`);
  assertEquals(results.get("spawned"), monolithic);
  assertEquals(results.get("attached"), monolithic);
  assertEquals(results.get("own port"), monolithic);
});
