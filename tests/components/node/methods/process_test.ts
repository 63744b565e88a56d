/**
 * The node as a process under stress: SIGKILL in the middle of
 * `generatetoaddress 200` and of a stream of `sendrawtransaction`s, then a
 * restart whose UTXO set (`gettxoutsetinfo`'s `hash_serialized_3`) equals
 * one rebuilt from the stored blocks; a second node on the same data
 * directory refused with bitcoind's message; `echoipc` through a spawned
 * process when the node may run Deno.
 *
 * @module
 */
import { hex } from "@scure/base";
import { assert, assertEquals, assertMatch } from "../../../assert.ts";
import { flagsFor, NODE_MAIN, type RealNode, startRealNode } from "../real_node.ts";
import { freePort } from "../node_process.ts";
import { tempDir, waitFor } from "../../../helpers.ts";
import { connect, IpcLog } from "../../../../mod.ts";
import { Init } from "../../../../schemas/gen/ipc/init.mp.ts";
import { signTx, TestKey } from "../chain/chain_helpers.ts";
import {
  ChainState,
  encodeTx,
  hashFromHex,
  hashToHex,
  scriptToAddress,
  summarizeUtxoSet,
} from "../../../../components/node/chain/mod.ts";

const key = new TestKey(6);
const ADDRESS = scriptToAddress(key.wpkh)!;

/** Kills the node with SIGKILL and waits for it to be gone. */
async function kill(node: RealNode): Promise<void> {
  node.child.kill("SIGKILL");
  assertEquals((await node.child.status).signal, "SIGKILL");
}

/**
 * Checks a restarted node: its chain links up, and its UTXO set statistics
 * equal those of the set rebuilt from its stored blocks (read after it stops).
 */
async function assertConsistent(datadir: string): Promise<number> {
  await using node = await startRealNode({ datadir });
  const height: number = await node.call("getblockcount");
  const stats = await node.call("gettxoutsetinfo");
  assertEquals(stats.height, height);
  let hash = await node.call("getbestblockhash");
  for (let h = height; h > 0 && h > height - 20; h--) {
    const header = await node.call("getblockheader", [hash]);
    assertEquals(header.height, h);
    assertEquals(await node.call("getblockhash", [h]), hash);
    hash = header.previousblockhash;
  }
  assertEquals(await node.stop(), 0);
  using chain = ChainState.open(`${datadir}/regtest`);
  const rebuilt = summarizeUtxoSet(chain.rebuildUtxoSet().values());
  assertEquals(hashToHex(rebuilt.hashSerialized), stats.hash_serialized_3);
  assertEquals(rebuilt.txouts, stats.txouts);
  assertEquals(Number(rebuilt.totalAmount) / 1e8, stats.total_amount);
  return height;
}

Deno.test("SIGKILL in the middle of generatetoaddress 200: the chain and UTXO set stay consistent", async () => {
  using temp = tempDir("node_crash_");
  const datadir = temp.path;
  {
    await using node = await startRealNode({ datadir });
    const generating = node.call("generatetoaddress", [200, ADDRESS]).catch((e) => e);
    // The server answers between blocks: kill once generation is well under way.
    await waitFor(async () => (await node.call("getblockcount")) >= 20, 60_000, "20 blocks");
    await kill(node);
    await generating;
  }
  const height = await assertConsistent(datadir);
  assert(height >= 20, `height ${height}`);
});

Deno.test("SIGKILL during a stream of sendrawtransaction and mining: consistent after restart", async () => {
  using temp = tempDir("node_crash_");
  const datadir = temp.path;
  {
    await using node = await startRealNode({ datadir });
    const hashes: string[] = await node.call("generatetoaddress", [140, ADDRESS]);
    const txs = [];
    for (const hash of hashes.slice(0, 40)) {
      const block = await node.call("getblock", [hash, 2]);
      txs.push(signTx([{
        outpoint: { txid: hashFromHex(block.tx[0].txid), index: 0 },
        amount: 50_0000_0000n,
        script: key.wpkh,
        key,
      }], [{ script: key.wpkh, amount: 49_9999_0000n }]));
    }
    let sent = 0;
    const stream = (async () => {
      for (const [i, tx] of txs.entries()) {
        await node.call("sendrawtransaction", [hex.encode(encodeTx(tx))]);
        sent++;
        if (i % 5 === 4) await node.call("generatetoaddress", [1, ADDRESS]);
      }
    })().catch((e) => e);
    await waitFor(() => sent >= 15, 60_000, "15 transactions accepted");
    await kill(node);
    await stream;
  }
  await assertConsistent(datadir);
});

