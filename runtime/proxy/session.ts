/**
 * A session: what the proxy layer keeps for one connection, libmultiprocess'
 * `Connection`. It mints the threads (strands) the peer may run calls on,
 * holds the peer's ThreadMap to make threads there, maps strands to threads
 * in both directions, keeps the pool, and owns the connection's log.
 *
 * @example
 * ```ts ignore
 * const session = Session.of(connection, { name: "node" });
 * using threadMap = session.threadMap(); // what `construct` hands the peer
 * ```
 * @module
 */
import { Thread, ThreadMap } from "../../schemas/gen/mp/proxy.mp.ts";
import { Capability, type Hook, LocalHook, PromiseHook } from "../rpc/capability.ts";
import type { RpcConnection } from "../rpc/connection.ts";
import { RpcError } from "../rpc/errors.ts";
import { IpcLog } from "../log.ts";
import { sendPipelined } from "./client.ts";
import { implementationOf, serverOf } from "./server.ts";
import { Strand } from "./strand.ts";

/** How a session names itself and logs. */
export interface SessionOptions {
  /** Component name, the first part of thread names (`<name>-<pid>/...`). */
  name?: string;
  log?: IpcLog;
}

/** Per-connection state of one strand. */
interface StrandThreads {
  /** The peer's thread made for this strand (kept until disconnect). */
  made?: Capability;
  /** The peer's thread to call back on, set for the duration of a call. */
  callback?: Capability;
  /** This strand's own Thread, exported to the peer as `callbackThread`. */
  local?: Capability;
}

const sessions = new WeakMap<object, Session>();

/**
 * Where `cap` leads once its promise (if any) resolves: a thread handle
 * often arrives as the pipelined answer of a `makeThread` still running.
 */
async function settledHook(cap: Capability): Promise<Hook> {
  for (;;) {
    const hook = cap.hook.settled;
    if (!(hook instanceof PromiseHook)) return hook;
    if (hook.isResolved) {
      // Resolved but embargoed: the embargo lifts within a round trip.
      await new Promise((resolve) => setTimeout(resolve, 1));
    } else {
      await new Promise<void>((resolve) => hook.whenResolved(() => resolve()));
    }
  }
}

/** A Thread server: the strand behind a thread handle, and the session that minted it. */
class ThreadServer implements Thread {
  readonly strand: Strand;
  readonly session: Session;

  constructor(strand: Strand, session: Session) {
    this.strand = strand;
    this.session = session;
  }

  getName(): string {
    return this.session.threadName(this.strand);
  }
}

/** The proxy layer's state for one connection. */
export class Session {
  /** `<name>-<pid>`, the prefix of thread names. */
  readonly processName: string;
  readonly log: IpcLog;
  readonly #connection: RpcConnection;
  readonly #minted = new Set<ThreadServer>();
  readonly #strands = new Set<Strand>();
  readonly #own = new WeakSet<Strand>();
  #pool: Strand[] = [];
  #peerThreadMap: Capability | null = null;
  #threadMap: Capability | null = null;
  #threadCount = 0;

  /** The session of `connection`, made on first use. */
  static of(connection: RpcConnection, options: SessionOptions = {}): Session {
    return sessions.get(connection) ?? new Session(connection, options);
  }

