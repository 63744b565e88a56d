/**
 * Structure-aware mutation fuzzing of the proxy layer under a hostile peer:
 * the grammar of a libmultiprocess client of the Foo component
 * (`examples/schemas/conformance.capnp`), for the machinery of
 * `rpc_fuzz.ts` (its mutations of specs, words and framing, and its runs).
 *
 * A valid sequence is what our own proxies send: Bootstrap; `construct`
 * with the client's ThreadMap (pipelined on the Bootstrap); `makeThread` on
 * the server's ThreadMap (pipelined on `construct`), and sometimes
 * `makePool`; `makeFoo`; then calls of every Foo method, each with a
 * Context naming a thread made so (pipelined on `makeThread`) and the
 * client's own callback thread, params of every kind (structs with lists,
 * sets, maps, enums, optional fields, Data, Text, the custom Point),
 * callbacks exported by the client (answered by `rpc_fuzz.ts` with a
 * result fit for any of them), a Foo of the server's or a fake one of the
 * client's for `addWith`, `makeChild`, `destroy`; Finish at the end. The
 * spec-level mutations of its own: a Context left out, a thread that is a
 * foreign capability (the client's own, a Foo, the server's ThreadMap), the
 * two threads swapped, a param left out or of the wrong kind, a Point of
 * the wrong size, an enum value no schema has.
 *
 * Used by `tests/runtime/proxy/fuzz_test.ts` and `tests/fuzz_campaign.ts`
 * (mode `foo`).
 *
 * @module
 */
import * as capnp from "capnp-es";
import type {
  InterfaceDescriptor,
  MethodSignature,
  StructDescriptor,
  TypeDescriptor,
} from "../runtime/schema/descriptor.ts";
import { initStruct } from "../runtime/rpc/message.ts";
import { type CodecContext, structClass, writeField } from "../runtime/proxy/codec.ts";
import {
  ExtendedCallback,
  Foo,
  FooCallback,
  FooFn,
  FooInit,
} from "../examples/schemas/gen/conformance.mp.ts";
import { Context, Thread, ThreadMap } from "../runtime/schema/gen/mp/proxy.mp.ts";
import type { DescriptorSpec, TargetSpec } from "./wire_peer.ts";
import { type CaseGrammar, frameOf, type Op, PROBE_Q, type Rng, setCap } from "./rpc_fuzz.ts";
import { concatBytes, DEFAULT_TIMEOUT_MS, waitFor, withTimeout } from "./helpers.ts";
import { connect } from "../component.ts";

const FOO_INIT = FooInit.id;
const FOO = Foo.id;
const THREAD_MAP = ThreadMap.id;

/** Foo's method ordinals, by name. */
const FOO_METHOD = Object.fromEntries(Foo.methods.map((m) => [m.name, m.ordinal]));

/** Export ids of the client's own objects. */
const CLIENT_THREAD_MAP = 0;
const CALLBACK_THREAD = 1;

/** Replies to the server's calls carry a capability of the client's from here on. */
const REPLY_EXPORTS = 10_000;

