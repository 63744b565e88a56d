/**
 * The `network` methods this node serves (`rpc/net.cpp`): getnetworkinfo,
 * getconnectioncount, getpeerinfo, getnettotals, getaddednodeinfo and
 * ping. The node has no peer-to-peer network: it reports no connections,
 * no peers, no traffic, no added nodes, no local services and no local
 * addresses, with bitcoind's shapes and key order; the relay fees are the
 * mempool's.
 *
 * `nodeMethods` (`mod.ts`, whose example runs it) adds `networkMethods(…)` to the
 * server's table with the others.
 * @module
 */
import {
  Amount,
  asStr,
  defineMethod,
  helpExampleCli,
  helpExampleRpc,
  type JsonInput,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
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
  warningsValue,
} from "./docs.ts";
import type { NodeServices } from "./services.ts";

/** The RPC API level this node implements: Bitcoin Core v30.0's (`CLIENT_VERSION`). */
export const API_VERSION = 300000;
/** Core's `PROTOCOL_VERSION`. */
export const PROTOCOL_VERSION = 70016;
/** What this node calls itself in `subversion` (BIP 14 form). */
export const SUBVERSION = "/capdeno:0.1.0/";

const NETWORKS = ["ipv4", "ipv6", "onion", "i2p", "cjdns"];

/** `NET_PERMISSIONS_DOC`. */
const NET_PERMISSIONS_DOC = [
  "bloomfilter (allow requesting BIP37 filtered blocks and transactions)",
  "noban (do not ban for misbehavior; implies download)",
  "forcerelay (relay transactions that are already in the mempool; implies relay)",
  "relay (relay even in -blocksonly mode, and unlimited transaction announcements)",
  "mempool (allow requesting BIP35 mempool contents)",
  "download (allow getheaders during IBD, no disconnect after maxuploadtarget limit)",
  "addr (responses to GETADDR avoid hitting the cache and contain random records with the most up-to-date info)",
];

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

/** Core's `-maxuploadtarget` timeframe: a day. */
const UPLOAD_TIMEFRAME = 60 * 60 * 24;

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
      handler: () =>
        new Map<string, JsonInput>([
          ["totalbytesrecv", 0],
          ["totalbytessent", 0],
          ["timemillis", Date.now()],
          [
            "uploadtarget",
            new Map<string, JsonInput>([
              ["timeframe", UPLOAD_TIMEFRAME],
              ["target", 0],
              ["target_reached", false],
              ["serve_historical_blocks", true],
              ["bytes_left_in_cycle", 0],
              ["time_left_in_cycle", 0],
            ]),
          ],
        ]),
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
        // No node was ever added (there is no addnode): a named one was not.
        if (params.has("node")) {
          params.arg("node", asStr);
          throw new RpcError(
            RpcErrorCode.CLIENT_NODE_NOT_ADDED,
            "Error: Node has not been added.",
          );
        }
        return [];
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
          ["subversion", SUBVERSION],
          ["protocolversion", PROTOCOL_VERSION],
          ["localservices", "0000000000000000"],
          ["localservicesnames", []],
          ["localrelay", true],
          ["timeoffset", 0],
          ["networkactive", true],
          ["connections", 0],
          ["connections_in", 0],
          ["connections_out", 0],
          [
            "networks",
            NETWORKS.map((name, i) =>
              new Map<string, JsonInput>([
                ["name", name],
                ["limited", i >= 2],
                ["reachable", i < 2],
                ["proxy", ""],
                ["proxy_randomize_credentials", false],
              ])
            ),
          ],
          ["relayfee", new Amount(policy.minRelayFeeRate)],
          ["incrementalfee", new Amount(policy.incrementalRelayFeeRate)],
          ["localaddresses", []],
          ["warnings", warningsValue(node.deprecatedRpc)],
        ]);
      },
    }),
  ];
}
