/**
 * The bridge: how interface values cross a session, the one place that
 * knows both client proxies (`client.ts`) and server adapters
 * (`server.ts`). A capability read from a message becomes a proxy; a value
 * written into one becomes a capability:
 *
 * - a proxy of the same session (or of none) passes its capability on; a
 *   proxy of another connection is served here through a copy of it, as
 *   libmultiprocess wraps a `ProxyClient` in a new `ProxyServer`;
 * - a local object or function is served by a {@linkcode ProxyServer}, one
 *   per object and interface while any capability to it lives, so an
 *   object written twice is one object to the peer.
 *
 * A value written as a param is lent (the writer keeps it); written as a
 * result it is handed over (a proxy is released once its capability is
 * written). A local object's server holds a reference until its last
 * capability goes: its own for a param, the writer's for a result. See
 * `ownership.ts`.
 *
 * @example
 * ```ts
 * import { Capability } from "../rpc/capability.ts";
 * import { clientOf, serverOf } from "./bridge.ts";
 * import type { Foo } from "../../examples/schemas/gen/conformance.mp.ts";
 * import { Foo as FooDescriptor } from "../../examples/schemas/gen/conformance.mp.ts";
 * const impl = { add: (a: number, b: number) => a + b } as unknown as Foo;
 * await using foo = clientOf(FooDescriptor, Capability.fromServer(serverOf(FooDescriptor, impl)));
 * if (await foo.add(2, 3) !== 5) throw new Error("2 + 3");
 * ```
 * @module
 */
import type { InterfaceDescriptor } from "../schema/descriptor.ts";
import { Capability, type Hook, type Server } from "../rpc/capability.ts";
import type { CapabilityBridge } from "./codec.ts";
import { makeClient, type Remote, sessionOf, sharedEnd } from "./client.ts";
import { dup, handleOf, hasSpareReference, release, wasDisposed } from "./ownership.ts";
import { ProxyServer, type ServerBridges } from "./server.ts";
import type { Session } from "./session.ts";

/** Both bridges of one session. */
interface Bridges {
  /** Writes params (lent), reads params and results (proxies). */
  readonly lend: CapabilityBridge;
  /** Writes results (handed over). */
  readonly give: CapabilityBridge;
}

const SERVER_BRIDGES: ServerBridges = {
  params: (session) => bridgesOf(session).lend,
  results: (session) => bridgesOf(session).give,
};

/** The hooks serving local objects, per object and interface, while referenced. */
const served = new WeakMap<object, Map<InterfaceDescriptor, Hook>>();

/**
 * A capability for local `value` as `iface`, to which the reference the
 * writer hands over goes: a new server takes it; the server already serving
 * it holds one, so it is released. An object served already (as any
 * interface) must come with a reference of its own: the same reference
 * handed over twice, by an object returned again without `dup()`, is
 * refused, since counting it again would take another holder's.
 */
function serveLocal(value: object, iface: InterfaceDescriptor): Capability {
  let byInterface = served.get(value);
  if (byInterface !== undefined && !hasSpareReference(value)) {
    throw new TypeError(
      `a ${iface.name} object was handed over again without dup(): each result hands over ` +
        "a reference of its own (a method that keeps an object it returns returns dup() of it)",
    );
  }
  const hook = byInterface?.get(iface);
  if (hook !== undefined) {
    release(value);
    return new Capability(hook.retain());
  }
  if (byInterface === undefined) served.set(value, byInterface = new Map());
  const interfaces = byInterface;
  const server = new ProxyServer(iface, value, SERVER_BRIDGES, {
    onEnd() {
      interfaces.delete(iface);
      if (interfaces.size === 0) served.delete(value);
    },
  });
  const cap = Capability.fromServer(server);
  interfaces.set(iface, cap.hook);
  return cap;
}

