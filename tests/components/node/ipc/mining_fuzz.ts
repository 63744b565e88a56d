/**
 * A fuzzer of the node's Mining interface as an IPC client drives it (a
 * Stratum v2 template provider, say): each case is a connection of its own
 * to a real node process (`-ipcbind=unix`) through the generated proxies,
 * and a program of calls on Mining and on the templates it makes, with
 * values at every edge: create options past the block's weight and sigops,
 * wait timeouts of NaN, -0, Infinity and 1e308, fee thresholds of either
 * sign, tips of the wrong length, real blocks cut, flipped and padded for
 * `checkBlock`, coinbases mutated or random for `submitSolution`, next to
 * real solutions; calls on destroyed templates; long waits on strands of
 * their own, some given up through their signal, others ended by a block
 * mined through RPC, a destroy or the disconnect that ends the case; and
 * transactions entering the mempool while templates wait on fees.
 *
 * What each call must do: settle in time (a short one at once, a long wait
 * when the case ends), with a result of its documented shape, or with an
 * `RpcError` whose message no JavaScript engine wrote. A solution the node
 * accepts must be in its chain, and a real one on the current tip must be
 * accepted. Between cases the node must be alive and silent on stderr, and
 * answer JSON-RPC; after a campaign no template may be left alive
 * (`leakedTemplates`).
 *
 * @module
 */
import { hex } from "@scure/base";
import { Init } from "../../../../schemas/gen/ipc/init.mp.ts";
import type { BlockTemplate } from "../../../../schemas/gen/ipc/mining.mp.ts";
import { connect, destroy, dup, IpcLog, type Remote, RpcError, Strand } from "../../../../mod.ts";
import { MAX_LIVE_TEMPLATES } from "../../../../components/node/ipc/mod.ts";
import {
  blockHash,
  decodeHeader,
  hashFromHex,
  hashToHex,
  MAX_MONEY,
  scriptToAddress,
  sha256d,
  txid,
} from "../../../../components/node/chain/mod.ts";
import { decodeTx, encodeTx } from "../../../../components/node/chain/tx.ts";
import { Rng } from "../../../rpc_fuzz.ts";
import { DEFAULT_TIMEOUT_MS, processGone, withTimeout } from "../../../helpers.ts";
import { type RealNode, startRealNode } from "../real_node.ts";
import { signTx, TestKey } from "../chain/chain_helpers.ts";
import { ENGINE_TEXT } from "../methods/method_fuzz.ts";
import { CREATE_OPTIONS, solveTemplate } from "./ipc_helpers.ts";

const key = new TestKey(11);
const ADDRESS = scriptToAddress(key.wpkh)!;
const quiet = new IpcLog({ level: "off" });

/** The node under the fuzzer, with what its cases draw on. */
export interface MiningFuzzTarget extends AsyncDisposable {
  readonly node: RealNode;
  /** Real blocks of its chain (serialized), for `checkBlock`. */
  readonly blocks: Uint8Array[];
  /** A new client connection's Init. */
  connect(): Promise<Remote<Init>>;
  /** Puts one signed transaction in its mempool, spending a mature coinbase of ours; false when none is left. */
  addTransaction(): Promise<boolean>;
  /** The node alive, silent on stderr and answering JSON-RPC: a problem, or null. */
  health(): Promise<string | null>;
}

