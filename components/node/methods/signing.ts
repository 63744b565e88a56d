/**
 * Signing raw transactions with given keys, as Bitcoin Core's
 * `signrawtransactionwithkey` and `combinerawtransaction` do
 * (`rpc/rawtransaction_util.cpp`, `script/sign.cpp`): the spent coins come
 * from the UTXO set and the mempool (`FindCoins`) and from `prevtxs`
 * (`ParsePrevouts`, with Core's checks and texts); every input is then
 * signed where a key fits — P2PKH and P2WPKH with ECDSA (low R, as Core
 * grinds), P2TR by the key path with the tweaked key (Core v30 itself
 * cannot: it finds no taproot spend data for a bare key), and P2SH-P2WPKH
 * with the key alone (Core's `ImplicitlyLearnRelatedKeyScripts`) — and
 * verified with the node's script interpreter, whose failures become the
 * per-input `errors` in Core's words. Other templates (P2PK, multisig,
 * P2WSH, script paths) are not signed: the interpreter validates none of
 * them, and their inputs report its error.
 *
 * @example
 * ```ts
 * import { parseSighash } from "./signing.ts";
 * // `signrawtransactionwithkey`'s sighashtype, as Core reads it.
 * if (parseSighash("ALL|ANYONECANPAY") !== 0x81) throw new Error("ALL|ANYONECANPAY is 0x81");
 * ```
 * @module
 */
import { ripemd160 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { p2tr } from "@scure/btc-signer";
import { signECDSA, signSchnorr, taprootTweakPrivKey } from "@scure/btc-signer/utils.js";
import {
  bytesEqual,
  type CoinsView,
  decodeSecret,
  hash160,
  MAX_MONEY,
  outpointKey,
  parseScript,
  prevout,
  pushScript,
  type ScriptErrorCode,
  scriptErrorText,
  secretPublicKey,
  SigningProvider,
  type SigVersion,
  solver,
  STANDARD_SCRIPT_VERIFY_FLAGS,
  type Tx,
  TxScriptChecker,
} from "../chain/mod.ts";
import {
  amountFromValue,
  type ArgSpec,
  asInt,
  asObj,
  asStr,
  checkField,
  type Json,
  type JsonInput,
  JsonObject,
  parseHashV,
  parseHexV,
  type ResultSpec,
  RpcError,
  RpcErrorCode,
} from "../../rpc/mod.ts";
import { bool, hexStr, obj, str } from "./docs.ts";
import { scriptToAsm } from "./encoding.ts";

/** Taproot's `SIGHASH_DEFAULT` (ALL, signed without a hash type byte). */
export const SIGHASH_DEFAULT = 0;
const SIGHASH_ALL = 1;
const SIGHASH_SINGLE = 3;
const SIGHASH_ANYONECANPAY = 0x80;

/** Core's `SighashFromStr` names. */
export const SIGHASH_NAMES: readonly (readonly [string, number])[] = [
  ["DEFAULT", SIGHASH_DEFAULT],
  ["ALL", SIGHASH_ALL],
  ["NONE", 2],
  ["SINGLE", SIGHASH_SINGLE],
  ["ALL|ANYONECANPAY", SIGHASH_ALL | SIGHASH_ANYONECANPAY],
  ["NONE|ANYONECANPAY", 2 | SIGHASH_ANYONECANPAY],
  ["SINGLE|ANYONECANPAY", SIGHASH_SINGLE | SIGHASH_ANYONECANPAY],
];

/** An output being spent, as signing knows it (amount `MAX_MONEY` when not given). */
export interface SpentCoin {
  readonly amount: bigint;
  readonly script: Uint8Array;
}

/** The coins a transaction's inputs spend, by outpoint key; absent when unknown or spent. */
export type SpentCoins = Map<string, SpentCoin>;

/** Core's `ParseSighashString`: the hash type named, `DEFAULT` when null. */
export function parseSighash(value: Json): number {
  if (value === null) return SIGHASH_DEFAULT;
  const name = asStr(value);
  const found = SIGHASH_NAMES.find(([n]) => n === name);
  if (!found) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      `'${name}' is not a valid sighash parameter.`,
    );
  }
  return found[1];
}

