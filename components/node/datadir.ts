/**
 * The node's files in its data directory, as bitcoind keeps them:
 *
 * - `<datadir>/regtest/` (and `wallets/` in it), made private (0700);
 * - `<datadir>/regtest/.lock`: an empty file, kept after exit, locked for
 *   the process's lifetime, so a second node on the directory refuses to
 *   start with bitcoind's message whoever started either one;
 * - `<datadir>/regtest/bitcoind.pid`: the process id, removed on a clean exit.
 *
 * The lock is an exclusive `flock` (`Deno.FsFile.tryLockSync`) on a
 * descriptor that child processes do not inherit, so it is released when
 * this process ends, a SIGKILL included. bitcoind itself locks with
 * `fcntl`, which does not see `flock`: this lock keeps two of these nodes
 * apart, not this node and a real bitcoind.
 *
 * @example
 * ```ts
 * import { DataDirLock } from "./datadir.ts";
 * const dir = Deno.makeTempDirSync();
 * using lock = DataDirLock.acquire(dir);
 * let refused = false;
 * try {
 *   DataDirLock.acquire(dir);
 * } catch {
 *   refused = true;
 * }
 * if (!refused) throw new Error("a second lock on one directory must fail");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { type NodeOptions, StartupError } from "./options.ts";

/** The error text of a failed file operation, as `strerror` words it (Deno adds the call). */
export function systemError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ \(os error \d+\).*$/s, "");
}

/** Makes `path` (and its parents) a directory private to this user, if it is missing. */
function makeDirectory(path: string): void {
  Deno.mkdirSync(path, { recursive: true, mode: 0o700 });
}

/**
 * Creates what bitcoind creates on start: the data directory when it is
 * the default one and missing, and `<datadir>/regtest/`, each with a
 * `wallets/` folder when new.
 */
export function prepareDataDir(options: Pick<NodeOptions, "datadir" | "netDir">): void {
  for (const dir of [options.datadir, options.netDir]) {
    try {
      Deno.statSync(dir);
    } catch (error) {
      // NotCapable: a sandbox granting only regtest/ prepared the data directory.
      if (error instanceof Deno.errors.NotFound) makeDirectory(`${dir}/wallets`);
      else if (!(error instanceof Deno.errors.NotCapable)) throw error;
    }
  }
}

/** bitcoind's error for a data directory another process has locked. */
function alreadyRunning(dir: string): StartupError {
  return new StartupError(
    `Cannot obtain a lock on directory ${dir}. Bitcoin Core is probably already running.`,
  );
}

/** The exclusive lock on a network data directory (`<dir>/.lock`). */
export class DataDirLock implements Disposable {
  readonly #file: Deno.FsFile;
  /** The locked directory. */
  readonly dir: string;

  private constructor(dir: string, file: Deno.FsFile) {
    this.dir = dir;
    this.#file = file;
  }

  /**
   * Locks `dir` (creating the empty `.lock` file in it), or throws
   * {@linkcode StartupError} with bitcoind's text when another process
   * holds it or the file cannot be created.
   */
  static acquire(dir: string): DataDirLock {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(`${dir}/.lock`, { read: true, append: true, create: true, mode: 0o600 });
    } catch {
      throw new StartupError(`Cannot write to directory '${dir}'; check permissions.`);
    }
    let locked = false;
    try {
      locked = file.tryLockSync(true);
    } finally {
      if (!locked) file.close();
    }
    if (!locked) throw alreadyRunning(dir);
    return new DataDirLock(dir, file);
  }

  /**
   * Throws {@linkcode DataDirLock.acquire}'s error when another process
   * holds `dir`'s lock, else returns, holding nothing: Core's
   * `LockDirectories(probe_only)`, run before `-daemon` forks. Needs only
   * read access (a lock on a `.lock` opened for reading); no `.lock` yet
   * means no node has run there.
   *
   * @example
   * ```ts
   * import { DataDirLock } from "./datadir.ts";
   * const dir = Deno.makeTempDirSync();
   * DataDirLock.probe(dir); // never locked
   * {
   *   using _held = DataDirLock.acquire(dir);
   *   let refused = "";
   *   try {
   *     DataDirLock.probe(dir);
   *   } catch (error) {
   *     refused = (error as Error).message;
   *   }
   *   if (!refused.startsWith("Cannot obtain a lock on directory")) throw new Error(refused);
   * }
   * DataDirLock.probe(dir); // released
   * Deno.removeSync(dir, { recursive: true });
   * ```
   */
  static probe(dir: string): void {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(`${dir}/.lock`, { read: true });
    } catch {
      return;
    }
    try {
      if (!file.tryLockSync(false)) throw alreadyRunning(dir);
      file.unlockSync();
    } finally {
      file.close();
    }
  }

  /** Releases the lock; the `.lock` file stays, as bitcoind leaves it. */
  [Symbol.dispose](): void {
    try {
      this.#file.unlockSync();
    } finally {
      this.#file.close();
    }
  }
}

/** `bitcoind.pid`: written after the lock is held, removed again on a clean exit. */
export class PidFile {
  /** Where it is. */
  readonly path: string;

  private constructor(path: string) {
    this.path = path;
  }

  /**
   * Writes this process's id and a newline to `path`, or throws
   * {@linkcode StartupError} with bitcoind's text.
   */
  static create(path: string): PidFile {
    try {
      Deno.writeTextFileSync(path, `${Deno.pid}\n`, { mode: 0o600 });
    } catch (error) {
      throw new StartupError(`Unable to create the PID file '${path}': ${systemError(error)}`);
    }
    return new PidFile(path);
  }

  /** Removes the file; returns bitcoind's log line when that fails, or null. */
  remove(): string | null {
    try {
      Deno.removeSync(this.path);
      return null;
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound
        ? "File does not exist"
        : systemError(error);
      return `Unable to remove PID file (${this.path}): ${reason}`;
    }
  }
}
