/**
 * Component manifests: what a component may touch, how much it may use,
 * how it is restarted and what it serves, validated with zod. Extra grants
 * come from the command line or a config file (`--grant wallet:net=127.0.0.1:18443`).
 *
 * Paths are relative to the component's own data directory and may not
 * leave it; every error names the field, and nothing is started on one.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 * const manifest = parseManifest({
 *   name: "wallet",
 *   entry: "main.ts",
 *   permissions: { read: ["wallets"], write: ["wallets"] },
 *   serves: ["WalletInit"],
 * }, "components/wallet/manifest.json");
 * if (manifest.limits.diskMb !== 1024) throw new Error("the default disk quota is 1 GiB");
 * ```
 * @module
 */
import { resolve } from "node:path";
import { z } from "zod";

/**
 * A path inside the component's data directory: relative, no `..`, no
 * empty parts, no comma (Deno's permission lists are comma-separated).
 */
const dataPath = z.string().refine(
  (path) =>
    path.length > 0 && !path.startsWith("/") && !path.includes(",") &&
    path.split("/").every((part) => part !== "" && part !== "." && part !== ".."),
  {
    message: "must be a relative path inside the component's data directory (no '..' or ',')",
  },
);

const componentName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, {
  message: "must be lower-case letters, digits and '-', starting with a letter",
});

/**
 * `host:port` as Deno's `--allow-net` writes it: host a name, an IPv4
 * address or an IPv6 address in brackets (`[::1]:18443`), port 1–65535.
 */
const hostPort = z.string().refine(
  (value) => {
    const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(value);
    return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
  },
  { message: "must be host:port (IPv6 in brackets) with a port from 1 to 65535" },
);

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, {
  message: "must be an environment variable name (A-Z, 0-9, _)",
});

const positive = z.number().int().positive();

/**
 * A folder of shared code beside or below the component's own:
 * `../<name>` or `<name>`, more names after `/`, no `.` or `..` beyond the first.
 */
