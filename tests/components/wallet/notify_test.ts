/**
 * `-walletnotify` in the wallet process's plain form (attached to a node
 * run with `-ipcbind=unix`, not spawned): the process runs the command
 * itself when granted `/bin/sh`, and refuses to start without the grant,
 * saying which it needs.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../assert.ts";
import { fileLines as lines, tempDir, waitFor } from "../../helpers.ts";
import { startRealNode } from "../node/real_node.ts";
import { startWallet } from "./wallet_process.ts";

Deno.test("wallet process: -walletnotify runs in the plain form given --allow-run=/bin/sh, and without it the process says so and exits", async () => {
  using wallets = tempDir("wallet_notify_w_");
  using out = tempDir("wallet_notify_out_");
  const file = join(out.path, "txs");
  await using node = await startRealNode({ args: ["-ipcbind=unix"] });
  const refused = startWallet(
    node,
    wallets.path,
    ["-wallet=w", `-walletnotify=echo %s >> ${file}`],
    {
      stderr: "piped",
    },
  );
  const { code, stderr } = await refused.output();
  assertEquals(code, 1);
  assertEquals(
    new TextDecoder().decode(stderr).trim(),
    "wallet: the notification commands (-startupnotify, -blocknotify, -walletnotify, " +
      "-shutdownnotify, -alertnotify) run /bin/sh: run this process with --allow-run=/bin/sh",
  );
  const wallet = startWallet(node, wallets.path, [
    "-wallet=w",
    `-walletnotify=echo %s %b %h %w >> ${file}`,
  ], {
    flags: ["--allow-run=/bin/sh"],
  });
  try {
    await waitFor(async () => (await node.call("listwallets")).includes("w"), 60_000, "w loaded");
    const call = async (method: string, params: unknown[] = []) => {
      const reply = await node.raw(
        JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        "/wallet/w",
      );
      assert(!reply.body.error, JSON.stringify(reply.body.error));
      return reply.body.result;
    };
    const address = await call("getnewaddress");
    const [hash] = await node.call("generatetoaddress", [1, address]);
    const block = await node.call("getblock", [hash]);
    await waitFor(() => lines(file).length === 1, 30_000, "the coinbase's line");
    assertEquals(lines(file), [`${block.tx[0]} ${hash} 1 w`]);
  } finally {
    wallet.kill("SIGKILL");
    await wallet.status;
  }
});
