/**
 * Help texts exactly as Core's `RPCHelpMan::ToString` renders them. The
 * expected texts were derived from Bitcoin Core v30.0's sources (the specs of
 * the methods below and the rendering in `rpc/util.cpp`); getblockcount's is
 * the one captured from the real binary (reference §8).
 */
import { assertEquals, assertThrows } from "../../assert.ts";
import { controlMethods } from "../../../components/rpc/control.ts";
import {
  helpExampleCli,
  helpExampleCliNamed,
  helpExampleRpc,
  helpExampleRpcNamed,
} from "../../../components/rpc/help.ts";
import { writeJson } from "../../../components/rpc/json.ts";
import { defineMethod, MethodTable, type RpcMethod } from "../../../components/rpc/methods.ts";
import { stubMethods } from "./stub_methods.ts";

const CURL = "> curl --user myusername --data-binary '";
const CURL_END = "' -H 'content-type: application/json' http://127.0.0.1:8332/\n";

function table(extra: RpcMethod[] = []): MethodTable {
  const t = new MethodTable();
  for (const m of controlMethods({ table: t, requestShutdown: () => {}, startTime: 0 })) t.add(m);
  for (const m of [...stubMethods(), ...extra]) t.add(m);
  return t;
}

/** A help row: the left part padded to `width`, then the description. */
const row = (width: number, left: string, right: string) => left.padEnd(width) + right + "\n";
/** A continuation line of a description. */
const more = (width: number, text: string) => " ".repeat(width) + text + "\n";

Deno.test("getblockcount: the text captured from bitcoind", () => {
  assertEquals(
    table().help("getblockcount"),
    'getblockcount\n\nReturns the height of the most-work fully-validated chain.\nThe genesis block has height 0.\n\nResult:\nn    (numeric) The current block count\n\nExamples:\n> bitcoin-cli getblockcount \n> curl --user myusername --data-binary \'{"jsonrpc": "2.0", "id": "curltest", "method": "getblockcount", "params": []}\' -H \'content-type: application/json\' http://127.0.0.1:8332/\n',
  );
});

Deno.test("getblockheader: default, alternative results, optional keys", () => {
  const hash = "00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09";
  const expected = 'getblockheader "blockhash" ( verbose )\n\n' +
    "If verbose is false, returns a string that is serialized, hex-encoded data for blockheader 'hash'.\n" +
    "If verbose is true, returns an Object with information about blockheader <hash>.\n" +
    "\nArguments:\n" +
    "1. blockhash    (string, required) The block hash\n" +
    "2. verbose      (boolean, optional, default=true) true for a json object, false for the hex-encoded data\n" +
    "\nResult (for verbose = true):\n" +
    row(34, "{", "(json object)") +
    row(34, '  "hash" : "hex",', "(string) the block hash (same as provided)") +
    row(
      34,
      '  "confirmations" : n,',
      "(numeric) The number of confirmations, or -1 if the block is not on the main chain",
    ) +
    row(34, '  "height" : n,', "(numeric) The block height or index") +
    row(34, '  "version" : n,', "(numeric) The block version") +
    row(34, '  "versionHex" : "hex",', "(string) The block version formatted in hexadecimal") +
    row(34, '  "merkleroot" : "hex",', "(string) The merkle root") +
    row(34, '  "time" : xxx,', "(numeric) The block time expressed in UNIX epoch time") +
    row(
      34,
      '  "mediantime" : xxx,',
      "(numeric) The median block time expressed in UNIX epoch time",
    ) +
    row(34, '  "nonce" : n,', "(numeric) The nonce") +
    row(
      34,
      '  "bits" : "hex",',
      "(string) nBits: compact representation of the block difficulty target",
    ) +
    row(34, '  "target" : "hex",', "(string) The difficulty target") +
    row(34, '  "difficulty" : n,', "(numeric) The difficulty") +
    row(
      34,
      '  "chainwork" : "hex",',
      "(string) Expected number of hashes required to produce the current chain",
    ) +
    row(34, '  "nTx" : n,', "(numeric) The number of transactions in the block") +
    row(
      34,
      '  "previousblockhash" : "hex",',
      "(string, optional) The hash of the previous block (if available)",
    ) +
    row(
      34,
      '  "nextblockhash" : "hex"',
      "(string, optional) The hash of the next block (if available)",
    ) +
    "}\n" +
    "\nResult (for verbose=false):\n" +
    "\"hex\"    (string) A string that is serialized, hex-encoded data for block 'hash'\n" +
    "\nExamples:\n" +
    `> bitcoin-cli getblockheader "${hash}"\n` +
    `${CURL}{"jsonrpc": "2.0", "id": "curltest", "method": "getblockheader", "params": ["${hash}"]}${CURL_END}`;
  assertEquals(table().help("getblockheader"), expected);
});

