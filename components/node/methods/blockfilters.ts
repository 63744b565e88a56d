/**
 * The block filter methods of Bitcoin Core v30 (`rpc/blockchain.cpp`), over
 * the node's `-blockfilterindex`: `getblockfilter` (a block's BIP 158 basic
 * filter and BIP 157 filter header) and `scanblocks` (the blocks whose
 * filters match any script of a set of descriptors, one scan at a time,
 * with `status` and `abort` while it runs), with Core's help texts, checks
 * in Core's order, and error codes and messages.
 *
 * @example
 * ```ts
 * import { blockFilterMethods } from "./blockfilters.ts";
 * import { NodeServices } from "./services.ts";
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   const names = blockFilterMethods(new NodeServices({ chain, mempool: new Mempool(chain) }))
 *     .map((method) => method.name);
 *   if (names.join() !== "getblockfilter,scanblocks") throw new Error(names.join());
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { hex } from "@scure/base";
import {
  type BlockEntry,
  type BlockFilterIndex,
  BlockStatus,
  hashFromHex,
  hashToHex,
  SigningProvider,
} from "../chain/mod.ts";
import {
  asArr,
  asBool,
  asInt,
  asStr,
  defineMethod,
  helpExampleCli,
  helpExampleRpc,
  type JsonInput,
  JsonObject,
  type Params,
  parseHashV,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { readBlockChecked } from "./blockchain.ts";
import { evalScanObject } from "./descriptors.ts";
import { arr, bool, hexStr, num, obj, when } from "./docs.ts";
import {
  BlockFilterScan,
  SCAN_ACTION_ARG,
  SCAN_OBJECTS_ARG,
  SCAN_RESULT_ABORT,
  SCAN_RESULT_STATUS_NONE,
} from "./scan.ts";
import type { NodeServices } from "./services.ts";

/** The one filter type (Core's `BlockFilterTypeName(BlockFilterType::BASIC)`). */
export const BASIC_FILTER = "basic";

const filtertypeArg = {
  name: "filtertype",
  type: "str",
  default: BASIC_FILTER,
  description: "The type name of the filter",
} as const;

/** Core's regtest address of the scanblocks examples. */
const EXAMPLE_ADDRESS = "addr(bcrt1q4u4nsgk6ug0sqz7r3rj9tykjxrsl0yy4d0wwte)";

/**
 * Core's checks of a `filtertype` argument, in its order: -5 `Unknown
 * filtertype` for a name other than basic, then -1 when the index is not kept.
 */
function filterIndex(node: NodeServices, name: string): BlockFilterIndex {
  if (name !== BASIC_FILTER) {
    throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Unknown filtertype");
  }
  if (!node.blockFilterIndex) {
    throw new RpcError(RpcErrorCode.MISC_ERROR, `Index is not enabled for filtertype ${name}`);
  }
  return node.blockFilterIndex;
}

/**
 * Why the index has no filter for `entry`, in Core's words (getblockfilter's
 * and REST's `/rest/blockfilter` and `/rest/blockfilterheaders`), with the
 * code getblockfilter answers it with: the block was never connected, the
 * index still catches up, or (neither) the index is damaged.
 */
export function missingFilter(
  entry: BlockEntry,
  index: BlockFilterIndex,
): { code: number; message: string } {
  if (!(entry.status & BlockStatus.VALID)) {
    return {
      code: RpcErrorCode.INVALID_ADDRESS_OR_KEY,
      message: "Filter not found. Block was not connected to active chain.",
    };
  }
  if (!index.synced) {
    return {
      code: RpcErrorCode.MISC_ERROR,
      message: "Filter not found. Block filters are still in the process of being indexed.",
    };
  }
  return {
    code: RpcErrorCode.INTERNAL_ERROR,
    message: "Filter not found. This error is unexpected and indicates index corruption.",
  };
}

