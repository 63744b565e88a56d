/**
 * Output script descriptors (BIP 380–386) as Bitcoin Core reads and writes
 * the forms a regtest node and a simple wallet need: the checksum, parsing
 * `addr()`, `raw()`, `pk()`, `pkh()`, `wpkh()`, `sh(wpkh())`, `tr(KEY)`,
 * `rawtr()` and `combo()` with hex or WIF keys into their scripts, and
 * inferring the descriptor Core prints for any output script (`desc` in
 * decoded transactions): `addr()`, `raw()`, `pk()`, `multi()`, `rawtr()`,
 * and `wsh(...)` of a known witness script. Extended keys, key origins,
 * script trees and miniscript are refused with a clear message.
 *
 * @example
 * ```ts
 * import { descriptorChecksum, inferDescriptor, parseDescriptor } from "./descriptor.ts";
 * if (descriptorChecksum("raw(deadbeef)") !== "89f8spxm") throw new Error("BIP 380 vector");
 * const { scripts } = parseDescriptor("raw(deadbeef)#89f8spxm", { requireChecksum: true });
 * if (inferDescriptor(scripts[0]) !== "raw(deadbeef)#89f8spxm") throw new Error("round trip");
 * ```
 * @module
 */
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { ripemd160 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { p2tr, WIF } from "@scure/btc-signer";
import { decodeDestination } from "./address.ts";
import { REGTEST_NETWORK, scriptToAddress } from "./params.ts";
import { pushScript } from "./script.ts";
import { isValidPubKeySize, solver } from "./solver.ts";

const INPUT_CHARSET = "0123456789()[],'/*abcdefgh@:$%{}" +
  "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~" +
  'ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];

function polymod(c: bigint, value: number): bigint {
  const top = c >> 35n;
  c = ((c & 0x7ffffffffn) << 5n) ^ BigInt(value);
  for (let i = 0; i < 5; i++) if ((top >> BigInt(i)) & 1n) c ^= GENERATOR[i];
  return c;
}

/** BIP 380's checksum of a descriptor without `#`; "" when it holds characters outside the set. */
export function descriptorChecksum(descriptor: string): string {
  let c = 1n;
  let cls = 0;
  let clsCount = 0;
  for (const ch of descriptor) {
    const pos = INPUT_CHARSET.indexOf(ch);
    if (pos < 0) return "";
    c = polymod(c, pos & 31);
    cls = cls * 3 + (pos >> 5);
    if (++clsCount === 3) {
      c = polymod(c, cls);
      cls = 0;
      clsCount = 0;
    }
  }
  if (clsCount > 0) c = polymod(c, cls);
  for (let j = 0; j < 8; j++) c = polymod(c, 0);
  c ^= 1n;
  let out = "";
  for (let j = 0; j < 8; j++) out += CHECKSUM_CHARSET[Number((c >> BigInt(5 * (7 - j))) & 31n)];
  return out;
}

/** `<descriptor>#<checksum>`. */
export function withChecksum(descriptor: string): string {
  return `${descriptor}#${descriptorChecksum(descriptor)}`;
}

/** A descriptor that does not parse: the message is Core's where Core has one. */
export class DescriptorError extends Error {
  override name = "DescriptorError";
}

/** A parsed descriptor: the output scripts it stands for, in Core's `Expand` order. */
export interface ParsedDescriptor {
  /** The descriptor without checksum. */
  readonly descriptor: string;
  readonly scripts: Uint8Array[];
}

/** Core's `CheckChecksum`: the descriptor part, after the checksum (if any) was verified. */
function checkChecksum(text: string, requireChecksum: boolean): string {
  const parts = text.split("#");
  if (parts.length > 2) throw new DescriptorError("Multiple '#' symbols");
  const [payload, checksum] = parts;
  if (checksum === undefined) {
    if (requireChecksum) throw new DescriptorError("Missing checksum");
    return payload;
  }
  if (checksum.length !== 8) {
    throw new DescriptorError(`Expected 8 character checksum, not ${checksum.length} characters`);
  }
  const computed = descriptorChecksum(payload);
  if (computed === "") throw new DescriptorError("Invalid characters in payload");
  if (computed !== checksum) {
    throw new DescriptorError(
      `Provided checksum '${checksum}' does not match computed checksum '${computed}'`,
    );
  }
  return payload;
}

function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}

