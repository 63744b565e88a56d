/**
 * The `util` methods of Bitcoin Core v30 this node serves: validateaddress,
 * createmultisig, getdescriptorinfo and deriveaddresses (`rpc/output_script.cpp`, with
 * Core's error texts and bech32 `error_locations`), signmessagewithprivkey
 * and verifymessage (`rpc/signmessage.cpp`), getindexinfo (`rpc/node.cpp`;
 * this node runs no index, so `{}`), and estimatesmartfee
 * (`rpc/fees.cpp`), which answers as Core does without fee history: no
 * estimate, `Insufficient data or no feerate found` (this node keeps no
 * fee estimator).
 *
 * @example
 * ```ts
 * import { utilMethods } from "./util.ts";
 * if (!utilMethods().some((m) => m.name === "deriveaddresses")) throw new Error("methods");
 * ```
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { signMessage } from "../../bitcoin/message.ts";
import { hex } from "@scure/base";
import {
  type BlockFilterIndex,
  decodeDestination,
  decodeSecret,
  descriptorChecksum,
  hash160,
  isFullyValidPubKey,
  MAX_PUBKEYS_PER_MULTISIG,
  MAX_SCRIPT_ELEMENT_SIZE,
  multisigScript,
  scriptToAddress,
  solver,
  type TxIndex,
  verifyMessage,
} from "../chain/mod.ts";
import {
  asArr,
  asInt,
  asStr,
  defineMethod,
  EXAMPLE_ADDRESS,
  helpExampleCli,
  helpExampleRpc,
  isHex,
  type Json,
  type JsonInput,
  MESSAGE_EXAMPLE_ADDRESS,
  messageExamples,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { arr, bool, CURRENCY_UNIT, hexStr, num, obj, objDyn, str, when } from "./docs.ts";
import {
  checkRangeKeys,
  expandDescriptor,
  parseDescriptorRange,
  parseDescriptorsArg,
} from "./descriptors.ts";

/** `HighestTargetTracked(FeeEstimateHorizon::LONG_HALFLIFE)`. */
const MAX_CONF_TARGET = 1008;
const FEE_MODES = ["unset", "economical", "conservative"];

/** Core's `ParseConfirmTarget`: a target of 1 to 1008 blocks, else -8. */
export function confirmTarget(value: Json): number {
  const target = asInt(value);
  if (target < 1 || target > MAX_CONF_TARGET) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      `Invalid conf_target, must be between 1 and ${MAX_CONF_TARGET}`,
    );
  }
  return target;
}

/** Core's `FeeModeFromString` (case insensitive), lower-cased; -8 for another mode. */
export function estimateMode(value: Json): string {
  const mode = asStr(value).toLowerCase();
  if (!FEE_MODES.includes(mode)) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      `Invalid estimate_mode parameter, must be one of: ${
        FEE_MODES.map((m) => `"${m}"`).join(", ")
      }`,
    );
  }
  return mode;
}

/** Core's `FeeModesDetail`. */
function feeModesDetail(defaultInfo: string): string {
  return `${FEE_MODES.join(", ")} \n` +
    `unset means no mode set (${defaultInfo}). \n` +
    "economical estimates use a shorter time horizon, making them more\n" +
    "responsive to short-term drops in the prevailing fee market. This mode\n" +
    "potentially returns a lower fee rate estimate.\n" +
    "conservative estimates use a longer time horizon, making them\n" +
    "less responsive to short-term drops in the prevailing fee market. This mode\n" +
    "potentially returns a higher fee rate estimate.\n";
}

const DESCRIPTOR_KEYS_NOTE =
  "\nIn the above, <pubkey> either refers to a fixed public key in hexadecimal notation, or to an xpub/xprv optionally followed by one\n" +
  'or more path elements separated by "/", where "h" represents a hardened child key.\n' +
  "For more information on output descriptors, see the documentation in the doc/descriptors.md file.\n";

/** The keys of Core's createmultisig example. */
const MULTISIG_KEYS = [
  "03789ed0bb717d88f7d321a368d905e7430207ebbd82bd342cf11ae157a7ace5fd",
  "03dbc6764b8884a92e871274b87583e6d5c2a58819473e17e107ef3f6aa5a61626",
];
/** The address types createmultisig makes (Core's `ParseOutputType` but bech32m). */
const MULTISIG_TYPES = ["legacy", "p2sh-segwit", "bech32"];

