// C++ interoperability peer for the TypeScript Cap'n Proto RPC engine.
//
// Uses only the stock Cap'n Proto C++ library (EzRpc + KJ), so the TypeScript
// side is tested against the reference implementation rather than against itself.
//
// Modes:
//   peer server <socketpath>              serve an ExtendedTester, print READY
//   peer client <socketpath>              run the interop checks against a Tester
//   peer bench-server <socketpath>        same as server
//   peer bench-client <socketpath> <s>    throughput figures (BENCH lines)
//   peer die-mid-call <socketpath>        call wait(10000), then SIGKILL itself
//   peer expect-disconnect <socketpath>   call wait(10000), report how it failed

#include "testing.capnp.h"

#include <capnp/ez-rpc.h>
#include <kj/async-io.h>
#include <kj/async.h>
#include <kj/debug.h>
#include <kj/exception.h>
#include <kj/function.h>
#include <kj/time.h>
#include <kj/timer.h>
#include <kj/vector.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

// ---------------------------------------------------------------------------
// Shared helpers

kj::String unixAddress(kj::StringPtr path) { return kj::str("unix:", path); }

int64_t elapsedMs(kj::TimePoint since) {
  return (kj::systemPreciseMonotonicClock().now() - since) / kj::MILLISECONDS;
}

double elapsedSeconds(kj::TimePoint since) {
  return double((kj::systemPreciseMonotonicClock().now() - since) / kj::NANOSECONDS) / 1e9;
}

// Keeps an exception description on one output line.
kj::String oneLine(kj::StringPtr text) {
  auto result = kj::heapString(text);
  for (char& c: result) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return result;
}

// Deterministic, non-repeating-per-byte pattern so misplaced chunks are detected.
kj::Array<kj::byte> patternBytes(size_t size) {
  auto bytes = kj::heapArray<kj::byte>(size);
  for (size_t i = 0; i < size; i++) {
    bytes[i] = static_cast<kj::byte>((i * 31 + (i >> 8) * 7 + 11) & 0xff);
  }
  return bytes;
}

constexpr size_t MIB = 1024 * 1024;

// ---------------------------------------------------------------------------
// Server

// State shared by the bootstrap object and everything it hands out. All
// connections share one bootstrap object, hence one set of counters.
struct ServerState {
  kj::Timer* timer = nullptr;  // set once the EzRpcServer (and its event loop) exists
  uint32_t liveCounters = 0;
  uint32_t canceledWaits = 0;
  kj::Vector<Callback::Client> held;
};

class CounterImpl final: public Counter::Server {
public:
  CounterImpl(ServerState& state, int64_t start): state(state), value(start) {
    ++state.liveCounters;
  }
  ~CounterImpl() noexcept(false) { --state.liveCounters; }

  kj::Promise<void> next(NextContext context) override {
    // Unsigned arithmetic: wraparound instead of signed-overflow UB.
    value = static_cast<int64_t>(static_cast<uint64_t>(value) + 1);
    context.getResults().setValue(value);
    return kj::READY_NOW;
  }

private:
  ServerState& state;
  int64_t value;
};

// Attached to a wait() promise chain: if the chain is destroyed before the
// timer fired, the call was canceled (Finish before Return, or disconnect).
class CancelGuard {
public:
  explicit CancelGuard(ServerState& state): state(state) {}
  ~CancelGuard() noexcept(false) {
    if (!completed) ++state.canceledWaits;
  }
  bool completed = false;

private:
  ServerState& state;
};

kj::Exception::Type toKjType(ErrorType type) {
  switch (type) {
    case ErrorType::FAILED: return kj::Exception::Type::FAILED;
    case ErrorType::OVERLOADED: return kj::Exception::Type::OVERLOADED;
    case ErrorType::DISCONNECTED: return kj::Exception::Type::DISCONNECTED;
    case ErrorType::UNIMPLEMENTED: return kj::Exception::Type::UNIMPLEMENTED;
  }
  // Enum values from a newer schema: report them as a plain failure.
  return kj::Exception::Type::FAILED;
}

