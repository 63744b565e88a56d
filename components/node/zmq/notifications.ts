/**
 * Bitcoin Core's ZeroMQ notifications (`-zmqpubhashblock`, `-zmqpubhashtx`,
 * `-zmqpubrawblock`, `-zmqpubrawtx`, `-zmqpubsequence`, each with its
 * `…hwm`), published on {@linkcode ZmtpPublisher} sockets as Core's
 * `zmq/` publishes them: each message is three frames, the topic
 * (`hashblock`, `hashtx`, `rawblock`, `rawtx`, `sequence`), the body, and
 * the notifier's own message count as 4 bytes little-endian; hashes go as
 * bitcoind prints them (reversed), raw blocks and transactions with their
 * witnesses. The events and their order are Core's:
 *
 * - each new tip of an activation outside initial block download (Core's
 *   `UpdatedBlockTip`: once per iteration of `ActivateBestChain`, none
 *   for a tip that only went back): `hashblock` and `rawblock`;
 * - each transaction of a connected or disconnected block, then the
 *   block's `sequence` `C` or `D`;
 * - each transaction the mempool takes: `hashtx`, `rawtx` and `sequence`
 *   `A` with its mempool sequence; one it lets go other than by a block:
 *   `sequence` `R` with its mempool sequence.
 *
 * In a reorganisation the chain's order is Core's (see `ChainListener`):
 * the disconnections, then the mempool's re-additions, then the new
 * blocks' `C`, then their `hashblock`.
 *
 * Notifiers on the same address share its socket, as Core's do; so do
 * notifiers whose `ipc://` addresses name one socket file in different
 * spellings (`a.sock`, `./x/../a.sock`, its absolute path), which Core
 * would bind twice, the second taking the file from the first. An
 * address that cannot be bound leaves the node without ZMQ notifications,
 * as Core's failed `Initialize` does, and says so in the log.
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { ZmqNotifications } from "./notifications.ts";
 * const dir = Deno.makeTempDirSync();
 * const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const address = `tcp://127.0.0.1:${free.addr.port}`;
 * free.close();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   const quiet = () => {};
 *   const sources = { chain, mempool, isInitialBlockDownload: () => false, log: quiet, warn: quiet };
 *   const notifiers = [{ type: "pubhashblock" as const, address, hwm: 1000 }];
 *   await using zmq = ZmqNotifications.start(notifiers, sources, Deno.cwd());
 *   if (zmq.active.length !== 1) throw new Error("one notifier publishing");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import type { Block } from "../chain/block.ts";
import { encodeBlock } from "../chain/block.ts";
import type { ChainState } from "../chain/chainstate.ts";
import type { Hash } from "../chain/hash.ts";
import { encodeTx, type Tx, txid } from "../chain/tx.ts";
import type { Mempool } from "../mempool/mod.ts";
import { zmqEndpoint, zmqEndpointKey, type ZmqNotifier, type ZmqType } from "./options.ts";
import { ZmtpPublisher } from "./zmtp.ts";

const encoder = new TextEncoder();

/** A hash as bitcoind sends it: reversed. */
function reversed(hash: Hash): Uint8Array {
  return Uint8Array.from(hash).reverse();
}

/** One notifier publishing on its socket, with its own message count. */
class Publisher {
  #count = 0;

  constructor(readonly notifier: ZmqNotifier, readonly socket: ZmtpPublisher) {}

  send(topic: string, body: Uint8Array): void {
    const count = new Uint8Array(4);
    new DataView(count.buffer).setUint32(0, this.#count, true);
    this.#count = (this.#count + 1) >>> 0;
    this.socket.publish([encoder.encode(topic), body, count]);
  }
}

/** What the notifications follow. */
export interface ZmqSources {
  readonly chain: ChainState;
  readonly mempool: Mempool;
  /** Whether the node is in initial block download (no `hashblock` then). */
  readonly isInitialBlockDownload: () => boolean;
  /** Where what Core logs under `-debug=zmq` goes (notifiers ready, subscribers dropped). */
  readonly log: (line: string) => void;
  /** Where an address that cannot be bound is told of (Core only logs it under `-debug=zmq`). */
  readonly warn: (line: string) => void;
}

/** The node's ZMQ notifications: its sockets and what feeds them. */
export class ZmqNotifications implements AsyncDisposable {
  readonly #publishers: Publisher[];
  readonly #sockets: ZmtpPublisher[];
  readonly #subscriptions: Disposable[] = [];

