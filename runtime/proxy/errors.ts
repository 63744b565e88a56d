/**
 * Errors the proxy layer adds to the engine's: values thrown through an
 * exception field, and libmultiprocess' disconnect errors.
 *
 * @module
 */
import { RpcError } from "../rpc/errors.ts";
import type { MethodSignature } from "../schema/descriptor.ts";

/**
 * An error carrying a schema value, sent in a method's exception field
 * (`$Proxy.exception`). Throw it from an implementation; a caller catches it
 * with the decoded value.
 *
 * @example
 * ```ts
 * import { RaisedError } from "./errors.ts";
 * const error = new RaisedError({ name: "bad" });
 * if (error.value.name !== "bad") throw new Error("the value is carried");
 * ```
 */
export class RaisedError<T = unknown> extends Error {
  /** Always `"RaisedError"`. */
  override name = "RaisedError";
  /** The value carried in the exception field. */
  readonly value: T;

  /** An error carrying `value`; `message` defaults to `value` when it is text. */
  constructor(value: T, message?: string) {
    super(message ?? (typeof value === "string" ? value : "raised by the server"));
    this.value = value;
  }
}

/** libmultiprocess' text for a call made on a connection already gone. */
export const CALLED_AFTER_DISCONNECT = "IPC client method called after disconnect.";
/** libmultiprocess' text for a call the connection dropped under. */
export const INTERRUPTED_BY_DISCONNECT = "IPC client method call interrupted by disconnect.";

/** The `disconnected` error of a call made after the connection dropped. */
export function calledAfterDisconnect(): RpcError {
  return new RpcError("disconnected", CALLED_AFTER_DISCONNECT);
}

/** The `disconnected` error of a call in flight when the connection dropped. */
export function interruptedByDisconnect(cause: unknown): RpcError {
  return new RpcError("disconnected", INTERRUPTED_BY_DISCONNECT, { cause });
}

/**
 * `error` with `explain`'s text added to its message when the peer raised
 * it (see `SessionOptions.explainRemote`); anything else as it is.
 */
export function explainedRemote(
  error: unknown,
  explain: ((message: string) => string) | undefined,
): unknown {
  if (!(error instanceof RpcError) || !error.remote || explain === undefined) return error;
  const more = explain(error.message);
  return more === ""
    ? error
    : new RpcError(error.type, error.message + more, { remote: true, cause: error });
}

/**
 * `error`, when the peer did not implement the method called, with the
 * method's name as this side knows it: the peer has only ids to name it by.
 */
export function namedUnimplemented(
  error: unknown,
  iface: string,
  method: MethodSignature,
): unknown {
  if (!(error instanceof RpcError) || !error.remote || error.type !== "unimplemented") return error;
  return new RpcError(
    "unimplemented",
    `${error.message} (${iface}.${method.name} @${method.ordinal} here: ` +
      "the peer's schema may be older than this side's)",
    { remote: true, cause: error },
  );
}
