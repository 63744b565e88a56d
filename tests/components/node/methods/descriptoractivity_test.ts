/**
 * getdescriptoractivity against a real node process over HTTP
 * (`-rpcdoccheck`: every result is checked against its documented shape):
 * a coinbase mined to a descriptor's key, spent in a later block, that
 * output spent in the mempool by a transaction with two inputs and that
 * one's output by a child — every receive and spend, in Core's order
 * (blocks by height whatever order they are named in, duplicates once;
 * spends before receives within a transaction; the mempool parents
 * first) with Core's keys in Core's order; prevouts from undo data, from
 * the UTXO set and from a mempool parent; `include_mempool`; scan objects
 * as strings and objects, `addr()` and `pk()` (the genesis block's P2PK
 * output, which has no address); named arguments; a block a
 * reorganisation left behind; Core's errors and checks of arguments; and
 * the help text, Core v30's word for word.
 *
 * @module
 */
import { hex } from "@scure/base";
import { assertEquals } from "../../../assert.ts";
import { signTx, TestKey, type Utxo } from "../chain/chain_helpers.ts";
import { coinbaseUtxo, type RealNode, rejects, startRealNode } from "../real_node.ts";
import {
  encodeTx,
  GENESIS_HASH,
  hashFromHex,
  hashToHex,
  scriptToAddress,
} from "../../../../components/node/chain/mod.ts";

const A = new TestKey(41);
const B = new TestKey(42);
const ADDRESS_A = scriptToAddress(A.wpkh)!;
const ADDRESS_B = scriptToAddress(B.wpkh)!;
const ELSEWHERE = scriptToAddress(new TestKey(43).wpkh)!;
const DESC_A = `wpkh(${hex.encode(A.publicKey)})`;
const DESC_B = `addr(${ADDRESS_B})`;
/** The key the genesis block pays (a P2PK output: no address). */
const SATOSHI =
  "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f";
const METHOD = "getdescriptoractivity";

/** Bitcoin Core v30.0's `help getdescriptoractivity`. */
const HELP = `getdescriptoractivity ["blockhash",...] [scanobjects,...] ( include_mempool )

Get spend and receive activity associated with a set of descriptors for a set of blocks. This command pairs well with the \`relevant_blocks\` output of \`scanblocks()\`.
This call may take several minutes. If you encounter timeouts, try specifying no RPC timeout (bitcoin-cli -rpcclienttimeout=0)

Arguments:
1. blockhashes                   (json array, required) The list of blockhashes to examine for activity. Order doesn't matter. Must be along main chain or an error is thrown.
${" ".repeat(33)}
     [
       "blockhash",              (string) A valid blockhash
       ...
     ]
2. scanobjects                   (json array, required) The list of descriptors (scan objects) to examine for activity. Every scan object is either a string descriptor or an object:
     [
       "descriptor",             (string) An output descriptor
       {                         (json object) An object with output descriptor and metadata
         "desc": "str",          (string, required) An output descriptor
         "range": n or [n,n],    (numeric or array, optional, default=1000) The range of HD chain indexes to explore (either end or [begin,end])
       },
       ...
     ]
3. include_mempool               (boolean, optional, default=true) Whether to include unconfirmed activity

Result:
{                                (json object)
  "activity" : [                 (json array) events
    {                            (json object)
      "type" : "str",            (string) always 'spend'
      "amount" : n,              (numeric) The total amount in BTC of the spent output
      "blockhash" : "hex",       (string, optional) The blockhash this spend appears in (omitted if unconfirmed)
      "height" : n,              (numeric, optional) Height of the spend (omitted if unconfirmed)
      "spend_txid" : "hex",      (string) The txid of the spending transaction
      "spend_vin" : n,           (numeric) The input index of the spend
      "prevout_txid" : "hex",    (string) The txid of the prevout
      "prevout_vout" : n,        (numeric) The vout of the prevout
      "prevout_spk" : {          (json object)
        "asm" : "str",           (string) Disassembly of the output script
        "desc" : "str",          (string) Inferred descriptor for the output
        "hex" : "hex",           (string) The raw output script bytes, hex-encoded
        "address" : "str",       (string, optional) The Bitcoin address (only if a well-defined address exists)
        "type" : "str"           (string) The type (one of: nonstandard, anchor, pubkey, pubkeyhash, scripthash, multisig, nulldata, witness_v0_scripthash, witness_v0_keyhash, witness_v1_taproot, witness_unknown)
      }
    },
    {                            (json object)
      "type" : "str",            (string) always 'receive'
      "amount" : n,              (numeric) The total amount in BTC of the new output
      "blockhash" : "hex",       (string, optional) The block that this receive is in (omitted if unconfirmed)
      "height" : n,              (numeric, optional) The height of the receive (omitted if unconfirmed)
      "txid" : "hex",            (string) The txid of the receiving transaction
      "vout" : n,                (numeric) The vout of the receiving output
      "output_spk" : {           (json object)
        "asm" : "str",           (string) Disassembly of the output script
        "desc" : "str",          (string) Inferred descriptor for the output
        "hex" : "hex",           (string) The raw output script bytes, hex-encoded
        "address" : "str",       (string, optional) The Bitcoin address (only if a well-defined address exists)
        "type" : "str"           (string) The type (one of: nonstandard, anchor, pubkey, pubkeyhash, scripthash, multisig, nulldata, witness_v0_scripthash, witness_v0_keyhash, witness_v1_taproot, witness_unknown)
      }
    },
    ...
  ]
}

Examples:
> bitcoin-cli getdescriptoractivity '["000000000000000000001347062c12fded7c528943c8ce133987e2e2f5a840ee"]' '["addr(bc1qzl6nsgqzu89a66l50cvwapnkw5shh23zarqkw9)"]'
`;

