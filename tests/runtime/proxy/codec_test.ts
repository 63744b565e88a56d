/**
 * The codec against the C++ Cap'n Proto library, through its `capnp`
 * tool: what the codec writes, `capnp decode` reads as the text form the
 * codec gives it (unions, groups, non-zero defaults of every width, lists),
 * and what `capnp encode` writes from text, the codec reads as the values
 * that text names. A Float32 too large to be one is refused. A list
 * upgraded to a list of structs reads and prints as C++ reads and prints it.
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
  registerType,
  structClass,
  TypeMappingError,
  writeStruct,
} from "../../../runtime/proxy/codec.ts";
import { generateAndLoad } from "../schema/helpers.ts";
import { newMessage } from "../../../runtime/rpc/message.ts";

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

/** Runs `capnp <command> <schema> <args>` with `input` on stdin; its stdout. */
async function capnpTool(
  [command, ...args]: string[],
  schema: string,
  input: Uint8Array,
): Promise<Uint8Array> {
  const child = new Deno.Command("capnp", {
    args: [command, schema, ...args],
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
  return text.trim().replace(/([([])\s+/g, "$1").replace(/\s+([)\]])/g, "$1")
    .replace(/,\s+/g, ", ");
}

/**
 * Runs `body` with `text` written as schema file `file` of a temporary
 * folder (for the capnp tool, which `body` gets the path of) and the structs
 * `gen` makes of it, by name.
 */
async function withSchema(
  file: string,
  text: string,
  body: (schema: string, named: (name: string) => StructDescriptor) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "capdeno-codec-" });
  try {
    Deno.writeTextFileSync(`${dir}/${file}`, text);
    const module = file.replace(/\.capnp$/, ".mp.ts");
    const { modules } = await generateAndLoad({ [file]: text }, [module]);
    await body(`${dir}/${file}`, (name) => modules[module][name] as StructDescriptor);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
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
    await withSchema("shape.capnp", SCHEMA, async (schema, named) => {
      const Shape = named("Shape");
      const Class = structClass(Shape);
      for (const value of [...VALUES, {}]) {
        // Ours written, C++ reading.
        const message = new capnp.Message();
        const struct = message.initRoot(Class);
        writeStruct(Shape, value, struct, context, "Shape");
        const bytes = new Uint8Array(message.toArrayBuffer());
        const text = new TextDecoder().decode(
          await capnpTool(["decode", "Shape"], schema, bytes),
        );
        assertEquals(oneLine(text), formatStruct(Shape, struct));
        // C++ written from that text, ours reading.
        const encoded = await capnpTool(
          ["encode", "Shape"],
          schema,
          new TextEncoder().encode(text),
        );
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
    });
  },
});

/**
 * Lists as versions of a schema have them: `After` upgraded each `List(T)`
 * of `Before` to a list of structs whose first field is a `T`, and `Later`
 * moved that field into a union or a group. They share one layout, so each
 * reads the others' bytes.
 */
const LISTS = `@0xc0ffee001234567b;
struct Before {
  ints @0 :List(Int32); texts @1 :List(Text); lists @2 :List(List(UInt16)); bytes @3 :List(UInt8);
}
struct After { ints @0 :List(S); texts @1 :List(Named); lists @2 :List(Nested); bytes @3 :List(Byte); }
struct S { x @0 :Int32; y @1 :Text; }
struct Named { name @0 :Text; n @1 :UInt8; }
struct Nested { xs @0 :List(UInt16); more @1 :Float64; }
struct Byte { b @0 :UInt8; }
struct Raw { ints @0 :Text; texts @1 :Text; lists @2 :Text; bytes @3 :Data; }
struct Later { ints @0 :List(InUnion); texts @1 :List(InGroup); }
struct InUnion { union { x @0 :Int32; y @1 :Text; } }
struct InGroup { g :group { name @0 :Text; n @1 :UInt8; } }
`;

