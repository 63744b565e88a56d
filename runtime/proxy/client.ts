/**
 * Client proxies: a capability seen through a generated interface, so a
 * call on another process reads like a method call on a local object.
 *
 * A proxy method encodes its arguments (checked before anything is sent),
 * issues the call in the calling strand's turn with the Context filled in
 * (`context.ts`), waits on the strand (so callbacks can run on it), and
 * decodes the return value, exception field or error. Callback interfaces
 * come out as plain functions. A method's last, optional argument is its
 * `CallOptions`: aborting its `signal` fails the call at once with the
 * signal's reason, takes it out of its strand's line if it was not sent yet
 * and sends an early Finish if it was; the strand's turn stays taken until
 * the peer has returned.
 *
 * Every proxy holds one reference and answers to the ownership operations
 * (`ownership.ts`): `dup()` another reference, `using` / `await using` /
 * `[Symbol.dispose]()` release this one (the object ends with its last
 * reference), `destroy()` ends the object for every holder.
 *
 * Proxies are made by `clientOf(Foo, capability, session)` (`bridge.ts`,
 * whose example runs one), then called as `await foo.add(2, 3)`.
 * @module
 */
import type { CallOptions, InterfaceDescriptor, MethodSignature } from "../schema/descriptor.ts";
import { type Struct, utils as capnpUtils } from "capnp-es";
import type { Capability, Hook, Response } from "../rpc/capability.ts";
import { RpcError } from "../rpc/errors.ts";
import { escapeDump } from "../log.ts";
import {
  type CapabilityBridge,
  type CodecContext,
  formatStruct,
  readField,
  readingTable,
  readStruct,
  structClass,
} from "./codec.ts";
import { sendInContext } from "./context.ts";
import {
  calledAfterDisconnect,
  explainedRemote,
  interruptedByDisconnect,
  namedUnimplemented,
  RaisedError,
} from "./errors.ts";
import { methodsOf } from "./methods.ts";
import { attachHandle, type Handle, handleOf, release } from "./ownership.ts";
import { buildRequest } from "./request.ts";
import type { Session } from "./session.ts";
import { currentStrand } from "./strand.ts";

/** Values that cross IPC as data, never as proxies. */
export type Plain =
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | void
  | Uint8Array
  | Map<unknown, unknown>
  | Set<unknown>
  | readonly unknown[];

/**
 * What a value returned through IPC is: interfaces (objects with methods)
 * and callbacks become proxies the caller owns, in arrays and struct fields
 * too; plain data stays as it is.
 */
export type RemoteValue<V> = V extends readonly (infer E)[] ? RemoteValue<E>[]
  : V extends Plain ? V
  : V extends (...args: never[]) => unknown ? Remote<V>
  : V extends object ? ({
      [K in keyof V]: V[K] extends (...args: never[]) => unknown ? true : false;
    }[keyof V] extends false ? { [K in keyof V]: RemoteValue<V[K]> }
      : Remote<V>)
  : V;

/** `T`'s methods as calls through IPC make them: returning promises of their remote values. */
export type RemoteMethods<T> = T extends (...args: infer A) => infer R
  ? (...args: A) => Promise<RemoteValue<Awaited<R>>>
  : {
    [K in keyof T]: T[K] extends (...args: infer A) => infer R
      ? (...args: A) => Promise<RemoteValue<Awaited<R>>>
      : T[K];
  };

/**
 * The ownership operations every proxy has. Releasing (`using`,
 * `await using`, `[Symbol.dispose]()`) drops this reference only; the
 * object ends when its last reference is released. Releasing an Init proxy
 * (its last reference) closes the connection; `await using` waits for that.
 */
export interface ProxyOwnership<T> extends Disposable, AsyncDisposable {
  /** Another reference to the same object, owned by the caller, released on its own. */
  dup(): Remote<T>;
  /**
   * Ends the object for every holder: calls the interface's `destroy`
   * method (libmultiprocess' special method; an interface without one ends
   * with its last reference) and then releases this reference.
   */
  destroy(): Promise<void>;
}

/**
 * A proxy for an object of interface `T` in another process (or behind a
 * capability in this one): `T`'s methods returning promises, plus
 * {@linkcode ProxyOwnership}. The caller owns it: release it when done.
 */
export type Remote<T> = RemoteMethods<T> & ProxyOwnership<T>;

