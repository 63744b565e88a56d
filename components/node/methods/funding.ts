/**
 * `fundrawtransaction`, `bumpfee` and `sendall`, as Bitcoin Core's
 * (`wallet/rpc/spend.cpp`): the node reads what needs the node's own
 * parsers, and hands the wallet process the request means a plain
 * description of it.
 *
 * - `fundrawtransaction`: the node reads the transaction (Core's
 *   `DecodeHexTx` heuristics, which a transaction without inputs needs),
 *   checks the options with Core's codes and texts and finds which inputs
 *   spend coins of the UTXO set or the mempool; the wallet selects the
 *   coins and the change (`fundTransaction`, `components/wallet/spend.ts`)
 *   and signs nothing.
 * - `bumpfee`: the node reads the txid and the options (the fee rate, the
 *   outputs as `createrawtransaction` reads them); the wallet checks and
 *   replaces the transaction (`bumpFee`, `components/wallet/spend.ts`).
 * - `sendall`: the node reads the recipients, the fee arguments and the
 *   options (inputs and outputs as `createrawtransaction` reads them); the
 *   wallet sweeps its coins to them (`sendAll`, `components/wallet/spend.ts`).
 *
 * Not taken here: `solving_data` and `input_weights` (this wallet funds
 * with its own coins only, whose sizes it knows), each refused with a line
 * saying so.
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { fundingMethods } from "./funding.ts";
 * import { NodeServices } from "./services.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   const [fund] = fundingMethods(new NodeServices({ chain, mempool }));
 *   if (fund.name !== "fundrawtransaction" || !fund.help.includes("changePosition")) {
 *     throw new Error(fund.help);
 *   }
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { hex } from "@scure/base";
import { decodeDestination, hashToHex, outpointKey, prevout, type Tx } from "../chain/mod.ts";
import {
  amountFromValue,
  type ArgSpec,
  asArr,
  asBool,
  asInt,
  asObj,
  asStr,
  asUint32,
  defineMethod,
  EXAMPLE_ADDRESS,
  helpExampleCli,
  type Json,
  JsonNumber,
  JsonObject,
  type MethodHandler,
  type Params,
  parseHashV,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
  typeName,
} from "../../rpc/mod.ts";
import { confTarget, estimateMode as estimateModeArg } from "../../rpc/wallet_methods.ts";
import { amount, arr, bool, hexStr, num, obj, str } from "./docs.ts";
import { decodeTxParam, isWitnessArg } from "./encoding.ts";
import {
  addOutputs,
  constructTransaction,
  inputDoc,
  outputsArg,
  outputsDoc,
} from "./rawtransactions.ts";
import type { NodeServices } from "./services.ts";
import { findCoins } from "./signing.ts";
import { confirmTarget, estimateMode } from "./util.ts";

const OUTPUT_TYPES = ["legacy", "p2sh-segwit", "bech32", "bech32m"];
/** The options this node's wallet refuses. */
export const NOT_SUPPORTED = ["solving_data", "input_weights"];

/** The options `RPCTypeCheckObj` checks (strictly: any other key is -3 `Unexpected key`). */
export const OPTION_TYPES: Readonly<Record<string, string | null>> = {
  add_inputs: "bool",
  include_unsafe: "bool",
  add_to_wallet: "bool",
  changeAddress: "string",
  change_address: "string",
  changePosition: "number",
  change_position: "number",
  change_type: "string",
  includeWatching: "bool",
  include_watching: "bool",
  inputs: "array",
  lockUnspents: "bool",
  lock_unspents: "bool",
  locktime: "number",
  fee_rate: null, // read by AmountFromValue
  feeRate: null,
  psbt: "bool",
  solving_data: "object",
  subtractFeeFromOutputs: "array",
  subtract_fee_from_outputs: "array",
  replaceable: "bool",
  conf_target: "number",
  estimate_mode: "string",
  minconf: "number",
  maxconf: "number",
  input_weights: "array",
  max_tx_weight: "number",
};

/**
 * The handler of a wallet method whose arguments the node reads: `read`
 * makes of them what the wallet process is handed, which runs `method` on
 * the wallet the request means. Core finds that wallet before reading
 * anything, so a request for a wallet not loaded that also has a bad
 * argument answers -18 (or -19), not the argument's error.
 */
export function routed(
  node: NodeServices,
  method: string,
  read: (params: Params) => Json[],
): MethodHandler {
  return async (params, ctx) => {
    let request: Json[];
    try {
      request = read(params);
    } catch (error) {
      await node.wallets.resolve(ctx.walletName);
      throw error;
    }
    return await node.wallets.callWallet(method, request, ctx.walletName);
  };
}

function invalid(message: string): never {
  throw new RpcError(RpcErrorCode.INVALID_PARAMETER, message);
}

/** The options a bumpfee takes, as its `RPCTypeCheckObj` checks them. */
const BUMP_OPTION_TYPES: Readonly<Record<string, string | null>> = {
  confTarget: "number",
  conf_target: "number",
  fee_rate: null, // read by AmountFromValue
  replaceable: "bool",
  estimate_mode: "string",
  outputs: null, // read by AddOutputs
  original_change_index: "number",
};

/**
 * The options object after Core's strict type check against `types` (any
 * other key is -3 `Unexpected key`); the keys of `notSupported` refused.
 */
