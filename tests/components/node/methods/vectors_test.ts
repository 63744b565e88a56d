/**
 * Request → response vectors for every node method, against a real node
 * process over HTTP with cookie auth: result shapes with Core's key order,
 * exact values where the chain fixes them, positional and named
 * parameters, and the error rows of the reference (§5–§10) for these
 * methods, code and message.
 *
 * @module
 */
import { hex } from "@scure/base";
import { assert, assertEquals } from "../../../assert.ts";
import { rejects, startRealNode } from "../real_node.ts";
import { signTx, TestKey, type Utxo } from "../chain/chain_helpers.ts";
import {
  blockHash,
  blockMerkleRoot,
  checkProofOfWork,
  decodeBlock,
  decodeHeader,
  decodeTx,
  encodeBlock,
  encodeTx,
  hashFromHex,
  hashToHex,
  POW_LIMIT,
  scriptToAddress,
  solveBlock,
  txid,
} from "../../../../components/node/chain/mod.ts";

const GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";
const GENESIS_MERKLE = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b";
const key = new TestKey(1);
const other = new TestKey(2);
const ADDRESS = scriptToAddress(key.wpkh)!;
const TAPROOT = scriptToAddress(key.tr)!;
const LEGACY = scriptToAddress(key.pkh)!;

const keys = (value: Record<string, unknown>) => Object.keys(value);

const HEADER_KEYS = [
  "hash",
  "confirmations",
  "height",
  "version",
  "versionHex",
  "merkleroot",
  "time",
  "mediantime",
  "nonce",
  "bits",
  "target",
  "difficulty",
  "chainwork",
  "nTx",
];
const TX_KEYS = ["txid", "hash", "version", "size", "vsize", "weight", "locktime", "vin", "vout"];
const SPK_KEYS = ["asm", "desc", "hex", "address", "type"];
const ENTRY_KEYS = [
  "vsize",
  "weight",
  "time",
  "height",
  "descendantcount",
  "descendantsize",
  "ancestorcount",
  "ancestorsize",
  "wtxid",
  "fees",
  "depends",
  "spentby",
  "bip125-replaceable",
  "unbroadcast",
];

/** `help getblockcount`, exactly as bitcoind v30.0 answers it (reference §8). */
const HELP_GETBLOCKCOUNT = "getblockcount\n\nReturns the height of the most-work fully-validated " +
  "chain.\nThe genesis block has height 0.\n\nResult:\nn    (numeric) The current block count\n\n" +
  "Examples:\n> bitcoin-cli getblockcount \n> curl --user myusername --data-binary " +
  `'{"jsonrpc": "2.0", "id": "curltest", "method": "getblockcount", "params": []}' ` +
  "-H 'content-type: application/json' http://127.0.0.1:8332/\n";

/** `help getblockhash` as bitcoind renders it. */
const HELP_GETBLOCKHASH = "getblockhash height\n\nReturns hash of block in best-block-chain at " +
  "height provided.\n\nArguments:\n1. height    (numeric, required) The height index\n\n" +
  'Result:\n"hex"    (string) The block hash\n\nExamples:\n> bitcoin-cli getblockhash 1000\n' +
  `> curl --user myusername --data-binary '{"jsonrpc": "2.0", "id": "curltest", "method": ` +
  `"getblockhash", "params": [1000]}' -H 'content-type: application/json' http://127.0.0.1:8332/\n`;

/** `help submitblock` as bitcoind renders it. */
const HELP_SUBMITBLOCK = 'submitblock "hexdata" ( "dummy" )\n\nAttempts to submit new block to ' +
  "network.\nSee https://en.bitcoin.it/wiki/BIP_0022 for full specification.\n\nArguments:\n" +
  "1. hexdata    (string, required) the hex-encoded block data to submit\n" +
  "2. dummy      (string, optional, default=ignored) dummy value, for compatibility with BIP22. " +
  "This value is ignored.\n\nResult (If the block was accepted):\nnull    (json null)\n\n" +
  'Result (Otherwise):\n"str"    (string) According to BIP22\n\nExamples:\n' +
  '> bitcoin-cli submitblock "mydata"\n' +
  `> curl --user myusername --data-binary '{"jsonrpc": "2.0", "id": "curltest", "method": ` +
  `"submitblock", "params": ["mydata"]}' -H 'content-type: application/json' http://127.0.0.1:8332/\n`;

