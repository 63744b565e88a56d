/**
 * Every startup error as a real process prints it: the node entry (the
 * process shell) run with `deno run` and only read/write grants on its
 * data directory, its stderr compared byte for byte with what bitcoind
 * prints, exit status 1 and nothing on stdout; `-help` and `-version` with
 * status 0; and what a failed start leaves behind (nothing, or the empty
 * `.lock`).
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { dataGrants, type Outcome, runOnce } from "./node_process.ts";
import { tempDir, type TempPath } from "../../helpers.ts";

/** A fresh data directory with `files` in it, removed on dispose. */
function datadirWith(files: Record<string, string> = {}): TempPath {
  const datadir = tempDir("capdeno-start-");
  for (const [name, text] of Object.entries(files)) {
    Deno.writeTextFileSync(`${datadir.path}/${name}`, text);
  }
  return datadir;
}

/** Runs `argv` on `datadir` with the data directory grants only. */
function run(datadir: string, argv: string[]): Promise<Outcome> {
  return runOnce([`-datadir=${datadir}`, ...argv], dataGrants(datadir));
}

const COMBINATION =
  "Invalid combination of -regtest, -signet, -testnet, -testnet4 and -chain. Can use at most one.";
const REGTEST_ONLY = (chain: string) =>
  `This node runs only regtest, but the selected chain is ${chain}. ` +
  "Pass -regtest (or -chain=regtest, or regtest=1 in bitcoin.conf).";

Deno.test("startup: each error is bitcoind's line on stderr, exit status 1", async () => {
  using plainDir = datadirWith();
  const plain = plainDir.path;
  const table: [string, string[], string][] = [
    [
      "unknown option",
      ["-regtest", "-foo"],
      "Error parsing command line arguments: Invalid parameter -foo",
    ],
    [
      "unknown --option",
      ["-regtest", "--foo=1"],
      "Error parsing command line arguments: Invalid parameter --foo=1",
    ],
    [
      "negated -datadir",
      ["-regtest", "-nodatadir"],
      "Error parsing command line arguments: Negating of -datadir is meaningless and therefore forbidden",
    ],
    [
      "-includeconf on the command line",
      ["-regtest", "-includeconf=x.conf"],
      'Error parsing command line arguments: -includeconf cannot be used from commandline; -includeconf="x.conf"',
    ],
    ["-regtest -testnet", ["-regtest", "-testnet"], COMBINATION],
    ["-chain and -regtest", ["-chain=regtest", "-regtest"], COMBINATION],
    ["unknown chain", ["-chain=foo"], "Unknown chain foo."],
    ["no chain (main)", [], REGTEST_ONLY("main")],
    ["-testnet", ["-testnet"], REGTEST_ONLY("test")],
    ["-chain=signet", ["-chain=signet"], REGTEST_ONLY("signet")],
    [
      "stray token",
      ["-regtest", "foo"],
      "Command line contains unexpected token 'foo', see bitcoind -h for a list of options.",
    ],
    ["-rpcport=abc", ["-regtest", "-rpcport=abc"], "Invalid port specified in -rpcport: 'abc'"],
    ["-rpcport=0", ["-regtest", "-rpcport=0"], "Invalid port specified in -rpcport: '0'"],
    [
      "-rpcbind bad port",
      ["-regtest", "-rpcbind=127.0.0.1:x"],
      "Invalid port specified in -rpcbind: '127.0.0.1:x'",
    ],
    ["-debug=foo", ["-regtest", "-debug=foo"], "Unsupported logging category -debug=foo."],
    [
      "-loglevel=foo",
      ["-regtest", "-loglevel=foo"],
      "Unsupported global logging level -loglevel=foo. Valid values: info, debug, trace.",
    ],
    [
      "missing -conf",
      ["-regtest", "-conf=missing.conf"],
      `Error reading configuration file: specified config file "${plain}/missing.conf" could not be opened.`,
    ],
  ];
  // Three at a time: the machine is shared.
  for (let i = 0; i < table.length; i += 3) {
    const batch = table.slice(i, i + 3);
    const outcomes = await Promise.all(batch.map(([, argv]) => run(plain, argv)));
    batch.forEach(([what, , message], j) => {
      assertEquals(outcomes[j], { code: 1, stdout: "", stderr: `Error: ${message}\n` }, what);
    });
  }
  assertEquals([...Deno.readDirSync(plain)], [], "a refused start creates nothing");
});

Deno.test("startup: a missing -datadir is refused and nothing is created", async () => {
  using temp = tempDir();
  const parent = temp.path;
  const missing = `${parent}/missing`;
  const outcome = await runOnce(["-regtest", `-datadir=${missing}`], dataGrants(missing));
  assertEquals(outcome, {
    code: 1,
    stdout: "",
    stderr: `Error: Specified data directory "${missing}" does not exist.\n`,
  });
  assertEquals([...Deno.readDirSync(parent)], []);
  // A relative one is named as given.
  const relative = await runOnce(["-regtest", "-datadir=./nope"], dataGrants(`${parent}/nope`), {
    cwd: parent,
  });
  assertEquals(relative.stderr, 'Error: Specified data directory "./nope" does not exist.\n');
});

