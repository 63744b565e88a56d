/**
 * Strands: the logical threads of libmultiprocess' 1:1 threading model,
 * for a single-threaded runtime. A strand plays both parts of a thread.
 *
 * - **Serving** ({@linkcode Strand.post}): calls posted to a strand run one
 *   at a time in arrival order, except while every running call is waiting
 *   on an outgoing call of its own (one made by code outside every posted
 *   call does not count): then the next posted call runs at once, as a
 *   libmultiprocess thread blocked in a call runs the callbacks posted to
 *   it. That is what lets a callback call back into the server that is
 *   calling it (recursion) without deadlock.
 * - **Calling** ({@linkcode Strand.call}): a thread makes one call at a
 *   time, so calls from one strand to one peer's thread are issued one at a
 *   time, in the order they were made, queued here. libmultiprocess servers
 *   up to Bitcoin Core v30 abort when a second call is queued for one of
 *   their threads (`Assertion '!m_fn' failed`). A call made while a peer
 *   runs a callback on this strand, inside this strand's call to that peer,
 *   is nested in that call as it would be on a thread's stack: it goes out
 *   at once (its own nested calls again one at a time), since the peer's
 *   thread is waiting for it. Once that call has returned, work the
 *   callback left running is nested in nothing any more: its calls wait
 *   their turn as the strand's own, after the calls it had already made
 *   (the strand's next call to that peer waits for those too). Unlike a thread, a strand may have one
 *   call out to each of several peers at once; callbacks nested in
 *   different ones are each nested in a waiting call, so they run as they
 *   come and may interleave.
 *
 * Concurrency comes from several strands (or a server's pool). Code runs
 * "on" a strand inside {@linkcode Strand.run}; code outside runs on
 * {@linkcode mainStrand}. A strand ends as a thread does: when it is
 * disposed (`using strand = new Strand(…)`), or else once it is
 * garbage-collected; each peer's thread made for it ends with it, and an
 * ended strand makes no more calls.
 *
 * @example
 * ```ts
 * import { Strand } from "./strand.ts";
 * const strand = new Strand("worker");
 * const order: number[] = [];
 * await Promise.all([
 *   strand.post(async () => { await new Promise((r) => setTimeout(r, 10)); order.push(1); }),
 *   strand.post(() => { order.push(2); }),
 * ]);
 * if (order.join() !== "1,2") throw new Error(`ran as ${order}`);
 * ```
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { RpcError } from "../rpc/errors.ts";

/** Calls to one peer from one frame: one issued, the others waiting in order. */
class Turn {
  busy = false;
  readonly waiting: (() => void)[] = [];
  /** Runs once the turn is next free (see {@linkcode Frame.whenIdle}). */
  onIdle: (() => void) | null = null;

  /** Resolves once the turn is handed over; rejects (leaving the line) if `signal` aborts first. */
  wait(signal: AbortSignal | undefined): Promise<void> {
    if (signal === undefined) return new Promise((resolve) => this.waiting.push(resolve));
    return new Promise((resolve, reject) => {
      const handOver = () => {
        signal.removeEventListener("abort", leave);
        resolve();
      };
      const leave = () => {
        this.waiting.splice(this.waiting.indexOf(handOver), 1);
        reject(signal.reason);
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener("abort", leave, { once: true });
      this.waiting.push(handOver);
    });
  }

  /** Hands the turn to the next waiting call, or frees it. */
  pass(): void {
    const next = this.waiting.shift();
    if (next !== undefined) return next();
    this.busy = false;
    const idle = this.onIdle;
    this.onIdle = null;
    idle?.();
  }
}

/**
 * One level of a strand's stack: the strand's own code (its root frame), or
 * the callbacks a peer runs inside one of the strand's calls to it.
 */
class Frame {
  readonly strand: Strand;
  readonly parent: Frame | null;
  /** The peer this frame's calls are nested in (null for the root). */
  readonly peer: object | null;
  /**
   * Set once the call this frame is nested in has returned: code still
   * running in it (work a callback left behind) is no longer nested in
   * anything, and calls from it wait their turn in the enclosing frame.
   */
  ended = false;
  /**
   * Set once the caller gave up on the call this frame is nested in while
   * the peer still runs it: callbacks the peer posts for it run at once
   * (the peer waits on them to finish the call), and nothing else does.
   */
  abandoned = false;
  /**
   * Set on the frame a posted call runs in: its outgoing calls not yet
   * finished or given up, and whether it has returned. While it has some,
   * it waits on them and other posted calls may run.
   */
  readonly posted: boolean;
  calls = 0;
  done = false;
  #turns: WeakMap<object, Turn> | null = null;

