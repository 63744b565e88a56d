/**
 * `syncwithvalidationinterfacequeue` on a real node process: it answers
 * once every IPC subscriber has been delivered the notifications queued
 * before the call (Core's `SyncWithValidationInterfaceQueue`), here a
 * `ChainNotifications` subscriber still busy with a block when it is
 * called.
 *
 * @module
 */
import { assertEquals } from "../../../assert.ts";
import { waitFor } from "../../../helpers.ts";
import { connect, IpcLog } from "../../../../mod.ts";
import { Init } from "../../../../schemas/gen/ipc/init.mp.ts";
import type { BlockInfo, ChainNotifications } from "../../../../schemas/gen/ipc/chain.mp.ts";
import { startRealNode } from "../real_node.ts";

const ADDRESS = "bcrt1q0xcqpzrky6eff2g52qdye53xkk9jxkvrl4xfg5";

/** A subscriber that takes a block only once `open` is called. */
class GatedSubscriber implements ChainNotifications {
  readonly events: string[] = [];
  readonly #gate = Promise.withResolvers<void>();
  entered = false;

  transactionAddedToMempool(): void {}

  transactionRemovedFromMempool(): void {}

  async blockConnected(block: BlockInfo): Promise<void> {
    this.entered = true;
    await this.#gate.promise;
    this.events.push(`connected ${block.height}`);
  }

  blockDisconnected(): void {}

  updatedBlockTip(): void {}

  open(): void {
    this.#gate.resolve();
  }
}

Deno.test("syncwithvalidationinterfacequeue answers once the IPC subscribers have what was queued for them", async () => {
  await using node = await startRealNode({ args: ["-ipcbind=unix"] });
  const init = await connect(Init, `unix:${node.datadir}/regtest/node.sock`, {
    log: new IpcLog({ level: "off" }),
  });
  try {
    const chain = (await init.makeChain())!;
    const subscriber = new GatedSubscriber();
    const handler = (await chain.handleNotifications(subscriber))!;
    await node.call("generatetoaddress", [1, ADDRESS]);
    await waitFor(() => subscriber.entered, 30_000, "the block's notification");
    let synced = false;
    const sync = node.call("syncwithvalidationinterfacequeue").then((result) => {
      synced = true;
      subscriber.events.push("synced");
      return result;
    });
    // Held while the subscriber is busy (it cannot answer before: nothing here can make it).
    await new Promise((resolve) => setTimeout(resolve, 200));
    assertEquals(synced, false);
    subscriber.open();
    assertEquals(await sync, null);
    assertEquals(subscriber.events, ["connected 1", "synced"]);
    // Nothing queued: it answers at once.
    assertEquals(await node.call("syncwithvalidationinterfacequeue"), null);
    await handler.disconnect();
  } finally {
    await init[Symbol.asyncDispose]();
  }
});
