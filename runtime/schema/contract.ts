/**
 * The wire contract of a set of schemas, and the gate that keeps it: what
 * peers already built against a schema rely on is its interface ids, and,
 * by ordinal, the types of its methods' params and results and of its
 * structs' fields. `deno task gen` writes the contract of each output folder
 * next to the generated modules (`wire-contract.json`, committed with them)
 * and, before writing anything, refuses a schema change that
 * {@linkcode contractBreaks} finds against the committed one. Adding methods
 * and fields under new ordinals and renaming them keep the contract.
 *
 * Types are written in schema syntax: `Int32`, `Text`, `List(Data)`, and a
 * named type as `<file>:<Name>` (`ipc/common.capnp:BlockRef`), with its
 * bound parameters for a generic struct (`<file>:Pair(Text, Int32)`).
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
} from "capnp-es/capnp/schema";
import { readRequest } from "./capnp.ts";

/**
 * One field: its name and its type, at its ordinal (its index in the list),
 * and, for a union member, the discriminant value that selects it. A group
 * is typed `group(<file>:<Struct>.<group>)`, its fields listed under that name.
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
}

/** An enum: its values by ordinal. */
export interface ContractEnum {
  /** The enum's 64-bit id, in hex. */
  readonly id: string;
  /** Its values' names, by ordinal. */
  readonly values: readonly string[];
}

/** What peers rely on, keyed by `<file>:<Name>`. */
export interface WireContract {
  /** Every interface. */
  readonly interfaces: Readonly<Record<string, ContractInterface>>;
  /** Every struct declared by name, and every group (method param and result structs are in their methods). */
  readonly structs: Readonly<Record<string, ContractStruct>>;
  /** Every enum. */
  readonly enums: Readonly<Record<string, ContractEnum>>;
}

