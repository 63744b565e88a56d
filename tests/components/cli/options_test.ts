/**
 * The client's start-up as bitcoin-cli's `AppInitRPC`: its errors and their
 * text, help and version, the chain's port and cookie, the configuration
 * file; the conversion table; libevent's URI encoding; and the exact
 * permission flags the launcher derives (checked for real by running the
 * client under them in the other tests).
 */
import { assert, assertEquals } from "../../assert.ts";
import { cookiePath, rpcEndpoint, uriEncode } from "../../../components/cli/call.ts";
import { convertNamed, convertPositional } from "../../../components/cli/convert.ts";
import { appInit, type CliSettings } from "../../../components/cli/options.ts";
import { cliPermissions } from "../../../components/cli/permissions.ts";
import { writeJson } from "../../../components/rpc/json.ts";
import { runCli, TempDatadir } from "./cli_fixture.ts";

const env = { cwd: "/work", home: () => "/home/u" };

/** The settings `argv` starts a call with. */
function settingsOf(argv: string[]): CliSettings {
  const start = appInit(argv, env);
  if (start.kind !== "run") throw new Error(`expected a call, got ${JSON.stringify(start)}`);
  return start.settings;
}

Deno.test("cli options: start-up errors in bitcoin-cli's words and statuses", async () => {
  const printed = (argv: string[]) => {
    const start = appInit(argv, env);
    if (start.kind !== "print") throw new Error("expected text to print");
    return [start.code, start.stderr];
  };
  assertEquals(printed(["-foo", "x"]), [
    1,
    "Error parsing command line arguments: Invalid parameter -foo\n",
  ]);
  assertEquals(printed(["-help-debug"]), [
    1,
    "Error parsing command line arguments: Invalid parameter -help-debug\n",
  ]);
  assertEquals(printed(["-nodatadir", "x"]), [
    1,
    "Error parsing command line arguments: Negating of -datadir is meaningless and therefore forbidden\n",
  ]);
  assertEquals(printed(["-datadir=/no/such/dir", "x"]), [
    1,
    'Error: Specified data directory "/no/such/dir" does not exist.\n',
  ]);
  assertEquals(printed(["-regtest", "-testnet", "x"]), [
    1,
    "Error: Invalid combination of -regtest, -signet, -testnet, -testnet4 and -chain. Can use at most one.\n",
  ]);
  assertEquals(printed(["-chain=foo", "x"]), [1, "Error: Unknown chain foo.\n"]);
  await using datadir = await TempDatadir.empty();
  assertEquals(printed([`-datadir=${datadir.path}`, "-conf=missing.conf", "x"]), [
    1,
    `Error reading configuration file: specified config file "${datadir.path}/missing.conf" could not be opened.\n`,
  ]);
  await Deno.writeTextFile(`${datadir.path}/bitcoin.conf`, "-rpcport=1\n");
  assertEquals(printed([`-datadir=${datadir.path}`, "x"]), [
    1,
    "Error reading configuration file: parse error on line 1: -rpcport=1, options in configuration file must be specified without leading -\n",
  ]);
  // -help and -version print on stdout, status 0; no arguments at all is an error after the usage.
  const help = appInit(["-regtest", "-help"], env);
  assert(help.kind === "print" && help.code === 0 && help.stderr === "");
  assert(help.stdout.includes("\n  -rpcwait\n       Wait for RPC server to start\n"), help.stdout);
  assert(help.stdout.includes("CLI Commands:\n\n  -addrinfo\n"), help.stdout);
  assert(!help.stdout.includes("-regtest"), "-regtest is debug-only in Core's list");
  const none = appInit([], env);
  assert(none.kind === "print" && none.code === 1 && none.stderr === "Error: too few parameters\n");
  const version = appInit(["-version"], env);
  assert(version.kind === "print" && version.code === 0 && version.stdout.includes("version v"));
});

Deno.test("cli options: the chain picks the port and the cookie's directory", async () => {
  await using datadir = await TempDatadir.empty();
  const d = datadir.path;
  const where = (...argv: string[]) => {
    const settings = settingsOf([`-datadir=${d}`, ...argv, "getblockcount"]);
    return [rpcEndpoint(settings).port, cookiePath(settings)];
  };
  assertEquals(where(), [8332, `${d}/.cookie`]);
  assertEquals(where("-testnet"), [18332, `${d}/testnet3/.cookie`]);
  assertEquals(where("-testnet4"), [48332, `${d}/testnet4/.cookie`]);
  assertEquals(where("-signet"), [38332, `${d}/signet/.cookie`]);
  assertEquals(where("-regtest"), [18443, `${d}/regtest/.cookie`]);
  assertEquals(where("-chain=regtest", "-rpccookiefile=c"), [18443, `${d}/regtest/c`]);
  assertEquals(where("-regtest", "-rpccookiefile=/abs/c"), [18443, "/abs/c"]);
  assertEquals(where("-regtest", "-norpccookiefile"), [18443, null]);
  // No -datadir: $HOME/.bitcoin.
  assertEquals(cookiePath(settingsOf(["-regtest", "x"])), "/home/u/.bitcoin/regtest/.cookie");
  // The words after the options; later dashes are arguments.
  assertEquals(settingsOf(["-regtest", "getblockhash", "-1"]).words, ["getblockhash", "-1"]);
});

