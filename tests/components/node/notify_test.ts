/**
 * The node run as `deno task node` runs it, with bitcoind's notification
 * options: granted `/bin/sh` and nothing more for them, it runs
 * `-startupnotify` once started, `-blocknotify` for each new tip (with
 * its hash), `-shutdownnotify` before it shuts down (waited for), and,
 * running its wallets itself (`-monolithic`), `-walletnotify` for each
 * wallet transaction added or changed, as bitcoind does.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../assert.ts";
import { fileLines as lines, tempDir, waitFor } from "../../helpers.ts";
import { startRealNode } from "./real_node.ts";
import { dataGrants, runOnce, startNode } from "./node_process.ts";

const MONOLITHIC = new URL("../../../components/node/monolithic.ts", import.meta.url).pathname;

Deno.test("node: -startupnotify, -blocknotify and -shutdownnotify run as bitcoind runs them, with /bin/sh the only grant they add", async () => {
  using out = tempDir("notify_out_");
  const file = (name: string) => join(out.path, name);
  await using node = await startRealNode({
    args: [
      `-startupnotify=echo started > ${file("started")}`,
      `-blocknotify=echo %s >> ${file("tips")}`,
      // Slow on purpose: the node must wait for it before shutting down.
      `-shutdownnotify=sleep 0.5; echo one > ${file("bye1")}`,
      `-shutdownnotify=echo two > ${file("bye2")}`,
    ],
  });
  assertEquals(node.flags.filter((flag) => flag.startsWith("--allow-run")), [
    "--allow-run=/bin/sh",
  ]);
  await waitFor(() => lines(file("started")).length === 1, 20_000, "-startupnotify");
  // Loading the chain tells -blocknotify nothing, as in Core.
  assertEquals(lines(file("tips")), []);
  const address = "bcrt1qjqmxmkpmxt80xz4y3746zgt0q3u3ferr34acd5";
  const hashes: string[] = await node.call("generatetoaddress", [3, address]);
  await waitFor(() => lines(file("tips")).length === 3, 20_000, "three -blocknotify runs");
  assertEquals(lines(file("tips")).sort(), [...hashes].sort());
  // The tip taken back (Core's InvalidateBlock tells the tip it leaves), then forward again by
  // two blocks at once: each step of the activation told, as Core's.
  await node.call("invalidateblock", [hashes[1]]);
  await waitFor(() => lines(file("tips")).length === 4, 20_000, "the tip after invalidateblock");
  assertEquals(lines(file("tips"))[3], hashes[0]);
  await node.call("reconsiderblock", [hashes[1]]);
  await waitFor(() => lines(file("tips")).length === 6, 20_000, "the two steps");
  assertEquals(lines(file("tips")).slice(4).sort(), [hashes[1], hashes[2]].sort());
  assertEquals(await node.stop(), 0);
  assertEquals(lines(file("bye1")), ["one"]);
  assertEquals(lines(file("bye2")), ["two"]);
  assertEquals(lines(file("started")), ["started"]);
  const log = Deno.readTextFileSync(join(node.datadir, "regtest", "debug.log"));
  assert(!log.includes("runCommand error"), log);
});

Deno.test("node: -blocknotify after invalidateblock, reconsiderblock and preciousblock to a branch of no more work: the tip invalidateblock leaves, then each iteration's new tip, as bitcoind", async () => {
  using out = tempDir("notify_out_");
  const file = join(out.path, "tips");
  await using node = await startRealNode({ args: [`-blocknotify=echo %s >> ${file}`] });
  const generate = (count: number, address: string): Promise<string[]> =>
    node.call("generatetoaddress", [count, address]);
  /** Runs `method`; the tips told for it, once `count` of them are in (their order is the shell's). */
  const told = async (method: string, hash: string, count: number) => {
    const before = lines(file).length;
    await node.call(method, [hash]);
    await waitFor(() => lines(file).length >= before + count, 20_000, `${count} after ${method}`);
    return lines(file).slice(before).sort();
  };
  const [a5] = await generate(1, "bcrt1qjqmxmkpmxt80xz4y3746zgt0q3u3ferr34acd5");
  const [a6, a7] = await generate(2, "bcrt1qjqmxmkpmxt80xz4y3746zgt0q3u3ferr34acd5");
  await waitFor(() => lines(file).length === 3, 20_000, "a5, a6, a7");
  // Branch b mined while a6 is invalid; a6 reconsidered, a7 is the tip again (received first).
  assertEquals(await told("invalidateblock", a6, 1), [a5]);
  const [b6, b7] = await generate(2, "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk");
  await waitFor(() => lines(file).length === 6, 20_000, "b6, b7");
  assertEquals(await told("reconsiderblock", a6, 1), [a7]);
  // Core's InvalidateBlock tells a5; ActivateBestChain then b6 and b7, one iteration each.
  assertEquals(await told("invalidateblock", a6, 3), [a5, b6, b7].sort());
  assertEquals(await told("reconsiderblock", a6, 1), [a7]);
  assertEquals(await told("preciousblock", b7, 1), [b7]);
  assertEquals(await node.stop(), 0);
  assertEquals(lines(file).length, 12);
});

