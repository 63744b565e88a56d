/**
 * The Tester interface of `examples/schemas/testing.capnp`, served over the raw RPC
 * engine. The C++ peer in `tests/cpp/peer.c++` implements the same semantics,
 * so tests and benchmarks run against either.
 *
 * @module
 */
import {
  Callback$Client,
  Counter$Client,
  Counter_Next$Results,
  ExtendedTester$Client,
  ExtendedTester_Describe$Results,
  Tester$Client,
  Tester_Add$Params,
  Tester_Add$Results,
  Tester_CallBack$Params,
  Tester_CallBack$Results,
  Tester_CanceledCount$Results,
  Tester_Echo$Params,
  Tester_Echo$Results,
  Tester_EchoCap$Params,
  Tester_EchoCap$Results,
  Tester_EchoText$Params,
  Tester_EchoText$Results,
  Tester_Fail$Params,
  Tester_Hold$Params,
  Tester_LiveObjects$Results,
  Tester_MakeCounter$Params,
  Tester_MakeCounter$Results,
  Tester_ReleaseHeld$Results,
  Tester_Wait$Params,
  Tester_Wait$Results,
} from "./schemas/gen/testing.ts";
import * as capnp from "capnp-es";
import {
  type CallContext,
  Capability,
  ERROR_TYPES,
  type PendingCall,
  RpcError,
  serverFromMethods,
  setData,
} from "../engine.ts";

/** Server-wide counters a test can observe. */
export interface TesterState {
  live: number;
  canceled: number;
  held: Capability[];
}

/** Sets the capability result at pointer `index` of a results struct. */
function setCapResult(
  call: CallContext,
  results: capnp.Struct,
  index: number,
  cap: Capability,
): void {
  capnp.utils.setInterfacePointer(call.addResultCap(cap), capnp.utils.getPointer(index, results));
}

/** Capability `index` of a params struct's pointer field, or null. */
export function capParam(
  call: CallContext,
  params: capnp.Struct,
  field: number,
): Capability | null {
  const pointer = capnp.utils.getPointer(field, params);
  if (capnp.utils.isNull(pointer)) return null;
  return call.paramCaps[capnp.utils.getCapabilityId(pointer)] ?? null;
}

function counter(state: TesterState, start: bigint): Capability {
  let value = start;
  state.live++;
  return Capability.fromServer(serverFromMethods(
    new Map([[Counter$Client.interfaceId, [(call) => {
      value = BigInt.asIntN(64, value + 1n);
      call.results(Counter_Next$Results).value = value;
    }]]]),
    () => state.live--,
  ));
}

/** A new ExtendedTester capability and the state it updates. */
export function newTester(state: TesterState = { live: 0, canceled: 0, held: [] }): {
  tester: Capability;
  state: TesterState;
} {
  const methods = [
    (call: CallContext) => {
      const p = call.params(Tester_Add$Params);
      call.results(Tester_Add$Results).result = (p.a + p.b) | 0;
    },
    (call: CallContext) => {
      const data = call.params(Tester_Echo$Params).data.toUint8Array();
      // Sent back where it was received, without a copy, when it is large.
      setData(capnp.utils.getPointer(0, call.results(Tester_Echo$Results)), data);
    },
    (call: CallContext) => {
      call.results(Tester_EchoText$Results).text = call.params(Tester_EchoText$Params).text;
    },
    (call: CallContext) => {
      using made = counter(state, call.params(Tester_MakeCounter$Params).start);
      setCapResult(call, call.results(Tester_MakeCounter$Results), 0, made);
    },
    async (call: CallContext) => {
      const params = call.params(Tester_CallBack$Params);
      const callback = capParam(call, params, 0);
      if (callback === null) throw new RpcError("failed", "callback is null");
      let sum = 0n;
      for (let i = 1; i <= params.n; i++) {
        const request = callback.request(Callback$Client.methods[0]);
        request.params.value = BigInt(i);
        using response = await request.send();
        sum += response.results(Callback$Client.methods[0].ResultsClass).result;
      }
      call.results(Tester_CallBack$Results).sum = BigInt.asIntN(64, sum);
    },
    (call: CallContext) => {
      const p = call.params(Tester_Fail$Params);
      throw new RpcError(ERROR_TYPES[p.type] ?? "failed", p.message);
    },
    (call: CallContext) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          call.signal.removeEventListener("abort", onAbort);
          call.results(Tester_Wait$Results).completed = true;
          resolve();
        }, call.params(Tester_Wait$Params).ms);
        const onAbort = () => {
          clearTimeout(timer);
          state.canceled++;
          reject(call.signal.reason);
        };
        call.signal.addEventListener("abort", onAbort, { once: true });
      }),
    (call: CallContext) => {
      call.results(Tester_LiveObjects$Results).count = state.live;
    },
    (call: CallContext) => {
      call.results(Tester_CanceledCount$Results).count = state.canceled;
    },
    (call: CallContext) => {
      const callback = capParam(call, call.params(Tester_Hold$Params), 0);
      if (callback === null) throw new RpcError("failed", "callback is null");
      state.held.push(callback.dup());
      state.live++;
    },
    (call: CallContext) => {
      const count = state.held.length;
      for (const held of state.held.splice(0)) held.dispose();
      state.live -= count;
      call.results(Tester_ReleaseHeld$Results).count = count;
    },
    (call: CallContext) => {
      const callback = capParam(call, call.params(Tester_EchoCap$Params), 0);
      if (callback !== null) setCapResult(call, call.results(Tester_EchoCap$Results), 0, callback);
    },
  ];
  const tester = Capability.fromServer(serverFromMethods(
    new Map([
      [Tester$Client.interfaceId, methods],
      [ExtendedTester$Client.interfaceId, [(call) => {
        call.results(ExtendedTester_Describe$Results).text = "extended";
      }]],
    ]),
  ));
  return { tester, state };
}

