/**
 * The wallet's JSON-RPC methods as the node serves them: each declared
 * here with Bitcoin Core's arguments and help (so `help`, named
 * parameters, argument counts and JSON types behave as bitcoind's), then
 * routed to the wallet process holding the wallet the request means
 * (`wallet_router.ts`), which runs it (`components/wallet/rpc.ts`). Amounts
 * are read here exactly from their text (`AmountFromValue`: BTC to
 * satoshis, `fee_rate` in sat/vB to sat/kvB) and cross as integers, as do
 * number arguments (read as Core's `getInt`).
 *
 * @example
 * ```ts
 * import { WalletRouter } from "./wallet_router.ts";
 * import { walletRpcMethods } from "./wallet_methods.ts";
 * const names = walletRpcMethods(new WalletRouter()).map((m) => m.name);
 * if (!names.includes("sendtoaddress") || !names.includes("createwallet")) throw new Error();
 * ```
 * @module
 */
import type { WalletRouter } from "./wallet_router.ts";
import { ALREADY_DESCRIPTOR, NO_SUCH_WALLET } from "./wallet_choice.ts";
import {
  type ArgSpec,
  defineMethod,
  EXAMPLE_ADDRESS,
  helpExampleCli,
  helpExampleCliNamed,
  helpExampleRpc,
  helpExampleRpcNamed,
  type JsonInput,
  messageExamples,
  type Params,
  type ResultSpec,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "./mod.ts";
import { amountFromValue } from "./params.ts";
import { outpointArg } from "./spec.ts";
import { asArr, asInt, asInt64, asObj, asStr, type Json, JsonNumber, JsonObject } from "./json.ts";

/**
 * How a method finds its wallet: the one the request means, the process
 * new wallets go to, the one to unload, or every process's answer
 * gathered (the loaded wallets, the wallets on disk); `migrate` is
 * migratewallet's (the name Core's `EnsureUniqueWalletName` settles on,
 * then the processes' directories). `deprecated` is
 * `wallet` for a method v30 deprecated, which answers -32 unless
 * `-deprecatedrpc=<name>` (once the wallet is found, before its arguments
 * are read, as Core checks).
 */
type Route = "wallet" | "load" | "unload" | "migrate" | "list" | "dir" | "deprecated";

/** A method's spec and how its arguments cross. */
interface WalletMethodSpec {
  readonly name: string;
  readonly description: string;
  readonly args?: readonly ArgSpec[];
  readonly result: ResultSpec | readonly ResultSpec[];
  readonly examples?: string;
  readonly route?: Route;
}

const sats = (value: bigint) => new JsonNumber(value.toString());

/** The txid Core's wallet help examples show. */
const EXAMPLE_TXID = "1075db55d416d3ca199f55b6084e2115b9345e16c5cf302fc80e9d5fbf5d48d";

/** The positional arguments, amounts as satoshis (and `fee_rate` as sat/kvB). */
function crossingArgs(args: readonly ArgSpec[], params: Params): Json[] {
  return args.map((arg, i) => {
    const value = params.positional[i] ?? null;
    if (value === null) return null;
    // Core reads every wallet number argument as getInt<int>, walletpassphrase's timeout as
    // getInt<int64_t>: 1.5, 1.0 and 1e400 are -1 `JSON integer out of range`.
    if (arg.type === "num") {
      return new JsonNumber(String(arg.name === "timeout" ? asInt64(value) : asInt(value)));
    }
    if (arg.name === "fee_rate") return sats(amountFromValue(value, 3));
    if (arg.type === "amount") return sats(amountFromValue(value));
    if (arg.name === "amounts" && value instanceof JsonObject) {
      return value.keys.map((key, k) => [key, sats(amountFromValue(value.values[k]))]);
    }
    return value;
  });
}

const walletName: ArgSpec = {
  name: "wallet_name",
  type: "str",
  description:
    "The name for the new wallet. If this is a path, the wallet will be created at the path location.",
};
const feeRate: ArgSpec = {
  name: "fee_rate",
  type: "amount",
  defaultHint: "not set, falls back to wallet fee estimation",
  description: "Specify a fee rate in sat/vB.",
};
/** `conf_target`, as the wallet's sends (and fundrawtransaction's options) take it. */
export const confTarget: ArgSpec = {
  name: "conf_target",
  type: "num",
  defaultHint: "wallet -txconfirmtarget",
  description: "Confirmation target in blocks",
};
/** `estimate_mode`, as the wallet's sends (and fundrawtransaction's options) take it. */
export const estimateMode: ArgSpec = {
  name: "estimate_mode",
  type: "str",
  default: "unset",
  description:
    'The fee estimate mode, must be one of (case insensitive):\n"unset"\n"economical"\n"conservative"',
};
/** `getnewaddress`' and `getrawchangeaddress`' `address_type`, defaulting as `defaultHint` says. */
const addressType = (defaultHint: string): ArgSpec => ({
  name: "address_type",
  type: "str",
  defaultHint,
  description:
    'The address type to use. Options are "legacy", "p2sh-segwit", "bech32", and "bech32m".',
});
const minconfOne: ArgSpec = {
  name: "minconf",
  type: "num",
  default: 1,
  description: "Only include transactions confirmed at least this many times.",
};
const immatureCoinbase: ArgSpec = {
  name: "include_immature_coinbase",
  type: "bool",
  default: false,
  description: "Include immature coinbase transactions.",
};
/** listreceivedbyaddress' and listreceivedbylabel's result: an array of objects of `fields`. */
const receivedList = (fields: ResultSpec[]): ResultSpec => ({
  type: "arr",
  description: "",
  inner: [{ type: "obj", description: "", inner: fields }],
});
const receivedMinconf: ArgSpec = {
  ...minconfOne,
  description: "The minimum number of confirmations before payments are included.",
};
const receivedConfirmations: ResultSpec = {
  type: "num",
  key: "confirmations",
  description: "The number of confirmations of the most recent transaction included",
};
const receivedLabel: ResultSpec = {
  type: "str",
  key: "label",
  description: 'The label of the receiving address. The default label is ""',
};
/** The outputs Core's lockunspent examples name, as the shell argument reads. */
const LOCK_EXAMPLE =
  '[{\\"txid\\":\\"a08e6907dbbd3d809776dbfc5d82e371b764ed838b5655e72f463568df1aadf0\\",\\"vout\\":1}]';
const txidResult: ResultSpec = { type: "hex", description: "The transaction id." };
/** `load_on_startup`, as createwallet, loadwallet, restorewallet and unloadwallet take it. */
const loadOnStartupArg: ArgSpec = {
  name: "load_on_startup",
  type: "bool",
  optional: true,
  description:
    "Save wallet name to persistent settings and load on startup. True to add wallet to startup list, false to remove, null to leave unchanged.",
};

/** The optional `warnings` of a wallet's creating, loading or unloading. */
function warningsResult(doing: string): ResultSpec {
  return {
    type: "arr",
    key: "warnings",
    optional: true,
    description: `Warning messages, if any, related to ${doing} the wallet.`,
    inner: [{ type: "str", description: "" }],
  };
}

/** removeprunedfunds' example txid, Core's. */
const PRUNED_EXAMPLE_TXID = "a8d0c0184dde994a09ec054286f1ce581bebf46446a512166eae7628734ea0a5";

/** restorewallet's examples, as Core's (the stray quote in the named ones is Core's too). */
const RESTORE_EXAMPLE = '"testwallet" "home\\backups\\backup-file.bak"';
const RESTORE_EXAMPLE_NAMED: [string, JsonInput][] = [
  ["wallet_name", "testwallet"],
  ["backup_file", 'home\\backups\\backup-file.bak"'],
  ["load_on_startup", true],
];

const nameResult: ResultSpec = {
  type: "obj",
  inner: [
    {
      type: "str",
      key: "name",
      description:
        "The wallet name if created successfully. If the wallet was created using a full path, the wallet_name will be the full path.",
    },
    warningsResult("creating and loading"),
  ],
};
const anyObject: ResultSpec = {
  type: "obj",
  description: "",
  inner: [{ type: "elision", description: "" }],
};
const lastProcessed: ResultSpec = {
  type: "obj",
  key: "lastprocessedblock",
  description: "hash and height of the block this information was generated on",
  inner: [
    {
      type: "hex",
      key: "hash",
      description: "hash of the block this information was generated on",
    },
    {
      type: "num",
      key: "height",
      description: "height of the block this information was generated on",
    },
  ],
};

const SPECS: readonly WalletMethodSpec[] = [
  {
    name: "createwallet",
    route: "load",
    description: "Creates and loads a new wallet.\n",
    args: [
      walletName,
      {
        name: "disable_private_keys",
        type: "bool",
        default: false,
        description:
          "Disable the possibility of private keys (only watchonlys are possible in this mode).",
      },
      {
        name: "blank",
        type: "bool",
        default: false,
        description: "Create a blank wallet. A blank wallet has no keys.",
      },
      {
        name: "passphrase",
        type: "str",
        optional: true,
        description: "Encrypt the wallet with this passphrase.",
      },
      {
        name: "avoid_reuse",
        type: "bool",
        default: false,
        description:
          "Keep track of coin reuse, and treat dirty and clean coins differently with privacy considerations in mind.",
      },
      { name: "descriptors", type: "bool", default: true, description: 'If set, must be "true"' },
      loadOnStartupArg,
      {
        name: "external_signer",
        type: "bool",
        default: false,
        description:
          "Use an external signer such as a hardware wallet. Requires -signer to be configured. Wallet creation will fail if keys cannot be fetched. Requires disable_private_keys and descriptors set to true.",
      },
    ],
    result: nameResult,
    examples: helpExampleCli("createwallet", '"testwallet"') +
      helpExampleRpc("createwallet", '"testwallet"'),
  },
  {
    name: "loadwallet",
    route: "load",
    description:
      "Loads a wallet from a wallet file or directory.\nNote that all wallet command-line options used when starting bitcoind will be\napplied to the new wallet.\n",
    args: [
      {
        name: "filename",
        type: "str",
        description:
          'The path to the directory of the wallet to be loaded, either absolute or relative to the "wallets" directory. The "wallets" directory is set by the -walletdir option and defaults to the "wallets" folder within the data directory.',
      },
      loadOnStartupArg,
    ],
    result: nameResult,
    examples: helpExampleCli("loadwallet", '"test.dat"') +
      helpExampleRpc("loadwallet", '"test.dat"'),
  },
  {
    name: "restorewallet",
    route: "load",
    description:
      'Restores and loads a wallet from backup.\n\nThe rescan is significantly faster if block filters are available\n(using startup option "-blockfilterindex=1").\n',
    args: [
      {
        name: "wallet_name",
        type: "str",
        description: "The name that will be applied to the restored wallet",
      },
      {
        name: "backup_file",
        type: "str",
        description: "The backup file that will be used to restore the wallet.",
      },
      loadOnStartupArg,
    ],
    result: {
      type: "obj",
      inner: [
        { type: "str", key: "name", description: "The wallet name if restored successfully." },
        warningsResult("restoring and loading"),
      ],
    },
    examples: helpExampleCli("restorewallet", RESTORE_EXAMPLE) +
      helpExampleRpc("restorewallet", RESTORE_EXAMPLE) +
      helpExampleCliNamed("restorewallet", RESTORE_EXAMPLE_NAMED) +
      helpExampleRpcNamed("restorewallet", RESTORE_EXAMPLE_NAMED),
  },
  {
    name: "unloadwallet",
    route: "unload",
    description:
      "Unloads the wallet referenced by the request endpoint or the wallet_name argument.\nIf both are specified, they must be identical.",
    args: [
      {
        name: "wallet_name",
        type: "str",
        defaultHint: "the wallet name from the RPC endpoint",
        description:
          "The name of the wallet to unload. If provided both here and in the RPC endpoint, the two must be identical.",
      },
      loadOnStartupArg,
    ],
    result: {
      type: "obj",
      description: "",
      inner: [warningsResult("unloading")],
    },
    examples: helpExampleCli("unloadwallet", "wallet_name") +
      helpExampleRpc("unloadwallet", "wallet_name"),
  },
  {
    name: "migratewallet",
    route: "migrate",
    description: "Migrate the wallet to a descriptor wallet.\n" +
      "A new wallet backup will need to be made.\n" +
      "\nThe migration process will create a backup of the wallet before migrating. This backup\n" +
      "file will be named <wallet name>-<timestamp>.legacy.bak and can be found in the directory\n" +
      "for this wallet. In the event of an incorrect migration, the backup can be restored using restorewallet." +
      "\nEncrypted wallets must have the passphrase provided as an argument to this call.\n" +
      "\nThis RPC may take a long time to complete. Increasing the RPC client timeout is recommended.",
    args: [
      {
        name: "wallet_name",
        type: "str",
        defaultHint: "the wallet name from the RPC endpoint",
        description:
          "The name of the wallet to migrate. If provided both here and in the RPC endpoint, the two must be identical.",
      },
      { name: "passphrase", type: "str", optional: true, description: "The wallet passphrase" },
    ],
    result: {
      type: "obj",
      description: "",
      inner: [
        { type: "str", key: "wallet_name", description: "The name of the primary migrated wallet" },
        {
          type: "str",
          key: "watchonly_name",
          optional: true,
          description: "The name of the migrated wallet containing the watchonly scripts",
        },
        {
          type: "str",
          key: "solvables_name",
          optional: true,
          description:
            "The name of the migrated wallet containing solvable but not watched scripts",
        },
        {
          type: "str",
          key: "backup_path",
          description: "The location of the backup of the original wallet",
        },
      ],
    },
    examples: helpExampleCli("migratewallet", "") + helpExampleRpc("migratewallet", ""),
  },
  {
    name: "listwallets",
    route: "list",
    description:
      'Returns a list of currently loaded wallets.\nFor full information on the wallet, use "getwalletinfo"\n',
    result: {
      type: "arr",
      description: "",
      inner: [{ type: "str", description: "the wallet name" }],
    },
    examples: helpExampleCli("listwallets", "") + helpExampleRpc("listwallets", ""),
  },
  {
    name: "listwalletdir",
    route: "dir",
    description: "Returns a list of wallets in the wallet directory.\n",
    result: {
      type: "obj",
      description: "",
      inner: [{
        type: "arr",
        key: "wallets",
        description: "",
        inner: [{
          type: "obj",
          description: "",
          inner: [
            { type: "str", key: "name", description: "The wallet name" },
            warningsResult("loading"),
          ],
        }],
      }],
    },
    examples: helpExampleCli("listwalletdir", "") + helpExampleRpc("listwalletdir", ""),
  },
  {
    name: "getwalletinfo",
    description: "Returns an object containing various wallet state info.\n",
    result: anyObject,
    examples: helpExampleCli("getwalletinfo", "") + helpExampleRpc("getwalletinfo", ""),
  },
  {
    name: "getnewaddress",
    description:
      "Returns a new Bitcoin address for receiving payments.\nIf 'label' is specified, it is added to the address book \nso payments received with the address will be associated with 'label'.\n",
    args: [
      {
        name: "label",
        type: "str",
        default: "",
        description:
          'The label name for the address to be linked to. It can also be set to the empty string "" to represent the default label. The label does not need to exist, it will be created if there is no label by the given name.',
      },
      addressType("set by -addresstype"),
    ],
    result: { type: "str", key: "address", description: "The new bitcoin address" },
    examples: helpExampleCli("getnewaddress", "") + helpExampleRpc("getnewaddress", ""),
  },
  {
    name: "setlabel",
    description: "Sets the label associated with the given address.\n",
    args: [
      {
        name: "address",
        type: "str",
        description: "The bitcoin address to be associated with a label.",
      },
      { name: "label", type: "str", description: "The label to assign to the address." },
    ],
    result: { type: "none", description: "" },
    examples: helpExampleCli("setlabel", `"${EXAMPLE_ADDRESS}" "tabby"`) +
      helpExampleRpc("setlabel", `"${EXAMPLE_ADDRESS}", "tabby"`),
  },
  {
    name: "listlabels",
    description:
      "Returns the list of all labels, or labels that are assigned to addresses with a specific purpose.\n",
    args: [{
      name: "purpose",
      type: "str",
      optional: true,
      description:
        "Address purpose to list labels for ('send','receive'). An empty string is the same as not providing this argument.",
    }],
    result: {
      type: "arr",
      description: "",
      inner: [{ type: "str", key: "label", description: "Label name" }],
    },
    examples: "\nList all labels\n" + helpExampleCli("listlabels", "") +
      "\nList labels that have receiving addresses\n" + helpExampleCli("listlabels", "receive") +
      "\nList labels that have sending addresses\n" + helpExampleCli("listlabels", "send") +
      "\nAs a JSON-RPC call\n" + helpExampleRpc("listlabels", "receive"),
  },
  {
    name: "listaddressgroupings",
    description: "Lists groups of addresses which have had their common ownership\n" +
      "made public by common use as inputs or as the resulting change\n" +
      "in past transactions\n",
    result: {
      type: "arr",
      description: "",
      inner: [{
        type: "arr",
        description: "",
        inner: [{
          type: "arr_fixed",
          description: "",
          inner: [
            { type: "str", key: "address", description: "The bitcoin address" },
            { type: "amount", key: "amount", description: "The amount in BTC" },
            { type: "str", key: "label", optional: true, description: "The label" },
          ],
        }],
      }],
    },
    examples: helpExampleCli("listaddressgroupings", "") +
      helpExampleRpc("listaddressgroupings", ""),
  },
  {
    name: "getaddressesbylabel",
    description: "Returns the list of addresses assigned the specified label.\n",
    args: [{ name: "label", type: "str", description: "The label." }],
    result: {
      type: "obj_dyn",
      description: "json object with addresses as keys",
      inner: [{
        type: "obj",
        key: "address",
        description: "json object with information about address",
        inner: [{
          type: "str",
          key: "purpose",
          description:
            'Purpose of address ("send" for sending address, "receive" for receiving address)',
        }],
      }],
    },
    examples: helpExampleCli("getaddressesbylabel", '"tabby"') +
      helpExampleRpc("getaddressesbylabel", '"tabby"'),
  },
  {
    name: "getreceivedbyaddress",
    description:
      "Returns the total amount received by the given address in transactions with at least minconf confirmations.\n",
    args: [
      { name: "address", type: "str", description: "The bitcoin address for transactions." },
      minconfOne,
      immatureCoinbase,
    ],
    result: {
      type: "amount",
      key: "amount",
      description: "The total amount in BTC received at this address.",
    },
    examples: "\nThe amount from transactions with at least 1 confirmation\n" +
      helpExampleCli("getreceivedbyaddress", `"${EXAMPLE_ADDRESS}"`) +
      "\nThe amount including unconfirmed transactions, zero confirmations\n" +
      helpExampleCli("getreceivedbyaddress", `"${EXAMPLE_ADDRESS}" 0`) +
      "\nThe amount with at least 6 confirmations\n" +
      helpExampleCli("getreceivedbyaddress", `"${EXAMPLE_ADDRESS}" 6`) +
      "\nThe amount with at least 6 confirmations including immature coinbase outputs\n" +
      helpExampleCli("getreceivedbyaddress", `"${EXAMPLE_ADDRESS}" 6 true`) +
      "\nAs a JSON-RPC call\n" + helpExampleRpc("getreceivedbyaddress", `"${EXAMPLE_ADDRESS}", 6`),
  },
  {
    name: "getreceivedbylabel",
    description:
      "Returns the total amount received by addresses with <label> in transactions with at least [minconf] confirmations.\n",
    args: [
      {
        name: "label",
        type: "str",
        description: 'The selected label, may be the default label using "".',
      },
      minconfOne,
      immatureCoinbase,
    ],
    result: {
      type: "amount",
      key: "amount",
      description: "The total amount in BTC received for this label.",
    },
    examples: "\nAmount received by the default label with at least 1 confirmation\n" +
      helpExampleCli("getreceivedbylabel", '""') +
      "\nAmount received at the tabby label including unconfirmed amounts with zero confirmations\n" +
      helpExampleCli("getreceivedbylabel", '"tabby" 0') +
      "\nThe amount with at least 6 confirmations\n" +
      helpExampleCli("getreceivedbylabel", '"tabby" 6') +
      "\nThe amount with at least 6 confirmations including immature coinbase outputs\n" +
      helpExampleCli("getreceivedbylabel", '"tabby" 6 true') +
      "\nAs a JSON-RPC call\n" + helpExampleRpc("getreceivedbylabel", '"tabby", 6, true'),
  },
  {
    name: "lockunspent",
    description: "Updates list of temporarily unspendable outputs.\n" +
      "Temporarily lock (unlock=false) or unlock (unlock=true) specified transaction outputs.\n" +
      "If no transaction outputs are specified when unlocking then all current locked transaction outputs are unlocked.\n" +
      "A locked transaction output will not be chosen by automatic coin selection, when spending bitcoins.\n" +
      "Manually selected coins are automatically unlocked.\n" +
      "Locks are stored in memory only, unless persistent=true, in which case they will be written to the\n" +
      "wallet database and loaded on node start. Unwritten (persistent=false) locks are always cleared\n" +
      "(by virtue of process exit) when a node stops or fails. Unlocking will clear both persistent and not.\n" +
      "Also see the listunspent call\n",
    args: [
      {
        name: "unlock",
        type: "bool",
        description: "Whether to unlock (true) or lock (false) the specified transactions",
      },
      {
        name: "transactions",
        type: "arr",
        default: [],
        description: "The transaction outputs and within each, the txid (string) vout (numeric).",
        inner: [outpointArg()],
      },
      {
        name: "persistent",
        type: "bool",
        default: false,
        description:
          "Whether to write/erase this lock in the wallet database, or keep the change in memory only. Ignored for unlocking.",
      },
    ],
    result: { type: "bool", description: "Whether the command was successful or not" },
    examples: "\nList the unspent transactions\n" + helpExampleCli("listunspent", "") +
      "\nLock an unspent transaction\n" + helpExampleCli("lockunspent", `false "${LOCK_EXAMPLE}"`) +
      "\nList the locked transactions\n" + helpExampleCli("listlockunspent", "") +
      "\nUnlock the transaction again\n" + helpExampleCli("lockunspent", `true "${LOCK_EXAMPLE}"`) +
      "\nLock the transaction persistently in the wallet database\n" +
      helpExampleCli("lockunspent", `false "${LOCK_EXAMPLE}" true`) +
      "\nAs a JSON-RPC call\n" + helpExampleRpc("lockunspent", `false, "${LOCK_EXAMPLE}"`),
  },
  {
    name: "listreceivedbyaddress",
    description: "List balances by receiving address.\n",
    args: [
      receivedMinconf,
      {
        name: "include_empty",
        type: "bool",
        default: false,
        description: "Whether to include addresses that haven't received any payments.",
      },
      { name: "include_watchonly", type: "bool", default: true, description: "No longer used" },
      {
        name: "address_filter",
        type: "str",
        optional: true,
        description: "If present and non-empty, only return information on this address.",
      },
      immatureCoinbase,
    ],
    result: receivedList([
      { type: "str", key: "address", description: "The receiving address" },
      {
        type: "amount",
        key: "amount",
        description: "The total amount in BTC received by the address",
      },
      receivedConfirmations,
      receivedLabel,
      {
        type: "arr",
        key: "txids",
        description: "",
        inner: [{
          type: "hex",
          key: "txid",
          description: "The ids of transactions received with the address",
        }],
      },
    ]),
    examples: helpExampleCli("listreceivedbyaddress", "") +
      helpExampleCli("listreceivedbyaddress", "6 true") +
      helpExampleCli("listreceivedbyaddress", '6 true true "" true') +
      helpExampleRpc("listreceivedbyaddress", "6, true, true") +
      helpExampleRpc("listreceivedbyaddress", `6, true, true, "${EXAMPLE_ADDRESS}", true`),
  },
  {
    name: "listreceivedbylabel",
    description: "List received transactions by label.\n",
    args: [
      receivedMinconf,
      {
        name: "include_empty",
        type: "bool",
        default: false,
        description: "Whether to include labels that haven't received any payments.",
      },
      { name: "include_watchonly", type: "bool", default: true, description: "No longer used" },
      immatureCoinbase,
    ],
    result: receivedList([
      {
        type: "amount",
        key: "amount",
        description: "The total amount received by addresses with this label",
      },
      receivedConfirmations,
      receivedLabel,
    ]),
    examples: helpExampleCli("listreceivedbylabel", "") +
      helpExampleCli("listreceivedbylabel", "6 true") +
      helpExampleRpc("listreceivedbylabel", "6, true, true, true"),
  },
  {
    name: "listlockunspent",
    description: "Returns list of temporarily unspendable outputs.\n" +
      "See the lockunspent call to lock and unlock transactions for spending.\n",
    result: {
      type: "arr",
      description: "",
      inner: [{
        type: "obj",
        description: "",
        inner: [
          { type: "hex", key: "txid", description: "The transaction id locked" },
          { type: "num", key: "vout", description: "The vout value" },
        ],
      }],
    },
    examples: "\nList the unspent transactions\n" + helpExampleCli("listunspent", "") +
      "\nLock an unspent transaction\n" + helpExampleCli("lockunspent", `false "${LOCK_EXAMPLE}"`) +
      "\nList the locked transactions\n" + helpExampleCli("listlockunspent", "") +
      "\nUnlock the transaction again\n" + helpExampleCli("lockunspent", `true "${LOCK_EXAMPLE}"`) +
      "\nAs a JSON-RPC call\n" + helpExampleRpc("listlockunspent", ""),
  },
  {
    name: "getrawchangeaddress",
    description:
      "Returns a new Bitcoin address, for receiving change.\nThis is for use with raw transactions, NOT normal use.\n",
    args: [addressType("set by -changetype")],
    result: { type: "str", key: "address", description: "The address" },
    examples: helpExampleCli("getrawchangeaddress", "") + helpExampleRpc("getrawchangeaddress", ""),
  },
  {
    name: "getaddressinfo",
    description:
      "\nReturn information about the given bitcoin address.\nSome of the information will only be present if the address is in the active wallet.\n",
    args: [{
      name: "address",
      type: "str",
      description: "The bitcoin address for which to get information.",
    }],
    result: anyObject,
    examples: helpExampleCli("getaddressinfo", `"${EXAMPLE_ADDRESS}"`) +
      helpExampleRpc("getaddressinfo", `"${EXAMPLE_ADDRESS}"`),
  },
  {
    name: "getbalance",
    description:
      "\nReturns the total available balance.\nThe available balance is what the wallet considers currently spendable, and is\nthus affected by options which limit spendability such as -spendzeroconfchange.\n",
    args: [
      {
        name: "dummy",
        type: "str",
        optional: true,
        description: 'Remains for backward compatibility. Must be excluded or set to "*".',
      },
      {
        name: "minconf",
        type: "num",
        default: 0,
        description: "Only include transactions confirmed at least this many times.",
      },
      { name: "include_watchonly", type: "bool", default: true, description: "No longer used" },
      {
        name: "avoid_reuse",
        type: "bool",
        default: true,
        description:
          "(only available if avoid_reuse wallet flag is set) Do not include balance in dirty outputs; addresses are considered dirty if they have previously been used in a transaction.",
      },
    ],
    result: { type: "amount", description: "The total amount in BTC received for this wallet." },
    examples: helpExampleCli("getbalance", "") + helpExampleRpc("getbalance", ""),
  },
  {
    name: "getbalances",
    description: "Returns an object with all balances in BTC.\n",
    result: {
      type: "obj",
      description: "",
      inner: [
        {
          type: "obj",
          key: "mine",
          description: "balances from outputs that the wallet can sign",
          inner: [
            {
              type: "amount",
              key: "trusted",
              description: "trusted balance (outputs created by the wallet or confirmed outputs)",
            },
            {
              type: "amount",
              key: "untrusted_pending",
              description:
                "untrusted pending balance (outputs created by others that are in the mempool)",
            },
            {
              type: "amount",
              key: "immature",
              description: "balance from immature coinbase outputs",
            },
            {
              type: "amount",
              key: "used",
              optional: true,
              description:
                "(only present if avoid_reuse is set) balance from coins sent to addresses that were previously spent from (potentially privacy violating)",
            },
          ],
        },
        lastProcessed,
      ],
    },
    examples: helpExampleCli("getbalances", "") + helpExampleRpc("getbalances", ""),
  },
  {
    name: "sendtoaddress",
    description:
      "Send an amount to a given address.\nRequires wallet passphrase to be set with walletpassphrase call if wallet is encrypted.\n",
    args: [
      { name: "address", type: "str", description: "The bitcoin address to send to." },
      { name: "amount", type: "amount", description: "The amount in BTC to send. eg 0.1" },
      {
        name: "comment",
        type: "str",
        optional: true,
        description:
          "A comment used to store what the transaction is for.\nThis is not part of the transaction, just kept in your wallet.",
      },
      {
        name: "comment_to",
        type: "str",
        optional: true,
        description:
          "A comment to store the name of the person or organization\nto which you're sending the transaction. This is not part of the \ntransaction, just kept in your wallet.",
      },
      {
        name: "subtractfeefromamount",
        type: "bool",
        default: false,
        description:
          "The fee will be deducted from the amount being sent.\nThe recipient will receive less bitcoins than you enter in the amount field.",
      },
      {
        name: "replaceable",
        type: "bool",
        defaultHint: "wallet default",
        description: "Signal that this transaction can be replaced by a transaction (BIP 125)",
      },
      confTarget,
      estimateMode,
      {
        name: "avoid_reuse",
        type: "bool",
        default: true,
        description:
          "(only available if avoid_reuse wallet flag is set) Avoid spending from dirty addresses; addresses are considered\ndirty if they have previously been used in a transaction. If true, this also activates avoidpartialspends, grouping outputs by their addresses.",
      },
      feeRate,
      {
        name: "verbose",
        type: "bool",
        default: false,
        description: "If true, return extra information about the transaction.",
      },
    ],
    result: [
      { ...txidResult, cond: "if verbose is not set or set to false" },
      {
        type: "obj",
        cond: "if verbose is set to true",
        description: "",
        inner: [
          { type: "hex", key: "txid", description: "The transaction id." },
          { type: "str", key: "fee_reason", description: "The transaction fee reason." },
        ],
      },
    ],
    examples: helpExampleCli("sendtoaddress", `"${EXAMPLE_ADDRESS}" 0.1`) +
      helpExampleRpc("sendtoaddress", `"${EXAMPLE_ADDRESS}", 0.1`),
  },
  {
    name: "sendmany",
    description:
      "Send multiple times. Amounts are double-precision floating point numbers.\nRequires wallet passphrase to be set with walletpassphrase call if wallet is encrypted.\n",
    args: [
      {
        name: "dummy",
        type: "str",
        defaultHint: '""',
        description: 'Must be set to "" for backwards compatibility.',
      },
      {
        name: "amounts",
        type: "obj_user_keys",
        description: "The addresses and amounts",
        inner: [{
          name: "address",
          type: "amount",
          description:
            "The bitcoin address is the key, the numeric amount (can be string) in BTC is the value",
        }],
      },
      { name: "minconf", type: "num", optional: true, description: "Ignored dummy value" },
      { name: "comment", type: "str", optional: true, description: "A comment" },
      {
        name: "subtractfeefrom",
        type: "arr",
        optional: true,
        description:
          "The addresses.\nThe fee will be equally deducted from the amount of each selected address.\nThose recipients will receive less bitcoins than you enter in their corresponding amount field.\nIf no addresses are specified here, the sender pays the fee.",
        inner: [{
          name: "address",
          type: "str",
          optional: true,
          description: "Subtract fee from this address",
        }],
      },
      {
        name: "replaceable",
        type: "bool",
        defaultHint: "wallet default",
        description: "Signal that this transaction can be replaced by a transaction (BIP 125)",
      },
      confTarget,
      estimateMode,
      feeRate,
      {
        name: "verbose",
        type: "bool",
        default: false,
        description: "If true, return extra information about the transaction.",
      },
    ],
    result: [
      {
        type: "hex",
        cond: "if verbose is not set or set to false",
        description:
          "The transaction id for the send. Only 1 transaction is created regardless of\nthe number of addresses.",
      },
      {
        type: "obj",
        cond: "if verbose is set to true",
        description: "",
        inner: [
          {
            type: "hex",
            key: "txid",
            description:
              "The transaction id for the send. Only 1 transaction is created regardless of\nthe number of addresses.",
          },
          { type: "str", key: "fee_reason", description: "The transaction fee reason." },
        ],
      },
    ],
    examples: helpExampleCli(
      "sendmany",
      '"" "{\\"bcrt1q09vm5lfy0j5reeulh4x5752q25uqqvz34hufdl\\":0.01}"',
    ),
  },
  {
    name: "listunspent",
    description:
      "\nReturns array of unspent transaction outputs\nwith between minconf and maxconf (inclusive) confirmations.\nOptionally filter to only include txouts paid to specified addresses.\n",
    args: [
      {
        name: "minconf",
        type: "num",
        default: 1,
        description: "The minimum confirmations to filter",
      },
      {
        name: "maxconf",
        type: "num",
        default: 9999999,
        description: "The maximum confirmations to filter",
      },
      {
        name: "addresses",
        type: "arr",
        default: [],
        description: "The bitcoin addresses to filter",
        inner: [{ name: "address", type: "str", optional: true, description: "bitcoin address" }],
      },
      {
        name: "include_unsafe",
        type: "bool",
        default: true,
        description:
          'Include outputs that are not safe to spend\nSee description of "safe" attribute below.',
      },
      {
        name: "query_options",
        type: "obj",
        optional: true,
        description: "",
        inner: [{
          name: "minimumAmount",
          type: "amount",
          default: "0",
          description: "Minimum value of each UTXO in BTC",
        }],
      },
    ],
    result: { type: "arr", description: "", inner: [anyObject] },
    examples: helpExampleCli("listunspent", "") + helpExampleRpc("listunspent", ""),
  },
  {
    name: "listtransactions",
    description:
      "\nIf a label name is provided, this will return only incoming transactions paying to addresses with the specified label.\n\nReturns up to 'count' most recent transactions skipping the first 'from' transactions.\n",
    args: [
      {
        name: "label|dummy",
        type: "str",
        optional: true,
        description:
          'If set, should be a valid label name to return only incoming transactions\nwith the specified label, or "*" to disable filtering and return all transactions.',
      },
      {
        name: "count",
        type: "num",
        default: 10,
        description: "The number of transactions to return",
      },
      { name: "skip", type: "num", default: 0, description: "The number of transactions to skip" },
      { name: "include_watchonly", type: "bool", default: true, description: "No longer used" },
    ],
    result: { type: "arr", description: "", inner: [anyObject] },
    examples: helpExampleCli("listtransactions", "") +
      helpExampleRpc("listtransactions", '"*", 20, 100'),
  },
  {
    name: "listsinceblock",
    description:
      '\nGet all transactions in blocks since block [blockhash], or all transactions if omitted.\nIf "blockhash" is no longer a part of the main chain, transactions from the fork point onward are included.\nAdditionally, if include_removed is set, transactions affecting the wallet which were removed are returned in the "removed" array.\n',
    args: [
      {
        name: "blockhash",
        type: "str",
        optional: true,
        description:
          "If set, the block hash to list transactions since, otherwise list all transactions.",
      },
      {
        name: "target_confirmations",
        type: "num",
        default: 1,
        description:
          "Return the nth block hash from the main chain. e.g. 1 would mean the best block hash. Note: this is not used as a filter, but only affects [lastblock] in the return value",
      },
      { name: "include_watchonly", type: "bool", default: true, description: "No longer used" },
      {
        name: "include_removed",
        type: "bool",
        default: true,
        description:
          'Show transactions that were removed due to a reorg in the "removed" array\n(not guaranteed to work on pruned nodes)',
      },
      {
        name: "include_change",
        type: "bool",
        default: false,
        description: "Also add entries for change outputs.\n",
      },
      {
        name: "label",
        type: "str",
        optional: true,
        description:
          "Return only incoming transactions paying to addresses with the specified label.\n",
      },
    ],
    result: anyObject,
    examples: helpExampleCli("listsinceblock", "") + helpExampleRpc("listsinceblock", ""),
  },
  {
    name: "gettransaction",
    description: "\nGet detailed information about in-wallet transaction <txid>\n",
    args: [
      { name: "txid", type: "str", description: "The transaction id" },
      { name: "include_watchonly", type: "bool", default: true, description: "No longer used" },
      {
        name: "verbose",
        type: "bool",
        default: false,
        description:
          "Whether to include a `decoded` field containing the decoded transaction (equivalent to RPC decoderawtransaction)",
      },
    ],
    result: anyObject,
    examples: helpExampleCli("gettransaction", `"${EXAMPLE_TXID}"`) +
      helpExampleRpc("gettransaction", `"${EXAMPLE_TXID}"`),
  },
  {
    name: "keypoolrefill",
    description:
      // Core's text, with this wallet's keypool of 100 (Core's is 1000, or -keypool, not taken here).
      'Refills each descriptor keypool in the wallet up to the specified number of new keys.\nBy default, descriptor wallets have 4 active ranged descriptors ("legacy", "p2sh-segwit", "bech32", "bech32m"), each with 100 entries.\n\nRequires wallet passphrase to be set with walletpassphrase call if wallet is encrypted.\n',
    args: [{
      name: "newsize",
      type: "num",
      defaultHint: "100",
      description: "The new keypool size",
    }],
    result: { type: "none", description: "" },
    examples: helpExampleCli("keypoolrefill", "") + helpExampleRpc("keypoolrefill", ""),
  },
  {
    name: "signmessage",
    description:
      "Sign a message with the private key of an address\nRequires wallet passphrase to be set with walletpassphrase call if wallet is encrypted.\n",
    args: [
      {
        name: "address",
        type: "str",
        description: "The bitcoin address to use for the private key.",
      },
      { name: "message", type: "str", description: "The message to create a signature of." },
    ],
    result: {
      type: "str",
      key: "signature",
      description: "The signature of the message encoded in base 64",
    },
    examples: messageExamples("signmessage"),
  },
  {
    name: "walletdisplayaddress",
    description: "Display address on an external signer for verification.",
    args: [{ name: "address", type: "str", description: "bitcoin address to display" }],
    result: {
      type: "obj",
      description: "",
      inner: [{
        type: "str",
        key: "address",
        description: "The address as confirmed by the signer",
      }],
    },
    // Core's RPCExamples{""}: no Examples section.
    examples: "",
  },
  {
    name: "signrawtransactionwithwallet",
    description:
      "\nSign inputs for raw transaction (serialized, hex-encoded).\nThe second optional argument (may be null) is an array of previous transaction outputs that\nthis transaction depends on but may not yet be in the block chain.\nRequires wallet passphrase to be set with walletpassphrase call if wallet is encrypted.\n",
    args: [
      { name: "hexstring", type: "str", description: "The transaction hex string" },
      {
        name: "prevtxs",
        type: "arr",
        optional: true,
        description: "The previous dependent transaction outputs",
        inner: [outpointArg(
          { name: "scriptPubKey", type: "hex", description: "The output script" },
          { name: "amount", type: "amount", description: "The amount spent" },
        )],
      },
      {
        name: "sighashtype",
        type: "str",
        default: "DEFAULT",
        description:
          'The signature hash type. Must be one of\n       "DEFAULT"\n       "ALL"\n       "NONE"\n       "SINGLE"\n       "ALL|ANYONECANPAY"\n       "NONE|ANYONECANPAY"\n       "SINGLE|ANYONECANPAY"',
      },
    ],
    result: anyObject,
    examples: helpExampleCli("signrawtransactionwithwallet", '"myhex"') +
      helpExampleRpc("signrawtransactionwithwallet", '"myhex"'),
  },
  {
    name: "walletpassphrasechange",
    description: "\nChanges the wallet passphrase from 'oldpassphrase' to 'newpassphrase'.\n",
    args: [
      { name: "oldpassphrase", type: "str", description: "The current passphrase" },
      { name: "newpassphrase", type: "str", description: "The new passphrase" },
    ],
    result: { type: "none", description: "" },
    examples: helpExampleCli("walletpassphrasechange", '"old one" "new one"') +
      helpExampleRpc("walletpassphrasechange", '"old one", "new one"'),
  },
  {
    name: "walletpassphrase",
    description:
      "\nStores the wallet decryption key in memory for 'timeout' seconds.\nThis is needed prior to performing transactions related to private keys such as sending bitcoins\n\nNote:\nIssuing the walletpassphrase command while the wallet is already unlocked will set a new unlock\ntime that overrides the old one.\n",
    args: [
      { name: "passphrase", type: "str", description: "The wallet passphrase" },
      {
        name: "timeout",
        type: "num",
        description:
          "The time to keep the decryption key in seconds; capped at 100000000 (~3 years).",
      },
    ],
    result: { type: "none", description: "" },
    examples: "\nUnlock the wallet for 60 seconds\n" +
      helpExampleCli("walletpassphrase", '"my pass phrase" 60') +
      "\nLock the wallet again (before 60 seconds)\n" + helpExampleCli("walletlock", "") +
      "\nAs a JSON-RPC call\n" + helpExampleRpc("walletpassphrase", '"my pass phrase", 60'),
  },
  {
    name: "walletlock",
    description:
      "\nRemoves the wallet encryption key from memory, locking the wallet.\nAfter calling this method, you will need to call walletpassphrase again\nbefore being able to call any methods which require the wallet to be unlocked.\n",
    result: { type: "none", description: "" },
    examples: helpExampleCli("walletlock", "") + helpExampleRpc("walletlock", ""),
  },
  {
    name: "encryptwallet",
    description:
      "\nEncrypts the wallet with 'passphrase'. This is for first time encryption.\nAfter this, any calls that interact with private keys such as sending or signing \nwill require the passphrase to be set prior to making these calls.\nUse the walletpassphrase call for this, and then walletlock call.\nIf the wallet is already encrypted, use the walletpassphrasechange call.\n** IMPORTANT **\nFor security reasons, the encryption process will generate a new HD seed, resulting\nin the creation of a fresh set of active descriptors. Therefore, it is crucial to\nsecurely back up the newly generated wallet file using the backupwallet RPC.\n",
    args: [{
      name: "passphrase",
      type: "str",
      description:
        "The pass phrase to encrypt the wallet with. It must be at least 1 character, but should be long.",
    }],
    result: { type: "str", description: "A string with further instructions" },
    examples: helpExampleCli("encryptwallet", '"my pass phrase"') +
      helpExampleRpc("encryptwallet", '"my pass phrase"'),
  },
  {
    name: "rescanblockchain",
    description:
      '\nRescan the local blockchain for wallet related transactions.\nNote: Use "getwalletinfo" to query the scanning progress.\nThe rescan is significantly faster if block filters are available\n(using startup option "-blockfilterindex=1").\n',
    args: [
      {
        name: "start_height",
        type: "num",
        default: 0,
        description: "block height where the rescan should start",
      },
      {
        name: "stop_height",
        type: "num",
        optional: true,
        description:
          "the last block height that should be scanned. If none is provided it will rescan up to the tip at return time of this call.",
      },
    ],
    result: {
      type: "obj",
      description: "",
      inner: [
        {
          type: "num",
          key: "start_height",
          description: "The block height where the rescan started (the requested height or 0)",
        },
        {
          type: "num",
          key: "stop_height",
          description:
            "The height of the last rescanned block. May be null in rare cases if there was a reorg and the call didn't scan any blocks because they were already scanned in the background.",
        },
      ],
    },
    examples: helpExampleCli("rescanblockchain", "100000 120000") +
      helpExampleRpc("rescanblockchain", "100000, 120000"),
  },
  {
    name: "removeprunedfunds",
    description:
      "Deletes the specified transaction from the wallet. Meant for use with pruned wallets and as a companion to importprunedfunds. This will affect wallet balances.\n",
    args: [{
      name: "txid",
      type: "hex",
      description: "The hex-encoded id of the transaction you are deleting",
    }],
    result: { type: "none", description: "" },
    examples: helpExampleCli("removeprunedfunds", `"${PRUNED_EXAMPLE_TXID}"`) +
      "\nAs a JSON-RPC call\n" + helpExampleRpc("removeprunedfunds", `"${PRUNED_EXAMPLE_TXID}"`),
  },
  {
    name: "createwalletdescriptor",
    description:
      "Creates the wallet's descriptor for the given address type. The address type must be one that the wallet does not already have a descriptor for.\nRequires wallet passphrase to be set with walletpassphrase call if wallet is encrypted.\n",
    args: [
      {
        name: "type",
        type: "str",
        description:
          'The address type the descriptor will produce. Options are "legacy", "p2sh-segwit", "bech32", and "bech32m".',
      },
      {
        name: "options",
        type: "obj_named_params",
        optional: true,
        description: "",
        inner: [
          {
            name: "internal",
            type: "bool",
            defaultHint:
              "Both external and internal will be generated unless this parameter is specified",
            description:
              "Whether to only make one descriptor that is internal (if parameter is true) or external (if parameter is false)",
          },
          {
            name: "hdkey",
            type: "str",
            defaultHint: "The HD key used by all other active descriptors",
            description:
              "The HD key that the wallet knows the private key of, listed using 'gethdkeys', to use for this descriptor's key",
          },
        ],
      },
    ],
    result: {
      type: "obj",
      description: "",
      inner: [{
        type: "arr",
        key: "descs",
        description: "The public descriptors that were added to the wallet",
        inner: [{ type: "str", description: "" }],
      }],
    },
    examples: helpExampleCli("createwalletdescriptor", "bech32m") +
      helpExampleRpc("createwalletdescriptor", "bech32m"),
  },
  {
    name: "setwalletflag",
    description: "\nChange the state of the given wallet flag for a wallet.\n",
    args: [
      {
        name: "flag",
        type: "str",
        description: "The name of the flag to change. Current available flags: avoid_reuse",
      },
      { name: "value", type: "bool", default: true, description: "The new state." },
    ],
    result: {
      type: "obj",
      description: "",
      inner: [
        { type: "str", key: "flag_name", description: "The name of the flag that was modified" },
        { type: "bool", key: "flag_state", description: "The new state of the flag" },
        {
          type: "str",
          key: "warnings",
          optional: true,
          description: "Any warnings associated with the change",
        },
      ],
    },
    examples: helpExampleCli("setwalletflag", "avoid_reuse") +
      helpExampleRpc("setwalletflag", '"avoid_reuse"'),
  },
  {
    name: "abortrescan",
    description:
      'Stops current wallet rescan triggered by an RPC call, e.g. by a rescanblockchain call.\nNote: Use "getwalletinfo" to query the scanning progress.\n',
    result: { type: "bool", description: "Whether the abort was successful" },
    examples: "\nImport a private key\n" + helpExampleCli("rescanblockchain", "") +
      "\nAbort the running wallet rescan\n" + helpExampleCli("abortrescan", "") +
      "\nAs a JSON-RPC call\n" + helpExampleRpc("abortrescan", ""),
  },
  {
    name: "backupwallet",
    description:
      "\nSafely copies the current wallet file to the specified destination, which can either be a directory or a path with a filename.\n",
    args: [{ name: "destination", type: "str", description: "The destination directory or file" }],
    result: { type: "none", description: "" },
    examples: helpExampleCli("backupwallet", '"backup.dat"') +
      helpExampleRpc("backupwallet", '"backup.dat"'),
  },
  {
    name: "abandontransaction",
    description:
      '\nMark in-wallet transaction <txid> as abandoned\nThis will mark this transaction and all its in-wallet descendants as abandoned which will allow\nfor their inputs to be respent.  It can be used to replace "stuck" or evicted transactions.\nIt only works on transactions which are not included in a block and are not currently in the mempool.\nIt has no effect on transactions which are already abandoned.\n',
    args: [{ name: "txid", type: "hex", description: "The transaction id" }],
    result: { type: "none", description: "" },
    examples: helpExampleCli("abandontransaction", `"${EXAMPLE_TXID}"`) +
      helpExampleRpc("abandontransaction", `"${EXAMPLE_TXID}"`),
  },
  {
    name: "settxfee",
    description:
      "\nSet the transaction fee rate in BTC/kvB for this wallet. Overrides the global -paytxfee command line parameter.\nCan be deactivated by passing 0 as the fee. In that case automatic fee selection will be used by default.\n",
    args: [{ name: "amount", type: "amount", description: "The transaction fee rate in BTC/kvB" }],
    result: { type: "bool", description: "Returns true if successful" },
    examples: helpExampleCli("settxfee", "0.00001") + helpExampleRpc("settxfee", "0.00001"),
    route: "deprecated",
  },
  {
    name: "listdescriptors",
    description: "List all descriptors present in a wallet.\n",
    args: [{
      name: "private",
      type: "bool",
      default: false,
      description: "Show private descriptors.",
    }],
    result: anyObject,
    examples: helpExampleCli("listdescriptors", "") + helpExampleCli("listdescriptors", "true") +
      helpExampleRpc("listdescriptors", "true"),
  },
  {
    name: "gethdkeys",
    description: "List all BIP 32 HD keys in the wallet and which descriptors use them.\n",
    args: [{
      name: "options",
      type: "obj_named_params",
      optional: true,
      description: "",
      inner: [
        {
          name: "active_only",
          type: "bool",
          default: false,
          description: "Show the keys for only active descriptors",
        },
        { name: "private", type: "bool", default: false, description: "Show private keys" },
      ],
    }],
    result: {
      type: "arr",
      description: "",
      inner: [{
        type: "obj",
        description: "",
        inner: [
          { type: "str", key: "xpub", description: "The extended public key" },
          {
            type: "bool",
            key: "has_private",
            description: "Whether the wallet has the private key for this xpub",
          },
          {
            type: "str",
            key: "xprv",
            optional: true,
            description: 'The extended private key if "private" is true',
          },
          {
            type: "arr",
            key: "descriptors",
            description: "Array of descriptor objects that use this HD key",
            inner: [{
              type: "obj",
              description: "",
              inner: [
                { type: "str", key: "desc", description: "Descriptor string representation" },
                {
                  type: "bool",
                  key: "active",
                  description:
                    "Whether this descriptor is currently used to generate new addresses",
                },
              ],
            }],
          },
        ],
      }],
    },
    examples: helpExampleCli("gethdkeys", "") + helpExampleRpc("gethdkeys", "") +
      // Core's named examples give the booleans as strings.
      helpExampleCliNamed("gethdkeys", [["active_only", "true"], ["private", "true"]]) +
      helpExampleRpcNamed("gethdkeys", [["active_only", "true"], ["private", "true"]]),
  },
];

/**
 * Core's `EnsureUniqueWalletName`: the endpoint's wallet, which a
 * `wallet_name` given too must name; else `wallet_name`, which must then
 * be given (-8 otherwise, whatever wallets are loaded).
 */
function uniqueWalletName(named: string | undefined, given: Json): string {
  const name = given === null ? undefined : String(given);
  if (named !== undefined) {
    if (name !== undefined && name !== named) {
      throw new RpcError(
        RpcErrorCode.INVALID_PARAMETER,
        "The RPC endpoint wallet and the wallet name parameter specify different wallets",
      );
    }
    return named;
  }
  if (name === undefined) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      "Either the RPC endpoint wallet or the wallet name parameter must be provided",
    );
  }
  return name;
}

