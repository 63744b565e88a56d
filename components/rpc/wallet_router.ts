/**
 * The wallet processes attached to the node, as its JSON-RPC routes to
 * them: each registered `WalletLoader` (`Chain.handleWalletLoader`), the
 * wallets each has loaded, and Bitcoin Core's rules for which wallet a
 * request means (`GetWalletForJSONRPCRequest`): the `/wallet/<name>` path,
 * else the only wallet loaded, else -18 or -19 with Core's texts.
 *
 * A loader whose process went away is dropped as its connection closes
 * (its wallets' names then answer -18), or at its first failed call, which
 * answers with a one-line error naming it.
 *
 * @example
 * ```ts
 * import { WalletRouter } from "./wallet_router.ts";
 * const router = new WalletRouter();
 * const error = await router.resolve(undefined).catch((e) => e);
 * if (error.code !== -18) throw new Error("no wallet loaded");
 * ```
 * @module
 */
import { disconnected, dup, type Lent, release, Strand } from "../../component.ts";
import type { WalletLoader, WalletSpawner } from "../../schemas/gen/ipc/wallet.mp.ts";
import type { Handler } from "../../schemas/gen/ipc/handler.mp.ts";
import { RpcError, RpcErrorCode } from "./errors.ts";
import { expiry } from "./expiry.ts";
import { WALLET_NOT_FOUND, walletForRequest } from "./wallet_choice.ts";
import { type Json, JsonObject, parseJson, writeJson } from "./json.ts";

/** This node's answer to createwallet/loadwallet when no wallet process is attached. */
export const NO_WALLET_PROCESS =
  "No wallet process is attached to this node: start the node with -wallet=<name>, or attach " +
  "one (deno task spawn-wallet -ipcconnect=unix)";

/** How long `createwallet`/`loadwallet` wait for a wallet process they started to attach. */
export const SPAWN_ATTACH_MS = 60_000;

/**
 * How long a shutting-down node waits for each wallet process to take its
 * `stop`: well within the time its supervisor gives it to exit.
 */
export const STOP_NOTICE_MS = 1_000;

/**
 * Strands the routed calls go out on, as bitcoind's `-rpcthreads` (16):
 * calls from one strand to a wallet process are issued one at a time, so
 * on one strand a slow call (a rescan, a passphrase) would hold up every
 * other wallet call of every client.
 */
const CALL_STRANDS = 16;

/** A call on the least busy of {@linkcode CALL_STRANDS} strands. */
class StrandPool {
  readonly #slots = Array.from({ length: CALL_STRANDS }, (_, i) => ({
    strand: new Strand(`rpc-${i + 1}`),
    busy: 0,
  }));

  async run<T>(call: () => T | Promise<T>): Promise<T> {
    const slot = this.#slots.reduce((best, next) => next.busy < best.busy ? next : best);
    slot.busy++;
    try {
      return await slot.strand.run(call);
    } finally {
      slot.busy--;
    }
  }
}

/** A loaded wallet and the loader holding it. */
export interface RoutedWallet {
  readonly name: string;
  readonly loader: WalletLoader;
}

/** The attached loaders. */
export class WalletRouter implements Disposable {
  readonly #loaders = new Set<WalletLoader>();
  /** Wakes those waiting for a loader to attach; rejects when the router closes. */
  #attached = waiter();
  /** What starts a wallet process at run time (a launcher's), if given. */
  #spawner: WalletSpawner | null = null;
  /** The start under way, shared by the requests that wait for it. */
  #spawning: Promise<WalletLoader> | null = null;
  /** The shutdown under way, once begun. */
  #shutdown: Promise<void> | null = null;
  /** What a call that needs a loader says when none is attached. */
  readonly #none: string;
  readonly #strands = new StrandPool();

  /**
   * A router; `none` is what a call needing a loader answers (-4) while
   * none is attached, {@linkcode NO_WALLET_PROCESS} by default.
   */
  constructor({ none = NO_WALLET_PROCESS }: { none?: string } = {}) {
    this.#none = none;
  }

