/**
 * rescanblockchain, abortrescan and getwalletinfo's `scanning`, on a real
 * chain whose block fetches the test holds: while a rescan runs,
 * getwalletinfo tells it, a second rescan is refused at once (-4),
 * abortrescan stops it (true, then false) and the rescan answers Core's
 * -1 `Rescan aborted.`; afterwards a whole rescan finds what it found
 * before.
 *
 * @module
 */
import type { Chain } from "../../../schemas/gen/ipc/chain.mp.ts";
import { WalletLoaderImpl } from "../../../components/wallet/loader.ts";
import { assert, assertEquals } from "../../assert.ts";
import { testNode } from "./chain_fixture.ts";

/** `chain`, its block fetches held while `hold` is armed; `fetching` tells when one waits. */
function heldChain(chain: Chain) {
  let held: PromiseWithResolvers<void> | null = null;
  let waiting = Promise.withResolvers<void>();
  const proxy = new Proxy(chain, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (key === "getBlocksSince") {
        return async (...args: Parameters<Chain["getBlocksSince"]>) => {
          if (held !== null) {
            waiting.resolve();
            await held.promise;
          }
          return await target.getBlocksSince(...args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    chain: proxy,
    hold() {
      held = Promise.withResolvers<void>();
      waiting = Promise.withResolvers<void>();
    },
    fetching: () => waiting.promise,
    release() {
      held?.resolve();
      held = null;
    },
  };
}

Deno.test("rescanblockchain and abortrescan: a running rescan is told, refused twice, and stopped as Core's", async () => {
  using node = testNode();
  const held = heldChain(node.makeChain());
  await using loader = new WalletLoaderImpl(`${node.dir}/wd`, held.chain, {});
  const call = async (method: string, params: unknown[] = []) =>
    JSON.parse(await loader.executeRpc(method, JSON.stringify(params), "w"));
  await call("createwallet", ["w"]);
  const address = (await call("getnewaddress")).result;
  const script = Uint8Array.fromHex((await call("getaddressinfo", [address])).result.scriptPubKey);
  node.mine(120, script);
  const balance = (await call("getbalance")).result;
  assertEquals((await call("getwalletinfo")).result.scanning, false);
  assertEquals(await call("abortrescan"), { result: false });

  held.hold();
  const running = call("rescanblockchain", [0]);
  await held.fetching();
  const { duration, progress } = (await call("getwalletinfo")).result.scanning;
  assertEquals(progress, 0);
  assert(Number.isInteger(duration) && duration >= 0, `duration ${duration}`);
  assertEquals(await call("rescanblockchain", [5]), {
    error: { code: -4, message: "Wallet is currently rescanning. Abort existing rescan or wait." },
  });
  assertEquals(await call("abortrescan"), { result: true });
  assertEquals(await call("abortrescan"), { result: false });
  held.release();
  assertEquals(await running, { error: { code: -1, message: "Rescan aborted." } });
  assertEquals((await call("getwalletinfo")).result.scanning, false);
  assertEquals(await call("abortrescan"), { result: false });

  // A whole rescan, to the tip: the same balance.
  assertEquals(await call("rescanblockchain", [0]), {
    result: { start_height: 0, stop_height: 120 },
  });
  assertEquals((await call("getbalance")).result, balance);

  // An encrypted wallet: no rescan while locked (-13); while one runs, neither walletlock nor
  // walletpassphrasechange (Core's -4).
  const sealed = (method: string, params: unknown[] = []) =>
    loader.executeRpc(method, JSON.stringify(params), "e").then(JSON.parse);
  await call("createwallet", ["e", false, false, "secret"]);
  assertEquals(await sealed("rescanblockchain"), {
    error: {
      code: -13,
      message: "Error: Please enter the wallet passphrase with walletpassphrase first.",
    },
  });
  await sealed("walletpassphrase", ["secret", 600]);
  held.hold();
  const scanning = sealed("rescanblockchain");
  await held.fetching();
  const busy = (doing: string) => ({
    error: {
      code: -4,
      message:
        "Error: the wallet is currently being used to rescan the blockchain for related transactions. " +
        `Please call \`abortrescan\` before ${doing}.`,
    },
  });
  assertEquals(await sealed("walletlock"), busy("locking the wallet"));
  assertEquals(
    await sealed("walletpassphrasechange", ["secret", "other"]),
    busy("changing the passphrase"),
  );
  assertEquals(await sealed("abortrescan"), { result: true });
  held.release();
  assertEquals(await scanning, { error: { code: -1, message: "Rescan aborted." } });
  assertEquals(await sealed("walletlock"), { result: null });
});
