/**
 * Converts between TypeScript values and Cap'n Proto structs, driven by the
 * descriptors `deno task gen` writes (`runtime/schema/descriptor.ts`): the generic
 * half of the proxy layer, like libmultiprocess' `type-*.h` conversions.
 *
 * Each type kind has one entry in {@linkcode KINDS} holding its list
 * layout, its writer, its reader and its text form; a value lives either in
 * a field of a struct or in an element of a list, and every entry handles
 * both. Every write is checked: a value of the wrong type, an integer out
 * of range or a fraction where an integer belongs fails with a
 * {@linkcode TypeMappingError} naming the field; nothing is truncated. A
 * write that fails hands what it did not reach to the bridge's `abandon`
 * (a result's objects, handed over, are released).
 * Custom codecs ({@linkcode registerType}) add conversions for named types,
 * the equivalent of libmultiprocess' CustomBuildField / CustomReadField.
 *
 * @example
 * ```ts
 * import * as capnp from "capnp-es";
 * import { readStruct, structClass, writeStruct } from "./codec.ts";
 * import { FooStruct } from "../../examples/schemas/gen/conformance.mp.ts";
 * const context = {
 *   caps: { add: () => 0, get: () => null },
 *   bridge: { toCapability: () => { throw new Error() }, fromCapability: () => null },
 * };
 * const struct = new capnp.Message().initRoot(structClass(FooStruct));
 * writeStruct(FooStruct, { name: "a", color: "blue" }, struct, context, "FooStruct");
 * const back = readStruct(FooStruct, struct, context, "FooStruct");
 * if (back.name !== "a" || back.color !== "blue") throw new Error("round trip failed");
 * ```
 * @module
 */
import * as capnp from "capnp-es";
import type {
  FieldDescriptor,
  InterfaceDescriptor,
  ScalarKind,
  StructDescriptor,
  TypeDescriptor,
} from "../schema/descriptor.ts";
import type { Capability } from "../rpc/capability.ts";
import { messageBytes, newMessage, setData } from "../rpc/message.ts";
import { DEFAULT_READ_LIMITS, TRAVERSAL_ALLOWANCE_WORDS } from "../validate.ts";

/**
 * A value that does not fit the schema type it is written as. A call whose
 * arguments do not fit fails with it before anything is sent.
 *
 * @example Arguments that do not fit an `Int32`, named by method and parameter
 * ```ts
 * import { TypeMappingError } from "./codec.ts";
 * import { connect, listen } from "../process/process.ts";
 * import { IpcLog } from "../log.ts";
 * import { FooInit } from "../../examples/schemas/gen/conformance.mp.ts";
 * import { fooInit } from "../../examples/foo/foo.ts";
 * const datadir = await Deno.makeTempDir();
 * const log = new IpcLog({ level: "off" });
 * {
 *   await using _listener = listen(FooInit, "unix", fooInit(), { datadir, component: "foo", log });
 *   await using init = await connect(FooInit, "unix", { datadir, component: "foo", log });
 *   await using foo = (await init.makeFoo())!;
 *   const failures = [];
 *   for (const a of [2 ** 40, 1.5]) failures.push(await foo.add(a, 1).catch((error) => error));
 *   const [tooLarge, fraction] = failures;
 *   if (!(tooLarge instanceof TypeMappingError) || !(fraction instanceof TypeMappingError)) {
 *     throw new Error(`${failures}`);
 *   }
 *   if (tooLarge.message !== "Foo.add$Params.a: 1099511627776 is out of range for Int32") {
 *     throw new Error(tooLarge.message);
 *   }
 *   if (await foo.add(2, 1) !== 3) throw new Error("the connection goes on");
 * }
 * await Deno.remove(datadir, { recursive: true });
 * ```
 */
export class TypeMappingError extends TypeError {
  /** Always `"TypeMappingError"`. */
  override name = "TypeMappingError";
}

/** Turns interface values into capabilities and back; supplied by the proxy layer. */
export interface CapabilityBridge {
  /** A new reference standing for `value` (a proxy, an object or a function). */
  toCapability(value: unknown, iface: InterfaceDescriptor): Capability;
  /** The TypeScript value for `cap`, which stays owned by the caller. */
  fromCapability(cap: Capability, iface: InterfaceDescriptor): unknown;
  /**
   * Takes an interface value a failed write never reached, when the writer
   * hands its values over (a result's): the reference it brought is dropped.
   * Absent, the writer keeps its values (they were lent).
   */
  abandon?(value: unknown): void;
}

/** Where written capabilities go and read ones come from. */
export interface CapabilityTable {
  /** Adds a reference (taking it over) and returns its index. */
  add(cap: Capability): number;
  /** The capability at `index`, or null. */
  get(index: number): Capability | null;
}

/** State shared by one encode or decode: where capabilities go or come from. */
export interface CodecContext {
  /** Where capabilities are written to or read from. */
  readonly caps: CapabilityTable;
  /** How interface values become capabilities and back. */
  readonly bridge: CapabilityBridge;
}

/**
 * The table a message being written adds capabilities to through `addCap`
 * (which takes its own reference): the writer's reference is released.
 */
export function writingTable(addCap: (cap: Capability) => number): CapabilityTable {
  return {
    add(cap) {
      const index = addCap(cap);
      cap.dispose();
      return index;
    },
    get: () => null,
  };
}

/** The table of a received message's capabilities (read-only). */
export function readingTable(caps: readonly (Capability | null)[]): CapabilityTable {
  return {
    add(): number {
      throw new Error("a received message is read-only");
    },
    get: (index) => caps[index] ?? null,
  };
}

/** Converts a custom type to and from the value its wire type carries. */
export interface TypeCodec<T = unknown, Wire = unknown> {
  /** The wire value for `value` (written with the field's wire type). */
  encode(value: T): Wire;
  /** The value for what the wire carried (may throw on a malformed one). */
  decode(wire: Wire): T;
}

const customCodecs = new Map<string, TypeCodec>();

/**
 * Registers the codec of custom type `name` (fields annotated
 * `$Mapping.type("name")`), for this process. A second registration under
 * the same name fails.
 *
 * @example
 * ```ts
 * import { registerType } from "./codec.ts";
 * registerType<{ x: number }, Uint8Array>("Example", {
 *   encode: (p) => Uint8Array.of(p.x),
 *   decode: (bytes) => ({ x: bytes[0] }),
 * });
 * let again = false;
 * try {
 *   registerType("Example", { encode: (v) => v, decode: (v) => v });
 * } catch {
 *   again = true;
 * }
 * if (!again) throw new Error("a second registration must fail");
 * ```
 */
