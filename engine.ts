/**
 * The engine: Cap'n Proto two-party RPC as the C++ reference speaks it,
 * below the generated proxies. {@linkcode RpcConnection} runs one
 * connection over any byte channel; {@linkcode Capability} is a reference to
 * an object on either side, called with a {@linkcode Request} built on
 * capnp-es structs; {@linkcode serverFromMethods} serves one. Every resource
 * a peer can make it hold is bounded by {@linkcode RpcLimits}.
 * {@linkcode clientOf} and {@linkcode serverOf} join the engine to the typed
 * proxy layer.
 *
 * @example Serve an object with the raw engine
 * ```ts
 * import { Capability, RpcConnection, serverFromMethods } from "./engine.ts";
 * import { Tester$Client } from "./examples/schemas/gen/testing.ts";
 *
 * const add = Tester$Client.methods[0];
 * const tester = Capability.fromServer(serverFromMethods(new Map([
 *   [Tester$Client.interfaceId, [(call) => {
 *     const { a, b } = call.params(add.ParamsClass);
 *     call.results(add.ResultsClass).result = a + b;
 *   }]],
 * ])));
 *
 * const dir = await Deno.makeTempDir();
 * const listener = Deno.listen({ transport: "unix", path: `${dir}/example.sock` });
 * listener.accept().then((conn) => new RpcConnection(conn, { bootstrap: tester }));
 * {
 *   await using client = new RpcConnection(
 *     await Deno.connect({ transport: "unix", path: `${dir}/example.sock` }),
 *   );
 *   using remote = client.bootstrap();
 *   const request = remote.request(add);
 *   request.params.a = 2;
 *   request.params.b = 3;
 *   using response = await request.send();
 *   if (response.results(add.ResultsClass).result !== 5) throw new Error("2 + 3 is 5");
 * }
 * listener.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */
export {
  type CallContext,
  type CallMessage,
  Capability,
  type CapnpMessage,
  type CapnpObjectSize,
  type CapnpPointer,
  type CapnpSegment,
  type CapnpStruct,
  Hook,
  type MethodDescriptor,
  PendingCall,
  Request,
  Response,
  type Sent,
  type Server,
  type StructClass,
  type StructLayout,
} from "./runtime/rpc/capability.ts";
export type { Target } from "./runtime/rpc/envelope.ts";
export { REFERENCED_DATA_BYTES, setData } from "./runtime/rpc/message.ts";
export {
  type ConnectionOptions,
  DEFAULT_RPC_LIMITS,
  RpcConnection,
  type RpcLimits,
} from "./runtime/rpc/connection.ts";
export { ERROR_TYPES, type ErrorType, RpcError } from "./runtime/rpc/errors.ts";
export { type MethodHandler, type MethodTable, serverFromMethods } from "./runtime/rpc/server.ts";
export {
  type ByteChannel,
  channelFromStreams,
  FrameTransport,
  PeerLimitError,
  type TransportLimits,
} from "./runtime/transport.ts";
export { type Frame, type FrameLimits, FrameView, FramingError } from "./runtime/framing.ts";
export { MessageValidationError, type ReadLimits } from "./runtime/validate.ts";
export {
  capnpProtocol,
  type IpcProtocol,
  type ProtocolOptions,
} from "./runtime/process/protocol.ts";
export { acceptConnections, type AcceptOptions } from "./runtime/process/accept.ts";
export { clientOf, serverOf } from "./runtime/proxy/bridge.ts";
export { capabilityOf } from "./runtime/proxy/ownership.ts";
export { Session, type SessionOptions } from "./runtime/proxy/session.ts";
export { sessionOf } from "./runtime/proxy/client.ts";
export { type CapabilityBridge } from "./runtime/proxy/codec.ts";
// The proxy bridge's signatures name these; the component entry owns them.
export type {
  FieldDescriptor,
  InterfaceDescriptor,
  MethodSignature,
  ScalarKind,
  StructDescriptor,
  TypeDescriptor,
} from "./runtime/schema/descriptor.ts";
export type {
  Plain,
  ProxyOwnership,
  Remote,
  RemoteMethods,
  RemoteValue,
} from "./runtime/proxy/client.ts";
export type { Strand } from "./runtime/proxy/strand.ts";
export type { IpcLog } from "./runtime/log.ts";
