/**
 * Structure-aware mutation fuzzing of the RPC engine under a hostile peer.
 *
 * A seeded generator writes the sequences of messages a real client (or, the
 * other way round, a real server) would send, as plain specs; a mutator then
 * changes them at three levels: the specs (ids near valid ones, dropped,
 * duplicated or reordered messages, swapped variants), the words of the built
 * segments (bits, bytes, union discriminants, pointer offsets, list sizes and
 * element sizes, far pointers), and the framing (truncation, segment tables,
 * frames split across writes). Everything is a pure function of the seed, so a
 * failing case is reproduced by its seed alone.
 *
 * Used by `tests/runtime/rpc/fuzz_test.ts` (a fixed-seed campaign) and by
 * `tests/fuzz_campaign.ts` (long campaigns from the command line).
 *
 * @module
 */
import * as capnp from "capnp-es";
import { Message as RpcMessage, Return as RpcReturn } from "capnp-es/capnp/rpc";
import {
  Callback$Client,
  Counter$Client,
  ExtendedTester$Client,
  Tester$Client,
  Tester_Add$Params,
  Tester_Add$Results,
  Tester_CallBack$Params,
  Tester_Echo$Params,
  Tester_EchoText$Params,
  Tester_Fail$Params,
  Tester_Hold$Params,
  Tester_MakeCounter$Params,
  Tester_Wait$Params,
} from "../examples/schemas/gen/testing.ts";
import {
  build,
  type DescriptorSpec,
  type ExceptionSpec,
  type TargetSpec,
  TESTER_METHOD,
  WirePeer,
} from "./wire_peer.ts";
import { RpcConnection } from "../runtime/rpc/connection.ts";
import { initStruct } from "../runtime/rpc/message.ts";
import { Capability, PromiseHook } from "../runtime/rpc/capability.ts";
import { callbackOf, callCallback, TesterClient } from "../examples/tester.ts";
import { DEFAULT_TIMEOUT_MS, tempSocket, waitFor, withTimeout } from "./helpers.ts";
import { structClass } from "../runtime/proxy/codec.ts";

// ---- A seeded PRNG ----

/** A small deterministic PRNG (mulberry32): the same seed, the same case. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = (seed ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < 4; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

// ---- Message specs ----

/** Methods of the Tester interface, by ordinal. */
const M = TESTER_METHOD;

/** A call's params, as plain data (built by {@linkcode writeParams}). */
export type ParamsSpec =
  | { kind: "none" }
  | { kind: "add"; a: number; b: number }
  | { kind: "data"; bytes: number; fill: number }
  | { kind: "text"; text: string }
  | { kind: "int64"; value: bigint }
  | { kind: "callBack"; cap: number | null; n: number }
  | { kind: "fail"; type: number; message: string }
  | { kind: "wait"; ms: number }
  | { kind: "cap"; cap: number | null }
  | GrammarParamsSpec
  /** A struct of one data word (`value`, an Int32) and one pointer (`cap`): any proxy result. */
  | { kind: "reply"; value: number; cap: number | null };

/**
 * Params the case's grammar writes itself ({@linkcode CaseGrammar.writeParams}):
 * plain data, as every spec is, so that mutations may clone and change it.
 */
export interface GrammarParamsSpec {
  kind: "grammar";
  data: Record<string, unknown>;
}

const REPLY_STRUCT = structClass({ name: "reply", id: 0n, dataWords: 1, pointers: 1, fields: [] });

/** One message, as plain data; `raw` is already framed bytes. */
export type Op =
  | { k: "bootstrap"; q: number }
  | {
    k: "call";
    q: number;
    target: TargetSpec;
    iface: bigint;
    method: number;
    params: ParamsSpec;
    caps: DescriptorSpec[];
    yourself?: boolean;
  }
  | {
    k: "return";
    answerId: number;
    releaseParamCaps?: boolean;
    results?: ParamsSpec;
    caps?: DescriptorSpec[];
    exception?: ExceptionSpec;
    canceled?: boolean;
    takeFromOtherQuestion?: number;
    resultsSentElsewhere?: boolean;
  }
  | { k: "finish"; q: number; release: boolean }
  | { k: "release"; id: number; count: number }
  | { k: "resolve"; promiseId: number; to: DescriptorSpec | ExceptionSpec }
  | {
    k: "disembargo";
    target: TargetSpec;
    context: { senderLoopback: number } | { receiverLoopback: number } | { accept: true };
  }
  | { k: "abort"; reason: string }
  | { k: "unimplemented"; inner: Op }
  | { k: "raw"; bytes: Uint8Array };

/** Sets pointer `field` of `struct` to cap table index `cap` (null leaves it null). */
export function setCap(struct: capnp.Struct, field: number, cap: number | null): void {
  if (cap !== null) capnp.utils.setInterfacePointer(cap, capnp.utils.getPointer(field, struct));
}

/** Writes `spec` as the content at `content` (the params `grammar` writes, through it). */
function writeContent(content: capnp.Pointer, spec: ParamsSpec, grammar?: CaseGrammar): void {
  switch (spec.kind) {
    case "none":
      return;
    case "add": {
      const p = initStruct(Tester_Add$Params, content) as Tester_Add$Params;
      if ("a" in p) {
        p.a = spec.a;
        p.b = spec.b;
      }
      return;
    }
    case "data": {
      const s = initStruct(Tester_Echo$Params, content);
      const bytes = new Uint8Array(spec.bytes).map((_, i) => (i * spec.fill + 1) & 0xff);
      (s as Tester_Echo$Params)._initData(bytes.byteLength).copyBuffer(bytes);
      return;
    }
    case "text": {
      const s = initStruct(Tester_EchoText$Params, content) as Tester_EchoText$Params;
      s.text = spec.text;
      return;
    }
    case "int64": {
      const s = initStruct(Tester_MakeCounter$Params, content);
      capnp.utils.setInt64(0, spec.value, s);
      return;
    }
    case "callBack": {
      const s = initStruct(Tester_CallBack$Params, content);
      s.n = spec.n;
      setCap(s, 0, spec.cap);
      return;
    }
    case "fail": {
      const s = initStruct(Tester_Fail$Params, content);
      capnp.utils.setUint16(0, spec.type, s);
      s.message = spec.message;
      return;
    }
    case "wait": {
      initStruct(Tester_Wait$Params, content).ms = spec.ms;
      return;
    }
    case "cap": {
      const s = initStruct(Tester_Hold$Params, content);
      setCap(s, 0, spec.cap);
      return;
    }
    case "grammar":
      if (grammar?.writeParams === undefined) throw new Error("grammar params without a writer");
      return grammar.writeParams(content, spec.data);
    case "reply": {
      const s = initStruct(REPLY_STRUCT, content);
      capnp.utils.setInt32(0, spec.value, s);
      setCap(s, 0, spec.cap);
      return;
    }
  }
}

