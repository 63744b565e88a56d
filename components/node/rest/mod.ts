/**
 * Bitcoin Core v30's REST interface (`-rest`, `rest.cpp`): unauthenticated
 * requests under `/rest/` on the RPC port, served in `.bin`, `.hex` or
 * `.json` as each endpoint allows, with Core's statuses, content types,
 * bodies and error texts (`text/plain`, ending in CRLF):
 *
 * - `/rest/tx/<txid>` (mempool, or confirmed with `-txindex`),
 * - `/rest/block/<hash>` (JSON as getblock verbosity 3) and
 *   `/rest/block/notxdetails/<hash>` (verbosity 1),
 * - `/rest/headers/<hash>?count=<n>` and the deprecated
 *   `/rest/headers/<n>/<hash>` (1 to 2000 headers of the active chain),
 * - `/rest/blockhashbyheight/<height>`,
 * - `/rest/blockfilter/<type>/<hash>` and
 *   `/rest/blockfilterheaders/<type>/<hash>?count=<n>` (and the deprecated
 *   `…/<type>/<n>/<hash>`), over `-blockfilterindex`,
 * - `/rest/spenttxouts/<hash>` (the coins a block's inputs spent),
 * - `/rest/chaininfo.json`, `/rest/deploymentinfo[/<hash>].json`,
 * - `/rest/mempool/info.json`, `/rest/mempool/contents.json`
 *   (`?verbose=`, `?mempool_sequence=`),
 * - `/rest/getutxos[/checkmempool]/<txid>-<n>/…` (BIP 64, see
 *   `getutxos.ts`).
 *
 * {@linkcode restHandlers} gives the handlers for the RPC server's
 * `pathHandlers`, in Core's order (`uri_prefixes`); every one first answers
 * 503 while the node warms up (`CheckWarmup`). What a request can make the
 * node do is bounded as in Core: at most 2000 headers, 15 outpoints.
 *
 * @example
 * ```ts
 * import { ChainState, hashToHex } from "../chain/mod.ts";
 * import { Mempool } from "../mempool/mod.ts";
 * import { NodeServices } from "../methods/mod.ts";
 * import { RpcServer } from "../../rpc/mod.ts";
 * import { restHandlers } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * {
 *   using chain = ChainState.open(dir);
 *   using mempool = new Mempool(chain);
 *   const services = new NodeServices({ chain, mempool });
 *   const pathHandlers = restHandlers({ services: () => services, warmupStatus: () => undefined });
 *   await using server = new RpcServer({ datadir: dir, port: 0, pathHandlers });
 *   await server.start();
 *   const base = `http://127.0.0.1:${server.port}/rest`;
 *   const res = await fetch(`${base}/blockhashbyheight/0.hex`);
 *   const text = await res.text();
 *   if (text !== `${hashToHex(chain.tip.hash)}\n`) throw new Error(text);
 *   const missing = await fetch(`${base}/blockhashbyheight/0`);
 *   if (missing.status !== 404) throw new Error(`${missing.status}`);
 *   const reason = await missing.text();
 *   if (reason !== "output format not found (available: .bin, .hex, .json)\r\n") throw new Error(reason);
 * }
 * Deno.removeSync(dir, { recursive: true });
 * ```
 * @module
 */
