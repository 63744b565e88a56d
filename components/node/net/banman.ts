/**
 * The node's ban list, as Bitcoin Core's `BanMan` keeps it (`banman.cpp`,
 * `addrdb.cpp`): banned IPs and subnets, each with the time the ban was made
 * and the time it ends, kept in `<datadir>/regtest/banlist.json` in Core's
 * format (`{"banned_nets": [{"version": 1, "ban_created": …, "banned_until":
 * …, "address": "1.2.3.4/32"}]}`, indented by 4, as `WriteSettings` writes
 * it), read at start and written after every change and on stop. Expired
 * bans are swept before the list is listed or written. The node has no
 * peers, so a ban refuses nobody: it is a list `setban`, `listbanned` and
 * `clearbanned` keep.
 *
 * Unlike Core's, the list is bounded ({@linkcode MAX_BANNED} entries): a
 * new ban beyond it is refused, so that RPC callers cannot grow the node's
 * memory and file without limit.
 *
 * @example
 * ```ts
 * import { Subnet } from "../../rpc/subnet.ts";
 * import { BanMan } from "./banman.ts";
 * const dir = Deno.makeTempDirSync();
 * const file = `${dir}/banlist.json`;
 * let now = 1_700_000_000;
 * const banman = new BanMan({ file, now: () => now });
 * banman.ban(Subnet.parse("10.0.0.0/8")!, 0n, false); // the default time: 24 hours
 * if (!banman.isBanned(Subnet.parse("10.1.2.3")!.network)) throw new Error("inside the subnet");
 * const reread = new BanMan({ file, now: () => now });
 * const [entry] = reread.banned();
 * if (entry.subnet.toString() !== "10.0.0.0/8" || entry.until !== 1_700_086_400n) {
 *   throw new Error("the ban survives a restart");
 * }
 * now += 86_401;
 * if (reread.banned().length !== 0) throw new Error("expired bans are swept");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { existsSync } from "node:fs";
import {
  asInt,
  asInt64,
  asStr,
  type Json,
  JsonObject,
  parseJson,
  writeJson,
} from "../../rpc/json.ts";
import { type IpBytes, Subnet } from "../../rpc/subnet.ts";

/** The file's name inside `<datadir>/regtest/`. */
export const BANLIST_FILE = "banlist.json";

/** Core's `-bantime` default (`DEFAULT_MISBEHAVING_BANTIME`): 24 hours, in seconds. */
export const DEFAULT_BAN_TIME = 60 * 60 * 24;

/**
 * The most bans the list holds (this node's limit, not Core's: Core's list
 * has none). A new ban beyond it is refused with {@linkcode BAN_LIST_FULL}.
 */
export const MAX_BANNED = 10_000;

/** What `ban` throws when the list already holds {@linkcode MAX_BANNED} bans (not Core's). */
export const BAN_LIST_FULL =
  `Error: Ban list full (${MAX_BANNED} banned IPs/subnets, this node's limit); ` +
  "remove some with setban remove or clearbanned first";

/** Core's `CBanEntry::CURRENT_VERSION`. */
const BAN_ENTRY_VERSION = 1;
/** The JSON key of the list (`CBanDB::JSON_KEY`). */
const JSON_KEY = "banned_nets";
const INT64_MAX = 2n ** 63n - 1n;

/** One ban (Core's `CBanEntry` with its subnet). */
export interface BanEntry {
  /** The banned IP (a /32 or /128 subnet) or subnet. */
  readonly subnet: Subnet;
  /** When the ban was made, UNIX seconds. */
  readonly created: bigint;
  /** When it ends, UNIX seconds. */
  readonly until: bigint;
}

/** How a {@linkcode BanMan} is set up. */
export interface BanManOptions {
  /** Where the list is kept (`<datadir>/regtest/banlist.json`); none: in memory only. */
  readonly file?: string;
  /** `-bantime`: the ban time in seconds when `setban` gives none ({@linkcode DEFAULT_BAN_TIME}). */
  readonly defaultBanTime?: number;
  /** The clock, UNIX seconds (Core's `GetTime`); the system's by default. */
  readonly now?: () => number;
  /** Writes a line to the node's log. */
  readonly log?: (message: string) => void;
}

