/**
 * The component side of the runtime: what the code of one component
 * imports. A component implements the TypeScript interfaces `deno task gen`
 * makes from its schemas, serves its Init with {@linkcode runComponent}, and
 * calls other components through proxies ({@linkcode Remote}) whose
 * ownership it controls ({@linkcode dup}, {@linkcode release},
 * {@linkcode destroy}). Calls from one {@linkcode Strand} run one at a time,
 * like calls from one thread in libmultiprocess. Importing this module reads,
 * writes and asks for nothing, so a component needs no permission for it.
 *
 * @example Serve an object and call it through a proxy
 * ```ts
 * import { connect, listen } from "./component.ts";
 * import { FooInit } from "./examples/schemas/gen/conformance.mp.ts";
 * import { fooInit } from "./examples/foo/foo.ts";
 *
 * const datadir = await Deno.makeTempDir();
 * {
 *   await using _listener = listen(FooInit, "unix", fooInit(), { datadir, component: "foo" });
 *   await using init = await connect(FooInit, "unix", { datadir, component: "foo" });
 *   await using foo = (await init.makeFoo())!;
 *   if (await foo.add(2, 3) !== 5) throw new Error("2 + 3 is 5");
 * }
 * await Deno.remove(datadir, { recursive: true });
 * ```
 * @module
 */
export {
  datadirOf,
  readFileIfExists,
  runComponent,
  serveComponent,
  writeFileAtomic,
} from "./runtime/component.ts";
export { Timer, type TimerOptions } from "./runtime/timer.ts";
export {
  type AddressOptions,
  bashPath,
  type ChildCommand,
  connect,
  type ConnectOptions,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_START_TIMEOUT_MS,
  denoCommand,
  type DenoCommandOptions,
  type ExitStatus,
  holdsInheritableDescriptors,
  type IpcArgs,
  ipcFdOf,
  type IpcListener,
  type IpcOptions,
  listen,
  type ListenOptions,
  parseIpcArgs,
  serve,
  spawn,
  type SpawnedComponent,
  SpawnError,
  type SpawnOptions,
} from "./runtime/process/process.ts";
export {
  type Lifeline,
  lifeline,
  onLifelineClosed,
  sameToken,
  wantsLifeline,
} from "./runtime/process/lifeline.ts";
export { type Cookie, readCookie, writeCookie } from "./runtime/process/cookie.ts";
export {
  type AddressContext,
  AddressError,
  parseAddress,
  type UnixAddress,
} from "./runtime/process/address.ts";
export { IpcLog, type IpcLogOptions, type LogLevel } from "./runtime/log.ts";
export type { IpcProtocol, ProtocolOptions } from "./runtime/process/protocol.ts";
export type { ByteChannel } from "./runtime/transport.ts";
export { disconnected } from "./runtime/proxy/client.ts";
export {
  type Plain,
  type ProxyOwnership,
  type Remote,
  type RemoteMethods,
  type RemoteValue,
} from "./runtime/proxy/client.ts";
export { destroy, dup, release } from "./runtime/proxy/ownership.ts";
export { currentStrand, mainStrand, Strand } from "./runtime/proxy/strand.ts";
export { registerType, type TypeCodec, TypeMappingError } from "./runtime/proxy/codec.ts";
export {
  CALLED_AFTER_DISCONNECT,
  INTERRUPTED_BY_DISCONNECT,
  RaisedError,
} from "./runtime/proxy/errors.ts";
export { ERROR_TYPES, type ErrorType, RpcError } from "./runtime/rpc/errors.ts";
export type {
  Awaitable,
  CallOptions,
  CustomType,
  CustomTypes,
  FieldDescriptor,
  InterfaceDescriptor,
  Lent,
  MethodSignature,
  NotInSchema,
  Owned,
  ScalarKind,
  StructDescriptor,
  TypeDescriptor,
} from "./runtime/schema/descriptor.ts";
export { Context, Thread, ThreadMap } from "./runtime/schema/gen/mp/proxy.mp.ts";
