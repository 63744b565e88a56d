/**
 * Converts between TypeScript values and Cap'n Proto structs, driven by the
 * descriptors `deno task gen` writes (`schemas/descriptor.ts`): the generic
 * half of the proxy layer, like libmultiprocess' `type-*.h` conversions.
 *
 * Every write is checked: a value of the wrong type, an integer out of
 * range or a fraction where an integer belongs fails with a
 * {@linkcode TypeMappingError} naming the field; nothing is truncated.
 * Custom codecs ({@linkcode registerType}) add conversions for named types,
 * the equivalent of libmultiprocess' CustomBuildField / CustomReadField.
 *
 * @module
 */
import * as capnp from "capnp-es";
import type {
  FieldDescriptor,
  InterfaceDescriptor,
  ScalarKind,
  StructDescriptor,
  TypeDescriptor,
} from "../../schemas/descriptor.ts";
import type { Capability } from "../rpc/capability.ts";

/** A value that does not fit the schema type it is written as. */
export class TypeMappingError extends TypeError {
  override name = "TypeMappingError";
}

/** Turns interface values into capabilities and back; supplied by the proxy layer. */
export interface CapabilityBridge {
  /** A new reference standing for `value` (a proxy, an object or a function). */
  toCapability(value: unknown, iface: InterfaceDescriptor): Capability;
  /** The TypeScript value for `cap`, which stays owned by the caller. */
  fromCapability(cap: Capability, iface: InterfaceDescriptor): unknown;
}