import { hex } from "@scure/base";
import { CompactSizeLen } from "@scure/btc-signer/script.js";
import { concatBytes } from "@scure/btc-signer/utils.js";
import {
  type BlockEntry,
  BlockStatus,
  type Coin,
  encodeHeader,
  encodeTx,
  type Hash,
  hashToHex,
} from "../chain/mod.ts";
import {
  Amount,
  type HttpReply,
  type HttpRequest,
  type JsonInput,
  latin1ToBytes,
  type PathHandler,
  writeJson,
} from "../../rpc/mod.ts";
import {
  blockchainInfoJson,
  blockJson,
  deploymentInfoJson,
  headerJson,
} from "../methods/blockchain.ts";
import { BASIC_FILTER, missingFilter } from "../methods/blockfilters.ts";
import { scriptPubKeyJson, txToJson } from "../methods/encoding.ts";
import { mempoolInfoJson, mempoolJson } from "../methods/mempool.ts";
import { mempoolOrIndexedTx } from "../methods/rawtransactions.ts";
import type { NodeServices } from "../methods/services.ts";
import {
  MAX_GETUTXOS_OUTPOINTS,
  parseHexBody,
  parseOutpointsBody,
  serializeSpentOutputs,
  serializeUtxos,
} from "./getutxos.ts";
import {
  AVAILABLE_FORMATS,
  parseDataFormat,
  parseHash,
  parseInt32,
  parseUnsigned,
  queryParameter,
  type RestFormat,
  sanitizeUri,
  splitPath,
} from "./uri.ts";

export { AVAILABLE_FORMATS } from "./uri.ts";
export { MAX_GETUTXOS_OUTPOINTS } from "./getutxos.ts";

/** Core's `MAX_REST_HEADERS_RESULTS`: headers (or filter headers) one request may ask for. */
export const MAX_REST_HEADERS_RESULTS = 2000;

/** What the REST handlers read at each request. */
export interface RestSource {
  /** The node, once its parts are up (undefined while it starts). */
  services(): NodeServices | undefined;
  /** The RPC server's warm-up status while it warms up (`RPCIsInWarmup`), else undefined. */
  warmupStatus(): string | undefined;
}

/** One endpoint: the node, the request, and the target after the endpoint's prefix. */
type Endpoint = (node: NodeServices, request: HttpRequest, part: string) => HttpReply;

const encoder = new TextEncoder();

/** Core's `RESTERR`: a `text/plain` reply of the message and CRLF (URI text kept byte for byte). */
function restError(status: number, message: string): HttpReply {
  return {
    status,
    headers: [["Content-Type", "text/plain"]],
    body: latin1ToBytes(`${message}\r\n`),
  };
}

/** The 404 of a format an endpoint does not serve. */
function formatNotFound(available = AVAILABLE_FORMATS): HttpReply {
  return restError(404, `output format not found (available: ${available})`);
}

/** A 200 reply of `body` as `contentType`. */
function ok(contentType: string, body: Uint8Array | string): HttpReply {
  return {
    status: 200,
    headers: [["Content-Type", contentType]],
    body: typeof body === "string" ? encoder.encode(body) : body,
  };
}

/** A JSON reply as UniValue writes it, with Core's newline. */
function jsonReply(value: JsonInput): HttpReply {
  return ok("application/json", `${writeJson(value)}\n`);
}

/**
 * The reply in the format asked: the bytes as they are (`bin`), as hex
 * and a newline (`hex`, or `hexText` when given), or the JSON; else the
 * 404 of an unknown format.
 */
function formatted(
  format: RestFormat,
  bytes: () => Uint8Array,
  json: () => JsonInput,
  hexText?: () => string,
): HttpReply {
  switch (format) {
    case "bin":
      return ok("application/octet-stream", bytes());
    case "hex":
      return ok("text/plain", `${hexText ? hexText() : hex.encode(bytes())}\n`);
    case "json":
      return jsonReply(json());
    default:
      return formatNotFound();
  }
}

/** `/rest/tx/<txid>`: from the mempool, or confirmed through the transaction index. */
function restTx(node: NodeServices, _request: HttpRequest, part: string): HttpReply {
  const { param, format } = parseDataFormat(part);
  const hash = parseHash(param);
  if (!hash) return restError(400, `Invalid hash: ${param}`);
  const found = mempoolOrIndexedTx(node, hash);
  if (!found) return restError(404, `${param} not found`);
  return formatted(
    format,
    () => encodeTx(found.tx),
    () => txToJson(found.tx, { blockHash: found.blockHash }),
  );
}

