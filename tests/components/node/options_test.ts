/**
 * The node's options read in process: the typed result and its defaults
 * (bitcoind's), chain selection from the command line or `bitcoin.conf`,
 * the `[regtest]` section, relative paths (`-datadir` against the working
 * directory, `-conf` against the data directory, files against
 * `<datadir>/regtest`), `includeconf`, `datadir=` in the file, the RPC
 * endpoints rule, and the permission flags derived from all that.
 *
 * @module
 */
import { assert, assertEquals, assertThrows } from "../../assert.ts";
import {
  type NodeOptions,
  parseLogSettings,
  parseNodeArgs,
  splitHostPort,
  StartupError,
} from "../../../components/node/options.ts";
import { nodePermissions } from "../../../components/node/permissions.ts";
import { parseMoney } from "../../../components/bitcoin/amount.ts";
import { DEFAULT_MEMPOOL_POLICY } from "../../../components/node/mempool/policy.ts";
import { checkMempoolSize } from "../../../components/node/mempool/options.ts";
import { tempDir, type TempPath } from "../../helpers.ts";

/** A fresh data directory holding `config` as bitcoin.conf (when given), removed on dispose. */
function datadirWith(config?: string, files: Record<string, string> = {}): TempPath {
  const datadir = tempDir("capdeno-opt-");
  if (config !== undefined) Deno.writeTextFileSync(`${datadir.path}/bitcoin.conf`, config);
  for (const [name, text] of Object.entries(files)) {
    Deno.writeTextFileSync(`${datadir.path}/${name}`, text);
  }
  return datadir;
}

/** The options of `argv`, which must start a node. */
function optionsOf(argv: string[], cwd?: string): NodeOptions {
  const started = parseNodeArgs(argv, { cwd, home: () => "/nonexistent-home" });
  if (started.kind !== "run") throw new Error(`expected options, got ${started.kind}`);
  return started.options;
}

/** The StartupError message `argv` fails with. */
function errorOf(argv: string[], cwd?: string): string {
  return assertThrows(() => parseNodeArgs(argv, { cwd, home: () => "/nowhere" }), StartupError)
    .message;
}

Deno.test("options: bitcoind's defaults for regtest", () => {
  using temp = datadirWith();
  const datadir = temp.path;
  const options = optionsOf(["-regtest", `-datadir=${datadir}`]);
  const net = `${datadir}/regtest`;
  assertEquals(options.chain, "regtest");
  assertEquals(options.datadir, datadir);
  assertEquals(options.netDir, net);
  assertEquals(options.configFile, `${datadir}/bitcoin.conf`);
  assertEquals(options.configFilesRead, []);
  assertEquals(options.pidFile, `${net}/bitcoind.pid`);
  assertEquals(options.log, {
    file: `${net}/debug.log`,
    console: true,
    timestamps: true,
    micros: false,
    shrinkOnStart: true,
  });
  assertEquals(options.server, true);
  assertEquals(options.rpc, {
    port: 18443,
    endpoints: [{ host: "::1", port: 18443 }, { host: "127.0.0.1", port: 18443 }],
    allowIp: [],
    bind: [],
    user: "",
    password: "",
    rpcauth: [],
    whitelist: [],
    whitelistDefault: undefined,
    cookieFile: `${net}/.cookie`,
    cookieMode: null,
    threads: 16,
    workQueue: 64,
    serverTimeout: 30,
    docCheck: false,
    deprecated: [],
  });
  assertEquals(options.ipc, { bind: [], fd: null, connect: null, lifeline: false });
  assertEquals(
    [options.wallets, options.walletPolicy.fallbackFee, options.listen, options.txindex],
    [
      [],
      0n,
      true,
      false,
    ],
  );
  assertEquals(options.walletRefusal, null);
  assertEquals(options.banTime, 86400);
  assertEquals(options.logSettings.categories.size, 0);
});

Deno.test("options: every supported option reaches the typed result", () => {
  using temp = datadirWith();
  const datadir = temp.path;
  const options = optionsOf([
    "-chain=regtest",
    `-datadir=${datadir}`,
    "-ipcbind=unix",
    "-ipcbind=unix:other.sock",
    "-ipcfd=3",
    "-ipcconnect=unix:/run/x.sock",
    "-lifeline",
    "-rpcport=18500",
    "-rpcbind=127.0.0.1:18501",
    "-rpcbind=[::1]",
    "-rpcallowip=127.0.0.1",
    "-rpcuser=alice",
    "-rpcpassword=secret",
    "-rpcauth=carol:ab$cd",
    "-rpcauth=dave:ef$01",
    "-rpcwhitelist=carol:getblockcount",
    "-rpcwhitelistdefault=0",
    "-rpccookiefile=auth/cookie",
    "-rpccookieperms=group",
    "-rpcthreads=0",
    "-rpcworkqueue=8",
    "-rpcservertimeout=5",
    "-rpcdoccheck",
    "-server=0",
    "-debug=ipc",
    "-debug=rpc",
    "-printtoconsole=0",
    "-fallbackfee=0.0002",
    "-wallet=a",
    "-wallet=b",
    "-listen=0",
    "-bantime=60",
    "-txindex",
    "-nopid",
    "-nodebuglogfile",
  ]);
  assertEquals(options.ipc, {
    bind: ["unix", "unix:other.sock"],
    fd: 3,
    connect: "unix:/run/x.sock",
    lifeline: true,
  });
  assertEquals(
    [options.rpc.rpcauth, options.rpc.whitelist, options.rpc.whitelistDefault],
    [["carol:ab$cd", "dave:ef$01"], ["carol:getblockcount"], false],
  );
  assertEquals(options.rpc.endpoints, [
    { host: "127.0.0.1", port: 18501 },
    { host: "::1", port: 18500 },
  ]);
  assertEquals([options.rpc.user, options.rpc.password], ["alice", "secret"]);
  assertEquals(options.rpc.cookieFile, `${datadir}/regtest/auth/cookie`);
  assertEquals(options.rpc.cookieMode, 0o640);
  assertEquals([options.rpc.threads, options.rpc.workQueue, options.rpc.serverTimeout], [1, 8, 5]);
  assertEquals(options.rpc.docCheck, true);
  assertEquals([options.server, options.listen, options.txindex], [false, false, true]);
  assertEquals(options.banTime, 60);
  assertEquals([...options.logSettings.categories].sort(), ["ipc", "rpc"]);
  assertEquals(options.log.console, false);
  assertEquals(options.log.file, null);
  assertEquals(options.log.shrinkOnStart, false);
  assertEquals(options.pidFile, null);
  assertEquals(options.walletPolicy.fallbackFee, 20_000n);
  assertEquals(options.wallets, ["a", "b"]);
});

