/**
 * A struct that holds itself (also through a generic struct's parameter),
 * which a peer may leave out anywhere down the chain: its fields and
 * parameters are typed `T | null` and read as null when left out (its
 * defaults would hold it again, without end), across a real connection;
 * its lists hold structs, never null. A value nested too deeply to be read,
 * or one that holds itself, fails its own call and nothing else.
 *
 * @module
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../../assert.ts";
import { capnpAvailable } from "../../../runtime/schema/capnp.ts";
import { RpcError, TypeMappingError } from "../../../mod.ts";
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
  chain @1 (context :Proxy.Context, length :UInt32, loop :Bool) -> (result :Tree);
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

/** A tree with no other trees in it. */
function leaf(label: string): Tree {
  return { label, child: null, kids: [], info: { up: null }, boxed: { v: null } };
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

/** A chain of `length` trees through `child`; the last holds the first again when `loop` is set. */
function chainOf(length: number, loop = false): Tree {
  const first = leaf("0");
  let last = first;
  for (let i = 1; i < length; i++) last = last.child = leaf(String(i));
  if (loop) last.child = first;
  return first;
}

function lengthOf(tree: Tree | null): number {
  let length = 0;
  for (; tree !== null; tree = tree.child) length++;
  return length;
}

Deno.test({
  name: "codec: a value nested past what a reader accepts, or holding itself, fails its own call " +
    "with what went wrong, either way; the connection goes on",
  ignore: !haveCapnp,
  async fn() {
    interface Trees {
      echo(tree: Tree | null): Promise<Tree | null>;
      chain(length: number, loop: boolean): Promise<Tree | null>;
    }
    await using pair = await schemaPair("trees", () => ({
      echo: (tree: Tree | null) => tree,
      chain: (length: number, loop: boolean) => chainOf(length, loop),
    }), SCHEMA);
    const remote = pair.remote as unknown as Trees;
    // Message, Call, Payload and the params hold the first tree at level 5: 59 trees and the
    // last one's `kids` list and `boxed` struct make 64 (its label is Text, not a level).
    assertEquals(lengthOf(await remote.echo(chainOf(59))), 59);
    const error = await assertRejects(() => remote.echo(chainOf(60)), RpcError);
    assertEquals(error.type, "failed");
    assertMatch(
      error.message,
      /^Message is too deeply-nested or contains cycles\. The call's params nest deeper than 64 levels/,
    );
    const results = await assertRejects(() => remote.chain(60, false), RpcError);
    assertMatch(results.message, /too deeply-nested or contains cycles\. The results nest/);
    // The writer refuses what no reader could take, before sending anything.
    const writerRefuses =
      /^Trees\.echo\$Params\.tree\.child\.child.*….*: nests deeper than 64 levels of structs and lists, more than a Cap'n Proto reader accepts \(does the value hold itself\?\)$/;
    for (const tree of [chainOf(65), chainOf(5000), chainOf(3, true)]) {
      const refused = await assertRejects(() => remote.echo(tree), TypeMappingError);
      assertMatch(refused.message, writerRefuses);
    }
    const looped = await assertRejects(() => remote.chain(3, true), RpcError);
    assertMatch(looped.message, /Trees\.chain\$Results\.result\.child.*: nests deeper than 64/);
    assertEquals(lengthOf(await remote.chain(3, false)), 3);
  },
});
