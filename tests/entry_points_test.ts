/**
 * The published entry points can be imported by code holding no permission
 * at all: importing one reads, writes or asks nothing (no import-time side
 * effects), which a sandboxed component relies on. And they type-check in
 * a project with TypeScript's strictest options: imported as source, the
 * runtime is checked with the importer's.
 *
 * @module
 */
import { assertEquals } from "./assert.ts";
import { tempDir } from "./helpers.ts";

const root = new URL("../", import.meta.url);

/** Every module `deno.json` publishes. */
function publishedModules(): string[] {
  const { exports } = JSON.parse(Deno.readTextFileSync(new URL("deno.json", root)));
  return typeof exports === "string" ? [exports] : Object.values(exports as Record<string, string>);
}

Deno.test("every published entry point imports with no permission granted", async () => {
  using dir = tempDir();
  const importer = `${dir.path}/importer.ts`;
  for (const module of publishedModules()) {
    const href = new URL(module, root).href;
    await Deno.writeTextFile(importer, `await import(${JSON.stringify(href)});\n`);
    // `deno run` without flags grants nothing (`deno eval` would grant everything).
    // The importer lies outside the project: its configuration is named.
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", `--config=${new URL("deno.json", root).pathname}`, importer],
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(
      { module, code, stderr: new TextDecoder().decode(stderr) },
      { module, code: 0, stderr: "" },
    );
  }
});

Deno.test("every published entry point type-checks under the strictest compiler options", async () => {
  using dir = tempDir();
  const { imports } = JSON.parse(Deno.readTextFileSync(new URL("deno.json", root)));
  const compilerOptions = {
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    noImplicitReturns: true,
    noFallthroughCasesInSwitch: true,
    noPropertyAccessFromIndexSignature: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
  };
  await Deno.writeTextFile(`${dir.path}/deno.json`, JSON.stringify({ compilerOptions, imports }));
  const importer = `${dir.path}/importer.ts`;
  await Deno.writeTextFile(
    importer,
    publishedModules().map((module) => `import ${JSON.stringify(new URL(module, root).href)};\n`)
      .join(""),
  );
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["check", `--config=${dir.path}/deno.json`, importer],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const errors = new TextDecoder().decode(stderr).split("\n").filter((line) => /TS\d+/.test(line));
  assertEquals({ code, errors }, { code: 0, errors: [] });
});