function makeBridge(session: Session | null, give: boolean): CapabilityBridge {
  return {
    toCapability(value, iface) {
      if (value instanceof Capability) return value.dup();
      const handle = handleOf(value);
      if (handle !== undefined) {
        handle.check();
        const from = sessionOf(value);
        const cap = from === null || from === session
          ? handle.cap.dup()
          // Served through a copy: calls from this peer reach the other one on
          // that connection's threads (its thread handles mean nothing here),
          // and releasing the copy leaves the writer's proxy alone.
          : Capability.fromServer(
            new ProxyServer(
              iface,
              makeClient(iface, handle.cap.dup(), from, bridgesOf(from).lend),
              SERVER_BRIDGES,
            ),
          );
        if (give) void handle.release();
        return cap;
      }
      if (typeof value === "function" ? !iface.callback : typeof value !== "object") {
        throw new TypeError(
          `expected ${
            iface.callback ? "a function or " : ""
          }an object implementing ${iface.name}, got ${typeof value}`,
        );
      }
      if (wasDisposed(value as object)) {
        throw new TypeError(
          `a disposed ${iface.name} object was written into a call: it was destroyed, or its ` +
            "last reference was released; a method that keeps an object it returns returns " +
            "dup() of it",
        );
      }
      // Lent, the writer keeps its reference: the server serving it gets one of its own.
      if (!give) dup(value);
      return serveLocal(value as object, iface);
    },
    fromCapability(cap, iface) {
      return makeClient(iface, cap.dup(), session, bridgesOf(session).lend);
    },
    // A result that failed to write: what it would have handed over is released.
    ...(give ? { abandon: releaseQuietly } : {}),
  };
}

/** Releases `value`; a failing dispose has nobody to report to. */
function releaseQuietly(value: unknown): void {
  try {
    Promise.resolve(release(value)).catch(() => {});
  } catch {
    // As a server's release of its implementation: the object's own error.
  }
}

const bridges = new WeakMap<Session, Bridges>();
const localBridges: Bridges = { lend: makeBridge(null, false), give: makeBridge(null, true) };

/** How interface values cross `session` (or stay in this process, for null). */
function bridgesOf(session: Session | null): Bridges {
  if (session === null) return localBridges;
  let both = bridges.get(session);
  if (both === undefined) {
    both = { lend: makeBridge(session, false), give: makeBridge(session, true) };
    bridges.set(session, both);
  }
  return both;
}

/**
 * A proxy for `cap` (taken over) speaking `iface`: an object with the
 * interface's methods, or a function for a callback interface. `session`
 * is the connection the capability came from (null for one in this
 * process); `onLastRelease` runs when the proxy and every `dup()` of it
 * are released (the Init proxy closes its connection).
 *
 * @example
 * ```ts
 * import { Capability } from "../rpc/capability.ts";
 * import { clientOf, serverOf } from "./bridge.ts";
 * import { FooCallback } from "../../examples/schemas/gen/conformance.mp.ts";
 * const ended: string[] = [];
 * const double = (x: number) => x * 2;
 * const cap = Capability.fromServer(serverOf(FooCallback, double));
 * const fn = clientOf(FooCallback, cap, null, () => void ended.push("ended"));
 * const kept = fn.dup();
 * fn[Symbol.dispose]();
 * if (await kept(21) !== 42 || ended.join() !== "") throw new Error("the dup outlives the original");
 * kept[Symbol.dispose]();
 * if (ended.join() !== "ended") throw new Error("the last release ends it");
 * ```
 */
export function clientOf<T>(
  iface: InterfaceDescriptor<T>,
  cap: Capability,
  session: Session | null = null,
  onLastRelease?: () => void | Promise<void>,
): Remote<T> {
  return makeClient(
    iface,
    cap,
    session,
    bridgesOf(session).lend,
    onLastRelease === undefined ? null : sharedEnd(onLastRelease),
  );
}

/**
 * A server running `impl`: an object with the interface's methods, or a
 * function for a callback interface. Unless `owned` is false, the server
 * takes over the caller's reference to `impl`: it releases it
 * (`ownership.ts`) with its last capability and destroys it on `destroy`.
 *
 * @example
 * ```ts
 * import { Capability } from "../rpc/capability.ts";
 * import { serverOf } from "./bridge.ts";
 * import { Foo } from "../../examples/schemas/gen/conformance.mp.ts";
 * let disposed = false;
 * const impl = { add: (a: number, b: number) => a + b, [Symbol.dispose]: () => disposed = true };
 * {
 *   using _cap = Capability.fromServer(serverOf(Foo, impl as unknown as Foo));
 * }
 * if (!disposed) throw new Error("released with the last capability");
 * ```
 */
export function serverOf<T>(
  iface: InterfaceDescriptor<T>,
  impl: T,
  options: { owned?: boolean } = {},
): Server {
  return new ProxyServer(iface, impl, SERVER_BRIDGES, options);
}
