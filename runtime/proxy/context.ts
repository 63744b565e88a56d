/**
 * libmultiprocess' `Context` param, both directions, over a session's
 * state: which threads a call names and where it runs.
 *
 * - Calling ({@linkcode sendInContext}): the call is issued in the calling
 *   strand's turn for the peer (one call per peer thread at a time, see
 *   `strand.ts`), with `Context.thread` = the peer's thread for the strand
 *   (the one it is calling back on during a call from the peer, else the
 *   one made for it) and `Context.callbackThread` = the strand's own Thread.
 * - Serving ({@linkcode runInContext}): the call runs on the strand
 *   `Context.thread` names (minted by this session, checked), or on the
 *   least busy pool strand when it names none, with `callbackThread`
 *   recorded as where the strand's calls to the peer go meanwhile.
 *
 * The client side calls `sendInContext(session, currentStrand(), method,
 * request, send)`; the server side `runInContext(session,
 * readContext(params, method, caps), invoke)`.
 * @module
 */
import { type Struct, utils as capnpUtils } from "capnp-es";
import type { MethodSignature } from "../schema/descriptor.ts";
import { Context } from "../schema/gen/mp/proxy.mp.ts";
import type { Capability, Request, Response } from "../rpc/capability.ts";
import { type CapabilityTable, structClass } from "./codec.ts";
import type { Session } from "./session.ts";
import type { Strand } from "./strand.ts";

/** Pointer fields of `Context`. */
const THREAD = 0;
const CALLBACK_THREAD = 1;

/** The thread handles a call's Context carries. */
export interface CallThreads {
  /** The thread the call runs on (`Context.thread`), or null for the pool. */
  readonly thread: Capability | null;
  /** Where the callee calls the caller back meanwhile (`Context.callbackThread`). */
  readonly callbackThread: Capability | null;
}

const contextFields = new WeakMap<MethodSignature, number>();

/** The pointer offset of `method`'s Context param. */
function contextField(method: MethodSignature): number {
  let offset = contextFields.get(method);
  if (offset === undefined) {
    offset = method.params.fields.find((f) => f.name === method.context)!.offset;
    contextFields.set(method, offset);
  }
  return offset;
}

/**
 * Sends `request` (its params written, its Context not yet) for `method`
 * from `strand` over `session`, in the strand's turn: the Context is filled
 * in, then `send` sends it; the turn is held until what `send` returns
 * settles. Aborting `signal` before the turn comes leaves the line.
 */
export function sendInContext(
  session: Session,
  strand: Strand,
  method: MethodSignature & { context: string },
  request: Request<Struct>,
  send: () => Promise<Response>,
  signal?: AbortSignal,
): Promise<Response> {
  return strand.call(session, () => {
    const context = capnpUtils.initStructAt(
      contextField(method),
      structClass(Context),
      request.params,
    );
    capnpUtils.setInterfacePointer(
      request.addCap(session.peerThread(strand)),
      capnpUtils.getPointer(THREAD, context),
    );
    capnpUtils.setInterfacePointer(
      request.addCap(session.localThread(strand)),
      capnpUtils.getPointer(CALLBACK_THREAD, context),
    );
    return send();
  }, signal);
}

/** The thread handles in the Context param of a received call of `method`. */
export function readContext(
  params: Struct,
  method: MethodSignature & { context: string },
  caps: CapabilityTable,
): CallThreads {
  const offset = contextField(method);
  if (capnpUtils.isNull(capnpUtils.getPointer(offset, params))) {
    return { thread: null, callbackThread: null };
  }
  const context = capnpUtils.getStruct(offset, structClass(Context), params);
  const at = (index: number) => {
    const p = capnpUtils.getPointer(index, context);
    return capnpUtils.isNull(p) ? null : caps.get(capnpUtils.getCapabilityId(p));
  };
  return { thread: at(THREAD), callbackThread: at(CALLBACK_THREAD) };
}

/**
 * Runs `task` on the strand `threads.thread` names on `session` (the least
 * busy pool strand when it names none, once nothing else runs there; an
 * unknown handle fails with `invalid thread handle`), after the calls
 * posted there before it, with `threads.callbackThread` as where the
 * strand calls the peer back.
 * `posted` learns the strand first (for the log).
 */
export function runInContext<T>(
  session: Session,
  threads: CallThreads,
  task: () => T | Promise<T>,
  posted?: (strand: Strand) => void,
): Promise<T> {
  if (threads.thread === null) {
    // Picked and posted to in one step, so concurrent calls spread over the pool.
    const strand = session.poolStrand();
    posted?.(strand);
    return strand.postAlone(() => session.withCallbackThread(strand, threads.callbackThread, task));
  }
  const strand = session.strandFor(threads.thread);
  const run = (strand: Strand) => {
    posted?.(strand);
    return strand.post(
      () => session.withCallbackThread(strand, threads.callbackThread, task),
      session,
    );
  };
  return strand instanceof Promise ? strand.then(run) : run(strand);
}
