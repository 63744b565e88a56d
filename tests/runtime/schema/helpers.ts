/**
 * Runs the generator on a schema folder made for a test and loads what it
 * generates.
 *
 * @module
 */
import { generate, type GenerateOptions } from "../../../runtime/schema/gen.ts";
import type { InterfaceDescriptor } from "../../../runtime/schema/descriptor.ts";
import { connect, IpcLog, listen, type Remote } from "../../../mod.ts";

/** What {@linkcode generateAndLoad} made and loaded. */
export interface Generated {
  /** The temporary folder the schemas and `gen/` were in (removed by now). */
  readonly dir: string;
  /** The generated files, keyed by path in `gen/`. */
  readonly files: Map<string, string>;
  /** The loaded modules, keyed as asked. */
  readonly modules: Record<string, Record<string, unknown>>;
}

/**
 * Writes `schemas` (path in the folder → text, or the file to copy) into a
 * temporary folder, generates its `gen/` (with the capnp-es classes of
 * `classes`), imports the generated `modules`, and removes the folder.
 */
export async function generateAndLoad(
  schemas: Record<string, string | URL>,
  modules: readonly string[],
  classes: GenerateOptions["classes"] = [],
): Promise<Generated> {
  const dir = await Deno.makeTempDir({ prefix: "capdeno-gen-" });
  const write = (path: string, text: string) => {
    Deno.mkdirSync(`${dir}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
    Deno.writeTextFileSync(`${dir}/${path}`, text);
  };
  try {
    for (const [path, source] of Object.entries(schemas)) {
      write(path, typeof source === "string" ? source : Deno.readTextFileSync(source));
    }
    const files = await generate({ schemaDir: dir, classes });
    for (const [name, text] of files) write(`gen/${name}`, text);
    const loaded: Record<string, Record<string, unknown>> = {};
    for (const name of modules) loaded[name] = await import(`file://${dir}/gen/${name}`);
    return { dir, files, modules: loaded };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/**
 * An Init served over a UNIX socket from the module `gen` makes of schema
 * `served` (file `app/<name>.capnp`), and a client connected to it with the
 * module made of `client` (by default the same): peers built from two
 * versions of one schema. `make` is what the Init's `make()` returns.
 */
export async function schemaPair<T>(
  name: string,
  make: () => T,
  served: string,
  client: string = served,
): Promise<{ remote: Remote<T> } & AsyncDisposable> {
  const load = async (source: string) =>
    (await generateAndLoad({ [`app/${name}.capnp`]: source }, [`app/${name}.mp.ts`]))
      .modules[`app/${name}.mp.ts`];
  const server = await load(served);
  const used = client === served ? server : await load(client);
  type Init = { make(): T };
  const datadir = await Deno.makeTempDir();
  const options = { datadir, component: name, log: new IpcLog({ level: "off" }) };
  const listener = listen(server.Init as InterfaceDescriptor<Init>, "unix", { make }, options);
  const init = await connect(used.Init as InterfaceDescriptor<Init>, "unix", options);
  const remote = (await init.make()) as Remote<T>;
  return {
    remote,
    async [Symbol.asyncDispose]() {
      (remote as Disposable)[Symbol.dispose]();
      await init[Symbol.asyncDispose]();
      await listener[Symbol.asyncDispose]();
      Deno.removeSync(datadir, { recursive: true });
    },
  };
}