export function checkedOptions(
  value: Json,
  types: Readonly<Record<string, string | null>>,
  notSupported: readonly string[] = [],
): JsonObject {
  if (value === null) return new JsonObject();
  if (!(value instanceof JsonObject)) {
    throw new RpcError(
      RpcErrorCode.TYPE_ERROR,
      `JSON value of type ${typeName(value)} is not of expected type object`,
    );
  }
  for (const [key, expected] of Object.entries(types)) {
    const field = value.get(key) ?? null;
    if (field === null || expected === null || typeName(field) === expected) continue;
    throw new RpcError(
      RpcErrorCode.TYPE_ERROR,
      `JSON value of type ${typeName(field)} for field ${key} is not of expected type ${expected}`,
    );
  }
  for (const key of value.keys) {
    if (!(key in types)) {
      throw new RpcError(RpcErrorCode.TYPE_ERROR, `Unexpected key ${key}`);
    }
  }
  for (const key of notSupported) {
    if (value.has(key)) invalid(`${key} is not supported by this node's wallet`);
  }
  return value;
}

/** The first of `names` the options hold (Core reads the snake_case one first). */
function option(options: JsonObject, ...names: string[]): Json {
  for (const name of names) if (options.has(name)) return options.get(name)!;
  return null;
}

/**
 * Core's `InterpretSubtractFeeFromOutputInstructions` over outputs named
 * `destinations` (a string means the first output of that name).
 */
function subtractFrom(value: Json, destinations: readonly string[]): Set<number> {
  const positions = new Set<number>();
  if (value === null) return positions;
  for (const item of asArr(value)) {
    let pos: number;
    if (typeof item === "string") {
      pos = destinations.indexOf(item);
      if (pos < 0) {
        invalid(
          `Invalid parameter 'subtract fee from output', destination ${item} not found in tx outputs`,
        );
      }
    } else if (item instanceof JsonNumber) {
      pos = asInt(item);
    } else {
      invalid(
        `Invalid parameter 'subtract fee from output', invalid value type: ${typeName(item)}`,
      );
    }
    if (positions.has(pos)) {
      invalid(`Invalid parameter 'subtract fee from output', duplicated position: ${pos}`);
    }
    if (pos < 0) invalid(`Invalid parameter 'subtract fee from output', negative position: ${pos}`);
    if (pos >= destinations.length) {
      invalid(`Invalid parameter 'subtract fee from output', position too large: ${pos}`);
    }
    positions.add(pos);
  }
  return positions;
}

/**
 * Core's fee options of `FundTransaction` and `SetFeeEstimateMode`: the
 * explicit rate in sat/kvB (`fee_rate` in sat/vB, `feeRate` in BTC/kvB), or
 * null to let the wallet choose.
 */
function explicitFeeRate(options: JsonObject): bigint | null {
  const confTargetValue = options.get("conf_target") ?? null;
  const modeValue = options.get("estimate_mode") ?? null;
  if (options.has("feeRate")) {
    if (options.has("fee_rate")) {
      invalid("Cannot specify both fee_rate (sat/vB) and feeRate (BTC/kvB)");
    }
    if (options.has("conf_target")) {
      invalid(
        "Cannot specify both conf_target and feeRate. Please provide either a confirmation target in blocks for automatic fee estimation, or an explicit fee rate.",
      );
    }
    if (options.has("estimate_mode")) invalid("Cannot specify both estimate_mode and feeRate");
    return amountFromValue(options.get("feeRate")!);
  }
  const feeRate = options.get("fee_rate") ?? null;
  if (feeRate !== null) {
    if (confTargetValue !== null) {
      invalid(
        "Cannot specify both conf_target and fee_rate. Please provide either a confirmation target in blocks for automatic fee estimation, or an explicit fee rate.",
      );
    }
    if (modeValue !== null && asStr(modeValue) !== "unset") {
      invalid("Cannot specify both estimate_mode and fee_rate");
    }
    // sat/vB with at most 3 decimals: exactly sat/kvB.
    return amountFromValue(feeRate, 3);
  }
  if (modeValue !== null) estimateMode(modeValue);
  if (confTargetValue !== null) confirmTarget(confTargetValue);
  return null;
}

/** How a method funds its transaction (`fundRequest`). */
export interface Funding {
  /**
   * The option naming the outputs that pay the fee: each method reads one
   * spelling (send the new, the others the old) and ignores the other.
   */
  readonly subtractKey: "subtractFeeFromOutputs" | "subtract_fee_from_outputs";
  /** The outputs' names, which a string among them may mean. */
  readonly destinations: readonly string[];
  /** add_inputs' default. */
  readonly addInputs: boolean;
  /** Whether no locktime was given, for the wallet to set one against fee sniping (`send`). */
  readonly antiFeeSniping?: boolean;
}

/**
 * What the wallet's `FundTransaction` is handed for `tx` (fundrawtransaction's,
 * walletcreatefundedpsbt's or send's): its inputs and outputs, and the
 * options (already type-checked) read with Core's errors.
 */
