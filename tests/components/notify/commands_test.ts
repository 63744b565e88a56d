/**
 * The notification commands run through a real `/bin/sh`: Core's
 * substitutions, its shell escaping of the wallet name, its log line for a
 * failing command, `-shutdownnotify` waited for, values checked before
 * anything runs, and the bound on commands running and waiting.
 *
 * @module
 */
import {
  CommandRunner,
  MAX_WALLET_NAME,
  NO_COMMANDS,
  notifyCommandsOf,
  sanitizeString,
  shellEscape,
} from "../../../components/notify/commands.ts";
import { Args } from "../../../components/node/args.ts";
import { NODE_OPTIONS } from "../../../components/node/options.ts";
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { tempDir } from "../../helpers.ts";

/** 32 bytes 0x00, 0x01, …, 0x1f: printed reversed, as bitcoind prints hashes. */
const HASH = Uint8Array.from({ length: 32 }, (_, i) => i);
const HASH_HEX = Array.from(HASH, (b) => b.toString(16).padStart(2, "0")).reverse().join("");
const TXID = new Uint8Array(32).fill(0xab);

Deno.test("notify: -blocknotify's %s is the block hash, every occurrence, printed as bitcoind prints it", async () => {
  using dir = tempDir("notify_");
  const logged: string[] = [];
  const runner = new CommandRunner({
    commands: { ...NO_COMMANDS, block: `echo %s-%s >> ${dir.path}/blocks` },
    log: (line) => logged.push(line),
  });
  runner.blockTip(HASH);
  await runner.idle();
  assertEquals(Deno.readTextFileSync(`${dir.path}/blocks`), `${HASH_HEX}-${HASH_HEX}\n`);
  assertEquals(logged, []);
});

Deno.test("notify: -walletnotify's %s, %b, %h and a shell-escaped %w reach the command as values", async () => {
  using dir = tempDir("notify_");
  const out = `${dir.path}/tx`;
  // Each word on its own line: a name with spaces, quotes and $(…) stays one word.
  const runner = new CommandRunner({
    commands: { ...NO_COMMANDS, wallet: `for w in %s %b %h %w; do echo "$w"; done >> ${out}` },
    log: () => {},
  });
  // `$'` and `$&` too: as replacement patterns they would have unquoted the rest of the name.
  const name = `it's "mine" $(touch ${dir.path}/pwned) %s $'$(touch ${dir.path}/pwned)" ;# $&`;
  runner.walletTransaction(name, TXID, HASH, 7);
  await runner.idle();
  runner.walletTransaction("", TXID, new Uint8Array(), -1);
  await runner.idle();
  assertEquals(Deno.readTextFileSync(out).split("\n"), [
    "ab".repeat(32),
    HASH_HEX,
    "7",
    name,
    "ab".repeat(32),
    "unconfirmed",
    "-1",
    "",
    "",
  ]);
  assertEquals([...Deno.readDirSync(dir.path)].map((entry) => entry.name), ["tx"]);
  assertEquals(shellEscape("a'b"), `'a'"'"'b'`);
});

Deno.test("notify: -alertnotify runs with Core's warning sanitized and single-quoted: an unknown version bit's once per run of the component, the invalid chain's each time it is set; other text is refused", async () => {
  using dir = tempDir("notify_");
  const out = `${dir.path}/alerts`;
  const runner = new CommandRunner({
    commands: { ...NO_COMMANDS, alert: `echo %s >> ${out}` },
    log: () => {},
  });
  runner.alert("Unknown new rules activated (versionbit 27)");
  // As Core's Warnings::Set: the warning is set once; another bit's tells nothing more.
  runner.alert("Unknown new rules activated (versionbit 3)");
  await runner.idle();
  // A new run of the component may tell it again.
  runner.rearm();
  runner.alert("Unknown new rules activated (versionbit 28)");
  await runner.idle();
  // The node unsets the invalid chain's warning as Core does: each time it is set again, it runs.
  const invalidChain =
    "Warning: We do not appear to fully agree with our peers! You may need to upgrade, or other nodes may need to upgrade.";
  runner.alert(invalidChain);
  await runner.idle();
  runner.alert(invalidChain);
  await runner.idle();
  const sanitized = invalidChain.replace("!", "");
  assertEquals(Deno.readTextFileSync(out).split("\n"), [
    "Unknown new rules activated (versionbit 27)",
    "Unknown new rules activated (versionbit 28)",
    sanitized,
    sanitized,
    "",
  ]);
  // A component cannot make the launcher's command carry words of its own.
  for (
    const text of [`it's $(touch ${dir.path}/pwned)`, "Unknown new rules activated (versionbit 29)"]
  ) {
    assertThrows(() => runner.alert(text), Error, "not a warning this node raises");
  }
  assertEquals([...Deno.readDirSync(dir.path)].map((entry) => entry.name), ["alerts"]);
  assertEquals(sanitizeString("a\tb\n'c' $(x)"), "abc (x)");
});

Deno.test("notify: a failing command is logged as bitcoind logs it, with system()'s status", async () => {
  const logged: string[] = [];
  const runner = new CommandRunner({
    commands: { ...NO_COMMANDS, startup: "exit 3" },
    log: (line) => logged.push(line),
  });
  runner.startup();
  await runner.idle();
  assertEquals(logged, ["runCommand error: system(exit 3) returned 768"]);
  const killed = new CommandRunner({
    commands: { ...NO_COMMANDS, startup: "kill -TERM $$" },
    log: (line) => logged.push(line),
  });
  killed.startup();
  await killed.idle();
  assertEquals(logged[1], "runCommand error: system(kill -TERM $$) returned 15");
  const noShell = new CommandRunner({
    commands: { ...NO_COMMANDS, startup: "true" },
    shell: "/nonexistent/sh",
    log: (line) => logged.push(line),
  });
  noShell.startup();
  await noShell.idle();
  assert(logged[2].startsWith("runCommand error: system(true) returned -1 ("), logged[2]);
});

