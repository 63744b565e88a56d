/**
 * How Bitcoin Core reads option values, for the node's and the wallet's
 * option parsers alike: `atoi` (`LocaleIndependentAtoi`), a 256-bit hex
 * value (`uint256::FromUserHex`), `-keypool`'s size, and `-walletdir`.
 *
 * @example
 * ```ts
 * import { keypoolSize } from "./options.ts";
 * if (keypoolSize("250") !== 250 || keypoolSize("-3") !== 1) throw new Error();
 * ```
 * @module
 */

import { isAbsolute, resolve } from "node:path";

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * Core's `LocaleIndependentAtoi<int64_t>`: surrounding white space and a
 * leading `+` allowed, digits up to the first other character, 0 when there
 * are none, saturated at the 64-bit range (then rounded to a JS number).
 *
 * @example
 * ```ts
 * import { atoi } from "./options.ts";
 * if (atoi(" 12abc") !== 12 || atoi("true") !== 0 || atoi("+-1") !== 0) throw new Error();
 * ```
 */
export function atoi(text: string): number {
  let s = text.replace(/^[ \f\n\r\t\v]+|[ \f\n\r\t\v]+$/g, "");
  if (s.startsWith("+")) {
    if (s[1] === "-") return 0;
    s = s.slice(1);
  }
  const match = /^-?\d+/.exec(s);
  if (match === null) return 0;
  const value = BigInt(match[0]);
  return Number(value > INT64_MAX ? INT64_MAX : value < INT64_MIN ? INT64_MIN : value);
}

/**
 * Core's `InterpretBool`: empty is true, otherwise a non-zero leading integer.
 *
 * @example
 * ```ts
 * import { interpretBool } from "./options.ts";
 * if (!interpretBool("") || interpretBool("0") || interpretBool("no")) throw new Error();
 * ```
 */
export function interpretBool(text: string): boolean {
  return text === "" || atoi(text) !== 0;
}

/**
 * Core's `uint256::FromUserHex`, as `-assumevalid` and `-minimumchainwork`
 * are read: an optional lower-case `0x`, then up to 64 hex digits (none is
 * 0); the number, or undefined for anything else.
 *
 * @example
 * ```ts
 * import { fromUserHex } from "./options.ts";
 * if (fromUserHex("0x10") !== 16n || fromUserHex("") !== 0n || fromUserHex("0X10") !== undefined) {
 *   throw new Error();
 * }
 * ```
 */
export function fromUserHex(text: string): bigint | undefined {
  const digits = text.startsWith("0x") ? text.slice(2) : text;
  return /^[0-9a-fA-F]{0,64}$/.test(digits) ? BigInt(`0x0${digits}`) : undefined;
}

/**
 * The most keys per chain `-keypool` and `keypoolrefill` take (not Core's
 * bound): a key takes about half a millisecond to derive here, and 8 chains
 * of 10,000 about 40 s.
 */
export const MAX_KEYPOOL = 10_000;

/**
 * `-keypool=<n>`'s size as Core reads it (`max(GetIntArg, 1)`: any text is
 * a number, a negation 0), but at most {@linkcode MAX_KEYPOOL}, past which a
 * one-line error.
 *
 * @example
 * ```ts
 * import { keypoolSize } from "./options.ts";
 * if (keypoolSize("abc") !== 1 || keypoolSize(false) !== 1 || keypoolSize("20x") !== 20) {
 *   throw new Error();
 * }
 * ```
 */
export function keypoolSize(value: string | false): number {
  const size = Math.max(value === false ? 0 : atoi(value), 1);
  if (size > MAX_KEYPOOL) {
    throw new Error(`Invalid -keypool=${value}: at most ${MAX_KEYPOOL} keys here`);
  }
  return size;
}

/**
 * `-walletdir` (`given`, relative paths against `cwd`) as Core's
 * `VerifyWallets` takes it: an existing directory, given as an absolute
 * path, each refused with Core's one-line text; the directory as given
 * (absolute, normalized). Core goes on with the resolved path; here a
 * process may be granted the path as written only (a sandbox's view, a
 * symbolic link to the directory), and Deno checks a path as written.
 *
 * @example
 * ```ts
 * import { walletDirOf } from "./options.ts";
 * const dir = Deno.realPathSync(Deno.makeTempDirSync());
 * if (walletDirOf(dir, "/") !== dir) throw new Error("taken");
 * let refused = "";
 * try {
 *   walletDirOf(`${dir}/missing`, "/");
 * } catch (error) {
 *   refused = (error as Error).message;
 * }
 * if (refused !== `Specified -walletdir "${dir}/missing" does not exist`) throw new Error(refused);
 * Deno.removeSync(dir);
 * ```
 */
export function walletDirOf(given: string, cwd: string): string {
  // Core's fs::canonical("") fails: an empty path names nothing.
  if (given === "") throw new Error(`Specified -walletdir "" does not exist`);
  const path = resolve(cwd, given);
  let info: Deno.FileInfo;
  try {
    // Through a link as written: the process may be granted the path as given only.
    info = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new Error(
        `Specified -walletdir "${given}" is outside what this process may read (grant it read and write)`,
      );
    }
    throw new Error(`Specified -walletdir "${given}" does not exist`);
  }
  if (!info.isDirectory) throw new Error(`Specified -walletdir "${given}" is not a directory`);
  if (!isAbsolute(given)) throw new Error(`Specified -walletdir "${given}" is a relative path`);
  return path;
}