export function registerType<T, Wire>(name: string, codec: TypeCodec<T, Wire>): void {
  if (customCodecs.has(name)) throw new Error(`custom type "${name}" is already registered`);
  customCodecs.set(name, codec as TypeCodec);
}

function customCodec(name: string, where: string): TypeCodec {
  const codec = customCodecs.get(name);
  if (codec === undefined) {
    throw new TypeMappingError(`${where}: no codec registered for custom type "${name}"`);
  }
  return codec;
}

const structClasses = new WeakMap<StructDescriptor, capnp.StructCtor<capnp.Struct>>();

/**
 * The capnp-es struct class of a descriptor (made once).
 *
 * @example
 * ```ts
 * import { structClass } from "./codec.ts";
 * import { FooStruct } from "../../examples/schemas/gen/conformance.mp.ts";
 * if (structClass(FooStruct) !== structClass(FooStruct)) throw new Error("made twice");
 * ```
 */
export function structClass(struct: StructDescriptor): capnp.StructCtor<capnp.Struct> {
  let Class = structClasses.get(struct);
  if (Class === undefined) {
    Class = class extends capnp.Struct {
      static override readonly _capnp = {
        displayName: struct.name,
        id: struct.id.toString(16),
        size: new capnp.ObjectSize(struct.dataWords * 8, struct.pointers),
      };
    };
    structClasses.set(struct, Class);
  }
  return Class;
}

// ---- Where a value lives ----

/** A struct holding fields, or a list holding elements. */
type Holder = capnp.Struct | capnp.List<unknown>;
/** A field of a struct holder, or an index into a list holder. */
type Slot = FieldDescriptor | number;

/** How a list of some kind is laid out. */
interface ListLayout {
  readonly size: capnp.ListElementSize;
  readonly List: capnp.ListCtor<unknown>;
  /** The element struct of a composite list. */
  readonly struct?: StructDescriptor | undefined;
}

/** Everything one type kind does: list layout, write, read and text form. */
interface KindCodec<T extends TypeDescriptor> {
  /** The layout of a list whose elements are of this type. */
  layout(type: T): ListLayout;
  /** Writes `value` (checked) into `slot` of `holder`. */
  write(
    type: T,
    value: unknown,
    holder: Holder,
    slot: Slot,
    context: CodecContext,
    at: string,
  ): void;
  /** Reads the value in `slot` of `holder`. */
  read(type: T, holder: Holder, slot: Slot, context: CodecContext, at: string): unknown;
  /** Cap'n Proto text form of the value, or undefined for a null pointer. */
  format(type: T, holder: Holder, slot: Slot): string | undefined;
  /**
   * Hands each interface value in `value` to `context.bridge.abandon`: a
   * value a failed write never reached; of a list, map or struct, only its
   * parts after the one at index `after`. Absent for kinds that hold none.
   */
  abandon?(type: T, value: unknown, context: CodecContext, walk: Walk, after?: number): void;
}

/** One walk over values a failed write never reached. */
interface Walk {
  /** The lists, maps and structs walked: each once, though a value holds itself. */
  readonly seen: Set<object>;
  /** How deep the walk is: no deeper than a write goes. */
  depth: number;
}

/** Walks the parts of `value` by `visit`, unless it was walked already or lies too deep. */
function within(walk: Walk, value: object, visit: () => void): void {
  if (walk.seen.has(value) || walk.depth >= DEFAULT_READ_LIMITS.nestingLimit) return;
  walk.seen.add(value);
  walk.depth++;
  try {
    visit();
  } finally {
    walk.depth--;
  }
}

/**
 * After a write of `value` failed at part `after` (-1: before any), hands
 * the parts it never reached to the bridge, when it takes them.
 */
function abandonRest<T extends TypeDescriptor>(
  type: T,
  value: unknown,
  context: CodecContext,
  after: number,
): void {
  if (context.bridge.abandon === undefined) return;
  codecOf(type).abandon?.(type, value, context, { seen: new Set(), depth: 0 }, after);
}

type Kind = TypeDescriptor["kind"];
type CodecTable = { [K in Kind]: KindCodec<Extract<TypeDescriptor, { kind: K }>> };

/** The entry of `type`'s kind. */
function codecOf<T extends TypeDescriptor>(type: T): KindCodec<T> {
  return KINDS[type.kind] as unknown as KindCodec<T>;
}

const E = capnp.ListElementSize;
const POINTERS: ListLayout = {
  size: E.POINTER,
  List: capnp.AnyPointerList as capnp.ListCtor<unknown>,
};

/** The pointer at `slot` of `holder` (null past the pointers of an older peer's smaller struct). */
function pointerAt(holder: Holder, slot: Slot): capnp.Pointer {
  if (typeof slot === "number") return (holder as capnp.List<capnp.Pointer>).get(slot);
  const s = holder as capnp.Struct;
  // Checked here: capnp-es throws past the pointers, and formats a message to do so.
  if (slot.offset >= capnp.utils.getSize(s).pointerLength) return NULL_POINTER;
  return capnp.utils.getPointer(slot.offset, s);
}

/**
 * Any struct, of the size a pointer or a composite list's tag gives it; as
 * a root of its own, one null pointer.
 */
class AnyStruct extends capnp.Struct {
  static override readonly _capnp = {
    displayName: "AnyStruct",
    id: "0",
    size: new capnp.ObjectSize(0, 1),
  };
}
const AnyStructList = capnp.CompositeList(AnyStruct);

/** A null pointer, read in place of the pointers a smaller struct lacks. */
const NULL_POINTER = capnp.utils.getPointer(0, newMessage().initRoot(AnyStruct));

/** Allocates a list of `length` elements laid out as `layout` at pointer `p`. */
function initListAt(p: capnp.Pointer, layout: ListLayout, length: number): capnp.List<unknown> {
  const { size, List, struct } = layout;
  capnp.utils.erase(p);
  if (size === E.VOID) {
    capnp.utils.setListPointer(0, size, length, p);
    return new List(p.segment, p.byteOffset);
  }
  let composite: capnp.ObjectSize | undefined;
  let content: capnp.Pointer;
  if (struct !== undefined) {
    composite = new capnp.ObjectSize(struct.dataWords * 8, struct.pointers);
    content = p.segment.allocate((struct.dataWords + struct.pointers) * 8 * length + 8);
    capnp.utils.setStructPointer(length, composite, content);
  } else if (size === E.BIT) {
    content = p.segment.allocate(Math.ceil(length / 8));
  } else {
    content = p.segment.allocate(length * capnp.utils.getListElementByteLength(size));
  }
  const at = capnp.utils.initPointer(content.segment, content.byteOffset, p);
  capnp.utils.setListPointer(at.offsetWords, size, length, at.pointer, composite);
  return new List(p.segment, p.byteOffset);
}