export function fundRequest(
  node: NodeServices,
  tx: Tx,
  options: JsonObject,
  { subtractKey, destinations, addInputs, antiFeeSniping = false }: Funding,
): JsonObject {
  const subtract = subtractFrom(
    options.get(subtractKey) ?? null,
    destinations,
  );
  const changeAddress = option(options, "change_address", "changeAddress");
  let changeScript: string | null = null;
  if (changeAddress !== null) {
    const dest = decodeDestination(asStr(changeAddress));
    if (!dest.ok) {
      throw new RpcError(
        RpcErrorCode.INVALID_ADDRESS_OR_KEY,
        "Change address must be a valid bitcoin address",
      );
    }
    changeScript = hex.encode(dest.script);
  }
  const positionValue = option(options, "change_position", "changePosition");
  const changePosition = positionValue === null ? null : asInt(positionValue);
  if (changePosition !== null && (changePosition < 0 || changePosition > tx.outputs.length)) {
    invalid("changePosition out of bounds");
  }
  const changeTypeValue = options.get("change_type") ?? null;
  if (changeTypeValue !== null) {
    if (changeAddress !== null) {
      invalid("Cannot specify both change address and address type options");
    }
    if (!OUTPUT_TYPES.includes(asStr(changeTypeValue))) {
      throw new RpcError(
        RpcErrorCode.INVALID_ADDRESS_OR_KEY,
        `Unknown change type '${asStr(changeTypeValue)}'`,
      );
    }
  }
  const feeRate = explicitFeeRate(options);
  const minconf = options.has("minconf") ? asInt(options.get("minconf")!) : 0;
  if (minconf < 0) invalid("Negative minconf");
  const maxconf = options.has("maxconf") ? asInt(options.get("maxconf")!) : null;
  if (maxconf !== null && maxconf < minconf) {
    invalid(`maxconf can't be lower than minconf: ${maxconf} < ${minconf}`);
  }
  if (tx.outputs.length === 0) invalid("TX must have at least one output");
  const coins = findCoins(tx, node.mempool.coins({ includeSpent: true }));
  return new JsonObject([
    ["version", new JsonNumber(String(tx.version))],
    ["locktime", antiFeeSniping ? null : new JsonNumber(String(tx.lockTime))],
    [
      "inputs",
      tx.inputs.map((input, i) =>
        new JsonObject([
          ["txid", hashToHex(prevout(input).txid)],
          ["vout", new JsonNumber(String(input.index))],
          ["sequence", new JsonNumber(String(input.sequence))],
          ["scriptSig", hex.encode(input.finalScriptSig)],
          ["witness", (tx.witnesses?.[i] ?? []).map((item) => hex.encode(item))],
          ["inUtxoSet", coins.has(outpointKey(prevout(input)))],
        ])
      ),
    ],
    [
      "outputs",
      tx.outputs.map((output, i) =>
        new JsonObject([
          ["script", hex.encode(output.script)],
          // As text: the decoder reads 64 bits unsigned, past what a JSON number keeps exactly.
          ["amount", output.amount.toString()],
          ["subtractFee", subtract.has(i)],
        ])
      ),
    ],
    ["addInputs", flag(options, "add_inputs", addInputs)],
    ["includeUnsafe", flag(options, "include_unsafe", false)],
    ["lockUnspents", flag(options, "lock_unspents", flag(options, "lockUnspents", false))],
    ["minconf", new JsonNumber(String(minconf))],
    ["maxconf", maxconf === null ? null : new JsonNumber(String(maxconf))],
    ["changeScript", changeScript],
    ["changeType", changeTypeValue === null ? null : asStr(changeTypeValue)],
    [
      "changePosition",
      changePosition === null ? null : new JsonNumber(String(changePosition)),
    ],
    ["feeRate", feeRate === null ? null : new JsonNumber(feeRate.toString())],
    // Core's FundTransaction: the inputs it adds signal as the call says, else as -walletrbf.
    ["replaceable", flag(options, "replaceable", node.walletRbf)],
    [
      "maxTxWeight",
      options.has("max_tx_weight")
        ? new JsonNumber(String(asInt(options.get("max_tx_weight")!)))
        : null,
    ],
  ]);
}

/** The name of each output createpsbt's `outputs` make, in their order (Core's `NormalizeOutputs`). */
export function outputNames(outputs: Json): string[] {
  if (outputs instanceof JsonObject) return [...outputs.keys];
  return asArr(outputs).map((pair) => asObj(pair).keys[0]);
}

/** Core's `FundTxDoc`: the fee and RBF options fundrawtransaction's and sendall's share. */
const FUND_TX_DOC: readonly ArgSpec[] = [
  { ...confTarget, alsoPositional: true },
  { ...estimateModeArg, alsoPositional: true },
  {
    name: "replaceable",
    type: "bool",
    defaultHint: "wallet default",
    description: "Marks this transaction as BIP125-replaceable.\n" +
      "Allows this transaction to be replaced by a transaction with higher fees",
  },
];

/** add_inputs as the methods that take the inputs apart word it (walletcreatefundedpsbt, send). */
export const ADD_INPUTS_ARG: ArgSpec = {
  name: "add_inputs",
  type: "bool",
  defaultHint: 'false when "inputs" are specified, true otherwise',
  description: "Automatically include coins from the wallet to cover the target amount.\n",
};

/** The `max_tx_weight` option of fundrawtransaction, walletcreatefundedpsbt and send. */
const MAX_TX_WEIGHT_ARG: ArgSpec = {
  name: "max_tx_weight",
  type: "num",
  default: 400_000,
  description: "The maximum acceptable transaction weight.\n" +
    "Transaction building will fail if this can not be satisfied.",
};

/** fundrawtransaction's options, with Core's help. */
export const OPTION_ARGS: readonly ArgSpec[] = [
  {
    name: "add_inputs",
    type: "bool",
    default: true,
    description:
      "For a transaction with existing inputs, automatically include more if they are not enough.",
  },
  {
    name: "include_unsafe",
    type: "bool",
    default: false,
    description:
      "Include inputs that are not safe to spend (unconfirmed transactions from outside keys and unconfirmed replacement transactions).\n" +
      "Warning: the resulting transaction may become invalid if one of the unsafe inputs disappears.\n" +
      "If that happens, you will need to fund the transaction with different inputs and republish it.",
  },
  {
    name: "minconf",
    type: "num",
    default: 0,
    description:
      "If add_inputs is specified, require inputs with at least this many confirmations.",
  },
  {
    name: "maxconf",
    type: "num",
    optional: true,
    description: "If add_inputs is specified, require inputs with at most this many confirmations.",
  },
  {
    name: "changeAddress",
    type: "str",
    defaultHint: "automatic",
    description: "The bitcoin address to receive the change",
  },
  {
    name: "changePosition",
    type: "num",
    defaultHint: "random",
    description: "The index of the change output",
  },
  {
    name: "change_type",
    type: "str",
    defaultHint: "set by -changetype",
    description:
      'The output type to use. Only valid if changeAddress is not specified. Options are "legacy", "p2sh-segwit", "bech32", and "bech32m".',
  },
  { name: "includeWatching", type: "bool", default: true, description: "No longer used" },
  {
    name: "lockUnspents",
    type: "bool",
    default: false,
    description: "Lock selected unspent outputs",
  },
  {
    name: "fee_rate",
    type: "amount",
    defaultHint: "not set, fall back to wallet fee estimation",
    description: "Specify a fee rate in sat/vB.",
  },
  {
    name: "feeRate",
    type: "amount",
    defaultHint: "not set, fall back to wallet fee estimation",
    description: "Specify a fee rate in BTC/kvB.",
  },
  {
    name: "subtractFeeFromOutputs",
    type: "arr",
    default: [],
    description: "The integers.\n" +
      "The fee will be equally deducted from the amount of each specified output.\n" +
      "Those recipients will receive less bitcoins than you enter in their corresponding amount field.\n" +
      "If no outputs are specified here, the sender pays the fee.",
    inner: [{
      name: "vout_index",
      type: "num",
      optional: true,
      description: "The zero-based output index, before a change output is added.",
    }],
  },
  MAX_TX_WEIGHT_ARG,
  ...FUND_TX_DOC,
];

