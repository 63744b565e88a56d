/**
 * `importdescriptors`, routed to the wallet the request means. The node
 * reads what it knows, as Core's `ProcessDescriptorImport` does up to the
 * wallet's own checks: each request's descriptor (its checksum required;
 * a multipath one stands for one per path, the second of two being the
 * change one), range, `next_index`, `active`, `internal` and `label`, and every
 * timestamp ("now" being the tip's median time past). A request refused
 * here crosses as its error; the others cross as what the wallet needs to
 * import them. Core rescans from the earliest timestamp less two hours
 * (`TIMESTAMP_WINDOW`): the node finds that block's height.
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { NodeServices } from "./services.ts";
 * import { importDescriptorsMethod } from "./importdescriptors.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   const method = importDescriptorsMethod(new NodeServices({ chain, mempool }));
 *   if (method.name !== "importdescriptors") throw new Error(method.name);
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { hex } from "@scure/base";
import type { AddressKeySource, ChainState, Descriptor, TaprootTreeSource } from "../chain/mod.ts";
import {
  asArr,
  asBool,
  asInt64,
  asObj,
  asStr,
  defineMethod,
  helpExampleCli,
  type Json,
  JsonNumber,
  JsonObject,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
  typeName,
} from "../../rpc/mod.ts";
import { arr, bool, num, obj, str } from "./docs.ts";
import { parseDescriptorRange, parseDescriptorsArg } from "./descriptors.ts";
import { routed } from "./funding.ts";
import type { NodeServices } from "./services.ts";

/** Core's `TIMESTAMP_WINDOW`: blocks this many seconds before a key's time are scanned too. */
const TIMESTAMP_WINDOW = 2 * 60 * 60;

/**
 * Core's `GetImportTimestamp`: a number, or "now"; anything else fails the
 * whole call (-3), a request that is no object too (it has no timestamp).
 */
function importTimestamp(request: Json, now: number): number {
  const value = request instanceof JsonObject ? request.get("timestamp") : undefined;
  if (value === undefined) {
    throw new RpcError(RpcErrorCode.TYPE_ERROR, "Missing required timestamp field for key");
  }
  if (value instanceof JsonNumber) return Number(asInt64(value));
  if (value === "now") return now;
  throw new RpcError(
    RpcErrorCode.TYPE_ERROR,
    `Expected number or "now" timestamp value for key. got type ${typeName(value)}`,
  );
}

/** A refusal of one request: it fails alone, in its own result, with the warnings given so far. */
class RequestError extends Error {
  constructor(readonly code: number, message: string, readonly warnings: readonly string[]) {
    super(message);
  }
}

/** Core's warning for a ranged descriptor given no range, which the wallet's keypool sets. */
const DEFAULT_RANGE_WARNING = "Range not given, using default keypool range";

/** `descriptor`'s expansion at index 0; undefined when it does not expand (a hardened step needs a private key). */
function expansion(descriptor: Descriptor): ReturnType<Descriptor["expand"]> | undefined {
  try {
    return descriptor.expand(0);
  } catch {
    return undefined;
  }
}

/** The wallet's name of a descriptor's address type. */
const KINDS = { "pkh": "pkh", "sh(wpkh)": "sh_wpkh", "wpkh": "wpkh", "tr": "tr" } as const;

/** The wallet's name of a multisig's address type: `bech32`, `p2sh-segwit` or `legacy`. */
const MULTISIG_KINDS = { "wsh": "wpkh", "sh(wsh)": "sh_wpkh", "sh": "pkh" } as const;

/**
 * One request, read as far as the node can: what the wallet imports, or
 * a {@linkcode RequestError}. Type errors (a `desc` that is not a string,
 * a `next_index` that is not a number…) fail the whole call, as in Core.
 */
