/**
 * Servers from method tables, dispatched by (interface id, method id) so an
 * object serving a derived interface answers its base interfaces' methods.
 *
 * @module
 */
import type { CallContext, Server } from "./capability.ts";
import { RpcError } from "./errors.ts";

/** Handles one method; fill `call.results(...)` and return (or throw). */
export type MethodHandler = (call: CallContext) => void | Promise<void>;

/** Method handlers by method id, for each interface id an object implements. */
export type MethodTable = ReadonlyMap<bigint, readonly (MethodHandler | undefined)[]>;

/**
 * A {@linkcode Server} that dispatches to `methods`; unknown interfaces and
 * methods fail with `unimplemented`, as the C++ reference does.
 *
 * @example
 * ```ts
 * import { Capability } from "./capability.ts";
 * import { serverFromMethods } from "./server.ts";
 * let ended = false;
 * const server = serverFromMethods(new Map([[0x1234n, [() => {}]]]), () => ended = true);
 * {
 *   using _cap = Capability.fromServer(server);
 * }
 * if (!ended) throw new Error("onDispose runs when its last capability goes");
 * ```
 */
export function serverFromMethods(methods: MethodTable, onDispose?: () => void): Server {
  return {
    dispatch(call) {
      const table = methods.get(call.interfaceId);
      if (table === undefined) {
        throw new RpcError(
          "unimplemented",
          `Requested interface not implemented: 0x${call.interfaceId.toString(16)}.`,
        );
      }
      const handler = table[call.methodId];
      if (handler === undefined) {
        throw new RpcError(
          "unimplemented",
          `Method not implemented: 0x${call.interfaceId.toString(16)} method ${call.methodId}.`,
        );
      }
      return handler(call);
    },
    [Symbol.dispose]() {
      onDispose?.();
    },
  };
}
