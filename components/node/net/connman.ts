/**
 * What the node keeps of Bitcoin Core's connection manager (`CConnman`)
 * without a peer-to-peer network: the `addnode` list and whether network
 * activity is on (`setnetworkactive`). Nothing is ever connected: added
 * nodes are listed as not connected, and the list lives as long as the
 * process, as Core's does.
 *
 * Unlike Core's, the added-node list is bounded ({@linkcode MAX_ADDED_NODES}
 * entries), so that RPC callers cannot grow the node's memory without limit.
 *
 * @example
 * ```ts
 * import { Connman } from "./connman.ts";
 * const connman = new Connman();
 * if (!connman.addNode("127.0.0.1", false)) throw new Error("first add");
 * // The same address and port as the first one (18444 is regtest's default port).
 * if (connman.addNode("127.0.0.1:18444", false)) throw new Error("already added");
 * if (!connman.removeAddedNode("127.0.0.1") || connman.addedNodes().length !== 0) {
 *   throw new Error("removed");
 * }
 * connman.setNetworkActive(false);
 * if (connman.networkActive) throw new Error("inactive");
 * ```
 * @module
 */
import { formatIp, isValidIp, lookupHost, splitHostPortParts } from "../../rpc/subnet.ts";

/** Regtest's default peer-to-peer port (`CChainParams::GetDefaultPort`). */
export const REGTEST_P2P_PORT = 18444;

/**
 * The most nodes the `addnode` list holds (this node's limit, not Core's:
 * Core's list has none). Adding beyond it is refused with
 * {@linkcode ADDED_NODES_FULL}.
 */
export const MAX_ADDED_NODES = 10_000;

/**
 * The longest node `addnode` keeps, in characters: a DNS name (253) with
 * brackets and a port, and some (this node's limit, not Core's), so that
 * the list's size is bounded in bytes too.
 */
export const MAX_NODE_LENGTH = 300;

/** What `addNode` throws for a node longer than {@linkcode MAX_NODE_LENGTH} (not Core's). */
export const NODE_TOO_LONG =
  `Error: Node name too long (more than ${MAX_NODE_LENGTH} characters, this node's limit)`;

/** What `addNode` throws when the list already holds {@linkcode MAX_ADDED_NODES} nodes (not Core's). */
export const ADDED_NODES_FULL =
  `Error: Added node list full (${MAX_ADDED_NODES} nodes, this node's limit); ` +
  "remove some with addnode remove first";

/** A node added with `addnode … add` (Core's `AddedNodeParams`). */
export interface AddedNode {
  /** The node as given: `host`, `host:port`, `[v6]:port`. */
  readonly node: string;
  /** Whether to connect with BIP324 v2 transport. */
  readonly v2transport: boolean;
}

/**
 * Core's `LookupNumeric(node, GetDefaultPort(node))` as one key, `ip port`;
 * undefined for a name or an address that is not valid (`0.0.0.0`, `::`…).
 */
function resolvedKey(node: string): string | undefined {
  const { host, port } = splitHostPortParts(node, REGTEST_P2P_PORT);
  const ip = lookupHost(host);
  return ip === undefined || !isValidIp(ip) ? undefined : `${formatIp(ip)} ${port}`;
}

/** The connection manager's state the RPC methods read and change. */
export class Connman {
  /** The added nodes with their resolved keys. */
  readonly #added: (AddedNode & { readonly resolved: string | undefined })[] = [];
  readonly #log: (message: string) => void;
  #networkActive = true;

  /**
   * A manager with no added nodes and network activity on, or as the
   * options say (`-addnode`, `-networkactive`, as Core's `CConnman` takes
   * them); `log` writes a line to the node's log.
   */
  constructor(options: {
    readonly log?: (message: string) => void;
    readonly addNodes?: readonly string[];
    readonly v2transport?: boolean;
    readonly networkActive?: boolean;
  } = {}) {
    this.#log = options.log ?? (() => {});
    for (const node of options.addNodes ?? []) this.addNode(node, options.v2transport ?? true);
    if (options.networkActive === false) this.setNetworkActive(false);
  }

  /** `GetNetworkActive`: whether network activity is on. */
  get networkActive(): boolean {
    return this.#networkActive;
  }

  /** `SetNetworkActive`: turns network activity on or off, logging it as Core does. */
  setNetworkActive(active: boolean): void {
    this.#log(`SetNetworkActive: ${active}`);
    this.#networkActive = active;
  }

  /**
   * `AddNode`: adds `node` to the list; false when it is there already, as
   * the same text or as the same numeric address and port (`127.0.0.1` and
   * `127.0.0.1:18444`). Throws {@linkcode NODE_TOO_LONG} for a node no
   * address is as long as, {@linkcode ADDED_NODES_FULL} when the list is full.
   */
  addNode(node: string, v2transport: boolean): boolean {
    if (node.length > MAX_NODE_LENGTH) throw new Error(NODE_TOO_LONG);
    const resolved = resolvedKey(node);
    for (const added of this.#added) {
      if (added.node === node || (resolved !== undefined && added.resolved === resolved)) {
        return false;
      }
    }
    if (this.#added.length >= MAX_ADDED_NODES) throw new Error(ADDED_NODES_FULL);
    this.#added.push({ node, v2transport, resolved });
    return true;
  }

  /** `RemoveAddedNode`: removes the node added as exactly `node`; false when there is none. */
  removeAddedNode(node: string): boolean {
    const i = this.#added.findIndex((added) => added.node === node);
    if (i < 0) return false;
    this.#added.splice(i, 1);
    return true;
  }

  /** The added nodes, in the order they were added. */
  addedNodes(): readonly AddedNode[] {
    return this.#added.map(({ node, v2transport }) => ({ node, v2transport }));
  }
}
