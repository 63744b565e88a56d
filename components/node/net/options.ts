/**
 * Bitcoin Core v30's peer-to-peer options, which this node, having no
 * peer-to-peer network, takes for compatibility: their declarations
 * ({@linkcode NET_OPTIONS}, Core's help and categories, each saying what
 * the option comes to here), Core's parameter interactions
 * ({@linkcode netParameterInteraction}), Core's startup checks with its
 * texts ({@linkcode checkNetParameters} as `AppInitParameterInteraction`,
 * {@linkcode netOptionsOf} as `AppInitMain`), and the state they feed: the
 * `addnode` list, the network-active switch, the user agent
 * (`-uacomment`), the networks `getnetworkinfo` reports (`-onlynet`,
 * `-proxy`, `-onion`, `-i2psam`, `-cjdnsreachable`), its local addresses
 * (`-externalip`) and the upload target `getnettotals` reports.
 *
 * Host names are not resolved (this node makes no DNS lookups): where
 * Core would look a name up (`-proxy`, `-onion`, `-i2psam`, `-externalip`
 * with `-dns`), a name is taken as given (an `-externalip` name is not
 * listed, having no address here).
 *
 * @example
 * ```ts
 * import { Args } from "../args.ts";
 * import { NET_OPTIONS, netOptionsOf } from "./options.ts";
 * const args = new Args(NET_OPTIONS);
 * args.parseCommandLine(["-uacomment=me", "-onlynet=ipv4", "-addnode=127.0.0.1"]);
 * const net = netOptionsOf(args, "/tmp");
 * if (net.subversion !== "/capdeno:0.1.0(me)/") throw new Error(net.subversion);
 * if (net.networks.find((n) => n.name === "ipv6")!.reachable) throw new Error("onlynet");
 * if (net.addNodes[0] !== "127.0.0.1") throw new Error("addnode");
 * ```
 * @module
 */
import { absolutePath, Args, type ArgSpec, compatibilityHelp } from "../args.ts";
import { HIDDEN, look, type Notice, quoted, StartupError } from "../config.ts";
import { asmapVersion, isSaneAsmap } from "./asmap.ts";
import { type OnionAddress, parseOnion } from "./onion.ts";
import {
  formatIp,
  isRoutable,
  isValidIp,
  lookupHost,
  splitHostPortParts,
  Subnet,
} from "../../rpc/subnet.ts";
import { compareBytes } from "../../bitcoin/bytes.ts";
import { MAX_NODE_LENGTH, REGTEST_P2P_PORT } from "./connman.ts";

/** The networks Core knows, in its order (`GetNetworkNames`). */
export const NETWORKS: readonly string[] = ["ipv4", "ipv6", "onion", "i2p", "cjdns"];

/**
 * Core's `ParseNetwork`: a network name in any case (`tor` is `onion`,
 * deprecated, and `warn` is told so); undefined when unknown.
 */
export function parseNetwork(name: string, warn: (message: string) => void): string | undefined {
  const net = name.replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (net === "tor") {
    warn(
      "Warning: net name 'tor' is deprecated and will be removed in the future. You should use 'onion' instead.",
    );
    return "onion";
  }
  return NETWORKS.includes(net) ? net : undefined;
}

/** Core's `MAX_SUBVERSION_LENGTH`. */
const MAX_SUBVERSION_LENGTH = 256;

/** Core's `SAFE_CHARS_UA_COMMENT`: what a `-uacomment` may hold (BIP 14). */
const UA_COMMENT_CHARS = /^[a-zA-Z0-9 .,;\-_?@]*$/;

/**
 * Core's `FormatSubVersion` for this node: `/capdeno:0.1.0/`, the comments
 * in parentheses, `; `-separated, before the last slash.
 */
export function formatSubVersion(comments: readonly string[]): string {
  return `/capdeno:0.1.0${comments.length > 0 ? `(${comments.join("; ")})` : ""}/`;
}

/** A network as `getnetworkinfo` reports it. */
export interface NetworkState {
  /** `ipv4`, `ipv6`, `onion`, `i2p` or `cjdns`. */
  readonly name: string;
  /** Whether Core would make connections to it (`g_reachable_nets`); `limited` is its negation. */
  readonly reachable: boolean;
  /** The proxy for it as Core prints one (`host:port`, `unix:<path>`), "" for none. */
  readonly proxy: string;
  /** Whether the proxy gets random credentials (`-proxyrandomize`). */
  readonly randomizeCredentials: boolean;
}

/** An address of the node's own, as `getnetworkinfo`'s `localaddresses` lists it. */
export interface LocalAddress {
  /** The address as Core's `ToStringAddr` writes it. */
  readonly address: string;
  /** The port it is advertised with. */
  readonly port: number;
  /** Core's score: `LOCAL_MANUAL` (4) for an `-externalip`, 5 when it is given again. */
  readonly score: number;
}