Deno.test("getchaintips: an array of objects, a multi-line description", () => {
  const getchaintips = defineMethod({
    name: "getchaintips",
    category: "blockchain",
    description: "Return information about all known tips in the block tree," +
      " including the main chain as well as orphaned branches.\n",
    result: {
      type: "arr",
      inner: [{
        type: "obj",
        inner: [
          { type: "num", key: "height", description: "height of the chain tip" },
          { type: "hex", key: "hash", description: "block hash of the tip" },
          {
            type: "num",
            key: "branchlen",
            description:
              "zero for main chain, otherwise length of branch connecting the tip to the main chain",
          },
          {
            type: "str",
            key: "status",
            description: 'status of the chain, "active" for the main chain\n' +
              "Possible values for status:\n" +
              '1.  "invalid"               This branch contains at least one invalid block\n' +
              '2.  "headers-only"          Not all blocks for this branch are available, but the headers are valid\n' +
              '3.  "valid-headers"         All blocks are available for this branch, but they were never fully validated\n' +
              '4.  "valid-fork"            This branch is not part of the active chain, but is fully validated\n' +
              '5.  "active"                This is the tip of the active main chain, which is certainly valid',
          },
        ],
      }],
    },
    examples: helpExampleCli("getchaintips", "") + helpExampleRpc("getchaintips", ""),
    handler: () => [],
  });
  const expected = "getchaintips\n\n" +
    "Return information about all known tips in the block tree, including the main chain as well as orphaned branches.\n" +
    "\nResult:\n" +
    row(25, "[", "(json array)") +
    row(25, "  {", "(json object)") +
    row(25, '    "height" : n,', "(numeric) height of the chain tip") +
    row(25, '    "hash" : "hex",', "(string) block hash of the tip") +
    row(
      25,
      '    "branchlen" : n,',
      "(numeric) zero for main chain, otherwise length of branch connecting the tip to the main chain",
    ) +
    row(25, '    "status" : "str"', '(string) status of the chain, "active" for the main chain') +
    more(25, "Possible values for status:") +
    more(25, '1.  "invalid"               This branch contains at least one invalid block') +
    more(
      25,
      '2.  "headers-only"          Not all blocks for this branch are available, but the headers are valid',
    ) +
    more(
      25,
      '3.  "valid-headers"         All blocks are available for this branch, but they were never fully validated',
    ) +
    more(
      25,
      '4.  "valid-fork"            This branch is not part of the active chain, but is fully validated',
    ) +
    more(
      25,
      '5.  "active"                This is the tip of the active main chain, which is certainly valid',
    ) +
    "  },\n  ...\n]\n" +
    "\nExamples:\n> bitcoin-cli getchaintips \n" +
    `${CURL}{"jsonrpc": "2.0", "id": "curltest", "method": "getchaintips", "params": []}${CURL_END}`;
  assertEquals(getchaintips.help, expected);
});