/** A node with 120 blocks mined to the fuzzer's key (the first 20 coinbases mature). */
export async function startMiningFuzzTarget(): Promise<MiningFuzzTarget> {
  const node = await startRealNode({ args: ["-ipcbind=unix"] });
  try {
    await node.call("generatetoaddress", [120, ADDRESS]);
    const blocks = [];
    for (const height of [0, 1, 120]) {
      const hash = await node.call("getblockhash", [height]);
      blocks.push(hex.decode(await node.call("getblock", [hash, 0])));
    }
    let nextSpend = 1;
    return {
      node,
      blocks,
      connect: () => connect(Init, `unix:${node.datadir}/regtest/node.sock`, { log: quiet }),
      async addTransaction() {
        for (;;) {
          if (nextSpend > (await node.call("getblockcount")) - 100) return false;
          const block = await node.call("getblock", [
            await node.call("getblockhash", [nextSpend++]),
            2,
          ]);
          const coinbase = block.tx[0];
          const out = coinbase.vout[0];
          if (out.scriptPubKey.hex !== hex.encode(key.wpkh)) continue; // a fuzzed coinbase's
          const amount = BigInt(Math.round(out.value * 1e8));
          // Regtest halves the subsidy every 150 blocks: long campaigns reach coinbases of nothing.
          if (amount < 10_000n) continue;
          const tx = signTx(
            [{
              outpoint: { txid: hashFromHex(coinbase.txid), index: 0 },
              amount,
              script: key.wpkh,
              key,
            }],
            [{ script: key.wpkh, amount: amount - 1000n }],
          );
          await node.call("sendrawtransaction", [hex.encode(encodeTx(tx))]);
          return true;
        }
      },
      async health() {
        if (processGone(node.child.pid)) return `the node died: ${node.stderr().slice(-2000)}`;
        if (node.stderr() !== "") return `node stderr: ${node.stderr().slice(-2000)}`;
        try {
          await withTimeout(node.call("getblockcount"), DEFAULT_TIMEOUT_MS, "getblockcount");
          return null;
        } catch (error) {
          return `getblockcount after the case: ${(error as Error).message}`;
        }
      },
      [Symbol.asyncDispose]: () => node[Symbol.asyncDispose](),
    };
  } catch (error) {
    await node[Symbol.asyncDispose]();
    throw error;
  }
}

/** Timeouts (seconds are what v30.0's waits take; here milliseconds) at every edge. */
const SHORT_TIMEOUTS = [0, -0, 1, 5, 30, -1, NaN, -Infinity, 5e-324, -1e308];
const LONG_TIMEOUTS = [Infinity, 1e308, 600_000, 2 ** 31, 2 ** 53];
const FEE_THRESHOLDS = [
  0n,
  1n,
  -1n,
  1000n,
  MAX_MONEY,
  MAX_MONEY + 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
];
const WEIGHTS = [
  0n,
  1n,
  2000n,
  4000n,
  8000n,
  3_999_999n,
  4_000_000n,
  4_000_001n,
  2n ** 63n,
  2n ** 64n - 1n,
];
const SIGOPS = [0n, 1n, 400n, 79_999n, 80_000n, 80_001n, 2n ** 64n - 1n];
const UINT32 = [0, 1, 0x20000000, 0x7fffffff, 0x80000000, 0xffffffff];

/** A template the case made, and what it knows of it. */
interface HeldTemplate {
  /** The case's reference (after a destroy, sometimes a dup kept from before it). */
  proxy: Remote<BlockTemplate>;
  /** The chain's height when it was made; its block's is one more. */
  readonly height: number;
  /** Blocks added through this case (mined or solved) when it was made; -1: unknown. */
  readonly added: number;
  /** The call that made it. */
  readonly made: string;
  destroyed: boolean;
  /**
   * Whether a solution was submitted to it: as Core's, `submitSolution`
   * writes its fields and coinbase into the template's block.
   */
  submitted: boolean;
}

/** `bytes` cut, flipped, padded or replaced. */
function mutateBytes(rng: Rng, bytes: Uint8Array): Uint8Array {
  switch (rng.int(6)) {
    case 0:
      return bytes.slice(0, rng.int(bytes.length));
    case 1: {
      const out = bytes.slice();
      if (out.length > 0) out[rng.int(out.length)] ^= 1 << rng.int(8);
      return out;
    }
    case 2:
      return Uint8Array.of(...bytes, ...rng.bytes(1 + rng.int(40)));
    case 3:
      return rng.bytes(rng.pick([0, 1, 80, 81, 200, 100_000]));
    case 4:
      return new Uint8Array(0);
    default:
      return bytes;
  }
}

/**
 * Runs case `seed` against `target` on a connection of its own and returns
 * what went wrong (nothing: an empty list); `seen` hears how each call
 * ended ("answered", or the error's name and message).
 */