Deno.test("options: -datadir relative to the working directory, -conf relative to the datadir", () => {
  using temp = tempDir();
  const cwd = temp.path;
  Deno.mkdirSync(`${cwd}/data`);
  Deno.writeTextFileSync(`${cwd}/data/my.conf`, "[regtest]\nrpcport=18555\n");
  const options = optionsOf(["-regtest", "-datadir=./data//", "-conf=my.conf"], cwd);
  assertEquals(options.datadir, `${cwd}/data`);
  assertEquals(options.configFilesRead, [`${cwd}/data/my.conf`]);
  assertEquals(options.rpc.port, 18555);
  assert(options.notices.some((n) => n.message.startsWith("Warning: relative datadir option")));
  // Without -datadir, $HOME/.bitcoin (it need not exist; the node creates it).
  assertEquals(optionsOf(["-regtest"]).datadir, "/nonexistent-home/.bitcoin");
});

Deno.test("options: the chain from bitcoin.conf, the [regtest] section, command line first", () => {
  using temp = datadirWith(
    "regtest=1\nrpcuser=top\n[regtest]\nrpcport=18600\nrpcport=18601\nwallet=w1\n[test]\nrpcport=1\n",
  );
  const datadir = temp.path;
  const options = optionsOf([`-datadir=${datadir}`]);
  assertEquals(options.chain, "regtest");
  assertEquals(options.rpc.port, 18600);
  assertEquals(options.rpc.user, "top");
  assertEquals(options.wallets, ["w1"]);
  assertEquals(optionsOf([`-datadir=${datadir}`, "-rpcport=18700"]).rpc.port, 18700);
  assertEquals(
    options.notices.map((n) => n.message).filter((m) => m.includes("unknown")),
    [],
  );
  using unknownDir = datadirWith("regtest=1\n[regtest]\nfoo=1\n");
  const unknown = optionsOf([`-datadir=${unknownDir.path}`]);
  assert(
    unknown.notices.some((n) => n.message === "Ignoring unknown configuration value regtest.foo"),
  );
});

Deno.test("options: includeconf, datadir= in the file, -noconf, -allowignoredconf", () => {
  using otherDir = datadirWith();
  const other = otherDir.path;
  using temp = datadirWith("includeconf=extra.conf\n", {
    "extra.conf": `regtest=1\n[regtest]\nrpcport=18610\nincludeconf=nested.conf\n`,
  });
  const datadir = temp.path;
  const included = optionsOf([`-datadir=${datadir}`]);
  assertEquals(included.rpc.port, 18610);
  assertEquals(included.configFilesRead, [`${datadir}/bitcoin.conf`, `${datadir}/extra.conf`]);
  const nested = included.notices.find((n) => n.stderr !== undefined);
  assertEquals(
    nested?.stderr,
    "warning: -includeconf cannot be used from included files; ignoring -includeconf=nested.conf\n",
  );
  // datadir= in the file moves the data directory; -datadir on the command line would win.
  using movedDir = datadirWith(`datadir=${other}\n`);
  const moved = movedDir.path;
  assertEquals(optionsOf(["-regtest", `-conf=${moved}/bitcoin.conf`]).datadir, other);
  assertEquals(optionsOf(["-regtest", `-datadir=${moved}`]).datadir, moved);
  assertEquals(optionsOf(["-regtest", `-datadir=${datadir}`, "-noconf"]).rpc.port, 18443);
  using twoDir = datadirWith("[regtest]\nrpcport=1\n", { "x.conf": "[regtest]\nrpcport=18620\n" });
  const two = twoDir.path;
  const allowed = optionsOf(["-regtest", `-datadir=${two}`, "-conf=x.conf", "-allowignoredconf"]);
  assertEquals(allowed.rpc.port, 18620);
  assert(allowed.notices.some((n) => n.message.includes('contains a "bitcoin.conf" file')));
});