/** Core's `HexToPubKey`: a valid public key in hex, else -5 saying what is wrong with it. */
function hexToPubKey(text: string): Uint8Array {
  const fail = (why: string): never => {
    throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, `Pubkey "${text}" ${why}`);
  };
  if (!isHex(text)) fail("must be a hex string");
  if (text.length !== 66 && text.length !== 130) {
    fail("must have a length of either 33 or 65 bytes");
  }
  const key = hex.decode(text.toLowerCase());
  if (!isFullyValidPubKey(key)) fail("must be cryptographically valid.");
  return key;
}

/**
 * Core's createmultisig after its arguments (`AddAndGetMultisigDestination`,
 * then `InferDescriptor`): `k <keys> n OP_CHECKMULTISIG` behind P2SH, P2SH of
 * P2WSH or P2WSH as `type` asks, legacy when a key is uncompressed (with a
 * warning when another type was asked).
 */
function multisig(required: number, keys: Uint8Array[], type: string): Map<string, JsonInput> {
  const invalid = (message: string): never => {
    throw new RpcError(RpcErrorCode.INVALID_PARAMETER, message);
  };
  if (required < 1) invalid("a multisignature address must require at least one key to redeem");
  if (keys.length < required) {
    invalid(
      `not enough keys supplied (got ${keys.length} keys, but need at least ${required} to redeem)`,
    );
  }
  if (keys.length > MAX_PUBKEYS_PER_MULTISIG) {
    invalid(
      `Number of keys involved in the multisignature address creation > ${MAX_PUBKEYS_PER_MULTISIG}\nReduce the number`,
    );
  }
  const script = multisigScript(required, keys);
  const made = keys.some((key) => key.length === 65) ? "legacy" : type;
  if (made === "legacy" && script.length > MAX_SCRIPT_ELEMENT_SIZE) {
    invalid(`redeemScript exceeds size limit: ${script.length} > ${MAX_SCRIPT_ELEMENT_SIZE}`);
  }
  const p2sh = (inner: Uint8Array) => Uint8Array.of(0xa9, 0x14, ...hash160(inner), 0x87);
  const p2wsh = Uint8Array.of(0x00, 0x20, ...sha256(script));
  const multi = `multi(${required},${keys.map((key) => hex.encode(key)).join(",")})`;
  const [output, descriptor] = made === "legacy"
    ? [p2sh(script), `sh(${multi})`]
    : made === "p2sh-segwit"
    ? [p2sh(p2wsh), `sh(wsh(${multi}))`]
    : [p2wsh, `wsh(${multi})`];
  return new Map<string, JsonInput>([
    ["address", scriptToAddress(output)!],
    ["redeemScript", hex.encode(script)],
    ["descriptor", `${descriptor}#${descriptorChecksum(descriptor)}`],
    ...(made === type ? [] : [[
      "warnings",
      [
        "Unable to make chosen address type, please ensure no uncompressed public keys are present.",
      ],
    ] as [string, JsonInput]]),
  ]);
}

