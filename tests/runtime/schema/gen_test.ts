/**
 * `deno task gen`: the committed output is current, large schema sets
 * compile, and without the compiler it ends in one line saying what to
 * install (and the schema tests skip instead of crashing).
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { CAPNP_MISSING, capnpAvailable } from "../../../runtime/schema/capnp.ts";
import { generate, REPOSITORY_FOLDERS } from "../../../runtime/schema/gen.ts";
import type { InterfaceDescriptor } from "../../../runtime/schema/descriptor.ts";
import { generateAndLoad } from "./helpers.ts";

const haveCapnp = await capnpAvailable();
if (!haveCapnp) {
  console.log("SKIPPED generator tests that run capnp: the capnp compiler is not installed");
}

const root = new URL("../../../", import.meta.url);
const GEN = ["run", "--allow-read", "--allow-write", "--allow-run", "--allow-env"];

/** Every file under `dir`, relative to it. */
function listFiles(dir: URL, prefix = ""): string[] {
  return [...Deno.readDirSync(new URL(prefix, dir))].flatMap((e) =>
    e.isDirectory ? listFiles(dir, `${prefix}${e.name}/`) : [`${prefix}${e.name}`]
  );
}

Deno.test({
  name: "gen: every gen/ folder of the repository is up to date with its schemas",
  ignore: !haveCapnp,
  async fn() {
    for (const { schemas, classes } of REPOSITORY_FOLDERS) {
      const generated = await generate({ schemaDir: new URL(schemas, root).pathname, classes });
      const dir = new URL(`${schemas}gen/`, root);
      assertEquals(listFiles(dir).sort(), [...generated.keys()].sort(), `${dir} file set`);
      for (const [name, text] of generated) {
        assertEquals(
          Deno.readTextFileSync(new URL(name, dir)),
          text,
          `${schemas}gen/${name} is stale: run deno task gen`,
        );
      }
    }
  },
});

/**
 * A schema file of `interfaces` interfaces with `methods` methods each, a
 * struct per interface, and `extra` lines.
 */
function largeSchema(id: bigint, interfaces: number, methods: number, extra = ""): string {
  const lines = [`@0x${id.toString(16)};`, extra];
  for (let i = 0; i < interfaces; i++) {
    lines.push(`interface Service${i} {`);
    for (let m = 0; m < methods; m++) {
      lines.push(`  call${m} @${m} (a :Int32, b :Text, c :List(Data)) -> (result :Record${i});`);
    }
    lines.push("}", `struct Record${i} { name @0 :Text; value @1 :Int64; tags @2 :List(Text); }`);
  }
  return lines.join("\n") + "\n";
}

Deno.test({
  name: "gen: a large schema set compiles and its modules load",
  ignore: !haveCapnp,
  async fn() {
    // 320 methods in one file is past what capnp-es reads under its default
    // budget, and files importing it carry its nodes in their requests too.
    const { files, modules } = await generateAndLoad(
      {
        "big.capnp": largeSchema(0xd2e2c3d4e5f60001n, 10, 32),
        "more/a.capnp": largeSchema(
          0xd2e2c3d4e5f60002n,
          4,
          20,
          'using Big = import "/big.capnp";\nstruct UsesBig { r @0 :Big.Record9; }',
        ),
        "more/b.capnp": largeSchema(
          0xd2e2c3d4e5f60003n,
          4,
          20,
          'using A = import "a.capnp";\nstruct UsesA { r @0 :A.UsesBig; }',
        ),
      },
      ["big.mp.ts", "big.ts", "more/b.mp.ts", "more/b.ts"],
      ["more/b.capnp"],
    );
    // more/b's classes import more/a's, which import big's: all three are made.
    assertEquals([...files.keys()].sort(), [
      "big.mp.ts",
      "big.ts",
      "more/a.mp.ts",
      "more/a.ts",
      "more/b.mp.ts",
      "more/b.ts",
      "wire-contract.json",
    ]);
    const service = modules["big.mp.ts"].Service9 as InterfaceDescriptor;
    assertEquals(service.methods.length, 32);
    assertEquals(modules["big.ts"]._capnpFileId, 0xd2e2c3d4e5f60001n);
    assertEquals((modules["more/b.mp.ts"].Service3 as InterfaceDescriptor).methods.length, 20);
    assertEquals(modules["more/b.ts"]._capnpFileId, 0xd2e2c3d4e5f60003n);
  },
});

Deno.test({
  name: "gen: an unused import (as Bitcoin Core's rpc.capnp has) generates",
  ignore: !haveCapnp,
  async fn() {
    const { files, modules } = await generateAndLoad(
      {
        "common.capnp": "@0xd2e2c3d4e5f60011;\nstruct Shared { x @0 :Int32; }\n",
        "rpc.capnp": '@0xd2e2c3d4e5f60012;\nusing Common = import "common.capnp";\n' +
          "interface Rpc { run @0 (request :Text) -> (result :Text); }\n",
      },
      ["rpc.ts", "rpc.mp.ts"],
      ["rpc.capnp"],
    );
    // capnp-es's rpc.ts imports common.ts, unused as it is: both are made.
    assertEquals([...files.keys()].sort(), [
      "common.mp.ts",
      "common.ts",
      "rpc.mp.ts",
      "rpc.ts",
      "wire-contract.json",
    ]);
    assertEquals((modules["rpc.mp.ts"].Rpc as InterfaceDescriptor).methods[0].name, "run");
  },
});

Deno.test("gen: without capnp, one line says what to install, exit 1", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...GEN, "runtime/schema/gen.ts"],
    cwd: root.pathname,
    env: { PATH: "/nonexistent", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(code, 1);
  assertEquals(new TextDecoder().decode(stdout), "");
  assertEquals(new TextDecoder().decode(stderr), `gen: ${CAPNP_MISSING}\n`);
  assert(CAPNP_MISSING.includes("apt-get install capnproto"));
});

Deno.test("gen: without capnp, the schema tests are skipped, not crashed", async () => {
  // The generator's tests and the application schemas' tests both run capnp.
  const others = ["tests/runtime/schema/", "tests/schemas/"].flatMap((folder) =>
    [...Deno.readDirSync(new URL(folder, root))]
      .map((e) => e.name)
      .filter((name) => name.endsWith("_test.ts") && name !== "gen_test.ts")
      .map((name) => `${folder}${name}`)
  );
  assert(others.includes("tests/schemas/bitcoin_ids_test.ts"), others.join(" "));
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", ...others],
    cwd: root.pathname,
    env: { PATH: "/nonexistent", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assertEquals(code, 0, output);
  assert(/ok \| \d+ passed \| 0 failed \| [1-9]\d* ignored/.test(output), output);
  assert(output.includes("SKIPPED"), output);
});