/** Core's `BanMan`: the ban list, its file, and its sweeping of expired bans. */
export class BanMan {
  /** Bans by subnet (`CSubNet::ToString` is one to one for IP subnets). */
  readonly #banned = new Map<string, BanEntry>();
  readonly #file: string | undefined;
  readonly #defaultBanTime: bigint;
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  #dirty = false;

  /** Loads the list from `file` (when given) and writes it back swept, as Core's constructor. */
  constructor(options: BanManOptions = {}) {
    this.#file = options.file;
    this.#defaultBanTime = BigInt(options.defaultBanTime ?? DEFAULT_BAN_TIME);
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.#log = options.log ?? (() => {});
    if (this.#file !== undefined) {
      this.#load(this.#file);
      this.dump();
    }
  }

  #time(): bigint {
    return BigInt(this.#now());
  }

  /** The number of bans held (expired ones not yet swept included). */
  get size(): number {
    return this.#banned.size;
  }

  /**
   * Whether a ban in force covers `target`: for an IP, any banned subnet
   * holding it (`IsBanned(CNetAddr)`); for a subnet, a ban of exactly that
   * subnet (`IsBanned(CSubNet)`).
   */
  isBanned(target: IpBytes | Subnet): boolean {
    const now = this.#time();
    if (target instanceof Subnet) {
      const entry = this.#banned.get(target.toString());
      return entry !== undefined && now < entry.until;
    }
    for (const entry of this.#banned.values()) {
      if (now < entry.until && entry.subnet.matches(target)) return true;
    }
    return false;
  }

