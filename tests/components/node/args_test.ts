/**
 * Bitcoin Core's argument model: command-line forms and negation, the
 * precedence of the command line over a config file's network section over
 * its top, the first value winning inside a file, repeatable options with
 * negations, network-only options, Core's parse errors word for word, and
 * the help layout.
 *
 * @module
 */
import { assertEquals, assertThrows } from "../../assert.ts";
import {
  Args,
  ArgsError,
  type ArgSpec,
  formatParagraph,
  normalPath,
} from "../../../components/node/args.ts";
import { atoi, interpretBool } from "../../../components/bitcoin/options.ts";

const SPECS: ArgSpec[] = [
  { name: "datadir", help: "", category: "options", noNegation: true },
  { name: "debug", help: "", category: "debug" },
  { name: "loglevel", help: "", category: "debug", needsValue: true },
  { name: "rpcport", help: "", category: "rpc", networkOnly: true },
  { name: "rpcuser", help: "", category: "rpc", sensitive: true },
  { name: "server", help: "", category: "rpc" },
  { name: "wallet", help: "", category: "wallet", networkOnly: true },
  { name: "includeconf", help: "", category: "options" },
  { name: "regtest", help: "", category: "chain" },
];

/** Args read from `argv` and `config`, for `network`. */
function argsOf(argv: string[], config = "", network = "regtest"): Args {
  const args = new Args(SPECS);
  args.parseCommandLine(argv);
  args.readConfig(config, "/d/bitcoin.conf");
  args.selectNetwork(network);
  return args;
}

Deno.test("args: -name, --name, -name=value; the last command-line value wins", () => {
  const args = argsOf(["-server", "--rpcport=1", "-rpcport=2", "-rpcuser="]);
  assertEquals(args.get("server"), "");
  assertEquals(args.getBool("server", false), true);
  assertEquals(args.get("rpcport"), "2");
  assertEquals(args.get("rpcuser"), "");
  assertEquals(args.isSet("datadir"), false);
  assertEquals(args.get("datadir"), undefined);
});

Deno.test("args: -noname and -name=0 negate, -noname=0 is a double negative", () => {
  const args = argsOf(["-noserver"]);
  assertEquals(args.isNegated("server"), true);
  assertEquals(args.get("server"), "0");
  assertEquals(args.getBool("server", true), false);
  assertEquals(argsOf(["-server=0"]).getBool("server", true), false);
  // Core's atoi: "true" reads as 0, a leading number counts.
  assertEquals(argsOf(["-server=true"]).getBool("server", true), false);
  assertEquals(argsOf(["-server=2x"]).getBool("server", false), true);
  const double = argsOf(["-noserver=0"]);
  assertEquals(double.getBool("server", false), true);
  assertEquals(double.warnings, [
    "Warning: parsed potentially confusing double-negative -server=0",
  ]);
});

Deno.test("args: Core's command-line errors, word for word", () => {
  const table: [string[], string][] = [
    [["-foo"], "Invalid parameter -foo"],
    [["--foo=1"], "Invalid parameter --foo=1"],
    [["-regtest.rpcport=1"], "Invalid parameter -regtest.rpcport=1"],
    [["-no"], "Invalid parameter -no"],
    [["-nodatadir"], "Negating of -datadir is meaningless and therefore forbidden"],
    [
      ["-loglevel"],
      "Can not set -loglevel with no value. Please specify value with -loglevel=value.",
    ],
    [
      ["-includeconf=x.conf"],
      '-includeconf cannot be used from commandline; -includeconf="x.conf"',
    ],
  ];
  for (const [argv, message] of table) {
    const error = assertThrows(() => new Args(SPECS).parseCommandLine(argv), ArgsError);
    assertEquals(error.message, message, argv.join(" "));
  }
  // -noincludeconf is allowed; options after the first bare token are not read.
  new Args(SPECS).parseCommandLine(["-noincludeconf"]);
  assertEquals(new Args(SPECS).parseCommandLine(["-server", "stray", "-foo"]), ["stray", "-foo"]);
  assertEquals(new Args(SPECS).parseCommandLine(["-server", "-", "-foo"]), []);
});

