/**
 * The mining methods of Bitcoin Core v30 (`rpc/mining.cpp`): the hidden
 * generatetoaddress, generatetodescriptor and generateblock, and
 * submitblock, submitheader, getmininginfo, getnetworkhashps,
 * getblocktemplate (with the segwit rule), prioritisetransaction and
 * getprioritisedtransactions, over the node's chain, mempool and block assembler,
 * with Core's help texts, key order, errors and BIP 22 results.
 *
 * Block generation yields to the event loop every few milliseconds, so the
 * server stays responsive and a `stop` ends a long `generatetoaddress`
 * between blocks (Core checks its interrupt flag there too).
 *
 * `nodeMethods` (`mod.ts`, whose example runs it) adds `miningMethods(…)` to the
 * server's table with the others.
 * @module
 */
import { hex } from "@scure/base";
import {
  type Block,
  blockHash,
  blockMerkleRoot,
  BlockStatus,
  blockSubsidy,
  type BlockTemplate,
  blockTxWeightLimit,
  bytesEqual,
  createBlockTemplate,
  decodeBlock,
  decodeDestination,
  decodeHeader,
  DEFAULT_BLOCK_RESERVED_WEIGHT,
  DescriptorError,
  difficulty,
  encodeBlock,
  gbtStatus,
  grindNonce,
  type GrindOutcome,
  hashFromHex,
  hashToHex,
  isCoinbase,
  MAX_BLOCK_SIGOPS_COST,
  MAX_BLOCK_WEIGHT,
  minimumBlockTime,
  parseDescriptor,
  type TemplateTx,
  txid,
  txSizes,
  updateUncommittedBlockStructures,
  wtxid,
} from "../chain/mod.ts";
import {
  Amount,
  asArr,
  asBool,
  asInt,
  asInt64,
  asObj,
  asReal,
  asStr,
  asUint64,
  defineMethod,
  helpExampleCli,
  helpExampleRpc,
  type Json,
  type JsonInput,
  JsonObject,
  parseHashV,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { hex32, targetHex } from "./blockchain.ts";
import { dustOutputs } from "../mempool/mod.ts";
import {
  amount,
  arr,
  bool,
  hexStr,
  num,
  obj,
  objDyn,
  str,
  time,
  warningsDoc,
  when,
} from "./docs.ts";
import { decodeHexTx, encodeTxHex } from "./encoding.ts";
import type { NodeServices } from "./services.ts";

/** Core's `DEFAULT_MAX_TRIES`. */
const DEFAULT_MAX_TRIES = 1_000_000;
/** How long block generation runs before letting other work in. */
const YIELD_AFTER_MS = 20;
/** `MAX_BLOCK_SERIALIZED_SIZE`. */
const MAX_BLOCK_SERIALIZED_SIZE = 4_000_000;
/** The payout script of a template made for an external miner (Core's default `OP_TRUE`). */
const OP_TRUE_SCRIPT = Uint8Array.of(0x51);

/** A transaction the assembler picked, with its fee and sigop cost. */
type PickedTx = TemplateTx & { readonly sigops: number };

/** Builds a block template on the tip with the mempool's best transactions. */
type Assembler = (payoutScript: Uint8Array) => BlockTemplate & { txs: PickedTx[] };

/** The weight the assembler keeps for the header and coinbase (`-blockreservedweight`). */
const reservedWeight = (node: NodeServices) =>
  node.blockAssembly.reservedWeight ?? DEFAULT_BLOCK_RESERVED_WEIGHT;

/** Remembers what the assembler built, for `getmininginfo` (`m_last_block_*`). */
function remember(node: NodeServices, txs: readonly TemplateTx[]): void {
  node.lastAssembled = {
    weight: reservedWeight(node) + txs.reduce((w, t) => w + txSizes(t.tx).weight, 0),
    txCount: txs.length,
  };
}

const maxTriesArg = {
  name: "maxtries",
  type: "num",
  default: DEFAULT_MAX_TRIES,
  description: "How many iterations to try.",
} as const;

const hashesResult = arr("", "hashes of blocks generated", [hexStr("", "blockhash")]);

/**
 * Core's `getScriptFromDescriptor`: the script a descriptor stands for
 * (combo's P2WPKH, or P2PKH for an uncompressed key), or undefined when it
 * does not parse (with the reason); -8 for a ranged descriptor, -5 when a
 * hardened step needs a private key.
 */
function scriptFromDescriptor(text: string): { script?: Uint8Array; error?: string } {
  let descriptor;
  try {
    descriptor = parseDescriptor(text);
  } catch (error) {
    if (error instanceof DescriptorError) return { error: error.message };
    throw error;
  }
  if (descriptor.isRange) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      "Ranged descriptor not accepted. Maybe pass through deriveaddresses first?",
    );
  }
  let scripts: Uint8Array[];
  try {
    scripts = descriptor.expand(0).scripts;
  } catch (error) {
    if (!(error instanceof DescriptorError)) throw error;
    throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, error.message);
  }
  if (scripts.length === 1) return { script: scripts[0] };
  return { script: scripts.length === 4 ? scripts[2] : scripts[1] };
}