/** Sets capability `cap` into pointer field `field` of a request's params. */
export function setCapParam(
  request: { addCap(cap: Capability | null): number; params: capnp.Struct },
  field: number,
  cap: Capability | null,
): void {
  capnp.utils.setInterfacePointer(
    request.addCap(cap),
    capnp.utils.getPointer(field, request.params),
  );
}

/** A Callback capability running `fn` in this process. */
export function callbackOf(fn: (value: bigint) => bigint | Promise<bigint>): Capability {
  const method = Callback$Client.methods[0];
  return Capability.fromServer(serverFromMethods(
    new Map([[Callback$Client.interfaceId, [async (call) => {
      call.results(method.ResultsClass).result = await fn(call.params(method.ParamsClass).value);
    }]]]),
  ));
}

/**
 * Typed calls on a Tester capability over the raw engine (what the
 * generated proxies of the runtime layer will replace).
 */
export class TesterClient implements Disposable {
  readonly cap: Capability;

  constructor(cap: Capability) {
    this.cap = cap;
  }

  async add(a: number, b: number, signal?: AbortSignal): Promise<number> {
    const request = this.cap.request(Tester$Client.methods[0]);
    request.params.a = a;
    request.params.b = b;
    using response = await request.send({ signal });
    return response.results(Tester_Add$Results).result;
  }

  /** Echoes `data`; the bytes back are a copy of their own. */
  async echo(data: Uint8Array): Promise<Uint8Array> {
    using response = await this.#echo(data);
    return response.results(Tester_Echo$Results).data.toUint8Array().slice();
  }

  /**
   * Echoes `data` and returns how many bytes came back, read where they
   * arrived (as a C++ client's `getData().size()`), without a copy.
   */
  async echoSize(data: Uint8Array): Promise<number> {
    using response = await this.#echo(data);
    return response.results(Tester_Echo$Results).data.length;
  }

  #echo(data: Uint8Array): PendingCall {
    const request = this.cap.request(Tester$Client.methods[1]);
    setData(capnp.utils.getPointer(0, request.params), data);
    return request.send();
  }

  async echoText(text: string): Promise<string> {
    const request = this.cap.request(Tester$Client.methods[2]);
    request.params.text = text;
    using response = await request.send();
    return response.results(Tester_EchoText$Results).text;
  }

  /** The counter arrives pipelined: it is usable before the call returns. */
  makeCounter(start: bigint): { counter: CounterClient; done: Promise<void> } {
    const request = this.cap.request(Tester$Client.methods[3]);
    request.params.start = start;
    const pending = request.send();
    return {
      counter: new CounterClient(pending.pipeline(0)),
      done: pending.then((response) => response.dispose()),
    };
  }

  async callBack(callback: Capability, n: number): Promise<bigint> {
    const request = this.cap.request(Tester$Client.methods[4]);
    setCapParam(request, 0, callback);
    request.params.n = n;
    using response = await request.send();
    return response.results(Tester_CallBack$Results).sum;
  }

  async fail(type: number, message: string): Promise<void> {
    const request = this.cap.request(Tester$Client.methods[5]);
    request.params.type = type as Tester_Fail$Params["type"];
    request.params.message = message;
    (await request.send()).dispose();
  }

  async wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    const request = this.cap.request(Tester$Client.methods[6]);
    request.params.ms = ms;
    using response = await request.send({ signal });
    return response.results(Tester_Wait$Results).completed;
  }

  async liveObjects(): Promise<number> {
    using response = await this.cap.request(Tester$Client.methods[7]).send();
    return response.results(Tester_LiveObjects$Results).count;
  }

  async canceledCount(): Promise<number> {
    using response = await this.cap.request(Tester$Client.methods[8]).send();
    return response.results(Tester_CanceledCount$Results).count;
  }

  async hold(callback: Capability): Promise<void> {
    const request = this.cap.request(Tester$Client.methods[9]);
    setCapParam(request, 0, callback);
    (await request.send()).dispose();
  }

  async releaseHeld(): Promise<number> {
    using response = await this.cap.request(Tester$Client.methods[10]).send();
    return response.results(Tester_ReleaseHeld$Results).count;
  }

  /** The returned callback arrives pipelined. */
  echoCap(callback: Capability): { callback: Capability; done: Promise<void> } {
    const request = this.cap.request(Tester$Client.methods[11]);
    setCapParam(request, 0, callback);
    const pending = request.send();
    return { callback: pending.pipeline(0), done: pending.then((response) => response.dispose()) };
  }

  async describe(): Promise<string> {
    using response = await this.cap.request(ExtendedTester$Client.methods[0]).send();
    return response.results(ExtendedTester_Describe$Results).text;
  }

  dispose(): void {
    this.cap.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Typed calls on a Counter capability. */
export class CounterClient implements Disposable {
  readonly cap: Capability;

  constructor(cap: Capability) {
    this.cap = cap;
  }

  async next(): Promise<bigint> {
    using response = await this.cap.request(Counter$Client.methods[0]).send();
    return response.results(Counter_Next$Results).value;
  }

  dispose(): void {
    this.cap.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Calls a Callback capability once. */
export async function callCallback(callback: Capability, value: bigint): Promise<bigint> {
  const request = callback.request(Callback$Client.methods[0]);
  request.params.value = value;
  using response = await request.send();
  return response.results(Callback$Client.methods[0].ResultsClass).result;
}
