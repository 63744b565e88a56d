/**
 * Result documentation shared by several methods, as Bitcoin Core shares it
 * (`ScriptPubKeyDoc`, `DecodeTxDoc`, `TxDoc`, the block header fields, the
 * mempool entry), and short constructors for {@linkcode ResultSpec}s so the
 * method modules read like Core's `RPCResult` lists.
 *
 * @example
 * ```ts
 * import { num, obj } from "./docs.ts";
 * const doc = obj("", "", [num("height", "Block height")]);
 * if (doc.inner?.[0].type !== "num") throw new Error("shape");
 * ```
 * @module
 */
import { OUTPUT_TYPES } from "../chain/mod.ts";
import type { ResultSpec } from "../../rpc/mod.ts";

/** Core's `CURRENCY_UNIT`. */
export const CURRENCY_UNIT = "BTC";

type Leaf = (key: string, description: string, optional?: boolean) => ResultSpec;

const leaf = (type: ResultSpec["type"]): Leaf => (key, description, optional) => ({
  type,
  key,
  description,
  ...(optional ? { optional } : {}),
});

/** `RPCResult::Type::NUM`. */
export const num: Leaf = leaf("num");
/** `RPCResult::Type::STR`. */
export const str: Leaf = leaf("str");
/** `RPCResult::Type::STR_HEX`. */
export const hexStr: Leaf = leaf("hex");
/** `RPCResult::Type::NUM_TIME`. */
export const time: Leaf = leaf("time");
/** `RPCResult::Type::BOOL`. */
export const bool: Leaf = leaf("bool");
/** `RPCResult::Type::STR_AMOUNT`. */
export const amount: Leaf = leaf("amount");

/** `RPCResult::Type::OBJ`. */
export function obj(
  key: string,
  description: string,
  inner: readonly ResultSpec[],
  optional = false,
): ResultSpec {
  return { type: "obj", key, description, inner, ...(optional ? { optional } : {}) };
}

/** `RPCResult::Type::ARR`. */
export function arr(
  key: string,
  description: string,
  inner: readonly ResultSpec[],
  optional = false,
): ResultSpec {
  return { type: "arr", key, description, inner, ...(optional ? { optional } : {}) };
}

/** `RPCResult::Type::OBJ_DYN`. */
export function objDyn(key: string, description: string, inner: readonly ResultSpec[]): ResultSpec {
  return { type: "obj_dyn", key, description, inner };
}

/** `RPCResult::Type::ELISION`. */
export function elision(description: string): ResultSpec {
  return { type: "elision", description };
}

/** A top-level alternative (`RPCResult{"cond", ...}`). */
export function when(cond: string, result: ResultSpec): ResultSpec {
  return { ...result, cond };
}

/** `ScriptPubKeyDoc()`. */
export function scriptPubKeyDoc(): ResultSpec[] {
  return [
    str("asm", "Disassembly of the output script"),
    str("desc", "Inferred descriptor for the output"),
    hexStr("hex", "The raw output script bytes, hex-encoded"),
    str("address", "The Bitcoin address (only if a well-defined address exists)", true),
    str("type", `The type (one of: ${OUTPUT_TYPES.join(", ")})`),
  ];
}

/** `DecodeTxDoc(txid_field_doc)`: the fields every decoded transaction has. */
export function decodeTxDoc(txidDoc: string): ResultSpec[] {
  return [
    hexStr("txid", txidDoc),
    hexStr("hash", "The transaction hash (differs from txid for witness transactions)"),
    num("size", "The serialized transaction size"),
    num("vsize", "The virtual transaction size (differs from size for witness transactions)"),
    num("weight", "The transaction's weight (between vsize*4-3 and vsize*4)"),
    num("version", "The version"),
    time("locktime", "The lock time"),
    arr("vin", "", [
      obj("", "", [
        hexStr("coinbase", "The coinbase value (only if coinbase transaction)", true),
        hexStr("txid", "The transaction id (if not coinbase transaction)", true),
        num("vout", "The output number (if not coinbase transaction)", true),
        obj("scriptSig", "The script (if not coinbase transaction)", [
          str("asm", "Disassembly of the signature script"),
          hexStr("hex", "The raw signature script bytes, hex-encoded"),
        ], true),
        arr("txinwitness", "", [hexStr("hex", "hex-encoded witness data (if any)")], true),
        num("sequence", "The script sequence number"),
      ]),
    ]),
    arr("vout", "", [
      obj("", "", [
        amount("value", `The value in ${CURRENCY_UNIT}`),
        num("n", "index"),
        obj("scriptPubKey", "", scriptPubKeyDoc()),
      ]),
    ]),
  ];
}

