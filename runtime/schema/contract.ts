/**
 * The wire contract of a set of schemas, and the gate that keeps it: what
 * peers already built against a schema rely on is its interface ids, and,
 * by ordinal, the types of its methods' params and results and of its
 * structs' fields. `deno task gen` writes the contract of each output folder
 * next to the generated modules (`wire-contract.json`, committed with them)
 * and, before writing anything, refuses a schema change that
 * {@linkcode contractBreaks} finds against the committed one. Adding methods
 * and fields under new ordinals and renaming them keep the contract, as does
 * upgrading a `List(T)` to a list of structs whose `@0` field is a `T`.
 *
 * Types are written in schema syntax: `Int32`, `Text`, `List(Data)`, and a
 * named type as `<file>:<Name>` (`ipc/common.capnp:BlockRef`), with its
 * bound parameters for a generic struct (`<file>:Pair(Text, Int32)`). A
 * field's default is part of its type when it is not zero (`Bool = true`,
 * an enum's by number: `<file>:Mode = 1`): defaults are XORed on the wire,
 * so adding, changing or removing one is a break like a retype.
 *
 * @example
 * ```ts
 * import { contractBreaks, type WireContract } from "./contract.ts";
 * const before: WireContract = {
 *   interfaces: { "a.capnp:Foo": { id: "e1", methods: [{ name: "add", params: [["a", "Int32"]], results: [] }] } },
 *   structs: {},
 *   enums: {},
 * };
 * const after: WireContract = {
 *   ...before,
 *   interfaces: { "a.capnp:Foo": { id: "e1", methods: [{ name: "add", params: [["a", "Text"]], results: [] }] } },
 * };
 * const [only] = contractBreaks(before, after);
 * if (only !== "Foo.add @0: param a @0 was Int32, now Text") throw new Error(only);
 * ```
 * @module
 */
import {
  Brand_Binding,
  Brand_Scope,
  CodeGeneratorRequest,
  Field,
  Node,
  type Type,
  Type as TypeKind,
  Type_AnyPointer,
  Value,
} from "capnp-es/capnp/schema";
import { readRequest } from "./capnp.ts";

/**
 * One field: its name and its type (with its default, if any), at its
 * ordinal (its index in the list), and, for a union member, the discriminant
 * value that selects it. A group is typed `group(<file>:<Struct>.<group>)`,
 * its fields listed under that name.
 */
export type ContractField = readonly [name: string, type: string, member?: number];

/** One method, at its ordinal (its index in its interface's list). */
export interface ContractMethod {
  /** The method's name (free to change). */
  readonly name: string;
  /** Its parameter fields, by ordinal. */
  readonly params: readonly ContractField[];
  /** Its result fields, by ordinal. */
  readonly results: readonly ContractField[];
}

/** An interface: its id (what a call names on the wire) and its methods by ordinal. */
export interface ContractInterface {
  /** The interface's 64-bit id, in hex. */
  readonly id: string;
  /**
   * The ids of every interface it extends, directly or through another, in
   * hex, when there are any: calls to their methods name their ids.
   */
  readonly extends?: readonly string[];
  /** Its own methods, by ordinal. */
  readonly methods: readonly ContractMethod[];
}

/** A struct: its fields by ordinal. */
export interface ContractStruct {
  /** The struct's 64-bit id, in hex (it changes with its name unless the schema gives it). */
  readonly id: string;
  /** Its fields, by ordinal (a group's, in ordinal order: their `@N` are the struct's). */
  readonly fields: readonly ContractField[];
  /** Set for a group: fields of its enclosing struct, named without ordinals. */
  readonly group?: true;
  /**
   * Each field's ordinal, `null` for a group (whose fields have theirs):
   * what tells an old field from a new one where the list does not.
   * Absent in contracts written before.
   */
  readonly ordinals?: readonly (number | null)[];
  /** A generic struct's parameters, in order: its fields' types name them. */
  readonly parameters?: readonly string[];
}

/** An enum: its values by ordinal. */
export interface ContractEnum {
  /** The enum's 64-bit id, in hex. */
  readonly id: string;
  /** Its values' names, by ordinal. */
  readonly values: readonly string[];
}

