/**
 * bitcoin-cli's `-generate`: `getnewaddress` (in `-rpcwallet`'s wallet),
 * then `generatetoaddress` to that address, printed as Core v30.0 prints
 * it: `{"address": …, "blocks": [...]}`.
 *
 * @module
 */
import { asObj, type Json, type JsonInput, type JsonObject, toJson } from "../rpc/json.ts";
import { CliError, member, replyObject, type RequestHandler, requestObject } from "./call.ts";
import { convertPositional } from "./convert.ts";
import { DEFAULT_NBLOCKS } from "./options.ts";

/**
 * The words `generatetoaddress` gets from `-generate [nblocks [maxtries]]`
 * and the new address (Core's `SetGenerateToAddressArgs`).
 *
 * @example
 * ```ts
 * import { generateWords } from "./generate.ts";
 * if (generateWords("bcrt1qx", []).join(" ") !== "1 bcrt1qx") throw new Error();
 * if (generateWords("bcrt1qx", ["4", "1000"]).join(" ") !== "4 bcrt1qx 1000") throw new Error();
 * ```
 */
export function generateWords(address: string, words: readonly string[]): string[] {
  if (words.length > 2) {
    throw new CliError("too many arguments (maximum 2 for nblocks and maxtries)");
  }
  if (words.length === 0) return [DEFAULT_NBLOCKS, address];
  if (words[0] === "0") {
    throw new CliError(
      `the first argument (number of blocks to generate, default: ${DEFAULT_NBLOCKS}) must be an integer value greater than zero`,
    );
  }
  return [words[0], address, ...words.slice(1)];
}

/** `generatetoaddress` with the words of {@linkcode generateWords}; prints the address and the blocks. */
export class GenerateToAddressHandler implements RequestHandler {
  #address = "";

  prepare(_method: string, words: readonly string[]): JsonInput {
    this.#address = words[1];
    return requestObject("generatetoaddress", convertPositional("generatetoaddress", words), 1);
  }

  process(reply: Json): JsonObject {
    // As Core: an error reply leaves "blocks" null rather than being reported.
    const result = new Map<string, JsonInput>([
      ["address", this.#address],
      ["blocks", member(asObj(reply), "result")],
    ]);
    return replyObject(toJson(result));
  }
}