Deno.test({
  name:
    "codec: a list upgraded to a list of structs reads, and prints, as C++ reads it, either way",
  ignore: !haveCapnp,
  async fn() {
    await withSchema("lists.capnp", LISTS, async (schema, named) => {
      const cases: [written: string, read: string, text: string, value: unknown][] = [
        [
          "Before",
          "After",
          '(ints = [1, -2], texts = ["a", "b"], lists = [[1, 2], []], bytes = [1, 255])',
          {
            ints: [{ x: 1, y: "" }, { x: -2, y: "" }],
            texts: [{ name: "a", n: 0 }, { name: "b", n: 0 }],
            lists: [{ xs: [1, 2], more: 0 }, { xs: [], more: 0 }],
            bytes: [{ b: 1 }, { b: 255 }],
          },
        ],
        [
          "After",
          "Before",
          '(ints = [(x = 7, y = "y")], texts = [(name = "q", n = 3)], ' +
          "lists = [(xs = [9], more = 1.5)], bytes = [(b = 7)])",
          { ints: [7], texts: ["q"], lists: [[9]], bytes: [7] },
        ],
        // Upgraded, then its @0 field moved into a union (as the member old data selects) or a
        // group, as the gate allows.
        ["Before", "Later", '(ints = [1, -2], texts = ["a"])', {
          ints: [{ which: "x", x: 1 }, { which: "x", x: -2 }],
          texts: [{ g: { name: "a", n: 0 } }],
        }],
        ["Later", "Before", '(ints = [(x = 7), (y = "y")], texts = [(g = (name = "q", n = 3))])', {
          ints: [7, 0],
          texts: ["q"],
          lists: [],
          bytes: [],
        }],
      ];
      for (const [written, read, text, value] of cases) {
        const bytes = await capnpTool(["encode", written], schema, new TextEncoder().encode(text));
        const Read = named(read);
        const root = new capnp.Message(bytes.buffer as ArrayBuffer, false).getRoot(
          structClass(Read),
        );
        assertEquals(readStruct(Read, root, context, read), value, `${written} read as ${read}`);
        const cpp = new TextDecoder().decode(await capnpTool(["decode", read], schema, bytes));
        assertEquals(formatStruct(Read, root), oneLine(cpp), `${written} printed as ${read}`);
      }
      // A struct costs a word of the read budget: no more bytes read as structs than it allows.
      // (Data is a List(UInt8) on the wire, written at once.)
      const [Raw, After] = [named("Raw"), named("After")];
      const many = new capnp.Message().initRoot(structClass(Raw));
      writeStruct(Raw, { bytes: new Uint8Array(8 * 1024 * 1024 + 1) }, many, context, "Raw");
      const bytes = new Uint8Array(many.segment.message.toArrayBuffer());
      const root = new capnp.Message(bytes.buffer, false).getRoot(structClass(After));
      assertThrows(
        () => readStruct(After, root, context, "After"),
        TypeMappingError,
        "After.bytes: 8388609 values to read as structs, more than a list of structs may hold",
      );
    });
  },
});

Deno.test("codec: a struct left out reads as its defaults however often: reads of the shared empty struct spend no budget", async () => {
  // capnp-es charges 8 bytes of a message's 64 MiB read budget for each pointer it reads: reading
  // 128 null Text fields 70,000 times is more than that, were the empty struct's message budgeted.
  const fields = Array.from({ length: 128 }, (_, i) => `t${i} @${i} :Text;`).join(" ");
  const schema = `@0xc0ffee001234567c;
struct Wide { ${fields} }
struct Holder { wide @0 :Wide; }
`;
  const { modules } = await generateAndLoad({ "wide.capnp": schema }, ["wide.mp.ts"]);
  const Holder = modules["wide.mp.ts"].Holder as StructDescriptor;
  const holder = newMessage().initRoot(structClass(Holder)); // wide left out (null)
  let value: unknown;
  for (let i = 0; i < 70_000; i++) value = readStruct(Holder, holder, context, "Holder");
  assertEquals((value as { wide: Record<string, string> }).wide.t127, "");
});

Deno.test({
  name: "codec: Void fields and null list elements print as C++ prints them",
  ignore: !haveCapnp,
  async fn() {
    const text = `@0xc0ffee001234567d;
struct Nulls { t @0 :List(Text); l @1 :List(List(Int32)); d @2 :List(Data); v @3 :Void; vs @4 :List(Void); }
`;
    await withSchema("nulls.capnp", text, async (schema, named) => {
      const Nulls = named("Nulls");
      const root = new capnp.Message().initRoot(structClass(Nulls));
      writeStruct(Nulls, { vs: [undefined, undefined] }, root, context, "Nulls");
      // Lists of two null pointers, as no writer of these types makes but a peer may send.
      for (let i = 0; i < 3; i++) {
        const p = capnp.utils.getPointer(i, root);
        const content = p.segment.allocate(16);
        const at = capnp.utils.initPointer(content.segment, content.byteOffset, p);
        capnp.utils.setListPointer(at.offsetWords, capnp.ListElementSize.POINTER, 2, at.pointer);
      }
      const bytes = new Uint8Array(root.segment.message.toArrayBuffer());
      const cpp = new TextDecoder().decode(await capnpTool(["decode", "Nulls"], schema, bytes));
      assertEquals(formatStruct(Nulls, root), oneLine(cpp));
      assertEquals(
        formatStruct(Nulls, root),
        '(t = ["", ""], l = [[], []], d = ["", ""], v = void, vs = [void, void])',
      );
    });
  },
});

