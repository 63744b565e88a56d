// A Bitcoin Core IPC mining client written with the stock Cap'n Proto C++
// library only (no libmultiprocess), following the minimal recipe proven
// against bitcoin-node v30.0 (multiprocess-protocol.md §12), compiled from
// this project's schemas/ipc/*.capnp, which carry Bitcoin Core's ids. It
// mines one block on the node it connects to: it builds its own coinbase
// (BIP 34 height, a tag, the template's witness commitment), folds it into
// the merkle root with the template's merkle path, grinds the nonce with
// OpenSSL's SHA-256 and submits the solution.
//
// Usage: mining_client <socketpath>
// Prints "CHECK <name> ok" or "CHECK <name> FAIL <detail>" per check,
// "MINED <block hash, display order>" once the block is in, then
// "DONE <passed> <failed>"; exit 0 iff none failed. Expects a fresh regtest
// chain (genesis only, empty mempool) on the other end.

#include "ipc/init.capnp.h"
#include "ipc/echo.capnp.h"
#include "ipc/mining.capnp.h"
#include "ipc/common.capnp.h"
#include "mp/proxy.capnp.h"

#include <capnp/ez-rpc.h>
#include <kj/async-io.h>
#include <kj/async.h>
#include <kj/debug.h>
#include <kj/exception.h>
#include <kj/function.h>
#include <kj/time.h>
#include <kj/timer.h>
#include <kj/vector.h>
#include <openssl/sha.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

using ipc::capnp::messages::BlockTemplate;
using ipc::capnp::messages::Echo;
using ipc::capnp::messages::Init;
using ipc::capnp::messages::Mining;

using Bytes = std::vector<uint8_t>;

constexpr kj::Duration CHECK_TIMEOUT = 20 * kj::SECONDS;
constexpr const char* TIMED_OUT = "check timed out after 20 s";
// The regtest genesis block, display order.
constexpr const char* GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";

kj::String oneLine(kj::StringPtr text) {
  auto result = kj::heapString(text);
  for (char& c: result) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return result;
}

template <typename... Params>
void expect(bool condition, Params&&... reason) {
  if (!condition) {
    kj::throwFatalException(kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                                          kj::str(kj::fwd<Params>(reason)...)));
  }
}

// ---------------------------------------------------------------------------
// Bitcoin serialization and hashing, as much as a pool needs for a coinbase

Bytes sha256d(const Bytes& data) {
  uint8_t once[SHA256_DIGEST_LENGTH];
  SHA256(data.data(), data.size(), once);
  Bytes twice(SHA256_DIGEST_LENGTH);
  SHA256(once, sizeof once, twice.data());
  return twice;
}

Bytes concat(const Bytes& a, const Bytes& b) {
  Bytes out(a);
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

void putLE(Bytes& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

uint32_t readLE32(const Bytes& in, size_t at) {
  return in[at] | in[at + 1] << 8 | in[at + 2] << 16 | static_cast<uint32_t>(in[at + 3]) << 24;
}

// A script push of small data (under 76 bytes).
void putPush(Bytes& out, const Bytes& data) {
  out.push_back(static_cast<uint8_t>(data.size()));
  out.insert(out.end(), data.begin(), data.end());
}

// `CScript() << height`, as BIP 34 wants it at the start of the scriptSig.
Bytes heightScript(int64_t height) {
  if (height >= 1 && height <= 16) return Bytes{static_cast<uint8_t>(0x50 + height)};
  Bytes number;
  for (uint64_t v = height; v != 0; v >>= 8) number.push_back(v & 0xff);
  if (number.back() & 0x80) number.push_back(0);
  Bytes out;
  putPush(out, number);
  return out;
}

std::string displayHex(const Bytes& hash) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto it = hash.rbegin(); it != hash.rend(); ++it) {
    out += digits[*it >> 4];
    out += digits[*it & 15];
  }
  return out;
}

Bytes toBytes(capnp::Data::Reader data) { return Bytes(data.begin(), data.end()); }

// The coinbase a pool builds, serialized without (for the txid) or with its witness.
struct Coinbase {
  Bytes scriptSig;
  int64_t value;
  Bytes payout;
  Bytes commitment;  // empty: none

