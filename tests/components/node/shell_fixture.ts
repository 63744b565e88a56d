/**
 * A node made of the real process shell and stand-in parts, for the shell's
 * process tests: a `node:sqlite` database in `<datadir>/regtest/` (as the
 * chain keeps one), the toy chain served over IPC, and with `-server` (the
 * default) an HTTP endpoint on the RPC addresses whose `stop` method stops
 * the node, as the JSON-RPC part will. Each part logs when it stops.
 * `-wallet=fixture-hangs` makes `start` hang after the database opened.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { runNode } from "../../../components/node/shell.ts";
import { nodeInit, ToyChain } from "../toy_node.ts";
import { NodeInit } from "../../../schemas/gen/node.mp.ts";

await runNode({
  start(node) {
    const { netDir, server, rpc } = node.options;
    const db = new DatabaseSync(`${netDir}/fixture.sqlite`);
    db.exec("CREATE TABLE IF NOT EXISTS starts (pid INTEGER)");
    db.prepare("INSERT INTO starts (pid) VALUES (?)").run(Deno.pid);
    node.defer(() => {
      db.close();
      node.log.info("fixture: database closed");
    });
    if (node.options.wallets.includes("fixture-hangs")) {
      // A start that never finishes, as a long load would look.
      node.log.info("fixture: start hangs");
      return new Promise<void>(() => {});
    }
    if (server) {
      let bound = 0;
      for (const { host, port } of rpc.endpoints) {
        let http: Deno.HttpServer;
        try {
          http = Deno.serve({ hostname: host, port, onListen() {} }, async (request) => {
            const call = await request.json().catch(() => ({}));
            if (call?.method !== "stop") {
              return Response.json({ error: "stop only" }, { status: 404 });
            }
            node.requestStop();
            return Response.json({ result: "Bitcoin Core stopping", error: null, id: call.id });
          });
        } catch (error) {
          node.log.info(`Binding RPC on address ${host} port ${port} failed: ${error}`);
          continue;
        }
        bound++;
        node.log.info(`Binding RPC on address ${host} port ${port}`);
        node.defer(async () => {
          await http.shutdown();
          node.log.info(`fixture: rpc on ${host} closed`);
        });
      }
      if (bound === 0) throw new Error("Unable to start HTTP server. See debug log for details.");
    }
    node.serveIpc(NodeInit, nodeInit(ToyChain.open(netDir)));
    node.log.info("fixture: started");
  },
});