/** The `sighashtype` argument of the methods that sign PSBTs, in Core's words. */
const PSBT_SIGHASH_ARG: ArgSpec = {
  name: "sighashtype",
  type: "str",
  defaultHint: "DEFAULT for Taproot, ALL otherwise",
  description:
    "The signature hash type to sign with if not specified by the PSBT. Must be one of\n" +
    SIGHASH_NAMES.map(([name]) => `       "${name}"`).join("\n"),
};

/** The `bip32derivs` argument of the methods that make or sign PSBTs. */
export const BIP32_DERIVS_ARG: ArgSpec = {
  name: "bip32derivs",
  type: "bool",
  default: true,
  description: "Include BIP 32 derivation paths for public keys if we know them",
};

/** The last arguments of the methods that sign PSBTs: `sighashtype`, `bip32derivs`, `finalize`. */
export const PSBT_SIGNING_ARGS: readonly ArgSpec[] = [PSBT_SIGHASH_ARG, BIP32_DERIVS_ARG, {
  name: "finalize",
  type: "bool",
  default: true,
  description: "Also finalize inputs if possible",
}];

/** What the methods that sign PSBTs answer: the PSBT, whether complete, and then its transaction. */
export const SIGNED_PSBT_RESULT: ResultSpec = obj("", "", [
  str("psbt", "The base64-encoded partially signed transaction"),
  bool("complete", "If the transaction has a complete set of signatures"),
  { ...hexStr("hex", "The hex-encoded network transaction if complete"), optional: true },
]);

/** Core's `FindCoins`: each input's coin in the UTXO set or among mempool outputs. */
export function findCoins(tx: Tx, view: CoinsView): SpentCoins {
  const coins: SpentCoins = new Map();
  for (const input of tx.inputs) {
    const outpoint = prevout(input);
    const coin = view.getCoin(outpoint);
    if (coin) coins.set(outpointKey(outpoint), { amount: coin.amount, script: coin.script });
  }
  return coins;
}

/** P2SH/P2WSH output scripts of a script, for the `redeemScript`/`witnessScript` checks. */
function scriptHashOutputs(script: Uint8Array) {
  const p2wsh = Uint8Array.of(0x00, 0x20, ...sha256(script));
  const p2sh = (inner: Uint8Array) => Uint8Array.of(0xa9, 0x14, ...hash160(inner), 0x87);
  return { p2wsh, p2sh: p2sh(script), p2shP2wsh: p2sh(p2wsh) };
}

/**
 * Core's `ParsePrevouts`: the `prevtxs` entries added to (or replacing)
 * `coins`, with Core's checks: the fields' types, a scriptPubKey that
 * contradicts a known coin, and the scripts of P2SH and P2WSH outputs,
 * which go to `keys` for signing.
 */
export function parsePrevouts(prevtxs: Json, coins: SpentCoins, keys?: SigningProvider): void {
  if (prevtxs === null) return;
  for (const item of prevtxs as Json[]) {
    if (!(item instanceof JsonObject)) {
      throw new RpcError(
        RpcErrorCode.DESERIALIZATION_ERROR,
        `expected object with {"txid'","vout","scriptPubKey"}`,
      );
    }
    const o = asObj(item);
    for (
      const [key, type] of [["scriptPubKey", "string"], ["txid", "string"], [
        "vout",
        "number",
      ]] as const
    ) {
      checkField(o, key, type);
    }
    const txidHex = parseHashV(o.get("txid")!, "txid");
    const vout = asInt(o.get("vout")!);
    if (vout < 0) throw new RpcError(RpcErrorCode.DESERIALIZATION_ERROR, "vout cannot be negative");
    const script = parseHexV(o.get("scriptPubKey")!, "scriptPubKey");
    const key = `${txidHex}:${vout}`;
    const known = coins.get(key);
    if (known && !bytesEqual(known.script, script)) {
      throw new RpcError(
        RpcErrorCode.DESERIALIZATION_ERROR,
        `Previous output scriptPubKey mismatch:\n${scriptToAsm(known.script)}\nvs:\n${
          scriptToAsm(script)
        }`,
      );
    }
    const amountValue = o.get("amount");
    coins.set(key, {
      amount: amountValue === undefined ? MAX_MONEY : amountFromValue(amountValue),
      script,
    });
    const { type } = solver(script);
    if (type === "scripthash" || type === "witness_v0_scripthash") {
      for (const given of checkScripts(o, script, type === "scripthash")) keys?.addScript(given);
    }
  }
}

