/**
 * `-walletdir`: the real node running its wallets (`-monolithic`) keeps
 * them in the directory given, granted read and write on it and nothing
 * more, and `listwalletdir` lists them there; a wallet process run by hand
 * takes it too; a bad one refuses to start with Core's text.
 *
 * @module
 */
import { assertEquals } from "../../assert.ts";
import { tempDir, waitFor } from "../../helpers.ts";
import { dataGrants, runOnce } from "../node/node_process.ts";
import { NODE_MAIN, startRealNode } from "../node/real_node.ts";
import { startWallet } from "./wallet_process.ts";

const MONOLITHIC = new URL("../../../components/node/monolithic.ts", import.meta.url).pathname;

Deno.test("-walletdir: the node running its wallets keeps them there, and lists them from there", async () => {
  using dir = tempDir("walletdir_");
  const walletDir = Deno.realPathSync(dir.path);
  await using node = await startRealNode({
    module: MONOLITHIC,
    args: ["-monolithic", "-wallet=w", `-walletdir=${walletDir}`],
  });
  assertEquals(node.flags.includes(`--allow-write=${node.datadir}/regtest,${walletDir}`), true);
  assertEquals(await node.call("createwallet", ["x"]), { name: "x" });
  assertEquals(Deno.statSync(`${walletDir}/w/wallet.dat`).isFile, true);
  assertEquals(Deno.statSync(`${walletDir}/x/wallet.dat`).isFile, true);
  assertEquals((await node.call("listwalletdir")).wallets, [{ name: "w" }, { name: "x" }]);
  // Nothing of them in the data directory's own wallets folder.
  assertEquals([...Deno.readDirSync(`${node.datadir}/regtest/wallets`)], []);
});

Deno.test("-walletdir: a wallet process run by hand keeps its wallets there", async () => {
  using wallets = tempDir("walletdir_process_");
  await using node = await startRealNode({ args: ["-ipcbind=unix"] });
  // Within what the process is granted (its data directory's wallets/ folder).
  const walletDir = `${Deno.realPathSync(wallets.path)}/wallets/elsewhere`;
  Deno.mkdirSync(walletDir, { recursive: true });
  const wallet = startWallet(node, wallets.path, ["-wallet=w", `-walletdir=${walletDir}`]);
  try {
    await waitFor(
      async () => (await node.call("listwallets")).includes("w"),
      60_000,
      "the wallet process's wallet",
    );
    assertEquals(Deno.statSync(`${walletDir}/w/wallet.dat`).isFile, true);
    assertEquals((await node.call("listwalletdir")).wallets, [{ name: "w" }]);
  } finally {
    wallet.kill("SIGKILL");
    await wallet.status;
  }
});

Deno.test("-walletdir: one that is not an existing directory given absolute stops the node with Core's text", async () => {
  using temp = tempDir("walletdir_bad_");
  const outcome = await runOnce(
    ["-regtest", `-datadir=${temp.path}`, "-server=0", `-walletdir=${temp.path}/missing`],
    dataGrants(temp.path),
    { module: NODE_MAIN },
  );
  assertEquals(
    [outcome.code, outcome.stderr],
    [1, `Error: Specified -walletdir "${temp.path}/missing" does not exist\n`],
  );
});
