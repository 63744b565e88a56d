/**
 * The generator: makes TypeScript of the `.capnp` files in a schema folder
 * (its subfolders included, `gen/` excepted), mirroring the folders in an
 * output folder:
 *
 * - `<path>.mp.ts` for every schema: the interfaces application code
 *   implements and calls, and the descriptors the runtime's proxy layer
 *   reads (by `mpgen.ts`). They import the descriptor types and the
 *   runtime's vocabulary (`Context`, `ThreadMap`, `Thread`) from one
 *   module, `--runtime` (default: this repository's `component.ts`).
 * - `<path>.ts`, capnp-es's message classes, only for the schemas named by
 *   `--classes` (and the schemas those import): code that builds Cap'n Proto
 *   messages itself, such as the RPC engine's tests, needs them; proxies do
 *   not.
 * - `wire-contract.json`: the interface ids and the types at every ordinal
 *   (see `contract.ts`). Before writing anything, and with `--check`, a
 *   change that breaks the committed contract is refused, one line per
 *   break naming the interface or struct, the ordinal and the old and new
 *   type; `--force` accepts it.
 *
 * The runtime's folder (`runtime/schema/`) is first on the import path, so
 * a schema written as Bitcoin Core writes them, `using Proxy = import
 * "/mp/proxy.capnp";`, gets the runtime's; `import "/capnp/c++.capnp"`
 * finds the compiler's own (`/usr/include`). Each file is compiled on its
 * own: capnp-es's code generator takes time quadratic in the nodes of a
 * request, and a request per file holds only that file and what it imports.
 *
 * Without folder arguments, `gen` regenerates each of this repository's
 * folders ({@linkcode REPOSITORY_FOLDERS}) into its `gen/`. Needs the
 * `capnp` compiler (Debian package `capnproto`); users of the committed
 * output do not.
 *
 * @example
 * ```sh
 * deno task gen                       # regenerate this repository's gen/ folders
 * deno task gen --check               # committed output current, contract kept?
 * deno run -A runtime/schema/gen.ts --runtime=@capdeno/runtime/component my/schemas my/gen
 * ```
 * @module
 */
import { existsSync } from "node:fs";
import { posix } from "node:path";
import { CapnpError, compileSchemas, messageClasses, unusedImports } from "./capnp.ts";
import { GENERATED_HEADER, generateProxies, importSpecifier, SchemaMappingError } from "./mpgen.ts";
import {
  addToContract,
  contractBreaks,
  emptyContract,
  formatContract,
  parseContract,
  type WireContract,
} from "./contract.ts";

/** The runtime's own schema folder (this module's), first on every import path. */
const runtimeSchemas = new URL(".", import.meta.url).pathname;
const repository = new URL("../../", import.meta.url).pathname;

/** The file of each output folder holding its wire contract. */
export const CONTRACT_FILE = "wire-contract.json";

/** Bad arguments, a missing folder or an unreadable contract; `message` says which. */
export class GenError extends Error {
  override name = "GenError";
}

/** Where {@linkcode generate} reads schemas, where its output will live, and what it imports. */
export interface GenerateOptions {
  /**
   * The folder of the `.capnp` sources, searched recursively (`gen/`
   * excepted) and put on the import path after the runtime's. Default:
   * this repository's `schemas/`.
   */
  readonly schemaDir?: string;
  /** The folder the output will be written to. Default: `<schemaDir>/gen/`. */
  readonly outDir?: string;
  /**
   * The module generated modules import the descriptor types and the
   * runtime's vocabulary from: a bare or URL specifier
   * (`@capdeno/runtime/component`), or a path relative to the output
   * folder. Default: the path to this repository's `component.ts` (to
   * `descriptor.ts` for the runtime's own folder, which `component.ts`
   * re-exports).
   */
  readonly runtime?: string;
  /** Schemas (paths in `schemaDir`) whose capnp-es message classes are generated too. */
  readonly classes?: readonly string[];
}

/**
 * The generated files, keyed by path relative to the output folder
 * (`ipc/init.mp.ts`, {@linkcode CONTRACT_FILE}). Throws
 * {@linkcode CapnpError} when the compiler is missing or refuses a schema,
 * {@linkcode SchemaMappingError} when mpgen cannot map one,
 * {@linkcode GenError} for a missing folder or class schema.
 */