/** What is left of each message's budget of elements of no size (see {@linkcode chargeEmptyElements}). */
type EmptyElementBudgets = WeakMap<capnp.Message, number>;
const readBudgets: EmptyElementBudgets = new WeakMap();
const formatBudgets: EmptyElementBudgets = new WeakMap();

/**
 * Counts `length` elements of no size (Voids, empty structs) against what
 * `message` may make here: validation counts them against
 * `traversalLimitWords` alone, as C++ does, since C++ never builds anything
 * per element; here each becomes a value, so a message may make no more of
 * them than `traversalPerMessageWord` words per word it holds allow.
 * Reading and formatting a message count apart.
 */
function chargeEmptyElements(
  message: capnp.Message,
  length: number,
  at: string,
  budgets: EmptyElementBudgets,
): void {
  let left = budgets.get(message);
  if (left === undefined) {
    // Its own bytes: read in place, its segment starts where earlier messages in the buffer end.
    const words = messageBytes(message) / 8;
    left = words * DEFAULT_READ_LIMITS.traversalPerMessageWord + TRAVERSAL_ALLOWANCE_WORDS;
  }
  if (length > left) {
    throw new TypeMappingError(
      `${at}: ${length} elements of no size on the wire, more than this message may still make ` +
        `(${left}, for traversalPerMessageWord)`,
    );
  }
  budgets.set(message, left - length);
}

/** A list's elements on the wire, each read as the schema's element type. */
interface ListElements {
  readonly length: number;
  read(i: number, context: CodecContext, at: string): unknown;
  /** Element `i`'s text form, or undefined for a null pointer. */
  format(i: number): string | undefined;
}

/**
 * The elements of the list at pointer `p`, read as `type`. Cap'n Proto lets
 * a schema upgrade `List(T)` to a list of structs whose `@0` field is a `T`
 * (Bool excepted), so either side may find the other's layout: a struct
 * list read as `List(T)` gives each struct's first field, a `List(T)` read
 * as structs gives structs holding the value in their first field and
 * defaults elsewhere, as C++ reads them.
 *
 * @throws {TypeMappingError} for any other change of element type, which
 * read as this side's layout would misread every element without a word.
 */
function elementsAt(
  p: capnp.Pointer,
  type: TypeDescriptor,
  at: string,
  budgets: EmptyElementBudgets,
): ListElements {
  const codec = codecOf(type);
  const layout = codec.layout(type);
  const size = capnp.utils.getTargetListElementSize(p);
  const length = capnp.utils.getTargetListLength(p);
  const composite = size === E.COMPOSITE ? capnp.utils.getTargetCompositeListSize(p) : undefined;
  if (
    size === E.VOID ||
    composite !== undefined && composite.dataByteLength === 0 && composite.pointerLength === 0
  ) chargeEmptyElements(p.segment.message, length, at, budgets);
  /** Element `i` read as `type` from `slot(i)` of `holderOf(i)`. */
  const elements = (holderOf: (i: number) => Holder, slot: (i: number) => Slot) => ({
    length,
    read: (i: number, context: CodecContext, at: string) =>
      codec.read(type, holderOf(i), slot(i), context, at),
    format: (i: number) => codec.format(type, holderOf(i), slot(i)),
  });
  if (size === layout.size || length === 0) {
    const list = new layout.List(p.segment, p.byteOffset);
    return elements(() => list, (i) => i);
  }
  if (composite !== undefined && layout.size !== E.BIT) {
    // A newer schema's structs, of which this side knows the first field.
    const { dataByteLength, pointerLength } = composite;
    const holds = layout.size === E.VOID ||
      (layout.size === E.POINTER ? pointerLength > 0 : dataByteLength > 0);
    if (holds) {
      const list = new AnyStructList(p.segment, p.byteOffset);
      const field0: FieldDescriptor = { name: "@0", type, offset: 0 };
      return elements((i) => list.get(i), () => field0);
    }
  }
  if (type.kind === "struct" && size !== E.BIT) {
    // An older schema's values, which this side's structs hold in their @0 field, or Voids,
    // which they hold nothing of.
    const struct = type.struct();
    const field = valueField(struct);
    const fieldLayout = field && codecOf(field.type).layout(field.type);
    if (size === E.VOID || fieldLayout?.size === size) {
      // Each becomes a struct: no more of them than a list of structs may hold (each of its
      // elements costs a word of the read budget), however small the values.
      if (length > DEFAULT_READ_LIMITS.traversalLimitWords) {
        throw new TypeMappingError(
          `${at}: ${length} values to read as structs, more than a list of structs may hold`,
        );
      }
      const values = size === E.VOID ? undefined : new fieldLayout!.List(p.segment, p.byteOffset);
      const Class = structClass(struct);
      const empty = emptyStruct(Class);
      // A view of its own: a struct of this type read from a null pointer inside it is not one.
      const source = new Class(empty.segment, empty.byteOffset);
      const element = <T>(index: number, read: () => T): T =>
        values === undefined
          ? read()
          : readingValue({ source, field: field!, values, index }, read);
      return {
        length,
        read: (i, context, at) => element(i, () => readStruct(struct, source, context, at)),
        format: (i) => element(i, () => formatStruct(struct, source)),
      };
    }
  }
  throw new TypeMappingError(
    `${at}: a list of ${ELEMENT_NAMES[size]} where a list of ${
      ELEMENT_NAMES[layout.size]
    } belongs (a peer's schema changed the list's element type)`,
  );
}

/**
 * The field of `struct` that an older schema's value stands for, when its
 * list was upgraded to a list of these: its `@0` field, also first in a
 * group first in it, or as the union member old data selects (member 0),
 * as C++ reads it; none when that field has a default (the value would be
 * XORed with it).
 */
function valueField(struct: StructDescriptor): FieldDescriptor | undefined {
  const [first] = struct.fields;
  if (first === undefined || (first.member ?? 0) !== 0) return undefined;
  if (first.type.kind === "group") return valueField(first.type.group);
  return first.default === undefined ? first : undefined;
}

/** Element `index` of an older schema's `values`, read as field `field` of struct `source`. */
interface ListedValue {
  readonly source: capnp.Struct;
  readonly field: FieldDescriptor;
  readonly values: capnp.List<unknown>;
  readonly index: number;
}

/** The value {@linkcode readField} and {@linkcode formatStruct} are reading, if any. */
let listedValue: ListedValue | undefined;

