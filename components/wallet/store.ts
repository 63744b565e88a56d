/**
 * A wallet's database: one SQLite file (`wallet.dat`, through
 * `node:sqlite`) in the wallet's own directory, as Core's descriptor
 * wallets keep theirs. It holds the wallet's settings and keys (the secret
 * in the clear or encrypted), the scripts it watches, the transactions that
 * concern it and the blocks it has processed. Every change that spans rows
 * goes through {@linkcode WalletStore.atomically}: a crash leaves the old
 * state or the new one.
 *
 * @example
 * ```ts
 * import { WalletStore } from "./store.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using store = WalletStore.create(`${dir}/wallet.dat`);
 *   store.atomically(() => store.setMeta("name", "w"));
 *   if (store.meta("name") !== "w") throw new Error("meta");
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { backup as backupDatabase, DatabaseSync } from "node:sqlite";

/** The file name of a wallet's database inside its directory. */
export const WALLET_FILE = "wallet.dat";

/** The address book (Core's `m_address_book`): a label and a purpose per script. */
const LABELS = `
  CREATE TABLE labels (script BLOB PRIMARY KEY, label TEXT NOT NULL, purpose TEXT NOT NULL);
`;

/**
 * The scripts of descriptors imported to watch (`importdescriptors`): by
 * descriptor (its hash, `kind`), so that two of them, or one and a chain,
 * may share a script.
 */
const WATCHED_SCRIPTS = `
  CREATE TABLE watched_scripts (
    kind TEXT NOT NULL, script BLOB NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (kind, script)
  );
`;

/**
 * The wallet's scripts spent from while it avoided reuse (Core's
 * "previously spent" destinations, `avoid_reuse`).
 */
const USED_SCRIPTS = `CREATE TABLE used_scripts (script BLOB PRIMARY KEY);`;

const SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE scripts (
    script BLOB PRIMARY KEY, kind TEXT NOT NULL, internal INTEGER NOT NULL, idx INTEGER NOT NULL
  );
  CREATE TABLE txs (
    txid TEXT PRIMARY KEY, seq INTEGER NOT NULL, raw BLOB NOT NULL,
    block_hash TEXT, block_height INTEGER, block_index INTEGER, block_time INTEGER,
    time INTEGER NOT NULL, in_mempool INTEGER NOT NULL, fee INTEGER
  );
  CREATE TABLE blocks (height INTEGER PRIMARY KEY, hash TEXT NOT NULL);
  INSERT INTO meta VALUES ('version', '1');
  ${LABELS}
  ${WATCHED_SCRIPTS}
  ${USED_SCRIPTS}