export async function generate(options: GenerateOptions = {}): Promise<Map<string, string>> {
  const schemaDir = folder(options.schemaDir ?? `${repository}schemas`);
  const outDir = folder(options.outDir ?? `${schemaDir}gen/`);
  const own = schemaDir === runtimeSchemas;
  const runtime = options.runtime ??
    relativePath(outDir, own ? `${runtimeSchemas}descriptor.ts` : `${repository}component.ts`);
  const importPath = own ? [schemaDir] : [runtimeSchemas, schemaDir];
  const sources = schemaSources(schemaDir);
  const out = new Map<string, string>();
  const contract = emptyContract();
  for (const source of sources) {
    const request = await compileSchemas([schemaDir + source], {
      importPath,
      srcPrefix: schemaDir,
    });
    for (const [path, text] of generateProxies(request, { runtime, proxyFromRuntime: !own })) {
      out.set(path, text);
    }
    addToContract(contract, request);
  }
  for (const source of options.classes ?? []) {
    if (!sources.includes(source)) {
      throw new GenError(`--classes: no schema ${source} in ${displayPath(schemaDir)}`);
    }
  }
  // A class module imports the classes of the schemas its schema imports: those are made too.
  const pending = [...options.classes ?? []];
  for (let source = pending.pop(); source !== undefined; source = pending.pop()) {
    const path = source.replace(/\.capnp$/, ".ts");
    if (out.has(path)) continue;
    const text = rewriteImports(path, await classesOf(source, importPath));
    out.set(path, `${GENERATED_HEADER}\n${text}`);
    for (const [, specifier] of text.matchAll(/from "(\.{1,2}\/[^"]+)\.ts";/g)) {
      pending.push(`${posix.join(posix.dirname(path), specifier)}.capnp`);
    }
  }
  checkImports(out);
  out.set(CONTRACT_FILE, formatContract(contract));
  return out;
}

/** capnp-es's classes of `source`, found first in the runtime's folder as capnp finds imports. */
async function classesOf(source: string, importPath: readonly string[]): Promise<string> {
  const dir = importPath.find((d) => existsSync(d + source))!;
  const compile = (files: string[]) => compileSchemas(files, { importPath, srcPrefix: dir });
  // capnp-es needs the nodes of unused imports too: those files are requested
  // as well (until none is missing), and what is generated for them dropped.
  const files = new Set([dir + source]);
  let request = await compile([...files]);
  for (let unused = unusedImports(request); unused.length > 0; unused = unusedImports(request)) {
    const before = files.size;
    for (const { file, name } of unused) files.add(imported(importPath, dir, file, name));
    if (files.size === before) {
      throw new CapnpError(`${source}: capnp leaves out the nodes of ${unused[0].name}`);
    }
    request = await compile([...files]);
  }
  return (await messageClasses(request)).get(source.replace(/\.capnp$/, ".ts"))!;
}

/**
 * The folder relative paths are taken from: where the user ran the command,
 * which `deno task` (running in its configuration's folder) passes as
 * `INIT_CWD`.
 */
function workingFolder(): string {
  try {
    return Deno.env.get("INIT_CWD") ?? Deno.cwd();
  } catch {
    return Deno.cwd(); // no permission to read it
  }
}

/** `path` made absolute, with a trailing slash. */
function folder(path: string): string {
  return `${posix.resolve(workingFolder(), path)}/`;
}

/** The path of `target` relative to folder `from`, starting `./` or `../`. */
function relativePath(from: string, target: string): string {
  const path = posix.relative(from, target);
  return path.startsWith("../") ? path : `./${path}`;
}

/** `path` as the user named it: relative to the working folder when inside it. */
function displayPath(path: string): string {
  const relative = posix.relative(workingFolder(), path);
  return relative.startsWith("../") ? path : `${relative || "."}/`;
}

/** The path of the file that `source` (relative to `dir`) imports as `name`. */
function imported(importPath: readonly string[], dir: string, source: string, name: string) {
  const path = name.startsWith("/")
    ? importPath.map((d) => d + name.slice(1)).find((path) => existsSync(path))
    : posix.join(posix.dirname(dir + source), name);
  if (path === undefined || !existsSync(path)) {
    throw new CapnpError(`${source}: import "${name}" is unused; remove it`);
  }
  return path;
}

/** The `.capnp` files under `dir`, relative to it, sorted. */
function schemaSources(dir: string, prefix = ""): string[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir + prefix)];
  } catch (error) {
    if (prefix !== "" || !(error instanceof Deno.errors.NotFound)) throw error;
    throw new GenError(`schema folder ${dir} does not exist`);
  }
  const out: string[] = [];
  for (const entry of entries) {
    const path = prefix + entry.name;
    if (entry.isDirectory && path !== "gen") out.push(...schemaSources(dir, `${path}/`));
    else if (entry.isFile && entry.name.endsWith(".capnp")) out.push(path);
  }
  return out.sort();
}

