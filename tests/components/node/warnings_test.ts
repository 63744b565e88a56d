/**
 * Core's unknown-version-bits warnings on a real node: blocks signal bit
 * 27 (with testdummy's expected bit 28) for a period; once it is locked in
 * each UpdateTip line says so (` warning='…'`), and once it is active the
 * warning is in `getblockchaininfo`, `getmininginfo` and `getnetworkinfo`
 * (the last one as a string with `-deprecatedrpc=warnings`), kept until
 * the node stops, and `-alertnotify` runs once with it. `-rpcdoccheck`
 * holds each answer to its documented shape. A chain invalid beyond the
 * tip is warned of, and each block found invalid logged as Core's
 * `InvalidChainFound` logs it.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../assert.ts";
import { fileLines as lines, tempDir, waitFor } from "../../helpers.ts";
import { hex } from "@scure/base";
import {
  blockHash,
  blockMerkleRoot,
  decodeBlock,
  encodeBlock,
  hashToHex,
  scriptToAddress,
  solveBlock,
} from "../../../components/node/chain/mod.ts";
import { TestKey } from "./chain/chain_helpers.ts";
import { type RealNode, startRealNode } from "./real_node.ts";
import {
  ACTIVATION_HEIGHT,
  LOCK_IN_HEIGHT,
  signalUnknownBit,
  UNKNOWN_BIT_WARNING,
} from "./version_bits.ts";

const ADDRESS = scriptToAddress(new TestKey(27).wpkh)!;
/** Another payee: a block mined again at a height in the same second must differ from the one invalidated. */
const OTHER_ADDRESS = scriptToAddress(new TestKey(28).wpkh)!;

/** The `warnings` of the three methods reporting them. */
async function warningsOf(node: RealNode): Promise<unknown[]> {
  const methods = ["getblockchaininfo", "getmininginfo", "getnetworkinfo"];
  return await Promise.all(methods.map(async (method) => (await node.call(method)).warnings));
}

/** The UpdateTip line of the block at `height` in the node's log (the last one). */
function updateTipLine(datadir: string, height: number): string {
  const log = Deno.readTextFileSync(join(datadir, "regtest", "debug.log")).split("\n");
  const line = log.findLast((l) => l.includes("UpdateTip:") && l.includes(` height=${height} `));
  assert(line !== undefined, `no UpdateTip line for height ${height}`);
  return line;
}

Deno.test("node: an unknown version bit locked in is logged in UpdateTip, once active warned in the three RPCs and told to -alertnotify once; testdummy's bit raises nothing; the warning lasts until restart, then a string with -deprecatedrpc=warnings", async () => {
  using out = tempDir("alert_out_");
  using datadir = tempDir("alert_node_");
  const alerts = join(out.path, "alerts");
  {
    await using node = await startRealNode({
      datadir: datadir.path,
      args: [`-alertnotify=echo %s >> ${alerts}`, "-rpcdoccheck"],
    });
    await signalUnknownBit(node.call, ADDRESS);
    // Signalled but not yet locked in: nothing said.
    assert(!updateTipLine(datadir.path, LOCK_IN_HEIGHT - 1).includes("warning="));
    // Locked in (testdummy's bit 28, signalled by the same blocks, expected then: not named).
    assert(
      updateTipLine(datadir.path, LOCK_IN_HEIGHT).endsWith(
        ` cache=0.0MiB(0txo) warning='${UNKNOWN_BIT_WARNING}'`,
      ),
      updateTipLine(datadir.path, LOCK_IN_HEIGHT),
    );
    assertEquals(await warningsOf(node), [[], [], []]);
    await node.call("generatetoaddress", [ACTIVATION_HEIGHT - 1 - LOCK_IN_HEIGHT, ADDRESS]);
    assert(updateTipLine(datadir.path, ACTIVATION_HEIGHT - 1).endsWith(`'${UNKNOWN_BIT_WARNING}'`));
    assertEquals(await warningsOf(node), [[], [], []]);
    // Active from the next block: a warning now, no longer in the log line.
    await node.call("generatetoaddress", [1, ADDRESS]);
    assert(!updateTipLine(datadir.path, ACTIVATION_HEIGHT).includes("warning="));
    const warned = [[UNKNOWN_BIT_WARNING], [UNKNOWN_BIT_WARNING], [UNKNOWN_BIT_WARNING]];
    assertEquals(await warningsOf(node), warned);
    await waitFor(() => lines(alerts).length === 1, 20_000, "the -alertnotify run");
    // Set once: later blocks neither repeat -alertnotify nor add a warning.
    await node.call("generatetoaddress", [3, ADDRESS]);
    assertEquals(await warningsOf(node), warned);
    assertEquals(await node.stop(), 0);
    assertEquals(lines(alerts), [UNKNOWN_BIT_WARNING]);
  }
  {
    // Core keeps warnings in memory: a restarted node has none until a tip update sets it again.
    await using node = await startRealNode({
      datadir: datadir.path,
      args: ["-deprecatedrpc=warnings", "-rpcdoccheck"],
    });
    assertEquals(await warningsOf(node), ["", "", ""]);
    await node.call("generatetoaddress", [1, ADDRESS]);
    assertEquals(await warningsOf(node), [
      UNKNOWN_BIT_WARNING,
      UNKNOWN_BIT_WARNING,
      UNKNOWN_BIT_WARNING,
    ]);
  }
});

