# The node as a user interface (the gui) sees it: block count and tip,
# mempool size, a callback on every new tip, shutdown. Named and shaped after
# Bitcoin Core's `interfaces::Node`, simplified for this project.
#
# This project's own file id: these interfaces are not wire-compatible with
# Bitcoin Core's multiprocess branch, so they do not claim its ids. Hashes
# are 32 bytes in internal byte order.
@0xb03e0881c2cbc78a;

using Proxy = import "/mp/proxy.capnp";
using Handler = import "handler.capnp";

interface Node {
  # Releases the object at once.
  destroy @0 (context :Proxy.Context) -> ();
  # Height of the active tip (`getblockcount`).
  getNumBlocks @1 (context :Proxy.Context) -> (result :Int32);
  # Hash of the active tip (`getbestblockhash`).
  getBestBlockHash @2 (context :Proxy.Context) -> (result :Data);
  # The active tip's height, time and hash, read together.
  getBlockTip @3 (context :Proxy.Context) -> (result :BlockTip);
  # Number of transactions in the mempool.
  getMempoolSize @4 (context :Proxy.Context) -> (result :UInt32);
  # True while the node is still catching up.
  isInitialBlockDownload @5 (context :Proxy.Context) -> (result :Bool);
  # Registers `callback`, called in order, one call at a time, each time
  # the tip changes, until the returned handler is disconnected or
  # released.
  handleNotifyBlockTip @6 (context :Proxy.Context, callback :NotifyBlockTipCallback) -> (result :Handler.Handler);
  # Asks the node to shut down (as the `stop` RPC does); returns at once.
  startShutdown @7 (context :Proxy.Context) -> ();
  # True once a shutdown was asked for.
  shutdownRequested @8 (context :Proxy.Context) -> (result :Bool);
}

# Called with the new tip (a plain function in TypeScript).
interface NotifyBlockTipCallback {
  destroy @0 (context :Proxy.Context) -> ();
  call @1 (context :Proxy.Context, syncState :SyncState, tip :BlockTip, verificationProgress :Float64) -> ();
}

# Bitcoin Core's SynchronizationState.
enum SyncState {
  initReindex @0;
  initDownload @1;
  postInit @2;
}

struct BlockTip {
  blockHeight @0 :Int32;
  # Header time, seconds since the epoch.
  blockTime @1 :UInt32;
  blockHash @2 :Data;
}