/**
 * migratewallet on wallet `name` (Core's `MigrateLegacyToDescriptor`): a
 * loaded wallet is a descriptor wallet (only those load, here as in Core
 * v30), so -4 `Error: This wallet is already a descriptor wallet`; one
 * not loaded is looked for in each wallet process's directory, the first
 * that finds a path answering (`Error: Wallet does not exist` from none).
 */
async function migrate(router: WalletRouter, name: string): Promise<Json> {
  if ((await router.wallets()).has(name)) {
    throw new RpcError(RpcErrorCode.WALLET_ERROR, ALREADY_DESCRIPTOR);
  }
  const loaders = router.loaders.length > 0 ? router.loaders : [await router.firstOrSpawned()];
  let missing: unknown;
  for (const loader of loaders) {
    try {
      // The passphrase stays here: it would open a legacy wallet, which no wallet process reads.
      return await router.call(loader, "migratewallet", [name]);
    } catch (error) {
      if (!(error instanceof RpcError && error.message === NO_SUCH_WALLET)) throw error;
      missing = error;
    }
  }
  throw missing;
}

/** Runs `spec`'s method through `router`. */
async function route(
  router: WalletRouter,
  spec: WalletMethodSpec,
  params: Params,
  named: string | undefined,
  deprecated: ReadonlySet<string>,
): Promise<Json> {
  if (spec.route === "deprecated") {
    const wallet = await router.resolve(named);
    if (!deprecated.has(spec.name)) {
      throw new RpcError(
        RpcErrorCode.METHOD_DEPRECATED,
        `${spec.name} is deprecated and will be fully removed in v31.0.\n` +
          `To use ${spec.name} restart bitcoind with -deprecatedrpc=${spec.name}.`,
      );
    }
    return await router.call(
      wallet.loader,
      spec.name,
      crossingArgs(spec.args ?? [], params),
      wallet.name,
    );
  }
  const args = crossingArgs(spec.args ?? [], params);
  switch (spec.route ?? "wallet") {
    // In load order (each wallet process's, in the order they attached), as bitcoind lists them.
    case "list":
      return [...(await router.wallets()).keys()];
    // Each wallet process's directory, gathered (a name once, sorted).
    case "dir": {
      const names = new Set<string>();
      for (const loader of router.loaders) {
        const found = await router.call(loader, spec.name, args);
        for (const wallet of asArr(asObj(found).get("wallets"))) {
          names.add(asStr(asObj(wallet).get("name")));
        }
      }
      const wallets = [...names].sort().map((name) => new JsonObject([["name", name]]));
      return new JsonObject([["wallets", wallets]]);
    }
    case "load": {
      const name = String(args[0]);
      const holder = (await router.wallets()).get(name);
      if (spec.name === "loadwallet" && holder !== undefined) {
        throw new RpcError(
          RpcErrorCode.WALLET_ALREADY_LOADED,
          `Wallet "${name}" is already loaded.`,
        );
      }
      // A name loaded in one wallet process: creating or restoring it goes to that process, which
      // refuses as Core's one process does, rather than to another that would make a second one.
      return await router.call(holder ?? await router.firstOrSpawned(), spec.name, args);
    }
    case "unload": {
      const name = uniqueWalletName(named, args[0]);
      const wallet = await router.resolve(name);
      return await router.call(wallet.loader, spec.name, args, wallet.name);
    }
    case "migrate":
      return await migrate(router, uniqueWalletName(named, args[0]));
    case "wallet":
      return await router.callWallet(spec.name, args, named);
  }
}

/**
 * The wallet methods, routed through `router`; `deprecated` names the
 * deprecated ones `-deprecatedrpc` turns back on.
 */
export function walletRpcMethods(
  router: WalletRouter,
  deprecated: ReadonlySet<string> = new Set(),
): RpcMethod[] {
  return SPECS.map((spec) =>
    defineMethod({
      name: spec.name,
      category: "wallet",
      description: spec.description,
      args: spec.args,
      result: spec.result,
      examples: spec.examples,
      handler: (params, ctx) => route(router, spec, params, ctx.walletName, deprecated),
    })
  );
}