/** Builds `op` into one RPC message (params of `grammar`'s own written by it). */
export function buildOp(op: Op, grammar?: CaseGrammar): capnp.Message {
  switch (op.k) {
    case "bootstrap":
      return build.bootstrap(op.q);
    case "call":
      return build.call({
        questionId: op.q,
        target: op.target,
        interfaceId: op.iface,
        methodId: op.method,
        params: (content) => writeContent(content, op.params, grammar),
        capTable: op.caps,
        toYourself: op.yourself,
      });
    case "return":
      return build.return({
        answerId: op.answerId,
        releaseParamCaps: op.releaseParamCaps,
        results: op.results && ((content) => writeContent(content, op.results!, grammar)),
        capTable: op.caps,
        exception: op.exception,
        canceled: op.canceled,
        takeFromOtherQuestion: op.takeFromOtherQuestion,
        resultsSentElsewhere: op.resultsSentElsewhere,
      });
    case "finish":
      return build.finish(op.q, op.release);
    case "release":
      return build.release(op.id, op.count);
    case "resolve":
      return build.resolve(op.promiseId, op.to);
    case "disembargo":
      return build.disembargo(op.target, op.context);
    case "abort":
      return build.abort({ type: 0, reason: op.reason });
    case "unimplemented": {
      return build.unimplemented(buildOp(op.inner, grammar).getRoot(RpcMessage));
    }
    case "raw":
      throw new Error("raw ops are bytes already");
  }
}

/** The framed bytes of `op` (see {@linkcode buildOp}). */
export function frameOf(op: Op, grammar?: CaseGrammar): Uint8Array {
  if (op.k === "raw") return op.bytes;
  return new Uint8Array(buildOp(op, grammar).toArrayBuffer());
}

// ---- Generating what a real client sends a Tester server ----

const TESTER = Tester$Client.interfaceId;
const COUNTER = Counter$Client.interfaceId;
const CALLBACK = Callback$Client.interfaceId;
const EXTENDED = ExtendedTester$Client.interfaceId;

/** A question id near `ids` (the ones in use), or one of the edges. */
function nearId(rng: Rng, ids: readonly number[]): number {
  const base = ids.length > 0 ? rng.pick(ids) : 0;
  switch (rng.int(8)) {
    case 0:
      return 0;
    case 1:
      return 0xffffffff;
    case 2:
      return (base + 1) >>> 0;
    case 3:
      return (base - 1) >>> 0;
    case 4:
      return 0x80000000;
    case 5:
      return rng.int(16);
    default:
      return base;
  }
}

/** What the generator knows while writing a client's sequence. */
interface ClientState {
  rng: Rng;
  ops: Op[];
  nextQ: number;
  /** Questions asked, with the method (or -1 for Bootstrap). */
  questions: { q: number; method: number; iface: bigint; finished: boolean }[];
  /** Our exports (ids we described to the server). */
  exports: number[];
  /** Our senderPromise exports not resolved yet. */
  promises: number[];
  nextExport: number;
  /** Export ids of the server we hold (the bootstrap's is 0 on a fresh connection). */
  imports: number[];
}

function ask(s: ClientState, op: Op & { k: "call" } | Op & { k: "bootstrap" }): void {
  s.ops.push(op);
  s.questions.push({
    q: op.q,
    method: op.k === "call" ? op.method : -1,
    iface: op.k === "call" ? op.iface : 0n,
    finished: false,
  });
}

/** A cap table entry a real client could send. */
function capDescriptor(s: ClientState): DescriptorSpec {
  const { rng } = s;
  switch (rng.int(6)) {
    case 0: {
      const id = s.nextExport++;
      s.exports.push(id);
      s.promises.push(id);
      return { senderPromise: id };
    }
    case 1:
      if (s.imports.length > 0) return { receiverHosted: rng.pick(s.imports) };
      break;
    case 2: {
      const asked = s.questions.filter((q) =>
        (q.method === M.makeCounter || q.method === -1) && !q.finished
      );
      if (asked.length > 0) {
        const q = rng.pick(asked);
        return { receiverAnswer: q.q, transform: q.method === -1 ? [] : [0] };
      }
      break;
    }
    case 3:
      if (s.exports.length > 0) return { senderHosted: rng.pick(s.exports) };
      break;
  }
  const id = s.nextExport++;
  s.exports.push(id);
  return { senderHosted: id };
}

/** A target on the bootstrap capability: the import, or pipelined on the Bootstrap. */
function testerTarget(s: ClientState): TargetSpec {
  const boot = s.questions.find((q) => q.method === -1 && !q.finished);
  if (boot && (s.imports.length === 0 || s.rng.chance(0.4))) {
    return { promisedAnswer: boot.q, transform: [] };
  }
  return { importedCap: 0 };
}

/** Whether a call can reach the bootstrap capability. */
function canCall(s: ClientState): boolean {
  return s.imports.length > 0 || s.questions.some((q) => q.method === -1 && !q.finished);
}

function addCall(s: ClientState): void {
  const { rng } = s;
  if (!canCall(s)) return;
  const q = s.nextQ++;
  const method = rng.pick([
    M.add,
    M.add,
    M.echo,
    M.echoText,
    M.makeCounter,
    M.makeCounter,
    M.callBack,
    M.callBack,
    M.fail,
    M.wait,
    M.liveObjects,
    M.canceledCount,
    M.hold,
    M.releaseHeld,
    M.echoCap,
    M.echoCap,
  ]);
  let params: ParamsSpec = { kind: "none" };
  const caps: DescriptorSpec[] = [];
  const withCap = () => {
    if (rng.chance(0.1)) return null;
    caps.push(capDescriptor(s));
    return caps.length - 1;
  };
  switch (method) {
    case M.add:
      params = { kind: "add", a: rng.int(1000), b: rng.int(1000) };
      break;
    case M.echo:
      params = {
        kind: "data",
        bytes: rng.chance(0.05) ? 70_000 : rng.int(300),
        fill: rng.int(256),
      };
      break;
    case M.echoText:
      params = { kind: "text", text: "x".repeat(rng.int(40)) };
      break;
    case M.makeCounter:
      params = { kind: "int64", value: BigInt(rng.int(100)) };
      break;
    case M.callBack:
      params = { kind: "callBack", cap: withCap(), n: rng.int(4) };
      break;
    case M.fail:
      params = { kind: "fail", type: rng.int(5), message: "boom" };
      break;
    case M.wait:
      params = { kind: "wait", ms: rng.pick([0, 1, 5, 20, 3_600_000]) };
      break;
    case M.hold:
    case M.echoCap:
      params = { kind: "cap", cap: withCap() };
      break;
  }
  for (let extra = rng.chance(0.1) ? 1 + rng.int(3) : 0; extra > 0; extra--) {
    caps.push(capDescriptor(s));
  }
  const iface = rng.chance(0.05) ? EXTENDED : TESTER;
  ask(s, {
    k: "call",
    q,
    target: testerTarget(s),
    iface,
    method,
    params,
    caps,
    yourself: rng.chance(0.05),
  });
  // Pipelined on the results: a Counter's next, a Callback's call on what echoCap gave back.
  if ((method === M.makeCounter || method === M.echoCap) && rng.chance(0.7)) {
    for (let n = 1 + rng.int(2); n > 0; n--) {
      const p = s.nextQ++;
      ask(s, {
        k: "call",
        q: p,
        target: { promisedAnswer: q, transform: [0] },
        iface: method === M.makeCounter ? COUNTER : CALLBACK,
        method: 0,
        params: method === M.makeCounter ? { kind: "none" } : { kind: "int64", value: 5n },
        caps: [],
      });
    }
    const ours = caps[0] !== undefined && "senderHosted" in caps[0];
    if (
      method === M.echoCap && ours && params.kind === "cap" && params.cap === 0 && rng.chance(0.4)
    ) {
      s.ops.push({ k: "sync" } as unknown as Op);
      s.ops.push({
        k: "disembargo",
        target: { promisedAnswer: q, transform: [0] },
        context: { senderLoopback: rng.int(4) },
      });
    }
  }
}

