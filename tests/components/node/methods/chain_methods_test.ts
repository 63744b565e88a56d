/**
 * The blockchain and mining methods added for regtest users, against a
 * real node process over HTTP: getblockstats (every figure of a block with
 * one spend, recomputed here from the decoded transaction), getchaintxstats,
 * getdeploymentinfo (buried heights, taproot always active, testdummy's
 * version bits state from the chain's real versions), the long polls
 * (returned after a block, at their timeout, and at shutdown),
 * verifychain (true, and false once a stored block is damaged on disk),
 * preciousblock between two equal-work tips, scantxoutset with addr(),
 * combo() and a ranged tpub descriptor, savemempool, and submitheader
 * storing a headers-only tip that its block later completes.
 *
 * @module
 */
import { hex } from "@scure/base";
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "../../../assert.ts";
import { tempDir, waitFor } from "../../../helpers.ts";
import { coinbaseUtxo, rejects, startRealNode } from "../real_node.ts";
import { signTx, TestKey } from "../chain/chain_helpers.ts";
import {
  addressToScript,
  CHAINSTATE_FILE,
  DEPLOYMENT_HEIGHTS,
  encodeTx,
  hash160,
  hashFromHex,
  scriptToAddress,
} from "../../../../components/node/chain/mod.ts";
import { readMempoolDump } from "../../../../components/node/mempool/persist.ts";

const key = new TestKey(7);
const other = new TestKey(8);
const ADDRESS = scriptToAddress(key.wpkh)!;
const OTHER = scriptToAddress(other.wpkh)!;
const TPUB =
  "tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B";

/** `GetSerializeSize(CTxOut)` + Core's `PER_UTXO_OVERHEAD` (41). */
const utxoSize = (scriptHex: string) => 8 + 1 + scriptHex.length / 2 + 41;