const codeFolder = z.string().regex(/^(\.\.\/)?[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, {
  message: "must be a folder beside the component's (../<name>) or inside it",
});

const Permissions = z.strictObject({
  read: z.array(dataPath).default([]),
  write: z.array(dataPath).default([]),
  net: z.array(hostPort).default([]),
  env: z.array(envName).default([]),
});

/** Default of `limits.diskMb`: its data directory and its run's storage caches together. */
export const DEFAULT_DISK_MB = 1024;

const Limits = z.strictObject({
  heapMb: positive.default(256),
  cpuSeconds: positive.default(3600),
  residentMb: positive.default(512),
  openFiles: positive.default(256),
  /** Disk quota: its data directory plus its run's `DENO_DIR` (localStorage, caches). */
  diskMb: positive.max(1 << 20).default(DEFAULT_DISK_MB),
});

const Restart = z.strictObject({
  policy: z.enum(["never", "on-failure", "always"]).default("on-failure"),
  maxRestarts: z.number().int().min(0).default(3),
  windowSeconds: positive.default(60),
  backoffMs: positive.default(200),
});

const ManifestSchema = z.strictObject({
  name: componentName,
  entry: dataPath.refine((path) => /\.(ts|js)$/.test(path), {
    message: "must be a .ts or .js module in the component's folder",
  }),
  permissions: Permissions.default({ read: [], write: [], net: [], env: [] }),
  limits: Limits.default({
    heapMb: 256,
    cpuSeconds: 3600,
    residentMb: 512,
    openFiles: 256,
    diskMb: DEFAULT_DISK_MB,
  }),
  restart: Restart.default({
    policy: "on-failure",
    maxRestarts: 3,
    windowSeconds: 60,
    backoffMs: 200,
  }),
  serves: z.array(
    z.string().regex(/^[A-Z][A-Za-z0-9]*$/, {
      message: "must be an interface name",
    }),
  ).min(1, { message: "must name at least one interface" }),
  /** Whether it also listens on its own socket for components that connect to it. */
  listens: z.boolean().default(false),
  /** Components whose socket it connects to (`-ipcconnect`); each must listen. */
  connects: z.array(componentName).default([]),
  /** Folders of shared code its module graph may reach besides its own. */
  code: z.array(codeFolder).default([]),
});

/** A validated manifest, defaults filled in. */
export interface Manifest {
  /** The component's name: its folder, its socket, its log lines. */
  name: string;
  /** The entry module, relative to the component's folder. */
  entry: string;
  /** Paths relative to the data directory, `host:port` list, variable names. */
  permissions: { read: string[]; write: string[]; net: string[]; env: string[] };
  /** What it may use; going past one ends it with the reason named. */
  limits: {
    /** V8 heap in MiB (`--max-old-space-size`). */
    heapMb: number;
    /** CPU seconds (`RLIMIT_CPU`). */
    cpuSeconds: number;
    /** Resident memory in MiB, ArrayBuffers included (the watchdog's). */
    residentMb: number;
    /** Open descriptors (`RLIMIT_NOFILE`). */
    openFiles: number;
    /** Disk quota in MiB for its data directory and its run's storage caches. */
    diskMb: number;
  };
  /** What the supervisor does when it ends. */
  restart: {
    /** Restart never, after a failure only, or after any end. */
    policy: "never" | "on-failure" | "always";
    /** More restarts than this within `windowSeconds` and it fails closed. */
    maxRestarts: number;
    /** The window `maxRestarts` counts in. */
    windowSeconds: number;
    /** The first restart's delay, doubled for each restart in a row. */
    backoffMs: number;
  };
  /** Interface names it serves. */
  serves: string[];
  /** Whether it also listens on its own socket. */
  listens: boolean;
  /** Components whose socket it connects to. */
  connects: string[];
  /**
   * Folders of shared code (relative to the component's folder, `../rpc`)
   * its module graph may reach besides its own, the runtime's and the
   * schemas'; code anywhere else is refused at spawn.
   */
  code: string[];
}

/** The permission kinds a manifest or grant may name. */
export type PermissionKind = keyof Manifest["permissions"];

/**
 * What a component's manifest would have to grant for the permission check
 * Deno refused in `printed` (its `NotCapable` error, which tells a plain
 * `deno run` user to pass a flag), said for a sandboxed component of
 * `folder`; "" when `printed` has none.
 *
 * @example
 * ```ts
 * import { grantHint } from "./manifest.ts";
 * const printed = 'NotCapable: Requires read access to "/d/view/notes/x", run again with ' +
 *   "the --allow-read flag";
 * const hint = grantHint(printed, "/app/notes");
 * if (!hint.includes('"permissions"."read" in /app/notes/manifest.json')) throw new Error(hint);
 * if (grantHint("Error: disk full", "/app/notes") !== "") throw new Error("nothing to grant");
 * ```
 */
export function grantHint(printed: string, folder: string): string {
  const refused = /Requires (read|write|net|env) access to ("[^"]*"|\S+), run again with/.exec(
    printed,
  );
  if (refused === null) return "";
  const kind = refused[1] as PermissionKind;
  const listed = kind === "read" || kind === "write"
    ? "paths relative to its data directory"
    : kind === "net"
    ? "host:port addresses"
    : "variable names";
  return ` (the sandbox refused ${kind} access to ${refused[2]}: a component may use only what ` +
    `"permissions"."${kind}" in ${folder}/manifest.json grants, ${listed})`;
}

/** An invalid manifest or grant; the message names the source and the field. */
export class ManifestError extends Error {
  /** Always `"ManifestError"`. */
  override name = "ManifestError";
}

/**
 * Zod's issues with a file as `source: field: problem` lines, `whole`
 * naming the field of an issue with the whole value.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { issuesText } from "./manifest.ts";
 * const result = z.object({ a: z.array(z.number()) }).safeParse({ a: [1, "2"] });
 * if (result.success) throw new Error("a string is not a number");
 * const text = issuesText("f.json", result.error, "(file)");
 * if (!text.startsWith("f.json: a[1]: ")) throw new Error(text);
 * ```
 */
export function issuesText(source: string, error: z.ZodError, whole: string): string {
  return error.issues.map((issue) => {
    const field = issue.path.map((p) => typeof p === "number" ? `[${p}]` : `.${String(p)}`)
      .join("").replace(/^\./, "");
    return `${source}: ${field || whole}: ${issue.message}`;
  }).join("\n");
}

