/**
 * The wallet process's own JSON-RPC port (`-rpcport`), the design doc's
 * future item: bitcoind's HTTP server, authentication and JSON-RPC
 * envelope (`components/rpc/`), serving the wallet methods with the same
 * specs, help, argument checks and `/wallet/<name>` routing the node
 * applies, run on this process's own wallets. Its credentials are its own:
 * a cookie in `<datadir>/regtest/.cookie` (so `bitcoin-cli -regtest
 * -datadir=<the wallet's data directory> -rpcport=<port>` finds it), or
 * `-rpcuser`/`-rpcpassword`. It listens on 127.0.0.1 and ::1 only. The
 * node's methods are not here; `stop` ends the wallet process.
 *
 * @example
 * ```ts
 * import { WalletRpcPort } from "./rpc_port.ts";
 * const datadir = Deno.makeTempDirSync();
 * const options = { port: 0, user: "", password: "", rpcauth: [], cookieFile: ".cookie" };
 * {
 *   await using wallet = new WalletRpcPort(datadir, options, () => {});
 *   await wallet.start();
 *   const cookie = Deno.readTextFileSync(`${datadir}/regtest/.cookie`);
 *   const res = await fetch(`http://${wallet.addresses[0]}/`, {
 *     method: "POST",
 *     headers: { authorization: `Basic ${btoa(cookie)}` },
 *     body: '{"id":1,"method":"getbalance"}',
 *   });
 *   const reply = await res.text();
 *   // No wallet is loaded in this process yet: bitcoind's -18.
 *   if (!reply.includes('"code":-18')) throw new Error(reply);
 * }
 * Deno.removeSync(datadir, { recursive: true });
 * ```
 * @module
 */
import { dup } from "../../component.ts";
import type { WalletLoader } from "../../schemas/gen/ipc/wallet.mp.ts";
import { RpcServer } from "../rpc/mod.ts";
import { walletRpcMethods } from "../rpc/wallet_methods.ts";
import { WalletRouter } from "../rpc/wallet_router.ts";
import type { WalletRpcServerOptions } from "./options.ts";

/** The wallet's JSON-RPC server: `start()`, `serve(loader)` for each loader, then dispose. */
export class WalletRpcPort implements AsyncDisposable {
  readonly #router = new WalletRouter({
    none: "This wallet process is not attached to a node now; it serves no wallet until it is",
  });
  readonly #server: RpcServer;

  /** Builds the server; `onStop` runs when a client calls `stop`. */
  constructor(datadir: string, options: WalletRpcServerOptions, onStop: () => void) {
    this.#server = new RpcServer({
      datadir,
      port: options.port,
      user: options.user,
      password: options.password,
      rpcauth: options.rpcauth,
      cookieFile: options.cookieFile,
      methods: walletRpcMethods(this.#router),
      onStopRequest: onStop,
      log: (line) => console.error(`wallet: ${line}`),
    });
  }

  /** Writes the cookie and binds; throws Core's one line when it cannot (the reason is logged). */
  async start(): Promise<void> {
    await this.#server.start();
  }

  /** Where it listens, `127.0.0.1:<port>` first. */
  get addresses(): string[] {
    return this.#server.addresses.map(({ hostname, port }) =>
      hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`
    );
  }

  /** Serves `loader`'s wallets (a reference of its own) until the result is disposed. */
  serve(loader: WalletLoader): Disposable {
    return this.#router.add(dup(loader));
  }

  /** Stops serving and removes the cookie; the loaders are let go. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#server.stop();
    this.#router[Symbol.dispose]();
  }
}
