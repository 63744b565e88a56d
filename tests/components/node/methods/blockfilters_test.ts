/**
 * getblockfilter, scanblocks and getindexinfo against real node processes
 * over HTTP (`-rpcdoccheck`: every result is checked against its documented
 * shape), with and without `-blockfilterindex`: each filter is the set of
 * the scripts the block's own JSON (`getblock` verbosity 3) shows it paying
 * and spending, the headers chain, scanblocks finds the blocks that pay and
 * spend a descriptor's script (exactly, with `filter_false_positives`),
 * Core's errors in Core's order, the index caught up after a restart, and
 * both help texts word for word (Bitcoin Core v30's).
 *
 * @module
 */
import { hex } from "@scure/base";
import { assert, assertEquals } from "../../../assert.ts";
import { waitFor } from "../../../helpers.ts";
import { coinbaseUtxo, type RealNode, rejects, startRealNode } from "../real_node.ts";
import { signTx, TestKey } from "../chain/chain_helpers.ts";
import {
  BlockFilter,
  encodeTx,
  filterHeader,
  hashFromHex,
  hashToHex,
  scriptToAddress,
  ZERO_HASH,
} from "../../../../components/node/chain/mod.ts";

const payer = new TestKey(41);
const payee = new TestKey(42);
const miner = new TestKey(43);
const stranger = new TestKey(44);
const addr = (key: TestKey) => `addr(${scriptToAddress(key.wpkh)})`;

/** Core's `HelpExampleRpc` line. */
function curl(method: string, params: string): string {
  return `> curl --user myusername --data-binary '{"jsonrpc": "2.0", "id": "curltest", ` +
    `"method": "${method}", "params": [${params}]}' -H 'content-type: application/json' ` +
    "http://127.0.0.1:8332/\n";
}

const EXAMPLE_HASH = "00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09";
const EXAMPLE_ADDR = "addr(bcrt1q4u4nsgk6ug0sqz7r3rj9tykjxrsl0yy4d0wwte)";

/** Bitcoin Core v30's `help <method>` texts. */
const HELP: Record<string, string> = {
  getblockfilter: `getblockfilter "blockhash" ( "filtertype" )

Retrieve a BIP 157 content filter for a particular block.

Arguments:
1. blockhash     (string, required) The hash of the block
2. filtertype    (string, optional, default="basic") The type name of the filter

Result:
{                      (json object)
  "filter" : "hex",    (string) the hex-encoded filter data
  "header" : "hex"     (string) the hex-encoded filter header
}

Examples:
> bitcoin-cli getblockfilter "${EXAMPLE_HASH}" "basic"
${curl("getblockfilter", `"${EXAMPLE_HASH}", "basic"`)}`,
  scanblocks:
    `scanblocks "action" ( [scanobjects,...] start_height stop_height "filtertype" options )

Return relevant blockhashes for given descriptors (requires blockfilterindex).
This call may take several minutes. Make sure to use no RPC timeout (bitcoin-cli -rpcclienttimeout=0)

Arguments:
1. action                        (string, required) The action to execute
                                 "start" for starting a scan
                                 "abort" for aborting the current scan (returns true when abort was successful)
                                 "status" for progress report (in %) of the current scan
2. scanobjects                   (json array, optional) Array of scan objects. Required for "start" action
                                 Every scan object is either a string descriptor or an object:
     [
       "descriptor",             (string) An output descriptor
       {                         (json object) An object with output descriptor and metadata
         "desc": "str",          (string, required) An output descriptor
         "range": n or [n,n],    (numeric or array, optional, default=1000) The range of HD chain indexes to explore (either end or [begin,end])
       },
       ...
     ]
3. start_height                  (numeric, optional, default=0) Height to start to scan from
4. stop_height                   (numeric, optional, default=chain tip) Height to stop to scan
5. filtertype                    (string, optional, default="basic") The type name of the filter
6. options                       (json object, optional) Options object that can be used to pass named arguments, listed below.

Named Arguments:
filter_false_positives    (boolean, optional, default=false) Filter false positives (slower and may fail on pruned nodes). Otherwise they may occur at a rate of 1/M

Result (when action=='status' and no scan is in progress - possibly already completed):
null    (json null)

Result (When action=='start'; only returns after scan completes):
{                              (json object)
  "from_height" : n,           (numeric) The height we started the scan from
  "to_height" : n,             (numeric) The height we ended the scan at
  "relevant_blocks" : [        (json array) Blocks that may have matched a scanobject.
    "hex",                     (string) A relevant blockhash
    ...
  ],
  "completed" : true|false     (boolean) true if the scan process was not aborted
}

Result (when action=='status' and a scan is currently in progress):
{                          (json object)
  "progress" : n,          (numeric) Approximate percent complete
  "current_height" : n     (numeric) Height of the block currently being scanned
}

Result (when action=='abort'):
true|false    (boolean) True if scan will be aborted (not necessarily before this RPC returns), or false if there is no scan to abort

Examples:
> bitcoin-cli scanblocks start '["${EXAMPLE_ADDR}"]' 300000
> bitcoin-cli scanblocks start '["${EXAMPLE_ADDR}"]' 100 150 basic
> bitcoin-cli scanblocks status
${curl("scanblocks", `"start", ["${EXAMPLE_ADDR}"], 300000`)}${
      curl("scanblocks", `"start", ["${EXAMPLE_ADDR}"], 100, 150, "basic"`)
    }${curl("scanblocks", '"status"')}`,
};