/** Where written capabilities go and read ones come from. */
export interface CapabilityTable {
  /** Adds a reference (taking it over) and returns its index. */
  add(cap: Capability): number;
  /** The capability at `index`, or null. */
  get(index: number): Capability | null;
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
  encode(value: T): Wire;
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

// ---- Layout helpers ----

const structClasses = new WeakMap<StructDescriptor, capnp.StructCtor<capnp.Struct>>();

/** The capnp-es struct class of a descriptor (made once). */
export function structClass(struct: StructDescriptor): capnp.StructCtor<capnp.Struct> {
  let Class = structClasses.get(struct);
  if (Class === undefined) {
    Class = class extends capnp.Struct {
      static readonly _capnp = {
        displayName: struct.name,
        id: struct.id.toString(16),
        size: new capnp.ObjectSize(struct.dataWords * 8, struct.pointers),
      };
    };
    structClasses.set(struct, Class);
  }
  return Class;
}

const masks = new WeakMap<FieldDescriptor, DataView>();

/** XOR mask of a field with a schema default. */
function maskOf(field: FieldDescriptor, kind: ScalarKind | "enum"): DataView | undefined {
  if (field.default === undefined) return undefined;
  let mask = masks.get(field);
  if (mask === undefined) {
    const value = field.default;
    mask = kind === "bool"
      ? capnp.getBitMask(value as boolean, field.offset % 8)
      : kind === "enum" || kind === "uint16"
      ? capnp.getUint16Mask(value as number)
      : MASKERS[kind](value as never);
    masks.set(field, mask);
  }
  return mask;
}

const MASKERS: Record<Exclude<ScalarKind, "bool">, (value: never) => DataView> = {
  int8: capnp.getInt8Mask,
  int16: capnp.getInt16Mask,
  int32: capnp.getInt32Mask,
  int64: capnp.getInt64Mask,
  uint8: capnp.getUint8Mask,
  uint16: capnp.getUint16Mask,
  uint32: capnp.getUint32Mask,
  uint64: capnp.getUint64Mask,
  float32: capnp.getFloat32Mask,
  float64: capnp.getFloat64Mask,
};

type Getter = (offset: number, s: capnp.Struct, mask?: DataView) => unknown;
type Setter = (offset: number, value: never, s: capnp.Struct, mask?: DataView) => void;

const ACCESSORS: Record<ScalarKind, [Getter, Setter]> = {
  bool: [capnp.utils.getBit, capnp.utils.setBit],
  int8: [capnp.utils.getInt8, capnp.utils.setInt8],
  int16: [capnp.utils.getInt16, capnp.utils.setInt16],
  int32: [capnp.utils.getInt32, capnp.utils.setInt32],
  int64: [capnp.utils.getInt64, capnp.utils.setInt64],
  uint8: [capnp.utils.getUint8, capnp.utils.setUint8],
  uint16: [capnp.utils.getUint16, capnp.utils.setUint16],
  uint32: [capnp.utils.getUint32, capnp.utils.setUint32],
  uint64: [capnp.utils.getUint64, capnp.utils.setUint64],
  float32: [capnp.utils.getFloat32, capnp.utils.setFloat32],
  float64: [capnp.utils.getFloat64, capnp.utils.setFloat64],
};

const INT_RANGES: Partial<Record<ScalarKind, [number | bigint, number | bigint, string]>> = {
  int8: [-0x80, 0x7f, "Int8"],
  int16: [-0x8000, 0x7fff, "Int16"],
  int32: [-0x80000000, 0x7fffffff, "Int32"],
  uint8: [0, 0xff, "UInt8"],
  uint16: [0, 0xffff, "UInt16"],
  uint32: [0, 0xffffffff, "UInt32"],
  int64: [-(2n ** 63n), 2n ** 63n - 1n, "Int64"],
  uint64: [0n, 2n ** 64n - 1n, "UInt64"],
};

const E = capnp.ListElementSize;

/** Element size and list class of a list of `element`. */
function listLayout(element: TypeDescriptor): { size: number; List: capnp.ListCtor<unknown> } {
  switch (element.kind) {
    case "void":
      return { size: E.VOID, List: capnp.VoidList as capnp.ListCtor<unknown> };
    case "bool":
      return { size: E.BIT, List: capnp.BoolList };
    case "int8":
      return { size: E.BYTE, List: capnp.Int8List };
    case "uint8":
      return { size: E.BYTE, List: capnp.Uint8List };
    case "int16":
      return { size: E.BYTE_2, List: capnp.Int16List };
    case "uint16":
    case "enum":
      return { size: E.BYTE_2, List: capnp.Uint16List };
    case "int32":
      return { size: E.BYTE_4, List: capnp.Int32List };
    case "uint32":
      return { size: E.BYTE_4, List: capnp.Uint32List };
    case "float32":
      return { size: E.BYTE_4, List: capnp.Float32List };
    case "int64":
      return { size: E.BYTE_8, List: capnp.Int64List };
    case "uint64":
      return { size: E.BYTE_8, List: capnp.Uint64List };
    case "float64":
      return { size: E.BYTE_8, List: capnp.Float64List };
    case "struct":
      return {
        size: E.COMPOSITE,
        List: capnp.CompositeList(structClass(element.struct())) as capnp.ListCtor<unknown>,
      };
    case "map":
      return {
        size: E.COMPOSITE,
        List: capnp.CompositeList(structClass(element.entry())) as capnp.ListCtor<unknown>,
      };
    case "custom":
      return listLayout(element.wire);
    default:
      return { size: E.POINTER, List: capnp.AnyPointerList as capnp.ListCtor<unknown> };
  }
}

/** Allocates a list of `length` elements at pointer `p` (which must be writable). */
function initListAt(
  p: capnp.Pointer,
  element: TypeDescriptor,
  length: number,
): capnp.List<unknown> {
  const { size, List } = listLayout(element);
  capnp.utils.erase(p);
  let composite: capnp.ObjectSize | undefined;
  let content: capnp.Pointer;
  if (size === E.COMPOSITE) {
    const struct = element.kind === "map"
      ? element.entry()
      : (element as { struct: () => StructDescriptor }).struct();
    composite = new capnp.ObjectSize(struct.dataWords * 8, struct.pointers);
    content = p.segment.allocate((struct.dataWords + struct.pointers) * 8 * length + 8);
    capnp.utils.setStructPointer(length, composite, content);
  } else if (size === E.BIT) {
    content = p.segment.allocate(Math.ceil(length / 8));
  } else if (size === E.VOID) {
    capnp.utils.setListPointer(0, size, length, p);
    return new List(p.segment, p.byteOffset);
  } else {
    content = p.segment.allocate(length * capnp.utils.getListElementByteLength(size));
  }
  const at = capnp.utils.initPointer(content.segment, content.byteOffset, p);
  capnp.utils.setListPointer(at.offsetWords, size, length, at.pointer, composite);
  return new List(p.segment, p.byteOffset);
}

// ---- Writing ----

/** State shared by one encode: where capabilities go. */
export interface WriteContext {
  readonly caps: CapabilityTable;
  readonly bridge: CapabilityBridge;
}

/** Writes `values[field.name]` for every field of `struct` (missing ones stay default). */
export function writeStruct(
  struct: StructDescriptor,
  values: Readonly<Record<string, unknown>>,
  target: capnp.Struct,
  context: WriteContext,
  where: string,
): void {
  for (const field of struct.fields) {
    if (field.hidden) continue;
    writeField(field, values[field.name], target, context, where);
  }
}

/** Writes one field; `undefined` leaves it unset (or clears its `hasX` flag). */
export function writeField(
  field: FieldDescriptor,
  value: unknown,
  target: capnp.Struct,
  context: WriteContext,
  where: string,
): void {
  if (field.presence !== undefined) {
    capnp.utils.setBit(field.presence, value !== undefined, target);
    if (value === undefined) return;
  } else if (value === undefined) {
    return;
  }
  const at = `${where}.${field.name}`;
  const type = field.type;
  const kind = type.kind === "custom" ? type.wire.kind : type.kind;
  const wire = type.kind === "custom" ? customCodec(type.name, at).encode(value) : value;
  const wireType = type.kind === "custom" ? type.wire : type;
  if (kind in ACCESSORS) {
    const scalar = kind as ScalarKind;
    ACCESSORS[scalar][1](
      field.offset,
      checkScalar(scalar, wire, at) as never,
      target,
      maskOf(field, scalar),
    );
  } else if (kind === "enum") {
    const index = enumIndex(wireType as { values: readonly string[]; name: string }, wire, at);
    capnp.utils.setUint16(field.offset, index, target, maskOf(field, "enum"));
  } else if (kind !== "void") {
    writePointer(wireType, wire, capnp.utils.getPointer(field.offset, target), context, at);
  }
}

function checkScalar(kind: ScalarKind, value: unknown, at: string): unknown {
  if (kind === "bool") {
    if (typeof value !== "boolean") throw mismatch(at, "Bool", value);
    return value;
  }
  if (kind === "float32" || kind === "float64") {
    if (typeof value !== "number") {
      throw mismatch(at, kind === "float32" ? "Float32" : "Float64", value);
    }
    return value;
  }
  const [min, max, name] = INT_RANGES[kind]!;
  if (kind === "int64" || kind === "uint64") {
    if (typeof value !== "bigint") throw mismatch(at, `${name} (a bigint)`, value);
  } else if (typeof value !== "number" || !Number.isInteger(value)) {
    throw mismatch(at, `${name} (an integer)`, value);
  }
  if ((value as number) < min || (value as number) > max) {
    throw new TypeMappingError(`${at}: ${value} is out of range for ${name}`);
  }
  return value;
}

function enumIndex(
  type: { values: readonly string[]; name: string },
  value: unknown,
  at: string,
): number {
  const index = typeof value === "string" ? type.values.indexOf(value) : -1;
  if (index < 0) {
    throw new TypeMappingError(
      `${at}: ${describe(value)} is not a ${type.name} (one of ${type.values.join(", ")})`,
    );
  }
  return index;
}

function writePointer(
  type: TypeDescriptor,
  value: unknown,
  p: capnp.Pointer,
  context: WriteContext,
  at: string,
): void {
  switch (type.kind) {
    case "text":
      if (typeof value !== "string") throw mismatch(at, "Text (a string)", value);
      capnp.Text.fromPointer(p).set(0, value);
      return;
    case "data": {
      if (!(value instanceof Uint8Array)) throw mismatch(at, "Data (a Uint8Array)", value);
      initListAt(p, { kind: "uint8" }, value.byteLength);
      capnp.Data.fromPointer(p).copyBuffer(value);
      return;
    }
    case "list": {
      const items = iterableItems(value, at, type.set ? "Set or iterable" : "array or iterable");
      writeList(type.element, items, initListAt(p, type.element, items.length), context, at);
      return;
    }
    case "map": {
      if (!(value instanceof Map)) throw mismatch(at, "Map", value);
      const entry = type.entry();
      const list = initListAt(p, type, value.size) as capnp.List<capnp.Struct>;
      let i = 0;
      for (const [key, item] of value) {
        const element = list.get(i++);
        writeField(entry.fields[0], key, element, context, `${at}[key]`);
        writeField(entry.fields[1], item, element, context, `${at}[${String(key)}]`);
      }
      return;
    }
    case "struct": {
      if (value === null || typeof value !== "object") throw mismatch(at, "object", value);
      const struct = type.struct();
      const Class = structClass(struct);
      const target = new Class(p.segment, p.byteOffset);
      capnp.utils.initStruct(Class._capnp.size, target);
      writeStruct(struct, value as Record<string, unknown>, target, context, at);
      return;
    }
    case "interface": {
      if (value === null) return;
      const cap = context.bridge.toCapability(value, type.iface());
      capnp.utils.setInterfacePointer(context.caps.add(cap), p);
      return;
    }
    default:
      throw new TypeMappingError(`${at}: cannot write a ${type.kind} here`);
  }
}

function writeList(
  element: TypeDescriptor,
  items: unknown[],
  list: capnp.List<unknown>,
  context: WriteContext,
  at: string,
): void {
  const kind = element.kind === "custom" ? element.wire.kind : element.kind;
  for (let i = 0; i < items.length; i++) {
    const where = `${at}[${i}]`;
    const value = element.kind === "custom"
      ? customCodec(element.name, where).encode(items[i])
      : items[i];
    const wireType = element.kind === "custom" ? element.wire : element;
    if (kind in ACCESSORS) list.set(i, checkScalar(kind as ScalarKind, value, where));
    else if (kind === "enum") list.set(i, enumIndex(wireType as never, value, where));
    else if (kind === "struct") {
      if (value === null || typeof value !== "object") throw mismatch(where, "object", value);
      const struct = (wireType as { struct: () => StructDescriptor }).struct();
      writeStruct(
        struct,
        value as Record<string, unknown>,
        list.get(i) as capnp.Struct,
        context,
        where,
      );
    } else if (kind !== "void") {
      writePointer(wireType, value, list.get(i) as capnp.Pointer, context, where);
    }
  }
}

function iterableItems(value: unknown, at: string, expected: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (
    value !== null && typeof value === "object" && Symbol.iterator in value &&
    !(value instanceof Map)
  ) {
    return [...(value as Iterable<unknown>)];
  }
  throw mismatch(at, expected, value);
}

function mismatch(at: string, expected: string, value: unknown): TypeMappingError {
  return new TypeMappingError(`${at}: expected ${expected}, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return `${typeof value} ${String(value)}`;
}

// ---- Reading ----

/** State shared by one decode: where capabilities come from. */
export interface ReadContext {
  readonly caps: CapabilityTable;
  readonly bridge: CapabilityBridge;
}

/** Reads every visible field of `source` into a plain object. */
export function readStruct(
  struct: StructDescriptor,
  source: capnp.Struct,
  context: ReadContext,
  where: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of struct.fields) {
    if (field.hidden) continue;
    const value = readField(field, source, context, where);
    if (value !== undefined || field.presence === undefined) out[field.name] = value;
  }
  return out;
}

/** Reads one field; a field whose `hasX` flag is clear reads as `undefined`. */
export function readField(
  field: FieldDescriptor,
  source: capnp.Struct,
  context: ReadContext,
  where: string,
): unknown {
  if (field.presence !== undefined && !capnp.utils.getBit(field.presence, source)) {
    return undefined;
  }
  const at = `${where}.${field.name}`;
  const type = field.type;
  const wireType = type.kind === "custom" ? type.wire : type;
  let wire: unknown;
  if (wireType.kind in ACCESSORS) {
    const kind = wireType.kind as ScalarKind;
    wire = ACCESSORS[kind][0](field.offset, source, maskOf(field, kind));
  } else if (wireType.kind === "enum") {
    wire = enumValue(
      wireType,
      capnp.utils.getUint16(field.offset, source, maskOf(field, "enum")),
      at,
    );
  } else if (wireType.kind === "void") {
    wire = undefined;
  } else {
    wire = readPointer(wireType, capnp.utils.getPointer(field.offset, source), context, at);
  }
  return type.kind === "custom" ? customCodec(type.name, at).decode(wire) : wire;
}

function enumValue(
  type: { values: readonly string[]; name: string },
  index: number,
  at: string,
): string {
  const value = type.values[index];
  if (value === undefined) {
    throw new TypeMappingError(`${at}: ${index} is not a known ${type.name} value`);
  }
  return value;
}

function readPointer(
  type: TypeDescriptor,
  p: capnp.Pointer,
  context: ReadContext,
  at: string,
): unknown {
  const isNull = capnp.utils.isNull(p);
  switch (type.kind) {
    case "text":
      return isNull ? "" : capnp.Text.fromPointer(p).get(0);
    case "data":
      return isNull ? new Uint8Array(0) : capnp.Data.fromPointer(p).toUint8Array().slice();
    case "list": {
      const items = isNull ? [] : readList(type.element, p, context, at);
      return type.set ? new Set(items) : items;
    }
    case "map": {
      const map = new Map<unknown, unknown>();
      if (isNull) return map;
      const entry = type.entry();
      const list = new (listLayout(type).List)(p.segment, p.byteOffset) as capnp.List<capnp.Struct>;
      for (let i = 0; i < list.length; i++) {
        const element = list.get(i);
        map.set(
          readField(entry.fields[0], element, context, `${at}[${i}]`),
          readField(entry.fields[1], element, context, `${at}[${i}]`),
        );
      }
      return map;
    }
    case "struct": {
      const struct = type.struct();
      const Class = structClass(struct);
      if (isNull) return readStruct(struct, emptyStruct(Class), context, at);
      return readStruct(struct, new Class(p.segment, p.byteOffset), context, at);
    }
    case "interface": {
      if (isNull) return null;
      const cap = context.caps.get(capnp.utils.getCapabilityId(p));
      return cap === null ? null : context.bridge.fromCapability(cap, type.iface());
    }
    default:
      throw new TypeMappingError(`${at}: cannot read a ${type.kind} here`);
  }
}

function readList(
  element: TypeDescriptor,
  p: capnp.Pointer,
  context: ReadContext,
  at: string,
): unknown[] {
  const wireType = element.kind === "custom" ? element.wire : element;
  const list = new (listLayout(wireType).List)(p.segment, p.byteOffset);
  const out = new Array<unknown>(list.length);
  for (let i = 0; i < list.length; i++) {
    const where = `${at}[${i}]`;
    let value: unknown;
    if (wireType.kind in ACCESSORS || wireType.kind === "void") value = list.get(i);
    else if (wireType.kind === "enum") value = enumValue(wireType, list.get(i) as number, where);
    else if (wireType.kind === "struct") {
      value = readStruct(wireType.struct(), list.get(i) as capnp.Struct, context, where);
    } else value = readPointer(wireType, list.get(i) as capnp.Pointer, context, where);
    out[i] = element.kind === "custom" ? customCodec(element.name, where).decode(value) : value;
  }
  return out;
}

const emptyStructs = new WeakMap<capnp.StructCtor<capnp.Struct>, capnp.Struct>();

/** A zeroed instance of `Class`, to read defaults from. */
function emptyStruct(Class: capnp.StructCtor<capnp.Struct>): capnp.Struct {
  let empty = emptyStructs.get(Class);
  if (empty === undefined) {
    empty = new capnp.Message().initRoot(Class);
    emptyStructs.set(Class, empty);
  }
  return empty;
}

// ---- Text form (log dumps) ----

/**
 * The Cap'n Proto text form of a struct, as C++ prints it: every scalar
 * field, the non-null pointer fields, capabilities as `<external capability>`.
 */
export function formatStruct(struct: StructDescriptor, source: capnp.Struct): string {
  const parts: string[] = [];
  for (const field of struct.fields) {
    const type = field.type.kind === "custom" ? field.type.wire : field.type;
    let text: string | undefined;
    if (type.kind in ACCESSORS) {
      const kind = type.kind as ScalarKind;
      text = String(ACCESSORS[kind][0](field.offset, source, maskOf(field, kind)));
    } else if (type.kind === "enum") {
      const index = capnp.utils.getUint16(field.offset, source, maskOf(field, "enum"));
      text = type.values[index] ?? String(index);
    } else if (type.kind !== "void") {
      const p = capnp.utils.getPointer(field.offset, source);
      if (!capnp.utils.isNull(p)) text = formatPointer(type, p);
    }
    if (text !== undefined) parts.push(`${field.name} = ${text}`);
  }
  return `(${parts.join(", ")})`;
}

function formatPointer(type: TypeDescriptor, p: capnp.Pointer): string {
  switch (type.kind) {
    case "text":
      return JSON.stringify(capnp.Text.fromPointer(p).get(0));
    case "data":
      return `"${
        [...capnp.Data.fromPointer(p).toUint8Array()].map((b) =>
          b >= 0x20 && b <= 0x7e && b !== 0x22 && b !== 0x5c
            ? String.fromCharCode(b)
            : `\\x${b.toString(16).padStart(2, "0")}`
        ).join("")
      }"`;
    case "struct":
      return formatStruct(type.struct(), new (structClass(type.struct()))(p.segment, p.byteOffset));
    case "interface":
      return "<external capability>";
    case "list":
    case "map": {
      const element: TypeDescriptor = type.kind === "map"
        ? { kind: "struct", struct: type.entry }
        : type.element.kind === "custom"
        ? type.element.wire
        : type.element;
      const list = new (listLayout(element).List)(p.segment, p.byteOffset);
      const items: string[] = [];
      for (let i = 0; i < list.length; i++) {
        const item = list.get(i);
        items.push(
          element.kind === "struct"
            ? formatStruct(element.struct(), item as capnp.Struct)
            : element.kind === "enum"
            ? element.values[item as number] ?? String(item)
            : element.kind in ACCESSORS
            ? String(item)
            : capnp.utils.isNull(item as capnp.Pointer)
            ? "null"
            : formatPointer(element, item as capnp.Pointer),
        );
      }
      return `[${items.join(", ")}]`;
    }
    default:
      return "<unknown>";
  }
}