/** `TxDoc` of getblock/getrawtransaction verbosity 2 and 3: fee and prevouts. */
export function prevoutDoc(): ResultSpec {
  return obj("prevout", "The previous output, omitted if block undo data is not available", [
    bool("generated", "Coinbase or not"),
    num("height", "The height of the prevout"),
    amount("value", `The value in ${CURRENCY_UNIT}`),
    obj("scriptPubKey", "", scriptPubKeyDoc()),
  ], true);
}

/** The header fields of `getblockheader` and `getblock` (`blockheaderToJSON`). */
export function headerFieldsDoc(chainworkDoc: string): {
  before: ResultSpec[];
  after: ResultSpec[];
} {
  return {
    before: [
      hexStr("hash", "the block hash (same as provided)"),
      num(
        "confirmations",
        "The number of confirmations, or -1 if the block is not on the main chain",
      ),
    ],
    after: [
      time("time", "The block time expressed in UNIX epoch time"),
      time("mediantime", "The median block time expressed in UNIX epoch time"),
      num("nonce", "The nonce"),
      hexStr("bits", "nBits: compact representation of the block difficulty target"),
      hexStr("target", "The difficulty target"),
      num("difficulty", "The difficulty"),
      hexStr("chainwork", chainworkDoc),
      num("nTx", "The number of transactions in the block"),
      hexStr("previousblockhash", "The hash of the previous block (if available)", true),
      hexStr("nextblockhash", "The hash of the next block (if available)", true),
    ],
  };
}

/** The block position fields between the hash and the time. */
export function headerPositionDoc(): ResultSpec[] {
  return [
    num("height", "The block height or index"),
    num("version", "The block version"),
    hexStr("versionHex", "The block version formatted in hexadecimal"),
    hexStr("merkleroot", "The merkle root"),
  ];
}

/** `MempoolEntryDescription()`. */
export function mempoolEntryDoc(): ResultSpec[] {
  return [
    num(
      "vsize",
      "virtual transaction size as defined in BIP 141. This is different from actual serialized size for witness transactions as witness data is discounted.",
    ),
    num("weight", "transaction weight as defined in BIP 141."),
    time("time", "local time transaction entered pool in seconds since 1 Jan 1970 GMT"),
    num("height", "block height when transaction entered pool"),
    num("descendantcount", "number of in-mempool descendant transactions (including this one)"),
    num(
      "descendantsize",
      "virtual transaction size of in-mempool descendants (including this one)",
    ),
    num("ancestorcount", "number of in-mempool ancestor transactions (including this one)"),
    num("ancestorsize", "virtual transaction size of in-mempool ancestors (including this one)"),
    hexStr("wtxid", "hash of serialized transaction, including witness data"),
    obj("fees", "", [
      amount("base", `transaction fee, denominated in ${CURRENCY_UNIT}`),
      amount(
        "modified",
        `transaction fee with fee deltas used for mining priority, denominated in ${CURRENCY_UNIT}`,
      ),
      amount(
        "ancestor",
        `transaction fees of in-mempool ancestors (including this one) with fee deltas used for mining priority, denominated in ${CURRENCY_UNIT}`,
      ),
      amount(
        "descendant",
        `transaction fees of in-mempool descendants (including this one) with fee deltas used for mining priority, denominated in ${CURRENCY_UNIT}`,
      ),
    ]),
    arr("depends", "unconfirmed transactions used as inputs for this transaction", [
      hexStr("transactionid", "parent transaction id"),
    ]),
    arr("spentby", "unconfirmed transactions spending outputs from this transaction", [
      hexStr("transactionid", "child transaction id"),
    ]),
    bool(
      "bip125-replaceable",
      "Whether this transaction signals BIP125 replaceability or has an unconfirmed ancestor signaling BIP125 replaceability. (DEPRECATED)\n",
    ),
    bool(
      "unbroadcast",
      "Whether this transaction is currently unbroadcast (initial broadcast not yet acknowledged by any peers)",
    ),
  ];
}

/**
 * The `warnings` field of getblockchaininfo, getmininginfo and
 * getnetworkinfo as v30 documents it: an array, or with
 * `-deprecatedrpc=warnings` (`deprecated`) the latest warning as one string.
 */
export function warningsDoc(deprecated: ReadonlySet<string>): ResultSpec {
  if (deprecated.has("warnings")) {
    return str("warnings", "any network and blockchain warnings (DEPRECATED)");
  }
  return arr(
    "warnings",
    "any network and blockchain warnings (run with `-deprecatedrpc=warnings` to return the latest warning as a single string)",
    [str("", "warning")],
  );
}