/** A sequence of valid messages, as a real client sends them on a fresh connection. */
export function clientSequence(rng: Rng): Op[] {
  const s: ClientState = {
    rng,
    ops: [],
    nextQ: 0,
    questions: [],
    exports: [],
    promises: [],
    nextExport: rng.int(3),
    imports: [],
  };
  if (rng.chance(0.92)) {
    ask(s, { k: "bootstrap", q: s.nextQ++ });
    s.imports.push(0);
  }
  const steps = 2 + rng.int(9);
  for (let i = 0; i < steps; i++) {
    const roll = rng.int(20);
    if (roll < 10) addCall(s);
    else if (roll < 14) {
      const open = s.questions.filter((q) => !q.finished);
      if (open.length === 0) continue;
      const q = rng.pick(open);
      q.finished = true;
      const release = rng.chance(0.5);
      // The bootstrap capability is released with its results.
      if (q.method === -1 && release) s.imports.length = 0;
      s.ops.push({ k: "finish", q: q.q, release });
    } else if (roll < 16) {
      if (s.promises.length === 0) continue;
      const id = s.promises.splice(rng.int(s.promises.length), 1)[0];
      const to: DescriptorSpec | ExceptionSpec = rng.pick<DescriptorSpec | ExceptionSpec>([
        { senderHosted: s.nextExport++ },
        { senderHosted: id },
        { receiverHosted: 0 },
        { type: rng.int(4), reason: "broken promise" },
        { senderPromise: s.nextExport++ },
      ]);
      s.ops.push({ k: "resolve", promiseId: id, to });
    } else if (roll < 17) {
      if (s.imports.length === 0) continue;
      s.ops.push({ k: "release", id: 0, count: 1 });
      s.imports.length = 0;
    } else if (roll < 18) {
      s.ops.push({ k: "sync" } as unknown as Op); // replaced below by a pause marker
    } else if (roll < 19 && rng.chance(0.3)) {
      // A Return for a call the server may have made back to us (its ids start at 0).
      s.ops.push({
        k: "return",
        answerId: rng.int(3),
        results: { kind: "int64", value: 10n },
        releaseParamCaps: rng.chance(0.5) ? false : undefined,
      });
    } else if (roll === 19 && rng.chance(0.3)) {
      s.ops.push({ k: "abort", reason: "bye" });
      break;
    }
  }
  // Finish most questions at the end, as a client does once it has its answers.
  for (const q of s.questions) {
    if (!q.finished && rng.chance(0.6)) {
      s.ops.push({ k: "finish", q: q.q, release: rng.chance(0.5) });
    }
  }
  return s.ops;
}

// ---- Mutating ----

/** A framed message or a pause between writes. */
export type Chunk = Uint8Array | "pause" | "pause-mid";

/** Words of an 8-byte-aligned frame header for `segments` segments. */
function headerBytesOf(segments: number): number {
  return (4 + segments * 4 + 7) & ~7;
}

/** The byte offset where segment data starts in `frame`, or -1 when the header is bad. */
function dataStart(frame: Uint8Array): number {
  if (frame.byteLength < 8) return -1;
  const count = new DataView(frame.buffer, frame.byteOffset).getUint32(0, true) + 1;
  if (count > 64) return -1;
  const start = headerBytesOf(count);
  return start <= frame.byteLength ? start : -1;
}

/** Changes the spec of `op` to near-valid ids and variants, in place of a copy. */
function mutateOp(rng: Rng, op: Op, ids: number[]): Op {
  const copy = structuredClone(op) as Op;
  switch (copy.k) {
    case "bootstrap":
      copy.q = nearId(rng, ids);
      break;
    case "call":
      switch (rng.int(7)) {
        case 0:
          copy.q = nearId(rng, ids);
          break;
        case 1:
          copy.target = rng.chance(0.5) ? { importedCap: nearId(rng, [0, 1]) } : {
            promisedAnswer: nearId(rng, ids),
            transform: rng.pick([[], [0], [1], [0, 0], [65535], [3]]),
          };
          break;
        case 2:
          copy.method = rng.pick([copy.method + 1, 0, 11, 12, 0xffff, rng.int(13)]);
          break;
        case 3:
          copy.iface = rng.pick([COUNTER, CALLBACK, EXTENDED, TESTER, 0n, 0xffffffffffffffffn]);
          break;
        case 4:
          copy.caps.push(
            rng.pick<DescriptorSpec>([
              { none: true },
              { senderHosted: nearId(rng, [0, 1, 2]) },
              { senderPromise: nearId(rng, [0, 1, 2]) },
              { receiverHosted: nearId(rng, [0, 1]) },
              { receiverAnswer: nearId(rng, ids), transform: rng.pick([[], [0], [7]]) },
              { thirdPartyHosted: true },
            ]),
          );
          break;
        case 5:
          copy.params = rng.pick<ParamsSpec>([
            { kind: "none" },
            { kind: "cap", cap: rng.int(3) },
            { kind: "text", text: "y" },
            { kind: "callBack", cap: rng.int(4), n: rng.int(3) },
            { kind: "data", bytes: 9, fill: 3 },
          ]);
          break;
        default:
          copy.yourself = !copy.yourself;
      }
      break;
    case "finish":
      if (rng.chance(0.7)) copy.q = nearId(rng, ids);
      else copy.release = !copy.release;
      break;
    case "release":
      copy.id = nearId(rng, [0, 1, 2]);
      copy.count = rng.pick([0, 1, 2, 0xffffffff, 0x80000000]);
      break;
    case "resolve":
      if (rng.chance(0.5)) copy.promiseId = nearId(rng, [0, 1, 2, 3]);
      else {
        copy.to = rng.pick<DescriptorSpec | ExceptionSpec>([
          { none: true },
          { senderPromise: copy.promiseId },
          { receiverAnswer: nearId(rng, ids), transform: [0] },
          { receiverHosted: nearId(rng, [0, 1]) },
          { thirdPartyHosted: true },
        ]);
      }
      break;
    case "disembargo":
      if (rng.chance(0.5)) {
        copy.context = rng.pick<(Op & { k: "disembargo" })["context"]>([
          { senderLoopback: nearId(rng, [0]) },
          { receiverLoopback: nearId(rng, [0]) },
          { accept: true },
        ]);
      } else {
        copy.target = rng.chance(0.5)
          ? { importedCap: nearId(rng, [0, 1]) }
          : { promisedAnswer: nearId(rng, ids), transform: rng.pick([[], [0], [1]]) };
      }
      break;
    case "return":
      switch (rng.int(5)) {
        case 0:
          copy.answerId = nearId(rng, [0, 1, 2]);
          break;
        case 1:
          copy.takeFromOtherQuestion = nearId(rng, ids);
          break;
        case 2:
          copy.canceled = true;
          break;
        case 3:
          copy.exception = { type: rng.int(6), reason: "nope" };
          break;
        default:
          copy.caps = [rng.pick<DescriptorSpec>([{ senderHosted: 9 }, { receiverHosted: 0 }, {
            senderPromise: 8,
          }])];
          copy.results = { kind: "cap", cap: 0 };
      }
      break;
    default:
      break;
  }
  return copy;
}