/** Runs `read` (synchronous) with `value` standing in for its field. */
function readingValue<T>(value: ListedValue, read: () => T): T {
  const outer = listedValue;
  listedValue = value;
  try {
    return read();
  } finally {
    listedValue = outer;
  }
}

/** Where `field` of `source` is read from: the listed value standing for it, or itself. */
function placeOf(field: FieldDescriptor, source: capnp.Struct): [Holder, Slot] {
  const listed = listedValue;
  return listed !== undefined && listed.field === field && listed.source === source
    ? [listed.values, listed.index]
    : [source, field];
}

/** What a list's elements are on the wire, by their size. */
const ELEMENT_NAMES: Record<capnp.ListElementSize, string> = {
  [E.VOID]: "Voids",
  [E.BIT]: "Bools",
  [E.BYTE]: "1-byte values",
  [E.BYTE_2]: "2-byte values",
  [E.BYTE_4]: "4-byte values",
  [E.BYTE_8]: "8-byte values",
  [E.POINTER]: "pointers",
  [E.COMPOSITE]: "structs",
};

// ---- Scalars and enums (data section) ----

type Getter = (offset: number, s: capnp.Struct, mask?: DataView) => unknown;
type Setter = (offset: number, value: never, s: capnp.Struct, mask?: DataView) => void;
type Masker = (value: never, bitOffset: number) => DataView;

/** Per scalar kind: struct accessors, default mask, list layout and range check. */
const SCALARS: Record<
  ScalarKind,
  {
    get: Getter;
    set: Setter;
    mask: Masker;
    size: capnp.ListElementSize;
    List: capnp.ListCtor<unknown>;
    range?: [min: number | bigint, max: number | bigint, name: string] | undefined;
  }
> = {
  bool: {
    get: capnp.utils.getBit,
    set: capnp.utils.setBit,
    mask: (value, bit) => capnp.getBitMask(value as boolean, bit % 8),
    size: E.BIT,
    List: capnp.BoolList,
  },
  int8: {
    get: capnp.utils.getInt8,
    set: capnp.utils.setInt8,
    mask: capnp.getInt8Mask,
    size: E.BYTE,
    List: capnp.Int8List,
    range: [-0x80, 0x7f, "Int8"],
  },
  int16: {
    get: capnp.utils.getInt16,
    set: capnp.utils.setInt16,
    mask: capnp.getInt16Mask,
    size: E.BYTE_2,
    List: capnp.Int16List,
    range: [-0x8000, 0x7fff, "Int16"],
  },
  int32: {
    get: capnp.utils.getInt32,
    set: capnp.utils.setInt32,
    mask: capnp.getInt32Mask,
    size: E.BYTE_4,
    List: capnp.Int32List,
    range: [-0x80000000, 0x7fffffff, "Int32"],
  },
  int64: {
    get: capnp.utils.getInt64,
    set: capnp.utils.setInt64,
    mask: capnp.getInt64Mask,
    size: E.BYTE_8,
    List: capnp.Int64List,
    range: [-(2n ** 63n), 2n ** 63n - 1n, "Int64"],
  },
  uint8: {
    get: capnp.utils.getUint8,
    set: capnp.utils.setUint8,
    mask: capnp.getUint8Mask,
    size: E.BYTE,
    List: capnp.Uint8List,
    range: [0, 0xff, "UInt8"],
  },
  uint16: {
    get: capnp.utils.getUint16,
    set: capnp.utils.setUint16,
    mask: capnp.getUint16Mask,
    size: E.BYTE_2,
    List: capnp.Uint16List,
    range: [0, 0xffff, "UInt16"],
  },
  uint32: {
    get: capnp.utils.getUint32,
    set: capnp.utils.setUint32,
    mask: capnp.getUint32Mask,
    size: E.BYTE_4,
    List: capnp.Uint32List,
    range: [0, 0xffffffff, "UInt32"],
  },
  uint64: {
    get: capnp.utils.getUint64,
    set: capnp.utils.setUint64,
    mask: capnp.getUint64Mask,
    size: E.BYTE_8,
    List: capnp.Uint64List,
    range: [0n, 2n ** 64n - 1n, "UInt64"],
  },
  float32: {
    get: capnp.utils.getFloat32,
    set: capnp.utils.setFloat32,
    mask: capnp.getFloat32Mask,
    size: E.BYTE_4,
    List: capnp.Float32List,
  },
  float64: {
    get: capnp.utils.getFloat64,
    set: capnp.utils.setFloat64,
    mask: capnp.getFloat64Mask,
    size: E.BYTE_8,
    List: capnp.Float64List,
  },
};

const masks = new WeakMap<FieldDescriptor, DataView>();

/** XOR mask of a field with a schema default (enums are stored as UInt16). */
function maskOf(field: FieldDescriptor, kind: ScalarKind): DataView | undefined {
  if (field.default === undefined) return undefined;
  let mask = masks.get(field);
  if (mask === undefined) {
    mask = SCALARS[kind].mask(field.default as never, field.offset);
    masks.set(field, mask);
  }
  return mask;
}

/** The value at `slot`: what is stored, XORed with the field's default. */
function getScalar(kind: ScalarKind, holder: Holder, slot: Slot): unknown {
  if (typeof slot === "number") return (holder as capnp.List<unknown>).get(slot);
  if (slot.default === undefined) return storedAt(kind, slot.offset, holder as capnp.Struct);
  // A float's default is XORed into its bits: read them as such, not as a float.
  const bits = kind === "float32" ? "uint32" : kind === "float64" ? "uint64" : kind;
  return unmask(kind, storedAt(bits, slot.offset, holder as capnp.Struct), slot.default);
}

/**
 * The bits stored at `offset` of `s` as a `kind`, with no default applied;
 * zero past the data of an older peer's smaller struct.
 */
function storedAt(kind: ScalarKind, offset: number, s: capnp.Struct): number | bigint | boolean {
  // Checked here: capnp-es throws past the data, and formats a message to do so (tens of µs).
  const bytes = kind === "bool" ? 1 : capnp.utils.getListElementByteLength(SCALARS[kind].size);
  const start = kind === "bool" ? Math.floor(offset / 8) : offset;
  if (start + bytes > capnp.utils.getSize(s).dataByteLength) {
    return kind === "bool" ? false : kind === "int64" || kind === "uint64" ? 0n : 0;
  }
  return SCALARS[kind].get(offset, s) as number | bigint | boolean;
}

const scratch = new DataView(new ArrayBuffer(8));

