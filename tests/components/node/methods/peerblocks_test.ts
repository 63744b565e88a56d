/**
 * getblockfrompeer and pruneblockchain against a real node process over
 * HTTP (`-rpcdoccheck`), as Bitcoin Core v30 answers them on a node with
 * no peers that does not prune: each error with Core's code and text, in
 * Core's order, and both help texts word for word. `-prune=<n>` other
 * than 0 is refused, saying why.
 *
 * @module
 */
import { assert, assertEquals } from "../../../assert.ts";
import { NODE_MAIN, rejects, startRealNode } from "../real_node.ts";
import { scriptToAddress } from "../../../../components/node/chain/mod.ts";
import { TestKey } from "../chain/chain_helpers.ts";
import { DEFAULT_TIMEOUT_MS, tempDir, withTimeout } from "../../../helpers.ts";

const ADDRESS = scriptToAddress(new TestKey(23).wpkh)!;
const HASH = "00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09";

/** Core's `HelpExampleRpc` line for `params`. */
function curl(method: string, params: string): string {
  return `> curl --user myusername --data-binary '{"jsonrpc": "2.0", "id": "curltest", ` +
    `"method": "${method}", "params": [${params}]}' -H 'content-type: application/json' ` +
    "http://127.0.0.1:8332/\n";
}

/** Bitcoin Core v30.0's `help <method>` texts. */
const HELP: Record<string, string> = {
  getblockfrompeer: `getblockfrompeer "blockhash" peer_id

Attempt to fetch block from a given peer.

We must have the header for this block, e.g. using submitheader.
The block will not have any undo data which can limit the usage of the block data in a context where the undo data is needed.
Subsequent calls for the same block may cause the response from the previous peer to be ignored.
Peers generally ignore requests for a stale block that they never fully verified, or one that is more than a month old.
When a peer does not respond with a block, we will disconnect.
Note: The block could be re-pruned as soon as it is received.

Returns an empty JSON object if the request was successfully scheduled.

Arguments:
1. blockhash    (string, required) The block hash to try to fetch
2. peer_id      (numeric, required) The peer to fetch it from (see getpeerinfo for peer IDs)

Result:
{}    (empty JSON object)

Examples:
> bitcoin-cli getblockfrompeer "${HASH}" 0
${curl("getblockfrompeer", `"${HASH}" 0`)}`,
  pruneblockchain: `pruneblockchain height

Attempts to delete block and undo data up to a specified height or timestamp, if eligible for pruning.
Requires \`-prune\` to be enabled at startup. While pruned data may be re-fetched in some cases (e.g., via \`getblockfrompeer\`), local deletion is irreversible.

Arguments:
1. height    (numeric, required) The block height to prune up to. May be set to a discrete height, or to a UNIX epoch time
             to prune blocks whose block time is at least 2 hours older than the provided timestamp.

Result:
n    (numeric) Height of the last block pruned

Examples:
> bitcoin-cli pruneblockchain 1000
${curl("pruneblockchain", "1000")}`,
};

/** Core's `Wrong type passed` text for one argument. */
function wrongType(position: number, name: string, got: string, expected: string): string {
  return `Wrong type passed:\n{\n    "Position ${position} (${name})": ` +
    `"JSON value of type ${got} is not of expected type ${expected}"\n}`;
}

