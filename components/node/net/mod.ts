/**
 * The node's network state without a peer-to-peer network: the ban list
 * ({@linkcode BanMan}, kept in `<datadir>/regtest/banlist.json` as Core
 * keeps it) and the connection manager's `addnode` list and network-active
 * switch ({@linkcode Connman}). The `network` RPC methods read and change
 * them (`methods/network.ts`).
 *
 * @example
 * ```ts
 * import { BanMan, Connman } from "./mod.ts";
 * import { Subnet } from "../../rpc/subnet.ts";
 * const banman = new BanMan(); // no file: kept in memory
 * banman.ban(Subnet.parse("192.0.2.1")!, 60n, false);
 * const connman = new Connman();
 * connman.addNode("192.0.2.2", false);
 * if (banman.banned()[0].subnet.toString() !== "192.0.2.1/32") throw new Error("ban");
 * if (connman.addedNodes()[0].node !== "192.0.2.2") throw new Error("added");
 * ```
 * @module
 */
export * from "./banman.ts";
export * from "./connman.ts";
