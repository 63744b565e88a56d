/**
 * Bitcoin Core's `-rpcwhitelist` and `-rpcwhitelistdefault`: which methods
 * each RPC user may call. An entry `user:m1,m2` (methods split at commas
 * and spaces) gives the user those methods; several entries for one user
 * keep only the methods all of them name; an entry without `:` gives none.
 * Users without an entry may call everything, unless
 * `-rpcwhitelistdefault` (on by default once any `-rpcwhitelist` is given)
 * says they may call nothing.
 *
 * @example
 * ```ts
 * import { RpcWhitelist } from "./whitelist.ts";
 * const whitelist = new RpcWhitelist(["alice:getblockcount, getbestblockhash", "alice:getblockcount"]);
 * const alice = whitelist.methodsOf("alice");
 * if (alice === "all" || alice === "none" || [...alice].join() !== "getblockcount") throw new Error();
 * if (whitelist.methodsOf("bob") !== "none") throw new Error("others: nothing, by default");
 * if (new RpcWhitelist(["alice:"], false).methodsOf("bob") !== "all") throw new Error();
 * if (new RpcWhitelist([]).methodsOf("bob") !== "all") throw new Error("no whitelist");
 * ```
 * @module
 */

/** What a user may call: every method, none, or those named. */
export type PermittedMethods = "all" | "none" | ReadonlySet<string>;

/** The whitelists of `-rpcwhitelist`, with `-rpcwhitelistdefault`'s rule for other users. */
export class RpcWhitelist {
  readonly #byUser = new Map<string, ReadonlySet<string>>();
  readonly #othersNone: boolean;

  /**
   * From the `-rpcwhitelist` values `entries`, and `-rpcwhitelistdefault`
   * (`defaultNone`; when not given, whether any entry is).
   */
  constructor(entries: readonly string[], defaultNone: boolean = entries.length > 0) {
    for (const entry of entries) {
      const colon = entry.indexOf(":");
      const user = colon < 0 ? entry : entry.slice(0, colon);
      // Core's SplitString(list, ", "): either character separates.
      const named = colon < 0 ? [] : entry.slice(colon + 1).split(/[, ]/);
      const held = this.#byUser.get(user);
      const methods = held === undefined || colon < 0
        ? new Set(colon < 0 ? held ?? [] : named)
        : new Set(named.filter((method) => held.has(method)));
      this.#byUser.set(user, methods);
    }
    this.#othersNone = defaultNone;
  }

  /** What `user` may call. */
  methodsOf(user: string): PermittedMethods {
    return this.#byUser.get(user) ?? (this.#othersNone ? "none" : "all");
  }
}
