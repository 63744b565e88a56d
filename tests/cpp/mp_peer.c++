// C++ peer that behaves like a libmultiprocess peer for examples/schemas/conformance.capnp.
//
// Uses only the stock Cap'n Proto C++ library (KJ, rpc-twoparty, EzRpcClient):
// no libmultiprocess. Its threading conventions (ThreadMap, Thread, Context;
// see runtime/schema/mp/proxy.capnp) are re-implemented with promises, so the
// TypeScript runtime can be tested against an independent implementation.
//
// Modes:
//   mp_peer server <socketpath>   serve FooInit on a unix socket, print READY
//   mp_peer client <socketpath>   run the conformance checks against a server;
//                                 prints "CHECK <name> ok" or
//                                 "CHECK <name> FAIL <detail>" per check, then
//                                 "DONE <passed> <failed>"; exit 0 iff none failed

#include "conformance.capnp.h"
#include "mp/proxy.capnp.h"

#include <capnp/capability.h>
#include <capnp/ez-rpc.h>
#include <capnp/message.h>
#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/async.h>
#include <kj/debug.h>
#include <kj/exception.h>
#include <kj/function.h>
#include <kj/time.h>
#include <kj/timer.h>
#include <kj/vector.h>

#include <limits>
#include <signal.h>
#include <stdexcept>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

// ---------------------------------------------------------------------------
// Shared helpers

kj::String unixAddress(kj::StringPtr path) { return kj::str("unix:", path); }

// Keeps an exception description on one output line.
kj::String oneLine(kj::StringPtr text) {
  auto result = kj::heapString(text);
  for (char& c: result) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return result;
}

// Unsigned arithmetic: Int32 wraps around instead of signed-overflow UB.
int32_t wrappingAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// Runs a function exactly once: when asked to, or else on destruction (a
// promise chain that is dropped, i.e. canceled, never gets to ask).
class Cleanup {
public:
  explicit Cleanup(kj::Function<void()> fn): fn(kj::mv(fn)) {}
  ~Cleanup() noexcept(false) { run(); }
  KJ_DISALLOW_COPY(Cleanup);

  void run() {
    KJ_IF_MAYBE(f, fn) {
      auto once = kj::mv(*f);
      fn = nullptr;
      once();
    }
  }

private:
  kj::Maybe<kj::Function<void()>> fn;
};

// Runs `fn` as soon as `promise` settles, whether it succeeds or fails. Not
// via attach(): an RPC call's promise lives on until the caller's Finish.
template <typename T>
kj::Promise<T> whenSettled(kj::Promise<T>&& promise, kj::Function<void()> fn) {
  auto cleanup = kj::heap<Cleanup>(kj::mv(fn));
  Cleanup& ref = *cleanup;
  return promise
      .then([&ref](T&& value) {
        ref.run();
        return kj::mv(value);
      }, [&ref](kj::Exception&& e) -> T {
        ref.run();
        kj::throwFatalException(kj::mv(e));
      })
      .attach(kj::mv(cleanup));
}

kj::Promise<void> whenSettled(kj::Promise<void>&& promise, kj::Function<void()> fn) {
  auto cleanup = kj::heap<Cleanup>(kj::mv(fn));
  Cleanup& ref = *cleanup;
  return promise
      .then([&ref]() { ref.run(); },
            [&ref](kj::Exception&& e) {
        ref.run();
        kj::throwFatalException(kj::mv(e));
      })
      .attach(kj::mv(cleanup));
}

// ---------------------------------------------------------------------------
// Server: strands (what libmultiprocess runs on OS threads)

// A serial executor standing in for one libmultiprocess server thread: a
// minted Thread or a pool slot. Calls posted to a pool slot run one at a
// time, in arrival order. A minted Thread is strict, as libmultiprocess'
// threads up to Bitcoin Core v30 are: it holds one posted call, and a second
// one arriving while it is busy (not waiting on a callback) fails, where
// libmultiprocess aborts with "Assertion '!m_fn' failed". Clients must queue
// their calls to one thread themselves.
class Strand final: public kj::Refcounted {
public:
  Strand(kj::String name, bool strict): name(kj::mv(name)), strict(strict) {}

  kj::Promise<void> post(kj::Function<kj::Promise<void>()> body);

  // Wraps an outgoing call (a callback) made by the strand's running call.
  template <typename T>
  kj::Promise<T> callOut(kj::Promise<T>&& call) {
    ++callbackDepth;
    return whenSettled(kj::mv(call), [self = kj::addRef(*this)]() mutable {
      --self->callbackDepth;
    });
  }

  const kj::String name;
  const bool strict;
  uint32_t inFlight = 0;  // calls queued or running; the pool picks the least busy slot

private:
  uint32_t callbackDepth = 0;               // callbacks the running call waits on
  kj::Promise<void> tail = kj::READY_NOW;   // settles when the last queued call ends
};

kj::Promise<void> Strand::post(kj::Function<kj::Promise<void>()> body) {
  // A libmultiprocess thread blocked on a callback serves calls posted to it
  // meanwhile; that is how recursion (callback calls back in) works. Queueing
  // such a call behind the waiting one would deadlock.
  if (callbackDepth > 0) return body();
  if (strict && inFlight > 0) {
    return kj::evalNow([this]() -> kj::Promise<void> {
      throw std::runtime_error(kj::str("Assertion '!m_fn' failed: a second call posted to ",
                                       name, " while it runs one").cStr());
    });
  }

  auto next = kj::newPromiseAndFulfiller<void>();
  auto previous = kj::mv(tail);
  tail = kj::mv(next.promise);
  ++inFlight;
  // However this call ends (or is canceled), the next one may start.
  auto endTurn = [self = kj::addRef(*this), fulfiller = kj::mv(next.fulfiller)]() mutable {
    --self->inFlight;
    fulfiller->fulfill();
  };
  return whenSettled(previous.then(kj::mv(body)), kj::mv(endTurn));
}

class ServerThread final: public mp::Thread::Server {
public:
  explicit ServerThread(kj::Own<Strand> strand): strand(kj::mv(strand)) {}

  kj::Promise<void> getName(GetNameContext context) override {
    context.getResults().setResult(strand->name);
    return kj::READY_NOW;
  }

  kj::Own<Strand> strand;
};

// A call that has been given a strand, plus what it needs to make callbacks.
struct RunningCall {
  RunningCall(kj::Own<Strand> strand, mp::Thread::Client thread,
              kj::Maybe<mp::Thread::Client> callbackThread)
      : strand(kj::mv(strand)), thread(kj::mv(thread)), callbackThread(kj::mv(callbackThread)) {}

