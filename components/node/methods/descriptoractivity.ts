/**
 * `getdescriptoractivity` (Bitcoin Core v30's `rpc/blockchain.cpp`, added
 * in v29): the spends of and payments to the scripts of a set of
 * descriptors (scan objects, as scantxoutset takes them) in the given
 * blocks of the active chain, taken in height order whatever order they
 * are named in, and then in the mempool. A spend's prevout comes from the
 * block's undo data, or for a mempool transaction from the UTXO set, else
 * from its mempool parent — where Core looks them up. Core's help text,
 * key order and errors.
 *
 * The genesis block pays its 50 BTC to Satoshi's key:
 *
 * @example
 * ```ts
 * import { ChainState, GENESIS_HASH, hashToHex } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { type Json, parseJson, type RequestContext, writeJson } from "../../rpc/mod.ts";
 * import { descriptorActivityMethod } from "./descriptoractivity.ts";
 * import { NodeServices } from "./services.ts";
 * const key = "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f";
 * const ctx = { signal: new AbortController().signal } as RequestContext;
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   const method = descriptorActivityMethod(new NodeServices({ chain, mempool }));
 *   const params = parseJson(`[["${hashToHex(GENESIS_HASH)}"], ["pk(${key})"]]`) as Json[];
 *   const result = writeJson(await method.call(params, ctx));
 *   const receive = `{"type":"receive","amount":50.00000000,"blockhash":"${hashToHex(GENESIS_HASH)}","height":0,`;
 *   if (!result.startsWith(`{"activity":[${receive}`)) throw new Error(result);
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { hex } from "@scure/base";
import {
  type BlockEntry,
  hashToHex,
  prevout,
  SigningProvider,
  txid,
  type TxInput,
  type TxOutput,
} from "../chain/mod.ts";
import {
  Amount,
  asArr,
  asBool,
  defineMethod,
  helpExampleCli,
  type JsonInput,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { lookupBlock, readBlockChecked } from "./blockchain.ts";
import { evalScanObject, SCAN_OBJECT_ELEMENTS } from "./descriptors.ts";
import { amount, arr, CURRENCY_UNIT, hexStr, num, obj, scriptPubKeyDoc, str } from "./docs.ts";
import { scriptPubKeyJson } from "./encoding.ts";
import type { NodeServices } from "./services.ts";

/** Blocks read between chances for other calls to run (and for shutdown to stop the call). */
const BLOCKS_PER_STEP = 16;

/** Where an event was confirmed: `blockhash` and `height`, absent for the mempool. */
function confirmation(entry: BlockEntry | undefined): [string, JsonInput][] {
  return entry ? [["blockhash", hashToHex(entry.hash)], ["height", entry.height]] : [];
}

/** Core's `AddSpend`: input `vin` of `tx` (txid `spender`) spent `coin`. */
function spendEvent(
  coin: TxOutput,
  spender: string,
  vin: number,
  input: TxInput,
  entry: BlockEntry | undefined,
): Map<string, JsonInput> {
  return new Map<string, JsonInput>([
    ["type", "spend"],
    ["amount", new Amount(coin.amount)],
    ...confirmation(entry),
    ["spend_txid", spender],
    ["spend_vin", vin],
    ["prevout_txid", hex.encode(input.txid)],
    ["prevout_vout", input.index],
    ["prevout_spk", scriptPubKeyJson(coin.script)],
  ]);
}

/** Core's `AddReceive`: output `vout` of the transaction `receiver`. */
function receiveEvent(
  output: TxOutput,
  entry: BlockEntry | undefined,
  vout: number,
  receiver: string,
): Map<string, JsonInput> {
  return new Map<string, JsonInput>([
    ["type", "receive"],
    ["amount", new Amount(output.amount)],
    ...confirmation(entry),
    ["txid", receiver],
    ["vout", vout],
    ["output_spk", scriptPubKeyJson(output.script)],
  ]);
}

