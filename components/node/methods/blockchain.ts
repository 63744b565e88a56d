/**
 * The `blockchain` methods of Bitcoin Core v30 over the node's chain state
 * (`rpc/blockchain.cpp`): getblockchaininfo, getblockcount,
 * getbestblockhash, getblockhash, getblockheader, getblock (verbosity
 * 0–3), getchaintips, getdifficulty, gettxout, gettxoutsetinfo,
 * getblockstats, getchaintxstats, getdeploymentinfo, the long polls
 * waitfornewblock, waitforblock and waitforblockheight (they end on a new
 * tip, on their timeout, or at shutdown with the tip they started from),
 * verifychain, preciousblock, scantxoutset, getchainstates (the one
 * chainstate: no snapshots), and the hidden invalidateblock and
 * reconsiderblock; Core's help texts, key order and errors.
 *
 * `nodeMethods` (`mod.ts`, whose example runs it) adds `blockchainMethods(…)` to the
 * server's table with the others.
 * @module
 */
import { hex } from "@scure/base";
import {
  bip9Info,
  type Block,
  type BlockEntry,
  blockSizes,
  BlockStatus,
  type Coin,
  compactToTarget,
  difficulty,
  encodeHeader,
  hashFromHex,
  hashToHex,
  inferDescriptor,
  REGTEST_BIP9,
  REGTEST_BURIED,
  SigningProvider,
  txid,
} from "../chain/mod.ts";
import { MEMPOOL_HEIGHT } from "../mempool/mod.ts";
import {
  Amount,
  asArr,
  asBool,
  asInt,
  asStr,
  asUint32,
  defineMethod,
  helpExampleCli,
  helpExampleCliNamed,
  helpExampleRpc,
  type Json,
  type JsonInput,
  JsonNumber,
  parseHashV,
  parseVerbosity,
  type RequestContext,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { BLOCK_STATS, blockStats } from "./blockstats.ts";
import { evalScanObject } from "./descriptors.ts";
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
  objDyn,
  prevoutDoc,
  str,
  time,
  warningsDoc,
  when,
} from "./docs.ts";
import { scriptPubKeyJson, txToJson, type TxVerbosity } from "./encoding.ts";
import {
  SCAN_ACTION_ARG,
  SCAN_OBJECTS_ARG,
  SCAN_RESULT_ABORT,
  SCAN_RESULT_STATUS_NONE,
  TxOutSetScan,
} from "./scan.ts";
import type { NodeServices } from "./services.ts";

/** Core's `DEFAULT_DB_CACHE` (`-dbcache`, 450 MiB in v30). */
const DEFAULT_DB_CACHE = 450 * 2 ** 20;
/** `MAX_TX_INDEX_CACHE` (node/caches.cpp): 1 GiB. */
const MAX_TX_INDEX_CACHE = 1024 * 2 ** 20;
/** `MAX_BLOCK_DB_CACHE` (kernel/caches.h): 2 MiB. */
const MAX_BLOCK_DB_CACHE = 2 * 2 ** 20;
/** `MAX_COINS_DB_CACHE` (kernel/caches.h): 8 MiB. */
const MAX_COINS_DB_CACHE = 8 * 2 ** 20;

/**
 * getchainstates' `coins_db_cache_bytes` and `coins_tip_cache_bytes`. This
 * node keeps no coins caches: it writes coins straight to its database. It
 * reports what Bitcoin Core v30 reports for the same options, from
 * `CalculateCacheSizes` (node/caches.cpp) and `kernel::CacheSizes`: of
 * `-dbcache` (this node takes none, so Core's default, 450 MiB), the
 * transaction index takes min(total / 8, 1 GiB) with `-txindex` (block
 * filter indexes would take their share next; this node has none), then
 * the block tree database min(rest / 8, 2 MiB), the coins database
 * min(rest / 2, 8 MiB), and the coins tip cache the rest. With one
 * chainstate, `MaybeRebalanceCaches` gives it both totals whole.
 */
export function coinsCacheSizes(options: { txindex: boolean }): {
  coinsDb: number;
  coinsTip: number;
} {
  let total = DEFAULT_DB_CACHE;
  if (options.txindex) total -= Math.min(Math.floor(total / 8), MAX_TX_INDEX_CACHE);
  total -= Math.min(Math.floor(total / 8), MAX_BLOCK_DB_CACHE);
  const coinsDb = Math.min(Math.floor(total / 2), MAX_COINS_DB_CACHE);
  return { coinsDb, coinsTip: total - coinsDb };
}

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

/**
 * Core's `GetBlockChecked` and `GetUndoChecked`: a block and its undo data
 * (none for the genesis block), -1 when the block's data or either read is
 * missing.
 */
