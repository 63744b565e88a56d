/**
 * getchainstates and enumeratesigners against real node processes over
 * HTTP (`-rpcdoccheck`: every result is checked against its documented
 * shape): getchainstates' one chainstate against getblockchaininfo (also
 * with a header ahead of the blocks), with the coins cache sizes Bitcoin
 * Core v30 reports for the node's options (with and without `-txindex`);
 * enumeratesigners' error for a node without `-signer`; `help`'s sections
 * in Core's order, Signer among them; and both help texts, Core v30's
 * word for word.
 *
 * @module
 */
import { assert, assertEquals } from "../../../assert.ts";
import { type RealNode, rejects, startRealNode } from "../real_node.ts";
import { coinsCacheSizes } from "../../../../components/node/methods/blockchain.ts";
import { scriptToAddress } from "../../../../components/node/chain/mod.ts";
import { TestKey } from "../chain/chain_helpers.ts";

const ADDRESS = scriptToAddress(new TestKey(22).wpkh)!;

/** Core's `HelpExampleRpc` line. */
function curl(method: string): string {
  return `> curl --user myusername --data-binary '{"jsonrpc": "2.0", "id": "curltest", ` +
    `"method": "${method}", "params": []}' -H 'content-type: application/json' ` +
    "http://127.0.0.1:8332/\n";
}

/** Bitcoin Core v30.0's `help <method>` texts. */
const HELP: Record<string, string> = {
  getchainstates: `getchainstates

Return information about chainstates.

Result:
{                                      (json object)
  "headers" : n,                       (numeric) the number of headers seen so far
  "chainstates" : [                    (json array) list of the chainstates ordered by work, with the most-work (active) chainstate last
    {                                  (json object)
      "blocks" : n,                    (numeric) number of blocks in this chainstate
      "bestblockhash" : "hex",         (string) blockhash of the tip
      "bits" : "hex",                  (string) nBits: compact representation of the block difficulty target
      "target" : "hex",                (string) The difficulty target
      "difficulty" : n,                (numeric) difficulty of the tip
      "verificationprogress" : n,      (numeric) progress towards the network tip
      "snapshot_blockhash" : "hex",    (string, optional) the base block of the snapshot this chainstate is based on, if any
      "coins_db_cache_bytes" : n,      (numeric) size of the coinsdb cache
      "coins_tip_cache_bytes" : n,     (numeric) size of the coinstip cache
      "validated" : true|false         (boolean) whether the chainstate is fully validated. True if all blocks in the chainstate were validated, false if the chain is based on a snapshot and the snapshot has not yet been validated.
    },
    ...
  ]
}

Examples:
> bitcoin-cli getchainstates 
${curl("getchainstates")}`,
  enumeratesigners: `enumeratesigners

Returns a list of external signers from -signer.

Result:
{                               (json object)
  "signers" : [                 (json array)
    {                           (json object)
      "fingerprint" : "hex",    (string) Master key fingerprint
      "name" : "str"            (string) Device name
    },
    ...
  ]
}

Examples:
> bitcoin-cli enumeratesigners 
${curl("enumeratesigners")}`,
};

/** getchainstates and getblockchaininfo, read together. */
async function both(node: RealNode) {
  const states = await node.call("getchainstates");
  const info = await node.call("getblockchaininfo");
  return { states, info, state: states.chainstates[0] };
}