/**
 * The format {@linkcode formatContract} writes: 2 records fields' defaults.
 * A contract without a version was written before, without them: against
 * it, defaults are not compared.
 */
export const CONTRACT_VERSION = 2;

/** What peers rely on, keyed by `<file>:<Name>`. */
export interface WireContract {
  /** The contract's format ({@linkcode CONTRACT_VERSION}); absent before defaults were recorded. */
  readonly version?: number;
  /** Every interface. */
  readonly interfaces: Readonly<Record<string, ContractInterface>>;
  /** Every struct declared by name, and every group (method param and result structs are in their methods). */
  readonly structs: Readonly<Record<string, ContractStruct>>;
  /** Every enum. */
  readonly enums: Readonly<Record<string, ContractEnum>>;
}

/** A contract with nothing in it, to add files' contracts to. */
export function emptyContract(): WireContract {
  return { version: CONTRACT_VERSION, interfaces: {}, structs: {}, enums: {} };
}

/** The contract of the files a compiled request asks for, added to `into`. */
export function addToContract(into: WireContract, request: Uint8Array): void {
  const root = readRequest(request).getRoot(CodeGeneratorRequest);
  const nodes = new Map<bigint, Node>();
  for (const node of root.nodes) nodes.set(node.id, node);
  const node = (id: bigint) => nodes.get(id)!;
  const interfaces = into.interfaces as Record<string, ContractInterface>;
  const structs = into.structs as Record<string, ContractStruct>;
  const enums = into.enums as Record<string, ContractEnum>;
  // A group's fields name the parameters of the generic struct it is in, if any.
  const fields = (struct: Node, parameters: string[] = []): ContractField[] =>
    [...struct.struct.fields].map((f) => {
      let type: string;
      if (f.which() === Field.GROUP) {
        const group = node(f.group.typeId);
        structs[group.displayName] = {
          id: group.id.toString(16),
          fields: fields(group, parameters),
          group: true,
          ...parameters.length === 0 ? {} : { parameters },
          ordinals: ordinalsOf(group),
        };
        type = `group(${group.displayName})`;
      } else {
        const fallback = defaultText(f.slot.defaultValue);
        type = typeName(f.slot.type, nodes) + (fallback === undefined ? "" : ` = ${fallback}`);
      }
      return f.discriminantValue === Field.NO_DISCRIMINANT
        ? [f.name, type]
        : [f.name, type, f.discriminantValue];
    });
  const visit = (scope: Node) => {
    for (const nested of scope.nestedNodes) {
      const n = node(nested.id);
      const id = n.id.toString(16);
      switch (n.which()) {
        case Node.STRUCT: {
          const parameters = n.parameters.map((p) => p.name);
          structs[n.displayName] = parameters.length === 0
            ? { id, fields: fields(n), ordinals: ordinalsOf(n) }
            : { id, fields: fields(n, parameters), parameters, ordinals: ordinalsOf(n) };
          break;
        }
        case Node.ENUM:
          enums[n.displayName] = { id, values: n.enum.enumerants.map((e) => e.name) };
          break;
        case Node.INTERFACE: {
          const ancestors = new Set<string>();
          const walk = (i: Node) => {
            for (const { id } of i.interface.superclasses) {
              const hex = id.toString(16);
              if (ancestors.has(hex)) continue;
              ancestors.add(hex);
              const superclass = nodes.get(id);
              if (superclass !== undefined) walk(superclass);
            }
          };
          walk(n);
          interfaces[n.displayName] = {
            id,
            ...ancestors.size === 0 ? {} : { extends: [...ancestors].sort() },
            methods: n.interface.methods.map((m) => ({
              name: m.name,
              params: fields(node(m.paramStructType)),
              results: fields(node(m.resultStructType)),
            })),
          };
          break;
        }
      }
      visit(n);
    }
  };
  for (const file of root.requestedFiles) visit(node(file.id));
}

/**
 * `contract` as JSON with one line per method, struct and enum, so that a
 * diff of the committed file shows what changed.
 */