export async function runMiningCase(
  target: MiningFuzzTarget,
  seed: number,
  seen: (what: string, outcome: string) => void = () => {},
): Promise<string[]> {
  const rng = new Rng(seed);
  const problems: string[] = [];
  const init = await target.connect();
  const mining = (await init.makeMining())!;
  const strands = [new Strand("fuzz a"), new Strand("fuzz b")];
  const waits: Strand[] = [];
  const pending: Promise<void>[] = [];
  const templates: HeldTemplate[] = [];
  let added = 0;
  let closing = false;

  /** Checks how `call` settles: `check` on its result, or an error fit to show a client. */
  const observe = <T>(
    what: string,
    call: () => PromiseLike<T> | T,
    check: (value: T) => string | null = () => null,
  ): Promise<T | undefined> =>
    Promise.resolve().then(call).then(
      (value) => {
        seen(what, "answered");
        const problem = check(value);
        if (problem !== null) problems.push(`${what}: ${problem}`);
        return value;
      },
      (error: unknown) => {
        seen(what, `${(error as Error).name}: ${(error as Error).message}`);
        const problem = errorProblem(error, closing);
        if (problem !== null) problems.push(`${what}: ${problem}`);
        return undefined;
      },
    );
  /** A short call, awaited: it must settle in time. */
  const short = async <T>(
    what: string,
    call: () => PromiseLike<T> | T,
    check?: (value: T) => string | null,
  ): Promise<T | undefined> => {
    const strand = rng.chance(0.5) ? null : rng.pick(strands);
    try {
      return await withTimeout(
        observe(what, strand === null ? call : () => strand.run(call), check),
        DEFAULT_TIMEOUT_MS,
        what,
      );
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
      return undefined;
    }
  };
  /** A call that may wait long, on a strand of its own, left to end later. */
  const long = <T>(what: string, call: (signal?: AbortSignal) => PromiseLike<T>) => {
    const strand = new Strand(`fuzz wait ${waits.length}`);
    waits.push(strand);
    let signal: AbortSignal | undefined;
    if (rng.chance(0.3)) signal = AbortSignal.timeout(rng.pick([0, 5, 50]));
    pending.push(
      observe(what, () => strand.run(() => call(signal))).then(() => {}),
    );
  };
  const tipHash = async () => hashFromHex(await target.node.call("getbestblockhash"));

  const steps = 3 + rng.int(20);
  for (let step = 0; step < steps && problems.length === 0; step++) {
    const live = templates.filter((t) => !t.destroyed);
    const template = rng.chance(0.9) && live.length > 0
      ? rng.pick(live)
      : templates.length > 0
      ? rng.pick(templates)
      : null;
    const roll = rng.int(100);
    if (roll < 14 || template === null) {
      const options = rng.chance(0.4) ? CREATE_OPTIONS : {
        useMempool: rng.chance(0.7),
        blockReservedWeight: rng.pick(WEIGHTS),
        coinbaseOutputMaxAdditionalSigops: rng.pick(SIGOPS),
      };
      const height = await target.node.call("getblockcount");
      const what = `createNewBlock ${show(options)}`;
      const made = await short(what, () => mining.createNewBlock(options));
      if (made) {
        templates.push({
          proxy: made,
          height,
          added,
          made: what,
          destroyed: false,
          submitted: false,
        });
      }
    } else if (roll < 20) {
      await short(
        "getTip",
        () => mining.getTip(),
        (ref) => ref?.hash.length === 32 ? null : `tip ${show(ref)}`,
      );
      await short("isTestChain", () => mining.isTestChain(), (v) => v === true ? null : `${v}`);
      await short("isInitialBlockDownload", () => mining.isInitialBlockDownload());
    } else if (roll < 28) {
      const tip = rng.chance(0.6) ? await tipHash() : rng.bytes(rng.pick([0, 31, 32, 33]));
      const check = (ref: { hash: Uint8Array; height: number }) =>
        ref.hash.length === 32 && Number.isInteger(ref.height) ? null : `ref ${show(ref)}`;
      if (rng.chance(0.5)) {
        const timeout = rng.pick(SHORT_TIMEOUTS);
        await short(`waitTipChanged ${timeout}`, () => mining.waitTipChanged(tip, timeout), check);
      } else {
        const timeout = rng.pick(LONG_TIMEOUTS);
        long(
          `waitTipChanged ${timeout}`,
          (signal) => mining.waitTipChanged(tip, timeout, { signal }),
        );
      }
    } else if (roll < 38) {
      const real = rng.pick(target.blocks);
      const block = rng.chance(0.3) && template !== null
        ? await short("getBlock", () => template.proxy.getBlock()) ?? real
        : real;
      const options = { checkMerkleRoot: rng.chance(0.5), checkPow: rng.chance(0.5) };
      await short(
        `checkBlock ${show(options)}`,
        () => mining.checkBlock(rng.chance(0.7) ? mutateBytes(rng, block) : block, options),
        ({ result, reason }) => result || reason !== "" ? null : "refused without a reason",
      );
    } else if (roll < 54) {
      const t = template!;
      const name = rng.pick(
        [
          "getBlockHeader",
          "getBlock",
          "getTxFees",
          "getTxSigops",
          "getCoinbaseTx",
          "getCoinbaseCommitment",
          "getWitnessCommitmentIndex",
          "getCoinbaseMerklePath",
        ] as const,
      );
      await short(
        `${name}${t.destroyed ? " (destroyed)" : ""}`,
        () => t.proxy[name]() as Promise<unknown>,
        (value) => {
          if (t.destroyed) return "answered after destroy";
          return templateValueProblem(name, value);
        },
      );
    } else if (roll < 64) {
      const t = template!;
      const solution = await solveTemplate(t.proxy, t.height + 1, key.wpkh).catch(() => null);
      const fresh = solution !== null && !t.destroyed && !t.submitted && t.added === added;
      const coinbase = solution === null
        ? rng.bytes(rng.int(300))
        : rng.chance(0.4)
        ? solution.coinbase
        : mutateBytes(rng, solution.coinbase);
      const fields = rng.chance(0.5) && solution !== null
        ? [solution.version, solution.timestamp, solution.nonce]
        : [rng.pick(UINT32), rng.pick(UINT32), rng.pick(UINT32)];
      const real = solution !== null && coinbase === solution.coinbase &&
        `${fields}` === `${[solution.version, solution.timestamp, solution.nonce]}`;
      const accepted = await short(
        `submitSolution ${fields} ${coinbase.length}${real ? " (real)" : ""}`,
        () => t.proxy.submitSolution(fields[0]!, fields[1]!, fields[2]!, coinbase),
        (ok) => typeof ok === "boolean" ? null : `result ${show(ok)}`,
      );
      t.submitted = true;
      if (accepted === true) {
        added++;
        const problem = await solvedBlockProblem(target, t.proxy, fields, coinbase);
        if (problem !== null) problems.push(`submitSolution accepted ${problem}`);
      } else if (accepted === false && real && fresh) {
        problems.push(
          `a real solution on the current tip was refused (template of ${t.made}): ` +
            lastLogged(target.node, "submitSolution"),
        );
      }
    } else if (roll < 74) {
      const t = template!;
      const feeThreshold = rng.pick(FEE_THRESHOLDS);
      if (rng.chance(0.5)) {
        const timeout = rng.pick(SHORT_TIMEOUTS);
        const next = await short(
          `waitNext ${timeout} ${feeThreshold}`,
          () => t.proxy.waitNext({ timeout, feeThreshold }),
        );
        if (next) {
          templates.push({
            proxy: next,
            height: t.height,
            added: -1,
            made: "waitNext",
            destroyed: false,
            submitted: false,
          });
        }
      } else {
        const timeout = rng.pick(LONG_TIMEOUTS);
        long(`waitNext ${timeout} ${feeThreshold}`, async (signal) => {
          const next = await t.proxy.waitNext({ timeout, feeThreshold }, { signal });
          if (next) next[Symbol.dispose]();
          return next;
        });
      }
    } else if (roll < 82) {
      const t = template!;
      if (rng.chance(0.7)) {
        // Half the time a reference kept from before: its calls reach the destroyed template.
        const kept = !t.destroyed && rng.chance(0.5) ? dup(t.proxy) : null;
        t.destroyed = true;
        await short("destroy", () => destroy(t.proxy));
        if (kept !== null) t.proxy = kept;
      } else if (!t.destroyed) {
        // A dup released: the template lives on for the case's own proxy.
        (dup(t.proxy) as Disposable)[Symbol.dispose]();
      }
    } else if (roll < 90) {
      await target.node.call("generatetoaddress", [1, ADDRESS]);
      added++;
    } else if (roll < 96) {
      await target.addTransaction();
    } else {
      // Several calls at once from one strand: they must queue, not collide.
      const t = template!;
      await short(
        "three getBlockHeader at once",
        () => Promise.all([0, 1, 2].map(() => t.proxy.getBlockHeader())),
        (headers) =>
          t.destroyed
            ? "answered after destroy"
            : headers.every((h) => h.length === 80)
            ? null
            : "short header",
      );
    }
  }

  // The client goes: every wait still pending must end, and the node frees its templates.
  closing = true;
  if (rng.chance(0.5)) {
    for (const t of templates) if (!t.destroyed) t.proxy[Symbol.dispose]();
    mining[Symbol.dispose]();
  }
  await init[Symbol.asyncDispose]();
  try {
    await withTimeout(
      Promise.all(pending),
      DEFAULT_TIMEOUT_MS,
      "the waits to end after the disconnect",
    );
  } catch (error) {
    problems.push((error as Error).message);
  }
  for (const strand of [...strands, ...waits]) strand[Symbol.dispose]();
  return problems;
}

