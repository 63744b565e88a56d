/**
 * The `signer` method of Bitcoin Core v30 (`rpc/external_signer.cpp`):
 * enumeratesigners, with Core's help text. bitcoind lists external signers
 * (hardware wallets) by running the `-signer=<cmd>` program; this node
 * takes no `-signer` option and runs no programs, so it always answers as
 * bitcoind does without one: -1 `Error: restart bitcoind with -signer=<cmd>`.
 * The method is still served, as a bitcoind built with external signer
 * support serves it, so `help` lists its `== Signer ==` section between
 * Rawtransactions and Util.
 *
 * @example
 * ```ts
 * import { signerMethods } from "./signer.ts";
 * const [method] = signerMethods();
 * if (method.name !== "enumeratesigners" || method.category !== "signer") throw new Error("shape");
 * ```
 * @module
 */
import {
  defineMethod,
  helpExampleCli,
  helpExampleRpc,
  RpcError,
  RpcErrorCode,
  type RpcMethod,
} from "../../rpc/mod.ts";
import { arr, hexStr, obj, str } from "./docs.ts";

/** The signer category's methods. */
export function signerMethods(): RpcMethod[] {
  return [
    defineMethod({
      name: "enumeratesigners",
      category: "signer",
      description: "Returns a list of external signers from -signer.",
      result: obj("", "", [
        arr("signers", "", [
          obj("", "", [
            hexStr("fingerprint", "Master key fingerprint"),
            str("name", "Device name"),
          ]),
        ]),
      ]),
      examples: helpExampleCli("enumeratesigners", "") + helpExampleRpc("enumeratesigners", ""),
      handler() {
        // `gArgs.GetArg("-signer", "")` is always empty here.
        throw new RpcError(RpcErrorCode.MISC_ERROR, "Error: restart bitcoind with -signer=<cmd>");
      },
    }),
  ];
}
