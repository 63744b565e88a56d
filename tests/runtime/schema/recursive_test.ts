/**
 * A struct that holds itself (also through a generic struct's parameter),
 * which a peer may leave out anywhere down the chain: its fields and
 * parameters are typed `T | null` and read as null when left out (its
 * defaults would hold it again, without end), across a real connection;
 * its lists hold structs, never null.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { capnpAvailable } from "../../../runtime/schema/capnp.ts";
import { TypeMappingError } from "../../../mod.ts";
import { generateAndLoad, schemaPair } from "./helpers.ts";

const haveCapnp = await capnpAvailable();
if (!haveCapnp) console.log("SKIPPED recursive struct tests: the capnp compiler is not installed");

const SCHEMA = `@0xa1b2c3d4e5f6078d;
using Proxy = import "/mp/proxy.capnp";
struct Tree {
  label @0 :Text; child @1 :Tree; kids @2 :List(Tree); info :group { up @3 :Tree; } boxed @4 :Box(Tree);
}
struct Box(T) { v @0 :T; }
interface Trees {
  echo @0 (context :Proxy.Context, tree :Tree) -> (result :Tree);
}
interface Init {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  make @1 (context :Proxy.Context) -> (result :Trees);
}
`;

interface Tree {
  label: string;
  child: Tree | null;
  kids: Tree[];
  info: { up: Tree | null };
  boxed: { v: Tree | null };
}

Deno.test({
  name: "gen: a struct that holds itself is T | null where it may be left out, and crosses a " +
    "connection with null where it was",
  ignore: !haveCapnp,
  async fn() {
    const { files } = await generateAndLoad({ "app/trees.capnp": SCHEMA }, []);
    const module = files.get("app/trees.mp.ts")!;
    const declarations = [
      "child: Tree | null;",
      "kids: Tree[];",
      "info: { up: Tree | null }",
      "boxed: Box<Tree | null>;",
    ];
    for (const declared of declarations) {
      assert(module.includes(declared), declared);
    }
    assert(module.includes("echo(tree: Tree | null"), "a parameter too");

    const leaf = (label: string): Tree => ({
      label,
      child: null,
      kids: [],
      info: { up: null },
      boxed: { v: null },
    });
    const tree: Tree = {
      ...leaf("a"),
      child: leaf("b"),
      kids: [leaf("c")],
      info: { up: leaf("d") },
      boxed: { v: leaf("e") },
    };
    await using pair = await schemaPair("trees", () => ({ echo: (t: Tree | null) => t }), SCHEMA);
    const remote = pair.remote as unknown as { echo(t: Tree | null): Promise<Tree | null> };
    assertEquals(await remote.echo(tree), tree);
    assertEquals(await remote.echo(null), null);
    // A list holds structs: a null in one is refused before anything is sent.
    await assertRejects(
      () => remote.echo({ ...leaf("a"), kids: [null as unknown as Tree] }),
      TypeMappingError,
      "expected object, got null",
    );
  },
});