/** What is wrong with an error a call failed with, or null. */
function errorProblem(error: unknown, closing: boolean): string | null {
  if (error instanceof DOMException && error.name === "TimeoutError") return null; // its signal
  if (!(error instanceof RpcError)) {
    return `threw ${error instanceof Error ? error.name : ""} ${error}`;
  }
  if (error.type === "disconnected" && !closing) return `disconnected: ${error.message}`;
  if (error.message === "") return "an empty message";
  if (ENGINE_TEXT.test(error.message)) return `engine text: ${error.message}`;
  return null;
}

/** What is wrong with what a template's getter answered, or null. */
function templateValueProblem(name: string, value: unknown): string | null {
  const bytes = value as Uint8Array;
  switch (name) {
    case "getBlockHeader":
      return bytes.length === 80 ? null : `${bytes.length} bytes`;
    case "getBlock":
      return bytes.length > 80 ? null : `${bytes.length} bytes`;
    case "getTxFees":
      return (value as bigint[]).every((fee) => fee >= 0n && fee <= MAX_MONEY) ? null : show(value);
    case "getTxSigops":
      return (value as bigint[]).every((n) => n >= 0n && n <= 80_000n) ? null : show(value);
    case "getCoinbaseTx":
      return bytes.length > 0 ? null : "empty";
    case "getCoinbaseCommitment":
      return bytes.length === 0 || bytes.length === 38 ? null : `${bytes.length} bytes`;
    case "getWitnessCommitmentIndex":
      return Number.isInteger(value) && (value as number) >= -1 ? null : show(value);
    default:
      return (value as Uint8Array[]).every((hash) => hash.length === 32) ? null : show(value);
  }
}

