/**
 * The wallet process's options, bitcoind's names: `-wallet=<name>`
 * (repeatable: the wallets to load at start, created when missing),
 * `-fallbackfee=<BTC/kvB>` (0, regtest's default, disables it), and
 * `-ipcconnect=unix[:path]`, the node to attach to, `-ipccookiefile=<path>`,
 * the node's IPC cookie to present there, and `-ipcreattach`: when the node
 * goes, wait for it and attach again (without it the process exits, for
 * its supervisor to decide).
 *
 * @example
 * ```ts
 * import { parseWalletArgs } from "./options.ts";
 * const options = parseWalletArgs(["-wallet=a", "-wallet=b", "-fallbackfee=0.0002"]);
 * if (options.wallets.join() !== "a,b" || options.fallbackFee !== 20_000n) throw new Error();
 * ```
 * @module
 */

/** What the wallet process was asked for. */
export interface WalletOptions {
  readonly wallets: string[];
  /** Satoshis per 1000 virtual bytes. */
  readonly fallbackFee: bigint;
  /** `-ipcconnect`'s address, or null. */
  readonly connect: string | null;
  /** `-ipccookiefile`: the node's IPC cookie to present, or null (beside its socket). */
  readonly cookieFile: string | null;
  /** `-ipcreattach`: wait for a node that went and attach again, instead of exiting. */
  readonly reattach: boolean;
}

/** `text` (BTC with up to 8 decimals) in satoshis; undefined when it is not one. */
export function parseBtc(text: string): bigint | undefined {
  const match = /^(\d{1,8})(?:\.(\d{0,8}))?$/.exec(text);
  if (match === null) return undefined;
  return BigInt(match[1]) * 100_000_000n + BigInt((match[2] ?? "").padEnd(8, "0"));
}

/** Reads the wallet options from `args`; throws a one-line error for a bad value. */
export function parseWalletArgs(args: readonly string[]): WalletOptions {
  const wallets: string[] = [];
  let fallbackFee = 0n;
  let connect: string | null = null;
  let cookieFile: string | null = null;
  let reattach = false;
  for (const arg of args) {
    const flag = /^--?(no)?ipcreattach(?:=([01]))?$/.exec(arg);
    if (flag !== null) {
      reattach = (flag[1] === undefined) === (flag[2] !== "0");
      continue;
    }
    const match = /^--?(wallet|fallbackfee|ipcconnect|ipccookiefile)=(.*)$/.exec(arg);
    if (match === null) continue;
    const [, name, value] = match;
    if (name === "wallet") wallets.push(value);
    else if (name === "ipcconnect") connect = value;
    else if (name === "ipccookiefile") cookieFile = value;
    else {
      const fee = parseBtc(value);
      if (fee === undefined) {
        throw new Error(`Invalid amount for -fallbackfee=<amount>: '${value}'`);
      }
      fallbackFee = fee;
    }
  }
  return { wallets, fallbackFee, connect, cookieFile, reattach };
}