export function readBlockChecked(
  node: NodeServices,
  entry: BlockEntry,
): { block: Block; undo: Coin[][] } {
  if (!(entry.status & BlockStatus.HAVE_DATA)) {
    throw new RpcError(RpcErrorCode.MISC_ERROR, "Block not available (not fully downloaded)");
  }
  const block = node.chain.readBlock(entry.hash);
  if (!block) throw new RpcError(RpcErrorCode.MISC_ERROR, "Block not found on disk");
  const undo = entry.height === 0 ? [] : node.chain.readUndo(entry.hash);
  if (!undo) throw new RpcError(RpcErrorCode.MISC_ERROR, "Undo data not available");
  return { block, undo };
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

/**
 * How long syncwithvalidationinterfacequeue waits for the notification
 * subscribers (a wallet process that stopped reading must not hold it).
 */
const SYNC_NOTIFICATIONS_MS = 60_000;

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

/**
 * The active chain's block at `height`, or Core's `ParseHashOrHeight`
 * errors: -8 `Target block height <h> is negative` / `… after current tip <tip>`.
 */
export function activeBlockAtHeight(node: NodeServices, height: number): BlockEntry {
  if (height < 0) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      `Target block height ${height} is negative`,
    );
  }
  if (height > node.chain.height) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      `Target block height ${height} after current tip ${node.chain.height}`,
    );
  }
  return node.chain.entryAtHeight(height)!;
}

/** Core's `ParseHashOrHeight`: a block of the active chain by height, or any block by hash. */
export function blockByHashOrHeight(node: NodeServices, value: Json): BlockEntry {
  if (value instanceof JsonNumber) return activeBlockAtHeight(node, asInt(value));
  const entry = node.chain.entry(hashFromHex(parseHashV(value, "hash_or_height")));
  if (!entry) throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found");
  return entry;
}

/** The `{hash, height}` the long polls answer. */
function tipJson(entry: BlockEntry): Map<string, JsonInput> {
  return new Map<string, JsonInput>([["hash", hashToHex(entry.hash)], ["height", entry.height]]);
}

const tipResult = () =>
  obj("", "", [hexStr("hash", "The blockhash"), num("height", "Block height")]);

const timeoutArg = {
  name: "timeout",
  type: "num",
  default: 0,
  description: "Time in milliseconds to wait for a response. 0 indicates no timeout.",
} as const;

const LONG_POLL_NOTE = "\nReturns the current block on timeout or exit.\n" +
  "\nMake sure to use no RPC timeout (bitcoin-cli -rpcclienttimeout=0)";

/** A long poll's timeout argument: -1 `Negative timeout` below zero. */
function readTimeout(value: number): number {
  if (value < 0) throw new RpcError(RpcErrorCode.MISC_ERROR, "Negative timeout");
  return value;
}

/**
 * The loop of `waitforblock` and `waitforblockheight`: waits for new tips
 * until `done` holds, the timeout passes, or shutdown; the last tip seen.
 */
async function waitUntil(
  node: NodeServices,
  done: (tip: BlockEntry) => boolean,
  timeoutMs: number,
  ctx: RequestContext,
): Promise<BlockEntry> {
  let current = node.chain.tip;
  const deadline = performance.now() + timeoutMs;
  while (!done(current)) {
    let remaining = 0;
    if (timeoutMs) {
      remaining = deadline - performance.now();
      if (remaining <= 0) break;
    }
    const next = await node.waitTipChanged(current.hash, Math.ceil(remaining), ctx.signal);
    if (!next) break;
    current = next;
  }
  return current;
}

/** `CHECKLEVEL_DOC`. */
const CHECKLEVEL_DOC = [
  "level 0 reads the blocks from disk",
  "level 1 verifies block validity",
  "level 2 verifies undo data",
  "level 3 checks disconnection of tip blocks",
  "level 4 tries to reconnect the blocks",
  "each level includes the checks of the previous levels",
];
const DEFAULT_CHECKLEVEL = 3;
const DEFAULT_CHECKBLOCKS = 6;

