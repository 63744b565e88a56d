/**
 * The mempool methods of Bitcoin Core v30 (`rpc/mempool.cpp`):
 * sendrawtransaction, testmempoolaccept and submitpackage (category `rawtransactions`),
 * getmempoolinfo, getrawmempool, getmempoolentry, getmempoolancestors,
 * getmempooldescendants, gettxspendingprevout, importmempool and savemempool (category
 * `blockchain`), over the node's {@linkcode Mempool}, with Core's help texts, key order and errors.
 *
 * importmempool reads the file with the loader the node starts with
 * (`Mempool.load`, Core's `LoadMempool`), taking over the file's times,
 * fee deltas and unbroadcast marks only as its options say. A file the
 * node cannot read or parse answers Core's -1, the reason in the log; a
 * file outside what the node's sandbox may read says in the log where to
 * put it instead.
 *
 * `nodeMethods` (`mod.ts`, whose example runs it) adds `mempoolMethods(…)` to the
 * server's table with the others.
 * @module
 */
import {
  type Hash,
  hashFromHex,
  hashToHex,
  hasValidOps,
  signedAmount,
  type Tx,
} from "../chain/mod.ts";
import { isChildWithParentsTree, type MempoolEntry } from "../mempool/mod.ts";
import {
  Amount,
  amountFromValue,
  asArr,
  asBool,
  asInt,
  asObj,
  asStr,
  checkField,
  COIN,
  defineMethod,
  helpExampleCli,
  helpExampleRpc,
  type Json,
  type JsonInput,
  JsonObject,
  outpointArg,
  parseHashV,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import {
  amount,
  arr,
  bool,
  CURRENCY_UNIT,
  hexStr,
  mempoolEntryDoc,
  num,
  obj,
  objDyn,
  str,
  when,
} from "./docs.ts";
import { decodeHexTx } from "./encoding.ts";
import type { NodeServices } from "./services.ts";

/** How much of a path `importmempool` writes to the log (a request may carry megabytes). */
const MAX_LOGGED_PATH = 1024;
/** Core's `MAX_PACKAGE_COUNT`. */
const MAX_PACKAGE_COUNT = 25;
/** `FormatMoney(DEFAULT_MAX_RAW_TX_FEE_RATE.GetFeePerK())`. */
const DEFAULT_MAX_FEE_RATE_TEXT = "0.10";

/** Core's `ParseFeeRate`: a fee rate in sat/kvB, below 1 BTC/kvB. */
function parseFeeRate(value: Json): bigint {
  const rate = amountFromValue(value);
  if (rate >= COIN) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      "Fee rates larger than or equal to 1BTC/kvB are not accepted",
    );
  }
  return rate;
}

const maxFeeRateArg = {
  name: "maxfeerate",
  type: "amount",
  default: DEFAULT_MAX_FEE_RATE_TEXT,
  description:
    `Reject transactions whose fee rate is higher than the specified value, expressed in ${CURRENCY_UNIT}/kvB.\n` +
    "Fee rates larger than 1BTC/kvB are rejected.\nSet to 0 to accept any fee rate.",
} as const;

const maxBurnAmountArg = {
  name: "maxburnamount",
  type: "amount",
  default: "0.00",
  description:
    `Reject transactions with provably unspendable outputs (e.g. 'datacarrier' outputs that use the OP_RETURN opcode) greater than the specified value, expressed in ${CURRENCY_UNIT}.\n` +
    "If burning funds through unspendable outputs is desired, increase this value.\n" +
    "This check is based on heuristics and does not guarantee spendability of outputs.\n",
} as const;

/** The `maxburnamount` check: no provably unspendable output above `maxBurn`. */
function checkBurn(tx: Tx, maxBurn: bigint): void {
  const burns = tx.outputs.some((output) =>
    (output.script[0] === 0x6a || output.script.length > 10_000 ||
      !hasValidOps(output.script)) && signedAmount(output.amount) > maxBurn
  );
  if (burns) {
    throw new RpcError(
      RpcErrorCode.VERIFY_ERROR,
      "Unspendable output exceeds maximum configured by user (maxburnamount)",
    );
  }
}