/** The peer-to-peer options' typed result. */
export interface NetOptions {
  /** `-addnode`: the addnode list the node starts with (never connected). */
  readonly addNodes: readonly string[];
  /** `-v2transport`: the transport the added nodes are kept with. */
  readonly v2transport: boolean;
  /** `-networkactive`: whether network activity starts on (`setnetworkactive` changes it). */
  readonly networkActive: boolean;
  /** The user agent with the `-uacomment` comments (`getnetworkinfo`'s `subversion`). */
  readonly subversion: string;
  /** The networks, in Core's order, as the options leave them. */
  readonly networks: readonly NetworkState[];
  /** `-maxuploadtarget` in bytes (0: none), as `getnettotals` reports it. */
  readonly maxUploadTarget: number;
  /** `-externalip`: the node's own addresses, in Core's order (`mapLocalHost`'s). */
  readonly localAddresses: readonly LocalAddress[];
}

/** The clause each peer-to-peer option's help ends with. */
const NO_P2P = "accepted, as this node has no peer-to-peer network";

/** Core's `MAX_ADDNODE_CONNECTIONS`. */
const MAX_ADDNODE_CONNECTIONS = 8;

/** Core's `NET_PERMISSIONS_DOC`: the permissions `-whitebind` and `-whitelist` grant. */
export const NET_PERMISSIONS_DOC: readonly string[] = [
  "bloomfilter (allow requesting BIP37 filtered blocks and transactions)",
  "noban (do not ban for misbehavior; implies download)",
  "forcerelay (relay transactions that are already in the mempool; implies relay)",
  "relay (relay even in -blocksonly mode, and unlimited transaction announcements)",
  "mempool (allow requesting BIP35 mempool contents)",
  "download (allow getheaders during IBD, no disconnect after maxuploadtarget limit)",
  "addr (responses to GETADDR avoid hitting the cache and contain random records with the most up-to-date info)",
];

/** One peer-to-peer option: Core's declaration; `effect` ends its help (default {@linkcode NO_P2P}). */
type NetSpec = Omit<ArgSpec, "category"> & {
  category?: ArgSpec["category"];
  effect?: string;
};

