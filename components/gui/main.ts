/**
 * The gui component's entry point: serves `GuiInit` to its parent when
 * spawned (`-ipcfd=N`), or else on every `-ipcbind=<address>`, printing
 * READY. `-datadir=<absolute path>` is required like every component's
 * (relative socket addresses resolve against it); the gui keeps no files.
 * `-debug=ipc` logs the IPC calls to stderr.
 *
 * @module
 */
import { GuiInit } from "../../schemas/gen/gui.mp.ts";
import { runComponent } from "../../component.ts";
import { Gui } from "./gui.ts";

if (import.meta.main) {
  await runComponent(GuiInit, "gui", () => new Gui());
}
