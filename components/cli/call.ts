/**
 * bitcoin-cli's calls (Core v30.0's `CallRPC` and `ConnectAndCallRPC`):
 * where to connect (`-rpcconnect`, `-rpcport`, the chain's port), which
 * credentials (`-rpcuser`/`-rpcpassword`, else the cookie), the request's
 * exact bytes and path (`/wallet/<percent-encoded name>` with
 * `-rpcwallet`), the HTTP outcomes in Core's words, and `-rpcwait`'s
 * retries every second while the server cannot be reached or warms up.
 *
 * A {@linkcode RequestHandler} makes the JSON-RPC request from the
 * command's words and turns the server's reply into the reply printed, as
 * Core's request handlers do (one call; `-generate`; `-getinfo`'s batch).
 *
 * @module
 */
import { absolutePath } from "../node/args.ts";
import {
  asInt,
  asObj,
  type Json,
  type JsonInput,
  JsonNumber,
  JsonObject,
  parseJson,
  writeJson,
} from "../rpc/json.ts";
import { splitHostPort } from "../node/options.ts";
import { convertNamed, convertPositional } from "./convert.ts";
import { ConnectionFailed, HTTP_ERRORS, postRequest } from "./http_client.ts";
import { CHAIN_PARAMS, type CliSettings, DEFAULT_HTTP_CLIENT_TIMEOUT } from "./options.ts";

/** A failure printed as `error: <message>`, exit status 1 (Core's `std::runtime_error`). */
export class CliError extends Error {
  /** The error's name. */
  override name = "CliError";
}

/**
 * No usable reply (Core's `CConnectionFailed`): the one failure `-rpcwait`
 * retries; otherwise printed as `error: timeout on transient error: …`.
 */
export class TransientError extends CliError {
  /** The error's name. */
  override name = "TransientError";
}

/** Turns a command into a JSON-RPC request, and the server's reply into the reply printed. */
export interface RequestHandler {
  /** The request object (or batch) for `method` and its `words`. */
  prepare(method: string, words: readonly string[]): JsonInput;
  /** The reply object (`result`, `error`) to print. */
  process(reply: Json): JsonObject;
}

/** A reply object as Core's `JSONRPCReplyObj` makes it for version 2.0, with id 1. */
export function replyObject(result: Json, error: Json = null): JsonObject {
  const reply = new JsonObject([["jsonrpc", "2.0"]]);
  if (error === null) reply.push("result", result);
  else reply.push("error", error);
  reply.push("id", new JsonNumber("1"));
  return reply;
}

/** A request object as Core's `JSONRPCRequestObj`: `method`, `params`, `id`, `jsonrpc`. */
export function requestObject(method: string, params: JsonInput, id: number): JsonInput {
  return new Map<string, JsonInput>([
    ["method", method],
    ["params", params],
    ["id", id],
    ["jsonrpc", "2.0"],
  ]);
}

/** `value[key]` as UniValue reads it: null for a missing key or a value that is no object. */
export function member(value: Json | undefined, key: string): Json {
  return value instanceof JsonObject ? value.get(key) ?? null : null;
}

/** One call of a method with converted arguments (Core's `DefaultRequestHandler`). */
export class DefaultRequestHandler implements RequestHandler {
  /** `named`: `-named` conversion. */
  constructor(readonly named: boolean) {}

  prepare(method: string, words: readonly string[]): JsonInput {
    const params = this.named ? convertNamed(method, words) : convertPositional(method, words);
    return requestObject(method, params, 1);
  }

  process(reply: Json): JsonObject {
    return asObj(reply);
  }
}

/** What a call needs besides the handler: the settings and the process around it. */
export interface CallContext {
  /** The client's settings. */
  settings: CliSettings;
  /** `-rpcpassword`, or the line `-stdinrpcpass` read. */
  password: string;
  /** Writes a warning line to stderr. */
  warn(line: string): Promise<void>;
}

/** Where to connect: `-rpcport`, else a port in `-rpcconnect`, else the chain's (Core's order). */
export function rpcEndpoint(
  settings: CliSettings,
): { host: string; port: number; warning?: string } {
  const { args } = settings;
  const connect = args.get("rpcconnect") ?? "127.0.0.1";
  const split = splitHostPort(connect, 0);
  if (split === null) throw new CliError(`Invalid port provided in -rpcconnect: ${connect}`);
  let port = split.port !== 0 ? split.port : CHAIN_PARAMS[settings.chain].rpcPort;
  const rpcport = args.get("rpcport");
  if (rpcport === undefined) return { host: split.host, port };
  const parsed = /^\d+$/.test(rpcport) ? Number(rpcport) : 0;
  if (parsed === 0 || parsed > 65535) {
    throw new CliError(`Invalid port provided in -rpcport: ${rpcport}`);
  }
  port = parsed;
  const warning = split.port !== 0
    ? `Warning: Port specified in both -rpcconnect and -rpcport. Using -rpcport ${port}`
    : undefined;
  return { host: split.host, port, warning };
}

/** The cookie file (Core's `GetAuthCookieFile`), or null with `-norpccookiefile`. */
export function cookiePath(settings: CliSettings): string | null {
  const path = settings.args.getPath("rpccookiefile", ".cookie");
  return path === "" ? null : absolutePath(path, settings.netDir);
}