export function formatContract(contract: WireContract): string {
  const j = JSON.stringify;
  const table = <T>(entries: Record<string, T>, line: (value: T) => string) =>
    `{${
      Object.entries(entries).map(([key, value]) => `\n  ${j(key)}: ${line(value)}`).join(",")
    }\n }`;
  const interfaces = table(
    contract.interfaces,
    (i) =>
      `{ "id": ${j(i.id)}, ${i.extends ? `"extends": ${j(i.extends)}, ` : ""}"methods": [${
        i.methods.map((m) => `\n   ${j(m)}`).join(",")
      }\n  ] }`,
  );
  const structs = table(contract.structs, j);
  const enums = table(contract.enums, j);
  const version = contract.version === undefined ? "" : `\n "version": ${contract.version},`;
  return `{${version}\n "interfaces": ${interfaces},\n "structs": ${structs},\n "enums": ${enums}\n}\n`;
}

/** The ordinal of each field of `struct`, `null` for a group. */
function ordinalsOf(struct: Node): (number | null)[] {
  return [...struct.struct.fields].map((f) =>
    f.which() === Field.GROUP ? null : f.ordinal.explicit
  );
}

/** The struct a group type (`group(<file>:<Struct>.<group>)`) names; undefined for another type. */
function groupOf(type: string): string | undefined {
  return /^group\((.*)\)$/.exec(type)?.[1];
}

/**
 * A default as the contract writes it, when it is not zero on the wire (a
 * zero default is the same as none): a number, `true`, or an enum value's
 * number. Pointer defaults are not recorded (`gen` refuses them).
 */
function defaultText(value: Value): string | undefined {
  let x: number | bigint | boolean;
  switch (value.which()) {
    case Value.BOOL:
      x = value.bool;
      break;
    case Value.INT8:
      x = value.int8;
      break;
    case Value.INT16:
      x = value.int16;
      break;
    case Value.INT32:
      x = value.int32;
      break;
    case Value.INT64:
      x = value.int64;
      break;
    case Value.UINT8:
      x = value.uint8;
      break;
    case Value.UINT16:
      x = value.uint16;
      break;
    case Value.UINT32:
      x = value.uint32;
      break;
    case Value.UINT64:
      x = value.uint64;
      break;
    case Value.FLOAT32:
      x = value.float32;
      break;
    case Value.FLOAT64:
      x = value.float64;
      break;
    case Value.ENUM:
      x = value.enum;
      break;
    default:
      return undefined;
  }
  // -0 is not zero on the wire (its sign bit is set).
  if (Object.is(x, -0)) return "-0";
  return x === false || x === 0 || x === 0n ? undefined : String(x);
}

/** A field's type without its default, and the default (see {@linkcode defaultText}). */
function splitDefault(type: string): [type: string, fallback: string | undefined] {
  const at = type.indexOf(" = ");
  return at < 0 ? [type, undefined] : [type.slice(0, at), type.slice(at + 3)];
}

/** The schema-syntax name of a field's type. */
function typeName(type: Type, nodes: Map<bigint, Node>): string {
  switch (type.which()) {
    case TypeKind.LIST:
      return `List(${typeName(type.list.elementType, nodes)})`;
    case TypeKind.ENUM:
      return nodes.get(type.enum.typeId)!.displayName;
    case TypeKind.INTERFACE:
      return nodes.get(type.interface.typeId)!.displayName;
    case TypeKind.STRUCT: {
      const node = nodes.get(type.struct.typeId)!;
      const scope = type.struct.brand.scopes.find((s) => s.scopeId === node.id);
      if (scope === undefined || scope.which() !== Brand_Scope.BIND) return node.displayName;
      const args = scope.bind.map((b) =>
        b.which() === Brand_Binding.TYPE ? typeName(b.type, nodes) : "AnyPointer"
      );
      return `${node.displayName}(${args.join(", ")})`;
    }
    case TypeKind.ANY_POINTER: {
      const pointer = type.anyPointer;
      if (pointer.which() !== Type_AnyPointer.PARAMETER) return "AnyPointer";
      const generic = nodes.get(pointer.parameter.scopeId)!;
      return generic.parameters[pointer.parameter.parameterIndex].name;
    }
    default:
      return SCALAR_NAMES[type.which()];
  }
}

