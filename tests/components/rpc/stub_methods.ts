/**
 * Test methods for the RPC framework: Core's real specs (arguments, results,
 * help texts) for a few chain methods, answered from a fixed two-block
 * "chain" so the framework's argument handling, errors and help can be
 * checked without a chain; plus test-only methods (a latch to fill the work
 * queue, the wallet path, amounts).
 *
 * @module
 */
import { RpcError, RpcErrorCode } from "../../../components/rpc/errors.ts";
import { helpExampleCli, helpExampleRpc } from "../../../components/rpc/help.ts";
import { Amount, asInt, type JsonInput } from "../../../components/rpc/json.ts";
import { defineMethod, type RpcMethod } from "../../../components/rpc/methods.ts";
import { amountFromValue, parseHashV, parseVerbosity } from "../../../components/rpc/params.ts";

/** The regtest genesis block hash. */
export const GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";
/** The stub chain's block 1. */
export const BLOCK1 = "1852b04b0e6b5a3b2d1bfb0a1dd9c1f01b9d1e3a0d2a4a8d0c2f0f6b2a1a1a0b";

const CHAIN = [GENESIS, BLOCK1];

/** Opens and closes the latch `waitforlatch` calls wait on. */
export class Latch {
  #open!: () => void;
  #promise = this.#reset();
  /** How many calls are waiting right now. */
  waiting = 0;