Deno.test("getblockfrompeer: Core v30's checks in order on a node without peers", async (t) => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  await node.call("generatetoaddress", [3, ADDRESS]);
  const tip: string = await node.call("getbestblockhash");
  const genesis: string = await node.call("getblockhash", [0]);

  // A header the node knows without its block: mined on a copy of the chain, sent by submitheader.
  await using other = await startRealNode();
  for (let h = 1; h <= 3; h++) {
    await other.call("submitblock", [
      await node.call("getblock", [await node.call("getblockhash", [h]), 0]),
    ]);
  }
  const [headerOnly] = await other.call("generatetoaddress", [1, ADDRESS]);
  await node.call("submitheader", [await other.call("getblockheader", [headerOnly, false])]);
  assertEquals(await node.call("getpeerinfo"), []);

  await t.step(
    "arguments: count, JSON types, then the hash, then peer_id as an integer",
    async () => {
      await rejects(node.call("getblockfrompeer", [tip]), -1, HELP.getblockfrompeer);
      await rejects(node.call("getblockfrompeer", [tip, 0, 1]), -1, HELP.getblockfrompeer);
      await rejects(
        node.call("getblockfrompeer", [1, "x"]),
        -3,
        `Wrong type passed:\n{\n    "Position 1 (blockhash)": ` +
          `"JSON value of type number is not of expected type string",\n` +
          `    "Position 2 (peer_id)": "JSON value of type string is not of expected type number"\n}`,
      );
      await rejects(
        node.call("getblockfrompeer", [tip, "0"]),
        -3,
        wrongType(2, "peer_id", "string", "number"),
      );
      // The hash is read before peer_id.
      await rejects(
        node.call("getblockfrompeer", ["zz", 1.5]),
        -8,
        "blockhash must be of length 64 (not 2, for 'zz')",
      );
      await rejects(
        node.call("getblockfrompeer", ["z".repeat(64), 0]),
        -8,
        `blockhash must be hexadecimal string (not '${"z".repeat(64)}')`,
      );
      // peer_id before the header: getInt<int64_t> refuses a fraction.
      await rejects(
        node.call("getblockfrompeer", ["11".repeat(32), 1.5]),
        -1,
        "JSON integer out of range",
      );
    },
  );

  await t.step("an unknown header, a block the node has, then the peer", async () => {
    await rejects(node.call("getblockfrompeer", ["11".repeat(32), 0]), -1, "Block header missing");
    for (const hash of [tip, genesis]) {
      await rejects(node.call("getblockfrompeer", [hash, 0]), -1, "Block already downloaded");
    }
    for (const peer of [0, 1, -1, 2 ** 53]) {
      await rejects(node.call("getblockfrompeer", [headerOnly, peer]), -1, "Peer does not exist");
    }
    // Named parameters, as Core maps them.
    await rejects(
      node.call("getblockfrompeer", { peer_id: 7, blockhash: headerOnly }),
      -1,
      "Peer does not exist",
    );
    assertEquals(await node.call("getblockcount"), 3);
  });

  await t.step("help", async () => {
    assertEquals(await node.call("help", ["getblockfrompeer"]), HELP.getblockfrompeer);
    const listing: string = await node.call("help");
    assert(listing.includes('\ngetblockfrompeer "blockhash" peer_id\n'), listing);
    assert(listing.includes("\npruneblockchain height\n"), listing);
  });
});

Deno.test("pruneblockchain: argument checks, then Core's answer for a node not in prune mode", async () => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  const notPruning = "Cannot prune blocks because node is not in prune mode.";
  await rejects(node.call("pruneblockchain"), -1, HELP.pruneblockchain);
  await rejects(node.call("pruneblockchain", [1, 2]), -1, HELP.pruneblockchain);
  await rejects(
    node.call("pruneblockchain", ["10"]),
    -3,
    wrongType(1, "height", "string", "number"),
  );
  await rejects(node.call("pruneblockchain", [null]), -3, wrongType(1, "height", "null", "number"));
  // Any number passes the type check; the prune mode is checked before its value is read.
  for (const height of [10, 0, -1, 1.5, 1_700_000_000]) {
    await rejects(node.call("pruneblockchain", [height]), -1, notPruning);
  }
  await rejects(node.call("pruneblockchain", { height: 5 }), -1, notPruning);
  assertEquals(await node.call("help", ["pruneblockchain"]), HELP.pruneblockchain);
});

Deno.test("-prune is refused, saying why: this node keeps every block", async () => {
  using datadir = tempDir("prune_test_");
  const { code, stderr } = await withTimeout(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", NODE_MAIN, "-regtest", `-datadir=${datadir.path}`, "-prune=550"],
      stdout: "null",
      stderr: "piped",
    }).output(),
    DEFAULT_TIMEOUT_MS,
    "the node's refusal of -prune",
  );
  assertEquals(code, 1);
  assertEquals(
    new TextDecoder().decode(stderr),
    "Error: -prune: not supported here: this node keeps every block\n",
  );
});
