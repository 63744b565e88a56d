/**
 * A scripted raw RPC peer for protocol tests: the far end of a real UNIX
 * socket that writes hand-built Cap'n Proto RPC messages and decodes exactly
 * what the engine under test sends back.
 *
 * Every wait here has a timeout that rejects, so a missing message fails the
 * test instead of hanging it.
 *
 * @module
 */
import * as capnp from "capnp-es";
import {
  CapDescriptor,
  type Exception,
  Message as RpcMessage,
  MessageTarget,
  type Payload,
  type PromisedAnswer,
  PromisedAnswer_Op,
  type Return as RpcReturn,
} from "capnp-es/capnp/rpc";
import { FrameDecoder } from "../runtime/framing.ts";
import { messageFromSegments } from "../runtime/rpc/message.ts";
import { DEFAULT_TIMEOUT_MS, tempSocket, withTimeout } from "./helpers.ts";

/** Two connected ends of a UNIX socket in a fresh temporary directory. */
export async function socketPair(): Promise<[Deno.UnixConn, Deno.UnixConn]> {
  using socket = tempSocket("pair");
  using listener = Deno.listen({ transport: "unix", path: socket.path });
  const accepted = listener.accept();
  const connected = await Deno.connect({ transport: "unix", path: socket.path });
  return [await accepted, connected];
}

/** The Tester interface's method ordinals (`examples/schemas/testing.capnp`), for hand-built calls. */
export const TESTER_METHOD = {
  add: 0,
  echo: 1,
  echoText: 2,
  makeCounter: 3,
  callBack: 4,
  fail: 5,
  wait: 6,
  liveObjects: 7,
  canceledCount: 8,
  hold: 9,
  releaseHeld: 10,
  echoCap: 11,
} as const;

/** Builds one RPC message with `fill`. */
export function buildMessage(fill: (root: RpcMessage) => void): capnp.Message {
  const message = new capnp.Message();
  fill(message.initRoot(RpcMessage));
  return message;
}

const WHICH_NAMES: Record<number, string> = {
  0: "Unimplemented",
  1: "Abort",
  2: "Call",
  3: "Return",
  4: "Finish",
  5: "Resolve",
  6: "Release",
  7: "ObsoleteSave",
  8: "Bootstrap",
  9: "ObsoleteDelete",
  10: "Provide",
  11: "Accept",
  12: "Join",
  13: "Disembargo",
};

/** The name of an RPC message's union member, for assertion messages. */
export function whichName(which: number): string {
  return WHICH_NAMES[which] ?? `#${which}`;
}

/** One decoded message from the engine, with the message that owns it. */
export interface Received {
  readonly message: capnp.Message;
  readonly root: RpcMessage;
}

/** How the engine ended the stream: a clean EOF, or a reset (it closed with our bytes unread). */
export type Ending = "eof" | "reset";

/**
 * The raw end of a connection: writes built messages (or any bytes, for
 * hostile input), reads decoded ones.
 */
