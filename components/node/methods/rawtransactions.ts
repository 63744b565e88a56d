/**
 * The `rawtransactions` methods that read, build and sign transactions
 * (`rpc/rawtransaction.cpp`, `rpc/rawtransaction_util.cpp`):
 * getrawtransaction (verbosity 0–2, with a block hash), decoderawtransaction,
 * decodescript (with its `p2sh` and `segwit` wrappings),
 * createrawtransaction (data outputs, replaceable, locktime, version),
 * signrawtransactionwithkey and combinerawtransaction (see `signing.ts`),
 * with Core's help texts, key order and errors. `sendrawtransaction` and
 * `testmempoolaccept` are in `mempool.ts`, as in Core.
 *
 * `nodeMethods` (`mod.ts`, whose example runs it) adds `rawTransactionMethods(…)` to the
 * server's table with the others.
 * @module
 */
import { ripemd160 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import {
  bytesEqual,
  decodeDestination,
  GENESIS_BLOCK,
  hashFromHex,
  hashToHex,
  isCoinbase,
  isOpSuccess,
  isUnspendable,
  OUTPUT_TYPES,
  parseScript,
  pushScript,
  scriptToAddress,
  solver,
  type Tx,
  txid,
} from "../chain/mod.ts";
import {
  amountFromValue,
  type ArgSpec,
  asArr,
  asBool,
  asInt,
  asInt64,
  asObj,
  asStr,
  asUint32,
  defineMethod,
  helpExampleCli,
  helpExampleRpc,
  type Json,
  type JsonInput,
  JsonNumber,
  JsonObject,
  outpointArg,
  parseHashV,
  parseHexV,
  parseVerbosity,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import {
  arr,
  bool,
  CURRENCY_UNIT,
  decodeTxDoc,
  elision,
  hexStr,
  num,
  obj,
  prevoutDoc,
  str,
  time,
  when,
} from "./docs.ts";
import {
  decodeHexTx,
  decodeTxParam,
  encodeTxHex,
  isWitnessArg,
  scriptPubKeyJson,
  txToJson,
} from "./encoding.ts";
import type { NodeServices } from "./services.ts";
import {
  combineSignatures,
  findCoins,
  keysProvider,
  parsePrevouts,
  parseSighash,
  SIGHASH_NAMES,
  signResultJson,
  signTransaction,
} from "./signing.ts";

const SEQUENCE_FINAL = 0xffffffff;
/** `MAX_BIP125_RBF_SEQUENCE`. */
const MAX_BIP125_RBF_SEQUENCE = 0xfffffffd;
/** `CTxIn::MAX_SEQUENCE_NONFINAL`. */
const MAX_SEQUENCE_NONFINAL = 0xfffffffe;
const OP_CHECKSIGADD = 0xba;

function invalidParameter(message: string): never {
  throw new RpcError(RpcErrorCode.INVALID_PARAMETER, message);
}

/** `SignalsOptInRBF`: some input's sequence is below 0xfffffffe. */
export function signalsOptInRbf(tx: Tx): boolean {
  return tx.inputs.some((input) => input.sequence >>> 0 <= MAX_BIP125_RBF_SEQUENCE);
}

function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}

function p2shScript(script: Uint8Array): Uint8Array {
  return Uint8Array.of(0xa9, 0x14, ...hash160(script), 0x87);
}

/** `decodescript`'s result: the script, and where it can be wrapped, its P2SH and segwit forms. */
function decodeScriptJson(script: Uint8Array): Map<string, JsonInput> {
  const out = scriptPubKeyJson(script, { includeHex: false });
  const { type, solutions } = solver(script);
  const wrappable = [
    "multisig",
    "nonstandard",
    "pubkey",
    "pubkeyhash",
    "witness_v0_keyhash",
    "witness_v0_scripthash",
  ].includes(type);
  const { ops, truncated } = parseScript(script);
  const canWrap = wrappable && !truncated && !isUnspendable(script) &&
    ops.every((op) => op.opcode <= 0xb9 && (op.data?.length ?? 0) <= 520) &&
    !ops.some((op) => op.opcode === OP_CHECKSIGADD || isOpSuccess(op.opcode));
  if (!canWrap) return out;
  out.set("p2sh", scriptToAddress(p2shScript(script))!);
  let canWrapWsh = type === "nonstandard" || type === "pubkeyhash";
  if (type === "multisig" || type === "pubkey") {
    canWrapWsh = solutions.every((solution) => solution.length === 1 || solution.length === 33);
  }
  if (!canWrapWsh) return out;
  let segwitScript: Uint8Array;
  let provider = {};
  if (type === "pubkey") {
    segwitScript = Uint8Array.of(0x00, 0x14, ...hash160(solutions[0]));
  } else if (type === "pubkeyhash") {
    segwitScript = Uint8Array.of(0x00, 0x14, ...solutions[0]);
  } else {
    const hash = sha256(script);
    segwitScript = Uint8Array.of(0x00, 0x20, ...hash);
    provider = { witnessScript: (h: Uint8Array) => bytesEqual(h, hash) ? script : undefined };
  }
  const segwit = scriptPubKeyJson(segwitScript, { provider });
  segwit.set("p2sh-segwit", scriptToAddress(p2shScript(segwitScript))!);
  out.set("segwit", segwit);
  return out;
}

/** `ConstructTransaction` (createrawtransaction's checks, in Core's order). */
export function constructTransaction(
  inputsIn: Json,
  outputsIn: Json,
  locktime: Json,
  replaceable: boolean | undefined,
  version: number,
): Tx {
  let lockTime = 0;
  if (locktime !== null) {
    const value = asInt64(locktime);
    if (value < 0n || value > 0xffffffffn) {
      invalidParameter("Invalid parameter, locktime out of range");
    }
    lockTime = Number(value);
  }
  if (version < 1 || version > 3) {
    invalidParameter("Invalid parameter, version out of range(1~3)");
  }
  const tx: Tx = { version, segwitFlag: false, inputs: [], outputs: [], lockTime };
  for (const input of inputsIn === null ? [] : asArr(inputsIn)) {
    const o = asObj(input);
    const prevTxid = parseHashV(o.get("txid") ?? null, "txid");
    const voutValue = o.get("vout");
    if (!(voutValue instanceof JsonNumber)) {
      invalidParameter("Invalid parameter, missing vout key");
    }
    const vout = asInt(voutValue);
    if (vout < 0) invalidParameter("Invalid parameter, vout cannot be negative");
    let sequence = replaceable ?? true
      ? MAX_BIP125_RBF_SEQUENCE
      : lockTime
      ? MAX_SEQUENCE_NONFINAL
      : SEQUENCE_FINAL;
    const sequenceValue = o.get("sequence");
    if (sequenceValue instanceof JsonNumber) {
      const value = asInt64(sequenceValue);
      if (value < 0n || value > BigInt(SEQUENCE_FINAL)) {
        invalidParameter("Invalid parameter, sequence number is out of range");
      }
      sequence = Number(value);
    }
    tx.inputs.push({
      txid: hex.decode(prevTxid),
      index: vout,
      finalScriptSig: new Uint8Array(0),
      sequence,
    });
  }
  addOutputs(tx.outputs, outputsIn);
  if (replaceable === true && tx.inputs.length > 0 && !signalsOptInRbf(tx)) {
    invalidParameter(
      "Invalid parameter combination: Sequence number(s) contradict replaceable option",
    );
  }
  return tx;
}

/** `NormalizeOutputs` + `ParseOutputs` + `AddOutputs`: onto `outputs`. */
export function addOutputs(outputs: Tx["outputs"], outputsIn: Json): void {
  if (outputsIn === null) invalidParameter("Invalid parameter, output argument must be non-null");
  let pairs: JsonObject;
  if (outputsIn instanceof JsonObject) {
    pairs = outputsIn;
  } else {
    pairs = new JsonObject();
    for (const output of asArr(outputsIn)) {
      if (!(output instanceof JsonObject)) {
        invalidParameter("Invalid parameter, key-value pair not an object as expected");
      }
      if (output.size !== 1) {
        invalidParameter("Invalid parameter, key-value pair must contain exactly one key");
      }
      pairs.push(output.keys[0], output.values[0]);
    }
  }
  const seen = new Set<string>();
  let hasData = false;
  for (const name of pairs.keys) {
    const value = pairs.get(name)!;
    if (name === "data") {
      if (hasData) invalidParameter("Invalid parameter, duplicate key: data");
      hasData = true;
      const text = value instanceof JsonNumber
        ? value.text
        : typeof value === "string"
        ? value
        : "";
      const data = parseHexV(text, "Data");
      outputs.push({ amount: 0n, script: Uint8Array.of(0x6a, ...pushScript(data)) });
      continue;
    }
    const dest = decodeDestination(name);
    const satoshis = amountFromValue(value);
    if (!dest.ok) {
      throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, `Invalid Bitcoin address: ${name}`);
    }
    const key = hex.encode(dest.script);
    if (seen.has(key)) invalidParameter(`Invalid parameter, duplicated address: ${name}`);
    seen.add(key);
    outputs.push({ amount: satoshis, script: dest.script });
  }
}

