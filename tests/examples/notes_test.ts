/**
 * The example application (`examples/notes/`), run as its user would: its
 * launcher starts the notes component under the sandbox, and everything it
 * imports from the runtime comes through the published entry points.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { tempDir } from "../helpers.ts";

const app = new URL("../../examples/notes/", import.meta.url);

async function launch(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("launch.ts", app).pathname, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

Deno.test("notes example: the launcher writes, reads and watches through the sandboxed component", async () => {
  const state = await Deno.makeTempDir({ prefix: "notes-test-" });
  try {
    const first = await launch([`--state=${state}`, "todo", "milk", "idea", "a sandbox"]);
    assertEquals(first.code, 0, first.stderr);
    assertEquals(first.stdout, "idea: a sandbox\ntodo: milk\nwatched: todo, idea\n");
    // The notes outlive the run, in the component's own data directory (under root a disk
    // image mounted only while it runs, so they are read back through the component).
    const second = await launch([`--state=${state}`]);
    assertEquals(second.stdout, "idea: a sandbox\ntodo: milk\nwatched: \n");
    // A bad title is refused by the component, in one line, and nothing is lost.
    const bad = await launch([`--state=${state}`, "bad\ttitle", "x"]);
    assertEquals(bad.code, 1);
    assertMatch(bad.stderr, /^notes: a title is 1 to 100 characters without control characters/m);
    // So is an option it does not know (a --state without its "=").
    const unknown = await launch(["--state", state, "x", "y"]);
    assertEquals([unknown.code, unknown.stdout], [1, ""]);
    assertMatch(unknown.stderr, /^notes: unknown option --state \(usage: /m);
    const third = await launch([`--state=${state}`]);
    assertEquals(third.stdout, "idea: a sandbox\ntodo: milk\nwatched: \n");
  } finally {
    await Deno.remove(state, { recursive: true });
  }
});

Deno.test("notes example: without --state its notes last one run, and nothing is left behind", async () => {
  using temp = tempDir("notes-tmp-");
  Deno.chmodSync(temp.path, 0o711); // under root, components pass through it to their folders
  const run = await launch(["todo", "milk"], { TMPDIR: temp.path });
  assertEquals(run.code, 0, run.stderr);
  assertEquals(run.stdout, "todo: milk\nwatched: todo\n");
  assertEquals([...Deno.readDirSync(temp.path)].map((entry) => entry.name), []);
});

Deno.test("notes example: its code imports the runtime only through the published entry points", async () => {
  const published = ["@capdeno/runtime/component", "@capdeno/runtime/host"];
  for await (const entry of Deno.readDir(app)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(new URL(entry.name, app));
    for (const [, specifier] of text.matchAll(/^(?:import|export)[^"]*"([^"]+)";/gm)) {
      const local = specifier.startsWith("./");
      assert(local || published.includes(specifier), `${entry.name} imports ${specifier}`);
    }
  }
});
