/**
 * `simulaterawtransaction`, as Bitcoin Core's (`wallet/rpc/transactions.cpp`):
 * the node decodes each transaction and tells, for each input, whether the
 * coin it spends is in its UTXO set or the mempool (Core's `findCoins`);
 * the wallet the request means sums what the transactions would take from
 * it and pay it, in order, a later one spending an earlier one's outputs.
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { NodeServices } from "./services.ts";
 * import { simulateMethod } from "./simulate.ts";
 * const chain = await ChainState.open(await Deno.makeTempDir());
 * const node = new NodeServices({ chain, mempool: new Mempool(chain) });
 * if (!simulateMethod(node).help.includes("balance_change")) throw new Error("help");
 * ```
 * @module
 */
import { hex } from "@scure/base";
import { hashToHex, outpointKey, prevout, txid } from "../chain/mod.ts";
import {
  asArr,
  asStr,
  defineMethod,
  helpExampleCli,
  helpExampleRpc,
  JsonNumber,
  JsonObject,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { amount, obj } from "./docs.ts";
import { decodeHexTx } from "./encoding.ts";
import { checkedOptions, routed } from "./funding.ts";
import type { NodeServices } from "./services.ts";
import { findCoins } from "./signing.ts";

/** `simulaterawtransaction`, routed to the wallet the request means. */
export function simulateMethod(node: NodeServices): RpcMethod {
  return defineMethod({
    name: "simulaterawtransaction",
    category: "wallet",
    description:
      "Calculate the balance change resulting in the signing and broadcasting of the given transaction(s).\n",
    args: [
      {
        name: "rawtxs",
        type: "arr",
        optional: true,
        description: "An array of hex strings of raw transactions.\n",
        inner: [{ name: "rawtx", type: "hex", optional: true, description: "" }],
      },
      {
        name: "options",
        type: "obj_named_params",
        optional: true,
        description: "",
        inner: [{
          name: "include_watchonly",
          type: "bool",
          defaultHint: "true for watch-only wallets, otherwise false",
          description: "Whether to include watch-only addresses (see RPC importaddress)",
        }],
        onelineDescription: "options",
      },
    ],
    result: obj("", "", [
      amount("balance_change", "The wallet balance change (negative means decrease)."),
    ]),
    examples: helpExampleCli("simulaterawtransaction", '["myhex"]') +
      helpExampleRpc("simulaterawtransaction", '["myhex"]'),
    handler: routed(node, "simulaterawtransaction", (params) => {
      // RPCTypeCheckObj's check of the one option; a wallet here watches its own keys only, so
      // it changes nothing.
      checkedOptions(params.raw("options"), { include_watchonly: "bool" });
      const mempool = node.mempool.coins({ includeSpent: true });
      // Each transaction as the wallet needs it, or null where the hex does not decode (Core
      // refuses it when its turn comes, after the transactions before it).
      const txs = asArr(params.raw("rawtxs")).map((value) => {
        // Core's simulaterawtransaction tries both serializations.
        const tx = decodeHexTx(asStr(value), { tryNoWitness: true });
        if (tx === undefined) return null;
        const coins = findCoins(tx, mempool);
        return new JsonObject([
          ["txid", hashToHex(txid(tx))],
          [
            "inputs",
            tx.inputs.map((input) =>
              new JsonObject([
                ["txid", hashToHex(prevout(input).txid)],
                ["vout", new JsonNumber(String(input.index))],
                ["known", coins.has(outpointKey(prevout(input)))],
              ])
            ),
          ],
          [
            "outputs",
            tx.outputs.map((output) =>
              new JsonObject([
                ["script", hex.encode(output.script)],
                ["amount", output.amount.toString()],
              ])
            ),
          ],
        ]);
      });
      return [txs];
    }),
  });
}