/** `/rest/block/<hash>` (verbosity 3) and `/rest/block/notxdetails/<hash>` (verbosity 1). */
function restBlock(verbosity: 1 | 3): Endpoint {
  return (node, _request, part) => {
    const { param, format } = parseDataFormat(part);
    const hash = parseHash(param);
    if (!hash) return restError(400, `Invalid hash: ${param}`);
    const entry = node.chain.entry(hash);
    if (!entry) return restError(404, `${param} not found`);
    if (!(entry.status & BlockStatus.HAVE_DATA)) {
      return restError(404, `${param} not available (not fully downloaded)`);
    }
    const bytes = node.chain.readBlockBytes(hash);
    if (!bytes) return restError(404, `${param} not found`);
    return formatted(format, () => bytes, () => blockJson(node, entry, verbosity));
  };
}

/** Up to `count` blocks of the active chain from `hash` on (none when it is not in it). */
function activeFrom(node: NodeServices, hash: Hash, count: number): BlockEntry[] {
  const { chain } = node;
  const entries: BlockEntry[] = [];
  let entry = chain.entry(hash);
  while (entry && chain.isActive(entry) && entries.length < count) {
    entries.push(entry);
    entry = chain.entryAtHeight(entry.height + 1);
  }
  return entries;
}

/**
 * The count of a headers request: the deprecated path form's (`<count>/`
 * before the last part) or the `count` query parameter's (5 when absent);
 * a reply when the target is malformed or the count out of range.
 */
function headerCount(
  request: HttpRequest,
  pathCount: string | undefined,
): number | HttpReply {
  let raw = pathCount;
  if (raw === undefined) {
    const query = queryParameter(request.uri, "count");
    if (query instanceof Error) return restError(400, query.message);
    raw = query ?? "5";
  }
  const count = parseUnsigned(raw, BigInt(Number.MAX_SAFE_INTEGER));
  if (count === undefined || count < 1n || count > BigInt(MAX_REST_HEADERS_RESULTS)) {
    return restError(
      400,
      `Header count is invalid or out of acceptable range (1-${MAX_REST_HEADERS_RESULTS}): ${raw}`,
    );
  }
  return Number(count);
}

/** `/rest/headers/<hash>?count=<n>` and the deprecated `/rest/headers/<n>/<hash>`. */
function restHeaders(node: NodeServices, request: HttpRequest, part: string): HttpReply {
  const { param, format } = parseDataFormat(part);
  const path = splitPath(param);
  if (path.length > 2) {
    return restError(400, "Invalid URI format. Expected /rest/headers/<hash>.<ext>?count=<count>");
  }
  const hashText = path.at(-1)!;
  const count = headerCount(request, path.length === 2 ? path[0] : undefined);
  if (typeof count !== "number") return count;
  const hash = parseHash(hashText);
  if (!hash) return restError(400, `Invalid hash: ${hashText}`);
  const entries = activeFrom(node, hash, count);
  return formatted(
    format,
    () => concatBytes(...entries.map((entry) => encodeHeader(entry.header))),
    () => entries.map((entry) => headerJson(node, entry)),
  );
}

/** The filter type and index of a block filter request, or Core's 400. */
function filterIndexFor(node: NodeServices, name: string) {
  if (name !== BASIC_FILTER) return restError(400, `Unknown filtertype ${name}`);
  if (!node.blockFilterIndex) return restError(400, `Index is not enabled for filtertype ${name}`);
  return node.blockFilterIndex;
}

