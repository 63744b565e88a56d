/**
 * A sandboxed component runtime for Deno: components run as separate Deno
 * processes and call each other through Cap'n Proto RPC over UNIX sockets,
 * wire-compatible with the C++ reference implementation.
 *
 * This module is the public API. The RPC engine is reached through
 * {@linkcode RpcConnection} (one per socket) and {@linkcode Capability}
 * (a reference to an object, local or remote).
 *
 * @example Serve an object and call it over a UNIX socket
 * ```ts
 * import { Capability, RpcConnection, serverFromMethods } from "./mod.ts";
 * import { Tester$Client } from "./schemas/gen/testing.ts";
 *
 * const add = Tester$Client.methods[0];
 * const tester = Capability.fromServer(serverFromMethods(new Map([
 *   [Tester$Client.interfaceId, [(call) => {
 *     const { a, b } = call.params(add.ParamsClass);
 *     call.results(add.ResultsClass).result = a + b;
 *   }]],
 * ])));
 *
 * const path = `${await Deno.makeTempDir()}/example.sock`;
 * const listener = Deno.listen({ transport: "unix", path });
 * listener.accept().then((conn) => new RpcConnection(conn, { bootstrap: tester }));
 *
 * await using client = new RpcConnection(await Deno.connect({ transport: "unix", path }));
 * using remote = client.bootstrap();
 * const request = remote.request(add);
 * request.params.a = 2;
 * request.params.b = 3;
 * using response = await request.send();
 * console.assert(response.results(add.ResultsClass).result === 5);
 * listener.close();
 * ```
 * @module
 */
export {
  type CallContext,
  Capability,
  type MethodDescriptor,
  PendingCall,
  Request,
  Response,
  type Server,
} from "./runtime/rpc/capability.ts";
export {
  type ConnectionOptions,
  DEFAULT_RPC_LIMITS,
  RpcConnection,
  type RpcLimits,
} from "./runtime/rpc/connection.ts";
export { ERROR_TYPES, type ErrorType, RpcError } from "./runtime/rpc/errors.ts";
export { type MethodHandler, type MethodTable, serverFromMethods } from "./runtime/rpc/server.ts";
export { type ByteChannel, channelFromStreams, FrameTransport } from "./runtime/transport.ts";
export { type FrameLimits, FramingError } from "./runtime/framing.ts";
export { MessageValidationError, type ReadLimits } from "./runtime/validate.ts";
