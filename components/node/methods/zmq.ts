/**
 * The `zmq` method this node serves (`zmq/zmqrpc.cpp`):
 * getzmqnotifications, the notifiers publishing, each with its type,
 * address and high-water mark, in Core's order; none when no `-zmqpub…`
 * was given, or when their sockets could not be bound.
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { NodeServices } from "./services.ts";
 * import { zmqMethods } from "./zmq.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   const active = [{ type: "pubrawtx" as const, address: "tcp://127.0.0.1:28333", hwm: 1000 }];
 *   const node = new NodeServices({ chain, mempool, zmq: { active } });
 *   const [method] = zmqMethods(node);
 *   if (method.name !== "getzmqnotifications" || node.zmqNotifiers() !== active) throw new Error();
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { defineMethod, helpExampleCli, helpExampleRpc, type RpcMethod } from "../../rpc/mod.ts";
import { arr, num, obj, str } from "./docs.ts";
import type { NodeServices } from "./services.ts";

/** getzmqnotifications over `node`. */
export function zmqMethods(node: NodeServices): RpcMethod[] {
  return [
    defineMethod({
      name: "getzmqnotifications",
      category: "zmq",
      description: "Returns information about the active ZeroMQ notifications.\n",
      result: arr("", "", [
        obj("", "", [
          str("type", "Type of notification"),
          str("address", "Address of the publisher"),
          num("hwm", "Outbound message high water mark"),
        ]),
      ]),
      examples: helpExampleCli("getzmqnotifications", "") +
        helpExampleRpc("getzmqnotifications", ""),
      handler: () => node.zmqNotifiers().map(({ type, address, hwm }) => ({ type, address, hwm })),
    }),
  ];
}