/** `/rest/blockfilterheaders/<type>/<hash>?count=<n>` and the deprecated `…/<type>/<n>/<hash>`. */
function restFilterHeaders(node: NodeServices, request: HttpRequest, part: string): HttpReply {
  const { param, format } = parseDataFormat(part);
  const path = splitPath(param);
  if (path.length !== 2 && path.length !== 3) {
    return restError(
      400,
      "Invalid URI format. Expected /rest/blockfilterheaders/<filtertype>/<blockhash>.<ext>?count=<count>",
    );
  }
  const hashText = path.at(-1)!;
  const count = headerCount(request, path.length === 3 ? path[1] : undefined);
  if (typeof count !== "number") return count;
  const hash = parseHash(hashText);
  if (!hash) return restError(400, `Invalid hash: ${hashText}`);
  const index = filterIndexFor(node, path[0]);
  if (!("lookup" in index)) return index;
  const headers: Hash[] = [];
  for (const entry of activeFrom(node, hash, count)) {
    const found = index.lookup(entry.hash);
    if (!found) return restError(404, missingFilter(entry, index).message);
    headers.push(found.header);
  }
  return formatted(format, () => concatBytes(...headers), () => headers.map(hashToHex));
}

/** `/rest/blockfilter/<type>/<hash>`: the filter as Core serializes a `BlockFilter`. */
function restBlockFilter(node: NodeServices, _request: HttpRequest, part: string): HttpReply {
  const { param, format } = parseDataFormat(part);
  const path = splitPath(param);
  if (path.length !== 2) {
    return restError(
      400,
      "Invalid URI format. Expected /rest/blockfilter/<filtertype>/<blockhash>",
    );
  }
  const hash = parseHash(path[1]);
  if (!hash) return restError(400, `Invalid hash: ${path[1]}`);
  const index = filterIndexFor(node, path[0]);
  if (!("lookup" in index)) return index;
  const entry = node.chain.entry(hash);
  if (!entry) return restError(404, `${path[1]} not found`);
  const found = index.lookup(hash);
  if (!found) return restError(404, missingFilter(entry, index).message);
  const encoded = found.filter.encoded;
  return formatted(
    format,
    // The filter type (0: basic), the block hash, the encoded filter as a vector.
    () => concatBytes(Uint8Array.of(0), hash, CompactSizeLen.encode(encoded.length), encoded),
    () => new Map([["filter", hex.encode(encoded)]]),
  );
}

/** `/rest/spenttxouts/<hash>`: per transaction, the outputs its inputs spent (none for the coinbase). */
function restSpentTxOuts(node: NodeServices, _request: HttpRequest, part: string): HttpReply {
  const { param, format } = parseDataFormat(part);
  const path = splitPath(param);
  if (path.length !== 1) {
    return restError(400, "Invalid URI format. Expected /rest/spenttxouts/<hash>.<ext>");
  }
  const hash = parseHash(path[0]);
  if (!hash) return restError(400, `Invalid hash: ${path[0]}`);
  const entry = node.chain.entry(hash);
  if (!entry) return restError(404, `${path[0]} not found`);
  const undo: Coin[][] | undefined = entry.height === 0 ? [] : node.chain.readUndo(hash);
  if (!undo) return restError(404, `${path[0]} undo not available`);
  return formatted(
    format,
    () => serializeSpentOutputs(undo),
    () => [
      [],
      ...undo.map((coins) =>
        coins.map((coin) =>
          new Map<string, JsonInput>([
            ["value", new Amount(coin.amount)],
            ["scriptPubKey", scriptPubKeyJson(coin.script)],
          ])
        )
      ),
    ],
  );
}

/** `/rest/chaininfo.json`: getblockchaininfo's result. */
function restChainInfo(node: NodeServices, _request: HttpRequest, part: string): HttpReply {
  const { format } = parseDataFormat(part);
  if (format !== "json") return formatNotFound("json");
  return jsonReply(blockchainInfoJson(node));
}

/** `/rest/deploymentinfo.json` and `/rest/deploymentinfo/<hash>.json`: getdeploymentinfo's result. */
function restDeploymentInfo(node: NodeServices, _request: HttpRequest, part: string): HttpReply {
  const { param, format } = parseDataFormat(part);
  if (format !== "json") return formatNotFound("json");
  let entry = node.chain.tip;
  if (param !== "") {
    const hash = parseHash(param);
    if (!hash) return restError(400, `Invalid hash: ${param}`);
    const found = node.chain.entry(hash);
    if (!found) return restError(400, "Block not found");
    entry = found;
  }
  return jsonReply(deploymentInfoJson(node, entry));
}