// deno-lint-ignore no-explicit-any
type Json = any;

/** Where an event was confirmed (nothing for the mempool). */
type Place = { blockhash: string; height: number } | Record<never, never>;

/** A receive entry, keys in Core's order. */
function receive(amount: number, at: Place, txid: string, vout: number, spk: Json): Json {
  return { type: "receive", amount, ...at, txid, vout, output_spk: spk };
}

/** A spend entry, keys in Core's order. */
function spend(
  amount: number,
  at: Place,
  [spendTxid, vin]: [string, number],
  [prevTxid, prevVout]: [string, number],
  spk: Json,
): Json {
  return {
    type: "spend",
    amount,
    ...at,
    spend_txid: spendTxid,
    spend_vin: vin,
    prevout_txid: prevTxid,
    prevout_vout: prevVout,
    prevout_spk: spk,
  };
}

/** Deep equality, and the same key order in every object (Core's `pushKV` order). */
function assertSame(actual: Json, expected: Json): void {
  assertEquals(actual, expected);
  const order = (value: Json): Json =>
    Array.isArray(value)
      ? value.map(order)
      : value !== null && typeof value === "object"
      ? Object.entries(value).map(([key, inner]) => [key, order(inner)])
      : value;
  assertEquals(order(actual), order(expected));
}

/** Signs `inputs` to `outputs` and sends it; its txid. */
async function send(
  node: RealNode,
  inputs: Utxo[],
  outputs: { script: Uint8Array; amount: bigint }[],
): Promise<string> {
  const tx = signTx(inputs, outputs);
  return await node.call("sendrawtransaction", [hex.encode(encodeTx(tx))]);
}