Deno.test("createrawtransaction: nested arrays, objects, user keys", () => {
  const createrawtransaction = defineMethod({
    name: "createrawtransaction",
    category: "rawtransactions",
    description: "Create a transaction spending the given inputs and creating new outputs.\n" +
      "Outputs can be addresses or data.\n" +
      "Returns hex-encoded raw transaction.\n" +
      "Note that the transaction's inputs are not signed, and\n" +
      "it is not stored in the wallet or transmitted to the network.\n",
    args: [
      {
        name: "inputs",
        type: "arr",
        description: "The inputs",
        inner: [{
          name: "",
          type: "obj",
          optional: true,
          description: "",
          inner: [
            { name: "txid", type: "hex", description: "The transaction id" },
            { name: "vout", type: "num", description: "The output number" },
            {
              name: "sequence",
              type: "num",
              defaultHint: "depends on the value of the 'replaceable' and 'locktime' arguments",
              description: "The sequence number",
            },
          ],
        }],
      },
      {
        name: "outputs",
        type: "arr",
        description: "The outputs specified as key-value pairs.\n" +
          "Each key may only appear once, i.e. there can only be one 'data' output, and no address may be duplicated.\n" +
          "At least one output of either type must be specified.\n" +
          "For compatibility reasons, a dictionary, which holds the key-value pairs directly, is also\n" +
          "                             accepted as second parameter.",
        skipTypeCheck: true,
        inner: [
          {
            name: "",
            type: "obj_user_keys",
            optional: true,
            description: "",
            inner: [{
              name: "address",
              type: "amount",
              description:
                "A key-value pair. The key (string) is the bitcoin address, the value (float or string) is the amount in BTC",
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
        ],
      },
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
    ],
    result: { type: "hex", key: "transaction", description: "hex string of the transaction" },
    examples: helpExampleCli(
      "createrawtransaction",
      '"[{\\"txid\\":\\"myid\\",\\"vout\\":0}]" "[{\\"address\\":0.01}]"',
    ) +
      helpExampleRpc(
        "createrawtransaction",
        '"[{\\"txid\\":\\"myid\\",\\"vout\\":0}]", "[{\\"address\\":0.01}]"',
      ),
    handler: () => "",
  });
  const w = 31;
  const expected =
    'createrawtransaction [{"txid":"hex","vout":n,"sequence":n},...] [{"address":amount,...},{"data":"hex"},...] ( locktime replaceable version )\n\n' +
    "Create a transaction spending the given inputs and creating new outputs.\n" +
    "Outputs can be addresses or data.\n" +
    "Returns hex-encoded raw transaction.\n" +
    "Note that the transaction's inputs are not signed, and\n" +
    "it is not stored in the wallet or transmitted to the network.\n" +
    "\nArguments:\n" +
    row(w, "1. inputs", "(json array, required) The inputs") +
    "     [\n" +
    row(w, "       {", "(json object)") +
    row(w, '         "txid": "hex",', "(string, required) The transaction id") +
    row(w, '         "vout": n,', "(numeric, required) The output number") +
    row(
      w,
      '         "sequence": n,',
      "(numeric, optional, default=depends on the value of the 'replaceable' and 'locktime' arguments) The sequence number",
    ) +
    "       },\n       ...\n     ]\n" +
    row(w, "2. outputs", "(json array, required) The outputs specified as key-value pairs.") +
    more(
      w,
      "Each key may only appear once, i.e. there can only be one 'data' output, and no address may be duplicated.",
    ) +
    more(w, "At least one output of either type must be specified.") +
    more(
      w,
      "For compatibility reasons, a dictionary, which holds the key-value pairs directly, is also",
    ) +
    more(w, "accepted as second parameter.") +
    "     [\n" +
    row(w, "       {", "(json object)") +
    row(
      w,
      '         "address": amount,',
      "(numeric or string, required) A key-value pair. The key (string) is the bitcoin address, the value (float or string) is the amount in BTC",
    ) +
    "         ...\n       },\n" +
    row(w, "       {", "(json object)") +
    row(
      w,
      '         "data": "hex",',
      '(string, required) A key-value pair. The key must be "data", the value is hex-encoded data that becomes a part of an OP_RETURN output',
    ) +
    "       },\n       ...\n     ]\n" +
    row(
      w,
      "3. locktime",
      "(numeric, optional, default=0) Raw locktime. Non-0 value also locktime-activates inputs",
    ) +
    row(
      w,
      "4. replaceable",
      "(boolean, optional, default=true) Marks this transaction as BIP125-replaceable.",
    ) +
    more(
      w,
      "Allows this transaction to be replaced by a transaction with higher fees. If provided, it is an error if explicit sequence numbers are incompatible.",
    ) +
    row(w, "5. version", "(numeric, optional, default=2) Transaction version") +
    "\nResult:\n" +
    '"hex"    (string) hex string of the transaction\n' +
    "\nExamples:\n" +
    '> bitcoin-cli createrawtransaction "[{\\"txid\\":\\"myid\\",\\"vout\\":0}]" "[{\\"address\\":0.01}]"\n' +
    `${CURL}{"jsonrpc": "2.0", "id": "curltest", "method": "createrawtransaction", "params": ` +
    `["[{\\"txid\\":\\"myid\\",\\"vout\\":0}]", "[{\\"address\\":0.01}]"]}${CURL_END}`;
  assertEquals(createrawtransaction.help, expected);
});

Deno.test("named-only arguments (obj_named_params)", () => {
  const m = defineMethod({
    name: "m",
    category: "test",
    description: "d",
    args: [
      { name: "conf_target", type: "num", default: 6, description: "Confirmation target" },
      {
        name: "options",
        type: "obj_named_params",
        optional: true,
        description: "",
        inner: [
          {
            name: "add_inputs",
            type: "bool",
            default: false,
            description: "Automatically include coins",
          },
          {
            name: "fee_rate",
            type: "amount",
            defaultHint: "not set",
            description: "Specify a fee rate",
          },
        ],
      },
    ],
    result: { type: "none", description: "" },
    handler: () => null,
  });
  assertEquals(
    m.help,
    'm ( conf_target {"add_inputs":bool,"fee_rate":amount,...} )\n\nd\n' +
      "\nArguments:\n" +
      "1. conf_target    (numeric, optional, default=6) Confirmation target\n" +
      "2. options        (json object, optional) Options object that can be used to pass named arguments, listed below.\n" +
      "\nNamed Arguments:\n" +
      "add_inputs    (boolean, optional, default=false) Automatically include coins\n" +
      "fee_rate      (numeric or string, optional, default=not set) Specify a fee rate\n" +
      "\nResult:\nnull    (json null)\n",
  );
});

Deno.test("the control methods' help texts", () => {
  const t = table();
  assertEquals(
    t.help("help"),
    'help ( "command" )\n\nList all commands, or get help for a specified command.\n' +
      "\nArguments:\n1. command    (string, optional, default=all commands) The command to get help on\n" +
      '\nResult:\n"str"    (string) The help text\n',
  );
  assertEquals(
    t.help("stop"),
    "stop\n\nRequest a graceful shutdown of Bitcoin Core.\n" +
      "\nResult:\n\"str\"    (string) A string with the content 'Bitcoin Core stopping'\n",
  );
  assertEquals(
    t.help("uptime"),
    "uptime\n\nReturns the total uptime of the server.\n" +
      "\nResult:\nn    (numeric) The number of seconds that the server has been running\n" +
      "\nExamples:\n> bitcoin-cli uptime \n" +
      `${CURL}{"jsonrpc": "2.0", "id": "curltest", "method": "uptime", "params": []}${CURL_END}`,
  );
  const args = Array.from({ length: 10 }, (_, i) => `"arg${i}"`).join(" ");
  assertEquals(
    t.help("echo"),
    `echo ( ${args} )\n\n` +
      "Simply echo back the input arguments. This command is for testing.\n" +
      "\nIt will return an internal bug report when arg9='trigger_internal_bug' is passed.\n" +
      "\nThe difference between echo and echojson is that echojson has argument conversion enabled in the " +
      "client-side table in bitcoin-cli and the GUI. There is no server-side difference.\n" +
      "\nArguments:\n" +
      Array.from({ length: 10 }, (_, i) => row(12, `${i + 1}. arg${i}`, "(string, optional)")).join(
        "",
      ),
  );
  assertEquals(t.help("echojson").split("\n")[0], `echojson ( ${args} )`);
});

Deno.test("help: every category in order, first lines only, hidden ones left out", () => {
  assertEquals(
    table().help(""),
    "== Blockchain ==\n" +
      'getblock "blockhash" ( verbosity )\n' +
      "getblockcount\n" +
      "getblockhash height\n" +
      'getblockheader "blockhash" ( verbose )\n' +
      "\n== Control ==\n" +
      "getrpcinfo\n" +
      'help ( "command" )\n' +
      "stop\n" +
      "uptime\n" +
      "\n== Rawtransactions ==\n" +
      'decoderawtransaction "hexstring" ( iswitness )\n' +
      "\n== Test ==\n" +
      "amount amount\n" +
      "waitforlatch\n" +
      "walletname",
  );
  assertEquals(table().help("nosuch"), "help: unknown command: nosuch");
  // Hidden methods still have their own help.
  assertEquals(table().help("echo").startsWith("echo ( "), true);
});

Deno.test("help dump_all_command_conversions: Core's argument map", () => {
  // Aliases are listed one by one; string arguments are flagged.
  const getblock = table().argMap().map((e) => writeJson(e)).filter((e) =>
    e.startsWith('["getblock",')
  );
  assertEquals(getblock, [
    '["getblock",0,"blockhash",true]',
    '["getblock",1,"verbosity",false]',
    '["getblock",1,"verbose",false]',
  ]);
});

Deno.test("example helpers", () => {
  assertEquals(helpExampleCli("getblockhash", "1000"), "> bitcoin-cli getblockhash 1000\n");
  assertEquals(
    helpExampleCliNamed("send", [["outputs", { "addr": 0.1 }], ["label", "my label"], ["n", 3], [
      "q",
      "it's",
    ]]),
    `> bitcoin-cli -named send outputs='{"addr":0.1}' label='my label' n=3 q='it'\\''s'\n`,
  );
  assertEquals(
    helpExampleRpcNamed("send", [["outputs", { "addr": 0.1 }], ["n", 3]]),
    `${CURL}{"jsonrpc": "2.0", "id": "curltest", "method": "send", "params": {"outputs":{"addr":0.1},"n":3}}${CURL_END}`,
  );
});

Deno.test("specs are checked as Core's RPCHelpMan constructor checks them", () => {
  const base = {
    category: "t",
    description: "",
    result: { type: "none" as const },
    handler: () => null,
  };
  assertThrows(
    () =>
      defineMethod({
        ...base,
        name: "a",
        args: [{ name: "x", type: "num", description: "" }, {
          name: "x",
          type: "str",
          description: "",
        }],
      }),
    Error,
    "argument name x is used twice",
  );
  assertThrows(
    () =>
      defineMethod({
        ...base,
        name: "b",
        args: [{ name: "x", type: "num", default: "s", description: "" }],
      }),
    Error,
    "does not fit its type",
  );
  assertThrows(
    () =>
      defineMethod({
        ...base,
        name: "c",
        args: [{ name: "x", type: "num", default: 1, optional: true, description: "" }],
      }),
    Error,
    "more than one of",
  );
  assertThrows(
    () => defineMethod({ ...base, name: "d", result: { type: "arr" } }),
    Error,
    "needs inner results",
  );
  assertThrows(() => table([defineMethod({ ...base, name: "help" })]), Error, "registered twice");
});