/**
 * The `redeemScript`/`witnessScript` checks of a P2SH or P2WSH prevout; the
 * scripts to sign with.
 */
function checkScripts(o: JsonObject, spk: Uint8Array, isP2sh: boolean): Uint8Array[] {
  checkField(o, "redeemScript", "string", true);
  checkField(o, "witnessScript", "string", true);
  const rs = o.get("redeemScript") ?? null;
  const ws = o.get("witnessScript") ?? null;
  if (rs === null && ws === null) {
    throw new RpcError(RpcErrorCode.INVALID_PARAMETER, "Missing redeemScript/witnessScript");
  }
  const script = ws !== null ? parseHexV(ws, "witnessScript") : parseHexV(rs!, "redeemScript");
  const outputs = scriptHashOutputs(script);
  if (ws !== null && rs !== null && asStr(ws) !== asStr(rs)) {
    if (!bytesEqual(parseHexV(rs, "redeemScript"), outputs.p2wsh)) {
      throw new RpcError(
        RpcErrorCode.INVALID_PARAMETER,
        "redeemScript does not correspond to witnessScript",
      );
    }
  }
  const matches = isP2sh
    ? bytesEqual(spk, outputs.p2sh) || bytesEqual(spk, outputs.p2shP2wsh)
    : bytesEqual(spk, outputs.p2wsh);
  if (!matches) {
    throw new RpcError(
      RpcErrorCode.INVALID_PARAMETER,
      "redeemScript/witnessScript does not match scriptPubKey",
    );
  }
  // As Core's, the script's P2WSH output too: a P2SH-P2WSH output is signed with either field.
  return [
    ...[rs, ws].flatMap((given, i) =>
      given === null ? [] : [parseHexV(given, i === 0 ? "redeemScript" : "witnessScript")]
    ),
    outputs.p2wsh,
  ];
}

/** The signing keys of `privkeys`: -5 `Invalid private key` for one that is not WIF. */
export function keysProvider(privkeys: readonly Json[]): SigningProvider {
  const provider = new SigningProvider();
  for (const value of privkeys) {
    const secret = decodeSecret(asStr(value));
    if (!secret) throw new RpcError(RpcErrorCode.INVALID_ADDRESS_OR_KEY, "Invalid private key");
    const pubkey = secretPublicKey(secret);
    provider.addKey(pubkey);
    provider.addSecret(pubkey, secret.key);
    if (secret.compressed) {
      // Its P2WPKH script, for a P2SH-P2WPKH output (Core's ImplicitlyLearnRelatedKeyScripts).
      provider.addScript(Uint8Array.of(0x00, 0x14, ...hash160(pubkey)));
      // A bare key also signs for its BIP 86 taproot output (no script tree).
      const internal = pubkey.subarray(1);
      provider.addTaproot(p2tr(internal).script.subarray(2), internal);
    }
  }
  return provider;
}

/** The per-input failure texts Core reports (`SignTransaction`). */
function errorText(code: ScriptErrorCode): string {
  if (code === "INVALID_STACK_OPERATION") {
    return "Unable to sign input, invalid stack size (possibly missing key)";
  }
  if (code === "SIG_NULLFAIL") {
    return "CHECK(MULTI)SIG failing with non-zero signature (possibly need more signatures)";
  }
  return scriptErrorText(code);
}

