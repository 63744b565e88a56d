/**
 * The wallet across processes and in one: `deno task start` (the node and
 * its wallet process under the sandbox) and `deno task start -monolithic`
 * (the wallet in the node's process), each on a fresh state directory.
 *
 * - `start_to_ready_ms` (`_monolithic`): from running the task until it
 *   reports the node's JSON-RPC answering and the wallet loaded;
 * - `wallet_send_ms` (`_monolithic`): one `sendtoaddress` over HTTP
 *   JSON-RPC, signed by the wallet and accepted by the node's mempool;
 * - `wallet_getbalance_rps` (`_monolithic`): `getbalance` calls a second;
 * - `RATIO multiprocess_vs_monolithic`: time per send, multiprocess over
 *   monolithic.
 *
 * @module
 */
import { rate, report } from "./measure.ts";
import { freePort } from "../tests/components/node/node_process.ts";
import { Task } from "../tests/components/task_fixture.ts";
import { tempDir } from "../tests/helpers.ts";

/** Sends measured per mode. */
const SENDS = 40;

async function measure(mode: "multiprocess" | "monolithic"): Promise<number> {
  const suffix = mode === "monolithic" ? "_monolithic" : "";
  using temp = tempDir("wallet-bench-");
  const state = Deno.realPathSync(temp.path);
  Deno.chmodSync(state, 0o755);
  const port = freePort();
  const started = performance.now();
  await using task = new Task([
    "start",
    `--state=${state}`,
    `-rpcport=${port}`,
    "-fallbackfee=0.0002",
    ...(mode === "monolithic" ? ["-monolithic"] : []),
  ]);
  await task.match(/^node(?: and gui)?: running/m); // `start` runs the gui too
  report(`start_to_ready_ms${suffix}`, performance.now() - started, "ms");
  const cookie = Deno.readTextFileSync(`${state}/data/node/regtest/.cookie`).trim();
  const call = async (method: string, params: unknown[] = []) => {
    const response = await fetch(`http://127.0.0.1:${port}/wallet/default`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa(cookie)}` },
      body: JSON.stringify({ jsonrpc: "1.0", id: 1, method, params }),
    });
    const body = await response.json();
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  };
  const address = await call("getnewaddress");
  await call("generatetoaddress", [100 + SENDS, address]);
  let total = 0;
  for (let i = 0; i < SENDS; i++) {
    const at = performance.now();
    await call("sendtoaddress", [address, 0.001]);
    total += performance.now() - at;
    if (i % 10 === 9) await call("generatetoaddress", [1, address]);
  }
  const perSend = report(`wallet_send_ms${suffix}`, total / SENDS, "ms");
  report(`wallet_getbalance_rps${suffix}`, await rate(() => call("getbalance")), "calls/s");
  task.interrupt();
  await task.exited;
  return perSend;
}

if (import.meta.main) {
  const multiprocess = await measure("multiprocess");
  const monolithic = await measure("monolithic");
  console.log(`RATIO multiprocess_vs_monolithic ${(multiprocess / monolithic).toFixed(2)}`);
}
