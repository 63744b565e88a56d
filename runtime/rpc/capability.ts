/**
 * Capabilities: the handles application code holds, and the hooks behind
 * them that decide where a call goes.
 *
 * A {@linkcode Capability} is one counted reference to a {@linkcode Hook}.
 * Hooks here know nothing of connections: {@linkcode LocalHook} runs a
 * {@linkcode Server} in this process, {@linkcode PromiseHook} stands for a
 * capability not known yet (queueing calls, or sending them ahead when the
 * engine can pipeline), {@linkcode BrokenHook} fails every call. The
 * connection adds hooks for the peer's objects.
 *
 * @module
 */
import type * as capnp from "capnp-es";
import { canceledError, RpcError } from "./errors.ts";
import {
  capIndexAt,
  type CapnpPointer,
  capTableOf,
  initStruct,
  newCallMessage,
  newReturnMessage,
  readStruct,
  releaseBuffers,
} from "./message.ts";

/**
 * A struct of a capnp-es generated class: the params and results of every
 * call are these.
 */
export type CapnpStruct = capnp.Struct;
/** A capnp-es message: the segments one call or return is built in. */
export type CapnpMessage = capnp.Message;
/** One segment of a {@linkcode CapnpMessage}. */
export type CapnpSegment = ReturnType<CapnpMessage["allocateSegment"]>;
/** A struct's size: its data words and pointers. */
export type CapnpObjectSize = capnp.ObjectSize;
/** What capnp-es knows of a struct type: its name, id and size. */
export interface StructLayout {
  /** The struct's name in its schema. */
  readonly displayName: string;
  /** The struct's schema id, in hex. */
  readonly id: string;
  /** The struct's size. */
  readonly size: CapnpObjectSize;
}
/**
 * A capnp-es generated struct class, which reads and builds one struct type
 * (the same shape as capnp-es's `StructCtor`, named here so the engine's
 * signatures are its own).
 */
export interface StructClass<S extends CapnpStruct> {
  /** The struct's layout, read by capnp-es to place it. */
  readonly _capnp: StructLayout;
  /** A view of the struct at a position in a segment. */
  new (segment: CapnpSegment, byteOffset: number, depthLimit?: number, compositeIndex?: number): S;
}
export type { CapnpPointer };

/** Identifies a method and its params struct. */
export interface MethodDescriptor<P extends CapnpStruct> {
  /** The interface's 64-bit type id. */
  readonly interfaceId: bigint;
  /** The method's ordinal. */
  readonly methodId: number;
  /** The capnp-es class of its params struct. */
  readonly ParamsClass: StructClass<P>;
}

/** A call on its way to a hook. */
export interface CallMessage {
  /** The interface called. */
  readonly interfaceId: bigint;
  /** The method's ordinal. */
  readonly methodId: number;
  /** An RPC message whose root is a `Call`; its params are complete. */
  readonly message: CapnpMessage;
  /** The params content pointer inside `message`. */
  readonly params: CapnpPointer;
  /** The params' capability table; the call owns these references. */
  readonly caps: (Capability | null)[];
  /** Built here and never sent: its envelope may be filled in and sent as is. */
  readonly writable: boolean;
  /** Aborts when the caller gives up on the call. */
  readonly signal?: AbortSignal | undefined;
  /** The connection the call arrived on; absent for calls made in this process. */
  readonly origin?: object | undefined;
}

/** What a hook returns for a call: the eventual response and its pipeline. */
export interface Sent {
  /** Settles with the results, or rejects with the call's error. */
  readonly response: Promise<Response>;
  /** The capability at `path` in the results, usable before they arrive; retained. */
  pipeline(path: readonly number[]): Hook;
  /**
   * Settles (never rejects) once the callee is done with the call: when
   * `response` settles, except for a call canceled while a peer runs it,
   * whose `response` rejects at once while the peer's Return is still to
   * come. Absent where the two are the same.
   */
  finished?(): Promise<void>;
}