/** Core's v30 warning for a chain known invalid beyond the tip, and -alertnotify's sanitized text. */
const INVALID_CHAIN_WARNING =
  "Warning: We do not appear to fully agree with our peers! You may need to upgrade, or other nodes may need to upgrade.";
const INVALID_CHAIN_ALERT =
  "Warning: We do not appear to fully agree with our peers You may need to upgrade, or other nodes may need to upgrade.";

Deno.test("node: a chain invalidated with more than six blocks' work beyond the tip is warned of and told to -alertnotify each time it is set; the tip catching up or reconsiderblock unsets it; a restarted node warns again at its next block", async () => {
  using out = tempDir("alert_out_");
  using datadir = tempDir("invalid_chain_node_");
  const alerts = join(out.path, "alerts");
  const hashAt = (node: RealNode, height: number) => node.call("getblockhash", [height]);
  {
    await using node = await startRealNode({
      datadir: datadir.path,
      args: [`-alertnotify=echo %s >> ${alerts}`, "-rpcdoccheck"],
    });
    await node.call("generatetoaddress", [12, ADDRESS]);
    // The tip invalidated: one block beyond the new tip, no warning.
    await node.call("invalidateblock", [await hashAt(node, 12)]);
    assertEquals(await warningsOf(node), [[], [], []]);
    // Then block 4: the invalid tip (12) has nine blocks' work beyond the new one (3).
    await node.call("invalidateblock", [await hashAt(node, 4)]);
    const warned = [[INVALID_CHAIN_WARNING], [INVALID_CHAIN_WARNING], [INVALID_CHAIN_WARNING]];
    assertEquals(await warningsOf(node), warned);
    await waitFor(() => lines(alerts).length === 1, 20_000, "the -alertnotify run");
    // The tip catches up: at six blocks' work behind, not more, the warning goes.
    await node.call("generatetoaddress", [2, OTHER_ADDRESS]);
    assertEquals(await warningsOf(node), warned);
    await node.call("generatetoaddress", [1, OTHER_ADDRESS]);
    assertEquals(await warningsOf(node), [[], [], []]);
    // Set again (block 3 invalidated: the three new blocks go too), -alertnotify runs again.
    const three = await hashAt(node, 3);
    await node.call("invalidateblock", [three]);
    assertEquals(await warningsOf(node), warned);
    await waitFor(() => lines(alerts).length === 2, 20_000, "the second -alertnotify run");
    // reconsiderblock of block 3 brings the invalid chain back: no warning, no alert.
    await node.call("reconsiderblock", [three]);
    assertEquals(await node.call("getblockcount"), 12);
    assertEquals(await warningsOf(node), [[], [], []]);
    await node.call("invalidateblock", [await hashAt(node, 12)]);
    await node.call("invalidateblock", [await hashAt(node, 3)]);
    assertEquals(await warningsOf(node), warned);
    assertEquals(await node.stop(), 0);
    assertEquals(lines(alerts), [INVALID_CHAIN_ALERT, INVALID_CHAIN_ALERT, INVALID_CHAIN_ALERT]);
  }
  {
    // Kept in memory only: none after a restart until a step checks again (the block index
    // remembers the invalid chain), then set and told in this run.
    await using node = await startRealNode({
      datadir: datadir.path,
      args: [`-alertnotify=echo %s >> ${alerts}`, "-rpcdoccheck"],
    });
    assertEquals(await warningsOf(node), [[], [], []]);
    await node.call("generatetoaddress", [1, OTHER_ADDRESS]);
    assertEquals(await warningsOf(node), [
      [INVALID_CHAIN_WARNING],
      [INVALID_CHAIN_WARNING],
      [INVALID_CHAIN_WARNING],
    ]);
    await waitFor(
      () => lines(alerts).length === 4,
      20_000,
      "the restarted node's -alertnotify run",
    );
  }
});