Deno.test("the mempool survives a clean restart (mempool.dat), and not with -persistmempool=0", async () => {
  using temp = tempDir("node_mempool_");
  const datadir = temp.path;
  let txid: string;
  {
    await using node = await startRealNode({ datadir });
    const [hash] = await node.call("generatetoaddress", [101, ADDRESS]);
    const block = await node.call("getblock", [hash, 2]);
    const tx = signTx([{
      outpoint: { txid: hashFromHex(block.tx[0].txid), index: 0 },
      amount: 50_0000_0000n,
      script: key.wpkh,
      key,
    }], [{ script: key.wpkh, amount: 49_9999_0000n }]);
    txid = await node.call("sendrawtransaction", [hex.encode(encodeTx(tx))]);
    assertEquals(await node.stop(), 0);
  }
  {
    await using node = await startRealNode({ datadir, args: ["-persistmempool=0"] });
    assertEquals(await node.call("getrawmempool"), []);
    assertEquals(await node.stop(), 0);
  }
  {
    // The file written by the first stop is still there: -persistmempool=0 neither read nor wrote it.
    await using node = await startRealNode({ datadir });
    assertEquals(await node.call("getrawmempool"), [txid]);
    assertEquals((await node.call("getmempoolentry", [txid])).fees.base, 0.0001);
    assertEquals(await node.stop(), 0);
  }
});

Deno.test("-txindex: getrawtransaction finds confirmed transactions without their block, across a restart", async () => {
  using temp = tempDir("node_txindex_");
  const datadir = temp.path;
  const [first] = await (async () => {
    await using node = await startRealNode({ datadir });
    return await node.call("generatetoaddress", [3, ADDRESS]) as string[];
  })();
  const coinbaseOf = async (node: RealNode, hash: string) =>
    (await node.call("getblock", [hash])).tx[0] as string;
  await using node = await startRealNode({ datadir, args: ["-txindex"] });
  // Blocks mined before the index existed are caught up with; blocks mined after, followed.
  const [later] = await node.call("generatetoaddress", [1, ADDRESS]);
  for (const [hash, confirmations] of [[first, 4], [later, 1]] as const) {
    const txid = await coinbaseOf(node, hash);
    const found = await node.call("getrawtransaction", [txid, 1]);
    assertEquals([found.txid, found.blockhash, found.confirmations], [txid, hash, confirmations]);
    assert(!("in_active_chain" in found), "only with a block hash given");
    assertEquals(
      await node.call("getrawtransaction", [txid]),
      await node.call("getrawtransaction", [txid, 0, hash]),
    );
  }
  const synced = { txindex: { synced: true, best_block_height: 4 } };
  assertEquals(await node.call("getindexinfo"), synced);
  assertEquals(await node.call("getindexinfo", ["txindex"]), synced);
  assertEquals(await node.call("getindexinfo", ["coinstatsindex"]), {});
  const missing = await node.raw(
    JSON.stringify({ method: "getrawtransaction", params: ["11".repeat(32)], id: 1 }),
  );
  assertEquals(missing.body.error, {
    code: -5,
    message:
      "No such mempool or blockchain transaction. Use gettransaction for wallet transactions.",
  });
  assertEquals(await node.stop(), 0);
  {
    // Restarted: the index resumes at its block; without -txindex none is reported.
    await using again = await startRealNode({ datadir, args: ["-txindex"] });
    assertEquals(await again.call("getindexinfo"), synced);
    const txid = await coinbaseOf(again, later);
    assertEquals((await again.call("getrawtransaction", [txid, 1])).blockhash, later);
    assertEquals(await again.stop(), 0);
  }
  await using plain = await startRealNode({ datadir });
  assertEquals(await plain.call("getindexinfo"), {});
});

