/**
 * The wallet's PSBT methods, as Bitcoin Core's (`wallet/rpc/spend.cpp`):
 * - `walletcreatefundedpsbt`: the node builds the transaction from the
 *   inputs and outputs as createpsbt does, reads the options as
 *   fundrawtransaction's (`fundRequest`), and the wallet funds it and
 *   describes its inputs and change in a PSBT (Core's `FillPSBT` without
 *   signing);
 * - `walletprocesspsbt`: the node reads the PSBT (`decodePsbt`) and the
 *   sighash with Core's errors, and the wallet fills, signs and finalizes
 *   what is its own.
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { NodeServices } from "./services.ts";
 * import { walletPsbtMethods } from "./walletpsbt.ts";
 * const chain = await ChainState.open(await Deno.makeTempDir());
 * const node = new NodeServices({ chain, mempool: new Mempool(chain) });
 * const names = walletPsbtMethods(node).map((m) => m.name);
 * if (names.join() !== "walletcreatefundedpsbt,walletprocesspsbt") throw new Error(names.join());
 * ```
 * @module
 */
import {
  type ArgSpec,
  asBool,
  asObj,
  asStr,
  asUint32,
  defineMethod,
  EXAMPLE_ADDRESS,
  helpExampleCli,
  JsonNumber,
  JsonObject,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { amount, num, obj, str } from "./docs.ts";
import {
  ADD_INPUTS_ARG,
  checkedOptions,
  fundRequest,
  NOT_SUPPORTED,
  OPTION_ARGS,
  OPTION_TYPES,
  outputNames,
  routed,
} from "./funding.ts";
import { decodePsbt } from "./psbt_codec.ts";
import { constructTransaction, inputDoc, outputsArg } from "./rawtransactions.ts";
import type { NodeServices } from "./services.ts";
import {
  BIP32_DERIVS_ARG,
  parseSighash,
  PSBT_SIGNING_ARGS,
  SIGNED_PSBT_RESULT,
} from "./signing.ts";

/** walletcreatefundedpsbt's options: fundrawtransaction's, two of them worded for inputs given apart. */
const PSBT_OPTION_ARGS: readonly ArgSpec[] = OPTION_ARGS.map((arg) =>
  arg.name === "add_inputs" ? ADD_INPUTS_ARG : arg.name === "subtractFeeFromOutputs"
    ? {
      ...arg,
      description: "The outputs to subtract the fee from.\n" +
        "The fee will be equally deducted from the amount of each specified output.\n" +
        "Those recipients will receive less bitcoins than you enter in their corresponding amount field.\n" +
        "If no outputs are specified here, the sender pays the fee.",
    }
    : arg
);

/** `walletcreatefundedpsbt` and `walletprocesspsbt`, routed to the wallet the request means. */
export function walletPsbtMethods(node: NodeServices): RpcMethod[] {
  return [
    defineMethod({
      name: "walletcreatefundedpsbt",
      category: "wallet",
      description: "Creates and funds a transaction in the Partially Signed Transaction format.\n" +
        "Implements the Creator and Updater roles.\n" +
        "All existing inputs must either have their previous output transaction be in the wallet\n" +
        "or be in the UTXO set. Solving data must be provided for non-wallet inputs.\n",
      args: [
        {
          name: "inputs",
          type: "arr",
          optional: true,
          description: "Leave empty to add inputs automatically. See add_inputs option.",
          inner: [inputDoc()],
        },
        outputsArg(
          "For compatibility reasons, a dictionary, which holds the key-value pairs directly, is also\n" +
            "accepted as second parameter.",
        ),
        {
          name: "locktime",
          type: "num",
          default: 0,
          description: "Raw locktime. Non-0 value also locktime-activates inputs",
        },
        {
          name: "options",
          type: "obj_named_params",
          optional: true,
          description: "",
          inner: PSBT_OPTION_ARGS,
          onelineDescription: "options",
        },
        BIP32_DERIVS_ARG,
        { name: "version", type: "num", default: 2, description: "Transaction version" },
      ],
      result: obj("", "", [
        str("psbt", "The resulting raw transaction (base64-encoded string)"),
        amount("fee", "Fee in BTC the resulting transaction pays"),
        num("changepos", "The position of the added change output, or -1"),
      ]),
      examples:
        "\nCreate a PSBT with automatically picked inputs that sends 0.5 BTC to an address and has a fee rate of 2 sat/vB:\n" +
        helpExampleCli(
          "walletcreatefundedpsbt",
          `"[]" "[{\\"${EXAMPLE_ADDRESS}\\":0.5}]" 0 "{\\"add_inputs\\":true,\\"fee_rate\\":2}"`,
        ) +
        "\nCreate the same PSBT as the above one instead using named arguments:\n" +
        helpExampleCli(
          "-named walletcreatefundedpsbt",
          `outputs="[{\\"${EXAMPLE_ADDRESS}\\":0.5}]" add_inputs=true fee_rate=2`,
        ),
      handler: routed(node, "walletcreatefundedpsbt", (params) => {
        const given = params.raw("options");
        const replaceable = given === null ? null : asObj(given).get("replaceable") ?? null;
        const tx = constructTransaction(
          params.raw("inputs"),
          params.raw("outputs"),
          params.raw("locktime"),
          // Core's: the given inputs signal as the call says, else as -walletrbf.
          replaceable === null ? node.walletRbf : asBool(replaceable),
          params.arg("version", asUint32),
        );
        const options = checkedOptions(given, OPTION_TYPES, NOT_SUPPORTED);
        const request = fundRequest(node, tx, options, {
          subtractKey: "subtractFeeFromOutputs",
          destinations: outputNames(params.raw("outputs")),
          // Coins are added unless some are given, or add_inputs says otherwise.
          addInputs: tx.inputs.length === 0,
        });
        const bip32derivs = params.has("bip32derivs") ? params.arg("bip32derivs", asBool) : true;
        return [request, bip32derivs];
      }),
    }),
    defineMethod({
      name: "walletprocesspsbt",
      category: "wallet",
      description: "Update a PSBT with input information from our wallet and then sign inputs\n" +
        "that we can sign for.\n" +
        "Requires wallet passphrase to be set with walletpassphrase call if wallet is encrypted.",
      args: [
        { name: "psbt", type: "str", description: "The transaction base64 string" },
        {
          name: "sign",
          type: "bool",
          default: true,
          description: "Also sign the transaction when updating (requires wallet to be unlocked)",
        },
        ...PSBT_SIGNING_ARGS,
      ],
      result: SIGNED_PSBT_RESULT,
      examples: helpExampleCli("walletprocesspsbt", '"psbt"'),
      handler: routed(node, "walletprocesspsbt", (params) => {
        const psbt = params.arg("psbt", asStr);
        decodePsbt(psbt);
        const sighash = params.raw("sighashtype");
        const flag = (name: string) => params.has(name) ? params.arg(name, asBool) : true;
        const request = new JsonObject([
          ["psbt", psbt],
          ["sign", flag("sign")],
          ["sighash", sighash === null ? null : new JsonNumber(String(parseSighash(sighash)))],
          ["bip32derivs", flag("bip32derivs")],
          ["finalize", flag("finalize")],
        ]);
        return [request];
      }),
    }),
  ];
}
