/**
 * Regtest addresses decoded as Bitcoin Core's `DecodeDestination` decodes
 * them (`key_io.cpp`), with its error texts, and the positions of likely
 * typing errors in a bech32 string as `bech32::LocateErrors` reports them
 * (what `validateaddress` shows as `error_locations`).
 *
 * @example
 * ```ts
 * import { decodeDestination } from "./address.ts";
 * const good = decodeDestination("bcrt1q0xcqpzrky6eff2g52qdye53xkk9jxkvrl4xfg5");
 * if (!good.ok || good.kind !== "witness_v0_keyhash") throw new Error("valid");
 * const bad = decodeDestination("notanaddress");
 * if (bad.ok || bad.error !== "Invalid checksum or length of Base58 address (P2PKH or P2SH)") {
 *   throw new Error("invalid");
 * }
 * ```
 * @module
 */
import { base58 } from "@scure/base";
import { sha256d } from "./hash.ts";
import { REGTEST_NETWORK } from "./params.ts";
import { pushScript } from "./script.ts";

/** What kind of destination an address names (Core's `CTxDestination` alternatives). */
export type DestinationKind =
  | "pubkeyhash"
  | "scripthash"
  | "witness_v0_keyhash"
  | "witness_v0_scripthash"
  | "witness_v1_taproot"
  | "anchor"
  | "witness_unknown";

/** A valid address: its kind and output script (and witness data for segwit ones). */
export interface ValidDestination {
  readonly ok: true;
  readonly kind: DestinationKind;
  /** `GetScriptForDestination`. */
  readonly script: Uint8Array;
  readonly witnessVersion?: number;
  readonly witnessProgram?: Uint8Array;
}

/** An invalid address: Core's error text and bech32 error positions (often empty). */
export interface InvalidDestination {
  readonly ok: false;
  readonly error: string;
  readonly errorLocations: number[];
}

/** The result of {@linkcode decodeDestination}. */
export type Destination = ValidDestination | InvalidDestination;

const BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32_CONST = 1;
const BECH32M_CONST = 0x2bc830a3;
const CHECKSUM_SIZE = 6;
const BECH32_LIMIT = 90;
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** One step of the BCH checksum's polynomial division (`PolyMod`). */
function polymodStep(c: number, value: number): number {
  const top = c >>> 25;
  let next = (((c & 0x1ffffff) << 5) ^ value) >>> 0;
  for (let i = 0; i < 5; i++) if ((top >>> i) & 1) next = (next ^ GENERATOR[i]) >>> 0;
  return next;
}

/** The expanded human-readable part followed by the data values. */
function checksumInput(hrp: string, values: readonly number[]): number[] {
  const out: number[] = [];
  for (const ch of hrp) out.push(ch.charCodeAt(0) >> 5);
  out.push(0);
  for (const ch of hrp) out.push(ch.charCodeAt(0) & 31);
  return out.concat(values);
}

function polymod(input: readonly number[]): number {
  let c = 1;
  for (const v of input) c = polymodStep(c, v);
  return c;
}

const isAsciiSpace = (c: string) => c === " " || (c >= "\t" && c <= "\r");