class TesterImpl final: public ExtendedTester::Server {
public:
  explicit TesterImpl(ServerState& state): state(state) {}

  kj::Promise<void> add(AddContext context) override {
    auto params = context.getParams();
    uint32_t sum = static_cast<uint32_t>(params.getA()) + static_cast<uint32_t>(params.getB());
    context.getResults().setResult(static_cast<int32_t>(sum));
    return kj::READY_NOW;
  }

  kj::Promise<void> echo(EchoContext context) override {
    context.getResults().setData(context.getParams().getData());
    return kj::READY_NOW;
  }

  kj::Promise<void> echoText(EchoTextContext context) override {
    context.getResults().setText(context.getParams().getText());
    return kj::READY_NOW;
  }

  kj::Promise<void> makeCounter(MakeCounterContext context) override {
    int64_t start = context.getParams().getStart();
    context.getResults().setCounter(kj::heap<CounterImpl>(state, start));
    return kj::READY_NOW;
  }

  kj::Promise<void> callBack(CallBackContext context) override {
    auto params = context.getParams();
    return callLoop(params.getCallback(), 1, params.getN(), 0)
        .then([context](uint64_t sum) mutable {
      context.getResults().setSum(static_cast<int64_t>(sum));
    });
  }

  kj::Promise<void> fail(FailContext context) override {
    auto params = context.getParams();
    return kj::Exception(toKjType(params.getType()), __FILE__, __LINE__,
                         kj::heapString(params.getMessage()));
  }

  kj::Promise<void> wait(WaitContext context) override {
    // In capnp 0.9 server calls ignore Finish unless they opt in.
    context.allowCancellation();
    uint32_t ms = context.getParams().getMs();
    auto guard = kj::heap<CancelGuard>(state);
    CancelGuard& guardRef = *guard;
    return state.timer->afterDelay(ms * kj::MILLISECONDS)
        .then([context, &guardRef]() mutable {
      guardRef.completed = true;
      context.getResults().setCompleted(true);
    }).attach(kj::mv(guard));
  }

  kj::Promise<void> liveObjects(LiveObjectsContext context) override {
    context.getResults().setCount(state.liveCounters + static_cast<uint32_t>(state.held.size()));
    return kj::READY_NOW;
  }

  kj::Promise<void> canceledCount(CanceledCountContext context) override {
    context.getResults().setCount(state.canceledWaits);
    return kj::READY_NOW;
  }

  kj::Promise<void> hold(HoldContext context) override {
    state.held.add(context.getParams().getCallback());
    return kj::READY_NOW;
  }

  kj::Promise<void> releaseHeld(ReleaseHeldContext context) override {
    uint32_t count = static_cast<uint32_t>(state.held.size());
    state.held.clear();  // dropping the clients sends Release to their owners
    context.getResults().setCount(count);
    return kj::READY_NOW;
  }

  kj::Promise<void> echoCap(EchoCapContext context) override {
    context.getResults().setCallback(context.getParams().getCallback());
    return kj::READY_NOW;
  }

  kj::Promise<void> describe(DescribeContext context) override {
    context.getResults().setText("extended");
    return kj::READY_NOW;
  }

private:
  ServerState& state;

  // One call at a time: the next call is only sent once the previous returned.
  static kj::Promise<uint64_t> callLoop(Callback::Client callback, uint64_t i, uint64_t n,
                                        uint64_t sum) {
    if (i > n) return sum;
    auto request = callback.callRequest();
    request.setValue(static_cast<int64_t>(i));
    return request.send().then(
        [callback = kj::mv(callback), i, n, sum](auto&& response) mutable {
      uint64_t next = sum + static_cast<uint64_t>(response.getResult());
      return callLoop(kj::mv(callback), i + 1, n, next);
    });
  }
};

