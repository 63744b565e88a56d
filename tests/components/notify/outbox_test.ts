/**
 * A component's outbox: events wait for a notifier (a bounded number, the
 * oldest dropped and said once), go in order, only those the component's
 * options name a command for; a failing notifier is logged and the next
 * one given takes over; shutdown waits for the notifier's answer.
 * `tests/components/node/ipc/notifier_test.ts` hands it one over IPC.
 *
 * @module
 */
import { NotifierOutbox } from "../../../components/notify/outbox.ts";
import { NO_COMMANDS } from "../../../components/notify/commands.ts";
import type { Notifier } from "../../../schemas/gen/ipc/notify.mp.ts";
import { assertEquals } from "../../assert.ts";
import { waitFor } from "../../helpers.ts";

const ALL = { startup: "s", block: "b", wallet: "w", shutdown: ["x"] };

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
  await outbox.shutdown();
  outbox.walletTransaction("a", new Uint8Array(32), new Uint8Array(32), 3);
  assertEquals(outbox.pending, 1);
  const seen: string[] = [];
  outbox.use(recorder(seen));
  await waitFor(() => seen.length === 1);
  assertEquals(seen, ["tx a 0 32 3"]);
});

Deno.test("notify outbox: a failing notifier is logged, events go on to the next one given", async () => {
  const logged: string[] = [];
  using outbox = new NotifierOutbox({ commands: ALL, log: (line) => logged.push(line) });
  outbox.use(recorder([], true));
  outbox.startup();
  await waitFor(() => logged.length === 1);
  assertEquals(logged, ["notifications: refused startup"]);
  const seen: string[] = [];
  outbox.use(recorder(seen));
  outbox.blockTip(new Uint8Array(32).fill(5));
  await outbox.shutdown();
  assertEquals(seen, ["tip 5", "shutdown"]);
});