const SPECS: readonly NetSpec[] = [
  {
    name: "addnode",
    param: "=<ip>",
    help:
      `Add a node to connect to and attempt to keep the connection open (see the addnode RPC help for more info). This option can be specified multiple times to add multiple nodes; connections are limited to ${MAX_ADDNODE_CONNECTIONS} at a time and are counted separately from the -maxconnections limit.`,
    networkOnly: true,
    effect: "taken into the addnode list, as this node has no peer-to-peer network to connect it",
  },
  {
    name: "asmap",
    param: "=<file>",
    help:
      "Specify asn mapping used for bucketing of the peers (default: ip_asn.map). Relative paths will be prefixed by the net-specific datadir location.",
    effect:
      "the file is read and checked as Core checks it; nothing more, as this node has no peers to bucket",
  },
  {
    name: "bind",
    param: "=<addr>[:<port>][=onion]",
    help:
      `Bind to given address and always listen on it (default: 0.0.0.0). Use [host]:port notation for IPv6. Append =onion to tag any incoming connections to that address and port as incoming Tor connections (default: 127.0.0.1:8334=onion, testnet3: 127.0.0.1:18334=onion, testnet4: 127.0.0.1:48334=onion, signet: 127.0.0.1:38334=onion, regtest: 127.0.0.1:${
        REGTEST_P2P_PORT + 1
      }=onion)`,
    networkOnly: true,
  },
  {
    name: "cjdnsreachable",
    help:
      "If set, then this host is configured for CJDNS (connecting to fc00::/8 addresses would lead us to the CJDNS network, see doc/cjdns.md) (default: 0)",
    effect: "getnetworkinfo reports cjdns reachable; no connection is made",
  },
  {
    name: "connect",
    param: "=<ip>",
    help:
      "Connect only to the specified node; -noconnect disables automatic connections (the rules for this peer are the same as for -addnode). This option can be specified multiple times to connect to multiple nodes.",
    networkOnly: true,
  },
  {
    name: "discover",
    help: "Discover own IP addresses (default: 1 when listening and no -externalip or -proxy)",
  },
  { name: "dns", help: "Allow DNS lookups for -addnode, -seednode and -connect (default: 1)" },
  {
    name: "dnsseed",
    help:
      "Query for peer addresses via DNS lookup, if low on addresses (default: 1 unless -connect used or -maxconnections=0)",
  },
  {
    name: "externalip",
    param: "=<ip>",
    help: "Specify your own public address",
    effect: "getnetworkinfo lists it in localaddresses when routable and reachable (a host name, " +
      "unresolved here, is not); nothing is advertised",
  },
  { name: "fixedseeds", help: "Allow fixed seeds if DNS seeds don't provide peers (default: 1)" },
  { name: "forcednsseed", help: "Always query for peer addresses via DNS lookup (default: 0)" },
  {
    name: "i2pacceptincoming",
    help:
      "Whether to accept inbound I2P connections (default: 1). Ignored if -i2psam is not set. Listening for inbound I2P connections is done through the SAM proxy, not by binding to a local address and port.",
  },
  {
    name: "i2psam",
    param: "=<ip:port>",
    help: "I2P SAM proxy to reach I2P peers and accept I2P connections (default: none)",
    effect: "getnetworkinfo reports it as the i2p proxy; no connection is made",
  },
  { name: "listenonion", help: "Automatically create Tor onion service (default: 1)" },
  {
    name: "maxconnections",
    param: "=<n>",
    help:
      `Maintain at most <n> automatic connections to peers (default: 125). This limit does not apply to connections manually added via -addnode or the addnode RPC, which have a separate limit of ${MAX_ADDNODE_CONNECTIONS}.`,
  },
  {
    name: "maxreceivebuffer",
    param: "=<n>",
    help: "Maximum per-connection receive buffer, <n>*1000 bytes (default: 5000)",
  },
  {
    name: "maxsendbuffer",
    param: "=<n>",
    help: "Maximum per-connection memory usage for the send buffer, <n>*1000 bytes (default: 1000)",
  },
  {
    name: "maxuploadtarget",
    param: "=<n>",
    help:
      "Tries to keep outbound traffic under the given target per 24h. Limit does not apply to peers with 'download' permission or blocks created within past week. 0 = no limit (default: 0M). Optional suffix units [k|K|m|M|g|G|t|T] (default: M). Lowercase is 1000 base while uppercase is 1024 base",
    effect: "getnettotals reports it; nothing is ever uploaded",
  },
  {
    name: "natpmp",
    help: "Use PCP or NAT-PMP to map the listening port (default: 1)",
  },
  {
    name: "networkactive",
    help:
      "Enable all P2P network activity (default: 1). Can be changed by the setnetworkactive RPC command",
    effect: "the switch setnetworkactive and getnetworkinfo's networkactive show",
  },
  {
    name: "onion",
    param: "=<ip:port|path>",
    help:
      "Use separate SOCKS5 proxy to reach peers via Tor onion services, set -noonion to disable (default: -proxy). May be a local file path prefixed with 'unix:'.",
    effect: "getnetworkinfo reports it as the onion proxy; no connection is made",
  },
  {
    name: "onlynet",
    param: "=<net>",
    help: `Make automatic outbound connections only to network <net> (${
      NETWORKS.join(", ")
    }). Inbound and manual connections are not affected by this option. It can be specified multiple times to allow multiple networks.`,
    effect: "getnetworkinfo reports the others unreachable; no connection is made",
  },
  {
    name: "peerbloomfilters",
    help: "Support filtering of blocks and transaction with bloom filters (default: 0)",
  },
  {
    name: "peertimeout",
    param: "=<n>",
    help:
      "Specify a p2p connection timeout delay in seconds. After connecting to a peer, wait this amount of time before considering disconnection based on inactivity (minimum: 1, default: 60)",
    debugOnly: true,
  },
  {
    name: "port",
    param: "=<port>",
    help:
      `Listen for connections on <port> (default: 8333, testnet3: 18333, testnet4: 48333, signet: 38333, regtest: ${REGTEST_P2P_PORT}). Not relevant for I2P (see doc/i2p.md). If set to a value x, the default onion listening port will be set to x+1.`,
    networkOnly: true,
  },
  {
    name: "proxy",
    param: "=<ip>[:<port>]|unix:<path>[=<network>]",
    help:
      "Connect through SOCKS5 proxy, set -noproxy to disable. May be a local file path prefixed with 'unix:' if the proxy supports it. Could end in =network to set the proxy only for that network. The network can be any of ipv4, ipv6, tor or cjdns. (default: disabled)",
    needsValue: true,
    effect: "getnetworkinfo reports it as its networks' proxy; no connection is made",
  },
  {
    name: "proxyrandomize",
    help:
      "Randomize credentials for every proxy connection. This enables Tor stream isolation (default: 1)",
  },
  {
    name: "seednode",
    param: "=<ip>",
    help:
      "Connect to a node to retrieve peer addresses, and disconnect. This option can be specified multiple times to connect to multiple nodes. During startup, seednodes will be tried before dnsseeds.",
  },
  {
    name: "timeout",
    param: "=<n>",
    help:
      "Specify socket connection timeout in milliseconds. If an initial attempt to connect is unsuccessful after this amount of time, drop it (minimum: 1, default: 5000)",
  },
  {
    name: "torcontrol",
    param: "=<ip>:<port>",
    help:
      "Tor control host and port to use if onion listening enabled (default: 127.0.0.1:9051). If no port is specified, the default port of 9051 will be used.",
  },
  {
    name: "torpassword",
    param: "=<pass>",
    help: "Tor control port password (default: empty)",
    sensitive: true,
  },
  {
    name: "txreconciliation",
    help: "Enable transaction reconciliations per BIP 330 (default: 0)",
    debugOnly: true,
  },
  { name: "v2transport", help: "Support v2 transport (default: 1)" },
  {
    name: "whitebind",
    param: "=<[permissions@]addr>",
    help:
      `Bind to the given address and add permission flags to the peers connecting to it. Use [host]:port notation for IPv6. Allowed permissions: ${
        NET_PERMISSIONS_DOC.join(", ")
      }. Specify multiple permissions separated by commas (default: download,noban,mempool,relay). Can be specified multiple times.`,
  },
  {
    name: "whitelist",
    param: "=<[permissions@]IP address or network>",
    help:
      'Add permission flags to the peers using the given IP address (e.g. 1.2.3.4) or CIDR-notated network (e.g. 1.2.3.0/24). Uses the same permissions as -whitebind. Additional flags "in" and "out" control whether permissions apply to incoming connections and/or manual (default: incoming only). Can be specified multiple times.',
  },
  {
    name: "whitelistforcerelay",
    help:
      "Add 'forcerelay' permission to whitelisted peers with default permissions. This will relay transactions even if the transactions were already in the mempool. (default: 0)",
    category: "relay",
  },
  {
    name: "whitelistrelay",
    help:
      "Add 'relay' permission to whitelisted peers with default permissions. This will accept relayed transactions even when not relaying transactions (default: 1)",
    category: "relay",
  },
  {
    name: "uacomment",
    param: "=<cmt>",
    help: "Append comment to the user agent string",
    category: "debug",
    effect: "it shows in getnetworkinfo's subversion",
  },
];