/** bumpfee's options, with Core's help. */
const BUMP_OPTION_ARGS: readonly ArgSpec[] = [
  {
    name: "conf_target",
    type: "num",
    defaultHint: "wallet -txconfirmtarget",
    description: "Confirmation target in blocks\n",
  },
  {
    name: "fee_rate",
    type: "amount",
    defaultHint: "not set, fall back to wallet fee estimation",
    description:
      "\nSpecify a fee rate in sat/vB instead of relying on the built-in fee estimator.\n" +
      "Must be at least 0.100 sat/vB higher than the current transaction fee rate.\n" +
      "WARNING: before version 0.21, fee_rate was in BTC/kvB. As of 0.21, fee_rate is in sat/vB.\n",
  },
  {
    name: "replaceable",
    type: "bool",
    default: true,
    description: "Whether the new transaction should be\n" +
      "marked bip-125 replaceable. If true, the sequence numbers in the transaction will\n" +
      "be set to 0xfffffffd. If false, any input sequence numbers in the\n" +
      "transaction will be set to 0xfffffffe\n" +
      "so the new transaction will not be explicitly bip-125 replaceable (though it may\n" +
      "still be replaceable in practice, for example if it has unconfirmed ancestors which\n" +
      "are replaceable).\n",
  },
  estimateModeArg,
  {
    ...outputsArg("Cannot be provided if 'original_change_index' is specified."),
    default: [],
  },
  {
    name: "original_change_index",
    type: "num",
    defaultHint: "not set, detect change automatically",
    description: "The 0-based index of the change output on the original transaction. " +
      "The indicated output will be recycled into the new change output on the bumped transaction. " +
      "The remainder after paying the recipients and fees will be sent to the output script of the " +
      "original change output. The change output\u2019s amount can increase if bumping the transaction " +
      "adds new inputs, otherwise it will decrease. Cannot be used in combination with the 'outputs' option.",
  },
];

/**
 * `bumpfee`, as Core's (`wallet/rpc/spend.cpp`, `wallet/feebumper.cpp`):
 * the node reads the txid and the options with Core's codes and texts and
 * hands the wallet process the request means a plain description (the new
 * rate or none, the outputs, the change index); the wallet checks the
 * transaction as Core's `PreconditionChecks` does, builds the replacement
 * (`bumpFee`, `components/wallet/spend.ts`), signs and broadcasts it. `psbtbumpfee` is the same
 * but for its end: the replacement comes back as a PSBT, unsigned.
 */
function bumpFeeMethod(node: NodeServices, name: "bumpfee" | "psbtbumpfee"): RpcMethod {
  const psbt = name === "psbtbumpfee";
  return defineMethod({
    name,
    category: "wallet",
    description: "Bumps the fee of a transaction T, replacing it with a new transaction B.\n" +
      (psbt ? "Returns a PSBT instead of creating and signing a new transaction.\n" : "") +
      "A transaction with the given txid must be in the wallet.\n" +
      "The command will pay the additional fee by reducing change outputs or adding inputs when necessary.\n" +
      "It may add a new change output if one does not already exist.\n" +
      "All inputs in the original transaction will be included in the replacement transaction.\n" +
      "The command will fail if the wallet or mempool contains a transaction that spends one of T's outputs.\n" +
      "By default, the new fee will be calculated automatically using the estimatesmartfee RPC.\n" +
      "The user can specify a confirmation target for estimatesmartfee.\n" +
      "Alternatively, the user can specify a fee rate in sat/vB for the new transaction.\n" +
      "At a minimum, the new fee rate must be high enough to pay an additional new relay fee (incrementalfee\n" +
      "returned by getnetworkinfo) to enter the node's mempool.\n" +
      "* WARNING: before version 0.21, fee_rate was in BTC/kvB. As of 0.21, fee_rate is in sat/vB. *\n",
    args: [
      { name: "txid", type: "hex", description: "The txid to be bumped" },
      {
        name: "options",
        type: "obj_named_params",
        optional: true,
        description: "",
        inner: BUMP_OPTION_ARGS,
        onelineDescription: "options",
      },
    ],
    result: obj("", "", [
      psbt
        ? str("psbt", "The base64-encoded unsigned PSBT of the new transaction.")
        : hexStr("txid", "The id of the new transaction."),
      amount("origfee", "The fee of the replaced transaction."),
      amount("fee", "The fee of the new transaction."),
      arr("errors", "Errors encountered during processing (may be empty).", [str("", "")]),
    ]),
    examples: `\nBump the fee, get the new transaction's ${psbt ? "psbt" : "txid"}\n` +
      helpExampleCli(name, "<txid>"),
    handler: routed(node, name, (params) => {
      const txid = parseHashV(params.raw("txid"), "txid");
      let options = checkedOptions(params.raw("options"), BUMP_OPTION_TYPES);
      if (options.has("confTarget")) {
        if (options.has("conf_target")) {
          invalid(
            "confTarget and conf_target options should not both be set. Use conf_target (confTarget is deprecated).",
          );
        }
        // The deprecated name, read as conf_target.
        options = new JsonObject(
          options.keys.map((
            key,
            i,
          ) => [key === "confTarget" ? "conf_target" : key, options.values[i]]),
        );
      }
      const replaceable = options.has("replaceable") ? asBool(options.get("replaceable")!) : true;
      const feeRate = explicitFeeRate(options);
      const outputsValue = options.get("outputs") ?? null;
      let outputs: Json = null;
      if (outputsValue !== null) {
        if (Array.isArray(outputsValue) && outputsValue.length === 0) {
          invalid("Invalid parameter, output argument cannot be an empty array");
        }
        const parsed: { amount: bigint; script: Uint8Array }[] = [];
        addOutputs(parsed, outputsValue);
        outputs = parsed.map((output) =>
          new JsonObject([["script", hex.encode(output.script)], [
            "amount",
            output.amount.toString(),
          ]])
        );
      }
      const changeIndex = options.has("original_change_index")
        ? asUint32(options.get("original_change_index")!)
        : null;
      const request = new JsonObject([
        ["txid", txid],
        ["feeRate", feeRate === null ? null : new JsonNumber(feeRate.toString())],
        ["replaceable", replaceable],
        ["outputs", outputs],
        ["originalChangeIndex", changeIndex === null ? null : new JsonNumber(String(changeIndex))],
      ]);
      return [request];
    }),
  });
}

