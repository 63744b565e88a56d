/**
 * Transactions and scripts to and from the JSON-RPC forms, as Bitcoin
 * Core's `core_write.cpp` and `core_read.cpp` make them: script assembly
 * (`ScriptToAsmStr`), the `scriptPubKey` object (`ScriptToUniv`), decoded
 * transactions (`TxToUniv`, with fee and prevouts from undo data) and
 * `DecodeHexTx` with its witness/legacy heuristics. Key order is Core's.
 *
 * @example
 * ```ts
 * import { scriptToAsm } from "./encoding.ts";
 * const p2wpkh = Uint8Array.of(0x00, 0x14, ...new Uint8Array(20).fill(0xab));
 * if (scriptToAsm(p2wpkh) !== "0 " + "ab".repeat(20)) throw new Error(scriptToAsm(p2wpkh));
 * ```
 * @module
 */
import { hex } from "@scure/base";
import { RawOldTx, RawTx } from "@scure/btc-signer/script.js";
import {
  type Coin,
  encodeTx,
  hasDefinedHashType,
  type Hash,
  hashToHex,
  hasValidOps,
  inferDescriptor,
  isCoinbase,
  isUnspendable,
  isValidSignatureEncoding,
  parseScript,
  type ScriptProvider,
  scriptToAddress,
  signedAmount,
  solver,
  type Tx,
  txid,
  txSizes,
  wtxid,
} from "../chain/mod.ts";
import {
  Amount,
  type ArgSpec,
  asBool,
  asStr,
  isHex,
  type JsonInput,
  type Params,
  RpcError,
  RpcErrorCode,
} from "../../rpc/mod.ts";

const OP_NAMES: Record<number, string> = {
  0x4c: "OP_PUSHDATA1",
  0x4d: "OP_PUSHDATA2",
  0x4e: "OP_PUSHDATA4",
  0x4f: "-1",
  0x50: "OP_RESERVED",
  0x61: "OP_NOP",
  0x62: "OP_VER",
  0x63: "OP_IF",
  0x64: "OP_NOTIF",
  0x65: "OP_VERIF",
  0x66: "OP_VERNOTIF",
  0x67: "OP_ELSE",
  0x68: "OP_ENDIF",
  0x69: "OP_VERIFY",
  0x6a: "OP_RETURN",
  0x6b: "OP_TOALTSTACK",
  0x6c: "OP_FROMALTSTACK",
  0x6d: "OP_2DROP",
  0x6e: "OP_2DUP",
  0x6f: "OP_3DUP",
  0x70: "OP_2OVER",
  0x71: "OP_2ROT",
  0x72: "OP_2SWAP",
  0x73: "OP_IFDUP",
  0x74: "OP_DEPTH",
  0x75: "OP_DROP",
  0x76: "OP_DUP",
  0x77: "OP_NIP",
  0x78: "OP_OVER",
  0x79: "OP_PICK",
  0x7a: "OP_ROLL",
  0x7b: "OP_ROT",
  0x7c: "OP_SWAP",
  0x7d: "OP_TUCK",
  0x7e: "OP_CAT",
  0x7f: "OP_SUBSTR",
  0x80: "OP_LEFT",
  0x81: "OP_RIGHT",
  0x82: "OP_SIZE",
  0x83: "OP_INVERT",
  0x84: "OP_AND",
  0x85: "OP_OR",
  0x86: "OP_XOR",
  0x87: "OP_EQUAL",
  0x88: "OP_EQUALVERIFY",
  0x89: "OP_RESERVED1",
  0x8a: "OP_RESERVED2",
  0x8b: "OP_1ADD",
  0x8c: "OP_1SUB",
  0x8d: "OP_2MUL",
  0x8e: "OP_2DIV",
  0x8f: "OP_NEGATE",
  0x90: "OP_ABS",
  0x91: "OP_NOT",
  0x92: "OP_0NOTEQUAL",
  0x93: "OP_ADD",
  0x94: "OP_SUB",
  0x95: "OP_MUL",
  0x96: "OP_DIV",
  0x97: "OP_MOD",
  0x98: "OP_LSHIFT",
  0x99: "OP_RSHIFT",
  0x9a: "OP_BOOLAND",
  0x9b: "OP_BOOLOR",
  0x9c: "OP_NUMEQUAL",
  0x9d: "OP_NUMEQUALVERIFY",
  0x9e: "OP_NUMNOTEQUAL",
  0x9f: "OP_LESSTHAN",
  0xa0: "OP_GREATERTHAN",
  0xa1: "OP_LESSTHANOREQUAL",
  0xa2: "OP_GREATERTHANOREQUAL",
  0xa3: "OP_MIN",
  0xa4: "OP_MAX",
  0xa5: "OP_WITHIN",
  0xa6: "OP_RIPEMD160",
  0xa7: "OP_SHA1",
  0xa8: "OP_SHA256",
  0xa9: "OP_HASH160",
  0xaa: "OP_HASH256",
  0xab: "OP_CODESEPARATOR",
  0xac: "OP_CHECKSIG",
  0xad: "OP_CHECKSIGVERIFY",
  0xae: "OP_CHECKMULTISIG",
  0xaf: "OP_CHECKMULTISIGVERIFY",
  0xb0: "OP_NOP1",
  0xb1: "OP_CHECKLOCKTIMEVERIFY",
  0xb2: "OP_CHECKSEQUENCEVERIFY",
  0xb3: "OP_NOP4",
  0xb4: "OP_NOP5",
  0xb5: "OP_NOP6",
  0xb6: "OP_NOP7",
  0xb7: "OP_NOP8",
  0xb8: "OP_NOP9",
  0xb9: "OP_NOP10",
  0xba: "OP_CHECKSIGADD",
  0xff: "OP_INVALIDOPCODE",
};

