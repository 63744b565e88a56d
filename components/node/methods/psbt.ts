/**
 * The `rawtransactions` methods on Partially Signed Bitcoin Transactions
 * (BIP 174, version 0), as Bitcoin Core v30's `rpc/rawtransaction.cpp`
 * defines them, with Core's help texts, arguments, result documentation
 * and errors: createpsbt, converttopsbt, decodepsbt, combinepsbt,
 * finalizepsbt, utxoupdatepsbt, joinpsbts and analyzepsbt.
 *
 * This module holds the method definitions; the work lives in the modules
 * it imports, each owning one part (of these, the last three import only
 * `psbt_codec.ts`, and none imports this module):
 * - `psbt_codec.ts`: reading (`decodePsbt`, Core's -22 reasons) and
 *   writing a PSBT, and the input helpers the others share;
 * - `psbt_json.ts`: decodepsbt's rendering (every field Core knows, in
 *   Core's order, and the fee once every UTXO is known);
 * - `psbt_update.ts`: combining, finalizing (checked with the node's
 *   script interpreter), joining, and utxoupdatepsbt's updater;
 * - `psbt_analyze.ts`: analyzepsbt (Core's `AnalyzePSBT`).
 *
 * `nodeMethods` (`mod.ts`, whose example runs it) adds `psbtMethods(…)` to
 * the server's table next to the raw transaction methods.
 * @module
 */