/** `getdescriptoractivity` over the node's chain state and mempool. */
export function descriptorActivityMethod(node: NodeServices): RpcMethod {
  const { chain, mempool } = node;
  return defineMethod({
    name: "getdescriptoractivity",
    category: "blockchain",
    description:
      "Get spend and receive activity associated with a set of descriptors for a set of blocks. " +
      "This command pairs well with the `relevant_blocks` output of `scanblocks()`.\n" +
      "This call may take several minutes. If you encounter timeouts, try specifying no RPC timeout (bitcoin-cli -rpcclienttimeout=0)",
    args: [
      {
        name: "blockhashes",
        type: "arr",
        description:
          "The list of blockhashes to examine for activity. Order doesn't matter. Must be along main chain or an error is thrown.\n",
        inner: [{
          name: "blockhash",
          type: "hex",
          optional: true,
          description: "A valid blockhash",
        }],
      },
      {
        name: "scanobjects",
        type: "arr",
        description:
          "The list of descriptors (scan objects) to examine for activity. Every scan object is either a string descriptor or an object:",
        inner: SCAN_OBJECT_ELEMENTS,
        onelineDescription: "[scanobjects,...]",
      },
      {
        name: "include_mempool",
        type: "bool",
        default: true,
        description: "Whether to include unconfirmed activity",
      },
    ],
    result: obj("", "", [{
      ...arr("activity", "events", [
        obj("", "", [
          str("type", "always 'spend'"),
          amount("amount", `The total amount in ${CURRENCY_UNIT} of the spent output`),
          hexStr("blockhash", "The blockhash this spend appears in (omitted if unconfirmed)", true),
          num("height", "Height of the spend (omitted if unconfirmed)", true),
          hexStr("spend_txid", "The txid of the spending transaction"),
          num("spend_vin", "The input index of the spend"),
          hexStr("prevout_txid", "The txid of the prevout"),
          num("prevout_vout", "The vout of the prevout"),
          obj("prevout_spk", "", scriptPubKeyDoc()),
        ]),
        obj("", "", [
          str("type", "always 'receive'"),
          amount("amount", `The total amount in ${CURRENCY_UNIT} of the new output`),
          hexStr("blockhash", "The block that this receive is in (omitted if unconfirmed)", true),
          num("height", "The height of the receive (omitted if unconfirmed)", true),
          hexStr("txid", "The txid of the receiving transaction"),
          num("vout", "The vout of the receiving output"),
          obj("output_spk", "", scriptPubKeyDoc()),
        ]),
      ]),
      // Core's too: one array documents two kinds of element.
      skipTypeCheck: true,
    }]),
    examples: helpExampleCli(
      "getdescriptoractivity",
      `'["000000000000000000001347062c12fded7c528943c8ce133987e2e2f5a840ee"]' '["addr(bc1qzl6nsgqzu89a66l50cvwapnkw5shh23zarqkw9)"]'`,
    ),
    async handler(params, ctx) {
      // Every hash checked before anything is read; one block per height, lowest first.
      const byHeight = new Map<number, BlockEntry>();
      for (const value of asArr(params.raw("blockhashes"))) {
        const entry = lookupBlock(node, value);
        if (!chain.isActive(entry)) {
          throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "Block is not in main chain");
        }
        if (!byHeight.has(entry.height)) byHeight.set(entry.height, entry);
      }
      const watched = new Set<string>();
      for (const scanObject of asArr(params.raw("scanobjects"))) {
        for (const script of await evalScanObject(scanObject, new SigningProvider(), ctx.signal)) {
          watched.add(hex.encode(script));
        }
      }
      const isWatched = (script: Uint8Array) => watched.has(hex.encode(script));

      const activity: Map<string, JsonInput>[] = [];
      const entries = [...byHeight.values()].sort((a, b) => a.height - b.height);
      for (const [n, entry] of entries.entries()) {
        if (n > 0 && n % BLOCKS_PER_STEP === 0) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (ctx.signal.aborted) {
            throw new RpcError(RpcErrorCode.CLIENT_NOT_CONNECTED, "Shutting down");
          }
        }
        const { block, undo } = readBlockChecked(node, entry);
        for (const [i, tx] of block.txs.entries()) {
          const id = hashToHex(txid(tx));
          // The coinbase spends nothing; undo data starts at the second transaction.
          if (i > 0) {
            for (const [vin, coin] of undo[i - 1].entries()) {
              if (isWatched(coin.script)) {
                activity.push(spendEvent(coin, id, vin, tx.inputs[vin], entry));
              }
            }
          }
          for (const [vout, output] of tx.outputs.entries()) {
            if (isWatched(output.script)) activity.push(receiveEvent(output, entry, vout, id));
          }
        }
      }

      if (params.arg("include_mempool", asBool)) {
        for (const { tx, txid: hash } of mempool.entries()) {
          const id = hashToHex(hash);
          for (const [vin, input] of tx.inputs.entries()) {
            // A confirmed coin, else an output of its parent in the mempool.
            const outpoint = prevout(input);
            const coin = chain.getCoin(outpoint) ??
              mempool.get(outpoint.txid)?.tx.outputs[outpoint.index];
            if (coin === undefined) throw new Error("Invalid output index");
            if (isWatched(coin.script)) activity.push(spendEvent(coin, id, vin, input, undefined));
          }
          for (const [vout, output] of tx.outputs.entries()) {
            if (isWatched(output.script)) activity.push(receiveEvent(output, undefined, vout, id));
          }
        }
      }
      return new Map([["activity", activity]]);
    },
  });
}