/** Core's `DecodeBase58`: surrounding white space allowed, at most `maxLength` bytes. */
function decodeBase58(text: string, maxLength: number): Uint8Array | undefined {
  let start = 0;
  let end = text.length;
  while (start < end && isAsciiSpace(text[start])) start++;
  while (end > start && isAsciiSpace(text[end - 1])) end--;
  if (text.includes("\0")) return undefined;
  try {
    const bytes = base58.decode(text.slice(start, end));
    return bytes.length <= maxLength ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** Core's `DecodeBase58Check`: the payload (at most `maxLength` bytes) after a valid checksum. */
function decodeBase58Check(text: string, maxLength: number): Uint8Array | undefined {
  const bytes = decodeBase58(text, maxLength + 4);
  if (!bytes || bytes.length < 4) return undefined;
  const payload = bytes.subarray(0, bytes.length - 4);
  const check = sha256d(payload).subarray(0, 4);
  for (let i = 0; i < 4; i++) if (check[i] !== bytes[payload.length + i]) return undefined;
  return payload;
}

/** Core's `bech32::Decode`: the lower-case hrp, data values and encoding, or undefined. */
function decodeBech32(
  text: string,
): { hrp: string; data: number[]; encoding: "bech32" | "bech32m" } | undefined {
  if (text.length > BECH32_LIMIT || checkCharacters(text).length > 0) return undefined;
  const lower = text.toLowerCase();
  const pos = lower.lastIndexOf("1");
  if (pos <= 0 || pos + CHECKSUM_SIZE >= lower.length) return undefined;
  const values: number[] = [];
  for (const ch of lower.slice(pos + 1)) {
    const value = BECH32_CHARSET.indexOf(ch);
    if (value < 0) return undefined;
    values.push(value);
  }
  const hrp = lower.slice(0, pos);
  const check = polymod(checksumInput(hrp, values));
  const encoding = check === BECH32_CONST ? "bech32" : check === BECH32M_CONST ? "bech32m" : null;
  if (encoding === null) return undefined;
  return { hrp, data: values.slice(0, values.length - CHECKSUM_SIZE), encoding };
}

/** Core's `CheckCharacters`: positions of characters out of range or in the minority case. */
function checkCharacters(text: string): number[] {
  const errors: number[] = [];
  let lower = false;
  let upper = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) {
      if (upper) errors.push(i);
      else lower = true;
    } else if (c >= 0x41 && c <= 0x5a) {
      if (lower) errors.push(i);
      else upper = true;
    } else if (c < 33 || c > 126) {
      errors.push(i);
    }
  }
  return errors;
}

/**
 * Positions of at most two substituted characters that explain a wrong
 * checksum, found from the checksum's residue: an error of value `e`
 * `k` places from the end changes the residue by a fixed amount, so one
 * error is a table look-up and two are a look-up per first candidate.
 * Ascending string positions; empty when no such explanation exists.
 */
function errorPositions(text: string, dataLength: number, residue: number): number[] {
  const effect: number[][] = []; // effect[k][e]
  const step = Array.from({ length: 32 }, (_, e) => e);
  for (let k = 0; k < dataLength; k++) {
    effect.push(step.slice());
    for (let e = 1; e < 32; e++) step[e] = polymodStep(step[e], 0);
  }
  const single = new Map<number, [number, number]>();
  for (let k = 0; k < dataLength; k++) {
    for (let e = 1; e < 32; e++) single.set(effect[k][e], [k, e]);
  }
  const at = (k: number) => text.length - 1 - k;
  const one = single.get(residue);
  if (one) return [at(one[0])];
  const found = new Set<string>();
  for (let k1 = 0; k1 < dataLength; k1++) {
    for (let e1 = 1; e1 < 32; e1++) {
      const other = single.get((residue ^ effect[k1][e1]) >>> 0);
      if (other && other[0] > k1) found.add(`${at(other[0])},${at(k1)}`);
    }
  }
  if (found.size !== 1) return [];
  return [...found][0].split(",").map(Number);
}

/** Core's `bech32::LocateErrors`: why a bech32 string does not decode, and where. */
export function locateBech32Errors(text: string): { error: string; locations: number[] } {
  if (text.length > BECH32_LIMIT) {
    const locations = Array.from(
      { length: text.length - BECH32_LIMIT },
      (_, i) => BECH32_LIMIT + i,
    );
    return { error: "Bech32 string too long", locations };
  }
  const invalid = checkCharacters(text);
  if (invalid.length > 0) return { error: "Invalid character or mixed case", locations: invalid };
  const pos = text.lastIndexOf("1");
  if (pos < 0) return { error: "Missing separator", locations: [] };
  if (pos === 0 || pos + CHECKSUM_SIZE >= text.length) {
    return { error: "Invalid separator position", locations: [pos] };
  }
  const hrp = text.slice(0, pos).toLowerCase();
  const values: number[] = [];
  for (let i = pos + 1; i < text.length; i++) {
    const value = BECH32_CHARSET.indexOf(text[i].toLowerCase());
    if (value < 0) return { error: "Invalid Base 32 character", locations: [i] };
    values.push(value);
  }
  const check = polymod(checksumInput(hrp, values));
  let locations: number[] = [];
  let found: string | undefined;
  for (const [name, constant] of [["Bech32", BECH32_CONST], ["Bech32m", BECH32M_CONST]] as const) {
    const residue = (check ^ constant) >>> 0;
    if (residue === 0) return { error: "", locations: [] };
    const possible = errorPositions(text, values.length, residue);
    if (locations.length === 0 || (possible.length > 0 && possible.length < locations.length)) {
      locations = possible;
      if (locations.length > 0) found = name;
    }
  }
  return { error: found ? `Invalid ${found} checksum` : "Invalid checksum", locations };
}