Deno.test("args: command line over [network] section over the top; the first value wins in a file", () => {
  const config = "rpcuser=top\nrpcuser=top2\nserver=0\n[regtest]\nrpcuser=net\nrpcuser=net2\n";
  assertEquals(argsOf([], config).get("rpcuser"), "net");
  assertEquals(argsOf(["-rpcuser=cli"], config).get("rpcuser"), "cli");
  assertEquals(argsOf([], "rpcuser=top\nrpcuser=top2\n").get("rpcuser"), "top");
  assertEquals(argsOf([], config).getBool("server", true), false);
  // Another network's section does not apply.
  assertEquals(argsOf([], "[test]\nrpcuser=t\n").get("rpcuser"), undefined);
});

Deno.test("args: network-only options ignore the top of the file, except a negation", () => {
  assertEquals(argsOf([], "rpcport=1\n").get("rpcport"), undefined);
  assertEquals(argsOf([], "rpcport=1\n").unsuitableSectionOnly(), ["-rpcport"]);
  assertEquals(argsOf([], "rpcport=1\n[regtest]\nrpcport=2\n").get("rpcport"), "2");
  assertEquals(argsOf([], "rpcport=1\n[regtest]\nrpcport=2\n").unsuitableSectionOnly(), []);
  assertEquals(argsOf(["-rpcport=3"], "rpcport=1\n").unsuitableSectionOnly(), []);
  assertEquals(argsOf([], "norpcport=1\n").isNegated("rpcport"), true);
  // On main the top of the file applies to everything.
  assertEquals(argsOf([], "rpcport=1\n", "main").get("rpcport"), "1");
  assertEquals(argsOf([], "wallet=a\nrpcport=1\n").unsuitableSectionOnly(), [
    "-rpcport",
    "-wallet",
  ]);
});

Deno.test("args: repeatable options, negations and config values brought back", () => {
  assertEquals(argsOf(["-debug=rpc", "-debug=ipc"]).getAll("debug"), ["rpc", "ipc"]);
  assertEquals(argsOf(["-debug=rpc", "-nodebug", "-debug=ipc"]).getAll("debug"), ["ipc"]);
  assertEquals(argsOf(["-nodebug"], "debug=net\n").getAll("debug"), []);
  assertEquals(argsOf(["-debug=rpc"], "debug=net\n[regtest]\ndebug=tor\n").getAll("debug"), [
    "rpc",
    "tor",
    "net",
  ]);
  // A negation followed by a value on the command line revives the file's values.
  assertEquals(argsOf(["-nodebug", "-debug=ipc"], "debug=net\n").getAll("debug"), ["ipc", "net"]);
  assertEquals(argsOf([], "wallet=a\n[regtest]\nwallet=b\nwallet=c\n").getAll("wallet"), [
    "b",
    "c",
  ]);
});

Deno.test("args: chain flags read the top of the file, last value, negations skipped", () => {
  assertEquals(argsOf([], "regtest=1\n", "").chainFlag("regtest"), true);
  assertEquals(argsOf([], "regtest=0\nregtest=1\n", "").chainFlag("regtest"), true);
  assertEquals(argsOf([], "[regtest]\nregtest=1\n", "").chainFlag("regtest"), false);
  assertEquals(argsOf(["-noregtest"], "regtest=1\n", "").chainFlag("regtest"), true);
});

