/**
 * gettxoutproof and verifytxoutproof on a regtest node, as Core's
 * `rpc_txoutproof.py` uses them: proofs of one or several transactions,
 * found through a coin they still have, a block hash given, or the
 * transaction index; what verifytxoutproof refuses or shows nothing for
 * (a tampered hash, a subtree passed off as a block, a block not in the
 * active chain); Core's codes and messages.
 *
 * @module
 */
import { hex } from "@scure/base";
import { assertEquals } from "../../../assert.ts";
import { coinbaseUtxo, type RealNode, rejects, startRealNode } from "../real_node.ts";
import { signTx, TestKey, type Utxo } from "../chain/chain_helpers.ts";
import {
  decodeMerkleBlock,
  encodeMerkleBlock,
  encodeTx,
  hashFromHex,
  scriptToAddress,
} from "../../../../components/node/chain/mod.ts";

const key = new TestKey(31);
const other = new TestKey(32);
const ADDRESS = scriptToAddress(key.wpkh)!;

/** Sends a transaction of `utxo` paying `other` all but 10,000 sat; its txid and its one coin. */
async function spend(call: RealNode["call"], utxo: Utxo): Promise<{ txid: string; coin: Utxo }> {
  const amount = utxo.amount - 10_000n;
  const tx = signTx([utxo], [{ script: other.wpkh, amount }]);
  const txid: string = await call("sendrawtransaction", [hex.encode(encodeTx(tx))]);
  return {
    txid,
    coin: {
      outpoint: { txid: hashFromHex(txid), index: 0 },
      amount,
      script: other.wpkh,
      key: other,
    },
  };
}

for (const txindex of [false, true]) {
  Deno.test(`gettxoutproof and verifytxoutproof${txindex ? " with -txindex" : ""}: Core's proofs and refusals`, async () => {
    await using node = await startRealNode({
      args: ["-rpcdoccheck", ...(txindex ? ["-txindex"] : [])],
    });
    const call = node.call;
    const blocks: string[] = await call("generatetoaddress", [103, ADDRESS]);
    const first = await spend(call, await coinbaseUtxo(call, blocks[0], key));
    const second = await spend(call, await coinbaseUtxo(call, blocks[1], key));
    await rejects(call("gettxoutproof", [[first.txid]]), -5, "Transaction not yet in block");
    const [mined] = await call("generatetoaddress", [1, ADDRESS]);
    const coinbase: string = (await call("getblock", [mined])).tx[0];

    // Found through the coin it still has, or in the block given; several at once, in block order.
    const proof: string = await call("gettxoutproof", [[first.txid]]);
    assertEquals(await call("verifytxoutproof", [proof]), [first.txid]);
    assertEquals(await call("gettxoutproof", [[first.txid], mined]), proof);
    const both: string = await call("gettxoutproof", [[second.txid, first.txid]]);
    assertEquals(
      (await call("verifytxoutproof", [both])).sort(),
      [first.txid, second.txid].sort(),
    );
    assertEquals(await call("verifytxoutproof", [await call("gettxoutproof", [[coinbase]])]), [
      coinbase,
    ]);

    // Once every coin of it is spent: only the transaction index or the block hash finds it.
    const third = await spend(call, first.coin);
    await call("generatetoaddress", [1, ADDRESS]);
    if (txindex) assertEquals(await call("gettxoutproof", [[first.txid]]), proof);
    else await rejects(call("gettxoutproof", [[first.txid]]), -5, "Transaction not yet in block");
    assertEquals(await call("gettxoutproof", [[first.txid], mined]), proof);
    await rejects(
      call("gettxoutproof", [[first.txid, third.txid], mined]),
      -5,
      "Not all transactions found in specified or retrieved block",
    );

    // Core's refusals of the arguments.
    await rejects(call("gettxoutproof", [[]]), -8, "Parameter 'txids' cannot be empty");
    await rejects(
      call("gettxoutproof", [[first.txid, first.txid.toUpperCase()]]),
      -8,
      `Invalid parameter, duplicated txid: ${first.txid.toUpperCase()}`,
    );
    await rejects(
      call("gettxoutproof", [["foo"]]),
      -8,
      "txid must be of length 64 (not 3, for 'foo')",
    );
    await rejects(call("gettxoutproof", [[first.txid], "00".repeat(32)]), -5, "Block not found");
    await rejects(
      call("gettxoutproof", [["ab".repeat(32)]]),
      -5,
      "Transaction not yet in block",
    );
    await rejects(call("verifytxoutproof", [""]), -8, "proof must be hexadecimal string (not '')");
    await rejects(
      call("verifytxoutproof", [proof.slice(0, 170)]),
      -1,
      "DataStream::read(): end of data: iostream error",
    );

    // A hash changed: the root does not match, nothing is shown.
    const parsed = decodeMerkleBlock(hex.decode(proof));
    const tampered = {
      ...parsed,
      hashes: parsed.hashes.map((h, i) => i === 0 ? h.map((b) => b ^ 1) : h),
    };
    assertEquals(await call("verifytxoutproof", [hex.encode(encodeMerkleBlock(tampered))]), []);
    // rpc_txoutproof.py: the block's root passed off as a block of one transaction.
    const subtree = {
      ...parsed,
      transactions: 1,
      hashes: [parsed.header.merkleRoot],
      flags: Uint8Array.of(1),
      bitCount: 8,
    };
    assertEquals(await call("verifytxoutproof", [hex.encode(encodeMerkleBlock(subtree))]), []);
    // A header no block has, and a block out of the active chain.
    const unknown = { ...parsed, header: { ...parsed.header, nonce: parsed.header.nonce + 1 } };
    await rejects(
      call("verifytxoutproof", [hex.encode(encodeMerkleBlock(unknown))]),
      -5,
      "Block not found in chain",
    );
    await call("invalidateblock", [mined]);
    await rejects(call("verifytxoutproof", [proof]), -5, "Block not found in chain");
    await call("reconsiderblock", [mined]);
    assertEquals(await call("verifytxoutproof", [proof]), [first.txid]);
  });
}
