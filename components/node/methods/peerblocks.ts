/**
 * Two blockchain methods of Bitcoin Core v30 (`rpc/blockchain.cpp`) that
 * this node answers as bitcoind does in its situation: getblockfrompeer,
 * for a node that has no peers (it has no peer-to-peer network, so
 * getpeerinfo is always empty) and does not prune, and pruneblockchain,
 * for a node not in prune mode (it takes only `-prune=0`).
 *
 * getblockfrompeer checks as Core does, in Core's order: the hash
 * (`ParseHashV`), `peer_id` (`getInt<int64_t>`), -1 `Block header missing`
 * for a header the node does not know, Core's prune-mode check (never true
 * here), -1 `Block already downloaded` when the block's data is stored, and
 * then `PeerManager::FetchBlock`'s -1 `Peer does not exist`, which every
 * peer id gets. pruneblockchain reads its argument's type (Core's argument
 * checks) and then answers -1 `Cannot prune blocks because node is not in
 * prune mode.`.
 *
 * @example
 * ```ts
 * import { ChainState, hashToHex } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { NodeServices } from "./services.ts";
 * import { peerBlockMethods } from "./peerblocks.ts";
 * import { parseJson } from "../../rpc/mod.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   const [fetch, prune] = peerBlockMethods(new NodeServices({ chain, mempool }));
 *   const failure = async (method: typeof fetch, args: string[]) => {
 *     try {
 *       await method.call(args.map((arg) => parseJson(arg)), {} as never);
 *     } catch (error) {
 *       return (error as Error).message;
 *     }
 *   };
 *   const genesis = `"${hashToHex(chain.tip.hash)}"`;
 *   if (await failure(fetch, [genesis, "0"]) !== "Block already downloaded") throw new Error();
 *   if (await failure(fetch, [`"${"11".repeat(32)}"`, "0"]) !== "Block header missing") {
 *     throw new Error();
 *   }
 *   const pruned = await failure(prune, ["10"]);
 *   if (pruned !== "Cannot prune blocks because node is not in prune mode.") throw new Error();
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { BlockStatus, hashFromHex } from "../chain/mod.ts";
import {
  asInt64,
  defineMethod,
  helpExampleCli,
  helpExampleRpc,
  parseHashV,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { num, obj } from "./docs.ts";
import type { NodeServices } from "./services.ts";

/** The block hash Core's help examples show. */
const EXAMPLE_HASH = '"00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09"';

/** getblockfrompeer and pruneblockchain over `node`'s chain. */
export function peerBlockMethods(node: NodeServices): RpcMethod[] {
  return [
    defineMethod({
      name: "getblockfrompeer",
      category: "blockchain",
      description: "Attempt to fetch block from a given peer.\n\n" +
        "We must have the header for this block, e.g. using submitheader.\n" +
        "The block will not have any undo data which can limit the usage of the block data in a context where the undo data is needed.\n" +
        "Subsequent calls for the same block may cause the response from the previous peer to be ignored.\n" +
        "Peers generally ignore requests for a stale block that they never fully verified, or one that is more than a month old.\n" +
        "When a peer does not respond with a block, we will disconnect.\n" +
        "Note: The block could be re-pruned as soon as it is received.\n\n" +
        "Returns an empty JSON object if the request was successfully scheduled.",
      args: [
        { name: "blockhash", type: "hex", description: "The block hash to try to fetch" },
        {
          name: "peer_id",
          type: "num",
          description: "The peer to fetch it from (see getpeerinfo for peer IDs)",
        },
      ],
      result: obj("", "", []),
      examples: helpExampleCli("getblockfrompeer", `${EXAMPLE_HASH} 0`) +
        helpExampleRpc("getblockfrompeer", `${EXAMPLE_HASH} 0`),
      handler(params) {
        const hash = parseHashV(params.raw("blockhash"), "blockhash");
        params.arg("peer_id", asInt64);
        const entry = node.chain.entry(hashFromHex(hash));
        if (!entry) throw new RpcError(RpcErrorCode.MISC_ERROR, "Block header missing");
        // Core's prune-mode check comes here; this node never prunes.
        if (entry.status & BlockStatus.HAVE_DATA) {
          throw new RpcError(RpcErrorCode.MISC_ERROR, "Block already downloaded");
        }
        // PeerManager::FetchBlock: this node has no peers, so no id names one.
        throw new RpcError(RpcErrorCode.MISC_ERROR, "Peer does not exist");
      },
    }),
    defineMethod({
      name: "pruneblockchain",
      category: "blockchain",
      description:
        "Attempts to delete block and undo data up to a specified height or timestamp, if eligible for pruning.\n" +
        "Requires `-prune` to be enabled at startup. While pruned data may be re-fetched in some cases (e.g., via `getblockfrompeer`), local deletion is irreversible.\n",
      args: [{
        name: "height",
        type: "num",
        description:
          "The block height to prune up to. May be set to a discrete height, or to a UNIX epoch time\n" +
          "                  to prune blocks whose block time is at least 2 hours older than the provided timestamp.",
      }],
      result: num("", "Height of the last block pruned"),
      examples: helpExampleCli("pruneblockchain", "1000") +
        helpExampleRpc("pruneblockchain", "1000"),
      handler() {
        // `IsPruneMode()` is false: the node takes no -prune.
        throw new RpcError(
          RpcErrorCode.MISC_ERROR,
          "Cannot prune blocks because node is not in prune mode.",
        );
      },
    }),
  ];
}