  private constructor(publishers: Publisher[], sockets: ZmtpPublisher[], sources: ZmqSources) {
    this.#publishers = publishers;
    this.#sockets = sockets;
    if (publishers.length === 0) return;
    this.#subscriptions.push(
      sources.chain.subscribe({
        blockConnected: ({ block, entry, txids }) => {
          block.txs.forEach((tx, i) => this.#transaction(tx, txids[i]));
          this.#sequence(entry.hash, "C");
        },
        blockDisconnected: ({ block, entry, txids }) => {
          block.txs.forEach((tx, i) => this.#transaction(tx, txids[i]));
          this.#sequence(entry.hash, "D");
        },
        // Core's UpdatedBlockTip, not in initial block download.
        updatedBlockTip: ({ block, entry }) => {
          if (!sources.isInitialBlockDownload()) this.#block(entry.hash, block);
        },
      }),
      sources.mempool.subscribe({
        added: (entry, sequence) => {
          this.#transaction(entry.tx, entry.txid);
          this.#sequence(entry.txid, "A", sequence);
        },
        removed: (tx, reason, sequence) => {
          if (reason !== "block") this.#sequence(txid(tx), "R", sequence);
        },
      }),
    );
  }

  /**
   * Binds a socket per endpoint of `notifiers` (a relative `ipc://` path
   * against `workingDirectory`, where the options were read and the grants
   * computed; notifiers whose addresses name one endpoint, however spelt,
   * share its socket, with the first one's high-water mark, as Core's
   * notifiers of one address do) and follows `sources`; with an address
   * that cannot be bound, none (logged, as Core's).
   */
  static start(
    notifiers: readonly ZmqNotifier[],
    sources: ZmqSources,
    workingDirectory: string,
  ): ZmqNotifications {
    const sockets = new Map<string, ZmtpPublisher>();
    const socketOf: ZmtpPublisher[] = [];
    try {
      for (const notifier of notifiers) {
        const endpoint = zmqEndpoint(notifier.address, workingDirectory);
        const key = zmqEndpointKey(endpoint);
        let socket = sockets.get(key);
        if (socket === undefined) {
          socket = ZmtpPublisher.bind(endpoint, { hwm: notifier.hwm, log: sources.log });
          sockets.set(key, socket);
        } else {
          sources.log(`Reusing socket for address ${notifier.address}`);
        }
        socketOf.push(socket);
      }
    } catch (error) {
      sources.warn(
        `zmq: Error: Failed to bind address, msg: ${
          error instanceof Error ? error.message : error
        }`,
      );
      for (const socket of sockets.values()) void socket[Symbol.asyncDispose]();
      return new ZmqNotifications([], [], sources);
    }
    const publishers = notifiers.map((notifier, i) => new Publisher(notifier, socketOf[i]));
    for (const { notifier } of publishers) {
      sources.log(`Notifier ${notifier.type} ready (address = ${notifier.address})`);
    }
    return new ZmqNotifications(publishers, [...sockets.values()], sources);
  }

  /** The notifiers publishing (`getzmqnotifications`); none when their start failed. */
  get active(): readonly ZmqNotifier[] {
    return this.#publishers.map((publisher) => publisher.notifier);
  }

  #each(type: ZmqType, send: (publisher: Publisher) => void): void {
    for (const publisher of this.#publishers) if (publisher.notifier.type === type) send(publisher);
  }

  #block(hash: Hash, block: Block): void {
    this.#each("pubhashblock", (p) => p.send("hashblock", reversed(hash)));
    let raw: Uint8Array | null = null;
    this.#each("pubrawblock", (p) => p.send("rawblock", raw ??= encodeBlock(block)));
  }

  #transaction(tx: Tx, id: Hash): void {
    this.#each("pubhashtx", (p) => p.send("hashtx", reversed(id)));
    let raw: Uint8Array | null = null;
    this.#each("pubrawtx", (p) => p.send("rawtx", raw ??= encodeTx(tx, true)));
  }

  /** Core's sequence message: the hash, the label, and for `A`/`R` the mempool sequence. */
  #sequence(hash: Hash, label: "C" | "D" | "A" | "R", mempoolSequence?: number): void {
    this.#each("pubsequence", (p) => {
      const body = new Uint8Array(mempoolSequence === undefined ? 33 : 41);
      body.set(reversed(hash));
      body[32] = label.charCodeAt(0);
      if (mempoolSequence !== undefined) {
        new DataView(body.buffer).setBigUint64(33, BigInt(mempoolSequence), true);
      }
      p.send("sequence", body);
    });
  }

  /** Stops following the chain and mempool and closes the sockets. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const subscription of this.#subscriptions) subscription[Symbol.dispose]();
    await Promise.all(this.#sockets.map((socket) => socket[Symbol.asyncDispose]()));
  }
}
