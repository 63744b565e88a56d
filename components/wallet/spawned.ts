/**
 * The wallet process under the sandbox, as `deno task spawn-node -wallet=…`
 * runs it: {@linkcode startWallets} starts it under the launcher's
 * supervisor, attached to the node's socket (a one-time token per run),
 * with the wallet options the user gave the node, and waits until the
 * node's JSON-RPC lists every wallet asked for ({@linkcode waitForWallets}).
 *
 * @example
 * ```ts
 * import { walletArgs } from "./spawned.ts";
 * const args = walletArgs(["-rpcport=1", "-wallet=w", "-fallbackfee=0.0002", "-keypool=20"]);
 * if (args.join(" ") !== "-wallet=w -fallbackfee=0.0002 -keypool=20") throw new Error(args.join(" "));
 * ```
 * @module
 */
import { join } from "node:path";
import { type Component, projectRoot, type Supervised, type Supervisor } from "../../host.ts";
import { Init } from "../../schemas/gen/ipc/init.mp.ts";
import { callRpc, type RpcAccess } from "../node/sandboxed.ts";
import { parseWalletArgs } from "./options.ts";
import {
  DEFAULT_WALLET_POLICY,
  WALLET_POLICY_OPTIONS,
  type WalletPolicy,
} from "../bitcoin/wallet_policy.ts";

/** The wallet policy options' names (`components/bitcoin/wallet_policy.ts`). */
const POLICY_NAMES = WALLET_POLICY_OPTIONS.map((option) => option.name);

/** The options the wallet process reads too (bitcoind's wallet options, and its IPC log's). */
const WALLET_OPTIONS = new RegExp(
  `^--?((wallet|walletnotify|mocktime|debug|loglevel)=|(no)?(keypool|${
    POLICY_NAMES.join("|")
  })(=|$))`,
);

/**
 * Of the node's options, those the wallet process takes, and what the
 * node's parameter interactions made of them: its `policy` not
 * broadcasting without `-walletbroadcast` given (`-blocksonly`) hands
 * `-walletbroadcast=0` on.
 */
export function walletArgs(
  nodeArgs: readonly string[],
  policy: Pick<WalletPolicy, "broadcast"> = DEFAULT_WALLET_POLICY,
): string[] {
  const taken = nodeArgs.filter((arg) => WALLET_OPTIONS.test(arg));
  return policy.broadcast ? taken : [...taken, "-walletbroadcast=0"];
}

/** What an attached wallet process takes: the node's wallet options and its RPC port's. */
const ATTACHED_NAMES = [
  "wallet",
  "walletnotify",
  "keypool",
  "mocktime",
  ...POLICY_NAMES,
  "rpcport",
  "rpcuser",
  "rpcpassword",
  "rpcauth",
  "rpccookiefile",
  "ipcreattach",
  "debug",
  "loglevel",
  "walletdir",
];

/** {@linkcode ATTACHED_NAMES}, and the two the wallet refuses with its own words. */
const ATTACHED_OPTIONS = new RegExp(
  `^--?(no)?(${[...ATTACHED_NAMES, "rpcbind", "rpcallowip"].join("|")})(=|$)`,
);

/**
 * Of `spawn-wallet`'s options, those the wallet process takes (the
 * launcher connects it itself: `-ipcconnect` and `-ipccookiefile` are its);
 * throws a one-line error for any other.
 *
 * @example
 * ```ts
 * import { attachedWalletArgs } from "./spawned.ts";
 * const args = attachedWalletArgs(["-ipcconnect=unix", "-wallet=w", "-rpcport=18600"]);
 * if (args.join(" ") !== "-wallet=w -rpcport=18600") throw new Error(args.join(" "));
 * let refused = "";
 * try {
 *   attachedWalletArgs(["-datadir=/tmp"]);
 * } catch (error) {
 *   refused = (error as Error).message;
 * }
 * if (!refused.startsWith("-datadir=/tmp: not an option")) throw new Error(refused);
 * ```
 */