/** `help gettxout` as bitcoind renders it. */
const HELP_GETTXOUT = 'gettxout "txid" n ( include_mempool )\n\nReturns details about an unspent ' +
  "transaction output.\n\nArguments:\n1. txid               (string, required) The transaction id\n" +
  "2. n                  (numeric, required) vout number\n" +
  "3. include_mempool    (boolean, optional, default=true) Whether to include the mempool. Note " +
  "that an unspent output that is spent in the mempool won't appear.\n\n" +
  "Result (If the UTXO was not found):\nnull    (json null)\n\nResult (Otherwise):\n" +
  "{                             (json object)\n" +
  '  "bestblock" : "hex",        (string) The hash of the block at the tip of the chain\n' +
  '  "confirmations" : n,        (numeric) The number of confirmations\n' +
  '  "value" : n,                (numeric) The transaction value in BTC\n' +
  '  "scriptPubKey" : {          (json object)\n' +
  '    "asm" : "str",            (string) Disassembly of the output script\n' +
  '    "desc" : "str",           (string) Inferred descriptor for the output\n' +
  '    "hex" : "hex",            (string) The raw output script bytes, hex-encoded\n' +
  '    "type" : "str",           (string) The type, eg pubkeyhash\n' +
  '    "address" : "str"         (string, optional) The Bitcoin address (only if a well-defined ' +
  "address exists)\n  },\n" +
  '  "coinbase" : true|false     (boolean) Coinbase or not\n}\n\nExamples:\n\n' +
  "Get unspent transactions\n> bitcoin-cli listunspent \n\nView the details\n" +
  '> bitcoin-cli gettxout "txid" 1\n\nAs a JSON-RPC call\n' +
  `> curl --user myusername --data-binary '{"jsonrpc": "2.0", "id": "curltest", "method": ` +
  `"gettxout", "params": ["txid", 1]}' -H 'content-type: application/json' http://127.0.0.1:8332/\n`;

