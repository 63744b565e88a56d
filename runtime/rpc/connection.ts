/**
 * One two-party Cap'n Proto RPC connection (Level 1): the question, answer,
 * import and export tables and the handling of every protocol message.
 *
 * Wire behaviour follows the C++ reference: Return carries
 * `releaseParamCaps = false` and Finish `releaseResultCaps = false` (both
 * honoured when a peer sets them); protocol violations Abort the connection;
 * unknown message types are answered with `Unimplemented`; unknown methods
 * get an exception Return.
 *
 * @module
 */
import * as capnp from "capnp-es";
import { Message as RpcMessage } from "capnp-es/capnp/rpc";
import { frameBytes, type FrameView, FramingError, headerBytes } from "../framing.ts";
import { overSharedLimitText, SharedLimit, type SharedTotal } from "../shared_limit.ts";
import {
  type ByteChannel,
  DEFAULT_TRANSPORT_LIMITS,
  FrameTransport,
  PeerLimitError,
  type TransportLimits,
} from "../transport.ts";
import {
  DEFAULT_READ_LIMITS,
  type FrameCheck,
  MessageValidationError,
  type ReadLimits,
  TOO_DEEP,
  validateFrame,
} from "../validate.ts";
import {
  BrokenHook,
  type CallMessage,
  Capability,
  failedSent,
  Hook,
  hooksOf,
  ignoringFailure,
  PipelineSet,
  PromiseHook,
  releaseCaps,
  Response,
  type Sent,
} from "./capability.ts";
import { canceledError, ERROR_TYPES, RpcError } from "./errors.ts";
import {
  abortMessage,
  bootstrapMessage,
  CALL_LAYOUT,
  DESCRIPTOR_BYTES,
  DescriptorTag,
  disembargoMessage,
  DisembargoTag,
  EnvelopeReader,
  Field,
  finishMessage,
  ListRef,
  MessageTag,
  releaseMessage,
  resolveMessage,
  resolveToCap,
  resolveToException,
  RETURN_LAYOUT,
  returnMessage,
  ReturnTag,
  SendResultsTo,
  StructRef,
  type Target,
  type WordSpace,
  writeCapTable,
  writeDescriptorAnswer,
  writeDescriptorId,
  writeTarget,
} from "./envelope.ts";
import {
  capTableOf,
  holdsBuffers,
  messageFromFrame,
  messageFromSegments,
  newCallMessage,
  newMessage,
  newReturnMessage,
  NULL_POINTER,
  pointerAt,
  releaseBuffers,
  retainedBytes,
  segmentsOf,
  spaceOf,
} from "./message.ts";

/**
 * Every limit a connection enforces against its peer: framing and the
 * outgoing queue ({@linkcode TransportLimits}), reading
 * ({@linkcode ReadLimits}), and the call tables below. Where the C++
 * reference has a limit the default is its value; the others bound what a
 * peer can make this side hold, with room for the largest legal message.
 */
export interface RpcLimits extends TransportLimits, ReadLimits {
  /** Calls this side may have awaiting a Return; more fail with `overloaded`. Default 8192. */
  maxQuestions: number;
  /** Peer calls that may be running here; more get an `overloaded` Return. Default 1024. */
  maxAnswers: number;
  /**
   * Answers the peer may leave without a Finish: calls running, refused or
   * returned, and Bootstraps. The next Call or Bootstrap aborts the
   * connection (refusing it would only add one more answer to finish).
   * C++ has no such limit. Default 8192, what this side may ask at once.
   */
  maxUnfinishedAnswers: number;
  /**
   * Bytes of results kept for answers the peer has not finished (they are
   * kept for calls pipelined on them until the Finish), counted as the
   * memory they keep alive: results in a buffer shared with other messages
   * count the whole buffer. A Return that takes them over this aborts the
   * connection; one answer of any size may always be kept when no other is.
   * C++ has no such limit. Default 64 MiB.
   */
  maxUnfinishedResultBytes: number;
  /**
   * The same, summed over the connections of this process whose value of
   * this is the same or less (one allowed more does not use up a stricter
   * one's total). Over it, of those connections, the one whose peer left
   * the most (not counting a result just returned, which no Finish could
   * have followed yet) is aborted: many peers that never finish cannot add
   * up past it. C++ has no such limit. Default 256 MiB.
   */
  maxProcessUnfinishedResultBytes: number;
  /**
   * Bytes that calls running here keep alive: their params messages
   * (counted as `maxUnfinishedResultBytes` counts results) and their
   * capability tables. A call that would take them over this gets an
   * `overloaded` Return; one call of any size may always run when no other
   * does. C++ has no such limit. Default 256 MiB: many calls carrying
   * blocks of megabytes each may run at once.
   */
  maxRunningCallBytes: number;
  /**
   * The same, summed over the connections of this process whose value of
   * this is the same or less (one allowed more does not use up a stricter
   * one's total): many connections cannot add up past it. Over it, a
   * connection holding less than its share (this limit divided among those
   * connections running calls) may still run calls, up to twice the limit
   * in all, so that one connection holding much cannot starve the others;
   * no call takes the total of a larger value past twice that value either.
   * One call of any size may always run when no connection counted in any
   * of these totals runs one. C++ has no such limit. Default 512 MiB.
   */
  maxProcessRunningCallBytes: number;
  /**
   * Entries in one message's capability table. Each takes a handle here
   * (and a new import an entry in the import table) before any other limit
   * can weigh the message, so a message with more aborts the connection.
   * C++ has no such limit. Default 65536: interfaces pass a few each.
   */
  maxCapTableEntries: number;
}

/** Default limits (see {@linkcode RpcLimits} for each one's origin). */
export const DEFAULT_RPC_LIMITS: Readonly<RpcLimits> = Object.freeze({
  ...DEFAULT_TRANSPORT_LIMITS,
  ...DEFAULT_READ_LIMITS,
  maxQuestions: 8192,
  maxAnswers: 1024,
  maxUnfinishedAnswers: 8192,
  maxUnfinishedResultBytes: 64 * 1024 * 1024,
  maxProcessUnfinishedResultBytes: 256 * 1024 * 1024,
  maxRunningCallBytes: 256 * 1024 * 1024,
  maxProcessRunningCallBytes: 512 * 1024 * 1024,
  maxCapTableEntries: 65536,
});

/** Options for {@linkcode RpcConnection}. */
export interface ConnectionOptions {
  /** The capability the peer gets from Bootstrap. The connection keeps its own reference. */
  bootstrap?: Capability | undefined;
  /** Limits against the peer; unset fields take {@linkcode DEFAULT_RPC_LIMITS}. */
  limits?: Partial<RpcLimits> | undefined;
}

/**
 * What a received cap table entry costs here, whatever it took on the wire:
 * its handle and, for a new import, the import's entry (about 240 bytes,
 * measured with V8's heap statistics for 65536 new imports).
 */
const CAP_ENTRY_BYTES = 256;

/** The `overloaded` refusal of a call over the running bytes of its connection. */
function runningBytesError(held: number, more: number, limit: number): RpcError {
  return new RpcError(
    "overloaded",
    `Too many bytes held by calls in progress: ${held} and ${more} more; ` +
      `the limit is ${limit} (maxRunningCallBytes).`,
  );
}

/**
 * The refusal of a call of `more` bytes over `maxProcessRunningCallBytes`, or
 * null, given the `totals` the caller counts in (its value's first). Over
 * its value, a connection holding `held` in `calls` may still run calls
 * while it holds less than its share of it; no call takes a total other
 * than 0 past twice its value.
 */