/**
 * The value `stored` (a float's bits) stands for in a field whose schema
 * default is `fallback` (the wire keeps value XOR default), computed here:
 * capnp-es's own masks mistake 32-bit ones.
 */
function unmask(
  kind: ScalarKind,
  stored: number | bigint | boolean,
  fallback: number | bigint | boolean,
): unknown {
  switch (kind) {
    case "bool":
      return stored !== fallback;
    case "int64":
      return BigInt.asIntN(64, (stored as bigint) ^ BigInt(fallback as bigint));
    case "uint64":
      return BigInt.asUintN(64, (stored as bigint) ^ BigInt(fallback as bigint));
    case "uint32":
      return ((stored as number) ^ (fallback as number)) >>> 0;
    case "float32":
      scratch.setFloat32(0, fallback as number);
      scratch.setUint32(0, (stored as number) ^ scratch.getUint32(0));
      return scratch.getFloat32(0);
    case "float64":
      scratch.setFloat64(0, fallback as number);
      scratch.setBigUint64(0, (stored as bigint) ^ scratch.getBigUint64(0));
      return scratch.getFloat64(0);
    default:
      // Both sign-extended (or both small): their XOR is too.
      return (stored as number) ^ (fallback as number);
  }
}

function setScalar(kind: ScalarKind, value: unknown, holder: Holder, slot: Slot): void {
  if (typeof slot === "number") (holder as capnp.List<unknown>).set(slot, value);
  else SCALARS[kind].set(slot.offset, value as never, holder as capnp.Struct, maskOf(slot, kind));
}

function checkScalar(kind: ScalarKind, value: unknown, at: string): unknown {
  if (kind === "bool") {
    if (typeof value !== "boolean") throw mismatch(at, "Bool", value);
    return value;
  }
  const range = SCALARS[kind].range;
  if (range === undefined) {
    if (typeof value !== "number") {
      throw mismatch(at, kind === "float32" ? "Float32" : "Float64", value);
    }
    // Rounding to Float32 is the type's; turning a finite number into Infinity is not.
    if (kind === "float32" && Number.isFinite(value) && !Number.isFinite(Math.fround(value))) {
      throw new TypeMappingError(`${at}: ${value} is out of range for Float32`);
    }
    return value;
  }
  const [min, max, name] = range;
  if (typeof min === "bigint") {
    if (typeof value !== "bigint") throw mismatch(at, `${name} (a bigint)`, value);
  } else if (typeof value !== "number" || !Number.isInteger(value)) {
    throw mismatch(at, `${name} (an integer)`, value);
  }
  if ((value as number) < min || (value as number) > max) {
    throw new TypeMappingError(`${at}: ${value} is out of range for ${name}`);
  }
  return value;
}

function scalarCodec(kind: ScalarKind): KindCodec<{ kind: ScalarKind }> {
  const layout = { size: SCALARS[kind].size, List: SCALARS[kind].List };
  return {
    layout: () => layout,
    write: (_type, value, holder, slot, _context, at) =>
      setScalar(kind, checkScalar(kind, value, at), holder, slot),
    read: (_type, holder, slot) => getScalar(kind, holder, slot),
    format: (_type, holder, slot) => String(getScalar(kind, holder, slot)),
  };
}

type EnumType = Extract<TypeDescriptor, { kind: "enum" }>;

const enumCodec: KindCodec<EnumType> = {
  layout: () => ({ size: E.BYTE_2, List: capnp.Uint16List }),
  write(type, value, holder, slot, _context, at) {
    const index = typeof value === "string"
      ? type.values.indexOf(value)
      : notInSchema(value, (n) => n < type.values.length);
    if (index < 0) {
      throw new TypeMappingError(
        `${at}: ${describe(value)} is not a ${type.name} (one of ${type.values.join(", ")}, ` +
          "or the number of a value not in this schema)",
      );
    }
    setScalar("uint16", index, holder, slot);
  },
  read(type, holder, slot) {
    const index = getScalar("uint16", holder, slot) as number;
    // A newer peer's value: its number (NotInSchema).
    return type.values[index] ?? index;
  },
  format(type, holder, slot) {
    const index = getScalar("uint16", holder, slot) as number;
    // As C++ prints a value its schema does not name.
    return type.values[index] ?? `(${index})`;
  },
};

// ---- Pointers ----

/** Text and Data: one blob behind a pointer. */
function blobCodec(
  kind: "text" | "data",
): KindCodec<{ kind: "text" } | { kind: "data" }> {
  const text = kind === "text";
  return {
    layout: () => POINTERS,
    write(_type, value, holder, slot, _context, at) {
      const p = pointerAt(holder, slot);
      if (text) {
        if (typeof value !== "string") throw mismatch(at, "Text (a string)", value);
        if (!value.isWellFormed()) {
          throw new TypeMappingError(`${at}: a lone surrogate cannot be written as UTF-8 Text`);
        }
        capnp.Text.fromPointer(p).set(0, value);
        return;
      }
      if (!(value instanceof Uint8Array)) throw mismatch(at, "Data (a Uint8Array)", value);
      setData(p, value);
    },
    read(_type, holder, slot) {
      const p = pointerAt(holder, slot);
      if (text) return capnp.utils.isNull(p) ? "" : capnp.Text.fromPointer(p).get(0);
      return capnp.utils.isNull(p)
        ? new Uint8Array(0)
        : capnp.Data.fromPointer(p).toUint8Array().slice();
    },
    format(_type, holder, slot) {
      const p = pointerAt(holder, slot);
      if (capnp.utils.isNull(p)) return undefined;
      let out = "";
      if (text) {
        // UTF-8 beyond ASCII is printed as it is, as C++ prints it.
        const value = capnp.Text.fromPointer(p).get(0);
        for (let i = 0; i < value.length; i++) out += escaped(value.charCodeAt(i), false);
      } else {
        for (const b of capnp.Data.fromPointer(p).toUint8Array()) out += escaped(b, true);
      }
      return `"${out}"`;
    },
  };
}

/** The characters C++ prints with an escape of their own in quoted Text and Data. */
const NAMED_ESCAPES: Record<number, string> = {
  0x07: "\\a",
  0x08: "\\b",
  0x09: "\\t",
  0x0a: "\\n",
  0x0b: "\\v",
  0x0c: "\\f",
  0x0d: "\\r",
  0x22: '\\"',
  0x27: "\\'",
  0x5c: "\\\\",
};

/** `code` as C++ prints it quoted: named, in octal (a control, or past ASCII in Data), or as is. */
function escaped(code: number, data: boolean): string {
  const octal = code < 0x20 || code === 0x7f || (data && code > 0x7f);
  return NAMED_ESCAPES[code] ??
    (octal ? `\\${code.toString(8).padStart(3, "0")}` : String.fromCharCode(code));
}