/** `RPCHelpForDeployment`. */
function deploymentDoc() {
  return [
    str("type", 'one of "buried", "bip9"'),
    num(
      "height",
      'height of the first block which the rules are or will be enforced (only for "buried" type, or "bip9" type with "active" status)',
      true,
    ),
    bool("active", "true if the rules are enforced for the mempool and the next block"),
    obj("bip9", 'status of bip9 softforks (only for "bip9" type)', [
      num(
        "bit",
        'the bit (0-28) in the block version field used to signal this softfork (only for "started" and "locked_in" status)',
        true,
      ),
      time(
        "start_time",
        "the minimum median time past of a block at which the bit gains its meaning",
      ),
      time(
        "timeout",
        "the median time past of a block at which the deployment is considered failed if not yet locked in",
      ),
      num("min_activation_height", "minimum height of blocks for which the rules may be enforced"),
      str(
        "status",
        'status of deployment at specified block (one of "defined", "started", "locked_in", "active", "failed")',
      ),
      num("since", "height of the first block to which the status applies"),
      str("status_next", "status of deployment at the next block"),
      obj(
        "statistics",
        'numeric statistics about signalling for a softfork (only for "started" and "locked_in" status)',
        [
          num("period", "the length in blocks of the signalling period"),
          num(
            "threshold",
            'the number of blocks with the version bit set required to activate the feature (only for "started" status)',
            true,
          ),
          num("elapsed", "the number of blocks elapsed since the beginning of the current period"),
          num("count", "the number of blocks with the version bit set in the current period"),
          bool(
            "possible",
            'returns false if there are not enough blocks left in this period to pass activation threshold (only for "started" status)',
            true,
          ),
        ],
        true,
      ),
      str(
        "signalling",
        "indicates blocks that signalled with a # and blocks that did not with a -",
        true,
      ),
    ], true),
  ];
}

/** Core's `DeploymentInfo`: every regtest deployment's state at `entry`. */
function deploymentsJson(node: NodeServices, entry: BlockEntry): Map<string, JsonInput> {
  const out = new Map<string, JsonInput>();
  for (const { name, height } of REGTEST_BURIED) {
    // Reported active from when the chain is one below the activation height.
    out.set(
      name,
      new Map<string, JsonInput>([
        ["type", "buried"],
        ["active", entry.height + 1 >= height],
        ["height", height],
      ]),
    );
  }
  for (const deployment of REGTEST_BIP9) {
    const info = bip9Info(node.chain, entry, deployment);
    const bip9 = new Map<string, JsonInput>();
    if (info.stats) bip9.set("bit", deployment.bit);
    bip9.set("start_time", deployment.startTime);
    bip9.set("timeout", deployment.timeout);
    bip9.set("min_activation_height", deployment.minActivationHeight);
    bip9.set("status", info.current);
    bip9.set("since", info.since);
    bip9.set("status_next", info.next);
    if (info.stats) {
      const stats = new Map<string, JsonInput>([
        ["period", info.stats.period],
        ["elapsed", info.stats.elapsed],
        ["count", info.stats.count],
      ]);
      if (info.stats.threshold > 0 || info.stats.possible) {
        stats.set("threshold", info.stats.threshold);
        stats.set("possible", info.stats.possible);
      }
      bip9.set("statistics", stats);
      bip9.set("signalling", info.stats.signalling.map((s) => (s ? "#" : "-")).join(""));
    }
    const rv = new Map<string, JsonInput>([["type", "bip9"]]);
    if (info.activeSince !== undefined) rv.set("height", info.activeSince);
    rv.set("active", info.activeSince !== undefined && info.activeSince <= entry.height + 1);
    rv.set("bip9", bip9);
    out.set(deployment.name, rv);
  }
  return out;
}

/** getdeploymentinfo's result at `entry` (REST's `/rest/deploymentinfo` too). */
export function deploymentInfoJson(node: NodeServices, entry: BlockEntry): Map<string, JsonInput> {
  return new Map<string, JsonInput>([
    ["hash", hashToHex(entry.hash)],
    ["height", entry.height],
    ["deployments", deploymentsJson(node, entry)],
  ]);
}

/** getblockchaininfo's result (REST's `/rest/chaininfo` too). */
export function blockchainInfoJson(node: NodeServices): Map<string, JsonInput> {
  const { chain } = node;
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
    ["warnings", node.warnings.forRpc(node.deprecatedRpc)],
  ]);
}

/** Core's raw() descriptor of the scantxoutset examples (mainnet `12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S`). */
const EXAMPLE_DESCRIPTOR_RAW = "raw(76a91411b366edfc0a8b66feebae5c2e25a7b6a5d1cf3188ac)#fm24fxxy";

