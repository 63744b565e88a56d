/**
 * Server adapters: any object implementing a generated interface (or a
 * plain function, for a callback interface) answers calls from other
 * processes through {@linkcode serverOf}.
 *
 * The adapter reads the params into TypeScript values, runs the method on
 * the strand the call's Context names (or at once for Context-less methods),
 * writes the return value into the results, and turns what the method
 * throws into an exception field or an RPC exception. It handles the
 * special methods itself: `construct` exchanges ThreadMaps and `destroy`
 * disposes the object before returning.
 *
 * @example
 * ```ts
 * import { Capability } from "../rpc/capability.ts";
 * import { serverOf } from "./server.ts";
 * import { Foo } from "../../schemas/gen/conformance.mp.ts";
 * const impl = { add: (a: number, b: number) => a + b } as unknown as Foo;
 * using cap = Capability.fromServer(serverOf(Foo, impl));
 * ```
 * @module
 */
import { type Struct, utils as capnpUtils } from "capnp-es";
import type {
  InterfaceDescriptor,
  MethodDescriptor,
  StructDescriptor,
} from "../../schemas/descriptor.ts";
import type { CallContext, Capability, Server } from "../rpc/capability.ts";
import { RpcError } from "../rpc/errors.ts";
import type { RpcConnection } from "../rpc/connection.ts";
import {
  type CapabilityBridge,
  type CapabilityTable,
  formatStruct,
  readField,
  readingTable,
  structClass,
  writeField,
  writeStruct,
  writingTable,
} from "./codec.ts";
import { bridgeFor, lendingBridge } from "./client.ts";
import { methodsOf } from "./methods.ts";
import { RaisedError } from "./errors.ts";
import { Context } from "../../schemas/gen/mp/proxy.mp.ts";
import { escapeDump } from "../log.ts";
import { Session } from "./session.ts";

/** Calls the implementation of `method`; functions implement callback interfaces. */
function invoke(impl: unknown, method: MethodDescriptor, args: unknown[]): unknown {
  if (typeof impl === "function") return impl(...args);
  const fn = (impl as Record<string, unknown>)[method.name];
  if (typeof fn !== "function") {
    throw new RpcError("unimplemented", `Method not implemented: ${method.name}.`);
  }
  return fn.apply(impl, args);
}

/** A {@linkcode Server} running an implementation object. */
class ProxyServer implements Server {
  readonly impl: unknown;
  readonly #iface: InterfaceDescriptor;
  readonly #owned: boolean;
  #destroyed = false;

  constructor(iface: InterfaceDescriptor, impl: unknown, owned: boolean) {
    this.#iface = iface;
    this.impl = impl;
    this.#owned = owned;
  }

