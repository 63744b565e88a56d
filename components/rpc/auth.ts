/**
 * RPC authentication as bitcoind does it: the cookie file
 * (`<datadir>/regtest/.cookie`, `__cookie__:` + 64 lower-case hex, no
 * newline, mode 0600, written at start over any stale one and removed on a
 * clean stop), or `-rpcuser`/`-rpcpassword` instead (then no cookie), plus
 * `-rpcauth` entries; HTTP Basic credentials checked in constant time
 * against salted HMAC-SHA256 digests, as Core stores them.
 *
 * @example
 * ```ts
 * import { Credentials } from "./auth.ts";
 * await using creds = await Credentials.create({ netDir: "/nonexistent", user: "u", password: "p" });
 * if (creds.check("Basic " + btoa("u:p")) !== "u") throw new Error("refused");
 * if (creds.check("Basic " + btoa("u:x")) !== undefined) throw new Error("accepted");
 * ```
 *
 * @module
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { trimString } from "./help.ts";

/** The user name of cookie authentication. */
export const COOKIE_USER = "__cookie__";
/** The default cookie file name, relative to the network's data directory. */
export const COOKIE_FILE = ".cookie";

/** Permissions of the cookie file by `-rpccookieperms` value. */
const COOKIE_PERMS = { owner: 0o600, group: 0o640, all: 0o644 } as const;

/** Options mirroring bitcoind's authentication arguments. */
export interface CredentialOptions {
  /** The network's data directory (`<datadir>/regtest`); relative cookie paths resolve against it. */
  readonly netDir: string;
  /** `-rpcuser`. */
  readonly user?: string;
  /** `-rpcpassword`: when set (non-empty), no cookie is written. */
  readonly password?: string;
  /** `-rpcauth` entries: `user:salt$hmac`. */
  readonly rpcauth?: readonly string[];
  /** `-rpccookiefile` (default `.cookie`); `false` for `-norpccookiefile`. */
  readonly cookieFile?: string | false;
  /** `-rpccookieperms`: `owner` (0600, also the default), `group` (0640) or `all` (0644). */
  readonly cookiePerms?: string;
}

interface Credential {
  readonly user: Uint8Array;
  readonly salt: string;
  readonly hash: Uint8Array;
  /** The canonical `Basic <base64(user:pass)>` header, when the password is known. */
  readonly header?: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The accepted credentials, and the cookie file this process wrote (removed on dispose). */
export class Credentials implements AsyncDisposable {
  readonly #credentials: Credential[];
  /** The cookie file written at start, if any. */
  readonly cookiePath: string | undefined;
  #cookieRemoved = false;

  private constructor(credentials: Credential[], cookiePath: string | undefined) {
    this.#credentials = credentials;
    this.cookiePath = cookiePath;
  }

  /**
   * Sets up authentication as Core's `InitRPCAuthentication`: with no
   * password a fresh cookie is written (replacing a stale one); otherwise the
   * user and password. Throws with Core's wording for a bad `-rpccookieperms`
   * or `-rpcauth`, or when the cookie cannot be written.
   */
  static async create(options: CredentialOptions): Promise<Credentials> {
    const credentials: Credential[] = [];
    let cookiePath: string | undefined;
    if (!options.password) {
      let perms: number = COOKIE_PERMS.owner;
      if (options.cookiePerms !== undefined) {
        if (!Object.hasOwn(COOKIE_PERMS, options.cookiePerms)) {
          throw new Error(
            `Invalid -rpccookieperms=${options.cookiePerms}; must be one of 'owner', 'group', or 'all'.`,
          );
        }
        perms = COOKIE_PERMS[options.cookiePerms as keyof typeof COOKIE_PERMS];
      }
      if (options.cookieFile !== false) {
        const path = resolvePath(options.netDir, options.cookieFile || COOKIE_FILE);
        const password = randomHex(32);
        await writeCookie(path, `${COOKIE_USER}:${password}`, perms);
        cookiePath = path;
        credentials.push(credential(COOKIE_USER, password));
      }
    } else {
      credentials.push(credential(options.user ?? "", options.password));
    }
    for (const entry of options.rpcauth ?? []) {
      const fields = entry.split(":");
      const saltHmac = fields[fields.length - 1].split("$");
      if (fields.length !== 2 || saltHmac.length !== 2) {
        throw new Error("Invalid -rpcauth argument.");
      }
      credentials.push({
        user: encoder.encode(fields[0]),
        salt: saltHmac[0],
        hash: encoder.encode(saltHmac[1]),
      });
    }
    return new Credentials(credentials, cookiePath);
  }

