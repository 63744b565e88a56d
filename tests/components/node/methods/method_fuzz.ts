/**
 * A seeded fuzzer of the node's JSON-RPC methods, as an authenticated
 * client would call them: every method the node serves (its own and the
 * wallet's, routed to a wallet process), with arguments built from the
 * method's own spec (real addresses, block hashes, txids, raw transactions
 * and blocks, descriptors, keys and signatures of the chain under test),
 * then mutated: values of every JSON type and edge number (as raw JSON
 * text: `1e400`, `-0`, `0.000000001`, 2^63), hex and strings with bytes
 * flipped, cut or appended, named parameters with unknown or repeated
 * names, too many or too few arguments, odd wallet paths.
 *
 * The node runs as its own process with `-rpcdoccheck` (every result is
 * checked against its documented shape), the wallet as another; each case
 * is one request over real HTTP. Each must be answered in time with a well
 * formed reply whose status fits its error code, an error code Core has, a
 * message that is not a JavaScript engine's (`Cannot read properties`,
 * `undefined`, `NaN`, ...) nor an internal bug report; both processes stay
 * alive and silent on stderr, and the node still answers. Every case is a
 * function of its seed and of the cases before it (they share one chain).
 *
 * @module
 */
import { ChainState } from "../../../../components/node/chain/mod.ts";
import { encodeSecret } from "../../../../components/node/chain/keys.ts";
import { Mempool } from "../../../../components/node/mempool/mod.ts";
import { nodeMethods, NodeServices } from "../../../../components/node/methods/mod.ts";
import { RpcErrorCode } from "../../../../components/rpc/errors.ts";
import type { ArgSpec } from "../../../../components/rpc/spec.ts";
import { firstName, isOptional } from "../../../../components/rpc/spec.ts";
import { DEFAULT_TIMEOUT_MS, processGone, tempDir, withTimeout } from "../../../helpers.ts";
import { Rng } from "../../../rpc_fuzz.ts";
import { responseProblem } from "../../rpc/http_fuzz.ts";
import { basic, type RawConnection } from "../../rpc/raw_http.ts";
import { startWallet } from "../../wallet/wallet_process.ts";
import { type RealNode, startRealNode } from "../real_node.ts";

/** A method as the fuzzer sees it: its name, whether it is the wallet's, and its arguments. */
export interface MethodShape {
  readonly name: string;
  readonly wallet: boolean;
  readonly args: readonly ArgSpec[];
}

/** The node's methods, read from its own method table (`stop` left out). */
export function methodShapes(): MethodShape[] {
  using temp = tempDir("method_fuzz_specs_");
  using chain = ChainState.open(temp.path);
  using mempool = new Mempool(chain);
  return nodeMethods(new NodeServices({ chain, mempool }))
    .map((m) => ({ name: m.name, wallet: m.category === "wallet", args: m.args }));
}

/** Real values of the chain under test, gathered once the node and wallet are up. */
export interface FuzzContext {
  readonly addresses: string[];
  readonly blockHashes: string[];
  readonly txids: string[];
  readonly rawTxs: string[];
  readonly blocks: string[];
  readonly headers: string[];
  readonly scripts: string[];
  readonly descriptors: string[];
  readonly wifs: string[];
  readonly signatures: string[];
  readonly walletNames: string[];
  readonly passphrases: string[];
  readonly labels: string[];
}

/** JSON text sent as it is (numbers JSON.stringify cannot write: `1e400`, `-0`, `1.0`). */
class RawJson {
  constructor(readonly text: string) {}
}

type Value = null | boolean | number | string | RawJson | Value[] | { [key: string]: Value };