/** Core's `EXAMPLE_ADDRESS[1]`. */
const SECOND_EXAMPLE_ADDRESS = "bc1q02ad21edsxd23d32dfgqqsz4vv4nmtfzuklhy3";

/** Core's `PreventOutdatedOptions`: the old spellings `send` and `sendall` refuse. */
const OUTDATED_OPTIONS: readonly [string, string][] = [
  ["feeRate", "Use fee_rate (sat/vB) instead of feeRate"],
  ["changeAddress", "Use change_address instead of changeAddress"],
  ["changePosition", "Use change_position instead of changePosition"],
  ["lockUnspents", "Use lock_unspents instead of lockUnspents"],
  ["subtractFeeFromOutputs", "Use subtract_fee_from_outputs instead of subtractFeeFromOutputs"],
];

/** Boolean option `name` of `options`, or `fallback` when it is not given. */
function flag(options: JsonObject, name: string, fallback: boolean): boolean {
  return options.has(name) ? asBool(options.get(name)!) : fallback;
}

/**
 * The options of `send` and `sendall`: the object given, with the fee
 * arguments given positionally moved in (`feeInstructions`) and the old
 * spellings refused (Core's `PreventOutdatedOptions`).
 */
function sendOptions(params: Params): JsonObject {
  const given = params.raw("options");
  const options = feeInstructions(
    given === null ? new JsonObject() : asObj(given),
    params.raw("conf_target"),
    params.raw("estimate_mode"),
    params.raw("fee_rate"),
  );
  for (const [key, message] of OUTDATED_OPTIONS) if (options.has(key)) invalid(message);
  return options;
}

/**
 * Core's `InterpretFeeEstimationInstructions`: the fee arguments given
 * positionally go into the options, which must not hold them too.
 */
function feeInstructions(
  options: JsonObject,
  confTargetValue: Json,
  modeValue: Json,
  feeRateValue: Json,
): JsonObject {
  const merged = new JsonObject(options.keys.map((key, i) => [key, options.values[i]]));
  if (options.has("conf_target") || options.has("estimate_mode")) {
    if (confTargetValue !== null || modeValue !== null) {
      invalid(
        "Pass conf_target and estimate_mode either as arguments or in the options object, but not both",
      );
    }
  } else {
    if (confTargetValue !== null) merged.push("conf_target", confTargetValue);
    if (modeValue !== null) merged.push("estimate_mode", modeValue);
  }
  if (options.has("fee_rate")) {
    if (feeRateValue !== null) {
      invalid("Pass the fee_rate either as an argument, or in the options object, but not both");
    }
  } else if (feeRateValue !== null) {
    merged.push("fee_rate", feeRateValue);
  }
  const mode = merged.get("estimate_mode") ?? null;
  if ((merged.get("conf_target") ?? null) !== null && (mode === null || mode === "unset")) {
    invalid("Specify estimate_mode");
  }
  return merged;
}

/** The version of the transaction `send` and `sendall` make (Core's `DEFAULT_WALLET_TX_VERSION`). */
const VERSION_ARG: ArgSpec = {
  name: "version",
  type: "num",
  default: 2,
  description: "Transaction version",
};