/**
 * What the last release of a proxy and its `dup()`s ends (for the Init
 * proxy: its connection).
 */
export interface SharedEnd {
  /** Proxies still holding it. */
  holders: number;
  /** Runs once the last holder is released. */
  readonly end: () => void | Promise<void>;
}

/** What every proxy holds: one capability reference and how to use it. */
class ProxyHandle implements Handle {
  readonly cap: Capability;
  readonly session: Session | null;
  readonly iface: InterfaceDescriptor;
  /** How capability values cross this proxy's session. */
  readonly bridge: CapabilityBridge;
  readonly #end: SharedEnd | null;
  released = false;
  /** Lent to a server method for the duration of one call. */
  lent = false;

  constructor(
    iface: InterfaceDescriptor,
    cap: Capability,
    session: Session | null,
    bridge: CapabilityBridge,
    end: SharedEnd | null,
  ) {
    this.iface = iface;
    this.cap = cap;
    this.session = session;
    this.bridge = bridge;
    this.#end = end;
  }

  dup(): unknown {
    this.check();
    if (this.#end !== null) this.#end.holders++;
    return makeClient(this.iface, this.cap.dup(), this.session, this.bridge, this.#end);
  }

  release(): void | Promise<void> {
    if (this.released) return;
    this.released = true;
    this.cap.dispose();
    if (this.#end !== null && --this.#end.holders === 0) return this.#end.end();
  }

  async destroy(): Promise<void> {
    if (this.released) return;
    const destroy = methodsOf(this.iface).byName.get("destroy");
    if (destroy?.method.special === "destroy" && !this.session?.disconnected) {
      try {
        await call(this, destroy.owner, destroy.method, []);
      } catch (error) {
        // The peer may be gone or the object destroyed already; release anyway.
        const log = this.session?.log;
        if (log?.info) {
          log.write(`Remote destroy call failed during cleanup. Continuing. (${error})`);
        }
      }
    }
    await this.release();
  }

  lend(): void {
    this.lent = true;
  }

  check(): void {
    if (!this.released) return;
    throw new RpcError(
      "failed",
      this.lent
        ? `${this.iface.name} parameter used after its call returned; keep it with dup().`
        : `${this.iface.name} proxy used after release.`,
    );
  }

  /** Throws unless a call may be made through this proxy now. */
  checkCall(): void {
    this.check();
    if (this.session?.disconnected) throw calledAfterDisconnect();
  }
}

/** Sends one call and decodes its outcome. */
async function call(
  handle: ProxyHandle,
  owner: InterfaceDescriptor,
  method: MethodSignature,
  args: readonly unknown[],
): Promise<unknown> {
  handle.checkCall();
  const { session, bridge } = handle;
  const values: Record<string, unknown> = {};
  let arg = 0;
  for (const field of method.params.fields) {
    if (!field.hidden) values[field.name] = args[arg++];
  }
  const signal = callSignal(args[arg], method);
  signal?.throwIfAborted();
  // Disposed at the end: releases the params' capabilities of a call never
  // sent (given up, or its connection gone, before its turn came).
  using request = buildRequest(handle.cap, owner, method, values, bridge);
  const strand = currentStrand();
  const log = session?.log;
  const logSend = log?.debug
    ? () => {
      log.write(`{${session!.threadName(strand)}} IPC client send ${method.params.name}`);
      if (log.trace) {
        log.write(`send data: ${escapeDump(formatStruct(method.params, request.params))}`);
      }
    }
    : undefined;
  let response: Response;
  // The call holds the object until it is sent: the proxy may be released
  // while the call waits for its strand's turn (the peer gets the Release
  // after the call, which then still runs).
  let target: Hook | null = handle.cap.hook.retain();
  const send = () => {
    logSend?.();
    const pending = request.send({ signal });
    target?.release();
    target = null;
    // A canceled call fails at once, but its strand's turn is held until the
    // peer has returned: a libmultiprocess thread still running it must not
    // get the strand's next call.
    return signal === undefined
      ? pending.response
      : pending.finished().then(() => pending.response);
  };
  try {
    const outcome = method.context !== null && session !== null
      ? sendInContext(
        session,
        strand,
        method as MethodSignature & { context: string },
        request,
        send,
        signal,
      )
      : strand.call(null, send, signal);
    response = await (signal === undefined ? outcome : untilAborted(outcome, signal));
  } catch (error) {
    if (
      session !== null && error instanceof RpcError && error.type === "disconnected" &&
      !error.remote
    ) {
      throw interruptedByDisconnect(error);
    }
    if (log?.info) {
      log.write(`{${session!.threadName(strand)}} IPC client exception ${String(error)}`);
    }
    throw explainedRemote(namedUnimplemented(error, owner.name, method), session?.explainRemote);
  } finally {
    target?.release(); // a call that never went out
    target = null;
  }
  using _ = response;
  const results = response.results(structClass(method.results));
  if (log?.debug) {
    log.write(`{${session!.threadName(strand)}} IPC client recv ${method.results.name}`);
    if (log.trace) log.write(`recv data: ${escapeDump(formatStruct(method.results, results))}`);
  }
  // Proxies read before a field that fails to decode reach no caller: they are released here.
  const read: unknown[] = [];
  const context: CodecContext = {
    caps: readingTable(response.caps),
    bridge: response.caps.length === 0 ? bridge : {
      toCapability: bridge.toCapability,
      fromCapability(cap, iface) {
        const value = bridge.fromCapability(cap, iface);
        read.push(value);
        return value;
      },
    },
  };
  let outcome: { raised: unknown } | { value: unknown };
  try {
    outcome = readOutcome(method, results, context);
  } catch (error) {
    for (const value of read) void release(value);
    throw error;
  }
  if ("raised" in outcome) throw new RaisedError(outcome.raised);
  return outcome.value;
}

/** What a call's results say: the exception its server raised, or its value. */
function readOutcome(
  method: MethodSignature,
  results: Struct,
  context: CodecContext,
): { raised: unknown } | { value: unknown } {
  const where = method.results.name;
  for (const field of method.results.fields) {
    if (!field.exception) continue;
    if (capnpUtils.isNull(capnpUtils.getPointer(field.offset, results))) continue;
    return { raised: readField(field, results, context, where) };
  }
  switch (method.returns) {
    case "void":
      return { value: undefined };
    case "result": {
      const field = method.results.fields.find((f) => f.name === "result")!;
      return { value: readField(field, results, context, where) };
    }
    case "object":
      return { value: readStruct(method.results, results, context, where) };
  }
}

/** The signal of a call's trailing options argument (`CallOptions`), checked. */
function callSignal(options: unknown, method: MethodSignature): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options === "object" && options !== null && !(options instanceof AbortSignal)) {
    const signal = (options as CallOptions).signal;
    const unknown = Object.keys(options).filter((key) => key !== "signal");
    if ((signal === undefined || signal instanceof AbortSignal) && unknown.length === 0) {
      return signal;
    }
  }
  throw new TypeError(
    `${method.name}: the argument after its parameters is its call options ({ signal?: AbortSignal }); got ${
      options instanceof AbortSignal
        ? "a bare AbortSignal"
        : typeof options === "object" && options !== null
        ? `{ ${Object.keys(options).join(", ")} }`
        : typeof options
    }`,
  );
}

/**
 * `outcome`, or the signal's reason as soon as it aborts; a response that
 * comes after that is disposed.
 */
function untilAborted(outcome: Promise<Response>, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const abort = () => {
      reject(signal.reason);
      outcome.then((late) => late.dispose(), () => {});
    };
    signal.addEventListener("abort", abort, { once: true });
    // The listener goes as the outcome is taken: a later abort leaves it alone.
    outcome.then((response) => {
      signal.removeEventListener("abort", abort);
      resolve(response);
    }, (error) => {
      signal.removeEventListener("abort", abort);
      reject(error);
    });
  });
}

