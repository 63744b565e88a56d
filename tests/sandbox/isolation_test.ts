/**
 * A supervisor no component can touch, with real processes: a supervisor
 * (tests/fixtures/supervisor_process.ts) started with extra descriptors
 * leaked into it and its log in a file supervises a victim and the hostile
 * component, which tries everything it can with what it owns: descriptors
 * it might have inherited, its stdout and stderr (escape sequences, a huge
 * line, a flood, non-blocking mode, chmod, truncate, close) and its stdin.
 * The supervisor must keep running and logging, its log intact, its
 * descriptors untouched, every line prefixed and sanitized, and the victim
 * served throughout.
 *
 * @module
 */
import { spawn as spawnChild } from "node:child_process";
import type { Readable } from "node:stream";
import type { Socket } from "node:net";
import { assert, assertEquals } from "../assert.ts";
import {
  descriptorFlags,
  descriptorsOf,
  inheritableDescriptors,
  sharedDescriptors,
  tempDir,
  waitFor,
} from "../helpers.ts";
import { projectRoot } from "../../sandbox/contract.ts";
import { ESCAPES, FLOOD_LINES, HUGE_LINE_BYTES } from "./hostile/abuses.ts";

/** O_NONBLOCK in the open-file flags. */
const NON_BLOCKING = 0o4000;

/** Lines of `stream`, and a way to wait for the next one. */
function lineReader(stream: Readable) {
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffered = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffered += chunk;
    for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  return {
    next: (): Promise<string> =>
      lines.length > 0
        ? Promise.resolve(lines.shift()!)
        : new Promise((resolve) => waiting.push(resolve)),
  };
}

const HEADER = "the operator's own first line, written before the supervisor started";

/**
 * Starts the supervisor under bash, which leaves it holding descriptors
 * 200 (a file) and 201 (a socket whose other end the test reads), with
 * stderr appended to `log`.
 */
function startSupervisor(log: string, secret: string) {
  // Deno's child_process adds -A after `<deno> run` unless a permission flag follows it.
  const script = 'exec 2>>"$3" 200<>"$4" 201<&3 3<&-; exec "$0" "$1" "$2" "$5"';
  const fixture = `${projectRoot()}/tests/fixtures/supervisor_process.ts`;
  const child = spawnChild("/bin/bash", [
    "-c",
    script,
    Deno.execPath(),
    "run",
    log,
    secret,
    fixture,
  ], {
    stdio: ["pipe", "pipe", "inherit", "pipe"],
  });
  const leaked = child.stdio[3] as Socket;
  const reachedLeak: Uint8Array[] = [];
  leaked.on("data", (chunk: Uint8Array) => reachedLeak.push(chunk));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal }))
  );
  const out = lineReader(child.stdout!);
  return {
    child,
    reachedLeak,
    exited,
    /** Sends one command and returns the answer line. */
    async ask(command: string): Promise<string> {
      child.stdin!.write(`${command}\n`);
      return await out.next();
    },
    next: out.next,
    async [Symbol.asyncDispose]() {
      child.stdin!.end();
      await exited;
      leaked.destroy();
    },
  };
}