/** A public key from hex or (regtest) WIF; 32-byte x-only for `tr()`/`rawtr()`. */
function parseKey(text: string, context: string, xonly = false): Uint8Array {
  if (/^([0-9a-fA-F]{2})+$/.test(text)) {
    const key = hex.decode(text.toLowerCase());
    if (xonly && key.length === 32) return key;
    if (!xonly && isValidPubKeySize(key) && key[0] !== 0x06 && key[0] !== 0x07) {
      if (context === "wpkh" && key.length === 65) {
        throw new DescriptorError("Uncompressed keys are not allowed");
      }
      return key;
    }
    if (xonly && key.length === 33 && (key[0] === 0x02 || key[0] === 0x03)) return key.subarray(1);
    throw new DescriptorError(`Pubkey '${text}' is invalid`);
  }
  let secret: Uint8Array;
  try {
    secret = WIF(REGTEST_NETWORK).decode(text);
  } catch {
    if (/^[tx](pub|prv)/.test(text)) {
      throw new DescriptorError(
        `key '${text}': extended keys are not supported by this node's descriptors`,
      );
    }
    throw new DescriptorError(`key '${text}' is not valid`);
  }
  return xonly ? schnorr.getPublicKey(secret) : secp256k1.getPublicKey(secret, true);
}

function p2pkScript(key: Uint8Array): Uint8Array {
  return Uint8Array.of(...pushScript(key), 0xac);
}

function p2pkhScript(key: Uint8Array): Uint8Array {
  return Uint8Array.of(0x76, 0xa9, 0x14, ...hash160(key), 0x88, 0xac);
}

function p2wpkhScript(key: Uint8Array): Uint8Array {
  return Uint8Array.of(0x00, 0x14, ...hash160(key));
}

function p2shScript(script: Uint8Array): Uint8Array {
  return Uint8Array.of(0xa9, 0x14, ...hash160(script), 0x87);
}

/** `name(arg)` → [name, arg], or undefined when `text` is not a call. */
function call(text: string): [string, string] | undefined {
  const open = text.indexOf("(");
  if (open <= 0 || !text.endsWith(")")) return undefined;
  return [text.slice(0, open), text.slice(open + 1, -1)];
}

/** The scripts of a top-level (or `sh()`-wrapped, when `inSh`) descriptor expression. */
function expand(expression: string, inSh: boolean): Uint8Array[] {
  const parsed = call(expression);
  if (!parsed) {
    throw new DescriptorError(`'${expression}' is not a valid descriptor function`);
  }
  const [name, arg] = parsed;
  switch (name) {
    case "addr": {
      if (inSh) throw new DescriptorError("Can only have addr() at top level");
      const dest = decodeDestination(arg);
      if (!dest.ok) throw new DescriptorError("Address is not valid");
      return [dest.script];
    }
    case "raw": {
      if (inSh) throw new DescriptorError("Can only have raw() at top level");
      if (!/^([0-9a-fA-F]{2})*$/.test(arg)) throw new DescriptorError("Raw script is not hex");
      return [hex.decode(arg.toLowerCase())];
    }
    case "pk":
      return [p2pkScript(parseKey(arg, name))];
    case "pkh":
      return [p2pkhScript(parseKey(arg, name))];
    case "wpkh":
      return [p2wpkhScript(parseKey(arg, name))];
    case "sh": {
      if (inSh) throw new DescriptorError("Can only have sh() at top level");
      return expand(arg, true).map(p2shScript);
    }
    case "tr": {
      if (inSh) throw new DescriptorError("Can only have tr() at top level");
      if (arg.includes(",")) {
        throw new DescriptorError("tr() with a script tree is not supported by this node");
      }
      return [p2tr(parseKey(arg, name, true)).script];
    }
    case "rawtr": {
      if (inSh) throw new DescriptorError("Can only have rawtr at top level");
      return [Uint8Array.of(0x51, 0x20, ...parseKey(arg, name, true))];
    }
    case "combo": {
      if (inSh) throw new DescriptorError("Can only have combo() at top level");
      const key = parseKey(arg, name);
      const scripts = [p2pkScript(key), p2pkhScript(key)];
      if (key.length === 33) scripts.push(p2wpkhScript(key), p2shScript(p2wpkhScript(key)));
      return scripts;
    }
    default:
      throw new DescriptorError(`'${expression}' is not a valid descriptor function`);
  }
}

