/**
 * Code provenance: Deno's static module graph is loaded without read
 * permission, so a component could import any file on the machine. Before
 * a spawn, `deno info --json` lists the graph, and every module must be a
 * file under an allowed root (the runtime, the schemas, the component's own
 * folder), a `node:` built-in, or a package the project declares (and what
 * those depend on). The component then runs as one bundle built from
 * exactly that graph, so nothing is resolved at run time.
 *
 * Listing the graph runs a whole `deno info` (most of a warm spawn's
 * cost), so the listing is remembered in the cache folder. The graph of
 * local files is a function of their contents and the project's
 * configuration, so a remembered listing is reused only while every file
 * in it, the lock file, every `deno.json`, `deno.jsonc` and `package.json`
 * from its files' folders up to the project's, the import map `deno.json`
 * names, and the Deno version hash as they did; any change lists the graph
 * again.
 *
 * Nothing else is loaded from a file either: the component runs with
 * {@linkcode runtimeImportMap}, which sends every `file:` URL but the
 * bundle's to a remote address that `--no-remote` refuses. So a module the
 * component writes into its data directory cannot be run through `import()`
 * or a Worker (Web or `node:worker_threads`), however its URL is spelled
 * (relative, `file://localhost/`, percent-encoded); `require()` of it is
 * refused by the data directory's view (`datadir.ts`).
 *
 * @example
 * ```ts
 * import { prepareCode } from "./provenance.ts";
 * import { projectRoot } from "./contract.ts";
 * const app = projectRoot();
 * const cacheDir = await Deno.makeTempDir();
 * const code = await prepareCode(`${app}/examples/foo/main.ts`, {
 *   project: app,
 *   roots: [`${app}/runtime`, `${app}/schemas`, `${app}/examples/foo`, `${app}/examples/schemas`],
 *   entries: [`${app}/component.ts`],
 *   cacheDir,
 * });
 * if (!code.files.includes(`${app}/examples/foo/main.ts`)) throw new Error("the entry is checked");
 * if (!code.bundle.startsWith(cacheDir)) throw new Error("the bundle is kept in cacheDir");
 * const again = await prepareCode(`${app}/examples/foo/main.ts`, {
 *   project: app,
 *   roots: [`${app}/runtime`, `${app}/schemas`, `${app}/examples/foo`, `${app}/examples/schemas`],
 *   entries: [`${app}/component.ts`],
 *   cacheDir,
 * });
 * if (again.graph !== "remembered" || again.bundle !== code.bundle) throw new Error(again.graph);
 * await Deno.remove(cacheDir, { recursive: true });
 * ```
 * @module
 */
import { basename, dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { removeStaleTemps, writeFileAtomic } from "../runtime/files.ts";

/** A module graph that may not be run. */
export class ProvenanceError extends Error {
  /** Always `"ProvenanceError"`. */
  override name = "ProvenanceError";
}

/** Where a component's code may come from, and where bundles are kept. */
export interface CodePolicy {
  /** The project root, holding the `deno.json` the graph resolves with (its import map names packages). */
  project: string;
  /**
   * Other folders whose `deno.json` declares packages the graph may use too
   * (the runtime's own, for a project of a user's that imports it).
   */
  packageProjects?: readonly string[] | undefined;
  /** Absolute folders whose files may be in the graph. */
  roots: readonly string[];
  /** Single files outside the roots that may be in the graph too (the published component entry). */
  entries?: readonly string[] | undefined;
  /** Folder for bundles, named by the hash of the files they were built from. */
  cacheDir: string;
  /** What to do about `path`, outside the roots: said after the refusal (each hint once). */
  outsideHint?: ((path: string) => string) | undefined;
}

/** What a component runs. */
export interface PreparedCode {
  /** The bundle to run. */
  bundle: string;
  /** The checked files of the graph. */
  files: string[];
  /** The npm packages of the graph, `name@version`. */
  packages: string[];
  /**
   * How the graph was found: `"listed"` by `deno info`, or `"remembered"`
   * from an earlier listing whose files and configuration are unchanged.
   */
  graph: "listed" | "remembered";
}

interface InfoModule {
  kind?: string | undefined;
  specifier: string;
  npmPackage?: string | undefined;
  error?: string | undefined;
}

interface InfoPackage {
  name: string;
  version: string;
  dependencies: string[];
}

interface Info {
  modules: InfoModule[];
  npmPackages?: Record<string, InfoPackage> | undefined;
}

async function denoOutput(args: string[], cwd: string): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  }).output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr).trim();
    throw new ProvenanceError(`deno ${args[0]} failed: ${text}`);
  }
  return new TextDecoder().decode(output.stdout);
}

