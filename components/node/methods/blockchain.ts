/**
 * The `blockchain` methods of Bitcoin Core v30 over the node's chain state
 * (`rpc/blockchain.cpp`): getblockchaininfo, getblockcount,
 * getbestblockhash, getblockhash, getblockheader, getblock (verbosity
 * 0–3), getchaintips, getdifficulty, gettxout, gettxoutsetinfo, and the
 * hidden invalidateblock and reconsiderblock; Core's help texts, key
 * order and errors.
 *
 * @example
 * ```ts ignore
 * const methods = blockchainMethods(services); // RpcMethod[] for the server's table
 * ```
 * @module
 */
import { hex } from "@scure/base";
import {
  type BlockEntry,
  blockSizes,
  BlockStatus,
  compactToTarget,
  difficulty,
  encodeHeader,
  hashFromHex,
  hashToHex,
  txid,
} from "../chain/mod.ts";
import { MEMPOOL_HEIGHT } from "../mempool/mod.ts";
import {
  Amount,
  asBool,
  asInt,
  asStr,
  asUint32,
  defineMethod,
  helpExampleCli,
  helpExampleCliNamed,
  helpExampleRpc,
  type JsonInput,
  parseHashV,
  parseVerbosity,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../rpc/mod.ts";
import {
  amount,
  arr,
  bool,
  CURRENCY_UNIT,
  elision,
  headerFieldsDoc,
  headerPositionDoc,
  hexStr,
  num,
  obj,
  prevoutDoc,
  str,
  time,
  warningsDoc,
  when,
} from "./docs.ts";
import { scriptPubKeyJson, txToJson, type TxVerbosity } from "./encoding.ts";
import type { NodeServices } from "./services.ts";

/** The hash used in Core's examples. */
export const EXAMPLE_BLOCKHASH = "00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09";

/** A 256-bit number as Core's `uint256::GetHex` prints it: 64 hex digits. */
export function uint256Hex(value: bigint): string {
  return value.toString(16).padStart(64, "0");
}

/** The target a compact `bits` stands for (`GetTarget`), as hex. */
export function targetHex(bits: number): string {
  return uint256Hex(compactToTarget(bits).target);
}

/** `%08x`. */
export function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}

/** The block a `blockhash` argument names, or -5 `Block not found`. */
export function lookupBlock(node: NodeServices, value: Parameters<typeof parseHashV>[0]) {
  const entry = node.chain.entry(hashFromHex(parseHashV(value, "blockhash")));
  if (!entry) throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found");
  return entry;
}

/** `blockheaderToJSON`: the header fields in Core's order. */
export function headerJson(node: NodeServices, entry: BlockEntry): Map<string, JsonInput> {
  const { chain } = node;
  const active = chain.isActive(entry);
  const next = active ? chain.entryAtHeight(entry.height + 1) : undefined;
  const h = entry.header;
  const out = new Map<string, JsonInput>([
    ["hash", hashToHex(entry.hash)],
    ["confirmations", active ? chain.height - entry.height + 1 : -1],
    ["height", entry.height],
    ["version", h.version],
    ["versionHex", hex32(h.version)],
    ["merkleroot", hashToHex(h.merkleRoot)],
    ["time", h.time],
    ["mediantime", chain.medianTimePast(entry)],
    ["nonce", h.nonce >>> 0],
    ["bits", hex32(h.bits)],
    ["target", targetHex(h.bits)],
    ["difficulty", difficulty(h.bits)],
    ["chainwork", uint256Hex(entry.chainWork)],
    ["nTx", entry.txCount],
  ]);
  if (entry.prev) out.set("previousblockhash", hashToHex(entry.prev.hash));
  if (next) out.set("nextblockhash", hashToHex(next.hash));
  return out;
}

const blockhashArg = { name: "blockhash", type: "hex", description: "The block hash" } as const;

const getblockheaderResults = () => {
  const { before, after } = headerFieldsDoc(
    "Expected number of hashes required to produce the current chain",
  );
  return [
    when("for verbose = true", obj("", "", [...before, ...headerPositionDoc(), ...after])),
    when(
      "for verbose=false",
      hexStr("", "A string that is serialized, hex-encoded data for block 'hash'"),
    ),
  ];
};