Deno.test("a damaged mempool.dat is logged as Core logs it and the node starts with an empty mempool", async () => {
  using temp = tempDir("node_mempool_");
  const datadir = temp.path;
  const file = `${datadir}/regtest/mempool.dat`;
  const logFile = `${datadir}/regtest/debug.log`;
  {
    await using node = await startRealNode({ datadir });
    const [hash] = await node.call("generatetoaddress", [101, ADDRESS]);
    const block = await node.call("getblock", [hash, 2]);
    const tx = signTx([{
      outpoint: { txid: hashFromHex(block.tx[0].txid), index: 0 },
      amount: 50_0000_0000n,
      script: key.wpkh,
      key,
    }], [{ script: key.wpkh, amount: 49_9999_0000n }]);
    await node.call("sendrawtransaction", [hex.encode(encodeTx(tx))]);
    assertEquals(await node.stop(), 0);
  }
  const dump = Deno.readFileSync(file);
  const eof = "Failed to deserialize mempool data on file: AutoFile::read: end of file: " +
    "iostream error. Continuing anyway.";
  // A real dump cut inside its transaction, a file shorter than the version, and one of
  // an unknown version (which Core skips without a word).
  const cases: [string, Uint8Array, string[]][] = [
    ["cut at 100 bytes", dump.subarray(0, 100), [
      "Loading 1 mempool transactions from file...",
      eof,
    ]],
    ["7 bytes", dump.subarray(0, 7), [eof]],
    ["garbage", new TextEncoder().encode("garbagegarbage\n"), []],
  ];
  for (const [name, bytes, lines] of cases) {
    Deno.writeFileSync(file, bytes);
    const logged = Deno.readTextFileSync(logFile).length;
    await using node = await startRealNode({ datadir });
    assertEquals(await node.call("getrawmempool"), [], name);
    assertEquals(await node.stop(), 0, name);
    const log = Deno.readTextFileSync(logFile).slice(logged);
    const mempoolLines = log.split("\n").filter((line) =>
      /mempool (data|file|transactions) (on|from)/.test(line)
    ).map((line) => line.replace(/^\S+ /, ""));
    assertEquals(mempoolLines, lines, name);
  }
});

Deno.test("a second node on the same data directory refuses with bitcoind's message", async () => {
  await using first = await startRealNode();
  const argv = ["-regtest", `-datadir=${first.datadir}`, `-rpcport=${freePort()}`];
  const second = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flagsFor(argv), NODE_MAIN, ...argv],
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals(second.code, 1);
  assertEquals(
    new TextDecoder().decode(second.stderr),
    `Error: Cannot obtain a lock on directory ${first.datadir}/regtest. Bitcoin Core is probably already running.\n`,
  );
  assertEquals(await first.call("getblockcount"), 0);
  assertEquals(await first.stop(), 0);
});