/** The package array of `testmempoolaccept` and `submitpackage`: 1 to 25 entries. */
function packageArray(value: Json): Json[] {
  const raws = asArr(value);
  if (raws.length < 1 || raws.length > MAX_PACKAGE_COUNT) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      `Array must contain between 1 and ${MAX_PACKAGE_COUNT} transactions.`,
    );
  }
  return raws;
}

/** One hex transaction of a package, with the package methods' decode error. */
function decodePackageTx(raw: Json): Tx {
  const text = asStr(raw);
  const tx = decodeHexTx(text);
  if (!tx) {
    throw new RpcError(
      RpcErrorCode.DESERIALIZATION_ERROR,
      `TX decode failed: ${text} Make sure the tx has at least one input.`,
    );
  }
  return tx;
}

const createExample = helpExampleCli(
  "createrawtransaction",
  '"[{\\"txid\\" : \\"mytxid\\",\\"vout\\":0}]" "{\\"myaddress\\":0.01}"',
);

/** Whether an entry signals BIP 125 itself or through an in-mempool ancestor. */
function bip125Replaceable(node: NodeServices, entry: MempoolEntry): boolean {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (current.tx.inputs.some((input) => input.sequence >>> 0 <= 0xfffffffd)) return true;
    for (const parent of current.depends) {
      const key = hashToHex(parent);
      if (seen.has(key)) continue;
      seen.add(key);
      const found = node.mempool.get(parent);
      if (found) pending.push(found);
    }
  }
  return false;
}

/** Core's `entryToJSON`. */
function entryJson(node: NodeServices, entry: MempoolEntry): Map<string, JsonInput> {
  const sortedHex = (hashes: readonly Hash[]) => hashes.map(hashToHex).sort();
  return new Map<string, JsonInput>([
    ["vsize", entry.vsize],
    ["weight", entry.weight],
    ["time", entry.time],
    ["height", entry.height],
    ["descendantcount", entry.descendantCount],
    ["descendantsize", entry.descendantSize],
    ["ancestorcount", entry.ancestorCount],
    ["ancestorsize", entry.ancestorSize],
    ["wtxid", hashToHex(entry.wtxid)],
    [
      "fees",
      new Map<string, JsonInput>([
        ["base", new Amount(entry.fee)],
        ["modified", new Amount(entry.modifiedFee)],
        ["ancestor", new Amount(entry.ancestorFees)],
        ["descendant", new Amount(entry.descendantFees)],
      ]),
    ],
    ["depends", sortedHex(entry.depends)],
    ["spentby", sortedHex(entry.spentBy)],
    ["bip125-replaceable", bip125Replaceable(node, entry)],
    ["unbroadcast", entry.unbroadcast],
  ]);
}

/** Core's `MempoolInfoToJSON`: getmempoolinfo's result (REST's `/rest/mempool/info` too). */
export function mempoolInfoJson(node: NodeServices): Map<string, JsonInput> {
  const { mempool } = node;
  const policy = mempool.policy;
  return new Map<string, JsonInput>([
    ["loaded", true],
    ["size", mempool.size],
    ["bytes", mempool.bytes],
    ["usage", mempool.usage],
    ["total_fee", new Amount(mempool.totalFee)],
    ["maxmempool", policy.maxMempoolBytes],
    ["mempoolminfee", new Amount(mempool.minFeeRate())],
    ["minrelaytxfee", new Amount(policy.minRelayFeeRate)],
    ["incrementalrelayfee", new Amount(policy.incrementalRelayFeeRate)],
    ["unbroadcastcount", mempool.unbroadcastCount],
    ["fullrbf", true],
    ["permitbaremultisig", policy.permitBareMultisig],
    ["maxdatacarriersize", policy.maxDatacarrierBytes],
  ]);
}

/**
 * Core's `MempoolToJSON`: getrawmempool's result (REST's
 * `/rest/mempool/contents` too) — the entries by txid when `verbose`, else
 * the txids, with the mempool sequence when `withSequence`.
 */
