/**
 * Regtest addresses as Bitcoin Core decodes them (`DecodeDestination`):
 * base58 P2PKH and P2SH, and segwit programs of every witness version
 * (BIP 173 bech32 for version 0, BIP 350 bech32m above), shared by the
 * node and the wallet.
 *
 * @example
 * ```ts
 * import { addressToScript } from "./address.ts";
 * // A witness version 2 program: valid, though no rule spends it yet.
 * const script = addressToScript("bcrt1zqurswpc8qurswpc8qurswpc8qurswpc8qurswpc8qurswpc8qurszqtpkz");
 * if (script[0] !== 0x52 || script.length !== 34) throw new Error("OP_2 and a 32-byte program");
 * ```
 * @module
 */
import { Address, OutScript } from "@scure/btc-signer";
import { bech32, bech32m } from "@scure/base";

/** `@scure/btc-signer`'s network description of regtest. */
export const REGTEST_NETWORK = Object.freeze({
  bech32: "bcrt",
  pubKeyHash: 0x6f,
  scriptHash: 0xc4,
  wif: 0xef,
});

const base58Addresses = Address(REGTEST_NETWORK);

/**
 * The output script a regtest address pays to: base58 P2PKH / P2SH through
 * scure, and segwit addresses of every witness version (BIP 173 bech32 for
 * version 0, BIP 350 bech32m above) as Core's `DecodeDestination` accepts
 * them. Throws `Invalid address: <address>` (the decoder's reason as
 * `cause`) for anything else, mainnet addresses included.
 */
export function addressToScript(address: string): Uint8Array {
  try {
    if (address.toLowerCase().startsWith(`${REGTEST_NETWORK.bech32}1`)) {
      return segwitScript(address);
    }
    const decoded = base58Addresses.decode(address);
    if (decoded.type !== "pkh" && decoded.type !== "sh") throw new Error("not a base58 address");
    return OutScript.encode(decoded);
  } catch (cause) {
    throw new Error(`Invalid address: ${address}`, { cause });
  }
}

function segwitScript(address: string): Uint8Array {
  const lower = address.toLowerCase();
  if (address !== lower && address !== address.toUpperCase()) throw new Error("mixed case");
  const bech = bech32.decodeUnsafe(lower, 90);
  const decoded = bech ?? bech32m.decode(lower as `${string}1${string}`, 90);
  const [version, ...words] = decoded.words;
  const program = bech32.fromWords(words);
  if (decoded.prefix !== REGTEST_NETWORK.bech32) throw new Error("wrong prefix");
  if (version > 16 || program.length < 2 || program.length > 40) {
    throw new Error("bad witness program");
  }
  if ((version === 0) !== (bech !== undefined)) throw new Error("wrong checksum variant");
  if (version === 0 && program.length !== 20 && program.length !== 32) {
    throw new Error("bad v0 length");
  }
  return Uint8Array.of(version === 0 ? 0 : 0x50 + version, program.length, ...program);
}
