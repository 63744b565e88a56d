/**
 * Supervision that heals the application, as `deno task start` runs it:
 * the node, its wallet process and the gui, each killed in turn with
 * SIGKILL, and the application working again with no manual step — the
 * wallet restarted with the node (the topology's `rest_for_one`) and
 * routed again, calls to a wallet that is down failing at once, the gui
 * serving again. JSON-RPC is called over HTTP with the node's cookie, as
 * any client does.
 *
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import { tempDir, waitFor } from "../helpers.ts";
import { freePort } from "./node/node_process.ts";
import { projectRoot } from "../../sandbox/contract.ts";
import { lastStartedPid, nodeRpc, Task, task } from "./task_fixture.ts";

/** Long enough for a restart on a loaded 2-core machine; only a hang reaches it. */
const PATIENCE_MS = 120_000;
/** How many times the supervisor reported `component` started. */
const starts = (output: string, component: string) =>
  output.split(`[supervisor] ${component}: started (pid `).length - 1;

Deno.test("restarts: kill the node, the wallet and the gui in turn; the application works again by itself", async () => {
  using temp = tempDir("capdeno-restarts-");
  const state = Deno.realPathSync(temp.path);
  const port = freePort();
  const guiPort = freePort();
  await using app = new Task([
    "start",
    `--state=${state}`,
    `-rpcport=${port}`,
    `-guiport=${guiPort}`,
  ]);
  const url = (await app.match(/^gui: (http:\/\/\S+)$/m))[1];
  await app.match(/^node and gui: running/m);
  const { call: rpc, healed } = nodeRpc(
    port,
    `${state}/data/node/regtest/.cookie`,
    () => app.output,
  );

  const address = await healed("getnewaddress", [], "default") as string;
  await healed("generatetoaddress", [101, address]);
  assertEquals(await healed("getbalance", [], "default"), 50);

  // The node: the wallet restarts with it, spending none of its crash budget, and is routed again.
  const walletsBefore = starts(app.output, "wallet");
  Deno.kill(lastStartedPid(app.output, "node"), "SIGKILL");
  await app.match(/\[supervisor\] wallet: restarting with node/);
  await waitFor(() => starts(app.output, "wallet") > walletsBefore, PATIENCE_MS, "the wallet back");
  assertEquals(await healed("getbalance", [], "default"), 50);
  assertEquals(await healed("getblockcount"), 101);

  // The wallet: while it is down, its calls fail at once in bitcoind's words; then they work again.
  const walletPid = lastStartedPid(app.output, "wallet");
  Deno.kill(walletPid, "SIGKILL");
  await app.match(new RegExp(`\\[supervisor\\] wallet: killed \\(SIGKILL\\)`));
  const down = await rpc("getbalance", [], "default");
  if (down.error !== null) {
    assertEquals(down.error.code, -18, JSON.stringify(down));
    assertEquals(down.error.message, "Requested wallet does not exist or is not loaded");
  }
  assertEquals(await healed("getbalance", [], "default"), 50);
  assert(lastStartedPid(app.output, "wallet") !== walletPid);

  // The gui: it serves again with the same session, and reaches the restarted node through IPC.
  // It was restarted with the node: once it serves, the session cookie.
  const origin = new URL(url).origin;
  let sessionCookie = "";
  await waitFor(
    async () => {
      try {
        const session = await fetch(url, { redirect: "manual" });
        await session.body?.cancel();
        sessionCookie = session.headers.get("set-cookie")?.split(";")[0] ?? "";
        return session.status === 303;
      } catch {
        return false; // not serving yet
      }
    },
    PATIENCE_MS,
    `the gui's session\n${app.output}`,
  );
  const guiRpc = async () => {
    try {
      const response = await fetch(`${origin}/api/rpc`, {
        method: "POST",
        headers: { origin, cookie: sessionCookie, "content-type": "application/json" },
        body: JSON.stringify({ method: "getblockcount", params: [] }),
      });
      return (await response.json()).result;
    } catch {
      return undefined; // the gui restarting: nothing listens for a moment
    }
  };
  await waitFor(async () => await guiRpc() === 101, PATIENCE_MS, `the gui\n${app.output}`);
  const guisBefore = starts(app.output, "gui");
  Deno.kill(lastStartedPid(app.output, "gui"), "SIGKILL");
  await waitFor(() => starts(app.output, "gui") > guisBefore, PATIENCE_MS, "the gui back");
  await waitFor(
    async () => await guiRpc() === 101,
    PATIENCE_MS,
    `the gui to serve again\n${app.output}`,
  );

  app.interrupt();
  assertEquals(await app.exited, 0, app.output);
});

Deno.test("restarts: the launcher reads its wiring from --topology; a wrong file is one line and nothing starts", async () => {
  using temp = tempDir("capdeno-topology-");
  const state = Deno.realPathSync(temp.path);
  const file = `${state}/topology.json`;
  Deno.writeTextFileSync(
    file,
    JSON.stringify({
      components: [
        { name: "node", folder: `${projectRoot()}/components/node` },
        { name: "wallet", folder: `${projectRoot()}/components/wallet`, connectTo: "nodes" },
      ],
    }),
  );
  const result = await task(["spawn-node", `--state=${state}`, `--topology=${file}`, "-wallet=w"]);
  assertEquals(result.code, 1, result.out);
  assertEquals(
    result.out.trim(),
    `launch: ${file}: components[1].connectTo: "nodes" is not an entry before "wallet"`,
  );
  assert(!result.out.includes("[supervisor]"), result.out);
});

Deno.test("restarts: a node that cannot start is named with its cause, not a timeout", async () => {
  using temp = tempDir("capdeno-startfail-");
  const state = Deno.realPathSync(temp.path);
  // Its RPC port is taken on both loopback addresses: bitcoind then refuses to start.
  const port = freePort();
  using _v4 = Deno.listen({ hostname: "127.0.0.1", port });
  using _v6 = Deno.listen({ hostname: "::1", port });
  const result = await task(["spawn-node", `--state=${state}`, `-rpcport=${port}`]);
  assertEquals(result.code, 1, result.out);
  const said = /^launch: node exited with status 1 before it listened; it printed last: (.*)$/m
    .exec(result.out);
  assert(said !== null, result.out);
  assert(said[1].includes("Error: Unable to start HTTP server. See debug log for details."));
});