/** The transaction `hash` in the stored block `blockHash`, with its position, if there. */
function txInBlock(
  node: NodeServices,
  blockHash: Uint8Array,
  hash: Uint8Array,
): { tx: Tx; blockHash: Uint8Array; index: number } | undefined {
  const block = node.chain.readBlock(blockHash);
  const index = block?.txs.findIndex((tx) => bytesEqual(txid(tx), hash)) ?? -1;
  return index < 0 ? undefined : { tx: block!.txs[index], blockHash, index };
}

/**
 * Core's `GetTransaction` without a block (getrawtransaction's, and REST's
 * `/rest/tx`): the mempool's transaction `hash`, else the one the
 * transaction index (`-txindex`) finds, with its block and position.
 */
export function mempoolOrIndexedTx(
  node: NodeServices,
  hash: Uint8Array,
): { tx: Tx; blockHash?: Uint8Array; index?: number } | undefined {
  const entry = node.mempool.get(hash);
  if (entry) return { tx: entry.tx };
  // The index is read while it still catches up too, as Core's is.
  const indexed = node.txindex?.find(hash);
  return indexed && txInBlock(node, indexed, hash);
}

/**
 * `getrawtransaction`'s lookup (Core's `GetTransaction`): in the block given,
 * else in the mempool, else through the transaction index; the transaction,
 * the block it was found in and whether that block was given, or Core's -5.
 */