/**
 * Core's `GetOpName`: `0`, `1`…`16`, `-1`, else `OP_…` (`OP_UNKNOWN` for unassigned).
 *
 * @example
 * ```ts
 * import { opName } from "./encoding.ts";
 * if (opName(0x00) !== "0" || opName(0x60) !== "16" || opName(0xac) !== "OP_CHECKSIG") {
 *   throw new Error("names");
 * }
 * ```
 */
export function opName(opcode: number): string {
  if (opcode === 0) return "0";
  if (opcode >= 0x51 && opcode <= 0x60) return String(opcode - 0x50);
  return OP_NAMES[opcode] ?? "OP_UNKNOWN";
}

const SIGHASH_NAMES: Record<number, string> = {
  0x01: "ALL",
  0x81: "ALL|ANYONECANPAY",
  0x02: "NONE",
  0x82: "NONE|ANYONECANPAY",
  0x03: "SINGLE",
  0x83: "SINGLE|ANYONECANPAY",
};

/** `CScriptNum(bytes, false).getint()` for pushes of at most 4 bytes. */
function scriptNumValue(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  let value = 0;
  for (let i = bytes.length - 1; i >= 0; i--) value = value * 256 + bytes[i];
  const top = 0x80 * 256 ** (bytes.length - 1);
  return bytes[bytes.length - 1] & 0x80 ? -(value - top) : value;
}

/**
 * Core's `ScriptToAsmStr`: pushes of up to 4 bytes as numbers, longer ones
 * as hex; with `decodeSighash` (scriptSigs) a DER signature's hash type is
 * shown as `[ALL]` etc.; `[error]` ends a script whose push runs past its end.
 */
export function scriptToAsm(script: Uint8Array, decodeSighash = false): string {
  const { ops, truncated } = parseScript(script);
  const parts = ops.map((op) => {
    if (op.data === undefined) return opName(op.opcode);
    if (op.data.length <= 4) return String(scriptNumValue(op.data));
    if (decodeSighash && !isUnspendable(script)) {
      const sig = op.data;
      const name = SIGHASH_NAMES[sig[sig.length - 1]];
      if (isValidSignatureEncoding(sig) && hasDefinedHashType(sig) && name !== undefined) {
        return `${hex.encode(sig.subarray(0, -1))}[${name}]`;
      }
    }
    return hex.encode(op.data);
  });
  if (truncated) parts.push("[error]");
  return parts.join(" ");
}