/** The handle of a proxy made here. */
function own(target: unknown): ProxyHandle {
  return handleOf(target) as ProxyHandle;
}

/** Members every proxy has, whatever its interface. */
const OWNERSHIP = {
  dup(this: unknown): unknown {
    return own(this).dup();
  },
  destroy(this: unknown): Promise<void> {
    return own(this).destroy();
  },
  [Symbol.dispose](this: unknown): void {
    void own(this).release();
  },
  async [Symbol.asyncDispose](this: unknown): Promise<void> {
    await own(this).release();
  },
};

const prototypes = new WeakMap<InterfaceDescriptor, object>();

/** The shared prototype of an interface's object proxies. */
function prototypeOf(iface: InterfaceDescriptor): object {
  let proto = prototypes.get(iface);
  if (proto !== undefined) return proto;
  const methods: Record<string | symbol, unknown> = { ...OWNERSHIP };
  for (const [name, { owner, method }] of methodsOf(iface).byName) {
    if (method.special !== undefined) continue;
    methods[name] = function (this: unknown, ...args: unknown[]) {
      return call(own(this), owner, method, args);
    };
  }
  proto = methods;
  prototypes.set(iface, proto);
  return proto;
}

/**
 * A proxy for `cap` (taken over) speaking `iface`: an object with the
 * interface's methods, or a function for a callback interface. `session`
 * is the connection the capability came from (null for one in this
 * process); `bridge` carries capability values across it. `end` is shared
 * by the proxies whose last release ends something (the Init proxy's
 * connection).
 */