function jsonText(value: Value): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${
      Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(",")
    }}`;
  }
  return JSON.stringify(value);
}

/** Numbers at the edges of what Core's `getInt`, `get_real` and `AmountFromValue` take. */
const EDGE_NUMBERS = (
  "0 -0 1 -1 0.5 -0.5 1.0 1e0 1E2 0.00000001 0.000000001 1e-30 2147483647 " +
  "2147483648 -2147483649 4294967296 9007199254740993 9223372036854775808 " +
  "-9223372036854775809 1e15 21000000 21000000.00000001 1e300 1e400 -1e400 " +
  "123456789012345678901234567890"
).split(" ").map((text) => new RawJson(text));

/** Numbers Core's `getInt` refuses, however they are written. */
const FRACTIONS = EDGE_NUMBERS.filter((n) => /[.eE]/.test(n.text));

const ODD_STRINGS = [
  "",
  " ",
  "0",
  "-1",
  "1e400",
  "x",
  "zz",
  "0x10",
  "00",
  "deadbeef",
  "\u0000",
  "é",
  "🙂",
  "\ud800",
  "*",
  "/",
  "../x",
  "a".repeat(300),
  "ab".repeat(5000),
  "null",
  "true",
  "[]",
  "{}",
];

function hostile(rng: Rng, ctx: FuzzContext): Value {
  switch (rng.int(7)) {
    case 0:
      return rng.pick(EDGE_NUMBERS);
    case 1:
      return rng.pick(ODD_STRINGS);
    case 2:
      return rng.pick([null, true, false]);
    case 3:
      return rng.pick<Value>([[], [[]], [null], [1, 2, 3], ["x"], new Array(2000).fill(0)]);
    case 4:
      return rng.pick<Value>([{}, { "": null }, { a: { b: [] } }, { txid: "", vout: -1 }]);
    case 5:
      return mutateText(rng, anyContextValue(rng, ctx));
    default:
      return anyContextValue(rng, ctx);
  }
}

function anyContextValue(rng: Rng, ctx: FuzzContext): string {
  const pools = Object.values(ctx).filter((pool: string[]) => pool.length > 0) as string[][];
  return rng.pick(rng.pick(pools));
}

const HEX = "0123456789abcdef";

/** A string with bytes flipped, cut, repeated or appended (hex stays mostly hex). */
function mutateText(rng: Rng, text: string): string {
  const at = rng.int(text.length + 1);
  const hex = /^[0-9a-f]*$/i.test(text);
  const char = () => hex ? HEX[rng.int(16)] : String.fromCharCode(32 + rng.int(95));
  switch (rng.int(8)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + char() + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + char() + char() + text.slice(at);
    case 3:
      return text.slice(at) + text.slice(0, at);
    case 4:
      return text + text.slice(0, rng.int(64));
    case 5:
      return text.toUpperCase();
    case 6: {
      // Flip a run of hex digits near the start, where lengths, counts and versions live.
      const start = rng.int(Math.min(text.length, 24));
      let out = text.slice(0, start);
      for (let i = start; i < Math.min(text.length, start + 4); i++) out += char();
      return out + text.slice(start + 4);
    }
    default:
      return text.slice(0, at) + "00".repeat(1 + rng.int(40)) + text.slice(at);
  }
}

const SMALL_INTS = [0, 1, 2, 3, 5, 6, 10, 100, 101, 102, 103, 110];
const AMOUNTS: Value[] = [0, 0.0001, 0.001, 0.1, 1, 12.5, 49.99, 50, 100, 21e6];

/** The string choices of arguments Core reads as enumerations. */
const CHOICES: Record<string, string[]> = {
  estimate_mode: ["unset", "economical", "conservative", "ECONOMICAL", "x"],
  address_type: ["legacy", "p2sh-segwit", "bech32", "bech32m", "unknown"],
  hash_type: ["hash_serialized_3", "muhash", "none", "x"],
  sighashtype: ["DEFAULT", "ALL", "NONE", "SINGLE", "ALL|ANYONECANPAY", "SINGLE|ANYONECANPAY", "x"],
  action: ["start", "abort", "status", "x"],
  mode: ["stats", "mallocinfo", "template", "proposal", "x"],
  index_name: ["txindex", "coinstatsindex", "x"],
  purpose: ["send", "receive", "x"],
  dummy: ["", "*", "x"],
  include_category: ["all", "net", "rpc", "ipc", "validation", "x"],
  exclude_category: ["all", "net", "rpc", "ipc", "validation", "x"],
  rules: ["segwit", "x"],
  str: ["segwit", "longpoll", "proposal", "x"],
};

/** A plausible value for `arg` of `method`: the right type, mostly a real value of the chain. */
function plausible(rng: Rng, ctx: FuzzContext, method: string, arg: ArgSpec, depth: number): Value {
  const name = firstName(arg).toLowerCase();
  if (name in CHOICES && (arg.type === "str" || arg.type === "arr")) {
    const choice = rng.pick(CHOICES[name]);
    return arg.type === "arr" ? [choice] : choice;
  }
  switch (arg.type) {
    case "bool":
      return rng.chance(0.5);
    case "amount":
      return rng.pick(AMOUNTS);
    case "num":
      if (name === "timeout") return 1 + rng.int(50);
      if (name === "checklevel") return rng.int(5);
      return rng.pick(SMALL_INTS);
    case "range":
      return rng.chance(0.5) ? rng.int(20) : [rng.int(5), rng.int(20)];
    case "hex":
    case "str":
      return plausibleText(rng, ctx, method, name);
    case "obj":
    case "obj_named_params": {
      const out: Record<string, Value> = {};
      for (const inner of arg.inner ?? []) {
        if (!isOptional(inner) || rng.chance(0.5)) {
          out[firstName(inner)] = plausible(rng, ctx, method, inner, depth + 1);
        }
      }
      return out;
    }
    case "obj_user_keys": {
      const out: Record<string, Value> = {};
      for (let i = rng.int(3) + 1; i > 0; i--) out[rng.pick(ctx.addresses)] = rng.pick(AMOUNTS);
      return out;
    }
    case "arr": {
      const inner = arg.inner ?? [];
      if (inner.length === 0 || depth > 3) return [];
      const out: Value[] = [];
      for (let i = rng.int(4); i > 0; i--) {
        out.push(plausible(rng, ctx, method, rng.pick(inner), depth + 1));
      }
      return out;
    }
  }
}

function plausibleText(rng: Rng, ctx: FuzzContext, method: string, name: string): string {
  if (name.includes("address") || name === "output") return rng.pick(ctx.addresses);
  if (name.includes("blockhash") || name === "current_tip") return rng.pick(ctx.blockHashes);
  if (name === "txid" || name === "rawtx/txid" && rng.chance(0.5)) return rng.pick(ctx.txids);
  if (name === "hexdata") return rng.pick(method === "submitheader" ? ctx.headers : ctx.blocks);
  if (name.startsWith("rawtx") || name.startsWith("hexstring")) {
    return method === "decodescript" ? rng.pick(ctx.scripts) : rng.pick(ctx.rawTxs);
  }
  if (name === "scriptpubkey" || name.endsWith("script")) return rng.pick(ctx.scripts);
  if (name === "descriptor" || name === "desc") return rng.pick(ctx.descriptors);
  if (name.includes("privkey") || name === "privatekey") return rng.pick(ctx.wifs);
  if (name === "signature") return rng.pick(ctx.signatures);
  if (name === "message") return rng.pick(["hello", "", "x".repeat(1000)]);
  if (name.includes("passphrase")) return rng.pick(ctx.passphrases);
  if (name === "wallet_name" || name === "filename") return rng.pick(ctx.walletNames);
  if (name === "label" || name === "comment" || name === "comment_to") return rng.pick(ctx.labels);
  if (name === "longpollid") return "00".repeat(32) + rng.int(10);
  if (name === "command") return rng.pick(["getblock", "help", "x", ""]);
  if (name === "data") return rng.pick(ctx.blocks);
  return rng.pick(ctx.labels);
}

/** Changes `value` somewhere inside: a hostile replacement, or a text mutation. */
function mutate(rng: Rng, ctx: FuzzContext, value: Value, depth = 0): Value {
  if (Array.isArray(value) && value.length > 0 && rng.chance(0.6) && depth < 4) {
    const copy = [...value];
    const i = rng.int(copy.length);
    if (rng.chance(0.2)) copy.splice(i, 1);
    else copy[i] = mutate(rng, ctx, copy[i], depth + 1);
    return copy;
  }
  if (
    value !== null && typeof value === "object" && !Array.isArray(value) &&
    !(value instanceof RawJson) && rng.chance(0.6) && depth < 4
  ) {
    const copy = { ...value };
    const keys = Object.keys(copy);
    if (keys.length > 0 && rng.chance(0.7)) {
      const key = rng.pick(keys);
      if (rng.chance(0.2)) delete copy[key];
      else copy[key] = mutate(rng, ctx, copy[key], depth + 1);
    } else {
      copy[rng.pick(["", "x", "txid", "vout", "amount", "desc", "range", "mode"])] = hostile(
        rng,
        ctx,
      );
    }
    return copy;
  }
  if (typeof value === "string" && rng.chance(0.5)) return mutateText(rng, value);
  return hostile(rng, ctx);
}

/** One request: a method, its params as JSON text, the path, and what was done to it. */
export interface MethodCase {
  readonly seed: number;
  readonly method: string;
  readonly path: string;
  readonly params: string;
  readonly notes: string[];
  /**
   * An integer argument given a number Core's `getInt` refuses (`1.5`, `1.0`, `1e0`), as
   * `name=text`: the call must fail.
   */
  readonly fraction?: string;
}

/** Arguments that would legitimately run for long: kept small whatever the mutation. */
function pin(method: string, arg: ArgSpec, value: Value, rng: Rng): Value {
  const name = firstName(arg);
  if (method.startsWith("waitfor") && name === "timeout") return 1 + rng.int(50);
  if (/^(nblocks|num_blocks)$/.test(name) && method.startsWith("generate")) {
    return typeof value === "number" || value instanceof RawJson ? rng.int(3) : value;
  }
  if (arg.type === "range" || name === "scanobjects") return shrinkRanges(value);
  return value;
}

/** Ranges wider than 1000 but under Core's limit of 1e6 derive many keys: narrowed. */
function shrinkRanges(value: Value): Value {
  if (Array.isArray(value)) {
    if (value.length === 2 && typeof value[0] === "number" && typeof value[1] === "number") {
      const [low, high] = value;
      if (high - low > 1000 && high - low < 1e6) return [low, low + 1000];
    }
    return value.map(shrinkRanges);
  }
  if (typeof value === "number") return value > 1000 && value < 1e6 ? 1000 : value;
  if (value instanceof RawJson) {
    const n = Number(value.text);
    return n > 1000 && n < 1e6 ? 1000 : value;
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shrinkRanges(v)]));
  }
  return value;
}

/** The case of `seed`: unmutated (valid-shaped) when `mutateIt` is false. */
export function methodCase(
  seed: number,
  methods: readonly MethodShape[],
  ctx: FuzzContext,
  mutateIt = true,
): MethodCase {
  const rng = new Rng(seed);
  const shape = rng.pick(methods);
  const notes: string[] = [];
  const args = shape.args.filter((a) => !a.hidden);
  let count = args.length;
  while (count > 0 && isOptional(args[count - 1]) && rng.chance(0.5)) count--;
  const values: (Value | undefined)[] = args.slice(0, count).map((arg) =>
    isOptional(arg) && rng.chance(0.2) ? null : plausible(rng, ctx, shape.name, arg, 0)
  );
  if (mutateIt) {
    const numbers = values.flatMap((_, i) => args[i].type === "num" ? [i] : []);
    for (let n = rng.int(3) + 1; n > 0; n--) {
      const kind = rng.int(10);
      if (kind === 0) {
        notes.push("an argument too many");
        values.push(hostile(rng, ctx));
      } else if (kind === 1 && values.length > 0) {
        notes.push("the last argument dropped");
        values.pop();
      } else if (kind === 2 && numbers.some((i) => i < values.length)) {
        // Among those not dropped: an index past the end would leave a hole.
        const i = rng.pick(numbers.filter((i) => i < values.length));
        notes.push(`argument ${i + 1} not an integer`);
        values[i] = rng.pick(FRACTIONS);
      } else if (values.length > 0) {
        const i = rng.int(values.length);
        notes.push(`argument ${i + 1} mutated`);
        values[i] = mutate(rng, ctx, values[i] ?? null);
      }
    }
  }
  // A wait without a timeout waits for ever (as Core's): every wait gets a short one.
  if (shape.name.startsWith("waitfor")) { while (values.length < args.length) values.push(null); }
  for (let i = 0; i < values.length && i < args.length; i++) {
    if (values[i] !== undefined) values[i] = pin(shape.name, args[i], values[i]!, rng);
  }
  const given = new Map(values.slice(0, args.length).map((v, i) => [args[i], v]));
  let params: string;
  if (rng.chance(0.2)) {
    notes.push("named");
    const named: Record<string, Value> = {};
    values.forEach((v, i) => {
      if (v !== undefined && v !== null && i < args.length) {
        const names = args[i].name.split("|");
        named[rng.pick(names)] = v;
      }
    });
    if (mutateIt && rng.chance(0.3)) {
      const key = rng.pick(["args", "x", args[0]?.name ?? "y"]);
      notes.push(`named ${key} added`);
      const value = rng.chance(0.5) ? hostile(rng, ctx) : [hostile(rng, ctx)];
      const arg = args.find((a) => a.name === key);
      named[key] = arg ? pin(shape.name, arg, value, rng) : value;
      if (arg) given.set(arg, named[key]);
    }
    params = jsonText(named);
  } else {
    params = jsonText(values.map((v) => v ?? null));
  }
  const path = !shape.wallet || rng.chance(0.4)
    ? "/"
    : rng.chance(0.8)
    ? `/wallet/${encodeURIComponent(rng.pick(ctx.walletNames))}`
    : rng.pick(["/wallet/", "/wallet/%zz", "/wallet/w/x", "/x"]);
  // prioritisetransaction's dummy is read with get_real: the one number argument that is no integer.
  // scanblocks reads its heights only to start a scan (`status` and `abort` leave them unread).
  const action = [...given].find(([arg]) => arg.name === "action")?.[1];
  const heightsRead = shape.name !== "scanblocks" || action === "start";
  const fraction = heightsRead &&
    [...given].find(([arg, v]) =>
      arg.type === "num" && firstName(arg) !== "dummy" && v instanceof RawJson &&
      /[.eE]/.test(v.text)
    );
  return {
    seed,
    method: shape.name,
    path,
    params,
    notes,
    ...(fraction ? { fraction: `${firstName(fraction[0])}=${(fraction[1] as RawJson).text}` } : {}),
  };
}

const CODES = new Set<number>(Object.values(RpcErrorCode));

/** Messages a JavaScript engine writes, never Bitcoin Core: a method threw by accident. */
export const ENGINE_TEXT: RegExp =
  /\bundefined\b|\bNaN\b|\[object |is not a function|is not iterable|Cannot read prop|Cannot convert|Maximum call stack|Invalid array length|Invalid typed array|BigInt|Unexpected token|\bat (async )?file:|\.ts:\d+|os error \d+/;

/** The node and wallet processes under test, and the chain's values. */
export interface MethodFuzzTarget extends AsyncDisposable {
  readonly node: RealNode;
  readonly wallet: Deno.ChildProcess;
  /** The wallet process's data directory (its wallets in `wallets/`). */
  readonly walletDir: string;
  readonly context: FuzzContext;
  /** Checks both processes and a plain call after a case: a problem, or null. */
  health(): Promise<string | null>;
  /** What the wallet process printed on stderr (its log lines start `wallet: `). */
  walletStderr(): string;
  /** Loads `w` again when a case unloaded it (so that later cases reach a wallet). */
  restoreWallet(): Promise<void>;
  /**
   * A JSON-RPC call at `/wallet/<wallet>` (`w` by default): its result, or
   * `{ error }` with the node's error object.
   */
  // deno-lint-ignore no-explicit-any
  walletCall(method: string, params?: unknown, wallet?: string): Promise<any>;
}

/**
 * The node (`-rpcdoccheck`, and `nodeArgs`) and a wallet process with
 * wallet `w` (and `walletArgs`), a chain of 103 blocks, and its values.
 */
export async function startMethodFuzzTarget(
  nodeArgs: string[] = [],
  walletArgs: string[] = [],
): Promise<MethodFuzzTarget> {
  const walletTemp = tempDir("method_fuzz_wallet_");
  const node = await startRealNode({
    args: ["-ipcbind=unix", "-rpcdoccheck", "-txindex", "-fallbackfee=0.0002", ...nodeArgs],
  });
  const wallet = startWallet(
    node,
    walletTemp.path,
    ["-wallet=w", "-fallbackfee=0.0002", ...walletArgs],
    { stderr: "piped" },
  );
  let walletErrors = "";
  const walletStderr = (async () => {
    for await (const chunk of wallet.stderr.pipeThrough(new TextDecoderStream())) {
      walletErrors += chunk;
    }
  })();
  const dispose = async () => {
    try {
      wallet.kill("SIGKILL");
    } catch { /* gone */ }
    await wallet.status;
    await walletStderr;
    await node[Symbol.asyncDispose]();
    walletTemp[Symbol.dispose]();
  };
  try {
    const deadline = performance.now() + 60_000;
    while (JSON.stringify(await node.call("listwallets")) !== '["w"]') {
      if (performance.now() > deadline) throw new Error(`no wallet: ${walletErrors}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const context = await gatherContext(node);
    return {
      node,
      wallet,
      walletDir: walletTemp.path,
      context,
      walletStderr: () => walletErrors,
      async health() {
        if (processGone(node.child.pid)) return `the node died: ${node.stderr().slice(-2000)}`;
        if (processGone(wallet.pid)) return `the wallet died: ${walletErrors.slice(-2000)}`;
        if (node.stderr() !== "") return `node stderr: ${node.stderr().slice(-2000)}`;
        const odd = walletErrors.split("\n").filter((l) => l !== "" && !l.startsWith("wallet: "));
        if (odd.length > 0) return `wallet stderr: ${odd.join("\n").slice(-2000)}`;
        try {
          await withTimeout(node.call("getblockcount"), DEFAULT_TIMEOUT_MS, "getblockcount");
          return null;
        } catch (error) {
          return `getblockcount after the case: ${(error as Error).message}`;
        }
      },
      async restoreWallet() {
        const loaded: string[] = await node.call("listwallets");
        if (!loaded.includes("w")) await node.call("loadwallet", ["w"]);
      },
      async walletCall(method, params = [], wallet = "w") {
        const body = JSON.stringify({ id: 1, method, params });
        const reply = await node.raw(body, `/wallet/${wallet}`);
        return reply.body.error ? { error: reply.body.error } : reply.body.result;
      },
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

async function gatherContext(node: RealNode): Promise<FuzzContext> {
  const call = node.call;
  const addresses: string[] = [];
  for (const type of ["bech32", "bech32m", "p2sh-segwit", "legacy"]) {
    addresses.push(await call("getnewaddress", ["", type]));
  }
  await call("generatetoaddress", [101, addresses[0]]);
  const txids = [
    await call("sendtoaddress", [addresses[1], 1]),
    await call("sendtoaddress", [addresses[2], 2]),
  ];
  await call("generatetoaddress", [1, addresses[3]]);
  txids.push(await call("sendtoaddress", [addresses[3], 3]));
  const tip = await call("getbestblockhash");
  const blockHashes = [await call("getblockhash", [0]), await call("getblockhash", [50]), tip];
  const rawTxs = await Promise.all(
    txids.map(async (txid) => (await call("gettransaction", [txid])).hex as string),
  );
  const blocks = [await call("getblock", [tip, 0]), await call("getblock", [blockHashes[1], 0])];
  const headers = [await call("getblockheader", [tip, false])];
  const scripts = await Promise.all(
    addresses.map(async (a) => (await call("getaddressinfo", [a])).scriptPubKey as string),
  );
  const wif = encodeSecret({ key: new Uint8Array(32).fill(7), compressed: true });
  const pkh = (await call("getdescriptorinfo", [`pkh(${wif})`])).descriptor as string;
  const signer = (await call("deriveaddresses", [pkh]))[0] as string;
  addresses.push(signer);
  const listed = await call("listdescriptors");
  const descriptors = [
    ...listed.descriptors.slice(0, 2).map((d: { desc: string }) => d.desc),
    pkh,
    `addr(${addresses[0]})`,
    `raw(${scripts[0]})`,
    "wpkh(02" + "11".repeat(32) + ")",
  ];
  return {
    addresses,
    blockHashes,
    txids,
    rawTxs,
    blocks,
    headers,
    scripts,
    descriptors,
    wifs: [wif],
    signatures: [await call("signmessagewithprivkey", [wif, "hello"])],
    walletNames: ["w", "w2", "missing"],
    passphrases: ["pass", "other", ""],
    labels: ["", "a", "label with spaces", "*"],
  };
}

/** The reply's problem, or null: framing, status against code, a known code, a Core-like message. */
export function replyProblem(status: number, body: string): string | null {
  let reply: { result?: unknown; error?: { code: number; message: string } | null };
  try {
    reply = JSON.parse(body);
  } catch {
    return `unparsable reply (${status}): ${body.slice(0, 300)}`;
  }
  const error = reply.error;
  if (error === null || error === undefined) return status === 200 ? null : `status ${status}`;
  if (!CODES.has(error.code)) return `unknown error code ${error.code}: ${error.message}`;
  if (error.message === "") return `empty message for code ${error.code}`;
  if (error.message.startsWith("Internal bug detected")) return error.message.slice(0, 1500);
  if (ENGINE_TEXT.test(error.message)) return `engine text: ${error.code} ${error.message}`;
  return null;
}

/** Sends `fuzzCase` on `conn` (JSON-RPC 1.0, as bitcoin-cli) and checks the reply; the problem, or null. */
export async function runMethodCase(
  conn: RawConnection,
  auth: string,
  fuzzCase: MethodCase,
): Promise<{ problem: string | null; error?: { code: number; message: string } }> {
  const body = `{"method":${JSON.stringify(fuzzCase.method)},"params":${fuzzCase.params},"id":1}`;
  const bytes = new TextEncoder().encode(body);
  await conn.send(
    `POST ${fuzzCase.path} HTTP/1.1\r\nAuthorization: ${auth}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${bytes.length}\r\n\r\n`,
  );
  await conn.send(bytes);
  const response = await withTimeout(
    conn.response(),
    DEFAULT_TIMEOUT_MS,
    `the reply to ${fuzzCase.method}`,
  );
  const framing = responseProblem(response);
  if (framing) return { problem: framing };
  if (!/^\/(wallet\/.*)?$/.test(fuzzCase.path)) {
    // Core serves `/` and `/wallet/…` only: anything else is a 404 without a body.
    const ok = response.status === 404 && response.body === "";
    return { problem: ok ? null : `path ${fuzzCase.path}: ${response.status} ${response.body}` };
  }
  const problem = replyProblem(response.status, response.body);
  const error = JSON.parse(response.body).error ?? undefined;
  if (!problem && !error && fuzzCase.fraction) {
    return { problem: `accepted ${fuzzCase.fraction}, which Core's getInt refuses` };
  }
  return { problem, error };
}

/** `Basic …` for the node's cookie. */
export function cookieAuth(node: RealNode): string {
  return basic(Deno.readTextFileSync(`${node.datadir}/regtest/.cookie`));
}
