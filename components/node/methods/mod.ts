/**
 * Every JSON-RPC method the node serves beyond the server's own control
 * methods, one module per Bitcoin Core category: blockchain (with the
 * UTXO snapshot methods), mempool,
 * rawtransactions (with the PSBT methods), mining, signer, util, network,
 * control, zmq, the hidden echoipc, and the wallet's (routed to the attached
 * wallet processes).
 *
 * @example
 * ```ts
 * import { ChainState } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { nodeMethods, NodeServices } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   const names = nodeMethods(new NodeServices({ chain, mempool })).map((m) => m.name);
 *   if (!names.includes("getblockchaininfo") || !names.includes("sendrawtransaction")) {
 *     throw new Error(names.join());
 *   }
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import type { IpcLog } from "../../../component.ts";
import type { RpcMethod } from "../../rpc/mod.ts";
import { blockchainMethods } from "./blockchain.ts";
import { blockFilterMethods } from "./blockfilters.ts";
import { controlMethods } from "./control.ts";
import { descriptorActivityMethod } from "./descriptoractivity.ts";
import { echoIpcMethod } from "./echoipc.ts";
import { fundingMethods } from "./funding.ts";
import { mempoolMethods } from "./mempool.ts";
import { miningMethods } from "./mining.ts";
import { networkMethods } from "./network.ts";
import { peerBlockMethods } from "./peerblocks.ts";
import { psbtMethods } from "./psbt.ts";
import { rawTransactionMethods } from "./rawtransactions.ts";
import { signerMethods } from "./signer.ts";
import { simulateMethod } from "./simulate.ts";
import { importDescriptorsMethod } from "./importdescriptors.ts";
import { importPrunedFundsMethod, txOutProofMethods } from "./txoutproof.ts";
import { txOutSetMethods } from "./txoutset.ts";
import type { NodeServices } from "./services.ts";
import { utilMethods } from "./util.ts";
import { walletPsbtMethods } from "./walletpsbt.ts";
import { zmqMethods } from "./zmq.ts";
import { walletRpcMethods } from "../../rpc/wallet_methods.ts";

export { type AssembledBlock, type NodeParts, NodeServices } from "./services.ts";

/**
 * The node's methods over `node`; `ipcLog` receives echoipc's IPC lines;
 * `disableWallet` (bitcoind's `-disablewallet`) leaves the wallet's out.
 */
export function nodeMethods(
  node: NodeServices,
  options: { ipcLog?: IpcLog; disableWallet?: boolean } = {},
): RpcMethod[] {
  return [
    ...blockchainMethods(node),
    ...blockFilterMethods(node),
    ...peerBlockMethods(node),
    descriptorActivityMethod(node),
    ...txOutProofMethods(node),
    ...txOutSetMethods(node),
    ...mempoolMethods(node),
    ...rawTransactionMethods(node),
    ...psbtMethods(node),
    ...miningMethods(node),
    ...signerMethods(),
    ...utilMethods(node),
    ...networkMethods(node),
    ...controlMethods(node),
    ...zmqMethods(node),
    echoIpcMethod(options.ipcLog),
    ...(options.disableWallet ? [] : [
      ...walletRpcMethods(node.wallets, node.deprecatedRpc),
      ...fundingMethods(node),
      ...walletPsbtMethods(node),
      simulateMethod(node),
      importPrunedFundsMethod(node),
      importDescriptorsMethod(node),
    ]),
  ];
}
