/**
 * mpgen: what the generated descriptors say about libmultiprocess'
 * conventions, and the clear refusals of shapes it cannot map.
 *
 * @module
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../../assert.ts";
import {
  generateProxies,
  importSpecifier,
  SchemaMappingError,
} from "../../../runtime/schema/mpgen.ts";
import { capnpAvailable, compileSchemas } from "../../../runtime/schema/capnp.ts";
import { Foo, FooInit, FooStruct } from "../../../examples/schemas/gen/conformance.mp.ts";
import { generateAndLoad } from "./helpers.ts";

const haveCapnp = await capnpAvailable();
if (!haveCapnp) console.log("SKIPPED mpgen refusal tests: the capnp compiler is not installed");

Deno.test("mpgen: conventions in the committed descriptors", () => {
  const method = (name: string) => Foo.methods.find((m) => m.name === name)!;
  assertEquals(method("add").context, null);
  assertEquals(method("addInOut").context, "context");
  assertEquals(method("addInOut").returns, "object");
  assertEquals(method("pass").returns, "result");
  assertEquals(method("saveCallback").returns, "void");
  assertEquals(method("destroy").special, "destroy");
  assertEquals(FooInit.methods[0].special, "construct");
  assertEquals(method("raise").results.fields[0].exception, true);
  const optional = method("passOptional");
  assertEquals(optional.params.fields.map((f) => [f.name, f.hidden ?? false]), [
    ["context", true],
    ["value", false],
    ["hasValue", true],
  ]);
  assert(optional.params.fields[1].presence !== undefined);
  assertEquals(FooStruct.fields.find((f) => f.name === "setint")!.type, {
    kind: "list",
    element: { kind: "int32" },
    set: true,
  });
});

async function compile(schema: string): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    Deno.writeTextFileSync(`${dir}/bad.capnp`, schema);
    return await compileSchemas([`${dir}/bad.capnp`], { srcPrefix: dir });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test({
  name: "mpgen: unsupported shapes are refused naming the field",
  ignore: !haveCapnp,
  async fn() {
    const cases: [string, string][] = [
      [
        "struct S { which @0 :Int32; union { a @1 :Int32; b @2 :Text; } }",
        "S.which: a field named `which` clashes with the union's `which`; rename it",
      ],
      [
        "interface I { then @0 (x :Int32) -> (); }",
        "I.then: `await` would call a proxy's `then()`; rename the method",
      ],
      [
        "struct S { value @0 :Int32; hasValue @1 :Text; }",
        "S.hasValue: a `hasValue` field says whether `value` is set, so it must be a Bool",
      ],
      [
        "struct Map { a @0 :Int32; }",
        "Map: the generated code needs the built-in Map; rename the type",
      ],
      [
        "struct S { hasX @0 :Bool; union { x @1 :Int32; y @2 :Text; } }",
        "S.hasX: a `hasX` field says whether `x` is set, so neither can be a union member " +
        "(`which` says which member is set)",
      ],
      [
        "struct S { hasFoo @0 :Bool; foo :group { a @1 :Int32; } }",
        "S.hasFoo: a `hasFoo` field says whether `foo` is set, so `foo` cannot be a group",
      ],
      [
        "struct Shape { union { a @0 :Int32; b @1 :Text; } } interface I { m @0 Shape -> (); }",
        "I.m: Shape has a union, so it cannot be a param or result list; make it one param or result",
      ],
      [
        "struct S { a @0 :AnyPointer; }",
        "S.a: AnyPointer fields are not supported",
      ],
      [
        "struct S { caps @0 :List(Capability); }",
        "S.caps[]: untyped capabilities (Capability) are not supported; name the interface",
      ],
      [
        'struct S { t @0 :Text = "x"; }',
        "S.t: default values of pointer fields are not supported",
      ],
      [
        "struct P(T) { v @0 :T; } struct S { p @0 :P; }",
        "S.p: P is generic; bind its parameters (T) to types",
      ],
      [
        "struct P(T) { v @0 :T; } struct S { p @0 :List(P); }",
        "S.p[]: P is generic; bind its parameters (T) to types",
      ],
      [
        "interface G(T) { f @0 (x :T) -> (); }",
        "G: generic interfaces are not supported",
      ],
      [
        "interface I { f @0 [T] (x :T) -> (); }",
        "I.f: generic methods are not supported",
      ],
    ];
    for (const [body, message] of cases) {
      const request = await compile(`@0xb1e2c3d4e5f60718;\n${body}\n`);
      assertThrows(() => generateProxies(request), SchemaMappingError, message);
    }
  },
});

Deno.test({
  name: "mpgen: a param named after a reserved word gets a free name",
  ignore: !haveCapnp,
  async fn() {
    const request = await compile(
      "@0xb1e2c3d4e5f60718;\ninterface I { m @0 (class :Int32, class_ :Int32, new :Text) -> (); }\n",
    );
    const module = generateProxies(request).get("bad.mp.ts")!;
    assert(
      module.includes("m(class__: number, class_: number, new_: string, options?: $.CallOptions)"),
      module,
    );
  },
});

Deno.test({
  name: "mpgen: a type imported under a name the importing file uses is refused",
  ignore: !haveCapnp,
  async fn() {
    await assertRejects(
      () =>
        generateAndLoad({
          "a.capnp": "@0xd1e2c3d4e5f60718;\nstruct Thing { x @0 :Int32; }\n",
          "b.capnp": '@0xd1e2c3d4e5f60719;\nusing A = import "a.capnp";\n' +
            "struct Thing { y @0 :Int32; } struct S { a @0 :A.Thing; b @1 :Thing; }\n",
        }, []),
      SchemaMappingError,
      "b.mp.ts: Thing from ./a.mp.ts clashes with Thing from this file; rename one of them",
    );
  },
});

Deno.test("mpgen: import specifiers between generated modules", () => {
  assertEquals(importSpecifier("ipc/init.mp.ts", "ipc/echo.mp.ts"), "./echo.mp.ts");
  assertEquals(importSpecifier("ipc/init.mp.ts", "mp/proxy.mp.ts"), "../mp/proxy.mp.ts");
  assertEquals(importSpecifier("conformance.mp.ts", "mp/proxy.mp.ts"), "./mp/proxy.mp.ts");
  assertEquals(importSpecifier("ipc/init.mp.ts", "../descriptor.ts"), "../../descriptor.ts");
  assertEquals(importSpecifier("a/b/c.ts", "a/d.ts"), "../d.ts");
});