function findTransaction(
  node: NodeServices,
  hash: Uint8Array,
  blockHashArg: Json,
): { tx: Tx; blockHash?: Uint8Array; index?: number; given?: boolean } {
  const inBlock = (blockHash: Uint8Array) => txInBlock(node, blockHash, hash);
  if (blockHashArg !== null) {
    const entry = node.chain.entry(hashFromHex(parseHashV(blockHashArg, "parameter 3")));
    if (!entry) throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Block hash not found");
    if (!node.chain.readBlock(entry.hash)) {
      throw new RpcError(RpcErrorCode.MISC_ERROR, "Block not available");
    }
    const found = inBlock(entry.hash);
    if (!found) {
      throw new RpcError(
        RpcErrorCode.INVALID_ADDRESS_OR_KEY,
        "No such transaction found in the provided block. Use gettransaction for wallet transactions.",
      );
    }
    return { ...found, given: true };
  }
  const found = mempoolOrIndexedTx(node, hash);
  if (found) return found;
  throw new RpcError(
    RpcErrorCode.INVALID_ADDRESS_OR_KEY,
    (node.txindex === undefined
      ? "No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction queries"
      : node.txindex.synced
      ? "No such mempool or blockchain transaction"
      : "No such mempool transaction. Blockchain transactions are still in the process of being indexed") +
      ". Use gettransaction for wallet transactions.",
  );
}