function processRunningRefusal(
  held: number,
  calls: number,
  more: number,
  totals: readonly [SharedTotal, ...SharedTotal[]],
): RpcError | null {
  const refusal = ({ total, value }: SharedTotal, why: string) =>
    new RpcError(
      "overloaded",
      `Too many bytes held by calls in progress in this process: ${total} and ${more} more ` +
        `on the connections whose maxProcessRunningCallBytes is ${value} or less, and ${why}`,
    );
  const own = totals[0];
  if (own.total > 0 && own.total + more > own.value) {
    const share = Math.floor(own.value / (own.count + (calls === 0 ? 1 : 0)));
    if (held + more > share) {
      return refusal(
        own,
        `this connection would hold ${held + more}, more than its share of ${share}.`,
      );
    }
  }
  const past = totals.find(({ total, value }) => total > 0 && total + more > 2 * value);
  return past === undefined ? null : refusal(past, "no call may take them past twice that.");
}

/** The most bytes queued for a peer that is still sent an Abort (see `#abort`). */
const ABORT_FLUSH_BYTES = 64 * 1024;

/**
 * Levels the envelope is read down to, call content aside: Message,
 * Unimplemented's echo, Call, Payload, cap table, PromisedAnswer, its path.
 */
const ENVELOPE_NESTING = 8;

/** A call failed because its `part` nests deeper than this side's `limit`. */
function tooDeepError(part: string, limit: number): RpcError {
  return new RpcError(
    "failed",
    `${TOO_DEEP} The ${part} nest deeper than ${limit} levels (nestingLimit), ` +
      "counted from the message's root.",
  );
}

/** The error every call sees once the peer is gone. */
export function disconnectedError(): RpcError {
  return new RpcError("disconnected", "Peer disconnected.");
}

/**
 * One of our calls to the peer, and the {@linkcode Sent} its caller holds.
 * Pipelines are made on first use: most calls are never pipelined on.
 */
class Question implements Sent {
  readonly id: number;
  resolve!: (response: Response) => void;
  reject!: (error: RpcError) => void;
  readonly response: Promise<Response>;
  /** Exports made for this call's params, released if the Return says so. */
  paramExports: readonly number[] = NO_EXPORTS;
  #returned = false;
  /** Made when someone waits for the Return (see `finished`). */
  #finished: PromiseWithResolvers<void> | null = null;
  /**
   * Set once the caller has its outcome. A Return may come and the outcome
   * later (taken from another answer), or never (a Return the connection
   * aborts on): a question not yet settled fails when the connection ends.
   */
  settled = false;
  finishSent = false;
  /** Set when the caller canceled: the Return is then discarded. */
  canceled = false;
  readonly #pipelineHook: PipelineHookMaker;
  #pipelines: PipelineSet | null = null;
  #outcome: Response | RpcError | null = null;

  /** Question `id`; `pipelineHook` makes the hook of a call pipelined on it. */
  constructor(id: number, pipelineHook: PipelineHookMaker) {
    this.id = id;
    this.#pipelineHook = pipelineHook;
    this.response = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.response.catch(ignore);
  }

  /** Whether the callee has answered, or can no longer answer (the connection ended). */
  get returned(): boolean {
    return this.#returned;
  }

  set returned(value: true) {
    this.#returned = value;
    this.#finished?.resolve();
  }

  /** Settles once the Return has arrived (a canceled call's too) or the connection ended. */
  finished(): Promise<void> {
    if (this.#returned) return Promise.resolve();
    return (this.#finished ??= Promise.withResolvers()).promise;
  }

  pipeline(path: readonly number[]): Hook {
    if (this.#pipelines === null) {
      this.#pipelines = new PipelineSet((path) => this.#pipelineHook(this.id, path));
      if (this.#outcome !== null) this.#pipelines.resolve(hooksOf(this.#outcome));
    }
    return this.#pipelines.get(path);
  }

  /**
   * Resolves the pipelines made so far to `outcome` (held back by `embargo`
   * where it says so); those made later resolve at once.
   */
  settlePipelines(
    outcome: Response | RpcError,
    embargo?: (via: Target, promise: PromiseHook, target: Hook) => Promise<void> | undefined,
  ): void {
    this.#outcome = outcome;
    this.#pipelines?.resolve(
      hooksOf(outcome),
      embargo &&
        ((path, promise, target) => embargo({ questionId: this.id, path }, promise, target)),
    );
  }
}

/** Makes the hook of calls pipelined on question `questionId` at `path`. */
type PipelineHookMaker = (questionId: number, path: readonly number[]) => PromiseHook;

/** No exports: shared, never written. */
const NO_EXPORTS: readonly number[] = Object.freeze([]);

function ignore(): void {}

class Answer {
  readonly id: number;
  #controller: AbortController | null = null;
  sent: Sent | null = null;
  /** The results as returned, kept for pipelined calls until Finish. */
  response: Response | null = null;
  resultExports: readonly number[] = NO_EXPORTS;
  returned = false;
  /** The caller asked for the results to stay here (`sendResultsTo.yourself`, a tail call). */
  keepResults = false;
  /** Counted against `maxAnswers` until it returns. */
  running = false;
  /** Bytes its params keep alive, counted against `maxRunningCallBytes` while it runs. */
  runningBytes = 0;
  /** Bytes of `response` counted against `maxUnfinishedResultBytes` until Finish. */
  heldBytes = 0;

  constructor(id: number) {
    this.id = id;
  }

  /** Why it was aborted, once it was. */
  #abortReason: RpcError | null = null;

  /**
   * Aborts when the caller cancels or disconnects (made on first use: most
   * calls never look; aborted already when first looked at after that).
   */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#abortReason !== null) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  abort(reason: RpcError): void {
    this.#abortReason ??= reason;
    this.#controller?.abort(reason);
  }
}

/**
 * A call that arrived from the peer, as its target sees it. A class, not an
 * object literal: a literal's `signal` getter would be a new closure per
 * call, and V8 gives each such literal a hidden class of its own. Those
 * live in the old generation, so each kept its call (answer, messages,
 * results) alive through every young collection until the next full one.
 */
class ArrivedCall implements CallMessage {
  readonly interfaceId: bigint;
  readonly methodId: number;
  readonly message: capnp.Message;
  readonly params: capnp.Pointer;
  readonly caps: (Capability | null)[];
  readonly writable = false;
  readonly origin: RpcConnection;
  readonly #answer: Answer;

  constructor(
    interfaceId: bigint,
    methodId: number,
    message: capnp.Message,
    params: capnp.Pointer,
    caps: (Capability | null)[],
    origin: RpcConnection,
    answer: Answer,
  ) {
    this.interfaceId = interfaceId;
    this.methodId = methodId;
    this.message = message;
    this.params = params;
    this.caps = caps;
    this.origin = origin;
    this.#answer = answer;
  }

  get signal(): AbortSignal {
    return this.#answer.signal;
  }
}

interface Export {
  hook: Hook;
  refs: number;
}

/** A capability the peer exports to us. */
class ImportHook extends Hook {
  readonly connection: RpcConnection;
  readonly id: number;
  /** Times the peer has sent us this id: what a Release must give back. */
  remoteRefs = 0;
  /** Set when the peer sent it as a promise (`senderPromise`). */
  promise: ImportedPromise | null = null;

  constructor(connection: RpcConnection, id: number) {
    super();
    this.connection = connection;
    this.id = id;
  }