/** Whether the block a solution makes (as the node assembles it) is in the node's block index. */
async function solvedBlockProblem(
  target: MiningFuzzTarget,
  template: Remote<BlockTemplate>,
  [version, time, nonce]: number[],
  coinbase: Uint8Array,
): Promise<string | null> {
  const [headerBytes, path] = await Promise.all([
    template.getBlockHeader(),
    template.getCoinbaseMerklePath(),
  ]);
  let root;
  try {
    root = txid(decodeTx(coinbase, { allowTrailingBytes: true })); // read as the node reads it
  } catch (error) {
    return `of a coinbase that does not parse: ${(error as Error).message}`;
  }
  for (const sibling of path) root = sha256d(root, sibling);
  const hash = blockHash({
    ...decodeHeader(headerBytes),
    version: version!,
    time: time!,
    nonce: nonce!,
    merkleRoot: root,
  });
  try {
    await target.node.call("getblockheader", [hashToHex(hash)]);
    return null;
  } catch (error) {
    return `but block ${hashToHex(hash)} is unknown: ${(error as Error).message}`;
  }
}

/**
 * Templates a new client cannot make because others are still alive: 0
 * unless a case's templates outlived their connection. Makes (and
 * destroys) up to `MAX_LIVE_TEMPLATES`.
 */
export async function leakedTemplates(target: MiningFuzzTarget): Promise<number> {
  const init = await target.connect();
  const mining = (await init.makeMining())!;
  const made: Remote<BlockTemplate>[] = [];
  try {
    for (let i = 0; i < MAX_LIVE_TEMPLATES; i++) {
      made.push((await mining.createNewBlock(CREATE_OPTIONS))!);
    }
    return 0;
  } catch {
    return MAX_LIVE_TEMPLATES - made.length;
  } finally {
    await init[Symbol.asyncDispose]();
  }
}

/** The last line of the node's debug.log that mentions `what`. */
function lastLogged(node: RealNode, what: string): string {
  const lines = Deno.readTextFileSync(`${node.datadir}/regtest/debug.log`).split("\n");
  return lines.findLast((line) => line.includes(what)) ?? `(no ${what} line)`;
}

/** Values as a line (bigints and bytes too). */
function show(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? hex.encode(v).slice(0, 64) : v,
  );
}
