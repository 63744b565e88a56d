/**
 * A sandboxed component runtime for Deno: components run as separate Deno
 * processes and call each other through Cap'n Proto RPC over UNIX sockets,
 * wire-compatible with Bitcoin Core's libmultiprocess and the C++ reference
 * implementation.
 *
 * Application code works with the TypeScript interfaces `deno task gen`
 * generates from `schemas/*.capnp` (`schemas/gen/*.mp.ts`): it implements
 * them, and calls them through proxies that look like the local object.
 * {@linkcode spawn}, {@linkcode serve}, {@linkcode connect} and
 * {@linkcode listen} start components and connect them. Below that sits the
 * RPC engine ({@linkcode RpcConnection}, {@linkcode Capability}).
 *
 * @example Listen on a UNIX socket and call through a proxy
 * ```ts
 * import { connect, listen } from "./mod.ts";
 * import { FooInit } from "./schemas/gen/conformance.mp.ts";
 * import { fooInit } from "./examples/foo/foo.ts";
 *
 * const datadir = await Deno.makeTempDir();
 * await using _listener = listen(FooInit, "unix", fooInit(), { datadir, component: "foo" });
 * await using init = await connect(FooInit, "unix", { datadir, component: "foo" });
 * await using foo = (await init.makeFoo())!;
 * console.assert(await foo.add(2, 3) === 5);
 * ```
 *
 * @example Serve an object with the raw engine
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
export {
  type ByteChannel,
  channelFromStreams,
  FrameTransport,
  PeerLimitError,
  type TransportLimits,
} from "./runtime/transport.ts";
export { type FrameLimits, FrameView, FramingError } from "./runtime/framing.ts";
export { MessageValidationError, type ReadLimits } from "./runtime/validate.ts";
export {
  capabilityOf,
  clientOf,
  dup,
  type Proxy,
  type Remote,
  sessionOf,
} from "./runtime/proxy/client.ts";
export { serverOf } from "./runtime/proxy/server.ts";
export { Session, type SessionOptions } from "./runtime/proxy/session.ts";
export { currentStrand, mainStrand, Strand } from "./runtime/proxy/strand.ts";
export {
  type CapabilityBridge,
  registerType,
  type TypeCodec,
  TypeMappingError,
} from "./runtime/proxy/codec.ts";
export {
  CALLED_AFTER_DISCONNECT,
  INTERRUPTED_BY_DISCONNECT,
  RaisedError,
} from "./runtime/proxy/errors.ts";
export { escapeDump, IpcLog, type IpcLogOptions, type LogLevel } from "./runtime/log.ts";
export { AddressError, parseAddress, type UnixAddress } from "./runtime/process/address.ts";
export {
  capnpProtocol,
  type IpcProtocol,
  type ProtocolOptions,
} from "./runtime/process/protocol.ts";
export {
  type AddressOptions,
  childArgv,
  type ChildCommand,
  CLOSE_INHERITED_DESCRIPTORS,
  connect,
  type ConnectOptions,
  denoCommand,
  type DenoCommandOptions,
  type ExitStatus,
  type IpcArgs,
  type IpcListener,
  type IpcOptions,
  listen,
  type ListenOptions,
  parseIpcArgs,
  serve,
  spawn,
  type SpawnedComponent,
  type SpawnOptions,
  UNDER_PRESSURE_MS,
} from "./runtime/process/process.ts";
export { acceptConnections, type AcceptOptions } from "./runtime/process/accept.ts";
export {
  DEFAULT_OUTPUT_LIMITS,
  LineForwarder,
  type OutputLimits,
  type OutputStream,
  sanitizeLine,
  stderrLines,
} from "./runtime/process/output.ts";
export {
  type Lifeline,
  lifeline,
  newToken,
  onLifelineClosed,
  TOKEN_BYTES,
  wantsLifeline,
} from "./runtime/process/lifeline.ts";
export type {
  Awaitable,
  CustomType,
  CustomTypes,
  InterfaceDescriptor,
  StructDescriptor,
} from "./schemas/descriptor.ts";
export {
  applyGrants,
  checkConnections,
  type Component,
  type Grant,
  loadComponent,
  type Manifest,
  ManifestError,
  parseGrant,
  parseManifest,
} from "./sandbox/manifest.ts";
export {
  type CommandOptions,
  projectRoot,
  type RunPaths,
  sandboxCommand,
  type SandboxedComponent,
  SandboxError,
  spawnComponent,
  type SpawnComponentOptions,
} from "./sandbox/contract.ts";
export { checkProvenance, prepareCode, ProvenanceError } from "./sandbox/provenance.ts";
export {
  type ExitEvidence,
  type ExitKind,
  type ExitReason,
  exitReason,
  type UsageWatch,
  watchUsage,
} from "./sandbox/limits.ts";
export { bwrapPath } from "./sandbox/hardened.ts";
export {
  DEFAULT_HEALTH_CHECK,
  type ExitRecord,
  type HealthCheckOptions,
  type Supervised,
  SupervisionError,
  Supervisor,
  type SupervisorOptions,
} from "./sandbox/supervisor.ts";
export { type AuditSummary, formatAudit, summarizeAudit } from "./sandbox/audit.ts";
