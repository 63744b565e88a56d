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
 * @example Tester's add, served; its other methods unimplemented
 * ```ts
 * import { Capability } from "./capability.ts";
 * import { RpcError } from "./errors.ts";
 * import { serverFromMethods } from "./server.ts";
 * import { Tester$Client } from "../../examples/schemas/gen/testing.ts";
 *
 * const [add, echo] = Tester$Client.methods;
 * let ended = false;
 * const server = serverFromMethods(
 *   new Map([[Tester$Client.interfaceId, [(call) => {
 *     const { a, b } = call.params(add.ParamsClass);
 *     call.results(add.ResultsClass).result = a + b;
 *   }]]]),
 *   () => ended = true,
 * );
 * {
 *   using tester = Capability.fromServer(server);
 *   const request = tester.request(add);
 *   request.params.a = 40;
 *   request.params.b = 2;
 *   using response = await request.send();
 *   if (response.results(add.ResultsClass).result !== 42) throw new Error("40 + 2 is 42");
 *   const missing = await tester.request(echo).send().then(() => null, (error) => error);
 *   if (!(missing instanceof RpcError) || missing.type !== "unimplemented") throw new Error("echo");
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
