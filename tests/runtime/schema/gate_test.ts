/**
 * The schema compatibility gate and `gen` on a user's folders, through the
 * command line as a user runs it: a change that keeps the committed wire
 * contract is written, one that reuses or retypes an ordinal is refused
 * naming it (and writes nothing) unless `--force`; a schema folder outside
 * the repository generates against the runtime named by `--runtime` and
 * its modules type-check and serve a call; bad arguments end in one line.
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { capnpAvailable } from "../../../runtime/schema/capnp.ts";

const haveCapnp = await capnpAvailable();
if (!haveCapnp) console.log("SKIPPED gate tests: the capnp compiler is not installed");

const root = new URL("../../../", import.meta.url).pathname;
const GEN = `${root}runtime/schema/gen.ts`;

/**
 * Runs `deno <args>` in `cwd`, as a user's shell there would: its exit code
 * and its output. `INIT_CWD` (where npm, npx or `deno task` was started,
 * set for this test run) is not passed on: `deno task` keeps one it finds.
 */
async function run(args: string[], cwd = root) {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    clearEnv: true,
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/** Runs the generator's command line. */
function gen(...args: string[]) {
  return run(["run", "--allow-read", "--allow-write", "--allow-run", "--allow-env", GEN, ...args]);
}

/** A schema file: a Calc interface, a Point struct and a Mode enum, with `methods` and `fields`. */
function calc(methods: string, fields = "x @0 :Int32; y @1 :Int32;", modes = "fast @0; slow @1;") {
  return `@0xd4e5f6a7b8c9d0e1;
using Proxy = import "/mp/proxy.capnp";
struct Point { ${fields} }
enum Mode { ${modes} }
interface Calc {
${methods}
}
`;
}

const V1 = `  destroy @0 (context :Proxy.Context) -> ();
  add @1 (context :Proxy.Context, a :Int32, b :Int32) -> (result :Int32);
  move @2 (context :Proxy.Context, p :Point, mode :Mode) -> (result :Point);`;
const SCALE = "\n  scale @3 (context :Proxy.Context, p :Point, k :Float64) -> (result :Point);";

Deno.test({
  name: "gate: new ordinals and renames pass; retyped, reused or removed ordinals are refused",
  ignore: !haveCapnp,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "capdeno-gate-" });
    try {
      const schema = `${dir}/schemas/calc.capnp`;
      const out = `${dir}/gen/`;
      Deno.mkdirSync(`${dir}/schemas`);
      const write = (text: string) => Deno.writeTextFileSync(schema, text);
      const generate = (...flags: string[]) => gen(...flags, `${dir}/schemas`, out);
      const contract = () => Deno.readTextFileSync(`${out}wire-contract.json`);

      write(calc(V1));
      assertEquals((await generate()).code, 0);
      assert(contract().includes('"name":"move"'), contract());

      // Added: a method, a field, an enum value. Renamed: a method, a param, a field.
      write(calc(
        V1.replace("add @1", "plus @1").replace("a :Int32", "left :Int32") + SCALE,
        "across @0 :Int32; y @1 :Int32; z @2 :Int32;",
        "fast @0; slow @1; exact @2;",
      ));
      const added = await generate("--check");
      assertEquals(added.code, 1, "--check: the output is stale, but the contract is kept");
      assert(added.stderr.includes("stale: "), added.stderr);
      assert(!added.stderr.includes("refused"), added.stderr);
      assertEquals((await generate()).code, 0);
      assert(contract().includes('"name":"scale"'));
      const kept = contract();
      const keptModule = Deno.readTextFileSync(`${out}calc.mp.ts`);

      const refusals: [string, string, string[]][] = [
        [
          "a retyped field",
          calc(
            V1 + SCALE,
            "across @0 :Text; y @1 :Int32; z @2 :Int32;",
            "fast @0; slow @1; exact @2;",
          ),
          ["struct Point: field across @0 was Int32, now Text"],
        ],
        [
          "a reused method ordinal",
          calc(
            V1.replace(
              "add @1 (context :Proxy.Context, a :Int32, b :Int32) -> (result :Int32)",
              "shout @1 (context :Proxy.Context, words :Text) -> (result :Text)",
            ) + SCALE,
            "across @0 :Int32; y @1 :Int32; z @2 :Int32;",
            "fast @0; slow @1; exact @2;",
          ),
          [
            "Calc.plus @1 (now shout): param left @1 was Int32, now Text",
            "Calc.plus @1 (now shout): param b @2 removed (was Int32)",
            "Calc.plus @1 (now shout): result result @0 was Int32, now Text",
          ],
        ],
        [
          "a removed method, field and enum value",
          calc(V1, "across @0 :Int32; y @1 :Int32;", "fast @0; slow @1;"),
          [
            "Calc.scale @3: method removed",
            "struct Point: field z @2 removed (was Int32)",
            "enum Mode: value exact @2 removed",
          ],
        ],
      ];
      for (const [what, text, expected] of refusals) {
        write(text);
        for (const flags of [[], ["--check"]]) {
          const { code, stdout, stderr } = await generate(...flags);
          assertEquals(code, 1, `${what} ${flags}: ${stderr}`);
          assertEquals(stdout, "", what);
          const lines = stderr.trimEnd().split("\n");
          assertEquals(lines.slice(0, -1), expected.map((e) => `gen: ${out}: ${e}`), what);
          assert(lines.at(-1)!.includes("refused") && lines.at(-1)!.includes("--force"), what);
          assertEquals(contract(), kept, `${what}: nothing written`);
          assertEquals(Deno.readTextFileSync(`${out}calc.mp.ts`), keptModule, what);
        }
      }

      // A deliberate break: --force writes it, and it is the contract from then on.
      const forced = await generate("--force");
      assertEquals(forced.code, 0, forced.stderr);
      assert(forced.stderr.includes("--force: accepting 3 break(s)"), forced.stderr);
      assert(!contract().includes('"name":"scale"'));
      const after = await generate("--check");
      assertEquals([after.code, after.stderr], [0, ""]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "gate: unions and groups: a field moved into a new union, group or named union as its " +
    "first member passes; a field moved in later, a retyped group field and a retyped union " +
    "member are refused",
  ignore: !haveCapnp,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "capdeno-gate-" });
    try {
      Deno.mkdirSync(`${dir}/schemas`);
      const write = (fields: string) =>
        Deno.writeTextFileSync(`${dir}/schemas/calc.capnp`, calc(V1, fields));
      const generate = (...flags: string[]) => gen(...flags, `${dir}/schemas`, `${dir}/gen/`);
      write("x @0 :Int32; y @1 :Int32;");
      assertEquals((await generate()).code, 0);
      const kept = "union { x @0 :Int32; label @2 :Text; } y @1 :Int32; " +
        "g :group { p @3 :Int32; q @4 :Int32; } s :union { t @5 :Text; n @6 :Int64; }";
      write(kept);
      const moved = await generate();
      assertEquals([moved.code, moved.stderr], [0, ""]);
      // Moved into a new group, or a new named union (its lowest ordinal is member 0, which old
      // data reads as).
      for (
        const group of [
          "w :group { y @1 :Int32; z @7 :Text; }",
          "w :union { y @1 :Int32; z @7 :Text; }",
          "w :union { z @7 :Text; y @1 :Int32; }",
        ]
      ) {
        write(kept.replace("y @1 :Int32;", group));
        const grouped = await generate("--check");
        assertEquals(grouped.stderr.includes("refused"), false, grouped.stderr);
      }
      const refusals: [string, string][] = [
        [
          kept.replace("y @1 :Int32;", "w :group { y @1 :Text; z @7 :Text; }"),
          "struct Point: field y was Int32, now group(Point.w)",
        ],
        [
          kept.replace("label @2 :Text; } y @1 :Int32;", "label @2 :Text; y @1 :Int32; }"),
          "struct Point: field y was outside the union, now union member 1",
        ],
        [kept.replace("p @3 :Int32", "p @3 :Text"), "struct Point.g: field p was Int32, now Text"],
        [
          kept.replace("n @6 :Int64", "n @6 :Float64"),
          "struct Point.s: field n was Int64, now Float64",
        ],
      ];
      for (const [fields, expected] of refusals) {
        write(fields);
        const { code, stderr } = await generate();
        assertEquals(code, 1, stderr);
        assertEquals(stderr.split("\n")[0], `gen: ${dir}/gen/: ${expected}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** A schema with a generic struct, two enums, a superclass, and the `uses` method using them. */
function shapes(edit: (text: string) => string = (text) => text) {
  return edit(`@0xd4e5f6a7b8c9d0f2;
struct Pair(K, V) { key @0 :K; value @1 :V; }
struct Box(T, U) { g :group { a @0 :T; b @1 :U; } }
struct Point { x @0 :Int32; y @1 :Int32; }
struct Tagged { n @0 :Int32; }
enum Color { red @0; green @1; }
enum Size { small @0; large @1; }
interface Base { ping @0 () -> (); }
interface Calc extends(Base) {
  uses @0 (p :Pair(Text, Point), c :Color, t :Tagged, b :Box(Point, Text)) -> ();
}
`);
}

Deno.test({
  name: "gate: superclasses, enums, generic parameters and moved names are checked; " +
    "renamed structs and parameters pass",
  ignore: !haveCapnp,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "capdeno-gate-" });
    try {
      Deno.mkdirSync(`${dir}/schemas`);
      const write = (text: string) => Deno.writeTextFileSync(`${dir}/schemas/shapes.capnp`, text);
      const generate = () => gen(`${dir}/schemas`, `${dir}/gen/`);
      write(shapes());
      assertEquals((await generate()).code, 0);
      /** Each edit as pairs of text and its replacement, and the first line it is refused with. */
      const refusals: [string[][], string][] = [
        [[["extends(Base) {", "{"]], "interface Calc: no longer extends Base (0x"],
        [[["c :Color", "c :Size"]], "Calc.uses @0: param c @1 was Color, now Size"],
        [
          [["Pair(K, V)", "Pair(V, K)"]],
          "struct Pair: field key @0 was parameter 1, now parameter 2",
        ],
        [[["Box(T, U)", "Box(U, T)"]], "struct Box.g: field a was parameter 1, now parameter 2"],
        [[["x @0 :Int32; y @1", "y @0 :Int32; x @1"]], "struct Point: field x @0 is now @1"],
        [[["red @0; green @1", "green @0; red @1"]], "enum Color: value red @0 is now @1"],
        [
          [["enum Color { red @0; green @1; }", "enum Hue { green @0; red @1; }"], [
            "c :Color",
            "c :Hue",
          ]],
          "Calc.uses @0: param c @1 was Color, now Hue",
        ],
        [
          [["struct Tagged { n @0 :Int32; }", "enum Tagged { n @0; m @1; }"]],
          "Calc.uses @0: param t @2 was struct Tagged, now enum Tagged",
        ],
      ];
      for (const [edits, expected] of refusals) {
        write(shapes((text) => edits.reduce((t, [from, to]) => t.replace(from, to), text)));
        const { code, stderr } = await generate();
        assertEquals(code, 1, `${edits}: ${stderr}`);
        const first = stderr.split("\n")[0];
        assert(first.startsWith(`gen: ${dir}/gen/: ${expected}`), `${edits}: ${first}`);
      }
      // A struct renamed where a generic binding uses it, and renamed parameters, keep the wire.
      write(
        shapes((text) =>
          text.replaceAll("Point", "Vec").replace(
            "Pair(K, V) { key @0 :K; value @1 :V; }",
            "Pair(A, B) { key @0 :A; value @1 :B; }",
          ).replace(
            "Box(T, U) { g :group { a @0 :T; b @1 :U; } }",
            "Box(X, Y) { g :group { a @0 :X; b @1 :Y; } }",
          )
        ),
      );
      const renamed = await generate();
      assertEquals([renamed.code, renamed.stderr], [0, ""]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Bitcoin Core's v30.0 mining options, with a `create` method taking them. */
function mining(edit: (text: string) => string = (text) => text) {
  return edit(`@0xd4e5f6a7b8c9d0f3;
struct BlockCreateOptions {
  useMempool @0 :Bool;
  blockReservedWeight @1 :UInt64;
  coinbaseOutputMaxAdditionalSigops @2 :UInt64;
}
enum Mode { fast @0; slow @1; }
interface Mining {
  create @0 (options :BlockCreateOptions, limit :Int32 = 5, mode :Mode = slow, f :Float64 = -0.0) -> ();
}
`);
}

Deno.test({
  name: "gate: a default added, changed or removed is refused (Bitcoin Core master's mining " +
    "defaults against v30.0); a zero default is none; a contract from before defaults were " +
    "recorded passes them and is upgraded",
  ignore: !haveCapnp,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "capdeno-gate-" });
    try {
      Deno.mkdirSync(`${dir}/schemas`);
      const write = (text: string) => Deno.writeTextFileSync(`${dir}/schemas/mining.capnp`, text);
      const generate = () => gen(`${dir}/schemas`, `${dir}/gen/`);
      const contractFile = `${dir}/gen/wire-contract.json`;
      write(mining());
      assertEquals((await generate()).code, 0);
      const v30 = Deno.readTextFileSync(contractFile);
      assert(v30.includes('["limit","Int32 = 5"]'), v30);
      assert(v30.includes('["mode","mining.capnp:Mode = 1"]'), v30);
      assert(v30.includes('["f","Float64 = -0"]'), v30);
      const master = (text: string) =>
        text.replace("useMempool @0 :Bool", "useMempool @0 :Bool = true")
          .replace("blockReservedWeight @1 :UInt64", "blockReservedWeight @1 :UInt64 = 8000")
          .replace("Sigops @2 :UInt64", "Sigops @2 :UInt64 = 400");
      const xor = " (defaults are XORed on the wire)";
      const refusals: [(text: string) => string, string[]][] = [
        [master, [
          `struct BlockCreateOptions: field useMempool @0 was Bool, now Bool = true${xor}`,
          `struct BlockCreateOptions: field blockReservedWeight @1 was UInt64, now UInt64 = 8000${xor}`,
          "struct BlockCreateOptions: field coinbaseOutputMaxAdditionalSigops @2 was UInt64, " +
          `now UInt64 = 400${xor}`,
        ]],
        [(t) => t.replace("Int32 = 5", "Int32 = 6"), [
          `Mining.create @0: param limit @1 was Int32 = 5, now Int32 = 6${xor}`,
        ]],
        [(t) => t.replace("Int32 = 5", "Int32").replace("Mode = slow", "Mode = fast"), [
          `Mining.create @0: param limit @1 was Int32 = 5, now Int32${xor}`,
          `Mining.create @0: param mode @2 was Mode = 1, now Mode${xor}`,
        ]],
        [(t) => t.replace("= -0.0", "= 0.0"), [
          `Mining.create @0: param f @3 was Float64 = -0, now Float64${xor}`,
        ]],
      ];
      for (const [edit, expected] of refusals) {
        write(mining(edit));
        const { code, stderr } = await generate();
        assertEquals(code, 1, stderr);
        const lines = stderr.trimEnd().split("\n");
        assertEquals(lines.slice(0, -1), expected.map((e) => `gen: ${dir}/gen/: ${e}`));
        assertEquals(Deno.readTextFileSync(contractFile), v30, "nothing written");
      }
      // The same wire: a zero default, and an enum value renamed with the default naming it.
      write(
        mining((t) =>
          t.replace("useMempool @0 :Bool", "useMempool @0 :Bool = false")
            .replaceAll("slow", "sluggish")
        ),
      );
      const same = await generate();
      assertEquals([same.code, same.stderr], [0, ""]);

      // A contract written before defaults were recorded: it cannot show them, so they pass,
      // and the contract written then records them.
      Deno.writeTextFileSync(
        contractFile,
        v30.replace('\n "version": 2,', "").replace(/ = [^"]+"/g, '"'),
      );
      write(mining(master));
      const upgraded = await generate();
      assertEquals([upgraded.code, upgraded.stderr], [0, ""]);
      const now = Deno.readTextFileSync(contractFile);
      assert(now.includes('"version": 2,') && now.includes('["useMempool","Bool = true"]'), now);
      write(mining());
      assertEquals((await generate()).code, 1, "checked from then on");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "gen: a damaged wire-contract.json, or a file named as a folder, ends in one line",
  ignore: !haveCapnp,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "capdeno-gate-" });
    try {
      Deno.mkdirSync(`${dir}/schemas`);
      Deno.writeTextFileSync(`${dir}/schemas/shapes.capnp`, shapes());
      assertEquals((await gen(`${dir}/schemas`, `${dir}/gen/`)).code, 0);
      const damaged: [string, string][] = [
        ['{"interfaces": null, "structs": {}, "enums": {}}', '"interfaces" is not an object'],
        [
          '{"interfaces": {"a:I": {"id": "1"}}, "structs": {}, "enums": {}}',
          'interfaces["a:I"].methods is not a list',
        ],
        [
          '{"interfaces": {}, "structs": {"a:S": {"id": "1", "fields": [["x", 3]]}}, "enums": {}}',
          'structs["a:S"].fields[0] is not a [name, type] field',
        ],
        ['{"interfaces": [], "structs": {}, "enums": {}}', '"interfaces" is not an object'],
        [
          '{"version": 3, "interfaces": {}, "structs": {}, "enums": {}}',
          '"version" is 3: this gen reads version 2 and contracts without one',
        ],
      ];
      for (const [text, problem] of damaged) {
        Deno.writeTextFileSync(`${dir}/gen/wire-contract.json`, text);
        const { code, stderr } = await gen(`${dir}/schemas`, `${dir}/gen/`);
        assertEquals(
          [code, stderr],
          [
            1,
            `gen: ${dir}/gen/wire-contract.json is not a wire contract (${problem}); ` +
            "restore it from version control\n",
          ],
        );
      }
      // Named as a folder, or on the way to one: the file is named.
      const schema = `${dir}/schemas/shapes.capnp`;
      const module = `${dir}/gen/shapes.mp.ts`;
      const named: [string[], string][] = [
        [[schema], schema],
        [[`${schema}/sub`], schema],
        [[`${dir}/schemas`, module], module],
        [[`${dir}/schemas`, `${module}/out`], module],
      ];
      for (const [args, file] of named) {
        const { code, stderr } = await gen(...args);
        assertEquals(code, 1);
        assert(stderr.startsWith(`gen: ${file} is a file, not a folder (usage: `), stderr);
        assertEquals(stderr.split("\n").length, 2, stderr);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "gen: a user's folder outside the repository, against --runtime from an import map",
  ignore: !haveCapnp,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "capdeno-user-" });
    try {
      Deno.mkdirSync(`${dir}/schemas/app`, { recursive: true });
      Deno.writeTextFileSync(
        `${dir}/schemas/app/greeter.capnp`,
        `@0xd4e5f6a7b8c9d0e2;
using Proxy = import "/mp/proxy.capnp";
interface GreeterInit {
  construct @0 (threadMap :Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  makeGreeter @1 (context :Proxy.Context) -> (result :Greeter);
}
interface Greeter {
  greet @0 (context :Proxy.Context, name :Text) -> (result :Text);
}
`,
      );
      const repo = JSON.parse(Deno.readTextFileSync(`${root}deno.json`));
      Deno.writeTextFileSync(
        `${dir}/deno.json`,
        JSON.stringify({
          imports: { ...repo.imports, "@capdeno/runtime/component": `${root}component.ts` },
        }),
      );
      // As a user runs it from their project: `deno task` runs in the runtime's folder, and the
      // folders are named relative to where it was run.
      const { code, stderr } = await run(
        [
          "task",
          "--config",
          `${root}deno.json`,
          "gen",
          "--runtime=@capdeno/runtime/component",
          "schemas",
          "gen",
        ],
        dir,
      );
      assertEquals(code, 0, stderr);
      const module = Deno.readTextFileSync(`${dir}/gen/app/greeter.mp.ts`);
      assert(module.includes('import type * as $ from "@capdeno/runtime/component";'), module);
      assert(
        module.includes('import { Context, ThreadMap } from "@capdeno/runtime/component";'),
        module,
      );
      Deno.writeTextFileSync(
        `${dir}/main.ts`,
        `import { connect, listen } from "@capdeno/runtime/component";
import { type Greeter, GreeterInit } from "./gen/app/greeter.mp.ts";

const greeter: Greeter = { greet: (name) => \`hello \${name}\` };
const datadir = await Deno.makeTempDir();
{
  await using _listener = listen(GreeterInit, "unix", { makeGreeter: () => greeter }, {
    datadir,
    component: "greeter",
  });
  await using init = await connect(GreeterInit, "unix", { datadir, component: "greeter" });
  await using remote = (await init.makeGreeter())!;
  console.log(await remote.greet("deno"));
}
await Deno.remove(datadir, { recursive: true });
`,
      );
      const checked = await run(["check", "--no-lock", "main.ts"], dir);
      assertEquals(checked.code, 0, checked.stderr);
      const ran = await run(["run", "--no-lock", "-A", "main.ts"], dir);
      assertEquals([ran.code, ran.stdout], [0, "hello deno\n"], ran.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("gen: bad arguments end in one line, exit 1", async () => {
  const cases: [string[], RegExp][] = [
    [["--frobnicate"], /^gen: unknown option --frobnicate \(usage: gen /],
    [["a", "b", "c"], /^gen: too many folders: a b c \(usage: gen /],
    [["/nonexistent/schemas"], /^gen: schema folder \/nonexistent\/schemas\/ does not exist$/],
    [
      ["--classes=nothere.capnp", "runtime/schema"],
      /^gen: --classes: no schema nothere\.capnp in /,
    ],
    // The repository's own folders each name their classes; a list for all of them means nothing.
    [["--classes=testing.capnp"], /^gen: --classes needs a schema folder \(usage: gen /],
  ];
  for (const [args, expected] of cases) {
    if (args[0].startsWith("--classes") && args.length > 1 && !haveCapnp) continue;
    const { code, stdout, stderr } = await gen(...args);
    assertEquals([code, stdout], [1, ""], args.join(" "));
    assertEquals(stderr.trimEnd().split("\n").length, 1, stderr);
    assert(expected.test(stderr.trimEnd()), stderr);
  }
});