int runServer(kj::StringPtr socketPath) {
  // A socket file left by a killed run would make bind() fail with EADDRINUSE.
  struct stat st;
  if (lstat(socketPath.cStr(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    unlink(socketPath.cStr());
  }

  ServerState state;
  auto impl = kj::heap<TesterImpl>(state);
  capnp::EzRpcServer server(kj::mv(impl), unixAddress(socketPath));
  state.timer = &server.getIoProvider().getTimer();

  auto& waitScope = server.getWaitScope();
  server.getPort().wait(waitScope);  // resolves once listening
  printf("READY\n");
  fflush(stdout);

  kj::NEVER_DONE.wait(waitScope);
  return 0;  // not reached
}

// ---------------------------------------------------------------------------
// Client checks

constexpr kj::Duration CHECK_TIMEOUT = 10 * kj::SECONDS;
constexpr const char* TIMED_OUT = "check timed out after 10 s";

// Everything a check needs. Checks are written in blocking style; every wait
// goes through await(), which enforces the per-check deadline.
class CheckContext {
public:
  CheckContext(capnp::EzRpcClient& client)
      : tester(client.getMain<Tester>()),
        timer(client.getIoProvider().getTimer()),
        waitScope(client.getWaitScope()) {}

  Tester::Client tester;
  kj::Timer& timer;
  kj::WaitScope& waitScope;
  kj::TimePoint deadline = kj::origin<kj::TimePoint>();

  template <typename T>
  T await(kj::Promise<T>&& promise) {
    return promise.exclusiveJoin(timer.atTime(deadline).then([]() -> kj::Promise<T> {
      return KJ_EXCEPTION(FAILED, TIMED_OUT);
    })).wait(waitScope);
  }

  void sleep(kj::Duration duration) { await(timer.afterDelay(duration)); }

  uint32_t liveObjects() {
    return await(tester.liveObjectsRequest().send()).getCount();
  }

  uint32_t canceledCount() {
    return await(tester.canceledCountRequest().send()).getCount();
  }
};

// Throws a FAILED exception whose description becomes the FAIL reason.
template <typename... Params>
void expect(bool condition, Params&&... reason) {
  if (!condition) {
    kj::throwFatalException(kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                                          kj::str(kj::fwd<Params>(reason)...)));
  }
}

// Polls `probe` every 20 ms until it returns true or `limit` passes.
bool pollUntil(CheckContext& ctx, kj::Duration limit, kj::Function<bool()> probe) {
  auto start = kj::systemPreciseMonotonicClock().now();
  for (;;) {
    if (probe()) return true;
    if (kj::systemPreciseMonotonicClock().now() - start >= limit) return false;
    ctx.sleep(20 * kj::MILLISECONDS);
  }
}

// Client-side Callback: returns value*10 and records the values it saw.
class RecordingCallback final: public Callback::Server {
public:
  explicit RecordingCallback(kj::Vector<int64_t>& seen): seen(seen) {}

  kj::Promise<void> call(CallContext context) override {
    int64_t value = context.getParams().getValue();
    seen.add(value);
    context.getResults().setResult(value * 10);
    return kj::READY_NOW;
  }

private:
  kj::Vector<int64_t>& seen;
};

void checkBootstrapAdd(CheckContext& ctx) {
  auto request = ctx.tester.addRequest();
  request.setA(2);
  request.setB(3);
  int32_t result = ctx.await(request.send()).getResult();
  expect(result == 5, "add(2,3) returned ", result);
}

void checkPipelining(CheckContext& ctx) {
  auto request = ctx.tester.makeCounterRequest();
  request.setStart(10);
  auto pending = request.send();
  // The counter is used before makeCounter's response has arrived.
  Counter::Client counter = pending.getCounter();

  int64_t first = ctx.await(counter.nextRequest().send()).getValue();
  expect(first == 11, "first next() on pipelined counter returned ", first);
  int64_t second = ctx.await(counter.nextRequest().send()).getValue();
  expect(second == 12, "second next() on pipelined counter returned ", second);
}

void checkReturnedCapability(CheckContext& ctx) {
  auto request = ctx.tester.makeCounterRequest();
  request.setStart(100);
  Counter::Client counter = ctx.await(request.send()).getCounter();
  int64_t value = ctx.await(counter.nextRequest().send()).getValue();
  expect(value == 101, "next() on returned counter returned ", value);
}

void checkCallback(CheckContext& ctx) {
  kj::Vector<int64_t> seen;
  auto request = ctx.tester.callBackRequest();
  request.setCallback(kj::heap<RecordingCallback>(seen));
  request.setN(4);
  int64_t sum = ctx.await(request.send()).getSum();
  expect(sum == 100, "callBack(cb, 4) returned ", sum);
  expect(seen.size() == 4, "callback was called ", seen.size(), " times");
  for (size_t i = 0; i < seen.size(); i++) {
    expect(seen[i] == int64_t(i + 1), "call #", i + 1, " carried value ", seen[i]);
  }
}

// Calls pipelined on echoCap's result loop back to this process; the peer
// must answer the Disembargo that keeps later calls behind them.
void checkEchoCapLoopback(CheckContext& ctx) {
  kj::Vector<int64_t> seen;
  auto request = ctx.tester.echoCapRequest();
  request.setCallback(kj::heap<RecordingCallback>(seen));
  auto pending = request.send();
  Callback::Client back = pending.getCallback();
  auto call = [&](int64_t value) {
    auto r = back.callRequest();
    r.setValue(value);
    return r.send();
  };
  auto first = call(1);
  auto second = call(2);
  ctx.await(kj::mv(pending));
  auto third = call(3);
  int64_t results[3] = {ctx.await(kj::mv(first)).getResult(), ctx.await(kj::mv(second)).getResult(),
                        ctx.await(kj::mv(third)).getResult()};
  for (int i = 0; i < 3; i++) {
    expect(results[i] == (i + 1) * 10, "call ", i + 1, " returned ", results[i]);
  }
  expect(seen.size() == 3, "callback was called ", seen.size(), " times");
  for (size_t i = 0; i < seen.size(); i++) {
    expect(seen[i] == int64_t(i + 1), "calls arrived out of order: #", i + 1, " carried ", seen[i]);
  }
}

void checkExceptionTypes(CheckContext& ctx) {
  struct Case {
    ErrorType wire;
    kj::Exception::Type expected;
    const char* name;
  };
  const Case cases[] = {
    {ErrorType::FAILED, kj::Exception::Type::FAILED, "failed"},
    {ErrorType::OVERLOADED, kj::Exception::Type::OVERLOADED, "overloaded"},
    {ErrorType::DISCONNECTED, kj::Exception::Type::DISCONNECTED, "disconnected"},
    {ErrorType::UNIMPLEMENTED, kj::Exception::Type::UNIMPLEMENTED, "unimplemented"},
  };
  for (auto& c: cases) {
    auto message = kj::str("boom-", c.name);
    auto request = ctx.tester.failRequest();
    request.setType(c.wire);
    request.setMessage(message);
    kj::Promise<void> call = request.send().ignoreResult();
    KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { ctx.await(kj::mv(call)); })) {
      expect(e->getDescription() != TIMED_OUT, "fail(", c.name, ") timed out");
      expect(e->getType() == c.expected, "fail(", c.name, ") raised type ", e->getType(),
             " (", oneLine(e->getDescription()), ")");
      expect(strstr(e->getDescription().cStr(), message.cStr()) != nullptr,
             "fail(", c.name, ") description lacks '", message, "': ",
             oneLine(e->getDescription()));
    } else {
      expect(false, "fail(", c.name, ") returned normally");
    }
  }
}