/** The cookie's first line as bytes, "" with `-norpccookiefile`, null when it cannot be read. */
function readCookie(settings: CliSettings): Uint8Array | null {
  const path = cookiePath(settings);
  if (path === null) return new Uint8Array(0);
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    return null;
  }
  const newline = bytes.indexOf(0x0a);
  return newline < 0 ? bytes : bytes.subarray(0, newline);
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * libevent's `evhttp_uriencode`: every byte of the UTF-8 text but letters,
 * digits and `-._~` as `%XX`.
 */
export function uriEncode(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The credentials message Core prints when neither a cookie nor a password is there. */
function noCredentials(settings: CliSettings): string {
  return "Could not locate RPC credentials. No authentication cookie could be found, and RPC " +
    "password is not set.  See -rpcpassword and -stdinrpcpass.  Configuration file: " +
    `(${settings.configFile})`;
}

/** Core's `CallRPC`: one request, one reply, failures in Core's words. */
async function callRpc(
  context: CallContext,
  handler: RequestHandler,
  method: string,
  words: readonly string[],
  wallet: string | undefined,
): Promise<JsonObject> {
  const { settings } = context;
  const { host, port, warning } = rpcEndpoint(settings);
  if (warning !== undefined) await context.warn(warning);
  const timeout = settings.args.getInt("rpcclienttimeout", DEFAULT_HTTP_CLIENT_TIMEOUT);

  let credentials: Uint8Array | null;
  if (context.password === "") credentials = readCookie(settings);
  else {
    const user = settings.args.get("rpcuser") ?? "";
    credentials = new TextEncoder().encode(`${user}:${context.password}`);
  }
  const failedCookie = credentials === null;
  // Without -rpcwait bitcoin-cli v30.0 sends nothing when there are no credentials (reference §1).
  if (failedCookie && !settings.args.getBool("rpcwait", false)) {
    throw new CliError(noCredentials(settings));
  }

  const body = new TextEncoder().encode(`${writeJson(handler.prepare(method, words))}\n`);
  let response;
  try {
    response = await postRequest({
      host,
      port,
      path: wallet === undefined ? "/" : `/wallet/${uriEncode(wallet)}`,
      headers: [
        ["Host", host],
        ["Connection", "close"],
        ["Content-Type", "application/json"],
        ["Authorization", `Basic ${base64(credentials ?? new Uint8Array(0))}`],
      ],
      body,
      timeoutMs: timeout > 0 ? timeout * 1000 : Infinity,
    });
  } catch (error) {
    if (!(error instanceof ConnectionFailed)) throw error;
    const code = error.code < 0 ? "" : ` (error code ${error.code} - "${HTTP_ERRORS[error.code]}")`;
    throw new TransientError(
      `Could not connect to the server ${host}:${port}${code}\n\n` +
        "Make sure the bitcoind server is running and that you are connecting to the correct " +
        'RPC port.\nUse "bitcoin-cli -help" for more info.',
    );
  }
  const { status } = response;
  if (status === 401) {
    throw new CliError(
      failedCookie
        ? noCredentials(settings)
        : "Authorization failed: Incorrect rpcuser or rpcpassword",
    );
  }
  if (status === 503) {
    throw new CliError(`Server response: ${new TextDecoder().decode(response.body)}`);
  }
  if (status >= 400 && status !== 400 && status !== 404 && status !== 500) {
    throw new CliError(`server returned HTTP error ${status}`);
  }
  if (response.body.length === 0) throw new CliError("no response from server");
  let parsed: Json;
  try {
    parsed = parseJson(response.body);
  } catch {
    throw new CliError("couldn't parse reply from server");
  }
  const reply = handler.process(parsed);
  if (reply.size === 0) {
    throw new CliError("expected reply to have result, error and id properties");
  }
  return reply;
}

/** The RPC error code meaning "warming up". */
const RPC_IN_WARMUP = -28;

/**
 * Core's `ConnectAndCallRPC`: {@linkcode callRpc}, retried every second with
 * `-rpcwait` while the server cannot be reached or warms up, until
 * `-rpcwaittimeout` seconds (0: no limit) have passed.
 */
export async function connectAndCallRpc(
  context: CallContext,
  handler: RequestHandler,
  method: string,
  words: readonly string[],
  wallet: string | undefined,
): Promise<JsonObject> {
  const { args } = context.settings;
  const wait = args.getBool("rpcwait", false);
  const timeout = args.getInt("rpcwaittimeout", 0);
  const deadline = Date.now() + timeout * 1000;
  for (;;) {
    try {
      const reply = await callRpc(context, handler, method, words, wallet);
      if (wait) {
        const error = reply.get("error") ?? null;
        if (error !== null && asInt(member(error, "code")) === RPC_IN_WARMUP) {
          throw new TransientError("server in warmup");
        }
      }
      return reply;
    } catch (error) {
      if (!(error instanceof TransientError)) throw error;
      if (!wait || (timeout > 0 && Date.now() >= deadline)) {
        throw new CliError(`timeout on transient error: ${error.message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
