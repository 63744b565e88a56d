/**
 * Permission audit. Every run of a component writes Deno's audit log
 * (`DENO_AUDIT_PERMISSIONS`: one JSON line per permission check, granted or
 * not, with no outcome) and the contract writes the grants it ran with
 * beside it. Comparing the two tells what a component attempted outside
 * its grants.
 *
 * @example
 * ```ts
 * import { covered } from "./audit.ts";
 * const grants = { read: ["/d"], write: [], net: ["unix:/s"], env: [] };
 * console.assert(covered(grants, { permission: "read", value: "/d/x" }));
 * console.assert(!covered(grants, { permission: "read", value: "/etc/passwd" }));
 * ```
 * @module
 */
import { join } from "node:path";

/** What one run was granted: absolute paths, `host:port` / `unix:<path>`, names. */
export interface RunGrants {
  read: string[];
  write: string[];
  net: string[];
  env: string[];
}

/** One permission check from Deno's audit log. */
export interface AuditEntry {
  permission: string;
  value: string | null;
}

/** Attempts of one component outside its grants, counted. */
export interface AuditSummary {
  component: string;
  runs: number;
  checks: number;
  /** `permission value` → how many times, most frequent first. */
  outside: { permission: string; value: string | null; count: number }[];
}

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);
}

/** Whether `grants` cover the check `entry`. */
export function covered(grants: RunGrants, entry: AuditEntry): boolean {
  const value = entry.value ?? "";
  switch (entry.permission) {
    case "read":
    case "write":
      return grants[entry.permission].some((root) => under(value, root));
    case "net":
      return grants.net.some((grant) =>
        grant === value || (!grant.includes(":") && value.split(":")[0] === grant)
      );
    case "env":
      return grants.env.includes(value);
    default:
      return false; // run, ffi, sys, import: never granted
  }
}

/** Suffixes of the two files every run leaves in the log directory. */
export const AUDIT_SUFFIX = ".audit.jsonl";
export const GRANTS_SUFFIX = ".grants.json";

/** Summarises every run logged in `logDir`, per component, sorted by name. */
export function summarizeAudit(logDir: string): AuditSummary[] {
  const byComponent = new Map<string, AuditSummary>();
  const counts = new Map<string, Map<string, AuditSummary["outside"][number]>>();
  for (const entry of Deno.readDirSync(logDir)) {
    if (!entry.name.endsWith(AUDIT_SUFFIX)) continue;
    const run = entry.name.slice(0, -AUDIT_SUFFIX.length);
    const component = run.slice(0, run.indexOf("."));
    let grants: RunGrants;
    try {
      grants = JSON.parse(Deno.readTextFileSync(join(logDir, run + GRANTS_SUFFIX)));
    } catch {
      continue; // not a run the contract started
    }
    const summary = byComponent.get(component) ??
      { component, runs: 0, checks: 0, outside: [] };
    byComponent.set(component, summary);
    const seen = counts.get(component) ?? new Map();
    counts.set(component, seen);
    summary.runs++;
    for (const line of Deno.readTextFileSync(join(logDir, entry.name)).split("\n")) {
      if (!line.trim()) continue;
      let check: AuditEntry;
      try {
        check = JSON.parse(line);
      } catch {
        continue; // a line cut short by a kill
      }
      summary.checks++;
      if (covered(grants, check)) continue;
      const key = `${check.permission}\0${check.value}`;
      const known = seen.get(key) ?? { permission: check.permission, value: check.value, count: 0 };
      known.count++;
      seen.set(key, known);
    }
  }
  for (const summary of byComponent.values()) {
    summary.outside = [...counts.get(summary.component)!.values()]
      .sort((a, b) => b.count - a.count || a.permission.localeCompare(b.permission));
  }
  return [...byComponent.values()].sort((a, b) => a.component.localeCompare(b.component));
}

/** The summaries as text, one block per component. */
export function formatAudit(summaries: readonly AuditSummary[]): string {
  if (summaries.length === 0) return "no audited runs";
  return summaries.map((s) => {
    const head = `${s.component}: ${s.runs} run(s), ${s.checks} permission check(s), ` +
      `${s.outside.length === 0 ? "nothing" : `${s.outside.length} distinct`} outside its grants`;
    return [head, ...s.outside.map((o) => `  ${o.count}× ${o.permission} ${o.value ?? ""}`)]
      .join("\n");
  }).join("\n");
}