/**
 * The filter of block `hash` built from what getblock shows (its outputs'
 * scripts, OP_RETURN and empty ones left out, and its inputs' prevouts').
 */
async function filterFromBlockJson(node: RealNode, hash: string): Promise<BlockFilter> {
  const block = await node.call("getblock", [hash, 3]);
  const scripts = new Set<string>();
  for (const tx of block.tx) {
    for (const out of tx.vout) {
      const script: string = out.scriptPubKey.hex;
      if (script !== "" && !script.startsWith("6a")) scripts.add(script);
    }
    for (const input of tx.vin) if (input.prevout) scripts.add(input.prevout.scriptPubKey.hex);
  }
  return BlockFilter.fromElements(hashFromHex(hash), [...scripts].map((s) => hex.decode(s)));
}

Deno.test("blockfilters: getblockfilter and scanblocks over -blockfilterindex, caught up after a restart", async (t) => {
  await using node = await startRealNode({ args: ["-rpcdoccheck", "-blockfilterindex"] });
  const [funded] = await node.call("generatetoaddress", [1, scriptToAddress(payer.wpkh)]);
  await node.call("generatetoaddress", [100, scriptToAddress(miner.wpkh)]);
  const spend = signTx(
    [await coinbaseUtxo(node.call, funded, payer)],
    [{ script: payee.wpkh, amount: 49_9999_0000n }],
  );
  await node.call("sendrawtransaction", [hex.encode(encodeTx(spend))]);
  const [spending] = await node.call("generatetoaddress", [1, scriptToAddress(miner.wpkh)]);

  await t.step("getindexinfo lists the index, synced at the tip", async () => {
    const info = { "basic block filter index": { synced: true, best_block_height: 102 } };
    assertEquals(await node.call("getindexinfo"), info);
    assertEquals(
      await node.call("getindexinfo", [""]),
      info,
      "an empty name is no filter, as in Core",
    );
    assertEquals(await node.call("getindexinfo", ["basic block filter index"]), info);
    assertEquals(await node.call("getindexinfo", ["txindex"]), {});
  });

  await t.step("each block's filter holds its scripts; the headers chain from zero", async () => {
    let previous = ZERO_HASH;
    for (let height = 0; height <= 102; height++) {
      const hash: string = await node.call("getblockhash", [height]);
      const { filter, header } = await node.call("getblockfilter", [hash]);
      assertEquals(
        filter,
        hex.encode((await filterFromBlockJson(node, hash)).encoded),
        `${height}`,
      );
      assertEquals(header, hashToHex(filterHeader(hex.decode(filter), previous)));
      previous = hashFromHex(header);
    }
    assertEquals(
      await node.call("getblockfilter", [spending, "basic"]),
      await node.call("getblockfilter", [spending]),
    );
  });

  await t.step("scanblocks finds the blocks paying and spending a script", async () => {
    const exact = { filter_false_positives: true };
    const payerBlocks = await node.call("scanblocks", [
      "start",
      [addr(payer)],
      0,
      102,
      "basic",
      exact,
    ]);
    assertEquals(payerBlocks, {
      from_height: 0,
      to_height: 102,
      relevant_blocks: [funded, spending],
      completed: true,
    });
    // Without the double check the matches can only be more (false positives, 1 in 784931).
    const loose = await node.call("scanblocks", ["start", [addr(payer)]]);
    assert([funded, spending].every((hash) => loose.relevant_blocks.includes(hash)));
    assertEquals([loose.from_height, loose.to_height, loose.completed], [0, 102, true]);
    // Named arguments, a range of heights, and a descriptor object.
    const named = await node.call("scanblocks", {
      action: "start",
      scanobjects: [{ desc: addr(payee) }, addr(stranger)],
      start_height: 50,
      filter_false_positives: true,
    });
    assertEquals(named, {
      from_height: 50,
      to_height: 102,
      relevant_blocks: [spending],
      completed: true,
    });
    const before = await node.call("scanblocks", ["start", [addr(payee)], 0, 101, "basic", exact]);
    assertEquals(before.relevant_blocks, []);
    assertEquals(await node.call("scanblocks", ["status"]), null);
    assertEquals(await node.call("scanblocks", ["abort"]), false);
  });

  await t.step("Core's errors, in Core's order", async () => {
    const hash: string = await node.call("getblockhash", [1]);
    await rejects(node.call("getblockfilter", [hash, "extended"]), -5, "Unknown filtertype");
    await rejects(node.call("getblockfilter", ["00".repeat(32)]), -5, "Block not found");
    await rejects(
      node.call("getblockfilter", ["abc", "extended"]),
      -8,
      "blockhash must be of length 64 (not 3, for 'abc')",
    );
    const start = (...rest: unknown[]) =>
      node.call("scanblocks", ["start", [addr(payer)], ...rest]);
    await rejects(start(0, 10, "extended"), -5, "Unknown filtertype");
    await rejects(start(100000000), -1, "Invalid start_height");
    await rejects(start(-1), -1, "Invalid start_height");
    await rejects(start(10, 0), -1, "Invalid stop_height");
    await rejects(start(10, 100000000), -1, "Invalid stop_height");
    await rejects(node.call("scanblocks", ["begin"]), -8, "Invalid action 'begin'");
    await rejects(
      node.call("scanblocks", ["start", ["addr(nonsense)"]]),
      -5,
      "Address is not valid",
    );
  });

  await t.step("help: Core v30's texts", async () => {
    for (const [method, text] of Object.entries(HELP)) {
      assertEquals(await node.call("help", [method]), text, method);
    }
  });

  await t.step("restarted after more blocks, it catches up and chains on", async () => {
    assertEquals(await node.stop(), 0);
    await using plain = await startRealNode({ datadir: node.datadir, args: ["-rpcdoccheck"] });
    const [more] = await plain.call("generatetoaddress", [3, scriptToAddress(stranger.wpkh)]);
    assertEquals(await plain.stop(), 0);
    await using again = await startRealNode({
      datadir: node.datadir,
      args: ["-rpcdoccheck", "-blockfilterindex=basic"],
    });
    const synced = async () => (await again.call("getindexinfo"))["basic block filter index"];
    await waitFor(async () => (await synced()).synced, undefined, "the index caught up");
    assertEquals(await synced(), { synced: true, best_block_height: 105 });
    const result = await again.call("scanblocks", {
      action: "start",
      scanobjects: [addr(stranger)],
      filter_false_positives: true,
    });
    assertEquals(result.relevant_blocks.length, 3);
    assertEquals(result.relevant_blocks[0], more);
    const { filter, header } = await again.call("getblockfilter", [more]);
    const parent = await again.call("getblockfilter", [spending]);
    assertEquals(header, hashToHex(filterHeader(hex.decode(filter), hashFromHex(parent.header))));
  });
});

Deno.test("blockfilters: without -blockfilterindex both methods say the index is not enabled", async () => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  const hash: string = await node.call("getblockhash", [0]);
  const message = "Index is not enabled for filtertype basic";
  await rejects(node.call("getblockfilter", [hash]), -1, message);
  await rejects(node.call("scanblocks", ["start", [addr(payer)]]), -1, message);
  // The filter type is checked first.
  await rejects(node.call("getblockfilter", [hash, "v0"]), -5, "Unknown filtertype");
  assertEquals(await node.call("getindexinfo"), {});
  assertEquals(await node.call("scanblocks", ["status"]), null);
});