/** sendall's options, with Core's help (`FundTxDoc`'s fee options among them). */
const SENDALL_OPTION_ARGS: readonly ArgSpec[] = [
  {
    name: "add_to_wallet",
    type: "bool",
    default: true,
    description:
      "When false, returns the serialized transaction without broadcasting or adding it to the wallet",
  },
  {
    name: "fee_rate",
    type: "amount",
    defaultHint: "not set, fall back to wallet fee estimation",
    description: "Specify a fee rate in sat/vB.",
    alsoPositional: true,
  },
  {
    name: "include_watching",
    type: "bool",
    default: false,
    description: "(DEPRECATED) No longer used",
  },
  {
    name: "inputs",
    type: "arr",
    default: [],
    description:
      "Use exactly the specified inputs to build the transaction. Specifying inputs is incompatible with the send_max, minconf, and maxconf options.",
    inner: [inputDoc()],
  },
  {
    name: "locktime",
    type: "num",
    defaultHint: "locktime close to block height to prevent fee sniping",
    description: "Raw locktime. Non-0 value also locktime-activates inputs",
  },
  {
    name: "lock_unspents",
    type: "bool",
    default: false,
    description: "Lock selected unspent outputs",
  },
  {
    name: "psbt",
    type: "bool",
    defaultHint: "automatic",
    description: "Always return a PSBT, implies add_to_wallet=false.",
  },
  {
    name: "send_max",
    type: "bool",
    default: false,
    description:
      "When true, only use UTXOs that can pay for their own fees to maximize the output amount. When 'false' (default), no UTXO is left behind. send_max is incompatible with providing specific inputs.",
  },
  {
    name: "minconf",
    type: "num",
    default: 0,
    description: "Require inputs with at least this many confirmations.",
  },
  {
    name: "maxconf",
    type: "num",
    optional: true,
    description: "Require inputs with at most this many confirmations.",
  },
  VERSION_ARG,
  ...FUND_TX_DOC,
];

/** What Core's `FinishTransaction` answers (sendall's and send's result). */
const FINISH_RESULT = obj("", "", [
  bool("complete", "If the transaction has a complete set of signatures"),
  {
    ...hexStr(
      "txid",
      "The transaction id for the send. Only 1 transaction is created regardless of the number of addresses.",
    ),
    optional: true,
  },
  {
    ...hexStr(
      "hex",
      "If add_to_wallet is false, the hex-encoded raw transaction with signature(s)",
    ),
    optional: true,
  },
  {
    ...str(
      "psbt",
      "If more signatures are needed, or if add_to_wallet is false, the base64-encoded (partially) signed transaction",
    ),
    optional: true,
  },
]);

/**
 * `sendall`, as Core's: the node reads the recipients, the fee arguments
 * and the options (the inputs and outputs as `createrawtransaction` reads
 * them); the wallet takes its coins (or the inputs given), shares what is
 * left after the fee among the recipients without an amount, signs, and
 * broadcasts or returns the transaction (`sendAll`, `components/wallet/spend.ts`).
 */
function sendAllMethod(node: NodeServices): RpcMethod {
  return defineMethod({
    name: "sendall",
    category: "wallet",
    description: "EXPERIMENTAL warning: this call may be changed in future releases.\n\n" +
      "Spend the value of all (or specific) confirmed UTXOs and unconfirmed change in the wallet to one or more recipients.\n" +
      "Unconfirmed inbound UTXOs and locked UTXOs will not be spent. Sendall will respect the avoid_reuse wallet flag.\n" +
      "If your wallet contains many small inputs, either because it received tiny payments or as a result of accumulating change, consider using `send_max` to exclude inputs that are worth less than the fees needed to spend them.\n",
    args: [
      {
        name: "recipients",
        type: "arr",
        description: "The sendall destinations. Each address may only appear once.\n" +
          "Optionally some recipients can be specified with an amount to perform payments, but at least one address must appear without a specified amount.\n",
        inner: [
          {
            name: "address",
            type: "str",
            description:
              "A bitcoin address which receives an equal share of the unspecified amount.",
          },
          outputsDoc()[0],
        ],
      },
      confTarget,
      estimateModeArg,
      {
        name: "fee_rate",
        type: "amount",
        defaultHint: "not set, fall back to wallet fee estimation",
        description: "Specify a fee rate in sat/vB.",
      },
      {
        name: "options",
        type: "obj_named_params",
        optional: true,
        description: "",
        inner: SENDALL_OPTION_ARGS,
        onelineDescription: "options",
      },
    ],
    result: FINISH_RESULT,
    examples:
      "\nSpend all UTXOs from the wallet with a fee rate of 1 sat/vB using named arguments\n" +
      helpExampleCli("-named sendall", `recipients='["${EXAMPLE_ADDRESS}"]' fee_rate=1\n`) +
      "Spend all UTXOs with a fee rate of 1.1 sat/vB using positional arguments\n" +
      helpExampleCli("sendall", `'["${EXAMPLE_ADDRESS}"]' null "unset" 1.1\n`) +
      "Spend all UTXOs split into equal amounts to two addresses with a fee rate of 1.5 sat/vB using the options argument\n" +
      helpExampleCli(
        "sendall",
        `'["${EXAMPLE_ADDRESS}", "${SECOND_EXAMPLE_ADDRESS}"]' null "unset" null '{"fee_rate": 1.5}'\n`,
      ) +
      "Leave dust UTXOs in wallet, spend only UTXOs with positive effective value with a fee rate of 10 sat/vB using the options argument\n" +
      helpExampleCli(
        "sendall",
        `'["${EXAMPLE_ADDRESS}"]' null "unset" null '{"fee_rate": 10, "send_max": true}'\n`,
      ) +
      "Spend all UTXOs with a fee rate of 1.3 sat/vB using named arguments and sending a 0.25 BTC to another recipient\n" +
      helpExampleCli(
        "-named sendall",
        `recipients='[{"${SECOND_EXAMPLE_ADDRESS}": 0.25}, "${EXAMPLE_ADDRESS}"]' fee_rate=1.3\n`,
      ),
    handler: routed(node, "sendall", (params) => {
      const options = sendOptions(params);
      // Strings share what is left; objects are payments (createrawtransaction's outputs).
      const remainderScripts = new Set<string>();
      const pairs: Json[] = [];
      for (const recipient of asArr(params.raw("recipients"))) {
        if (typeof recipient === "string") {
          pairs.push(new JsonObject([[recipient, new JsonNumber("0")]]));
          // As Core's set of destinations: every invalid address is one "no destination", which
          // counts here and fails when the outputs are read.
          const dest = decodeDestination(recipient);
          remainderScripts.add(dest.ok ? hex.encode(dest.script) : "");
        } else {
          pairs.push(recipient);
        }
      }
      if (remainderScripts.size === 0) {
        invalid("Must provide at least one address without a specified amount");
      }
      const feeRate = explicitFeeRate(options);
      const minconf = options.has("minconf") ? asInt(options.get("minconf")!) : null;
      if (minconf !== null && minconf < 0) {
        invalid(`Invalid minconf (minconf cannot be negative): ${minconf}`);
      }
      const maxconf = options.has("maxconf") ? asInt(options.get("maxconf")!) : null;
      if (maxconf !== null && maxconf < (minconf ?? 0)) {
        invalid(`maxconf can't be lower than minconf: ${maxconf} < ${minconf ?? 0}`);
      }
      const version = options.has("version") ? asUint32(options.get("version")!) : 2;
      const rbf = flag(options, "replaceable", node.walletRbf);
      const tx = constructTransaction(
        options.get("inputs") ?? null,
        pairs,
        options.get("locktime") ?? null,
        rbf,
        version,
      );
      if (options.has("inputs") && options.has("send_max")) {
        invalid("Cannot combine send_max with specific inputs.");
      }
      if (options.has("inputs") && (options.has("minconf") || options.has("maxconf"))) {
        invalid("Cannot combine minconf or maxconf with specific inputs.");
      }
      const request = new JsonObject([
        [
          "inputs",
          options.has("inputs")
            ? tx.inputs.map((input) =>
              new JsonObject([
                ["txid", hashToHex(prevout(input).txid)],
                ["vout", new JsonNumber(String(input.index))],
                ["sequence", new JsonNumber(String(input.sequence))],
              ])
            )
            : null,
        ],
        [
          "outputs",
          tx.outputs.map((output) =>
            new JsonObject([
              ["script", hex.encode(output.script)],
              ["amount", output.amount.toString()],
              ["remainder", remainderScripts.has(hex.encode(output.script))],
            ])
          ),
        ],
        ["feeRate", feeRate === null ? null : new JsonNumber(feeRate.toString())],
        ["replaceable", rbf],
        [
          "locktime",
          options.has("locktime") ? new JsonNumber(String(tx.lockTime)) : null,
        ],
        ["sendMax", flag(options, "send_max", false)],
        ["minconf", new JsonNumber(String(minconf ?? 0))],
        ["maxconf", maxconf === null ? null : new JsonNumber(String(maxconf))],
        ["lockUnspents", flag(options, "lock_unspents", false)],
        ["addToWallet", flag(options, "add_to_wallet", true)],
        ["psbt", flag(options, "psbt", false)],
        ["version", new JsonNumber(String(tx.version))],
      ]);
      return [request];
    }),
  });
}