  /**
   * The user an `Authorization` header authenticates, or `undefined`
   * (Core's `RPCAuthorized`: `Basic ` exactly, strict base64, a colon, then
   * user and password compared in constant time).
   */
  check(authorization: string): string | undefined {
    if (!authorization.startsWith("Basic ")) return undefined;
    // Fast path: the header exactly as clients write it, compared in constant time.
    const given = encoder.encode(authorization);
    for (const c of this.#credentials) {
      if (c.header && timingResistantEqual(given, c.header)) return decoder.decode(c.user);
    }
    const decoded = decodeBase64(trimString(authorization.slice(6)));
    if (decoded === undefined) return undefined;
    const colon = decoded.indexOf(0x3a);
    if (colon < 0) return undefined;
    const user = decoded.subarray(0, colon);
    const pass = decoded.subarray(colon + 1);
    for (const c of this.#credentials) {
      if (!timingResistantEqual(user, c.user)) continue;
      const digest = encoder.encode(hmacHex(c.salt, pass));
      if (timingResistantEqual(digest, c.hash)) return decoder.decode(user);
    }
    return undefined;
  }

  /** Removes the cookie file this process wrote (Core's `DeleteAuthCookie`); safe to call twice. */
  async removeCookie(): Promise<void> {
    if (this.cookiePath === undefined || this.#cookieRemoved) return;
    this.#cookieRemoved = true;
    try {
      await Deno.remove(this.cookiePath);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }

  /** Same as {@linkcode Credentials.removeCookie}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.removeCookie();
  }
}

function credential(user: string, password: string): Credential {
  const salt = randomHex(16);
  const hash = hmacHex(salt, encoder.encode(password));
  const userPass = encoder.encode(`${user}:${password}`);
  const header = encoder.encode(`Basic ${btoa(String.fromCharCode(...userPass))}`);
  return { user: encoder.encode(user), salt, hash: encoder.encode(hash), header };
}

/** HMAC-SHA256 of `data` keyed with the salt's text, in hex, as Core's `-rpcauth` hashes passwords. */
function hmacHex(salt: string, data: Uint8Array): string {
  return bytesToHex(hmac(sha256, encoder.encode(salt), data));
}

function randomHex(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(raw, (b) => b.toString(16).padStart(2, "0")).join("");
}

function resolvePath(base: string, path: string): string {
  return path.startsWith("/") ? path : `${base.replace(/\/+$/, "")}/${path}`;
}

/** Writes `<path>.tmp` with the given mode, then renames it over `path` (Core's `GenerateAuthCookie`). */
async function writeCookie(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true });
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
    try {
      await Deno.chmod(tmp, 0o600);
      const bytes = encoder.encode(content);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
    } finally {
      file.close();
    }
  } catch (error) {
    throw new Error(`Unable to open cookie authentication file ${tmp} for writing`, {
      cause: error,
    });
  }
  try {
    await Deno.rename(tmp, path);
    await Deno.chmod(path, mode);
  } catch (error) {
    throw new Error(`Unable to rename cookie authentication file ${tmp} to ${path}`, {
      cause: error,
    });
  }
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Core's `DecodeBase64`: length a multiple of 4, at most two `=`, no stray bits; else undefined. */
export function decodeBase64(s: string): Uint8Array | undefined {
  if (s.length % 4 !== 0) return undefined;
  let end = s.length;
  if (end >= 1 && s[end - 1] === "=") end--;
  if (end >= 1 && s[end - 1] === "=") end--;
  const out = new Uint8Array(Math.floor((end * 6) / 8));
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = 0; i < end; i++) {
    const v = BASE64.indexOf(s[i]);
    if (v < 0) return undefined;
    acc = ((acc << 6) | v) & 0x1fff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  if (bits >= 6 || ((acc << (8 - bits)) & 0xff) !== 0) return undefined;
  return out.subarray(0, n);
}

/** Core's `TimingResistantEqual`: compares without an early exit on the first difference. */
export function timingResistantEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (b.length === 0) return a.length === 0;
  let acc = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) acc |= a[i] ^ b[i % b.length];
  return acc === 0;
}
