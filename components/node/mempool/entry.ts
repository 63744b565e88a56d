/**
 * A transaction in the mempool with what Bitcoin Core keeps beside it
 * (`CTxMemPoolEntry`): fees, sizes, arrival time and height, sigop cost, its
 * in-mempool parents and children, and the running totals over its
 * ancestors and descendants (each total includes the entry itself).
 *
 * @example
 * ```ts
 * import { compareHashes } from "./entry.ts";
 * const low = new Uint8Array(32);
 * const high = new Uint8Array(32).fill(1);
 * if (compareHashes(low, high) >= 0) throw new Error("byte order");
 * ```
 * @module
 */
import { hex } from "@scure/base";
import { type Hash, hashToHex, type Tx, type TxInput } from "../chain/mod.ts";

/** A mempool transaction as `getmempoolentry` describes it. */
export interface MempoolEntry {
  readonly tx: Tx;
  readonly txid: Hash;
  readonly wtxid: Hash;
  /** Inputs minus outputs, in satoshis. */
  readonly fee: bigint;
  /** Its `prioritisetransaction` delta. */
  readonly feeDelta: bigint;
  /** The fee the mempool ranks it by: `fee` plus `feeDelta`. */
  readonly modifiedFee: bigint;
  /** Virtual size as the mempool charges it (sigop-adjusted). */
  readonly vsize: number;
  readonly weight: number;
  /** Serialized size with witness data. */
  readonly size: number;
  /** Sigop cost (`GetTransactionSigOpCost`). */
  readonly sigOpCost: number;
  /** UNIX seconds when it was accepted. */
  readonly time: number;
  /** The chain height when it was accepted. */
  readonly height: number;
  /** In-mempool ancestors, itself included (fees are modified fees). */
  readonly ancestorCount: number;
  readonly ancestorSize: number;
  readonly ancestorFees: bigint;
  /** In-mempool descendants, itself included (fees are modified fees). */
  readonly descendantCount: number;
  readonly descendantSize: number;
  readonly descendantFees: bigint;
  /** Txids of its in-mempool parents (`depends`), in display-hex order. */
  readonly depends: Hash[];
  /** Txids of its in-mempool children (`spentby`). */
  readonly spentBy: Hash[];
  /** Whether it was submitted locally and not yet announced to a peer (always so without peers). */
  readonly unbroadcast: boolean;
}

/** A transaction with its txid and wtxid in display hex, as checks name it in texts. */
export interface KeyedTx {
  readonly tx: Tx;
  readonly txid: string;
  readonly wtxid: string;
}

/** What a new entry is made of. */
export type EntryFields =
  & Pick<
    MempoolEntry,
    | "tx"
    | "txid"
    | "wtxid"
    | "fee"
    | "vsize"
    | "weight"
    | "size"
    | "sigOpCost"
    | "time"
    | "height"
    | "unbroadcast"
    | "feeDelta"
  >
  & { readonly spendsCoinbase: boolean };

/** The display-hex txid an input spends from: the mempool key of its parent. */
export function parentKey(input: TxInput): string {
  return hex.encode(input.txid);
}

/** The key of the outpoint an input spends (as the chain's `outpointKey`). */
export function spentKey(input: TxInput): string {
  return `${hex.encode(input.txid)}:${input.index}`;
}

