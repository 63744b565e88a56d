/**
 * Output descriptors as Bitcoin Core's descriptor wallets write them: the
 * BIP 380 checksum, the ranged descriptors of an account — `pkh()` (BIP 44,
 * `legacy`), `sh(wpkh())` (BIP 49, `p2sh-segwit`), `wpkh()` (BIP 84,
 * `bech32`) and `tr()` (BIP 86, `bech32m`) — and the single-key descriptor
 * of one of their addresses (`getaddressinfo`'s `desc`), a multisig one's too,
 * each with its checksum (`components/bitcoin/descriptor_checksum.ts`).
 *
 * @example
 * ```ts
 * import { keyDescriptor } from "./descriptor.ts";
 * const key = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";
 * const desc = keyDescriptor("wpkh", 0x12345678, "m/84h/1h/0h/0/3", key);
 * if (!desc.startsWith(`wpkh([12345678/84h/1h/0h/0/3]${key})#`)) throw new Error(desc);
 * ```
 * @module
 */
import { withChecksum } from "../bitcoin/descriptor_checksum.ts";
import { treeText } from "../bitcoin/taptree.ts";

/** The descriptor types a wallet keeps, Core's four: `pkh`, `sh(wpkh)`, `wpkh` and `tr`. */
export type DescriptorKind = "pkh" | "sh_wpkh" | "wpkh" | "tr";

/** Core's name of each kind's output type (`getnewaddress`' address types). */
export const OUTPUT_TYPE: Readonly<Record<DescriptorKind, string>> = {
  pkh: "legacy",
  sh_wpkh: "p2sh-segwit",
  wpkh: "bech32",
  tr: "bech32m",
};

/** `getnewaddress`' address types: the descriptor kind of each of Core's names. */
export const ADDRESS_TYPES: Readonly<Record<string, DescriptorKind>> = Object.fromEntries(
  Object.entries(OUTPUT_TYPE).map(([kind, type]) => [type, kind as DescriptorKind]),
);

/** BIP 44-style purpose of each kind. */
export const PURPOSE: Readonly<Record<DescriptorKind, number>> = {
  pkh: 44,
  sh_wpkh: 49,
  wpkh: 84,
  tr: 86,
};

/** `kind`'s descriptor around the key expression `key`: `pkh(K)`, `sh(wpkh(K))`, `wpkh(K)`, `tr(K)`. */
function around(kind: DescriptorKind, key: string): string {
  return kind === "sh_wpkh" ? `sh(wpkh(${key}))` : `${kind}(${key})`;
}

/** `m/<purpose>h/<coin>h/0h`, Core's notation with `h`. */
export function accountPath(kind: DescriptorKind, coinType: number): string {
  return `m/${PURPOSE[kind]}h/${coinType}h/0h`;
}

/** A fingerprint as eight hex digits. */
export function fingerprintHex(fingerprint: number): string {
  return (fingerprint >>> 0).toString(16).padStart(8, "0");
}

/** The key origin `[fingerprint/path]` of `path` (`m/…`). */
function origin(fingerprint: number, path: string): string {
  return `[${fingerprintHex(fingerprint)}${path.slice(1)}]`;
}

/**
 * The ranged descriptor of an account, as `listdescriptors` shows it:
 * `wpkh([fp/84h/1h/0h]tpub…/0/*)#checksum`, the internal (change) chain
 * ending in `/1/*`.
 */
export function rangedDescriptor(
  kind: DescriptorKind,
  fingerprint: number,
  path: string,
  extendedKey: string,
  internal: boolean,
): string {
  return withChecksum(
    around(kind, `${origin(fingerprint, path)}${extendedKey}/${internal ? 1 : 0}/*`),
  );
}

/**
 * An account's ranged descriptor with its private key, as Core's
 * `listdescriptors true` shows it: the master `tprv` and the whole path
 * (`wpkh(tprv…/84h/1h/0h/0/*)#checksum`), so that no child private key is
 * shown beside its parent's public one.
 */
export function privateRangedDescriptor(
  kind: DescriptorKind,
  masterKey: string,
  chainPath: string,
): string {
  return withChecksum(around(kind, `${masterKey}${chainPath.slice(1)}/*`));
}

/** The descriptor of one derived key: `wpkh([fp/84h/1h/0h/0/3]<pubkey hex>)#checksum`. */
export function keyDescriptor(
  kind: DescriptorKind,
  fingerprint: number,
  path: string,
  keyHex: string,
): string {
  return withChecksum(around(kind, `${origin(fingerprint, path)}${keyHex}`));
}

/**
 * The descriptor of one multisig address, as Core infers it from the
 * script (`getaddressinfo`'s `desc`): `multi()` of its keys in the
 * script's order, each with its origin, in `kind`'s wrapping —
 * `wsh(multi(2,[fp/48h/1h/0h/2h/0/3]<pubkey hex>,…))#checksum` for `wpkh`,
 * `sh(wsh(…))` for `sh_wpkh`, `sh(…)` for `pkh`.
 */
export function multisigDescriptor(
  kind: DescriptorKind,
  threshold: number,
  keys: readonly { fingerprint: number; path: string; keyHex: string }[],
): string {
  const multi = `multi(${threshold},${
    keys.map((key) => `${origin(key.fingerprint, key.path)}${key.keyHex}`).join(",")
  })`;
  const wrapped = kind === "wpkh"
    ? `wsh(${multi})`
    : kind === "sh_wpkh"
    ? `sh(wsh(${multi}))`
    : `sh(${multi})`;
  return withChecksum(wrapped);
}

/** A key as a descriptor writes it with its origin: `[fp/path]<key hex>`. */
interface WrittenKey {
  readonly fingerprint: number;
  readonly path: string;
  readonly keyHex: string;
}

/** A tapscript leaf as Core infers it from its script: `pk()`, `pkh()`, or `multi_a()` in the script's order. */
export interface WrittenLeaf {
  readonly depth: number;
  readonly leaf: "pk" | "pkh" | "multi_a";
  readonly threshold: number;
  readonly keys: readonly WrittenKey[];
}

/**
 * The descriptor of one `tr(KEY,TREE)` address, as Core infers it from
 * what its signing provider knows (`getaddressinfo`'s `desc`): keys with
 * their origins (x-only but a `pkh()` leaf's), the leaves in the order Core's
 * `InferTaprootTree` finds them, a `sortedmulti_a()` one as the
 * `multi_a()` its script is.
 */
export function taprootTreeDescriptor(
  internal: WrittenKey,
  leaves: readonly WrittenLeaf[],
): string {
  const key = (k: WrittenKey) => `${origin(k.fingerprint, k.path)}${k.keyHex}`;
  const texts = leaves.map(({ leaf, threshold, keys }) =>
    leaf === "multi_a"
      ? `multi_a(${threshold},${keys.map(key).join(",")})`
      : `${leaf}(${key(keys[0])})`
  );
  return withChecksum(`tr(${key(internal)},${treeText(texts, leaves.map((l) => l.depth))})`);
}