Deno.test("options: the startup errors' texts (Core's words)", () => {
  using temp = datadirWith();
  const datadir = temp.path;
  const d = `-datadir=${datadir}`;
  const table: [string[], string][] = [
    [["-regtest", d, "-foo"], "Error parsing command line arguments: Invalid parameter -foo"],
    [
      ["-regtest", d, "-testnet"],
      "Invalid combination of -regtest, -signet, -testnet, -testnet4 and -chain. Can use at most one.",
    ],
    [
      ["-chain=regtest", "-regtest", d],
      "Invalid combination of -regtest, -signet, -testnet, -testnet4 and -chain. Can use at most one.",
    ],
    [["-chain=foo", d], "Unknown chain foo."],
    [
      [d],
      "This node runs only regtest, but the selected chain is main. Pass -regtest (or -chain=regtest, or regtest=1 in bitcoin.conf).",
    ],
    [
      ["-signet", d],
      "This node runs only regtest, but the selected chain is signet. Pass -regtest (or -chain=regtest, or regtest=1 in bitcoin.conf).",
    ],
    [
      ["-regtest", d, "stray"],
      "Command line contains unexpected token 'stray', see bitcoind -h for a list of options.",
    ],
    [["-regtest", d, "-rpcport=abc"], "Invalid port specified in -rpcport: 'abc'"],
    [["-regtest", d, "-rpcport=0"], "Invalid port specified in -rpcport: '0'"],
    [["-regtest", d, "-rpcport=65536"], "Invalid port specified in -rpcport: '65536'"],
    [["-regtest", d, "-rpcbind=127.0.0.1:x"], "Invalid port specified in -rpcbind: '127.0.0.1:x'"],
    [["-regtest", d, "-debug=foo"], "Unsupported logging category -debug=foo."],
    [["-regtest", d, "-debugexclude=foo"], "Unsupported logging category -debugexclude=foo."],
    [["-regtest", d, "-keypool=20000"], "Invalid -keypool=20000: at most 10000 keys here"],
    [
      ["-regtest", d, "-rpccookieperms=x"],
      "Invalid -rpccookieperms=x; must be one of 'owner', 'group', or 'all'.",
    ],
    [
      ["-regtest", `-datadir=${datadir}/missing`],
      `Specified data directory "${datadir}/missing" does not exist.`,
    ],
    [
      ["-regtest", d, "-conf=missing.conf"],
      `Error reading configuration file: specified config file "${datadir}/missing.conf" could not be opened.`,
    ],
    [
      ["-regtest", d, `-conf=${datadir}`],
      `Error reading configuration file: Config file "${datadir}" is a directory.`,
    ],
  ];
  for (const [argv, message] of table) assertEquals(errorOf(argv), message, argv.join(" "));
  using includes = datadirWith("[regtest]\nincludeconf=nope.conf\n");
  assertEquals(
    errorOf(["-regtest", `-datadir=${includes.path}`]),
    "Error reading configuration file: Failed to include configuration file nope.conf",
  );
  using misplaced = datadirWith("regtest=1\nrpcport=1\nwallet=x\n");
  assertEquals(
    errorOf([`-datadir=${misplaced.path}`]),
    "Config setting for -rpcport only applied on regtest network when in [regtest] section.\n" +
      "Config setting for -wallet only applied on regtest network when in [regtest] section.\n",
  );
});

Deno.test("options: -blockfilterindex and -peerblockfilters as Core reads them", () => {
  using temp = datadirWith();
  const d = `-datadir=${temp.path}`;
  const cases: [string[], boolean][] = [
    [[], false],
    [["-blockfilterindex"], true],
    [["-blockfilterindex=1"], true],
    [["-blockfilterindex=basic"], true],
    [["-blockfilterindex=0"], false],
    [["-noblockfilterindex"], false],
    [["-blockfilterindex", "-noblockfilterindex"], false],
    [["-blockfilterindex=basic", "-peerblockfilters"], true],
  ];
  for (const [args, enabled] of cases) {
    assertEquals(optionsOf(["-regtest", d, ...args]).blockFilterIndex, enabled, args.join(" "));
  }
  assertEquals(
    errorOf(["-regtest", d, "-blockfilterindex=extended"]),
    "Unknown -blockfilterindex value extended.",
  );
  assertEquals(
    errorOf(["-regtest", d, "-blockfilterindex=basic", "-blockfilterindex=v0"]),
    "Unknown -blockfilterindex value v0.",
  );
  assertEquals(
    errorOf(["-regtest", d, "-peerblockfilters"]),
    "Cannot set -peerblockfilters without -blockfilterindex.",
  );
});

Deno.test("options: -txconfirmtarget is taken from the command line and bitcoin.conf, as bitcoind takes it", () => {
  using temp = datadirWith("[regtest]\ntxconfirmtarget=2\n");
  const d = `-datadir=${temp.path}`;
  assertEquals(optionsOf(["-regtest", d]).chain, "regtest");
  assertEquals(optionsOf(["-regtest", d, "-noconf", "-txconfirmtarget=12"]).chain, "regtest");
  assertEquals(
    errorOf(["-regtest", d, "-noconf", "-txconfirmtargets=12"]),
    "Error parsing command line arguments: Invalid parameter -txconfirmtargets=12",
  );
});

Deno.test("options: -mocktime, the node's clock held from the start, in setmocktime's range", () => {
  using temp = datadirWith();
  const d = `-datadir=${temp.path}`;
  assertEquals(optionsOf(["-regtest", d]).mockTime, 0);
  assertEquals(optionsOf(["-regtest", d, "-mocktime=1700000000"]).mockTime, 1_700_000_000);
  assertEquals(
    errorOf(["-regtest", d, "-mocktime=-1"]),
    "Mocktime must be in the range [0, 9223372036], not -1.",
  );
});

Deno.test("options: -walletdir as Core's VerifyWallets checks it", () => {
  using temp = datadirWith();
  const d = `-datadir=${temp.path}`;
  const real = Deno.realPathSync(temp.path);
  assertEquals(optionsOf(["-regtest", d]).walletDir, null);
  assertEquals(optionsOf(["-regtest", d, `-walletdir=${temp.path}/`]).walletDir, real);
  Deno.writeTextFileSync(`${temp.path}/file`, "");
  const cases: [string, string][] = [
    [`${temp.path}/missing`, "does not exist"],
    [`${temp.path}/file`, "is not a directory"],
    [".", "is a relative path"],
  ];
  for (const [dir, problem] of cases) {
    assertEquals(
      errorOf(["-regtest", d, `-walletdir=${dir}`]),
      `Specified -walletdir "${dir}" ${problem}`,
    );
  }
  // Set empty, or negated: looked for as "" (Core's GetPathArg).
  for (const arg of ["-walletdir=", "-nowalletdir"]) {
    assertEquals(errorOf(["-regtest", d, arg]), 'Specified -walletdir "" does not exist');
  }
  // Without wallets it is not looked at.
  assertEquals(
    optionsOf(["-regtest", d, "-disablewallet", `-walletdir=${temp.path}/missing`]).walletDir,
    null,
  );
});

