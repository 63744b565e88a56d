/**
 * Numeric network addresses as bitcoind takes them (`netbase.cpp`,
 * `netaddress.cpp`): IPs (`LookupHost` without name lookup), subnets
 * (`LookupSubNet`: an IP, `IP/CIDR` or `IP/netmask`, IPv4 or IPv6, written
 * back as `CSubNet::ToString` writes them), `host[:port]` splitting; used by
 * the RPC server for `-rpcallowip` (127.0.0.0/8 and ::1 are always allowed)
 * and `-rpcbind` endpoints (`addr[:port]`, IPv6 in brackets when a port
 * follows), with Core's error messages, and by the node's ban list.
 *
 * @example
 * ```ts
 * import { AllowList, splitHostPort } from "./subnet.ts";
 * const allow = new AllowList(["10.0.0.0/8"]);
 * if (!allow.allows("127.0.0.2") || !allow.allows("10.1.2.3") || allow.allows("11.0.0.1")) {
 *   throw new Error("wrong");
 * }
 * const { host, port } = splitHostPort("[::1]:18443", 0);
 * if (host !== "::1" || port !== 18443) throw new Error("wrong");
 * ```
 *
 * @example
 * ```ts
 * import { Subnet } from "./subnet.ts";
 * // Core's CSubNet::ToString: the network masked, the netmask as a prefix length.
 * if (Subnet.parse("192.168.7.9/255.255.255.0")?.toString() !== "192.168.7.0/24") {
 *   throw new Error("wrong");
 * }
 * if (Subnet.parse("[2001:db8:0:0:1::1]")?.toString() !== "2001:db8::1:0:0:1/128") {
 *   throw new Error("wrong");
 * }
 * ```
 *
 * @module
 */

import { compareBytes } from "../bitcoin/bytes.ts";

/** An IP address as 4 or 16 bytes. */
export type IpBytes = Uint8Array;

/** Parses a numeric IPv4 or IPv6 address (an IPv4-mapped IPv6 address as IPv4), or undefined. */
export function parseIp(text: string): IpBytes | undefined {
  const v4 = parseIpv4(text);
  if (v4) return v4;
  const v6 = parseIpv6(text);
  if (!v6) return undefined;
  const mapped = v6.subarray(0, 12).every((b, i) => b === (i < 10 ? 0 : 0xff));
  return mapped ? v6.slice(12) : v6;
}

function parseIpv4(text: string): IpBytes | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    if (!/^[0-9]{1,3}$/.test(part) || Number(part) > 255) return undefined;
    out[i] = Number(part);
  }
  return out;
}

function parseIpv6(text: string): IpBytes | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const pieces = half.split(":");
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function hasPrefix(ip: IpBytes, prefix: readonly number[]): boolean {
  return prefix.every((b, i) => ip[i] === b);
}

/** Core's `INTERNAL_IN_IPV6_PREFIX`: fd6b:88c0:8724::/48 holds no IP address. */
const INTERNAL_IN_IPV6_PREFIX = [0xfd, 0x6b, 0x88, 0xc0, 0x87, 0x24];
/** Core's `TORV2_IN_IPV6_PREFIX`: fd87:d87e:eb43::/48 reads as `::`. */
const TORV2_IN_IPV6_PREFIX = [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43];

/**
 * Core's `LookupHost` without name lookup: a numeric IP as {@linkcode parseIp}
 * reads it, also in brackets (`[::1]`); as `CNetAddr::SetLegacyIPv6` reads
 * IPv6, an address in Core's internal range is none and one in the old TORv2
 * range is `::`. Undefined when not an IP.
 */
export function lookupHost(text: string): IpBytes | undefined {
  const host = text.length >= 2 && text[0] === "[" && text[text.length - 1] === "]"
    ? text.slice(1, -1)
    : text;
  const ip = parseIp(host);
  if (ip?.length === 16) {
    if (hasPrefix(ip, INTERNAL_IN_IPV6_PREFIX)) return undefined;
    if (hasPrefix(ip, TORV2_IN_IPV6_PREFIX)) return new Uint8Array(16);
  }
  return ip;
}

/**
 * Core's `CNetAddr::IsValid` for an IP: not `0.0.0.0`, `255.255.255.255`,
 * `::`, nor in the IPv6 documentation range 2001:db8::/32 (RFC 3849).
 */
export function isValidIp(ip: IpBytes): boolean {
  if (ip.length === 4) {
    return !ip.every((b) => b === 0) && !ip.every((b) => b === 0xff);
  }
  return !ip.every((b) => b === 0) && !hasPrefix(ip, [0x20, 0x01, 0x0d, 0xb8]);
}

