/**
 * Our mpgen: turns a compiled schema (the `CodeGeneratorRequest` that
 * `capnp compile -o-` writes) into one TypeScript module per `.capnp` file,
 * `schemas/gen/<path>.mp.ts` for `schemas/<path>.capnp`, holding
 *
 * - the TypeScript interface of every Cap'n Proto interface, which
 *   application code implements and calls;
 * - a descriptor per interface, struct and enum (see `descriptor.ts`), from
 *   which the runtime builds client proxies and server adapters.
 *
 * libmultiprocess' field conventions decide the signatures: `result` is the
 * return value, `hasX` makes `X` optional, several result fields make an
 * object, and `Context`, `$count(0)` and `$skip` fields are hidden.
 * Capabilities show who owns them: a parameter is `$.Lent<T>` (the method
 * borrows it for the call), a result `$.Owned<T>` (the caller releases it). A list
 * of `{key, value}` structs is a `Map` (Bitcoin Core's generic
 * `List(Pair(K, V))` too); a generic struct is a generic TypeScript
 * interface, and each module that uses it with bound parameters gets a
 * layout of its own for those bindings; a list of interfaces is an array of
 * proxies. What cannot be mapped is refused with a
 * {@linkcode SchemaMappingError} naming the field.
 *
 * @example
 * ```ts ignore
 * import { generateProxies } from "./mpgen.ts";
 * const files = generateProxies(request); // Map<"ipc/init.mp.ts", source>
 * ```
 * @module
 */
import {
  type Annotation,
  type Brand,
  Brand_Binding,
  Brand_Scope,
  CodeGeneratorRequest,
  Field,
  type Method,
  Node,
  type Type,
  Type as TypeKind,
  Type_AnyPointer,
  Type_AnyPointer_Unconstrained,
  Value,
} from "capnp-es/capnp/schema";
import { posix } from "node:path";
import { readRequest } from "./capnp.ts";

const CONTEXT_ID = 0x9c44e6645d0b22c6n;
const COUNT_ID = 0xd02682b319f69b38n;
const SKIP_ID = 0x824c08b82695d8ddn;
const EXCEPTION_ID = 0x996a183200992f88n;
const MAPPING_FILE_ID = 0xd5c2a8f37e41b6a9n;

const SCALARS: Record<number, [kind: string, ts: string]> = {
  [TypeKind.BOOL]: ["bool", "boolean"],
  [TypeKind.INT8]: ["int8", "number"],
  [TypeKind.INT16]: ["int16", "number"],
  [TypeKind.INT32]: ["int32", "number"],
  [TypeKind.INT64]: ["int64", "bigint"],
  [TypeKind.UINT8]: ["uint8", "number"],
  [TypeKind.UINT16]: ["uint16", "number"],
  [TypeKind.UINT32]: ["uint32", "number"],
  [TypeKind.UINT64]: ["uint64", "bigint"],
  [TypeKind.FLOAT32]: ["float32", "number"],
  [TypeKind.FLOAT64]: ["float64", "number"],
};

/**
 * Members every proxy has besides its interface's methods (`Remote<T>`):
 * a method of the same name would be hidden. libmultiprocess' own
 * `destroy(context)` is that member.
 */
const PROXY_MEMBERS = new Set(["dup", "destroy"]);

/** A schema the generator cannot map, named by its location. */
export class SchemaMappingError extends Error {
  override name = "SchemaMappingError";
}

/** Where the generated modules will live. */
export interface ProxyOptions {
  /**
   * Path of `schemas/descriptor.ts` relative to the output folder, which
   * holds `<path>.mp.ts` for every `<path>.capnp`. Default: `../descriptor.ts`.
   */
  readonly descriptor?: string;
}

/**
 * Generated modules by path relative to the output folder
 * (`ipc/init.capnp` makes `ipc/init.mp.ts`), from a serialized request.
 */
