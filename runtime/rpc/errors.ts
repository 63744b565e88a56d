/**
 * The error type every RPC failure takes, with Cap'n Proto's exception types.
 *
 * @module
 */

/** Cap'n Proto `Exception.Type`, in wire order. */
export const ERROR_TYPES = ["failed", "overloaded", "disconnected", "unimplemented"] as const;

/** Why a call failed, as the protocol classifies it. */
export type ErrorType = typeof ERROR_TYPES[number];

/**
 * An exception that crossed (or could have crossed) the RPC boundary.
 *
 * Throw one from a server method to choose the type the caller sees; any
 * other thrown value is sent as `failed` with its message.
 *
 * @example
 * ```ts
 * import { RpcError } from "./errors.ts";
 * const error = new RpcError("overloaded", "try later");
 * if (error.type !== "overloaded" || error.message !== "try later") throw new Error("kept");
 * ```
 */
export class RpcError extends Error {
  /** Always `"RpcError"`. */
  override name = "RpcError";
  /** The protocol's classification of the failure. */
  readonly type: ErrorType;
  /** True when the exception came from the peer rather than this process. */
  readonly remote: boolean;

  /** An error of `type` with `message`; `remote` when the peer raised it. */
  constructor(
    type: ErrorType,
    message: string,
    options: { remote?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.type = type;
    this.remote = options.remote ?? false;
  }

  /** The error for anything thrown by a server method. */
  static from(error: unknown): RpcError {
    if (error instanceof RpcError) return error;
    if (error instanceof Error) return new RpcError("failed", error.message, { cause: error });
    return new RpcError("failed", String(error));
  }
}

/** What a call its caller gave up on (`reason`) fails with. */
export function canceledError(reason: unknown): RpcError {
  return new RpcError("failed", "Call canceled.", { cause: reason });
}
