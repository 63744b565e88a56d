/**
 * Bitcoin Core v30's chainstate options on a real node: `-minimumchainwork`
 * holds it in initial block download until its tip has that much work, and
 * `-maxtipage` while its tip is older than that; their values are checked
 * with Core's texts, and `-help-debug` (not `-help`) lists them with
 * Core's help.
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { tempDir } from "../../helpers.ts";
import { scriptToAddress } from "../../../components/node/chain/mod.ts";
import { TestKey } from "./chain/chain_helpers.ts";
import { dataGrants, type Outcome, runOnce } from "./node_process.ts";
import { NODE_MAIN, startRealNode } from "./real_node.ts";

const ADDRESS = scriptToAddress(new TestKey(33).wpkh)!;

/** Regtest's genesis block time. */
const GENESIS_TIME = 1296688602;

/** Runs the node's entry point with `argv` on a fresh data directory to its end. */
async function runNode(argv: string[]): Promise<Outcome> {
  using datadir = tempDir("capdeno-chainstate-");
  return await runOnce(
    ["-regtest", `-datadir=${datadir.path}`, ...argv],
    dataGrants(datadir.path),
    { module: NODE_MAIN },
  );
}

Deno.test("chainstate options: -minimumchainwork holds the node in initial block download until its tip has that work", async () => {
  // A regtest block's work is 2: the chain has 0x10 once its tip is at height 7.
  await using node = await startRealNode({ args: ["-minimumchainwork=0x10"] });
  await node.call("generatetoaddress", [6, ADDRESS]);
  const below = await node.call("getblockchaininfo");
  assertEquals([below.blocks, below.chainwork], [6, "0e".padStart(64, "0")]);
  assertEquals(below.initialblockdownload, true, "a fresh tip with too little work");
  await node.call("generatetoaddress", [1, ADDRESS]);
  const reached = await node.call("getblockchaininfo");
  assertEquals([reached.chainwork, reached.initialblockdownload], ["10".padStart(64, "0"), false]);
  assertEquals(await node.stop(), 0);
});

Deno.test("chainstate options: -maxtipage is how old a tip may be outside initial block download", async () => {
  // The genesis block is 200 s old: young enough for the default day, too old for 100 s.
  await using node = await startRealNode({
    args: [`-mocktime=${GENESIS_TIME + 200}`, "-maxtipage=100"],
  });
  assertEquals((await node.call("getblockchaininfo")).initialblockdownload, true);
  await node.call("setmocktime", [GENESIS_TIME + 50]);
  assertEquals((await node.call("getblockchaininfo")).initialblockdownload, false);
  // Latched, as Core's: a tip growing old again does not bring it back.
  await node.call("setmocktime", [GENESIS_TIME + 1000]);
  assertEquals((await node.call("getblockchaininfo")).initialblockdownload, false);
  assertEquals(await node.stop(), 0);
});

Deno.test("chainstate options: a -minimumchainwork that is not up to 64 hex digits is refused with Core's text", async () => {
  const refused = ["test", "0X10", "1".repeat(65), "0x" + "f".repeat(65)];
  for (const value of refused) {
    assertEquals(await runNode([`-minimumchainwork=${value}`]), {
      code: 1,
      stdout: "",
      stderr: `Error: Invalid minimum work specified (${value}), must be up to 64 hex digits\n`,
    }, value);
  }
  // Checked before -assumevalid, as Core's ApplyArgsManOptions does.
  assertEquals(
    (await runNode(["-assumevalid=x", "-minimumchainwork=x"])).stderr,
    "Error: Invalid minimum work specified (x), must be up to 64 hex digits\n",
  );
});

Deno.test("chainstate options: -help-debug lists -minimumchainwork and -maxtipage with Core's help; -help does not", async () => {
  const help = await runNode(["-help"]);
  const debug = await runNode(["-help-debug"]);
  assertEquals([help.code, debug.code], [0, 0]);
  const words = (text: string) => text.replace(/\s+/g, " ");
  for (const text of [help.stdout, debug.stdout].map(words)) {
    assertEquals(text.includes(" -maxtipage=<n> "), text === words(debug.stdout));
    assertEquals(text.includes(" -minimumchainwork=<hex> "), text === words(debug.stdout));
  }
  const listed = words(debug.stdout);
  assert(
    listed.includes(
      " -maxtipage=<n> Maximum tip age in seconds to consider node in initial block download (default: 86400) ",
    ),
  );
  assert(
    listed.includes(
      " -minimumchainwork=<hex> Minimum work assumed to exist on a valid chain in hex (default: 0000000000000000000000000000000000000000dee8e2a309ad8a9820433c68, testnet3: 0000000000000000000000000000000000000000000016dd270dd94fac1d7632, testnet4: 00000000000000000000000000000000000000000000034a4690fe592dc49c7c, signet: 0000000000000000000000000000000000000000000000000000067d328e681a) ",
    ),
  );
  // In Core's categories: -minimumchainwork under Options, -maxtipage under Debugging/Testing.
  const section = (name: string) =>
    debug.stdout.slice(0, debug.stdout.indexOf(`\n  -${name}=`)).match(/^\S[^\n]*:$/gm)?.at(-1);
  assertEquals(section("minimumchainwork"), "Options:");
  assertEquals(section("maxtipage"), "Debugging/Testing options:");
});