Deno.test({
  name: "codec: Text and Data print with C++'s escapes, and a union member set to null prints " +
    "as C++ prints it",
  ignore: !haveCapnp,
  async fn() {
    const text = `@0xc0ffee001234567e;
struct Blobs { d @0 :Data; t @1 :Text; union { none @2 :Void; self @3 :Blobs; } }
`;
    await withSchema("blobs.capnp", text, async (schema, named) => {
      const Blobs = named("Blobs");
      const decode = async (bytes: Uint8Array) =>
        oneLine(new TextDecoder().decode(await capnpTool(["decode", "Blobs"], schema, bytes)));
      const escapes = '(d = 0x"00 01 ff 0a 22 5c 27 7f 41 09 0d 07 08 0c 0b 20 7e 80", ' +
        't = "a\\tb\\x01c\\"ü\\x7f\\\\\'")';
      const bytes = await capnpTool(["encode", "Blobs"], schema, new TextEncoder().encode(escapes));
      const root = new capnp.Message(bytes.buffer as ArrayBuffer, false).getRoot(
        structClass(Blobs),
      );
      assertEquals(formatStruct(Blobs, root), await decode(bytes));
      // A struct that holds itself may be null where it is set; C++ prints its defaults there.
      const unset = new capnp.Message().initRoot(structClass(Blobs));
      writeStruct(
        Blobs,
        { d: new Uint8Array(), t: "", which: "self", self: null },
        unset,
        context,
        "Blobs",
      );
      const written = new Uint8Array(unset.segment.message.toArrayBuffer());
      assertEquals(formatStruct(Blobs, unset), await decode(written));
      assertEquals(
        formatStruct(Blobs, unset),
        '(d = "", t = "", self = (none = void))',
      );
    });
  },
});

Deno.test({
  name: "codec: a custom type's encode() that writes a message of its own counts that message's " +
    "levels from its root, not from where the outer value stood",
  ignore: !haveCapnp,
  async fn() {
    const text = `@0xc0ffee001234567f;
using Mapping = import "/mapping.capnp";
struct Chain { next @0 :Chain; packed @1 :Data $Mapping.type("PackedChain"); }
`;
    const { modules } = await generateAndLoad({ "chain.capnp": text }, ["chain.mp.ts"]);
    const Chain = modules["chain.mp.ts"].Chain as StructDescriptor;
    type Link = { next: Link | null; packed?: Link };
    const chainOf = (length: number, last: Partial<Link> = {}): Link =>
      length === 1 ? { next: null, ...last } : { next: chainOf(length - 1, last) };
    const depthOf = (link: Link | null): number => link === null ? 0 : 1 + depthOf(link.next);
    // Packs a chain into a message of its own, through the same writer.
    registerType<Link, Uint8Array>("PackedChain", {
      encode(link) {
        const root = newMessage().initRoot(structClass(Chain));
        writeStruct(Chain, link, root, context, "PackedChain");
        return new Uint8Array(root.segment.message.toArrayBuffer());
      },
      decode(bytes) {
        if (bytes.length === 0) return undefined as unknown as Link; // a link with none packed
        const message = new capnp.Message(bytes.slice().buffer as ArrayBuffer, false);
        return readStruct(
          Chain,
          message.getRoot(structClass(Chain)),
          context,
          "PackedChain",
        ) as Link;
      },
    });
    // 40 levels outside and 40 inside: each message is within 64, together they are not.
    const value = chainOf(40, { packed: chainOf(40) });
    const root = newMessage().initRoot(structClass(Chain));
    writeStruct(Chain, value, root, context, "Chain");
    let read = readStruct(Chain, root, context, "Chain") as Link;
    assertEquals(depthOf(read), 40);
    while (read.next !== null) read = read.next;
    assertEquals(depthOf(read.packed!), 40);
    // Past 64 inside the packed message is still refused, named from that message's root.
    const deep = chainOf(2, { packed: chainOf(70) });
    assertThrows(
      () => writeStruct(Chain, deep, newMessage().initRoot(structClass(Chain)), context, "Chain"),
      TypeMappingError,
      "PackedChain.next",
    );
  },
});
