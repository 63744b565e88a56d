/**
 * Server adapters: an object implementing a generated interface (or a
 * plain function, for a callback interface) answering calls from other
 * processes.
 *
 * The adapter reads the params into TypeScript values (capabilities among
 * them are lent to the call and released once its results are written)
 * and passes them with the call's options (`CallOptions`: its `signal`
 * aborts when the caller gives up or disconnects),
 * runs the method on the strand the call's Context names (`context.ts`; at
 * once for Context-less methods), writes the return value into the results
 * (handing it over to the caller) and turns what the method throws into an
 * exception field or an RPC exception. It handles the special methods
 * itself: `construct` exchanges ThreadMaps, `destroy` ends the object
 * (`ownership.ts`) before returning.
 *
 * Servers are made by `serverOf(Foo, impl, session)` (`bridge.ts`, whose
 * example runs one): `new ProxyServer(Foo, impl, bridges, { owned: true })`
 * wrapped as `Capability.fromServer(server)`.
 * @module
 */
import { type Struct, utils as capnpUtils } from "capnp-es";
import type {
  CallOptions,
  InterfaceDescriptor,
  MethodSignature,
  StructDescriptor,
} from "../schema/descriptor.ts";
import type { CallContext, Server } from "../rpc/capability.ts";
import type { RpcConnection } from "../rpc/connection.ts";
import { RpcError } from "../rpc/errors.ts";
import { escapeDump, type IpcLog } from "../log.ts";
import {
  type CapabilityBridge,
  type CodecContext,
  formatStruct,
  readField,
  readingTable,
  structClass,
  writeField,
  writeStruct,
  writingTable,
} from "./codec.ts";
import { readContext, runInContext } from "./context.ts";
import { RaisedError } from "./errors.ts";
import { methodsOf } from "./methods.ts";
import { destroy, handleOf, release, wasDisposed } from "./ownership.ts";
import { Session } from "./session.ts";

/** The bridges of the session a call arrived on (null: a call made in this process). */
export interface ServerBridges {
  /** Reads params: capabilities become proxies (lent to the call by the server). */
  params(session: Session | null): CapabilityBridge;
  /** Writes results: the values written are handed over to the caller. */
  results(session: Session | null): CapabilityBridge;
}

/** How a {@linkcode ProxyServer} holds its implementation. */
export interface ProxyServerOptions {
  /**
   * Whether the server holds a reference to the implementation (default
   * true): released with the server's last reference, destroyed by
   * `destroy`. An Init object served to every connection is not held.
   */
  readonly owned?: boolean | undefined;
  /** Runs once the server ends (destroyed, or its last reference released). */
  readonly onEnd?: (() => void) | undefined;
}

/** Calls the implementation of `method`; functions implement callback interfaces. */
function invoke(impl: unknown, method: MethodSignature, args: unknown[]): unknown {
  if (typeof impl === "function") return impl(...args);
  const fn = (impl as Record<string, unknown>)[method.name];
  if (typeof fn !== "function") {
    throw new RpcError("unimplemented", `Method not implemented: ${method.name}.`);
  }
  return fn.apply(impl, args);
}

/**
 * What an implementation's method gets after its parameters: the call's
 * `signal` (made on first use: most methods never look).
 */
class ServedCallOptions implements CallOptions {
  readonly #call: CallContext;

  constructor(call: CallContext) {
    this.#call = call;
  }

  get signal(): AbortSignal {
    return this.#call.signal;
  }
}

/** An engine {@linkcode Server} running an implementation of `iface`. */
export class ProxyServer implements Server {
  readonly #iface: InterfaceDescriptor;
  readonly #impl: unknown;
  readonly #bridges: ServerBridges;
  readonly #owned: boolean;
  readonly #onEnd: (() => void) | undefined;
  #ended = false;