/** When the callee is done with the call `sent` ({@linkcode Sent.finished}). */
export function finishedOf(sent: Sent): Promise<void> {
  return sent.finished?.() ?? sent.response.then(ignore, ignore);
}

function ignore(): void {}

/** Hooks whose last reference went while another hook was ending (see `Hook.release`). */
let ending: Hook[] | null = null;

/**
 * Where calls on a capability go. Reference counted by its holders.
 *
 * @example A hook of one's own: counts the calls it forwards, and ends its target with itself
 * ```ts
 * import { Capability, type CallMessage, Hook, type Sent } from "./capability.ts";
 * import { serverFromMethods } from "./server.ts";
 * import { Tester$Client } from "../../examples/schemas/gen/testing.ts";
 * const add = Tester$Client.methods[0];
 * class CountingHook extends Hook {
 *   calls = 0;
 *   constructor(readonly target: Hook) {
 *     super();
 *   }
 *   send(call: CallMessage): Sent {
 *     this.calls++;
 *     return this.target.send(call);
 *   }
 *   protected override unreferenced(): void {
 *     this.target.release();
 *   }
 * }
 * let ended = false;
 * const adder = Capability.fromServer(serverFromMethods(new Map([[Tester$Client.interfaceId, [
 *   (call) => {
 *     const { a, b } = call.params(add.ParamsClass);
 *     call.results(add.ResultsClass).result = a + b;
 *   },
 * ]]]), () => ended = true));
 * const counting = new CountingHook(adder.hook.retain()).retain();
 * adder.dispose(); // the counting hook holds the adder now
 * {
 *   using counted = new Capability(counting);
 *   for (const [a, b] of [[1, 2], [3, 4]]) {
 *     const request = counted.request(add);
 *     request.params.a = a!;
 *     request.params.b = b!;
 *     using _response = await request.send();
 *   }
 * }
 * if (counting.calls !== 2 || !ended) throw new Error("two calls, then the adder ends");
 * ```
 */
export abstract class Hook {
  #refs = 0;
  /** Waiting in `ending` to be ended. */
  #ending = false;

  /** Adds a reference and returns this hook. */
  retain(): this {
    this.#refs++;
    return this;
  }