export function mempoolJson(
  node: NodeServices,
  verbose: boolean,
  withSequence: boolean,
): JsonInput {
  const { mempool } = node;
  const entries = mempool.entries();
  if (verbose) return new Map(entries.map((e) => [hashToHex(e.txid), entryJson(node, e)]));
  const txids = entries.map((e) => hashToHex(e.txid));
  if (!withSequence) return txids;
  return new Map<string, JsonInput>([
    ["txids", txids],
    ["mempool_sequence", mempool.sequence],
  ]);
}

/** The mempool entry a `txid` argument names, or -5 `Transaction not in mempool`. */
function lookupEntry(node: NodeServices, value: Json): MempoolEntry {
  const entry = node.mempool.get(parseHashV(value, "txid"));
  if (!entry) throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Transaction not in mempool");
  return entry;
}

/** In-mempool relatives of `entry` (parents through `depends`, children through `spentBy`). */
function relatives(
  node: NodeServices,
  entry: MempoolEntry,
  next: (entry: MempoolEntry) => readonly Hash[],
): MempoolEntry[] {
  const found = new Map<string, MempoolEntry>();
  const pending = [entry];
  while (pending.length > 0) {
    for (const hash of next(pending.pop()!)) {
      const key = hashToHex(hash);
      const relative = node.mempool.get(key);
      if (!relative || found.has(key)) continue;
      found.set(key, relative);
      pending.push(relative);
    }
  }
  return [...found.values()];
}

function relativesMethod(
  node: NodeServices,
  name: "getmempoolancestors" | "getmempooldescendants",
): RpcMethod {
  const what = name === "getmempoolancestors" ? "ancestor" : "descendant";
  return defineMethod({
    name,
    category: "blockchain",
    description: `If txid is in the mempool, returns all in-mempool ${what}s.\n`,
    args: [
      { name: "txid", type: "hex", description: "The transaction id (must be in mempool)" },
      {
        name: "verbose",
        type: "bool",
        default: false,
        description: "True for a json object, false for array of transaction ids",
      },
    ],
    result: [
      when(
        "for verbose = false",
        arr("", "", [hexStr("", `The transaction id of an in-mempool ${what} transaction`)]),
      ),
      when("for verbose = true", objDyn("", "", [obj("transactionid", "", mempoolEntryDoc())])),
    ],
    examples: helpExampleCli(name, '"mytxid"') + helpExampleRpc(name, '"mytxid"'),
    handler(params) {
      const entry = lookupEntry(node, params.raw("txid"));
      const found = relatives(node, entry, (e) => what === "ancestor" ? e.depends : e.spentBy);
      if (!params.arg("verbose", asBool)) return found.map((e) => hashToHex(e.txid));
      return new Map(found.map((e) => [hashToHex(e.txid), entryJson(node, e)]));
    },
  });
}

