/**
 * The example application's launcher (the host side): starts the notes
 * component under the sandbox and supervision, writes and reads notes
 * through a proxy, and watches writes through a callback object it hands
 * over. It imports the runtime only through the published entry points.
 *
 * ```sh
 * deno run -A examples/notes/launch.ts [--state=DIR] [title text]...
 * ```
 *
 * @module
 */
import { loadComponent, Supervisor } from "@capdeno/runtime/host";
import { NotesInit, type Watcher } from "./gen/notes.mp.ts";

/** Starts the component, writes each title/text pair, prints what it reads back. */
export async function main(args: readonly string[]): Promise<void> {
  const given = args.find((a) => a.startsWith("--state="))?.slice("--state=".length);
  // The supervisor keeps its state in a folder that exists: a new one is made private.
  if (given !== undefined) Deno.mkdirSync(given, { recursive: true, mode: 0o700 });
  const state = given ?? await Deno.makeTempDir({ prefix: "notes-" });
  const pairs = args.filter((a) => !a.startsWith("--"));
  if (pairs.length % 2 !== 0) throw new Error("give notes as pairs: <title> <text>");
  await using supervisor = new Supervisor({ stateDir: state });
  const component = await supervisor.start(
    NotesInit,
    await loadComponent(new URL(".", import.meta.url).pathname),
  );
  await using notes = (await (await component.current()).makeNotes())!;
  const seen: string[] = [];
  const watcher: Watcher = { written: (title) => void seen.push(title) };
  await notes.watch(watcher);
  for (let i = 0; i < pairs.length; i += 2) await notes.write(pairs[i], pairs[i + 1]);
  for (const title of await notes.titles()) console.log(`${title}: ${await notes.read(title)}`);
  // Watch callbacks are notifications the store does not wait for: wait here until each has come.
  const deadline = Date.now() + 20_000;
  while (seen.length < pairs.length / 2) {
    if (Date.now() > deadline) throw new Error(`only ${seen.length} write notifications came`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  console.log(`watched: ${seen.join(", ")}`);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(`notes: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