/** What signing produced for one input: its scriptSig and witness, when a key or script fitted. */
type Produced = { scriptSig: Uint8Array; witness: Uint8Array[] } | undefined;

/** Core's `PushAll`: empty items as OP_0, one byte 1–16 as OP_N, others pushed. */
function pushAll(items: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(
    items.flatMap((item) =>
      item.length === 1 && item[0] >= 1 && item[0] <= 16 ? [0x50 + item[0]] : [...pushScript(item)]
    ),
  );
}

/**
 * `ProduceSignature`: P2PK, P2PKH, multisig (bare, in P2SH, in P2WSH and in
 * P2SH-P2WSH), P2WPKH (bare or in P2SH) and P2TR by the key path. Redeem
 * and witness scripts come from `keys`, or from the input as it came when
 * they hash to what the output commits to; a multisig keeps the
 * signatures the input already holds for its keys, so several signers can
 * sign in turn, and an incomplete one is kept with empty slots, as Core's.
 */
function produce(
  checker: TxScriptChecker,
  index: number,
  coin: SpentCoin,
  keys: SigningProvider,
  hashType: number,
  scriptSig: Uint8Array,
  witness: readonly Uint8Array[],
): Produced {
  const ecdsaType = hashType === SIGHASH_DEFAULT ? SIGHASH_ALL : hashType;
  const held = [...parseScript(scriptSig).ops.flatMap((op) => op.data ?? []), ...witness]
    .filter((item) => item.length > 0);
  /** `CreateSig`: a signature the input holds for `pubkey`, else one made with its key. */
  const signature = (pubkey: Uint8Array, scriptCode: Uint8Array, version: SigVersion) => {
    const found = held.find((sig) =>
      checker.checkEcdsaSignature(index, sig, pubkey, scriptCode, version)
    );
    if (found) return found;
    const secret = keys.secret(pubkey);
    // Segwit signs only with compressed keys.
    if (!secret || (version === "witness_v0" && pubkey.length !== 33)) return undefined;
    const digest = checker.signatureHash(index, version, ecdsaType, scriptCode);
    return Uint8Array.of(...signECDSA(digest, secret, true), ecdsaType);
  };
  /** `SignStep` for the scripts that end in signatures: the stack items, and whether complete. */
  const signStep = (script: Uint8Array, version: SigVersion) => {
    const { type, solutions } = solver(script);
    if (type === "pubkey") {
      const sig = signature(solutions[0], script, version);
      return { items: sig ? [sig] : [], solved: sig !== undefined };
    }
    if (type === "pubkeyhash") {
      const pubkey = keys.publicKey(solutions[0]);
      const sig = pubkey && signature(pubkey, script, version);
      return { items: sig ? [sig, pubkey] : [], solved: sig !== undefined };
    }
    if (type === "multisig") {
      const required = solutions[0][0];
      const sigs = solutions.slice(1, -1).flatMap((pubkey) =>
        signature(pubkey, script, version) ?? []
      )
        .slice(0, required);
      const empty = Array.from({ length: required - sigs.length }, () => new Uint8Array());
      // The leading empty item is what CHECKMULTISIG consumes beyond its arguments.
      return { items: [new Uint8Array(), ...sigs, ...empty], solved: sigs.length === required };
    }
    return undefined;
  };
  /** A P2WSH program's witness script: from `keys`, or the input's last witness item. */
  const witnessScript = (program: Uint8Array) =>
    keys.script(ripemd160(program)) ??
      (witness.length > 0 && bytesEqual(sha256(witness[witness.length - 1]), program)
        ? witness[witness.length - 1]
        : undefined);
  /** A witness v0 program's signed witness, or undefined. */
  const witnessV0 = (type: string, program: Uint8Array): Uint8Array[] | undefined => {
    if (type === "witness_v0_keyhash") {
      return signStep(keyHashScript(program), "witness_v0")?.items;
    }
    const script = type === "witness_v0_scripthash" ? witnessScript(program) : undefined;
    const step = script && signStep(script, "witness_v0");
    return step && [...step.items, script!];
  };
  try {
    const { type, solutions } = solver(coin.script);
    if (type === "witness_v0_keyhash" || type === "witness_v0_scripthash") {
      const stack = witnessV0(type, solutions[0]);
      return stack?.length ? { scriptSig: new Uint8Array(), witness: stack } : undefined;
    }
    if (type === "scripthash") {
      const last = parseScript(scriptSig).ops.at(-1)?.data;
      const redeem = keys.script(solutions[0]) ??
        (last && bytesEqual(hash160(last), solutions[0]) ? last : undefined);
      if (!redeem) return undefined;
      const inner = solver(redeem);
      if (inner.type === "witness_v0_keyhash" || inner.type === "witness_v0_scripthash") {
        const stack = witnessV0(inner.type, inner.solutions[0]);
        return stack?.length ? { scriptSig: pushScript(redeem), witness: stack } : undefined;
      }
      const step = signStep(redeem, "base");
      return step && { scriptSig: pushAll([...step.items, redeem]), witness: [] };
    }
    if (type === "witness_v1_taproot") {
      const internal = keys.taprootInternalKey(solutions[0]);
      const secret = internal && keys.secret(internal);
      if (!internal || !secret) return undefined;
      const digest = checker.signatureHash(index, "taproot", hashType);
      const sig = signSchnorr(digest, taprootTweakPrivKey(secret));
      return {
        scriptSig: new Uint8Array(),
        witness: [hashType === SIGHASH_DEFAULT ? sig : Uint8Array.of(...sig, hashType)],
      };
    }
    const step = signStep(coin.script, "base");
    return step?.items.length ? { scriptSig: pushAll(step.items), witness: [] } : undefined;
  } catch {
    return undefined; // no digest for a transaction the interpreter cannot read
  }
}