/** Options of {@linkcode scriptPubKeyJson}, as Core's `ScriptToUniv` takes them. */
export interface ScriptJsonOptions {
  readonly includeHex?: boolean;
  readonly includeAddress?: boolean;
  /** Scripts the descriptor inference may look into. */
  readonly provider?: ScriptProvider;
}

/** Core's `ScriptToUniv`: `asm`, `desc`, `hex`, `address` (not for P2PK), `type`. */
export function scriptPubKeyJson(
  script: Uint8Array,
  { includeHex = true, includeAddress = true, provider }: ScriptJsonOptions = {},
): Map<string, JsonInput> {
  const out = new Map<string, JsonInput>();
  out.set("asm", scriptToAsm(script));
  if (includeAddress) out.set("desc", inferDescriptor(script, provider));
  if (includeHex) out.set("hex", hex.encode(script));
  const { type } = solver(script);
  const address = includeAddress && type !== "pubkey" ? scriptToAddress(script) : undefined;
  if (address !== undefined) out.set("address", address);
  out.set("type", type);
  return out;
}

/** How much {@linkcode txToJson} shows (Core's `TxVerbosity`). */
export type TxVerbosity = "details" | "prevout";

/** Options of {@linkcode txToJson}. */
export interface TxJsonOptions {
  /** The coins the inputs spent (a block's undo data): adds `fee`, and `prevout` with "prevout". */
  readonly undo?: readonly Coin[];
  readonly verbosity?: TxVerbosity;
  /** Appended as `blockhash` when given. */
  readonly blockHash?: Hash;
  /** Append `hex` (the serialized transaction). */
  readonly includeHex?: boolean;
}

/**
 * Core's `TxToUniv`: `txid`, `hash`, `version`, `size`, `vsize`, `weight`,
 * `locktime`, `vin`, `vout`, then `fee` (with undo data), `blockhash`, `hex`.
 */
export function txToJson(tx: Tx, options: TxJsonOptions = {}): Map<string, JsonInput> {
  const { undo, verbosity = "details", includeHex = true } = options;
  const sizes = txSizes(tx);
  const out = new Map<string, JsonInput>();
  out.set("txid", hashToHex(txid(tx)));
  out.set("hash", hashToHex(wtxid(tx)));
  out.set("version", tx.version >>> 0);
  out.set("size", sizes.size);
  out.set("vsize", sizes.vsize);
  out.set("weight", sizes.weight);
  out.set("locktime", tx.lockTime);
  const coinbase = isCoinbase(tx);
  let totalIn = 0n;
  out.set(
    "vin",
    tx.inputs.map((input, i) => {
      const entry = new Map<string, JsonInput>();
      if (coinbase) {
        entry.set("coinbase", hex.encode(input.finalScriptSig));
      } else {
        entry.set("txid", hex.encode(input.txid));
        entry.set("vout", input.index);
        entry.set(
          "scriptSig",
          new Map<string, JsonInput>([
            ["asm", scriptToAsm(input.finalScriptSig, true)],
            ["hex", hex.encode(input.finalScriptSig)],
          ]),
        );
      }
      const witness = tx.witnesses?.[i] ?? [];
      if (witness.length > 0) entry.set("txinwitness", witness.map((item) => hex.encode(item)));
      const spent = undo?.[i];
      if (spent) {
        totalIn += spent.amount;
        if (verbosity === "prevout") {
          entry.set(
            "prevout",
            new Map<string, JsonInput>([
              ["generated", spent.coinbase],
              ["height", spent.height],
              ["value", new Amount(spent.amount)],
              ["scriptPubKey", scriptPubKeyJson(spent.script)],
            ]),
          );
        }
      }
      entry.set("sequence", input.sequence);
      return entry;
    }),
  );
  out.set(
    "vout",
    tx.outputs.map((output, n) =>
      new Map<string, JsonInput>([
        ["value", new Amount(signedAmount(output.amount))],
        ["n", n],
        ["scriptPubKey", scriptPubKeyJson(output.script)],
      ])
    ),
  );
  if (undo) {
    const totalOut = tx.outputs.reduce((sum, output) => sum + signedAmount(output.amount), 0n);
    out.set("fee", new Amount(totalIn - totalOut));
  }
  if (options.blockHash) out.set("blockhash", hashToHex(options.blockHash));
  if (includeHex) out.set("hex", encodeTxHex(tx));
  return out;
}