/** A `true`/`false` query parameter (`fallback` when absent), or Core's 400. */
function booleanQuery(request: HttpRequest, name: string, fallback: string): boolean | HttpReply {
  const raw = queryParameter(request.uri, name);
  if (raw instanceof Error) return restError(400, raw.message);
  const value = raw ?? fallback;
  if (value !== "true" && value !== "false") {
    return restError(400, `The "${name}" query parameter must be either "true" or "false".`);
  }
  return value === "true";
}

/** `/rest/mempool/info.json` and `/rest/mempool/contents.json[?verbose=…&mempool_sequence=…]`. */
function restMempool(node: NodeServices, request: HttpRequest, part: string): HttpReply {
  const { param, format } = parseDataFormat(part);
  if (param !== "contents" && param !== "info") {
    return restError(400, "Invalid URI format. Expected /rest/mempool/<info|contents>.json");
  }
  if (format !== "json") return formatNotFound("json");
  if (param === "info") return jsonReply(mempoolInfoJson(node));
  const verbose = booleanQuery(request, "verbose", "true");
  if (typeof verbose !== "boolean") return verbose;
  const withSequence = booleanQuery(request, "mempool_sequence", "false");
  if (typeof withSequence !== "boolean") return withSequence;
  if (verbose && withSequence) {
    return restError(
      400,
      'Verbose results cannot contain mempool sequence values. (hint: set "verbose=false")',
    );
  }
  return jsonReply(mempoolJson(node, verbose, withSequence));
}

/** `/rest/blockhashbyheight/<height>`: the active chain's block hash at a height. */
function restBlockHashByHeight(node: NodeServices, _request: HttpRequest, part: string): HttpReply {
  const { param, format } = parseDataFormat(part);
  const height = parseInt32(param);
  if (height === undefined || height < 0) {
    return restError(400, `Invalid height: ${sanitizeUri(param)}`);
  }
  const entry = node.chain.entryAtHeight(height);
  if (height > node.chain.height || !entry) return restError(404, "Block height out of range");
  return formatted(
    format,
    () => entry.hash,
    () => new Map([["blockhash", hashToHex(entry.hash)]]),
    () => hashToHex(entry.hash),
  );
}

/** The outpoints of a getutxos path (`checkmempool/` first or not), or Core's 400 `Parse error`. */
function pathOutpoints(parts: readonly string[]) {
  const checkMempool = parts[0] === "checkmempool";
  const outpoints = [];
  // All are parsed, as Core does, before the count is checked: the 8 KiB request head bounds them.
  for (const part of parts.slice(checkMempool ? 1 : 0)) {
    const pieces = part.split("-");
    const txid = pieces.length === 2 ? parseHash(pieces[0]) : undefined;
    const index = pieces.length === 2 ? parseUnsigned(pieces[1], 0xffffffffn) : undefined;
    if (!txid || index === undefined) return undefined;
    outpoints.push({ txid, index: Number(index) });
  }
  return { checkMempool, outpoints };
}