void checkExtended(CheckContext& ctx) {
  auto extended = ctx.tester.castAs<ExtendedTester>();
  auto text = ctx.await(extended.describeRequest().send()).getText();
  expect(text == "extended", "describe() returned '", text, "'");

  auto request = extended.addRequest();
  request.setA(40);
  request.setB(2);
  int32_t result = ctx.await(request.send()).getResult();
  expect(result == 42, "add(40,2) through ExtendedTester returned ", result);
}

void checkRelease(CheckContext& ctx) {
  {
    kj::Vector<Counter::Client> counters;
    for (int i = 0; i < 5; i++) {
      auto request = ctx.tester.makeCounterRequest();
      request.setStart(i * 10);
      counters.add(ctx.await(request.send()).getCounter());
    }
    for (int i = 0; i < 5; i++) {
      int64_t value = ctx.await(counters[i].nextRequest().send()).getValue();
      expect(value == i * 10 + 1, "counter ", i, " next() returned ", value);
    }
    // Guards against a server whose count is always 0 (the poll below would pass).
    uint32_t live = ctx.liveObjects();
    expect(live >= 5, "liveObjects() with 5 counters held returned ", live);
  }  // all counter clients dropped here -> Release messages

  uint32_t last = 0;
  bool released = pollUntil(ctx, 2 * kj::SECONDS, [&]() {
    last = ctx.liveObjects();
    return last == 0;
  });
  expect(released, "liveObjects() still ", last, " 2 s after dropping the counters");
}