export function generateProxies(
  request: Uint8Array,
  options: ProxyOptions = {},
): Map<string, string> {
  const root = readRequest(request).getRoot(CodeGeneratorRequest);
  const nodes = new Map<bigint, Node>();
  for (const node of root.nodes) nodes.set(node.id, node);
  const out = new Map<string, string>();
  for (const file of root.requestedFiles) {
    const path = modulePath(file.filename);
    const descriptor = importSpecifier(path, options.descriptor ?? "../descriptor.ts");
    out.set(path, new FileGenerator(nodes, file.id, path, descriptor).emit());
  }
  return out;
}

/** `<path>.mp.ts` for `<path>.capnp`. */
function modulePath(capnpPath: string): string {
  return capnpPath.replace(/^\//, "").replace(/\.capnp$/, ".mp.ts");
}

/**
 * The import specifier of `target` in module `from`, both given relative to
 * the output folder (`target` may lie outside it: `../descriptor.ts`).
 */
export function importSpecifier(from: string, target: string): string {
  const fromDir = posix.normalize(posix.dirname(from)).split("/").filter((s) => s !== ".");
  const to = posix.normalize(target).split("/");
  let common = 0;
  while (common < fromDir.length && common < to.length - 1 && fromDir[common] === to[common]) {
    common++;
  }
  const up = fromDir.slice(common).map(() => "..");
  const path = [...up, ...to.slice(common)].join("/");
  return path.startsWith(".") ? path : `./${path}`;
}

/**
 * What the generic parameters of the struct being read stand for: a type
 * at a use site (read where the binding was written), or a TypeScript type
 * parameter while the generic struct itself is declared.
 */
type Bound = { readonly type: Type; readonly bindings: Bindings } | { readonly name: string };
/** Bound parameters by the id of the generic node declaring them. */
type Bindings = ReadonlyMap<bigint, readonly Bound[]>;
const UNBOUND: Bindings = new Map();

/** Writes the module of one `.capnp` file. */
class FileGenerator {
  readonly #nodes: Map<bigint, Node>;
  readonly #fileId: bigint;
  readonly #path: string;
  readonly #descriptor: string;
  /** Names imported from other generated modules, by module specifier. */
  readonly #imports = new Map<string, Set<string>>();
  /** Every name this module declares or imports, with where it comes from. */
  readonly #names = new Map<string, string>();
  /** Layouts of generic structs as this module uses them, by node and bindings. */
  readonly #specializations = new Map<string, string>();
  readonly #annotationIds: { set?: bigint; type?: bigint };
  readonly #types: string[] = [];
  readonly #values: string[] = [];
  /** Declaring a generic struct: its parameters have no layout yet. */
  #declaring = false;

  constructor(nodes: Map<bigint, Node>, fileId: bigint, path: string, descriptor: string) {
    this.#nodes = nodes;
    this.#fileId = fileId;
    this.#path = path;
    this.#descriptor = descriptor;
    const mapping = nodes.get(MAPPING_FILE_ID);
    this.#annotationIds = {};
    if (mapping !== undefined) {
      for (const nested of mapping.nestedNodes) {
        if (nested.name === "set") this.#annotationIds.set = nested.id;
        if (nested.name === "type") this.#annotationIds.type = nested.id;
      }
    }
  }

  emit(): string {
    this.#declare(this.#node(this.#fileId));
    this.#visit(this.#node(this.#fileId));
    const lines = [
      "// Generated by `deno task gen` from schemas/; do not edit.",
      "// deno-lint-ignore-file",
      `import type * as $ from "${this.#descriptor}";`,
    ];
    for (const [module, names] of [...this.#imports].sort()) {
      lines.push(`import { ${[...names].sort().join(", ")} } from "${module}";`);
    }
    return [...lines, "", ...this.#types, ...this.#values].join("\n");
  }

  #node(id: bigint): Node {
    const node = this.#nodes.get(id);
    if (node === undefined) {
      throw new SchemaMappingError(`schema node 0x${id.toString(16)} missing`);
    }
    return node;
  }

  /** Records the names this module declares, so imports cannot shadow them. */
  #declare(scope: Node): void {
    for (const nested of scope.nestedNodes) {
      const node = this.#node(nested.id);
      if (node.which() === Node.CONST || node.which() === Node.ANNOTATION) continue;
      this.#names.set(tsName(node), this.#path);
      this.#declare(node);
    }
  }

  /** Emits every struct, enum and interface nested in `scope`. */
  #visit(scope: Node): void {
    for (const nested of scope.nestedNodes) {
      const node = this.#node(nested.id);
      switch (node.which()) {
        case Node.STRUCT:
          if (!node.struct.isGroup) this.#emitStruct(node);
          break;
        case Node.ENUM:
          this.#emitEnum(node);
          break;
        case Node.INTERFACE:
          this.#emitInterface(node);
          break;
      }
      this.#visit(node);
    }
  }

  /** The TypeScript identifier of a node, importing it when it lives in another file. */
  #ref(id: bigint): string {
    const node = this.#node(id);
    const name = tsName(node);
    let file = node;
    while (file.which() !== Node.FILE) file = this.#node(file.scopeId);
    if (file.id !== this.#fileId) {
      const module = importSpecifier(this.#path, modulePath(file.displayName));
      const known = this.#names.get(name);
      if (known !== undefined && known !== module) {
        throw new SchemaMappingError(
          `${this.#path}: ${name} from ${module} clashes with ${name} from ${
            known === this.#path ? "this file" : known
          }; rename one of them`,
        );
      }
      this.#names.set(name, module);
      if (!this.#imports.has(module)) this.#imports.set(module, new Set());
      this.#imports.get(module)!.add(name);
    }
    return name;
  }

  #emitEnum(node: Node): void {
    const name = tsName(node);
    const values = node.enum.enumerants.map((e) => e.name);
    this.#types.push(
      `/** Enum \`${schemaName(node)}\`. */`,
      `export type ${name} = ${values.map((v) => JSON.stringify(v)).join(" | ")};`,
      "",
    );
  }

  #emitStruct(node: Node): void {
    const name = tsName(node);
    const where = schemaName(node);
    if (node.isGeneric) {
      // A generic struct has no layout of its own: each use site emits one for its bindings.
      if (node.parameters.length === 0) {
        throw new SchemaMappingError(`${where}: structs nested in generic types are not supported`);
      }
      const parameters = node.parameters.map((p) => p.name);
      this.#declaring = true;
      const fields = this.#fields(
        node,
        where,
        new Map([[node.id, parameters.map((name) => ({ name }))]]),
      );
      this.#declaring = false;
      this.#types.push(
        `/** Struct \`${where}\` (generic). */`,
        `export interface ${name}<${parameters.join(", ")}> {`,
        ...members(fields),
        "}",
        "",
      );
      return;
    }
    const fields = this.#fields(node, where, UNBOUND);
    this.#types.push(
      `/** Struct \`${where}\`. */`,
      `export interface ${name} {`,
      ...members(fields),
      "}",
      "",
    );
    this.#values.push(
      `/** Layout of \`${where}\`. */`,
      `export const ${name}: $.StructDescriptor = ${this.#structLiteral(node, fields)};`,
      "",
    );
  }

  #structLiteral(node: Node, fields: GeneratedField[]): string {
    const layout = node.struct;
    return `{ name: ${JSON.stringify(schemaName(node))}, id: 0x${node.id.toString(16)}n, ` +
      `dataWords: ${layout.dataWordCount}, pointers: ${layout.pointerCount}, fields: [${
        fields.map((f) => f.literal).join(", ")
      }] }`;
  }

  #emitInterface(node: Node): void {
    const name = tsName(node);
    if (node.isGeneric) {
      throw new SchemaMappingError(`${schemaName(node)}: generic interfaces are not supported`);
    }
    const methods = this.#allMethods(node);
    const callback = isCallback(methods.map((m) => m.method.name));
    const signatures: string[] = [];
    for (const { method, owner } of methods) {
      const shape = this.#method(owner, method);
      if (shape.descriptor.special !== undefined) continue;
      if (PROXY_MEMBERS.has(method.name)) {
        throw new SchemaMappingError(
          `${schemaName(owner)}.${method.name}: every proxy has its own \`${method.name}()\` ` +
            "(dup, destroy); rename the method",
        );
      }
      signatures.push(`  ${method.name}(${shape.args}): $.Awaitable<${shape.returns}>;`);
    }
    const doc = `/** Interface \`${schemaName(node)}\`${
      callback ? " (a callback: a plain function)" : ""
    }. */`;
    if (callback) {
      const call = methods.find((m) => m.method.name === "call")!;
      const shape = this.#method(call.owner, call.method);
      this.#types.push(
        doc,
        `export type ${name} = (${shape.args}) => $.Awaitable<${shape.returns}>;`,
        "",
      );
    } else {
      this.#types.push(doc, `export interface ${name} {`, ...signatures, "}", "");
    }
    const own = node.interface.methods.map((m) => this.#method(node, m).literal);
    const supers = node.interface.superclasses.map((s) => `() => ${this.#ref(s.id)}`);
    this.#values.push(
      `/** Descriptor of \`${schemaName(node)}\`: pass it to the runtime's proxy functions. */`,
      `export const ${name}: $.InterfaceDescriptor<${name}> = { name: ${
        JSON.stringify(schemaName(node))
      }, id: 0x${node.id.toString(16)}n, callback: ${callback}, superclasses: [${
        supers.join(", ")
      }], methods: [\n${own.map((m) => `  ${m},\n`).join("")}] };`,
      "",
    );
  }

  /** Own and inherited methods, most derived first. */
  #allMethods(node: Node): { method: Method; owner: Node }[] {
    const out: { method: Method; owner: Node }[] = [];
    const seen = new Set<bigint>();
    const walk = (n: Node) => {
      if (seen.has(n.id)) return;
      seen.add(n.id);
      for (const method of n.interface.methods) {
        if (!out.some((m) => m.method.name === method.name)) out.push({ method, owner: n });
      }
      for (const s of n.interface.superclasses) walk(this.#node(s.id));
    };
    walk(node);
    return out;
  }

  #method(
    owner: Node,
    method: Method,
  ): { descriptor: { special?: string }; args: string; returns: string; literal: string } {
    const where = `${schemaName(owner)}.${method.name}`;
    if (method.implicitParameters.length > 0) {
      throw new SchemaMappingError(`${where}: generic methods are not supported`);
    }
    const params = this.#node(method.paramStructType);
    const results = this.#node(method.resultStructType);
    const inputs = this.#fields(params, where, UNBOUND, "Lent");
    const outputs = this.#fields(results, where, UNBOUND, "Owned");
    const context = inputs.find((f) => f.context)?.name ?? null;
    const visibleIn = inputs.filter((f) => !f.hidden);
    const visibleOut = outputs.filter((f) => !f.hidden && !f.exception);
    const special = method.name === "construct" &&
        inputs.length === 1 && inputs[0].interfaceName === "ThreadMap"
      ? "construct"
      : method.name === "destroy" && visibleIn.length === 0 && visibleOut.length === 0
      ? "destroy"
      : undefined;
    const returnsKind = visibleOut.length === 0
      ? "void"
      : visibleOut.length === 1 && visibleOut[0].name === "result"
      ? "result"
      : "object";
    const returns = returnsKind === "void"
      ? "void"
      : returnsKind === "result"
      ? visibleOut[0].ts + (visibleOut[0].presence ? " | undefined" : "")
      : `{ ${visibleOut.map((f) => `${f.name}${f.presence ? "?" : ""}: ${f.ts}`).join("; ")} }`;
    const args = visibleIn.map((f) => `${f.name}${f.presence ? "?" : ""}: ${f.ts}`).join(", ");
    const literal = `{ name: ${JSON.stringify(method.name)}, ordinal: ${method.codeOrder}, ` +
      `context: ${JSON.stringify(context)}, returns: ${JSON.stringify(returnsKind)}, ` +
      (special ? `special: ${JSON.stringify(special)}, ` : "") +
      `params: ${this.#structLiteral(params, inputs)}, results: ${
        this.#structLiteral(results, outputs)
      } }`;
    return { descriptor: { special }, args, returns, literal };
  }

  /**
   * The fields of a struct node, with presence and hiding resolved. A
   * method's params and results pass `ownership`, the marker their
   * capabilities (and lists of them) get in the signature.
   */
  #fields(
    node: Node,
    where: string,
    bindings: Bindings,
    ownership?: Ownership,
  ): GeneratedField[] {
    const fields = [...node.struct.fields];
    if (node.struct.discriminantCount > 0) {
      throw new SchemaMappingError(`${where}: unions are not supported`);
    }
    const names = new Set(fields.map((f) => f.name));
    const presenceOf = (name: string) => {
      const flag = `has${name[0].toUpperCase()}${name.slice(1)}`;
      return names.has(flag) ? flag : undefined;
    };
    const flags = new Set(fields.map((f) => presenceOf(f.name)).filter((f) => f !== undefined));
    return fields.map((field) => {
      const at = `${where}.${field.name}`;
      if (field.which() !== Field.SLOT) {
        throw new SchemaMappingError(`${at}: groups are not supported`);
      }
      const slot = field.slot;
      const type = this.#type(slot.type, field.annotations, at, bindings, ownership);
      const isFlag = flags.has(field.name) && slot.type.which() === TypeKind.BOOL;
      const hidden = isFlag || type.context === true || type.countZero === true ||
        hiddenByAnnotation(field.annotations);
      const presence = isFlag ? undefined : presenceOf(field.name);
      const exception = field.annotations.some((a) => a.id === EXCEPTION_ID);
      const props = [
        `name: ${JSON.stringify(field.name)}`,
        `type: ${type.literal}`,
        `offset: ${wireOffset(slot.offset, slot.type)}`,
      ];
      const fallback = slot.hadExplicitDefault ? defaultOf(slot.defaultValue, at) : undefined;
      if (fallback !== undefined) props.push(`default: ${fallback}`);
      if (presence) {
        const flag = fields.find((f) => f.name === presence)!;
        props.push(`presence: ${flag.slot.offset}`);
      }
      if (hidden) props.push("hidden: true");
      if (exception) props.push("exception: true");
      return {
        name: field.name,
        ts: type.ts,
        hidden,
        presence,
        exception,
        context: type.context,
        interfaceName: type.interfaceName,
        literal: `{ ${props.join(", ")} }`,
      };
    });
  }

  #type(
    type: Type,
    annotations: Iterable<Annotation>,
    at: string,
    bindings: Bindings,
    ownership?: Ownership,
  ): {
    literal: string;
    ts: string;
    context?: boolean;
    countZero?: boolean;
    interfaceName?: string;
  } {
    const custom = this.#annotationIds.type === undefined
      ? undefined
      : [...annotations].find((a) => a.id === this.#annotationIds.type);
    if (custom !== undefined) {
      const inner = this.#type(type, [], at, bindings);
      const name = JSON.stringify(custom.value.text);
      return {
        literal: `{ kind: "custom", name: ${name}, wire: ${inner.literal} }`,
        ts: `$.CustomType<${name}>`,
      };
    }
    const which = type.which();
    if (which in SCALARS) {
      const [kind, ts] = SCALARS[which];
      return { literal: `{ kind: "${kind}" }`, ts };
    }
    switch (which) {
      case TypeKind.VOID:
        return { literal: `{ kind: "void" }`, ts: "undefined" };
      case TypeKind.TEXT:
        return { literal: `{ kind: "text" }`, ts: "string" };
      case TypeKind.DATA:
        return { literal: `{ kind: "data" }`, ts: "Uint8Array" };
      case TypeKind.ENUM: {
        const node = this.#node(type.enum.typeId);
        const values = node.enum.enumerants.map((e) => JSON.stringify(e.name)).join(", ");
        return {
          literal: `{ kind: "enum", name: ${
            JSON.stringify(schemaName(node))
          }, values: [${values}] }`,
          ts: this.#ref(node.id),
        };
      }
      case TypeKind.LIST: {
        const element = type.list.elementType;
        const isSet = this.#annotationIds.set !== undefined &&
          [...annotations].some((a) => a.id === this.#annotationIds.set);
        if (!isSet && element.which() === TypeKind.STRUCT) {
          const entry = this.#struct(element, `${at}[]`, bindings);
          const names = entry.node.struct.fields.map((f) => f.name);
          if (names.length === 2 && names[0] === "key" && names[1] === "value") {
            const [key, value] = this.#fields(entry.node, at, entry.bindings);
            return {
              literal: `{ kind: "map", entry: ${entry.thunk} }`,
              ts: `Map<${key.ts}, ${value.ts}>`,
            };
          }
        }
        const inner = this.#type(element, [], `${at}[]`, bindings, ownership);
        if (isSet) {
          return {
            literal: `{ kind: "list", element: ${inner.literal}, set: true }`,
            ts: `Set<${inner.ts}>`,
          };
        }
        return {
          literal: `{ kind: "list", element: ${inner.literal} }`,
          ts: inner.ts.includes(" ") ? `(${inner.ts})[]` : `${inner.ts}[]`,
        };
      }
      case TypeKind.STRUCT: {
        const { node, thunk, ts } = this.#struct(type, at, bindings);
        if (node.id === CONTEXT_ID) {
          return { literal: `{ kind: "struct", struct: ${thunk} }`, ts: "never", context: true };
        }
        return {
          literal: `{ kind: "struct", struct: ${thunk} }`,
          ts,
          countZero: countIsZero(node.annotations),
        };
      }
      case TypeKind.INTERFACE: {
        const node = this.#node(type.interface.typeId);
        if (node.isGeneric) {
          throw new SchemaMappingError(`${at}: generic interfaces are not supported`);
        }
        const name = this.#ref(node.id);
        return {
          literal: `{ kind: "interface", iface: () => ${name} }`,
          ts: `${ownership === undefined ? name : `$.${ownership}<${name}>`} | null`,
          countZero: countIsZero(node.annotations),
          interfaceName: schemaName(node),
        };
      }
      default: {
        const pointer = type.anyPointer;
        if (pointer.which() !== Type_AnyPointer.PARAMETER) {
          const capability = pointer.which() === Type_AnyPointer.UNCONSTRAINED &&
            pointer.unconstrained.which() === Type_AnyPointer_Unconstrained.CAPABILITY;
          throw new SchemaMappingError(
            capability
              ? `${at}: untyped capabilities (Capability) are not supported; name the interface`
              : `${at}: AnyPointer fields are not supported`,
          );
        }
        const { scopeId, parameterIndex } = pointer.parameter;
        const bound = bindings.get(scopeId)?.[parameterIndex];
        if (bound === undefined) {
          throw new SchemaMappingError(`${at}: generic parameter not bound to a type`);
        }
        return "name" in bound
          ? { literal: "", ts: bound.name }
          : this.#type(bound.type, [], at, bound.bindings);
      }
    }
  }

  /**
   * A struct type: its node, the descriptor thunk and the TypeScript type.
   * A generic struct gets a layout for its bindings, emitted once per
   * module.
   */
  #struct(
    type: Type,
    at: string,
    bindings: Bindings,
  ): { node: Node; thunk: string; ts: string; bindings: Bindings } {
    const node = this.#node(type.struct.typeId);
    const name = this.#ref(node.id);
    if (!node.isGeneric) return { node, thunk: `() => ${name}`, ts: name, bindings: UNBOUND };
    const bound = this.#bind(node, type.struct.brand, at, bindings);
    const own = new Map([[node.id, bound]]);
    const args = bound.map((b) =>
      "name" in b ? { ts: b.name, literal: "" } : this.#type(b.type, [], at, b.bindings)
    );
    const ts = `${name}<${args.map((a) => a.ts).join(", ")}>`;
    if (this.#declaring) return { node, thunk: "", ts, bindings: own };
    // Keyed by wire types: `List(Int8)` and `List(Int32)` are both `number[]`.
    const key = `${node.id}<${args.map((a) => a.literal).join(", ")}>`;
    let layout = this.#specializations.get(key);
    if (layout === undefined) {
      layout = `${name}$${this.#specializations.size + 1}`;
      this.#specializations.set(key, layout);
      const fields = this.#fields(node, schemaName(node), own);
      this.#values.push(
        `/** Layout of \`${ts}\`. */`,
        `const ${layout}: $.StructDescriptor = ${this.#structLiteral(node, fields)};`,
        "",
      );
    }
    return { node, thunk: `() => ${layout}`, ts, bindings: own };
  }

  /** What the parameters of generic struct `node` stand for where `brand` uses it. */
  #bind(node: Node, brand: Brand, at: string, bindings: Bindings): readonly Bound[] {
    const unbound = () =>
      new SchemaMappingError(
        `${at}: ${schemaName(node)} is generic; bind its parameters (${
          node.parameters.map((p) => p.name).join(", ")
        }) to types`,
      );
    const scope = brand.scopes.find((s) => s.scopeId === node.id);
    if (scope === undefined) throw unbound();
    if (scope.which() === Brand_Scope.INHERIT) {
      const inherited = bindings.get(node.id);
      if (inherited === undefined) throw unbound();
      return inherited;
    }
    return scope.bind.map((binding) => {
      if (binding.which() === Brand_Binding.UNBOUND) throw unbound();
      return { type: binding.type, bindings };
    });
  }
}

