/**
 * Code provenance across spawns: a graph's listing is remembered only while
 * its files and the project's configuration are unchanged, so an edit that
 * reaches outside the allowed roots is refused on the next spawn, and a
 * damaged listing is listed again.
 *
 * @module
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { type CodePolicy, prepareCode, ProvenanceError } from "../../sandbox/provenance.ts";
import { componentCodePolicy, projectRoot } from "../../sandbox/contract.ts";

interface Project {
  dir: string;
  entry: string;
  policy: CodePolicy;
}

/** Runs `body` in a new project folder: `deno.json`, `app/main.ts` importing `app/lib.ts`, and `outside.ts`. */
async function inProject(body: (project: Project) => Promise<void>): Promise<void> {
  const dir = Deno.realPathSync(await Deno.makeTempDir({ prefix: "capdeno-provenance-" }));
  Deno.mkdirSync(`${dir}/app`);
  Deno.writeTextFileSync(`${dir}/deno.json`, "{}\n");
  Deno.writeTextFileSync(`${dir}/app/main.ts`, 'import { n } from "./lib.ts";\nconsole.log(n);\n');
  Deno.writeTextFileSync(`${dir}/app/lib.ts`, "export const n = 1;\n");
  Deno.writeTextFileSync(`${dir}/outside.ts`, "export const n = 2;\n");
  const policy = { project: dir, roots: [`${dir}/app`], cacheDir: `${dir}/cache` };
  try {
    await body({ dir, entry: `${dir}/app/main.ts`, policy });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("provenance: an unchanged graph is remembered, an edit reaching outside is refused", async () => {
  await inProject(async ({ dir, entry, policy }) => {
    const first = await prepareCode(entry, policy);
    assertEquals(first.graph, "listed");
    assertEquals(first.files, [`${dir}/app/lib.ts`, entry]);
    const again = await prepareCode(entry, policy);
    assertEquals(again, { ...first, graph: "remembered" });

    const lib = Deno.readTextFileSync(`${dir}/app/lib.ts`);
    Deno.writeTextFileSync(`${dir}/app/lib.ts`, 'export { n } from "../outside.ts";\n');
    const refused = await assertRejects(() => prepareCode(entry, policy), ProvenanceError);
    assert(refused.message.includes(`${dir}/outside.ts: outside the component's allowed roots`));

    // Put back, the remembered listing and bundle hold again.
    Deno.writeTextFileSync(`${dir}/app/lib.ts`, lib);
    assertEquals(await prepareCode(entry, policy), again);
  });
});

Deno.test("provenance: a bundle build removes the folders that builders killed mid-build left", async () => {
  await inProject(async ({ entry, policy }) => {
    const hourAgo = new Date(Date.now() - 3600_000);
    const left = (name: string, old: boolean) => {
      Deno.mkdirSync(`${policy.cacheDir}/${name}`, { recursive: true });
      Deno.writeTextFileSync(`${policy.cacheDir}/${name}/main.js`, "partial");
      if (old) Deno.utimeSync(`${policy.cacheDir}/${name}`, hourAgo, hourAgo);
    };
    const building = (n: number) =>
      `${"ab".repeat(32)}.${crypto.randomUUID().slice(0, -1)}${n}.tmp`;
    const killed = building(1), live = building(2);
    left(killed, true); // killed an hour ago
    left(live, false); // another spawner bundling now
    left("notes.tmp", true); // not a builder's name
    const code = await prepareCode(entry, policy);
    const names = [...Deno.readDirSync(policy.cacheDir)].map((entry) => entry.name);
    assert(names.includes(live) && names.includes("notes.tmp"), names.join(" "));
    assert(!names.includes(killed), names.join(" "));
    assertEquals(Deno.readTextFileSync(code.bundle).includes("console.log"), true);
  });
});

Deno.test("provenance: a graph that grows, or a changed configuration, is listed again", async () => {
  await inProject(async ({ dir, entry, policy }) => {
    const first = await prepareCode(entry, policy);
    Deno.writeTextFileSync(`${dir}/app/extra.ts`, "export const m = 3;\n");
    Deno.writeTextFileSync(`${dir}/app/lib.ts`, 'export { m as n } from "./extra.ts";\n');
    const grown = await prepareCode(entry, policy);
    assertEquals(grown.graph, "listed");
    assertEquals(grown.files, [`${dir}/app/extra.ts`, `${dir}/app/lib.ts`, entry]);
    assert(grown.bundle !== first.bundle);
    assert(
      Deno.readTextFileSync(grown.bundle).includes("3"),
      "the bundle is built from the new graph",
    );

    Deno.writeTextFileSync(`${dir}/deno.json`, '{ "imports": { "lib": "./app/lib.ts" } }\n');
    const reconfigured = await prepareCode(entry, policy);
    assertEquals(reconfigured.graph, "listed");
    assert(reconfigured.bundle !== grown.bundle);
  });
});

Deno.test("provenance: a damaged or forged listing is listed again", async () => {
  await inProject(async ({ entry, policy }) => {
    const first = await prepareCode(entry, policy);
    const [listing] = [...Deno.readDirSync(policy.cacheDir)]
      .filter((file) => file.name.endsWith(".graph.json"));
    const path = `${policy.cacheDir}/${listing.name}`;
    const remembered = JSON.parse(Deno.readTextFileSync(path));
    const forgeries = [
      "{ not json",
      JSON.stringify({ ...remembered, files: [entry] }), // lib.ts left out: the hash differs
      JSON.stringify({ ...remembered, files: "all" }),
      JSON.stringify({ ...remembered, hash: "0".repeat(64) }),
      "null",
      // A path outside the roots is never read (a FIFO there would hang the spawn).
      JSON.stringify({ ...remembered, files: [...remembered.files, "/dev/zero"] }),
    ];
    for (const forged of forgeries) {
      Deno.writeTextFileSync(path, forged);
      assertEquals(await prepareCode(entry, policy), first, forged);
    }
    // Its bundle gone, the graph is listed and bundled again.
    Deno.removeSync(first.bundle);
    assertEquals(await prepareCode(entry, policy), first);
    assertEquals((await prepareCode(entry, policy)).graph, "remembered");
  });
});

Deno.test("provenance: a workspace member's configuration or the named import map changed is listed again", async () => {
  await inProject(async ({ dir, entry, policy }) => {
    // main.ts imports "lib", which the member's deno.json maps; the root names an import map too.
    Deno.writeTextFileSync(
      `${dir}/deno.json`,
      '{ "workspace": ["./app"], "importMap": "./map.json" }\n',
    );
    Deno.writeTextFileSync(`${dir}/map.json`, '{ "imports": {} }\n');
    Deno.writeTextFileSync(`${dir}/app/deno.json`, '{ "imports": { "lib": "./lib.ts" } }\n');
    Deno.writeTextFileSync(entry, 'import { n } from "lib";\nconsole.log(n);\n');
    assertEquals((await prepareCode(entry, policy)).graph, "listed");
    assertEquals((await prepareCode(entry, policy)).graph, "remembered");

    Deno.writeTextFileSync(`${dir}/app/deno.json`, '{ "imports": { "lib": "../outside.ts" } }\n');
    const refused = await assertRejects(() => prepareCode(entry, policy), ProvenanceError);
    assert(refused.message.includes(`${dir}/outside.ts: outside the component's allowed roots`));

    Deno.writeTextFileSync(`${dir}/app/deno.json`, '{ "imports": { "lib": "./lib.ts" } }\n');
    assertEquals((await prepareCode(entry, policy)).graph, "remembered");
    Deno.writeTextFileSync(`${dir}/map.json`, '{ "imports": { "x": "./app/lib.ts" } }\n');
    assertEquals((await prepareCode(entry, policy)).graph, "listed");
  });
});

Deno.test("provenance: a listed file that can no longer be read lists the graph again", async () => {
  await inProject(async ({ dir, entry, policy }) => {
    await prepareCode(entry, policy);
    // main.ts stops importing lib.ts, and lib.ts becomes a folder: reading it fails.
    Deno.writeTextFileSync(entry, "console.log(1);\n");
    Deno.removeSync(`${dir}/app/lib.ts`);
    Deno.mkdirSync(`${dir}/app/lib.ts`);
    const code = await prepareCode(entry, policy);
    assertEquals({ graph: code.graph, files: code.files }, { graph: "listed", files: [entry] });
  });
});

Deno.test("provenance: a symbolic link in a root to a file outside it is refused, listed or remembered", async () => {
  await inProject(async ({ dir, entry, policy }) => {
    Deno.symlinkSync("../outside.ts", `${dir}/app/link.ts`);
    Deno.writeTextFileSync(entry, 'import { n } from "./link.ts";\nconsole.log(n);\n');
    const refused = await assertRejects(() => prepareCode(entry, policy), ProvenanceError);
    assert(
      refused.message.includes(
        `${dir}/app/link.ts (a link to ${dir}/outside.ts): outside the component's allowed roots`,
      ),
      refused.message,
    );
    // A link that stays inside the roots is followed: its target is what is checked and hashed.
    Deno.removeSync(`${dir}/app/link.ts`);
    Deno.symlinkSync("./lib.ts", `${dir}/app/link.ts`);
    const linked = await prepareCode(entry, policy);
    assertEquals(linked.files, [`${dir}/app/link.ts`, entry]);
    // Pointed outside once remembered, at a file of the same bytes (the hash
    // alone would not tell), the listing no longer holds and the spawn is refused.
    Deno.writeTextFileSync(`${dir}/outside.ts`, Deno.readTextFileSync(`${dir}/app/lib.ts`));
    Deno.removeSync(`${dir}/app/link.ts`);
    Deno.symlinkSync("../outside.ts", `${dir}/app/link.ts`);
    await assertRejects(() => prepareCode(entry, policy), ProvenanceError);
  });
});

Deno.test("provenance: two entries of one graph (a cycle) get bundles of their own", async () => {
  await inProject(async ({ dir, entry, policy }) => {
    // main.ts and lib.ts import each other: the same files, two programs.
    Deno.writeTextFileSync(entry, 'import "./lib.ts";\nexport const main = "main";\n');
    Deno.writeTextFileSync(`${dir}/app/lib.ts`, 'import "./main.ts";\nconsole.log("lib");\n');
    const fromMain = await prepareCode(entry, policy);
    const fromLib = await prepareCode(`${dir}/app/lib.ts`, policy);
    assertEquals(fromLib.files, fromMain.files);
    assert(fromLib.bundle !== fromMain.bundle, "each entry runs its own bundle");
  });
});

Deno.test("provenance: a component in a project of its own resolves with that project's deno.json", async () => {
  await inProject(async ({ dir }) => {
    const root = projectRoot();
    // The user's own name for a package, and the runtime by its published name.
    Deno.writeTextFileSync(
      `${dir}/deno.json`,
      JSON.stringify({
        imports: {
          "my-schema-lib": JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)).imports.zod,
          "@capdeno/runtime/component": `${root}/component.ts`,
        },
      }),
    );
    Deno.writeTextFileSync(
      `${dir}/app/main.ts`,
      'import { z } from "my-schema-lib";\nimport { lifeline } from "@capdeno/runtime/component";\n' +
        "console.log(z.string().parse(typeof lifeline));\n",
    );
    const policy = componentCodePolicy(`${dir}/app`, `${dir}/cache`);
    assertEquals(policy.project, dir);
    const code = await prepareCode(`${dir}/app/main.ts`, policy);
    assert(code.files.includes(`${root}/component.ts`), code.files.join("\n"));
    assert(code.packages.some((key) => key.startsWith("zod@")), code.packages.join(" "));
    const ran = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-remote", "--no-npm", code.bundle],
      stdout: "piped",
    }).output();
    assertEquals(new TextDecoder().decode(ran.stdout), "function\n");
  });
});