/** The folders whose `deno.json` may declare the packages of a graph under `policy`. */
function projectsOf(policy: CodePolicy): string[] {
  return [...new Set([policy.project, ...policy.packageProjects ?? []])];
}

/** `name@version` of every package the `deno.json` of each of `projects` imports from npm. */
function declaredPackages(projects: readonly string[]): Set<string> {
  const declared = new Set<string>();
  for (const project of projects) {
    const config = JSON.parse(Deno.readTextFileSync(join(project, "deno.json")));
    for (const target of Object.values(config.imports ?? {}) as string[]) {
      const match = /^npm:\/?(@?[^@/]+(?:\/[^@/]+)?)@([^/]+)/.exec(target);
      if (match) declared.add(`${match[1]}@${match[2]}`);
    }
  }
  return declared;
}

/** The package keys allowed: declared ones and, transitively, their dependencies. */
function allowedPackages(info: Info, declared: Set<string>): Set<string> {
  const packages = info.npmPackages ?? {};
  const allowed = new Set<string>();
  const visit = (key: string) => {
    if (allowed.has(key) || !(key in packages)) return;
    allowed.add(key);
    for (const dependency of packages[key]!.dependencies) visit(dependency);
  };
  for (const [key, info] of Object.entries(packages)) {
    if (declared.has(`${info.name}@${info.version}`)) visit(key);
  }
  return allowed;
}

function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith("..") && !rel.startsWith("/");
}

/** The real path of `path` (symbolic links followed), or null when it cannot be resolved. */
function realPath(path: string): string | null {
  try {
    return Deno.realPathSync(path);
  } catch {
    return null;
  }
}

/**
 * The test of whether a path is a module file `policy` lets a component
 * load: by where it really is, so that a symbolic link in a root cannot
 * bring in a file from outside. The roots and entries are resolved once.
 */
function allowedFiles(policy: CodePolicy): (path: unknown) => path is string {
  const roots = policy.roots.map((root) => realPath(root) ?? root);
  const entries = new Set((policy.entries ?? []).map((entry) => realPath(entry) ?? entry));
  return (path: unknown): path is string => {
    if (typeof path !== "string") return false;
    const real = realPath(path);
    return real !== null && (roots.some((root) => inside(real, root)) || entries.has(real));
  };
}

/**
 * Checks the module graph of `entry` against `policy`; returns its files and
 * packages, or throws a {@linkcode ProvenanceError} naming every offending
 * module.
 */
export async function checkProvenance(entry: string, policy: CodePolicy): Promise<PreparedCode> {
  const info: Info = JSON.parse(
    await denoOutput(
      ["info", "--json", "--config", join(policy.project, "deno.json"), entry],
      policy.project,
    ),
  );
  const projects = projectsOf(policy);
  const allowed = allowedPackages(info, declaredPackages(projects));
  const declaredIn = projects.map((project) => join(project, "deno.json")).join(" or ");
  const allowedFile = allowedFiles(policy);
  const files: string[] = [];
  const packages = new Set<string>();
  const problems: string[] = [];
  const hints = new Set<string>();
  for (const module of info.modules) {
    if (module.error) {
      problems.push(`${module.specifier}: ${module.error}`);
    } else if (module.kind === "node") {
      continue;
    } else if (module.kind === "npm") {
      const key = module.npmPackage ?? "";
      if (allowed.has(key)) packages.add(key);
      else {problems.push(
          `${module.specifier}: npm package ${key} is not declared in ${declaredIn}`,
        );}
    } else if (module.specifier.startsWith("file://")) {
      const path = decodeURIComponent(new URL(module.specifier).pathname);
      if (allowedFile(path)) files.push(path);
      else {
        const real = realPath(path);
        const where = real !== null && real !== path ? ` (a link to ${real})` : "";
        problems.push(`${path}${where}: outside the component's allowed roots`);
        if (policy.outsideHint) hints.add(policy.outsideHint(path));
      }
    } else {
      problems.push(`${module.specifier}: only local files and declared packages may be imported`);
    }
  }
  if (problems.length > 0) {
    throw new ProvenanceError(
      `refusing to spawn ${entry}; its module graph reaches:\n  ${problems.join("\n  ")}` +
        [...hints].map((hint) => `\n${hint}`).join(""),
    );
  }
  return { bundle: "", files: files.sort(), packages: [...packages].sort(), graph: "listed" };
}

