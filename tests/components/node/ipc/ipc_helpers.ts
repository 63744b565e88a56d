/**
 * Helpers for the node IPC tests and the mining benchmark: a real chain and
 * mempool (with spendable coins) served by `nodeInit` on a UNIX socket,
 * clients connected through the generated proxies, and what a mining
 * client does with a template — build its own coinbase, fold it into the
 * merkle root with the template's merkle path, grind the nonce.
 *
 * @module
 */
import { Script } from "@scure/btc-signer";
import { connect, type IpcListener, listen } from "../../../../runtime/process/process.ts";
import { IpcLog } from "../../../../runtime/log.ts";
import type { Remote } from "../../../../runtime/proxy/client.ts";
import {
  blockHash,
  type BlockHeader,
  blockSubsidy,
  type ChainState,
  checkProofOfWork,
  decodeHeader,
  encodeTx,
  type Hash,
  POW_LIMIT,
  sha256d,
  type Tx,
  txid,
} from "../../../../components/node/chain/mod.ts";
import {
  type NodeInit,
  nodeInit,
  type NodeInitOptions,
} from "../../../../components/node/ipc/mod.ts";
import type { Mempool } from "../../../../components/node/mempool/mod.ts";
import { Init } from "../../../../schemas/gen/ipc/init.mp.ts";
import type { BlockTemplate, Mining } from "../../../../schemas/gen/ipc/mining.mp.ts";
import { type Fixture, setup, type SetupOptions } from "../mempool/mempool_helpers.ts";

/** Options v30.0's proof client sends (§12 of the protocol reference). */
export const CREATE_OPTIONS = {
  useMempool: true,
  blockReservedWeight: 4000n,
  coinbaseOutputMaxAdditionalSigops: 0n,
} as const;

/** A node's Init served on `<datadir>/node.sock`, and a way to connect clients to it. */
export interface ServedInit extends AsyncDisposable {
  /** The Init object the node serves (not a proxy). */
  readonly init: NodeInit;
  readonly datadir: string;
  /** Lines the node logged. */
  readonly logged: string[];
  /** How often `Node.startShutdown` reached the hook. */
  readonly shutdowns: number;
  /** A new client connection's Init proxy (closed on dispose if still open). */
  connect(name?: string): Promise<Remote<Init>>;
}

const quiet = new IpcLog({ level: "off" });

/**
 * Serves `nodeInit` for `chain` and `mempool` on a socket in a fresh
 * directory. Disposing closes the clients, the listener and the Init, not
 * the chain or mempool.
 */
export async function serveInit(
  chain: ChainState,
  mempool: Mempool,
  options: Partial<NodeInitOptions> = {},
): Promise<ServedInit> {
  const datadir = await Deno.makeTempDir({ prefix: "ipc_test_" });
  const logged: string[] = [];
  let shutdowns = 0;
  const init = nodeInit({
    chain,
    mempool,
    requestShutdown: () => shutdowns++,
    log: (line) => logged.push(line),
    ...options,
  });
  const listener: IpcListener = listen(Init, "unix", init, {
    datadir,
    component: "node",
    name: "node",
    log: quiet,
  });
  const clients: Remote<Init>[] = [];
  return {
    init,
    datadir,
    logged,
    get shutdowns() {
      return shutdowns;
    },
    async connect(name = "client") {
      const client = await connect(Init, "unix", { datadir, component: "node", name, log: quiet });
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) await client[Symbol.asyncDispose]();
      await listener[Symbol.asyncDispose]();
      init[Symbol.dispose]();
      await Deno.remove(datadir, { recursive: true });
    },
  };
}

/** A served node on the mempool tests' fixture: a chain with spendable coins and a mempool. */
export interface ServedNode extends ServedInit {
  readonly fixture: Fixture;
}

/** Options of {@linkcode serveNode}. */
export interface ServeNodeOptions extends SetupOptions {
  readonly init?: Partial<NodeInitOptions>;
}

/** {@linkcode serveInit} on a fresh fixture (disposed with it). */
export async function serveNode(options: ServeNodeOptions = {}): Promise<ServedNode> {
  const fixture = setup(options);
  const served = await serveInit(fixture.chain, fixture.mempool, options.init);
  const close = served[Symbol.asyncDispose].bind(served);
  return Object.assign(served, {
    fixture,
    async [Symbol.asyncDispose]() {
      await close();
      fixture[Symbol.dispose]();
    },
  });
}

/** What `submitSolution` takes, and the block hash it should give. */
export interface Solution {
  readonly version: number;
  readonly timestamp: number;
  readonly nonce: number;
  readonly coinbase: Uint8Array;
  readonly coinbaseTx: Tx;
  readonly hash: Hash;
  readonly header: BlockHeader;
}

/** How a client's coinbase differs from a well-formed one, for refusal tests. */
export interface CoinbaseOptions {
  /** Added to the payout (positive: more than the block may pay). */
  readonly extraValue?: bigint;
  /** Leave out the witness reserved value. */
  readonly noWitness?: boolean;
  /** Grind for a hash that fails proof of work instead. */
  readonly failPow?: boolean;
}

/**
 * Mines `template` the way a pool does: a coinbase of its own at `height`
 * paying `payout` the subsidy and the template's fees, with the template's
 * witness commitment; the merkle root folded from the coinbase txid and
 * the template's merkle path; the nonce ground on the template's header.
 */
export async function solveTemplate(
  template: Remote<BlockTemplate>,
  height: number,
  payout: Uint8Array,
  options: CoinbaseOptions = {},
): Promise<Solution> {
  const [headerBytes, fees, commitment, path] = await Promise.all([
    template.getBlockHeader(),
    template.getTxFees(),
    template.getCoinbaseCommitment(),
    template.getCoinbaseMerklePath(),
  ]);
  const value = blockSubsidy(height) + fees.reduce((sum, fee) => sum + fee, 0n) +
    (options.extraValue ?? 0n);
  const coinbaseTx: Tx = {
    version: 2,
    segwitFlag: false,
    inputs: [{
      txid: new Uint8Array(32),
      index: 0xffffffff,
      finalScriptSig: Script.encode([height, new TextEncoder().encode("ipc test pool")]),
      sequence: 0xffffffff,
    }],
    outputs: [
      { amount: value, script: payout },
      ...(commitment.length > 0 ? [{ amount: 0n, script: commitment }] : []),
    ],
    witnesses: options.noWitness ? undefined : [[new Uint8Array(32)]],
    lockTime: 0,
  };
  let root = txid(coinbaseTx);
  for (const sibling of path) root = sha256d(root, sibling);
  const header = { ...decodeHeader(headerBytes), merkleRoot: root };
  const wanted = !options.failPow;
  while (checkProofOfWork(blockHash(header), header.bits, POW_LIMIT) !== wanted) header.nonce++;
  return {
    version: header.version >>> 0,
    timestamp: header.time,
    nonce: header.nonce,
    coinbase: encodeTx(coinbaseTx),
    coinbaseTx,
    hash: blockHash(header),
    header,
  };
}

/** Creates a template with {@linkcode CREATE_OPTIONS}, failing if there is none. */
export async function createTemplate(mining: Remote<Mining>): Promise<Remote<BlockTemplate>> {
  const template = await mining.createNewBlock(CREATE_OPTIONS);
  if (template === null) throw new Error("createNewBlock returned no template");
  return template;
}
