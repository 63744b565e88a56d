/**
 * backupwallet and restorewallet end to end: a node and a sandboxed wallet
 * process over HTTP. A backup restored under another name is the same
 * wallet, caught up with what happened after the backup; Core's refusals
 * come with Core's codes and texts, and nothing of a refused restore
 * stays. The wallet's sandbox (read and write only its directories) is
 * said when a path lies outside it.
 */
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

Deno.test("backupwallet and restorewallet: the restored wallet is the backup's, caught up; Core's refusals", async () => {
  await using target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const wallets = `${target.walletDir}/wallets`;
  const backup = `${wallets}/w-backup.dat`;
  const refused = (code: number, message: string) => ({ error: { code, message } });

  const address = await call("getnewaddress", ["kept label"]);
  assertEquals(await call("backupwallet", [backup]), null);

  // A path outside the sandbox: Core's -4, and where to back up instead.
  const outside = await Deno.makeTempDir();
  try {
    const denied = await call("backupwallet", [`${outside}/b.dat`]);
    assertEquals(denied.error.code, -4);
    assertEquals(
      denied.error.message,
      `Error: Wallet backup failed! The wallet's sandbox does not let it write '${outside}/b.dat'; back up under '${wallets}/w'.`,
    );
    assertEquals([...Deno.readDirSync(outside)].length, 0);
    Deno.writeTextFileSync(`${outside}/b.dat`, "not read");
    assertEquals(
      await call("restorewallet", ["x", `${outside}/b.dat`]),
      refused(
        -8,
        `Backup file '${outside}/b.dat' is outside what the wallet's sandbox lets it read; keep backups under '${wallets}'`,
      ),
    );
  } finally {
    await Deno.remove(outside, { recursive: true });
  }

  // After the backup: a payment out and a block.
  const external = target.context.addresses[4];
  const paid = await call("sendtoaddress", [external, 1.5]);
  await call("generatetoaddress", [1, external]);
  const balance = await call("getbalance");
  const history = await call("listtransactions", ["*", 1000]);

  assertEquals(await call("restorewallet", ["r", backup, true]), { name: "r" });
  assertEquals(await target.node.call("listwallets"), ["w", "r"]);
  assertEquals(await call("getbalance", [], "r"), balance);
  // The same entries; when it saw each differs for what happened after the backup.
  const untimed = (entries: Record<string, unknown>[]) =>
    entries.map(({ time: _t, timereceived: _r, ...entry }) => entry);
  assertEquals(untimed(await call("listtransactions", ["*", 1000], "r")), untimed(history));
  assert(history.some((entry: { txid: string }) => entry.txid === paid), "the payment is listed");
  const info = await call("getaddressinfo", [address], "r");
  assertEquals([info.ismine, info.labels], [true, ["kept label"]]);
  const settings = JSON.parse(Deno.readTextFileSync(`${target.walletDir}/settings/settings.json`));
  assertEquals(settings.wallet, ["r"]);

  // Core's refusals, in its order: the backup first, then the destination.
  assertEquals(
    await call("restorewallet", ["r", backup]),
    refused(-36, `Failed to restore wallet. Database file exists in '${wallets}/r/wallet.dat'.`),
  );
  assertEquals(
    await call("restorewallet", ["r", `${wallets}/missing.dat`]),
    refused(-8, "Backup file does not exist"),
  );
  Deno.writeTextFileSync(`${wallets}/plain`, "a file where the wallet's folder would be");
  assertEquals(
    await call("restorewallet", ["plain", backup]),
    refused(-36, `Failed to restore wallet. Database file exists '${wallets}/plain'.`),
  );
  assertEquals(
    await call("restorewallet", ["../escape", backup]),
    refused(-4, "Wallet file verification failed. Invalid wallet name '../escape'."),
  );

  // A file that is no wallet: refused, and neither it nor a folder for it stays.
  Deno.writeTextFileSync(`${wallets}/garbage.dat`, "this is no SQLite database\n".repeat(200));
  const unrecognized = (name: string) =>
    refused(
      -18,
      `Wallet file verification failed. Failed to load database path '${wallets}/${name}'. Data is not in recognized format.`,
    );
  assertEquals(await call("restorewallet", ["g", `${wallets}/garbage.dat`]), unrecognized("g"));
  // An SQLite database that is no wallet: the same, and nothing of it stays open.
  const other = new DatabaseSync(`${wallets}/other.db`);
  other.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  other.close();
  const descriptors = () => [...Deno.readDirSync(`/proc/${target.wallet.pid}/fd`)].length;
  const before = descriptors();
  for (let i = 0; i < 10; i++) {
    assertEquals(await call("restorewallet", ["o", `${wallets}/other.db`]), unrecognized("o"));
  }
  assert(descriptors() <= before + 2, `descriptors ${before} → ${descriptors()}`);
  // loadwallet: a folder without a database, or whose wallet.dat is a folder.
  Deno.mkdirSync(`${wallets}/hollow/wallet.dat`, { recursive: true });
  assertEquals(await call("loadwallet", ["hollow"]), unrecognized("hollow"));
  Deno.mkdirSync(`${wallets}/bare`);
  assertEquals(await call("loadwallet", ["bare"]), unrecognized("bare"));
  Deno.removeSync(`${wallets}/bare`);
  assert(!existsSync(`${wallets}/g`), "the folder made for the restore is gone");
  assertEquals(await target.node.call("listwallets"), ["w", "r"]);

  // A loaded wallet's database is no backup destination (Core's is locked while loaded).
  const rBefore = Deno.readFileSync(`${wallets}/r/wallet.dat`);
  assertEquals(
    await call("backupwallet", [`${wallets}/r/wallet.dat`]),
    refused(-4, "Error: Wallet backup failed!"),
  );
  assertEquals(Deno.readFileSync(`${wallets}/r/wallet.dat`), rBefore);
  // The wallet asked for comes first, as Core's (-18).
  assertEquals(
    await call("backupwallet", [`${wallets}/r/wallet.dat`], "nosuch"),
    refused(-18, "Requested wallet does not exist or is not loaded"),
  );

  // A journal left in an existing folder is not replayed onto the backup.
  Deno.mkdirSync(`${wallets}/stale`);
  Deno.writeTextFileSync(`${wallets}/stale/wallet.dat-wal`, "a journal of no database".repeat(50));
  assertEquals(await call("restorewallet", ["stale", backup]), { name: "stale" });
  assertEquals(await call("getbalance", [], "stale"), balance);

  // An existing empty folder is used, and stays when the restore fails.
  Deno.mkdirSync(`${wallets}/empty`);
  assertEquals(
    await call("restorewallet", ["empty", `${wallets}/garbage.dat`]),
    unrecognized("empty"),
  );
  assertEquals([...Deno.readDirSync(`${wallets}/empty`)].length, 0);
  assertEquals(await call("restorewallet", ["empty", backup]), { name: "empty" });
  assertEquals(await call("getbalance", [], "empty"), balance);
  assertEquals(await target.health(), null);
});
