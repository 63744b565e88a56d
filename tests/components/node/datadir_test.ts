/**
 * The data directory's files in process: the directories bitcoind creates,
 * the `.lock` (exclusive, kept empty after release, refused with bitcoind's
 * text), and `bitcoind.pid` (written, removed, failures in Core's words).
 * The same lock between separate processes is in `shell_test.ts`.
 *
 * @module
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import {
  DataDirLock,
  PidFile,
  prepareDataDir,
  systemError,
} from "../../../components/node/datadir.ts";
import { StartupError } from "../../../components/node/options.ts";
import { tempDir } from "../../helpers.ts";

Deno.test("datadir: regtest/ and the wallets folders are made private, the datadir when missing", () => {
  using temp = tempDir();
  const parent = temp.path;
  const datadir = `${parent}/.bitcoin`;
  prepareDataDir({ datadir, netDir: `${datadir}/regtest` });
  for (
    const dir of [datadir, `${datadir}/wallets`, `${datadir}/regtest`, `${datadir}/regtest/wallets`]
  ) {
    assertEquals(Deno.statSync(dir).mode! & 0o077, 0, dir);
  }
  // An existing regtest/ is left as it is.
  Deno.removeSync(`${datadir}/regtest/wallets`);
  prepareDataDir({ datadir, netDir: `${datadir}/regtest` });
  assertEquals([...Deno.readDirSync(`${datadir}/regtest`)], []);
});

Deno.test("datadir: one lock per directory; released, it can be taken again; .lock stays empty", () => {
  using temp = tempDir();
  const dir = temp.path;
  {
    using _held = DataDirLock.acquire(dir);
    const error = assertThrows(() => DataDirLock.acquire(dir), StartupError);
    assertEquals(
      error.message,
      `Cannot obtain a lock on directory ${dir}. Bitcoin Core is probably already running.`,
    );
  }
  using again = DataDirLock.acquire(dir);
  assertEquals(again.dir, dir);
  assertEquals(Deno.statSync(`${dir}/.lock`).size, 0);
  const missing = `${dir}/missing`;
  assertEquals(
    assertThrows(() => DataDirLock.acquire(missing), StartupError).message,
    `Cannot write to directory '${missing}'; check permissions.`,
  );
});

Deno.test("datadir: bitcoind.pid holds the pid and a newline, and goes on remove", () => {
  using temp = tempDir();
  const dir = temp.path;
  const pid = PidFile.create(`${dir}/bitcoind.pid`);
  assertEquals(Deno.readTextFileSync(pid.path), `${Deno.pid}\n`);
  assertEquals(pid.remove(), null);
  assertEquals(
    pid.remove(),
    `Unable to remove PID file (${dir}/bitcoind.pid): File does not exist`,
  );
  const error = assertThrows(() => PidFile.create(`${dir}/no/such.pid`), StartupError);
  assertEquals(
    error.message,
    `Unable to create the PID file '${dir}/no/such.pid': No such file or directory`,
  );
  assert(
    systemError(new Error("Permission denied (os error 13): open '/x'")) === "Permission denied",
  );
});