type ListType = Extract<TypeDescriptor, { kind: "list" }>;

const listCodec: KindCodec<ListType> = {
  layout: () => POINTERS,
  write(type, value, holder, slot, context, at) {
    const items = iterableItems(value, at, type.set ? "Set or iterable" : "array or iterable");
    const element = codecOf(type.element);
    let i = -1; // the item being written: those after it were never reached
    try {
      enterLevel(at);
      try {
        const layout = element.layout(type.element);
        const list = initListAt(pointerAt(holder, slot), layout, items.length);
        for (i = 0; i < items.length; i++) {
          element.write(type.element, items[i], list, i, context, `${at}[${i}]`);
        }
      } finally {
        writingLevels--;
      }
    } catch (error) {
      abandonRest(type, items, context, i);
      throw error;
    }
  },
  read(type, holder, slot, context, at) {
    const p = pointerAt(holder, slot);
    const items: unknown[] = [];
    if (!capnp.utils.isNull(p)) {
      const elements = elementsAt(p, type.element, at, readBudgets);
      for (let i = 0; i < elements.length; i++) {
        items.push(elements.read(i, context, `${at}[${i}]`));
      }
    }
    return type.set ? new Set(items) : items;
  },
  format(type, holder, slot) {
    const p = pointerAt(holder, slot);
    if (capnp.utils.isNull(p)) return undefined;
    let elements: ListElements;
    try {
      elements = elementsAt(p, type.element, "list", formatBudgets);
    } catch (error) {
      return `<${(error as Error).message}>`;
    }
    const items: string[] = [];
    for (let i = 0; i < elements.length; i++) {
      items.push(elements.format(i) ?? nullText(type.element));
    }
    return `[${items.join(", ")}]`;
  },
  abandon(type, value, context, walk, after = -1) {
    const element = codecOf(type.element);
    if (element.abandon === undefined || !isIterable(value)) return;
    within(walk, value, () => {
      for (const item of [...value].slice(after + 1)) {
        element.abandon!(type.element, item, context, walk);
      }
    });
  },
};

/** A null pointer of `type`, printed as C++ prints it: as the type's default value. */
function nullText(type: TypeDescriptor): string {
  const wire = type.kind === "custom" ? type.wire : type;
  switch (wire.kind) {
    case "text":
    case "data":
      return '""';
    case "list":
    case "map":
      return "[]";
    case "struct": {
      const struct = wire.struct();
      return formatStruct(struct, emptyStruct(structClass(struct)));
    }
    default:
      return "null";
  }
}

type MapType = Extract<TypeDescriptor, { kind: "map" }>;

/** A map on the wire: the list of its entries. */
function entriesType(type: MapType): ListType {
  return { kind: "list", element: { kind: "struct", struct: type.entry } };
}

/** A map entry's key and value fields. */
function entryFields(type: MapType): [FieldDescriptor, FieldDescriptor] {
  const [key, item] = type.entry().fields;
  return [key!, item!];
}

const mapCodec: KindCodec<MapType> = {
  layout: () => POINTERS,
  write(type, value, holder, slot, context, at) {
    if (!(value instanceof Map)) throw mismatch(at, "Map", value);
    const [key, item] = entryFields(type);
    // Keys and items in turn (entry n's key is 2n): those after the one being
    // written were never reached.
    let part = -1;
    try {
      enterLevel(at);
      try {
        const layout = compositeLayout(type.entry());
        const list = initListAt(pointerAt(holder, slot), layout, value.size);
        let i = 0;
        for (const [k, v] of value) {
          const entry = list.get(i) as capnp.Struct;
          part = 2 * i;
          writeField(key, k, entry, context, `${at}[key]`);
          part++;
          writeField(item, v, entry, context, `${at}[${String(k)}]`);
          i++;
        }
      } finally {
        writingLevels--;
      }
    } catch (error) {
      abandonRest(type, value, context, part);
      throw error;
    }
  },
  read(type, holder, slot, context, at) {
    const [key, item] = entryFields(type);
    const entries = listCodec.read(entriesType(type), holder, slot, context, at);
    return new Map(
      (entries as Record<string, unknown>[]).map((entry) => [entry[key.name], entry[item.name]]),
    );
  },
  format: (type, holder, slot) => listCodec.format(entriesType(type), holder, slot),
  abandon(type, value, context, walk, after = -1) {
    if (!(value instanceof Map)) return;
    const [key, item] = entryFields(type);
    within(walk, value, () => {
      const parts = [...value].flatMap(([k, v]) => [[key, k], [item, v]] as const);
      for (const [field, v] of parts.slice(after + 1)) abandonField(field, v, context, walk);
    });
  },
};

type StructType = Extract<TypeDescriptor, { kind: "struct" }>;

/**
 * Levels of structs and lists being written, as a reader counts them. A
 * value nesting past a reader's default limit could never be read, and one
 * that holds itself would only end when the stack does.
 */
let writingLevels = 0;

/** Enters one more level written at `at`; the caller leaves it with `writingLevels--`. */
function enterLevel(at: string): void {
  const limit = DEFAULT_READ_LIMITS.nestingLimit;
  if (writingLevels >= limit) {
    // The path repeats a field per level: its middle says nothing.
    const path = at.length > 120 ? `${at.slice(0, 60)}…${at.slice(-40)}` : at;
    throw new TypeMappingError(
      `${path}: nests deeper than ${limit} levels of structs and lists, ` +
        "more than a Cap'n Proto reader accepts (does the value hold itself?)",
    );
  }
  writingLevels++;
}

const emptyStructs = new WeakMap<capnp.StructCtor<capnp.Struct>, capnp.Struct>();

/**
 * A zeroed instance of `Class`, to read a null struct pointer's defaults
 * from, for as long as the process runs: its message reads without
 * capnp-es's per-message budget, which every read of it would spend.
 */
function emptyStruct(Class: capnp.StructCtor<capnp.Struct>): capnp.Struct {
  let empty = emptyStructs.get(Class);
  if (empty === undefined) {
    empty = newMessage().initRoot(Class);
    emptyStructs.set(Class, empty);
  }
  return empty;
}

/**
 * The struct at `slot`: a composite list's element in place, or the target
 * of a struct pointer (null when the pointer is).
 */
function structAt(type: StructType, holder: Holder, slot: Slot): capnp.Struct | null {
  if (typeof slot === "number") return (holder as capnp.List<capnp.Struct>).get(slot);
  const p = pointerAt(holder, slot);
  if (capnp.utils.isNull(p)) return null;
  return new (structClass(type.struct()))(p.segment, p.byteOffset);
}

