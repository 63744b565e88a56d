/**
 * Signers for the watch-only multisig wallet tests: a node and wallet
 * processes with three signer wallets whose account keys make the
 * multisig, and the relay of a signed spend once its fee rate is checked.
 *
 * @module
 */
import { assert, assertEquals } from "../../assert.ts";
import { startMethodFuzzTarget } from "../node/methods/method_fuzz.ts";

/** Satoshis of a BTC amount as the RPCs give it. */
export const sats = (value: number) => Math.round(value * 1e8);

/** A call to a wallet (the node's wallet RPCs), as the target makes it. */
export type WalletCall = Awaited<ReturnType<typeof startMethodFuzzTarget>>["walletCall"];

/** A call to the node, as the target makes it. */
export type NodeCall = Awaited<ReturnType<typeof startMethodFuzzTarget>>["node"]["call"];

/**
 * Relays the signed transaction `hex` and mines it to `miner`, once its
 * `fee` (BTC) is checked to pay `rate` sat/vB as signed: at least that,
 * and at most 3% more (the signatures weighed at their most).
 */
export async function relayPaying(
  node: NodeCall,
  miner: string,
  hex: string,
  fee: number,
  rate: number,
) {
  const { vsize } = await node("decoderawtransaction", [hex]);
  const paid = sats(fee) / vsize;
  assert(paid >= rate && paid <= rate * 1.03, `fee rate ${paid} sat/vB for ${vsize} vB`);
  await node("sendrawtransaction", [hex]);
  await node("generatetoaddress", [1, miner]);
}

/**
 * A node and wallet processes with three signer wallets, `s0` to `s2`;
 * `chainKeys` gives each signer's account key of `kind` (`pkh`, `wpkh`)
 * with its origin and its receiving or change chain, as the signer's
 * `listdescriptors` shows it (Core's `_get_xpub`).
 */
export async function startSigners() {
  const target = await startMethodFuzzTarget();
  const call = target.walletCall;
  const signers = ["s0", "s1", "s2"];
  try {
    for (const name of signers) assertEquals(await call("createwallet", [name]), { name });
  } catch (error) {
    await target[Symbol.asyncDispose]();
    throw error;
  }
  const chainKeys = async (kind: string, internal: boolean) =>
    await Promise.all(signers.map(async (signer) => {
      const { descriptors } = await call("listdescriptors", [], signer);
      const { desc } = descriptors.find((d: { desc: string; internal: boolean }) =>
        d.desc.startsWith(`${kind}(`) && d.internal === internal
      );
      return desc.slice(`${kind}(`.length, desc.indexOf(")")) as string;
    }));
  return {
    target,
    call,
    node: target.node.call,
    external: target.context.addresses[4], // no wallet's
    chainKeys,
  };
}