/** Overwrites a word-aligned field of `frame`'s segment data, in the ways that hurt. */
function mutateWords(rng: Rng, frame: Uint8Array, start: number): void {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const words = (frame.byteLength - start) >> 3;
  if (words <= 0) return;
  const word = start + rng.int(words) * 8;
  switch (rng.int(12)) {
    case 0: // a bit
      frame[start + rng.int(frame.byteLength - start)] ^= 1 << rng.int(8);
      return;
    case 1: // a byte
      frame[start + rng.int(frame.byteLength - start)] = rng.pick([
        0,
        0xff,
        0x7f,
        0x80,
        rng.int(256),
      ]);
      return;
    case 2: // Message's union discriminant (the root struct's first data word)
      if (words < 2) return;
      view.setUint16(
        start + 8,
        rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xffff]),
        true,
      );
      return;
    case 3: // another union discriminant or small u16
      view.setUint16(word + 2 * rng.int(4), rng.pick([0, 1, 2, 3, 4, 5, 6, 0xffff]), true);
      return;
    case 4: // an id (u32)
      view.setUint32(
        word + 4 * rng.int(2),
        rng.pick([0, 1, 2, 0xffffffff, 0x7fffffff, 0x80000000]),
        true,
      );
      return;
    case 5: { // a struct pointer's offset or sizes
      const lo = view.getUint32(word, true);
      const hi = view.getUint32(word + 4, true);
      if ((lo & 3) === 0) {
        const offset = (lo >> 2) + rng.pick([-2, -1, 1, 2, 1000, -1000]);
        view.setUint32(word, ((offset << 2) | 0) >>> 0, true);
      } else {
        view.setUint32(word + 4, (hi + rng.pick([1, -1, 0x10000, -0x10000])) >>> 0, true);
      }
      return;
    }
    case 6: { // a list pointer's element size or count
      const lo = view.getUint32(word, true);
      const hi = view.getUint32(word + 4, true);
      if ((lo & 3) === 1) {
        if (rng.chance(0.5)) view.setUint32(word + 4, (hi & ~7) | rng.int(8), true);
        else {
          const count = rng.pick([0, 1, (hi >>> 3) + 1, (hi >>> 3) * 2, 0x1fffffff]);
          view.setUint32(word + 4, ((count << 3) | (hi & 7)) >>> 0, true);
        }
      } else {
        // Make it a list pointer.
        view.setUint32(word, ((rng.int(8) << 2) | 1) >>> 0, true);
        view.setUint32(word + 4, ((rng.int(64) << 3) | rng.int(8)) >>> 0, true);
      }
      return;
    }
    case 7: // a far pointer
      view.setUint32(word, ((rng.int(64) << 3) | (rng.int(2) << 2) | 2) >>> 0, true);
      view.setUint32(word + 4, rng.int(3), true);
      return;
    case 8: // a capability pointer
      view.setUint32(word, 3, true);
      view.setUint32(word + 4, rng.pick([0, 1, 2, 100, 0xffffffff]), true);
      return;
    case 9: // a null pointer
      view.setBigUint64(word, 0n, true);
      return;
    case 10: { // copy a word over another (shared pointers)
      const from = start + rng.int(words) * 8;
      frame.copyWithin(word, from, from + 8);
      return;
    }
    default: // an inline composite tag
      view.setUint32(word, ((rng.int(100) << 2) | 0) >>> 0, true);
      view.setUint32(word + 4, (rng.int(4) | (rng.int(4) << 16)) >>> 0, true);
  }
}

/** The case a seed makes: chunks to write, and whether the framing was left intact. */
export interface FuzzCase {
  seed: number;
  ops: Op[];
  chunks: Chunk[];
  /** False when the bytes may leave a frame unfinished (then no probe is sent after). */
  framed: boolean;
  /** What was done, for the report. */
  notes: string[];
  /** True when the bytes are exactly the ops built (no byte-level mutation). */
  exact: boolean;
  /** When set, the replies to the engine's own calls are mutated with this seed. */
  replySeed: number | null;
  /** What the case speaks. */
  grammar: CaseGrammar;
}

/** What a kind of case speaks: how its valid sequences are made, mutated, answered and probed. */
export interface CaseGrammar {
  /** A sequence of valid messages on a fresh connection (`{k: "sync"}` asks for a pause). */
  generate(rng: Rng): Op[];
  /** A spec-level mutation of its own for `op`, or null for the generic ones. */
  mutate?(rng: Rng, op: Op, ids: number[]): Op | null;
  /** The unmutated Return to the server's call `answerId` (default: an Int64 of 2). */
  reply?(answerId: number): Op;
  /** The probe: a Bootstrap as PROBE_Q and a call as PROBE_Q + 1 (default: Tester's add). */
  probe?(): Uint8Array;
  /** Whether a call of `op` may wait for long (its Return may not come within a case). */
  waitsLong?(op: Op): boolean;
  /** The share of cases whose bytes are mutated too (default 0.6). */
  byteMutations?: number;
  /** Writes the params of its own calls ({@linkcode GrammarParamsSpec}) at `content`. */
  writeParams?(content: capnp.Pointer, data: Record<string, unknown>): void;
}

/** The Tester's grammar: {@linkcode clientSequence}. */
export const TESTER_GRAMMAR: CaseGrammar = { generate: clientSequence };