/** `/rest/getutxos[/checkmempool]/<txid>-<n>/…`, or the outpoints in a binary or hex body. */
function restGetUtxos(node: NodeServices, request: HttpRequest, part: string): HttpReply {
  const { param, format } = parseDataFormat(part);
  const uriParts = param.length > 1 ? splitPath(param.slice(1)) : [];
  let body = request.body;
  if (body.length === 0 && uriParts.length === 0) return restError(400, "Error: empty request");
  let checkMempool = false;
  let outpoints: { txid: Hash; index: number }[] = [];
  let count = 0;
  const inputParsed = uriParts.length > 0;
  if (inputParsed) {
    const parsed = pathOutpoints(uriParts);
    if (!parsed) return restError(400, "Parse error");
    if (parsed.outpoints.length === 0) return restError(400, "Error: empty request");
    ({ checkMempool, outpoints } = parsed);
    count = outpoints.length;
  }
  switch (format) {
    case "hex":
    case "bin": {
      if (format === "hex") body = parseHexBody(body);
      if (body.length > 0) {
        if (inputParsed) {
          return restError(
            400,
            "Combination of URI scheme inputs and raw post data is not allowed",
          );
        }
        const parsed = parseOutpointsBody(body);
        if (!parsed) return restError(400, "Parse error");
        ({ checkMempool, outpoints, count } = parsed);
      }
      break;
    }
    case "json":
      if (!inputParsed) return restError(400, "Error: empty request");
      break;
    default:
      return formatNotFound();
  }
  if (count > MAX_GETUTXOS_OUTPOINTS) {
    return restError(
      400,
      `Error: max outpoints exceeded (max: ${MAX_GETUTXOS_OUTPOINTS}, tried: ${count})`,
    );
  }
  // The chain's coins, or with the mempool's outputs and without those it spends.
  const view = checkMempool ? node.mempool.coins() : node.chain;
  const coins: Coin[] = [];
  const hits = outpoints.map((outpoint) => {
    const coin = view.getCoin(outpoint);
    if (coin) coins.push(coin);
    return coin !== undefined;
  });
  const found = { height: node.chain.height, tip: node.chain.tip.hash, hits, coins };
  if (format !== "json") {
    return formatted(format, () => serializeUtxos(found), () => null);
  }
  return jsonReply(
    new Map<string, JsonInput>([
      ["chainHeight", found.height],
      ["chaintipHash", hashToHex(found.tip)],
      ["bitmap", hits.map((hit) => (hit ? "1" : "0")).join("")],
      [
        "utxos",
        coins.map((coin) =>
          new Map<string, JsonInput>([
            ["height", coin.height | 0],
            ["value", new Amount(coin.amount)],
            ["scriptPubKey", scriptPubKeyJson(coin.script)],
          ])
        ),
      ],
    ]),
  );
}

/** Core's `uri_prefixes`, in its order: the first prefix a target starts with serves it. */
const ENDPOINTS: readonly (readonly [prefix: string, endpoint: Endpoint])[] = [
  ["/rest/tx/", restTx],
  ["/rest/block/notxdetails/", restBlock(1)],
  ["/rest/block/", restBlock(3)],
  ["/rest/blockfilter/", restBlockFilter],
  ["/rest/blockfilterheaders/", restFilterHeaders],
  ["/rest/chaininfo", restChainInfo],
  ["/rest/mempool/", restMempool],
  ["/rest/headers/", restHeaders],
  ["/rest/getutxos", restGetUtxos],
  ["/rest/deploymentinfo/", restDeploymentInfo],
  ["/rest/deploymentinfo", restDeploymentInfo],
  ["/rest/blockhashbyheight/", restBlockHashByHeight],
  ["/rest/spenttxouts/", restSpentTxOuts],
];

/**
 * The REST interface's handlers (Core's `StartREST`), for the RPC server's
 * `pathHandlers`: each answers 503 `Service temporarily unavailable: …`
 * while the node warms up, then serves its endpoint over `source`'s node.
 */
export function restHandlers(source: RestSource): PathHandler[] {
  return ENDPOINTS.map(([prefix, endpoint]) => ({
    prefix,
    handle: (request: HttpRequest, part: string): HttpReply => {
      const warmup = source.warmupStatus();
      const node = source.services();
      if (warmup !== undefined || !node) {
        return {
          status: 503,
          headers: [["Content-Type", "text/plain"]],
          body: encoder.encode(`Service temporarily unavailable: ${warmup ?? ""}\r\n`),
        };
      }
      return endpoint(node, request, part);
    },
  }));
}