/** Core's `GenerateBlock`: the merkle root, then the nonce ground with `tries` shared across blocks. */
function grind(block: Block, tries: { left: bigint }): GrindOutcome {
  block.header.merkleRoot = blockMerkleRoot(block).root;
  return grindNonce(block, tries);
}

/** The fees of template transactions, summed. */
const totalFees = (txs: readonly TemplateTx[]) => txs.reduce((sum, t) => sum + t.fee, 0n);

/** Mining methods. */
export function miningMethods(node: NodeServices): RpcMethod[] {
  const { chain, mempool } = node;

  /** `createNewBlock`: a template on the tip with the mempool's best, remembered for getmininginfo. */
  const assemble: Assembler = (payoutScript) => {
    const txs = mempool.selectForBlock(
      blockTxWeightLimit(node.blockAssembly, reservedWeight(node)),
    );
    remember(node, txs);
    const { version } = node.blockAssembly;
    return { ...createBlockTemplate(chain, { payoutScript, txs, version }), txs };
  };

  /** `generateBlocks`. */
  const generate = async (
    payoutScript: Uint8Array,
    count: number,
    maxTries: bigint,
    signal: AbortSignal,
  ): Promise<string[]> => {
    const hashes: string[] = [];
    const tries = { left: maxTries };
    let since = performance.now();
    // Core's generateBlocks stops at the node's interrupt too (-stopatheight asks for it).
    while (hashes.length < count && !signal.aborted && !node.stopping.aborted) {
      const { block } = assemble(payoutScript);
      const outcome = grind(block, tries);
      if (outcome === "exhausted") break;
      if (outcome === "solved") {
        if (chain.processBlock(block) !== null) {
          throw new RpcError(RpcErrorCode.INTERNAL_ERROR, "ProcessNewBlock, block not accepted");
        }
        hashes.push(hashToHex(blockHash(block.header)));
      }
      if (performance.now() - since > YIELD_AFTER_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        since = performance.now();
      }
    }
    return hashes;
  };

  return [
    defineMethod({
      name: "generatetodescriptor",
      category: "hidden",
      description: "Mine to a specified descriptor and return the block hashes.",
      args: [
        { name: "num_blocks", type: "num", description: "How many blocks are generated." },
        {
          name: "descriptor",
          type: "str",
          description: "The descriptor to send the newly generated bitcoin to.",
        },
        maxTriesArg,
      ],
      result: hashesResult,
      examples: "\nGenerate 11 blocks to mydesc\n" +
        helpExampleCli("generatetodescriptor", '11 "mydesc"'),
      handler(params, ctx) {
        const count = params.arg("num_blocks", asInt);
        const maxTries = params.arg("maxtries", asUint64);
        const { script, error } = scriptFromDescriptor(params.arg("descriptor", asStr));
        if (!script) throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, error!);
        return generate(script, count, maxTries, ctx.signal);
      },
    }),
    defineMethod({
      name: "generatetoaddress",
      category: "hidden",
      description: "Mine to a specified address and return the block hashes.",
      args: [
        { name: "nblocks", type: "num", description: "How many blocks are generated." },
        {
          name: "address",
          type: "str",
          description: "The address to send the newly generated bitcoin to.",
        },
        maxTriesArg,
      ],
      result: hashesResult,
      examples: "\nGenerate 11 blocks to myaddress\n" +
        helpExampleCli("generatetoaddress", '11 "myaddress"') +
        "If you are using the Bitcoin Core wallet, you can get a new address to send the newly generated bitcoin to with:\n" +
        helpExampleCli("getnewaddress", ""),
      handler(params, ctx) {
        const count = params.arg("nblocks", asInt);
        // Core reads an int and keeps it as a uint64_t: -1 is 2^64 - 1 tries, unlimited in effect.
        const maxTries = BigInt.asUintN(
          64,
          BigInt(params.has("maxtries") ? params.arg("maxtries", asInt) : DEFAULT_MAX_TRIES),
        );
        const dest = decodeDestination(params.arg("address", asStr));
        if (!dest.ok) {
          throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Error: Invalid address");
        }
        return generate(dest.script, count, maxTries, ctx.signal);
      },
    }),
    defineMethod({
      name: "generateblock",
      category: "hidden",
      description:
        "Mine a set of ordered transactions to a specified address or descriptor and return the block hash.\n" +
        "Transaction fees are not collected in the block reward.",
      args: [
        {
          name: "output",
          type: "str",
          description: "The address or descriptor to send the newly generated bitcoin to.",
        },
        {
          name: "transactions",
          type: "arr",
          description: "An array of hex strings which are either txids or raw transactions.\n" +
            "Txids must reference transactions currently in the mempool.\n" +
            "All transactions must be valid and in valid order, otherwise the block will be rejected.",
          inner: [{ name: "rawtx/txid", type: "hex", optional: true, description: "" }],
        },
        {
          name: "submit",
          type: "bool",
          default: true,
          description:
            "Whether to submit the block before the RPC call returns or to return it as hex.",
        },
      ],
      result: obj("", "", [
        hexStr("hash", "hash of generated block"),
        hexStr("hex", "hex of generated block, only present when submit=false", true),
      ]),
      examples: "\nGenerate a block to myaddress, with txs rawtx and mempool_txid\n" +
        helpExampleCli("generateblock", `"myaddress" '["rawtx", "mempool_txid"]'`),
      handler(params) {
        const output = params.arg("output", asStr);
        let payoutScript = scriptFromDescriptor(output).script;
        if (!payoutScript) {
          const dest = decodeDestination(output);
          if (!dest.ok) {
            throw new RpcError(
              RpcErrorCode.INVALID_ADDRESS_OR_KEY,
              "Error: Invalid address or descriptor",
            );
          }
          payoutScript = dest.script;
        }
        const txs: TemplateTx[] = asArr(params.raw("transactions")).map((value) => {
          const text = asStr(value);
          if (/^[0-9a-fA-F]{64}$/.test(text)) {
            const entry = mempool.get(text.toLowerCase());
            if (!entry) {
              throw new RpcError(
                RpcErrorCode.INVALID_ADDRESS_OR_KEY,
                `Transaction ${text} not in mempool.`,
              );
            }
            return { tx: entry.tx, fee: 0n };
          }
          const tx = decodeHexTx(text);
          if (!tx) {
            throw new RpcError(
              RpcErrorCode.DESERIALIZATION_ERROR,
              `Transaction decode failed for ${text}. Make sure the tx has at least one input.`,
            );
          }
          return { tx, fee: 0n };
        });
        const submit = params.arg("submit", asBool);
        // Core assembles an empty template (no mempool), then adds the transactions.
        remember(node, []);
        const { version } = node.blockAssembly;
        const { block } = createBlockTemplate(chain, { payoutScript, txs, version });
        const invalid = chain.testBlockValidity(block, { checkPow: false, checkMerkleRoot: false });
        if (invalid) {
          throw new RpcError(
            RpcErrorCode.VERIFY_ERROR,
            `TestBlockValidity failed: ${invalid.reason}${
              invalid.detail ? `, ${invalid.detail}` : ""
            }`,
          );
        }
        const tries = { left: BigInt(DEFAULT_MAX_TRIES) };
        if (grind(block, tries) !== "solved") {
          throw new RpcError(RpcErrorCode.MISC_ERROR, "Failed to make block.");
        }
        const hash = hashToHex(blockHash(block.header));
        if (!submit) return { hash, hex: hex.encode(encodeBlock(block)) };
        if (chain.processBlock(block) !== null) {
          throw new RpcError(RpcErrorCode.INTERNAL_ERROR, "ProcessNewBlock, block not accepted");
        }
        return { hash };
      },
    }),
    defineMethod({
      name: "submitblock",
      category: "mining",
      description: "Attempts to submit new block to network.\n" +
        "See https://en.bitcoin.it/wiki/BIP_0022 for full specification.\n",
      args: [
        { name: "hexdata", type: "hex", description: "the hex-encoded block data to submit" },
        {
          name: "dummy",
          type: "str",
          defaultHint: "ignored",
          description: "dummy value, for compatibility with BIP22. This value is ignored.",
        },
      ],
      result: [
        when("If the block was accepted", { type: "none", description: "" }),
        when("Otherwise", str("", "According to BIP22")),
      ],
      examples: helpExampleCli("submitblock", '"mydata"') +
        helpExampleRpc("submitblock", '"mydata"'),
      handler(params) {
        const block = decodeHexBlock(params.arg("hexdata", asStr));
        if (!block) throw new RpcError(RpcErrorCode.DESERIALIZATION_ERROR, "Block decode failed");
        if (block.txs.length === 0 || !isCoinbase(block.txs[0])) {
          throw new RpcError(
            RpcErrorCode.DESERIALIZATION_ERROR,
            "Block does not start with a coinbase",
          );
        }
        if (chain.entry(block.header.prevHash)) updateUncommittedBlockStructures(block);
        return chain.processBlock(block);
      },
    }),
    defineMethod({
      name: "getnetworkhashps",
      category: "mining",
      description: "Returns the estimated network hashes per second based on the last n blocks.\n" +
        "Pass in [blocks] to override # of blocks, -1 specifies since last difficulty change.\n" +
        "Pass in [height] to estimate the network speed at the time when a certain block was found.\n",
      args: [
        {
          name: "nblocks",
          type: "num",
          default: 120,
          description:
            "The number of previous blocks to calculate estimate from, or -1 for blocks since last difficulty change.",
        },
        {
          name: "height",
          type: "num",
          default: -1,
          description: "To estimate at the time of the given height.",
        },
      ],
      result: num("", "Hashes per second estimated"),
      examples: helpExampleCli("getnetworkhashps", "") + helpExampleRpc("getnetworkhashps", ""),
      handler: (params) =>
        networkHashPs(node, params.arg("nblocks", asInt), params.arg("height", asInt)),
    }),
    defineMethod({
      name: "getmininginfo",
      category: "mining",
      description: "Returns a json object containing mining-related information.",
      result: obj("", "", [
        num("blocks", "The current block"),
        num(
          "currentblockweight",
          "The block weight (including reserved weight for block header, txs count and coinbase tx) of the last assembled block (only present if a block was ever assembled)",
          true,
        ),
        num(
          "currentblocktx",
          "The number of block transactions (excluding coinbase) of the last assembled block (only present if a block was ever assembled)",
          true,
        ),
        hexStr("bits", "The current nBits, compact representation of the block difficulty target"),
        num("difficulty", "The current difficulty"),
        hexStr("target", "The current target"),
        num("networkhashps", "The network hashes per second"),
        num("pooledtx", "The size of the mempool"),
        amount(
          "blockmintxfee",
          "Minimum feerate of packages selected for block inclusion in BTC/kvB",
        ),
        str("chain", "current network name (main, test, testnet4, signet, regtest)"),
        hexStr(
          "signet_challenge",
          "The block challenge (aka. block script), in hexadecimal (only present if the current network is a signet)",
          true,
        ),
        obj("next", "The next block", [
          num("height", "The next height"),
          hexStr("bits", "The next target nBits"),
          num("difficulty", "The next difficulty"),
          hexStr("target", "The next target"),
        ]),
        warningsDoc(node.deprecatedRpc),
      ]),
      examples: helpExampleCli("getmininginfo", "") + helpExampleRpc("getmininginfo", ""),
      handler() {
        const tip = chain.tip;
        const bits = tip.header.bits;
        const out = new Map<string, JsonInput>([["blocks", chain.height]]);
        if (node.lastAssembled) {
          out.set("currentblockweight", node.lastAssembled.weight);
          out.set("currentblocktx", node.lastAssembled.txCount);
        }
        out.set("bits", hex32(bits));
        out.set("difficulty", difficulty(bits));
        out.set("target", targetHex(bits));
        out.set("networkhashps", networkHashPs(node, 120, -1));
        out.set("pooledtx", mempool.size);
        out.set("blockmintxfee", new Amount(mempool.policy.blockMinFeeRate));
        out.set("chain", "regtest");
        out.set(
          "next",
          new Map<string, JsonInput>([
            ["height", chain.height + 1],
            ["bits", hex32(bits)],
            ["difficulty", difficulty(bits)],
            ["target", targetHex(bits)],
          ]),
        );
        out.set("warnings", node.warnings.forRpc(node.deprecatedRpc));
        return out;
      },
    }),
    getBlockTemplate(node, assemble),
    ...prioritisationMethods(node),
    submitHeaderMethod(node),
  ];
}

