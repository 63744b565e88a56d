/**
 * The methods an interface answers, its own and its superclasses', indexed
 * once per descriptor: by (interface id, ordinal) for dispatch and by name
 * for proxies (the most derived method of a name wins).
 *
 * @module
 */
import type { InterfaceDescriptor, MethodSignature } from "../schema/descriptor.ts";

/** A method and the interface that declares it. */
export interface OwnedMethod {
  /** The interface declaring the method. */
  readonly owner: InterfaceDescriptor;
  /** The method. */
  readonly method: MethodSignature;
}

/** Both indexes of one interface. */
export interface MethodIndex {
  /** Methods by interface id, then ordinal (for dispatch). */
  readonly byId: ReadonlyMap<bigint, readonly (OwnedMethod | undefined)[]>;
  /** Methods by name, the most derived first (for proxies). */
  readonly byName: ReadonlyMap<string, OwnedMethod>;
}

const indexes = new WeakMap<InterfaceDescriptor, MethodIndex>();

/**
 * The method index of `iface`, built on first use.
 *
 * @example
 * ```ts
 * import { methodsOf } from "./methods.ts";
 * import { Foo } from "../../examples/schemas/gen/conformance.mp.ts";
 * if (methodsOf(Foo).byName.get("add")!.method.ordinal !== 1) throw new Error("add is @1");
 * ```
 */
export function methodsOf(iface: InterfaceDescriptor): MethodIndex {
  let index = indexes.get(iface);
  if (index !== undefined) return index;
  const byId = new Map<bigint, OwnedMethod[]>();
  const byName = new Map<string, OwnedMethod>();
  const walk = (owner: InterfaceDescriptor) => {
    if (byId.has(owner.id)) return;
    const methods: OwnedMethod[] = [];
    for (const method of owner.methods) {
      methods[method.ordinal] = { owner, method };
      if (!byName.has(method.name)) byName.set(method.name, { owner, method });
    }
    byId.set(owner.id, methods);
    for (const base of owner.superclasses) walk(base());
  };
  walk(iface);
  index = { byId, byName };
  indexes.set(iface, index);
  return index;
}
