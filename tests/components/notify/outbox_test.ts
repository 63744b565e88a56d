/**
 * A component's outbox: events wait for a notifier (a bounded number, the
 * oldest dropped and said once), go in order, only those the component's
 * options name a command for; a refused event is logged and dropped; one
 * notifier only; shutdown waits for the notifier's answer, never dropped,
 * at most its bound.
 * `tests/components/node/ipc/notifier_test.ts` hands it one over IPC.
 *
 * @module
 */
import { NotifierOutbox } from "../../../components/notify/outbox.ts";
import { NO_COMMANDS } from "../../../components/notify/commands.ts";
import type { Notifier } from "../../../schemas/gen/ipc/notify.mp.ts";
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { waitFor } from "../../helpers.ts";

const ALL = { startup: "s", block: "b", wallet: "w", shutdown: ["x"], alert: "a" };

/** A notifier recording what it is told. */
function recorder(seen: string[], failing = false): Notifier {
  const record = (what: string) => {
    if (failing) throw new Error(`refused ${what}`);
    seen.push(what);
  };
  return {
    startup: () => record("startup"),
    blockTip: (hash) => record(`tip ${hash[0]}`),
    walletTransaction: (wallet, txid, block, height) =>
      record(`tx ${wallet} ${txid[0]} ${block.length} ${height}`),
    shutdown: () => record("shutdown"),
    alert: (message) => record(`alert ${message}`),
  };
}

Deno.test("notify outbox: events wait for a notifier, in order, at most its capacity (the oldest dropped, said once)", async () => {
  const logged: string[] = [];
  using outbox = new NotifierOutbox({
    commands: ALL,
    log: (line) => logged.push(line),
    capacity: 3,
  });
  outbox.startup();
  for (let i = 1; i <= 4; i++) outbox.blockTip(new Uint8Array(32).fill(i));
  assertEquals(outbox.pending, 3);
  assertEquals(logged, ["notifications: 3 events wait for a notifier; dropping the oldest"]);
  const seen: string[] = [];
  outbox.use(recorder(seen));
  await waitFor(() => outbox.pending === 0);
  outbox.walletTransaction("w", new Uint8Array(32).fill(9), null, -1);
  await outbox.shutdown();
  assertEquals(seen, ["tip 2", "tip 3", "tip 4", "tx w 9 0 -1", "shutdown"]);
});

Deno.test("notify outbox: only events the component has a command for are sent; shutdown without a notifier returns at once", async () => {
  using outbox = new NotifierOutbox({
    commands: { ...NO_COMMANDS, wallet: "w" },
    log: () => {},
  });
  outbox.startup();
  outbox.blockTip(new Uint8Array(32));
  outbox.alert("Unknown new rules activated (versionbit 27)");
  await outbox.shutdown();
  outbox.walletTransaction("a", new Uint8Array(32), new Uint8Array(32), 3);
  assertEquals(outbox.pending, 1);
  const seen: string[] = [];
  outbox.use(recorder(seen));
  await waitFor(() => seen.length === 1);
  assertEquals(seen, ["tx a 0 32 3"]);
});

Deno.test("notify outbox: with -alertnotify a warning is sent as its text", async () => {
  using outbox = new NotifierOutbox({ commands: { ...NO_COMMANDS, alert: "a %s" }, log: () => {} });
  outbox.alert("Unknown new rules activated (versionbit 27)");
  const seen: string[] = [];
  outbox.use(recorder(seen));
  await waitFor(() => seen.length === 1);
  assertEquals(seen, ["alert Unknown new rules activated (versionbit 27)"]);
});

Deno.test("notify outbox: an event the notifier refuses is logged and dropped, the next goes on; a second notifier is refused", async () => {
  const logged: string[] = [];
  using outbox = new NotifierOutbox({ commands: ALL, log: (line) => logged.push(line) });
  const seen: string[] = [];
  const notifier = recorder(seen);
  outbox.use({ ...notifier, startup: () => Promise.reject(new Error("refused startup")) });
  outbox.startup();
  outbox.blockTip(new Uint8Array(32).fill(5));
  await outbox.shutdown();
  assertEquals(logged, ["notifications: refused startup"]);
  assertEquals(seen, ["tip 5", "shutdown"]);
  assertThrows(() => outbox.use(recorder([])), Error, "a notifier was handed already");
});

Deno.test("notify outbox: the shutdown event is never dropped, a bounded wait ends, and disposing releases a waiting shutdown", async () => {
  const logged: string[] = [];
  {
    using outbox = new NotifierOutbox({
      commands: ALL,
      log: (line) => logged.push(line),
      capacity: 2,
    });
    const seen: string[] = [];
    const gate = Promise.withResolvers<void>();
    outbox.use({
      ...recorder(seen),
      blockTip: async (hash) => {
        await gate.promise;
        seen.push(`tip ${hash[0]}`);
      },
    });
    outbox.blockTip(new Uint8Array(32).fill(1)); // in flight
    const stopping = outbox.shutdown();
    for (let i = 2; i <= 4; i++) outbox.blockTip(new Uint8Array(32).fill(i));
    gate.resolve();
    await stopping;
    assert(seen.includes("shutdown"), seen.join());
  }
  {
    using outbox = new NotifierOutbox({
      commands: ALL,
      log: (line) => logged.push(line),
      shutdownWaitMs: 50,
    });
    outbox.use({ ...recorder([]), shutdown: () => new Promise<void>(() => {}) });
    await outbox.shutdown();
    assertEquals(logged.at(-1), "notifications: -shutdownnotify did not finish within 0.05 s");
  }
  const outbox = new NotifierOutbox({ commands: ALL, log: () => {} });
  outbox.use({ ...recorder([]), shutdown: () => new Promise<void>(() => {}) });
  const stopping = outbox.shutdown();
  outbox[Symbol.dispose]();
  await stopping;
});
