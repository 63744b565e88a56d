/**
 * bitcoind v30.0's JSON-RPC server, and the API node, mempool and wallet
 * methods are written on. The node serves it on `-rpcport`; a wallet
 * process given its own `-rpcport` serves the wallet methods on it
 * (`wallet_methods.ts`, routed by `wallet_router.ts`).
 *
 * - {@linkcode RpcServer}: start/stop, options named after bitcoind's
 *   (`-rpcport`, `-rpcbind`, `-rpcallowip`, `-rpcuser`, `-rpcpassword`, `-rpcauth`, `-rpcwhitelist`,
 *   `-rpccookiefile`, `-rpcthreads`, ...), warm-up state, the `stop` hook.
 * - {@linkcode defineMethod}: a method's Core spec (arguments, results,
 *   examples) and its handler. Handlers read arguments through
 *   {@linkcode Params} with converters (`asInt`, `asStr`, `amountFromValue`,
 *   `parseHashV`, ...), see the {@linkcode RequestContext}, return
 *   {@linkcode JsonInput} (amounts as {@linkcode Amount}), and throw
 *   {@linkcode RpcError} for coded errors.
 *
 * @example
 * ```ts
 * import { Amount, defineMethod, RpcServer, amountFromValue } from "./mod.ts";
 * const double = defineMethod({
 *   name: "double",
 *   category: "util",
 *   description: "Doubles an amount.",
 *   args: [{ name: "amount", type: "amount", description: "in BTC" }],
 *   result: { type: "amount", description: "twice the amount" },
 *   handler: (params) => new Amount(2n * params.arg("amount", amountFromValue)),
 * });
 * const datadir = await Deno.makeTempDir();
 * {
 *   await using server = new RpcServer({ datadir, port: 0, methods: [double] });
 *   await server.start();
 *   const cookie = await Deno.readTextFile(server.cookiePath!);
 *   const res = await fetch(`http://127.0.0.1:${server.port}/`, {
 *     method: "POST",
 *     headers: { authorization: `Basic ${btoa(cookie)}` },
 *     body: '{"method":"double","params":["0.1"],"id":1}',
 *   });
 *   const text = await res.text();
 *   if (text !== '{"result":0.20000000,"error":null,"id":1}\n') throw new Error(text);
 * }
 * await Deno.remove(datadir, { recursive: true });
 * ```
 *
 * @module
 */
export {
  HTTP_SERVER_FAILED,
  type PathHandler,
  RpcServer,
  type RpcServerOptions,
} from "./server.ts";
export type { HttpReply, HttpRequest } from "./http.ts";
export { latin1ToBytes } from "./http_message.ts";
export {
  type ActiveCommand,
  defineMethod,
  type MethodHandler,
  type MethodSpec,
  MethodTable,
  type RequestContext,
  RpcMethod,
} from "./methods.ts";
export type { ArgSpec, ArgType, ResultSpec, ResultType } from "./spec.ts";
export { outpointArg } from "./spec.ts";
export {
  amountFromValue,
  checkField,
  isHex,
  Params,
  parseHashV,
  parseHexV,
  parseVerbosity,
} from "./params.ts";
export { internalBug, RpcError, RpcErrorCode } from "./errors.ts";
export {
  Amount,
  asArr,
  asBool,
  asInt,
  asInt64,
  asJson,
  asObj,
  asReal,
  asStr,
  asUint32,
  asUint64,
  COIN,
  type Json,
  type JsonInput,
  JsonNumber,
  JsonObject,
  type JsonObjectLike,
  JsonTypeError,
  MAX_MONEY,
  parseJson,
  typeName,
  writeJson,
} from "./json.ts";
export {
  EXAMPLE_ADDRESS,
  helpExampleCli,
  helpExampleCliNamed,
  helpExampleRpc,
  helpExampleRpcNamed,
  MESSAGE_EXAMPLE_ADDRESS,
  messageExamples,
} from "./help.ts";
