/**
 * Disk quota of a component (`limits.diskMb`): its data directory and its
 * run's `DENO_DIR` (where Deno keeps `localStorage` and Cache API storage)
 * together.
 *
 * - **Per file, by the kernel, always:** `RLIMIT_FSIZE` is the quota, so no
 *   single write takes a file past it: the write ends the component with
 *   SIGXFSZ at once ({@linkcode fileSizeLimitArg}).
 * - **In total, by the supervisor, always:** {@linkcode watchDisk} walks
 *   both directories, one walk after the other, and stops the component
 *   (the caller SIGKILLs it) once they hold more than the quota, or more
 *   entries than {@linkcode entryLimit} (which also bounds the walk). Alone,
 *   it lets a fast writer go on for one walk past the quota (measured here:
 *   up to about 80 MB at ~1 GB/s).
 * - **In total, by the kernel, under a root supervisor:** the data
 *   directory is an ext4 file system in an image file,
 *   `<state>/disks/<name>.ext4` ({@linkcode mountDataImage}), mounted
 *   (`nosuid,nodev,noexec`, by a loop device) while the component runs. It
 *   holds at most {@linkcode imageMb} − its own overhead, a little over the
 *   quota, so that past the quota writes fail (ENOSPC) while the watcher
 *   stops the component with the reason. Its inodes are the entry limit. A
 *   data directory that held files before it had an image has them moved
 *   in. Where the image cannot be made or mounted, the watcher alone holds
 *   the quota and {@linkcode mountDataImage} says why.
 *
 * Usage counts allocated blocks, so a sparse file costs what it stores.
 *
 * @example
 * ```ts
 * import { diskUsage } from "./quota.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeFileSync(`${dir}/f`, new Uint8Array(1 << 20).fill(1));
 * const usage = await diskUsage([dir], 100);
 * if (usage.bytes < 1 << 20 || usage.entries !== 1) throw new Error(JSON.stringify(usage));
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { Identity } from "./identity.ts";
import { every } from "./ticker.ts";
import { removeStaleTemps } from "../runtime/files.ts";

const MIB = 1 << 20;

/** The `prlimit` option that caps every file the component writes at its quota. */
export function fileSizeLimitArg(diskMb: number): string {
  return `--fsize=${diskMb * MIB}`;
}

/**
 * How many files and directories a component may keep: 16 per MiB of
 * quota, at least 1024 (a 1 GiB quota allows 16,384).
 */
export function entryLimit(diskMb: number): number {
  return Math.max(1024, diskMb * 16);
}

/** What some directories hold. */
export interface DiskUsage {
  /** Bytes allocated to their files and directories. */
  bytes: number;
  /** Files, directories and links below them. */
  entries: number;
  /** Size of the largest regular file (bytes): one at the file-size limit shows SIGXFSZ. */
  largestFile: number;
}

/** Entries a walk looks at between two turns of the event loop. */
const WALK_SLICE = 256;

/**
 * Bytes and entries below `roots` (links not followed), counting no
 * further than `maxEntries + 1` entries. A root that is missing counts as
 * empty; entries vanishing meanwhile are skipped.
 *
 * The walk uses synchronous calls, which cost a fraction of Deno's
 * asynchronous ones (those hop to a thread pool and back: a watcher
 * walking a few files ten times a second took 1.3% of a core that way),
 * and lets the event loop run after every {@linkcode WALK_SLICE} entries.
 */
export async function diskUsage(roots: readonly string[], maxEntries: number): Promise<DiskUsage> {
  const usage: DiskUsage = { bytes: 0, entries: 0, largestFile: 0 };
  const pending = [...roots];
  let slice = 0;
  while (pending.length > 0 && usage.entries <= maxEntries) {
    const dir = pending.pop()!;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      continue; // removed meanwhile, or not made yet
    }
    for (const entry of entries) {
      if (++slice === WALK_SLICE) {
        slice = 0;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      const path = join(dir, entry.name);
      let info: Deno.FileInfo;
      try {
        info = Deno.lstatSync(path);
      } catch {
        continue; // removed meanwhile
      }
      usage.bytes += info.blocks !== null ? info.blocks * 512 : info.size;
      if (info.isFile) usage.largestFile = Math.max(usage.largestFile, info.size);
      usage.entries++;
      if (entry.isDirectory) pending.push(path);
      if (usage.entries > maxEntries) break;
    }
  }
  return usage;
}

/**
 * Measures `roots` every `intervalMs` (on a timer shared with other
 * watches, see {@linkcode every}) and calls `exceeded` once, with a
 * description, when they hold more than `diskMb` MiB or more than
 * {@linkcode entryLimit} entries. A walk never starts while another is
 * under way, nor sooner after one ended than that one took, so walking a
 * large tree takes at most half of the supervisor's time. Disposing waits
 * for a walk under way.
 */