/** An option of `args` by name. */
function argNamed(args: readonly ArgSpec[], name: string): ArgSpec {
  return args.find((arg) => arg.name === name)!;
}

/** send's options, with Core's help (fundrawtransaction's and sendall's where Core shares them). */
const SEND_OPTION_ARGS: readonly ArgSpec[] = [
  ADD_INPUTS_ARG,
  argNamed(OPTION_ARGS, "include_unsafe"),
  argNamed(OPTION_ARGS, "minconf"),
  argNamed(OPTION_ARGS, "maxconf"),
  {
    name: "add_to_wallet",
    type: "bool",
    default: true,
    description:
      "When false, returns a serialized transaction which will not be added to the wallet or broadcast",
  },
  { ...argNamed(OPTION_ARGS, "changeAddress"), name: "change_address" },
  { ...argNamed(OPTION_ARGS, "changePosition"), name: "change_position" },
  {
    ...argNamed(OPTION_ARGS, "change_type"),
    description:
      'The output type to use. Only valid if change_address is not specified. Options are "legacy", "p2sh-segwit", "bech32" and "bech32m".',
  },
  argNamed(SENDALL_OPTION_ARGS, "fee_rate"),
  argNamed(SENDALL_OPTION_ARGS, "include_watching"),
  {
    name: "inputs",
    type: "arr",
    default: [],
    description:
      "Specify inputs instead of adding them automatically. A JSON array of JSON objects",
    inner: [inputDoc()],
  },
  {
    name: "locktime",
    type: "num",
    default: 0,
    description: "Raw locktime. Non-0 value also locktime-activates inputs",
  },
  argNamed(SENDALL_OPTION_ARGS, "lock_unspents"),
  argNamed(SENDALL_OPTION_ARGS, "psbt"),
  {
    ...argNamed(OPTION_ARGS, "subtractFeeFromOutputs"),
    name: "subtract_fee_from_outputs",
    description: "Outputs to subtract the fee from, specified as integer indices.\n" +
      "The fee will be equally deducted from the amount of each specified output.\n" +
      "Those recipients will receive less bitcoins than you enter in their corresponding amount field.\n" +
      "If no outputs are specified here, the sender pays the fee.",
  },
  MAX_TX_WEIGHT_ARG,
  ...FUND_TX_DOC,
];

/**
 * `send`, as Core's: the node reads the outputs, the fee arguments
 * positional or in the options, and the options as fundrawtransaction's; the
 * wallet funds the transaction, sets a locktime against fee sniping when
 * none was given, signs, and broadcasts it or returns it (and a PSBT)
 * unsent (`fundAndFinish`, `components/wallet/spend.ts`).
 */