import { base64, hex } from "@scure/base";
import { SigningProvider } from "../chain/mod.ts";
import {
  type ArgSpec,
  asArr,
  asBool,
  asStr,
  asUint32,
  defineMethod,
  helpExampleCli,
  type Json,
  type JsonInput,
  type ResultSpec,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { evalScanObject } from "./descriptors.ts";
import {
  amount,
  arr,
  bool,
  CURRENCY_UNIT,
  elision,
  hexStr,
  num,
  obj,
  objDyn,
  str,
} from "./docs.ts";
import { decodeTxParam, isWitnessArg } from "./encoding.ts";
import { analyzePsbt } from "./psbt_analyze.ts";
import { blankPsbt, decodePsbt, encodeRaw } from "./psbt_codec.ts";
import { psbtToJson } from "./psbt_json.ts";
import { combinePsbts, finalizePsbt, joinPsbts, signPsbt, updatePsbt } from "./psbt_update.ts";
import { constructTransaction, createTxArgs } from "./rawtransactions.ts";
import { parseSighash, PSBT_SIGNING_ARGS, SIGNED_PSBT_RESULT } from "./signing.ts";
import type { NodeServices } from "./services.ts";

/** `decodepsbt`'s documentation of a proprietary map. */
function proprietaryDoc(description: string, optional: boolean): ResultSpec {
  return arr("proprietary", description, [
    obj("", "", [
      hexStr("identifier", "The hex string for the proprietary identifier"),
      num("subtype", "The number for the subtype"),
      hexStr("key", "The hex for the key"),
      hexStr("value", "The hex for the value"),
    ]),
  ], optional);
}

/** `decodepsbt`'s documentation of a map's unknown fields. */
function unknownDoc(description: string, optional: boolean): ResultSpec {
  return {
    ...objDyn("unknown", description, [
      hexStr("key", "(key-value pair) An unknown key-value pair"),
    ]),
    ...(optional ? { optional } : {}),
  };
}

/** A redeem or witness script (`redeem_script`, `witness_script`). */
function scriptDoc(key: string, what: string): ResultSpec {
  return obj(key, "", [
    str("asm", `Disassembly of the ${what} script`),
    hexStr("hex", `The raw ${what} script bytes, hex-encoded`),
    str("type", "The type, eg 'pubkeyhash'"),
  ], true);
}

function bip32DerivsDoc(pubkeyDoc: string): ResultSpec {
  return arr("bip32_derivs", "", [
    obj("", "", [
      str("pubkey", pubkeyDoc),
      str("master_fingerprint", "The fingerprint of the master key"),
      str("path", "The path"),
    ]),
  ], true);
}

function tapBip32DerivsDoc(): ResultSpec {
  return arr("taproot_bip32_derivs", "", [
    obj("", "", [
      str("pubkey", "The x-only public key this path corresponds to"),
      str("master_fingerprint", "The fingerprint of the master key"),
      str("path", "The path"),
      arr("leaf_hashes", "The hashes of the leaves this pubkey appears in", [
        hexStr("hash", "The hash of a leaf this pubkey appears in"),
      ]),
    ]),
  ], true);
}

function musigParticipantsDoc(): ResultSpec {
  return arr("musig2_participant_pubkeys", "", [
    obj("", "", [
      hexStr(
        "aggregate_pubkey",
        "The compressed aggregate public key for which the participants create.",
      ),
      arr("participant_pubkeys", "", [
        hexStr("pubkey", "The compressed public keys that are aggregated for aggregate_pubkey."),
      ]),
    ]),
  ], true);
}

function musigValuesDoc(key: string, what: string, valueKey: string, valueDoc: string) {
  return arr(key, "", [
    obj("", "", [
      hexStr(
        "participant_pubkey",
        `The compressed public key of the participant that created this ${what}.`,
      ),
      hexStr(
        "aggregate_pubkey",
        `The compressed aggregate public key for which this ${what} is for.`,
      ),
      hexStr(
        "leaf_hash",
        "The hash of the leaf script that contains the aggregate pubkey being signed for. Omitted when signing for the internal key.",
        true,
      ),
      hexStr(valueKey, valueDoc),
    ]),
  ], true);
}

function preimagesDoc(key: string): ResultSpec {
  return {
    ...objDyn(key, "", [str("hash", "The hash and preimage that corresponds to it.")]),
    optional: true,
  };
}

/** A decoded transaction whose fields are those of `decoderawtransaction`. */
const TX_LAYOUT = elision("The layout is the same as the output of decoderawtransaction.");

/** `DecodePSBTInputs()`. */
function inputsDoc(): ResultSpec {
  return arr("inputs", "", [
    obj("", "", [
      obj(
        "non_witness_utxo",
        "Decoded network transaction for non-witness UTXOs",
        [TX_LAYOUT],
        true,
      ),
      obj("witness_utxo", "Transaction output for witness UTXOs", [
        num("amount", `The value in ${CURRENCY_UNIT}`),
        obj("scriptPubKey", "", [
          str("asm", "Disassembly of the output script"),
          str("desc", "Inferred descriptor for the output"),
          hexStr("hex", "The raw output script bytes, hex-encoded"),
          str("type", "The type, eg 'pubkeyhash'"),
          str("address", "The Bitcoin address (only if a well-defined address exists)", true),
        ]),
      ], true),
      {
        ...objDyn("partial_signatures", "", [
          str("pubkey", "The public key and signature that corresponds to it."),
        ]),
        optional: true,
      },
      str("sighash", "The sighash type to be used", true),
      scriptDoc("redeem_script", "redeem"),
      scriptDoc("witness_script", "witness"),
      bip32DerivsDoc("The public key with the derivation path as the value."),
      obj("final_scriptSig", "", [
        str("asm", "Disassembly of the final signature script"),
        hexStr("hex", "The raw final signature script bytes, hex-encoded"),
      ], true),
      arr("final_scriptwitness", "", [hexStr("", "hex-encoded witness data (if any)")], true),
      preimagesDoc("ripemd160_preimages"),
      preimagesDoc("sha256_preimages"),
      preimagesDoc("hash160_preimages"),
      preimagesDoc("hash256_preimages"),
      hexStr("taproot_key_path_sig", "hex-encoded signature for the Taproot key path spend", true),
      arr("taproot_script_path_sigs", "", [
        obj("signature", "The signature for the pubkey and leaf hash combination", [
          str("pubkey", "The x-only pubkey for this signature"),
          str("leaf_hash", "The leaf hash for this signature"),
          str("sig", "The signature itself"),
        ], true),
      ], true),
      arr("taproot_scripts", "", [
        obj("", "", [
          hexStr("script", "A leaf script"),
          num("leaf_ver", "The version number for the leaf script"),
          arr("control_blocks", "The control blocks for this script", [
            hexStr("control_block", "A hex-encoded control block for this script"),
          ]),
        ]),
      ], true),
      tapBip32DerivsDoc(),
      hexStr("taproot_internal_key", "The hex-encoded Taproot x-only internal key", true),
      hexStr("taproot_merkle_root", "The hex-encoded Taproot merkle root", true),
      musigParticipantsDoc(),
      musigValuesDoc("musig2_pubnonces", "pubnonce", "pubnonce", "The public nonce itself."),
      musigValuesDoc(
        "musig2_partial_sigs",
        "partial signature",
        "partial_sig",
        "The partial signature itself.",
      ),
      unknownDoc("The unknown input fields", true),
      proprietaryDoc("The input proprietary map", true),
    ]),
  ]);
}

/** `DecodePSBTOutputs()`. */
function outputsDoc(): ResultSpec {
  return arr("outputs", "", [
    obj("", "", [
      scriptDoc("redeem_script", "redeem"),
      scriptDoc("witness_script", "witness"),
      bip32DerivsDoc("The public key this path corresponds to"),
      hexStr("taproot_internal_key", "The hex-encoded Taproot x-only internal key", true),
      arr("taproot_tree", "The tuples that make up the Taproot tree, in depth first search order", [
        obj("tuple", "A single leaf script in the taproot tree", [
          num("depth", "The depth of this element in the tree"),
          num("leaf_ver", "The version of this leaf"),
          str("script", "The hex-encoded script itself"),
        ], true),
      ], true),
      tapBip32DerivsDoc(),
      musigParticipantsDoc(),
      unknownDoc("The unknown output fields", true),
      proprietaryDoc("The output proprietary map", true),
    ]),
  ]);
}

/** `analyzepsbt`'s lists of key ids: those of keys whose `what` is missing. */
function keyIdsDoc(key: string, what: string): ResultSpec {
  return arr(key, "", [
    hexStr(
      "keyid",
      `Public key ID, hash160 of the public key, of a public key whose ${what} is missing`,
    ),
  ], true);
}

const PSBT_ARG = { name: "psbt", type: "str", description: "A base64 string of a PSBT" } as const;

/** The output descriptors `utxoupdatepsbt` and `descriptorprocesspsbt` read, as Core's scan objects. */
const DESCRIPTORS_ARG: ArgSpec = {
  name: "descriptors",
  type: "arr",
  description: "An array of either strings or objects",
  inner: [
    { name: "", type: "str", optional: true, description: "An output descriptor" },
    {
      name: "",
      type: "obj",
      optional: true,
      description: "An object with an output descriptor and extra information",
      inner: [
        { name: "desc", type: "str", description: "An output descriptor" },
        {
          name: "range",
          type: "range",
          default: 1000,
          description: "Up to what index HD chains should be explored (either end or [begin,end])",
        },
      ],
    },
  ],
};

/** What the descriptors given tell: their scripts, keys, origins and private keys. */
async function descriptorsProvider(
  descriptors: readonly Json[],
  signal: AbortSignal,
): Promise<SigningProvider> {
  const provider = new SigningProvider();
  for (const descriptor of descriptors) await evalScanObject(descriptor, provider, signal);
  return provider;
}
const BASE64_RESULT = "The resulting raw transaction (base64-encoded string)";

/** The PSBT methods of the `rawtransactions` category. */
export function psbtMethods(node: NodeServices): RpcMethod[] {
  return [
    defineMethod({
      name: "decodepsbt",
      category: "rawtransactions",
      description:
        "Return a JSON object representing the serialized, base64-encoded partially signed Bitcoin transaction.",
      args: [{ name: "psbt", type: "str", description: "The PSBT base64 string" }],
      result: obj("", "", [
        obj("tx", "The decoded network-serialized unsigned transaction.", [TX_LAYOUT]),
        arr("global_xpubs", "", [
          obj("", "", [
            str("xpub", "The extended public key this path corresponds to"),
            hexStr("master_fingerprint", "The fingerprint of the master key"),
            str("path", "The path"),
          ]),
        ]),
        num(
          "psbt_version",
          "The PSBT version number. Not to be confused with the unsigned transaction version",
        ),
        proprietaryDoc("The global proprietary map", false),
        unknownDoc("The unknown global fields", false),
        inputsDoc(),
        outputsDoc(),
        amount(
          "fee",
          "The transaction fee paid if all UTXOs slots in the PSBT have been filled.",
          true,
        ),
      ]),
      examples: helpExampleCli("decodepsbt", '"psbt"'),
      handler(params) {
        return psbtToJson(decodePsbt(params.arg("psbt", asStr)).raw);
      },
    }),
    defineMethod({
      name: "combinepsbt",
      category: "rawtransactions",
      description:
        "Combine multiple partially signed Bitcoin transactions into one transaction.\n" +
        "Implements the Combiner role.\n",
      args: [{
        name: "txs",
        type: "arr",
        description: "The base64 strings of partially signed transactions",
        inner: [{ ...PSBT_ARG, optional: true }],
      }],
      result: str("", "The base64-encoded partially signed transaction"),
      examples: helpExampleCli("combinepsbt", `'["mybase64_1", "mybase64_2", "mybase64_3"]'`),
      handler(params) {
        const txs = asArr(params.raw("txs"));
        if (txs.length === 0) {
          throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "Parameter 'txs' cannot be empty");
        }
        return base64.encode(combinePsbts(txs.map((tx) => decodePsbt(asStr(tx)))).toPSBT(0));
      },
    }),
    defineMethod({
      name: "finalizepsbt",
      category: "rawtransactions",
      description:
        "Finalize the inputs of a PSBT. If the transaction is fully signed, it will produce a\n" +
        "network serialized transaction which can be broadcast with sendrawtransaction. Otherwise a PSBT will be\n" +
        "created which has the final_scriptSig and final_scriptwitness fields filled for inputs that are complete.\n" +
        "Implements the Finalizer and Extractor roles.\n",
      args: [
        PSBT_ARG,
        {
          name: "extract",
          type: "bool",
          default: true,
          description: "If true and the transaction is complete,\n" +
            "                             extract and return the complete transaction in normal network serialization instead of the PSBT.",
        },
      ],
      result: obj("", "", [
        str("psbt", "The base64-encoded partially signed transaction if not extracted", true),
        hexStr("hex", "The hex-encoded network transaction if extracted", true),
        bool("complete", "If the transaction has a complete set of signatures"),
      ]),
      examples: helpExampleCli("finalizepsbt", '"psbt"'),
      handler(params) {
        const { tx, complete } = finalizePsbt(decodePsbt(params.arg("psbt", asStr)));
        const out = new Map<string, JsonInput>();
        if (complete && params.arg("extract", asBool)) {
          out.set("hex", hex.encode(tx.toBytes(true, true)));
        } else {
          out.set("psbt", base64.encode(tx.toPSBT(0)));
        }
        out.set("complete", complete);
        return out;
      },
    }),
    defineMethod({
      name: "createpsbt",
      category: "rawtransactions",
      description: "Creates a transaction in the Partially Signed Transaction format.\n" +
        "Implements the Creator role.\n" +
        "Note that the transaction's inputs are not signed, and\n" +
        "it is not stored in the wallet or transmitted to the network.\n",
      args: createTxArgs(),
      result: str("", BASE64_RESULT),
      examples: helpExampleCli(
        "createpsbt",
        '"[{\\"txid\\":\\"myid\\",\\"vout\\":0}]" "[{\\"address\\":0.01}]"',
      ),
      handler(params) {
        const tx = constructTransaction(
          params.raw("inputs"),
          params.raw("outputs"),
          params.raw("locktime"),
          // Core tells an explicit `replaceable` from its default (sequence checks).
          params.has("replaceable") ? params.arg("replaceable", asBool) : undefined,
          params.arg("version", asUint32),
        );
        return blankPsbt(tx);
      },
    }),
    defineMethod({
      name: "converttopsbt",
      category: "rawtransactions",
      description:
        "Converts a network serialized transaction to a PSBT. This should be used only with createrawtransaction and fundrawtransaction\n" +
        "createpsbt and walletcreatefundedpsbt should be used for new applications.\n",
      args: [
        { name: "hexstring", type: "hex", description: "The hex string of a raw transaction" },
        {
          name: "permitsigdata",
          type: "bool",
          default: false,
          description: "If true, any signatures in the input will be discarded and conversion\n" +
            "                              will continue. If false, RPC will fail if any signatures are present.",
        },
        isWitnessArg(""),
      ],
      result: str("", BASE64_RESULT),
      examples: "\nCreate a transaction\n" +
        helpExampleCli(
          "createrawtransaction",
          '"[{\\"txid\\":\\"myid\\",\\"vout\\":0}]" "[{\\"data\\":\\"00010203\\"}]"',
        ) +
        "\nConvert the transaction to a PSBT\n" +
        helpExampleCli("converttopsbt", '"rawtransaction"'),
      handler(params) {
        const tx = decodeTxParam(params);
        const signed = tx.inputs.some((input, i) =>
          input.finalScriptSig.length > 0 || (tx.witnesses?.[i]?.length ?? 0) > 0
        );
        if (signed && !params.arg("permitsigdata", asBool)) {
          throw new RpcError(
            RpcErrorCode.DESERIALIZATION_ERROR,
            "Inputs must not have scriptSigs and scriptWitnesses",
          );
        }
        return blankPsbt({
          ...tx,
          inputs: tx.inputs.map((input) => ({ ...input, finalScriptSig: new Uint8Array() })),
          witnesses: undefined,
        });
      },
    }),
    defineMethod({
      name: "utxoupdatepsbt",
      category: "rawtransactions",
      description:
        "Updates all segwit inputs and outputs in a PSBT with data from output descriptors, the UTXO set, txindex, or the mempool.\n",
      args: [
        PSBT_ARG,
        { ...DESCRIPTORS_ARG, optional: true },
      ],
      result: str("", "The base64-encoded partially signed transaction with inputs updated"),
      examples: helpExampleCli("utxoupdatepsbt", '"psbt"'),
      async handler(params, ctx) {
        const provider = await descriptorsProvider(
          params.maybe("descriptors", asArr) ?? [],
          ctx.signal,
        );
        const { raw } = decodePsbt(params.arg("psbt", asStr));
        updatePsbt(node, raw, provider);
        return encodeRaw(raw);
      },
    }),
    defineMethod({
      name: "descriptorprocesspsbt",
      category: "rawtransactions",
      description:
        "Update all segwit inputs in a PSBT with information from output descriptors, the UTXO set or the mempool. \n" +
        "Then, sign the inputs we are able to with information from the output descriptors. ",
      args: [
        { name: "psbt", type: "str", description: "The transaction base64 string" },
        DESCRIPTORS_ARG,
        ...PSBT_SIGNING_ARGS,
      ],
      result: SIGNED_PSBT_RESULT,
      examples: helpExampleCli(
        "descriptorprocesspsbt",
        '"psbt" "[\\"descriptor1\\", \\"descriptor2\\"]"',
      ) +
        helpExampleCli(
          "descriptorprocesspsbt",
          '"psbt" "[{\\"desc\\":\\"mydescriptor\\", \\"range\\":21}]"',
        ),
      async handler(params, ctx) {
        // Read in Core's order: the descriptors, the sighash name, then the PSBT.
        const provider = await descriptorsProvider(params.arg("descriptors", asArr), ctx.signal);
        const sighashName = params.raw("sighashtype");
        const sighash = sighashName === null ? null : parseSighash(sighashName);
        const { raw } = decodePsbt(params.arg("psbt", asStr));
        const flag = (name: string) => params.has(name) ? params.arg(name, asBool) : true;
        const { tx, complete } = signPsbt(node, raw, provider, {
          sighash,
          bip32derivs: flag("bip32derivs"),
          finalize: flag("finalize"),
        });
        const out = new Map<string, JsonInput>([
          ["psbt", base64.encode(tx.toPSBT(0))],
          ["complete", complete],
        ]);
        if (complete) out.set("hex", hex.encode(tx.toBytes(true, true)));
        return out;
      },
    }),
    defineMethod({
      name: "joinpsbts",
      category: "rawtransactions",
      description:
        "Joins multiple distinct PSBTs with different inputs and outputs into one PSBT with inputs and outputs from all of the PSBTs\n" +
        "No input in any of the PSBTs can be in more than one of the PSBTs.\n",
      args: [{
        name: "txs",
        type: "arr",
        description: "The base64 strings of partially signed transactions",
        inner: [PSBT_ARG],
      }],
      result: str("", "The base64-encoded partially signed transaction"),
      examples: helpExampleCli("joinpsbts", '"psbt"'),
      handler(params) {
        const txs = asArr(params.raw("txs"));
        if (txs.length <= 1) {
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "At least two PSBTs are required to join PSBTs.",
          );
        }
        return joinPsbts(txs.map((tx) => decodePsbt(asStr(tx))));
      },
    }),
    defineMethod({
      name: "analyzepsbt",
      category: "rawtransactions",
      description:
        "Analyzes and provides information about the current status of a PSBT and its inputs\n",
      args: [PSBT_ARG],
      result: obj("", "", [
        arr("inputs", "", [
          obj("", "", [
            bool("has_utxo", "Whether a UTXO is provided"),
            bool("is_final", "Whether the input is finalized"),
            obj("missing", "Things that are missing that are required to complete this input", [
              keyIdsDoc("pubkeys", "BIP 32 derivation path"),
              keyIdsDoc("signatures", "signature"),
              hexStr("redeemscript", "Hash160 of the redeem script that is missing", true),
              hexStr("witnessscript", "SHA256 of the witness script that is missing", true),
            ], true),
            str("next", "Role of the next person that this input needs to go to", true),
          ]),
        ], true),
        num("estimated_vsize", "Estimated vsize of the final signed transaction", true),
        amount(
          "estimated_feerate",
          `Estimated feerate of the final signed transaction in ${CURRENCY_UNIT}/kvB. ` +
            "Shown only if all UTXO slots in the PSBT have been filled",
          true,
        ),
        amount(
          "fee",
          "The transaction fee paid. Shown only if all UTXO slots in the PSBT have been filled",
          true,
        ),
        str("next", "Role of the next person that this psbt needs to go to"),
        str("error", "Error message (if there is one)", true),
      ]),
      examples: helpExampleCli("analyzepsbt", '"psbt"'),
      handler(params) {
        const { raw } = decodePsbt(params.arg("psbt", asStr));
        return analyzePsbt(raw, node.mempool.policy.bytesPerSigop);
      },
    }),
  ];
}