Deno.test("options: -blocksonly and its parameter interactions, as Core's", () => {
  using temp = datadirWith();
  const d = `-datadir=${temp.path}`;
  const of = (...args: string[]) => optionsOf(["-regtest", d, ...args]);
  const plain = of();
  assertEquals(
    [plain.blocksOnly, plain.mempoolPolicy.maxMempoolBytes, plain.walletPolicy.broadcast],
    [false, 300_000_000, true],
  );
  const blocksOnly = of("-blocksonly");
  assertEquals(
    [
      blocksOnly.blocksOnly,
      blocksOnly.mempoolPolicy.maxMempoolBytes,
      blocksOnly.walletPolicy.broadcast,
    ],
    [true, 5_000_000, false],
  );
  assertEquals(
    blocksOnly.notices.map((notice) => notice.message).filter((m) => m.includes("blocksonly")),
    [
      "parameter interaction: -blocksonly=1 -> setting -whitelistrelay=0",
      "parameter interaction: -blocksonly=1 -> setting -maxmempool=5",
      "ParameterInteraction: parameter interaction: -blocksonly=1 -> setting -walletbroadcast=0",
    ],
  );
  // What the options say stands (Core's SoftSetArg).
  const given = of("-blocksonly", "-maxmempool=50", "-walletbroadcast");
  assertEquals([given.mempoolPolicy.maxMempoolBytes, given.walletPolicy.broadcast], [
    50_000_000,
    true,
  ]);
  assertEquals(
    given.notices.map((notice) => notice.message).filter((m) => m.includes("blocksonly")),
    ["parameter interaction: -blocksonly=1 -> setting -whitelistrelay=0"],
  );
  assertEquals(of("-blocksonly=0").mempoolPolicy.maxMempoolBytes, 300_000_000);
  // Without wallets, none is told not to broadcast.
  assertEquals(
    of("-blocksonly", "-disablewallet").notices.filter((n) =>
      n.message.includes("walletbroadcast")
    ),
    [],
  );
});

Deno.test("options: the mempool's relay options as bitcoind reads them", () => {
  using temp = datadirWith("[regtest]\nblockmintxfee=0.00002\n");
  const d = `-datadir=${temp.path}`;
  assertEquals(optionsOf(["-regtest", d, "-noconf"]).mempoolPolicy, DEFAULT_MEMPOOL_POLICY);
  const options = optionsOf([
    "-regtest",
    d,
    "-maxmempool=50",
    "-mempoolexpiry=2",
    "-minrelaytxfee=0.0001",
    "-incrementalrelayfee=0.00002",
    "-dustrelayfee=0.0001",
    "-datacarriersize=10",
    "-nopermitbaremultisig",
    "-acceptnonstdtxn",
    "-bytespersigop=-1",
    "-limitancestorcount=2",
    "-limitancestorsize=10",
    "-limitdescendantcount=3",
    "-limitdescendantsize=20",
    "-persistmempoolv1",
  ]);
  assertEquals(options.mempoolPolicy, {
    minRelayFeeRate: 10_000n,
    incrementalRelayFeeRate: 2_000n,
    dustRelayFeeRate: 10_000n,
    blockMinFeeRate: 2_000n,
    maxMempoolBytes: 50_000_000,
    expirySeconds: 7200,
    maxDatacarrierBytes: 10,
    permitBareMultisig: false,
    requireStandard: false,
    ancestorCount: 2,
    ancestorSizeVbytes: 10_000,
    descendantCount: 3,
    descendantSizeVbytes: 20_000,
    bytesPerSigop: 4_294_967_295, // Core's unsigned int
    persistV1Dat: true,
  });
  const deprecated = "Options '-datacarrier' or '-datacarriersize' are set but are marked as " +
    "deprecated. They will be removed in a future version.";
  assert(options.notices.some((n) => n.level === "warning" && n.message === deprecated));
  // -nodatacarrier: no OP_RETURN output at all, whatever -datacarriersize says.
  const none = optionsOf(["-regtest", d, "-nodatacarrier", "-datacarriersize=80"]);
  assertEquals(none.mempoolPolicy.maxDatacarrierBytes, 0);
  // -incrementalrelayfee alone raises -minrelaytxfee to it, and Core logs that.
  const raised = optionsOf(["-regtest", d, "-incrementalrelayfee=0.00003"]);
  assertEquals(raised.mempoolPolicy.minRelayFeeRate, 3_000n);
  assert(
    raised.notices.some((n) =>
      n.message === "Increasing minrelaytxfee to 0.00003000 BTC/kvB to match incrementalrelayfee"
    ),
  );
  assertEquals(optionsOf(["-regtest", d, "-nominrelaytxfee"]).mempoolPolicy.minRelayFeeRate, 0n);
  const table: [string[], string][] = [
    [["-minrelaytxfee=abc"], "Invalid amount for -minrelaytxfee=<amount>: 'abc'"],
    [["-incrementalrelayfee=-1"], "Invalid amount for -incrementalrelayfee=<amount>: '-1'"],
    [["-dustrelayfee=1e-5"], "Invalid amount for -dustrelayfee=<amount>: '1e-5'"],
    [["-blockmintxfee=x"], "Invalid amount for -blockmintxfee=<amount>: 'x'"],
  ];
  for (const [argv, message] of table) {
    assertEquals(errorOf(["-regtest", d, "-noconf", ...argv]), message, argv.join(" "));
  }
  // The size is checked when the mempool is made (as Core's CTxMemPool), not while reading.
  const sizes: [string[], string][] = [
    [["-maxmempool=4"], "-maxmempool must be at least 5 MB"],
    [["-maxmempool=1"], "-maxmempool must be at least 5 MB"],
    [["-maxmempool=-1"], "-maxmempool must be at least 5 MB"],
    [["-maxmempool=10", "-limitdescendantsize=300"], "-maxmempool must be at least 12 MB"],
  ];
  for (const [argv, message] of sizes) {
    const policy = optionsOf(["-regtest", d, "-noconf", ...argv]).mempoolPolicy;
    assertThrows(() => checkMempoolSize(policy), StartupError, message);
  }
});