/** The case of `seed`: a valid client sequence, mutated. */
export function serverCase(
  seed: number,
  mutate = true,
  grammar: CaseGrammar = TESTER_GRAMMAR,
): FuzzCase {
  const rng = new Rng(seed);
  const notes: string[] = [];
  let ops = grammar.generate(rng);
  const ids = ops.flatMap((op) => (op.k === "call" || op.k === "bootstrap" ? [op.q] : []));
  const pauses = new Set<number>();
  // A pause before op i where the generator asked for one (it waits for answers there).
  const kept: Op[] = [];
  for (const op of ops) {
    if ((op as { k: string }).k === "sync") pauses.add(kept.length);
    else kept.push(op);
  }
  ops = kept;
  // Spec-level mutations.
  const specMutations = !mutate || rng.chance(0.2) ? 0 : 1 + rng.int(3);
  for (let m = 0; m < specMutations && ops.length > 0; m++) {
    const at = rng.int(ops.length);
    switch (rng.int(6)) {
      case 0:
        ops.splice(at, 1);
        notes.push(`drop #${at}`);
        break;
      case 1:
        ops.splice(at, 0, structuredClone(ops[at]) as Op);
        notes.push(`dup #${at}`);
        break;
      case 2: {
        const other = rng.int(ops.length);
        [ops[at], ops[other]] = [ops[other], ops[at]];
        notes.push(`swap #${at} #${other}`);
        break;
      }
      case 3:
        if (ops[at].k !== "raw" && ops[at].k !== "abort") {
          ops.splice(at, 0, { k: "unimplemented", inner: ops[at] });
          notes.push(`unimplemented echo of #${at}`);
        }
        break;
      default:
        ops[at] = grammar.mutate?.(rng, ops[at], ids) ?? mutateOp(rng, ops[at], ids);
        notes.push(`mutate #${at} (${ops[at].k})`);
    }
  }
  const frames = ops.map((op) => frameOf(op, grammar));
  let framed = true;
  // Byte-level mutations of the built frames.
  const skipBytes = 1 - (grammar.byteMutations ?? 0.6);
  const byteMutations = !mutate || rng.chance(skipBytes) ? 0 : 1 + rng.int(4);
  const exact = byteMutations === 0;
  for (let m = 0; m < byteMutations && frames.length > 0; m++) {
    const at = rng.int(frames.length);
    const frame = frames[at] = frames[at].slice();
    const start = dataStart(frame);
    const roll = rng.int(20);
    if (roll < 15 && start >= 0) {
      mutateWords(rng, frame, start);
      notes.push(`words of #${at}`);
    } else if (roll < 16 && start >= 0) {
      // Shorten the segment, keeping the frame consistent.
      const view = new DataView(frame.buffer, frame.byteOffset);
      const segWords = view.getUint32(4, true);
      const keep = rng.int(segWords);
      if (view.getUint32(0, true) === 0) {
        view.setUint32(4, keep, true);
        frames[at] = frame.slice(0, start + keep * 8);
        notes.push(`segment of #${at} cut to ${keep} words`);
      }
    } else if (roll < 17) {
      frames[at] = frame.slice(0, rng.int(frame.byteLength));
      framed = false;
      notes.push(`truncate #${at}`);
    } else if (roll < 18 && frame.byteLength >= 8) {
      const view = new DataView(frame.buffer, frame.byteOffset);
      view.setUint32(0, rng.pick([1, 2, 510, 511, 512, 0xffffffff]), true);
      framed = false;
      notes.push(`segment count of #${at}`);
    } else if (roll < 19 && rng.chance(0.3)) {
      const view = new DataView(frame.buffer, frame.byteOffset);
      view.setUint32(4, rng.pick([0, 1, view.getUint32(4, true) + 1, 0x1fffffff]), true);
      framed = false;
      notes.push(`segment size of #${at}`);
    } else {
      // Two segments: the data moved to a second one behind a far pointer.
      if (start >= 0 && new DataView(frame.buffer, frame.byteOffset).getUint32(0, true) === 0) {
        const data = frame.slice(start);
        const out = new Uint8Array(16 + 8 + data.byteLength);
        const view = new DataView(out.buffer);
        view.setUint32(0, 1, true);
        view.setUint32(4, 1, true);
        view.setUint32(8, data.byteLength / 8, true);
        // Segment 0: a far pointer to segment 1, word 0 (its root pointer as a landing pad).
        view.setUint32(16, 2, true);
        view.setUint32(20, 1, true);
        out.set(data, 24);
        // The root pointer, now in segment 1 as a landing pad, keeps its offset.
        frames[at] = out;
        notes.push(`far root of #${at}`);
      }
    }
  }
  // Chunks: frames, some split across writes, with pauses where the generator asked.
  const chunks: Chunk[] = [];
  const concatAll = rng.chance(0.3);
  frames.forEach((frame, i) => {
    if (pauses.has(i) || (rng.chance(0.05))) chunks.push("pause");
    if (!concatAll && rng.chance(0.15) && frame.byteLength > 1) {
      const cut = 1 + rng.int(frame.byteLength - 1);
      chunks.push(frame.subarray(0, cut), "pause-mid", frame.subarray(cut));
    } else {
      chunks.push(frame);
    }
  });
  const merged: Chunk[] = [];
  if (concatAll) {
    let run: Uint8Array[] = [];
    const flush = () => {
      if (run.length === 0) return;
      const total = run.reduce((n, b) => n + b.byteLength, 0);
      const out = new Uint8Array(total);
      let at = 0;
      for (const b of run) out.set(b, (at += b.byteLength) - b.byteLength);
      merged.push(out);
      run = [];
    };
    for (const chunk of chunks) {
      if (chunk === "pause" || chunk === "pause-mid") {
        flush();
        merged.push(chunk);
      } else run.push(chunk);
    }
    flush();
  }
  const replySeed = mutate && rng.chance(0.3) ? rng.u32() : null;
  return {
    seed,
    ops,
    chunks: concatAll ? merged : chunks,
    framed,
    notes,
    exact,
    replySeed,
    grammar,
  };
}

// ---- Running a case against a server ----

/** The probe after a case: Bootstrap and add(2, 3) pipelined on it, with ids no case uses. */
export const PROBE_Q = 0x7ffffff0;

export function probeBytes(): Uint8Array {
  const boot = frameOf({ k: "bootstrap", q: PROBE_Q });
  const add = frameOf({
    k: "call",
    q: PROBE_Q + 1,
    target: { promisedAnswer: PROBE_Q, transform: [] },
    iface: TESTER,
    method: M.add,
    params: { kind: "add", a: 2, b: 3 },
    caps: [],
  });
  const out = new Uint8Array(boot.byteLength + add.byteLength);
  out.set(boot);
  out.set(add, boot.byteLength);
  return out;
}

/** What happened on a case's connection. */
export interface CaseOutcome {
  /** How the connection ended or what the probe got. */
  end: "probe-answered" | "aborted" | "closed" | "open" | "probe-hung" | "unanswered";
  /** Question ids of the case that got no Return on a connection that stayed open. */
  unanswered?: number[];
  abort?: string;
  received: number;
  /** Answer ids of the Returns the engine sent. */
  returned: Set<number>;
  /** Messages the engine sent, by kind name. */
  kinds: Record<string, number>;
}

/** What a server case's outcome breaks of the fuzzer's promises, or null when nothing. */
export function serverCaseFailure(outcome: CaseOutcome): string | null {
  if (outcome.end === "probe-hung") return "the connection stopped answering";
  if (outcome.end === "unanswered") return `questions ${outcome.unanswered} never got a Return`;
  return null;
}

/**
 * Checks, through `before` (a connection opened before the cases), that
 * the server still answers and that every object it made for the cases'
 * connections has ended; throws saying which does not hold after `what`.
 */
export async function assertStillServing(before: TesterClient, what: string): Promise<void> {
  const sum = await withTimeout(before.add(2, 3), DEFAULT_TIMEOUT_MS, `add after ${what}`);
  if (sum !== 5) throw new Error(`add gave ${sum} after ${what}`);
  // Objects end as their connections' shutdowns run, which the server may not have reached.
  await waitFor(
    async () => {
      await before.releaseHeld();
      return await before.liveObjects() === 0;
    },
    DEFAULT_TIMEOUT_MS,
    `server objects made by the cases to end after ${what}`,
  );
}

/** What a client case's outcome breaks of the fuzzer's promises, or null when nothing. */
export function clientCaseFailure(outcome: ClientOutcome): string | null {
  if (outcome.unsettled.length > 0) return `calls left pending: ${outcome.unsettled}`;
  if (!outcome.closed) return "the connection never closed";
  return null;
}

/**
 * Collects what this process leaves uncaught (errors and unhandled
 * rejections, which would otherwise end it) until disposed.
 */
