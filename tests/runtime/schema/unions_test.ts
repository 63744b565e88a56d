/**
 * Unions and groups end to end: generated from a schema, served over a
 * UNIX socket. A struct's union reaches TypeScript as objects told apart
 * by `which`; a group as an object of its own; a named union as a group
 * whose fields are all members. A reader built before a union member was
 * added reads a value using it as the member's number (`which`), and sends
 * it back as that member, with its default value.
 *
 * @module
 */
import { assertEquals, assertRejects } from "../../assert.ts";
import { capnpAvailable } from "../../../runtime/schema/capnp.ts";
import { type NotInSchema, TypeMappingError } from "../../../mod.ts";
import { schemaPair } from "./helpers.ts";

const haveCapnp = await capnpAvailable();
if (!haveCapnp) console.log("SKIPPED union tests: the capnp compiler is not installed");

/** The fixture schema; `added` goes into Shape's union after its last member. */
function schema(added = "") {
  return `@0xc0ffee0012345678;
using Proxy = import "/mp/proxy.capnp";
interface Note {
  text @0 (context :Proxy.Context) -> (result :Text);
}
struct Shape {
  name @0 :Text;
  union {
    circle @1 :Float64;
    square :group {
      side @2 :Float64;
      color @3 :Text;
    }
    none @4 :Void;
    note @5 :Note;${added}
  }
  extra :group {
    a @6 :Int32;
    b @7 :Int32 = 7;
  }
  label :union {
    text @8 :Text;
    number @9 :Int64;
  }
}
interface Shapes {
  echo @0 (context :Proxy.Context, shape :Shape) -> (result :Shape);
  echoAll @1 (context :Proxy.Context, shapes :List(Shape)) -> (result :List(Shape));
  noteText @2 (context :Proxy.Context, shape :Shape) -> (result :Text);
  made @3 (context :Proxy.Context) -> (result :Shape);
}
interface Init {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  make @1 (context :Proxy.Context) -> (result :Shapes);
}
`;
}

// What the generated module declares, written out so the test type-checks before it exists.
interface Note {
  text(): string | Promise<string>;
}
type Shape =
  & {
    name: string;
    extra: { a: number; b: number };
    label: { which: "text"; text: string } | { which: "number"; number: bigint };
  }
  & (
    | { which: "circle"; circle: number }
    | { which: "square"; square: { side: number; color: string } }
    | { which: "none" }
    | { which: "note"; note: Note | null }
    | { which: NotInSchema }
  );
interface Shapes {
  echo(shape: Shape): Shape | Promise<Shape>;
  echoAll(shapes: Shape[]): Shape[] | Promise<Shape[]>;
  noteText(shape: Shape): Promise<string>;
  made(): Shape | Promise<Shape>;
}

/** Serves `shapes` from a module generated from `text`, and connects to it with one from `client`. */
function shapesPair(shapes: Shapes, text = schema(), client = text) {
  return schemaPair("shapes", () => shapes, text, client);
}

class ShapesImpl implements Shapes {
  echo(shape: Shape) {
    return shape;
  }
  echoAll(shapes: Shape[]) {
    return shapes;
  }
  async noteText(shape: Shape) {
    return shape.which === "note" && shape.note !== null ? await shape.note.text() : "";
  }
  made(): Shape {
    return { name: "", extra: { a: 0, b: 7 }, label: { which: "text", text: "" }, which: "none" };
  }
}

const label = { which: "text", text: "" } as const;

Deno.test({
  name: "gen: a union, groups and a named union cross a connection as objects told apart by which",
  ignore: !haveCapnp,
  async fn() {
    await using pair = await shapesPair(new ShapesImpl());
    const { remote } = pair;
    const shapes: Shape[] = [
      { name: "c", which: "circle", circle: -0.5, extra: { a: 1, b: 2 }, label },
      {
        name: "s",
        which: "square",
        square: { side: 2, color: "blue" },
        extra: { a: -3, b: 0 },
        label: { which: "number", number: -(2n ** 63n) },
      },
      { name: "", which: "none", extra: { a: 0, b: 7 }, label: { which: "text", text: "ü" } },
    ];
    for (const shape of shapes) assertEquals(await remote.echo(shape), shape);
    assertEquals(await remote.echoAll(shapes), shapes);
    // Left out, a group's fields and a union keep their defaults (member 0, the schema's 7).
    assertEquals(
      await remote.echo({ name: "d", which: "circle", circle: 1 } as unknown as Shape),
      { name: "d", which: "circle", circle: 1, extra: { a: 0, b: 7 }, label },
    );
  },
});

Deno.test({
  name: "gen: a capability in a union member reaches the implementation",
  ignore: !haveCapnp,
  async fn() {
    await using pair = await shapesPair(new ShapesImpl());
    const note: Note = { text: () => "written" };
    const shape: Shape = { name: "n", which: "note", note, extra: { a: 0, b: 0 }, label };
    assertEquals(await pair.remote.noteText(shape), "written");
  },
});

Deno.test({
  name: "gen: a union's which is checked before anything is sent",
  ignore: !haveCapnp,
  async fn() {
    await using pair = await shapesPair(new ShapesImpl());
    const bad = [
      { name: "t", which: "triangle", extra: { a: 0, b: 0 }, label },
      { name: "t", circle: 2, extra: { a: 0, b: 0 }, label },
      // A number names only a member this schema does not have.
      { name: "t", which: 1, extra: { a: 0, b: 0 }, label },
    ];
    const shown = ['"triangle"', "undefined", "number 1"];
    for (const [i, shape] of bad.entries()) {
      const error = await assertRejects(
        () => pair.remote.echo(shape as unknown as Shape),
        TypeMappingError,
      );
      assertEquals(
        error.message,
        "Shapes.echo$Params.shape.which: expected one of circle, square, none, note, " +
          `or the number of a member not in this schema, got ${shown[i]}`,
      );
    }
    await assertRejects(
      () =>
        pair.remote.echo({
          name: "l",
          which: "none",
          extra: { a: 0, b: 0 },
          label: { which: "text", text: 5 },
        } as unknown as Shape),
      TypeMappingError,
      "Shapes.echo$Params.shape.label.text: expected Text (a string), got number 5",
    );
  },
});

Deno.test({
  name: "gen: a reader older than a union member reads it as its number, and sends it back " +
    "as that member with its default value",
  ignore: !haveCapnp,
  async fn() {
    // The server's schema has a member the client's has not.
    const newer = schema("\n    triangle @10 :UInt8 = 3;");
    const server = new ShapesImpl();
    const triangle = { name: "t", extra: { a: 1, b: 2 }, label };
    server.made = () => ({ ...triangle, which: "triangle", triangle: 5 }) as unknown as Shape;
    const seen: unknown[] = [];
    server.echo = (shape: Shape) => (seen.push(shape), shape);
    await using pair = await shapesPair(server, newer, schema());
    const made = await pair.remote.made();
    assertEquals(made, { ...triangle, which: 4 as NotInSchema });
    // This side cannot know the member's value: it goes back as the default.
    assertEquals(await pair.remote.echo(made), made);
    assertEquals(seen, [{ ...triangle, which: "triangle", triangle: 3 }]);
    // Values the older schema knows still cross.
    const shape: Shape = { name: "x", which: "circle", circle: 3, extra: { a: 0, b: 7 }, label };
    assertEquals(await pair.remote.echo(shape), shape);
  },
});
