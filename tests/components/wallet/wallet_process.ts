/**
 * The wallet as its own process, attached to a real node process over the
 * node's `-ipcbind=unix` socket and granted its wallets folder and that
 * socket only, as the end-to-end tests run it.
 *
 * @module
 */
import type { RealNode } from "../node/real_node.ts";

const WALLET_MAIN = new URL("../../../components/wallet/main.ts", import.meta.url).pathname;

/**
 * Starts the wallet process attached to `node`, its data in `walletDir`,
 * with `args` (and more permission `flags`).
 */
export function startWallet(
  node: RealNode,
  walletDir: string,
  args: string[],
  { stderr = "inherit", flags = [] }: { stderr?: "inherit" | "piped"; flags?: string[] } = {},
): Deno.ChildProcess {
  const socket = `${node.datadir}/regtest/node.sock`;
  const paths = `${walletDir}/wallets,${walletDir}/settings,${socket}`;
  Deno.mkdirSync(`${walletDir}/wallets`, { recursive: true });
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--allow-read=${paths}`,
      `--allow-write=${paths}`,
      `--allow-net=unix:${socket}`,
      ...flags,
      WALLET_MAIN,
      `-datadir=${walletDir}`,
      `-ipcconnect=unix:${socket}`,
      ...args,
    ],
    stdin: "null",
    stdout: "null",
    stderr,
  }).spawn();
}