export function collectUncaught(): { readonly uncaught: string[] } & Disposable {
  const uncaught: string[] = [];
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    uncaught.push(`unhandled rejection: ${event.reason?.stack ?? event.reason}`);
  };
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    uncaught.push(`uncaught: ${event.error?.stack ?? event.message}`);
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  return {
    uncaught,
    [Symbol.dispose]() {
      globalThis.removeEventListener("unhandledrejection", onRejection);
      globalThis.removeEventListener("error", onError);
    },
  };
}

const KIND_NAMES = [
  "unimplemented",
  "abort",
  "call",
  "return",
  "finish",
  "resolve",
  "release",
  "obsoleteSave",
  "bootstrap",
  "obsoleteDelete",
  "provide",
  "accept",
  "join",
  "disembargo",
];

/** Replies a real peer would give to what the engine sends: Returns to its calls, loopbacks. */
function answerEngine(
  replies: Uint8Array[],
  root: RpcMessage,
  rng: Rng | null,
  ops: Op[],
  grammar: CaseGrammar,
): void {
  const which = root.which();
  if (which === RpcMessage.CALL) {
    const call = root.call;
    const answerId = call.questionId;
    let reply: Op = grammar.reply?.(answerId) ?? {
      k: "return",
      answerId,
      releaseParamCaps: false,
      results: { kind: "int64", value: 2n },
    };
    if (rng !== null) {
      const yourselves = ops.flatMap((op) => op.k === "call" && op.yourself ? [op.q] : []);
      switch (rng.int(10)) {
        case 0:
          reply = { k: "return", answerId, exception: { type: rng.int(5), reason: "no" } };
          break;
        case 1:
          reply = { k: "return", answerId, canceled: true };
          break;
        case 2:
          reply = {
            k: "return",
            answerId,
            takeFromOtherQuestion: yourselves.length > 0 ? rng.pick(yourselves) : rng.int(4),
          };
          break;
        case 3:
          reply = { k: "return", answerId, resultsSentElsewhere: true };
          break;
        case 4:
          reply = {
            k: "return",
            answerId,
            results: { kind: "cap", cap: 0 },
            caps: [rng.pick<DescriptorSpec>([
              { senderHosted: 100 + rng.int(3) },
              { senderPromise: 200 + rng.int(3) },
              { receiverHosted: 0 },
              { receiverAnswer: answerId, transform: [] },
            ])],
          };
          break;
        case 5:
          return; // never answered
        case 6:
          reply = {
            k: "unimplemented",
            inner: {
              k: "call",
              q: answerId,
              target: { importedCap: 0 },
              iface: CALLBACK,
              method: 0,
              params: { kind: "none" },
              caps: [],
            },
          };
          break;
        case 7:
          replies.push(frameOf(reply, grammar)); // answered twice
          break;
        default:
          break;
      }
    }
    replies.push(frameOf(reply, grammar));
    if (rng !== null && rng.chance(0.2)) {
      replies.push(
        frameOf({
          k: "resolve",
          promiseId: 200 + rng.int(3),
          to: rng.pick<DescriptorSpec | ExceptionSpec>([{ senderHosted: 100 }, {
            receiverHosted: 0,
          }, { type: 0, reason: "x" }]),
        }),
      );
    }
  } else if (which === RpcMessage.DISEMBARGO && root.disembargo.context.which() === 0) {
    const id = root.disembargo.context.senderLoopback;
    if (rng !== null && rng.chance(0.2)) return;
    replies.push(
      frameOf({ k: "disembargo", target: { importedCap: 0 }, context: { receiverLoopback: id } }),
    );
  }
}

/** Reads what the engine sends until it is quiet for `quietMs` (or `maxMs`), answering it. */
async function drain(
  raw: WirePeer,
  replies: Uint8Array[],
  outcome: CaseOutcome,
  quietMs: number,
  maxMs: number,
  until?: (root: RpcMessage) => boolean,
  rng: Rng | null = null,
  ops: Op[] = [],
  grammar: CaseGrammar = TESTER_GRAMMAR,
  afterEach: () => Promise<unknown> = () => Promise.resolve(),
): Promise<boolean> {
  const deadline = performance.now() + maxMs;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    let root: RpcMessage;
    try {
      root = (await raw.nextReceived(Math.min(left, quietMs))).root;
    } catch (error) {
      if (raw.eof && raw.pending === 0) {
        if (outcome.end === "open") outcome.end = "closed";
        return true;
      }
      if (/no message from the engine/.test(String(error))) {
        if (until === undefined) return true;
        continue;
      }
      throw error;
    }
    outcome.received++;
    if (root.which() === RpcMessage.RETURN) outcome.returned.add(root.return.answerId);
    const kind = KIND_NAMES[root.which()] ?? `#${root.which()}`;
    outcome.kinds[kind] = (outcome.kinds[kind] ?? 0) + 1;
    if (root.which() === RpcMessage.ABORT) {
      outcome.end = "aborted";
      outcome.abort = root.abort.reason;
    }
    answerEngine(replies, root, rng, ops, grammar);
    await afterEach();
    if (until?.(root)) return true;
  }
}

/**
 * Runs `fuzzCase` on a fresh connection to `path`: writes its chunks
 * (answering the engine between pauses), then, when the framing was left
 * whole and the connection open, sends the probe and waits for its Return,
 * an Abort or the close.
 */
export async function runServerCase(
  path: string,
  fuzzCase: FuzzCase,
  { quietMs = 15, probeMs = DEFAULT_TIMEOUT_MS } = {},
): Promise<CaseOutcome> {
  const outcome: CaseOutcome = { end: "open", received: 0, kinds: {}, returned: new Set() };
  const replies: Uint8Array[] = [];
  await using raw = await WirePeer.connect(path);
  const rng = fuzzCase.replySeed === null ? null : new Rng(fuzzCase.replySeed);
  // Replies go out between frames only, never inside a frame split across writes.
  const flush = async () => {
    for (const reply of replies.splice(0)) {
      if (!(await raw.trySendBytes(reply))) return false;
    }
    return true;
  };
  /** Set once every chunk is written whole: replies then go out as they are made. */
  let atBoundary = false;
  const d = (quiet: number, max: number, until?: (root: RpcMessage) => boolean) =>
    drain(
      raw,
      replies,
      outcome,
      quiet,
      max,
      until,
      rng,
      fuzzCase.ops,
      fuzzCase.grammar,
      () => atBoundary ? flush() : Promise.resolve(),
    );
  for (const chunk of fuzzCase.chunks) {
    if (chunk === "pause" || chunk === "pause-mid") {
      await d(quietMs, 200);
      if (chunk === "pause" && !(await flush())) break;
      continue;
    }
    if (!(await raw.trySendBytes(chunk))) break;
    if (raw.eof) break;
  }
  atBoundary = fuzzCase.framed;
  for (let round = 0; round < 3 && !raw.eof; round++) {
    await d(quietMs, 300);
    if (!fuzzCase.framed || replies.length === 0) break;
    if (!(await flush())) break;
  }
  if (fuzzCase.framed && outcome.end === "open" && !raw.eof) {
    const probe = fuzzCase.grammar.probe?.() ?? probeBytes();
    if ((await flush()) && (await raw.trySendBytes(probe))) {
      const answered = await d(
        probeMs,
        probeMs,
        (root) => root.which() === RpcMessage.RETURN && root.return.answerId === PROBE_Q + 1,
      );
      if (outcome.end === "open") outcome.end = answered ? "probe-answered" : "probe-hung";
    }
  }
  // Every question asked gets a Return while the connection is open (a canceled one too),
  // when the bytes are what the ops say and no call waits for long.
  if (
    outcome.end === "probe-answered" && fuzzCase.exact && fuzzCase.replySeed === null &&
    !waitsLong(fuzzCase.ops, fuzzCase.grammar)
  ) {
    const asked = fuzzCase.ops.flatMap((op) =>
      op.k === "call" || op.k === "bootstrap" ? [op.q] : []
    );
    const missing = () => asked.filter((q) => !outcome.returned.has(q));
    if (missing().length > 0) {
      await d(probeMs, probeMs, () => missing().length === 0);
      await flush();
      if (missing().length > 0) await d(2000, 2000, () => missing().length === 0);
    }
    if (missing().length > 0 && outcome.end === "probe-answered") {
      outcome.end = "unanswered";
      outcome.unanswered = missing();
    }
  }
  return outcome;
}

