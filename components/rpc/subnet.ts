/**
 * Addresses for the RPC server as bitcoind takes them: `-rpcallowip`
 * subnets (an IP, `IP/CIDR` or `IP/netmask`, IPv4 or IPv6; 127.0.0.0/8 and
 * ::1 are always allowed) and `-rpcbind` endpoints (`addr[:port]`, IPv6 in
 * brackets when a port follows), with Core's error messages.
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
 * @module
 */

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
   * `::1`, `fe80::/10`; undefined when invalid (bad address, prefix out of
   * range, non-contiguous netmask, mixed families).
   */
  static parse(text: string): Subnet | undefined {
    const slash = text.indexOf("/");
    const address = parseIp(slash < 0 ? text : text.slice(0, slash));
    if (!address) return undefined;
    if (slash < 0) return Subnet.fromPrefix(address, address.length * 8);
    const suffix = text.slice(slash + 1);
    if (/^[0-9]+$/.test(suffix)) {
      const prefix = Number(suffix);
      return prefix <= address.length * 8 ? Subnet.fromPrefix(address, prefix) : undefined;
    }
    const mask = parseIp(suffix);
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
  let rest = text;
  let port = defaultPort;
  let valid = false;
  const colon = text.lastIndexOf(":");
  const bracketed = colon > 0 && text[0] === "[" && text[colon - 1] === "]";
  const multiColon = colon > 0 && text.lastIndexOf(":", colon - 1) >= 0;
  if (colon >= 0 && (colon === 0 || bracketed || !multiColon)) {
    const digits = text.slice(colon + 1);
    if (/^\+?[0-9]+$/.test(digits) && Number(digits) <= 65535) {
      rest = text.slice(0, colon);
      port = Number(digits);
      valid = port !== 0;
    }
  } else {
    valid = true;
  }
  if (!valid) throw new Error(`Invalid port specified in -rpcbind: '${text}'`);
  const host = rest.length > 0 && rest[0] === "[" && rest[rest.length - 1] === "]"
    ? rest.slice(1, -1)
    : rest;
  return { host, port };
}