  #reset(): Promise<void> {
    return new Promise((resolve) => (this.#open = resolve));
  }

  /** Waits until opened (or the server stops). */
  async wait(signal: AbortSignal): Promise<void> {
    this.waiting++;
    try {
      await new Promise<void>((resolve) => {
        this.#promise.then(resolve);
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    } finally {
      this.waiting--;
    }
  }

  /** Releases every waiting call; later calls wait again. */
  open(): void {
    this.#open();
    this.#promise = this.#reset();
  }
}

/** The stub methods; `latch` controls `waitforlatch`. */
export function stubMethods(latch = new Latch()): RpcMethod[] {
  return [
    defineMethod({
      name: "getblockcount",
      category: "blockchain",
      description: "Returns the height of the most-work fully-validated chain.\n" +
        "The genesis block has height 0.\n",
      result: { type: "num", description: "The current block count" },
      examples: helpExampleCli("getblockcount", "") + helpExampleRpc("getblockcount", ""),
      handler: () => CHAIN.length - 1,
    }),
    defineMethod({
      name: "getblockhash",
      category: "blockchain",
      description: "Returns hash of block in best-block-chain at height provided.\n",
      args: [{ name: "height", type: "num", description: "The height index" }],
      result: { type: "hex", description: "The block hash" },
      examples: helpExampleCli("getblockhash", "1000") + helpExampleRpc("getblockhash", "1000"),
      handler(params) {
        const height = params.arg("height", asInt);
        if (height < 0 || height >= CHAIN.length) {
          throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "Block height out of range");
        }
        return CHAIN[height];
      },
    }),
    defineMethod({
      name: "getblockheader",
      category: "blockchain",
      description:
        "If verbose is false, returns a string that is serialized, hex-encoded data for blockheader 'hash'.\n" +
        "If verbose is true, returns an Object with information about blockheader <hash>.\n",
      args: [
        { name: "blockhash", type: "hex", description: "The block hash" },
        {
          name: "verbose",
          type: "bool",
          default: true,
          description: "true for a json object, false for the hex-encoded data",
        },
      ],
      result: [
        {
          cond: "for verbose = true",
          type: "obj",
          inner: [
            { type: "hex", key: "hash", description: "the block hash (same as provided)" },
            {
              type: "num",
              key: "confirmations",
              description:
                "The number of confirmations, or -1 if the block is not on the main chain",
            },
            { type: "num", key: "height", description: "The block height or index" },
            { type: "num", key: "version", description: "The block version" },
            {
              type: "hex",
              key: "versionHex",
              description: "The block version formatted in hexadecimal",
            },
            { type: "hex", key: "merkleroot", description: "The merkle root" },
            {
              type: "time",
              key: "time",
              description: "The block time expressed in UNIX epoch time",
            },
            {
              type: "time",
              key: "mediantime",
              description: "The median block time expressed in UNIX epoch time",
            },
            { type: "num", key: "nonce", description: "The nonce" },
            {
              type: "hex",
              key: "bits",
              description: "nBits: compact representation of the block difficulty target",
            },
            { type: "hex", key: "target", description: "The difficulty target" },
            { type: "num", key: "difficulty", description: "The difficulty" },
            {
              type: "hex",
              key: "chainwork",
              description: "Expected number of hashes required to produce the current chain",
            },
            { type: "num", key: "nTx", description: "The number of transactions in the block" },
            {
              type: "hex",
              key: "previousblockhash",
              optional: true,
              description: "The hash of the previous block (if available)",
            },
            {
              type: "hex",
              key: "nextblockhash",
              optional: true,
              description: "The hash of the next block (if available)",
            },
          ],
        },
        {
          cond: "for verbose=false",
          type: "hex",
          description: "A string that is serialized, hex-encoded data for block 'hash'",
        },
      ],
      examples: helpExampleCli(
        "getblockheader",
        '"00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09"',
      ) +
        helpExampleRpc(
          "getblockheader",
          '"00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09"',
        ),
      handler(params) {
        const hash = parseHashV(params.raw("blockhash"), "hash");
        const height = CHAIN.indexOf(hash);
        if (height < 0) throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found");
        return { hash, confirmations: CHAIN.length - height, height };
      },
    }),
    defineMethod({
      name: "getblock",
      category: "blockchain",
      description:
        "If verbosity is 0, returns a string that is serialized, hex-encoded data for block 'hash'.\n" +
        "If verbosity is 1, returns an Object with information about block <hash>.\n",
      args: [
        { name: "blockhash", type: "hex", description: "The block hash" },
        {
          name: "verbosity|verbose",
          type: "num",
          default: 1,
          description: "0 for hex-encoded data, 1 for a JSON object",
          skipTypeCheck: true,
        },
      ],
      result: [
        { cond: "for verbosity = 0", type: "hex", description: "The block" },
        {
          cond: "for verbosity = 1",
          type: "obj",
          inner: [{ type: "hex", key: "hash", description: "the block hash" }, {
            type: "num",
            key: "height",
            description: "the height",
          }],
        },
      ],
      handler(params) {
        const hash = parseHashV(params.raw("blockhash"), "blockhash");
        const height = CHAIN.indexOf(hash);
        if (height < 0) throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Block not found");
        const verbosity = parseVerbosity(params.raw("verbosity"), 1);
        return verbosity <= 0 ? "00" : { hash, height };
      },
    }),
    defineMethod({
      name: "decoderawtransaction",
      category: "rawtransactions",
      description: "Return a JSON object representing the serialized, hex-encoded transaction.",
      args: [
        { name: "hexstring", type: "hex", description: "The transaction hex string" },
        {
          name: "iswitness",
          type: "bool",
          defaultHint: "depends on heuristic tests",
          description: "Whether the transaction hex is a serialized witness transaction.",
        },
      ],
      result: {
        type: "obj",
        inner: [{ type: "hex", key: "txid", description: "The transaction id" }],
      },
      handler() {
        // The stub decodes nothing: every transaction is undecodable, as `zz` is in Core.
        throw new RpcError(RpcErrorCode.DESERIALIZATION_ERROR, "TX decode failed");
      },
    }),
    // Test-only methods below.
    defineMethod({
      name: "waitforlatch",
      category: "test",
      description: "Waits until the test opens the latch.",
      result: { type: "none", description: "" },
      async handler(_params, ctx) {
        await latch.wait(ctx.signal);
      },
    }),
    defineMethod({
      name: "walletname",
      category: "test",
      description: "The wallet named by the request path.",
      result: { type: "any" },
      handler: (_params, ctx) => ctx.walletName ?? null,
    }),
    defineMethod({
      name: "amount",
      category: "test",
      description: "Echoes an amount in BTC.",
      args: [{ name: "amount", type: "amount", description: "" }],
      result: { type: "amount", description: "" },
      handler: (params): JsonInput => new Amount(params.arg("amount", amountFromValue)),
    }),
  ];
}