  /**
   * Drops a reference; the last one runs {@linkcode Hook.unreferenced}.
   * Hooks that release others as they end (a chain of promises a peer
   * resolved one to the next) end one after another, not nested: a chain
   * of any length takes no stack.
   */
  release(): void {
    if (--this.#refs !== 0) return;
    if (ending !== null) {
      if (!this.#ending) ending.push(this);
      this.#ending = true;
      return;
    }
    ending = [this];
    let failure: unknown = null;
    try {
      // In the order their last references went, as nested calls would have.
      for (let i = 0; i < ending.length; i++) {
        const hook = ending[i]!;
        hook.#ending = false;
        if (hook.#refs !== 0) continue; // retained again meanwhile
        try {
          hook.unreferenced();
        } catch (error) {
          failure ??= error;
        }
      }
    } finally {
      ending = null;
    }
    if (failure !== null) throw failure;
  }

  /** Whether anything still holds this hook. */
  get referenced(): boolean {
    return this.#refs > 0;
  }

  /** Delivers or sends a call. Takes ownership of `call.caps`. */
  abstract send(call: CallMessage): Sent;

  /** The hook this one forwards to now (itself unless it is a resolved promise). */
  get settled(): Hook {
    return this;
  }

  /** Runs when the last reference is dropped. */
  protected unreferenced(): void {}
}

// Nobody is left to tell of a failure: the object has ended all the same.
const finalizer = new FinalizationRegistry<Hook>((hook) => ignoringFailure(() => hook.release()));

/**
 * A reference to an object that may live in this process or another.
 *
 * Each handle holds one reference; {@linkcode Capability.dup} makes another.
 * Release with `dispose()` or `using`; a handle that is garbage-collected
 * undisposed is released then, as a fallback.
 *
 * @example
 * ```ts
 * import { Capability, type Server } from "./capability.ts";
 * let disposed = false;
 * const server: Server = { dispatch() {}, [Symbol.dispose]() { disposed = true; } };
 * {
 *   using cap = Capability.fromServer(server);
 * }
 * if (!disposed) throw new Error("the server ends with its last capability");
 * ```
 */
export class Capability implements Disposable {
  #hook: Hook | null;

  /** Wraps `hook`, taking over one reference the caller already holds. */
  constructor(hook: Hook) {
    this.#hook = hook;
    finalizer.register(this, hook, this);
  }

  /** A capability served by `server` in this process. */
  static fromServer(server: Server): Capability {
    return new Capability(new LocalHook(server).retain());
  }

  /** A capability whose every call fails with `error`. */
  static broken(error: RpcError): Capability {
    return new Capability(new BrokenHook(error).retain());
  }

  /** The hook behind this handle. */
  get hook(): Hook {
    if (this.#hook === null) throw new Error("Capability used after dispose().");
    return this.#hook;
  }

  /** Whether this handle has been disposed. */
  get disposed(): boolean {
    return this.#hook === null;
  }

  /**
   * Starts a call of `method` (capnp-es's generated `X$Client.methods[i]`
   * fit); fill in `params` and `send()` it.
   */
  request<P extends CapnpStruct>(method: MethodDescriptor<P>): Request<P> {
    return new Request(this.hook, method.interfaceId, method.methodId, method.ParamsClass);
  }

  /** Another reference to the same object. */
  dup(): Capability {
    return new Capability(this.hook.retain());
  }

  /** Releases this reference. Idempotent. */
  dispose(): void {
    const hook = this.#hook;
    if (hook === null) return;
    this.#hook = null;
    finalizer.unregister(this);
    hook.release();
  }

  /** The same as `dispose()`, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * A call being built. Its params live in the message that goes on the wire,
 * so sending copies nothing. One never sent is disposed (`using`): that
 * releases the capabilities put in its params.
 */
export class Request<P extends CapnpStruct> implements Disposable {
  readonly #target: Hook;
  readonly #interfaceId: bigint;
  readonly #methodId: number;
  readonly #message: CapnpMessage;
  readonly #content: CapnpPointer;
  /** The params struct to fill in. */
  readonly params: P;
  #sent = false;

  /** A call of method `methodId` of `interfaceId` on `target`, its params of class `Params`. */
  constructor(target: Hook, interfaceId: bigint, methodId: number, Params: StructClass<P>) {
    this.#target = target;
    this.#interfaceId = interfaceId;
    this.#methodId = methodId;
    ({ message: this.#message, content: this.#content } = newCallMessage(interfaceId, methodId));
    this.params = initStruct(Params, this.#content);
  }

  /** Puts a capability (a new reference to it) in the params' table; returns its index. */
  addCap(cap: Capability | null): number {
    const table = capTableOf<Capability>(this.#message);
    table.push(cap === null ? null : cap.dup());
    return table.length - 1;
  }

  /** Sends the call. A request can be sent once. */
  send(options: { signal?: AbortSignal | undefined } = {}): PendingCall {
    if (this.#sent) throw new Error("Request already sent.");
    this.#sent = true;
    return new PendingCall(this.#target.send({
      interfaceId: this.#interfaceId,
      methodId: this.#methodId,
      message: this.#message,
      params: this.#content,
      caps: capTableOf<Capability>(this.#message),
      writable: true,
      signal: options.signal,
    }));
  }

  /** Releases the params' capabilities of a request never sent (nothing once sent). */
  [Symbol.dispose](): void {
    if (this.#sent) return;
    this.#sent = true;
    releaseCaps(capTableOf<Capability>(this.#message));
  }
}

/**
 * A call in flight: await it for the {@linkcode Response}, or pipeline on it.
 *
 * @example Pipelining: calling the capability the results will hold, without waiting for them
 * ```ts
 * import { RpcConnection } from "./connection.ts";
 * import { newTester } from "../../examples/tester.ts";
 * import { Counter$Client, Tester$Client } from "../../examples/schemas/gen/testing.ts";
 * const dir = await Deno.makeTempDir();
 * {
 *   const path = `${dir}/tester.sock`;
 *   using listener = Deno.listen({ transport: "unix", path });
 *   const { tester } = newTester();
 *   const accepting = listener.accept().then((conn) => new RpcConnection(conn, { bootstrap: tester }));
 *   await using client = new RpcConnection(await Deno.connect({ transport: "unix", path }));
 *   await using _server = await accepting;
 *   tester.dispose(); // the server's connection holds its own reference
 *   using remote = client.bootstrap();
 *   const makeCounter = Tester$Client.methods[3];
 *   const next = Counter$Client.methods[0];
 *   const request = remote.request(makeCounter);
 *   request.params.start = 10n;
 *   const made = request.send();
 *   // The results' pointer field 0 (`counter`), called now: both calls go in one round trip.
 *   using counter = made.pipeline(0);
 *   using first = await counter.request(next).send();
 *   if (first.results(next.ResultsClass).value !== 11n) throw new Error("counted from 10");
 *   using _made = await made;
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class PendingCall implements PromiseLike<Response> {
  readonly #sent: Sent;

  /** The call `sent`, awaitable. */
  constructor(sent: Sent) {
    this.#sent = sent;
  }

  /** The eventual response. */
  get response(): Promise<Response> {
    return this.#sent.response;
  }

  /** The capability at pointer-field `path` of the results, before they arrive. */
  pipeline(...path: number[]): Capability {
    return new Capability(this.#sent.pipeline(path));
  }

  /**
   * Settles (never rejects) once the callee is done with the call. A call
   * canceled through its `signal` fails at once, but a peer may still be
   * running it: this waits for the peer's Return (or the connection's end).
   */
  finished(): Promise<void> {
    return finishedOf(this.#sent);
  }

  /** Awaits the response (a `PendingCall` is a promise of it). */
  then<A = Response, B = never>(
    onfulfilled?: ((value: Response) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#sent.response.then(onfulfilled, onrejected);
  }
}

/**
 * The results of a call. Owns the capabilities in them: take one with
 * {@linkcode Response.capability} (a new reference) before disposing.
 */
export class Response implements Disposable {
  /** The message holding the results. */
  readonly message: CapnpMessage;
  /** The results content pointer inside `message`. */
  readonly content: CapnpPointer;
  /** Built here (results of a local call): may be sent on as is. */
  readonly writable: boolean;

  /** Results at `content` in `message`; `writable` when built here. */
  constructor(message: CapnpMessage, content: CapnpPointer, writable: boolean) {
    this.message = message;
    this.content = content;
    this.writable = writable;
  }

  /** Reads the results struct. */
  results<R extends CapnpStruct>(Results: StructClass<R>): R {
    return readStruct(Results, this.content);
  }

  /** The results' capability table, owned by this response. */
  get caps(): (Capability | null)[] {
    return capTableOf<Capability>(this.message);
  }

  /** A new reference to capability `index` of the table, or null. */
  capability(index: number): Capability | null {
    const cap = this.caps[index];
    return cap && !cap.disposed ? cap.dup() : null;
  }

  /** The hook at a pipeline path of the results, retained. */
  hookAt(path: readonly number[]): Hook {
    let index: number | null;
    try {
      index = capIndexAt(this.content, path);
    } catch (error) {
      return new BrokenHook(RpcError.from(error)).retain();
    }
    const cap = index === null ? null : this.caps[index];
    if (cap == null || cap.disposed) {
      return new BrokenHook(new RpcError("failed", "Called null capability.")).retain();
    }
    return cap.hook.retain();
  }

  /**
   * Releases the capabilities this response still owns, and a received
   * message's buffers: its results (Data read in place included) must not
   * be read afterwards.
   */
  dispose(): void {
    try {
      releaseCaps(this.caps);
    } finally {
      if (!this.writable) releaseBuffers(this.message);
    }
  }

  /** The same as `dispose()`, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Disposes every handle in a capability table and empties it; throws the
 * first failure of a server's dispose once all are disposed.
 */
export function releaseCaps(caps: (Capability | null)[]): void {
  if (caps.length === 0) return;
  let failure: { error: unknown } | null = null;
  for (const cap of caps.splice(0)) {
    try {
      cap?.dispose();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure !== null) throw failure.error;
}

/** Runs `end`, a release at teardown, which nobody is left to tell of a failure. */
export function ignoringFailure(end: () => void): void {
  try {
    end();
  } catch { /* a server's dispose failed; it is gone all the same */ }
}

/** An object that answers calls: what a {@linkcode LocalHook} delivers to. */
export interface Server {
  /**
   * Handles one call. Throw (or reject) to fail it; an {@linkcode RpcError}
   * chooses the exception type. Unknown methods should throw `unimplemented`.
   */
  dispatch(call: CallContext): void | Promise<void>;
  /** Runs when the last reference to the object is released. */
  [Symbol.dispose]?(): void;
}

/**
 * One call as the server sees it: params in, results out, and a signal that
 * aborts when the caller cancels or disconnects.
 */
export class CallContext {
  /** Interface of the method called. */
  readonly interfaceId: bigint;
  /** Ordinal of the method in that interface. */
  readonly methodId: number;
  /** The connection the call arrived on; absent for calls made in this process. */
  readonly origin: object | undefined;
  readonly #call: CallMessage;
  #signal: AbortSignal | undefined;
  #results: { message: CapnpMessage; content: CapnpPointer } | null = null;

  /** The context of the arriving `call`. */
  constructor(call: CallMessage) {
    this.interfaceId = call.interfaceId;
    this.methodId = call.methodId;
    this.origin = call.origin;
    this.#call = call;
  }

  /**
   * Aborts when the caller cancels the call or the connection drops. A call
   * sent without a signal gets one of its own that never aborts (listeners
   * on it go with the call).
   */
  get signal(): AbortSignal {
    return this.#signal ??= this.#call.signal ?? new AbortController().signal;
  }

  /** Reads the params struct. */
  params<P extends CapnpStruct>(Params: StructClass<P>): P {
    return readStruct(Params, this.#call.params);
  }

  /** The params' capability table; `dup()` an entry to keep it after the call. */
  get paramCaps(): readonly (Capability | null)[] {
    return this.#call.caps;
  }

  /** Initialises (once) and returns the results struct. */
  results<R extends CapnpStruct>(Results: StructClass<R>): R {
    const built = this.#results ??= newReturnMessage();
    return initStruct(Results, built.content);
  }

  /** Puts a capability (a new reference) in the results' table; returns its index. */
  addResultCap(cap: Capability | null): number {
    const built = this.#results ??= newReturnMessage();
    const table = capTableOf<Capability>(built.message);
    table.push(cap === null ? null : cap.dup());
    return table.length - 1;
  }

  /** The finished results; the response takes over their capabilities. */
  toResponse(): Response {
    const built = this.#results ??= newReturnMessage();
    return new Response(built.message, built.content, true);
  }
}

/** Runs calls on a {@linkcode Server} in this process, in the order they were sent. */
export class LocalHook extends Hook {
  readonly server: Server;

  constructor(server: Server) {
    super();
    this.server = server;
  }

  send(call: CallMessage): Sent {
    if (call.signal?.aborted) return new BrokenHook(canceledError(call.signal.reason)).send(call);
    let outcome: Response | RpcError | null = null;
    let pipelines: PipelineSet | null = null;
    // A call sent holds its object until it is delivered: the caller may
    // release its reference right after sending, and the call still runs.
    // Once it runs, releasing the last reference ends the object (a long
    // wait ends with it). A hook already unreferenced is not revived.
    const held = this.referenced;
    if (held) this.retain();
    // Delivered from a microtask: callers never re-enter through send(),
    // and microtasks keep the order calls were made in.
    const response = new Promise<Response>((resolve, reject) => {
      queueMicrotask(() => {
        const context = new CallContext(call);
        const settle = (failed: boolean, error?: unknown) => {
          if (failed) reject(outcome = RpcError.from(error));
          else resolve(outcome = context.toResponse());
          try {
            if (pipelines !== null) pipelines.resolve(hooksOf(outcome));
          } finally {
            // Released once the call is answered: a server whose dispose throws has ended all
            // the same, and its failure is nobody's to handle here.
            if (failed) ignoringFailure(() => context.toResponse().dispose());
            ignoringFailure(() => releaseCaps(call.caps));
          }
        };
        let running: void | PromiseLike<void>;
        try {
          // Canceled after it was sent and before it was delivered (a peer's Call and its
          // early Finish read together): it never runs. Its signal fired before the server
          // could listen, so a server waiting on it would run on, holding the call, unseen.
          if (call.signal?.aborted) return settle(true, canceledError(call.signal.reason));
          running = this.server.dispatch(context);
        } catch (error) {
          return settle(true, error);
        } finally {
          // The call's own hold may be the last: a server whose dispose
          // throws has ended all the same, and the call is answered.
          if (held) {
            try {
              this.release();
            } catch { /* nothing to tell this call */ }
          }
        }
        // A handler that returns at once settles its call in this microtask;
        // anything else is adopted as a promise (which settles once).
        if (running === undefined) return settle(false);
        Promise.resolve(running).then(() => settle(false), (error) => settle(true, error));
      });
    });
    response.catch(() => {});
    const pipeline = (path: readonly number[]) => {
      if (outcome !== null) return hooksOf(outcome)(path);
      // Made on first use: most calls are never pipelined on.
      return (pipelines ??= new PipelineSet()).get(path);
    };
    return { response, pipeline };
  }

  protected override unreferenced(): void {
    this.server[Symbol.dispose]?.();
  }
}

/** Where each pipeline path of a finished call leads (retained hooks). */
export function hooksOf(outcome: Response | RpcError): (path: readonly number[]) => Hook {
  return outcome instanceof Response
    ? (path) => outcome.hookAt(path)
    : () => new BrokenHook(outcome).retain();
}

/** Fails every call with one error. */
export class BrokenHook extends Hook {
  readonly error: RpcError;

  constructor(error: RpcError) {
    super();
    this.error = error;
  }

  send(call: CallMessage): Sent {
    // The call fails all the same; a server's dispose failing here is nobody's to handle.
    ignoringFailure(() => releaseCaps(call.caps));
    return failedSent(this.error);
  }
}

/** A call outcome that is already `error`, pipeline included. */
export function failedSent(error: RpcError): Sent {
  const response = Promise.reject(error);
  response.catch(() => {});
  return { response, pipeline: () => new BrokenHook(error).retain() };
}

/** A call waiting in a {@linkcode PromiseHook} until it knows where to go. */
class QueuedCall {
  readonly call: CallMessage;
  readonly pipelines = new PipelineSet();
  readonly response: Promise<Response>;
  readonly #forwarded: Promise<Sent>;
  #resolve!: (sent: Sent) => void;
  /** Stops listening for the call's abort (once it is forwarded). */
  readonly #detach: (() => void) | null = null;

  /** `call`, waiting; `abandon` runs if its signal aborts before it is forwarded. */
  constructor(call: CallMessage, abandon: () => void) {
    this.call = call;
    this.#forwarded = new Promise<Sent>((resolve) => this.#resolve = resolve);
    this.response = this.#forwarded.then((sent) => sent.response);
    this.response.catch(() => {});
    const signal = call.signal;
    if (signal !== undefined) {
      signal.addEventListener("abort", abandon, { once: true });
      this.#detach = () => signal.removeEventListener("abort", abandon);
    }
  }

  finished(): Promise<void> {
    return this.#forwarded.then(finishedOf);
  }

  forward(target: Hook): void {
    this.#detach?.();
    const sent = target.send(this.call);
    this.pipelines.forwardTo(sent);
    this.#resolve(sent);
  }
}

/**
 * A capability that is not known yet. Until it resolves, calls either go
 * ahead through `ahead` (pipelining on the wire) or wait in a queue; after
 * it resolves, queued calls are delivered first, in order. An embargo holds
 * new calls back until calls sent ahead have come round.
 */
export class PromiseHook extends Hook {
  #target: Hook | null = null;
  #embargoed = false;
  #queue: QueuedCall[] = [];
  #ahead: ((call: CallMessage) => Sent) | null;
  #waiters: ((target: Hook) => void)[] = [];
  /** Calls sent ahead while unresolved (they need an embargo if it resolves locally). */
  sentAhead = 0;
  /** For a promise on a remote answer: where it points, to encode it as `receiverAnswer`. */
  readonly answer: { owner: unknown; questionId: number; path: readonly number[] } | null;

  constructor(
    ahead: ((call: CallMessage) => Sent) | null = null,
    answer: PromiseHook["answer"] = null,
  ) {
    super();
    this.#ahead = ahead;
    this.answer = answer;
  }

  /** Whether it has resolved (it may still be embargoed). */
  get isResolved(): boolean {
    return this.#target !== null;
  }

  /**
   * Followed iteratively: a chain of promises a peer resolved one to the
   * next is as long as the peer made it. Resolutions never close a loop
   * (see `resolve`); a chain of more than {@linkcode MAX_PROMISE_CHAIN}
   * ends at a broken hook.
   */
  override get settled(): Hook {
    if (this.#target === null || this.#embargoed) return this;
    let hook: Hook = this.#target;
    for (let depth = 1; hook instanceof PromiseHook; depth++) {
      if (hook.#target === null || hook.#embargoed) return hook;
      if (depth === MAX_PROMISE_CHAIN) return PROMISE_CHAIN_TOO_LONG;
      hook = hook.#target;
    }
    return hook.settled;
  }

  send(call: CallMessage): Sent {
    if (this.#target !== null && !this.#embargoed) {
      const settled = this.settled;
      if (settled !== this) return settled.send(call);
    }
    if (this.#target === null && this.#ahead !== null) {
      this.sentAhead++;
      return this.#ahead(call);
    }
    // Given up already: nothing to wait for (the connection's sendCall does the same).
    if (call.signal?.aborted) return new BrokenHook(canceledError(call.signal.reason)).send(call);
    const queued = new QueuedCall(call, () => {
      // Given up while it waits here: it leaves the queue, and nobody runs it
      // (one being forwarded meanwhile is out of the queue: its target sees the abort).
      const at = this.#queue.indexOf(queued);
      if (at < 0) return;
      this.#queue.splice(at, 1);
      queued.forward(new BrokenHook(canceledError(call.signal!.reason)));
      // Released while this call waited: with the queue empty, nothing needs it any more.
      if (this.#queue.length === 0 && !this.referenced) this.unreferenced();
    });
    this.#queue.push(queued);
    return {
      response: queued.response,
      pipeline: (path) => queued.pipelines.get(path),
      finished: () => queued.finished(),
    };
  }

  /**
   * Resolves to `target` (taking over one reference); `embargo` delays new
   * calls. A target that leads back here (a peer resolving a promise to
   * itself, directly or through others) breaks the promise instead.
   */
  resolve(target: Hook, embargo?: Promise<void>): void {
    if (this.#target !== null) {
      target.release();
      return;
    }
    if (this.#reachedFrom(target)) {
      target.release();
      target = new BrokenHook(new RpcError("failed", "A promise was resolved to itself.")).retain();
      embargo = undefined;
    }
    this.#target = target;
    this.#ahead = null;
    if (embargo) {
      this.#embargoed = true;
      embargo.then(() => this.#lift(), () => this.#lift());
    } else {
      this.#flush();
    }
    for (const waiter of this.#waiters.splice(0)) waiter(target);
  }

  /** Resolves to a hook that fails every call with `error`. */
  break(error: RpcError): void {
    this.resolve(new BrokenHook(error).retain());
  }

  /** Runs `callback` once this promise has resolved. */
  whenResolved(callback: (target: Hook) => void): void {
    if (this.#target !== null) callback(this.#target);
    else this.#waiters.push(callback);
  }

  #lift(): void {
    this.#embargoed = false;
    this.#flush();
  }

  #flush(): void {
    const target = this.#target!;
    for (const queued of this.#queue.splice(0)) queued.forward(target);
    if (!this.referenced) this.#dropTarget();
  }

  /** Runs when the last reference goes with no call queued here (nothing needs it resolved). */
  onIdle: (() => void) | null = null;

  /** Whether following `hook`'s resolutions, embargoed ones too, reaches this promise. */
  #reachedFrom(hook: Hook): boolean {
    for (let depth = 0; depth <= MAX_PROMISE_CHAIN; depth++) {
      if (hook === this) return true;
      if (!(hook instanceof PromiseHook) || hook.#target === null) return false;
      hook = hook.#target;
    }
    return false;
  }

  protected override unreferenced(): void {
    if (this.#queue.length > 0) return;
    this.#dropTarget();
    this.onIdle?.();
  }

  #dropTarget(): void {
    const target = this.#target;
    if (target === null || this.#embargoed) return;
    this.#target = new BrokenHook(new RpcError("failed", "Capability used after release."));
    target.release();
  }
}

/** Longest chain of resolved promises followed to the hook at its end. */
export const MAX_PROMISE_CHAIN = 1000;

const PROMISE_CHAIN_TOO_LONG: Hook = new BrokenHook(
  new RpcError("failed", `A chain of more than ${MAX_PROMISE_CHAIN} resolved promises.`),
).retain();

/**
 * The promise hooks handed out for paths of one call's results, resolved
 * together when the results (or the failure) arrive. A path nobody holds
 * a hook for any more (and no call waits on) is forgotten, so a peer
 * naming ever new paths on a call that never returns grows nothing.
 */
export class PipelineSet {
  /** Made on first use: most calls are never pipelined on. */
  #hooks: Map<string, { path: readonly number[]; hook: PromiseHook }> | null = null;
  readonly #create: (path: readonly number[]) => PromiseHook;
  #settled: ((path: readonly number[]) => Hook) | null = null;

  constructor(create: (path: readonly number[]) => PromiseHook = () => new PromiseHook()) {
    this.#create = create;
  }

  /** Paths with a hook still held (or a call waiting on it) and not yet resolved. */
  get size(): number {
    return this.#hooks?.size ?? 0;
  }

  /** The (retained) hook for `path`. */
  get(path: readonly number[]): Hook {
    if (this.#settled !== null) return this.#settled(path);
    const key = path.join(".");
    const hooks = this.#hooks ??= new Map();
    let entry = hooks.get(key);
    if (entry === undefined) {
      const created = { path: [...path], hook: this.#create(path) };
      created.hook.onIdle = () => {
        // A hook that sent calls ahead stays: the path's next hook must embargo as it would.
        if (created.hook.sentAhead > 0) return;
        if (this.#hooks?.get(key) === created) this.#hooks.delete(key);
      };
      hooks.set(key, entry = created);
    }
    return entry.hook.retain();
  }

  /**
   * Resolves each hook with `hookAt(path)`; later `get`s use it directly.
   * `embargo` may hold a hook's new calls back until calls it sent ahead
   * have come round.
   */
  resolve(
    hookAt: (path: readonly number[]) => Hook,
    embargo?: (
      path: readonly number[],
      promise: PromiseHook,
      target: Hook,
    ) => Promise<void> | undefined,
  ): void {
    this.#settled = hookAt;
    const hooks = this.#hooks;
    this.#hooks = null;
    for (const { path, hook } of hooks?.values() ?? []) {
      const target = hookAt(path);
      hook.resolve(target, embargo?.(path, hook, target));
    }
  }

  /** Resolves each hook to the matching pipeline of a forwarded call. */
  forwardTo(sent: Sent): void {
    this.resolve((path) => sent.pipeline(path));
  }
}