/**
 * Validates `value` as a manifest read from `source` (named in errors),
 * filling in the defaults.
 *
 * @example Defaults filled in; a bad field named with its file, and nothing else accepted
 * ```ts
 * import { ManifestError, parseManifest } from "./manifest.ts";
 * const manifest = parseManifest(
 *   { name: "greeter", entry: "main.ts", serves: ["GreeterInit"] },
 *   "greeter/manifest.json",
 * );
 * if (manifest.limits.heapMb !== 256 || manifest.permissions.read.length !== 0) {
 *   throw new Error("defaults: a 256 MB heap, nothing to read");
 * }
 * try {
 *   parseManifest({ ...manifest, permissions: { read: ["../../etc"] } }, "greeter/manifest.json");
 *   throw new Error("a path outside the data directory was accepted");
 * } catch (error) {
 *   if (!(error instanceof ManifestError)) throw error;
 *   if (!error.message.startsWith("greeter/manifest.json: permissions.read[0]: ")) {
 *     throw new Error(error.message);
 *   }
 * }
 * ```
 */
export function parseManifest(value: unknown, source: string): Manifest {
  const result = ManifestSchema.safeParse(value);
  if (!result.success) throw new ManifestError(issuesText(source, result.error, "(manifest)"));
  return result.data satisfies Manifest;
}

/** A manifest and the folder holding it and the component's code. */
export interface Component {
  /** Its validated manifest. */
  manifest: Manifest;
  /** Absolute path of the component's folder. */
  folder: string;
  /**
   * Absolute folders whose code it may run besides its own, the runtime's
   * and the schemas' (an application run in one process bundles its
   * components' code); none by default.
   */
  codeFolders?: readonly string[] | undefined;
  /**
   * Directories outside its data directory it may read and write, by label
   * (lower-case letters): each absolute and real, given by its launcher
   * from the user's options (`-walletdir`) and reached, as the data
   * directory is, through a view of its own, `<state>/view/<name>.<label>`;
   * none by default.
   */
  outsideDirs?: Readonly<Record<string, string>> | undefined;
}

/**
 * Reads and validates `<folder>/manifest.json`; the entry must exist in
 * the folder.
 *
 * @example
 * ```ts
 * import { loadComponent } from "./manifest.ts";
 * const foo = await loadComponent(new URL("../examples/foo", import.meta.url).pathname);
 * if (foo.manifest.name !== "foo") throw new Error(foo.manifest.name);
 * ```
 */
export async function loadComponent(folder: string): Promise<Component> {
  const source = `${folder.replace(/\/$/, "")}/manifest.json`;
  let value: unknown;
  try {
    value = JSON.parse(await Deno.readTextFile(source));
  } catch (error) {
    throw new ManifestError(`${source}: ${(error as Error).message}`, { cause: error });
  }
  const manifest = parseManifest(value, source);
  const absolute = Deno.realPathSync(folder);
  try {
    Deno.statSync(`${absolute}/${manifest.entry}`);
  } catch {
    throw new ManifestError(`${source}: entry: ${manifest.entry} does not exist in ${absolute}`);
  }
  const codeFolders = manifest.code.map((relative, i) => {
    const shared = resolve(absolute, relative);
    let real: string | undefined;
    try {
      real = Deno.realPathSync(shared);
      if (Deno.statSync(real).isDirectory && real === shared) return shared;
    } catch { /* said below */ }
    // A link could lead anywhere, and whatever it led to would be code the component may run.
    throw new ManifestError(
      real === undefined || real === shared
        ? `${source}: code[${i}]: ${relative} is not a folder beside ${absolute}`
        : `${source}: code[${i}]: ${relative} leads through a symbolic link (to ${real}); name the folder itself`,
    );
  });
  return { manifest, folder: absolute, ...(codeFolders.length > 0 ? { codeFolders } : {}) };
}

/**
 * Checks that every component a manifest `connects` to is present and
 * listens.
 *
 * @example A wallet connecting to a node that does not listen, refused before anything starts
 * ```ts
 * import { checkConnections, ManifestError, parseManifest } from "./manifest.ts";
 * const component = (manifest: object) => ({
 *   manifest: parseManifest({ entry: "main.ts", ...manifest }, "manifest.json"),
 *   folder: "/app",
 * });
 * const wallet = component({ name: "wallet", serves: ["WalletInit"], connects: ["node"] });
 * const node = component({ name: "node", serves: ["NodeInit"] });
 * try {
 *   checkConnections([node, wallet]);
 *   throw new Error("a connection to a node that does not listen was accepted");
 * } catch (error) {
 *   if (!(error instanceof ManifestError)) throw error;
 *   if (error.message !== 'wallet: connects: "node" is not a component that listens') throw error;
 * }
 * checkConnections([component({ ...node.manifest, listens: true }), wallet]);
 * ```
 */