/** A contract with nothing in it, to add files' contracts to. */
export function emptyContract(): WireContract {
  return { interfaces: {}, structs: {}, enums: {} };
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
  const fields = (struct: Node): ContractField[] =>
    [...struct.struct.fields].map((f) => {
      let type: string;
      if (f.which() === Field.GROUP) {
        const group = node(f.group.typeId);
        structs[group.displayName] = {
          id: group.id.toString(16),
          fields: fields(group),
          group: true,
        };
        type = `group(${group.displayName})`;
      } else {
        type = typeName(f.slot.type, nodes);
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
        case Node.STRUCT:
          structs[n.displayName] = { id, fields: fields(n) };
          break;
        case Node.ENUM:
          enums[n.displayName] = { id, values: n.enum.enumerants.map((e) => e.name) };
          break;
        case Node.INTERFACE:
          interfaces[n.displayName] = {
            id,
            methods: n.interface.methods.map((m) => ({
              name: m.name,
              params: fields(node(m.paramStructType)),
              results: fields(node(m.resultStructType)),
            })),
          };
          break;
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
      `{ "id": ${j(i.id)}, "methods": [${i.methods.map((m) => `\n   ${j(m)}`).join(",")}\n  ] }`,
  );
  const structs = table(contract.structs, j);
  const enums = table(contract.enums, j);
  return `{\n "interfaces": ${interfaces},\n "structs": ${structs},\n "enums": ${enums}\n}\n`;
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
 * (matched by id), method, field or enum value, or an ordinal whose type is
 * now another. A struct or enum matched neither by name nor by id was
 * renamed or removed; the fields that use it are checked against its new
 * form.
 */
export function contractBreaks(before: WireContract, after: WireContract): string[] {
  const breaks: string[] = [];
  const compatible = (a: string, b: string) => sameWire(before, after, a, b, new Set());
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
    old.methods.forEach((method, ordinal) => {
      const next = now.methods[ordinal];
      const at = `${name}.${method.name} @${ordinal}`;
      if (next === undefined) return breaks.push(`${at}: method removed`);
      const renamed = next.name === method.name ? "" : ` (now ${next.name})`;
      for (
        const [what, a, b] of [["param", method.params, next.params], [
          "result",
          method.results,
          next.results,
        ]] as const
      ) {
        breaks.push(
          ...fieldBreaks(a, b, compatible, true).map((m) => `${at}${renamed}: ${what} ${m}`),
        );
      }
    });
  }
  for (const [key, old] of Object.entries(before.structs)) {
    const now = after.structs[key] ?? Object.values(after.structs).find((s) => s.id === old.id);
    if (now === undefined) continue;
    breaks.push(
      ...fieldBreaks(old.fields, now.fields, compatible, !old.group).map((m) =>
        `struct ${shortName(key)}: field ${m}`
      ),
    );
  }
  for (const [key, old] of Object.entries(before.enums)) {
    const now = after.enums[key] ?? Object.values(after.enums).find((e) => e.id === old.id);
    if (now === undefined) continue;
    old.values.slice(now.values.length).forEach((value, i) =>
      breaks.push(`enum ${shortName(key)}: value ${value} @${now.values.length + i} removed`)
    );
  }
  return breaks;
}

/**
 * What `after` breaks of the fields `before`, by position. A field is named
 * with its ordinal where the position is the ordinal: not in a group, nor
 * in a struct holding one (a group takes one position, its fields ordinals).
 */
function fieldBreaks(
  before: readonly ContractField[],
  after: readonly ContractField[],
  compatible: (a: string, b: string) => boolean,
  numbered: boolean,
): string[] {
  const ordinals = numbered && !before.some(([, type]) => type.startsWith("group("));
  return before.flatMap(([name, type, member], i) => {
    const field = ordinals ? `${name} @${i}` : name;
    const next = after[i];
    if (next === undefined) return [`${field} removed (was ${shortType(type)})`];
    if (!compatible(type, next[1])) {
      return [`${field} was ${shortType(type)}, now ${shortType(next[1])}`];
    }
    // A field may move into a new union as its first member: old data reads as that member.
    if (member === next[2] || (member === undefined && next[2] === 0)) return [];
    return [`${field} was ${unionPlace(member)}, now ${unionPlace(next[2])}`];
  });
}

/** Where a field stands with respect to its struct's union. */
function unionPlace(member: number | undefined): string {
  return member === undefined ? "outside the union" : `union member ${member}`;
}

/**
 * Whether type `a` of `before` is encoded as type `b` of `after`: the same
 * name, lists of such types, interfaces of the same id, enums, or structs
 * whose old fields all keep their types (a renamed struct).
 */
function sameWire(
  before: WireContract,
  after: WireContract,
  a: string,
  b: string,
  seen: Set<string>,
): boolean {
  if (a === b) return true;
  for (const wrapper of [/^List\((.*)\)$/, /^group\((.*)\)$/]) {
    const [wa, wb] = [wrapper.exec(a), wrapper.exec(b)];
    if (wa !== null || wb !== null) {
      return wa !== null && wb !== null && sameWire(before, after, wa[1], wb[1], seen);
    }
  }
  if (before.interfaces[a] !== undefined) {
    return before.interfaces[a].id === after.interfaces[b]?.id;
  }
  if (before.enums[a] !== undefined) return after.enums[b] !== undefined;
  const [sa, sb] = [before.structs[a], after.structs[b]];
  if (sa === undefined || sb === undefined) return false;
  const pair = `${a} ${b}`;
  if (seen.has(pair)) return true;
  seen.add(pair);
  return sa.fields.every(([, type, member], i) =>
    sb.fields[i] !== undefined && sb.fields[i][2] === member &&
    sameWire(before, after, type, sb.fields[i][1], seen)
  );
}

/** `Name` of `file.capnp:Name`. */
function shortName(key: string): string {
  return key.slice(key.indexOf(":") + 1);
}

/** A type with its named types' file prefixes removed. */
function shortType(type: string): string {
  return type.replace(/[^\s(),]+:/g, "");
}