function readRequest(request: JsonObject, timestamp: number): JsonObject {
  const warnings: string[] = [];
  const refuse = (code: number, message: string): never => {
    throw new RequestError(code, message, warnings);
  };
  /** What `read` returns; its RPC error as this request's refusal. */
  const refused = <T>(read: () => T): T => {
    try {
      return read();
    } catch (error) {
      if (error instanceof RpcError) refuse(error.code, error.message);
      throw error;
    }
  };
  const desc = request.get("desc");
  if (desc === undefined) refuse(RpcErrorCode.INVALID_PARAMETER, "Descriptor not found.");
  const text = asStr(desc);
  const active = request.has("active") ? asBool(request.get("active")) : false;
  const label = request.get("label") ?? null;
  if (label !== null && asStr(label) === "*") {
    refuse(RpcErrorCode.WALLET_INVALID_LABEL_NAME, "Invalid label name");
  }
  const descriptors = refused(() => parseDescriptorsArg(text, true));
  const [descriptor] = descriptors;
  const multipath = descriptors.length > 1;
  if (multipath && request.has("internal")) {
    refuse(
      RpcErrorCode.INVALID_ADDRESS_OR_KEY,
      "Cannot have multipath descriptor while also specifying 'internal'",
    );
  }
  const internal = request.has("internal") ? asBool(request.get("internal")) : false;
  const ranged = descriptor.isRange;
  let range: [number, number] | null = null;
  let nextIndex: bigint | null = null;
  if (!ranged && request.has("range")) {
    refuse(
      RpcErrorCode.INVALID_PARAMETER,
      "Range should not be specified for an un-ranged descriptor",
    );
  } else if (ranged) {
    if (request.has("range")) range = refused(() => parseDescriptorRange(request.get("range")!));
    // The wallet adds it again, and bounds next_index by its keypool.
    else warnings.push(DEFAULT_RANGE_WARNING);
    if (request.has("next_index")) {
      nextIndex = asInt64(request.get("next_index"));
      // Without a range, the wallet bounds it by its keypool's size, which it alone knows.
      if (range !== null && (nextIndex < range[0] || nextIndex > range[1])) {
        refuse(RpcErrorCode.INVALID_PARAMETER, "next_index is out of range");
      }
    }
  }
  if (active && !ranged) {
    refuse(RpcErrorCode.INVALID_PARAMETER, "Active descriptors must be ranged");
  }
  if (multipath && request.has("label")) {
    refuse(RpcErrorCode.INVALID_PARAMETER, "Multipath descriptors should not have a label");
  }
  if (ranged && request.has("label")) {
    refuse(RpcErrorCode.INVALID_PARAMETER, "Ranged descriptors should not have a label");
  }
  if (internal && request.has("label")) {
    refuse(RpcErrorCode.INVALID_PARAMETER, "Internal addresses should not have a label");
  }
  if (active && !descriptor.isSingleType) {
    refuse(RpcErrorCode.WALLET_ERROR, "Combo descriptors cannot be set to active");
  }
  return new JsonObject([
    ["given", text],
    ["ranged", ranged],
    ["active", active],
    ["label", label],
    ["range", range === null ? null : range.map(number)],
    ["next_index", nextIndex === null ? null : number(nextIndex)],
    ["timestamp", new JsonNumber(String(timestamp))],
    ["private", descriptors.some((d) => d.hasPrivateKeys)],
    [
      "descriptors",
      // A multipath descriptor of two paths is a receiving one and a change one, as in Core.
      descriptors.map((d, i) => {
        // Expanded once: a big tree's expansion is costly.
        const expanded = expansion(d);
        return new JsonObject([
          // As a wallet shows it, and knows it by: a tprv's hardened steps taken, as Core's.
          ["desc", d.toNormalizedString()],
          ["internal", descriptors.length === 2 ? i === 1 : internal],
          ["expands", expanded !== undefined],
          ["source", addressSource(d, expanded)],
          ["secret", secretOf(d)],
        ]);
      }),
    ],
  ]);
}

/**
 * What the wallet derives a descriptor's scripts from (`expanded` its
 * expansion at index 0, if it expands): an extended key's
 * chain of addresses, or one key, of an address type; a multisig of such
 * keys (its address type the one its wrapping has, as Core's
 * `GetOutputType`); a `tr(KEY,TREE)`'s internal key and leaves; else
 * the scripts of one not ranged; else null.
 */