Deno.test("getchainstates: one validated chainstate, as getblockchaininfo sees it, with Core's cache sizes", async (t) => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });

  await t.step("Core v30's cache figures for its default -dbcache (450 MiB)", () => {
    // 450 MiB less the block tree's 2 MiB; the coins database's 8 MiB; the tip cache the rest.
    assertEquals(coinsCacheSizes({ txindex: false }), {
      coinsDb: 8_388_608,
      coinsTip: 461_373_440,
    });
    // -txindex first takes 450 MiB / 8 (56.25 MiB).
    assertEquals(coinsCacheSizes({ txindex: true }), { coinsDb: 8_388_608, coinsTip: 402_391_040 });
  });

  await t.step("at genesis", async () => {
    const { states, info, state } = await both(node);
    assertEquals(Object.keys(states), ["headers", "chainstates"]);
    assertEquals(states.chainstates.length, 1);
    assertEquals(Object.keys(state), [
      "blocks",
      "bestblockhash",
      "bits",
      "target",
      "difficulty",
      "verificationprogress",
      "coins_db_cache_bytes",
      "coins_tip_cache_bytes",
      "validated",
    ]);
    assertEquals(
      [
        states.headers,
        state.blocks,
        state.bestblockhash,
        state.bits,
        state.target,
        state.difficulty,
      ],
      [info.headers, info.blocks, info.bestblockhash, info.bits, info.target, info.difficulty],
    );
    assertEquals([state.blocks, state.bits], [0, "207fffff"]);
    // The 2011 genesis block: progress far from 1, moving with the clock (read a moment apart).
    assert(state.verificationprogress > 0 && state.verificationprogress < 1e-5);
    assert(Math.abs(state.verificationprogress / info.verificationprogress - 1) < 1e-3);
    assertEquals(
      [state.coins_db_cache_bytes, state.coins_tip_cache_bytes, state.validated],
      [8_388_608, 461_373_440, true],
    );
  });

  await t.step("after blocks, and with a header ahead of them", async () => {
    await node.call("generatetoaddress", [101, ADDRESS]);
    let { states, info, state } = await both(node);
    assertEquals(
      [
        states.headers,
        state.blocks,
        state.bestblockhash,
        state.bits,
        state.target,
        state.difficulty,
        state.verificationprogress,
      ],
      [101, 101, info.bestblockhash, info.bits, info.target, info.difficulty, 1],
    );
    assertEquals(info.verificationprogress, 1);
    // A header whose block the node does not have: headers counts it, blocks do not.
    await using other = await startRealNode();
    for (let h = 1; h <= 101; h++) {
      const block = await node.call("getblock", [await node.call("getblockhash", [h]), 0]);
      await other.call("submitblock", [block]);
    }
    const [next] = await other.call("generatetoaddress", [1, ADDRESS]);
    assertEquals(
      await node.call("submitheader", [await other.call("getblockheader", [next, false])]),
      null,
    );
    ({ states, info, state } = await both(node));
    assertEquals([states.headers, info.headers, state.blocks, info.blocks], [102, 102, 101, 101]);
    assertEquals(state.bestblockhash, info.bestblockhash);
  });

  await t.step("help", async () => {
    assertEquals(await node.call("help", ["getchainstates"]), HELP.getchainstates);
  });
});

Deno.test("getchainstates: -txindex takes its share of the cache first, as Core's CalculateCacheSizes", async () => {
  await using node = await startRealNode({ args: ["-rpcdoccheck", "-txindex"] });
  const { chainstates: [state] } = await node.call("getchainstates");
  assertEquals(
    [state.coins_db_cache_bytes, state.coins_tip_cache_bytes],
    [8_388_608, 402_391_040],
  );
});

Deno.test("enumeratesigners without -signer, and help's Signer section in Core's place", async () => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  await rejects(node.call("enumeratesigners"), -1, "Error: restart bitcoind with -signer=<cmd>");
  await rejects(node.call("enumeratesigners", ["x"]), -1, HELP.enumeratesigners);
  assertEquals(await node.call("help", ["enumeratesigners"]), HELP.enumeratesigners);
  const listing: string = await node.call("help");
  const sections = listing.split("\n\n");
  assertEquals(sections.map((section) => section.split("\n")[0]), [
    "== Blockchain ==",
    "== Control ==",
    "== Mining ==",
    "== Network ==",
    "== Rawtransactions ==",
    "== Signer ==",
    "== Util ==",
    "== Wallet ==",
    "== Zmq ==",
  ]);
  assertEquals(sections[5], "== Signer ==\nenumeratesigners");
  const blockchain = sections[0].split("\n");
  assert(blockchain.includes("getchainstates"), sections[0]);
  assert(blockchain.includes('importmempool "filepath" ( options )'), sections[0]);
  // Sorted by name within the section, as Core's CRPCTable::help.
  assertEquals(blockchain.slice(1), [...blockchain.slice(1)].sort());
});
