/**
 * The `network` methods this node serves (`rpc/net.cpp`): getnetworkinfo
 * and getconnectioncount. The node has no peer-to-peer network: it reports
 * no connections, no local services and no local addresses, with bitcoind's
 * shapes and key order; the relay fees are the mempool's.
 *
 * @example
 * ```ts ignore
 * const methods = networkMethods(services);
 * ```
 * @module
 */
import {
  Amount,
  defineMethod,
  helpExampleCli,
  helpExampleRpc,
  type JsonInput,
  type RpcMethod,
} from "../rpc/mod.ts";
import { amount, arr, bool, CURRENCY_UNIT, hexStr, num, obj, str, warningsDoc } from "./docs.ts";
import type { NodeServices } from "./services.ts";

/** The RPC API level this node implements: Bitcoin Core v30.0's (`CLIENT_VERSION`). */
export const API_VERSION = 300000;
/** Core's `PROTOCOL_VERSION`. */
export const PROTOCOL_VERSION = 70016;
/** What this node calls itself in `subversion` (BIP 14 form). */
export const SUBVERSION = "/capdeno:0.1.0/";

const NETWORKS = ["ipv4", "ipv6", "onion", "i2p", "cjdns"];

/** The network methods. */
export function networkMethods(node: NodeServices): RpcMethod[] {
  return [
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
        warningsDoc(),
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
          ["warnings", []],
        ]);
      },
    }),
  ];
}