/** Files in a folder that decide how the modules under it resolve. */
const CONFIG_NAMES = ["deno.json", "deno.jsonc", "package.json"];

/**
 * The files besides a graph's modules that decide how it resolves: each
 * project's lock file, the configuration files of every folder from each
 * module's up to its project's (a workspace member's `deno.json`, a nested
 * `package.json`), and the import map a project's `deno.json` names.
 */
function configFiles(files: readonly string[], projects: readonly string[]): string[] {
  const paths = new Set<string>();
  for (const project of projects) {
    const folders = new Set([project]);
    for (const file of files) {
      for (let folder = dirname(file); inside(folder, project); folder = dirname(folder)) {
        folders.add(folder);
      }
    }
    paths.add(join(project, "deno.lock"));
    for (const folder of folders) for (const name of CONFIG_NAMES) paths.add(join(folder, name));
    let importMap: unknown;
    try {
      importMap = JSON.parse(Deno.readTextFileSync(join(project, "deno.json"))).importMap;
    } catch { /* absent or not JSON: hashed as it is, and the listing refuses it */ }
    if (typeof importMap === "string") paths.add(resolve(project, importMap));
  }
  return [...paths].sort();
}

/** SHA-256 of `parts`, hex. */
async function sha256Hex(parts: BlobPart[]): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await new Blob(parts).arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * SHA-256 over the entry, the graph's paths and contents, its packages,
 * the project's configuration files and the Deno version, hex; it names
 * the bundle (two entries of one graph, in a cycle, bundle differently).
 */
async function graphHash(
  entry: string,
  code: Pick<PreparedCode, "files" | "packages">,
  policy: CodePolicy,
) {
  const encoder = new TextEncoder();
  const parts: BlobPart[] = [encoder.encode(`${entry}\0`)];
  for (const file of [...code.files, ...configFiles(code.files, projectsOf(policy))]) {
    // Each file's path and size before its bytes, so that no two sets of files hash alike.
    let contents: Uint8Array<ArrayBuffer>;
    try {
      contents = await Deno.readFile(file);
    } catch (error) {
      // A configuration file may be absent; so is a deleted module, which changes the hash too.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      parts.push(encoder.encode(`${file}\0absent\0`));
      continue;
    }
    parts.push(encoder.encode(`${file}\0${contents.byteLength}\0`), contents);
  }
  parts.push(encoder.encode(code.packages.join("\0")));
  // Another Deno may resolve and bundle the same files differently.
  parts.push(encoder.encode(`\0deno ${Deno.version.deno}`));
  return await sha256Hex(parts);
}

/** Where the listing of `entry`'s graph under `policy` is remembered. */
async function listingPath(entry: string, policy: CodePolicy): Promise<string> {
  const { project, packageProjects, roots, entries } = policy;
  const key = await sha256Hex([
    JSON.stringify({ entry, project, packageProjects, roots, entries }),
  ]);
  return join(policy.cacheDir, `${key}.graph.json`);
}

/**
 * The remembered graph of `entry` and its hash, when every file it lists
 * and the configuration still hash as they did and its bundle (and its
 * source map) exists; null otherwise.
 */
async function rememberedGraph(entry: string, policy: CodePolicy): Promise<PreparedCode | null> {
  try {
    const listing = JSON.parse(await Deno.readTextFile(await listingPath(entry, policy)));
    const { files, packages, hash } = listing ?? {};
    if (
      !Array.isArray(files) || !files.every(allowedFiles(policy)) ||
      !Array.isArray(packages) || !packages.every((key) => typeof key === "string") ||
      typeof hash !== "string" ||
      await graphHash(entry, { files, packages }, policy) !== hash
    ) return null;
    const bundle = join(policy.cacheDir, `${hash}.js`);
    Deno.statSync(`${bundle}.map`);
    Deno.statSync(bundle);
    return { bundle, files, packages, graph: "remembered" };
  } catch {
    // Not listed yet, unreadable, a file that can no longer be read, or the
    // bundle gone: list the graph again, which says what is wrong if anything is.
    return null;
  }
}