/** The blockchain category's methods. */
export function blockchainMethods(node: NodeServices): RpcMethod[] {
  const { chain } = node;
  const scan = new TxOutSetScan();
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
        warningsDoc(node.deprecatedRpc),
      ]),
      examples: helpExampleCli("getblockchaininfo", "") + helpExampleRpc("getblockchaininfo", ""),
      handler: () => blockchainInfoJson(node),
    }),
    defineMethod({
      name: "getchainstates",
      category: "blockchain",
      description: "Return information about chainstates.\n",
      result: obj("", "", [
        num("headers", "the number of headers seen so far"),
        arr(
          "chainstates",
          "list of the chainstates ordered by work, with the most-work (active) chainstate last",
          [obj("", "", [
            num("blocks", "number of blocks in this chainstate"),
            hexStr("bestblockhash", "blockhash of the tip"),
            hexStr("bits", "nBits: compact representation of the block difficulty target"),
            hexStr("target", "The difficulty target"),
            num("difficulty", "difficulty of the tip"),
            num("verificationprogress", "progress towards the network tip"),
            hexStr(
              "snapshot_blockhash",
              "the base block of the snapshot this chainstate is based on, if any",
              true,
            ),
            num("coins_db_cache_bytes", "size of the coinsdb cache"),
            num("coins_tip_cache_bytes", "size of the coinstip cache"),
            bool(
              "validated",
              "whether the chainstate is fully validated. True if all blocks in the chainstate were validated, false if the chain is based on a snapshot and the snapshot has not yet been validated.",
            ),
          ])],
        ),
      ]),
      examples: helpExampleCli("getchainstates", "") + helpExampleRpc("getchainstates", ""),
      handler() {
        const tip = chain.tip;
        const caches = coinsCacheSizes({ txindex: node.txindex !== undefined });
        // One chainstate, never from a snapshot: validated, and no snapshot_blockhash.
        const chainstate = new Map<string, JsonInput>([
          ["blocks", chain.height],
          ["bestblockhash", hashToHex(tip.hash)],
          ["bits", hex32(tip.header.bits)],
          ["target", targetHex(tip.header.bits)],
          ["difficulty", difficulty(tip.header.bits)],
          ["verificationprogress", node.verificationProgress(tip)],
          ["coins_db_cache_bytes", caches.coinsDb],
          ["coins_tip_cache_bytes", caches.coinsTip],
          ["validated", true],
        ]);
        return new Map<string, JsonInput>([
          ["headers", bestHeaderHeight(node)],
          ["chainstates", [chainstate]],
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
      name: "getblockstats",
      category: "blockchain",
      description:
        "Compute per block statistics for a given window. All amounts are in satoshis.\n" +
        "It won't work for some heights with pruning.\n",
      args: [
        {
          name: "hash_or_height",
          type: "num",
          description: "The block hash or height of the target block",
          skipTypeCheck: true,
          typeStr: ["", "string or numeric"],
        },
        {
          name: "stats",
          type: "arr",
          defaultHint: "all values",
          description: "Values to plot (see result below)",
          inner: [
            { name: "height", type: "str", optional: true, description: "Selected statistic" },
            { name: "time", type: "str", optional: true, description: "Selected statistic" },
          ],
          onelineDescription: "stats",
        },
      ],
      result: obj("", "", [
        num("avgfee", "Average fee in the block", true),
        num("avgfeerate", "Average feerate (in satoshis per virtual byte)", true),
        num("avgtxsize", "Average transaction size", true),
        hexStr("blockhash", "The block hash (to check for potential reorgs)", true),
        {
          type: "arr_fixed",
          key: "feerate_percentiles",
          description:
            "Feerates at the 10th, 25th, 50th, 75th, and 90th percentile weight unit (in satoshis per virtual byte)",
          optional: true,
          inner: [10, 25, 50, 75, 90].map((p) =>
            num(`${p}th_percentile_feerate`, `The ${p}th percentile feerate`)
          ),
        },
        num("height", "The height of the block", true),
        num("ins", "The number of inputs (excluding coinbase)", true),
        num("maxfee", "Maximum fee in the block", true),
        num("maxfeerate", "Maximum feerate (in satoshis per virtual byte)", true),
        num("maxtxsize", "Maximum transaction size", true),
        num("medianfee", "Truncated median fee in the block", true),
        num("mediantime", "The block median time past", true),
        num("mediantxsize", "Truncated median transaction size", true),
        num("minfee", "Minimum fee in the block", true),
        num("minfeerate", "Minimum feerate (in satoshis per virtual byte)", true),
        num("mintxsize", "Minimum transaction size", true),
        num("outs", "The number of outputs", true),
        num("subsidy", "The block subsidy", true),
        num("swtotal_size", "Total size of all segwit transactions", true),
        num("swtotal_weight", "Total weight of all segwit transactions", true),
        num("swtxs", "The number of segwit transactions", true),
        num("time", "The block time", true),
        num(
          "total_out",
          "Total amount in all outputs (excluding coinbase and thus reward [ie subsidy + totalfee])",
          true,
        ),
        num("total_size", "Total size of all non-coinbase transactions", true),
        num("total_weight", "Total weight of all non-coinbase transactions", true),
        num("totalfee", "The fee total", true),
        num("txs", "The number of transactions (including coinbase)", true),
        num(
          "utxo_increase",
          "The increase/decrease in the number of unspent outputs (not discounting op_return and similar)",
          true,
        ),
        num(
          "utxo_size_inc",
          "The increase/decrease in size for the utxo index (not discounting op_return and similar)",
          true,
        ),
        num(
          "utxo_increase_actual",
          "The increase/decrease in the number of unspent outputs, not counting unspendables",
          true,
        ),
        num(
          "utxo_size_inc_actual",
          "The increase/decrease in size for the utxo index, not counting unspendables",
          true,
        ),
      ]),
      examples: helpExampleCli(
        "getblockstats",
        `'"${EXAMPLE_BLOCKHASH}"' '["minfeerate","avgfeerate"]'`,
      ) +
        helpExampleCli("getblockstats", `1000 '["minfeerate","avgfeerate"]'`) +
        helpExampleRpc("getblockstats", `"${EXAMPLE_BLOCKHASH}", ["minfeerate","avgfeerate"]`) +
        helpExampleRpc("getblockstats", `1000, ["minfeerate","avgfeerate"]`),
      handler(params) {
        const entry = blockByHashOrHeight(node, params.raw("hash_or_height"));
        const selected = new Set<string>();
        if (params.has("stats")) {
          for (const stat of asArr(params.raw("stats"))) selected.add(asStr(stat));
        }
        const { block, undo } = readBlockChecked(node, entry);
        const all = blockStats(block, undo, entry, chain.medianTimePast(entry));
        if (selected.size === 0) return all;
        const out = new Map<string, JsonInput>();
        for (const stat of [...selected].sort()) {
          if (!(BLOCK_STATS as readonly string[]).includes(stat)) {
            throw new RpcError(
              RpcErrorCode.INVALID_PARAMETER,
              `Invalid selected statistic '${stat}'`,
            );
          }
          out.set(stat, all.get(stat)!);
        }
        return out;
      },
    }),
    defineMethod({
      name: "getchaintxstats",
      category: "blockchain",
      description:
        "Compute statistics about the total number and rate of transactions in the chain.\n",
      args: [
        {
          name: "nblocks",
          type: "num",
          defaultHint: "one month",
          description: "Size of the window in number of blocks",
        },
        {
          name: "blockhash",
          type: "hex",
          defaultHint: "chain tip",
          description: "The hash of the block that ends the window.",
        },
      ],
      result: obj("", "", [
        time(
          "time",
          "The timestamp for the final block in the window, expressed in UNIX epoch time",
        ),
        num(
          "txcount",
          "The total number of transactions in the chain up to that point, if known. It may be unknown when using assumeutxo.",
          true,
        ),
        hexStr("window_final_block_hash", "The hash of the final block in the window"),
        num("window_final_block_height", "The height of the final block in the window."),
        num("window_block_count", "Size of the window in number of blocks"),
        num(
          "window_interval",
          'The elapsed time in the window in seconds. Only returned if "window_block_count" is > 0',
          true,
        ),
        num(
          "window_tx_count",
          'The number of transactions in the window. Only returned if "window_block_count" is > 0 and if txcount exists for the start and end of the window.',
          true,
        ),
        num(
          "txrate",
          'The average rate of transactions per second in the window. Only returned if "window_interval" is > 0 and if window_tx_count exists.',
          true,
        ),
      ]),
      examples: helpExampleCli("getchaintxstats", "") + helpExampleRpc("getchaintxstats", "2016"),
      handler(params) {
        let entry = chain.tip;
        if (params.has("blockhash")) {
          entry = lookupBlock(node, params.raw("blockhash"));
          if (!chain.isActive(entry)) {
            throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "Block is not in main chain");
          }
        }
        // One month of blocks by default (30 days at regtest's 10-minute spacing).
        let count = (30 * 24 * 60 * 60) / 600;
        if (!params.has("nblocks")) {
          count = Math.max(0, Math.min(count, entry.height - 1));
        } else {
          count = params.arg("nblocks", asInt);
          if (count < 0 || (count > 0 && count >= entry.height)) {
            throw new RpcError(
              RpcErrorCode.INVALID_PARAMETER,
              "Invalid block count: should be between 0 and the block's height - 1",
            );
          }
        }
        const past = chain.ancestor(entry, entry.height - count)!;
        const interval = chain.medianTimePast(entry) - chain.medianTimePast(past);
        const txCount = node.chainTxCount(entry);
        const out = new Map<string, JsonInput>([["time", entry.header.time]]);
        if (txCount) out.set("txcount", txCount);
        out.set("window_final_block_hash", hashToHex(entry.hash));
        out.set("window_final_block_height", entry.height);
        out.set("window_block_count", count);
        if (count > 0) {
          out.set("window_interval", interval);
          const pastCount = node.chainTxCount(past);
          if (txCount !== 0 && pastCount !== 0) {
            out.set("window_tx_count", txCount - pastCount);
            if (interval > 0) out.set("txrate", (txCount - pastCount) / interval);
          }
        }
        return out;
      },
    }),
    defineMethod({
      name: "getdeploymentinfo",
      category: "blockchain",
      description:
        "Returns an object containing various state info regarding deployments of consensus changes.",
      args: [{
        name: "blockhash",
        type: "hex",
        default: "hash of current chain tip",
        description: "The block hash at which to query deployment state",
      }],
      result: obj("", "", [
        str("hash", "requested block hash (or tip)"),
        num("height", "requested block height (or tip)"),
        objDyn("deployments", "", [obj("xxxx", "name of the deployment", deploymentDoc())]),
      ]),
      examples: helpExampleCli("getdeploymentinfo", "") + helpExampleRpc("getdeploymentinfo", ""),
      handler(params) {
        const entry = params.has("blockhash")
          ? lookupBlock(node, params.raw("blockhash"))
          : chain.tip;
        return deploymentInfoJson(node, entry);
      },
    }),
    defineMethod({
      name: "waitfornewblock",
      category: "blockchain",
      description: "Waits for any new block and returns useful info about it.\n" + LONG_POLL_NOTE,
      args: [
        timeoutArg,
        {
          name: "current_tip",
          type: "hex",
          optional: true,
          description: "Method waits for the chain tip to differ from this.",
        },
      ],
      result: tipResult(),
      examples: helpExampleCli("waitfornewblock", "1000") +
        helpExampleRpc("waitfornewblock", "1000"),
      async handler(params, ctx) {
        const timeout = readTimeout(params.arg("timeout", asInt));
        let current = chain.tip;
        // Without current_tip the wait is for a tip other than the one now.
        const awaited = params.has("current_tip")
          ? hashFromHex(parseHashV(params.raw("current_tip"), "current_tip"))
          : current.hash;
        const next = await node.waitTipChanged(awaited, timeout, ctx.signal);
        if (next) current = next;
        return tipJson(current);
      },
    }),
    defineMethod({
      name: "waitforblock",
      category: "blockchain",
      description: "Waits for a specific new block and returns useful info about it.\n" +
        LONG_POLL_NOTE,
      args: [
        { name: "blockhash", type: "hex", description: "Block hash to wait for." },
        timeoutArg,
      ],
      result: tipResult(),
      examples: helpExampleCli(
        "waitforblock",
        '"0000000000079f8ef3d2c688c244eb7a4570b24c9ed7b4a8c619eb02596f8862" 1000',
      ) +
        helpExampleRpc(
          "waitforblock",
          '"0000000000079f8ef3d2c688c244eb7a4570b24c9ed7b4a8c619eb02596f8862", 1000',
        ),
      async handler(params, ctx) {
        const wanted = parseHashV(params.raw("blockhash"), "blockhash");
        const timeout = readTimeout(params.arg("timeout", asInt));
        const tip = await waitUntil(node, (t) => hashToHex(t.hash) === wanted, timeout, ctx);
        return tipJson(tip);
      },
    }),
    defineMethod({
      name: "waitforblockheight",
      category: "blockchain",
      description: "Waits for (at least) block height and returns the height and hash\n" +
        "of the current tip.\n" + LONG_POLL_NOTE,
      args: [
        { name: "height", type: "num", description: "Block height to wait for." },
        timeoutArg,
      ],
      result: tipResult(),
      examples: helpExampleCli("waitforblockheight", "100 1000") +
        helpExampleRpc("waitforblockheight", "100, 1000"),
      async handler(params, ctx) {
        const height = params.arg("height", asInt);
        const timeout = readTimeout(params.arg("timeout", asInt));
        return tipJson(await waitUntil(node, (t) => t.height >= height, timeout, ctx));
      },
    }),
    defineMethod({
      name: "verifychain",
      category: "blockchain",
      description: "Verifies blockchain database.\n",
      args: [
        {
          name: "checklevel",
          type: "num",
          defaultHint: `${DEFAULT_CHECKLEVEL}, range=0-4`,
          description: "How thorough the block verification is:\n" +
            CHECKLEVEL_DOC.map((line) => `- ${line}`).join("\n"),
        },
        {
          name: "nblocks",
          type: "num",
          defaultHint: `${DEFAULT_CHECKBLOCKS}, 0=all`,
          description: "The number of blocks to check.",
        },
      ],
      result: {
        type: "bool",
        description: "Verification finished successfully. If false, check debug.log for reason.",
      },
      examples: helpExampleCli("verifychain", "") + helpExampleRpc("verifychain", ""),
      handler(params) {
        const level = params.has("checklevel")
          ? params.arg("checklevel", asInt)
          : DEFAULT_CHECKLEVEL;
        const depth = params.has("nblocks") ? params.arg("nblocks", asInt) : DEFAULT_CHECKBLOCKS;
        if (chain.height === 0) return true;
        const blocks = depth <= 0 || depth > chain.height ? chain.height : depth;
        const clamped = Math.max(0, Math.min(4, level));
        node.log(`Verifying last ${blocks} blocks at level ${clamped}`);
        const error = chain.verifyChain(clamped, blocks);
        if (error !== null) {
          node.log(error);
          return false;
        }
        node.log(`Verification: No coin database inconsistencies in last ${blocks} blocks`);
        return true;
      },
    }),
    defineMethod({
      name: "preciousblock",
      category: "blockchain",
      description: "Treats a block as if it were received before others with the same work.\n" +
        "\nA later preciousblock call can override the effect of an earlier one.\n" +
        "\nThe effects of preciousblock are not retained across restarts.\n",
      args: [{
        name: "blockhash",
        type: "hex",
        description: "the hash of the block to mark as precious",
      }],
      result: { type: "none", description: "" },
      examples: helpExampleCli("preciousblock", '"blockhash"') +
        helpExampleRpc("preciousblock", '"blockhash"'),
      handler(params) {
        const entry = lookupBlock(node, params.raw("blockhash"));
        try {
          chain.preciousBlock(entry.hash);
        } catch (error) {
          throw new RpcError(RpcErrorCode.DATABASE_ERROR, (error as Error).message);
        }
      },
    }),
    defineMethod({
      name: "scantxoutset",
      category: "blockchain",
      description:
        "Scans the unspent transaction output set for entries that match certain output descriptors.\n" +
        "Examples of output descriptors are:\n" +
        "    addr(<address>)                      Outputs whose output script corresponds to the specified address (does not include P2PK)\n" +
        "    raw(<hex script>)                    Outputs whose output script equals the specified hex-encoded bytes\n" +
        "    combo(<pubkey>)                      P2PK, P2PKH, P2WPKH, and P2SH-P2WPKH outputs for the given pubkey\n" +
        "    pkh(<pubkey>)                        P2PKH outputs for the given pubkey\n" +
        "    sh(multi(<n>,<pubkey>,<pubkey>,...)) P2SH-multisig outputs for the given threshold and pubkeys\n" +
        "    tr(<pubkey>)                         P2TR\n" +
        "    tr(<pubkey>,{pk(<pubkey>)})          P2TR with single fallback pubkey in tapscript\n" +
        "    rawtr(<pubkey>)                      P2TR with the specified key as output key rather than inner\n" +
        "    wsh(and_v(v:pk(<pubkey>),after(2)))  P2WSH miniscript with mandatory pubkey and a timelock\n" +
        "\nIn the above, <pubkey> either refers to a fixed public key in hexadecimal notation, or to an xpub/xprv optionally followed by one\n" +
        'or more path elements separated by "/", and optionally ending in "/*" (unhardened), or "/*\'" or "/*h" (hardened) to specify all\n' +
        "unhardened or hardened child keys.\n" +
        "In the latter case, a range needs to be specified by below if different from 1000.\n" +
        "For more information on output descriptors, see the documentation in the doc/descriptors.md file.\n",
      args: [SCAN_ACTION_ARG, SCAN_OBJECTS_ARG],
      result: [
        when(
          "when action=='start'; only returns after scan completes",
          obj("", "", [
            bool("success", "Whether the scan was completed"),
            num("txouts", "The number of unspent transaction outputs scanned"),
            num("height", "The block height at which the scan was done"),
            hexStr("bestblock", "The hash of the block at the tip of the chain"),
            arr("unspents", "", [
              obj("", "", [
                hexStr("txid", "The transaction id"),
                num("vout", "The vout value"),
                hexStr("scriptPubKey", "The output script"),
                str("desc", "A specialized descriptor for the matched output script"),
                amount(
                  "amount",
                  `The total amount in ${CURRENCY_UNIT} of the unspent output`,
                ),
                bool("coinbase", "Whether this is a coinbase output"),
                num("height", "Height of the unspent transaction output"),
                hexStr("blockhash", "Blockhash of the unspent transaction output"),
                num(
                  "confirmations",
                  "Number of confirmations of the unspent transaction output when the scan was done",
                ),
              ]),
            ]),
            amount(
              "total_amount",
              `The total amount of all found unspent outputs in ${CURRENCY_UNIT}`,
            ),
          ]),
        ),
        SCAN_RESULT_ABORT,
        when(
          "when action=='status' and a scan is currently in progress",
          obj("", "", [num("progress", "Approximate percent complete")]),
        ),
        SCAN_RESULT_STATUS_NONE,
      ],
      examples: helpExampleCli("scantxoutset", `start '["${EXAMPLE_DESCRIPTOR_RAW}"]'`) +
        helpExampleCli("scantxoutset", "status") +
        helpExampleCli("scantxoutset", "abort") +
        helpExampleRpc("scantxoutset", `"start", ["${EXAMPLE_DESCRIPTOR_RAW}"]`) +
        helpExampleRpc("scantxoutset", '"status"') +
        helpExampleRpc("scantxoutset", '"abort"'),
      async handler(params, ctx) {
        const action = params.arg("action", asStr);
        if (action === "status") {
          const progress = scan.progress;
          return progress === undefined ? null : new Map([["progress", progress]]);
        }
        if (action === "abort") return scan.abort();
        if (action !== "start") {
          throw new RpcError(RpcErrorCode.INVALID_PARAMETER, `Invalid action '${action}'`);
        }
        // Core evaluates the scan objects with the scan reserved, then reads the coins at the tip.
        const descriptors = new Map<string, string>();
        let tip = chain.tip;
        const result = await scan.run(async () => {
          if (params.positional.length < 2) {
            throw new RpcError(
              RpcErrorCode.MISC_ERROR,
              "scanobjects argument is required for the start action",
            );
          }
          for (const scanObject of asArr(params.raw("scanobjects"))) {
            const provider = new SigningProvider();
            for (const script of await evalScanObject(scanObject, provider, ctx.signal)) {
              const key = hex.encode(script);
              if (!descriptors.has(key)) descriptors.set(key, inferDescriptor(script, provider));
            }
          }
          tip = chain.tip;
          return { coins: chain.snapshotCoins(), scripts: new Set(descriptors.keys()) };
        }, ctx.signal);
        let total = 0n;
        const unspents = result.found.map(([outpoint, coin]) => {
          total += coin.amount;
          return new Map<string, JsonInput>([
            ["txid", hashToHex(outpoint.txid)],
            ["vout", outpoint.index],
            ["scriptPubKey", hex.encode(coin.script)],
            ["desc", descriptors.get(hex.encode(coin.script))!],
            ["amount", new Amount(coin.amount)],
            ["coinbase", coin.coinbase],
            ["height", coin.height],
            ["blockhash", hashToHex(chain.ancestor(tip, coin.height)!.hash)],
            ["confirmations", tip.height - coin.height + 1],
          ]);
        });
        return new Map<string, JsonInput>([
          ["success", result.success],
          ["txouts", result.count],
          ["height", tip.height],
          ["bestblock", hashToHex(tip.hash)],
          ["unspents", unspents],
          ["total_amount", new Amount(total)],
        ]);
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
      name: "syncwithvalidationinterfacequeue",
      category: "hidden",
      description:
        "Waits for the validation interface queue to catch up on everything that was there when we entered this function.\n",
      args: [],
      result: { type: "none", description: "" },
      examples: helpExampleCli("syncwithvalidationinterfacequeue", "") +
        helpExampleRpc("syncwithvalidationinterfacequeue", ""),
      async handler() {
        if (!await node.syncNotifications(SYNC_NOTIFICATIONS_MS)) {
          throw new RpcError(
            RpcErrorCode.MISC_ERROR,
            `Notifications not delivered within ${
              SYNC_NOTIFICATIONS_MS / 1000
            } s: a subscriber is not taking them`,
          );
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
  return bestHeader(node).height;
}

/**
 * Core's `m_best_header`: the entry with the most work that is not
 * invalid, headers-only ones included (the active tip on ties).
 */
export function bestHeader(node: NodeServices): BlockEntry {
  let best = node.chain.tip;
  for (const tip of node.chain.chainTips()) {
    if (tip.status === "invalid") continue;
    const entry = node.chain.entry(tip.hash);
    if (entry && entry.chainWork > best.chainWork) best = entry;
  }
  return best;
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