/** The P2PKH script a P2WPKH program is signed as. */
function keyHashScript(keyHash: Uint8Array): Uint8Array {
  return Uint8Array.of(0x76, 0xa9, 0x14, ...keyHash, 0x88, 0xac);
}

/** The result of {@linkcode signTransaction}: the transaction and each failing input's text. */
export interface SignResult {
  readonly tx: Tx;
  /** Input index → Core's error text. */
  readonly errors: Map<number, string>;
}

/**
 * Core's `SignTransaction`: signs what `keys` can sign, keeps inputs that
 * already verify, and verifies every input with a known coin. Throws -3
 * `Missing amount for CTxOut(…)` when a segwit input was signed without
 * its amount, as Core does.
 */
export function signTransaction(
  original: Tx,
  keys: SigningProvider,
  coins: SpentCoins,
  hashType: number,
): SignResult {
  const tx: Tx = {
    ...original,
    inputs: original.inputs.map((input) => ({ ...input })),
    witnesses: original.inputs.map((_, i) => [...(original.witnesses?.[i] ?? [])]),
  };
  const spentOf = (i: number) => coins.get(outpointKey(prevout(tx.inputs[i])));
  const spent = tx.inputs.map((_, i) =>
    spentOf(i) ?? { amount: MAX_MONEY, script: new Uint8Array() }
  );
  const errors = new Map<number, string>();
  const single = (hashType & ~SIGHASH_ANYONECANPAY) === SIGHASH_SINGLE;
  for (let i = 0; i < tx.inputs.length; i++) {
    const coin = spentOf(i);
    if (!coin) {
      errors.set(i, "Input not found or already spent");
      continue;
    }
    if (new TxScriptChecker(tx, spent).verifyInput(i, STANDARD_SCRIPT_VERIFY_FLAGS) === null) {
      continue; // already complete
    }
    const produced = !single || i < tx.outputs.length
      ? produce(
        new TxScriptChecker(tx, spent),
        i,
        coin,
        keys,
        hashType,
        tx.inputs[i].finalScriptSig,
        tx.witnesses![i],
      )
      : undefined;
    tx.inputs[i].finalScriptSig = produced?.scriptSig ?? new Uint8Array();
    tx.witnesses![i] = produced?.witness ?? [];
    if (coin.amount === MAX_MONEY && tx.witnesses![i].length > 0) {
      throw new RpcError(
        RpcErrorCode.TYPE_ERROR,
        `Missing amount for CTxOut(nValue=${coin.amount / 100_000_000n}.${
          (coin.amount % 100_000_000n).toString().padStart(8, "0")
        }, scriptPubKey=${hex.encode(coin.script).slice(0, 30)})`,
      );
    }
    const error = new TxScriptChecker(tx, spent).verifyInput(i, STANDARD_SCRIPT_VERIFY_FLAGS);
    if (error !== null) errors.set(i, errorText(error));
  }
  if (tx.witnesses!.every((stack) => stack.length === 0)) delete tx.witnesses;
  return { tx, errors };
}