function members(fields: GeneratedField[]): string[] {
  return fields.filter((f) => !f.hidden).map((f) =>
    `  ${f.name}${f.presence ? "?" : ""}: ${f.ts};`
  );
}

/** How a method's signature marks its capabilities (`descriptor.ts`'s `Lent` and `Owned`). */
type Ownership = "Lent" | "Owned";

interface GeneratedField {
  name: string;
  ts: string;
  hidden: boolean;
  presence?: string;
  exception: boolean;
  context?: boolean;
  interfaceName?: string;
  literal: string;
}

/** Display name without the `file.capnp:` prefix. */
function schemaName(node: Node): string {
  return node.displayName.slice(
    node.displayNamePrefixLength === 0 ? 0 : node.displayName.indexOf(":") + 1,
  );
}

/** `Outer.Inner` becomes `Outer_Inner`. */
function tsName(node: Node): string {
  return schemaName(node).replaceAll(".", "_");
}

function isCallback(methods: string[]): boolean {
  const rest = methods.filter((m) => m !== "destroy");
  return rest.length === 1 && rest[0] === "call";
}

function countIsZero(annotations: Iterable<Annotation>): boolean {
  return [...annotations].some((a) => a.id === COUNT_ID && a.value.int32 === 0);
}

function hiddenByAnnotation(annotations: Iterable<Annotation>): boolean {
  return countIsZero(annotations) || [...annotations].some((a) => a.id === SKIP_ID);
}