const SCALAR_NAMES: Record<number, string> = {
  [TypeKind.VOID]: "Void",
  [TypeKind.BOOL]: "Bool",
  [TypeKind.INT8]: "Int8",
  [TypeKind.INT16]: "Int16",
  [TypeKind.INT32]: "Int32",
  [TypeKind.INT64]: "Int64",
  [TypeKind.UINT8]: "UInt8",
  [TypeKind.UINT16]: "UInt16",
  [TypeKind.UINT32]: "UInt32",
  [TypeKind.UINT64]: "UInt64",
  [TypeKind.FLOAT32]: "Float32",
  [TypeKind.FLOAT64]: "Float64",
  [TypeKind.TEXT]: "Text",
  [TypeKind.DATA]: "Data",
};

/**
 * What `after` breaks of `before`, one line each naming the interface,
 * struct or enum, the ordinal and the old and new type: a removed interface
 * (matched by id), superclass, method, field or enum value; an ordinal whose
 * type is now another; a name moved to another existing ordinal. A struct
 * or enum matched neither by name nor by id was renamed or removed; the
 * fields that use it are checked against its new form.
 */
export function contractBreaks(before: WireContract, after: WireContract): string[] {
  const breaks: string[] = [];
  /** Whether every field in `type` (a group's, all of them) is new: its ordinal is `taken` or more. */
  const allNew = (type: string, ordinal: number | null | undefined, taken: number): boolean => {
    const group = groupOf(type);
    if (group === undefined) return typeof ordinal === "number" && ordinal >= taken;
    const made = after.structs[group];
    return made !== undefined && before.structs[group] === undefined &&
      made.fields.every(([, t], i) => allNew(t, made.ordinals?.[i], taken));
  };
  /** Whether the new `group` holds an old field of `type` first, and only new fields besides. */
  const holdsFirst = (group: string, type: string, taken: number): boolean => {
    const made = after.structs[group];
    if (made === undefined || before.structs[group] !== undefined || made.fields.length === 0) {
      return false;
    }
    // Old data, whose discriminant reads 0, must read as the field in the group's union.
    const [[, first, member], ...others] = made.fields;
    if (member !== undefined && member !== 0) return false;
    const inner = groupOf(first);
    const holds = inner !== undefined
      ? holdsFirst(inner, type, taken)
      : typeof made.ordinals?.[0] === "number" && made.ordinals[0] < taken &&
        sameWire(before, after, type, first, new Set());
    return holds && others.every(([, t], i) => allNew(t, made.ordinals?.[i + 1], taken));
  };
  const compare: Comparison = {
    same: (a, b) => sameWire(before, after, a, b, new Set()),
    intoNewGroup(type, now, taken) {
      const group = groupOf(now);
      return group !== undefined && taken !== undefined && groupOf(type) === undefined &&
        holdsFirst(group, type, taken);
    },
    newField: allNew,
    show(a, b) {
      const [was, now] = [shortType(a), shortType(b)];
      if (was !== now) return [was, now];
      // The same short name: another kind of type, or one from another file.
      const [ka, kb] = [
        kindIn(before, parseNamed(splitDefault(a)[0]).base),
        kindIn(after, parseNamed(splitDefault(b)[0]).base),
      ];
      return ka === kb ? [a, b] : [`${ka ?? "type"} ${was}`, `${kb ?? "type"} ${now}`];
    },
  };
  for (const [key, old] of Object.entries(before.interfaces)) {
    const now = Object.values(after.interfaces).find((i) => i.id === old.id);
    const name = shortName(key);
    if (now === undefined) {
      breaks.push(
        `interface ${name} (0x${old.id}) is gone: peers call it by that id ` +
          "(renaming an interface changes its id unless the schema gives one)",
      );
      continue;
    }
    for (const id of old.extends ?? []) {
      if (now.extends?.includes(id)) continue;
      const superclass = Object.entries(before.interfaces).find(([, i]) => i.id === id)?.[0];
      breaks.push(
        `interface ${name}: no longer extends ${
          superclass === undefined ? "" : `${shortName(superclass)} `
        }(0x${id}): a call to its methods names that id`,
      );
    }
    old.methods.forEach((method, ordinal) => {
      const next = now.methods[ordinal];
      const at = `${name}.${method.name} @${ordinal}`;
      if (next === undefined) return breaks.push(`${at}: method removed`);
      const moved = movedTo(
        method.name,
        ordinal,
        now.methods.map((m) => m.name),
        old.methods.length,
      );
      if (moved !== undefined) return breaks.push(`${at}: now @${moved}`);
      const renamed = next.name === method.name ? "" : ` (now ${next.name})`;
      for (
        const [what, a, b] of [["param", method.params, next.params], [
          "result",
          method.results,
          next.results,
        ]] as const
      ) {
        breaks.push(
          ...fieldBreaks(a, b, compare, true).map((m) => `${at}${renamed}: ${what} ${m}`),
        );
      }
    });
  }
  // The ordinals a struct's fields took before, its groups' included (ordinals are dense): a
  // field at one of them or after is new. A group shares its struct's.
  const taken = new Map<string, number>();
  const leaves = (fields: readonly ContractField[]): number =>
    fields.reduce((n, [, type]) => {
      const group = groupOf(type);
      return n + (group === undefined ? 1 : leaves(before.structs[group]?.fields ?? []));
    }, 0);
  for (const [key, struct] of Object.entries(before.structs)) {
    if (struct.group) continue;
    const count = leaves(struct.fields);
    const share = (k: string): void => {
      taken.set(k, count);
      for (const [, type] of before.structs[k]?.fields ?? []) {
        const group = groupOf(type);
        if (group !== undefined) share(group);
      }
    };
    share(key);
  }
  for (const [key, old] of Object.entries(before.structs)) {
    const now = after.structs[key] ?? Object.values(after.structs).find((s) => s.id === old.id);
    if (now === undefined) continue;
    // A generic struct's fields name its parameters: compare them by position.
    const generic = old.parameters !== undefined && now.parameters !== undefined;
    const [a, b] = generic
      ? [positionalFields(old), positionalFields(now)]
      : [old.fields, now.fields];
    const shape = { taken: taken.get(key), ordinals: now.ordinals };
    breaks.push(
      ...fieldBreaks(a, b, compare, !old.group, shape).map((m) =>
        `struct ${shortName(key)}: field ${m}`
      ),
    );
  }
  for (const [key, old] of Object.entries(before.enums)) {
    const now = after.enums[key] ?? Object.values(after.enums).find((e) => e.id === old.id);
    if (now === undefined) continue;
    old.values.forEach((value, i) => {
      if (i >= now.values.length) {
        return breaks.push(`enum ${shortName(key)}: value ${value} @${i} removed`);
      }
      const moved = movedTo(value, i, now.values, old.values.length);
      if (moved !== undefined) {
        breaks.push(`enum ${shortName(key)}: value ${value} @${i} is now @${moved}`);
      }
    });
  }
  return breaks;
}

