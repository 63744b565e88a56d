/**
 * A session: what the proxy layer keeps for one connection, libmultiprocess'
 * `Connection`. It serves the ThreadMap and the Threads the peer runs calls
 * on (plain engine servers), holds the peer's ThreadMap to make threads
 * there, maps strands to threads in both directions, keeps the pool, and
 * owns the connection's log.
 *
 * @example
 * ```ts
 * import { Session } from "./session.ts";
 * import { RpcConnection } from "../rpc/connection.ts";
 * import { channelFromStreams } from "../transport.ts";
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * await using connection = new RpcConnection(channelFromStreams(back.readable, there.writable));
 * await using _peer = new RpcConnection(channelFromStreams(there.readable, back.writable));
 * // One session per connection: asking again gives the same one.
 * const session = Session.of(connection, { name: "node" });
 * if (Session.of(connection) !== session) throw new Error("one session per connection");
 * if (session.processName !== `node-${Deno.pid}`) throw new Error(session.processName);
 * using threadMap = session.threadMap(); // what `construct` hands the peer
 * if (threadMap.disposed || session.disconnected) throw new Error("a live ThreadMap");
 * ```
 * @module
 */
import * as capnp from "capnp-es";
import type { InterfaceDescriptor, MethodSignature } from "../schema/descriptor.ts";
import { Thread, ThreadMap } from "../schema/gen/mp/proxy.mp.ts";
import {
  type CallContext,
  Capability,
  type Hook,
  LocalHook,
  PromiseHook,
  type Server,
} from "../rpc/capability.ts";
import type { RpcConnection } from "../rpc/connection.ts";
import { RpcError } from "../rpc/errors.ts";
import { serverFromMethods } from "../rpc/server.ts";
import { IpcLog } from "../log.ts";
import { structClass } from "./codec.ts";
import { sendPipelined } from "./request.ts";
import { checkLive, Strand, whenStrandEnds } from "./strand.ts";

/** How a session names itself and logs. */
export interface SessionOptions {
  /** Component name, the first part of thread names (`<name>-<pid>/...`). */
  name?: string | undefined;
  /** Where `-debug=ipc` lines go (default: a new `IpcLog`). */
  log?: IpcLog | undefined;
  /**
   * Text to add to the message of an exception the peer raised ("" for
   * none): how a host says what a peer's failure means in its own terms
   * (the sandbox names the manifest grant a refused permission needs).
   */
  explainRemote?: ((message: string) => string) | undefined;
}

/** Per-connection state of one strand, dropped when the strand ends or the connection closes. */
interface StrandThreads {
  /** The peer's thread made for this strand (its thread there ends with the strand). */
  made?: Capability | undefined;
  /** The peer's thread to call back on, set for the duration of a call. */
  callback?: Capability | undefined;
  /** This strand's own Thread, exported to the peer as `callbackThread`. */
  local?: Capability | undefined;
  /** Stops watching for the strand's end. */
  unwatch?: (() => void) | undefined;
}

/** Most pool threads a peer may ask one session for (`makePool`). */
export const MAX_POOL_THREADS = 1024;

const sessions = new WeakMap<RpcConnection, Session>();

/**
 * A strand as a Thread server holds it: strongly for a thread made for the
 * peer (the peer's handle is all that keeps it), weakly for a strand's own
 * `callbackThread` (the peer holding that must not keep the strand, and so
 * its threads, alive).
 */
type StrandRef = Strand | WeakRef<Strand>;

/** The strand behind every Thread server a session minted, and that session. */
const mintedThreads = new WeakMap<Server, { strand: StrandRef; session: Session }>();

/** The strand `ref` holds, or null once it is collected (its thread has ended). */
function strandOf(ref: StrandRef): Strand | null {
  return ref instanceof WeakRef ? ref.deref() ?? null : ref;
}

function methodOf(iface: InterfaceDescriptor, name: string): MethodSignature {
  return iface.methods.find((m) => m.name === name)!;
}

const MAKE_THREAD = methodOf(ThreadMap, "makeThread");
const MAKE_POOL = methodOf(ThreadMap, "makePool");
const GET_NAME = methodOf(Thread, "getName");

