/**
 * Tip notifications as Bitcoin Core sends them, heard over IPC from a real
 * node process (`-ipcbind=unix`) driven through its JSON-RPC:
 * `ChainNotifications.updatedBlockTip` once per iteration of
 * `ActivateBestChain` that moved the tip on (Core's `UpdatedBlockTip`,
 * never for the tip `invalidateblock` leaves), the `Node` block-tip
 * callbacks for each of those and for the tip `invalidateblock` leaves
 * (the kernel's `blockTip`), and `Mining.waitTipChanged` and the RPC's
 * `waitfornewblock` woken by an `invalidateblock`.
 *
 * @module
 */
import { assertEquals } from "../../../assert.ts";
import { waitFor } from "../../../helpers.ts";
import { connect, IpcLog } from "../../../../mod.ts";
import { hashFromHex, hashToHex } from "../../../../components/node/chain/mod.ts";
import { Init } from "../../../../schemas/gen/ipc/init.mp.ts";
import type { BlockInfo, ChainNotifications } from "../../../../schemas/gen/ipc/chain.mp.ts";
import type { BlockTip, SyncState } from "../../../../schemas/gen/ipc/node.mp.ts";
import { type RealNode, startRealNode } from "../real_node.ts";

const ADDRESS = "bcrt1q0xcqpzrky6eff2g52qdye53xkk9jxkvrl4xfg5";
/** Another payee, so that a branch's blocks differ from the ones they replace. */
const OTHER_ADDRESS = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080";
const quiet = new IpcLog({ level: "off" });

/** A wallet-side subscriber writing the block events it hears as lines. */
class BlockRecorder implements ChainNotifications {
  readonly lines: string[] = [];

  transactionAddedToMempool(): void {}

  transactionRemovedFromMempool(): void {}

  blockConnected(block: BlockInfo): void {
    this.lines.push(`connected ${block.height}`);
  }

  blockDisconnected(block: BlockInfo): void {
    this.lines.push(`disconnected ${block.height}`);
  }

  updatedBlockTip(): void {
    this.lines.push("tip");
  }

  /** The lines so far, and none kept. */
  take(): string[] {
    return this.lines.splice(0);
  }
}

/** A real node with IPC, a Chain subscriber and a Node block-tip subscriber. */
async function subscribed(node: RealNode) {
  const init = await connect(Init, `unix:${node.datadir}/regtest/node.sock`, { log: quiet });
  const chain = (await init.makeChain())!;
  const recorder = new BlockRecorder();
  const chainHandler = (await chain.handleNotifications(recorder))!;
  const gui = (await init.makeNode())!;
  const tips: [SyncState, BlockTip][] = [];
  const tipHandler = (await gui.handleNotifyBlockTip((state, tip) => {
    tips.push([state, tip]);
  }))!;
  const mining = (await init.makeMining())!;
  return {
    init,
    chain,
    recorder,
    mining,
    /** Block-tip callbacks so far as `height:hash`, and none kept. */
    takeTips(): string[] {
      return tips.splice(0).map(([state, tip]) =>
        `${state} ${tip.blockHeight}:${hashToHex(tip.blockHash)}`
      );
    },
    /** Waits until `count` block-tip callbacks arrived and the chain's notifications are in. */
    async settle(count: number): Promise<void> {
      await waitFor(() => tips.length >= count, 30_000, `${count} tips`);
      await chain.waitForNotifications();
    },
    async [Symbol.asyncDispose]() {
      await tipHandler[Symbol.asyncDispose]();
      await chainHandler[Symbol.asyncDispose]();
      await mining[Symbol.asyncDispose]();
      await gui[Symbol.asyncDispose]();
      await chain[Symbol.asyncDispose]();
      await init[Symbol.asyncDispose]();
    },
  };
}

