/**
 * The toy wallet as a process, for the toy gui's process tests: keeps its wallets under
 * `-datadir=<absolute path>` and serves `WalletInit` to its parent when
 * spawned (`-ipcfd=N`), or else on every `-ipcbind=<address>`, printing
 * READY. `-debug=ipc` logs the IPC calls to stderr.
 *
 * @module
 */
import { WalletInit } from "../../schemas/gen/wallet.mp.ts";
import { runComponent } from "../../component.ts";
import { FileWalletInit } from "./toy_wallet.ts";

if (import.meta.main) {
  await runComponent(WalletInit, "wallet", (datadir) => new FileWalletInit(datadir));
}
