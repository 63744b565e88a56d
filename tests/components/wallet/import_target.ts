/**
 * What the importdescriptors tests start: a node and its funded wallet
 * "w" over HTTP (`startMethodFuzzTarget`), and the calls they make of
 * them.
 *
 * @module
 */
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

/** Core's answer to a call that needs an encrypted wallet unlocked (-13). */
export const UNLOCK_NEEDED = {
  error: {
    code: -13,
    message: "Error: Please enter the wallet passphrase with walletpassphrase first.",
  },
};

/** A node and its funded wallet "w" over HTTP, and what these tests do with them. */
export async function startImportTarget() {
  const target = await startMethodFuzzTarget();
  const node = target.node.call;
  return {
    call: target.walletCall,
    node,
    /** The wallet process's data directory (its wallets in `wallets/`). */
    walletDir: target.walletDir,
    mine: () => node("generatetoaddress", [1, target.context.addresses[4]]),
    /** `text` with the checksum of it as written, private keys included (getdescriptorinfo's `checksum`). */
    checksummed: async (text: string) =>
      `${text}#${(await node("getdescriptorinfo", [text])).checksum}`,
    [Symbol.asyncDispose]: () => target[Symbol.asyncDispose](),
  };
}