/** The name of a folder a bundle is built in: `<hash>.<uuid>.tmp`. */
const BUILDING_FOLDER = /^[0-9a-f]{64}\.[0-9a-f-]{36}\.tmp$/;
/**
 * Age past which such a folder is one a killed builder left: its time is
 * that of its making until the bundle is written, a minute or so at worst.
 */
const BUILDING_STALE_MS = 60 * 60_000;

/**
 * Checks `entry`'s graph and returns the bundle built from it, reusing one
 * built from identical files, and a listing of the graph whose files and
 * configuration are unchanged. A graph that changes while it is bundled is
 * refused rather than run unchecked.
 */
export async function prepareCode(entry: string, policy: CodePolicy): Promise<PreparedCode> {
  const remembered = await rememberedGraph(entry, policy);
  if (remembered !== null) return remembered;
  const code = await checkProvenance(entry, policy);
  const hash = await graphHash(entry, code, policy);
  const bundle = join(policy.cacheDir, `${hash}.js`);
  Deno.mkdirSync(policy.cacheDir, { recursive: true, mode: 0o755 });
  try {
    // A bundle cached before bundles had source maps is built again.
    Deno.statSync(`${bundle}.map`);
    Deno.statSync(bundle);
  } catch {
    // Built under its final name in a folder of its own, so the bundle's
    // link to its source map (`<hash>.js.map`) holds once both are moved.
    removeStaleTemps(policy.cacheDir, "", BUILDING_FOLDER, BUILDING_STALE_MS);
    const building = join(policy.cacheDir, `${hash}.${crypto.randomUUID()}.tmp`);
    Deno.mkdirSync(building, { mode: 0o755 });
    try {
      const built = join(building, basename(bundle));
      await denoOutput([
        "bundle",
        "--quiet",
        "--platform=deno",
        "--minify",
        "--keep-names",
        // Stack traces name the component's own files: Deno reads the map
        // only when it formats one.
        "--sourcemap=linked",
        "--config",
        join(policy.project, "deno.json"),
        "--output",
        built,
        entry,
      ], policy.project);
      if (await graphHash(entry, await checkProvenance(entry, policy), policy) !== hash) {
        throw new ProvenanceError(
          `refusing to spawn ${entry}: its files changed while it was bundled`,
        );
      }
      // The map names its sources relative to where it was built, a folder
      // deeper than where it is kept: absolute, they hold wherever it goes.
      const map = JSON.parse(Deno.readTextFileSync(`${built}.map`));
      const base = pathToFileURL(`${building}/`);
      map.sources = map.sources.map((source: string) => new URL(source, base).href);
      Deno.writeTextFileSync(`${built}.map`, JSON.stringify(map));
      // The map first: a bundle present is a bundle complete.
      for (const file of [`${built}.map`, built]) {
        Deno.chmodSync(file, 0o644);
        Deno.renameSync(file, join(policy.cacheDir, basename(file)));
      }
    } finally {
      Deno.removeSync(building, { recursive: true });
    }
  }
  const { files, packages } = code;
  try {
    writeFileAtomic(await listingPath(entry, policy), JSON.stringify({ files, packages, hash }));
  } catch { /* not remembered (a full disk, say): the next spawn lists the graph again */ }
  return { ...code, bundle };
}

/** Where run-time file imports are sent: a host `--no-remote` refuses, named for the reason. */
export const REFUSED_FILE_IMPORTS = "https://file-imports-are-refused.invalid/";

/**
 * The `file:` URL a component's `bundle` is run as, and the `data:` URL of
 * the import map it runs with: the bundle maps to itself, every other
 * `file:` URL to {@linkcode REFUSED_FILE_IMPORTS}. Import maps match the
 * longest key, and the bundle's key matches only its exact URL.
 *
 * @example
 * ```ts
 * import { runtimeImportMap } from "./provenance.ts";
 * const { main, importMap } = runtimeImportMap("/state/code/abc.js");
 * const map = JSON.parse(decodeURIComponent(importMap.slice(importMap.indexOf(",") + 1)));
 * if (main !== "file:///state/code/abc.js" || map.imports[main] !== main) throw new Error(main);
 * ```
 */
export function runtimeImportMap(bundle: string): { main: string; importMap: string } {
  const main = pathToFileURL(bundle).href;
  const imports = {
    "file:///": REFUSED_FILE_IMPORTS,
    "file://localhost/": REFUSED_FILE_IMPORTS,
    [main]: main,
  };
  return {
    main,
    importMap: `data:application/json,${encodeURIComponent(JSON.stringify({ imports }))}`,
  };
}