const compositeLayouts = new WeakMap<StructDescriptor, ListLayout>();

/** The layout of a list of `struct`s (made once). */
function compositeLayout(struct: StructDescriptor): ListLayout {
  let layout = compositeLayouts.get(struct);
  if (layout === undefined) {
    const List = capnp.CompositeList(structClass(struct)) as capnp.ListCtor<unknown>;
    layout = { size: E.COMPOSITE, List, struct };
    compositeLayouts.set(struct, layout);
  }
  return layout;
}

const structCodec: KindCodec<StructType> = {
  layout: (type) => compositeLayout(type.struct()),
  write(type, value, holder, slot, context, at) {
    if (value === null && type.nullable && typeof slot !== "number") return;
    if (value === null || typeof value !== "object") throw mismatch(at, "object", value);
    const struct = type.struct();
    if (typeof slot === "number") {
      // In its list's own level.
      const target = (holder as capnp.List<capnp.Struct>).get(slot);
      return writeStruct(struct, value as Record<string, unknown>, target, context, at);
    }
    try {
      enterLevel(at);
    } catch (error) {
      abandonRest(type, value, context, -1);
      throw error;
    }
    try {
      const p = pointerAt(holder, slot);
      const Class = structClass(struct);
      const target = new Class(p.segment, p.byteOffset);
      capnp.utils.initStruct(Class._capnp.size, target);
      writeStruct(struct, value as Record<string, unknown>, target, context, at);
    } finally {
      writingLevels--;
    }
  },
  read(type, holder, slot, context, at) {
    const struct = type.struct();
    const source = structAt(type, holder, slot);
    if (source === null && type.nullable) return null;
    return readStruct(struct, source ?? emptyStruct(structClass(struct)), context, at);
  },
  format(type, holder, slot) {
    const source = structAt(type, holder, slot);
    return source === null ? undefined : formatStruct(type.struct(), source);
  },
  abandon: (type, value, context, walk, after) =>
    abandonStruct(type.struct(), value, context, walk, after),
};

type GroupType = Extract<TypeDescriptor, { kind: "group" }>;

/** A group's fields are the enclosing struct's: read and written in place. */
const groupCodec: KindCodec<GroupType> = {
  layout(type) {
    throw new TypeMappingError(`${type.group.name}: a group is never a list element`);
  },
  write(type, value, holder, _slot, context, at) {
    if (value === null || typeof value !== "object") throw mismatch(at, "object", value);
    writeStruct(type.group, value as Record<string, unknown>, holder as capnp.Struct, context, at);
  },
  read: (type, holder, _slot, context, at) =>
    readStruct(type.group, holder as capnp.Struct, context, at),
  format: (type, holder) => formatStruct(type.group, holder as capnp.Struct),
  abandon: (type, value, context, walk, after) =>
    abandonStruct(type.group, value, context, walk, after),
};

type InterfaceType = Extract<TypeDescriptor, { kind: "interface" }>;

const interfaceCodec: KindCodec<InterfaceType> = {
  layout: () => POINTERS,
  write(type, value, holder, slot, context) {
    if (value === null) return;
    const cap = context.bridge.toCapability(value, type.iface());
    capnp.utils.setInterfacePointer(context.caps.add(cap), pointerAt(holder, slot));
  },
  read(type, holder, slot, context) {
    const p = pointerAt(holder, slot);
    if (capnp.utils.isNull(p)) return null;
    const cap = context.caps.get(capnp.utils.getCapabilityId(p));
    return cap === null ? null : context.bridge.fromCapability(cap, type.iface());
  },
  format: (_type, holder, slot) =>
    capnp.utils.isNull(pointerAt(holder, slot)) ? undefined : "<external capability>",
  abandon(_type, value, context) {
    if (value !== null) context.bridge.abandon!(value);
  },
};

type CustomType = Extract<TypeDescriptor, { kind: "custom" }>;

const customCodecEntry: KindCodec<CustomType> = {
  layout: (type) => codecOf(type.wire).layout(type.wire),
  write(type, value, holder, slot, context, at) {
    // encode() may write a message of its own: its levels count from its root.
    const outer = writingLevels;
    writingLevels = 0;
    let wire: unknown;
    try {
      wire = customCodec(type.name, at).encode(value);
    } finally {
      writingLevels = outer;
    }
    codecOf(type.wire).write(type.wire, wire, holder, slot, context, at);
  },
  read(type, holder, slot, context, at) {
    const wire = codecOf(type.wire).read(type.wire, holder, slot, context, at);
    return customCodec(type.name, at).decode(wire);
  },
  format: (type, holder, slot) => codecOf(type.wire).format(type.wire, holder, slot),
  abandon(type, value, context, walk) {
    const wire = codecOf(type.wire);
    if (wire.abandon === undefined) return;
    let encoded: unknown;
    try {
      encoded = customCodec(type.name, "").encode(value);
    } catch {
      return; // what fails to encode was never written: nothing in it was handed over
    }
    wire.abandon(type.wire, encoded, context, walk);
  },
};

/** One entry per type kind. */
const KINDS: CodecTable = {
  void: {
    layout: () => ({ size: E.VOID, List: capnp.VoidList as capnp.ListCtor<unknown> }),
    write: () => {},
    read: () => undefined,
    format: () => "void",
  },
  bool: scalarCodec("bool"),
  int8: scalarCodec("int8"),
  int16: scalarCodec("int16"),
  int32: scalarCodec("int32"),
  int64: scalarCodec("int64"),
  uint8: scalarCodec("uint8"),
  uint16: scalarCodec("uint16"),
  uint32: scalarCodec("uint32"),
  uint64: scalarCodec("uint64"),
  float32: scalarCodec("float32"),
  float64: scalarCodec("float64"),
  enum: enumCodec,
  text: blobCodec("text"),
  data: blobCodec("data"),
  list: listCodec,
  map: mapCodec,
  struct: structCodec,
  group: groupCodec,
  interface: interfaceCodec,
  custom: customCodecEntry,
};

// ---- Structs ----

/**
 * Writes `values[field.name]` for every visible field of `struct` (missing
 * ones stay default); of a union, the member `values.which` names.
 */