  /** The loaders attached now, in the order they attached. */
  get loaders(): readonly WalletLoader[] {
    return [...this.#loaders];
  }

  /** Loaders attached now. */
  get attached(): number {
    return this.#loaders.size;
  }

  /**
   * Routes to `loader` (kept: pass a reference of your own) until the
   * returned handler is disconnected or released.
   */
  add(loader: WalletLoader): Handler & Disposable {
    this.#loaders.add(loader);
    this.#attached.resolve();
    this.#attached = waiter();
    const remove = () => this.#drop(loader);
    // A detached wallet process's names leave the routing at once (Core's -18 from then on).
    disconnected(loader)?.then(remove);
    return { disconnect: remove, [Symbol.dispose]: remove };
  }

  /** The loader new wallets go to: the first attached. */
  first(): WalletLoader {
    const [loader] = this.#loaders;
    if (loader === undefined) throw new RpcError(RpcErrorCode.WALLET_ERROR, this.#none);
    return loader;
  }

  /** Keeps (a reference to) `spawner` for {@linkcode WalletRouter.firstOrSpawned}, replacing one before. */
  useSpawner(spawner: Lent<WalletSpawner>): void {
    if (this.#spawner !== null) release(this.#spawner);
    this.#spawner = dup(spawner);
  }

  /**
   * The loader new wallets go to; with none attached and a spawner given,
   * a wallet process is started (once, for every request waiting) and
   * this resolves when it attaches, as bitcoin-node spawns bitcoin-wallet.
   */
  async firstOrSpawned(): Promise<WalletLoader> {
    if (this.#loaders.size > 0 || this.#spawner === null) return this.first();
    this.#spawning ??= this.#spawnAndAttach(this.#spawner).finally(() => this.#spawning = null);
    return await this.#spawning;
  }

  /** Starts a wallet process and waits for it to attach, within {@linkcode SPAWN_ATTACH_MS} in all. */
  async #spawnAndAttach(spawner: WalletSpawner): Promise<WalletLoader> {
    using late = expiry(
      SPAWN_ATTACH_MS,
      new RpcError(
        RpcErrorCode.WALLET_ERROR,
        `No wallet process attached within ${SPAWN_ATTACH_MS / 1000} s`,
      ),
    );
    const started = Promise.resolve(spawner.spawnWalletProcess()).catch((error) => {
      const message = error instanceof Error ? error.message : String(error);
      throw new RpcError(
        RpcErrorCode.WALLET_ERROR,
        `No wallet process could be started: ${message}`,
      );
    });
    await Promise.race([started, late.expired]);
    while (this.#loaders.size === 0) await Promise.race([this.#attached.promise, late.expired]);
    return this.first();
  }

  /** Every loaded wallet, by name. */
  async wallets(): Promise<Map<string, WalletLoader>> {
    const found = new Map<string, WalletLoader>();
    for (const loader of [...this.#loaders]) {
      const names = await this.#guard(loader, () => loader.listWallets());
      for (const name of names) if (!found.has(name)) found.set(name, loader);
    }
    return found;
  }

  /** The wallet a request means: `named` (from `/wallet/<name>`), else the only one loaded. */
  async resolve(named: string | undefined): Promise<RoutedWallet> {
    const [name, loader] = walletForRequest(await this.wallets(), named);
    return { name, loader };
  }

  /**
   * Runs `method` with `params` on the wallet a request means (`named`,
   * else the only one loaded). With one wallet process attached, that
   * process picks the wallet itself, by the same rule
   * ({@linkcode walletForRequest}): one call to it instead of two. A
   * wallet process from before it did so refuses a request naming no
   * wallet with -18 `WALLET_NOT_FOUND` (which the rule never gives one):
   * the node then finds the wallet for it, as it did then.
   */
  async callWallet(
    method: string,
    params: readonly Json[],
    named: string | undefined,
  ): Promise<Json> {
    if (this.#loaders.size === 1) {
      const [loader] = this.#loaders;
      try {
        return await this.call(loader, method, params, named);
      } catch (error) {
        const refusedUnnamed = named === undefined && error instanceof RpcError &&
          error.code === RpcErrorCode.WALLET_NOT_FOUND && error.message === WALLET_NOT_FOUND;
        if (!refusedUnnamed) throw error;
      }
    }
    const wallet = await this.resolve(named);
    return await this.call(wallet.loader, method, params, wallet.name);
  }

  /** Runs `method` with `params` on `loader` (on `wallet`, when given); its result or its error. */
  async call(
    loader: WalletLoader,
    method: string,
    params: readonly Json[],
    wallet?: string,
  ): Promise<Json> {
    const reply = await this.#guard(
      loader,
      () => loader.executeRpc(method, writeJson([...params]), wallet),
    );
    const parsed = parseJson(reply);
    if (!(parsed instanceof JsonObject)) throw new Error("the wallet process answered no object");
    const error = parsed.get("error");
    if (error instanceof JsonObject) {
      const code = Number(String(error.get("code")));
      throw new RpcError(code, String(asText(error.get("message"))));
    }
    return parsed.get("result") ?? null;
  }

  /** Runs `call`; a failure of the loader itself drops it, with a one-line error. */
  async #guard<T>(loader: WalletLoader, call: () => T | Promise<T>): Promise<T> {
    try {
      return await this.#strands.run(call);
    } catch (error) {
      this.#drop(loader);
      const message = error instanceof Error ? error.message : String(error);
      throw new RpcError(RpcErrorCode.WALLET_ERROR, `The wallet process is gone (${message})`);
    }
  }

  #drop(loader: WalletLoader): void {
    if (this.#loaders.delete(loader)) release(loader);
  }

  /**
   * The node is shutting down: tells every attached loader (`stop`, each
   * given {@linkcode STOP_NOTICE_MS} to answer), then lets them go, so a
   * wallet process knows the node's going is no failure. Once; resolves
   * when done.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      try {
        await Promise.all([...this.#loaders].map(async (loader) => {
          using late = expiry(STOP_NOTICE_MS);
          await Promise.race([Promise.resolve(loader.stop()).catch(() => {}), late.expired]);
        }));
      } finally {
        this[Symbol.dispose]();
      }
    })();
    return this.#shutdown;
  }

  [Symbol.dispose](): void {
    this.#attached.reject(new RpcError(RpcErrorCode.WALLET_ERROR, "The node is shutting down"));
    for (const loader of [...this.#loaders]) this.#drop(loader);
    if (this.#spawner !== null) release(this.#spawner);
    this.#spawner = null;
  }
}

/** A promise to wake waiters with, never an unhandled rejection. */
function waiter(): PromiseWithResolvers<void> {
  const resolvers = Promise.withResolvers<void>();
  resolvers.promise.catch(() => {});
  return resolvers;
}

function asText(value: Json | undefined): string {
  return typeof value === "string" ? value : String(value);
}