  kj::Own<Strand> strand;
  mp::Thread::Client thread;                     // the Thread the call runs on
  kj::Maybe<mp::Thread::Client> callbackThread;  // the caller's, from its Context

  // Callbacks go to the caller's callbackThread, and name this call's thread
  // as the one that calls nested inside the callback must use.
  void fillCallbackContext(mp::Context::Builder ctx) {
    KJ_IF_MAYBE(t, callbackThread) ctx.setThread(*t);
    ctx.setCallbackThread(thread);
  }

  template <typename T>
  kj::Promise<T> callOut(kj::Promise<T>&& call) { return strand->callOut(kj::mv(call)); }
};

using Body = kj::Function<kj::Promise<void>(RunningCall&)>;

struct PoolSlot {
  kj::Own<Strand> strand;
  mp::Thread::Client thread;  // lets callbacks name the slot as their callbackThread
};

// Per-connection state: libmultiprocess keeps threads, pool and objects per
// Connection, so a Thread minted on one connection is invalid on another.
class ConnState final: public kj::Refcounted {
public:
  explicit ConnState(kj::Timer& timer): timer(timer) {}

  kj::Timer& timer;
  kj::Maybe<mp::ThreadMap::Client> clientThreadMap;  // from construct(); kept, never used
  uint32_t liveFoos = 0;

  mp::Thread::Client mintThread(kj::StringPtr requestedName);
  void addPoolSlot();

  // Runs `body` on the thread `ctx` selects, per libmultiprocess' rules.
  kj::Promise<void> run(mp::Context::Reader ctx, Body body) {
    // evalNow: a std::exception thrown here reaches the caller as
    // "std::exception: <what>", the form libmultiprocess errors take.
    return kj::evalNow([&]() { return dispatch(ctx, kj::mv(body)); });
  }

private:
  capnp::CapabilityServerSet<mp::Thread> threads;  // every Thread minted here
  kj::Vector<PoolSlot> pool;

  kj::Promise<void> dispatch(mp::Context::Reader ctx, Body body);
  kj::Promise<void> runOnPool(kj::Maybe<mp::Thread::Client> callbackThread, Body body);
  static kj::Promise<void> start(kj::Own<RunningCall> call, Body body);
};

uint32_t threadCounter = 0;  // thread numbers are unique process-wide

mp::Thread::Client ConnState::mintThread(kj::StringPtr requestedName) {
  auto name = kj::str("mp_peer-", getpid(), "/thread-", ++threadCounter,
                      " (from ", requestedName, ")");
  return threads.add(kj::heap<ServerThread>(kj::refcounted<Strand>(kj::mv(name), true)));
}

void ConnState::addPoolSlot() {
  auto strand =
      kj::refcounted<Strand>(kj::str("mp_peer-", getpid(), "/pool-", pool.size()), false);
  auto thread = threads.add(kj::heap<ServerThread>(kj::addRef(*strand)));
  pool.add(PoolSlot{kj::mv(strand), kj::mv(thread)});
}

kj::Promise<void> ConnState::dispatch(mp::Context::Reader ctx, Body body) {
  kj::Maybe<mp::Thread::Client> callbackThread;
  if (ctx.hasCallbackThread()) callbackThread = ctx.getCallbackThread();
  if (!ctx.hasThread()) return runOnPool(kj::mv(callbackThread), kj::mv(body));

  // The handle may still be a promise (pipelined makeThread), so the lookup
  // is asynchronous. A Thread from another connection arrives as an import,
  // never as one of our servers, and is rejected.
  mp::Thread::Client thread = ctx.getThread();
  auto lookup = threads.getLocalServer(thread);
  return lookup.then([thread, callbackThread = kj::mv(callbackThread), body = kj::mv(body)](
                         kj::Maybe<mp::Thread::Server&> server) mutable {
    KJ_IF_MAYBE(s, server) {
      auto& strand = *kj::downcast<ServerThread>(*s).strand;
      return start(kj::heap<RunningCall>(kj::addRef(strand), kj::mv(thread), kj::mv(callbackThread)),
                   kj::mv(body));
    }
    throw std::runtime_error("invalid thread handle");
  });
}

kj::Promise<void> ConnState::runOnPool(kj::Maybe<mp::Thread::Client> callbackThread, Body body) {
  if (pool.empty()) throw std::runtime_error("no thread specified and no pool configured");
  PoolSlot* best = &pool[0];
  for (auto& slot: pool) {
    if (slot.strand->inFlight < best->strand->inFlight) best = &slot;
  }
  return start(kj::heap<RunningCall>(kj::addRef(*best->strand), best->thread, kj::mv(callbackThread)),
               kj::mv(body));
}

kj::Promise<void> ConnState::start(kj::Own<RunningCall> call, Body body) {
  Strand& strand = *call->strand;
  return strand.post([call = kj::mv(call), body = kj::mv(body)]() mutable {
    RunningCall& ref = *call;
    return body(ref).attach(kj::mv(call));
  });
}

// ---------------------------------------------------------------------------
// Server: the conformance objects

class ServerThreadMap final: public mp::ThreadMap::Server {
public:
  explicit ServerThreadMap(kj::Own<ConnState> conn): conn(kj::mv(conn)) {}

  kj::Promise<void> makeThread(MakeThreadContext context) override {
    context.getResults().setResult(conn->mintThread(context.getParams().getName()));
    return kj::READY_NOW;
  }

  kj::Promise<void> makePool(MakePoolContext context) override {
    constexpr uint32_t MAX_POOL = 1024;  // a pool slot is cheap, but not free
    uint32_t count = context.getParams().getCount();
    if (count > MAX_POOL) throw std::runtime_error("pool size too large");
    for (uint32_t i = 0; i < count; i++) conn->addPoolSlot();
    return kj::READY_NOW;
  }

private:
  kj::Own<ConnState> conn;
};

class FooImpl final: public Foo::Server {
public:
  explicit FooImpl(kj::Own<ConnState> conn): conn(kj::mv(conn)) { ++this->conn->liveFoos; }
  ~FooImpl() noexcept(false) { markDestroyed(); }

  kj::Promise<void> destroy(DestroyContext context) override {
    return onThread(context.getParams().getContext(), [this](RunningCall&) -> kj::Promise<void> {
      markDestroyed();
      return kj::READY_NOW;
    });
  }

  kj::Promise<void> add(AddContext context) override {
    auto params = context.getParams();
    context.getResults().setResult(wrappingAdd(params.getA(), params.getB()));
    return kj::READY_NOW;
  }