Deno.test("startup: bitcoin.conf errors, Core's texts", async () => {
  const cases: [string, Record<string, string>, string[], string][] = [
    [
      "top-level rpcport with regtest=1",
      { "bitcoin.conf": "regtest=1\nrpcport=18444\n" },
      [],
      "Config setting for -rpcport only applied on regtest network when in [regtest] section.\n",
    ],
    [
      "a leading dash",
      { "bitcoin.conf": "regtest=1\n-rpcport=1\n" },
      [],
      "Error reading configuration file: parse error on line 2: -rpcport=1, options in configuration file must be specified without leading -",
    ],
    [
      "a bare negation",
      { "bitcoin.conf": "regtest=1\nnoserver\n" },
      [],
      "Error reading configuration file: parse error on line 2: noserver, if you intended to specify a negated option, use noserver=1 instead",
    ],
    [
      "conf= in the file",
      { "bitcoin.conf": "conf=other.conf\n" },
      ["-regtest"],
      "Error reading configuration file: conf cannot be set in the configuration file; use includeconf= if you want to include additional config files",
    ],
    [
      "a missing include",
      { "bitcoin.conf": "[regtest]\nincludeconf=nope.conf\n" },
      ["-regtest"],
      "Error reading configuration file: Failed to include configuration file nope.conf",
    ],
  ];
  for (const [what, files, argv, message] of cases) {
    using datadir = datadirWith(files);
    const outcome = await run(datadir.path, argv);
    assertEquals(outcome, { code: 1, stdout: "", stderr: `Error: ${message}\n` }, what);
  }
});

Deno.test("startup: -conf=X beside the data directory's own bitcoin.conf, with Core's advice", async () => {
  using temp = datadirWith({ "bitcoin.conf": "regtest=1\n", "other.conf": "regtest=1\n" });
  const datadir = temp.path;
  const outcome = await run(datadir, ["-conf=other.conf"]);
  assertEquals(outcome.code, 1);
  assertEquals(
    outcome.stderr,
    `Error: Data directory "${datadir}" contains a "bitcoin.conf" file which is ignored, because ` +
      `a different configuration file "${datadir}/other.conf" from command line argument ` +
      `"-conf=other.conf" is being used instead. Possible ways to address this would be to:\n` +
      `- Delete or rename the "bitcoin.conf" file in data directory "${datadir}".\n` +
      "- Change datadir= or conf= options to specify one configuration file, not two, and use " +
      "includeconf= to include any other configuration files.\n" +
      "- Set allowignoredconf=1 option to treat this condition as a warning, not an error.\n",
  );
});

Deno.test("startup: -help, -h, -? and -version print on stdout with status 0", async () => {
  using temp = datadirWith();
  const datadir = temp.path;
  for (const flag of ["-help", "-h", "-?", "-help-debug"]) {
    const outcome = await run(datadir, [flag]);
    assertEquals([outcome.code, outcome.stderr], [0, ""], flag);
    assert(outcome.stdout.startsWith("capdeno node daemon version v0.1.0\n\n"), flag);
    assert(outcome.stdout.includes("\nOptions:\n\n  -alertnotify=<cmd>\n"), flag);
    assert(outcome.stdout.includes("\n  -regtest\n       Enter regression test mode"), flag);
  }
  const version = await run(datadir, ["-version"]);
  assertEquals([version.code, version.stderr], [0, ""]);
  assert(version.stdout.startsWith("capdeno node daemon version v0.1.0\n"));
  assertEquals([...Deno.readDirSync(datadir)], []);
});

Deno.test("startup: an unknown config key only logs; an unrecognized section warns on stderr", async () => {
  using temp = datadirWith({
    "bitcoin.conf": "regtest=1\n[regtest]\nfoo=1\n[bogus]\nserver=0\n",
  });
  const datadir = temp.path;
  // -ipcbind=tcp fails after the lock and the log: the node stops there, with status 1.
  const outcome = await run(datadir, ["-server=0", "-ipcbind=tcp:1", "-printtoconsole=0"]);
  assertEquals(outcome.code, 1);
  assertEquals(
    outcome.stderr,
    `Warning: ${datadir}/bitcoin.conf:4 Section [bogus] is not recognized.\n\n` +
      "Error: Unable to bind to IPC address 'tcp:1'. Unrecognized address 'tcp:1'\n",
  );
  const log = Deno.readTextFileSync(`${datadir}/regtest/debug.log`);
  assert(log.includes("Z Ignoring unknown configuration value regtest.foo\n"), log);
  assert(log.includes(" [error] Unable to bind to IPC address 'tcp:1'."), log);
  assert(log.includes(" Shutdown: done\n"), log);
  // A failed start after the lock removes the pid file and keeps the empty .lock.
  const left = [...Deno.readDirSync(`${datadir}/regtest`)].map((e) => e.name);
  assert(left.includes(".lock") && !left.includes("bitcoind.pid"), left.join(" "));
  assertEquals(Deno.statSync(`${datadir}/regtest/.lock`).size, 0);
});