/**
 * The peer-to-peer options, with Core v30's help (each ending with what it
 * comes to here) and categories (connection unless Core says otherwise).
 */
export const NET_OPTIONS: readonly ArgSpec[] = SPECS.map(({ effect, category, ...spec }) => ({
  ...spec,
  help: compatibilityHelp(spec.help, effect ?? NO_P2P),
  category: category ?? "connection",
}));

/**
 * Core's `InitParameterInteraction` for the peer-to-peer options: what
 * `-bind`, `-connect`, `-maxconnections=0`, `-proxy`, `-listen=0`,
 * `-externalip`, `-blocksonly`, `-whitelistforcerelay` and `-onlynet` imply for the
 * options left unset, each logged as Core logs it.
 */
export function netParameterInteraction(args: Args, notices: Notice[]): void {
  const set = (name: string, value: boolean, because: string) => {
    if (args.softSet(name, value ? "1" : "0")) {
      notices.push({
        level: "info",
        message: `parameter interaction: ${because} -> setting -${name}=${Number(value)}`,
      });
    }
  };
  if (args.getAll("bind").length > 0) set("listen", true, "-bind set");
  if (args.getAll("whitebind").length > 0) set("listen", true, "-whitebind set");
  if (
    args.getAll("connect").length > 0 || args.isNegated("connect") ||
    args.getInt("maxconnections", 125) <= 0
  ) {
    set("dnsseed", false, "-connect or -maxconnections=0 set");
    set("listen", false, "-connect or -maxconnections=0 set");
  }
  const proxy = args.get("proxy") ?? "";
  if (proxy !== "" && proxy !== "0") {
    set("listen", false, "-proxy set");
    set("natpmp", false, "-proxy set");
    set("discover", false, "-proxy set");
  }
  if (!args.getBool("listen", true)) {
    for (const name of ["natpmp", "discover", "listenonion", "i2pacceptincoming"]) {
      set(name, false, "-listen=0");
    }
  }
  if (args.getAll("externalip").length > 0) set("discover", false, "-externalip set");
  // -blocksonly's other interaction (-maxmempool) is the mempool's.
  if (args.getBool("blocksonly", false)) set("whitelistrelay", false, "-blocksonly=1");
  if (args.getBool("whitelistforcerelay", false)) {
    set("whitelistrelay", true, "-whitelistforcerelay=1");
  }
  const onlynets = args.getAll("onlynet");
  const clearnet = onlynets.some((net) => {
    const parsed = parseNetwork(net, () => {});
    return parsed === "ipv4" || parsed === "ipv6";
  });
  if (onlynets.length > 0 && !clearnet) {
    set("dnsseed", false, "-onlynet excludes IPv4 and IPv6");
  }
}