  /** A server running `impl` as `iface`; `bridges` carry capabilities in and out of its calls. */
  constructor(
    iface: InterfaceDescriptor,
    impl: unknown,
    bridges: ServerBridges,
    options: ProxyServerOptions = {},
  ) {
    this.#iface = iface;
    this.#impl = impl;
    this.#bridges = bridges;
    this.#owned = options.owned ?? true;
    this.#onEnd = options.onEnd;
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
    if (method.special === "construct") {
      const p = capnpUtils.getPointer(method.params.fields[0]!.offset, params);
      session?.setPeerThreadMap(
        capnpUtils.isNull(p) ? null : call.paramCaps[capnpUtils.getCapabilityId(p)] ?? null,
      );
      const results = call.results(structClass(method.results));
      if (session !== null) {
        using threadMap = session.threadMap();
        capnpUtils.setInterfacePointer(
          call.addResultCap(threadMap),
          capnpUtils.getPointer(method.results.fields[0]!.offset, results),
        );
      }
      return respond(log, results, method, request);
    }
    if (method.special === "destroy") {
      if (!this.#ended) {
        this.#end();
        if (this.#owned) await destroy(this.#impl);
      }
      if (log?.debug) log.write(`IPC server destroy ${this.#iface.name}`);
      return respond(log, call.results(structClass(method.results)), method, request);
    }
    this.#checkAlive();
    // Capabilities in the params are lent to the implementation until the
    // call is over (results written), as libmultiprocess releases `&` params.
    const loan: unknown[] = [];
    const lending = this.#bridges.params(session);
    const context: CodecContext = {
      caps: readingTable(call.paramCaps),
      bridge: {
        toCapability: lending.toCapability,
        fromCapability(cap, iface) {
          const value = lending.fromCapability(cap, iface);
          handleOf(value)?.lend();
          loan.push(value);
          return value;
        },
      },
    };
    try {
      const args: unknown[] = [];
      for (const field of method.params.fields) {
        if (!field.hidden) args.push(readField(field, params, context, method.params.name));
      }
      args.push(new ServedCallOptions(call));
      await this.#call(call, method, params, args, context, session, request);
    } finally {
      for (const value of loan) void release(value);
    }
  }

  /** Runs the implementation and writes what it returned or raised. */
  async #call(
    call: CallContext,
    method: MethodSignature,
    params: Struct,
    args: unknown[],
    paramContext: CodecContext,
    session: Session | null,
    request: number,
  ): Promise<void> {
    const log = session?.log;
    // A call that waited on its strand may find the object ended meanwhile.
    const run = () => {
      this.#checkAlive();
      return invoke(this.#impl, method, args);
    };
    let value: unknown;
    try {
      if (method.context === null || session === null) {
        value = await run();
      } else {
        const threads = readContext(
          params,
          method as MethodSignature & { context: string },
          paramContext.caps,
        );
        value = await runInContext(
          session,
          threads,
          () => {
            // Given up (or its connection gone) while it waited for its strand: it never
            // starts. Its signal has fired already, so the method would not see it fire.
            call.signal.throwIfAborted();
            return run();
          },
          log?.debug
            ? (strand) =>
              log.write(`IPC server post request  #${request} {${session.threadName(strand)}}`)
            : undefined,
        );
      }
    } catch (error) {
      // Nobody waits for the results of a call given up: no exception field is written.
      if (call.signal.aborted) throw RpcError.from(error);
      const field = method.results.fields.find((f) => f.exception);
      if (field === undefined || !(error instanceof RaisedError || field.type.kind === "text")) {
        throw error instanceof RpcError ? error : RpcError.from(error);
      }
      value = error instanceof RaisedError
        ? error.value
        : error instanceof Error
        ? error.message
        : String(error);
      const results = call.results(structClass(method.results));
      writeField(field, value, results, this.#resultContext(call, session), method.results.name);
      return respond(log, results, method, request);
    }
    const results = call.results(structClass(method.results));
    const context = this.#resultContext(call, session);
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
    respond(log, results, method, request);
  }

  #resultContext(call: CallContext, session: Session | null): CodecContext {
    return {
      caps: writingTable((cap) => call.addResultCap(cap)),
      bridge: this.#bridges.results(session),
    };
  }

  /** Throws unless the object lives: ended here, or destroyed by a holder in this process. */
  #checkAlive(): void {
    if (this.#ended || (this.#owned && wasDisposed(this.#impl as object))) {
      throw new RpcError("failed", `${this.#iface.name} was destroyed.`);
    }
  }

  #end(): void {
    this.#ended = true;
    this.#onEnd?.();
  }

  /** Released by its last holder without `destroy`: releases the implementation. */
  [Symbol.dispose](): void {
    if (this.#ended) return;
    this.#end();
    if (!this.#owned) return;
    // Its holders are gone: a dispose that fails, at once or later, has no one to tell.
    try {
      Promise.resolve(release(this.#impl)).catch(() => {});
    } catch { /* it has ended all the same */ }
  }
}

/** Logs the response; `results` is the finished results struct. */
function respond(
  log: IpcLog | undefined,
  results: Struct,
  method: MethodSignature,
  request: number,
): void {
  if (!log?.debug) return;
  log.write(`IPC server send response #${request} ${method.results.name}`);
  if (log.trace) log.write(`response data: ${dump(method.results, results)}`);
}

function dump(struct: StructDescriptor, value: Struct): string {
  return escapeDump(formatStruct(struct, value));
}
