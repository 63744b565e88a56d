/**
 * The codec against the C++ Cap'n Proto library, through its `capnp`
 * tool: what the codec writes, `capnp decode` reads as the text form the
 * codec gives it (unions, groups, non-zero defaults of every width, lists),
 * and what `capnp encode` writes from text, the codec reads as the values
 * that text names. A Float32 too large to be one is refused.
 *
 * @module
 */
import * as capnp from "capnp-es";
import { assertEquals, assertThrows } from "../../assert.ts";
import { capnpAvailable } from "../../../runtime/schema/capnp.ts";
import type { StructDescriptor } from "../../../runtime/schema/descriptor.ts";
import {
  type CodecContext,
  formatStruct,
  readStruct,
  structClass,
  TypeMappingError,
  writeStruct,
} from "../../../runtime/proxy/codec.ts";
import { generateAndLoad } from "../schema/helpers.ts";

const haveCapnp = await capnpAvailable();
if (!haveCapnp) {
  console.log("SKIPPED codec tests against capnp: the capnp compiler is not installed");
}

const SCHEMA = `@0xc0ffee001234567a;
struct Shape {
  name @0 :Text;
  union {
    circle @1 :Float64;
    square :group {
      side @2 :Float64;
      color @3 :Text;
    }
    none @4 :Void;
  }
  extra :group {
    a @5 :Int32 = -100000;
    b @6 :UInt32 = 4000000000;
    c @7 :Int16 = -300;
    d @8 :UInt64 = 18000000000000000000;
  }
  label :union {
    text @9 :Text;
    number @10 :Int64 = -5;
  }
  f @11 :Float32 = 1.5;
  on @12 :Bool = true;
  tags @13 :List(Text);
}
`;

/** A codec context for structs without capabilities. */
const context: CodecContext = {
  caps: { add: () => 0, get: () => null },
  bridge: {
    toCapability: () => {
      throw new Error("no capabilities here");
    },
    fromCapability: () => null,
  },
};

/** Runs `capnp <args>` on the schema in `dir` with `input` on stdin; its stdout. */
async function capnpTool(dir: string, args: string[], input: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command("capnp", {
    args: [args[0], `${dir}/shape.capnp`, ...args.slice(1)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assertEquals(code, 0, new TextDecoder().decode(stderr));
  return stdout;
}

/** C++'s multi-line text form on one line, as the codec writes it. */
function oneLine(text: string): string {
  return text.trim().replace(/\(\s+/g, "(").replace(/\s+\)/g, ")").replace(/,\s+/g, ", ");
}

const VALUES = [
  {
    name: "c",
    which: "square",
    square: { side: 2, color: "red" },
    extra: { a: 1, b: 2, c: 0, d: 0n },
    label: { which: "number", number: 5n },
    f: 0,
    on: false,
    tags: ["x", "y"],
  },
  {
    name: "",
    which: "none",
    extra: { a: -100000, b: 4000000000, c: -300, d: 18000000000000000000n },
    label: { which: "text", text: "ü" },
    f: 1.5,
    on: true,
    tags: [],
  },
  {
    name: "n",
    which: "circle",
    circle: -0.25,
    extra: { a: 2 ** 31 - 1, b: 2 ** 32 - 1, c: -(2 ** 15), d: 2n ** 64n - 1n },
    label: { which: "number", number: -(2n ** 63n) },
    f: -3.5,
    on: true,
    tags: [""],
  },
];

Deno.test({
  name: "codec: unions, groups and defaults as C++ writes and reads them",
  ignore: !haveCapnp,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "capdeno-codec-" });
    try {
      Deno.writeTextFileSync(`${dir}/shape.capnp`, SCHEMA);
      const { modules } = await generateAndLoad({ "shape.capnp": SCHEMA }, ["shape.mp.ts"]);
      const Shape = modules["shape.mp.ts"].Shape as StructDescriptor;
      const Class = structClass(Shape);
      for (const value of [...VALUES, {}]) {
        // Ours written, C++ reading.
        const message = new capnp.Message();
        const struct = message.initRoot(Class);
        writeStruct(Shape, value, struct, context, "Shape");
        const bytes = new Uint8Array(message.toArrayBuffer());
        const text = new TextDecoder().decode(await capnpTool(dir, ["decode", "Shape"], bytes));
        assertEquals(oneLine(text), formatStruct(Shape, struct));
        // C++ written from that text, ours reading.
        const encoded = await capnpTool(dir, ["encode", "Shape"], new TextEncoder().encode(text));
        const read = new capnp.Message(encoded.buffer as ArrayBuffer, false).getRoot(Class);
        const back = readStruct(Shape, read, context, "Shape");
        assertEquals(back, readStruct(Shape, struct, context, "Shape"));
        if (Object.keys(value).length > 0) assertEquals(back, value);
      }
      // A finite number too large for a Float32 is refused, not sent as Infinity.
      const struct = new capnp.Message().initRoot(Class);
      assertThrows(
        () => writeStruct(Shape, { f: -1e39 }, struct, context, "Shape"),
        TypeMappingError,
        "Shape.f: -1e+39 is out of range for Float32",
      );
      writeStruct(Shape, { f: Infinity }, struct, context, "Shape");
      assertEquals(readStruct(Shape, struct, context, "Shape").f, Infinity);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