/**
 * Core's `DecodeHexBlk`: undefined for bad hex or an undecodable block;
 * bytes after the block are ignored, as Core does not look for them.
 */
function decodeHexBlock(text: string): Block | undefined {
  if (!/^([0-9a-fA-F]{2})+$/.test(text)) return undefined;
  try {
    return decodeBlock(hex.decode(text.toLowerCase()), { allowTrailingBytes: true });
  } catch {
    return undefined;
  }
}

/** Core's `GetNetworkHashPS`. */
function networkHashPs(node: NodeServices, lookupIn: number, height: number): number {
  const { chain } = node;
  if (lookupIn < -1 || lookupIn === 0) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      "Invalid nblocks. Must be a positive number or -1.",
    );
  }
  if (height < -1 || height > chain.height) {
    throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "Block does not exist at specified height");
  }
  const pb = height >= 0 ? chain.entryAtHeight(height)! : chain.tip;
  if (pb.height === 0) return 0;
  let lookup = lookupIn === -1 ? (pb.height % 2016) + 1 : lookupIn;
  if (lookup > pb.height) lookup = pb.height;
  let cursor = pb;
  let minTime = pb.header.time;
  let maxTime = minTime;
  for (let i = 0; i < lookup; i++) {
    cursor = cursor.prev!;
    minTime = Math.min(minTime, cursor.header.time);
    maxTime = Math.max(maxTime, cursor.header.time);
  }
  if (minTime === maxTime) return 0;
  return Number(pb.chainWork - cursor.chainWork) / (maxTime - minTime);
}