  private constructor(connection: RpcConnection, options: SessionOptions) {
    this.#connection = connection;
    this.processName = `${options.name ?? "deno"}-${Deno.pid}`;
    this.log = options.log ?? new IpcLog();
    sessions.set(connection, this);
    connection.closed.then(() => this.#release());
  }

  /** The connection this session runs over. */
  get connection(): RpcConnection {
    return this.#connection;
  }

  /** Whether the connection is gone. */
  get disconnected(): boolean {
    return this.#connection.isClosed;
  }

  /** Our ThreadMap, as handed to the peer by `construct` (a new reference). */
  threadMap(): Capability {
    this.#threadMap ??= Capability.fromServer(serverOf(ThreadMap, {
      makeThread: (name: string) =>
        this.#mintServer(this.#ownStrand(`strand-${++this.#threadCount} (from ${name})`)),
      makePool: (count: number) => {
        for (let i = 0; i < count; i++) {
          const strand = this.#ownStrand(`pool-${this.#pool.length + 1}`);
          this.#pool.push(strand);
          this.#strands.add(strand);
        }
      },
    }));
    return this.#threadMap.dup();
  }

  /** Records the peer's ThreadMap (from `construct`); null when the peer sent none. */
  setPeerThreadMap(cap: Capability | null): void {
    this.#peerThreadMap?.dispose();
    this.#peerThreadMap = cap?.dup() ?? null;
  }

  /**
   * The name of `strand` as threads are named: `<name>-<pid>/<strand>`.
   * Strands this session made for the peer carry the prefix already.
   */
  threadName(strand: Strand): string {
    return this.#own.has(strand) ? strand.name : `${this.processName}/${strand.name}`;
  }

  /** The least busy pool strand, for a call whose Context names no thread. */
  poolStrand(): Strand {
    if (this.#pool.length === 0) {
      throw new RpcError("failed", "no thread specified and no pool configured");
    }
    return this.#pool.reduce((best, s) => s.depth < best.depth ? s : best);
  }

  /** The strand behind a thread handle; it must be one this session minted. */
  async strandFor(thread: Capability): Promise<Strand> {
    const hook = await settledHook(thread);
    const server = hook instanceof LocalHook ? implementationOf(hook.server) : undefined;
    if (!(server instanceof ThreadServer) || !this.#minted.has(server)) {
      throw new RpcError("failed", "invalid thread handle");
    }
    return server.strand;
  }

  /** The peer's thread for calls made on `strand` (borrowed), made on first use. */
  peerThread(strand: Strand): Capability {
    const threads = this.#threadsOf(strand);
    if (threads.callback) return threads.callback;
    if (threads.made) return threads.made;
    if (this.#peerThreadMap === null) {
      throw new RpcError(
        "failed",
        "Called null capability: the peer provided no ThreadMap to make a thread with.",
      );
    }
    // Pipelined: the first call on the thread goes out with makeThread, no round trip.
    const pending = sendPipelined(this.#peerThreadMap, ThreadMap, "makeThread", {
      name: this.threadName(strand),
    }, this);
    threads.made = pending.pipeline(0);
    return threads.made;
  }

  /** This strand's own Thread on this session (borrowed): the `callbackThread`. */
  localThread(strand: Strand): Capability {
    const threads = this.#threadsOf(strand);
    threads.local ??= Capability.fromServer(serverOf(Thread, this.#mintServer(strand)));
    return threads.local;
  }

  /**
   * Runs `task` with `callbackThread` as the thread `strand` calls back on,
   * unless one is set already (a nested call keeps the outer one).
   */
  async withCallbackThread<T>(
    strand: Strand,
    callbackThread: Capability | null,
    task: () => Promise<T>,
  ): Promise<T> {
    const threads = this.#threadsOf(strand);
    if (callbackThread === null || threads.callback !== undefined) return await task();
    threads.callback = callbackThread.dup();
    try {
      return await task();
    } finally {
      threads.callback.dispose();
      threads.callback = undefined;
    }
  }

  /** A strand made here for the peer, named with this process' prefix. */
  #ownStrand(name: string): Strand {
    const strand = new Strand(`${this.processName}/${name}`);
    this.#own.add(strand);
    return strand;
  }

  #mintServer(strand: Strand): ThreadServer {
    const server = new ThreadServer(strand, this);
    this.#minted.add(server);
    this.#strands.add(strand);
    return server;
  }

  #threadsOf(strand: Strand): StrandThreads {
    let threads = strand.threads.get(this) as StrandThreads | undefined;
    if (threads === undefined) {
      threads = {};
      strand.threads.set(this, threads);
      this.#strands.add(strand);
    }
    return threads;
  }

  /** Drops every reference the session holds once the connection is gone. */
  #release(): void {
    for (const strand of this.#strands) {
      const threads = strand.threads.get(this) as StrandThreads | undefined;
      threads?.made?.dispose();
      threads?.local?.dispose();
      strand.threads.delete(this);
    }
    this.#strands.clear();
    this.#minted.clear();
    this.#pool = [];
    this.#peerThreadMap?.dispose();
    this.#peerThreadMap = null;
    this.#threadMap?.dispose();
    this.#threadMap = null;
  }
}