/** Whether a call of `ops` waits for long (its Return may not come within a case). */
function waitsLong(ops: Op[], grammar: CaseGrammar): boolean {
  return ops.some((op) =>
    grammar.waitsLong?.(op) ??
      (op.k === "call" && op.params.kind === "wait" && op.params.ms > 1000)
  );
}

/** Reads what a Return's results say, for checks. */
export function addResult(ret: RpcReturn): number | null {
  if (ret.which() !== RpcReturn.RESULTS) return null;
  return capnp.utils.getAs(Tester_Add$Results, ret.results.content).result;
}

// ---- The other direction: our client against a hostile server ----

/** What a hostile server did to a client, and how the client took it. */
export interface ClientOutcome {
  /** Calls that did not settle within the timeout after the server closed. */
  unsettled: string[];
  /** Whether `RpcConnection.closed` settled. */
  closed: boolean;
  /** How the client's calls ended, by kind. */
  results: Record<string, number>;
  notes: string[];
}

/** What the hostile server knows about the connection so far. */
interface HostileState {
  rng: Rng;
  /** Client exports seen in cap tables (senderHosted / senderPromise ids). */
  clientExports: number[];
  /** Our questions (calls into the client's exports) awaiting a Return. */
  nextQ: number;
  /** Export ids we handed out. */
  nextExport: number;
  /** Client questions seen. */
  questions: number[];
  /** Our promises (senderPromise ids) not resolved yet. */
  promises: number[];
  notes: string[];
}

function exportId(h: HostileState, promise = false): DescriptorSpec {
  const id = h.nextExport++;
  if (promise) {
    h.promises.push(id);
    return { senderPromise: id };
  }
  return { senderHosted: id };
}

/** A cap for results: ours (maybe a promise), or one of the client's handed back. */
function resultCap(h: HostileState): DescriptorSpec {
  const { rng } = h;
  switch (rng.int(5)) {
    case 0:
      return exportId(h, true);
    case 1:
      if (h.clientExports.length > 0) return { receiverHosted: rng.pick(h.clientExports) };
      break;
    case 2:
      if (h.questions.length > 0) {
        return { receiverAnswer: rng.pick(h.questions), transform: rng.pick([[], [0]]) };
      }
      break;
  }
  return exportId(h);
}

/** The reply a real Tester server gives to one of the client's messages, as ops. */
function hostileReply(h: HostileState, root: RpcMessage): Op[] {
  const { rng } = h;
  const ops: Op[] = [];
  switch (root.which()) {
    case RpcMessage.BOOTSTRAP: {
      const q = root.bootstrap.questionId;
      h.questions.push(q);
      const cap = rng.chance(0.85) ? exportId(h) : exportId(h, true);
      ops.push({ k: "return", answerId: q, results: { kind: "cap", cap: 0 }, caps: [cap] });
      break;
    }
    case RpcMessage.CALL: {
      const call = root.call;
      const q = call.questionId;
      h.questions.push(q);
      const table = call.params._hasCapTable() ? call.params.capTable : null;
      for (let i = 0; table !== null && i < table.length; i++) {
        const d = table.get(i);
        if (d.which() === 1) h.clientExports.push(d.senderHosted);
        if (d.which() === 2) h.clientExports.push(d.senderPromise);
      }
      const iface = call.interfaceId;
      const method = call.methodId;
      let ret: Op & { k: "return" } = { k: "return", answerId: q, results: { kind: "none" } };
      if (iface === TESTER || iface === EXTENDED) {
        switch (method) {
          case M.add:
          case M.wait:
          case M.liveObjects:
          case M.canceledCount:
          case M.releaseHeld:
            ret.results = { kind: "int64", value: BigInt(rng.int(100)) };
            break;
          case M.echo:
            ret.results = { kind: "data", bytes: rng.int(100), fill: 7 };
            break;
          case M.echoText:
            ret.results = { kind: "text", text: "hi" };
            break;
          case M.makeCounter:
            ret.results = { kind: "cap", cap: 0 };
            ret.caps = [resultCap(h)];
            break;
          case M.echoCap:
            ret.results = { kind: "cap", cap: 0 };
            ret.caps = [
              h.clientExports.length > 0 && rng.chance(0.7)
                ? { receiverHosted: h.clientExports[h.clientExports.length - 1] }
                : resultCap(h),
            ];
            break;
          case M.callBack:
            // Call the client's callback first, as the real server does.
            if (h.clientExports.length > 0) {
              ops.push({
                k: "call",
                q: h.nextQ++,
                target: { importedCap: h.clientExports[h.clientExports.length - 1] },
                iface: CALLBACK,
                method: 0,
                params: { kind: "int64", value: 1n },
                caps: [],
              });
            }
            ret.results = { kind: "int64", value: 2n };
            break;
          case M.fail:
            ret = { k: "return", answerId: q, exception: { type: rng.int(4), reason: "failed" } };
            break;
        }
      } else {
        ret.results = { kind: "int64", value: 3n };
      }
      if (rng.chance(0.1)) ret.releaseParamCaps = false;
      if (rng.chance(0.1)) {
        ret = { k: "return", answerId: q, exception: { type: rng.int(4), reason: "nope" } };
      }
      if (rng.chance(0.85)) ops.push(ret);
      break;
    }
    case RpcMessage.RETURN:
      ops.push({ k: "finish", q: root.return.answerId, release: rng.chance(0.5) });
      break;
    case RpcMessage.DISEMBARGO:
      if (root.disembargo.context.which() === 0) {
        ops.push({
          k: "disembargo",
          target: { importedCap: 0 },
          context: { receiverLoopback: root.disembargo.context.senderLoopback },
        });
      }
      break;
    default:
      break;
  }
  // Unsolicited, as a server may: resolve a promise it gave, drop a capability it was given.
  if (h.promises.length > 0 && rng.chance(0.3)) {
    const id = h.promises.shift()!;
    const to = rng.pick<DescriptorSpec | ExceptionSpec>([
      exportId(h),
      { type: 0, reason: "broken" },
      ...(h.clientExports.length > 0 ? [{ receiverHosted: h.clientExports[0] }] : []),
      ...(h.questions.length > 0 ? [{ receiverAnswer: h.questions[0], transform: [0] }] : []),
    ]);
    ops.push({ k: "resolve", promiseId: id, to });
  }
  return ops;
}