/** Core's `SignTransactionResultToJSON`: `hex`, `complete`, and `errors` when there are any. */
export function signResultJson(
  result: SignResult,
  encode: (tx: Tx) => string,
): Map<string, JsonInput> {
  const out = new Map<string, JsonInput>([
    ["hex", encode(result.tx)],
    ["complete", result.errors.size === 0],
  ]);
  if (result.errors.size > 0) {
    out.set(
      "errors",
      [...result.errors].map(([i, message]) => {
        const input = result.tx.inputs[i];
        return new Map<string, JsonInput>([
          ["txid", hex.encode(input.txid)],
          ["vout", input.index],
          ["witness", (result.tx.witnesses?.[i] ?? []).map((item) => hex.encode(item))],
          ["scriptSig", hex.encode(input.finalScriptSig)],
          ["sequence", input.sequence >>> 0],
          ["error", message],
        ]);
      }),
    );
  }
  return out;
}

/**
 * `combinerawtransaction`'s merge: the first transaction with, for each
 * input, the scriptSig and witness of the first variant whose input
 * verifies; an input none completes is left unsigned (as Core leaves it),
 * except one of a template the interpreter cannot evaluate, which keeps
 * the first variant's data. -25 `Input not found or already spent` for an
 * input whose coin is unknown.
 */
export function combineSignatures(variants: readonly Tx[], coins: SpentCoins): Tx {
  const merged: Tx = {
    ...variants[0],
    inputs: variants[0].inputs.map((input) => ({ ...input })),
    witnesses: variants[0].inputs.map((_, i) => [...(variants[0].witnesses?.[i] ?? [])]),
  };
  const spent = merged.inputs.map((input) => {
    const coin = coins.get(outpointKey(prevout(input)));
    if (!coin) {
      throw new RpcError(RpcErrorCode.VERIFY_ERROR, "Input not found or already spent");
    }
    return coin;
  });
  merged.inputs.forEach((input, i) => {
    const verifies = (variant: Tx) => {
      if (variant.inputs.length <= i) return false;
      input.finalScriptSig = variant.inputs[i].finalScriptSig;
      merged.witnesses![i] = variant.witnesses?.[i] ?? [];
      return new TxScriptChecker(merged, spent).verifyInput(i, STANDARD_SCRIPT_VERIFY_FLAGS) ===
        null;
    };
    if (variants.some(verifies)) return;
    if (verifies(variants[0])) return;
    const error = new TxScriptChecker(merged, spent).verifyInput(i, STANDARD_SCRIPT_VERIFY_FLAGS);
    if (error === "UNSUPPORTED") return;
    input.finalScriptSig = new Uint8Array();
    merged.witnesses![i] = [];
  });
  if (merged.witnesses!.every((stack) => stack.length === 0)) delete merged.witnesses;
  return merged;
}