Deno.test("the RPC server's start: Core's Binding lines, and Core's stderr and log when it fails", async () => {
  const logLines = (datadir: string) =>
    Deno.readTextFileSync(`${datadir}/regtest/debug.log`).split("\n").map((line) =>
      line.replace(/^\S+ /, "")
    );
  const port = freePort();
  {
    await using node = await startRealNode({ port });
    assertEquals(await node.stop(), 0);
    const binding = logLines(node.datadir).filter((line) => line.startsWith("Binding RPC"));
    assertEquals(binding.slice(0, 2), [
      `Binding RPC on address ::1 port ${port}`,
      `Binding RPC on address 127.0.0.1 port ${port}`,
    ]);
  }
  const run = async (argv: string[]) => {
    using temp = tempDir("node_rpcfail_");
    const datadir = temp.path;
    const all = [
      "-regtest",
      `-datadir=${datadir}`,
      `-rpcport=${port}`,
      "-printtoconsole=0",
      ...argv,
    ];
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...flagsFor(all), NODE_MAIN, ...all],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    return {
      code: output.code,
      stderr: new TextDecoder().decode(output.stderr),
      log: logLines(datadir),
    };
  };
  const failed = "Error: Unable to start HTTP server. See debug log for details.\n";
  // The port taken on both loopback addresses (::1 where the machine has it).
  {
    using _v4 = Deno.listen({ hostname: "127.0.0.1", port });
    let v6: Deno.Listener | undefined;
    try {
      v6 = Deno.listen({ hostname: "::1", port });
    } catch { /* no IPv6 loopback: the node cannot bind it either */ }
    const taken = await run([]);
    v6?.close();
    assertEquals([taken.code, taken.stderr], [1, failed]);
    const log = taken.log;
    for (
      const line of [
        `Binding RPC on address ::1 port ${port} failed.`,
        `Binding RPC on address 127.0.0.1 port ${port} failed.`,
        "Unable to bind any endpoint for RPC server",
        `[error] ${failed.slice("Error: ".length, -1)}`,
      ]
    ) {
      assert(log.includes(line), `${line} in\n${log.join("\n")}`);
    }
  }
  const subnet = "Invalid -rpcallowip subnet specification: zz. Valid values are a single IP " +
    "(e.g. 1.2.3.4), a network/netmask (e.g. 1.2.3.4/255.255.255.0), a network/CIDR (e.g. " +
    "1.2.3.4/24), all ipv4 (0.0.0.0/0), or all ipv6 (::/0). RFC4193 is allowed only if " +
    "-cjdnsreachable=0.";
  const allowIp = await run(["-rpcallowip=zz"]);
  assertEquals([allowIp.code, allowIp.stderr], [1, `Error: ${subnet}\n${failed}`]);
  assert(allowIp.log.includes(`[error] ${subnet}`));
});

Deno.test("-deprecatedrpc=warnings: the warnings of three methods as one string, as v30 gives them", async () => {
  // The node refused to start with it ("Invalid parameter -deprecatedrpc=warnings").
  await using node = await startRealNode({
    args: ["-deprecatedrpc=warnings", "-deprecatedrpc=anything", "-rpcdoccheck"],
  });
  for (const method of ["getblockchaininfo", "getnetworkinfo", "getmininginfo"]) {
    assertEquals((await node.call(method)).warnings, "", method);
  }
  assertMatch(
    await node.call("help", ["getnetworkinfo"]),
    /"warnings" : "str" +\(string\) any network and blockchain warnings \(DEPRECATED\)/,
  );
  await using plain = await startRealNode({ args: ["-rpcdoccheck"] });
  for (const method of ["getblockchaininfo", "getnetworkinfo", "getmininginfo"]) {
    assertEquals((await plain.call(method)).warnings, [], method);
  }
});

Deno.test("echoipc: through a spawned process's Echo when the node may run Deno", async () => {
  await using node = await startRealNode({
    args: ["-debug=ipc"],
    // bash closes what the node inherited from this test runner before the child runs.
    extraFlags: [`--allow-run=${Deno.execPath()},/bin/bash`, "--allow-env=NODE_V8_COVERAGE"],
  });
  assertEquals(await node.call("echoipc", ["hello over ipc"]), "hello over ipc");
  assertEquals(await node.stop(), 0);
  const log = Deno.readTextFileSync(`${node.datadir}/regtest/debug.log`);
  assert(/IPC client send Echo\.echo\$Params/.test(log), log);
  assert(/IPC client recv Echo\.echo\$Results/.test(log), log);
});

Deno.test("the node serves RPC and Bitcoin Core's Init on -ipcbind=unix at once", async () => {
  await using node = await startRealNode({ args: ["-ipcbind=unix"] });
  const [tip] = await node.call("generatetoaddress", [1, ADDRESS]);
  {
    await using init = await connect(Init, `unix:${node.datadir}/regtest/node.sock`, {
      log: new IpcLog({ level: "off" }),
    });
    using echo = (await init.makeEcho())!;
    assertEquals(await echo.echo("over the node's socket"), "over the node's socket");
    using mining = (await init.makeMining())!;
    assertEquals(await mining.isTestChain(), true);
    const ref = await mining.getTip();
    assertEquals([ref?.height, hashToHex(ref!.hash)], [1, tip]);
  }
  assertEquals(await node.stop(), 0);
});
