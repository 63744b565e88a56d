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
 * loader on a chain the parent hands it. It exits when the node goes:
 * cleanly when the node said it was shutting down (`WalletLoader.stop`),
 * else with status 1 (a supervisor starts it again); or when its parent
 * does. With `-rpcport` it also
 * serves its wallets' JSON-RPC itself (`rpc_port.ts`); without, it opens
 * no network socket.
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
  onLifelineClosed,
  parseAddress,
  parseIpcArgs,
  readCookie,
  serveComponent,
  wantsLifeline,
} from "../../component.ts";
import { loadOrCreateWallets, WalletLoaderImpl } from "./loader.ts";
import { parseWalletArgs, type WalletOptions, withNodeInteractions } from "./options.ts";
import { WalletRpcPort } from "./rpc_port.ts";
import type { Notifier } from "../../schemas/gen/ipc/notify.mp.ts";
import {
  checkMayRunCommands,
  CommandRunner,
  hasCommands,
  NO_COMMANDS,
} from "../notify/commands.ts";
import { NotifierOutbox } from "../notify/outbox.ts";

const SERVES_ONLY = "the wallet process serves makeWalletLoader only";

/**
 * The wallet process's Init: a loader on a chain the caller hands over
 * (the newest also served on `port`), and the notifier for `-walletnotify`.
 */
