/**
 * The wallet process's `WalletLoader` (`schemas/ipc/wallet.capnp`): the
 * wallets of one data directory, each in `wallets/<name>/wallet.dat` (the
 * wallet named "" in `wallets/` itself, as bitcoind keeps its default
 * wallet), all following the node's chain through the one `Chain` the
 * loader was made with. `executeRpc` runs the loader's methods
 * (createwallet, loadwallet, restorewallet, unloadwallet, listwallets, listwalletdir,
 * migratewallet's look at the wallets directory) and, on the
 * wallet named (else the only one loaded, as bitcoind picks it), the wallet's
 * (`rpc.ts`), answering with JSON text.
 *
 * As bitcoind, `load_on_startup` (of createwallet, loadwallet, restorewallet and
 * unloadwallet) keeps the list of wallets to load at start in the data
 * directory's `settings/settings.json`: a restarted wallet process brings
 * them back.
 *
 * @example
 * ```ts
 * import { ChainState } from "../node/chain/mod.ts";
 * import { Mempool } from "../node/mempool/mod.ts";
 * import { nodeInit } from "../node/ipc/init.ts";
 * import { WalletLoaderImpl } from "./loader.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(`${dir}/node`);
 *   using mempool = new Mempool(chain);
 *   using init = nodeInit({ chain, mempool, requestShutdown() {} });
 *   await using loader = new WalletLoaderImpl(`${dir}/w`, init.makeChain(), {});
 *   const reply = await loader.executeRpc("createwallet", '["w"]');
 *   if (reply !== '{"result":{"name":"w"}}') throw new Error(reply);
 *   if (loader.listWallets().join() !== "w") throw new Error("w is loaded");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { dirname } from "node:path";
import type { Chain } from "../../schemas/gen/ipc/chain.mp.ts";
import type { WalletLoader } from "../../schemas/gen/ipc/wallet.mp.ts";
import { type Reply, writeJson } from "./json.ts";
import { walletMethods, type WalletRpcOptions } from "./rpc.ts";
import { NotAWallet, WALLET_FILE, WalletInUse, WalletStore } from "./store.ts";
import { RpcError } from "../rpc/errors.ts";
import { ALREADY_DESCRIPTOR, NO_SUCH_WALLET, walletForRequest } from "../rpc/wallet_choice.ts";
import { Code, type CreateOptions, type OpenOptions, Wallet, WalletError } from "./wallet.ts";
import { DEFAULT_WALLET_POLICY, walletPolicyWarnings } from "../bitcoin/wallet_policy.ts";
import { MockableClock } from "../bitcoin/clock.ts";

/** Wallet names that would leave `wallets/` or confuse a path. */
function checkName(name: string): void {
  if (name.includes("/") || name.includes("\0") || name === "." || name === "..") {
    throw new WalletError(
      Code.WALLET,
      `Wallet file verification failed. Invalid wallet name '${name}'.`,
    );
  }
}

/** Removes the file or empty folder at `path`, if there is one and it can be. */
function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* not there, or a folder not empty */ }
}

/** What is at `path`, or null when nothing is. */
function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch (error) {
    // A path through a file is "not found", as libstdc++'s status() reads it.
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
}

/**
 * Core's `MakeWalletDatabase` first looks at the wallet's path
 * (`fs::symlink_status`, which throws): a path that cannot be looked at (a
 * name too long) fails with libstdc++'s `filesystem_error` text, answered
 * with `code` (-4 by `loadwallet`'s catch, -1 by `createwallet`'s none).
 */
function checkWalletPath(path: string, code: number): void {
  try {
    lstatOrNull(path);
  } catch (error) {
    const reason = (error as Error).message.replace(/ \(os error \d+\).*$/s, "");
    throw new WalletError(
      code,
      `filesystem error: cannot get symlink status: ${reason} [${path}]`,
    );
  }
}

/** What is at `path` itself (a link not followed), or null when nothing is. */
function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
}

