/**
 * bitcoind's options on a real node: a typical regtest `bitcoin.conf`
 * (peer-to-peer and cache settings this node has no use for) starts it,
 * every setting known, and `getnetworkinfo` answers with the `-uacomment`;
 * `-networkactive`, `-onlynet`, `-proxy` and `-maxuploadtarget` show in
 * `getnetworkinfo` and `getnettotals`; `-blockversion` is the mined
 * blocks' version; `-blockmaxweight` bounds them; `-stopatheight` stops
 * the node cleanly once a block at that height is connected; `-dbbatchsize`
 * and `-blockreconstructionextratxn` are taken, their help (Core's) saying
 * why they change nothing.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../assert.ts";
import { tempDir } from "../../helpers.ts";
import { hex } from "@scure/base";
import { encodeTx, scriptToAddress } from "../../../components/node/chain/mod.ts";
import { signTx, TestKey } from "./chain/chain_helpers.ts";
import { dataGrants, runOnce } from "./node_process.ts";
import { coinbaseUtxo, NODE_MAIN, startRealNode } from "./real_node.ts";

const ADDRESS = scriptToAddress(new TestKey(31).wpkh)!;

Deno.test("core options: a typical regtest bitcoin.conf starts the node, getnetworkinfo shows -uacomment", async () => {
  using datadir = tempDir("capdeno-coreopt-");
  Deno.writeTextFileSync(
    join(datadir.path, "bitcoin.conf"),
    "regtest=1\nserver=1\nlisten=0\ndnsseed=0\ndbcache=100\nmaxconnections=10\nfixedseeds=0\n" +
      "discover=0\nnatpmp=0\nuacomment=me\n[regtest]\nconnect=0\nport=18444\naddnode=127.0.0.1\n",
  );
  await using node = await startRealNode({ datadir: datadir.path });
  const info = await node.call("getnetworkinfo");
  assertEquals(info.subversion, "/capdeno:0.1.0(me)/");
  assertEquals(info.networkactive, true);
  assertEquals(info.connections, 0);
  const added = await node.call("getaddednodeinfo");
  assertEquals(added.map((a: { addednode: string }) => a.addednode), ["127.0.0.1"]);
  assertEquals(await node.stop(), 0);
  const log = Deno.readTextFileSync(join(datadir.path, "regtest", "debug.log"));
  assert(!log.includes("Ignoring unknown configuration value"), "every setting is known");
});

Deno.test("core options: -blockversion is the mined blocks' version; the network options show in getnetworkinfo and getnettotals", async () => {
  await using node = await startRealNode({
    args: [
      "-blockversion=536870913",
      "-networkactive=0",
      "-maxuploadtarget=1G",
      "-proxy=127.0.0.1:9050",
      "-onlynet=onion",
    ],
  });
  const [hash] = await node.call("generatetoaddress", [1, ADDRESS]);
  assertEquals((await node.call("getblockheader", [hash])).version, 536870913);
  assertEquals((await node.call("getblocktemplate", [{ rules: ["segwit"] }])).version, 536870913);
  const info = await node.call("getnetworkinfo");
  assertEquals(info.networkactive, false);
  assertEquals(
    info.networks.map((n: { name: string; reachable: boolean; proxy: string }) => [
      n.name,
      n.reachable,
      n.proxy,
    ]),
    [
      ["ipv4", false, "127.0.0.1:9050"],
      ["ipv6", false, "127.0.0.1:9050"],
      ["onion", true, "127.0.0.1:9050"],
      ["i2p", false, ""],
      ["cjdns", false, "127.0.0.1:9050"],
    ],
  );
  const { uploadtarget } = await node.call("getnettotals");
  assertEquals(uploadtarget.target, 1024 ** 3);
  assertEquals(uploadtarget.bytes_left_in_cycle, 1024 ** 3);
  assertEquals(uploadtarget.time_left_in_cycle, 86400);
  assertEquals(uploadtarget.serve_historical_blocks, true);
  assertEquals(await node.stop(), 0);
});

Deno.test("core options: -stopatheight stops the node cleanly once that height is connected, a generate call ending there", async () => {
  await using node = await startRealNode({ args: ["-stopatheight=3"] });
  await node.call("generatetoaddress", [2, ADDRESS]);
  assertEquals(await node.call("getblockcount"), 2);
  // Asked for more, it mines up to the stop height and no further, as Core's generateBlocks.
  const hashes = await node.call("generatetoaddress", [10, ADDRESS]).catch(() => null);
  assert(hashes === null || hashes.length === 1, JSON.stringify(hashes));
  const { code } = await node.child.status;
  assertEquals(code, 0);
  const log = Deno.readTextFileSync(join(node.datadir, "regtest", "debug.log"));
  assert(log.includes(" height=3 "), "block 3 connected");
  assert(!log.includes(" height=4 "), "nothing past the stop height");
});

Deno.test("core options: -blockmaxweight and -blockreservedweight bound what the node's blocks take from the mempool", async () => {
  // 8500 weight units, 8000 of them reserved: one 1-in-1-out transaction (440) fits, two do not.
  await using node = await startRealNode({
    args: ["-blockmaxweight=8500", "-blockreservedweight=8000"],
  });
  const key = new TestKey(31);
  const hashes = await node.call("generatetoaddress", [102, ADDRESS]);
  for (const hash of hashes.slice(0, 2)) {
    const utxo = await coinbaseUtxo(node.call, hash, key);
    const tx = signTx([utxo], [{ script: key.wpkh, amount: utxo.amount - 10_000n }]);
    await node.call("sendrawtransaction", [hex.encode(encodeTx(tx))]);
  }
  assertEquals(
    (await node.call("getblocktemplate", [{ rules: ["segwit"] }])).transactions.length,
    1,
  );
  const [block] = await node.call("generatetoaddress", [1, ADDRESS]);
  assertEquals((await node.call("getblock", [block])).nTx, 2);
  assertEquals((await node.call("getmempoolinfo")).size, 1);
  assertEquals(await node.stop(), 0);
});

Deno.test("core options: -dbbatchsize and -blockreconstructionextratxn are taken, their help saying they change nothing here", async () => {
  await using node = await startRealNode({
    args: ["-dbbatchsize=1048576", "-blockreconstructionextratxn=10"],
  });
  assertEquals(await node.call("getblockcount"), 0);
  assertEquals(await node.stop(), 0);
  const help = async (flag: string) => {
    const argv = ["-regtest", `-datadir=${node.datadir}`, flag];
    const outcome = await runOnce(argv, dataGrants(node.datadir), { module: NODE_MAIN });
    assertEquals(outcome.code, 0, flag);
    return outcome.stdout.replace(/\s+/g, " ");
  };
  const [listed, debug] = [await help("-help"), await help("-help-debug")];
  const extraTxn =
    " -blockreconstructionextratxn=<n> Extra transactions to keep in memory for compact block reconstructions (default: 100); accepted, as this node has no peers to send it compact blocks ";
  assert(listed.includes(extraTxn) && debug.includes(extraTxn));
  assert(!listed.includes(" -dbbatchsize "), "-dbbatchsize is debug-only");
  assert(
    debug.includes(
      " -dbbatchsize Maximum database write batch size in bytes (default: 16777216); accepted, as this node writes its coins straight to SQLite, a block at a time, with no batch to size ",
    ),
  );
});

/** A v3 onion address (Core's tests use it). */
const ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion";