Deno.test("isolation: components inherit exactly 0–3 and cannot touch the supervisor", async () => {
  using temp = tempDir("capdeno-isolation-test-");
  const dir = temp.path;
  const log = `${dir}/supervisor.log`;
  Deno.writeTextFileSync(log, `${HEADER}\n`, { mode: 0o600 });
  const secret = `${dir}/secret.txt`;
  Deno.writeTextFileSync(secret, "the operator's secret\n");
  await using supervisor = startSupervisor(log, secret);
  const ready = (await supervisor.next()).split(" ");
  const [supervisorPid, victimPid, hostilePid] = ready.slice(1, 4).map(Number);
  // It knows, so its children start behind the script that closes them.
  assertEquals(ready[4], "true");

  // The leak is real: the supervisor holds 200 and 201, not close-on-exec.
  const held = inheritableDescriptors(supervisorPid);
  assert(held.has(200) && held.has(201), `supervisor holds ${[...held.keys()]}`);
  for (const pid of [victimPid, hostilePid]) {
    const fds = descriptorsOf(pid);
    // Its stdio are pipes of its own and 3 its channel; nothing is shared with
    // what the supervisor inherited (its stdin, stdout and log included).
    assert(/^pipe:/.test(fds.get(0)!) && /^pipe:/.test(fds.get(1)!) && /^pipe:/.test(fds.get(2)!));
    assert(/^socket:/.test(fds.get(3)!), fds.get(3));
    assertEquals(
      sharedDescriptors(pid, held),
      [],
      `descriptors of pid ${pid} shared with the supervisor's parent`,
    );
  }
  const inside = await supervisor.ask("probe escape:inherited-descriptor 200,201");
  assert(inside.startsWith("OUTCOME denied "), inside);

  const flagsBefore = [1, 2].map((fd) => descriptorFlags(supervisorPid, fd));
  const text = () => Deno.readTextFileSync(log);
  /** Lines of the hostile's marked `mark` shown, and all lines it had dropped. */
  const accounted = (mark: string) => ({
    shown: text().split("\n").filter((line) => line.startsWith(`[hostile] ${mark}`)).length,
    dropped: [
      ...text().matchAll(/^\[hostile\] \[(\d+) lines dropped: more than 100 lines per second\]$/gm),
    ]
      .reduce((sum, match) => sum + Number(match[1]), 0),
  });
  const act = async (abuse: string) => {
    assert((await supervisor.ask(`probe ${abuse}`)).startsWith("OUTCOME "), abuse);
    assertEquals(await supervisor.ask("serve"), "SERVED 42", `the victim after ${abuse}`);
  };
  // Within the first burst of lines: all shown.
  await act("abuse:stdout-escapes");
  await act("abuse:stdout-huge-line");
  // Over the rate: every flood line is shown or counted as dropped.
  await act("abuse:stdout-flood");
  await waitFor(
    () => {
      const { shown, dropped } = accounted("FLOOD-MARK ");
      return shown + dropped === FLOOD_LINES;
    },
    10_000,
    "the flood to be accounted for",
  );
  const flood = accounted("FLOOD-MARK ");
  assert(flood.dropped > 0, "the flood was capped");
  for (
    const abuse of [
      "abuse:stdout-nonblocking",
      "abuse:stdout-chmod",
      "abuse:stdout-truncate",
      "abuse:stdin-raw",
    ]
  ) await act(abuse);
  // The two NONBLOCK-MARK lines are shown or (right after the flood) dropped.
  await waitFor(
    () => {
      const { shown, dropped } = accounted("NONBLOCK-MARK ");
      return shown + dropped - flood.dropped === 2;
    },
    10_000,
    "the non-blocking lines to be accounted for",
  );
  assert((await supervisor.ask("probe allowed:pid")).startsWith("OUTCOME allowed"));
  await act("abuse:stdout-close");
  assertEquals(await supervisor.ask("log after-the-abuse"), "LOGGED");

  // The supervisor still logs, its descriptors are as they were.
  await waitFor(
    () => /^\[supervisor\] after-the-abuse$/m.test(text()),
    10_000,
    "the last log line",
  );
  assertEquals([1, 2].map((fd) => descriptorFlags(supervisorPid, fd)), flagsBefore);
  assertEquals(flagsBefore.map((flags) => flags & NON_BLOCKING), [0, 0]);

  // The log: intact, the operator's mode, nothing but prefixed, sanitized lines.
  const written = text();
  assert(written.startsWith(`${HEADER}\n`), written.slice(0, 200));
  assertEquals(Deno.statSync(log).mode! & 0o777, 0o600);
  assert(!written.includes("OVERWRITTEN-MARK"));
  // deno-lint-ignore no-control-regex -- no control character may reach the log
  assertEquals(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/.exec(written), null);
  const lines = written.split("\n").slice(1, -1);
  assertEquals(lines.filter((line) => !/^\[(supervisor|victim|hostile)\] /.test(line)), []);
  assertEquals(lines.filter((line) => line.length > 1100).length, 0);
  const escapes = "[hostile] ESCAPES-MARK RED\\x07\\u202eevil\\x0dCR END";
  assertEquals(lines.filter((line) => line === escapes).length, 2, "escapes, on stdout and stderr");
  assert(ESCAPES.includes("\x1b]0;"), "the abuse did send a title change");
  const huge = lines.find((line) => line.startsWith("[hostile] HUGE-MARK x"));
  assert(huge !== undefined, "the huge line arrives, cut");
  const cut = `HUGE-MARK ${"x".repeat(HUGE_LINE_BYTES)}`.length - 1000;
  assert(huge.endsWith(`… [${cut} more characters cut]`), huge.slice(-60));

  // Nothing reached what the supervisor's parent holds.
  assertEquals(supervisor.reachedLeak.length, 0);
  assertEquals(Deno.readTextFileSync(secret), "the operator's secret\n");

  // Stopping is clean: the supervisor outlived every abuse.
  supervisor.child.stdin!.end();
  assertEquals(await supervisor.exited, { code: 0, signal: null });
});