/**
 * Bit offset of a Bool, byte offset of another scalar, pointer index of the
 * rest (the schema counts offsets in units of the field's own size).
 */
function wireOffset(offset: number, type: Type): number {
  const bits = scalarBits(type);
  return bits <= 1 ? offset : offset * bits / 8;
}

/** Size in bits of a data-section type; 0 for pointer types. */
function scalarBits(type: Type): number {
  switch (type.which()) {
    case TypeKind.BOOL:
      return 1;
    case TypeKind.INT8:
    case TypeKind.UINT8:
      return 8;
    case TypeKind.INT16:
    case TypeKind.UINT16:
    case TypeKind.ENUM:
      return 16;
    case TypeKind.INT32:
    case TypeKind.UINT32:
    case TypeKind.FLOAT32:
      return 32;
    case TypeKind.INT64:
    case TypeKind.UINT64:
    case TypeKind.FLOAT64:
      return 64;
    default:
      return 0;
  }
}

/** The literal of a scalar default, or throws for pointer defaults. */
function defaultOf(value: Value, at: string): string | undefined {
  switch (value.which()) {
    case Value.BOOL:
      return String(value.bool);
    case Value.INT8:
      return String(value.int8);
    case Value.INT16:
      return String(value.int16);
    case Value.INT32:
      return String(value.int32);
    case Value.INT64:
      return `${value.int64}n`;
    case Value.UINT8:
      return String(value.uint8);
    case Value.UINT16:
      return String(value.uint16);
    case Value.UINT32:
      return String(value.uint32);
    case Value.UINT64:
      return `${value.uint64}n`;
    case Value.FLOAT32:
      return floatLiteral(value.float32);
    case Value.FLOAT64:
      return floatLiteral(value.float64);
    case Value.ENUM:
      return String(value.enum);
    default:
      throw new SchemaMappingError(`${at}: default values of pointer fields are not supported`);
  }
}

function floatLiteral(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  return Object.is(x, -0) ? "-0" : String(x);
}