function addressSource(
  descriptor: Descriptor,
  expanded: ReturnType<Descriptor["expand"]> | undefined,
): Json {
  const source = descriptor.addressSource;
  if (source === undefined) {
    const tree = descriptor.taprootTreeSource;
    if (tree !== undefined && expanded !== undefined) return treeSource(tree);
    if (descriptor.isRange || expanded === undefined) return null;
    return new JsonObject([["scripts", expanded.scripts.map((script) => hex.encode(script))]]);
  }
  if ("keys" in source) {
    return new JsonObject([
      ["kind", MULTISIG_KINDS[source.type]],
      ["threshold", number(source.threshold)],
      ["sorted", source.sorted],
      ["keys", source.keys.map((key) => new JsonObject(keySource(key)))],
    ]);
  }
  return new JsonObject([["kind", KINDS[source.type]], ...keySource(source)]);
}

/**
 * A `tr(KEY,TREE)`'s source as the wallet reads it: the internal
 * key, and the leaves depth-first with their depths, kinds, thresholds
 * and keys as written.
 */
function treeSource(tree: TaprootTreeSource): Json {
  return new JsonObject([
    ["kind", "tr"],
    ["internal", new JsonObject(keySource(tree.internal))],
    [
      "leaves",
      tree.leaves.map((leaf) =>
        new JsonObject([
          ["depth", number(leaf.depth)],
          ["leaf", leaf.leaf],
          ["threshold", number(leaf.threshold)],
          ["keys", leaf.keys.map((key) => new JsonObject(keySource(key)))],
        ])
      ),
    ],
  ]);
}

/**
 * A key's source as the wallet reads it: an extended key and its steps
 * (and, written private, the key as written, public: `gethdkeys` lists
 * that one), or one key; and its origin.
 */
function keySource(source: AddressKeySource): [string, Json][] {
  return [
    ...("xpub" in source
      ? [
        ["xpub", source.xpub],
        ["steps", source.steps.map(number)],
        ...(source.root ? [["root", source.root.xpub]] : []),
      ] as [string, Json][]
      : [["pubkey", hex.encode(source.pubkey)]] as [string, Json][]),
    ["fingerprint", hex.encode(source.origin.fingerprint)],
    ["path", source.origin.path.map(number)],
  ];
}

/**
 * What the wallet keeps sealed of a descriptor given with private keys:
 * its private form, the private keys among those its addresses' keys
 * derive from — each an extended private key as written (with its
 * origin) or one key, public and private — and whether every key is
 * private (Core warns when not). The keys of a single-key descriptor, a
 * multisig or a `tr(KEY,TREE)`; none for a descriptor of another kind.
 * Null without private keys.
 */
function secretOf(descriptor: Descriptor): Json {
  if (!descriptor.hasPrivateKeys) return null;
  const source = descriptor.addressSource;
  const tree = descriptor.taprootTreeSource;
  const keys: AddressKeySource[] = source === undefined
    ? tree === undefined ? [] : [tree.internal, ...tree.leaves.flatMap((leaf) => leaf.keys)]
    : "keys" in source
    ? source.keys
    : [source];
  const held = keys.flatMap((key): Json[] =>
    "root" in key && key.root
      ? [
        new JsonObject([
          ["xprv", key.root.xprv],
          ["fingerprint", hex.encode(key.root.origin.fingerprint)],
          ["path", key.root.origin.path.map(number)],
        ]),
      ]
      : "secret" in key && key.secret
      ? [new JsonObject([["pubkey", hex.encode(key.pubkey)], ["privkey", hex.encode(key.secret)]])]
      : []
  );
  return new JsonObject([
    ["desc", descriptor.toPrivateString()],
    ["keys", held],
    ["all", keys.length > 0 && held.length === keys.length],
  ]);
}

function number(value: number | bigint): JsonNumber {
  return new JsonNumber(String(value));
}

/**
 * Core's `FindEarliestAtLeast`: the height of the first active block whose
 * time, or an earlier block's, reaches `time`; null when none does.
 */
function earliestAtLeast(chain: ChainState, time: number): number | null {
  let latest = 0;
  for (let height = 0; height <= chain.height; height++) {
    latest = Math.max(latest, chain.entryAtHeight(height)!.header.time);
    if (latest >= time) return height;
  }
  return null;
}

