/**
 * `-walletdir`: the real node running its wallets (`-monolithic`) keeps
 * them in the directory given, granted read and write on it and nothing
 * more, and `listwalletdir` lists them there; a wallet one node has open
 * another cannot open (Core's exclusive lock); a wallet process run by hand
 * takes it too; a bad one refuses to start with Core's text.
 *
 * @module
 */
import { assertEquals } from "../../assert.ts";
import { tempDir, waitFor } from "../../helpers.ts";
import { dataGrants, runOnce } from "../node/node_process.ts";
import { NODE_MAIN, startRealNode } from "../node/real_node.ts";
import { startWallet } from "./wallet_process.ts";
import { WALLET_IN_USE } from "../../../components/wallet/store.ts";

const MONOLITHIC = new URL("../../../components/node/monolithic.ts", import.meta.url).pathname;

Deno.test("-walletdir: the node running its wallets keeps them there, and lists them from there", async () => {
  using dir = tempDir("walletdir_");
  using links = tempDir("walletdir_link_");
  const walletDir = Deno.realPathSync(dir.path);
  // Given through a link: granted as written and as resolved (Deno checks a path as written).
  const link = `${Deno.realPathSync(links.path)}/wallets`;
  Deno.symlinkSync(walletDir, link);
  await using node = await startRealNode({
    module: MONOLITHIC,
    args: ["-monolithic", "-wallet=w", `-walletdir=${link}`],
  });
  assertEquals(
    node.flags.includes(`--allow-write=${node.datadir}/regtest,${link},${walletDir}`),
    true,
    node.flags.join(" "),
  );
  assertEquals(await node.call("createwallet", ["x"]), { name: "x" });
  assertEquals(Deno.statSync(`${walletDir}/w/wallet.dat`).isFile, true);
  assertEquals(Deno.statSync(`${walletDir}/x/wallet.dat`).isFile, true);
  assertEquals((await node.call("listwalletdir")).wallets, [{ name: "w" }, { name: "x" }]);
  // Nothing of them in the data directory's own wallets folder.
  assertEquals([...Deno.readDirSync(`${node.datadir}/regtest/wallets`)], []);
});

Deno.test("-walletdir: a wallet another node has open is refused with Core's text, not opened twice", async () => {
  using dir = tempDir("walletdir_shared_");
  const walletDir = Deno.realPathSync(dir.path);
  const args = ["-monolithic", `-walletdir=${walletDir}`];
  await using first = await startRealNode({ module: MONOLITHIC, args: [...args, "-wallet=w"] });
  await using second = await startRealNode({ module: MONOLITHIC, args });
  // What the first does with the file meanwhile (a backup, a look for migratewallet) keeps its
  // lock: no descriptor of the file is closed under it.
  assertEquals(await first.call("backupwallet", [`${walletDir}/w.bak`]), null);
  assertEquals((await first.call("migratewallet", ["w"]).catch((e) => e)).code, -4);
  const error = await second.call("loadwallet", ["w"]).catch((e) => e);
  assertEquals([error.code, error.message], [
    -4,
    `Wallet file verification failed. ${WALLET_IN_USE}`,
  ]);
  assertEquals(await second.call("listwallets"), []);
  // Let go by the first, it opens.
  await first.call("unloadwallet", ["w"]);
  assertEquals(await second.call("loadwallet", ["w"]), { name: "w" });
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