/**
 * Parses a descriptor (Core's `Parse`) into its scripts. Throws
 * {@linkcode DescriptorError} with Core's checksum messages, or a clear
 * message for forms this node does not support.
 */
export function parseDescriptor(
  text: string,
  options: { requireChecksum?: boolean } = {},
): ParsedDescriptor {
  const descriptor = checkChecksum(text, options.requireChecksum ?? false);
  return { descriptor, scripts: expand(descriptor, false) };
}

/** Scripts a descriptor inference may resolve inside `wsh()` (Core's signing provider). */
export interface ScriptProvider {
  /** The witness script hashing (SHA-256) to `hash`, if known. */
  witnessScript?(hash: Uint8Array): Uint8Array | undefined;
}

/** Core's `InferScript` below the top level: `pk()`, `multi()`, or nothing. */
function inferInner(script: Uint8Array, segwit: boolean): string | undefined {
  const { type, solutions } = solver(script);
  // Core's `InferPubkey`: no hybrid keys, and only compressed ones inside segwit.
  const usable = (key: Uint8Array) =>
    key[0] !== 0x06 && key[0] !== 0x07 && (!segwit || key.length === 33);
  if (type === "pubkey") {
    return usable(solutions[0]) ? `pk(${hex.encode(solutions[0])})` : undefined;
  }
  if (type === "multisig") {
    const keys = solutions.slice(1, -1);
    if (!keys.every(usable)) return undefined;
    return `multi(${solutions[0][0]},${keys.map((key) => hex.encode(key)).join(",")})`;
  }
  return undefined;
}

/**
 * The descriptor Core infers for an output script (`InferDescriptor(...)
 * .ToString()`), checksum included: `pk()`, `multi()`, `rawtr()` for a valid
 * x-only key, `wsh(pk|multi)` when `provider` knows the witness script, an
 * `addr()` for anything with an address, else `raw()`.
 */
export function inferDescriptor(script: Uint8Array, provider: ScriptProvider = {}): string {
  const { type, solutions } = solver(script);
  let inferred: string | undefined;
  if (type === "pubkey" || type === "multisig") inferred = inferInner(script, false);
  if (type === "witness_v0_scripthash") {
    const sub = provider.witnessScript?.(solutions[0]);
    const inner = sub && inferInner(sub, true);
    if (inner) inferred = `wsh(${inner})`;
  }
  if (type === "witness_v1_taproot" && isValidXOnly(solutions[0])) {
    inferred = `rawtr(${hex.encode(solutions[0])})`;
  }
  if (inferred === undefined) {
    const address = scriptToAddress(script);
    inferred = address !== undefined ? `addr(${address})` : `raw(${hex.encode(script)})`;
  }
  return withChecksum(inferred);
}

/** Whether 32 bytes are the x coordinate of a curve point (`XOnlyPubKey::IsFullyValid`). */
function isValidXOnly(key: Uint8Array): boolean {
  try {
    schnorr.utils.lift_x(BigInt("0x" + hex.encode(key)));
    return true;
  } catch {
    return false;
  }
}