Deno.test("options: the mempool options' help, as Core lists them", () => {
  const help = parseNodeArgs(["-help"]);
  const debug = parseNodeArgs(["-help-debug"]);
  if (help.kind !== "print" || debug.kind !== "print") throw new Error("help");
  const relay = help.text.indexOf("Node relay options:\n");
  const creation = help.text.indexOf("Block creation options:\n");
  assert(help.text.indexOf("Chain selection options:") < relay && relay < creation);
  assert(creation < help.text.indexOf("RPC server options:"));
  assert(
    help.text.includes("\n  -maxmempool=<n>\n       Keep the transaction memory pool below <n>"),
  );
  assert(help.text.includes("\n  -minrelaytxfee=<amt>\n       Fees (in BTC/kvB) smaller than"));
  assert(help.text.includes("mining and transaction creation (default: 0.000001)"));
  assert(help.text.includes("\n  -blockmintxfee=<amt>\n       Set lowest fee rate (in BTC/kvB)"));
  for (const hidden of ["-limitancestorcount", "-incrementalrelayfee", "-acceptnonstdtxn"]) {
    assert(!help.text.includes(hidden), `${hidden} is debug-only`);
    assert(debug.text.includes(`\n  ${hidden}`), hidden);
  }
});

Deno.test("options: -walletrejectlongchains, listed by -help-debug among Core's wallet debugging options", () => {
  const help = parseNodeArgs(["-help"]);
  const debug = parseNodeArgs(["-help-debug"]);
  if (help.kind !== "print" || debug.kind !== "print") throw new Error("help");
  // As Core's: the group's title is printed whether or not an option of it is listed.
  const group = "Wallet debugging/testing options:\n\n";
  assert(help.text.includes(`${group}ZeroMQ notification options:`));
  assert(!help.text.includes("-walletrejectlongchains"));
  assert(
    debug.text.includes(
      `${group}  -walletrejectlongchains\n       Wallet will not create transactions that violate mempool chain limits\n       (default: 1)\n`,
    ),
  );
  using temp = datadirWith();
  const datadir = `-datadir=${temp.path}`;
  assertEquals(optionsOf(["-regtest", datadir]).walletPolicy.rejectLongChains, true);
  for (const off of ["-walletrejectlongchains=0", "-nowalletrejectlongchains"]) {
    assertEquals(optionsOf(["-regtest", datadir, off]).walletPolicy.rejectLongChains, false, off);
  }
});

Deno.test("options: -help, -h, -? and -version print; help lists the node's options", () => {
  using temp = datadirWith();
  const datadir = temp.path;
  for (const flag of ["-help", "-h", "-?", "--help"]) {
    const started = parseNodeArgs([flag, `-datadir=${datadir}`]);
    assertEquals(started.kind, "print", flag);
  }
  const help = parseNodeArgs(["-help"]);
  if (help.kind !== "print") throw new Error("help");
  assert(help.text.startsWith("capdeno node daemon version v0.1.0\n\n"));
  for (const option of ["-regtest", "-datadir=<dir>", "-rpcport=<port>", "-ipcbind=<address>"]) {
    assert(help.text.includes(`\n  ${option}\n`), option);
  }
  assert(!help.text.includes("-rpcservertimeout"), "debug-only options need -help-debug");
  assert(!help.text.includes("-ipcfd"), "the spawn contract's options are not listed");
  const debug = parseNodeArgs(["-help-debug"]);
  assert(debug.kind === "print" && debug.text.includes("\n  -rpcservertimeout=<n>\n"));
  assert(debug.text.includes("\n  -rpcdoccheck\n       Throw a non-fatal error at runtime"));
  // bitcoind: "Bitcoin Core daemon version v30.0.0", then a paragraph wrapped at 79 columns.
  const version = parseNodeArgs(["-version"]);
  assert(version.kind === "print");
  assertEquals(
    version.text,
    "capdeno node daemon version v0.1.0\n" +
      "A regtest-only Bitcoin node for Deno; not Bitcoin Core. It speaks bitcoind's\n" +
      "command line, JSON-RPC and Bitcoin Core's IPC interfaces.\n\n" +
      "This is experimental software.\n",
  );
  assert(version.text.split("\n").every((line) => line.length <= 79));
});

Deno.test("options: log settings, money and host:port as Core reads them", () => {
  const all = parseLogSettings(["1"], ["net"], []);
  assert(all.categories.has("ipc") && !all.categories.has("net"));
  assertEquals(parseLogSettings(["ipc", "none"], [], []).categories.size, 0);
  assertEquals(parseLogSettings([], [], ["trace"]).level, "trace");
  assertThrows(
    () => parseLogSettings([], [], ["loud"]),
    StartupError,
    "Valid values: info, debug, trace.",
  );
  assertThrows(
    () => parseLogSettings([], [], ["ipc:loud"]),
    StartupError,
    "Expected -loglevel=<category>:<loglevel>.",
  );
  assertEquals([parseMoney("0.0002"), parseMoney("1"), parseMoney("."), parseMoney(" 2.5 ")], [
    20_000n,
    100_000_000n,
    0n,
    250_000_000n,
  ]);
  for (const bad of ["", "abc", "-1", "1e5", "0.000000001", "21000001", "1 0"]) {
    assertEquals(parseMoney(bad), null, bad);
  }
  assertEquals(splitHostPort("127.0.0.1:8332", 1), { host: "127.0.0.1", port: 8332 });
  assertEquals(splitHostPort("[::1]:8332", 1), { host: "::1", port: 8332 });
  assertEquals(splitHostPort("::1", 7), { host: "::1", port: 7 });
  assertEquals(splitHostPort("host", 7), { host: "host", port: 7 });
  assertEquals(splitHostPort("host:0", 7), null);
  assertEquals(splitHostPort("host:99999", 7), null);
});