/** A plain value of type `type`, as the generated TypeScript sees it (custom types: their wire). */
function valueOf(rng: Rng, type: TypeDescriptor, depth = 0): unknown {
  switch (type.kind) {
    case "void":
      return undefined;
    case "bool":
      return rng.chance(0.5);
    case "int8":
      return rng.int(256) - 128;
    case "int16":
      return rng.int(65536) - 32768;
    case "int32":
      return rng.pick([0, 1, -1, 0x7fffffff, -0x80000000, rng.int(1000)]);
    case "uint8":
      return rng.int(256);
    case "uint16":
      return rng.int(65536);
    case "uint32":
      return rng.pick([0, 1, 0xffffffff, rng.int(1000)]);
    case "int64":
      return rng.pick([0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), BigInt(rng.int(1000))]);
    case "uint64":
      return rng.pick([0n, 2n ** 64n - 1n, BigInt(rng.u32())]);
    case "float32":
      return Math.fround(rng.pick([0, -0, 1.5, NaN, Infinity, rng.u32() / 7]));
    case "float64":
      return rng.pick([0, -0, 1e308, NaN, -Infinity, rng.u32() / 3]);
    case "text":
      return rng.pick(["", "a", "é☃\u{1F600}", "x".repeat(rng.int(100)), "nul\u0000inside"]);
    case "data":
      return rng.bytes(rng.chance(0.05) ? 5000 : rng.int(20));
    case "enum":
      return rng.chance(0.9) ? rng.pick(type.values) : rng.pick([3, 7, 0xffff]);
    case "list": {
      const n = depth > 3 ? 0 : rng.int(rng.chance(0.05) ? 200 : 5);
      const items = Array.from({ length: n }, () => valueOf(rng, type.element, depth + 1));
      return type.set ? new Set(items) : items;
    }
    case "map": {
      const entry = type.entry();
      const map = new Map<unknown, unknown>();
      for (let n = rng.int(5); n > 0; n--) {
        map.set(valueOf(rng, entry.fields[0]!.type), valueOf(rng, entry.fields[1]!.type));
      }
      return map;
    }
    case "struct":
      return structValue(rng, type.struct(), depth + 1);
    case "group":
      return structValue(rng, type.group, depth + 1);
    case "custom":
      // The Point codec takes 8 bytes; other sizes are the peer's mistake to refuse.
      return rng.chance(0.85) ? rng.bytes(8) : rng.bytes(rng.pick([0, 4, 9, 16]));
    case "interface":
      return undefined;
  }
}

/** A plain object for `struct`: its visible fields, an optional one sometimes left out. */
function structValue(rng: Rng, struct: StructDescriptor, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of struct.fields) {
    if (field.hidden || field.type.kind === "interface") continue;
    if (field.presence !== undefined && rng.chance(0.3)) continue;
    out[field.name] = valueOf(rng, field.type, depth);
  }
  return out;
}

/** What the generator knows while writing a Foo client's sequence. */
interface FooState {
  rng: Rng;
  ops: Op[];
  nextQ: number;
  nextExport: number;
  /** The Bootstrap's question. */
  boot: number;
  /** `construct`'s question (its `threadMap` is result pointer 0), when asked. */
  construct: number | null;
  /** Questions of `makeThread` (their thread is result pointer 0). */
  threads: number[];
  /** Whether a pool was asked for (a Context may then name no thread). */
  pool: boolean;
  /** Questions whose result pointer 0 is a Foo (`makeFoo`, `makeChild`), not destroyed. */
  foos: number[];
  questions: number[];
}

function ask(s: FooState, op: Op & { k: "call" | "bootstrap" }): void {
  s.ops.push(op);
  s.questions.push(op.q);
}

/**
 * The params of a method of a generated interface (see `PROXY_INTERFACES`),
 * written in its layout: `values` by field name (custom types as their wire
 * value), interface fields as cap table indexes, and the Context's threads.
 * A call carries it as its params' `data` (`{kind: "grammar"}`).
 */
interface ProxyParams {
  /** The interface and method whose params layout is written. */
  iface: bigint;
  method: number;
  values: Record<string, unknown>;
  caps: Record<string, number | null>;
  /** Cap table indexes of `Context.thread` and `Context.callbackThread`; null: no Context. */
  context: { thread: number | null; callbackThread: number | null } | null;
}

/** Interfaces whose params `ProxyParams` writes. */
const PROXY_INTERFACES: readonly InterfaceDescriptor[] = [
  FooInit,
  Foo,
  FooCallback,
  ExtendedCallback,
  FooFn,
  ThreadMap,
  Thread,
];

/** The method `iface`/`ordinal` of `PROXY_INTERFACES`. */
function proxyMethod(iface: bigint, ordinal: number): MethodSignature {
  const method = PROXY_INTERFACES.find((d) => d.id === iface)?.methods.find((m) =>
    m.ordinal === ordinal
  );
  if (method === undefined) throw new Error(`no method ${iface}/${ordinal}`);
  return method;
}

/** Writing plain values needs no capabilities. */
const NO_CAPS: CodecContext = {
  caps: { add: () => -1, get: () => null },
  bridge: {
    toCapability: () => {
      throw new Error("interface fields are written as cap indexes");
    },
    fromCapability: () => null,
  },
};