const getblockResults = () => {
  const { before, after } = headerFieldsDoc(
    "Expected number of hashes required to produce the chain up to this block (in hex)",
  );
  const sizes = [
    num("size", "The block size"),
    num("strippedsize", "The block size excluding witness data"),
    num("weight", "The block weight as defined in BIP 141"),
  ];
  return [
    when(
      "for verbosity = 0",
      hexStr("", "A string that is serialized, hex-encoded data for block 'hash'"),
    ),
    when(
      "for verbosity = 1",
      obj("", "", [
        ...before,
        ...sizes,
        ...headerPositionDoc(),
        arr("tx", "The transaction ids", [hexStr("", "The transaction id")]),
        ...after,
      ]),
    ),
    when(
      "for verbosity = 2",
      obj("", "", [
        elision("Same output as verbosity = 1"),
        arr("tx", "", [
          obj("", "", [
            elision(
              'The transactions in the format of the getrawtransaction RPC. Different from verbosity = 1 "tx" result',
            ),
            amount(
              "fee",
              `The transaction fee in ${CURRENCY_UNIT}, omitted if block undo data is not available`,
              true,
            ),
          ]),
        ]),
      ]),
    ),
    when(
      "for verbosity = 3",
      obj("", "", [
        elision("Same output as verbosity = 2"),
        arr("tx", "", [
          obj("", "", [
            arr("vin", "", [
              obj("", "", [
                elision("The same output as verbosity = 2"),
                {
                  ...prevoutDoc(),
                  description: "(Only if undo information is available)",
                  optional: false,
                },
              ]),
            ]),
          ]),
        ]),
      ]),
    ),
  ];
};

