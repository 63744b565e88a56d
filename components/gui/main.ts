/**
 * The gui process, as `bitcoin-gui` runs beside `bitcoin-node`: it attaches
 * to the node at `-ipcconnect=unix[:path]` (presenting the token its
 * supervisor announced on the `-lifeline` control line, unless
 * `-noipctoken`: a node started outside the supervisor asks for none),
 * takes the node's `Rpc` and `Node`, and serves `GuiInit` to the launcher
 * that spawned it (`-ipcfd`). The web interface listens on
 * `127.0.0.1:<-guiport>` (18480 by default) once the launcher calls
 * `start`. `-datadir=<absolute path>` is required like every component's;
 * the gui keeps no files. `-debug=ipc` logs the IPC calls to stderr.
 *
 * When the node goes away the gui exits with status 1: its supervisor
 * starts it again with a fresh token once the node is back.
 *
 * @module
 */
import { GuiInit } from "../../schemas/gen/ipc/gui.mp.ts";
import { Init } from "../../schemas/gen/ipc/init.mp.ts";
import {
  connect,
  datadirOf,
  disconnected,
  IpcLog,
  lifeline,
  parseIpcArgs,
  serveComponent,
  wantsLifeline,
} from "../../component.ts";
import { Gui } from "./gui.ts";
import { type GuiOptions, parseGuiArgs } from "./options.ts";

/** Prints `gui: <message>` and exits with status 1. */
function fail(message: string): never {
  console.error(`gui: ${message}`);
  Deno.exit(1);
}

if (import.meta.main) {
  let datadir = "";
  let options: GuiOptions = { port: 0, token: true };
  try {
    datadir = datadirOf(Deno.args);
    options = parseGuiArgs(Deno.args);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const address = parseIpcArgs(Deno.args).connect;
  if (address === null) fail("-ipcconnect=unix[:path] is required: the gui shows a node");
  const log = IpcLog.fromArgs(Deno.args, (line) => console.error(line));
  const token = options.token && wantsLifeline(Deno.args) ? await lifeline().token() : undefined;
  const node = await connect(Init, address, { token, log, datadir, name: "gui" })
    .catch((error) => fail(error.message));
  const [rpc, nodeIface] = await Promise.all([node.makeRpc(), node.makeNode()])
    .catch((error) => fail(`the node at ${address} refused: ${error.message}`));
  disconnected(node)?.then(() => {
    fail(`the node at ${address} disconnected; exiting (a supervisor starts the gui again)`);
  });
  const gui = new Gui({ port: options.port, link: { rpc: rpc!, node: nodeIface! } });
  await serveComponent(GuiInit, "gui", gui, { datadir });
}