void checkHoldRelease(CheckContext& ctx) {
  kj::Vector<int64_t> seen;
  {
    auto request = ctx.tester.holdRequest();
    request.setCallback(kj::heap<RecordingCallback>(seen));
    ctx.await(request.send());
  }
  uint32_t live = ctx.liveObjects();
  expect(live >= 1, "liveObjects() after hold() returned ", live);
  uint32_t released = ctx.await(ctx.tester.releaseHeldRequest().send()).getCount();
  expect(released == 1, "releaseHeld() returned ", released);
}

void checkConcurrent64(CheckContext& ctx) {
  constexpr int N = 64;
  auto calls = kj::heapArrayBuilder<kj::Promise<int32_t>>(N);
  for (int i = 0; i < N; i++) {
    auto request = ctx.tester.addRequest();
    request.setA(i);
    request.setB(i * 1000);
    calls.add(request.send().then([](auto&& response) { return response.getResult(); }));
  }
  auto results = ctx.await(kj::joinPromises(calls.finish()));
  for (int i = 0; i < N; i++) {
    expect(results[i] == i + i * 1000, "call ", i, " returned ", results[i]);
  }
}

void checkPayload1MiB(CheckContext& ctx) {
  auto payload = patternBytes(MIB);
  auto request = ctx.tester.echoRequest();
  request.setData(payload);
  auto response = ctx.await(request.send());
  auto data = response.getData();
  expect(data.size() == payload.size(), "echo returned ", data.size(), " bytes");
  for (size_t i = 0; i < data.size(); i++) {
    expect(data[i] == payload[i], "echo differs first at byte ", i);
  }
}

void checkCancellation(CheckContext& ctx) {
  uint32_t before = ctx.canceledCount();
  auto sent = kj::systemPreciseMonotonicClock().now();
  {
    auto request = ctx.tester.waitRequest();
    request.setMs(5000);
    auto pending = request.send();
    ctx.sleep(50 * kj::MILLISECONDS);  // lets the Call reach the server
  }  // dropping the promise sends Finish

  uint32_t now = before;
  bool noticed = pollUntil(ctx, 2 * kj::SECONDS, [&]() {
    now = ctx.canceledCount();
    return now > before;
  });
  expect(noticed, "canceledCount() stayed at ", now, " (was ", before, ")");
  int64_t ms = elapsedMs(sent);
  expect(ms < 5000, "cancellation took ", ms, " ms, i.e. the call ran to completion");
}