Deno.test({
  name:
    "ipc tips: updatedBlockTip once per activation iteration, none for invalidateblock; block-tip callbacks for both, as Core",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using node = await startRealNode({ args: ["-ipcbind=unix"] });
    const [a1, a2] = await node.call("generatetoaddress", [2, ADDRESS]);
    const genesis = await node.call("getblockhash", [0]);
    await using ipc = await subscribed(node);
    const { recorder } = ipc;
    const post = (height: number, hash: string) => `postInit ${height}:${hash}`;

    // Two blocks off, no other branch: Core's InvalidateBlock disconnects them and tells
    // blockTip of the tip it leaves; the activation after it moves nothing, so no
    // UpdatedBlockTip.
    await node.call("invalidateblock", [a1]);
    await ipc.settle(1);
    assertEquals(recorder.take(), ["disconnected 2", "disconnected 1"]);
    assertEquals(ipc.takeTips(), [post(0, genesis)]);

    // Both back: each block has more work than the tip before it, so each is an iteration of
    // ActivateBestChain of its own, with an UpdatedBlockTip and a blockTip each.
    await node.call("reconsiderblock", [a1]);
    await ipc.settle(2);
    assertEquals(recorder.take(), ["connected 1", "tip", "connected 2", "tip"]);
    assertEquals(ipc.takeTips(), [post(1, a1), post(2, a2)]);

    // A branch b2-b3 off a1: a2 invalidated, two blocks mined on a1 (one iteration each).
    await node.call("invalidateblock", [a2]);
    const [b2, b3] = await node.call("generatetoaddress", [2, OTHER_ADDRESS]);
    await ipc.settle(3);
    assertEquals(recorder.take(), [
      "disconnected 2",
      "connected 2",
      "tip",
      "connected 3",
      "tip",
    ]);
    assertEquals(ipc.takeTips(), [post(1, a1), post(2, b2), post(3, b3)]);
    await node.call("reconsiderblock", [a2]);

    // invalidateblock b2: the tip it leaves (a1) is told to block-tip subscribers only; then
    // the activation takes a2 back, one iteration.
    await node.call("invalidateblock", [b2]);
    await ipc.settle(2);
    assertEquals(recorder.take(), [
      "disconnected 3",
      "disconnected 2",
      "connected 2",
      "tip",
    ]);
    assertEquals(ipc.takeTips(), [post(1, a1), post(2, a2)]);

    // A reorganisation of two blocks: one step (a2 off, b2 on with no more work than a2, b3
    // on), one iteration, one UpdatedBlockTip.
    await node.call("reconsiderblock", [b2]);
    await ipc.settle(1);
    assertEquals(recorder.take(), [
      "disconnected 2",
      "connected 2",
      "connected 3",
      "tip",
    ]);
    assertEquals(ipc.takeTips(), [post(3, b3)]);
    assertEquals(await node.call("getbestblockhash"), b3);
  },
});

Deno.test({
  name:
    "ipc tips: Mining.waitTipChanged and the RPC's waitfornewblock wake on invalidateblock with the tip it leaves",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using node = await startRealNode({ args: ["-ipcbind=unix", "-debug=ipc"] });
    const [a1, a2] = await node.call("generatetoaddress", [2, ADDRESS]);
    await using ipc = await subscribed(node);
    const hour = 3_600_000;
    const woken = ipc.mining.waitTipChanged(hashFromHex(a2), hour);
    const rpcWoken = node.call("waitfornewblock", [hour]);
    // The node has both calls (the -debug=ipc line, getrpcinfo) before the chain moves.
    const debugLog = `${node.datadir}/regtest/debug.log`;
    await waitFor(
      async () =>
        Deno.readTextFileSync(debugLog).includes("Mining.waitTipChanged") &&
        (await node.call("getrpcinfo")).active_commands.some((c: { method: string }) =>
          c.method === "waitfornewblock"
        ),
      30_000,
      "the node to be waiting",
    );
    await node.call("invalidateblock", [a2]);
    const tip = await woken;
    assertEquals([tip.height, hashToHex(tip.hash)], [1, a1]);
    assertEquals(await rpcWoken, { hash: a1, height: 1 });
    // A wait on a tip already gone answers at once.
    const stale = await ipc.mining.waitTipChanged(hashFromHex(a2), hour);
    assertEquals([stale.height, hashToHex(stale.hash)], [1, a1]);
  },
});