Deno.test("node RPC vectors: every method against a real node", async (t) => {
  await using node = await startRealNode();
  const call = node.call;

  await t.step("fresh chain: counts, hashes, info shapes", async () => {
    assertEquals(await call("getblockcount"), 0);
    assertEquals(await call("getbestblockhash"), GENESIS);
    assertEquals(await call("getblockhash", [0]), GENESIS);
    assertEquals(await call("getblockhash", { height: 0 }), GENESIS);
    const info = await call("getblockchaininfo");
    assertEquals(keys(info), [
      "chain",
      "blocks",
      "headers",
      "bestblockhash",
      "bits",
      "target",
      "difficulty",
      "time",
      "mediantime",
      "verificationprogress",
      "initialblockdownload",
      "chainwork",
      "size_on_disk",
      "pruned",
      "warnings",
    ]);
    assertEquals(info.chain, "regtest");
    assertEquals(info.bits, "207fffff");
    assertEquals(info.target, "7fffff" + "0".repeat(58));
    assertEquals(info.difficulty, 4.656542373906925e-10);
    assertEquals(info.initialblockdownload, true);
    assert(info.verificationprogress > 0 && info.verificationprogress < 1e-5);
    assertEquals(info.chainwork, "0".repeat(63) + "2");
    const mining = await call("getmininginfo");
    assertEquals(keys(mining), [
      "blocks",
      "bits",
      "difficulty",
      "target",
      "networkhashps",
      "pooledtx",
      "blockmintxfee",
      "chain",
      "next",
      "warnings",
    ]);
    assertEquals(mining.next, {
      height: 1,
      bits: "207fffff",
      difficulty: 4.656542373906925e-10,
      target: info.target,
    });
    const raw = await node.raw('{"jsonrpc":"2.0","id":1,"method":"getmininginfo"}');
    assert(raw.text.includes('"blockmintxfee":0.00000001,'), raw.text);
    assertEquals(await call("estimatesmartfee", [6]), {
      errors: ["Insufficient data or no feerate found"],
      blocks: 0,
    });
    assertEquals(await call("getdifficulty"), 4.656542373906925e-10);
    assertEquals(await call("getconnectioncount"), 0);
  });

  await t.step("argument and lookup errors (§2, §5)", async () => {
    await rejects(call("getblockhash", []), -1, HELP_GETBLOCKHASH);
    await rejects(call("getblockcount", [1]), -1, HELP_GETBLOCKCOUNT);
    await rejects(
      call("getblockhash", ["abc"]),
      -3,
      'Wrong type passed:\n{\n    "Position 1 (height)": "JSON value of type string is not of expected type number"\n}',
    );
    await rejects(call("getblockhash", [99]), -8, "Block height out of range");
    await rejects(call("getblockhash", [-1]), -8, "Block height out of range");
    const half = await node.raw('{"jsonrpc":"2.0","id":1,"method":"getblockhash","params":[0.5]}');
    assertEquals(half.body.error, { code: -1, message: "JSON integer out of range" });
    await rejects(call("getblock", ["zz"]), -8, "blockhash must be of length 64 (not 2, for 'zz')");
    await rejects(
      call("getblock", ["z".repeat(64)]),
      -8,
      `blockhash must be hexadecimal string (not '${"z".repeat(64)}')`,
    );
    await rejects(call("getblock", ["ab".repeat(32)]), -5, "Block not found");
    await rejects(call("getblockheader", ["ab".repeat(32)]), -5, "Block not found");
    await rejects(call("getblock", { foo: 1 }), -8, "Unknown named parameter foo");
    await rejects(
      call("getblock", { blockhash: GENESIS, args: [GENESIS] }),
      -8,
      "Parameter blockhash specified twice both as positional and named argument",
    );
    await rejects(call("decoderawtransaction", ["zz"]), -22, "TX decode failed");
    await rejects(
      call("getrawtransaction", [GENESIS_MERKLE]),
      -5,
      "The genesis block coinbase is not considered an ordinary transaction and cannot be retrieved",
    );
    await rejects(call("nosuchmethod"), -32601, "Method not found");
  });

  let blocks: string[] = [];
  await t.step("generatetoaddress and generatetodescriptor (§7)", async () => {
    assertEquals(await call("generatetoaddress", [0, ADDRESS]), []);
    assertEquals(await call("generatetoaddress", [-1, ADDRESS]), []);
    await rejects(call("generatetoaddress", [1, "nope"]), -5, "Error: Invalid address");
    blocks = await call("generatetoaddress", [100, ADDRESS]);
    assertEquals(blocks.length, 100);
    const descriptor = `addr(${ADDRESS})`;
    const checksum = (await call("generatetodescriptor", [1, descriptor]))[0];
    blocks.push(checksum);
    assertEquals(await call("getblockcount"), 101);
    const computed =
      (await call("getblock", [checksum, 2])).tx[0].vout[0].scriptPubKey.desc.split("#")[1];
    await rejects(
      call("generatetodescriptor", [1, `${descriptor}#aaaaaaaa`]),
      -5,
      `Provided checksum 'aaaaaaaa' does not match computed checksum '${computed}'`,
    );
    const info = await call("getblockchaininfo");
    assertEquals(info.initialblockdownload, false);
    assertEquals(info.verificationprogress, 1);
    const mining = await call("getmininginfo");
    assertEquals(keys(mining).slice(0, 4), [
      "blocks",
      "currentblockweight",
      "currentblocktx",
      "bits",
    ]);
    assertEquals([mining.currentblockweight, mining.currentblocktx], [8000, 0]);
  });

  await t.step("blocks and headers at every verbosity (§5)", async () => {
    const tip = blocks[blocks.length - 1];
    const previous = blocks[blocks.length - 2];
    const header = await call("getblockheader", [previous]);
    assertEquals(keys(header), [...HEADER_KEYS, "previousblockhash", "nextblockhash"]);
    assertEquals(header.nextblockhash, tip);
    assertEquals(header.confirmations, 2);
    const hexHeader = await call("getblockheader", [tip, false]);
    assertEquals(hexHeader.length, 160);
    const genesis = await call("getblock", [GENESIS]);
    assertEquals(keys(genesis), [
      ...HEADER_KEYS,
      "nextblockhash",
      "strippedsize",
      "size",
      "weight",
      "tx",
    ]);
    const block = await call("getblock", [tip]);
    assertEquals(keys(block), [
      ...HEADER_KEYS,
      "previousblockhash",
      "strippedsize",
      "size",
      "weight",
      "tx",
    ]);
    assertEquals(block.height, 101);
    assertEquals(await call("getblock", [tip, true]), block);
    assertEquals(await call("getblock", { blockhash: tip, verbosity: 1 }), block);
    assertEquals(await call("getblock", { args: [tip], verbosity: 1 }), block);
    const raw = await call("getblock", [tip, 0]);
    assertEquals(await call("getblock", [tip, false]), raw);
    assertEquals(await call("getblock", [tip, -1]), raw);
    const detailed = await call("getblock", [tip, 2]);
    const coinbase = detailed.tx[0];
    assertEquals(keys(coinbase), [...TX_KEYS, "hex"]);
    assertEquals(coinbase.locktime, 100);
    assertEquals(keys(coinbase.vin[0]), ["coinbase", "txinwitness", "sequence"]);
    assertEquals(coinbase.vin[0].sequence, 4294967294);
    assertEquals(coinbase.vin[0].txinwitness, ["0".repeat(64)]);
    assertEquals(coinbase.vin[0].coinbase, "016500");
    assertEquals(keys(coinbase.vout[0].scriptPubKey), SPK_KEYS);
    assertEquals(coinbase.vout[1].scriptPubKey.type, "nulldata");
    assertEquals(keys(coinbase.vout[1].scriptPubKey), ["asm", "desc", "hex", "type"]);
    assert(coinbase.vout[1].scriptPubKey.asm.startsWith("OP_RETURN aa21a9ed"));
    assert(coinbase.vout[1].scriptPubKey.desc.startsWith("raw(6a24aa21a9ed"));
    assertEquals(await call("getblock", [tip, 3]), detailed);
    assertEquals(await call("getblock", [tip, 9]), detailed);
    const text = (await node.raw(
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getblock", params: [tip, 2] }),
    )).text;
    assert(text.includes('"value":50.00000000,"n":0'), text);
  });

  await t.step("UTXO set statistics and gettxout (§6)", async () => {
    const stats = await node.raw('{"jsonrpc":"2.0","id":1,"method":"gettxoutsetinfo"}');
    assertEquals(keys(stats.body.result), [
      "height",
      "bestblock",
      "txouts",
      "bogosize",
      "hash_serialized_3",
      "total_amount",
      "transactions",
      "disk_size",
    ]);
    assertEquals(stats.body.result.height, 101);
    assertEquals(stats.body.result.txouts, 101);
    assertEquals(stats.body.result.transactions, 101);
    assert(stats.text.includes('"total_amount":5050.00000000,'), stats.text);
    const none = await call("gettxoutsetinfo", ["none"]);
    assert(!("hash_serialized_3" in none));
    await rejects(call("gettxoutsetinfo", ["bogus"]), -8, "'bogus' is not a valid hash_type");
    const block1 = await call("getblock", [blocks[0]]);
    const out = await call("gettxout", [block1.tx[0], 0]);
    assertEquals(keys(out), ["bestblock", "confirmations", "value", "scriptPubKey", "coinbase"]);
    assertEquals([out.confirmations, out.value, out.coinbase], [101, 50, true]);
    assertEquals(out.scriptPubKey.address, ADDRESS);
    assertEquals(await call("gettxout", [block1.tx[0], 5]), null);
    assertEquals(await call("help", ["gettxout"]), HELP_GETTXOUT);
  });

  let spend: ReturnType<typeof signTx>;
  let spendId = "";
  await t.step("raw transactions: create, decode, test, send (§6)", async () => {
    const block1 = await call("getblock", [blocks[0]]);
    const coinbaseTxid = block1.tx[0];
    const created = await call("createrawtransaction", [
      [{ txid: coinbaseTxid, vout: 0 }],
      [{ [ADDRESS]: 1.4999 }],
    ]);
    assert(created.startsWith("0200000001"), created);
    assert(created.includes("fdffffff01"), created);
    assert(created.endsWith("00000000"), created);
    const withData = decodeTx(hex.decode(
      await call("createrawtransaction", [[{ txid: coinbaseTxid, vout: 0 }], [{ data: "00ff" }]]),
    ));
    assertEquals(hex.encode(withData.outputs[0].script), "6a0200ff");
    const final = decodeTx(hex.decode(
      await call("createrawtransaction", {
        inputs: [{ txid: coinbaseTxid, vout: 0 }],
        outputs: { [ADDRESS]: 1 },
        locktime: 5,
        replaceable: false,
      }),
    ));
    assertEquals([final.inputs[0].sequence, final.lockTime], [0xfffffffe, 5]);
    await rejects(
      call("createrawtransaction", [[{ txid: "ab", vout: 0 }], []]),
      -8,
      "txid must be of length 64 (not 2, for 'ab')",
    );
    await rejects(
      call("createrawtransaction", [[{ txid: coinbaseTxid, vout: -1 }], []]),
      -8,
      "Invalid parameter, vout cannot be negative",
    );
    await rejects(
      call("createrawtransaction", [[], [{ nope: 1 }]]),
      -5,
      "Invalid Bitcoin address: nope",
    );
    await rejects(
      call("createrawtransaction", [[], [{ data: "00" }, { data: "01" }]]),
      -8,
      "Invalid parameter, duplicate key: data",
    );
    await rejects(
      call("createrawtransaction", [
        [{ txid: coinbaseTxid, vout: 0, sequence: 0xffffffff }],
        [],
        0,
        true,
      ]),
      -8,
      "Invalid parameter combination: Sequence number(s) contradict replaceable option",
    );

    const utxo: Utxo = {
      outpoint: { txid: hashFromHex(coinbaseTxid), index: 0 },
      amount: 50_0000_0000n,
      script: key.wpkh,
      key,
    };
    spend = signTx([utxo], [
      { script: other.wpkh, amount: 1_5000_0000n },
      { script: key.wpkh, amount: 48_4999_0000n },
    ]);
    const spendHex = hex.encode(encodeTx(spend));
    spendId = hex.encode(txid(spend).slice().reverse());
    const decoded = await call("decoderawtransaction", [spendHex]);
    assertEquals(keys(decoded), TX_KEYS);
    assertEquals(decoded.txid, spendId);
    assertEquals(keys(decoded.vin[0]), ["txid", "vout", "scriptSig", "txinwitness", "sequence"]);
    assertEquals(decoded.vin[0].scriptSig, { asm: "", hex: "" });
    assertEquals(decoded.vin[0].sequence, 4294967293);
    assertEquals(await call("decoderawtransaction", [spendHex, true]), decoded);

    const accepted = await call("testmempoolaccept", [[spendHex]]);
    assertEquals(accepted.length, 1);
    assertEquals(keys(accepted[0]), ["txid", "wtxid", "allowed", "vsize", "fees"]);
    assertEquals(keys(accepted[0].fees), ["base", "effective-feerate", "effective-includes"]);
    assertEquals(accepted[0].fees.base, 0.0001);
    await rejects(
      call("testmempoolaccept", [[]]),
      -8,
      "Array must contain between 1 and 25 transactions.",
    );
    await rejects(
      call("testmempoolaccept", [["00"]]),
      -22,
      "TX decode failed: 00 Make sure the tx has at least one input.",
    );
    await rejects(
      call("sendrawtransaction", ["00"]),
      -22,
      "TX decode failed. Make sure the tx has at least one input.",
    );
    // Core's DecodeHexTx default reads the witness form only: a transaction of no inputs in the
    // legacy form does not decode (its input count reads as the segwit marker).
    const noInputs = "01000000000100f2052a01000000015100000000";
    await rejects(
      call("sendrawtransaction", [noInputs]),
      -22,
      "TX decode failed. Make sure the tx has at least one input.",
    );
    await rejects(
      call("testmempoolaccept", [[noInputs]]),
      -22,
      `TX decode failed: ${noInputs} Make sure the tx has at least one input.`,
    );
    assertEquals((await call("decoderawtransaction", [noInputs])).vin, []);
    assertEquals(await call("sendrawtransaction", [spendHex]), spendId);
    assertEquals(await call("sendrawtransaction", [spendHex]), spendId);
  });

  await t.step("mempool views (§6)", async () => {
    assertEquals(await call("getrawmempool"), [spendId]);
    const sequenced = await call("getrawmempool", [false, true]);
    assertEquals(keys(sequenced), ["txids", "mempool_sequence"]);
    assertEquals(sequenced.txids, [spendId]);
    await rejects(
      call("getrawmempool", [true, true]),
      -8,
      "Verbose results cannot contain mempool sequence values.",
    );
    const verbose = await call("getrawmempool", [true]);
    assertEquals(keys(verbose), [spendId]);
    const entry = await call("getmempoolentry", [spendId]);
    assertEquals(verbose[spendId], entry);
    assertEquals(keys(entry), ENTRY_KEYS);
    assertEquals(keys(entry.fees), ["base", "modified", "ancestor", "descendant"]);
    assertEquals([entry["bip125-replaceable"], entry.unbroadcast], [true, true]);
    assertEquals(entry.height, 101);
    await rejects(call("getmempoolentry", ["ab".repeat(32)]), -5, "Transaction not in mempool");
    assertEquals(await call("getmempoolancestors", [spendId]), []);
    assertEquals(await call("getmempooldescendants", [spendId, true]), {});
    // gettxspendingprevout: the coinbase output the spend spends, and one nothing spends.
    const spentHex = { txid: hex.encode(spend.inputs[0].txid), vout: spend.inputs[0].index };
    assertEquals(await call("gettxspendingprevout", [[spentHex, { txid: spendId, vout: 1 }]]), [
      { ...spentHex, spendingtxid: spendId },
      { txid: spendId, vout: 1 },
    ]);
    assertEquals(
      await call("gettxspendingprevout", [[{ txid: spendId.toUpperCase(), vout: 0 }]]),
      [{ txid: spendId, vout: 0 }],
    );
    for (
      const [outputs, code, message] of [
        [[], -8, "Invalid parameter, outputs are missing"],
        [[{ ...spentHex, unknown: 42 }], -3, "Unexpected key unknown"],
        [[{ ...spentHex, vout: -1 }], -8, "Invalid parameter, vout cannot be negative"],
        [
          [{ txid: 42, vout: 0 }],
          -3,
          "JSON value of type number for field txid is not of expected type string",
        ],
        [[{ txid: spentHex.txid }], -3, "Missing vout"],
        [[{ vout: 3 }], -3, "Missing txid"],
        [[{ txid: "ab", vout: 0 }], -8, "txid must be of length 64 (not 2, for 'ab')"],
        [[5], -3, "JSON value of type number is not of expected type object"],
      ] as const
    ) {
      await rejects(call("gettxspendingprevout", [outputs]), code, message);
    }
    const info = await node.raw('{"jsonrpc":"2.0","id":1,"method":"getmempoolinfo"}');
    assertEquals(keys(info.body.result), [
      "loaded",
      "size",
      "bytes",
      "usage",
      "total_fee",
      "maxmempool",
      "mempoolminfee",
      "minrelaytxfee",
      "incrementalrelayfee",
      "unbroadcastcount",
      "fullrbf",
      "permitbaremultisig",
      "maxdatacarriersize",
    ]);
    assert(info.text.includes('"total_fee":0.00010000,"maxmempool":300000000,'), info.text);
    assert(info.text.includes('"minrelaytxfee":0.00000100,'), info.text);
    assertEquals(info.body.result.maxdatacarriersize, 100000);
    const mempoolOut = await call("gettxout", [spendId, 0]);
    assertEquals(mempoolOut.confirmations, 0);
    assertEquals(await call("gettxout", [spendId, 0, false]), null);
    const verboseTx = await call("getrawtransaction", [spendId, true]);
    assertEquals(keys(verboseTx), [...TX_KEYS, "hex"]);
    assertEquals(await call("getrawtransaction", [spendId, 2]), verboseTx);
    assertEquals(await call("getrawtransaction", { txid: spendId, verbose: true }), verboseTx);
  });

  let minedBlock = "";
  await t.step("generateblock and confirmed lookups (§6, §7)", async () => {
    await rejects(
      call("generateblock", [ADDRESS, ["cd".repeat(32)]]),
      -5,
      `Transaction ${"cd".repeat(32)} not in mempool.`,
    );
    await rejects(
      call("generateblock", [ADDRESS, ["zz"]]),
      -22,
      "Transaction decode failed for zz. Make sure the tx has at least one input.",
    );
    await rejects(
      call("generateblock", ["nope", []]),
      -5,
      "Error: Invalid address or descriptor",
    );
    const unsubmitted = await call("generateblock", [ADDRESS, [spendId], false]);
    assertEquals(keys(unsubmitted), ["hash", "hex"]);
    assertEquals(await call("getblockcount"), 101);
    const mined = await call("generateblock", [`addr(${ADDRESS})`, [spendId]]);
    assertEquals(keys(mined), ["hash"]);
    minedBlock = mined.hash;
    assertEquals(await call("getblockcount"), 102);
    assertEquals(await call("getrawmempool"), []);
    await rejects(
      call("getrawtransaction", [spendId]),
      -5,
      "No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction queries. Use gettransaction for wallet transactions.",
    );
    const inBlock = await call("getrawtransaction", [spendId, 1, minedBlock]);
    assertEquals(keys(inBlock), [
      "in_active_chain",
      ...TX_KEYS,
      "hex",
      "blockhash",
      "confirmations",
      "time",
      "blocktime",
    ]);
    assertEquals([inBlock.in_active_chain, inBlock.confirmations], [true, 1]);
    const withFee = await call("getrawtransaction", [spendId, 2, minedBlock]);
    assertEquals(keys(withFee), [
      "in_active_chain",
      ...TX_KEYS,
      "fee",
      "hex",
      "blockhash",
      "confirmations",
      "time",
      "blocktime",
    ]);
    assertEquals(withFee.fee, 0.0001);
    assertEquals(keys(withFee.vin[0]), [
      "txid",
      "vout",
      "scriptSig",
      "txinwitness",
      "prevout",
      "sequence",
    ]);
    assertEquals(keys(withFee.vin[0].prevout), ["generated", "height", "value", "scriptPubKey"]);
    assertEquals([withFee.vin[0].prevout.generated, withFee.vin[0].prevout.height], [true, 1]);
    await rejects(
      call("getrawtransaction", [spendId, 1, blocks[0]]),
      -5,
      "No such transaction found in the provided block. Use gettransaction for wallet transactions.",
    );
    await rejects(
      call("getrawtransaction", [spendId, 1, "ab".repeat(32)]),
      -5,
      "Block hash not found",
    );
    const block = await call("getblock", [minedBlock, 2]);
    assertEquals(keys(block.tx[1]), [...TX_KEYS, "fee", "hex"]);
    const withPrevout = await call("getblock", [minedBlock, 3]);
    assertEquals(keys(withPrevout.tx[1].vin[0]).includes("prevout"), true);
    const again = await call("sendrawtransaction", [hex.encode(encodeTx(spend))]).catch((e) => e);
    assertEquals([again.code, again.message], [-27, "Transaction outputs already in utxo set"]);
  });

  await t.step("submitblock, chain tips, invalidate and reconsider (§5, §7)", async () => {
    const block = await call("generateblock", [ADDRESS, [], false]);
    assertEquals(await call("submitblock", [block.hex]), null);
    assertEquals(await call("submitblock", [block.hex]), "duplicate");
    await rejects(call("submitblock", ["zz"]), -22, "Block decode failed");
    assertEquals(await call("getchaintips"), [
      { height: 103, hash: block.hash, branchlen: 0, status: "active" },
    ]);
    assertEquals(await call("invalidateblock", [block.hash]), null);
    assertEquals(await call("getblockcount"), 102);
    const tips = await call("getchaintips");
    assertEquals(tips.map((tip: { status: string }) => tip.status).sort(), ["active", "invalid"]);
    assertEquals(await call("reconsiderblock", [block.hash]), null);
    assertEquals(await call("getbestblockhash"), block.hash);
    await rejects(call("invalidateblock", ["ab".repeat(32)]), -5, "Block not found");
    assertEquals(await call("help", ["submitblock"]), HELP_SUBMITBLOCK);
  });

  await t.step("scripts and addresses (§6, §8)", async () => {
    const p2wpkh = await call("decodescript", [hex.encode(key.wpkh)]);
    assertEquals(keys(p2wpkh), ["asm", "desc", "address", "type", "p2sh"]);
    assertEquals(p2wpkh.type, "witness_v0_keyhash");
    const p2tr = await call("decodescript", [hex.encode(key.tr)]);
    assertEquals(keys(p2tr), ["asm", "desc", "address", "type"]);
    assert(p2tr.desc.startsWith("rawtr("), p2tr.desc);
    assert(p2tr.asm.startsWith("1 "), p2tr.asm);
    const p2pkh = await call("decodescript", [hex.encode(key.pkh)]);
    assertEquals(keys(p2pkh), ["asm", "desc", "address", "type", "p2sh", "segwit"]);
    assertEquals(keys(p2pkh.segwit), ["asm", "desc", "hex", "address", "type", "p2sh-segwit"]);
    assertEquals(p2pkh.segwit.address, ADDRESS);
    assertEquals(p2pkh.asm.split(" ")[0], "OP_DUP");
    const empty = await call("decodescript", [""]);
    assertEquals(keys(empty), ["asm", "desc", "type", "p2sh", "segwit"]);
    await rejects(
      call("decodescript", ["zz"]),
      -8,
      "argument must be hexadecimal string (not 'zz')",
    );

    assertEquals(await call("validateaddress", [ADDRESS]), {
      isvalid: true,
      address: ADDRESS,
      scriptPubKey: hex.encode(key.wpkh),
      isscript: false,
      iswitness: true,
      witness_version: 0,
      witness_program: hex.encode(key.wpkh.subarray(2)),
    });
    assertEquals(keys(await call("validateaddress", [TAPROOT])), [
      "isvalid",
      "address",
      "scriptPubKey",
      "isscript",
      "iswitness",
      "witness_version",
      "witness_program",
    ]);
    assertEquals(keys(await call("validateaddress", [LEGACY])), [
      "isvalid",
      "address",
      "scriptPubKey",
      "isscript",
      "iswitness",
    ]);
    const invalidBase58 = {
      isvalid: false,
      error_locations: [],
      error: "Invalid checksum or length of Base58 address (P2PKH or P2SH)",
    };
    assertEquals(await call("validateaddress", ["notanaddress"]), invalidBase58);
    assertEquals(await call("validateaddress", [""]), invalidBase58);
    const typo = ADDRESS.slice(0, 43) + (ADDRESS[43] === "q" ? "p" : "q") + ADDRESS.slice(44);
    assertEquals(await call("validateaddress", [typo]), {
      isvalid: false,
      error_locations: [43],
      error: "Invalid Bech32 checksum",
    });
    assertEquals(
      await call("validateaddress", ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"]),
      {
        isvalid: false,
        error_locations: [],
        error: "Invalid or unsupported Segwit (Bech32) or Base58 encoding.",
      },
    );
  });

  await t.step("network, util, control, help (§8)", async () => {
    const net = await call("getnetworkinfo");
    assertEquals(keys(net), [
      "version",
      "subversion",
      "protocolversion",
      "localservices",
      "localservicesnames",
      "localrelay",
      "timeoffset",
      "networkactive",
      "connections",
      "connections_in",
      "connections_out",
      "networks",
      "relayfee",
      "incrementalfee",
      "localaddresses",
      "warnings",
    ]);
    assertEquals(net.networks.map((n: { name: string }) => n.name), [
      "ipv4",
      "ipv6",
      "onion",
      "i2p",
      "cjdns",
    ]);
    assertEquals(keys(net.networks[4]), [
      "name",
      "limited",
      "reachable",
      "proxy",
      "proxy_randomize_credentials",
    ]);
    assertEquals(await call("echoipc", ["hello"]), "hello");
    assertEquals(await call("help", ["getblockcount"]), HELP_GETBLOCKCOUNT);
    const listing: string = await call("help");
    for (const hidden of ["generatetoaddress", "invalidateblock", "reconsiderblock", "echoipc"]) {
      assert(!listing.includes(`\n${hidden}`), hidden);
    }
    // Core v30's listing, as captured from its binary.
    assert(
      listing.startsWith(
        '== Blockchain ==\ndumptxoutset "path" ( "type" {"rollback":n,...} )\ngetbestblockhash\n',
      ),
      listing,
    );
    assert(
      listing.includes(
        '\n== Rawtransactions ==\nanalyzepsbt "psbt"\ncombinepsbt ["psbt",...]\ncombinerawtransaction',
      ),
      listing,
    );
    assertEquals(await call("help", ["nosuch"]), "help: unknown command: nosuch");
    const template = await call("getblocktemplate", [{ rules: ["segwit"] }]);
    assertEquals(keys(template), [
      "capabilities",
      "version",
      "rules",
      "vbavailable",
      "vbrequired",
      "previousblockhash",
      "transactions",
      "coinbaseaux",
      "coinbasevalue",
      "longpollid",
      "target",
      "mintime",
      "mutable",
      "noncerange",
      "sigoplimit",
      "sizelimit",
      "weightlimit",
      "curtime",
      "bits",
      "height",
      "default_witness_commitment",
    ]);
    await rejects(
      call("getblocktemplate", [{}]),
      -8,
      'getblocktemplate must be called with the segwit rule set (call with {"rules": ["segwit"]})',
    );
    assertEquals(typeof (await call("uptime")), "number");
  });

  assertEquals(await node.stop(), 0);
});

Deno.test("node RPC: Core's edge cases, disk figures, file modes and UpdateTip lines", async (t) => {
  await using node = await startRealNode();
  const call = node.call;
  const netDir = `${node.datadir}/regtest`;

  await t.step("size_on_disk: bitcoind's blk and rev bytes; maxtries -1 mines", async () => {
    // Genesis alone: its 285 bytes behind Core's 8-byte record header.
    assertEquals((await call("getblockchaininfo")).size_on_disk, 293);
    await call("generatetoaddress", [91, ADDRESS]);
    // Core reads maxtries as an int and keeps it as a uint64: -1 is unlimited.
    const unlimited: string[] = await call("generatetoaddress", [10, ADDRESS, -1]);
    assertEquals(unlimited.length, 10);
    assertEquals(await call("getbestblockhash"), unlimited[9]);
    for (const hash of unlimited) {
      const header = await call("getblockheader", [hash, false]);
      assert(checkProofOfWork(blockHash(decodeHeader(hex.decode(header))), 0x207fffff, POW_LIMIT));
    }
    // bitcoind v30 at height 101 after generatetoaddress to a P2WPKH address (reference §5).
    assertEquals((await call("getblockchaininfo")).size_on_disk, 30375);
    const utxo = await call("gettxoutsetinfo");
    assert(utxo.disk_size > 0 && utxo.disk_size % 4096 === 0, `${utxo.disk_size}`);
    assertEquals(await call("generatetoaddress", [1, ADDRESS, 0]), []);
  });

  await t.step("submitblock ignores bytes after the block, as DecodeHexBlk does", async () => {
    const block = await call("generateblock", [ADDRESS, [], false]);
    assertEquals(await call("submitblock", [block.hex + "00"]), null);
    assertEquals(await call("getbestblockhash"), block.hash);
    assertEquals(await call("submitblock", [block.hex + "ffff"]), "duplicate");
  });

  await t.step("invalidateblock of genesis: null, and nothing changes", async () => {
    const tips = await call("getchaintips");
    assertEquals(await call("invalidateblock", [GENESIS]), null);
    assertEquals(await call("getchaintips"), tips);
    assertEquals(await call("getblockcount"), 102);
  });

  await t.step("getblock of a headers-only block: Core's GetBlockChecked message", async () => {
    const { hex: blockHex } = await call("generateblock", [ADDRESS, [], false]);
    const block = decodeBlock(hex.decode(blockHex));
    block.txs[0].outputs[1].script[6] ^= 1; // the witness commitment's first byte
    block.header.merkleRoot = blockMerkleRoot(block).root;
    assert(solveBlock(block));
    const hash = hashToHex(blockHash(block.header));
    assertEquals(
      await call("submitblock", [hex.encode(encodeBlock(block))]),
      "bad-witness-merkle-match",
    );
    const tips: { hash: string; status: string }[] = await call("getchaintips");
    assertEquals(tips.find((tip) => tip.hash === hash)?.status, "headers-only");
    for (const verbosity of [0, 1, 2]) {
      await rejects(
        call("getblock", [hash, verbosity]),
        -1,
        "Block not available (not fully downloaded)",
      );
    }
    assertEquals((await call("getblockheader", [hash])).hash, hash);
  });

  await t.step("UpdateTip is logged for every block connected and disconnected", async () => {
    const logFile = `${netDir}/debug.log`;
    const before = Deno.readTextFileSync(logFile).length;
    const from = await call("getblockhash", [99]);
    assertEquals(await call("invalidateblock", [from]), null);
    assertEquals(await call("reconsiderblock", [from]), null);
    assertEquals(await call("getblockcount"), 102);
    // The calls are answered after their chain changes, so their lines are written by now.
    const lines = Deno.readTextFileSync(logFile).slice(before).split("\n")
      .filter((line) => line.includes(" UpdateTip: ")).map((line) => line.replace(/^\S+ /, ""));
    // Disconnecting 102..99 leaves tips 101..98; connecting brings 99..102 back.
    const heights = [101, 100, 99, 98, 99, 100, 101, 102];
    const expected = [];
    for (const height of heights) {
      const hash = await call("getblockhash", [height]);
      const { time } = await call("getblockheader", [hash]);
      const date = new Date(time * 1000).toISOString().slice(0, 19);
      const log2Work = (Math.log(2 * (height + 1)) / Math.log(2)).toFixed(6);
      expected.push(
        `UpdateTip: new best=${hash} height=${height} version=0x20000000 log2_work=${log2Work} ` +
          `tx=${height + 1} date='${date}Z' progress=1.000000 cache=0.0MiB(0txo)`,
      );
    }
    assertEquals(lines, expected);
  });

  await t.step("the database, its WAL and SHM, and mempool.dat are the owner's only", async () => {
    const mode = (name: string) => (Deno.statSync(`${netDir}/${name}`).mode! & 0o777).toString(8);
    for (const name of ["chainstate.sqlite", "chainstate.sqlite-wal", "chainstate.sqlite-shm"]) {
      assertEquals(mode(name), "600", name);
    }
    assertEquals(await node.stop(), 0);
    assertEquals(mode("mempool.dat"), "600");
  });
});