Deno.test("options: the permission flags follow the options", () => {
  using temp = datadirWith();
  const datadir = temp.path;
  const base = optionsOf(["-regtest", `-datadir=${datadir}`, "-ipcbind=unix"]);
  assertEquals(nodePermissions(base), [
    `--allow-read=${datadir}`,
    `--allow-write=${datadir}/regtest`,
    `--allow-net=[::1]:18443,127.0.0.1:18443,unix:${datadir}/regtest/node.sock`,
  ]);
  using outsideDir = tempDir();
  const outside = outsideDir.path;
  const moved = optionsOf([
    "-regtest",
    `-datadir=${datadir}`,
    "-server=0",
    `-ipcbind=unix:${outside}/n.sock`,
    `-pid=${outside}/n.pid`,
  ]);
  assertEquals(nodePermissions(moved), [
    `--allow-read=${datadir},${outside}/n.pid,${outside}/n.sock`,
    `--allow-write=${datadir}/regtest,${outside}/n.pid,${outside}/n.sock`,
    `--allow-net=unix:${outside}/n.sock`,
  ]);
  // A ZMQ UNIX socket: that file alone (a relative path against the working directory, as
  // libzmq's); one in regtest/ needs only its net grant.
  const zmq = optionsOf([
    "-regtest",
    `-datadir=${datadir}`,
    "-server=0",
    "-zmqpubrawtx=ipc://z/../zmq.sock",
    "-zmqpubhashtx=unix:zmq.sock",
    `-zmqpubsequence=ipc://${datadir}/regtest/seq.sock`,
  ], outside);
  assertEquals(nodePermissions(zmq), [
    `--allow-read=${datadir},${outside}/zmq.sock`,
    `--allow-write=${datadir}/regtest,${outside}/zmq.sock`,
    `--allow-net=unix:${outside}/zmq.sock,unix:${datadir}/regtest/seq.sock`,
  ]);
  const home = optionsOf(["-regtest", "-server=0"]);
  assertEquals(nodePermissions(home), [
    "--allow-read=/nonexistent-home/.bitcoin",
    "--allow-write=/nonexistent-home/.bitcoin",
    "--allow-env=HOME",
  ]);
});

Deno.test("options: bitcoind's peer-to-peer options are taken, each bad value refused in Core's words", () => {
  using temp = datadirWith();
  const d = `-datadir=${temp.path}`;
  const accepted = [
    "-port=18444",
    "-bind=127.0.0.1",
    "-bind=127.0.0.1:18445=onion",
    "-connect=0",
    "-noconnect",
    "-connect=127.0.0.1:18444",
    "-dnsseed=0",
    "-maxconnections=10",
    "-maxconnections=0",
    "-addnode=127.0.0.1",
    "-seednode=example.com",
    "-onlynet=ipv4",
    "-onlynet=IPv6",
    "-v2transport=0",
    "-natpmp=0",
    "-discover=0",
    "-fixedseeds=0",
    "-whitelist=1.2.3.0/24",
    "-whitelist=noban,in,out@::1",
    "-whitebind=noban@127.0.0.1:18500",
    "-maxuploadtarget=500M",
    "-maxuploadtarget=1g",
    "-peerbloomfilters",
    "-listenonion=0",
    "-torcontrol=127.0.0.1:9051",
    "-torpassword=secret",
    "-proxy=127.0.0.1:9050",
    "-proxy=unix:/run/tor/socks",
    "-proxy=127.0.0.1:9050=ipv6",
    "-proxy=",
    "-noproxy",
    "-onion=127.0.0.1:9050",
    "-timeout=1000",
    "-peertimeout=10",
    "-externalip=203.0.113.1",
    "-i2psam=127.0.0.1:7656",
    "-i2pacceptincoming=0",
    "-cjdnsreachable",
    "-networkactive=0",
    "-maxreceivebuffer=100",
    "-maxsendbuffer=100",
    "-noasmap",
    "-dns=0",
    "-forcednsseed",
    "-proxyrandomize=0",
    "-txreconciliation",
    "-whitelistrelay=0",
    "-whitelistforcerelay",
    "-uacomment=me",
  ];
  for (const arg of accepted) optionsOf(["-regtest", d, arg]);
  const refused: [string[], string][] = [
    [["-port=0"], "Invalid port specified in -port: '0'"],
    [["-port=x"], "Invalid port specified in -port: 'x'"],
    [["-bind=127.0.0.1:x"], "Invalid port specified in -bind: '127.0.0.1:x'"],
    [["-bind=localhost"], "Cannot resolve -bind address: 'localhost'"],
    [["-bind=127.0.0.1=tor"], "Cannot resolve -bind address: '127.0.0.1=tor'"],
    [["-bind=127.0.0.1", "-listen=0"], "Cannot set -bind or -whitebind together with -listen=0"],
    [["-listen=0", "-listenonion"], "Cannot set -listen=0 together with -listenonion=1"],
    [
      ["-forcednsseed", "-connect=127.0.0.1"],
      "Cannot set -forcednsseed to true when setting -dnsseed to false.",
    ],
    [["-maxconnections=-1"], "-maxconnections must be greater or equal than zero"],
    [["-peertimeout=0"], "peertimeout must be a positive integer."],
    [["-maxuploadtarget=5x"], "Unable to parse -maxuploadtarget: '5x'"],
    [["-onlynet=foo"], "Unknown network specified in -onlynet: 'foo'"],
    [
      ["-onlynet=cjdns"],
      "Outbound connections restricted to CJDNS (-onlynet=cjdns) but -cjdnsreachable is not provided",
    ],
    [
      ["-onlynet=onion", "-listenonion=0"],
      "Outbound connections restricted to Tor (-onlynet=onion) but the proxy for reaching the Tor network is not provided: none of -proxy, -onion or -listenonion is given",
    ],
    [
      ["-onlynet=onion", "-noonion"],
      "Outbound connections restricted to Tor (-onlynet=onion) but the proxy for reaching the Tor network is explicitly forbidden: -onion=0",
    ],
    [
      ["-onlynet=i2p"],
      "Outbound connections restricted to i2p (-onlynet=i2p) but -i2psam is not provided",
    ],
    [
      ["-onlynet=onion", "-dnsseed=1"],
      "Incompatible options: -dnsseed=1 was explicitly specified, but -onlynet forbids connections to IPv4/IPv6",
    ],
    [["-proxy=127.0.0.1:x"], "Invalid port specified in -proxy: '127.0.0.1:x'"],
    [["-proxy=127.0.0.1:x=ipv4"], "Invalid port specified in -proxy: '127.0.0.1:x=ipv4'"],
    [
      ["-proxy=127.0.0.1:9050="],
      "Invalid -proxy address or hostname, ends with '=': '127.0.0.1:9050='",
    ],
    [["-proxy=127.0.0.1:9050=foo"], "Unrecognized network in -proxy='127.0.0.1:9050=foo': 'foo'"],
    [["-proxy=0.0.0.0"], "Invalid -proxy address or hostname: '0.0.0.0'"],
    [["-onion=::"], "Invalid -onion address or hostname: '::'"],
    [["-i2psam=bad host"], "Invalid -i2psam address or hostname: 'bad host'"],
    [["-torcontrol=127.0.0.1:99999"], "Invalid port specified in -torcontrol: '127.0.0.1:99999'"],
    [["-externalip=0.0.0.0"], "Cannot resolve -externalip address: '0.0.0.0'"],
    [["-externalip=example.com", "-dns=0"], "Cannot resolve -externalip address: 'example.com'"],
    [["-whitebind=127.0.0.1"], "Need to specify a port with -whitebind: '127.0.0.1'"],
    [["-whitebind=noban@example.com:1"], "Cannot resolve -whitebind address: 'example.com:1'"],
    [
      ["-whitebind=out@127.0.0.1:1"],
      'whitebind may only be used for incoming connections ("out" was passed)',
    ],
    [["-whitelist=bogus@1.2.3.4"], "Invalid P2P permission: 'bogus'"],
    [["-whitelist=in@1.2.3.4"], "Only direction was set, no permissions: 'in@1.2.3.4'"],
    [["-whitelist=1.2.3.4/33"], "Invalid netmask specified in -whitelist: '1.2.3.4/33'"],
    [["-uacomment=a/b"], "User Agent comment (a/b) contains unsafe characters."],
    [
      ["-uacomment=" + "x".repeat(250)],
      "Total length of network version string (267) exceeds maximum length (256). Reduce the number or size of uacomments.",
    ],
    [["-asmap"], `Could not find asmap file "${temp.path}/regtest/ip_asn.map"`],
    [
      ["-addnode=" + "a".repeat(301)],
      "-addnode: node name too long (more than 300 characters, this node's limit)",
    ],
    [
      ["-proxy"],
      "Error parsing command line arguments: Can not set -proxy with no value. Please specify value with -proxy=value.",
    ],
  ];
  for (const [args, message] of refused) {
    assertEquals(errorOf(["-regtest", d, ...args]), message, args.join(" "));
  }
});

