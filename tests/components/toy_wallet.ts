/**
 * The toy wallet the toy gui was written for (the real wallet is
 * `components/wallet/`), kept for the gui tests: the objects, implementing `WalletInit`,
 * `WalletLoader` and `Wallet` of `schemas/wallet.capnp`. A wallet is a
 * named list of receiving addresses kept in `<datadir>/wallets/<name>.json`
 * (replaced atomically on every new address); its balance is read from the
 * chain, through the `Chain` capability the loader was handed and nothing
 * else.
 *
 * @example
 * ```ts
 * import { FileWalletInit } from "./toy_wallet.ts";
 * import { ToyChain } from "./toy_node.ts";
 * const dir = Deno.makeTempDirSync();
 * const chain = ToyChain.open(`${dir}/node`);
 * const loader = new FileWalletInit(`${dir}/wallet`).makeWalletLoader(chain);
 * const wallet = loader.createWallet("alice");
 * chain.generateToAddress(1, wallet.getNewAddress());
 * if (await wallet.getBalance() !== 5_000_000_000n) throw new Error("one block's subsidy");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { randomBytes } from "node:crypto";
import type { Chain } from "../../schemas/gen/node.mp.ts";
import type { Wallet, WalletInit, WalletLoader } from "../../schemas/gen/wallet.mp.ts";
import { dup, readFileIfExists, release, writeFileAtomic } from "../../component.ts";

/** Wallet names: 1 to 64 letters, digits, '_' and '-', starting with a letter or digit. */
const WALLET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Throws unless `name` is a valid wallet name (so it never names a path outside `wallets/`). */
function checkWalletName(name: string): void {
  if (!WALLET_NAME.test(name)) {
    throw new Error(
      `Invalid wallet name ${JSON.stringify(name)}: use 1 to 64 letters, digits, '_' or '-', ` +
        "starting with a letter or digit",
    );
  }
}

/** A new receiving address: "tc1" and 20 random bytes in hex. */
function randomAddress(): string {
  return `tc1${randomBytes(20).toString("hex")}`;
}

/** The file format of `wallets/<name>.json`. */
interface SavedWallet {
  version: 1;
  name: string;
  addresses: string[];
}

/** One wallet's state, shared by every handle to it. */
class WalletFile {
  readonly name: string;
  readonly addresses: string[];
  readonly #path: string;

  constructor(path: string, name: string, addresses: string[]) {
    this.#path = path;
    this.name = name;
    this.addresses = addresses;
  }

  newAddress(): string {
    const address = randomAddress();
    this.addresses.push(address);
    this.save();
    return address;
  }

  save(): void {
    const saved: SavedWallet = { version: 1, name: this.name, addresses: this.addresses };
    writeFileAtomic(this.#path, JSON.stringify(saved));
  }
}

/** The wallets of one data directory, each read from disk once. */
class WalletStore {
  readonly #dir: string;
  readonly #loaded = new Map<string, WalletFile>();

  constructor(datadir: string) {
    this.#dir = `${datadir}/wallets`;
    Deno.mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
  }

  create(name: string): WalletFile {
    checkWalletName(name);
    const path = this.#path(name);
    if (this.#loaded.has(name) || readFileIfExists(path) !== null) {
      throw new Error(`Wallet ${JSON.stringify(name)} already exists`);
    }
    const file = new WalletFile(path, name, []);
    file.save();
    this.#loaded.set(name, file);
    return file;
  }

  load(name: string): WalletFile {
    checkWalletName(name);
    const loaded = this.#loaded.get(name);
    if (loaded !== undefined) return loaded;
    const path = this.#path(name);
    const text = readFileIfExists(path);
    if (text === null) throw new Error(`Wallet ${JSON.stringify(name)} not found`);
    let saved: SavedWallet;
    try {
      saved = JSON.parse(text);
    } catch (error) {
      throw new Error(`${path}: not JSON (${(error as Error).message})`);
    }
    if (
      saved?.version !== 1 || saved.name !== name || !Array.isArray(saved.addresses) ||
      !saved.addresses.every((a) => typeof a === "string")
    ) {
      throw new Error(`${path}: not a version 1 wallet file for ${JSON.stringify(name)}`);
    }
    const file = new WalletFile(path, name, saved.addresses);
    this.#loaded.set(name, file);
    return file;
  }

  list(): string[] {
    const names = [];
    for (const entry of Deno.readDirSync(this.#dir)) {
      const name = entry.name.replace(/\.json$/, "");
      if (entry.isFile && name !== entry.name && WALLET_NAME.test(name)) names.push(name);
    }
    return names.sort();
  }

  #path(name: string): string {
    return `${this.#dir}/${name}.json`;
  }
}

/** The chain a loader was handed, shared with its wallets and released with the last of them. */
class SharedChain {
  readonly chain: Chain;
  #holders = 1;

  constructor(chain: Chain) {
    this.chain = chain;
  }

  hold(): this {
    this.#holders++;
    return this;
  }

  drop(): void {
    if (--this.#holders === 0) release(this.chain);
  }
}

/** A handle to one wallet (made by the loader); disposing it drops its hold on the chain. */
export class WalletHandle implements Wallet, Disposable {
  readonly #file: WalletFile;
  readonly #chain: SharedChain;
  #disposed = false;

  constructor(file: WalletFile, chain: SharedChain) {
    this.#file = file;
    this.#chain = chain;
  }

  getName(): string {
    return this.#file.name;
  }

  getNewAddress(): string {
    return this.#file.newAddress();
  }

  async getBalance(): Promise<bigint> {
    const mine = new Set(this.#file.addresses);
    if (mine.size === 0) return 0n;
    const coinbases = await this.#chain.chain.getCoinbases([...mine]);
    return coinbases.reduce((sum, c) => mine.has(c.address) ? sum + c.amount : sum, 0n);
  }

  listAddresses(): string[] {
    return [...this.#file.addresses];
  }

  [Symbol.dispose](): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#chain.drop();
  }
}

/**
 * Creates and loads the wallets of a data directory for one chain (made by
 * {@linkcode FileWalletInit}). It owns
 * the chain reference it was handed: disposing the loader and every wallet
 * it made releases it.
 */
export class FileWalletLoader implements WalletLoader, Disposable {
  readonly #store: WalletStore;
  readonly #chain: SharedChain;
  #disposed = false;

  constructor(store: WalletStore, chain: SharedChain) {
    this.#store = store;
    this.#chain = chain;
  }

  createWallet(name: string): WalletHandle {
    return new WalletHandle(this.#store.create(name), this.#chain.hold());
  }

  loadWallet(name: string): WalletHandle {
    return new WalletHandle(this.#store.load(name), this.#chain.hold());
  }

  listWallets(): string[] {
    return this.#store.list();
  }

  [Symbol.dispose](): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#chain.drop();
  }
}

/**
 * The wallet component's Init object over `<datadir>/wallets/` (made when
 * missing). Loaders it makes share the wallets, so two handles to one
 * wallet see the same addresses.
 */
export class FileWalletInit implements WalletInit {
  readonly #store: WalletStore;

  constructor(datadir: string) {
    this.#store = new WalletStore(datadir);
  }

  makeWalletLoader(chain: Chain | null): FileWalletLoader {
    if (chain === null) throw new Error("makeWalletLoader: a Chain is required");
    return new FileWalletLoader(this.#store, new SharedChain(dup(chain)));
  }
}