Deno.test("node: a block found invalid, by invalidateblock or when it fails to connect (submitblock of a coinbase paying too much), is logged in Core's two InvalidChainFound lines (and ConnectTip's error)", async () => {
  using datadir = tempDir("invalid_block_log_");
  await using node = await startRealNode({ datadir: datadir.path });
  await node.call("generatetoaddress", [3, ADDRESS]);
  const [two, three] = await Promise.all(
    [2, 3].map(async (height) =>
      await node.call("getblockheader", [await node.call("getblockhash", [height])])
    ),
  );
  // Each regtest block's work is 2: a chain to height h has 2(h + 1).
  const described = ({ hash, height, time }: { hash: string; height: number; time: number }) =>
    `${hash}  height=${height}  log2_work=${Math.log2(2 * (height + 1)).toFixed(6)}  date=${
      new Date(time * 1000).toISOString().replace(/\.000Z$/, "Z")
    }`;
  const found = (invalid: string, best: string) => [
    `InvalidChainFound: invalid block=${invalid}`,
    `InvalidChainFound:  current best=${best}`,
  ];
  await node.call("invalidateblock", [three.hash]);
  await node.call("reconsiderblock", [three.hash]);
  // Block 4, its coinbase paying one satoshi more than it may: found invalid as it connects.
  const { hex: made } = await node.call("generateblock", [ADDRESS, [], false]);
  const rich = decodeBlock(hex.decode(made));
  rich.txs[0].outputs[0].amount += 1n;
  rich.header.merkleRoot = blockMerkleRoot(rich).root;
  assert(solveBlock(rich));
  assertEquals(await node.call("submitblock", [hex.encode(encodeBlock(rich))]), "bad-cb-amount");
  const four = { hash: hashToHex(blockHash(rich.header)), height: 4, time: rich.header.time };
  const logged = lines(join(datadir.path, "regtest", "debug.log"))
    .filter((line) => /(InvalidChainFound|ConnectTip): /.test(line))
    .map((line) => line.replace(/^\S+ /, ""));
  assertEquals(logged, [
    ...found(described(three), described(two)),
    // Core's ConnectTip (InvalidBlockFound, then its error), then ActivateBestChainStep (the
    // batch's top, itself).
    ...found(described(four), described(three)),
    `[error] ConnectTip: ConnectBlock ${four.hash} failed, bad-cb-amount, coinbase pays too much (actual=5000000001 vs limit=5000000000)`,
    ...found(described(four), described(three)),
  ]);
});
