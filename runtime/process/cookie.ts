/**
 * A connection cookie: the credential an operator hands to a process that
 * attaches to a listener on its own, as bitcoind's `.cookie` is for its
 * JSON-RPC. The listener writes a fresh random token (hex, one line) to a
 * file only its user can read (0600) and accepts it from any number of
 * clients for as long as it runs; disposing the cookie removes the file.
 * A client reads it ({@linkcode readCookie}) and presents it as its
 * `connect` token. One-time tokens from a supervisor (`lifeline.ts`) stay
 * what they are; a cookie is for whoever can read the file.
 *
 * @example
 * ```ts
 * import { readCookie, writeCookie } from "./cookie.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using cookie = writeCookie(`${dir}/node.cookie`);
 *   const presented = readCookie(`${dir}/node.cookie`);
 *   if (presented === null || !cookie.accepts(presented)) throw new Error("its own token");
 *   if (cookie.accepts(new Uint8Array(32))) throw new Error("not another");
 * }
 * if (readCookie(`${dir}/node.cookie`) !== null) throw new Error("removed on dispose");
 * Deno.removeSync(dir);
 * ```
 * @module
 */
import { newToken, sameToken, TOKEN_BYTES } from "./lifeline.ts";
import { writeFileAtomic } from "../files.ts";

/** A cookie written by a listener. */
export interface Cookie extends Disposable {
  /** The file holding it. */
  readonly path: string;
  /** Whether `token` is this cookie's. */
  accepts(token: Uint8Array): boolean;
}

/** Writes a fresh cookie to `path` (mode 0600, replacing an old one); dispose removes it. */
export function writeCookie(path: string): Cookie {
  const token = newToken();
  writeFileAtomic(path, `${token.hex}\n`);
  return {
    path,
    accepts: (presented) => presented.length === TOKEN_BYTES && sameToken(presented, token.bytes),
    [Symbol.dispose]() {
      try {
        // Only our own: a newer listener may have replaced the file meanwhile.
        if (Deno.readTextFileSync(path).trim() === token.hex) Deno.removeSync(path);
      } catch { /* gone already */ }
    },
  };
}

/**
 * The token in the cookie file `path`, or null when there is none; throws
 * a one-line error for a file that holds no cookie or cannot be read.
 */
export function readCookie(path: string): Uint8Array | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new Error(`cannot read the cookie ${path}: ${(error as Error).message}`);
  }
  const hex = text.trim();
  if (!new RegExp(`^[0-9a-f]{${TOKEN_BYTES * 2}}$`).test(hex)) {
    throw new Error(`${path} holds no cookie (${TOKEN_BYTES * 2} hex digits)`);
  }
  return Uint8Array.from(hex.match(/../g)!, (byte) => parseInt(byte, 16));
}