  constructor(strand: Strand, parent: Frame | null, peer: object | null, posted = false) {
    this.strand = strand;
    this.parent = parent;
    this.peer = peer;
    this.posted = posted;
  }

  /**
   * The turn that orders calls to `peer` made from this frame: its own when
   * it is nested in a call to that peer, else the nearest enclosing frame's
   * (ultimately the root's).
   */
  turnFor(peer: object): Turn {
    if (this.peer !== peer && this.parent !== null) return this.parent.turnFor(peer);
    const turns = this.#turns ??= new WeakMap();
    let turn = turns.get(peer);
    if (turn === undefined) turns.set(peer, turn = new Turn());
    return turn;
  }

  /**
   * Runs `then` once the calls this frame's code made to its peer are done:
   * at once unless a callback left some behind when its call returned.
   * Until then the peer's thread may still get them, so the enclosing
   * frame's next call to it waits.
   */
  whenIdle(then: () => void): void {
    const own = this.peer === null ? undefined : this.#turns?.get(this.peer);
    if (own?.busy) own.onIdle = then;
    else then();
  }
}

const current = new AsyncLocalStorage<Frame>();

/** What runs when a strand ends, per strand (see {@linkcode whenStrandEnds}). */
const endings = new WeakMap<Strand, Set<() => void>>();

/**
 * Runs `ended` once `strand` is disposed (not when it is collected: keep a
 * FinalizationRegistry for that). Returns how to stop watching.
 */
export function whenStrandEnds(strand: Strand, ended: () => void): () => void {
  let handlers = endings.get(strand);
  if (handlers === undefined) endings.set(strand, handlers = new Set());
  handlers.add(ended);
  return () => handlers.delete(ended);
}

/** Throws unless `strand` may still make calls (it has not ended). */
export function checkLive(strand: Strand): void {
  if (strand.ended) throw endedError(strand);
}

function endedError(strand: Strand): RpcError {
  return new RpcError("failed", `Strand '${strand.name}' has ended.`);
}

/**
 * A logical thread: an async context whose posted calls run in order and
 * whose calls go one at a time. Disposing it ends it (see the module doc).
 *
 * @example Each strand's calls run on a server thread of its own, and go there one at a time
 * ```ts
 * import { Strand } from "./strand.ts";
 * import { connect, listen } from "../process/process.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * import { fooInit } from "../../examples/foo/foo.ts";
 * const datadir = await Deno.makeTempDir();
 * {
 *   await using _listener = listen(FooInit, "unix", fooInit(), { datadir, component: "foo" });
 *   await using init = await connect(FooInit, "unix", { datadir, component: "foo" });
 *   await using foo = (await init.makeFoo())!;
 *   using a = new Strand("a");
 *   using b = new Strand("b");
 *   // Foo.threadName answers with the name of the server thread that runs the call.
 *   const [onA, onB, again] = await Promise.all([
 *     a.run(() => foo.threadName()),
 *     b.run(() => foo.threadName()),
 *     a.run(() => foo.threadName()),
 *   ]);
 *   if (onA === onB || onA !== again) throw new Error(`threads ${onA}, ${onB}, ${again}`);
 *   // Two calls made at once on one strand: the second goes once the first has returned.
 *   await a.run(() => Promise.all([foo.wait(50, 1), foo.wait(0, 2)]));
 *   const log = await foo.waitLog();
 *   if (log.join() !== "1,2") throw new Error(`completed as ${log}`);
 * } // a and b end first: the server's threads made for them end with them
 * await Deno.remove(datadir, { recursive: true });
 * ```
 */
export class Strand implements Disposable {
  /** Shown in logs and by `Thread.getName()`. */
  readonly name: string;
  #ended = false;
  /** Aborted when the strand ends: its calls waiting for their turn leave the line. */
  readonly #ending = new AbortController();
  readonly #root: Frame = new Frame(this, null, null);
  /** Posted calls running. */
  #active = 0;
  /** Posted calls running that wait on outgoing calls of theirs (for their turn or issued). */
  #blocked = 0;
  readonly #queue: (() => void)[] = [];
  /** Pool calls waiting for nothing else to run here ({@linkcode Strand.postAlone}). */
  readonly #alone: (() => void)[] = [];
  /**
   * The frames of this strand's issued calls, per peer, innermost last (an
   * array stays while its peer lives, so a call makes no table entry).
   */
  readonly #issued = new WeakMap<object, Frame[]>();