export function makeClient<T>(
  iface: InterfaceDescriptor<T>,
  cap: Capability,
  session: Session | null,
  bridge: CapabilityBridge,
  end: SharedEnd | null = null,
): Remote<T> {
  const handle = new ProxyHandle(iface, cap, session, bridge, end);
  let proxy: object;
  if (iface.callback) {
    const { owner, method } = methodsOf(iface).byName.get("call")!;
    proxy = (...args: unknown[]) => call(handle, owner, method, args);
    for (const key of Reflect.ownKeys(OWNERSHIP)) {
      Object.defineProperty(proxy, key, { value: OWNERSHIP[key as keyof typeof OWNERSHIP] });
    }
  } else {
    proxy = Object.create(prototypeOf(iface));
  }
  attachHandle(proxy, handle);
  return proxy as Remote<T>;
}

/**
 * An end shared by a proxy and its `dup()`s: `end` runs when the last of
 * them is released.
 */
export function sharedEnd(end: () => void | Promise<void>): SharedEnd {
  return { holders: 1, end };
}

/**
 * The session a proxy's capability came from (null for a local one or
 * another value).
 *
 * @example A proxy's session, and a local object's none
 * ```ts
 * import { sessionOf } from "./client.ts";
 * import { connect, listen } from "../../component.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * import { fooInit } from "../../examples/foo/foo.ts";
 *
 * const datadir = await Deno.makeTempDir();
 * {
 *   const local = fooInit();
 *   await using _listener = listen(FooInit, "unix", local, { datadir, component: "foo" });
 *   await using init = await connect(FooInit, "unix", { datadir, component: "foo" });
 *   await using foo = (await init.makeFoo())!;
 *   const session = sessionOf(init);
 *   if (session === null || sessionOf(foo) !== session) throw new Error("one session");
 *   if (sessionOf(local) !== null) throw new Error("a local object has no session");
 * }
 * await Deno.remove(datadir, { recursive: true });
 * ```
 */
export function sessionOf(value: unknown): Session | null {
  const handle = handleOf(value);
  return handle instanceof ProxyHandle ? handle.session : null;
}

/**
 * Settles, with why, when the connection the proxy `value` goes through
 * has closed; null for a local object (it has no connection to lose). A
 * component holding its peer's Init awaits this to know the peer is gone.
 *
 * @example The server goes away
 * ```ts
 * import { disconnected } from "./client.ts";
 * import { connect, listen } from "../../component.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * import { fooInit } from "../../examples/foo/foo.ts";
 *
 * const datadir = await Deno.makeTempDir();
 * const local = fooInit();
 * const listener = listen(FooInit, "unix", local, { datadir, component: "foo" });
 * await using init = await connect(FooInit, "unix", { datadir, component: "foo" });
 * if (disconnected(local) !== null) throw new Error("a local object has no connection");
 * const gone = disconnected(init)!;
 * const before = await Promise.race([gone.then(() => "gone"), Promise.resolve("connected")]);
 * if (before !== "connected") throw new Error("gone before the server went");
 * await listener[Symbol.asyncDispose]();
 * const why = await gone;
 * if (why.type !== "disconnected") throw new Error(`${why.type}: ${why.message}`);
 * await Deno.remove(datadir, { recursive: true });
 * ```
 */
export function disconnected(value: unknown): Promise<RpcError> | null {
  return sessionOf(value)?.connection.closed ?? null;
}
