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
 * console.assert(manifest.limits.heapMb === 256);
 * ```
 * @module
 */
import { z } from "zod";

/** A path inside the component's data directory: relative, no `..`, no empty parts. */
const dataPath = z.string().refine(
  (path) =>
    path.length > 0 && !path.startsWith("/") &&
    path.split("/").every((part) => part !== "" && part !== "." && part !== ".."),
  { message: "must be a relative path inside the component's data directory (no '..')" },
);

/** `host:port`, host a name or an IPv4 address, port 1–65535. */
const hostPort = z.string().refine(
  (value) => {
    const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
    return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
  },
  { message: "must be host:port with a port from 1 to 65535" },
);

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, {
  message: "must be an environment variable name (A-Z, 0-9, _)",
});

const positive = z.number().int().positive();

const Permissions = z.strictObject({
  read: z.array(dataPath).default([]),
  write: z.array(dataPath).default([]),
  net: z.array(hostPort).default([]),
  env: z.array(envName).default([]),
});

const Limits = z.strictObject({
  heapMb: positive.default(256),
  cpuSeconds: positive.default(3600),
  residentMb: positive.default(512),
  openFiles: positive.default(256),
});

const Restart = z.strictObject({
  policy: z.enum(["never", "on-failure", "always"]).default("on-failure"),
  maxRestarts: z.number().int().min(0).default(3),
  windowSeconds: positive.default(60),
  backoffMs: positive.default(200),
});

const ManifestSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, {
    message: "must be lower-case letters, digits and '-', starting with a letter",
  }),
  entry: dataPath.refine((path) => /\.(ts|js)$/.test(path), {
    message: "must be a .ts or .js module in the component's folder",
  }),
  permissions: Permissions.default({ read: [], write: [], net: [], env: [] }),
  limits: Limits.default({ heapMb: 256, cpuSeconds: 3600, residentMb: 512, openFiles: 256 }),
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
});

/** A validated manifest, defaults filled in. */
export type Manifest = z.infer<typeof ManifestSchema>;

/** The permission kinds a manifest or grant may name. */
export type PermissionKind = keyof Manifest["permissions"];

/** An invalid manifest or grant; the message names the source and the field. */
export class ManifestError extends Error {
  override name = "ManifestError";
}

/** Formats zod issues as `source: field: problem` lines. */
function explain(source: string, error: z.ZodError): ManifestError {
  const lines = error.issues.map((issue) => {
    const field = issue.path.map((p) => typeof p === "number" ? `[${p}]` : `.${String(p)}`)
      .join("").replace(/^\./, "");
    return `${source}: ${field || "(manifest)"}: ${issue.message}`;
  });
  return new ManifestError(lines.join("\n"));
}

/** Validates `value` as a manifest read from `source` (named in errors). */
export function parseManifest(value: unknown, source: string): Manifest {
  const result = ManifestSchema.safeParse(value);
  if (!result.success) throw explain(source, result.error);
  return result.data;
}

/** One extra permission for one component. */
export interface Grant {
  component: string;
  kind: PermissionKind;
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
 * console.assert(grant.kind === "net" && grant.value === "127.0.0.1:18443");
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
      `${source} ${JSON.stringify(text)}: ${kind}: ${checked.error.issues[0].message}`,
    );
  }
  return { component, kind, value };
}

/**
 * The manifest with `grants` for its component added; a grant naming a
 * component that does not exist is an error, not silently dropped.
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
