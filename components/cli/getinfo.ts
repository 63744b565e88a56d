/**
 * bitcoin-cli's `-getinfo` (Core v30.0's `GetinfoRequestHandler`,
 * `GetWalletBalances` and `ParseGetInfoResult`): one batch of
 * `getnetworkinfo`, `getblockchaininfo`, `getwalletinfo` and `getbalances`
 * (the wallet calls may fail), each loaded wallet's balance when several
 * are and no `-rpcwallet` is given, printed as Core's human-readable
 * report, coloured on a terminal or with `-color=always`.
 *
 * @example
 * ```ts
 * import { getinfoText } from "./getinfo.ts";
 * import { parseJson } from "../rpc/json.ts";
 * const text = getinfoText(parseJson(
 *   '{"version":300000,"blocks":0,"headers":0,"verificationprogress":1,"timeoffset":0,' +
 *     '"connections":{"in":0,"out":0,"total":0},"networks":[],"difficulty":4.656542373906925e-10,' +
 *     '"chain":"regtest","relayfee":0.00001000,"warnings":[]}',
 * ), false);
 * if (!text.startsWith("Chain: regtest\nBlocks: 0\nHeaders: 0\nVerification progress: 100.0000%\n")) {
 *   throw new Error(text);
 * }
 * ```
 * @module
 */
import {
  asArr,
  asInt,
  asObj,
  asReal,
  asStr,
  type Json,
  type JsonInput,
  JsonObject,
} from "../rpc/json.ts";
import {
  type CallContext,
  CliError,
  connectAndCallRpc,
  DefaultRequestHandler,
  member,
  replyObject,
  type RequestHandler,
  requestObject,
} from "./call.ts";
import { valueText } from "./output.ts";

const ID_NETWORKINFO = 0;
const ID_BLOCKCHAININFO = 1;
const ID_WALLETINFO = 2;
const ID_BALANCES = 3;

/** Core's `JSONRPCProcessBatchReply`: the batch's replies indexed by their ids. */
function batchById(reply: Json): Json[] {
  if (!Array.isArray(reply)) throw new CliError("Batch must be an array");
  const batch: Json[] = reply.map(() => null);
  for (const record of reply) {
    if (!(record instanceof JsonObject)) throw new CliError("Batch member must be an object");
    const id = asInt(member(record, "id"));
    if (id < 0 || id >= batch.length) {
      throw new CliError("Batch member id is larger than batch size");
    }
    batch[id] = record;
  }
  return batch;
}

/** `-getinfo`'s batch, folded into one result object. */
export class GetinfoHandler implements RequestHandler {
  prepare(_method: string, words: readonly string[]): JsonInput {
    if (words.length > 0) throw new CliError("-getinfo takes no arguments");
    return ["getnetworkinfo", "getblockchaininfo", "getwalletinfo", "getbalances"]
      .map((method, id) => requestObject(method, null, id));
  }

  process(reply: Json): JsonObject {
    const batch = batchById(reply);
    for (const id of [ID_NETWORKINFO, ID_BLOCKCHAININFO]) {
      if (member(batch[id], "error") !== null) return asObj(batch[id]);
    }
    const network = member(batch[ID_NETWORKINFO], "result");
    const chain = member(batch[ID_BLOCKCHAININFO], "result");
    const wallet = member(batch[ID_WALLETINFO], "result");
    const balances = member(batch[ID_BALANCES], "result");
    const result = new JsonObject([
      ["version", member(network, "version")],
      ["blocks", member(chain, "blocks")],
      ["headers", member(chain, "headers")],
      ["verificationprogress", member(chain, "verificationprogress")],
      ["timeoffset", member(network, "timeoffset")],
      [
        "connections",
        new JsonObject([
          ["in", member(network, "connections_in")],
          ["out", member(network, "connections_out")],
          ["total", member(network, "connections")],
        ]),
      ],
      ["networks", member(network, "networks")],
      ["difficulty", member(chain, "difficulty")],
      ["chain", member(chain, "chain")],
    ]);
    if (wallet !== null) {
      result.push("has_wallet", true);
      result.push("keypoolsize", member(wallet, "keypoolsize"));
      result.push("walletname", member(wallet, "walletname"));
      const unlockedUntil = member(wallet, "unlocked_until");
      if (unlockedUntil !== null) result.push("unlocked_until", unlockedUntil);
      result.push("paytxfee", member(wallet, "paytxfee"));
    }
    if (balances !== null) result.push("balance", member(member(balances, "mine"), "trusted"));
    result.push("relayfee", member(network, "relayfee"));
    result.push("warnings", member(network, "warnings"));
    return replyObject(result);
  }
}

/**
 * Core's `GetWalletBalances`: with more than one wallet loaded, each one's
 * trusted balance under `balances`.
 */
