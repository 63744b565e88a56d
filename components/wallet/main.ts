/**
 * The wallet process, as `bitcoin-wallet` runs beside `bitcoin-node`: it
 * attaches to the node at `-ipcconnect=unix[:path]` (presenting the token
 * its supervisor announced with `-lifeline`), takes the node's `Chain`,
 * registers its `WalletLoader` with the node's JSON-RPC
 * (`Chain.handleWalletLoader`), and loads every `-wallet=<name>` (creating
 * a missing one). Its wallets live in `<datadir>/wallets`. To a spawning
 * parent (`-ipcfd`) it serves `Init`, whose `makeWalletLoader` makes a
 * loader on a chain the parent hands it. It exits when the node goes (a
 * supervisor starts it again) or its parent does.
 *
 * @module
 */
import { Init } from "../../schemas/gen/ipc/init.mp.ts";
import type { Chain } from "../../schemas/gen/ipc/chain.mp.ts";
import {
  connect,
  datadirOf,
  disconnected,
  ipcFdOf,
  IpcLog,
  lifeline,
  parseIpcArgs,
  serveComponent,
  wantsLifeline,
} from "../../component.ts";
import { WalletLoaderImpl } from "./loader.ts";
import { parseWalletArgs, type WalletOptions } from "./options.ts";
import { Code, WalletError } from "./wallet.ts";

const SERVES_ONLY = "the wallet process serves makeWalletLoader only";

/** The wallet process's Init: a loader on a chain the caller hands over. */
function walletInit(datadir: string, options: WalletOptions): Init {
  const refuse = () => {
    throw new Error(SERVES_ONLY);
  };
  return {
    makeEcho: refuse,
    makeMining: refuse,
    makeMiningNext: refuse,
    makeRpc: refuse,
    makeChain: refuse,
    makeNode: refuse,
    makeWalletLoader(chain: Chain | null) {
      if (chain === null) throw new Error("makeWalletLoader: chain is null");
      return new WalletLoaderImpl(datadir, chain, options);
    },
  };
}

/** Loads `-wallet` names, creating those that do not exist yet. */
async function loadStartupWallets(loader: WalletLoaderImpl, names: readonly string[]) {
  for (const name of names) {
    try {
      await loader.load(name);
    } catch (error) {
      if (!(error instanceof WalletError) || error.code !== Code.NOT_FOUND) throw error;
      await loader.create(name);
      console.error(`wallet: created wallet "${name}"`);
    }
  }
}

/** Attaches to the node at `address`; resolves when the connection to it closes. */
async function attach(address: string, datadir: string, options: WalletOptions, log: IpcLog) {
  const token = wantsLifeline(Deno.args) ? await lifeline().token() : undefined;
  const node = await connect(Init, address, {
    token,
    log,
    datadir,
    component: "node",
    name: "wallet",
  });
  const chain = (await node.makeChain())!;
  const loader = new WalletLoaderImpl(datadir, chain, options);
  await loadStartupWallets(loader, options.wallets);
  const handler = (await chain.handleWalletLoader(loader))!;
  console.error(
    `wallet: attached to the node at ${address}; wallets: ${loader.listWallets().join(", ")}`,
  );
  await disconnected(node);
  handler[Symbol.dispose]();
  await loader[Symbol.asyncDispose]();
}

if (import.meta.main) {
  let datadir: string;
  let options: WalletOptions;
  try {
    datadir = datadirOf(Deno.args);
    options = parseWalletArgs(Deno.args);
  } catch (error) {
    console.error(`wallet: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
  const log = IpcLog.fromArgs(Deno.args, (line) => console.error(line));
  if (options.connect !== null) {
    attach(options.connect, datadir, options, log).then(() => {
      console.error("wallet: the node disconnected; exiting");
      Deno.exit(1);
    }, (error) => {
      console.error(`wallet: ${error instanceof Error ? error.message : String(error)}`);
      Deno.exit(1);
    });
  }
  // Spawned (-ipcfd) or listening (-ipcbind): serve Init too; attached only: the attachment runs.
  if (ipcFdOf(Deno.args) !== null || parseIpcArgs(Deno.args).bind.length > 0) {
    await serveComponent(Init, "wallet", walletInit(datadir, options), { datadir });
  } else if (options.connect === null) {
    console.error("wallet: nothing to do: give -ipcconnect=unix[:path], or spawn it (-ipcfd)");
    Deno.exit(1);
  }
}