  async dispatch(call: CallContext): Promise<void> {
    const entry = methodsOf(this.#iface).byId.get(call.interfaceId)?.[call.methodId];
    if (entry === undefined) {
      throw new RpcError(
        "unimplemented",
        `Method not implemented: 0x${call.interfaceId.toString(16)} method ${call.methodId}.`,
      );
    }
    const { method } = entry;
    const session = call.origin === undefined ? null : Session.of(call.origin as RpcConnection);
    const log = session?.log;
    const request = log?.debug ? log.nextRequest() : 0;
    const params = call.params(structClass(method.params));
    if (log?.debug) {
      log.write(`IPC server recv request  #${request} ${method.params.name}`);
      if (log.trace) log.write(`request data: ${dump(method.params, params)}`);
    }
    const caps = readingTable(call.paramCaps);
    const resultCaps = writingTable((cap) => call.addResultCap(cap));
    if (method.special === "construct") {
      session?.setPeerThreadMap(caps.get(capIndex(params, method.params, 0)));
      const results = call.results(structClass(method.results));
      if (session !== null) {
        using threadMap = session.threadMap();
        writeField(method.results.fields[0], threadMap, results, {
          caps: resultCaps,
          bridge: bridgeFor(session),
        }, method.results.name);
      }
      return this.#respond(results, method, request, session);
    }
    if (method.special === "destroy") {
      this.#destroy();
      if (log?.debug) log.write(`IPC server destroy ${this.#iface.name}`);
      return this.#respond(call.results(structClass(method.results)), method, request, session);
    }
    if (this.#destroyed) throw new RpcError("failed", `${this.#iface.name} was destroyed.`);
    // Capabilities in the params are lent to the implementation until the
    // call is over (results written), as libmultiprocess releases `&` params.
    const bridge = lendingBridge(bridgeFor(session));
    try {
      await this.#call(call, method, params, caps, resultCaps, bridge, request, session);
    } finally {
      bridge.endLoan();
    }
  }

  /** Reads the arguments, runs the implementation and writes what it returned or raised. */
  async #call(
    call: CallContext,
    method: MethodDescriptor,
    params: Struct,
    caps: CapabilityTable,
    resultCaps: CapabilityTable,
    bridge: CapabilityBridge,
    request: number,
    session: Session | null,
  ): Promise<void> {
    const log = session?.log;
    const args: unknown[] = [];
    for (const field of method.params.fields) {
      if (!field.hidden) args.push(readField(field, params, { caps, bridge }, method.params.name));
    }
    let value: unknown;
    try {
      if (method.context === null || session === null) {
        value = await invoke(this.impl, method, args);
      } else {
        const context = contextOf(params, method, caps);
        // A pool strand is picked and posted to in one step, so concurrent
        // calls spread over the pool.
        const strand = context.thread === null
          ? session.poolStrand()
          : await session.strandFor(context.thread);
        if (log?.debug) {
          log.write(`IPC server post request  #${request} {${session.threadName(strand)}}`);
        }
        value = await strand.post(() =>
          session.withCallbackThread(
            strand,
            context.callbackThread,
            async () => await invoke(this.impl, method, args),
          )
        );
      }
    } catch (error) {
      const field = method.results.fields.find((f) => f.exception);
      if (field === undefined || !(error instanceof RaisedError || field.type.kind === "text")) {
        throw error instanceof RpcError ? error : RpcError.from(error);
      }
      const raised = error instanceof RaisedError
        ? error.value
        : error instanceof Error
        ? error.message
        : String(error);
      const results = call.results(structClass(method.results));
      writeField(field, raised, results, { caps: resultCaps, bridge }, method.results.name);
      return this.#respond(results, method, request, session);
    }
    const results = call.results(structClass(method.results));
    const context = { caps: resultCaps, bridge };
    if (method.returns === "result") {
      const field = method.results.fields.find((f) => f.name === "result")!;
      writeField(field, value, results, context, method.results.name);
    } else if (method.returns === "object") {
      if (value === null || typeof value !== "object") {
        throw new RpcError(
          "failed",
          `${method.results.name}: the implementation returned ${typeof value}, not an object`,
        );
      }
      writeStruct(
        method.results,
        value as Record<string, unknown>,
        results,
        context,
        method.results.name,
      );
    }
    this.#respond(results, method, request, session);
  }

  /** Logs the response; `results` is the finished results struct. */
  #respond(results: Struct, method: MethodDescriptor, request: number, session: Session | null) {
    const log = session?.log;
    if (!log?.debug) return;
    log.write(`IPC server send response #${request} ${method.results.name}`);
    if (log.trace) {
      log.write(
        `response data: ${dump(method.results, results)}`,
      );
    }
  }

  #destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (!this.#owned) return;
    const impl = this.impl as Partial<AsyncDisposable & Disposable> | null;
    if (typeof impl !== "object" || impl === null) return;
    if (typeof impl[Symbol.dispose] === "function") impl[Symbol.dispose]!();
    else if (typeof impl[Symbol.asyncDispose] === "function") {
      Promise.resolve(impl[Symbol.asyncDispose]!()).catch(() => {});
    }
  }

  /** Released by its last holder without `destroy`: dispose now too. */
  [Symbol.dispose](): void {
    this.#destroy();
  }
}

function dump(struct: StructDescriptor, value: Struct): string {
  return escapeDump(formatStruct(struct, value));
}

/** Index into the params' cap table of pointer field `field`, or -1. */
function capIndex(
  params: Struct,
  struct: StructDescriptor,
  field: number,
): number {
  const p = capnpUtils.getPointer(struct.fields[field].offset, params);
  return capnpUtils.isNull(p) ? -1 : capnpUtils.getCapabilityId(p);
}

/** The thread handles in a call's Context param. */
function contextOf(
  params: Struct,
  method: MethodDescriptor,
  caps: CapabilityTable,
): { thread: Capability | null; callbackThread: Capability | null } {
  const field = method.params.fields.find((f) => f.name === method.context)!;
  const p = capnpUtils.getPointer(field.offset, params);
  if (capnpUtils.isNull(p)) return { thread: null, callbackThread: null };
  const context = capnpUtils.getStruct(field.offset, structClass(Context), params);
  const at = (index: number) => {
    const q = capnpUtils.getPointer(index, context);
    return capnpUtils.isNull(q) ? null : caps.get(capnpUtils.getCapabilityId(q));
  };
  return { thread: at(0), callbackThread: at(1) };
}

/**
 * A server running `impl`: an object with the interface's methods, or a
 * function for a callback interface. Unless `owned` is false, the server
 * owns `impl`: it is disposed (`Symbol.dispose` / `Symbol.asyncDispose`) on
 * `destroy` or when the last reference is released.
 */
export function serverOf<T>(
  iface: InterfaceDescriptor<T>,
  impl: T,
  options: { owned?: boolean } = {},
): Server {
  return new ProxyServer(iface, impl, options.owned ?? true);
}

/** The implementation behind a server made by {@linkcode serverOf}, if it is one. */
export function implementationOf(server: Server): unknown {
  return server instanceof ProxyServer ? server.impl : undefined;
}