export function attachedWalletArgs(args: readonly string[]): string[] {
  const taken = args.filter((arg) => !/^--?(ipcconnect|ipccookiefile)=/.test(arg));
  const other = taken.find((arg) => !ATTACHED_OPTIONS.test(arg));
  if (other !== undefined) {
    throw new Error(
      `${other}: not an option of an attached wallet (${
        ATTACHED_NAMES.map((name) => `-${name}`).join(", ")
      })`,
    );
  }
  return taken;
}

/**
 * `component` with what its own JSON-RPC needs when `args` give `-rpcport`:
 * net on 127.0.0.1 and [::1] at that port, read and write on `regtest/`
 * (its cookie); unchanged otherwise, so a wallet without it has no network
 * grant at all. Throws the wallet's one-line error for a bad option, and
 * for a cookie file outside `regtest/`.
 *
 * @example
 * ```ts
 * import { loadComponent } from "../../host.ts";
 * import { walletFolder, withRpcGrants } from "./spawned.ts";
 * const wallet = await loadComponent(walletFolder());
 * const granted = withRpcGrants(wallet, ["-wallet=w", "-rpcport=18600"]);
 * const net = granted.manifest.permissions.net.join();
 * if (net !== "127.0.0.1:18600,[::1]:18600") throw new Error(net);
 * if (withRpcGrants(wallet, ["-wallet=w"]) !== wallet) throw new Error("no grant without -rpcport");
 * ```
 */
export function withRpcGrants(component: Component, args: readonly string[]): Component {
  const { rpc } = parseWalletArgs(args);
  if (rpc === null) return component;
  const { cookieFile } = rpc;
  if (cookieFile !== false && !/^[^/]+$/.test(cookieFile.replace(/^\.\//, ""))) {
    throw new Error(
      `-rpccookiefile=${cookieFile}: the wallet writes its cookie inside its data directory's ` +
        "regtest/ (a file name)",
    );
  }
  const { permissions } = component.manifest;
  return {
    ...component,
    manifest: {
      ...component.manifest,
      permissions: {
        ...permissions,
        read: [...permissions.read, "regtest"],
        write: [...permissions.write, "regtest"],
        net: [...permissions.net, `127.0.0.1:${rpc.port}`, `[::1]:${rpc.port}`],
      },
    },
  };
}

/** The wallet component's folder. */
export function walletFolder(): string {
  return join(projectRoot(), "components", "wallet");
}

/**
 * Resolves once the node's JSON-RPC lists every one of `names`; rejects
 * with why if `gone` settles first, or after 60 s.
 */
export async function waitForWallets(
  access: RpcAccess,
  names: readonly string[],
  gone: Promise<unknown>,
): Promise<void> {
  let failure: unknown = null;
  gone.then((reason) => failure = reason ?? new Error("stopped"));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (failure !== null) throw failure;
    const loaded = await callRpc(access, "listwallets") as string[];
    if (names.every((name) => loaded.includes(name))) return;
    if (Date.now() > deadline) {
      throw new Error(`the wallets ${names.join(", ")} were not loaded within 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts the wallet process (`component`) with `args`, wired as `wiring`
 * says (attached to the node, restarted with it), loading (or creating) each wallet in
 * `names`; resolves once the node lists them all, and rejects when the
 * process fails, `stopped` settles or 60 s pass first.
 */
export async function startWallets(
  supervisor: Supervisor,
  component: Component,
  wiring: { connectTo?: Supervised<unknown>; restartWith?: readonly Supervised<unknown>[] },
  access: RpcAccess,
  args: readonly string[],
  names: readonly string[],
  stopped: Promise<unknown> = new Promise(() => {}),
): Promise<Supervised<Init>> {
  const wallet = await supervisor.start(Init, component, { ...wiring, args });
  // None asked for (a process started for createwallet): the node is not asked, it may be the
  // one waiting for this process.
  if (names.length > 0) await waitForWallets(access, names, Promise.race([stopped, wallet.failed]));
  return wallet;
}
