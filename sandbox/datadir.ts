/**
 * A component's data directory, prepared before every run.
 *
 * - **Links.** Deno checks a path where it is written, not where a link
 *   leads, so a link in the data directory could carry the component past
 *   its grant. Links whose both ends are inside the directory are the
 *   component's own business (it may hard-link two of its files); a
 *   symbolic link resolving outside it (or nowhere) and a hard link to a
 *   file that also has a name elsewhere are refused, every one named.
 * - **Ownership.** Under a root supervisor the directory and everything in
 *   it belong to the component's own user (`identity.ts`), mode 0700.
 * - **The view.** The component is given its directory through a symbolic
 *   link, `<state>/view/<name>`, and granted paths below that link only.
 *   Deno's file APIs check the path as written and work through it, while
 *   `require()` resolves the real path first, which is not granted: so
 *   CommonJS code the component writes there cannot be required. (ES
 *   `import()` and Workers are refused by the import map, `provenance.ts`.)
 * - **Outside directories.** A directory outside the data directory a
 *   component is given (`Component.outsideDirs`, a launcher's `-walletdir`)
 *   is readied the same way ({@linkcode prepareOutsideDirectory}): links
 *   refused, given to the component's user, seen through a view of its own.
 *
 * @example
 * ```ts
 * import { linksLeadingOutside } from "./datadir.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/a`, "mine");
 * Deno.linkSync(`${dir}/a`, `${dir}/b`); // both names inside: fine
 * Deno.symlinkSync("/etc/passwd", `${dir}/c`);
 * const problems = linksLeadingOutside(dir);
 * if (problems.length !== 1 || !problems[0].includes("/etc/passwd")) throw new Error(problems.join());
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { join, relative } from "node:path";
import { chownTree, type Identity, isComponentId } from "./identity.ts";

function within(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith("/"));
}

/**
 * Every link in `dir` that leads outside it, as one line each: symbolic
 * links resolving outside `dir` or nowhere, and hard links to files with a
 * name outside `dir`. Empty when there is none.
 */
export function linksLeadingOutside(dir: string): string[] {
  const root = Deno.realPathSync(dir);
  const problems: string[] = [];
  /** Inode → a name of it, how many names were found inside and how many it has. */
  const hardLinks = new Map<string, { path: string; found: number; nlink: number }>();
  const walk = (path: string) => {
    for (const entry of Deno.readDirSync(path)) {
      const child = join(path, entry.name);
      const info = Deno.lstatSync(child);
      if (info.isSymlink) {
        let target: string;
        try {
          target = Deno.realPathSync(child);
        } catch {
          problems.push(
            `${child}: a symbolic link to ${Deno.readLinkSync(child)}, which is missing`,
          );
          continue;
        }
        if (!within(target, root)) {
          problems.push(`${child}: a symbolic link leading outside, to ${target}`);
        }
      } else if (info.isDirectory) {
        walk(child);
      } else if ((info.nlink ?? 1) > 1) {
        const key = `${info.dev}:${info.ino}`;
        const known = hardLinks.get(key) ?? { path: child, found: 0, nlink: info.nlink! };
        known.found++;
        hardLinks.set(key, known);
      }
    }
  };
  walk(root);
  for (const { path, found, nlink } of hardLinks.values()) {
    if (found < nlink) {
      problems.push(
        `${path}: a hard link to a file outside (${
          nlink - found
        } of its ${nlink} names are elsewhere)`,
      );
    }
  }
  return problems;
}

/** Throws, naming every one, when `dir` holds links leading outside it. */
export function refuseLinksOutside(dir: string): void {
  const problems = linksLeadingOutside(dir);
  if (problems.length > 0) {
    throw new Error(
      `${dir} holds links leading outside it (Deno would follow them past its grants); ` +
        `remove them:\n  ${problems.join("\n  ")}`,
    );
  }
}

/** Where a component's data directory is and how it is seen. */
export interface DataDirectory {
  /** The directory itself. */
  real: string;
  /** The symbolic link to it that the component is given (`-datadir`) and granted paths below. */
  view: string;
  /** Paths inside it that the manifest grants (made when missing). */
  granted: readonly string[];
}

/**
 * Makes the data directory and its granted paths, refuses links leading
 * outside (throwing one line per link), gives it to `owner` (under a root
 * supervisor) and points the view at it.
 */
export function prepareDataDirectory(dir: DataDirectory, owner?: Identity): void {
  Deno.mkdirSync(dir.real, { recursive: true, mode: 0o700 });
  // Before making anything in it: a planted link must not lead those mkdirs outside.
  refuseLinksOutside(dir.real);
  for (const path of dir.granted) {
    Deno.mkdirSync(join(dir.real, path), { recursive: true, mode: 0o700 });
  }
  if (owner) chownTree(dir.real, owner);
  Deno.chmodSync(dir.real, 0o700);
  pointView(dir.view, dir.real);
}

/** A directory outside the data directory a component is given, and how it is seen. */
export interface OutsideDirectory {
  /** The directory itself: absolute, real, existing. */
  real: string;
  /** The symbolic link to it the component is given and granted (`<state>/view/<name>.<label>`). */
  view: string;
}

/**
 * Readies a directory outside the data directory (the user's `-walletdir`)
 * as the data directory is readied: it must be a real directory, links in
 * it leading outside are refused, under a root supervisor it is given to
 * `owner` (it and what it holds), and the view is pointed at it. Nothing in
 * it is made, moved or removed.
 */
export function prepareOutsideDirectory(dir: OutsideDirectory, owner?: Identity): void {
  let real: string;
  try {
    real = Deno.realPathSync(dir.real);
  } catch (error) {
    throw new Error(`${dir.real}: ${(error as Error).message}`);
  }
  if (real !== dir.real || !Deno.statSync(real).isDirectory) {
    throw new Error(`${dir.real}: not a directory named by its real path (${real})`);
  }
  refuseLinksOutside(real);
  if (owner) {
    // Given away without following links, but a directory another user may write could have an
    // entry swapped for a link mid-way: only root and the component may write in it.
    refuseWritableByOthers(real, owner);
    chownTree(real, owner);
  }
  pointView(dir.view, real);
}

/**
 * Throws when a directory in `dir` (itself too) is writable by a user other
 * than root and the components (which cannot make links: a component given
 * it before holds it until this one is given it).
 */
function refuseWritableByOthers(dir: string, owner: Identity): void {
  const info = Deno.lstatSync(dir);
  if (!info.isDirectory) return;
  const mode = info.mode! & 0o7777;
  const trusted = info.uid === 0 || info.uid === owner.uid || isComponentId(info.uid ?? -1);
  if (!trusted || (mode & 0o022) !== 0) {
    throw new Error(
      `${dir}: writable by users other than root (owner ${info.uid}, mode ${
        mode.toString(8)
      }); a root launcher gives it to the component only when no one else may change it meanwhile`,
    );
  }
  for (const entry of Deno.readDirSync(dir)) refuseWritableByOthers(join(dir, entry.name), owner);
}

/** Makes `view` a symbolic link to `real`, replacing whatever it was. */
function pointView(view: string, real: string): void {
  let current: string | null = null;
  try {
    current = Deno.readLinkSync(view);
  } catch { /* not made yet */ }
  if (current !== real) {
    try {
      Deno.removeSync(view);
    } catch { /* not there */ }
    Deno.symlinkSync(real, view);
  }
}