/** The raw transaction methods of the `rawtransactions` category. */
export function rawTransactionMethods(node: NodeServices): RpcMethod[] {
  const { chain } = node;
  const genesisMerkleRoot = hashToHex(GENESIS_BLOCK.header.merkleRoot);
  return [
    defineMethod({
      name: "getrawtransaction",
      category: "rawtransactions",
      description:
        "By default, this call only returns a transaction if it is in the mempool. If -txindex is enabled\n" +
        "and no blockhash argument is passed, it will return the transaction if it is in the mempool or any block.\n" +
        "If a blockhash argument is passed, it will return the transaction if\n" +
        "the specified block is available and the transaction is in that block.\n\n" +
        "Hint: Use gettransaction for wallet transactions.\n\n" +
        "If verbosity is 0 or omitted, returns the serialized transaction as a hex-encoded string.\n" +
        "If verbosity is 1, returns a JSON Object with information about the transaction.\n" +
        "If verbosity is 2, returns a JSON Object with information about the transaction, including fee and prevout information.",
      args: [
        { name: "txid", type: "hex", description: "The transaction id" },
        {
          name: "verbosity|verbose",
          type: "num",
          default: 0,
          description:
            "0 for hex-encoded data, 1 for a JSON object, and 2 for JSON object with fee and prevout",
          skipTypeCheck: true,
        },
        {
          name: "blockhash",
          type: "hex",
          optional: true,
          description: "The block in which to look for the transaction",
        },
      ],
      result: [
        when(
          "if verbosity is not set or set to 0",
          str("", "The serialized transaction as a hex-encoded string for 'txid'"),
        ),
        when(
          "if verbosity is set to 1",
          obj("", "", [
            bool(
              "in_active_chain",
              'Whether specified block is in the active chain or not (only present with explicit "blockhash" argument)',
              true,
            ),
            hexStr("blockhash", "the block hash", true),
            num("confirmations", "The confirmations", true),
            time("blocktime", "The block time expressed in UNIX epoch time", true),
            num("time", 'Same as "blocktime"', true),
            hexStr("hex", "The serialized, hex-encoded data for 'txid'"),
            ...decodeTxDoc("The transaction id (same as provided)"),
          ]),
        ),
        when(
          "for verbosity = 2",
          obj("", "", [
            elision("Same output as verbosity = 1"),
            num(
              "fee",
              `transaction fee in ${CURRENCY_UNIT}, omitted if block undo data is not available`,
              true,
            ),
            arr("vin", "", [
              obj("", "utxo being spent", [elision("Same output as verbosity = 1"), prevoutDoc()]),
            ]),
          ]),
        ),
      ],
      examples: helpExampleCli("getrawtransaction", '"mytxid"') +
        helpExampleCli("getrawtransaction", '"mytxid" 1') +
        helpExampleRpc("getrawtransaction", '"mytxid", 1') +
        helpExampleCli("getrawtransaction", '"mytxid" 0 "myblockhash"') +
        helpExampleCli("getrawtransaction", '"mytxid" 1 "myblockhash"') +
        helpExampleCli("getrawtransaction", '"mytxid" 2 "myblockhash"'),
      handler(params) {
        const txidHex = parseHashV(params.raw("txid"), "parameter 1");
        if (txidHex === genesisMerkleRoot) {
          throw new RpcError(
            RpcErrorCode.INVALID_ADDRESS_OR_KEY,
            "The genesis block coinbase is not considered an ordinary transaction and cannot be retrieved",
          );
        }
        const verbosity = parseVerbosity(params.raw("verbosity"), 0);
        const found = findTransaction(node, hashFromHex(txidHex), params.raw("blockhash"));
        if (verbosity <= 0) return encodeTxHex(found.tx);
        const result = new Map<string, JsonInput>();
        const entry = found.blockHash && chain.entry(found.blockHash);
        if (entry && found.given) result.set("in_active_chain", chain.isActive(entry));
        let undo;
        if (verbosity >= 2 && entry && found.index !== undefined && !isCoinbase(found.tx)) {
          undo = chain.readUndo(entry.hash)?.[found.index - 1];
        }
        for (const [key, value] of txToJson(found.tx, { undo, verbosity: "prevout" })) {
          result.set(key, value);
        }
        if (entry) {
          result.set("blockhash", hashToHex(entry.hash));
          if (chain.isActive(entry)) {
            result.set("confirmations", chain.height - entry.height + 1);
            result.set("time", entry.header.time);
            result.set("blocktime", entry.header.time);
          } else {
            result.set("confirmations", 0);
          }
        }
        return result;
      },
    }),
    defineMethod({
      name: "decoderawtransaction",
      category: "rawtransactions",
      description: "Return a JSON object representing the serialized, hex-encoded transaction.",
      args: [
        { name: "hexstring", type: "hex", description: "The transaction hex string" },
        isWitnessArg("\n"),
      ],
      result: obj("", "", decodeTxDoc("The transaction id")),
      examples: helpExampleCli("decoderawtransaction", '"hexstring"') +
        helpExampleRpc("decoderawtransaction", '"hexstring"'),
      handler(params) {
        const tx = decodeTxParam(params);
        return txToJson(tx, { includeHex: false });
      },
    }),
    defineMethod({
      name: "decodescript",
      category: "rawtransactions",
      description: "Decode a hex-encoded script.\n",
      args: [{ name: "hexstring", type: "hex", description: "the hex-encoded script" }],
      result: obj("", "", [
        str("asm", "Disassembly of the script"),
        str("desc", "Inferred descriptor for the script"),
        str("type", `The output type (e.g. ${OUTPUT_TYPES.join(", ")})`),
        str("address", "The Bitcoin address (only if a well-defined address exists)", true),
        str(
          "p2sh",
          "address of P2SH script wrapping this redeem script (not returned for types that should not be wrapped)",
          true,
        ),
        obj(
          "segwit",
          "Result of a witness output script wrapping this redeem script (not returned for types that should not be wrapped)",
          [
            str("asm", "Disassembly of the output script"),
            hexStr("hex", "The raw output script bytes, hex-encoded"),
            str(
              "type",
              "The type of the output script (e.g. witness_v0_keyhash or witness_v0_scripthash)",
            ),
            str("address", "The Bitcoin address (only if a well-defined address exists)", true),
            str("desc", "Inferred descriptor for the script"),
            str("p2sh-segwit", "address of the P2SH script wrapping this witness redeem script"),
          ],
          true,
        ),
      ]),
      examples: helpExampleCli("decodescript", '"hexstring"') +
        helpExampleRpc("decodescript", '"hexstring"'),
      handler(params) {
        const text = params.arg("hexstring", asStr);
        const script = text.length > 0 ? parseHexV(text, "argument") : new Uint8Array(0);
        return decodeScriptJson(script);
      },
    }),
    defineMethod({
      name: "signrawtransactionwithkey",
      category: "rawtransactions",
      description: "Sign inputs for raw transaction (serialized, hex-encoded).\n" +
        "The second argument is an array of base58-encoded private\n" +
        "keys that will be the only keys used to sign the transaction.\n" +
        "The third optional argument (may be null) is an array of previous transaction outputs that\n" +
        "this transaction depends on but may not yet be in the block chain.\n",
      args: [
        { name: "hexstring", type: "str", description: "The transaction hex string" },
        {
          name: "privkeys",
          type: "arr",
          description: "The base58-encoded private keys for signing",
          inner: [{
            name: "privatekey",
            type: "str",
            optional: true,
            description: "private key in base58-encoding",
          }],
        },
        {
          name: "prevtxs",
          type: "arr",
          optional: true,
          description: "The previous dependent transaction outputs",
          inner: [outpointArg(
            { name: "scriptPubKey", type: "hex", description: "output script" },
            {
              name: "redeemScript",
              type: "hex",
              optional: true,
              description: "(required for P2SH) redeem script",
            },
            {
              name: "witnessScript",
              type: "hex",
              optional: true,
              description: "(required for P2WSH or P2SH-P2WSH) witness script",
            },
            {
              name: "amount",
              type: "amount",
              optional: true,
              description: "(required for Segwit inputs) the amount spent",
            },
          )],
        },
        {
          name: "sighashtype",
          type: "str",
          default: "DEFAULT for Taproot, ALL otherwise",
          description: "The signature hash type. Must be one of:\n" +
            SIGHASH_NAMES.map(([name]) => `       "${name}"\n`).join(""),
        },
      ],
      result: obj("", "", [
        hexStr("hex", "The hex-encoded raw transaction with signature(s)"),
        bool("complete", "If the transaction has a complete set of signatures"),
        arr("errors", "Script verification errors (if there are any)", [
          obj("", "", [
            hexStr("txid", "The hash of the referenced, previous transaction"),
            num("vout", "The index of the output to spent and used as input"),
            arr("witness", "", [hexStr("witness", "")]),
            hexStr("scriptSig", "The hex-encoded signature script"),
            num("sequence", "Script sequence number"),
            str("error", "Verification or signing error related to the input"),
          ]),
        ], true),
      ]),
      examples: helpExampleCli("signrawtransactionwithkey", '"myhex" "[\\"key1\\",\\"key2\\"]"') +
        helpExampleRpc("signrawtransactionwithkey", '"myhex", "[\\"key1\\",\\"key2\\"]"'),
      handler(params) {
        const tx = decodeHexTx(params.arg("hexstring", asStr));
        if (!tx) {
          throw new RpcError(
            RpcErrorCode.DESERIALIZATION_ERROR,
            "TX decode failed. Make sure the tx has at least one input.",
          );
        }
        const keys = keysProvider(asArr(params.raw("privkeys")));
        const coins = findCoins(tx, node.mempool.coins({ includeSpent: true }));
        parsePrevouts(params.raw("prevtxs"), coins, keys);
        const hashType = parseSighash(params.raw("sighashtype"));
        return signResultJson(signTransaction(tx, keys, coins, hashType), encodeTxHex);
      },
    }),
    defineMethod({
      name: "combinerawtransaction",
      category: "rawtransactions",
      description: "Combine multiple partially signed transactions into one transaction.\n" +
        "The combined transaction may be another partially signed transaction or a \n" +
        "fully signed transaction.",
      args: [{
        name: "txs",
        type: "arr",
        description: "The hex strings of partially signed transactions",
        inner: [{
          name: "hexstring",
          type: "str",
          optional: true,
          description: "A hex-encoded raw transaction",
        }],
      }],
      result: str("", "The hex-encoded raw transaction with signature(s)"),
      examples: helpExampleCli("combinerawtransaction", `'["myhex1", "myhex2", "myhex3"]'`),
      handler(params) {
        const variants = asArr(params.raw("txs")).map((value, i) => {
          const tx = decodeHexTx(asStr(value));
          if (!tx) {
            throw new RpcError(
              RpcErrorCode.DESERIALIZATION_ERROR,
              `TX decode failed for tx ${i}. Make sure the tx has at least one input.`,
            );
          }
          return tx;
        });
        if (variants.length === 0) {
          throw new RpcError(RpcErrorCode.DESERIALIZATION_ERROR, "Missing transactions");
        }
        const coins = findCoins(variants[0], node.mempool.coins({ includeSpent: true }));
        return encodeTxHex(combineSignatures(variants, coins));
      },
    }),
    defineMethod({
      name: "createrawtransaction",
      category: "rawtransactions",
      description: "Create a transaction spending the given inputs and creating new outputs.\n" +
        "Outputs can be addresses or data.\n" +
        "Returns hex-encoded raw transaction.\n" +
        "Note that the transaction's inputs are not signed, and\n" +
        "it is not stored in the wallet or transmitted to the network.\n",
      args: createTxArgs(),
      result: hexStr("transaction", "hex string of the transaction"),
      examples: helpExampleCli(
        "createrawtransaction",
        '"[{\\"txid\\":\\"myid\\",\\"vout\\":0}]" "[{\\"address\\":0.01}]"',
      ) +
        helpExampleCli(
          "createrawtransaction",
          '"[{\\"txid\\":\\"myid\\",\\"vout\\":0}]" "[{\\"data\\":\\"00010203\\"}]"',
        ) +
        helpExampleRpc(
          "createrawtransaction",
          '"[{\\"txid\\":\\"myid\\",\\"vout\\":0}]", "[{\\"address\\":0.01}]"',
        ) +
        helpExampleRpc(
          "createrawtransaction",
          '"[{\\"txid\\":\\"myid\\",\\"vout\\":0}]", "[{\\"data\\":\\"00010203\\"}]"',
        ),
      handler(params) {
        const replaceable = params.maybe("replaceable", asBool);
        const tx = constructTransaction(
          params.raw("inputs"),
          params.raw("outputs"),
          params.raw("locktime"),
          params.has("replaceable") ? replaceable : undefined,
          params.arg("version", asUint32),
        );
        return encodeTxHex(tx);
      },
    }),
  ];
}