/** Core's `EncodeHexTx`: the witness serialization when any input has witness data. */
export function encodeTxHex(tx: Tx): string {
  return hex.encode(encodeTx(tx));
}

/** `CheckTxScriptsSanity`: valid operations and at most 10,000 bytes in every script. */
function scriptsSane(tx: Tx): boolean {
  const sane = (script: Uint8Array) => script.length <= 10_000 && hasValidOps(script);
  if (!isCoinbase(tx) && !tx.inputs.every((input) => sane(input.finalScriptSig))) return false;
  return tx.outputs.every((output) => sane(output.script));
}

function decodeWith(decode: () => Tx): Tx | undefined {
  try {
    return decode();
  } catch {
    return undefined;
  }
}

/**
 * The `iswitness` argument of the methods that decode a transaction with
 * {@linkcode decodeHexTx}; `end` closes its description (Core's texts differ
 * by a final newline).
 */
export function isWitnessArg(end: "" | "\n"): ArgSpec {
  return {
    name: "iswitness",
    type: "bool",
    defaultHint: "depends on heuristic tests",
    description: "Whether the transaction hex is a serialized witness transaction.\n" +
      "If iswitness is not present, heuristic tests will be used in decoding.\n" +
      "If true, only witness deserialization will be tried.\n" +
      "If false, only non-witness deserialization will be tried.\n" +
      "This boolean should reflect whether the transaction has inputs\n" +
      "(e.g. fully valid, or on-chain transactions), if known by the caller." + end,
  };
}

/**
 * Core's `DecodeHexTx`: hex to a transaction, trying the witness (BIP 144)
 * and the legacy serialization as allowed (by default, as Core's, the
 * witness one only: a transaction of no inputs does not decode), each only
 * when it consumes the whole input, preferring one whose scripts are sane,
 * then the witness form. Undefined when neither decodes.
 */
export function decodeHexTx(
  text: string,
  { tryNoWitness = false, tryWitness = true }: { tryNoWitness?: boolean; tryWitness?: boolean } =
    {},
): Tx | undefined {
  if (!isHex(text)) return undefined;
  const bytes = hex.decode(text.toLowerCase());
  const extended = tryWitness ? decodeWith(() => RawTx.decode(bytes) as Tx) : undefined;
  if (extended && scriptsSane(extended)) return extended;
  const legacy = tryNoWitness
    ? decodeWith(() => ({ ...RawOldTx.decode(bytes), segwitFlag: false }) as Tx)
    : undefined;
  if (legacy && scriptsSane(legacy)) return legacy;
  return extended ?? legacy;
}

/**
 * The transaction of a method's `hexstring` argument, read as its
 * `iswitness` argument allows (decoderawtransaction, converttopsbt,
 * fundrawtransaction), or -22 `TX decode failed`.
 */
export function decodeTxParam(params: Params): Tx {
  const isWitness = params.maybe("iswitness", asBool);
  const tx = decodeHexTx(params.arg("hexstring", asStr), {
    tryWitness: isWitness !== false,
    tryNoWitness: isWitness !== true,
  });
  if (!tx) throw new RpcError(RpcErrorCode.DESERIALIZATION_ERROR, "TX decode failed");
  return tx;
}