/** Regroups bits (`ConvertBits<5, 8, false>`): undefined on invalid padding. */
function fromWords(words: readonly number[]): Uint8Array | undefined {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  for (const word of words) {
    acc = ((acc << 5) | word) & 0xfff;
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  if (bits >= 5 || ((acc << (8 - bits)) & 0xff) !== 0) return undefined;
  return Uint8Array.from(out);
}

function witnessScript(version: number, program: Uint8Array): Uint8Array {
  return Uint8Array.of(version === 0 ? 0 : 0x50 + version, ...pushScript(program));
}

function invalid(error: string, errorLocations: number[] = []): InvalidDestination {
  return { ok: false, error, errorLocations };
}

/**
 * Core's `DecodeDestination` on regtest: base58 P2PKH/P2SH (versions 111
 * and 196) and `bcrt` segwit addresses, with Core's error texts.
 */
export function decodeDestination(text: string): Destination {
  const hrp = REGTEST_NETWORK.bech32;
  const isBech32 = text.slice(0, hrp.length).toLowerCase() === hrp;
  if (!isBech32) {
    const data = decodeBase58Check(text, 21);
    if (data) {
      const version = data[0];
      if (data.length === 21 && version === REGTEST_NETWORK.pubKeyHash) {
        const hash = data.subarray(1);
        return {
          ok: true,
          kind: "pubkeyhash",
          script: Uint8Array.of(0x76, 0xa9, 0x14, ...hash, 0x88, 0xac),
        };
      }
      if (data.length === 21 && version === REGTEST_NETWORK.scriptHash) {
        return {
          ok: true,
          kind: "scripthash",
          script: Uint8Array.of(0xa9, 0x14, ...data.subarray(1), 0x87),
        };
      }
      const knownPrefix = data.length >= 1 &&
        (version === REGTEST_NETWORK.pubKeyHash || version === REGTEST_NETWORK.scriptHash);
      return invalid(
        knownPrefix
          ? "Invalid length for Base58 address (P2PKH or P2SH)"
          : "Invalid or unsupported Base58-encoded address.",
      );
    }
    return invalid(
      decodeBase58(text, 100) === undefined
        ? "Invalid or unsupported Segwit (Bech32) or Base58 encoding."
        : "Invalid checksum or length of Base58 address (P2PKH or P2SH)",
    );
  }
  const decoded = decodeBech32(text);
  if (!decoded) {
    const { error, locations } = locateBech32Errors(text);
    return invalid(error, locations);
  }
  if (decoded.data.length === 0) return invalid("Empty Bech32 data section");
  if (decoded.hrp !== hrp) {
    return invalid(
      `Invalid or unsupported prefix for Segwit (Bech32) address (expected ${hrp}, got ${decoded.hrp}).`,
    );
  }
  const version = decoded.data[0];
  if (version === 0 && decoded.encoding !== "bech32") {
    return invalid("Version 0 witness address must use Bech32 checksum");
  }
  if (version !== 0 && decoded.encoding !== "bech32m") {
    return invalid("Version 1+ witness address must use Bech32m checksum");
  }
  const program = fromWords(decoded.data.slice(1));
  if (!program) return invalid("Invalid padding in Bech32 data section");
  const bytes = `${program.length} ${program.length === 1 ? "byte" : "bytes"}`;
  const segwit = (kind: DestinationKind): ValidDestination => ({
    ok: true,
    kind,
    script: witnessScript(version, program),
    witnessVersion: version,
    witnessProgram: program,
  });
  if (version === 0) {
    if (program.length === 20) return segwit("witness_v0_keyhash");
    if (program.length === 32) return segwit("witness_v0_scripthash");
    return invalid(`Invalid Bech32 v0 address program size (${bytes}), per BIP141`);
  }
  if (version === 1 && program.length === 32) return segwit("witness_v1_taproot");
  if (version === 1 && program.length === 2 && program[0] === 0x4e && program[1] === 0x73) {
    return segwit("anchor");
  }
  if (version > 16) return invalid("Invalid Bech32 address witness version");
  if (program.length < 2 || program.length > 40) {
    return invalid(`Invalid Bech32 address program size (${bytes})`);
  }
  return segwit("witness_unknown");
}