/**
 * Where `name`, at `ordinal` before, now is, when that is another of the
 * `count` ordinals that existed before: the wire knows only numbers, so an
 * old peer means the old name. (A name moved to a new ordinal is a rename
 * plus an addition, as when a retyped field is replaced.)
 */
function movedTo(
  name: string,
  ordinal: number,
  names: readonly string[],
  count: number,
): number | undefined {
  const now = names.indexOf(name);
  return now >= 0 && now !== ordinal && now < count ? now : undefined;
}

/**
 * What `after` breaks of the fields `before`, by position. A field is named
 * with its ordinal where the position is the ordinal: not in a group, nor
 * in a struct holding one (a group takes one position, its fields ordinals).
 */
function fieldBreaks(
  before: readonly ContractField[],
  after: readonly ContractField[],
  compare: Comparison,
  numbered: boolean,
  shape: { taken?: number; ordinals?: readonly (number | null)[] } = {},
): string[] {
  const { taken, ordinals: nowOrdinals } = shape;
  const ordinals = numbered && !before.some(([, type]) => type.startsWith("group("));
  const names = after.map(([name]) => name);
  return before.flatMap(([name, type, member], i) => {
    const field = ordinals ? `${name} @${i}` : name;
    const next = after[i];
    if (next === undefined) return [`${field} removed (was ${shortType(type)})`];
    const moved = movedTo(name, i, names, before.length);
    if (moved !== undefined) {
      return [ordinals ? `${field} is now @${moved}` : `${field} moved to another ordinal`];
    }
    if (
      taken !== undefined && groupOf(next[1]) === undefined &&
      compare.newField(next[1], nowOrdinals?.[i], taken)
    ) {
      // Moved into a union or group: a new field sorts into its place.
      return [
        `${field} moved out of its place, which new field ${next[0]} @${nowOrdinals![i]} takes`,
      ];
    }
    if (!compare.same(type, next[1]) && !compare.intoNewGroup(type, next[1], taken)) {
      const [was, now] = compare.show(type, next[1]);
      const defaultOnly = compare.same(splitDefault(type)[0], splitDefault(next[1])[0]);
      // The ordinal reused under another name: both names say which fields collide.
      const taker = next[0] === name || groupOf(next[1]) !== undefined ? "" : `${next[0]} :`;
      return [
        `${field} was ${was}, now ${taker}${now}` +
        (defaultOnly ? " (defaults are XORed on the wire)" : ""),
      ];
    }
    // A field may move into a new union as its first member: old data reads as that member.
    if (member === next[2] || (member === undefined && next[2] === 0)) return [];
    return [`${field} was ${unionPlace(member)}, now ${unionPlace(next[2])}`];
  });
}

