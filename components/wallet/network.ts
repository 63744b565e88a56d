/**
 * The regtest network as a wallet sees it: address prefixes, extended-key
 * versions and the BIP44 coin type every test network uses.
 *
 * @example
 * ```ts
 * import { REGTEST } from "./network.ts";
 * if (REGTEST.bech32 !== "bcrt" || REGTEST.coinType !== 1) throw new Error("regtest");
 * ```
 * @module
 */

/** Regtest's prefixes, in the shape `@scure/btc-signer` takes a network. */
export const REGTEST = Object.freeze({
  /** Human-readable part of segwit addresses. */
  bech32: "bcrt",
  /** Version byte of base58 P2PKH addresses (`m…`/`n…`). */
  pubKeyHash: 0x6f,
  /** Version byte of base58 P2SH addresses (`2…`). */
  scriptHash: 0xc4,
  /** Version byte of WIF private keys. */
  wif: 0xef,
  /** BIP44 coin type of test networks (`1h` in key paths). */
  coinType: 1,
});

/** Extended-key versions of test networks (`tprv`, `tpub`), for `@scure/bip32`. */
export const TEST_VERSIONS = Object.freeze({ private: 0x04358394, public: 0x043587cf });

/** Blocks a coinbase output waits before it may be spent (Core's COINBASE_MATURITY). */
export const COINBASE_MATURITY = 100;