/** `getblocktemplate`: template mode (segwit rule required) and BIP 23 proposals. */
function getBlockTemplate(node: NodeServices, assemble: Assembler): RpcMethod {
  const { chain } = node;
  return defineMethod({
    name: "getblocktemplate",
    category: "mining",
    description:
      "If the request parameters include a 'mode' key, that is used to explicitly select between the default 'template' request or a 'proposal'.\n" +
      "It returns data needed to construct a block to work on.\n" +
      "For full specification, see BIPs 22, 23, 9, and 145:\n" +
      "    https://github.com/bitcoin/bips/blob/master/bip-0022.mediawiki\n" +
      "    https://github.com/bitcoin/bips/blob/master/bip-0023.mediawiki\n" +
      "    https://github.com/bitcoin/bips/blob/master/bip-0009.mediawiki#getblocktemplate_changes\n" +
      "    https://github.com/bitcoin/bips/blob/master/bip-0145.mediawiki\n",
    args: [{
      name: "template_request",
      type: "obj",
      description: "Format of the template",
      inner: [
        {
          name: "mode",
          type: "str",
          optional: true,
          description: 'This must be set to "template", "proposal" (see BIP 23), or omitted',
        },
        {
          name: "capabilities",
          type: "arr",
          optional: true,
          description: "A list of strings",
          inner: [{
            name: "str",
            type: "str",
            optional: true,
            description:
              "client side supported feature, 'longpoll', 'coinbasevalue', 'proposal', 'serverlist', 'workid'",
          }],
        },
        {
          name: "rules",
          type: "arr",
          description: "A list of strings",
          inner: [
            {
              name: "segwit",
              type: "str",
              description: "(literal) indicates client side segwit support",
            },
            {
              name: "str",
              type: "str",
              optional: true,
              description: "other client side supported softfork deployment",
            },
          ],
        },
        {
          name: "longpollid",
          type: "str",
          optional: true,
          description:
            'delay processing request until the result would vary significantly from the "longpollid" of a prior template',
        },
        {
          name: "data",
          type: "hex",
          optional: true,
          description:
            'proposed block data to check, encoded in hexadecimal; valid only for mode="proposal"',
        },
      ],
    }],
    result: [
      when("If the proposal was accepted with mode=='proposal'", { type: "none", description: "" }),
      when("If the proposal was not accepted with mode=='proposal'", str("", "According to BIP22")),
      when("Otherwise", obj("", "", templateDoc())),
    ],
    examples: helpExampleCli("getblocktemplate", `'{"rules": ["segwit"]}'`) +
      helpExampleRpc("getblocktemplate", '{"rules": ["segwit"]}'),
    handler(params) {
      const request = params.has("template_request")
        ? asObj(params.raw("template_request"))
        : new JsonObject();
      const mode = optionalString(request.get("mode"), "Invalid mode") ?? "template";
      if (mode === "proposal") return proposal(node, request.get("data"));
      if (mode !== "template") throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "Invalid mode");
      const rules = new Set(
        request.has("rules") ? asArr(request.get("rules")!).map((rule) => asStr(rule)) : [],
      );
      if (!rules.has("segwit")) {
        throw new RpcError(
          RpcErrorCode.INVALID_PARAMETER,
          'getblocktemplate must be called with the segwit rule set (call with {"rules": ["segwit"]})',
        );
      }
      const template = assemble(OP_TRUE_SCRIPT);
      const { block } = template;
      const versionBits = gbtStatus(chain, chain.entry(block.header.prevHash));
      const position = new Map(template.txs.map((t, i) => [hashToHex(txid(t.tx)), i + 1]));
      const transactions = template.txs.map((t) =>
        new Map<string, JsonInput>([
          ["data", encodeTxHex(t.tx)],
          ["txid", hashToHex(txid(t.tx))],
          ["hash", hashToHex(wtxid(t.tx))],
          [
            "depends",
            t.tx.inputs.map((input) => position.get(hex.encode(input.txid)))
              .filter((i): i is number => i !== undefined),
          ],
          ["fee", t.fee],
          ["sigops", t.sigops],
          ["weight", txSizes(t.tx).weight],
        ])
      );
      return new Map<string, JsonInput>([
        ["capabilities", ["proposal"]],
        ["version", block.header.version],
        // Core's GBTStatus: both regtest deployments are optional rules (`gbt_optional_rule`), so
        // no client needs to know them, and a block keeps the bits they signal.
        ["rules", ["csv", "!segwit", ...versionBits.active.map(({ name }) => name)]],
        [
          "vbavailable",
          new Map([...versionBits.signalling, ...versionBits.lockedIn].map(({ name, bit }) => [
            name,
            bit,
          ])),
        ],
        ["vbrequired", 0],
        ["previousblockhash", hashToHex(block.header.prevHash)],
        ["transactions", transactions],
        ["coinbaseaux", new Map()],
        ["coinbasevalue", blockSubsidy(template.height) + totalFees(template.txs)],
        ["longpollid", hashToHex(chain.tip.hash) + String(node.mempool.sequence)],
        ["target", targetHex(block.header.bits)],
        ["mintime", minimumBlockTime(chain)],
        ["mutable", ["time", "transactions", "prevblock"]],
        ["noncerange", "00000000ffffffff"],
        ["sigoplimit", MAX_BLOCK_SIGOPS_COST],
        ["sizelimit", MAX_BLOCK_SERIALIZED_SIZE],
        ["weightlimit", MAX_BLOCK_WEIGHT],
        ["curtime", block.header.time],
        ["bits", hex32(block.header.bits)],
        ["height", template.height],
        ["default_witness_commitment", hex.encode(template.coinbaseCommitment)],
      ]);
    },
  });
}