/** How two field types are compared, and shown when they differ. */
interface Comparison {
  /** Whether the old type `a` is encoded as the new type `b`. */
  same(a: string, b: string): boolean;
  /**
   * Whether a field of type `a` was moved into the new group or named union
   * typed `b` (or one nested first in it) as its first field, with only new
   * fields (ordinals from `taken` on) besides: it keeps its slot, and old
   * data selects it.
   */
  intoNewGroup(a: string, b: string, taken: number | undefined): boolean;
  /** Whether a field of `type` at `ordinal` is new (all of a group's fields, for a group). */
  newField(type: string, ordinal: number | null | undefined, taken: number): boolean;
  /** The two as a message shows them: short names, unless that hides the difference. */
  show(a: string, b: string): [string, string];
}

/** Where a field stands with respect to its struct's union. */
function unionPlace(member: number | undefined): string {
  return member === undefined ? "outside the union" : `union member ${member}`;
}

/** `type` with the parameters of generic `struct` named by position (`parameter 1`, …). */
function positional(type: string, struct: ContractStruct): string {
  return bindParameters(type, struct, (at) => `parameter ${at + 1}`);
}

/** `type` with each parameter of generic `struct` it names replaced by `by(its position)`. */
function bindParameters(
  type: string,
  struct: ContractStruct,
  by: (at: number) => string,
): string {
  return type.replace(/[^\s(),]+/g, (token) => {
    const at = struct.parameters?.indexOf(token) ?? -1;
    return at < 0 ? token : by(at);
  });
}

/** The fields of generic `struct`, their parameters named by position. */
function positionalFields(struct: ContractStruct): ContractField[] {
  return struct.fields.map((
    [name, type, ...member],
  ) => [name, positional(type, struct), ...member]);
}

/** A named type and its generic arguments: `file:Pair(Text, file:Point)`. */
function parseNamed(type: string): { base: string; args: string[] } {
  const open = type.indexOf("(");
  if (open < 0) return { base: type, args: [] };
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = start; i < type.length - 1; i++) {
    if (type[i] === "(") depth++;
    else if (type[i] === ")") depth--;
    else if (type[i] === "," && depth === 0) {
      args.push(type.slice(start, i).trim());
      start = i + 1;
    }
  }
  args.push(type.slice(start, -1).trim());
  return { base: type.slice(0, open), args };
}

/** What `base` names in `contract`, if it names anything there. */
function kindIn(contract: WireContract, base: string): "interface" | "enum" | "struct" | undefined {
  if (contract.interfaces[base] !== undefined) return "interface";
  if (contract.enums[base] !== undefined) return "enum";
  if (contract.structs[base] !== undefined) return "struct";
  return undefined;
}

/**
 * Whether type `a` of `before` is encoded as type `b` of `after`: the same
 * default (when `before` records defaults), and the same built-in type,
 * lists or groups of such types, the same interface (by id), the same enum
 * (by id, or renamed: the old name gone, the new one new), or structs whose
 * old fields all keep their types and union places (a renamed struct), with
 * such generic arguments; or a list upgraded to one of structs holding its
 * elements ({@linkcode upgradedElement}).
 */
