/**
 * The permission audit: Deno writing into the supervisor's pipe, the cap per
 * run with its count of dropped lines, lines cut short or too long, and
 * `deno task audit` reading logs far larger than its heap.
 *
 * @module
 */
import { assert, assertEquals } from "../assert.ts";
import {
  AUDIT_SUFFIX,
  captureAudit,
  formatAudit,
  GRANTS_SUFFIX,
  makeAuditPipe,
  MAX_DISTINCT,
  MAX_LINE_BYTES,
  summarizeAudit,
} from "../../sandbox/audit.ts";
import { projectRoot } from "../../sandbox/contract.ts";
import { tempDir } from "../helpers.ts";

/** A fresh FIFO and the log it is captured into, in a folder removed on dispose. */
function pipeAndLog() {
  const dir = tempDir();
  makeAuditPipe(`${dir.path}/audit.pipe`);
  return { ...dir, pipe: `${dir.path}/audit.pipe`, log: `${dir.path}/run.audit.jsonl` };
}

function logLines(log: string): { lines: string[]; trailer: Record<string, unknown> } {
  const lines = Deno.readTextFileSync(log).trimEnd().split("\n");
  return { lines: lines.slice(0, -1), trailer: JSON.parse(lines.at(-1)!) };
}

Deno.test("audit: Deno's lines are kept up to the cap, the rest counted", async () => {
  using run = pipeAndLog();
  const { pipe, log } = run;
  const cap = 8 * 1024;
  const capture = await captureAudit(pipe, log, cap);
  const checks = 2000;
  // No permission: each refused read is one audit line.
  const script = `${run.path}/flood.ts`;
  Deno.writeTextFileSync(
    script,
    `for (let i = 0; i < ${checks}; i++) try { Deno.readTextFileSync("/etc/passwd"); } catch {}`,
  );
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", script],
    env: { DENO_AUDIT_PERMISSIONS: pipe, DENO_NO_UPDATE_CHECK: "1" },
    clearEnv: true,
  }).output();
  assert(child.success);
  const tally = await capture.finish();
  const { lines, trailer } = logLines(log);
  assertEquals(trailer, { capdeno: "audit-end", ...tally, capBytes: cap });
  assertEquals(tally.kept, lines.length);
  assertEquals(tally.kept + tally.dropped, checks, "every check is kept or counted");
  assert(tally.dropped > 0);
  assert(Deno.statSync(log).size - lines.at(-1)!.length <= cap + 200, "the kept part fits the cap");
  for (const line of lines) assertEquals(JSON.parse(line).value, "/etc/passwd");
});

Deno.test("audit: a writer that never came, and lines cut short or too long", async () => {
  using never = pipeAndLog();
  const idle = await captureAudit(never.pipe, never.log);
  assertEquals(await idle.finish(), { kept: 0, dropped: 0 });

  using run = pipeAndLog();
  const { pipe, log } = run;
  const capture = await captureAudit(pipe, log);
  const writer = await Deno.open(pipe, { write: true });
  const line = (value: string) => JSON.stringify({ v: 1, permission: "read", value }) + "\n";
  const encoder = new TextEncoder();
  await writer.write(encoder.encode(line("/a")));
  await writer.write(encoder.encode(line("/" + "x".repeat(MAX_LINE_BYTES))));
  await writer.write(encoder.encode(line("/b")));
  await writer.write(encoder.encode(line("/cut").slice(0, 20))); // killed mid-line
  writer.close();
  assertEquals(await capture.finish(), { kept: 2, dropped: 2 });
  assertEquals(logLines(log).lines.map((l) => JSON.parse(l).value), ["/a", "/b"]);
});

/** Writes a run's grants and an audit log of `lines` checks outside them. */
async function writeRun(logDir: string, run: string, lines: number, distinct: number) {
  Deno.writeTextFileSync(
    `${logDir}/${run}${GRANTS_SUFFIX}`,
    JSON.stringify({ read: ["/granted"], write: [], net: [], env: [] }),
  );
  using file = await Deno.open(`${logDir}/${run}${AUDIT_SUFFIX}`, { write: true, create: true });
  const encoder = new TextEncoder();
  const batch = 10_000;
  for (let start = 0; start < lines; start += batch) {
    let text = "";
    for (let i = start; i < Math.min(lines, start + batch); i++) {
      const value = `/etc/secret-${String(i % distinct).padStart(6, "0")}`;
      text += `{"v":1,"datetime":"2026-01-01T00:00:00Z","permission":"read","value":"${value}"}\n`;
    }
    await file.write(encoder.encode(text));
  }
  await file.write(encoder.encode(`{"capdeno":"audit-end","kept":${lines},"dropped":7}\n`));
}

Deno.test("audit: `deno task audit` streams a log far larger than its heap", async () => {
  using stateDir = tempDir();
  const state = stateDir.path;
  const logDir = `${state}/logs`;
  Deno.mkdirSync(logDir);
  const lines = 1_000_000; // about 91 MB
  await writeRun(logDir, "wallet.r1", lines, 3);
  assert(Deno.statSync(`${logDir}/wallet.r1${AUDIT_SUFFIX}`).size > 80 * 1024 * 1024);
  // The task's command, with a 24 MB heap: reading the log whole does not fit (the reader
  // before this one died of "Reached heap limit" here).
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--v8-flags=--max-old-space-size=24",
      `${projectRoot()}/components/launch.ts`,
      "audit",
      `--state=${state}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(output.success, new TextDecoder().decode(output.stderr));
  assertEquals(new TextDecoder().decode(output.stdout).trimEnd().split("\n"), [
    "wallet: 1 run(s), 1000000 permission check(s) (and 7 more not logged: over the per-run cap), " +
    "3 distinct outside its grants",
    "  333334× read /etc/secret-000000",
    "  333333× read /etc/secret-000001",
    "  333333× read /etc/secret-000002",
  ]);
});

Deno.test("audit: the summary keeps the first MAX_DISTINCT attempts and counts the rest", async () => {
  using temp = tempDir();
  const logDir = temp.path;
  await writeRun(logDir, "wallet.r1", 3, 3);
  await writeRun(logDir, "wallet.r2", 3 * MAX_DISTINCT, 2 * MAX_DISTINCT);
  // Values 0–999 come twice in r2 (and 0–2 in r1 too), 1000–1999 once: past the cap whatever
  // order the runs are read in.
  const [summary] = await summarizeAudit(logDir);
  assertEquals(summary.runs, 2);
  assertEquals(summary.checks, 3 + 3 * MAX_DISTINCT);
  assertEquals(summary.dropped, 14);
  assertEquals(summary.outside.length, MAX_DISTINCT);
  assertEquals(summary.outside.slice(0, 3).map((o) => o.count), [3, 3, 3]);
  assertEquals(summary.unlisted, MAX_DISTINCT);
  assert(
    formatAudit([summary]).endsWith(
      `  ${MAX_DISTINCT}× other attempts (past the first ${MAX_DISTINCT} distinct ones)`,
    ),
  );
});
