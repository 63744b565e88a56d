/**
 * The toy node as a process, for the toy wallet and gui process tests:
 * serves `schemas/node.capnp`'s `NodeInit` through `runComponent` (needs
 * `-datadir=<absolute path>`, then `-ipcbind=…` or spawning).
 *
 * @module
 */
import { NodeInit } from "../../schemas/gen/node.mp.ts";
import { runComponent } from "../../runtime/component.ts";
import { nodeInit, ToyChain } from "./toy_node.ts";

if (import.meta.main) {
  await runComponent(NodeInit, "node", (datadir) => nodeInit(ToyChain.open(datadir)));
}
