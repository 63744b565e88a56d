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
import {
  Call_SendResultsTo,
  type CapDescriptor,
  Disembargo_Context,
  type Exception,
  Message as RpcMessage,
  MessageTarget,
  type Payload,
  type PromisedAnswer,
  Resolve as RpcResolve,
  Return as RpcReturn,
} from "capnp-es/capnp/rpc";
import { type Frame, FramingError } from "../framing.ts";
import {
  type ByteChannel,
  DEFAULT_TRANSPORT_LIMITS,
  FrameTransport,
  PeerLimitError,
  type TransportLimits,
} from "../transport.ts";
import { DEFAULT_READ_LIMITS, type ReadLimits, validateMessage } from "../validate.ts";
import {
  BrokenHook,
  type CallMessage,
  Capability,
  failedSent,
  Hook,
  PipelineSet,
  PromiseHook,
  releaseCaps,
  Response,
  type Sent,
} from "./capability.ts";
import { ERROR_TYPES, RpcError } from "./errors.ts";
import { capTableOf, messageBytes, messageFromFrame, newMessage, segmentsOf } from "./message.ts";

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
   * kept for calls pipelined on them until the Finish). A Return that takes
   * them over this aborts the connection; one answer of any size may always
   * be kept when no other is. C++ has no such limit. Default 64 MiB.
   */
  maxUnfinishedResultBytes: number;
}

/** Default limits (see {@linkcode RpcLimits} for each one's origin). */
export const DEFAULT_RPC_LIMITS: Readonly<RpcLimits> = Object.freeze({
  ...DEFAULT_TRANSPORT_LIMITS,
  ...DEFAULT_READ_LIMITS,
  maxQuestions: 8192,
  maxAnswers: 1024,
  maxUnfinishedAnswers: 8192,
  maxUnfinishedResultBytes: 64 * 1024 * 1024,
});

/** Options for {@linkcode RpcConnection}. */
export interface ConnectionOptions {
  /** The capability the peer gets from Bootstrap. The connection keeps its own reference. */
  bootstrap?: Capability;
  /** Limits against the peer; unset fields take {@linkcode DEFAULT_RPC_LIMITS}. */
  limits?: Partial<RpcLimits>;
}

/** The most bytes queued for a peer that is still sent an Abort (see `#abort`). */
const ABORT_FLUSH_BYTES = 64 * 1024;

/** The error every call sees once the peer is gone. */
export function disconnectedError(): RpcError {
  return new RpcError("disconnected", "Peer disconnected.");
}

class Question {
  readonly id: number;
  readonly pipelines: PipelineSet;
  resolve!: (response: Response) => void;
  reject!: (error: RpcError) => void;
  readonly response: Promise<Response>;
  /** Exports made for this call's params, released if the Return says so. */
  paramExports: number[] = [];
  returned = false;
  finishSent = false;
  /** Set when the caller canceled: the Return is then discarded. */
  canceled = false;

  constructor(id: number, pipelines: PipelineSet) {
    this.id = id;
    this.pipelines = pipelines;
    this.response = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.response.catch(() => {});
  }
}

class Answer {
  readonly id: number;
  #controller: AbortController | null = null;
  sent: Sent | null = null;
  /** The results as returned, kept for pipelined calls until Finish. */
  response: Response | null = null;
  resultExports: number[] = [];
  returned = false;
  /** The caller asked for the results to stay here (`sendResultsTo.yourself`, a tail call). */
  keepResults = false;
  /** Counted against `maxAnswers` until it returns. */
  running = false;
  /** Bytes of `response` counted against `maxUnfinishedResultBytes` until Finish. */
  heldBytes = 0;

  constructor(id: number) {
    this.id = id;
  }