function optionalString(value: Json | undefined, message: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new RpcError(RpcErrorCode.INVALID_PARAMETER, message);
  return value;
}

/** BIP 23 proposal: null when the block would be valid on the tip, else the BIP 22 reason. */
function proposal(node: NodeServices, data: Json | undefined): string | null {
  if (typeof data !== "string") {
    throw new RpcError(RpcErrorCode.TYPE_ERROR, "Missing data String key for proposal");
  }
  const block = decodeHexBlock(data);
  if (!block) throw new RpcError(RpcErrorCode.DESERIALIZATION_ERROR, "Block decode failed");
  const existing = node.chain.entry(blockHash(block.header));
  if (existing) {
    if (node.chain.isActive(existing)) return "duplicate";
    const failed = BlockStatus.FAILED | BlockStatus.FAILED_CHILD;
    return existing.status & failed ? "duplicate-invalid" : "duplicate-inconclusive";
  }
  if (!bytesEqual(node.chain.tip.hash, block.header.prevHash)) {
    return "inconclusive-not-best-prevblk";
  }
  const invalid = node.chain.testBlockValidity(block, { checkPow: false });
  return invalid ? invalid.reason : null;
}

/** getblocktemplate's result fields. */
function templateDoc() {
  return [
    num("version", "The preferred block version"),
    arr("rules", "specific block rules that are to be enforced", [
      str("", "name of a rule the client must understand to some extent; see BIP 9 for format"),
    ]),
    objDyn("vbavailable", "set of pending, supported versionbit (BIP 9) softfork deployments", [
      num(
        "rulename",
        "identifies the bit number as indicating acceptance and readiness for the named softfork rule",
      ),
    ]),
    arr("capabilities", "", [str("value", "A supported feature, for example 'proposal'")]),
    num("vbrequired", "bit mask of versionbits the server requires set in submissions"),
    str("previousblockhash", "The hash of current highest block"),
    arr(
      "transactions",
      "contents of non-coinbase transactions that should be included in the next block",
      [
        obj("", "", [
          hexStr("data", "transaction data encoded in hexadecimal (byte-for-byte)"),
          hexStr("txid", "transaction hash excluding witness data, shown in byte-reversed hex"),
          hexStr("hash", "transaction hash including witness data, shown in byte-reversed hex"),
          arr("depends", "array of numbers", [
            num(
              "",
              "transactions before this one (by 1-based index in 'transactions' list) that must be present in the final block if this one is",
            ),
          ]),
          num(
            "fee",
            "difference in value between transaction inputs and outputs (in satoshis); for coinbase transactions, this is a negative Number of the total collected block fees (ie, not including the block subsidy); if key is not present, fee is unknown and clients MUST NOT assume there isn't one",
          ),
          num(
            "sigops",
            "total SigOps cost, as counted for purposes of block limits; if key is not present, sigop cost is unknown and clients MUST NOT assume it is zero",
          ),
          num("weight", "total transaction weight, as counted for purposes of block limits"),
        ]),
      ],
    ),
    objDyn("coinbaseaux", "data that should be included in the coinbase's scriptSig content", [
      hexStr("key", "values must be in the coinbase (keys may be ignored)"),
    ]),
    num(
      "coinbasevalue",
      "maximum allowable input to coinbase transaction, including the generation award and transaction fees (in satoshis)",
    ),
    str("longpollid", "an id to include with a request to longpoll on an update to this template"),
    str("target", "The hash target"),
    time(
      "mintime",
      "The minimum timestamp appropriate for the next block time, expressed in UNIX epoch time. Adjusted for the proposed BIP94 timewarp rule.",
    ),
    arr("mutable", "list of ways the block template may be changed", [
      str(
        "value",
        "A way the block template may be changed, e.g. 'time', 'transactions', 'prevblock'",
      ),
    ]),
    hexStr("noncerange", "A range of valid nonces"),
    num("sigoplimit", "limit of sigops in blocks"),
    num("sizelimit", "limit of block size"),
    num("weightlimit", "limit of block weight", true),
    time(
      "curtime",
      "current timestamp in UNIX epoch time. Adjusted for the proposed BIP94 timewarp rule.",
    ),
    str("bits", "compressed target of next block"),
    num("height", "The height of the next block"),
    hexStr("signet_challenge", "Only on signet", true),
    hexStr(
      "default_witness_commitment",
      "a valid witness commitment for the unmodified block template",
      true,
    ),
  ];
}