Deno.test("cli options: -rpcconnect and -rpcport are checked as Core checks them", () => {
  const endpoint = (...argv: string[]) => {
    try {
      return rpcEndpoint(settingsOf(["-regtest", ...argv, "x"]));
    } catch (error) {
      return (error as Error).message;
    }
  };
  assertEquals(endpoint("-rpcconnect=[::1]:1234"), { host: "::1", port: 1234 });
  assertEquals(endpoint("-rpcconnect=::1"), { host: "::1", port: 18443 });
  assertEquals(endpoint("-rpcconnect=node.local"), { host: "node.local", port: 18443 });
  assertEquals(
    endpoint("-rpcconnect=127.0.0.1:0"),
    "Invalid port provided in -rpcconnect: 127.0.0.1:0",
  );
  assertEquals(endpoint("-rpcport=+1"), "Invalid port provided in -rpcport: +1");
  assertEquals(endpoint("-rpcport=65536"), "Invalid port provided in -rpcport: 65536");
  assertEquals(endpoint("-rpcport=0"), "Invalid port provided in -rpcport: 0");
});

Deno.test("cli convert: Core's table decides what is JSON", () => {
  const json = (value: unknown) => writeJson(value as never);
  assertEquals(json(convertPositional("getblockhash", ["0"])), "[0]");
  assertEquals(json(convertPositional("getblockheader", ["h", "false"])), '["h",false]');
  assertEquals(json(convertPositional("getrawtransaction", ["t", "2", "b"])), '["t",2,"b"]');
  assertEquals(
    json(convertPositional("createwallet", ["w", "true", "true", "", "false"])),
    '["w",true,true,"",false]',
  );
  assertEquals(json(convertPositional("unknownmethod", ["1", "{}"])), '["1","{}"]');
  assertEquals(json(convertPositional("echojson", ['{"a":[1,2]}', "null"])), '[{"a":[1,2]},null]');
  let message = "";
  try {
    convertPositional("getblock", ["h", "two"]);
  } catch (error) {
    message = (error as Error).message;
  }
  assertEquals(message, "Error parsing JSON: two");
  // -named: names convert by name; positional words by their position among positional words.
  assertEquals(
    json(convertNamed("sendtoaddress", ["a", "amount=0.1", "comment=1"])),
    '{"amount":0.1,"comment":"1","args":["a"]}',
  );
  // `args` is in no table entry: its value stays a string, and the positional array follows.
  assertEquals(json(convertNamed("getblock", ["args=[1]", "h"])), '{"args":"[1]","args":["h"]}');
  assertEquals(json(convertNamed("getblock", ["=x"])), '{"":"x"}');
});

Deno.test("cli: libevent's URI encoding of wallet names", () => {
  assertEquals(uriEncode("w"), "w");
  assertEquals(uriEncode("my wallet/ü"), "my%20wallet%2F%C3%BC");
  assertEquals(
    uriEncode("AZaz09-._~ !\"#$%&'()*+,/:;=?@[]"),
    "AZaz09-._~%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D",
  );
});

Deno.test("cli permissions: read on the config and cookie only, net on the one endpoint", async () => {
  await using datadir = await TempDatadir.empty();
  const d = datadir.path;
  const flags = (...argv: string[]) => cliPermissions(settingsOf([...argv, "x"]));
  assertEquals(flags("-regtest", `-datadir=${d}`), [
    `--allow-read=${d}/bitcoin.conf,${d}/regtest/.cookie`,
    "--allow-net=127.0.0.1:18443",
  ]);
  assertEquals(
    flags("-regtest", `-datadir=${d}`, "-rpcconnect=[::1]:9", "-norpccookiefile", "-noconf"),
    [
      "--allow-net=[::1]:9",
    ],
  );
  // No -datadir: $HOME is read for the default one.
  assertEquals(flags("-testnet4", "-rpcconnect=localhost"), [
    "--allow-read=/home/u/.bitcoin/bitcoin.conf,/home/u/.bitcoin/testnet4/.cookie",
    "--allow-net=localhost:48332",
    "--allow-env=HOME",
  ]);
  // An invalid endpoint grants no net: the client reports it without calling.
  assertEquals(flags("-regtest", `-datadir=${d}`, "-rpcport=x"), [
    `--allow-read=${d}/bitcoin.conf,${d}/regtest/.cookie`,
  ]);
  const run = await runCli(["-regtest", `-datadir=${d}`, "-rpcport=x", "getblockcount"]);
  assertEquals(run, {
    code: 1,
    stdout: "",
    stderr: "error: Invalid port provided in -rpcport: x\n",
  });
});
