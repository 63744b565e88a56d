/**
 * `gettxoutproof` and `verifytxoutproof` (Core's `rpc/txoutproof.cpp`):
 * a BIP 37 merkle block proving transactions are in a block, and its
 * check against the active chain, with Core's refusals; and the wallet's
 * `importprunedfunds`, whose proof the node reads.
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { NodeServices } from "./services.ts";
 * import { txOutProofMethods } from "./txoutproof.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   const names = txOutProofMethods(new NodeServices({ chain, mempool })).map((m) => m.name);
 *   if (names.join() !== "gettxoutproof,verifytxoutproof") throw new Error(names.join());
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { hex } from "@scure/base";
import { compareBytes } from "@scure/btc-signer/utils.js";
import {
  type BlockEntry,
  blockHash,
  bytesEqual,
  decodeMerkleBlock,
  encodeMerkleBlock,
  encodeTx,
  extractMatches,
  hashFromHex,
  hashToHex,
  type MatchedTx,
  type MerkleBlock,
  merkleBlock,
  txid,
} from "../chain/mod.ts";
import {
  asArr,
  asStr,
  defineMethod,
  type Json,
  JsonNumber,
  parseHashV,
  parseHexV,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { arr, hexStr } from "./docs.ts";
import { decodeHexTx } from "./encoding.ts";
import { routed } from "./funding.ts";
import type { NodeServices } from "./services.ts";

/** A method's hex proof as Core's stream reads it (-8 not hex, -1 the stream's error). */
function readProof(value: Json): MerkleBlock {
  const bytes = parseHexV(value, "proof");
  try {
    return decodeMerkleBlock(bytes);
  } catch (error) {
    // Core's RPC server reports any exception as -1 with its text.
    throw new RpcError(RpcErrorCode.MISC_ERROR, `${(error as Error).message}: iostream error`);
  }
}

/** The transactions `proof` shows, or null when it does not lead to its header's merkle root. */
function provenMatches(proof: MerkleBlock): MatchedTx[] | null {
  const found = extractMatches(proof);
  return found !== null && bytesEqual(found.root, proof.header.merkleRoot) ? found.matches : null;
}

/**
 * `importprunedfunds`, routed to the wallet the request means: the node
 * decodes the transaction and the proof and says where in the proven block
 * the transaction is (null: not shown); the wallet checks the block is in
 * its chain and that the transaction pays it.
 */
export function importPrunedFundsMethod(node: NodeServices): RpcMethod {
  return defineMethod({
    name: "importprunedfunds",
    category: "wallet",
    description:
      "Imports funds without rescan. Corresponding address or script must previously be included in wallet. Aimed towards pruned wallets. The end-user is responsible to import additional transactions that subsequently spend the imported outputs or rescan after the point in the blockchain the transaction is included.\n",
    args: [
      {
        name: "rawtransaction",
        type: "hex",
        description: "A raw transaction in hex funding an already-existing address in wallet",
      },
      {
        name: "txoutproof",
        type: "hex",
        description: "The hex output from gettxoutproof that contains the transaction",
      },
    ],
    result: { type: "none", description: "" },
    examples: "",
    handler: routed(node, "importprunedfunds", (params) => {
      const tx = decodeHexTx(asStr(params.raw("rawtransaction")));
      if (tx === undefined) {
        throw new RpcError(
          RpcErrorCode.DESERIALIZATION_ERROR,
          "TX decode failed. Make sure the tx has at least one input.",
        );
      }
      const proof = readProof(params.raw("txoutproof"));
      const matches = provenMatches(proof);
      if (matches === null) notFound("Something wrong with merkleblock");
      const id = txid(tx);
      const match = matches.find((m) => bytesEqual(m.txid, id));
      return [
        hex.encode(encodeTx(tx)),
        hashToHex(blockHash(proof.header)),
        match === undefined ? null : new JsonNumber(String(match.index)),
      ];
    }),
  });
}

/** Core's -5 refusals. */
function notFound(message: string): never {
  throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, message);
}