/** Orders hashes by their bytes, as Core's `uint256` comparison does. */
export function compareHashes(a: Hash, b: Hash): number {
  for (let i = 0; i < 32; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return 0;
}

/** `memusage::MallocUsage` on 64-bit: an allocation's size with malloc's overhead. */
function mallocUsage(bytes: number): number {
  return bytes === 0 ? 0 : ((bytes + 31) >> 4) << 4;
}

/**
 * Estimated memory of an entry, after Core's accounting (the entry and its
 * index nodes, the transaction's vectors and scripts, one spent-outpoint
 * index node per input). The fixed part is set so that a one-input,
 * two-output P2WPKH transaction counts 1200 bytes, as bitcoind v30 reports.
 */
export function entryUsage(tx: Tx): number {
  const inlineScript = 28;
  let usage = 528 + 160 + mallocUsage(104 * tx.inputs.length) +
    mallocUsage(40 * tx.outputs.length) + 64 * tx.inputs.length;
  tx.inputs.forEach((input, i) => {
    if (input.finalScriptSig.length > inlineScript) {
      usage += mallocUsage(input.finalScriptSig.length);
    }
    const witness = tx.witnesses?.[i] ?? [];
    usage += mallocUsage(24 * witness.length);
    for (const item of witness) usage += mallocUsage(item.length);
  });
  for (const output of tx.outputs) {
    if (output.script.length > inlineScript) usage += mallocUsage(output.script.length);
  }
  return usage;
}

/** Memory of one parent or child link (a set node). */
export const LINK_USAGE = 48;

/** The mempool's own record of an entry: {@linkcode MempoolEntry} plus its links and state. */
export class PoolEntry implements MempoolEntry {
  readonly tx: Tx;
  readonly txid: Hash;
  readonly wtxid: Hash;
  /** The txid in display hex: the mempool's key. */
  readonly key: string;
  readonly wtxidKey: string;
  readonly fee: bigint;
  readonly vsize: number;
  readonly weight: number;
  readonly size: number;
  readonly sigOpCost: number;
  readonly time: number;
  readonly height: number;
  /** Whether an input spends a coinbase output (re-checked for maturity after a reorg). */
  readonly spendsCoinbase: boolean;
  readonly usage: number;
  unbroadcast: boolean;
  /** The `prioritisetransaction` delta in force. */
  feeDelta: bigint;
  readonly parents = new Set<PoolEntry>();
  readonly children = new Set<PoolEntry>();
  ancestorCount = 1;
  ancestorSize: number;
  ancestorFees: bigint;
  ancestorSigOps: number;
  descendantCount = 1;
  descendantSize: number;
  descendantFees: bigint;

  constructor(fields: EntryFields) {
    this.tx = fields.tx;
    this.txid = fields.txid;
    this.wtxid = fields.wtxid;
    this.key = hashToHex(fields.txid);
    this.wtxidKey = hashToHex(fields.wtxid);
    this.fee = fields.fee;
    this.vsize = fields.vsize;
    this.weight = fields.weight;
    this.size = fields.size;
    this.sigOpCost = fields.sigOpCost;
    this.time = fields.time;
    this.height = fields.height;
    this.spendsCoinbase = fields.spendsCoinbase;
    this.unbroadcast = fields.unbroadcast;
    this.feeDelta = fields.feeDelta;
    this.usage = entryUsage(fields.tx);
    this.ancestorSize = this.descendantSize = fields.vsize;
    this.ancestorFees = this.descendantFees = fields.fee + fields.feeDelta;
    this.ancestorSigOps = fields.sigOpCost;
  }

  get modifiedFee(): bigint {
    return this.fee + this.feeDelta;
  }

  get depends(): Hash[] {
    return [...this.parents].sort((a, b) => a.key < b.key ? -1 : 1).map((parent) => parent.txid);
  }

  get spentBy(): Hash[] {
    return [...this.children].sort((a, b) => compareHashes(a.txid, b.txid)).map((c) => c.txid);
  }

  /** Every in-mempool ancestor (not itself). */
  ancestors(): Set<PoolEntry> {
    return walk(this, (entry) => entry.parents);
  }

  /** Every in-mempool descendant (not itself). */
  descendants(): Set<PoolEntry> {
    return walk(this, (entry) => entry.children);
  }
}

/** The entries reachable from `start` through `next`, `start` excluded. */
function walk(start: PoolEntry, next: (entry: PoolEntry) => Set<PoolEntry>): Set<PoolEntry> {
  const found = new Set<PoolEntry>();
  const stack = [...next(start)];
  while (stack.length > 0) {
    const entry = stack.pop()!;
    if (found.has(entry)) continue;
    found.add(entry);
    for (const other of next(entry)) if (!found.has(other)) stack.push(other);
  }
  return found;
}
