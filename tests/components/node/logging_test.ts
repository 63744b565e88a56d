/**
 * The node's log: Core's line format and prefixes, categories and levels,
 * the buffer before start, `debug.log` shrunk on start and capped while
 * running, and the runtime's IPC log routed in.
 *
 * @module
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import { NodeLog } from "../../../components/node/logging.ts";
import {
  type LogOutputOptions,
  parseLogSettings,
  StartupError,
} from "../../../components/node/options.ts";
import { tempDir } from "../../helpers.ts";

const AT = Date.UTC(2026, 11, 1, 22, 17, 2, 345);

/** A log writing console text to `lines`, started with `output`. */
function logTo(lines: string[], output: Partial<LogOutputOptions> = {}, caps = {}): NodeLog {
  const log = new NodeLog({ console: (text) => lines.push(text), now: () => AT, ...caps });
  log.start({
    file: null,
    console: true,
    timestamps: true,
    micros: false,
    shrinkOnStart: true,
    ...output,
  });
  return log;
}

Deno.test("logging: Core's format, [category] on debug lines, categories from -debug", () => {
  const lines: string[] = [];
  const log = logTo(lines);
  log.configure(parseLogSettings(["rpc"], [], ["ipc:trace"]));
  log.info("plain");
  log.warning("careful");
  log.error("broken");
  log.debug("rpc", "ThreadRPCServer method=getblockcount user=__cookie__");
  log.debug("ipc", "not enabled");
  log.trace("rpc", "trace needs -loglevel");
  log.info("tab\there\u0007");
  assertEquals(lines, [
    "2026-12-01T22:17:02Z plain\n",
    "2026-12-01T22:17:02Z [warning] careful\n",
    "2026-12-01T22:17:02Z [error] broken\n",
    "2026-12-01T22:17:02Z [rpc] ThreadRPCServer method=getblockcount user=__cookie__\n",
    "2026-12-01T22:17:02Z tab\\x09here\\x07\n",
  ]);
  log.configure(parseLogSettings(["ipc"], [], ["ipc:trace"]));
  lines.length = 0;
  log.trace("ipc", "dump");
  assertEquals(lines, ["2026-12-01T22:17:02Z [ipc:trace] dump\n"]);
  assertEquals([log.willLog("ipc", "debug"), log.willLog("net", "debug")], [true, false]);
});

Deno.test("logging: lines before start wait, and go nowhere if it never starts", () => {
  const lines: string[] = [];
  const log = new NodeLog({ console: (text) => lines.push(text), now: () => AT });
  log.info("early");
  assertEquals(lines, []);
  log.start({ file: null, console: true, timestamps: false, micros: false, shrinkOnStart: false });
  log.info("late");
  assertEquals(lines, ["early\n", "late\n"]);
  const never: string[] = [];
  new NodeLog({ console: (text) => never.push(text) }).error("lost");
  assertEquals(never, []);
});

Deno.test("logging: debug.log gets the lines, shrunk on start as Core does", () => {
  using temp = tempDir();
  const dir = temp.path;
  const file = `${dir}/debug.log`;
  // Over 11/10 of the kept size: the last 1000 bytes stay.
  Deno.writeTextFileSync(file, "a".repeat(500) + "b".repeat(1000));
  using log = logTo([], { file, console: false }, { keepBytes: 1000 });
  log.info("started");
  const text = Deno.readTextFileSync(file);
  assertEquals(text, `${"b".repeat(1000)}\n\n\n\n\n2026-12-01T22:17:02Z started\n`);
  // One it creates is private.
  using fresh = logTo([], { file: `${dir}/new.log`, console: false });
  fresh.info("x");
  assertEquals(Deno.statSync(`${dir}/new.log`).mode! & 0o777, 0o600);
});

Deno.test("logging: a running node caps debug.log, keeping the newest lines", () => {
  using temp = tempDir();
  const dir = temp.path;
  const file = `${dir}/debug.log`;
  using log = logTo([], { file, console: false }, { keepBytes: 2000, capBytes: 4000 });
  for (let i = 0; i < 500; i++) log.info(`line ${i} ${"x".repeat(40)}`);
  const size = Deno.statSync(file).size;
  assert(size <= 4000 + 100, `debug.log is ${size} bytes`);
  assert(Deno.readTextFileSync(file).endsWith(`line 499 ${"x".repeat(40)}\n`));
});

Deno.test("logging: -debug=ipc routes the runtime's IPC log in as [ipc] lines", () => {
  const lines: string[] = [];
  const log = logTo(lines, { timestamps: false });
  assertEquals(log.ipcLog().debug, false);
  log.ipcLog().write("Listening for IPC requests on address unix:/x");
  log.configure(parseLogSettings(["ipc"], [], []));
  const ipc = log.ipcLog();
  assertEquals([ipc.debug, ipc.trace], [true, false]);
  ipc.write("IPC server recv request  #1 Chain.getHeight$Params");
  assertEquals(lines, [
    "Listening for IPC requests on address unix:/x\n",
    "[ipc] IPC server recv request  #1 Chain.getHeight$Params\n",
  ]);
  log.configure(parseLogSettings(["ipc"], [], ["ipc:trace"]));
  assertEquals(log.ipcLog().trace, true);
});

Deno.test("logging: an unopenable debug.log is Core's startup error", () => {
  const log = new NodeLog({ console: () => {} });
  const error = assertThrows(
    () =>
      log.start({
        file: "/nonexistent-dir/debug.log",
        console: false,
        timestamps: true,
        micros: false,
        shrinkOnStart: true,
      }),
    StartupError,
  );
  assertEquals(error.message, "Could not open debug log file /nonexistent-dir/debug.log");
});
