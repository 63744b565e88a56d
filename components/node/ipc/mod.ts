/**
 * The node's IPC side: Bitcoin Core's `Init`, `Echo` and v30.0 `Mining`
 * (wire-compatible with `bitcoin-node` v30.0, so Bitcoin Core IPC clients
 * mine on this node) and this project's `Chain` and `Node` for the wallet
 * and the gui. {@linkcode nodeInit} builds the Init object the node serves.
 *
 * `node.ts` serves it as `node.serveIpc(Init, node.use(nodeInit({ chain,
 * mempool, requestShutdown, stopping, log })))`; `init.ts`'s example runs
 * one in this process.
 * @module
 */
export {
  type ExecuteRpc,
  MAX_LIVE_TEMPLATES,
  MINING_NEXT_UNSUPPORTED,
  type NodeInit,
  nodeInit,
  type NodeInitOptions,
  RPC_UNAVAILABLE,
  WALLET_LOADER_UNSUPPORTED,
} from "./init.ts";
export { WalletRouter } from "../../rpc/wallet_router.ts";
export { DEFAULT_MAX_QUEUED_NOTIFICATION_BYTES } from "./notifications.ts";
export { DEFAULT_IBD_OPTIONS, type IbdOptions, initialBlockDownload, MAX_TIP_AGE } from "./ibd.ts";
