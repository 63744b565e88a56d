/**
 * The wallet process under the sandbox, as `deno task spawn-node -wallet=…`
 * runs it: {@linkcode startWallets} starts it under the launcher's
 * supervisor, attached to the node's socket (a one-time token per run),
 * with the wallet options the user gave the node, and waits until the
 * node's JSON-RPC lists every wallet asked for.
 *
 * @example
 * ```ts
 * import { walletArgs } from "./spawned.ts";
 * const args = walletArgs(["-rpcport=1", "-wallet=w", "-fallbackfee=0.0002"]);
 * if (args.join(" ") !== "-wallet=w -fallbackfee=0.0002") throw new Error(args.join(" "));
 * ```
 * @module
 */
import { join } from "node:path";
import { loadComponent, projectRoot, type Supervised, type Supervisor } from "../../host.ts";
import { Init } from "../../schemas/gen/ipc/init.mp.ts";
import { callRpc, type RpcAccess } from "../node/sandboxed.ts";

/** The node options the wallet process reads too (bitcoind's wallet options). */
const WALLET_OPTIONS = /^--?(wallet|fallbackfee)=/;

/** Of the node's options, those the wallet process takes. */
export function walletArgs(nodeArgs: readonly string[]): string[] {
  return nodeArgs.filter((arg) => WALLET_OPTIONS.test(arg));
}

/**
 * Starts the wallet process attached to `node`, loading (or creating) each
 * wallet in `names`; resolves once the node's JSON-RPC lists them all, and
 * rejects when the process fails first or after 60 s.
 */
export async function startWallets(
  supervisor: Supervisor,
  node: Supervised<Init>,
  access: RpcAccess,
  nodeArgs: readonly string[],
  names: readonly string[],
): Promise<Supervised<Init>> {
  const component = await loadComponent(join(projectRoot(), "components", "wallet"));
  const wallet = await supervisor.start(Init, component, {
    args: walletArgs(nodeArgs),
    connectTo: node,
  });
  let failure: Error | null = null;
  wallet.failed.then((error) => failure = error);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (failure !== null) throw failure;
    const loaded = await callRpc(access, "listwallets") as string[];
    if (names.every((name) => loaded.includes(name))) return wallet;
    if (Date.now() > deadline) {
      throw new Error(`the wallet process did not load ${names.join(", ")} within 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
