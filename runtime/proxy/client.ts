/**
 * Client proxies: a capability seen through a generated interface, so a
 * call on another process reads like a method call on a local object.
 *
 * A proxy method encodes its arguments, fills the hidden Context with the
 * calling strand's threads, sends the call, waits on the strand (so
 * callbacks can run on it), and decodes the return value, exception field
 * or error. Callback interfaces come out as plain functions. Disposing a
 * proxy calls `destroy` when the interface has it, then releases the
 * capability.
 *
 * @example
 * ```ts
 * import { Capability } from "../rpc/capability.ts";
 * import { clientOf } from "./client.ts";
 * import { serverOf } from "./server.ts";
 * import { Foo } from "../../schemas/gen/conformance.mp.ts";
 * const impl = { add: (a: number, b: number) => a + b } as unknown as Foo;
 * using cap = Capability.fromServer(serverOf(Foo, impl));
 * await using foo = clientOf(Foo, cap.dup());
 * console.assert(await foo.add(2, 3) === 5);
 * ```
 * @module
 */
import type { InterfaceDescriptor, MethodDescriptor } from "../../schemas/descriptor.ts";
import { utils as capnpUtils } from "capnp-es";
import {
  Capability,
  type MethodDescriptor as EngineMethod,
  type PendingCall,
  type Request,
} from "../rpc/capability.ts";
import { RpcError } from "../rpc/errors.ts";
import { escapeDump } from "../log.ts";
import {
  type CapabilityBridge,
  formatStruct,
  readField,
  readingTable,
  readStruct,
  structClass,
  writeField,
  writingTable,
} from "./codec.ts";
import { calledAfterDisconnect, interruptedByDisconnect, RaisedError } from "./errors.ts";
import { methodsOf } from "./methods.ts";
import { serverOf } from "./server.ts";
import type { Session } from "./session.ts";
import { currentStrand } from "./strand.ts";
import type { Struct } from "capnp-es";
import { Context } from "../../schemas/gen/mp/proxy.mp.ts";

const CAPABILITY = Symbol("capability");

/** What every proxy holds. */
interface ProxyState {
  readonly cap: Capability;
  readonly session: Session | null;
  readonly iface: InterfaceDescriptor;
  onDispose?: () => void | Promise<void>;
  disposed: boolean;
  /** Lent to a server method for the duration of one call. */
  lent?: boolean;
}

type Plain =
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
 * and callbacks become proxies, in arrays too; plain data stays as it is.
 */
export type RemoteValue<V> = V extends readonly (infer E)[] ? RemoteValue<E>[]
  : V extends Plain ? V
  : V extends (...args: infer A) => infer R
    ? ((...args: A) => Promise<RemoteValue<Awaited<R>>>) & AsyncDisposable & Disposable
  : V extends object ? ({
      [K in keyof V]: V[K] extends (...args: never[]) => unknown ? true : false;
    }[keyof V] extends false ? V
      : Proxy<V>)
  : V;

/** `T` with every method returning a promise of its remote value, as calls through IPC do. */
export type Remote<T> = T extends (...args: infer A) => infer R
  ? (...args: A) => Promise<RemoteValue<Awaited<R>>>
  : {
    [K in keyof T]: T[K] extends (...args: infer A) => infer R
      ? (...args: A) => Promise<RemoteValue<Awaited<R>>>
      : T[K];
  };

/** A proxy: the interface's methods (returning promises) plus explicit release. */
export type Proxy<T> = Remote<T> & AsyncDisposable & Disposable;

/** The capability behind a proxy, or undefined for other values. */
export function capabilityOf(value: unknown): Capability | undefined {
  return (value as { [CAPABILITY]?: ProxyState } | null)?.[CAPABILITY]?.cap;
}

/**
 * A new reference to what `value` refers to, owned by the caller, who
 * releases it (`using`, `[Symbol.dispose]()`) independently of `value`.
 * Capabilities a server method receives as parameters are lent for the
 * duration of the call and released when it returns; a method that keeps
 * one for later keeps a `dup()` of it. Values that are not proxies (plain
 * local objects and functions) are returned as they are.
 *
 * @example
 * ```ts
 * import { Capability } from "../rpc/capability.ts";
 * import { clientOf, dup } from "./client.ts";
 * import { serverOf } from "./server.ts";
 * import { Foo } from "../../schemas/gen/conformance.mp.ts";
 *
 * const impl = { add: (a: number, b: number) => a + b } as unknown as Foo;
 * const proxy = clientOf(Foo, Capability.fromServer(serverOf(Foo, impl)));
 * const kept = dup(proxy);
 * proxy[Symbol.dispose]();
 * if (await kept.add(2, 3) !== 5) throw new Error("the copy outlives the original");
 * kept[Symbol.dispose]();
 * ```
 */
export function dup<T>(value: T): T {
  const state = (value as { [CAPABILITY]?: ProxyState } | null)?.[CAPABILITY];
  if (state === undefined) return value;
  if (state.disposed) throw new RpcError("failed", `${state.iface.name} proxy used after release.`);
  return clientOf(state.iface, state.cap.dup(), state.session) as T;
}

