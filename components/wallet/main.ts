/**
 * The wallet process, as `bitcoin-wallet` runs beside `bitcoin-node`: it
 * attaches to the node at `-ipcconnect=unix[:path]` (presenting the token
 * its supervisor announced with `-lifeline`, else the node's IPC cookie:
 * `-ipccookiefile=<path>`, by default `node.cookie` beside the socket, when
 * there is one), takes the node's `Chain`,
 * registers its `WalletLoader` with the node's JSON-RPC
 * (`Chain.handleWalletLoader`), and loads every `-wallet=<name>` (creating
 * a missing one). Its wallets live in `<datadir>/wallets`. To a spawning
 * parent (`-ipcfd`) it serves `Init`, whose `makeWalletLoader` makes a
 * loader on a chain the parent hands it. It exits when the node goes (a
 * supervisor starts it again) or its parent does.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { Init } from "../../schemas/gen/ipc/init.mp.ts";
import type { Chain } from "../../schemas/gen/ipc/chain.mp.ts";
import {
  connect,
  datadirOf,
  disconnected,
  ipcFdOf,
  IpcLog,
  lifeline,
  parseAddress,
  parseIpcArgs,
  readCookie,
  serveComponent,
  wantsLifeline,
} from "../../component.ts";
import { loadOrCreateWallets, WalletLoaderImpl } from "./loader.ts";
import { parseWalletArgs, type WalletOptions } from "./options.ts";

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
    setWalletSpawner: refuse,
    makeWalletLoader(chain: Chain | null) {
      if (chain === null) throw new Error("makeWalletLoader: chain is null");
      return new WalletLoaderImpl(datadir, chain, options);
    },
  };
}

/**
 * What to present to the node: the supervisor's one-time token (`-lifeline`),
 * else the node's IPC cookie when there is one (a node run without the
 * supervisor asks for none).
 */
async function attachToken(address: string, datadir: string, options: WalletOptions) {
  if (wantsLifeline(Deno.args)) return await lifeline().token();
  if (options.cookieFile !== null) return readCookie(options.cookieFile) ?? undefined;
  const socket = parseAddress(address, { datadir, component: "node" }).path;
  const beside = join(dirname(socket), "node.cookie");
  // Not granted the path: this run was not meant to present one (its node asks for none).
  if (Deno.permissions.querySync({ name: "read", path: beside }).state !== "granted") return;
  return readCookie(beside) ?? undefined;
}

/** Attaches to the node at `address`; resolves when the connection to it closes. */
async function attach(address: string, datadir: string, options: WalletOptions, log: IpcLog) {
  const token = await attachToken(address, datadir, options);
  // Everything is let go however it ends: an attachment that fails midway leaks nothing.
  await using node = await connect(Init, address, {
    token,
    log,
    datadir,
    component: "node",
    name: "wallet",
  });
  await using chain = (await node.makeChain())!;
  await using loader = new WalletLoaderImpl(datadir, chain, options);
  for (const line of await loadOrCreateWallets(loader, options.wallets)) console.error(line);
  using _handler = (await chain.handleWalletLoader(loader))!;
  console.error(
    `wallet: attached to the node at ${address}; wallets: ${loader.listWallets().join(", ")}`,
  );
  await disconnected(node);
}

/** The longest wait between two attempts to attach again. */
const REATTACH_MAX_MS = 10_000;

/**
 * Attaches; with `-ipcreattach` (and no supervisor handing tokens), each
 * time the node goes, tries again after a wait that doubles up to 10 s
 * (the cookie read again: a restarted node writes a new one). Resolves
 * when the attachment ends for good; rejects with why it never began.
 */
async function attachedUntilDone(
  address: string,
  datadir: string,
  options: WalletOptions,
  log: IpcLog,
): Promise<void> {
  const reattach = options.reattach && !wantsLifeline(Deno.args);
  let delay = 250;
  for (;;) {
    try {
      await attach(address, datadir, options, log);
      if (!reattach) return;
      delay = 250;
      console.error("wallet: the node disconnected; waiting to attach again (-ipcreattach)");
    } catch (error) {
      if (!reattach) throw error;
      delay = Math.min(delay * 2, REATTACH_MAX_MS);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
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
    attachedUntilDone(options.connect, datadir, options, log).then(() => {
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