/** `path` as C++'s `std::quoted` writes it (Core's `fs::quoted`). */
function quoted(path: string): string {
  return `"${path.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** Whether `path` is a file that begins as an SQLite database does (Core's `IsSQLiteFile`). */
function isSqliteFile(path: string): boolean {
  if (statOrNull(path)?.isFile !== true) return false;
  const header = new TextEncoder().encode("SQLite format 3\0");
  using file = Deno.openSync(path);
  const start = new Uint8Array(header.length);
  const read = file.readSync(start);
  return read === header.length && start.every((byte, i) => byte === header[i]);
}

/** Whether `path` is a Berkeley DB B-tree file, as Core's `IsBDBFile` reads one. */
function isBdbFile(path: string): boolean {
  const info = statOrNull(path);
  // A B-tree file has at least 4 KiB; the size check also leaves lock files out.
  if (info === null || !info.isFile || info.size < 4096) return false;
  using file = Deno.openSync(path);
  const head = new Uint8Array(16);
  if (file.readSync(head) !== head.length) return false;
  // The magic at offset 12, in either byte order.
  const magic = new DataView(head.buffer).getUint32(12, true);
  return magic === 0x00053162 || magic === 0x62310500;
}

/** This wallet's refusal of a legacy wallet, which it cannot read. */
const CANNOT_READ_BDB =
  "Error: This wallet is a legacy (Berkeley DB) wallet, which this wallet process cannot read, so it cannot migrate it; migrate it with Bitcoin Core";

/** createwallet's refusals and warning, as Core words them. */
const LEGACY_REFUSED =
  'descriptors argument must be set to "true"; it is no longer possible to create a legacy wallet.';
const NO_SIGNER_SUPPORT =
  "Compiled without external signing support (required for external signing)";
const NO_KEYS_TO_SEAL =
  "Passphrase provided but private keys are disabled. A passphrase is only used to encrypt private keys, so cannot be used for wallets with private keys disabled.";
const EMPTY_PASSPHRASE = "Empty string given as passphrase, wallet will not be encrypted.";

/** bitcoind's warning when `load_on_startup` could not be saved. */
const STARTUP_NOT_UPDATED =
  "Wallet load on startup setting could not be updated, so wallet may not be loaded next node startup.";

/** A wallet just loaded or created, and the warnings its loading answers with. */
export interface Loaded {
  readonly wallet: Wallet;
  readonly warnings: readonly string[];
}

/** What createwallet, loadwallet and restorewallet answer: the name, and the warnings if any. */
function loadedReply(wallet: Wallet, warnings: readonly string[]): Reply {
  return { name: wallet.name, ...(warnings.length > 0 ? { warnings: [...warnings] } : {}) };
}

/** The loader: the loaded wallets by name. */
export class WalletLoaderImpl implements WalletLoader, AsyncDisposable {
  readonly #walletsDir: string;
  readonly #settingsFile: string;
  readonly #chain: Chain;
  readonly #options: WalletRpcOptions;
  readonly #wallets = new Map<string, Wallet>();
  /** Names being loaded or created now: a second request for one waits for it. */
  readonly #pending = new Map<string, Promise<unknown>>();
  #nodeStopping = false;
  /** The wallets' time (Core's `GetTime`), which the node's `setmocktime` may hold. */
  readonly #clock = new MockableClock();

  constructor(datadir: string, chain: Chain, options: WalletRpcOptions) {
    // -walletdir must exist (Core's VerifyWallets); the default one is made when missing.
    this.#walletsDir = options.walletDir ?? `${datadir}/wallets`;
    // A folder of its own: the sandbox grants folders, and every name in wallets/ may be a wallet's.
    this.#settingsFile = `${datadir}/settings/settings.json`;
    if (options.walletDir === undefined) {
      Deno.mkdirSync(this.#walletsDir, { recursive: true, mode: 0o700 });
    }
    this.#chain = chain;
    this.#options = options;
    this.#clock.setMockTime(options.mockTime ?? 0);
  }

  /** The directory of wallet `name`. */
  #dir(name: string): string {
    return name === "" ? this.#walletsDir : `${this.#walletsDir}/${name}`;
  }

  /** The node said it is shutting down (`stop`): its going is no failure. */
  stop(): void {
    this.#nodeStopping = true;
  }

  /** Whether the node said it is shutting down. */
  get nodeStopping(): boolean {
    return this.#nodeStopping;
  }

  /**
   * Core's refusal of a bad wallet option, given the node's relay minimum,
   * which refuses every load and creation; null when good.
   */
  async policyRefusal(): Promise<string | null> {
    const { policyRefusal } = this.#options;
    return policyRefusal === undefined ? null : policyRefusal(await this.#chain.relayMinFee());
  }

  /** The loaded wallets in the order they were loaded, as bitcoind's `listwallets` lists them. */
  listWallets(): string[] {
    return [...this.#wallets.keys()];
  }

  /**
   * The wallets in the wallets directory, loaded or not (`listwalletdir`):
   * the unnamed one in `wallets/` itself, then each folder holding a
   * `wallet.dat`, by name.
   */
  walletsOnDisk(): string[] {
    const found: string[] = [];
    const isWallet = (dir: string) => {
      try {
        return Deno.statSync(`${dir}/${WALLET_FILE}`).isFile;
      } catch {
        return false;
      }
    };
    if (isWallet(this.#walletsDir)) found.push("");
    for (const entry of Deno.readDirSync(this.#walletsDir)) {
      if (entry.isDirectory && isWallet(`${this.#walletsDir}/${entry.name}`)) {
        found.push(entry.name);
      }
    }
    return found.sort();
  }

  /** The loaded wallet `name`. */
  wallet(name: string): Wallet | undefined {
    return this.#wallets.get(name);
  }

  /** Loads wallet `name` (bitcoind's `loadwallet` errors). */
  async load(name: string): Promise<Loaded> {
    return await this.#once(name, async () => {
      checkName(name);
      if (this.#wallets.has(name)) {
        throw new WalletError(Code.ALREADY_LOADED, `Wallet "${name}" is already loaded.`);
      }
      const dir = this.#dir(name);
      checkWalletPath(dir, Code.WALLET);
      if (statOrNull(dir) === null) {
        throw new WalletError(
          Code.NOT_FOUND,
          `Wallet file verification failed. Failed to load database path '${dir}'. Path does not exist.`,
        );
      }
      // Core's MakeWalletDatabase checks the file before CWallet::Create the options.
      await this.#verified(name, (file) => WalletStore.open(file)[Symbol.dispose]());
      const warnings = await this.#policyWarnings("Wallet loading failed.");
      return { wallet: await this.#open(name), warnings };
    });
  }

  /**
   * Core's `CWallet::Create` checks of the wallet options, made at every
   * load and creation: a bad value, or a `-maxtxfee` under the node's
   * relay minimum, refuses it (-4, after `failure`); values set very high
   * are warned about ({@linkcode walletPolicyWarnings}).
   */
  async #policyWarnings(failure: string): Promise<string[]> {
    const { policy = DEFAULT_WALLET_POLICY, policyRefusal } = this.#options;
    const relayMinFee = await this.#chain.relayMinFee();
    const refusal = policyRefusal?.(relayMinFee) ?? null;
    if (refusal !== null) throw new WalletError(Code.WALLET, `${failure} ${refusal}`);
    return walletPolicyWarnings(policy, relayMinFee);
  }

  /**
   * Restores wallet `name` from the backup file `backup` and loads it
   * (bitcoind's `restorewallet`, with its refusals): the file becomes the
   * wallet's `wallet.dat`, never over an existing one, and goes again, with
   * the folder made for it, when it does not load. The wallet then catches
   * up with the chain from the block the backup last saw. A sandboxed
   * wallet reads only its own directories: a backup elsewhere is refused,
   * naming the folder to keep backups in.
   */
  async restore(name: string, backup: string): Promise<Loaded> {
    return await this.#once(name, async () => {
      checkName(name);
      try {
        Deno.statSync(backup);
      } catch (error) {
        throw new WalletError(
          Code.INVALID_PARAMETER,
          error instanceof Deno.errors.NotCapable
            ? `Backup file '${backup}' is outside what the wallet's sandbox lets it read; keep backups under '${this.#walletsDir}'`
            : "Backup file does not exist",
        );
      }
      const dir = this.#dir(name);
      const file = `${dir}/${WALLET_FILE}`;
      const existing = statOrNull(dir);
      if (existing !== null && !existing.isDirectory) {
        throw new WalletError(
          Code.ALREADY_EXISTS,
          `Failed to restore wallet. Database file exists '${dir}'.`,
        );
      }
      if (existing !== null && statOrNull(file) !== null) {
        throw new WalletError(
          Code.ALREADY_EXISTS,
          `Failed to restore wallet. Database file exists in '${file}'.`,
        );
      }
      if (existing !== null) {
        // A journal left without its database would be replayed onto the backup.
        for (const journal of [`${file}-wal`, `${file}-shm`]) removeIfThere(journal);
      } else {
        try {
          Deno.mkdirSync(dir, { mode: 0o700 });
        } catch {
          throw new WalletError(
            Code.ALREADY_EXISTS,
            `Failed to restore database path '${dir}'.`,
          );
        }
      }
      try {
        Deno.copyFileSync(backup, file);
        Deno.chmodSync(file, 0o600);
        // As a load: the file checked, then the options (a refusal leaves nothing behind).
        await this.#verified(name, (file) => WalletStore.open(file)[Symbol.dispose]());
        const warnings = await this.#policyWarnings("Wallet loading failed.");
        return { wallet: await this.#open(name), warnings };
      } catch (error) {
        // Nothing of a failed restore stays: not the copy, its journal, nor a folder made for it
        // (left, as Core leaves it, when something else was put in it meanwhile).
        for (const path of [file, `${file}-wal`, `${file}-shm`]) removeIfThere(path);
        if (existing === null) removeIfThere(dir);
        throw error instanceof WalletError
          ? error
          : new WalletError(Code.WALLET, `Unexpected exception: ${(error as Error).message}`);
      }
    });
  }

  /** What each wallet is opened with: the process's options. */
  #openOptions(): OpenOptions {
    const { keypool, log, notifications, policy } = this.#options;
    return { keypool, log, notifications, policy, now: () => this.#clock.now() };
  }

  /**
   * Holds the process's clock at `time` (UNIX seconds; 0: the system's
   * again), as the node's `setmocktime` told it (Core's
   * `ChainClient::setMockTime`).
   */
  setMockTime(time: bigint): void {
    this.#clock.setMockTime(Number(time));
  }

  /**
   * Opens the wallet file of `name` and adds it to the loaded wallets; no
   * file, or one that is not a wallet's database, is refused as Core
   * refuses data it does not recognise (-18).
   */
  async #open(name: string): Promise<Wallet> {
    const wallet = await this.#verified(
      name,
      () => Wallet.load(this.#dir(name), name, this.#chain, this.#openOptions()),
    );
    this.#wallets.set(name, wallet);
    return wallet;
  }

  /**
   * `open(file)` of wallet `name`'s database, refused with Core's
   * `MakeWalletDatabase` texts when the file is not a wallet's database
   * or another process has it open.
   */
  async #verified<T>(name: string, open: (file: string) => T | Promise<T>): Promise<T> {
    const dir = this.#dir(name);
    const file = `${dir}/${WALLET_FILE}`;
    const unrecognized = () =>
      new WalletError(
        Code.NOT_FOUND,
        `Wallet file verification failed. Failed to load database path '${dir}'. Data is not in recognized format.`,
      );
    if (!isSqliteFile(file)) throw unrecognized();
    try {
      return await open(file);
    } catch (error) {
      if (error instanceof NotAWallet) throw unrecognized();
      if (error instanceof WalletInUse) {
        throw new WalletError(Code.WALLET, `Wallet file verification failed. ${error.message}`);
      }
      throw error;
    }
  }

  /** Creates wallet `name` (bitcoind's `createwallet`). */
  async create(
    name: string,
    options: Pick<CreateOptions, "disablePrivateKeys" | "blank" | "avoidReuse" | "passphrase"> = {},
  ): Promise<Loaded> {
    return await this.#once(name, async () => {
      checkName(name);
      const dir = this.#dir(name);
      checkWalletPath(dir, Code.MISC);
      let exists = this.#wallets.has(name);
      try {
        Deno.statSync(`${dir}/${WALLET_FILE}`);
        exists = true;
      } catch { /* free */ }
      if (exists) {
        throw new WalletError(
          Code.WALLET,
          `Wallet file verification failed. Failed to create database path '${dir}'. Database already exists.`,
        );
      }
      const warnings = await this.#policyWarnings("Wallet creation failed.");
      const wallet = await Wallet.create(dir, name, this.#chain, {
        ...options,
        ...this.#openOptions(),
      });
      this.#wallets.set(name, wallet);
      return { wallet, warnings };
    });
  }

  /**
   * migratewallet for wallet `name`, as Core v30's `MigrateLegacyToDescriptor`
   * checks it: a loaded wallet is a descriptor wallet (-4 `Error: This
   * wallet is already a descriptor wallet`); else its path (Core's
   * `GetWalletPath`: a directory, a link to one, nothing yet, or the name
   * of a data file in the wallets directory, else Core's `Invalid -wallet
   * path` text), -4 `Error: Wallet does not exist` when nothing is there,
   * and the same "already a descriptor wallet" for anything but a Berkeley
   * DB data file. A legacy BDB wallet, the one thing Core would migrate, is
   * refused: this wallet cannot read BDB files.
   */
  checkMigration(name: string): never {
    if (this.#wallets.has(name)) throw new WalletError(Code.WALLET, ALREADY_DESCRIPTOR);
    // No file's path holds a NUL.
    if (name.includes("\0")) throw new WalletError(Code.WALLET, NO_SUCH_WALLET);
    const path = name.startsWith("/")
      ? name
      : name === ""
      ? this.#walletsDir
      : `${this.#walletsDir}/${name}`;
    let link: Deno.FileInfo | null = null;
    let target: Deno.FileInfo | null = null;
    let readable = true;
    try {
      link = lstatOrNull(path);
      target = statOrNull(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) {
        throw new WalletError(
          Code.WALLET,
          `Wallet path '${path}' is outside what the wallet's sandbox lets it read; keep wallets under '${this.#walletsDir}'`,
        );
      }
      readable = false; // a path that cannot be looked at is no wallet path
    }
    const acceptable = readable && link === null || link?.isDirectory === true ||
      (link?.isSymlink === true && target?.isDirectory === true) ||
      (link?.isFile === true && !name.includes("/"));
    if (!acceptable) {
      throw new WalletError(
        Code.WALLET,
        `Invalid -wallet path '${name}'. -wallet path should point to a directory where wallet.dat and ` +
          "database/log.?????????? files can be stored, a location where such a directory could be created, " +
          "or (for backwards compatibility) the name of an existing data file in -walletdir " +
          `(${quoted(this.#walletsDir)})`,
      );
    }
    if (target === null) throw new WalletError(Code.WALLET, NO_SUCH_WALLET);
    // Core's BDBDataFile: a file is the data file itself, a directory holds wallet.dat.
    const dataFile = target.isFile ? path : `${path}/${WALLET_FILE}`;
    // A loaded wallet's file is not read here: closing a descriptor of it would drop its lock.
    if (this.#isLoadedWalletFile(dataFile)) throw new WalletError(Code.WALLET, ALREADY_DESCRIPTOR);
    let legacy: boolean;
    try {
      legacy = isBdbFile(dataFile);
    } catch {
      legacy = false; // unreadable: Core's ifstream fails to open, not a BDB file
    }
    throw new WalletError(Code.WALLET, legacy ? CANNOT_READ_BDB : ALREADY_DESCRIPTOR);
  }

  /** Unloads wallet `name`: it stops following the chain and its database closes. */
  async unload(name: string): Promise<void> {
    const wallet = this.#wallets.get(name);
    if (wallet === undefined) {
      throw new WalletError(Code.NOT_FOUND, "Requested wallet does not exist or is not loaded");
    }
    this.#wallets.delete(name);
    await wallet.close();
  }

  /**
   * `settings.json` and the wallets it lists (`"wallet"`: a name or a list
   * of names, as bitcoind reads it); none when there is no file yet; why
   * not, when it cannot be read or understood (it is then left as it is).
   */
  #readSettings():
    | { settings: Record<string, unknown>; names: string[] }
    | { problem: string } {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.#settingsFile);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return { settings: {}, names: [] };
      return { problem: (error as Error).message };
    }
    try {
      const settings = JSON.parse(text);
      if (settings === null || typeof settings !== "object" || Array.isArray(settings)) {
        throw new Error("not a JSON object");
      }
      const wallet = settings.wallet ?? [];
      const names = typeof wallet === "string" ? [wallet] : wallet;
      if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) {
        throw new Error('"wallet" is not a name or a list of names');
      }
      return { settings, names };
    } catch (error) {
      return { problem: (error as Error).message };
    }
  }

  /** The wallets `settings.json` says to load at start; an unreadable file is said. */
  startupWallets(): { names: string[]; warning?: string } {
    const read = this.#readSettings();
    if ("names" in read) return { names: read.names };
    return {
      names: [],
      warning: `${this.#settingsFile}: ${read.problem}; no wallet loaded from it`,
    };
  }

  /**
   * Adds `name` to the wallets loaded at start (`loadOnStartup` true) or
   * removes it (false); anything else leaves the list as it is. Written
   * whole to a new file and renamed over the old: never half a list, and
   * never over a file it could not read (its other settings kept). When it
   * cannot be written, the wallet stays loaded and bitcoind's warning is
   * returned.
   */
  #rememberOnStartup(name: string, loadOnStartup: unknown): string[] {
    if (typeof loadOnStartup !== "boolean") return [];
    const read = this.#readSettings();
    try {
      if ("problem" in read) throw new Error(read.problem);
      const kept = read.names.filter((n) => n !== name);
      const settings = { ...read.settings, wallet: loadOnStartup ? [...kept, name] : kept };
      const staged = `${this.#settingsFile}.new`;
      Deno.mkdirSync(dirname(this.#settingsFile), { recursive: true, mode: 0o700 });
      Deno.writeTextFileSync(staged, JSON.stringify(settings, null, 2) + "\n", { mode: 0o600 });
      Deno.renameSync(staged, this.#settingsFile);
      return [];
    } catch (error) {
      console.error(`wallet: ${this.#settingsFile} not updated: ${(error as Error).message}`);
      return [STARTUP_NOT_UPDATED];
    }
  }

  async #once<T>(name: string, work: () => Promise<T>): Promise<T> {
    while (this.#pending.has(name)) await this.#pending.get(name)!.catch(() => {});
    const running = work();
    this.#pending.set(name, running);
    try {
      return await running;
    } finally {
      this.#pending.delete(name);
    }
  }

  async executeRpc(method: string, params: string, wallet?: string): Promise<string> {
    try {
      const args = JSON.parse(params);
      if (!Array.isArray(args)) throw new Error("params: not a JSON array");
      return writeJson({ result: await this.#run(method, args, wallet) });
    } catch (error) {
      const code = error instanceof WalletError || error instanceof RpcError
        ? error.code
        : Code.MISC;
      const message = error instanceof Error ? error.message : String(error);
      return writeJson({ error: { code, message } });
    }
  }

  async #run(method: string, args: unknown[], name: string | undefined): Promise<Reply> {
    switch (method) {
      case "createwallet": {
        const [
          walletName,
          disablePrivateKeys,
          blank,
          passphrase,
          avoidReuse,
          descriptors,
          ,
          signer,
        ] = args;
        const secret = typeof passphrase === "string" && passphrase !== "" ? passphrase : undefined;
        // Core's checks, all before anything is made.
        const refusal = descriptors === false
          ? new WalletError(Code.WALLET, LEGACY_REFUSED)
          : signer === true
          ? new WalletError(Code.WALLET, NO_SIGNER_SUPPORT)
          : secret !== undefined && disablePrivateKeys === true
          ? new WalletError(Code.WALLET, NO_KEYS_TO_SEAL)
          : undefined;
        if (refusal) throw refusal;
        const { wallet, warnings: loading } = await this.create(String(walletName), {
          disablePrivateKeys: disablePrivateKeys === true,
          blank: blank === true,
          avoidReuse: avoidReuse === true,
          passphrase: secret,
        });
        return loadedReply(wallet, [
          ...(passphrase === "" ? [EMPTY_PASSPHRASE] : []),
          ...loading,
          ...this.#rememberOnStartup(wallet.name, args[6]),
        ]);
      }
      case "loadwallet": {
        const { wallet, warnings } = await this.load(String(args[0]));
        return loadedReply(wallet, [...warnings, ...this.#rememberOnStartup(wallet.name, args[1])]);
      }
      case "restorewallet": {
        const { wallet, warnings } = await this.restore(String(args[0]), String(args[1]));
        return loadedReply(wallet, [...warnings, ...this.#rememberOnStartup(wallet.name, args[2])]);
      }
      case "unloadwallet": {
        const unloaded = name ?? String(args[0]);
        await this.unload(unloaded);
        const warnings = this.#rememberOnStartup(unloaded, args[1]);
        return warnings.length > 0 ? { warnings } : {};
      }
      case "migratewallet":
        return this.checkMigration(String(args[0]));
      case "listwallets":
        return this.listWallets();
      case "listwalletdir":
        return { wallets: this.walletsOnDisk().map((wallet) => ({ name: wallet })) };
    }
    const run = walletMethods[method];
    if (run === undefined) throw new WalletError(-32601, "Method not found");
    // Unnamed when the node routes to this process alone: the only wallet loaded here.
    const [, wallet] = walletForRequest(this.#wallets, name);
    // Core's backup fails on a loaded wallet's database (it holds it locked); copying over one
    // here would replace a live wallet's file.
    if (method === "backupwallet" && this.#isLoadedWalletFile(String(args[0]))) {
      throw new WalletError(Code.WALLET, "Error: Wallet backup failed!");
    }
    // As Core's BlockUntilSyncedToCurrentChain: answers reflect every block the node announced.
    // Not while a rescan holds the wallet's turns: abortrescan must reach it, getwalletinfo
    // tells its progress (Core's rescan holds no lock between blocks), and a second
    // rescanblockchain is refused at once.
    const rescanning = wallet.scanning !== false &&
      ["abortrescan", "getwalletinfo", "rescanblockchain", "walletlock", "walletpassphrasechange"]
        .includes(method);
    if (!rescanning) await wallet.sync();
    return await run(wallet, args, this.#options);
  }

  /** Whether `path` is the database file of a wallet loaded here (links and `..` resolved). */
  #isLoadedWalletFile(path: string): boolean {
    let real: string;
    try {
      real = Deno.realPathSync(path);
    } catch {
      return false; // nothing there yet (or out of reach): no wallet's file
    }
    return [...this.#wallets.values()].some((wallet) => {
      try {
        return Deno.realPathSync(`${wallet.dir}/${WALLET_FILE}`) === real;
      } catch {
        return false;
      }
    });
  }

  /** Closes every wallet. */
  async [Symbol.asyncDispose](): Promise<void> {
    const wallets = [...this.#wallets.values()];
    this.#wallets.clear();
    for (const wallet of wallets) await wallet.close();
  }
}

/**
 * Loads each of `names` (bitcoind's `-wallet`), creating those that do not
 * exist yet, then those `settings.json` lists (a wallet there that fails
 * to load is said and skipped, as bitcoind warns); resolves with a line for
 * each wallet created and each warning. A bad wallet option throws its
 * refusal, in Core's words, when there is a wallet to load (Core's
 * `LoadWallets` stops the start with `CWallet::Create`'s error; a
 * `settings.json` wallet not on disk is skipped first).
 */
export async function loadOrCreateWallets(
  loader: WalletLoaderImpl,
  names: readonly string[],
): Promise<string[]> {
  const startup = loader.startupWallets();
  const refusal = await loader.policyRefusal();
  if (refusal !== null) {
    const onDisk = new Set(loader.walletsOnDisk());
    if (names.length > 0 || startup.names.some((name) => onDisk.has(name))) {
      throw new Error(refusal);
    }
  }
  const lines: string[] = [];
  // As bitcoind's init warnings: each wallet loaded says its own.
  const warn = ({ wallet, warnings }: Loaded) =>
    lines.push(...warnings.map((warning) => `wallet: "${wallet.name}": Warning: ${warning}`));
  for (const name of names) {
    try {
      warn(await loader.load(name));
    } catch (error) {
      if (!(error instanceof WalletError) || error.code !== Code.NOT_FOUND) throw error;
      const created = await loader.create(name);
      lines.push(`wallet: created wallet "${name}"`);
      warn(created);
    }
  }
  if (startup.warning !== undefined) lines.push(`wallet: ${startup.warning}`);
  for (const name of startup.names) {
    if (loader.wallet(name) !== undefined) continue;
    try {
      warn(await loader.load(name));
    } catch (error) {
      lines.push(`wallet: "${name}" (settings.json) not loaded: ${(error as Error).message}`);
    }
  }
  return lines;
}
