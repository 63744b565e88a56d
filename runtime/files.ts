/**
 * Files that survive their writer being killed: writes a reader sees whole
 * or not at all, and the sweeping of what killed writers left behind.
 *
 * @module
 */

/**
 * Writes `text` to `path` so that a reader sees the old or the new content,
 * never a mix: a private temporary file next to it, flushed to disk, then
 * renamed over it. Temporary files that writers killed mid-write left next
 * to `path` are removed once they are {@linkcode STALE_TEMP_MS} old.
 *
 * @example
 * ```ts
 * import { readFileIfExists, writeFileAtomic } from "./files.ts";
 * const dir = Deno.makeTempDirSync();
 * writeFileAtomic(`${dir}/state.json`, "{}");
 * if (readFileIfExists(`${dir}/state.json`) !== "{}") throw new Error("not written");
 * if (Deno.statSync(`${dir}/state.json`).mode! & 0o077) throw new Error("not private");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function writeFileAtomic(path: string, text: string): void {
  const slash = path.lastIndexOf("/");
  removeStaleTemps(
    slash < 0 ? "." : path.slice(0, slash) || "/",
    `${path.slice(slash + 1)}.`,
    /^\d+\.tmp$/,
  );
  const temp = `${path}.${Deno.pid}.tmp`;
  try {
    const bytes = new TextEncoder().encode(text);
    using file = Deno.openSync(temp, { write: true, create: true, truncate: true, mode: 0o600 });
    for (let written = 0; written < bytes.length;) {
      written += file.writeSync(bytes.subarray(written));
    }
    file.syncSync();
    Deno.renameSync(temp, path);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch { /* not created */ }
    throw error;
  }
}

/**
 * Age past which a writer's temporary file is one a killed writer left (a
 * write takes milliseconds); leftovers are looked for at most once a minute
 * per folder and name.
 */
export const STALE_TEMP_MS = 10 * 60_000;
const SWEEP_INTERVAL_MS = 60_000;
const lastSweep = new Map<string, number>();

/**
 * Removes the entries of `dir` named `prefix` followed by a match of
 * `rest` (folders with what they hold) last modified more than `staleMs`
 * ago (default {@linkcode STALE_TEMP_MS}): what writers killed mid-write
 * left. Best
 * effort, and silent: a folder this process may not read is left alone
 * without a permission prompt.
 *
 * @example
 * ```ts
 * import { removeStaleTemps } from "./files.ts";
 * const dir = Deno.makeTempDirSync();
 * const hourAgo = new Date(Date.now() - 3_600_000);
 * for (const name of ["a.1.tmp", "a.2.tmp", "b.1.tmp"]) {
 *   Deno.mkdirSync(`${dir}/${name}`);
 *   if (name !== "a.2.tmp") Deno.utimeSync(`${dir}/${name}`, hourAgo, hourAgo);
 * }
 * removeStaleTemps(dir, "a.", /^\d+\.tmp$/);
 * const left = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort().join(" ");
 * if (left !== "a.2.tmp b.1.tmp") throw new Error(left);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function removeStaleTemps(
  dir: string,
  prefix: string,
  rest: RegExp,
  staleMs: number = STALE_TEMP_MS,
): void {
  const now = Date.now();
  const key = `${dir}\0${prefix}`;
  if (now - (lastSweep.get(key) ?? -Infinity) < SWEEP_INTERVAL_MS) return;
  lastSweep.set(key, now);
  // Asked first, so that a run in a terminal without the grant is not prompted.
  if (Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted") return;
  try {
    for (const { name } of Deno.readDirSync(dir)) {
      if (!name.startsWith(prefix) || !rest.test(name.slice(prefix.length))) continue;
      const temp = `${dir}/${name}`;
      const modified = Deno.lstatSync(temp).mtime;
      if (modified !== null && now - modified.getTime() > staleMs) {
        Deno.removeSync(temp, { recursive: true });
      }
    }
  } catch { /* no permission to list the folder, or a leftover went meanwhile: try next time */ }
}

/**
 * The text of `path`, or null when there is no such file.
 *
 * @example
 * ```ts
 * import { readFileIfExists } from "./files.ts";
 * if (readFileIfExists("/no/such/file") !== null) throw new Error("found");
 * ```
 */
export function readFileIfExists(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