`;

/**
 * The wallet keeps the hashes of its last processed blocks, and every
 * 1,024th below them: enough to find where a reorganisation forked (a
 * deeper one is found at the next kept block, and what lies between is
 * read again), without a row per block of the chain.
 */
export const LOCATOR_RECENT = 100;
/** Every how many heights a block stays kept below the recent ones. */
export const LOCATOR_SPACING = 1024;

/** WAL for atomic commits that survive a crash; deleted content overwritten (the plaintext secret). */
const PRAGMAS = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;";

/** A stored transaction. */
export interface TxRow {
  txid: string;
  /** Order in which the wallet first saw it. */
  seq: number;
  raw: Uint8Array;
  blockHash: string | null;
  blockHeight: number | null;
  blockIndex: number | null;
  blockTime: number | null;
  /** When the wallet first saw it (epoch seconds). */
  time: number;
  inMempool: boolean;
  /** The fee, for a transaction whose inputs are all the wallet's. */
  fee: bigint | null;
}

/** An address book entry: `getnewaddress`' addresses (receive) and those `setlabel` names. */
export interface LabelRow {
  script: Uint8Array;
  label: string;
  purpose: "receive" | "send";
}

/** A watched script and where it was derived. */
export interface ScriptRow {
  script: Uint8Array;
  kind: string;
  internal: boolean;
  index: number;
}

/** An SQLite database that is not a wallet this code reads. */
export class NotAWallet extends Error {}

/** Core's text when another process (or connection) has the wallet's database open. */
export const WALLET_IN_USE =
  "SQLiteDatabase: Unable to obtain an exclusive lock on the database, is it being used by another instance of Bitcoin Core?";

/** The database is open elsewhere: two processes never keep one wallet. */
export class WalletInUse extends Error {
  override name = "WalletInUse";
}

/**
 * Core's exclusive lock (`locking_mode=exclusive`, then an exclusive
 * transaction): held while `db` stays open, so no other process or
 * connection opens the wallet meanwhile; throws {@linkcode WalletInUse}.
 */
function lockExclusively(db: DatabaseSync): void {
  db.exec("PRAGMA locking_mode = EXCLUSIVE;");
  try {
    db.exec("BEGIN EXCLUSIVE; COMMIT;");
  } catch {
    throw new WalletInUse(WALLET_IN_USE);
  }
}

/** The database of one wallet. */
export class WalletStore implements Disposable {
  readonly path: string;
  readonly #db: DatabaseSync;
  #depth = 0;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /** Creates the database at `path`; throws when the file exists. */
  static create(path: string): WalletStore {
    // Closed before SQLite opens it: a descriptor closed later would drop SQLite's lock.
    Deno.openSync(path, { write: true, createNew: true, mode: 0o600 }).close();
    const db = new DatabaseSync(path);
    try {
      lockExclusively(db);
      db.exec(PRAGMAS);
      db.exec(`BEGIN; ${SCHEMA} COMMIT;`);
    } catch (error) {
      db.close();
      throw error;
    }
    return new WalletStore(path, db);
  }

  /**
   * Opens the existing database at `path`; throws {@linkcode NotAWallet}
   * for an SQLite database that is not a wallet of this version, read
   * before anything is written to it.
   */
  static open(path: string): WalletStore {
    Deno.statSync(path);
    const db = new DatabaseSync(path);
    try {
      // Locked before anything is read: the version of a database in use is no answer.
      lockExclusively(db);
      let version: unknown;
      try {
        version = db.prepare("SELECT value FROM meta WHERE key = 'version'").get()?.value;
      } catch {
        // No meta table: another application's database.
      }
      if (version !== "1") throw new NotAWallet(`${path} is not a wallet database of this version`);
      db.exec(PRAGMAS);
      return new WalletStore(path, db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Whether the database has its address book (one made before labels has none). */
  get hasAddressBook(): boolean {
    return this.#hasTable("labels");
  }

  /** Whether the database has table `name` (one made before the table has none). */
  #hasTable(name: string): boolean {
    return this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(name) !== undefined;
  }

  /** Adds the address book to a database made before it (inside the caller's transaction). */
  addAddressBook(): void {
    this.#db.exec(LABELS);
  }

  /** Runs `change` in one transaction (nested calls join the outer one). */
  atomically<T>(change: () => T): T {
    if (this.#depth > 0) return change();
    this.#db.exec("BEGIN IMMEDIATE");
    this.#depth++;
    try {
      const result = change();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    } finally {
      this.#depth--;
    }
  }

  meta(key: string): string | undefined {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = ?").get(key);
    return row === undefined ? undefined : String(row.value);
  }

  setMeta(key: string, value: string): void {
    this.#db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)").run(key, value);
  }

  deleteMeta(key: string): void {
    this.#db.prepare("DELETE FROM meta WHERE key = ?").run(key);
  }

  addScript(row: ScriptRow): void {
    this.#db.prepare("INSERT OR IGNORE INTO scripts VALUES (?, ?, ?, ?)")
      .run(row.script, row.kind, row.internal ? 1 : 0, row.index);
  }

  /** Keeps a script of the watched descriptor `kind`, the table made first if need be. */
  addWatchedScript(row: Omit<ScriptRow, "internal">): void {
    if (!this.#hasTable("watched_scripts")) this.#db.exec(WATCHED_SCRIPTS);
    this.#db.prepare("INSERT OR IGNORE INTO watched_scripts VALUES (?, ?, ?)")
      .run(row.kind, row.script, row.index);
  }

  /** The scripts of the watched descriptors. */
  watchedScripts(): Omit<ScriptRow, "internal">[] {
    if (!this.#hasTable("watched_scripts")) return [];
    return this.#db.prepare("SELECT * FROM watched_scripts").all().map((row) => ({
      script: new Uint8Array(row.script as Uint8Array),
      kind: String(row.kind),
      index: Number(row.idx),
    }));
  }

  /** Forgets the scripts of the watched descriptor `kind`. */
  deleteWatchedScripts(kind: string): void {
    if (!this.#hasTable("watched_scripts")) return;
    this.#db.prepare("DELETE FROM watched_scripts WHERE kind = ?").run(kind);
  }

  /** Forgets the scripts of a chain (`kind`, external or change), which is watched instead. */
  deleteScripts(kind: string, internal: boolean): void {
    this.#db.prepare("DELETE FROM scripts WHERE kind = ? AND internal = ?").run(
      kind,
      internal ? 1 : 0,
    );
  }

  /** Marks `script` spent from (`avoid_reuse`), the table made first if need be. */
  addUsedScript(script: Uint8Array): void {
    if (!this.#hasTable("used_scripts")) this.#db.exec(USED_SCRIPTS);
    this.#db.prepare("INSERT OR IGNORE INTO used_scripts VALUES (?)").run(script);
  }

  /** The scripts marked spent from. */
  usedScripts(): Uint8Array[] {
    if (!this.#hasTable("used_scripts")) return [];
    return this.#db.prepare("SELECT script FROM used_scripts").all()
      .map((row) => new Uint8Array(row.script as Uint8Array));
  }

  scripts(): ScriptRow[] {
    return this.#db.prepare("SELECT * FROM scripts").all().map((row) => ({
      script: new Uint8Array(row.script as Uint8Array),
      kind: String(row.kind),
      internal: row.internal === 1,
      index: Number(row.idx),
    }));
  }

  putLabel(row: LabelRow): void {
    this.#db.prepare("INSERT OR REPLACE INTO labels VALUES (?, ?, ?)")
      .run(row.script, row.label, row.purpose);
  }

  labels(): LabelRow[] {
    return this.#db.prepare("SELECT * FROM labels").all().map((row) => ({
      script: new Uint8Array(row.script as Uint8Array),
      label: String(row.label),
      purpose: row.purpose === "send" ? "send" : "receive",
    }));
  }

  putTx(row: TxRow): void {
    this.#db.prepare("INSERT OR REPLACE INTO txs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").run(
      row.txid,
      row.seq,
      row.raw,
      row.blockHash,
      row.blockHeight,
      row.blockIndex,
      row.blockTime,
      row.time,
      row.inMempool ? 1 : 0,
      row.fee,
    );
  }

  deleteTx(txid: string): void {
    this.#db.prepare("DELETE FROM txs WHERE txid = ?").run(txid);
  }

  txs(): TxRow[] {
    const statement = this.#db.prepare("SELECT * FROM txs ORDER BY seq");
    statement.setReadBigInts(true);
    return statement.all().map((row) => ({
      txid: String(row.txid),
      seq: Number(row.seq),
      raw: new Uint8Array(row.raw as Uint8Array),
      blockHash: row.block_hash === null ? null : String(row.block_hash),
      blockHeight: row.block_height === null ? null : Number(row.block_height),
      blockIndex: row.block_index === null ? null : Number(row.block_index),
      blockTime: row.block_time === null ? null : Number(row.block_time),
      time: Number(row.time),
      inMempool: row.in_mempool === 1n,
      fee: row.fee === null ? null : BigInt(row.fee as bigint),
    }));
  }

  /**
   * Makes the block `hash` at `height` the wallet's last processed one (no
   * block for height -1): forgets the blocks above it, and below it those
   * the locator no longer needs: it keeps the last 100, and every 1,024th
   * below them.
   */
  setTip(height: number, hash: string): void {
    this.#db.prepare("DELETE FROM blocks WHERE height >= ?").run(height);
    if (height >= 0) this.#db.prepare("INSERT INTO blocks VALUES (?, ?)").run(height, hash);
    this.#db.prepare("DELETE FROM blocks WHERE height <= ? AND height % ? != 0")
      .run(height - LOCATOR_RECENT, LOCATOR_SPACING);
    this.setMeta("tip_hash", hash);
    this.setMeta("tip_height", String(height));
  }

  /** The last processed block; height -1 before any. */
  tip(): { hash: string; height: number } {
    return { hash: this.meta("tip_hash") ?? "", height: Number(this.meta("tip_height") ?? -1) };
  }

  /** The hash kept of the processed block at `height`, if kept. */
  blockAt(height: number): string | undefined {
    const row = this.#db.prepare("SELECT hash FROM blocks WHERE height = ?").get(height);
    return row === undefined ? undefined : String(row.hash);
  }

  /**
   * The processed blocks kept, newest first, with their heights: Core's
   * block locator, which finds where the wallet's view and the node's fork.
   */
  locator(): { height: number; hash: string }[] {
    const rows = this.#db.prepare("SELECT height, hash FROM blocks ORDER BY height DESC").all();
    return rows.map((row) => ({ height: Number(row.height), hash: String(row.hash) }));
  }

  /**
   * Writes a consistent copy of the database to `path` through SQLite's
   * online backup (as Core's `SQLiteDatabase::Backup`), a new file private
   * to its owner. Never through a descriptor of the database's own file:
   * closing one would drop the lock this connection holds (POSIX locks are
   * the process's). `VACUUM INTO` would attach a database, which Deno
   * refuses without every permission, as a sandboxed wallet runs.
   */
  async backup(path: string): Promise<void> {
    Deno.openSync(path, { write: true, create: true, truncate: true, mode: 0o600 }).close();
    await backupDatabase(this.#db, path);
  }

  /**
   * Empties the journal into the file, so deleted content is nowhere on
   * disk: `secure_delete` already zeroed it in its page (`VACUUM` would
   * attach a database, refused in the sandbox).
   */
  scrub(): void {
    this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE);");
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  /** Closes the database and removes its files (a wallet whose creation failed). */
  destroy(): void {
    this.close();
    for (const suffix of ["", "-wal", "-shm"]) {
      try {
        Deno.removeSync(this.path + suffix);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