/**
 * The bridge a server method's parameters are read through: every proxy it
 * makes is lent to the call, and `endLoan()` releases them all.
 */
export function lendingBridge(
  bridge: CapabilityBridge,
): CapabilityBridge & { endLoan(): void } {
  const lent: ProxyState[] = [];
  return {
    toCapability: bridge.toCapability,
    fromCapability(cap, iface) {
      const value = bridge.fromCapability(cap, iface);
      const state = (value as { [CAPABILITY]?: ProxyState } | null)?.[CAPABILITY];
      if (state !== undefined) {
        state.lent = true;
        lent.push(state);
      }
      return value;
    },
    endLoan() {
      for (const state of lent.splice(0)) void releaseNow(state);
    },
  };
}

/** The session a proxy's capability came from (null for a local one or another value). */
export function sessionOf(value: unknown): Session | null {
  return (value as { [CAPABILITY]?: ProxyState } | null)?.[CAPABILITY]?.session ?? null;
}

/** Engine method descriptors, made once per method. */
const engineMethods = new WeakMap<MethodDescriptor, EngineMethod<Struct>>();

function engineMethod(owner: InterfaceDescriptor, method: MethodDescriptor): EngineMethod<Struct> {
  let descriptor = engineMethods.get(method);
  if (descriptor === undefined) {
    descriptor = {
      interfaceId: owner.id,
      methodId: method.ordinal,
      ParamsClass: structClass(method.params),
    };
    engineMethods.set(method, descriptor);
  }
  return descriptor;
}

/**
 * A request for `method` on `cap` with the params named in `values` written.
 * A proxy call names the visible ones; the runtime's own calls also fill
 * hidden ones (construct's ThreadMap), which `writeStruct` would skip.
 */
function buildRequest(
  cap: Capability,
  owner: InterfaceDescriptor,
  method: MethodDescriptor,
  values: Readonly<Record<string, unknown>>,
  session: Session | null,
): Request<Struct> {
  const request = cap.request(engineMethod(owner, method));
  const context = { caps: writingTable((cap) => request.addCap(cap)), bridge: bridgeFor(session) };
  for (const field of method.params.fields) {
    if (!(field.name in values)) continue;
    writeField(field, values[field.name], request.params, context, method.params.name);
  }
  return request;
}

/**
 * Sends `owner.method` on `cap` without waiting, for the runtime's own
 * pipelined calls (`construct`, `makeThread`); `values` may hold capabilities.
 */
export function sendPipelined(
  cap: Capability,
  owner: InterfaceDescriptor,
  method: string,
  values: Readonly<Record<string, unknown>>,
  session: Session | null,
): PendingCall {
  const descriptor = owner.methods.find((m) => m.name === method)!;
  const pending = buildRequest(cap, owner, descriptor, values, session).send();
  pending.response.then((response) => response.dispose(), () => {});
  return pending;
}

/** Sends one call and decodes its outcome. */
async function call(
  state: ProxyState,
  owner: InterfaceDescriptor,
  method: MethodDescriptor,
  args: readonly unknown[],
): Promise<unknown> {
  const { session } = state;
  if (state.disposed) {
    throw new RpcError(
      "failed",
      state.lent
        ? `${state.iface.name} parameter used after its call returned; keep it with dup().`
        : `${state.iface.name} proxy used after release.`,
    );
  }
  if (session?.disconnected) throw calledAfterDisconnect();
  const strand = currentStrand();
  const values: Record<string, unknown> = {};
  let arg = 0;
  for (const field of method.params.fields) {
    if (!field.hidden) values[field.name] = args[arg++];
  }
  const bridge = bridgeFor(session);
  const request = buildRequest(state.cap, owner, method, values, session);
  if (method.context !== null && session !== null) {
    const field = method.params.fields.find((f) => f.name === method.context)!;
    const context = capnpUtils.initStructAt(
      field.offset,
      structClass(Context),
      request.params,
    );
    capnpUtils.setInterfacePointer(
      request.addCap(session.peerThread(strand)),
      capnpUtils.getPointer(0, context),
    );
    capnpUtils.setInterfacePointer(
      request.addCap(session.localThread(strand)),
      capnpUtils.getPointer(1, context),
    );
  }
  const log = session?.log;
  if (log?.debug) {
    const thread = session!.threadName(strand);
    log.write(`{${thread}} IPC client send ${method.params.name}`);
    if (log.trace) {
      log.write(`send data: ${escapeDump(formatStruct(method.params, request.params))}`);
    }
  }
  let response;
  try {
    response = await strand.wait(request.send().response);
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
    throw error;
  }
  using _ = response;
  const results = response.results(structClass(method.results));
  if (log?.debug) {
    log.write(`{${session!.threadName(strand)}} IPC client recv ${method.results.name}`);
    if (log.trace) log.write(`recv data: ${escapeDump(formatStruct(method.results, results))}`);
  }
  const context = { caps: readingTable(response.caps), bridge };
  for (const field of method.results.fields) {
    if (!field.exception) continue;
    if (capnpUtils.isNull(capnpUtils.getPointer(field.offset, results))) continue;
    throw new RaisedError(readField(field, results, context, method.results.name));
  }
  switch (method.returns) {
    case "void":
      return undefined;
    case "result":
      return readField(
        method.results.fields.find((f) => f.name === "result")!,
        results,
        context,
        method.results.name,
      );
    case "object":
      return readStruct(method.results, results, context, method.results.name);
  }
}