/** Writes `data` (a {@linkcode ProxyParams}) in the layout of its method's params. */
function writeProxyParams(content: capnp.Pointer, data: Record<string, unknown>): void {
  const spec = data as unknown as ProxyParams;
  const method = proxyMethod(spec.iface, spec.method);
  const params = initStruct(structClass(method.params), content);
  for (const field of method.params.fields) {
    if (field.name === method.context) {
      if (spec.context === null) continue;
      const context = capnp.utils.initStructAt(field.offset, structClass(Context), params);
      setCap(context, 0, spec.context.thread);
      setCap(context, 1, spec.context.callbackThread);
    } else if (field.type.kind === "interface") {
      setCap(params, field.offset, spec.caps[field.name] ?? null);
    } else if (!field.hidden) {
      const type = field.type.kind === "custom" ? field.type.wire : field.type;
      writeField({ ...field, type }, spec.values[field.name], params, NO_CAPS, field.name);
    }
  }
}

/** A call of `iface`/`method` on `target`, its params from values and descriptors. */
function proxyCall(
  s: FooState,
  target: TargetSpec,
  iface: bigint,
  method: number,
  values: Record<string, unknown>,
  caps: Record<string, DescriptorSpec | null> = {},
): number {
  const q = s.nextQ++;
  const table: DescriptorSpec[] = [];
  const index = (d: DescriptorSpec | null) => d === null ? null : table.push(d) - 1;
  const capIndexes = Object.fromEntries(Object.entries(caps).map(([k, d]) => [k, index(d)]));
  const signature = proxyMethod(iface, method);
  let context = null;
  if (signature.context !== null) {
    const thread = s.threads.length === 0 || (s.pool && s.rng.chance(0.2))
      ? null
      : { receiverAnswer: s.rng.pick(s.threads), transform: [0] };
    context = {
      thread: index(thread),
      callbackThread: index({ senderHosted: CALLBACK_THREAD }),
    };
  }
  ask(s, {
    k: "call",
    q,
    target,
    iface,
    method,
    params: {
      kind: "grammar",
      data: { iface, method, values, caps: capIndexes, context } satisfies ProxyParams,
    },
    caps: table,
  });
  return q;
}

/** A capability of the client's own, exported fresh (a callback, a function, a fake Foo). */
function ownExport(s: FooState): DescriptorSpec {
  return { senderHosted: s.nextExport++ };
}

/** One call of a Foo method on one of the Foos made so far. */
function fooCall(s: FooState): void {
  const { rng } = s;
  if (s.foos.length === 0) return;
  const fooQ = rng.pick(s.foos);
  const target: TargetSpec = { promisedAnswer: fooQ, transform: [0] };
  const signature = rng.pick(Foo.methods);
  const values = structValue(rng, signature.params, 0);
  const caps: Record<string, DescriptorSpec | null> = {};
  for (const field of signature.params.fields) {
    if (field.type.kind !== "interface") continue;
    if (rng.chance(0.05)) caps[field.name] = null;
    else if (field.name === "foo" && rng.chance(0.6)) {
      caps[field.name] = { receiverAnswer: rng.pick(s.foos), transform: [0] };
    } else caps[field.name] = ownExport(s);
  }
  if (signature.name === "wait") {
    values["ms"] = rng.chance(0.03) ? 3_600_000 : rng.pick([0, 1, 5, 20]);
  }
  const q = proxyCall(s, target, FOO, signature.ordinal, values, caps);
  if (signature.name === "makeChild") s.foos.push(q);
  if (signature.name === "destroy") s.foos.splice(s.foos.indexOf(fooQ), 1);
  // Pipelined on a child: a call on it at once.
  if (signature.name === "makeChild" && rng.chance(0.5)) {
    proxyCall(s, { promisedAnswer: q, transform: [0] }, FOO, FOO_METHOD["add"]!, { a: 1, b: 2 });
  }
}