  /** Aborts when the caller cancels or disconnects (made on first use: most calls never look). */
  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  abort(reason: RpcError): void {
    this.#controller?.abort(reason);
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
    this.connection.releaseImport(this);
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

type Target = { importId: number } | { questionId: number; path: readonly number[] };

/** A protocol violation by the peer: the connection is aborted with this reason. */
class ProtocolError extends Error {}

/**
 * An RPC connection over a byte channel. Serves `options.bootstrap` to the
 * peer and gives access to the peer's with {@linkcode RpcConnection.bootstrap}.
 *
 * @example
 * ```ts ignore
 * import { RpcConnection } from "./connection.ts";
 * const conn = await Deno.connect({ transport: "unix", path: "/tmp/tester.sock" });
 * await using rpc = new RpcConnection(conn);
 * using tester = rpc.bootstrap();
 * ```
 */
export class RpcConnection implements AsyncDisposable {
  readonly #transport: FrameTransport;
  readonly #limits: RpcLimits;
  readonly #bootstrap: Capability | null;
  readonly #questions = new Map<number, Question>();
  readonly #freeQuestionIds: number[] = [];
  #nextQuestionId = 0;
  readonly #answers = new Map<number, Answer>();
  #runningAnswers = 0;
  /** Bytes of results held for unfinished answers. */
  #heldResultBytes = 0;
  readonly #imports = new Map<number, ImportHook>();
  readonly #exports = new Map<number, Export>();
  readonly #exportIds = new Map<Hook, number>();
  readonly #freeExportIds: number[] = [];
  #nextExportId = 0;
  readonly #embargoes = new Map<number, () => void>();
  #nextEmbargoId = 0;
  #error: RpcError | null = null;
  readonly #closed: Promise<RpcError>;
  #resolveClosed!: (error: RpcError) => void;

  constructor(channel: ByteChannel, options: ConnectionOptions = {}) {
    this.#limits = { ...DEFAULT_RPC_LIMITS, ...options.limits };
    this.#bootstrap = options.bootstrap?.dup() ?? null;
    this.#closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#transport = new FrameTransport(channel, (frame) => this.#receive(frame), this.#limits);
    this.#transport.closed.then((reason) => {
      this.#shutdown(
        reason === undefined ? disconnectedError() : new RpcError(
          "disconnected",
          reason instanceof PeerLimitError || reason instanceof FramingError
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
    const message = newMessage();
    message.initRoot(RpcMessage)._initBootstrap().questionId = question.id;
    this.#send(message);
    const capability = new Capability(question.pipelines.get([]));
    // Nobody else sees this response: the pipeline took its own reference.
    question.response.then((response) => response.dispose(), () => {});
    return capability;
  }

  /** Closes the connection; every pending and later call fails as disconnected. */
  close(): Promise<void> {
    this.#transport.close(undefined, true);
    return this.#closed.then(() => {});
  }

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
    const envelope = message.getRoot(RpcMessage).call;
    envelope.questionId = question.id;
    writeTarget(envelope._initTarget(), target);
    const caps = capTableOf<Capability>(message);
    question.paramExports = this.#writeCapTable(envelope.params, caps);
    releaseCaps(caps);
    releaseCaps(call.caps);
    this.#send(message);
    if (call.signal) {
      const signal = call.signal;
      const onAbort = () => this.#cancelQuestion(question, signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      const detach = () => signal.removeEventListener("abort", onAbort);
      question.response.then(detach, detach);
    }
    return { response: question.response, pipeline: (path) => question.pipelines.get(path) };
  }

  #failCall(call: CallMessage, error: RpcError): Sent {
    releaseCaps(call.caps);
    return failedSent(error);
  }

  #newQuestion(): Question | null {
    if (this.#questions.size >= this.#limits.maxQuestions) return null;
    const id = this.#freeQuestionIds.pop() ?? this.#nextQuestionId++;
    const pipelines = new PipelineSet((path) =>
      new PromiseHook(
        (call) => this.sendCall(call, { questionId: id, path }),
        { owner: this, questionId: id, path },
      )
    );
    const question = new Question(id, pipelines);
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
    question.pipelines.resolve(() => new BrokenHook(error).retain());
  }

  #sendFinish(questionId: number, releaseResultCaps: boolean): void {
    const message = newMessage();
    const finish = message.initRoot(RpcMessage)._initFinish();
    finish.questionId = questionId;
    finish.releaseResultCaps = releaseResultCaps;
    // Nobody waits on a Finish: let it ride with the next message out.
    this.#transport.send(segmentsOf(message), true);
  }