export function checkConnections(components: readonly Component[]): void {
  const byName = new Map(components.map((c) => [c.manifest.name, c.manifest]));
  for (const { manifest } of components) {
    for (const target of manifest.connects) {
      const listener = byName.get(target);
      if (listener === undefined || !listener.listens) {
        throw new ManifestError(
          `${manifest.name}: connects: "${target}" is not a component that listens`,
        );
      }
    }
  }
}

/** One extra permission for one component. */
export interface Grant {
  /** The component it is for. */
  component: string;
  /** Which permission. */
  kind: PermissionKind;
  /** A path relative to the data directory, a `host:port` or a variable name. */
  value: string;
}

const grantValue: Record<PermissionKind, z.ZodType<string>> = {
  read: dataPath,
  write: dataPath,
  net: hostPort,
  env: envName,
};

/**
 * Parses `component:kind=value` (the argument of `--grant`).
 *
 * @example
 * ```ts
 * import { parseGrant } from "./manifest.ts";
 * const grant = parseGrant("wallet:net=127.0.0.1:18443");
 * if (grant.kind !== "net" || grant.value !== "127.0.0.1:18443") throw new Error(grant.value);
 * ```
 */
export function parseGrant(text: string, source = "--grant"): Grant {
  const match = /^([a-z][a-z0-9-]*):(read|write|net|env)=(.+)$/.exec(text);
  if (match === null) {
    throw new ManifestError(
      `${source} ${JSON.stringify(text)}: expected <component>:<read|write|net|env>=<value>`,
    );
  }
  const [, component, kind, value] = match as unknown as [string, string, PermissionKind, string];
  const checked = grantValue[kind].safeParse(value);
  if (!checked.success) {
    throw new ManifestError(
      `${source} ${JSON.stringify(text)}: ${kind}: ${checked.error.issues[0]!.message}`,
    );
  }
  return { component, kind, value };
}

/**
 * The manifest with `grants` for its component added; a grant naming a
 * component that does not exist is an error, not silently dropped.
 *
 * @example A launcher's `--grant notes:env=TZ`, and one for a component it does not run
 * ```ts
 * import { applyGrants, ManifestError, parseGrant, parseManifest } from "./manifest.ts";
 * const notes = parseManifest(
 *   { name: "notes", entry: "main.ts", serves: ["NotesInit"], permissions: { read: ["notes"] } },
 *   "notes/manifest.json",
 * );
 * const [granted] = applyGrants([notes], [parseGrant("notes:env=TZ")]);
 * if (granted?.permissions.env.join() !== "TZ" || granted.permissions.read.join() !== "notes") {
 *   throw new Error(JSON.stringify(granted?.permissions));
 * }
 * try {
 *   applyGrants([notes], [parseGrant("wallet:net=127.0.0.1:18443")]);
 *   throw new Error("a grant for no component was dropped silently");
 * } catch (error) {
 *   if (!(error instanceof ManifestError) || !error.message.endsWith('no component named "wallet"')) {
 *     throw error;
 *   }
 * }
 * ```
 */
export function applyGrants(
  manifests: readonly Manifest[],
  grants: readonly Grant[],
): Manifest[] {
  const names = new Set(manifests.map((m) => m.name));
  for (const grant of grants) {
    if (!names.has(grant.component)) {
      throw new ManifestError(
        `--grant ${grant.component}:${grant.kind}=${grant.value}: no component named "${grant.component}"`,
      );
    }
  }
  return manifests.map((manifest) => {
    const permissions = structuredClone(manifest.permissions);
    for (const grant of grants) {
      if (grant.component !== manifest.name) continue;
      if (!permissions[grant.kind].includes(grant.value)) permissions[grant.kind].push(grant.value);
    }
    return { ...manifest, permissions };
  });
}