/** A sequence of valid messages, as a libmultiprocess client sends them on a fresh connection. */
export function fooSequence(rng: Rng): Op[] {
  const s: FooState = {
    rng,
    ops: [],
    nextQ: rng.int(3),
    nextExport: 2,
    boot: 0,
    construct: null,
    threads: [],
    pool: false,
    foos: [],
    questions: [],
  };
  s.boot = s.nextQ++;
  ask(s, { k: "bootstrap", q: s.boot });
  const init: TargetSpec = { promisedAnswer: s.boot, transform: [] };
  if (rng.chance(0.95)) {
    s.construct = proxyCall(s, init, FOO_INIT, 0, {}, {
      threadMap: rng.chance(0.9) ? { senderHosted: CLIENT_THREAD_MAP } : null,
    });
    const threadMap: TargetSpec = { promisedAnswer: s.construct, transform: [0] };
    for (let n = 1 + rng.int(2); n > 0; n--) {
      s.threads.push(proxyCall(s, threadMap, THREAD_MAP, 0, { name: `t${n}` }));
    }
    if (rng.chance(0.2)) {
      proxyCall(s, threadMap, THREAD_MAP, 1, { count: rng.pick([1, 2, 3, 2000]) });
      s.pool = true;
    }
  }
  for (let n = 1 + (rng.chance(0.3) ? 1 : 0); n > 0; n--) {
    s.foos.push(proxyCall(s, init, FOO_INIT, 1, {}));
  }
  const steps = 2 + rng.int(12);
  for (let i = 0; i < steps; i++) {
    const roll = rng.int(20);
    if (roll < 16) fooCall(s);
    else if (roll < 18) s.ops.push({ k: "sync" } as unknown as Op);
    else if (roll < 19 && s.construct !== null) {
      const threadMap: TargetSpec = { promisedAnswer: s.construct, transform: [0] };
      s.threads.push(proxyCall(s, threadMap, THREAD_MAP, 0, { name: "late" }));
    } else if (rng.chance(0.2)) {
      s.ops.push({ k: "abort", reason: "bye" });
      break;
    }
  }
  // Finish what was asked, as a client does once it has its answers (and drops its proxies).
  for (const q of s.questions) {
    if (rng.chance(0.7)) s.ops.push({ k: "finish", q, release: rng.chance(0.7) });
  }
  return s.ops;
}

/** A thread handle that is no thread: foreign capabilities of every kind. */
function foreignThread(rng: Rng, ids: number[]): DescriptorSpec {
  return rng.pick<DescriptorSpec>([
    { senderHosted: CALLBACK_THREAD },
    { senderHosted: CLIENT_THREAD_MAP },
    { senderHosted: 999 },
    { senderPromise: 998 },
    { receiverHosted: rng.int(4) },
    { receiverAnswer: rng.pick(ids.length > 0 ? ids : [0]), transform: rng.pick([[], [0], [1]]) },
    { none: true },
  ]);
}

/** Mutations of a proxy call's params: contexts, threads, values. */
function mutateFooOp(rng: Rng, op: Op, ids: number[]): Op | null {
  if (op.k !== "call" || op.params.kind !== "grammar" || rng.chance(0.3)) return null;
  const copy = structuredClone(op) as Op & { k: "call" };
  const params = (copy.params as { data: Record<string, unknown> }).data as unknown as ProxyParams;
  const context = params.context;
  switch (rng.int(8)) {
    case 0:
      params.context = null;
      break;
    case 1:
      if (context) [context.thread, context.callbackThread] = [context.callbackThread, null];
      break;
    case 2:
    case 3:
      if (context) context.thread = copy.caps.push(foreignThread(rng, ids)) - 1;
      break;
    case 4: {
      const names = Object.keys(params.values);
      if (names.length > 0) delete params.values[rng.pick(names)];
      break;
    }
    case 5: {
      // A param of another method's kind: read in this one's layout.
      const other = rng.pick(Foo.methods);
      params.iface = FOO;
      params.method = other.ordinal;
      params.values = structValue(rng, other.params, 0);
      break;
    }
    case 6:
      if ("point" in params.values) params.values["point"] = rng.bytes(rng.pick([0, 1, 7, 9]));
      else if (typeof params.values["arg"] === "object") {
        (params.values["arg"] as Record<string, unknown>)["color"] = rng.pick([3, 100, 0xffff]);
      }
      break;
    default:
      // A cap of the server's or of the client's where the method wants another interface.
      for (const name of Object.keys(params.caps)) {
        params.caps[name] = copy.caps.push(foreignThread(rng, ids)) - 1;
      }
  }
  return copy;
}

