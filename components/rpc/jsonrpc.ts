/**
 * The JSON-RPC envelope exactly as bitcoind's `HTTPReq_JSONRPC` and
 * `JSONRPCRequest::parse` handle it: legacy (1.0/1.1) and 2.0 request and
 * reply shapes, notifications, batches, and the HTTP status each outcome gets.
 *
 * - No `jsonrpc` key (or `"1.0"`) is legacy: the reply carries both `result`
 *   and `error`, and errors are HTTP 500 (404 for -32601, 400 for -32600).
 * - `"2.0"`: the reply carries one of them; method errors are HTTP 200, only
 *   envelope errors (-32600 → 400) and unparsable bodies (-32700 → 500) are not.
 * - A 2.0 request without `id` is a notification: it runs, and the answer is
 *   204 with no body. `"id": null` is answered.
 * - A batch answers 200 with one element per non-notification, each in its
 *   own version's shape; like Core, the request state (id, version) carries
 *   over from one element to a following non-object element.
 *
 * @example
 * ```ts
 * import { handleJsonRpc } from "./jsonrpc.ts";
 * const reply = await handleJsonRpc(
 *   new TextEncoder().encode('{"jsonrpc":"2.0","method":"x","id":7}'),
 *   () => Promise.resolve("1"),
 * );
 * if (reply.status !== 200 || reply.body !== '{"jsonrpc":"2.0","result":1,"id":7}\n') {
 *   throw new Error(JSON.stringify(reply));
 * }
 * ```
 *
 * @module
 */
import { RpcError, RpcErrorCode, toRpcError } from "./errors.ts";
import { asStr, type Json, JsonObject, parseJson, quoteJson, writeJson } from "./json.ts";
import type { PermittedMethods } from "./whitelist.ts";

/** One parsed call handed to the executor. */
export interface JsonRpcCall {
  /** The method name. */
  readonly method: string;
  /** Positional or named parameters (`[]` when absent or null). */
  readonly params: readonly Json[] | JsonObject;
  /** 1 (legacy) or 2. */
  readonly version: 1 | 2;
}

/** Runs a call and returns its result as JSON text, or throws (any error becomes an RPC error). */
export type JsonRpcExecutor = (call: JsonRpcCall) => Promise<string>;

/** The HTTP answer to a JSON-RPC body: a status and the JSON text (with Core's final `\n`), or no body. */
export interface JsonRpcReply {
  /** 200, 204, 400, 404 or 500. */
  readonly status: number;
  /** The reply text, or null for 204. */
  readonly body: string | null;
}

/** `JSONRPCRequest` as `parse` leaves it (fields survive a failed parse, as in Core). */
class RequestState {
  /** The id; `undefined` means the request had none (Core's nullopt). */
  id: Json | undefined = null;
  version: 1 | 2 = 1;
  method = "";
  params: readonly Json[] | JsonObject = [];

  get isNotification(): boolean {
    return this.id === undefined && this.version === 2;
  }

  parse(value: Json): void {
    if (!(value instanceof JsonObject)) invalidRequest("Invalid Request object");
    this.id = value.has("id") ? value.get("id") : undefined;
    this.version = 1;
    const version = value.get("jsonrpc") ?? null;
    if (version !== null) {
      if (typeof version !== "string") invalidRequest("jsonrpc field must be a string");
      if (version === "2.0") this.version = 2;
      else if (version !== "1.0") invalidRequest("JSON-RPC version not supported");
    }
    const method = value.get("method") ?? null;
    if (method === null) invalidRequest("Missing method");
    if (typeof method !== "string") invalidRequest("Method must be a string");
    this.method = method;
    const params = value.get("params") ?? null;
    if (Array.isArray(params) || params instanceof JsonObject) this.params = params;
    else if (params === null) this.params = [];
    else invalidRequest("Params must be an array or object");
  }
}

function invalidRequest(message: string): never {
  throw new RpcError(RpcErrorCode.INVALID_REQUEST, message);
}

/** `JSONRPCReplyObj` written out. */
function replyText(
  state: RequestState,
  result: string | null,
  error: RpcError | null,
): string {
  const parts: string[] = [];
  if (state.version === 2) parts.push('"jsonrpc":"2.0"');
  if (error === null) {
    parts.push(`"result":${result}`);
    if (state.version === 1) parts.push('"error":null');
  } else {
    if (state.version === 1) parts.push('"result":null');
    parts.push(`"error":{"code":${error.code},"message":${quoteJson(error.message)}}`);
  }
  if (state.id !== undefined) parts.push(`"id":${writeJson(state.id)}`);
  return `{${parts.join(",")}}`;
}

