/**
 * What the application components (`components/`) share: the entry point
 * that serves an Init object to a spawning parent or on `-ipcbind`
 * addresses, the `-datadir` argument, atomic file writes, and dropping
 * capabilities an implementation was handed.
 *
 * @example A component whose entry point is `runComponent(NotesInit, "notes", …)`, spawned
 * ```ts
 * import { denoCommand, spawn } from "./process/process.ts";
 * import { NotesInit } from "../examples/notes/gen/notes.mp.ts";
 * const datadir = await Deno.makeTempDir();
 * const entry = new URL("../examples/notes/main.ts", import.meta.url);
 * {
 *   await using child = await spawn(
 *     NotesInit,
 *     denoCommand(entry, {
 *       permissions: [`--allow-read=${datadir}`, `--allow-write=${datadir}`],
 *       args: [`-datadir=${datadir}`],
 *     }),
 *   );
 *   await using notes = (await child.init.makeNotes())!;
 *   await notes.write("todo", "milk");
 * }
 * // It kept the note in the data directory its arguments named.
 * const kept = await Deno.readTextFile(`${datadir}/notes/notes.json`);
 * if (!kept.includes("milk")) throw new Error(kept);
 * await Deno.remove(datadir, { recursive: true });
 * ```
 * @module
 */
import type { InterfaceDescriptor } from "./schema/descriptor.ts";
import { IpcLog } from "./log.ts";
import { lifeline, wantsLifeline } from "./process/lifeline.ts";
import { ipcFdOf, listen, parseIpcArgs, serve } from "./process/process.ts";

/**
 * The data directory named by `-datadir=<absolute path>` (the last one
 * wins, as in Bitcoin Core); throws when it is missing or relative.
 *
 * @example
 * ```ts
 * import { datadirOf } from "./component.ts";
 * if (datadirOf(["-datadir=/tmp/d/"]) !== "/tmp/d") throw new Error("trailing slash kept");
 * ```
 */
export function datadirOf(args: readonly string[]): string {
  let datadir: string | undefined;
  for (const arg of args) {
    const match = /^--?datadir(?:=(.*))?$/.exec(arg);
    if (match !== null) datadir = match[1] ?? "";
  }
  if (datadir === undefined) throw new Error("missing -datadir=<absolute path>");
  if (!datadir.startsWith("/")) {
    throw new Error(`-datadir must be an absolute path, got '${datadir}'`);
  }
  return datadir.replace(/(.)\/+$/, "$1");
}

/**
 * A component's entry point. Reads `-datadir`, makes the Init object with
 * `makeInit(datadir)`, then serves it to the parent when spawned
 * (`-ipcfd`; the process exits when the parent goes), or else listens on
 * every `-ipcbind` address and prints `READY` on stdout. With `-lifeline`,
 * stdin is the control line (`process/lifeline.ts`): the process exits when
 * it closes, and listeners serve only clients presenting a token announced
 * on it. Logs go to stderr (`-debug=ipc` for the IPC lines). Any error is
 * printed as `<name>: <message>` and ends the process with exit code 1.
 *
 * @example A component started on its own (examples/notes/main.ts), as `bitcoin-node -ipcbind=unix`
 * ```ts
 * import { connect } from "./process/process.ts";
 * import { NotesInit } from "../examples/notes/gen/notes.mp.ts";
 * // examples/notes/main.ts is
 * // `await runComponent(NotesInit, "notes", (datadir) => new FileNotesInit(datadir))`.
 * const entry = new URL("../examples/notes/main.ts", import.meta.url).pathname;
 * const datadir = await Deno.makeTempDir();
 * // Its socket, <datadir>/notes.sock, is a path it writes and an address it listens on.
 * const grants = [`--allow-read=${datadir}`, `--allow-write=${datadir}`]
 *   .concat(`--allow-net=unix:${datadir}/notes.sock`);
 * const child = new Deno.Command(Deno.execPath(), {
 *   args: ["run", ...grants, entry, `-datadir=${datadir}`, "-ipcbind=unix"],
 *   stdout: "piped",
 * }).spawn();
 * const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
 * let printed = "";
 * while (!printed.includes("\n")) printed += (await stdout.read()).value ?? "\n";
 * if (printed !== "READY\n") throw new Error(`printed ${JSON.stringify(printed)}`);
 * {
 *   // It keeps its notes in its data directory.
 *   await using init = await connect(NotesInit, "unix", { datadir, component: "notes" });
 *   await using notes = (await init.makeNotes())!;
 *   await notes.write("todo", "milk");
 *   if (await notes.read("todo") !== "milk") throw new Error("read back");
 * }
 * child.kill();
 * await child.status;
 * await stdout.cancel();
 * await Deno.remove(datadir, { recursive: true });
 * ```
 */
export async function runComponent<T>(
  iface: InterfaceDescriptor<T>,
  name: string,
  makeInit: (datadir: string) => T | Promise<T>,
  args: readonly string[] = Deno.args,
): Promise<void> {
  let datadir: string;
  let init: T;
  try {
    datadir = datadirOf(args);
    bindAddresses(args); // before makeInit, which may create files
    init = await makeInit(datadir);
  } catch (error) {
    console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
  await serveComponent(iface, name, init, { args, datadir });
}

/** The `-ipcbind` addresses; an error when there are none and no `-ipcfd` either. */
function bindAddresses(args: readonly string[]): string[] {
  const { bind } = parseIpcArgs(args);
  if (ipcFdOf(args) === null && bind.length === 0) {
    throw new Error("nothing to serve: give -ipcbind=<address>, or spawn it (-ipcfd)");
  }
  return bind;
}

/**
 * Serves `init` the way every component does: on each `-ipcbind` address
 * (with `-lifeline`, only to clients presenting a token announced on
 * stdin), and to the parent when spawned (`-ipcfd`; the process then exits
 * with it); started on its own, it prints `READY` once listening. Logs go
 * to stderr; an error is printed as `<name>: <message>` and ends the
 * process with exit code 1.
 *
 * @example
 * ```ts
 * import { denoCommand, spawn } from "./process/process.ts";
 * import { FooInit } from "../examples/schemas/gen/conformance.mp.ts";
 * // examples/foo/main.ts is `await serveComponent(FooInit, "foo", fooInit())`:
 * const entry = new URL("../examples/foo/main.ts", import.meta.url);
 * await using child = await spawn(FooInit, denoCommand(entry, { permissions: ["--deny-net"] }));
 * await using foo = (await child.init.makeFoo())!;
 * if (await foo.add(1, 1) !== 2) throw new Error("served to its parent");
 * ```
 */
export async function serveComponent<T>(
  iface: InterfaceDescriptor<T>,
  name: string,
  init: T,
  options: { args?: readonly string[]; datadir?: string } = {},
): Promise<void> {
  const args = options.args ?? Deno.args;
  const log = IpcLog.fromArgs(args, (line) => console.error(line));
  try {
    const bind = bindAddresses(args);
    const authenticate = wantsLifeline(args) ? lifeline().accept : undefined;
    const datadir = options.datadir;
    for (const address of bind) {
      listen(iface, address, init, { name, log, datadir, component: name, authenticate });
    }
    // Spawned: serves the parent too, and exits with it.
    if (await serve(iface, init, { name, log, args })) return;
  } catch (error) {
    console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
  console.log("READY");
}

export { readFileIfExists, writeFileAtomic } from "./files.ts";

/**
 * Drops a reference an implementation kept (a `dup()` of a capability
 * parameter) or made for itself, without ending the object for its other
 * holders (see `proxy/ownership.ts`).
 */
export { release } from "./proxy/ownership.ts";