/**
 * Core's `AppInitParameterInteraction` checks of the peer-to-peer options,
 * in its order, with its texts.
 */
export function checkNetParameters(args: Args): void {
  if (args.getBool("forcednsseed", false) && !args.getBool("dnsseed", true)) {
    throw new StartupError("Cannot set -forcednsseed to true when setting -dnsseed to false.");
  }
  const listen = args.getBool("listen", true);
  if (args.getAll("bind").length + args.getAll("whitebind").length > 0 && !listen) {
    throw new StartupError("Cannot set -bind or -whitebind together with -listen=0");
  }
  if (!listen && args.getBool("listenonion", true)) {
    throw new StartupError("Cannot set -listen=0 together with -listenonion=1");
  }
  if (args.getInt("maxconnections", 125) < 0) {
    throw new StartupError("-maxconnections must be greater or equal than zero");
  }
  if (args.getInt("peertimeout", 60) <= 0) {
    throw new StartupError("peertimeout must be a positive integer.");
  }
}

/** Core's `ByteUnit` multipliers of `ParseByteUnits`. */
const BYTE_UNITS: Record<string, bigint> = {
  k: 1000n,
  K: 1024n,
  m: 1000n ** 2n,
  M: 1024n ** 2n,
  g: 1000n ** 3n,
  G: 1024n ** 3n,
  t: 1000n ** 4n,
  T: 1024n ** 4n,
};

/** Core's `ParseByteUnits` with megabytes by default; undefined when not a size. */
function parseByteUnits(text: string): bigint | undefined {
  const unit = BYTE_UNITS[text.at(-1) ?? ""];
  const digits = unit === undefined ? text : text.slice(0, -1);
  if (!/^[0-9]+$/.test(digits)) return undefined;
  const bytes = BigInt(digits) * (unit ?? BYTE_UNITS.M);
  return bytes < 2n ** 64n ? bytes : undefined;
}

/** Core's `ParseUInt16` taking no 0: a port, or undefined. */
export function parsePort(text: string): number | undefined {
  if (!/^\+?[0-9]+$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** An address Core's `Lookup` reads: `host[:port]`, a numeric IP or, with `names`, a name. */
interface Service {
  readonly host: string;
  readonly ip: Uint8Array | undefined;
  readonly port: number;
}

/** An `-externalip`: a service, or a v3 onion address with its port. */
type LocalService = Service | { readonly onion: OnionAddress; readonly port: number };

/** A host name as DNS allows one (letters, digits, hyphens, dots). */
const HOST_NAME =
  /^(?=.{1,253}$)[a-zA-Z0-9_]([a-zA-Z0-9_-]*[a-zA-Z0-9_])?(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]*[a-zA-Z0-9_])?)*\.?$/;

/**
 * Core's `Lookup(text, port, names)` as far as it goes here: a numeric IP,
 * or with `names` a host name (taken unresolved); undefined otherwise.
 */
function lookupService(text: string, port: number, names: boolean): Service | undefined {
  if (text === "" || text.includes("\0")) return undefined;
  const split = splitHostPortParts(text, port);
  const ip = lookupHost(split.host);
  if (ip !== undefined) return { host: split.host, ip, port: split.port };
  return names && HOST_NAME.test(split.host)
    ? { host: split.host, ip: undefined, port: split.port }
    : undefined;
}

/** Whether Core's `CService::IsValid` would hold (a name stands for an address it resolves to). */
function validService(service: Service | undefined): service is Service {
  return service !== undefined && (service.ip === undefined || isValidIp(service.ip));
}

