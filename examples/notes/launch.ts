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
  const options = args.filter((a) => a.startsWith("--"));
  const unknown = options.find((a) => !/^--state=./.test(a));
  if (unknown !== undefined) {
    throw new Error(`unknown option ${unknown} (usage: [--state=DIR] [title text]...)`);
  }
  const pairs = args.filter((a) => !a.startsWith("--"));
  if (pairs.length % 2 !== 0) throw new Error("give notes as pairs: <title> <text>");
  const given = options.at(-1)?.slice("--state=".length);
  // Without --state, the notes last one run: their folder goes when it ends (after the supervisor).
  await using temporary = given === undefined ? await temporaryFolder("notes-") : null;
  await using supervisor = new Supervisor({ stateDir: given ?? temporary!.path });
  // Ctrl-C stops the component before the process ends.
  using _stops = supervisor.stopOnSignals();
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

/**
 * A new private folder, removed with what is in it on dispose, or when the
 * process ends first (`Deno.exit`, as after Ctrl-C, runs no disposers).
 */
async function temporaryFolder(prefix: string): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix });
  const remove = () => {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch (error) {
      console.error(`notes: could not remove ${path}: ${(error as Error).message}`);
    }
  };
  globalThis.addEventListener("unload", remove);
  return {
    path,
    [Symbol.asyncDispose]: async () => {
      globalThis.removeEventListener("unload", remove);
      await Deno.remove(path, { recursive: true });
    },
  };
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(`notes: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