function sameWire(
  before: WireContract,
  after: WireContract,
  typeA: string,
  typeB: string,
  seen: Set<string>,
): boolean {
  const [a, defaultA] = splitDefault(typeA);
  const [b, defaultB] = splitDefault(typeB);
  if (before.version !== undefined && defaultA !== defaultB) return false;
  for (const wrapper of [LIST, /^group\((.*)\)$/]) {
    const [wa, wb] = [wrapper.exec(a), wrapper.exec(b)];
    if (wa !== null || wb !== null) {
      if (wa === null || wb === null) return false;
      return sameWire(before, after, wa[1], wb[1], seen) ||
        (wrapper === LIST && upgradedElement(before, after, wa[1], wb[1], seen));
    }
  }
  const [na, nb] = [parseNamed(a), parseNamed(b)];
  const [ka, kb] = [kindIn(before, na.base), kindIn(after, nb.base)];
  // Built-in types, parameters, and types from files the contract does not hold.
  if (ka === undefined || kb === undefined) return a === b;
  if (ka !== kb) return false;
  if (ka === "interface") return before.interfaces[na.base].id === after.interfaces[nb.base].id;
  if (ka === "enum") {
    const [ea, eb] = [before.enums[na.base], after.enums[nb.base]];
    const gone = after.enums[na.base] === undefined &&
      !Object.values(after.enums).some((e) => e.id === ea.id);
    const fresh = before.enums[nb.base] === undefined &&
      !Object.values(before.enums).some((e) => e.id === eb.id);
    // Renamed: its values must keep their numbers too.
    return ea.id === eb.id ||
      (gone && fresh &&
        ea.values.every((value, i) =>
          i < eb.values.length && movedTo(value, i, eb.values, ea.values.length) === undefined
        ));
  }
  // The same struct: its own fields are checked once, as a struct of the contract.
  if (a === b) return true;
  if (
    na.args.length !== nb.args.length ||
    !na.args.every((arg, i) => sameWire(before, after, arg, nb.args[i], seen))
  ) return false;
  const [sa, sb] = [before.structs[na.base], after.structs[nb.base]];
  const pair = `${na.base} ${nb.base}`;
  if (seen.has(pair)) return true;
  seen.add(pair);
  const generic = sa.parameters !== undefined && sb.parameters !== undefined;
  const names = sb.fields.map(([name]) => name);
  return sa.fields.every(([name, type, member], i) =>
    sb.fields[i] !== undefined && sb.fields[i][2] === member &&
    movedTo(name, i, names, sa.fields.length) === undefined &&
    sameWire(
      before,
      after,
      generic ? positional(type, sa) : type,
      generic ? positional(sb.fields[i][1], sb) : sb.fields[i][1],
      seen,
    )
  );
}

const LIST = /^List\((.*)\)$/;

/**
 * Whether list element type `a` was upgraded to struct `b` whose `@0`
 * field (see {@linkcode valueFieldType}), with no default, is encoded as `a`:
 * Cap'n Proto lets `List(T)` become such a list of structs when `T` is not
 * a struct, nor a Bool (C++ no longer reads a Bool list as structs). Either
 * side reads the other's list: a `T` is a struct's first field.
 */
function upgradedElement(
  before: WireContract,
  after: WireContract,
  a: string,
  b: string,
  seen: Set<string>,
): boolean {
  const element = kindIn(before, parseNamed(a).base);
  const known = element !== undefined || BUILT_IN.has(a) || LIST.test(a);
  if (a === "Bool" || element === "struct" || !known) return false;
  const { base, args } = parseNamed(b);
  const struct = kindIn(after, base) === "struct" ? after.structs[base] : undefined;
  const type = struct && valueFieldType(after, struct);
  if (struct === undefined || type === undefined) return false;
  // A generic struct's field names its parameters: what `b` binds them to is its type.
  const bound = bindParameters(type, struct, (at) => args[at] ?? "AnyPointer");
  return splitDefault(bound)[1] === undefined && sameWire(before, after, a, bound, seen);
}

/**
 * The type of `struct`'s `@0` field, where old data reads it: first in the
 * struct (its fields are in ordinal order) or in a group first in it, and
 * outside any union or as the member old data selects (member 0).
 */
function valueFieldType(contract: WireContract, struct: ContractStruct): string | undefined {
  const [, type, member] = struct.fields[0] ?? [];
  if (type === undefined || (member ?? 0) !== 0) return undefined;
  const group = groupOf(type);
  return group === undefined ? type : valueFieldType(contract, contract.structs[group]);
}