export async function addWalletBalances(context: CallContext, result: Json): Promise<void> {
  const handler = new DefaultRequestHandler(context.settings.args.getBool("named", false));
  const listed = await connectAndCallRpc(context, handler, "listwallets", [], undefined);
  if (member(listed, "error") !== null) return;
  const wallets = member(listed, "result");
  if (walletCount(wallets) <= 1) return;
  const balances = new JsonObject();
  for (const name of asArr(wallets)) {
    const walletName = asStr(name);
    const reply = await connectAndCallRpc(context, handler, "getbalances", [], walletName);
    const balance = member(member(member(reply, "result"), "mine"), "trusted");
    const at = balances.keys.indexOf(walletName);
    if (at >= 0) balances.values[at] = balance;
    else balances.push(walletName, balance);
  }
  if (result instanceof JsonObject) result.push("balances", balances);
}

/** UniValue's `size()`: the entries of an array or object, 0 for anything else. */
function walletCount(value: Json): number {
  if (Array.isArray(value)) return value.length;
  return value instanceof JsonObject ? value.size : 0;
}

/** Core's `GetProgressBar`: 5% steps, filled then empty. */
function progressBar(progress: number): string {
  if (progress < 0 || progress > 1) return "";
  let bar = "";
  for (let i = 0; i < progress / 0.05; ++i) bar += "\u2592";
  for (let i = 0; i < (1 - progress) / 0.05; ++i) bar += "\u2591";
  return bar;
}

/** Whether to colour: `-color` (`always`, `never`, `auto`), else whether stdout is a terminal. */
export function shouldColorize(color: string, stdoutIsTerminal: boolean): boolean {
  if (color === "always") return true;
  if (color === "never") return false;
  if (color !== "auto") {
    throw new CliError("Invalid value for -color option. Valid values: always, auto, never.");
  }
  return stdoutIsTerminal;
}

/** Core's `ParseGetInfoResult`: the report printed for `-getinfo`'s result. */
export function getinfoText(result: Json, colorize: boolean): string {
  const [reset, green, blue, yellow, magenta, cyan] = colorize
    ? ["\x1B[0m", "\x1B[32m", "\x1B[34m", "\x1B[33m", "\x1B[35m", "\x1B[36m"]
    : ["", "", "", "", "", ""];
  const field = (key: string) => valueText(member(result, key));
  let text = `${blue}Chain: ${field("chain")}${reset}\n`;
  text += `Blocks: ${field("blocks")}\n`;
  text += `Headers: ${field("headers")}\n`;
  const progress = asReal(member(result, "verificationprogress"));
  // The bar only below 99%.
  const bar = progress < 0.99 ? `${progressBar(progress)} ` : "";
  text += `Verification progress: ${bar}${(progress * 100).toFixed(4)}%\n`;
  text += `Difficulty: ${field("difficulty")}\n\n`;
  const connections = member(result, "connections");
  const count = (key: string) => valueText(member(connections, key));
  text += `${green}Network: in ${count("in")}, out ${count("out")}, total ${
    count("total")
  }${reset}\n`;
  text += `Version: ${field("version")}\n`;
  text += `Time offset (s): ${field("timeoffset")}\n`;
  const proxies = new Map<string, string[]>();
  const networks = member(result, "networks");
  for (const network of Array.isArray(networks) ? networks : []) {
    const proxy = valueText(member(network, "proxy"));
    if (proxy === "") continue;
    proxies.set(proxy, [...proxies.get(proxy) ?? [], valueText(member(network, "name"))]);
  }
  const listed = [...proxies].map(([proxy, names]) => `${proxy} (${names.join(", ")})`);
  text += `Proxies: ${listed.length === 0 ? "n/a" : listed.join(", ")}\n`;
  text += `Min tx relay fee rate (BTC/kvB): ${field("relayfee")}\n\n`;
  if (member(result, "has_wallet") !== null) {
    const name = field("walletname");
    text += `${magenta}Wallet: ${name === "" ? '""' : name}${reset}\n`;
    text += `Keypool size: ${field("keypoolsize")}\n`;
    if (member(result, "unlocked_until") !== null) {
      text += `Unlocked until: ${field("unlocked_until")}\n`;
    }
    text += `Transaction fee rate (-paytxfee) (BTC/kvB): ${field("paytxfee")}\n\n`;
  }
  if (member(result, "balance") !== null) text += `${cyan}Balance:${reset} ${field("balance")}\n\n`;
  const balances = member(result, "balances");
  if (balances instanceof JsonObject) {
    text += `${cyan}Balances${reset}\n`;
    const width = Math.max(10, ...balances.values.map((value) => valueText(value).length));
    for (const [name, balance] of balances.entries()) {
      text += `${valueText(balance).padStart(width)} ${name === "" ? '""' : name}\n`;
    }
    text += "\n";
  }
  const warnings = field("warnings");
  text += `${yellow}Warnings:${reset} ${warnings === "" ? "(none)" : warnings}`;
  return text;
}