/** prioritisetransaction and getprioritisedtransactions, over the mempool's fee deltas. */
function prioritisationMethods(node: NodeServices): RpcMethod[] {
  const { mempool } = node;
  return [
    defineMethod({
      name: "prioritisetransaction",
      category: "mining",
      description: "Accepts the transaction into mined blocks at a higher (or lower) priority\n",
      args: [
        { name: "txid", type: "hex", description: "The transaction id." },
        {
          name: "dummy",
          type: "num",
          optional: true,
          description: "API-Compatibility for previous API. Must be zero or null.\n" +
            "                  DEPRECATED. For forward compatibility use named arguments and omit this parameter.",
        },
        {
          name: "fee_delta",
          type: "num",
          description: "The fee value (in satoshis) to add (or subtract, if negative).\n" +
            "                  Note, that this value is not a fee rate. It is a value to modify absolute fee of the TX.\n" +
            "                  The fee is not actually paid, only the algorithm for selecting transactions into a block\n" +
            "                  considers the transaction as it would have paid a higher (or lower) fee.",
        },
      ],
      result: { type: "bool", description: "Returns true" },
      examples: helpExampleCli("prioritisetransaction", '"txid" 0.0 10000') +
        helpExampleRpc("prioritisetransaction", '"txid", 0.0, 10000'),
      handler(params) {
        const txid = hashFromHex(parseHashV(params.raw("txid"), "txid"));
        const dummy = params.maybe("dummy", asReal);
        const delta = params.arg("fee_delta", asInt64);
        if (dummy !== undefined && dummy !== 0) {
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "Priority is no longer supported, dummy argument to prioritisetransaction must be 0.",
          );
        }
        const entry = mempool.get(txid);
        if (
          mempool.policy.requireStandard && entry &&
          dustOutputs(entry.tx, mempool.policy.dustRelayFeeRate).length > 0
        ) {
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "Priority is not supported for transactions with dust outputs.",
          );
        }
        node.log(mempool.prioritise(txid, delta));
        return true;
      },
    }),
    defineMethod({
      name: "getprioritisedtransactions",
      category: "mining",
      description:
        "Returns a map of all user-created (see prioritisetransaction) fee deltas by txid, and whether the tx is present in mempool.",
      result: objDyn("", "prioritisation keyed by txid", [
        obj("<transactionid>", "", [
          num("fee_delta", "transaction fee delta in satoshis"),
          bool("in_mempool", "whether this transaction is currently in mempool"),
          num(
            "modified_fee",
            "modified fee in satoshis. Only returned if in_mempool=true",
            true,
          ),
        ]),
      ]),
      examples: helpExampleCli("getprioritisedtransactions", "") +
        helpExampleRpc("getprioritisedtransactions", ""),
      handler: () =>
        new Map(
          mempool.prioritisedTransactions().map(({ txid, delta, modifiedFee }) => {
            const info = new Map<string, JsonInput>([
              ["fee_delta", delta],
              ["in_mempool", modifiedFee !== undefined],
            ]);
            if (modifiedFee !== undefined) info.set("modified_fee", modifiedFee);
            return [hashToHex(txid), info];
          }),
        ),
    }),
  ];
}

