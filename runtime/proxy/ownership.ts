/**
 * Who holds a capability, and the three explicit operations on it, for
 * proxies and local objects alike:
 *
 * - {@linkcode dup}: another reference to the same object, owned by the
 *   caller (a proxy: a new capability reference; a local object: one more
 *   count on it);
 * - {@linkcode release}: drops one reference; the object ends when its last
 *   reference is released (a proxy's server object is then disposed; a
 *   local object is disposed when its count runs out);
 * - {@linkcode destroy}: ends the object now, for every holder
 *   (libmultiprocess' `destroy`; a local object is disposed at once).
 *
 * The rules of a call: **parameters are lent** (the caller keeps its proxy
 * or local object; the callee may use what it receives until the call
 * returns, and keeps one for later with `dup()`); **results are handed
 * over** (the callee's reference goes to the caller, who releases it; a
 * callee keeping the object returns `dup(x)`). A local object written into
 * a call is served by one server per object and interface, which holds a
 * reference until its last capability goes: one of its own for a
 * parameter, the writer's for a result.
 *
 * Client proxies (`client.ts`) implement {@linkcode Handle}; anything else
 * is a local object, counted here.
 *
 * @example
 * ```ts
 * import { dup, release } from "./ownership.ts";
 * const disposed: string[] = [];
 * const object = { [Symbol.dispose]: () => void disposed.push("disposed") };
 * const kept = dup(object); // two holders
 * release(object);
 * if (disposed.join() !== "") throw new Error("disposed while a holder is left");
 * release(kept);
 * if (disposed.join() !== "disposed") throw new Error("not disposed with its last holder");
 * ```
 * @module
 */
import type { Capability } from "../rpc/capability.ts";

const HANDLE = Symbol("capdeno.proxy");

/** The ownership operations of a proxy, reached through {@linkcode handleOf}. */
export interface Handle {
  /** The capability this proxy holds. */
  readonly cap: Capability;
  /** A new proxy for the same object, owned by the caller. */
  dup(): unknown;
  /** Drops this proxy's reference (idempotent); settles when what it ends is done. */
  release(): void | Promise<void>;
  /** Ends the object for every holder, then releases this reference. */
  destroy(): Promise<void>;
  /** Marks the proxy as a parameter lent to a running call. */
  lend(): void;
  /** Throws what using the proxy now is (released, or lent to a call that returned), if anything. */
  check(): void;
}

/** Makes `target` a proxy answering to `handle`. */
export function attachHandle(target: object, handle: Handle): void {
  Object.defineProperty(target, HANDLE, { value: handle });
}

/** The handle of a proxy, or undefined for any other value. */
export function handleOf(value: unknown): Handle | undefined {
  return (value as { [HANDLE]?: Handle } | null | undefined)?.[HANDLE];
}

/**
 * The capability behind a proxy, or undefined for other values.
 *
 * @example A proxy's capability
 * ```ts
 * import { capabilityOf, dup, release } from "./ownership.ts";
 * import { connect, listen } from "../../component.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * import { fooInit } from "../../examples/foo/foo.ts";
 *
 * const datadir = await Deno.makeTempDir();
 * {
 *   const local = fooInit();
 *   await using _listener = listen(FooInit, "unix", local, { datadir, component: "foo" });
 *   await using init = await connect(FooInit, "unix", { datadir, component: "foo" });
 *   await using foo = (await init.makeFoo())!;
 *   const cap = capabilityOf(foo);
 *   if (cap === undefined || cap === capabilityOf(init)) throw new Error("its own capability");
 *   // A dup() holds a reference of its own, released on its own.
 *   const copy = dup(foo);
 *   const copied = capabilityOf(copy);
 *   if (copied === undefined || copied === cap) throw new Error("a capability of its own");
 *   release(copy);
 *   if (await foo.add(1, 2) !== 3) throw new Error("the original still calls");
 *   if (capabilityOf(local) !== undefined) throw new Error("a local object has no capability");
 * }
 * await Deno.remove(datadir, { recursive: true });
 * ```
 */
export function capabilityOf(value: unknown): Capability | undefined {
  return handleOf(value)?.cap;
}

/** References to local objects beyond the one their creator holds. */
const extraReferences = new WeakMap<object, number>();