function walletInit(
  datadir: string,
  options: WalletOptions,
  port: WalletRpcPort | null,
  notifications: NotifierOutbox,
): Init {
  const refuse = () => {
    throw new Error(SERVES_ONLY);
  };
  let served: Disposable | undefined;
  return {
    makeEcho: refuse,
    makeMining: refuse,
    makeMiningNext: refuse,
    makeRpc: refuse,
    makeChain: refuse,
    makeNode: refuse,
    setWalletSpawner: refuse,
    setNotifier(notifier: Notifier | null) {
      if (notifier === null) throw new Error("setNotifier: notifier is null");
      notifications.use(notifier);
    },
    makeWalletLoader(chain: Chain | null) {
      if (chain === null) throw new Error("makeWalletLoader: chain is null");
      const loader = new WalletLoaderImpl(datadir, chain, options);
      // The port serves the newest loader only: a parent making many keeps no old one alive.
      served?.[Symbol.dispose]();
      served = port?.serve(loader);
      return loader;
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

/** What an attachment works with. */
interface Attachment {
  readonly datadir: string;
  readonly options: WalletOptions;
  readonly log: IpcLog;
  /** The wallet's own JSON-RPC, when `-rpcport` is given. */
  readonly port: WalletRpcPort | null;
}

/**
 * Attaches to the node at `address`; resolves when the connection to it
 * closes, with whether the node said it was shutting down first.
 */
async function attach(
  address: string,
  { datadir, options, log, port }: Attachment,
): Promise<boolean> {
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
  // Read anew at each attachment: a node attached again may run with other options.
  const attached = await withNodeInteractions(options, chain);
  await using loader = new WalletLoaderImpl(datadir, chain, attached);
  for (const line of await loadOrCreateWallets(loader, options.wallets)) console.error(line);
  using _served = port?.serve(loader);
  using _handler = (await chain.handleWalletLoader(loader))!;
  console.error(
    `wallet: attached to the node at ${address}; wallets: ${loader.listWallets().join(", ")}`,
  );
  await disconnected(node);
  return loader.nodeStopping;
}

/** The longest wait between two attempts to attach again. */
const REATTACH_MAX_MS = 10_000;

/**
 * Attaches; with `-ipcreattach` (and no supervisor handing tokens), each
 * time the node goes, tries again after a wait that doubles up to 10 s
 * (the cookie read again: a restarted node writes a new one). Resolves
 * when the attachment ends for good, with whether the node said it was
 * shutting down; rejects with why it never began.
 */
async function attachedUntilDone(address: string, attachment: Attachment): Promise<boolean> {
  const reattach = attachment.options.reattach && !wantsLifeline(Deno.args);
  let delay = 250;
  for (;;) {
    try {
      const stopped = await attach(address, attachment);
      if (!reattach) return stopped;
      delay = 250;
      console.error(
        `wallet: the node ${stopped ? "stopped" : "disconnected"}; waiting to attach again ` +
          "(-ipcreattach)",
      );
    } catch (error) {
      if (!reattach) throw error;
      delay = Math.min(delay * 2, REATTACH_MAX_MS);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** The wallet's own JSON-RPC, once started: stopped (its cookie removed) before the process ends. */
let rpcPort: WalletRpcPort | null = null;
let ending: Promise<never> | null = null;

/** Ends the process with `code`, `line` said first; every way out goes through here. */
function end(code: number, line?: string): Promise<never> {
  ending ??= (async () => {
    if (line !== undefined) console.error(`wallet: ${line}`);
    try {
      await rpcPort?.[Symbol.asyncDispose]();
    } finally {
      Deno.exit(code);
    }
  })();
  return ending;
}

/**
 * Starts the wallet's own JSON-RPC (`-rpcport`); `stop` on it ends the
 * process cleanly. Ends the process with Core's line when it cannot bind.
 */
async function openRpcPort(datadir: string, options: WalletOptions): Promise<WalletRpcPort> {
  const port = new WalletRpcPort(
    datadir,
    options.rpc!,
    () => void end(0, "stop requested on its JSON-RPC; exiting"),
  );
  try {
    await port.start();
  } catch (error) {
    return await end(1, error instanceof Error ? error.message : String(error));
  }
  console.error(`wallet: JSON-RPC on ${port.addresses.join(" and ")}`);
  return rpcPort = port;
}

if (import.meta.main) {
  let datadir: string;
  let options: WalletOptions;
  try {
    datadir = datadirOf(Deno.args);
    // The wallets' log lines (a send the mempool refused, say) go where this process's go.
    options = { ...parseWalletArgs(Deno.args), log: (line) => console.error(`wallet: ${line}`) };
  } catch (error) {
    console.error(`wallet: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
  // -walletnotify: run here, or, spawned (no process may be started), by the parent's notifier.
  const commands = { ...NO_COMMANDS, wallet: options.walletNotify };
  const notifications = new NotifierOutbox({ commands, log: options.log! });
  const spawned = ipcFdOf(Deno.args) !== null || wantsLifeline(Deno.args);
  if (!spawned && hasCommands(commands)) {
    try {
      checkMayRunCommands(commands);
    } catch (error) {
      console.error(`wallet: ${(error as Error).message}`);
      Deno.exit(1);
    }
    notifications.use(new CommandRunner({ commands, log: options.log! }));
  }
  options = { ...options, notifications };
  const log = IpcLog.fromArgs(Deno.args, (line) => console.error(line));
  // Its parent or supervisor closing the control line, or a signal: a clean end.
  onLifelineClosed(() => void end(0));
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => void end(0));
  }
  const port = options.rpc === null ? null : await openRpcPort(datadir, options);
  if (options.connect !== null) {
    attachedUntilDone(options.connect, { datadir, options, log, port }).then(
      // A node that shut down told its wallets: no failure. One that vanished: its supervisor decides.
      (stopped) =>
        end(stopped ? 0 : 1, `the node ${stopped ? "stopped" : "disconnected"}; exiting`),
      (error) => end(1, error instanceof Error ? error.message : String(error)),
    );
  }
  // Spawned (-ipcfd) or listening (-ipcbind): serve Init too; attached only: the attachment runs.
  if (ipcFdOf(Deno.args) !== null || parseIpcArgs(Deno.args).bind.length > 0) {
    await serveComponent(Init, "wallet", walletInit(datadir, options, port, notifications), {
      datadir,
    });
  } else if (options.connect === null) {
    await end(1, "nothing to do: give -ipcconnect=unix[:path], or spawn it (-ipcfd)");
  }
}
