/**
 * The notes component's entry point: serves `NotesInit` to whoever spawned
 * it (or on `-ipcbind` addresses), with `-datadir` naming its data
 * directory. It imports the runtime only through the published component
 * entry.
 *
 * @module
 */
import { runComponent } from "@capdeno/runtime/component";
import { NotesInit } from "./gen/notes.mp.ts";
import { FileNotesInit } from "./notes.ts";

if (import.meta.main) {
  await runComponent(NotesInit, "notes", (datadir) => new FileNotesInit(datadir));
}