/** Calls `destroy` if there is one and the peer is there, then releases. */
async function release(state: ProxyState): Promise<void> {
  if (state.disposed) return;
  const destroy = methodsOf(state.iface).byName.get("destroy");
  if (destroy?.method.special === "destroy" && !state.session?.disconnected) {
    try {
      await call(state, destroy.owner, destroy.method, []);
    } catch (error) {
      // The peer may be gone or the object already destroyed; release anyway.
      state.session?.log.info &&
        state.session.log.write(
          `Remote destroy call failed during cleanup. Continuing. (${error})`,
        );
    }
  }
  await releaseNow(state);
}

/** Releases the capability without `destroy` (what `using` does); runs `onDispose` once. */
function releaseNow(state: ProxyState): void | Promise<void> {
  if (state.disposed) return;
  state.disposed = true;
  state.cap.dispose();
  return state.onDispose?.();
}

const prototypes = new WeakMap<InterfaceDescriptor, object>();

/** The shared prototype of an interface's object proxies. */
function prototypeOf(iface: InterfaceDescriptor): object {
  let proto = prototypes.get(iface);
  if (proto !== undefined) return proto;
  const methods: Record<string | symbol, unknown> = {
    [Symbol.asyncDispose](this: { [CAPABILITY]: ProxyState }) {
      return release(this[CAPABILITY]);
    },
    [Symbol.dispose](this: { [CAPABILITY]: ProxyState }) {
      void releaseNow(this[CAPABILITY]);
    },
  };
  for (const [name, { owner, method }] of methodsOf(iface).byName) {
    if (method.special !== undefined) continue;
    methods[name] = function (this: { [CAPABILITY]: ProxyState }, ...args: unknown[]) {
      return call(this[CAPABILITY], owner, method, args);
    };
  }
  proto = methods;
  prototypes.set(iface, proto);
  return proto;
}

/**
 * A proxy for `cap` (taken over) speaking `iface`: an object with the
 * interface's methods, or a function for a callback interface. `session`
 * is the connection the capability came from (null for one in this process).
 */
export function clientOf<T>(
  iface: InterfaceDescriptor<T>,
  cap: Capability,
  session: Session | null = null,
  onDispose?: () => void | Promise<void>,
): Proxy<T> {
  const state: ProxyState = { cap, session, iface, onDispose, disposed: false };
  if (iface.callback) {
    const { owner, method } = methodsOf(iface).byName.get("call")!;
    const fn = (...args: unknown[]) => call(state, owner, method, args);
    Object.defineProperties(fn, {
      [CAPABILITY]: { value: state },
      [Symbol.asyncDispose]: { value: () => release(state) },
      [Symbol.dispose]: { value: () => void releaseNow(state) },
    });
    return fn as unknown as Proxy<T>;
  }
  const proxy = Object.create(prototypeOf(iface));
  Object.defineProperty(proxy, CAPABILITY, { value: state });
  return proxy;
}

const bridges = new WeakMap<Session, CapabilityBridge>();
const localBridge = makeBridge(null);

function makeBridge(session: Session | null): CapabilityBridge {
  return {
    toCapability(value, iface) {
      if (value instanceof Capability) return value.dup();
      const state = (value as { [CAPABILITY]?: ProxyState } | null)?.[CAPABILITY];
      if (state !== undefined) {
        if (state.session === null || state.session === session) return state.cap.dup();
        // A proxy of another connection is served here through a copy of it, as
        // libmultiprocess wraps a ProxyClient in a new ProxyServer: calls from this peer
        // reach the other one on that connection's threads (its thread handles mean
        // nothing there), and releasing the copy leaves the caller's proxy alone.
        return Capability.fromServer(
          serverOf(iface, clientOf(iface, state.cap.dup(), state.session)),
        );
      }
      if (typeof value === "function" ? !iface.callback : typeof value !== "object") {
        throw new TypeError(
          `expected ${
            iface.callback ? "a function or " : ""
          }an object implementing ${iface.name}, got ${typeof value}`,
        );
      }
      return Capability.fromServer(serverOf(iface, value));
    },
    fromCapability(cap, iface) {
      return clientOf(iface, cap.dup(), session);
    },
  };
}

/** How interface values cross a session (or stay in this process, for null). */
export function bridgeFor(session: Session | null): CapabilityBridge {
  if (session === null) return localBridge;
  let bridge = bridges.get(session);
  if (bridge === undefined) bridges.set(session, bridge = makeBridge(session));
  return bridge;
}