/** The blockchain category's methods. */
export function blockchainMethods(node: NodeServices): RpcMethod[] {
  const { chain } = node;
  return [
    defineMethod({
      name: "getblockchaininfo",
      category: "blockchain",
      description:
        "Returns an object containing various state info regarding blockchain processing.",
      result: obj("", "", [
        str("chain", "current network name (main, test, testnet4, signet, regtest)"),
        num(
          "blocks",
          "the height of the most-work fully-validated chain. The genesis block has height 0",
        ),
        num("headers", "the current number of headers we have validated"),
        str("bestblockhash", "the hash of the currently best block"),
        hexStr("bits", "nBits: compact representation of the block difficulty target"),
        hexStr("target", "The difficulty target"),
        num("difficulty", "the current difficulty"),
        time("time", "The block time expressed in UNIX epoch time"),
        time("mediantime", "The median block time expressed in UNIX epoch time"),
        num("verificationprogress", "estimate of verification progress [0..1]"),
        bool(
          "initialblockdownload",
          "(debug information) estimate of whether this node is in Initial Block Download mode",
        ),
        hexStr("chainwork", "total amount of work in active chain, in hexadecimal"),
        num("size_on_disk", "the estimated size of the block and undo files on disk"),
        bool("pruned", "if the blocks are subject to pruning"),
        num(
          "pruneheight",
          "the first block unpruned, all previous blocks were pruned (only present if pruning is enabled)",
          true,
        ),
        bool(
          "automatic_pruning",
          "whether automatic pruning is enabled (only present if pruning is enabled)",
          true,
        ),
        num(
          "prune_target_size",
          "the target size used by pruning (only present if automatic pruning is enabled)",
          true,
        ),
        hexStr(
          "signet_challenge",
          "the block challenge (aka. block script), in hexadecimal (only present if the current network is a signet)",
          true,
        ),
        warningsDoc(),
      ]),
      examples: helpExampleCli("getblockchaininfo", "") + helpExampleRpc("getblockchaininfo", ""),
      handler() {
        const tip = chain.tip;
        return new Map<string, JsonInput>([
          ["chain", "regtest"],
          ["blocks", chain.height],
          ["headers", bestHeaderHeight(node)],
          ["bestblockhash", hashToHex(tip.hash)],
          ["bits", hex32(tip.header.bits)],
          ["target", targetHex(tip.header.bits)],
          ["difficulty", difficulty(tip.header.bits)],
          ["time", tip.header.time],
          ["mediantime", chain.medianTimePast(tip)],
          ["verificationprogress", node.verificationProgress(tip)],
          ["initialblockdownload", node.isInitialBlockDownload()],
          ["chainwork", uint256Hex(tip.chainWork)],
          ["size_on_disk", chain.blockFilesSize()],
          ["pruned", false],
          ["warnings", []],
        ]);
      },
    }),
    defineMethod({
      name: "getblockcount",
      category: "blockchain",
      description: "Returns the height of the most-work fully-validated chain.\n" +
        "The genesis block has height 0.\n",
      result: num("", "The current block count"),
      examples: helpExampleCli("getblockcount", "") + helpExampleRpc("getblockcount", ""),
      handler: () => chain.height,
    }),
    defineMethod({
      name: "getbestblockhash",
      category: "blockchain",
      description:
        "Returns the hash of the best (tip) block in the most-work fully-validated chain.\n",
      result: hexStr("", "the block hash, hex-encoded"),
      examples: helpExampleCli("getbestblockhash", "") + helpExampleRpc("getbestblockhash", ""),
      handler: () => hashToHex(chain.tip.hash),
    }),
    defineMethod({
      name: "getblockhash",
      category: "blockchain",
      description: "Returns hash of block in best-block-chain at height provided.\n",
      args: [{ name: "height", type: "num", description: "The height index" }],
      result: hexStr("", "The block hash"),
      examples: helpExampleCli("getblockhash", "1000") + helpExampleRpc("getblockhash", "1000"),
      handler(params) {
        const entry = chain.entryAtHeight(params.arg("height", asInt));
        if (!entry) throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "Block height out of range");
        return hashToHex(entry.hash);
      },
    }),
    defineMethod({
      name: "getblockheader",
      category: "blockchain",
      description:
        "If verbose is false, returns a string that is serialized, hex-encoded data for blockheader 'hash'.\n" +
        "If verbose is true, returns an Object with information about blockheader <hash>.\n",
      args: [
        blockhashArg,
        {
          name: "verbose",
          type: "bool",
          default: true,
          description: "true for a json object, false for the hex-encoded data",
        },
      ],
      result: getblockheaderResults(),
      examples: helpExampleCli("getblockheader", `"${EXAMPLE_BLOCKHASH}"`) +
        helpExampleRpc("getblockheader", `"${EXAMPLE_BLOCKHASH}"`),
      handler(params) {
        const entry = lookupBlock(node, params.raw("blockhash"));
        if (!params.arg("verbose", asBool)) return hex.encode(encodeHeader(entry.header));
        return headerJson(node, entry);
      },
    }),
    defineMethod({
      name: "getblock",
      category: "blockchain",
      description:
        "If verbosity is 0, returns a string that is serialized, hex-encoded data for block 'hash'.\n" +
        "If verbosity is 1, returns an Object with information about block <hash>.\n" +
        "If verbosity is 2, returns an Object with information about block <hash> and information about each transaction.\n" +
        "If verbosity is 3, returns an Object with information about block <hash> and information about each transaction, including prevout information for inputs (only for unpruned blocks in the current best chain).\n",
      args: [
        blockhashArg,
        {
          name: "verbosity|verbose",
          type: "num",
          default: 1,
          description:
            "0 for hex-encoded data, 1 for a JSON object, 2 for JSON object with transaction data, and 3 for JSON object with transaction data including prevout information for inputs",
          skipTypeCheck: true,
        },
      ],
      result: getblockResults(),
      examples: helpExampleCli("getblock", `"${EXAMPLE_BLOCKHASH}"`) +
        helpExampleRpc("getblock", `"${EXAMPLE_BLOCKHASH}"`),
      handler(params) {
        const entry = lookupBlock(node, params.raw("blockhash"));
        const verbosity = parseVerbosity(params.raw("verbosity"), 1);
        // Core's CheckBlockDataAvailability, then the read (GetRawBlockChecked).
        if (!(entry.status & BlockStatus.HAVE_DATA)) {
          throw new RpcError(RpcErrorCode.MISC_ERROR, "Block not available (not fully downloaded)");
        }
        const bytes = chain.readBlockBytes(entry.hash);
        if (!bytes) throw new RpcError(RpcErrorCode.MISC_ERROR, "Block not found on disk");
        if (verbosity <= 0) return hex.encode(bytes);
        return blockJson(node, entry, verbosity);
      },
    }),
    defineMethod({
      name: "getchaintips",
      category: "blockchain",
      description:
        "Return information about all known tips in the block tree, including the main chain as well as orphaned branches.\n",
      result: arr("", "", [
        obj("", "", [
          num("height", "height of the chain tip"),
          hexStr("hash", "block hash of the tip"),
          num(
            "branchlen",
            "zero for main chain, otherwise length of branch connecting the tip to the main chain",
          ),
          str(
            "status",
            'status of the chain, "active" for the main chain\n' +
              "Possible values for status:\n" +
              '1.  "invalid"               This branch contains at least one invalid block\n' +
              '2.  "headers-only"          Not all blocks for this branch are available, but the headers are valid\n' +
              '3.  "valid-headers"         All blocks are available for this branch, but they were never fully validated\n' +
              '4.  "valid-fork"            This branch is not part of the active chain, but is fully validated\n' +
              '5.  "active"                This is the tip of the active main chain, which is certainly valid',
          ),
        ]),
      ]),
      examples: helpExampleCli("getchaintips", "") + helpExampleRpc("getchaintips", ""),
      handler: () =>
        chain.chainTips().map((tip) =>
          new Map<string, JsonInput>([
            ["height", tip.height],
            ["hash", hashToHex(tip.hash)],
            ["branchlen", tip.branchLength],
            ["status", tip.status],
          ])
        ),
    }),
    defineMethod({
      name: "getdifficulty",
      category: "blockchain",
      description:
        "Returns the proof-of-work difficulty as a multiple of the minimum difficulty.\n",
      result: num("", "the proof-of-work difficulty as a multiple of the minimum difficulty."),
      examples: helpExampleCli("getdifficulty", "") + helpExampleRpc("getdifficulty", ""),
      handler: () => difficulty(chain.tip.header.bits),
    }),
    defineMethod({
      name: "gettxout",
      category: "blockchain",
      description: "Returns details about an unspent transaction output.\n",
      args: [
        { name: "txid", type: "hex", description: "The transaction id" },
        { name: "n", type: "num", description: "vout number" },
        {
          name: "include_mempool",
          type: "bool",
          default: true,
          description:
            "Whether to include the mempool. Note that an unspent output that is spent in the mempool won't appear.",
        },
      ],
      result: [
        when("If the UTXO was not found", { type: "none", description: "" }),
        when(
          "Otherwise",
          obj("", "", [
            hexStr("bestblock", "The hash of the block at the tip of the chain"),
            num("confirmations", "The number of confirmations"),
            amount("value", `The transaction value in ${CURRENCY_UNIT}`),
            obj("scriptPubKey", "", [
              str("asm", "Disassembly of the output script"),
              str("desc", "Inferred descriptor for the output"),
              hexStr("hex", "The raw output script bytes, hex-encoded"),
              str("type", "The type, eg pubkeyhash"),
              str("address", "The Bitcoin address (only if a well-defined address exists)", true),
            ]),
            bool("coinbase", "Coinbase or not"),
          ]),
        ),
      ],
      examples: "\nGet unspent transactions\n" + helpExampleCli("listunspent", "") +
        "\nView the details\n" + helpExampleCli("gettxout", '"txid" 1') +
        "\nAs a JSON-RPC call\n" + helpExampleRpc("gettxout", '"txid", 1'),
      handler(params) {
        const outpoint = {
          txid: hashFromHex(parseHashV(params.raw("txid"), "txid")),
          index: params.arg("n", asUint32),
        };
        const view = params.arg("include_mempool", asBool) ? node.mempool.coins() : chain;
        const coin = view.getCoin(outpoint);
        if (!coin) return null;
        return new Map<string, JsonInput>([
          ["bestblock", hashToHex(chain.tip.hash)],
          ["confirmations", coin.height === MEMPOOL_HEIGHT ? 0 : chain.height - coin.height + 1],
          ["value", new Amount(coin.amount)],
          ["scriptPubKey", scriptPubKeyJson(coin.script)],
          ["coinbase", coin.coinbase],
        ]);
      },
    }),
    defineMethod({
      name: "gettxoutsetinfo",
      category: "blockchain",
      description: "Returns statistics about the unspent transaction output set.\n" +
        "Note this call may take some time if you are not using coinstatsindex.\n",
      args: [
        {
          name: "hash_type",
          type: "str",
          default: "hash_serialized_3",
          description:
            "Which UTXO set hash should be calculated. Options: 'hash_serialized_3' (the legacy algorithm), 'muhash', 'none'.",
        },
        {
          name: "hash_or_height",
          type: "num",
          defaultHint: "the current best block",
          description:
            "The block hash or height of the target height (only available with coinstatsindex).",
          typeStr: ["", "string or numeric"],
          skipTypeCheck: true,
        },
        {
          name: "use_index",
          type: "bool",
          default: true,
          description: "Use coinstatsindex, if available.",
        },
      ],
      result: obj("", "", [
        num("height", "The block height (index) of the returned statistics"),
        hexStr("bestblock", "The hash of the block at which these statistics are calculated"),
        num("txouts", "The number of unspent transaction outputs"),
        num("bogosize", "Database-independent, meaningless metric indicating the UTXO set size"),
        hexStr(
          "hash_serialized_3",
          "The serialized hash (only present if 'hash_serialized_3' hash_type is chosen)",
          true,
        ),
        hexStr(
          "muhash",
          "The serialized hash (only present if 'muhash' hash_type is chosen)",
          true,
        ),
        num(
          "transactions",
          "The number of transactions with unspent outputs (not available when coinstatsindex is used)",
          true,
        ),
        num(
          "disk_size",
          "The estimated size of the chainstate on disk (not available when coinstatsindex is used)",
          true,
        ),
        amount("total_amount", "The total amount of coins in the UTXO set"),
        amount(
          "total_unspendable_amount",
          "The total amount of coins permanently excluded from the UTXO set (only available if coinstatsindex is used)",
          true,
        ),
        obj(
          "block_info",
          "Info on amounts in the block at this block height (only available if coinstatsindex is used)",
          [
            amount("prevout_spent", "Total amount of all prevouts spent in this block"),
            amount("coinbase", "Coinbase subsidy amount of this block"),
            amount("new_outputs_ex_coinbase", "Total amount of new outputs created by this block"),
            amount("unspendable", "Total amount of unspendable outputs created in this block"),
            obj("unspendables", "Detailed view of the unspendable categories", [
              amount("genesis_block", "The unspendable amount of the Genesis block subsidy"),
              amount(
                "bip30",
                "Transactions overridden by duplicates (no longer possible with BIP30)",
              ),
              amount(
                "scripts",
                "Amounts sent to scripts that are unspendable (for example OP_RETURN outputs)",
              ),
              amount(
                "unclaimed_rewards",
                "Fee rewards that miners did not claim in their coinbase transaction",
              ),
            ]),
          ],
          true,
        ),
      ]),
      examples: helpExampleCli("gettxoutsetinfo", "") +
        helpExampleCli("gettxoutsetinfo", '"none"') +
        helpExampleCli("gettxoutsetinfo", '"none" 1000') +
        helpExampleCli("gettxoutsetinfo", `"none" '"${EXAMPLE_BLOCKHASH}"'`) +
        helpExampleCliNamed("gettxoutsetinfo", [["hash_type", "muhash"], ["use_index", "false"]]) +
        helpExampleRpc("gettxoutsetinfo", "") +
        helpExampleRpc("gettxoutsetinfo", '"none"') +
        helpExampleRpc("gettxoutsetinfo", '"none", 1000') +
        helpExampleRpc("gettxoutsetinfo", `"none", "${EXAMPLE_BLOCKHASH}"`),
      handler(params) {
        const hashType = params.arg("hash_type", asStr);
        if (hashType !== "hash_serialized_3" && hashType !== "none") {
          if (hashType === "muhash") {
            throw new RpcError(
              RpcErrorCode.INVALID_PARAMETER,
              "'muhash' is not supported by this node; use 'hash_serialized_3' or 'none'",
            );
          }
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            `'${hashType}' is not a valid hash_type`,
          );
        }
        if (params.has("hash_or_height")) {
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "Querying specific block heights requires coinstatsindex",
          );
        }
        const stats = chain.utxoStats();
        const out = new Map<string, JsonInput>([
          ["height", stats.height],
          ["bestblock", hashToHex(stats.bestBlock)],
          ["txouts", stats.txouts],
          ["bogosize", stats.bogosize],
        ]);
        if (hashType === "hash_serialized_3") {
          out.set("hash_serialized_3", hashToHex(stats.hashSerialized));
        }
        out.set("total_amount", new Amount(stats.totalAmount));
        out.set("transactions", stats.transactions);
        out.set("disk_size", chain.utxoDiskSize());
        return out;
      },
    }),
    defineMethod({
      name: "invalidateblock",
      category: "hidden",
      description: "Permanently marks a block as invalid, as if it violated a consensus rule.\n",
      args: [{
        name: "blockhash",
        type: "hex",
        description: "the hash of the block to mark as invalid",
      }],
      result: { type: "none", description: "" },
      examples: helpExampleCli("invalidateblock", '"blockhash"') +
        helpExampleRpc("invalidateblock", '"blockhash"'),
      handler(params) {
        const entry = lookupBlock(node, params.raw("blockhash"));
        try {
          chain.invalidateBlock(entry.hash);
        } catch (error) {
          throw new RpcError(RpcErrorCode.DATABASE_ERROR, (error as Error).message);
        }
      },
    }),
    defineMethod({
      name: "reconsiderblock",
      category: "hidden",
      description:
        "Removes invalidity status of a block, its ancestors and its descendants, reconsider them for activation.\n" +
        "This can be used to undo the effects of invalidateblock.\n",
      args: [{
        name: "blockhash",
        type: "hex",
        description: "the hash of the block to reconsider",
      }],
      result: { type: "none", description: "" },
      examples: helpExampleCli("reconsiderblock", '"blockhash"') +
        helpExampleRpc("reconsiderblock", '"blockhash"'),
      handler(params) {
        const entry = lookupBlock(node, params.raw("blockhash"));
        chain.reconsiderBlock(entry.hash);
      },
    }),
  ];
}