/**
 * Where `hook` leads once the promise it may be has resolved (a thread
 * handle often arrives as the pipelined answer of a `makeThread` still
 * running); a resolved promise held back by an embargo already knows.
 */
function resolvedHook(hook: Hook): Hook | Promise<Hook> {
  const settled = hook.settled;
  if (!(settled instanceof PromiseHook)) return settled;
  return new Promise<Hook>((resolve) => settled.whenResolved(resolve)).then(resolvedHook);
}

/** The proxy layer's state for one connection. */
export class Session {
  /** `<name>-<pid>`, the prefix of thread names. */
  readonly processName: string;
  /** The connection's `-debug=ipc` log. */
  readonly log: IpcLog;
  /** See {@linkcode SessionOptions.explainRemote}. */
  readonly explainRemote: ((message: string) => string) | undefined;
  readonly #connection: RpcConnection;
  /** Per-strand state; a strand collected takes its threads with it, as a thread's end does. */
  #threads = new WeakMap<Strand, StrandThreads>();
  /** The same state, to drop when the connection closes. */
  readonly #live = new Set<StrandThreads>();
  /** Strands this session made for the peer (named with the prefix already). */
  readonly #own = new WeakSet<Strand>();
  #pool: Strand[] = [];
  #peerThreadMap: Capability | null = null;
  /** Whether `construct` was exchanged: without it no ThreadMap can come. */
  #constructed = false;
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
    this.explainRemote = options.explainRemote;
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
    if (this.#threadMap === null) {
      const handlers: ((call: CallContext) => void)[] = [];
      handlers[MAKE_THREAD.ordinal] = (call) => {
        const params = call.params(structClass(MAKE_THREAD.params));
        const name = capnp.utils.getText(MAKE_THREAD.params.fields[0]!.offset, params);
        const strand = this.#ownStrand(`strand-${++this.#threadCount} (from ${name})`);
        // The peer's thread ends with its last reference, and so does the strand made for it
        // (releasing the threads it made on other connections).
        using thread = this.#mint(strand, strand, () => strand[Symbol.dispose]());
        const results = call.results(structClass(MAKE_THREAD.results));
        capnp.utils.setInterfacePointer(
          call.addResultCap(thread),
          capnp.utils.getPointer(MAKE_THREAD.results.fields[0]!.offset, results),
        );
      };
      handlers[MAKE_POOL.ordinal] = (call) => {
        const params = call.params(structClass(MAKE_POOL.params));
        const count = capnp.utils.getUint32(MAKE_POOL.params.fields[0]!.offset, params);
        if (this.#pool.length + count > MAX_POOL_THREADS) {
          throw new RpcError("failed", `pool size too large (at most ${MAX_POOL_THREADS} threads)`);
        }
        for (let i = 0; i < count; i++) {
          this.#pool.push(this.#ownStrand(`pool-${this.#pool.length + 1}`));
        }
      };
      this.#threadMap = Capability.fromServer(
        serverFromMethods(new Map([[ThreadMap.id, handlers]])),
      );
    }
    return this.#threadMap.dup();
  }

  /** Records the peer's ThreadMap (from `construct`); null when the peer sent none. */
  setPeerThreadMap(cap: Capability | null): void {
    this.#constructed = true;
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

  /**
   * The strand behind a thread handle; it must be one this session minted.
   * Known at once unless the handle is a promise still to resolve.
   */
  strandFor(thread: Capability): Strand | Promise<Strand> {
    const hook = resolvedHook(thread.hook);
    return hook instanceof Promise
      ? hook.then((hook) => this.#mintedStrand(hook))
      : this.#mintedStrand(hook);
  }

  #mintedStrand(hook: Hook): Strand {
    const minted = hook instanceof LocalHook ? mintedThreads.get(hook.server) : undefined;
    if (minted?.session !== this) throw new RpcError("failed", "invalid thread handle");
    const strand = strandOf(minted.strand);
    if (strand === null) throw new RpcError("failed", "thread handle of a strand that has ended");
    return strand;
  }

  /** The peer's thread for calls made on `strand` (borrowed), made on first use. */
  peerThread(strand: Strand): Capability {
    // A call that waited for its turn past its strand's end uses no thread.
    checkLive(strand);
    const threads = this.#threadsOf(strand);
    if (threads.callback) return threads.callback;
    if (threads.made) return threads.made;
    // A call that waited for its turn past the end of the connection.
    if (this.disconnected) throw new RpcError("disconnected", "The connection closed.");
    if (this.#peerThreadMap === null) {
      throw new RpcError(
        "failed",
        "Called null capability: the peer provided no ThreadMap to make a thread with" + (
          this.#constructed
            ? " (its construct passed none)."
            : ". A method that takes a Context runs on a thread the peer makes, from the " +
              "ThreadMap construct hands over: give the Init interface " +
              "`construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);`."
        ),
      );
    }
    // Pipelined: the first call on the thread goes out with makeThread, no round trip.
    const pending = sendPipelined(this.#peerThreadMap, ThreadMap, "makeThread", {
      name: this.threadName(strand),
    });
    const made = threads.made = pending.pipeline(0);
    // A thread the peer could not make (overloaded, say) is made again by the next call.
    pending.response.catch(() => {
      if (threads.made !== made) return;
      threads.made = undefined;
      made.dispose();
    });
    return made;
  }

  /** This strand's own Thread on this session (borrowed): the `callbackThread`. */
  localThread(strand: Strand): Capability {
    checkLive(strand);
    const threads = this.#threadsOf(strand);
    threads.local ??= this.#mint(strand, new WeakRef(strand));
    return threads.local;
  }

  /**
   * Runs `task` with `callbackThread` as the thread `strand` calls back on,
   * unless one is set already (a nested call keeps the outer one).
   */
  withCallbackThread<T>(
    strand: Strand,
    callbackThread: Capability | null,
    task: () => T | Promise<T>,
  ): T | Promise<T> {
    const threads = this.#threadsOf(strand);
    if (callbackThread === null || threads.callback !== undefined) return task();
    return this.#withCallback(threads, callbackThread.dup(), task);
  }

  async #withCallback<T>(
    threads: StrandThreads,
    callback: Capability,
    task: () => T | Promise<T>,
  ): Promise<T> {
    threads.callback = callback;
    try {
      return await task();
    } finally {
      callback.dispose();
      threads.callback = undefined;
    }
  }

  /** A strand made here for the peer, named with this process' prefix. */
  #ownStrand(name: string): Strand {
    const strand = new Strand(`${this.processName}/${name}`);
    this.#own.add(strand);
    return strand;
  }

  /** A new Thread for the strand `ref` holds, valid on this session only. */
  #mint(strand: Strand, ref: StrandRef, onDispose?: () => void): Capability {
    const name = this.threadName(strand);
    const handlers: ((call: CallContext) => void)[] = [];
    handlers[GET_NAME.ordinal] = (call) => {
      const results = call.results(structClass(GET_NAME.results));
      capnp.utils.setText(GET_NAME.results.fields[0]!.offset, name, results);
    };
    const server = serverFromMethods(new Map([[Thread.id, handlers]]), onDispose);
    mintedThreads.set(server, { strand: ref, session: this });
    return Capability.fromServer(server);
  }

  #threadsOf(strand: Strand): StrandThreads {
    let threads = this.#threads.get(strand);
    if (threads === undefined) {
      const made: StrandThreads = threads = {};
      this.#threads.set(strand, made);
      this.#live.add(made);
      Session.#strandsGone.register(strand, { session: this, threads: made }, made);
      made.unwatch = whenStrandEnds(strand, () => this.#drop(made));
    }
    return threads;
  }

  /** Drops the state of strands once they are collected. */
  static readonly #strandsGone = new FinalizationRegistry<
    { session: Session; threads: StrandThreads }
  >(({ session, threads }) => session.#drop(threads));

  /** Releases a strand's threads: the peer's made for it, its own exported. */
  #drop(threads: StrandThreads): void {
    if (!this.#live.delete(threads)) return;
    Session.#strandsGone.unregister(threads);
    threads.unwatch?.();
    threads.made?.dispose();
    threads.local?.dispose();
  }

  /** Drops every reference the session holds once the connection is gone. */
  #release(): void {
    for (const threads of this.#live) this.#drop(threads);
    this.#threads = new WeakMap();
    this.#pool = [];
    this.#peerThreadMap?.dispose();
    this.#peerThreadMap = null;
    this.#threadMap?.dispose();
    this.#threadMap = null;
  }
}
