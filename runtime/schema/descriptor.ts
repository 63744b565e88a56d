/**
 * The vocabulary of compiled schemas: what `deno task gen` writes into
 * `<output>/*.mp.ts` for every struct, enum and interface, and what the
 * runtime's proxy layer reads to encode values and dispatch calls.
 * Application code imports these types from `component.ts`.
 *
 * Descriptors are plain data. They say where each field lives on the wire
 * and how it maps to TypeScript under libmultiprocess' conventions; they
 * know nothing of connections.
 *
 * @example
 * ```ts
 * import type { InterfaceDescriptor } from "./descriptor.ts";
 * import { ThreadMap } from "./gen/mp/proxy.mp.ts";
 * const threads: InterfaceDescriptor<ThreadMap> = ThreadMap;
 * if (threads.methods[0].name !== "makeThread") throw new Error("makeThread is @0");
 * ```
 * @module
 */

/** Fixed-width values stored in a struct's data section. */
export type ScalarKind =
  | "bool"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "float32"
  | "float64";

/** How one schema type is encoded and which TypeScript value stands for it. */
export type TypeDescriptor =
  | { readonly kind: "void" }
  | { readonly kind: ScalarKind }
  | { readonly kind: "text" }
  | { readonly kind: "data" }
  | { readonly kind: "enum"; readonly name: string; readonly values: readonly string[] }
  | { readonly kind: "list"; readonly element: TypeDescriptor; readonly set?: true }
  /** `List(struct {key, value})` seen as a `Map`. */
  | { readonly kind: "map"; readonly entry: () => StructDescriptor }
  /**
   * A struct; `nullable` when it holds itself (through struct fields): left
   * out, it reads as null rather than as its defaults, which hold it again.
   */
  | { readonly kind: "struct"; readonly struct: () => StructDescriptor; readonly nullable?: true }
  /**
   * A group (`name :group { … }`, or a named union): fields of the enclosing
   * struct, at its offsets, seen as one object.
   */
  | { readonly kind: "group"; readonly group: StructDescriptor }
  | { readonly kind: "interface"; readonly iface: () => InterfaceDescriptor }
  /** A value converted by the codec registered under `name`, carried as `wire`. */
  | { readonly kind: "custom"; readonly name: string; readonly wire: TypeDescriptor };

/** One field of a struct (or of a method's params or results). */
export interface FieldDescriptor {
  /** The field's name as the TypeScript signature shows it. */
  readonly name: string;
  /** Its type and encoding. */
  readonly type: TypeDescriptor;
  /** Bit offset (Bool), byte offset (other scalars) or pointer index. */
  readonly offset: number;
  /** Schema default of a scalar or enum field (the wire stores value XOR default). */
  readonly default?: number | bigint | boolean;
  /** Bit offset of the `hasX` flag that says whether this field is set. */
  readonly presence?: number;
  /** Not seen by TypeScript: a `Context`, a `$count(0)`/`$skip` field, or a `hasX` flag. */
  readonly hidden?: true;
  /** A result field carrying an exception the server threw. */
  readonly exception?: true;
  /** A union member: the discriminant value that selects it. */
  readonly member?: number;
}

/** A struct's layout and fields. */
export interface StructDescriptor {
  /** Display name without the file prefix, e.g. `Foo.add$Params`. */
  readonly name: string;
  /** The struct's 64-bit type id. */
  readonly id: bigint;
  /** Size of its data section, in 64-bit words. */
  readonly dataWords: number;
  /** Size of its pointer section, in pointers. */
  readonly pointers: number;
  /** Its fields, in ordinal order. */
  readonly fields: readonly FieldDescriptor[];
  /**
   * Where its union's discriminant is, in 16-bit units, when it has one: its
   * members are the fields with a `member` value, and TypeScript tells them
   * apart by `which`, the name of the member set.
   */
  readonly discriminant?: number;
}

/** One method and how its fields map to a TypeScript signature. */
export interface MethodSignature {
  /** The method's name. */
  readonly name: string;
  /** Its ordinal: what a call names on the wire. */
  readonly ordinal: number;
  /** Its parameter struct. */
  readonly params: StructDescriptor;
  /** Its result struct. */
  readonly results: StructDescriptor;
  /** Name of the hidden `Context` param, if the method runs on a thread. */
  readonly context: string | null;
  /** libmultiprocess' special methods, handled by the runtime itself. */
  readonly special?: "construct" | "destroy";
  /** `void`: no visible results; `result`: only `result`; `object`: several fields. */
  readonly returns: "void" | "result" | "object";
}

/**
 * An interface: its own methods, its superclasses, and whether TypeScript
 * sees it as a plain function (a callback interface whose only method
 * besides `destroy` is `call`). `T` is the generated TypeScript interface.
 */
export interface InterfaceDescriptor<T = unknown> {
  /** Display name without the file prefix, e.g. `FooInit`. */
  readonly name: string;
  /** The interface's 64-bit type id: what a call names on the wire. */
  readonly id: bigint;
  /** Its own methods, by ordinal. */
  readonly methods: readonly MethodSignature[];
  /** The interfaces it extends (thunks, as schemas may refer ahead). */
  readonly superclasses: readonly (() => InterfaceDescriptor)[];
  /** Whether TypeScript sees it as a plain function. */
  readonly callback: boolean;
  /** Type-level only: ties the descriptor to its TypeScript interface. */
  readonly type?: T;
}