int runClient(kj::StringPtr socketPath) {
  // Backstop in case something blocks outside the per-check deadlines.
  alarm(180);

  capnp::EzRpcClient client(unixAddress(socketPath));
  CheckContext ctx(client);

  struct Check {
    const char* name;
    void (*run)(CheckContext&);
  };
  const Check checks[] = {
    {"bootstrap_add", checkBootstrapAdd},
    {"pipelining", checkPipelining},
    {"returned_capability", checkReturnedCapability},
    {"callback", checkCallback},
    {"exception_types", checkExceptionTypes},
    {"extended", checkExtended},
    {"release", checkRelease},
    {"hold_release", checkHoldRelease},
    {"concurrent64", checkConcurrent64},
    {"payload_1mib", checkPayload1MiB},
    {"cancellation", checkCancellation},
    {"echo_cap_loopback", checkEchoCapLoopback},
  };

  bool allPassed = true;
  for (auto& check: checks) {
    ctx.deadline = ctx.timer.now() + CHECK_TIMEOUT;
    KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { check.run(ctx); })) {
      allPassed = false;
      printf("FAIL %s: %s\n", check.name, oneLine(e->getDescription()).cStr());
    } else {
      printf("PASS %s\n", check.name);
    }
    fflush(stdout);
  }
  return allPassed ? 0 : 1;
}

// ---------------------------------------------------------------------------
// Benchmark client

constexpr kj::Duration WARMUP = 300 * kj::MILLISECONDS;

kj::Promise<void> sendAdd(Tester::Client& tester) {
  auto request = tester.addRequest();
  request.setA(1);
  request.setB(2);
  return request.send().then([](auto&& response) {
    KJ_REQUIRE(response.getResult() == 3, "add(1,2) returned wrong result");
  });
}

// Sequential add() calls for `duration`; returns calls per second.
double benchSequential(Tester::Client& tester, kj::WaitScope& waitScope, kj::Duration duration) {
  auto start = kj::systemPreciseMonotonicClock().now();
  auto end = start + duration;
  uint64_t calls = 0;
  while (kj::systemPreciseMonotonicClock().now() < end) {
    sendAdd(tester).wait(waitScope);
    ++calls;
  }
  return calls / elapsedSeconds(start);
}

// One of the 64 lanes: as soon as its call completes it sends the next, so
// 64 calls are outstanding until the deadline.
kj::Promise<void> inflightLane(Tester::Client& tester, kj::TimePoint end, uint64_t& calls) {
  return sendAdd(tester).then([&tester, end, &calls]() -> kj::Promise<void> {
    ++calls;
    if (kj::systemPreciseMonotonicClock().now() >= end) return kj::READY_NOW;
    return inflightLane(tester, end, calls);
  });
}

double benchInflight(Tester::Client& tester, kj::WaitScope& waitScope, kj::Duration duration) {
  constexpr int LANES = 64;
  auto start = kj::systemPreciseMonotonicClock().now();
  auto end = start + duration;
  uint64_t calls = 0;
  auto lanes = kj::heapArrayBuilder<kj::Promise<void>>(LANES);
  for (int i = 0; i < LANES; i++) lanes.add(inflightLane(tester, end, calls));
  kj::joinPromises(lanes.finish()).wait(waitScope);
  return calls / elapsedSeconds(start);
}

// Sequential 1 MiB echo() calls; returns payload bytes per second.
double benchBlob(Tester::Client& tester, kj::WaitScope& waitScope, kj::Duration duration,
                 kj::ArrayPtr<const kj::byte> payload) {
  auto start = kj::systemPreciseMonotonicClock().now();
  auto end = start + duration;
  uint64_t calls = 0;
  while (kj::systemPreciseMonotonicClock().now() < end) {
    auto request = tester.echoRequest();
    request.setData(payload);
    auto response = request.send().wait(waitScope);
    KJ_REQUIRE(response.getData().size() == payload.size(), "echo returned wrong size");
    ++calls;
  }
  return double(calls) * double(MIB) / elapsedSeconds(start);
}