function isObject(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/**
 * A new reference to what `value` refers to, owned by the caller, who
 * releases it independently of `value`. A method that keeps a parameter
 * beyond its call keeps a `dup()` of it; one that returns an object it
 * keeps returns a `dup()`. Other values (null, numbers) come back as they are.
 *
 * @example A local object is counted, not copied
 * ```ts
 * import { dup, release } from "./ownership.ts";
 * const disposed: string[] = [];
 * const object = { [Symbol.dispose]: () => void disposed.push("disposed") };
 * const kept = dup(object);
 * if (kept !== object) throw new Error("the same object");
 * release(object);
 * if (disposed.join() !== "") throw new Error("released while kept");
 * release(kept);
 * if (disposed.join() !== "disposed") throw new Error("not released with its last reference");
 * if (dup(null) !== null) throw new Error("null stays null");
 * ```
 */
export function dup<T>(value: T): T {
  const handle = handleOf(value);
  if (handle !== undefined) return handle.dup() as T;
  if (isObject(value)) extraReferences.set(value, (extraReferences.get(value) ?? 0) + 1);
  return value;
}

/**
 * Drops one reference to `value` (a proxy, or a local object that
 * {@linkcode dup} counted); the object ends with its last reference. Never
 * destroys an object other holders still hold. Null and plain values are
 * ignored. The promise (of an Init proxy) settles once the connection it
 * ends is closed.
 *
 * @example
 * ```ts
 * import { release } from "./ownership.ts";
 * let disposed = false;
 * release({ [Symbol.dispose]: () => disposed = true });
 * if (!disposed) throw new Error("its only reference was released");
 * release(null);
 * ```
 */
export function release(value: unknown): void | Promise<void> {
  const handle = handleOf(value);
  if (handle !== undefined) return handle.release();
  if (!isObject(value) || disposed.has(value)) return; // destroyed: nothing left to release
  const extra = extraReferences.get(value) ?? 0;
  if (extra > 1) extraReferences.set(value, extra - 1);
  else if (extra === 1) extraReferences.delete(value);
  else return dispose(value);
}

/**
 * Ends the object `value` refers to for every holder: a proxy calls its
 * interface's `destroy` method (when it has one; otherwise only its
 * reference is released) and then releases its reference; a local object
 * is disposed at once, whatever its count.
 *
 * @example
 * ```ts
 * import { destroy, dup } from "./ownership.ts";
 * let disposed = false;
 * const object = { [Symbol.dispose]: () => disposed = true };
 * dup(object);
 * await destroy(object);
 * if (!disposed) throw new Error("destroy ends the object for every holder");
 * ```
 */
export async function destroy(value: unknown): Promise<void> {
  const handle = handleOf(value);
  if (handle !== undefined) return await handle.destroy();
  if (!isObject(value) || disposed.has(value)) return;
  extraReferences.delete(value);
  // Ended for every holder even without a dispose method: servers of it refuse calls.
  disposed.add(value);
  await dispose(value);
}

/** Local objects this module disposed (their last reference went, or they were destroyed). */
const disposed = new WeakSet<object>();

/** Disposes a local object (`Symbol.dispose`, else `Symbol.asyncDispose`), if it is disposable. */
function dispose(value: object): void | Promise<void> {
  const disposable = value as Partial<Disposable & AsyncDisposable>;
  if (typeof disposable[Symbol.dispose] === "function") {
    disposed.add(value);
    return disposable[Symbol.dispose]!();
  }
  if (typeof disposable[Symbol.asyncDispose] === "function") {
    disposed.add(value);
    return Promise.resolve(disposable[Symbol.asyncDispose]!());
  }
}

/**
 * Whether local `value` was disposed here, its last reference released or
 * the object destroyed: a server still holding it answers that it was
 * destroyed, and serving it again is a bug of its holder (an object
 * returned without `dup()` after every result was released).
 */
export function wasDisposed(value: object): boolean {
  return disposed.has(value);
}

/**
 * Whether a reference to local `value` beyond its creator's is counted: a
 * writer handing over an object that a server already holds (by the
 * reference an earlier handover brought) must bring one of these, made with
 * {@linkcode dup}.
 */
export function hasSpareReference(value: object): boolean {
  return (extraReferences.get(value) ?? 0) > 0;
}