export function writeStruct(
  struct: StructDescriptor,
  values: Readonly<Record<string, unknown>>,
  target: capnp.Struct,
  context: CodecContext,
  where: string,
): void {
  let chosen: FieldDescriptor | number | undefined;
  const fields = struct.fields;
  let i = -1; // the field being written: those after it were never reached
  try {
    if (struct.discriminant !== undefined) chosen = chosenMember(struct, values, where);
    if (chosen !== undefined) {
      const discriminant = typeof chosen === "number" ? chosen : chosen.member!;
      capnp.utils.setUint16(struct.discriminant! * 2, discriminant, target);
    }
    for (i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      if (isWritten(field, chosen)) writeField(field, values[field.name], target, context, where);
    }
  } catch (error) {
    abandonRest({ kind: "struct", struct: () => struct }, values, context, i);
    throw error;
  }
}

/** Whether `field` of a struct is written, given the union member `chosen`. */
function isWritten(field: FieldDescriptor, chosen: FieldDescriptor | number | undefined): boolean {
  return !field.hidden && (field.member === undefined || field === chosen);
}

/**
 * Abandons what the fields of struct `values` after the one at index
 * `after` hold, of those a write writes (of a union, the member `which`
 * names, as the writer chose it).
 */
function abandonStruct(
  struct: StructDescriptor,
  values: unknown,
  context: CodecContext,
  walk: Walk,
  after = -1,
): void {
  if (values === null || typeof values !== "object") return;
  const record = values as Record<string, unknown>;
  const fields = struct.fields;
  const chosen = fields.find((field) =>
    field.member !== undefined && field.name === record["which"]
  );
  within(walk, values, () => {
    for (const field of fields.slice(after + 1)) {
      if (isWritten(field, chosen)) abandonField(field, record[field.name], context, walk);
    }
  });
}

/** Abandons what `value`, of `field`'s type, holds. */
function abandonField(
  field: FieldDescriptor,
  value: unknown,
  context: CodecContext,
  walk: Walk,
): void {
  if (value !== undefined) codecOf(field.type).abandon?.(field.type, value, context, walk);
}

/**
 * The union member `values.which` names, or the number of one not in this
 * schema; none when it is left out and so is every member (the union keeps
 * its default).
 */
function chosenMember(
  struct: StructDescriptor,
  values: Readonly<Record<string, unknown>>,
  where: string,
): FieldDescriptor | number | undefined {
  const which = values["which"];
  const members = struct.fields.filter((field) => field.member !== undefined);
  const chosen = members.find((field) => field.name === which);
  if (chosen !== undefined) return chosen;
  if (which === undefined && members.every((field) => values[field.name] === undefined)) {
    return undefined;
  }
  const unknown = notInSchema(which, (n) => members.some((field) => field.member === n));
  if (unknown >= 0) return unknown;
  throw new TypeMappingError(
    `${where}.which: expected one of ${members.map((field) => field.name).join(", ")}, ` +
      `or the number of a member not in this schema, got ${describe(which)}`,
  );
}

/**
 * `value` as the number of an enum value or union member not in this
 * schema (an integer 0–65535 that `known` does not name), or -1.
 */
function notInSchema(value: unknown, known: (n: number) => boolean): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffff &&
      !known(value)
    ? value
    : -1;
}

/** The union member set in `source`, or its number when this schema does not name it. */
function activeMember(struct: StructDescriptor, source: capnp.Struct): FieldDescriptor | number {
  const discriminant = storedAt("uint16", struct.discriminant! * 2, source) as number;
  return struct.fields.find((field) => field.member === discriminant) ?? discriminant;
}

/** Writes one field; `undefined` leaves it unset (or clears its `hasX` flag). */
export function writeField(
  field: FieldDescriptor,
  value: unknown,
  target: capnp.Struct,
  context: CodecContext,
  where: string,
): void {
  if (field.presence !== undefined) capnp.utils.setBit(field.presence, value !== undefined, target);
  if (value === undefined) return;
  codecOf(field.type).write(field.type, value, target, field, context, `${where}.${field.name}`);
}

/**
 * Reads every visible field of `source` into a plain object; of a union,
 * the member set, named by `which` (a Void member has no value).
 */
export function readStruct(
  struct: StructDescriptor,
  source: capnp.Struct,
  context: CodecContext,
  where: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const active = struct.discriminant === undefined ? undefined : activeMember(struct, source);
  if (active !== undefined) out["which"] = typeof active === "number" ? active : active.name;
  for (const field of struct.fields) {
    if (field.hidden) continue;
    if (field.member !== undefined) {
      if (field !== active || field.type.kind === "void") continue;
    }
    const value = readField(field, source, context, where);
    if (value !== undefined || field.presence === undefined) out[field.name] = value;
  }
  return out;
}

/** Reads one field; a field whose `hasX` flag is clear reads as `undefined`. */
export function readField(
  field: FieldDescriptor,
  source: capnp.Struct,
  context: CodecContext,
  where: string,
): unknown {
  const at = `${where}.${field.name}`;
  if (listedValue !== undefined) {
    const [holder, slot] = placeOf(field, source);
    if (holder !== source) return codecOf(field.type).read(field.type, holder, slot, context, at);
  }
  if (field.presence !== undefined && !storedAt("bool", field.presence, source)) {
    return undefined;
  }
  return codecOf(field.type).read(field.type, source, field, context, at);
}

/**
 * The Cap'n Proto text form of a struct, as C++ prints it: every scalar
 * field, the non-null pointer fields, capabilities as `<external capability>`.
 */
export function formatStruct(struct: StructDescriptor, source: capnp.Struct): string {
  const discriminant = struct.discriminant === undefined
    ? undefined
    : storedAt("uint16", struct.discriminant * 2, source);
  const parts: string[] = [];
  for (const field of struct.fields) {
    if (field.member !== undefined && field.member !== discriminant) continue;
    const [holder, slot] = placeOf(field, source);
    // C++ prints the member set (past the first, which a zeroed struct selects) also when null.
    const text = codecOf(field.type).format(field.type, holder, slot) ??
      (field.member !== undefined && field.member !== 0 ? nullText(field.type) : undefined);
    if (text !== undefined) parts.push(`${field.name} = ${text}`);
  }
  return `(${parts.join(", ")})`;
}

// ---- Errors ----

function iterableItems(value: unknown, at: string, expected: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (isIterable(value)) return [...value];
  throw mismatch(at, expected, value);
}

/** Whether `value` is written as a list: an iterable object other than a Map. */
function isIterable(value: unknown): value is Iterable<unknown> {
  return value !== null && typeof value === "object" && Symbol.iterator in value &&
    !(value instanceof Map);
}

function mismatch(at: string, expected: string, value: unknown): TypeMappingError {
  return new TypeMappingError(`${at}: expected ${expected}, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return `${typeof value} ${String(value)}`;
}