  // ---- Capability descriptors ----

  /** Writes a cap table for `caps`; returns the export ids it added references to. */
  #writeCapTable(payload: Payload, caps: readonly (Capability | null)[]): number[] {
    const exported: number[] = [];
    if (caps.length === 0) return exported;
    const table = payload._initCapTable(caps.length);
    for (let i = 0; i < caps.length; i++) {
      const cap = caps[i];
      const id = this.#writeDescriptor(table.get(i), cap && !cap.disposed ? cap.hook : null);
      if (id !== null) exported.push(id);
    }
    return exported;
  }

  /** Describes `hook` to the peer; returns the export id when one was referenced. */
  #writeDescriptor(descriptor: CapDescriptor, hook: Hook | null): number | null {
    if (hook === null) {
      descriptor.none = true;
      return null;
    }
    const settled = hook.settled;
    if (settled instanceof ImportHook && settled.connection === this) {
      descriptor.receiverHosted = settled.id;
      return null;
    }
    if (settled instanceof PromiseHook && settled.answer?.owner === this && !settled.isResolved) {
      writePromisedAnswer(descriptor._initReceiverAnswer(), settled.answer);
      return null;
    }
    const id = this.#export(settled);
    if (settled instanceof PromiseHook && !settled.isResolved) {
      descriptor.senderPromise = id;
    } else {
      descriptor.senderHosted = id;
    }
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
    const message = newMessage();
    const resolve = message.initRoot(RpcMessage)._initResolve();
    resolve.promiseId = id;
    if (target instanceof BrokenHook) {
      writeException(resolve._initException(), target.error);
    } else {
      this.#writeDescriptor(resolve._initCap(), target);
    }
    this.#send(message);
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
    entry.hook.release();
  }

  /** Reads a received cap table into handles owned by `message`. */
  #readCapTable(message: capnp.Message, payload: Payload): (Capability | null)[] {
    const caps = capTableOf<Capability>(message);
    if (!payload._hasCapTable()) return caps;
    const table = payload.capTable;
    for (let i = 0; i < table.length; i++) {
      const hook = this.#readDescriptor(table.get(i));
      caps.push(hook === null ? null : new Capability(hook));
    }
    return caps;
  }

  /** The (retained) hook a received descriptor names, or null for `none`. */
  #readDescriptor(descriptor: CapDescriptor): Hook | null {
    switch (descriptor.which()) {
      case 0: // none
        return null;
      case 1: // senderHosted
        return this.#importHook(descriptor.senderHosted).retain();
      case 2: { // senderPromise
        const imported = this.#importHook(descriptor.senderPromise);
        imported.promise ??= new ImportedPromise(imported.retain());
        return imported.promise.retain();
      }
      case 3: { // receiverHosted
        const entry = this.#exports.get(descriptor.receiverHosted);
        if (entry === undefined) {
          return new BrokenHook(new RpcError("failed", "Invalid 'receiverHosted' export ID."))
            .retain();
        }
        return entry.hook.retain();
      }
      case 4: { // receiverAnswer
        const promised = descriptor.receiverAnswer;
        const answer = this.#answers.get(promised.questionId);
        if (answer?.sent == null) {
          return new BrokenHook(new RpcError("failed", "Invalid 'receiverAnswer' question ID."))
            .retain();
        }
        return answer.sent.pipeline(readTransform(promised));
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

  /** Called when nothing here references an import any more. */
  releaseImport(hook: ImportHook): void {
    if (this.#imports.get(hook.id) !== hook) return;
    this.#imports.delete(hook.id);
    if (this.#error) return; // the peer dropped everything already
    const message = newMessage();
    const release = message.initRoot(RpcMessage)._initRelease();
    release.id = hook.id;
    release.referenceCount = hook.remoteRefs;
    this.#send(message);
  }

  // ---- Receiving ----

  #send(message: capnp.Message): void {
    this.#transport.send(segmentsOf(message));
  }

  #receive(frame: Frame): void {
    if (this.#error) return;
    try {
      validateMessage(frame, this.#limits);
      const message = messageFromFrame(frame);
      this.#dispatch(message, message.getRoot(RpcMessage));
    } catch (error) {
      this.#abort(error instanceof Error ? error.message : String(error));
    }
  }

  #dispatch(message: capnp.Message, root: RpcMessage): void {
    switch (root.which()) {
      case RpcMessage.CALL:
        return this.#onCall(message, root);
      case RpcMessage.RETURN:
        return this.#onReturn(message, root.return);
      case RpcMessage.FINISH:
        return this.#onFinish(root.finish.questionId, root.finish.releaseResultCaps);
      case RpcMessage.RELEASE:
        return this.#releaseExport(root.release.id, root.release.referenceCount);
      case RpcMessage.BOOTSTRAP:
        return this.#onBootstrap(root.bootstrap.questionId);
      case RpcMessage.RESOLVE:
        return this.#onResolve(root.resolve);
      case RpcMessage.DISEMBARGO:
        return this.#onDisembargo(message, root);
      case RpcMessage.ABORT: {
        const error = readException(root.abort);
        this.#transport.close();
        return this.#shutdown(error);
      }
      case RpcMessage.UNIMPLEMENTED:
        return this.#onUnimplemented(root.unimplemented);
      default:
        return this.#replyUnimplemented(message);
    }
  }

  #onCall(message: capnp.Message, root: RpcMessage): void {
    const call = root.call;
    const id = call.questionId;
    const answer = this.#newAnswer(id);
    const target = this.#resolveTarget(call.target);
    const params = call.params;
    const caps = this.#readCapTable(message, params);
    const sendTo = call.sendResultsTo.which();
    const refusal = sendTo === Call_SendResultsTo.THIRD_PARTY
      ? new RpcError("unimplemented", "Third-party result delivery is not supported.")
      : this.#runningAnswers >= this.#limits.maxAnswers
      ? new RpcError("overloaded", "Too many calls in progress.")
      : null;
    if (refusal !== null) {
      // Refused, but still an answer: calls pipelined on it fail the same way.
      target.release();
      releaseCaps(caps);
      answer.sent = failedSent(refusal);
      return this.#returnError(answer, refusal);
    }
    answer.keepResults = sendTo === Call_SendResultsTo.YOURSELF;
    answer.running = true;
    this.#runningAnswers++;
    const sent = target.send({
      interfaceId: call.interfaceId,
      methodId: call.methodId,
      message,
      params: params.content,
      caps,
      writable: false,
      origin: this,
      get signal() {
        return answer.signal;
      },
    });
    target.release();
    answer.sent = sent;
    sent.response.then(
      (response) => this.#returnResults(answer, response),
      (error) => this.#returnError(answer, RpcError.from(error)),
    );
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
    answer.heldBytes = messageBytes(message);
    const others = this.#heldResultBytes;
    this.#heldResultBytes += answer.heldBytes;
    if (others > 0 && this.#heldResultBytes > this.#limits.maxUnfinishedResultBytes) {
      this.#abort(
        `Too many results held: the peer left ${this.#heldResultBytes} bytes of results ` +
          `without a Finish (maxUnfinishedResultBytes).`,
      );
    }
  }

  /** The (retained) hook a message target names. */
  #resolveTarget(target: MessageTarget): Hook {
    if (target.which() === MessageTarget.IMPORTED_CAP) {
      const entry = this.#exports.get(target.importedCap);
      if (entry === undefined) throw new ProtocolError("Call target is not a current export ID.");
      return entry.hook.retain();
    }
    const promised = target.promisedAnswer;
    const answer = this.#answers.get(promised.questionId);
    if (answer?.sent == null) {
      throw new ProtocolError("Pipeline call on a request that doesn't exist.");
    }
    return answer.sent.pipeline(readTransform(promised));
  }

  #returnResults(answer: Answer, response: Response): void {
    this.#stopRunning(answer);
    if (answer.returned || this.#error) {
      response.dispose();
      return;
    }
    answer.returned = true;
    answer.response = response;
    if (answer.keepResults) {
      // A tail call: the caller takes these results from its own question.
      const message = newMessage();
      const ret = message.initRoot(RpcMessage)._initReturn();
      ret.answerId = answer.id;
      ret.releaseParamCaps = false;
      ret.resultsSentElsewhere = true;
      this.#send(message);
      return this.#holdResults(answer, response.message);
    }
    const message = response.writable ? response.message : copyResults(response);
    const ret = message.getRoot(RpcMessage).return;
    ret.answerId = answer.id;
    ret.releaseParamCaps = false;
    answer.resultExports = this.#writeCapTable(ret.results, capTableOf<Capability>(message));
    // A copy's references were only needed to describe the caps; the original stays for pipelining.
    if (message !== response.message) releaseCaps(capTableOf<Capability>(message));
    this.#send(message);
    this.#holdResults(answer, response.message);
  }

  #stopRunning(answer: Answer): void {
    if (!answer.running) return;
    answer.running = false;
    this.#runningAnswers--;
  }

  #returnError(answer: Answer, error: RpcError): void {
    this.#stopRunning(answer);
    if (answer.returned || this.#error) return;
    answer.returned = true;
    const message = newMessage();
    const ret = message.initRoot(RpcMessage)._initReturn();
    ret.answerId = answer.id;
    ret.releaseParamCaps = false;
    writeException(ret._initException(), error);
    this.#send(message);
  }

  #onReturn(message: capnp.Message, ret: RpcReturn): void {
    const question = this.#questions.get(ret.answerId);
    if (question === undefined || question.returned) {
      throw new ProtocolError("Invalid question ID in Return message.");
    }
    question.returned = true;
    if (question.canceled) {
      // Finish(releaseResultCaps) went first: the callee drops the caps; import nothing.
      this.#releaseQuestionId(question);
      return;
    }
    if (ret.releaseParamCaps) {
      for (const id of question.paramExports) {
        if (this.#exports.has(id)) this.#releaseExport(id, 1);
      }
    }
    switch (ret.which()) {
      case RpcReturn.RESULTS: {
        const results = ret.results;
        this.#readCapTable(message, results);
        return this.#completeQuestion(question, new Response(message, results.content, false));
      }
      case RpcReturn.EXCEPTION:
        return this.#completeQuestion(question, readException(ret.exception));
      case RpcReturn.CANCELED:
        return this.#completeQuestion(
          question,
          new RpcError("failed", "Call canceled.", { remote: true }),
        );
      case RpcReturn.TAKE_FROM_OTHER_QUESTION: {
        // The peer tail-called back into us: the results are those of our answer.
        const answer = this.#answers.get(ret.takeFromOtherQuestion);
        if (answer?.sent == null) {
          throw new ProtocolError("Invalid 'takeFromOtherQuestion' answer ID.");
        }
        answer.sent.response.then(
          (response) => this.#completeQuestion(question, shareResults(response)),
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
      question.resolve(outcome);
      question.pipelines.resolve(
        (path) => outcome.hookAt(path),
        (path, promise, target) =>
          this.#embargoIfLocal(promise, target, { questionId: question.id, path }),
      );
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
    question.reject(error);
    question.pipelines.resolve(() => new BrokenHook(error).retain());
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
    const message = newMessage();
    const disembargo = message.initRoot(RpcMessage)._initDisembargo();
    writeTarget(disembargo._initTarget(), via);
    disembargo._initContext().senderLoopback = id;
    this.#send(message);
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
    this.#heldResultBytes -= answer.heldBytes;
    if (!answer.returned) {
      // Early Finish: cancel the call and retire the question now.
      answer.abort(new RpcError("failed", "Call canceled by the caller."));
      answer.returned = true;
      const message = newMessage();
      const ret = message.initRoot(RpcMessage)._initReturn();
      ret.answerId = questionId;
      ret.releaseParamCaps = false;
      ret.canceled = true;
      this.#send(message);
      return;
    }
    if (releaseResultCaps) {
      for (const id of answer.resultExports) {
        if (this.#exports.has(id)) this.#releaseExport(id, 1);
      }
    }
    answer.response?.dispose();
  }

  #onBootstrap(questionId: number): void {
    const answer = this.#newAnswer(questionId);
    if (this.#bootstrap === null) {
      const error = new RpcError("failed", "No bootstrap interface.");
      answer.sent = failedSent(error);
      return this.#returnError(answer, error);
    }
    const message = newMessage();
    const content = message.initRoot(RpcMessage)._initReturn()._initResults().content;
    capnp.utils.setInterfacePointer(0, content);
    capTableOf<Capability>(message).push(this.#bootstrap.dup());
    const response = new Response(message, content, true);
    answer.sent = {
      response: Promise.resolve(response),
      pipeline: (path) => response.hookAt(path),
    };
    this.#returnResults(answer, response);
  }

  #onResolve(resolve: RpcResolve): void {
    const imported = this.#imports.get(resolve.promiseId);
    const target = resolve.which() === RpcResolve.CAP
      ? this.#readDescriptor(resolve.cap)
      : new BrokenHook(readException(resolve.exception)).retain();
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

  #onDisembargo(message: capnp.Message, root: RpcMessage): void {
    const disembargo = root.disembargo;
    const context = disembargo.context;
    switch (context.which()) {
      case Disembargo_Context.SENDER_LOOPBACK: {
        const hook = this.#resolveTarget(disembargo.target);
        const settled = hook.settled;
        hook.release();
        if (!(settled instanceof ImportHook) || settled.connection !== this) {
          throw new ProtocolError(
            "'Disembargo' of type 'senderLoopback' sent to an object that does not point back to the sender.",
          );
        }
        // Calls to the target were forwarded synchronously, so they are
        // already ahead of this reply on the wire.
        const reply = newMessage();
        const back = reply.initRoot(RpcMessage)._initDisembargo();
        back._initTarget().importedCap = settled.id;
        back._initContext().receiverLoopback = context.senderLoopback;
        this.#send(reply);
        return;
      }
      case Disembargo_Context.RECEIVER_LOOPBACK: {
        const lift = this.#embargoes.get(context.receiverLoopback);
        if (lift === undefined) throw new ProtocolError("Invalid embargo ID.");
        this.#embargoes.delete(context.receiverLoopback);
        lift();
        return;
      }
      default:
        return this.#replyUnimplemented(message);
    }
  }

  #onUnimplemented(echoed: RpcMessage): void {
    switch (echoed.which()) {
      case RpcMessage.CALL:
      case RpcMessage.BOOTSTRAP: {
        const id = echoed.which() === RpcMessage.CALL
          ? echoed.call.questionId
          : echoed.bootstrap.questionId;
        const question = this.#questions.get(id);
        if (question && !question.returned) {
          // As an exception Return with the default releaseParamCaps = true.
          for (const exported of question.paramExports) {
            if (this.#exports.has(exported)) this.#releaseExport(exported, 1);
          }
          question.returned = true;
          this.#failQuestion(
            question,
            new RpcError("unimplemented", "Peer does not implement this call."),
          );
          this.#releaseQuestionId(question);
        }
        return;
      }
      case RpcMessage.RESOLVE: {
        // The peer ignored our Resolve: drop the reference it would have taken.
        const resolve = echoed.resolve;
        if (resolve.which() === RpcResolve.CAP && resolve.cap.which() === 1) {
          const id = resolve.cap.senderHosted;
          if (this.#exports.has(id)) this.#releaseExport(id, 1);
        }
        return;
      }
      default:
        return;
    }
  }

  #replyUnimplemented(message: capnp.Message): void {
    const reply = newMessage();
    reply.initRoot(RpcMessage).unimplemented = message.getRoot(RpcMessage);
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
    if (this.#transport.queuedBytes <= ABORT_FLUSH_BYTES) {
      const message = newMessage();
      writeException(message.initRoot(RpcMessage)._initAbort(), new RpcError("failed", reason));
      this.#send(message);
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
    for (const question of [...this.#questions.values()]) {
      if (!question.returned && !question.canceled) this.#failQuestion(question, error);
    }
    this.#questions.clear();
    for (const answer of this.#answers.values()) {
      answer.abort(error);
      answer.response?.dispose();
    }
    this.#answers.clear();
    this.#heldResultBytes = 0;
    for (const lift of this.#embargoes.values()) lift();
    this.#embargoes.clear();
    const exports = [...this.#exports.values()];
    this.#exports.clear();
    this.#exportIds.clear();
    for (const entry of exports) entry.hook.release();
    this.#imports.clear();
    this.#bootstrap?.dispose();
    this.#resolveClosed(error);
  }
}

function canceledError(reason: unknown): RpcError {
  return new RpcError("failed", "Call canceled.", { cause: reason });
}

function writeTarget(target: MessageTarget, to: Target): void {
  if ("importId" in to) target.importedCap = to.importId;
  else writePromisedAnswer(target._initPromisedAnswer(), to);
}

function writePromisedAnswer(
  promised: PromisedAnswer,
  to: { questionId: number; path: readonly number[] },
): void {
  promised.questionId = to.questionId;
  if (to.path.length === 0) return;
  const ops = promised._initTransform(to.path.length);
  to.path.forEach((field, i) => ops.get(i).getPointerField = field);
}

function readTransform(promised: PromisedAnswer): number[] {
  if (!promised._hasTransform()) return [];
  const path: number[] = [];
  const ops = promised.transform;
  for (let i = 0; i < ops.length; i++) {
    const op = ops.get(i);
    if (op.which() === 1) path.push(op.getPointerField);
  }
  return path;
}

function writeException(exception: Exception, error: RpcError): void {
  exception.reason = error.message;
  exception.type = ERROR_TYPES.indexOf(error.type) as Exception["type"];
}

function readException(exception: Exception): RpcError {
  const type = ERROR_TYPES[exception.type] ?? "failed";
  return new RpcError(type, exception.reason, { remote: true });
}

/** Copies a call received from elsewhere into a fresh message for this connection. */
function copyCall(call: CallMessage): capnp.Message {
  const message = newMessage();
  const envelope = message.initRoot(RpcMessage)._initCall();
  envelope.interfaceId = call.interfaceId;
  envelope.methodId = call.methodId;
  copyContent(call.params, envelope._initParams().content);
  return message;
}

/** A second response over the same results, holding its own capability references. */
function shareResults(response: Response): Response {
  const message = copyResults(response);
  return new Response(message, message.getRoot(RpcMessage).return.results.content, true);
}

/** Copies a response's results into a fresh Return message. */
function copyResults(response: Response): capnp.Message {
  const message = newMessage();
  copyContent(response.content, message.initRoot(RpcMessage)._initReturn()._initResults().content);
  return message;
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