Deno.test("core options: -externalip fills getnetworkinfo's localaddresses as Core's AddLocal does", async () => {
  {
    await using node = await startRealNode({
      args: [
        "-port=18500",
        "-cjdnsreachable",
        "-externalip=1.2.3.4",
        "-externalip=[2001:4860::8888]:8333",
        // Given again: one point more, and the later port.
        "-externalip=1.2.3.4:1000",
        // On CJDNS when it is reachable; the other unique-local, private and loopback ones are not routable.
        "-externalip=fc00::1",
        "-externalip=fd00::1",
        "-externalip=192.168.1.1",
        "-externalip=::1",
        // A name is not resolved here: taken, not listed.
        "-externalip=node.example.com",
        // A v3 onion address is read without DNS (Core's SetTor, any case, written back in lower
        // case), listed as the onion network is reachable through the proxy; a bad checksum is a
        // name, taken and not listed.
        "-proxy=127.0.0.1:9050",
        `-externalip=${ONION.toUpperCase().replace(".ONION", ".onion")}:9735`,
        `-externalip=${ONION.replace("pg6", "pg7")}`,
      ],
    });
    assertEquals((await node.call("getnetworkinfo")).localaddresses, [
      { address: "1.2.3.4", port: 1000, score: 5 },
      { address: "2001:4860::8888", port: 8333, score: 4 },
      { address: ONION, port: 9735, score: 4 },
      { address: "fc00::1", port: 18500, score: 4 },
    ]);
    assertEquals(await node.stop(), 0);
  }
  {
    // Only reachable networks' addresses; the port is the first -bind's before -port.
    await using node = await startRealNode({
      args: [
        "-onlynet=ipv6",
        "-port=18500",
        "-bind=127.0.0.1:18600",
        "-externalip=1.2.3.4",
        "-externalip=2001:4860::1",
      ],
    });
    assertEquals((await node.call("getnetworkinfo")).localaddresses, [
      { address: "2001:4860::1", port: 18600, score: 4 },
    ]);
    assertEquals(await node.stop(), 0);
  }
  await using plain = await startRealNode();
  assertEquals((await plain.call("getnetworkinfo")).localaddresses, []);
  assertEquals(await plain.stop(), 0);
  const refused = [
    ["1.2.3.4:x"],
    ["0.0.0.0"],
    ["2001:db8::1"],
    ["node.example.com", "-dns=0"],
    [ONION.replace("pg6", "pg7"), "-dns=0"],
  ];
  for (const [address, ...more] of refused) {
    const argv = ["-regtest", `-datadir=${plain.datadir}`, `-externalip=${address}`, ...more];
    assertEquals(await runOnce(argv, dataGrants(plain.datadir), { module: NODE_MAIN }), {
      code: 1,
      stdout: "",
      stderr: `Error: Cannot resolve -externalip address: '${address}'\n`,
    }, address);
  }
});