Deno.test("options: -asmap's file is read and checked as Core's DecodeAsmap, and logged by its version; without it, /16 prefixes", () => {
  using temp = datadirWith();
  const d = `-datadir=${temp.path}`;
  Deno.mkdirSync(`${temp.path}/regtest`);
  const bucketing = (args: string[]) =>
    optionsOf(["-regtest", d, ...args]).notices.map((n) => n.message).filter((m) =>
      m.includes("asmap") || m.includes("bucketing")
    );
  assertEquals(bucketing([]), ["Using /16 prefix for IP bucketing"]);
  assertEquals(bucketing(["-noasmap"]), ["Using /16 prefix for IP bucketing"]);
  // RETURN 1 in three bytes: every address in AS1 (a relative path is in the network's directory).
  Deno.writeFileSync(`${temp.path}/regtest/ip_asn.map`, new Uint8Array(3));
  const [opened, using] = bucketing(["-asmap"]);
  assertEquals(opened, `Opened asmap file "${temp.path}/regtest/ip_asn.map" (3 bytes) from disk`);
  assert(/^Using asmap version [0-9a-f]{64} for IP bucketing$/.test(using), using);
  // A byte of padding past the program, or a directory: Core's parse error.
  Deno.writeFileSync(`${temp.path}/regtest/padded.map`, new Uint8Array(4));
  Deno.mkdirSync(`${temp.path}/regtest/folder.map`);
  for (const name of ["padded.map", "folder.map"]) {
    assertEquals(
      errorOf(["-regtest", d, `-asmap=${name}`]),
      `Could not parse asmap file "${temp.path}/regtest/${name}"`,
    );
  }
});

Deno.test("options: the peer-to-peer options feed the addnode list, the switch, the user agent and the networks", () => {
  using temp = datadirWith(
    "[regtest]\naddnode=127.0.0.1\naddnode=[::1]:18500\nnetworkactive=0\nuacomment=me\n" +
      "uacomment=you\nonlynet=ipv4\nonlynet=onion\nproxy=127.0.0.1:9050\nmaxuploadtarget=1K\n",
  );
  const { net, listen, notices } = optionsOf(["-regtest", `-datadir=${temp.path}`]);
  assertEquals(net.addNodes, ["127.0.0.1", "[::1]:18500"]);
  assertEquals(net.networkActive, false);
  assertEquals(net.subversion, "/capdeno:0.1.0(me; you)/");
  assertEquals(net.maxUploadTarget, 1024);
  assertEquals(
    net.networks.map(({ name, reachable, proxy }) => [name, reachable, proxy]),
    [
      ["ipv4", true, "127.0.0.1:9050"],
      ["ipv6", false, "127.0.0.1:9050"],
      ["onion", true, "127.0.0.1:9050"],
      ["i2p", false, ""],
      ["cjdns", false, "127.0.0.1:9050"],
    ],
  );
  // Core's InitParameterInteraction: a proxy turns listening off unless it is set.
  assertEquals(listen, false);
  assert(
    notices.some((n) => n.message === "parameter interaction: -proxy set -> setting -listen=0"),
  );
  // v30.0's per-network -proxy: later values win for their networks, 0 removes one.
  const perNetwork = optionsOf([
    "-regtest",
    `-datadir=${temp.path}`,
    "-noconf",
    "-proxy=127.0.0.1:9050",
    "-proxy=[::1]:9051=IPv6",
    "-proxy=0=cjdns",
    "-proxy=127.0.0.2=tor",
  ]).net;
  assertEquals(perNetwork.networks.map(({ name, proxy }) => [name, proxy]), [
    ["ipv4", "127.0.0.1:9050"],
    ["ipv6", "[::1]:9051"],
    ["onion", "127.0.0.2:9050"],
    ["i2p", ""],
    ["cjdns", ""],
  ]);
  const defaults = optionsOf(["-regtest", `-datadir=${temp.path}`, "-noconf"]).net;
  assertEquals(defaults.subversion, "/capdeno:0.1.0/");
  assertEquals(defaults.networks.filter((n) => n.reachable).map((n) => n.name), ["ipv4", "ipv6"]);
});