/**
 * capnp-es writes Node-style `.js` specifiers, and for an absolute import
 * (`/mp/proxy.capnp`) one that points nowhere (`.//mp/proxy.js`); Deno
 * imports the `.ts` files, at their path relative to the importing one.
 */
function rewriteImports(path: string, text: string): string {
  return text.replace(/from "([^"]+)\.js";/g, (_, specifier: string) => {
    const target = specifier.startsWith(".//")
      ? importSpecifier(path, `${specifier.slice(3)}.ts`)
      : `${specifier}.ts`;
    return `from "${target}";`;
  });
}

/** Every relative import inside the output must name a generated file (or the runtime). */
function checkImports(files: Map<string, string>): void {
  for (const [path, text] of files) {
    for (const [, specifier] of text.matchAll(/from "(\.{1,2}\/[^"]+)";/g)) {
      const target = posix.join(posix.dirname(path), specifier);
      if (target.startsWith("../")) continue; // the runtime, outside the output
      if (!files.has(target)) {
        throw new SchemaMappingError(
          `${path} imports ${specifier}, which is not generated: import only schemas ` +
            `in the schema folder, the runtime's /mp/proxy.capnp and /capnp/*.capnp annotations`,
        );
      }
    }
  }
}

/** Every file under `dir`, relative to it. */
function listFiles(dir: string, prefix = ""): string[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir + prefix)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return entries.flatMap((e) =>
    e.isDirectory ? listFiles(dir, `${prefix}${e.name}/`) : [`${prefix}${e.name}`]
  );
}

/**
 * Whether a file left in an output folder is one `gen` made: it starts with
 * this generator's own header line (anything else there is the user's, other
 * generators' output included).
 */
function wasGenerated(path: string): boolean {
  const header = new TextEncoder().encode(GENERATED_HEADER);
  const start = new Uint8Array(header.byteLength);
  using file = Deno.openSync(path);
  let got = 0;
  while (got < start.byteLength) {
    const n = file.readSync(start.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got === header.byteLength && start.every((byte, i) => byte === header[i]);
}

/** The committed contract in `outDir`, or `undefined` before the first generation. */
function committedContract(outDir: string): WireContract | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(outDir + CONTRACT_FILE);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    return parseContract(text);
  } catch (error) {
    throw new GenError(
      `${displayPath(outDir)}${CONTRACT_FILE} is not a wire contract (${
        (error as Error).message
      }); restore it from version control`,
    );
  }
}

const USAGE = "usage: gen [--check] [--force] [--runtime=<specifier>] " +
  "[--classes=<file>[,<file>]] [<schema folder> [<output folder>]]";

/**
 * This repository's schema folders, each generated into its own `gen/` when
 * `gen` is given no folder: the runtime's vocabulary, the application's
 * schemas, the engine's test and demonstration surfaces (whose capnp-es
 * classes the engine's tests use to build messages themselves) and the
 * sandbox suite's probes.
 */
export const REPOSITORY_FOLDERS: readonly { schemas: string; classes?: readonly string[] }[] = [
  { schemas: "runtime/schema/" },
  { schemas: "schemas/" },
  { schemas: "examples/schemas/", classes: ["testing.capnp", "conformance.capnp"] },
  { schemas: "tests/sandbox/fixtures/schema/" },
];

/** What the command line asks for. */
interface Command {
  readonly check: boolean;
  readonly force: boolean;
  readonly jobs: readonly (GenerateOptions & { readonly outDir: string })[];
}