/** The built-in types a list may hold, but for lists: the scalars, Void and the blobs. */
const BUILT_IN = new Set(Object.values(SCALAR_NAMES));

/**
 * Parses a committed `wire-contract.json`, checking its shape: a hand-edited
 * or damaged file fails with what is wrong where, not later.
 *
 * @example
 * ```ts
 * import { parseContract } from "./contract.ts";
 * const contract = parseContract('{"interfaces": {}, "structs": {}, "enums": {}}');
 * if (Object.keys(contract.structs).length !== 0) throw new Error("empty");
 * let refused = "";
 * try {
 *   parseContract('{"interfaces": {"a.capnp:Foo": {"id": "e1"}}, "structs": {}, "enums": {}}');
 * } catch (error) {
 *   refused = (error as Error).message;
 * }
 * if (refused !== 'interfaces["a.capnp:Foo"].methods is not a list') throw new Error(refused);
 * ```
 */
export function parseContract(text: string): WireContract {
  const value: unknown = JSON.parse(text);
  const fail = (what: string): never => {
    throw new Error(what);
  };
  const object = (v: unknown, at: string) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? v as Record<string, unknown>
      : fail(`${at} is not an object`);
  const list = (v: unknown, at: string) => Array.isArray(v) ? v : fail(`${at} is not a list`);
  const stringAt = (v: unknown, at: string) =>
    typeof v === "string" ? v : fail(`${at} is not a string`);
  const stringsAt = (v: unknown, at: string) =>
    list(v, at).forEach((t, i) => stringAt(t, `${at}[${i}]`));
  const fields = (v: unknown, at: string) =>
    list(v, at).forEach((f, i) => {
      const ok = Array.isArray(f) && (f.length === 2 || f.length === 3) &&
        typeof f[0] === "string" && typeof f[1] === "string" &&
        (f.length === 2 || Number.isInteger(f[2]));
      if (!ok) fail(`${at}[${i}] is not a [name, type] field`);
    });
  const top = object(value, "the file");
  if (top.version !== undefined && top.version !== CONTRACT_VERSION) {
    fail(
      `"version" is ${JSON.stringify(top.version)}: this gen reads version ${CONTRACT_VERSION} ` +
        "and contracts without one",
    );
  }
  const entries = (key: string) =>
    Object.entries(object(top[key], `"${key}"`)).map(([name, entry]) =>
      [`${key}[${JSON.stringify(name)}]`, object(entry, `${key}[${JSON.stringify(name)}]`)] as const
    );
  for (const [at, i] of entries("interfaces")) {
    stringAt(i.id, `${at}.id`);
    if (i.extends !== undefined) stringsAt(i.extends, `${at}.extends`);
    list(i.methods, `${at}.methods`).forEach((m, n) => {
      const method = object(m, `${at}.methods[${n}]`);
      stringAt(method.name, `${at}.methods[${n}].name`);
      fields(method.params, `${at}.methods[${n}].params`);
      fields(method.results, `${at}.methods[${n}].results`);
    });
  }
  for (const [at, struct] of entries("structs")) {
    stringAt(struct.id, `${at}.id`);
    fields(struct.fields, `${at}.fields`);
    if (struct.group !== undefined && struct.group !== true) fail(`${at}.group is not true`);
    if (struct.parameters !== undefined) stringsAt(struct.parameters, `${at}.parameters`);
    if (struct.ordinals !== undefined) {
      const ordinals = list(struct.ordinals, `${at}.ordinals`);
      if (!ordinals.every((o) => o === null || Number.isInteger(o))) {
        fail(`${at}.ordinals is not a list of ordinals`);
      }
    }
  }
  for (const [at, e] of entries("enums")) {
    stringAt(e.id, `${at}.id`);
    stringsAt(e.values, `${at}.values`);
  }
  return top as unknown as WireContract;
}

/** `Name` of `file.capnp:Name`. */
function shortName(key: string): string {
  return key.slice(key.indexOf(":") + 1);
}

/** A type with its named types' file prefixes removed. */
function shortType(type: string): string {
  return type.replace(/[^\s(),]+:/g, "");
}