/** The util methods; `getindexinfo` reports the indexes in `indexes` (none by default). */
export function utilMethods(
  indexes: { readonly txindex?: TxIndex; readonly blockFilterIndex?: BlockFilterIndex } = {},
): RpcMethod[] {
  return [
    defineMethod({
      name: "getdescriptorinfo",
      category: "util",
      description: "Analyses a descriptor.\n",
      args: [{ name: "descriptor", type: "str", description: "The descriptor." }],
      result: obj("", "", [
        str(
          "descriptor",
          "The descriptor, without private keys. For a multipath descriptor, only the first will be returned.",
        ),
        arr(
          "multipath_expansion",
          "All descriptors produced by expanding multipath derivation elements. Only if the provided descriptor specifies multipath derivation elements.",
          [str("", "")],
          true,
        ),
        str("checksum", "The checksum for the input descriptor"),
        bool("isrange", "Whether the descriptor is ranged"),
        bool("issolvable", "Whether the descriptor is solvable"),
        bool("hasprivatekeys", "Whether the input descriptor contained at least one private key"),
      ]),
      examples: "Analyse a descriptor\n" +
        helpExampleCli(
          "getdescriptorinfo",
          '"wpkh([d34db33f/84h/0h/0h]0279be667ef9dcbbac55a06295Ce870b07029Bfcdb2dce28d959f2815b16f81798)"',
        ) +
        helpExampleRpc(
          "getdescriptorinfo",
          '"wpkh([d34db33f/84h/0h/0h]0279be667ef9dcbbac55a06295Ce870b07029Bfcdb2dce28d959f2815b16f81798)"',
        ),
      handler(params) {
        const [descriptor, ...more] = parseDescriptorsArg(params.arg("descriptor", asStr));
        return new Map<string, JsonInput>([
          ["descriptor", descriptor.toString()],
          ...(more.length === 0 ? [] : [
            ["multipath_expansion", [descriptor, ...more].map(String)] as [string, JsonInput],
          ]),
          ["checksum", descriptorChecksum(descriptor.descriptor)],
          ["isrange", descriptor.isRange],
          ["issolvable", descriptor.isSolvable],
          ["hasprivatekeys", descriptor.hasPrivateKeys],
        ]);
      },
    }),
    defineMethod({
      name: "deriveaddresses",
      category: "util",
      description: "Derives one or more addresses corresponding to an output descriptor.\n" +
        "Examples of output descriptors are:\n" +
        "    pkh(<pubkey>)                                     P2PKH outputs for the given pubkey\n" +
        "    wpkh(<pubkey>)                                    Native segwit P2PKH outputs for the given pubkey\n" +
        "    sh(multi(<n>,<pubkey>,<pubkey>,...))              P2SH-multisig outputs for the given threshold and pubkeys\n" +
        "    raw(<hex script>)                                 Outputs whose output script equals the specified hex-encoded bytes\n" +
        "    tr(<pubkey>,multi_a(<n>,<pubkey>,<pubkey>,...))   P2TR-multisig outputs for the given threshold and pubkeys\n" +
        DESCRIPTOR_KEYS_NOTE,
      args: [
        { name: "descriptor", type: "str", description: "The descriptor." },
        {
          name: "range",
          type: "range",
          optional: true,
          description:
            "If a ranged descriptor is used, this specifies the end or the range (in [begin,end] notation) to derive.",
        },
      ],
      result: [
        when(
          "for single derivation descriptors",
          arr("", "", [str("address", "the derived addresses")]),
        ),
        when(
          "for multipath descriptors",
          arr(
            "",
            "The derived addresses for each of the multipath expansions of the descriptor, in multipath specifier order",
            [
              arr("", "The derived addresses for a multipath descriptor expansion", [
                str("address", "the derived address"),
              ]),
            ],
          ),
        ),
      ],
      examples: "First three native segwit receive addresses\n" +
        helpExampleCli(
          "deriveaddresses",
          '"wpkh([d34db33f/84h/0h/0h]xpub6DJ2dNUysrn5Vt36jH2KLBT2i1auw1tTSSomg8PhqNiUtx8QX2SvC9nrHu81fT41fvDUnhMjEzQgXnQjKEu3oaqMSzhSrHMxyyoEAmUHQbY/0/*)#cjjspncu" "[0,2]"',
        ) +
        helpExampleRpc(
          "deriveaddresses",
          '"wpkh([d34db33f/84h/0h/0h]xpub6DJ2dNUysrn5Vt36jH2KLBT2i1auw1tTSSomg8PhqNiUtx8QX2SvC9nrHu81fT41fvDUnhMjEzQgXnQjKEu3oaqMSzhSrHMxyyoEAmUHQbY/0/*)#cjjspncu", "[0,2]"',
        ),
      handler(params) {
        const text = params.arg("descriptor", asStr);
        const [begin, end] = params.has("range")
          ? parseDescriptorRange(params.raw("range"))
          : [0, 0];
        const descriptors = parseDescriptorsArg(text, true);
        const [descriptor] = descriptors;
        if (!descriptor.isRange && params.positional.length > 1) {
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "Range should not be specified for an un-ranged descriptor",
          );
        }
        if (descriptor.isRange && params.positional.length === 1) {
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "Range must be specified for a ranged descriptor",
          );
        }
        checkRangeKeys(descriptor, [begin, end]);
        // A multipath descriptor's addresses come one list per path, in its order.
        const addresses = descriptors.map((descriptor) => {
          const derived: string[] = [];
          for (let i = begin; i <= end; i++) {
            const { scripts } = expandDescriptor(descriptor, i);
            for (const script of scripts) {
              const address = scriptToAddress(script);
              if (address !== undefined) {
                derived.push(address);
                continue;
              }
              // combo() stands for a P2PK script too, which has no address: skipped.
              if (scripts.length > 1 && solver(script).type === "pubkey") continue;
              throw new RpcError(
                RpcErrorCode.INVALID_ADDRESS_OR_KEY,
                "Descriptor does not have a corresponding address",
              );
            }
          }
          return derived;
        });
        return addresses.length === 1 ? addresses[0] : addresses;
      },
    }),
    defineMethod({
      name: "createmultisig",
      category: "util",
      description: "Creates a multi-signature address with n signatures of m keys required.\n" +
        "It returns a json object with the address and redeemScript.\n",
      args: [
        {
          name: "nrequired",
          type: "num",
          description: "The number of required signatures out of the m keys.",
        },
        {
          name: "keys",
          type: "arr",
          description: "The hex-encoded public keys.",
          inner: [{
            name: "key",
            type: "hex",
            optional: true,
            description: "The hex-encoded public key",
          }],
        },
        {
          name: "address_type",
          type: "str",
          default: "legacy",
          description:
            'The address type to use. Options are "legacy", "p2sh-segwit", and "bech32".',
        },
      ],
      result: obj("", "", [
        str("address", "The value of the new multisig address."),
        hexStr("redeemScript", "The string value of the hex-encoded redemption script."),
        str("descriptor", "The descriptor for this multisig"),
        arr(
          "warnings",
          "Any warnings resulting from the creation of this multisig",
          [str("", "")],
          true,
        ),
      ]),
      examples: "\nCreate a multisig address from 2 public keys\n" +
        helpExampleCli(
          "createmultisig",
          `2 "[\\"${MULTISIG_KEYS[0]}\\",\\"${MULTISIG_KEYS[1]}\\"]"`,
        ) +
        "\nAs a JSON-RPC call\n" +
        helpExampleRpc("createmultisig", `2, ["${MULTISIG_KEYS[0]}","${MULTISIG_KEYS[1]}"]`),
      handler(params) {
        const required = params.arg("nrequired", asInt);
        const keys = asArr(params.raw("keys")).map((key) => hexToPubKey(asStr(key)));
        const asked = params.arg("address_type", asStr);
        if (!MULTISIG_TYPES.includes(asked)) {
          if (asked === "bech32m") {
            throw new RpcError(
              RpcErrorCode.INVALID_ADDRESS_OR_KEY,
              "createmultisig cannot create bech32m multisig addresses",
            );
          }
          throw new RpcError(
            RpcErrorCode.INVALID_ADDRESS_OR_KEY,
            `Unknown address type '${asked}'`,
          );
        }
        return multisig(required, keys, asked);
      },
    }),
    defineMethod({
      name: "signmessagewithprivkey",
      category: "util",
      description: "Sign a message with the private key of an address\n",
      args: [
        {
          name: "privkey",
          type: "str",
          description: "The private key to sign the message with.",
        },
        { name: "message", type: "str", description: "The message to create a signature of." },
      ],
      result: str("signature", "The signature of the message encoded in base 64"),
      examples: "\nCreate the signature\n" +
        helpExampleCli("signmessagewithprivkey", '"privkey" "my message"') +
        "\nVerify the signature\n" +
        helpExampleCli("verifymessage", `"${MESSAGE_EXAMPLE_ADDRESS}" "signature" "my message"`) +
        "\nAs a JSON-RPC call\n" +
        helpExampleRpc("signmessagewithprivkey", '"privkey", "my message"'),
      handler(params) {
        const secret = decodeSecret(params.arg("privkey", asStr));
        const message = params.arg("message", asStr);
        if (!secret) throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Invalid private key");
        return signMessage(secret, message);
      },
    }),
    defineMethod({
      name: "verifymessage",
      category: "util",
      description: "Verify a signed message.\n",
      args: [
        {
          name: "address",
          type: "str",
          description: "The bitcoin address to use for the signature.",
        },
        {
          name: "signature",
          type: "str",
          description:
            "The signature provided by the signer in base 64 encoding (see signmessage).",
        },
        { name: "message", type: "str", description: "The message that was signed." },
      ],
      result: { type: "bool", description: "If the signature is verified or not." },
      examples: messageExamples("verifymessage"),
      handler(params) {
        const result = verifyMessage(
          params.arg("address", asStr),
          params.arg("signature", asStr),
          params.arg("message", asStr),
        );
        switch (result) {
          case "invalid-address":
            throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Invalid address");
          case "address-no-key":
            throw new RpcError(RpcErrorCode.TYPE_ERROR, "Address does not refer to key");
          case "malformed-signature":
            throw new RpcError(RpcErrorCode.TYPE_ERROR, "Malformed base64 encoding");
          default:
            return result === "ok";
        }
      },
    }),
    defineMethod({
      name: "getindexinfo",
      category: "util",
      description:
        "Returns the status of one or all available indices currently running in the node.\n",
      args: [{
        name: "index_name",
        type: "str",
        optional: true,
        description: "Filter results for an index with a specific name.",
      }],
      result: objDyn("", "", [
        obj("name", "The name of the index", [
          bool("synced", "Whether the index is synced or not"),
          num("best_block_height", "The block height to which the index is synced"),
        ]),
      ]),
      examples: helpExampleCli("getindexinfo", "") + helpExampleRpc("getindexinfo", "") +
        helpExampleCli("getindexinfo", "txindex") + helpExampleRpc("getindexinfo", "txindex"),
      handler(params) {
        const name = params.has("index_name") ? params.arg("index_name", asStr) : undefined;
        const result = new Map<string, JsonInput>();
        // Core's order: the transaction index, then the block filter indexes.
        for (const index of [indexes.txindex, indexes.blockFilterIndex]) {
          if (!index || (name !== undefined && name !== "" && name !== index.name)) continue;
          result.set(
            index.name,
            new Map<string, JsonInput>([
              ["synced", index.synced],
              ["best_block_height", index.bestHeight],
            ]),
          );
        }
        return result;
      },
    }),
    defineMethod({
      name: "validateaddress",
      category: "util",
      description: "Return information about the given bitcoin address.\n",
      args: [{ name: "address", type: "str", description: "The bitcoin address to validate" }],
      result: obj("", "", [
        bool("isvalid", "If the address is valid or not"),
        str("address", "The bitcoin address validated", true),
        hexStr("scriptPubKey", "The hex-encoded output script generated by the address", true),
        bool("isscript", "If the key is a script", true),
        bool("iswitness", "If the address is a witness address", true),
        num("witness_version", "The version number of the witness program", true),
        hexStr("witness_program", "The hex value of the witness program", true),
        str("error", "Error message, if any", true),
        arr(
          "error_locations",
          "Indices of likely error locations in address, if known (e.g. Bech32 errors)",
          [num("index", "index of a potential error")],
          true,
        ),
      ]),
      examples: helpExampleCli("validateaddress", `"${EXAMPLE_ADDRESS}"`) +
        helpExampleRpc("validateaddress", `"${EXAMPLE_ADDRESS}"`),
      handler(params) {
        const dest = decodeDestination(params.arg("address", asStr));
        const out = new Map<string, JsonInput>([["isvalid", dest.ok]]);
        if (!dest.ok) {
          out.set("error_locations", dest.errorLocations);
          out.set("error", dest.error);
          return out;
        }
        out.set("address", scriptToAddress(dest.script)!);
        out.set("scriptPubKey", hex.encode(dest.script));
        switch (dest.kind) {
          case "pubkeyhash":
          case "scripthash":
            out.set("isscript", dest.kind === "scripthash");
            out.set("iswitness", false);
            break;
          case "anchor":
            out.set("isscript", true);
            out.set("iswitness", true);
            break;
          case "witness_unknown":
            out.set("iswitness", true);
            out.set("witness_version", dest.witnessVersion!);
            out.set("witness_program", hex.encode(dest.witnessProgram!));
            break;
          default:
            out.set("isscript", dest.kind !== "witness_v0_keyhash");
            out.set("iswitness", true);
            out.set("witness_version", dest.witnessVersion!);
            out.set("witness_program", hex.encode(dest.witnessProgram!));
        }
        return out;
      },
    }),
    defineMethod({
      name: "estimatesmartfee",
      category: "util",
      description:
        "Estimates the approximate fee per kilobyte needed for a transaction to begin\n" +
        "confirmation within conf_target blocks if possible and return the number of blocks\n" +
        "for which the estimate is valid. Uses virtual transaction size as defined\n" +
        "in BIP 141 (witness data is discounted).\n",
      args: [
        {
          name: "conf_target",
          type: "num",
          description: "Confirmation target in blocks (1 - 1008)",
        },
        {
          name: "estimate_mode",
          type: "str",
          default: "economical",
          description: "The fee estimate mode.\n" + feeModesDetail("default mode will be used"),
        },
      ],
      result: obj("", "", [
        num(
          "feerate",
          `estimate fee rate in ${CURRENCY_UNIT}/kvB (only present if no errors were encountered)`,
          true,
        ),
        arr("errors", "Errors encountered during processing (if there are any)", [
          str("", "error"),
        ], true),
        num(
          "blocks",
          "block number where estimate was found\n" +
            "The request target will be clamped between 2 and the highest target\n" +
            "fee estimation is able to return based on how long it has been running.\n" +
            "An error is returned if not enough transactions and blocks\n" +
            "have been observed to make an estimate for any number of blocks.",
        ),
      ]),
      examples: helpExampleCli("estimatesmartfee", "6") + helpExampleRpc("estimatesmartfee", "6"),
      handler(params) {
        params.arg("conf_target", confirmTarget);
        if (params.has("estimate_mode")) params.arg("estimate_mode", estimateMode);
        // No fee history is kept: Core answers the same until it has observed enough blocks.
        return new Map<string, JsonInput>([
          ["errors", ["Insufficient data or no feerate found"]],
          ["blocks", 0],
        ]);
      },
    }),
  ];
}