Deno.test("blockchain and mining methods of a regtest node", async (t) => {
  await using node = await startRealNode();
  const call = node.call;
  const blocks: string[] = await call("generatetoaddress", [101, ADDRESS]);

  let spendBlock = "";
  // deno-lint-ignore no-explicit-any
  let spend: any;
  await t.step("getblockstats: a block with a coinbase and one spend", async () => {
    const utxo = await coinbaseUtxo(call, blocks[0], key);
    const tx = signTx([utxo], [
      { script: other.wpkh, amount: 10_0000_0000n },
      { script: key.wpkh, amount: 39_9999_7000n },
    ]);
    const fee = 3000;
    const txid = await call("sendrawtransaction", [hex.encode(encodeTx(tx))]);
    spendBlock = (await call("generatetoaddress", [1, ADDRESS]))[0];
    spend = await call("getrawtransaction", [txid, 1, spendBlock]);
    const block = await call("getblock", [spendBlock, 2]);
    const coinbaseOuts = block.tx[0].vout;
    const feerate = Math.floor((fee * 4) / spend.weight);
    const sizeInc = [...coinbaseOuts, ...spend.vout]
      .reduce(
        (sum: number, out: { scriptPubKey: { hex: string } }) =>
          sum + utxoSize(out.scriptPubKey.hex),
        0,
      ) -
      utxoSize(hex.encode(key.wpkh));
    const expected = {
      avgfee: fee,
      avgfeerate: feerate,
      avgtxsize: spend.size,
      blockhash: spendBlock,
      feerate_percentiles: [feerate, feerate, feerate, feerate, feerate],
      height: 102,
      ins: 1,
      maxfee: fee,
      maxfeerate: feerate,
      maxtxsize: spend.size,
      medianfee: fee,
      mediantime: block.mediantime,
      mediantxsize: spend.size,
      minfee: fee,
      minfeerate: feerate,
      mintxsize: spend.size,
      outs: coinbaseOuts.length + 2,
      subsidy: 50_0000_0000,
      swtotal_size: spend.size,
      swtotal_weight: spend.weight,
      swtxs: 1,
      time: block.time,
      total_out: 49_9999_7000,
      total_size: spend.size,
      total_weight: spend.weight,
      totalfee: fee,
      txs: 2,
      utxo_increase: coinbaseOuts.length + 2 - 1,
      utxo_size_inc: sizeInc,
      // The witness commitment (OP_RETURN) never enters the UTXO set.
      utxo_increase_actual: 1 + 2 - 1,
      utxo_size_inc_actual: sizeInc - utxoSize(coinbaseOuts[1].scriptPubKey.hex),
    };
    assertEquals(await call("getblockstats", [spendBlock]), expected);
    assertEquals(await call("getblockstats", [102]), expected);
    assertEquals(await call("getblockstats", [102, ["minfeerate", "avgfeerate", "height"]]), {
      avgfeerate: feerate,
      height: 102,
      minfeerate: feerate,
    });
    const genesis = await call("getblockstats", [0, [
      "txs",
      "utxo_increase",
      "utxo_increase_actual",
      "subsidy",
    ]]);
    assertEquals(genesis, {
      subsidy: 50_0000_0000,
      txs: 1,
      utxo_increase: 1,
      utxo_increase_actual: 0,
    });
    await rejects(call("getblockstats", [-1]), -8, "Target block height -1 is negative");
    await rejects(
      call("getblockstats", [103]),
      -8,
      "Target block height 103 after current tip 102",
    );
    await rejects(call("getblockstats", ["ab".repeat(32)]), -5, "Block not found");
    await rejects(
      call("getblockstats", ["zz"]),
      -8,
      "hash_or_height must be of length 64 (not 2, for 'zz')",
    );
    await rejects(call("getblockstats", [1, ["nope"]]), -8, "Invalid selected statistic 'nope'");
  });

  await t.step("getchaintxstats: window over the chain's transaction counts", async () => {
    const stats = await call("getchaintxstats");
    // genesis, 101 coinbases, and the block with its spend.
    assertEquals(stats.txcount, 1 + 101 + 2);
    assertEquals(stats.window_final_block_hash, spendBlock);
    assertEquals(stats.window_final_block_height, 102);
    assertEquals(stats.window_block_count, 101);
    // Counted from block 1 (genesis and block 1 hold 2 transactions).
    assertEquals(stats.window_tx_count, 1 + 101 + 2 - 2);
    assertEquals(Object.keys(stats).slice(0, 6), [
      "time",
      "txcount",
      "window_final_block_hash",
      "window_final_block_height",
      "window_block_count",
      "window_interval",
    ]);
    assertEquals("txrate" in stats, stats.window_interval > 0);
    const empty = await call("getchaintxstats", [0]);
    assertEquals(Object.keys(empty), [
      "time",
      "txcount",
      "window_final_block_hash",
      "window_final_block_height",
      "window_block_count",
    ]);
    const atBlock = await call("getchaintxstats", { nblocks: 1, blockhash: blocks[9] });
    assertEquals([atBlock.txcount, atBlock.window_tx_count, atBlock.window_final_block_height], [
      11,
      1,
      10,
    ]);
    await rejects(
      call("getchaintxstats", [102]),
      -8,
      "Invalid block count: should be between 0 and the block's height - 1",
    );
    await rejects(call("getchaintxstats", [1, "ab".repeat(32)]), -5, "Block not found");
  });

  await t.step("getdeploymentinfo: buried heights, taproot, testdummy's version bits", async () => {
    const raw = await node.raw('{"jsonrpc":"2.0","id":1,"method":"getdeploymentinfo"}');
    const info = raw.body.result;
    assertEquals(Object.keys(info), ["hash", "height", "deployments"]);
    assertEquals([info.hash, info.height], [spendBlock, 102]);
    assertEquals(Object.keys(info.deployments), [
      "bip34",
      "bip66",
      "bip65",
      "csv",
      "segwit",
      "testdummy",
      "taproot",
    ]);
    assertEquals(info.deployments.bip34, {
      type: "buried",
      active: true,
      height: DEPLOYMENT_HEIGHTS.bip34,
    });
    assertEquals(info.deployments.segwit, { type: "buried", active: true, height: 0 });
    assertEquals(info.deployments.taproot.height, 0);
    assertEquals(info.deployments.taproot.active, true);
    assertEquals(info.deployments.taproot.bip9.status, "active");
    assertEquals(info.deployments.testdummy.active, false);
    assertEquals(info.deployments.testdummy.bip9.status, "defined");
    assert(raw.text.includes('"start_time":-1,"timeout":9223372036854775807,'), raw.text);
    const genesis = await call("getdeploymentinfo", [await call("getblockhash", [0])]);
    // Reported active from the block before the activation height.
    assertEquals(genesis.deployments.bip34.active, true);
    await call("generatetoaddress", [48, ADDRESS]);
    const started = (await call("getdeploymentinfo")).deployments.testdummy;
    assertEquals(started, {
      type: "bip9",
      active: false,
      bip9: {
        bit: 28,
        start_time: 0,
        timeout: 9223372036854776000,
        min_activation_height: 0,
        status: "started",
        since: 144,
        status_next: "started",
        // This node's blocks signal it while it is started, as Core's miner's.
        statistics: { period: 144, elapsed: 7, count: 7, threshold: 108, possible: true },
        signalling: "#######",
      },
    });
    await rejects(call("getdeploymentinfo", ["ab".repeat(32)]), -5, "Block not found");
  });

  await t.step("long polls: after a block, at the timeout", async () => {
    const tip = await call("getbestblockhash");
    const height = await call("getblockcount");
    assertEquals(await call("waitfornewblock", [50]), { hash: tip, height });
    assertEquals(await call("waitforblockheight", [height + 5, 50]), { hash: tip, height });
    assertEquals(await call("waitforblock", ["ab".repeat(32), 50]), { hash: tip, height });
    await rejects(call("waitfornewblock", [-1]), -1, "Negative timeout");
    // A wait for the tip to move from `tip` ends once a block is mined, whichever comes first.
    const newBlock = call("waitfornewblock", [0, tip]);
    const newHeight = call("waitforblockheight", [height + 1]);
    const [mined] = await call("generatetoaddress", [1, ADDRESS]);
    assertEquals(await newBlock, { hash: mined, height: height + 1 });
    assertEquals(await newHeight, { hash: mined, height: height + 1 });
    // An older current_tip returns the tip at once.
    assertEquals(await call("waitfornewblock", { current_tip: tip }), {
      hash: mined,
      height: height + 1,
    });
    // A specific block, announced before it exists.
    const block = await call("generateblock", [ADDRESS, [], false]);
    const specific = call("waitforblock", [block.hash]);
    assertEquals(await call("submitblock", [block.hex]), null);
    assertEquals(await specific, { hash: block.hash, height: height + 2 });
  });

  await t.step("verifychain re-reads the stored blocks", async () => {
    assertEquals(await call("verifychain"), true);
    assertEquals(await call("verifychain", [4, 0]), true);
    assertEquals(await call("verifychain", { checklevel: 0, nblocks: 1 }), true);
    const log = Deno.readTextFileSync(`${node.datadir}/regtest/debug.log`);
    assert(log.includes("Verifying last 6 blocks at level 3"), log);
    assert(log.includes(`Verifying last ${await call("getblockcount")} blocks at level 4`), log);
  });

  await t.step("preciousblock between two tips of equal work", async () => {
    const first = await call("generateblock", [ADDRESS, [], false]);
    const second = await call("generateblock", [OTHER, [], false]);
    assertEquals(await call("submitblock", [first.hex]), null);
    assertEquals(await call("submitblock", [second.hex]), "inconclusive");
    assertEquals(await call("getbestblockhash"), first.hash);
    assertEquals(await call("preciousblock", [second.hash]), null);
    assertEquals(await call("getbestblockhash"), second.hash);
    await rejects(call("getchaintxstats", [1, first.hash]), -8, "Block is not in main chain");
    assertEquals(await call("preciousblock", [first.hash]), null);
    assertEquals(await call("getbestblockhash"), first.hash);
    // A block with less work than the tip changes nothing.
    await call("preciousblock", [await call("getblockhash", [5])]);
    assertEquals(await call("getbestblockhash"), first.hash);
    await rejects(call("preciousblock", ["ab".repeat(32)]), -5, "Block not found");
  });

  await t.step("scantxoutset: addr(), combo() and a ranged tpub", async () => {
    assertEquals(await call("scantxoutset", ["status"]), null);
    assertEquals(await call("scantxoutset", ["abort"]), false);
    const [derived] = await call("deriveaddresses", [
      `wpkh(${TPUB}/0/*)#${(await call("getdescriptorinfo", [`wpkh(${TPUB}/0/*)`])).checksum}`,
      [3, 3],
    ]);
    const utxo = await coinbaseUtxo(call, blocks[1], key);
    const funding = signTx([utxo], [{ script: addressToScript(derived), amount: 49_9999_0000n }]);
    const fundingTxid = await call("sendrawtransaction", [hex.encode(encodeTx(funding))]);
    await call("generatetoaddress", [1, OTHER]);
    const tip = await call("getbestblockhash");
    const height = await call("getblockcount");

    const byAddress = await call("scantxoutset", ["start", [`addr(${ADDRESS})`]]);
    assertEquals(Object.keys(byAddress), [
      "success",
      "txouts",
      "height",
      "bestblock",
      "unspents",
      "total_amount",
    ]);
    assertEquals([byAddress.success, byAddress.height, byAddress.bestblock], [true, height, tip]);
    const setInfo = await call("gettxoutsetinfo", ["none"]);
    assertEquals(byAddress.txouts, setInfo.txouts);
    const sum = byAddress.unspents.reduce(
      (s: number, u: { amount: number }) => s + Math.round(u.amount * 1e8),
      0,
    );
    assertEquals(Math.round(byAddress.total_amount * 1e8), sum);
    const first = byAddress.unspents[0];
    assertEquals(Object.keys(first), [
      "txid",
      "vout",
      "scriptPubKey",
      "desc",
      "amount",
      "coinbase",
      "height",
      "blockhash",
      "confirmations",
    ]);
    assert(first.desc.startsWith(`addr(${ADDRESS})#`), first.desc);
    assertEquals(first.blockhash, await call("getblockhash", [first.height]));
    assertEquals(first.confirmations, height - first.height + 1);
    // Coins come in outpoint order (txid bytes, then index).
    const order = byAddress.unspents.map((u: { txid: string; vout: number }) =>
      hex.encode(hex.decode(u.txid).reverse()) + String(u.vout).padStart(10, "0")
    );
    assertEquals(order, [...order].sort());

    const pubkey = hex.encode(key.publicKey);
    const fingerprint = hex.encode(hash160(key.publicKey).subarray(0, 4));
    const byKey = await call("scantxoutset", ["start", [`combo(${pubkey})`]]);
    assertEquals(byKey.unspents.length, byAddress.unspents.length);
    assert(
      byKey.unspents.every((u: { desc: string }) =>
        u.desc.startsWith(`wpkh([${fingerprint}]${pubkey})#`)
      ),
    );

    const ranged = await call("scantxoutset", ["start", [{ desc: `wpkh(${TPUB}/0/*)`, range: 5 }]]);
    assertEquals(ranged.unspents.length, 1);
    assertEquals([ranged.unspents[0].txid, ranged.unspents[0].amount], [fundingTxid, 49.9999]);
    assert(ranged.unspents[0].desc.startsWith("wpkh([0c5f9a1e/0/3]"), ranged.unspents[0].desc);
    assertEquals(ranged.total_amount, 49.9999);
    const none = await call("scantxoutset", ["start", [`wpkh(${TPUB}/0/*)`]]);
    assertEquals(none.unspents.length, 1); // the default range 0–1000 includes index 3

    await rejects(
      call("scantxoutset", ["start"]),
      -1,
      "scanobjects argument is required for the start action",
    );
    await rejects(call("scantxoutset", ["nope"]), -8, "Invalid action 'nope'");
    await rejects(
      call("scantxoutset", ["start", ["pk(nope)"]]),
      -5,
      "pk(): key 'nope' is not valid",
    );
    await rejects(
      call("scantxoutset", ["start", [1]]),
      -8,
      "Scan object needs to be either a string or an object",
    );
    await rejects(
      call("scantxoutset", ["start", [{ range: 2 }]]),
      -8,
      "Descriptor needs to be provided in scan object",
    );
  });

  await t.step("savemempool writes mempool.dat", async () => {
    const utxo = await coinbaseUtxo(call, blocks[2], key);
    const tx = signTx([utxo], [{ script: other.wpkh, amount: 49_9999_0000n }]);
    await call("sendrawtransaction", [hex.encode(encodeTx(tx))]);
    const saved = await call("savemempool");
    assertEquals(saved, { filename: `${node.datadir}/regtest/mempool.dat` });
    const dump = readMempoolDump(Deno.readFileSync(saved.filename))!;
    assertEquals(dump.entries.length, (await call("getrawmempool")).length);
  });

  await t.step("submitheader: a headers-only tip its block completes", async () => {
    const block = await call("generateblock", [ADDRESS, [], false]);
    const header = block.hex.slice(0, 160);
    assertEquals(await call("submitheader", [header]), null);
    const tips = await call("getchaintips");
    assert(
      tips.some((tip: { hash: string; status: string }) =>
        tip.hash === block.hash && tip.status === "headers-only"
      ),
      JSON.stringify(tips),
    );
    assertEquals((await call("getblockheader", [block.hash])).confirmations, -1);
    assertEquals(await call("submitheader", [header]), null); // known: accepted again
    assertEquals(await call("submitblock", [block.hex]), null);
    assertEquals(await call("getbestblockhash"), block.hash);
    await rejects(call("submitheader", ["zz"]), -22, "Block header decode failed");
    await rejects(call("submitheader", ["00"]), -22, "Block header decode failed");
    const orphan = "00000020" + "ab".repeat(32) + header.slice(72);
    await rejects(
      call("submitheader", [orphan]),
      -25,
      `Must submit previous header (${"ab".repeat(32)}) first`,
    );
    const next = await call("generateblock", [ADDRESS, [], false]);
    // Mainnet's bits: far too hard for a regtest nonce.
    const hard = next.hex.slice(0, 144) + "ffff001d" + next.hex.slice(152, 160);
    await rejects(call("submitheader", [hard]), -25, "high-hash");
  });

  await t.step("long polls end at shutdown with the tip they started from", async () => {
    const tip = { hash: await call("getbestblockhash"), height: await call("getblockcount") };
    const wait = call("waitfornewblock");
    await waitFor(
      async () =>
        (await call("getrpcinfo")).active_commands.some((c: { method: string }) =>
          c.method === "waitfornewblock"
        ),
      20_000,
      "waitfornewblock running",
    );
    assertEquals(await node.stop(), 0);
    assertEquals(await wait, tip);
  });
});

Deno.test("mined blocks signal testdummy as Core's do (ComputeBlockVersion): locked in at 288, active at 432; getblocktemplate's version, vbavailable and rules follow", async () => {
  await using node = await startRealNode();
  const { call } = node;
  const template = () => call("getblocktemplate", [{ rules: ["segwit"] }]);
  const versionAt = async (height: number) =>
    (await call("getblockheader", [await call("getblockhash", [height])])).versionHex;
  // The first period: testdummy is only defined.
  await call("generatetoaddress", [143, ADDRESS]);
  assertEquals((await template()).version, 0x30000000);
  assertEquals((await template()).vbavailable, { testdummy: 28 });
  assertEquals(await versionAt(143), "20000000");
  await call("generatetoaddress", [145, ADDRESS]);
  assertEquals([await versionAt(144), await versionAt(287)], ["30000000", "30000000"]);
  const lockedIn = (await call("getdeploymentinfo")).deployments.testdummy;
  assertEquals([lockedIn.active, lockedIn.bip9.status, lockedIn.bip9.since], [
    false,
    "locked_in",
    288,
  ]);
  assertEquals((await template()).vbavailable, { testdummy: 28 });
  assertEquals((await template()).rules, ["csv", "!segwit", "taproot"]);
  await call("generatetoaddress", [144, ADDRESS]);
  assertEquals([await versionAt(431), await versionAt(432)], ["30000000", "20000000"]);
  const active = (await call("getdeploymentinfo")).deployments.testdummy;
  assertEquals([active.active, active.bip9.status, active.bip9.since], [true, "active", 432]);
  const after = await template();
  assertEquals([after.version, after.vbavailable, after.rules], [
    0x20000000,
    {},
    ["csv", "!segwit", "taproot", "testdummy"],
  ]);
  // Its own bit expected until then, the node raised no warning for it.
  assertEquals((await call("getblockchaininfo")).warnings, []);
});

Deno.test("verifychain finds a block damaged on disk", async () => {
  using temp = tempDir("node_test_");
  const datadir = temp.path;
  let damaged = "";
  {
    await using node = await startRealNode({ datadir });
    const hashes: string[] = await node.call("generatetoaddress", [10, ADDRESS]);
    damaged = hashes[8];
    assertEquals(await node.stop(), 0);
  }
  {
    using db = new DatabaseSync(`${datadir}/regtest/${CHAINSTATE_FILE}`);
    const hash = hashFromHex(damaged);
    const row = db.prepare("SELECT data FROM block_data WHERE hash = ?").get(hash) as {
      data: Uint8Array;
    };
    const data = row.data.slice();
    // A byte of the coinbase's output amount: the header stays, the merkle root no longer fits.
    data[80 + 1 + 4 + 1 + 32 + 4 + 1] ^= 0x01;
    db.prepare("UPDATE block_data SET data = ? WHERE hash = ?").run(data, hash);
  }
  await using node = await startRealNode({ datadir });
  assertEquals(await node.call("verifychain", [0, 6]), true);
  assertEquals(await node.call("verifychain"), false);
  assertEquals(await node.call("verifychain", [1, 1]), true); // only the tip
  const log = Deno.readTextFileSync(`${datadir}/regtest/debug.log`);
  assert(
    log.includes(`Verification error: found bad block at 9, hash=${damaged} (bad-txnmrklroot)`),
    log,
  );
  assertEquals(await node.stop(), 0);
  Deno.removeSync(datadir, { recursive: true });
});