Deno.test("args: Core's config-file errors, word for word; unknown keys only warn", () => {
  const table: [string, string][] = [
    [
      "server=1\n-rpcport=1\n",
      "parse error on line 2: -rpcport=1, options in configuration file must be specified without leading -",
    ],
    [
      "\n\nnoserver\n",
      "parse error on line 3: noserver, if you intended to specify a negated option, use noserver=1 instead",
    ],
    ["junk\n", "parse error on line 1: junk"],
    [
      "rpcpassword=a#b\n",
      "parse error on line 1, using # in rpcpassword can be ambiguous and should be avoided",
    ],
    [
      "conf=x\n",
      "conf cannot be set in the configuration file; use includeconf= if you want to include additional config files",
    ],
  ];
  for (const [text, message] of table) {
    const error = assertThrows(() => new Args(SPECS).readConfig(text, "f"), ArgsError);
    assertEquals(error.message, message, JSON.stringify(text));
  }
  const args = argsOf([], "# comment\n  server = 1  # on\nfoo=1\n[regtest]\nfoo=2\r\n");
  assertEquals(args.getBool("server", false), true);
  assertEquals(args.warnings, [
    "Ignoring unknown configuration value foo",
    "Ignoring unknown configuration value regtest.foo",
  ]);
  const sections = argsOf([], "other.server=1\n[regtest]\nserver=1\n[bogus]\nmain.server=0\n");
  assertEquals(sections.unrecognizedSections(["regtest", "main"]), [
    { name: "other", file: "/d/bitcoin.conf", line: 1 },
    { name: "bogus", file: "/d/bitcoin.conf", line: 4 },
    { name: "bogus.main", file: "/d/bitcoin.conf", line: 5 },
  ]);
});

Deno.test("args: describe logs the settings, sensitive ones hidden", () => {
  const args = argsOf(["-rpcuser=alice", "-server"], "[regtest]\nrpcport=1\n");
  assertEquals(args.describe(), [
    'Config file arg: [regtest] rpcport="1"',
    "Command-line arg: rpcuser=****",
    'Command-line arg: server=""',
  ]);
});

Deno.test("args: Core's atoi, InterpretBool and path normalisation", () => {
  assertEquals([atoi("42"), atoi(" -7 "), atoi("+5"), atoi("x1"), atoi("")], [42, -7, 5, 0, 0]);
  assertEquals(atoi("99999999999999999999"), Number(2n ** 63n - 1n));
  assertEquals([interpretBool(""), interpretBool("0"), interpretBool("1"), interpretBool("no")], [
    true,
    false,
    true,
    false,
  ]);
  assertEquals(normalPath("a/./b/../c/"), "a/c");
  assertEquals(normalPath("../x"), "../x");
  assertEquals(normalPath("/../x//"), "/x");
  assertEquals(normalPath("./"), ".");
});

Deno.test("args: help in Core's layout, wrapped at 79 columns, debug-only options on request", () => {
  const args = new Args([
    { name: "zeta", help: "Last.", category: "options" },
    { name: "alpha", param: "=<n>", help: "word ".repeat(30).trim(), category: "options" },
    { name: "quiet", help: "Hidden.", category: "hidden" },
    { name: "deep", help: "Debug only.", category: "rpc", debugOnly: true },
  ]);
  const help = args.helpMessage(false);
  const lines = help.split("\n");
  assertEquals(lines.slice(0, 3), ["Options:", "", "  -alpha=<n>"]);
  assertEquals(Math.max(...lines.map((line) => line.length)) <= 79, true);
  assertEquals(lines[3].startsWith("       word word"), true);
  assertEquals(lines[4].startsWith("       word"), true);
  assertEquals(help.includes("-quiet"), false);
  assertEquals(help.includes("RPC server options:\n\n"), true);
  assertEquals(help.includes("-deep"), false);
  assertEquals(args.helpMessage(true).includes("  -deep\n       Debug only.\n\n"), true);
  assertEquals(formatParagraph("short", 72, 7), "short");
  assertEquals(formatParagraph(`${"x".repeat(80)} y`, 72, 7), `${"x".repeat(80)}\n       y`);
});
