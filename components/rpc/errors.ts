/**
 * RPC errors as Bitcoin Core raises them: a code from `rpc/protocol.h` and a
 * message. A method handler throws an {@linkcode RpcError} for a coded error;
 * anything else it throws becomes RPC_MISC_ERROR (-1) with the error's
 * message, and a UniValue type error (`JsonTypeError`) RPC_TYPE_ERROR (-3),
 * as in Core's `ExecuteCommand`.
 *
 * @example
 * ```ts
 * import { RpcError, RpcErrorCode } from "./errors.ts";
 * const e = new RpcError(RpcErrorCode.INVALID_PARAMETER, "Block height out of range");
 * if (e.code !== -8) throw new Error("wrong code");
 * ```
 *
 * @module
 */
import { JsonTypeError } from "./json.ts";

/** The error codes of Bitcoin Core's `rpc/protocol.h`. */
export const RpcErrorCode = {
  /** Bad JSON-RPC envelope or batch element (HTTP 400). */
  INVALID_REQUEST: -32600,
  /** Unknown method (HTTP 404 under JSON-RPC 1.0). */
  METHOD_NOT_FOUND: -32601,
  /** Invalid method parameters (standard, unused by Core). */
  INVALID_PARAMS: -32602,
  /** A genuine internal error (e.g. data directory corruption). */
  INTERNAL_ERROR: -32603,
  /** The body does not parse as JSON. */
  PARSE_ERROR: -32700,
  /** Any other failure in a method (Core's std::exception). */
  MISC_ERROR: -1,
  /** A parameter of the wrong JSON type, or a bad amount. */
  TYPE_ERROR: -3,
  /** Unspecified wallet problem. */
  WALLET_ERROR: -4,
  /** Invalid or unknown address, key, block or transaction. */
  INVALID_ADDRESS_OR_KEY: -5,
  /** Not enough funds in the wallet. */
  WALLET_INSUFFICIENT_FUNDS: -6,
  /** Ran out of memory. */
  OUT_OF_MEMORY: -7,
  /** Invalid, missing or duplicate parameter. */
  INVALID_PARAMETER: -8,
  /** Not connected to the network. */
  CLIENT_NOT_CONNECTED: -9,
  /** Still in initial block download. */
  CLIENT_IN_INITIAL_DOWNLOAD: -10,
  /** Invalid wallet label. */
  WALLET_INVALID_LABEL_NAME: -11,
  /** Keypool ran out. */
  WALLET_KEYPOOL_RAN_OUT: -12,
  /** The wallet must be unlocked with walletpassphrase first. */
  WALLET_UNLOCK_NEEDED: -13,
  /** Wrong wallet passphrase. */
  WALLET_PASSPHRASE_INCORRECT: -14,
  /** The wallet is in the wrong encryption state for the command. */
  WALLET_WRONG_ENC_STATE: -15,
  /** Encrypting the wallet failed. */
  WALLET_ENCRYPTION_FAILED: -16,
  /** The wallet is already unlocked. */
  WALLET_ALREADY_UNLOCKED: -17,
  /** No such wallet, or none loaded. */
  WALLET_NOT_FOUND: -18,
  /** Several wallets are loaded and none was named. */
  WALLET_NOT_SPECIFIED: -19,
  /** Database error. */
  DATABASE_ERROR: -20,
  /** Undecodable raw transaction or block. */
  DESERIALIZATION_ERROR: -22,
  /** The node was already added. */
  CLIENT_NODE_ALREADY_ADDED: -23,
  /** The node was never added. */
  CLIENT_NODE_NOT_ADDED: -24,
  /** General error submitting a transaction or block. */
  VERIFY_ERROR: -25,
  /** Rejected by network rules. */
  VERIFY_REJECTED: -26,
  /** Transaction outputs already in the UTXO set. */
  VERIFY_ALREADY_IN_UTXO_SET: -27,
  /** The node is still starting. */
  IN_WARMUP: -28,
  /** No such connected node. */
  CLIENT_NODE_NOT_CONNECTED: -29,
  /** Invalid IP or subnet. */
  CLIENT_INVALID_IP_OR_SUBNET: -30,
  /** No P2P connection manager. */
  CLIENT_P2P_DISABLED: -31,
  /** The method is deprecated. */
  METHOD_DEPRECATED: -32,
  /** No mempool. */
  CLIENT_MEMPOOL_DISABLED: -33,
  /** Connection capacity reached. */
  CLIENT_NODE_CAPACITY_REACHED: -34,
  /** The wallet is already loaded. */
  WALLET_ALREADY_LOADED: -35,
  /** A wallet with that name already exists. */
  WALLET_ALREADY_EXISTS: -36,
} as const;

/** An error a method reports to the client as `{"code": code, "message": message}`. */
export class RpcError extends Error {
  /** The JSON-RPC error code (see {@linkcode RpcErrorCode}). */
  readonly code: number;

  /** Makes the error; `message` is sent as is. */
  constructor(code: number, message: string) {
    super(message);
    this.name = "RpcError";
    this.code = code;
  }
}

/** The program and version named in internal-bug reports. */
export const CLIENT_NAME = "Bitcoin Core";
/** Core's full version string as it prints it. */
export const CLIENT_VERSION = "v30.0.0";
/** Where Core asks bugs to be reported. */
export const CLIENT_BUGREPORT = "https://github.com/bitcoin/bitcoin/issues";

/**
 * Core's `CHECK_NONFATAL` failure text (`StrFormatInternalBug`): a method
 * throws `new Error(internalBug(...))` when its own invariant breaks.
 */
export function internalBug(message: string, where: string): string {
  return `Internal bug detected: ${message}\n${where}\n${CLIENT_NAME} ${CLIENT_VERSION}\n` +
    `Please report this issue here: ${CLIENT_BUGREPORT}\n`;
}

/**
 * The RPC error a thrown value stands for, as Core's `ExecuteCommand` maps
 * exceptions: RpcError as is, a JSON type error as RPC_TYPE_ERROR, anything
 * else as RPC_MISC_ERROR with its message.
 */
export function toRpcError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  if (error instanceof JsonTypeError) return new RpcError(RpcErrorCode.TYPE_ERROR, error.message);
  if (error instanceof Error) return new RpcError(RpcErrorCode.MISC_ERROR, error.message);
  return new RpcError(RpcErrorCode.MISC_ERROR, String(error));
}