  /**
   * Core's `BanMan::Ban`: bans `subnet` until `offset` seconds from now, or
   * until the UNIX time `offset` when `sinceEpoch`; an offset of 0 or less
   * is the default ban time from now. An existing ban is replaced only by a
   * longer one. The list is then written. An end beyond the largest 64-bit
   * time is held at it (Core's addition overflows). Throws
   * {@linkcode BAN_LIST_FULL} for a new subnet when the list is full.
   */
  ban(subnet: Subnet, offset: bigint, sinceEpoch: boolean): void {
    const now = this.#time();
    const relative = offset <= 0n ? this.#defaultBanTime : offset;
    const absolute = offset > 0n && sinceEpoch;
    let until = (absolute ? 0n : now) + relative;
    if (until > INT64_MAX) until = INT64_MAX;
    const key = subnet.toString();
    const existing = this.#banned.get(key);
    if (existing === undefined) {
      if (this.#banned.size >= MAX_BANNED) this.#sweep();
      if (this.#banned.size >= MAX_BANNED) throw new Error(BAN_LIST_FULL);
    } else if (existing.until >= until) {
      return;
    }
    this.#banned.set(key, { subnet, created: now, until });
    this.#dirty = true;
    this.dump();
  }

  /** Core's `BanMan::Unban`: lifts the ban of exactly `subnet`; false when there was none. */
  unban(subnet: Subnet): boolean {
    if (!this.#banned.delete(subnet.toString())) return false;
    this.#dirty = true;
    this.dump();
    return true;
  }

  /** Core's `BanMan::ClearBanned`: lifts every ban, and writes the empty list. */
  clear(): void {
    this.#banned.clear();
    this.#dirty = true;
    this.dump();
  }

  /** Core's `BanMan::GetBanned`: the bans after sweeping the expired ones, in Core's map order. */
  banned(): BanEntry[] {
    this.#sweep();
    return [...this.#banned.values()].sort((a, b) => Subnet.compare(a.subnet, b.subnet));
  }

  /**
   * Core's `BanMan::DumpBanlist`: sweeps, then writes the list when it
   * changed since the last write. A failed write is logged and retried at
   * the next one.
   */
  dump(): void {
    const file = this.#file;
    if (file === undefined) return;
    this.#sweep();
    if (!this.#dirty) return;
    const nets = this.banned().map((entry) =>
      new Map<string, bigint | number | string>([
        ["version", BAN_ENTRY_VERSION],
        ["ban_created", entry.created],
        ["banned_until", entry.until],
        ["address", entry.subnet.toString()],
      ])
    );
    try {
      // Written beside the file and renamed over it: never half a list.
      const staged = `${file}.new`;
      Deno.writeTextFileSync(staged, writeJson({ [JSON_KEY]: nets }, 4) + "\n", { mode: 0o600 });
      Deno.renameSync(staged, file);
      this.#dirty = false;
    } catch (error) {
      this.#log(`Error: Unable to write ban list ${file}: ${(error as Error).message}`);
    }
  }

  /** Core's `SweepBanned`: drops the bans that have ended. */
  #sweep(): void {
    const now = this.#time();
    for (const [key, entry] of this.#banned) {
      if (now > entry.until) {
        this.#banned.delete(key);
        this.#dirty = true;
      }
    }
  }

  /**
   * Core's `BanMan::LoadBanlist` with `CBanDB::Read`: the file's bans, or
   * none (logged) when it is missing or cannot be read, which is then
   * written anew.
   */
  #load(file: string): void {
    const legacy = file.replace(/\.json$/, ".dat");
    if (legacy !== file && existsSync(legacy)) {
      this.#log(
        `banlist.dat ignored because it can only be read by Bitcoin Core version 22.x. ` +
          `Remove "${legacy}" to silence this warning.`,
      );
    }
    const read = readBanlist(file);
    if (read.kind === "read") {
      for (const message of read.messages) this.#log(message);
      for (const entry of read.entries) this.#banned.set(entry.subnet.toString(), entry);
      this.#sweep();
      return;
    }
    if (read.kind === "error") this.#log(read.message);
    this.#log("Recreating the banlist database");
    this.#banned.clear();
    this.#dirty = true;
  }
}

/** What reading `banlist.json` gave. */
type BanlistRead =
  | { kind: "missing" }
  | { kind: "error"; message: string }
  | { kind: "read"; entries: BanEntry[]; messages: string[] };

/**
 * Core's `CBanDB::Read`: `ReadSettings`, then `BanMapFromJson` (entries of
 * another version or with an address that does not parse are dropped, with
 * a log line; a later entry for the same subnet replaces an earlier one; a
 * malformed entry fails the whole file, with UniValue's message).
 */
function readBanlist(file: string): BanlistRead {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { kind: "missing" };
    return {
      kind: "error",
      message: `Cannot load banlist ${file}: ${file}. Please check permissions.`,
    };
  }
  let root: Json;
  try {
    root = parseJson(bytes);
  } catch {
    return {
      kind: "error",
      message: `Cannot load banlist ${file}: Settings file ${file} does not contain valid JSON. ` +
        "This is probably caused by disk corruption or a crash, and can be fixed by removing " +
        "the file, which will reset settings to default values.",
    };
  }
  if (!(root instanceof JsonObject)) {
    return {
      kind: "error",
      message: `Cannot load banlist ${file}: Found non-object value ${
        writeJson(root)
      } in settings file ${file}`,
    };
  }
  const seen = new Set<string>();
  for (const key of root.keys) {
    if (seen.has(key)) {
      return {
        kind: "error",
        message: `Cannot load banlist ${file}: Found duplicate key ${key} in settings file ${file}`,
      };
    }
    seen.add(key);
  }
  const entries = new Map<string, BanEntry>();
  const messages: string[] = [];
  try {
    const list = root.get(JSON_KEY) ?? null;
    const items = Array.isArray(list) ? list : list instanceof JsonObject ? list.values : null;
    if (items === null) throw new Error("JSON value is not an object or array as expected");
    for (const item of items) {
      const field = (key: string) => item instanceof JsonObject ? item.get(key) : undefined;
      const version = asInt(field("version"));
      if (version !== BAN_ENTRY_VERSION) {
        messages.push(`Dropping entry with unknown version (${version}) from ban list`);
        continue;
      }
      const address = asStr(field("address"));
      const subnet = Subnet.parse(address);
      if (subnet === undefined) {
        messages.push(
          `Dropping entry with unparseable address or subnet (${address}) from ban list`,
        );
        continue;
      }
      const created = asInt64(field("ban_created"));
      const until = asInt64(field("banned_until"));
      entries.set(subnet.toString(), { subnet, created, until });
    }
  } catch (error) {
    return {
      kind: "error",
      message: `Cannot parse banlist ${file}: ${(error as Error).message}`,
    };
  }
  return { kind: "read", entries: [...entries.values()], messages };
}