Deno.test("getdescriptoractivity: receives and spends in blocks and the mempool, Core's order and errors", async (t) => {
  await using node = await startRealNode({ args: ["-rpcdoccheck"] });
  const activity = async (params: Json): Promise<Json> =>
    (await node.call(METHOD, params)).activity;

  const [h1] = await node.call("generatetoaddress", [1, ADDRESS_A]);
  await node.call("generatetoaddress", [100, ELSEWHERE]);
  const coinbase = await coinbaseUtxo(node.call, h1, A);
  const cb1 = hashToHex(coinbase.outpoint.txid);
  // Block 102: A's coinbase to 10 BTC for B and 39.9999 back to A.
  const tx1 = await send(node, [coinbase], [
    { script: B.wpkh, amount: 10_0000_0000n },
    { script: A.wpkh, amount: 39_9999_0000n },
  ]);
  const [h102] = await node.call("generatetoaddress", [1, ELSEWHERE]);
  // The mempool: both outputs of tx1 (B's first) to A; that output to B.
  const tx2 = await send(node, [
    {
      outpoint: { txid: hashFromHex(tx1), index: 0 },
      amount: 10_0000_0000n,
      script: B.wpkh,
      key: B,
    },
    {
      outpoint: { txid: hashFromHex(tx1), index: 1 },
      amount: 39_9999_0000n,
      script: A.wpkh,
      key: A,
    },
  ], [{ script: A.wpkh, amount: 49_9998_0000n }]);
  const tx3 = await send(node, [
    {
      outpoint: { txid: hashFromHex(tx2), index: 0 },
      amount: 49_9998_0000n,
      script: A.wpkh,
      key: A,
    },
  ], [{ script: B.wpkh, amount: 49_9997_0000n }]);

  // The scripts as getblock shows them: Core's ScriptToUniv, as getdescriptoractivity's.
  const spkA = (await node.call("getblock", [h1, 2])).tx[0].vout[0].scriptPubKey;
  const spkB = (await node.call("getblock", [h102, 2])).tx[1].vout[0].scriptPubKey;
  assertEquals(
    [spkA.address, spkA.type, spkA.hex, spkB.address],
    [ADDRESS_A, "witness_v0_keyhash", hex.encode(A.wpkh), ADDRESS_B],
  );
  const at1 = { blockhash: h1, height: 1 };
  const at102 = { blockhash: h102, height: 102 };
  const confirmedA = [
    receive(50, at1, cb1, 0, spkA),
    spend(50, at102, [tx1, 0], [cb1, 0], spkA),
    receive(39.9999, at102, tx1, 1, spkA),
  ];
  const unconfirmedA = [
    spend(39.9999, {}, [tx2, 1], [tx1, 1], spkA),
    receive(49.9998, {}, tx2, 0, spkA),
    spend(49.9998, {}, [tx3, 0], [tx2, 0], spkA),
  ];

  await t.step("blocks in height order, then the mempool (parents first)", async () => {
    assertSame(await activity([[h102, h1], [DESC_A]]), [...confirmedA, ...unconfirmedA]);
    assertSame(await activity([[h1, h102], [DESC_A], true]), [...confirmedA, ...unconfirmedA]);
    // Named twice: read once.
    assertSame(await activity([[h102, h1, h102, h1], [DESC_A]]), [...confirmedA, ...unconfirmedA]);
    assertSame(await activity([[h1], [DESC_A], false]), confirmedA.slice(0, 1));
    // Every block of the chain, newest first (read a few at a time, letting other calls in).
    const all: string[] = [];
    for (let height = 102; height >= 0; height--) {
      all.push(await node.call("getblockhash", [height]));
    }
    assertSame(await activity([all, [DESC_A]]), [...confirmedA, ...unconfirmedA]);
  });

  await t.step("include_mempool=false: the blocks only; no blocks: the mempool only", async () => {
    assertSame(await activity([[h102, h1], [DESC_A], false]), confirmedA);
    assertSame(await activity([[], [DESC_A]]), unconfirmedA);
    assertSame(await activity([[], [DESC_A], false]), []);
    assertSame(await node.call(METHOD, [[], [DESC_B], false]), { activity: [] });
  });

  await t.step(
    "several descriptors: each transaction's spends, then its receives, in index order",
    async () => {
      const both = [
        receive(50, at1, cb1, 0, spkA),
        spend(50, at102, [tx1, 0], [cb1, 0], spkA),
        receive(10, at102, tx1, 0, spkB),
        receive(39.9999, at102, tx1, 1, spkA),
        spend(10, {}, [tx2, 0], [tx1, 0], spkB),
        spend(39.9999, {}, [tx2, 1], [tx1, 1], spkA),
        receive(49.9998, {}, tx2, 0, spkA),
        spend(49.9998, {}, [tx3, 0], [tx2, 0], spkA),
        receive(49.9997, {}, tx3, 0, spkB),
      ];
      assertSame(await activity([[h1, h102], [DESC_A, DESC_B]]), both);
      // Order and repetition of the scan objects change nothing; objects as strings do.
      assertSame(await activity([[h1, h102], [DESC_B, DESC_A, DESC_B]]), both);
      assertSame(
        await activity([[h1, h102], [{ desc: DESC_A, range: 7 }, { desc: DESC_B }]]),
        both,
      );
      // Named arguments.
      assertSame(
        await activity({ scanobjects: [DESC_B], blockhashes: [h102], include_mempool: false }),
        [receive(10, at102, tx1, 0, spkB)],
      );
    },
  );

  await t.step("a script without an address: the genesis block's P2PK output", async () => {
    const genesis = hashToHex(GENESIS_HASH);
    const [event] = await activity([[genesis], [`pk(${SATOSHI})`], false]);
    const block = await node.call("getblock", [genesis, 2]);
    assertSame(
      event,
      receive(
        50,
        { blockhash: genesis, height: 0 },
        block.tx[0].txid,
        0,
        block.tx[0].vout[0].scriptPubKey,
      ),
    );
    assertEquals(Object.keys(event.output_spk), ["asm", "desc", "hex", "type"]);
    assertEquals(event.output_spk.type, "pubkey");
  });

  await t.step("Core's errors: blocks checked first, then the scan objects", async () => {
    const unknown = "00".repeat(32);
    await rejects(node.call(METHOD, [[unknown], [DESC_A]]), -5, "Block not found");
    await rejects(
      node.call(METHOD, [[h1, unknown], [`addrx(${ADDRESS_A})`]]),
      -5,
      "Block not found",
    );
    await rejects(
      node.call(METHOD, [["xyz"], [DESC_A]]),
      -8,
      "blockhash must be of length 64 (not 3, for 'xyz')",
    );
    await rejects(
      node.call(METHOD, [["zz".repeat(32)], [DESC_A]]),
      -8,
      `blockhash must be hexadecimal string (not '${"zz".repeat(32)}')`,
    );
    await rejects(
      node.call(METHOD, [[h1], [`addrx(${ADDRESS_A})`]]),
      -5,
      `'addrx(${ADDRESS_A})' is not a valid descriptor function`,
    );
    await rejects(
      node.call(METHOD, [[h1], [{ range: 1 }]]),
      -8,
      "Descriptor needs to be provided in scan object",
    );
    await rejects(
      node.call(METHOD, [[h1], [5]]),
      -8,
      "Scan object needs to be either a string or an object",
    );
    await rejects(node.call(METHOD, []), -1, HELP);
    await rejects(node.call(METHOD, [[]]), -1, HELP);
    await rejects(
      node.call(METHOD, [h1, [DESC_A]]),
      -3,
      'Wrong type passed:\n{\n    "Position 1 (blockhashes)": "JSON value of type string is not of expected type array"\n}',
    );
    await rejects(
      node.call(METHOD, [[h1], [DESC_A], "yes"]),
      -3,
      'Wrong type passed:\n{\n    "Position 3 (include_mempool)": "JSON value of type string is not of expected type bool"\n}',
    );
    assertEquals(await node.call("help", [METHOD]), HELP);
  });

  await t.step(
    "a block a reorganisation left: -8; its transaction back in the mempool",
    async () => {
      await node.call("invalidateblock", [h102]);
      await rejects(node.call(METHOD, [[h1, h102], [DESC_A]]), -8, "Block is not in main chain");
      // tx1 spends A's coinbase from the UTXO set now.
      assertSame(await activity([[h1], [DESC_A]]), [
        confirmedA[0],
        spend(50, {}, [tx1, 0], [cb1, 0], spkA),
        receive(39.9999, {}, tx1, 1, spkA),
        ...unconfirmedA,
      ]);
      await node.call("reconsiderblock", [h102]);
      assertSame(await activity([[h1, h102], [DESC_A]]), [...confirmedA, ...unconfirmedA]);
      assertEquals(node.stderr(), "");
    },
  );
});