/** The height of the most-work header that is not invalid (`m_best_header`). */
function bestHeaderHeight(node: NodeServices): number {
  let best = node.chain.tip;
  for (const tip of node.chain.chainTips()) {
    if (tip.status === "invalid") continue;
    const entry = node.chain.entry(tip.hash);
    if (entry && entry.chainWork > best.chainWork) best = entry;
  }
  return best.height;
}

/** `blockToJSON`: the header, sizes and the transactions at the given verbosity (≥ 1). */
export function blockJson(
  node: NodeServices,
  entry: BlockEntry,
  verbosity: number,
): Map<string, JsonInput> {
  const block = node.chain.readBlock(entry.hash)!;
  const out = headerJson(node, entry);
  const sizes = blockSizes(block);
  out.set("strippedsize", sizes.strippedSize);
  out.set("size", sizes.size);
  out.set("weight", sizes.weight);
  if (verbosity === 1) {
    out.set("tx", block.txs.map((tx) => hashToHex(txid(tx))));
    return out;
  }
  const txVerbosity: TxVerbosity = verbosity === 2 ? "details" : "prevout";
  const undo = node.chain.readUndo(entry.hash);
  out.set(
    "tx",
    block.txs.map((tx, i) =>
      txToJson(tx, {
        undo: undo && i > 0 ? undo[i - 1] : undefined,
        verbosity: txVerbosity,
      })
    ),
  );
  return out;
}