Deno.test("options: block assembly and -stopatheight as Core reads and checks them", () => {
  using temp = datadirWith();
  const d = `-datadir=${temp.path}`;
  assertEquals(optionsOf(["-regtest", d]).blockAssembly, {
    maxWeight: 4_000_000,
    reservedWeight: undefined,
    version: undefined,
  });
  assertEquals(
    optionsOf([
      "-regtest",
      d,
      "-blockmaxweight=-1",
      "-blockreservedweight=2000",
      "-blockversion=-1",
    ])
      .blockAssembly,
    { maxWeight: 4_000_000, reservedWeight: 2000, version: -1 },
  );
  assertEquals(optionsOf(["-regtest", d, "-blockversion=4294967297"]).blockAssembly.version, 1);
  assertEquals(optionsOf(["-regtest", d, "-stopatheight=7"]).stopAtHeight, 7);
  const refused: [string, string][] = [
    [
      "-blockmaxweight=4000001",
      "Specified -blockmaxweight (4000001) exceeds consensus maximum block weight (4000000)",
    ],
    [
      "-blockreservedweight=4000001",
      "Specified -blockreservedweight (4000001) exceeds consensus maximum block weight (4000000)",
    ],
    [
      "-blockreservedweight=1999",
      "Specified -blockreservedweight (1999) is lower than minimum safety value of (2000)",
    ],
  ];
  for (const [arg, message] of refused) assertEquals(errorOf(["-regtest", d, arg]), message, arg);
});

Deno.test("options: knobs with no counterpart here are taken, with Core's checks; what cannot be honoured is refused, saying why", () => {
  using temp = datadirWith();
  const d = `-datadir=${temp.path}`;
  const accepted = [
    "-dbcache=100",
    "-par=4",
    "-par=-1",
    "-maxsigcachesize=16",
    "-maxorphantx=10",
    "-checkblockindex",
    "-checkaddrman=1",
    "-checkmempool=0",
    "-assumevalid=0",
    "-assumevalid=0x" + "ab".repeat(32),
    "-noassumevalid",
    "-capturemessages",
    "-blocksxor=0",
    "-logthreadnames",
    "-logsourcelocations",
    "-logips",
    "-logratelimit=0",
    "-printpriority",
    "-prune=0",
    "-noprune",
    "-reindex=0",
    "-noreindex-chainstate",
    "-nocoinstatsindex",
    "-nosettings",
    "-noblocksdir",
    "-paytxfee=0",
  ];
  for (const arg of accepted) optionsOf(["-regtest", d, arg]);
  const { notices } = optionsOf(["-regtest", d, "-maxorphantx=10", "-checkpoints=0"]);
  assertEquals(notices.filter((n) => n.level === "warning").map((n) => n.message), [
    "Option '-checkpoints' is set but checkpoints were removed. This option has no effect.",
    "Option '-maxorphantx' is set but no longer has any effect (see release notes). Please remove it from your configuration.",
  ]);
  const refused: [string, string][] = [
    [
      "-assumevalid=0X12",
      "Invalid assumevalid block hash specified (0X12), must be up to 64 hex digits (or 0 to disable)",
    ],
    ["-prune=550", "-prune: not supported here: this node keeps every block"],
    [
      "-reindex",
      "-reindex: not supported here: the chain lives in SQLite, with no block files to rebuild it from",
    ],
    [
      "-reindex-chainstate=1",
      "-reindex-chainstate: not supported here: the chain lives in SQLite, with no block files to rebuild it from",
    ],
    ["-loadblock=/tmp/blk.dat", "-loadblock: not supported here: this node imports no block files"],
    [
      "-blocksdir=/tmp",
      "-blocksdir: not supported here: blocks are kept in SQLite under <datadir>/regtest",
    ],
    [
      "-coinstatsindex",
      "-coinstatsindex: not supported here: this node keeps no coin statistics index",
    ],
    ["-signer=hwi", "-signer: not supported here: this node runs no external signer"],
    ["-settings=x.json", "-settings: not supported here: this node keeps no dynamic settings file"],
    ["-vbparams=testdummy:0:1", "-vbparams: not supported here: this node's deployments are fixed"],
    ["-checkblocks=6", "-checkblocks: not supported here: this node verifies no blocks at startup"],
    ["-checklevel=4", "-checklevel: not supported here: this node verifies no blocks at startup"],
    ["-test=addrman", "-test: not supported here: this node has none of Core's test-only options"],
    // Options Core v30 does not know keep Core's own refusal.
    ["-mempoolfullrbf", "Error parsing command line arguments: Invalid parameter -mempoolfullrbf"],
    ["-upnp=0", "Error parsing command line arguments: Invalid parameter -upnp=0"],
    [
      "-limitclustercount=10",
      "Error parsing command line arguments: Invalid parameter -limitclustercount=10",
    ],
  ];
  for (const [arg, message] of refused) assertEquals(errorOf(["-regtest", d, arg]), message, arg);
  const debug = parseNodeArgs(["-help-debug"]);
  const help = parseNodeArgs(["-help"]);
  assert(debug.kind === "print" && help.kind === "print");
  assert(help.text.includes("\n  -dbcache=<n>\n       Maximum database cache size <n> MiB"));
  assert(
    !help.text.includes("-maxsigcachesize") && debug.text.includes("\n  -maxsigcachesize=<n>\n"),
  );
  assert(!debug.text.includes("-reindex"), "refused options are not listed");
  assert(help.text.includes("\n  -port=<port>\n") && debug.text.includes("\n  -peertimeout=<n>\n"));
});