  Bytes serialize(bool witness) const {
    Bytes out;
    putLE(out, 2, 4);  // version
    if (witness) out.insert(out.end(), {0x00, 0x01});
    out.push_back(1);  // one input: the null prevout
    out.insert(out.end(), 32, 0);
    putLE(out, 0xffffffff, 4);
    out.push_back(static_cast<uint8_t>(scriptSig.size()));
    out.insert(out.end(), scriptSig.begin(), scriptSig.end());
    putLE(out, 0xffffffff, 4);  // sequence
    out.push_back(commitment.empty() ? 1 : 2);
    putLE(out, static_cast<uint64_t>(value), 8);
    putPush(out, payout);
    if (!commitment.empty()) {
      putLE(out, 0, 8);
      putPush(out, commitment);
    }
    if (witness) {  // the witness reserved value: one item of 32 zero bytes
      out.push_back(1);
      out.push_back(32);
      out.insert(out.end(), 32, 0);
    }
    putLE(out, 0, 4);  // lock time
    return out;
  }
};

// Whether a block hash meets the compact target `bits`.
bool meetsTarget(const Bytes& hash, uint32_t bits) {
  Bytes target(32, 0);
  int exponent = bits >> 24;
  uint32_t mantissa = bits & 0x007fffff;
  for (int i = 0; i < 3; ++i) {
    int at = exponent - 3 + i;
    if (at >= 0 && at < 32) target[at] = (mantissa >> (8 * i)) & 0xff;
  }
  for (int i = 31; i >= 0; --i) {
    if (hash[i] != target[i]) return hash[i] < target[i];
  }
  return true;
}

// ---------------------------------------------------------------------------
// The IPC session: §12's recipe

class ForeignThread final: public mp::Thread::Server {
  kj::Promise<void> getName(GetNameContext context) override {
    context.getResults().setResult("not minted by the node");
    return kj::READY_NOW;
  }
};

class Session {
public:
  explicit Session(capnp::EzRpcClient& client)
      : timer(client.getIoProvider().getTimer()),
        waitScope(client.getWaitScope()),
        init(client.getMain<Init>()) {}

  kj::Timer& timer;
  kj::WaitScope& waitScope;
  kj::TimePoint deadline = kj::origin<kj::TimePoint>();
  Init::Client init;
  mp::ThreadMap::Client threadMap = nullptr;
  mp::Thread::Client thread = nullptr;
  kj::Maybe<Echo::Client> echo;
  kj::Maybe<Mining::Client> mining;
  kj::Maybe<BlockTemplate::Client> blockTemplate;
  int32_t tipHeight = -1;

  template <typename T>
  T await(kj::Promise<T>&& promise) {
    return promise.exclusiveJoin(timer.atTime(deadline).then([]() -> kj::Promise<T> {
      return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                           kj::heapString(TIMED_OUT));
    })).wait(waitScope);
  }

  // Context{thread}; callbackThread stays null: no callbacks are involved.
  void setContext(mp::Context::Builder ctx) { ctx.setThread(thread); }

  Echo::Client& needEcho() {
    KJ_IF_MAYBE(e, echo) return *e;
    expect(false, "no Echo (makeEcho failed)");
    KJ_UNREACHABLE;
  }

  Mining::Client& needMining() {
    KJ_IF_MAYBE(m, mining) return *m;
    expect(false, "no Mining (makeMining failed)");
    KJ_UNREACHABLE;
  }

  BlockTemplate::Client& needTemplate() {
    KJ_IF_MAYBE(t, blockTemplate) return *t;
    expect(false, "no BlockTemplate (createNewBlock failed)");
    KJ_UNREACHABLE;
  }
};

void checkConstruct(Session& s) {
  auto construct = s.init.constructRequest();  // threadMap left null, as §12's client sends it
  s.threadMap = s.await(construct.send()).getThreadMap();
  auto makeThread = s.threadMap.makeThreadRequest();
  makeThread.setName("cpp-ipc-client");
  s.thread = s.await(makeThread.send()).getResult();
  auto nameResponse = s.await(s.thread.getNameRequest().send());
  auto name = nameResponse.getResult();
  expect(strstr(name.cStr(), "(from cpp-ipc-client)") != nullptr, "thread name '", name, "'");
}

void checkEcho(Session& s) {
  auto make = s.init.makeEchoRequest();
  s.setContext(make.initContext());
  s.echo = s.await(make.send()).getResult();
  auto request = s.needEcho().echoRequest();
  s.setContext(request.initContext());
  request.setEcho("hello");
  auto response = s.await(request.send());
  auto result = response.getResult();
  expect(result == "hello", "echo returned '", result, "'");
}