/**
 * Core's `CNetAddr::IsRoutable` for a valid IP: none of the private,
 * link-local, shared, benchmarking, documentation, unique-local, ORCHID or
 * loopback ranges (RFC 1918, 2544, 3927, 6598, 5737, 4193, 4843, 7343,
 * 4862; 0.0.0.0/8, 127.0.0.0/8, ::1).
 *
 * @example
 * ```ts
 * import { isRoutable, parseIp } from "./subnet.ts";
 * if (!isRoutable(parseIp("1.2.3.4")!) || isRoutable(parseIp("192.168.1.1")!)) throw new Error();
 * ```
 */
export function isRoutable(ip: IpBytes): boolean {
  const [a, b, c, d] = ip;
  if (ip.length === 4) {
    return !(a === 10 || (a === 192 && b === 168) || (a === 172 && b >= 16 && b <= 31) ||
      (a === 198 && (b === 18 || b === 19)) || (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127) || (a === 192 && b === 0 && c === 2) ||
      (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113) ||
      a === 0 || a === 127);
  }
  const orchid = a === 0x20 && b === 0x01 && c === 0x00 &&
    ((d & 0xf0) === 0x10 || (d & 0xf0) === 0x20);
  const linkLocal = hasPrefix(ip, [0xfe, 0x80, 0, 0, 0, 0, 0, 0]);
  const loopback = ip.every((byte, i) => byte === (i === 15 ? 1 : 0));
  return !((a & 0xfe) === 0xfc || orchid || linkLocal || loopback);
}

/**
 * Core's `CNetAddr::ToStringAddr` for an IP: dotted IPv4; IPv6 in lower-case
 * hex groups with the longest run of two or more zero groups (the first of
 * equal runs) written `::`.
 */
export function formatIp(ip: IpBytes): string {
  if (ip.length === 4) return ip.join(".");
  const groups = Array.from({ length: 8 }, (_, i) => (ip[2 * i] << 8) | ip[2 * i + 1]);
  let longest = { start: 0, len: 0 };
  let current = { start: 0, len: 0 };
  for (const [i, group] of groups.entries()) {
    if (group !== 0) {
      current = { start: i + 1, len: 0 };
      continue;
    }
    current.len += 1;
    if (current.len > longest.len) longest = { ...current };
  }
  let out = "";
  for (const [i, group] of groups.entries()) {
    if (longest.len >= 2 && i >= longest.start && i < longest.start + longest.len) {
      if (i === longest.start) out += "::";
      continue;
    }
    out += `${out !== "" && !out.endsWith(":") ? ":" : ""}${group.toString(16)}`;
  }
  return out;
}

/** A network and its mask (Core's `CSubNet`). */
export class Subnet {
  /** The network address bytes (masked). */
  readonly network: IpBytes;
  /** The mask bytes, same length. */
  readonly mask: IpBytes;

  private constructor(network: IpBytes, mask: IpBytes) {
    this.mask = mask;
    this.network = network.map((b, i) => b & mask[i]);
  }

  /** A subnet of `prefix` leading one bits. */
  static fromPrefix(address: IpBytes, prefix: number): Subnet {
    const mask = new Uint8Array(address.length);
    for (let i = 0; i < mask.length; i++) {
      const bits = Math.max(0, Math.min(8, prefix - 8 * i));
      mask[i] = (0xff << (8 - bits)) & 0xff;
    }
    return new Subnet(address, mask);
  }

  /**
   * Core's `LookupSubNet`: `1.2.3.4`, `1.2.3.4/24`, `1.2.3.4/255.255.255.0`,
   * `::1`, `[::1]`, `fe80::/10`; undefined when invalid (bad address, prefix
   * out of range, non-contiguous netmask, mixed families). Each part is read
   * by {@linkcode lookupHost}.
   */
  static parse(text: string): Subnet | undefined {
    const slash = text.lastIndexOf("/");
    const address = lookupHost(slash < 0 ? text : text.slice(0, slash));
    if (!address) return undefined;
    if (slash < 0) return Subnet.fromPrefix(address, address.length * 8);
    const suffix = text.slice(slash + 1);
    // ToIntegral<uint8_t>: digits only, 0 to 255.
    if (/^[0-9]+$/.test(suffix) && Number(suffix) <= 255) {
      const prefix = Number(suffix);
      return prefix <= address.length * 8 ? Subnet.fromPrefix(address, prefix) : undefined;
    }
    const mask = lookupHost(suffix);
    if (!mask || mask.length !== address.length) return undefined;
    let prefix = 0;
    while (prefix < mask.length * 8 && mask[prefix >> 3] & (0x80 >> (prefix & 7))) prefix++;
    const canonical = Subnet.fromPrefix(address, prefix);
    return canonical.mask.every((b, i) => b === mask[i]) ? canonical : undefined;
  }