/** `CreateTxDoc()`. */
/** An input as `createrawtransaction` (and `sendall`'s `inputs`) reads it. */
export function inputDoc(): ArgSpec {
  return outpointArg({
    name: "sequence",
    type: "num",
    defaultHint: "depends on the value of the 'replaceable' and 'locktime' arguments",
    description: "The sequence number",
  });
}

/** Core's `OutputsDoc`: an output is an address and its amount, or `data`. */
export function outputsDoc(): ArgSpec[] {
  return [
    {
      name: "",
      type: "obj_user_keys",
      optional: true,
      description: "",
      inner: [{
        name: "address",
        type: "amount",
        description:
          `A key-value pair. The key (string) is the bitcoin address, the value (float or string) is the amount in ${CURRENCY_UNIT}`,
      }],
    },
    {
      name: "",
      type: "obj",
      optional: true,
      description: "",
      inner: [{
        name: "data",
        type: "hex",
        description:
          'A key-value pair. The key must be "data", the value is hex-encoded data that becomes a part of an OP_RETURN output',
      }],
    },
  ];
}

/**
 * The `outputs` argument as Core's methods document it: the same key-value
 * pairs, each method ending the text with its own `note`.
 */
export function outputsArg(note: string): ArgSpec {
  return {
    name: "outputs",
    type: "arr",
    description: "The outputs specified as key-value pairs.\n" +
      "Each key may only appear once, i.e. there can only be one 'data' output, and no address may be duplicated.\n" +
      "At least one output of either type must be specified.\n" + note,
    skipTypeCheck: true,
    inner: outputsDoc(),
  };
}

/** Core's `CreateTxDoc()`: the arguments of createrawtransaction and createpsbt. */
export function createTxArgs() {
  return [
    {
      name: "inputs",
      type: "arr",
      description: "The inputs",
      inner: [inputDoc()],
    },
    outputsArg(
      "For compatibility reasons, a dictionary, which holds the key-value pairs directly, is also\n" +
        "                             accepted as second parameter.",
    ),
    {
      name: "locktime",
      type: "num",
      default: 0,
      description: "Raw locktime. Non-0 value also locktime-activates inputs",
    },
    {
      name: "replaceable",
      type: "bool",
      default: true,
      description: "Marks this transaction as BIP125-replaceable.\n" +
        "Allows this transaction to be replaced by a transaction with higher fees. If provided, it is an error if explicit sequence numbers are incompatible.",
    },
    { name: "version", type: "num", default: 2, description: "Transaction version" },
  ] as const;
}