/**
 * Runs one case of a Deno client against a hostile server: the client makes
 * the calls a real one does; the server answers each message the client sends
 * as a real Tester would, mutated. When the server closes, every call must
 * settle within `settleMs`.
 */
export async function runClientCase(
  seed: number,
  { settleMs = DEFAULT_TIMEOUT_MS, mutate = true } = {},
): Promise<ClientOutcome> {
  const rng = new Rng(seed ^ 0x5a5a5a5a);
  const h: HostileState = {
    rng,
    clientExports: [],
    nextQ: 0,
    nextExport: 0,
    questions: [],
    promises: [],
    notes: [],
  };
  using socket = tempSocket("hostile-server");
  using listener = Deno.listen({ transport: "unix", path: socket.path });
  const accepted = listener.accept();
  const rpc = new RpcConnection(await Deno.connect({ transport: "unix", path: socket.path }));
  const raw = new WirePeer(await accepted);
  const tester = new TesterClient(rpc.bootstrap());
  const pending: [string, Promise<unknown>][] = [];
  const owned: { dispose(): void }[] = [];
  const calls = 1 + rng.int(6);
  for (let i = 0; i < calls; i++) {
    const callback = callbackOf((x) => x * 2n);
    owned.push(callback);
    switch (rng.int(11)) {
      case 0:
        pending.push(["add", tester.add(1, 2)]);
        break;
      case 1:
        pending.push(["echo", tester.echo(new Uint8Array(rng.int(50)))]);
        break;
      case 2:
        pending.push(["echoText", tester.echoText("hello")]);
        break;
      case 3: {
        const { counter, done } = tester.makeCounter(1n);
        owned.push(counter);
        pending.push(["makeCounter", done], ["counter.next", counter.next()]);
        if (rng.chance(0.5)) pending.push(["counter.next 2", counter.next()]);
        break;
      }
      case 4:
        pending.push(["callBack", tester.callBack(callback, 2)]);
        break;
      case 5: {
        const echoed = tester.echoCap(callback);
        owned.push(echoed.callback);
        pending.push(["echoCap", echoed.done], ["echoed.call", callCallback(echoed.callback, 4n)]);
        if (rng.chance(0.5)) pending.push(["echoed.call 2", callCallback(echoed.callback, 5n)]);
        break;
      }
      case 6: {
        const controller = new AbortController();
        pending.push(["wait", tester.wait(10, controller.signal)]);
        if (rng.chance(0.5)) setTimeout(() => controller.abort(), rng.int(20));
        break;
      }
      case 7:
        pending.push(["hold", tester.hold(callback)]);
        break;
      case 8:
        pending.push(["fail", tester.fail(1, "x")]);
        break;
      case 9: {
        // A local promise passed as a capability, resolved later (a Resolve goes out).
        const promise = new PromiseHook();
        const cap = new Capability(promise.retain());
        owned.push(cap);
        const echoed = tester.echoCap(cap);
        owned.push(echoed.callback);
        pending.push(["echoCap promise", echoed.done], [
          "echoed promise.call",
          callCallback(echoed.callback, 6n),
        ]);
        const target = callback.hook.retain();
        let resolved = false;
        const resolveIt = () => {
          if (resolved) return;
          resolved = true;
          promise.resolve(target);
        };
        const timer = setTimeout(resolveIt, rng.int(10));
        owned.push({ dispose: () => (clearTimeout(timer), resolveIt()) });
        break;
      }
      default:
        pending.push(["liveObjects", tester.liveObjects()]);
    }
  }
  const results: Record<string, number> = {};
  for (const [name, promise] of pending) {
    promise.then(
      () => results[`${name}: ok`] = (results[`${name}: ok`] ?? 0) + 1,
      (error) => {
        const key = `${name}: ${String(error?.type ?? error?.name)}`;
        results[key] = (results[key] ?? 0) + 1;
      },
    );
  }
  // The hostile server: answers what arrives, mutated, for a few rounds.
  const rounds = 3 + rng.int(20);
  const endWith = rng.int(4); // 0: Abort then close; else close
  for (let round = 0; round < rounds && !raw.eof; round++) {
    let root: RpcMessage;
    try {
      root = await raw.next(rng.pick([5, 20, 40]));
    } catch {
      continue;
    }
    let ops = hostileReply(h, root);
    if (mutate && ops.length > 0 && rng.chance(0.5)) {
      const at = rng.int(ops.length);
      switch (rng.int(4)) {
        case 0:
          ops.splice(at, 1);
          h.notes.push(`drop reply`);
          break;
        case 1:
          ops.push(structuredClone(ops[at]) as Op);
          h.notes.push(`dup reply`);
          break;
        default:
          ops[at] = mutateOp(rng, ops[at], h.questions.length > 0 ? h.questions : [0]);
          h.notes.push(`mutate reply ${ops[at].k}`);
      }
    }
    if (mutate && rng.chance(0.05)) {
      ops = [
        ...ops,
        rng.pick<Op>([
          { k: "release", id: h.clientExports[0] ?? 0, count: rng.pick([1, 2]) },
          { k: "finish", q: rng.int(3), release: true },
          { k: "resolve", promiseId: rng.int(3), to: { senderHosted: 50 } },
          { k: "disembargo", target: { importedCap: rng.int(3) }, context: { senderLoopback: 0 } },
          { k: "return", answerId: rng.int(4), takeFromOtherQuestion: rng.int(4) },
          {
            k: "call",
            q: 0,
            target: { promisedAnswer: rng.int(3), transform: [0] },
            iface: CALLBACK,
            method: 0,
            params: { kind: "int64", value: 1n },
            caps: [],
          },
        ]),
      ];
      h.notes.push("unsolicited");
    }
    for (const op of ops) {
      let frame = frameOf(op);
      if (mutate && rng.chance(0.15)) {
        frame = frame.slice();
        const start = dataStart(frame);
        if (start >= 0) mutateWords(rng, frame, start);
        h.notes.push(`words of ${op.k}`);
      }
      if (!(await raw.trySendBytes(frame))) break;
    }
  }
  if (endWith === 0) await raw.trySendBytes(frameOf({ k: "abort", reason: "hostile" }));
  await raw.close();
  const outcome: ClientOutcome = { unsettled: [], closed: false, results, notes: h.notes };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) =>
    timer = setTimeout(() => resolve("timeout"), settleMs)
  );
  const settled = new Set<number>();
  await Promise.race([
    Promise.allSettled(pending.map(([, p], i) => p.finally(() => settled.add(i)))),
    timeout,
  ]);
  outcome.closed = await Promise.race([rpc.closed.then(() => true), timeout.then(() => false)]);
  clearTimeout(timer);
  pending.forEach(([name], i) => {
    if (!settled.has(i)) outcome.unsettled.push(name);
  });
  for (const item of owned) {
    try {
      item.dispose();
    } catch { /* disposed already */ }
  }
  tester.dispose();
  await rpc.close();
  return outcome;
}