/** The `importdescriptors` method. */
export function importDescriptorsMethod(node: NodeServices): RpcMethod {
  const { chain } = node;
  return defineMethod({
    name: "importdescriptors",
    category: "wallet",
    description:
      "Import descriptors. This will trigger a rescan of the blockchain based on the earliest timestamp of all descriptors being imported. Requires a new wallet backup.\n" +
      "When importing descriptors with multipath key expressions, if the multipath specifier contains exactly two elements, the descriptor produced from the second element will be imported as an internal descriptor.\n" +
      "\nNote: This call can take over an hour to complete if using an early timestamp; during that time, other rpc calls\n" +
      "may report that the imported keys, addresses or scripts exist but related transactions are still missing.\n" +
      'The rescan is significantly faster if block filters are available (using startup option "-blockfilterindex=1").\n',
    args: [
      {
        name: "requests",
        type: "arr",
        description: "Data to be imported",
        onelineDescription: "requests",
        inner: [
          {
            name: "",
            type: "obj",
            optional: true,
            description: "",
            inner: [
              { name: "desc", type: "str", description: "Descriptor to import." },
              {
                name: "active",
                type: "bool",
                default: false,
                description:
                  "Set this descriptor to be the active descriptor for the corresponding output type/externality",
              },
              {
                name: "range",
                type: "range",
                optional: true,
                description:
                  "If a ranged descriptor is used, this specifies the end or the range (in the form [begin,end]) to import",
              },
              {
                name: "next_index",
                type: "num",
                optional: true,
                description:
                  "If a ranged descriptor is set to active, this specifies the next index to generate addresses from",
              },
              {
                name: "timestamp",
                type: "num",
                description:
                  "Time from which to start rescanning the blockchain for this descriptor, in UNIX epoch time\n" +
                  'Use the string "now" to substitute the current synced blockchain time.\n' +
                  '"now" can be specified to bypass scanning, for outputs which are known to never have been used, and\n' +
                  "0 can be specified to scan the entire blockchain. Blocks up to 2 hours before the earliest timestamp\n" +
                  "of all descriptors being imported will be scanned as well as the mempool.",
                typeStr: ['timestamp | "now"', "integer / string"],
              },
              {
                name: "internal",
                type: "bool",
                default: false,
                description:
                  "Whether matching outputs should be treated as not incoming payments (e.g. change)",
              },
              {
                name: "label",
                type: "str",
                default: "",
                description:
                  "Label to assign to the address, only allowed with internal=false. Disabled for ranged descriptors",
              },
            ],
          },
        ],
      },
    ],
    result: arr(
      "",
      "Response is an array with the same size as the input that has the execution result",
      [
        obj("", "", [
          bool("success", ""),
          arr("warnings", "", [str("", "")], true),
          obj("error", "", [
            num("code", "JSONRPC error code"),
            str("message", "JSONRPC error message"),
          ], true),
        ]),
      ],
    ),
    examples: helpExampleCli(
      "importdescriptors",
      `'[{ "desc": "<my descriptor>", "timestamp":1455191478, "internal": true }, { "desc": "<my descriptor 2>", "label": "example 2", "timestamp": 1455191480 }]'`,
    ) +
      helpExampleCli(
        "importdescriptors",
        `'[{ "desc": "<my descriptor>", "timestamp":1455191478, "active": true, "range": [0,100], "label": "<my bech32 wallet>" }]'`,
      ),
    handler: routed(node, "importdescriptors", (params) => {
      const requests = asArr(params.raw("requests"));
      const tip = chain.tip;
      const now = chain.medianTimePast(tip);
      // Every timestamp first: one that fails the call fails it before anything is imported.
      const timestamps = requests.map((request) => Math.max(importTimestamp(request, now), 1));
      const lowest = Math.min(tip.header.time, ...timestamps);
      const read = requests.map((request, i) => {
        try {
          return readRequest(asObj(request), timestamps[i]);
        } catch (error) {
          if (!(error instanceof RequestError)) throw error;
          const failure = new JsonObject([
            ["code", number(error.code)],
            ["message", error.message],
          ]);
          return new JsonObject([["error", failure], ["warnings", [...error.warnings]]]);
        }
      });
      const from = earliestAtLeast(chain, lowest - TIMESTAMP_WINDOW);
      return [read, from === null ? null : number(from)];
    }),
  });
}