function sendMethod(node: NodeServices): RpcMethod {
  const example = (args: string) => helpExampleCli("send", `'{"${EXAMPLE_ADDRESS}": ${args}`);
  return defineMethod({
    name: "send",
    category: "wallet",
    description: "EXPERIMENTAL warning: this call may be changed in future releases.\n\n" +
      "Send a transaction.\n",
    args: [
      outputsArg(
        "For convenience, a dictionary, which holds the key-value pairs directly, is also accepted.",
      ),
      confTarget,
      estimateModeArg,
      argNamed(SENDALL_OPTION_ARGS, "fee_rate"),
      {
        name: "options",
        type: "obj_named_params",
        optional: true,
        description: "",
        inner: SEND_OPTION_ARGS,
        onelineDescription: "options",
      },
      // Core's send takes it after the options, not among them (sendall's is an option).
      VERSION_ARG,
    ],
    result: FINISH_RESULT,
    examples:
      "\nSend 0.1 BTC with a confirmation target of 6 blocks in economical fee estimate mode\n" +
      example("0.1}' 6 economical\n") +
      "Send 0.2 BTC with a fee rate of 1.1 sat/vB using positional arguments\n" +
      example('0.2}\' null "unset" 1.1\n') +
      "Send 0.2 BTC with a fee rate of 1 sat/vB using the options argument\n" +
      example('0.2}\' null "unset" null \'{"fee_rate": 1}\'\n') +
      "Send 0.3 BTC with a fee rate of 25 sat/vB using named arguments\n" +
      helpExampleCli("-named send", `outputs='{"${EXAMPLE_ADDRESS}": 0.3}' fee_rate=25\n`) +
      "Create a transaction that should confirm the next block, with a specific input, and return result without adding to wallet or broadcasting to the network\n" +
      example(
        `0.1}' 1 economical '{"add_to_wallet": false, "inputs": [{"txid":"a08e6907dbbd3d809776dbfc5d82e371b764ed838b5655e72f463568df1aadf0", "vout":1}]}'`,
      ),
    handler: routed(node, "send", (params) => {
      const options = sendOptions(params);
      const outputs = params.raw("outputs");
      const tx = constructTransaction(
        options.get("inputs") ?? null,
        outputs,
        options.get("locktime") ?? null,
        flag(options, "replaceable", node.walletRbf),
        params.arg("version", asUint32),
      );
      const request = fundRequest(node, tx, checkedOptions(options, OPTION_TYPES, NOT_SUPPORTED), {
        subtractKey: "subtract_fee_from_outputs",
        destinations: outputNames(outputs),
        addInputs: tx.inputs.length === 0,
        antiFeeSniping: !options.has("locktime"),
      });
      const finish = new JsonObject([
        ["addToWallet", flag(options, "add_to_wallet", true)],
        ["psbt", flag(options, "psbt", false)],
      ]);
      return [request, finish];
    }),
  });
}

/**
 * `fundrawtransaction`, `bumpfee`, `psbtbumpfee`, `sendall` and `send`, routed to the wallet
 * the request means.
 */
export function fundingMethods(node: NodeServices): RpcMethod[] {
  return [
    defineMethod({
      name: "fundrawtransaction",
      category: "rawtransactions",
      description:
        "If the transaction has no inputs, they will be automatically selected to meet its out value.\n" +
        "It will add at most one change output to the outputs.\n" +
        'No existing outputs will be modified unless "subtractFeeFromOutputs" is specified.\n' +
        "Note that inputs which were signed may need to be resigned after completion since in/outputs have been added.\n" +
        "The inputs added will not be signed, use signrawtransactionwithkey\n" +
        "or signrawtransactionwithwallet for that.\n" +
        "All existing inputs must either have their previous output transaction be in the wallet\n" +
        "or be in the UTXO set. Solving data must be provided for non-wallet inputs.\n" +
        "Note that all inputs selected must be of standard form and P2SH scripts must be\n" +
        "in the wallet using importdescriptors (to calculate fees).\n" +
        'You can see whether this is the case by checking the "solvable" field in the listunspent output.\n' +
        "Note that if specifying an exact fee rate, the resulting transaction may have a higher fee rate\n" +
        "if the transaction has unconfirmed inputs. This is because the wallet will attempt to make the\n" +
        "entire package have the given fee rate, not the resulting transaction.\n",
      args: [
        { name: "hexstring", type: "hex", description: "The hex string of the raw transaction" },
        {
          name: "options",
          type: "obj_named_params",
          optional: true,
          description: "",
          inner: OPTION_ARGS,
          onelineDescription: "options",
        },
        isWitnessArg(""),
      ],
      result: obj("", "", [
        hexStr("hex", "The resulting raw transaction (hex-encoded string)"),
        amount("fee", "Fee in BTC the resulting transaction pays"),
        num("changepos", "The position of the added change output, or -1"),
      ]),
      examples: "\nCreate a transaction with no inputs\n" +
        helpExampleCli("createrawtransaction", '"[]" "{\\"myaddress\\":0.01}"') +
        "\nAdd sufficient unsigned inputs to meet the output value\n" +
        helpExampleCli("fundrawtransaction", '"rawtransactionhex"') +
        "\nSign the transaction\n" +
        helpExampleCli("signrawtransactionwithwallet", '"fundedtransactionhex"') +
        "\nSend the transaction\n" +
        helpExampleCli("sendrawtransaction", '"signedtransactionhex"'),
      handler: routed(node, "fundrawtransaction", (params) => {
        const tx = decodeTxParam(params);
        const options = checkedOptions(params.raw("options"), OPTION_TYPES, NOT_SUPPORTED);
        // Core names fundrawtransaction's outputs "dummy".
        const request = fundRequest(node, tx, options, {
          subtractKey: "subtractFeeFromOutputs",
          destinations: tx.outputs.map(() => "dummy"),
          addInputs: true,
        });
        return [request];
      }),
    }),
    bumpFeeMethod(node, "bumpfee"),
    bumpFeeMethod(node, "psbtbumpfee"),
    sendAllMethod(node),
    sendMethod(node),
  ];
}