/** The block filter methods over `node`. */
export function blockFilterMethods(node: NodeServices): RpcMethod[] {
  const { chain } = node;
  const scan = new BlockFilterScan();

  /** The active chain's block at a height argument, or -1 `Invalid <name>` (Core's `CChain[]`). */
  const activeAt = (params: Params, name: string, fallback: BlockEntry) => {
    if (!params.has(name)) return fallback;
    const entry = chain.entryAtHeight(params.arg(name, asInt));
    if (!entry) throw new RpcError(RpcErrorCode.MISC_ERROR, `Invalid ${name}`);
    return entry;
  };

  /** Core's `CheckBlockFilterMatches`: a script of the block's outputs or of the coins it spent is a needle. */
  const blockMatches = (entry: BlockEntry, needles: ReadonlySet<string>): boolean => {
    const { block, undo } = readBlockChecked(node, entry);
    return block.txs.some((tx) =>
      tx.outputs.some((output) => needles.has(hex.encode(output.script)))
    ) ||
      undo.some((coins) => coins.some((coin) => needles.has(hex.encode(coin.script))));
  };

  return [
    defineMethod({
      name: "getblockfilter",
      category: "blockchain",
      description: "Retrieve a BIP 157 content filter for a particular block.\n",
      args: [
        { name: "blockhash", type: "hex", description: "The hash of the block" },
        filtertypeArg,
      ],
      result: obj("", "", [
        hexStr("filter", "the hex-encoded filter data"),
        hexStr("header", "the hex-encoded filter header"),
      ]),
      examples: helpExampleCli(
        "getblockfilter",
        '"00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09" "basic"',
      ) +
        helpExampleRpc(
          "getblockfilter",
          '"00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09", "basic"',
        ),
      handler(params) {
        const hash = hashFromHex(parseHashV(params.raw("blockhash"), "blockhash"));
        const name = params.has("filtertype") ? params.arg("filtertype", asStr) : BASIC_FILTER;
        const index = filterIndex(node, name);
        const entry = chain.entry(hash);
        if (!entry) throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found");
        const found = index.lookup(hash);
        if (!found) {
          const { code, message } = missingFilter(entry, index);
          throw new RpcError(code, message);
        }
        return new Map<string, JsonInput>([
          ["filter", hex.encode(found.filter.encoded)],
          ["header", hashToHex(found.header)],
        ]);
      },
    }),
    defineMethod({
      name: "scanblocks",
      category: "blockchain",
      description:
        "Return relevant blockhashes for given descriptors (requires blockfilterindex).\n" +
        "This call may take several minutes. Make sure to use no RPC timeout (bitcoin-cli -rpcclienttimeout=0)",
      args: [
        SCAN_ACTION_ARG,
        SCAN_OBJECTS_ARG,
        {
          name: "start_height",
          type: "num",
          default: 0,
          description: "Height to start to scan from",
        },
        {
          name: "stop_height",
          type: "num",
          defaultHint: "chain tip",
          description: "Height to stop to scan",
        },
        filtertypeArg,
        {
          name: "options",
          type: "obj_named_params",
          optional: true,
          description: "",
          inner: [{
            name: "filter_false_positives",
            type: "bool",
            default: false,
            description:
              "Filter false positives (slower and may fail on pruned nodes). Otherwise they may occur at a rate of 1/M",
          }],
          onelineDescription: "options",
        },
      ],
      result: [
        SCAN_RESULT_STATUS_NONE,
        when(
          "When action=='start'; only returns after scan completes",
          obj("", "", [
            num("from_height", "The height we started the scan from"),
            num("to_height", "The height we ended the scan at"),
            arr("relevant_blocks", "Blocks that may have matched a scanobject.", [
              hexStr("blockhash", "A relevant blockhash"),
            ]),
            bool("completed", "true if the scan process was not aborted"),
          ]),
        ),
        when(
          "when action=='status' and a scan is currently in progress",
          obj("", "", [
            num("progress", "Approximate percent complete"),
            num("current_height", "Height of the block currently being scanned"),
          ]),
        ),
        SCAN_RESULT_ABORT,
      ],
      examples: helpExampleCli("scanblocks", `start '["${EXAMPLE_ADDRESS}"]' 300000`) +
        helpExampleCli("scanblocks", `start '["${EXAMPLE_ADDRESS}"]' 100 150 basic`) +
        helpExampleCli("scanblocks", "status") +
        helpExampleRpc("scanblocks", `"start", ["${EXAMPLE_ADDRESS}"], 300000`) +
        helpExampleRpc("scanblocks", `"start", ["${EXAMPLE_ADDRESS}"], 100, 150, "basic"`) +
        helpExampleRpc("scanblocks", '"status"'),
      async handler(params, ctx) {
        const action = params.arg("action", asStr);
        if (action === "status") {
          const status = scan.status;
          return status
            ? new Map([["progress", status.progress], ["current_height", status.currentHeight]])
            : null;
        }
        if (action === "abort") return scan.abort();
        if (action !== "start") {
          throw new RpcError(RpcErrorCode.INVALID_PARAMETER, `Invalid action '${action}'`);
        }
        // Core's order: the scan reserved, the filter type, the options, the index, the heights,
        // then the scan objects.
        const result = await scan.run(chain, async () => {
          const name = params.has("filtertype") ? params.arg("filtertype", asStr) : BASIC_FILTER;
          if (name !== BASIC_FILTER) {
            throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Unknown filtertype");
          }
          const options = params.raw("options");
          const confirmMatches =
            options instanceof JsonObject && options.has("filter_false_positives")
              ? asBool(options.get("filter_false_positives")!)
              : false;
          const index = filterIndex(node, name);
          const start = activeAt(params, "start_height", chain.entryAtHeight(0)!);
          const stop = activeAt(params, "stop_height", chain.tip);
          if (stop.height < start.height) {
            throw new RpcError(RpcErrorCode.MISC_ERROR, "Invalid stop_height");
          }
          const needles = new Map<string, Uint8Array>();
          for (const scanObject of asArr(params.raw("scanobjects"))) {
            const provider = new SigningProvider();
            for (const script of await evalScanObject(scanObject, provider, ctx.signal)) {
              needles.set(hex.encode(script), script);
            }
          }
          const needleSet = new Set(needles.keys());
          return {
            index,
            range: [start, stop] as const,
            needles: [...needles.values()],
            confirm: confirmMatches
              ? (entry: BlockEntry) => blockMatches(entry, needleSet)
              : undefined,
          };
        }, ctx.signal);
        return new Map<string, JsonInput>([
          ["from_height", result.fromHeight],
          ["to_height", result.toHeight],
          ["relevant_blocks", result.relevant.map(hashToHex)],
          ["completed", result.completed],
        ]);
      },
    }),
  ];
}
