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
  | { readonly kind: "struct"; readonly struct: () => StructDescriptor }
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
 * by name. Components add entries by declaration merging:
 *
 * ```ts ignore
 * declare module "@capdeno/runtime/component" {
 *   interface CustomTypes { Point: { x: number; y: number } }
 * }
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
 * @example
 * ```ts
 * import type { CallOptions } from "./descriptor.ts";
 * // An implementation that stops waiting when its caller gives up.
 * const wait = (ms: number, options?: CallOptions) =>
 *   new Promise<void>((resolve, reject) => {
 *     const signal = options?.signal;
 *     const stop = () => {
 *       clearTimeout(timer);
 *       reject(signal!.reason);
 *     };
 *     const timer = setTimeout(() => {
 *       signal?.removeEventListener("abort", stop);
 *       resolve();
 *     }, ms);
 *     signal?.addEventListener("abort", stop, { once: true });
 *   });
 * const controller = new AbortController();
 * const waiting = wait(60_000, { signal: controller.signal });
 * controller.abort(new Error("gave up"));
 * const outcome = await waiting.then(() => "waited", (error) => error.message);
 * if (outcome !== "gave up") throw new Error(outcome);
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
 * @example
 * ```ts
 * import type { NotInSchema } from "./descriptor.ts";
 * type Color = "red" | "green" | NotInSchema;
 * const label = (color: Color) => typeof color === "number" ? `unknown value ${color}` : color;
 * if (label(7 as NotInSchema) !== "unknown value 7") throw new Error("a number, named as such");
 * ```
 */
export type NotInSchema = number & { readonly "~notInSchema": true };
