/**
 * The node component's entry point: opens the chain under
 * `-datadir=<absolute path>` and serves `NodeInit` to its parent when
 * spawned (`-ipcfd=N`), or else on every `-ipcbind=<address>`, printing
 * READY. `-debug=ipc` logs the IPC calls to stderr.
 *
 * @module
 */
import { NodeInit } from "../../schemas/gen/node.mp.ts";
import { runComponent } from "../../runtime/component.ts";
import { nodeInit, ToyChain } from "./chain.ts";

if (import.meta.main) {
  await runComponent(NodeInit, "node", (datadir) => nodeInit(ToyChain.open(datadir)));
}
