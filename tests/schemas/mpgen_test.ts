/**
 * mpgen: what the generated descriptors say about libmultiprocess'
 * conventions, and the clear refusals of shapes it cannot map.
 *
 * @module
 */
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { generateProxies, SchemaMappingError } from "../../schemas/mpgen.ts";
import { Foo, FooInit, FooStruct } from "../../schemas/gen/conformance.mp.ts";

const haveCapnp = await new Deno.Command("capnp", { args: ["--version"] }).output()
  .then((o) => o.success, () => false);

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
  Deno.writeTextFileSync(`${dir}/bad.capnp`, schema);
  const { code, stdout, stderr } = await new Deno.Command("capnp", {
    args: ["compile", "-o-", `--src-prefix=${dir}`, `${dir}/bad.capnp`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return stdout;
}

Deno.test({
  name: "mpgen: unsupported shapes are refused naming the field",
  ignore: !haveCapnp,
  async fn() {
    const cases: [string, string][] = [
      [
        "struct S { u :union { a @0 :Int32; b @1 :Text; } }",
        "S.u: groups are not supported",
      ],
      [
        "struct S { a @0 :AnyPointer; }",
        "S.a: AnyPointer fields are not supported",
      ],
      [
        "interface I {} struct S { caps @0 :List(I); }",
        "S.caps: lists of capabilities are not supported",
      ],
      [
        'struct S { t @0 :Text = "x"; }',
        "S.t: default values of pointer fields are not supported",
      ],
    ];
    for (const [body, message] of cases) {
      const request = await compile(`@0xb1e2c3d4e5f60718;\n${body}\n`);
      assertThrows(() => generateProxies(request), SchemaMappingError, message);
    }
  },
});