  /** A strand named `name` (its thread names end with it). */
  constructor(name: string) {
    this.name = name;
  }

  /** Whether it has been disposed: it makes no more calls. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Ends the strand: each peer's thread made for it is released now (the
   * peer's thread ends with it), and its calls from now on, queued ones
   * included, fail with `Strand '<name>' has ended.` Calls already sent
   * run to their end. {@linkcode mainStrand} lives as long as the process.
   */
  [Symbol.dispose](): void {
    if (this === mainStrand) throw new TypeError("mainStrand cannot end");
    if (this.#ended) return;
    this.#ended = true;
    this.#ending.abort(endedError(this));
    const handlers = endings.get(this);
    endings.delete(this);
    for (const ended of handlers ?? []) ended();
  }

  /** Calls posted or running and not finished: the load a pool balances. */
  get depth(): number {
    return this.#active + this.#queue.length + this.#alone.length;
  }

  /**
   * Runs `fn` on this strand (its outgoing calls use this strand's threads).
   * Code already on this strand stays where it is: in a callback, its calls
   * still nest in the call that runs it.
   */
  run<T>(fn: () => T): T {
    if (current.getStore()?.strand === this) return fn();
    return current.run(this.#root, fn);
  }

  /**
   * Runs `task` on this strand after the calls posted before it. `from` is
   * the peer the call came from: when this strand has a call issued to it,
   * `task` runs nested in that call (a callback of it).
   */
  post<T>(task: () => T | Promise<T>, from?: object): Promise<T> {
    if (this.#active <= this.#blocked || this.#inGivenUpCall(from)) return this.#start(task, from);
    return new Promise<T>((resolve) => this.#queue.push(() => resolve(this.#start(task, from))));
  }

  /**
   * Runs `task` on this strand once nothing else runs on it, after the
   * calls posted alone before it: a pool call, which names no thread, is
   * no callback of a call running here, so it neither nests in one nor
   * shares its thread to call back on. (Nested calls posted meanwhile still
   * run while every running call waits.)
   */
  postAlone<T>(task: () => T | Promise<T>): Promise<T> {
    if (this.#active === 0 && this.#alone.length === 0) return this.#start(task, undefined);
    return new Promise<T>((resolve) =>
      this.#alone.push(() => resolve(this.#start(task, undefined)))
    );
  }

  /**
   * Whether a call from `from` would run nested in a call to it the caller
   * gave up on (at any depth) that the peer still runs.
   */
  #inGivenUpCall(from: object | undefined): boolean {
    if (from === undefined) return false;
    for (let frame = this.#issued.get(from)?.at(-1); frame; frame = frame.parent ?? undefined) {
      if (frame.abandoned && !frame.ended) return true;
    }
    return false;
  }

  /** Runs posted `task` now, in the frame it belongs to. */
  #start<T>(task: () => T | Promise<T>, from: object | undefined): Promise<T> {
    this.#active++;
    const frame = (from === undefined ? undefined : this.#issued.get(from)?.at(-1)) ?? this.#root;
    const own = new Frame(this, frame, null, true);
    return current.run(own, () => this.#running(task, own));
  }

  async #running<T>(task: () => T | Promise<T>, own: Frame): Promise<T> {
    try {
      return await task();
    } finally {
      // Calls it leaves running no longer hold anything else back.
      own.done = true;
      if (own.calls > 0) this.#blocked--;
      this.#active--;
      this.#next();
    }
  }

  /** One more outgoing call of posted call `own`'s. */
  #blockedOn(own: Frame): void {
    if (own.calls++ === 0 && !own.done) this.#blocked++;
  }

  /** One outgoing call of posted call `own`'s finished, or was given up. */
  #unblockedOf(own: Frame): void {
    if (--own.calls === 0 && !own.done) this.#blocked--;
  }

  /**
   * Makes an outgoing call: `send` issues it and settles with its outcome.
   * With a `peer` (the connection whose thread runs it), `send` runs once
   * the calls this strand made to that peer before it are done, unless it
   * is nested in one of them; `null` (a call that runs on no thread) goes
   * out at once. Meanwhile posted calls may run on this strand. Aborting
   * `signal` while the call waits for its turn takes it out of the line
   * (rejecting with the signal's reason). Once `send` has run, the turn is
   * held until its promise settles; if `signal` aborts first, the caller
   * has moved on: posted calls wait for it again, except the callbacks the
   * peer posts for the call it still runs.
   */
  async call<T>(peer: object | null, send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    checkLive(this);
    const store = current.getStore();
    const here = store?.strand === this ? store : this.#root;
    // The posted call making it, if any, now waits on it.
    const own = here.posted ? here : null;
    if (own !== null) {
      this.#blockedOn(own);
      this.#next();
    }
    // Set once the caller gave up on the call: it no longer waits on it.
    let gaveUp = false;
    let turn: Turn | null = null;
    let frame: Frame | null = null;
    const giveUp = signal === undefined ? null : () => {
      if (gaveUp) return;
      gaveUp = true;
      if (own !== null) this.#unblockedOf(own);
      if (frame !== null) frame.abandoned = true;
    };
    try {
      if (peer !== null) {
        let caller = here;
        while (caller.ended || caller.posted) caller = caller.parent!;
        turn = caller.turnFor(peer);
        if (!turn.busy) turn.busy = true;
        else {
          const ending = this.#ending.signal;
          await turn.wait(signal === undefined ? ending : AbortSignal.any([signal, ending]));
        }
        frame = new Frame(this, caller, peer);
        let issued = this.#issued.get(peer);
        if (issued === undefined) this.#issued.set(peer, issued = []);
        issued.push(frame);
      }
      if (giveUp !== null) {
        // Aborted between its turn coming and now, or while it runs.
        if (signal!.aborted) giveUp();
        else signal!.addEventListener("abort", giveUp, { once: true });
      }
      try {
        return await send();
      } finally {
        if (giveUp !== null) signal!.removeEventListener("abort", giveUp);
        if (frame !== null) {
          frame.ended = true;
          const issued = this.#issued.get(peer!)!;
          issued.splice(issued.lastIndexOf(frame), 1);
          const enclosing = turn!;
          frame.whenIdle(() => enclosing.pass());
        }
      }
    } finally {
      if (!gaveUp && own !== null) this.#unblockedOf(own);
    }
  }

  #next(): void {
    while (this.#queue.length > 0 && this.#active <= this.#blocked) this.#queue.shift()!();
    if (this.#active === 0 && this.#alone.length > 0) this.#alone.shift()!();
  }
}

/** The strand of code that runs outside every {@linkcode Strand.run}. */
export const mainStrand: Strand = new Strand("main");

/**
 * The strand the calling code runs on.
 *
 * @example
 * ```ts
 * import { currentStrand, mainStrand, Strand } from "./strand.ts";
 * if (currentStrand() !== mainStrand) throw new Error("not on the main strand");
 * new Strand("a").run(() => {
 *   if (currentStrand().name !== "a") throw new Error("not on strand a");
 * });
 * ```
 */
export function currentStrand(): Strand {
  return current.getStore()?.strand ?? mainStrand;
}