  kj::Promise<void> addInOut(AddInOutContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall&) mutable {
      auto params = context.getParams();
      context.getResults().setSum(wrappingAdd(params.getSum(), params.getX()));
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  kj::Promise<void> addOut(AddOutContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall&) mutable {
      auto params = context.getParams();
      auto results = context.getResults();
      results.setSum(wrappingAdd(params.getA(), params.getB()));
      results.setProduct(int64_t(params.getA()) * int64_t(params.getB()));
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  kj::Promise<void> pass(PassContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall&) mutable {
      context.getResults().setResult(context.getParams().getArg());
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  // The error travels in the result field ($Proxy.exception); the call succeeds.
  kj::Promise<void> raise(RaiseContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall&) mutable {
      context.getResults().setError(context.getParams().getArg());
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  kj::Promise<void> raiseText(RaiseTextContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall&) mutable {
      context.getResults().setError(context.getParams().getMessage());
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  kj::Promise<void> mapSize(MapSizeContext context) override {
    context.getResults().setResult(static_cast<int32_t>(context.getParams().getMap().size()));
    return kj::READY_NOW;
  }

  kj::Promise<void> callback(CallbackContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall& call) mutable {
      auto params = context.getParams();
      return callCallback(call, params.getCallback(), params.getArg())
          .then([context](int32_t result) mutable { context.getResults().setResult(result); });
    });
  }

  kj::Promise<void> saveCallback(SaveCallbackContext context) override {
    return onThread(context.getParams().getContext(), [this, context](RunningCall&) mutable {
      saved = context.getParams().getCallback();
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  kj::Promise<void> callbackSaved(CallbackSavedContext context) override {
    return onThread(context.getParams().getContext(), [this, context](RunningCall& call) mutable {
      KJ_IF_MAYBE(cb, saved) {
        return callCallback(call, *cb, context.getParams().getArg())
            .then([context](int32_t result) mutable { context.getResults().setResult(result); });
      }
      throw std::runtime_error("no saved callback");
    });
  }

  kj::Promise<void> callbackExtended(CallbackExtendedContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall& call) mutable {
      auto params = context.getParams();
      auto request = params.getCallback().callExtendedRequest();
      call.fillCallbackContext(request.initContext());
      request.setArg(params.getArg());
      return call.callOut(request.send()).then([context](auto&& response) mutable {
        context.getResults().setResult(response.getResult());
      });
    });
  }

  kj::Promise<void> passFn(PassFnContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall& call) mutable {
      auto request = context.getParams().getFn().callRequest();
      call.fillCallbackContext(request.initContext());
      return call.callOut(request.send()).then([context](auto&& response) mutable {
        context.getResults().setResult(response.getResult());
      });
    });
  }

  kj::Promise<void> wait(WaitContext context) override {
    return onThread(context.getParams().getContext(), [this, context](RunningCall&) mutable {
      auto params = context.getParams();
      int32_t value = params.getValue();
      return conn->timer.afterDelay(params.getMs() * kj::MILLISECONDS)
          .then([this, context, value]() mutable {
        completions.add(value);
        context.getResults().setResult(value);
      });
    });
  }

  kj::Promise<void> waitLog(WaitLogContext context) override {
    return onThread(context.getParams().getContext(), [this, context](RunningCall&) mutable {
      auto result = context.getResults().initResult(completions.size());
      for (uint i = 0; i < completions.size(); i++) result.set(i, completions[i]);
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  kj::Promise<void> threadName(ThreadNameContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall& call) mutable {
      context.getResults().setResult(call.strand->name);
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  kj::Promise<void> passScalars(PassScalarsContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall&) mutable {
      context.getResults().setResult(context.getParams().getValue());
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  kj::Promise<void> passOptional(PassOptionalContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall&) mutable {
      auto params = context.getParams();
      auto results = context.getResults();
      if (params.getHasValue()) results.setResult(params.getValue());
      results.setHasResult(params.getHasValue());
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  kj::Promise<void> passPoint(PassPointContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall&) mutable {
      context.getResults().setResult(context.getParams().getPoint());
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  kj::Promise<void> makeChild(MakeChildContext context) override {
    return onThread(context.getParams().getContext(), [this, context](RunningCall&) mutable {
      context.getResults().setResult(kj::heap<FooImpl>(kj::addRef(*conn)));
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  kj::Promise<void> addWith(AddWithContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall& call) mutable {
      auto params = context.getParams();
      auto request = params.getFoo().addRequest();
      request.setA(params.getA());
      request.setB(params.getB());
      // Counted as a callback: `foo` may live in the caller and call back in.
      return call.callOut(request.send()).then([context](auto&& response) mutable {
        context.getResults().setResult(response.getResult());
      });
    });
  }

  kj::Promise<void> liveFoos(LiveFoosContext context) override {
    return onThread(context.getParams().getContext(), [this, context](RunningCall&) mutable {
      context.getResults().setResult(conn->liveFoos);
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

  kj::Promise<void> invertMap(InvertMapContext context) override {
    return onThread(context.getParams().getContext(), [context](RunningCall&) mutable {
      auto map = context.getParams().getMap();
      auto result = context.getResults().initResult(map.size());
      for (uint i = 0; i < map.size(); i++) {
        result[i].setKey(map[i].getValue());
        result[i].setValue(map[i].getKey());
      }
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

private:
  kj::Own<ConnState> conn;
  bool destroyed = false;
  kj::Vector<int32_t> completions;  // wait() values, in completion order
  kj::Maybe<FooCallback::Client> saved;

  kj::Promise<void> onThread(mp::Context::Reader ctx, Body body) {
    // libmultiprocess deletes the object on destroy(); later calls can only fail.
    if (destroyed) {
      return kj::evalNow([]() -> kj::Promise<void> { throw std::runtime_error("Foo was destroyed"); });
    }
    return conn->run(ctx, kj::mv(body));
  }

  // destroy() and the final release both end up here; count the object once.
  void markDestroyed() {
    if (destroyed) return;
    destroyed = true;
    --conn->liveFoos;
  }

  static kj::Promise<int32_t> callCallback(RunningCall& call, FooCallback::Client callback,
                                           int32_t arg) {
    auto request = callback.callRequest();
    call.fillCallbackContext(request.initContext());
    request.setArg(arg);
    return call.callOut(request.send()).then([](auto&& response) { return response.getResult(); });
  }
};

class FooInitImpl final: public FooInit::Server {
public:
  explicit FooInitImpl(kj::Own<ConnState> conn): conn(kj::mv(conn)) {}

  kj::Promise<void> construct(ConstructContext context) override {
    auto params = context.getParams();
    if (params.hasThreadMap()) conn->clientThreadMap = params.getThreadMap();
    context.getResults().setThreadMap(threadMap());
    return kj::READY_NOW;
  }

  kj::Promise<void> makeFoo(MakeFooContext context) override {
    return conn->run(context.getParams().getContext(), [this, context](RunningCall&) mutable {
      context.getResults().setResult(kj::heap<FooImpl>(kj::addRef(*conn)));
      return kj::Promise<void>(kj::READY_NOW);
    });
  }

private:
  kj::Own<ConnState> conn;
  kj::Maybe<mp::ThreadMap::Client> threadMapClient;  // one per connection, made on first use

  mp::ThreadMap::Client threadMap() {
    KJ_IF_MAYBE(existing, threadMapClient) return *existing;
    mp::ThreadMap::Client made = kj::heap<ServerThreadMap>(kj::addRef(*conn));
    threadMapClient = made;
    return made;
  }
};

// ---------------------------------------------------------------------------
// Server: connections

// One accepted connection with its own FooInit (hence its own threads). This
// is what EzRpcServer does internally, except that EzRpcServer hands every
// connection the same bootstrap object, which would merge their state.
struct Connection {
  Connection(kj::Own<kj::AsyncIoStream>&& stream, kj::Timer& timer)
      : stream(kj::mv(stream)),
        network(*this->stream, capnp::rpc::twoparty::Side::SERVER),
        rpcSystem(capnp::makeRpcServer(
            network, FooInit::Client(kj::heap<FooInitImpl>(kj::refcounted<ConnState>(timer))))) {}

  kj::Own<kj::AsyncIoStream> stream;
  capnp::TwoPartyVatNetwork network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpcSystem;
};

class Listener final: private kj::TaskSet::ErrorHandler {
public:
  Listener(kj::Own<kj::ConnectionReceiver> receiver, kj::Timer& timer)
      : receiver(kj::mv(receiver)), timer(timer), connections(*this) {}

  kj::Promise<void> acceptLoop() {
    return receiver->accept().then([this](kj::Own<kj::AsyncIoStream>&& stream) {
      auto connection = kj::heap<Connection>(kj::mv(stream), timer);
      auto disconnected = connection->network.onDisconnect();
      connections.add(disconnected.attach(kj::mv(connection)));
      return acceptLoop();
    });
  }

private:
  kj::Own<kj::ConnectionReceiver> receiver;
  kj::Timer& timer;
  kj::TaskSet connections;  // each task owns its Connection until disconnect

  void taskFailed(kj::Exception&& e) override {
    fprintf(stderr, "mp_peer server: connection failed: %s\n", oneLine(e.getDescription()).cStr());
  }
};

int runServer(kj::StringPtr socketPath) {
  // A socket file left by a killed run would make bind() fail with EADDRINUSE.
  struct stat st;
  if (lstat(socketPath.cStr(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    unlink(socketPath.cStr());
  }

  auto io = kj::setupAsyncIo();
  auto address = io.provider->getNetwork().parseAddress(unixAddress(socketPath)).wait(io.waitScope);
  Listener listener(address->listen(), io.provider->getTimer());  // bound and listening here
  printf("READY\n");
  fflush(stdout);

  listener.acceptLoop().wait(io.waitScope);  // only returns by throwing
  return 1;
}

// ---------------------------------------------------------------------------
// Client: one connection set up the libmultiprocess way

constexpr kj::Duration CHECK_TIMEOUT = 10 * kj::SECONDS;
constexpr const char* TIMED_OUT = "check timed out after 10 s";

class ClientThread final: public mp::Thread::Server {
public:
  explicit ClientThread(kj::String name): name(kj::mv(name)) {}

  kj::Promise<void> getName(GetNameContext context) override {
    context.getResults().setResult(name);
    return kj::READY_NOW;
  }

private:
  kj::String name;
};

// Sent in construct() so the server could mint threads here, as a
// libmultiprocess client does; the conformance server never uses it.
class ClientThreadMap final: public mp::ThreadMap::Server {
public:
  explicit ClientThreadMap(capnp::CapabilityServerSet<mp::Thread>& threads): threads(threads) {}

  kj::Promise<void> makeThread(MakeThreadContext context) override {
    auto name = kj::str("mp_peer-", getpid(), "/client (from ", context.getParams().getName(), ")");
    context.getResults().setResult(threads.add(kj::heap<ClientThread>(kj::mv(name))));
    return kj::READY_NOW;
  }

  kj::Promise<void> makePool(MakePoolContext context) override { return kj::READY_NOW; }

private:
  capnp::CapabilityServerSet<mp::Thread>& threads;
};

// Everything a check needs. Checks are written in blocking style; every wait
// goes through await(), which enforces the per-check deadline.
class Session {
public:
  Session(capnp::EzRpcClient& client, kj::StringPtr threadName)
      : timer(client.getIoProvider().getTimer()),
        waitScope(client.getWaitScope()),
        init(client.getMain<FooInit>()) {
    // libmultiprocess' client recipe, fully pipelined: no round trip yet.
    auto construct = init.constructRequest();
    construct.setThreadMap(kj::heap<ClientThreadMap>(localThreads));
    serverThreadMap = construct.send().getThreadMap();
    auto makeThread = serverThreadMap.makeThreadRequest();
    makeThread.setName(threadName);
    thread = makeThread.send().getResult();

    auto local = kj::heap<ClientThread>(kj::str("mp_peer-", getpid(), "/", threadName));
    callbackThreadServer = local.get();
    callbackThread = localThreads.add(kj::mv(local));
  }

  kj::Timer& timer;
  kj::WaitScope& waitScope;
  kj::TimePoint deadline = kj::origin<kj::TimePoint>();
  capnp::CapabilityServerSet<mp::Thread> localThreads;  // Threads served by this process
  FooInit::Client init;
  mp::ThreadMap::Client serverThreadMap = nullptr;
  mp::Thread::Client thread = nullptr;          // minted by the server for us
  mp::Thread::Client callbackThread = nullptr;  // ours; callbacks must arrive on it
  const mp::Thread::Server* callbackThreadServer = nullptr;
  kj::Vector<kj::String> callbackProblems;      // found inside callbacks, reported by the check

  template <typename T>
  T await(kj::Promise<T>&& promise) {
    return promise.exclusiveJoin(timer.atTime(deadline).then([]() -> kj::Promise<T> {
      // Not KJ_EXCEPTION: it would describe this as "TIMED_OUT = ...".
      return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                           kj::heapString(TIMED_OUT));
    })).wait(waitScope);
  }

  void sleep(kj::Duration duration) { await(timer.afterDelay(duration)); }

  void setContext(mp::Context::Builder ctx) {
    ctx.setThread(thread);
    ctx.setCallbackThread(callbackThread);
  }

  Foo::Client makeFoo() {
    auto request = init.makeFooRequest();
    setContext(request.initContext());
    return await(request.send()).getResult();
  }

  uint32_t liveFoos(Foo::Client& foo) {
    auto request = foo.liveFoosRequest();
    setContext(request.initContext());
    return await(request.send()).getResult();
  }
};

// ---------------------------------------------------------------------------
// Client: callback implementations

// A callback must arrive with context.thread = our own callbackThread, which
// is where libmultiprocess addresses it. Mismatches are recorded for the
// check to report, since the callback itself should still answer.
kj::Promise<void> verifyCallbackContext(Session& s, mp::Context::Reader ctx, kj::StringPtr where) {
  if (!ctx.hasThread()) {
    s.callbackProblems.add(kj::str(where, ": context.thread is null"));
    return kj::READY_NOW;
  }
  if (!ctx.hasCallbackThread()) {
    s.callbackProblems.add(kj::str(where, ": context.callbackThread is null"));
  }
  mp::Thread::Client thread = ctx.getThread();
  auto lookup = s.localThreads.getLocalServer(thread);
  return lookup.then([&s, thread, where](kj::Maybe<mp::Thread::Server&> server) {
    KJ_IF_MAYBE(t, server) {
      if (t != s.callbackThreadServer) {
        s.callbackProblems.add(kj::str(where, ": context.thread is another of our threads"));
      }
    } else {
      s.callbackProblems.add(kj::str(where, ": context.thread is not a Thread of this process"));
    }
  });
}

int32_t doubled(int32_t arg) { return static_cast<int32_t>(static_cast<uint32_t>(arg) * 2u); }

class DoublingCallback final: public FooCallback::Server {
public:
  explicit DoublingCallback(Session& s): s(s) {}

  kj::Promise<void> destroy(DestroyContext context) override { return kj::READY_NOW; }

  kj::Promise<void> call(CallContext context) override {
    return verifyCallbackContext(s, context.getParams().getContext(), "FooCallback.call")
        .then([context]() mutable {
      context.getResults().setResult(doubled(context.getParams().getArg()));
    });
  }

private:
  Session& s;
};

class ExtendedCallbackImpl final: public ExtendedCallback::Server {
public:
  explicit ExtendedCallbackImpl(Session& s): s(s) {}

  kj::Promise<void> destroy(DestroyContext context) override { return kj::READY_NOW; }

  kj::Promise<void> call(CallContext context) override {
    return verifyCallbackContext(s, context.getParams().getContext(), "ExtendedCallback.call")
        .then([context]() mutable {
      context.getResults().setResult(doubled(context.getParams().getArg()));
    });
  }

  kj::Promise<void> callExtended(CallExtendedContext context) override {
    return verifyCallbackContext(s, context.getParams().getContext(), "callExtended")
        .then([context]() mutable {
      context.getResults().setResult(wrappingAdd(context.getParams().getArg(), 100));
    });
  }

private:
  Session& s;
};

// Calls back into the Foo while the server's passFn waits on this function:
// the server must run the nested call on the waiting thread, not queue it.
class RecursingFn final: public FooFn::Server {
public:
  RecursingFn(Session& s, Foo::Client foo): s(s), foo(kj::mv(foo)) {}

  kj::Promise<void> destroy(DestroyContext context) override { return kj::READY_NOW; }

  kj::Promise<void> call(CallContext context) override {
    return verifyCallbackContext(s, context.getParams().getContext(), "FooFn.call")
        .then([this]() {
      auto request = foo.addInOutRequest();
      s.setContext(request.initContext());
      request.setX(1);
      request.setSum(41);
      return request.send().then([](auto&& response) { return response.getSum(); });
    }).then([context](int32_t sum) mutable {
      context.getResults().setResult(sum);
    });
  }

private:
  Session& s;
  Foo::Client foo;
};

// ---------------------------------------------------------------------------
// Client: checks

// Throws a FAILED exception whose description becomes the FAIL detail.
template <typename... Params>
void expect(bool condition, Params&&... reason) {
  if (!condition) {
    kj::throwFatalException(kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                                          kj::str(kj::fwd<Params>(reason)...)));
  }
}

// `promise` must fail with a description containing `needle`.
template <typename T>
void expectFailure(Session& s, kj::Promise<T>&& promise, kj::StringPtr needle,
                   kj::StringPtr what) {
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { s.await(kj::mv(promise)); })) {
    expect(e->getDescription() != TIMED_OUT, what, " timed out");
    expect(strstr(e->getDescription().cStr(), needle.cStr()) != nullptr,
           what, " failed without '", needle, "': ", oneLine(e->getDescription()));
  } else {
    expect(false, what, " succeeded; expected an error containing '", needle, "'");
  }
}

void expectNoCallbackProblems(Session& s) {
  expect(s.callbackProblems.empty(), "inside callback: ",
         s.callbackProblems.empty() ? kj::str("") : kj::strArray(s.callbackProblems, "; "));
}

bool contains(kj::StringPtr haystack, kj::StringPtr needle) {
  return strstr(haystack.cStr(), needle.cStr()) != nullptr;
}

void checkMakeFoo(Session& s) {
  auto foo = s.makeFoo();
  auto request = foo.addRequest();
  request.setA(1);
  request.setB(1);
  int32_t result = s.await(request.send()).getResult();
  expect(result == 2, "add(1,1) on the new Foo returned ", result);
}

int32_t callAdd(Session& s, Foo::Client& foo, int32_t a, int32_t b) {
  auto request = foo.addRequest();
  request.setA(a);
  request.setB(b);
  return s.await(request.send()).getResult();
}

void checkAdd(Session& s) {
  auto foo = s.makeFoo();
  int32_t sum = callAdd(s, foo, 2, 3);
  expect(sum == 5, "add(2,3) returned ", sum);
  int32_t wrapped = callAdd(s, foo, 0x7fffffff, 1);
  expect(wrapped == std::numeric_limits<int32_t>::min(), "add(0x7fffffff,1) returned ", wrapped);
}

void checkAddInOut(Session& s) {
  auto foo = s.makeFoo();
  auto request = foo.addInOutRequest();
  s.setContext(request.initContext());
  request.setX(3);
  request.setSum(4);
  int32_t sum = s.await(request.send()).getSum();
  expect(sum == 7, "addInOut(x=3,sum=4) returned sum ", sum);
}

void checkAddOut(Session& s) {
  auto foo = s.makeFoo();
  auto request = foo.addOutRequest();
  s.setContext(request.initContext());
  request.setA(6);
  request.setB(7);
  auto response = s.await(request.send());
  expect(response.getSum() == 13, "addOut(6,7) sum ", response.getSum());
  expect(response.getProduct() == 42, "addOut(6,7) product ", response.getProduct());
}

void fillFooStruct(FooStruct::Builder s) {
  s.setName("cpp-struct");
  auto setint = s.initSetint(3);
  for (uint i = 0; i < 3; i++) setint.set(i, int32_t(i + 1));
  auto vbool = s.initVbool(3);
  vbool.set(0, true);
  vbool.set(1, false);
  vbool.set(2, true);
  s.setOptionalInt(-17);
  s.setHasOptionalInt(true);
  auto texts = s.initTexts(3);
  texts.set(0, "alpha");
  texts.set(1, "");
  texts.set(2, "gr\xc3\xbc\xc3\x9f");  // UTF-8
  auto nested = s.initNested(3);
  auto first = nested.init(0, 2);
  first.set(0, 1);
  first.set(1, 2);
  nested.init(1, 0);
  nested.init(2, 1).set(0, 255);
  s.setColor(Color::BLUE);
  const kj::byte blob[] = {0, 1, 0x7f, 0x80, 0xff};
  s.setBlob(kj::arrayPtr(blob, sizeof(blob)));
}

// Stringified structs compare every field (and show them on failure).
void expectSameStruct(FooStruct::Reader sent, FooStruct::Reader got, kj::StringPtr what) {
  auto want = sent.toString().flatten();
  auto have = got.toString().flatten();
  expect(want == have, what, " returned ", have, " instead of ", want);
}

// The sent value is built in a message of its own: a request's builder is
// not guaranteed to stay readable after send().
void checkPassStruct(Session& s) {
  capnp::MallocMessageBuilder sent;
  fillFooStruct(sent.initRoot<FooStruct>());
  auto foo = s.makeFoo();
  auto request = foo.passRequest();
  s.setContext(request.initContext());
  request.setArg(sent.getRoot<FooStruct>().asReader());
  auto response = s.await(request.send());
  expect(response.getResult().getHasOptionalInt(), "hasOptionalInt came back false");
  expectSameStruct(sent.getRoot<FooStruct>(), response.getResult(), "pass");
}

void checkRaise(Session& s) {
  capnp::MallocMessageBuilder sent;
  fillFooStruct(sent.initRoot<FooStruct>());
  auto foo = s.makeFoo();
  auto request = foo.raiseRequest();
  s.setContext(request.initContext());
  request.setArg(sent.getRoot<FooStruct>().asReader());
  auto response = s.await(request.send());
  expect(response.hasError(), "raise returned no error struct");
  expectSameStruct(sent.getRoot<FooStruct>(), response.getError(), "raise");
}

void checkRaiseText(Session& s) {
  auto foo = s.makeFoo();
  auto request = foo.raiseTextRequest();
  s.setContext(request.initContext());
  request.setMessage("something went wrong");
  auto response = s.await(request.send());
  expect(response.getError() == "something went wrong", "raiseText error was '",
         response.getError(), "'");
}

const char* const PAIRS[][2] = {{"a", "1"}, {"b", "2"}, {"c", "3"}};

void fillMap(capnp::List<TextPair>::Builder map) {
  const auto& pairs = PAIRS;
  for (uint i = 0; i < map.size(); i++) {
    map[i].setKey(pairs[i][0]);
    map[i].setValue(pairs[i][1]);
  }
}

void checkMapSize(Session& s) {
  auto foo = s.makeFoo();
  auto request = foo.mapSizeRequest();
  fillMap(request.initMap(3));
  int32_t size = s.await(request.send()).getResult();
  expect(size == 3, "mapSize of 3 pairs returned ", size);
}

void checkInvertMap(Session& s) {
  auto foo = s.makeFoo();
  auto request = foo.invertMapRequest();
  s.setContext(request.initContext());
  fillMap(request.initMap(3));
  auto response = s.await(request.send());
  auto got = response.getResult();
  expect(got.size() == 3, "invertMap returned ", got.size(), " pairs");
  for (uint i = 0; i < got.size(); i++) {
    expect(got[i].getKey() == PAIRS[i][1] && got[i].getValue() == PAIRS[i][0],
           "pair ", i, " came back as ", got[i].getKey(), "=", got[i].getValue());
  }
}

void checkPassScalars(Session& s) {
  capnp::MallocMessageBuilder sent;
  auto value = sent.initRoot<Scalars>();
  value.setB(true);
  value.setI8(std::numeric_limits<int8_t>::min());
  value.setI16(std::numeric_limits<int16_t>::min());
  value.setI32(std::numeric_limits<int32_t>::min());
  value.setI64(std::numeric_limits<int64_t>::min());
  value.setU8(std::numeric_limits<uint8_t>::max());
  value.setU16(std::numeric_limits<uint16_t>::max());
  value.setU32(std::numeric_limits<uint32_t>::max());
  value.setU64(std::numeric_limits<uint64_t>::max());
  value.setF32(1.25f);
  value.setF64(-0.5);
  value.setWithDefault(0);  // non-default values of defaulted fields
  value.setFlagOn(false);
  auto foo = s.makeFoo();
  auto request = foo.passScalarsRequest();
  s.setContext(request.initContext());
  request.setValue(value.asReader());
  auto response = s.await(request.send());
  auto want = value.asReader().toString().flatten();
  auto have = response.getResult().toString().flatten();
  expect(want == have, "passScalars returned ", have, " instead of ", want);
  auto got = response.getResult();
  expect(got.getI64() == std::numeric_limits<int64_t>::min(), "i64 came back as ", got.getI64());
  expect(got.getU64() == std::numeric_limits<uint64_t>::max(), "u64 came back as ", got.getU64());
  expect(got.getWithDefault() == 0 && !got.getFlagOn(), "defaulted fields lost their values");
}

void checkPassOptional(Session& s) {
  auto foo = s.makeFoo();
  auto send = [&](int64_t value, bool has) {
    auto request = foo.passOptionalRequest();
    s.setContext(request.initContext());
    request.setValue(value);
    request.setHasValue(has);
    return s.await(request.send());
  };
  auto present = send(std::numeric_limits<int64_t>::min(), true);
  expect(present.getHasResult(), "present value came back absent");
  expect(present.getResult() == std::numeric_limits<int64_t>::min(),
         "present value came back as ", present.getResult());
  auto absent = send(0, false);
  expect(!absent.getHasResult(), "absent value came back present (", absent.getResult(), ")");
}

void checkPassPoint(Session& s) {
  auto foo = s.makeFoo();
  auto request = foo.passPointRequest();
  s.setContext(request.initContext());
  const kj::byte point[] = {1, 2, 3, 4, 0xfe, 0xff, 0, 9};
  request.setPoint(kj::arrayPtr(point, sizeof(point)));
  auto got = s.await(request.send()).getResult();
  expect(got == kj::arrayPtr(point, sizeof(point)), "passPoint returned ", got.size(),
         " different bytes");
}

void checkCallback(Session& s) {
  auto foo = s.makeFoo();
  auto request = foo.callbackRequest();
  s.setContext(request.initContext());
  request.setCallback(kj::heap<DoublingCallback>(s));
  request.setArg(21);
  int32_t result = s.await(request.send()).getResult();
  expect(result == 42, "callback(cb doubling, 21) returned ", result);
  expectNoCallbackProblems(s);
}

void checkCallbackExtended(Session& s) {
  auto foo = s.makeFoo();
  auto request = foo.callbackExtendedRequest();
  s.setContext(request.initContext());
  request.setCallback(kj::heap<ExtendedCallbackImpl>(s));
  request.setArg(5);
  int32_t result = s.await(request.send()).getResult();
  expect(result == 105, "callbackExtended(cb, 5) returned ", result);
  expectNoCallbackProblems(s);
}

void checkCallbackSaved(Session& s) {
  auto foo = s.makeFoo();
  auto unsaved = foo.callbackSavedRequest();
  s.setContext(unsaved.initContext());
  unsaved.setArg(1);
  expectFailure(s, unsaved.send(), "no saved callback", "callbackSaved before saveCallback");

  auto save = foo.saveCallbackRequest();
  s.setContext(save.initContext());
  save.setCallback(kj::heap<DoublingCallback>(s));
  s.await(save.send());
  for (int32_t arg: {5, -8}) {
    auto request = foo.callbackSavedRequest();
    s.setContext(request.initContext());
    request.setArg(arg);
    int32_t result = s.await(request.send()).getResult();
    expect(result == arg * 2, "callbackSaved(", arg, ") returned ", result);
  }
  expectNoCallbackProblems(s);
}

void checkPassFnRecursion(Session& s) {
  auto foo = s.makeFoo();
  auto request = foo.passFnRequest();
  s.setContext(request.initContext());
  request.setFn(kj::heap<RecursingFn>(s, foo));
  int32_t result = s.await(request.send()).getResult();
  expect(result == 42, "passFn returned ", result);
  expectNoCallbackProblems(s);
}

kj::Promise<int32_t> sendWait(Session& s, Foo::Client& foo, uint32_t ms, int32_t value,
                              bool withThread) {
  auto request = foo.waitRequest();
  auto ctx = request.initContext();
  if (withThread) s.setContext(ctx);
  request.setMs(ms);
  request.setValue(value);
  return request.send().then([](auto&& response) { return response.getResult(); });
}

void checkFifoWait(Session& s) {
  auto foo = s.makeFoo();
  // Longest first: only a FIFO thread completes them in the order sent.
  auto calls = kj::heapArrayBuilder<kj::Promise<int32_t>>(3);
  calls.add(sendWait(s, foo, 150, 1, true));
  calls.add(sendWait(s, foo, 100, 2, true));
  calls.add(sendWait(s, foo, 50, 3, true));
  auto results = s.await(kj::joinPromises(calls.finish()));
  for (int i = 0; i < 3; i++) {
    expect(results[i] == i + 1, "wait #", i + 1, " returned ", results[i]);
  }
  auto logRequest = foo.waitLogRequest();
  s.setContext(logRequest.initContext());
  auto log = s.await(logRequest.send()).getResult();
  kj::Vector<int32_t> entries;
  for (auto v: log) entries.add(v);
  expect(log.size() == 3 && log[0] == 1 && log[1] == 2 && log[2] == 3,
         "waitLog is [", kj::strArray(entries, ","), "], expected [1,2,3]");
}

kj::String threadNameOf(Session& s, Foo::Client& foo, bool withThread) {
  auto request = foo.threadNameRequest();
  auto ctx = request.initContext();
  if (withThread) s.setContext(ctx);
  return kj::heapString(s.await(request.send()).getResult());
}

void checkThreadName(Session& s) {
  auto foo = s.makeFoo();
  auto name = threadNameOf(s, foo, true);
  expect(contains(name, "(from cpp-client)"), "threadName is '", name, "'");
  auto direct = s.await(s.thread.getNameRequest().send()).getResult();
  expect(direct == name, "Thread.getName '", direct, "' differs from threadName '", name, "'");
}

void checkNoPool(Session& s) {
  auto request = s.init.makeFooRequest();
  request.initContext();  // thread left null
  expectFailure(s, request.send(), "no thread specified and no pool configured",
                "makeFoo with an empty Context");
}

void checkPool(Session& s) {
  auto makePool = s.serverThreadMap.makePoolRequest();
  makePool.setCount(2);
  s.await(makePool.send());

  auto request = s.init.makeFooRequest();
  request.initContext();
  Foo::Client foo = s.await(request.send()).getResult();
  auto name = threadNameOf(s, foo, false);
  expect(contains(name, "pool"), "threadName with an empty Context is '", name, "'");

  // Two slots: the second call goes to the idle slot, so both waits overlap.
  auto start = kj::systemPreciseMonotonicClock().now();
  auto calls = kj::heapArrayBuilder<kj::Promise<int32_t>>(2);
  calls.add(sendWait(s, foo, 200, 1, false));
  calls.add(sendWait(s, foo, 200, 2, false));
  auto results = s.await(kj::joinPromises(calls.finish()));
  auto ms = (kj::systemPreciseMonotonicClock().now() - start) / kj::MILLISECONDS;
  expect(results[0] == 1 && results[1] == 2, "pool waits returned ", results[0], ",", results[1]);
  expect(ms < 380, "two 200 ms waits on a 2-slot pool took ", ms, " ms (not parallel)");
}

void checkMakeChildAddWith(Session& s) {
  auto foo = s.makeFoo();
  auto makeChild = foo.makeChildRequest();
  s.setContext(makeChild.initContext());
  Foo::Client child = s.await(makeChild.send()).getResult();
  auto request = foo.addWithRequest();
  s.setContext(request.initContext());
  request.setFoo(child);
  request.setA(40);
  request.setB(2);
  int32_t result = s.await(request.send()).getResult();
  expect(result == 42, "addWith(child, 40, 2) returned ", result);
  int32_t direct = callAdd(s, child, -1, -2);
  expect(direct == -3, "child.add(-1,-2) returned ", direct);
}

// liveFoos before a check: capnp defers a dropped capability's Release to a
// later event-loop turn, so the objects earlier checks dropped are released
// only once the loop runs; a turn first puts those Releases on the wire
// ahead of the call, which then counts only live objects.
uint32_t liveFoosAfterReleases(Session& s, Foo::Client& observer) {
  s.sleep(10 * kj::MILLISECONDS);
  return s.liveFoos(observer);
}

void checkDestroyLiveFoos(Session& s) {
  auto observer = s.makeFoo();
  uint32_t before = liveFoosAfterReleases(s, observer);
  {
    auto made = s.makeFoo();
    uint32_t during = s.liveFoos(observer);
    expect(during == before + 1, "liveFoos went ", before, " -> ", during, " after makeFoo");
    auto destroy = made.destroyRequest();
    s.setContext(destroy.initContext());
    s.await(destroy.send());
    uint32_t after = s.liveFoos(observer);
    expect(after == before, "liveFoos is ", after, " after destroy (was ", before, ")");
  }  // dropping the destroyed Foo must not count it a second time
  s.sleep(100 * kj::MILLISECONDS);
  uint32_t released = s.liveFoos(observer);
  expect(released == before, "liveFoos is ", released, " after releasing a destroyed Foo");
}

void checkReleaseLiveFoos(Session& s) {
  auto observer = s.makeFoo();
  uint32_t before = liveFoosAfterReleases(s, observer);
  {
    auto made = s.makeFoo();
    uint32_t during = s.liveFoos(observer);
    expect(during == before + 1, "liveFoos went ", before, " -> ", during, " after makeFoo");
  }  // Release message
  auto start = kj::systemPreciseMonotonicClock().now();
  uint32_t now = 0;
  while ((now = s.liveFoos(observer)) != before &&
         kj::systemPreciseMonotonicClock().now() - start < 2 * kj::SECONDS) {
    s.sleep(20 * kj::MILLISECONDS);
  }
  expect(now == before, "liveFoos still ", now, " 2 s after releasing (was ", before, ")");
}

void checkForeignThread(Session& s, kj::StringPtr socketPath) {
  capnp::EzRpcClient other(unixAddress(socketPath));
  Session second(other, "cpp-client-2");
  second.deadline = s.deadline;
  // The Thread is valid on its own connection...
  auto otherFoo = second.makeFoo();
  auto name = threadNameOf(second, otherFoo, true);
  expect(contains(name, "(from cpp-client-2)"), "second connection's threadName is '", name, "'");

  // ...but not on ours.
  auto foo = s.makeFoo();
  auto request = foo.threadNameRequest();
  auto ctx = request.initContext();
  ctx.setThread(second.thread);
  ctx.setCallbackThread(s.callbackThread);
  expectFailure(s, request.send(), "invalid thread handle",
                "threadName with another connection's Thread");
}

int runClient(kj::StringPtr socketPath) {
  // Backstop in case something blocks outside the per-check deadlines.
  alarm(180);

  capnp::EzRpcClient client(unixAddress(socketPath));
  Session s(client, "cpp-client");

  struct Check {
    const char* name;
    kj::Function<void()> run;
  };
  // Order matters for no_pool/pool: the pool, once made, stays for the connection.
  Check checks[] = {
    {"make_foo", [&]() { checkMakeFoo(s); }},
    {"add", [&]() { checkAdd(s); }},
    {"add_in_out", [&]() { checkAddInOut(s); }},
    {"add_out", [&]() { checkAddOut(s); }},
    {"pass_struct", [&]() { checkPassStruct(s); }},
    {"raise", [&]() { checkRaise(s); }},
    {"raise_text", [&]() { checkRaiseText(s); }},
    {"map_size", [&]() { checkMapSize(s); }},
    {"invert_map", [&]() { checkInvertMap(s); }},
    {"pass_scalars", [&]() { checkPassScalars(s); }},
    {"pass_optional", [&]() { checkPassOptional(s); }},
    {"pass_point", [&]() { checkPassPoint(s); }},
    {"callback", [&]() { checkCallback(s); }},
    {"callback_extended", [&]() { checkCallbackExtended(s); }},
    {"callback_saved", [&]() { checkCallbackSaved(s); }},
    {"pass_fn_recursion", [&]() { checkPassFnRecursion(s); }},
    {"fifo_wait", [&]() { checkFifoWait(s); }},
    {"thread_name", [&]() { checkThreadName(s); }},
    {"no_pool", [&]() { checkNoPool(s); }},
    {"pool", [&]() { checkPool(s); }},
    {"make_child_add_with", [&]() { checkMakeChildAddWith(s); }},
    {"destroy_live_foos", [&]() { checkDestroyLiveFoos(s); }},
    {"release_live_foos", [&]() { checkReleaseLiveFoos(s); }},
    {"foreign_thread", [&]() { checkForeignThread(s, socketPath); }},
  };

  uint32_t passed = 0, failed = 0;
  for (auto& check: checks) {
    s.deadline = s.timer.now() + CHECK_TIMEOUT;
    s.callbackProblems.clear();
    KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { check.run(); })) {
      ++failed;
      printf("CHECK %s FAIL %s\n", check.name, oneLine(e->getDescription()).cStr());
    } else {
      ++passed;
      printf("CHECK %s ok\n", check.name);
    }
    fflush(stdout);
  }
  printf("DONE %u %u\n", passed, failed);
  fflush(stdout);
  return failed == 0 ? 0 : 1;
}

int usage() {
  fprintf(stderr, "usage: mp_peer server|client <socketpath>\n");
  return 2;
}

}  // namespace

int main(int argc, char* argv[]) {
  // A peer vanishing mid-write must surface as EPIPE, not kill this process.
  signal(SIGPIPE, SIG_IGN);

  if (argc != 3) return usage();
  kj::StringPtr mode = argv[1];
  kj::StringPtr path = argv[2];

  int status = 2;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() {
    if (mode == "server") {
      status = runServer(path);
    } else if (mode == "client") {
      status = runClient(path);
    } else {
      status = usage();
    }
  })) {
    fprintf(stderr, "mp_peer %s: %s\n", mode.cStr(), oneLine(e->getDescription()).cStr());
    return 1;
  }
  return status;
}