  send(call: CallMessage): Sent {
    return this.connection.sendCall(call, { importId: this.id });
  }

  protected override unreferenced(): void {
    this.connection.releaseImport(this.id, this, this.remoteRefs);
  }
}

/** A promise the peer exports: calls go to the import until it resolves. Holds the import. */
class ImportedPromise extends PromiseHook {
  readonly imported: ImportHook;

  constructor(imported: ImportHook) {
    super((call) => imported.send(call));
    this.imported = imported;
  }

  protected override unreferenced(): void {
    super.unreferenced();
    if (this.imported.promise === this) this.imported.promise = null;
    this.imported.release();
  }
}

/** A protocol violation by the peer: the connection is aborted with this reason. */
class ProtocolError extends Error {}

/**
 * An RPC connection over a byte channel. Serves `options.bootstrap` to the
 * peer and gives access to the peer's with {@linkcode RpcConnection.bootstrap}.
 *
 * @example
 * ```ts
 * import { RpcConnection } from "./connection.ts";
 * import { Capability } from "./capability.ts";
 * import { serverFromMethods } from "./server.ts";
 * import { channelFromStreams } from "../transport.ts";
 * import { Tester$Client } from "../../examples/schemas/gen/testing.ts";
 *
 * // Both ends in this process, over an in-memory pipe (a socket works the same).
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const add = Tester$Client.methods[0];
 * const tester = Capability.fromServer(serverFromMethods(new Map([
 *   [Tester$Client.interfaceId, [(call) => {
 *     const { a, b } = call.params(add.ParamsClass);
 *     call.results(add.ResultsClass).result = a + b;
 *   }]],
 * ])));
 * await using _server = new RpcConnection(channelFromStreams(there.readable, back.writable), {
 *   bootstrap: tester,
 * });
 * await using client = new RpcConnection(channelFromStreams(back.readable, there.writable));
 * using remote = client.bootstrap();
 * const request = remote.request(add);
 * request.params.a = 40;
 * request.params.b = 2;
 * using response = await request.send();
 * if (response.results(add.ResultsClass).result !== 42) throw new Error("40 + 2 is 42");
 * ```
 */
export class RpcConnection implements AsyncDisposable {
  readonly #transport: FrameTransport;
  readonly #limits: RpcLimits;
  readonly #bootstrap: Capability | null;
  readonly #questions = new QuestionTable();
  readonly #freeQuestionIds: number[] = [];
  #nextQuestionId = 0;
  readonly #answers = new Map<number, Answer>();
  #runningAnswers = 0;
  /** Bytes the running answers' params keep alive. */
  #runningBytes = 0;
  /** Bytes of results held for unfinished answers. */
  #heldResultBytes = 0;
  /** Results held for unfinished answers by the connections of this process. */
  static readonly #held = new SharedLimit<RpcConnection>(
    (c) => c.#heldResultBytes,
    (c) => c.#limits.maxProcessUnfinishedResultBytes,
  );
  /** What the calls running in the connections of this process keep alive. */
  static readonly #running = new SharedLimit<RpcConnection>(
    (c) => c.#runningBytes,
    (c) => c.#limits.maxProcessRunningCallBytes,
  );
  readonly #imports = new Map<number, ImportHook>();
  readonly #exports = new Map<number, Export>();
  readonly #exportIds = new Map<Hook, number>();
  readonly #freeExportIds: number[] = [];
  #nextExportId = 0;
  readonly #embargoes = new Map<number, () => void>();
  #nextEmbargoId = 0;
  #error: RpcError | null = null;
  /** Set by {@linkcode RpcConnection.close}: the queued frames go out, then it closes. */
  #closedHere = false;
  /** Set when it ended broken: a limit or the protocol broken, here or by the peer's Abort. */
  #broken = false;
  readonly #closed: Promise<RpcError>;
  /** Reads received envelopes in place, into the places below (reused for every message). */
  readonly #reader = new EnvelopeReader();
  readonly #root = new StructRef();
  readonly #body = new StructRef();
  readonly #echoedBody = new StructRef();
  readonly #target = new StructRef();
  readonly #payload = new StructRef();
  readonly #promised = new StructRef();
  readonly #descriptor = new StructRef();
  readonly #exception = new StructRef();
  readonly #op = new StructRef();
  readonly #table = new ListRef();
  readonly #ops = new ListRef();
  #resolveClosed!: (error: RpcError) => void;
  /** Makes the hook of calls pipelined on one of our questions (one function for all). */
  readonly #pipelineHook: PipelineHookMaker = (questionId, path) =>
    new PromiseHook(
      (call) => this.sendCall(call, { questionId, path }),
      { owner: this, questionId, path },
    );
  readonly #embargoPipeline = (via: Target, promise: PromiseHook, target: Hook) =>
    this.#embargoIfLocal(promise, target, via);

  /** Runs the protocol over `channel` (a socket, or any byte stream) until either side closes. */
  constructor(channel: ByteChannel, options: ConnectionOptions = {}) {
    this.#limits = { ...DEFAULT_RPC_LIMITS, ...options.limits };
    this.#bootstrap = options.bootstrap?.dup() ?? null;
    this.#closed = new Promise((resolve) => this.#resolveClosed = resolve);
    RpcConnection.#held.join(this);
    RpcConnection.#running.join(this);
    this.#transport = new FrameTransport(channel, (frame) => this.#receive(frame), this.#limits);
    this.#transport.closed.then((reason) => {
      const overLimit = reason instanceof PeerLimitError || reason instanceof FramingError;
      if (overLimit) this.#broken = true;
      this.#shutdown(
        reason === undefined
          ? this.#closedHere
            ? new RpcError("disconnected", "Connection closed by this side.")
            : disconnectedError()
          : new RpcError(
            "disconnected",
            overLimit
              ? `Connection closed: ${reason.message}`
              : `Peer disconnected: ${reason.message}`,
            { cause: reason },
          ),
      );
    });
  }

  /** Settles with the reason once the connection is closed. */
  get closed(): Promise<RpcError> {
    return this.#closed;
  }

  /** Whether the connection is closed. */
  get isClosed(): boolean {
    return this.#error !== null;
  }

  /**
   * Whether it closed broken rather than plainly: over a limit, or with the
   * protocol broken (an Abort either way). A lost socket is a plain close:
   * its peer may just have ended.
   */
  get isBroken(): boolean {
    return this.#broken;
  }

  /** Counts of the four tables, for tests and diagnostics. */
  get stats(): { questions: number; answers: number; imports: number; exports: number } {
    return {
      questions: this.#questions.size,
      answers: this.#answers.size,
      imports: this.#imports.size,
      exports: this.#exports.size,
    };
  }

  /** The peer's bootstrap capability; usable at once (calls are pipelined). */
  bootstrap(): Capability {
    if (this.#error) return Capability.broken(this.#error);
    const question = this.#newQuestion();
    if (question === null) {
      return Capability.broken(new RpcError("overloaded", "Too many outstanding calls."));
    }
    this.#transport.send([bootstrapMessage(question.id)]);
    const capability = new Capability(question.pipeline([]));
    // Nobody else sees this response: the pipeline took its own reference.
    question.response.then((response) => response.dispose(), ignore);
    return capability;
  }

  /**
   * Closes the connection; every pending and later call fails as
   * disconnected, and {@linkcode RpcConnection.closed} says this side closed it.
   */
  close(): Promise<void> {
    this.#closedHere = true;
    this.#transport.close(undefined, true);
    return this.#closed.then(() => {});
  }

  /** Closes the connection and waits until it is closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- Outgoing calls ----

  /** Sends `call` to the peer's capability or promised answer. */
  sendCall(call: CallMessage, target: Target): Sent {
    if (this.#error) return this.#failCall(call, this.#error);
    const question = this.#newQuestion();
    if (question === null) {
      return this.#failCall(call, new RpcError("overloaded", "Too many outstanding calls."));
    }
    if (call.signal?.aborted) {
      this.#releaseQuestionId(question);
      return this.#failCall(call, canceledError(call.signal.reason));
    }
    const message = call.writable ? call.message : copyCall(call);
    const space = spaceOf(message);
    space.view.setUint32(space.start + CALL_LAYOUT.call, question.id, true);
    writeTarget(space, space.start + CALL_LAYOUT.target, target);
    const caps = capTableOf<Capability>(message);
    question.paramExports = this.#writeCapTable(space, space.start + CALL_LAYOUT.capTable, caps);
    releaseCaps(caps);
    releaseCaps(call.caps);
    const segments = segmentsOf(message);
    const oversize = this.#oversize(segments, "call's params");
    if (oversize !== null) {
      this.#unexport(question.paramExports);
      this.#releaseQuestionId(question);
      releaseBuffers(message);
      return failedSent(oversize);
    }
    this.#send(message, segments);
    if (call.signal) {
      const signal = call.signal;
      const onAbort = () => this.#cancelQuestion(question, signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      const detach = () => signal.removeEventListener("abort", onAbort);
      question.response.then(detach, detach);
    }
    return question;
  }

  #failCall(call: CallMessage, error: RpcError): Sent {
    releaseCaps(call.caps);
    return failedSent(error);
  }

  #newQuestion(): Question | null {
    if (this.#questions.size >= this.#limits.maxQuestions) return null;
    const id = this.#freeQuestionIds.pop() ?? this.#nextQuestionId++;
    const question = new Question(id, this.#pipelineHook);
    this.#questions.set(id, question);
    return question;
  }

  #releaseQuestionId(question: Question): void {
    this.#questions.delete(question.id);
    this.#freeQuestionIds.push(question.id);
  }

  /** Early Finish: the callee is told to stop; the caller sees a cancellation at once. */
  #cancelQuestion(question: Question, reason: unknown): void {
    if (question.returned || question.finishSent || this.#error) return;
    question.canceled = true;
    question.finishSent = true;
    this.#sendFinish(question.id, true);
    const error = canceledError(reason);
    question.reject(error);
    question.settlePipelines(error);
  }

  #sendFinish(questionId: number, releaseResultCaps: boolean): void {
    // Nobody waits on a Finish: let it ride with the next message out.
    this.#transport.send([finishMessage(questionId, releaseResultCaps)], true);
  }

  // ---- Capability descriptors ----

  /**
   * Writes a cap table for `caps` through the pointer at `at` of `space`;
   * returns the export ids it added references to.
   */
  #writeCapTable(
    space: WordSpace,
    at: number,
    caps: readonly (Capability | null)[],
  ): readonly number[] {
    if (caps.length === 0) return NO_EXPORTS;
    const exported: number[] = [];
    const first = writeCapTable(space, at, caps.length);
    for (let i = 0; i < caps.length; i++) {
      const cap = caps[i];
      const hook = cap && !cap.disposed ? cap.hook : null;
      const id = this.#writeDescriptor(space, first + i * DESCRIPTOR_BYTES, hook);
      if (id !== null) exported.push(id);
    }
    return exported;
  }

  /**
   * Describes `hook` to the peer in the (zeroed, so `none`) descriptor at
   * `descriptor`; returns the export id when one was referenced.
   */
  #writeDescriptor(space: WordSpace, descriptor: number, hook: Hook | null): number | null {
    if (hook === null) return null;
    const settled = hook.settled;
    if (settled instanceof ImportHook && settled.connection === this) {
      writeDescriptorId(space, descriptor, DescriptorTag.receiverHosted, settled.id);
      return null;
    }
    if (settled instanceof PromiseHook && settled.answer?.owner === this && !settled.isResolved) {
      writeDescriptorAnswer(space, descriptor, settled.answer);
      return null;
    }
    const id = this.#export(settled);
    const tag = settled instanceof PromiseHook && !settled.isResolved
      ? DescriptorTag.senderPromise
      : DescriptorTag.senderHosted;
    writeDescriptorId(space, descriptor, tag, id);
    return id;
  }

  /** Adds a reference to the export of `hook`, creating it if new. */
  #export(hook: Hook): number {
    const existing = this.#exportIds.get(hook);
    if (existing !== undefined) {
      this.#exports.get(existing)!.refs++;
      return existing;
    }
    const id = this.#freeExportIds.pop() ?? this.#nextExportId++;
    this.#exports.set(id, { hook: hook.retain(), refs: 1 });
    this.#exportIds.set(hook, id);
    if (hook instanceof PromiseHook && !hook.isResolved) {
      hook.whenResolved((target) => this.#sendResolve(id, hook, target));
    }
    return id;
  }

  #sendResolve(id: number, promise: Hook, target: Hook): void {
    if (this.#error || this.#exports.get(id)?.hook !== promise) return;
    this.#transport.send([resolveMessage(id, (space, body) => {
      if (target instanceof BrokenHook) {
        const { reason, type } = exceptionOf(target.error);
        resolveToException(space, body, reason, type);
      } else {
        this.#writeDescriptor(space, resolveToCap(space, body), target);
      }
    })]);
  }

  #releaseExport(id: number, count: number): void {
    const entry = this.#exports.get(id);
    if (entry === undefined) throw new ProtocolError("Tried to release invalid export ID.");
    if (count > entry.refs) throw new ProtocolError("Tried to drop export's refcount below zero.");
    entry.refs -= count;
    if (entry.refs > 0) return;
    this.#exports.delete(id);
    this.#exportIds.delete(entry.hook);
    this.#freeExportIds.push(id);
    // The peer's to release; a server whose dispose throws has ended all the same.
    ignoringFailure(() => entry.hook.release());
  }

  /** Reads the received cap table of `payload` into handles owned by `message`. */
  #readCapTable(message: capnp.Message, payload: StructRef): (Capability | null)[] {
    const caps = capTableOf<Capability>(message);
    const table = this.#table;
    this.#reader.structList(payload, Field.payload.capTable, table);
    if (table.length > 0 && table.dataBytes < 8) {
      // A list of bytes or pointers legally reads as structs, each taking a
      // handle here whatever it took on the wire.
      throw new ProtocolError(
        `Cap table of ${table.length} elements with ${table.dataBytes} data bytes each: ` +
          "a CapDescriptor's id and tag fill its first data word.",
      );
    }
    if (table.length > this.#limits.maxCapTableEntries) {
      throw new ProtocolError(
        `Cap table of ${table.length} entries; the limit is ` +
          `${this.#limits.maxCapTableEntries} (maxCapTableEntries).`,
      );
    }
    for (let i = 0; i < table.length; i++) {
      this.#reader.element(table, i, this.#descriptor);
      const hook = this.#readDescriptor(this.#descriptor);
      caps.push(hook === null ? null : new Capability(hook));
    }
    return caps;
  }

  /** The (retained) hook a received descriptor names, or null for `none`. */
  #readDescriptor(descriptor: StructRef): Hook | null {
    const r = this.#reader;
    const id = r.u32(descriptor, Field.descriptor.id);
    switch (r.u16(descriptor, Field.descriptor.which)) {
      case DescriptorTag.none:
        return null;
      case DescriptorTag.senderHosted:
        return this.#importHook(id).retain();
      case DescriptorTag.senderPromise: {
        const imported = this.#importHook(id);
        imported.promise ??= new ImportedPromise(imported.retain());
        return imported.promise.retain();
      }
      case DescriptorTag.receiverHosted: {
        const entry = this.#exports.get(id);
        if (entry === undefined) {
          return new BrokenHook(new RpcError("failed", "Invalid 'receiverHosted' export ID."))
            .retain();
        }
        return entry.hook.retain();
      }
      case DescriptorTag.receiverAnswer: {
        const promised = this.#promised;
        r.struct(descriptor, Field.descriptor.promisedAnswer, promised);
        const answer = this.#answers.get(r.u32(promised, Field.promised.questionId));
        if (answer?.sent == null) {
          return new BrokenHook(new RpcError("failed", "Invalid 'receiverAnswer' question ID."))
            .retain();
        }
        return answer.sent.pipeline(this.#readTransform(promised));
      }
      default:
        return new BrokenHook(
          new RpcError("unimplemented", "Third-party capabilities are not supported."),
        ).retain();
    }
  }

  #importHook(id: number): ImportHook {
    let hook = this.#imports.get(id);
    if (hook === undefined) {
      hook = new ImportHook(this, id);
      this.#imports.set(id, hook);
    }
    hook.remoteRefs++;
    return hook;
  }

  /**
   * Called by the hook of import `id` when nothing here references it any
   * more: tells the peer to release the `remoteRefs` it sent us.
   */
  releaseImport(id: number, hook: Hook, remoteRefs: number): void {
    if (this.#imports.get(id) !== hook) return;
    this.#imports.delete(id);
    if (this.#error) return; // the peer dropped everything already
    this.#transport.send([releaseMessage(id, remoteRefs)]);
  }

  /** The pipeline path of the `PromisedAnswer` at `promised`. */
  #readTransform(promised: StructRef): number[] {
    const r = this.#reader;
    const ops = this.#ops;
    const op = this.#op;
    r.structList(promised, Field.promised.transform, ops);
    const path: number[] = [];
    for (let i = 0; i < ops.length; i++) {
      r.element(ops, i, op);
      if (r.u16(op, Field.op.which) === 1) path.push(r.u16(op, Field.op.pointerField));
    }
    return path;
  }

  /** The exception at pointer `index` of `s`, as the peer's error. */
  #readException(s: StructRef, index: number): RpcError {
    const r = this.#reader;
    const exception = this.#exception;
    r.struct(s, index, exception);
    const type = ERROR_TYPES[r.u16(exception, Field.exception.type)] ?? "failed";
    return new RpcError(type, r.text(exception, Field.exception.reason), { remote: true });
  }

  // ---- Receiving ----

  #send(message: capnp.Message, segments = segmentsOf(message)): void {
    // A message sending on a received message's Data holds its buffer until written.
    const written = holdsBuffers(message) ? () => releaseBuffers(message) : undefined;
    this.#transport.send(segments, false, written);
  }

  /**
   * Why a message of `segments` carrying `part` cannot go: more than a peer
   * reads in one message (taken to be what this side reads), which would
   * make it close the connection; null when it can.
   */
  #oversize(segments: Uint8Array[], part: string): RpcError | null {
    const { maxMessageBytes, maxSegments } = this.#limits;
    const bytes = frameBytes(segments) - headerBytes(segments.length);
    if (bytes <= maxMessageBytes && segments.length <= maxSegments) return null;
    const size = bytes > maxMessageBytes
      ? `${bytes} bytes, more than a peer reads in one message (${maxMessageBytes}, maxMessageBytes)`
      : `${segments.length} segments, more than a peer reads in one message (${maxSegments}, ` +
        "maxSegments)";
    return new RpcError("failed", `Message too large: the ${part} take ${size}; nothing was sent.`);
  }

  /** Gives back one reference to each export of `ids` (those a message described). */
  #unexport(ids: readonly number[]): void {
    for (const id of ids) {
      if (this.#exports.has(id)) this.#releaseExport(id, 1);
    }
  }

  #receive(frame: FrameView): void {
    if (this.#error) return;
    try {
      const check = validateFrame(frame, this.#limits);
      // Only call content nests deeper than the envelope: that fails its call alone.
      if (check.tooDeep && this.#limits.nestingLimit < ENVELOPE_NESTING) {
        throw new MessageValidationError(TOO_DEEP);
      }
      this.#reader.begin(frame);
      this.#reader.root(this.#root);
      this.#dispatch(frame, check);
    } catch (error) {
      this.#abort(error instanceof Error ? error.message : String(error));
    }
  }

  #dispatch(frame: FrameView, check: FrameCheck): void {
    const r = this.#reader;
    const root = this.#root;
    const body = this.#body;
    const which = r.u16(root, Field.message.which);
    // Only a call's or a return's content is refused alone; anything else too deep aborts, as
    // in C++ (an unknown message would be echoed whole, below the cut too).
    if (check.tooDeep && which !== MessageTag.call && which !== MessageTag.return) {
      throw new MessageValidationError(TOO_DEEP);
    }
    switch (which) {
      case MessageTag.call:
        r.struct(root, 0, body);
        return this.#onCall(frame, check, body);
      case MessageTag.return:
        r.struct(root, 0, body);
        return this.#onReturn(frame, check, body);
      case MessageTag.finish:
        r.struct(root, 0, body);
        return this.#onFinish(
          r.u32(body, Field.finish.questionId),
          !r.bool(body, Field.finish.releaseResultCapsBit),
        );
      case MessageTag.release:
        r.struct(root, 0, body);
        return this.#releaseExport(
          r.u32(body, Field.release.id),
          r.u32(body, Field.release.referenceCount),
        );
      case MessageTag.bootstrap:
        r.struct(root, 0, body);
        return this.#onBootstrap(r.u32(body, Field.bootstrap.questionId));
      case MessageTag.resolve:
        r.struct(root, 0, body);
        return this.#onResolve(body);
      case MessageTag.disembargo:
        r.struct(root, 0, body);
        return this.#onDisembargo(frame, check, body);
      case MessageTag.abort: {
        const error = this.#readException(root, 0);
        this.#broken = true;
        this.#transport.close();
        return this.#shutdown(error);
      }
      case MessageTag.unimplemented:
        r.struct(root, 0, body);
        return this.#onUnimplemented(body);
      default:
        return this.#replyUnimplemented(frame, check);
    }
  }

  #onCall(frame: FrameView, check: FrameCheck, call: StructRef): void {
    const r = this.#reader;
    const answer = this.#newAnswer(r.u32(call, Field.call.questionId));
    const payload = this.#payload;
    const hasParams = r.struct(call, Field.call.params, payload);
    const message = messageFromFrame(frame, check);
    // The table before the target: a table refused leaves nothing retained.
    const caps = this.#readCapTable(message, payload);
    let target: Hook;
    try {
      target = this.#resolveTarget(call, Field.call.target);
    } catch (error) {
      releaseCaps(caps);
      throw error;
    }
    const params = hasParams && payload.ptrCount > Field.payload.content
      ? pointerAt(message, payload.seg, payload.ptrs + Field.payload.content * 8)
      : NULL_POINTER;
    const sendTo = r.u16(call, Field.call.sendResultsTo);
    const bytes = retainedBytes(message) + caps.length * CAP_ENTRY_BYTES;
    const refusal = check.tooDeep
      ? tooDeepError("call's params", this.#limits.nestingLimit)
      : sendTo === SendResultsTo.thirdParty
      ? new RpcError("unimplemented", "Third-party result delivery is not supported.")
      : this.#runningAnswers >= this.#limits.maxAnswers
      ? new RpcError("overloaded", "Too many calls in progress.")
      : this.#runningAnswers > 0 && this.#runningBytes + bytes > this.#limits.maxRunningCallBytes
      ? runningBytesError(this.#runningBytes, bytes, this.#limits.maxRunningCallBytes)
      : RpcConnection.#running.total + bytes <= this.#limits.maxProcessRunningCallBytes
      ? null // within every total this connection counts in
      : processRunningRefusal(
        this.#runningBytes,
        this.#runningAnswers,
        bytes,
        RpcConnection.#running.totals(this.#limits.maxProcessRunningCallBytes),
      );
    // Set for a refused call too: a tail call's Return takes the refusal from it.
    answer.keepResults = sendTo === SendResultsTo.yourself;
    if (refusal !== null) {
      // Refused, but still an answer: calls pipelined on it fail the same way.
      target.release();
      releaseCaps(caps);
      answer.sent = failedSent(refusal);
      return this.#returnError(answer, refusal);
    }
    answer.running = true;
    answer.runningBytes = bytes;
    this.#runningAnswers++;
    this.#runningBytes += bytes;
    RpcConnection.#running.change(this, bytes);
    let sent: Sent;
    try {
      sent = target.send(
        new ArrivedCall(
          r.u64(call, Field.call.interfaceId),
          r.u16(call, Field.call.methodId),
          message,
          params,
          caps,
          this,
          answer,
        ),
      );
    } catch (error) {
      // The connection aborts; what the process counts for the call goes now.
      this.#stopRunning(answer);
      throw error;
    } finally {
      target.release();
    }
    answer.sent = sent;
    // The params are done with once the call is: their pooled buffers go back.
    sent.response.then(
      (response) => {
        releaseBuffers(message);
        this.#answerWith(() => this.#returnResults(answer, response));
      },
      (error) => {
        releaseBuffers(message);
        this.#answerWith(() => this.#returnError(answer, RpcError.from(error)));
      },
    );
  }

  /**
   * Runs `send`, a Return from a promise reaction: what it throws (results
   * it cannot describe to the peer) ends this connection, not the process.
   */
  #answerWith(send: () => void): void {
    try {
      send();
    } catch (error) {
      this.#abort(`Cannot return results: ${error instanceof Error ? error.message : error}`);
    }
  }

  /** Enters the answer to the peer's question `id` in the table. */
  #newAnswer(id: number): Answer {
    if (this.#answers.has(id)) throw new ProtocolError("Duplicate question ID.");
    if (this.#answers.size >= this.#limits.maxUnfinishedAnswers) {
      throw new ProtocolError(
        `Too many unfinished answers: the peer left ${this.#answers.size} calls and Bootstraps ` +
          `without a Finish (maxUnfinishedAnswers).`,
      );
    }
    const answer = new Answer(id);
    this.#answers.set(id, answer);
    return answer;
  }

  /** Counts the results `answer` keeps until its Finish; aborts when they are too many bytes. */
  #holdResults(answer: Answer, message: capnp.Message): void {
    answer.heldBytes = retainedBytes(message);
    const others = this.#heldResultBytes;
    this.#changeHeldResults(answer.heldBytes);
    if (others > 0 && this.#heldResultBytes > this.#limits.maxUnfinishedResultBytes) {
      return this.#abort(
        `Too many results held: the peer left ${this.#heldResultBytes} bytes of results ` +
          `without a Finish (maxUnfinishedResultBytes).`,
      );
    }
    // Only totals counting this connection grew, each within its value if the process's is.
    const value = this.#limits.maxProcessUnfinishedResultBytes;
    if (RpcConnection.#held.total <= value) return;
    // A result just returned is not blamed on its peer: no Finish could have come yet.
    const over = RpcConnection.#held.over(
      value,
      (holder) => holder.#heldResultBytes - (holder === this ? answer.heldBytes : 0),
    );
    if (over === undefined) return;
    over.member.#abort(
      `Too many results held: the peer left ${over.held} bytes of results without a Finish, ` +
        `${overSharedLimitText(over, "maxProcessUnfinishedResultBytes")}.`,
    );
  }

  /** Adds `bytes` (or takes them away) from the results held here and in the process. */
  #changeHeldResults(bytes: number): void {
    this.#heldResultBytes += bytes;
    RpcConnection.#held.change(this, bytes);
  }

  /** The (retained) hook the `MessageTarget` at pointer `index` of `s` names. */
  #resolveTarget(s: StructRef, index: number): Hook {
    const r = this.#reader;
    const target = this.#target;
    r.struct(s, index, target);
    switch (r.u16(target, Field.target.which)) {
      case 0: { // importedCap
        const entry = this.#exports.get(r.u32(target, Field.target.importedCap));
        if (entry === undefined) throw new ProtocolError("Call target is not a current export ID.");
        return entry.hook.retain();
      }
      case 1: { // promisedAnswer
        const promised = this.#promised;
        r.struct(target, Field.target.promisedAnswer, promised);
        const answer = this.#answers.get(r.u32(promised, Field.promised.questionId));
        if (answer?.sent == null) {
          throw new ProtocolError("Pipeline call on a request that doesn't exist.");
        }
        return answer.sent.pipeline(this.#readTransform(promised));
      }
      default:
        throw new ProtocolError("Unknown message target type.");
    }
  }

  #returnResults(answer: Answer, response: Response): void {
    this.#stopRunning(answer);
    if (answer.returned || this.#error) {
      response.dispose();
      return;
    }
    if (answer.keepResults) {
      // A tail call: the caller takes these results from its own question.
      answer.returned = true;
      answer.response = response;
      this.#transport.send([returnMessage(answer.id, ReturnTag.resultsSentElsewhere)]);
      return this.#holdResults(answer, response.message);
    }
    const message = response.writable ? response.message : copyResults(response).message;
    const space = spaceOf(message);
    space.view.setUint32(space.start + RETURN_LAYOUT.ret, answer.id, true);
    const caps = capTableOf<Capability>(message);
    const exported = this.#writeCapTable(space, space.start + RETURN_LAYOUT.capTable, caps);
    // A copy's references were only needed to describe the caps; the original stays for pipelining.
    if (message !== response.message) releaseCaps(caps);
    const segments = segmentsOf(message);
    const oversize = this.#oversize(segments, "results");
    if (oversize !== null) {
      // The caller gets the error instead, and so do calls it pipelined on these results.
      this.#unexport(exported);
      answer.sent = failedSent(oversize);
      releaseBuffers(message);
      response.dispose();
      return this.#returnError(answer, oversize);
    }
    answer.returned = true;
    answer.response = response;
    answer.resultExports = exported;
    this.#send(message, segments);
    this.#holdResults(answer, response.message);
  }

  #stopRunning(answer: Answer): void {
    if (!answer.running) return;
    answer.running = false;
    this.#runningAnswers--;
    this.#runningBytes -= answer.runningBytes;
    RpcConnection.#running.change(this, -answer.runningBytes);
  }

  #returnError(answer: Answer, error: RpcError): void {
    this.#stopRunning(answer);
    if (answer.returned || this.#error) return;
    answer.returned = true;
    this.#transport.send([returnMessage(answer.id, ReturnTag.exception, exceptionOf(error))]);
  }

  #onReturn(frame: FrameView, check: FrameCheck, ret: StructRef): void {
    const r = this.#reader;
    const question = this.#questions.get(r.u32(ret, Field.ret.answerId));
    if (question === undefined || question.returned) {
      throw new ProtocolError("Invalid question ID in Return message.");
    }
    question.returned = true;
    // releaseParamCaps defaults to true: stored inverted. A canceled call's params count too.
    if (!r.bool(ret, Field.ret.releaseParamCapsBit)) this.#unexport(question.paramExports);
    if (question.canceled) {
      // Finish(releaseResultCaps) went first: the callee drops the caps; import nothing.
      this.#releaseQuestionId(question);
      return;
    }
    switch (r.u16(ret, Field.ret.which)) {
      case ReturnTag.results: {
        const payload = this.#payload;
        const hasResults = r.struct(ret, Field.ret.payload, payload);
        const message = messageFromFrame(frame, check);
        const caps = this.#readCapTable(message, payload);
        if (check.tooDeep) {
          releaseCaps(caps);
          return this.#completeQuestion(
            question,
            tooDeepError("results", this.#limits.nestingLimit),
          );
        }
        const content = hasResults && payload.ptrCount > Field.payload.content
          ? pointerAt(message, payload.seg, payload.ptrs + Field.payload.content * 8)
          : NULL_POINTER;
        return this.#completeQuestion(question, new Response(message, content, false));
      }
      case ReturnTag.exception:
        return this.#completeQuestion(question, this.#readException(ret, Field.ret.payload));
      case ReturnTag.canceled:
        return this.#completeQuestion(
          question,
          new RpcError("failed", "Call canceled.", { remote: true }),
        );
      case ReturnTag.takeFromOtherQuestion: {
        // The peer tail-called back into us: the results are those of our answer.
        const answer = this.#answers.get(r.u32(ret, Field.ret.takeFromOtherQuestion));
        if (answer?.sent == null) {
          throw new ProtocolError("Invalid 'takeFromOtherQuestion' answer ID.");
        }
        // As the C++ reference: only results kept for the purpose can be taken
        // (others may be written already, their buffers released).
        if (!answer.keepResults) {
          throw new ProtocolError(
            "'takeFromOtherQuestion' answer did not use sendResultsTo.yourself.",
          );
        }
        answer.sent.response.then(
          (response) => {
            let shared: Response;
            try {
              shared = shareResults(response);
            } catch (error) {
              return this.#completeQuestion(question, RpcError.from(error));
            }
            this.#completeQuestion(question, shared);
          },
          (error) => this.#completeQuestion(question, RpcError.from(error)),
        );
        return;
      }
      default:
        return this.#completeQuestion(
          question,
          new RpcError("unimplemented", "Unsupported Return variant (third-party results)."),
        );
    }
  }

  /**
   * Settles a question and its pipelines, then sends Finish: any Disembargo
   * the pipelines need goes out before it, while the answer still exists.
   */
  #completeQuestion(question: Question, outcome: Response | RpcError): void {
    if (this.#error) {
      if (outcome instanceof Response) outcome.dispose();
      return;
    }
    if (outcome instanceof Response) {
      question.settled = true;
      question.resolve(outcome);
      question.settlePipelines(outcome, this.#embargoPipeline);
    } else {
      this.#failQuestion(question, outcome);
    }
    if (!question.finishSent) {
      question.finishSent = true;
      this.#sendFinish(question.id, false);
    }
    this.#releaseQuestionId(question);
  }

  #failQuestion(question: Question, error: RpcError): void {
    question.settled = true;
    question.reject(error);
    question.settlePipelines(error);
  }

  /**
   * A promise that sent calls ahead over this connection and now resolves to
   * something not on it: those calls will come back round through the peer,
   * so new calls wait behind a Disembargo loopback.
   */
  #embargoIfLocal(promise: PromiseHook, target: Hook, via: Target): Promise<void> | undefined {
    const settled = target.settled;
    if (promise.sentAhead === 0 || this.#error) return undefined;
    if (settled instanceof BrokenHook || this.#routesHere(settled)) return undefined;
    const id = this.#nextEmbargoId++;
    this.#transport.send([disembargoMessage(via, DisembargoTag.senderLoopback, id)]);
    return new Promise((resolve) => this.#embargoes.set(id, resolve));
  }

  /** Whether calls on `hook` travel over this connection (so stay in order without an embargo). */
  #routesHere(hook: Hook): boolean {
    if (hook instanceof ImportHook) return hook.connection === this;
    if (hook instanceof ImportedPromise) return hook.imported.connection === this;
    return hook instanceof PromiseHook && !hook.isResolved && hook.answer?.owner === this;
  }

  #onFinish(questionId: number, releaseResultCaps: boolean): void {
    const answer = this.#answers.get(questionId);
    if (answer === undefined) throw new ProtocolError("Finish for unknown answer ID.");
    this.#answers.delete(questionId);
    this.#changeHeldResults(-answer.heldBytes);
    if (!answer.returned) {
      // Early Finish: cancel the call and retire the question now.
      answer.abort(new RpcError("failed", "Call canceled by the caller."));
      answer.returned = true;
      this.#transport.send([returnMessage(questionId, ReturnTag.canceled)]);
      return;
    }
    if (releaseResultCaps) this.#unexport(answer.resultExports);
    try {
      answer.response?.dispose();
    } catch { /* a server's dispose failed; it has ended all the same */ }
  }

  #onBootstrap(questionId: number): void {
    const answer = this.#newAnswer(questionId);
    if (this.#bootstrap === null) {
      const error = new RpcError("failed", "No bootstrap interface.");
      answer.sent = failedSent(error);
      return this.#returnError(answer, error);
    }
    const { message, content } = newReturnMessage();
    capnp.utils.setInterfacePointer(0, content);
    capTableOf<Capability>(message).push(this.#bootstrap.dup());
    const response = new Response(message, content, true);
    answer.sent = {
      response: Promise.resolve(response),
      pipeline: (path) => response.hookAt(path),
    };
    this.#returnResults(answer, response);
  }

  #onResolve(resolve: StructRef): void {
    const r = this.#reader;
    const imported = this.#imports.get(r.u32(resolve, Field.resolve.promiseId));
    let target: Hook | null;
    if (r.u16(resolve, Field.resolve.which) === 0) {
      r.struct(resolve, Field.resolve.body, this.#descriptor);
      target = this.#readDescriptor(this.#descriptor);
    } else {
      target = new BrokenHook(this.#readException(resolve, Field.resolve.body)).retain();
    }
    const promise = imported?.promise;
    if (promise == null || promise.isResolved) {
      // Released meanwhile (or not a promise): drop what the peer sent.
      target?.release();
      return;
    }
    const resolved = target ??
      new BrokenHook(new RpcError("failed", "Promise resolved to null.")).retain();
    promise.resolve(resolved, this.#embargoIfLocal(promise, resolved, { importId: imported!.id }));
  }

  #onDisembargo(frame: FrameView, check: FrameCheck, disembargo: StructRef): void {
    const r = this.#reader;
    const id = r.u32(disembargo, Field.disembargo.id);
    switch (r.u16(disembargo, Field.disembargo.which)) {
      case DisembargoTag.senderLoopback: {
        const hook = this.#resolveTarget(disembargo, Field.disembargo.target);
        const settled = hook.settled;
        hook.release();
        if (!(settled instanceof ImportHook) || settled.connection !== this) {
          throw new ProtocolError(
            "'Disembargo' of type 'senderLoopback' sent to an object that does not point back to the sender.",
          );
        }
        // Calls to the target were forwarded synchronously, so they are
        // already ahead of this reply on the wire.
        this.#transport.send([
          disembargoMessage({ importId: settled.id }, DisembargoTag.receiverLoopback, id),
        ]);
        return;
      }
      case DisembargoTag.receiverLoopback: {
        const lift = this.#embargoes.get(id);
        if (lift === undefined) throw new ProtocolError("Invalid embargo ID.");
        this.#embargoes.delete(id);
        lift();
        return;
      }
      default:
        return this.#replyUnimplemented(frame, check);
    }
  }

  /** The peer did not implement a message we sent: `echoed` is our message, sent back. */
  #onUnimplemented(echoed: StructRef): void {
    const r = this.#reader;
    const body = this.#echoedBody;
    const which = r.u16(echoed, Field.message.which);
    switch (which) {
      case MessageTag.call:
      case MessageTag.bootstrap: {
        r.struct(echoed, 0, body);
        // questionId is the first field of both.
        const question = this.#questions.get(r.u32(body, Field.call.questionId));
        if (question && !question.returned) {
          // As an exception Return with the default releaseParamCaps = true.
          this.#unexport(question.paramExports);
          question.returned = true;
          this.#failQuestion(
            question,
            new RpcError("unimplemented", "Peer does not implement this call."),
          );
          this.#releaseQuestionId(question);
        }
        return;
      }
      case MessageTag.resolve: {
        // The peer ignored our Resolve: drop the reference it would have taken.
        r.struct(echoed, 0, body);
        if (r.u16(body, Field.resolve.which) !== 0) return;
        const descriptor = this.#descriptor;
        r.struct(body, Field.resolve.body, descriptor);
        if (r.u16(descriptor, Field.descriptor.which) === DescriptorTag.senderHosted) {
          const id = r.u32(descriptor, Field.descriptor.id);
          if (this.#exports.has(id)) this.#releaseExport(id, 1);
        }
        return;
      }
      default:
        return;
    }
  }

  /** Sends the received message back as `unimplemented` (rare: capnp-es copies it). */
  #replyUnimplemented(frame: FrameView, check: FrameCheck): void {
    // The echo is a deep copy: pointers that share what they point at would
    // each get their own copy, a few hundred bytes growing to megabytes.
    // Without sharing, the copy is no larger than the message.
    const bytes = check.messageWords * 8;
    const copied = (check.words - check.emptyWords) * 8;
    if (check.tooDeep || copied > bytes) {
      throw new ProtocolError(
        `Unknown message whose echo would copy ${copied} bytes out of ${bytes}: ` +
          "its pointers share what they point at" + (check.tooDeep ? ", or loop." : "."),
      );
    }
    const reply = newMessage();
    reply.initRoot(RpcMessage).unimplemented = messageFromSegments(frame.owned()).getRoot(
      RpcMessage,
    );
    this.#send(reply);
  }

  // ---- Teardown ----

  /**
   * Sends Abort with `reason` and closes. Only a peer that keeps up gets the
   * Abort: behind more than {@linkcode ABORT_FLUSH_BYTES} it has not read, the
   * connection closes at once instead of keeping its queue while it flushes.
   */
  #abort(reason: string): void {
    if (this.#error) return;
    this.#broken = true;
    if (this.#transport.queuedBytes <= ABORT_FLUSH_BYTES) {
      const { type } = exceptionOf(new RpcError("failed", reason));
      this.#transport.send([abortMessage(reason, type)]);
      this.#transport.close(undefined, true);
    } else {
      this.#transport.close();
    }
    this.#shutdown(new RpcError("disconnected", `Connection aborted: ${reason}`));
  }

  /** Fails everything pending and drops every table entry, once. */
  #shutdown(error: RpcError): void {
    if (this.#error) return;
    this.#error = error;
    // Given back first: what follows runs servers' code, which may throw.
    this.#changeHeldResults(-this.#heldResultBytes);
    RpcConnection.#held.leave(this);
    // Its calls still running give their bytes back as they end.
    RpcConnection.#running.leave(this);
    for (const question of this.#questions.values()) {
      if (!question.settled && !question.canceled) this.#failQuestion(question, error);
      question.returned = true; // nothing more will come
    }
    this.#questions.clear();
    for (const answer of this.#answers.values()) {
      ignoringFailure(() => answer.abort(error));
      ignoringFailure(() => answer.response?.dispose());
    }
    this.#answers.clear();
    for (const lift of this.#embargoes.values()) lift();
    this.#embargoes.clear();
    const exports = [...this.#exports.values()];
    this.#exports.clear();
    this.#exportIds.clear();
    // A server whose dispose throws has ended all the same; the rest still go.
    for (const entry of exports) ignoringFailure(() => entry.hook.release());
    this.#imports.clear();
    ignoringFailure(() => this.#bootstrap?.dispose());
    this.#resolveClosed(error);
  }
}

/** An error as the fields of a wire `Exception`. */
function exceptionOf(error: RpcError): { reason: string; type: number } {
  return { reason: error.message, type: ERROR_TYPES.indexOf(error.type) };
}

/** Copies a call received from elsewhere into a fresh message for this connection. */
function copyCall(call: CallMessage): capnp.Message {
  const { message, content } = newCallMessage(call.interfaceId, call.methodId);
  copyContent(call.params, content);
  return message;
}

/** A second response over the same results, holding its own capability references. */
function shareResults(response: Response): Response {
  const { message, content } = copyResults(response);
  return new Response(message, content, true);
}

/** Copies a response's results into a fresh Return message. */
function copyResults(response: Response): { message: capnp.Message; content: capnp.Pointer } {
  const copy = newReturnMessage();
  copyContent(response.content, copy.content);
  return copy;
}

/**
 * Copies `from` into the empty pointer `into`. capnp-es renumbers
 * capabilities into the destination's table in copy order, sharing the
 * handles; the copy then takes references of its own.
 */
function copyContent(from: capnp.Pointer, into: capnp.Pointer): void {
  capnp.utils.copyFrom(from, into);
  const caps = capTableOf<Capability>(into.segment.message);
  for (let i = 0; i < caps.length; i++) caps[i] = caps[i]?.dup() ?? null;
}

/**
 * This side's questions by id. The ids come from a free list starting at
 * zero, so an array indexed by them stays as long as the most questions
 * outstanding at once (`maxQuestions` at most), and unlike a `Map` it does
 * not reallocate as entries come and go, every few calls. (Answers are
 * keyed by the peer's ids, any 32-bit number: they stay in a `Map`, which
 * holds only what is present.)
 */
class QuestionTable {
  readonly #slots: (Question | undefined)[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(id: number): Question | undefined {
    return this.#slots[id];
  }

  set(id: number, question: Question): void {
    if (this.#slots[id] === undefined) this.#size++;
    this.#slots[id] = question;
  }

  delete(id: number): void {
    if (this.#slots[id] === undefined) return;
    this.#slots[id] = undefined;
    this.#size--;
  }

  /** The questions present, in id order. */
  values(): Question[] {
    return this.#slots.filter((question) => question !== undefined);
  }

  clear(): void {
    this.#slots.length = 0;
    this.#size = 0;
  }
}