export class WirePeer implements AsyncDisposable {
  readonly conn: Deno.Conn;
  readonly #decoder = new FrameDecoder();
  readonly #queue: Received[] = [];
  #waiter: (() => void) | null = null;
  #ending: Ending | null = null;
  #readError: unknown = null;
  readonly #loop: Promise<void>;
  #writes: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.#loop = this.#readLoop();
  }

  /** A peer on a new connection to the UNIX socket at `path`. */
  static async connect(path: string): Promise<WirePeer> {
    return new WirePeer(await Deno.connect({ transport: "unix", path }));
  }

  /** Whether the engine closed its end (EOF or reset seen). */
  get eof(): boolean {
    return this.#ending !== null;
  }

  /** Messages received and not yet taken. */
  get pending(): number {
    return this.#queue.length;
  }

  async #readLoop(): Promise<void> {
    try {
      for (;;) {
        const target = this.#decoder.readTarget();
        const n = await this.conn.read(target);
        if (n === null) break;
        this.#decoder.commitInPlace(n, (frame) => {
          const message = messageFromSegments(frame.owned());
          this.#queue.push({ message, root: message.getRoot(RpcMessage) });
        });
        this.#wake();
      }
      this.#ending = "eof";
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) this.#ending = "reset";
      else if (!this.#closed) this.#readError = error;
    }
    this.#ending ??= "eof";
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  /** Writes a built message (framed by capnp-es); resolves once written. */
  send(message: capnp.Message): Promise<void> {
    return this.sendBytes(new Uint8Array(message.toArrayBuffer()));
  }

  /** Builds and writes one RPC message. */
  sendWith(fill: (root: RpcMessage) => void): Promise<void> {
    return this.send(buildMessage(fill));
  }

  /** Writes raw bytes, in order with every other write. */
  sendBytes(bytes: Uint8Array): Promise<void> {
    const write = this.#writes.then(async () => {
      let at = 0;
      while (at < bytes.byteLength) at += await this.conn.write(bytes.subarray(at));
    });
    this.#writes = write.catch(() => {});
    return write;
  }

  /** Writes `bytes`; false when the engine hung up before taking them all. */
  async trySendBytes(bytes: Uint8Array): Promise<boolean> {
    try {
      await this.sendBytes(bytes);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.BrokenPipe) return false;
      if (error instanceof Deno.errors.ConnectionReset) return false;
      throw error;
    }
  }

  /** The next message from the engine; rejects on timeout or EOF. */
  async nextReceived(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Received> {
    const deadline = performance.now() + timeoutMs;
    while (this.#queue.length === 0) {
      if (this.#readError !== null) throw this.#readError;
      if (this.#ending !== null) {
        throw new Error(`engine closed the connection (${this.#ending}); no further message`);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no message from the engine within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#waiter = null;
    }
    return this.#queue.shift()!;
  }

  /** The next message's root. */
  async next(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RpcMessage> {
    return (await this.nextReceived(timeoutMs)).root;
  }

  /** The next message, which must be of kind `which` (an `RpcMessage.X` constant). */
  async expect(which: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RpcMessage> {
    const root = await this.next(timeoutMs);
    if (root.which() !== which) {
      throw new Error(
        `expected ${whichName(which)} from the engine, got ${whichName(root.which())}: ${root}`,
      );
    }
    return root;
  }

  /** Expects a Return for `answerId` next. */
  async expectReturn(answerId: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RpcReturn> {
    const ret = (await this.expect(RpcMessage.RETURN, timeoutMs)).return;
    if (ret.answerId !== answerId) {
      throw new Error(`expected the Return of question ${answerId}, got ${ret.answerId}`);
    }
    return ret;
  }

  /** Expects an Abort whose reason matches `reason`, then the close; returns the reason. */
  async expectAbort(reason: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const text = (await this.expect(RpcMessage.ABORT, timeoutMs)).abort.reason;
    if (!reason.test(text)) {
      throw new Error(`abort reason ${JSON.stringify(text)} does not match ${reason}`);
    }
    await this.expectEof(timeoutMs);
    return text;
  }

  /** Fails if the engine sends anything within `ms`. */
  async expectSilence(ms = 100): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.#queue.length > 0) {
      const root = this.#queue[0].root;
      throw new Error(`expected no message, got ${whichName(root.which())}: ${root}`);
    }
  }

  /**
   * Resolves once the engine has closed its end, having sent nothing more;
   * rejects on timeout. Says how the stream ended.
   */
  async expectEof(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Ending> {
    await withTimeout(this.#loop, timeoutMs, "the engine to close the connection");
    if (this.#readError !== null) throw this.#readError;
    if (this.#queue.length > 0) {
      const root = this.#queue[0].root;
      throw new Error(`expected a close, got ${whichName(root.which())}: ${root}`);
    }
    return this.#ending!;
  }

  /** Closes this end and waits for the read loop to finish. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#writes;
      try {
        this.conn.close();
      } catch { /* already closed */ }
    }
    await this.#loop;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

// ---- Building and reading protocol messages ----

/** A message target, as plain data. */
export type TargetSpec =
  | { importedCap: number }
  | { promisedAnswer: number; transform: number[] };

/** A capability descriptor, as plain data. */
export type DescriptorSpec =
  | { none: true }
  | { senderHosted: number }
  | { senderPromise: number }
  | { receiverHosted: number }
  | { receiverAnswer: number; transform: number[] }
  | { thirdPartyHosted: true };

/** An exception, as plain data (`type` in wire order: failed, overloaded, disconnected, unimplemented). */
export interface ExceptionSpec {
  type: number;
  reason: string;
}

function writeTransform(promised: PromisedAnswer, questionId: number, transform: number[]): void {
  promised.questionId = questionId;
  if (transform.length === 0) return;
  const ops = promised._initTransform(transform.length);
  transform.forEach((field, i) => ops.get(i).getPointerField = field);
}

function readTransform(promised: PromisedAnswer): number[] {
  if (!promised._hasTransform()) return [];
  const out: number[] = [];
  const ops = promised.transform;
  for (let i = 0; i < ops.length; i++) {
    const op = ops.get(i);
    out.push(op.which() === PromisedAnswer_Op.GET_POINTER_FIELD ? op.getPointerField : -1);
  }
  return out;
}

/** Writes `spec` into a message target. */
export function writeTarget(target: MessageTarget, spec: TargetSpec): void {
  if ("importedCap" in spec) target.importedCap = spec.importedCap;
  else writeTransform(target._initPromisedAnswer(), spec.promisedAnswer, spec.transform);
}

/** Reads a message target. */
export function targetOf(target: MessageTarget): TargetSpec {
  if (target.which() === MessageTarget.IMPORTED_CAP) return { importedCap: target.importedCap };
  const promised = target.promisedAnswer;
  return { promisedAnswer: promised.questionId, transform: readTransform(promised) };
}

/** Writes `spec` into a capability descriptor. */
export function writeDescriptor(descriptor: CapDescriptor, spec: DescriptorSpec): void {
  if ("none" in spec) descriptor.none = true;
  else if ("senderHosted" in spec) descriptor.senderHosted = spec.senderHosted;
  else if ("senderPromise" in spec) descriptor.senderPromise = spec.senderPromise;
  else if ("receiverHosted" in spec) descriptor.receiverHosted = spec.receiverHosted;
  else if ("receiverAnswer" in spec) {
    writeTransform(descriptor._initReceiverAnswer(), spec.receiverAnswer, spec.transform);
  } else descriptor._initThirdPartyHosted();
}

/** Reads a capability descriptor. */
export function descriptorOf(descriptor: CapDescriptor): DescriptorSpec {
  switch (descriptor.which()) {
    case CapDescriptor.NONE:
      return { none: true };
    case CapDescriptor.SENDER_HOSTED:
      return { senderHosted: descriptor.senderHosted };
    case CapDescriptor.SENDER_PROMISE:
      return { senderPromise: descriptor.senderPromise };
    case CapDescriptor.RECEIVER_HOSTED:
      return { receiverHosted: descriptor.receiverHosted };
    case CapDescriptor.RECEIVER_ANSWER: {
      const promised = descriptor.receiverAnswer;
      return { receiverAnswer: promised.questionId, transform: readTransform(promised) };
    }
    default:
      return { thirdPartyHosted: true };
  }
}

/** The cap table of a payload. */
export function capTableOf(payload: Payload): DescriptorSpec[] {
  if (!payload._hasCapTable()) return [];
  const table = payload.capTable;
  const out: DescriptorSpec[] = [];
  for (let i = 0; i < table.length; i++) out.push(descriptorOf(table.get(i)));
  return out;
}

function writePayload(
  payload: Payload,
  content: ((content: capnp.Pointer) => void) | undefined,
  capTable: DescriptorSpec[] | undefined,
): void {
  content?.(payload.content);
  if (capTable && capTable.length > 0) {
    const table = payload._initCapTable(capTable.length);
    capTable.forEach((spec, i) => writeDescriptor(table.get(i), spec));
  }
}

/** Reads an exception. */
export function exceptionOf(exception: Exception): ExceptionSpec {
  return { type: exception.type, reason: exception.reason };
}

/** Content writer: the content is capability pointer `index`. */
export function capContent(index = 0): (content: capnp.Pointer) => void {
  return (content) => capnp.utils.setInterfacePointer(index, content);
}

/** Builders for every message a peer sends. */
export const build = {
  bootstrap(questionId: number): capnp.Message {
    return buildMessage((root) => root._initBootstrap().questionId = questionId);
  },

  call(options: {
    questionId: number;
    target: TargetSpec;
    interfaceId: bigint;
    methodId: number;
    params?: (content: capnp.Pointer) => void;
    capTable?: DescriptorSpec[];
    /** Results kept at the callee for a later `takeFromOtherQuestion` (`sendResultsTo.yourself`). */
    toYourself?: boolean;
  }): capnp.Message {
    return buildMessage((root) => {
      const call = root._initCall();
      call.questionId = options.questionId;
      writeTarget(call._initTarget(), options.target);
      call.interfaceId = options.interfaceId;
      call.methodId = options.methodId;
      writePayload(call._initParams(), options.params, options.capTable);
      if (options.toYourself) call.sendResultsTo.yourself = true;
    });
  },

  return(options: {
    answerId: number;
    /** Omitted: the schema default (true). */
    releaseParamCaps?: boolean;
    results?: (content: capnp.Pointer) => void;
    capTable?: DescriptorSpec[];
    exception?: ExceptionSpec;
    canceled?: boolean;
    /** The results are those of this answer of the receiver's (a tail call back into it). */
    takeFromOtherQuestion?: number;
    /** The results went to a third party (`resultsSentElsewhere`). */
    resultsSentElsewhere?: boolean;
  }): capnp.Message {
    return buildMessage((root) => {
      const ret = root._initReturn();
      ret.answerId = options.answerId;
      if (options.releaseParamCaps !== undefined) ret.releaseParamCaps = options.releaseParamCaps;
      if (options.takeFromOtherQuestion !== undefined) {
        ret.takeFromOtherQuestion = options.takeFromOtherQuestion;
      } else if (options.exception) {
        const exception = ret._initException();
        exception.type = options.exception.type as Exception["type"];
        exception.reason = options.exception.reason;
      } else if (options.canceled) {
        ret.canceled = true;
      } else if (options.resultsSentElsewhere) {
        ret.resultsSentElsewhere = true;
      } else {
        writePayload(ret._initResults(), options.results, options.capTable);
      }
    });
  },

  finish(questionId: number, releaseResultCaps: boolean): capnp.Message {
    return buildMessage((root) => {
      const finish = root._initFinish();
      finish.questionId = questionId;
      finish.releaseResultCaps = releaseResultCaps;
    });
  },

  release(id: number, referenceCount: number): capnp.Message {
    return buildMessage((root) => {
      const release = root._initRelease();
      release.id = id;
      release.referenceCount = referenceCount;
    });
  },

  resolve(promiseId: number, to: DescriptorSpec | ExceptionSpec): capnp.Message {
    return buildMessage((root) => {
      const resolve = root._initResolve();
      resolve.promiseId = promiseId;
      if ("reason" in to) {
        const exception = resolve._initException();
        exception.type = to.type as Exception["type"];
        exception.reason = to.reason;
      } else {
        writeDescriptor(resolve._initCap(), to);
      }
    });
  },

  disembargo(
    target: TargetSpec,
    context: { senderLoopback: number } | { receiverLoopback: number } | { accept: true },
  ): capnp.Message {
    return buildMessage((root) => {
      const disembargo = root._initDisembargo();
      writeTarget(disembargo._initTarget(), target);
      const written = disembargo._initContext();
      if ("senderLoopback" in context) written.senderLoopback = context.senderLoopback;
      else if ("receiverLoopback" in context) written.receiverLoopback = context.receiverLoopback;
      else written.accept = true; // for a three-party handoff this side never makes
    });
  },

  abort(exception: ExceptionSpec): capnp.Message {
    return buildMessage((root) => {
      const abort = root._initAbort();
      abort.type = exception.type as Exception["type"];
      abort.reason = exception.reason;
    });
  },

  /** An echo of `received` (a message the engine sent) as Unimplemented. */
  unimplemented(received: RpcMessage): capnp.Message {
    return buildMessage((root) => root.unimplemented = received);
  },
};
