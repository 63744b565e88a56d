/**
 * Request building: the engine request for a generated method with its
 * params written from TypeScript values, and the runtime's own pipelined
 * calls (`construct`, `makeThread`). The bottom of the proxy layer's call
 * path; it knows no sessions, strands or proxies.
 *
 * @example
 * ```ts
 * import * as capnp from "capnp-es";
 * import { Capability, type CallContext } from "../rpc/capability.ts";
 * import { serverFromMethods } from "../rpc/server.ts";
 * import { structClass } from "./codec.ts";
 * import { buildRequest, CAPABILITIES_ONLY } from "./request.ts";
 * import { Foo } from "../../examples/schemas/gen/conformance.mp.ts";
 * const add = Foo.methods.find((m) => m.name === "add")!;
 * let a = 0;
 * const handlers: ((call: CallContext) => void)[] = [];
 * handlers[add.ordinal] = (call) => a = capnp.utils.getInt32(0, call.params(structClass(add.params)));
 * using cap = Capability.fromServer(serverFromMethods(new Map([[Foo.id, handlers]])));
 * using _ = await buildRequest(cap, Foo, add, { a: 2, b: 3 }, CAPABILITIES_ONLY).send();
 * if (a !== 2) throw new Error(`the server read a = ${a}`);
 * ```
 * @module
 */
import type { Struct } from "capnp-es";
import type { InterfaceDescriptor, MethodSignature } from "../schema/descriptor.ts";
import {
  Capability,
  type MethodDescriptor as EngineMethod,
  type PendingCall,
  type Request,
} from "../rpc/capability.ts";
import { type CapabilityBridge, structClass, writeField, writingTable } from "./codec.ts";

/** Engine method descriptors, made once per method. */
const engineMethods = new WeakMap<MethodSignature, EngineMethod<Struct>>();

/** The engine's descriptor of `owner.method`. */
function engineMethod(owner: InterfaceDescriptor, method: MethodSignature): EngineMethod<Struct> {
  let descriptor = engineMethods.get(method);
  if (descriptor === undefined) {
    descriptor = {
      interfaceId: owner.id,
      methodId: method.ordinal,
      ParamsClass: structClass(method.params),
    };
    engineMethods.set(method, descriptor);
  }
  return descriptor;
}

/**
 * A request for `owner.method` on `cap` with the params named in `values`
 * written (checked: a bad value throws before anything is sent). A proxy
 * call names the visible params; the runtime's own calls also fill hidden
 * ones (construct's ThreadMap). Capabilities in `values` go through
 * `bridge`; the Context is left for the caller to fill in.
 */
export function buildRequest(
  cap: Capability,
  owner: InterfaceDescriptor,
  method: MethodSignature,
  values: Readonly<Record<string, unknown>>,
  bridge: CapabilityBridge,
): Request<Struct> {
  const request = cap.request(engineMethod(owner, method));
  const context = { caps: writingTable((cap) => request.addCap(cap)), bridge };
  try {
    for (const field of method.params.fields) {
      if (field.name in values) {
        writeField(field, values[field.name], request.params, context, method.params.name);
      }
    }
  } catch (error) {
    request[Symbol.dispose](); // the capabilities written before the bad value
    throw error;
  }
  return request;
}

/**
 * A bridge for the runtime's own calls, whose capability values are
 * engine {@linkcode Capability} references (passed on as new references).
 */
export const CAPABILITIES_ONLY: CapabilityBridge = {
  toCapability(value) {
    if (value instanceof Capability) return value.dup();
    throw new TypeError(`expected a Capability, got ${typeof value}`);
  },
  fromCapability(cap) {
    return cap.dup();
  },
};

/**
 * Sends `owner.method` on `cap` without waiting, for the runtime's own
 * pipelined calls (`construct`, `makeThread`): `values` may hold
 * capabilities; the results are dropped once they arrive.
 */
export function sendPipelined(
  cap: Capability,
  owner: InterfaceDescriptor,
  method: string,
  values: Readonly<Record<string, unknown>>,
): PendingCall {
  const descriptor = owner.methods.find((m) => m.name === method)!;
  const pending = buildRequest(cap, owner, descriptor, values, CAPABILITIES_ONLY).send();
  pending.response.then((response) => response.dispose(), () => {});
  return pending;
}