void checkForeignThread(Session& s) {
  auto make = s.init.makeEchoRequest();
  make.initContext().setThread(kj::heap<ForeignThread>());
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { s.await(make.send()); })) {
    expect(strstr(e->getDescription().cStr(), "invalid thread handle") != nullptr,
           "makeEcho with a foreign thread failed otherwise: ", oneLine(e->getDescription()));
  } else {
    expect(false, "makeEcho with a thread the node did not mint succeeded");
  }
}

void checkMiningNextRefused(Session& s) {
  auto make = s.init.makeMiningNextRequest();
  s.setContext(make.initContext());
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { s.await(make.send()); })) {
    expect(strstr(e->getDescription().cStr(), "v30.0") != nullptr,
           "makeMining @3 failed without naming v30.0: ", oneLine(e->getDescription()));
  } else {
    expect(false, "makeMining @3 succeeded on a v30.0 node");
  }
}

void checkMining(Session& s) {
  auto make = s.init.makeMiningRequest();
  s.setContext(make.initContext());
  s.mining = s.await(make.send()).getResult();
  auto testChain = s.needMining().isTestChainRequest();
  s.setContext(testChain.initContext());
  expect(s.await(testChain.send()).getResult(), "isTestChain is false");
}

bool initialBlockDownload(Session& s) {
  auto request = s.needMining().isInitialBlockDownloadRequest();
  s.setContext(request.initContext());
  return s.await(request.send()).getResult();
}

void checkGetTip(Session& s) {
  auto request = s.needMining().getTipRequest();
  s.setContext(request.initContext());
  auto response = s.await(request.send());
  expect(response.getHasResult(), "getTip has no result");
  auto tip = response.getResult();
  s.tipHeight = tip.getHeight();
  auto hash = displayHex(toBytes(tip.getHash()));
  expect(s.tipHeight == 0 && hash == GENESIS, "tip is ", hash, " at ", s.tipHeight);
}

void checkCreateNewBlock(Session& s) {
  // No Context: v30.0 runs createNewBlock on the event loop.
  auto request = s.needMining().createNewBlockRequest();
  auto options = request.initOptions();
  options.setUseMempool(true);
  options.setBlockReservedWeight(4000);
  options.setCoinbaseOutputMaxAdditionalSigops(0);
  s.blockTemplate = s.await(request.send()).getResult();

  // Readers point into their response: keep each response while reading.
  auto header = s.needTemplate().getBlockHeaderRequest();
  s.setContext(header.initContext());
  auto headerResponse = s.await(header.send());
  auto headerBytes = headerResponse.getResult();
  expect(headerBytes.size() == 80, "header is ", headerBytes.size(), " bytes");
  auto block = s.needTemplate().getBlockRequest();
  s.setContext(block.initContext());
  auto blockResponse = s.await(block.send());
  auto blockBytes = blockResponse.getResult();
  // What bitcoin-node v30.0 answers for an empty template at height 1.
  expect(blockBytes.size() == 227, "block is ", blockBytes.size(), " bytes");
  expect(memcmp(blockBytes.begin(), headerBytes.begin(), 80) == 0, "block starts elsewhere");
}

void checkCheckBlock(Session& s) {
  auto block = s.needTemplate().getBlockRequest();
  s.setContext(block.initContext());
  auto blockResponse = s.await(block.send());
  auto request = s.needMining().checkBlockRequest();  // no Context either
  request.setBlock(blockResponse.getResult());
  request.initOptions().setCheckMerkleRoot(true);  // checkPow stays false: not solved yet
  auto response = s.await(request.send());
  expect(response.getResult(), "the template is invalid: ", response.getReason(), " ",
         response.getDebug());
}