/** The proof methods of the `blockchain` category. */
export function txOutProofMethods(node: NodeServices): RpcMethod[] {
  const { chain } = node;
  return [
    defineMethod({
      name: "gettxoutproof",
      category: "blockchain",
      description: 'Returns a hex-encoded proof that "txid" was included in a block.\n' +
        "\nNOTE: By default this function only works sometimes. This is when there is an\n" +
        "unspent output in the utxo for this transaction. To make it always work,\n" +
        "you need to maintain a transaction index, using the -txindex command line option or\n" +
        "specify the block in which the transaction is included manually (by blockhash).\n",
      args: [
        {
          name: "txids",
          type: "arr",
          description: "The txids to filter",
          inner: [{ name: "txid", type: "hex", description: "A transaction hash" }],
        },
        {
          name: "blockhash",
          type: "hex",
          optional: true,
          description: "If specified, looks for txid in the block with this hash",
        },
      ],
      result: hexStr("", "A string that is a serialized, hex-encoded data for the proof."),
      examples: "",
      handler(params) {
        const given = asArr(params.raw("txids"));
        if (given.length === 0) {
          throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "Parameter 'txids' cannot be empty");
        }
        const wanted = new Set<string>();
        for (const value of given) {
          const text = parseHashV(value, "txid");
          if (wanted.has(text)) {
            throw new RpcError(
              RpcErrorCode.INVALID_PARAMETER,
              `Invalid parameter, duplicated txid: ${asStr(value)}`,
            );
          }
          wanted.add(text);
        }
        let entry: BlockEntry | undefined;
        const blockHash = params.raw("blockhash");
        if (blockHash !== null) {
          entry = chain.entry(hashFromHex(parseHashV(blockHash, "blockhash")));
          if (entry === undefined) notFound("Block not found");
        } else {
          // In Core's set order (the hashes' stored bytes): the first with a coin left gives
          // the block at that coin's height; else the transaction index finds the first.
          const ordered = [...wanted].map(hashFromHex).sort(compareBytes);
          for (const hash of ordered) {
            const coin = chain.firstCoinOf(hash);
            if (coin !== undefined) {
              entry = chain.entryAtHeight(coin.height);
              break;
            }
          }
          if (entry === undefined) {
            const indexed = node.txindex?.find(ordered[0]);
            if (indexed === undefined) notFound("Transaction not yet in block");
            entry = chain.entry(indexed);
            if (entry === undefined) {
              throw new RpcError(RpcErrorCode.INTERNAL_ERROR, "Transaction index corrupt");
            }
          }
        }
        const block = chain.readBlock(entry.hash);
        if (block === undefined) {
          throw new RpcError(RpcErrorCode.MISC_ERROR, "Block not available (not fully downloaded)");
        }
        const found = block.txs.filter((tx) => wanted.has(hashToHex(txid(tx)))).length;
        if (found !== wanted.size) {
          notFound("Not all transactions found in specified or retrieved block");
        }
        return hex.encode(
          encodeMerkleBlock(merkleBlock(block, (hash) => wanted.has(hashToHex(hash)))),
        );
      },
    }),
    defineMethod({
      name: "verifytxoutproof",
      category: "blockchain",
      description:
        "Verifies that a proof points to a transaction in a block, returning the transaction it commits to\n" +
        "and throwing an RPC error if the block is not in our best chain\n",
      args: [{
        name: "proof",
        type: "hex",
        description: "The hex-encoded proof generated by gettxoutproof",
      }],
      result: arr("", "", [
        hexStr(
          "",
          "The txid(s) which the proof commits to, or empty array if the proof cannot be validated.",
        ),
      ]),
      examples: "",
      handler(params) {
        const proof = readProof(params.raw("proof"));
        const matches = provenMatches(proof);
        if (matches === null) return [];
        const entry = chain.entry(blockHash(proof.header));
        if (entry === undefined || !chain.isActive(entry) || entry.txCount === 0) {
          notFound("Block not found in chain");
        }
        // A proof of another size of block shows nothing (a subtree passed off as a block).
        if (entry.txCount !== proof.transactions) return [];
        return matches.map((match) => hashToHex(match.txid));
      },
    }),
  ];
}
