/**
 * The process `echoipc` spawns (Core's `bitcoin-node` spawned by its own
 * `echoipc`): it serves Bitcoin Core's `Init` to its parent over `-ipcfd`
 * with only `makeEcho`, whose `Echo` returns what it is given. The other
 * `make…` methods answer with an error naming this process.
 *
 * @example
 * ```ts
 * import { echoInit } from "./echo_process.ts";
 * const echo = await echoInit().makeEcho();
 * if ((await echo!.echo("hi")) !== "hi") throw new Error("echo");
 * ```
 * @module
 */
import { Init } from "../../schemas/gen/ipc/init.mp.ts";
import { serveComponent } from "../../component.ts";
import { LocalEcho } from "./ipc/echo.ts";

/** An `Init` serving only `makeEcho`. */
export function echoInit(): Init {
  const notServed = (what: string) => () => {
    throw new Error(`${what} is not served by the echo process`);
  };
  return {
    makeEcho: () => new LocalEcho(),
    makeMining: notServed("makeMining"),
    makeMiningNext: notServed("makeMining"),
    makeRpc: notServed("makeRpc"),
    makeChain: notServed("makeChain"),
    makeNode: notServed("makeNode"),
    makeWalletLoader: notServed("makeWalletLoader"),
    setWalletSpawner: notServed("setWalletSpawner"),
    setNotifier: notServed("setNotifier"),
  };
}

if (import.meta.main) await serveComponent(Init, "echo", echoInit());
