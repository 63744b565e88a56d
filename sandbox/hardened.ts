/**
 * Hardened mode: the component additionally runs under bubblewrap in its
 * own mount, PID, IPC, UTS, user and (unless it is granted hosts) network
 * namespace, and dies with its parent. Its file system holds only the
 * shared libraries, Deno's binary, its bundle, its data directory and the
 * view of it (a symbolic link), each directory outside it it is given (a
 * `-walletdir`) and its view, its run directory and the sockets it uses,
 * all at their real paths so the permission flags read the same inside and
 * out. A static import of any
 * other file then fails as "Module not found" regardless of Deno.
 *
 * Under a root supervisor bubblewrap makes no user namespace: the
 * component is to run as its own user (`identity.ts`), which `setpriv`
 * switches to inside, and a user namespace made by root would map only
 * root. The directories bubblewrap creates for the binds are then 0755, so
 * that the component's user can pass them.
 *
 * @example
 * ```ts
 * import { bwrapArgs } from "./hardened.ts";
 * const args = bwrapArgs(
 *   { readOnly: ["/opt/app"], writable: ["/srv/data/node"], symlinks: [], cwd: "/srv/data/node" },
 *   { network: false, userNamespace: true },
 * );
 * // What runs under it sees its own namespaces, dies with its parent, and ends the options.
 * for (const flag of ["--unshare-all", "--die-with-parent", "--ro-bind", "--bind"]) {
 *   if (!args.includes(flag)) throw new Error(`${flag} missing from ${args.join(" ")}`);
 * }
 * if (args.at(-1) !== "--") throw new Error("ends with --");
 * ```
 * @module
 */
import { dirname } from "node:path";

/** The bubblewrap binary, or null where it is not installed. */
export function bwrapPath(): string | null {
  for (const dir of ["/usr/bin", "/usr/local/bin", "/bin"]) {
    try {
      if (Deno.statSync(`${dir}/bwrap`).isFile) return `${dir}/bwrap`;
    } catch { /* not here */ }
  }
  return null;
}

/** What the component's file system shows besides libraries and Deno. */
export interface HardenedMounts {
  /** Read-only paths (the bundle, sockets it connects to). */
  readOnly: readonly string[];
  /** Writable paths (its data and run directories, its audit log, its own socket's directory). */
  writable: readonly string[];
  /** Symbolic links to make: `path` → `target` (the data directory's view). */
  symlinks: readonly { path: string; target: string }[];
  /** The working directory inside. */
  cwd: string;
}

/** What to unshare besides the mounts. */
export interface HardenedOptions {
  /** Keep the network (a component granted hosts). */
  network: boolean;
  /** Make a user namespace; false under a root supervisor (see the module documentation). */
  userNamespace: boolean;
}

/** Drops privileges inside the namespaces (see `contract.ts`). */
const SETPRIV = "/usr/bin/setpriv";

/** Library locations; symlinks (merged /usr) are recreated as symlinks. */
const LIBRARY_PATHS = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"];

/**
 * The bubblewrap arguments, up to and including `--`, that confine a
 * component to `mounts`. Deno's binary is bound by its folder: naming the
 * binary itself as a bind source would make Node's child_process treat it
 * as a `deno` command line and insert `run -A` after it.
 */
export function bwrapArgs(mounts: HardenedMounts, options: HardenedOptions): string[] {
  const args = options.userNamespace
    ? ["--unshare-all"]
    : ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"];
  if (options.userNamespace && options.network) args.push("--share-net");
  if (!options.userNamespace && !options.network) args.push("--unshare-net");
  args.push("--die-with-parent", "--new-session");
  // /tmp first: binds below it (a state directory in /tmp) must land on top.
  args.push("--proc", "/proc", "--dev", "/dev", "--perms", "0755", "--tmpfs", "/tmp");
  const deno = dirname(Deno.execPath());
  const bound = [deno, SETPRIV, ...mounts.readOnly, ...mounts.writable];
  const parents = new Set(
    [...bound, ...mounts.symlinks.map((link) => link.path)].flatMap(ancestors),
  );
  for (const dir of [...parents].sort()) {
    if (!bound.includes(dir)) args.push("--perms", "0755", "--dir", dir);
  }
  for (const path of LIBRARY_PATHS) {
    try {
      const target = Deno.readLinkSync(path);
      args.push("--symlink", target, path);
    } catch {
      args.push("--ro-bind-try", path, path);
    }
  }
  args.push("--ro-bind", deno, deno);
  args.push("--ro-bind", SETPRIV, SETPRIV);
  for (const path of mounts.readOnly) args.push("--ro-bind", path, path);
  for (const path of mounts.writable) args.push("--bind", path, path);
  for (const { path, target } of mounts.symlinks) args.push("--symlink", target, path);
  args.push("--chdir", mounts.cwd, "--");
  return args;
}

/** The directories above `path`, outermost first, without `/`. */
function ancestors(path: string): string[] {
  const parts = path.split("/").filter(Boolean);
  return parts.slice(0, -1).map((_, i) => "/" + parts.slice(0, i + 1).join("/"));
}
