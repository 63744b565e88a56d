/**
 * Peers built from two versions of one schema, as `gen`'s gate lets it
 * evolve: fields added under new ordinals read as their schema defaults on
 * the newer side when the older side sends a smaller struct, a field's
 * non-zero default survives the XOR the wire keeps it in, for every width,
 * an enum value a newer peer adds reaches the older as its number, which
 * it sends back as the same value, a list upgraded to a list of structs
 * reads on both sides, and a list whose element type a peer changed
 * otherwise is refused with a clear error rather than misread.
 *
 * @module
 */
import { assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { capnpAvailable } from "../../../runtime/schema/capnp.ts";
import { type NotInSchema, RpcError, TypeMappingError } from "../../../mod.ts";
import { schemaPair } from "./helpers.ts";

const haveCapnp = await capnpAvailable();
if (!haveCapnp) console.log("SKIPPED evolution tests: the capnp compiler is not installed");

/**
 * Version 1, or with `added` fields of Point, `params` of `take` after the
 * first ones and `methods` of Points after its first two.
 */
function schema(added = "", params = "", methods = "") {
  return `@0xa1b2c3d4e5f60789;
using Proxy = import "/mp/proxy.capnp";
struct Point {
  x @0 :Int32;${added}
}
interface Points {
  echo @0 (context :Proxy.Context, p :Point) -> (result :Point);
  take @1 (context :Proxy.Context, a :Int32${params}) -> (result :Text);${methods}
}
interface Init {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  make @1 (context :Proxy.Context) -> (result :Points);
}
`;
}

const ADDED = `
  i32 @1 :Int32 = -100000;
  u32 @2 :UInt32 = 4000000000;
  i64 @3 :Int64 = -5;
  f32 @4 :Float32 = 1.5;
  f64 @5 :Float64 = -2.25;
  on @6 :Bool = true;
  i16 @7 :Int16 = -300;
  name @8 :Text;
  tags @9 :List(Text);`;
const V2 = schema(ADDED, ", b :UInt32 = 3000000000, t :Text");

/** Version 2's Point: the defaults a reader gives fields it did not receive. */
const DEFAULTS = {
  i32: -100000,
  u32: 4000000000,
  i64: -5n,
  f32: 1.5,
  f64: -2.25,
  on: true,
  i16: -300,
  name: "",
  tags: [],
};

interface Points {
  echo(p: Record<string, unknown>): Promise<Record<string, unknown>>;
  take(a: number, b?: number, t?: string): Promise<string>;
}

/** What Points does: each peer is handed a copy, as a result hands over a reference of its own. */
const points = {
  echo: (p: Record<string, unknown>) => p,
  take: (a: number, b?: number, t?: string) => JSON.stringify([a, b, t]),
};

Deno.test({
  name: "evolution: fields an older peer does not send read as their defaults on the newer side",
  ignore: !haveCapnp,
  async fn() {
    // A newer client's results come from an older server's smaller struct.
    await using older = await schemaPair("points", () => ({ ...points }), schema(), V2);
    const remote = older.remote as unknown as Points;
    assertEquals(await remote.echo({ x: 1, ...DEFAULTS, i32: 9, name: "dropped" }), {
      x: 1,
      ...DEFAULTS,
    });
    // A newer server reads an older client's params.
    await using newer = await schemaPair("points", () => ({ ...points }), V2, schema());
    assertEquals(await (newer.remote as unknown as Points).take(7), '[7,3000000000,""]');
  },
});

Deno.test({
  name: "evolution: a field with a `has` flag an older peer does not send reads as unset",
  ignore: !haveCapnp,
  async fn() {
    // `y` fills Point's first data word, so `hasBig` lies past the older peer's struct.
    const flagged = schema("\n  y @1 :Int32;\n  big @2 :UInt64;\n  hasBig @3 :Bool;");
    await using older = await schemaPair("points", () => ({ ...points }), schema(), flagged);
    const remote = older.remote as unknown as Points;
    assertEquals(await remote.echo({ x: 1, y: 2, big: 5n }), { x: 1, y: 0 });
    await using both = await schemaPair("points", () => ({ ...points }), flagged);
    const same = both.remote as unknown as Points;
    assertEquals(await same.echo({ x: 1, y: 2, big: 0n }), { x: 1, y: 2, big: 0n });
    assertEquals(await same.echo({ x: 1, y: 2 }), { x: 1, y: 2 });
  },
});

Deno.test({
  name:
    "evolution: a method an older server lacks fails unimplemented, named as the client knows it",
  ignore: !haveCapnp,
  async fn() {
    const newer = schema("", "", "\n  count @2 (context :Proxy.Context) -> (result :UInt32);");
    await using pair = await schemaPair("points", () => ({ ...points }), schema(), newer);
    const remote = pair.remote as unknown as Points & { count(): Promise<number> };
    const error = await assertRejects(() => remote.count(), RpcError);
    assertEquals([error.type, error.remote], ["unimplemented", true]);
    assertMatch(
      error.message,
      /^Method not implemented: 0x[0-9a-f]+ method 2\. \(Points\.count @2 here: the peer's schema may be older than this side's\)$/,
    );
    // The connection goes on.
    assertEquals(await remote.echo({ x: 4 }), { x: 4 });
  },
});

Deno.test({
  name: "evolution: non-zero defaults of every width survive the wire, set or left out",
  ignore: !haveCapnp,
  async fn() {
    await using pair = await schemaPair("points", () => ({ ...points }), V2);
    const remote = pair.remote as unknown as Points;
    assertEquals(await remote.echo({ x: 0 }), { x: 0, ...DEFAULTS });
    const values = {
      x: -1,
      i32: 0,
      u32: 3000000000,
      i64: 2n ** 62n,
      f32: -0.5,
      f64: Number.NaN,
      on: false,
      i16: 0x7fff,
      name: "n",
      tags: ["a"],
    };
    assertEquals(await remote.echo(values), values);
    assertEquals(await remote.take(1, 0, "t"), '[1,0,"t"]');
    await assertRejects(
      () => remote.echo({ x: 0, name: "a\uD800b" }),
      TypeMappingError,
      "Points.echo$Params.p.name: a lone surrogate cannot be written as UTF-8 Text",
    );
  },
});

/** A palette of colors: `red` and `green`, and the `added` values after them. */
function palette(added = "") {
  return `@0xa1b2c3d4e5f6078a;
using Proxy = import "/mp/proxy.capnp";
enum Color { red @0; green @1;${added} }
interface Palette {
  echo @0 (context :Proxy.Context, colors :List(Color)) -> (result :List(Color));
  pick @1 (context :Proxy.Context) -> (result :Color);
}
interface Init {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  make @1 (context :Proxy.Context) -> (result :Palette);
}
`;
}

type Color = "red" | "green" | "blue" | NotInSchema;

interface Palette {
  echo(colors: Color[]): Promise<Color[]>;
  pick(): Promise<Color>;
}

Deno.test({
  name: "evolution: an enum value a newer peer adds reaches an older one as its number, " +
    "and goes back as that value",
  ignore: !haveCapnp,
  async fn() {
    const seen: Color[][] = [];
    const served = {
      echo: (colors: Color[]) => (seen.push(colors), colors),
      pick: (): Color => "blue",
    };
    await using pair = await schemaPair("palette", () => served, palette(" blue @2;"), palette());
    const remote = pair.remote as unknown as Palette;
    const blue = await remote.pick();
    assertEquals(blue, 2 as NotInSchema);
    assertEquals(await remote.echo(["red", blue]), ["red", blue]);
    assertEquals(seen, [["red", "blue"]], "the newer side read its own name");
    // A number is only for a value this schema does not name.
    for (const wrong of [1, -1, 70000, 2.5]) {
      await assertRejects(
        () => remote.echo([wrong as NotInSchema]),
        TypeMappingError,
        `Palette.echo$Params.colors[0]: number ${wrong} is not a Color (one of red, green, ` +
          "or the number of a value not in this schema)",
      );
    }
  },
});

/**
 * Methods returning lists, of version 1's element types, or of version 2's:
 * structs whose first field is that type (Cap'n Proto's upgrade), or not.
 */
function listing(version: 1 | 2) {
  const [ints, texts, lists, voids, wide, flags, defaulted, retyped] = version === 1
    ? ["Int32", "Text", "List(Int32)", "Void", "Int32", "Bool", "Int32", "Text"]
    : ["S", "Named", "Nested", "S", "Wide", "Flag", "Defaulted", "Int64"];
  return `@0xa1b2c3d4e5f6078b;
using Proxy = import "/mp/proxy.capnp";
struct S { y @1 :Text; x @0 :Int32; }
struct Named { name @0 :Text; n @1 :UInt8; }
struct Nested { xs @0 :List(Int32); more @1 :Float64; }
struct Wide { x @0 :Int64; }
struct Flag { on @0 :Bool; }
struct Defaulted { x @0 :Int32 = 7; }
interface Listing {
  ints @0 (context :Proxy.Context) -> (result :List(${ints}));
  texts @1 (context :Proxy.Context) -> (result :List(${texts}));
  lists @2 (context :Proxy.Context) -> (result :List(${lists}));
  voids @3 (context :Proxy.Context) -> (result :List(${voids}));
  wide @4 (context :Proxy.Context) -> (result :List(${wide}));
  flags @5 (context :Proxy.Context) -> (result :List(${flags}));
  defaulted @6 (context :Proxy.Context) -> (result :List(${defaulted}));
  retyped @7 (context :Proxy.Context) -> (result :List(${retyped}));
}
interface Init {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  make @1 (context :Proxy.Context) -> (result :Listing);
}
`;
}

type Listing = Record<string, () => Promise<unknown[]>>;

/** The served lists, per version. */
const LISTS = {
  1: {
    ints: [1, 2, 3],
    texts: ["a", "b"],
    lists: [[1], [2, 3]],
    voids: [undefined, undefined],
    wide: [1],
    flags: [true],
    defaulted: [1],
    retyped: ["a"],
  },
  2: {
    ints: [{ x: 1, y: "a" }, { x: -2, y: "" }],
    texts: [{ name: "a", n: 5 }],
    lists: [{ xs: [1, 2], more: 1.5 }],
    voids: [{ x: 1, y: "z" }],
    wide: [{ x: 1n }],
    flags: [{ on: true }],
    defaulted: [{ x: 1 }],
    retyped: [5n],
  },
};

/**
 * Calls each method of version `served`'s listing from a client of version
 * `read`: it gets the list `expected` gives, or, where that is a string, a
 * TypeMappingError naming that problem.
 */
async function assertListed(served: 1 | 2, read: 1 | 2, expected: Record<string, unknown>) {
  const methods = Object.fromEntries(
    Object.entries(LISTS[served]).map(([name, list]) => [name, () => list]),
  );
  await using pair = await schemaPair("listing", () => methods, listing(served), listing(read));
  const remote = pair.remote as unknown as Listing;
  for (const [method, outcome] of Object.entries(expected)) {
    if (typeof outcome !== "string") {
      assertEquals(await remote[method](), outcome, method);
      continue;
    }
    await assertRejects(
      () => remote[method](),
      TypeMappingError,
      `Listing.${method}$Results.result: ${outcome} (a peer's schema changed the list's element type)`,
    );
  }
}

Deno.test({
  name: "evolution: List(T) upgraded to a list of structs whose first field is a T reads on both " +
    "sides, as Cap'n Proto allows; any other change of element type fails with a TypeMappingError",
  ignore: !haveCapnp,
  async fn() {
    await assertListed(1, 2, {
      ints: [{ x: 1, y: "" }, { x: 2, y: "" }, { x: 3, y: "" }],
      texts: [{ name: "a", n: 0 }, { name: "b", n: 0 }],
      lists: [{ xs: [1], more: 0 }, { xs: [2, 3], more: 0 }],
      voids: [{ x: 0, y: "" }, { x: 0, y: "" }],
      wide: "a list of 4-byte values where a list of structs belongs",
      flags: "a list of Bools where a list of structs belongs",
      // Its first field's default would be XORed into every value.
      defaulted: "a list of 4-byte values where a list of structs belongs",
      retyped: "a list of pointers where a list of 8-byte values belongs",
    });
    await assertListed(2, 1, {
      ints: [1, -2],
      texts: ["a"],
      lists: [[1, 2]],
      voids: [undefined],
      flags: "a list of structs where a list of Bools belongs",
      retyped: "a list of 8-byte values where a list of pointers belongs",
    });
  },
});