/** submitheader: a header stored as a headers-only entry when valid. */
function submitHeaderMethod(node: NodeServices): RpcMethod {
  return defineMethod({
    name: "submitheader",
    category: "mining",
    description:
      "Decode the given hexdata as a header and submit it as a candidate chain tip if valid.\n" +
      "Throws when the header is invalid.\n",
    args: [{ name: "hexdata", type: "hex", description: "the hex-encoded block header data" }],
    result: { type: "none", description: "None" },
    examples: helpExampleCli("submitheader", '"aabbcc"') +
      helpExampleRpc("submitheader", '"aabbcc"'),
    handler(params) {
      const text = params.arg("hexdata", asStr);
      let header;
      try {
        if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new Error("not hex");
        // Core reads the first 80 bytes and ignores anything after them.
        header = decodeHeader(hex.decode(text.toLowerCase()).subarray(0, 80));
      } catch {
        throw new RpcError(RpcErrorCode.DESERIALIZATION_ERROR, "Block header decode failed");
      }
      if (!node.chain.entry(header.prevHash)) {
        throw new RpcError(
          RpcErrorCode.VERIFY_ERROR,
          `Must submit previous header (${hashToHex(header.prevHash)}) first`,
        );
      }
      const reason = node.chain.processHeader(header);
      if (reason !== null) throw new RpcError(RpcErrorCode.VERIFY_ERROR, reason);
    },
  });
}
