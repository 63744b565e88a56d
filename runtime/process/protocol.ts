/**
 * The protocol half of the IPC API (libmultiprocess' `IpcProtocol`): how an
 * Init object is served over a byte channel and how a client gets its
 * proxy. The process half (`process.ts`) only moves channels around, so
 * another protocol can be swapped in behind the same spawn / serve /
 * connect / listen.
 *
 * @example
 * ```ts
 * import { capnpProtocol } from "./protocol.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * import { fooInit } from "../../examples/foo/foo.ts";
 * const dir = await Deno.makeTempDir();
 * const listener = Deno.listen({ transport: "unix", path: `${dir}/s` });
 * const served = listener.accept().then((conn) => capnpProtocol.serve(FooInit, fooInit(), conn));
 * const channel = await Deno.connect({ transport: "unix", path: `${dir}/s` });
 * {
 *   await using init = capnpProtocol.connect(FooInit, channel, { name: "gui" });
 *   await using foo = (await init.makeFoo())!;
 *   if (await foo.add(2, 2) !== 4) throw new Error("called over the channel");
 * }
 * await served; // ends when the client's channel closes
 * listener.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */
import type { InterfaceDescriptor } from "../schema/descriptor.ts";
import * as capnp from "capnp-es";
import { BrokenHook, Capability, PromiseHook } from "../rpc/capability.ts";
import { RpcError } from "../rpc/errors.ts";
import { RpcConnection } from "../rpc/connection.ts";
import type { ByteChannel } from "../transport.ts";
import type { IpcLog } from "../log.ts";
import { clientOf, serverOf } from "../proxy/bridge.ts";
import { capabilityOf } from "../proxy/ownership.ts";
import type { Remote } from "../proxy/client.ts";
import { sendPipelined } from "../proxy/request.ts";
import { Session } from "../proxy/session.ts";

/** Naming and logging of one end of a connection. */
export interface ProtocolOptions {
  /** Component name used in thread names and logs. */
  name?: string | undefined;
  /** Where connection events and (with `-debug=ipc`) calls are logged. */
  log?: IpcLog | undefined;
  /**
   * Text to add to the message of an exception the peer raised ("" for
   * none), as a host explains a component's failures in its own terms.
   */
  explainRemote?: ((message: string) => string) | undefined;
}

/** Serves and connects Init objects over byte channels. */
export interface IpcProtocol {
  /** The peer's Init; releasing it closes the channel. */
  connect<T>(
    iface: InterfaceDescriptor<T>,
    channel: ByteChannel,
    options?: ProtocolOptions,
  ): Remote<T>;
  /**
   * Serves `init` (not owned: it outlives the connection) until the channel
   * closes; rejects with why when it ended broken (the peer went over a
   * limit or broke the protocol) rather than plainly.
   */
  serve<T>(
    iface: InterfaceDescriptor<T>,
    init: T,
    channel: ByteChannel,
    options?: ProtocolOptions,
  ): Promise<void>;
  /**
   * Settles once the peer behind `init` (made by this protocol's
   * `connect`) has answered: resolves when it serves, rejects when the
   * connection ends first.
   */
  serving(init: Remote<unknown>): Promise<void>;
  /**
   * One request on the connection of `init` (made by this protocol's
   * `connect`) and its answer, whatever the answer says: resolves when the
   * peer answers, rejects when the connection ends first. A peer whose
   * event loop is stuck never answers.
   */
  probe(init: Remote<unknown>): Promise<void>;
  /**
   * The cheapest exchange that proves the peer on `channel` serves: one
   * request and its answer, whatever the answer says; then the channel is
   * closed. Rejects when the channel ends (or fails) before an answer.
   */
  ping(channel: ByteChannel): Promise<void>;
}

/** A struct without fields: the params of the ping request. */
class NoFields extends capnp.Struct {
  static override readonly _capnp = {
    displayName: "NoFields",
    id: "0",
    size: new capnp.ObjectSize(0, 0),
  };
}

/** A method no interface has (interface id 0): every server answers it "unimplemented". */
const NO_METHOD = { interfaceId: 0n, methodId: 0, ParamsClass: NoFields };

/** Settles once the peer answers a call of {@linkcode NO_METHOD} on `cap`, whatever it says. */
async function answered(cap: Capability): Promise<void> {
  try {
    using _answer = await cap.request(NO_METHOD).send();
  } catch (error) {
    // Only a lost connection means nobody answered.
    if (!(error instanceof RpcError) || error.type === "disconnected") throw error;
  }
}

/** Cap'n Proto RPC with libmultiprocess' conventions. */
export const capnpProtocol: IpcProtocol = {
  connect(iface, channel, options = {}) {
    const rpc = new RpcConnection(channel);
    const session = Session.of(rpc, options);
    const bootstrap = rpc.bootstrap();
    if (iface.methods.some((m) => m.special === "construct")) {
      // As libmultiprocess' client does on creating the Init proxy: hand over
      // our ThreadMap, take the server's, without waiting for the answer.
      using threadMap = session.threadMap();
      using peerThreadMap = sendPipelined(bootstrap, iface, "construct", { threadMap }).pipeline(0);
      session.setPeerThreadMap(peerThreadMap);
    }
    // The Init proxy (and its dup()s) own the connection: the last release closes it.
    return clientOf(iface, bootstrap, session, () => rpc.close());
  },

  async serve(iface, init, channel, options = {}) {
    using bootstrap = Capability.fromServer(serverOf(iface, init, { owned: false }));
    const rpc = new RpcConnection(channel, { bootstrap });
    const session = Session.of(rpc, options);
    if (session.log.debug) session.log.write("IPC server: socket connected.");
    const reason = await rpc.closed;
    if (session.log.debug) session.log.write("IPC server: socket disconnected.");
    if (rpc.isBroken) throw reason;
  },

  serving(init) {
    const hook = capabilityOf(init)?.hook;
    if (!(hook instanceof PromiseHook)) {
      return hook instanceof BrokenHook ? Promise.reject(hook.error) : Promise.resolve();
    }
    // The bootstrap's answer resolves it; a connection that ends first breaks it.
    return new Promise((resolve, reject) =>
      hook.whenResolved((target) => target instanceof BrokenHook ? reject(target.error) : resolve())
    );
  },

  async probe(init) {
    const cap = capabilityOf(init);
    if (cap === undefined) throw new TypeError("probe: not a proxy this protocol made");
    await answered(cap);
  },

  async ping(channel) {
    const rpc = new RpcConnection(channel);
    try {
      using bootstrap = rpc.bootstrap();
      await answered(bootstrap);
    } finally {
      await rpc.close();
    }
  },
};