export function watchDisk(
  roots: readonly string[],
  diskMb: number,
  exceeded: (description: string) => void,
  intervalMs = 100,
): AsyncDisposable {
  const maxEntries = entryLimit(diskMb);
  let stopped = false;
  let walking: Promise<void> | null = null;
  let restUntil = 0;
  const measure = async () => {
    const startedAt = performance.now();
    const { bytes, entries } = await diskUsage(roots, maxEntries);
    const endedAt = performance.now();
    restUntil = endedAt + (endedAt - startedAt);
    walking = null;
    if (stopped) return;
    if (bytes > diskMb * MIB || entries > maxEntries) {
      stop();
      exceeded(
        bytes > diskMb * MIB
          ? `${Math.ceil(bytes / MIB)} MB on disk, over the ${diskMb} MB limit`
          : `more than ${maxEntries} files on disk, over the limit for ${diskMb} MB`,
      );
    }
  };
  const ticking = every(intervalMs, () => {
    if (walking === null && performance.now() >= restUntil) walking = measure();
  });
  const stop = () => {
    stopped = true;
    ticking[Symbol.dispose]();
  };
  walking = measure();
  return {
    async [Symbol.asyncDispose]() {
      stop();
      await walking;
    },
  };
}

/**
 * Size in MiB of the image holding a data directory with a `diskMb` quota:
 * the quota, 1/32 of it and 4 MiB over it for the watcher to see it passed,
 * and room for ext4's journal (1 MiB) and inode table (256 bytes each).
 */
export function imageMb(diskMb: number): number {
  return diskMb + Math.ceil(diskMb / 32) + 4 + 1 + Math.ceil(entryLimit(diskMb) / 4096);
}

/** Runs a system tool; its error output becomes the error. `fine` lists other exit codes that mean success. */
async function run(program: string, args: string[], fine: number[] = []): Promise<void> {
  const output = await new Deno.Command(program, { args, stdout: "null", stderr: "piped" })
    .output();
  if (!output.success && !fine.includes(output.code)) {
    const text = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`${program} ${args.join(" ")}: ${text || `exit ${output.code}`}`);
  }
}

/** Whether a file system is mounted on `path` (as /proc/self/mountinfo lists them). */
export function isMountPoint(path: string): boolean {
  const unescape = (field: string) =>
    field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .map((line) => line.split(" ")[4])
    .some((field) => field !== undefined && unescape(field) === path);
}

/** Where a data directory's files wait while they move into its new image. */
function migrating(dataDir: string): string {
  return join(dirname(dataDir), `.${basename(dataDir)}.migrating`);
}

/**
 * Mounts the ext4 image `image` on `dataDir` (root only), making it on
 * first use ({@linkcode imageMb}, root directory owned by `owner`) and
 * growing it when the quota grew. Files already in `dataDir` are moved into
 * it (check them for links first). Left mounted by a supervisor that died,
 * it is used as it is. Throws when the image cannot be made or mounted.
 */
export async function mountDataImage(
  dataDir: string,
  image: string,
  diskMb: number,
  owner: Identity,
): Promise<void> {
  if (isMountPoint(dataDir)) return;
  const bytes = imageMb(diskMb) * MIB;
  let size: number | null = null;
  try {
    size = Deno.statSync(image).size;
  } catch { /* first use */ }
  if (size === null) {
    Deno.mkdirSync(dirname(image), { recursive: true, mode: 0o700 });
    // A supervisor killed while it made an image leaves it at its full size.
    removeStaleTemps(dirname(image), `${basename(image)}.`, /^[0-9a-f-]{36}\.tmp$/);
    const making = `${image}.${crypto.randomUUID()}.tmp`;
    Deno.writeFileSync(making, new Uint8Array(), { mode: 0o600 });
    Deno.truncateSync(making, bytes);
    try {
      await run("mkfs.ext4", [
        "-q",
        "-F",
        ...["-b", "1024", "-J", "size=1", "-m", "0"],
        ...["-N", String(entryLimit(diskMb)), "-E", `root_owner=${owner.uid}:${owner.gid}`],
        making,
      ]);
    } catch (error) {
      Deno.removeSync(making);
      throw error;
    }
    Deno.renameSync(making, image);
  } else if (size < bytes) {
    Deno.truncateSync(image, bytes);
    await run("e2fsck", ["-f", "-p", image], [1]); // 1: it corrected something (lost+found)
    await run("resize2fs", [image]);
  }
  const pending = migrating(dataDir);
  const movedAside = [...Deno.readDirSync(dataDir)].length > 0;
  if (movedAside) {
    // Refused by rename when an interrupted move left files there: they need a look.
    Deno.renameSync(dataDir, pending);
    Deno.mkdirSync(dataDir, { mode: 0o700 });
  }
  try {
    await run("mount", ["-o", "loop,nosuid,nodev,noexec", image, dataDir]);
  } catch (error) {
    if (movedAside) {
      Deno.removeSync(dataDir);
      Deno.renameSync(pending, dataDir);
    }
    if (size === null) Deno.removeSync(image); // made just now, holding nothing
    throw error;
  }
  try {
    Deno.removeSync(join(dataDir, "lost+found"));
  } catch { /* not there, or not empty: e2fsck put something in it */ }
  try {
    Deno.statSync(pending);
  } catch {
    return;
  }
  await run("cp", ["-a", `${pending}/.`, `${dataDir}/`]);
  Deno.chownSync(dataDir, owner.uid, owner.gid); // cp gave it the old directory's owner
  Deno.removeSync(pending, { recursive: true });
}

/**
 * Unmounts the image on `dataDir`, waiting up to `timeoutMs` for a busy
 * file system (a namespace that held it being torn down) and then
 * detaching it lazily.
 */
export async function unmountDataImage(dataDir: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isMountPoint(dataDir)) {
    try {
      await run("umount", [dataDir]);
    } catch (error) {
      if (Date.now() > deadline) {
        await run("umount", ["-l", dataDir]);
        return;
      }
      if (!/busy/i.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