/**
 * The TypeScript types of custom-typed fields (`$Mapping.type("Name")`),
 * by name. Components add entries by declaration merging, at the top level
 * of a module, as `examples/foo/foo.ts` does for its `Point`:
 * `declare module "@capdeno/runtime/component" { interface CustomTypes { Point: Point } }`.
 *
 * @example A field typed `Point` by that declaration
 * ```ts
 * import type { CustomType } from "./descriptor.ts";
 * import type { Point } from "../../examples/foo/foo.ts";
 * const point: CustomType<"Point"> = { x: 1, y: 2 } satisfies Point;
 * // @ts-expect-error: a Point is not a string (which an undeclared name would accept)
 * const text: CustomType<"Point"> = "1,2";
 * // Only types change: values are what they are.
 * if (point.x + point.y !== 3 || (text as unknown) !== "1,2") throw new Error("as written");
 * ```
 */
// deno-lint-ignore no-empty-interface -- filled by declaration merging.
export interface CustomTypes {}

/** The TypeScript type registered for custom type `Name`, or `unknown`. */
export type CustomType<Name extends string> = Name extends keyof CustomTypes ? CustomTypes[Name]
  : unknown;

/**
 * A capability parameter, as generated signatures show it: **lent** to the
 * method for the duration of the call. The caller keeps its reference; the
 * method may use the value until it returns and keeps it for later only
 * through `dup()` (released when done). Assignable both ways with `T`.
 */
export type Lent<T> = T & { readonly "~lent"?: true };

/**
 * A capability result, as generated signatures show it: **owned** by the
 * caller, who releases it (`using`, `release()`) or ends it for every
 * holder (`destroy()`). A method returning an object it keeps returns
 * `dup()` of it. Assignable both ways with `T`.
 */
export type Owned<T> = T & { readonly "~owned"?: true };

/**
 * The last, optional argument of every generated method: how one call is
 * made. A caller passes `{ signal }` to give up on a call; an
 * implementation reads `signal` to learn that its caller gave up or
 * disconnected.
 *
 * @example A caller gives up on a call: it rejects with the reason at once, and the implementation's signal aborts
 * ```ts
 * import type { CallOptions } from "./descriptor.ts";
 * import { connect, IpcLog, listen } from "../../component.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * import { fooInit } from "../../examples/foo/foo.ts";
 *
 * const datadir = await Deno.makeTempDir();
 * {
 *   await using _listener = listen(FooInit, "unix", fooInit(), { datadir, component: "foo" });
 *   // (Silences the `IPC client exception` line every failed call writes.)
 *   const log = new IpcLog({ level: "off" });
 *   await using init = await connect(FooInit, "unix", { datadir, component: "foo", log });
 *   await using foo = (await init.makeFoo())!;
 *   const controller = new AbortController();
 *   const options: CallOptions = { signal: controller.signal };
 *   // Foo's wait(ms, value) stops waiting when its own options.signal aborts.
 *   const waiting = foo.wait(60_000, 1, options);
 *   controller.abort(new Error("gave up"));
 *   const outcome = await waiting.then(String, (error) => error.message);
 *   if (outcome !== "gave up") throw new Error(outcome);
 *   // The next call on the same strand runs at once: the server stopped the first.
 *   if (await foo.wait(0, 2) !== 2) throw new Error("the next call ran");
 *   const completed = await foo.waitLog();
 *   if (completed.join() !== "2") throw new Error(`completed: ${completed}`);
 * }
 * await Deno.remove(datadir, { recursive: true });
 * ```
 */
export interface CallOptions {
  /** Aborts when the caller gives up on the call (or, serving, when its caller does or disconnects). */
  readonly signal?: AbortSignal;
}

/** A value that may or may not be a promise yet. */
export type Awaitable<T> = T | Promise<T>;

/**
 * An enum value or union member (`which`) that this schema does not name:
 * a newer peer's, since Cap'n Proto lets a schema add them. It is read as
 * its number, and written back as that number (a union member so written
 * carries its default value: this side cannot know more of it). Generated
 * enum and union types include it, so that a `switch` handles it.
 *
 * @example A newer peer's value travels through this side unchanged
 * ```ts
 * import type { NotInSchema } from "./descriptor.ts";
 * import { connect, IpcLog, listen, TypeMappingError } from "../../component.ts";
 * import { type Color, FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * import { fooInit } from "../../examples/foo/foo.ts";
 *
 * const label = (color: Color) => typeof color === "number" ? `value ${color}` : color;
 * const datadir = await Deno.makeTempDir();
 * {
 *   await using _listener = listen(FooInit, "unix", fooInit(), { datadir, component: "foo" });
 *   const log = new IpcLog({ level: "off" });
 *   await using init = await connect(FooInit, "unix", { datadir, component: "foo", log });
 *   await using foo = (await init.makeFoo())!;
 *   const struct = (color: Color) =>
 *     ({ name: "", setint: new Set<number>(), vbool: [], texts: [], nested: [], color, blob: new Uint8Array() });
 *   // Foo's pass() returns its struct as it read it: blue @2 is the last Color it knows.
 *   const { color } = await foo.pass(struct(7 as NotInSchema));
 *   if (label(color) !== "value 7") throw new Error(label(color));
 *   // A number that names a value is refused: the name is how this side sends it.
 *   const named = await foo.pass(struct(2 as NotInSchema)).catch((error) => error);
 *   if (!(named instanceof TypeMappingError)) throw new Error(`sent: ${named}`);
 * }
 * await Deno.remove(datadir, { recursive: true });
 * ```
 */
export type NotInSchema = number & { readonly "~notInSchema": true };