/** The probe: Bootstrap and a call of a method FooInit does not have (any Return counts). */
function fooProbe(): Uint8Array {
  return concatBytes(
    frameOf({ k: "bootstrap", q: PROBE_Q }),
    frameOf({
      k: "call",
      q: PROBE_Q + 1,
      target: { promisedAnswer: PROBE_Q, transform: [] },
      iface: FOO_INIT,
      method: 0xfff0,
      params: { kind: "none" },
      caps: [],
    }),
  );
}

/** The grammar of a Foo client (see the module's documentation). */
export const FOO_GRAMMAR: CaseGrammar = {
  generate: fooSequence,
  mutate: mutateFooOp,
  writeParams: writeProxyParams,
  // Any result the server may ask for: an Int32 first, a capability (a Thread) at pointer 0.
  reply: (answerId) => ({
    k: "return",
    answerId,
    releaseParamCaps: false,
    results: { kind: "reply", value: 7, cap: 0 },
    caps: [{ senderHosted: REPLY_EXPORTS + answerId }],
  }),
  probe: fooProbe,
  // Most cases keep the envelope whole, so that what they break is the proxy layer's to take.
  byteMutations: 0.35,
  waitsLong: (op) => {
    if (op.k !== "call" || op.params.kind !== "grammar") return false;
    const params = op.params.data as unknown as ProxyParams;
    return params.iface === FOO && params.method === FOO_METHOD["wait"] &&
      Number(params.values["ms"]) > 1000;
  },
};

/** A Foo client connected before the cases, with the checks it makes. */
export interface FooBefore extends AsyncDisposable {
  /**
   * Throws unless the component still answers this connection and every Foo
   * made by the cases' connections has ended (only this one's lives).
   */
  check(what: string): Promise<void>;
}

/** Connects a Foo client (our generated proxies) to the component at `path`. */
export async function fooBefore(path: string): Promise<FooBefore> {
  const init = await connect(FooInit, `unix:${path}`);
  const foo = (await init.makeFoo())!;
  return {
    async check(what) {
      const sum = await withTimeout(
        Promise.resolve(foo.add(2, 3)),
        DEFAULT_TIMEOUT_MS,
        `add after ${what}`,
      );
      if (sum !== 5) throw new Error(`add gave ${sum} after ${what}`);
      const name = await withTimeout(
        Promise.resolve(foo.threadName()),
        DEFAULT_TIMEOUT_MS,
        `threadName after ${what}`,
      );
      if (!name.includes("strand")) throw new Error(`thread name ${name} after ${what}`);
      // Objects end as their connections' shutdowns run, which the component may not have reached.
      await waitFor(
        async () => await foo.liveFoos() === 1,
        DEFAULT_TIMEOUT_MS,
        `Foos made by the cases to end after ${what}`,
      );
    },
    async [Symbol.asyncDispose]() {
      foo[Symbol.dispose]();
      await init[Symbol.asyncDispose]();
    },
  };
}

/**
 * Lines a component prints under a hostile peer that say nothing is wrong
 * with it: where it listens, a connection it ended (`listen` logs why) and
 * its own failed calls to the peer (logged at the default level, as
 * libmultiprocess does).
 */
const EXPECTED_STDERR = [
  /^Listening for IPC requests on address unix:\S+$/,
  /^IPC server: connection on \S+ failed: \S*(RpcError|FramingError|PeerLimitError)\b/,
  /^\{[^}]+\} IPC client exception (RpcError|TypeMappingError)\b/,
];

/** The lines of `lines` a healthy component does not print. */
export function unexpectedStderr(lines: readonly string[]): string[] {
  return lines.filter((line) => !EXPECTED_STDERR.some((pattern) => pattern.test(line)));
}