Deno.test("node: a failing notification command is logged as bitcoind logs it, and the node goes on", async () => {
  await using node = await startRealNode({ args: ["-blocknotify=exit 7"] });
  const [hash] = await node.call("generatetoaddress", [
    1,
    "bcrt1qjqmxmkpmxt80xz4y3746zgt0q3u3ferr34acd5",
  ]);
  const logFile = join(node.datadir, "regtest", "debug.log");
  await waitFor(
    () => Deno.readTextFileSync(logFile).includes("runCommand error"),
    20_000,
    "the log line",
  );
  assert(
    Deno.readTextFileSync(logFile).includes("runCommand error: system(exit 7) returned 1792"),
  );
  assertEquals(await node.call("getbestblockhash"), hash);
});

Deno.test("node: without notification options the node is granted no process at all", async () => {
  await using node = await startRealNode();
  assertEquals(node.flags.filter((flag) => flag.startsWith("--allow-run")), []);
});

Deno.test("node -monolithic: -walletnotify runs for each wallet transaction added or changed, %w shell-escaped", async () => {
  using out = tempDir("notify_out_");
  const file = join(out.path, "txs");
  await using node = await startRealNode({
    module: MONOLITHIC,
    args: [
      "-monolithic",
      "-wallet=my 'w'",
      "-fallbackfee=0.0002",
      `-walletnotify=echo %s %b %h %w >> ${file}`,
    ],
  });
  const wallet = (method: string, params: unknown[] = []) =>
    node.raw(JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }), "/wallet/my%20'w'")
      .then((reply) => {
        if (reply.body.error) throw new Error(reply.body.error.message);
        return reply.body.result;
      });
  const address = await wallet("getnewaddress");
  const blocks: string[] = await node.call("generatetoaddress", [101, address]);
  // Each block's coinbase pays the wallet: one line each, with its block and height.
  await waitFor(() => lines(file).length === 101, 30_000, "101 coinbase lines");
  const coinbase = await node.call("getblock", [blocks[0]]);
  assert(lines(file).includes(`${coinbase.tx[0]} ${blocks[0]} 1 my 'w'`), lines(file)[0]);
  const txid = await wallet("sendtoaddress", [address, 1]);
  // As Core: told when committed and when the mempool takes it, unconfirmed both times.
  await waitFor(() => lines(file).length === 103, 30_000, "the send's two lines");
  assertEquals(lines(file).slice(101), [
    `${txid} unconfirmed -1 my 'w'`,
    `${txid} unconfirmed -1 my 'w'`,
  ]);
  const [mined] = await node.call("generatetoaddress", [1, address]);
  await waitFor(() => lines(file).length === 105, 30_000, "the block's two lines");
  const minedLines = lines(file).slice(103).sort();
  const block = await node.call("getblock", [mined]);
  assertEquals(
    minedLines,
    [
      `${block.tx[0]} ${mined} 102 my 'w'`,
      `${txid} ${mined} 102 my 'w'`,
    ].sort(),
  );
  // Disconnected: its coinbase and the send unconfirmed, then the send back in the mempool, as
  // Core's blockDisconnected and transactionAddedToMempool tell them.
  await node.call("invalidateblock", [mined]);
  await waitFor(() => lines(file).length === 108, 30_000, "the disconnection's three lines");
  assertEquals(
    lines(file).slice(105).sort(),
    [
      `${block.tx[0]} unconfirmed -1 my 'w'`,
      `${txid} unconfirmed -1 my 'w'`,
      `${txid} unconfirmed -1 my 'w'`,
    ].sort(),
  );
  assertEquals(await node.stop(), 0);
});

Deno.test("node: run by hand without the shell its notification options need, the node says which grant and exits", async () => {
  using dir = tempDir("notify_node_");
  const { code, stderr } = await runOnce(
    ["-regtest", `-datadir=${dir.path}`, "-blocknotify=true"],
    dataGrants(dir.path),
  );
  assertEquals(code, 1);
  assert(
    stderr.includes(
      "Error: the notification commands (-startupnotify, -blocknotify, -walletnotify, " +
        "-shutdownnotify, -alertnotify) run /bin/sh: run this process with --allow-run=/bin/sh",
    ),
    stderr,
  );
  // -walletnotify alone is the wallet processes' to run: the node needs no shell for it.
  await using _walletOnly = await startNode(
    ["-regtest", `-datadir=${dir.path}`, "-server=0", "-walletnotify=true"],
    dataGrants(dir.path),
  );
});