Deno.test("notify: -shutdownnotify runs every command given at once and resolves when they have ended", async () => {
  using dir = tempDir("notify_");
  const runner = new CommandRunner({
    commands: {
      ...NO_COMMANDS,
      shutdown: [`sleep 0.3; echo a > ${dir.path}/a`, `sleep 0.3; echo b > ${dir.path}/b`],
    },
    log: () => {},
  });
  await runner.shutdown();
  assertEquals(Deno.readTextFileSync(`${dir.path}/a`), "a\n");
  assertEquals(Deno.readTextFileSync(`${dir.path}/b`), "b\n");
});

Deno.test("notify: malformed values are refused before anything runs", async () => {
  using dir = tempDir("notify_");
  const runner = new CommandRunner({
    commands: { ...NO_COMMANDS, block: `touch ${dir.path}/ran`, wallet: `touch ${dir.path}/ran` },
    log: () => {},
  });
  assertThrows(() => runner.blockTip(new Uint8Array(31)), Error, "expected 32 bytes, got 31");
  assertThrows(
    () => runner.walletTransaction("w", new Uint8Array(33), HASH, 1),
    Error,
    "walletTransaction txid: expected 32 bytes, got 33",
  );
  assertThrows(
    () => runner.walletTransaction("w", TXID, HASH, -1),
    Error,
    "height -1 does not go with a block",
  );
  assertThrows(
    () => runner.walletTransaction("w", TXID, new Uint8Array(), 5),
    Error,
    "height 5 does not go with no block",
  );
  assertThrows(
    () => runner.walletTransaction("w", TXID, new Uint8Array(5), 5),
    Error,
    "walletTransaction blockHash: expected 32 bytes, got 5",
  );
  await runner.idle();
  assertEquals([...Deno.readDirSync(dir.path)], []);
});

Deno.test("notify: a flood of events runs a bounded number of commands at once and drops past the waiting bound", async () => {
  using dir = tempDir("notify_");
  const logged: string[] = [];
  const runner = new CommandRunner({
    commands: { ...NO_COMMANDS, block: `sleep 0.2; echo %s >> ${dir.path}/blocks` },
    log: (line) => logged.push(line),
    maxRunning: 2,
    maxWaiting: 3,
  });
  for (let i = 0; i < 8; i++) runner.blockTip(new Uint8Array(32).fill(i));
  assertEquals([runner.running, runner.waiting], [2, 3]);
  await runner.idle();
  const ran = Deno.readTextFileSync(`${dir.path}/blocks`).trim().split("\n").sort();
  assertEquals(ran, [0, 1, 2, 3, 4].map((i) => i.toString(16).padStart(2, "0").repeat(32)));
  assertEquals(logged, [
    "runCommand: 3 notification commands are waiting; dropping more until they run",
  ]);
});

Deno.test("notify: the commands are read from the options as bitcoind reads them", () => {
  const args = new Args(NODE_OPTIONS);
  args.parseCommandLine([
    "-blocknotify=a %s",
    "-blocknotify=b %s",
    "-startupnotify=",
    "-shutdownnotify=x",
    "-shutdownnotify=y",
    "-walletnotify=w %s",
    "-nowalletnotify",
    "-alertnotify=echo %s",
  ]);
  assertEquals(notifyCommandsOf(args), {
    startup: null,
    block: "b %s",
    wallet: null,
    shutdown: ["x", "y"],
    alert: "echo %s",
  });
});

Deno.test("notify: -startupnotify and -shutdownnotify run once per run of the component, however often asked; rearm starts a new run", async () => {
  using dir = tempDir("notify_");
  const runner = new CommandRunner({
    commands: {
      ...NO_COMMANDS,
      startup: `echo up >> ${dir.path}/up`,
      shutdown: [`sleep 0.1; echo bye >> ${dir.path}/bye`],
    },
    log: () => {},
  });
  for (let i = 0; i < 5; i++) runner.startup();
  // A peer asking twenty times starts one set of commands, and every caller waits for it.
  await Promise.all(Array.from({ length: 20 }, () => runner.shutdown()));
  await runner.idle();
  assertEquals(Deno.readTextFileSync(`${dir.path}/up`), "up\n");
  assertEquals(Deno.readTextFileSync(`${dir.path}/bye`), "bye\n");
  runner.rearm();
  runner.startup();
  await runner.shutdown();
  await runner.idle();
  assertEquals(Deno.readTextFileSync(`${dir.path}/up`), "up\nup\n");
  assertEquals(Deno.readTextFileSync(`${dir.path}/bye`), "bye\nbye\n");
});

Deno.test("notify: a wallet name past the bound, or holding NUL, is refused", () => {
  const runner = new CommandRunner({
    commands: { ...NO_COMMANDS, wallet: "true %w" },
    log: () => {},
  });
  for (const name of ["x".repeat(MAX_WALLET_NAME + 1), "a\0b"]) {
    assertThrows(
      () => runner.walletTransaction(name, TXID, HASH, 1),
      Error,
      `at most ${MAX_WALLET_NAME} characters`,
    );
  }
  assertEquals(runner.waiting + runner.running, 0);
});