  /** Whether `address` is inside (same family only). */
  matches(address: IpBytes): boolean {
    if (address.length !== this.network.length) return false;
    return address.every((b, i) => (b & this.mask[i]) === this.network[i]);
  }

  /** The number of leading one bits of the mask. */
  get prefixLength(): number {
    // Masks are contiguous (fromPrefix makes them): counting the one bits is enough.
    let bits = 0;
    for (const b of this.mask) for (let m = b; m !== 0; m &= m - 1) bits++;
    return bits;
  }

  /** Core's `CSubNet::ToString`: the network address, `/`, the prefix length (`10.0.0.0/8`). */
  toString(): string {
    return `${formatIp(this.network)}/${this.prefixLength}`;
  }

  /**
   * Core's `CSubNet` order (`operator<`, the order of its ban map): IPv4
   * before IPv6, then by network bytes, then by mask bytes.
   */
  static compare(a: Subnet, b: Subnet): number {
    return a.network.length - b.network.length || compareBytes(a.network, b.network) ||
      compareBytes(a.mask, b.mask);
  }
}

/** Core's RPC allow list: 127.0.0.0/8 and ::1 always, plus the `-rpcallowip` subnets. */
export class AllowList {
  readonly #subnets: Subnet[];

  /** Throws Core's message for an invalid `-rpcallowip` value. */
  constructor(rpcallowip: readonly string[] = []) {
    this.#subnets = [
      Subnet.fromPrefix(new Uint8Array([127, 0, 0, 1]), 8),
      Subnet.fromPrefix(parseIp("::1")!, 128),
    ];
    for (const entry of rpcallowip) {
      const subnet = Subnet.parse(entry);
      if (!subnet) {
        throw new Error(
          `Invalid -rpcallowip subnet specification: ${entry}. Valid values are a single IP ` +
            "(e.g. 1.2.3.4), a network/netmask (e.g. 1.2.3.4/255.255.255.0), a network/CIDR " +
            "(e.g. 1.2.3.4/24), all ipv4 (0.0.0.0/0), or all ipv6 (::/0). RFC4193 is allowed " +
            "only if -cjdnsreachable=0.",
        );
      }
      this.#subnets.push(subnet);
    }
  }

  /** Whether a client at `hostname` (as Deno reports it) may use the server. */
  allows(hostname: string): boolean {
    const address = parseIp(hostname);
    return address !== undefined && this.#subnets.some((s) => s.matches(address));
  }
}

/**
 * Core's `SplitHostPort`: `host`, `host:port`, `[v6]:port`, or a bare IPv6
 * address (several colons, no brackets: no port). Throws Core's
 * `Invalid port specified in -rpcbind: '<text>'` for a bad or zero port.
 */
export function splitHostPort(text: string, defaultPort: number): { host: string; port: number } {
  const { host, port, valid } = splitHostPortParts(text, defaultPort);
  if (!valid) throw new Error(`Invalid port specified in -rpcbind: '${text}'`);
  return { host, port };
}

/**
 * Core's `SplitHostPort` with its result: the host and port as it leaves
 * them, and whether the port was valid (a port that is not a number up to
 * 65535 stays part of the host; port 0 is taken but not valid).
 */
export function splitHostPortParts(
  text: string,
  defaultPort: number,
): { host: string; port: number; valid: boolean } {
  let rest = text;
  let port = defaultPort;
  let valid = false;
  const colon = text.lastIndexOf(":");
  const bracketed = colon > 0 && text[0] === "[" && text[colon - 1] === "]";
  const multiColon = colon > 0 && text.lastIndexOf(":", colon - 1) >= 0;
  if (colon >= 0 && (colon === 0 || bracketed || !multiColon)) {
    const digits = text.slice(colon + 1);
    // ToIntegral<uint16_t>: digits only.
    if (/^[0-9]+$/.test(digits) && Number(digits) <= 65535) {
      rest = text.slice(0, colon);
      port = Number(digits);
      valid = port !== 0;
    }
  } else {
    valid = true;
  }
  const host = rest.length > 0 && rest[0] === "[" && rest[rest.length - 1] === "]"
    ? rest.slice(1, -1)
    : rest;
  return { host, port, valid };
}
