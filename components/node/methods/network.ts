/**
 * The `network` methods this node serves (`rpc/net.cpp`): getnetworkinfo,
 * getconnectioncount, getpeerinfo, getnettotals, addnode, getaddednodeinfo,
 * disconnectnode, ping, setban, listbanned, clearbanned, setnetworkactive,
 * getnodeaddresses and getaddrmaninfo. The node has no peer-to-peer
 * network: it reports no connections, no peers, no traffic, no known
 * addresses, no local services and no local addresses, with bitcoind's
 * shapes and key order; the relay fees are the mempool's. What Core keeps
 * without peers is kept as Core keeps it (`net/mod.ts`): the ban list, in
 * `banlist.json` across restarts; the `addnode` list (never connected); the
 * network-active switch. Arguments are checked, and errors raised, as
 * Core's methods do, with its help texts.
 *
 * `nodeMethods` (`mod.ts`, whose example runs it) adds `networkMethods(…)` to the
 * server's table with the others.
 * @module
 */
import {
  Amount,
  asBool,
  asInt,
  asInt64,
  asStr,
  defineMethod,
  helpExampleCli,
  helpExampleRpc,
  type JsonInput,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { isValidIp, lookupHost, Subnet } from "../../rpc/subnet.ts";
import {
  amount,
  arr,
  bool,
  CURRENCY_UNIT,
  hexStr,
  num,
  obj,
  objDyn,
  str,
  time,
  warningsDoc,
} from "./docs.ts";
import type { NodeServices } from "./services.ts";
import { NET_PERMISSIONS_DOC, NETWORKS, parseNetwork } from "../net/options.ts";

/** The RPC API level this node implements: Bitcoin Core v30.0's (`CLIENT_VERSION`). */
export const API_VERSION = 300000;
/** Core's `PROTOCOL_VERSION`. */
export const PROTOCOL_VERSION = 70016;
/** `CONNECTION_TYPE_DOC`. */
const CONNECTION_TYPE_DOC = [
  "outbound-full-relay (default automatic connections)",
  "block-relay-only (does not relay transactions or addresses)",
  "inbound (initiated by the peer)",
  "manual (added via addnode RPC or -addnode/-connect configuration options)",
  "addr-fetch (short-lived automatic connection for soliciting addresses)",
  "feeler (short-lived automatic connection for testing addresses)",
];

/** `TRANSPORT_TYPE_DOC`. */
const TRANSPORT_TYPE_DOC = [
  "detecting (peer could be v1 or v2)",
  "v1 (plaintext transport protocol)",
  "v2 (BIP324 encrypted transport protocol)",
];

/** Core's `MAX_ADDNODE_CONNECTIONS`. */
const MAX_ADDNODE_CONNECTIONS = 8;

/** Core's `-maxuploadtarget` timeframe: a day. */
const UPLOAD_TIMEFRAME = 60 * 60 * 24;

/** Core's `MAX_BLOCK_SERIALIZED_SIZE`, what a block may take to upload. */
const MAX_BLOCK_SERIALIZED_SIZE = 4_000_000;

/** getpeerinfo's documented peer object (there are never any peers to fill it). */
function peerDoc() {
  return obj("", "", [
    num("id", "Peer index"),
    str("addr", "(host:port) The IP address/hostname optionally followed by :port of the peer"),
    str("addrbind", "(ip:port) Bind address of the connection to the peer", true),
    str("addrlocal", "(ip:port) Local address as reported by the peer", true),
    str("network", `Network (${[...NETWORKS, "not_publicly_routable"].join(", ")})`),
    num(
      "mapped_as",
      "Mapped AS (Autonomous System) number at the end of the BGP route to the peer, used for diversifying\n" +
        "peer selection (only displayed if the -asmap config option is set)",
      true,
    ),
    hexStr("services", "The services offered"),
    arr("servicesnames", "the services offered, in human-readable form", [
      str("SERVICE_NAME", "the service name if it is recognised"),
    ]),
    bool("relaytxes", "Whether we relay transactions to this peer"),
    time("lastsend", "The UNIX epoch time of the last send"),
    time("lastrecv", "The UNIX epoch time of the last receive"),
    time(
      "last_transaction",
      "The UNIX epoch time of the last valid transaction received from this peer",
    ),
    time("last_block", "The UNIX epoch time of the last block received from this peer"),
    num("bytessent", "The total bytes sent"),
    num("bytesrecv", "The total bytes received"),
    time("conntime", "The UNIX epoch time of the connection"),
    num("timeoffset", "The time offset in seconds"),
    num("pingtime", "The last ping time in seconds, if any", true),
    num("minping", "The minimum observed ping time in seconds, if any", true),
    num("pingwait", "The duration in seconds of an outstanding ping (if non-zero)", true),
    num("version", "The peer version, such as 70001"),
    str("subver", "The string version"),
    bool("inbound", "Inbound (true) or Outbound (false)"),
    bool("bip152_hb_to", "Whether we selected peer as (compact blocks) high-bandwidth peer"),
    bool("bip152_hb_from", "Whether peer selected us as (compact blocks) high-bandwidth peer"),
    num(
      "presynced_headers",
      "The current height of header pre-synchronization with this peer, or -1 if no low-work sync is in progress",
    ),
    num("synced_headers", "The last header we have in common with this peer"),
    num("synced_blocks", "The last block we have in common with this peer"),
    arr("inflight", "", [num("n", "The heights of blocks we're currently asking from this peer")]),
    bool("addr_relay_enabled", "Whether we participate in address relay with this peer"),
    num(
      "addr_processed",
      "The total number of addresses processed, excluding those dropped due to rate limiting",
    ),
    num("addr_rate_limited", "The total number of addresses dropped due to rate limiting"),
    arr("permissions", "Any special permissions that have been granted to this peer", [
      str("permission_type", NET_PERMISSIONS_DOC.join(",\n") + ".\n"),
    ]),
    num("minfeefilter", "The minimum fee rate for transactions this peer accepts"),
    objDyn("bytessent_per_msg", "", [
      num(
        "msg",
        "The total bytes sent aggregated by message type\n" +
          "When a message type is not listed in this json object, the bytes sent are 0.\n" +
          "Only known message types can appear as keys in the object.",
      ),
    ]),
    objDyn("bytesrecv_per_msg", "", [
      num(
        "msg",
        "The total bytes received aggregated by message type\n" +
          "When a message type is not listed in this json object, the bytes received are 0.\n" +
          "Only known message types can appear as keys in the object and all bytes received\n" +
          "of unknown message types are listed under '*other*'.",
      ),
    ]),
    str(
      "connection_type",
      "Type of connection: \n" + CONNECTION_TYPE_DOC.join(",\n") + ".\n" +
        "Please note this output is unlikely to be stable in upcoming releases as we iterate to\n" +
        "best capture connection behaviors.",
    ),
    str(
      "transport_protocol_type",
      "Type of transport protocol: \n" + TRANSPORT_TYPE_DOC.join(",\n") + ".\n",
    ),
    str(
      "session_id",
      'The session ID for this connection, or "" if there is none ("v2" transport protocol only).\n',
    ),
  ]);
}

/** The network methods. */
export function networkMethods(node: NodeServices): RpcMethod[] {
  return [
    defineMethod({
      name: "getpeerinfo",
      category: "network",
      description: "Returns data about each connected network peer as a json array of objects.",
      result: arr("", "", [peerDoc()]),
      examples: helpExampleCli("getpeerinfo", "") + helpExampleRpc("getpeerinfo", ""),
      handler: () => [],
    }),
    defineMethod({
      name: "ping",
      category: "network",
      description: "Requests that a ping be sent to all other nodes, to measure ping time.\n" +
        "Results are provided in getpeerinfo.\n" +
        "Ping command is handled in queue with all other commands, so it measures processing backlog, not just network ping.\n",
      result: { type: "none", description: "" },
      examples: helpExampleCli("ping", "") + helpExampleRpc("ping", ""),
      // No peers to ping.
      handler: () => null,
    }),
    defineMethod({
      name: "getnettotals",
      category: "network",
      description: "Returns information about network traffic, including bytes in, bytes out,\n" +
        "and current system time.",
      result: obj("", "", [
        num("totalbytesrecv", "Total bytes received"),
        num("totalbytessent", "Total bytes sent"),
        time("timemillis", "Current system UNIX epoch time in milliseconds"),
        obj("uploadtarget", "", [
          num("timeframe", "Length of the measuring timeframe in seconds"),
          num("target", "Target in bytes"),
          bool("target_reached", "True if target is reached"),
          bool("serve_historical_blocks", "True if serving historical blocks"),
          num("bytes_left_in_cycle", "Bytes left in current time cycle"),
          num("time_left_in_cycle", "Seconds left in current time cycle"),
        ]),
      ]),
      examples: helpExampleCli("getnettotals", "") + helpExampleRpc("getnettotals", ""),
      handler: () => {
        // Core's CConnman with nothing sent: a target's cycle has not started (a whole day left),
        // and historical blocks are served while the target exceeds a day's worth of blocks.
        const target = node.net.maxUploadTarget;
        return new Map<string, JsonInput>([
          ["totalbytesrecv", 0],
          ["totalbytessent", 0],
          ["timemillis", Date.now()],
          [
            "uploadtarget",
            new Map<string, JsonInput>([
              ["timeframe", UPLOAD_TIMEFRAME],
              ["target", target],
              ["target_reached", false],
              [
                "serve_historical_blocks",
                target === 0 || target > UPLOAD_TIMEFRAME / 600 * MAX_BLOCK_SERIALIZED_SIZE,
              ],
              ["bytes_left_in_cycle", target],
              ["time_left_in_cycle", target === 0 ? 0 : UPLOAD_TIMEFRAME],
            ]),
          ],
        ]);
      },
    }),
    defineMethod({
      name: "getaddednodeinfo",
      category: "network",
      description: "Returns information about the given added node, or all added nodes\n" +
        "(note that onetry addnodes are not listed here)\n",
      args: [{
        name: "node",
        type: "str",
        defaultHint: "all nodes",
        description:
          "If provided, return information about this specific node, otherwise all nodes are returned.",
      }],
      result: arr("", "", [
        obj("", "", [
          str("addednode", "The node IP address or name (as provided to addnode)"),
          bool("connected", "If connected"),
          arr("addresses", "Only when connected = true", [
            obj("", "", [
              str("address", "The bitcoin server IP and port we're connected to"),
              str("connected", "connection, inbound or outbound"),
            ]),
          ]),
        ]),
      ]),
      examples: helpExampleCli("getaddednodeinfo", '"192.168.0.201"') +
        helpExampleRpc("getaddednodeinfo", '"192.168.0.201"'),
      handler(params) {
        // Every added node, none connected (there are no peers).
        let added = node.connman.addedNodes();
        const wanted = params.maybe("node", asStr);
        if (wanted !== undefined) {
          added = added.filter((a) => a.node === wanted).slice(0, 1);
          if (added.length === 0) {
            throw new RpcError(
              RpcErrorCode.CLIENT_NODE_NOT_ADDED,
              "Error: Node has not been added.",
            );
          }
        }
        return added.map((a) =>
          new Map<string, JsonInput>([
            ["addednode", a.node],
            ["connected", false],
            ["addresses", []],
          ])
        );
      },
    }),
    defineMethod({
      name: "getconnectioncount",
      category: "network",
      description: "Returns the number of connections to other nodes.\n",
      result: num("", "The connection count"),
      examples: helpExampleCli("getconnectioncount", "") +
        helpExampleRpc("getconnectioncount", ""),
      handler: () => 0,
    }),
    defineMethod({
      name: "getnetworkinfo",
      category: "network",
      description: "Returns an object containing various state info regarding P2P networking.\n",
      result: obj("", "", [
        num("version", "the server version"),
        str("subversion", "the server subversion string"),
        num("protocolversion", "the protocol version"),
        hexStr("localservices", "the services we offer to the network"),
        arr("localservicesnames", "the services we offer to the network, in human-readable form", [
          str("SERVICE_NAME", "the service name"),
        ]),
        bool("localrelay", "true if transaction relay is requested from peers"),
        num("timeoffset", "the time offset"),
        num("connections", "the total number of connections"),
        num("connections_in", "the number of inbound connections"),
        num("connections_out", "the number of outbound connections"),
        bool("networkactive", "whether p2p networking is enabled"),
        arr("networks", "information per network", [
          obj("", "", [
            str("name", "network (ipv4, ipv6, onion, i2p, cjdns)"),
            bool("limited", "is the network limited using -onlynet?"),
            bool("reachable", "is the network reachable?"),
            str(
              "proxy",
              '("host:port") the proxy that is used for this network, or empty if none',
            ),
            bool("proxy_randomize_credentials", "Whether randomized credentials are used"),
          ]),
        ]),
        amount("relayfee", `minimum relay fee rate for transactions in ${CURRENCY_UNIT}/kvB`),
        amount(
          "incrementalfee",
          `minimum fee rate increment for mempool limiting or replacement in ${CURRENCY_UNIT}/kvB`,
        ),
        arr("localaddresses", "list of local addresses", [
          obj("", "", [
            str("address", "network address"),
            num("port", "network port"),
            num("score", "relative score"),
          ]),
        ]),
        warningsDoc(node.deprecatedRpc),
      ]),
      examples: helpExampleCli("getnetworkinfo", "") + helpExampleRpc("getnetworkinfo", ""),
      handler() {
        const policy = node.mempool.policy;
        return new Map<string, JsonInput>([
          ["version", API_VERSION],
          ["subversion", node.net.subversion],
          ["protocolversion", PROTOCOL_VERSION],
          ["localservices", "0000000000000000"],
          ["localservicesnames", []],
          ["localrelay", !node.blocksOnly],
          ["timeoffset", 0],
          ["networkactive", node.connman.networkActive],
          ["connections", 0],
          ["connections_in", 0],
          ["connections_out", 0],
          [
            "networks",
            node.net.networks.map((net) =>
              new Map<string, JsonInput>([
                ["name", net.name],
                ["limited", !net.reachable],
                ["reachable", net.reachable],
                ["proxy", net.proxy],
                ["proxy_randomize_credentials", net.randomizeCredentials],
              ])
            ),
          ],
          ["relayfee", new Amount(policy.minRelayFeeRate)],
          ["incrementalfee", new Amount(policy.incrementalRelayFeeRate)],
          [
            "localaddresses",
            node.net.localAddresses.map(({ address, port, score }) =>
              new Map<string, JsonInput>([["address", address], ["port", port], ["score", score]])
            ),
          ],
          ["warnings", node.warnings.forRpc(node.deprecatedRpc)],
        ]);
      },
    }),
    addnodeMethod(node),
    disconnectnodeMethod(),
    setbanMethod(node),
    listbannedMethod(node),
    clearbannedMethod(node),
    setnetworkactiveMethod(node),
    getnodeaddressesMethod(node),
    getaddrmaninfoMethod(),
  ];
}

/** `addnode`: keeps the added-node list; `onetry` has nothing to try (no peer-to-peer network). */
function addnodeMethod(node: NodeServices): RpcMethod {
  const method: RpcMethod = defineMethod({
    name: "addnode",
    category: "network",
    description: "Attempts to add or remove a node from the addnode list.\n" +
      "Or try a connection to a node once.\n" +
      "Nodes added using addnode (or -connect) are protected from DoS disconnection and are not required to be\n" +
      "full nodes/support SegWit as other outbound peers are (though such peers will not be synced from).\n" +
      `Addnode connections are limited to ${MAX_ADDNODE_CONNECTIONS} at a time` +
      " and are counted separately from the -maxconnections limit.\n",
    args: [
      {
        name: "node",
        type: "str",
        description:
          "The IP address/hostname optionally followed by :port of the peer to connect to",
      },
      {
        name: "command",
        type: "str",
        description:
          "'add' to add a node to the list, 'remove' to remove a node from the list, 'onetry' to try a connection to the node once",
      },
      {
        name: "v2transport",
        type: "bool",
        defaultHint: "set by -v2transport",
        description:
          "Attempt to connect using BIP324 v2 transport protocol (ignored for 'remove' command)",
      },
    ],
    result: { type: "none", description: "" },
    examples: helpExampleCli("addnode", '"192.168.0.6:8333" "onetry" true') +
      // Core's example lacks the comma before `true`; kept as Core prints it.
      helpExampleRpc("addnode", '"192.168.0.6:8333", "onetry" true'),
    handler(params) {
      const command = params.arg("command", asStr);
      if (command !== "onetry" && command !== "add" && command !== "remove") {
        throw new RpcError(RpcErrorCode.MISC_ERROR, method.help);
      }
      const target = params.arg("node", asStr);
      // Core defaults to, and only allows, v2 when the node offers NODE_P2P_V2; this node
      // offers no services (getnetworkinfo's localservices), so v2 is never enabled.
      const v2Enabled = false;
      const v2transport = params.maybe("v2transport", asBool) ?? v2Enabled;
      if (v2transport && !v2Enabled) {
        throw new RpcError(
          RpcErrorCode.INVALID_PARAMETER,
          "Error: v2transport requested but not enabled (see -v2transport)",
        );
      }
      if (command === "onetry") return null; // no peer-to-peer network to try it on
      if (command === "add") {
        if (!node.connman.addNode(target, v2transport)) {
          throw new RpcError(RpcErrorCode.CLIENT_NODE_ALREADY_ADDED, "Error: Node already added");
        }
      } else if (!node.connman.removeAddedNode(target)) {
        throw new RpcError(
          RpcErrorCode.CLIENT_NODE_NOT_ADDED,
          "Error: Node could not be removed. It has not been added previously.",
        );
      }
      return null;
    },
  });
  return method;
}

/** `disconnectnode`: there is never a node to disconnect. */
function disconnectnodeMethod(): RpcMethod {
  return defineMethod({
    name: "disconnectnode",
    category: "network",
    description: "Immediately disconnects from the specified peer node.\n" +
      "\nStrictly one out of 'address' and 'nodeid' can be provided to identify the node.\n" +
      "\nTo disconnect by nodeid, either set 'address' to the empty string, or call using the named 'nodeid' argument only.\n",
    args: [
      {
        name: "address",
        type: "str",
        defaultHint: "fallback to nodeid",
        description: "The IP address/port of the node",
      },
      {
        name: "nodeid",
        type: "num",
        defaultHint: "fallback to address",
        description: "The node ID (see getpeerinfo for node IDs)",
      },
    ],
    result: { type: "none", description: "" },
    examples: helpExampleCli("disconnectnode", '"192.168.0.6:8333"') +
      helpExampleCli("disconnectnode", '"" 1') +
      helpExampleRpc("disconnectnode", '"192.168.0.6:8333"') +
      helpExampleRpc("disconnectnode", '"", 1'),
    handler(params) {
      const address = params.maybe("address", asStr);
      if (address !== undefined && !params.has("nodeid")) {
        // By address: no peer has it.
      } else if (params.has("nodeid") && (address === undefined || address === "")) {
        params.arg("nodeid", asInt64); // by id: no peer has it
      } else {
        throw new RpcError(
          RpcErrorCode.INVALID_PARAMS,
          "Only one of address and nodeid should be provided.",
        );
      }
      throw new RpcError(
        RpcErrorCode.CLIENT_NODE_NOT_CONNECTED,
        "Node not found in connected nodes",
      );
    },
  });
}

/** `setban`: adds to or removes from the ban list (there are no peers to disconnect). */
function setbanMethod(node: NodeServices): RpcMethod {
  const method: RpcMethod = defineMethod({
    name: "setban",
    category: "network",
    description: "Attempts to add or remove an IP/Subnet from the banned list.\n",
    args: [
      {
        name: "subnet",
        type: "str",
        description:
          "The IP/Subnet (see getpeerinfo for nodes IP) with an optional netmask (default is /32 = single IP)",
      },
      {
        name: "command",
        type: "str",
        description:
          "'add' to add an IP/Subnet to the list, 'remove' to remove an IP/Subnet from the list",
      },
      {
        name: "bantime",
        type: "num",
        default: 0,
        description:
          "time in seconds how long (or until when if [absolute] is set) the IP is banned (0 or empty means using the default time of 24h which can also be overwritten by the -bantime startup argument)",
      },
      {
        name: "absolute",
        type: "bool",
        default: false,
        description:
          "If set, the bantime must be an absolute timestamp expressed in UNIX epoch time",
      },
    ],
    result: { type: "none", description: "" },
    examples: helpExampleCli("setban", '"192.168.0.6" "add" 86400') +
      helpExampleCli("setban", '"192.168.0.0/24" "add"') +
      helpExampleRpc("setban", '"192.168.0.6", "add", 86400'),
    handler(params) {
      const command = params.arg("command", asStr);
      if (command !== "add" && command !== "remove") {
        throw new RpcError(RpcErrorCode.MISC_ERROR, method.help);
      }
      const text = params.arg("subnet", asStr);
      // A single IP (no "/") must be a valid address; it is banned as its /32 or /128.
      const isSubnet = text.includes("/");
      let subnet: Subnet | undefined;
      let address: Uint8Array | undefined;
      if (isSubnet) {
        subnet = Subnet.parse(text);
      } else {
        address = lookupHost(text);
        if (address !== undefined && isValidIp(address)) {
          subnet = Subnet.fromPrefix(address, address.length * 8);
        }
      }
      if (subnet === undefined) {
        throw new RpcError(RpcErrorCode.CLIENT_INVALID_IP_OR_SUBNET, "Error: Invalid IP/Subnet");
      }
      const banman = node.banman;
      if (command === "add") {
        if (banman.isBanned(isSubnet ? subnet : address!)) {
          throw new RpcError(
            RpcErrorCode.CLIENT_NODE_ALREADY_ADDED,
            "Error: IP/Subnet already banned",
          );
        }
        const bantime = params.arg("bantime", asInt64);
        const absolute = params.arg("absolute", asBool);
        if (absolute && bantime < BigInt(node.now())) {
          throw new RpcError(
            RpcErrorCode.INVALID_PARAMETER,
            "Error: Absolute timestamp is in the past",
          );
        }
        banman.ban(subnet, bantime, absolute);
      } else if (!banman.unban(subnet)) {
        throw new RpcError(
          RpcErrorCode.CLIENT_INVALID_IP_OR_SUBNET,
          "Error: Unban failed. Requested address/subnet was not previously manually banned.",
        );
      }
      return null;
    },
  });
  return method;
}

/** `listbanned`: the bans in force, expired ones swept first. */
function listbannedMethod(node: NodeServices): RpcMethod {
  return defineMethod({
    name: "listbanned",
    category: "network",
    description: "List all manually banned IPs/Subnets.\n",
    result: arr("", "", [
      obj("", "", [
        str("address", "The IP/Subnet of the banned node"),
        time("ban_created", "The UNIX epoch time the ban was created"),
        time("banned_until", "The UNIX epoch time the ban expires"),
        time("ban_duration", "The ban duration, in seconds"),
        time("time_remaining", "The time remaining until the ban expires, in seconds"),
      ]),
    ]),
    examples: helpExampleCli("listbanned", "") + helpExampleRpc("listbanned", ""),
    handler() {
      const entries = node.banman.banned();
      const now = BigInt(node.now());
      return entries.map((entry) =>
        new Map<string, JsonInput>([
          ["address", entry.subnet.toString()],
          ["ban_created", entry.created],
          ["banned_until", entry.until],
          ["ban_duration", entry.until - entry.created],
          ["time_remaining", entry.until - now],
        ])
      );
    },
  });
}

/** `clearbanned`: empties the ban list. */
function clearbannedMethod(node: NodeServices): RpcMethod {
  return defineMethod({
    name: "clearbanned",
    category: "network",
    description: "Clear all banned IPs.\n",
    result: { type: "none", description: "" },
    examples: helpExampleCli("clearbanned", "") + helpExampleRpc("clearbanned", ""),
    handler() {
      node.banman.clear();
      return null;
    },
  });
}

/** `setnetworkactive`: the switch getnetworkinfo's `networkactive` reports. */
function setnetworkactiveMethod(node: NodeServices): RpcMethod {
  return defineMethod({
    name: "setnetworkactive",
    category: "network",
    description: "Disable/enable all p2p network activity.\n",
    args: [{
      name: "state",
      type: "bool",
      description: "true to enable networking, false to disable",
    }],
    result: bool("", "The value that was passed in"),
    handler(params) {
      node.connman.setNetworkActive(params.arg("state", asBool));
      return node.connman.networkActive;
    },
  });
}

/** `getnodeaddresses`: no address is known (no peer-to-peer network, an empty address manager). */
function getnodeaddressesMethod(node: NodeServices): RpcMethod {
  const networks = NETWORKS.join(", ");
  return defineMethod({
    name: "getnodeaddresses",
    category: "network",
    description: "Return known addresses, after filtering for quality and recency.\n" +
      "These can potentially be used to find new peers in the network.\n" +
      "The total number of addresses known to the node may be higher.",
    args: [
      {
        name: "count",
        type: "num",
        default: 1,
        description:
          "The maximum number of addresses to return. Specify 0 to return all known addresses.",
      },
      {
        name: "network",
        type: "str",
        defaultHint: "all networks",
        description: `Return only addresses of the specified network. Can be one of: ${networks}.`,
      },
    ],
    result: arr("", "", [
      obj("", "", [
        time("time", "The UNIX epoch time when the node was last seen"),
        num("services", "The services offered by the node"),
        str("address", "The address of the node"),
        num("port", "The port number of the node"),
        str("network", `The network (${networks}) the node connected through`),
      ]),
    ]),
    examples: helpExampleCli("getnodeaddresses", "8") +
      helpExampleCli("getnodeaddresses", '4 "i2p"') +
      helpExampleCli("-named getnodeaddresses", "network=onion count=12") +
      helpExampleRpc("getnodeaddresses", "8") +
      helpExampleRpc("getnodeaddresses", '4, "i2p"'),
    handler(params) {
      const count = params.arg("count", asInt);
      if (count < 0) {
        throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "Address count out of range");
      }
      const name = params.maybe("network", asStr);
      if (name !== undefined && parseNetwork(name, node.log) === undefined) {
        throw new RpcError(RpcErrorCode.INVALID_PARAMETER, `Network not recognized: ${name}`);
      }
      return [];
    },
  });
}

/** `getaddrmaninfo`: an empty address manager, network by network. */
function getaddrmaninfoMethod(): RpcMethod {
  return defineMethod({
    name: "getaddrmaninfo",
    category: "network",
    description:
      "Provides information about the node's address manager by returning the number of " +
      "addresses in the `new` and `tried` tables and their sum for all networks.\n",
    result: objDyn("", "json object with network type as keys", [
      obj("network", `the network (${NETWORKS.join(", ")}, all_networks)`, [
        num(
          "new",
          "number of addresses in the new table, which represent potential peers the node has discovered but hasn't yet successfully connected to.",
        ),
        num(
          "tried",
          "number of addresses in the tried table, which represent peers the node has successfully connected to in the past.",
        ),
        num("total", "total number of addresses in both new/tried tables"),
      ]),
    ]),
    examples: helpExampleCli("getaddrmaninfo", "") + helpExampleRpc("getaddrmaninfo", ""),
    handler: () =>
      new Map<string, JsonInput>(
        [...NETWORKS, "all_networks"].map((name) => [name, { new: 0, tried: 0, total: 0 }]),
      ),
  });
}