void checkSubmitSolution(Session& s) {
  auto& tmpl = s.needTemplate();
  auto headerRequest = tmpl.getBlockHeaderRequest();
  s.setContext(headerRequest.initContext());
  Bytes header = toBytes(s.await(headerRequest.send()).getResult());
  auto feesRequest = tmpl.getTxFeesRequest();
  s.setContext(feesRequest.initContext());
  int64_t fees = 0;
  auto feesResponse = s.await(feesRequest.send());
  for (int64_t fee: feesResponse.getResult()) fees += fee;
  auto commitmentRequest = tmpl.getCoinbaseCommitmentRequest();
  s.setContext(commitmentRequest.initContext());
  Bytes commitment = toBytes(s.await(commitmentRequest.send()).getResult());
  auto pathRequest = tmpl.getCoinbaseMerklePathRequest();
  s.setContext(pathRequest.initContext());
  std::vector<Bytes> path;
  auto pathResponse = s.await(pathRequest.send());
  for (auto sibling: pathResponse.getResult()) path.push_back(toBytes(sibling));

  int64_t height = s.tipHeight + 1;
  Coinbase coinbase;
  coinbase.scriptSig = heightScript(height);
  putPush(coinbase.scriptSig, Bytes{'c', 'p', 'p', '-', 'p', 'o', 'o', 'l'});
  coinbase.value = (int64_t{5000000000} >> (height / 150)) + fees;  // regtest halves every 150
  coinbase.payout = Bytes{0x51};
  coinbase.commitment = commitment;

  Bytes root = sha256d(coinbase.serialize(false));
  for (const Bytes& sibling: path) root = sha256d(concat(root, sibling));
  std::copy(root.begin(), root.end(), header.begin() + 36);
  uint32_t bits = readLE32(header, 72);
  uint32_t nonce = 0;
  Bytes hash;
  for (;; ++nonce) {
    for (int i = 0; i < 4; ++i) header[76 + i] = (nonce >> (8 * i)) & 0xff;
    hash = sha256d(header);
    if (meetsTarget(hash, bits)) break;
  }

  auto submit = tmpl.submitSolutionRequest();
  s.setContext(submit.initContext());
  submit.setVersion(readLE32(header, 0));
  submit.setTimestamp(readLE32(header, 68));
  submit.setNonce(nonce);
  Bytes serialized = coinbase.serialize(true);
  submit.setCoinbase(kj::arrayPtr(serialized.data(), serialized.size()));
  expect(s.await(submit.send()).getResult(), "submitSolution returned false");

  auto tipRequest = s.needMining().getTipRequest();
  s.setContext(tipRequest.initContext());
  auto tipResponse = s.await(tipRequest.send());
  auto tip = tipResponse.getResult();
  expect(tip.getHeight() == height, "the tip is at ", tip.getHeight(), ", not ", height);
  expect(toBytes(tip.getHash()) == hash, "the tip is ", displayHex(toBytes(tip.getHash())),
         ", not the block submitted, ", displayHex(hash));
  printf("MINED %s\n", displayHex(hash).c_str());
}

void checkDestroy(Session& s) {
  auto destroyTemplate = s.needTemplate().destroyRequest();
  s.setContext(destroyTemplate.initContext());
  s.await(destroyTemplate.send());
  s.blockTemplate = nullptr;
  auto destroyEcho = s.needEcho().destroyRequest();
  s.setContext(destroyEcho.initContext());
  s.await(destroyEcho.send());
  s.echo = nullptr;
}

int run(kj::StringPtr socketPath) {
  alarm(180);  // backstop beyond the per-check deadlines
  capnp::EzRpcClient client(kj::str("unix:", socketPath));
  Session s(client);

  struct Check {
    const char* name;
    kj::Function<void()> run;
  };
  Check checks[] = {
    {"construct_make_thread", [&]() { checkConstruct(s); }},
    {"echo", [&]() { checkEcho(s); }},
    {"foreign_thread", [&]() { checkForeignThread(s); }},
    {"make_mining_next_refused", [&]() { checkMiningNextRefused(s); }},
    {"make_mining_is_test_chain", [&]() { checkMining(s); }},
    {"initial_block_download", [&]() {
       expect(initialBlockDownload(s), "a genesis-only chain is not in IBD");
     }},
    {"get_tip_genesis", [&]() { checkGetTip(s); }},
    {"create_new_block", [&]() { checkCreateNewBlock(s); }},
    {"check_block", [&]() { checkCheckBlock(s); }},
    {"submit_solution", [&]() { checkSubmitSolution(s); }},
    {"initial_block_download_over", [&]() {
       expect(!initialBlockDownload(s), "still in IBD after a block of today");
     }},
    {"destroy", [&]() { checkDestroy(s); }},
  };

  uint32_t passed = 0, failed = 0;
  for (auto& check: checks) {
    s.deadline = s.timer.now() + CHECK_TIMEOUT;
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

}  // namespace

int main(int argc, char* argv[]) {
  signal(SIGPIPE, SIG_IGN);
  if (argc != 2) {
    fprintf(stderr, "usage: mining_client <socketpath>\n");
    return 2;
  }
  int status = 2;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { status = run(argv[1]); })) {
    fprintf(stderr, "mining_client: %s\n", oneLine(e->getDescription()).cStr());
    return 1;
  }
  return status;
}