/** `host:port` as Core's `ToStringAddrPort` writes it (IPv6 in brackets). */
function serviceText({ host, ip, port }: Service): string {
  const address = ip === undefined ? host : formatIp(ip);
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Core's `LOCAL_MANUAL`: the score of an address given by `-externalip`. */
const LOCAL_MANUAL = 4;

/**
 * Core's `GetListenPort`: the port of the first `-bind` that names one,
 * else of the first `-whitebind` without `noban`, else `-port`, else
 * regtest's.
 */
function listenPort(args: Args): number {
  for (const bind of args.getAll("bind")) {
    const port = lookupService(bind, 0, false)?.port ?? 0;
    if (port !== 0) return port;
  }
  for (const whitebind of args.getAll("whitebind")) {
    const at = whitebind.indexOf("@");
    const permissions = whitebind.slice(0, Math.max(at, 0)).split(",");
    const port = lookupService(whitebind.slice(at + 1), 0, false)?.port ?? 0;
    if (port !== 0 && !permissions.some((p) => p === "noban" || p === "all")) return port;
  }
  return parsePort(args.get("port") ?? "") ?? REGTEST_P2P_PORT;
}

/**
 * Core's `AddLocal(LOCAL_MANUAL)` for each `-externalip` (`services`),
 * then `mapLocalHost` in its order: an address is kept when routable and
 * on a reachable network (an IPv6 one in fc00::/8 is CJDNS's when that
 * network is; a v3 onion address is the onion network's), once per
 * address; given again, it scores one more and takes the later port.
 */
function localAddressesOf(
  services: readonly LocalService[],
  reachable: Set<string>,
): LocalAddress[] {
  const kept = new Map<
    string,
    { net: number; bytes: Uint8Array; address: string; port: number; score: number }
  >();
  for (const service of services) {
    const { port } = service;
    let net: string, bytes: Uint8Array, address: string;
    if ("onion" in service) {
      // An onion address is always routable.
      [net, bytes, address] = ["onion", service.onion.key, service.onion.address];
    } else {
      const { ip } = service;
      if (ip === undefined) continue;
      const cjdns = ip.length === 16 && ip[0] === 0xfc && reachable.has("cjdns");
      net = ip.length === 4 ? "ipv4" : cjdns ? "cjdns" : "ipv6";
      if (!cjdns && !isRoutable(ip)) continue;
      [bytes, address] = [ip, formatIp(ip)];
    }
    if (!reachable.has(net)) continue;
    const key = `${net} ${address}`;
    const known = kept.get(key);
    if (known === undefined) {
      kept.set(key, { net: NETWORKS.indexOf(net), bytes, address, port, score: LOCAL_MANUAL });
    } else if (LOCAL_MANUAL >= known.score) {
      known.score = LOCAL_MANUAL + 1;
      known.port = port;
    }
  }
  // mapLocalHost's order: by network, then by address bytes.
  return [...kept.values()]
    .sort((a, b) => a.net - b.net || compareBytes(a.bytes, b.bytes))
    .map(({ address, port, score }) => ({ address, port, score }));
}

/** `value` up to its last `=` (all of it without one), as Core strips a `=<suffix>`. */
const withoutSuffix = (value: string) => {
  const equals = value.lastIndexOf("=");
  return equals < 0 ? value : value.slice(0, equals);
};

/** Core's `IsUnixSocketPath`. */
const isUnixPath = (text: string) => text.startsWith("unix:") && text.length > "unix:".length;

/** Core's `TryParsePermissionFlags`: the text after the permissions, or Core's error. */
function afterPermissions(text: string, whitebind: boolean): string {
  const at = text.indexOf("@");
  if (at < 0) return text;
  const known = ["bloomfilter", "bloom", "noban", "forcerelay", "mempool", "download", "all"];
  let permissions = false;
  let direction = false;
  for (const permission of text.slice(0, at).split(",")) {
    if (permission === "in") direction = true;
    else if (permission === "out") {
      if (whitebind) {
        throw new StartupError(
          'whitebind may only be used for incoming connections ("out" was passed)',
        );
      }
      direction = true;
    } else if ([...known, "relay", "addr"].includes(permission)) permissions = true;
    else if (permission !== "") throw new StartupError(`Invalid P2P permission: '${permission}'`);
  }
  if (direction && !permissions) {
    throw new StartupError(`Only direction was set, no permissions: '${text}'`);
  }
  return text.slice(at + 1);
}

/**
 * Core's reading of `-asmap` (`AppInitMain`, `DecodeAsmap`): the file
 * found (else Core's `Could not find asmap file` error), its program sane
 * (else `Could not parse asmap file`), and the lines Core logs of it; with
 * no `-asmap`, the /16 prefixes. A file outside what the sandbox lets the
 * node read is taken unread, and said so.
 */
function asmapNotices(args: Args, netDir: string): Notice[] {
  if (!args.isSet("asmap") || args.isNegated("asmap")) {
    return [{ level: "info", message: "Using /16 prefix for IP bucketing" }];
  }
  const path = absolutePath(args.getPath("asmap", "ip_asn.map"), netDir);
  const found = look(path);
  if (found === null) throw new StartupError(`Could not find asmap file ${quoted(path)}`);
  if (found === HIDDEN) {
    return [{
      level: "warning",
      message: `asmap file ${
        quoted(path)
      } is outside what the node's sandbox reads; taken unchecked`,
    }];
  }
  let bytes: Uint8Array | undefined;
  try {
    bytes = Deno.readFileSync(path);
  } catch {
    // Core's DecodeAsmap gives nothing for a file it cannot open (a directory, say).
  }
  if (bytes === undefined || !isSaneAsmap(bytes)) {
    throw new StartupError(`Could not parse asmap file ${quoted(path)}`);
  }
  return [
    {
      level: "info",
      message: `Opened asmap file ${quoted(path)} (${bytes.length} bytes) from disk`,
    },
    { level: "info", message: `Using asmap version ${asmapVersion(bytes)} for IP bucketing` },
  ];
}

/**
 * Core's `AppInitMain` checks of the peer-to-peer options, in its order,
 * with its texts, and what they come to; `netDir` is where a relative
 * `-asmap` is looked for. The lines Core logs of them go to `notices`.
 */
export function netOptionsOf(args: Args, netDir: string, notices: Notice[] = []): NetOptions {
  const uploadText = args.get("maxuploadtarget") ?? "0M";
  const maxUploadTarget = parseByteUnits(uploadText);
  if (maxUploadTarget === undefined) {
    throw new StartupError(`Unable to parse -maxuploadtarget: '${uploadText}'`);
  }
  // CheckHostPortOptions (-rpcport and -rpcbind are the RPC server's).
  const portText = args.get("port");
  if (portText !== undefined && parsePort(portText) === undefined) {
    throw new StartupError(`Invalid port specified in -port: '${portText}'`);
  }
  // Each option's unix: support and whether it may end in =<suffix> (-bind's =onion, -proxy's network).
  const hostPortOptions = [
    ["i2psam", false, false],
    ["onion", true, false],
    ["proxy", true, true],
    ["bind", false, true],
    ["torcontrol", false, false],
    ["whitebind", false, false],
  ] as const;
  for (const [name, unix, suffix] of hostPortOptions) {
    for (const value of args.getAll(name)) {
      const hostPort = suffix ? withoutSuffix(value) : value;
      if (!splitHostPortParts(hostPort, 0).valid && !(unix && value.startsWith("unix:"))) {
        throw new StartupError(`Invalid port specified in -${name}: '${value}'`);
      }
    }
  }
  notices.push(...asmapNotices(args, netDir));
  const comments = args.getAll("uacomment");
  for (const comment of comments) {
    if (!UA_COMMENT_CHARS.test(comment)) {
      throw new StartupError(`User Agent comment (${comment}) contains unsafe characters.`);
    }
  }
  const subversion = formatSubVersion(comments);
  if (subversion.length > MAX_SUBVERSION_LENGTH) {
    throw new StartupError(
      `Total length of network version string (${subversion.length}) exceeds maximum length ` +
        `(${MAX_SUBVERSION_LENGTH}). Reduce the number or size of uacomments.`,
    );
  }
  const reachable = new Set(NETWORKS);
  const onlynets = args.getAll("onlynet");
  if (onlynets.length > 0) {
    reachable.clear();
    for (const name of onlynets) {
      const net = parseNetwork(name, () => {});
      if (net === undefined) {
        throw new StartupError(`Unknown network specified in -onlynet: '${name}'`);
      }
      reachable.add(net);
    }
  }
  if (!args.isSet("cjdnsreachable")) {
    if (onlynets.length > 0 && reachable.has("cjdns")) {
      throw new StartupError(
        "Outbound connections restricted to CJDNS (-onlynet=cjdns) but -cjdnsreachable is not provided",
      );
    }
    reachable.delete("cjdns");
  }
  if (
    args.isSet("dnsseed") && args.getBool("dnsseed", true) && !reachable.has("ipv4") &&
    !reachable.has("ipv6")
  ) {
    throw new StartupError(
      "Incompatible options: -dnsseed=1 was explicitly specified, but -onlynet forbids connections to IPv4/IPv6",
    );
  }
  const names = args.getBool("dns", true);
  const randomize = args.getBool("proxyrandomize", true);
  const proxies = new Map<string, { proxy: string; randomize: boolean }>();
  const proxyOf = (name: string, text: string, port: number) => {
    if (isUnixPath(text)) return { proxy: text, randomize };
    const service = lookupService(text, port, names);
    if (!validService(service)) {
      throw new StartupError(`Invalid -${name} address or hostname: '${text}'`);
    }
    return { proxy: serviceText(service), randomize };
  };
  // v30.0's -proxy, for all networks or, ending in =<network>, for one; 0 or "" for none.
  for (const value of args.getAll("proxy")) {
    const equals = value.lastIndexOf("=");
    if (equals >= 0 && equals === value.length - 1) {
      throw new StartupError(`Invalid -proxy address or hostname, ends with '=': '${value}'`);
    }
    const address = withoutSuffix(value);
    const net = equals < 0 ? "" : value.slice(equals + 1).toLowerCase();
    const proxy = address === "" || address === "0" ? undefined : proxyOf("proxy", address, 9050);
    const nets = net === "" ? ["ipv4", "ipv6", "cjdns", "onion"] : [net === "tor" ? "onion" : net];
    if (!nets.every((name) => ["ipv4", "ipv6", "cjdns", "onion"].includes(name))) {
      throw new StartupError(`Unrecognized network in -proxy='${value}': '${net}'`);
    }
    for (const name of nets) {
      if (proxy === undefined) proxies.delete(name);
      else proxies.set(name, proxy);
    }
  }
  let onionProxy = proxies.get("onion");
  proxies.delete("onion");
  const onlyOnion = onlynets.length > 0 && reachable.has("onion");
  const onion = args.get("onion") ?? "";
  if (onion === "0") {
    onionProxy = undefined;
    if (onlyOnion) {
      throw new StartupError(
        "Outbound connections restricted to Tor (-onlynet=onion) but the proxy for reaching the Tor network is explicitly forbidden: -onion=0",
      );
    }
  } else if (onion !== "") onionProxy = proxyOf("onion", onion, 9050);
  if (onionProxy !== undefined) proxies.set("onion", onionProxy);
  else {
    if (onlyOnion && !args.getBool("listenonion", true)) {
      throw new StartupError(
        "Outbound connections restricted to Tor (-onlynet=onion) but the proxy for reaching the Tor network is not provided: none of -proxy, -onion or -listenonion is given",
      );
    }
    reachable.delete("onion");
  }
  const externalIps = args.getAll("externalip").map((address): LocalService => {
    // Core's Lookup reads an onion address itself (SetSpecial), without DNS.
    const { host, port, valid } = splitHostPortParts(address, listenPort(args));
    const onion = valid ? parseOnion(host) : undefined;
    if (onion !== undefined) return { onion, port };
    const service = lookupService(address, listenPort(args), names);
    if (!validService(service)) {
      throw new StartupError(`Cannot resolve -externalip address: '${address}'`);
    }
    return service;
  });
  const localAddresses = localAddressesOf(externalIps, reachable);
  for (const bind of args.getAll("bind")) {
    const address = withoutSuffix(bind);
    if ((address !== bind && !bind.endsWith("=onion")) || !lookupService(address, 0, false)) {
      throw new StartupError(`Cannot resolve -bind address: '${bind}'`);
    }
  }
  for (const whitebind of args.getAll("whitebind")) {
    const address = afterPermissions(whitebind, true);
    const service = lookupService(address, 0, false);
    if (service === undefined) {
      throw new StartupError(`Cannot resolve -whitebind address: '${address}'`);
    }
    if (service.port === 0) {
      throw new StartupError(`Need to specify a port with -whitebind: '${address}'`);
    }
  }
  for (const whitelist of args.getAll("whitelist")) {
    const net = afterPermissions(whitelist, false);
    if (Subnet.parse(net) === undefined) {
      throw new StartupError(`Invalid netmask specified in -whitelist: '${net}'`);
    }
  }
  const i2psam = args.get("i2psam") ?? "";
  if (i2psam !== "") {
    const service = lookupService(i2psam, 7656, names);
    if (!validService(service)) {
      throw new StartupError(`Invalid -i2psam address or hostname: '${i2psam}'`);
    }
    // Core's Proxy{addr}: no random credentials for the SAM proxy.
    proxies.set("i2p", { proxy: serviceText(service), randomize: false });
  } else {
    if (onlynets.length > 0 && reachable.has("i2p")) {
      throw new StartupError(
        "Outbound connections restricted to i2p (-onlynet=i2p) but -i2psam is not provided",
      );
    }
    reachable.delete("i2p");
  }
  const addNodes = args.getAll("addnode");
  if (addNodes.some((node) => node.length > MAX_NODE_LENGTH)) {
    // Not Core's: the addnode list's bound (see connman.ts).
    throw new StartupError(
      `-addnode: node name too long (more than ${MAX_NODE_LENGTH} characters, this node's limit)`,
    );
  }
  return {
    addNodes,
    v2transport: args.getBool("v2transport", true),
    networkActive: args.getBool("networkactive", true),
    subversion,
    networks: NETWORKS.map((name) => ({
      name,
      reachable: reachable.has(name),
      proxy: proxies.get(name)?.proxy ?? "",
      randomizeCredentials: proxies.get(name)?.randomize ?? false,
    })),
    maxUploadTarget: Number(maxUploadTarget),
    localAddresses,
  };
}

/** What the peer-to-peer options come to when none is given (Core's defaults). */
export const DEFAULT_NET_OPTIONS: NetOptions = netOptionsOf(new Args(NET_OPTIONS), "/");