/** Parses the command line; a later `--runtime` or `--classes` replaces an earlier one. */
export function parseArgs(args: readonly string[]): Command {
  let check = false, force = false, runtime: string | undefined, classes: string[] | undefined;
  const folders: string[] = [];
  for (const arg of args) {
    const [flag, value] = arg.startsWith("--")
      ? [arg.split("=", 1)[0], arg.slice(arg.indexOf("=") + 1)]
      : [arg, ""];
    if (arg === "--check") check = true;
    else if (arg === "--force") force = true;
    else if (flag === "--runtime" && arg.includes("=") && value !== "") runtime = value;
    else if (flag === "--classes" && arg.includes("=")) {
      classes = value.split(",").filter((c) => c !== "");
    } else if (arg.startsWith("-")) throw new GenError(`unknown option ${arg} (${USAGE})`);
    else folders.push(arg);
  }
  if (folders.length > 2) throw new GenError(`too many folders: ${folders.join(" ")} (${USAGE})`);
  if (folders.length === 0) {
    if (classes !== undefined) throw new GenError(`--classes needs a schema folder (${USAGE})`);
    return {
      check,
      force,
      jobs: REPOSITORY_FOLDERS.map(({ schemas, classes }) => {
        const schemaDir = `${repository}${schemas}`;
        const own = schemaDir === runtimeSchemas;
        return {
          schemaDir,
          outDir: `${schemaDir}gen/`,
          runtime: own ? undefined : runtime,
          classes,
        };
      }),
    };
  }
  const schemaDir = folder(folders[0]);
  const outDir = folder(folders[1] ?? `${schemaDir}gen`);
  for (const path of [schemaDir, outDir].map((dir) => dir.slice(0, -1))) {
    // The folder itself, or one it would be in.
    for (let at = path; at !== "/"; at = posix.dirname(at)) {
      if (existsSync(at) && !Deno.statSync(at).isDirectory) {
        throw new GenError(`${at} is a file, not a folder (${USAGE})`);
      }
    }
  }
  return { check, force, jobs: [{ schemaDir, outDir, runtime, classes }] };
}

/** Gates, then writes (or with `--check`, compares) the output; returns the exit code. */
async function main(args: string[]): Promise<number> {
  const { check, force, jobs } = parseArgs(args);
  const generated = [];
  let broken = 0;
  for (const job of jobs) {
    const files = await generate(job);
    const committed = committedContract(job.outDir);
    if (
      committed === undefined && listFiles(job.outDir).some((n) => wasGenerated(job.outDir + n))
    ) {
      // Generated before, so a contract was too: without it no change can be checked.
      console.error(
        `gen: ${
          displayPath(job.outDir)
        }: no ${CONTRACT_FILE} beside the generated files: nothing ` +
          "to check changes against; restore it from version control (a new one is written " +
          "from these schemas)",
      );
    }
    const now = JSON.parse(files.get(CONTRACT_FILE)!) as WireContract;
    for (const line of committed === undefined ? [] : contractBreaks(committed, now)) {
      console.error(`gen: ${displayPath(job.outDir)}: ${line}`);
      broken++;
    }
    generated.push({ outDir: job.outDir, files });
  }
  if (broken > 0 && !force) {
    console.error(
      `gen: refused: ${broken} change(s) above break peers built against the committed ` +
        "schemas (give new methods and fields new ordinals); --force accepts the break",
    );
    return 1;
  }
  if (broken > 0) console.error(`gen: --force: accepting ${broken} break(s) of the wire contract`);
  let stale = 0;
  for (const { outDir, files } of generated) {
    const shown = displayPath(outDir);
    for (const [name, text] of files) {
      const path = outDir + name;
      let current: string | undefined;
      try {
        current = Deno.readTextFileSync(path);
      } catch { /* missing counts as stale */ }
      if (current === text) continue;
      stale++;
      if (check) console.error(`stale: ${shown}${name}`);
      else {
        Deno.mkdirSync(posix.dirname(path), { recursive: true });
        Deno.writeTextFileSync(path, text);
        console.log(`wrote ${shown}${name}`);
      }
    }
    for (const name of listFiles(outDir).filter((n) => !files.has(n) && wasGenerated(outDir + n))) {
      stale++;
      if (check) console.error(`stale: ${shown}${name} (no schema makes it)`);
      else {
        Deno.removeSync(outDir + name);
        console.log(`removed ${shown}${name}`);
      }
    }
  }
  if (check && stale === 0) {
    console.log(
      `gen: current, the wire contract kept: ${
        generated.map((g) => displayPath(g.outDir)).join(" ")
      }`,
    );
  }
  if (check && stale > 0) {
    const again = args.filter((arg) => arg !== "--check");
    console.error(
      `gen: the output above is stale: run gen without --check (${
        again.length === 0 ? "deno task gen" : `gen ${again.join(" ")}`
      })`,
    );
  }
  return check && stale > 0 ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    if (
      !(error instanceof CapnpError || error instanceof SchemaMappingError ||
        error instanceof GenError)
    ) throw error;
    console.error(`gen: ${error.message}`);
    Deno.exit(1);
  }
}
