# Bitcoin Core v30.0's mining interface (`src/ipc/capnp/mining.capnp` at the
# v30.0 tag): what Stratum v2 template providers and Bitcoin Core's
# `interface_ipc*.py` tests call to build and submit blocks.
#
# Written for this project with Bitcoin Core's file id, names, ordinals and
# types as of v30.0, so every type id (Mining 0xf9c68436df3af39e,
# BlockTemplate 0xf9671ad841b2f622, the option structs) equals Core's and a
# v30.0 client works unchanged. Later Core releases reuse some ordinals with
# other meanings (see `Init.makeMiningNext`); this file is v30.0 only.
#
# Blocks, headers and transactions cross as Data in Bitcoin's wire
# serialization (transactions with witness); hashes as 32 bytes in internal
# byte order.
@0xc77d03df6a41b505;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("ipc::capnp::messages");

using Common = import "common.capnp";
using Proxy = import "/mp/proxy.capnp";

interface Mining {
  # True on test chains (always, on this regtest node).
  isTestChain @0 (context :Proxy.Context) -> (result :Bool);
  # True while the node is still catching up (no block newer than a day yet).
  isInitialBlockDownload @1 (context :Proxy.Context) -> (result :Bool);
  # The active tip; absent only before the genesis block is loaded.
  getTip @2 (context :Proxy.Context) -> (result :Common.BlockRef, hasResult :Bool);
  # Waits until the tip is no longer `currentTip` (a block hash) or `timeout`
  # milliseconds pass, then returns the tip.
  waitTipChanged @3 (context :Proxy.Context, currentTip :Data, timeout :Float64) -> (result :Common.BlockRef);
  # A new block template on the tip. No Context: it runs on the event loop at
  # once, as in v30.0.
  createNewBlock @4 (options :BlockCreateOptions) -> (result :BlockTemplate);
  # Checks a serialized block against the tip without storing it: `result`
  # says whether it is valid, `reason` is the reject reason (as in
  # `submitblock`), `debug` more detail. No Context, as in v30.0.
  checkBlock @5 (block :Data, options :BlockCheckOptions) -> (reason :Text, debug :Text, result :Bool);
}

# A block being mined, owned by the client (destroy it when done).
interface BlockTemplate {
  # Releases the template at once.
  destroy @0 (context :Proxy.Context) -> ();
  # The 80-byte header (nonce 0).
  getBlockHeader @1 (context :Proxy.Context) -> (result :Data);
  # The whole block, coinbase included.
  getBlock @2 (context :Proxy.Context) -> (result :Data);
  # Fee of each transaction after the coinbase, in satoshis.
  getTxFees @3 (context :Proxy.Context) -> (result :List(Int64));
  # Signature-operation cost of each transaction after the coinbase (as
  # v30.0's vTxSigOpsCost, which has no coinbase entry).
  getTxSigops @4 (context :Proxy.Context) -> (result :List(Int64));
  # The coinbase transaction.
  getCoinbaseTx @5 (context :Proxy.Context) -> (result :Data);
  # The coinbase's witness commitment output script (empty without one).
  getCoinbaseCommitment @6 (context :Proxy.Context) -> (result :Data);
  # Index of the witness commitment output in the coinbase, or -1.
  getWitnessCommitmentIndex @7 (context :Proxy.Context) -> (result :Int32);
  # The merkle branch of the coinbase (hashes, internal byte order), from
  # the leaves up.
  getCoinbaseMerklePath @8 (context :Proxy.Context) -> (result :List(Data));
  # Submits the template with the given header fields and `coinbase` (a
  # serialized transaction) replacing its coinbase; true when the block was
  # accepted.
  submitSolution @9 (context :Proxy.Context, version :UInt32, timestamp :UInt32, nonce :UInt32, coinbase :Data) -> (result :Bool);
  # Waits for a better template (a new tip, or fees up by
  # `options.feeThreshold`) for at most `options.timeout` milliseconds;
  # absent (null) on timeout.
  waitNext @10 (context :Proxy.Context, options :BlockWaitOptions) -> (result :BlockTemplate);
}

# v30.0 has no schema defaults: an unset field reads as zero / false.
struct BlockCreateOptions {
  # Include mempool transactions (false: coinbase only).
  useMempool @0 :Bool;
  # Weight kept free for the coinbase and the header.
  blockReservedWeight @1 :UInt64;
  # Sigops the caller may add to the coinbase outputs.
  coinbaseOutputMaxAdditionalSigops @2 :UInt64;
}

struct BlockWaitOptions {
  # Milliseconds.
  timeout @0 :Float64;
  # Satoshis of additional fees that make a new template worth returning.
  feeThreshold @1 :Int64;
}

struct BlockCheckOptions {
  checkMerkleRoot @0 :Bool;
  checkPow @1 :Bool;
}