/** `JSONErrorReply`: the legacy HTTP status for an error code. */
function errorReply(state: RequestState, error: RpcError): JsonRpcReply {
  const status = error.code === RpcErrorCode.INVALID_REQUEST
    ? 400
    : error.code === RpcErrorCode.METHOD_NOT_FOUND
    ? 404
    : 500;
  return { status, body: replyText(state, null, error) + "\n" };
}

/** `JSONRPCExec`: the reply object text, errors caught only when asked (2.0, batches). */
async function exec(
  state: RequestState,
  execute: JsonRpcExecutor,
  catchErrors: boolean,
): Promise<string> {
  let result: string;
  try {
    result = await execute({ method: state.method, params: state.params, version: state.version });
  } catch (error) {
    if (!catchErrors) throw error;
    return replyText(state, null, toRpcError(error));
  }
  return replyText(state, result, null);
}

/**
 * The most JSON values (object keys included) one request may hold: a
 * million, a batch of some 150,000 typical calls. A body of more is a
 * parse error, before any of it runs: a 32 MiB body of `{},` elements
 * would otherwise make 11 million objects and take the node past its
 * 512 MB heap while being read, and a batch's reply holds an object for
 * every element.
 */
export const MAX_REQUEST_VALUES = 1_000_000;

/**
 * What the caller may run (`-rpcwhitelist`): its methods, and what to do
 * (log) when it asks for another.
 */
export interface JsonRpcPermit {
  readonly methods: PermittedMethods;
  /** Told the method refused, or nothing when the caller may call none. */
  readonly refused: (method?: string) => void;
}

/** The answer to a caller asking for a method it may not call: 403, no body. */
const FORBIDDEN: JsonRpcReply = { status: 403, body: null };

/**
 * Answers one HTTP request body (already authenticated) as bitcoind does;
 * with `permit`, a request for a method the caller may not call is
 * answered 403 with nothing run, as Core's `-rpcwhitelist` (in a batch,
 * any element's method refuses the whole).
 */
export async function handleJsonRpc(
  body: Uint8Array,
  execute: JsonRpcExecutor,
  permit: JsonRpcPermit = { methods: "all", refused: () => {} },
): Promise<JsonRpcReply> {
  const state = new RequestState();
  const { methods } = permit;
  try {
    let request: Json;
    try {
      request = parseJson(body, MAX_REQUEST_VALUES);
    } catch {
      throw new RpcError(RpcErrorCode.PARSE_ERROR, "Parse error");
    }
    if (methods === "none") {
      permit.refused();
      return FORBIDDEN;
    }
    if (request instanceof JsonObject) {
      state.parse(request);
      if (methods !== "all" && !methods.has(state.method)) {
        permit.refused(state.method);
        return FORBIDDEN;
      }
      const reply = await exec(state, execute, state.version === 2);
      if (state.isNotification) return { status: 204, body: null };
      return { status: 200, body: reply + "\n" };
    }
    if (Array.isArray(request)) {
      // Core checks every element's method first; get_str's type error is a parse error.
      if (methods !== "all") {
        for (const element of request) {
          if (!(element instanceof JsonObject)) invalidRequest("Invalid Request object");
          const method = asStr(element.get("method"));
          if (!methods.has(method)) {
            permit.refused(method);
            return FORBIDDEN;
          }
        }
      }
      const replies: string[] = [];
      for (const element of request) {
        let reply: string;
        try {
          state.parse(element);
          reply = await exec(state, execute, true);
        } catch (error) {
          reply = replyText(state, null, toRpcError(error));
        }
        if (!state.isNotification) replies.push(reply);
      }
      if (replies.length === 0 && request.length > 0) return { status: 204, body: null };
      return { status: 200, body: `[${replies.join(",")}]\n` };
    }
    throw new RpcError(RpcErrorCode.PARSE_ERROR, "Top-level object parse error");
  } catch (error) {
    const e = error instanceof RpcError ? error : new RpcError(
      RpcErrorCode.PARSE_ERROR,
      error instanceof Error ? error.message : String(error),
    );
    return errorReply(state, e);
  }
}