/** The mempool methods. */
export function mempoolMethods(node: NodeServices): RpcMethod[] {
  const { mempool } = node;
  return [
    defineMethod({
      name: "sendrawtransaction",
      category: "rawtransactions",
      description:
        "Submit a raw transaction (serialized, hex-encoded) to local node and network.\n" +
        "\nThe transaction will be sent unconditionally to all peers, so using sendrawtransaction\n" +
        "for manual rebroadcast may degrade privacy by leaking the transaction's origin, as\n" +
        "nodes will normally not rebroadcast non-wallet transactions already in their mempool.\n" +
        "\nA specific exception, RPC_TRANSACTION_ALREADY_IN_UTXO_SET, may throw if the transaction cannot be added to the mempool.\n" +
        "\nRelated RPCs: createrawtransaction, signrawtransactionwithkey\n",
      args: [
        { name: "hexstring", type: "hex", description: "The hex string of the raw transaction" },
        maxFeeRateArg,
        maxBurnAmountArg,
      ],
      result: hexStr("", "The transaction hash in hex"),
      examples: "\nCreate a transaction\n" + createExample +
        "Sign the transaction, and get back the hex\n" +
        helpExampleCli("signrawtransactionwithwallet", '"myhex"') +
        "\nSend the transaction (signed hex)\n" +
        helpExampleCli("sendrawtransaction", '"signedhex"') +
        "\nAs a JSON-RPC call\n" +
        helpExampleRpc("sendrawtransaction", '"signedhex"'),
      handler(params) {
        const maxBurn = params.has("maxburnamount")
          ? amountFromValue(params.raw("maxburnamount"))
          : 0n;
        const tx = decodeHexTx(params.arg("hexstring", asStr));
        if (!tx) {
          throw new RpcError(
            RpcErrorCode.DESERIALIZATION_ERROR,
            "TX decode failed. Make sure the tx has at least one input.",
          );
        }
        checkBurn(tx, maxBurn);
        const maxFeeRate = params.arg("maxfeerate", parseFeeRate);
        const result = mempool.accept(tx, { maxFeeRate });
        if (result.reject) throw new RpcError(result.reject.code, result.reject.message);
        return hashToHex(result.txid);
      },
    }),
    defineMethod({
      name: "testmempoolaccept",
      category: "rawtransactions",
      description:
        "Returns result of mempool acceptance tests indicating if raw transaction(s) (serialized, hex-encoded) would be accepted by mempool.\n" +
        "\nIf multiple transactions are passed in, parents must come before children and package policies apply: the transactions cannot conflict with any mempool transactions or each other.\n" +
        "\nIf one transaction fails, other transactions may not be fully validated (the 'allowed' key will be blank).\n" +
        `\nThe maximum number of transactions allowed is ${MAX_PACKAGE_COUNT}.\n` +
        "\nThis checks if transactions violate the consensus or policy rules.\n" +
        "\nSee sendrawtransaction call.\n",
      args: [
        {
          name: "rawtxs",
          type: "arr",
          description: "An array of hex strings of raw transactions.",
          inner: [{ name: "rawtx", type: "hex", optional: true, description: "" }],
        },
        maxFeeRateArg,
      ],
      result: arr(
        "",
        "The result of the mempool acceptance test for each raw transaction in the input array.\n" +
          "Returns results for each transaction in the same order they were passed in.\n" +
          "Transactions that cannot be fully validated due to failures in other transactions will not contain an 'allowed' result.\n",
        [
          obj("", "", [
            hexStr("txid", "The transaction hash in hex"),
            hexStr("wtxid", "The transaction witness hash in hex"),
            str(
              "package-error",
              "Package validation error, if any (only possible if rawtxs had more than 1 transaction).",
              true,
            ),
            bool(
              "allowed",
              "Whether this tx would be accepted to the mempool and pass client-specified maxfeerate. If not present, the tx was not fully validated due to a failure in another tx in the list.",
              true,
            ),
            num(
              "vsize",
              "Virtual transaction size as defined in BIP 141. This is different from actual serialized size for witness transactions as witness data is discounted (only present when 'allowed' is true)",
              true,
            ),
            obj("fees", "Transaction fees (only present if 'allowed' is true)", [
              amount("base", `transaction fee in ${CURRENCY_UNIT}`),
              amount(
                "effective-feerate",
                `the effective feerate in ${CURRENCY_UNIT} per KvB. May differ from the base feerate if, for example, there are modified fees from prioritisetransaction or a package feerate was used.`,
              ),
              arr(
                "effective-includes",
                "transactions whose fees and vsizes are included in effective-feerate.",
                [hexStr("", "transaction wtxid in hex")],
              ),
            ], true),
            str(
              "reject-reason",
              "Rejection reason (only present when 'allowed' is false)",
              true,
            ),
            str(
              "reject-details",
              "Rejection details (only present when 'allowed' is false and rejection details exist)",
              true,
            ),
          ]),
        ],
      ),
      examples: "\nCreate a transaction\n" + createExample +
        "Sign the transaction, and get back the hex\n" +
        helpExampleCli("signrawtransactionwithwallet", '"myhex"') +
        "\nTest acceptance of the transaction (signed hex)\n" +
        helpExampleCli("testmempoolaccept", `'["signedhex"]'`) +
        "\nAs a JSON-RPC call\n" +
        helpExampleRpc("testmempoolaccept", '["signedhex"]'),
      handler(params) {
        const raws = packageArray(params.raw("rawtxs"));
        const maxFeeRate = params.arg("maxfeerate", parseFeeRate);
        const txs = raws.map(decodePackageTx);
        return mempool.testAccept(txs, { maxFeeRate }).map((result) => {
          const out = new Map<string, JsonInput>([
            ["txid", hashToHex(result.txid)],
            ["wtxid", hashToHex(result.wtxid)],
          ]);
          if (result.packageError !== undefined) out.set("package-error", result.packageError);
          if (result.accepted) {
            out.set("allowed", true);
            out.set("vsize", result.vsize!);
            out.set(
              "fees",
              new Map<string, JsonInput>([
                ["base", new Amount(result.fee!)],
                ["effective-feerate", new Amount(result.effectiveFeeRate!)],
                ["effective-includes", (result.effectiveIncludes ?? []).map(hashToHex)],
              ]),
            );
          } else if (result.reject) {
            out.set("allowed", false);
            out.set("reject-reason", result.reject.rejectReason);
            if (result.reject.rejectDetails !== undefined) {
              out.set("reject-details", result.reject.rejectDetails);
            }
          }
          return out;
        });
      },
    }),
    defineMethod({
      name: "submitpackage",
      category: "rawtransactions",
      description:
        "Submit a package of raw transactions (serialized, hex-encoded) to local node.\n" +
        "The package will be validated according to consensus and mempool policy rules. If any transaction passes, it will be accepted to mempool.\n" +
        "This RPC is experimental and the interface may be unstable. Refer to doc/policy/packages.md for documentation on package policies.\n" +
        "Warning: successful submission does not mean the transactions will propagate throughout the network.\n",
      args: [
        {
          name: "package",
          type: "arr",
          description: "An array of raw transactions.\n" +
            "The package must solely consist of a child transaction and all of its unconfirmed parents, if any. None of the parents may depend on each other.\n" +
            "The package must be topologically sorted, with the child being the last element in the array.",
          inner: [{ name: "rawtx", type: "hex", optional: true, description: "" }],
        },
        maxFeeRateArg,
        maxBurnAmountArg,
      ],
      result: obj("", "", [
        str(
          "package_msg",
          'The transaction package result message. "success" indicates all transactions were accepted into or are already in the mempool.',
        ),
        objDyn("tx-results", "transaction results keyed by wtxid", [
          obj("wtxid", "transaction wtxid", [
            hexStr("txid", "The transaction hash in hex"),
            hexStr(
              "other-wtxid",
              "The wtxid of a different transaction with the same txid but different witness found in the mempool. This means the submitted transaction was ignored.",
              true,
            ),
            num("vsize", "Sigops-adjusted virtual transaction size.", true),
            obj("fees", "Transaction fees", [
              amount("base", `transaction fee in ${CURRENCY_UNIT}`),
              amount(
                "effective-feerate",
                `if the transaction was not already in the mempool, the effective feerate in ${CURRENCY_UNIT} per KvB. For example, the package feerate and/or feerate with modified fees from prioritisetransaction.`,
                true,
              ),
              arr(
                "effective-includes",
                "if effective-feerate is provided, the wtxids of the transactions whose fees and vsizes are included in effective-feerate.",
                [hexStr("", "transaction wtxid in hex")],
                true,
              ),
            ], true),
            str(
              "error",
              "The transaction error string, if it was rejected by the mempool",
              true,
            ),
          ]),
        ]),
        arr("replaced-transactions", "List of txids of replaced transactions", [
          hexStr("", "The transaction id"),
        ], true),
      ]),
      examples:
        helpExampleRpc("submitpackage", '["raw-parent-tx-1", "raw-parent-tx-2", "raw-child-tx"]') +
        helpExampleCli("submitpackage", `'["raw-tx-without-unconfirmed-parents"]'`),
      handler(params) {
        const raws = packageArray(params.raw("package"));
        const maxFeeRate = params.arg("maxfeerate", parseFeeRate);
        const maxBurn = params.has("maxburnamount")
          ? amountFromValue(params.raw("maxburnamount"))
          : 0n;
        const txs = raws.map((raw) => {
          const tx = decodePackageTx(raw);
          checkBurn(tx, maxBurn);
          return tx;
        });
        if (txs.length > 1 && !isChildWithParentsTree(txs)) {
          throw new RpcError(
            RpcErrorCode.VERIFY_ERROR,
            "package topology disallowed. not child-with-parents or parents depend on each other.",
          );
        }
        const submission = mempool.submitPackage(txs, { maxFeeRate });
        const txResults = new Map<string, JsonInput>();
        // Core v30 leaves a transaction it has no result for (a package-wide error) out.
        for (const result of submission.results) {
          const out = new Map<string, JsonInput>([["txid", hashToHex(result.txid)]]);
          if (result.outcome === "other-witness") {
            out.set("other-wtxid", hashToHex(result.otherWtxid!));
          } else if (result.outcome === "refused") {
            out.set("error", result.reject!.message);
          } else {
            out.set("vsize", result.vsize!);
            const fees = new Map<string, JsonInput>([["base", new Amount(result.fee!)]]);
            if (result.outcome === "accepted") {
              fees.set("effective-feerate", new Amount(result.effectiveFeeRate!));
              fees.set("effective-includes", result.effectiveIncludes!.map(hashToHex));
            }
            out.set("fees", fees);
          }
          txResults.set(hashToHex(result.wtxid), out);
        }
        return new Map<string, JsonInput>([
          ["package_msg", submission.message],
          ["tx-results", txResults],
          ["replaced-transactions", submission.replaced.map(hashToHex)],
        ]);
      },
    }),
    defineMethod({
      name: "getmempoolinfo",
      category: "blockchain",
      description: "Returns details on the active state of the TX memory pool.",
      result: obj("", "", [
        bool("loaded", "True if the initial load attempt of the persisted mempool finished"),
        num("size", "Current tx count"),
        num(
          "bytes",
          "Sum of all virtual transaction sizes as defined in BIP 141. Differs from actual serialized size because witness data is discounted",
        ),
        num("usage", "Total memory usage for the mempool"),
        amount(
          "total_fee",
          `Total fees for the mempool in ${CURRENCY_UNIT}, ignoring modified fees through prioritisetransaction`,
        ),
        num("maxmempool", "Maximum memory usage for the mempool"),
        amount(
          "mempoolminfee",
          `Minimum fee rate in ${CURRENCY_UNIT}/kvB for tx to be accepted. Is the maximum of minrelaytxfee and minimum mempool fee`,
        ),
        amount("minrelaytxfee", "Current minimum relay fee for transactions"),
        amount(
          "incrementalrelayfee",
          `minimum fee rate increment for mempool limiting or replacement in ${CURRENCY_UNIT}/kvB`,
        ),
        num(
          "unbroadcastcount",
          "Current number of transactions that haven't passed initial broadcast yet",
        ),
        bool(
          "fullrbf",
          "True if the mempool accepts RBF without replaceability signaling inspection (DEPRECATED)",
        ),
        bool(
          "permitbaremultisig",
          "True if the mempool accepts transactions with bare multisig outputs",
        ),
        num(
          "maxdatacarriersize",
          "Maximum number of bytes that can be used by OP_RETURN outputs in the mempool",
        ),
      ]),
      examples: helpExampleCli("getmempoolinfo", "") + helpExampleRpc("getmempoolinfo", ""),
      handler: () => mempoolInfoJson(node),
    }),
    defineMethod({
      name: "getrawmempool",
      category: "blockchain",
      description:
        "Returns all transaction ids in memory pool as a json array of string transaction ids.\n" +
        "\nHint: use getmempoolentry to fetch a specific transaction from the mempool.\n",
      args: [
        {
          name: "verbose",
          type: "bool",
          default: false,
          description: "True for a json object, false for array of transaction ids",
        },
        {
          name: "mempool_sequence",
          type: "bool",
          default: false,
          description:
            "If verbose=false, returns a json object with transaction list and mempool sequence number attached.",
        },
      ],
      result: [
        when("for verbose = false", arr("", "", [hexStr("", "The transaction id")])),
        when("for verbose = true", objDyn("", "", [obj("transactionid", "", mempoolEntryDoc())])),
        when(
          "for verbose = false and mempool_sequence = true",
          obj("", "", [
            arr("txids", "", [hexStr("", "The transaction id")]),
            num("mempool_sequence", "The mempool sequence value."),
          ]),
        ),
      ],
      examples: helpExampleCli("getrawmempool", "true") + helpExampleRpc("getrawmempool", "true"),
      handler(params) {
        const verbose = params.arg("verbose", asBool);
        const withSequence = params.arg("mempool_sequence", asBool);
        if (verbose && withSequence) {
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "Verbose results cannot contain mempool sequence values.",
          );
        }
        return mempoolJson(node, verbose, withSequence);
      },
    }),
    defineMethod({
      name: "getmempoolentry",
      category: "blockchain",
      description: "Returns mempool data for given transaction\n",
      args: [{
        name: "txid",
        type: "hex",
        description: "The transaction id (must be in mempool)",
      }],
      result: obj("", "", mempoolEntryDoc()),
      examples: helpExampleCli("getmempoolentry", '"mytxid"') +
        helpExampleRpc("getmempoolentry", '"mytxid"'),
      handler: (params) => entryJson(node, lookupEntry(node, params.raw("txid"))),
    }),
    relativesMethod(node, "getmempoolancestors"),
    relativesMethod(node, "getmempooldescendants"),
    defineMethod({
      name: "gettxspendingprevout",
      category: "blockchain",
      description: "Scans the mempool to find transactions spending any of the given outputs",
      args: [{
        name: "outputs",
        type: "arr",
        description:
          "The transaction outputs that we want to check, and within each, the txid (string) vout (numeric).",
        inner: [outpointArg()],
      }],
      result: arr("", "", [
        obj("", "", [
          hexStr("txid", "the transaction id of the checked output"),
          num("vout", "the vout value of the checked output"),
          {
            ...hexStr(
              "spendingtxid",
              "the transaction id of the mempool transaction spending this output (omitted if unspent)",
            ),
            optional: true,
          },
        ]),
      ]),
      examples: helpExampleCli(
        "gettxspendingprevout",
        '"[{\\"txid\\":\\"a08e6907dbbd3d809776dbfc5d82e371b764ed838b5655e72f463568df1aadf0\\",\\"vout\\":3}]"',
      ) +
        helpExampleRpc(
          "gettxspendingprevout",
          '"[{\\"txid\\":\\"a08e6907dbbd3d809776dbfc5d82e371b764ed838b5655e72f463568df1aadf0\\",\\"vout\\":3}]"',
        ),
      handler: (params) => {
        const outputs = asArr(params.raw("outputs"));
        const invalid = (message: string) => {
          throw new RpcError(RpcErrorCode.INVALID_PARAMETER, message);
        };
        if (outputs.length === 0) invalid("Invalid parameter, outputs are missing");
        // Every output is read before any is looked up, as Core's.
        const prevouts = outputs.map((output) => {
          const o = asObj(output);
          checkField(o, "txid", "string");
          checkField(o, "vout", "number");
          for (const key of o.keys) {
            if (key !== "txid" && key !== "vout") {
              throw new RpcError(RpcErrorCode.TYPE_ERROR, `Unexpected key ${key}`);
            }
          }
          const txid = hashFromHex(parseHashV(o.get("txid")!, "txid"));
          const vout = asInt(o.get("vout")!);
          if (vout < 0) invalid("Invalid parameter, vout cannot be negative");
          return { txid, index: vout };
        });
        return prevouts.map((prevout) => {
          const spender = mempool.spender(prevout);
          return new Map<string, JsonInput>([
            ["txid", hashToHex(prevout.txid)],
            ["vout", prevout.index],
            ...(spender === undefined ? [] : [["spendingtxid", hashToHex(spender)] as const]),
          ]);
        });
      },
    }),
    defineMethod({
      name: "importmempool",
      category: "blockchain",
      description: "Import a mempool.dat file and attempt to add its contents to the mempool.\n" +
        "Warning: Importing untrusted files is dangerous, especially if metadata from the file is taken over.",
      args: [
        { name: "filepath", type: "str", description: "The mempool file" },
        {
          name: "options",
          type: "obj_named_params",
          optional: true,
          description: "",
          inner: [
            {
              name: "use_current_time",
              type: "bool",
              default: true,
              description:
                "Whether to use the current system time or use the entry time metadata from the mempool file.\n" +
                "Warning: Importing untrusted metadata may lead to unexpected issues and undesirable behavior.",
            },
            {
              name: "apply_fee_delta_priority",
              type: "bool",
              default: false,
              description: "Whether to apply the fee delta metadata from the mempool file.\n" +
                "It will be added to any existing fee deltas.\n" +
                "The fee delta can be set by the prioritisetransaction RPC.\n" +
                "Warning: Importing untrusted metadata may lead to unexpected issues and undesirable behavior.\n" +
                "Only set this bool if you understand what it does.",
            },
            {
              name: "apply_unbroadcast_set",
              type: "bool",
              default: false,
              description:
                "Whether to apply the unbroadcast set metadata from the mempool file.\n" +
                "Warning: Importing untrusted metadata may lead to unexpected issues and undesirable behavior.",
            },
          ],
          onelineDescription: "options",
        },
      ],
      result: obj("", "", []),
      // v30's RPC example passes the path unquoted (Core fixed it after v30).
      examples: helpExampleCli("importmempool", "/path/to/mempool.dat") +
        helpExampleRpc("importmempool", "/path/to/mempool.dat"),
      async handler(params, ctx) {
        if (node.isInitialBlockDownload()) {
          throw new RpcError(
            RpcErrorCode.CLIENT_IN_INITIAL_DOWNLOAD,
            "Can only import the mempool after the block download and sync is done.",
          );
        }
        const path = params.arg("filepath", asStr);
        // `request.params[1]["…"]`, then `get_bool`: an absent or null option takes its default,
        // another type is -3, and keys Core does not read are ignored.
        const options = params.raw("options");
        const option = (key: string, fallback: boolean) => {
          const value = options instanceof JsonObject ? options.get(key) ?? null : null;
          return value === null ? fallback : asBool(value);
        };
        const useCurrentTime = option("use_current_time", true);
        const applyFeeDeltaPriority = option("apply_fee_delta_priority", false);
        const applyUnbroadcastSet = option("apply_unbroadcast_set", false);
        const result = await mempool.load(path, {
          useCurrentTime,
          applyFeeDeltaPriority,
          applyUnbroadcastSet,
          log: node.log,
          signal: ctx.signal,
        });
        if (!result.loaded) {
          // Core's log says little (nothing at all for a file of another version); this says why,
          // the path cut to a line's worth and its control characters escaped (one log line).
          const cut = path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path;
          const shown = cut.replace(
            /\p{Cc}/gu,
            (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
          );
          node.log(
            result.outsideSandbox && node.readableDir !== undefined
              ? `importmempool: '${shown}' is outside what the node's sandbox lets it read; keep mempool files to import under '${node.readableDir}'`
              : `importmempool: '${shown}' not imported: ${result.failure}`,
          );
          throw new RpcError(
            RpcErrorCode.MISC_ERROR,
            "Unable to import mempool file, see debug.log for details.",
          );
        }
        return new Map<string, JsonInput>();
      },
    }),
    defineMethod({
      name: "savemempool",
      category: "blockchain",
      description:
        "Dumps the mempool to disk. It will fail until the previous dump is fully loaded.\n",
      result: obj("", "", [
        str("filename", "the directory and file where the mempool was saved"),
      ]),
      examples: helpExampleCli("savemempool", "") + helpExampleRpc("savemempool", ""),
      handler() {
        const file = node.mempoolFile;
        try {
          if (file === undefined) throw new Error("no mempool file");
          mempool.save(file);
        } catch {
          throw new RpcError(RpcErrorCode.MISC_ERROR, "Unable to dump mempool to disk");
        }
        return new Map<string, JsonInput>([["filename", file]]);
      },
    }),
  ];
}