int runBenchClient(kj::StringPtr socketPath, double seconds) {
  // Backstop: three warm-ups, three measurements, plus generous slack.
  alarm(static_cast<unsigned>(3 * seconds) + 60);

  capnp::EzRpcClient client(unixAddress(socketPath));
  auto& waitScope = client.getWaitScope();
  Tester::Client tester = client.getMain<Tester>();
  auto duration = static_cast<int64_t>(seconds * 1000) * kj::MILLISECONDS;
  auto payload = patternBytes(MIB);

  benchSequential(tester, waitScope, WARMUP);
  printf("BENCH seq_calls_per_s %.0f\n", benchSequential(tester, waitScope, duration));
  fflush(stdout);

  benchInflight(tester, waitScope, WARMUP);
  printf("BENCH inflight64_calls_per_s %.0f\n", benchInflight(tester, waitScope, duration));
  fflush(stdout);

  benchBlob(tester, waitScope, WARMUP, payload);
  printf("BENCH blob_bytes_per_s %.0f\n", benchBlob(tester, waitScope, duration, payload));
  fflush(stdout);
  return 0;
}

// ---------------------------------------------------------------------------
// Failure-injection modes

int runDieMidCall(kj::StringPtr socketPath) {
  capnp::EzRpcClient client(unixAddress(socketPath));
  auto& waitScope = client.getWaitScope();
  auto tester = client.getMain<Tester>();
  auto request = tester.waitRequest();
  request.setMs(10000);
  auto pending = request.send();
  // Calls on one capability are delivered in order: once add() is answered,
  // the server is running wait().
  auto add = tester.addRequest();
  add.setA(1);
  add.setB(1);
  add.send().wait(waitScope);
  // No clean shutdown: the server sees the socket vanish with a call in flight.
  raise(SIGKILL);
  return 1;  // not reached
}

int runExpectDisconnect(kj::StringPtr socketPath) {
  alarm(60);
  capnp::EzRpcClient client(unixAddress(socketPath));
  auto& waitScope = client.getWaitScope();
  auto request = client.getMain<Tester>().waitRequest();
  request.setMs(10000);
  auto sent = kj::systemPreciseMonotonicClock().now();
  kj::Promise<void> call = request.send().ignoreResult();

  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { call.wait(waitScope); })) {
    printf("DISCONNECTED %lld %s %s\n", static_cast<long long>(elapsedMs(sent)),
           kj::str(e->getType()).cStr(), oneLine(e->getDescription()).cStr());
    fflush(stdout);
    return 0;
  }
  printf("COMPLETED %lld\n", static_cast<long long>(elapsedMs(sent)));
  fflush(stdout);
  return 1;
}

int usage() {
  fprintf(stderr,
          "usage: peer server|bench-server|client|die-mid-call|expect-disconnect <socketpath>\n"
          "       peer bench-client <socketpath> <seconds>\n");
  return 2;
}

}  // namespace

int main(int argc, char* argv[]) {
  // A peer vanishing mid-write must surface as EPIPE, not kill this process.
  signal(SIGPIPE, SIG_IGN);

  if (argc < 3) return usage();
  kj::StringPtr mode = argv[1];
  kj::StringPtr path = argv[2];
  bool isBench = mode == "bench-client";
  if (argc != (isBench ? 4 : 3)) return usage();

  int status = 2;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() {
    if (mode == "server" || mode == "bench-server") {
      status = runServer(path);
    } else if (mode == "client") {
      status = runClient(path);
    } else if (isBench) {
      double seconds = atof(argv[3]);
      status = seconds > 0 ? runBenchClient(path, seconds) : usage();
    } else if (mode == "die-mid-call") {
      status = runDieMidCall(path);
    } else if (mode == "expect-disconnect") {
      status = runExpectDisconnect(path);
    } else {
      status = usage();
    }
  })) {
    fprintf(stderr, "peer %s: %s\n", mode.cStr(), oneLine(e->getDescription()).cStr());
    return 1;
  }
  return status;
}
